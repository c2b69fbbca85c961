//! The passes of tiny networks: each layer's work in one function generated for its shape.
//!
//! When the inputs and every layer of a network are at most 4 wide (the post's 2-2-2-2 half
//! adder, XOR), each layer gets a forward and a backward function generated for its exact
//! `(inputs, units)` (const generics, 16 shapes, picked once when the workspace is made): the
//! layer's slices, its product kernel ([`forward_const`], [`backward_const`], inlined) and its
//! activation call in one straight run of code, with the sizes as constants, instead of the
//! general loop's per-layer bookkeeping (input operand, dropout checks, kernel dispatch, bounds
//! checks on run-time sizes). W1 runs 9% fewer instructions. The batch size stays a run-time
//! value. (One function per whole network shape, 336 of them up to three layers deep, was 10%
//! fewer instructions again, but made the release rebuild after a change here four times as
//! long: docs/performance.md, seventh session.)
//!
//! They do what the general passes do, in the same order, with the same kernels (those of
//! [`DensePlan`](backprop_tensor::linalg::DensePlan) for these sizes) and the same activation
//! calls, into the same workspace buffers: the same bits (tested against the general passes for
//! every shape up to three layers). Training with dropout, and inputs that are not row-major,
//! take the general passes.

use backprop_tensor::linalg::{backward_const, forward_const};
use backprop_tensor::{Element, MatView, tiny_width};

use super::{Network, Workspace};

/// `(net, l, x, ws, n)`: layer `l`'s forward pass of the `n` rows of row-major `x`.
type Forward<F> = fn(&Network<F>, usize, &[F], &mut Workspace<F>, usize);
/// `(net, l, x, ws, grads, delta_ready, n)`: layer `l`'s backward pass.
type Backward<F> = fn(&Network<F>, usize, &[F], &mut Workspace<F>, &mut [F], bool, usize);

/// Each layer's passes, generated for its shape.
#[derive(Clone)]
pub(super) struct TinyPasses<F> {
    /// The network's inputs (its layers' units are the workspace's own).
    inputs: usize,
    layers: Vec<(Forward<F>, Backward<F>)>,
}

impl<F> std::fmt::Debug for TinyPasses<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TinyPasses").field("inputs", &self.inputs).finish_non_exhaustive()
    }
}

impl<F: Element> TinyPasses<F> {
    /// The passes for `net`, when its inputs and every layer are at most 4 wide.
    pub(super) fn of(net: &Network<F>) -> Option<Self> {
        if net.layers.is_empty() {
            return None;
        }
        let layers = net.layers.iter().map(|l| pick::<F>(l.inputs, l.units)).collect::<Option<Vec<_>>>()?;
        Some(TinyPasses { inputs: net.inputs, layers })
    }
}

/// `x` as the row-major slice the tiny passes read, when they apply: `ws` has them, they were
/// made for `net` (whose layers have the workspace's units, which `Workspace::check` asserts),
/// the pass is not a training pass (dropout) and `x` is row-major.
#[inline]
pub(super) fn input<'x, F: Element>(net: &Network<F>, ws: &Workspace<F>, x: MatView<'x, F>) -> Option<&'x [F]> {
    let made_for_net = ws.tiny.as_ref().is_some_and(|tiny| tiny.inputs == net.inputs);
    if made_for_net && !ws.training { x.to_slice() } else { None }
}

/// [`Network::forward`] with `ws`'s tiny passes, which the caller has checked are there and fit.
pub(super) fn forward<F: Element>(net: &Network<F>, x: &[F], ws: &mut Workspace<F>, n: usize) {
    for l in 0..net.layers.len() {
        let forward = ws.tiny.as_ref().expect("checked by the caller").layers[l].0;
        forward(net, l, x, ws, n);
    }
}

/// [`Network::backward`] with `ws`'s tiny passes, which the caller has checked are there and fit.
pub(super) fn backward<F: Element>(
    net: &Network<F>,
    x: &[F],
    ws: &mut Workspace<F>,
    grads: &mut [F],
    output_delta_ready: bool,
    n: usize,
) {
    let last = net.layers.len() - 1;
    for l in (0..=last).rev() {
        let backward = ws.tiny.as_ref().expect("checked by the caller").layers[l].1;
        backward(net, l, x, ws, grads, output_delta_ready && l == last, n);
    }
}

/// The passes for a layer of `k` inputs and `n` units.
fn pick<F: Element>(k: usize, n: usize) -> Option<(Forward<F>, Backward<F>)> {
    tiny_width!(k, K => tiny_width!(n, N => Some((
        layer_forward::<F, K, N> as Forward<F>,
        layer_backward::<F, K, N> as Backward<F>,
    )), _ => None), _ => None)
}

/// Layer `l` (`K` inputs, `N` units) forward: `zˡ = aˡ⁻¹·Wˡ + bˡ`, `aˡ = σ(zˡ)`, `a⁰ = x`.
fn layer_forward<F: Element, const K: usize, const N: usize>(
    net: &Network<F>,
    l: usize,
    x: &[F],
    ws: &mut Workspace<F>,
    n: usize,
) {
    let layer = &net.layers[l];
    let params = &net.params[layer.w_offset..layer.b_offset + N];
    let (w, b) = params.split_at(K * N);
    let (before, rest) = ws.a.split_at_mut(l);
    let input = if l == 0 { &x[..n * K] } else { &before[l - 1][..n * K] };
    let z = &mut ws.z[l][..n * N];
    forward_const::<F, K, N>(input, w, b, z);
    layer.activation.get::<F>().forward_buffers(N, z, &mut rest[0][..n * N]);
}

/// Layer `l` (`K` inputs, `N` units) backward: `δˡ = ∂C/∂aˡ ⊙ σ′(zˡ)` (unless the loss wrote
/// `δᴸ`), `∂C/∂Wˡ = aˡ⁻¹ᵀ·δˡ`, `∂C/∂bˡ = Σ_rows δˡ` and, but for the first layer,
/// `∂C/∂aˡ⁻¹ = δˡ·Wˡᵀ`.
fn layer_backward<F: Element, const K: usize, const N: usize>(
    net: &Network<F>,
    l: usize,
    x: &[F],
    ws: &mut Workspace<F>,
    grads: &mut [F],
    delta_ready: bool,
    n: usize,
) {
    let layer = &net.layers[l];
    let len = n * N;
    let delta = &mut ws.delta[l][..len];
    if !delta_ready {
        let (z, a, grad_a) = (&ws.z[l][..len], &ws.a[l][..len], &ws.grad_a[l][..len]);
        layer.activation.get::<F>().backward_buffers(N, z, a, grad_a, delta);
    }
    let delta = &ws.delta[l][..len];
    let w = &net.params[layer.w_offset..layer.w_offset + K * N];
    let (gw, gb) = grads[layer.w_offset..layer.b_offset + N].split_at_mut(K * N);
    if l == 0 {
        backward_const::<F, K, N>(&x[..n * K], delta, w, gw, gb, None);
    } else {
        let (below, _) = ws.grad_a.split_at_mut(l);
        let input = &ws.a[l - 1][..n * K];
        backward_const::<F, K, N>(input, delta, w, gw, gb, Some(&mut below[l - 1][..n * K]));
    }
}

#[cfg(test)]
mod tests {
    use backprop_tensor::rng::{SeededRng, seeded, unit};
    use backprop_tensor::{Element, Matrix};

    use crate::{ActivationSpec, LayerSpec, Mode, Network, Workspace};

    const ACTIVATIONS: [&str; 11] =
        ["sigmoid", "tanh", "relu", "identity", "leaky_relu", "elu", "gelu", "softplus", "silu", "softmax", "sigmoid"];

    fn random<F: Element>(len: usize, rng: &mut SeededRng) -> Vec<F> {
        (0..len).map(|_| F::of(unit(rng) * 4.0 - 2.0)).collect()
    }

    /// Forward and backward passes of `net` on `x` with the tiny passes and with the general
    /// ones (training mode without dropout takes the general loop), compared bit for bit.
    fn same_bits<F: Element>(net: &Network<F>, x: &Matrix<F>, delta_ready: bool, rng: &mut SeededRng) {
        let n = x.nrows();
        let (mut tiny, mut general) = (Workspace::new(net, 5), Workspace::new(net, 5));
        assert!(tiny.tiny.is_some(), "no tiny passes for {:?}", net.layers);
        net.forward(x.view(), &mut tiny);
        net.forward_mode(x.view(), &mut general, Mode::TrainFixedMask);
        assert!(general.training, "the reference must take the general passes");
        let output = random::<F>(n * net.outputs(), rng);
        for ws in [&mut tiny, &mut general] {
            ws.loss_rows(n, delta_ready).1.copy_from_slice(&output);
        }
        let (mut g_tiny, mut g_general) = (vec![F::nan(); net.params().len()], vec![F::nan(); net.params().len()]);
        net.backward(x.view(), &mut tiny, &mut g_tiny, delta_ready);
        net.backward(x.view(), &mut general, &mut g_general, delta_ready);
        let bits = |v: &[F]| v.iter().map(|x| x.f64().to_bits()).collect::<Vec<_>>();
        for l in 0..net.layers.len() {
            let len = n * net.layers[l].units;
            let shape = format!("{:?} n={n} layer {l}", net.layers.iter().map(|l| l.units).collect::<Vec<_>>());
            assert_eq!(bits(&tiny.z[l][..len]), bits(&general.z[l][..len]), "z, {shape}");
            assert_eq!(bits(&tiny.a[l][..len]), bits(&general.a[l][..len]), "a, {shape}");
            assert_eq!(bits(&tiny.delta[l][..len]), bits(&general.delta[l][..len]), "delta, {shape}");
            assert_eq!(bits(&tiny.grad_a[l][..len]), bits(&general.grad_a[l][..len]), "grad_a, {shape}");
        }
        assert_eq!(bits(&g_tiny), bits(&g_general), "gradients of {:?}", net.layers);
    }

    fn every_shape<F: Element>(seed: u64) {
        let mut rng = seeded(seed);
        let mut shapes = Vec::new();
        for i in 1..=4 {
            for a in 1..=4 {
                shapes.push(vec![i, a]);
                for b in 1..=4 {
                    shapes.push(vec![i, a, b]);
                    for c in 1..=4 {
                        shapes.push(vec![i, a, b, c]);
                    }
                }
            }
        }
        assert_eq!(shapes.len(), 4 * (4 + 16 + 64));
        for (s, widths) in shapes.iter().enumerate() {
            let specs: Vec<LayerSpec> = widths[1..]
                .iter()
                .enumerate()
                .map(|(l, &units)| LayerSpec {
                    units,
                    activation: ActivationSpec::from_name(ACTIVATIONS[(s + l) % ACTIVATIONS.len()]).expect("known"),
                    dropout: 0.0,
                })
                .collect();
            let mut net = Network::<F>::new(widths[0], &specs);
            let params = random::<F>(net.params().len(), &mut rng);
            net.params_mut().copy_from_slice(&params);
            for n in [0, 1, 4, 5] {
                let x = Matrix::from_shape_vec((n, widths[0]), random::<F>(n * widths[0], &mut rng)).expect("shape");
                same_bits(&net, &x, s % 2 == 1, &mut rng);
            }
        }
    }

    /// Every shape up to three layers of up to 4 units, f64 and f32: the tiny passes give the
    /// general passes' bits for z, a, δ, ∂C/∂a and every gradient.
    #[test]
    fn tiny_passes_give_the_general_passes_bits() {
        every_shape::<f64>(21);
        every_shape::<f32>(22);
    }

    /// A layer wider than 4, dropout in training, or a transposed input: the general passes.
    #[test]
    fn other_networks_and_inputs_take_the_general_passes() {
        let layer = |units| LayerSpec { units, activation: ActivationSpec::default(), dropout: 0.0 };
        let wide = Network::<f64>::new(2, &[layer(5), layer(2)]);
        assert!(Workspace::new(&wide, 4).tiny.is_none());
        assert!(Workspace::new(&Network::<f64>::new(2, &[]), 4).tiny.is_none(), "no layers");
        let narrow = Network::<f64>::new(2, &[layer(2), layer(2)]);
        assert!(Workspace::new(&narrow, 4).tiny.is_some());
        // A column-major input gives the same bits through the general passes.
        let mut rng = seeded(23);
        let mut net = narrow;
        let params = random::<f64>(net.params().len(), &mut rng);
        net.params_mut().copy_from_slice(&params);
        let x = Matrix::from_shape_vec((3, 2), random::<f64>(6, &mut rng)).expect("shape");
        let x_t = x.t().as_standard_layout().into_owned();
        let (mut a, mut b) = (Workspace::new(&net, 3), Workspace::new(&net, 3));
        net.forward(x.view(), &mut a);
        net.forward(x_t.t(), &mut b);
        assert_eq!(a.output(3), b.output(3));
    }
}
