//! `backprop train` on the post's experiment.

use crate::util::{assert_close, backprop, fixture, json, layer_numbers, metrics, root, scratch, train_half_adder};

/// Same start, same numbers: from the seed program's initial weights (`seed_ann.py --seed 3`,
/// fixtures made by `tests/fixtures/seed_ann/make_fixtures.sh`), our 20000 epochs end at its
/// final weights and print its costs, to a relative 1e-9.
#[test]
fn reproduces_the_seed_program_from_its_start() {
    let tmp = scratch("parity");
    let out = tmp.path();
    let init = fixture("seed_ann/init.json");
    let set = format!("model.init_from={}", toml_string(&init));
    let run = train_half_adder(out, &[&set]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    let ours = layer_numbers(&json(&out.join("model.json")));
    let theirs = layer_numbers(&json(&fixture("seed_ann/final.json")));
    assert_close(&ours, &theirs, 1e-9, "final weights");

    // The program prints the initial cost, then the cost after every 1000th epoch.
    let printed = std::fs::read_to_string(fixture("seed_ann/output.txt")).unwrap();
    let mut expected = vec![(0, number_after(&printed, "Initial cost:"))];
    for line in printed.lines().filter(|l| l.contains("Epoch:")) {
        let epoch = line.split("Epoch:").nth(1).unwrap().split(',').next().unwrap().trim().parse().unwrap();
        expected.push((epoch, number_after(line, "Current cost:")));
    }
    assert_eq!(expected.len(), 21);
    let costs = metrics(out);
    assert_eq!(costs.len(), 20001);
    for (epoch, cost) in expected {
        assert_close(&[costs[epoch].1], &[cost], 1e-9, &format!("cost after epoch {epoch}"));
    }
    let summary = json(&out.join("summary.json"));
    assert_eq!(summary["epochs_run"], 20000);
    assert_eq!(summary["stop_reason"], "completed");
}

/// The config as shipped converges from its seed, rounds to the truth table, and writes every
/// file of a run directory; the resolved config it writes loads again.
#[test]
fn half_adder_config_learns_the_truth_table() {
    let tmp = scratch("half-adder");
    let out = tmp.path();
    let run = train_half_adder(out, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary = json(&out.join("summary.json"));
    let final_cost = summary["final_cost"].as_f64().unwrap();
    assert!(final_cost < 0.01, "final cost {final_cost}");
    assert!(summary["train_seconds"].as_f64().unwrap() >= 0.0);
    // Every sum and carry on its side of 0.5: the report reads the 0/1 targets as bits.
    let bits = &summary["report"]["regression"]["bits"];
    assert_eq!((bits["accuracy"].as_f64(), bits["exact_match"].as_f64()), (Some(1.0), Some(1.0)), "{summary}");

    let expected = [("(0, 0)", [0, 0]), ("(0, 1)", [1, 0]), ("(1, 0)", [1, 0]), ("(1, 1)", [0, 1])];
    for (input, want) in expected {
        let line = run.stdout.lines().find(|l| l.trim_start().starts_with(input)).expect("an output line per input");
        let values: Vec<f64> = line
            .split('[')
            .nth(1)
            .unwrap()
            .trim_end_matches(']')
            .split_whitespace()
            .map(|v| v.parse().unwrap())
            .collect();
        let rounded: Vec<i32> = values.iter().map(|v| v.round() as i32).collect();
        assert_eq!(rounded, want, "output for {input}: {line}");
    }
    assert!(run.stdout.contains("Initial cost:") && run.stdout.contains(" Epoch: 1000 , Current cost:"));
    // The README shows this run's output: every line of its transcript but the "...", the
    // timing and the directory is printed as it stands.
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let block = &readme[readme.find("```\nInitial cost:").expect("the README's transcript") + 4..];
    let skip = ["...", "Training finished in", "Run directory:"];
    for line in block[..block.find("```").unwrap()].lines().filter(|l| !skip.iter().any(|s| l.trim().starts_with(s))) {
        assert!(run.stdout.lines().any(|o| o == line), "README line {line:?} not printed:\n{}", run.stdout);
    }

    let again_tmp = scratch("half-adder-again");
    let again = again_tmp.path();
    let config = out.join("config.toml");
    let run =
        backprop(&["train", config.to_str().unwrap(), "--set", "train.epochs=3", "--out", again.to_str().unwrap()]);
    assert_eq!(run.code, 0, "the resolved config loads again: {}", run.stderr);
    assert_eq!(metrics(again)[0], metrics(out)[0], "same seed, same start");
}

/// A seed gives the same weights every time; another seed gives others.
#[test]
fn seeds_fix_the_run() {
    let model = |seed: u64, name: &str| {
        let tmp = scratch(name);
        let out = tmp.path();
        let seed = format!("experiment.seed={seed}");
        let run = train_half_adder(out, &[&seed, "train.epochs=50"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        layer_numbers(&json(&out.join("model.json")))
    };
    assert_eq!(model(11, "seed-a"), model(11, "seed-b"));
    assert_ne!(model(11, "seed-c"), model(12, "seed-d"));
}

/// f32 follows f64 closely from the same (rounded) start; mini-batches run too.
#[test]
fn f32_and_mini_batches() {
    let run_costs = |sets: &[&str], name: &str| {
        let tmp = scratch(name);
        let out = tmp.path();
        let run = train_half_adder(out, &[&["train.epochs=2000"], sets].concat());
        assert_eq!(run.code, 0, "{}", run.stderr);
        metrics(out)
    };
    let f64s = run_costs(&[], "f64");
    let f32s = run_costs(&["experiment.dtype=\"f32\""], "f32");
    for ((_, a), (_, b)) in f32s.iter().zip(&f64s).step_by(100) {
        assert!((a - b).abs() <= 1e-4 * b.abs() + 1e-6, "f32 {a} vs f64 {b}");
    }
    let minibatch = run_costs(&["train.batch_size=2"], "minibatch");
    assert_eq!(minibatch.len(), 2001);
    assert!(minibatch.last().unwrap().1 < minibatch[0].1, "mini-batch training lowers the cost");
}

/// A cost that becomes infinite stops the run with exit 1, names the epoch, and keeps the last
/// finite weights.
#[test]
fn divergence_exits_1_and_keeps_good_weights() {
    // The second: relu(NaN) = 0 keeps the cost finite (0.25) while the weights are NaN.
    let cases: [&[&str]; 2] = [
        &["model.activation=identity", "optim.lr=1e150"],
        &["model.activation=relu", "model.hidden=[4, 4]", "optim.lr=1e200", "train.epochs=100"],
    ];
    for (i, sets) in cases.into_iter().enumerate() {
        let tmp = scratch(&format!("diverge-{i}"));
        let out = tmp.path();
        let run = train_half_adder(out, sets);
        assert_eq!(run.code, 1, "{sets:?}: {}\n{}", run.stdout, run.stderr);
        assert!(run.stderr.contains("diverged at epoch"), "{}", run.stderr);
        assert!(run.stderr.contains("first non-finite values in layer"), "{}", run.stderr);
        let summary = json(&out.join("summary.json"));
        assert_eq!(summary["stop_reason"], "diverged");
        let weights = layer_numbers(&json(&out.join("model.json")));
        assert!(weights.iter().all(|w| w.is_finite()), "{sets:?}: {weights:?}");
        // The last good cost, however large, with an exponent (`7.6e299`), not 300 digits;
        // the same number as summary.json's.
        let last = run.stdout.lines().find_map(|l| l.strip_prefix("Final cost: ")).expect("a final cost");
        assert_eq!(last, format!("{:?}", summary["final_cost"].as_f64().unwrap()), "{}", run.stdout);
        assert!(last.len() < 30, "{last}");
    }
    // With diagnostics on, metrics.csv has their columns up to the last good epoch (the diverged
    // epoch's diagnostics once made them one epoch too many, and the columns were left out).
    let tmp = scratch("diverge-diagnostics");
    let out = tmp.path();
    let run = train_half_adder(out, &["model.activation=identity", "optim.lr=1e150", "train.diagnostics=true"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let text = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert!(text.lines().next().unwrap().contains(",l1_grad_norm,"), "{text}");
    let stop = json(&out.join("summary.json"))["epochs_run"].as_u64().unwrap() as usize;
    assert_eq!(text.lines().count(), stop + 2, "a header and epochs 0 to {stop}: {text}");
}

/// `cargo xtask experiment` is `backprop train`: the README's main command.
#[test]
fn default_run_directory_is_under_runs() {
    let tmp = scratch("runs-default");
    let work = tmp.path();
    std::fs::copy(root().join("configs/half_adder.toml"), work.join("ha.toml")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_backprop-e2e"))
        .args(["train", "ha.toml", "--set", "train.epochs=5"])
        .current_dir(work)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let runs: Vec<_> = std::fs::read_dir(work.join("runs/half_adder")).unwrap().collect();
    assert_eq!(runs.len(), 1);
    let dir = runs[0].as_ref().unwrap().path();
    for f in ["config.toml", "metrics.csv", "model.json", "summary.json"] {
        assert!(dir.join(f).is_file(), "{f} in {}", dir.display());
    }
}

fn number_after(text: &str, marker: &str) -> f64 {
    text.split(marker).nth(1).unwrap().split_whitespace().next().unwrap().parse().unwrap()
}

fn toml_string(path: &std::path::Path) -> String {
    format!("{:?}", path.to_str().unwrap())
}

/// Output that could not be written is an error, not a silent exit 0: `grad`'s JSON is its whole
/// result, and a full disk behind `>` loses it. A closed pipe is not (the reader had enough).
#[cfg(target_os = "linux")]
#[test]
fn lost_standard_output_exits_2() {
    let grad = |stdout: std::process::Stdio| {
        std::process::Command::new(env!("CARGO_BIN_EXE_backprop-e2e"))
            .args(["grad", "configs/half_adder.toml"])
            .current_dir(root())
            .stdout(stdout)
            .output()
            .unwrap()
    };
    use std::os::unix::fs::FileTypeExt;
    // A machine without the device (a bare container) has nothing to test here; creating it
    // would make a plain file that takes the output.
    if !std::fs::metadata("/dev/full").is_ok_and(|m| m.file_type().is_char_device()) {
        eprintln!("no /dev/full: skipped");
        return;
    }
    let full = grad(std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap().into());
    let stderr = String::from_utf8_lossy(&full.stderr);
    assert_eq!(full.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("standard output: ") && !stderr.contains("panicked"), "{stderr}");
    assert_eq!(grad(std::process::Stdio::piped()).status.code(), Some(0));
    // `--version` and `--help` too (clap prints them).
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let version = std::process::Command::new(env!("CARGO_BIN_EXE_backprop-e2e")).arg("--version").stdout(full).status();
    assert_eq!(version.unwrap().code(), Some(2));
}

/// Under a 2.5 GB address-space limit (`ulimit -v`), a set whose one-pass evaluation would need
/// 3 GiB of buffers trains in batches and is measured in parts (before, the held-out report
/// aborted the process after training, exit 134, with no result written), under 1 GB in smaller
/// parts with the same report, and full-batch
/// training on it, which needs those 3 GiB, is refused before any work with the key that sizes
/// it (exit 2), not aborted.
#[cfg(target_os = "linux")]
#[test]
fn a_set_larger_than_memory_allows_in_one_pass_is_measured_in_parts_or_refused() {
    let tmp = scratch("memory-bound");
    let config = tmp.path().join("big.toml");
    let text = "[data]\nsource = \"moons\"\nsamples = 100000\n[model]\nhidden = [1000]\n\
                [train]\nepochs = 1\nbatch_size = 1000\nlog_every = 0\n";
    std::fs::write(&config, text).unwrap();
    let limited_to = |kib: u32, batch: &str, out: &str| {
        let out = tmp.path().join(out);
        let set = format!("train.batch_size={batch}");
        std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -v {kib} && exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_backprop-e2e"))
            .args(["train", config.to_str().unwrap(), "--set", &set, "--out", out.to_str().unwrap()])
            // Few threads and malloc arenas (64 MiB of address space each), whatever the host.
            .env("RAYON_NUM_THREADS", "2")
            .env("MALLOC_ARENA_MAX", "2")
            .output()
            .unwrap()
    };
    let limited = |batch: &str, out: &str| limited_to(2_500_000, batch, out);
    let batches = limited("1000", "batches");
    assert_eq!(batches.status.code(), Some(0), "{}", String::from_utf8_lossy(&batches.stderr));
    let summary = json(&tmp.path().join("batches/summary.json"));
    assert!(summary["final_cost"].as_f64().is_some_and(f64::is_finite), "{summary}");
    assert_eq!(summary["report"]["split"], "train");

    // Under 1 GB, less than a part's gibibyte of buffers: the parts shrink to what can be
    // allocated (before, the report aborted the process), and the report is the same.
    let short = limited_to(1_000_000, "1000", "short");
    assert_eq!(short.status.code(), Some(0), "{}", String::from_utf8_lossy(&short.stderr));
    let short = json(&tmp.path().join("short/summary.json"));
    assert_eq!((&short["final_cost"], &short["report"]), (&summary["final_cost"], &summary["report"]));

    let full = limited("\"full\"", "full");
    let stderr = String::from_utf8_lossy(&full.stderr);
    assert_eq!(full.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("key `train.batch_size`: training needs about 3.0 GiB"), "{stderr}");
    assert!(!tmp.path().join("full/summary.json").exists());
}

/// `backprop train` on a sweep's config trains its base config once, and says so unless told
/// `--no-sweep` (as `cargo xtask experiment --no-sweep` tells it).
#[test]
fn training_a_sweep_config_says_the_sweep_is_not_run() {
    let tmp = scratch("sweep-note");
    for (flag, noted) in [(None, true), (Some("--no-sweep"), false)] {
        let out = tmp.path().join(if noted { "noted" } else { "quiet" });
        let mut args = vec!["train", "configs/half_adder_sweep.toml", "--set", "train.epochs=3"];
        args.extend(flag);
        args.extend(["--out", out.to_str().unwrap()]);
        let run = backprop(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let note = "note: configs/half_adder_sweep.toml has a [sweep] table, which `backprop train` does not run";
        assert_eq!(run.stderr.contains(note), noted, "{}", run.stderr);
        assert!(out.join("summary.json").is_file());
    }
}

/// `predict` says which is too large when the output is not finite: the input, or the model's
/// weights (not finite even on inputs of 0 and 1).
#[test]
fn predict_says_whether_the_input_or_the_weights_overflow() {
    let tmp = scratch("predict-overflow");
    let sets = ["train.epochs=1", "model.activation=identity", "model.output_activation=identity"];
    let run = train_half_adder(&tmp.path().join("run"), &sets);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let model = tmp.path().join("run/model.json");
    let predict =
        |model: &std::path::Path, input: &str| backprop(&["predict", model.to_str().unwrap(), "--input", input]);
    let run = predict(&model, "1e308,1e308");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("the input's values are beyond what the network's arithmetic holds"), "{}", run.stderr);

    let mut file = json(&model);
    for layer in file["layers"].as_array_mut().unwrap() {
        for row in layer["weights"].as_array_mut().unwrap() {
            row.as_array_mut().unwrap().iter_mut().for_each(|w| *w = 1e308.into());
        }
    }
    // The biases as trained: an input of zeros alone would not show the weights' overflow.
    let huge = tmp.path().join("huge.json");
    std::fs::write(&huge, file.to_string()).unwrap();
    let run = predict(&huge, "1,1");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("the model's weights overflow on any input"), "{}", run.stderr);
}

/// `predict` takes `--input` (repeatable) or `--csv`, one of them: with neither the message and
/// the usage line name both (they named `--input` alone), and both at once are refused.
#[test]
fn predict_asks_for_inputs_or_a_csv_file() {
    let tmp = scratch("predict-args");
    let run = train_half_adder(&tmp.path().join("run"), &["train.epochs=1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let model = tmp.path().join("run/model.json");
    let model = model.to_str().unwrap();
    let run = backprop(&["predict", model]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("required arguments were not provided:\n  <--input <X1,X2,…>|--csv <FILE>>"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(" predict <--input <X1,X2,…>|--csv <FILE>> <MODEL>"), "{}", run.stderr);
    let run = backprop(&["predict", model, "--input", "0,1", "--csv", "x.csv"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);
    let run = backprop(&["predict", model, "--input", "0,1", "--input", "1,1"]);
    assert_eq!((run.code, run.stdout.lines().count()), (0, 2), "{}", run.stderr);
}

/// A run directory that cannot be created says so, naming it (the OS's words alone, `Not a
/// directory`, did not say what was tried).
#[test]
fn a_run_directory_that_cannot_be_created_says_so() {
    let tmp = scratch("out-cannot");
    let file = tmp.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let out = file.join("run");
    let run = train_half_adder(&out, &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let said = format!("{}: cannot create the directory: ", out.display());
    assert!(run.stderr.contains(&said), "{}", run.stderr);
}

/// `predict` computes in the model's dtype, as `eval`, `explain` and training do: an f32
/// model's outputs are f32 numbers, those `explain` gives (they were computed in f64), and a
/// weight past f32's range is refused, as every other command refuses it.
#[test]
fn predict_computes_in_the_models_dtype() {
    let tmp = scratch("predict-f32");
    let run = train_half_adder(&tmp.path().join("run"), &["train.epochs=100", "experiment.dtype=f32"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let model = tmp.path().join("run/model.json");
    let m = model.to_str().unwrap();
    let run = backprop(&["predict", m, "--input", "1,0", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let output: Vec<f64> = serde_json::from_value(v[0]["output"].clone()).unwrap();
    assert!(output.iter().all(|&o| f64::from(o as f32) == o), "f32 numbers: {output:?}");
    let args = ["explain", "configs/half_adder.toml", "--model", m, "--input", "1,0", "--format", "json"];
    let explain = backprop(&[&args[..], &["--set", "experiment.dtype=f32"]].concat());
    assert_eq!(explain.code, 0, "{}", explain.stderr);
    let e: serde_json::Value = serde_json::from_str(&explain.stdout).unwrap();
    assert_eq!(v[0]["output"], e["layers"][2]["a"], "predict's outputs are explain's");
    let run = backprop(&["predict", m, "--input", "1e39,0"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.contains("--input #1: value 1 (1e39) is beyond f32's range, the model's dtype"),
        "{}",
        run.stderr
    );

    let mut file = json(&model);
    file["layers"][0]["weights"][0][0] = 1e300.into();
    let big = tmp.path().join("big.json");
    std::fs::write(&big, serde_json::to_string(&file).unwrap()).unwrap();
    let run = backprop(&["predict", big.to_str().unwrap(), "--input", "1,0"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains("holds a weight that is inf in f32, beyond its range"), "{}", run.stderr);
}

/// A loss on probabilities against targets outside [0, 1] is computed, as PyTorch's and Keras's
/// are, and said: `bce_with_logits` on sin(x) ∈ [−1, 1] warns, naming the targets' range; the
/// half adder's 0/1 targets do not.
#[test]
fn a_cross_entropy_on_targets_outside_0_1_is_warned_of() {
    let tmp = scratch("bce-range");
    let out = tmp.path().join("sine");
    let sets = ["loss.kind=\"bce_with_logits\"", "train.epochs=1"];
    let mut args = vec!["train", "configs/sine.toml", "--out", out.to_str().unwrap()];
    sets.iter().for_each(|s| args.extend(["--set", s]));
    let run = backprop(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let warned = "warning: loss `bce_with_logits` takes targets in [0, 1] (probabilities), and the training targets run \
                  from -1.0";
    assert!(run.stderr.contains(warned), "{}", run.stderr);
    for loss in ["bce", "bce_with_logits"] {
        let run = train_half_adder(&tmp.path().join(loss), &[&format!("loss.kind=\"{loss}\""), "train.epochs=1"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    }
}

/// `--out` removes an earlier run's files, and nothing else: a directory whose files of a run's
/// names are the run's own inputs (its data as `metrics.csv`, its hand-written config as
/// `config.toml`), or that holds them without a run's `config.toml`, is refused with every
/// file left as it was. A run's own resolved config trains again in place, `--set`s or not.
#[test]
fn out_never_removes_or_overwrites_what_is_not_a_runs() {
    let tmp = scratch("spare-inputs");
    let dir = tmp.path();
    let out = |d: &std::path::Path| d.to_str().unwrap().to_string();
    let write = |path: &std::path::Path, text: &str| {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    let config = std::fs::read_to_string(root().join("configs/half_adder.toml")).unwrap();
    // A hand-written config as the directory's config.toml.
    let own = dir.join("own");
    write(&own.join("config.toml"), &config);
    let run = backprop(&["train", &out(&own.join("config.toml")), "--out", &out(&own)]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("the config is the run directory's config.toml"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(own.join("config.toml")).unwrap(), config);
    // The data file as metrics.csv.
    let data = dir.join("data");
    let table = "a,b,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n";
    write(&data.join("metrics.csv"), table);
    write(
        &data.join("c.toml"),
        "[data]\nsource = \"csv\"\npath = \"metrics.csv\"\ntargets = [\"y\"]\n[train]\nepochs = 5\n",
    );
    let run = backprop(&["train", &out(&data.join("c.toml")), "--out", &out(&data)]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    for part in ["c.toml:3:1: key `data.path`", "is the run directory's `metrics.csv`, which the run removes"] {
        assert!(run.stderr.contains(part), "{part}: {}", run.stderr);
    }
    assert_eq!(std::fs::read_to_string(data.join("metrics.csv")).unwrap(), table);
    // A run's names in a directory that is not a run's.
    let mine = dir.join("mine");
    write(&mine.join("summary.json"), "{}");
    write(&mine.join("loss.svg"), "<svg/>");
    let run = backprop(&["train", "configs/half_adder.toml", "--out", &out(&mine)]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("holds summary.json, loss.svg but no config.toml"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(mine.join("summary.json")).unwrap(), "{}");
    // A run's own config, again into its directory, as it is and with a `--set`.
    let run_dir = dir.join("run");
    let run = backprop(&["train", "configs/half_adder.toml", "--set", "train.epochs=5", "--out", &out(&run_dir)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let again = out(&run_dir.join("config.toml"));
    for sets in [&[][..], &["--set", "train.epochs=7"]] {
        let run = backprop(&[&["train", again.as_str(), "--out", &out(&run_dir)][..], sets].concat());
        assert_eq!(run.code, 0, "{sets:?}: {}", run.stderr);
    }
    assert_eq!(json(&run_dir.join("summary.json"))["epochs_run"], 7);
    // An earlier release's run (its config writes leaky_relu's `alpha`, which ours no longer
    // serialises to) trains again in place too: its config sits beside its checkpoint.
    let legacy = dir.join("legacy");
    std::fs::create_dir_all(&legacy).unwrap();
    for name in ["config.toml", "checkpoint.json"] {
        std::fs::copy(root().join("tests/fixtures/legacy_leaky_relu").join(name), legacy.join(name)).unwrap();
    }
    let run =
        backprop(&["train", &out(&legacy.join("config.toml")), "--set", "train.epochs=3", "--out", &out(&legacy)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}
