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
