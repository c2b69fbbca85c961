// W1 with activations stored unit-major in chunks of four rows ("batch in lanes": each unit's
// four rows one [f64; 4], one AVX2 register) and every size a run-time value
// (std::hint::black_box): forward, half_mse, backward and SGD over flat buffers, each element
// computed in the general passes' order, so the same bits (it prints W1's final_loss,
// 4.965354350e-04). The question (docs/performance.md, ninth session): does this layout bring a
// tiny-net path near the constant-size program (w1_fixed_sizes.rs, 1,240 instructions an epoch)
// without compiling anything per network shape? No: 3,150 an epoch (callgrind), 550 of them the
// exponentials, most of the rest the loops over run-time unit counts of 2 (bounds, index
// arithmetic); a first version with plain unit-major slices (the batch loop innermost, also run
// time) ran 4,700. Not part of the workspace: copy it to crates/tensor/examples/w1_lanes.rs, then
// `cargo run --release -p backprop-tensor --example w1_lanes [reps]` (under callgrind with 1).
use backprop_tensor::math::map_exp;
use std::hint::black_box;
use std::time::Instant;

include!("../../../docs/bench/w1_start.rs");

/// Four rows of one unit: the batch in lanes.
type V = [f64; 4];

#[inline(always)]
fn splat(x: f64) -> V {
    [x; 4]
}

/// `Σ_q v(q)·w(q)` over `q < len`, each lane on its own, in increasing `q`, from zero.
#[inline(always)]
fn dot(len: usize, v: impl Fn(usize) -> V, w: impl Fn(usize) -> f64) -> V {
    let mut acc = splat(0.0);
    for q in 0..len {
        let (x, wq) = (v(q), w(q));
        for i in 0..4 {
            acc[i] += x[i] * wq;
        }
    }
    acc
}

struct Net {
    widths: Vec<usize>,
    /// Per layer: offset of W (K×N, row p holds unit j at p·N + j) then b (N).
    offsets: Vec<usize>,
    /// Per layer, per unit, per chunk of four rows (`unit·chunks + c`): z, a, δ, ∂C/∂a.
    z: Vec<Vec<V>>,
    a: Vec<Vec<V>>,
    delta: Vec<Vec<V>>,
    grad_a: Vec<Vec<V>>,
}

impl Net {
    fn new(widths: &[usize], m: usize) -> Self {
        let mut offsets = Vec::new();
        let mut off = 0;
        for l in 1..widths.len() {
            offsets.push(off);
            off += widths[l - 1] * widths[l] + widths[l];
        }
        let chunks = m.div_ceil(4);
        let bufs = || widths[1..].iter().map(|&n| vec![splat(0.0); n * chunks]).collect::<Vec<_>>();
        Net { widths: widths.to_vec(), offsets, z: bufs(), a: bufs(), delta: bufs(), grad_a: bufs() }
    }

    /// One epoch: forward, cost (before the update), backward, SGD. `xt`, `tt` unit-major in
    /// chunks of four rows; `m` a multiple of 4 here (a prototype).
    fn epoch(&mut self, params: &mut [f64], grads: &mut [f64], xt: &[V], tt: &[V], m: usize, lr: f64) -> f64 {
        let layers = self.widths.len() - 1;
        let chunks = m / 4;
        for l in 0..layers {
            let (k, n, off) = (self.widths[l], self.widths[l + 1], self.offsets[l]);
            let (w, b) = params[off..off + k * n + n].split_at(k * n);
            let (before, rest) = self.a.split_at_mut(l);
            let input: &[V] = if l == 0 { xt } else { &before[l - 1] };
            let (z, a) = (&mut self.z[l], &mut rest[0]);
            for j in 0..n {
                for c in 0..chunks {
                    let mut acc = dot(k, |p| input[p * chunks + c], |p| w[p * n + j]);
                    for i in 0..4 {
                        acc[i] += b[j];
                    }
                    z[j * chunks + c] = acc;
                }
            }
            map_exp(z.as_flattened(), a.as_flattened_mut(), |z| -z, |e| 1.0 / (1.0 + e));
        }
        // half_mse: C = 1/(2m)·Σ‖a − t‖², summed row by row as the general passes do.
        let last = layers - 1;
        let outs = self.widths[layers];
        let (out, g) = (&self.a[last], &mut self.grad_a[last]);
        let mut cost = 0.0;
        for c in 0..chunks {
            for i in 0..4 {
                for j in 0..outs {
                    let d = out[j * chunks + c][i] - tt[j * chunks + c][i];
                    cost += d * d;
                }
            }
        }
        let cost = cost / (2 * m) as f64;
        for ((g, o), t) in g.iter_mut().zip(out.iter()).zip(tt) {
            for i in 0..4 {
                g[i] = (o[i] - t[i]) / m as f64;
            }
        }
        for l in (0..layers).rev() {
            let (k, n, off) = (self.widths[l], self.widths[l + 1], self.offsets[l]);
            for ((d, g), a) in self.delta[l].iter_mut().zip(&self.grad_a[l]).zip(&self.a[l]) {
                for i in 0..4 {
                    d[i] = g[i] * (a[i] * (1.0 - a[i]));
                }
            }
            let (gw, gb) = grads[off..off + k * n + n].split_at_mut(k * n);
            let input: &[V] = if l == 0 { xt } else { &self.a[l - 1] };
            let delta = &self.delta[l];
            for p in 0..k {
                for j in 0..n {
                    let mut s = 0.0;
                    for c in 0..chunks {
                        let (x, d) = (input[p * chunks + c], delta[j * chunks + c]);
                        let prod = [x[0] * d[0], x[1] * d[1], x[2] * d[2], x[3] * d[3]];
                        s = s + prod[0] + prod[1] + prod[2] + prod[3];
                    }
                    gw[p * n + j] = s;
                }
            }
            for j in 0..n {
                let mut s = 0.0;
                for c in 0..chunks {
                    let d = delta[j * chunks + c];
                    s = s + d[0] + d[1] + d[2] + d[3];
                }
                gb[j] = s;
            }
            if l > 0 {
                let w = &params[off..off + k * n];
                let below = &mut self.grad_a[l - 1];
                for p in 0..k {
                    for c in 0..chunks {
                        below[p * chunks + c] = dot(n, |j| delta[j * chunks + c], |j| w[p * n + j]);
                    }
                }
            }
        }
        for (p, &g) in params.iter_mut().zip(grads.iter()) {
            *p -= lr * g;
        }
        cost
    }
}

fn main() {
    let reps: usize = std::env::args().nth(1).map_or(5, |r| r.parse().expect("reps"));
    let widths = black_box(vec![2usize, 2, 2, 2]);
    let m = black_box(4usize);
    let epochs = black_box(20000usize);
    // Inputs and targets unit-major: x₀ over the four rows, then x₁.
    let xt = black_box(vec![[0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]]);
    let tt = black_box(vec![[0.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]);
    for _ in 0..reps {
        let mut net = Net::new(&widths, m);
        let mut params = W0.to_vec();
        let mut grads = vec![0.0; params.len()];
        let t0 = Instant::now();
        let mut cost = 0.0;
        for _ in 0..epochs {
            cost = net.epoch(&mut params, &mut grads, &xt, &tt, m, black_box(0.5));
        }
        let ms = t0.elapsed().as_secs_f64() * 1e3;
        // The cost after the last update (W1's `final_loss`): one more pass with lr 0.
        let last = net.epoch(&mut params, &mut grads, &xt, &tt, m, 0.0);
        println!("{ms:.3} ms; cost before the last update {cost:.9e}, after it {last:.9e}; w[0] {:e}", params[0]);
    }
}
