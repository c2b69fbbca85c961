//! Forward and backward passes of whole networks: the half adder (W1, f64, the per-call
//! overhead) and the MNIST-shaped MLP (W2, f32, batch 32 and 128).
//!
//! `cargo bench -p backprop-layers [-- NAME]`. A plain timing loop rather than criterion, whose
//! dependencies would add about a minute to every cold `cargo test`; it prints the median and the
//! fastest time per call.

use std::hint::black_box;
use std::time::Instant;

use backprop_layers::{ActivationSpec, LayerSpec, Network, Workspace};
use backprop_tensor::{Element, Matrix};

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

fn passes<F: Element>(filter: &Option<String>, name: &str, net: &Network<F>, batch: usize) {
    let x = Matrix::from_shape_fn((batch, net.inputs()), |(i, j)| F::of(((i * 31 + j * 7) % 11) as f64 / 11.0));
    let mut ws = Workspace::new(net, batch);
    let mut grads = vec![F::zero(); net.params().len()];
    bench(filter, &format!("{name} forward"), || net.forward(black_box(x.view()), &mut ws));
    net.forward(x.view(), &mut ws);
    ws.loss_io(batch, false).1.fill(F::of(0.01));
    bench(filter, &format!("{name} backward"), || net.backward(black_box(x.view()), &mut ws, &mut grads, false));
    bench(filter, &format!("{name} forward+backward"), || {
        net.forward(black_box(x.view()), &mut ws);
        net.backward(x.view(), &mut ws, &mut grads, false);
    });
}

fn main() {
    let filter = filter();
    passes::<f64>(&filter, "half_adder 2-2-2-2 f64 b4", &net(&[2, 2, 2, 2], "sigmoid", "sigmoid"), 4);
    let mnist = net::<f32>(&[784, 256, 128, 10], "relu", "identity");
    passes(&filter, "mnist_mlp 784-256-128-10 f32 b32", &mnist, 32);
    passes(&filter, "mnist_mlp 784-256-128-10 f32 b128", &mnist, 128);
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
