//! Dense layers, their activations, and the network that runs the post's forward and backward
//! passes over a whole batch.
//!
//! - [`Network`] holds the layer shapes and all parameters in one flat buffer (per layer: the
//!   weight matrix `W` of shape (inputs, units), row-major, then the bias `b`). Gradients use the
//!   same layout, so an optimiser sees two flat slices.
//! - [`Workspace`] holds every per-layer buffer (`z`, `a`, `∂C/∂a`, `δ`) for batches up to a
//!   size, allocated once; [`Network::forward`] and [`Network::backward`] allocate nothing.
//! - [`activation`] holds the activations; [`ActivationSpec`] is their registry.
//! - [`ModelSpec`] is this crate's part of a config (`[model]`).
//!
//! Conventions (the post's): rows of a batch are samples, `z = a·W + b`, and
//! `δᴸ = ∂C/∂aᴸ ⊙ σ′(zᴸ)`, `δˡ = (δˡ⁺¹ Wˡ⁺¹ᵀ) ⊙ σ′(zˡ)`, `∂C/∂Wˡ = aˡ⁻¹ᵀ δˡ`, `∂C/∂bˡ = Σ_rows δˡ`.
//! The loss supplies `∂C/∂aᴸ`, already averaged over the batch, so the gradients come out as the
//! batch mean. This crate knows nothing about losses, optimisers, data or files.
//!
//! ```
//! use backprop_layers::{ActivationSpec, LayerSpec, Network, Workspace};
//! use ndarray::array;
//!
//! let layers = [LayerSpec::new(2, ActivationSpec::from_name("sigmoid").unwrap())];
//! let mut net = Network::<f64>::new(2, &layers);
//! net.params_mut().copy_from_slice(&[1.0, 0.0, 0.0, 1.0, 0.0, 0.0]); // W = I, b = 0
//! let x = array![[0.0, 0.0]];
//! let mut ws = Workspace::new(&net, 1);
//! net.forward(x.view(), &mut ws);
//! assert_eq!(ws.output(1), array![[0.5, 0.5]]);
//! ```

pub mod activation;
mod model;
mod network;

pub use activation::{Activation, ActivationSpec, Elementwise};
pub use model::{HiddenLayer, InitConfig, LayerSpec, MAX_PARAMS, ModelSpec, layer_initializers, relu_like};
pub use network::{Dense, Mode, Network, PASS_BYTES, Workspace, allocatable, parts};
