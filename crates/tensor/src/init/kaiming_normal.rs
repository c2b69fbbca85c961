//! `kaiming_normal` (also `he_normal`): N(0, σ²) with σ = gain / √fan, fan = fan_in or fan_out by
//! `mode` (`torch.nn.init.kaiming_normal_` with its defaults `mode = "fan_in"`, `a = 0`,
//! `nonlinearity = "leaky_relu"`, which give gain = √2).
//!
//! The normal counterpart of `kaiming_uniform`, with the same variance gain²/fan. PyTorch's `a`
//! and `nonlinearity` are folded into `gain` (`torch.nn.init.calculate_gain`).

use serde::{Deserialize, Serialize};

use super::{Fan, FanMode, Initializer, fill_normal};
use crate::rng::SeededRng;
use crate::spec::positive;
use crate::{SpecError, Validate};

/// N(0, gain²/fan).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KaimingNormal {
    /// Which fan scales the deviation: `"fan_in"` (default) or `"fan_out"`.
    pub mode: FanMode,
    /// Scale for the non-linearity. Default √2 (relu).
    pub gain: f64,
}

impl Default for KaimingNormal {
    fn default() -> Self {
        KaimingNormal { mode: FanMode::FanIn, gain: std::f64::consts::SQRT_2 }
    }
}

impl Validate for KaimingNormal {
    fn validate(&self) -> Result<(), SpecError> {
        positive("gain", self.gain)
    }
}

impl Initializer for KaimingNormal {
    fn fill(&self, fan: Fan, out: &mut [f64], rng: &mut SeededRng) {
        fill_normal(0.0, self.gain / self.mode.of(fan).sqrt(), out, rng);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::testing::{FAN, check_deterministic, check_normal};

    #[test]
    fn deterministic() {
        check_deterministic(&KaimingNormal::default());
    }

    #[test]
    fn moments() {
        // FAN is 30 in, 20 out: σ = √2/√30 by fan_in, 1/√20 by fan_out.
        check_normal(&KaimingNormal::default(), FAN, 0.0, (2.0f64 / 30.0).sqrt());
        check_normal(&KaimingNormal { mode: FanMode::FanOut, gain: 1.0 }, FAN, 0.0, 0.05f64.sqrt());
    }

    #[test]
    fn gain_must_be_positive() {
        assert!(KaimingNormal { mode: FanMode::FanOut, gain: 0.0 }.validate().is_err());
    }
}
