//! Per-layer [`DIAGNOSTICS`] (`[train] diagnostics = true`): gradient norms, update ratios,
//! saturated and dead units, recorded after every epoch.

use backprop_tensor::Element;

use super::Trainer;

/// The per-layer diagnostics `[train] diagnostics = true` records after every epoch, in this
/// order, as `metrics.csv` columns `l<k>_<name>` (k = 1 for the first dense layer):
/// - `grad_norm`: L2 norm of the layer's weight and bias gradient of the epoch's last step;
/// - `update_ratio`: ‖θ_after − θ_before‖ / ‖θ_before‖ over the epoch (about 1e-3 is healthy);
/// - `saturated`: fraction of sigmoid outputs below 0.01 or above 0.99, or of tanh outputs beyond
///   ±0.99 (0 for other activations), on the training set's last evaluated batch;
/// - `dead`: fraction of relu units that output 0 for every sample of that batch (0 for other
///   activations).
///
/// A half adder stuck on a plateau shows saturated sigmoids and tiny gradient norms.
pub const DIAGNOSTICS: [&str; 4] = ["grad_norm", "update_ratio", "saturated", "dead"];

impl<F: Element> Trainer<'_, F> {
    /// Appends this epoch's [`DIAGNOSTICS`] for every layer (the workspace holds the last
    /// evaluated training batch).
    pub(super) fn record_diagnostics(&mut self, epoch: usize) {
        let params = self.net.params();
        for (l, layer) in self.net.layers().iter().enumerate() {
            let ranges = [layer.w_range(), layer.b_range()];
            let norm = |v: &[F], d: Option<&[F]>| -> f64 {
                let values =
                    || ranges.iter().flat_map(|r| r.clone()).map(|i| v[i].f64() - d.map_or(0.0, |d| d[i].f64()));
                let plain = values().map(|x| x * x).sum::<f64>().sqrt();
                if plain.is_finite() {
                    return plain;
                }
                // Values past 1e154 square past f64's range: scaled by the largest first, the
                // norm is finite whenever they are (an infinite norm was written into the
                // checkpoint as `null`, which resuming then refused).
                let largest = values().fold(0.0f64, |m, x| m.max(x.abs()));
                if !largest.is_finite() || largest == 0.0 {
                    return plain;
                }
                largest * values().map(|x| (x / largest) * (x / largest)).sum::<f64>().sqrt()
            };
            let grad_norm = if epoch == 0 { 0.0 } else { norm(&self.grads, None) };
            let update_ratio = if epoch == 0 {
                0.0
            } else {
                let before = norm(&self.epoch_start, None);
                if before > 0.0 { norm(params, Some(&self.epoch_start)) / before } else { 0.0 }
            };
            let a = self.ws.a(l);
            let total = a.len().max(1) as f64;
            let saturated = match layer.activation.name() {
                "sigmoid" => a.iter().filter(|v| v.f64() < 0.01 || v.f64() > 0.99).count() as f64 / total,
                "tanh" => a.iter().filter(|v| v.f64().abs() > 0.99).count() as f64 / total,
                _ => 0.0,
            };
            let dead = if layer.activation.name() == "relu" && a.nrows() > 0 {
                a.columns().into_iter().filter(|c| c.iter().all(|v| *v <= F::zero())).count() as f64
                    / a.ncols().max(1) as f64
            } else {
                0.0
            };
            self.diagnostics.extend_from_slice(&[grad_norm, update_ratio, saturated, dead]);
        }
    }

    /// Diagnostics values an epoch: [`DIAGNOSTICS`] for each layer, or none when they are off.
    pub(super) fn diagnostics_per_epoch(&self) -> usize {
        if self.opts.diagnostics { self.net.layers().len() * DIAGNOSTICS.len() } else { 0 }
    }

    /// The diagnostics history: for each recorded epoch (0 first; see [`history`](Self::history)),
    /// for each layer, the [`DIAGNOSTICS`] values. Empty unless `diagnostics` is on.
    pub fn diagnostics(&self) -> &[f64] {
        &self.diagnostics
    }
}
