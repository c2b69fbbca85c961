//! Backprop against central differences, for random networks built from every registered
//! activation under every registered loss that accepts its outputs.
//!
//! The numeric side perturbs one parameter at a time by ±ε and re-runs the forward pass and the
//! cost; the analytic side is one backward pass. A new activation or loss is covered as soon as
//! it is registered (the tests iterate over `NAMES`). A loss without a line in
//! [`loss_domain`] gets real-valued targets and no kink: one with a kink (as huber's at δ) or a
//! narrower domain must say so there, or the central differences straddle the kink.

use backprop_cli::train::{backward_from_loss, forward_cost, forward_cost_mode};
use backprop_layers::{ActivationSpec, LayerSpec, Mode, Network, Workspace};
use backprop_loss::{Loss, LossSpec};
use backprop_tensor::Matrix;
use backprop_tensor::rng::{seeded, unit};
use proptest::prelude::*;

/// What targets a loss takes, and which output activations give it a valid input.
struct Domain {
    /// Targets: arbitrary reals, values in [0, 1], or one-hot rows.
    targets: Targets,
    /// Output activations whose range the loss accepts (`None`: any).
    outputs: Option<&'static [&'static str]>,
    /// Skip a sample when the loss has a kink within this distance of `a − t` (mae, huber).
    kink: Option<f64>,
    /// Skip a sample with an output within this distance of 0 or 1 (bce on saturated sigmoids):
    /// there the cost's central differences lose digits, and closer than 1e-12 bce's gradient is
    /// PyTorch's floored one, not the cost's derivative (documented in `bce.rs`).
    saturation: Option<f64>,
}

#[derive(Clone, Copy)]
enum Targets {
    Real,
    Unit,
    OneHot,
}

fn loss_domain(name: &str) -> Domain {
    let any = |targets, kink| Domain { targets, outputs: None, kink, saturation: None };
    match name {
        "half_mse" | "mse" => any(Targets::Real, None),
        "mae" => any(Targets::Real, Some(0.0)),
        "huber" => any(Targets::Real, Some(1.0)),
        "bce" => Domain {
            targets: Targets::Unit,
            outputs: Some(&["sigmoid", "softmax"]),
            kink: None,
            saturation: Some(0.02),
        },
        "bce_with_logits" => any(Targets::Unit, None),
        "cross_entropy" => any(Targets::OneHot, None),
        // A new loss is checked as a smooth one on real targets; one with a kink or a narrower
        // domain (its gradient check then fails) names it above.
        _ => any(Targets::Real, None),
    }
}

/// Activations with a kink at z = 0: samples with a pre-activation that close are skipped.
fn kinked(name: &str) -> bool {
    matches!(name, "relu" | "leaky_relu" | "elu")
}

struct Case {
    net: Network<f64>,
    x: Matrix<f64>,
    t: Matrix<f64>,
    /// Holds the dropout masks of the case (when it has dropout).
    ws: Workspace<f64>,
}

fn build(seed: u64, inputs: usize, units: &[usize], acts: &[usize], batch: usize, loss: &str) -> Option<Case> {
    build_with_dropout(seed, inputs, units, acts, batch, loss, 0.0)
}

/// A random case; hidden layers drop outputs with probability `dropout` (the mask is drawn by
/// one training pass here and kept fixed for both gradients).
fn build_with_dropout(
    seed: u64,
    inputs: usize,
    units: &[usize],
    acts: &[usize],
    batch: usize,
    loss: &str,
    dropout: f64,
) -> Option<Case> {
    let domain = loss_domain(loss);
    let names = ActivationSpec::NAMES;
    let mut specs: Vec<LayerSpec> = units
        .iter()
        .zip(acts)
        .map(|(&u, &a)| LayerSpec::new(u, ActivationSpec::from_name(names[a % names.len()]).unwrap()))
        .collect();
    let hidden = specs.len() - 1;
    for spec in &mut specs[..hidden] {
        spec.dropout = dropout;
    }
    let last = specs.last_mut().unwrap();
    if let Some(allowed) = domain.outputs {
        last.activation = ActivationSpec::from_name(allowed[acts[0] % allowed.len()]).unwrap();
    }
    let mut rng = seeded(seed);
    let mut net = Network::new(inputs, &specs);
    for p in net.params_mut() {
        *p = 2.0 * unit(&mut rng) - 1.0;
    }
    let x = Matrix::from_shape_fn((batch, inputs), |_| 4.0 * unit(&mut rng) - 2.0);
    let outputs = net.outputs();
    let t = match domain.targets {
        Targets::Real => Matrix::from_shape_fn((batch, outputs), |_| 2.0 * unit(&mut rng) - 1.0),
        Targets::Unit => Matrix::from_shape_fn((batch, outputs), |_| unit(&mut rng)),
        Targets::OneHot => {
            let mut t = Matrix::zeros((batch, outputs));
            for mut row in t.outer_iter_mut() {
                row[(unit(&mut rng) * outputs as f64) as usize % outputs] = 1.0;
            }
            t
        }
    };
    // Skip samples at a kink, where central differences straddle two slopes.
    let mut ws = Workspace::new(&net, batch);
    net.forward_mode(x.view(), &mut ws, Mode::Train(&mut rng));
    for (l, layer) in net.layers().iter().enumerate() {
        if kinked(layer.activation.name()) && ws.z(l).iter().any(|z| z.abs() < 1e-3) {
            return None;
        }
    }
    if let Some(s) = domain.saturation
        && ws.output(batch).iter().any(|&a| a < s || a > 1.0 - s)
    {
        return None;
    }
    if let Some(k) = domain.kink {
        let out = ws.output(batch);
        if out.iter().zip(t.iter()).any(|(a, t)| ((a - t).abs() - k).abs() < 1e-3) {
            return None;
        }
    }
    Some(Case { net, x, t, ws })
}

fn analytic<F: backprop_tensor::Element>(net: &Network<F>, loss: &dyn Loss<F>, x: &Matrix<F>, t: &Matrix<F>) -> Vec<F> {
    analytic_in(net, loss, x, t, &mut Workspace::new(net, x.nrows()), Mode::Eval)
}

fn analytic_in<F: backprop_tensor::Element>(
    net: &Network<F>,
    loss: &dyn Loss<F>,
    x: &Matrix<F>,
    t: &Matrix<F>,
    ws: &mut Workspace<F>,
    mode: Mode<'_>,
) -> Vec<F> {
    let ws = &mut *ws;
    forward_cost_mode(net, loss, x.view(), t.view(), ws, mode);
    let mut grads = vec![F::zero(); net.params().len()];
    backward_from_loss(net, loss, x.view(), t.view(), ws, &mut grads);
    grads
}

fn numeric(net: &Network<f64>, loss: &dyn Loss<f64>, x: &Matrix<f64>, t: &Matrix<f64>, eps: f64) -> Vec<f64> {
    numeric_in(net, loss, x, t, eps, &mut Workspace::new(net, x.nrows()), false)
}

fn numeric_in(
    net: &Network<f64>,
    loss: &dyn Loss<f64>,
    x: &Matrix<f64>,
    t: &Matrix<f64>,
    eps: f64,
    ws: &mut Workspace<f64>,
    fixed_mask: bool,
) -> Vec<f64> {
    let mode = || if fixed_mask { Mode::TrainFixedMask } else { Mode::Eval };
    let mut probe = net.clone();
    (0..net.params().len())
        .map(|i| {
            let p = net.params()[i];
            probe.params_mut()[i] = p + eps;
            let plus = forward_cost_mode(&probe, loss, x.view(), t.view(), ws, mode());
            probe.params_mut()[i] = p - eps;
            let minus = forward_cost_mode(&probe, loss, x.view(), t.view(), ws, mode());
            probe.params_mut()[i] = p;
            (plus - minus) / (2.0 * eps)
        })
        .collect()
}

/// How far an exact gradient `a` and its central difference `n` (step 1e-6, f64) may differ: a
/// relative 1e-6, and a floor of 1e-8 times the cost (at least 1). The floor is the difference's
/// own rounding: each cost carries a few dozen roundings of 2⁻⁵³·|C|, divided by the 2e-6 step,
/// so a cost of 100 leaves about 1e-7 of noise on every gradient (seen: 3e-8 at cost 50).
fn tolerance(a: f64, n: f64, cost: f64) -> f64 {
    1e-6 * a.abs().max(n.abs()) + 1e-8 * cost.abs().max(1.0)
}

fn shapes() -> impl Strategy<Value = (u64, usize, Vec<usize>, Vec<usize>, usize)> {
    (any::<u64>(), 1usize..=4, prop::collection::vec((1usize..=6, 0usize..64), 1..=4), 1usize..=8).prop_map(
        |(seed, inputs, layers, batch)| {
            let (units, acts) = layers.into_iter().unzip();
            (seed, inputs, units, acts, batch)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// f64: analytic = central differences within a relative 1e-6 (see [`tolerance`]).
    #[test]
    fn backprop_equals_central_differences_f64((seed, inputs, units, acts, batch) in shapes()) {
        for &name in LossSpec::NAMES {
            let Some(case) = build(seed, inputs, &units, &acts, batch, name) else { continue };
            let loss = LossSpec::from_name(name).unwrap();
            let a = analytic(&case.net, loss.get(), &case.x, &case.t);
            let cost = forward_cost(&case.net, loss.get(), case.x.view(), case.t.view(), &mut Workspace::new(&case.net, batch));
            let n = numeric(&case.net, loss.get(), &case.x, &case.t, 1e-6);
            for (i, (a, n)) in a.iter().zip(&n).enumerate() {
                prop_assert!((a - n).abs() <= tolerance(*a, *n, cost),
                    "loss {name}, layers {:?}, parameter {i}: analytic {a} numeric {n}",
                    case.net.layers().iter().map(|l| (l.units, l.activation.name())).collect::<Vec<_>>());
            }
        }
    }

    /// f32: the same network rounded to f32; its analytic gradient against f64 central
    /// differences of the rounded weights, within a relative 1e-3 (absolute floor 1e-5): f32
    /// rounding, not a looser notion of correct.
    #[test]
    fn backprop_equals_central_differences_f32((seed, inputs, units, acts, batch) in shapes()) {
        for &name in LossSpec::NAMES {
            let Some(case) = build(seed, inputs, &units, &acts, batch, name) else { continue };
            let loss = LossSpec::from_name(name).unwrap();
            let mut net64 = case.net.clone();
            for p in net64.params_mut() {
                *p = f64::from(*p as f32);
            }
            let x64 = case.x.mapv(|v| f64::from(v as f32));
            let t64 = case.t.mapv(|v| f64::from(v as f32));
            let mut net32 = Network::<f32>::new(inputs, &net64.layers().iter().map(|l| LayerSpec::new(l.units, l.activation.clone())).collect::<Vec<_>>());
            for (d, s) in net32.params_mut().iter_mut().zip(net64.params()) {
                *d = *s as f32;
            }
            let a = analytic(&net32, loss.get(), &x64.mapv(|v| v as f32), &t64.mapv(|v| v as f32));
            let n = numeric(&net64, loss.get(), &x64, &t64, 1e-6);
            for (i, (a, n)) in a.iter().zip(&n).enumerate() {
                let a = f64::from(*a);
                prop_assert!((a - n).abs() <= 1e-3 * a.abs().max(n.abs()) + 1e-5,
                    "loss {name}, parameter {i}: analytic(f32) {a} numeric(f64) {n}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Dropout: with the mask held fixed, backprop through the dropped units equals central
    /// differences (f64, relative 1e-6, see [`tolerance`]).
    #[test]
    fn dropout_with_a_fixed_mask((seed, inputs, units, acts, batch) in shapes()) {
        prop_assume!(units.len() >= 2);
        let name = "half_mse";
        let Some(mut case) = build_with_dropout(seed, inputs, &units, &acts, batch, name, 0.4) else { return Ok(()) };
        let loss = LossSpec::from_name(name).unwrap();
        let a = analytic_in(&case.net, loss.get(), &case.x, &case.t, &mut case.ws, Mode::TrainFixedMask);
        let cost = forward_cost_mode(&case.net, loss.get(), case.x.view(), case.t.view(), &mut case.ws, Mode::TrainFixedMask);
        let n = numeric_in(&case.net, loss.get(), &case.x, &case.t, 1e-6, &mut case.ws, true);
        for (i, (a, n)) in a.iter().zip(&n).enumerate() {
            prop_assert!((a - n).abs() <= tolerance(*a, *n, cost), "parameter {i}: analytic {a} numeric {n} (cost {cost})");
        }
    }
}

/// The check can fail: a gradient with one sign flipped is caught.
#[test]
fn a_sign_error_is_caught() {
    let case = build(3, 2, &[3, 2], &[0, 0], 4, "half_mse").unwrap();
    let loss = LossSpec::from_name("half_mse").unwrap();
    let mut a = analytic(&case.net, loss.get(), &case.x, &case.t);
    let cost = forward_cost(&case.net, loss.get(), case.x.view(), case.t.view(), &mut Workspace::new(&case.net, 4));
    let n = numeric(&case.net, loss.get(), &case.x, &case.t, 1e-6);
    assert!(a.iter().zip(&n).all(|(a, n)| (a - n).abs() <= tolerance(*a, *n, cost)));
    a[0] = -a[0];
    assert!(a.iter().zip(&n).any(|(a, n)| (a - n).abs() > tolerance(*a, *n, cost)));
}
