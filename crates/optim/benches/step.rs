//! The optimiser step over flat buffers: plain SGD (the peers' update) and Adam, at W2's
//! 235,146 and W3's 21,020,682 parameters (f32).
//!
//! `cargo bench -p backprop-optim [-- NAME]`. A plain timing loop rather than criterion (see
//! `crates/layers/benches/network.rs`).

use std::hint::black_box;
use std::time::Instant;

use backprop_optim::{Optimizer, OptimizerSpec};

fn main() {
    let filter = filter();
    for (label, n) in [("mnist_mlp", 235_146), ("wide", 21_020_682)] {
        for kind in ["sgd", "adam"] {
            let opt = OptimizerSpec::from_name(kind).expect("registered");
            let opt: &dyn Optimizer<f32> = opt.get();
            let mut params: Vec<f32> = (0..n).map(|i| (i % 13) as f32 * 0.01).collect();
            let grads: Vec<f32> = (0..n).map(|i| (i % 7) as f32 * 1e-3 - 3e-3).collect();
            let mut state = vec![0.0f32; opt.state_len(n)];
            let mut step = 0;
            bench(&filter, &format!("{kind} step {label} ({n} f32)"), || {
                step += 1;
                opt.step(black_box(&mut params), &grads, &mut state, step, 1e-6);
            });
        }
    }
}

/// Times `f`: warm-up, then `SAMPLES` samples of about 50 ms each; prints the median and the
/// fastest time per call (the fastest is the least disturbed by other processes).
fn bench(filter: &Option<String>, name: &str, mut f: impl FnMut()) {
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
    println!("{name:<44} median {:>12}  min {:>12}", human(times[SAMPLES / 2]), human(times[0]));
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
