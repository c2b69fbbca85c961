//! Weight and bias initialisers, each one file, registered by name in [`InitSpec`].
//!
//! An initialiser fills a parameter block with `f64` values drawn from the run's seeded stream;
//! the caller rounds them to the run's dtype, so an `f32` run starts from the rounded `f64` start.
//!
//! To add one: write `my_init.rs` with a struct implementing [`Initializer`] and
//! [`Validate`](crate::Validate), then add one line to the `registry!` below.

mod uniform;

pub use uniform::Uniform;

use crate::rng::SeededRng;

/// The shape a parameter block belongs to: the layer's inputs and units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fan {
    /// Inputs to the layer (rows of its weight matrix).
    pub fan_in: usize,
    /// Units of the layer (columns of its weight matrix).
    pub fan_out: usize,
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
    }
}

impl Default for InitSpec {
    fn default() -> Self {
        InitSpec::Uniform(Uniform::default())
    }
}
