//! Analytic gradients (the backward pass) and the post's `check_gradient`: central differences
//! for every weight and bias.

use backprop_layers::{Network, Workspace};
use backprop_loss::Loss;
use backprop_tensor::{Element, MatView};
use rayon::prelude::*;

use crate::train::{backward_from_loss, forward_cost};

/// The cost of `net` on `(x, t)` and its gradient from the backward pass, in the network's
/// flat layout.
///
/// # Panics
/// When `x` does not have the network's inputs as columns, or `t` is not `x`'s rows by the
/// network's outputs (as [`cost`], [`numeric`] and [`numeric_with`] do).
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
    numeric_with(net, loss, x, t, epsilon, &|| {})
}

/// [`numeric`], calling `done` once per parameter finished (for a progress bar). The
/// parameters are shared out over rayon's threads, each with its own copy of the network and
/// its own workspace; every difference is computed alone, so the result is the same bits on any
/// number of threads.
pub fn numeric_with(
    net: &Network<f64>,
    loss: &dyn Loss<f64>,
    x: MatView<'_, f64>,
    t: MatView<'_, f64>,
    epsilon: f64,
    done: &(dyn Fn() + Sync),
) -> Vec<f64> {
    let fresh = || (net.clone(), Workspace::new(net, x.nrows()));
    (0..net.params().len())
        .into_par_iter()
        .map_init(fresh, |(probe, ws), i| {
            let p = net.params()[i];
            probe.params_mut()[i] = p + epsilon;
            let plus = forward_cost(probe, loss, x, t, ws);
            probe.params_mut()[i] = p - epsilon;
            let minus = forward_cost(probe, loss, x, t, ws);
            probe.params_mut()[i] = p;
            done();
            (plus - minus) / (2.0 * epsilon)
        })
        .collect()
}

/// The worst disagreement within one layer.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerReport {
    /// Layer number in the post's numbering (input = 0, first dense layer = 1).
    pub layer: usize,
    /// Largest `|analytic − numeric|` (NaN when a gradient is not finite).
    pub max_abs: f64,
    /// Largest `|analytic − numeric| / max(|analytic|, |numeric|)` (0 where both are 0).
    pub max_rel: f64,
    /// Whether every parameter passed `|a − n| ≤ tolerance·max(|a|, |n|) + abs_floor`.
    pub ok: bool,
}

/// Compares `analytic` and `numeric` layer by layer.
///
/// # Panics
/// When either is shorter than the network's parameters.
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
            let mut finite = true;
            for i in layer.w_range().chain(layer.b_range()) {
                let (a, n) = (analytic[i], numeric[i]);
                let abs = (a - n).abs();
                let scale = a.abs().max(n.abs());
                let rel = if scale > 0.0 { abs / scale } else { 0.0 };
                report.max_abs = report.max_abs.max(abs);
                report.max_rel = report.max_rel.max(rel);
                report.ok &= abs <= tolerance * scale + abs_floor;
                finite &= abs.is_finite();
            }
            if !finite {
                // f64::max passes NaN over: show it, not the largest finite error.
                (report.max_abs, report.max_rel, report.ok) = (f64::NAN, f64::NAN, false);
            }
            report
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use backprop_layers::{ActivationSpec, LayerSpec};
    use backprop_loss::LossSpec;
    use backprop_tensor::Matrix;

    /// `compare` applies the rule `gradcheck` documents, layer by layer: a parameter fails when
    /// |analytic − numeric| > tolerance·max(|analytic|, |numeric|) + floor.
    #[test]
    fn compare_applies_the_documented_rule_to_each_layer() {
        let identity = |n| LayerSpec::new(n, ActivationSpec::from_name("identity").expect("registered"));
        // Layer 1: W at 0..2, b at 2; layer 2: W at 3, b at 4.
        let net = Network::<f64>::new(2, &[identity(1), identity(1)]);
        let analytic = [1.0, -2.0, 0.0, 8.0, 0.0];
        // Layer 1 within the rule (relative 2⁻²⁰ ≈ 9.5e-7 on 1.0, and 1.5e-6 off on 2, within
        // 1e-6·2); layer 2 beyond it (relative 1.25e-5 on 8).
        let numeric = [1.0 + 2f64.powi(-20), -2.0 - 1.5e-6, 0.0, 8.0001, 0.0];
        let r = compare(&net, &analytic, &numeric, 1e-6, 1e-9);
        assert_eq!(r.iter().map(|l| (l.layer, l.ok)).collect::<Vec<_>>(), [(1, true), (2, false)]);
        assert!((r[0].max_abs - 1.5e-6).abs() < 1e-15, "{:?}", r[0]);
        assert_eq!(r[0].max_rel, 2f64.powi(-20) / (1.0 + 2f64.powi(-20)), "relative to the larger of the two");
        assert!((r[1].max_abs - 1e-4).abs() < 1e-15 && (r[1].max_rel - 1e-4 / 8.0001).abs() < 1e-15, "{:?}", r[1]);
        // The floor alone: against a zero gradient 5e-10 passes and 2e-9 fails (relative error
        // 1 either way); a zero tolerance fails any difference above the floor.
        let r = compare(&net, &[0.0; 5], &[0.0, 0.0, 5e-10, 0.0, 2e-9], 1e-6, 1e-9);
        assert_eq!((r[0].ok, r[0].max_rel, r[1].ok, r[1].max_rel), (true, 1.0, false, 1.0));
        let r = compare(&net, &analytic, &numeric, 0.0, 1e-9);
        assert!(!r[0].ok);
        // Exactly at the bound passes.
        assert!(compare(&net, &[0.0; 5], &[0.0, 0.0, 1e-9, 0.0, 0.0], 0.0, 1e-9)[0].ok);
        // A non-finite gradient is a failure shown as NaN, not the largest finite error.
        let r = compare(&net, &analytic, &[1.0, f64::NAN, 0.0, 8.0, 0.0], 1e-6, 1e-9);
        assert!(!r[0].ok && r[0].max_abs.is_nan() && r[0].max_rel.is_nan() && r[1].ok);
    }

    /// The threads change nothing: each difference is the one a plain loop computes, to the bit.
    #[test]
    fn numeric_is_a_plain_loop_of_central_differences() {
        let layer = |n, a| LayerSpec::new(n, ActivationSpec::from_name(a).expect("registered"));
        let mut net = Network::<f64>::new(3, &[layer(5, "tanh"), layer(2, "sigmoid")]);
        for (i, p) in net.params_mut().iter_mut().enumerate() {
            *p = ((i * 7919) % 17) as f64 / 8.5 - 1.0;
        }
        let x = Matrix::from_shape_fn((4, 3), |(r, c)| (r as f64 - c as f64) / 3.0);
        let t = Matrix::from_shape_fn((4, 2), |(r, c)| ((r + c) % 2) as f64);
        let loss = LossSpec::from_name("mse").expect("registered");
        let (x, t) = (x.view(), t.view());
        let count = std::sync::atomic::AtomicUsize::new(0);
        let tick = || {
            count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        };
        let found = numeric_with(&net, loss.get(), x, t, 1e-6, &tick);
        assert_eq!(count.into_inner(), net.params().len());
        let mut probe = net.clone();
        for (i, &n) in found.iter().enumerate() {
            let p = net.params()[i];
            probe.params_mut()[i] = p + 1e-6;
            let plus = cost(&probe, loss.get(), x, t);
            probe.params_mut()[i] = p - 1e-6;
            let minus = cost(&probe, loss.get(), x, t);
            probe.params_mut()[i] = p;
            assert_eq!(n.to_bits(), ((plus - minus) / 2e-6).to_bits(), "parameter {i}");
        }
    }
}
