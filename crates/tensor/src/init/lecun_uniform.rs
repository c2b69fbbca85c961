use serde::{Deserialize, Serialize};

use super::{Fan, FanMode, Initializer, fill_symmetric};
use crate::Validate;
use crate::rng::SeededRng;

/// U(±√(3/fan_in)).
///
/// `lecun_uniform`: U(−b, b) with b = √(3 / fan_in), variance 1/fan_in.
///
/// The uniform counterpart of `lecun_normal`. torch.nn.init has no function of this name; it is
/// `torch.nn.init.kaiming_uniform_(w, mode="fan_in", nonlinearity="linear")` (gain 1).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LecunUniform {}

impl Validate for LecunUniform {}

impl Initializer for LecunUniform {
    fn fill(&self, fan: Fan, out: &mut [f64], rng: &mut SeededRng) {
        fill_symmetric((3.0 / FanMode::FanIn.of(fan)).sqrt(), out, rng);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::testing::{FAN, check_deterministic, check_uniform};

    #[test]
    fn deterministic() {
        check_deterministic(&LecunUniform {});
    }

    #[test]
    fn bounds_and_moments() {
        // FAN has 30 inputs: b = √(3/30).
        let b = 0.1f64.sqrt();
        check_uniform(&LecunUniform {}, FAN, -b, b);
    }
}
