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
use std::time::{Duration, Instant};

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
    #[arg(long = "peer", value_name = "NAME", requires = "peers")]
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
        times.push(ms(t0.elapsed()));
        final_loss = *outcome.costs.last().expect("costs recorded");
    }
    let ms = median(&mut times);
    outln!("peer=backprop workload=half_adder epochs=20000 ms={ms:.3} final_loss={} threads=1", sci(final_loss));
    ms
}

/// A duration in milliseconds.
fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// How many per second: `count` in `secs` seconds.
fn per_second(count: usize, secs: f64) -> f64 {
    count as f64 / secs
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
    let lr = sgd.lr as f32;
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
        sgd.step(net.params_mut(), &grads, &mut state, count, lr);
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

/// An MLP workload of the peers' protocol (W2, W3): a ReLU net ([`relu_mlp`]) on random data
/// ([`random_classes`]), SGD steps through its batches in order ([`sgd_run`]).
#[derive(Clone, Copy)]
struct Mlp {
    /// The workload's name in the peers' lines.
    name: &'static str,
    /// Layer sizes, inputs first.
    sizes: &'static [usize],
    /// Rows of random data.
    samples: usize,
    /// Untimed warm-up steps.
    warmup: usize,
    /// The first timed batch and the number of timed steps; `None`: one epoch from batch 0.
    timed: Option<(usize, usize)>,
    /// Whether its lines give GFLOP/s.
    gflops: bool,
}

/// W2: one epoch over 60000 samples after 20 warm-up steps.
const W2: Mlp =
    Mlp { name: "mnist_mlp", sizes: &[784, 256, 128, 10], samples: 60_000, warmup: 20, timed: None, gflops: false };

/// W3: 3 warm-up steps, then 20 timed ones on the batches after them.
const W3: Mlp = Mlp {
    name: "wide",
    sizes: &[1024, 4096, 4096, 10],
    samples: 256 * 23,
    warmup: 3,
    timed: Some((3, 20)),
    gflops: true,
};

/// What one timed run measured.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Timed {
    batch: usize,
    steps: usize,
    secs: f64,
    loss: f32,
}

impl Timed {
    /// Samples a second.
    fn rate(&self) -> f64 {
        per_second(self.steps * self.batch, self.secs)
    }
}

impl Mlp {
    /// The first timed batch and the number of timed steps at `batch`.
    fn steps(&self, batch: usize) -> (usize, usize) {
        self.timed.unwrap_or((0, self.samples / batch))
    }

    /// One timed run at `batch`: a fresh model and fresh data, from seed 0.
    fn run(&self, batch: usize) -> Timed {
        let mut rng = seeded(0);
        let data = random_classes(self.samples, self.sizes[0], &mut rng);
        let (first, steps) = self.steps(batch);
        let (secs, loss) = sgd_run(self.sizes, (&data.0, &data.1), batch, self.warmup, (first, steps), &mut rng);
        Timed { batch, steps, secs, loss }
    }

    /// The peers' line for `t`, on `threads` threads.
    fn line(&self, t: &Timed, threads: usize) -> String {
        let rate = t.rate();
        let gflops = if self.gflops {
            format!(" gflops={:.1}", per_second(t.steps * training_flops(self.sizes, t.batch), t.secs) / 1e9)
        } else {
            String::new()
        };
        format!(
            "peer=backprop workload={} batch={} steps={} samples_per_s={rate:.1}{gflops} ms={:.1} loss={:.6} threads={threads}",
            self.name,
            t.batch,
            t.steps,
            t.secs * 1e3,
            t.loss
        )
    }

    /// `runs` timed runs (at least one) at each of `batches`, one line each; returns samples/s
    /// per batch size, the median over the runs.
    fn lines(&self, batches: &[usize], runs: usize) -> BTreeMap<usize, f64> {
        let mut out = BTreeMap::new();
        for &batch in batches {
            let mut rates = Vec::new();
            for _ in 0..runs.max(1) {
                let t = self.run(batch);
                rates.push(t.rate());
                outln!("{}", self.line(&t, linalg::threads()));
            }
            out.insert(batch, median(&mut rates));
        }
        out
    }
}

/// The floating-point operations of one SGD step of an MLP with layer sizes `sizes` on `batch`
/// samples, as the peers count them: 6 per parameter and sample (2 for the forward product, 2
/// for each of the two backward ones).
fn training_flops(sizes: &[usize], batch: usize) -> usize {
    let params: usize = sizes.windows(2).map(|w| w[0] * w[1] + w[1]).sum();
    6 * params * batch
}

/// The process's peak resident set in MiB (`VmHWM` of `/proc/self/status`), where there is one.
fn peak_rss_mib() -> Option<f64> {
    vm_hwm_mib(&std::fs::read_to_string("/proc/self/status").ok()?)
}

/// The `VmHWM` line of a `/proc/PID/status` text, in MiB.
fn vm_hwm_mib(status: &str) -> Option<f64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.trim_start_matches("VmHWM:").trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib / 1024.0)
}

/// The middle value (the upper of the two middle ones for an even count; NaN for none).
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Our figures, for the ratios: (workload, batch or 0) → throughput (1/ms for W1, samples/s).
type Ours = BTreeMap<(String, usize), f64>;

/// Loading MNIST-sized IDX files (60000 images of 28×28, written raw to a temp folder) through
/// the data crate, f32: the median of `reps` loads.
fn idx_load(reps: usize) -> bool {
    /// The files' folder, removed however the workload ends.
    struct Scratch(std::path::PathBuf);
    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let scratch = Scratch(std::env::temp_dir().join(format!("backprop-bench-idx-{}", std::process::id())));
    let dir = &scratch.0;
    let (images, labels) = idx_files(60_000);
    let written = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(dir.join("images"), &images))
        .and_then(|()| std::fs::write(dir.join("labels"), &labels));
    if let Err(e) = written {
        errln!("error: idx_load: cannot write the test files in {}: {e}", dir.display());
        return false;
    }
    let spec: DataSpec = match toml::from_str("source = \"idx\"\nimages = \"images\"\nlabels = \"labels\"\n") {
        Ok(spec) => spec,
        Err(e) => {
            errln!("error: idx_load: {e}");
            return false;
        }
    };
    let mut times = Vec::new();
    for _ in 0..reps.max(1) {
        let t0 = Instant::now();
        match spec.load_splits::<f32>(dir, 0) {
            Ok(s) => assert_eq!(s.train.inputs.dim(), (60_000, 784)),
            Err(e) => {
                errln!("error: idx_load: {e}");
                return false;
            }
        }
        times.push(ms(t0.elapsed()));
    }
    outln!("peer=backprop workload=idx_load images=60000 pixels=784 ms={:.1} threads=1", median(&mut times));
    true
}

/// IDX files of `n` 28×28 images (pseudo-random bytes from a linear congruential generator's
/// high bits) and their labels (`i mod 10`), as MNIST's are laid out.
fn idx_files(n: u32) -> (Vec<u8>, Vec<u8>) {
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
    (images, labels)
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
        for (batch, rate) in W2.lines(&[32, 128], args.runs) {
            ours.insert(("mnist_mlp".into(), batch), rate);
        }
        if let Some(mib) = peak_rss_mib() {
            // The 60000×784 f32 inputs alone are 179 MiB.
            outln!("peer=backprop workload=memory of=mnist_mlp peak_rss_mib={mib:.1}");
        }
    }
    if wants("wide") {
        for (batch, rate) in W3.lines(&[256], args.runs) {
            ours.insert(("wide".into(), batch), rate);
        }
    }
    // A workload that cannot run is a failure (exit 1), not a result left out.
    let failed = wants("idx_load") && !idx_load(args.reps);
    if let Some(peers) = peers {
        let selected: Vec<&str> = WORKLOADS.iter().copied().filter(|w| wants(w) && *w != "idx_load").collect();
        let code = run_peers(&peers, &selected, &ours);
        return if failed { code.max(1) } else { code };
    }
    i32::from(failed)
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
    let (out, status) = match out {
        Ok(o) => (String::from_utf8_lossy(&o.stdout).into_owned(), o.status),
        Err(e) => {
            errln!("error: cannot run {}/run.sh: {e}", dir.display());
            return 1;
        }
    };
    if let Err(e) = std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes()) {
        crate::output_lost(&e);
    }
    for line in ratios(&out, ours) {
        outln!("{line}");
    }
    // A peer that could not run its workloads: what it printed is above, the figures are not.
    if !status.success() {
        errln!("error: {}/run.sh failed ({status})", dir.display());
        return 1;
    }
    0
}

/// One `# ratio` line for each line of the peers' output `out` that has a figure of ours to
/// compare with: our throughput over theirs (samples/s; for W1, which the peers time in `ms`,
/// 1/ms).
fn ratios(out: &str, ours: &Ours) -> Vec<String> {
    let mut lines = Vec::new();
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
            lines.push(format!("# ratio workload={workload}{batch} peer={peer} ours_over_peer={:.2}", mine / theirs));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn medians_take_the_middle_value() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 3.0);
        assert_eq!(median(&mut [5.0]), 5.0);
        assert!(median(&mut []).is_nan());
    }

    #[test]
    fn milliseconds_rates_and_flops() {
        assert_eq!(ms(Duration::from_micros(1500)), 1.5);
        assert_eq!(per_second(300, 1.5), 200.0);
        assert_eq!(training_flops(&[2, 3], 1), 6 * 9);
        // W3's 1024-4096-4096-10: 21,020,682 parameters.
        assert_eq!(training_flops(&[1024, 4096, 4096, 10], 256), 6 * 21_020_682 * 256);
    }

    #[test]
    fn the_peak_resident_set_is_vm_hwm_in_mib() {
        let status = "Name:\txtask\nVmPeak:\t  999999 kB\nVmHWM:\t  204800 kB\nVmRSS:\t    1024 kB\n";
        assert_eq!(vm_hwm_mib(status), Some(200.0));
        assert_eq!(vm_hwm_mib("VmRSS:\t 1024 kB\n"), None);
        assert_eq!(vm_hwm_mib("VmHWM:\t many kB\n"), None);
        if cfg!(target_os = "linux") {
            // 64 MiB with every page written: at least that much was resident at the peak.
            let block = std::hint::black_box(vec![1u8; 64 << 20]);
            let mib = peak_rss_mib().expect("Linux has /proc/self/status");
            assert!(mib >= 64.0, "{mib} MiB with {} bytes resident", block.len());
        }
    }

    /// `idx_load`'s files: MNIST's headers, `n` images of pseudo-random bytes, labels 0..9 in turn.
    #[test]
    fn the_idx_files_hold_n_images_of_spread_bytes_and_ten_classes() {
        let (images, labels) = idx_files(50);
        assert_eq!(images[..16], [0, 0, 8, 3, 0, 0, 0, 50, 0, 0, 0, 28, 0, 0, 0, 28]);
        assert_eq!(images.len(), 16 + 50 * 784);
        let distinct: BTreeSet<u8> = images[16..].iter().copied().collect();
        assert!(distinct.len() > 200, "{} distinct bytes", distinct.len());
        assert_eq!(labels[..8], [0, 0, 8, 1, 0, 0, 0, 50]);
        assert_eq!(labels[8..], (0..50).map(|i| (i % 10) as u8).collect::<Vec<_>>());
    }

    #[test]
    fn random_classes_are_unit_inputs_with_one_hot_targets_over_ten_classes() {
        let (x, t) = random_classes(2000, 3, &mut seeded(1));
        assert_eq!((x.dim(), t.dim()), ((2000, 3), (2000, 10)));
        assert!(x.iter().all(|v| (0.0..1.0).contains(v)));
        let mut counts = [0usize; 10];
        for row in t.rows() {
            let ones: Vec<usize> = (0..10).filter(|&c| row[c] == 1.0).collect();
            assert!(ones.len() == 1 && row.sum() == 1.0, "{row}");
            counts[ones[0]] += 1;
        }
        // 200 of each expected; 100 is seven standard deviations below.
        assert!(counts.iter().all(|&c| c > 100), "{counts:?}");
    }

    /// ReLU hidden layers, identity (logit) outputs, and every parameter from
    /// U(−1/√fan_in, 1/√fan_in), spread over the whole interval.
    #[test]
    fn relu_mlps_have_logit_outputs_and_torchs_linear_init() {
        let sizes = [400, 100, 30, 20, 10];
        let net = relu_mlp(&sizes, &mut seeded(2));
        let kinds: Vec<&str> = net.layers().iter().map(|l| l.activation.name()).collect();
        assert_eq!(kinds, ["relu", "relu", "relu", "identity"]);
        for (l, &fan_in) in sizes[..4].iter().enumerate() {
            let bound = (1.0 / (fan_in as f64).sqrt()) as f32;
            for values in [net.weights(l).iter().copied().collect::<Vec<f32>>(), net.biases(l).to_vec()] {
                let (lo, hi) = values.iter().fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
                assert!(-bound <= lo && hi <= bound, "layer {l}: [{lo}, {hi}] beyond ±{bound}");
                if values.len() >= 30 {
                    assert!(lo < -0.8 * bound && hi > 0.8 * bound, "layer {l}: [{lo}, {hi}] within ±{bound}");
                }
            }
        }
    }

    /// `sgd_run`: a model from the rng, `warmup` steps on the first batches, then the timed ones
    /// on `first..first + steps`, each a cross-entropy step of SGD with lr 0.01; it returns the
    /// cost of the last batch, before that batch's update. The same by hand.
    #[test]
    fn sgd_runs_warm_up_then_step_through_their_batches_in_order() {
        let (sizes, batch) = ([6, 5, 10], 4);
        let (x, t) = random_classes(batch * 7, 6, &mut seeded(3));
        let (secs, loss) = sgd_run(&sizes, (&x, &t), batch, 2, (3, 4), &mut seeded(4));
        assert!(secs > 0.0 && secs.is_finite(), "{secs}");

        let mut net = relu_mlp(&sizes, &mut seeded(4));
        let ce = LossSpec::from_name("cross_entropy").unwrap();
        let mut ws = Workspace::new(&net, batch);
        let mut grads = vec![0.0f32; net.params().len()];
        let mut last = f32::NAN;
        for j in [0, 1, 3, 4, 5, 6] {
            let rows = s![j * batch..(j + 1) * batch, ..];
            let (bx, bt) = (x.slice(rows), t.slice(rows));
            last = forward_cost(&net, ce.get(), bx, bt, &mut ws);
            backward_from_loss(&net, ce.get(), bx, bt, &mut ws, &mut grads);
            for (p, g) in net.params_mut().iter_mut().zip(&grads) {
                *p -= 0.01 * g;
            }
        }
        assert!(last.is_finite() && last > 0.0);
        assert_eq!(loss.to_bits(), last.to_bits(), "{loss} against {last} by hand");
    }

    /// W2 and W3 as the peers' README has them: sizes, data, warm-up, and which batches are
    /// timed (W2 one epoch in order, W3 the 20 after the warm-up's 3, all within its data).
    #[test]
    fn the_mlp_workloads_follow_the_peers_protocol() {
        assert_eq!(
            (W2.name, W2.sizes, W2.samples, W2.warmup, W2.gflops),
            ("mnist_mlp", &[784, 256, 128, 10][..], 60_000, 20, false)
        );
        assert_eq!((W2.steps(32), W2.steps(128)), ((0, 1875), (0, 468)));
        assert_eq!((W3.name, W3.sizes, W3.warmup, W3.gflops), ("wide", &[1024, 4096, 4096, 10][..], 3, true));
        assert_eq!(W3.steps(256), (3, 20));
        assert_eq!(W3.samples, 256 * (3 + 20), "W3's data holds exactly its warm-up and timed batches");
    }

    /// Each line's figures from its run's: samples/s, GFLOP/s (6 per parameter and sample, W3
    /// only), milliseconds and the loss, in the peers' format.
    #[test]
    fn mlp_lines_give_rates_flops_and_losses_in_the_peers_format() {
        let t = Timed { batch: 32, steps: 1875, secs: 0.5, loss: 2.25 };
        assert_eq!(
            W2.line(&t, 2),
            "peer=backprop workload=mnist_mlp batch=32 steps=1875 samples_per_s=120000.0 ms=500.0 loss=2.250000 threads=2"
        );
        // 21,020,682 parameters: 6 · 21020682 · 256 · 20 flops in 0.25 s.
        let t = Timed { batch: 256, steps: 20, secs: 0.25, loss: 2.5 };
        assert_eq!(
            W3.line(&t, 1),
            "peer=backprop workload=wide batch=256 steps=20 samples_per_s=20480.0 gflops=2583.0 ms=250.0 loss=2.500000 \
             threads=1"
        );
    }

    /// A run is `sgd_run` on fresh data and a fresh net from seed 0, through the workload's
    /// batches; `lines` runs each batch size (at least once) and keeps the median rate.
    #[test]
    fn mlp_runs_train_from_seed_0_through_their_batches() {
        let tiny = Mlp { name: "tiny", sizes: &[6, 5, 10], samples: 40, warmup: 2, timed: None, gflops: false };
        for (mlp, batch, (first, steps)) in [(tiny, 8, (0, 5)), (Mlp { timed: Some((1, 2)), ..tiny }, 4, (1, 2))] {
            let t = mlp.run(batch);
            assert_eq!((t.batch, t.steps), (batch, steps));
            assert!(t.secs > 0.0 && t.secs.is_finite(), "{t:?}");
            let mut rng = seeded(0);
            let (x, y) = random_classes(40, 6, &mut rng);
            let (_, loss) = sgd_run(&[6, 5, 10], (&x, &y), batch, 2, (first, steps), &mut rng);
            assert_eq!(t.loss.to_bits(), loss.to_bits(), "{t:?}: {loss} by hand");
        }
        let rates = tiny.lines(&[4, 8], 0);
        assert_eq!(rates.keys().copied().collect::<Vec<_>>(), [4, 8]);
        assert!(rates.values().all(|r| r.is_finite() && *r > 0.0), "{rates:?}");
    }

    /// A `# ratio` per peer line we have a figure for: samples/s over samples/s, and for W1
    /// (timed in `ms`) 1/ms over 1/ms; `batch=` only where the workload has batches. Only W1 is
    /// compared by its `ms`: another workload's line without `samples_per_s` gives no ratio.
    #[test]
    fn ratios_compare_throughputs_per_workload_and_batch() {
        let ours: Ours = [
            (("half_adder".to_string(), 0), 1.0 / 2.0),
            (("mnist_mlp".to_string(), 32), 150_000.0),
            (("mnist_mlp".to_string(), 128), 180_000.0),
            (("wide".to_string(), 256), 1_000.0),
        ]
        .into_iter()
        .collect();
        let out = "some banner\n\
                   peer=jax workload=half_adder epochs=20000 ms=8.0 final_loss=4.965354350e-04\n\
                   peer=numpy workload=mnist_mlp batch=128 steps=468 samples_per_s=120000.0 ms=499.2\n\
                   peer=numpy workload=mnist_mlp batch=32 samples_per_s=50000.0\n\
                   peer=numpy workload=mnist_mlp batch=64 samples_per_s=50000.0\n\
                   peer=numpy workload=wide batch=256 ms=100.0\n\
                   peer=numpy samples_per_s=1.0\n";
        assert_eq!(
            ratios(out, &ours),
            [
                "# ratio workload=half_adder peer=jax ours_over_peer=4.00",
                "# ratio workload=mnist_mlp batch=128 peer=numpy ours_over_peer=1.50",
                "# ratio workload=mnist_mlp batch=32 peer=numpy ours_over_peer=3.00",
            ]
        );
    }
}
