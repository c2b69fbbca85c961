use backprop_tensor::math::{self, LANES, Lanes, Lanes3};
use backprop_tensor::{Element, Validate};
use serde::{Deserialize, Serialize};

use super::Elementwise;

/// the sigmoid-weighted linear unit, σ(z) = z / (1 + e^(−z)).
///
/// `silu` (also registered as `swish`): the sigmoid-weighted linear unit, σ(z) = z·s(z) with
/// s(z) = 1 / (1 + e^(−z)) (PyTorch `nn.SiLU`).
///
/// Derivative σ′(z) = s + z·s·(1 − s). Range [≈ −0.278, ∞).
///
/// Over a layer's slice both are computed four at a time ([`math::exp4`]), with the bits of the
/// one-at-a-time functions.
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

    fn values<F: Element>(&self, z: &[F], a: &mut [F]) {
        math::lanes_map(z, a, Values);
    }

    fn deltas<F: Element>(&self, z: &[F], a: &[F], grad_a: &[F], grad_z: &mut [F]) {
        math::lanes_map3(z, a, grad_a, grad_z, Deltas);
    }
}

/// `value` on four lanes, step by step.
#[derive(Clone, Copy)]
struct Values;

impl<F: Element> Lanes<F> for Values {
    #[inline(always)]
    fn lanes(&self, z: [F; LANES]) -> [F; LANES] {
        let e = math::exp4(z.map(|z| -z));
        std::array::from_fn(|i| z[i] * (F::one() / (F::one() + e[i])))
    }
}

/// `grad_a·derivative` on four lanes, step by step.
#[derive(Clone, Copy)]
struct Deltas;

impl<F: Element> Lanes3<F> for Deltas {
    #[inline(always)]
    fn lanes(&self, z: [F; LANES], _a: [F; LANES], grad_a: [F; LANES]) -> [F; LANES] {
        let e = math::exp4(z.map(|z| -z));
        std::array::from_fn(|i| {
            let s = F::one() / (F::one() + e[i]);
            grad_a[i] * (s + z[i] * s * (F::one() - s))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::testing::{check_derivative, check_slices_match_scalars, check_values};

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

    #[test]
    fn slices_have_the_one_by_one_bits() {
        check_slices_match_scalars(&Silu {});
    }
}
