//! Losses: the cost `C` of a batch of outputs against targets, and its gradient `∂C/∂a`.
//!
//! Every loss here is a mean over the samples of the batch (rows), so the gradient it hands back
//! already carries the `1/N`, and a network's backward pass turns it straight into batch-mean
//! parameter gradients. Each loss documents its exact formula, including which factor ½ it uses
//! and what it averages over; where PyTorch has a loss of the same name, this one computes the
//! same number with PyTorch's default reduction.
//!
//! The crate works on plain ndarray views and needs nothing else from backprop:
//!
//! ```
//! use backprop_loss::{HalfMse, Loss};
//! use ndarray::array;
//!
//! let a = array![[0.5, 1.0], [0.0, 0.0]];
//! let t = array![[0.0, 1.0], [0.0, 1.0]];
//! // C = (0.25 + 0 + 0 + 1) / (2·2)
//! assert_eq!(HalfMse {}.cost(a.view(), t.view()), 0.3125);
//! let mut g = array![[0.0, 0.0], [0.0, 0.0]];
//! HalfMse {}.gradient(a.view(), t.view(), g.view_mut());
//! assert_eq!(g, array![[0.25, 0.0], [0.0, -0.5]]);
//! ```
//!
//! To add a loss: write `my_loss.rs` with a struct implementing [`Loss`] and
//! [`Validate`](backprop_tensor::Validate), then add one line to the `registry!` below.

mod half_mse;

pub use half_mse::HalfMse;

use backprop_tensor::{Element, MatView, MatViewMut};

/// A cost over a batch and its gradient with respect to the network's output.
///
/// # Shapes
/// `output`, `target` and `grad` are all (samples, outputs). Callers check shapes once, before
/// training; the methods may panic on a mismatch.
pub trait Loss<F: Element> {
    /// `C(output, target)`.
    fn cost(&self, output: MatView<'_, F>, target: MatView<'_, F>) -> F;
    /// `grad ← ∂C/∂output`.
    fn gradient(&self, output: MatView<'_, F>, target: MatView<'_, F>, grad: MatViewMut<'_, F>);

    /// The output activation this loss absorbs, if any (`cross_entropy` absorbs `softmax`,
    /// `bce_with_logits` absorbs `sigmoid`).
    ///
    /// When the network's output layer has exactly this activation, the loss is applied to the
    /// layer's pre-activation `zᴸ` (the logits) instead of its output `aᴸ`, and the gradient it
    /// writes is `δᴸ = ∂C/∂zᴸ` itself, so the activation's own backward pass is skipped. That is
    /// how the combination is chosen, in one place, and why it is never applied twice: the
    /// activation runs forward (the outputs are probabilities) but the loss sees logits.
    fn absorbs(&self) -> Option<&'static str> {
        None
    }
}

backprop_tensor::registry! {
    /// The losses a config can name (`[loss] kind = "half_mse"`).
    pub enum LossSpec: dyn Loss<F> {
        /// The post's `1/(2N) Σ ‖a − t‖²`.
        "half_mse" => HalfMse(HalfMse),
    }
}

impl Default for LossSpec {
    fn default() -> Self {
        LossSpec::HalfMse(HalfMse {})
    }
}

/// Checks that `output` and `target` have the same shape, naming both when they do not.
pub fn check_shapes<F>(output: MatView<'_, F>, target: MatView<'_, F>) -> Result<(), String> {
    if output.dim() == target.dim() {
        Ok(())
    } else {
        Err(format!("output of shape {:?} against target of shape {:?}", output.dim(), target.dim()))
    }
}
