//! Classification accuracy: the decision threshold of one output, counting right rows, argmax.

use backprop_layers::Network;
use backprop_loss::Loss;
use backprop_tensor::{Element, MatView};

use super::fused;

/// The output above which a single-output net predicts class 1: 0 for logits (a loss that
/// absorbs the sigmoid, applied to an identity output), else 0.5.
pub fn decision_threshold<F: Element>(loss: &dyn Loss<F>, net: &Network<F>) -> F {
    if outputs_are_logits(loss, net) { F::zero() } else { F::of(0.5) }
}

/// Whether the network's outputs are logits that its loss takes through a sigmoid
/// (`bce_with_logits` over an output layer other than `sigmoid`, PyTorch's usual pairing): the
/// probabilities are σ(output).
pub fn outputs_are_logits<F: Element>(loss: &dyn Loss<F>, net: &Network<F>) -> bool {
    let logits = loss.absorbs() == Some("sigmoid") && !fused(loss, net);
    let last_is_sigmoid = net.layers().last().is_some_and(|l| l.activation.name() == "sigmoid");
    logits && !last_is_sigmoid
}

/// Rows whose predicted class matches the target's
/// ([`predicted_class`](crate::report::predicted_class): argmax for several outputs, above the
/// threshold for one; a target row's class by the same rule, at 0.5).
pub fn count_right<F: Element>(output: MatView<'_, F>, target: MatView<'_, F>, threshold: F) -> usize {
    use crate::report::predicted_class;
    output
        .outer_iter()
        .zip(target.outer_iter())
        .filter(|(o, t)| predicted_class(o.view(), threshold) == predicted_class(t.view(), F::of(0.5)))
        .count()
}

/// Index of the largest value (the first on ties).
pub fn argmax<F: Element>(values: impl Iterator<Item = F>) -> usize {
    let mut best = (0, F::neg_infinity());
    for (i, v) in values.enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best.0
}
