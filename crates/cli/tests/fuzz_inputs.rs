//! Hostile-input harness (cargo-fuzz needs a nightly toolchain, which this project cannot
//! fetch): random and mutated configs, `--set` overrides and model files go through the same
//! entry points the binary uses. Each must come back `Ok` or `Err`, never panic.

use backprop_cli::config;
use backprop_cli::model_file::ModelFile;
use proptest::prelude::*;
use tempfile::TempDir;

/// Cases per target: 256 in `cargo test`; set `BACKPROP_FUZZ_CASES` for a long run.
fn fuzz_cases() -> u32 {
    std::env::var("BACKPROP_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
}

/// A fresh, empty scratch folder for one case, removed when dropped (pass or panic).
fn scratch() -> TempDir {
    tempfile::Builder::new().prefix("backprop-fuzz-").tempdir().unwrap()
}

fn seeds() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
    let mut out: Vec<String> = std::fs::read_dir(root)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "toml"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    out.sort();
    out
}

/// A byte-level mutation of `text`: flip, delete, insert or duplicate a span.
fn mutate(text: &str, ops: &[(u8, usize, u8)]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for &(op, at, b) in ops {
        if bytes.is_empty() {
            bytes.push(b);
            continue;
        }
        let i = at % bytes.len();
        match op % 4 {
            0 => bytes[i] = b,
            1 => {
                bytes.remove(i);
            }
            2 => bytes.insert(i, b),
            _ => {
                let end = (i + (b as usize % 16)).min(bytes.len());
                let span = bytes[i..end].to_vec();
                bytes.splice(i..i, span);
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn load_text(text: &str, sets: &[String]) {
    let name: String =
        std::thread::current().name().unwrap_or("t").chars().filter(char::is_ascii_alphanumeric).collect();
    let dir = scratch();
    let path = dir.path().join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    if let Ok(loaded) = config::load(&path, sets) {
        // A config that loads must also prepare (data and network) without panicking.
        let _ = backprop_cli::app::prepare::<f64>(&loaded, None);
    }
}

const TOKENS: &[&str] = &[
    "[experiment]",
    "[data]",
    "[model]",
    "[loss]",
    "[optim]",
    "[train]",
    "[sweep]",
    "[optim.schedule]",
    "[[model.layers]]",
    "name",
    "seed",
    "dtype",
    "source",
    "hidden",
    "activation",
    "units",
    "init",
    "kind",
    "lr",
    "epochs",
    "batch_size",
    "=",
    "\n",
    "\"",
    "[",
    "]",
    "{",
    "}",
    ",",
    "-1",
    "0",
    "1e400",
    "nan",
    "inf",
    "18446744073709551616",
    "\"sigmoid\"",
    "\"full\"",
    "\"f32\"",
    "\"xor\"",
    "[2, 2]",
    "[]",
    "true",
    "1.5",
    "\"uniform\"",
    "low",
    "high",
    "dropout",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: fuzz_cases(), ..ProptestConfig::default() })]

    #[test]
    fn mutated_configs_never_panic(pick in 0usize..16, ops in prop::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..8)) {
        let seeds = seeds();
        load_text(&mutate(&seeds[pick % seeds.len()], &ops), &[]);
    }

    #[test]
    fn token_soup_configs_never_panic(tokens in prop::collection::vec(0usize..TOKENS.len(), 0..60)) {
        let text: Vec<&str> = tokens.iter().map(|&i| TOKENS[i]).collect();
        load_text(&text.join(" "), &[]);
    }

    #[test]
    fn random_overrides_never_panic(key in "[a-z_.\\[\\]0-9]{0,24}", value in "[ -~]{0,24}") {
        let seeds = seeds();
        load_text(&seeds[0], &[format!("{key}={value}")]);
        load_text(&seeds[0], std::slice::from_ref(&value));
    }

    #[test]
    fn mutated_model_files_never_panic(ops in prop::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..8)) {
        let good = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/seed_ann/init.json")).unwrap();
        let dir = scratch();
        let path = dir.path().join("m.json");
        std::fs::write(&path, mutate(&good, &ops)).unwrap();
        if let Ok(file) = ModelFile::read(&path) {
            let net = file.to_network::<f64>();
            let _ = net.predict(ndarray::Array2::zeros((1, net.inputs())).view());
        }
    }
}
