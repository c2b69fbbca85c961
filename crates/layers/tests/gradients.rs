//! The network's backward pass against central differences, with this crate alone.
//!
//! `crates/cli/tests/gradients.rs` checks backprop under every registered loss; it needs the
//! loss crate. Here the cost is linear in the output, `C = Σ cᵢⱼ·aᴸᵢⱼ` with fixed random `c`, so
//! `∂C/∂aᴸ = c` is exact and whatever differs from the central differences is the network's:
//! the activations' derivatives, the layer products, the biases, the recursion through `Wᵀ`.
//! The fused form (`output_delta_ready`, a loss that absorbs the output activation) is checked
//! with `C = Σ cᵢⱼ·zᴸᵢⱼ`.
//!
//! Each case runs with `x` row-major (the tiny passes when every layer is at most 4 wide),
//! column-major and strided (the general passes); the three must give the same bits, and the
//! shapes reach past 4 units so that the general products run too.

use backprop_layers::{ActivationSpec, LayerSpec, Network, Workspace};
use backprop_tensor::rng::{seeded, unit};
use backprop_tensor::{MatView, Matrix};
use ndarray::s;
use proptest::prelude::*;

/// Activations with a kink at `z = 0`: cases with a pre-activation that close are skipped.
fn kinked(name: &str) -> bool {
    matches!(name, "relu" | "leaky_relu" | "elu")
}

struct Case {
    net: Network<f64>,
    /// The inputs, row-major.
    x: Matrix<f64>,
    /// `∂C/∂aᴸ` (or `∂C/∂zᴸ` when fused): the cost's fixed coefficients.
    c: Matrix<f64>,
}

fn build(seed: u64, inputs: usize, units: &[usize], acts: &[usize], batch: usize) -> Option<Case> {
    let names = ActivationSpec::NAMES;
    let specs: Vec<LayerSpec> = units
        .iter()
        .zip(acts)
        .map(|(&u, &a)| LayerSpec::new(u, ActivationSpec::from_name(names[a % names.len()]).expect("registered")))
        .collect();
    let mut rng = seeded(seed);
    let mut net = Network::new(inputs, &specs);
    for p in net.params_mut() {
        *p = 2.0 * unit(&mut rng) - 1.0;
    }
    let x = Matrix::from_shape_fn((batch, inputs), |_| 4.0 * unit(&mut rng) - 2.0);
    let c = Matrix::from_shape_fn((batch, net.outputs()), |_| 2.0 * unit(&mut rng) - 1.0);
    let mut ws = Workspace::new(&net, batch);
    net.forward(x.view(), &mut ws);
    for (l, layer) in net.layers().iter().enumerate() {
        if kinked(layer.activation.name()) && ws.z(l).iter().any(|z| z.abs() < 1e-3) {
            return None;
        }
    }
    Some(Case { net, x, c })
}

/// `C = Σ c·aᴸ`, or `Σ c·zᴸ` when `fused`, after a forward pass of `net` on `x`.
fn cost(net: &Network<f64>, x: MatView<'_, f64>, c: &Matrix<f64>, fused: bool, ws: &mut Workspace<f64>) -> f64 {
    let n = x.nrows();
    net.forward(x, ws);
    let (out, _) = ws.loss_io(n, fused);
    out.iter().zip(c.iter()).map(|(o, c)| o * c).sum()
}

/// One backward pass: `∂C/∂θ` for every parameter, in the network's layout.
fn analytic(net: &Network<f64>, x: MatView<'_, f64>, c: &Matrix<f64>, fused: bool) -> Vec<f64> {
    let n = x.nrows();
    let mut ws = Workspace::new(net, n);
    net.forward(x, &mut ws);
    ws.loss_io(n, fused).1.assign(c);
    let mut grads = vec![f64::NAN; net.params().len()];
    net.backward(x, &mut ws, &mut grads, fused);
    grads
}

/// Central differences with step `eps`, one parameter at a time.
fn numeric(net: &Network<f64>, x: MatView<'_, f64>, c: &Matrix<f64>, fused: bool, eps: f64) -> Vec<f64> {
    let mut ws = Workspace::new(net, x.nrows());
    let mut probe = net.clone();
    (0..net.params().len())
        .map(|i| {
            let p = net.params()[i];
            probe.params_mut()[i] = p + eps;
            let plus = cost(&probe, x, c, fused, &mut ws);
            probe.params_mut()[i] = p - eps;
            let minus = cost(&probe, x, c, fused, &mut ws);
            probe.params_mut()[i] = p;
            (plus - minus) / (2.0 * eps)
        })
        .collect()
}

/// As in the CLI's gradient tests: a relative 1e-6, and a floor of 1e-8 times the cost (at least
/// 1) for the rounding of the differences themselves.
fn tolerance(a: f64, n: f64, cost: f64) -> f64 {
    1e-6 * a.abs().max(n.abs()) + 1e-8 * cost.abs().max(1.0)
}

/// The gradients of `case` with `x` row-major, column-major and strided; asserts they are the
/// same bits and returns them.
fn analytic_every_layout(case: &Case, fused: bool) -> Result<Vec<f64>, TestCaseError> {
    let rows = analytic(&case.net, case.x.view(), &case.c, fused);
    let columns = case.x.t().to_owned();
    let cols = analytic(&case.net, columns.t(), &case.c, fused);
    let mut spread = Matrix::zeros((2 * case.x.nrows(), case.x.ncols()));
    spread.slice_mut(s![..;2, ..]).assign(&case.x);
    let strided = analytic(&case.net, spread.slice(s![..;2, ..]), &case.c, fused);
    let bits = |g: &[f64]| g.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    prop_assert_eq!(bits(&rows), bits(&cols), "column-major x");
    prop_assert_eq!(bits(&rows), bits(&strided), "strided x");
    Ok(rows)
}

fn check(case: &Case, fused: bool) -> Result<(), TestCaseError> {
    let a = analytic_every_layout(case, fused)?;
    let n = numeric(&case.net, case.x.view(), &case.c, fused, 1e-6);
    let c = cost(&case.net, case.x.view(), &case.c, fused, &mut Workspace::new(&case.net, case.x.nrows()));
    let layers: Vec<_> = case.net.layers().iter().map(|l| (l.units, l.activation.name())).collect();
    for (i, (a, n)) in a.iter().zip(&n).enumerate() {
        prop_assert!(
            (a - n).abs() <= tolerance(*a, *n, c),
            "fused {fused}, layers {layers:?}, parameter {i}: analytic {a} numeric {n}"
        );
    }
    Ok(())
}

/// `(seed, inputs, units, activations, batch)` with layers up to `width` wide.
fn shapes(width: usize, depth: usize) -> impl Strategy<Value = (u64, usize, Vec<usize>, Vec<usize>, usize)> {
    (any::<u64>(), 1..=width, prop::collection::vec((1..=width, 0usize..64), 1..=depth), 1usize..=9).prop_map(
        |(seed, inputs, layers, batch)| {
            let (units, acts) = layers.into_iter().unzip();
            (seed, inputs, units, acts, batch)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Tiny networks (at most 4 wide: the tiny passes) and slightly wider ones.
    #[test]
    fn backprop_equals_central_differences((seed, inputs, units, acts, batch) in shapes(6, 4), fused in any::<bool>()) {
        let Some(case) = build(seed, inputs, &units, &acts, batch) else { return Ok(()) };
        check(&case, fused)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Layers up to 40 wide: the general products' blocked loops.
    #[test]
    fn backprop_equals_central_differences_wide((seed, inputs, units, acts, batch) in shapes(40, 2), fused in any::<bool>()) {
        let Some(case) = build(seed, inputs, &units, &acts, batch) else { return Ok(()) };
        check(&case, fused)?;
    }
}

/// The check can fail: a gradient with one sign flipped, or one bias gradient doubled, is caught.
#[test]
fn a_wrong_gradient_is_caught() {
    let case = build(3, 2, &[3, 2], &[0, 0], 4).expect("no kink at this seed");
    let a = analytic(&case.net, case.x.view(), &case.c, false);
    let n = numeric(&case.net, case.x.view(), &case.c, false, 1e-6);
    let c = cost(&case.net, case.x.view(), &case.c, false, &mut Workspace::new(&case.net, 4));
    let within = |a: &[f64]| a.iter().zip(&n).all(|(a, n)| (a - n).abs() <= tolerance(*a, *n, c));
    assert!(within(&a));
    let mut flipped = a.clone();
    flipped[0] = -flipped[0];
    assert!(!within(&flipped), "a sign error");
    let mut doubled = a.clone();
    let b = case.net.layers()[1].b_range().start;
    doubled[b] *= 2.0;
    assert!(!within(&doubled), "a bias gradient twice over");
}
