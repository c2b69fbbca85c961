//! The shipped example configs train to their truth tables, and schedules and clipping reach the
//! training loop.

use crate::util::{backprop, json, metrics, scratch, train_half_adder};

/// Trains `config` and checks the final cost and that every output rounds to its target.
fn learns(config: &str, max_cost: f64) {
    let tmp = scratch(config.trim_start_matches("configs/").trim_end_matches(".toml"));
    let out = tmp.path();
    let run = backprop(&["train", config, "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{config}: {}", run.stderr);
    let final_cost = json(&out.join("summary.json"))["final_cost"].as_f64().unwrap();
    assert!(final_cost < max_cost, "{config}: final cost {final_cost}");
    let lines: Vec<&str> = run.stdout.lines().skip_while(|l| !l.starts_with("Neural net output")).skip(1).collect();
    let rows: Vec<&str> = lines.iter().copied().take_while(|l| l.starts_with("  (")).collect();
    assert!(!rows.is_empty(), "{config}: no outputs printed");
    for row in rows {
        let (input, output) = row.trim().split_once(" : ").unwrap();
        let bits: Vec<u32> = input.trim_matches(['(', ')']).split(", ").map(|b| b.parse().unwrap()).collect();
        let got: Vec<u32> = output
            .trim_matches(['[', ']'])
            .split_whitespace()
            .map(|v| v.parse::<f64>().unwrap().round() as u32)
            .collect();
        let sum: u32 = bits.iter().sum();
        let want = match (config, bits.len()) {
            (c, 2) if c.contains("xor") => vec![sum % 2],
            (_, 3) => vec![sum % 2, sum / 2],
            _ => unreachable!("{config}"),
        };
        assert_eq!(got, want, "{config}: {row}");
    }
}

#[test]
fn xor_with_tanh_bce_and_adam() {
    learns("configs/xor_tanh_adam.toml", 0.01);
}

#[test]
fn full_adder_with_nesterov_momentum() {
    learns("configs/full_adder.toml", 0.001);
}

/// A step schedule that all but stops the learning rate after epoch 1: the cost stays put from
/// then on, which it does not without the schedule.
#[test]
fn schedules_reach_the_training_loop() {
    let costs = |sets: &[&str], name: &str| {
        let tmp = scratch(name);
        let out = tmp.path();
        let run = train_half_adder(out, &[&["train.epochs=50"], sets].concat());
        assert_eq!(run.code, 0, "{}", run.stderr);
        metrics(out).into_iter().map(|(_, c)| c).collect::<Vec<f64>>()
    };
    let frozen = costs(&["optim.schedule={ kind = \"step\", step_size = 1, gamma = 1e-12 }"], "sched-frozen");
    assert!(frozen[1] < frozen[0], "epoch 1 runs at the base lr");
    assert!(frozen[2..].iter().all(|c| (c - frozen[1]).abs() < 1e-9), "{frozen:?}");
    let free = costs(&[], "sched-free");
    assert!((free[50] - free[1]).abs() > 1e-6);
    let clipped = costs(&["optim.clip_value=1e-12"], "clip-tiny");
    assert!(clipped.iter().all(|c| (c - clipped[0]).abs() < 1e-9), "tiny clip_value: no progress");
}

/// Softmax outputs under cross-entropy (the fused δᴸ = (a − t)/N) train, and the same net with
/// identity outputs (cross-entropy on logits) follows the very same costs: softmax is applied
/// once either way.
#[test]
fn softmax_cross_entropy_is_fused_once() {
    let run_costs = |activation: &str, name: &str| {
        let tmp = scratch(name);
        let out = tmp.path();
        let set = format!("model.output_activation={activation}");
        let run = train_half_adder(out, &["loss.kind=\"cross_entropy\"", &set, "train.epochs=30"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        metrics(out).into_iter().map(|(_, c)| c).collect::<Vec<f64>>()
    };
    let softmax = run_costs("softmax", "ce-softmax");
    let logits = run_costs("identity", "ce-identity");
    assert!(softmax[30] < softmax[0] - 1e-3, "it trains: {} -> {}", softmax[0], softmax[30]);
    for (a, b) in softmax.iter().zip(&logits) {
        assert!((a - b).abs() <= 1e-12 * b.abs(), "softmax {a} vs logits {b}");
    }
}

/// `[train] diagnostics = true` adds per-layer columns to metrics.csv: gradient norms that
/// shrink as the half adder converges, update ratios, saturated sigmoids, dead relus.
#[test]
fn diagnostics_are_logged_per_layer() {
    let tmp = scratch("diagnostics");
    let out = tmp.path();
    let run = train_half_adder(out, &["train.diagnostics=true"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for l in 1..=3 {
        for name in ["grad_norm", "update_ratio", "saturated", "dead"] {
            let col = crate::util::column(out, &format!("l{l}_{name}"));
            assert_eq!(col.len(), 20001);
            assert!(col.iter().all(|v| v.is_finite() && *v >= 0.0), "l{l}_{name}");
        }
    }
    let g = crate::util::column(out, "l3_grad_norm");
    assert!(g[20000] < g[1], "the output layer's gradient shrinks as it converges: {} -> {}", g[1], g[20000]);
    let relu_tmp = scratch("diagnostics-relu");
    let relu = relu_tmp.path();
    let run = train_half_adder(
        relu,
        &["train.diagnostics=true", "model.activation=relu", "model.output_activation=sigmoid", "train.epochs=50"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(crate::util::column(relu, "l1_dead").iter().all(|v| (0.0..=1.0).contains(v)));
    assert!(crate::util::column(relu, "l1_saturated").iter().all(|v| *v == 0.0), "relu never saturates");
}
