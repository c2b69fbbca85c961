//! The [`Observer`] hook called after every epoch, and the two the crate ships: [`LogLines`]
//! (the post's log lines) and [`Silent`].

use std::io::Write;

use backprop_tensor::Element;

use super::{EpochMetrics, StopReason, Trainer};

/// What an [`Observer`] wants after an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Go on.
    Continue,
    /// Stop now, as interrupted.
    Interrupt,
}

/// Called after every epoch (and once for epoch 0, before training): logging, progress bars,
/// checkpoints, interrupts.
pub trait Observer<F: Element> {
    /// `metrics` is the epoch just measured; the trainer holds the state after it.
    fn epoch_end(&mut self, trainer: &Trainer<'_, F>, metrics: &EpochMetrics) -> Flow;
    /// Called once when training ends, with the final state.
    fn finished(&mut self, _trainer: &Trainer<'_, F>, _reason: StopReason) {}
}

/// Prints the post's lines: the initial cost, the cost every `every` epochs, the time taken.
pub struct LogLines<'w> {
    out: &'w mut dyn Write,
    every: usize,
}

impl<'w> LogLines<'w> {
    /// Lines to `out` every `every` epochs (0: only the first).
    pub fn new(out: &'w mut dyn Write, every: usize) -> Self {
        LogLines { out, every }
    }

    /// Where the lines go.
    pub fn out(&mut self) -> &mut dyn Write {
        self.out
    }
}

impl<F: Element> Observer<F> for LogLines<'_> {
    fn epoch_end(&mut self, trainer: &Trainer<'_, F>, m: &EpochMetrics) -> Flow {
        if m.epoch == 0 {
            // The post's lines, in Rust's `{:?}`: the shortest digits that read back, `1.0` for
            // a whole number, an exponent from 10¹⁶ and below 10⁻⁴ (where Python's `print`
            // switches too, writing `7.6e+299` for our `7.6e299`), so that a divergence's last
            // cost is not 300 digits.
            let _ = writeln!(self.out, "Initial cost: {:?}", m.cost);
            let _ = writeln!(self.out, "Starting training");
        } else if self.every > 0 && m.epoch.is_multiple_of(self.every) {
            let _ = write!(self.out, " Epoch: {} , Current cost: {:?}", m.epoch, m.cost);
            write_extra(self.out, m);
            let _ = writeln!(self.out);
        }
        let _ = trainer;
        Flow::Continue
    }

    fn finished(&mut self, trainer: &Trainer<'_, F>, reason: StopReason) {
        // The post's line, but for a run Ctrl-C stopped, whose own line follows.
        let ended = if matches!(reason, StopReason::Interrupted { .. }) { "stopped after" } else { "finished in" };
        let _ = writeln!(self.out, "Training {ended} {:.3} s", trainer.seconds());
        match reason {
            StopReason::EarlyStopping { epoch } => {
                let _ = writeln!(self.out, "Stopped early after epoch {epoch} (no improvement)");
            }
            StopReason::StopBelow { epoch } => {
                let _ = writeln!(self.out, "Stopped after epoch {epoch}: the cost is below stop_below");
            }
            _ => {}
        }
    }
}

fn write_extra(out: &mut dyn Write, m: &EpochMetrics) {
    if let Some(a) = m.accuracy {
        let _ = write!(out, " , accuracy: {a:.4}");
    }
    if let Some(c) = m.val_cost {
        let _ = write!(out, " , val cost: {c:?}");
    }
    if let Some(a) = m.val_accuracy {
        let _ = write!(out, " , val accuracy: {a:.4}");
    }
}

/// An observer that does nothing.
pub struct Silent;

impl<F: Element> Observer<F> for Silent {
    fn epoch_end(&mut self, _: &Trainer<'_, F>, _: &EpochMetrics) -> Flow {
        Flow::Continue
    }
}
