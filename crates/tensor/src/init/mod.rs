//! Weight and bias initialisers, each one file, registered by name in [`InitSpec`].
//!
//! An initialiser fills a parameter block with `f64` values drawn from the run's seeded stream;
//! the caller rounds them to the run's dtype, so an `f32` run starts from the rounded `f64` start.
//!
//! To add one: write `my_init.rs` with a struct implementing [`Initializer`] and
//! [`Validate`](crate::Validate), then add its line to the `registry!` below, beside
//! the file's `mod` and `pub use` lines (ARCHITECTURE.md, "Adding a component", has the rest).

mod constant;
mod kaiming_normal;
mod kaiming_uniform;
mod lecun_normal;
mod lecun_uniform;
mod normal;
mod uniform;
mod xavier_normal;
mod xavier_uniform;
mod zeros;

pub use constant::Constant;
pub use kaiming_normal::KaimingNormal;
pub use kaiming_uniform::KaimingUniform;
pub use lecun_normal::LecunNormal;
pub use lecun_uniform::LecunUniform;
pub use normal::Normal;
pub use uniform::Uniform;
pub use xavier_normal::XavierNormal;
pub use xavier_uniform::XavierUniform;
pub use zeros::Zeros;

use serde::{Deserialize, Serialize};

use crate::rng::{SeededRng, standard_normal, unit};

/// The shape a parameter block belongs to: the layer's inputs and units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fan {
    /// Inputs to the layer (rows of its weight matrix).
    pub fan_in: usize,
    /// Units of the layer (columns of its weight matrix).
    pub fan_out: usize,
}

impl Fan {
    /// `fan_in + fan_out`, as the Xavier initialisers use it (at least 1).
    pub fn sum(self) -> f64 {
        (self.fan_in + self.fan_out).max(1) as f64
    }
}

/// Which side of a layer a scaled initialiser counts (PyTorch's `mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FanMode {
    /// The layer's inputs: keeps the forward pass's variance (`"fan_in"`, the default).
    #[default]
    FanIn,
    /// The layer's units: keeps the backward pass's variance (`"fan_out"`).
    FanOut,
}

impl FanMode {
    /// The fan this mode counts in `fan` (at least 1, so a scale is never infinite).
    pub fn of(self, fan: Fan) -> f64 {
        let n = match self {
            FanMode::FanIn => fan.fan_in,
            FanMode::FanOut => fan.fan_out,
        };
        n.max(1) as f64
    }
}

/// The non-linearity a Kaiming initialiser keeps the variance for (PyTorch's `nonlinearity`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Nonlinearity {
    /// Gain 1.
    Linear,
    /// Gain 1.
    Sigmoid,
    /// Gain 5/3.
    Tanh,
    /// Gain √2.
    Relu,
    /// Gain √(2/(1 + a²)), `a` the negative slope (the default, with `a = 0`: √2).
    #[default]
    LeakyRelu,
    /// Gain 3/4.
    Selu,
}

impl Nonlinearity {
    /// `torch.nn.init.calculate_gain(nonlinearity, a)`; `a` matters for `leaky_relu` only.
    pub fn gain(self, a: f64) -> f64 {
        match self {
            Nonlinearity::Linear | Nonlinearity::Sigmoid => 1.0,
            Nonlinearity::Tanh => 5.0 / 3.0,
            Nonlinearity::Relu => std::f64::consts::SQRT_2,
            Nonlinearity::LeakyRelu => (2.0 / (1.0 + a * a)).sqrt(),
            Nonlinearity::Selu => 0.75,
        }
    }
}

/// A Kaiming initialiser's gain: `gain` when given, else PyTorch's `calculate_gain` of
/// `nonlinearity` and `a`.
fn kaiming_gain(gain: Option<f64>, nonlinearity: Nonlinearity, a: f64) -> f64 {
    gain.unwrap_or_else(|| nonlinearity.gain(a))
}

/// Checks a Kaiming initialiser's parameters: `a` finite, and `gain` (> 0) given only in place
/// of `a` and `nonlinearity`, not beside them.
fn validate_kaiming(gain: Option<f64>, nonlinearity: Nonlinearity, a: f64) -> Result<(), crate::SpecError> {
    crate::spec::finite("a", a)?;
    match gain {
        None => Ok(()),
        Some(_) if a != 0.0 || nonlinearity != Nonlinearity::default() => Err(crate::SpecError::new(
            "gain",
            "give either `gain` or PyTorch's `a` and `nonlinearity`, which make the gain, not both",
        )),
        Some(g) => crate::spec::positive("gain", g),
    }
}

/// Fills `out` from U(−bound, bound), one [`unit()`] draw per value.
fn fill_symmetric(bound: f64, out: &mut [f64], rng: &mut SeededRng) {
    for x in out {
        *x = -bound + 2.0 * bound * unit(rng);
    }
}

/// Fills `out` from N(mean, std²), one [`standard_normal()`] per value.
fn fill_normal(mean: f64, std: f64, out: &mut [f64], rng: &mut SeededRng) {
    for x in out {
        *x = mean + std * standard_normal(rng);
    }
}

/// Fills a parameter block with initial values.
pub trait Initializer {
    /// Writes `out.len()` values, drawn in order from `rng`. `fan` is the layer's shape (for
    /// scaled initialisers); a bias block gets the same `fan` as its layer's weights.
    fn fill(&self, fan: Fan, out: &mut [f64], rng: &mut SeededRng);
}

crate::registry! {
    /// The initialisers a config can name (`init = { kind = "uniform", low = -1.0, high = 1.0 }`).
    pub enum InitSpec: dyn Initializer {
        /// `U(low, high)`: the post's `2·random() − 1` is the default.
        "uniform" => Uniform(Uniform),
        /// `N(mean, std²)` (`torch.nn.init.normal_`).
        "normal" => Normal(Normal),
        /// `U(±gain·√(6/(fan_in + fan_out)))` (`torch.nn.init.xavier_uniform_`).
        "xavier_uniform" => XavierUniform(XavierUniform),
        /// Another name for `xavier_uniform`.
        "glorot_uniform" => GlorotUniform(XavierUniform),
        /// `N(0, (gain·√(2/(fan_in + fan_out)))²)` (`torch.nn.init.xavier_normal_`).
        "xavier_normal" => XavierNormal(XavierNormal),
        /// Another name for `xavier_normal`.
        "glorot_normal" => GlorotNormal(XavierNormal),
        /// `U(±gain·√(3/fan))` (`torch.nn.init.kaiming_uniform_`, its `a`, `mode` and `nonlinearity`).
        "kaiming_uniform" => KaimingUniform(KaimingUniform),
        /// Another name for `kaiming_uniform`.
        "he_uniform" => HeUniform(KaimingUniform),
        /// `N(0, gain²/fan)` (`torch.nn.init.kaiming_normal_`, its `a`, `mode` and `nonlinearity`).
        "kaiming_normal" => KaimingNormal(KaimingNormal),
        /// Another name for `kaiming_normal`.
        "he_normal" => HeNormal(KaimingNormal),
        /// `N(0, 1/fan_in)`.
        "lecun_normal" => LecunNormal(LecunNormal),
        /// Another name for `lecun_normal`.
        "lecun" => Lecun(LecunNormal),
        /// `U(±√(3/fan_in))`.
        "lecun_uniform" => LecunUniform(LecunUniform),
        /// Every value 0 (`torch.nn.init.zeros_`), for biases.
        "zeros" => Zeros(Zeros),
        /// Every value `value` (`torch.nn.init.constant_`), for biases.
        "constant" => Constant(Constant),
    }
}

impl Default for InitSpec {
    fn default() -> Self {
        InitSpec::Uniform(Uniform::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Validate;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Doc {
        x: InitSpec,
    }

    fn parse(text: &str) -> InitSpec {
        toml::from_str::<Doc>(text).unwrap_or_else(|e| panic!("{text}: {e}")).x
    }

    #[test]
    fn every_name_round_trips_through_serde() {
        for &name in InitSpec::NAMES {
            let spec = InitSpec::from_name(name).expect("every listed name is known");
            assert_eq!(spec.name(), name);
            assert!(spec.validate().is_ok(), "{name} defaults are valid");
            assert_eq!(parse(&format!("x = \"{name}\"")), spec, "{name} as a bare name");
            assert_eq!(parse(&format!("x = {{ kind = \"{name}\" }}")), spec, "{name} as a table");
            let written = toml::to_string(&std::collections::BTreeMap::from([("x", &spec)])).unwrap();
            assert_eq!(parse(&written), spec, "{name} written back");
        }
    }

    #[test]
    fn parameters_come_from_tables() {
        let spec = parse("x = { kind = \"he_normal\", mode = \"fan_out\", gain = 1.0 }");
        let fan_out = KaimingNormal { mode: FanMode::FanOut, gain: Some(1.0), ..KaimingNormal::default() };
        assert_eq!(spec, InitSpec::HeNormal(fan_out));
        let written = toml::to_string(&std::collections::BTreeMap::from([("x", &spec)])).unwrap();
        assert_eq!(parse(&written), spec);
        let spec = parse("x = { kind = \"kaiming_uniform\", a = 2.0, nonlinearity = \"tanh\" }");
        let tanh = KaimingUniform { a: 2.0, nonlinearity: Nonlinearity::Tanh, ..KaimingUniform::default() };
        assert_eq!(spec, InitSpec::KaimingUniform(tanh));
        let written = toml::to_string(&std::collections::BTreeMap::from([("x", &spec)])).unwrap();
        assert_eq!(parse(&written), spec);
        assert!(toml::from_str::<Doc>("x = { kind = \"kaiming_uniform\", mode = \"fan_avg\" }").is_err());
        assert!(parse("x = { kind = \"normal\", std = -1.0 }").validate().is_err());
    }

    /// `torch.nn.init.calculate_gain` as PyTorch 2 documents it.
    #[test]
    fn gains_are_pytorchs() {
        let cases = [
            (Nonlinearity::Linear, 0.0, 1.0),
            (Nonlinearity::Sigmoid, 0.0, 1.0),
            (Nonlinearity::Tanh, 0.0, 5.0 / 3.0),
            (Nonlinearity::Relu, 0.3, 2f64.sqrt()),
            (Nonlinearity::LeakyRelu, 0.0, 2f64.sqrt()),
            (Nonlinearity::LeakyRelu, 5f64.sqrt(), (1.0f64 / 3.0).sqrt()),
            (Nonlinearity::Selu, 0.0, 0.75),
        ];
        for (nonlinearity, a, gain) in cases {
            assert_eq!(nonlinearity.gain(a), gain, "{nonlinearity:?}, a = {a}");
        }
        assert!(validate_kaiming(Some(1.0), Nonlinearity::Relu, 0.0).is_err());
        assert!(validate_kaiming(Some(1.0), Nonlinearity::LeakyRelu, 0.1).is_err());
        assert!(validate_kaiming(None, Nonlinearity::LeakyRelu, f64::NAN).is_err());
        assert!(validate_kaiming(Some(1.0), Nonlinearity::LeakyRelu, 0.0).is_ok());
    }

    #[test]
    fn the_default_is_the_posts_uniform() {
        assert_eq!(InitSpec::default(), InitSpec::Uniform(Uniform { low: -1.0, high: 1.0 }));
    }
}

/// Shared checks for the initialisers' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::{Fan, Initializer};
    use crate::rng::seeded;

    /// A layer with 30 inputs and 20 units.
    pub(crate) const FAN: Fan = Fan { fan_in: 30, fan_out: 20 };

    /// Draws of the statistical checks.
    const N: usize = 100_000;

    /// `n` values from `init` for `fan`, from the stream of `seed`.
    pub(crate) fn draw(init: &dyn Initializer, fan: Fan, n: usize, seed: u64) -> Vec<f64> {
        let mut out = vec![f64::NAN; n];
        init.fill(fan, &mut out, &mut seeded(seed));
        out
    }

    /// The same seed gives the same values; another seed gives others.
    pub(crate) fn check_deterministic(init: &dyn Initializer) {
        let a = draw(init, FAN, 1000, 11);
        assert_eq!(a, draw(init, FAN, 1000, 11));
        assert_ne!(a, draw(init, FAN, 1000, 12));
    }

    fn mean_std(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, var.sqrt())
    }

    /// Every value lies in `[low, high)`, the extremes come near both ends, and the mean and
    /// standard deviation are those of U(low, high) to within five standard errors.
    pub(crate) fn check_uniform(init: &dyn Initializer, fan: Fan, low: f64, high: f64) {
        let xs = draw(init, fan, N, 5);
        assert!(xs.iter().all(|x| (low..high).contains(x)), "a value outside [{low}, {high})");
        let width = high - low;
        let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
        let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert!(min < low + 1e-3 * width && max > high - 1e-3 * width, "range [{min}, {max}]");
        check_moments(&xs, (low + high) / 2.0, width / 12f64.sqrt());
    }

    /// The mean and standard deviation are `mean` and `std` to within five standard errors.
    pub(crate) fn check_normal(init: &dyn Initializer, fan: Fan, mean: f64, std: f64) {
        check_moments(&draw(init, fan, N, 5), mean, std);
    }

    fn check_moments(xs: &[f64], mean: f64, std: f64) {
        let n = xs.len() as f64;
        let (got_mean, got_std) = mean_std(xs);
        // Standard errors: σ/√n for the mean; about σ/√(2n) for the standard deviation (exact for
        // a normal, and larger than a uniform's, whose kurtosis is lower).
        assert!((got_mean - mean).abs() < 5.0 * std / n.sqrt(), "mean {got_mean}, want {mean}");
        assert!((got_std - std).abs() < 5.0 * std / (2.0 * n).sqrt(), "std {got_std}, want {std}");
    }
}
