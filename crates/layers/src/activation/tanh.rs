use backprop_tensor::{Element, Validate, math};
use serde::{Deserialize, Serialize};

use super::Elementwise;

/// the hyperbolic tangent, σ(z) = tanh z.
///
/// `tanh`: the hyperbolic tangent, σ(z) = tanh z.
///
/// The value is [`backprop_tensor::math::tanh`] (the same bits on every machine), four at a time
/// over a layer's slice.
///
/// Derivative σ′(z) = 1 − tanh²(z) = 1 − a², computed as `(1 − a)·(1 + a)`: `1 − a·a` rounds
/// `a²` first, which near `|a| = 1` (|z| ≳ 5) leaves only the few bits of `1 − a²` that survive
/// that rounding (2·10⁻⁹ relative at z = 10). The product is within an ulp or two of the
/// correctly rounded `1 − a²`, as PyTorch's `tanh_backward` is. Range (−1, 1).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tanh {}

impl Validate for Tanh {}

impl Elementwise for Tanh {
    #[inline(always)]
    fn value<F: Element>(&self, z: F) -> F {
        math::tanh(z)
    }

    fn values<F: Element>(&self, z: &[F], a: &mut [F]) {
        math::tanh_slice(z, a);
    }

    #[inline(always)]
    fn derivative<F: Element>(&self, _z: F, a: F) -> F {
        (F::one() - a) * (F::one() + a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::testing::{check_derivative, check_slices_match_scalars, check_values};

    /// The slice pass (four at a time) has the bits of `value` on each element.
    #[test]
    fn values_of_a_slice_are_the_values_one_by_one() {
        check_slices_match_scalars(&Tanh {});
    }

    /// `1 − a²` for the stored `a = tanh z`, against its correctly rounded value (exact rational
    /// arithmetic, Python's `fractions`): within 2 ulps where `1 − a·a` was 2·10⁻⁹ off at z = 10.
    #[test]
    fn the_derivative_keeps_its_bits_where_a_is_near_one() {
        for (z, exact) in [(10.0, 8.244614529632978e-09), (3.0, 0.009866037165440166), (-10.0, 8.244614529632978e-09)] {
            let a: f64 = Tanh {}.value(z);
            let got: f64 = Tanh {}.derivative(z, a);
            assert!((got - exact).abs() <= 2.0 * f64::EPSILON * exact, "σ′({z}) = {got:e}, want {exact:e}");
        }
        check_values(&Tanh {}, &[(0.0, 0.0), (1.0, 0.7615941559557649)]);
        check_derivative(&Tanh {}, &[-20.0, -3.0, -0.5, 0.0, 0.5, 3.0, 20.0]);
    }
}
