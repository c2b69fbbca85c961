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
    let dir = std::env::temp_dir().join(format!("backprop-xtask-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
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
