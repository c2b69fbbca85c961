//! Datasets: where the samples come from, how they are split and scaled, and the matrices the
//! trainer sees.
//!
//! A [`Dataset`] is two matrices with one row per sample: `inputs` (samples, features) and
//! `targets` (samples, outputs). [`DataSpec`] is this crate's part of a config (`[data]`): a
//! `source` and its keys. [`DataSpec::load_splits`] reads the source, holds out validation and
//! test samples ([`Preprocess`]), fits a [`Normalizer`] on the training split and returns the
//! [`Splits`]; [`DataSpec::load`] is its training split alone.
//!
//! Sources (`source = …`; each one's keys and defaults are on its type):
//! - truth tables, every input combination in binary counting order: `half_adder`,
//!   `full_adder`, `xor`, `and`, `or`, `parity` (`bits`, default 3). They take no other keys.
//! - seeded synthetic sets ([`Moons`], [`Circles`], [`Spirals`], [`Blobs`], [`Sine`]).
//! - `csv` ([`CsvSource`]): a CSV file with a header row, for regression or classification.
//! - `idx` ([`IdxSource`]): MNIST-style image and label files, raw or gzip-compressed.
//!
//! Classification sets have one-hot targets over [`Splits::classes`]. Files are read with
//! bounds (record length, cell count, claimed sizes checked before allocating), and every
//! problem is a [`DataError`] naming the file, the row or byte, and the column; no input makes
//! this crate panic. It knows nothing about networks, losses or the command line.
//!
//! ```
//! use backprop_data::{DataSpec, Moons, NormalizeKind, Preprocess, Task};
//! use std::path::Path;
//!
//! let data = DataSpec::HalfAdder {}.load::<f64>().unwrap();
//! assert_eq!(data.inputs.dim(), (4, 2));
//! assert_eq!(data.targets.row(3).to_vec(), vec![0.0, 1.0]); // 1 + 1 = 10₂: sum 0, carry 1
//!
//! // [data] source = "moons", samples = 500, noise = 0.2, validation = 0.2, normalize = "standardize"
//! let moons = Moons { samples: 500, noise: 0.2 };
//! let prep = Preprocess { validation: 0.2, normalize: NormalizeKind::Standardize, ..Preprocess::default() };
//! let splits = DataSpec::Moons(moons, prep).load_splits::<f32>(Path::new("."), 7).unwrap();
//! assert_eq!((splits.train.len(), splits.validation.unwrap().len()), (400, 100));
//! assert_eq!(splits.task, Task::Classification);
//! assert_eq!(splits.classes.unwrap(), ["0", "1"]);
//! assert_eq!(splits.normalizer.shift.len(), 2); // per-feature training means
//! ```

mod builtin;
mod csv_file;
mod error;
mod idx;
mod normalize;
mod samples;
mod spec;
mod split;
mod synthetic;

use std::path::Path;

use backprop_tensor::{Element, Matrix, Validate, rng};
use serde::{Deserialize, Serialize};

pub use csv_file::{Column, CsvSource, MAX_CELLS, MAX_RECORD_BYTES, class_index, read_csv_features, read_csv_text};
pub use error::{ColumnKey, DataError, Location};
pub use idx::{IdxSource, MAX_IDX_BYTES};
pub use normalize::{NormalizeKind, Normalizer};
pub use spec::Preprocess;
pub use synthetic::{Blobs, Circles, MAX_SAMPLES, Moons, Sine, Spirals};

use samples::{Loaded, Samples, Targets, numbered};

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
        // The fields are public: a set built by hand may pair inputs and targets of other lengths.
        if self.inputs.nrows() != self.targets.nrows() {
            return Err(DataError::RowMismatch {
                name: self.name.clone(),
                inputs: self.inputs.nrows(),
                targets: self.targets.nrows(),
            });
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

/// What the targets are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// One-hot targets over [`Splits::classes`].
    Classification,
    /// Numeric targets (the default; also the truth tables' bits).
    #[default]
    Regression,
}

impl Task {
    /// `"classification"` or `"regression"`.
    pub fn name(self) -> &'static str {
        match self {
            Task::Classification => "classification",
            Task::Regression => "regression",
        }
    }
}

/// A loaded source: the training split, the held-out splits, and what the columns mean.
#[derive(Clone, Debug, PartialEq)]
pub struct Splits<F> {
    /// The training samples, normalised.
    pub train: Dataset<F>,
    /// Validation samples (a `validation` fraction or a separate file), normalised.
    pub validation: Option<Dataset<F>>,
    /// Test samples (a `test` fraction or a separate file), normalised.
    pub test: Option<Dataset<F>>,
    /// Classification or regression.
    pub task: Task,
    /// For classification, the class of each target column (`"0"`, `"1"`, … for synthetic and
    /// IDX sets; the sorted labels of a CSV file).
    pub classes: Option<Vec<String>>,
    /// The name of each input column (a CSV file's header names; `x0`, `x1`, … or `pixel0`, …
    /// otherwise).
    pub feature_names: Vec<String>,
    /// The name of each target column as configured: the regression targets, or the one label
    /// column of a classification set.
    pub target_names: Vec<String>,
    /// The scaling fitted on `train` and already applied to every split; apply it to new inputs.
    pub normalizer: Normalizer,
    /// The scaling of the regression targets (`normalize_targets`), fitted on `train` and
    /// already applied to every split's targets; [`Normalizer::invert`] turns a network's
    /// outputs back into the targets' units. The identity unless asked for.
    pub target_normalizer: Normalizer,
    /// Where each training sample sits among the source's samples, from 0 (a CSV file's data
    /// rows, a generator's draws, in order): the held-out splits leave gaps.
    pub train_rows: Vec<usize>,
    /// What is worth a warning about the data, though it loads: a class of one sample, or two
    /// classes whose labels differ only in case (one label written two ways?).
    pub warnings: Vec<String>,
}

/// The `[data]` table: where the samples come from, chosen by `source`.
///
/// ```toml
/// [data]
/// source = "csv"
/// path = "iris.csv"            # relative to the config file's folder
/// targets = ["species"]
/// task = "classification"
/// validation = 0.2             # Preprocess: validation, test, normalize
/// normalize = "standardize"
/// ```
///
/// The truth tables take no keys but `source` (`parity` takes `bits`); every other source takes
/// its own keys (on its type) and the [`Preprocess`] keys. Unknown keys are refused naming the
/// key, with the keys there are. Serialising writes one flat table back, every key resolved.
#[derive(Clone, Debug, PartialEq)]
pub enum DataSpec {
    /// Two bits in, (sum, carry) out: the post's data set, in its order.
    HalfAdder {},
    /// Three bits in (a, b, carry-in), (sum, carry-out) out.
    FullAdder {},
    /// Two bits in, their exclusive or out.
    Xor {},
    /// Two bits in, their and out.
    And {},
    /// Two bits in, their or out.
    Or {},
    /// `bits` bits in (1 to 20, default 3), 1 when an odd number are set.
    Parity {
        /// Number of input bits.
        bits: usize,
    },
    /// Two interleaving half circles (`source = "moons"`).
    Moons(Moons, Preprocess),
    /// Two concentric circles (`source = "circles"`).
    Circles(Circles, Preprocess),
    /// Spiral arms, one per class (`source = "spirals"`).
    Spirals(Spirals, Preprocess),
    /// Gaussian clusters, one per class (`source = "blobs"`).
    Blobs(Blobs, Preprocess),
    /// A noisy sine, for regression (`source = "sine"`).
    Sine(Sine, Preprocess),
    /// A CSV file (`source = "csv"`).
    Csv(CsvSource, Preprocess),
    /// MNIST-style IDX files (`source = "idx"`).
    Idx(IdxSource, Preprocess),
}

impl Default for DataSpec {
    fn default() -> Self {
        DataSpec::HalfAdder {}
    }
}

impl DataSpec {
    /// Every `source` name, in order.
    pub const SOURCES: &'static [&'static str] = &[
        "half_adder",
        "full_adder",
        "xor",
        "and",
        "or",
        "parity",
        "moons",
        "circles",
        "spirals",
        "blobs",
        "sine",
        "csv",
        "idx",
    ];

    /// The `source` name of this spec.
    pub fn source(&self) -> &'static str {
        match self {
            DataSpec::HalfAdder {} => "half_adder",
            DataSpec::FullAdder {} => "full_adder",
            DataSpec::Xor {} => "xor",
            DataSpec::And {} => "and",
            DataSpec::Or {} => "or",
            DataSpec::Parity { .. } => "parity",
            DataSpec::Moons(..) => "moons",
            DataSpec::Circles(..) => "circles",
            DataSpec::Spirals(..) => "spirals",
            DataSpec::Blobs(..) => "blobs",
            DataSpec::Sine(..) => "sine",
            DataSpec::Csv(..) => "csv",
            DataSpec::Idx(..) => "idx",
        }
    }

    /// The split and scaling keys (`None` for the truth tables, which take none).
    pub fn preprocess(&self) -> Option<&Preprocess> {
        match self {
            DataSpec::HalfAdder {}
            | DataSpec::FullAdder {}
            | DataSpec::Xor {}
            | DataSpec::And {}
            | DataSpec::Or {}
            | DataSpec::Parity { .. } => None,
            DataSpec::Moons(_, p)
            | DataSpec::Circles(_, p)
            | DataSpec::Spirals(_, p)
            | DataSpec::Blobs(_, p)
            | DataSpec::Sine(_, p)
            | DataSpec::Csv(_, p)
            | DataSpec::Idx(_, p) => Some(p),
        }
    }

    /// The training split of [`load_splits`](Self::load_splits) with relative paths resolved
    /// against the current directory and seed 0.
    pub fn load<F: Element>(&self) -> Result<Dataset<F>, DataError> {
        self.load_splits(Path::new(""), 0).map(|s| s.train)
    }

    /// Reads the source, holds out the validation and test samples, and fits and applies the
    /// normalizer on the training split.
    ///
    /// Relative paths resolve against `base_dir` (the config file's folder). `seed` drives the
    /// synthetic draw (stream `seed` itself, so [`Moons::generate`] with the same seed gives
    /// the same samples before the split) and the split's shuffle (stream
    /// `derive_seed(seed, 1)`). Splits list their samples in the source's order. The spec is
    /// validated first ([`DataError::Spec`]).
    pub fn load_splits<F: Element>(&self, base_dir: &Path, seed: u64) -> Result<Splits<F>, DataError> {
        self.load_splits_as(base_dir, seed, Trained::default())
    }

    /// [`load_splits`](Self::load_splits) as a trained model sees the data: its classes in its
    /// order (a CSV label the model does not know is [`DataError::UnseenLabel`]; other sources
    /// must have the model's classes, [`DataError::ClassesDiffer`]) and its normalizer applied
    /// instead of one fitted on this data. What is not given is found as `load_splits` finds it.
    ///
    /// Where the targets are scaled (`normalize_targets`, or a model's target normalizer) and
    /// `F` is not f64, the targets are scaled in f64 and then rounded to `F` (the data is read a
    /// second time, in f64, for them): rounded first, prices of 1e8 + k in f32 are all one
    /// value, and scaling cannot part them again. The inputs are read and scaled in `F` either
    /// way, as `predict` reads them.
    pub fn load_splits_as<F: Element>(
        &self,
        base_dir: &Path,
        seed: u64,
        trained: Trained<'_>,
    ) -> Result<Splits<F>, DataError> {
        let splits = self.load_splits_in::<F>(base_dir, seed, trained)?;
        let scales_targets = match trained.target_normalizer {
            Some(n) => !n.is_identity(),
            None => self.preprocess().is_some_and(|p| !p.normalize_targets.is_none()),
        };
        if F::DTYPE == backprop_tensor::Dtype::F64 || !scales_targets {
            return Ok(splits);
        }
        let wide = self.load_splits_in::<f64>(base_dir, seed, trained)?;
        splits.with_targets_of(wide)
    }

    /// [`load_splits_as`](Self::load_splits_as) with everything read and scaled in `F`.
    fn load_splits_in<F: Element>(
        &self,
        base_dir: &Path,
        seed: u64,
        trained: Trained<'_>,
    ) -> Result<Splits<F>, DataError> {
        self.validate().map_err(DataError::Spec)?;
        let loaded: Loaded<F> = match self {
            DataSpec::HalfAdder {} => truth_table(self, 2, builtin::half_adder, &["sum", "carry"]),
            DataSpec::FullAdder {} => truth_table(self, 3, builtin::full_adder, &["sum", "carry"]),
            DataSpec::Xor {} => truth_table(self, 2, builtin::xor, &["xor"]),
            DataSpec::And {} => truth_table(self, 2, builtin::and, &["and"]),
            DataSpec::Or {} => truth_table(self, 2, builtin::or, &["or"]),
            DataSpec::Parity { bits } => truth_table(self, *bits, builtin::parity, &["parity"]),
            DataSpec::Moons(m, _) => synthetic::load_moons(m, seed),
            DataSpec::Circles(c, _) => synthetic::load_circles(c, seed),
            DataSpec::Spirals(s, _) => synthetic::load_spirals(s, seed),
            DataSpec::Blobs(b, _) => synthetic::load_blobs(b, seed),
            DataSpec::Sine(s, _) => synthetic::load_sine(s, seed),
            DataSpec::Csv(c, _) => csv_file::load(c, base_dir, trained.classes)?,
            DataSpec::Idx(i, _) => idx::load(i, base_dir)?,
        };
        if let (Some(model), Some(data)) = (trained.classes, &loaded.classes)
            && model != data.as_slice()
        {
            return Err(DataError::ClassesDiffer {
                name: loaded.main.name.clone(),
                data: data.clone().into_boxed_slice(),
                model: model.into(),
            });
        }
        if let Some(n) = trained.normalizer.filter(|n| !n.is_identity() && n.shift.len() != loaded.main.inputs.ncols())
        {
            return Err(DataError::FeaturesDiffer {
                name: loaded.main.name.clone(),
                data: loaded.main.inputs.ncols(),
                model: n.shift.len(),
            });
        }
        if let Some(n) = trained.target_normalizer.filter(|n| !n.is_identity()) {
            let data = match &loaded.main.targets {
                Targets::Values(v) => v.ncols(),
                // Class labels: a model whose targets were scaled was trained for regression.
                Targets::Labels(_) => 0,
            };
            if n.shift.len() != data {
                let (name, model) = (loaded.main.name.clone(), n.shift.len());
                return Err(DataError::TargetsDiffer { name, data, model });
            }
        }
        let prep = self.preprocess().cloned().unwrap_or_default();
        split_and_scale(loaded, &prep, rng::derive_seed(seed, 1), trained)
    }
}

impl<F: Element> Splits<F> {
    /// These splits with the targets, and the target normalizer, of `wide` (the same splits read
    /// in f64, scaled there), each target rounded to `F` once; a target past `F`'s range is
    /// [`DataError::NonFinite`], naming its split.
    fn with_targets_of(mut self, wide: Splits<f64>) -> Result<Self, DataError> {
        let take = |d: &mut Dataset<F>, w: Dataset<f64>| -> Result<(), DataError> {
            debug_assert_eq!(d.targets.dim(), w.targets.dim(), "the same rows, read twice");
            d.targets = w.targets.mapv(F::of);
            if !d.targets.iter().all(|x| x.is_finite()) {
                return Err(DataError::NonFinite { name: d.name.clone(), dtype: F::DTYPE });
            }
            Ok(())
        };
        take(&mut self.train, wide.train)?;
        for (d, w) in [(self.validation.as_mut(), wide.validation), (self.test.as_mut(), wide.test)] {
            if let (Some(d), Some(w)) = (d, w) {
                take(d, w)?;
            }
        }
        self.target_normalizer = wide.target_normalizer;
        Ok(self)
    }
}

/// What a trained model fixes about the data it reads (all stored in its model file): the
/// classes of its outputs and the scaling of its inputs and targets. For
/// [`DataSpec::load_splits_as`]; the default fixes nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Trained<'a> {
    /// The model's classes, in the order of its outputs.
    pub classes: Option<&'a [String]>,
    /// The scaling fitted on the model's training data.
    pub normalizer: Option<&'a Normalizer>,
    /// The scaling of the model's regression targets (`normalize_targets`).
    pub target_normalizer: Option<&'a Normalizer>,
}

/// A truth table as a regression set with features `x0`, `x1`, ….
fn truth_table<F: Element>(spec: &DataSpec, bits: usize, f: fn(&[u8]) -> Vec<u8>, targets: &[&str]) -> Loaded<F> {
    let (x, t) = builtin::split(builtin::truth_table(bits, f), targets.len());
    let samples = Samples { name: spec.source().to_string(), inputs: x, targets: Targets::Values(t) };
    let targets = targets.iter().map(|t| t.to_string()).collect();
    Loaded::single(samples.cast(), Task::Regression, None, numbered("x", bits), targets)
}

/// Holds out the `prep` fractions of `loaded.main`, fits the normalizers on what is left (or
/// takes `trained`'s), and turns every split into a dataset.
fn split_and_scale<F: Element>(
    loaded: Loaded<F>,
    prep: &Preprocess,
    seed: u64,
    trained: Trained<'_>,
) -> Result<Splits<F>, DataError> {
    let Loaded { main, validation, test, task, classes, feature_names, target_names, warnings } = loaded;
    let n_classes = classes.as_ref().map_or(0, Vec::len);
    let (train, validation, test, train_rows) = if prep.validation > 0.0 || prep.test > 0.0 {
        let parts = split::holdout(main.len(), main.labels().map(|l| (l, n_classes)), prep.validation, prep.test, seed);
        let held = |fraction: f64, rows: &[usize], split: &str| -> Result<Option<Samples<F>>, DataError> {
            if fraction <= 0.0 {
                return Ok(None);
            }
            if rows.is_empty() {
                let (name, split, samples) = (main.name.clone(), split.into(), main.len());
                if split::share(fraction, samples) > 0 {
                    // Every class is down to the one sample training keeps.
                    let (per_class, after_test) = (n_classes > 0, split == "validation" && prep.test > 0.0);
                    return Err(DataError::NoneToSpare { name, split, samples, per_class, after_test });
                }
                return Err(DataError::SplitTooSmall { name, split, samples });
            }
            Ok(Some(main.select(rows, format!("{} ({split})", main.name))))
        };
        let v = held(prep.validation, &parts.validation, "validation")?;
        let t = held(prep.test, &parts.test, "test")?;
        (main.select(&parts.train, main.name.clone()), v.or(validation), t.or(test), parts.train)
    } else {
        let rows = (0..main.len()).collect();
        (main, validation, test, rows)
    };
    let normalizer = match trained.normalizer {
        Some(n) => n.clone(),
        None => Normalizer::fit_checked(prep.normalize, &train.inputs).map_err(|j| DataError::NormalizeOverflow {
            name: train.name.clone(),
            column: feature_names.get(j).cloned().unwrap_or_else(|| format!("#{j}")),
        })?,
    };
    // Class labels are never scaled (the spec refuses `normalize_targets` for them).
    let target_normalizer = match (trained.target_normalizer, &train.targets) {
        (Some(n), _) => n.clone(),
        (None, Targets::Values(t)) => {
            Normalizer::fit_checked(prep.normalize_targets, t).map_err(|j| DataError::NormalizeTargetsOverflow {
                name: train.name.clone(),
                column: target_names.get(j).cloned().unwrap_or_else(|| format!("#{j}")),
            })?
        }
        (None, Targets::Labels(_)) => Normalizer::identity(),
    };
    let finish = |s: Samples<F>| -> Result<Dataset<F>, DataError> {
        let name = s.name.clone();
        let mut d = s.into_dataset(n_classes);
        normalizer.apply(&mut d.inputs)?;
        target_normalizer.apply(&mut d.targets)?;
        // A synthetic source's draw past the dtype's range (noise = 1e308, or 1e39 in f32):
        // refused here rather than reported as a divergence of the weights.
        if !d.inputs.iter().chain(d.targets.iter()).all(|x| x.is_finite()) {
            return Err(DataError::NonFinite { name, dtype: F::DTYPE });
        }
        Ok(d)
    };
    Ok(Splits {
        train: finish(train)?,
        validation: validation.map(finish).transpose()?,
        test: test.map(finish).transpose()?,
        task,
        classes,
        feature_names,
        target_names,
        normalizer,
        target_normalizer,
        train_rows,
        warnings,
    })
}
