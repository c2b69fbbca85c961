//! One training run into a run directory: the library entry point that `backprop train`, `cargo
//! xtask experiment` and sweeps share, and `--resume` from its checkpoint.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use backprop_tensor::{Dtype, Element, Matrix};
use ndarray::s;
use serde::{Deserialize, Serialize};

use backprop_data::{Dataset, Normalizer, Task};
use backprop_layers::activation::Sigmoid;
use backprop_layers::{Elementwise, Network, Workspace, allocatable, parts};
use backprop_loss::Loss;

use crate::config::{Config, Loaded};
use crate::error::CliError;
use crate::experiment::prepare_splits;
use crate::fsutil::{self, write_atomic};
use crate::model_file::ModelFile;
use crate::model_file::{Provenance, data_hash, text_hash};
use crate::report::{self, ClassificationReport, RegressionReport};
use crate::train::{
    DIAGNOSTICS, EpochMetrics, Flow, LogLines, Monitor, Observer, SetupError, StopReason, TrainState, Trainer,
};
use crate::train::{decision_threshold, forward_cost, outputs_are_logits};
use backprop_tensor::SpecError;

/// The checkpoint file of a run directory.
pub const CHECKPOINT: &str = "checkpoint.json";

/// Ctrl-C presses seen by this process (see [`install_interrupt_handler`]).
static INTERRUPTS: AtomicUsize = AtomicUsize::new(0);

/// When the first interrupt came.
static FIRST_INTERRUPT: OnceLock<Instant> = OnceLock::new();

/// Signals this soon after the first are the same request: `timeout` sends its SIGTERM twice,
/// to the process and then to its process group.
pub const SAME_INTERRUPT: Duration = Duration::from_millis(500);

/// Makes Ctrl-C (SIGINT), SIGTERM and SIGHUP stop training gracefully (ctrlc's `termination`
/// feature: the signals `timeout`, Slurm, Docker and a closed terminal send): the first ends the
/// run after the current epoch with a final checkpoint and `stop_reason = "interrupted"`; a
/// second, [`SAME_INTERRUPT`] or more after the first, exits at once with status 130, saying so
/// (one sooner is taken as the same request). Call once, from a binary.
pub fn install_interrupt_handler() {
    let _ = ctrlc::set_handler(|| {
        let first = *FIRST_INTERRUPT.get_or_init(Instant::now);
        if INTERRUPTS.fetch_add(1, Ordering::SeqCst) >= 1 && first.elapsed() >= SAME_INTERRUPT {
            let _ = writeln!(
                std::io::stderr(),
                "\ninterrupted again: exiting at once (what the run has not written yet stays unwritten)"
            );
            std::process::exit(130);
        }
    });
}

/// Whether Ctrl-C was pressed.
pub fn interrupted() -> bool {
    INTERRUPTS.load(Ordering::SeqCst) > 0
}

/// The files a run writes, the checkpoint aside.
const RESULT_FILES: [&str; 6] =
    ["config.toml", "summary.json", "model.json", "metrics.csv", "loss.svg", "decision.svg"];

/// Removes from the run directory `dir` an earlier run's results (`summary.json`, `model.json`,
/// `metrics.csv`, the plots; not `config.toml`), its `checkpoint.json` too when `checkpoint`, and
/// the temporary files (`.NAME.PID.tmp`) a killed writer of any of them left
/// ([`fsutil::abandoned_temp`]: not those of a writer still running); never `keep` (the
/// model a run starts from, `model.init_from`, may be the earlier run's `model.json`: it is read,
/// but a run killed before writing its own would leave none). A `dir` that is not a directory
/// holds nothing to remove (writing the files says what it is).
fn remove_earlier_results(dir: &Path, checkpoint: bool, keep: Option<&Path>) -> Result<(), CliError> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) };
    let keep = keep.and_then(|k| std::fs::canonicalize(k).ok());
    for entry in entries.flatten() {
        if keep.is_some() && std::fs::canonicalize(entry.path()).ok() == keep {
            continue;
        }
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let ours = |file: &str| file != "config.toml" && (checkpoint || file != CHECKPOINT);
        let result = RESULT_FILES.iter().chain([&CHECKPOINT]).any(|f| name == *f && ours(f));
        let temp =
            fsutil::abandoned_temp(name).is_some_and(|n| RESULT_FILES.iter().chain([&CHECKPOINT]).any(|f| n == *f));
        if result || temp {
            fsutil::remove_if_present(&entry.path())?;
        }
    }
    Ok(())
}

/// Refuses a run directory `dir` where the run would remove or write over a file that is not an
/// earlier run's: its data file named `metrics.csv`, its hand-written config as `config.toml`
/// (a run's own resolved config, trained again in place, with `--set`s or not, is let be: one
/// that serialises to its own text, or sits beside a run's other files), or
/// when `chosen` (a directory the user named, not a sweep's trial) files of a run's names in a
/// directory without a run's `config.toml` (a run writes that first, so every run directory
/// holding other files has one). The model a run starts from,
/// `model.init_from`, may be the directory's `model.json` ([`remove_earlier_results`] keeps it).
fn spare_inputs(loaded: &Loaded, resolved: &str, dir: &Path, chosen: bool) -> Result<(), CliError> {
    let outputs: Vec<(&str, PathBuf)> = RESULT_FILES
        .iter()
        .chain([&CHECKPOINT])
        .filter_map(|name| Some((*name, std::fs::canonicalize(dir.join(name)).ok()?)))
        .collect();
    if outputs.is_empty() {
        return Ok(());
    }
    let output_at = |path: &Path| {
        let path = std::fs::canonicalize(path).ok()?;
        outputs.iter().find(|(_, o)| *o == path).map(|(name, _)| *name)
    };
    // A run's resolved config is the text its config serialises to, or sits beside a run's other
    // files (an earlier release's wrote `alpha` for leaky_relu's `negative_slope`); a
    // hand-written one is neither.
    let resolved_config = |loaded: &Loaded| {
        let own = crate::config::load(&loaded.path, &[]).ok()?;
        Some(toml::to_string(&own.config).ok()? == loaded.source)
    };
    let beside_results = outputs.iter().any(|(name, _)| *name != "config.toml");
    if output_at(&loaded.path) == Some("config.toml")
        && loaded.source != resolved
        && !beside_results
        && resolved_config(loaded) != Some(true)
    {
        return Err(CliError::Input(format!(
            "{}: the config is the run directory's config.toml, which the run writes its resolved config over \
             (losing the file's comments and layout): train with --out another directory",
            loaded.path.display()
        )));
    }
    let table: toml::Table = resolved.parse().map_err(|e| CliError::Config(format!("the resolved config: {e}")))?;
    for (section, key) in crate::config::PATH_KEYS {
        let Some(path) = table.get(*section).and_then(|t| t.get(*key)).and_then(toml::Value::as_str) else {
            continue;
        };
        match output_at(Path::new(path)) {
            None => {}
            Some("model.json") if (*section, *key) == ("model", "init_from") => {}
            Some(name) => {
                let message = format!(
                    "{path} is the run directory's `{name}`, which the run removes and writes: train with --out \
                     another directory, or move the file"
                );
                return Err(loaded.spec_error(&SpecError::new(format!("{section}.{key}"), message)));
            }
        }
    }
    if chosen && !outputs.iter().any(|(name, _)| *name == "config.toml") {
        let names: Vec<&str> = outputs.iter().map(|(name, _)| *name).collect();
        return Err(CliError::Input(format!(
            "{}: holds {} but no config.toml, which every run directory has: not a run's files, and training \
             would remove them; train with --out another directory",
            dir.display(),
            names.join(", ")
        )));
    }
    Ok(())
}

/// What a finished run reports: the contents of its `summary.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Cost over the training set of the final weights (those of `model.json`): after the last
    /// kept epoch, or with early stopping's `restore_best`, after the best epoch.
    pub final_cost: f64,
    /// Lowest cost over the training set after any epoch (the initial one included).
    pub best_cost: f64,
    /// Cost before training.
    pub initial_cost: f64,
    /// Epochs whose updates were kept.
    pub epochs_run: usize,
    /// Wall time of the epochs, in seconds.
    pub train_seconds: f64,
    /// `completed`, `diverged`, `early_stopping`, `stop_below` or `interrupted`.
    pub stop_reason: String,
    /// The epoch the run stopped at, for every reason but `completed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_epoch: Option<usize>,
    /// The experiment seed.
    pub seed: u64,
    /// The element type.
    pub dtype: Dtype,
    /// Number of weights and biases.
    pub parameters: usize,
    /// Training accuracy of the final weights (classification).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<f64>,
    /// Validation cost of the final weights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_cost: Option<f64>,
    /// Validation accuracy of the final weights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_accuracy: Option<f64>,
    /// For a diverged run: where the first non-finite value appeared, e.g. "layer 2 (pre-activations z)".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diverged_at: Option<String>,
    /// Cost on the test split (when there is one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_cost: Option<f64>,
    /// Accuracy on the test split (classification with a test split).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_accuracy: Option<f64>,
    /// The detailed report on the held-out split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<Report>,
}

/// The detailed evaluation of a trained network on one split.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// `test`, `validation` or `train`: the split it was measured on.
    pub split: String,
    /// Confusion matrix and per-class scores (classification).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification: Option<ClassificationReport>,
    /// MSE, MAE and R² (regression); with targets of 0s and 1s, the outputs read as bits too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regression: Option<RegressionReport>,
}

/// Cost, accuracy and report of a network on a data set.
pub struct Evaluation {
    /// Mean cost.
    pub cost: f64,
    /// Accuracy (classification).
    pub accuracy: Option<f64>,
    /// The detailed report (its `split` left empty).
    pub report: Report,
}

/// Measures `net` on `data`: in one pass, or for a set larger than [`Workspace::pass_rows`] (a
/// gibibyte of buffers; fewer rows where memory is short, [`Workspace::pass_rows_for`]) in
/// balanced [`parts`], each part's mean cost weighted by its rows (within rounding of one pass;
/// the outputs, and so the report, the same bits), so that a large held-out set does not need
/// buffers for all of its rows at once.
///
/// The cost is the loss's on `data` as given; a regression report is scored in the targets'
/// own units: `targets_scaled_by` (the data's [`Splits::target_normalizer`], the identity
/// unless `normalize_targets` scaled them) is inverted on the outputs and the targets first.
///
/// # Panics
/// When `targets_scaled_by` scales anything and is not of the data's target width (the data's
/// own target normalizer always is).
///
/// [`Splits::target_normalizer`]: backprop_data::Splits::target_normalizer
pub fn evaluate<F: Element>(
    net: &Network<F>,
    loss: &dyn Loss<F>,
    data: &Dataset<F>,
    classification: bool,
    classes: Option<&[String]>,
    targets_scaled_by: &Normalizer,
) -> Evaluation {
    let rows = Workspace::pass_rows_for(net, data.len());
    evaluate_in_parts(net, loss, data, classification, classes, targets_scaled_by, rows)
}

/// [`evaluate`] in parts of at most `rows` rows.
fn evaluate_in_parts<F: Element>(
    net: &Network<F>,
    loss: &dyn Loss<F>,
    data: &Dataset<F>,
    classification: bool,
    classes: Option<&[String]>,
    targets_scaled_by: &Normalizer,
    rows: usize,
) -> Evaluation {
    let n = data.len();
    let mut ws = Workspace::new(net, n.min(rows).max(1));
    let (cost, out) = if n <= rows {
        let cost = forward_cost(net, loss, data.inputs.view(), data.targets.view(), &mut ws).f64();
        (cost, ws.output(n).to_owned())
    } else {
        let (mut cost, mut out) = (0.0, Matrix::zeros((n, net.outputs())));
        for part in parts(n, rows) {
            let (x, t) = (data.inputs.slice(s![part.clone(), ..]), data.targets.slice(s![part.clone(), ..]));
            cost += forward_cost(net, loss, x, t, &mut ws).f64() * (part.len() as f64 / n as f64);
            out.slice_mut(s![part.clone(), ..]).assign(&ws.output(part.len()));
        }
        (cost, out)
    };
    let out = out.view();
    let mut report = Report::default();
    let mut accuracy = None;
    if classification {
        let r = report::classification(out, data.targets.view(), decision_threshold(loss, net), classes.unwrap_or(&[]));
        accuracy = Some(r.accuracy);
        report.classification = Some(r);
    } else if targets_scaled_by.is_identity() && !outputs_are_logits(loss, net) {
        report.regression = Some(report::regression(out, data.targets.view(), decision_threshold(loss, net)));
    } else {
        // Logits are scored as the probabilities their loss makes of them, σ(output) as a
        // sigmoid output layer computes it, at that layer's threshold.
        let logits = outputs_are_logits(loss, net);
        let probabilities = |v: F| if logits { Sigmoid {}.value(v) } else { v };
        let threshold = if logits { 0.5 } else { decision_threshold(loss, net).f64() };
        // Scaled back in f64: in f32, 1e8 + k would round to f32's spacing there, 8, and the
        // outputs and targets to the same few values.
        let (mut outputs, mut targets) = (out.mapv(|v| probabilities(v).f64()), data.targets.mapv(|v| v.f64()));
        let width = "the data's targets were scaled by this normalizer";
        targets_scaled_by.invert(&mut outputs).expect(width);
        targets_scaled_by.invert(&mut targets).expect(width);
        let mut regression = report::regression(outputs.view(), targets.view(), threshold);
        regression.of = logits.then(|| "sigmoid(output)".to_string());
        report.regression = Some(regression);
    }
    Evaluation { cost, accuracy, report }
}

/// Refuses, before any work, passes of `net` over all `rows` of a config's training set in one
/// go (`grad`; `gradcheck`, with a network and a workspace for each thread) that this machine
/// cannot allocate, naming the data as what sizes them, instead of the abort (exit 134) a failed
/// allocation is in Rust: `workspaces` such passes at once, `param_copies` parameter-sized
/// buffers (the network, its gradients, a copy per thread…).
pub(crate) fn check_whole_set_memory<F: Element>(
    loaded: &Loaded,
    net: &Network<F>,
    rows: usize,
    workspaces: usize,
    param_copies: usize,
) -> Result<(), CliError> {
    let rows = rows.max(1);
    let workspace = Workspace::bytes_per_row(net).saturating_mul(rows).saturating_mul(workspaces);
    let params = net.params().len().saturating_mul(std::mem::size_of::<F>()).saturating_mul(param_copies);
    Memory { whole_set: true, workspace, params, rows }.check(loaded, allocatable)
}

/// The bytes a training run's largest buffers take: what [`Memory::check`] asks the allocator
/// for before any of them is made.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Memory {
    /// Whether the rows are the whole training set in one pass (`grad`, `gradcheck`), not a batch.
    whole_set: bool,
    /// The workspace: every layer's buffers for a batch.
    workspace: usize,
    /// The parameters, gradients, last good and best parameters (four copies) and the
    /// optimiser's state.
    params: usize,
    /// Rows of a batch.
    rows: usize,
}

impl Memory {
    fn of<F: Element>(net: &Network<F>, rows: usize, state_len: usize) -> Self {
        let rows = rows.max(1);
        let workspace = Workspace::bytes_per_row(net).saturating_mul(rows);
        let values = net.params().len().saturating_mul(4).saturating_add(state_len);
        Memory { whole_set: false, workspace, params: values.saturating_mul(std::mem::size_of::<F>()), rows }
    }

    /// Refuses a run whose buffers `allocatable` (one reservation of their total, given back at
    /// once: no page is touched) says this machine cannot allocate, with an error that names what
    /// sets their size. In Rust a failed allocation aborts the process (exit 134, "memory
    /// allocation of N bytes failed"); this runs once the data is loaded, before an earlier
    /// run's results are removed.
    fn check(self, loaded: &Loaded, allocatable: impl Fn(usize) -> bool) -> Result<(), CliError> {
        let total = self.workspace.saturating_add(self.params);
        if allocatable(total) {
            return Ok(());
        }
        let (key, advice) = if self.workspace < self.params {
            ("model", "a smaller network needs less")
        } else if self.whole_set {
            ("data", "this command takes the whole training set in one pass")
        } else {
            ("train.batch_size", "a smaller batch needs less")
        };
        let (who, passes) = if self.whole_set {
            ("this command", format!("passes over all {} rows at once", self.rows))
        } else {
            ("training", format!("batches of {} rows", self.rows))
        };
        let message = format!(
            "{who} needs about {} ({} of layer buffers for {passes}, {} of parameters, gradients and optimiser \
             state), more than this machine can allocate; {advice}",
            crate::fsutil::size_text(total),
            crate::fsutil::size_text(self.workspace),
            crate::fsutil::size_text(self.params)
        );
        Err(loaded.spec_error(&SpecError::new(key, message)))
    }
}

/// What a checkpoint of a run of `cfg` must have been written under to be resumed by it: the
/// hash of the config but for what a resumed run may change (more epochs, other logging) or
/// not need; and the same as releases before the twenty-sixth session wrote it, which spelled
/// leaky_relu's slope `alpha` (now `negative_slope`), so that their checkpoints resume.
fn config_hashes(cfg: &Config) -> Result<(String, String), CliError> {
    let mut cfg = cfg.clone();
    cfg.model.init_from = None;
    (cfg.train.epochs, cfg.train.log_every, cfg.train.checkpoint_every) = (0, 0, 0);
    let text = toml::to_string(&cfg).map_err(|e| CliError::Config(format!("cannot write the resolved config: {e}")))?;
    Ok((text_hash(&text), text_hash(&text.replace("negative_slope = ", "alpha = "))))
}

/// Trains the config into `dir` (which must exist): writes `config.toml` first, then
/// `metrics.csv`, `model.json`, `loss.svg` (and `decision.svg` for two-feature classification)
/// and `summary.json` last, each atomically; logs the costs and the
/// network's outputs to `log`. A diverged run is `Ok` with `stop_reason = "diverged"` (its last
/// good weights are saved); callers decide what that means for them.
///
/// No progress bar is drawn (sweeps run many of these at once); `backprop train` uses
/// [`run_training_interactive`].
pub fn run_training_any(loaded: &Loaded, dir: &Path, log: &mut dyn Write) -> Result<RunSummary, CliError> {
    match loaded.config.experiment.dtype {
        Dtype::F32 => run_training::<f32>(loaded, dir, log, None, false),
        Dtype::F64 => run_training::<f64>(loaded, dir, log, None, false),
    }
}

/// [`run_training_any`], handing back the run's files instead of writing them: the caller
/// writes them with [`RunFiles::write`] (a sweep does so on an I/O thread, so that its compute
/// threads do not wait for the disk to flush each file). `dir` need not exist: the run creates
/// it only to write checkpoints (and then `config.toml` first, so that a checkpoint is never on
/// disk without its config), [`RunFiles::write`] otherwise.
pub fn run_training_deferred(
    loaded: &Loaded,
    dir: &Path,
    log: &mut dyn Write,
) -> Result<(RunSummary, RunFiles), CliError> {
    let mut files = RunFiles { dir: dir.to_path_buf(), deferred: true, pending: Vec::new() };
    let summary = match loaded.config.experiment.dtype {
        Dtype::F32 => train_into::<f32>(loaded, dir, log, None, false, &mut files),
        Dtype::F64 => train_into::<f64>(loaded, dir, log, None, false, &mut files),
    }?;
    Ok((summary, files))
}

/// The files of a run directory, in the order a run makes them (`summary.json` last, so a
/// directory with a summary holds every other file too), each written atomically
/// ([`write_atomic`]: temp file, fsync, rename): at once, or kept until [`RunFiles::write`].
#[derive(Debug)]
pub struct RunFiles {
    dir: PathBuf,
    deferred: bool,
    pending: Vec<(&'static str, Vec<u8>)>,
}

impl RunFiles {
    /// Files written as they come.
    fn now(dir: &Path) -> Self {
        RunFiles { dir: dir.to_path_buf(), deferred: false, pending: Vec::new() }
    }

    fn add(&mut self, name: &'static str, bytes: Vec<u8>) -> Result<(), CliError> {
        if self.deferred {
            self.pending.push((name, bytes));
            Ok(())
        } else {
            write_atomic(&self.dir.join(name), &bytes)
        }
    }

    /// The run directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The names of the files not written yet, in order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.pending.iter().map(|(name, _)| *name)
    }

    /// The bytes of the file `name` not written yet, if it is one.
    pub fn pending(&self, name: &str) -> Option<&[u8]> {
        self.pending.iter().find(|(n, _)| *n == name).map(|(_, bytes)| bytes.as_slice())
    }

    /// The bytes of the file `name` not written yet, to change before they are (a sweep adds
    /// to a trial's `summary.json` the fingerprints of the files it read).
    pub fn pending_mut(&mut self, name: &str) -> Option<&mut Vec<u8>> {
        self.pending.iter_mut().find(|(n, _)| *n == name).map(|(_, bytes)| bytes)
    }

    /// Writes the files kept back, in the order the run made them, creating the directory if
    /// needed; stops at the first error.
    pub fn write(self) -> Result<(), CliError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| CliError::create_dir(&self.dir, &e))?;
        self.pending.into_iter().try_for_each(|(name, bytes)| write_atomic(&self.dir.join(name), &bytes))
    }
}

/// [`run_training_any`] with a progress bar on stderr when it is a terminal.
pub fn run_training_interactive(loaded: &Loaded, dir: &Path, log: &mut dyn Write) -> Result<RunSummary, CliError> {
    match loaded.config.experiment.dtype {
        Dtype::F32 => run_training::<f32>(loaded, dir, log, None, true),
        Dtype::F64 => run_training::<f64>(loaded, dir, log, None, true),
    }
}

/// The keys `--set` may change when a run resumes: what its checkpoint's config hash leaves out
/// (how long it trains, how it logs and checkpoints), as Keras's `fit(epochs=…)` trains a model
/// on past its `initial_epoch`.
pub const RESUME_KEYS: [&str; 3] = ["train.epochs", "train.log_every", "train.checkpoint_every"];

/// Continues the run in `dir` from its `checkpoint.json`, with the config it saved, `overrides`
/// (`--set KEY=VALUE`) applied to [`RESUME_KEYS`] only; the run's `config.toml` is rewritten with
/// them.
pub fn resume_any(dir: &Path, overrides: &[String], log: &mut dyn Write) -> Result<RunSummary, CliError> {
    for set in overrides {
        let key = set.split_once('=').map_or(set.as_str(), |(k, _)| k).trim();
        if !RESUME_KEYS.iter().any(|k| crate::config::key_parts(key) == crate::config::key_parts(k)) {
            return Err(CliError::Config(format!(
                "--set {set}: a resumed run keeps the config its checkpoint was written under; only {} may \
                 change",
                RESUME_KEYS.map(|k| format!("`{k}`")).join(", ")
            )));
        }
    }
    if !dir.is_dir() {
        return Err(CliError::Input(format!("{}: no such run directory to resume", dir.display())));
    }
    let path = dir.join(CHECKPOINT);
    let text = fsutil::read_input_text(&path, fsutil::MODEL_LIMIT, "checkpoint").map_err(|e| match e {
        CliError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            let model = dir.join("model.json");
            let start = if model.is_file() {
                format!(
                    "; a new run can start from its weights: `backprop train {} --set model.init_from={}`",
                    dir.join("config.toml").display(),
                    model.display()
                )
            } else {
                String::new()
            };
            CliError::Input(format!(
                "{}: no checkpoint to resume from (a run writes one every `train.checkpoint_every` epochs, and \
                 when Ctrl-C stops it){start}",
                path.display()
            ))
        }
        e => e,
    })?;
    let state: TrainState = serde_json::from_str(&text).map_err(|e| {
        CliError::Input(format!("{}:{}:{}: not a valid checkpoint: {e}", path.display(), e.line(), e.column()))
    })?;
    let mut loaded = crate::config::load(&dir.join("config.toml"), overrides)?;
    // The checkpoint holds the weights: the start they came from is not needed again.
    loaded.config.model.init_from = None;
    match loaded.config.experiment.dtype {
        Dtype::F32 => run_training::<f32>(&loaded, dir, log, Some(state), true),
        Dtype::F64 => run_training::<f64>(&loaded, dir, log, Some(state), true),
    }
}

/// [`run_training_any`] for a known element type, from `resume` when given, with a progress
/// bar when `progress` and stderr is a terminal.
pub fn run_training<F: Element>(
    loaded: &Loaded,
    dir: &Path,
    log: &mut dyn Write,
    resume: Option<TrainState>,
    progress: bool,
) -> Result<RunSummary, CliError> {
    train_into::<F>(loaded, dir, log, resume, progress, &mut RunFiles::now(dir))
}

/// [`run_training`], its files made through `files`.
fn train_into<F: Element>(
    loaded: &Loaded,
    dir: &Path,
    log: &mut dyn Write,
    resume: Option<TrainState>,
    progress: bool,
    files: &mut RunFiles,
) -> Result<RunSummary, CliError> {
    let cfg = &loaded.config;
    let (splits, net) = prepare_splits::<F>(loaded, None)?;
    // On stderr, as `eval`'s are; a sweep says them once for all its trials (its plan).
    if !files.deferred {
        for warning in &splits.warnings {
            let _ = writeln!(std::io::stderr(), "warning: {warning}");
        }
    }
    let data = &splits.train;
    let classification = splits.task == Task::Classification;
    let resolved =
        toml::to_string(cfg).map_err(|e| CliError::Config(format!("cannot write the resolved config: {e}")))?;
    let (config_hash, earlier_config_hash) = config_hashes(cfg)?;
    let validation = splits.validation.as_ref();
    if let Some(es) = &cfg.train.early_stopping
        && matches!(es.monitor, Monitor::ValCost | Monitor::ValAccuracy)
        && validation.is_none()
    {
        let e = SpecError::new(
            "train.early_stopping.monitor",
            format!("`{}` needs a validation split (`data.validation`)", es.monitor.name()),
        );
        return Err(loaded.spec_error(&e));
    }
    let state_len = cfg.optim.optimizer.get::<F>().state_len(net.params().len());
    Memory::of(&net, cfg.train.batch_size.rows(data.len()), state_len).check(loaded, allocatable)?;
    if resume.is_none() {
        // An earlier run's files, gone before this run writes anything (and only once its config
        // has passed every check): resuming from its checkpoint would mix the two runs, its
        // decision plot could sit beside this run's model, and a run killed before its own files
        // are written would leave the earlier run's summary, model and metrics beside its
        // `config.toml`, looking complete.
        spare_inputs(loaded, &resolved, dir, !files.deferred)?;
        remove_earlier_results(dir, true, cfg.model.init_from.as_deref())?;
    }

    let opts = crate::experiment::train_options(cfg, &splits);
    // The config's checks above report these against their keys; whatever they missed is an
    // error still, not a panic.
    let refused = |e: SetupError| CliError::Input(format!("{}: {e}", loaded.path.display()));
    let mut trainer = Trainer::try_new(net, data, cfg.loss.get(), cfg.optim.optimizer.get(), opts).map_err(refused)?;
    if let Some(v) = validation {
        trainer = trainer.try_with_validation(v).map_err(refused)?;
    }
    let mut rng = crate::experiment::shuffle_rng(cfg);
    // The training data's hash: made at most once (a pass over all of it), for the resume check,
    // the checkpoints and the model's provenance.
    let mut hash = None;
    let hash_of = |hash: &mut Option<String>| -> String {
        hash.get_or_insert_with(|| data_hash(data.inputs.view(), data.targets.view())).clone()
    };
    if let Some(state) = &resume {
        if let Some(saved) = &state.data_hash
            && *saved != hash_of(&mut hash)
        {
            let path = dir.join(CHECKPOINT);
            return Err(CliError::Input(format!(
                "{}: the checkpoint was written for other training data than the config's (data hash {saved})",
                path.display()
            )));
        }
        // After the data's check, the more specific one.
        if let Some(saved) = &state.config_hash
            && *saved != config_hash
            && *saved != earlier_config_hash
        {
            return Err(CliError::Input(format!(
                "{}: the checkpoint was written under another config than {} (an earlier run's, left in \
                 the directory?)",
                dir.join(CHECKPOINT).display(),
                dir.join("config.toml").display()
            )));
        }
        rng =
            trainer.restore(state).map_err(|m| CliError::Input(format!("{}: {m}", dir.join(CHECKPOINT).display())))?;
        // A run that stopped early (early stopping, stop_below) replays from its checkpoint to the
        // same stop: its rule's state is in the checkpoint, and more epochs do not change it.
        let stopped = std::fs::read_to_string(dir.join("summary.json"))
            .ok()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .and_then(|s| Some((s["stop_reason"].as_str()?.to_string(), s["stop_epoch"].as_u64()?)))
            .filter(|(reason, _)| reason == "early_stopping" || reason == "stop_below");
        // The stop it resumes from wrote a summary and a model; a resumed run killed between
        // writing its own metrics and its summary would leave them beside its metrics. The
        // checkpoint stays: it is what a resume killed now resumes from.
        remove_earlier_results(dir, false, None)?;
        let _ = writeln!(log, "Resuming after epoch {}", state.epoch);
        if let Some((reason, epoch)) = stopped.filter(|(_, epoch)| *epoch < cfg.train.epochs as u64) {
            let _ = writeln!(
                log,
                "(the run stopped by {reason} at epoch {epoch}: resumed, it trains to the same stop, whatever \
                 `train.epochs`; to train it further, start a run from its model: `backprop train {config} --set \
                 model.init_from={model}`, with another `train.{key}`)",
                config = dir.join("config.toml").display(),
                model = dir.join("model.json").display(),
                key = if reason == "stop_below" { "stop_below" } else { "early_stopping" },
            );
        } else if state.epoch >= cfg.train.epochs {
            let _ = writeln!(
                log,
                "(the run had reached its {} epochs: nothing more to train; `--set train.epochs=N` trains it longer)",
                cfg.train.epochs
            );
        }
    }
    // Only now, once a resume has passed its checks: a refused `--resume --set` must leave the
    // run's config as it was, or a plain `--resume` would then be refused too.
    if cfg.train.checkpoint_every > 0 {
        // A checkpoint is only of use beside its config: on disk before the first one.
        std::fs::create_dir_all(dir).map_err(|e| CliError::create_dir(dir, &e))?;
        write_atomic(&dir.join("config.toml"), resolved.as_bytes())?;
    } else {
        files.add("config.toml", resolved.clone().into_bytes())?;
    }
    let mut observer =
        RunObserver::new(log, cfg.train.log_every, dir, cfg.train.checkpoint_every, cfg.train.epochs, progress);
    if cfg.train.checkpoint_every == 0 {
        observer.config_first = Some(resolved.clone());
    }
    observer.data_hash = hash;
    observer.config_hash = Some(config_hash);
    let outcome = trainer.try_run_with(&mut rng, &mut observer).map_err(refused)?;
    if let Some(e) = observer.error.take() {
        return Err(e);
    }
    let mut hash = observer.data_hash.take();
    let log = observer.log.out();
    // The metrics of the weights the run hands back (with early stopping's `restore_best`, the
    // best epoch's), which model.json holds and eval measures.
    let last = outcome.final_metrics;

    // As Keras says "Restoring model weights from the end of the best epoch": the final cost is
    // not the last epoch's.
    if let Some(es) = cfg.train.early_stopping.as_ref().filter(|e| e.restore_best)
        && last.epoch != outcome.epochs_run
        && !matches!(outcome.stop_reason, StopReason::Diverged { .. } | StopReason::Interrupted { .. })
        && let Some(value) = es.monitor.value(&last)
    {
        let (name, value) = (es.monitor.name(), report::number(value));
        let _ = writeln!(log, "Restored the weights of epoch {}, the best {name} ({value})", last.epoch);
    }
    let _ = writeln!(log, "Final cost: {:?}", last.cost);
    // Regression on large targets, unscaled, is the usual reason a plain SGD run diverges.
    if matches!(outcome.stop_reason, StopReason::Diverged { .. })
        && splits.task == Task::Regression
        && splits.target_normalizer.is_identity()
        && let Some(largest) = data.targets.iter().map(|t| t.f64().abs()).reduce(f64::max).filter(|&m| m >= 1e3)
    {
        let _ = writeln!(
            log,
            "Hint: the targets reach {}; `data.normalize_targets = \"standardize\"` trains on scaled targets, \
             and predict answers in theirs",
            report::number(largest)
        );
    }
    // The post prints the net's output for every training input; for more than a truth table's
    // worth of samples the summary's figures say more.
    if data.len() <= 16 {
        let _ = writeln!(log, "Neural net output:");
        let mut outputs = outcome.net.predict(data.inputs.view()).mapv(|v| v.f64());
        // In the targets' own units, scaled back in f64 as `predict` does (the width is the
        // data's own).
        let _ = splits.target_normalizer.invert(&mut outputs);
        // The inputs in their own units too (scaled, `(-1.2247, …)` sat beside outputs in the
        // targets'), scaled back in f64: an f32 input rounded back to f32 (its round trip is
        // far within f32's spacing) and shown in f32's digits, an f64 one to 15 digits, where
        // the round trip's last bits would print 2.9999999999999996 for 3.
        let inputs: Vec<String> = if splits.normalizer.is_identity() {
            data.inputs.iter().map(|&v| report::number_in(v)).collect()
        } else {
            let mut raw = data.inputs.mapv(|v| v.f64());
            let _ = splits.normalizer.invert(&mut raw);
            let shown = |v: f64| match F::DTYPE {
                Dtype::F32 => report::number_in(F::of(v)),
                Dtype::F64 => report::number(format!("{v:.14e}").parse().unwrap_or(v)),
            };
            raw.iter().map(|&v| shown(v)).collect()
        };
        let width = data.features();
        for (x, y) in inputs.chunks(width.max(1)).zip(outputs.outer_iter()) {
            let xs = x.to_vec();
            let ys: Vec<String> = y.iter().map(|&v| report::output(v)).collect();
            let _ = writeln!(log, "  ({}) : [{}]", xs.join(", "), ys.join(" "));
        }
    }
    let layers = outcome.net.layers().len();
    files.add("metrics.csv", metrics_csv(&outcome.history, &outcome.diagnostics, layers).into_bytes())?;
    let stop_epoch = match outcome.stop_reason {
        StopReason::Completed => None,
        StopReason::Diverged { epoch, .. }
        | StopReason::EarlyStopping { epoch }
        | StopReason::StopBelow { epoch }
        | StopReason::Interrupted { epoch } => Some(epoch),
    };
    let mut summary = RunSummary {
        final_cost: last.cost,
        best_cost: outcome.best_cost,
        initial_cost: outcome.costs[0],
        epochs_run: outcome.epochs_run,
        train_seconds: outcome.seconds,
        stop_reason: outcome.stop_reason.name().to_string(),
        stop_epoch,
        seed: cfg.experiment.seed,
        dtype: F::DTYPE,
        parameters: outcome.net.params().len(),
        accuracy: last.accuracy,
        val_cost: last.val_cost,
        val_accuracy: last.val_accuracy,
        diverged_at: match outcome.stop_reason {
            StopReason::Diverged { layer: Some((l, q)), .. } => Some(format!("layer {l} ({})", q.describe())),
            _ => None,
        },
        test_cost: None,
        test_accuracy: None,
        report: None,
    };
    // The held-out report: on the test split, else validation, else the training set.
    let loss = cfg.loss.get::<F>();
    let (name, held) = match (&splits.test, &splits.validation) {
        (Some(t), _) => ("test", t),
        (None, Some(v)) => ("validation", v),
        (None, None) => ("train", data),
    };
    let eval = evaluate(&outcome.net, loss, held, classification, splits.classes.as_deref(), &splits.target_normalizer);
    // As Keras's `evaluate` after `fit`: the held-out split's figures (a run without one, as
    // the post's, prints nothing more; its report is its training set's, in summary.json).
    if name != "train" {
        let figure = report::figure;
        let figures = match (&eval.report.classification, &eval.report.regression) {
            (Some(c), _) => format!(", accuracy {}", figure(c.accuracy)),
            (_, Some(r)) => format!(", R² {}, MSE {}, MAE {}", figure(r.r2), figure(r.mse), figure(r.mae)),
            _ => String::new(),
        };
        let split = if name == "test" { "Test" } else { "Validation" };
        let _ = writeln!(log, "{split} ({} samples): cost {}{figures}", held.len(), figure(eval.cost));
    }
    if name == "test" {
        summary.test_cost = Some(eval.cost);
        summary.test_accuracy = eval.accuracy;
    }
    summary.report = Some(Report { split: name.to_string(), ..eval.report });

    let mut model = ModelFile::from_network(&outcome.net);
    model.task = Some(splits.task);
    model.classes = splits.classes.clone();
    model.features = Some(splits.feature_names.clone());
    model.normalizer = Some(splits.normalizer.clone());
    if splits.task == backprop_data::Task::Regression {
        model.targets = Some(splits.target_names.clone());
    }
    model.target_normalizer = (!splits.target_normalizer.is_identity()).then(|| splits.target_normalizer.clone());
    model.provenance = Some(Provenance {
        backprop_version: env!("CARGO_PKG_VERSION").to_string(),
        seed: cfg.experiment.seed,
        data_hash: hash_of(&mut hash),
        config: resolved,
        metrics: serde_json::to_value(&summary).expect("a summary always serialises"),
    });
    files.add("model.json", model.to_json().into_bytes())?;
    files.add("loss.svg", crate::plot::render_loss(&outcome.history)?.into_bytes())?;
    // Decided by the targets, as `backprop plot` decides: truth tables (0/1 targets) get one too.
    if data.features() == 2 && crate::plot::is_classification(data.targets.view()) {
        let threshold = decision_threshold(loss, &outcome.net);
        let axes = crate::plot::axis_titles(Some(&splits.feature_names), splits.normalizer.kind);
        let svg = crate::plot::render_decision_named(
            &outcome.net,
            data.inputs.view(),
            data.targets.view(),
            threshold,
            &axes,
        )?;
        files.add("decision.svg", svg.into_bytes())?;
    }
    let json = serde_json::to_string_pretty(&summary).expect("a summary always serialises");
    files.add("summary.json", json.into_bytes())?;
    Ok(summary)
}

/// `metrics.csv`: `epoch,cost`, then `accuracy`, `val_cost`, `val_accuracy` where measured,
/// `lr`, and the per-layer diagnostics when recorded (`diagnostics` as `Trainer::diagnostics`
/// lays them out for `layers` layers).
pub fn metrics_csv(history: &[EpochMetrics], diagnostics: &[f64], layers: usize) -> String {
    let per_epoch = layers * DIAGNOSTICS.len();
    let with_diag = per_epoch > 0 && diagnostics.len() == history.len() * per_epoch;
    let first = history.first().copied().unwrap_or_default();
    let (acc, val, val_acc) = (first.accuracy.is_some(), first.val_cost.is_some(), first.val_accuracy.is_some());
    let mut out = String::from("epoch,cost");
    for (on, name) in [(acc, "accuracy"), (val, "val_cost"), (val_acc, "val_accuracy")] {
        if on {
            out.push(',');
            out.push_str(name);
        }
    }
    out.push_str(",lr");
    if with_diag {
        for l in 1..=layers {
            for name in DIAGNOSTICS {
                out.push_str(&format!(",l{l}_{name}"));
            }
        }
    }
    out.push('\n');
    out.reserve(history.len() * 48);
    // zmij writes the shortest text that reads back to the same f64 (in exponent form, `1e-7`,
    // `1e+16`, for very small and large values) at a fraction of `write!`'s cost: a 20000-epoch
    // run formats 20001 costs, a fifth of a sweep trial's CPU time with `write!`.
    let mut floats = zmij::Buffer::new();
    let mut push = |out: &mut String, v: f64| {
        out.push(',');
        out.push_str(floats.format(v));
    };
    // The learning rate changes at most at a schedule's steps: format it only when it does.
    let (mut lr_bits, mut lr_text) = (None, String::new());
    let mut integers = itoa::Buffer::new();
    for (row, m) in history.iter().enumerate() {
        out.push_str(integers.format(m.epoch));
        push(&mut out, m.cost);
        for (on, v) in [(acc, m.accuracy), (val, m.val_cost), (val_acc, m.val_accuracy)] {
            if on {
                push(&mut out, v.unwrap_or(f64::NAN));
            }
        }
        if lr_bits != Some(m.lr.to_bits()) {
            lr_bits = Some(m.lr.to_bits());
            lr_text.clear();
            lr_text.push_str(zmij::Buffer::new().format(m.lr));
        }
        out.push(',');
        out.push_str(&lr_text);
        if with_diag {
            for &v in &diagnostics[row * per_epoch..(row + 1) * per_epoch] {
                push(&mut out, v);
            }
        }
        out.push('\n');
    }
    out
}

/// An indicatif bar of `len` steps drawn with `template`, when stderr is a terminal.
pub fn progress_bar(len: u64, template: &str) -> Option<indicatif::ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(len);
        bar.set_style(indicatif::ProgressStyle::with_template(template).expect("the template is valid"));
        bar
    })
}

/// Log lines (and a progress bar when stderr is a terminal) and checkpoints, after every epoch.
struct RunObserver<'w, 'd> {
    log: LogLines<'w>,
    bar: Option<indicatif::ProgressBar>,
    /// Whether the bar stands in for the per-epoch log lines: it does when it is drawn and stdout
    /// is a terminal too, where the lines would scroll it away. Lines going to a file or a pipe
    /// are all written.
    bar_replaces_lines: bool,
    dir: &'d Path,
    checkpoint_every: usize,
    error: Option<CliError>,
    /// The training data's hash, for checkpoints (made at the first).
    data_hash: Option<String>,
    /// The run's config's hash, for checkpoints.
    config_hash: Option<String>,
    /// The resolved config, written before the first checkpoint where the run has not written
    /// it yet (`checkpoint_every = 0`: an interrupt's checkpoint), so that no checkpoint is on
    /// disk without the config `--resume` reads.
    config_first: Option<String>,
}

impl<'w, 'd> RunObserver<'w, 'd> {
    fn new(
        out: &'w mut dyn Write,
        log_every: usize,
        dir: &'d Path,
        checkpoint_every: usize,
        epochs: usize,
        progress: bool,
    ) -> Self {
        let template = "{bar:30} epoch {pos}/{len}  cost {msg}  ETA {eta}";
        let bar = if progress { progress_bar(epochs as u64, template) } else { None };
        let bar_replaces_lines = bar.is_some() && std::io::stdout().is_terminal();
        RunObserver {
            log: LogLines::new(out, log_every),
            bar,
            bar_replaces_lines,
            dir,
            checkpoint_every,
            error: None,
            data_hash: None,
            config_hash: None,
            config_first: None,
        }
    }
}

impl RunObserver<'_, '_> {
    /// Writes the trainer's checkpoint: whether it did (an error is kept in `self.error`).
    fn checkpoint<F: Element>(&mut self, trainer: &Trainer<'_, F>) -> bool {
        let Some(mut state) = trainer.state() else { return false };
        let data = trainer.data();
        let hash = self.data_hash.get_or_insert_with(|| data_hash(data.inputs.view(), data.targets.view()));
        state.data_hash = Some(hash.clone());
        state.config_hash.clone_from(&self.config_hash);
        let json = serde_json::to_string(&state).expect("a training state always serialises");
        // A deferred run's directory may not exist yet (an interrupt's checkpoint).
        let config = self.config_first.take();
        let written = std::fs::create_dir_all(self.dir)
            .map_err(|e| CliError::create_dir(self.dir, &e))
            .and_then(|()| match &config {
                Some(text) => write_atomic(&self.dir.join("config.toml"), text.as_bytes()),
                None => Ok(()),
            })
            .and_then(|()| write_atomic(&self.dir.join(CHECKPOINT), json.as_bytes()));
        match written {
            Ok(()) => true,
            Err(e) => {
                self.error = Some(e);
                false
            }
        }
    }
}

impl<F: Element> Observer<F> for RunObserver<'_, '_> {
    fn epoch_end(&mut self, trainer: &Trainer<'_, F>, m: &EpochMetrics) -> Flow {
        // Epoch 0 (the initial cost) is always a line: the bar starts at epoch 1.
        if let Some(bar) = &self.bar
            && m.epoch > 0
        {
            // The message first (each call may redraw), so that the bar at the new epoch shows
            // that epoch's cost.
            bar.set_message(format!("{:.6}", m.cost));
            bar.set_position(m.epoch as u64);
        }
        if !(self.bar_replaces_lines && m.epoch > 0) {
            self.log.epoch_end(trainer, m);
        }
        let due = self.checkpoint_every > 0 && m.epoch > 0 && m.epoch.is_multiple_of(self.checkpoint_every);
        if due && !self.checkpoint(trainer) && self.error.is_some() {
            return Flow::Interrupt;
        }
        if interrupted() { Flow::Interrupt } else { Flow::Continue }
    }

    fn finished(&mut self, trainer: &Trainer<'_, F>, reason: StopReason) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if let StopReason::Interrupted { epoch } = reason {
            // Not again after a checkpoint that failed (which stopped the run, and is its
            // result), and no claim of one that was not written.
            if self.error.is_none() && self.checkpoint(trainer) {
                let message = format!("Interrupted after epoch {epoch}: checkpoint written; continue with --resume");
                let _ = writeln!(self.log.out(), "{message}");
            } else if self.error.is_none() {
                let _ =
                    writeln!(self.log.out(), "Interrupted after epoch {epoch}, before any checkpoint could be made");
            }
        }
        self.log.finished(trainer, reason);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_csv_writes_every_row_and_follows_the_learning_rate() {
        let row = |epoch, cost, lr| EpochMetrics { epoch, cost, lr, ..EpochMetrics::default() };
        let history =
            [row(0, 0.75, 0.5), row(1, 0.5, 0.5), row(2, 0.25, 0.125), row(3, 1e-20, 0.5), row(10, f64::NAN, 0.5)];
        assert_eq!(
            metrics_csv(&history, &[], 2),
            "epoch,cost,lr\n0,0.75,0.5\n1,0.5,0.5\n2,0.25,0.125\n3,1e-20,0.5\n10,NaN,0.5\n"
        );
        // The shortest text that reads back to the same number; large ones with an exponent.
        let costs = [0.1 + 0.2, 4.965354350e-4, 2.5e16, 1.0];
        let history: Vec<_> = costs.iter().enumerate().map(|(e, &c)| row(e, c, 0.1)).collect();
        let text = metrics_csv(&history, &[], 1);
        assert_eq!(text, "epoch,cost,lr\n0,0.30000000000000004,0.1\n1,0.000496535435,0.1\n2,2.5e+16,0.1\n3,1.0,0.1\n");
        for (line, &c) in text.lines().skip(1).zip(&costs) {
            assert_eq!(line.split(',').nth(1).unwrap().parse::<f64>().unwrap().to_bits(), c.to_bits());
        }
    }
}

#[cfg(test)]
mod observer_tests {
    use super::*;
    use crate::train::TrainOptions;
    use backprop_layers::{ActivationSpec, LayerSpec};
    use backprop_tensor::rng::seeded;

    /// An interrupted run says its checkpoint is written only when it is: not after a
    /// checkpoint that failed (a full disk), which is the run's error, and not before the run
    /// has a state to write; the config `--resume` reads is written before it.
    #[test]
    fn an_interrupt_claims_a_checkpoint_only_when_one_is_written() {
        let sigmoid = ActivationSpec::from_name("sigmoid").expect("registered");
        let net = Network::<f64>::new(2, &[LayerSpec::new(2, sigmoid)]);
        let data = Dataset {
            name: "test".into(),
            inputs: Matrix::from_shape_fn((4, 2), |(i, j)| ((i >> j) & 1) as f64),
            targets: Matrix::from_shape_fn((4, 2), |(i, j)| ((i + j) % 2) as f64),
        };
        let (loss, sgd) = (backprop_loss::HalfMse {}, backprop_optim::Sgd { lr: 0.5, ..Default::default() });
        let opts = TrainOptions { epochs: 3, log_every: 0, ..TrainOptions::default() };
        let trainer = Trainer::new(net, &data, &loss, &sgd, opts);
        let tmp = tempfile::tempdir().expect("a temp dir");
        let dir = tmp.path();
        let interrupt = |trainer: &Trainer<'_, f64>, error: Option<CliError>| {
            let mut out = Vec::new();
            let mut observer = RunObserver::new(&mut out, 0, dir, 0, 3, false);
            observer.config_first = Some("# the resolved config\n".into());
            observer.error = error;
            observer.finished(trainer, StopReason::Interrupted { epoch: 2 });
            (String::from_utf8(out).expect("text"), dir.join(CHECKPOINT).is_file())
        };
        let (before, made) = interrupt(&trainer, None);
        assert!(before.contains("before any checkpoint could be made") && !made, "{before}");

        /// What an interrupt printed, and whether the checkpoint is there.
        type Interrupt<'c> = &'c dyn Fn(&Trainer<'_, f64>, Option<CliError>) -> (String, bool);
        /// Interrupts (in a test's way) after epoch 2 of the run.
        struct At2<'c>(Interrupt<'c>, Vec<(String, bool)>);
        impl Observer<f64> for At2<'_> {
            fn epoch_end(&mut self, trainer: &Trainer<'_, f64>, m: &EpochMetrics) -> Flow {
                if m.epoch == 2 {
                    self.1.push((self.0)(trainer, Some(CliError::Input("no space left on device".into()))));
                    self.1.push((self.0)(trainer, None));
                }
                Flow::Continue
            }
        }
        let mut at2 = At2(&interrupt, Vec::new());
        let _ = trainer.run_with(&mut seeded(1), &mut at2);
        let [(failed, made), (written, made_now)] = &at2.1[..] else { panic!("two interrupts: {:?}", at2.1) };
        assert!(!failed.contains("checkpoint written") && !made, "{failed}");
        assert!(written.contains("Interrupted after epoch 2: checkpoint written") && *made_now, "{written}");
        // With no periodic checkpoints the run's config was not yet on disk: written first.
        let config = std::fs::read_to_string(dir.join("config.toml")).expect("the config beside the checkpoint");
        assert_eq!(config, "# the resolved config\n");
    }
}

#[cfg(test)]
mod evaluate_tests {
    use super::*;
    use backprop_layers::{ActivationSpec, LayerSpec};
    use backprop_loss::CrossEntropy;
    use backprop_tensor::rng::seeded;

    /// A set of `n` samples of 40 features and 3 one-hot classes, and a 40-64-3 net.
    fn case(n: usize) -> (Network<f64>, Dataset<f64>) {
        let relu = ActivationSpec::from_name("relu").expect("registered");
        let mut net = Network::new(
            40,
            &[LayerSpec::new(64, relu), LayerSpec::new(3, ActivationSpec::Softmax(Default::default()))],
        );
        let init = backprop_tensor::init::XavierUniform::default();
        net.initialize(&init, &backprop_tensor::init::Constant { value: 0.01 }, &mut seeded(5));
        let inputs = Matrix::from_shape_fn((n, 40), |(i, j)| ((i * 40 + j) % 17) as f64 / 8.0 - 1.0);
        let targets = Matrix::from_shape_fn((n, 3), |(i, k)| f64::from(u8::from((i * 7) % 3 == k)));
        (net, Dataset { name: "test".into(), inputs, targets })
    }

    #[test]
    fn a_set_measured_in_parts_gives_one_pass_s_report_and_cost_within_rounding() {
        let n = 3 * (backprop_tensor::linalg::SMALL_GEMM + 1) + 5;
        let (net, data) = case(n);
        let loss = CrossEntropy::default();
        let identity = Normalizer::identity();
        let whole = evaluate_in_parts(&net, &loss, &data, true, None, &identity, n);
        let split = evaluate_in_parts(&net, &loss, &data, true, None, &identity, n / 2);
        assert_eq!(split.report, whole.report, "the same outputs, so the same confusion matrix");
        assert_eq!(split.accuracy, whole.accuracy);
        assert!(whole.accuracy.is_some_and(|a| a > 0.0 && a < 1.0), "{:?}", whole.accuracy);
        // Sums of 12,301 terms in another grouping: roundings of up to n·ε (1.4e-12) apart, where a
        // part weighted wrongly is off by a fraction of the cost.
        assert!((split.cost - whole.cost).abs() <= 1e-12 * whole.cost, "{} against {}", split.cost, whole.cost);
        // And `evaluate` takes one pass for a set this size.
        assert_eq!(evaluate(&net, &loss, &data, true, None, &identity).cost.to_bits(), whole.cost.to_bits());
    }

    /// Logits under `bce_with_logits` (an identity output) are scored as the probabilities the
    /// loss makes of them, at 0.5, and the report says so; the same net with a sigmoid output
    /// layer (the loss fused with it) gives the same scores of its outputs, and none says `of`.
    #[test]
    fn logits_are_scored_as_their_probabilities() {
        let one_weight = |activation: &str| {
            let spec = ActivationSpec::from_name(activation).expect("registered");
            let mut net = Network::<f64>::new(1, &[LayerSpec::new(1, spec)]);
            // z = 2x − 1: logits −1, 1, 3 for x = 0, 1, 2.
            net.params_mut().copy_from_slice(&[2.0, -1.0]);
            net
        };
        let data = Dataset {
            name: "bits".into(),
            inputs: Matrix::from_shape_vec((3, 1), vec![0.0, 1.0, 2.0]).unwrap(),
            targets: Matrix::from_shape_vec((3, 1), vec![0.0, 1.0, 0.0]).unwrap(),
        };
        let (loss, identity) = (backprop_loss::BceWithLogits {}, Normalizer::identity());
        let report =
            |net: &Network<f64>| evaluate(net, &loss, &data, false, None, &identity).report.regression.unwrap();
        let logits = report(&one_weight("identity"));
        let p = [-1.0f64, 1.0, 3.0].map(|z| 1.0 / (1.0 + backprop_tensor::math::exp(-z)));
        let mse = (p[0] * p[0] + (1.0 - p[1]).powi(2) + p[2] * p[2]) / 3.0;
        assert!((logits.mse - mse).abs() < 1e-15, "{} against {mse}", logits.mse);
        // Read at 0.5: 0 and 1 right, the third (p = 0.95, target 0) wrong.
        assert_eq!(logits.bits, Some(report::BitScores { accuracy: 2.0 / 3.0, exact_match: 2.0 / 3.0 }));
        assert_eq!(logits.of.as_deref(), Some("sigmoid(output)"));
        let sigmoid = report(&one_weight("sigmoid"));
        assert_eq!((sigmoid.mse, sigmoid.r2, sigmoid.bits, sigmoid.of), (logits.mse, logits.r2, logits.bits, None));
    }
}

#[cfg(test)]
mod memory_tests {
    use super::*;
    use backprop_layers::{ActivationSpec, LayerSpec};

    #[test]
    fn a_run_the_machine_cannot_allocate_is_refused_naming_what_sizes_it() {
        let relu = || ActivationSpec::from_name("relu").expect("registered");
        let net = Network::<f32>::new(3, &[LayerSpec::new(100, relu()), LayerSpec::new(2, relu())]);
        // 3·100 + 100 + 100·2 + 2 = 602 parameters; 102 units × 4 buffers × 4 bytes a row.
        let memory = Memory::of(&net, 1000, 2 * 602);
        let expected =
            Memory { whole_set: false, workspace: 408 * 4 * 1000, params: (4 * 602 + 2 * 602) * 4, rows: 1000 };
        assert_eq!(memory, expected);
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/half_adder.toml");
        let loaded = crate::config::load(&path, &[]).expect("the post's config");
        let asked = std::cell::Cell::new(0);
        let asked = &asked;
        let probe = |ok| {
            move |bytes| {
                asked.set(bytes);
                ok
            }
        };
        assert!(memory.check(&loaded, probe(true)).is_ok());
        assert_eq!(asked.get(), 408 * 4 * 1000 + 6 * 602 * 4, "one reservation of the total");
        let err = memory.check(&loaded, probe(false)).expect_err("refused").to_string();
        assert!(err.contains("half_adder.toml") && err.contains("key `train.batch_size`"), "{err}");
        assert!(err.contains("about 1.6 MiB (1.6 MiB of layer buffers for batches of 1000 rows, 15 KiB of"), "{err}");
        let whole = Memory { whole_set: true, ..memory };
        let err = whole.check(&loaded, probe(false)).expect_err("refused").to_string();
        assert!(err.contains("key `data`: this command needs about"), "{err}");
        assert!(
            err.contains("for passes over all 1000 rows at once") && err.contains("the whole training set in one pass")
        );
        let params = Memory { whole_set: false, workspace: 10, params: 3 << 30, rows: 4 };
        let err = params.check(&loaded, probe(false)).expect_err("refused").to_string();
        assert!(err.contains("key `model`") && err.contains("about 3.0 GiB (1 KiB of layer buffers"), "{err}");
        assert_eq!(
            {
                use crate::fsutil::size_text as bytes;
                (bytes(0), bytes(1), bytes(1024), bytes(1025), bytes(3 << 19))
            },
            ("0 KiB".into(), "1 KiB".into(), "1 KiB".into(), "2 KiB".into(), "1.5 MiB".into())
        );
    }
}
