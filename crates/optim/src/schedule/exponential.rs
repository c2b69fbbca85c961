use backprop_tensor::spec::positive;
use backprop_tensor::{SpecError, Validate, math};
use serde::{Deserialize, Serialize};

use super::{Schedule, ScheduleState};

/// lr·γ^e.
///
/// `exponential`: decay by γ every epoch (PyTorch `torch.optim.lr_scheduler.ExponentialLR`).
///
/// lr_e = lr·γ^e. PyTorch's closed form; its recursive form (multiply by γ each epoch) agrees
/// within rounding.
///
/// Parameters: `gamma` (required, > 0; PyTorch has no default).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExponentialLr {
    /// Factor applied each epoch (required, > 0).
    pub gamma: f64,
}

impl Default for ExponentialLr {
    /// `gamma` has no default: 0 here, which validation rejects.
    fn default() -> Self {
        ExponentialLr { gamma: 0.0 }
    }
}

impl Validate for ExponentialLr {
    fn validate(&self) -> Result<(), SpecError> {
        positive("gamma", self.gamma)
    }
}

impl Schedule for ExponentialLr {
    fn step(&self, state: &mut ScheduleState, base_lr: f64, _monitored_cost: Option<f64>) {
        state.lr = base_lr * math::powf(self.gamma, state.epoch as f64);
    }
}
