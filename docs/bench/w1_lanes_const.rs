// W1 as one loop over per-layer functions: the batch in lanes (each unit's four rows one
// [f64; 4]), each layer's forward and backward a function generated for its (inputs, units)
// with const generics and picked at run time through a fn pointer (16 shapes up to 4 x 4, as
// the library's tiny passes do), sigmoid through backprop_tensor::math::map_exp4 inlined, and
// half_mse and SGD written into the loop. Every element is computed in the general passes'
// order, so the same bits: it prints W1's final_loss, 4.965354350e-04.
//
// The question (docs/performance.md, tenth session): how fast is W1 without code per network
// shape, once the trainer's generic machinery (virtual loss and optimiser calls, workspace
// bookkeeping, per-epoch metrics) is out of the loop? On the dev VM: 3.2-4.4 ms against the
// trainer's 5.3 ms in the same quiet window; 1,637 instructions an epoch (callgrind), 1,172 when
// built for AVX2; the constant-size program (w1_fixed_sizes.rs) 1,062.
//
// Not part of the workspace. docs/bench/lease/build.sh builds it for a lease; by hand, copy it to
// crates/tensor/examples/w1_lanes_const.rs, then
// `cargo run --release -p backprop-tensor --example w1_lanes_const [reps]` (callgrind: reps 1).
use backprop_tensor::math::map_exp4;
use backprop_tensor::tiny_width;
use std::hint::black_box;
use std::time::Instant;

include!("../../../docs/bench/w1_start.rs");

/// One unit's four rows.
type V = [f64; 4];

/// Per layer, up to 4 units: z, a, delta (dC/dz) and dC/da.
#[derive(Default)]
struct Bufs {
    z: [[V; 4]; 3],
    a: [[V; 4]; 3],
    delta: [[V; 4]; 3],
    grad_a: [[V; 4]; 3],
}

/// (layer's params, input, z, a).
type Forward = fn(&[f64], &[V], &mut [V], &mut [V]);
/// (layer's params, input, a, dC/da, delta, layer's gradients, dC/da of the layer below).
type Backward = fn(&[f64], &[V], &[V], &[V], &mut [V], &mut [f64], Option<&mut [V]>);

/// z = input·W + b, a = sigmoid(z), each lane one row.
fn forward<const K: usize, const N: usize>(p: &[f64], input: &[V], z: &mut [V], a: &mut [V]) {
    let (w, b) = p[..K * N + N].split_at(K * N);
    let input: &[V; K] = input[..K].try_into().unwrap();
    for j in 0..N {
        let mut acc = [0.0; 4];
        for q in 0..K {
            for i in 0..4 {
                acc[i] += input[q][i] * w[q * N + j];
            }
        }
        for v in &mut acc {
            *v += b[j];
        }
        z[j] = acc;
        a[j] = map_exp4(acc, |z| -z, |e| 1.0 / (1.0 + e));
    }
}

/// delta = dC/da ⊙ a(1 − a), dC/dW = inputᵀ·delta, dC/db = Σ_rows delta, dC/da below = delta·Wᵀ.
fn backward<const K: usize, const N: usize>(
    p: &[f64],
    input: &[V],
    a: &[V],
    grad_a: &[V],
    delta: &mut [V],
    g: &mut [f64],
    below: Option<&mut [V]>,
) {
    let input: &[V; K] = input[..K].try_into().unwrap();
    for j in 0..N {
        for i in 0..4 {
            delta[j][i] = grad_a[j][i] * (a[j][i] * (1.0 - a[j][i]));
        }
    }
    let (gw, gb) = g[..K * N + N].split_at_mut(K * N);
    for q in 0..K {
        for j in 0..N {
            let (x, d) = (input[q], delta[j]);
            gw[q * N + j] = 0.0 + x[0] * d[0] + x[1] * d[1] + x[2] * d[2] + x[3] * d[3];
        }
    }
    for j in 0..N {
        let d = delta[j];
        gb[j] = 0.0 + d[0] + d[1] + d[2] + d[3];
    }
    if let Some(below) = below {
        let w = &p[..K * N];
        for q in 0..K {
            let mut acc = [0.0; 4];
            for j in 0..N {
                for i in 0..4 {
                    acc[i] += delta[j][i] * w[q * N + j];
                }
            }
            below[q] = acc;
        }
    }
}

/// The passes for a layer of `k` inputs and `n` units.
fn pick(k: usize, n: usize) -> (Forward, Backward) {
    tiny_width!(k, K => tiny_width!(n, N => (forward::<K, N> as Forward, backward::<K, N> as Backward),
        _ => panic!("{n} units")), _ => panic!("{k} inputs"))
}

/// Forward pass and half_mse cost 1/(2m)·Σ‖a − t‖², summed row by row as the library does.
fn forward_cost(layers: &[(Forward, Backward, usize)], params: &[f64], b: &mut Bufs, xt: &[V], tt: &[V], m: usize) -> f64 {
    for (l, &(f, _, off)) in layers.iter().enumerate() {
        let (before, rest) = b.a.split_at_mut(l);
        let input: &[V] = if l == 0 { xt } else { &before[l - 1] };
        f(&params[off..], input, &mut b.z[l], &mut rest[0]);
    }
    let last = layers.len() - 1;
    let mut c = 0.0;
    for i in 0..m {
        for j in 0..tt.len() {
            let d = b.a[last][j][i] - tt[j][i];
            c += d * d;
        }
    }
    c / (2 * m) as f64
}

fn main() {
    let reps: usize = std::env::args().nth(1).map_or(5, |r| r.parse().expect("reps"));
    let widths = black_box(vec![2usize, 2, 2, 2]);
    let m = black_box(4usize);
    let epochs = black_box(20000usize);
    // Inputs and targets unit-major: x₀ over the four rows, then x₁.
    let xt: Vec<V> = black_box(vec![[0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]]);
    let tt: Vec<V> = black_box(vec![[0.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]);
    let mut off = 0;
    let layers: Vec<(Forward, Backward, usize)> = (1..widths.len())
        .map(|l| {
            let (f, g) = pick(widths[l - 1], widths[l]);
            let at = off;
            off += widths[l - 1] * widths[l] + widths[l];
            (f, g, at)
        })
        .collect();
    let last = layers.len() - 1;
    let lr = black_box(0.5);
    for _ in 0..reps {
        let mut b = Bufs::default();
        let mut params = W0.to_vec();
        let mut grads = vec![0.0; params.len()];
        let t0 = Instant::now();
        // As the trainer: epoch 0's forward pass, then per epoch the update and the next pass.
        let mut cost = forward_cost(&layers, &params, &mut b, &xt, &tt, m);
        for _ in 0..epochs {
            for j in 0..tt.len() {
                for i in 0..4 {
                    b.grad_a[last][j][i] = (b.a[last][j][i] - tt[j][i]) / m as f64;
                }
            }
            for (l, &(_, g, off)) in layers.iter().enumerate().rev() {
                let (lo, hi) = b.grad_a.split_at_mut(l);
                let below = if l == 0 { None } else { Some(&mut lo[l - 1][..]) };
                let input: &[V] = if l == 0 { &xt } else { &b.a[l - 1] };
                g(&params[off..], input, &b.a[l], &hi[0], &mut b.delta[l], &mut grads[off..], below);
            }
            for (p, &g) in params.iter_mut().zip(&grads) {
                *p -= lr * g;
            }
            cost = forward_cost(&layers, &params, &mut b, &xt, &tt, m);
        }
        let ms = t0.elapsed().as_secs_f64() * 1e3;
        println!("{ms:.3} ms final_loss={cost:.9e} w[0]={:e}", params[0]);
    }
}
