//! `relu`: the rectifier, σ(z) = max(0, z).
//!
//! Derivative σ′(z) = 1 for z > 0, else 0 (PyTorch's choice at z = 0). Range [0, ∞).

use backprop_tensor::{Element, Validate};
use serde::{Deserialize, Serialize};

use super::Elementwise;

/// the rectifier, σ(z) = max(0, z).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Relu {}

impl Validate for Relu {}

impl Elementwise for Relu {
    #[inline(always)]
    fn value<F: Element>(&self, z: F) -> F {
        if z > F::zero() { z } else { F::zero() }
    }

    #[inline(always)]
    fn derivative<F: Element>(&self, _z: F, _a: F) -> F {
        if _z > F::zero() { F::one() } else { F::zero() }
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

    /// 1 above 0, else 0, at 0 too (PyTorch's choice there).
    #[test]
    fn derivative_is_a_step_with_zero_at_zero() {
        let d = |z: f64| Relu {}.derivative(z, Relu {}.value(z));
        assert_eq!([d(-2.0), d(-1e-300), d(0.0), d(1e-300), d(3.0)], [0.0, 0.0, 0.0, 1.0, 1.0]);
        check_derivative(&Relu {}, &[-4.0, -0.5, 0.5, 4.0]);
    }
}
