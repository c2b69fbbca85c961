use backprop_tensor::spec::positive;
use backprop_tensor::{SpecError, Validate};
use serde::{Deserialize, Serialize};

use super::{Schedule, ScheduleState};
use crate::non_negative;

/// lr·factor after more than `patience` epochs without improvement.
///
/// `reduce_on_plateau`: cut the lr when the monitored cost stops improving (PyTorch
/// `torch.optim.lr_scheduler.ReduceLROnPlateau`).
///
/// After each epoch, with cost c and `best` the best cost so far (+∞ at the start in `min` mode,
/// −∞ in `max` mode):
///
/// ```text
/// better(c) =  c < best·(1 − threshold)   min, rel      c > best·(1 + threshold)   max, rel
///              c < best − threshold       min, abs      c > best + threshold       max, abs
/// if better(c): best ← c, bad ← 0   else: bad ← bad + 1
/// if cooldown_counter > 0: cooldown_counter ← cooldown_counter − 1, bad ← 0
/// if bad > patience:
///     new = max(lr·factor, min_lr);  if lr − new > eps: lr ← new
///     cooldown_counter ← cooldown, bad ← 0
/// ```
///
/// Parameters and defaults (PyTorch's): `mode` "min", `factor` 0.1, `patience` 10, `threshold`
/// 1e-4, `threshold_mode` "rel", `cooldown` 0, `min_lr` 0, `eps` 1e-8. The monitored value is
/// whatever the trainer passes to [`LrScheduler::step`](super::LrScheduler::step): the epoch's
/// cost (use `mode = "max"` for a score that should grow).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReduceLrOnPlateau {
    /// Whether the monitored value should fall (`"min"`, default) or rise (`"max"`).
    pub mode: PlateauMode,
    /// Factor the lr is multiplied by, in [0, 1) (default 0.1).
    pub factor: f64,
    /// Epochs without improvement tolerated before a cut (default 10).
    pub patience: u64,
    /// Least change that counts as an improvement (default 1e-4).
    pub threshold: f64,
    /// Whether `threshold` is relative to the best value (`"rel"`, default) or absolute (`"abs"`).
    pub threshold_mode: ThresholdMode,
    /// Epochs after a cut during which bad epochs are not counted (default 0).
    pub cooldown: u64,
    /// The lr is never cut below this (default 0).
    pub min_lr: f64,
    /// A cut smaller than this is skipped (default 1e-8).
    pub eps: f64,
}

/// Which way the monitored value should go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlateauMode {
    /// Lower is better (a cost).
    #[default]
    Min,
    /// Higher is better (an accuracy).
    Max,
}

/// How `threshold` is measured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThresholdMode {
    /// As a fraction of the best value.
    #[default]
    Rel,
    /// In the monitored value's own units.
    Abs,
}

impl Default for ReduceLrOnPlateau {
    fn default() -> Self {
        ReduceLrOnPlateau {
            mode: PlateauMode::Min,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: 0.0,
            eps: 1e-8,
        }
    }
}

impl Validate for ReduceLrOnPlateau {
    fn validate(&self) -> Result<(), SpecError> {
        if !(self.factor.is_finite() && (0.0..1.0).contains(&self.factor)) {
            return Err(SpecError::new("factor", format!("must be in [0, 1), got {}", self.factor)));
        }
        non_negative("threshold", self.threshold)?;
        non_negative("min_lr", self.min_lr)?;
        positive("eps", self.eps)
    }
}

impl ReduceLrOnPlateau {
    /// PyTorch's `_is_better`.
    fn is_better(&self, value: f64, best: f64) -> bool {
        match (self.mode, self.threshold_mode) {
            (PlateauMode::Min, ThresholdMode::Rel) => value < best * (1.0 - self.threshold),
            (PlateauMode::Min, ThresholdMode::Abs) => value < best - self.threshold,
            (PlateauMode::Max, ThresholdMode::Rel) => value > best * (self.threshold + 1.0),
            (PlateauMode::Max, ThresholdMode::Abs) => value > best + self.threshold,
        }
    }
}

impl Schedule for ReduceLrOnPlateau {
    fn step(&self, state: &mut ScheduleState, _base_lr: f64, monitored_cost: Option<f64>) {
        let Some(monitored_cost) = monitored_cost else { return };
        let worst = match self.mode {
            PlateauMode::Min => f64::INFINITY,
            PlateauMode::Max => f64::NEG_INFINITY,
        };
        if self.is_better(monitored_cost, state.best.unwrap_or(worst)) {
            state.best = Some(monitored_cost);
            state.num_bad_epochs = 0;
        } else {
            state.num_bad_epochs += 1;
        }
        if state.cooldown_counter > 0 {
            state.cooldown_counter -= 1;
            state.num_bad_epochs = 0;
        }
        if state.num_bad_epochs > self.patience {
            let new_lr = (state.lr * self.factor).max(self.min_lr);
            if state.lr - new_lr > self.eps {
                state.lr = new_lr;
            }
            state.cooldown_counter = self.cooldown;
            state.num_bad_epochs = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_after_patience_bad_epochs_then_cools_down() {
        let plateau = ReduceLrOnPlateau { patience: 1, cooldown: 1, factor: 0.5, ..ReduceLrOnPlateau::default() };
        let mut state = ScheduleState::new(1.0);
        let mut lrs = Vec::new();
        // 3 is best; 3, 3 are two bad epochs (> patience 1): cut; the next is in cool-down.
        for cost in [3.0, 3.0, 3.0, 3.0, 3.0, 3.0] {
            state.epoch += 1;
            plateau.step(&mut state, 1.0, Some(cost));
            lrs.push(state.lr);
        }
        assert_eq!(lrs, [1.0, 1.0, 0.5, 0.5, 0.5, 0.25]);
    }

    #[test]
    fn factor_must_be_below_one() {
        assert_eq!(ReduceLrOnPlateau { factor: 1.0, ..Default::default() }.validate().unwrap_err().key, "factor");
    }
}
