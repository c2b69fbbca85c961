//! What a run measures and hands back: each epoch's [`EpochMetrics`], why it stopped
//! ([`StopReason`]) and the [`TrainOutcome`].

use backprop_layers::Network;
use serde::{Deserialize, Serialize};

/// What one epoch measured. Epoch 0 is the network before training.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// The epoch.
    pub epoch: usize,
    /// Cost over the training set after the epoch's updates.
    pub cost: f64,
    /// Fraction of training samples classified right (classification only).
    pub accuracy: Option<f64>,
    /// Cost over the validation set (when there is one).
    pub val_cost: Option<f64>,
    /// Validation accuracy (classification with a validation set).
    pub val_accuracy: Option<f64>,
    /// The learning rate the epoch's updates used.
    pub lr: f64,
}

/// Why training stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum StopReason {
    /// Every epoch ran.
    Completed,
    /// The cost became NaN or infinite after this epoch; the network holds the weights from
    /// before it. Epoch 0: the starting weights' training cost already was, with a non-finite
    /// value in the network (`layer`), and nothing was trained.
    Diverged {
        /// The epoch whose update made the cost non-finite (0: the initial cost).
        epoch: usize,
        /// Where the first non-finite value appeared: the layer (post numbering, first dense
        /// layer = 1) and which of its values; `None` when every weight and every layer's `z`
        /// and `a` are finite, and the loss itself overflowed.
        layer: Option<(usize, Quantity)>,
    },
    /// The monitored metric stopped improving (`early_stopping`).
    EarlyStopping {
        /// The last epoch run.
        epoch: usize,
    },
    /// The training cost fell below `stop_below`.
    StopBelow {
        /// The epoch that reached it.
        epoch: usize,
    },
    /// An observer asked to stop (Ctrl-C).
    Interrupted {
        /// The last epoch run.
        epoch: usize,
    },
}

impl StopReason {
    /// `completed`, `diverged`, `early_stopping`, `stop_below` or `interrupted`, as
    /// `summary.json` writes it.
    pub fn name(self) -> &'static str {
        match self {
            StopReason::Completed => "completed",
            StopReason::Diverged { .. } => "diverged",
            StopReason::EarlyStopping { .. } => "early_stopping",
            StopReason::StopBelow { .. } => "stop_below",
            StopReason::Interrupted { .. } => "interrupted",
        }
    }
}

/// Which values of a layer went non-finite first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// Its weights or biases.
    Parameters,
    /// Its pre-activations `z`.
    Z,
    /// Its outputs `a`.
    A,
}

impl Quantity {
    /// A short description for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Quantity::Parameters => "weights or biases",
            Quantity::Z => "pre-activations z",
            Quantity::A => "outputs a",
        }
    }
}

/// The result of a training run.
#[derive(Clone, Debug)]
pub struct TrainOutcome<F> {
    /// The trained network (the last good one when training diverged, the best one when early
    /// stopping's `restore_best` restored it: however the run ended, but for a divergence or an
    /// interrupt).
    pub net: Network<F>,
    /// Cost over the training set after each recorded epoch (every epoch up to
    /// [`HISTORY_LIMIT`](super::HISTORY_LIMIT), see there); `costs[0]` is the initial cost, the last the final one.
    pub costs: Vec<f64>,
    /// The recorded epochs' metrics, in order (every epoch up to [`HISTORY_LIMIT`](super::HISTORY_LIMIT), see there);
    /// `history[0]` is epoch 0, the last entry the last epoch.
    pub history: Vec<EpochMetrics>,
    /// The metrics of `net`, the weights handed back: the last epoch's, or when early stopping
    /// restored the best epoch's weights, that epoch's (measured again on them: the same bits).
    pub final_metrics: EpochMetrics,
    /// The lowest training cost after any epoch (epoch 0 included), those the history no longer
    /// holds included.
    pub best_cost: f64,
    /// Why it stopped.
    pub stop_reason: StopReason,
    /// Epochs whose updates were kept.
    pub epochs_run: usize,
    /// Wall time of the epochs, in seconds (across resumed runs).
    pub seconds: f64,
    /// Per-layer diagnostics of every epoch (empty unless enabled; see [`Trainer::diagnostics`](super::Trainer::diagnostics)).
    pub diagnostics: Vec<f64>,
}
