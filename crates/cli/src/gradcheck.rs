//! Analytic gradients (the backward pass) and the post's `check_gradient`: central differences
//! for every weight and bias.

use backprop_layers::{Network, Workspace};
use backprop_loss::Loss;
use backprop_tensor::{Element, MatView};

use crate::train::{backward_from_loss, forward_cost};

/// The cost of `net` on `(x, t)` and its gradient from the backward pass, in the network's
/// flat layout.
pub fn analytic<F: Element>(net: &Network<F>, loss: &dyn Loss<F>, x: MatView<'_, F>, t: MatView<'_, F>) -> (F, Vec<F>) {
    let mut ws = Workspace::new(net, x.nrows());
    let cost = forward_cost(net, loss, x, t, &mut ws);
    let mut grads = vec![F::zero(); net.params().len()];
    backward_from_loss(net, loss, x, t, &mut ws, &mut grads);
    (cost, grads)
}

/// The cost of `net` on `(x, t)`.
pub fn cost<F: Element>(net: &Network<F>, loss: &dyn Loss<F>, x: MatView<'_, F>, t: MatView<'_, F>) -> F {
    forward_cost(net, loss, x, t, &mut Workspace::new(net, x.nrows()))
}

/// Central differences `(C(θ + ε) − C(θ − ε)) / 2ε` for every parameter.
pub fn numeric(
    net: &Network<f64>,
    loss: &dyn Loss<f64>,
    x: MatView<'_, f64>,
    t: MatView<'_, f64>,
    epsilon: f64,
) -> Vec<f64> {
    let mut probe = net.clone();
    (0..net.params().len())
        .map(|i| {
            let p = net.params()[i];
            probe.params_mut()[i] = p + epsilon;
            let plus = cost(&probe, loss, x, t);
            probe.params_mut()[i] = p - epsilon;
            let minus = cost(&probe, loss, x, t);
            probe.params_mut()[i] = p;
            (plus - minus) / (2.0 * epsilon)
        })
        .collect()
}

/// The worst disagreement within one layer.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerReport {
    /// Layer number in the post's numbering (input = 0, first dense layer = 1).
    pub layer: usize,
    /// Largest `|analytic − numeric|`.
    pub max_abs: f64,
    /// Largest `|analytic − numeric| / max(|analytic|, |numeric|)` (0 where both are 0).
    pub max_rel: f64,
    /// Whether every parameter passed `|a − n| ≤ tolerance·max(|a|, |n|) + abs_floor`.
    pub ok: bool,
}

/// Compares `analytic` and `numeric` layer by layer.
pub fn compare(
    net: &Network<f64>,
    analytic: &[f64],
    numeric: &[f64],
    tolerance: f64,
    abs_floor: f64,
) -> Vec<LayerReport> {
    net.layers()
        .iter()
        .enumerate()
        .map(|(l, layer)| {
            let mut report = LayerReport { layer: l + 1, max_abs: 0.0, max_rel: 0.0, ok: true };
            for i in layer.w_range().chain(layer.b_range()) {
                let (a, n) = (analytic[i], numeric[i]);
                let abs = (a - n).abs();
                let scale = a.abs().max(n.abs());
                let rel = if scale > 0.0 { abs / scale } else { 0.0 };
                report.max_abs = report.max_abs.max(abs);
                report.max_rel = report.max_rel.max(rel);
                report.ok &= abs <= tolerance * scale + abs_floor;
            }
            report
        })
        .collect()
}
