//! `model.json`: a trained network as a file.
//!
//! ```json
//! {"format": "backprop.model", "version": 2, "dtype": "f64", "inputs": 2,
//!  "layers": [{"units": 2, "activation": "sigmoid", "weights": [[..], ..], "biases": [..]}, ..]}
//! ```
//! `weights[i][j]` is the weight from input `i` to unit `j` (the post's `W`, shape
//! (inputs, units)). Values are written as shortest round-trip decimals, so `f64` weights come
//! back bit for bit. The seed program (`seed_ann.py --dump-init/--dump-final/--init`) reads and
//! writes the same layout.
//!
//! Version 2 added `targets` (the regression targets' names) and `target_normalizer` (their
//! scaling, `normalize_targets`); a version-1 file is a version-2 file without them, and reads
//! as one.

use std::path::Path;

use backprop_data::{Normalizer, Task};
use backprop_layers::{ActivationSpec, LayerSpec, Network};
use backprop_tensor::{Dtype, Element, Validate};
use serde::{Deserialize, Serialize};

use crate::error::CliError;
use crate::fsutil;

/// The `format` field every model file carries.
pub const FORMAT: &str = "backprop.model";
/// The model-file version this build writes (it reads [`FIRST_VERSION`] to this one).
pub const VERSION: u32 = 2;
/// The oldest model-file version this build reads.
pub const FIRST_VERSION: u32 = 1;

/// A model file's contents. An unknown field is refused: a misspelt `normaliser` would leave
/// `predict` unscaled without a word.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`] when written by this build; [`FIRST_VERSION`] to it when read.
    pub version: u32,
    /// The dtype the network was trained in.
    pub dtype: Dtype,
    /// Number of inputs.
    pub inputs: usize,
    /// The layers, input side first.
    pub layers: Vec<LayerRecord>,
    /// `classification` or `regression`, when trained by `backprop train`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<Task>,
    /// Class labels, one per output (classification), so `predict` prints labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<String>>,
    /// Names of the input features (CSV column names), so `predict --csv` finds them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<String>>,
    /// The input scaling fitted on the training split; `predict` and `eval` apply it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalizer: Option<Normalizer>,
    /// Names of the regression targets, one per output, so `predict --format csv` names its
    /// columns after them (version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<String>>,
    /// The regression targets' scaling (`normalize_targets`) fitted on the training split: the
    /// network's outputs are scaled targets, which `predict` turns back into the targets' units
    /// and `eval` scores in them (version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_normalizer: Option<Normalizer>,
    /// Where the model came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
}

/// Where a trained model came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// The version of backprop that trained it.
    pub backprop_version: String,
    /// The experiment seed.
    pub seed: u64,
    /// FNV-1a (64-bit, hex) of the training split's inputs and targets as f64 bits, row-major.
    pub data_hash: String,
    /// The fully resolved config, as TOML.
    pub config: String,
    /// The run's final figures (`summary.json`).
    pub metrics: serde_json::Value,
}

/// FNV-1a over the f64 bits of `inputs` then `targets` (row-major): a fingerprint of the
/// training data that does not depend on the platform.
pub fn data_hash<F: Element>(
    inputs: backprop_tensor::MatView<'_, F>,
    targets: backprop_tensor::MatView<'_, F>,
) -> String {
    fnv1a(inputs.iter().chain(targets.iter()).flat_map(|x| x.f64().to_bits().to_le_bytes()))
}

/// FNV-1a of a text's UTF-8 bytes (a checkpoint's fingerprint of the config it was written
/// under).
pub fn text_hash(text: &str) -> String {
    fnv1a(text.bytes())
}

/// FNV-1a of bytes (a sweep's fingerprint of a file its trials read).
pub fn bytes_hash(bytes: &[u8]) -> String {
    fnv1a(bytes.iter().copied())
}

/// FNV-1a (64-bit) of `bytes`, as 16 hex digits.
fn fnv1a(bytes: impl Iterator<Item = u8>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// One layer of a model file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerRecord {
    /// Number of units.
    pub units: usize,
    /// Its activation.
    pub activation: ActivationSpec,
    /// `weights[i][j]`: from input `i` to unit `j`.
    pub weights: Vec<Vec<f64>>,
    /// One bias per unit.
    pub biases: Vec<f64>,
}

impl ModelFile {
    /// The file for `net`.
    pub fn from_network<F: Element>(net: &Network<F>) -> Self {
        let layers = (0..net.layers().len())
            .map(|l| {
                let layer = &net.layers()[l];
                LayerRecord {
                    units: layer.units,
                    activation: layer.activation.clone(),
                    weights: net.weights(l).outer_iter().map(|row| row.iter().map(|w| w.f64()).collect()).collect(),
                    biases: net.biases(l).iter().map(|b| b.f64()).collect(),
                }
            })
            .collect();
        ModelFile {
            format: FORMAT.into(),
            version: VERSION,
            dtype: F::DTYPE,
            inputs: net.inputs(),
            layers,
            task: None,
            classes: None,
            features: None,
            normalizer: None,
            targets: None,
            target_normalizer: None,
            provenance: None,
        }
    }

    /// The layer shapes and activations.
    pub fn architecture(&self) -> Vec<LayerSpec> {
        self.layers.iter().map(|l| LayerSpec::new(l.units, l.activation.clone())).collect()
    }

    /// The network this file holds (values rounded to `F`).
    ///
    /// # Panics
    /// When the file fails [`check`](Self::check) (a layer's weights of another shape than its
    /// units and inputs): [`read`](Self::read) checks it; a file built or deserialised by hand
    /// should be checked first.
    pub fn to_network<F: Element>(&self) -> Network<F> {
        let mut net = Network::new(self.inputs, &self.architecture());
        for (l, rec) in self.layers.iter().enumerate() {
            let (mut w, mut b) = net.layer_params_mut(l);
            for (i, row) in rec.weights.iter().enumerate() {
                for (j, &x) in row.iter().enumerate() {
                    w[[i, j]] = F::of(x);
                }
            }
            for (j, &x) in rec.biases.iter().enumerate() {
                b[j] = F::of(x);
            }
        }
        net
    }

    /// The model's outputs for `inputs` (one row per sample, the features as the data gives
    /// them), as `backprop predict` computes them: scaled by the model's normalizer, through the
    /// network in `F` (its dtype, [`ModelFile::dtype`], gives training's numbers), and scaled
    /// back by its target normalizer in f64, so a model trained with `normalize_targets` answers
    /// in the targets' own units. A value that `F` cannot hold comes out infinite or NaN, as the
    /// network's own arithmetic gives it; `backprop predict` refuses such rows, naming them.
    ///
    /// ```
    /// use backprop_cli::model_file::ModelFile;
    /// use backprop_layers::{ActivationSpec, LayerSpec, Network};
    /// use ndarray::array;
    ///
    /// let identity = ActivationSpec::from_name("identity").unwrap();
    /// let mut net = Network::<f64>::new(1, &[LayerSpec::new(1, identity)]);
    /// net.params_mut().copy_from_slice(&[2.0, 1.0]); // y′ = 2x + 1
    /// let mut file = ModelFile::from_network(&net);
    /// file.target_normalizer = Some(backprop_data::Normalizer {
    ///     kind: backprop_data::NormalizeKind::Standardize,
    ///     shift: vec![1000.0],
    ///     scale: vec![10.0],
    /// });
    /// let y = file.predict::<f64>(array![[3.0]].view()).unwrap();
    /// assert_eq!(y, array![[1070.0]]); // (2·3 + 1)·10 + 1000
    /// ```
    ///
    /// # Errors
    /// When `inputs` has another width than the model's inputs (the message says both).
    pub fn predict<F: Element>(
        &self,
        inputs: backprop_tensor::MatView<'_, f64>,
    ) -> Result<backprop_tensor::Matrix<f64>, String> {
        if inputs.ncols() != self.inputs {
            return Err(format!("{} values a row, the model takes {} inputs", inputs.ncols(), self.inputs));
        }
        let mut x = inputs.mapv(F::of);
        if let Some(n) = &self.normalizer {
            n.apply(&mut x).map_err(|e| e.to_string())?;
        }
        let mut y = self.to_network::<F>().predict(x.view()).mapv(|v| v.f64());
        if let Some(n) = &self.target_normalizer {
            n.invert(&mut y).map_err(|e| e.to_string())?;
        }
        Ok(y)
    }

    /// Reads and checks the model file at `path`.
    pub fn read(path: &Path) -> Result<Self, CliError> {
        let text = crate::fsutil::read_input_text(path, crate::fsutil::MODEL_LIMIT, "model file")?;
        let file: ModelFile = serde_json::from_str(&text).map_err(|e| {
            // A later version's file may hold fields this build does not know: its version is
            // the reason, not the first such field.
            let version = serde_json::from_str::<serde_json::Value>(&text).ok().and_then(|v| {
                (v.get("format")?.as_str()? == FORMAT).then_some(())?;
                v.get("version")?.as_u64().filter(|&n| !(u64::from(FIRST_VERSION)..=u64::from(VERSION)).contains(&n))
            });
            match version {
                Some(n) => CliError::Input(format!("{}: {}", path.display(), unsupported(n))),
                None => CliError::Input(format!(
                    "{}:{}:{}: not a valid model file: {e}",
                    path.display(),
                    e.line(),
                    e.column()
                )),
            }
        })?;
        file.check().map_err(|m| CliError::Input(format!("{}: {m}", path.display())))?;
        Ok(file)
    }

    /// Writes the file atomically, once it passes the checks [`read`](Self::read) makes (a
    /// network without layers, say, would be written and then refused).
    pub fn write(&self, path: &Path) -> Result<(), CliError> {
        self.check().map_err(|m| CliError::Input(format!("{}: not written: {m}", path.display())))?;
        fsutil::write_atomic(path, self.to_json().as_bytes())
    }

    /// The file's text (what [`write`](Self::write) writes).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a model file always serialises")
    }

    /// Checks the format, the version and that every shape and value is usable.
    pub fn check(&self) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!("`format` is {:?}, expected {FORMAT:?}", self.format));
        }
        if !(FIRST_VERSION..=VERSION).contains(&self.version) {
            return Err(unsupported(u64::from(self.version)));
        }
        if self.inputs == 0 || self.layers.is_empty() {
            return Err("a model needs at least 1 input and 1 layer".into());
        }
        let mut fan_in = self.inputs;
        for (l, rec) in self.layers.iter().enumerate() {
            rec.activation.validate().map_err(|e| format!("layers[{l}].activation: {e}"))?;
            if rec.units == 0 {
                return Err(format!("layers[{l}].units: a layer needs at least 1 unit"));
            }
            if rec.biases.len() != rec.units {
                return Err(format!(
                    "layers[{l}]: `units` is {} but `biases` has {} values",
                    rec.units,
                    rec.biases.len()
                ));
            }
            if rec.weights.len() != fan_in {
                return Err(format!(
                    "layers[{l}].weights: {} rows, expected {fan_in} (the layer's inputs)",
                    rec.weights.len()
                ));
            }
            for (i, row) in rec.weights.iter().enumerate() {
                if row.len() != rec.units {
                    return Err(format!(
                        "layers[{l}].weights[{i}]: {} values, expected {} (units)",
                        row.len(),
                        rec.units
                    ));
                }
                if let Some(j) = row.iter().position(|x| !x.is_finite()) {
                    return Err(format!("layers[{l}].weights[{i}][{j}]: not a finite number"));
                }
            }
            if let Some(j) = rec.biases.iter().position(|x| !x.is_finite()) {
                return Err(format!("layers[{l}].biases[{j}]: not a finite number"));
            }
            fan_in = rec.units;
        }
        if let Some(classes) = &self.classes {
            // One output is two classes (0 and 1), several are one class each.
            let outputs = self.layers.last().map_or(0, |l| l.units);
            let want = if outputs == 1 { 2 } else { outputs };
            if classes.len() != want {
                return Err(format!(
                    "`classes` names {} classes for {outputs} outputs (which are {want} classes)",
                    classes.len()
                ));
            }
            // As training's labels are: never empty, each once (`predict` would print one name
            // for two classes).
            if let Some(j) = classes.iter().position(|c| c.trim().is_empty()) {
                return Err(format!("classes[{j}]: an empty class name"));
            }
            if let Some((j, name)) = first_repeat(classes) {
                return Err(format!("classes[{j}]: `{name}` is named twice"));
            }
        }
        // `predict` names a classifier's classes; one without them printed none.
        if self.task == Some(Task::Classification) && self.classes.is_none() {
            return Err("`task` is classification, but the model has no `classes`".into());
        }
        check_normalizer("normalizer", self.normalizer.as_ref(), self.inputs, "inputs")?;
        let outputs = self.layers.last().map_or(0, |l| l.units);
        check_normalizer("target_normalizer", self.target_normalizer.as_ref(), outputs, "outputs")?;
        if self.classes.is_some() && self.target_normalizer.as_ref().is_some_and(|n| !n.is_identity()) {
            return Err("`target_normalizer` scales regression targets, but the model has `classes`".into());
        }
        if let Some(targets) = &self.targets {
            if targets.len() != outputs {
                return Err(format!("`targets` names {} columns for {outputs} outputs", targets.len()));
            }
            if let Some((j, name)) = first_repeat(targets) {
                return Err(format!("targets[{j}]: `{name}` is named twice"));
            }
        }
        if let Some(features) = &self.features
            && features.len() != self.inputs
        {
            return Err(format!("`features` names {} columns for {} inputs", features.len(), self.inputs));
        }
        // `predict --csv` picks the columns by these names: one named twice would be read twice
        // and another not at all.
        if let Some((j, name)) = self.features.as_deref().and_then(first_repeat) {
            return Err(format!("features[{j}]: `{name}` is named twice"));
        }
        Ok(())
    }
}

/// "model file version N is not supported (…)".
fn unsupported(version: u64) -> String {
    format!("model file version {version} is not supported (this build reads versions {FIRST_VERSION} to {VERSION})")
}

/// A normalizer of `count` columns (`what`), when it scales anything: as many shifts and scales,
/// every scale above 0 (JSON numbers are finite; a scale of 0 would divide its column by 0).
fn check_normalizer(key: &str, n: Option<&Normalizer>, count: usize, what: &str) -> Result<(), String> {
    let Some(n) = n.filter(|n| !n.is_identity()) else { return Ok(()) };
    for (part, values) in [("shift", &n.shift), ("scale", &n.scale)] {
        if values.len() != count {
            return Err(format!("{key}.{part} has {} values for {count} {what}", values.len()));
        }
    }
    // A fitted std or range is above 0; a hand-edited 0 would divide its column by 0, and a
    // negative one turn it around.
    if let Some(j) = n.scale.iter().position(|&x| x <= 0.0) {
        return Err(format!("{key}.scale[{j}]: must be above 0 (a std or range), got {}", n.scale[j]));
    }
    Ok(())
}

/// The index and name of the first name that an earlier one already is.
fn first_repeat(names: &[String]) -> Option<(usize, &str)> {
    let mut seen = std::collections::HashSet::new();
    names.iter().enumerate().find(|(_, n)| !seen.insert(n.as_str())).map(|(j, n)| (j, n.as_str()))
}

#[cfg(test)]
mod tests {
    use backprop_layers::{ActivationSpec, LayerSpec, Network};

    use super::ModelFile;

    /// What `write` writes, `read` reads back; a network it would refuse (no layers) is not
    /// written at all.
    #[test]
    fn write_writes_only_what_read_accepts() {
        let tmp = tempfile::Builder::new().prefix("bp-model-").tempdir().unwrap();
        let path = tmp.path().join("model.json");
        let layer = LayerSpec::new(2, ActivationSpec::from_name("sigmoid").expect("registered"));
        let net = Network::<f64>::new(2, &[layer]);
        ModelFile::from_network(&net).write(&path).unwrap();
        assert_eq!(ModelFile::read(&path).unwrap(), ModelFile::from_network(&net));
        let empty = tmp.path().join("empty.json");
        let err = ModelFile::from_network(&Network::<f64>::new(2, &[])).write(&empty).unwrap_err();
        assert!(err.to_string().contains("not written"), "{err}");
        assert!(!empty.exists());
    }

    /// FNV-1a's published vectors, and a data hash computed apart (Python: FNV-1a over
    /// `struct.pack('<d', v)` of 0, 1, −2.5, 0.5 then 1, 0).
    #[test]
    fn hashes_are_fnv1a_64() {
        assert_eq!(super::text_hash(""), "cbf29ce484222325");
        assert_eq!(super::text_hash("a"), "af63dc4c8601ec8c");
        assert_eq!(super::text_hash("foobar"), "85944171f73967e8");
        let inputs = ndarray::array![[0.0f32, 1.0], [-2.5, 0.5]];
        let targets = ndarray::array![[1.0f32], [0.0]];
        assert_eq!(super::data_hash(inputs.view(), targets.view()), "7b2cd07a511f67cc");
    }

    /// `classes` names one class per output, or two for a single 0/1 output, and nothing else.
    #[test]
    fn classes_match_the_outputs() {
        let file = |outputs: usize, classes: usize| {
            let layer = LayerSpec::new(outputs, ActivationSpec::from_name("sigmoid").expect("registered"));
            let mut file = ModelFile::from_network(&Network::<f64>::new(2, &[layer]));
            file.classes = Some((0..classes).map(|c| format!("c{c}")).collect());
            file.check()
        };
        for (outputs, classes) in [(1, 2), (2, 2), (3, 3)] {
            assert_eq!(file(outputs, classes), Ok(()), "{outputs} outputs, {classes} classes");
        }
        // One name for one output passed, and `eval` then panicked in its report, which counts
        // two classes there.
        for (outputs, classes, want) in [(1, 1, 2), (1, 3, 2), (2, 3, 2), (3, 2, 3), (2, 1, 2)] {
            let err = file(outputs, classes).unwrap_err();
            assert_eq!(
                err,
                format!("`classes` names {classes} classes for {outputs} outputs (which are {want} classes)")
            );
        }
    }

    /// A field the format does not have is refused (a misspelt `normaliser` left `predict`
    /// unscaled, exit 0), as are names that `predict` cannot tell apart: a feature or a class
    /// named twice, an empty class name.
    #[test]
    fn unknown_fields_and_names_twice_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let layer = LayerSpec::new(2, ActivationSpec::from_name("softmax").expect("registered"));
        let mut file = ModelFile::from_network(&Network::<f64>::new(2, &[layer]));
        file.features = Some(vec!["x0".into(), "x1".into()]);
        file.classes = Some(vec!["a".into(), "b".into()]);
        let path = tmp.path().join("m.json");
        file.write(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        for (from, to, said) in [
            ("\"features\"", "\"feature\"", "unknown field `feature`"),
            ("\"biases\"", "\"bias\"", "unknown field `bias`"),
        ] {
            std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
            let err = ModelFile::read(&path).unwrap_err().to_string();
            assert!(err.contains(said), "{err}");
        }
        let refused = |edit: &dyn Fn(&mut ModelFile)| {
            let mut f = file.clone();
            edit(&mut f);
            f.check().unwrap_err()
        };
        assert_eq!(refused(&|f| f.features = Some(vec!["x0".into(), "x0".into()])), "features[1]: `x0` is named twice");
        assert_eq!(refused(&|f| f.classes = Some(vec!["a".into(), "a".into()])), "classes[1]: `a` is named twice");
        assert_eq!(refused(&|f| f.classes = Some(vec![" ".into(), "a".into()])), "classes[0]: an empty class name");
        assert_eq!(file.check(), Ok(()));
        // A later version's file with a field this build does not know: its version is named.
        let later = text.replacen("\"version\": 2", "\"version\": 3,\n  \"calibration\": []", 1);
        assert_ne!(later, text);
        std::fs::write(&path, later).unwrap();
        let err = ModelFile::read(&path).unwrap_err().to_string();
        assert!(err.ends_with("model file version 3 is not supported (this build reads versions 1 to 2)"), "{err}");
        // Version 1 (no `targets`, no `target_normalizer`) reads as it was written; 0 does not.
        std::fs::write(&path, text.replacen("\"version\": 2", "\"version\": 1", 1)).unwrap();
        assert_eq!(ModelFile::read(&path).unwrap(), ModelFile { version: 1, ..file.clone() });
        std::fs::write(&path, text.replacen("\"version\": 2", "\"version\": 0", 1)).unwrap();
        let err = ModelFile::read(&path).unwrap_err().to_string();
        assert!(err.ends_with("model file version 0 is not supported (this build reads versions 1 to 2)"), "{err}");
    }

    /// `predict` takes rows of the model's width, scales them by its normalizer, and its
    /// outputs back by its target normalizer: y = (w·(x − shift)/scale + b)·scale′ + shift′.
    #[test]
    fn predict_scales_in_and_back() {
        let layer = LayerSpec::new(1, ActivationSpec::from_name("identity").expect("registered"));
        let mut net = Network::<f64>::new(2, &[layer]);
        net.params_mut().copy_from_slice(&[1.0, 2.0, 0.5]);
        let mut file = ModelFile::from_network(&net);
        let scaling = |shift: Vec<f64>, scale: Vec<f64>| backprop_data::Normalizer {
            kind: backprop_data::NormalizeKind::Standardize,
            shift,
            scale,
        };
        file.normalizer = Some(scaling(vec![1.0, 2.0], vec![2.0, 4.0]));
        file.target_normalizer = Some(scaling(vec![100.0], vec![10.0]));
        // x = (5, 10) → ((5 − 1)/2, (10 − 2)/4) = (2, 2) → 1·2 + 2·2 + 0.5 = 6.5 → 6.5·10 + 100.
        let y = file.predict::<f64>(ndarray::array![[5.0, 10.0]].view()).unwrap();
        assert_eq!(y, ndarray::array![[165.0]]);
        let err = file.predict::<f64>(ndarray::array![[5.0]].view()).unwrap_err();
        assert_eq!(err, "1 values a row, the model takes 2 inputs");
    }

    /// Version 2's fields: one target name and one target scaling per output, names once each,
    /// and no target scaling for a classifier.
    #[test]
    fn targets_and_their_scaling_fit_the_outputs() {
        let layer = LayerSpec::new(2, ActivationSpec::from_name("identity").expect("registered"));
        let mut file = ModelFile::from_network(&Network::<f64>::new(3, &[layer]));
        let scaling = |n: usize| backprop_data::Normalizer {
            kind: backprop_data::NormalizeKind::Standardize,
            shift: vec![1.0; n],
            scale: vec![2.0; n],
        };
        file.targets = Some(vec!["price".into(), "rent".into()]);
        file.target_normalizer = Some(scaling(2));
        assert_eq!(file.check(), Ok(()));
        let refused = |edit: &dyn Fn(&mut ModelFile)| {
            let mut f = file.clone();
            edit(&mut f);
            f.check().unwrap_err()
        };
        assert_eq!(refused(&|f| f.targets = Some(vec!["price".into()])), "`targets` names 1 columns for 2 outputs");
        assert_eq!(refused(&|f| f.targets = Some(vec!["a".into(), "a".into()])), "targets[1]: `a` is named twice");
        assert_eq!(
            refused(&|f| f.target_normalizer = Some(scaling(3))),
            "target_normalizer.shift has 3 values for 2 outputs"
        );
        let zero = |f: &mut ModelFile| f.target_normalizer.as_mut().unwrap().scale[1] = 0.0;
        assert_eq!(refused(&zero), "target_normalizer.scale[1]: must be above 0 (a std or range), got 0");
        let negative = |f: &mut ModelFile| f.target_normalizer.as_mut().unwrap().scale[0] = -2.0;
        assert_eq!(refused(&negative), "target_normalizer.scale[0]: must be above 0 (a std or range), got -2");
        let classifier = |f: &mut ModelFile| f.classes = Some(vec!["a".into(), "b".into()]);
        assert_eq!(refused(&classifier), "`target_normalizer` scales regression targets, but the model has `classes`");
        let unnamed = |f: &mut ModelFile| {
            f.target_normalizer = None;
            f.task = Some(backprop_data::Task::Classification);
        };
        assert_eq!(refused(&unnamed), "`task` is classification, but the model has no `classes`");
    }

    /// A normalizer's shifts and scales both have one value per input.
    #[test]
    fn a_normalizer_has_a_shift_and_a_scale_per_input() {
        let layer = LayerSpec::new(1, ActivationSpec::from_name("sigmoid").expect("registered"));
        let mut file = ModelFile::from_network(&Network::<f64>::new(2, &[layer]));
        let with = |shift: &[f64], scale: &[f64]| backprop_data::Normalizer {
            kind: backprop_data::NormalizeKind::Standardize,
            shift: shift.to_vec(),
            scale: scale.to_vec(),
        };
        file.normalizer = Some(with(&[0.0, 1.0], &[1.0, 2.0]));
        assert_eq!(file.check(), Ok(()));
        // The message names the list whose count is off (the shift first).
        let cases = [
            (&[0.0][..], &[1.0, 2.0][..], "normalizer.shift has 1 values for 2 inputs"),
            (&[0.0, 1.0], &[1.0], "normalizer.scale has 1 values for 2 inputs"),
            (&[0.0], &[1.0], "normalizer.shift has 1 values for 2 inputs"),
        ];
        for (shift, scale, want) in cases {
            file.normalizer = Some(with(shift, scale));
            assert_eq!(file.check().unwrap_err(), want, "{shift:?} {scale:?}");
        }
    }
}
