//! Activations, each one file, registered by name in [`ActivationSpec`].
//!
//! An activation maps a layer's pre-activations `z` to its outputs `a = σ(z)` and, going back,
//! turns `∂C/∂a` into the layer's delta `δ = ∂C/∂z`. For an element-wise σ that is the post's
//! `δ = ∂C/∂a ⊙ σ′(z)`; an activation that couples a row (softmax) implements [`Activation`]
//! directly with its Jacobian-vector product.
//!
//! To add one: write `my_act.rs` with a struct implementing [`Elementwise`] (or [`Activation`])
//! and [`Validate`](backprop_tensor::Validate), then add one line to the `registry!` below.

mod identity;
mod relu;
mod sigmoid;
mod tanh;

pub use identity::Identity;
pub use relu::Relu;
pub use sigmoid::Sigmoid;
pub use tanh::Tanh;

use backprop_tensor::{Element, MatView, MatViewMut};
use ndarray::Zip;

/// A layer's non-linearity, forward and backward, over a batch (rows are samples).
pub trait Activation<F: Element> {
    /// `a ← σ(z)`.
    fn forward(&self, z: MatView<'_, F>, a: MatViewMut<'_, F>);
    /// `grad_z ← ∂C/∂z` given `grad_a = ∂C/∂a`, with `a = σ(z)` as `forward` left it.
    fn backward(&self, z: MatView<'_, F>, a: MatView<'_, F>, grad_a: MatView<'_, F>, grad_z: MatViewMut<'_, F>);
}

/// An activation applied to each element on its own: the common case.
///
/// Implementing this gives [`Activation`] for free: forward maps [`value`](Self::value), backward
/// multiplies by [`derivative`](Self::derivative).
pub trait Elementwise<F: Element> {
    /// `σ(z)`.
    fn value(&self, z: F) -> F;
    /// `σ′(z)`, given also `a = σ(z)` (sigmoid and tanh are cheaper from `a`).
    fn derivative(&self, z: F, a: F) -> F;
}

impl<F: Element, T: Elementwise<F>> Activation<F> for T {
    fn forward(&self, z: MatView<'_, F>, a: MatViewMut<'_, F>) {
        Zip::from(a).and(z).for_each(|a, &z| *a = self.value(z));
    }

    fn backward(&self, z: MatView<'_, F>, a: MatView<'_, F>, grad_a: MatView<'_, F>, grad_z: MatViewMut<'_, F>) {
        Zip::from(grad_z).and(z).and(a).and(grad_a).for_each(|d, &z, &a, &g| *d = g * self.derivative(z, a));
    }
}

backprop_tensor::registry! {
    /// The activations a config can name: `activation = "tanh"` or
    /// `activation = { kind = "…", param = … }`.
    pub enum ActivationSpec: dyn Activation<F> {
        /// `σ(z) = 1 / (1 + e^(−z))`.
        "sigmoid" => Sigmoid(Sigmoid),
        /// `tanh(z)`.
        "tanh" => Tanh(Tanh),
        /// `max(0, z)`.
        "relu" => Relu(Relu),
        /// `z`.
        "identity" => Identity(Identity),
    }
}

impl Default for ActivationSpec {
    /// The post's activation, sigmoid.
    fn default() -> Self {
        ActivationSpec::Sigmoid(Sigmoid {})
    }
}
