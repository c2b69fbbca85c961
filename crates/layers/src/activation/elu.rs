//! `elu`: the exponential linear unit, σ(z) = z for z > 0, else alpha·(e^z − 1) (PyTorch `nn.ELU`,
//! default alpha = 1).
//!
//! Derivative σ′(z) = 1 for z > 0, else alpha·e^z (= a + alpha); at z = 0 it is alpha, as
//! PyTorch's backward gives for z ≤ 0. Range (−alpha, ∞) for alpha > 0. The negative branch uses
//! `math::exp_m1`, exact near 0.

use backprop_tensor::spec::finite;
use backprop_tensor::{Element, SpecError, Validate, math};
use serde::{Deserialize, Serialize};

use super::Elementwise;

/// the exponential linear unit, σ(z) = z for z > 0, else alpha·(e^z − 1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Elu {
    /// Scale of the negative branch, which tends to −alpha. Default 1.
    pub alpha: f64,
}

impl Default for Elu {
    fn default() -> Self {
        Elu { alpha: 1.0 }
    }
}

impl Validate for Elu {
    fn validate(&self) -> Result<(), SpecError> {
        finite("alpha", self.alpha)
    }
}

impl Elementwise for Elu {
    #[inline(always)]
    fn value<F: Element>(&self, z: F) -> F {
        if z > F::zero() { z } else { F::of(self.alpha) * math::exp_m1(z) }
    }

    #[inline(always)]
    fn derivative<F: Element>(&self, z: F, _a: F) -> F {
        if z > F::zero() { F::one() } else { F::of(self.alpha) * math::exp(z) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::testing::{check_derivative, check_values};

    #[test]
    fn values() {
        // Expected values from Python 3: math.expm1(-1.0) and 0.5 * math.expm1(-2.0).
        check_values(&Elu::default(), &[(2.0, 2.0), (-1.0, -0.6321205588285577), (0.0, 0.0)]);
        check_values(&Elu { alpha: 0.5 }, &[(-2.0, -0.43233235838169365)]);
    }

    #[test]
    fn derivative_matches_central_difference() {
        check_derivative(&Elu::default(), &[-4.0, -1.0, -0.1, 0.1, 3.0]);
        check_derivative(&Elu { alpha: 2.5 }, &[-2.0, -0.3, 1.0]);
    }

    #[test]
    fn derivative_is_a_plus_alpha_below_zero() {
        let elu = Elu { alpha: 1.5 };
        let z = -0.7_f64;
        assert!((elu.derivative(z, elu.value(z)) - (elu.value(z) + 1.5)).abs() < 1e-15);
        assert_eq!(elu.derivative(0.0, 0.0), 1.5);
    }

    #[test]
    fn alpha_must_be_finite() {
        assert!(Elu { alpha: f64::INFINITY }.validate().is_err());
    }
}
