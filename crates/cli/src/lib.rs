//! The library behind the `backprop` command: it composes the component crates into an
//! experiment.
//!
//! - [`config`]: the TOML experiment config ([`config::Config`]), composed of each crate's spec,
//!   with `--set` overrides and errors that name file, line, column and key.
#![cfg_attr(
    feature = "cli",
    doc = "- [`run`]: one training run into a run directory ([`run::run_training_any`]; with a
  progress bar, [`run::run_training_interactive`], as `backprop train` and `cargo xtask
  experiment` run it; its files handed back, [`run::run_training_deferred`], as sweeps run it;
  feature `cli`)."
)]
//! - [`experiment`]: a config's data, starting network, options and seed streams, as `backprop
//!   train` sets them up (a library run reproduces a `backprop train` run with them).
//! - [`train`]: the training loop ([`train::Trainer`]), allocation-free once warm.
//! - [`model_file`]: `model.json`, the trained network as a file.
//! - [`gradcheck`]: analytic gradients and central differences.
//! - [`report`]: confusion matrices, precision/recall/F1, MSE/MAE/R², bit accuracy.
//! - [`fsutil`]: atomic writes and run directories.
#![cfg_attr(
    feature = "cli",
    doc = "- [`app`]: the command line itself ([`app::main_with`]), which the binary, `xtask` and the
  end-to-end tests all run (feature `cli`; with it `explain` and `plot`)."
)]
#![cfg_attr(
    not(feature = "cli"),
    doc = "- Built without the default feature `cli`: no `run`, `app`, `explain` or `plot`."
)]
//!
//! ```
//! use backprop_cli::config::{Config, TrainSpec, BatchSize};
//! use backprop_cli::train::{Trainer, TrainOptions};
//! use backprop_layers::Network;
//! use backprop_tensor::rng::seeded;
//!
//! let cfg = Config { train: TrainSpec { epochs: 10, batch_size: BatchSize::Full, log_every: 0, ..Default::default() }, ..Default::default() };
//! let data = cfg.data.load::<f64>().unwrap();
//! let mut net = Network::<f64>::new(2, &cfg.model.architecture(2));
//! let init = backprop_tensor::init::InitSpec::default();
//! net.initialize(init.get(), init.get(), &mut seeded(1));
//! let opts = TrainOptions { epochs: 10, batch_size: BatchSize::Full, log_every: 0, ..Default::default() };
//! let trainer = Trainer::new(net, &data, cfg.loss.get(), cfg.optim.optimizer.get(), opts);
//! let outcome = trainer.run(&mut seeded(2), &mut std::io::sink());
//! assert_eq!(outcome.costs.len(), 11);
//! ```

#[cfg(feature = "cli")]
pub mod app;
pub mod config;
pub mod error;
pub mod experiment;
#[cfg(feature = "cli")]
pub mod explain;
pub mod fsutil;
pub mod gradcheck;
pub mod model_file;
#[cfg(feature = "cli")]
pub mod plot;
pub mod report;
#[cfg(feature = "cli")]
pub mod run;
pub mod train;

pub use error::CliError;
