//! `backprop grad` and `backprop gradcheck`.

use crate::util::{assert_close, backprop, fixture, layer_numbers};

/// Our gradients at the seed program's start equal its `get_cost_gradients` (fixture made by
/// `tests/fixtures/seed_ann/grad_at_init.py`).
#[test]
fn grad_matches_the_seed_program() {
    let init = fixture("seed_ann/init.json");
    let run = backprop(&["grad", "configs/half_adder.toml", "--model", init.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ours: serde_json::Value = serde_json::from_str(&run.stdout).expect("grad prints JSON");
    let theirs = crate::util::json(&fixture("seed_ann/grad_init.json"));
    assert_close(&[ours["cost"].as_f64().unwrap()], &[theirs["cost"].as_f64().unwrap()], 1e-12, "cost");
    assert_close(&layer_numbers(&ours), &layer_numbers(&theirs), 1e-9, "gradients");
}

#[test]
fn gradcheck_passes_on_the_half_adder_and_reports_every_layer() {
    let run = backprop(&["gradcheck", "configs/half_adder.toml"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let rows: Vec<&str> = run.stdout.lines().filter(|l| l.trim_end().ends_with("ok")).collect();
    assert_eq!(rows.len(), 3, "{}", run.stdout);
    assert!(run.stdout.starts_with("gradient check (f64, central differences, epsilon 1e-5, tolerance 1e-6)"));
    // Extreme values in exponent form, not as 301 digits.
    let run = backprop(&["gradcheck", "configs/half_adder.toml", "--epsilon", "1e300"]);
    assert!(run.stdout.starts_with("gradient check (f64, central differences, epsilon 1e300,"), "{}", run.stdout);
}

/// A tolerance nobody can meet makes the check fail with exit 1: the check can fail.
#[test]
fn gradcheck_fails_with_exit_1_beyond_tolerance() {
    let run = backprop(&["gradcheck", "configs/half_adder.toml", "--tolerance", "0", "--epsilon", "0.5"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("FAIL"));
    // Between 1e-4 and 1e6 (and 0) the header writes numbers plainly, beyond them with an exponent.
    assert!(
        run.stdout.starts_with("gradient check (f64, central differences, epsilon 0.5, tolerance 0)\n"),
        "{}",
        run.stdout
    );
}

/// A tolerance or epsilon that is no number of the right sign is bad usage (exit 2), not a
/// failed check.
#[test]
fn gradcheck_refuses_a_negative_or_nan_tolerance_with_exit_2() {
    for (flag, value) in [("--tolerance", "-1"), ("--tolerance", "nan"), ("--epsilon", "0")] {
        let run = backprop(&["gradcheck", "configs/half_adder.toml", &format!("{flag}={value}")]);
        assert_eq!(run.code, 2, "{flag} {value}: {}\n{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(flag), "{flag} {value}: {}", run.stderr);
    }
}

/// Data whose values overflow the network's sums: `grad` prints no null gradients with exit 0,
/// and `gradcheck` shows NaN errors, not 0, for the layers it fails.
#[test]
fn non_finite_gradients_are_failures_not_numbers() {
    let tmp = crate::util::scratch("grad-overflow");
    let dir = tmp.path();
    std::fs::write(dir.join("big.csv"), "a,b,y\n1e300,1,0\n0,1,1\n1,0,1\n-1e300,1,0\n").unwrap();
    let config = "[data]\nsource = \"csv\"\npath = \"big.csv\"\ntargets = [\"y\"]\ntask = \"regression\"\n\
                  [model]\nhidden = [3, 3]\nactivation = \"relu\"\noutput_activation = \"identity\"\n\
                  [loss]\nkind = \"mse\"\n[optim]\nkind = \"sgd\"\n[train]\nepochs = 5\n";
    std::fs::write(dir.join("c.toml"), config).unwrap();
    let cfg = dir.join("c.toml");
    let run = backprop(&["grad", cfg.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.is_empty() && run.stderr.contains("is not finite"), "{}", run.stderr);
    let run = backprop(&["gradcheck", cfg.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("NaN") && !run.stdout.contains("0.000e0"), "{}", run.stdout);
    assert!(run.stderr.contains("a gradient is not finite"), "{}", run.stderr);
}

/// bce's gradient is PyTorch's, floored where an output is within 1e-12 of 0 or 1, so there it is
/// not the cost's derivative and the gradient check fails on a correct model: the message says
/// why, and which loss has the exact gradient.
#[test]
fn gradcheck_explains_bce_s_floored_gradient_on_saturated_outputs() {
    let tmp = crate::util::scratch("gradcheck-bce");
    let dir = tmp.path();
    std::fs::write(dir.join("d.csv"), "x,t\n0,1\n1,0\n").unwrap();
    let config = "[data]\nsource = \"csv\"\npath = \"d.csv\"\ntargets = [\"t\"]\ntask = \"classification\"\n\
                  [model]\nhidden = []\noutput_activation = \"sigmoid\"\n\
                  init = { kind = \"constant\", value = -30.0 }\n[loss]\nkind = \"bce\"\n[train]\nepochs = 1\n";
    std::fs::write(dir.join("bce.toml"), config).unwrap();
    let path = dir.join("bce.toml");
    let run = backprop(&["gradcheck", path.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("within 1e-12 of 0 or 1, where bce's gradient is PyTorch's"), "{}", run.stderr);
    // Away from 0 and 1 it is the derivative, and the check passes.
    let run = backprop(&["gradcheck", path.to_str().unwrap(), "--set", "model.init={kind=\"constant\",value=-1.0}"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}
