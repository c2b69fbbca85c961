//! Helpers shared by the integration tests: scratch folders, files, IDX writers, specs from TOML.
#![allow(dead_code)] // Each test binary uses its own subset.

use std::io::Write;
use std::path::{Path, PathBuf};

use backprop_data::{DataError, DataSpec, Splits};

/// A fresh, empty scratch folder for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("backprop-data").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `bytes` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// `bytes` gzip-compressed.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// An IDX images file: magic 0x803, (n, rows, cols), then the pixels.
pub fn idx_images(n: u32, rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 8, 3];
    for d in [n, rows, cols] {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(pixels);
    out
}

/// An IDX labels file: magic 0x801, (n), then the labels.
pub fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 8, 1];
    out.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    out.extend_from_slice(labels);
    out
}

/// The `[data]` table `text` as a spec (panics on a parse error: the tests' configs are valid).
pub fn spec(text: &str) -> DataSpec {
    toml::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// Loads `text` with relative paths under `dir`, in f64.
pub fn load(dir: &Path, text: &str, seed: u64) -> Result<Splits<f64>, DataError> {
    spec(text).load_splits::<f64>(dir, seed)
}

/// The error message of loading `text`, which must fail.
pub fn error(dir: &Path, text: &str) -> String {
    match load(dir, text, 0) {
        Ok(s) => panic!("{text} loaded {} samples", s.train.len()),
        Err(e) => e.to_string(),
    }
}

/// Asserts that `message` contains every one of `parts`.
pub fn assert_mentions(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "{message:?} does not mention {part:?}");
    }
}
