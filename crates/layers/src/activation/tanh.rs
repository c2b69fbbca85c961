//! `tanh`: the hyperbolic tangent, σ(z) = tanh z.
//!
//! Derivative σ′(z) = 1 − tanh²(z) = 1 − a². Range (−1, 1).

use backprop_tensor::{Element, Validate};
use serde::{Deserialize, Serialize};

use super::Elementwise;

/// the hyperbolic tangent, σ(z) = tanh z.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tanh {}

impl Validate for Tanh {}

impl Elementwise for Tanh {
    #[inline(always)]
    fn value<F: Element>(&self, z: F) -> F {
        z.tanh()
    }

    #[inline(always)]
    fn derivative<F: Element>(&self, _z: F, _a: F) -> F {
        F::one() - _a * _a
    }
}
