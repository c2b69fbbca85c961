use serde::{Deserialize, Serialize};

use super::{Fan, Initializer, fill_normal};
use crate::rng::SeededRng;
use crate::spec::positive;
use crate::{SpecError, Validate};

/// N(0, (gain·√(2/(fan_in + fan_out)))²).
///
/// `xavier_normal` (also `glorot_normal`): N(0, σ²) with σ = gain·√(2 / (fan_in + fan_out))
/// (`torch.nn.init.xavier_normal_`, default gain = 1).
///
/// The normal counterpart of `xavier_uniform`, with the same variance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct XavierNormal {
    /// Scale for the non-linearity (PyTorch's `calculate_gain`: 1 for linear or sigmoid, 5/3 for
    /// tanh). Default 1.
    pub gain: f64,
}

impl Default for XavierNormal {
    fn default() -> Self {
        XavierNormal { gain: 1.0 }
    }
}

impl Validate for XavierNormal {
    fn validate(&self) -> Result<(), SpecError> {
        positive("gain", self.gain)
    }
}

impl Initializer for XavierNormal {
    fn fill(&self, fan: Fan, out: &mut [f64], rng: &mut SeededRng) {
        fill_normal(0.0, self.gain * (2.0 / fan.sum()).sqrt(), out, rng);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::testing::{FAN, check_deterministic, check_normal};

    #[test]
    fn deterministic() {
        check_deterministic(&XavierNormal::default());
    }

    #[test]
    fn moments() {
        // FAN is 30 in, 20 out: σ = √(2/50) = 0.2.
        check_normal(&XavierNormal::default(), FAN, 0.0, 0.2);
        check_normal(&XavierNormal { gain: 5.0 / 3.0 }, FAN, 0.0, 0.2 * 5.0 / 3.0);
    }

    #[test]
    fn gain_must_be_positive() {
        assert!(XavierNormal { gain: -1.0 }.validate().is_err());
    }
}
