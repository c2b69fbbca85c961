//! `cargo xtask bench`: the workloads of `../shared/bench/README.md`, timed in-process and
//! printed in the peers' line format (`peer=backprop workload=… ms=…`).
//!
//! - W1 `half_adder`: the post's 2-2-2-2 sigmoid net, f64, 20000 full-batch epochs through the
//!   [`Trainer`] (what `backprop train` runs).
//! - W2 `mnist_mlp`: 784-256-128-10 ReLU, softmax cross-entropy on logits, SGD lr 0.01, f32, batch
//!   32 and 128, one epoch over 60000 random samples, batches in order.
//! - W3 `wide`: 1024-4096-4096-10, the same recipe, batch 256, 20 timed steps.
//!
//! W2 and W3 drive the library directly (`Network`, `Workspace`, `forward_cost`,
//! `backward_from_loss`, `Sgd`), one step per batch, exactly as the peers' protocol says: 20 (W2)
//! or 3 (W3) untimed warm-up steps, and the timed region includes cutting the batch out of the
//! resident data. After W2 a `memory` line gives the process's peak resident set (`VmHWM`).
//!
//! `--peers` also runs `../shared/bench/run.sh` (numpy, jax, torch: whichever the Python in
//! `$BACKPROP_PEER_PY` or `$PY` imports; see `setup-venv.sh` there) and prints, after the peers'
//! own lines, one `# ratio` comment per workload and peer: our throughput over theirs (above 1:
//! ours is faster).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use backprop_cli::config::BatchSize;
use backprop_cli::train::{TrainOptions, Trainer, backward_from_loss, forward_cost};
use backprop_data::DataSpec;
use backprop_layers::{ActivationSpec, LayerSpec, Network, Workspace};
use backprop_loss::LossSpec;
use backprop_optim::{Optimizer, OptimizerSpec, Sgd};
use backprop_tensor::rng::{SeededRng, seeded, unit};
use backprop_tensor::{Matrix, linalg};
use ndarray::s;

/// The workloads, in the order they run.
const WORKLOADS: [&str; 4] = ["half_adder", "mnist_mlp", "wide", "idx_load"];

/// Options of `cargo xtask bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Only these workloads (default: all). Known: half_adder, mnist_mlp, wide, idx_load.
    #[arg(long = "workload")]
    workloads: Vec<String>,
    /// W1: repeat the timing this many times and report the median.
    #[arg(long, default_value_t = 5)]
    reps: usize,
    /// W2 and W3: time this many epochs (W2) or 20-step runs (W3), one line each, each from a
    /// fresh model (feed the lines to the peers' `summarize.py` for medians).
    #[arg(long, default_value_t = 1)]
    runs: usize,
    /// Also run the peers of `../shared/bench` (with the Python of `$BACKPROP_PEER_PY` or `$PY`)
    /// on the same workloads and print our throughput over theirs.
    #[arg(long)]
    peers: bool,
    /// With `--peers`: only these peers (default: numpy, jax, torch, whichever the Python
    /// imports). Any name `run.sh` knows (`candle` builds it first).
    #[arg(long = "peer", value_name = "NAME")]
    peer_names: Vec<String>,
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

/// W1: returns `ms`.
fn half_adder(reps: usize) -> f64 {
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
    outln!("peer=backprop workload=half_adder epochs=20000 ms={ms:.3} final_loss={} threads=1", sci(final_loss));
    ms
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

/// Random classification data as the peers make it: inputs U[0, 1), labels uniform in 0..10
/// (one-hot rows, what `cross_entropy` takes), from `rng`.
fn random_classes(rows: usize, features: usize, rng: &mut SeededRng) -> (Matrix<f32>, Matrix<f32>) {
    let x = Matrix::from_shape_simple_fn((rows, features), || unit(rng) as f32);
    let mut t = Matrix::zeros((rows, 10));
    for mut row in t.rows_mut() {
        row[((unit(rng) * 10.0) as usize).min(9)] = 1.0;
    }
    (x, t)
}

/// A ReLU MLP with identity (logit) outputs, weights and biases from U(−1/√fan_in, 1/√fan_in)
/// (PyTorch's `nn.Linear` default), drawn from `rng`.
fn relu_mlp(sizes: &[usize], rng: &mut SeededRng) -> Network<f32> {
    let relu = ActivationSpec::from_name("relu").expect("relu is registered");
    let identity = ActivationSpec::from_name("identity").expect("identity is registered");
    let last = sizes.len() - 2;
    let specs: Vec<LayerSpec> = sizes[1..]
        .iter()
        .enumerate()
        .map(|(l, &units)| LayerSpec::new(units, if l == last { identity.clone() } else { relu.clone() }))
        .collect();
    let mut net = Network::new(sizes[0], &specs);
    for (l, &fan_in) in sizes[..specs.len()].iter().enumerate() {
        let bound = 1.0 / (fan_in as f64).sqrt();
        let (mut w, mut b) = net.layer_params_mut(l);
        for p in w.iter_mut().chain(b.iter_mut()) {
            *p = (bound * (2.0 * unit(rng) - 1.0)) as f32;
        }
    }
    net
}

/// One timed run of W2 or W3: `warmup` untimed SGD steps on batches `0..warmup`, then `steps`
/// timed ones on batches `first..first + steps`. Returns (seconds, loss of the last step).
fn sgd_run(
    sizes: &[usize],
    (x, t): (&Matrix<f32>, &Matrix<f32>),
    batch: usize,
    warmup: usize,
    (first, steps): (usize, usize),
    rng: &mut SeededRng,
) -> (f64, f32) {
    let mut net = relu_mlp(sizes, rng);
    let warm = net.wants_warm_threads(batch);
    let loss = LossSpec::from_name("cross_entropy").expect("registered");
    let sgd = Sgd { lr: 0.01, ..Sgd::default() };
    let mut ws = Workspace::new(&net, batch);
    let mut grads = vec![0.0f32; net.params().len()];
    let mut state = vec![0.0f32; Optimizer::<f32>::state_len(&sgd, grads.len())];
    let mut count = 0u64;
    let mut step = |net: &mut Network<f32>, j: usize| {
        let rows = s![j * batch..(j + 1) * batch, ..];
        let (bx, bt) = (x.slice(rows), t.slice(rows));
        let cost = forward_cost(net, loss.get(), bx, bt, &mut ws);
        backward_from_loss(net, loss.get(), bx, bt, &mut ws, &mut grads);
        count += 1;
        sgd.step(net.params_mut(), &grads, &mut state, count, 0.01);
        cost
    };
    let mut run = || {
        for j in 0..warmup {
            step(&mut net, j);
        }
        let t0 = Instant::now();
        let mut last = f32::NAN;
        for j in first..first + steps {
            last = step(&mut net, j);
        }
        (t0.elapsed().as_secs_f64(), last)
    };
    // As the trainer does (`Trainer::run_with`).
    if warm { linalg::with_warm_threads(run) } else { run() }
}

/// W2: one line per batch size and run; returns samples/s per batch size (median over runs).
fn mnist_mlp(runs: usize) -> BTreeMap<usize, f64> {
    const SIZES: [usize; 4] = [784, 256, 128, 10];
    let mut out = BTreeMap::new();
    for batch in [32, 128] {
        let mut rates = Vec::new();
        for _ in 0..runs.max(1) {
            // A fresh model and fresh data for each batch size (and run), from seed 0.
            let mut rng = seeded(0);
            let data = random_classes(60_000, SIZES[0], &mut rng);
            let steps = 60_000 / batch;
            let (secs, loss) = sgd_run(&SIZES, (&data.0, &data.1), batch, 20, (0, steps), &mut rng);
            let rate = (steps * batch) as f64 / secs;
            rates.push(rate);
            outln!(
                "peer=backprop workload=mnist_mlp batch={batch} steps={steps} samples_per_s={rate:.1} ms={:.1} \
                 loss={loss:.6} threads={}",
                secs * 1e3,
                linalg::threads()
            );
        }
        out.insert(batch, median(&mut rates));
    }
    out
}

/// W3: one line per run; returns (samples/s, GFLOP/s), medians over runs.
fn wide(runs: usize) -> (f64, f64) {
    const SIZES: [usize; 4] = [1024, 4096, 4096, 10];
    const BATCH: usize = 256;
    let params: usize = SIZES.windows(2).map(|w| w[0] * w[1] + w[1]).sum();
    let (mut rates, mut flops) = (Vec::new(), Vec::new());
    for _ in 0..runs.max(1) {
        let mut rng = seeded(0);
        let data = random_classes(BATCH * 23, SIZES[0], &mut rng);
        let (secs, loss) = sgd_run(&SIZES, (&data.0, &data.1), BATCH, 3, (3, 20), &mut rng);
        let rate = (20 * BATCH) as f64 / secs;
        let gflops = (20 * 6 * params * BATCH) as f64 / secs / 1e9;
        rates.push(rate);
        flops.push(gflops);
        outln!(
            "peer=backprop workload=wide batch={BATCH} steps=20 samples_per_s={rate:.1} gflops={gflops:.1} \
             ms={:.1} loss={loss:.6} threads={}",
            secs * 1e3,
            linalg::threads()
        );
    }
    (median(&mut rates), median(&mut flops))
}

/// The process's peak resident set in MiB (`VmHWM` of `/proc/self/status`), where there is one.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.trim_start_matches("VmHWM:").trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib / 1024.0)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Our figures, for the ratios: (workload, batch or 0) → throughput (1/ms for W1, samples/s).
type Ours = BTreeMap<(String, usize), f64>;

/// Loading MNIST-sized IDX files (60000 images of 28×28, written raw to a temp folder) through
/// the data crate, f32: the median of `reps` loads.
fn idx_load(reps: usize) {
    let dir = std::env::temp_dir().join(format!("backprop-bench-idx-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let n: u32 = 60_000;
    let mut images = Vec::with_capacity(16 + n as usize * 784);
    images.extend_from_slice(&[0, 0, 8, 3]);
    for d in [n, 28, 28] {
        images.extend_from_slice(&d.to_be_bytes());
    }
    let mut labels = vec![0, 0, 8, 1];
    labels.extend_from_slice(&n.to_be_bytes());
    let mut x: u32 = 12345;
    for _ in 0..n as usize * 784 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        images.push((x >> 24) as u8);
    }
    labels.extend((0..n).map(|i| (i % 10) as u8));
    if std::fs::write(dir.join("images"), &images).and_then(|()| std::fs::write(dir.join("labels"), &labels)).is_err() {
        errln!("# idx_load: cannot write the test files in {}", dir.display());
        return;
    }
    let spec: DataSpec =
        match backprop_tensor::__toml::from_str("source = \"idx\"\nimages = \"images\"\nlabels = \"labels\"\n") {
            Ok(spec) => spec,
            Err(e) => {
                errln!("# idx_load: {e}");
                return;
            }
        };
    let mut times = Vec::new();
    for _ in 0..reps.max(1) {
        let t0 = Instant::now();
        match spec.load_splits::<f32>(&dir, 0) {
            Ok(s) => assert_eq!(s.train.inputs.dim(), (60_000, 784)),
            Err(e) => {
                errln!("# idx_load: {e}");
                return;
            }
        }
        times.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    let _ = std::fs::remove_dir_all(&dir);
    times.sort_by(f64::total_cmp);
    outln!("peer=backprop workload=idx_load images=60000 pixels=784 ms={:.1} threads=1", times[times.len() / 2]);
}

/// Runs the selected workloads; returns the exit status.
pub fn run(args: &BenchArgs) -> i32 {
    let all = args.workloads.is_empty();
    let wants = |w: &str| all || args.workloads.iter().any(|x| x == w);
    if let Some(unknown) = args.workloads.iter().find(|w| !WORKLOADS.contains(&w.as_str())) {
        errln!("error: unknown workload `{unknown}` (known: {})", WORKLOADS.join(", "));
        return 2;
    }
    // Check the peer harness and its Python before spending minutes on our own workloads.
    let peers = if args.peers {
        match find_peers(args) {
            Ok(p) => Some(p),
            Err(message) => {
                errln!("error: {message}");
                return 2;
            }
        }
    } else {
        None
    };
    let mut ours = Ours::new();
    if wants("half_adder") {
        let ms = half_adder(args.reps);
        ours.insert(("half_adder".into(), 0), 1.0 / ms);
    }
    if wants("mnist_mlp") {
        for (batch, rate) in mnist_mlp(args.runs) {
            ours.insert(("mnist_mlp".into(), batch), rate);
        }
        if let Some(mib) = peak_rss_mib() {
            // The 60000×784 f32 inputs alone are 179 MiB.
            outln!("peer=backprop workload=memory of=mnist_mlp peak_rss_mib={mib:.1}");
        }
    }
    if wants("wide") {
        let (rate, _) = wide(args.runs);
        ours.insert(("wide".into(), 256), rate);
    }
    if wants("idx_load") {
        idx_load(args.reps);
    }
    if let Some(peers) = peers {
        let selected: Vec<&str> = WORKLOADS.iter().copied().filter(|w| wants(w) && *w != "idx_load").collect();
        return run_peers(&peers, &selected, &ours);
    }
    0
}

/// Where and with what `--peers` runs: the harness folder, the Python, and the peers to run.
struct Peers {
    dir: PathBuf,
    python: std::ffi::OsString,
    names: Vec<String>,
}

/// Finds the peer harness (`$BACKPROP_PEER_DIR`, else `../shared/bench`) and the Python
/// (`$BACKPROP_PEER_PY`, else `$PY`), and the peers to run: those named with `--peer`, else
/// whichever of numpy, jax and torch that Python imports.
fn find_peers(args: &BenchArgs) -> Result<Peers, String> {
    let dir = std::env::var_os("BACKPROP_PEER_DIR")
        .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench"), PathBuf::from);
    if !dir.join("run.sh").is_file() {
        return Err(format!("no peer harness at {} (set BACKPROP_PEER_DIR)", dir.display()));
    }
    let Some(python) = ["BACKPROP_PEER_PY", "PY"].iter().find_map(std::env::var_os) else {
        return Err(format!(
            "--peers needs a Python with the peers' packages in $BACKPROP_PEER_PY (make one with {}/setup-venv.sh DIR)",
            dir.display()
        ));
    };
    let imports = |module: &str| {
        Command::new(&python).args(["-c", &format!("import {module}")]).output().is_ok_and(|o| o.status.success())
    };
    let names: Vec<String> = if args.peer_names.is_empty() {
        ["numpy", "jax", "torch"].into_iter().filter(|m| imports(m)).map(String::from).collect()
    } else {
        args.peer_names.clone()
    };
    if names.is_empty() {
        return Err(format!("{} imports none of numpy, jax, torch", Path::new(&python).display()));
    }
    Ok(Peers { dir, python, names })
}

/// `--peers`: runs `run.sh` for `peers` and prints our ratios to them.
fn run_peers(peers: &Peers, workloads: &[&str], ours: &Ours) -> i32 {
    let Peers { dir, python: py, names: peers } = peers;
    let out = Command::new("bash")
        .arg(dir.join("run.sh"))
        .args(peers)
        .env("PY", py)
        .env("PEER_WORKLOADS", workloads.join(","))
        .stderr(std::process::Stdio::inherit())
        .output();
    let out = match out {
        Ok(o) => String::from_utf8_lossy(&o.stdout).into_owned(),
        Err(e) => {
            errln!("error: cannot run {}/run.sh: {e}", dir.display());
            return 1;
        }
    };
    let _ = std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes());
    for line in out.lines().filter(|l| l.starts_with("peer=")) {
        let kv: BTreeMap<&str, &str> = line.split_whitespace().filter_map(|p| p.split_once('=')).collect();
        let (Some(&peer), Some(&workload)) = (kv.get("peer"), kv.get("workload")) else { continue };
        let batch = kv.get("batch").and_then(|b| b.parse().ok()).unwrap_or(0);
        let theirs = match (kv.get("ms"), kv.get("samples_per_s")) {
            (_, Some(r)) => r.parse::<f64>().ok(),
            (Some(ms), None) if workload == "half_adder" => ms.parse::<f64>().ok().map(|ms| 1.0 / ms),
            _ => None,
        };
        if let (Some(theirs), Some(mine)) = (theirs, ours.get(&(workload.to_string(), batch))) {
            let batch = if batch > 0 { format!(" batch={batch}") } else { String::new() };
            outln!("# ratio workload={workload}{batch} peer={peer} ours_over_peer={:.2}", mine / theirs);
        }
    }
    0
}
