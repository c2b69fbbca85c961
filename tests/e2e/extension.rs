//! Extending backprop from outside its crates: a loss and an optimiser defined here, through the
//! public traits only, train the half adder with the library's own trainer.

use backprop_cli::config::BatchSize;
use backprop_cli::train::{SetupError, TrainOptions, Trainer};
use backprop_data::DataSpec;
use backprop_layers::{ActivationSpec, LayerSpec, Network};
// A loss's and an optimiser's own crates re-export the tensor types their traits name.
use backprop_loss::{Element, Loss, MatView, MatViewMut, SpecError, Validate};
use backprop_optim::Optimizer;
use backprop_tensor::init::InitSpec;
use backprop_tensor::rng::seeded;
use backprop_tensor::spec::positive;
use ndarray::Zip;

/// `C = mean over all elements of ln cosh(a − t)`: quadratic near 0, linear far out.
/// `∂C/∂a = tanh(a − t) / (N·K)`.
///
/// It calls the standard library's `cosh`, `ln` and `tanh`, as a crate outside the workspace
/// may (only the workspace's own code keeps to `backprop_tensor::math`, by `clippy.toml`).
struct LogCosh;

/// Nothing to check.
impl Validate for LogCosh {}

#[allow(clippy::disallowed_methods)]
impl<F: Element> Loss<F> for LogCosh {
    fn cost(&self, output: MatView<'_, F>, target: MatView<'_, F>) -> F {
        let mut sum = F::zero();
        Zip::from(output).and(target).for_each(|&a, &t| sum += (a - t).cosh().ln());
        sum / F::of(output.len() as f64)
    }

    fn gradient(&self, output: MatView<'_, F>, target: MatView<'_, F>, grad: MatViewMut<'_, F>) {
        let n = F::of(output.len() as f64);
        Zip::from(grad).and(output).and(target).for_each(|g, &a, &t| *g = (a - t).tanh() / n);
    }
}

/// Heavy-ball momentum: `v ← μ·v + g`, `θ ← θ − lr·v`, with `v` in the state buffer.
struct HeavyBall {
    lr: f64,
    mu: f64,
}

/// `lr` and `mu` as PyTorch's SGD checks them (`Trainer::new` refuses others).
impl Validate for HeavyBall {
    fn validate(&self) -> Result<(), SpecError> {
        positive("lr", self.lr)?;
        if !(self.mu.is_finite() && self.mu >= 0.0) {
            return Err(SpecError::new("mu", format!("must be a finite number ≥ 0, got {}", self.mu)));
        }
        Ok(())
    }
}

impl<F: Element> Optimizer<F> for HeavyBall {
    fn lr(&self) -> f64 {
        self.lr
    }

    fn state_len(&self, n_params: usize) -> usize {
        n_params
    }

    fn step(&self, params: &mut [F], grads: &[F], state: &mut [F], _step: u64, lr: F) {
        let mu = F::of(self.mu);
        for ((p, &g), v) in params.iter_mut().zip(grads).zip(state.iter_mut()) {
            *v = mu * *v + g;
            *p -= lr * *v;
        }
    }
}

#[test]
fn a_custom_loss_and_optimiser_train_the_half_adder() {
    let data = DataSpec::HalfAdder {}.load::<f64>().unwrap();
    let sigmoid = ActivationSpec::from_name("sigmoid").unwrap();
    let layers: Vec<LayerSpec> = [2, 2, 2].iter().map(|&u| LayerSpec::new(u, sigmoid.clone())).collect();
    let mut net = Network::<f64>::new(2, &layers);
    let init = InitSpec::default();
    net.initialize(init.get(), init.get(), &mut seeded(7));

    let opts = TrainOptions { epochs: 3000, batch_size: BatchSize::Full, log_every: 0, ..Default::default() };
    let outcome = Trainer::new(net, &data, &LogCosh, &HeavyBall { lr: 2.0, mu: 0.9 }, opts)
        .run(&mut seeded(0), &mut std::io::sink());
    let (first, last) = (outcome.costs[0], *outcome.costs.last().unwrap());
    assert!(last < 0.01 * first, "log-cosh cost {first} -> {last}");
    let out = outcome.net.predict(data.inputs.view());
    assert_eq!(out.mapv(f64::round), data.targets, "rounded outputs are the truth table:\n{out}");
}

#[test]
fn a_custom_optimiser_with_parameters_out_of_range_is_refused() {
    let data = DataSpec::HalfAdder {}.load::<f64>().unwrap();
    let sigmoid = ActivationSpec::from_name("sigmoid").unwrap();
    let net = Network::<f64>::new(2, &[LayerSpec::new(2, sigmoid)]);
    let heavy = HeavyBall { lr: -2.0, mu: 0.9 };
    match Trainer::try_new(net.clone(), &data, &LogCosh, &heavy, TrainOptions::default()) {
        Err(SetupError::Invalid(e)) => {
            assert_eq!((e.key.as_str(), e.message.as_str()), ("optim.lr", "must be a finite number > 0, got -2"))
        }
        other => panic!("{:?}", other.err()),
    }
    let refused = std::panic::catch_unwind(|| {
        let _ = Trainer::new(net, &data, &LogCosh, &heavy, TrainOptions::default());
    })
    .expect_err("a negative lr");
    let message = refused.downcast_ref::<String>().cloned().unwrap_or_default();
    assert_eq!(message, "Trainer::new: invalid value for `optim.lr`: must be a finite number > 0, got -2");
}

/// A program without the command line reproduces a `backprop train` run bit for bit with the
/// `experiment` module: the config's splits and starting network, the options for that data
/// (classification, so that early stopping on `val_accuracy` stops as the command's does), and
/// the shuffle stream. (Before, `TrainOptions::from_config` left accuracy unmeasured, and such a
/// run never stopped.)
#[test]
fn the_experiment_module_reproduces_backprop_train() {
    use backprop_cli::{config, experiment};

    let tmp = crate::util::scratch("library-run");
    let out = tmp.path().join("run");
    let sets = [
        "train.epochs=300".to_string(),
        "train.log_every=0".to_string(),
        "model.hidden=[8]".to_string(),
        "train.early_stopping={ monitor = \"val_accuracy\", patience = 5 }".to_string(),
    ];
    let config = crate::util::root().join("configs/moons.toml");
    let mut args = vec!["train", config.to_str().unwrap(), "--out", out.to_str().unwrap()];
    for s in &sets {
        args.extend(["--set", s]);
    }
    let run = crate::util::backprop(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary = crate::util::json(&out.join("summary.json"));
    assert_eq!(summary["stop_reason"], "early_stopping", "the command's run stops early");

    let loaded = config::load(&config, &sets).expect("the config loads");
    let cfg = &loaded.config;
    let (splits, net) = experiment::prepare_splits::<f64>(&loaded, None).expect("its data");
    let opts = experiment::train_options(cfg, &splits);
    assert!(opts.classification);
    let mut trainer =
        Trainer::try_new(net, &splits.train, cfg.loss.get(), cfg.optim.optimizer.get(), opts).expect("accepted");
    trainer = trainer.try_with_validation(splits.validation.as_ref().expect("a validation split")).expect("fits");
    let outcome = trainer.try_run(&mut experiment::shuffle_rng(cfg), &mut std::io::sink()).expect("runs");
    assert_eq!(outcome.stop_reason.name(), "early_stopping");
    assert_eq!(outcome.epochs_run as u64, summary["epochs_run"].as_u64().unwrap());
    let model = backprop_cli::model_file::ModelFile::read(&out.join("model.json")).expect("the model");
    let saved = model.to_network::<f64>();
    assert_eq!(
        outcome.net.params().iter().map(|p| p.to_bits()).collect::<Vec<_>>(),
        saved.params().iter().map(|p| p.to_bits()).collect::<Vec<_>>(),
        "the same weights, bit for bit"
    );
}
