use backprop_tensor::spec::positive;
use backprop_tensor::{SpecError, Validate, math};
use serde::{Deserialize, Serialize};

use super::{Schedule, ScheduleState, default_gamma};

/// lr·γ^(number of milestones ≤ e).
///
/// `multistep`: decay by γ at each milestone epoch (PyTorch
/// `torch.optim.lr_scheduler.MultiStepLR`).
///
/// lr_e = lr·γ^k, k = the number of milestones ≤ e (a milestone listed twice counts twice, as in
/// PyTorch's `Counter`; order does not matter). PyTorch's closed form; its recursive form agrees
/// within rounding.
///
/// Parameters: `milestones` (required; PyTorch has no default), `gamma` (default 0.1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiStepLr {
    /// Epochs at which the lr is multiplied by γ (required).
    pub milestones: Vec<u64>,
    /// Factor applied at each milestone (default 0.1).
    #[serde(default = "default_gamma")]
    pub gamma: f64,
}

impl Default for MultiStepLr {
    /// `milestones` has no default: empty here (no decay).
    fn default() -> Self {
        MultiStepLr { milestones: Vec::new(), gamma: default_gamma() }
    }
}

impl Validate for MultiStepLr {
    fn validate(&self) -> Result<(), SpecError> {
        positive("gamma", self.gamma)
    }
}

impl Schedule for MultiStepLr {
    fn step(&self, state: &mut ScheduleState, base_lr: f64, _monitored_cost: Option<f64>) {
        let passed = self.milestones.iter().filter(|&&m| m <= state.epoch).count();
        state.lr = base_lr * math::powf(self.gamma, passed as f64);
    }
}
