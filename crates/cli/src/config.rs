//! The experiment config: one TOML file, one table per crate's spec, composed here.
//!
//! Loading goes: read the file, parse the TOML, apply `--set key=value` overrides, deserialise
//! into [`Config`] (unknown keys and wrong types are errors), then validate every value. Each
//! failure becomes a [`CliError::Config`] naming the file, the line and column of the key, and
//! the key, with a "did you mean" suggestion when a name is close to a known one.

use std::path::{Path, PathBuf};

use backprop_data::DataSpec;
use backprop_layers::{ActivationSpec, ModelSpec};
use backprop_loss::LossSpec;
use backprop_optim::OptimSpec;
use backprop_tensor::spec::positive;
use backprop_tensor::{Dtype, SpecError, Validate};
use serde::{Deserialize, Serialize};

use crate::error::CliError;
use crate::train::{EarlyStopping, Monitor};

/// A whole experiment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[experiment]`: name, seed, dtype.
    #[serde(default)]
    pub experiment: ExperimentSpec,
    /// `[data]`: where the samples come from.
    #[serde(default)]
    pub data: DataSpec,
    /// `[model]`: the architecture and its start.
    #[serde(default)]
    pub model: ModelSpec,
    /// `[loss]`: the cost.
    #[serde(default)]
    pub loss: LossSpec,
    /// `[optim]`: the update rule.
    #[serde(default)]
    pub optim: OptimSpec,
    /// `[train]`: epochs, batches, logging.
    pub train: TrainSpec,
    /// `[sweep]`: a study over many runs. `backprop` does not run it (`backprop train` notes so on
    /// stderr, unless `--no-sweep`); `cargo xtask experiment` reads, validates and runs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<toml::Table>,
}

/// The `[experiment]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExperimentSpec {
    /// Name of the experiment; runs go to `runs/<name>/` (default `experiment`).
    pub name: String,
    /// Seed of every random draw of the run (default 0).
    pub seed: u64,
    /// Element type: `f64` (default) or `f32`.
    pub dtype: Dtype,
}

impl Default for ExperimentSpec {
    fn default() -> Self {
        ExperimentSpec { name: "experiment".into(), seed: 0, dtype: Dtype::F64 }
    }
}

/// The `[train]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSpec {
    /// Passes over the training set (required, ≥ 1).
    pub epochs: usize,
    /// Samples per update: `"full"` (default, the post's full-batch descent) or a number.
    #[serde(default)]
    pub batch_size: BatchSize,
    /// Print the cost every this many epochs (default 1000; 0 prints only the first and last).
    #[serde(default = "default_log_every")]
    pub log_every: usize,
    /// Stop when a metric stops improving (Keras's `EarlyStopping`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_stopping: Option<EarlyStopping>,
    /// Stop once the training cost is below this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_below: Option<f64>,
    /// Write `checkpoint.json` (everything `--resume` needs) every this many epochs (0: never).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub checkpoint_every: usize,
    /// Record per-layer gradient norms, update ratios, saturated and dead units in
    /// `metrics.csv` (see `train::DIAGNOSTICS`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub diagnostics: bool,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Default for TrainSpec {
    /// 1000 full-batch epochs (a config must still say `epochs`).
    fn default() -> Self {
        TrainSpec {
            epochs: 1000,
            batch_size: BatchSize::Full,
            log_every: default_log_every(),
            early_stopping: None,
            stop_below: None,
            checkpoint_every: 0,
            diagnostics: false,
        }
    }
}

fn default_log_every() -> usize {
    1000
}

/// Samples per update.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BatchSize {
    /// The whole training set: one update per epoch.
    #[default]
    Full,
    /// This many samples (the last batch of an epoch may be smaller).
    Size(usize),
}

impl BatchSize {
    /// Rows per batch for a training set of `n` samples.
    pub fn rows(self, n: usize) -> usize {
        match self {
            BatchSize::Full => n,
            BatchSize::Size(b) => b.min(n),
        }
    }
}

impl Serialize for BatchSize {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            BatchSize::Full => s.serialize_str("full"),
            BatchSize::Size(n) => s.serialize_u64(*n as u64),
        }
    }
}

impl<'de> Deserialize<'de> for BatchSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = BatchSize;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("\"full\" or a number of samples ≥ 1")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<BatchSize, E> {
                match v {
                    "full" => Ok(BatchSize::Full),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Str(v), &self)),
                }
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<BatchSize, E> {
                match usize::try_from(v) {
                    Ok(n) if n >= 1 => Ok(BatchSize::Size(n)),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Signed(v), &self)),
                }
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<BatchSize, E> {
                self.visit_i64(i64::try_from(v).unwrap_or(-1))
            }
        }
        d.deserialize_any(V)
    }
}

impl Config {
    /// The output layer's activation and the key that sets it.
    pub(crate) fn output_activation(&self) -> (&'static str, &ActivationSpec) {
        match &self.model.output_activation {
            Some(a) => ("model.output_activation", a),
            None => ("model.activation", &self.model.activation),
        }
    }

    /// What only the data's sizes and task can show is wrong with the config: a softmax or a
    /// `cross_entropy` over one output (always 1, a cost of 0), a classification with one class,
    /// and early stopping on accuracy without classes.
    pub fn validate_for_data(&self, outputs: usize, classification: bool) -> Result<(), SpecError> {
        let (key, out) = self.output_activation();
        if outputs == 1 && classification {
            return Err(SpecError::new(
                "data",
                "the training data has a single class: a classifier needs at least 2 (or `task = \"regression\"`)",
            ));
        }
        if outputs == 1 && out.name() == "softmax" {
            return Err(SpecError::new(
                key,
                "a softmax over one output is always 1: use `sigmoid` for a single 0/1 output",
            ));
        }
        if outputs == 1 && matches!(self.loss, LossSpec::CrossEntropy(_)) {
            return Err(SpecError::new(
                "loss.kind",
                "`cross_entropy` over one output is always 0: use `bce_with_logits` for a single 0/1 output",
            ));
        }
        if let Some(es) = &self.train.early_stopping
            && matches!(es.monitor, Monitor::Accuracy | Monitor::ValAccuracy)
            && !classification
        {
            return Err(SpecError::new(
                "train.early_stopping.monitor",
                format!("`{}` needs a classification task; this data is regression", es.monitor.name()),
            ));
        }
        Ok(())
    }
}

impl Config {
    /// In an f32 run, refuses a parameter of the model, the loss or the optimiser that f32 cannot
    /// hold: the config's numbers are f64, and the run takes them as f32, where one past its
    /// range becomes infinite (a run that "diverges" at once, exit 1, for what is a bad config)
    /// and a nonzero one below its smallest becomes 0. The initialisers are checked by what they
    /// draw (`model.init`), the data by the data's own checks; the schedule, `clip_norm`,
    /// `clip_norm_type` and Adagrad's `lr_decay` are computed in f64 whatever the dtype, and left alone (`clip_value`
    /// is not: it clamps the gradients as the dtype).
    fn fits_f32(&self) -> Result<(), SpecError> {
        fn walk(key: &str, value: &toml::Value) -> Result<(), SpecError> {
            match value {
                toml::Value::Float(x) if x.is_finite() && (*x as f32).is_infinite() => Err(SpecError::new(
                    key,
                    format!("{x:e} is beyond f32's range (`experiment.dtype = \"f32\"`: at most about 3.4e38)"),
                )),
                toml::Value::Float(x) if *x != 0.0 && *x as f32 == 0.0 => Err(SpecError::new(
                    key,
                    format!("{x:e} is 0 in f32 (`experiment.dtype = \"f32\"`: the smallest is about 1.4e-45)"),
                )),
                toml::Value::Array(items) => {
                    items.iter().enumerate().try_for_each(|(i, v)| walk(&format!("{key}[{i}]"), v))
                }
                toml::Value::Table(table) => table
                    .iter()
                    .filter(|(k, _)| match key {
                        "model" => !matches!(k.as_str(), "init" | "init_from"),
                        "optim" => !matches!(k.as_str(), "schedule" | "clip_norm" | "clip_norm_type" | "lr_decay"),
                        _ => true,
                    })
                    .try_for_each(|(k, v)| walk(&format!("{key}.{k}"), v)),
                _ => Ok(()),
            }
        }
        let sections = [
            ("model", toml::Value::try_from(&self.model)),
            ("loss", toml::Value::try_from(&self.loss)),
            ("optim", toml::Value::try_from(&self.optim)),
        ];
        sections.into_iter().try_for_each(|(key, value)| value.map_or(Ok(()), |v| walk(key, &v)))
    }
}

impl Validate for Config {
    fn validate(&self) -> Result<(), SpecError> {
        let name = &self.experiment.name;
        if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0']) {
            return Err(SpecError::new("experiment.name", format!("must be a plain file name, got {name:?}")));
        }
        if name.len() > 255 {
            // It names the run's folder; file systems take 255 bytes a name.
            return Err(SpecError::new("experiment.name", format!("must be at most 255 bytes, got {}", name.len())));
        }
        self.data.validate().map_err(|e| e.within("data"))?;
        self.model.validate().map_err(|e| e.within("model"))?;
        self.loss.validate().map_err(|e| e.within("loss"))?;
        self.optim.validate().map_err(|e| e.within("optim"))?;
        if self.experiment.dtype == Dtype::F32 {
            self.fits_f32()?;
        }
        if let LossSpec::Bce(_) = self.loss {
            // PyTorch's BCELoss refuses inputs outside [0, 1]; only these outputs stay inside.
            let (key, out) = self.output_activation();
            if !matches!(out.name(), "sigmoid" | "softmax") {
                return Err(SpecError::new(
                    "loss.kind",
                    format!(
                        "`bce` takes probabilities in [0, 1], but the output layer is `{}` (`{key}`): use a \
                         sigmoid output, or `bce_with_logits` on an identity output",
                        out.name()
                    ),
                ));
            }
        }
        // A loss on logits, on an output layer that is not the one it absorbs: the network's
        // outputs are logits, which `predict` would scale back as if they were targets.
        if let Some(absorbed) = self.loss.get::<f64>().absorbs()
            && self.data.preprocess().is_some_and(|p| !p.normalize_targets.is_none())
        {
            let (key, out) = self.output_activation();
            if out.name() != absorbed {
                return Err(SpecError::new(
                    "data.normalize_targets",
                    format!(
                        "the network's outputs are logits (`{}` on an `{}` output layer, `{key}`), which scaling \
                         back cannot turn into targets: use a `{absorbed}` output layer, whose outputs are the \
                         probabilities the loss takes the logits of, with `normalize_targets = \"minmax\"`",
                        self.loss.name(),
                        out.name()
                    ),
                ));
            }
        }
        // Standardized targets are about half below 0: an output in (0, 1) cannot fit them (a
        // half adder's outputs stuck at its means). The losses on [0, 1] targets (`bce`, and
        // `bce_with_logits`, whose outputs are logits otherwise, refused above) need one.
        if self.data.preprocess().is_some_and(|p| p.normalize_targets == backprop_data::NormalizeKind::Standardize) {
            let (key, out) = self.output_activation();
            if matches!(out.name(), "sigmoid" | "softmax") {
                return Err(SpecError::new(
                    "data.normalize_targets",
                    format!(
                        "standardized targets are about half below 0, and a `{}` output layer (`{key}`) gives \
                         values in (0, 1) only: use `normalize_targets = \"minmax\"`, which scales them into [0, 1]",
                        out.name()
                    ),
                ));
            }
        }
        if self.train.epochs == 0 {
            return Err(SpecError::new("train.epochs", "must be at least 1, got 0"));
        }
        if let Some(es) = &self.train.early_stopping {
            if es.patience == 0 {
                return Err(SpecError::new("train.early_stopping.patience", "must be at least 1, got 0"));
            }
            if !(es.min_delta.is_finite() && es.min_delta >= 0.0) {
                return Err(SpecError::new(
                    "train.early_stopping.min_delta",
                    format!("must be a finite number ≥ 0, got {}", es.min_delta),
                ));
            }
        }
        if let Some(below) = self.train.stop_below {
            positive("train.stop_below", below)?;
        }
        positive("train.epochs", self.train.epochs as f64)
    }
}

/// A config as loaded: the values, the file they came from, and its text (for error positions).
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The validated config.
    pub config: Config,
    /// The file it came from.
    pub path: PathBuf,
    /// The folder relative paths in it resolve against.
    pub base_dir: PathBuf,
    pub(crate) source: String,
    overrides: Vec<String>,
}

impl Loaded {
    /// A [`CliError::Config`] for `err`, positioned at its key in the file.
    pub fn spec_error(&self, err: &SpecError) -> CliError {
        CliError::Config(position_message(&self.path, &self.source, &self.overrides, &err.key, &err.message))
    }

    /// `path`, the value of `key`, resolved: against the working directory when `--set` gave
    /// it, against the config file's folder when the file did (absolute paths stay as they are).
    pub fn resolve_key_path(&self, key: &str, path: &Path) -> PathBuf {
        let from_set = self.overrides.iter().filter_map(|o| set_key(o)).any(|k| key_parts(k) == key_parts(key));
        if from_set { path.to_path_buf() } else { self.base_dir.join(path) }
    }
}

/// Loads, overrides, deserialises and validates the config at `path`.
///
/// `overrides` are `key=value` strings as given to `--set`: the key is a dotted path
/// (`model.hidden`), the value is parsed as TOML (`[4, 4]`, `0.1`, `"relu"`), and a value that
/// is not valid TOML is taken as a string (`--set model.activation=relu`), unless it starts as an
/// array, a table or a quoted string (`[`, `{`, `"`, `'`): then its TOML error is the error.
pub fn load(path: &Path, overrides: &[String]) -> Result<Loaded, CliError> {
    let bytes = crate::fsutil::read_input(path, crate::fsutil::CONFIG_LIMIT, "config")?;
    let source = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let (line, col) = line_col(&String::from_utf8_lossy(valid), valid.len());
        CliError::Config(format!("{}:{line}:{col}: not valid UTF-8 (a TOML file is UTF-8 text)", path.display()))
    })?;
    load_text(source, path, overrides)
}

/// [`load`] for a config's text held in memory, as if read from `path`: errors name `path`,
/// and relative paths in it resolve against `path`'s folder (the working directory for a bare
/// file name).
///
/// ```
/// let loaded = backprop_cli::config::load_text("[train]\nepochs = 10".into(), "study.toml".as_ref(), &[]).unwrap();
/// assert_eq!(loaded.config.train.epochs, 10);
/// let refused = backprop_cli::config::load_text("[train]\nepochs = 0".into(), "study.toml".as_ref(), &[]);
/// assert_eq!(refused.unwrap_err().to_string(), "study.toml:2:1: key `train.epochs`: must be at least 1, got 0");
/// ```
pub fn load_text(source: String, path: &Path, overrides: &[String]) -> Result<Loaded, CliError> {
    let mut table: toml::Table = toml::from_str(&source).map_err(|e| {
        let at = e.span().map(|s| line_col(&source, s.start)).map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default();
        let mut message = e.message().trim().to_string();
        if message == "duplicate key"
            && let Some(key) = e.span().and_then(|s| key_as_written(&source, s))
        {
            message = format!("duplicate key `{key}` (each key and table may appear once)");
        }
        if message.contains("value was too large") {
            message = format!("{message} (TOML integers are 64-bit and signed: at most 9223372036854775807)");
        }
        // A duplicate key's span is the key itself, from the start of its line: the key is the
        // one it ends in, not the one before.
        let duplicate = message.starts_with("duplicate key");
        let key = e
            .span()
            .and_then(|s| key_of_line(&source, if duplicate { s.end } else { s.start }))
            .map(|k| format!(" key `{k}`:"))
            .unwrap_or_default();
        CliError::Config(format!("{}{at}:{key} invalid TOML: {message}", path.display()))
    })?;
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    absolutize(&mut table, &base_dir, |_, _| true);
    // Sections the file leaves out that a `--set` goes into, and no `--set` names the component
    // of (`optim.kind`, or the whole `optim` table): they take their default component.
    let picked = |section: &str, tag: &str| {
        overrides.iter().filter_map(|o| set_key(o)).map(key_parts).any(|k| k == [section] || k == [section, tag])
    };
    let defaulted: Vec<(String, &str, String)> = overrides
        .iter()
        .filter_map(|o| key_parts(set_key(o)?).first().cloned())
        .filter(|section| !table.contains_key(section))
        .filter_map(|section| default_component(&section).map(|(tag, name)| (section, tag, name)))
        .filter(|(section, tag, _)| !picked(section, tag))
        .collect();
    for item in overrides {
        apply_override(&mut table, item).map_err(|m| CliError::Config(format!("--set {item}: {m}")))?;
    }
    // Paths given with --set are relative to the working directory.
    let set = |section: &str, key: &str| {
        overrides.iter().filter_map(|o| set_key(o)).map(key_parts).any(|k| k == [section] || k == [section, key])
    };
    absolutize(&mut table, Path::new(""), set);
    let config: Config = serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
        let (key, message) = error_key(&e.path().to_string(), e.inner().message().trim());
        let mut message = with_suggestion(&message);
        if let Some((section, tag, name)) = defaulted.iter().find(|(s, ..)| key_parts(&key).first() == Some(s)) {
            message += &format!(
                " (the file has no [{section}] table: `--set` went into the default one, `{tag} = \"{name}\"`; \
                 `--set {section}.{tag}=…` picks another)"
            );
        }
        CliError::Config(position_message(path, &source, overrides, &key, &message))
    })?;
    let loaded = Loaded { config, path: path.to_path_buf(), base_dir, source, overrides: overrides.to_vec() };
    loaded.config.validate().map_err(|e| loaded.spec_error(&e))?;
    Ok(loaded)
}

/// The keys that hold file paths.
pub const PATH_KEYS: &[(&str, &str)] = &[
    ("data", "path"),
    ("data", "validation_path"),
    ("data", "test_path"),
    ("data", "images"),
    ("data", "labels"),
    ("data", "validation_images"),
    ("data", "validation_labels"),
    ("data", "test_images"),
    ("data", "test_labels"),
    ("model", "init_from"),
];

/// Makes every relative path in `table` absolute against `base` (itself made absolute against
/// the working directory), so a resolved config works from any folder (`--resume`); only the
/// `(section, key)`s that `only` accepts. A path
/// whose absolute form is not UTF-8 (a folder named in another encoding) stays relative, and
/// resolves against the config's folder when read: a TOML string cannot hold it.
fn absolutize(table: &mut toml::Table, base: &Path, only: impl Fn(&str, &str) -> bool) {
    let cwd = std::env::current_dir().unwrap_or_default();
    for (section, key) in PATH_KEYS {
        if only(section, key)
            && let Some(toml::Value::Table(t)) = table.get_mut(*section)
            && let Some(toml::Value::String(p)) = t.get_mut(*key)
        {
            absolutize_path(p, &cwd.join(base));
        }
    }
}

/// Makes the relative paths in `value`, a value for the dotted `key` (as `--set` takes it),
/// absolute against `base` (itself made absolute against the working directory): `value` itself
/// when `key` holds a path (`data.path`), the paths in it when `key` is a section given whole
/// (`data = { source = "csv", path = "a.csv" }`). For the values of a sweep's grid, written in
/// the config file: their paths resolve against its folder, as the file's other paths do.
pub fn absolutize_value(key: &str, value: &mut toml::Value, base: &Path) {
    let base = std::env::current_dir().unwrap_or_default().join(base);
    for (section, path_key) in PATH_KEYS {
        let path = match &mut *value {
            toml::Value::Table(t) if key == *section => t.get_mut(*path_key),
            v if key.strip_prefix(section).and_then(|k| k.strip_prefix('.')) == Some(path_key) => Some(v),
            _ => None,
        };
        if let Some(toml::Value::String(p)) = path {
            absolutize_path(p, &base);
        }
    }
}

/// `p` made absolute against the absolute folder `base` when it is relative (and the result
/// is UTF-8: a TOML string cannot hold anything else). An empty path stays empty, for the
/// source's check to refuse as no file (joined, it was the folder: "Is a directory").
fn absolutize_path(p: &mut String, base: &Path) {
    if !p.is_empty()
        && Path::new(p.as_str()).is_relative()
        && let Some(absolute) = base.join(p.as_str()).to_str()
    {
        *p = absolute.to_string();
    }
}

/// The dotted key a `--set key=value` item sets, trimmed (`None` without `=`).
pub fn set_key(item: &str) -> Option<&str> {
    item.split_once('=').map(|(k, _)| k.trim())
}

/// Sets one dotted key of `table` from a `key=value` string.
pub fn apply_override(table: &mut toml::Table, item: &str) -> Result<(), String> {
    let (key, raw) = item.split_once('=').ok_or("expected key=value")?;
    let key = key.trim();
    let value = match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
        // One value: `x = 5` after a line break would be another key, silently dropped.
        Ok(mut t) if t.len() == 1 => t.remove("v").ok_or("empty value")?,
        Ok(_) => return Err("the value is more than one TOML value (a line break in it?)".into()),
        // A number TOML cannot hold (`1e400`, an integer past 2⁶³) is an error, not a string.
        Err(_) if looks_numeric(raw.trim()) => {
            return Err(format!("`{}` is out of range for a TOML number (a 64-bit integer or float)", raw.trim()));
        }
        // An array, table or quoted string that does not parse was meant as one: its error, not a
        // string of its text that fails later as the wrong type.
        Err(e) if raw.trim_start().starts_with(['[', '{', '"', '\'']) => {
            return Err(format!("`{}` is not a TOML value: {}", raw.trim(), e.message().trim()));
        }
        Err(_) => toml::Value::String(raw.trim().to_string()),
    };
    let parts = dotted(key).ok_or_else(|| format!("`{key}` is not a dotted key"))?;
    let (last, parents) = parts.split_last().expect("split gives at least one part");
    // A section the file leaves out is its default: `--set optim.lr=0.1` on a config without
    // `[optim]` sets the default optimiser's lr, not a table without `kind` (refused). A table
    // the file has keeps what it says.
    if let Some(section) = parents.first()
        && !table.contains_key(section)
        && let Some((tag, name)) = default_component(section)
    {
        table.insert(section.clone(), toml::Value::Table(toml::Table::from_iter([(tag.to_string(), name.into())])));
    }
    let mut t = table;
    for (i, p) in parents.iter().enumerate() {
        let entry = t.entry(p.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        t = entry.as_table_mut().ok_or_else(|| format!("`{}` is not a table", parts[..=i].join(".")))?;
    }
    // A key and its other name are one key: setting either replaces the other (`--set
    // data.validation=0.3` on a file that wrote `validation_split`).
    for (key, alias) in SAME_KEYS {
        if last == key {
            t.remove(*alias);
        } else if last == alias {
            t.remove(*key);
        }
    }
    t.insert(last.clone(), value);
    Ok(())
}

/// The key naming the component of a section that is a registry's choice, and the name the
/// section's default takes: `[optim]`'s `kind` (`sgd`), `[loss]`'s `kind` (`half_mse`),
/// `[data]`'s `source` (`half_adder`).
fn default_component(section: &str) -> Option<(&'static str, String)> {
    // A component without parameters may be written as its bare name.
    let tagged = |tag: &'static str, value: Result<toml::Value, toml::ser::Error>| {
        let value = value.ok()?;
        let name = value.as_str().or_else(|| value.get(tag)?.as_str())?;
        Some((tag, name.to_string()))
    };
    match section {
        "optim" => tagged("kind", toml::Value::try_from(OptimSpec::default())),
        "loss" => tagged("kind", toml::Value::try_from(LossSpec::default())),
        "data" => tagged("source", toml::Value::try_from(DataSpec::default())),
        _ => None,
    }
}

/// Keys that another name reads as, the same wherever they are (Keras's names): a key, and its
/// other name.
const SAME_KEYS: &[(&str, &str)] = &[("validation", "validation_split"), ("restore_best", "restore_best_weights")];

/// `key` with a last part that is another name of a key ([`SAME_KEYS`]) as that key
/// (`data.validation_split` is `data.validation`), for matching an error's key to a `--set`.
fn canonical(key: &str) -> String {
    for (name, alias) in SAME_KEYS {
        if let Some(base) = key.strip_suffix(alias)
            && (base.is_empty() || base.ends_with('.'))
        {
            return format!("{base}{name}");
        }
    }
    key.to_string()
}

/// The parts of `key` as [`dotted`] reads them, or the key whole when it does not split.
pub fn key_parts(key: &str) -> Vec<String> {
    dotted(key).unwrap_or_else(|| vec![key.to_string()])
}

/// Whether the dotted `key` is `prefix` or lies beneath it: more parts after it, or an index
/// (`model.hidden[1]` within `model.hidden`), compared part by part without quotes.
pub fn key_within(key: &str, prefix: &str) -> bool {
    let (key, prefix) = (key_parts(key), key_parts(prefix));
    let Some(last) = prefix.len().checked_sub(1) else { return false };
    key.len() >= prefix.len()
        && key[..last] == prefix[..last]
        && (key[last] == prefix[last]
            || key[last].strip_prefix(prefix[last].as_str()).is_some_and(|r| r.starts_with('[')))
}

/// The parts of a dotted key as `--set` takes it: split at dots outside double quotes, a quoted
/// part without its quotes (`sweep.grid."optim.lr"` is `sweep`, `grid`, `optim.lr`, as TOML
/// reads it). `None` for an empty part or an unclosed quote.
pub fn dotted(key: &str) -> Option<Vec<String>> {
    let (mut parts, mut part, mut quoted, mut was_quoted) = (Vec::new(), String::new(), false, false);
    for c in key.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                was_quoted = true;
            }
            '.' if !quoted => {
                if part.is_empty() && !was_quoted {
                    return None;
                }
                parts.push(std::mem::take(&mut part));
                was_quoted = false;
            }
            c => part.push(c),
        }
    }
    if quoted || (part.is_empty() && !was_quoted) {
        return None;
    }
    parts.push(part);
    Some(parts)
}

/// Whether `raw` is written as a decimal number (Rust parses it, and it starts with a digit, or
/// a sign or point and a digit), so that TOML refusing it means it is out of range.
fn looks_numeric(raw: &str) -> bool {
    let digits = raw.trim_start_matches(['+', '-']).trim_start_matches('.');
    digits.starts_with(|c: char| c.is_ascii_digit()) && raw.replace('_', "").parse::<f64>().is_ok()
}

/// The dotted key an error is about, and its message: serde_path_to_error's path, plus the
/// field a registry names (`at `lr`: …`) or an "unknown field" / "missing field" message names.
fn error_key(path: &str, message: &str) -> (String, String) {
    let path = if path == "." { "" } else { path };
    let join = |field: &str| if path.is_empty() { field.to_string() } else { format!("{path}.{field}") };
    if let Some(rest) = message.strip_prefix("at `")
        && let Some((field, rest)) = rest.split_once("`: ")
    {
        return (join(field), rest.to_string());
    }
    for prefix in ["unknown field `", "missing field `"] {
        if let Some(rest) = message.strip_prefix(prefix)
            && let Some(field) = rest.split('`').next()
        {
            // A name with a dot in it (`--set '"model.hidden"=[3]'` sets a key of that name) is
            // written quoted, as TOML and `--set` write it: unquoted it read as two parts.
            let quoted = if field.contains('.') { format!("\"{field}\"") } else { field.to_string() };
            // serde_path_to_error already ends the path with an unknown field's name.
            if let Some(parent) = path.strip_suffix(field).filter(|p| p.is_empty() || p.ends_with('.')) {
                return (format!("{parent}{quoted}"), message.to_string());
            }
            return (join(&quoted), message.to_string());
        }
    }
    (path.to_string(), message.to_string())
}

/// Keras's, PyTorch's and scikit-learn's names (lower case) for a loss, an activation or a
/// parameter that this project names otherwise, and its name: suggested when one is given.
const OTHER_NAMES: &[(&str, &str)] = &[
    ("categorical_crossentropy", "cross_entropy"),
    ("sparse_categorical_crossentropy", "cross_entropy"),
    ("crossentropyloss", "cross_entropy"),
    ("log_loss", "cross_entropy"),
    ("binary_crossentropy", "bce"),
    ("binary_log_loss", "bce"),
    ("bceloss", "bce"),
    ("bcewithlogitsloss", "bce_with_logits"),
    ("mean_squared_error", "mse"),
    ("mseloss", "mse"),
    ("squared_error", "half_mse"),
    ("mean_absolute_error", "mae"),
    ("l1", "mae"),
    ("l1loss", "mae"),
    ("absolute_error", "mae"),
    ("huberloss", "huber"),
    ("huber_loss", "huber"),
    ("linear", "identity"),
    ("logistic", "sigmoid"),
    ("learning_rate", "lr"),
    ("learning_rate_init", "lr"),
    ("beta_1", "betas"),
    ("beta_2", "betas"),
    ("epsilon", "eps"),
    ("validation_split", "validation"),
    ("max_iter", "epochs"),
    ("n_epochs", "epochs"),
    ("hidden_layer_sizes", "hidden"),
    ("max_norm", "clip_norm"),
    ("norm_type", "clip_norm_type"),
    ("start_factor", "warmup_start_factor"),
    ("total_iters", "warmup_epochs"),
];

/// Adds "did you mean `x`?" to an "unknown variant/field `y`, expected …" message when one of
/// the expected names is close to `y`.
fn with_suggestion(message: &str) -> String {
    let message = &plain(message);
    let Some(rest) = message.strip_prefix("unknown variant `").or_else(|| message.strip_prefix("unknown field `"))
    else {
        return message.to_string();
    };
    let Some((given, expected)) = rest.split_once('`') else { return message.to_string() };
    // Compared without case: `ReLU` is `relu`, as PyTorch writes its class.
    let lower = given.to_lowercase();
    let names = expected.split('`').skip(1).step_by(2);
    // Another library's name for one of ours (Keras's `categorical_crossentropy`, PyTorch's
    // `MSELoss`), where its spelling is too far from ours to be found as close.
    let other = OTHER_NAMES.iter().find(|(theirs, _)| *theirs == lower).map(|(_, ours)| *ours);
    let best = match other.filter(|ours| names.clone().any(|n| n == *ours)) {
        Some(ours) => Some((1.0, ours)),
        None => names
            .map(|name| (strsim::jaro_winkler(&lower, name), name))
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0)),
    };
    match best {
        Some((_, name)) => format!("{message}; did you mean `{name}`?"),
        None => message.to_string(),
    }
}

/// serde's words for Rust's types, said in a config's terms: `expected struct ModelSpec` is
/// `expected a table`; a number where a name is expected (`dtype = 32`) is said to need quotes.
fn plain(message: &str) -> String {
    if let Some((before, after)) = message.split_once("expected struct ") {
        let rest = after.trim_start_matches(|c: char| c.is_alphanumeric() || c == '_');
        return format!("{before}expected a table{rest}");
    }
    // Rust's unsigned integers (`expected usize`) as a config says them.
    let message =
        message.replace("invalid type: unit variant, expected string only", "expected a name in quotes (a string)");
    ["usize", "u64", "u32"]
        .iter()
        .fold(message, |m, t| m.replace(&format!("expected {t}"), "expected a whole number ≥ 0"))
}

/// `file:line:col: key `k`: message`, with the position of `key` in `source` when it is there,
/// or a note that it came from `--set`.
fn position_message(path: &Path, source: &str, overrides: &[String], key: &str, message: &str) -> String {
    // The last `--set` of the key, of a table holding it, or of a key inside it (an unknown
    // table): later ones win, so an error is theirs.
    // Compared part by part, without quotes (`sweep.grid."optim"` is `sweep.grid.optim`).
    let from_set = overrides
        .iter()
        .rfind(|o| set_key(o).map(canonical).is_some_and(|k| key_within(key, &k) || key_within(&k, key)));
    let at = match (from_set, locate(source, key)) {
        (Some(item), _) => format!(" (set by --set {item})"),
        (None, Some(offset)) => {
            let (l, c) = line_col(source, offset);
            format!(":{l}:{c}")
        }
        (None, None) => String::new(),
    };
    let key_part = if key.is_empty() { String::new() } else { format!("key `{key}`: ") };
    // A field the file does not need, asked for because `--set` changed its table
    // (`--set data.source=csv` wants `data.path`): the `--set` is the cause.
    let parent = key.rsplit_once('.').map_or("", |(p, _)| p);
    let cause = (from_set.is_none() && message.starts_with("missing field") && !parent.is_empty())
        .then(|| {
            overrides
                .iter()
                .rfind(|o| set_key(o).is_some_and(|k| key_within(k, parent) && key_parts(k) != key_parts(parent)))
        })
        .flatten()
        .map(|item| format!(" (needed after --set {item})"))
        .unwrap_or_default();
    format!("{}{at}: {key_part}{message}{cause}", path.display())
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The key at `span` of `source` as its line writes it: with the dotted parts before it in a
/// table header (`[a.b]`) or a dotted key (`a.b = 1`), alone inside an inline table.
fn key_as_written(source: &str, span: std::ops::Range<usize>) -> Option<String> {
    let key = source.get(span.clone())?;
    let line_start = source[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let before = source[line_start..span.end].trim_start().trim_start_matches('[');
    let dotted = if before.contains(['=', '{', '[', ',']) { key } else { before };
    Some(dotted.split('.').map(str::trim).collect::<Vec<_>>().join("."))
}

/// The dotted key whose value holds byte `at` of `source` (`experiment.seed` for an error in
/// `seed = …` under `[experiment]`, `train.epochs` anywhere in a multi-line `epochs = [ …`): for
/// a syntax error in a value, which TOML's parser reports by position alone. A light scan of
/// the text before `at` (it does not parse: the text has an error): strings and comments are
/// skipped, brackets counted, and a line starting at depth 0 is a `[table]` header or a
/// `key = …`. `None` when the position is not in a plain key's value.
fn key_of_line(source: &str, at: usize) -> Option<String> {
    let bytes = source.as_bytes();
    let at = at.min(bytes.len());
    let (mut table, mut key) = (String::new(), None::<String>);
    let (mut depth, mut i, mut line_start) = (0usize, 0usize, true);
    let bare = |k: &str| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    while i < at {
        if line_start {
            line_start = false;
            while i < at && matches!(bytes[i], b' ' | b'\t') {
                i += 1;
            }
            if depth == 0 && i < at {
                let line = source[i..].lines().next().unwrap_or("");
                if let Some(header) = line.strip_prefix('[') {
                    key = None;
                    if let Some(name) = header.trim_start_matches('[').split(']').next() {
                        table = name.trim().to_string();
                    }
                    i += line.len();
                    continue;
                }
                key = line.split_once('=').map(|(k, _)| k.trim()).filter(|k| bare(k)).map(str::to_string);
            }
            continue;
        }
        match bytes[i] {
            b'\n' => line_start = true,
            b'#' => {
                i = source[i..].find('\n').map_or(bytes.len(), |n| i + n);
                continue;
            }
            quote @ (b'"' | b'\'') => {
                let triple = bytes[i..].starts_with(if quote == b'"' { b"\"\"\"" } else { b"\'\'\'" });
                let (open, close) = if triple { (3, if quote == b'"' { "\"\"\"" } else { "\'\'\'" }) } else { (1, "") };
                let mut j = i + open;
                loop {
                    match bytes.get(j) {
                        None => break,
                        Some(b'\\') if quote == b'"' => j += 2,
                        Some(b'\n') if !triple => break,
                        Some(&c) if !triple && c == quote => {
                            j += 1;
                            break;
                        }
                        Some(_) if triple && bytes[j..].starts_with(close.as_bytes()) => {
                            j += 3;
                            break;
                        }
                        Some(b'\n') => {
                            j += 1;
                        }
                        Some(_) => j += 1,
                    }
                }
                i = j;
                continue;
            }
            b'[' | b'{' => depth += 1,
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    let key = key?;
    Some(if table.is_empty() { key } else { format!("{table}.{key}") })
}

/// Byte offset of the deepest part of the dotted `key` (`model.hidden[1]`) found in `source`.
fn locate(source: &str, key: &str) -> Option<usize> {
    let doc = toml::de::DeTable::parse(source).ok()?;
    let mut table = doc.get_ref();
    let mut found = None;
    let mut segments = key.split('.').peekable();
    while let Some(seg) = segments.next() {
        let (name, index) = match seg.split_once('[') {
            Some((n, i)) => (n, i.trim_end_matches(']').parse::<usize>().ok()),
            None => (seg, None),
        };
        // A key written under another name that reads as it: the Keras names, and leaky_relu's
        // `alpha` (only where `negative_slope` is sought: elsewhere `alpha` is a key of its own).
        let aliases = SAME_KEYS.iter().chain(&[("negative_slope", "alpha")]);
        let written = |k: &str| k == name || aliases.clone().any(|&(key, alias)| key == name && alias == k);
        let Some((k, v)) = table.iter().find(|(k, _)| written(k.get_ref())) else { return found };
        found = Some(k.span().start);
        let mut value = v;
        if let Some(i) = index {
            if let toml::de::DeValue::Array(items) = value.get_ref()
                && let Some(item) = items.get(i)
            {
                found = Some(item.span().start);
                value = item;
            } else {
                return found;
            }
        }
        match value.get_ref() {
            toml::de::DeValue::Table(t) if segments.peek().is_some() => table = t,
            _ => return found,
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_keys_in_tables_inline_tables_and_arrays() {
        let src = "[model]\nhidden = [2, 0]\ninit = { kind = \"uniform\", low = 1.0 }\n[optim]\nlr = -1\n";
        assert_eq!(locate(src, "optim.lr").map(|o| line_col(src, o)), Some((5, 1)));
        assert_eq!(locate(src, "model.hidden[1]").map(|o| line_col(src, o)), Some((2, 14)));
        assert_eq!(locate(src, "model.init.low").map(|o| line_col(src, o)), Some((3, 28)));
        assert_eq!(locate(src, "model.nothing").map(|o| line_col(src, o)), Some((1, 2)));
    }

    #[test]
    fn values_for_path_keys_are_made_absolute() {
        let base = std::env::current_dir().unwrap().join("cfgs");
        let at = |p: &str| toml::Value::String(base.join(p).to_str().unwrap().to_string());
        let resolved = |key: &str, value: toml::Value| {
            let mut value = value;
            absolutize_value(key, &mut value, Path::new("cfgs"));
            value
        };
        let s = |p: &str| toml::Value::String(p.to_string());
        assert_eq!(resolved("data.path", s("a.csv")), at("a.csv"));
        assert_eq!(resolved("model.init_from", s("m/model.json")), at("m/model.json"));
        assert_eq!(resolved("data.test_labels", s("t.idx")), at("t.idx"));
        let table: toml::Value =
            toml::from_str("source = \"csv\"\npath = \"a.csv\"\ntest_path = \"/abs/t.csv\"").unwrap();
        let want: toml::Value = toml::Value::Table(toml::Table::from_iter([
            ("source".to_string(), s("csv")),
            ("path".to_string(), at("a.csv")),
            ("test_path".to_string(), s("/abs/t.csv")),
        ]));
        assert_eq!(resolved("data", table), want, "a section given whole");
        // Absolute paths, keys that hold no path, and values that are not strings stay.
        assert_eq!(resolved("data.path", s("/abs/a.csv")), s("/abs/a.csv"));
        assert_eq!(resolved("model.activation", s("relu")), s("relu"));
        assert_eq!(resolved("data.pathway", s("x")), s("x"));
        assert_eq!(resolved("datapath", s("x")), s("x"));
        assert_eq!(resolved("data.path", toml::Value::Integer(3)), toml::Value::Integer(3));
        // A table under a key that is not a section of paths keeps its `path`.
        let other: toml::Value = toml::from_str("path = \"a.csv\"").unwrap();
        assert_eq!(resolved("optim", other.clone()), other);
    }

    /// PyTorch's (and Keras's) parameter names load as the same config as ours (leaky_relu's
    /// `negative_slope` is ours, Keras 2's `alpha` the alias).
    #[test]
    fn pytorch_and_keras_names_are_aliases() {
        let config = |model: &str, optim: &str, train: &str| {
            format!(
                "[data]\nsource = \"moons\"\nvalidation = 0.2\n[model]\nhidden = [3]\n{model}\n[loss]\nkind = \"mse\"\n\
                 [optim]\nkind = \"sgd\"\n[optim.schedule]\n{optim}\n[train]\nepochs = 5\n{train}\n"
            )
        };
        let theirs = config(
            "activation = { kind = \"leaky_relu\", alpha = 0.2 }\n\
             init = { weights = { kind = \"uniform\", a = -0.5, b = 0.5 }, biases = { kind = \"constant\", val = 0.1 } }",
            "kind = \"cosine\"\nT_max = 7",
            "early_stopping = { monitor = \"val_loss\", restore_best_weights = false }",
        );
        let ours = config(
            "activation = { kind = \"leaky_relu\", negative_slope = 0.2 }\n\
             init = { weights = { kind = \"uniform\", low = -0.5, high = 0.5 }, biases = { kind = \"constant\", value = 0.1 } }",
            "kind = \"cosine\"\nt_max = 7",
            "early_stopping = { monitor = \"val_cost\", restore_best = false }",
        );
        let dir = tempfile::tempdir().unwrap();
        let resolved = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            toml::to_string(&load(&path, &[]).unwrap_or_else(|e| panic!("{name}: {e}")).config).unwrap()
        };
        let (theirs, ours) = (resolved("theirs.toml", &theirs), resolved("ours.toml", &ours));
        assert_eq!(theirs, ours);
        for written in ["negative_slope = 0.2", "t_max = 7", "low = -0.5", "value = 0.1", "monitor = \"val_cost\""] {
            assert!(ours.contains(written), "{written} in {ours}");
        }
    }

    /// The half adder's config with `experiment` lines in `[experiment]` and `train` lines in
    /// `[train]`, loaded: the config, or the error's message.
    fn load_with(experiment: &str, train: &str) -> Result<Config, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        let text = format!(
            "[experiment]\n{experiment}\n[data]\nsource = \"half_adder\"\n[model]\nhidden = [2]\n\
             activation = \"sigmoid\"\n[loss]\nkind = \"half_mse\"\n[optim]\nkind = \"sgd\"\nlr = 0.5\n\
             [train]\nepochs = 5\n{train}\n"
        );
        std::fs::write(&path, text).unwrap();
        load(&path, &[]).map(|l| l.config).map_err(|e| e.to_string())
    }

    #[test]
    fn train_defaults_are_the_documented_ones() {
        let train = load_with("", "").unwrap().train;
        assert_eq!(
            (train.batch_size, train.log_every, train.checkpoint_every, train.diagnostics),
            (BatchSize::Full, 1000, 0, false)
        );
        assert_eq!((train.early_stopping, train.stop_below), (None, None));
    }

    /// The resolved config (`config.toml` in a run's folder) leaves out what is off, and keeps
    /// what is on.
    #[test]
    fn the_resolved_config_writes_checkpoint_every_only_when_set() {
        let written = |every: usize| {
            let train = TrainSpec { checkpoint_every: every, ..TrainSpec::default() };
            toml::to_string(&train).unwrap()
        };
        assert!(!written(0).contains("checkpoint_every"), "{}", written(0));
        assert!(written(5).contains("checkpoint_every = 5"), "{}", written(5));
        let back: TrainSpec = toml::from_str(&written(5)).unwrap();
        assert_eq!(back.checkpoint_every, 5);
    }

    /// A batch size read from JSON (unsigned integers) as from TOML (signed ones).
    #[test]
    fn batch_sizes_read_from_json_too() {
        let read = |text: &str| serde_json::from_str::<BatchSize>(text).map_err(|e| e.to_string());
        assert_eq!(read("32"), Ok(BatchSize::Size(32)));
        assert_eq!(read("1"), Ok(BatchSize::Size(1)));
        assert_eq!(read("\"full\""), Ok(BatchSize::Full));
        for bad in ["0", "-3", "18446744073709551615", "\"half\""] {
            let err = read(bad).unwrap_err();
            assert!(err.contains("\"full\" or a number of samples"), "{bad}: {err}");
        }
    }

    #[test]
    fn experiment_names_are_refused_at_their_boundaries() {
        let named = |name: &str| load_with(&format!("name = {}", toml::Value::String(name.into())), "");
        for bad in ["", ".", "..", "a/b", "a\\b", "a\0b"] {
            let err = named(bad).unwrap_err();
            assert!(err.contains("`experiment.name`") && err.contains("plain file name"), "{bad:?}: {err}");
        }
        assert!(named(&"x".repeat(255)).is_ok(), "255 bytes is a file name");
        let err = named(&"x".repeat(256)).unwrap_err();
        assert!(err.contains("at most 255 bytes, got 256"), "{err}");
        assert!(named("...").is_ok() && named(".a").is_ok());
    }

    #[test]
    fn early_stopping_min_delta_must_be_finite_and_not_negative() {
        let with = |min_delta: &str| {
            load_with("", &format!("early_stopping = {{ monitor = \"cost\", min_delta = {min_delta} }}"))
        };
        assert_eq!(with("0.0").unwrap().train.early_stopping.unwrap().min_delta, 0.0);
        assert!(with("0.5").is_ok());
        for bad in ["-0.1", "inf", "nan", "-inf"] {
            let err = with(bad).unwrap_err();
            assert!(
                err.contains("`train.early_stopping.min_delta`") && err.contains("finite number ≥ 0"),
                "{bad}: {err}"
            );
        }
    }

    /// A path resolves against the config's folder unless `--set` gave that very key.
    #[test]
    fn paths_resolve_against_the_config_unless_set_gave_them() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let path = dir.path().join("sub").join("c.toml");
        std::fs::write(
            &path,
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../configs/half_adder.toml")).unwrap(),
        )
        .unwrap();
        let resolved = |sets: &[&str]| {
            let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
            load(&path, &sets).unwrap().resolve_key_path("model.init_from", Path::new("m.json"))
        };
        let in_folder = dir.path().join("sub").join("m.json");
        assert_eq!(resolved(&[]), in_folder);
        assert_eq!(resolved(&["train.epochs=3"]), in_folder, "another key's --set changes nothing");
        assert_eq!(resolved(&["model.init_from=m.json"]), Path::new("m.json"));
        assert_eq!(resolved(&["train.epochs=3", " model.init_from = m.json"]), Path::new("m.json"));
    }

    /// The resolved config holds absolute paths, so that it works from any folder
    /// (`--resume`): the file's against its folder, `--set`'s against the working directory.
    #[test]
    fn the_resolved_config_holds_absolute_paths() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let path = dir.path().join("sub").join("c.toml");
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../configs/half_adder.toml"))
            .unwrap()
            .replace("[model]\n", "[model]\ninit_from = \"m.json\"\n");
        std::fs::write(&path, text).unwrap();
        let init_from = |sets: &[&str]| {
            let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
            let resolved: toml::Table =
                toml::from_str(&toml::to_string(&load(&path, &sets).unwrap().config).unwrap()).unwrap();
            resolved["model"]["init_from"].as_str().unwrap().to_string()
        };
        let in_folder = dir.path().join("sub").join("m.json");
        assert_eq!(init_from(&[]), in_folder.to_str().unwrap());
        assert_eq!(init_from(&["train.epochs=3"]), in_folder.to_str().unwrap());
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(init_from(&["model.init_from=n.json"]), cwd.join("n.json").to_str().unwrap());
        // A section given whole by `--set`: its paths against the working directory too.
        let sets = vec!["data={ source = \"csv\", path = \"b.csv\", targets = [\"y\"] }".to_string()];
        let resolved: toml::Table =
            toml::from_str(&toml::to_string(&load(&path, &sets).unwrap().config).unwrap()).unwrap();
        assert_eq!(resolved["data"]["path"].as_str(), cwd.join("b.csv").to_str());
    }

    /// "needed after --set" names a `--set` only for a field missing from the table it changed.
    #[test]
    fn only_a_missing_field_blames_a_set_of_its_table() {
        let source = "[model]\nactivation = \"sigmod\"\n";
        let sets = vec!["model.hidden=[3]".to_string()];
        let m = position_message(Path::new("c.toml"), source, &sets, "model.activation", "unknown variant `sigmod`");
        assert_eq!(m, "c.toml:2:1: key `model.activation`: unknown variant `sigmod`");
        let sets = vec!["data.source=csv".to_string()];
        let m = position_message(Path::new("c.toml"), source, &sets, "data.path", "missing field `path`");
        assert!(m.ends_with("missing field `path` (needed after --set data.source=csv)"), "{m}");
    }

    /// Keras's, PyTorch's and scikit-learn's names are suggested where they are not close to
    /// ours, and only where ours is among the expected names.
    #[test]
    fn suggests_ours_for_other_libraries_names() {
        let losses = "expected one of `half_mse`, `mse`, `mae`, `bce`, `cross_entropy`";
        for (given, ours) in [("categorical_crossentropy", "cross_entropy"), ("MSELoss", "mse"), ("L1Loss", "mae")] {
            let m = with_suggestion(&format!("unknown variant `{given}`, {losses}"));
            assert!(m.ends_with(&format!("; did you mean `{ours}`?")), "{m}");
        }
        let m = with_suggestion("unknown field `learning_rate`, expected one of `lr`, `momentum`");
        assert!(m.ends_with("did you mean `lr`?"), "{m}");
        // `epsilon` is Keras's `eps`; where no `eps` is expected, nothing is suggested for it.
        let m = with_suggestion("unknown field `epsilon`, expected one of `lr`, `momentum`");
        assert!(!m.contains("did you mean"), "{m}");
        // torch's clip_grad_norm_ and LinearLR arguments.
        let optim = "expected one of `lr`, `momentum`, `clip_norm`, `clip_norm_type`, `clip_value`, `schedule`";
        for (given, ours) in [("max_norm", "clip_norm"), ("norm_type", "clip_norm_type")] {
            let m = with_suggestion(&format!("unknown field `{given}`, {optim}"));
            assert!(m.ends_with(&format!("; did you mean `{ours}`?")), "{m}");
        }
        let schedule = "expected one of `step_size`, `gamma`, `warmup_epochs`, `warmup_start_factor`";
        for (given, ours) in [("start_factor", "warmup_start_factor"), ("total_iters", "warmup_epochs")] {
            let m = with_suggestion(&format!("unknown field `{given}`, {schedule}"));
            assert!(m.ends_with(&format!("; did you mean `{ours}`?")), "{m}");
        }
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            with_suggestion("invalid type: integer `3`, expected struct ModelSpec"),
            "invalid type: integer `3`, expected a table"
        );
        assert_eq!(with_suggestion("expected struct Loss_Spec2 here"), "expected a table here");
        assert_eq!(
            with_suggestion("invalid type: unit variant, expected string only"),
            "expected a name in quotes (a string)"
        );
        let m = with_suggestion("unknown variant `sigmod`, expected one of `sigmoid`, `tanh`");
        assert!(m.ends_with("did you mean `sigmoid`?"), "{m}");
        let m = with_suggestion("unknown variant `xyz`, expected one of `sigmoid`, `tanh`");
        assert!(!m.contains("did you mean"), "{m}");
    }

    #[test]
    fn a_syntax_error_in_a_value_names_its_key() {
        let source = "top = 1\n[experiment]\nseed = 18446744073709551615\n[[model.layers]]\nunits = [4,\n";
        let at = |source: &str, text: &str| source.find(text).unwrap() + 2;
        assert_eq!(key_of_line(source, at(source, "top")).as_deref(), Some("top"));
        assert_eq!(key_of_line(source, at(source, "18446744073709551615")).as_deref(), Some("experiment.seed"));
        assert_eq!(key_of_line(source, at(source, "[4,")).as_deref(), Some("model.layers.units"));
        assert_eq!(key_of_line(source, at(source, "[[model")), None, "a header sets no key");
        assert_eq!(key_of_line("[train\n", 3), None);
        // Rows of a multi-line array, `[` in strings and comments, and `k = v` inside a multi-line
        // string are no headers and no keys.
        let tricky = "[data]\ntargets = [\n  [0],\n  [1]\n]\nname = \"[x] = 1\" # [y]\nnote = \"\"\"\na = 1\n[z]\n\"\"\"\nbad = 1e\n";
        assert_eq!(key_of_line(tricky, at(tricky, "1e")).as_deref(), Some("data.bad"));
        assert_eq!(key_of_line(tricky, at(tricky, "[1]")).as_deref(), Some("data.targets"));
        assert_eq!(key_of_line(tricky, at(tricky, "a = 1")).as_deref(), Some("data.note"));
        assert_eq!(key_of_line("\"quoted key\" = [\n", 15), None);
        // Indented headers and keys; a comment's bracket; an escaped quote; a string left open at
        // the end of its line (an error of its own) does not run on into the next lines.
        let more = "  [a]\n  x = 1 # [ a comment's bracket\ny = \"\\\" [\"\nz = \"open\n[b]\nw = 1e\n";
        assert_eq!(key_of_line(more, at(more, "1 #")).as_deref(), Some("a.x"));
        assert_eq!(key_of_line(more, at(more, "\\\"")).as_deref(), Some("a.y"));
        assert_eq!(key_of_line(more, at(more, "1e")).as_deref(), Some("b.w"));
        // Where a string ends decides whether a bracket after it opens a value that the next line
        // is still in: an escaped quote does not end a basic string, a backslash is itself in a
        // literal one, and a closing quote ends either.
        for (source, key) in
            [("y = \"\\\"[\"\nw = 1e\n", "w"), ("a = \"x\" [\nb = 1e\n", "a"), ("p = 'C:\\' [\nr = 1e\n", "p")]
        {
            assert_eq!(key_of_line(source, at(source, "1e")).as_deref(), Some(key), "{source:?}");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seed.toml");
        std::fs::write(&path, "[experiment]\nseed = 18446744073709551615\n[train]\nepochs = 1\n").unwrap();
        let message = load(&path, &[]).unwrap_err().to_string();
        assert!(message.ends_with("seed.toml:2:8: key `experiment.seed`: invalid TOML: u64 value was too large (TOML integers are 64-bit and signed: at most 9223372036854775807)"), "{message}");
    }

    #[test]
    fn an_f32_run_refuses_parameters_f32_cannot_hold() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f32.toml");
        std::fs::write(&path, "[experiment]\ndtype = \"f32\"\n[optim]\nkind = \"adam\"\n[train]\nepochs = 1\n")
            .unwrap();
        let message = |sets: &[&str]| {
            let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
            load(&path, &sets).err().map(|e| e.to_string())
        };
        assert_eq!(message(&[]), None);
        let huge = message(&["optim.lr=1e39"]).expect("refused");
        assert!(huge.contains("key `optim.lr`: 1e39 is beyond f32's range"), "{huge}");
        let tiny = message(&["optim.eps=1e-50"]).expect("refused");
        assert!(tiny.contains("key `optim.eps`: 1e-50 is 0 in f32"), "{tiny}");
        let nested = message(&["optim.betas=[0.9, 1e-60]"]).expect("refused");
        assert!(nested.contains("key `optim.betas[1]`"), "{nested}");
        let activation = message(&["model.activation={kind=\"leaky_relu\",negative_slope=-1e39}"]).expect("refused");
        assert!(activation.contains("key `model.activation.negative_slope`"), "{activation}");
        // f32 holds these; and the schedule and clipping are computed in f64.
        assert_eq!(message(&["optim.lr=3e38", "optim.eps=1e-44", "loss={kind=\"huber\",delta=1e-30}"]), None);
        assert_eq!(
            message(&["optim.clip_norm=1e300", "optim.schedule={kind=\"cosine\",t_max=5,eta_min=1e-300}"]),
            None
        );
        let clamp = message(&["optim.clip_value=1e-50"]).expect("every gradient clamped to 0");
        assert!(clamp.contains("key `optim.clip_value`: 1e-50 is 0 in f32"), "{clamp}");
        // Initialisers are checked by what they draw, when the network is made, not here.
        assert_eq!(message(&["model.init={kind=\"constant\",value=1e300}"]), None);
        // The same values in f64 are no concern of this check.
        assert_eq!(message(&["experiment.dtype=f64", "optim.lr=1e39", "optim.eps=1e-50"]), None);
    }

    /// `--set optim.lr=0.1` on a config without `[optim]` is sgd's lr (it was refused: "missing
    /// field `kind`"), `loss.*` and `data.*` likewise; a table the file has is left as written.
    #[test]
    fn a_set_into_a_section_the_file_leaves_out_is_its_defaults() {
        let base = "[train]\nepochs = 1\n";
        let load = |text: &str, sets: &[&str]| {
            let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
            load_text(text.into(), "d.toml".as_ref(), &sets).map(|l| l.config).map_err(|e| e.to_string())
        };
        let err = load(base, &["loss.reduction=mean"]).unwrap_err();
        assert!(err.contains("key `loss.reduction`") && err.contains("unknown field"), "half_mse has none: {err}");
        assert_eq!(load(base, &["loss.delta=2.0", "loss.kind=huber"]).unwrap().loss.name(), "huber");
        let cfg = load(base, &["optim.lr=0.1", "optim.momentum=0.9"]).unwrap();
        let sgd = backprop_optim::Sgd { lr: 0.1, momentum: 0.9, ..Default::default() };
        assert_eq!(cfg.optim.optimizer, backprop_optim::OptimizerSpec::Sgd(sgd));
        let cfg = load(base, &["optim.schedule.kind=cosine", "optim.schedule.t_max=5"]).unwrap();
        assert_eq!(cfg.optim.optimizer.name(), "sgd");
        assert_eq!(cfg.optim.schedule.unwrap().schedule.name(), "cosine");
        assert_eq!(load(base, &["optim.lr=0.1", "optim.kind=adam"]).unwrap().optim.optimizer.name(), "adam");
        let err = load(base, &["data.samples=50"]).unwrap_err();
        assert!(err.contains("key `data.samples`") && err.contains("unknown field"), "half_adder has none: {err}");
        // A component the --set names itself is no default: nothing said of one.
        for sets in [&["optim.kind=\"adam\"", "optim.bogus=1"][..], &["optim={kind=\"adam\", bogus=1}"]] {
            let err = load(base, sets).unwrap_err();
            assert!(err.contains("unknown field `bogus`") && !err.contains("no [optim] table"), "{err}");
        }
        // Where a key does not fit the default, the error says which default the section took.
        let err = load(base, &["optim.betas=[0.9, 0.99]"]).unwrap_err();
        assert!(
            err.contains(
                "(the file has no [optim] table: `--set` went into the default one, `kind = \"sgd\"`; \
                          `--set optim.kind=…` picks another)"
            ),
            "{err}"
        );
        let moons = load(base, &["data.source=moons", "data.samples=50"]).unwrap();
        assert!(matches!(moons.data, DataSpec::Moons { .. }), "{:?}", moons.data);
        // The file's own table without `kind` is refused, as written.
        let err = load(&format!("{base}[optim]\nlr = 0.5\n"), &["optim.momentum=0.9"]).unwrap_err();
        assert!(err.contains("missing field `kind`"), "{err}");
    }

    #[test]
    fn overrides_parse_toml_or_fall_back_to_strings() {
        let mut t = toml::Table::new();
        apply_override(&mut t, "model.hidden=[4, 4]").unwrap();
        apply_override(&mut t, "model.activation=relu").unwrap();
        assert_eq!(t["model"]["hidden"], toml::Value::Array(vec![4.into(), 4.into()]));
        assert_eq!(t["model"]["activation"], toml::Value::String("relu".into()));
        assert!(apply_override(&mut t, "model.hidden.x=1").is_err());
        assert!(apply_override(&mut t, "nokey").is_err());
        for big in ["1e400", "-1e400", "99999999999999999999"] {
            let m = apply_override(&mut t, &format!("optim.lr={big}")).unwrap_err();
            assert!(m.contains("out of range"), "{big}: {m}");
        }
        apply_override(&mut t, "experiment.name=2fast").unwrap();
        assert_eq!(t["experiment"]["name"], toml::Value::String("2fast".into()));
        // Meant as an array, a table or a quoted string: their syntax errors, not a string.
        for broken in ["[4,", "{kind = \"adam\"", "\"relu"] {
            let m = apply_override(&mut t, &format!("model.hidden={broken}")).unwrap_err();
            assert!(m.starts_with(&format!("`{broken}` is not a TOML value: ")), "{m}");
        }
        // Quoted parts of a key, as TOML reads them (a sweep's grid keys are dotted themselves).
        apply_override(&mut t, "sweep.grid.\"optim.lr\"=[0.1, 0.5]").unwrap();
        assert_eq!(t["sweep"]["grid"]["optim.lr"], toml::Value::Array(vec![0.1.into(), 0.5.into()]));
        for bad in ["a..b=1", ".a=1", "a.=1", "a.\"b=1"] {
            assert!(apply_override(&mut t, bad).is_err(), "{bad}");
        }
        // Keys compared part by part.
        assert!(
            key_within("sweep.grid.\"optim\"", "sweep.grid.optim") && key_within("model.hidden[1]", "model.hidden")
        );
        assert!(key_within("model.hidden", "model") && !key_within("model", "model.hidden"));
        assert!(!key_within("a.\"b.c\"", "a.b") && !key_within("model.hiddenx", "model.hidden"));
        // A line break would start another key, which was dropped.
        let m = apply_override(&mut t, "train.epochs=3\nx = 5").unwrap_err();
        assert!(m.contains("more than one TOML value"), "{m}");
    }
}
