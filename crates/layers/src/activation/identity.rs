//! `identity`: no activation, σ(z) = z (a linear layer; use it for regression outputs and logits).
//!
//! Derivative σ′(z) = 1.

use backprop_tensor::{Element, Validate};
use serde::{Deserialize, Serialize};

use super::Elementwise;

/// no activation, σ(z) = z (a linear layer; use it for regression outputs and logits).
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
