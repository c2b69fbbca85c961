//! Checkpoints: [`TrainState`], everything a run needs to continue bit for bit, with the
//! position of its random stream ([`RngState`]), and the trainer's `state` and `restore`.

use backprop_optim::schedule::LrScheduler;
use backprop_tensor::Element;
use backprop_tensor::rng::SeededRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use super::{EpochMetrics, Trainer};

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
    /// the last epoch (see [`HISTORY_LIMIT`](super::HISTORY_LIMIT)).
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

impl<F: Element> Trainer<'_, F> {
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
        let recorded = state.epoch / stride + 1 + usize::from(!state.epoch.is_multiple_of(stride));
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
        sched.check().map_err(|e| format!("the checkpoint's schedule: {e}"))?;
        // Early stopping's bookkeeping, as a run leaves it: the best epoch one that has run,
        // its value a finite one (an accuracy in [0, 1]), the epochs since it no more than ran.
        if let Some((value, epoch)) = state.best {
            let accuracy = self.opts.early_stopping.as_ref().is_some_and(|e| e.monitor.maximise());
            if epoch > state.epoch || !value.is_finite() || (accuracy && !(0.0..=1.0).contains(&value)) {
                return Err(format!(
                    "the checkpoint's best is {value} at epoch {epoch}, which a run at epoch {} cannot have",
                    state.epoch
                ));
            }
        }
        if state.bad_epochs > state.epoch {
            return Err(format!(
                "the checkpoint counts {} epochs without improvement at epoch {}",
                state.bad_epochs, state.epoch
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
        // Finite as the run's dtype holds them (JSON numbers are finite f64s; 1e39 is not an f32).
        for (what, values) in [("parameter", &state.params), ("best parameter", &state.best_params)] {
            if let Some(i) = values.iter().position(|&p| !F::of(p).is_finite()) {
                return Err(format!(
                    "the checkpoint's {what} {i} ({}) is not finite in {}",
                    values[i],
                    F::DTYPE.name()
                ));
            }
        }
        let optimizer_state: Vec<F> = state.optimizer_state.iter().map(|&s| F::of(s)).collect();
        self.optimizer.check_state(&optimizer_state).map_err(|e| format!("the checkpoint's optimiser state: {e}"))?;
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
        if !state.epoch.is_multiple_of(stride) {
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
