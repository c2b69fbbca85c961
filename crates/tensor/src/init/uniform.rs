use serde::{Deserialize, Serialize};

use super::{Fan, Initializer};
use crate::rng::{SeededRng, unit};
use crate::spec::finite;
use crate::{SpecError, Validate};

/// U(low, high) for every value.
///
/// `uniform`: every value drawn from U(low, high).
///
/// `x = low + (high − low)·u`, `u ~ U[0, 1)` with 53 random bits. The defaults `low = −1`,
/// `high = 1` are the post's `2·random() − 1`, for weights and biases alike.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Uniform {
    /// Lower bound (inclusive). Default −1 (the post's; PyTorch's `uniform_` has 0). The config
    /// takes PyTorch's name, `a`, too.
    #[serde(alias = "a")]
    pub low: f64,
    /// Upper bound (exclusive). Default 1. The config takes PyTorch's name, `b`, too.
    #[serde(alias = "b")]
    pub high: f64,
}

impl Default for Uniform {
    fn default() -> Self {
        Uniform { low: -1.0, high: 1.0 }
    }
}

impl Validate for Uniform {
    fn validate(&self) -> Result<(), SpecError> {
        finite("low", self.low)?;
        finite("high", self.high)?;
        if self.low >= self.high {
            return Err(SpecError::new("high", format!("must be greater than low ({}), got {}", self.low, self.high)));
        }
        Ok(())
    }
}

impl Initializer for Uniform {
    fn fill(&self, _fan: Fan, out: &mut [f64], rng: &mut SeededRng) {
        for x in out {
            *x = self.low + (self.high - self.low) * unit(rng);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::testing::{FAN, check_deterministic, check_uniform};

    #[test]
    fn deterministic() {
        check_deterministic(&Uniform::default());
    }

    #[test]
    fn bounds_and_moments() {
        check_uniform(&Uniform::default(), FAN, -1.0, 1.0);
        check_uniform(&Uniform { low: 2.0, high: 2.5 }, FAN, 2.0, 2.5);
    }

    #[test]
    fn high_must_exceed_low() {
        assert!(Uniform { low: 1.0, high: 1.0 }.validate().is_err());
    }
}
