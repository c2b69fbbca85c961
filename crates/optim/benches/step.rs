//! criterion benchmarks of the optimiser step over flat buffers: every registered optimiser at
//! W2's 235,146 parameters, and plain SGD (the peers' update) and Adam at W3's 21,020,682 (f32).
//! Throughput is in parameters.
//!
//! `cargo bench -p backprop-optim [-- FILTER]` (e.g. `-- adam`).

use std::hint::black_box;
use std::time::Duration;

use backprop_optim::{Optimizer, OptimizerSpec};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn steps(c: &mut Criterion, label: &str, n: usize, kinds: &[&str]) {
    let mut group = c.benchmark_group(format!("step/{label}"));
    group.throughput(Throughput::Elements(n as u64));
    if n > 1_000_000 {
        group.sample_size(20).measurement_time(Duration::from_secs(4));
    }
    for &kind in kinds {
        let spec = OptimizerSpec::from_name(kind).expect("registered");
        let opt: &dyn Optimizer<f32> = spec.get();
        let mut params: Vec<f32> = (0..n).map(|i| (i % 13) as f32 * 0.01).collect();
        let grads: Vec<f32> = (0..n).map(|i| (i % 7) as f32 * 1e-3 - 3e-3).collect();
        let mut state = vec![0.0f32; opt.state_len(n)];
        let mut step = 0;
        group.bench_function(kind, |b| {
            b.iter(|| {
                step += 1;
                opt.step(black_box(&mut params), &grads, &mut state, step, 1e-6);
            })
        });
    }
    group.finish();
}

fn mnist_mlp(c: &mut Criterion) {
    steps(c, "mnist_mlp 235146 f32", 235_146, OptimizerSpec::NAMES);
}

fn wide(c: &mut Criterion) {
    steps(c, "wide 21020682 f32", 21_020_682, &["sgd", "adam"]);
}

criterion_group!(benches, mnist_mlp, wide);
criterion_main!(benches);
