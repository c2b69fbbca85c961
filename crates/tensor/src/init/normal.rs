use serde::{Deserialize, Serialize};

use super::{Fan, Initializer, fill_normal};
use crate::rng::SeededRng;
use crate::spec::{finite, positive};
use crate::{SpecError, Validate};

/// N(mean, std²) for every value.
///
/// `normal`: every value drawn from N(mean, std²) (`torch.nn.init.normal_`, defaults mean = 0,
/// std = 1).
///
/// `x = mean + std·n`, `n` from [`standard_normal`](crate::rng::standard_normal) (Box–Muller,
/// two uniform draws per value).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Normal {
    /// Mean. Default 0.
    pub mean: f64,
    /// Standard deviation (> 0). Default 1.
    pub std: f64,
}

impl Default for Normal {
    fn default() -> Self {
        Normal { mean: 0.0, std: 1.0 }
    }
}

impl Validate for Normal {
    fn validate(&self) -> Result<(), SpecError> {
        finite("mean", self.mean)?;
        positive("std", self.std)
    }
}

impl Initializer for Normal {
    fn fill(&self, _fan: Fan, out: &mut [f64], rng: &mut SeededRng) {
        fill_normal(self.mean, self.std, out, rng);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::testing::{FAN, check_deterministic, check_normal};

    #[test]
    fn deterministic() {
        check_deterministic(&Normal::default());
    }

    #[test]
    fn moments() {
        check_normal(&Normal::default(), FAN, 0.0, 1.0);
        check_normal(&Normal { mean: -3.0, std: 0.02 }, FAN, -3.0, 0.02);
    }

    /// Each value is `mean + std·z`, `z` the stream's next [`standard_normal`] draw, in order
    /// (the moments alone could not tell `mean − std·z` from it, which would change every
    /// seeded run).
    #[test]
    fn each_value_is_mean_plus_std_times_the_next_draw() {
        use crate::rng::{seeded, standard_normal};
        let mut out = [0.0; 6];
        Normal { mean: 1.5, std: 0.25 }.fill(FAN, &mut out, &mut seeded(11));
        let mut rng = seeded(11);
        let want: Vec<f64> = (0..6).map(|_| 1.5 + 0.25 * standard_normal(&mut rng)).collect();
        assert_eq!(out.to_vec(), want);
    }

    #[test]
    fn std_must_be_positive() {
        assert!(Normal { mean: 0.0, std: 0.0 }.validate().is_err());
        assert!(Normal { mean: f64::NAN, std: 1.0 }.validate().is_err());
    }
}
