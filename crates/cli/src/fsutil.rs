//! Files that are either complete or absent: every output is written to a temp file beside its
//! target, flushed, then renamed over it, so an interrupted run never leaves a file that looks
//! complete but is not.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::CliError;

/// Writes `bytes` to `path` atomically (temp file + fsync + rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        CliError::io(path, e)
    })
}

/// `NAME` when `file_name` is a temporary file of [`write_atomic`] (`.NAME.PID.tmp`) whose
/// writer is no longer running: a writer killed before its rename left it, and nothing will
/// finish or read it. `None` for any other name, and while the process `PID` runs (it may be
/// writing: a `backprop plot` of a run directory, or a shard of the same sweep). A process
/// counts as running when it is this one, or when `/proc/PID` exists; where the system has no
/// `/proc` (not Linux) no other process is known to run, and every such file counts as left.
/// A writer's PID taken over by a new process keeps its file: a hidden file that nothing reads.
pub fn abandoned_temp(file_name: &str) -> Option<&str> {
    let (name, pid) = file_name.strip_prefix('.')?.strip_suffix(".tmp")?.rsplit_once('.')?;
    if name.is_empty() || pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let running =
        pid.parse::<u32>().is_ok_and(|pid| pid == std::process::id()) || Path::new("/proc").join(pid).exists();
    (!running).then_some(name)
}

/// Removes the file at `path`; one already gone (another process removed it first) is no error.
pub fn remove_if_present(path: &Path) -> Result<(), CliError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(CliError::io(path, e)),
        _ => Ok(()),
    }
}

/// The most bytes a config file may hold (16 MiB; configs are a few hundred bytes).
pub const CONFIG_LIMIT: u64 = 16 << 20;
/// The most bytes a model file or a `metrics.csv` may hold (16 GiB: about the JSON
/// of the largest network a config allows, 2³¹ parameters, at 8 bytes each).
pub const MODEL_LIMIT: u64 = 16 << 30;

/// The bytes of the input file at `path` (a `what`: "config", "model file", …): a regular
/// file or a pipe of at most `limit` bytes. A device (`/dev/zero`, a terminal) or a directory
/// is refused at once, and a longer file or pipe when the limit is passed, instead of being
/// read into memory without end.
pub fn read_input(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>, CliError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| CliError::io(path, e))?;
    let meta = file.metadata().map_err(|e| CliError::io(path, e))?;
    let kind = meta.file_type();
    #[cfg(unix)]
    let pipe = std::os::unix::fs::FileTypeExt::is_fifo(&kind);
    #[cfg(not(unix))]
    let pipe = false;
    if !kind.is_file() && !pipe {
        let is = if kind.is_dir() { "is a directory" } else { "not a regular file" };
        return Err(CliError::Input(format!("{}: {is}: a {what} is read from a file or a pipe", path.display())));
    }
    let size = if limit >= 1 << 20 { format!("{} MiB", limit >> 20) } else { format!("{limit} bytes") };
    let too_large = || CliError::Input(format!("{}: larger than {size}, too large for a {what}", path.display()));
    if meta.len() > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes).map_err(|e| CliError::io(path, e))?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// [`read_input`] as UTF-8 text.
pub fn read_input_text(path: &Path, limit: u64, what: &str) -> Result<String, CliError> {
    String::from_utf8(read_input(path, limit, what)?).map_err(|_| {
        CliError::io(path, std::io::Error::new(std::io::ErrorKind::InvalidData, "stream did not contain valid UTF-8"))
    })
}

/// A new, empty run directory `root/<name>/<UTC time>` (with `-2`, `-3`, … when taken).
pub fn new_run_dir(root: &Path, name: &str) -> Result<PathBuf, CliError> {
    let parent = root.join(name);
    std::fs::create_dir_all(&parent).map_err(|e| CliError::create_dir(&parent, &e))?;
    let stamp = utc_stamp(SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()));
    for k in 1.. {
        let dir = if k == 1 { parent.join(&stamp) } else { parent.join(format!("{stamp}-{k}")) };
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(CliError::create_dir(&dir, &e)),
        }
    }
    unreachable!("the loop only ends by returning")
}

/// `YYYYMMDD-HHMMSS` for seconds since the Unix epoch, in UTC.
fn utc_stamp(secs: u64) -> String {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}{m:02}{d:02}-{:02}{:02}{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Locks the run directory `dir` for this process until the returned handle is dropped (or
/// the process ends, however it ends: the system releases the lock, so none is ever left
/// stale). The directory itself is locked, so that no file is left in it. A second `train
/// --out` into the same directory, or a `--resume` of it, while one runs is refused (exit 2):
/// the two wrote one directory's files in turn, a config of one beside a model of the other.
/// Where the directory cannot be opened or locked (a file system without locks, a platform
/// that does not open directories), the run goes on unlocked.
pub fn lock_run_dir(dir: &Path) -> Result<Option<std::fs::File>, CliError> {
    let Ok(handle) = std::fs::File::open(dir) else { return Ok(None) };
    match handle.try_lock() {
        Ok(()) => Ok(Some(handle)),
        Err(std::fs::TryLockError::WouldBlock) => Err(CliError::Input(format!(
            "{}: in use by another run (`backprop train` or `--resume` of it); wait for it to finish, or give \
             this one another --out",
            dir.display()
        ))),
        Err(std::fs::TryLockError::Error(_)) => Ok(None),
    }
}

/// `n` bytes for a person: `3.0 GiB`, `12.5 MiB`, `7 KiB` (rounded up), `0 KiB`.
pub fn size_text(n: usize) -> String {
    const KIB: f64 = 1024.0;
    let n = n as f64;
    if n >= KIB * KIB * KIB {
        format!("{:.1} GiB", n / (KIB * KIB * KIB))
    } else if n >= KIB * KIB {
        format!("{:.1} MiB", n / (KIB * KIB))
    } else {
        format!("{} KiB", (n / KIB).ceil())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_utc_calendar_times() {
        assert_eq!(utc_stamp(0), "19700101-000000");
        assert_eq!(utc_stamp(1_796_000_000), "20261130-005320");
        assert_eq!(utc_stamp(951_782_400), "20000229-000000");
        // Around 1 March (the algorithm's years start there) and the century rules; the
        // expected stamps are Python's `datetime` at these Unix times.
        for (secs, stamp) in [
            (68_299_200, "19720301-120000"),
            (920_289_600, "19990301-120000"),
            (4_107_499_200, "21000228-120000"),
            (4_107_585_600, "21000301-120000"),
            (13_574_606_400, "24000229-120000"),
        ] {
            assert_eq!(utc_stamp(secs), stamp, "{secs}");
        }
    }

    /// A run folder is named by its UTC second, with `-2`, `-3`, … when that name is taken.
    #[test]
    fn run_folders_take_the_next_free_name() {
        let root = tempfile::tempdir().unwrap();
        let now = || utc_stamp(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs());
        // Retried when the clock passes a second between reading it and making the folders.
        for _ in 0..5 {
            let stamp = now();
            let parent = root.path().join(&stamp);
            let first = new_run_dir(&parent, "exp").unwrap();
            let second = new_run_dir(&parent, "exp").unwrap();
            std::fs::create_dir(parent.join("exp").join(format!("{stamp}-3"))).unwrap();
            let fourth = new_run_dir(&parent, "exp").unwrap();
            if now() != stamp {
                continue;
            }
            let names = [first, second, fourth].map(|d| d.file_name().unwrap().to_str().unwrap().to_string());
            assert_eq!(names, [stamp.clone(), format!("{stamp}-2"), format!("{stamp}-4")]);
            return;
        }
        panic!("the clock passed a second five times running");
    }

    /// Up to the limit a file is read whole; one byte more is refused, naming the file.
    #[test]
    fn inputs_are_read_up_to_their_limit() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "0123456789").unwrap();
        assert_eq!(read_input_text(&p, 10, "config").unwrap(), "0123456789");
        let e = read_input(&p, 9, "config").unwrap_err().to_string();
        assert!(e.contains("c.toml: larger than 9 bytes, too large for a config"), "{e}");
    }

    /// A writer's temporary file counts as abandoned once its process has ended, not while it
    /// runs; other names never.
    #[test]
    fn abandoned_temps_are_those_of_ended_writers() {
        let mut running = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        let mut ended = std::process::Command::new("true").spawn().unwrap();
        ended.wait().unwrap();
        let (me, alive, dead) = (std::process::id(), running.id(), ended.id());
        assert_eq!(abandoned_temp(&format!(".model.json.{dead}.tmp")), Some("model.json"));
        assert_eq!(abandoned_temp(".metrics.csv.4294967295.tmp"), Some("metrics.csv"));
        assert_eq!(abandoned_temp(".a.b.4294967296.tmp"), Some("a.b"), "no such PID either");
        for kept in [format!(".model.json.{me}.tmp"), format!(".model.json.{alive}.tmp")] {
            assert_eq!(abandoned_temp(&kept), None, "{kept}: its writer runs");
        }
        let others = ["model.json", ".model.json.tmp", ".notes.tmp", "..1.tmp", "..4294967295.tmp", ".x.1a.tmp"];
        for other in others.into_iter().chain([".x.1.tmp.bak", "x.1.tmp"]) {
            assert_eq!(abandoned_temp(other), None, "{other}");
        }
        running.kill().unwrap();
        running.wait().unwrap();
        assert_eq!(abandoned_temp(&format!(".model.json.{alive}.tmp")), Some("model.json"), "once it ended");
    }

    /// A pipe is read up to its limit too: one byte more is refused, not cut off (a pipe has no
    /// size to check first).
    #[cfg(target_os = "linux")]
    #[test]
    fn pipes_are_read_up_to_their_limit() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("config.pipe");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let read = |text: &'static str, limit| {
            let writer = {
                let fifo = fifo.clone();
                std::thread::spawn(move || std::fs::write(fifo, text).unwrap())
            };
            let got = read_input(&fifo, limit, "config");
            writer.join().unwrap();
            got
        };
        assert_eq!(read("0123456789", 10).unwrap(), b"0123456789");
        let e = read("0123456789A", 10).unwrap_err().to_string();
        assert!(e.contains("config.pipe: larger than 10 bytes, too large for a config"), "{e}");
    }

    /// A file already gone is no error (another process removed it first); a failure to remove
    /// one that is there is.
    #[test]
    fn removing_a_missing_file_is_no_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(remove_if_present(&dir.path().join("gone.json")).is_ok());
        let sub = dir.path().join("a-folder");
        std::fs::create_dir(&sub).unwrap();
        let e = remove_if_present(&sub).unwrap_err().to_string();
        assert!(e.contains("a-folder"), "{e}");
        assert!(sub.exists());
    }

    #[test]
    fn atomic_write_replaces_whole_files() {
        let tmp = tempfile::Builder::new().prefix("bp-fsutil-").tempdir().unwrap();
        let dir = tmp.path();
        let p = dir.join("x.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir).unwrap().count(), 1, "no temp file left behind");
    }
}
