//! Whole training runs against PyTorch: from the same initial weights on the same CSV data,
//! `backprop train` ends at PyTorch's final weights and records PyTorch's cost after every epoch.
//!
//! The fixtures (`tests/fixtures/torch_parity/`, made by hand with `make_fixtures.py` and torch
//! 2.15 in float64, never in CI) hold, per case, the initial network in our model-file layout,
//! PyTorch's network after training, its per-epoch costs and the lr each epoch used. Each case
//! here is the config that says in our terms what the script's PyTorch code does: full batch (no
//! shuffling), f64, no normalisation, no held-out split.

use std::path::Path;

use crate::util::{backprop, column, fixture, json, layer_numbers, scratch};

/// Relative tolerance on every final weight and bias, every per-epoch cost and every lr.
///
/// Both sides compute the same formulas in f64 but not with the same roundings (our own `exp`,
/// Adam's `b1·m + (1 − b1)·g` and `step·m/denom` against torch's `lerp` and `addcdiv`,
/// (1 − a)(1 + a) against 1 − a², sums in another order, the cosine schedule's closed form
/// against torch's recursion), so each step differs by a few units in the last place, and
/// training carries those along. How far it carries them is the run's conditioning, which the
/// fixtures record: PyTorch against itself from a start moved by one ulp (`one_ulp_sensitivity`)
/// differs by up to 1.2e-13 in the weights and 3.9e-14 in the costs (case d).
///
/// Observed (torch 2.15.0 fixtures, x86-64): largest relative difference 9.6e-14 in the weights
/// (case a), 6.5e-14 in the costs (case d), 6.3e-15 in the lrs (case c); the test prints them
/// (`--nocapture`). 1e-11 leaves a margin of 100 over both, and is still far below a real
/// difference of convention: tried in the fixture script's PyTorch code, the smallest slips
/// (Adam's eps 1e-7 instead of 1e-8; GELU's tanh approximation) move the weights by 7e-3 and
/// 1.5e-2, and the others (a missing weight decay, a ½ on the loss, Nesterov off, Adam's coupled
/// decay for AdamW's, the schedule stepped one epoch early) by 0.2 to 100.
const REL: f64 = 1e-11;

/// Values whose size is below this fraction of the largest of their kind are compared as if
/// they were this size: a weight that ends near 0 after starting near 1 carries the absolute
/// rounding of the larger values it was computed from. (With these fixtures it changes nothing:
/// the plain relative differences have the same maxima.)
const FLOOR: f64 = 1e-3;

/// One case: the config's tables below `[data]`'s source (the same hyperparameters as
/// `make_fixtures.py`'s PyTorch code for that case).
struct Case {
    name: &'static str,
    data: &'static str,
    rest: &'static str,
}

const A: Case = Case {
    name: "a_tanh_mse_adam",
    data: "targets = [\"y1\", \"y2\"]\ntask = \"regression\"",
    rest: r#"
[model]
hidden = [6, 5]
activation = "tanh"
output_activation = "identity"

[loss]
kind = "mse"

[optim]
kind = "adam"
lr = 0.01
weight_decay = 1e-3

[train]
epochs = 150
"#,
};
const B: Case = Case {
    name: "b_relu_softmax_cross_entropy_sgd",
    data: "targets = [\"class\"]\ntask = \"classification\"",
    rest: r#"
[model]
hidden = [8]
activation = "relu"
output_activation = "softmax"

[loss]
kind = "cross_entropy"

[optim]
kind = "sgd"
lr = 0.1
momentum = 0.9
nesterov = true
weight_decay = 1e-3

[train]
epochs = 150
"#,
};
const C: Case = Case {
    name: "c_gelu_sigmoid_bce_with_logits_adamw_cosine",
    data: "targets = [\"p1\", \"p2\"]\ntask = \"regression\"",
    rest: r#"
[model]
hidden = [6]
activation = "gelu"
output_activation = "sigmoid"

[loss]
kind = "bce_with_logits"

[optim]
kind = "adamw"
lr = 0.02
betas = [0.85, 0.995]
weight_decay = 0.05

[optim.schedule]
kind = "cosine"
t_max = 100
eta_min = 1e-3

[train]
epochs = 130
"#,
};
const D: Case = Case {
    name: "d_elu_huber_rmsprop",
    data: "targets = [\"y1\", \"y2\"]\ntask = \"regression\"",
    rest: r#"
[model]
hidden = [6, 4]
activation = { kind = "elu", alpha = 0.7 }
output_activation = "identity"

[loss]
kind = "huber"
delta = 0.5

[optim]
kind = "rmsprop"
lr = 0.003
alpha = 0.99
eps = 1e-8
weight_decay = 1e-3
momentum = 0.5
centered = true

[train]
epochs = 150
"#,
};
const E: Case = Case {
    name: "e_silu_mae_adagrad",
    data: "targets = [\"y1\", \"y2\"]\ntask = \"regression\"",
    rest: r#"
[model]
hidden = [7]
activation = "silu"
output_activation = "identity"

[loss]
kind = "mae"

[optim]
kind = "adagrad"
lr = 0.05
lr_decay = 0.01
initial_accumulator_value = 0.1

[train]
epochs = 150
"#,
};

const F: Case = Case {
    name: "f_tanh_mse_nadam_exponential",
    data: "targets = [\"y1\", \"y2\"]\ntask = \"regression\"",
    rest: r#"
[model]
hidden = [6]
activation = "tanh"
output_activation = "identity"

[loss]
kind = "mse"

[optim]
kind = "nadam"
lr = 0.02
momentum_decay = 0.01
weight_decay = 1e-2
decoupled_weight_decay = true

[optim.schedule]
kind = "exponential"
gamma = 0.995

[train]
epochs = 150
"#,
};
const G: Case = Case {
    name: "g_relu_softmax_cross_entropy_radam",
    data: "targets = [\"class\"]\ntask = \"classification\"",
    rest: r#"
[model]
hidden = [8]
activation = "relu"
output_activation = "softmax"

[loss]
kind = "cross_entropy"

[optim]
kind = "radam"
lr = 0.01
betas = [0.9, 0.99]
weight_decay = 1e-3

[train]
epochs = 150
"#,
};
const H: Case = Case {
    name: "h_softplus_huber_adamax",
    data: "targets = [\"y1\", \"y2\"]\ntask = \"regression\"",
    rest: r#"
[model]
hidden = [6]
activation = "softplus"
output_activation = "identity"

[loss]
kind = "huber"
delta = 1.0

[optim]
kind = "adamax"
lr = 0.02
betas = [0.8, 0.99]
weight_decay = 1e-3

[train]
epochs = 150
"#,
};
const I: Case = Case {
    name: "i_sigmoid_mse_adadelta",
    data: "targets = [\"y1\", \"y2\"]\ntask = \"regression\"",
    rest: r#"
[model]
hidden = [5]
activation = "sigmoid"
output_activation = "identity"

[loss]
kind = "mse"

[optim]
kind = "adadelta"
lr = 0.5
rho = 0.95

[train]
epochs = 150
"#,
};

/// Same start, same data, same hyperparameters as PyTorch: same end, same costs, same lrs.
#[test]
fn a_tanh_mse_adam() {
    check(&A);
}

#[test]
fn b_relu_softmax_cross_entropy_sgd() {
    check(&B);
}

#[test]
fn c_gelu_sigmoid_bce_with_logits_adamw_cosine() {
    check(&C);
}

#[test]
fn d_elu_huber_rmsprop() {
    check(&D);
}

#[test]
fn e_silu_mae_adagrad() {
    check(&E);
}

#[test]
fn f_tanh_mse_nadam_exponential() {
    check(&F);
}

#[test]
fn g_relu_softmax_cross_entropy_radam() {
    check(&G);
}

#[test]
fn h_softplus_huber_adamax() {
    check(&H);
}

#[test]
fn i_sigmoid_mse_adadelta() {
    check(&I);
}

/// Runs one case and prints its largest differences beside PyTorch's own sensitivity.
fn check(case: &Case) {
    let [w, c, l] = run_case(case);
    let theirs = json(&fixture(&format!("torch_parity/{}.json", case.name)));
    let of = |k: &str| theirs["one_ulp_sensitivity"][k].as_f64().expect("a number");
    eprintln!(
        "{}: largest relative difference: weights {w:.1e}, costs {c:.1e}, lrs {l:.1e} \
         (PyTorch from a start moved by 1 ulp: weights {:.1e}, costs {:.1e})",
        case.name,
        of("weights"),
        of("costs")
    );
}

/// Trains one case and compares; returns the largest relative differences of the weights, the
/// costs and the lrs.
fn run_case(case: &Case) -> [f64; 3] {
    let theirs = json(&fixture(&format!("torch_parity/{}.json", case.name)));
    let tmp = scratch(&format!("torch-parity-{}", case.name));
    let dir = tmp.path();
    let out = dir.join("run");
    std::fs::write(dir.join("init.json"), theirs["init"].to_string()).unwrap();
    let config = format!(
        "[experiment]\nname = \"torch_parity_{name}\"\ndtype = \"f64\"\n\n\
         [data]\nsource = \"csv\"\npath = {data}\nfeatures = [\"x1\", \"x2\", \"x3\", \"x4\"]\n{targets}\n\
         normalize = \"none\"\nvalidation = 0.0\ntest = 0.0\n\n{rest}batch_size = \"full\"\nlog_every = 0\n",
        name = case.name,
        data = toml_path(&fixture("torch_parity/data.csv")),
        targets = case.data,
        rest = case.rest.replacen("[model]\n", "[model]\ninit_from = \"init.json\"\n", 1),
    );
    let config_path = dir.join("config.toml");
    std::fs::write(&config_path, &config).unwrap();
    let run = backprop(&["train", config_path.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}: {}\n{}", case.name, run.stderr, config);

    let epochs = theirs["epochs"].as_u64().unwrap() as usize;
    let summary = json(&out.join("summary.json"));
    assert_eq!(summary["epochs_run"], epochs, "{}", case.name);
    assert_eq!(summary["stop_reason"], "completed", "{}", case.name);

    let ours_w = layer_numbers(&json(&out.join("model.json")));
    let theirs_w = layer_numbers(&theirs["final"]);
    let init_w = layer_numbers(&theirs["init"]);
    assert_ne!(theirs_w, init_w, "{}: training moved the weights", case.name);
    let w = compare(&ours_w, &theirs_w, &format!("{}: final weights", case.name));

    let ours_c = column(&out, "cost");
    let theirs_c = numbers(&theirs["costs"]);
    assert_eq!(ours_c.len(), epochs + 1, "{}: epoch 0 and every epoch", case.name);
    let c = compare(&ours_c, &theirs_c, &format!("{}: costs", case.name));
    assert!(theirs_c[epochs] < 0.5 * theirs_c[0], "{}: the run learns something", case.name);

    // Row e holds the lr epoch e's step used (row 0: the lr before training).
    let ours_l = column(&out, "lr");
    let l = compare(&ours_l[1..], &numbers(&theirs["lrs"]), &format!("{}: lrs", case.name));
    [w, c, l]
}

/// Asserts `|a − b| ≤ REL·max(|b|, FLOOR·max|b|)` element by element; returns the largest
/// `|a − b| / max(|b|, FLOOR·max|b|)`.
fn compare(ours: &[f64], theirs: &[f64], what: &str) -> f64 {
    assert_eq!(ours.len(), theirs.len(), "{what}: lengths differ");
    let scale = theirs.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let mut worst = 0.0f64;
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        let rel = (a - b).abs() / b.abs().max(FLOOR * scale);
        assert!(rel <= REL, "{what}[{i}]: ours {a} vs PyTorch {b} (relative {rel:.2e} > {REL:.0e})");
        worst = worst.max(rel);
    }
    worst
}

fn numbers(v: &serde_json::Value) -> Vec<f64> {
    v.as_array().expect("an array").iter().map(|x| x.as_f64().expect("a number")).collect()
}

/// A path as a TOML basic string.
fn toml_path(path: &Path) -> String {
    format!("{:?}", path.to_str().expect("fixture paths are UTF-8"))
}
