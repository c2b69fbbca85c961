use serde::{Deserialize, Serialize};

use super::{Fan, Initializer};
use crate::Validate;
use crate::rng::SeededRng;

/// 0 for every value.
///
/// `zeros`: every value 0 (`torch.nn.init.zeros_`), the usual bias init.
///
/// Draws nothing from the stream, so the values after it do not depend on the block's size.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Zeros {}

impl Validate for Zeros {}

impl Initializer for Zeros {
    fn fill(&self, _fan: Fan, out: &mut [f64], _rng: &mut SeededRng) {
        out.fill(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::testing::{FAN, draw};
    use crate::rng::{seeded, unit};

    #[test]
    fn fills_zeros_and_draws_nothing() {
        assert!(draw(&Zeros {}, FAN, 100, 1).iter().all(|&x| x == 0.0));
        let mut rng = seeded(1);
        Zeros {}.fill(FAN, &mut [1.0; 10], &mut rng);
        assert_eq!(unit(&mut rng), unit(&mut seeded(1)));
    }
}
