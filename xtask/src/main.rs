//! `cargo xtask`: the project's task runner (experiments and benchmarks), so that the README's
//! commands need nothing but cargo. The `.cargo/config.toml` alias builds it in release mode.

mod bench;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "backprop's tasks: experiments and benchmarks")]
struct Xtask {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Run the experiment a config describes (the same as `backprop train`).
    Experiment {
        /// The experiment config (TOML).
        config: PathBuf,
        /// Override a config key (`--set optim.lr=0.1`; repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// The run directory (default: `runs/<name>/<UTC time>/`).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Time the benchmark workloads and print one line each in the peer format.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let xtask = match Xtask::try_parse() {
        Ok(x) => x,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let code = match xtask.task {
        Task::Experiment { config, set, out } => {
            let mut args: Vec<std::ffi::OsString> = vec!["backprop".into(), "train".into(), config.into()];
            for s in set {
                args.push("--set".into());
                args.push(s.into());
            }
            if let Some(out) = out {
                args.push("--out".into());
                args.push(out.into());
            }
            backprop_cli::app::main_with(args)
        }
        Task::Bench(args) => bench::run(&args),
    };
    ExitCode::from(u8::try_from(code).unwrap_or(2))
}
