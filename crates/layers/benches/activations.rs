//! criterion benchmarks of each registered activation's forward and backward pass over one
//! layer's buffers: 128 rows × 256 units (W2's first hidden layer at batch 128), f32 and f64.
//! Throughput is in elements.
//!
//! `cargo bench -p backprop-layers --bench activations [-- FILTER]` (e.g. `-- silu`).

use std::hint::black_box;

use backprop_layers::ActivationSpec;
use backprop_tensor::Element;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const ROWS: usize = 128;
const UNITS: usize = 256;

fn passes<F: Element>(c: &mut Criterion, ty: &str) {
    let n = ROWS * UNITS;
    // Pre-activations spread over [−6, 6): both sides of every kink and saturation.
    let z: Vec<F> = (0..n).map(|i| F::of(((i * 7919) % 1201) as f64 / 100.0 - 6.0)).collect();
    let grad_a: Vec<F> = (0..n).map(|i| F::of(((i * 31) % 17) as f64 / 17.0 - 0.5)).collect();
    let mut a = vec![F::zero(); n];
    let mut grad_z = vec![F::zero(); n];
    for &name in ActivationSpec::NAMES {
        if name == "swish" {
            continue; // silu's other name
        }
        let spec = ActivationSpec::from_name(name).expect("a listed name");
        let act = spec.get::<F>();
        let mut group = c.benchmark_group(format!("{name} {ty} {ROWS}x{UNITS}"));
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function("forward", |b| b.iter(|| act.forward_buffers(UNITS, black_box(&z), &mut a)));
        act.forward_buffers(UNITS, &z, &mut a);
        group.bench_function("backward", |b| {
            b.iter(|| act.backward_buffers(UNITS, black_box(&z), &a, &grad_a, &mut grad_z))
        });
        group.finish();
    }
}

fn activations(c: &mut Criterion) {
    passes::<f32>(c, "f32");
    passes::<f64>(c, "f64");
}

criterion_group!(benches, activations);
criterion_main!(benches);
