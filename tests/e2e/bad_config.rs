//! Bad configs: each exits 2 before any work, with a message naming the file, the place and the
//! key, and never a panic.

use crate::util::{backprop, root, scratch, train_half_adder};

const BASE: &str = r#"[experiment]
name = "bad"
seed = 1

[data]
source = "half_adder"

[model]
hidden = [2, 2]
activation = "sigmoid"

[loss]
kind = "half_mse"

[optim]
kind = "sgd"
lr = 0.5

[train]
epochs = 10
"#;

/// Writes `text` as a config, runs `backprop train` on it with `sets`, and checks exit 2 and
/// that stderr holds every one of `expected`.
fn check(name: &str, text: &str, sets: &[&str], expected: &[&str]) {
    let tmp = scratch(&format!("bad-{name}"));
    let dir = tmp.path();
    let path = dir.join("bad.toml");
    std::fs::write(&path, text).unwrap();
    let mut args = vec!["train".to_string(), path.to_str().unwrap().to_string()];
    for s in sets {
        args.push("--set".into());
        args.push(s.to_string());
    }
    args.push("--out".into());
    args.push(dir.join("run").to_str().unwrap().to_string());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = backprop(&args);
    assert_eq!(run.code, 2, "{name}: expected exit 2\nstdout: {}\nstderr: {}", run.stdout, run.stderr);
    for want in expected {
        assert!(run.stderr.contains(want), "{name}: stderr lacks {want:?}:\n{}", run.stderr);
    }
    assert!(!dir.join("run").exists(), "{name}: no run directory is left behind");
}

fn replace(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "BASE holds {from:?}");
    BASE.replacen(from, to, 1)
}

#[test]
fn the_base_config_is_good() {
    let tmp = scratch("bad-base");
    let dir = tmp.path();
    let path = dir.join("ok.toml");
    std::fs::write(&path, BASE).unwrap();
    let run = backprop(&["train", path.to_str().unwrap(), "--out", dir.join("run").to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn negative_learning_rate() {
    check("lr-neg", &replace("lr = 0.5", "lr = -1.0"), &[], &["bad.toml:17:1", "`optim.lr`", "> 0"]);
}

#[test]
fn zero_learning_rate() {
    check("lr-zero", &replace("lr = 0.5", "lr = 0.0"), &[], &["bad.toml:17:1", "`optim.lr`"]);
}

#[test]
fn zero_epochs() {
    check("epochs", &replace("epochs = 10", "epochs = 0"), &[], &["bad.toml:20:1", "`train.epochs`"]);
}

#[test]
fn zero_units() {
    check("units", &replace("hidden = [2, 2]", "hidden = [2, 0]"), &[], &["bad.toml:9:14", "`model.hidden[1]`"]);
}

/// Dropout's range is said as it is checked: 1 is refused, so the range is half-open.
#[test]
fn dropout_of_one_or_more() {
    for p in ["1", "1.5"] {
        let set = format!("model.dropout={p}");
        check(
            "dropout",
            BASE,
            &[&set],
            &[&format!("key `model.dropout`: must be in [0, 1) (1 would drop every unit), got {p}")],
        );
    }
}

#[test]
fn unknown_activation_gets_a_suggestion() {
    check(
        "activation",
        &replace("activation = \"sigmoid\"", "activation = \"sigmod\""),
        &[],
        &["bad.toml:10:1", "`model.activation`", "did you mean `sigmoid`?"],
    );
}

/// Names are compared without case for the suggestion: PyTorch's class `ReLU` is `relu` (it
/// got none).
#[test]
fn a_name_in_other_case_gets_a_suggestion() {
    check(
        "activation-case",
        &replace("activation = \"sigmoid\"", "activation = \"ReLU\""),
        &[],
        &["bad.toml:10:1", "unknown variant `ReLU`", "did you mean `relu`?"],
    );
}

/// A count that is not a whole number ≥ 0 says so in a config's words (it said `expected usize`).
#[test]
fn a_count_that_is_no_whole_number() {
    let said = "expected a whole number ≥ 0";
    check("count-float", &replace("hidden = [2, 2]", "hidden = [2.5, 2]"), &[], &["`model.hidden[0]`", said]);
    check("count-negative", &replace("epochs = 10", "epochs = -10"), &[], &["`train.epochs`", said]);
}

#[test]
fn unknown_key_gets_a_suggestion() {
    check(
        "unknown-key",
        &replace("lr = 0.5", "lr = 0.5\nlr_rate = 0.1"),
        &[],
        &["bad.toml:18:1", "`optim.lr_rate`", "unknown field"],
    );
}

#[test]
fn misspelt_table_key() {
    check(
        "epochz",
        &replace("epochs = 10", "epochs = 10\nepochz = 3"),
        &[],
        &["bad.toml:21:1", "`train.epochz`", "did you mean `epochs`?"],
    );
}

#[test]
fn unknown_section() {
    check("section", &format!("{BASE}\n[trian]\nx = 1\n"), &[], &["bad.toml:22:2", "`trian`", "did you mean `train`?"]);
}

#[test]
fn wrong_type() {
    check("type", &replace("lr = 0.5", "lr = \"fast\""), &[], &["bad.toml:17:1", "`optim.lr`", "invalid type"]);
}

#[test]
fn unknown_loss() {
    check(
        "loss",
        &replace("kind = \"half_mse\"", "kind = \"half_mes\""),
        &[],
        &["bad.toml:13:1", "`loss.kind`", "did you mean `half_mse`?"],
    );
}

#[test]
fn unknown_optimizer() {
    check(
        "optim",
        &replace("kind = \"sgd\"", "kind = \"sdg\""),
        &[],
        &["bad.toml:16:1", "`optim.kind`", "unknown variant `sdg`"],
    );
}

#[test]
fn unknown_data_source() {
    check(
        "data",
        &replace("source = \"half_adder\"", "source = \"half_addr\""),
        &[],
        &["bad.toml:6:1", "`data.source`", "did you mean `half_adder`?"],
    );
}

#[test]
fn batch_size_zero() {
    check(
        "batch",
        &replace("epochs = 10", "epochs = 10\nbatch_size = 0"),
        &[],
        &["bad.toml:21:1", "`train.batch_size`"],
    );
}

#[test]
fn batch_size_word() {
    check(
        "batch-word",
        &replace("epochs = 10", "epochs = 10\nbatch_size = \"half\""),
        &[],
        &["`train.batch_size`", "\"full\""],
    );
}

#[test]
fn unknown_dtype() {
    check(
        "dtype",
        &replace("seed = 1", "seed = 1\ndtype = \"f16\""),
        &[],
        &["bad.toml:4:1", "`experiment.dtype`", "f16"],
    );
}

#[test]
fn negative_seed() {
    check("seed", &replace("seed = 1", "seed = -1"), &[], &["bad.toml:3:1", "`experiment.seed`"]);
}

#[test]
fn missing_train_table() {
    let text = BASE.split("[train]").next().unwrap();
    check("no-train", text, &[], &["bad.toml", "`train`", "missing field"]);
}

#[test]
fn missing_epochs() {
    check("no-epochs", &replace("epochs = 10", "log_every = 1"), &[], &["`train.epochs`", "missing field"]);
}

#[test]
fn invalid_toml() {
    check("syntax", &replace("lr = 0.5", "lr = = 0.5"), &[], &["bad.toml:17:", "invalid TOML"]);
}

#[test]
fn duplicate_key_is_named() {
    check("dup", &replace("lr = 0.5", "lr = 0.5\nlr = 0.1"), &[], &["bad.toml:18:1:", "duplicate key `lr`"]);
    // The key named is the duplicate, not the one on the line before.
    let between = replace("lr = 0.5", "lr = 0.5\nmomentum = 0.9\nlr = 0.1");
    check("dup-later", &between, &[], &["bad.toml:19:1: key `optim.lr`: invalid TOML: duplicate key `lr`"]);
    let dotted = replace("lr = 0.5", "lr = 0.5\nschedule.kind = \"step\"\nschedule . kind = \"cosine\"");
    check("dup-dotted", &dotted, &[], &["bad.toml:19:12:", "duplicate key `schedule.kind`"]);
}

#[test]
fn init_bounds_reversed() {
    check(
        "init",
        &replace(
            "activation = \"sigmoid\"",
            "activation = \"sigmoid\"\ninit = { kind = \"uniform\", low = 1.0, high = -1.0 }",
        ),
        &[],
        &["bad.toml:11:", "`model.init.high`"],
    );
}

#[test]
fn experiment_name_with_a_slash() {
    check("name", &replace("name = \"bad\"", "name = \"../escape\""), &[], &["bad.toml:2:1", "`experiment.name`"]);
    // A NUL byte, which no file name may hold, is the config's error too (not the OS's).
    check("name-nul", &replace("name = \"bad\"", "name = \"c\\u0000\""), &[], &["bad.toml:2:1", "`experiment.name`"]);
}

#[test]
fn hidden_and_layers_together() {
    check(
        "both",
        &replace("hidden = [2, 2]", "hidden = [2, 2]\nlayers = [{ units = 3 }]"),
        &[],
        &["bad.toml:10:1", "`model.layers`"],
    );
}

#[test]
fn huge_layer_is_refused_before_memory_is_taken() {
    check("huge", &replace("hidden = [2, 2]", "hidden = [100000, 100000]"), &[], &["`model.hidden`", "parameters"]);
}

#[test]
fn set_unknown_key() {
    check("set-unknown", BASE, &["optim.momentun=0.9"], &["--set optim.momentun=0.9", "`optim.momentun`"]);
}

#[test]
fn set_invalid_value() {
    check("set-invalid", BASE, &["optim.lr=-3"], &["--set optim.lr=-3", "`optim.lr`"]);
}

/// The error names the `--set` that made the value: the last of the key's, even when an
/// earlier one was fine, or one under an unknown table.
#[test]
fn set_errors_name_the_override_that_wins() {
    check("set-last", BASE, &["optim.lr=0.1", "optim.lr=-1"], &["(set by --set optim.lr=-1)"]);
    check("set-table", BASE, &["train.epochs=5", "train={epochs=0}"], &["(set by --set train={epochs=0})"]);
    check("set-unknown-table", BASE, &["nosuch.key=1"], &["--set nosuch.key=1", "`nosuch`"]);
}

/// A field the file never needed, asked for because a `--set` changed its table, names the
/// `--set` beside the table's place in the file.
#[test]
fn a_field_a_set_made_necessary_names_the_set() {
    check(
        "set-source",
        BASE,
        &["data.source=csv"],
        &["key `data.path`: missing field `path` (needed after --set data.source=csv)"],
    );
}

/// An empty path is no file, said against its key: joined to the config's folder it was the
/// folder ("Is a directory").
#[test]
fn an_empty_path_is_no_file() {
    let csv =
        |extra: &str| replace("source = \"half_adder\"", &format!("source = \"csv\"\ntargets = [\"y\"]\n{extra}"));
    check("empty-path", &csv("path = \"\""), &[], &["key `data.path`: must name a CSV file"]);
    let other = csv("path = \"x.csv\"\ntest_path = \"\"");
    check("empty-test-path", &other, &[], &["key `data.test_path`: must name a CSV file (leave it out for none)"]);
    check("empty-set", &csv("path = \"x.csv\""), &["data.path=\"\""], &["key `data.path`: must name a CSV file"]);
}

/// A device or a directory given as a config or a model file is refused at once: `/dev/zero`
/// was read into memory without end.
#[cfg(unix)]
#[test]
fn devices_and_directories_are_not_read_as_configs_or_models() {
    for (args, want) in [
        (&["train", "/dev/zero"][..], "/dev/zero: not a regular file: a config is read from a file or a pipe"),
        (&["train", "configs"][..], "configs: is a directory"),
        (&["predict", "/dev/zero", "--input", "0,1"][..], "/dev/zero: not a regular file: a model file"),
        (&["grad", "configs/half_adder.toml", "--model", "/dev/urandom"][..], "/dev/urandom: not a regular file"),
    ] {
        let run = backprop(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(want), "{args:?}: {}", run.stderr);
    }
}

/// A config that is not UTF-8 names the line and column of the first bad byte.
#[test]
fn a_config_not_in_utf8_names_the_place() {
    let tmp = scratch("bad-utf8");
    let path = tmp.path().join("latin1.toml");
    std::fs::write(&path, b"[experiment]\nname = \"caf\xe9\"\n").unwrap();
    let run = backprop(&["train", path.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("latin1.toml:2:12: not valid UTF-8"), "{}", run.stderr);
}

/// A held-out fraction that leaves its split empty names the key's line in the config.
#[test]
fn a_split_fraction_too_small_names_its_key() {
    let text = replace("source = \"half_adder\"", "source = \"sine\"\nsamples = 3\nvalidation = 0.1");
    check("split-small", &text, &[], &["bad.toml:8:1: key `data.validation`", "rounds to no samples"]);
}

/// A name longer than a folder's name may be is refused with its key, not an OS error.
#[test]
fn a_name_too_long_for_a_folder() {
    let long = format!("experiment.name={}", "x".repeat(300));
    check("long-name", BASE, &[&long], &["`experiment.name`", "at most 255 bytes, got 300"]);
}

/// `bce` on an output that can leave [0, 1] is refused (it trained to negative costs), as
/// PyTorch's `BCELoss` refuses such inputs.
#[test]
fn bce_needs_a_probability_output() {
    let text = replace("kind = \"half_mse\"", "kind = \"bce\"");
    check("bce-relu", &text, &["model.output_activation=relu"], &["`loss.kind`", "`relu`", "bce_with_logits"]);
    check("bce-tanh", &text, &["model.activation=tanh"], &["`tanh` (`model.activation`)"]);
}

/// An initialiser that draws values past the dtype's range is a bad config (exit 2), not a run
/// that diverged in its first epoch (exit 1).
#[test]
fn an_init_beyond_f32_names_the_key() {
    let sets = ["experiment.dtype=f32", "model.init={kind=\"constant\",value=1e300}"];
    check("init-f32", BASE, &sets, &["`model.init`", "draws inf in f32, beyond its range"]);
}

/// A parameter that f32 cannot hold, in an f32 run, is a bad config naming its key (exit 2):
/// taken as f32 it would be infinite (a run that "diverged" at once, exit 1) or 0.
#[test]
fn parameters_beyond_f32_name_the_key() {
    let f32 = "experiment.dtype=f32";
    check("lr-f32", BASE, &[f32, "optim.lr=1e39"], &["key `optim.lr`: 1e39 is beyond f32's range"]);
    let alpha = "model.activation={kind=\"elu\",alpha=-1e39}";
    check("alpha-f32", BASE, &[f32, alpha], &["key `model.activation.alpha`: -1e39 is beyond f32's range"]);
    check("eps-f32", BASE, &[f32, "optim={kind=\"adam\",eps=1e-50}"], &["key `optim.eps`: 1e-50 is 0 in f32"]);
    // The same values in f64 are fine (as far as the config goes).
    let tmp = scratch("lr-f64");
    let run = train_half_adder(&tmp.path().join("run"), &["optim.lr=1e39", "train.epochs=1"]);
    assert_ne!(run.code, 2, "{}", run.stderr);
}

/// A synthetic set whose `noise` makes values past f64's range is a config error at that key.
#[test]
fn noise_past_the_range_names_the_key() {
    let sets = ["data.source=moons", "data.noise=1e308"];
    check("noise-huge", BASE, &sets, &["key `data.noise`: moons: a value is beyond f64's range"]);
}

/// A model file to start from that cannot be read names the config's key and line as well as
/// the file.
#[test]
fn an_unreadable_init_from_names_the_key() {
    let text = replace("hidden = [2, 2]\n", "hidden = [2, 2]\ninit_from = \"nope/model.json\"\n");
    check("init-from", &text, &[], &["bad.toml:10:1: key `model.init_from`", "nope/model.json"]);
}

#[test]
fn set_through_a_value() {
    check("set-path", BASE, &["optim.lr.x=1"], &["--set optim.lr.x=1", "not a table"]);
}

#[test]
fn set_without_equals() {
    check("set-noeq", BASE, &["optim.lr"], &["--set optim.lr", "key=value"]);
}

#[test]
fn missing_config_file() {
    let run = backprop(&["train", "configs/does-not-exist.toml"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("does-not-exist.toml"), "{}", run.stderr);
}

#[test]
fn init_from_a_missing_file() {
    check("init-missing", BASE, &["model.init_from=\"nowhere.json\""], &["nowhere.json"]);
}

#[test]
fn init_from_another_architecture() {
    let model = root().join("tests/fixtures/seed_ann/init.json");
    let set = format!("model.init_from={:?}", model.to_str().unwrap());
    let layers = "the model has 2 inputs and layers [2 sigmoid, 2 sigmoid, 2 sigmoid], \
                  but the config asks for 2 inputs and layers [3 sigmoid, 2 sigmoid]";
    check("init-arch", BASE, &[&set, "model.hidden=[3]"], &["key `model.init_from`", "init.json", layers]);
}

/// Layers that differ only in an activation's parameter show it: by names alone the two
/// sides of the message read the same.
#[test]
fn init_from_with_other_activation_parameters_shows_them() {
    let tmp = scratch("init-params");
    let dir = tmp.path().join("run");
    let leaky = ["--set", "model.activation=\"leaky_relu\"", "--set", "train.epochs=1"];
    let run = backprop(&[&["train", "configs/half_adder.toml", "--out", dir.to_str().unwrap()][..], &leaky].concat());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let from = format!("model.init_from={:?}", dir.join("model.json").to_str().unwrap());
    let steeper = "model.activation={kind=\"leaky_relu\",negative_slope=0.2}";
    let out = tmp.path().join("again");
    let args = ["train", "configs/half_adder.toml", "--set", &from, "--set", steeper, "--out", out.to_str().unwrap()];
    let run = backprop(&args);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("layers [2 leaky_relu, 2 leaky_relu, 2 leaky_relu], but"), "{}", run.stderr);
    assert!(run.stderr.contains("[2 { kind = \"leaky_relu\", negative_slope = 0.2 }, 2 {"), "{}", run.stderr);
}

#[test]
fn init_from_a_broken_model_file() {
    let tmp = scratch("bad-model-file");
    let dir = tmp.path();
    let path = dir.join("m.json");
    std::fs::write(&path, r#"{"format": "backprop.model", "version": 9, "dtype": "f64", "inputs": 2, "layers": []}"#)
        .unwrap();
    let set = format!("model.init_from={:?}", path.to_str().unwrap());
    check("model-version", BASE, &[&set], &["m.json", "version 9"]);
}

#[test]
fn usage_errors_exit_2() {
    let run = backprop(&["train"]);
    assert_eq!(run.code, 2);
    let run = backprop(&["fly", "x.toml"]);
    assert_eq!(run.code, 2);
}

/// Writes `text` as a model file and runs `backprop grad --model` on it: exit 2, the file and
/// the place named.
fn bad_model(name: &str, text: &str, expected: &[&str]) {
    let tmp = scratch(&format!("bad-model-{name}"));
    let dir = tmp.path();
    let path = dir.join("m.json");
    std::fs::write(&path, text).unwrap();
    let run = backprop(&["grad", "configs/half_adder.toml", "--model", path.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{name}: {}", run.stderr);
    for want in expected {
        assert!(run.stderr.contains(want), "{name}: no {want:?} in {}", run.stderr);
    }
}

const GOOD_LAYER: &str = r#"{"units": 2, "activation": "sigmoid", "weights": [[1, 2], [3, 4]], "biases": [0, 0]}"#;

fn model(layers: &str) -> String {
    format!(r#"{{"format": "backprop.model", "version": 1, "dtype": "f64", "inputs": 2, "layers": [{layers}]}}"#)
}

#[test]
fn model_file_not_json() {
    bad_model(
        "not-json",
        "{\"format\": \"backprop.model\",\n  \"version\": ",
        &["m.json:2:", "not a valid model file"],
    );
}

#[test]
fn model_file_wrong_format() {
    bad_model("format", &model(GOOD_LAYER).replace("backprop.model", "keras"), &["m.json", "`format`"]);
}

#[test]
fn model_file_ragged_weights() {
    let layer = r#"{"units": 2, "activation": "sigmoid", "weights": [[1, 2], [3]], "biases": [0, 0]}"#;
    bad_model("ragged", &model(&[layer, GOOD_LAYER, GOOD_LAYER].join(",")), &["m.json", "layers[0].weights[1]"]);
}

/// A normalizer that would divide by 0 (or by a negative scale), or feature names that are not one per input, are
/// refused when the file is read: `predict` printed NaN with the first.
#[test]
fn model_file_normalizer_and_features() {
    let three = [GOOD_LAYER, GOOD_LAYER, GOOD_LAYER].join(",");
    let with = |extra: &str| model(&three).replacen("\"layers\"", &format!("{extra}, \"layers\""), 1);
    let scale = r#""normalizer": {"kind": "standardize", "shift": [0, 0], "scale": [1, 0]}"#;
    bad_model("scale-0", &with(scale), &["m.json", "normalizer.scale[1]: must be above 0 (a std or range), got 0"]);
    // The count named is the one that is off.
    let short = r#""normalizer": {"kind": "standardize", "shift": [0, 0], "scale": [1]}"#;
    bad_model("scale-short", &with(short), &["m.json", "normalizer.scale has 1 values for 2 inputs"]);
    let features = r#""features": ["a"]"#;
    bad_model("features", &with(features), &["m.json", "`features` names 1 columns for 2 inputs"]);
}

#[test]
fn model_file_bias_count() {
    let layer = r#"{"units": 2, "activation": "sigmoid", "weights": [[1, 2], [3, 4]], "biases": [0]}"#;
    bad_model("biases", &model(&[GOOD_LAYER, layer, GOOD_LAYER].join(",")), &["m.json", "layers[1]", "biases"]);
}

/// A layer of no units is named as such, not as a bias count that disagrees.
#[test]
fn model_file_zero_units() {
    let layer = r#"{"units": 0, "activation": "sigmoid", "weights": [[], []], "biases": []}"#;
    let expected = ["m.json", "layers[0].units: a layer needs at least 1 unit"];
    bad_model("zero-units", &model(&[layer, GOOD_LAYER, GOOD_LAYER].join(",")), &expected);
}

#[test]
fn model_file_unknown_activation() {
    let layer = GOOD_LAYER.replace("sigmoid", "sigmoidal");
    bad_model("activation", &model(&[GOOD_LAYER, GOOD_LAYER, &layer].join(",")), &["m.json", "sigmoidal"]);
}

#[test]
fn model_file_from_a_future_version() {
    bad_model("version", &model(GOOD_LAYER).replace("\"version\": 1", "\"version\": 3"), &["m.json", "version 3"]);
}

#[test]
fn model_file_with_classes_for_other_outputs() {
    let text = model(&[GOOD_LAYER, GOOD_LAYER, GOOD_LAYER].join(","))
        .replace("\"layers\"", "\"classes\": [\"a\", \"b\", \"c\"], \"layers\"");
    bad_model("classes", &text, &["m.json", "`classes`"]);
}

/// A wait policy that is neither `active` nor `passive` is refused before anything runs; both
/// of those train (the same bits: the policy only decides whether a thread spins).
#[test]
fn a_bad_wait_policy_is_refused() {
    let dir = scratch("wait-policy");
    let run = |policy: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_backprop-e2e"))
            .args(["train", "configs/half_adder.toml", "--set", "train.epochs=3", "--out"])
            .arg(dir.path().join(policy))
            .env("BACKPROP_WAIT_POLICY", policy)
            .current_dir(root())
            .output()
            .expect("the test binary runs");
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, stderr) = run("sometimes");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("BACKPROP_WAIT_POLICY=sometimes") && stderr.contains("`passive`"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for policy in ["passive", "active"] {
        let (code, stderr) = run(policy);
        assert_eq!(code, Some(0), "{policy}: {stderr}");
    }
}

/// Configs that only the data shows to be hopeless: one output under a softmax or
/// `cross_entropy` (the cost is 0 or constant, nothing learns), one class, early stopping on an
/// accuracy that regression does not have.
#[test]
fn one_output_classifiers_and_accuracy_without_classes() {
    let xor = replace("source = \"half_adder\"", "source = \"xor\"");
    check("ce-1", &xor, &["loss.kind=cross_entropy"], &["`loss.kind`", "over one output is always 0"]);
    check("softmax-1", &xor, &["model.output_activation=softmax"], &["`model.output_activation`", "always 1"]);
    // With [[model.layers]] instead of hidden too (it once let this one through).
    let layers = xor.replace("hidden = [2, 2]", "layers = [{ units = 3 }]");
    assert_ne!(layers, xor);
    check(
        "softmax-1-layers",
        &layers,
        &["model.output_activation=softmax"],
        &["`model.output_activation`", "always 1"],
    );
    let monitor = ["train.early_stopping={ monitor = \"accuracy\" }"];
    check("es-acc", BASE, &monitor, &["`train.early_stopping.monitor`", "needs a classification task"]);
    let tmp = scratch("bad-one-class");
    let csv = tmp.path().join("one.csv");
    std::fs::write(&csv, "a,b,y\n0,0,5\n0,1,5\n1,0,5\n").unwrap();
    let one = replace("source = \"half_adder\"", &format!("source = \"csv\"\npath = {csv:?}\ntargets = [\"y\"]"));
    check("one-class", &one, &["data.task=classification"], &["`data`", "single class"]);
}

/// Training from `model.init_from` checks the config against the data as training from drawn
/// weights does (an early stopping on accuracy in a regression trained, and never stopped),
/// and refuses a weight the run's dtype cannot hold, naming the key (it trained, "diverged" at
/// once, exit 1, and wrote a model file nothing could read).
#[test]
fn init_from_is_checked_as_drawn_weights_are() {
    let tmp = scratch("init-from-checks");
    let dir = tmp.path().join("sine");
    let run = backprop(&["train", "configs/sine.toml", "--set", "train.epochs=2", "--out", dir.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let model = dir.join("model.json");
    let from = format!("model.init_from={:?}", model.to_str().unwrap());
    let early = "train.early_stopping={monitor=\"val_accuracy\",patience=2}";
    let out = tmp.path().join("out");
    let train = |sets: &[&str]| {
        let mut args = vec!["train", "configs/sine.toml", "--set", "train.epochs=2", "--out", out.to_str().unwrap()];
        sets.iter().for_each(|s| args.extend(["--set", s]));
        backprop(&args)
    };
    for sets in [&[early][..], &[early, &from]] {
        let run = train(sets);
        assert_eq!(run.code, 2, "{sets:?}: {}", run.stderr);
        assert!(run.stderr.contains("train.early_stopping"), "{}", run.stderr);
    }
    let mut file = crate::util::json(&model);
    file["layers"][0]["weights"][0][0] = 1e39.into();
    let big = tmp.path().join("big.json");
    std::fs::write(&big, file.to_string()).unwrap();
    let from_big = format!("model.init_from={:?}", big.to_str().unwrap());
    let run = train(&[&from_big, "experiment.dtype=\"f32\""]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("key `model.init_from`"), "{}", run.stderr);
    assert!(run.stderr.contains("big.json: holds a weight that is inf in f32, beyond its range"), "{}", run.stderr);
    assert_eq!(train(&[&from_big]).code, 0, "1e39 is an f64");
}

/// A key written under a name that reads as another (Keras's `validation_split` for
/// `validation`) is found on its line: the error was placed at its table's header.
#[test]
fn an_alias_is_located_on_its_line() {
    let moons = replace("source = \"half_adder\"", "source = \"moons\"\nvalidation_split = 1.5");
    check("alias-validation", &moons, &[], &["bad.toml:7:1: key `data.validation`: must be a fraction in [0, 1)"]);
    // Given by --set, the --set is named.
    let plain = replace("source = \"half_adder\"", "source = \"moons\"\nvalidation = 0.2");
    check(
        "alias-set",
        &plain,
        &["data.validation_split=1.5"],
        &["(set by --set data.validation_split=1.5): key `data.validation`"],
    );
    // Either name set replaces the other, as a sweep's grid sets it too (both were refused).
    let tmp = scratch("alias-replace");
    for (text, set, want) in
        [(&moons, "data.validation=0.3", "validation = 0.3"), (&plain, "data.validation_split=0.1", "validation = 0.1")]
    {
        let text = text.replace("validation_split = 1.5", "validation_split = 0.2");
        let path = tmp.path().join("ok.toml");
        std::fs::write(&path, text).unwrap();
        let out = tmp.path().join(set);
        let run = backprop(&[
            "train",
            path.to_str().unwrap(),
            "--set",
            set,
            "--set",
            "train.epochs=1",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(run.code, 0, "{set}: {}", run.stderr);
        let resolved = std::fs::read_to_string(out.join("config.toml")).unwrap();
        assert!(resolved.contains(want) && !resolved.contains("validation_split"), "{set}: {resolved}");
    }
}

/// A `--set` of a quoted name with a dot in it (`"model.hidden"`, one key of that name) is an
/// unknown key named as written and blamed on the --set (it was blamed on the file's line of
/// `model.hidden`, as the key `model.hidden.model.hidden`).
#[test]
fn a_quoted_dotted_key_in_set_is_named_as_written() {
    check(
        "set-quoted",
        BASE,
        &["\"model.hidden\"=[3]"],
        &["(set by --set \"model.hidden\"=[3]): key `\"model.hidden\"`: unknown field `model.hidden`"],
    );
    check(
        "set-quoted-inner",
        BASE,
        &["model.\"hidden.x\"=[3]"],
        &["(set by --set model.\"hidden.x\"=[3]): key `model.\"hidden.x\"`: unknown field `hidden.x`"],
    );
}

/// Scaled targets with a loss on logits over an output layer that is not the one it absorbs:
/// the outputs are logits, which `predict` would scale back as targets (sin(π/2) came back as
/// 5.0). Refused at the key; with the absorbed activation it trains.
#[test]
fn scaled_targets_with_logit_outputs_are_refused() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../configs/sine.toml")).unwrap();
    let sets = ["loss.kind=\"bce_with_logits\"", "data.normalize_targets=\"minmax\""];
    check(
        "logit-targets",
        &text,
        &sets,
        &["key `data.normalize_targets`: the network's outputs are logits (`bce_with_logits` on an `identity` output"],
    );
    // Standardized targets (half below 0) with outputs in (0, 1), or a loss on [0, 1] targets.
    for (name, loss) in [("sigmoid-mse", "mse"), ("sigmoid-bce", "bce"), ("sigmoid-logits", "bce_with_logits")] {
        let loss = format!("loss.kind=\"{loss}\"");
        let sets = ["data.normalize_targets=\"standardize\"", "model.output_activation=\"sigmoid\"", &loss];
        let want = "key `data.normalize_targets`: standardized targets are about half below 0, and a `sigmoid` output";
        check(name, &text, &sets, &[want, "use `normalize_targets = \"minmax\"`"]);
    }
}

/// A data file that cannot be read is a config error at the key that names it, as every other
/// bad value is.
#[test]
fn an_unreadable_data_file_is_named_at_its_key() {
    let csv = replace("source = \"half_adder\"", "source = \"csv\"\npath = \"nothere.csv\"\ntargets = [\"y\"]");
    check("missing-data", &csv, &[], &["bad.toml:7:1: key `data.path`", "nothere.csv: No such file or directory"]);
}
