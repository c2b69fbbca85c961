//! Every optimiser's and schedule's parameters are checked: a value out of range is refused
//! naming its key (as the config writes it), the range's edge is accepted. The table lists each
//! checked parameter; a check that did nothing would fail its line.

use backprop_optim::OptimSpec;
use backprop_tensor::{SpecError, Validate};

/// `[optim]` from `src`, validated.
fn check(src: &str) -> Result<(), SpecError> {
    let spec: OptimSpec = toml::from_str(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    spec.validate()
}

/// Asserts that the `[optim]` tables `srcs` (a test's hand-kept list) name every registered
/// optimiser, and, with `schedules`, every registered schedule: a new one fails the test that
/// forgot it, naming the list.
fn covers_every_name<'a>(list: &str, srcs: impl IntoIterator<Item = &'a str>, schedules: bool) {
    let specs: Vec<OptimSpec> = srcs.into_iter().map(|s| toml::from_str(s).expect("parses")).collect();
    for name in backprop_optim::OptimizerSpec::NAMES {
        assert!(specs.iter().any(|s| s.optimizer.name() == *name), "{list}: no case of optimiser `{name}`");
    }
    if schedules {
        // `constant` has no parameters; `reduce_on_plateau`'s have a test of their own.
        let skip = ["constant", "reduce_on_plateau"];
        for name in backprop_optim::ScheduleSpec::NAMES.iter().filter(|n| !skip.contains(n)) {
            let named = specs.iter().any(|s| s.schedule.as_ref().is_some_and(|sc| sc.schedule.name() == *name));
            assert!(named, "{list}: no case of schedule `{name}`");
        }
    }
}

#[test]
fn every_parameter_out_of_range_is_refused_naming_its_key() {
    // (kind and keys, the key refused, or None for a value at the edge of the range.)
    let cases: &[(&str, Option<&str>)] = &[
        ("kind = \"sgd\"\nlr = 0.0", Some("lr")),
        ("kind = \"sgd\"\nlr = inf", Some("lr")),
        ("kind = \"sgd\"\nmomentum = -0.1", Some("momentum")),
        ("kind = \"sgd\"\nmomentum = 0.0", None),
        ("kind = \"sgd\"\ndampening = 1.5", Some("dampening")),
        ("kind = \"sgd\"\ndampening = 1.0", None),
        ("kind = \"sgd\"\nweight_decay = -1.0", Some("weight_decay")),
        ("kind = \"sgd\"\nnesterov = true", Some("nesterov")),
        ("kind = \"sgd\"\nnesterov = true\nmomentum = 0.9\ndampening = 0.1", Some("nesterov")),
        ("kind = \"sgd\"\nnesterov = true\nmomentum = 0.9", None),
        ("kind = \"rmsprop\"\nlr = -1.0", Some("lr")),
        ("kind = \"rmsprop\"\nalpha = 1.0", Some("alpha")),
        ("kind = \"rmsprop\"\nalpha = 0.0", None),
        ("kind = \"rmsprop\"\neps = 0.0", Some("eps")),
        ("kind = \"rmsprop\"\nweight_decay = -1.0", Some("weight_decay")),
        ("kind = \"rmsprop\"\nmomentum = -1.0", Some("momentum")),
        ("kind = \"adagrad\"\nlr = 0.0", Some("lr")),
        ("kind = \"adagrad\"\nlr_decay = -1.0", Some("lr_decay")),
        ("kind = \"adagrad\"\nweight_decay = -1.0", Some("weight_decay")),
        ("kind = \"adagrad\"\ninitial_accumulator_value = -1.0", Some("initial_accumulator_value")),
        ("kind = \"adagrad\"\ninitial_accumulator_value = 0.0", None),
        ("kind = \"adagrad\"\neps = 0.0", Some("eps")),
        ("kind = \"nadam\"\nmomentum_decay = -0.1", Some("momentum_decay")),
        ("kind = \"nadam\"\nmomentum_decay = 0.0", None),
        ("kind = \"nadam\"\nmomentum_decay = inf", Some("momentum_decay")),
        ("kind = \"adadelta\"\nlr = 0.0", Some("lr")),
        ("kind = \"adadelta\"\nrho = 1.5", Some("rho")),
        ("kind = \"adadelta\"\nrho = -0.1", Some("rho")),
        ("kind = \"adadelta\"\nrho = 0.0", None),
        ("kind = \"adadelta\"\nrho = 1.0", None),
        ("kind = \"adadelta\"\neps = 0.0", Some("eps")),
        ("kind = \"adadelta\"\nweight_decay = -1.0", Some("weight_decay")),
        ("clip_norm = 0.0\nkind = \"sgd\"", Some("clip_norm")),
        ("clip_value = nan\nkind = \"sgd\"", Some("clip_value")),
        ("kind = \"sgd\"\n[schedule]\nkind = \"step\"\nstep_size = 0", Some("schedule.step_size")),
        ("kind = \"sgd\"\n[schedule]\nkind = \"step\"\nstep_size = 1\ngamma = 0.0", Some("schedule.gamma")),
        ("kind = \"sgd\"\n[schedule]\nkind = \"multistep\"\nmilestones = [2]\ngamma = -1.0", Some("schedule.gamma")),
        ("kind = \"sgd\"\n[schedule]\nkind = \"exponential\"\ngamma = 0.0", Some("schedule.gamma")),
        ("kind = \"sgd\"\n[schedule]\nkind = \"cosine\"\nt_max = 0", Some("schedule.t_max")),
        ("kind = \"sgd\"\n[schedule]\nkind = \"cosine\"\nt_max = 1\neta_min = -1.0", Some("schedule.eta_min")),
        ("kind = \"sgd\"\n[schedule]\nkind = \"cosine\"\nt_max = 1\neta_min = 0.0", None),
    ];
    for &(src, refused) in cases {
        match (check(src), refused) {
            (Ok(()), None) => {}
            (Err(e), Some(key)) => assert_eq!(e.key, key, "{src}: {e}"),
            (got, want) => panic!("{src}: got {got:?}, want the key {want:?} refused"),
        }
    }
    // The Adams, each beta on its own: [0, 1).
    let mut adams = Vec::new();
    for kind in ["adam", "adamw", "nadam", "radam", "adamax"] {
        for (extra, refused) in [
            ("lr = 0.0", Some("lr")),
            ("betas = [1.0, 0.999]", Some("betas[0]")),
            ("betas = [-0.1, 0.999]", Some("betas[0]")),
            ("betas = [0.9, 1.0]", Some("betas[1]")),
            ("betas = [0.0, 0.0]", None),
            ("eps = 0.0", Some("eps")),
            ("weight_decay = -1.0", Some("weight_decay")),
            ("weight_decay = 0.0", None),
        ] {
            let src = format!("kind = \"{kind}\"\n{extra}");
            assert_eq!(check(&src).err().map(|e| e.key), refused.map(String::from), "{src}");
            adams.push(src);
        }
    }
    let all = cases.iter().map(|c| c.0).chain(adams.iter().map(String::as_str));
    covers_every_name("every_parameter_out_of_range_is_refused_naming_its_key", all, true);
}

#[test]
fn plateau_parameters_are_checked() {
    for (extra, refused) in [
        ("factor = 1.0", Some("schedule.factor")),
        ("factor = -0.5", Some("schedule.factor")),
        ("factor = 0.0", None),
        ("threshold = -1.0", Some("schedule.threshold")),
        ("min_lr = -1.0", Some("schedule.min_lr")),
        ("eps = 0.0", Some("schedule.eps")),
    ] {
        let src = format!("kind = \"sgd\"\n[schedule]\nkind = \"reduce_on_plateau\"\n{extra}");
        assert_eq!(check(&src).err().map(|e| e.key), refused.map(String::from), "{src}");
    }
}

/// `optim = "adam"` is Adam with PyTorch's defaults; a name that is none is refused listing them.
#[test]
fn a_bare_name_is_that_optimiser_with_its_defaults() {
    #[derive(serde::Deserialize)]
    struct Config {
        optim: OptimSpec,
    }
    let named: Config = toml::from_str("optim = \"adam\"").expect("a name");
    let table: Config = toml::from_str("[optim]\nkind = \"adam\"").expect("a table");
    assert_eq!(named.optim, table.optim);
    assert_eq!(named.optim.optimizer.name(), "adam");
    let err = toml::from_str::<Config>("optim = \"adma\"").err().expect("no such optimiser").to_string();
    assert!(err.contains("unknown variant `adma`, expected one of `sgd`, `adam`"), "{err}");
    let err = toml::from_str::<Config>("optim = 3").err().expect("a number").to_string();
    let names = backprop_optim::OptimizerSpec::NAMES.join(", ");
    assert!(err.contains(&format!("an optimiser name (one of {names}) or a table with `kind`")), "{err}");
    assert!(names.starts_with("sgd, adam, adamw"), "{names}");
}

/// The state each optimiser keeps for 10 parameters: what its rustdoc's "State" line lays out
/// (a checkpoint stores it, so a larger one is no harmless waste).
#[test]
fn state_lengths_are_the_documented_layouts() {
    let cases = [
        ("kind = \"sgd\"", 0),
        ("kind = \"sgd\"\nmomentum = 0.9", 10),
        ("kind = \"adam\"", 20),
        ("kind = \"adam\"\namsgrad = true", 30),
        ("kind = \"adamw\"\namsgrad = true", 30),
        ("kind = \"rmsprop\"", 10),
        ("kind = \"rmsprop\"\ncentered = true", 20),
        ("kind = \"rmsprop\"\nmomentum = 0.9", 20),
        ("kind = \"rmsprop\"\ncentered = true\nmomentum = 0.9", 30),
        ("kind = \"adagrad\"", 10),
        ("kind = \"nadam\"", 21),
        ("kind = \"radam\"", 20),
        ("kind = \"adamax\"", 20),
        ("kind = \"adadelta\"", 20),
    ];
    covers_every_name("state_lengths_are_the_documented_layouts", cases.iter().map(|c| c.0), false);
    for (src, len) in cases {
        let spec: OptimSpec = toml::from_str(src).expect("parses");
        assert_eq!(spec.optimizer.get::<f64>().state_len(10), len, "{src}");
    }
}

/// Every optimiser refuses slices of the wrong lengths, naming them: a gradient or a state
/// shorter than the parameters updated part of them (SGD, Adagrad) or panicked out of bounds
/// (Adam, RMSprop), and a longer one was read in part.
#[test]
fn every_step_asks_for_as_many_gradients_as_parameters_and_its_state() {
    use backprop_optim::Optimizer;
    let kinds = [
        "kind = \"sgd\"",
        "kind = \"sgd\"\nmomentum = 0.9",
        "kind = \"sgd\"\nweight_decay = 0.1",
        "kind = \"adam\"",
        "kind = \"adam\"\namsgrad = true",
        "kind = \"adamw\"",
        "kind = \"rmsprop\"\ncentered = true\nmomentum = 0.5",
        "kind = \"adagrad\"",
        "kind = \"nadam\"",
        "kind = \"radam\"",
        "kind = \"adamax\"",
        "kind = \"adadelta\"",
    ];
    covers_every_name("every_step_asks_for_as_many_gradients_as_parameters_and_its_state", kinds, false);
    let panics = |f: &dyn Fn()| -> Option<String> {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        std::panic::set_hook(hook);
        got.err().map(|e| e.downcast_ref::<String>().cloned().unwrap_or_default())
    };
    for src in kinds {
        let spec: OptimSpec = toml::from_str(src).unwrap();
        let optimizer: &dyn Optimizer<f64> = spec.optimizer.get();
        let n = optimizer.state_len(4);
        let step = |params: usize, grads: usize, state: usize| {
            panics(&|| {
                let (mut p, g, mut s) = (vec![0.5; params], vec![0.25; grads], vec![0.0; state]);
                optimizer.step(&mut p, &g, &mut s, 1, 0.1);
            })
        };
        assert_eq!(step(4, 4, n), None, "{src}: the right lengths");
        let message = step(4, 3, n).unwrap_or_else(|| panic!("{src}: a gradient short"));
        assert!(message.contains("4 parameters, 3 gradients and"), "{src}: {message}");
        assert!(step(4, 5, n).is_some(), "{src}: a gradient too many");
        let message = step(4, 4, n + 1).unwrap_or_else(|| panic!("{src}: a state value too many"));
        assert!(message.contains(&format!("and {} state values (it needs", n + 1)), "{src}: {message}");
        assert!(message.ends_with(&format!("and {n} state values)")), "{src}: {message}");
        if n > 0 {
            assert!(step(4, 4, n - 1).is_some(), "{src}: a state value short");
        }
    }
}
