// W1 bisected, from the library's passes with the loss and SGD written in up to the trainer:
// each variant adds one layer of what `Trainer::run` does per epoch, so the time each adds
// shows where the trainer's W1 time goes beyond the hand-written loop (w1_lanes_const.rs).
// Every variant prints W1's final_loss, 4.965354350e-04.
//
//   passes        Network::forward/backward (the tiny passes), half_mse and SGD written in
//   runtime-n     the same, dividing by a run-time batch size instead of the constant 4
//   dyn-loss      passes, the loss's own cost_rows/gradient_rows (virtual calls), SGD written in
//   plumbing      forward_cost/backward_from_loss (what the trainer calls), SGD written in
//   optimizer     plumbing, and the step through Optimizer::step
//   history       optimizer, and the trainer's per-epoch copies (a history entry, last_good)
//   trainer       Trainer::run, as `xtask bench` times it
//   local-loop    dyn-loss with Optimizer::step and the per-epoch copies: the calls of the
//                 trainer's lean epoch (eleventh session) from a local loop, without the trainer
//
// On the dev VM (tenth session; two series of ten alternating rounds, each round the median of
// five runs, the minimum over the rounds): passes 4.1-4.2 ms, runtime-n 4.2, dyn-loss
// 4.15-4.2, plumbing 4.6-4.7, optimizer 4.7-4.9, history 4.85-5.1, trainer 5.6-5.7;
// w1_lanes_const.rs 3.2. Eleventh session: local-loop 4.25, the trainer (with its lean epoch)
// 5.0-5.1 in the same rounds.
//
// Not part of the workspace: copy it to crates/cli/examples/w1_bisect.rs, then
// `cargo run --release -p backprop-cli --example w1_bisect -- VARIANT [reps]`.
use backprop_cli::config::BatchSize;
use backprop_cli::train::{TrainOptions, Trainer, backward_from_loss, forward_cost};
use backprop_data::DataSpec;
use backprop_layers::activation::Sigmoid;
use backprop_layers::{ActivationSpec, LayerSpec, Network, Workspace};
use backprop_loss::{HalfMse, LossSpec};
use backprop_optim::{OptimizerSpec, Sgd};
use backprop_tensor::rng::seeded;
use std::hint::black_box;
use std::time::Instant;

include!("../../../docs/bench/w1_start.rs");

const VARIANTS: [&str; 8] =
    ["passes", "runtime-n", "dyn-loss", "plumbing", "optimizer", "history", "trainer", "local-loop"];

fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| "trainer".into());
    assert!(VARIANTS.contains(&name.as_str()), "variants: {VARIANTS:?}");
    let is = |names: &[&str]| names.contains(&name.as_str());
    let plumbing = is(&["plumbing", "optimizer", "history"]);
    let dyn_loss = is(&["dyn-loss", "local-loop"]);
    let step_call = is(&["optimizer", "history", "local-loop"]);
    let copies = is(&["history", "local-loop"]);
    let reps: usize = std::env::args().nth(2).map_or(5, |r| r.parse().expect("reps"));
    let data = DataSpec::HalfAdder {}.load::<f64>().expect("builtin");
    let loss_spec = LossSpec::HalfMse(HalfMse {});
    let loss = black_box(loss_spec.get::<f64>());
    let opt_spec = OptimizerSpec::Sgd(Sgd { lr: 0.5, ..Sgd::default() });
    let opt = black_box(opt_spec.get::<f64>());
    let (x, t) = (data.inputs.view(), data.targets.view());
    let ts = data.targets.as_slice().expect("row-major");
    let epochs = black_box(20_000usize);
    let n: f64 = if name == "runtime-n" { black_box(4.0) } else { 4.0 };
    let layer = || LayerSpec::new(2, ActivationSpec::Sigmoid(Sigmoid {}));
    for _ in 0..reps {
        let mut net = Network::<f64>::new(2, &[layer(), layer(), layer()]);
        net.params_mut().copy_from_slice(&W0);
        let mut ws = Workspace::new(&net, 4);
        let mut grads = vec![0.0; net.params().len()];
        let mut history: Vec<[f64; 9]> = Vec::with_capacity(epochs + 1);
        let mut last_good = net.params().to_vec();
        let t0 = Instant::now();
        let cost = if name == "trainer" {
            let opts = TrainOptions { epochs, batch_size: BatchSize::Full, log_every: 0, ..Default::default() };
            let trainer = Trainer::new(net, &data, loss, opt, opts);
            *trainer.run(&mut seeded(0), &mut std::io::sink()).costs.last().expect("costs")
        } else {
            net.forward(x, &mut ws);
            let mut cost = 0.0;
            for step in 1..=epochs as u64 {
                if plumbing {
                    backward_from_loss(&net, loss, x, t, &mut ws, &mut grads);
                } else {
                    let (out, g) = ws.loss_rows(4, false);
                    if dyn_loss {
                        loss.gradient_rows(2, out, ts, g);
                    } else {
                        for ((g, &a), &t) in g.iter_mut().zip(out).zip(ts) {
                            *g = (a - t) / n;
                        }
                    }
                    net.backward(x, &mut ws, &mut grads, false);
                }
                if step_call {
                    opt.step(net.params_mut(), &grads, &mut [], step, 0.5);
                } else {
                    for (p, &g) in net.params_mut().iter_mut().zip(&grads) {
                        *p -= 0.5 * g;
                    }
                }
                if plumbing {
                    cost = forward_cost(&net, loss, x, t, &mut ws);
                } else {
                    net.forward(x, &mut ws);
                    let (out, _) = ws.loss_rows(4, false);
                    if dyn_loss {
                        cost = loss.cost_rows(2, out, ts);
                    } else {
                        let mut sum = 0.0;
                        for (&a, &t) in out.iter().zip(ts) {
                            sum += (a - t) * (a - t);
                        }
                        cost = sum / (n + n);
                    }
                }
                if copies {
                    history.push([cost, 0.5, f64::NAN, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
                    last_good.copy_from_slice(net.params());
                }
            }
            cost
        };
        let ms = t0.elapsed().as_secs_f64() * 1e3;
        println!("{name} {ms:.3} ms final_loss={cost:.9e} ({} kept)", history.len() + last_good.len());
    }
}
