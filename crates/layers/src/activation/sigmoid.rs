//! `sigmoid`: the logistic function σ(z) = 1 / (1 + e^(−z)).
//!
//! `e^(−z)` is [`backprop_tensor::math::exp`] (the same bits on every machine).
//!
//! Derivative σ′(z) = σ(z)·(1 − σ(z)), computed from the stored output a = σ(z), as the post does. Range (0, 1).

use backprop_tensor::{Element, Validate, math};
use serde::{Deserialize, Serialize};

use super::Elementwise;

/// the logistic function σ(z) = 1 / (1 + e^(−z)).
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
