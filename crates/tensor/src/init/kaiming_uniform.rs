//! `kaiming_uniform` (also `he_uniform`): U(−b, b) with b = gain·√(3 / fan), fan = fan_in or
//! fan_out by `mode` (`torch.nn.init.kaiming_uniform_` with its defaults `mode = "fan_in"`,
//! `a = 0`, `nonlinearity = "leaky_relu"`, which give gain = √2).
//!
//! He et al. (2015): keeps the variance of a relu net's activations (fan_in) or gradients
//! (fan_out) constant across layers. Variance b²/3 = gain²/fan. PyTorch's `a` and `nonlinearity`
//! are folded into `gain` (`torch.nn.init.calculate_gain`): √(2/(1 + a²)) for leaky_relu, 1 for
//! linear or sigmoid, 5/3 for tanh. `gain = 1/√3` with fan_in is `nn.Linear`'s default weight
//! init, U(±1/√fan_in).

use serde::{Deserialize, Serialize};

use super::{Fan, FanMode, Initializer, fill_symmetric};
use crate::rng::SeededRng;
use crate::spec::positive;
use crate::{SpecError, Validate};

/// U(±gain·√(3/fan)).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KaimingUniform {
    /// Which fan scales the bound: `"fan_in"` (default) or `"fan_out"`.
    pub mode: FanMode,
    /// Scale for the non-linearity. Default √2 (relu).
    pub gain: f64,
}

impl Default for KaimingUniform {
    fn default() -> Self {
        KaimingUniform { mode: FanMode::FanIn, gain: std::f64::consts::SQRT_2 }
    }
}

impl Validate for KaimingUniform {
    fn validate(&self) -> Result<(), SpecError> {
        positive("gain", self.gain)
    }
}

impl Initializer for KaimingUniform {
    fn fill(&self, fan: Fan, out: &mut [f64], rng: &mut SeededRng) {
        fill_symmetric(self.gain * (3.0 / self.mode.of(fan)).sqrt(), out, rng);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::testing::{FAN, check_deterministic, check_uniform};

    #[test]
    fn deterministic() {
        check_deterministic(&KaimingUniform::default());
    }

    #[test]
    fn bounds_and_moments() {
        // FAN is 30 in, 20 out: b = √2·√(3/30) = √0.2 by fan_in, and 1·√(3/20) = √0.15 by fan_out.
        let b = 0.2f64.sqrt();
        check_uniform(&KaimingUniform::default(), FAN, -b, b);
        let b = 0.15f64.sqrt();
        check_uniform(&KaimingUniform { mode: FanMode::FanOut, gain: 1.0 }, FAN, -b, b);
    }

    #[test]
    fn gain_must_be_positive() {
        assert!(KaimingUniform { mode: FanMode::FanIn, gain: f64::NAN }.validate().is_err());
    }
}
