// W1 in registers: the half adder's three layers as [f64; 8] values (lane = row·2 + unit), the
// library's exponential (its table and steps, copied) inlined eight lanes wide, forward,
// half_mse, backward and SGD in one function; it prints the cost w1_fixed_sizes.rs prints.
// A lower bound for any tiny-net path (docs/performance.md, "Fifteenth session"). Not part of
// the workspace: copy it to crates/tensor/examples/w1_registers.rs, then
// `cargo run --release -p backprop-tensor --example w1_registers` (seven timed runs of 20000
// epochs from the bench README's fixed start; the printed cost is the one before the last update).
#[rustfmt::skip]
#[path = "../src/math/exp_table.rs"]
mod exp_table;
use exp_table::{INV_LN2_N, LN2_HI_N, LN2_LO_N, TABLE};
use std::time::Instant;

const SHIFT: f64 = 6755399441055744.0;
type V = [f64; 8];

#[inline(always)]
fn exp8(x: V) -> V {
    let mut k_bits = [0u64; 8];
    let mut r = [0.0; 8];
    for i in 0..8 {
        let shifted = x[i] * INV_LN2_N + SHIFT;
        k_bits[i] = shifted.to_bits();
        let k = shifted - SHIFT;
        r[i] = x[i] - k * LN2_HI_N - k * LN2_LO_N;
    }
    let mut tail = [0.0; 8];
    let mut s = [0.0; 8];
    for i in 0..8 {
        let (t, head_bits) = TABLE[(k_bits[i] % 128) as usize];
        tail[i] = f64::from_bits(t);
        s[i] = f64::from_bits(head_bits.wrapping_add(k_bits[i] << 45));
    }
    let mut out = [0.0; 8];
    for i in 0..8 {
        let (r, r2) = (r[i], r[i] * r[i]);
        let sum = tail[i] + r + r2 * (0.5 + r * (1.0 / 6.0)) + r2 * r2 * (1.0 / 24.0 + r * (1.0 / 120.0));
        out[i] = s[i] + s[i] * sum;
    }
    out
}

#[inline(always)]
fn forward(a: &V, w: &[f64; 4], b: &[f64; 2]) -> V {
    let mut z = [0.0; 8];
    for i in 0..4 {
        for j in 0..2 {
            let acc = 0.0 + a[i * 2] * w[j] + a[i * 2 + 1] * w[2 + j];
            z[i * 2 + j] = -(acc + b[j]);
        }
    }
    let e = exp8(z);
    let mut out = [0.0; 8];
    for k in 0..8 {
        out[k] = 1.0 / (1.0 + e[k]);
    }
    out
}

#[inline(always)]
fn backward(input: &V, a: &V, g: &V, w: &[f64; 4], gw: &mut [f64; 4], gb: &mut [f64; 2]) -> V {
    let mut d = [0.0; 8];
    for k in 0..8 {
        d[k] = g[k] * (a[k] * (1.0 - a[k]));
    }
    for p in 0..2 {
        for j in 0..2 {
            let mut acc = 0.0;
            for i in 0..4 {
                acc += input[i * 2 + p] * d[i * 2 + j];
            }
            gw[p * 2 + j] = acc;
        }
    }
    for j in 0..2 {
        gb[j] = 0.0 + d[j] + d[2 + j] + d[4 + j] + d[6 + j];
    }
    let mut ga = [0.0; 8];
    for i in 0..4 {
        for p in 0..2 {
            ga[i * 2 + p] = 0.0 + d[i * 2] * w[p * 2] + d[i * 2 + 1] * w[p * 2 + 1];
        }
    }
    ga
}

#[inline(never)]
fn train(w: &mut [[f64; 4]; 3], b: &mut [[f64; 2]; 3], epochs: usize) -> f64 {
    let x: V = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
    let t: V = [0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0];
    let mut cost = 0.0;
    for _ in 0..epochs {
        let a1 = forward(&x, &w[0], &b[0]);
        let a2 = forward(&a1, &w[1], &b[1]);
        let a3 = forward(&a2, &w[2], &b[2]);
        let mut g = [0.0; 8];
        cost = 0.0;
        for k in 0..8 {
            let d = a3[k] - t[k];
            cost += d * d;
            g[k] = d / 4.0;
        }
        cost /= 8.0;
        let mut gw = [[0.0; 4]; 3];
        let mut gb = [[0.0; 2]; 3];
        let g2 = backward(&a2, &a3, &g, &w[2], &mut gw[2], &mut gb[2]);
        let g1 = backward(&a1, &a2, &g2, &w[1], &mut gw[1], &mut gb[1]);
        let _ = backward(&x, &a1, &g1, &w[0], &mut gw[0], &mut gb[0]);
        for l in 0..3 {
            for k in 0..4 {
                w[l][k] -= 0.5 * gw[l][k];
            }
            for k in 0..2 {
                b[l][k] -= 0.5 * gb[l][k];
            }
        }
    }
    cost
}

fn main() {
    let w0 = [
        [0.6888437030500962, 0.515908805880605, -0.15885683833831, -0.4821664994140733],
        [0.02254944273721704, -0.19013172509917142, 0.5675971780695452, -0.3933745478421451],
        [-0.04680609169528838, 0.1667640789100624, 0.8162257703906703, 0.009373711634780513],
    ];
    let b0 = [
        [-0.43632431120059234, 0.5116084083144479],
        [0.23673799335066326, -0.4989873172751189],
        [0.8194925119364802, 0.9655709520753062],
    ];
    for _ in 0..7 {
        let (mut w, mut b) = (w0, b0);
        let t0 = Instant::now();
        let cost = train(std::hint::black_box(&mut w), &mut b, std::hint::black_box(20000));
        println!("{:.3} ms cost {cost:e}", t0.elapsed().as_secs_f64() * 1e3);
    }
}
