//! A run whose files are handed back (`run_training_deferred`, what sweeps use) writes, once
//! asked, the same files in the same order as a run that writes them at once.

use std::path::{Path, PathBuf};

use backprop_cli::config;
use backprop_cli::run::{run_training_any, run_training_deferred};

/// Two-feature classification, so that the run draws its decision regions too.
const MOONS: &str = "[data]\nsource = \"moons\"\nsamples = 40\ntest = 0.25\n[model]\nhidden = [4]\n\
                     activation = \"tanh\"\noutput_activation = \"softmax\"\n[loss]\nkind = \"cross_entropy\"\n\
                     [train]\nepochs = 30\nbatch_size = 8\nlog_every = 0\n";

/// `toml` loaded from a file in `dir`, and an empty run directory `dir/<name>`.
fn setup(dir: &Path, name: &str, toml: &str) -> (config::Loaded, PathBuf) {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, toml).unwrap();
    let run = dir.join(name);
    std::fs::create_dir_all(&run).unwrap();
    (config::load(&path, &[]).unwrap(), run)
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// A JSON file's value without its `train_seconds` fields (wall time differs between runs).
fn json_without_times(path: &Path) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                map.remove("train_seconds");
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    strip(&mut v);
    v
}

#[test]
fn deferred_files_are_the_files_of_a_run_written_at_once() {
    let tmp = tempfile::Builder::new().prefix("backprop-run-files-").tempdir().unwrap();
    let (loaded, now) = setup(tmp.path(), "now", MOONS);
    let summary_now = run_training_any(&loaded, &now, &mut std::io::sink()).unwrap();

    let later = tmp.path().join("later").join("trial");
    let (summary, files) = run_training_deferred(&loaded, &later, &mut std::io::sink()).unwrap();
    assert!(!tmp.path().join("later").exists(), "nothing written (not even the directory) before it is asked for");
    assert_eq!(
        files.names().collect::<Vec<_>>(),
        ["config.toml", "metrics.csv", "model.json", "loss.svg", "decision.svg", "summary.json"],
        "the summary last"
    );
    assert_eq!(files.dir(), later);
    files.write().unwrap();

    assert_eq!(names(&later), names(&now));
    for name in ["config.toml", "metrics.csv", "loss.svg", "decision.svg"] {
        assert_eq!(std::fs::read(later.join(name)).unwrap(), std::fs::read(now.join(name)).unwrap(), "{name}");
    }
    for name in ["model.json", "summary.json"] {
        assert_eq!(json_without_times(&later.join(name)), json_without_times(&now.join(name)), "{name}");
    }
    assert_eq!(summary.final_cost.to_bits(), summary_now.final_cost.to_bits());
}

#[test]
fn with_checkpoints_the_config_is_on_disk_before_training() {
    let tmp = tempfile::Builder::new().prefix("backprop-run-files-").tempdir().unwrap();
    let (loaded, run) = setup(tmp.path(), "ckpt", &format!("{MOONS}checkpoint_every = 10\n"));
    std::fs::remove_dir(&run).unwrap();
    let (_, files) = run_training_deferred(&loaded, &run, &mut std::io::sink()).unwrap();
    assert_eq!(names(&run), ["checkpoint.json", "config.toml"], "a checkpoint beside its config");
    assert!(files.names().all(|n| n != "config.toml"), "written once");
    files.write().unwrap();
    assert_eq!(
        names(&run),
        ["checkpoint.json", "config.toml", "decision.svg", "loss.svg", "metrics.csv", "model.json", "summary.json"]
    );
}
