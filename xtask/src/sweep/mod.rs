//! Sweeps: `cargo xtask experiment CONFIG` over a config with a `[sweep]` table runs every
//! trial (a grid point × a seed) in parallel, resumably, and summarises them; `cargo xtask
//! collect DIR` rebuilds the summaries from the trial directories (after `--shard` runs).
//!
//! - `spec`: the `[sweep]` table, parsed and checked.
//! - `plan`: the points and trials, their seeds, and `sweep.json`.
//! - `trial`: one trial's run and result (`summary.json` or `failed.json`).
//! - `report`: `trials.csv`, `summary.csv`, `summary.md`; `plot`: the SVGs.
//!
//! A trial's result depends only on its config and seed: trials are single-threaded, write only
//! their own directory, and the summaries are read back from the directories in plan order, so
//! `--jobs`, `--shard`, the order of completion and interruptions change nothing.

mod plan;
mod plot;
mod report;
mod spec;
/// Reading the plots' SVG files, for `plot.rs`'s tests (shared with the cli crate's).
#[cfg(test)]
#[path = "../../../crates/cli/tests/support/svg.rs"]
mod svg;
mod trial;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::Instant;

use backprop_cli::CliError;
use backprop_cli::config;
use backprop_cli::run::RunFiles;
use rayon::prelude::*;

use plan::{Plan, Resolved};
use spec::SweepSpec;
use trial::Status;

/// Options of `cargo xtask experiment` that concern sweeps.
#[derive(Debug, Clone, Default)]
pub struct SweepOptions {
    /// The sweep directory (default `runs/<name>/sweep-<id>/`).
    pub out: Option<PathBuf>,
    /// Trials at once (default: the number of cores).
    pub jobs: Option<usize>,
    /// Run only trials with `index % n == i − 1`.
    pub shard: Option<Shard>,
}

/// `--shard I/N`: the `I`-th of `N` disjoint parts of the trials (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which part, `1..=of`.
    pub part: usize,
    /// How many parts.
    pub of: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("expected I/N with 1 ≤ I ≤ N (e.g. 2/8), got `{s}`");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (part, of) = (i.trim().parse::<usize>().map_err(|_| bad())?, n.trim().parse::<usize>().map_err(|_| bad())?);
        if part == 0 || part > of { Err(bad()) } else { Ok(Shard { part, of }) }
    }
}

/// The parsed `[sweep]` table of the config at `path` with `overrides`, if it has one.
/// Errors are config errors (exit 2) naming the key.
pub fn sweep_of(path: &Path, overrides: &[String]) -> Result<Option<(config::Loaded, SweepSpec)>, CliError> {
    let base = config::load(path, overrides)?;
    let Some(table) = base.config.sweep.clone() else { return Ok(None) };
    let spec = SweepSpec::parse(&table, base.config.experiment.seed)
        .map_err(|e| key_error(path, overrides, &e.key, &e.message))?;
    Ok(Some((base, spec)))
}

/// A config error (exit 2) about the sweep key `key`, positioned at it in the file (or naming
/// the `--set` that gave it).
fn key_error(path: &Path, overrides: &[String], key: &str, message: &str) -> CliError {
    // Keys compared part by part, without quotes (`sweep.grid.optim` is `sweep.grid."optim"`);
    // the last such --set, whose value is the one read.
    let from_set = overrides.iter().rfind(|o| config::set_key(o).is_some_and(|k| config::key_within(key, k)));
    let text = std::fs::read_to_string(path).unwrap_or_default();
    // A key the file lacks that a `--set` of another key of its table made needed
    // (`sweep.samples` after `--set sweep.mode=random`): that `--set` named (the one whose key
    // the message names), not the line of another key of the table.
    let parts = config::key_parts(key);
    let needed_after = overrides.iter().rfind(|o| {
        config::set_key(o).is_some_and(|k| {
            let set = config::key_parts(k);
            set.len() == parts.len()
                && set[..set.len() - 1] == parts[..parts.len() - 1]
                && set.last().is_some_and(|name| message.contains(&format!("{name} =")))
        })
    });
    let at = match (from_set, needed_after) {
        (Some(o), _) => format!(" (set by --set {o})"),
        (None, Some(o)) if !has_key(&text, key) => {
            return CliError::Config(format!("{}: key `{key}`: {message} (needed after --set {o})", path.display()));
        }
        _ => locate(&text, key).map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default(),
    };
    CliError::Config(format!("{}{at}: key `{key}`: {message}", path.display()))
}

/// Whether the dotted `key` is written in TOML `source`, all of it.
fn has_key(source: &str, key: &str) -> bool {
    let Ok(doc) = toml::de::DeTable::parse(source) else { return false };
    let mut table = doc.get_ref();
    let parts = config::key_parts(key);
    for (i, part) in parts.iter().enumerate() {
        let Some((_, v)) = table.iter().find(|(k, _)| k.get_ref() == part) else { return false };
        match v.get_ref() {
            _ if i + 1 == parts.len() => return true,
            toml::de::DeValue::Table(t) => table = t,
            _ => return false,
        }
    }
    false
}

/// Runs the sweep of the config at `path` (which has a `[sweep]` table); returns the exit status.
pub fn run(path: &Path, overrides: &[String], base: &config::Loaded, spec: &SweepSpec, opts: &SweepOptions) -> i32 {
    match run_inner(path, overrides, base, spec, opts) {
        Ok(code) => code,
        Err(e) => {
            errln!("error: {e}");
            e.exit_code()
        }
    }
}

/// `cargo xtask collect DIR`: writes the result files from the trial directories; returns the
/// exit status (1 when some trials have no result yet, a trial whose config is not the plan's
/// included).
pub fn collect(dir: &Path) -> i32 {
    let result = (|| -> Result<(report::Report, Plan), CliError> {
        // A folder without a plan is no sweep: said before a lock file is made in it.
        Plan::read(dir)?;
        // Shares the sweep's lock: refused while a sweep without --shard runs (its report,
        // written when it ends, could otherwise be replaced by this partial one); beside shards,
        // which write no report, it runs. The plan is read again once the lock is held: one that
        // a shard of another config replaced meanwhile is the one reported on.
        let _lock = lock_shared(dir)?;
        let plan = Plan::read(dir)?;
        let configs = configs_of(&plan)
            .inspect_err(|why| {
                errln!(
                    "warning: the trials' configs are not checked against the plan ({}): {why}",
                    dir.join(plan::PLAN_FILE).display()
                );
            })
            .ok();
        Ok((report::write_all(dir, &plan, configs.as_ref())?, plan))
    })();
    match result {
        Ok((report, plan)) => finish(dir, &plan, &report),
        Err(e) => {
            errln!("error: {e}");
            e.exit_code()
        }
    }
}

/// The configs of `plan`'s trials, resolved again from its config file and overrides, as the
/// sweep that wrote it resolved them; why not, when that file is gone, invalid, or now gives
/// another plan.
fn configs_of(plan: &Plan) -> Result<Resolved, String> {
    let (path, overrides) = (&plan.config, &plan.overrides);
    let (base, spec) = sweep_of(path, overrides)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{} has no [sweep] table now", path.display()))?;
    let name = &base.config.experiment.name;
    let resolved =
        plan::resolve(path, overrides, name, &spec, &|key, message| key_error(path, overrides, key, message))
            .map_err(|e| e.to_string())?;
    if resolved.plan != *plan {
        return Err(format!("{} now gives another plan (its sweep was changed since)", path.display()));
    }
    Ok(resolved)
}

fn run_inner(
    path: &Path,
    overrides: &[String],
    base: &config::Loaded,
    spec: &SweepSpec,
    opts: &SweepOptions,
) -> Result<i32, CliError> {
    let start = Instant::now();
    let name = &base.config.experiment.name;
    let resolved =
        plan::resolve(path, overrides, name, spec, &|key, message| key_error(path, overrides, key, message))?;
    let plan = &resolved.plan;
    // The config's text, read once: it names the default folder and a shard's plan id.
    let config_text = backprop_cli::fsutil::read_input_text(path, backprop_cli::fsutil::CONFIG_LIMIT, "config")?;
    let dir = match &opts.out {
        Some(d) => d.clone(),
        None => Path::new("runs").join(name).join(format!("sweep-{}", plan::sweep_id(&config_text, overrides))),
    };
    let trials_dir = dir.join("trials");
    std::fs::create_dir_all(&trials_dir).map_err(|e| CliError::create_dir(&trials_dir, &e))?;
    let _locks = lock(&dir, opts.shard)?;
    // Setting up (moving trials, planning what to run) one run at a time: a shard starting
    // beside another waits here until the other's moves are done and its share is planned, so
    // that it neither plans on directories being moved nor runs over a result just moved in.
    let setting_up = open_lock_file(&dir, SETUP_LOCK_FILE)?;
    setting_up.lock().map_err(|e| CliError::io(dir.join(SETUP_LOCK_FILE), e))?;
    remove_abandoned_temps(&dir)?;
    // The files the trials read, fingerprinted before any trial reads them: a file rewritten
    // while the sweep runs is recorded as it was at the start (its trials then run again next
    // time), not as it was when each trial's files were written.
    for point in &resolved.points {
        trial::fingerprint_inputs(point);
    }
    // The directory may hold the sweep of another config: its plan (which another shard may
    // have written) is replaced, and its trials, if they count at all, are run again. Say so.
    let replaced = Plan::read(&dir).is_ok_and(|old| Plan { config: plan.config.clone(), ..old } != *plan);
    if let (Some(own), Some(own_file)) = (opts.shard, _locks.get(1)) {
        // Each shard writes into its lock file which plan it runs (the config's text and the
        // plan), so that a shard starting beside it can tell: one of another config is refused
        // (taking the folder over would waste the running shard's work, whose trials would
        // count as stale), shards of this one run side by side. One whose file is still empty
        // (it has just started) counts as this config's.
        let plan_json = serde_json::to_string(plan).unwrap_or_default();
        let id = backprop_cli::model_file::text_hash(&format!("{config_text}\n{plan_json}"));
        write_plan_id(own_file, &dir, own, &id)?;
        if let Some((part, of, _)) =
            running_shards(&dir, own)?.into_iter().find(|(.., other)| !other.is_empty() && *other != id)
        {
            return Err(CliError::Config(format!(
                "{} holds the sweep of another config, and its shard {part}/{of} is running; wait for it to \
                 finish, or give this one another --out",
                dir.display()
            )));
        }
    }
    // Finished trials this plan numbers otherwise are moved to their numbers; not by a shard
    // while another runs, whose trials' directories it would move.
    let share = match opts.shard {
        Some(own) if !running_shards(&dir, own)?.is_empty() => Some(own),
        _ => None,
    };
    let (moved, kept_aside) = reuse_renumbered(&dir, &resolved, share)?;
    if moved > 0 {
        errln!(
            "Reused {moved} finished trials of an earlier plan of {}, moved to their numbers in this one",
            dir.display()
        );
    }
    if kept_aside > 0 {
        errln!(
            "note: {kept_aside} finished trials in {} are of another config, plan or data, which this one has no \
             use for: set aside as trials/.moving-N, for a later plan to take back",
            dir.display()
        );
    }
    let stale =
        plan.trials.par_iter().filter(|t| trial::is_stale(&dir.join(&t.dir), &resolved.trial_config(t))).count();
    // Another config's results are here: a plan of another shape, or trials run under another
    // config (the same plan from another file).
    let another = replaced || stale > 0 || kept_aside > 0;
    if another {
        // The other config's tables and plots: gone before any trial runs, so that a run stopped
        // early does not leave them beside this plan as if they were its results.
        let reports = ["summary.md", "summary.csv", "trials.csv", "curves.svg"];
        let plots = std::fs::read_dir(&dir).map_err(|e| CliError::io(&dir, e))?.flatten().map(|e| e.file_name());
        let plots: Vec<_> =
            plots.filter(|n| n.to_str().is_some_and(|n| n.starts_with("metric_vs_") && n.ends_with(".svg"))).collect();
        for name in reports.iter().map(std::ffi::OsString::from).chain(plots) {
            match std::fs::remove_file(dir.join(&name)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(CliError::io(dir.join(&name), e)),
                _ => {}
            }
        }
        let by = if opts.shard.is_some() {
            " (each by its shard, or by a run without --shard; until then `collect` counts them as missing)"
        } else {
            ""
        };
        if replaced {
            let redo = match stale {
                0 => String::new(),
                n => format!(", and {n} trials whose directories hold the old plan's results will be run again{by}"),
            };
            errln!(
                "warning: {} holds a sweep of another config or plan: its plan ({}) is replaced by this one's{redo}",
                dir.display(),
                plan::PLAN_FILE,
            );
        } else if stale > 0 {
            errln!(
                "warning: {stale} trials in {} ran under another config than this one (their config.toml \
                 differs) or read a data file changed since (their summary's `inputs`), and will be redone{by}",
                dir.display(),
            );
        }
    }
    plan.write(&dir)?;

    let mine: Vec<&plan::Trial> =
        plan.trials.iter().filter(|t| opts.shard.is_none_or(|s| t.index % s.of == s.part - 1)).collect();
    let todo: Vec<&plan::Trial> =
        mine.iter().copied().filter(|t| !trial::is_done(&dir.join(&t.dir), &resolved.trial_config(t))).collect();
    drop(setting_up);
    // No more threads than trials to run (each job also has an I/O thread).
    let jobs = opts.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let jobs = jobs.clamp(1, todo.len().max(1));
    let shard_note = opts.shard.map(|s| format!(" (shard {}/{})", s.part, s.of)).unwrap_or_default();
    errln!(
        "Sweep {}: {} × {} = {} trials{shard_note}; {} to run, {} already done; {jobs} at a time",
        dir.display(),
        report::count(plan.points.len(), "point"),
        report::count(plan.seeds as usize, "seed"),
        plan.trials.len(),
        todo.len(),
        mine.len() - todo.len(),
    );
    if let Some(note) = units_note(plan) {
        errln!("warning: {note}");
    }
    if let Some(note) = repeats_note(plan) {
        errln!("warning: {note}");
    }
    if let Some(note) = shared_lr_note(plan, path, overrides, base) {
        errln!("warning: {note}");
    }

    // Ctrl-C: no trial starts after it, those running stop after their epoch (their results
    // missing, as a killed trial's), and the sweep says how to go on; a second press exits at once.
    backprop_cli::run::install_interrupt_handler();
    let Ran { failed, cut_short } = run_trials(&dir, &resolved, &todo, mine.len() - todo.len(), mine.len(), jobs)?;
    // (A press once every trial has run, or while the tables are written, stops nothing.)
    if cut_short > 0 {
        let done = mine.iter().filter(|t| trial::is_done(&dir.join(&t.dir), &resolved.trial_config(t))).count();
        // The tables of the trials done so far, to look at while the sweep waits (each says how
        // many of the plan's trials it holds); a shard's are `collect`'s to write.
        let tables = if opts.shard.is_none() && done > 0 {
            report::write_all(&dir, plan, Some(&resolved))?;
            format!("; the tables in {} hold those so far", dir.display())
        } else {
            String::new()
        };
        errln!(
            "Interrupted: {done} of {} trials have their results{tables}; run the same command again to go on \
             from there",
            mine.len()
        );
        return Ok(130);
    }

    if let Some(s) = opts.shard {
        errln!(
            "Shard {}/{} done ({failed} failed). Once every shard is done: cargo xtask collect {}",
            s.part,
            s.of,
            dir.display()
        );
        return Ok(if failed > 0 { 1 } else { 0 });
    }
    let report = report::write_all(&dir, plan, Some(&resolved))?;
    let code = finish(&dir, plan, &report);
    outln!(
        "peer=backprop workload={name}_sweep trials={} ran={} ms={:.1} threads={jobs}",
        plan.trials.len(),
        todo.len(),
        start.elapsed().as_secs_f64() * 1e3
    );
    Ok(code)
}

/// Prints the summary table and where the files are; the exit status.
fn finish(dir: &Path, plan: &Plan, report: &report::Report) -> i32 {
    outln!("{}", report.markdown);
    outln!("Sweep directory: {}", dir.display());
    if report.missing > 0 {
        let stale = match report.stale {
            0 => String::new(),
            n => format!(
                ", {n} of them because they ran under another config than the plan's in {}, or read a data \
                 file changed since",
                dir.join(plan::PLAN_FILE).display()
            ),
        };
        errln!(
            "warning: {} of {} trials have no result yet{stale} (run the missing shards, or the sweep again, then collect)",
            report.missing,
            plan.trials.len()
        );
    }
    match report.failed {
        0 => {}
        1 => errln!("warning: 1 trial failed; its reason is in trials.csv and its failed.json"),
        n => errln!("warning: {n} trials failed; their reasons are in trials.csv and their failed.json"),
    }
    if report.missing > 0 || report.failed > 0 { 1 } else { 0 }
}

/// What [`run_trials`] did.
struct Ran {
    /// Trials that failed (or whose files could not be written).
    failed: usize,
    /// Trials that Ctrl-C kept from starting or stopped: no result, not a failure.
    cut_short: usize,
}

/// Runs `todo` on `jobs` threads with a progress display.
fn run_trials(
    dir: &Path,
    resolved: &Resolved,
    todo: &[&plan::Trial],
    done_before: usize,
    total: usize,
    jobs: usize,
) -> Result<Ran, CliError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| CliError::Failed(format!("cannot start {jobs} threads: {e}")))?;
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(total as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} trials  {msg}  elapsed {elapsed}  ETA {eta}")
                .expect("the template is valid"),
        );
        bar.set_position(done_before as u64);
        bar.set_message("0 diverged, 0 failed");
        bar
    });
    let (finished, diverged, failed) = (AtomicUsize::new(done_before), AtomicUsize::new(0), AtomicUsize::new(0));
    let cut_short = AtomicUsize::new(0);
    let plan = &resolved.plan;
    let metric = &plan.success.metric;
    // Each trial's files go to I/O threads, which write them (an fsync each) while the compute
    // threads run the next trials: a half-adder trial waited for the disk about half as long as
    // it computed. The queue is bounded, so a slow disk holds the trials back, not memory.
    // Each trial's files travel with the lock on its directory (`trial::lock`), which the
    // writer lets go once they are written.
    let (queue, pending) = mpsc::sync_channel::<(RunFiles, Option<std::fs::File>)>(2 * jobs);
    // The writers own the receiving end: should they all stop, sending fails instead of waiting.
    let pending = Arc::new(Mutex::new(pending));
    std::thread::scope(|scope| {
        let failed = &failed;
        // One writer per job, at least two: writers mostly wait for `fsync`, and the file
        // system commits concurrent ones together, so more jobs do not queue behind one disk wait.
        for _ in 0..jobs.max(2) {
            let pending = Arc::clone(&pending);
            scope.spawn(move || {
                let next = || pending.lock().unwrap_or_else(PoisonError::into_inner).recv();
                while let Ok((files, held)) = next() {
                    // The trial's progress line, printed when it finished training, said how
                    // it trained; this says that its result is still missing.
                    let trial_dir = files.dir().to_path_buf();
                    if let Err(reason) = trial::write(files, held) {
                        failed.fetch_add(1, Ordering::Relaxed);
                        errln!("warning: {} trained, but its files were not written: {reason}", trial_dir.display());
                    }
                }
            });
        }
        drop(pending);
        pool.install(|| {
            todo.par_iter().for_each(|t| {
                if backprop_cli::run::interrupted() {
                    cut_short.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                let t0 = Instant::now();
                let (trial_dir, config) = (dir.join(&t.dir), resolved.trial_config(t));
                let (result, files, held) = match trial::lock(&trial_dir, &config) {
                    Ok(held) => {
                        let (result, files) = trial::run(&trial_dir, &config);
                        (result, files, held)
                    }
                    Err(busy) => (busy, None, None),
                };
                if result.status == Status::Missing && backprop_cli::run::interrupted() {
                    // Stopped by Ctrl-C: not a result, nor a failure; run again next time.
                    cut_short.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                if let Some(files) = files
                    && let Err(unsent) = queue.send((files, held))
                {
                    // Only if every writer has stopped: the trial has no result on disk.
                    failed.fetch_add(1, Ordering::Relaxed);
                    errln!("warning: {} trained, but its files were not written", unsent.0.0.dir().display());
                }
                match result.status {
                    Status::Diverged => diverged.fetch_add(1, Ordering::Relaxed),
                    Status::Failed | Status::Missing => failed.fetch_add(1, Ordering::Relaxed),
                    Status::Ok => 0,
                };
                let n = finished.fetch_add(1, Ordering::Relaxed) + 1;
                match &bar {
                    Some(bar) => {
                        bar.inc(1);
                        bar.set_message(format!(
                            "{} diverged, {} failed",
                            diverged.load(Ordering::Relaxed),
                            failed.load(Ordering::Relaxed)
                        ));
                    }
                    None => {
                        let value = result.number(metric).map(|v| format!(" {metric}={v:.6e}")).unwrap_or_default();
                        let reason =
                            if result.reason.is_empty() { String::new() } else { format!(" ({})", result.reason) };
                        errln!(
                            "[{n:>w$}/{total}] trial {:05} {}{value}{reason}  {} seed#{}  {:.3} s",
                            t.index,
                            result.status.name(),
                            plan.point_label(t.point),
                            t.seed_index,
                            t0.elapsed().as_secs_f64(),
                            w = total.to_string().len(),
                        );
                    }
                }
            });
        });
        // The writers finish the queue, then stop; the scope waits for them.
        drop(queue);
    });
    if let Some(bar) = bar {
        bar.finish();
    }
    Ok(Ran { failed: failed.into_inner(), cut_short: cut_short.into_inner() })
}

/// Why the sweep's costs may not compare: it varies `data.normalize_targets` (or the whole
/// `data` table), so some points' costs are of scaled targets and others of the targets' own,
/// while its success metric is a cost. `None` when they compare.
fn units_note(plan: &Plan) -> Option<String> {
    let varies = plan.keys.iter().any(|k| k == "data" || k == "data.normalize_targets");
    (varies && plan.success.metric.ends_with("cost")).then(|| {
        format!(
            "the sweep varies data.normalize_targets, so its points' `{}` are in different units (the scaled \
             targets' or the targets' own) and rank nothing; rank by the report's `r2`, `mse` or `mae` (in the \
             targets' own units): [sweep] success = {{ metric = \"r2\" }}",
            plan.success.metric
        )
    })
}

/// Moves finished trials to the numbers this plan gives their configs: a grid extended with a
/// value, or run again with more `seeds`, numbers its trials otherwise (trial = point × seeds +
/// k), and a trial found done under another number (the same config, its seed included, on the
/// same data: [`trial::finished_config`]) is the same run, not one to redo. Every trial
/// directory is a candidate: an earlier plan's beyond this one's count, and those set aside as
/// `trials/.moving-N`. A finished trial in one of this plan's directories that the plan has no
/// use for there is set aside too (`.moving-N`), for a later plan to take back (a grid shrunk,
/// then grown again; its data file changed, then restored), rather than run over; a trial
/// already done in its own directory stays, and a directory another run holds (its lock) is
/// left alone. With `share` (a shard while others run) nothing moves, and only the shard's own
/// directories are set aside. The sources are set aside
/// first, then each moves into its place: no finished result is lost, and a run killed between
/// the two steps is finished by the next. Returns how many moved, and how many were set aside
/// without a place in this plan.
fn reuse_renumbered(dir: &Path, resolved: &plan::Resolved, share: Option<Shard>) -> Result<(usize, usize), CliError> {
    use std::collections::{HashMap, HashSet};
    let trials_dir = dir.join("trials");
    let entries = std::fs::read_dir(&trials_dir).map_err(|e| CliError::io(&trials_dir, e))?;
    let names: Vec<String> = entries.flatten().filter_map(|e| e.file_name().into_string().ok()).collect();
    // Every directory locked until the moves are done, finished or not: one another run holds
    // (a `--resume` of a trial, which removed its summary when it started) is neither moved,
    // set aside nor moved into.
    let mut busy: HashSet<String> = HashSet::new();
    let mut held = Vec::new();
    for name in &names {
        match backprop_cli::fsutil::lock_run_dir(&trials_dir.join(name)) {
            Ok(lock) => held.extend(lock),
            Err(_) => {
                busy.insert(name.clone());
            }
        }
    }
    // Each finished directory's config (on the files as they are now), and those finished on
    // files since changed: set aside too, for the files may come back.
    let configs: Vec<(String, Option<String>, bool)> = names
        .par_iter()
        .filter(|name| !busy.contains(*name))
        .map(|name| {
            let path = trials_dir.join(name);
            (name.clone(), trial::finished_config(&path), trial::finished_on_any_inputs(&path))
        })
        .collect();
    let by_name: HashMap<String, String> =
        configs.iter().filter_map(|(name, config, _)| Some((name.clone(), config.clone()?))).collect();
    let finished_before: HashSet<String> =
        configs.iter().filter(|(_, config, any)| config.is_none() && *any).map(|(name, ..)| name.clone()).collect();
    let plan = &resolved.plan;
    let wanted: Vec<Option<String>> =
        plan.trials.par_iter().map(|t| trial::config_key(&resolved.trial_config(t))).collect();
    let own = |t: &plan::Trial| t.dir.strip_prefix("trials/").unwrap_or(&t.dir).to_string();
    // Directories already holding their own trial's result are neither moved nor replaced.
    let settled: HashSet<String> = plan
        .trials
        .iter()
        .zip(&wanted)
        .filter(|(t, w)| w.is_some() && by_name.get(&own(t)) == w.as_ref())
        .map(|(t, _)| own(t))
        .collect();
    // The other finished directories, by config, in name order (the same choice every time).
    let mut sources: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut free: Vec<(&String, &String)> = by_name.iter().filter(|(name, _)| !settled.contains(*name)).collect();
    free.sort();
    for (name, config) in free.into_iter().rev() {
        sources.entry(config.as_str()).or_default().push(name.as_str());
    }
    let mut moves: Vec<(String, String)> = Vec::new();
    for (t, w) in plan.trials.iter().zip(&wanted) {
        let target = own(t);
        // A shard beside others moves nothing: their shares' directories are theirs.
        if share.is_some() || settled.contains(&target) || busy.contains(&target) {
            continue;
        }
        if let Some(source) = w.as_deref().and_then(|w| sources.get_mut(w)?.pop()) {
            moves.push((source.to_string(), target));
        }
    }
    // Step 1: every source, and every finished directory of this plan's that is not its own
    // trial's, set aside under a name no trial has (`.moving-00003`, with a count where that
    // name is taken).
    // (A shard beside others sets aside only its own share's: it alone writes them.)
    let numbered: HashSet<String> =
        plan.trials.iter().filter(|t| share.is_none_or(|s| t.index % s.of == s.part - 1)).map(own).collect();
    let parked: Vec<&String> =
        by_name.keys().chain(&finished_before).filter(|n| numbered.contains(*n) && !settled.contains(*n)).collect();
    let moved: HashSet<&String> = moves.iter().map(|(s, _)| s).collect();
    let kept_aside = parked.iter().filter(|n| !moved.contains(*n)).count();
    let mut aside: HashMap<String, String> = HashMap::new();
    let to_set_aside: HashSet<&String> = moves.iter().map(|(s, _)| s).chain(parked).collect();
    let mut to_set_aside: Vec<&String> = to_set_aside.into_iter().collect();
    to_set_aside.sort();
    for source in to_set_aside {
        if source.starts_with(".moving-") {
            aside.insert(source.clone(), source.clone());
            continue;
        }
        let free = (0..).map(|k| if k == 0 { format!(".moving-{source}") } else { format!(".moving-{source}-{k}") });
        let name = free.into_iter().find(|n| !trials_dir.join(n).exists()).expect("a free name");
        let (from, to) = (trials_dir.join(source), trials_dir.join(&name));
        std::fs::rename(&from, &to).map_err(|e| CliError::io(&from, e))?;
        aside.insert(source.clone(), name);
    }
    // Step 2: each into its place, whose leftovers (an unfinished attempt, a stray file) go first.
    for (source, target) in &moves {
        let (from, to) = (trials_dir.join(&aside[source]), trials_dir.join(target));
        let removed = match std::fs::symlink_metadata(&to) {
            Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(&to),
            Ok(_) => std::fs::remove_file(&to),
            Err(e) => Err(e),
        };
        match removed {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(CliError::io(&to, e)),
            _ => {}
        }
        std::fs::rename(&from, &to).map_err(|e| CliError::io(&from, e))?;
    }
    drop(held);
    Ok((moves.len(), kept_aside))
}

/// A grid over `optim.kind` without `optim.lr`, in a config that sets `optim.lr`: every
/// optimiser runs at that one lr (the half adder's 0.5 is 500 times Adam's default), which the
/// summary does not show, and ranks them by it.
fn shared_lr_note(plan: &Plan, path: &Path, overrides: &[String], base: &config::Loaded) -> Option<String> {
    let swept = |key: &str| plan.keys.iter().any(|k| k == key);
    if !swept("optim.kind") || swept("optim.lr") || swept("optim") {
        return None;
    }
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let set = overrides.iter().any(|o| config::set_key(o).is_some_and(|k| config::key_parts(k) == ["optim", "lr"]));
    (set || has_key(&text, "optim.lr")).then(|| {
        format!(
            "the grid sweeps `optim.kind` but not `optim.lr`: every optimiser runs at the config's lr = {}, not at \
             its own default (PyTorch's: adam 0.001, rmsprop 0.01, adadelta 1.0, …); to give each its own, grid \
             whole tables, \"optim\" = [{{ kind = \"sgd\", lr = 0.5 }}, {{ kind = \"adam\" }}, …], or \
             `optim.lr` too",
            base.config.optim.optimizer.lr()
        )
    })
}

/// A random search that drew the same point more than once (few choices, many samples): each
/// repeat trains the same configs from the same seeds again, and the summary lists it again.
/// (A grid refuses a repeated value when it is read.)
fn repeats_note(plan: &Plan) -> Option<String> {
    if plan.mode != spec::Mode::Random {
        return None;
    }
    let mut seen = std::collections::HashSet::new();
    let repeats = plan.points.iter().filter(|p| !seen.insert(&p.values)).count();
    (repeats > 0).then(|| {
        format!(
            "random search drew {} points, {repeats} of them repeating an earlier one ({} distinct): a repeat trains \
             the same trials again; with few choices, a grid covers them once",
            plan.points.len(),
            seen.len()
        )
    })
}

/// 1-based line and column of the dotted `key` (`sweep.grid."optim.lr"`) in TOML `source`: the
/// deepest part of it that is found.
fn locate(source: &str, key: &str) -> Option<(usize, usize)> {
    let doc = toml::de::DeTable::parse(source).ok()?;
    let mut table = doc.get_ref();
    let mut found = None;
    let mut parts = config::key_parts(key).into_iter().peekable();
    while let Some(part) = parts.next() {
        let Some((k, v)) = table.iter().find(|(k, _)| k.get_ref() == &part) else { break };
        found = Some(k.span().start);
        match v.get_ref() {
            toml::de::DeValue::Table(t) if parts.peek().is_some() => table = t,
            _ => break,
        }
    }
    found.map(|offset| config::line_col(source, offset))
}

/// The sweep's lock file; a shard's also locks `.sweep.shard-I-of-N.lock`.
const LOCK_FILE: &str = ".sweep.lock";

/// Held (waiting for it) while a run sets up: moves trials and plans what to run.
const SETUP_LOCK_FILE: &str = ".sweep.setup.lock";

/// Locks the sweep in `dir` for this run, until the returned files are dropped (or the process
/// ends, however it ends: the system releases the locks, so none is ever left stale). A sweep
/// without `--shard` takes `.sweep.lock` alone; a shard shares it with the other shards and
/// takes its own shard's file alone. So a second sweep into a folder in use, a second copy of a
/// shard, or a shard of another split (`--shard 1/3` while `1/2` runs) is refused (exit 2)
/// instead of racing the first over the same trials, while different shards of one split run
/// side by side. Where the file system cannot lock, the sweep runs
/// unlocked, as before.
fn lock(dir: &Path, shard: Option<Shard>) -> Result<Vec<std::fs::File>, CliError> {
    let open = |name: &str| open_lock_file(dir, name);
    let busy = |what: &str| {
        CliError::Config(format!(
            "{} is in use by another `cargo xtask experiment` ({what}); wait for it to finish, or give \
             this one another --out",
            dir.display()
        ))
    };
    let whole = open(LOCK_FILE)?;
    let Some(shard) = shard else {
        return match whole.try_lock() {
            Err(std::fs::TryLockError::WouldBlock) => Err(busy("a sweep or a shard of it")),
            _ => Ok(vec![whole]),
        };
    };
    if let Err(std::fs::TryLockError::WouldBlock) = whole.try_lock_shared() {
        return Err(busy("a sweep without --shard"));
    }
    let own = open(&format!(".sweep.shard-{}-of-{}.lock", shard.part, shard.of))?;
    if let Err(std::fs::TryLockError::WouldBlock) = own.try_lock() {
        return Err(busy(&format!("shard {}/{}", shard.part, shard.of)));
    }
    // Shards of another split (`--shard 1/3` beside `1/2`) would share trials: refused while any
    // holds its file. Each shard locks its own file before it looks, so of two that start
    // together with different splits at least one sees the other.
    let entries = std::fs::read_dir(dir).map_err(|e| CliError::io(dir, e))?;
    for name in entries.flatten().filter_map(|e| e.file_name().into_string().ok()) {
        let Some((part, of)) = shard_lock_name(&name) else { continue };
        if of != shard.of && matches!(open(&name)?.try_lock(), Err(std::fs::TryLockError::WouldBlock)) {
            return Err(busy(&format!("shard {part}/{of}: the sweep is being run in {of} parts, not {}", shard.of)));
        }
    }
    Ok(vec![whole, own])
}

/// Writes `id`, the plan shard `own` runs, into its lock file `file` (held by this process).
fn write_plan_id(mut file: &std::fs::File, dir: &Path, own: Shard, id: &str) -> Result<(), CliError> {
    use std::io::Write;
    let path = dir.join(format!(".sweep.shard-{}-of-{}.lock", own.part, own.of));
    file.set_len(0).and_then(|()| file.write_all(id.as_bytes())).map_err(|e| CliError::io(&path, e))
}

/// The other shards `(I, N, plan id)` running in `dir` now: those whose lock file another
/// process holds, with the plan id each wrote into it (empty when it has not yet). This shard's
/// own file is left alone (by name: where a file system's locks belong to the process, probing
/// it could release this shard's own lock).
fn running_shards(dir: &Path, own: Shard) -> Result<Vec<(usize, usize, String)>, CliError> {
    let entries = std::fs::read_dir(dir).map_err(|e| CliError::io(dir, e))?;
    let mut running = Vec::new();
    for name in entries.flatten().filter_map(|e| e.file_name().into_string().ok()) {
        if let Some((part, of)) = shard_lock_name(&name)
            && (part, of) != (own.part, own.of)
            && matches!(open_lock_file(dir, &name)?.try_lock(), Err(std::fs::TryLockError::WouldBlock))
        {
            let id = std::fs::read_to_string(dir.join(&name)).unwrap_or_default();
            running.push((part, of, id));
        }
    }
    Ok(running)
}

/// `.sweep.lock` in `dir`, shared (as shards hold it), for `collect`: refused (exit 2) while a
/// sweep without --shard holds it.
fn lock_shared(dir: &Path) -> Result<std::fs::File, CliError> {
    let file = open_lock_file(dir, LOCK_FILE)?;
    match file.try_lock_shared() {
        Err(std::fs::TryLockError::WouldBlock) => Err(CliError::Config(format!(
            "{} is in use by a `cargo xtask experiment` without --shard, which writes its own report when \
             it ends; collect once it has",
            dir.display()
        ))),
        _ => Ok(file),
    }
}

/// The lock file `name` in `dir`, made if missing (a shard's holds the id of the plan it runs,
/// see `write_plan_id`; `.sweep.lock` stays empty).
fn open_lock_file(dir: &Path, name: &str) -> Result<std::fs::File, CliError> {
    let path = dir.join(name);
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path);
    file.map_err(|e| CliError::io(&path, e))
}

/// `(I, N)` of a shard's lock file name, `.sweep.shard-I-of-N.lock`.
fn shard_lock_name(name: &str) -> Option<(usize, usize)> {
    let (part, of) = name.strip_prefix(".sweep.shard-")?.strip_suffix(".lock")?.split_once("-of-")?;
    Some((part.parse().ok()?, of.parse().ok()?))
}

/// Removes the temporary files a killed sweep's writers left in the sweep's folder (its plan,
/// tables and plots): those of a writer still running, a shard's, stay
/// ([`backprop_cli::fsutil::abandoned_temp`]).
fn remove_abandoned_temps(dir: &Path) -> Result<(), CliError> {
    let entries = std::fs::read_dir(dir).map_err(|e| CliError::io(dir, e))?;
    for entry in entries.flatten() {
        if entry.file_name().to_str().and_then(backprop_cli::fsutil::abandoned_temp).is_some() {
            backprop_cli::fsutil::remove_if_present(&entry.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_lock_names_parse() {
        assert_eq!(shard_lock_name(".sweep.shard-2-of-8.lock"), Some((2, 8)));
        for other in [".sweep.lock", ".sweep.shard-2-of-8.lock.1.tmp", ".sweep.shard-x-of-8.lock", "shard-2-of-8.lock"]
        {
            assert_eq!(shard_lock_name(other), None, "{other}");
        }
    }

    #[test]
    fn shards_parse() {
        assert_eq!("2/8".parse::<Shard>(), Ok(Shard { part: 2, of: 8 }));
        assert!("0/8".parse::<Shard>().is_err() && "9/8".parse::<Shard>().is_err() && "x".parse::<Shard>().is_err());
    }

    #[test]
    fn keys_are_located() {
        let src = "[train]\nepochs = 1\n\n[sweep]\nseeds = 0\ngrid = { \"optim.lr\" = [] }\n";
        assert_eq!(locate(src, "sweep.seeds"), Some((5, 1)));
        assert_eq!(locate(src, "sweep.grid.\"optim.lr\""), Some((6, 10)));
        assert_eq!(config::key_parts("a.\"b.c\".d"), ["a", "b.c", "d"]);
    }
}
