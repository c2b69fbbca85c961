//! One step's passes as free functions: the forward pass with the cost, and the loss gradient
//! with the backward pass, on any rows (what the trainer, the gradient check and the benchmarks
//! call).

use backprop_layers::{Mode, Network, Workspace};
use backprop_loss::Loss;
use backprop_tensor::{Element, MatView};

/// Whether `loss` absorbs the output activation of `net` (see `Loss::absorbs`): then the loss
/// reads `zᴸ` and writes `δᴸ`.
pub fn fused<F: Element>(loss: &dyn Loss<F>, net: &Network<F>) -> bool {
    loss.absorbs().is_some_and(|act| net.layers().last().is_some_and(|l| l.activation.name() == act))
}

/// Forward pass of `x` in evaluation mode and the cost against `t`.
///
/// # Panics
/// When `x` does not have the network's inputs as columns or has more rows than `ws` holds,
/// `ws` was made for another network, or `t` is not `x`'s rows by the network's outputs (as
/// [`forward_cost_mode`] and [`backward_from_loss`] do, and the latter when `grads` is not the
/// network's parameters' length).
pub fn forward_cost<F: Element>(
    net: &Network<F>,
    loss: &dyn Loss<F>,
    x: MatView<'_, F>,
    t: MatView<'_, F>,
    ws: &mut Workspace<F>,
) -> F {
    forward_cost_mode(net, loss, x, t, ws, Mode::Eval)
}

/// Forward pass of `x` in `mode` (dropout on or off) and the cost against `t`.
pub fn forward_cost_mode<F: Element>(
    net: &Network<F>,
    loss: &dyn Loss<F>,
    x: MatView<'_, F>,
    t: MatView<'_, F>,
    ws: &mut Workspace<F>,
    mode: Mode<'_>,
) -> F {
    net.forward_mode(x, ws, mode);
    let fused = fused(loss, net);
    // Row-major targets of the output's shape (the datasets' and batches' own): the buffer form,
    // without views. Any other shape goes to the view form, whose shape checks name it.
    if let Some(ts) = rows_like_output(t, x.nrows(), ws) {
        let cols = ws.output_units();
        let (input, _) = ws.loss_rows(x.nrows(), fused);
        return loss.cost_rows(cols, input, ts);
    }
    let (input, _) = ws.loss_io(x.nrows(), fused);
    loss.cost(input, t)
}

/// `t` as a row-major slice, when it has `n` rows and the output layer's columns.
#[inline]
pub(super) fn rows_like_output<'t, F: Element>(t: MatView<'t, F>, n: usize, ws: &Workspace<F>) -> Option<&'t [F]> {
    if t.dim() == (n, ws.output_units()) { t.to_slice() } else { None }
}

/// After [`forward_cost`] on the same rows: the loss gradient and the backward pass, writing
/// `∂C/∂θ` into `grads`.
pub fn backward_from_loss<F: Element>(
    net: &Network<F>,
    loss: &dyn Loss<F>,
    x: MatView<'_, F>,
    t: MatView<'_, F>,
    ws: &mut Workspace<F>,
    grads: &mut [F],
) {
    let fused = fused(loss, net);
    if let Some(ts) = rows_like_output(t, x.nrows(), ws) {
        let cols = ws.output_units();
        let (input, grad) = ws.loss_rows(x.nrows(), fused);
        loss.gradient_rows(cols, input, ts, grad);
    } else {
        let (input, grad) = ws.loss_io(x.nrows(), fused);
        loss.gradient(input, t, grad);
    }
    net.backward(x, ws, grads, fused);
}
