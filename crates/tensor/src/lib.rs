//! The numeric floor of backprop: the element type, ndarray aliases, the few matrix helpers the
//! other crates share, the seeded RNG, and the weight initialisers.
//!
//! - [`Element`] is the scalar trait every crate is generic over; it is implemented for `f32` and
//!   `f64` and nothing else. [`Dtype`] is its runtime name (`experiment.dtype` in a config).
//! - [`linalg`] holds matrix products that write into preallocated outputs
//!   ([`linalg::matmul_into`]), so the training loop never allocates. Transposes are ndarray views
//!   (`.t()`); only a large product copies a column-major left operand, row-major, into a buffer
//!   it keeps (`linalg/packed.rs`).
//! - [`math`] computes `exp` itself: the same bits on every machine, vectorised over slices.
//! - [`rng`] is the one source of randomness: a seeded, portable ChaCha stream.
//! - [`init`] holds the initialisers a config can name (`init = { kind = "uniform", … }`).
//! - [`registry!`] turns a list of `"name" => Type` lines into the serde-tagged enum a config names.
//!
//! This crate knows nothing about layers, losses, optimisers, files or the command line.
//!
//! ```
//! use backprop_tensor::{linalg, Matrix};
//! use ndarray::array;
//!
//! let a = array![[1.0, 2.0], [3.0, 4.0]];
//! let b = array![[1.0], [1.0]];
//! let mut c = Matrix::<f64>::zeros((2, 1));
//! linalg::matmul_into(a.view(), b.view(), c.view_mut(), false);
//! assert_eq!(c, array![[3.0], [7.0]]);
//! ```

mod element;
pub mod init;
pub mod linalg;
pub mod math;
mod registry;
pub mod rng;
pub mod spec;

pub use element::{Dtype, Element};
/// The ndarray these crates' matrices are (0.17), for code that builds them without a
/// dependency of its own that must match its version:
///
/// ```
/// use backprop_tensor::{Matrix, ndarray::array};
/// let m: Matrix<f64> = array![[1.0, 2.0]];
/// assert_eq!(m.ncols(), 2);
/// ```
pub use ndarray;
pub use spec::{SpecError, Validate};

/// An owned matrix; rows are samples, columns are features or units.
pub type Matrix<F> = ndarray::Array2<F>;
/// A borrowed matrix.
pub type MatView<'a, F> = ndarray::ArrayView2<'a, F>;
/// A mutably borrowed matrix.
pub type MatViewMut<'a, F> = ndarray::ArrayViewMut2<'a, F>;
/// An owned vector (a bias, a row).
pub type Vector<F> = ndarray::Array1<F>;

extern crate self as backprop_tensor;

// What `registry!`'s expansion names through `$crate`, so that a crate using the macro needs no
// dependency of its own for it; no crate's own code should use them (they depend on `toml` and
// `serde_path_to_error` directly). `#[serde(crate = …)]` takes a path as a string, so the
// expansion writes `backprop_tensor::__serde`: the dependency must keep that name.
#[doc(hidden)]
pub use serde as __serde;
#[doc(hidden)]
pub use serde_path_to_error as __path_to_error;
#[doc(hidden)]
pub use toml as __toml;
