//! The post's experiment with the library alone (no command line): a 2-[2,2]-2 sigmoid network
//! learns a half adder by full-batch gradient descent on the cost 1/(2N)·Σ‖a − t‖², lr 0.5,
//! 20000 epochs, from the same seeded start as `configs/half_adder.toml`.
//!
//! Run with `cargo run -p backprop-e2e --example half_adder`. (A program that starts from a
//! config file rather than building the pieces takes them from `backprop_cli::experiment`.)

use backprop_cli::config::BatchSize;
use backprop_cli::experiment::{STREAM_INIT, STREAM_SHUFFLE};
use backprop_cli::train::{TrainOptions, Trainer};
use backprop_data::DataSpec;
use backprop_layers::activation::Sigmoid;
use backprop_layers::{ActivationSpec, LayerSpec, Network};
use backprop_loss::{HalfMse, LossSpec};
use backprop_optim::Sgd;
use backprop_tensor::init::Uniform;
use backprop_tensor::rng::{derive_seed, seeded};

fn main() {
    let data = DataSpec::HalfAdder {}.load::<f64>().expect("a builtin truth table");
    let layer = || LayerSpec::new(2, ActivationSpec::Sigmoid(Sigmoid {}));
    let mut net = Network::<f64>::new(2, &[layer(), layer(), layer()]);
    // The post's start: every weight and bias from U(−1, 1); seed 7's initial-weights stream, as
    // the CLI draws it.
    let init = Uniform { low: -1.0, high: 1.0 };
    net.initialize(&init, &init, &mut seeded(derive_seed(7, STREAM_INIT)));

    let loss = LossSpec::HalfMse(HalfMse {});
    let sgd = Sgd { lr: 0.5, ..Sgd::default() };
    let opts = TrainOptions { epochs: 20_000, batch_size: BatchSize::Full, log_every: 5000, ..Default::default() };
    let trainer = Trainer::new(net, &data, loss.get(), &sgd, opts);
    let outcome = trainer.run(&mut seeded(derive_seed(7, STREAM_SHUFFLE)), &mut std::io::stdout());

    let outputs = outcome.net.predict(data.inputs.view());
    for (x, y) in data.inputs.outer_iter().zip(outputs.outer_iter()) {
        println!("  {x} : {y:.6}");
    }
    let final_cost = *outcome.costs.last().expect("epoch 0 is always recorded");
    assert!(final_cost < 0.01, "the half adder did not converge: cost {final_cost}");
    assert_eq!(outputs.mapv(f64::round), data.targets, "every (sum, carry) is right once rounded");
}
