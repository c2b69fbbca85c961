use backprop_tensor::{Element, Validate};
use serde::{Deserialize, Serialize};

use super::Elementwise;

/// the rectifier, σ(z) = max(0, z).
///
/// `relu`: the rectifier, σ(z) = max(0, z).
///
/// Derivative σ′(z) = 0 for z ≤ 0, else 1 (PyTorch's choice at z = 0). Range [0, ∞).
///
/// At the edges it is PyTorch's `relu` bit for bit: computed as "0 if z < 0, else z", so NaN
/// stays NaN (a NaN input or weight gives a NaN output, not a silent 0) and −0 stays −0; the
/// derivative is 1 at NaN, as PyTorch's backward pass has it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Relu {}

impl Validate for Relu {}

impl Elementwise for Relu {
    #[inline(always)]
    fn value<F: Element>(&self, z: F) -> F {
        // `z` unless below 0, as PyTorch computes it: NaN stays NaN and −0 stays −0.
        if z < F::zero() { F::zero() } else { z }
    }

    #[inline(always)]
    fn derivative<F: Element>(&self, z: F, _a: F) -> F {
        // 0 at and below 0, else 1 (at NaN too, as PyTorch's backward pass has it).
        if z <= F::zero() { F::zero() } else { F::one() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::testing::{check_derivative, check_values};

    #[test]
    fn values() {
        check_values(&Relu {}, &[(2.5, 2.5), (1e-300, 1e-300), (0.0, 0.0), (-1e-300, 0.0), (-3.0, 0.0)]);
    }

    /// PyTorch's `relu` at the edges: each zero is itself (−0 stays −0), NaN stays NaN, and the
    /// derivative is 0 at both zeros and 1 at NaN.
    #[test]
    fn zeros_and_nan_as_pytorch_has_them() {
        assert_eq!(Relu {}.value(-0.0f64).to_bits(), (-0.0f64).to_bits());
        assert_eq!(Relu {}.value(-0.0f32).to_bits(), (-0.0f32).to_bits());
        assert_eq!(Relu {}.value(0.0f64).to_bits(), 0.0f64.to_bits());
        assert!(Relu {}.value(f64::NAN).is_nan() && Relu {}.value(f32::NAN).is_nan());
        assert_eq!(Relu {}.value(f64::NEG_INFINITY), 0.0);
        let d = |z: f64| Relu {}.derivative(z, Relu {}.value(z));
        assert_eq!([d(-0.0), d(0.0), d(f64::NAN)], [0.0, 0.0, 1.0]);
    }

    /// 1 above 0, else 0, at 0 too (PyTorch's choice there).
    #[test]
    fn derivative_is_a_step_with_zero_at_zero() {
        let d = |z: f64| Relu {}.derivative(z, Relu {}.value(z));
        assert_eq!([d(-2.0), d(-1e-300), d(0.0), d(1e-300), d(3.0)], [0.0, 0.0, 0.0, 1.0, 1.0]);
        check_derivative(&Relu {}, &[-4.0, -0.5, 0.5, 4.0]);
    }
}
