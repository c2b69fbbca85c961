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
//! shapes reach past 4 units so that the general products run too. With dropout, the mask drawn
//! by one training pass is held fixed for both sides.

use backprop_layers::activation::{Approximate, Elu, Gelu, LeakyRelu, Softplus};
use backprop_layers::{ActivationSpec, LayerSpec, Mode, Network, Workspace};
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
    /// Holds the dropout masks, when the hidden layers have dropout.
    ws: Workspace<f64>,
}

impl Case {
    /// A forward pass of `net` (this case's, or a perturbed copy) on `x`: with this case's
    /// masks held fixed when it has dropout.
    fn forward(&mut self, net: &Network<f64>, x: MatView<'_, f64>) {
        if net.has_dropout() {
            net.forward_mode(x, &mut self.ws, Mode::TrainFixedMask);
        } else {
            net.forward(x, &mut self.ws);
        }
    }

    /// `C = Σ c·aᴸ`, or `Σ c·zᴸ` when `fused`, for `net` on `x`.
    fn cost(&mut self, net: &Network<f64>, x: MatView<'_, f64>, fused: bool) -> f64 {
        self.terms(net, x, fused).0
    }

    /// `C` and `Σ |c·aᴸ|` (or `zᴸ`), the size of the terms whose roundings `C` carries.
    fn terms(&mut self, net: &Network<f64>, x: MatView<'_, f64>, fused: bool) -> (f64, f64) {
        self.forward(net, x);
        let (out, _) = self.ws.loss_io(x.nrows(), fused);
        let terms = out.iter().zip(self.c.iter()).map(|(o, c)| o * c);
        (terms.clone().sum(), terms.map(f64::abs).sum())
    }

    /// One backward pass on `x` (this case's inputs in some layout): `∂C/∂θ` for every
    /// parameter, in the network's layout.
    fn analytic(&mut self, x: MatView<'_, f64>, fused: bool) -> Vec<f64> {
        let net = self.net.clone();
        self.forward(&net, x);
        self.ws.loss_io(x.nrows(), fused).1.assign(&self.c);
        let mut grads = vec![f64::NAN; net.params().len()];
        net.backward(x, &mut self.ws, &mut grads, fused);
        grads
    }

    /// Central differences with step `eps`, one parameter at a time.
    fn numeric(&mut self, fused: bool, eps: f64) -> Vec<f64> {
        let (x, mut probe) = (self.x.clone(), self.net.clone());
        (0..probe.params().len())
            .map(|i| {
                let p = probe.params()[i];
                probe.params_mut()[i] = p + eps;
                let plus = self.cost(&probe, x.view(), fused);
                probe.params_mut()[i] = p - eps;
                let minus = self.cost(&probe, x.view(), fused);
                probe.params_mut()[i] = p;
                (plus - minus) / (2.0 * eps)
            })
            .collect()
    }
}

/// Every registered activation at its defaults, the forms a parameter switches to another
/// formula (gelu's tanh approximation), and each parameter at other values: a derivative wrong
/// only away from the default (`β·σ(z)` for `σ(βz)`) passes at it. Softplus's threshold stays
/// past the βz these cases reach (where it cuts, the function jumps by e^(−threshold)/β).
fn activations() -> Vec<ActivationSpec> {
    let mut all: Vec<ActivationSpec> =
        ActivationSpec::NAMES.iter().map(|n| ActivationSpec::from_name(n).expect("registered")).collect();
    all.extend([
        ActivationSpec::Gelu(Gelu { approximate: Approximate::Tanh }),
        ActivationSpec::LeakyRelu(LeakyRelu { negative_slope: 0.2 }),
        ActivationSpec::LeakyRelu(LeakyRelu { negative_slope: 1.5 }),
        ActivationSpec::Elu(Elu { alpha: 0.5 }),
        ActivationSpec::Elu(Elu { alpha: 1.7 }),
        ActivationSpec::Softplus(Softplus { beta: 2.5, threshold: 40.0 }),
        ActivationSpec::Softplus(Softplus { beta: 0.5, threshold: 20.0 }),
    ]);
    all
}

/// Each parameter of each registered activation is checked at a value other than its default,
/// by [`activations`]: a new activation with a parameter fails here until it is added there.
#[test]
fn every_activation_parameter_is_checked_away_from_its_default() {
    let all = activations();
    for &name in ActivationSpec::NAMES {
        let default = ActivationSpec::from_name(name).expect("registered").parameters();
        for (key, value) in &default {
            let moved = all.iter().any(|s| s.name() == name && s.parameters().get(key).is_some_and(|v| v != value));
            assert!(moved, "{name}: `{key}` is only checked at its default {value}; add a case to `activations()`");
        }
    }
}

/// A random case; hidden layers drop outputs with probability `dropout` (the mask drawn by one
/// training pass here).
fn build(seed: u64, inputs: usize, units: &[usize], acts: &[usize], batch: usize, dropout: f64) -> Option<Case> {
    let activations = activations();
    let mut specs: Vec<LayerSpec> =
        units.iter().zip(acts).map(|(&u, &a)| LayerSpec::new(u, activations[a % activations.len()].clone())).collect();
    let hidden = specs.len() - 1;
    for spec in &mut specs[..hidden] {
        spec.dropout = dropout;
    }
    let mut rng = seeded(seed);
    let mut net = Network::new(inputs, &specs);
    for p in net.params_mut() {
        *p = 2.0 * unit(&mut rng) - 1.0;
    }
    let x = Matrix::from_shape_fn((batch, inputs), |_| 4.0 * unit(&mut rng) - 2.0);
    let c = Matrix::from_shape_fn((batch, net.outputs()), |_| 2.0 * unit(&mut rng) - 1.0);
    let mut ws = Workspace::new(&net, batch);
    net.forward_mode(x.view(), &mut ws, Mode::Train(&mut rng));
    for (l, layer) in net.layers().iter().enumerate() {
        if kinked(layer.activation.name()) && ws.z(l).iter().any(|z| z.abs() < 1e-3) {
            return None;
        }
    }
    Some(Case { net, x, c, ws })
}

/// The central differences' step. `C` carries roundings of about an ulp of `size` (below), which
/// the differences divide by `2·STEP`: at 1e-6 that was up to 2.6e-10·size (a 27-29-21 elu net
/// whose analytic gradient agreed with steps 1e-4 and 1e-5 to 2e-10, found by a random case);
/// at 1e-5 it is ten times less, while what the step leaves out (`STEP²·C‴/6`) stays near 1e-10.
const STEP: f64 = 1e-5;

/// A relative 1e-6, and a floor for the rounding of the differences themselves: `C` sums terms
/// of both signs, and carries roundings of their size, `Σ |c·a|` (`size`), not of its own (seen,
/// with [`STEP`]: 2.6e-11·size). The CLI's tests, whose costs sum terms of one sign, use
/// 1e-8·|C|.
fn tolerance(a: f64, n: f64, size: f64) -> f64 {
    1e-6 * a.abs().max(n.abs()) + 1e-8 + 2e-10 * size
}

/// The gradients of `case` with `x` row-major, column-major and strided; asserts they are the
/// same bits and returns them.
fn analytic_every_layout(case: &mut Case, fused: bool) -> Result<Vec<f64>, TestCaseError> {
    let x = case.x.clone();
    let rows = case.analytic(x.view(), fused);
    let columns = x.t().to_owned();
    let cols = case.analytic(columns.t(), fused);
    let mut spread = Matrix::zeros((2 * x.nrows(), x.ncols()));
    spread.slice_mut(s![..;2, ..]).assign(&x);
    let strided = case.analytic(spread.slice(s![..;2, ..]), fused);
    let bits = |g: &[f64]| g.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    prop_assert_eq!(bits(&rows), bits(&cols), "column-major x");
    prop_assert_eq!(bits(&rows), bits(&strided), "strided x");
    Ok(rows)
}

fn check(case: &mut Case, fused: bool) -> Result<(), TestCaseError> {
    let a = analytic_every_layout(case, fused)?;
    let n = case.numeric(fused, STEP);
    let (net, x) = (case.net.clone(), case.x.clone());
    let (_, size) = case.terms(&net, x.view(), fused);
    let layers: Vec<_> = net.layers().iter().map(|l| (l.units, l.activation.name(), l.dropout)).collect();
    for (i, (a, n)) in a.iter().zip(&n).enumerate() {
        prop_assert!(
            (a - n).abs() <= tolerance(*a, *n, size),
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
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Tiny networks (at most 4 wide: the tiny passes) and slightly wider ones.
    #[test]
    fn backprop_equals_central_differences((seed, inputs, units, acts, batch) in shapes(6, 4), fused in any::<bool>()) {
        let Some(mut case) = build(seed, inputs, &units, &acts, batch, 0.0) else { return Ok(()) };
        check(&mut case, fused)?;
    }

    /// Dropout after every hidden layer, its mask held fixed.
    #[test]
    fn backprop_through_dropout_equals_central_differences((seed, inputs, units, acts, batch) in shapes(6, 4), fused in any::<bool>()) {
        prop_assume!(units.len() >= 2);
        let Some(mut case) = build(seed, inputs, &units, &acts, batch, 0.4) else { return Ok(()) };
        check(&mut case, fused)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Layers up to 40 wide: the general products' blocked loops.
    #[test]
    fn backprop_equals_central_differences_wide((seed, inputs, units, acts, batch) in shapes(40, 2), fused in any::<bool>()) {
        let Some(mut case) = build(seed, inputs, &units, &acts, batch, 0.0) else { return Ok(()) };
        check(&mut case, fused)?;
    }
}

/// The check can fail: a gradient with one sign flipped, or one bias gradient doubled, is caught.
#[test]
fn a_wrong_gradient_is_caught() {
    let mut case = build(3, 2, &[3, 2], &[0, 0], 4, 0.0).expect("no kink at this seed");
    let x = case.x.clone();
    let a = case.analytic(x.view(), false);
    let n = case.numeric(false, STEP);
    let net = case.net.clone();
    let (_, size) = case.terms(&net, x.view(), false);
    let within = |a: &[f64]| a.iter().zip(&n).all(|(a, n)| (a - n).abs() <= tolerance(*a, *n, size));
    assert!(within(&a));
    let mut flipped = a.clone();
    flipped[0] = -flipped[0];
    assert!(!within(&flipped), "a sign error");
    let mut doubled = a.clone();
    let b = net.layers()[1].b_range().start;
    doubled[b] *= 2.0;
    assert!(!within(&doubled), "a bias gradient twice over");
}
