//! Datasets: input and target matrices, and the builtin ones a config can name.
//!
//! A [`Dataset`] is two matrices with one row per sample: `inputs` (samples, features) and
//! `targets` (samples, outputs). [`DataSpec`] is this crate's part of a config (`[data]`).
//!
//! ```
//! use backprop_data::DataSpec;
//!
//! let data = DataSpec::HalfAdder {}.load::<f64>().unwrap();
//! assert_eq!(data.inputs.dim(), (4, 2));
//! assert_eq!(data.targets.row(3).to_vec(), vec![0.0, 1.0]); // 1 + 1 = 10₂: sum 0, carry 1
//! ```

mod builtin;

use backprop_tensor::{Element, Matrix, Validate};
use serde::{Deserialize, Serialize};

/// Inputs and targets, one row per sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset<F> {
    /// A short name for messages.
    pub name: String,
    /// (samples, features).
    pub inputs: Matrix<F>,
    /// (samples, outputs).
    pub targets: Matrix<F>,
}

/// A dataset that does not fit the network it was given to.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DataError {
    /// The sample widths disagree with the network's.
    #[error(
        "dataset `{name}` has {features} inputs and {outputs} targets per sample, the network takes {want_inputs} inputs and gives {want_outputs} outputs"
    )]
    Shape {
        /// The dataset.
        name: String,
        /// Its features per sample.
        features: usize,
        /// Its targets per sample.
        outputs: usize,
        /// The network's inputs.
        want_inputs: usize,
        /// The network's outputs.
        want_outputs: usize,
    },
    /// The dataset has no samples.
    #[error("dataset `{0}` has no samples")]
    Empty(String),
}

impl<F: Element> Dataset<F> {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.inputs.nrows()
    }
    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Features per sample.
    pub fn features(&self) -> usize {
        self.inputs.ncols()
    }
    /// Targets per sample.
    pub fn outputs(&self) -> usize {
        self.targets.ncols()
    }
    /// Fails unless every sample has `inputs` features and `outputs` targets (the post's
    /// `ValueError`).
    pub fn check_fits(&self, inputs: usize, outputs: usize) -> Result<(), DataError> {
        if self.is_empty() {
            return Err(DataError::Empty(self.name.clone()));
        }
        if self.features() != inputs || self.outputs() != outputs {
            return Err(DataError::Shape {
                name: self.name.clone(),
                features: self.features(),
                outputs: self.outputs(),
                want_inputs: inputs,
                want_outputs: outputs,
            });
        }
        Ok(())
    }
}

/// The `[data]` table: where the samples come from, chosen by `source`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case", deny_unknown_fields)]
pub enum DataSpec {
    /// Two bits in, (sum, carry) out: the post's data set, in its order.
    HalfAdder {},
    /// Three bits in (a, b, carry-in), (sum, carry-out) out.
    FullAdder {},
    /// Two bits in, their exclusive or out.
    Xor {},
}

impl Default for DataSpec {
    fn default() -> Self {
        DataSpec::HalfAdder {}
    }
}

impl Validate for DataSpec {}

impl DataSpec {
    /// The dataset this spec names.
    pub fn load<F: Element>(&self) -> Result<Dataset<F>, DataError> {
        let (name, inputs, targets) = match self {
            DataSpec::HalfAdder {} => ("half_adder", builtin::truth_table(2, builtin::half_adder), 2),
            DataSpec::FullAdder {} => ("full_adder", builtin::truth_table(3, builtin::full_adder), 2),
            DataSpec::Xor {} => ("xor", builtin::truth_table(2, builtin::xor), 1),
        };
        let (x, t) = builtin::split(inputs, targets);
        Ok(Dataset { name: name.to_string(), inputs: x.mapv(F::of), targets: t.mapv(F::of) })
    }
}
