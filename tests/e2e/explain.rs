//! `backprop explain` agrees with `backprop grad` to the last bit on a one-sample data set, and
//! run directories get their plots.

use backprop_tensor::math;

use crate::util::{backprop, json, scratch};

#[test]
fn explain_equals_grad_on_one_sample() {
    let tmp = scratch("explain-one");
    let dir = tmp.path();
    std::fs::write(dir.join("one.csv"), "a,b,y1,y2\n0.3,-1.2,1,0\n").unwrap();
    let config = dir.join("one.toml");
    std::fs::write(
        &config,
        "[experiment]\nseed = 5\n\n[data]\nsource = \"csv\"\npath = \"one.csv\"\ntargets = [\"y1\", \"y2\"]\n\n\
         [model]\nhidden = [3, 2]\nactivation = \"tanh\"\noutput_activation = \"sigmoid\"\n\n[train]\nepochs = 1\n",
    )
    .unwrap();
    let c = config.to_str().unwrap();
    let grad = backprop(&["grad", c]);
    assert_eq!(grad.code, 0, "{}", grad.stderr);
    let grad: serde_json::Value = serde_json::from_str(&grad.stdout).unwrap();
    let explain = backprop(&["explain", c, "--sample", "0", "--format", "json"]);
    assert_eq!(explain.code, 0, "{}", explain.stderr);
    let explain: serde_json::Value = serde_json::from_str(&explain.stdout).unwrap();
    assert_eq!(explain["cost"], grad["cost"]);
    let layers = explain["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 3);
    for (e, g) in layers.iter().zip(grad["layers"].as_array().unwrap()) {
        assert_eq!(e["grad_weights"], g["weights"], "weights, to the last bit");
        assert_eq!(e["grad_biases"], g["biases"]);
        assert_eq!(e["delta"], g["biases"], "∂C/∂b = δ for one sample");
    }
    let text = backprop(&["explain", c]);
    assert!(text.stdout.contains("δ³ = ∂C/∂a³ ⊙ σ′(z³)"), "{}", text.stdout);
}

/// `--input` takes the inputs as the data file gives them and normalises them as the data
/// was (as `predict --input` does): on standardised data it explains the sample with those raw
/// inputs, as `--sample` does. It used to take them as already normalised. A `--target` that is
/// not that sample's makes it no sample of the data.
#[test]
fn explain_input_is_normalised_as_the_data_is() {
    let tmp = scratch("explain-normalised");
    let dir = tmp.path();
    std::fs::write(
        dir.join("d.csv"),
        "a,b,y
1,10,0
2,30,1
4,20,1
7,40,0
",
    )
    .unwrap();
    let config = dir.join("d.toml");
    std::fs::write(
        &config,
        r#"[data]
source = "csv"
path = "d.csv"
targets = ["y"]
task = "regression"
normalize = "standardize"

[model]
hidden = [3]
activation = "tanh"
output_activation = "identity"

[loss]
kind = "mse"

[train]
epochs = 1
"#,
    )
    .unwrap();
    let c = config.to_str().unwrap();
    let by_index = backprop(&["explain", c, "--sample", "2", "--format", "json"]);
    assert_eq!(by_index.code, 0, "{}", by_index.stderr);
    let by_input = backprop(&["explain", c, "--input", "4,20", "--format", "json"]);
    assert_eq!(by_input.code, 0, "{}", by_input.stderr);
    assert_eq!(by_input.stdout, by_index.stdout, "the raw inputs of sample 2 explain sample 2");
    let other_target = backprop(&["explain", c, "--input", "4,20", "--target", "5"]);
    assert_eq!(other_target.code, 0, "{}", other_target.stderr);
    assert!(!other_target.stdout.contains("sample 2"), "{}", other_target.stdout);
}

/// An input or target that is not a finite number is bad input (exit 2), named.
#[test]
fn explain_refuses_non_finite_inputs_and_targets() {
    for (args, flag) in [
        (["--input", "0,1", "--target", "nan,0"], "--target NaN,0"),
        (["--input", "nan,1", "--target", "0,0"], "--input NaN,1"),
    ] {
        let run = backprop(&[&["explain", "configs/half_adder.toml"][..], &args[..]].concat());
        assert_eq!(run.code, 2, "{flag}: {}", run.stderr);
        assert!(run.stderr.contains(&format!("{flag}: NaN is not a finite number")), "{}", run.stderr);
    }
}

#[test]
fn runs_get_plots_and_plot_redraws_them() {
    let tmp = scratch("plots");
    let out = tmp.path();
    let run = backprop(&["train", "configs/moons.toml", "--set", "train.epochs=5", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for f in ["loss.svg", "decision.svg"] {
        let svg = std::fs::read_to_string(out.join(f)).unwrap();
        assert!(svg.contains("<svg") && svg.trim_end().ends_with("</svg>"), "{f}");
        std::fs::remove_file(out.join(f)).unwrap();
    }
    let run = backprop(&["plot", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(out.join("loss.svg").is_file() && out.join("decision.svg").is_file());
    let wrote = format!("Wrote {}\nWrote {}\n", out.join("loss.svg").display(), out.join("decision.svg").display());
    assert_eq!(run.stdout, wrote, "it says what it wrote");
    assert_eq!(json(&out.join("summary.json"))["epochs_run"], 5);
    // A run directory that cannot be redrawn (its model gone) is left as it was.
    std::fs::remove_file(out.join("loss.svg")).unwrap();
    std::fs::rename(out.join("model.json"), out.join("model.kept")).unwrap();
    let run = backprop(&["plot", out.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(!out.join("loss.svg").exists(), "a new loss.svg beside the old decision.svg");
}

/// `train` and `plot` agree on which runs get decision regions: here xor, a truth table (two
/// inputs, 0/1 targets, trained as regression), and they draw the same picture.
#[test]
fn truth_table_runs_get_the_decision_regions_plot_draws() {
    let tmp = scratch("plots-xor");
    let out = tmp.path();
    let run =
        backprop(&["train", "configs/xor_tanh_adam.toml", "--set", "train.epochs=50", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let trained = std::fs::read_to_string(out.join("decision.svg")).expect("train drew decision.svg");
    std::fs::remove_file(out.join("decision.svg")).unwrap();
    let run = backprop(&["plot", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(out.join("decision.svg")).unwrap(), trained);
}

/// Numbers that are not finite are an error, not output: a pass that overflows exits 1 as
/// `grad` does (it printed `inf`, and `null` in the JSON), and an input or target finite as
/// written but not in the run's dtype exits 2 naming it (it printed `inf` inputs).
#[test]
fn explain_refuses_numbers_that_are_not_finite() {
    let explain = |sets: &[&str], args: &[&str]| {
        let mut all = vec!["explain", "configs/half_adder.toml"];
        sets.iter().for_each(|s| all.extend(["--set", s]));
        all.extend(args);
        backprop(&all)
    };
    let identity = ["model.activation=\"identity\""];
    let run = explain(&identity, &["--input", "1e308,1e308", "--target", "0,0", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("the cost is not finite (inf) at these weights on this sample"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let f32 = ["experiment.dtype=\"f32\""];
    let run = explain(&f32, &["--input", "1e39,0", "--target", "0,0"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--input 1e39,0: value 1 (1e39) is beyond f32's range"), "{}", run.stderr);
    let run = explain(&f32, &["--input", "0,0", "--target", "0,1e39"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--target 0,1e39: value 2 (1e39) is beyond f32's range"), "{}", run.stderr);
    assert_eq!(explain(&f32, &["--input", "0,0", "--target", "0,1"]).code, 0);
    // With a normalizer: a value past f32's range as given is said so, not blamed on the scaling.
    let args = ["explain", "configs/moons.toml", "--set", f32[0], "--input", "1e39,0", "--target", "1,0"];
    let run = backprop(&args);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--input 1e39,0: value 1 (1e39) is beyond f32's range\n"), "{}", run.stderr);
}

/// With a normalizer, x is said to be the scaled input (in text, and `normalized` in JSON); a
/// truth table's has no such line.
#[test]
fn explain_says_when_x_is_scaled() {
    let run = backprop(&["explain", "configs/moons.toml", "--input", "1,0", "--target", "1,0"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("(x as the network sees it: the input scaled by the data's normalizer)"),
        "{}",
        run.stdout
    );
    let run = backprop(&["explain", "configs/moons.toml", "--sample", "0", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(v["normalized"], true);
    let run = backprop(&["explain", "configs/half_adder.toml", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(v.get("normalized"), None);
    let run = backprop(&["explain", "configs/half_adder.toml"]);
    assert!(!run.stdout.contains("normalizer"), "{}", run.stdout);
}

/// `--input` and `--target` take spaces around their numbers, as `predict --input` does.
#[test]
fn explain_inputs_may_have_spaces() {
    let run = backprop(&["explain", "configs/half_adder.toml", "--input", " 1, 1", "--target", "0 ,1 "]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("Explaining sample 3: x = a⁰ = [1, 1], target t = [0, 1]"), "{}", run.stdout);
}

/// A classifier's `--target` may name a class: its one-hot target, as a sample of that class
/// has; an unknown name lists the classes, and a data set without classes wants numbers.
#[test]
fn explain_takes_a_class_by_name() {
    let moons = |target: &str| {
        backprop(&["explain", "configs/moons.toml", "--input", "0.5,0.25", "--target", target, "--format", "json"])
    };
    let (named, numbers) = (moons("1"), moons("0,1"));
    assert_eq!(named.code, 0, "{}", named.stderr);
    let v: serde_json::Value = serde_json::from_str(&named.stdout).expect("JSON");
    assert_eq!(v["target"], serde_json::json!([0.0, 1.0]), "class `1` of two");
    assert_eq!(named.stdout, numbers.stdout, "the same as its one-hot numbers");
    let unknown = moons("blue");
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    assert!(unknown.stderr.contains("--target blue: not a class of the data (`0`, `1`)"), "{}", unknown.stderr);
    // A class's name may hold a comma.
    let run = backprop(&["explain", "configs/moons.toml", "--input", "0.5,0.25", "--target", "a, b"]);
    assert!(run.stderr.contains("--target a, b: not a class of the data"), "{}", run.stderr);
    let run = backprop(&["explain", "configs/half_adder.toml", "--input", "1,1", "--target", "carry"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let no_classes = "--target carry: not one number per output, and the data has no classes to name";
    assert!(run.stderr.contains(no_classes), "{}", run.stderr);
    let run = backprop(&["explain", "configs/half_adder.toml", "--input", "1,1", "--target", "0,x"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--target 0,x: not one number per output"), "{}", run.stderr);
}

/// `--sample k` counts the training split's samples; the explanation names the data row the
/// sample is (the held-out rows leave gaps), and with `label_smoothing` it gives the target the
/// loss compares against, `t′ = (1 − ε)·t + ε/K`, whose cross-entropy is the cost shown (it
/// showed `t` beside a cost computed from `t′`).
#[test]
fn explain_names_the_data_row_and_the_smoothed_target() {
    let tmp = scratch("explain-row");
    let dir = tmp.path();
    let rows = ["0.1,0.2,a", "0.3,0.4,b", "0.5,0.6,a", "0.7,0.8,b", "0.9,1.0,a", "1.1,1.2,b"];
    std::fs::write(dir.join("ab.csv"), format!("x,y,label\n{}\n", rows.join("\n"))).unwrap();
    let config = dir.join("ab.toml");
    std::fs::write(
        &config,
        "[data]\nsource = \"csv\"\npath = \"ab.csv\"\ntargets = [\"label\"]\ntask = \"classification\"\nvalidation = 0.34\n\n\
         [model]\nhidden = [3]\nactivation = \"tanh\"\n\n[loss]\nkind = \"cross_entropy\"\nlabel_smoothing = 0.1\n\n\
         [train]\nepochs = 1\n",
    )
    .unwrap();
    let c = config.to_str().unwrap();
    let mut seen = Vec::new();
    for k in 0..4 {
        let run = backprop(&["explain", c, "--sample", &k.to_string(), "--format", "json"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let row = v["data_row"].as_u64().expect("a data row") as usize;
        let fields: Vec<&str> = rows[row - 1].split(',').collect();
        let input: Vec<f64> = fields[..2].iter().map(|f| f.parse().unwrap()).collect();
        assert_eq!(v["input"], serde_json::json!(input), "sample {k} is data row {row}");
        let t: Vec<f64> = serde_json::from_value(v["target"].clone()).unwrap();
        assert_eq!(t, if fields[2] == "a" { [1.0, 0.0] } else { [0.0, 1.0] });
        let smoothed: Vec<f64> = serde_json::from_value(v["smoothed_target"].clone()).unwrap();
        assert_eq!(smoothed, t.iter().map(|t| 0.9 * t + 0.05).collect::<Vec<_>>());
        // The cost is the cross-entropy of the logits (the tanh outputs a²) against t′, not t.
        let z: Vec<f64> = serde_json::from_value(v["layers"][1]["a"].clone()).unwrap();
        let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = m + math::ln(z.iter().map(|z| math::exp(z - m)).sum::<f64>());
        let want: f64 = smoothed.iter().zip(&z).map(|(t, z)| -t * (z - lse)).sum();
        let cost = v["cost"].as_f64().unwrap();
        assert!((cost - want).abs() <= 1e-14 * want.abs(), "sample {k}: {cost} against {want}");
        seen.push(row);
    }
    assert_eq!(seen.len(), 4);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "the training rows in file order: {seen:?}");
    let k = seen.iter().enumerate().position(|(k, r)| *r != k + 1).expect("held-out rows leave gaps");
    let text = backprop(&["explain", c, "--sample", &k.to_string()]);
    assert!(text.stdout.contains(&format!("Explaining sample {k} (the data's row {})", seen[k])), "{}", text.stdout);
    assert!(
        text.stdout.contains("label_smoothing ε = 0.1: the loss compares against t′ = (1 − ε)·t + ε/2 = "),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("C = cross_entropy(a², t′) = "), "{}", text.stdout);
}
