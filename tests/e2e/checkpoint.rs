//! Stopping rules, checkpoints, and `--resume` after a real process kill.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{backprop, column, json, metrics, root, scratch, train_half_adder};

#[test]
fn stop_below_ends_the_run_once_the_cost_is_low() {
    let tmp = scratch("stop-below");
    let out = tmp.path();
    let run = train_half_adder(out, &["train.stop_below=0.2"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary = json(&out.join("summary.json"));
    assert_eq!(summary["stop_reason"], "stop_below");
    let epochs = summary["epochs_run"].as_u64().unwrap() as usize;
    let costs = metrics(out);
    assert!(epochs < 20000 && costs.len() == epochs + 1);
    assert!(costs[epochs].1 < 0.2 && costs[epochs - 1].1 >= 0.2, "stops at the first epoch below");
}

#[test]
fn early_stopping_waits_patience_epochs_then_restores_the_best() {
    let tmp = scratch("early-stop");
    let out = tmp.path();
    // Demand an improvement no epoch can make: epoch 1 is the best, and patience runs out.
    let run = train_half_adder(out, &["train.early_stopping={ monitor = \"cost\", patience = 5, min_delta = 1.0 }"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary = json(&out.join("summary.json"));
    assert_eq!(summary["stop_reason"], "early_stopping");
    assert_eq!(summary["stop_epoch"], 6, "epoch 1 sets the best, 2..6 are five without improvement");
    // restore_best: the weights are epoch 1's, whose cost `grad` recomputes from model.json.
    let model = out.join("model.json");
    let grad = backprop(&["grad", "configs/half_adder.toml", "--model", model.to_str().unwrap()]);
    let cost: serde_json::Value = serde_json::from_str(&grad.stdout).unwrap();
    assert_eq!(cost["cost"].as_f64().unwrap(), metrics(out)[1].1);
}

/// A run early stopping ended, resumed with more epochs, trains to the same stop (its rule's
/// state is in the checkpoint) and says so, with the command that trains it further.
#[test]
fn resuming_an_early_stopped_run_says_it_stops_again() {
    let tmp = scratch("early-stop-resume");
    let out = tmp.path();
    let stop = "train.early_stopping={ monitor = \"cost\", patience = 5, min_delta = 1.0 }";
    let run = train_half_adder(out, &[stop, "train.checkpoint_every=3"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let first = json(&out.join("summary.json"));
    assert_eq!((first["stop_reason"].as_str(), first["stop_epoch"].as_u64()), (Some("early_stopping"), Some(6)));
    let run = backprop(&["train", "--resume", out.to_str().unwrap(), "--set", "train.epochs=40000"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("(the run stopped by early_stopping at epoch 6: resumed, it trains to the same stop")
            && run.stdout.contains("--set model.init_from=")
            && !run.stdout.contains("nothing more to train"),
        "{}",
        run.stdout
    );
    let again = json(&out.join("summary.json"));
    assert_eq!((again["stop_reason"].as_str(), again["stop_epoch"].as_u64()), (Some("early_stopping"), Some(6)));
    // Fewer epochs than the stop's: the run ends there, completed, and the note would be false.
    let run = backprop(&["train", "--resume", out.to_str().unwrap(), "--set", "train.epochs=4"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains("trains to the same stop"), "{}", run.stdout);
    assert_eq!(json(&out.join("summary.json"))["stop_reason"], "completed");
}

/// With `restore_best`, summary.json's final metrics are those of the weights model.json
/// holds: the best epoch's, bit for bit as metrics.csv recorded them, while metrics.csv goes on
/// to the last epoch (they were the last epoch's, describing weights that were not saved).
#[test]
fn early_stopping_summarises_the_restored_weights() {
    let tmp = scratch("early-stop-summary");
    let out = tmp.path();
    let run = backprop(&["train", "configs/moons.toml", "--out", out.to_str().unwrap(), "--set", "train.log_every=0"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary = json(&out.join("summary.json"));
    assert_eq!(summary["stop_reason"], "early_stopping");
    let val_cost = column(out, "val_cost");
    let best = (0..val_cost.len()).min_by(|&a, &b| val_cost[a].total_cmp(&val_cost[b])).unwrap();
    let last = val_cost.len() - 1;
    assert!(best < last, "the run went on past its best epoch ({best})");
    for name in ["cost", "accuracy", "val_cost", "val_accuracy"] {
        let field = if name == "cost" { "final_cost" } else { name };
        let column = column(out, name);
        assert_eq!(summary[field].as_f64().unwrap(), column[best], "{field}: epoch {best}'s");
        assert_ne!(column[best], column[last], "{name}: the last epoch's differs");
    }
    assert_eq!(summary["best_cost"].as_f64().unwrap(), metrics(out).iter().map(|m| m.1).fold(f64::INFINITY, f64::min));
}

/// `restore_best` restores however the run ends, as Keras 3's `on_train_end` does: with a
/// patience longer than the run every epoch runs, and model.json still holds the best epoch's
/// weights (it held the last epoch's, though the docs said the best); the log says so. Without
/// `restore_best`, the last epoch's.
#[test]
fn restore_best_restores_when_every_epoch_ran() {
    let tmp = scratch("restore-completed");
    for restore in [true, false] {
        let out = tmp.path().join(restore.to_string());
        let stopping =
            format!("train.early_stopping={{ monitor = \"val_cost\", patience = 1000, restore_best = {restore} }}");
        let run = backprop(&[
            "train",
            "configs/moons.toml",
            "--out",
            out.to_str().unwrap(),
            "--set",
            "train.log_every=0",
            "--set",
            "train.epochs=80",
            "--set",
            &stopping,
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let summary = json(&out.join("summary.json"));
        assert_eq!(summary["stop_reason"], "completed");
        let val_cost = column(&out, "val_cost");
        let best = (0..val_cost.len()).min_by(|&a, &b| val_cost[a].total_cmp(&val_cost[b])).unwrap();
        let last = val_cost.len() - 1;
        assert!(best < last, "the run went on past its best epoch ({best})");
        let want = if restore { best } else { last };
        assert_eq!(summary["val_cost"].as_f64().unwrap(), val_cost[want], "restore_best = {restore}");
        assert_eq!(summary["final_cost"].as_f64().unwrap(), column(&out, "cost")[want]);
        let said = format!("Restored the weights of epoch {best}, the best val_cost");
        assert_eq!(run.stdout.contains(&said), restore, "{}", run.stdout);
    }
}

#[test]
fn early_stopping_on_validation_needs_a_validation_set() {
    let tmp = scratch("early-stop-val");
    let out = tmp.path();
    let run = train_half_adder(out, &["train.early_stopping={ monitor = \"val_cost\" }"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("train.early_stopping.monitor"), "{}", run.stderr);
}

/// A run killed with SIGKILL mid-way and resumed from its checkpoint ends with the same weights
/// and metrics, bit for bit, as a run never interrupted. Mini-batches, dropout, Adam and a
/// schedule make every piece of state matter: shuffle stream, optimiser moments, step count,
/// learning rate.
#[test]
fn resume_after_kill_is_bit_identical() {
    let sets = [
        "model.hidden=[32, 32]",
        "model.dropout=0.1",
        "train.batch_size=2",
        "train.epochs=6000",
        "train.log_every=0",
        "train.checkpoint_every=20",
        "optim={ kind = \"adam\", lr = 0.01, schedule = { kind = \"step\", step_size = 500, gamma = 0.5 } }",
    ];
    let args = |out: &std::path::Path| {
        let mut a = vec!["train".to_string(), "configs/half_adder.toml".to_string()];
        for s in sets {
            a.extend(["--set".to_string(), s.to_string()]);
        }
        a.extend(["--out".to_string(), out.to_str().unwrap().to_string()]);
        a
    };

    let whole_tmp = scratch("resume-whole");
    let whole = whole_tmp.path();
    let a = args(whole);
    let run = backprop(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(run.code, 0, "{}", run.stderr);

    let cut_tmp = scratch("resume-cut");
    let cut = cut_tmp.path();
    let child = spawn_quiet(&args(cut));
    wait_until("a checkpoint", || cut.join("checkpoint.json").exists());
    child.kill();
    assert!(!cut.join("summary.json").exists(), "the run was killed before it finished (make it longer if not)");
    let checkpoint = json(&cut.join("checkpoint.json"));
    assert!(checkpoint["epoch"].as_u64().unwrap() < 6000);

    let run = backprop(&["train", "--resume", cut.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Resuming after epoch"), "{}", run.stdout);
    let read = |dir: &std::path::Path, f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    let weights = |dir: &std::path::Path| crate::util::layer_numbers(&json(&dir.join("model.json")));
    assert!(weights(cut) == weights(whole), "the resumed run ends with other weights");
    let (a, b) = (read(cut, "metrics.csv"), read(whole, "metrics.csv"));
    if let Some((i, (x, y))) = a.lines().zip(b.lines()).enumerate().find(|(_, (x, y))| x != y) {
        panic!("metrics differ first at line {i}: resumed {x:?}, uninterrupted {y:?}");
    }
    assert_eq!(a.lines().count(), b.lines().count());
}

/// A finished run trains on with `--resume --set train.epochs=…`, to the bits of a run that
/// went that far at once, and its `config.toml` says so; `--set` on anything else the
/// checkpoint depends on is refused (exit 2).
#[test]
fn a_resumed_run_trains_longer_with_set_epochs() {
    let tmp = scratch("resume-longer");
    let (short, long) = (tmp.path().join("short"), tmp.path().join("long"));
    assert_eq!(train_half_adder(&short, &["train.epochs=20", "train.checkpoint_every=10"]).code, 0);
    assert_eq!(train_half_adder(&long, &["train.epochs=30", "train.checkpoint_every=10"]).code, 0);
    let dir = short.to_str().unwrap();
    // As it is, a finished run has nothing more to train, and says so.
    let run = backprop(&["train", "--resume", dir]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("the run had reached its 20 epochs: nothing more to train"), "{}", run.stdout);
    let run = backprop(&["train", "--resume", dir, "--set", "train.epochs=30", "--set", "train.log_every=5"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Resuming after epoch 20"), "{}", run.stdout);
    assert!(!run.stdout.contains("nothing more to train"), "{}", run.stdout);
    assert_eq!(json(&short.join("model.json"))["layers"], json(&long.join("model.json"))["layers"]);
    assert_eq!(metrics(&short), metrics(&long));
    let config = std::fs::read_to_string(short.join("config.toml")).unwrap();
    assert!(config.contains("epochs = 30\n") && config.contains("log_every = 5\n"), "{config}");

    let run = backprop(&["train", "--resume", dir, "--set", "optim.lr=1.0"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("--set optim.lr=1.0: a resumed run keeps the config its checkpoint was written under"),
        "{}",
        run.stderr
    );
    // Fewer epochs than the checkpoint holds: refused, and the run's config left as it was, so
    // that a plain `--resume` still takes it.
    let run = backprop(&["train", "--resume", dir, "--set", "train.epochs=5"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(short.join("config.toml")).unwrap(), config);
    let run = backprop(&["train", "--resume", dir]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// A run directory that a release before leaky_relu's slope was spelled `negative_slope` wrote
/// (`tests/fixtures/legacy_leaky_relu`, its checkpoint hashing the text with `alpha = 0.2`)
/// resumes, to the bits of a run that went that far at once today.
#[test]
fn a_checkpoint_of_the_earlier_spelling_resumes() {
    let tmp = scratch("legacy-leaky");
    let (old, now) = (tmp.path().join("old"), tmp.path().join("now"));
    std::fs::create_dir_all(&old).unwrap();
    for name in ["config.toml", "checkpoint.json"] {
        std::fs::copy(root().join("tests/fixtures/legacy_leaky_relu").join(name), old.join(name)).unwrap();
    }
    let run = backprop(&["train", "--resume", old.to_str().unwrap(), "--set", "train.epochs=30"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Resuming after epoch 20"), "{}", run.stdout);
    let slope = "model.activation={kind=\"leaky_relu\",negative_slope=0.2}";
    let sets = [slope, "train.epochs=30", "train.checkpoint_every=10", "train.log_every=0"];
    assert_eq!(train_half_adder(&now, &sets).code, 0);
    assert_eq!(json(&old.join("model.json"))["layers"], json(&now.join("model.json"))["layers"]);
}

#[test]
fn resume_needs_a_checkpoint() {
    let tmp = scratch("resume-none");
    let out = tmp.path();
    let run = backprop(&["train", "--resume", out.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("checkpoint.json: no checkpoint to resume from"), "{}", run.stderr);
    assert!(!run.stderr.contains("model.init_from"), "no model to start from: {}", run.stderr);
    // A finished run without checkpoints: a new run can start from its model.
    let run = crate::util::train_half_adder(out, &["train.epochs=5"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = backprop(&["train", "--resume", out.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    let config = out.join("config.toml");
    let hint =
        format!("`backprop train {} --set model.init_from={}`", config.display(), out.join("model.json").display());
    assert!(run.stderr.contains(&hint), "{}", run.stderr);
    // No directory at all.
    let run = backprop(&["train", "--resume", out.join("nothere").to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("nothere: no such run directory to resume"), "{}", run.stderr);
}

/// A checkpoint that is a device is refused at once, as a config or a model file is: it was
/// read into memory without end.
#[cfg(unix)]
#[test]
fn resume_refuses_a_device_as_its_checkpoint() {
    let tmp = scratch("resume-device");
    std::os::unix::fs::symlink("/dev/zero", tmp.path().join("checkpoint.json")).unwrap();
    let run = backprop(&["train", "--resume", tmp.path().to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("checkpoint.json: not a regular file: a checkpoint"), "{}", run.stderr);
}

/// A checkpoint is resumed only with the config and data it was written for: a run directory
/// whose config now names other data, or whose checkpoint has another schedule, is refused.
#[test]
fn resume_refuses_other_data_or_schedule() {
    let tmp = scratch("resume-other");
    let out = tmp.path();
    let sets = ["--set", "train.epochs=20", "--set", "train.checkpoint_every=10"];
    let run =
        backprop(&[&["train", "configs/xor_tanh_adam.toml"][..], &sets, &["--out", out.to_str().unwrap()]].concat());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let config = std::fs::read_to_string(out.join("config.toml")).unwrap();
    let checkpoint = std::fs::read_to_string(out.join("checkpoint.json")).unwrap();
    let resume = |config: &str, checkpoint: &str| {
        std::fs::write(out.join("config.toml"), config.replace("epochs = 20", "epochs = 30")).unwrap();
        std::fs::write(out.join("checkpoint.json"), checkpoint).unwrap();
        backprop(&["train", "--resume", out.to_str().unwrap()])
    };
    let run = resume(&config.replace("source = \"xor\"", "source = \"and\""), &checkpoint);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("checkpoint.json: the checkpoint was written for other training data"),
        "{}",
        run.stderr
    );
    // A hand-edited schedule (a cosine t_max of 0 once made NaN learning rates, blamed on the
    // weights; a step_size of 0 divided by zero).
    let edited = checkpoint.replacen(r#""t_max":500"#, r#""t_max":0"#, 1);
    assert_ne!(edited, checkpoint);
    let run = resume(&config, &edited);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("learning-rate schedule is not the config's"), "{}", run.stderr);
    // A hand-edited optimiser state that no step leaves (Adam's second moments negative) used
    // to resume and "diverge", exit 1.
    let mut state: serde_json::Value = serde_json::from_str(&checkpoint).unwrap();
    let values = state["optimizer_state"].as_array_mut().unwrap();
    let n = values.len();
    values[n - 1] = serde_json::json!(-1.0);
    let run = resume(&config, &state.to_string());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("the checkpoint's optimiser state: value"), "{}", run.stderr);
    assert!(run.stderr.contains("is negative (-1), and it is a sum of squares"), "{}", run.stderr);
    let run = resume(&config, &checkpoint);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// A new run into a directory removes the checkpoint an earlier run left there, and a
/// checkpoint written under another config (put back by hand) is refused: resuming used to run
/// the earlier run's weights under the new config, exit 0.
#[test]
fn a_new_run_drops_an_earlier_runs_checkpoint_and_resume_refuses_another_config() {
    let tmp = scratch("resume-stale");
    let out = tmp.path();
    let dir = out.to_str().unwrap();
    let train = |sets: &[&str]| backprop(&[&["train", "configs/xor_tanh_adam.toml", "--out", dir][..], sets].concat());
    let run = train(&["--set", "train.epochs=20", "--set", "train.checkpoint_every=10"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let earlier = std::fs::read_to_string(out.join("checkpoint.json")).unwrap();
    let run = train(&["--set", "train.epochs=20", "--set", "model.activation=relu"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!out.join("checkpoint.json").exists(), "the earlier run's checkpoint is gone");
    let run = backprop(&["train", "--resume", dir]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("no checkpoint to resume from"), "{}", run.stderr);
    std::fs::write(out.join("checkpoint.json"), &earlier).unwrap();
    let run = backprop(&["train", "--resume", dir]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("checkpoint.json: the checkpoint was written under another config"), "{}", run.stderr);
}

/// Ctrl-C (a real SIGINT) during training, or a SIGTERM (what `timeout`, Slurm, Docker and
/// systemd send): a final checkpoint, `summary.json` with `stop_reason = "interrupted"`, exit
/// 130; then `--resume` finishes the run.
#[test]
fn sigint_checkpoints_and_exits_130_then_resumes() {
    for signal in ["INT", "TERM"] {
        stopped_by(signal, 1, "[32, 32]");
    }
}

/// `timeout` sends its SIGTERM twice, to the process and to its process group, one right after
/// the other: that is one request to stop, not the second that exits at once (which lost the
/// final checkpoint, `summary.json` and `model.json` in about one `timeout` run in ten).
#[test]
fn a_signal_repeated_at_once_is_one_request() {
    // Epochs long enough (a debug build) that the second signal comes before the run has ended.
    stopped_by("TERM", 2, "[512, 512]");
}

fn stopped_by(signal: &str, times: usize, hidden: &str) {
    let tmp = scratch(&format!("sig{signal}"));
    let out = tmp.path();
    let child = Command::new(env!("CARGO_BIN_EXE_backprop-e2e"))
        .args([
            "train",
            "configs/half_adder.toml",
            "--set",
            &format!("model.hidden={hidden}"),
            "--set",
            "train.batch_size=1",
            "--set",
            "train.epochs=3000",
            "--set",
            "train.checkpoint_every=10",
            "--out",
            out.to_str().unwrap(),
        ])
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("a checkpoint", || out.join("checkpoint.json").exists());
    for time in 0..times {
        if time > 0 {
            // Apart enough that the first has been handled (two pending signals merge into one),
            // well within what counts as the same request.
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let status = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(130), "SIG{signal}: {stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("Training stopped after") && !stdout.contains("Training finished"), "{stdout}");
    let summary = json(&out.join("summary.json"));
    assert_eq!(summary["stop_reason"], "interrupted");
    let epoch = summary["stop_epoch"].as_u64().unwrap();
    assert!(epoch < 3000);
    assert_eq!(json(&out.join("checkpoint.json"))["epoch"].as_u64().unwrap(), epoch, "the final checkpoint");
    assert_eq!(metrics(out).len() as u64, epoch + 1, "metrics up to the interruption");
    if times > 1 {
        // What follows is the same for one signal or two (and slow for large layers).
        return;
    }

    let run = backprop(&["train", "--resume", out.to_str().unwrap(), "--set", "train.epochs=0"]);
    assert_eq!(run.code, 2, "train.epochs must be at least 1");
    let run = backprop(&["train", "--resume", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(&format!("Resuming after epoch {epoch}")), "{}", run.stdout);
    let summary = json(&out.join("summary.json"));
    assert_eq!((summary["stop_reason"].as_str(), summary["epochs_run"].as_u64()), (Some("completed"), Some(3000)));
    assert_eq!(metrics(out).len(), 3001);
}

/// A second run into a run directory, killed (SIGKILL) before it writes its results, leaves no
/// summary, model or metrics: they were the first run's, and beside the second run's
/// `config.toml` they looked like its complete results.
#[test]
fn a_killed_second_run_leaves_none_of_the_first_runs_results() {
    let tmp = scratch("killed-rerun");
    let out = tmp.path();
    let run = train_half_adder(out, &["train.epochs=10"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for file in ["summary.json", "model.json", "metrics.csv", "loss.svg"] {
        assert!(out.join(file).exists(), "{file} of the first run");
    }
    // A second run its config's checks refuse takes nothing away.
    let refused = train_half_adder(out, &["train.early_stopping={ monitor = \"val_cost\", patience = 5 }"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(out.join("summary.json").exists() && out.join("model.json").exists(), "the first run's results");
    let child = spawn_quiet(&[
        "train",
        "configs/half_adder.toml",
        "--out",
        out.to_str().unwrap(),
        "--set",
        "train.epochs=1000000000",
        "--set",
        "train.checkpoint_every=1000000000",
        "--set",
        "optim.lr=0.25",
    ]);
    // With checkpoints on, the second run writes its config.toml before it trains.
    let config = || std::fs::read_to_string(out.join("config.toml")).unwrap_or_default();
    wait_until("the second run's config", || config().contains("lr = 0.25"));
    child.kill();
    for file in ["summary.json", "model.json", "metrics.csv", "loss.svg", "checkpoint.json"] {
        assert!(!out.join(file).exists(), "{file} left beside the killed run's config");
    }
}

/// A second run that starts from the first run's model (`model.init_from`) in the same
/// directory keeps that file until its own replaces it: killed, it leaves the model it started
/// from, and no summary.
#[test]
fn a_run_killed_keeps_the_model_it_started_from() {
    let tmp = scratch("killed-init-from");
    let out = tmp.path();
    let run = train_half_adder(out, &["train.epochs=10"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let model = std::fs::read(out.join("model.json")).unwrap();
    let init_from = format!("model.init_from={:?}", out.join("model.json"));
    let child = spawn_quiet(&[
        "train",
        "configs/half_adder.toml",
        "--out",
        out.to_str().unwrap(),
        "--set",
        &init_from,
        "--set",
        "train.epochs=1000000000",
        "--set",
        "train.checkpoint_every=1000000000",
    ]);
    let cleared = || ["summary.json", "metrics.csv", "loss.svg"].iter().all(|f| !out.join(f).exists());
    wait_until("the second run's clearing", cleared);
    child.kill();
    assert_eq!(std::fs::read(out.join("model.json")).unwrap(), model, "the model it started from");
}

/// A resumed run removes the summary and model of the stop it resumes from before it trains (a
/// resume killed between writing its metrics and its summary left them beside its metrics,
/// looking complete), keeps the checkpoint a killed resume resumes from, and clears the
/// temporary files killed writers left; files not its own stay, a running writer's too.
#[test]
fn a_resumed_run_drops_the_stop_it_resumes_from() {
    let tmp = scratch("resume-drops");
    let out = tmp.path();
    let dir = out.to_str().unwrap();
    let run = train_half_adder(out, &["train.epochs=40", "train.checkpoint_every=20"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Left by writers killed (no process has such a PID), and by one still running (this test).
    let leftovers = [".model.json.4294967295.tmp", ".checkpoint.json.4294967294.tmp"];
    let running = format!(".metrics.csv.{}.tmp", std::process::id());
    // Not a run's: another file's temporary file, killed writer or not, stays.
    let foreign = ["notes.txt", ".notes.tmp", ".model.json.tmp", ".notes.txt.4294967293.tmp", &running];
    for name in leftovers.iter().chain(&foreign) {
        std::fs::write(out.join(name), "x").unwrap();
    }
    // More epochs, as the README allows, and so many that the resumed run is killed training.
    let config = std::fs::read_to_string(out.join("config.toml")).unwrap();
    std::fs::write(out.join("config.toml"), config.replace("epochs = 40", "epochs = 1000000000")).unwrap();
    let child = spawn_quiet(&["train", "--resume", dir]);
    let gone = ["summary.json", "model.json", "metrics.csv", "loss.svg"];
    let all_gone = || gone.iter().chain(&leftovers).all(|name| !out.join(name).exists());
    wait_until("the resumed run's clearing", all_gone);
    child.kill();
    assert!(out.join("checkpoint.json").exists(), "the checkpoint a resume needs");
    for name in foreign {
        assert!(out.join(name).exists(), "{name} is not a run's file");
    }
}

/// A background `backprop`, killed (SIGKILL) when dropped: by the test, or by a failing test's
/// unwinding, so that no run is left training.
struct Killed(std::process::Child);

impl Killed {
    /// Kills the run now.
    fn kill(mut self) {
        self.kill_now();
    }

    fn kill_now(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Killed {
    fn drop(&mut self) {
        self.kill_now();
    }
}

/// `backprop ARGS` started in the repository root, its output discarded.
fn spawn_quiet(args: &[impl AsRef<std::ffi::OsStr>]) -> Killed {
    Killed(
        Command::new(env!("CARGO_BIN_EXE_backprop-e2e"))
            .args(args)
            .current_dir(root())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// Returns once `ready` holds; fails after a minute, naming `what` never appeared.
fn wait_until(what: &str, ready: impl Fn() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(started.elapsed() < Duration::from_secs(60), "{what} never appeared");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// `checkpoint_every = k` writes a checkpoint after every k-th epoch: a completed run of 40
/// epochs with k = 15 leaves the one of epoch 30 (none at epoch 0; the last epoch is not a
/// multiple).
#[test]
fn checkpoints_are_written_every_k_epochs() {
    let tmp = scratch("checkpoint-every");
    let out = tmp.path();
    let run = train_half_adder(out, &["train.epochs=40", "train.checkpoint_every=15", "train.log_every=0"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(json(&out.join("checkpoint.json"))["epoch"].as_u64(), Some(30));
    let run = train_half_adder(out, &["train.epochs=40", "train.checkpoint_every=50", "train.log_every=0"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!out.join("checkpoint.json").exists(), "no multiple of 50 among 40 epochs");
}

/// A second run into a directory a run is using, or a `--resume` of it, is refused (exit 2)
/// while the first runs: the two wrote one directory's files in turn, the config of one beside
/// the model of the other. Once the first is gone, the directory is free again.
#[test]
fn a_run_directory_in_use_is_refused() {
    let tmp = scratch("run-lock");
    let dir = tmp.path().join("run");
    let d = dir.to_str().unwrap();
    let long = [
        "train",
        "configs/half_adder.toml",
        "--out",
        d,
        "--set",
        "train.epochs=100000000",
        "--set",
        "train.log_every=0",
        "--set",
        "train.checkpoint_every=1000",
    ];
    let child = spawn_quiet(&long);
    wait_until("a checkpoint", || dir.join("checkpoint.json").exists());
    let second = train_half_adder(&dir, &["train.epochs=10"]);
    assert_eq!(second.code, 2, "{}", second.stderr);
    assert!(second.stderr.contains("in use by another run"), "{}", second.stderr);
    let resume = backprop(&["train", "--resume", d]);
    assert_eq!(resume.code, 2, "{}", resume.stderr);
    assert!(resume.stderr.contains("in use by another run"), "{}", resume.stderr);
    child.kill();
    let after = train_half_adder(&dir, &["train.epochs=10"]);
    assert_eq!(after.code, 0, "free once the first is gone: {}", after.stderr);
}
