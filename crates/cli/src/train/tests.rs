//! The trainer's unit tests.

use std::panic::{AssertUnwindSafe, catch_unwind};

use backprop_layers::{ActivationSpec, LayerSpec};
use backprop_loss::LossSpec;
use backprop_optim::schedule::LrScheduleSpec;

use super::*;
use crate::config::BatchSize;

/// The lean epoch computes what the general one does: a run it takes gives the same history
/// and weights, bit for bit, as the same run sent the general way by diagnostics (which only
/// record). Plain and fused losses, SGD, Adam and RMSprop, accuracy, a schedule, the tiny
/// passes (four and eight rows) and the general ones (five hidden units).
#[test]
fn lean_epochs_give_the_general_epochs_bits() {
    use backprop_data::DataSpec;
    use backprop_optim::OptimizerSpec;
    use backprop_optim::schedule::{CosineAnnealingLr, LrScheduleSpec, ScheduleSpec};
    let cases = [
        (DataSpec::HalfAdder {}, 2, "sigmoid", "half_mse", "sgd", false),
        (DataSpec::HalfAdder {}, 5, "tanh", "mse", "adam", true),
        (DataSpec::Xor {}, 3, "sigmoid", "bce_with_logits", "sgd", true),
        (DataSpec::FullAdder {}, 4, "relu", "cross_entropy", "rmsprop", true),
    ];
    for (data, hidden, act, loss, optimizer, classification) in cases {
        let name = format!("{data:?} {hidden} {act} {loss} {optimizer}");
        let data = data.load::<f64>().expect("builtin");
        let spec = |name| ActivationSpec::from_name(name).expect("registered");
        let last = if loss == "cross_entropy" { "softmax" } else { "sigmoid" };
        let layers = [LayerSpec::new(hidden, spec(act)), LayerSpec::new(data.outputs(), spec(last))];
        let net = fixed_start(Network::<f64>::new(data.features(), &layers));
        let (loss, optimizer) =
            (LossSpec::from_name(loss).expect("registered"), OptimizerSpec::from_name(optimizer).expect("registered"));
        let cosine = CosineAnnealingLr { t_max: 200, eta_min: 0.01 };
        let schedule = LrScheduleSpec::new(ScheduleSpec::Cosine(cosine));
        let run = |diagnostics| {
            let opts = TrainOptions {
                epochs: 300,
                batch_size: BatchSize::Full,
                schedule: Some(schedule.clone()),
                classification,
                diagnostics,
                ..TrainOptions::default()
            };
            let trainer = Trainer::new(net.clone(), &data, loss.get(), optimizer.get(), opts);
            assert_eq!(trainer.lean().is_some(), !diagnostics, "{name}: which epochs run");
            trainer.run_with(&mut rand::SeedableRng::seed_from_u64(0), &mut Silent)
        };
        let (lean, general) = (run(false), run(true));
        let bits = |o: &TrainOutcome<f64>| {
            let history = o.history.iter().flat_map(|m| [m.cost, m.accuracy.unwrap_or(-1.0), m.lr]);
            history.chain(o.net.params().iter().copied()).map(f64::to_bits).collect::<Vec<_>>()
        };
        assert_eq!(lean.history.len(), 301, "{name}: {:?}", lean.stop_reason);
        let first = first_difference(&bits(&lean), &bits(&general));
        assert_eq!(first, None, "{name}: first difference (history triples, then weights)");
        assert!(lean.costs[300] < lean.costs[0], "{name}: trains");
    }
}

/// Every diagnostic is the quantity it names, computed here from the weights after each
/// epoch: a layer's gradient norm (the gradient at the weights the epoch started from, by
/// `gradcheck::analytic`), its update's norm over its weights' (for SGD, `lr` times the
/// first over the weights' norm), the share of its sigmoid or tanh outputs past 0.01/0.99 or
/// ±0.99, and the share of its relu units that are 0 on every sample; 0 for epoch 0's first
/// two. Weights are scaled so that each fraction lies strictly between 0 and 1 somewhere.
#[test]
fn diagnostics_are_the_norms_ratios_and_fractions_they_name() {
    let data = backprop_data::DataSpec::HalfAdder {}.load::<f64>().expect("builtin");
    let act = |name| ActivationSpec::from_name(name).expect("registered");
    let sigmoids = [LayerSpec::new(3, act("sigmoid")), LayerSpec::new(2, act("sigmoid"))];
    let mixed = [LayerSpec::new(4, act("relu")), LayerSpec::new(3, act("tanh")), LayerSpec::new(2, act("sigmoid"))];
    for (specs, scale) in [(&sigmoids[..], 6.0), (&mixed[..], 2.5)] {
        let mut net = fixed_start(Network::<f64>::new(2, specs));
        net.params_mut().iter_mut().for_each(|p| *p *= scale);
        if specs.len() == 3 {
            // Relu unit 1 is 0 on every sample; unit 2 only on some.
            let b = net.layers()[0].b_range().start;
            net.params_mut()[b + 1] = -50.0;
        }
        let loss = LossSpec::from_name("half_mse").expect("registered");
        let sgd = backprop_optim::OptimizerSpec::default();
        let lr = sgd.get::<f64>().lr();
        let opts =
            TrainOptions { epochs: 4, batch_size: BatchSize::Full, diagnostics: true, ..TrainOptions::default() };
        let trainer = Trainer::new(net.clone(), &data, loss.get(), sgd.get(), opts);
        let mut seen = Snapshots::default();
        let outcome = trainer.run_with(&mut rand::SeedableRng::seed_from_u64(0), &mut seen);
        let per_epoch = specs.len() * DIAGNOSTICS.len();
        assert_eq!(outcome.diagnostics.len(), 5 * per_epoch);
        for (e, shown) in seen.diagnostics.iter().enumerate() {
            assert_eq!(shown[..], outcome.diagnostics[..(e + 1) * per_epoch], "after epoch {e}");
        }
        let (x, t) = (data.inputs.view(), data.targets.view());
        let at = |params: &[f64]| {
            let mut n = net.clone();
            n.params_mut().copy_from_slice(params);
            n
        };
        let (mut some_saturated, mut some_dead) = (false, false);
        for (e, theta) in seen.weights.iter().enumerate() {
            let now = at(theta);
            let mut ws = Workspace::new(&now, data.len());
            now.forward(x, &mut ws);
            let grads = (e > 0).then(|| crate::gradcheck::analytic(&at(&seen.weights[e - 1]), loss.get(), x, t).1);
            for (l, layer) in now.layers().iter().enumerate() {
                let name = format!("scale {scale}, epoch {e}, layer {l}");
                let got = &outcome.diagnostics[e * per_epoch + l * 4..][..4];
                let idx: Vec<usize> = layer.w_range().chain(layer.b_range()).collect();
                let norm = |v: &dyn Fn(usize) -> f64| idx.iter().map(|&i| v(i) * v(i)).sum::<f64>().sqrt();
                let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs();
                match &grads {
                    None => assert_eq!(got[..2], [0.0, 0.0], "{name}"),
                    Some(g) => {
                        let before = &seen.weights[e - 1];
                        let grad_norm = norm(&|i| g[i]);
                        let ratio = norm(&|i| theta[i] - before[i]) / norm(&|i| before[i]);
                        assert!(grad_norm > 0.0, "{name}");
                        assert!(close(got[0], grad_norm), "{name}: grad_norm {} vs {grad_norm}", got[0]);
                        assert!(close(got[1], ratio), "{name}: update_ratio {} vs {ratio}", got[1]);
                        let sgd_ratio = lr * grad_norm / norm(&|i| before[i]);
                        assert!((got[1] - sgd_ratio).abs() <= 1e-9 * sgd_ratio, "{name}: SGD's ratio");
                    }
                }
                let a = ws.a(l);
                let share = |n: usize, of: usize| n as f64 / of as f64;
                let (saturated, dead) = match layer.activation.name() {
                    "sigmoid" => (share(a.iter().filter(|&&v| !(0.01..=0.99).contains(&v)).count(), a.len()), 0.0),
                    "tanh" => (share(a.iter().filter(|&&v| v.abs() > 0.99).count(), a.len()), 0.0),
                    _ => (
                        0.0,
                        share((0..a.ncols()).filter(|&c| a.column(c).iter().all(|&v| v == 0.0)).count(), a.ncols()),
                    ),
                };
                assert_eq!(got[2..], [saturated, dead], "{name}: saturated, dead");
                some_saturated |= saturated > 0.0 && saturated < 1.0;
                some_dead |= dead > 0.0 && dead < 1.0;
            }
        }
        assert!(some_saturated, "scale {scale}: no layer partly saturated");
        assert_eq!(some_dead, specs.len() == 3, "scale {scale}: a relu layer partly dead");
    }
}

/// What the trainer shows an observer is the run: `epochs_done` is the epoch just ended,
/// `history` ends with it, `lr` is the next epoch's rate (a step schedule halves it every
/// 100 epochs), `seconds` grows and stays within the time the run took. A loop of one's own
/// (`epoch`, `evaluate`, `end_epoch`) gives the run's costs bit for bit, and the accuracy
/// of a single sigmoid output is taken at 0.5, as counted here from the network's outputs.
#[test]
fn what_an_observer_sees_and_a_loop_of_ones_own_follow_the_run() {
    let (data, net, loss, sgd) = xor();
    let step = backprop_optim::StepLr { step_size: 100, gamma: 0.5 };
    let opts = || TrainOptions {
        epochs: 300,
        batch_size: BatchSize::Full,
        classification: true,
        schedule: Some(LrScheduleSpec::new(backprop_optim::ScheduleSpec::Step(step.clone()))),
        ..TrainOptions::default()
    };
    struct Watch(Vec<(usize, f64, f64)>, Instant);
    impl Observer<f64> for Watch {
        fn epoch_end(&mut self, t: &Trainer<'_, f64>, m: &EpochMetrics) -> Flow {
            assert_eq!(t.epochs_done(), m.epoch);
            assert_eq!(t.history().last(), Some(m), "epoch {}", m.epoch);
            let seconds = t.seconds();
            assert!(seconds > 0.0 && seconds <= self.1.elapsed().as_secs_f64(), "epoch {}: {seconds} s", m.epoch);
            assert!(self.0.last().is_none_or(|&(_, _, before)| seconds >= before), "epoch {}", m.epoch);
            self.0.push((m.epoch, t.lr(), seconds));
            Flow::Continue
        }
    }
    let mut watch = Watch(Vec::new(), Instant::now());
    let trainer = Trainer::new(net.clone(), &data, loss.get(), &sgd, opts());
    let run = trainer.run_with(&mut rand::SeedableRng::seed_from_u64(0), &mut watch);
    assert_eq!(run.history.len(), 301);
    for (e, &(epoch, next_lr, _)) in watch.0.iter().enumerate().take(300) {
        assert_eq!((epoch, next_lr), (e, run.history[e + 1].lr), "the rate after epoch {e}");
    }
    assert_eq!((run.history[100].lr, run.history[101].lr, run.history[201].lr), (2.0, 1.0, 0.5));

    // Accuracy, counted here: an output above 0.5 is class 1.
    let mut replay = net.clone();
    let mut ws = Workspace::new(&replay, data.len());
    let mut own = Trainer::new(net.clone(), &data, loss.get(), &sgd, opts());
    let mut rng = rand::SeedableRng::seed_from_u64(0);
    let mut accuracies = std::collections::BTreeSet::new();
    for (e, m) in run.history.iter().enumerate() {
        if e > 0 {
            assert_eq!(own.lr(), m.lr, "epoch {e}");
            own.epoch(&mut rng);
        }
        let cost = own.evaluate();
        assert_eq!(cost.to_bits(), m.cost.to_bits(), "epoch {e}: {cost} vs the run's {}", m.cost);
        if e > 0 {
            // The schedule steps after each trained epoch, not after the initial measure.
            own.end_epoch(cost);
        }
        replay.params_mut().copy_from_slice(own.network().params());
        replay.forward(data.inputs.view(), &mut ws);
        let out = ws.output(data.len());
        let right = (0..data.len()).filter(|&i| (out[[i, 0]] > 0.5) == (data.targets[[i, 0]] > 0.5)).count();
        assert_eq!(m.accuracy, Some(right as f64 / 4.0), "epoch {e}");
        accuracies.insert(right);
    }
    // Taken at 0 instead, every sigmoid output would be class 1: 2 of XOR's 4 right.
    assert!(accuracies.iter().any(|&r| r != 2), "accuracies met: {accuracies:?}");
}

/// With batches smaller than the data, costs and accuracies are measured a workspace's rows
/// at a time (3 and 1 of XOR's 4 here): each part's mean weighted by its rows, the one-pass
/// figure within rounding, and the accuracy exactly the share of rows right. The same for
/// the validation set.
#[test]
fn measuring_in_parts_gives_the_one_pass_figures() {
    let (data, net, loss, sgd) = xor();
    let opts =
        TrainOptions { epochs: 200, batch_size: BatchSize::Size(3), classification: true, ..TrainOptions::default() };
    let mut seen = Snapshots::default();
    let trainer = Trainer::new(net.clone(), &data, loss.get(), &sgd, opts).with_validation(&data);
    let run = trainer.run_with(&mut rand::SeedableRng::seed_from_u64(0), &mut seen);
    let mut at = net.clone();
    let mut ws = Workspace::new(&at, data.len());
    let mut rights = std::collections::BTreeSet::new();
    for (m, theta) in run.history.iter().zip(&seen.weights) {
        at.params_mut().copy_from_slice(theta);
        let cost = forward_cost(&at, loss.get(), data.inputs.view(), data.targets.view(), &mut ws);
        let out = ws.output(data.len());
        let right = (0..data.len()).filter(|&i| (out[[i, 0]] > 0.5) == (data.targets[[i, 0]] > 0.5)).count();
        let e = m.epoch;
        for (what, c) in [("cost", m.cost), ("val_cost", m.val_cost.expect("a validation set"))] {
            assert!((c - cost).abs() <= 4.0 * f64::EPSILON * cost, "epoch {e}: {what} {c} vs {cost} in one pass");
        }
        let share = right as f64 / 4.0;
        assert_eq!((m.accuracy, m.val_accuracy), (Some(share), Some(share)), "epoch {e}");
        rights.insert(right);
    }
    assert!(rights.len() >= 2, "accuracies met: {rights:?}");
}

/// A full-batch epoch with dropout steps on the training pass, its masks drawn from the run's
/// stream, not on the evaluation pass the last epoch's metrics left in the workspace: each
/// epoch's weights are those of `forward_cost_mode(Train)`, `backward_from_loss` and SGD's
/// `θ − lr·g` done here, and differ from a run without dropout.
#[test]
fn full_batch_dropout_steps_on_the_training_pass() {
    let half_adder = HalfAdder::new();
    let data = &half_adder.data;
    let sigmoid = || ActivationSpec::from_name("sigmoid").expect("registered");
    let hidden = LayerSpec { dropout: 0.5, ..LayerSpec::new(4, sigmoid()) };
    let net = fixed_start(Network::<f64>::new(2, &[hidden, LayerSpec::new(2, sigmoid())]));
    let loss = half_adder.loss.get::<f64>();
    let sgd = backprop_optim::Sgd { lr: 0.5, ..backprop_optim::Sgd::default() };
    let opts = || TrainOptions { epochs: 6, batch_size: BatchSize::Full, ..TrainOptions::default() };
    let run = |net: Network<f64>| {
        let trainer = Trainer::new(net, data, loss, &sgd, opts());
        trainer.run_with(&mut rand::SeedableRng::seed_from_u64(3), &mut Silent)
    };
    let with = run(net.clone());
    let mut without_net = net.clone();
    without_net.set_dropout(&[0.0, 0.0]);
    assert_ne!(with.net.params(), run(without_net).net.params(), "dropout changed nothing");

    let (x, t) = (data.inputs.view(), data.targets.view());
    let (mut by_hand, mut rng) = (net.clone(), rand::SeedableRng::seed_from_u64(3));
    let mut ws = Workspace::new(&by_hand, data.len());
    let mut grads = vec![0.0; by_hand.params().len()];
    for _ in 0..6 {
        forward_cost_mode(&by_hand, loss, x, t, &mut ws, Mode::Train(&mut rng));
        backward_from_loss(&by_hand, loss, x, t, &mut ws, &mut grads);
        for (p, g) in by_hand.params_mut().iter_mut().zip(&grads) {
            *p -= 0.5 * g;
        }
    }
    assert_eq!(with.net.params(), by_hand.params());
}

#[test]
fn all_finite_finds_nan_and_infinities_anywhere() {
    let ok = [1.0, -2.0, f64::MAX, f64::MIN_POSITIVE, 0.0, -0.0, 5e-324];
    assert!(all_finite(&ok) && all_finite::<f64>(&[]));
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        for i in 0..ok.len() {
            let mut v = ok;
            v[i] = bad;
            assert!(!all_finite(&v), "{bad} at {i}");
        }
    }
}

/// For every small history limit, odd ones too, and every run length: the history is epochs
/// 0, s, 2s, … and the last epoch, each with the bits of the run that records every epoch,
/// within the limit (and one pending); the final metrics are the last epoch's; the state
/// restores. A checkpoint that kept every epoch past the limit (an older version's) resumes
/// into the same shape. (Thinning once dropped the epoch it had just recorded.)
#[test]
fn thinned_histories_keep_the_last_epoch_for_every_limit() {
    let half_adder = HalfAdder::new();
    let trainer = |epochs, limit| half_adder.trainer(epochs, limit);
    let seed = || rand::SeedableRng::seed_from_u64(0);
    let every = trainer(40, None).run_with(&mut seed(), &mut Silent);
    let check = |o: &TrainOutcome<f64>, epochs: usize, limit: usize, what: &str| {
        let got: Vec<usize> = o.history.iter().map(|m| m.epoch).collect();
        let shape = |stride: usize| {
            let mut want: Vec<usize> = (0..=epochs).step_by(stride).collect();
            if want.last() != Some(&epochs) {
                want.push(epochs);
            }
            want
        };
        let stride = (0..8).map(|p| 1 << p).find(|&s| shape(s) == got);
        let stride = stride.unwrap_or_else(|| panic!("{what}: {got:?} is no 0, s, 2s, …, last"));
        // At most `limit` epochs on the stride, and the last one besides when it is off it.
        let on_stride = got.iter().filter(|&&e| e % stride == 0).count();
        assert!(on_stride <= limit, "{what}: {got:?}, {on_stride} epochs on a stride of {stride}");
        for m in &o.history {
            assert_eq!(m.cost.to_bits(), every.history[m.epoch].cost.to_bits(), "{what}: epoch {}", m.epoch);
        }
        assert_eq!(o.final_metrics.epoch, epochs, "{what}");
        assert_eq!(o.diagnostics.len(), o.history.len() * 2 * DIAGNOSTICS.len(), "{what}");
    };
    for limit in 2..=9 {
        for epochs in 1..=40 {
            let o = trainer(epochs, Some(limit)).run_with(&mut seed(), &mut Silent);
            check(&o, epochs, limit, &format!("limit {limit}, {epochs} epochs"));
        }
        // Stopped off the stride (or not), saved, restored and run on: the same.
        for stop in [13, 16, 29] {
            let mut at = StopAt(stop, None);
            trainer(40, Some(limit)).run_with(&mut seed(), &mut at);
            let mut resumed = trainer(40, Some(limit));
            let mut rng = resumed.restore(&at.1.expect("a state")).expect("restores");
            let o = resumed.run_with(&mut rng, &mut Silent);
            check(&o, 40, limit, &format!("limit {limit}, resumed after {stop}"));
        }
    }
    // A state that kept all 31 epochs, resumed under a limit of 4.
    let mut at = StopAt(30, None);
    trainer(40, None).run_with(&mut seed(), &mut at);
    let state = at.1.expect("a state");
    assert_eq!((state.history.len(), state.history_stride), (31, 1));
    let mut resumed = trainer(40, Some(4));
    let mut rng = resumed.restore(&state).expect("restores");
    check(&resumed.run_with(&mut rng, &mut Silent), 40, 4, "every epoch kept, then a limit of 4");
    // Diagnostics that do not fit the history are refused, not read past.
    let mut edited = state.clone();
    edited.diagnostics.truncate(8);
    let refused = trainer(40, Some(4)).restore(&edited).expect_err("short diagnostics");
    assert!(refused.contains("holds 8 diagnostics values, its 31 epochs of metrics take 248"), "{refused}");
}

/// What `backprop train` checks before it makes a trainer, a library caller gets as a panic
/// naming the problem, not a run that reports success on no data (cost 0), ignores its early
/// stopping, or fails deep in a product.
#[test]
fn a_trainer_refuses_data_it_cannot_train_on() {
    let data = backprop_data::DataSpec::HalfAdder {}.load::<f64>().expect("builtin");
    let sigmoid = || LayerSpec::new(2, ActivationSpec::from_name("sigmoid").expect("registered"));
    let (loss, sgd) = (LossSpec::from_name("half_mse").expect("registered"), backprop_optim::OptimizerSpec::default());
    let opts = || TrainOptions { epochs: 3, batch_size: BatchSize::Full, ..TrainOptions::default() };
    let rows = |d: &Dataset<f64>, n: usize| Dataset {
        name: "part".into(),
        inputs: d.inputs.slice(ndarray::s![..n, ..]).to_owned(),
        targets: d.targets.slice(ndarray::s![..n, ..]).to_owned(),
    };
    let empty = rows(&data, 0);
    let one_target = Dataset { targets: data.targets.slice(ndarray::s![.., ..1]).to_owned(), ..data.clone() };
    let panic_of = |f: &dyn Fn()| {
        let e = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).expect_err("a panic");
        e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string())).unwrap()
    };
    let net = || Network::<f64>::new(2, &[sigmoid(), sigmoid()]);
    let new = |net: Network<f64>, d: &Dataset<f64>| {
        let _ = Trainer::new(net, d, loss.get(), sgd.get(), opts());
    };
    assert!(panic_of(&|| new(net(), &empty)).contains("the training data has no samples"));
    let message = panic_of(&|| new(net(), &one_target));
    assert!(
        message.contains("training data has 2 features and 1 targets, the network 2 inputs and 2 outputs"),
        "{message}"
    );
    assert!(panic_of(&|| new(Network::<f64>::new(2, &[]), &data)).contains("the network has no layers"));
    // Rows of inputs and targets that do not pair up (the fields are public): it failed deep in
    // ndarray's `Zip`. `check_fits` says so as an error.
    let short_targets = Dataset { targets: data.targets.slice(ndarray::s![..3, ..]).to_owned(), ..data.clone() };
    let message = panic_of(&|| new(net(), &short_targets));
    assert!(message.contains("the training data has 4 rows of inputs and 3 of targets"), "{message}");
    // A layer's activation out of range, as a config's is refused (softplus's beta = 0: NaN).
    let flat = ActivationSpec::Softplus(backprop_layers::activation::Softplus { beta: 0.0, ..Default::default() });
    let message = panic_of(&|| new(Network::<f64>::new(2, &[LayerSpec::new(2, flat.clone()), sigmoid()]), &data));
    assert!(message.contains("Trainer::new: layer 1's activation:") && message.contains("beta"), "{message}");
    let dropout = std::panic::catch_unwind(|| net().set_dropout(&[1.5, 0.0])).expect_err("refused");
    assert!(dropout.downcast_ref::<String>().is_some_and(|m| m.contains("must be in [0, 1), got 1.5")));
    let error = short_targets.check_fits(2, 2).expect_err("rows that do not pair up");
    assert_eq!(error.to_string(), "dataset `half_adder` has 4 rows of inputs and 3 rows of targets");
    let with = |opts: TrainOptions| {
        let _ = Trainer::new(net(), &data, loss.get(), sgd.get(), opts);
    };
    let message = panic_of(&|| with(TrainOptions { batch_size: BatchSize::Size(0), ..opts() }));
    assert!(message.contains("a batch size of 0 samples"), "{message}");
    let message = panic_of(&|| with(TrainOptions { clip_norm: Some(0.0), ..opts() }));
    assert!(message.contains("clip_norm must be a finite number above 0, got 0"), "{message}");
    let message = panic_of(&|| with(TrainOptions { clip_value: Some(f64::NAN), ..opts() }));
    assert!(message.contains("clip_value must be a finite number above 0"), "{message}");
    // A loss, optimiser or schedule out of range, named as the config's key would be.
    let adam = backprop_optim::Adam { lr: -1.0, ..backprop_optim::Adam::default() };
    let message = panic_of(&|| {
        let _ = Trainer::new(net(), &data, loss.get(), &adam, opts());
    });
    assert_eq!(message, "Trainer::new: invalid value for `optim.lr`: must be a finite number > 0, got -1");
    let huber = backprop_loss::Huber { delta: 0.0 };
    let message = panic_of(&|| {
        let _ = Trainer::new(net(), &data, &huber, sgd.get(), opts());
    });
    assert!(message.starts_with("Trainer::new: invalid value for `loss.delta`"), "{message}");
    let step = backprop_optim::StepLr { step_size: 0, gamma: 0.1 };
    let schedule = Some(LrScheduleSpec::new(backprop_optim::ScheduleSpec::Step(step)));
    let message = panic_of(&|| with(TrainOptions { schedule: schedule.clone(), ..opts() }));
    assert!(message.starts_with("Trainer::new: invalid value for `optim.schedule.step_size`"), "{message}");
    let message = panic_of(&|| {
        let _ = Trainer::new(net(), &data, loss.get(), sgd.get(), opts()).with_validation(&one_target);
    });
    assert!(message.contains("the validation data has 2 features and 1 targets"), "{message}");
    let message = panic_of(&|| {
        let opts = TrainOptions { early_stopping: Some(EarlyStopping::default()), ..opts() };
        Trainer::new(net(), &data, loss.get(), sgd.get(), opts)
            .run_with(&mut rand::SeedableRng::seed_from_u64(0), &mut Silent);
    });
    assert!(
        message.starts_with("Trainer::run_with: early stopping monitors `val_cost`, and no validation set"),
        "{message}"
    );
    // The same with the data they need trains.
    let outcome = Trainer::new(net(), &data, loss.get(), sgd.get(), opts())
        .with_validation(&rows(&data, 2))
        .run_with(&mut rand::SeedableRng::seed_from_u64(0), &mut Silent);
    assert_eq!(outcome.epochs_run, 3);
}

/// `try_new` and `try_with_validation` say as errors what `new` and `with_validation` panic
/// with, each check by its own variant; a trainer they build trains as `new`'s does.
#[test]
fn try_new_returns_what_new_panics_with() {
    let data = backprop_data::DataSpec::HalfAdder {}.load::<f64>().expect("builtin");
    let sigmoid = || LayerSpec::new(2, ActivationSpec::from_name("sigmoid").expect("registered"));
    let (loss, sgd) = (LossSpec::from_name("half_mse").expect("registered"), backprop_optim::OptimizerSpec::default());
    let opts = || TrainOptions { epochs: 3, batch_size: BatchSize::Full, ..TrainOptions::default() };
    let net = || Network::<f64>::new(2, &[sigmoid(), sigmoid()]);
    let refused = |net: Network<f64>, data: &Dataset<f64>, optimizer: &dyn backprop_optim::Optimizer<f64>, opts| {
        Trainer::try_new(net, data, loss.get(), optimizer, opts).err().expect("refused")
    };
    assert_eq!(refused(Network::new(2, &[]), &data, sgd.get(), opts()), SetupError::NoLayers);
    let empty = Dataset { inputs: Matrix::zeros((0, 2)), targets: Matrix::zeros((0, 2)), ..data.clone() };
    assert_eq!(refused(net(), &empty, sgd.get(), opts()), SetupError::NoSamples { which: "training" });
    let short = Dataset { targets: data.targets.slice(ndarray::s![..3, ..]).to_owned(), ..data.clone() };
    let rows = SetupError::RowMismatch { which: "training", inputs: 4, targets: 3 };
    assert_eq!(refused(net(), &short, sgd.get(), opts()), rows);
    let shape = SetupError::Shape { which: "training", features: 2, targets: 2, inputs: 3, outputs: 2 };
    assert_eq!(refused(Network::new(3, &[sigmoid(), sigmoid()]), &data, sgd.get(), opts()), shape);
    let zero = TrainOptions { batch_size: BatchSize::Size(0), ..opts() };
    assert_eq!(refused(net(), &data, sgd.get(), zero), SetupError::EmptyBatch);
    let clip = TrainOptions { clip_value: Some(-1.0), ..opts() };
    assert_eq!(refused(net(), &data, sgd.get(), clip), SetupError::Clip { name: "clip_value", bound: -1.0 });
    let p = TrainOptions { clip_norm: Some(1.0), clip_norm_type: Some(0.0), ..opts() };
    assert_eq!(refused(net(), &data, sgd.get(), p), SetupError::NormType(0.0));
    let adam = backprop_optim::Adam { lr: -1.0, ..backprop_optim::Adam::default() };
    match refused(net(), &data, &adam, opts()) {
        SetupError::Invalid(e) => assert_eq!(e.key, "optim.lr"),
        other => panic!("{other:?}"),
    }
    let flat = ActivationSpec::Softplus(backprop_layers::activation::Softplus { beta: 0.0, ..Default::default() });
    match refused(Network::new(2, &[sigmoid(), LayerSpec::new(2, flat)]), &data, sgd.get(), opts()) {
        SetupError::Activation { layer: 2, error } => assert_eq!(error.key, "beta"),
        other => panic!("{other:?}"),
    }
    // The message is `new`'s panic's, without its prefix.
    assert_eq!(SetupError::EmptyBatch.to_string(), "a batch size of 0 samples");
    let trainer = Trainer::try_new(net(), &data, loss.get(), sgd.get(), opts()).expect("accepted");
    let one_target = Dataset { targets: data.targets.slice(ndarray::s![.., ..1]).to_owned(), ..data.clone() };
    let error = trainer.try_with_validation(&one_target).err().expect("refused");
    let shape = SetupError::Shape { which: "validation", features: 2, targets: 1, inputs: 2, outputs: 2 };
    assert_eq!(error, shape);
    let seeded = |seed| -> SeededRng { rand::SeedableRng::seed_from_u64(seed) };
    let tried = Trainer::try_new(net(), &data, loss.get(), sgd.get(), opts())
        .and_then(|t| t.try_with_validation(&data))
        .expect("accepted")
        .run_with(&mut seeded(0), &mut Silent);
    let plain = Trainer::new(net(), &data, loss.get(), sgd.get(), opts())
        .with_validation(&data)
        .run_with(&mut seeded(0), &mut Silent);
    assert_eq!(tried.net.params(), plain.net.params());
    assert_eq!(tried.epochs_run, 3);
    // Early stopping on a validation metric, and no validation set: refused when the run starts,
    // the one check `try_new` cannot make; with the set, the same trainer runs.
    for (monitor, name) in [(Monitor::ValCost, "val_cost"), (Monitor::ValAccuracy, "val_accuracy")] {
        let early = || TrainOptions {
            early_stopping: Some(EarlyStopping { monitor, ..EarlyStopping::default() }),
            classification: true,
            ..opts()
        };
        let trainer = Trainer::try_new(net(), &data, loss.get(), sgd.get(), early()).expect("accepted");
        let error = trainer.try_run_with(&mut seeded(0), &mut Silent).expect_err("refused");
        assert_eq!(error, SetupError::NoValidation { monitor: name });
        let error = Trainer::new(net(), &data, loss.get(), sgd.get(), early())
            .try_run(&mut seeded(0), &mut std::io::sink())
            .expect_err("refused");
        assert_eq!(error, SetupError::NoValidation { monitor: name });
        let run = Trainer::new(net(), &data, loss.get(), sgd.get(), early())
            .with_validation(&data)
            .try_run_with(&mut seeded(0), &mut Silent)
            .expect("runs");
        assert_eq!(run.epochs_run, 3);
    }
    // Options built in code get the `[train]` table's checks, and an accuracy to monitor only
    // where it is measured (classification).
    let refused_opts = |opts| refused(net(), &data, sgd.get(), opts);
    let key = |e: SetupError| match e {
        SetupError::Invalid(e) => e.key,
        other => panic!("{other:?}"),
    };
    let with_early = |es: EarlyStopping| TrainOptions { early_stopping: Some(es), ..opts() };
    let es = EarlyStopping { monitor: Monitor::Cost, ..EarlyStopping::default() };
    assert_eq!(key(refused_opts(TrainOptions { stop_below: Some(f64::NAN), ..opts() })), "train.stop_below");
    assert_eq!(key(refused_opts(TrainOptions { stop_below: Some(0.0), ..opts() })), "train.stop_below");
    assert_eq!(
        key(refused_opts(with_early(EarlyStopping { patience: 0, ..es.clone() }))),
        "train.early_stopping.patience"
    );
    for min_delta in [f64::NAN, -1e-3, f64::INFINITY] {
        let e = refused_opts(with_early(EarlyStopping { min_delta, ..es.clone() }));
        assert_eq!(key(e), "train.early_stopping.min_delta", "{min_delta}");
    }
    for (monitor, name) in [(Monitor::Accuracy, "accuracy"), (Monitor::ValAccuracy, "val_accuracy")] {
        let e = refused_opts(with_early(EarlyStopping { monitor, ..es.clone() }));
        assert_eq!(e, SetupError::NoAccuracy { monitor: name });
        let classes = TrainOptions { classification: true, ..with_early(EarlyStopping { monitor, ..es.clone() }) };
        assert!(Trainer::try_new(net(), &data, loss.get(), sgd.get(), classes).is_ok(), "{name} with classes");
    }
    // A layer of 0 units; a softmax, or cross-entropy, over one output.
    let empty = Network::<f64>::new(2, &[LayerSpec::new(0, ActivationSpec::from_name("sigmoid").unwrap()), sigmoid()]);
    assert_eq!(refused(empty, &data, sgd.get(), opts()), SetupError::EmptyLayer { layer: 1 });
    let one = Dataset { targets: data.targets.slice(ndarray::s![.., ..1]).to_owned(), ..data.clone() };
    let softmax = LayerSpec::new(1, ActivationSpec::from_name("softmax").unwrap());
    let e = refused(Network::new(2, &[sigmoid(), softmax]), &one, sgd.get(), opts());
    assert_eq!(e.to_string(), "a softmax over one output is always 1: use a sigmoid output, or `bce_with_logits`");
    let identity = LayerSpec::new(1, ActivationSpec::from_name("identity").unwrap());
    let ce = LossSpec::from_name("cross_entropy").unwrap();
    let e = Trainer::try_new(Network::new(2, &[sigmoid(), identity.clone()]), &one, ce.get(), sgd.get(), opts());
    assert_eq!(e.err(), Some(SetupError::OneOutput("`cross_entropy` over one output is always 0")));
    let bce = LossSpec::from_name("bce_with_logits").unwrap();
    assert!(Trainer::try_new(Network::new(2, &[sigmoid(), identity]), &one, bce.get(), sgd.get(), opts()).is_ok());
    // Training metrics need no validation set.
    let early = TrainOptions {
        early_stopping: Some(EarlyStopping { monitor: Monitor::Cost, ..EarlyStopping::default() }),
        ..opts()
    };
    let run = Trainer::new(net(), &data, loss.get(), sgd.get(), early).try_run_with(&mut seeded(0), &mut Silent);
    assert_eq!(run.expect("runs").epochs_run, 3);
}

/// With `restore_best`, the final metrics are the best epoch's, its learning rate included,
/// also when the thinned history no longer holds that epoch, and after a resume.
#[test]
fn restored_best_metrics_keep_their_lr_when_the_history_thins() {
    use backprop_optim::schedule::{ExponentialLr, ScheduleSpec};
    let half_adder = HalfAdder::new();
    let trainer = |limit, patience| {
        let opts = TrainOptions {
            epochs: 400,
            batch_size: BatchSize::Full,
            history_limit: limit,
            // An lr that differs every epoch, so that it names the epoch.
            schedule: Some(LrScheduleSpec::new(ScheduleSpec::Exponential(ExponentialLr { gamma: 0.99 }))),
            early_stopping: Some(EarlyStopping {
                monitor: Monitor::Cost,
                patience,
                min_delta: 1e-4,
                restore_best: true,
            }),
            ..TrainOptions::default()
        };
        let HalfAdder { data, net, loss, sgd } = &half_adder;
        Trainer::new(net.clone(), data, loss.get(), sgd.get(), opts)
    };
    let seed = || rand::SeedableRng::seed_from_u64(0);
    let bits = |m: &EpochMetrics| (m.epoch, m.cost.to_bits(), m.lr.to_bits());
    let mut thinned_out = 0;
    for patience in [3, 7, 20] {
        let every = trainer(None, patience).run_with(&mut seed(), &mut Silent);
        let StopReason::EarlyStopping { epoch } = every.stop_reason else { panic!("{:?}", every.stop_reason) };
        let best = every.final_metrics;
        assert!(best.epoch < epoch && best.lr.is_finite(), "patience {patience}: {best:?}");
        assert_eq!(bits(&best), bits(&every.history[best.epoch]), "patience {patience}");
        for limit in [2, 3, 5] {
            let thinned = trainer(Some(limit), patience).run_with(&mut seed(), &mut Silent);
            thinned_out += usize::from(thinned.history.iter().all(|m| m.epoch != best.epoch));
            assert_eq!(bits(&thinned.final_metrics), bits(&best), "patience {patience}, limit {limit}");
            // Stopped after the best epoch, saved and resumed: the same.
            let mut at = StopAt(best.epoch + 1, None);
            trainer(Some(limit), patience).run_with(&mut seed(), &mut at);
            let state = at.1.expect("a state");
            assert_eq!(state.best_lr.map(f64::to_bits), Some(best.lr.to_bits()));
            let mut resumed = trainer(Some(limit), patience);
            let mut rng = resumed.restore(&state).expect("restores");
            let resumed = resumed.run_with(&mut rng, &mut Silent);
            assert_eq!(bits(&resumed.final_metrics), bits(&best), "patience {patience}, limit {limit}, resumed");
        }
    }
    assert!(thinned_out > 0, "no case thinned the best epoch out of the history");
    // A checkpoint with a best_lr that is no learning rate is refused.
    let mut at = StopAt(5, None);
    trainer(None, 3).run_with(&mut seed(), &mut at);
    let mut state = at.1.expect("a state");
    state.best_lr = Some(-1.0);
    let refused = trainer(None, 3).restore(&state).expect_err("a negative best_lr");
    assert!(refused.contains("best_lr must be a finite number ≥ 0, got -1"), "{refused}");
}

/// A 2-2-2 sigmoid half adder from a fixed start, trained full batch with SGD, diagnostics on:
/// the run the history tests thin.
struct HalfAdder {
    data: Dataset<f64>,
    net: Network<f64>,
    loss: LossSpec,
    sgd: backprop_optim::OptimizerSpec,
}

impl HalfAdder {
    fn new() -> Self {
        let sigmoid = || LayerSpec::new(2, ActivationSpec::from_name("sigmoid").expect("registered"));
        HalfAdder {
            data: backprop_data::DataSpec::HalfAdder {}.load::<f64>().expect("builtin"),
            net: fixed_start(Network::<f64>::new(2, &[sigmoid(), sigmoid()])),
            loss: LossSpec::from_name("half_mse").expect("registered"),
            sgd: backprop_optim::OptimizerSpec::default(),
        }
    }

    /// A trainer for `epochs` epochs whose history keeps at most `limit` epochs.
    fn trainer(&self, epochs: usize, limit: Option<usize>) -> Trainer<'_, f64> {
        let opts = TrainOptions {
            epochs,
            batch_size: BatchSize::Full,
            diagnostics: true,
            history_limit: limit,
            ..TrainOptions::default()
        };
        Trainer::new(self.net.clone(), &self.data, self.loss.get(), self.sgd.get(), opts)
    }
}

/// An observer that interrupts the run after epoch `.0` and keeps the trainer's state then.
struct StopAt(usize, Option<TrainState>);

impl Observer<f64> for StopAt {
    fn epoch_end(&mut self, _: &Trainer<'_, f64>, m: &EpochMetrics) -> Flow {
        if m.epoch == self.0 { Flow::Interrupt } else { Flow::Continue }
    }
    fn finished(&mut self, trainer: &Trainer<'_, f64>, _: StopReason) {
        self.1 = trainer.state();
    }
}

/// A lean run stopped and restored from its state (as `--resume` does, into a fresh
/// workspace) ends with the bits of the run never stopped.
#[test]
fn a_lean_run_resumes_bit_for_bit() {
    let data = backprop_data::DataSpec::HalfAdder {}.load::<f64>().expect("builtin");
    let sigmoid = || LayerSpec::new(2, ActivationSpec::from_name("sigmoid").expect("registered"));
    let net = fixed_start(Network::<f64>::new(2, &[sigmoid(), sigmoid(), sigmoid()]));
    let (loss, sgd) = (LossSpec::from_name("half_mse").expect("registered"), backprop_optim::OptimizerSpec::default());
    let trainer = || {
        let opts = TrainOptions { epochs: 200, batch_size: BatchSize::Full, ..TrainOptions::default() };
        Trainer::new(net.clone(), &data, loss.get(), sgd.get(), opts)
    };
    let whole = trainer().run_with(&mut rand::SeedableRng::seed_from_u64(0), &mut Silent);
    let mut stop = StopAt(70, None);
    let cut = trainer().run_with(&mut rand::SeedableRng::seed_from_u64(0), &mut stop);
    assert_eq!(cut.epochs_run, 70);
    let state = stop.1.expect("a state");
    let mut edited = state.clone();
    edited.history.pop();
    let refused = trainer().restore(&edited).expect_err("a history one short of the epoch");
    assert!(refused.contains("at epoch 70 but holds metrics of 70 epochs"), "{refused}");
    let mut edited = state.clone();
    edited.step = u64::MAX;
    let refused = trainer().restore(&edited).expect_err("a step count no run makes");
    assert!(refused.contains("at epoch 70 after 18446744073709551615 steps"), "{refused}");
    let mut edited = state.clone();
    edited.history[5].epoch = 77;
    let refused = trainer().restore(&edited).expect_err("a gap in the metrics");
    assert!(refused.contains("metrics skip from epoch 4 to 77"), "{refused}");
    let mut edited = state.clone();
    edited.seconds = -1.0;
    let refused = trainer().restore(&edited).expect_err("negative seconds");
    assert!(refused.contains("seconds must be a finite number ≥ 0, got -1"), "{refused}");
    let mut edited = state.clone();
    edited.epoch = 201;
    let refused = trainer().restore(&edited).expect_err("an epoch past the last");
    assert!(refused.contains("past the config's last (train.epochs = 200)"), "{refused}");
    let mut edited = state.clone();
    edited.optimizer_state.push(0.0);
    let refused = trainer().restore(&edited).expect_err("an optimiser value too many");
    assert!(refused.contains("holds 18 parameters and 1 optimiser values, the config's network 18 and 0"), "{refused}");
    let mut edited = state.clone();
    edited.history_stride = 3;
    let refused = trainer().restore(&edited).expect_err("a stride that is no power of two");
    assert!(refused.contains("history_stride must be a power of two up to its epoch, got 3"), "{refused}");
    // A checkpoint written before the history thinned had no stride: it reads as 1.
    let mut json = serde_json::to_value(&state).unwrap();
    json.as_object_mut().unwrap().remove("history_stride").expect("the key is written");
    let older: TrainState = serde_json::from_value(json).unwrap();
    assert_eq!(older, state, "read back with a stride of 1");
    trainer().restore(&older).expect("an older checkpoint restores");
    let scheduler_edited = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut edited = state.clone();
        let mut v = serde_json::to_value(&edited.scheduler).unwrap();
        edit(&mut v);
        edited.scheduler = serde_json::from_value(v).unwrap();
        trainer().restore(&edited).expect_err("a schedule out of step")
    };
    let refused = scheduler_edited(&|v| v["epoch"] = 71.into());
    assert!(refused.contains("schedule is at epoch 71 with lr"), "{refused}");
    let refused = scheduler_edited(&|v| v["state"]["lr"] = (-0.5).into());
    assert!(refused.contains("schedule is at epoch 70 with lr -0.5, the checkpoint at epoch 70"), "{refused}");
    // An lr the schedule does not give at that epoch (a constant one here): it trained at it.
    let refused = scheduler_edited(&|v| v["state"]["lr"] = 1e308.into());
    assert!(
        refused.contains("the checkpoint's schedule: lr 1e308 (kept 1e308) at epoch 70, where the schedule"),
        "{refused}"
    );
    // Early stopping's best weights, when kept, are the network's size.
    let early = |restore_best| {
        let early_stopping =
            Some(EarlyStopping { monitor: Monitor::Cost, patience: 1000, min_delta: 0.0, restore_best });
        let opts = TrainOptions { epochs: 200, early_stopping, ..TrainOptions::default() };
        Trainer::new(net.clone(), &data, loss.get(), sgd.get(), opts)
    };
    let mut stop = StopAt(70, None);
    let _ = early(true).run_with(&mut rand::SeedableRng::seed_from_u64(0), &mut stop);
    let mut edited = stop.1.expect("a state");
    early(true).restore(&edited).expect("restores");
    // Its bookkeeping, as a run leaves it: a best epoch that has run, a finite best, no more
    // epochs without improvement than have run.
    for (edit, said) in [
        (&(|s: &mut TrainState| s.best = Some((0.1, 71))) as &dyn Fn(&mut TrainState), "best is 0.1 at epoch 71"),
        (&|s: &mut TrainState| s.best = Some((f64::NAN, 3)), "best is NaN at epoch 3"),
        (&|s: &mut TrainState| s.bad_epochs = 71, "counts 71 epochs without improvement at epoch 70"),
    ] {
        let mut bad = edited.clone();
        edit(&mut bad);
        let refused = early(true).restore(&bad).expect_err(said);
        assert!(refused.contains(said), "{refused}");
    }
    let mut infinite = edited.clone();
    infinite.best_params[3] = f64::INFINITY;
    let refused = early(true).restore(&infinite).expect_err("a best weight not finite");
    assert!(refused.contains("the checkpoint's best parameter 3 (inf) is not finite in f64"), "{refused}");
    edited.best_params.pop();
    let refused = early(true).restore(&edited).expect_err("best weights one short");
    assert!(refused.contains("best parameters are 17 values, the network has 18"), "{refused}");
    // A checkpoint at the last epoch restores (and then runs no epoch).
    let mut last = StopAt(200, None);
    let _ = trainer().run_with(&mut rand::SeedableRng::seed_from_u64(0), &mut last);
    let at_end = last.1.expect("a state");
    assert_eq!(at_end.epoch, 200);
    trainer().restore(&at_end).expect("a checkpoint at the last epoch restores");
    let mut resumed = trainer();
    assert!(resumed.lean().is_some());
    let mut rng = resumed.restore(&state).expect("restores");
    let resumed = resumed.run_with(&mut rng, &mut Silent);
    let bits = |o: &TrainOutcome<f64>| o.costs.iter().chain(o.net.params()).map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(first_difference(&bits(&resumed), &bits(&whole)), None, "first difference (costs, then weights)");
}

/// A run longer than its history limit keeps epochs 0, s, 2s, … (s doubling each time the
/// history passes the limit) and the last, each with the metrics and diagnostics of the run
/// that recorded every epoch; stopped at an epoch off the stride and restored, it ends with
/// the same history, diagnostics and weights.
#[test]
fn a_long_run_thins_its_history_and_resumes_to_the_same_one() {
    let half_adder = HalfAdder::new();
    let per = 2 * DIAGNOSTICS.len();
    let trainer = |limit| half_adder.trainer(101, limit);
    let seed = || rand::SeedableRng::seed_from_u64(0);
    let every = trainer(None).run_with(&mut seed(), &mut Silent);
    assert_eq!(every.history.len(), 102);
    let thinned = trainer(Some(8)).run_with(&mut seed(), &mut Silent);
    // Eight entries at most before the last: 0, 16, …, 96 (the stride went 1, 2, 4, 8, 16),
    // then 101.
    let epochs: Vec<usize> = thinned.history.iter().map(|m| m.epoch).collect();
    assert_eq!(epochs, [0, 16, 32, 48, 64, 80, 96, 101]);
    for (k, m) in thinned.history.iter().enumerate() {
        let whole = &every.history[m.epoch];
        assert_eq!((m.cost.to_bits(), m.lr.to_bits()), (whole.cost.to_bits(), whole.lr.to_bits()), "{m:?}");
        assert_eq!(thinned.costs[k].to_bits(), whole.cost.to_bits());
        let diag = |d: &[f64], i: usize| d[i * per..(i + 1) * per].iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(diag(&thinned.diagnostics, k), diag(&every.diagnostics, m.epoch), "diagnostics of {}", m.epoch);
    }
    assert_eq!(thinned.diagnostics.len(), epochs.len() * per);
    assert_eq!(thinned.net.params(), every.net.params());
    let lowest = every.costs.iter().copied().fold(f64::INFINITY, f64::min);
    assert_eq!((thinned.best_cost, every.best_cost), (lowest, lowest));
    // The best cost counts the epochs thinned out, and a pending epoch replaced: the lowest
    // of costs 1 + e but for epoch 5's (thinned out), 13's or 41's (pending, then replaced).
    for (low, epochs) in [(5, 40), (13, 40), (41, 42)] {
        let mut t = trainer(Some(8));
        t.opts.diagnostics = false;
        for epoch in 0..=epochs {
            let cost = if epoch == low { 0.5 } else { 1.0 + epoch as f64 };
            t.record(&EpochMetrics { epoch, cost, ..EpochMetrics::default() });
        }
        assert!(t.history.iter().all(|m| m.epoch != low), "epoch {low} is not in the history");
        assert_eq!(t.best_cost(), 0.5, "epoch {low}'s cost");
    }

    // Stopped at 43 (off the stride of 8 it has then), saved, restored, run to the end.
    let mut stop = StopAt(43, None);
    trainer(Some(8)).run_with(&mut seed(), &mut stop);
    let state = stop.1.expect("a state");
    assert_eq!(state.history_stride, 8);
    let saved: Vec<usize> = state.history.iter().map(|m| m.epoch).collect();
    assert_eq!(saved, [0, 8, 16, 24, 32, 40, 43]);
    assert_eq!(state.diagnostics.len(), saved.len() * per);
    let mut edited = state.clone();
    edited.history_stride = 4;
    let refused = trainer(Some(8)).restore(&edited).expect_err("another stride");
    assert!(refused.contains("holds metrics of 7 epochs (epoch 0 included; 12 with a stride of 4)"), "{refused}");
    let mut edited = state.clone();
    edited.history[3].epoch = 25;
    let refused = trainer(Some(8)).restore(&edited).expect_err("an epoch off the stride");
    assert!(refused.contains("metrics skip from epoch 16 to 25"), "{refused}");
    let mut resumed = trainer(Some(8));
    let mut rng = resumed.restore(&state).expect("restores");
    let resumed = resumed.run_with(&mut rng, &mut Silent);
    let bits = |o: &TrainOutcome<f64>| {
        let history = o.history.iter().flat_map(|m| [m.epoch as f64, m.cost, m.lr]);
        let all = history.chain(o.diagnostics.iter().copied()).chain(o.net.params().iter().copied());
        all.map(f64::to_bits).collect::<Vec<_>>()
    };
    assert_eq!(bits(&resumed), bits(&thinned), "the resumed run's history, diagnostics and weights");
    assert_eq!(resumed.best_cost, lowest);
    // Restored and stopped again before the history thins again: the history of the run
    // stopped there once (the restored epoch 43, off the stride, is pending, not kept).
    let once = trainer(Some(8)).run_with(&mut seed(), &mut StopAt(45, None));
    let mut again = trainer(Some(8));
    let mut rng = again.restore(&state).expect("restores");
    let again = again.run_with(&mut rng, &mut StopAt(45, None));
    let epochs = |o: &TrainOutcome<f64>| o.history.iter().map(|m| m.epoch).collect::<Vec<_>>();
    assert_eq!(epochs(&again), [0, 8, 16, 24, 32, 40, 45]);
    assert_eq!(bits(&again), bits(&once), "stopped at 45 twice");
}

/// Early stopping counts an epoch as better only when it beats the best by more than
/// `min_delta` (Keras's rule: strictly, so an equal value is no improvement), upwards for
/// accuracies, downwards for costs; `stop_below` is strict too.
#[test]
fn improvements_must_beat_the_best_by_more_than_min_delta() {
    // The half adder's data, cost and optimiser; the networks are each case's own.
    let h = HalfAdder::new();
    let spec = |name| ActivationSpec::from_name(name).expect("registered");
    let layers = [LayerSpec::new(2, spec("sigmoid"))];
    // The epoch at which a run with patience 1 stops, given each epoch's monitored value.
    let stops_at = |monitor: Monitor, min_delta: f64, stop_below: Option<f64>, values: &[f64]| {
        let early_stopping = Some(EarlyStopping { monitor, patience: 1, min_delta, restore_best: false });
        let opts = TrainOptions { early_stopping, stop_below, classification: true, ..TrainOptions::default() };
        let mut trainer = Trainer::new(Network::<f64>::new(2, &layers), &h.data, h.loss.get(), h.sgd.get(), opts);
        values.iter().enumerate().find_map(|(i, &v)| {
            let accuracy = Some(v);
            let m = EpochMetrics { epoch: i + 1, cost: v, accuracy, val_cost: None, val_accuracy: None, lr: 0.1 };
            trainer.check_stop(&m).map(|reason| (i + 1, reason.name()))
        })
    };
    let (cost, accuracy) = (Monitor::Cost, Monitor::Accuracy);
    assert_eq!(stops_at(cost, 0.0, None, &[1.0, 0.9, 0.9]), Some((3, "early_stopping")), "equal is no better");
    assert_eq!(stops_at(cost, 0.1, None, &[1.0, 0.85, 0.8]), Some((3, "early_stopping")));
    assert_eq!(stops_at(cost, 0.1, None, &[1.0, 0.85, 0.7]), None);
    assert_eq!(stops_at(accuracy, 0.0, None, &[0.5, 0.75, 0.75]), Some((3, "early_stopping")), "equal");
    assert_eq!(stops_at(accuracy, 0.1, None, &[0.5, 0.55]), Some((2, "early_stopping")));
    assert_eq!(stops_at(accuracy, 0.1, None, &[0.5, 0.625, 0.75]), None);
    // `stop_below`: strictly below.
    assert_eq!(stops_at(cost, 0.0, Some(0.5), &[0.75, 0.5, 0.25]), Some((3, "stop_below")));
}

/// Ties go to the first of the equal maxima, as numpy's and PyTorch's `argmax` give them.
#[test]
fn argmax_takes_the_first_of_equal_maxima() {
    assert_eq!(argmax([0.2f64, 0.5, 0.5].into_iter()), 1);
    assert_eq!(argmax([0.7f64, 0.5, 0.7].into_iter()), 0);
    assert_eq!(argmax([f64::NEG_INFINITY, f64::NEG_INFINITY].into_iter()), 0);
    assert_eq!(argmax([-3.0f32, -1.0, -2.0].into_iter()), 1);
}

/// A single output's class threshold: 0 on logits (a loss that absorbs a sigmoid the net
/// does not end in), else 0.5.
#[test]
fn the_decision_threshold_is_zero_on_logits_only() {
    let spec = |name: &str| ActivationSpec::from_name(name).expect("registered");
    let threshold = |last: &str, loss: &str| {
        let net = Network::<f64>::new(2, &[LayerSpec::new(3, spec("tanh")), LayerSpec::new(1, spec(last))]);
        decision_threshold(LossSpec::from_name(loss).expect("registered").get(), &net)
    };
    assert_eq!(threshold("identity", "bce_with_logits"), 0.0);
    assert_eq!(threshold("sigmoid", "bce_with_logits"), 0.5, "fused: the net's outputs are probabilities");
    assert_eq!(threshold("sigmoid", "bce"), 0.5);
    assert_eq!(threshold("sigmoid", "mse"), 0.5);
    assert_eq!(threshold("identity", "mse"), 0.5);
}

/// A stream's position round-trips through its saved state, past 2⁶⁴ words too (the
/// position is 68 bits; the state stores it as two halves).
#[test]
fn rng_positions_round_trip_past_64_bits() {
    let mut rng = backprop_tensor::rng::seeded(3);
    rng.set_stream(7);
    for pos in [0u128, 5, (1 << 64) - 1, (1 << 66) + 5] {
        rng.set_word_pos(pos);
        let back = RngState::of(&rng).restore();
        assert_eq!((back.get_word_pos(), back.get_stream(), back.get_seed()), (pos, 7, rng.get_seed()));
    }
}

/// A diverged run names the first layer, input side first, whose parameters, then `z`,
/// hold a NaN or an infinity, in the post's numbering (first dense layer = 1).
#[test]
fn the_first_non_finite_value_is_named_by_its_layer() {
    // The half adder's data, cost and optimiser; the networks are each case's own.
    let h = HalfAdder::new();
    let spec = |name| ActivationSpec::from_name(name).expect("registered");
    let layers =
        [LayerSpec::new(2, spec("sigmoid")), LayerSpec::new(3, spec("identity")), LayerSpec::new(2, spec("identity"))];
    let found = |edit: &dyn Fn(&mut Network<f64>)| {
        let mut net = fixed_start(Network::<f64>::new(2, &layers));
        edit(&mut net);
        let mut trainer = Trainer::new(net, &h.data, h.loss.get(), h.sgd.get(), TrainOptions::default());
        trainer.first_non_finite()
    };
    let range = |net: &Network<f64>, l: usize, weights: bool| {
        let layer = &net.layers()[l];
        if weights { layer.w_range() } else { layer.b_range() }
    };
    assert_eq!(found(&|_| {}), None);
    let nan_at = |l: usize, weights: bool| {
        move |net: &mut Network<f64>| {
            let at = range(net, l, weights).start;
            net.params_mut()[at] = f64::NAN;
        }
    };
    assert_eq!(found(&nan_at(2, false)), Some((3, Quantity::Parameters)));
    assert_eq!(found(&nan_at(1, true)), Some((2, Quantity::Parameters)));
    assert_eq!(found(&nan_at(0, false)), Some((1, Quantity::Parameters)));
    // Finite parameters whose sum overflows: layer 1's outputs are exactly 1 (σ(1000)),
    // layer 2 adds two weights of 1.7·10³⁰⁸ into an infinite z.
    let overflow = |net: &mut Network<f64>| {
        let (b1, w2) = (range(net, 0, false), range(net, 1, true));
        net.params_mut()[b1].fill(1000.0);
        net.params_mut()[w2].fill(1.7e308);
    };
    assert_eq!(found(&overflow), Some((2, Quantity::Z)));
    // A finite z whose output overflows: a leaky rectifier of slope 10 on z = −1.6·10³⁰⁸.
    let leaky = backprop_layers::activation::LeakyRelu { negative_slope: 10.0 };
    let layers = [
        LayerSpec::new(2, spec("sigmoid")),
        LayerSpec::new(3, ActivationSpec::LeakyRelu(leaky)),
        LayerSpec::new(2, spec("identity")),
    ];
    let mut net = fixed_start(Network::<f64>::new(2, &layers));
    let (b1, w2, b2) = (range(&net, 0, false), range(&net, 1, true), range(&net, 1, false));
    net.params_mut()[b1].fill(1000.0);
    net.params_mut()[w2].fill(-0.8e308);
    net.params_mut()[b2].fill(0.0);
    let mut trainer = Trainer::new(net, &h.data, h.loss.get(), h.sgd.get(), TrainOptions::default());
    assert_eq!(trainer.first_non_finite(), Some((2, Quantity::A)));
}

/// An infinite cost stops the run at its epoch even while every weight is finite: three
/// identity layers, one step of lr = 10¹⁵⁰ makes weights near 10¹⁵⁰ and outputs past f64's
/// range. The run stops after epoch 1, naming a layer's z, with the starting weights (and
/// before the next step could make the weights themselves infinite).
#[test]
fn an_infinite_cost_over_finite_weights_is_a_divergence() {
    let h = HalfAdder::new();
    let identity = || LayerSpec::new(2, ActivationSpec::from_name("identity").expect("registered"));
    let net = fixed_start(Network::<f64>::new(2, &[identity(), identity(), identity()]));
    let sgd = backprop_optim::Sgd { lr: 1e150, ..backprop_optim::Sgd::default() };
    let opts = TrainOptions { epochs: 5, batch_size: BatchSize::Full, ..TrainOptions::default() };
    let run = Trainer::new(net.clone(), &h.data, h.loss.get(), &sgd, opts)
        .run_with(&mut rand::SeedableRng::seed_from_u64(0), &mut Silent);
    let StopReason::Diverged { epoch, layer } = run.stop_reason else { panic!("{:?}", run.stop_reason) };
    assert_eq!(epoch, 1);
    assert!(matches!(layer, Some((_, Quantity::Z))), "{layer:?}");
    assert_eq!(run.net.params(), net.params(), "the last good weights");
    // The step itself left finite weights: the cost alone said it diverged.
    let mut stepped = net.clone();
    let (_, g) = crate::gradcheck::analytic(&net, h.loss.get(), h.data.inputs.view(), h.data.targets.view());
    stepped.params_mut().iter_mut().zip(&g).for_each(|(p, g)| *p -= 1e150 * g);
    assert!(all_finite(stepped.params()) && stepped.params().iter().any(|p| p.abs() > 1e140));
}

/// XOR, a 2-3-1 sigmoid net from [`fixed_start`], half_mse and SGD at lr = 2.
fn xor() -> (Dataset<f64>, Network<f64>, LossSpec, backprop_optim::Sgd) {
    let data = backprop_data::DataSpec::Xor {}.load::<f64>().expect("builtin");
    let sigmoid = || ActivationSpec::from_name("sigmoid").expect("registered");
    let net = fixed_start(Network::<f64>::new(2, &[LayerSpec::new(3, sigmoid()), LayerSpec::new(1, sigmoid())]));
    let loss = LossSpec::from_name("half_mse").expect("registered");
    (data, net, loss, backprop_optim::Sgd { lr: 2.0, ..backprop_optim::Sgd::default() })
}

/// An observer that keeps the weights, and the diagnostics the trainer shows, after every
/// epoch (epoch 0 first).
#[derive(Default)]
struct Snapshots {
    weights: Vec<Vec<f64>>,
    diagnostics: Vec<Vec<f64>>,
}

impl Observer<f64> for Snapshots {
    fn epoch_end(&mut self, t: &Trainer<'_, f64>, _: &EpochMetrics) -> Flow {
        self.weights.push(t.network().params().to_vec());
        self.diagnostics.push(t.diagnostics().to_vec());
        Flow::Continue
    }
}

/// `net` with weights spread over [−1, 1) by a fixed rule (no stream to keep in step).
fn fixed_start(mut net: Network<f64>) -> Network<f64> {
    for (i, p) in net.params_mut().iter_mut().enumerate() {
        *p = ((i * 7919) % 13) as f64 / 6.5 - 1.0;
    }
    net
}

/// A cap of `usize::MAX` epochs, meant to be cut short by `stop_below`, reserves a bounded
/// history (it overflowed the reservation before), grows past the reservation, and thins
/// past the history limit, diagnostics included.
#[test]
fn a_huge_epoch_cap_reserves_a_bounded_history() {
    let data = backprop_data::DataSpec::HalfAdder {}.load::<f64>().expect("builtin");
    let sigmoid = || LayerSpec::new(2, ActivationSpec::from_name("sigmoid").expect("registered"));
    let net = fixed_start(Network::<f64>::new(2, &[sigmoid(), sigmoid()]));
    let (loss, sgd) = (LossSpec::from_name("half_mse").expect("registered"), backprop_optim::OptimizerSpec::default());
    let opts = |stop_below| TrainOptions {
        epochs: usize::MAX,
        batch_size: BatchSize::Full,
        stop_below: Some(stop_below),
        diagnostics: true,
        ..TrainOptions::default()
    };
    let trainer = Trainer::new(net.clone(), &data, loss.get(), sgd.get(), opts(1.0));
    assert_eq!(trainer.history.capacity(), RESERVED_EPOCHS);
    assert!(trainer.diagnostics.capacity() <= RESERVED_EPOCHS * 2 * DIAGNOSTICS.len());
    // SGD's default lr of 0.01 takes more than the reserved epochs to get below 0.12.
    let outcome = Trainer::new(net, &data, loss.get(), sgd.get(), opts(0.12))
        .run_with(&mut rand::SeedableRng::seed_from_u64(0), &mut Silent);
    assert!(matches!(outcome.stop_reason, StopReason::StopBelow { .. }), "{:?}", outcome.stop_reason);
    assert!(outcome.epochs_run > HISTORY_LIMIT, "{} epochs", outcome.epochs_run);
    // Past the history limit: a thinned history, epoch 0 and the last epoch in it.
    let (first, last) = (outcome.history[0], outcome.history[outcome.history.len() - 1]);
    assert!(outcome.costs.len() <= HISTORY_LIMIT + 1, "{} costs", outcome.costs.len());
    assert_eq!((first.epoch, last.epoch), (0, outcome.epochs_run));
    assert!(last.cost < 0.12 && outcome.costs[outcome.costs.len() - 1] == last.cost);
    assert_eq!(outcome.diagnostics.len(), outcome.history.len() * 2 * DIAGNOSTICS.len());
}

/// The first index where `a` and `b` differ, or where one ends before the other.
fn first_difference(a: &[u64], b: &[u64]) -> Option<usize> {
    a.iter().zip(b).position(|(x, y)| x != y).or((a.len() != b.len()).then(|| a.len().min(b.len())))
}

/// A target of another shape with as many elements as the output is refused (by the view
/// form's shape check), not read through the buffer form as if it had the output's shape.
#[test]
fn targets_of_another_shape_are_not_reinterpreted() {
    let sigmoid = ActivationSpec::from_name("sigmoid").expect("registered");
    let net = Network::<f64>::new(2, &[LayerSpec::new(2, sigmoid)]);
    let x = Matrix::from_shape_vec((2, 2), vec![0.0, 1.0, 1.0, 0.0]).expect("2×2");
    let mut ws = Workspace::new(&net, 2);
    let (right, wrong) = (Matrix::from_elem((2, 2), 0.5), Matrix::from_elem((1, 4), 0.5));
    let mut grads = vec![0.0; net.params().len()];
    for name in ["half_mse", "mse", "mae"] {
        let spec = LossSpec::from_name(name).expect("registered");
        let loss = spec.get::<f64>();
        assert!(forward_cost(&net, loss, x.view(), right.view(), &mut ws).is_finite(), "{name}");
        let cost = catch_unwind(AssertUnwindSafe(|| forward_cost(&net, loss, x.view(), wrong.view(), &mut ws)));
        assert!(cost.is_err(), "{name}: the cost of a 2×2 output against a 1×4 target");
        let backward = catch_unwind(AssertUnwindSafe(|| {
            backward_from_loss(&net, loss, x.view(), wrong.view(), &mut ws, &mut grads)
        }));
        assert!(backward.is_err(), "{name}: the gradient of a 2×2 output against a 1×4 target");
    }
}

/// Starting weights whose cost is already infinite stop the run before any update, at epoch
/// 0, naming the first layer whose values overflow (an update would have made the weights NaN
/// and blamed them).
#[test]
fn an_infinite_initial_cost_stops_before_any_update() {
    let h = HalfAdder::new();
    let identity = || LayerSpec::new(2, ActivationSpec::from_name("identity").expect("registered"));
    let mut net = Network::<f64>::new(2, &[identity(), identity(), identity()]);
    net.params_mut().fill(1e200);
    let opts = TrainOptions { epochs: 5, batch_size: BatchSize::Full, ..TrainOptions::default() };
    let sgd = backprop_optim::Sgd { lr: 0.5, ..backprop_optim::Sgd::default() };
    let run = Trainer::new(net.clone(), &h.data, h.loss.get(), &sgd, opts)
        .run_with(&mut rand::SeedableRng::seed_from_u64(0), &mut Silent);
    // Layer 1's z is at most 2·1e200 + 1e200; layer 2's, about 6e400: infinite.
    assert_eq!(run.stop_reason, StopReason::Diverged { epoch: 0, layer: Some((2, Quantity::Z)) });
    assert_eq!((run.epochs_run, run.costs.len()), (0, 1));
    assert!(run.costs[0].is_infinite());
    assert_eq!(run.net.params(), net.params());
}

/// A starting cost that overflows in the loss alone (every weight and every layer's z and a
/// finite) does not stop the run at epoch 0: its gradients are finite, and here the first
/// update (clipped) brings the cost back. A later divergence of that kind names no layer.
#[test]
fn a_cost_that_overflows_in_the_loss_alone_trains_on_and_names_no_layer() {
    let h = HalfAdder::new();
    let identity = || LayerSpec::new(2, ActivationSpec::from_name("identity").expect("registered"));
    let mut net = Network::<f64>::new(2, &[identity()]);
    // Outputs of about 1e200: finite, and their squares in half_mse are not.
    net.params_mut().fill(1e200);
    let sgd = backprop_optim::Sgd { lr: 1.0, ..backprop_optim::Sgd::default() };
    let clipped = TrainOptions { epochs: 3, clip_value: Some(1e200), ..TrainOptions::default() };
    let run = Trainer::new(net.clone(), &h.data, h.loss.get(), &sgd, clipped)
        .run_with(&mut rand::SeedableRng::seed_from_u64(0), &mut Silent);
    assert!(run.costs[0].is_infinite());
    assert_eq!(run.stop_reason, StopReason::Completed, "{:?}", run.costs);
    assert!(run.costs[1..].iter().all(|c| c.is_finite()), "{:?}", run.costs);

    // Unclipped, the step overshoots to outputs whose cost overflows again.
    let plain = TrainOptions { epochs: 3, ..TrainOptions::default() };
    let run = Trainer::new(net, &h.data, h.loss.get(), &sgd, plain)
        .run_with(&mut rand::SeedableRng::seed_from_u64(0), &mut Silent);
    assert!(matches!(run.stop_reason, StopReason::Diverged { epoch: 1, .. }), "{:?}", run.stop_reason);
}

/// The layer is looked for over every batch of the set, not only the first: here only the
/// last sample, (1, 1), overflows layer 1's z (1e308 + 1e308), and the batches hold one sample.
#[test]
fn the_overflowing_layer_is_found_in_any_batch() {
    let h = HalfAdder::new();
    let identity = || LayerSpec::new(2, ActivationSpec::from_name("identity").expect("registered"));
    let mut net = Network::<f64>::new(2, &[identity(), identity()]);
    let w = net.layers()[0].w_range();
    net.params_mut()[w].fill(1e308);
    let opts = TrainOptions { epochs: 5, batch_size: BatchSize::Size(1), ..TrainOptions::default() };
    let sgd = backprop_optim::Sgd { lr: 0.5, ..backprop_optim::Sgd::default() };
    let run = Trainer::new(net, &h.data, h.loss.get(), &sgd, opts)
        .run_with(&mut rand::SeedableRng::seed_from_u64(0), &mut Silent);
    assert_eq!(run.stop_reason, StopReason::Diverged { epoch: 0, layer: Some((1, Quantity::Z)) });
}

/// A gradient whose squares overflow f64 (inputs of 1e160) still has a finite norm in the
/// diagnostics: it was `inf`, which a checkpoint writes as JSON `null` and resuming refused.
/// Norms that do not overflow keep the plain sum's bits.
#[test]
fn a_gradient_norm_past_the_squares_range_is_finite() {
    let identity = ActivationSpec::from_name("identity").expect("registered");
    let mut net = Network::<f64>::new(1, &[LayerSpec::new(1, identity)]);
    net.params_mut().fill(0.0);
    let data = Dataset {
        name: "huge".into(),
        inputs: Matrix::from_shape_fn((2, 1), |(i, _)| 1e160 * (1.0 + i as f64)),
        targets: Matrix::from_elem((2, 1), 1.0),
    };
    let (loss, sgd) = (backprop_loss::HalfMse {}, backprop_optim::Sgd { lr: 1e-310, ..Default::default() });
    let opts = TrainOptions { epochs: 2, batch_size: BatchSize::Full, diagnostics: true, ..TrainOptions::default() };
    let outcome =
        Trainer::new(net, &data, &loss, &sgd, opts).run_with(&mut rand::SeedableRng::seed_from_u64(0), &mut Silent);
    // Epoch 1 from zero weights: ∂C/∂w = mean(x·(0 − 1)) = −1.5e160, ∂C/∂b = −1.
    let grad_norm = outcome.diagnostics[DIAGNOSTICS.len()];
    assert!((grad_norm / 1.5e160 - 1.0).abs() < 1e-15, "{grad_norm}");
    assert!(outcome.diagnostics.iter().all(|d| d.is_finite()), "{:?}", outcome.diagnostics);
}

/// `clip_norm_type` reaches the step: one full-batch epoch clipped to an ∞-norm of 0.01 is
/// the gradient by hand, scaled by 0.01 / (max|g| + 1e-6), then SGD; an L2 clip to the same
/// bound gives other weights.
#[test]
fn the_clip_norm_type_reaches_the_step() {
    let h = HalfAdder::new();
    let sgd = backprop_optim::Sgd { lr: 0.5, ..backprop_optim::Sgd::default() };
    let epoch = |clip_norm_type| {
        let opts = TrainOptions {
            epochs: 1,
            batch_size: BatchSize::Full,
            clip_norm: Some(0.01),
            clip_norm_type,
            ..TrainOptions::default()
        };
        Trainer::new(h.net.clone(), &h.data, h.loss.get(), &sgd, opts)
            .run_with(&mut rand::SeedableRng::seed_from_u64(0), &mut Silent)
            .net
    };
    let mut ws = Workspace::new(&h.net, 4);
    let mut grads = vec![0.0; h.net.params().len()];
    let (x, t) = (h.data.inputs.view(), h.data.targets.view());
    forward_cost(&h.net, h.loss.get(), x, t, &mut ws);
    backward_from_loss(&h.net, h.loss.get(), x, t, &mut ws, &mut grads);
    let largest = grads.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    assert!(largest > 0.01, "the clip must bite: {largest}");
    let coef = 0.01 / (largest + 1e-6);
    let want: Vec<f64> = h.net.params().iter().zip(&grads).map(|(p, g)| p - 0.5 * (g * coef)).collect();
    assert_eq!(epoch(Some(f64::INFINITY)).params(), &want[..]);
    assert_ne!(epoch(None).params(), &want[..]);
    assert_eq!(epoch(None).params(), epoch(Some(2.0)).params());
}
