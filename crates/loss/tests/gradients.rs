//! Every registered loss: `gradient` equals central differences of `cost`, on random batches
//! inside each loss's domain, at its defaults and with each parameter at other values.

use backprop_loss::{CrossEntropy, Huber, LossSpec};
use backprop_tensor::Matrix;
use proptest::prelude::*;

/// Where a loss is differentiable and its inputs make sense.
struct Domain {
    /// Range of the loss's input (outputs, or logits for a loss that takes logits).
    output: (f64, f64),
    /// Range of each target entry.
    target: (f64, f64),
    /// Values of `|a − t|` where the loss has a kink at its defaults; samples within 1e-3 of
    /// one are rejected (see [`kinks`] for other parameters).
    kinks: &'static [f64],
}

/// Every registered loss at its defaults, and each parameter at other values: a gradient wrong
/// only away from the default (`x·δ` for `x/δ`) passes at it.
fn losses() -> Vec<LossSpec> {
    let mut all: Vec<LossSpec> = LossSpec::NAMES.iter().map(|n| LossSpec::from_name(n).expect("registered")).collect();
    all.extend([
        LossSpec::Huber(Huber { delta: 0.3 }),
        LossSpec::Huber(Huber { delta: 2.5 }),
        LossSpec::CrossEntropy(CrossEntropy { label_smoothing: 0.2 }),
        LossSpec::CrossEntropy(CrossEntropy { label_smoothing: 0.9 }),
    ]);
    all
}

/// The kinks of `spec` (huber's is at its `delta`).
fn kinks(spec: &LossSpec) -> Vec<f64> {
    match spec {
        LossSpec::Huber(h) => vec![h.delta],
        _ => domain(spec.name()).kinks.to_vec(),
    }
}

/// Each parameter of each registered loss is checked at a value other than its default, by
/// [`losses`]: a new loss with a parameter fails here until it is added there.
#[test]
fn every_loss_parameter_is_checked_away_from_its_default() {
    let all = losses();
    for &name in LossSpec::NAMES {
        let default = LossSpec::from_name(name).expect("registered").parameters();
        for (key, value) in &default {
            let moved = all.iter().any(|s| s.name() == name && s.parameters().get(key).is_some_and(|v| v != value));
            assert!(moved, "{name}: `{key}` is only checked at its default {value}; add a case to `losses()`");
        }
    }
}

/// The domain of each registered loss (a smooth one on real values unless it says otherwise).
fn domain(name: &str) -> Domain {
    match name {
        "half_mse" | "mse" => Domain { output: (-2.0, 2.0), target: (-2.0, 2.0), kinks: &[] },
        "mae" => Domain { output: (-2.0, 2.0), target: (-2.0, 2.0), kinks: &[0.0] },
        // Default `delta` is 1.
        "huber" => Domain { output: (-2.0, 2.0), target: (-2.0, 2.0), kinks: &[1.0] },
        "bce" => Domain { output: (0.01, 0.99), target: (0.0, 1.0), kinks: &[] },
        "bce_with_logits" => Domain { output: (-8.0, 8.0), target: (0.0, 1.0), kinks: &[] },
        // Targets need not sum to 1 here: the gradient is exact for any target.
        "cross_entropy" => Domain { output: (-8.0, 8.0), target: (0.0, 1.0), kinks: &[] },
        // A new loss is checked as a smooth one on real outputs and targets; one with kinks or a
        // narrower domain (its gradient check then fails) names them above.
        _ => Domain { output: (-2.0, 2.0), target: (-2.0, 2.0), kinks: &[] },
    }
}

const MAX_ROWS: usize = 8;
const MAX_COLS: usize = 5;

/// `lo + u·(hi − lo)` for the first `rows·cols` unit samples.
fn scaled(units: &[f64], (rows, cols): (usize, usize), (lo, hi): (f64, f64)) -> Matrix<f64> {
    Matrix::from_shape_fn((rows, cols), |(i, j)| lo + units[i * cols + j] * (hi - lo))
}

fn check_gradient(spec: &LossSpec, output: &Matrix<f64>, target: &Matrix<f64>) -> Result<(), TestCaseError> {
    const EPS: f64 = 1e-6;
    let name = format!("{spec:?}");
    let loss = spec.get::<f64>();
    let mut analytic = Matrix::from_elem(output.dim(), f64::NAN);
    loss.gradient(output.view(), target.view(), analytic.view_mut());
    let mut probe = output.clone();
    for (idx, &a) in analytic.indexed_iter() {
        let x = output[idx];
        probe[idx] = x + EPS;
        let up = loss.cost(probe.view(), target.view());
        probe[idx] = x - EPS;
        let down = loss.cost(probe.view(), target.view());
        probe[idx] = x;
        let n = (up - down) / (2.0 * EPS);
        prop_assert!(
            (a - n).abs() <= 1e-6 * a.abs().max(n.abs()) + 1e-8,
            "{name}: ∂C/∂input{idx:?} = {a} but central difference gives {n}\noutput {output}\ntarget {target}"
        );
    }
    Ok(())
}

/// A batch's shape (rows from `min_rows`) and unit samples for every output and target entry.
fn shapes_and_units(min_rows: usize) -> impl Strategy<Value = ((usize, usize), Vec<f64>, Vec<f64>)> {
    let units = || prop::collection::vec(0.0..1.0f64, MAX_ROWS * MAX_COLS);
    ((min_rows..=MAX_ROWS, 1..=MAX_COLS), units(), units())
}

/// Loss `name`'s domain, and an output and a target of `shape` inside it.
fn batch(
    name: &str,
    shape: (usize, usize),
    out_units: &[f64],
    target_units: &[f64],
) -> (Domain, Matrix<f64>, Matrix<f64>) {
    let d = domain(name);
    let (output, target) = (scaled(out_units, shape, d.output), scaled(target_units, shape, d.target));
    (d, output, target)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn gradient_matches_central_differences((shape, out_units, target_units) in shapes_and_units(1)) {
        for spec in &losses() {
            let (_, output, target) = batch(spec.name(), shape, &out_units, &target_units);
            let kinks = kinks(spec);
            // A sample near a kink skips this loss, not the case (the others still run).
            let near = |(&a, &t): (&f64, &f64)| kinks.iter().any(|k| ((a - t).abs() - k).abs() < 1e-3);
            if output.iter().zip(&target).any(near) {
                continue;
            }
            check_gradient(spec, &output, &target)?;
        }
    }
}

#[test]
fn every_registered_loss_has_a_domain() {
    for &name in LossSpec::NAMES {
        let d = domain(name);
        assert!(d.output.0 < d.output.1 && d.target.0 <= d.target.1, "{name}");
    }
}

/// The buffer forms (`cost_rows`, `gradient_rows`: what the trainer calls) give the bits of the
/// view forms, for every loss (its own override or the trait's default).
fn check_buffer_forms<F: backprop_tensor::Element>(
    name: &str,
    output: &Matrix<f64>,
    target: &Matrix<f64>,
) -> Result<(), TestCaseError> {
    let spec = LossSpec::from_name(name).expect("a registered name");
    let loss = spec.get::<F>();
    let (o, t): (Matrix<F>, Matrix<F>) = (output.mapv(F::of), target.mapv(F::of));
    let cols = o.ncols();
    let (os, ts) = (o.as_slice().expect("standard layout"), t.as_slice().expect("standard layout"));
    let (view, rows) = (loss.cost(o.view(), t.view()), loss.cost_rows(cols, os, ts));
    prop_assert!(
        view.f64().to_bits() == rows.f64().to_bits(),
        "{name}: cost {view:?} from views, {rows:?} from buffers"
    );
    let mut by_view = Matrix::from_elem(o.dim(), F::nan());
    loss.gradient(o.view(), t.view(), by_view.view_mut());
    let mut by_rows = vec![F::nan(); os.len()];
    loss.gradient_rows(cols, os, ts, &mut by_rows);
    for (i, (v, r)) in by_view.iter().zip(&by_rows).enumerate() {
        prop_assert!(
            v.f64().to_bits() == r.f64().to_bits(),
            "{name}: gradient[{i}] {v:?} from views, {r:?} from buffers"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn buffer_forms_give_the_bits_of_the_view_forms((shape, out_units, target_units) in shapes_and_units(0)) {
        for &name in LossSpec::NAMES {
            let (_, output, target) = batch(name, shape, &out_units, &target_units);
            check_buffer_forms::<f64>(name, &output, &target)?;
            check_buffer_forms::<f32>(name, &output, &target)?;
        }
    }
}
