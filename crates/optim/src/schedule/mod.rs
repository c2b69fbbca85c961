//! Learning-rate schedules: the lr of each epoch, from the optimiser's `lr` (the base lr).
//!
//! A schedule steps once per epoch, like PyTorch's epoch-based schedulers: epoch 0 uses the lr
//! that [`LrScheduler::lr`] gives before any [`step`](LrScheduler::step) (the base lr, or the
//! warm-up's first lr; only a `multistep` milestone at 0 scales it already), and after each
//! epoch the trainer calls `step` with that epoch's monitored cost (only `reduce_on_plateau`
//! looks at it). Every optimiser step in an epoch uses that epoch's lr. The lrs are PyTorch's
//! closed forms, computed from the epoch number, so no rounding accumulates.
//!
//! ```toml
//! [optim.schedule]
//! kind = "step"
//! step_size = 30
//! gamma = 0.1
//! warmup_epochs = 5          # optional, with any kind
//! ```
//!
//! Kinds (PyTorch's classes and parameter names; e = epochs since the schedule took over):
//! - `constant`: lr (no change; not PyTorch's `ConstantLR`, which scales by a factor).
//! - `step` (`StepLR`): lr·γ^⌊e / step_size⌋.
//! - `multistep` (`MultiStepLR`): lr·γ^(number of milestones ≤ e).
//! - `exponential` (`ExponentialLR`): lr·γ^e.
//! - `cosine` (`CosineAnnealingLR`): η_min + (lr − η_min)·(1 + cos(π·e / t_max))/2.
//! - `reduce_on_plateau` (`ReduceLROnPlateau`): lr·factor after more than `patience` epochs
//!   without improvement of the monitored cost.
//!
//! Warm-up (`warmup_epochs` = W > 0) is PyTorch's `SequentialLR([LinearLR(start_factor=s,
//! total_iters=W), X], milestones=[W])`: epoch e < W uses lr·(s + (1 − s)·e/W), with s =
//! `warmup_start_factor` (default 1/3, `LinearLR`'s); from epoch W on, the schedule X runs with
//! its epochs counted from the end of warm-up (epoch W is X's epoch 0, the base lr). The costs of
//! warm-up epochs are not shown to `reduce_on_plateau` (PyTorch's `SequentialLR` refuses it).
//!
//! To add a schedule: write `my_schedule.rs` with a struct implementing [`Schedule`] and
//! [`Validate`](backprop_tensor::Validate), then add its line to the `registry!` below, beside
//! the file's `mod` and `pub use` lines (ARCHITECTURE.md, "Adding a component", has the rest).

mod constant;
mod cosine;
mod exponential;
mod multistep;
mod reduce_on_plateau;
mod scheduler;
mod step;

pub use constant::Constant;
pub use cosine::CosineAnnealingLr;
pub use exponential::ExponentialLr;
pub use multistep::MultiStepLr;
pub use reduce_on_plateau::{PlateauMode, ReduceLrOnPlateau, ThresholdMode};
pub use scheduler::{CHECKED_EPOCHS, LrScheduleSpec, LrScheduler};
pub use step::StepLr;

use serde::{Deserialize, Serialize};

/// A rule for the lr of each epoch.
pub trait Schedule {
    /// Sets `state.lr` to the lr of epoch `state.epoch` (counted from when the schedule took
    /// over). Called once with epoch 0 and no cost when the schedule starts, then after each epoch
    /// with `state.epoch` already counting it (1 after the first) and `monitored_cost` its cost.
    /// `base_lr` is the optimiser's configured lr.
    fn step(&self, state: &mut ScheduleState, base_lr: f64, monitored_cost: Option<f64>);
}

/// What a schedule carries from one epoch to the next (part of [`LrScheduler`]'s checkpoint).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScheduleState {
    /// Epochs finished since the schedule took over (after warm-up).
    pub epoch: u64,
    /// The lr of the coming epoch.
    pub lr: f64,
    /// `reduce_on_plateau`: the best monitored cost so far (`None` before the first, PyTorch's
    /// ±∞).
    pub best: Option<f64>,
    /// `reduce_on_plateau`: epochs since the last improvement.
    pub num_bad_epochs: u64,
    /// `reduce_on_plateau`: epochs of cool-down left.
    pub cooldown_counter: u64,
}

impl ScheduleState {
    /// Epoch 0 at `base_lr`, before the schedule's first [`step`](Schedule::step).
    pub fn new(base_lr: f64) -> Self {
        ScheduleState { epoch: 0, lr: base_lr, best: None, num_bad_epochs: 0, cooldown_counter: 0 }
    }
}

backprop_tensor::registry! {
    /// The schedules a config can name (`[optim.schedule] kind = "cosine"`).
    pub enum ScheduleSpec: dyn Schedule {
        /// lr, unchanged.
        "constant" => Constant(Constant),
        /// lr·γ^⌊e / step_size⌋.
        "step" => Step(StepLr),
        /// lr·γ^(milestones ≤ e).
        "multistep" => MultiStep(MultiStepLr),
        /// lr·γ^e.
        "exponential" => Exponential(ExponentialLr),
        /// η_min + (lr − η_min)·(1 + cos(π·e / t_max))/2.
        "cosine" => Cosine(CosineAnnealingLr),
        /// lr·factor when the monitored cost stops improving.
        "reduce_on_plateau" => ReduceOnPlateau(ReduceLrOnPlateau),
    }
}

impl Default for ScheduleSpec {
    fn default() -> Self {
        ScheduleSpec::Constant(Constant {})
    }
}

/// `γ` of `step`, `multistep`: PyTorch's default.
fn default_gamma() -> f64 {
    0.1
}

#[cfg(test)]
mod tests {
    use super::*;
    use backprop_tensor::Validate;

    /// A schedule made in code that fails its check is refused with its key, not run: `step`'s
    /// default `step_size` of 0 divided by zero.
    #[test]
    fn a_scheduler_refuses_an_invalid_schedule() {
        let step = LrScheduleSpec::new(ScheduleSpec::from_name("step").expect("registered"));
        let panic = std::panic::catch_unwind(|| LrScheduler::new(0.1, Some(&step))).expect_err("refused");
        let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(message.contains("LrScheduler::new: invalid schedule: `step_size`"), "{message}");
    }

    /// The lrs of epochs 0..=n of `spec` from base lr 1, each epoch's cost given by `cost`.
    fn lrs(spec: &ScheduleSpec, n: u64, cost: impl Fn(u64) -> f64) -> Vec<f64> {
        let mut state = ScheduleState::new(1.0);
        spec.get().step(&mut state, 1.0, None);
        let mut out = vec![state.lr];
        for e in 0..n {
            state.epoch += 1;
            spec.get().step(&mut state, 1.0, Some(cost(e)));
            out.push(state.lr);
        }
        out
    }

    #[test]
    fn closed_forms_by_hand() {
        let step = ScheduleSpec::Step(StepLr { step_size: 2, gamma: 0.5 });
        assert_eq!(lrs(&step, 5, |_| 0.0), [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]);
        let multi = ScheduleSpec::MultiStep(MultiStepLr { milestones: vec![3, 1, 3], gamma: 0.5 });
        assert_eq!(lrs(&multi, 4, |_| 0.0), [1.0, 0.5, 0.5, 0.125, 0.125]);
        // A milestone at 0 already scales epoch 0, as in PyTorch.
        let multi = ScheduleSpec::MultiStep(MultiStepLr { milestones: vec![0], gamma: 0.5 });
        assert_eq!(lrs(&multi, 1, |_| 0.0), [0.5, 0.5]);
        let exp = ScheduleSpec::Exponential(ExponentialLr { gamma: 0.5 });
        assert_eq!(lrs(&exp, 3, |_| 0.0), [1.0, 0.5, 0.25, 0.125]);
        let cos = ScheduleSpec::Cosine(CosineAnnealingLr { t_max: 2, eta_min: 0.0 });
        let got = lrs(&cos, 4, |_| 0.0);
        for (g, want) in got.iter().zip([1.0, 0.5, 0.0, 0.5, 1.0]) {
            assert!((g - want).abs() < 1e-15, "{got:?}");
        }
        assert_eq!(lrs(&ScheduleSpec::default(), 2, |_| 0.0), [1.0; 3]);
    }

    #[test]
    fn every_bare_name_is_either_valid_or_names_its_required_key() {
        for &name in ScheduleSpec::NAMES {
            let spec = ScheduleSpec::from_name(name).expect("every listed name is known");
            assert_eq!(spec.name(), name);
            if let Err(e) = spec.validate() {
                assert!(["step_size", "gamma", "t_max"].contains(&e.key.as_str()), "{name}: {e}");
            }
        }
    }
}
