//! The training loop: epochs of forward, loss, backward and step, with no allocation once warm.
//!
//! Every buffer (workspace, gradients, optimiser state, the batch copy, the cost history) is
//! allocated before the first epoch. The cost recorded for epoch `e` is the cost over the whole
//! training set *after* epoch `e`'s updates (epoch 0: the initial cost), as the post prints it.
//! With full-batch training that evaluation is the next epoch's forward pass, so it costs nothing.
//!
//! This file holds [`Trainer`] and its epoch loop; beside it:
//! - `step.rs`: one step's passes as free functions ([`forward_cost`], [`backward_from_loss`]);
//! - `options.rs`: [`TrainOptions`], [`EarlyStopping`] and its [`Monitor`];
//! - `setup.rs`: what [`Trainer::try_new`] checks, and its [`SetupError`];
//! - `outcome.rs`: [`EpochMetrics`], [`StopReason`], [`TrainOutcome`];
//! - `observe.rs`: the [`Observer`] hook, [`LogLines`] and [`Silent`];
//! - `history.rs`: the bounded history ([`HISTORY_LIMIT`]) and its thinning;
//! - `diagnostics.rs`: the per-layer [`DIAGNOSTICS`];
//! - `state.rs`: checkpoints ([`TrainState`], [`Trainer::state`], [`Trainer::restore`]);
//! - `accuracy.rs`: [`decision_threshold`], [`count_right`], [`argmax`];
//! - `tests.rs`: the unit tests.

mod accuracy;
mod diagnostics;
mod history;
mod observe;
mod options;
mod outcome;
mod setup;
mod state;
mod step;
#[cfg(test)]
mod tests;

pub use accuracy::{argmax, count_right, decision_threshold, outputs_are_logits};
pub use diagnostics::DIAGNOSTICS;
pub use history::HISTORY_LIMIT;
pub use observe::{Flow, LogLines, Observer, Silent};
pub use options::{EarlyStopping, Monitor, TrainOptions};
pub use outcome::{EpochMetrics, Quantity, StopReason, TrainOutcome};
pub use setup::SetupError;
pub use state::{RngState, TrainState};
use step::rows_like_output;
pub use step::{backward_from_loss, forward_cost, forward_cost_mode, fused};

use std::io::Write;
use std::time::Instant;

use backprop_data::Dataset;
use backprop_layers::{Mode, Network, Workspace};
use backprop_loss::Loss;
use backprop_optim::schedule::LrScheduler;
use backprop_optim::{Optimizer, clip_grad_norm_type, clip_grad_value};
use backprop_tensor::rng::SeededRng;
use backprop_tensor::{Element, MatView, Matrix, linalg};
use ndarray::s;
use rand::seq::SliceRandom;

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
    /// Buffers for training `net` on `data` with `loss` and `optimizer`, or why they cannot
    /// train: a network with no layers or a layer of 0 units, data with no samples, other
    /// numbers of rows of inputs and of targets, features or targets that are not the
    /// network's inputs and outputs, a softmax or `cross_entropy` over one output;
    /// `opts` asking for batches of 0 samples, clipping to a bound that is not a finite
    /// number above 0 (or a `clip_norm_type` that is no p-norm's), a `stop_below`, `patience`
    /// or `min_delta` out of range, early stopping on an accuracy without `classification`; a
    /// loss, an optimiser, a schedule or a layer's activation that fails its
    /// [`Validate`](backprop_tensor::Validate) check (an Adam with `lr = -1`: the error names
    /// the key as a config would, `optim.lr`).
    /// These are the preconditions `backprop train` checks first and reports
    /// against the config's keys. (Without them the run would measure a cost of 0 on no
    /// samples and report success, fail deep in a product, train on a zero gradient, or climb
    /// the cost.)
    pub fn try_new(
        net: Network<F>,
        data: &'d Dataset<F>,
        loss: &'d dyn Loss<F>,
        optimizer: &'d dyn Optimizer<F>,
        opts: TrainOptions,
    ) -> Result<Self, SetupError> {
        setup::check(&net, data, loss, optimizer, &opts)?;
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
        Ok(Trainer {
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
        })
    }

    /// [`try_new`](Self::try_new) for inputs known to be right (a config `backprop train` has
    /// checked, a network and data built together).
    ///
    /// # Panics
    /// Where `try_new` returns an error, with its message (`Trainer::new: the network has no
    /// layers`).
    pub fn new(
        net: Network<F>,
        data: &'d Dataset<F>,
        loss: &'d dyn Loss<F>,
        optimizer: &'d dyn Optimizer<F>,
        opts: TrainOptions,
    ) -> Self {
        Self::try_new(net, data, loss, optimizer, opts).unwrap_or_else(|e| panic!("Trainer::new: {e}"))
    }

    /// Measures a validation set after every epoch too, or says why it cannot: it has no
    /// samples, other numbers of rows of inputs and of targets, or features or targets that are
    /// not the network's inputs and outputs.
    pub fn try_with_validation(mut self, validation: &'d Dataset<F>) -> Result<Self, SetupError> {
        setup::fits("validation", &self.net, validation)?;
        self.validation = Some(validation);
        Ok(self)
    }

    /// [`try_with_validation`](Self::try_with_validation) for a set known to fit.
    ///
    /// # Panics
    /// Where `try_with_validation` returns an error, with its message.
    pub fn with_validation(self, validation: &'d Dataset<F>) -> Self {
        self.try_with_validation(validation).unwrap_or_else(|e| panic!("Trainer::with_validation: {e}"))
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
            clip_grad_norm_type(&mut self.grads, max_norm, self.opts.clip_norm_type.unwrap_or(2.0));
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

    /// Runs every epoch, logging the post's lines to `log`.
    ///
    /// # Panics
    /// Where [`try_run`](Self::try_run) returns an error, with its message.
    pub fn run(self, rng: &mut SeededRng, log: &mut dyn Write) -> TrainOutcome<F> {
        self.try_run(rng, log).unwrap_or_else(|e| panic!("Trainer::run: {e}"))
    }

    /// [`run`](Self::run), or why the run cannot start (see [`try_run_with`](Self::try_run_with)).
    pub fn try_run(self, rng: &mut SeededRng, log: &mut dyn Write) -> Result<TrainOutcome<F>, SetupError> {
        let every = self.opts.log_every;
        self.try_run_with(rng, &mut LogLines::new(log, every))
    }

    /// Runs the remaining epochs (all of them, or those after a restored state), calling
    /// `observer` after each, and hands back the network and its history.
    ///
    /// # Panics
    /// Where [`try_run_with`](Self::try_run_with) returns an error, with its message
    /// (`Trainer::run_with: early stopping monitors `val_cost`, …`).
    pub fn run_with(self, rng: &mut SeededRng, observer: &mut dyn Observer<F>) -> TrainOutcome<F> {
        self.try_run_with(rng, observer).unwrap_or_else(|e| panic!("Trainer::run_with: {e}"))
    }

    /// [`run_with`](Self::run_with), or why the run cannot start: early stopping monitors a
    /// validation metric and no validation set was given
    /// ([`SetupError::NoValidation`]; it would never stop). The one check that
    /// [`try_new`](Self::try_new) cannot make, as the set comes after it.
    pub fn try_run_with(
        self,
        rng: &mut SeededRng,
        observer: &mut dyn Observer<F>,
    ) -> Result<TrainOutcome<F>, SetupError> {
        if let Some(es) = &self.opts.early_stopping
            && self.validation.is_none()
            && matches!(es.monitor, Monitor::ValCost | Monitor::ValAccuracy)
        {
            return Err(SetupError::NoValidation { monitor: es.monitor.name() });
        }
        Ok(self.run_checked(rng, observer))
    }

    /// `try_run_with` after its check.
    fn run_checked(mut self, rng: &mut SeededRng, observer: &mut dyn Observer<F>) -> TrainOutcome<F> {
        self.rng_after_epoch = Some(rng.clone());
        self.segment_start = Some(Instant::now());
        if self.history.is_empty() {
            let m = self.metrics(0, self.scheduler.lr());
            self.history.push(m);
            // The starting weights already overflow in the network on the training data: its
            // backward pass would make the weights NaN at the first update, and the message would
            // blame them. (A cost that overflows in the loss alone, or on validation data only,
            // has finite gradients: the run goes on, as it may recover.) Before the observer, so
            // that no checkpoint is written of a start that cannot train.
            if !m.cost.is_finite()
                && let Some(layer) = self.first_non_finite()
            {
                return self.finish(StopReason::Diverged { epoch: 0, layer: Some(layer) }, observer);
            }
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

    /// The first layer (input side first) whose parameters, or whose `z` or `a` on some sample
    /// of the training or validation set, hold a NaN or an infinity (a layer's `z` before its
    /// `a`); `None` when every one is finite: the loss itself overflowed. Goes over the sets a
    /// workspace at a time, once, when a run diverges.
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
        self.ws_holds_train = false;
        let rows = self.ws.capacity();
        // (layer index, 0 for z or 1 for a) of the first non-finite value seen so far.
        let mut first: Option<(usize, usize)> = None;
        for data in [Some(self.data), self.validation].into_iter().flatten() {
            for start in (0..data.len()).step_by(rows) {
                let end = (start + rows).min(data.len());
                self.net.forward(data.inputs.slice(s![start..end, ..]), &mut self.ws);
                let before = first.map_or(self.net.layers().len(), |(l, _)| l + 1);
                for l in 0..before {
                    let at = if bad(self.ws.z(l).iter()) {
                        (l, 0)
                    } else if bad(self.ws.a(l).iter()) {
                        (l, 1)
                    } else {
                        continue;
                    };
                    first = Some(first.map_or(at, |f| f.min(at)));
                    break;
                }
            }
        }
        first.map(|(l, which)| (l + 1, if which == 0 { Quantity::Z } else { Quantity::A }))
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
        // However training ended, as Keras's `on_train_end` restores: early stopping, every
        // epoch run, or `stop_below`. Not after a divergence (the last good weights) or an
        // interrupt (the last epoch's, which a resume goes on from).
        if matches!(stop, StopReason::EarlyStopping { .. } | StopReason::Completed | StopReason::StopBelow { .. })
            && self.opts.early_stopping.as_ref().is_some_and(|e| e.restore_best)
            && !self.best_params.is_empty()
            && let Some((_, best_epoch)) = self.best
            && best_epoch != self.epoch
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
