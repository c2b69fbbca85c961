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
}

/// A tolerance nobody can meet makes the check fail with exit 1: the check can fail.
#[test]
fn gradcheck_fails_with_exit_1_beyond_tolerance() {
    let run = backprop(&["gradcheck", "configs/half_adder.toml", "--tolerance", "0", "--epsilon", "0.5"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("FAIL"));
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
