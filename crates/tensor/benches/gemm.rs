//! criterion benchmarks of the matrix products of the workloads through `linalg::matmul_into`:
//! W1's tiny f64 products and W2's and W3's f32 forward (`a·W`) and backward (`aᵀ·δ`, `δ·Wᵀ`)
//! products. Throughput is in elements = floating-point operations (`2·m·k·n` per product), so
//! criterion's `Gelem/s` reads as GFLOP/s.
//!
//! `cargo bench -p backprop-tensor [-- FILTER]` (e.g. `-- wide`); `RAYON_NUM_THREADS=1` for one
//! thread.

use std::hint::black_box;
use std::time::Duration;

use backprop_tensor::linalg::matmul_into;
use backprop_tensor::{Dtype, Element, Matrix};
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main, measurement::WallTime};

/// `(m, k, n, a transposed, b transposed)`.
type Shape = (usize, usize, usize, bool, bool);

fn product<F: Element>(group: &mut BenchmarkGroup<'_, WallTime>, (m, k, n, ta, tb): Shape) {
    let a: Matrix<F> = if ta { Matrix::from_elem((k, m), F::of(0.5)) } else { Matrix::from_elem((m, k), F::of(0.5)) };
    let b: Matrix<F> = if tb { Matrix::from_elem((n, k), F::of(0.25)) } else { Matrix::from_elem((k, n), F::of(0.25)) };
    let mut c = Matrix::<F>::zeros((m, n));
    let (av, bv) = (if ta { a.t() } else { a.view() }, if tb { b.t() } else { b.view() });
    let name = format!(
        "{m}x{k}{}·{k}x{n}{} {}",
        if ta { "ᵀ" } else { "" },
        if tb { "ᵀ" } else { "" },
        if F::DTYPE == Dtype::F32 { "f32" } else { "f64" }
    );
    group.throughput(Throughput::Elements(2 * (m * k * n) as u64));
    group.bench_function(name, |bencher| bencher.iter(|| matmul_into(black_box(av), bv, c.view_mut(), false)));
}

fn half_adder(c: &mut Criterion) {
    let mut group = c.benchmark_group("gemm/half_adder");
    for shape in [(4, 2, 2, false, false), (2, 4, 2, true, false), (4, 2, 2, false, true)] {
        product::<f64>(&mut group, shape);
    }
    group.finish();
}

fn mnist_mlp(c: &mut Criterion) {
    for b in [32, 128] {
        let mut group = c.benchmark_group(format!("gemm/mnist_mlp_b{b}"));
        for shape in [
            (b, 784, 256, false, false),
            (b, 256, 128, false, false),
            (b, 128, 10, false, false),
            (784, b, 256, true, false),
            (256, b, 128, true, false),
            (128, b, 10, true, false),
            (b, 128, 256, false, true),
            (b, 10, 128, false, true),
        ] {
            product::<f32>(&mut group, shape);
        }
        group.finish();
    }
}

fn wide(c: &mut Criterion) {
    let mut group = c.benchmark_group("gemm/wide");
    // Each of the big products takes tens of milliseconds: fewer, longer samples.
    group.sample_size(10).measurement_time(Duration::from_secs(4));
    for shape in [
        (256, 1024, 4096, false, false),
        (256, 4096, 4096, false, false),
        (256, 4096, 10, false, false),
        (1024, 256, 4096, true, false),
        (4096, 256, 4096, true, false),
        (4096, 256, 10, true, false),
        (256, 4096, 4096, false, true),
        (256, 10, 4096, false, true),
    ] {
        product::<f32>(&mut group, shape);
    }
    group.finish();
}

criterion_group!(benches, half_adder, mnist_mlp, wide);
criterion_main!(benches);
