//! The run's history of epoch metrics, bounded: every epoch up to [`HISTORY_LIMIT`], then
//! thinned to a doubling stride.

use backprop_tensor::Element;

use super::{EpochMetrics, Trainer};

/// The most epochs whose metrics (and diagnostics) a run keeps by default: 262,144, about 19 MB
/// of history, a `metrics.csv` of about 10 MB. A run of fewer epochs than this records every
/// epoch (epoch 0 takes a row too: 262,143 epochs fill it). A longer one, when its history would pass the limit, keeps only every second of the
/// epochs recorded so far, then records every second epoch, and so on, doubling the stride each
/// time: it keeps epochs 0, s, 2s, … for a power of two s (between half the limit and the limit
/// of them), and always the last epoch. So memory, `metrics.csv` and checkpoints stay bounded
/// for a cap of any size (a huge `train.epochs` meant to be cut short by `stop_below` once took
/// 70 bytes an epoch until the machine ran out), as TensorBoard keeps a sample of a long
/// series' points.
pub const HISTORY_LIMIT: usize = 1 << 18;

impl<F: Element> Trainer<'_, F> {
    /// Records epoch `m` (whose diagnostics were just appended) in the history when it is on the
    /// stride, else keeps it as `pending` until the next epoch replaces it or the run ends; thins
    /// the history when it passes the limit ([`HISTORY_LIMIT`]). The common case, every epoch
    /// recorded, is one comparison and a push (three conditions in its place were 0.5% of W1's
    /// instructions).
    #[inline(always)]
    pub(super) fn record(&mut self, m: &EpochMetrics) {
        if m.epoch < self.fast_until {
            self.history.push(*m);
        } else {
            self.record_thinned(*m);
        }
    }

    /// [`record`](Self::record) past the common case.
    #[inline(never)]
    fn record_thinned(&mut self, m: EpochMetrics) {
        if let Some(dropped) = self.pending.take() {
            self.note_thinned(dropped.cost);
            // The pending epoch's diagnostics sit just before this epoch's: drop them.
            let per = self.diagnostics_per_epoch();
            let end = self.diagnostics.len();
            self.diagnostics.copy_within(end - per.., end - 2 * per);
            self.diagnostics.truncate(end - per);
        }
        if m.epoch & (self.stride - 1) == 0 {
            self.history.push(m);
            // A history resumed from a longer one (a checkpoint of an older version kept every
            // epoch) may take more than one halving.
            while self.history.len() > self.history_limit {
                self.thin();
            }
            // `m` off the new stride: kept, as the last epoch so far, but pending.
            if self.history.last().is_some_and(|last| last.epoch & (self.stride - 1) != 0) {
                self.pending = self.history.pop();
            }
        } else {
            self.pending = Some(m);
        }
    }

    /// The lowest training cost so far, the epochs thinned out of the history included.
    pub(super) fn best_cost(&self) -> f64 {
        let recorded = self.history.iter().chain(&self.pending).map(|m| m.cost);
        recorded.chain(self.thinned_best_cost).fold(f64::INFINITY, f64::min)
    }

    /// Notes the training cost of an epoch the history drops.
    fn note_thinned(&mut self, cost: f64) {
        self.thinned_best_cost = Some(self.thinned_best_cost.map_or(cost, |best| best.min(cost)));
    }

    /// Keeps the recorded epochs on twice the stride (epoch 0 among them) and the last one
    /// (the epoch just recorded), with their diagnostics, and doubles the stride.
    #[cold]
    fn thin(&mut self) {
        let stride = self.stride * 2;
        let per = self.diagnostics_per_epoch();
        let last = self.history.len() - 1;
        let mut kept = 0;
        for k in 0..self.history.len() {
            if self.history[k].epoch.is_multiple_of(stride) || k == last {
                self.history[kept] = self.history[k];
                self.diagnostics.copy_within(k * per..(k + 1) * per, kept * per);
                kept += 1;
            } else {
                self.note_thinned(self.history[k].cost);
            }
        }
        self.history.truncate(kept);
        self.diagnostics.truncate(kept * per);
        self.stride = stride;
        self.fast_until = 0;
    }
}
