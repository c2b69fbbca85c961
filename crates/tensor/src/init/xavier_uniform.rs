use serde::{Deserialize, Serialize};

use super::{Fan, Initializer, fill_symmetric};
use crate::rng::SeededRng;
use crate::spec::positive;
use crate::{SpecError, Validate};

/// U(±gain·√(6/(fan_in + fan_out))).
///
/// `xavier_uniform` (also `glorot_uniform`): U(−b, b) with b = gain·√(6 / (fan_in + fan_out))
/// (`torch.nn.init.xavier_uniform_`, default gain = 1).
///
/// Glorot & Bengio (2010): keeps activation and gradient variance about equal across layers of a
/// tanh or sigmoid net. Variance b²/3 = gain²·2/(fan_in + fan_out).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct XavierUniform {
    /// Scale for the non-linearity (PyTorch's `calculate_gain`: 1 for linear or sigmoid, 5/3 for
    /// tanh). Default 1.
    pub gain: f64,
}

impl Default for XavierUniform {
    fn default() -> Self {
        XavierUniform { gain: 1.0 }
    }
}

impl Validate for XavierUniform {
    fn validate(&self) -> Result<(), SpecError> {
        positive("gain", self.gain)
    }
}

impl Initializer for XavierUniform {
    fn fill(&self, fan: Fan, out: &mut [f64], rng: &mut SeededRng) {
        fill_symmetric(self.gain * (6.0 / fan.sum()).sqrt(), out, rng);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::testing::{FAN, check_deterministic, check_uniform};

    #[test]
    fn deterministic() {
        check_deterministic(&XavierUniform::default());
    }

    #[test]
    fn bounds_and_moments() {
        // FAN is 30 in, 20 out: b = √(6/50).
        let b = 0.12f64.sqrt();
        check_uniform(&XavierUniform::default(), FAN, -b, b);
        check_uniform(&XavierUniform { gain: 2.0 }, FAN, -2.0 * b, 2.0 * b);
    }

    #[test]
    fn gain_must_be_positive() {
        assert!(XavierUniform { gain: 0.0 }.validate().is_err());
    }
}
