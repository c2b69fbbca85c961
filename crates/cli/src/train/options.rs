//! [`TrainOptions`], how to train beyond the network, data, loss and optimiser, and
//! [`EarlyStopping`] with the [`Monitor`] it watches.

use backprop_optim::schedule::LrScheduleSpec;
use serde::{Deserialize, Serialize};

use super::EpochMetrics;
use crate::config::BatchSize;

/// How to train, beyond the network, the data, the loss and the optimiser.
#[derive(Clone, Debug, Default)]
pub struct TrainOptions {
    /// Passes over the training set.
    pub epochs: usize,
    /// Samples per update.
    pub batch_size: BatchSize,
    /// Log the cost every this many epochs (0: none of them; [`Trainer::run`](super::Trainer::run)'s log still has
    /// the initial cost and the time taken).
    pub log_every: usize,
    /// The learning-rate schedule (none: the optimiser's lr throughout).
    pub schedule: Option<LrScheduleSpec>,
    /// Clip the gradients' global norm (L2, or that of `clip_norm_type`) to this before each step.
    pub clip_norm: Option<f64>,
    /// The p of `clip_norm`'s norm (`inf`: the largest |g|); `None` is 2.
    pub clip_norm_type: Option<f64>,
    /// Clamp every gradient to `[−v, v]` before each step (before `clip_norm`).
    pub clip_value: Option<f64>,
    /// Stop when the monitored metric stops improving.
    pub early_stopping: Option<EarlyStopping>,
    /// Stop once the training cost is below this.
    pub stop_below: Option<f64>,
    /// Whether targets are classes: accuracy is then measured, and early stopping may monitor
    /// it ([`Trainer::try_new`](super::Trainer::try_new) refuses an accuracy to monitor
    /// without).
    pub classification: bool,
    /// Record per-layer diagnostics every epoch (see [`DIAGNOSTICS`](super::DIAGNOSTICS)).
    pub diagnostics: bool,
    /// The most epochs whose metrics the history keeps before it thins (`None`:
    /// [`HISTORY_LIMIT`](super::HISTORY_LIMIT); see there).
    pub history_limit: Option<usize>,
}

impl TrainOptions {
    /// The options a config's `[train]` and `[optim]` tables give. `classification` is false:
    /// the data says it, not the config ([`experiment::train_options`](crate::experiment::train_options)
    /// sets it from the data, as `backprop train` does).
    pub fn from_config(cfg: &crate::config::Config) -> Self {
        TrainOptions {
            epochs: cfg.train.epochs,
            batch_size: cfg.train.batch_size,
            log_every: cfg.train.log_every,
            schedule: cfg.optim.schedule.clone(),
            clip_norm: cfg.optim.clip_norm,
            clip_norm_type: cfg.optim.clip_norm_type,
            clip_value: cfg.optim.clip_value,
            early_stopping: cfg.train.early_stopping.clone(),
            stop_below: cfg.train.stop_below,
            classification: false,
            diagnostics: cfg.train.diagnostics,
            history_limit: None,
        }
    }
}

/// `[train] early_stopping = { monitor = "val_cost", patience = 10, min_delta = 0.0,
/// restore_best = true }` (Keras's `EarlyStopping`: its rule, and its names as aliases:
/// `restore_best_weights`, monitor `"loss"`/`"val_loss"`; the defaults differ, see the fields).
///
/// After every epoch the monitored metric is compared with the best so far; an improvement of
/// more than `min_delta` (lower for costs, higher for accuracies) resets the count, anything else
/// adds one, and `patience` epochs without improvement stop the run. With `restore_best` the
/// network ends with the weights of the best epoch, however the run ends (early stopping, every
/// epoch run, `stop_below`), as Keras 3's `on_train_end` restores them; but not after a
/// divergence (the last good weights) or an interrupt (the last epoch's, which `--resume` goes
/// on from).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EarlyStopping {
    /// `cost`, `accuracy`, `val_cost` (default) or `val_accuracy`.
    pub monitor: Monitor,
    /// Epochs without improvement before stopping (default 10; Keras's is 0).
    pub patience: usize,
    /// The smallest change that counts as an improvement (default 0).
    pub min_delta: f64,
    /// End with the best epoch's weights (default true; Keras's `restore_best_weights`, whose
    /// default is false, names it too).
    #[serde(alias = "restore_best_weights")]
    pub restore_best: bool,
}

impl Default for EarlyStopping {
    fn default() -> Self {
        EarlyStopping { monitor: Monitor::ValCost, patience: 10, min_delta: 0.0, restore_best: true }
    }
}

/// A metric early stopping can watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Monitor {
    /// Training cost (lower is better); Keras's `"loss"` names it too.
    #[serde(alias = "loss")]
    Cost,
    /// Training accuracy (higher is better).
    Accuracy,
    /// Validation cost (lower is better); Keras's `"val_loss"` names it too.
    #[serde(alias = "val_loss")]
    ValCost,
    /// Validation accuracy (higher is better).
    ValAccuracy,
}

impl Monitor {
    /// The metric's value in `m`, if measured.
    pub fn value(self, m: &EpochMetrics) -> Option<f64> {
        match self {
            Monitor::Cost => Some(m.cost),
            Monitor::Accuracy => m.accuracy,
            Monitor::ValCost => m.val_cost,
            Monitor::ValAccuracy => m.val_accuracy,
        }
    }
    /// Whether higher is better.
    pub fn maximise(self) -> bool {
        matches!(self, Monitor::Accuracy | Monitor::ValAccuracy)
    }
    /// Its name in configs and `metrics.csv`.
    pub fn name(self) -> &'static str {
        match self {
            Monitor::Cost => "cost",
            Monitor::Accuracy => "accuracy",
            Monitor::ValCost => "val_cost",
            Monitor::ValAccuracy => "val_accuracy",
        }
    }
}
