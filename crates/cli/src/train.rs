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
use backprop_tensor::{Element, MatView, Matrix};
use ndarray::s;
use rand::seq::SliceRandom;

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
    let (input, _) = ws.loss_io(x.nrows(), fused(loss, net));
    loss.cost(input, t)
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
    let (input, grad) = ws.loss_io(x.nrows(), fused);
    loss.gradient(input, t, grad);
    net.backward(x, ws, grads, fused);
}

/// How to train, beyond the network, the data, the loss and the optimiser.
#[derive(Clone, Debug, Default)]
pub struct TrainOptions {
    /// Passes over the training set.
    pub epochs: usize,
    /// Samples per update.
    pub batch_size: BatchSize,
    /// Log the cost every this many epochs (0: never).
    pub log_every: usize,
    /// The learning-rate schedule (none: the optimiser's lr throughout).
    pub schedule: Option<LrScheduleSpec>,
    /// Clip the gradients' global L2 norm to this before each step.
    pub clip_norm: Option<f64>,
    /// Clamp every gradient to `[−v, v]` before each step (before `clip_norm`).
    pub clip_value: Option<f64>,
}

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
        }
    }
}

/// Why training stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// Every epoch ran.
    Completed,
    /// The cost became NaN or infinite after this epoch; the network holds the weights from
    /// before it.
    Diverged {
        /// The epoch whose update made the cost non-finite.
        epoch: usize,
    },
}

impl StopReason {
    /// `completed` or `diverged`, as `summary.json` writes it.
    pub fn name(self) -> &'static str {
        match self {
            StopReason::Completed => "completed",
            StopReason::Diverged { .. } => "diverged",
        }
    }
}

/// The result of a training run.
#[derive(Clone, Debug)]
pub struct TrainOutcome<F> {
    /// The trained network (the last good one when training diverged).
    pub net: Network<F>,
    /// Cost over the training set after each epoch; `costs[0]` is the initial cost.
    pub costs: Vec<f64>,
    /// Why it stopped.
    pub stop_reason: StopReason,
    /// Epochs whose updates were kept.
    pub epochs_run: usize,
    /// Wall time of the epochs, in seconds.
    pub seconds: f64,
}

/// Everything one training run needs in memory, allocated once.
///
/// The loss and the optimiser are trait objects: the registries' components
/// (`LossSpec::get`, `OptimizerSpec::get`) or any type of your own that implements
/// [`Loss`] or [`Optimizer`].
pub struct Trainer<'d, F: Element> {
    net: Network<F>,
    data: &'d Dataset<F>,
    loss: &'d dyn Loss<F>,
    optimizer: &'d dyn Optimizer<F>,
    opts: TrainOptions,
    ws: Workspace<F>,
    grads: Vec<F>,
    state: Vec<F>,
    batch_x: Matrix<F>,
    batch_t: Matrix<F>,
    order: Vec<usize>,
    step: u64,
    scheduler: LrScheduler,
}

impl<'d, F: Element> Trainer<'d, F> {
    /// Buffers for training `net` on `data` with `loss` and `optimizer`. The data must fit the
    /// network (checked by the caller).
    pub fn new(
        net: Network<F>,
        data: &'d Dataset<F>,
        loss: &'d dyn Loss<F>,
        optimizer: &'d dyn Optimizer<F>,
        opts: TrainOptions,
    ) -> Self {
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
        Trainer {
            net,
            data,
            loss,
            optimizer,
            ws,
            grads: vec![F::zero(); n],
            state,
            batch_x,
            batch_t,
            order: (0..data.len()).collect(),
            step: 0,
            scheduler: LrScheduler::new(optimizer.lr(), opts.schedule.as_ref()),
            opts,
        }
    }

    /// The learning rate of the coming epoch.
    pub fn lr(&self) -> f64 {
        self.scheduler.lr()
    }

    /// Ends an epoch whose cost over the training set was `cost`: steps the schedule. (`run` does
    /// this after every epoch.)
    pub fn end_epoch(&mut self, cost: f64) {
        self.scheduler.step(cost);
    }

    /// The network as it stands.
    pub fn network(&self) -> &Network<F> {
        &self.net
    }

    fn full_batch(&self) -> bool {
        self.ws.capacity() == self.data.len()
    }

    /// The mean cost over the whole training set, by chunks of the workspace's size. With
    /// full-batch training this leaves the workspace holding the forward pass of the whole set.
    pub fn evaluate(&mut self) -> f64 {
        let (n, chunk) = (self.data.len(), self.ws.capacity());
        let loss = self.loss;
        let mut total = 0.0;
        for start in (0..n).step_by(chunk) {
            let end = (start + chunk).min(n);
            let (x, t) = if start == 0 && end == n {
                (self.data.inputs.view(), self.data.targets.view())
            } else {
                (self.data.inputs.slice(s![start..end, ..]), self.data.targets.slice(s![start..end, ..]))
            };
            let cost = forward_cost(&self.net, loss, x, t, &mut self.ws);
            total += cost.f64() * ((end - start) as f64 / n as f64);
        }
        total
    }

    /// One update on rows `x`, `t` (already forward-passed when `forwarded`; never so with
    /// dropout, whose training pass differs from the evaluation pass).
    fn update(&mut self, x: MatView<'_, F>, t: MatView<'_, F>, rng: &mut SeededRng, forwarded: bool) {
        let loss = self.loss;
        if !forwarded {
            let mode = if self.net.has_dropout() { Mode::Train(rng) } else { Mode::Eval };
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
    }

    /// One epoch of updates. For full-batch training the workspace must hold the forward pass of
    /// the whole set (as [`evaluate`](Self::evaluate) leaves it).
    pub fn epoch(&mut self, rng: &mut SeededRng) {
        let data = self.data;
        if self.full_batch() {
            let forwarded = !self.net.has_dropout();
            self.update(data.inputs.view(), data.targets.view(), rng, forwarded);
            return;
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

    /// Runs every epoch, logging to `log`, and hands back the network and its cost history.
    pub fn run(mut self, rng: &mut SeededRng, log: &mut dyn Write) -> TrainOutcome<F> {
        let epochs = self.opts.epochs;
        let mut costs = Vec::with_capacity(epochs + 1);
        let mut last_good = self.net.params().to_vec();
        let initial = self.evaluate();
        costs.push(initial);
        let _ = writeln!(log, "Initial cost: {initial}");
        let _ = writeln!(log, "Starting training");
        let start = Instant::now();
        let mut stop_reason = StopReason::Completed;
        for epoch in 1..=epochs {
            self.epoch(rng);
            let cost = self.evaluate();
            if !cost.is_finite() {
                stop_reason = StopReason::Diverged { epoch };
                self.net.params_mut().copy_from_slice(&last_good);
                break;
            }
            costs.push(cost);
            last_good.copy_from_slice(self.net.params());
            self.end_epoch(cost);
            if self.opts.log_every > 0 && epoch % self.opts.log_every == 0 {
                let _ = writeln!(log, " Epoch: {epoch} , Current cost: {cost}");
            }
        }
        let seconds = start.elapsed().as_secs_f64();
        let _ = writeln!(log, "Training finished in {seconds:.3} s");
        TrainOutcome { net: self.net, epochs_run: costs.len() - 1, costs, stop_reason, seconds }
    }
}
