use serde::{Deserialize, Serialize};

use super::{Fan, Initializer};
use crate::rng::SeededRng;
use crate::spec::finite;
use crate::{SpecError, Validate};

/// `value` for every value.
///
/// `constant`: every value `value` (`torch.nn.init.constant_`, here with default 0), e.g. a small
/// positive bias for relu units.
///
/// Draws nothing from the stream.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Constant {
    /// The value. Default 0. The config takes PyTorch's name, `val`, too.
    #[serde(alias = "val")]
    pub value: f64,
}

impl Validate for Constant {
    fn validate(&self) -> Result<(), SpecError> {
        finite("value", self.value)
    }
}

impl Initializer for Constant {
    fn fill(&self, _fan: Fan, out: &mut [f64], _rng: &mut SeededRng) {
        out.fill(self.value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::testing::{FAN, draw};

    #[test]
    fn fills_the_value() {
        assert!(draw(&Constant { value: 0.1 }, FAN, 100, 1).iter().all(|&x| x == 0.1));
    }

    #[test]
    fn value_must_be_finite() {
        assert!(Constant { value: f64::INFINITY }.validate().is_err());
    }
}
