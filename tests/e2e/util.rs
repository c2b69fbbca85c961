//! Helpers shared by the end-to-end tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the repository").to_path_buf()
}

/// A file under `tests/fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    root().join("tests/fixtures").join(rel)
}

/// A fresh, empty scratch folder for one test, removed when dropped (the test passing or
/// panicking): keep it bound while its `.path()` is in use.
pub fn scratch(name: &str) -> TempDir {
    tempfile::Builder::new().prefix(&format!("backprop-e2e-{name}-")).tempdir().expect("temp dir is writable")
}

/// The result of one run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// Runs `backprop ARGS…` from the repository root.
pub fn backprop(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_backprop-e2e"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the test binary runs");
    let run = Run::from(out);
    assert!(!run.stderr.contains("panicked"), "backprop {args:?} panicked:\n{}", run.stderr);
    run
}

/// `backprop train configs/half_adder.toml --set S… --out OUT`: the post's config with overrides.
pub fn train_half_adder(out: &Path, sets: &[&str]) -> Run {
    let mut args = vec!["train", "configs/half_adder.toml"];
    for s in sets {
        args.extend(["--set", s]);
    }
    args.extend(["--out", out.to_str().expect("scratch paths are UTF-8")]);
    backprop(&args)
}

/// Reads a JSON file.
pub fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every number of a model file's or grad output's layers, in order.
pub fn layer_numbers(v: &serde_json::Value) -> Vec<f64> {
    let mut out = Vec::new();
    for layer in v["layers"].as_array().expect("layers") {
        for row in layer["weights"].as_array().expect("weights") {
            out.extend(row.as_array().expect("row").iter().map(|x| x.as_f64().expect("number")));
        }
        out.extend(layer["biases"].as_array().expect("biases").iter().map(|x| x.as_f64().expect("number")));
    }
    out
}

/// Asserts `|a − b| ≤ rel·|b|` element by element.
pub fn assert_close(a: &[f64], b: &[f64], rel: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths differ");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= rel * y.abs(), "{what}[{i}]: {x} vs {y} (relative {rel})");
    }
}

/// `(epoch, cost)` rows of a metrics.csv (whatever other columns it has).
pub fn metrics(dir: &Path) -> Vec<(usize, f64)> {
    column(dir, "cost").into_iter().enumerate().collect()
}

/// One named column of a metrics.csv, row by row (rows are epochs 0, 1, …).
pub fn column(dir: &Path, name: &str) -> Vec<f64> {
    let text = std::fs::read_to_string(dir.join("metrics.csv")).expect("metrics.csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    assert_eq!(&header[..2], ["epoch", "cost"], "metrics.csv starts with epoch,cost");
    let k = header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no column {name} in {header:?}"));
    lines
        .enumerate()
        .map(|(i, l)| {
            let cells: Vec<&str> = l.split(',').collect();
            assert_eq!(cells[0].parse::<usize>().unwrap(), i, "rows are consecutive epochs");
            cells[k].parse().expect("a number")
        })
        .collect()
}
