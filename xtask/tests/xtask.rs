//! `cargo xtask` end to end: the README's main command and the bench line format.

use std::path::Path;
use std::process::Command;

fn xtask(args: &[&str]) -> (i32, String, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_xtask")).args(args).current_dir(root).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

#[test]
fn experiment_runs_the_config_with_overrides() {
    let tmp = tempfile::Builder::new().prefix("backprop-xtask-").tempdir().unwrap();
    let dir = tmp.path().join("run");
    let (code, stdout, stderr) =
        xtask(&["experiment", "configs/half_adder.toml", "--set", "train.epochs=100", "--out", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("Initial cost:") && stdout.contains("Neural net output:"), "{stdout}");
    let summary = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    assert!(summary.contains("\"epochs_run\": 100"), "{summary}");
    let (code, _, stderr) = xtask(&["experiment", "configs/half_adder.toml", "--set", "optim.lr=0"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("`optim.lr`"), "{stderr}");
}

/// `cargo xtask` refuses a bad `BACKPROP_WAIT_POLICY` as `backprop` does (exit 2, the variable
/// named), for experiments and benchmarks alike.
#[test]
fn a_bad_wait_policy_is_refused() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    for args in [&["experiment", "configs/half_adder.toml", "--set", "train.epochs=1"][..], &["bench", "--reps", "1"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(args)
            .env("BACKPROP_WAIT_POLICY", "eager")
            .current_dir(root)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("BACKPROP_WAIT_POLICY=eager"), "{stderr}");
    }
}

/// W1 in the peers' line format, with the peers' final loss (`4.965354350e-04`).
#[test]
fn bench_prints_the_half_adder_in_the_peer_format() {
    let (code, stdout, stderr) = xtask(&["bench", "--workload", "half_adder", "--reps", "1"]);
    assert_eq!(code, 0, "{stderr}");
    let line = stdout.lines().find(|l| l.starts_with("peer=backprop workload=half_adder")).expect(&stdout);
    assert!(line.contains(" epochs=20000 ") && line.contains(" ms="), "{line}");
    assert!(line.contains(" final_loss=4.965354350e-04 "), "{line}");
    let (code, _, _) = xtask(&["bench", "--workload", "nope"]);
    assert_eq!(code, 2);
}

/// Loading MNIST-sized IDX files has a bench line (issue 4); its time is for `cargo xtask bench`
/// in release, not asserted here.
#[test]
fn bench_reports_idx_loading() {
    let (code, stdout, stderr) = xtask(&["bench", "--workload", "idx_load", "--reps", "1"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.lines().any(|l| l.starts_with("peer=backprop workload=idx_load images=60000 ") && l.contains(" ms=")),
        "{stdout}"
    );
}

/// A workload that cannot run fails the bench (exit 1, the reason on stderr, its scratch files
/// removed), and output lost to a full disk is exit 2, not a silent 0 (a closed pipe is fine).
#[cfg(target_os = "linux")]
#[test]
fn bench_failures_and_lost_output_are_not_exit_0() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let tmp = std::env::temp_dir().join(format!("xtask-bench-fail-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    // A plain file where the scratch folder's parent should be.
    let blocked = tmp.join("file");
    std::fs::write(&blocked, "").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["bench", "--workload", "idx_load", "--reps", "1"])
        .env("TMPDIR", &blocked)
        .current_dir(root)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: idx_load: cannot write the test files"), "{stderr}");
    assert!(out.stdout.is_empty());
    std::fs::remove_dir_all(&tmp).unwrap();

    use std::os::unix::fs::FileTypeExt;
    if !std::fs::metadata("/dev/full").is_ok_and(|m| m.file_type().is_char_device()) {
        return;
    }
    for args in [&["bench", "--workload", "half_adder", "--reps", "1"][..], &["--help"]] {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_xtask")).args(args).stdout(full).current_dir(root).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("standard output"), "{stderr}");
    }
}

/// `--peers` checks the harness and its Python before running any workload of ours: a missing
/// harness or Python is exit 2 at once, with no `peer=backprop` line printed.
#[test]
fn bench_peers_checks_the_harness_and_python_first() {
    let run = |dir: &Path, python: Option<&str>| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
        cmd.args(["bench", "--peers", "--workload", "half_adder"])
            .current_dir(root)
            .env("BACKPROP_PEER_DIR", dir)
            .env_remove("BACKPROP_PEER_PY")
            .env_remove("PY");
        if let Some(p) = python {
            cmd.env("BACKPROP_PEER_PY", p);
        }
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let tmp = tempfile::Builder::new().prefix("backprop-peers-").tempdir().unwrap();
    let dir = tmp.path();
    let (code, stdout, stderr) = run(dir, None);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("no peer harness at") && stderr.contains("BACKPROP_PEER_DIR"), "{stderr}");
    assert!(!stdout.contains("peer=backprop"), "ran our workloads first: {stdout}");

    std::fs::write(dir.join("run.sh"), "exit 0\n").unwrap();
    let (code, stdout, stderr) = run(dir, None);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("$BACKPROP_PEER_PY"), "{stderr}");
    assert!(!stdout.contains("peer=backprop"), "{stdout}");

    // A "Python" that imports nothing (`false` fails every `-c import …`).
    let (code, stdout, stderr) = run(dir, Some("false"));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("imports none of numpy, jax, torch"), "{stderr}");
    assert!(!stdout.contains("peer=backprop"), "{stdout}");
}

/// With a harness (here a stand-in `run.sh` that prints one peer line, for the peer named with
/// `--peer`), `--peers` prints our lines, the peer's, and our throughput over the peer's.
#[test]
fn bench_peers_prints_the_ratio_to_each_peer_line() {
    let tmp = tempfile::Builder::new().prefix("backprop-peers-ok-").tempdir().unwrap();
    let dir = tmp.path();
    // The peer's W1 took 100 s: ours is faster, whatever the build profile.
    let script = "[ \"$1\" = numpy ] && [ \"$PEER_WORKLOADS\" = half_adder ] && \
                  echo 'peer=numpy workload=half_adder epochs=20000 ms=100000.0 final_loss=4.965354350e-04'\n";
    std::fs::write(dir.join("run.sh"), script).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["bench", "--peers", "--peer", "numpy", "--workload", "half_adder", "--reps", "1"])
        .current_dir(root)
        .env("BACKPROP_PEER_DIR", dir)
        .env("BACKPROP_PEER_PY", "python-not-needed")
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let ms: f64 = stdout
        .lines()
        .find(|l| l.starts_with("peer=backprop workload=half_adder"))
        .and_then(|l| l.split_whitespace().find_map(|kv| kv.strip_prefix("ms=")))
        .expect(&stdout)
        .parse()
        .unwrap();
    assert!(stdout.contains("peer=numpy workload=half_adder"), "{stdout}");
    let ratio: f64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("# ratio workload=half_adder peer=numpy ours_over_peer="))
        .expect(&stdout)
        .parse()
        .unwrap();
    assert!((ratio - 100_000.0 / ms).abs() <= 0.01 * ratio + 0.01, "ratio {ratio}, ours {ms} ms");
}
