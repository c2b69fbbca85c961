//! What a source hands to the splitter: inputs with class indices or target values, before the
//! targets become one-hot columns.

use backprop_tensor::{Element, Matrix};
use ndarray::Axis;

use crate::{Dataset, Task};

/// Targets before they become a matrix.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Targets<F> {
    /// One class index per sample (classification).
    Labels(Vec<usize>),
    /// One row of values per sample (regression).
    Values(Matrix<F>),
}

/// Samples as a source read them.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Samples<F> {
    pub name: String,
    pub inputs: Matrix<F>,
    pub targets: Targets<F>,
}

impl<F: Element> Samples<F> {
    pub fn len(&self) -> usize {
        self.inputs.nrows()
    }

    /// The class index of each sample, for classification.
    pub fn labels(&self) -> Option<&[usize]> {
        match &self.targets {
            Targets::Labels(l) => Some(l),
            Targets::Values(_) => None,
        }
    }

    /// The samples at `rows` (in that order), named `name`.
    pub fn select(&self, rows: &[usize], name: String) -> Self {
        let targets = match &self.targets {
            Targets::Labels(l) => Targets::Labels(rows.iter().map(|&i| l[i]).collect()),
            Targets::Values(v) => Targets::Values(v.select(Axis(0), rows)),
        };
        Samples { name, inputs: self.inputs.select(Axis(0), rows), targets }
    }

    /// The dataset, with labels one-hot over `classes` columns.
    pub fn into_dataset(self, classes: usize) -> Dataset<F> {
        let targets = match self.targets {
            Targets::Values(v) => v,
            Targets::Labels(labels) => {
                let mut t = Matrix::zeros((labels.len(), classes));
                for (mut row, &c) in t.outer_iter_mut().zip(&labels) {
                    row[c] = F::one();
                }
                t
            }
        };
        Dataset { name: self.name, inputs: self.inputs, targets }
    }
}

impl Samples<f64> {
    /// The same samples in another element type.
    pub fn cast<F: Element>(self) -> Samples<F> {
        let targets = match self.targets {
            Targets::Labels(l) => Targets::Labels(l),
            Targets::Values(v) => Targets::Values(v.mapv(F::of)),
        };
        Samples { name: self.name, inputs: self.inputs.mapv(F::of), targets }
    }
}

/// Everything a source read: the main samples, the samples of separate validation and test
/// files, and what the columns are.
#[derive(Clone, Debug)]
pub(crate) struct Loaded<F> {
    pub main: Samples<F>,
    pub validation: Option<Samples<F>>,
    pub test: Option<Samples<F>>,
    pub task: Task,
    pub classes: Option<Vec<String>>,
    pub feature_names: Vec<String>,
    pub target_names: Vec<String>,
    /// What loads but is worth saying ([`Splits::warnings`](crate::Splits::warnings)).
    pub warnings: Vec<String>,
}

impl<F> Loaded<F> {
    /// Only `main`: no separate files.
    pub fn single(
        main: Samples<F>,
        task: Task,
        classes: Option<Vec<String>>,
        features: Vec<String>,
        targets: Vec<String>,
    ) -> Self {
        Loaded {
            main,
            validation: None,
            test: None,
            task,
            classes,
            feature_names: features,
            target_names: targets,
            warnings: Vec::new(),
        }
    }
}

/// `x0`, `x1`, … for `n` unnamed features.
pub(crate) fn numbered(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

/// `"0"`, `"1"`, … for `n` classes.
pub(crate) fn class_names(n: usize) -> Vec<String> {
    (0..n).map(|i| i.to_string()).collect()
}
