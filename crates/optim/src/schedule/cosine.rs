use backprop_tensor::{SpecError, Validate, math};
use serde::{Deserialize, Serialize};

use super::{Schedule, ScheduleState};
use crate::non_negative;

/// η_min + (lr − η_min)·(1 + cos(π·e / t_max))/2.
///
/// `cosine`: cosine annealing from the base lr down to `eta_min` over `t_max` epochs (PyTorch
/// `torch.optim.lr_scheduler.CosineAnnealingLR`).
///
/// lr_e = η_min + (lr − η_min)·(1 + cos(π·e / t_max))/2, the closed form. PyTorch computes the
/// same curve recursively from the previous epoch's lr; the two agree within rounding (the
/// reference tests check 1e-12). Past t_max the cosine goes on, back up towards lr at 2·t_max,
/// as PyTorch's does (no restarts, no clamping).
///
/// Parameters: `t_max` (PyTorch's `T_max`; required, ≥ 1), `eta_min` (default 0).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CosineAnnealingLr {
    /// Epochs from the base lr to `eta_min` (required, ≥ 1). The config takes PyTorch's name,
    /// `T_max`, too.
    #[serde(alias = "T_max")]
    pub t_max: u64,
    /// The lowest lr (default 0).
    #[serde(default)]
    pub eta_min: f64,
}

impl Default for CosineAnnealingLr {
    /// `t_max` has no default: 0 here, which validation rejects.
    fn default() -> Self {
        CosineAnnealingLr { t_max: 0, eta_min: 0.0 }
    }
}

impl Validate for CosineAnnealingLr {
    fn validate(&self) -> Result<(), SpecError> {
        if self.t_max == 0 {
            return Err(SpecError::new("t_max", "must be at least 1, got 0"));
        }
        non_negative("eta_min", self.eta_min)
    }
}

impl Schedule for CosineAnnealingLr {
    fn step(&self, state: &mut ScheduleState, base_lr: f64, _monitored_cost: Option<f64>) {
        let angle = std::f64::consts::PI * state.epoch as f64 / self.t_max as f64;
        state.lr = self.eta_min + (base_lr - self.eta_min) * (1.0 + math::cos(angle)) / 2.0;
    }
}
