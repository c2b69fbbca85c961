use serde::{Deserialize, Serialize};

use super::{Fan, FanMode, Initializer, Nonlinearity, fill_symmetric, kaiming_gain, validate_kaiming};
use crate::rng::SeededRng;
use crate::{SpecError, Validate};

/// U(±gain·√(3/fan)).
///
/// `kaiming_uniform` (also `he_uniform`): U(−b, b) with b = gain·√(3 / fan), fan = fan_in or
/// fan_out by `mode` (`torch.nn.init.kaiming_uniform_`, with its parameters and defaults:
/// `a = 0`, `mode = "fan_in"`, `nonlinearity = "leaky_relu"`, which give gain = √2).
///
/// He et al. (2015): keeps the variance of a relu net's activations (fan_in) or gradients
/// (fan_out) constant across layers. Variance b²/3 = gain²/fan. The gain is PyTorch's
/// `calculate_gain(nonlinearity, a)`: √(2/(1 + a²)) for leaky_relu, √2 for relu, 1 for linear or
/// sigmoid, 5/3 for tanh, 3/4 for selu; or `gain` given directly instead. `a = √5` with fan_in
/// is `nn.Linear`'s default weight init, U(±1/√fan_in).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KaimingUniform {
    /// Which fan scales the bound: `"fan_in"` (default) or `"fan_out"`.
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

impl Default for KaimingUniform {
    fn default() -> Self {
        KaimingUniform { mode: FanMode::FanIn, a: 0.0, nonlinearity: Nonlinearity::LeakyRelu, gain: None }
    }
}

impl Validate for KaimingUniform {
    fn validate(&self) -> Result<(), SpecError> {
        validate_kaiming(self.gain, self.nonlinearity, self.a)
    }
}

impl KaimingUniform {
    /// The gain: `gain` when given, else `calculate_gain(nonlinearity, a)`.
    pub fn gain(&self) -> f64 {
        kaiming_gain(self.gain, self.nonlinearity, self.a)
    }
}

impl Initializer for KaimingUniform {
    fn fill(&self, fan: Fan, out: &mut [f64], rng: &mut SeededRng) {
        fill_symmetric(self.gain() * (3.0 / self.mode.of(fan)).sqrt(), out, rng);
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
        check_uniform(
            &KaimingUniform { mode: FanMode::FanOut, gain: Some(1.0), ..KaimingUniform::default() },
            FAN,
            -b,
            b,
        );
    }

    #[test]
    fn a_root_5_is_nn_linears_default() {
        let linear = KaimingUniform { a: 5f64.sqrt(), ..KaimingUniform::default() };
        let b = 1.0 / 30f64.sqrt();
        assert!((linear.gain() * (3.0f64 / 30.0).sqrt() - b).abs() < 1e-15);
        check_uniform(&linear, FAN, -b, b);
    }

    #[test]
    fn gain_must_be_positive() {
        assert!(KaimingUniform { gain: Some(f64::NAN), ..KaimingUniform::default() }.validate().is_err());
    }
}
