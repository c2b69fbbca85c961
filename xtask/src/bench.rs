//! `cargo xtask bench`: the workloads of `../shared/bench/README.md`, timed in-process and
//! printed in the peers' line format (`peer=backprop workload=… ms=…`).

use std::time::Instant;

use backprop_cli::config::BatchSize;
use backprop_cli::train::{TrainOptions, Trainer};
use backprop_data::DataSpec;
use backprop_layers::{ActivationSpec, LayerSpec, Network};
use backprop_loss::LossSpec;
use backprop_optim::{OptimizerSpec, Sgd};
use backprop_tensor::rng::seeded;

/// Options of `cargo xtask bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Only these workloads (default: all). Known: half_adder.
    #[arg(long = "workload")]
    workloads: Vec<String>,
    /// Repeat each timing this many times and report the median.
    #[arg(long, default_value_t = 5)]
    reps: usize,
}

/// W1's fixed start (Python `random.seed(0)`, `2·random() − 1`, all W then all b), from the
/// bench README.
const HA_W: [[[f64; 2]; 2]; 3] = [
    [[0.6888437030500962, 0.515908805880605], [-0.15885683833831, -0.4821664994140733]],
    [[0.02254944273721704, -0.19013172509917142], [0.5675971780695452, -0.3933745478421451]],
    [[-0.04680609169528838, 0.1667640789100624], [0.8162257703906703, 0.009373711634780513]],
];
const HA_B: [[f64; 2]; 3] = [
    [-0.43632431120059234, 0.5116084083144479],
    [0.23673799335066326, -0.4989873172751189],
    [0.8194925119364802, 0.9655709520753062],
];

/// The 2-2-2-2 sigmoid net of W1 at its fixed start.
pub fn half_adder_net() -> Network<f64> {
    let sigmoid = ActivationSpec::from_name("sigmoid").expect("sigmoid is registered");
    let mut net = Network::new(
        2,
        &[LayerSpec::new(2, sigmoid.clone()), LayerSpec::new(2, sigmoid.clone()), LayerSpec::new(2, sigmoid)],
    );
    for l in 0..3 {
        let (mut w, mut b) = net.layer_params_mut(l);
        for i in 0..2 {
            for j in 0..2 {
                w[[i, j]] = HA_W[l][i][j];
            }
            b[i] = HA_B[l][i];
        }
    }
    net
}

fn half_adder(reps: usize) {
    let data = DataSpec::HalfAdder {}.load::<f64>().expect("builtin data");
    let loss = LossSpec::from_name("half_mse").expect("registered");
    let sgd = OptimizerSpec::Sgd(Sgd { lr: 0.5, ..Sgd::default() });
    let opts = |epochs| TrainOptions { epochs, batch_size: BatchSize::Full, log_every: 0, ..Default::default() };
    // 5 untimed warm-up epochs from the fixed start, then the timed run from the fixed start again.
    let _ =
        Trainer::new(half_adder_net(), &data, loss.get(), sgd.get(), opts(5)).run(&mut seeded(0), &mut std::io::sink());
    let mut times = Vec::with_capacity(reps);
    let mut final_loss = f64::NAN;
    for _ in 0..reps.max(1) {
        let trainer = Trainer::new(half_adder_net(), &data, loss.get(), sgd.get(), opts(20_000));
        let t0 = Instant::now();
        let outcome = trainer.run(&mut seeded(0), &mut std::io::sink());
        times.push(t0.elapsed().as_secs_f64() * 1e3);
        final_loss = *outcome.costs.last().expect("costs recorded");
    }
    times.sort_by(f64::total_cmp);
    let ms = times[times.len() / 2];
    println!("peer=backprop workload=half_adder epochs=20000 ms={ms:.3} final_loss={} threads=1", sci(final_loss));
}

/// `x` as Python's `%.9e` writes it (two-digit exponent), the peers' format.
fn sci(x: f64) -> String {
    let s = format!("{x:.9e}");
    match s.split_once('e') {
        Some((mantissa, exp)) => {
            let (sign, digits) = exp.strip_prefix('-').map_or(("+", exp), |d| ("-", d));
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => s,
    }
}

/// Runs the selected workloads; returns the exit status.
pub fn run(args: &BenchArgs) -> i32 {
    let all = args.workloads.is_empty();
    let wants = |w: &str| all || args.workloads.iter().any(|x| x == w);
    if let Some(unknown) = args.workloads.iter().find(|w| !["half_adder"].contains(&w.as_str())) {
        eprintln!("error: unknown workload `{unknown}` (known: half_adder)");
        return 2;
    }
    if wants("half_adder") {
        half_adder(args.reps);
    }
    0
}
