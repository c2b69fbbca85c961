use backprop_tensor::spec::finite;
use backprop_tensor::{Element, SpecError, Validate};
use serde::{Deserialize, Serialize};

use super::Elementwise;

/// the leaky rectifier, σ(z) = z for z > 0, else negative_slope·z.
///
/// `leaky_relu`: the leaky rectifier, σ(z) = z for z > 0, else negative_slope·z (PyTorch
/// `nn.LeakyReLU`, the same parameter name and default, 0.01).
///
/// Derivative σ′(z) = 1 for z > 0, else negative_slope; at z = 0 it is negative_slope, as
/// PyTorch's backward gives for z ≤ 0. Range (−∞, ∞) for negative_slope > 0.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LeakyRelu {
    /// Slope for z ≤ 0. Default 0.01, PyTorch's. The config also takes `alpha` (Keras 2's
    /// name, and what model files before the twenty-sixth session wrote).
    #[serde(alias = "alpha")]
    pub negative_slope: f64,
}

impl Default for LeakyRelu {
    fn default() -> Self {
        LeakyRelu { negative_slope: 0.01 }
    }
}

impl Validate for LeakyRelu {
    fn validate(&self) -> Result<(), SpecError> {
        finite("negative_slope", self.negative_slope)
    }
}

impl Elementwise for LeakyRelu {
    #[inline(always)]
    fn value<F: Element>(&self, z: F) -> F {
        if z > F::zero() { z } else { F::of(self.negative_slope) * z }
    }

    #[inline(always)]
    fn derivative<F: Element>(&self, z: F, _a: F) -> F {
        if z > F::zero() { F::one() } else { F::of(self.negative_slope) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::testing::{check_derivative, check_values};

    #[test]
    fn values() {
        // By hand: z above 0 passes through, below 0 is scaled by negative_slope.
        check_values(&LeakyRelu::default(), &[(3.0, 3.0), (-2.0, -0.02), (0.0, 0.0)]);
        check_values(&LeakyRelu { negative_slope: 0.25 }, &[(-4.0, -1.0), (0.5, 0.5)]);
    }

    #[test]
    fn derivative_matches_central_difference() {
        check_derivative(&LeakyRelu::default(), &[-3.0, -0.5, 0.5, 2.0]);
        check_derivative(&LeakyRelu { negative_slope: 0.3 }, &[-1.0, 1.0]);
    }

    /// Both zeros take the `negative_slope·z` side, as the formula says: with a negative `negative_slope`, −0
    /// comes out as +0 (where `z` itself would be −0).
    #[test]
    fn zeros_are_scaled_by_the_slope() {
        let leaky = LeakyRelu { negative_slope: -0.5 };
        assert_eq!(leaky.value(-0.0f64).to_bits(), 0.0f64.to_bits());
        assert_eq!(leaky.value(0.0f64).to_bits(), (-0.0f64).to_bits());
        assert_eq!(LeakyRelu::default().value(-0.0f32).to_bits(), (-0.0f32).to_bits());
    }

    #[test]
    fn derivative_at_zero_is_the_slope() {
        assert_eq!(LeakyRelu { negative_slope: 0.2 }.derivative(0.0, 0.0), 0.2);
    }

    #[test]
    fn the_slope_must_be_finite() {
        assert!(LeakyRelu { negative_slope: f64::NAN }.validate().is_err());
        assert!(LeakyRelu { negative_slope: -0.5 }.validate().is_ok());
    }
}
