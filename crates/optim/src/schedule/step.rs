use backprop_tensor::spec::positive;
use backprop_tensor::{SpecError, Validate, math};
use serde::{Deserialize, Serialize};

use super::{Schedule, ScheduleState, default_gamma};

/// lr·γ^⌊e / step_size⌋.
///
/// `step`: decay by γ every `step_size` epochs (PyTorch `torch.optim.lr_scheduler.StepLR`).
///
/// lr_e = lr·γ^⌊e / step_size⌋, e counting epochs from 0. This is PyTorch's closed form
/// (`_get_closed_form_lr`); its recursive form (multiply by γ when e is a multiple of
/// `step_size`) agrees within rounding.
///
/// Parameters: `step_size` (required, ≥ 1; PyTorch has no default), `gamma` (default 0.1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepLr {
    /// Epochs between decays (required, ≥ 1).
    pub step_size: u64,
    /// Factor applied at each decay (default 0.1).
    #[serde(default = "default_gamma")]
    pub gamma: f64,
}

impl Default for StepLr {
    /// `step_size` has no default: 0 here, which validation rejects.
    fn default() -> Self {
        StepLr { step_size: 0, gamma: default_gamma() }
    }
}

impl Validate for StepLr {
    fn validate(&self) -> Result<(), SpecError> {
        if self.step_size == 0 {
            return Err(SpecError::new("step_size", "must be at least 1, got 0"));
        }
        positive("gamma", self.gamma)
    }
}

impl Schedule for StepLr {
    fn step(&self, state: &mut ScheduleState, base_lr: f64, _monitored_cost: Option<f64>) {
        state.lr = base_lr * math::powf(self.gamma, (state.epoch / self.step_size) as f64);
    }
}
