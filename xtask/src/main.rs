//! `cargo xtask`: the project's task runner (experiments, sweeps and benchmarks), so that the
//! README's commands need nothing but cargo. The `.cargo/config.toml` alias builds it in release
//! mode.

/// `println!` that does not panic when standard output is gone (a pipe whose reader quit, as
/// `| head` does): the task goes on and finishes its files, as `backprop` does.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout(), $($arg)*) {
            crate::output_lost(&e);
        }
    }};
}

/// Set when a line for standard output could not be written for another reason than a closed
/// pipe (a full disk behind `>`): the run then exits 2, not 0, as `backprop` does.
static OUTPUT_LOST: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Records `e`, an error writing standard output, unless the reader closed the pipe (it had
/// what it wanted: `| head`).
fn output_lost(e: &std::io::Error) {
    if e.kind() != std::io::ErrorKind::BrokenPipe {
        OUTPUT_LOST.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// `eprintln!` that does not panic when standard error is gone (see [`outln!`]).
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod bench;
mod sweep;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "backprop's tasks: experiments, sweeps and benchmarks")]
struct Xtask {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Run the experiment a config describes (the same as `backprop train`), or, when it has a
    /// `[sweep]` table, every trial of the sweep (see docs/sweeps.md).
    Experiment {
        /// The experiment config (TOML).
        config: PathBuf,
        /// Override a config key (`--set optim.lr=0.1`; repeatable). In a sweep it applies to the
        /// base config of every trial (the grid's values win), and may set `sweep.*` keys.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// The run directory (default: `runs/<name>/<UTC time>/`), or the sweep directory
        /// (default: `runs/<name>/sweep-<id>/`, the id a hash of the config text and overrides).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Ignore the `[sweep]` table: run the base config once.
        #[arg(long)]
        no_sweep: bool,
        /// Trials to run at once in a sweep (default: the number of cores; at least 1).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        jobs: Option<u32>,
        /// Run only part I of N of the sweep's trials (those whose index mod N is I − 1); then
        /// `cargo xtask collect DIR` once every part is done.
        #[arg(long, value_name = "I/N")]
        shard: Option<sweep::Shard>,
    },
    /// Write a sweep's result files (trials.csv, summary.csv, summary.md, plots) from its trial
    /// directories, e.g. after `--shard` runs.
    Collect {
        /// The sweep directory (the one holding `sweep.json`).
        dir: PathBuf,
    },
    /// Time the benchmark workloads and print one line each in the peer format.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    // As the `backprop` binary: a bad wait policy refused, this thread one of rayon's.
    if let Err(e) = backprop_cli::app::start() {
        errln!("error: {e}");
        return exit(2);
    }
    let xtask = match Xtask::try_parse() {
        Ok(x) => x,
        Err(e) => {
            if let Err(lost) = e.print() {
                output_lost(&lost);
            }
            return exit(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let code = match xtask.task {
        Task::Experiment { config, set, out, no_sweep, jobs, shard } => {
            let sweep = if no_sweep { Ok(None) } else { sweep::sweep_of(&config, &set) };
            match sweep {
                Ok(Some((base, spec))) => {
                    return exit(sweep::run(
                        &config,
                        &set,
                        &base,
                        &spec,
                        &sweep::SweepOptions { out, jobs: jobs.map(|j| j as usize), shard },
                    ));
                }
                Ok(None) if shard.is_some() => {
                    if no_sweep {
                        errln!("error: --shard splits a sweep, and --no-sweep trains the base config once");
                    } else {
                        errln!("error: --shard needs a config with a [sweep] table");
                    }
                    return exit(2);
                }
                Ok(None) => {}
                Err(e) => {
                    errln!("error: {e}");
                    return exit(e.exit_code());
                }
            }
            // `--no-sweep`: a config with a sweep gets here only when asked to train its base once.
            let mut args: Vec<std::ffi::OsString> =
                vec!["backprop".into(), "train".into(), config.into(), "--no-sweep".into()];
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
        Task::Collect { dir } => sweep::collect(&dir),
        Task::Bench(args) => bench::run(&args),
    };
    exit(code)
}

fn exit(code: i32) -> ExitCode {
    use std::io::Write as _;
    let flushed = std::io::stdout().flush();
    if let Err(e) = &flushed {
        output_lost(e);
    }
    if code == 0 && OUTPUT_LOST.load(std::sync::atomic::Ordering::Relaxed) {
        errln!("error: standard output: it could not all be written (a full disk?)");
        return ExitCode::from(2);
    }
    ExitCode::from(u8::try_from(code).unwrap_or(2))
}
