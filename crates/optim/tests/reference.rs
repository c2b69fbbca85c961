//! Every optimiser, schedule and clipping rule against reference values from an independent
//! implementation: `reference/make_reference.py` (a plain-Python transcription of PyTorch 2.15's
//! `torch.optim`, `torch.optim.lr_scheduler` and `torch.nn.utils.clip_grad_*`; see its header
//! for why not torch itself), which wrote `reference/reference.json`.
//!
//! Each case's config is TOML in our `[optim]` format and goes through [`OptimSpec`]'s
//! deserialiser and validation, so a wrong default fails here just as a wrong formula does: the
//! "default" cases name only `kind`. Values must agree to 1e-12, relative, in `f64`; the
//! optimiser cases are also run in `f32` to 1e-5.

use std::collections::BTreeSet;

use backprop_optim::{
    LrScheduleSpec, OptimSpec, OptimizerSpec, ScheduleSpec, clip_grad_norm, clip_grad_norm_type, clip_grad_value,
    grad_norm,
};
use backprop_tensor::{Element, Validate};
use serde::Deserialize;

const TOLERANCE: f64 = 1e-12;

#[derive(Deserialize)]
struct Reference {
    params0: Vec<f64>,
    grads: Vec<Vec<f64>>,
    optimizers: Vec<OptimizerCase>,
    schedules: Vec<ScheduleCase>,
    clip_grad_norm: Vec<ClipNormCase>,
    clip_grad_value: Vec<ClipValueCase>,
}

#[derive(Deserialize)]
struct OptimizerCase {
    name: String,
    config: String,
    /// Parameters after each step.
    expected: Vec<Vec<f64>>,
}

#[derive(Deserialize)]
struct ScheduleCase {
    name: String,
    config: String,
    /// The cost passed after each epoch.
    costs: Vec<f64>,
    /// The lr of epoch 0, then of each epoch after a `step`.
    lrs: Vec<f64>,
}

#[derive(Deserialize)]
struct ClipNormCase {
    grads: Vec<f64>,
    max_norm: f64,
    /// PyTorch's `norm_type`, `"inf"` for ∞ (JSON has no infinity); 2 when absent.
    #[serde(default)]
    norm_type: Option<serde_json::Value>,
    total_norm: f64,
    clipped: Vec<f64>,
}

#[derive(Deserialize)]
struct ClipValueCase {
    grads: Vec<f64>,
    clip_value: f64,
    clipped: Vec<f64>,
}

fn reference() -> Reference {
    serde_json::from_str(include_str!("reference/reference.json")).expect("reference.json parses")
}

fn spec(name: &str, config: &str) -> OptimSpec {
    let spec: OptimSpec = toml::from_str(config).unwrap_or_else(|e| panic!("{name}: config does not parse: {e}"));
    spec.validate().unwrap_or_else(|e| panic!("{name}: config does not validate: {e}"));
    spec
}

/// Asserts `got` and `want` agree to `tolerance`, relative to the larger magnitude.
fn check(what: &str, got: &[f64], want: &[f64], tolerance: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let scale = g.abs().max(w.abs());
        assert!((g - w).abs() <= tolerance * scale, "{what}[{i}]: got {g:e}, want {w:e} (all: {got:?})");
    }
}

/// Runs one optimiser case in `F`: the scheduled lr of each step (one step per epoch), the
/// optimiser's step, then the scheduler's. Returns the parameters after each step.
fn run<F: Element>(reference: &Reference, spec: &OptimSpec) -> Vec<Vec<f64>> {
    let optimizer = spec.optimizer.get::<F>();
    let mut scheduler = spec.scheduler();
    let mut params: Vec<F> = reference.params0.iter().map(|&p| F::of(p)).collect();
    let mut state = vec![F::zero(); optimizer.state_len(params.len())];
    let mut out = Vec::new();
    for (t, grads) in reference.grads.iter().enumerate() {
        let grads: Vec<F> = grads.iter().map(|&g| F::of(g)).collect();
        optimizer.step(&mut params, &grads, &mut state, t as u64 + 1, F::of(scheduler.lr()));
        scheduler.step(0.0);
        out.push(params.iter().map(|p| p.f64()).collect());
    }
    out
}

#[test]
fn optimizers_match_the_reference_in_f64() {
    let reference = reference();
    assert!(reference.optimizers.len() >= 14);
    for case in &reference.optimizers {
        let spec = spec(&case.name, &case.config);
        let got = run::<f64>(&reference, &spec);
        for (t, (got, want)) in got.iter().zip(&case.expected).enumerate() {
            check(&format!("{} step {}", case.name, t + 1), got, want, TOLERANCE);
        }
    }
}

#[test]
fn optimizers_match_the_reference_in_f32() {
    let reference = reference();
    for case in &reference.optimizers {
        let got = run::<f32>(&reference, &spec(&case.name, &case.config));
        for (t, (got, want)) in got.iter().zip(&case.expected).enumerate() {
            check(&format!("{} (f32) step {}", case.name, t + 1), got, want, 1e-5);
        }
    }
}

/// The keys of a flat table as this crate writes it (`kind` and every parameter).
fn keys_of(value: impl serde::Serialize) -> BTreeSet<String> {
    match toml::Value::try_from(value).expect("serialises") {
        toml::Value::Table(t) => t.keys().cloned().collect(),
        other => panic!("not a table: {other}"),
    }
}

/// The keys the configs of `cases` set, in `[optim]` or (with `sub`) in `[optim.<sub>]`.
fn keys_set<'a>(configs: impl Iterator<Item = &'a String>, sub: Option<&str>) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for config in configs {
        let table: toml::Table = toml::from_str(config).expect("config parses");
        let table = match sub {
            Some(sub) => table[sub].as_table().expect("a sub-table").clone(),
            None => table,
        };
        keys.extend(table.keys().cloned());
    }
    keys
}

#[test]
fn every_option_of_every_optimizer_and_schedule_is_exercised() {
    let reference = reference();
    for &name in OptimizerSpec::NAMES {
        let default = format!("kind = \"{name}\"\n");
        assert!(reference.optimizers.iter().any(|c| c.config == default), "{name}: no case with the defaults");
        let optimizer = OptimizerSpec::from_name(name).expect("registered");
        let all = keys_of(OptimSpec { optimizer, ..OptimSpec::default() });
        let configs = reference.optimizers.iter().filter(|c| c.config.starts_with(&default)).map(|c| &c.config);
        let set = keys_set(configs, None);
        assert!(set.is_superset(&all), "{name}: no case sets {:?}", all.difference(&set).collect::<Vec<_>>());
    }
    for &name in ScheduleSpec::NAMES {
        let schedule = ScheduleSpec::from_name(name).expect("registered");
        let mut all = keys_of(LrScheduleSpec::new(schedule));
        all.extend(["warmup_epochs".to_string()]);
        let kind = format!("[schedule]\nkind = \"{name}\"\n");
        let configs = reference.schedules.iter().filter(|c| c.config.contains(&kind)).map(|c| &c.config);
        let set = keys_set(configs, Some("schedule"));
        assert!(set.is_superset(&all), "{name}: no case sets {:?}", all.difference(&set).collect::<Vec<_>>());
    }
    let with_start_factor = reference.schedules.iter().filter(|c| c.config.contains("warmup_start_factor"));
    assert!(with_start_factor.count() >= 2);
}

#[test]
fn schedules_match_the_reference() {
    let reference = reference();
    let mut kinds_seen = BTreeSet::new();
    for case in &reference.schedules {
        let spec = spec(&case.name, &case.config);
        kinds_seen.insert(spec.schedule.as_ref().expect("a schedule case has a schedule").schedule.name());
        let mut scheduler = spec.scheduler();
        let mut got = vec![scheduler.lr()];
        for &cost in &case.costs {
            scheduler.step(cost);
            got.push(scheduler.lr());
        }
        check(&case.name, &got, &case.lrs, TOLERANCE);
    }
    assert_eq!(kinds_seen.len(), ScheduleSpec::NAMES.len(), "{kinds_seen:?}");
}

#[test]
fn clipping_matches_the_reference() {
    let reference = reference();
    let mut norm_types = Vec::new();
    for case in &reference.clip_grad_norm {
        let mut grads = case.grads.clone();
        let norm = match &case.norm_type {
            None => clip_grad_norm(&mut grads, case.max_norm),
            Some(p) => {
                let p = if p == "inf" { f64::INFINITY } else { p.as_f64().expect("a number or \"inf\"") };
                norm_types.push(p);
                // The config's key reaches the same function.
                let config = format!("kind = \"sgd\"\nclip_norm = {:?}\nclip_norm_type = {p}\n", case.max_norm);
                let spec: OptimSpec = toml::from_str(&config).expect("a config");
                let mut by_config = case.grads.clone();
                assert_eq!(spec.clip_grads(&mut by_config), Some(clip_grad_norm_type(&mut grads, case.max_norm, p)));
                assert_eq!(by_config, grads);
                grad_norm(&case.grads, p)
            }
        };
        check("clip_grad_norm total norm", &[norm], &[case.total_norm], TOLERANCE);
        check("clip_grad_norm", &grads, &case.clipped, TOLERANCE);
    }
    assert_eq!(norm_types, [f64::INFINITY, 1.0, 3.0, 0.5], "the reference's norm types");
    for case in &reference.clip_grad_value {
        let mut grads = case.grads.clone();
        clip_grad_value(&mut grads, case.clip_value);
        check("clip_grad_value", &grads, &case.clipped, TOLERANCE);
    }
}
