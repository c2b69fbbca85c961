use serde::{Deserialize, Serialize};

use super::{Fan, FanMode, Initializer, Nonlinearity, fill_normal, kaiming_gain, validate_kaiming};
use crate::rng::SeededRng;
use crate::{SpecError, Validate};

/// N(0, gain²/fan).
///
/// `kaiming_normal` (also `he_normal`): N(0, σ²) with σ = gain / √fan, fan = fan_in or fan_out by
/// `mode` (`torch.nn.init.kaiming_normal_`, with its parameters and defaults: `a = 0`,
/// `mode = "fan_in"`, `nonlinearity = "leaky_relu"`, which give gain = √2).
///
/// The normal counterpart of `kaiming_uniform`, with the same variance gain²/fan and the same
/// gain: PyTorch's `calculate_gain(nonlinearity, a)`, or `gain` given directly instead.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KaimingNormal {
    /// Which fan scales the deviation: `"fan_in"` (default) or `"fan_out"`.
    pub mode: FanMode,
    /// PyTorch's `a`: the negative slope of a `leaky_relu` non-linearity (default 0).
    pub a: f64,
    /// PyTorch's `nonlinearity`, which with `a` makes the gain (`calculate_gain`; default
    /// `"leaky_relu"`, with `a = 0` the gain √2 of relu).
    pub nonlinearity: Nonlinearity,
    /// The gain itself, in place of `a` and `nonlinearity` (ours; PyTorch has no such key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gain: Option<f64>,
}

impl Default for KaimingNormal {
    fn default() -> Self {
        KaimingNormal { mode: FanMode::FanIn, a: 0.0, nonlinearity: Nonlinearity::LeakyRelu, gain: None }
    }
}

impl Validate for KaimingNormal {
    fn validate(&self) -> Result<(), SpecError> {
        validate_kaiming(self.gain, self.nonlinearity, self.a)
    }
}

impl KaimingNormal {
    /// The gain: `gain` when given, else `calculate_gain(nonlinearity, a)`.
    pub fn gain(&self) -> f64 {
        kaiming_gain(self.gain, self.nonlinearity, self.a)
    }
}

impl Initializer for KaimingNormal {
    fn fill(&self, fan: Fan, out: &mut [f64], rng: &mut SeededRng) {
        fill_normal(0.0, self.gain() / self.mode.of(fan).sqrt(), out, rng);
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
        check_normal(
            &KaimingNormal { mode: FanMode::FanOut, gain: Some(1.0), ..KaimingNormal::default() },
            FAN,
            0.0,
            0.05f64.sqrt(),
        );
    }

    #[test]
    fn gain_must_be_positive() {
        assert!(KaimingNormal { gain: Some(0.0), ..KaimingNormal::default() }.validate().is_err());
    }
}
