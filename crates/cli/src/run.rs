//! One training run into a run directory: the library entry point that `backprop train`, `cargo
//! xtask experiment` and sweeps share.

use std::io::Write;
use std::path::Path;

use backprop_tensor::rng::{derive_seed, seeded};
use backprop_tensor::{Dtype, Element};
use serde::{Deserialize, Serialize};

use crate::app::{STREAM_SHUFFLE, prepare};
use crate::config::Loaded;
use crate::error::CliError;
use crate::fsutil::write_atomic;
use crate::model_file::ModelFile;
use crate::train::{TrainOptions, Trainer};

/// What a finished run reports: the contents of its `summary.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Cost over the training set after the last kept epoch.
    pub final_cost: f64,
    /// Lowest cost over the training set after any epoch (the initial one included).
    pub best_cost: f64,
    /// Cost before training.
    pub initial_cost: f64,
    /// Epochs whose updates were kept.
    pub epochs_run: usize,
    /// Wall time of the epochs, in seconds.
    pub train_seconds: f64,
    /// `completed` or `diverged`.
    pub stop_reason: String,
    /// The experiment seed.
    pub seed: u64,
    /// The element type.
    pub dtype: Dtype,
    /// Number of weights and biases.
    pub parameters: usize,
}

/// Trains the config into `dir` (which must exist): writes `config.toml` first, then
/// `metrics.csv`, `model.json` and `summary.json`, each atomically; logs the costs and the
/// network's outputs to `log`. A diverged run is `Ok` with `stop_reason = "diverged"` (its last
/// good weights are saved); callers decide what that means for them.
pub fn run_training_any(loaded: &Loaded, dir: &Path, log: &mut dyn Write) -> Result<RunSummary, CliError> {
    match loaded.config.experiment.dtype {
        Dtype::F32 => run_training::<f32>(loaded, dir, log),
        Dtype::F64 => run_training::<f64>(loaded, dir, log),
    }
}

/// [`run_training_any`] for a known element type.
pub fn run_training<F: Element>(loaded: &Loaded, dir: &Path, log: &mut dyn Write) -> Result<RunSummary, CliError> {
    let cfg = &loaded.config;
    let (data, net) = prepare::<F>(loaded, None)?;
    let resolved =
        toml::to_string(cfg).map_err(|e| CliError::Config(format!("cannot write the resolved config: {e}")))?;
    write_atomic(&dir.join("config.toml"), resolved.as_bytes())?;

    let opts = TrainOptions::from_config(cfg);
    let mut rng = seeded(derive_seed(cfg.experiment.seed, STREAM_SHUFFLE));
    let trainer = Trainer::new(net, &data, cfg.loss.get(), cfg.optim.optimizer.get(), opts);
    let outcome = trainer.run(&mut rng, log);
    let final_cost = *outcome.costs.last().expect("the initial cost is always recorded");

    let _ = writeln!(log, "Final cost: {final_cost}");
    let _ = writeln!(log, "Neural net output:");
    let outputs = outcome.net.predict(data.inputs.view());
    for (x, y) in data.inputs.outer_iter().zip(outputs.outer_iter()) {
        let xs: Vec<String> = x.iter().map(|v| v.to_string()).collect();
        let ys: Vec<String> = y.iter().map(|v| format!("{:.6}", v.f64())).collect();
        let _ = writeln!(log, "  ({}) : [{}]", xs.join(", "), ys.join(" "));
    }

    let mut metrics = String::from("epoch,cost\n");
    for (epoch, cost) in outcome.costs.iter().enumerate() {
        metrics.push_str(&format!("{epoch},{cost}\n"));
    }
    write_atomic(&dir.join("metrics.csv"), metrics.as_bytes())?;
    ModelFile::from_network(&outcome.net).write(&dir.join("model.json"))?;
    let summary = RunSummary {
        final_cost,
        best_cost: outcome.costs.iter().copied().fold(f64::INFINITY, f64::min),
        initial_cost: outcome.costs[0],
        epochs_run: outcome.epochs_run,
        train_seconds: outcome.seconds,
        stop_reason: outcome.stop_reason.name().to_string(),
        seed: cfg.experiment.seed,
        dtype: F::DTYPE,
        parameters: outcome.net.params().len(),
    };
    let json = serde_json::to_string_pretty(&summary).expect("a summary always serialises");
    write_atomic(&dir.join("summary.json"), json.as_bytes())?;
    Ok(summary)
}
