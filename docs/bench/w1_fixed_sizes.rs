// W1 with the half adder's sizes written in as constants: forward, half_mse, backward and SGD
// in one function over stack arrays, exponentials through backprop_tensor::math::exp_in_place.
// The bound for a tiny-net kernel (docs/performance.md, W1). Not part of the workspace: copy it
// to crates/tensor/examples/w1_fixed_sizes.rs, then
// `cargo run --release -p backprop-tensor --example w1_fixed_sizes` (five timed runs of 20000
// epochs from the bench README's fixed start; the printed cost is the one before the last update).
use backprop_tensor::math::exp_in_place;
use std::time::Instant;

const W0: [[[f64; 2]; 2]; 3] = [
    [[0.6888437030500962, 0.515908805880605], [-0.15885683833831, -0.4821664994140733]],
    [[0.02254944273721704, -0.19013172509917142], [0.5675971780695452, -0.3933745478421451]],
    [[-0.04680609169528838, 0.1667640789100624], [0.8162257703906703, 0.009373711634780513]],
];
const B0: [[f64; 2]; 3] = [
    [-0.43632431120059234, 0.5116084083144479],
    [0.23673799335066326, -0.4989873172751189],
    [0.8194925119364802, 0.9655709520753062],
];

fn main() {
    let x = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
    let t = [0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0];
    for _ in 0..5 {
        let mut w = W0;
        let mut b = B0;
        let t0 = Instant::now();
        let mut a = [[0.0f64; 8]; 3];
        let mut cost = 0.0;
        for _ in 0..20000 {
            // forward (row-major 4x2)
            for l in 0..3 {
                let input: [f64; 8] = if l == 0 { x } else { a[l - 1] };
                let mut z = [0.0; 8];
                for i in 0..4 {
                    for j in 0..2 {
                        let mut acc = 0.0;
                        for p in 0..2 {
                            acc += input[i * 2 + p] * w[l][p][j];
                        }
                        z[i * 2 + j] = -(acc + b[l][j]);
                    }
                }
                exp_in_place(&mut z);
                for k in 0..8 {
                    a[l][k] = 1.0 / (1.0 + z[k]);
                }
            }
            cost = 0.0;
            let mut g = [0.0; 8];
            for k in 0..8 {
                let d = a[2][k] - t[k];
                cost += d * d;
                g[k] = d / 4.0;
            }
            cost /= 8.0;
            // backward
            let mut gw = [[[0.0; 2]; 2]; 3];
            let mut gb = [[0.0; 2]; 3];
            for l in (0..3).rev() {
                let mut delta = [0.0; 8];
                for k in 0..8 {
                    delta[k] = g[k] * (a[l][k] * (1.0 - a[l][k]));
                }
                let input: [f64; 8] = if l == 0 { x } else { a[l - 1] };
                for p in 0..2 {
                    for j in 0..2 {
                        let mut acc = 0.0;
                        for i in 0..4 {
                            acc += input[i * 2 + p] * delta[i * 2 + j];
                        }
                        gw[l][p][j] = acc;
                    }
                }
                for j in 0..2 {
                    gb[l][j] = delta[j] + delta[2 + j] + delta[4 + j] + delta[6 + j];
                }
                if l > 0 {
                    for i in 0..4 {
                        for p in 0..2 {
                            let mut acc = 0.0;
                            for j in 0..2 {
                                acc += delta[i * 2 + j] * w[l][p][j];
                            }
                            g[i * 2 + p] = acc;
                        }
                    }
                }
            }
            for l in 0..3 {
                for p in 0..2 {
                    for j in 0..2 {
                        w[l][p][j] -= 0.5 * gw[l][p][j];
                    }
                    b[l][p] -= 0.5 * gb[l][p];
                }
            }
        }
        println!("{:.3} ms cost {cost:e}", t0.elapsed().as_secs_f64() * 1e3);
    }
}
