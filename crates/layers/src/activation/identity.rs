use backprop_tensor::{Element, Validate};
use serde::{Deserialize, Serialize};

use super::Elementwise;

/// no activation, σ(z) = z (a linear layer; use it for regression outputs and logits).
///
/// `identity`: no activation, σ(z) = z (a linear layer; use it for regression outputs and logits).
///
/// Derivative σ′(z) = 1.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {}

impl Validate for Identity {}

impl Elementwise for Identity {
    #[inline(always)]
    fn value<F: Element>(&self, z: F) -> F {
        z
    }

    #[inline(always)]
    fn derivative<F: Element>(&self, _z: F, _a: F) -> F {
        F::one()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::testing::{check_derivative, check_values};

    #[test]
    fn values_and_derivative() {
        check_values(&Identity {}, &[(-3.5, -3.5), (0.0, 0.0), (1e-300, 1e-300), (7.25, 7.25)]);
        check_derivative(&Identity {}, &[-3.0, 0.0, 2.0]);
        assert_eq!(Identity {}.derivative(5.0_f64, 5.0), 1.0);
    }
}
