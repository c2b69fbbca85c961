//! The matrix products of the workloads through `linalg::matmul_into`: W1's tiny f64 products and
//! W2's and W3's f32 forward (`a·W`) and backward (`aᵀ·δ`, `δ·Wᵀ`) products, with GFLOP/s.
//!
//! `cargo bench -p backprop-tensor [-- NAME]`; `RAYON_NUM_THREADS=1` for one thread. A plain
//! timing loop rather than criterion (see `crates/layers/benches/network.rs`).

use std::hint::black_box;
use std::time::Instant;

use backprop_tensor::linalg::matmul_into;
use backprop_tensor::{Element, Matrix};

/// `(label, m, k, n, a transposed, b transposed)`.
type Shape = (&'static str, usize, usize, usize, bool, bool);

fn product<F: Element>(filter: &Option<String>, (label, m, k, n, ta, tb): Shape) {
    let a: Matrix<F> = if ta { Matrix::from_elem((k, m), F::of(0.5)) } else { Matrix::from_elem((m, k), F::of(0.5)) };
    let b: Matrix<F> = if tb { Matrix::from_elem((n, k), F::of(0.25)) } else { Matrix::from_elem((k, n), F::of(0.25)) };
    let mut c = Matrix::<F>::zeros((m, n));
    let (av, bv) = (if ta { a.t() } else { a.view() }, if tb { b.t() } else { b.view() });
    let name = format!(
        "{label} {m}x{k}{}·{k}x{n}{} {}",
        if ta { "ᵀ" } else { "" },
        if tb { "ᵀ" } else { "" },
        if F::DTYPE == backprop_tensor::Dtype::F32 { "f32" } else { "f64" }
    );
    bench(filter, &name, 2.0 * (m * k * n) as f64, || matmul_into(black_box(av), bv, c.view_mut(), false));
}

fn main() {
    let filter = filter();
    for shape in [
        ("half_adder", 4, 2, 2, false, false),
        ("half_adder", 2, 4, 2, true, false),
        ("half_adder", 4, 2, 2, false, true),
    ] {
        product::<f64>(&filter, shape);
    }
    for b in [32, 128] {
        let label = if b == 32 { "mnist_mlp b32" } else { "mnist_mlp b128" };
        for (m, k, n, ta, tb) in [
            (b, 784, 256, false, false),
            (b, 256, 128, false, false),
            (b, 128, 10, false, false),
            (784, b, 256, true, false),
            (256, b, 128, true, false),
            (128, b, 10, true, false),
            (b, 128, 256, false, true),
            (b, 10, 128, false, true),
        ] {
            product::<f32>(&filter, (label, m, k, n, ta, tb));
        }
    }
    for (m, k, n, ta, tb) in [
        (256, 1024, 4096, false, false),
        (256, 4096, 4096, false, false),
        (256, 4096, 10, false, false),
        (1024, 256, 4096, true, false),
        (4096, 256, 4096, true, false),
        (4096, 256, 10, true, false),
        (256, 4096, 4096, false, true),
        (256, 10, 4096, false, true),
    ] {
        product::<f32>(&filter, ("wide", m, k, n, ta, tb));
    }
}

/// Times `f`: warm-up, then `SAMPLES` samples of about 50 ms each; prints the median and the
/// fastest time per call (the fastest is the least disturbed by other processes), and the
/// GFLOP/s of the fastest for `flops` per call.
fn bench(filter: &Option<String>, name: &str, flops: f64, mut f: impl FnMut()) {
    const SAMPLES: usize = 15;
    if filter.as_ref().is_some_and(|s| !name.contains(s.as_str())) {
        return;
    }
    // Calls per sample: enough for about 50 ms (at least 1).
    let t0 = Instant::now();
    let mut calls = 0u32;
    while t0.elapsed().as_secs_f64() < 0.05 || calls < 2 {
        f();
        calls += 1;
    }
    let per_sample = (0.05 / (t0.elapsed().as_secs_f64() / f64::from(calls))).ceil().max(1.0) as u32;
    let mut times: Vec<f64> = (0..SAMPLES)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..per_sample {
                f();
            }
            t.elapsed().as_secs_f64() / f64::from(per_sample)
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let (median, min) = (times[SAMPLES / 2], times[0]);
    println!(
        "{name:<44} median {:>12}  min {:>12}  {:>6.1} GFLOP/s at the min",
        human(median),
        human(min),
        flops / min / 1e9
    );
}

fn human(secs: f64) -> String {
    match secs {
        s if s < 1e-6 => format!("{:.1} ns", s * 1e9),
        s if s < 1e-3 => format!("{:.2} µs", s * 1e6),
        s => format!("{:.3} ms", s * 1e3),
    }
}

/// The first argument that is not a flag (`cargo bench -- NAME` runs the benchmarks whose name
/// contains NAME; cargo itself passes `--bench`).
fn filter() -> Option<String> {
    std::env::args().skip(1).find(|a| !a.starts_with('-'))
}
