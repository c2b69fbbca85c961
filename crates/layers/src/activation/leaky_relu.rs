use backprop_tensor::spec::finite;
use backprop_tensor::{Element, SpecError, Validate};
use serde::{Deserialize, Serialize};

use super::Elementwise;

/// the leaky rectifier, σ(z) = z for z > 0, else alpha·z.
///
/// `leaky_relu`: the leaky rectifier, σ(z) = z for z > 0, else alpha·z (PyTorch `nn.LeakyReLU`,
/// whose `negative_slope` is our `alpha`, default 0.01).
///
/// Derivative σ′(z) = 1 for z > 0, else alpha; at z = 0 it is alpha, as PyTorch's backward gives
/// for z ≤ 0. Range (−∞, ∞) for alpha > 0.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LeakyRelu {
    /// Slope for z ≤ 0. Default 0.01. The config takes PyTorch's name for it,
    /// `negative_slope`, too.
    #[serde(alias = "negative_slope")]
    pub alpha: f64,
}

impl Default for LeakyRelu {
    fn default() -> Self {
        LeakyRelu { alpha: 0.01 }
    }
}

impl Validate for LeakyRelu {
    fn validate(&self) -> Result<(), SpecError> {
        finite("alpha", self.alpha)
    }
}

impl Elementwise for LeakyRelu {
    #[inline(always)]
    fn value<F: Element>(&self, z: F) -> F {
        if z > F::zero() { z } else { F::of(self.alpha) * z }
    }

    #[inline(always)]
    fn derivative<F: Element>(&self, z: F, _a: F) -> F {
        if z > F::zero() { F::one() } else { F::of(self.alpha) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::testing::{check_derivative, check_values};

    #[test]
    fn values() {
        // By hand: z above 0 passes through, below 0 is scaled by alpha.
        check_values(&LeakyRelu::default(), &[(3.0, 3.0), (-2.0, -0.02), (0.0, 0.0)]);
        check_values(&LeakyRelu { alpha: 0.25 }, &[(-4.0, -1.0), (0.5, 0.5)]);
    }

    #[test]
    fn derivative_matches_central_difference() {
        check_derivative(&LeakyRelu::default(), &[-3.0, -0.5, 0.5, 2.0]);
        check_derivative(&LeakyRelu { alpha: 0.3 }, &[-1.0, 1.0]);
    }

    /// Both zeros take the `alpha·z` side, as the formula says: with a negative `alpha`, −0
    /// comes out as +0 (where `z` itself would be −0).
    #[test]
    fn zeros_are_scaled_by_alpha() {
        let leaky = LeakyRelu { alpha: -0.5 };
        assert_eq!(leaky.value(-0.0f64).to_bits(), 0.0f64.to_bits());
        assert_eq!(leaky.value(0.0f64).to_bits(), (-0.0f64).to_bits());
        assert_eq!(LeakyRelu::default().value(-0.0f32).to_bits(), (-0.0f32).to_bits());
    }

    #[test]
    fn derivative_at_zero_is_alpha() {
        assert_eq!(LeakyRelu { alpha: 0.2 }.derivative(0.0, 0.0), 0.2);
    }

    #[test]
    fn alpha_must_be_finite() {
        assert!(LeakyRelu { alpha: f64::NAN }.validate().is_err());
        assert!(LeakyRelu { alpha: -0.5 }.validate().is_ok());
    }
}
