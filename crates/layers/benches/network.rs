//! criterion benchmarks of the forward and backward passes of whole networks: the half adder
//! (W1, f64, batch 4: the per-call overhead) and the MNIST-shaped MLP (W2, f32, batch 32 and
//! 128). Throughput is in samples (rows of the batch).
//!
//! `cargo bench -p backprop-layers [-- FILTER]` (e.g. `-- half_adder`).

use std::hint::black_box;

use backprop_layers::{ActivationSpec, LayerSpec, Network, Workspace};
use backprop_tensor::{Element, Matrix};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn net<F: Element>(sizes: &[usize], hidden: &str, output: &str) -> Network<F> {
    let specs: Vec<LayerSpec> = sizes[1..]
        .iter()
        .enumerate()
        .map(|(l, &units)| {
            let act = if l + 2 == sizes.len() { output } else { hidden };
            LayerSpec::new(units, ActivationSpec::from_name(act).expect("registered"))
        })
        .collect();
    let mut net = Network::new(sizes[0], &specs);
    for (i, p) in net.params_mut().iter_mut().enumerate() {
        *p = F::of(((i * 7919) % 17) as f64 / 17.0 - 0.5);
    }
    net
}

fn passes<F: Element>(c: &mut Criterion, name: &str, net: &Network<F>, batch: usize) {
    let x = Matrix::from_shape_fn((batch, net.inputs()), |(i, j)| F::of(((i * 31 + j * 7) % 11) as f64 / 11.0));
    let mut ws = Workspace::new(net, batch);
    let mut grads = vec![F::zero(); net.params().len()];
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(batch as u64));
    group.bench_function("forward", |b| b.iter(|| net.forward(black_box(x.view()), &mut ws)));
    net.forward(x.view(), &mut ws);
    ws.loss_io(batch, false).1.fill(F::of(0.01));
    group.bench_function("backward", |b| b.iter(|| net.backward(black_box(x.view()), &mut ws, &mut grads, false)));
    group.bench_function("forward+backward", |b| {
        b.iter(|| {
            net.forward(black_box(x.view()), &mut ws);
            net.backward(x.view(), &mut ws, &mut grads, false);
        })
    });
    group.finish();
}

fn half_adder(c: &mut Criterion) {
    passes::<f64>(c, "half_adder 2-2-2-2 f64 b4", &net(&[2, 2, 2, 2], "sigmoid", "sigmoid"), 4);
}

fn mnist_mlp(c: &mut Criterion) {
    let mnist = net::<f32>(&[784, 256, 128, 10], "relu", "identity");
    passes(c, "mnist_mlp 784-256-128-10 f32 b32", &mnist, 32);
    passes(c, "mnist_mlp 784-256-128-10 f32 b128", &mnist, 128);
}

criterion_group!(benches, half_adder, mnist_mlp);
criterion_main!(benches);
