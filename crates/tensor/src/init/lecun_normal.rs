use serde::{Deserialize, Serialize};

use super::{Fan, FanMode, Initializer, fill_normal};
use crate::Validate;
use crate::rng::SeededRng;

/// N(0, 1/fan_in).
///
/// `lecun_normal` (also `lecun`): N(0, σ²) with σ = 1 / √fan_in.
///
/// LeCun et al. (1998), the init SELU nets expect. torch.nn.init has no function of this name;
/// it is `torch.nn.init.kaiming_normal_(w, mode="fan_in", nonlinearity="linear")` (gain 1).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LecunNormal {}

impl Validate for LecunNormal {}

impl Initializer for LecunNormal {
    fn fill(&self, fan: Fan, out: &mut [f64], rng: &mut SeededRng) {
        fill_normal(0.0, 1.0 / FanMode::FanIn.of(fan).sqrt(), out, rng);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::testing::{FAN, check_deterministic, check_normal};

    #[test]
    fn deterministic() {
        check_deterministic(&LecunNormal {});
    }

    #[test]
    fn moments() {
        // FAN has 30 inputs: σ = 1/√30.
        check_normal(&LecunNormal {}, FAN, 0.0, 30f64.sqrt().recip());
    }
}
