//! One trial: running it into its directory, and reading back what it left there.
//!
//! A trial is done when its `summary.json` exists (written last and atomically by the run), has
//! the fields a run writes, and its `config.toml` is the config the plan asks for; anything else
//! is run again from scratch.
//! A run that returns an error, or panics, leaves `failed.json` (`{"status", "reason"}`) instead.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use backprop_cli::config::Loaded;
use backprop_cli::fsutil::{abandoned_temp, write_atomic};
use backprop_cli::run::RunFiles;

/// The status of a trial, as `trials.csv` writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Finished with a finite cost.
    Ok,
    /// The cost became NaN or infinite; the summary holds the last good epoch.
    Diverged,
    /// The run returned an error (see `failed.json`).
    Failed,
    /// Not run yet (or interrupted).
    Missing,
}

impl Status {
    /// `ok`, `diverged`, `failed` or `missing`.
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Diverged => "diverged",
            Status::Failed => "failed",
            Status::Missing => "missing",
        }
    }
}

/// What a trial directory says about its run.
#[derive(Clone, Debug)]
pub struct TrialResult {
    /// Its status.
    pub status: Status,
    /// Why it failed or stopped early (empty when it completed).
    pub reason: String,
    /// Its `summary.json`, as a JSON object (empty unless ok or diverged).
    pub summary: serde_json::Map<String, serde_json::Value>,
}

impl TrialResult {
    /// A numeric field of `summary.json`.
    pub fn number(&self, key: &str) -> Option<f64> {
        self.field(key).and_then(serde_json::Value::as_f64)
    }

    /// The summary's field `key`; `r2`, `mse`, `mae`, `bit_accuracy` and `exact_match` are its
    /// regression report's.
    pub fn field(&self, key: &str) -> Option<&serde_json::Value> {
        use crate::sweep::spec::{BIT_METRICS, REPORT_METRICS};
        if REPORT_METRICS.contains(&key) {
            let report = self.summary.get("report").and_then(|r| r.get("regression"));
            return match BIT_METRICS.iter().find(|(m, _)| *m == key) {
                Some((_, field)) => report.and_then(|r| r.get("bits")).and_then(|b| b.get(*field)),
                None => report.and_then(|r| r.get(key)),
            };
        }
        self.summary.get(key)
    }

    /// No result: not run yet, interrupted, or run under another config.
    pub fn missing() -> Self {
        TrialResult { status: Status::Missing, reason: String::new(), summary: Default::default() }
    }
}

/// Whether a JSON value is of a field's type.
type IsType = fn(&serde_json::Value) -> bool;

/// The fields every `summary.json` has (see `backprop_cli::run::RunSummary`), and whether a
/// value is one a run writes there: a float is `null` when it was not finite; seconds are ≥ 0,
/// the stop reason one of the run's. A file edited past that (a stop reason `bogus`) is no
/// summary: the trial runs again. (A cost may be below 0: `bce` on targets outside [0, 1].)
const REQUIRED: [(&str, IsType); 5] = [
    ("final_cost", |v| v.is_number() || v.is_null()),
    ("best_cost", |v| v.is_number() || v.is_null()),
    ("epochs_run", serde_json::Value::is_u64),
    ("train_seconds", |v| v.as_f64().is_some_and(|t| t >= 0.0) || v.is_null()),
    ("stop_reason", |v| {
        v.as_str()
            .is_some_and(|r| ["completed", "diverged", "early_stopping", "stop_below", "interrupted"].contains(&r))
    }),
];

/// The trial's `summary.json` in `dir` as a JSON object, when it is one with every
/// [`REQUIRED`] field of its type; anything else (no file, broken JSON, `{}`) is no summary.
fn read_summary(dir: &Path) -> Option<serde_json::Map<String, serde_json::Value>> {
    let text = std::fs::read_to_string(dir.join("summary.json")).ok()?;
    let serde_json::Value::Object(summary) = serde_json::from_str(&text).ok()? else { return None };
    REQUIRED.iter().all(|(key, is_type)| summary.get(*key).is_some_and(is_type)).then_some(summary)
}

/// Reads the result of the trial in `dir`.
pub fn read(dir: &Path) -> TrialResult {
    if let Some(summary) = read_summary(dir) {
        return from_summary(summary);
    }
    if let Ok(text) = std::fs::read_to_string(dir.join("failed.json")) {
        let reason = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("reason").and_then(|r| r.as_str()).map(str::to_string))
            .unwrap_or_else(|| "unreadable failed.json".into());
        return TrialResult { status: Status::Failed, reason, summary: Default::default() };
    }
    TrialResult::missing()
}

/// What a trial's `summary.json` (as a JSON object) says about its run.
fn from_summary(summary: serde_json::Map<String, serde_json::Value>) -> TrialResult {
    let stop = summary.get("stop_reason").and_then(|v| v.as_str()).unwrap_or("completed").to_string();
    let epoch = summary.get("stop_epoch").or_else(|| summary.get("epochs_run")).and_then(|v| v.as_u64());
    let (status, reason) = match stop.as_str() {
        "interrupted" => return TrialResult::missing(),
        "diverged" => match epoch {
            Some(0) => (Status::Diverged, "the initial cost is not finite".to_string()),
            Some(e) => {
                let at = summary.get("diverged_at").and_then(|v| v.as_str());
                let at = at.map(|w| format!(" (first non-finite values in {w})")).unwrap_or_default();
                (Status::Diverged, format!("epoch {e}'s update made the cost non-finite{at}"))
            }
            None => (Status::Diverged, "the cost became non-finite".to_string()),
        },
        "completed" => (Status::Ok, String::new()),
        _ => (Status::Ok, stop),
    };
    TrialResult { status, reason, summary }
}

/// Whether the trial in `dir` already ran `loaded`'s config to the end, on the files it reads
/// as they are now ([`inputs_unchanged`]).
pub fn is_done(dir: &Path, loaded: &Loaded) -> bool {
    let parse = |text: &str| toml::from_str::<toml::Table>(text).ok();
    let wanted = toml::to_string(&loaded.config).ok().and_then(|t| parse(&t));
    finished_config(dir).is_some_and(|key| parse(&key) == wanted)
}

/// The config a finished trial in `dir` ran (its `config.toml`, as [`config_key`] writes it), if
/// it finished (a summary that is no interruption's) on the files it read as they are now:
/// the same test as [`is_done`]'s, without a config to compare.
pub fn finished_config(dir: &Path) -> Option<String> {
    let summary = read_summary(dir)?;
    if summary.get("stop_reason").and_then(|r| r.as_str()) == Some("interrupted") || !inputs_unchanged(&summary) {
        return None;
    }
    let text = std::fs::read_to_string(dir.join("config.toml")).ok()?;
    toml::to_string(&toml::from_str::<toml::Table>(&text).ok()?).ok()
}

/// Whether the trial in `dir` finished (a summary that is no interruption's), whatever the
/// files it read are now.
pub fn finished_on_any_inputs(dir: &Path) -> bool {
    read_summary(dir).is_some_and(|s| s.get("stop_reason").and_then(|r| r.as_str()) != Some("interrupted"))
}

/// Fingerprints the files `loaded` reads, so that the trials record them as they were when the
/// sweep started (each file once per process).
pub fn fingerprint_inputs(loaded: &Loaded) {
    if let Ok(text) = toml::to_string(&loaded.config) {
        inputs_of(&text);
    }
}

/// The field of a trial's `summary.json` where the sweep records the fingerprint of each file
/// the trial read (its data files and `model.init_from`), by path.
pub const INPUTS: &str = "inputs";

/// Whether every file a trial read is as it was then, by its summary's [`INPUTS`]: a data file
/// rewritten since makes its result another data's, to run again rather than mix into the
/// tables. A summary without them (an earlier release's) counts as unchanged.
fn inputs_unchanged(summary: &serde_json::Map<String, serde_json::Value>) -> bool {
    let Some(recorded) = summary.get(INPUTS) else { return true };
    let Some(recorded) = recorded.as_object() else { return false };
    recorded
        .iter()
        .all(|(path, print)| print.as_str().is_some_and(|print| fingerprint(Path::new(path)).as_deref() == Some(print)))
}

/// The fingerprints of the files a trial's resolved `config` (TOML text) reads, by path.
fn inputs_of(config: &str) -> BTreeMap<String, String> {
    let Ok(table) = toml::from_str::<toml::Table>(config) else { return BTreeMap::new() };
    backprop_cli::config::PATH_KEYS
        .iter()
        .filter_map(|(section, key)| table.get(*section)?.get(*key)?.as_str())
        .filter_map(|path| Some((path.to_string(), fingerprint(Path::new(path))?)))
        .collect()
}

/// `bytes:FNV-1a` of the file at `path` (`None` when it cannot be read), computed once per
/// file and process: a sweep's trials share their data file, and a file is taken not to change
/// while one sweep runs.
fn fingerprint(path: &Path) -> Option<String> {
    static KNOWN: OnceLock<Mutex<HashMap<PathBuf, Option<String>>>> = OnceLock::new();
    let known = KNOWN.get_or_init(Default::default);
    if let Some(print) = known.lock().unwrap_or_else(PoisonError::into_inner).get(path) {
        return print.clone();
    }
    let print = std::fs::read(path)
        .ok()
        .map(|bytes| format!("{}:{}", bytes.len(), backprop_cli::model_file::bytes_hash(&bytes)));
    known.lock().unwrap_or_else(PoisonError::into_inner).insert(path.to_path_buf(), print.clone());
    print
}

/// `loaded`'s config as [`finished_config`] gives a trial's: equal exactly when [`is_done`] would
/// count that trial done for `loaded`.
pub fn config_key(loaded: &Loaded) -> Option<String> {
    let text = toml::to_string(&loaded.config).ok()?;
    toml::to_string(&toml::from_str::<toml::Table>(&text).ok()?).ok()
}

/// Whether the trial in `dir` has a result (ok or diverged) of another config than `loaded`'s:
/// one that [`is_done`] will not count, so the sweep runs the trial again.
pub fn is_stale(dir: &Path, loaded: &Loaded) -> bool {
    matches!(read(dir).status, Status::Ok | Status::Diverged) && !is_done(dir, loaded)
}

/// Locks the trial's directory `dir` as `backprop train` locks its run directory
/// ([`lock_run_dir`](backprop_cli::fsutil::lock_run_dir)), until the handle is dropped once
/// the trial's files are written: a `backprop train --resume` of the trial, or a `--out` into
/// it, is refused while the sweep runs it. A trial whose directory such a run holds is not run:
/// its failure (the `Err`) leaves the directory as that run writes it.
///
/// The directory is locked here when it exists (an earlier attempt's, which may hold a
/// checkpoint) or when `loaded` writes checkpoints (made here, as the run would make it for its
/// first one); otherwise [`write()`] makes and locks it: a compute thread's `mkdir` waits on the
/// file system's journal while the writers `fsync`, and a run without checkpoints leaves nothing
/// to resume until then.
pub fn lock(dir: &Path, loaded: &Loaded) -> Result<Option<std::fs::File>, TrialResult> {
    if loaded.config.train.checkpoint_every > 0 && std::fs::create_dir_all(dir).is_err() {
        return Ok(None);
    }
    if !dir.is_dir() {
        return Ok(None);
    }
    backprop_cli::fsutil::lock_run_dir(dir).map_err(|_| busy(dir))
}

/// The failure of a trial whose directory another run holds.
fn busy(dir: &Path) -> TrialResult {
    TrialResult {
        status: Status::Failed,
        reason: format!(
            "{} is in use by another run (a `backprop train --resume` of the trial?): not run; run the sweep \
             again once it ends",
            dir.display()
        ),
        summary: Default::default(),
    }
}

/// Runs the trial `loaded` for `dir`: its result, and the run's files, which the caller writes
/// with [`write()`] (that creates `dir` if needed and replaces what an earlier attempt left there);
/// until then the trial is not done on disk. The run itself touches `dir` only to write
/// checkpoints (and then its `config.toml` first). Never panics on a failing run: an error or a
/// panic becomes `failed.json` (and no files).
pub fn run(dir: &Path, loaded: &Loaded) -> (TrialResult, Option<RunFiles>) {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        backprop_cli::run::run_training_deferred(loaded, dir, &mut std::io::sink())
    }));
    let failure = match outcome {
        Ok(Ok((summary, files))) => {
            let result = match serde_json::to_value(&summary) {
                Ok(serde_json::Value::Object(map)) => from_summary(map),
                _ => TrialResult::missing(),
            };
            return (result, Some(files));
        }
        Ok(Err(e)) => record_failure(dir, &e.to_string()),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            record_failure(dir, &format!("panicked: {msg}"))
        }
    };
    (failure, None)
}

/// Writes a trial's files (see [`run`]) into its directory, once an earlier attempt's summary,
/// failure and temporary files are gone; when that fails, records the failure instead, and
/// returns it. `held` is the lock [`lock`] took on the directory; a directory without one (it
/// did not exist then) is locked once made, and left as it is when another run holds it.
pub fn write(mut files: RunFiles, held: Option<std::fs::File>) -> Result<(), String> {
    let dir = files.dir().to_path_buf();
    let made = std::fs::create_dir_all(&dir).map_err(|e| format!("cannot prepare {}: {e}", dir.display()));
    let _held = match (made, held) {
        (Ok(()), None) => backprop_cli::fsutil::lock_run_dir(&dir).map_err(|_| busy(&dir).reason)?,
        (_, held) => held,
    };
    // The files it read, in its summary: a result is never on disk without them.
    let config = files.pending("config.toml").map(|b| String::from_utf8_lossy(b).into_owned());
    let config = config.or_else(|| std::fs::read_to_string(dir.join("config.toml")).ok()).unwrap_or_default();
    let inputs = inputs_of(&config);
    // Added as the summary's last field, its others left as the run wrote them (in their order).
    if let Some(summary) = files.pending_mut("summary.json")
        && let Ok(text) = std::str::from_utf8(summary)
        && let Some(body) = text.rfind('}').map(|end| text[..end].trim_end())
    {
        let inputs = serde_json::to_string(&inputs).expect("a map of strings serialises");
        let with = format!("{body},\n  \"{INPUTS}\": {inputs}\n}}\n");
        if serde_json::from_str::<serde_json::Value>(&with).is_ok() {
            *summary = with.into_bytes();
        }
    }
    let written = prepare_dir(&dir)
        .map_err(|e| format!("cannot prepare {}: {e}", dir.display()))
        .and_then(|()| files.write().map_err(|e| format!("cannot write the run's files: {e}")));
    written.inspect_err(|reason| {
        record_failure(&dir, reason);
    })
}

/// Creates `dir` and removes an earlier attempt's summary, failure and the temporary files its
/// killed writers left (not those of a writer still running: another sweep's).
fn prepare_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "summary.json" || name == "failed.json" || abandoned_temp(&name).is_some() {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

fn record_failure(dir: &Path, reason: &str) -> TrialResult {
    // An earlier attempt's summary would outrank the failure (see `read`).
    let _ = prepare_dir(dir);
    let json = serde_json::json!({ "status": "failed", "reason": reason });
    let text = serde_json::to_string_pretty(&json).expect("json always serialises");
    // The failure is recorded in the result even when the directory is not writable.
    let _ = write_atomic(&dir.join("failed.json"), text.as_bytes());
    TrialResult { status: Status::Failed, reason: reason.to_string(), summary: Default::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A half adder of a few epochs, loaded from a config file in `dir`.
    fn tiny(dir: &Path) -> Loaded {
        let path = dir.join("tiny.toml");
        std::fs::write(&path, "[data]\nsource = \"half_adder\"\n[train]\nepochs = 3\nlog_every = 0\n").unwrap();
        backprop_cli::config::load(&path, &[]).unwrap()
    }

    fn summary(stop_reason: &str) -> String {
        format!(
            "{{\"stop_reason\": \"{stop_reason}\", \"final_cost\": 0.5, \"best_cost\": 0.5, \"epochs_run\": 3, \
             \"train_seconds\": 0.01}}"
        )
    }

    /// A summary's `stop_reason` gives the trial's status: completed is ok with no reason, an
    /// early stop is ok with its reason, diverged names the epoch, interrupted is no result.
    #[test]
    fn stop_reasons_give_the_status() {
        let of = |stop: &str| {
            let serde_json::Value::Object(summary) = serde_json::from_str(&summary(stop)).unwrap() else { panic!() };
            let r = from_summary(summary);
            (r.status, r.reason)
        };
        assert_eq!(of("completed"), (Status::Ok, String::new()));
        assert_eq!(of("early_stopping"), (Status::Ok, "early_stopping".to_string()));
        assert_eq!(of("diverged"), (Status::Diverged, "epoch 3's update made the cost non-finite".to_string()));
        assert_eq!(of("interrupted").0, Status::Missing);
    }

    #[test]
    fn a_summary_without_its_fields_or_of_the_wrong_types_is_no_result() {
        let tmp = tempfile::Builder::new().prefix("bp-trial-").tempdir().unwrap();
        let loaded = tiny(tmp.path());
        let dir = tmp.path().join("trials/00000");
        let (_, files) = run(&dir, &loaded);
        write(files.unwrap(), None).unwrap();
        assert!(is_done(&dir, &loaded));
        let good: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
        let mut bad = vec!["{}".to_string(), r#"{"final_cost": "abc", "stop_reason": 5}"#.to_string()];
        for (key, value) in [
            ("final_cost", "\"abc\""),
            ("train_seconds", "-1"),
            ("epochs_run", "-1"),
            ("stop_reason", "5"),
            ("stop_reason", "\"bogus\""),
        ] {
            let mut v = good.clone();
            v[key] = serde_json::from_str(value).unwrap();
            bad.push(v.to_string());
            v.as_object_mut().unwrap().remove(key);
            bad.push(v.to_string());
        }
        for text in &bad {
            std::fs::write(dir.join("summary.json"), text).unwrap();
            assert_eq!(read(&dir).status, Status::Missing, "{text}");
            assert!(!is_done(&dir, &loaded), "{text}");
        }
        // A cost that was not finite is written as `null`: still a result.
        let mut v = good.clone();
        v["best_cost"] = serde_json::Value::Null;
        std::fs::write(dir.join("summary.json"), v.to_string()).unwrap();
        assert_eq!(read(&dir).status, Status::Ok);
        assert!(is_done(&dir, &loaded));
    }

    #[test]
    fn a_trial_is_written_only_when_asked_and_replaces_an_earlier_attempt() {
        let tmp = tempfile::Builder::new().prefix("bp-trial-").tempdir().unwrap();
        let loaded = tiny(tmp.path());
        let dir = tmp.path().join("trials/00003");
        std::fs::create_dir_all(&dir).unwrap();
        // An earlier attempt: interrupted, then failed, with a temp file left behind.
        std::fs::write(dir.join("summary.json"), summary("interrupted")).unwrap();
        std::fs::write(dir.join("failed.json"), "{\"reason\": \"disk full\"}").unwrap();
        std::fs::write(dir.join(".metrics.csv.4294967295.tmp"), "half").unwrap();
        // And one of a writer still running (this process): not the earlier attempt's.
        let running = format!(".notes.md.{}.tmp", std::process::id());
        std::fs::write(dir.join(&running), "half").unwrap();

        let (result, files) = run(&dir, &loaded);
        assert_eq!(result.status, Status::Ok);
        assert_eq!(result.number("final_cost"), Some(result.summary["final_cost"].as_f64().unwrap()));
        // Not done on disk before its files are written: the run removed the earlier attempt's
        // summary, and only its failure is left until `write`.
        assert_eq!(read(&dir).status, Status::Failed, "not done on disk before its files are written");
        assert!(!is_done(&dir, &loaded));
        write(files.expect("a run that worked has files"), None).unwrap();

        let after = read(&dir);
        assert_eq!((after.status, after.number("final_cost")), (Status::Ok, result.number("final_cost")));
        assert!(is_done(&dir, &loaded));
        assert!(!dir.join("failed.json").exists() && !dir.join(".metrics.csv.4294967295.tmp").exists());
        assert!(dir.join(&running).exists(), "a running writer's temporary file");
    }

    #[test]
    fn a_failure_outranks_an_earlier_summary() {
        let tmp = tempfile::Builder::new().prefix("bp-trial-").tempdir().unwrap();
        let dir = tmp.path().join("trials/00001");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("summary.json"), summary("completed")).unwrap();
        assert_eq!(read(&dir).status, Status::Ok);
        let failed = record_failure(&dir, "no such file: data.csv");
        assert_eq!(failed.status, Status::Failed);
        let on_disk = read(&dir);
        assert_eq!((on_disk.status, on_disk.reason.as_str()), (Status::Failed, "no such file: data.csv"));
        // And a trial directory that does not exist yet gets one for its failure.
        let fresh = tmp.path().join("trials/00002");
        record_failure(&fresh, "panicked: boom");
        assert_eq!(read(&fresh).status, Status::Failed);
    }

    /// A trial's directory is locked by `lock` when it exists (or checkpoints will make it), by
    /// `write` when the run made it (or another did meanwhile); one that another run holds is
    /// left as that run writes it.
    #[test]
    fn a_trial_directory_another_run_holds_is_left_alone() {
        let tmp = tempfile::Builder::new().prefix("bp-trial-").tempdir().unwrap();
        let loaded = tiny(tmp.path());
        let dir = tmp.path().join("trials/00000");
        assert!(lock(&dir, &loaded).unwrap().is_none(), "no directory yet, nor checkpoints: nothing to lock");
        assert!(!dir.exists());
        let (_, files) = run(&dir, &loaded);
        // Another run makes the directory and holds it while the trial trains.
        std::fs::create_dir_all(&dir).unwrap();
        let other = std::fs::File::open(&dir).unwrap();
        other.try_lock().unwrap();
        assert!(lock(&dir, &loaded).unwrap_err().reason.contains("00000 is in use by another run"));
        let reason = write(files.unwrap(), None).unwrap_err();
        assert!(reason.contains("00000 is in use by another run"), "{reason}");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "written into a directory in use");
        // Once it ends, the trial locks its directory, which no other run can then take.
        drop(other);
        let held = lock(&dir, &loaded).unwrap().expect("the directory exists");
        let (_, files) = run(&dir, &loaded);
        write(files.unwrap(), Some(held)).unwrap();
        assert_eq!(read(&dir).status, Status::Ok);
    }

    #[test]
    fn files_that_cannot_be_written_make_a_failed_trial() {
        let tmp = tempfile::Builder::new().prefix("bp-trial-").tempdir().unwrap();
        let loaded = tiny(tmp.path());
        let dir = tmp.path().join("trials/00000");
        let (_, files) = run(&dir, &loaded);
        // A file where the trial's directory should be.
        std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
        std::fs::write(&dir, "not a directory").unwrap();
        let reason = write(files.unwrap(), None).unwrap_err();
        assert!(reason.starts_with("cannot prepare"), "{reason}");
    }
}
