use backprop_tensor::{Element, Validate, math};
use serde::{Deserialize, Serialize};

use super::Elementwise;

/// the logistic function σ(z) = 1 / (1 + e^(−z)).
///
/// `sigmoid`: the logistic function σ(z) = 1 / (1 + e^(−z)).
///
/// `e^(−z)` is [`backprop_tensor::math::exp`] (the same bits on every machine).
///
/// Derivative σ′(z) = σ(z)·(1 − σ(z)), the post's formula, computed from the stored output
/// a = σ(z) (the post's `da_dz` computes σ(z) again from z: the same value). Range (0, 1).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sigmoid {}

impl Validate for Sigmoid {}

impl Elementwise for Sigmoid {
    #[inline(always)]
    fn value<F: Element>(&self, z: F) -> F {
        F::one() / (F::one() + math::exp(-z))
    }

    fn values<F: Element>(&self, z: &[F], a: &mut [F]) {
        math::map_exp(z, a, |z| -z, |e| F::one() / (F::one() + e));
    }

    #[inline(always)]
    fn derivative<F: Element>(&self, _z: F, _a: F) -> F {
        let a = _a;
        a * (F::one() - a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::testing::{check_derivative, check_slices_match_scalars, check_values};

    #[test]
    fn values() {
        // Expected values from Python 3: 1 / (1 + math.exp(-z)).
        check_values(
            &Sigmoid {},
            &[
                (0.0, 0.5),
                (1.0, 0.7310585786300049),
                (-1.0, 0.2689414213699951),
                (2.5, 0.9241418199787566),
                (-30.0, 9.357622968839299e-14),
                (40.0, 1.0),
            ],
        );
    }

    /// The slice pass (four exponentials at a time) has the bits of `value` on each element.
    #[test]
    fn values_of_a_slice_are_the_values_one_by_one() {
        check_slices_match_scalars(&Sigmoid {});
    }

    #[test]
    fn derivative_matches_central_difference() {
        check_derivative(&Sigmoid {}, &[-6.0, -1.0, -0.2, 0.0, 0.4, 1.0, 5.0]);
    }

    #[test]
    fn f32_rounds_the_f64_value() {
        assert_eq!(Sigmoid {}.value(1.0_f32), 0.7310585786300049_f64 as f32);
    }
}
