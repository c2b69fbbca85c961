//! The `backprop` command line: argument parsing and the commands, as library code so that
//! `xtask` and the tests run exactly what the binary runs.

use std::collections::HashSet;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use backprop_layers::Network;

use backprop_tensor::{Dtype, Element};
use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use crate::config::{self, Loaded};
use crate::error::CliError;
use crate::fsutil::new_run_dir;
use crate::model_file::ModelFile;
use crate::run;
use crate::{explain, gradcheck, plot};

// Where they were before the `experiment` module, which a program without the command line
// can use too.
pub use crate::experiment::{
    STREAM_DATA, STREAM_INIT, STREAM_SHUFFLE, load_data, load_data_as, prepare, prepare_splits,
};

/// Feed-forward neural networks trained by backpropagation.
#[derive(Debug, Parser)]
#[command(name = "backprop", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train the network a config describes and write a run directory.
    #[command(
        override_usage = "backprop train [OPTIONS] CONFIG\n       backprop train --resume RUN_DIR [--set KEY=VALUE]..."
    )]
    Train(TrainArgs),
    /// Compare backprop's gradients with central differences, layer by layer (exit 1 if over
    /// tolerance).
    Gradcheck(GradcheckArgs),
    /// Print the cost and its gradients over the training set as JSON.
    Grad(GradArgs),
    /// Print a trained model's outputs (and class labels) for inputs.
    Predict(PredictArgs),
    /// Print a trained model's cost, accuracy and report on a config's data.
    Eval(EvalArgs),
    /// Show one sample's forward pass, cost, deltas and gradients beside the post's equations.
    Explain(ExplainArgs),
    /// Draw loss.svg (and decision.svg for 2-D classification) from a run directory.
    Plot(PlotArgs),
}

#[derive(Debug, Args)]
struct ExplainArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Use this model file's weights instead of the config's initial weights.
    #[arg(long)]
    model: Option<PathBuf>,
    /// The sample of the training data to explain, counting from 0.
    #[arg(long, default_value_t = 0, conflicts_with = "input")]
    sample: usize,
    /// The inputs to explain instead, e.g. `--input 1,1`, as the data gives them (normalised as
    /// the data is, as `predict --input`); the target is taken from the data.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true, value_parser = spaced_number)]
    input: Option<Vec<f64>>,
    /// The target for --input, when the data has no sample with those inputs: one number per
    /// output (`--target 0,1`), or a class's name (`--target versicolor`).
    #[arg(long, allow_hyphen_values = true, requires = "input")]
    target: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = explain::Format::Text)]
    format: explain::Format,
}

/// A number of a comma-separated list, spaces around it allowed (`--input "1, 0"`), as
/// `predict --input` reads it.
fn spaced_number(value: &str) -> Result<f64, String> {
    value.trim().parse::<f64>().map_err(|e| format!("`{value}`: {e}"))
}

#[derive(Debug, Args)]
struct PlotArgs {
    /// A run directory written by `backprop train`.
    run_dir: PathBuf,
}

#[derive(Debug, Args)]
// One of `--input` (repeatable) and `--csv`: the usage line and the error name both.
#[command(group(clap::ArgGroup::new("inputs").required(true).args(["input", "csv"])))]
struct PredictArgs {
    /// The model file (`model.json` of a run directory).
    model: PathBuf,
    /// One input, comma-separated (`--input 0,1`); repeatable.
    #[arg(long, value_name = "X1,X2,…", allow_hyphen_values = true)]
    input: Vec<String>,
    /// A CSV file whose columns include the model's features (by name; others are ignored).
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// A column of the `--csv` file to copy beside each prediction (an id, a label; repeatable;
    /// `csv` and `json` formats): the first columns of a `csv` row, `keep` of a `json` object.
    #[arg(long, value_name = "COLUMN")]
    keep: Vec<String>,
    /// `text` (default), `csv` (a header, then a row per input: its values, the outputs and the
    /// class) or `json` (an array of objects with `input`, `output` and `class`).
    #[arg(long, value_enum, default_value_t)]
    format: PredictFormat,
}

/// Output formats of `backprop predict`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
enum PredictFormat {
    /// `(x1, x2) : [y1 y2] -> class`, as training prints a truth table's outputs.
    #[default]
    Text,
    /// A header (the model's feature names, `predicted_` and its regression targets' names,
    /// `output_` and its classes' names, or `output_1`…; `class`), then one row per input, every
    /// number in its shortest text that reads back to the same f64.
    Csv,
    /// A JSON array of `{"input": [...], "output": [...], "class": "..."}` (no `class` without
    /// classes), numbers as f64.
    Json,
}

#[derive(Debug, Args)]
struct EvalArgs {
    /// The model file.
    model: PathBuf,
    #[command(flatten)]
    config: ConfigArgs,
    /// Which split to measure: `test` (default when the config has one), `validation`, `train`,
    /// or `all` (every sample of the config's source, `data.path`: a new file measured whole; not
    /// its `validation_path` or `test_path` files).
    #[arg(long)]
    split: Option<String>,
    /// `text` (default: the figures, then the report as tables) or `json` (one JSON object:
    /// `split`, the report, `samples`, `cost`, `accuracy`, and `cost_of_scaled_targets: true`
    /// under `normalize_targets`), for `jq` and scripts.
    #[arg(long, value_enum, default_value_t)]
    format: EvalFormat,
}

/// Output formats of `backprop eval`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
enum EvalFormat {
    /// `split: …`, `cost: …`, `accuracy: …` lines, then the report as tables.
    #[default]
    Text,
    /// One JSON object.
    Json,
}

/// `backprop eval --format json`: the report's fields, and the figures `text` prints first.
#[derive(serde::Serialize)]
struct EvalJson<'a> {
    #[serde(flatten)]
    report: &'a run::Report,
    samples: usize,
    cost: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    accuracy: Option<f64>,
    /// The cost is of the targets as `normalize_targets` scaled them (the report is in their
    /// own units); left out when they are not scaled.
    #[serde(rename = "cost_of_scaled_targets", skip_serializing_if = "std::ops::Not::not")]
    scaled: bool,
}

/// A config file and its overrides.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// The experiment config (TOML).
    pub config: PathBuf,
    /// Override a config key, e.g. `--set model.hidden=[4,4]` (the value is TOML; repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

#[derive(Debug, Args)]
struct TrainArgs {
    /// The experiment config (TOML).
    #[arg(required_unless_present = "resume")]
    config: Option<PathBuf>,
    /// Override a config key, e.g. `--set model.hidden=[4,4]` (the value is TOML; repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// The run directory (default: `runs/<experiment.name>/<UTC time>/`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue the run in this directory from its `checkpoint.json` (written every
    /// `train.checkpoint_every` epochs), with the config it saved; `--set` may change
    /// `train.epochs`, `train.log_every` and `train.checkpoint_every` (train longer, say).
    #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["config", "out"])]
    resume: Option<PathBuf>,
    /// Train a config with a `[sweep]` table once, as its base config, without the note that
    /// says so (`cargo xtask experiment` runs the sweep).
    #[arg(long, conflicts_with = "resume")]
    no_sweep: bool,
}

#[derive(Debug, Args)]
struct GradcheckArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Check this model file's weights instead of the config's initial weights.
    #[arg(long)]
    model: Option<PathBuf>,
    /// The step of the central differences.
    #[arg(long, default_value_t = 1e-5)]
    epsilon: f64,
    /// Relative tolerance: a parameter passes when |a − n| ≤ tolerance·max(|a|, |n|) + 1e-9.
    #[arg(long, default_value_t = 1e-6)]
    tolerance: f64,
}

#[derive(Debug, Args)]
struct GradArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Use this model file's weights instead of the config's initial weights.
    #[arg(long)]
    model: Option<PathBuf>,
}

/// What a binary of this workspace (`backprop`, `xtask`) does first, on its main thread:
/// refuses a bad `BACKPROP_WAIT_POLICY` (the error to print before exiting 2, see
/// [`active_wait`](backprop_tensor::linalg::active_wait)), then makes the thread one of rayon's
/// ([`adopt_calling_thread`](backprop_tensor::linalg::adopt_calling_thread), so that large
/// products split their work with it).
pub fn start() -> Result<(), String> {
    backprop_tensor::linalg::active_wait()?;
    backprop_tensor::linalg::adopt_calling_thread();
    Ok(())
}

/// What the `backprop` binary runs: [`start`], then [`main_with`] the process's arguments.
pub fn main() -> i32 {
    if let Err(e) = start() {
        // Not `eprintln!`, which panics when standard error is gone (exit 101, not 2).
        let _ = writeln!(std::io::stderr(), "error: {e}");
        return 2;
    }
    main_with(std::env::args_os())
}

/// Runs the command line `args` (the program name first) and returns the exit status:
/// 0 success, 1 training or a check failed, 2 bad usage or input.
pub fn main_with<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // `--help` or `--version` to a full disk is lost output too (a closed pipe is not).
            let printed = e.print();
            let lost = printed.is_err_and(|e| e.kind() != std::io::ErrorKind::BrokenPipe);
            return if e.use_stderr() || lost { 2 } else { 0 };
        }
    };
    if matches!(cli.command, Command::Train(_)) {
        run::install_interrupt_handler();
    }
    let mut out = Checked::new(std::io::stdout().lock());
    match run(cli, &mut out).and_then(|()| out.finish()) {
        Ok(()) => 0,
        Err(CliError::Interrupted) => 130,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e}");
            e.exit_code()
        }
    }
}

/// Standard output that keeps its first write error, so that a command whose output was lost
/// (`> file` on a full disk) does not exit 0: [`Checked::finish`] reports it (exit 2, as for any
/// file the command could not write). A closed pipe (`| head`) is not an error: the reader has
/// what it wanted; nor is an interrupted call, which `write_all` retries. The commands write
/// with `let _ = writeln!(…)`, never `println!`, which
/// panics when standard output is gone.
struct Checked<W: Write> {
    inner: W,
    error: Option<std::io::Error>,
}

impl<W: Write> Checked<W> {
    fn new(inner: W) -> Self {
        Checked { inner, error: None }
    }

    /// Keeps `result`'s error, if it is the first, and hands `result` back.
    fn note<T>(&mut self, result: std::io::Result<T>) -> std::io::Result<T> {
        if let Err(e) = &result
            && self.error.is_none()
            && !matches!(e.kind(), std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::Interrupted)
        {
            self.error = Some(std::io::Error::new(e.kind(), e.to_string()));
        }
        result
    }

    /// Flushes, then the first error any write met.
    fn finish(&mut self) -> Result<(), CliError> {
        let flushed = self.inner.flush();
        let _ = self.note(flushed);
        self.error.take().map_or(Ok(()), |e| Err(CliError::io("standard output", e)))
    }
}

impl<W: Write> Write for Checked<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let result = self.inner.write(buf);
        self.note(result)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let result = self.inner.flush();
        self.note(result)
    }
}

fn run(cli: Cli, out: &mut dyn Write) -> Result<(), CliError> {
    match cli.command {
        Command::Train(a) => match (a.resume, a.config) {
            (Some(dir), _) => {
                let _held = crate::fsutil::lock_run_dir(&dir)?;
                let summary = run::resume_any(&dir, &a.set, out)?;
                finish_train(&dir, &summary, out)
            }
            (None, Some(config)) => {
                let loaded = config::load(&config, &a.set)?;
                if loaded.config.sweep.is_some() && !a.no_sweep {
                    let _ = writeln!(
                        std::io::stderr(),
                        "note: {} has a [sweep] table, which `backprop train` does not run: it trains the base \
                         config once (`--no-sweep` says so without this note); `cargo xtask experiment {0}` runs \
                         the sweep",
                        config.display()
                    );
                }
                train(&loaded, a.out.as_deref(), out)
            }
            (None, None) => Err(CliError::Config("train needs a CONFIG or --resume RUN_DIR".into())),
        },
        Command::Gradcheck(a) => {
            let loaded = config::load(&a.config.config, &a.config.set)?;
            gradcheck_cmd(&loaded, a.model.as_deref(), a.epsilon, a.tolerance, out)
        }
        Command::Predict(a) => predict_cmd(&a, out),
        Command::Explain(a) => {
            let loaded = config::load(&a.config.config, &a.config.set)?;
            let pick = match a.input {
                Some(input) => {
                    // Numbers (comma-separated), or a class's name, which may hold commas
                    // itself (`"Iris, setosa"`); one number may be an integer class's label.
                    let (target, class) = match a.target.as_deref() {
                        None => (None, None),
                        Some(raw) => {
                            let parts: Vec<&str> = raw.split(',').collect();
                            let numbers: Option<Vec<f64>> = parts.iter().map(|v| spaced_number(v).ok()).collect();
                            let class = (parts.len() == 1 || numbers.is_none()).then(|| raw.trim().to_string());
                            (numbers, class)
                        }
                    };
                    explain::Pick::Input { input, target, class }
                }
                None => explain::Pick::Index(a.sample),
            };
            explain::command(&loaded, a.model.as_deref(), &pick, a.format, out)
        }
        Command::Plot(a) => {
            for file in plot::redraw(&a.run_dir)? {
                let _ = writeln!(out, "Wrote {}", file.display());
            }
            Ok(())
        }
        Command::Eval(a) => {
            let loaded = config::load(&a.config.config, &a.config.set)?;
            eval_cmd(&loaded, &a, out)
        }
        Command::Grad(a) => {
            let loaded = config::load(&a.config.config, &a.config.set)?;
            match loaded.config.experiment.dtype {
                Dtype::F32 => grad_cmd::<f32>(&loaded, a.model.as_deref(), out),
                Dtype::F64 => grad_cmd::<f64>(&loaded, a.model.as_deref(), out),
            }
        }
    }
}

fn train(loaded: &Loaded, out_dir: Option<&Path>, out: &mut dyn Write) -> Result<(), CliError> {
    let (dir, created) = match out_dir {
        Some(d) => {
            let created = !d.exists();
            if d.join("sweep.json").is_file() {
                return Err(CliError::Input(format!(
                    "{}: holds a sweep (sweep.json); give this run another --out",
                    d.display()
                )));
            }
            // A sweep's trial (`SWEEP/trials/00003`): its results are the sweep's, which a run of
            // another config would replace (`--resume` of the trial itself is another matter).
            let full = std::fs::canonicalize(d).unwrap_or_else(|_| d.to_path_buf());
            if let Some(sweep) = full.parent().filter(|p| p.ends_with("trials")).and_then(Path::parent)
                && sweep.join("sweep.json").is_file()
            {
                return Err(CliError::Input(format!(
                    "{}: a trial of the sweep in {}: its results are the sweep's; give this run another --out",
                    d.display(),
                    sweep.display()
                )));
            }
            if d.exists() && !d.is_dir() {
                return Err(CliError::Input(format!(
                    "{}: --out names the run's directory, and this is a file",
                    d.display()
                )));
            }
            std::fs::create_dir_all(d).map_err(|e| CliError::create_dir(d, &e))?;
            (d.to_path_buf(), created)
        }
        None => (new_run_dir(Path::new("runs"), &loaded.config.experiment.name)?, true),
    };
    // Refused, the directory is left as it is: a run that created it at the same moment holds
    // it now.
    let _held = crate::fsutil::lock_run_dir(&dir)?;
    let summary = run::run_training_interactive(loaded, &dir, out).inspect_err(|_| {
        // Refused before any file was written (bad data, a bad init_from): leave no empty
        // directory behind (remove_dir removes only an empty one).
        if created {
            let _ = std::fs::remove_dir(&dir);
        }
    })?;
    finish_train(&dir, &summary, out)
}

/// Prints where the run went, and turns a diverged run into exit 1 and an interrupted one into
/// exit 130.
fn finish_train(dir: &Path, summary: &run::RunSummary, out: &mut dyn Write) -> Result<(), CliError> {
    let _ = writeln!(out, "Run directory: {}", dir.display());
    match summary.stop_reason.as_str() {
        "interrupted" => Err(CliError::Interrupted),
        "diverged" => {
            let at = match &summary.diverged_at {
                Some(w) => format!("first non-finite values in {w}"),
                None => "every weight and every layer's z and a are finite: the loss overflowed".into(),
            };
            let model = dir.join("model.json");
            Err(CliError::Failed(match summary.stop_epoch {
                Some(0) => format!(
                    "the initial cost is not finite ({at}): the starting weights overflow on this data, and \
                     nothing was trained; they are in {}",
                    model.display()
                ),
                epoch => format!(
                    "training diverged at epoch {}: the cost or the weights are not finite ({at}); the last good \
                     weights are in {}",
                    epoch.unwrap_or(summary.epochs_run + 1),
                    model.display()
                ),
            }))
        }
        _ => Ok(()),
    }
}

fn gradcheck_cmd(
    loaded: &Loaded,
    model: Option<&Path>,
    epsilon: f64,
    tolerance: f64,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    if !(epsilon.is_finite() && epsilon > 0.0) {
        return Err(CliError::Config(format!("--epsilon must be a number > 0, got {epsilon}")));
    }
    if !(tolerance.is_finite() && tolerance >= 0.0) {
        return Err(CliError::Config(format!("--tolerance must be a number ≥ 0, got {tolerance}")));
    }
    let (data, net) = prepare::<f64>(loaded, model)?;
    // The central differences run on every thread, each with its own network and workspace;
    // besides, the network, the analytic gradients and the numeric ones.
    let threads = rayon::current_num_threads();
    run::check_whole_set_memory(loaded, &net, data.len(), threads, threads + 3)?;
    let loss = loaded.config.loss.get::<f64>();
    let (x, t) = (data.inputs.view(), data.targets.view());
    let (_, analytic) = gradcheck::analytic(&net, loss, x, t);
    // Two forward passes a parameter: minutes for a large net, so a bar on a terminal.
    let bar = run::progress_bar(net.params().len() as u64, "{bar:30} parameter {pos}/{len}  ETA {eta}");
    let numeric = gradcheck::numeric_with(&net, loss, x, t, epsilon, &|| {
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let reports = gradcheck::compare(&net, &analytic, &numeric, tolerance, 1e-9);
    // `{:e}` for the extremes: 1e300 as 301 digits said nothing.
    let short = |v: f64| if v == 0.0 || (1e-4..1e6).contains(&v) { v.to_string() } else { format!("{v:e}") };
    let _ = writeln!(
        out,
        "gradient check (f64, central differences, epsilon {}, tolerance {})",
        short(epsilon),
        short(tolerance)
    );
    let _ = writeln!(out, "{:>5}  {:>12}  {:>12}  result", "layer", "max abs err", "max rel err");
    for r in &reports {
        let _ = writeln!(
            out,
            "{:>5}  {:>12.3e}  {:>12.3e}  {}",
            r.layer,
            r.max_abs,
            r.max_rel,
            if r.ok { "ok" } else { "FAIL" }
        );
    }
    if reports.iter().all(|r| r.ok) {
        Ok(())
    } else if reports.iter().any(|r| r.max_abs.is_nan()) {
        Err(CliError::Failed(
            "gradient check failed: a gradient is not finite (NaN or infinite) at these weights on this data".into(),
        ))
    } else {
        let mut message = "gradient check failed: analytic and numeric gradients disagree beyond tolerance".to_string();
        if matches!(loaded.config.loss, backprop_loss::LossSpec::Bce(_))
            && net.predict(x).iter().any(|&a| (1.0 - a) * a < 1e-12)
        {
            message += "; some outputs are within 1e-12 of 0 or 1, where bce's gradient is PyTorch's, (a − t)/max(a(1 − a), \
                        1e-12), and not the cost's derivative (bce_with_logits has the exact one)";
        }
        Err(CliError::Failed(message))
    }
}

#[derive(Serialize)]
struct GradJson {
    cost: f64,
    layers: Vec<GradLayer>,
}

#[derive(Serialize)]
struct GradLayer {
    weights: Vec<Vec<f64>>,
    biases: Vec<f64>,
}

fn grad_cmd<F: Element>(loaded: &Loaded, model: Option<&Path>, out: &mut dyn Write) -> Result<(), CliError> {
    let (data, net) = prepare::<F>(loaded, model)?;
    run::check_whole_set_memory(loaded, &net, data.len(), 1, 2)?;
    let (cost, grads) =
        gradcheck::analytic(&net, loaded.config.loss.get::<F>(), data.inputs.view(), data.targets.view());
    if let Some(l) = (0..net.layers().len()).find(|&l| {
        let (w, b) = net.layer_grads(l, &grads);
        w.iter().chain(b).any(|x| !x.is_finite())
    }) {
        return Err(CliError::Failed(format!(
            "the cost is {} and the gradient of layer {} is not finite (NaN or infinite) at these weights on this data",
            cost.f64(),
            l + 1
        )));
    }
    if !cost.is_finite() {
        return Err(CliError::Failed(format!("the cost is not finite ({}) at these weights on this data", cost.f64())));
    }
    let layers = (0..net.layers().len())
        .map(|l| {
            let (w, b) = net.layer_grads(l, &grads);
            GradLayer {
                weights: w.outer_iter().map(|r| r.iter().map(|x| x.f64()).collect()).collect(),
                biases: b.iter().map(|x| x.f64()).collect(),
            }
        })
        .collect();
    let json = serde_json::to_string(&GradJson { cost: cost.f64(), layers }).expect("gradients always serialise");
    let _ = writeln!(out, "{json}");
    Ok(())
}

fn predict_cmd(args: &PredictArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let file = ModelFile::read(&args.model)?;
    // In the model's dtype, as `eval` and training compute it (an f32 model's outputs in f64
    // were numbers no f32 run gives).
    match file.dtype {
        Dtype::F32 => predict_in::<f32>(args, &file, out),
        Dtype::F64 => predict_in::<f64>(args, &file, out),
    }
}

/// [`predict_cmd`] in `F`: the inputs as given (f64) are echoed, and taken to `F` as the data
/// loader takes them.
fn predict_in<F: Element>(args: &PredictArgs, file: &ModelFile, out: &mut dyn Write) -> Result<(), CliError> {
    let net: Network<F> = file.to_network();
    if let Some(w) = net.params().iter().find(|w| !w.is_finite()) {
        return Err(CliError::Input(format!(
            "{}: holds a weight that is {w} in {}, beyond its range",
            args.model.display(),
            F::DTYPE.name()
        )));
    }
    if !args.keep.is_empty() && args.csv.is_none() {
        return Err(CliError::Config("--keep copies columns of the --csv file, and there is none".into()));
    }
    if !args.keep.is_empty() && args.format == PredictFormat::Text {
        return Err(CliError::Config("--keep: the kept columns are written by --format csv or json".into()));
    }
    if let Some(column) = args.keep.iter().find(|k| file.features.as_ref().is_some_and(|f| f.contains(k))) {
        return Err(CliError::Config(format!("--keep {column}: a feature of the model, written as an input already")));
    }
    let kept = match &args.csv {
        Some(csv) if !args.keep.is_empty() => {
            backprop_data::read_csv_text(csv, &args.keep).map_err(|e| CliError::Input(e.to_string()))?
        }
        _ => Vec::new(),
    };
    let raw = match &args.csv {
        Some(csv) => {
            let columns = file.features.clone().unwrap_or_default();
            if columns.is_empty() {
                return Err(CliError::Input(format!(
                    "{}: the model records no feature names, so --csv cannot pick its columns; use --input",
                    args.model.display()
                )));
            }
            backprop_data::read_csv_features::<f64>(csv, &columns).map_err(|e| CliError::Input(e.to_string()))?
        }
        None => {
            let mut rows = Vec::with_capacity(args.input.len());
            for (i, text) in args.input.iter().enumerate() {
                let values: Vec<&str> = text.split(',').map(str::trim).collect();
                let row: Vec<f64> = values
                    .iter()
                    .enumerate()
                    .map(|(j, v)| {
                        v.parse::<f64>().map_err(|_| {
                            CliError::Config(format!(
                                "--input #{}: `{v}` (value {} of {}) is not a number",
                                i + 1,
                                j + 1,
                                values.len()
                            ))
                        })
                    })
                    .collect::<Result<_, _>>()?;
                if row.len() != net.inputs() {
                    return Err(CliError::Config(format!(
                        "--input #{}: {} values, the model takes {} inputs",
                        i + 1,
                        row.len(),
                        net.inputs()
                    )));
                }
                if let Some(j) = row.iter().position(|v| !v.is_finite()) {
                    let value = text.split(',').nth(j).map_or("", str::trim);
                    return Err(CliError::Config(format!(
                        "--input #{}: `{value}` (value {} of {}) is not a finite number",
                        i + 1,
                        j + 1,
                        row.len()
                    )));
                }
                rows.push(row);
            }
            backprop_tensor::Matrix::from_shape_fn((rows.len(), net.inputs()), |(i, j)| rows[i][j])
        }
    };
    let where_is = |i: usize| match &args.csv {
        Some(csv) => format!("{}: row {}", csv.display(), i + 1),
        None => format!("--input #{}", i + 1),
    };
    // The first value of `x` past `F`'s range, said against the input it came from.
    let in_range = |x: &backprop_tensor::Matrix<F>, how: &str| match x.indexed_iter().find(|(_, v)| !v.is_finite()) {
        Some(((i, j), _)) => Err(CliError::Input(format!(
            "{}: value {} ({:e}) is beyond {}'s range{how}",
            where_is(i),
            j + 1,
            raw[[i, j]],
            F::DTYPE.name()
        ))),
        None => Ok(()),
    };
    let mut x = raw.mapv(F::of);
    in_range(&x, ", the model's dtype")?;
    if let Some(n) = &file.normalizer {
        n.apply(&mut x).map_err(|e| CliError::Input(format!("{}: {e}", args.model.display())))?;
        // A finite value that the model's scaling takes past f64 (1.7e308 over a spread below
        // 1): the network would see an infinite input, and could still print a label.
        in_range(&x, " once scaled by the model's normalizer")?;
    }
    let y = net.predict(x.view()).mapv(|v| v.f64());
    if let Some(i) = y.outer_iter().position(|r| r.iter().any(|v| !v.is_finite())) {
        let row = where_is(i);
        // Which of the two is too large: the same weights on small inputs (zeros and ones, as
        // the network sees them) tell.
        let small = backprop_tensor::Matrix::<F>::from_shape_fn((2, net.inputs()), |(i, _)| F::of(i as f64));
        let cause = if net.predict(small.view()).iter().all(|v| v.is_finite()) {
            "the input's values are beyond what the network's arithmetic holds"
        } else {
            "the model's weights overflow on any input (its output is not finite even on inputs of 0 and 1)"
        };
        return Err(CliError::Input(format!("{row}: the model's output is not finite (NaN or infinite): {cause}")));
    }
    // A network trained on scaled targets (`normalize_targets`) answers in their units once
    // its outputs are scaled back, in f64 (the network computes in its dtype; in f32, 1e8 + k
    // would round to f32's spacing there, 8).
    let mut y = y;
    if let Some(n) = &file.target_normalizer {
        n.invert(&mut y).map_err(|e| CliError::Input(format!("{}: {e}", args.model.display())))?;
        if let Some(i) = y.outer_iter().position(|r| r.iter().any(|v| !v.is_finite())) {
            return Err(CliError::Input(format!(
                "{}: the model's output, scaled back by its target normalizer, is beyond f64's range",
                where_is(i)
            )));
        }
    }
    let threshold =
        if file.layers.last().is_some_and(|l| l.activation.name() == "sigmoid" || l.activation.name() == "softmax") {
            0.5
        } else {
            0.0
        };
    let class_of = |output| {
        file.classes.as_ref().map(|classes| {
            let k = crate::report::predicted_class(output, threshold);
            classes.get(k).map_or("?", String::as_str)
        })
    };
    match args.format {
        PredictFormat::Text => {}
        PredictFormat::Json => {
            let rows: Vec<serde_json::Value> = raw
                .outer_iter()
                .zip(y.outer_iter())
                .enumerate()
                .map(|(i, (input, output))| {
                    let mut row = serde_json::json!({ "input": input.to_vec(), "output": output.to_vec() });
                    if let Some(class) = class_of(output) {
                        row["class"] = class.into();
                    }
                    if let Some(cells) = kept.get(i) {
                        row["keep"] = args.keep.iter().cloned().zip(cells.iter().cloned()).collect();
                    }
                    row
                })
                .collect();
            let _ = writeln!(out, "{}", serde_json::to_string_pretty(&rows).expect("finite numbers serialise"));
            return Ok(());
        }
        PredictFormat::Csv => {
            let features =
                file.features.clone().unwrap_or_else(|| (1..=net.inputs()).map(|j| format!("x{j}")).collect());
            // Named after the regression targets when the model records them
            // (`predicted_price`: a frame joined with the data keeps its own `price`).
            // A classifier's outputs after its classes (`output_setosa`: scikit-learn's
            // `predict_proba` columns are its `classes_`), one output alone as `output_1`.
            let mut added: Vec<String> = match (&file.targets, &file.classes) {
                (Some(targets), None) => targets.iter().map(|t| format!("predicted_{t}")).collect(),
                (_, Some(classes)) if classes.len() == net.outputs() => {
                    classes.iter().map(|c| format!("output_{c}")).collect()
                }
                _ => (1..=net.outputs()).map(|k| format!("output_{k}")).collect(),
            };
            if file.classes.is_some() {
                added.push("class".into());
            }
            // Names that a feature already has get a prefix, so that every column is one name.
            while added.iter().any(|a| features.contains(a) || args.keep.contains(a)) {
                added = added.into_iter().map(|a| format!("predicted_{a}")).collect();
            }
            let mut header = args.keep.clone();
            header.extend(features);
            header.extend(added);
            let mut w = csv::Writer::from_writer(Vec::new());
            let row_error = |e: csv::Error| CliError::Input(format!("predict --format csv: {e}"));
            w.write_record(&header).map_err(row_error)?;
            for (i, (input, output)) in raw.outer_iter().zip(y.outer_iter()).enumerate() {
                let mut record: Vec<String> = kept.get(i).cloned().unwrap_or_default();
                record.extend(input.iter().chain(output.iter()).map(|&v| crate::report::number(v)));
                record.extend(class_of(output).map(String::from));
                w.write_record(&record).map_err(row_error)?;
            }
            let bytes = w.into_inner().map_err(|e| CliError::Input(format!("predict --format csv: {e}")))?;
            let _ = out.write_all(&bytes);
            return Ok(());
        }
    }
    for (input, output) in raw.outer_iter().zip(y.outer_iter()) {
        // Huge and tiny values with an exponent (f64's Display writes out every digit, and six
        // decimals show 1e-8 as 0.000000).
        let xs: Vec<String> = input.iter().map(|&v| crate::report::number(v)).collect();
        let ys: Vec<String> = output.iter().map(|&v| crate::report::output(v)).collect();
        let label = class_of(output).map(|class| format!(" -> {class}")).unwrap_or_default();
        let _ = writeln!(out, "({}) : [{}]{label}", xs.join(", "), ys.join(" "));
    }
    Ok(())
}

/// `eval`, in the config's dtype: an f32 run's summary is what `eval` with its config prints
/// (in f64 the cost differed in the eighth digit).
fn eval_cmd(loaded: &Loaded, args: &EvalArgs, out: &mut dyn Write) -> Result<(), CliError> {
    match loaded.config.experiment.dtype {
        Dtype::F32 => eval_in::<f32>(loaded, args, out),
        Dtype::F64 => eval_in::<f64>(loaded, args, out),
    }
}

fn eval_in<F: Element>(loaded: &Loaded, args: &EvalArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let (model, split, format) = (args.model.as_path(), args.split.as_deref(), args.format);
    let file = ModelFile::read(model)?;
    let trained_in = file.dtype;
    let trained_on = training_file(&file);
    let (splits, net) = crate::experiment::prepare_splits_of::<F>(loaded, Some((model.to_path_buf(), file)))?;
    // Its dtype decides nothing here, but a config of another dtype gives other numbers than
    // training's, which may surprise.
    if trained_in != F::DTYPE {
        let _ = writeln!(
            std::io::stderr(),
            "warning: the model was trained in {}, and eval computes in the config's {}: its figures differ from \
             training's in the last digits (set experiment.dtype = \"{}\" for those)",
            trained_in.name(),
            F::DTYPE.name(),
            trained_in.name()
        );
    }
    let name = match split {
        None => match (&splits.test, &splits.validation) {
            (Some(_), _) => "test",
            (None, Some(_)) => "validation",
            (None, None) => "train",
        },
        Some(name @ ("train" | "validation" | "test" | "all")) => name,
        Some(other) => {
            return Err(CliError::Config(format!("--split: `{other}` is not train, validation, test or all")));
        }
    };
    let all;
    let data = match select_split(&splits, name, &loaded.config.data) {
        Some(std::borrow::Cow::Borrowed(d)) => d,
        Some(std::borrow::Cow::Owned(d)) => {
            all = d;
            &all
        }
        None => return Err(no_split(name, &loaded.config.data)),
    };
    // Training samples in the split measured: counted where the model's training set can be
    // rebuilt from its provenance (in the model's dtype, whatever the config's); else the data
    // hashes and the files decide, and say "may".
    let cut = cut_from_source(&loaded.config.data, name);
    if name != "train" {
        let found = match trained_in {
            d if d == F::DTYPE => trained_in_split::<F>(loaded, model, name, Some((data, &splits.train))),
            Dtype::F32 => trained_in_split::<f32>(loaded, model, name, None),
            Dtype::F64 => trained_in_split::<f64>(loaded, model, name, None),
        };
        if let TrainedIn::Count { unchecked: Some(parent), .. } = &found {
            let _ = writeln!(
                std::io::stderr(),
                "note: the samples {} trained on, which {} started from (`init_from`), are not looked for: it is gone, \
                 or of another dtype, scaling or classes",
                parent.display(),
                model.display()
            );
        }
        match found {
            TrainedIn::Count { seen, more, rebuilt, .. } if seen + more > 0 => {
                let are = |n: usize| if n == 1 { "is identical to a sample" } else { "are identical to samples" };
                let whose = match (seen, more) {
                    (_, 0) => format!("{} {} trained on", are(seen), model.display()),
                    (0, _) => {
                        format!("{} a model {} started from (`init_from`) trained on", are(more), model.display())
                    }
                    _ => format!(
                        "are identical to samples {} trained on ({seen}) or a model it started from (`init_from`) \
                         did ({more})",
                        model.display()
                    ),
                };
                let how = if rebuilt {
                    "its training set rebuilt from the config it records"
                } else {
                    "its training set: this config's training split, which hashes to the data it records"
                };
                let _ = writeln!(
                    std::io::stderr(),
                    "warning: {} of the {} samples of the {name} split {whose} ({how})",
                    seen + more,
                    data.len(),
                );
            }
            TrainedIn::Count { own, .. } => {
                let whole: usize = source_parts(&splits, &loaded.config.data).map(|d| d.len()).sum();
                // None of them, from data the model's own run did not split so: new data, of which
                // a fraction is measured.
                if cut && whole > data.len() && !own {
                    let of = match source_file(&loaded.config.data) {
                        Some(path) => path.display().to_string(),
                        None => format!("the `{}` data", loaded.config.data.source()),
                    };
                    let _ = writeln!(
                        std::io::stderr(),
                        "note: none of the {name} split's samples is one the model trained on; it is {} of the \
                         {whole} samples of {of} (`data.{name}`, as the config splits it): `--split all` measures \
                         every one",
                        data.len(),
                    );
                }
            }
            TrainedIn::Changed => {
                let _ = writeln!(
                    std::io::stderr(),
                    "note: whether the {name} split holds samples {} trained on is not known: the config it \
                     records reads other training data now than it trained on (its data hash differs: a file \
                     changed since?)",
                    model.display()
                );
            }
            TrainedIn::Unknown { recorded } => {
                let rows = if cut || name == "all" { &splits.train } else { data };
                if let Some(file) = split_file_is_training_file(&loaded.config.data, name, trained_on.as_deref()) {
                    let _ = writeln!(
                        std::io::stderr(),
                        "warning: the {name} split is read from {}, the file the model trained from (by its path \
                         or its bytes): it may hold the samples the model trained on",
                        file.display()
                    );
                } else if cut && trains_as(model, &splits.train) {
                    // The model's own training split, by its hash: the split cut beside it holds none.
                } else if !warn_if_it_saw_them(model, name, rows, cut) {
                    let why = if recorded {
                        "its training set cannot be rebuilt from the config it records (a file gone, or not a regular \
                         file?)"
                    } else {
                        "it records no training config"
                    };
                    let _ = writeln!(
                        std::io::stderr(),
                        "note: whether the {name} split holds samples {} trained on is not known: {why}",
                        model.display()
                    );
                }
            }
        }
    }
    let classification = splits.task == backprop_data::Task::Classification;
    let loss = loaded.config.loss.get::<F>();
    let eval = run::evaluate(&net, loss, data, classification, splits.classes.as_deref(), &splits.target_normalizer);
    if !eval.cost.is_finite() {
        // As `predict` refuses such outputs: the report below counts their rows as the first
        // class's, and its figures mean little.
        let _ = writeln!(
            std::io::stderr(),
            "warning: the cost is {:?}: the model's outputs, or their cost, overflow on some of the {name} split{}",
            eval.cost,
            if splits.task == backprop_data::Task::Classification {
                "; the report counts rows whose outputs are not finite as predicting the first class"
            } else {
                ""
            }
        );
    }
    let report = run::Report { split: name.to_string(), ..eval.report };
    if format == EvalFormat::Json {
        let scaled = !splits.target_normalizer.is_identity();
        let json = EvalJson { report: &report, samples: data.len(), cost: eval.cost, accuracy: eval.accuracy, scaled };
        let _ = writeln!(out, "{}", serde_json::to_string_pretty(&json).expect("a report always serialises"));
        return Ok(());
    }
    let _ = writeln!(out, "split: {name} ({} samples)", data.len());
    // As the training log writes them (`{:?}`): `1.0`, `7.6e299`, not 300 digits.
    let _ = writeln!(out, "cost: {:?}", eval.cost);
    if !splits.target_normalizer.is_identity() {
        let _ = writeln!(
            out,
            "(the cost is of the targets scaled by the model's target normalizer, as training measured it; the \
             report is in the targets' own units)"
        );
    }
    if let Some(a) = eval.accuracy {
        let _ = writeln!(out, "accuracy: {a:?}");
    }
    // As scikit-learn's `classification_report` prints it; every digit is in `--format json`.
    let text = match (&report.classification, &report.regression) {
        (Some(c), _) => c.to_text(),
        (_, Some(r)) => r.to_text(&splits.target_names),
        _ => String::new(),
    };
    let _ = write!(out, "\n{text}");
    Ok(())
}

/// The file the model's run trained from (its provenance's `data.path`, or `data.images`),
/// when it records one.
fn training_file(file: &ModelFile) -> Option<PathBuf> {
    let config: toml::Table = file.provenance.as_ref()?.config.parse().ok()?;
    let data = config.get("data")?;
    let path = data.get("path").or_else(|| data.get("images"))?.as_str()?;
    Some(PathBuf::from(path))
}

/// What eval found of the model's training samples in the split it measures.
enum TrainedIn {
    /// The model's training set is known (`rebuilt`, or the config's own training split, by its
    /// hash): `seen` of the split's samples are in it; `more` are in the training sets of the
    /// models it started from (`unchecked`: the first of those that could not be checked); `own`
    /// says whether the config's training split is the model's.
    Count { seen: usize, more: usize, own: bool, rebuilt: bool, unchecked: Option<PathBuf> },
    /// The config the model records reads other training data now than it trained on.
    Changed,
    /// The training set could not be rebuilt (a file gone or not a regular file, a config this
    /// release no longer reads); `recorded` says whether the model records a config at all.
    Unknown { recorded: bool },
}

/// A model's training rows as [`row_key`]s, in `G` (its dtype): its training set rebuilt from
/// the config its provenance records, with the held-out files (which do not make the training
/// split) and `model.init_from` left out, and used only when it hashes to the data hash the
/// model records. Also the model it started from (its provenance's `model.init_from`), if any.
fn training_rows<G: Element>(model: &Path) -> Result<(HashSet<u64>, Option<PathBuf>), TrainedIn> {
    let file = ModelFile::read(model).map_err(|_| TrainedIn::Unknown { recorded: false })?;
    let recorded = file.provenance.is_some();
    let unknown = TrainedIn::Unknown { recorded };
    let provenance =
        file.provenance.as_ref().filter(|_| file.dtype == G::DTYPE).ok_or(TrainedIn::Unknown { recorded })?;
    let mut config: toml::Table = provenance.config.parse().map_err(|_| TrainedIn::Unknown { recorded })?;
    let started_from = config.get("model").and_then(|m| m.get("init_from")?.as_str().map(PathBuf::from));
    if let Some(toml::Value::Table(m)) = config.get_mut("model") {
        m.remove("init_from");
    }
    config.remove("sweep");
    if let Some(toml::Value::Table(data)) = config.get_mut("data") {
        for key in
            ["validation_path", "test_path", "validation_images", "validation_labels", "test_images", "test_labels"]
        {
            data.remove(key);
        }
        // A pipe or a device (`/dev/stdin`) would be read again, or wait for ever.
        for key in ["path", "images", "labels"] {
            if let Some(path) = data.get(key).and_then(|p| p.as_str())
                && !std::fs::metadata(path).is_ok_and(|m| m.is_file())
            {
                return Err(unknown);
            }
        }
    }
    let text = toml::to_string(&config).map_err(|_| TrainedIn::Unknown { recorded })?;
    let loaded = crate::config::load_text(text, model, &[]).map_err(|_| TrainedIn::Unknown { recorded })?;
    let (splits, _) =
        crate::experiment::prepare_splits::<G>(&loaded, None).map_err(|_| TrainedIn::Unknown { recorded })?;
    let train = &splits.train;
    if crate::model_file::data_hash(train.inputs.view(), train.targets.view()) != provenance.data_hash {
        return Err(TrainedIn::Changed);
    }
    Ok((keys_of(train), started_from))
}

/// The [`row_key`]s of `data`'s samples.
fn keys_of<G: Element>(data: &backprop_data::Dataset<G>) -> HashSet<u64> {
    data.inputs.outer_iter().zip(data.targets.outer_iter()).map(|(x, t)| row_key(x, t)).collect()
}

/// The training rows of the models `model` started from (`init_from`, one after the other, at
/// most eight back, each once), where each is of the dtype `G` and encodes its data as `model`
/// does (its normalizers and classes: rows encoded otherwise could match nothing the split holds,
/// or the wrong samples). Also the first model on the way that could not be checked so.
fn ancestors_rows<G: Element>(model: &Path, first: Option<PathBuf>) -> (HashSet<u64>, Option<PathBuf>) {
    let encoding =
        |path: &Path| ModelFile::read(path).ok().map(|f| (f.dtype, f.normalizer, f.target_normalizer, f.classes));
    let ours = encoding(model);
    let mut seen: Vec<PathBuf> = std::fs::canonicalize(model).into_iter().collect();
    let (mut rows, mut next) = (HashSet::new(), first);
    while let Some(parent) = next.take() {
        let Ok(at) = std::fs::canonicalize(&parent) else { return (rows, Some(parent)) };
        if seen.contains(&at) || seen.len() > 8 {
            break;
        }
        if !at.is_file() || encoding(&at) != ours {
            return (rows, Some(parent));
        }
        seen.push(at.clone());
        match training_rows::<G>(&at) {
            Ok((more, further)) => {
                rows.extend(more);
                next = further;
            }
            Err(_) => return (rows, Some(parent)),
        }
    }
    (rows, None)
}

/// The model the model at `model` started from (its provenance's `model.init_from`), if any.
fn started_from(model: &Path) -> Option<PathBuf> {
    let file = ModelFile::read(model).ok()?;
    let config: toml::Table = file.provenance?.config.parse().ok()?;
    config.get("model")?.get("init_from")?.as_str().map(PathBuf::from)
}

/// [`TrainedIn`] for the split `name` of `loaded`'s data, in the model's dtype `G`: `given`
/// (the split and the config's training split) where eval measures them in `G`, else the
/// splits read again in `G`.
fn trained_in_split<G: Element>(
    loaded: &Loaded,
    model: &Path,
    name: &str,
    given: Option<(&backprop_data::Dataset<G>, &backprop_data::Dataset<G>)>,
) -> TrainedIn {
    let read;
    let (data, train) = match given {
        Some(both) => both,
        None => {
            let Ok((splits, _)) = crate::experiment::prepare_splits::<G>(loaded, Some(model)) else {
                return TrainedIn::Unknown { recorded: true };
            };
            let Some(data) = select_split(&splits, name, &loaded.config.data).map(std::borrow::Cow::into_owned) else {
                return TrainedIn::Unknown { recorded: true };
            };
            read = (data, splits.train);
            (&read.0, &read.1)
        }
    };
    let own = trains_as(model, train);
    // The rebuilt training set; else, where the config's own training split is the model's (by
    // its hash: a file since changed, the config reading its original elsewhere), that split.
    let (rows, rebuilt) = match training_rows::<G>(model) {
        Ok((rows, _)) => (rows, true),
        Err(_) if own => (keys_of(train), false),
        Err(other) => return other,
    };
    let (ancestors, unchecked) = ancestors_rows::<G>(model, started_from(model));
    let keys: Vec<u64> = data.inputs.outer_iter().zip(data.targets.outer_iter()).map(|(x, t)| row_key(x, t)).collect();
    let seen = keys.iter().filter(|k| rows.contains(k)).count();
    let more = keys.iter().filter(|k| !rows.contains(k) && ancestors.contains(k)).count();
    TrainedIn::Count { seen, more, own, rebuilt, unchecked }
}

/// Whether the split `name` of `data` is cut by a fraction from its source (`data.path`, IDX
/// `images`), not read from a file of its own (`validation_path`, `test_path`).
fn cut_from_source(data: &backprop_data::DataSpec, name: &str) -> bool {
    data.preprocess().is_some_and(|p| match name {
        "validation" => p.validation > 0.0,
        "test" => p.test > 0.0,
        _ => false,
    })
}

/// The splits of `splits` that hold the source's samples: the training split, and those cut
/// from the source ([`cut_from_source`]), in that order.
fn source_parts<'a, G>(
    splits: &'a backprop_data::Splits<G>,
    data: &'a backprop_data::DataSpec,
) -> impl Iterator<Item = &'a backprop_data::Dataset<G>> {
    let held = [("validation", &splits.validation), ("test", &splits.test)];
    let cut = held.into_iter().filter(move |(n, _)| cut_from_source(data, n)).filter_map(|(_, d)| d.as_ref());
    std::iter::once(&splits.train).chain(cut)
}

/// The split `name` of `splits` (`all`: the [`source_parts`], one after the other); `None`
/// where there is none.
fn select_split<'a, G: Element>(
    splits: &'a backprop_data::Splits<G>,
    name: &str,
    data: &backprop_data::DataSpec,
) -> Option<std::borrow::Cow<'a, backprop_data::Dataset<G>>> {
    use std::borrow::Cow;
    match name {
        "train" => Some(Cow::Borrowed(&splits.train)),
        "validation" => splits.validation.as_ref().map(Cow::Borrowed),
        "test" => splits.test.as_ref().map(Cow::Borrowed),
        _ => Some(Cow::Owned(concatenate("all", source_parts(splits, data)))),
    }
}

/// Whether `train` is the training split the model at `model` records (its data hash).
fn trains_as<F: Element>(model: &Path, train: &backprop_data::Dataset<F>) -> bool {
    let Ok(file) = ModelFile::read(model) else { return false };
    file.provenance.is_some_and(|p| {
        file.dtype == F::DTYPE && p.data_hash == crate::model_file::data_hash(train.inputs.view(), train.targets.view())
    })
}

/// A sample's fingerprint: FNV-1a over its inputs' and targets' f64 bits, −0 as 0.
fn row_key<F: Element>(inputs: ndarray::ArrayView1<'_, F>, targets: ndarray::ArrayView1<'_, F>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for v in inputs.iter().chain(targets.iter()) {
        for b in (v.f64() + 0.0).to_bits().to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// The file a config's data is read from (a CSV's `path`, IDX `images`), if any.
fn source_file(spec: &backprop_data::DataSpec) -> Option<&Path> {
    match spec {
        backprop_data::DataSpec::Csv(c, _) => Some(&c.path),
        backprop_data::DataSpec::Idx(i, _) => Some(&i.images),
        _ => None,
    }
}

/// Whether `a` and `b` are one file: the same path however written, or the same bytes (a copy);
/// `None` when either cannot be found (a model trained on another machine, a training file moved
/// since), which only the data hashes can then decide.
fn compare_files(a: &Path, b: &Path) -> Option<bool> {
    let (x, y) = (std::fs::canonicalize(a).ok()?, std::fs::canonicalize(b).ok()?);
    if x == y {
        return Some(true);
    }
    // Only regular files are read: a pipe would wait for ever.
    let (m, n) = (std::fs::metadata(&x).ok()?, std::fs::metadata(&y).ok()?);
    if !m.is_file() || !n.is_file() {
        return None;
    }
    if m.len() != n.len() {
        return Some(false);
    }
    Some(std::fs::read(&x).ok()? == std::fs::read(&y).ok()?)
}

/// The samples of `parts` one after the other, as one data set named `name`.
fn concatenate<'a, F: Element>(
    name: &str,
    parts: impl Iterator<Item = &'a backprop_data::Dataset<F>>,
) -> backprop_data::Dataset<F> {
    let parts: Vec<&backprop_data::Dataset<F>> = parts.collect();
    let stack = |views: Vec<backprop_tensor::MatView<'_, F>>| {
        ndarray::concatenate(ndarray::Axis(0), &views).expect("the splits of one data set have its columns")
    };
    backprop_data::Dataset {
        name: name.to_string(),
        inputs: stack(parts.iter().map(|d| d.inputs.view()).collect()),
        targets: stack(parts.iter().map(|d| d.targets.view()).collect()),
    }
}

/// The file of the held-out split `name` (`validation_path`, `test_path`) when it is the file the
/// model's run trained from, `trained_on` (its provenance's), by path or bytes.
fn split_file_is_training_file(
    spec: &backprop_data::DataSpec,
    name: &str,
    trained_on: Option<&Path>,
) -> Option<PathBuf> {
    use backprop_data::DataSpec;
    let (validation, test) = match spec {
        DataSpec::Csv(c, _) => (c.validation_path.as_ref(), c.test_path.as_ref()),
        DataSpec::Idx(i, _) => (i.validation_images.as_ref(), i.test_images.as_ref()),
        _ => return None,
    };
    let split = match name {
        "test" => test,
        "validation" => validation,
        _ => None,
    }?;
    let trained = trained_on?;
    compare_files(trained, split).unwrap_or(trained == split).then(|| split.clone())
}

/// Warns (on standard error; the run goes on) when the held-out split `name` may hold samples
/// the model at `model` trained on, by the training data's hash it records: for a split `cut`
/// from the training source, when `rows` (the config's training split) is not what it trained
/// on (another seed or other split fractions than its run's); for a split read from its own
/// file, when `rows` (that split) is what it trained on. Silent where the model records no data
/// hash, or was trained in another dtype (whose values hash otherwise). Returns whether it warned.
/// Eval's fallback where the training set cannot be rebuilt ([`training_rows`]).
fn warn_if_it_saw_them<F: Element>(model: &Path, name: &str, rows: &backprop_data::Dataset<F>, cut: bool) -> bool {
    let Ok(file) = ModelFile::read(model) else { return false };
    let Some(provenance) = file.provenance.filter(|_| file.dtype == F::DTYPE) else { return false };
    let here = crate::model_file::data_hash(rows.inputs.view(), rows.targets.view());
    let (model, trained) = (model.display(), &provenance.data_hash);
    let warning = if cut && here != *trained {
        format!(
            "{model} was trained on other data than this config's training split (data hash {trained}, the \
             split's {here}): with another seed or other split fractions than its run's, the {name} split may \
             hold samples it trained on"
        )
    } else if !cut && here == *trained {
        let is = if name == "all" { "holds" } else { "is" };
        format!("the {name} split {is} the data {model} was trained on (data hash {here})")
    } else {
        return false;
    };
    let _ = writeln!(std::io::stderr(), "warning: {warning}");
    true
}

/// `--split NAME` of a config whose data has no such split; the key that makes one named where
/// the source takes it (truth tables are not split).
fn no_split(name: &str, data: &backprop_data::DataSpec) -> CliError {
    let key = if data.preprocess().is_some() { format!(" (`data.{name}`)") } else { String::new() };
    CliError::Config(format!("--split {name}: the config's data has no {name} split{key}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that fails every call with `kind`.
    struct Failing(std::io::ErrorKind);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(self.0.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Err(self.0.into())
        }
    }

    #[test]
    fn lost_output_is_an_error_and_a_closed_pipe_is_not() {
        let mut full = Checked::new(Failing(std::io::ErrorKind::StorageFull));
        let _ = writeln!(full, "cost: 0.5");
        let err = full.finish().expect_err("a full disk loses the output");
        assert_eq!((err.exit_code(), err.to_string().starts_with("standard output: ")), (2, true), "{err}");

        let mut pipe = Checked::new(Failing(std::io::ErrorKind::BrokenPipe));
        let _ = writeln!(pipe, "cost: 0.5");
        assert!(pipe.finish().is_ok());

        let mut fine = Checked::new(Vec::new());
        let _ = writeln!(fine, "cost: 0.5");
        assert!(fine.finish().is_ok());
        assert_eq!(fine.inner, b"cost: 0.5\n");
    }
}
