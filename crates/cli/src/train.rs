//! The training loop: epochs of forward, loss, backward and step, with no allocation once warm.
//!
//! Every buffer (workspace, gradients, optimiser state, the batch copy, the cost history) is
//! allocated before the first epoch. The cost recorded for epoch `e` is the cost over the whole
//! training set *after* epoch `e`'s updates (epoch 0: the initial cost), as the post prints it.
//! With full-batch training that evaluation is the next epoch's forward pass, so it costs nothing.

use std::io::Write;
use std::time::Instant;

use backprop_data::Dataset;
use backprop_layers::{Mode, Network, Workspace};
use backprop_loss::Loss;
use backprop_optim::schedule::{LrScheduleSpec, LrScheduler};
use backprop_optim::{Optimizer, clip_grad_norm, clip_grad_value};
use backprop_tensor::rng::SeededRng;
use backprop_tensor::{Element, MatView, Matrix, Validate, linalg};
use ndarray::s;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::config::BatchSize;

/// Whether `loss` absorbs the output activation of `net` (see `Loss::absorbs`): then the loss
/// reads `zᴸ` and writes `δᴸ`.
pub fn fused<F: Element>(loss: &dyn Loss<F>, net: &Network<F>) -> bool {
    loss.absorbs().is_some_and(|act| net.layers().last().is_some_and(|l| l.activation.name() == act))
}

/// Forward pass of `x` in evaluation mode and the cost against `t`.
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
fn rows_like_output<'t, F: Element>(t: MatView<'t, F>, n: usize, ws: &Workspace<F>) -> Option<&'t [F]> {
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

/// How to train, beyond the network, the data, the loss and the optimiser.
#[derive(Clone, Debug, Default)]
pub struct TrainOptions {
    /// Passes over the training set.
    pub epochs: usize,
    /// Samples per update.
    pub batch_size: BatchSize,
    /// Log the cost every this many epochs (0: none of them; [`Trainer::run`]'s log still has
    /// the initial cost and the time taken).
    pub log_every: usize,
    /// The learning-rate schedule (none: the optimiser's lr throughout).
    pub schedule: Option<LrScheduleSpec>,
    /// Clip the gradients' global L2 norm to this before each step.
    pub clip_norm: Option<f64>,
    /// Clamp every gradient to `[−v, v]` before each step (before `clip_norm`).
    pub clip_value: Option<f64>,
    /// Stop when the monitored metric stops improving.
    pub early_stopping: Option<EarlyStopping>,
    /// Stop once the training cost is below this.
    pub stop_below: Option<f64>,
    /// Whether targets are classes (accuracy is then measured).
    pub classification: bool,
    /// Record per-layer diagnostics every epoch (see [`DIAGNOSTICS`]).
    pub diagnostics: bool,
    /// The most epochs whose metrics the history keeps before it thins (`None`:
    /// [`HISTORY_LIMIT`]; see there).
    pub history_limit: Option<usize>,
}

/// The most epochs whose metrics (and diagnostics) a run keeps by default: 262,144, about 19 MB
/// of history, a `metrics.csv` of about 10 MB. A run of up to this many epochs records every
/// epoch. A longer one, when its history would pass the limit, keeps only every second of the
/// epochs recorded so far, then records every second epoch, and so on, doubling the stride each
/// time: it keeps epochs 0, s, 2s, … for a power of two s (between half the limit and the limit
/// of them), and always the last epoch. So memory, `metrics.csv` and checkpoints stay bounded
/// for a cap of any size (a huge `train.epochs` meant to be cut short by `stop_below` once took
/// 70 bytes an epoch until the machine ran out), as TensorBoard keeps a sample of a long
/// series' points.
pub const HISTORY_LIMIT: usize = 1 << 18;

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

impl TrainOptions {
    /// The options a config's `[train]` and `[optim]` tables give.
    pub fn from_config(cfg: &crate::config::Config) -> Self {
        TrainOptions {
            epochs: cfg.train.epochs,
            batch_size: cfg.train.batch_size,
            log_every: cfg.train.log_every,
            schedule: cfg.optim.schedule.clone(),
            clip_norm: cfg.optim.clip_norm,
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
/// network ends with the weights of the best epoch.
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
    /// before it.
    Diverged {
        /// The epoch whose update made the cost non-finite.
        epoch: usize,
        /// Where the first non-finite value appeared: the layer (post numbering, first dense
        /// layer = 1) and which of its values.
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
            let _ = writeln!(self.out, "Initial cost: {}", m.cost);
            let _ = writeln!(self.out, "Starting training");
        } else if self.every > 0 && m.epoch % self.every == 0 {
            let _ = write!(self.out, " Epoch: {} , Current cost: {}", m.epoch, m.cost);
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
        let _ = write!(out, " , val cost: {c}");
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

/// The result of a training run.
#[derive(Clone, Debug)]
pub struct TrainOutcome<F> {
    /// The trained network (the last good one when training diverged, the best one when early
    /// stopping restored it).
    pub net: Network<F>,
    /// Cost over the training set after each recorded epoch (every epoch up to
    /// [`HISTORY_LIMIT`], see there); `costs[0]` is the initial cost, the last the final one.
    pub costs: Vec<f64>,
    /// The recorded epochs' metrics, in order (every epoch up to [`HISTORY_LIMIT`], see there);
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
    /// Per-layer diagnostics of every epoch (empty unless enabled; see [`Trainer::diagnostics`]).
    pub diagnostics: Vec<f64>,
}

/// The state of the ChaCha stream: seed, stream and position.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RngState {
    seed: [u8; 32],
    stream: u64,
    word_pos_hi: u64,
    word_pos_lo: u64,
}

impl RngState {
    /// The position of `rng`.
    pub fn of(rng: &SeededRng) -> Self {
        let pos = rng.get_word_pos();
        RngState {
            seed: rng.get_seed(),
            stream: rng.get_stream(),
            word_pos_hi: (pos >> 64) as u64,
            word_pos_lo: pos as u64,
        }
    }
    /// A stream at this position.
    pub fn restore(&self) -> SeededRng {
        let mut rng = SeededRng::from_seed(self.seed);
        rng.set_stream(self.stream);
        rng.set_word_pos((u128::from(self.word_pos_hi) << 64) | u128::from(self.word_pos_lo));
        rng
    }
}

/// Everything needed to continue a run so that it ends bit for bit where an uninterrupted run
/// would: parameters, optimiser state, step count, schedule, RNG position, early-stopping
/// bookkeeping and the metrics so far. Values are stored as `f64` (exact for `f32` too).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    /// Epochs completed.
    pub epoch: usize,
    /// Optimiser steps taken.
    pub step: u64,
    /// The parameters.
    pub params: Vec<f64>,
    /// The optimiser's state buffer.
    pub optimizer_state: Vec<f64>,
    /// The learning-rate schedule.
    pub scheduler: LrScheduler,
    /// The shuffle/dropout stream.
    pub rng: RngState,
    /// The recorded epochs' metrics so far: epochs 0, s, 2s, … with s = `history_stride`, and
    /// the last epoch (see [`HISTORY_LIMIT`]).
    pub history: Vec<EpochMetrics>,
    /// The stride of `history` (a power of two; 1 until a run's history first thins).
    #[serde(default = "stride_one")]
    pub history_stride: usize,
    /// The lowest training cost of the epochs the history no longer holds (none until it thins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinned_best_cost: Option<f64>,
    /// Early stopping: the best monitored value, its epoch, its parameters, and the epochs since.
    pub best: Option<(f64, usize)>,
    /// The learning rate of the best epoch's updates (none in an older version's checkpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_lr: Option<f64>,
    /// The best epoch's parameters (with `restore_best`).
    pub best_params: Vec<f64>,
    /// Epochs without improvement.
    pub bad_epochs: usize,
    /// Seconds spent so far.
    pub seconds: f64,
    /// Diagnostics of the epochs of `history` (flat, see [`Trainer::diagnostics`]).
    #[serde(default)]
    pub diagnostics: Vec<f64>,
    /// The training data's [`data_hash`](crate::model_file::data_hash), when the writer noted
    /// it (`backprop train` does): `--resume` refuses other data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_hash: Option<String>,
    /// [`text_hash`](crate::model_file::text_hash) of the resolved config the run was under,
    /// but for `model.init_from` (a resumed run does not need it) and `train.epochs`,
    /// `log_every` and `checkpoint_every` (a resumed run may change them), when the writer noted
    /// it (`backprop train` does): `--resume` refuses a checkpoint from another config, left by
    /// an earlier run into the same directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_hash: Option<String>,
}

fn stride_one() -> usize {
    1
}

/// Panics, naming `which` data, when `data`'s features or targets are not `net`'s inputs and
/// outputs.
fn fits<F: Element>(which: &str, net: &Network<F>, data: &Dataset<F>) {
    assert!(
        data.features() == net.inputs() && data.outputs() == net.outputs(),
        "Trainer: the {which} data has {} features and {} targets, the network {} inputs and {} outputs",
        data.features(),
        data.outputs(),
        net.inputs(),
        net.outputs()
    );
}

/// The most epochs whose history (and diagnostics) a trainer reserves up front: 65,536, about
/// 5 MB of history. A longer run's history grows past it by doubling, a few allocations in a
/// whole run; reserving all of `train.epochs` would take gigabytes before the first epoch for
/// a large cap meant to be cut short by early stopping or `stop_below`, and overflow for a
/// huge one.
pub const RESERVED_EPOCHS: usize = 1 << 16;

/// Entries to reserve for a run of `epochs` epochs (epoch 0 included).
fn reserved_epochs(epochs: usize) -> usize {
    epochs.saturating_add(1).min(RESERVED_EPOCHS)
}

/// What [`Trainer::lean_epoch`] takes as decided.
#[derive(Clone, Copy)]
struct Lean<'d, F> {
    /// The training targets, row-major.
    targets: &'d [F],
    /// Whether the loss absorbs the output activation ([`fused`]).
    fused: bool,
    /// [`decision_threshold`], for accuracy.
    threshold: F,
}

/// Everything one training run needs in memory, allocated once.
///
/// The loss and the optimiser are trait objects: the registries' components
/// (`LossSpec::get`, `OptimizerSpec::get`) or any type of your own that implements
/// [`Loss`] or [`Optimizer`].
pub struct Trainer<'d, F: Element> {
    net: Network<F>,
    data: &'d Dataset<F>,
    validation: Option<&'d Dataset<F>>,
    loss: &'d dyn Loss<F>,
    optimizer: &'d dyn Optimizer<F>,
    opts: TrainOptions,
    ws: Workspace<F>,
    /// Whether `ws` holds the forward pass of the whole training set (full batch).
    ws_holds_train: bool,
    /// Whether the network has dropout (asked once: the layers do not change while training).
    dropout: bool,
    grads: Vec<F>,
    state: Vec<F>,
    batch_x: Matrix<F>,
    batch_t: Matrix<F>,
    order: Vec<usize>,
    step: u64,
    epoch: usize,
    scheduler: LrScheduler,
    /// The recorded epochs: 0, `stride`, 2·`stride`, … (see [`HISTORY_LIMIT`]).
    history: Vec<EpochMetrics>,
    /// A power of two.
    stride: usize,
    /// The last epoch's metrics when it is not on the stride: pushed when the run ends.
    pending: Option<EpochMetrics>,
    /// [`TrainOptions::history_limit`] resolved.
    history_limit: usize,
    /// The lowest training cost of the epochs thinned out of the history (or replaced as
    /// `pending`): with the history's, the run's best.
    thinned_best_cost: Option<f64>,
    /// Epochs below this are recorded by a plain push: the stride is 1 (every epoch recorded, so
    /// the history holds `epoch` entries before epoch `epoch` is pushed) and the history is below
    /// its limit. The limit while the stride is 1, else 0.
    fast_until: usize,
    last_good: Vec<F>,
    best: Option<(f64, usize)>,
    /// The learning rate the best epoch's updates used: its metrics' `lr` when the weights are
    /// restored, whether or not the thinned history still holds that epoch.
    best_lr: Option<f64>,
    best_params: Vec<F>,
    bad_epochs: usize,
    /// Seconds of earlier `run_with` segments (and of a restored run).
    seconds: f64,
    /// When the `run_with` in progress started (the clock is read once per segment, not per
    /// epoch: two clock reads per epoch were 8% of W1).
    segment_start: Option<Instant>,
    /// The run's stream as it stood after the last epoch (for checkpoints). A copy of the
    /// generator, not an [`RngState`]: reading the seed, stream and word position every epoch was
    /// 2.7% of W1, a copy is a few stores.
    rng_after_epoch: Option<SeededRng>,
    /// Diagnostics history, `DIAGNOSTICS.len()` values per layer for each epoch of `history`,
    /// then of `pending`.
    diagnostics: Vec<f64>,
    /// The parameters at the start of the epoch (for the update ratio; empty without diagnostics).
    epoch_start: Vec<F>,
}

impl<'d, F: Element> Trainer<'d, F> {
    /// Buffers for training `net` on `data` with `loss` and `optimizer`.
    ///
    /// # Panics
    /// When `net` has no layers, `data` has no samples, or its features or targets are not the
    /// network's inputs and outputs; when `opts` asks for batches of 0 samples, or clips to a
    /// bound that is not a finite number above 0; when the loss, the optimiser or `opts`'s
    /// schedule fails its [`Validate`] check (an Adam with `lr = -1`,
    /// the message names the key as a config would, `optim.lr`): the preconditions `backprop
    /// train` checks first and reports as errors naming the config's keys. (Without them the run
    /// would measure a cost of 0 on no samples and report success, fail deep in a product, train
    /// on a zero gradient, or climb the cost.)
    pub fn new(
        net: Network<F>,
        data: &'d Dataset<F>,
        loss: &'d dyn Loss<F>,
        optimizer: &'d dyn Optimizer<F>,
        opts: TrainOptions,
    ) -> Self {
        assert!(!net.layers().is_empty(), "Trainer::new: the network has no layers");
        assert!(!data.is_empty(), "Trainer::new: the training data has no samples");
        fits("training", &net, data);
        assert!(opts.batch_size != BatchSize::Size(0), "Trainer::new: a batch size of 0 samples");
        for (name, bound) in [("clip_norm", opts.clip_norm), ("clip_value", opts.clip_value)] {
            assert!(
                bound.is_none_or(|v| v.is_finite() && v > 0.0),
                "Trainer::new: {name} must be a finite number above 0, got {bound:?}"
            );
        }
        let checks = [
            loss.validate().map_err(|e| e.within("loss")),
            optimizer.validate().map_err(|e| e.within("optim")),
            opts.schedule.as_ref().map_or(Ok(()), |s| s.validate().map_err(|e| e.within("optim.schedule"))),
        ];
        if let Some(Err(e)) = checks.into_iter().find(Result::is_err) {
            panic!("Trainer::new: {e}");
        }
        let rows = opts.batch_size.rows(data.len()).max(1);
        let ws = Workspace::new(&net, rows);
        let n = net.params().len();
        let state = vec![F::zero(); optimizer.state_len(n)];
        let full = rows == data.len();
        let (batch_x, batch_t) = if full {
            (Matrix::zeros((0, data.features())), Matrix::zeros((0, data.outputs())))
        } else {
            (Matrix::zeros((rows, data.features())), Matrix::zeros((rows, data.outputs())))
        };
        let keep_best = opts.early_stopping.as_ref().is_some_and(|e| e.restore_best);
        let layers = net.layers().len();
        let dropout = net.has_dropout();
        Trainer {
            last_good: net.params().to_vec(),
            best_params: if keep_best { net.params().to_vec() } else { Vec::new() },
            net,
            data,
            validation: None,
            loss,
            optimizer,
            ws,
            ws_holds_train: false,
            dropout,
            grads: vec![F::zero(); n],
            state,
            batch_x,
            batch_t,
            order: (0..data.len()).collect(),
            step: 0,
            epoch: 0,
            scheduler: LrScheduler::new(optimizer.lr(), opts.schedule.as_ref()),
            history: Vec::with_capacity(reserved_epochs(opts.epochs)),
            stride: 1,
            pending: None,
            thinned_best_cost: None,
            history_limit: opts.history_limit.unwrap_or(HISTORY_LIMIT).max(2),
            fast_until: opts.history_limit.unwrap_or(HISTORY_LIMIT).max(2),
            best: None,
            best_lr: None,
            bad_epochs: 0,
            seconds: 0.0,
            segment_start: None,
            rng_after_epoch: None,
            diagnostics: if opts.diagnostics {
                Vec::with_capacity(reserved_epochs(opts.epochs) * layers * DIAGNOSTICS.len())
            } else {
                Vec::new()
            },
            epoch_start: if opts.diagnostics { vec![F::zero(); n] } else { Vec::new() },
            opts,
        }
    }

    /// Measures a validation set after every epoch too.
    ///
    /// # Panics
    /// When `validation` has no samples, or its features or targets are not the network's
    /// inputs and outputs.
    pub fn with_validation(mut self, validation: &'d Dataset<F>) -> Self {
        assert!(!validation.is_empty(), "Trainer::with_validation: the validation data has no samples");
        fits("validation", &self.net, validation);
        self.validation = Some(validation);
        self
    }

    /// The learning rate of the coming epoch.
    pub fn lr(&self) -> f64 {
        self.scheduler.lr()
    }

    /// Ends an epoch whose monitored cost was `cost`: steps the schedule. (`run` does this after
    /// every epoch.)
    pub fn end_epoch(&mut self, cost: f64) {
        self.scheduler.step(cost);
    }

    /// The network as it stands.
    pub fn network(&self) -> &Network<F> {
        &self.net
    }

    /// Epochs completed by [`run`](Self::run)/[`run_with`](Self::run_with) (or restored from a
    /// checkpoint); a loop of one's own calling [`epoch`](Self::epoch) counts its own.
    pub fn epochs_done(&self) -> usize {
        self.epoch
    }

    /// The training data.
    pub fn data(&self) -> &'d Dataset<F> {
        self.data
    }

    /// Wall-clock seconds spent training so far (in `run`/`run_with`, observers included).
    pub fn seconds(&self) -> f64 {
        self.seconds + self.segment_start.map_or(0.0, |t| t.elapsed().as_secs_f64())
    }

    /// The recorded epochs' metrics so far (every epoch up to [`HISTORY_LIMIT`], see there; the
    /// last epoch may be recorded only when the run ends).
    pub fn history(&self) -> &[EpochMetrics] {
        &self.history
    }

    fn full_batch(&self) -> bool {
        self.ws.capacity() == self.data.len()
    }

    /// The mean cost over the whole training set, by chunks of the workspace's size. With
    /// full-batch training this leaves the workspace holding the forward pass of the whole set.
    pub fn evaluate(&mut self) -> f64 {
        let data = self.data;
        let (cost, _) = self.measure(data);
        self.ws_holds_train = self.full_batch();
        cost
    }

    /// The [`decision_threshold`] for accuracy, when accuracy is measured (its two string
    /// comparisons were 0.8% of W1 when taken regardless).
    fn threshold(&self) -> F {
        if self.opts.classification { decision_threshold(self.loss, &self.net) } else { F::zero() }
    }

    /// Mean cost (and accuracy, for classification) of the network on `data`: in one pass when
    /// it fits the workspace, else a workspace's rows at a time, each part's mean weighted by its
    /// rows (within rounding of one pass over all of it, which `run::evaluate` makes).
    fn measure(&mut self, data: &Dataset<F>) -> (f64, Option<f64>) {
        self.ws_holds_train = false;
        let (n, chunk) = (data.len(), self.ws.capacity());
        let loss = self.loss;
        let threshold = self.threshold();
        if n > 0 && n <= chunk {
            // One pass (full batch): the loop below with its one weight, n/n = 1, left out.
            let (x, t) = (data.inputs.view(), data.targets.view());
            let cost = forward_cost(&self.net, loss, x, t, &mut self.ws).f64();
            let right = self.opts.classification.then(|| count_right(self.ws.output(n), t, threshold));
            return (cost, right.map(|r| r as f64 / n as f64));
        }
        let (mut total, mut right) = (0.0, 0usize);
        for start in (0..n).step_by(chunk) {
            let end = (start + chunk).min(n);
            let (x, t) = if start == 0 && end == n {
                (data.inputs.view(), data.targets.view())
            } else {
                (data.inputs.slice(s![start..end, ..]), data.targets.slice(s![start..end, ..]))
            };
            let cost = forward_cost(&self.net, loss, x, t, &mut self.ws);
            total += cost.f64() * ((end - start) as f64 / n as f64);
            if self.opts.classification {
                right += count_right(self.ws.output(end - start), t, threshold);
            }
        }
        (total, self.opts.classification.then(|| right as f64 / n.max(1) as f64))
    }

    /// One update on rows `x`, `t` (already forward-passed when `forwarded`; never so with
    /// dropout, whose training pass differs from the evaluation pass).
    fn update(&mut self, x: MatView<'_, F>, t: MatView<'_, F>, rng: &mut SeededRng, forwarded: bool) {
        let loss = self.loss;
        if !forwarded {
            let mode = if self.dropout { Mode::Train(rng) } else { Mode::Eval };
            forward_cost_mode(&self.net, loss, x, t, &mut self.ws, mode);
        }
        backward_from_loss(&self.net, loss, x, t, &mut self.ws, &mut self.grads);
        if let Some(v) = self.opts.clip_value {
            clip_grad_value(&mut self.grads, v);
        }
        if let Some(max_norm) = self.opts.clip_norm {
            clip_grad_norm(&mut self.grads, max_norm);
        }
        self.step += 1;
        let optimizer = self.optimizer;
        let lr = F::of(self.scheduler.lr());
        optimizer.step(self.net.params_mut(), &self.grads, &mut self.state, self.step, lr);
        self.ws_holds_train = false;
    }

    /// One epoch of updates (shuffled mini-batches, or one full-batch step).
    pub fn epoch(&mut self, rng: &mut SeededRng) {
        let data = self.data;
        if self.full_batch() {
            let forwarded = self.ws_holds_train && !self.dropout;
            self.update(data.inputs.view(), data.targets.view(), rng, forwarded);
            return;
        }
        // Each epoch's order is a function of the stream alone (not of the last epoch's order),
        // so a resumed run shuffles exactly as an uninterrupted one.
        for (i, k) in self.order.iter_mut().enumerate() {
            *k = i;
        }
        self.order.shuffle(rng);
        let rows = self.ws.capacity();
        for start in (0..data.len()).step_by(rows) {
            let end = (start + rows).min(data.len());
            let n = end - start;
            for (i, &k) in self.order[start..end].iter().enumerate() {
                self.batch_x.row_mut(i).assign(&data.inputs.row(k));
                self.batch_t.row_mut(i).assign(&data.targets.row(k));
            }
            let (bx, bt) = (std::mem::take(&mut self.batch_x), std::mem::take(&mut self.batch_t));
            self.update(bx.slice(s![..n, ..]), bt.slice(s![..n, ..]), rng, false);
            (self.batch_x, self.batch_t) = (bx, bt);
        }
    }

    /// Every metric of the network as it stands, for `epoch`, with its diagnostics recorded.
    fn metrics(&mut self, epoch: usize, lr: f64) -> EpochMetrics {
        let m = self.measured(epoch, lr);
        self.ws_holds_train = self.full_batch();
        if self.opts.diagnostics {
            self.record_diagnostics(epoch);
        }
        m
    }

    /// The network's costs and accuracies as it stands, labelled `epoch` and `lr`. Measures the
    /// validation set first, so that the training set's forward pass is what the workspace holds
    /// after.
    fn measured(&mut self, epoch: usize, lr: f64) -> EpochMetrics {
        let (val_cost, val_accuracy) = match self.validation {
            Some(v) => {
                let (c, a) = self.measure(v);
                (Some(c), a)
            }
            None => (None, None),
        };
        let data = self.data;
        let (cost, accuracy) = self.measure(data);
        EpochMetrics { epoch, cost, accuracy, val_cost, val_accuracy, lr }
    }

    /// Appends this epoch's [`DIAGNOSTICS`] for every layer (the workspace holds the last
    /// evaluated training batch).
    fn record_diagnostics(&mut self, epoch: usize) {
        let params = self.net.params();
        for (l, layer) in self.net.layers().iter().enumerate() {
            let ranges = [layer.w_range(), layer.b_range()];
            let norm = |v: &[F], d: Option<&[F]>| -> f64 {
                ranges
                    .iter()
                    .flat_map(|r| r.clone())
                    .map(|i| {
                        let x = v[i].f64() - d.map_or(0.0, |d| d[i].f64());
                        x * x
                    })
                    .sum::<f64>()
                    .sqrt()
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
    fn diagnostics_per_epoch(&self) -> usize {
        if self.opts.diagnostics { self.net.layers().len() * DIAGNOSTICS.len() } else { 0 }
    }

    /// Records epoch `m` (whose diagnostics were just appended) in the history when it is on the
    /// stride, else keeps it as `pending` until the next epoch replaces it or the run ends; thins
    /// the history when it passes the limit ([`HISTORY_LIMIT`]). The common case, every epoch
    /// recorded, is one comparison and a push (three conditions in its place were 0.5% of W1's
    /// instructions).
    #[inline(always)]
    fn record(&mut self, m: &EpochMetrics) {
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
    fn best_cost(&self) -> f64 {
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
            if self.history[k].epoch % stride == 0 || k == last {
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

    /// The diagnostics history: for each recorded epoch (0 first; see [`history`](Self::history)),
    /// for each layer, the [`DIAGNOSTICS`] values. Empty unless `diagnostics` is on.
    pub fn diagnostics(&self) -> &[f64] {
        &self.diagnostics
    }

    /// Runs every epoch, logging the post's lines to `log`.
    pub fn run(self, rng: &mut SeededRng, log: &mut dyn Write) -> TrainOutcome<F> {
        let every = self.opts.log_every;
        self.run_with(rng, &mut LogLines::new(log, every))
    }

    /// Runs the remaining epochs (all of them, or those after a restored state), calling
    /// `observer` after each, and hands back the network and its history.
    ///
    /// # Panics
    /// When early stopping monitors a validation metric and no validation set was given
    /// ([`with_validation`](Self::with_validation)): it would never stop.
    pub fn run_with(mut self, rng: &mut SeededRng, observer: &mut dyn Observer<F>) -> TrainOutcome<F> {
        if let Some(es) = &self.opts.early_stopping {
            assert!(
                self.validation.is_some() || !matches!(es.monitor, Monitor::ValCost | Monitor::ValAccuracy),
                "Trainer: early stopping monitors `{}`, and no validation set was given (with_validation)",
                es.monitor.name()
            );
        }
        self.rng_after_epoch = Some(rng.clone());
        self.segment_start = Some(Instant::now());
        if self.history.is_empty() {
            let m = self.metrics(0, self.scheduler.lr());
            self.history.push(m);
            if observer.epoch_end(&self, &m) == Flow::Interrupt {
                return self.finish(StopReason::Interrupted { epoch: 0 }, observer);
            }
        }
        // Large products split over two threads; keep the second awake between them.
        let stop = if self.net.wants_warm_threads(self.ws.capacity()) {
            linalg::with_warm_threads(|| self.epochs(rng, observer))
        } else {
            self.epochs(rng, observer)
        };
        self.finish(stop, observer)
    }

    /// The epochs from `self.epoch + 1` to the last, or to the first reason to stop.
    fn epochs(&mut self, rng: &mut SeededRng, observer: &mut dyn Observer<F>) -> StopReason {
        let mut stop = StopReason::Completed;
        let lean = self.lean();
        while self.epoch < self.opts.epochs {
            let epoch = self.epoch + 1;
            let lr = self.scheduler.lr();
            if self.opts.diagnostics {
                self.epoch_start.copy_from_slice(self.net.params());
            }
            let m = match lean {
                Some(lean) => self.lean_epoch(lean, epoch, lr),
                None => {
                    // A full-batch epoch without dropout draws nothing from the stream: no copy then.
                    let draws = !self.full_batch() || self.dropout;
                    self.epoch(rng);
                    if let Some(kept) = &mut self.rng_after_epoch {
                        if draws {
                            kept.clone_from(rng);
                        }
                        debug_assert!(kept == rng, "an epoch drew from the stream unexpectedly");
                    }
                    self.metrics(epoch, lr)
                }
            };
            // The weights too: relu(NaN) = 0 can keep the cost finite over NaN weights.
            if !m.cost.is_finite() || m.val_cost.is_some_and(|c| !c.is_finite()) || !all_finite(self.net.params()) {
                // The diverged epoch is not recorded: nor are its diagnostics.
                let kept = self.diagnostics.len() - self.diagnostics_per_epoch();
                self.diagnostics.truncate(kept);
                let layer = self.first_non_finite();
                self.net.params_mut().copy_from_slice(&self.last_good);
                self.ws_holds_train = false;
                stop = StopReason::Diverged { epoch, layer };
                break;
            }
            self.epoch = epoch;
            self.last_good.copy_from_slice(self.net.params());
            self.end_epoch(m.val_cost.unwrap_or(m.cost));
            let stopping = self.check_stop(&m);
            // Pushed last (before the observer, which may read the history): `m`'s fields were
            // just stored eight bytes at a time, and the push copies them sixteen at a time, which
            // stalls until the stores reach the cache (W1: 4% of its time when pushed first).
            self.record(&m);
            if let Some(reason) = stopping {
                stop = reason;
                break;
            }
            if observer.epoch_end(self, &m) == Flow::Interrupt {
                stop = StopReason::Interrupted { epoch };
                break;
            }
        }
        stop
    }

    /// The per-epoch decisions of [`epoch`](Self::epoch) and [`metrics`](Self::metrics) taken
    /// once, when a run needs nothing else of them: one full-batch step, without dropout,
    /// validation, diagnostics or clipping, on row-major targets of the output's shape (the
    /// buffer forms of the loss). Taking them every epoch was 8% of W1's instructions.
    fn lean(&self) -> Option<Lean<'d, F>> {
        let (data, net, loss) = (self.data, &self.net, self.loss);
        let plain = self.full_batch() && !data.is_empty() && !self.dropout && self.validation.is_none();
        let options = !self.opts.diagnostics && self.opts.clip_value.is_none() && self.opts.clip_norm.is_none();
        if !(plain && options) {
            return None;
        }
        let targets = rows_like_output(data.targets.view(), data.len(), &self.ws)?;
        Some(Lean { targets, fused: fused(loss, net), threshold: self.threshold() })
    }

    /// [`epoch`](Self::epoch) then [`metrics`](Self::metrics), for a run [`lean`](Self::lean)
    /// accepts: the same calls in the same order, so the same bits.
    fn lean_epoch(&mut self, lean: Lean<'d, F>, epoch: usize, lr: f64) -> EpochMetrics {
        let (loss, data) = (self.loss, self.data);
        let (x, n, cols) = (data.inputs.view(), data.len(), self.ws.output_units());
        if !self.ws_holds_train {
            self.net.forward(x, &mut self.ws);
        }
        let (output, grad) = self.ws.loss_rows(n, lean.fused);
        loss.gradient_rows(cols, output, lean.targets, grad);
        self.net.backward(x, &mut self.ws, &mut self.grads, lean.fused);
        self.step += 1;
        self.optimizer.step(self.net.params_mut(), &self.grads, &mut self.state, self.step, F::of(lr));
        self.net.forward(x, &mut self.ws);
        self.ws_holds_train = true;
        let (output, _) = self.ws.loss_rows(n, lean.fused);
        let cost = loss.cost_rows(cols, output, lean.targets).f64();
        let accuracy = self
            .opts
            .classification
            .then(|| count_right(self.ws.output(n), data.targets.view(), lean.threshold) as f64 / n as f64);
        EpochMetrics { epoch, cost, accuracy, val_cost: None, val_accuracy: None, lr }
    }

    /// The first layer (input side first) whose parameters, or whose `z` or `a` on the first
    /// training batch, hold a NaN or an infinity.
    fn first_non_finite(&mut self) -> Option<(usize, Quantity)> {
        fn bad<'a, F: Element>(mut v: impl Iterator<Item = &'a F>) -> bool {
            v.any(|x| !x.is_finite())
        }
        let params = self.net.params();
        for (l, layer) in self.net.layers().iter().enumerate() {
            if bad(params[layer.w_range()].iter().chain(&params[layer.b_range()])) {
                return Some((l + 1, Quantity::Parameters));
            }
        }
        let rows = self.ws.capacity().min(self.data.len());
        self.net.forward(self.data.inputs.slice(s![..rows, ..]), &mut self.ws);
        self.ws_holds_train = false;
        for l in 0..self.net.layers().len() {
            if bad(self.ws.z(l).iter()) {
                return Some((l + 1, Quantity::Z));
            }
            if bad(self.ws.a(l).iter()) {
                return Some((l + 1, Quantity::A));
            }
        }
        None
    }

    /// Early stopping and `stop_below` after epoch `m.epoch`.
    fn check_stop(&mut self, m: &EpochMetrics) -> Option<StopReason> {
        if let Some(es) = &self.opts.early_stopping
            && let Some(value) = es.monitor.value(m)
        {
            let improved = match self.best {
                None => true,
                Some((best, _)) if es.monitor.maximise() => value > best + es.min_delta,
                Some((best, _)) => value < best - es.min_delta,
            };
            if improved {
                self.best = Some((value, m.epoch));
                self.best_lr = Some(m.lr);
                self.bad_epochs = 0;
                if es.restore_best {
                    self.best_params.copy_from_slice(self.net.params());
                }
            } else {
                self.bad_epochs += 1;
                if self.bad_epochs >= es.patience {
                    return Some(StopReason::EarlyStopping { epoch: m.epoch });
                }
            }
        }
        match self.opts.stop_below {
            Some(below) if m.cost < below => Some(StopReason::StopBelow { epoch: m.epoch }),
            _ => None,
        }
    }

    fn finish(mut self, stop: StopReason, observer: &mut dyn Observer<F>) -> TrainOutcome<F> {
        if let Some(last) = self.pending.take() {
            self.history.push(last);
        }
        let mut final_metrics = *self.history.last().expect("epoch 0 is always recorded");
        if let StopReason::EarlyStopping { .. } = stop
            && self.opts.early_stopping.as_ref().is_some_and(|e| e.restore_best)
            && !self.best_params.is_empty()
            && let Some((_, best_epoch)) = self.best
        {
            self.net.params_mut().copy_from_slice(&self.best_params);
            // The restored weights' own metrics, measured as every epoch's are: the bits that
            // epoch recorded. Its learning rate as noted then (from the history for a run
            // resumed from an older checkpoint, which did not note it).
            let lr =
                self.best_lr.unwrap_or_else(|| match self.history.binary_search_by_key(&best_epoch, |m| m.epoch) {
                    Ok(k) => self.history[k].lr,
                    Err(_) => f64::NAN,
                });
            final_metrics = self.measured(best_epoch, lr);
        }
        self.seconds = self.seconds();
        self.segment_start = None;
        observer.finished(&self, stop);
        let best_cost = self.best_cost();
        let costs = self.history.iter().map(|m| m.cost).collect();
        TrainOutcome {
            final_metrics,
            best_cost,
            diagnostics: std::mem::take(&mut self.diagnostics),
            epochs_run: self.epoch,
            seconds: self.seconds,
            costs,
            history: self.history,
            stop_reason: stop,
            net: self.net,
        }
    }

    /// Everything needed to continue this run later with [`restore`](Self::restore) (from an
    /// observer, after an epoch; `None` before the run has started).
    pub fn state(&self) -> Option<TrainState> {
        let f = |v: &[F]| v.iter().map(|x| x.f64()).collect::<Vec<f64>>();
        Some(TrainState {
            epoch: self.epoch,
            step: self.step,
            params: f(self.net.params()),
            optimizer_state: f(&self.state),
            scheduler: self.scheduler.clone(),
            rng: RngState::of(self.rng_after_epoch.as_ref()?),
            history: self.history.iter().chain(&self.pending).copied().collect(),
            history_stride: self.stride,
            thinned_best_cost: self.thinned_best_cost,
            best: self.best,
            best_lr: self.best_lr,
            best_params: f(&self.best_params),
            bad_epochs: self.bad_epochs,
            seconds: self.seconds(),
            diagnostics: self.diagnostics.clone(),
            data_hash: None,
            config_hash: None,
        })
    }

    /// Continues from `state` (made by [`state`](Self::state) for the same config and data);
    /// returns the stream to pass to [`run_with`](Self::run_with).
    pub fn restore(&mut self, state: &TrainState) -> Result<SeededRng, String> {
        if state.params.len() != self.net.params().len() || state.optimizer_state.len() != self.state.len() {
            return Err(format!(
                "the checkpoint holds {} parameters and {} optimiser values, the config's network {} and {}",
                state.params.len(),
                state.optimizer_state.len(),
                self.net.params().len(),
                self.state.len()
            ));
        }
        if state.epoch > self.opts.epochs {
            return Err(format!(
                "the checkpoint is at epoch {}, past the config's last (train.epochs = {})",
                state.epoch, self.opts.epochs
            ));
        }
        // The rest must agree with itself, as a run writes it (a hand-edited file may not): the
        // metrics of epochs 0, s, 2s, … and of the last epoch, for a power of two s.
        let stride = state.history_stride;
        if !stride.is_power_of_two() || stride > state.epoch.max(1) {
            return Err(format!(
                "the checkpoint's history_stride must be a power of two up to its epoch, got {stride}"
            ));
        }
        let recorded = state.epoch / stride + 1 + usize::from(state.epoch % stride != 0);
        if state.history.len() != recorded {
            return Err(format!(
                "the checkpoint is at epoch {} but holds metrics of {} epochs (epoch 0 included; {recorded} \
                 with a stride of {stride})",
                state.epoch,
                state.history.len()
            ));
        }
        let expected = |k: usize| k.saturating_mul(stride).min(state.epoch);
        if let Some((k, m)) = state.history.iter().enumerate().find(|(k, m)| m.epoch != expected(*k)) {
            return Err(format!(
                "the checkpoint's metrics skip from epoch {} to {}",
                expected(k.saturating_sub(1)),
                m.epoch
            ));
        }
        if !(state.seconds.is_finite() && state.seconds >= 0.0) {
            return Err(format!("the checkpoint's seconds must be a finite number ≥ 0, got {}", state.seconds));
        }
        if let Some(lr) = state.best_lr.filter(|lr| !(lr.is_finite() && *lr >= 0.0)) {
            return Err(format!("the checkpoint's best_lr must be a finite number ≥ 0, got {lr}"));
        }
        // The schedule is the config's, at the checkpoint's epoch, with a usable lr.
        let sched = &state.scheduler;
        if sched.schedule() != self.scheduler.schedule() || sched.base_lr() != self.scheduler.base_lr() {
            return Err("the checkpoint's learning-rate schedule is not the config's (optim.lr, optim.schedule)".into());
        }
        if sched.epoch() != state.epoch as u64 || !(sched.lr().is_finite() && sched.lr() >= 0.0) {
            return Err(format!(
                "the checkpoint's schedule is at epoch {} with lr {}, the checkpoint at epoch {}",
                sched.epoch(),
                sched.lr(),
                state.epoch
            ));
        }
        // Every epoch takes the same number of steps, so the step count follows from the epoch
        // (Adam's bias correction depends on it; a wrong count would diverge or mislead).
        let per_epoch = if self.full_batch() { 1 } else { self.data.len().div_ceil(self.ws.capacity().max(1)) } as u64;
        if Some(state.step) != (state.epoch as u64).checked_mul(per_epoch) {
            return Err(format!(
                "the checkpoint is at epoch {} after {} steps, but this data takes {per_epoch} steps an epoch",
                state.epoch, state.step
            ));
        }
        if !self.best_params.is_empty() && state.best.is_some() && state.best_params.len() != self.best_params.len() {
            return Err(format!(
                "the checkpoint's best parameters are {} values, the network has {}",
                state.best_params.len(),
                self.best_params.len()
            ));
        }
        let per = self.diagnostics_per_epoch();
        if self.opts.diagnostics && state.diagnostics.len() != state.history.len() * per {
            return Err(format!(
                "the checkpoint holds {} diagnostics values, its {} epochs of metrics take {}",
                state.diagnostics.len(),
                state.history.len(),
                state.history.len() * per
            ));
        }
        let copy = |dst: &mut [F], src: &[f64]| dst.iter_mut().zip(src).for_each(|(d, &s)| *d = F::of(s));
        copy(self.net.params_mut(), &state.params);
        copy(&mut self.state, &state.optimizer_state);
        self.last_good.copy_from_slice(self.net.params());
        if self.best_params.len() == state.best_params.len() {
            copy(&mut self.best_params, &state.best_params);
        }
        self.epoch = state.epoch;
        self.step = state.step;
        self.scheduler = state.scheduler.clone();
        self.history.clear();
        self.history.extend_from_slice(&state.history);
        self.stride = stride;
        self.fast_until = if stride == 1 { self.history_limit } else { 0 };
        self.thinned_best_cost = state.thinned_best_cost;
        self.pending = None;
        if state.epoch % stride != 0 {
            self.pending = self.history.pop();
        }
        self.best = state.best;
        self.best_lr = state.best_lr;
        self.bad_epochs = state.bad_epochs;
        self.seconds = state.seconds;
        if self.opts.diagnostics {
            self.diagnostics.clear();
            self.diagnostics.extend_from_slice(&state.diagnostics);
        }
        self.ws_holds_train = false;
        Ok(state.rng.restore())
    }
}

/// Whether every value is finite, without a branch per value: p·0 is 0 for a finite p and NaN
/// for NaN and ±∞, summed in four independent lanes, which vectorise (`all(is_finite)` added 4%
/// to W1's instructions, checking 18 weights an epoch).
fn all_finite<F: Element>(values: &[F]) -> bool {
    let mut lanes = [F::zero(); 4];
    let chunks = values.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for (l, &v) in lanes.iter_mut().zip(c) {
            *l += v * F::zero();
        }
    }
    for (l, &v) in lanes.iter_mut().zip(rest) {
        *l += v * F::zero();
    }
    lanes.iter().all(|&l| l == F::zero())
}

/// The output above which a single-output net predicts class 1: 0 for logits (a loss that
/// absorbs the sigmoid, applied to an identity output), else 0.5.
pub fn decision_threshold<F: Element>(loss: &dyn Loss<F>, net: &Network<F>) -> F {
    let logits = loss.absorbs() == Some("sigmoid") && !fused(loss, net);
    let last_is_sigmoid = net.layers().last().is_some_and(|l| l.activation.name() == "sigmoid");
    if logits && !last_is_sigmoid { F::zero() } else { F::of(0.5) }
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

#[cfg(test)]
mod tests {
    use super::*;
    use backprop_layers::{ActivationSpec, LayerSpec};
    use backprop_loss::LossSpec;
    use std::panic::{AssertUnwindSafe, catch_unwind};

    /// The lean epoch computes what the general one does: a run it takes gives the same history
    /// and weights, bit for bit, as the same run sent the general way by diagnostics (which only
    /// record). Plain and fused losses, SGD, Adam and RMSprop, accuracy, a schedule, the tiny
    /// passes (four and eight rows) and the general ones (five hidden units).
    #[test]
    fn lean_epochs_give_the_general_epochs_bits() {
        use backprop_data::DataSpec;
        use backprop_optim::OptimizerSpec;
        use backprop_optim::schedule::{CosineAnnealingLr, LrScheduleSpec, ScheduleSpec};
        let cases = [
            (DataSpec::HalfAdder {}, 2, "sigmoid", "half_mse", "sgd", false),
            (DataSpec::HalfAdder {}, 5, "tanh", "mse", "adam", true),
            (DataSpec::Xor {}, 3, "sigmoid", "bce_with_logits", "sgd", true),
            (DataSpec::FullAdder {}, 4, "relu", "cross_entropy", "rmsprop", true),
        ];
        for (data, hidden, act, loss, optimizer, classification) in cases {
            let name = format!("{data:?} {hidden} {act} {loss} {optimizer}");
            let data = data.load::<f64>().expect("builtin");
            let spec = |name| ActivationSpec::from_name(name).expect("registered");
            let last = if loss == "cross_entropy" { "softmax" } else { "sigmoid" };
            let layers = [LayerSpec::new(hidden, spec(act)), LayerSpec::new(data.outputs(), spec(last))];
            let net = fixed_start(Network::<f64>::new(data.features(), &layers));
            let (loss, optimizer) = (
                LossSpec::from_name(loss).expect("registered"),
                OptimizerSpec::from_name(optimizer).expect("registered"),
            );
            let cosine = CosineAnnealingLr { t_max: 200, eta_min: 0.01 };
            let schedule = LrScheduleSpec::new(ScheduleSpec::Cosine(cosine));
            let run = |diagnostics| {
                let opts = TrainOptions {
                    epochs: 300,
                    batch_size: BatchSize::Full,
                    schedule: Some(schedule.clone()),
                    classification,
                    diagnostics,
                    ..TrainOptions::default()
                };
                let trainer = Trainer::new(net.clone(), &data, loss.get(), optimizer.get(), opts);
                assert_eq!(trainer.lean().is_some(), !diagnostics, "{name}: which epochs run");
                trainer.run_with(&mut rand::SeedableRng::seed_from_u64(0), &mut Silent)
            };
            let (lean, general) = (run(false), run(true));
            let bits = |o: &TrainOutcome<f64>| {
                let history = o.history.iter().flat_map(|m| [m.cost, m.accuracy.unwrap_or(-1.0), m.lr]);
                history.chain(o.net.params().iter().copied()).map(f64::to_bits).collect::<Vec<_>>()
            };
            assert_eq!(lean.history.len(), 301, "{name}: {:?}", lean.stop_reason);
            let first = first_difference(&bits(&lean), &bits(&general));
            assert_eq!(first, None, "{name}: first difference (history triples, then weights)");
            assert!(lean.costs[300] < lean.costs[0], "{name}: trains");
        }
    }

    /// Every diagnostic is the quantity it names, computed here from the weights after each
    /// epoch: a layer's gradient norm (the gradient at the weights the epoch started from, by
    /// `gradcheck::analytic`), its update's norm over its weights' (for SGD, `lr` times the
    /// first over the weights' norm), the share of its sigmoid or tanh outputs past 0.01/0.99 or
    /// ±0.99, and the share of its relu units that are 0 on every sample; 0 for epoch 0's first
    /// two. Weights are scaled so that each fraction lies strictly between 0 and 1 somewhere.
    #[test]
    fn diagnostics_are_the_norms_ratios_and_fractions_they_name() {
        let data = backprop_data::DataSpec::HalfAdder {}.load::<f64>().expect("builtin");
        let act = |name| ActivationSpec::from_name(name).expect("registered");
        let sigmoids = [LayerSpec::new(3, act("sigmoid")), LayerSpec::new(2, act("sigmoid"))];
        let mixed = [LayerSpec::new(4, act("relu")), LayerSpec::new(3, act("tanh")), LayerSpec::new(2, act("sigmoid"))];
        for (specs, scale) in [(&sigmoids[..], 6.0), (&mixed[..], 2.5)] {
            let mut net = fixed_start(Network::<f64>::new(2, specs));
            net.params_mut().iter_mut().for_each(|p| *p *= scale);
            if specs.len() == 3 {
                // Relu unit 1 is 0 on every sample; unit 2 only on some.
                let b = net.layers()[0].b_range().start;
                net.params_mut()[b + 1] = -50.0;
            }
            let loss = LossSpec::from_name("half_mse").expect("registered");
            let sgd = backprop_optim::OptimizerSpec::default();
            let lr = sgd.get::<f64>().lr();
            let opts =
                TrainOptions { epochs: 4, batch_size: BatchSize::Full, diagnostics: true, ..TrainOptions::default() };
            let trainer = Trainer::new(net.clone(), &data, loss.get(), sgd.get(), opts);
            let mut seen = Snapshots::default();
            let outcome = trainer.run_with(&mut rand::SeedableRng::seed_from_u64(0), &mut seen);
            let per_epoch = specs.len() * DIAGNOSTICS.len();
            assert_eq!(outcome.diagnostics.len(), 5 * per_epoch);
            for (e, shown) in seen.diagnostics.iter().enumerate() {
                assert_eq!(shown[..], outcome.diagnostics[..(e + 1) * per_epoch], "after epoch {e}");
            }
            let (x, t) = (data.inputs.view(), data.targets.view());
            let at = |params: &[f64]| {
                let mut n = net.clone();
                n.params_mut().copy_from_slice(params);
                n
            };
            let (mut some_saturated, mut some_dead) = (false, false);
            for (e, theta) in seen.weights.iter().enumerate() {
                let now = at(theta);
                let mut ws = Workspace::new(&now, data.len());
                now.forward(x, &mut ws);
                let grads = (e > 0).then(|| crate::gradcheck::analytic(&at(&seen.weights[e - 1]), loss.get(), x, t).1);
                for (l, layer) in now.layers().iter().enumerate() {
                    let name = format!("scale {scale}, epoch {e}, layer {l}");
                    let got = &outcome.diagnostics[e * per_epoch + l * 4..][..4];
                    let idx: Vec<usize> = layer.w_range().chain(layer.b_range()).collect();
                    let norm = |v: &dyn Fn(usize) -> f64| idx.iter().map(|&i| v(i) * v(i)).sum::<f64>().sqrt();
                    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs();
                    match &grads {
                        None => assert_eq!(got[..2], [0.0, 0.0], "{name}"),
                        Some(g) => {
                            let before = &seen.weights[e - 1];
                            let grad_norm = norm(&|i| g[i]);
                            let ratio = norm(&|i| theta[i] - before[i]) / norm(&|i| before[i]);
                            assert!(grad_norm > 0.0, "{name}");
                            assert!(close(got[0], grad_norm), "{name}: grad_norm {} vs {grad_norm}", got[0]);
                            assert!(close(got[1], ratio), "{name}: update_ratio {} vs {ratio}", got[1]);
                            let sgd_ratio = lr * grad_norm / norm(&|i| before[i]);
                            assert!((got[1] - sgd_ratio).abs() <= 1e-9 * sgd_ratio, "{name}: SGD's ratio");
                        }
                    }
                    let a = ws.a(l);
                    let share = |n: usize, of: usize| n as f64 / of as f64;
                    let (saturated, dead) = match layer.activation.name() {
                        "sigmoid" => (share(a.iter().filter(|&&v| !(0.01..=0.99).contains(&v)).count(), a.len()), 0.0),
                        "tanh" => (share(a.iter().filter(|&&v| v.abs() > 0.99).count(), a.len()), 0.0),
                        _ => (
                            0.0,
                            share((0..a.ncols()).filter(|&c| a.column(c).iter().all(|&v| v == 0.0)).count(), a.ncols()),
                        ),
                    };
                    assert_eq!(got[2..], [saturated, dead], "{name}: saturated, dead");
                    some_saturated |= saturated > 0.0 && saturated < 1.0;
                    some_dead |= dead > 0.0 && dead < 1.0;
                }
            }
            assert!(some_saturated, "scale {scale}: no layer partly saturated");
            assert_eq!(some_dead, specs.len() == 3, "scale {scale}: a relu layer partly dead");
        }
    }

    /// What the trainer shows an observer is the run: `epochs_done` is the epoch just ended,
    /// `history` ends with it, `lr` is the next epoch's rate (a step schedule halves it every
    /// 100 epochs), `seconds` grows and stays within the time the run took. A loop of one's own
    /// (`epoch`, `evaluate`, `end_epoch`) gives the run's costs bit for bit, and the accuracy
    /// of a single sigmoid output is taken at 0.5, as counted here from the network's outputs.
    #[test]
    fn what_an_observer_sees_and_a_loop_of_ones_own_follow_the_run() {
        let (data, net, loss, sgd) = xor();
        let step = backprop_optim::StepLr { step_size: 100, gamma: 0.5 };
        let opts = || TrainOptions {
            epochs: 300,
            batch_size: BatchSize::Full,
            classification: true,
            schedule: Some(LrScheduleSpec::new(backprop_optim::ScheduleSpec::Step(step.clone()))),
            ..TrainOptions::default()
        };
        struct Watch(Vec<(usize, f64, f64)>, Instant);
        impl Observer<f64> for Watch {
            fn epoch_end(&mut self, t: &Trainer<'_, f64>, m: &EpochMetrics) -> Flow {
                assert_eq!(t.epochs_done(), m.epoch);
                assert_eq!(t.history().last(), Some(m), "epoch {}", m.epoch);
                let seconds = t.seconds();
                assert!(seconds > 0.0 && seconds <= self.1.elapsed().as_secs_f64(), "epoch {}: {seconds} s", m.epoch);
                assert!(self.0.last().is_none_or(|&(_, _, before)| seconds >= before), "epoch {}", m.epoch);
                self.0.push((m.epoch, t.lr(), seconds));
                Flow::Continue
            }
        }
        let mut watch = Watch(Vec::new(), Instant::now());
        let trainer = Trainer::new(net.clone(), &data, loss.get(), &sgd, opts());
        let run = trainer.run_with(&mut rand::SeedableRng::seed_from_u64(0), &mut watch);
        assert_eq!(run.history.len(), 301);
        for (e, &(epoch, next_lr, _)) in watch.0.iter().enumerate().take(300) {
            assert_eq!((epoch, next_lr), (e, run.history[e + 1].lr), "the rate after epoch {e}");
        }
        assert_eq!((run.history[100].lr, run.history[101].lr, run.history[201].lr), (2.0, 1.0, 0.5));

        // Accuracy, counted here: an output above 0.5 is class 1.
        let mut replay = net.clone();
        let mut ws = Workspace::new(&replay, data.len());
        let mut own = Trainer::new(net.clone(), &data, loss.get(), &sgd, opts());
        let mut rng = rand::SeedableRng::seed_from_u64(0);
        let mut accuracies = std::collections::BTreeSet::new();
        for (e, m) in run.history.iter().enumerate() {
            if e > 0 {
                assert_eq!(own.lr(), m.lr, "epoch {e}");
                own.epoch(&mut rng);
            }
            let cost = own.evaluate();
            assert_eq!(cost.to_bits(), m.cost.to_bits(), "epoch {e}: {cost} vs the run's {}", m.cost);
            if e > 0 {
                // The schedule steps after each trained epoch, not after the initial measure.
                own.end_epoch(cost);
            }
            replay.params_mut().copy_from_slice(own.network().params());
            replay.forward(data.inputs.view(), &mut ws);
            let out = ws.output(data.len());
            let right = (0..data.len()).filter(|&i| (out[[i, 0]] > 0.5) == (data.targets[[i, 0]] > 0.5)).count();
            assert_eq!(m.accuracy, Some(right as f64 / 4.0), "epoch {e}");
            accuracies.insert(right);
        }
        // Taken at 0 instead, every sigmoid output would be class 1: 2 of XOR's 4 right.
        assert!(accuracies.iter().any(|&r| r != 2), "accuracies met: {accuracies:?}");
    }

    /// With batches smaller than the data, costs and accuracies are measured a workspace's rows
    /// at a time (3 and 1 of XOR's 4 here): each part's mean weighted by its rows, the one-pass
    /// figure within rounding, and the accuracy exactly the share of rows right. The same for
    /// the validation set.
    #[test]
    fn measuring_in_parts_gives_the_one_pass_figures() {
        let (data, net, loss, sgd) = xor();
        let opts = TrainOptions {
            epochs: 200,
            batch_size: BatchSize::Size(3),
            classification: true,
            ..TrainOptions::default()
        };
        let mut seen = Snapshots::default();
        let trainer = Trainer::new(net.clone(), &data, loss.get(), &sgd, opts).with_validation(&data);
        let run = trainer.run_with(&mut rand::SeedableRng::seed_from_u64(0), &mut seen);
        let mut at = net.clone();
        let mut ws = Workspace::new(&at, data.len());
        let mut rights = std::collections::BTreeSet::new();
        for (m, theta) in run.history.iter().zip(&seen.weights) {
            at.params_mut().copy_from_slice(theta);
            let cost = forward_cost(&at, loss.get(), data.inputs.view(), data.targets.view(), &mut ws);
            let out = ws.output(data.len());
            let right = (0..data.len()).filter(|&i| (out[[i, 0]] > 0.5) == (data.targets[[i, 0]] > 0.5)).count();
            let e = m.epoch;
            for (what, c) in [("cost", m.cost), ("val_cost", m.val_cost.expect("a validation set"))] {
                assert!((c - cost).abs() <= 4.0 * f64::EPSILON * cost, "epoch {e}: {what} {c} vs {cost} in one pass");
            }
            let share = right as f64 / 4.0;
            assert_eq!((m.accuracy, m.val_accuracy), (Some(share), Some(share)), "epoch {e}");
            rights.insert(right);
        }
        assert!(rights.len() >= 2, "accuracies met: {rights:?}");
    }

    /// A full-batch epoch with dropout steps on the training pass, its masks drawn from the run's
    /// stream, not on the evaluation pass the last epoch's metrics left in the workspace: each
    /// epoch's weights are those of `forward_cost_mode(Train)`, `backward_from_loss` and SGD's
    /// `θ − lr·g` done here, and differ from a run without dropout.
    #[test]
    fn full_batch_dropout_steps_on_the_training_pass() {
        let half_adder = HalfAdder::new();
        let data = &half_adder.data;
        let sigmoid = || ActivationSpec::from_name("sigmoid").expect("registered");
        let hidden = LayerSpec { dropout: 0.5, ..LayerSpec::new(4, sigmoid()) };
        let net = fixed_start(Network::<f64>::new(2, &[hidden, LayerSpec::new(2, sigmoid())]));
        let loss = half_adder.loss.get::<f64>();
        let sgd = backprop_optim::Sgd { lr: 0.5, ..backprop_optim::Sgd::default() };
        let opts = || TrainOptions { epochs: 6, batch_size: BatchSize::Full, ..TrainOptions::default() };
        let run = |net: Network<f64>| {
            let trainer = Trainer::new(net, data, loss, &sgd, opts());
            trainer.run_with(&mut rand::SeedableRng::seed_from_u64(3), &mut Silent)
        };
        let with = run(net.clone());
        let mut without_net = net.clone();
        without_net.set_dropout(&[0.0, 0.0]);
        assert_ne!(with.net.params(), run(without_net).net.params(), "dropout changed nothing");

        let (x, t) = (data.inputs.view(), data.targets.view());
        let (mut by_hand, mut rng) = (net.clone(), rand::SeedableRng::seed_from_u64(3));
        let mut ws = Workspace::new(&by_hand, data.len());
        let mut grads = vec![0.0; by_hand.params().len()];
        for _ in 0..6 {
            forward_cost_mode(&by_hand, loss, x, t, &mut ws, Mode::Train(&mut rng));
            backward_from_loss(&by_hand, loss, x, t, &mut ws, &mut grads);
            for (p, g) in by_hand.params_mut().iter_mut().zip(&grads) {
                *p -= 0.5 * g;
            }
        }
        assert_eq!(with.net.params(), by_hand.params());
    }

    #[test]
    fn all_finite_finds_nan_and_infinities_anywhere() {
        let ok = [1.0, -2.0, f64::MAX, f64::MIN_POSITIVE, 0.0, -0.0, 5e-324];
        assert!(all_finite(&ok) && all_finite::<f64>(&[]));
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            for i in 0..ok.len() {
                let mut v = ok;
                v[i] = bad;
                assert!(!all_finite(&v), "{bad} at {i}");
            }
        }
    }

    /// For every small history limit, odd ones too, and every run length: the history is epochs
    /// 0, s, 2s, … and the last epoch, each with the bits of the run that records every epoch,
    /// within the limit (and one pending); the final metrics are the last epoch's; the state
    /// restores. A checkpoint that kept every epoch past the limit (an older version's) resumes
    /// into the same shape. (Thinning once dropped the epoch it had just recorded.)
    #[test]
    fn thinned_histories_keep_the_last_epoch_for_every_limit() {
        let half_adder = HalfAdder::new();
        let trainer = |epochs, limit| half_adder.trainer(epochs, limit);
        let seed = || rand::SeedableRng::seed_from_u64(0);
        let every = trainer(40, None).run_with(&mut seed(), &mut Silent);
        let check = |o: &TrainOutcome<f64>, epochs: usize, limit: usize, what: &str| {
            let got: Vec<usize> = o.history.iter().map(|m| m.epoch).collect();
            let shape = |stride: usize| {
                let mut want: Vec<usize> = (0..=epochs).step_by(stride).collect();
                if want.last() != Some(&epochs) {
                    want.push(epochs);
                }
                want
            };
            let stride = (0..8).map(|p| 1 << p).find(|&s| shape(s) == got);
            let stride = stride.unwrap_or_else(|| panic!("{what}: {got:?} is no 0, s, 2s, …, last"));
            // At most `limit` epochs on the stride, and the last one besides when it is off it.
            let on_stride = got.iter().filter(|&&e| e % stride == 0).count();
            assert!(on_stride <= limit, "{what}: {got:?}, {on_stride} epochs on a stride of {stride}");
            for m in &o.history {
                assert_eq!(m.cost.to_bits(), every.history[m.epoch].cost.to_bits(), "{what}: epoch {}", m.epoch);
            }
            assert_eq!(o.final_metrics.epoch, epochs, "{what}");
            assert_eq!(o.diagnostics.len(), o.history.len() * 2 * DIAGNOSTICS.len(), "{what}");
        };
        for limit in 2..=9 {
            for epochs in 1..=40 {
                let o = trainer(epochs, Some(limit)).run_with(&mut seed(), &mut Silent);
                check(&o, epochs, limit, &format!("limit {limit}, {epochs} epochs"));
            }
            // Stopped off the stride (or not), saved, restored and run on: the same.
            for stop in [13, 16, 29] {
                let mut at = StopAt(stop, None);
                trainer(40, Some(limit)).run_with(&mut seed(), &mut at);
                let mut resumed = trainer(40, Some(limit));
                let mut rng = resumed.restore(&at.1.expect("a state")).expect("restores");
                let o = resumed.run_with(&mut rng, &mut Silent);
                check(&o, 40, limit, &format!("limit {limit}, resumed after {stop}"));
            }
        }
        // A state that kept all 31 epochs, resumed under a limit of 4.
        let mut at = StopAt(30, None);
        trainer(40, None).run_with(&mut seed(), &mut at);
        let state = at.1.expect("a state");
        assert_eq!((state.history.len(), state.history_stride), (31, 1));
        let mut resumed = trainer(40, Some(4));
        let mut rng = resumed.restore(&state).expect("restores");
        check(&resumed.run_with(&mut rng, &mut Silent), 40, 4, "every epoch kept, then a limit of 4");
        // Diagnostics that do not fit the history are refused, not read past.
        let mut edited = state.clone();
        edited.diagnostics.truncate(8);
        let refused = trainer(40, Some(4)).restore(&edited).expect_err("short diagnostics");
        assert!(refused.contains("holds 8 diagnostics values, its 31 epochs of metrics take 248"), "{refused}");
    }

    /// What `backprop train` checks before it makes a trainer, a library caller gets as a panic
    /// naming the problem, not a run that reports success on no data (cost 0), ignores its early
    /// stopping, or fails deep in a product.
    #[test]
    fn a_trainer_refuses_data_it_cannot_train_on() {
        let data = backprop_data::DataSpec::HalfAdder {}.load::<f64>().expect("builtin");
        let sigmoid = || LayerSpec::new(2, ActivationSpec::from_name("sigmoid").expect("registered"));
        let (loss, sgd) =
            (LossSpec::from_name("half_mse").expect("registered"), backprop_optim::OptimizerSpec::default());
        let opts = || TrainOptions { epochs: 3, batch_size: BatchSize::Full, ..TrainOptions::default() };
        let rows = |d: &Dataset<f64>, n: usize| Dataset {
            name: "part".into(),
            inputs: d.inputs.slice(ndarray::s![..n, ..]).to_owned(),
            targets: d.targets.slice(ndarray::s![..n, ..]).to_owned(),
        };
        let empty = rows(&data, 0);
        let one_target = Dataset { targets: data.targets.slice(ndarray::s![.., ..1]).to_owned(), ..data.clone() };
        let panic_of = |f: &dyn Fn()| {
            let e = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).expect_err("a panic");
            e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string())).unwrap()
        };
        let net = || Network::<f64>::new(2, &[sigmoid(), sigmoid()]);
        let new = |net: Network<f64>, d: &Dataset<f64>| {
            let _ = Trainer::new(net, d, loss.get(), sgd.get(), opts());
        };
        assert!(panic_of(&|| new(net(), &empty)).contains("the training data has no samples"));
        let message = panic_of(&|| new(net(), &one_target));
        assert!(
            message.contains("training data has 2 features and 1 targets, the network 2 inputs and 2 outputs"),
            "{message}"
        );
        assert!(panic_of(&|| new(Network::<f64>::new(2, &[]), &data)).contains("the network has no layers"));
        let with = |opts: TrainOptions| {
            let _ = Trainer::new(net(), &data, loss.get(), sgd.get(), opts);
        };
        let message = panic_of(&|| with(TrainOptions { batch_size: BatchSize::Size(0), ..opts() }));
        assert!(message.contains("a batch size of 0 samples"), "{message}");
        let message = panic_of(&|| with(TrainOptions { clip_norm: Some(0.0), ..opts() }));
        assert!(message.contains("clip_norm must be a finite number above 0, got Some(0.0)"), "{message}");
        let message = panic_of(&|| with(TrainOptions { clip_value: Some(f64::NAN), ..opts() }));
        assert!(message.contains("clip_value must be a finite number above 0"), "{message}");
        // A loss, optimiser or schedule out of range, named as the config's key would be.
        let adam = backprop_optim::Adam { lr: -1.0, ..backprop_optim::Adam::default() };
        let message = panic_of(&|| {
            let _ = Trainer::new(net(), &data, loss.get(), &adam, opts());
        });
        assert_eq!(message, "Trainer::new: invalid value for `optim.lr`: must be a finite number > 0, got -1");
        let huber = backprop_loss::Huber { delta: 0.0 };
        let message = panic_of(&|| {
            let _ = Trainer::new(net(), &data, &huber, sgd.get(), opts());
        });
        assert!(message.starts_with("Trainer::new: invalid value for `loss.delta`"), "{message}");
        let step = backprop_optim::StepLr { step_size: 0, gamma: 0.1 };
        let schedule = Some(LrScheduleSpec::new(backprop_optim::ScheduleSpec::Step(step)));
        let message = panic_of(&|| with(TrainOptions { schedule: schedule.clone(), ..opts() }));
        assert!(message.starts_with("Trainer::new: invalid value for `optim.schedule.step_size`"), "{message}");
        let message = panic_of(&|| {
            let _ = Trainer::new(net(), &data, loss.get(), sgd.get(), opts()).with_validation(&one_target);
        });
        assert!(message.contains("the validation data has 2 features and 1 targets"), "{message}");
        let message = panic_of(&|| {
            let opts = TrainOptions { early_stopping: Some(EarlyStopping::default()), ..opts() };
            Trainer::new(net(), &data, loss.get(), sgd.get(), opts)
                .run_with(&mut rand::SeedableRng::seed_from_u64(0), &mut Silent);
        });
        assert!(message.contains("early stopping monitors `val_cost`, and no validation set"), "{message}");
        // The same with the data they need trains.
        let outcome = Trainer::new(net(), &data, loss.get(), sgd.get(), opts())
            .with_validation(&rows(&data, 2))
            .run_with(&mut rand::SeedableRng::seed_from_u64(0), &mut Silent);
        assert_eq!(outcome.epochs_run, 3);
    }

    /// With `restore_best`, the final metrics are the best epoch's, its learning rate included,
    /// also when the thinned history no longer holds that epoch, and after a resume.
    #[test]
    fn restored_best_metrics_keep_their_lr_when_the_history_thins() {
        use backprop_optim::schedule::{ExponentialLr, ScheduleSpec};
        let half_adder = HalfAdder::new();
        let trainer = |limit, patience| {
            let opts = TrainOptions {
                epochs: 400,
                batch_size: BatchSize::Full,
                history_limit: limit,
                // An lr that differs every epoch, so that it names the epoch.
                schedule: Some(LrScheduleSpec::new(ScheduleSpec::Exponential(ExponentialLr { gamma: 0.99 }))),
                early_stopping: Some(EarlyStopping {
                    monitor: Monitor::Cost,
                    patience,
                    min_delta: 1e-4,
                    restore_best: true,
                }),
                ..TrainOptions::default()
            };
            let HalfAdder { data, net, loss, sgd } = &half_adder;
            Trainer::new(net.clone(), data, loss.get(), sgd.get(), opts)
        };
        let seed = || rand::SeedableRng::seed_from_u64(0);
        let bits = |m: &EpochMetrics| (m.epoch, m.cost.to_bits(), m.lr.to_bits());
        let mut thinned_out = 0;
        for patience in [3, 7, 20] {
            let every = trainer(None, patience).run_with(&mut seed(), &mut Silent);
            let StopReason::EarlyStopping { epoch } = every.stop_reason else { panic!("{:?}", every.stop_reason) };
            let best = every.final_metrics;
            assert!(best.epoch < epoch && best.lr.is_finite(), "patience {patience}: {best:?}");
            assert_eq!(bits(&best), bits(&every.history[best.epoch]), "patience {patience}");
            for limit in [2, 3, 5] {
                let thinned = trainer(Some(limit), patience).run_with(&mut seed(), &mut Silent);
                thinned_out += usize::from(thinned.history.iter().all(|m| m.epoch != best.epoch));
                assert_eq!(bits(&thinned.final_metrics), bits(&best), "patience {patience}, limit {limit}");
                // Stopped after the best epoch, saved and resumed: the same.
                let mut at = StopAt(best.epoch + 1, None);
                trainer(Some(limit), patience).run_with(&mut seed(), &mut at);
                let state = at.1.expect("a state");
                assert_eq!(state.best_lr.map(f64::to_bits), Some(best.lr.to_bits()));
                let mut resumed = trainer(Some(limit), patience);
                let mut rng = resumed.restore(&state).expect("restores");
                let resumed = resumed.run_with(&mut rng, &mut Silent);
                assert_eq!(bits(&resumed.final_metrics), bits(&best), "patience {patience}, limit {limit}, resumed");
            }
        }
        assert!(thinned_out > 0, "no case thinned the best epoch out of the history");
        // A checkpoint with a best_lr that is no learning rate is refused.
        let mut at = StopAt(5, None);
        trainer(None, 3).run_with(&mut seed(), &mut at);
        let mut state = at.1.expect("a state");
        state.best_lr = Some(-1.0);
        let refused = trainer(None, 3).restore(&state).expect_err("a negative best_lr");
        assert!(refused.contains("best_lr must be a finite number ≥ 0, got -1"), "{refused}");
    }

    /// A 2-2-2 sigmoid half adder from a fixed start, trained full batch with SGD, diagnostics on:
    /// the run the history tests thin.
    struct HalfAdder {
        data: Dataset<f64>,
        net: Network<f64>,
        loss: LossSpec,
        sgd: backprop_optim::OptimizerSpec,
    }

    impl HalfAdder {
        fn new() -> Self {
            let sigmoid = || LayerSpec::new(2, ActivationSpec::from_name("sigmoid").expect("registered"));
            HalfAdder {
                data: backprop_data::DataSpec::HalfAdder {}.load::<f64>().expect("builtin"),
                net: fixed_start(Network::<f64>::new(2, &[sigmoid(), sigmoid()])),
                loss: LossSpec::from_name("half_mse").expect("registered"),
                sgd: backprop_optim::OptimizerSpec::default(),
            }
        }

        /// A trainer for `epochs` epochs whose history keeps at most `limit` epochs.
        fn trainer(&self, epochs: usize, limit: Option<usize>) -> Trainer<'_, f64> {
            let opts = TrainOptions {
                epochs,
                batch_size: BatchSize::Full,
                diagnostics: true,
                history_limit: limit,
                ..TrainOptions::default()
            };
            Trainer::new(self.net.clone(), &self.data, self.loss.get(), self.sgd.get(), opts)
        }
    }

    /// An observer that interrupts the run after epoch `.0` and keeps the trainer's state then.
    struct StopAt(usize, Option<TrainState>);

    impl Observer<f64> for StopAt {
        fn epoch_end(&mut self, _: &Trainer<'_, f64>, m: &EpochMetrics) -> Flow {
            if m.epoch == self.0 { Flow::Interrupt } else { Flow::Continue }
        }
        fn finished(&mut self, trainer: &Trainer<'_, f64>, _: StopReason) {
            self.1 = trainer.state();
        }
    }

    /// A lean run stopped and restored from its state (as `--resume` does, into a fresh
    /// workspace) ends with the bits of the run never stopped.
    #[test]
    fn a_lean_run_resumes_bit_for_bit() {
        let data = backprop_data::DataSpec::HalfAdder {}.load::<f64>().expect("builtin");
        let sigmoid = || LayerSpec::new(2, ActivationSpec::from_name("sigmoid").expect("registered"));
        let net = fixed_start(Network::<f64>::new(2, &[sigmoid(), sigmoid(), sigmoid()]));
        let (loss, sgd) =
            (LossSpec::from_name("half_mse").expect("registered"), backprop_optim::OptimizerSpec::default());
        let trainer = || {
            let opts = TrainOptions { epochs: 200, batch_size: BatchSize::Full, ..TrainOptions::default() };
            Trainer::new(net.clone(), &data, loss.get(), sgd.get(), opts)
        };
        let whole = trainer().run_with(&mut rand::SeedableRng::seed_from_u64(0), &mut Silent);
        let mut stop = StopAt(70, None);
        let cut = trainer().run_with(&mut rand::SeedableRng::seed_from_u64(0), &mut stop);
        assert_eq!(cut.epochs_run, 70);
        let state = stop.1.expect("a state");
        let mut edited = state.clone();
        edited.history.pop();
        let refused = trainer().restore(&edited).expect_err("a history one short of the epoch");
        assert!(refused.contains("at epoch 70 but holds metrics of 70 epochs"), "{refused}");
        let mut edited = state.clone();
        edited.step = u64::MAX;
        let refused = trainer().restore(&edited).expect_err("a step count no run makes");
        assert!(refused.contains("at epoch 70 after 18446744073709551615 steps"), "{refused}");
        let mut edited = state.clone();
        edited.history[5].epoch = 77;
        let refused = trainer().restore(&edited).expect_err("a gap in the metrics");
        assert!(refused.contains("metrics skip from epoch 4 to 77"), "{refused}");
        let mut edited = state.clone();
        edited.seconds = -1.0;
        let refused = trainer().restore(&edited).expect_err("negative seconds");
        assert!(refused.contains("seconds must be a finite number ≥ 0, got -1"), "{refused}");
        let mut edited = state.clone();
        edited.epoch = 201;
        let refused = trainer().restore(&edited).expect_err("an epoch past the last");
        assert!(refused.contains("past the config's last (train.epochs = 200)"), "{refused}");
        let mut edited = state.clone();
        edited.optimizer_state.push(0.0);
        let refused = trainer().restore(&edited).expect_err("an optimiser value too many");
        assert!(
            refused.contains("holds 18 parameters and 1 optimiser values, the config's network 18 and 0"),
            "{refused}"
        );
        let mut edited = state.clone();
        edited.history_stride = 3;
        let refused = trainer().restore(&edited).expect_err("a stride that is no power of two");
        assert!(refused.contains("history_stride must be a power of two up to its epoch, got 3"), "{refused}");
        // A checkpoint written before the history thinned had no stride: it reads as 1.
        let mut json = serde_json::to_value(&state).unwrap();
        json.as_object_mut().unwrap().remove("history_stride").expect("the key is written");
        let older: TrainState = serde_json::from_value(json).unwrap();
        assert_eq!(older, state, "read back with a stride of 1");
        trainer().restore(&older).expect("an older checkpoint restores");
        let scheduler_edited = |edit: &dyn Fn(&mut serde_json::Value)| {
            let mut edited = state.clone();
            let mut v = serde_json::to_value(&edited.scheduler).unwrap();
            edit(&mut v);
            edited.scheduler = serde_json::from_value(v).unwrap();
            trainer().restore(&edited).expect_err("a schedule out of step")
        };
        let refused = scheduler_edited(&|v| v["epoch"] = 71.into());
        assert!(refused.contains("schedule is at epoch 71 with lr"), "{refused}");
        let refused = scheduler_edited(&|v| v["state"]["lr"] = (-0.5).into());
        assert!(refused.contains("schedule is at epoch 70 with lr -0.5, the checkpoint at epoch 70"), "{refused}");
        // Early stopping's best weights, when kept, are the network's size.
        let early = |restore_best| {
            let early_stopping =
                Some(EarlyStopping { monitor: Monitor::Cost, patience: 1000, min_delta: 0.0, restore_best });
            let opts = TrainOptions { epochs: 200, early_stopping, ..TrainOptions::default() };
            Trainer::new(net.clone(), &data, loss.get(), sgd.get(), opts)
        };
        let mut stop = StopAt(70, None);
        let _ = early(true).run_with(&mut rand::SeedableRng::seed_from_u64(0), &mut stop);
        let mut edited = stop.1.expect("a state");
        early(true).restore(&edited).expect("restores");
        edited.best_params.pop();
        let refused = early(true).restore(&edited).expect_err("best weights one short");
        assert!(refused.contains("best parameters are 17 values, the network has 18"), "{refused}");
        // A checkpoint at the last epoch restores (and then runs no epoch).
        let mut last = StopAt(200, None);
        let _ = trainer().run_with(&mut rand::SeedableRng::seed_from_u64(0), &mut last);
        let at_end = last.1.expect("a state");
        assert_eq!(at_end.epoch, 200);
        trainer().restore(&at_end).expect("a checkpoint at the last epoch restores");
        let mut resumed = trainer();
        assert!(resumed.lean().is_some());
        let mut rng = resumed.restore(&state).expect("restores");
        let resumed = resumed.run_with(&mut rng, &mut Silent);
        let bits =
            |o: &TrainOutcome<f64>| o.costs.iter().chain(o.net.params()).map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(first_difference(&bits(&resumed), &bits(&whole)), None, "first difference (costs, then weights)");
    }

    /// A run longer than its history limit keeps epochs 0, s, 2s, … (s doubling each time the
    /// history passes the limit) and the last, each with the metrics and diagnostics of the run
    /// that recorded every epoch; stopped at an epoch off the stride and restored, it ends with
    /// the same history, diagnostics and weights.
    #[test]
    fn a_long_run_thins_its_history_and_resumes_to_the_same_one() {
        let half_adder = HalfAdder::new();
        let per = 2 * DIAGNOSTICS.len();
        let trainer = |limit| half_adder.trainer(101, limit);
        let seed = || rand::SeedableRng::seed_from_u64(0);
        let every = trainer(None).run_with(&mut seed(), &mut Silent);
        assert_eq!(every.history.len(), 102);
        let thinned = trainer(Some(8)).run_with(&mut seed(), &mut Silent);
        // Eight entries at most before the last: 0, 16, …, 96 (the stride went 1, 2, 4, 8, 16),
        // then 101.
        let epochs: Vec<usize> = thinned.history.iter().map(|m| m.epoch).collect();
        assert_eq!(epochs, [0, 16, 32, 48, 64, 80, 96, 101]);
        for (k, m) in thinned.history.iter().enumerate() {
            let whole = &every.history[m.epoch];
            assert_eq!((m.cost.to_bits(), m.lr.to_bits()), (whole.cost.to_bits(), whole.lr.to_bits()), "{m:?}");
            assert_eq!(thinned.costs[k].to_bits(), whole.cost.to_bits());
            let diag = |d: &[f64], i: usize| d[i * per..(i + 1) * per].iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(diag(&thinned.diagnostics, k), diag(&every.diagnostics, m.epoch), "diagnostics of {}", m.epoch);
        }
        assert_eq!(thinned.diagnostics.len(), epochs.len() * per);
        assert_eq!(thinned.net.params(), every.net.params());
        let lowest = every.costs.iter().copied().fold(f64::INFINITY, f64::min);
        assert_eq!((thinned.best_cost, every.best_cost), (lowest, lowest));
        // The best cost counts the epochs thinned out, and a pending epoch replaced: the lowest
        // of costs 1 + e but for epoch 5's (thinned out), 13's or 41's (pending, then replaced).
        for (low, epochs) in [(5, 40), (13, 40), (41, 42)] {
            let mut t = trainer(Some(8));
            t.opts.diagnostics = false;
            for epoch in 0..=epochs {
                let cost = if epoch == low { 0.5 } else { 1.0 + epoch as f64 };
                t.record(&EpochMetrics { epoch, cost, ..EpochMetrics::default() });
            }
            assert!(t.history.iter().all(|m| m.epoch != low), "epoch {low} is not in the history");
            assert_eq!(t.best_cost(), 0.5, "epoch {low}'s cost");
        }

        // Stopped at 43 (off the stride of 8 it has then), saved, restored, run to the end.
        let mut stop = StopAt(43, None);
        trainer(Some(8)).run_with(&mut seed(), &mut stop);
        let state = stop.1.expect("a state");
        assert_eq!(state.history_stride, 8);
        let saved: Vec<usize> = state.history.iter().map(|m| m.epoch).collect();
        assert_eq!(saved, [0, 8, 16, 24, 32, 40, 43]);
        assert_eq!(state.diagnostics.len(), saved.len() * per);
        let mut edited = state.clone();
        edited.history_stride = 4;
        let refused = trainer(Some(8)).restore(&edited).expect_err("another stride");
        assert!(refused.contains("holds metrics of 7 epochs (epoch 0 included; 12 with a stride of 4)"), "{refused}");
        let mut edited = state.clone();
        edited.history[3].epoch = 25;
        let refused = trainer(Some(8)).restore(&edited).expect_err("an epoch off the stride");
        assert!(refused.contains("metrics skip from epoch 16 to 25"), "{refused}");
        let mut resumed = trainer(Some(8));
        let mut rng = resumed.restore(&state).expect("restores");
        let resumed = resumed.run_with(&mut rng, &mut Silent);
        let bits = |o: &TrainOutcome<f64>| {
            let history = o.history.iter().flat_map(|m| [m.epoch as f64, m.cost, m.lr]);
            let all = history.chain(o.diagnostics.iter().copied()).chain(o.net.params().iter().copied());
            all.map(f64::to_bits).collect::<Vec<_>>()
        };
        assert_eq!(bits(&resumed), bits(&thinned), "the resumed run's history, diagnostics and weights");
        assert_eq!(resumed.best_cost, lowest);
        // Restored and stopped again before the history thins again: the history of the run
        // stopped there once (the restored epoch 43, off the stride, is pending, not kept).
        let once = trainer(Some(8)).run_with(&mut seed(), &mut StopAt(45, None));
        let mut again = trainer(Some(8));
        let mut rng = again.restore(&state).expect("restores");
        let again = again.run_with(&mut rng, &mut StopAt(45, None));
        let epochs = |o: &TrainOutcome<f64>| o.history.iter().map(|m| m.epoch).collect::<Vec<_>>();
        assert_eq!(epochs(&again), [0, 8, 16, 24, 32, 40, 45]);
        assert_eq!(bits(&again), bits(&once), "stopped at 45 twice");
    }

    /// Early stopping counts an epoch as better only when it beats the best by more than
    /// `min_delta` (Keras's rule: strictly, so an equal value is no improvement), upwards for
    /// accuracies, downwards for costs; `stop_below` is strict too.
    #[test]
    fn improvements_must_beat_the_best_by_more_than_min_delta() {
        // The half adder's data, cost and optimiser; the networks are each case's own.
        let h = HalfAdder::new();
        let spec = |name| ActivationSpec::from_name(name).expect("registered");
        let layers = [LayerSpec::new(2, spec("sigmoid"))];
        // The epoch at which a run with patience 1 stops, given each epoch's monitored value.
        let stops_at = |monitor: Monitor, min_delta: f64, stop_below: Option<f64>, values: &[f64]| {
            let early_stopping = Some(EarlyStopping { monitor, patience: 1, min_delta, restore_best: false });
            let opts = TrainOptions { early_stopping, stop_below, ..TrainOptions::default() };
            let mut trainer = Trainer::new(Network::<f64>::new(2, &layers), &h.data, h.loss.get(), h.sgd.get(), opts);
            values.iter().enumerate().find_map(|(i, &v)| {
                let accuracy = Some(v);
                let m = EpochMetrics { epoch: i + 1, cost: v, accuracy, val_cost: None, val_accuracy: None, lr: 0.1 };
                trainer.check_stop(&m).map(|reason| (i + 1, reason.name()))
            })
        };
        let (cost, accuracy) = (Monitor::Cost, Monitor::Accuracy);
        assert_eq!(stops_at(cost, 0.0, None, &[1.0, 0.9, 0.9]), Some((3, "early_stopping")), "equal is no better");
        assert_eq!(stops_at(cost, 0.1, None, &[1.0, 0.85, 0.8]), Some((3, "early_stopping")));
        assert_eq!(stops_at(cost, 0.1, None, &[1.0, 0.85, 0.7]), None);
        assert_eq!(stops_at(accuracy, 0.0, None, &[0.5, 0.75, 0.75]), Some((3, "early_stopping")), "equal");
        assert_eq!(stops_at(accuracy, 0.1, None, &[0.5, 0.55]), Some((2, "early_stopping")));
        assert_eq!(stops_at(accuracy, 0.1, None, &[0.5, 0.625, 0.75]), None);
        // `stop_below`: strictly below.
        assert_eq!(stops_at(cost, 0.0, Some(0.5), &[0.75, 0.5, 0.25]), Some((3, "stop_below")));
    }

    /// Ties go to the first of the equal maxima, as numpy's and PyTorch's `argmax` give them.
    #[test]
    fn argmax_takes_the_first_of_equal_maxima() {
        assert_eq!(argmax([0.2f64, 0.5, 0.5].into_iter()), 1);
        assert_eq!(argmax([0.7f64, 0.5, 0.7].into_iter()), 0);
        assert_eq!(argmax([f64::NEG_INFINITY, f64::NEG_INFINITY].into_iter()), 0);
        assert_eq!(argmax([-3.0f32, -1.0, -2.0].into_iter()), 1);
    }

    /// A single output's class threshold: 0 on logits (a loss that absorbs a sigmoid the net
    /// does not end in), else 0.5.
    #[test]
    fn the_decision_threshold_is_zero_on_logits_only() {
        let spec = |name: &str| ActivationSpec::from_name(name).expect("registered");
        let threshold = |last: &str, loss: &str| {
            let net = Network::<f64>::new(2, &[LayerSpec::new(3, spec("tanh")), LayerSpec::new(1, spec(last))]);
            decision_threshold(LossSpec::from_name(loss).expect("registered").get(), &net)
        };
        assert_eq!(threshold("identity", "bce_with_logits"), 0.0);
        assert_eq!(threshold("sigmoid", "bce_with_logits"), 0.5, "fused: the net's outputs are probabilities");
        assert_eq!(threshold("sigmoid", "bce"), 0.5);
        assert_eq!(threshold("sigmoid", "mse"), 0.5);
        assert_eq!(threshold("identity", "mse"), 0.5);
    }

    /// A stream's position round-trips through its saved state, past 2⁶⁴ words too (the
    /// position is 68 bits; the state stores it as two halves).
    #[test]
    fn rng_positions_round_trip_past_64_bits() {
        let mut rng = backprop_tensor::rng::seeded(3);
        rng.set_stream(7);
        for pos in [0u128, 5, (1 << 64) - 1, (1 << 66) + 5] {
            rng.set_word_pos(pos);
            let back = RngState::of(&rng).restore();
            assert_eq!((back.get_word_pos(), back.get_stream(), back.get_seed()), (pos, 7, rng.get_seed()));
        }
    }

    /// A diverged run names the first layer, input side first, whose parameters, then `z`,
    /// hold a NaN or an infinity, in the post's numbering (first dense layer = 1).
    #[test]
    fn the_first_non_finite_value_is_named_by_its_layer() {
        // The half adder's data, cost and optimiser; the networks are each case's own.
        let h = HalfAdder::new();
        let spec = |name| ActivationSpec::from_name(name).expect("registered");
        let layers = [
            LayerSpec::new(2, spec("sigmoid")),
            LayerSpec::new(3, spec("identity")),
            LayerSpec::new(2, spec("identity")),
        ];
        let found = |edit: &dyn Fn(&mut Network<f64>)| {
            let mut net = fixed_start(Network::<f64>::new(2, &layers));
            edit(&mut net);
            let mut trainer = Trainer::new(net, &h.data, h.loss.get(), h.sgd.get(), TrainOptions::default());
            trainer.first_non_finite()
        };
        let range = |net: &Network<f64>, l: usize, weights: bool| {
            let layer = &net.layers()[l];
            if weights { layer.w_range() } else { layer.b_range() }
        };
        assert_eq!(found(&|_| {}), None);
        let nan_at = |l: usize, weights: bool| {
            move |net: &mut Network<f64>| {
                let at = range(net, l, weights).start;
                net.params_mut()[at] = f64::NAN;
            }
        };
        assert_eq!(found(&nan_at(2, false)), Some((3, Quantity::Parameters)));
        assert_eq!(found(&nan_at(1, true)), Some((2, Quantity::Parameters)));
        assert_eq!(found(&nan_at(0, false)), Some((1, Quantity::Parameters)));
        // Finite parameters whose sum overflows: layer 1's outputs are exactly 1 (σ(1000)),
        // layer 2 adds two weights of 1.7·10³⁰⁸ into an infinite z.
        let overflow = |net: &mut Network<f64>| {
            let (b1, w2) = (range(net, 0, false), range(net, 1, true));
            net.params_mut()[b1].fill(1000.0);
            net.params_mut()[w2].fill(1.7e308);
        };
        assert_eq!(found(&overflow), Some((2, Quantity::Z)));
        // A finite z whose output overflows: a leaky rectifier of slope 10 on z = −1.6·10³⁰⁸.
        let leaky = backprop_layers::activation::LeakyRelu { alpha: 10.0 };
        let layers = [
            LayerSpec::new(2, spec("sigmoid")),
            LayerSpec::new(3, ActivationSpec::LeakyRelu(leaky)),
            LayerSpec::new(2, spec("identity")),
        ];
        let mut net = fixed_start(Network::<f64>::new(2, &layers));
        let (b1, w2, b2) = (range(&net, 0, false), range(&net, 1, true), range(&net, 1, false));
        net.params_mut()[b1].fill(1000.0);
        net.params_mut()[w2].fill(-0.8e308);
        net.params_mut()[b2].fill(0.0);
        let mut trainer = Trainer::new(net, &h.data, h.loss.get(), h.sgd.get(), TrainOptions::default());
        assert_eq!(trainer.first_non_finite(), Some((2, Quantity::A)));
    }

    /// An infinite cost stops the run at its epoch even while every weight is finite: three
    /// identity layers, one step of lr = 10¹⁵⁰ makes weights near 10¹⁵⁰ and outputs past f64's
    /// range. The run stops after epoch 1, naming a layer's z, with the starting weights (and
    /// before the next step could make the weights themselves infinite).
    #[test]
    fn an_infinite_cost_over_finite_weights_is_a_divergence() {
        let h = HalfAdder::new();
        let identity = || LayerSpec::new(2, ActivationSpec::from_name("identity").expect("registered"));
        let net = fixed_start(Network::<f64>::new(2, &[identity(), identity(), identity()]));
        let sgd = backprop_optim::Sgd { lr: 1e150, ..backprop_optim::Sgd::default() };
        let opts = TrainOptions { epochs: 5, batch_size: BatchSize::Full, ..TrainOptions::default() };
        let run = Trainer::new(net.clone(), &h.data, h.loss.get(), &sgd, opts)
            .run_with(&mut rand::SeedableRng::seed_from_u64(0), &mut Silent);
        let StopReason::Diverged { epoch, layer } = run.stop_reason else { panic!("{:?}", run.stop_reason) };
        assert_eq!(epoch, 1);
        assert!(matches!(layer, Some((_, Quantity::Z))), "{layer:?}");
        assert_eq!(run.net.params(), net.params(), "the last good weights");
        // The step itself left finite weights: the cost alone said it diverged.
        let mut stepped = net.clone();
        let (_, g) = crate::gradcheck::analytic(&net, h.loss.get(), h.data.inputs.view(), h.data.targets.view());
        stepped.params_mut().iter_mut().zip(&g).for_each(|(p, g)| *p -= 1e150 * g);
        assert!(all_finite(stepped.params()) && stepped.params().iter().any(|p| p.abs() > 1e140));
    }

    /// XOR, a 2-3-1 sigmoid net from [`fixed_start`], half_mse and SGD at lr = 2.
    fn xor() -> (Dataset<f64>, Network<f64>, LossSpec, backprop_optim::Sgd) {
        let data = backprop_data::DataSpec::Xor {}.load::<f64>().expect("builtin");
        let sigmoid = || ActivationSpec::from_name("sigmoid").expect("registered");
        let net = fixed_start(Network::<f64>::new(2, &[LayerSpec::new(3, sigmoid()), LayerSpec::new(1, sigmoid())]));
        let loss = LossSpec::from_name("half_mse").expect("registered");
        (data, net, loss, backprop_optim::Sgd { lr: 2.0, ..backprop_optim::Sgd::default() })
    }

    /// An observer that keeps the weights, and the diagnostics the trainer shows, after every
    /// epoch (epoch 0 first).
    #[derive(Default)]
    struct Snapshots {
        weights: Vec<Vec<f64>>,
        diagnostics: Vec<Vec<f64>>,
    }

    impl Observer<f64> for Snapshots {
        fn epoch_end(&mut self, t: &Trainer<'_, f64>, _: &EpochMetrics) -> Flow {
            self.weights.push(t.network().params().to_vec());
            self.diagnostics.push(t.diagnostics().to_vec());
            Flow::Continue
        }
    }

    /// `net` with weights spread over [−1, 1) by a fixed rule (no stream to keep in step).
    fn fixed_start(mut net: Network<f64>) -> Network<f64> {
        for (i, p) in net.params_mut().iter_mut().enumerate() {
            *p = ((i * 7919) % 13) as f64 / 6.5 - 1.0;
        }
        net
    }

    /// A cap of `usize::MAX` epochs, meant to be cut short by `stop_below`, reserves a bounded
    /// history (it overflowed the reservation before), grows past the reservation, and thins
    /// past the history limit, diagnostics included.
    #[test]
    fn a_huge_epoch_cap_reserves_a_bounded_history() {
        let data = backprop_data::DataSpec::HalfAdder {}.load::<f64>().expect("builtin");
        let sigmoid = || LayerSpec::new(2, ActivationSpec::from_name("sigmoid").expect("registered"));
        let net = fixed_start(Network::<f64>::new(2, &[sigmoid(), sigmoid()]));
        let (loss, sgd) =
            (LossSpec::from_name("half_mse").expect("registered"), backprop_optim::OptimizerSpec::default());
        let opts = |stop_below| TrainOptions {
            epochs: usize::MAX,
            batch_size: BatchSize::Full,
            stop_below: Some(stop_below),
            diagnostics: true,
            ..TrainOptions::default()
        };
        let trainer = Trainer::new(net.clone(), &data, loss.get(), sgd.get(), opts(1.0));
        assert_eq!(trainer.history.capacity(), RESERVED_EPOCHS);
        assert!(trainer.diagnostics.capacity() <= RESERVED_EPOCHS * 2 * DIAGNOSTICS.len());
        // SGD's default lr of 0.01 takes more than the reserved epochs to get below 0.12.
        let outcome = Trainer::new(net, &data, loss.get(), sgd.get(), opts(0.12))
            .run_with(&mut rand::SeedableRng::seed_from_u64(0), &mut Silent);
        assert!(matches!(outcome.stop_reason, StopReason::StopBelow { .. }), "{:?}", outcome.stop_reason);
        assert!(outcome.epochs_run > HISTORY_LIMIT, "{} epochs", outcome.epochs_run);
        // Past the history limit: a thinned history, epoch 0 and the last epoch in it.
        let (first, last) = (outcome.history[0], outcome.history[outcome.history.len() - 1]);
        assert!(outcome.costs.len() <= HISTORY_LIMIT + 1, "{} costs", outcome.costs.len());
        assert_eq!((first.epoch, last.epoch), (0, outcome.epochs_run));
        assert!(last.cost < 0.12 && outcome.costs[outcome.costs.len() - 1] == last.cost);
        assert_eq!(outcome.diagnostics.len(), outcome.history.len() * 2 * DIAGNOSTICS.len());
    }

    /// The first index where `a` and `b` differ, or where one ends before the other.
    fn first_difference(a: &[u64], b: &[u64]) -> Option<usize> {
        a.iter().zip(b).position(|(x, y)| x != y).or((a.len() != b.len()).then(|| a.len().min(b.len())))
    }

    /// A target of another shape with as many elements as the output is refused (by the view
    /// form's shape check), not read through the buffer form as if it had the output's shape.
    #[test]
    fn targets_of_another_shape_are_not_reinterpreted() {
        let sigmoid = ActivationSpec::from_name("sigmoid").expect("registered");
        let net = Network::<f64>::new(2, &[LayerSpec::new(2, sigmoid)]);
        let x = Matrix::from_shape_vec((2, 2), vec![0.0, 1.0, 1.0, 0.0]).expect("2×2");
        let mut ws = Workspace::new(&net, 2);
        let (right, wrong) = (Matrix::from_elem((2, 2), 0.5), Matrix::from_elem((1, 4), 0.5));
        let mut grads = vec![0.0; net.params().len()];
        for name in ["half_mse", "mse", "mae"] {
            let spec = LossSpec::from_name(name).expect("registered");
            let loss = spec.get::<f64>();
            assert!(forward_cost(&net, loss, x.view(), right.view(), &mut ws).is_finite(), "{name}");
            let cost = catch_unwind(AssertUnwindSafe(|| forward_cost(&net, loss, x.view(), wrong.view(), &mut ws)));
            assert!(cost.is_err(), "{name}: the cost of a 2×2 output against a 1×4 target");
            let backward = catch_unwind(AssertUnwindSafe(|| {
                backward_from_loss(&net, loss, x.view(), wrong.view(), &mut ws, &mut grads)
            }));
            assert!(backward.is_err(), "{name}: the gradient of a 2×2 output against a 1×4 target");
        }
    }
}
