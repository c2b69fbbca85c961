//! Optimisers: update rules over flat parameter buffers.
//!
//! An optimiser sees the network's parameters and gradients as two flat slices of the same
//! length, plus a flat state buffer it asked for ([`Optimizer::state_len`], zero at the start)
//! and the step count. The state is passed in and out, never hidden, so a checkpoint is three
//! slices and a counter. Update rules follow PyTorch's documented algorithms, with the same
//! parameter names and defaults, so hyper-parameters port.
//!
//! ```
//! use backprop_optim::{Optimizer, Sgd};
//!
//! let sgd = Sgd { lr: 0.5 };
//! let mut params = [1.0, -1.0];
//! let grads = [0.2, -0.4];
//! let mut state = vec![0.0; Optimizer::<f64>::state_len(&sgd, params.len())];
//! sgd.step(&mut params, &grads, &mut state, 1, 0.5);
//! assert_eq!(params, [0.9, -0.8]);
//! ```
//!
//! To add an optimiser: write `my_optim.rs` with a struct implementing [`Optimizer`] and
//! [`Validate`](backprop_tensor::Validate), then add one line to the `registry!` below.

mod sgd;

pub use sgd::Sgd;

use backprop_tensor::Element;

/// A parameter update rule.
pub trait Optimizer<F: Element> {
    /// The learning rate the config gave (schedules scale it).
    fn lr(&self) -> f64;
    /// How many state values it keeps for `n_params` parameters (0 for plain SGD).
    fn state_len(&self, n_params: usize) -> usize;
    /// One update of `params` from `grads`. `state` holds [`state_len`](Self::state_len) values,
    /// all zero before the first step; `step` counts from 1; `lr` is this step's learning rate.
    fn step(&self, params: &mut [F], grads: &[F], state: &mut [F], step: u64, lr: F);
}

backprop_tensor::registry! {
    /// The optimisers a config can name (`[optim] kind = "sgd"`).
    pub enum OptimizerSpec: dyn Optimizer<F> {
        /// `θ ← θ − lr·g`.
        "sgd" => Sgd(Sgd),
    }
}

impl Default for OptimizerSpec {
    fn default() -> Self {
        OptimizerSpec::Sgd(Sgd::default())
    }
}

/// The `[optim]` table: the optimiser (`kind` and its parameters).
///
/// ```toml
/// [optim]
/// kind = "sgd"
/// lr = 0.5
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OptimSpec {
    /// The update rule and its parameters.
    pub optimizer: OptimizerSpec,
}

impl serde::Serialize for OptimSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.optimizer.serialize_table(s)
    }
}

impl<'de> serde::Deserialize<'de> for OptimSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(OptimSpec { optimizer: OptimizerSpec::deserialize(d)? })
    }
}

impl backprop_tensor::Validate for OptimSpec {
    fn validate(&self) -> Result<(), backprop_tensor::SpecError> {
        self.optimizer.validate()
    }
}
