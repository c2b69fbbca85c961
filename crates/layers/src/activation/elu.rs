use backprop_tensor::math::{self, LANES, Lanes, Lanes3};
use backprop_tensor::spec::finite;
use backprop_tensor::{Element, SpecError, Validate};
use serde::{Deserialize, Serialize};

use super::Elementwise;

/// the exponential linear unit, σ(z) = z for z > 0, else alpha·(e^z − 1).
///
/// `elu`: the exponential linear unit, σ(z) = z for z > 0, else alpha·(e^z − 1) (PyTorch `nn.ELU`,
/// default alpha = 1).
///
/// Derivative σ′(z) = 1 for z > 0, else alpha·e^z (= a + alpha); at z = 0 it is alpha, as
/// PyTorch's backward gives for z ≤ 0. Range (−alpha, ∞) for alpha > 0. The negative branch uses
/// `math::exp_m1`, exact near 0; over a layer's slice both passes run four at a time
/// ([`math::exp_m1_4`], [`math::exp4`]), with the bits of the one-at-a-time functions.
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

    fn values<F: Element>(&self, z: &[F], a: &mut [F]) {
        math::lanes_map(z, a, Steps { alpha: F::of(self.alpha) });
    }

    fn deltas<F: Element>(&self, z: &[F], a: &[F], grad_a: &[F], grad_z: &mut [F]) {
        math::lanes_map3(z, a, grad_a, grad_z, Steps { alpha: F::of(self.alpha) });
    }
}

/// `value` and `grad_a·derivative` on four lanes, step by step; positive lanes take `e⁰` and
/// keep their own branch.
#[derive(Clone, Copy)]
struct Steps<F> {
    alpha: F,
}

#[inline(always)]
fn non_positive<F: Element>(z: [F; LANES]) -> [F; LANES] {
    z.map(|z| if z > F::zero() { F::zero() } else { z })
}

impl<F: Element> Lanes<F> for Steps<F> {
    #[inline(always)]
    fn lanes(&self, z: [F; LANES]) -> [F; LANES] {
        let m = math::exp_m1_4(non_positive(z));
        std::array::from_fn(|i| if z[i] > F::zero() { z[i] } else { self.alpha * m[i] })
    }
}

impl<F: Element> Lanes3<F> for Steps<F> {
    #[inline(always)]
    fn lanes(&self, z: [F; LANES], _a: [F; LANES], grad_a: [F; LANES]) -> [F; LANES] {
        let e = math::exp4(non_positive(z));
        std::array::from_fn(|i| grad_a[i] * if z[i] > F::zero() { F::one() } else { self.alpha * e[i] })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::testing::{check_derivative, check_slices_match_scalars, check_values};

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
    fn slices_have_the_one_by_one_bits() {
        check_slices_match_scalars(&Elu::default());
        check_slices_match_scalars(&Elu { alpha: -0.3 });
    }

    #[test]
    fn alpha_must_be_finite() {
        assert!(Elu { alpha: f64::INFINITY }.validate().is_err());
    }
}
