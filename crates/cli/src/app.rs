//! The `backprop` command line: argument parsing and the commands, as library code so that
//! `xtask` and the tests run exactly what the binary runs.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use backprop_data::Dataset;
use backprop_layers::Network;
use backprop_tensor::rng::{derive_seed, seeded};
use backprop_tensor::{Dtype, Element};
use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use crate::config::{self, Loaded};
use crate::error::CliError;
use crate::fsutil::new_run_dir;
use crate::gradcheck;
use crate::model_file::ModelFile;
use crate::run;

/// Stream index of the initial weights under the experiment seed.
pub const STREAM_INIT: u64 = 0;
/// Stream index of the mini-batch shuffles under the experiment seed.
pub const STREAM_SHUFFLE: u64 = 1;

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
    Train(TrainArgs),
    /// Compare backprop's gradients with central differences, layer by layer (exit 1 if over
    /// tolerance).
    Gradcheck(GradcheckArgs),
    /// Print the cost and its gradients over the training set as JSON.
    Grad(GradArgs),
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
    /// `train.checkpoint_every` epochs), with the config it saved.
    #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["config", "set", "out"])]
    resume: Option<PathBuf>,
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
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    if matches!(cli.command, Command::Train(_)) {
        run::install_interrupt_handler();
    }
    let stdout = std::io::stdout();
    match run(cli, &mut stdout.lock()) {
        Ok(()) => 0,
        Err(CliError::Interrupted) => 130,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

fn run(cli: Cli, out: &mut dyn Write) -> Result<(), CliError> {
    match cli.command {
        Command::Train(a) => match (a.resume, a.config) {
            (Some(dir), _) => {
                let summary = run::resume_any(&dir, out)?;
                finish_train(&dir, &summary, out)
            }
            (None, Some(config)) => {
                let loaded = config::load(&config, &a.set)?;
                train(&loaded, a.out.as_deref(), out)
            }
            (None, None) => Err(CliError::Config("train needs a CONFIG or --resume RUN_DIR".into())),
        },
        Command::Gradcheck(a) => {
            let loaded = config::load(&a.config.config, &a.config.set)?;
            gradcheck_cmd(&loaded, a.model.as_deref(), a.epsilon, a.tolerance, out)
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

/// The training data and the starting network of a config: from `model` (or the config's
/// `model.init_from`) when given, else drawn from the config's initialiser and seed.
pub fn prepare<F: Element>(loaded: &Loaded, model: Option<&Path>) -> Result<(Dataset<F>, Network<F>), CliError> {
    let cfg = &loaded.config;
    let data: Dataset<F> = cfg.data.load().map_err(|e| CliError::Input(e.to_string()))?;
    let from = match (model, &cfg.model.init_from) {
        (Some(p), _) => Some(p.to_path_buf()),
        (None, Some(p)) => Some(loaded.resolve_key_path("model.init_from", p)),
        (None, None) => None,
    };
    let net = match from {
        Some(path) => {
            let file = ModelFile::read(&path)?;
            let want = cfg.model.architecture(data.outputs());
            let shape = |layers: &[backprop_layers::LayerSpec]| {
                layers.iter().map(|l| (l.units, l.activation.clone())).collect::<Vec<_>>()
            };
            if shape(&file.architecture()) != shape(&want) || file.inputs != data.features() {
                return Err(CliError::Input(format!(
                    "{}: the model has {} inputs and layers {}, but the config asks for {} inputs and layers {}",
                    path.display(),
                    file.inputs,
                    describe(&file.architecture()),
                    data.features(),
                    describe(&want)
                )));
            }
            let mut net: Network<F> = file.to_network();
            net.set_dropout(&want.iter().map(|l| l.dropout).collect::<Vec<_>>());
            net
        }
        None => {
            cfg.model
                .validate_for(data.features(), data.outputs())
                .map_err(|e| loaded.spec_error(&e.within("model")))?;
            let mut net = Network::new(data.features(), &cfg.model.architecture(data.outputs()));
            let mut rng = seeded(derive_seed(cfg.experiment.seed, STREAM_INIT));
            let inits: Vec<_> = net
                .layers()
                .iter()
                .map(|layer| backprop_layers::layer_initializers(cfg.model.init.as_ref(), &layer.activation))
                .collect();
            net.initialize_layers(|l| (inits[l].0.get(), inits[l].1.get()), &mut rng);
            net
        }
    };
    data.check_fits(net.inputs(), net.outputs()).map_err(|e| CliError::Input(e.to_string()))?;
    Ok((data, net))
}

fn describe(layers: &[backprop_layers::LayerSpec]) -> String {
    let parts: Vec<String> = layers.iter().map(|l| format!("{} {}", l.units, l.activation.name())).collect();
    format!("[{}]", parts.join(", "))
}

fn train(loaded: &Loaded, out_dir: Option<&Path>, out: &mut dyn Write) -> Result<(), CliError> {
    let dir = match out_dir {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(|e| CliError::io(d, e))?;
            d.to_path_buf()
        }
        None => new_run_dir(Path::new("runs"), &loaded.config.experiment.name)?,
    };
    let summary = run::run_training_any(loaded, &dir, out)?;
    finish_train(&dir, &summary, out)
}

/// Prints where the run went, and turns a diverged run into exit 1 and an interrupted one into
/// exit 130.
fn finish_train(dir: &Path, summary: &run::RunSummary, out: &mut dyn Write) -> Result<(), CliError> {
    let _ = writeln!(out, "Run directory: {}", dir.display());
    match summary.stop_reason.as_str() {
        "interrupted" => Err(CliError::Interrupted),
        "diverged" => Err(CliError::Failed(format!(
            "training diverged at epoch {}: the cost is not finite{}; the last good weights are in {}",
            summary.stop_epoch.unwrap_or(summary.epochs_run + 1),
            summary.diverged_at.as_ref().map(|w| format!(" (first non-finite values in {w})")).unwrap_or_default(),
            dir.join("model.json").display()
        ))),
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
    let (data, net) = prepare::<f64>(loaded, model)?;
    let loss = loaded.config.loss.get::<f64>();
    let (x, t) = (data.inputs.view(), data.targets.view());
    let (_, analytic) = gradcheck::analytic(&net, loss, x, t);
    let numeric = gradcheck::numeric(&net, loss, x, t, epsilon);
    let reports = gradcheck::compare(&net, &analytic, &numeric, tolerance, 1e-9);
    let _ = writeln!(out, "gradient check (f64, central differences, epsilon {epsilon}, tolerance {tolerance})");
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
    } else {
        Err(CliError::Failed("gradient check failed: analytic and numeric gradients disagree beyond tolerance".into()))
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
    let (cost, grads) =
        gradcheck::analytic(&net, loaded.config.loss.get::<F>(), data.inputs.view(), data.targets.view());
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
