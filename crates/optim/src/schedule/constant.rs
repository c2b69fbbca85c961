use backprop_tensor::Validate;
use serde::{Deserialize, Serialize};

use super::{Schedule, ScheduleState};

/// lr, unchanged.
///
/// `constant`: the base lr every epoch. Not PyTorch's `ConstantLR` (which multiplies the lr by
/// a factor for its first `total_iters` epochs); this is the schedule of a run with no scheduler,
/// useful after a warm-up (`kind = "constant"`, `warmup_epochs = 5`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constant {}

impl Validate for Constant {}

impl Schedule for Constant {
    fn step(&self, state: &mut ScheduleState, base_lr: f64, _monitored_cost: Option<f64>) {
        state.lr = base_lr;
    }
}
