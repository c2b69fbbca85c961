//! `silu` (also registered as `swish`): the sigmoid-weighted linear unit, σ(z) = z·s(z) with
//! s(z) = 1 / (1 + e^(−z)) (PyTorch `nn.SiLU`).
//!
//! Derivative σ′(z) = s + z·s·(1 − s). Range [≈ −0.278, ∞).

use backprop_tensor::{Element, Validate, math};
use serde::{Deserialize, Serialize};

use super::Elementwise;

/// the sigmoid-weighted linear unit, σ(z) = z / (1 + e^(−z)).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Silu {}

impl Validate for Silu {}

#[inline(always)]
fn logistic<F: Element>(z: F) -> F {
    F::one() / (F::one() + math::exp(-z))
}

impl Elementwise for Silu {
    #[inline(always)]
    fn value<F: Element>(&self, z: F) -> F {
        z * logistic(z)
    }

    #[inline(always)]
    fn derivative<F: Element>(&self, z: F, _a: F) -> F {
        let s = logistic(z);
        s + z * s * (F::one() - s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::testing::{check_derivative, check_values};

    #[test]
    fn values() {
        // Expected values from Python 3: z / (1 + math.exp(-z)).
        check_values(
            &Silu {},
            &[(1.0, 0.7310585786300049), (-1.0, -0.2689414213699951), (3.0, 2.8577223804672998), (0.0, 0.0)],
        );
        assert_eq!(Silu {}.value(-1000.0_f64), 0.0);
        assert_eq!(Silu {}.value(1000.0_f64), 1000.0);
    }

    #[test]
    fn derivative_matches_central_difference() {
        check_derivative(&Silu {}, &[-6.0, -1.3, 0.0, 0.7, 4.0]);
    }
}
