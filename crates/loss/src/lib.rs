//! Losses: the cost `C` of a batch of outputs against targets, and its gradient `∂C/∂a`.
//!
//! Every loss here is a mean, over the samples of the batch (rows) or over all its elements, as
//! each one documents, so the gradient it hands back already carries that `1/N` or `1/(N·K)`
//! (`N` samples, `K` outputs), and a network's backward pass turns it straight into parameter
//! gradients of the same mean cost. Each loss documents its exact formula, including which factor
//! ½ it uses and what it averages over; where PyTorch has a loss of the same name, this one
//! computes the same number with PyTorch's default reduction (`mean`), parameter names and
//! defaults.
//!
//! The losses (`N` samples, `K` outputs, sums over every element unless said):
//! - `half_mse`, the post's cost: `C = 1/(2N) Σ (a − t)²`.
//! - `mse` (PyTorch `MSELoss`): `C = 1/(N·K) Σ (a − t)²`.
//! - `mae` (`L1Loss`): `C = 1/(N·K) Σ |a − t|`, gradient `sign(a − t)/(N·K)` with `sign(0) = 0`.
//! - `huber` (`HuberLoss`, `delta` = 1): `C = 1/(N·K) Σ ℓ(a − t)`, `ℓ(x) = ½x²` if `|x| < delta`
//!   else `delta·(|x| − ½·delta)`.
//! - `bce` (`BCELoss`), on probabilities: `C = −1/(N·K) Σ [t·ln a + (1 − t)·ln(1 − a)]`, each log
//!   clamped at −100; gradient PyTorch's, `(a − t)/(max(a(1 − a), 10⁻¹²)·N·K)`.
//! - `bce_with_logits` (`BCEWithLogitsLoss`), on logits `x`:
//!   `C = 1/(N·K) Σ [max(x, 0) − x·t + ln(1 + e^(−|x|))]`, gradient `(σ(x) − t)/(N·K)`.
//! - `cross_entropy` (`CrossEntropyLoss` with probability targets, `label_smoothing` ε = 0), on
//!   logits `x`: `C = −1/N Σ_n Σ_k t'_nk · log_softmax(x_n)_k` with `t' = (1 − ε)·t + ε/K`, a mean
//!   over samples only; gradient `(softmax(x) − t')/N`.
//!
//! `bce_with_logits` and `cross_entropy` take logits: they [absorb](Loss::absorbs) a `sigmoid`
//! or `softmax` output layer (the loss is applied to its pre-activation and hands back `δᴸ`
//! directly), and with an `identity` output layer they take its outputs as the logits.
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
//! [`Validate`], then add its line to the `registry!` below, beside
//! the file's `mod` and `pub use` lines (ARCHITECTURE.md, "Adding a component", has the rest).

mod bce;
mod bce_with_logits;
mod cross_entropy;
mod half_mse;
mod huber;
mod mae;
mod mse;

pub use bce::Bce;
pub use bce_with_logits::BceWithLogits;
pub use cross_entropy::CrossEntropy;
pub use half_mse::HalfMse;
pub use huber::Huber;
pub use mae::Mae;
pub use mse::Mse;

/// The tensor crate's types a loss's signature names, so that a loss written elsewhere needs
/// only this crate.
pub use backprop_tensor::{Element, MatView, MatViewMut, SpecError, Validate};

/// A cost over a batch and its gradient with respect to the network's output.
///
/// # Panics
/// `output`, `target` and `grad` are all (samples, outputs). Callers check shapes once, before
/// training; the methods may panic on a mismatch.
///
/// `Send + Sync`: a loss is a function of its parameters, shared between threads (the gradient
/// check's central differences run on several). Its [`Validate`] impl checks its parameters (the
/// default checks nothing): `backprop_cli::train::Trainer::new` refuses a loss that fails it, as
/// `backprop train` refuses the config.
pub trait Loss<F: Element>: Send + Sync + Validate {
    /// `C(output, target)`.
    ///
    /// The losses here compute each element's term in `F` and add the terms up in f64, in
    /// row-major order, rounding the mean to `F` once: an f32 cost over 300 000 samples is then
    /// as exact as f32 holds (summed in f32, it was off by 6.5·10⁻⁵ relative; PyTorch's f32
    /// `mean` sums in blocks, within about 10⁻⁸). In f64 this is the plain in-order sum.
    fn cost(&self, output: MatView<'_, F>, target: MatView<'_, F>) -> F;
    /// `grad ← ∂C/∂output`.
    fn gradient(&self, output: MatView<'_, F>, target: MatView<'_, F>, grad: MatViewMut<'_, F>);

    /// [`cost`](Self::cost) on row-major buffers with `cols` columns: what the trainer calls.
    /// The default makes views; a loss may override it to skip them, with the same bits.
    ///
    /// # Panics
    /// When the buffers differ in length or do not hold whole rows.
    fn cost_rows(&self, cols: usize, output: &[F], target: &[F]) -> F {
        let (output, target) = (rows(cols, output), rows(cols, target));
        self.cost(output, target)
    }

    /// [`gradient`](Self::gradient) on row-major buffers with `cols` columns: what the trainer
    /// calls. The default makes views; a loss may override it to skip them, with the same bits.
    ///
    /// # Panics
    /// When the buffers differ in length or do not hold whole rows.
    fn gradient_rows(&self, cols: usize, output: &[F], target: &[F], grad: &mut [F]) {
        let shape = (output.len().checked_div(cols).unwrap_or(0), cols);
        let grad = MatViewMut::from_shape(shape, grad).expect("grad has the shape of the output");
        self.gradient(rows(cols, output), rows(cols, target), grad);
    }

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

    /// The interval `[low, high]` this loss's targets are meant to lie in, if it has one
    /// (`[0, 1]` for the cross-entropies: probabilities). As PyTorch's losses, it computes a
    /// number for any target (`bce` against a target of 2 gives a cost below 0, and its minimum
    /// is not at `a = t`); `backprop train` warns of training targets outside it.
    fn target_range(&self) -> Option<(f64, f64)> {
        None
    }
}

backprop_tensor::registry! {
    /// The losses a config can name (`[loss] kind = "half_mse"`).
    pub enum LossSpec: dyn Loss<F> {
        /// The post's `1/(2N) Σ ‖a − t‖²`.
        "half_mse" => HalfMse(HalfMse),
        /// PyTorch's `MSELoss`: `1/(N·K) Σ (a − t)²`.
        "mse" => Mse(Mse),
        /// PyTorch's `L1Loss`: `1/(N·K) Σ |a − t|`.
        "mae" => Mae(Mae),
        /// PyTorch's `HuberLoss`: quadratic within `delta` of the target, linear beyond.
        "huber" => Huber(Huber),
        /// PyTorch's `BCELoss`: binary cross-entropy on probabilities, logs clamped at −100.
        "bce" => Bce(Bce),
        /// PyTorch's `BCEWithLogitsLoss`: binary cross-entropy on logits; absorbs `sigmoid`.
        "bce_with_logits" => BceWithLogits(BceWithLogits),
        /// PyTorch's `CrossEntropyLoss` (probability targets): softmax cross-entropy on logits,
        /// mean over samples; absorbs `softmax`.
        "cross_entropy" => CrossEntropy(CrossEntropy),
    }
}

impl Default for LossSpec {
    fn default() -> Self {
        LossSpec::HalfMse(HalfMse {})
    }
}

/// A row-major buffer with `cols` columns as a view.
fn rows<F>(cols: usize, buf: &[F]) -> MatView<'_, F> {
    MatView::from_shape((buf.len().checked_div(cols).unwrap_or(0), cols), buf).expect("buffers hold whole rows")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cross-entropies take probabilities as targets; the distances take any number.
    #[test]
    fn only_the_cross_entropies_have_a_target_range() {
        for name in LossSpec::NAMES {
            let spec = LossSpec::from_name(name).unwrap();
            let expected = matches!(*name, "bce" | "bce_with_logits" | "cross_entropy").then_some((0.0, 1.0));
            assert_eq!(spec.get::<f64>().target_range(), expected, "{name}");
        }
    }

    /// Only the losses on logits absorb an output activation; every other loss reads `aᴸ`.
    #[test]
    fn only_the_losses_on_logits_absorb_an_activation() {
        for name in LossSpec::NAMES {
            let want = match *name {
                "cross_entropy" => Some("softmax"),
                "bce_with_logits" => Some("sigmoid"),
                _ => None,
            };
            let loss = LossSpec::from_name(name).expect("registered");
            assert_eq!((loss.get::<f64>().absorbs(), loss.get::<f32>().absorbs()), (want, want), "{name}");
        }
    }
}
