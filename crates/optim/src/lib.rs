//! Optimisers (update rules over flat parameter buffers), gradient clipping, and learning-rate
//! schedules.
//!
//! An optimiser sees the network's parameters and gradients as two flat slices of the same
//! length, plus a flat state buffer it asked for ([`Optimizer::state_len`], zero at the start)
//! and the step count. The state is passed in and out, never hidden, so a checkpoint is three
//! slices and a counter. Update rules follow PyTorch's documented algorithms (`torch.optim`),
//! with the same parameter names and defaults, so hyper-parameters port; `tests/reference.rs`
//! checks every rule and schedule against values from an independent implementation.
//!
//! Optimisers ([`OptimizerSpec`], `[optim] kind = …`; g is the gradient, γ this step's lr):
//! - `sgd` ([`Sgd`]): θ ← θ − γ·g, with optional momentum b ← μ·b + (1 − τ)·g (b = g at step 1),
//!   Nesterov and L2 weight decay.
//! - `adam` ([`Adam`]): θ ← θ − γ·m̂/(√v̂ + ε) from bias-corrected moment averages; L2 decay,
//!   AMSGrad.
//! - `adamw` ([`AdamW`]): θ ← θ·(1 − γ·λ), then Adam's step (decoupled weight decay).
//! - `rmsprop` ([`RmsProp`]): θ ← θ − γ·g/(√v + ε) with v a running mean of g²; centred,
//!   momentum, L2 decay.
//! - `adagrad` ([`Adagrad`]): θ ← θ − γ/(1 + (t − 1)·η)·g/(√s + ε) with s the sum of g² so far.
//! - `nadam` ([`NAdam`]): Adam with Nesterov momentum, μₜ rising towards β₁.
//! - `radam` ([`RAdam`]): Adam rectified: momentum SGD until the variance estimate is trusted.
//! - `adamax` ([`Adamax`]): θ ← θ − γ/(1 − β₁ᵗ)·m/u with u ← max(β₂·u, |g| + ε).
//! - `adadelta` ([`Adadelta`]): θ ← θ − γ·√(u + ε)/√(v + ε)·g, v and u running means of g² and of the steps².
//!
//! Gradient clipping ([`clip`](mod@clip), `clip_norm` / `clip_norm_type` / `clip_value` in
//! `[optim]`): [`clip_grad_norm`] scales all gradients so their joint L2 norm is at most
//! `max_norm` ([`clip_grad_norm_type`] for another p-norm, [`grad_norm`]);
//! [`clip_grad_value`] clamps each to [−v, v].
//!
//! Schedules ([`schedule`], `[optim.schedule] kind = …`, one step per epoch, e = epoch; an
//! optional linear warm-up goes first; [`LrScheduler`] runs them):
//! - `constant`: lr.
//! - `step`: lr·γ^⌊e/step_size⌋.
//! - `multistep`: lr·γ^(number of milestones ≤ e).
//! - `exponential`: lr·γ^e.
//! - `cosine`: η_min + (lr − η_min)·(1 + cos(π·e/t_max))/2.
//! - `reduce_on_plateau`: lr·factor after more than `patience` epochs without improvement.
//!
//! This crate knows nothing about layers, losses, data or files: it sees slices and numbers.
//!
//! ```
//! use backprop_optim::{Optimizer, Sgd};
//!
//! let sgd = Sgd { lr: 0.5, ..Sgd::default() };
//! let mut params = [1.0, -1.0];
//! let grads = [0.2, -0.4];
//! let mut state = vec![0.0; Optimizer::<f64>::state_len(&sgd, params.len())];
//! sgd.step(&mut params, &grads, &mut state, 1, 0.5);
//! assert_eq!(params, [0.9, -0.8]);
//! ```
//!
//! To add an optimiser: write `my_optim.rs` with a struct implementing [`Optimizer`] and
//! [`Validate`], then add its line to the `registry!` below, beside
//! the file's `mod` and `pub use` lines (ARCHITECTURE.md, "Adding a component", has the rest).

mod adadelta;
mod adagrad;
mod adam;
mod adamax;
mod adamw;
pub mod clip;
mod nadam;
mod radam;
mod rmsprop;
pub mod schedule;
mod sgd;
mod table;

pub use adadelta::Adadelta;
pub use adagrad::Adagrad;
pub use adam::Adam;
pub use adamax::Adamax;
pub use adamw::AdamW;
pub use clip::{clip_grad_norm, clip_grad_norm_type, clip_grad_value, grad_norm};
pub use nadam::NAdam;
pub use radam::RAdam;
pub use rmsprop::RmsProp;
pub use schedule::{
    Constant, CosineAnnealingLr, ExponentialLr, LrScheduleSpec, LrScheduler, MultiStepLr, ReduceLrOnPlateau,
    ScheduleSpec, StepLr,
};
pub use sgd::Sgd;

use backprop_tensor::spec::positive;
/// The tensor crate's types an optimiser's signature names, so that one written elsewhere needs
/// only this crate.
pub use backprop_tensor::{Element, SpecError, Validate};
use serde::{Deserialize, Serialize};

/// A parameter update rule. Its [`Validate`] impl checks its parameters (the default checks
/// nothing): `backprop_cli::train::Trainer::new` refuses an optimiser that fails it, as
/// `backprop train` refuses the config. `Send + Sync`, as [`Loss`](https://docs.rs/backprop-loss)
/// is, so that a trainer holding one can move to another thread.
pub trait Optimizer<F: Element>: Validate + Send + Sync {
    /// The learning rate the config gave (schedules scale it).
    fn lr(&self) -> f64;
    /// How many state values it keeps for `n_params` parameters (0 for plain SGD).
    fn state_len(&self, n_params: usize) -> usize;
    /// One update of `params` from `grads`. `state` holds [`state_len`](Self::state_len) values,
    /// all zero before the first step; `step` counts from 1; `lr` is this step's learning rate.
    ///
    /// # Panics
    /// This crate's optimisers, when `grads` is not as long as `params` or `state` not
    /// `state_len(params.len())` long ([`assert_step_lengths`]): a shorter slice would update
    /// part of the parameters, or read another parameter's moments.
    fn step(&self, params: &mut [F], grads: &[F], state: &mut [F], step: u64, lr: F);
    /// Whether `state` ([`state_len`](Self::state_len) values) is one this optimiser's steps can
    /// have left, for a state read back from a file (a checkpoint): the default asks every value
    /// to be finite; an optimiser whose state holds sums of squares also asks those to be ≥ 0.
    fn check_state(&self, state: &[F]) -> Result<(), String> {
        match state.iter().position(|v| !v.is_finite()) {
            Some(i) => Err(format!("value {i} is not finite ({})", state[i].f64())),
            None => Ok(()),
        }
    }
}

/// What [`Optimizer::step`] asks of its slices: as many gradients as parameters, and
/// `state_len` state values (the optimiser's [`state_len`](Optimizer::state_len) for them).
/// Every optimiser here calls it first; one written elsewhere may too.
///
/// # Panics
/// When either length is off, naming the three lengths.
#[inline]
pub fn assert_step_lengths<F>(params: &[F], grads: &[F], state: &[F], state_len: usize) {
    assert!(
        grads.len() == params.len() && state.len() == state_len,
        "Optimizer::step: {} parameters, {} gradients and {} state values (it needs as many gradients as \
         parameters, and {state_len} state values)",
        params.len(),
        grads.len(),
        state.len()
    );
}

/// [`Optimizer::check_state`] for a state whose values in `squares` are sums or averages of
/// squares: every value finite, and those ≥ 0.
pub(crate) fn check_squares<F: Element>(state: &[F], squares: std::ops::Range<usize>) -> Result<(), String> {
    if let Some(i) = state.iter().position(|v| !v.is_finite()) {
        return Err(format!("value {i} is not finite ({})", state[i].f64()));
    }
    let start = squares.start;
    match state[squares].iter().position(|v| *v < F::zero()) {
        Some(i) => {
            Err(format!("value {} is negative ({}), and it is a sum of squares", start + i, state[start + i].f64()))
        }
        None => Ok(()),
    }
}

backprop_tensor::registry! {
    /// The optimisers a config can name (`[optim] kind = "adam"`).
    pub enum OptimizerSpec: dyn Optimizer<F> {
        /// `θ ← θ − lr·g`, with optional momentum, Nesterov and L2 weight decay.
        "sgd" => Sgd(Sgd),
        /// `θ ← θ − lr·m̂/(√v̂ + ε)`, with optional L2 weight decay and AMSGrad.
        "adam" => Adam(Adam),
        /// `θ ← θ·(1 − lr·λ)`, then Adam's step.
        "adamw" => AdamW(AdamW),
        /// `θ ← θ − lr·g/(√v + ε)`, v a running mean of g²; centred, momentum, L2 decay.
        "rmsprop" => RmsProp(RmsProp),
        /// `θ ← θ − lr·g/(√s + ε)`, s the sum of g² so far; lr decay, L2 decay.
        "adagrad" => Adagrad(Adagrad),
        /// Adam with Nesterov momentum and a momentum schedule.
        "nadam" => NAdam(NAdam),
        /// Adam rectified: momentum SGD until the second moment's estimate is trusted.
        "radam" => RAdam(RAdam),
        /// `θ ← θ − lr/(1 − β₁ᵗ)·m/u`, u a decayed maximum of |g|.
        "adamax" => Adamax(Adamax),
        /// `θ ← θ − lr·√(u + ε)/√(v + ε)·g`, v and u running means of g² and of the steps².
        "adadelta" => Adadelta(Adadelta),
    }
}

impl Default for OptimizerSpec {
    fn default() -> Self {
        OptimizerSpec::Sgd(Sgd::default())
    }
}

impl OptimizerSpec {
    /// The learning rate the config gave (the base lr a schedule scales).
    pub fn lr(&self) -> f64 {
        self.get::<f64>().lr()
    }
}

/// The `[optim]` table: the optimiser (`kind` and its parameters), gradient clipping, and a
/// learning-rate schedule, all optional but `kind`.
///
/// ```toml
/// [optim]
/// kind = "adam"
/// lr = 0.001
/// betas = [0.9, 0.999]
/// clip_norm = 1.0            # optional: clip_grad_norm before each step
/// clip_norm_type = 2.0       # optional, with clip_norm: its p-norm (inf: the largest |g|)
/// clip_value = 5.0           # optional: clip_grad_value before each step
///
/// [optim.schedule]           # optional: the lr of each epoch
/// kind = "step"
/// step_size = 30
/// gamma = 0.1
/// warmup_epochs = 5          # optional
/// ```
///
/// An unknown key is rejected with serde's "unknown field `x`, expected one of …" message, which
/// lists the optimiser's keys and then `clip_norm`, `clip_norm_type`, `clip_value` and `schedule`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OptimSpec {
    /// The update rule and its parameters.
    pub optimizer: OptimizerSpec,
    /// When set, [`clip_grad_norm`] with this `max_norm` before each step (> 0).
    pub clip_norm: Option<f64>,
    /// The p of `clip_norm`'s norm ([`clip_grad_norm_type`]'s `norm_type`, PyTorch's name):
    /// above 0, or `inf` for the largest |g|; `None` is 2, the L2 norm. Only with `clip_norm`.
    pub clip_norm_type: Option<f64>,
    /// When set, [`clip_grad_value`] with this bound before each step (> 0).
    pub clip_value: Option<f64>,
    /// When set, the lr of each epoch; `None` keeps the optimiser's lr.
    pub schedule: Option<LrScheduleSpec>,
}

const OWN_KEYS: &[&str] = &["clip_norm", "clip_norm_type", "clip_value", "schedule"];

impl OptimSpec {
    /// A scheduler at epoch 0 for this optimiser's lr and schedule.
    pub fn scheduler(&self) -> LrScheduler {
        LrScheduler::new(self.optimizer.lr(), self.schedule.as_ref())
    }

    /// Applies the configured clipping to `grads`: `clip_value` first, then `clip_norm`. Returns
    /// the gradients' norm (of `clip_norm_type`) before norm clipping when `clip_norm` is set.
    pub fn clip_grads<F: Element>(&self, grads: &mut [F]) -> Option<f64> {
        if let Some(v) = self.clip_value {
            clip_grad_value(grads, v);
        }
        self.clip_norm.map(|max_norm| clip_grad_norm_type(grads, max_norm, self.clip_norm_type.unwrap_or(2.0)))
    }
}

impl Serialize for OptimSpec {
    /// One flat table: `kind`, the optimiser's parameters, `clip_norm` and `clip_value` when set,
    /// and `schedule` as a sub-table when set.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Flat<'a> {
            #[serde(flatten)]
            optimizer: AsTable<'a>,
            #[serde(skip_serializing_if = "Option::is_none")]
            clip_norm: Option<f64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            clip_norm_type: Option<f64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            clip_value: Option<f64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            schedule: Option<&'a LrScheduleSpec>,
        }
        struct AsTable<'a>(&'a OptimizerSpec);
        impl Serialize for AsTable<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                self.0.serialize_table(s)
            }
        }
        let flat = Flat {
            optimizer: AsTable(&self.optimizer),
            clip_norm: self.clip_norm,
            clip_norm_type: self.clip_norm_type,
            clip_value: self.clip_value,
            schedule: self.schedule.as_ref(),
        };
        flat.serialize(s)
    }
}

impl<'de> Deserialize<'de> for OptimSpec {
    /// A flat table (`kind`, the optimiser's keys, `clip_norm`, `clip_norm_type`, `clip_value`, `schedule`) or a
    /// bare optimiser name.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = OptimSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "an optimiser name (one of {}) or a table with `kind`", OptimizerSpec::NAMES.join(", "))
            }
            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<OptimSpec, E> {
                let name: serde::de::value::StrDeserializer<E> = serde::de::IntoDeserializer::into_deserializer(name);
                Ok(OptimSpec { optimizer: OptimizerSpec::deserialize(name)?, ..OptimSpec::default() })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<OptimSpec, A::Error> {
                let (mut clip_norm, mut clip_norm_type, mut clip_value, mut schedule) = (None, None, None, None);
                let optimizer = table::read(map, OWN_KEYS, |key, map: &mut A| {
                    match key {
                        "clip_norm" => clip_norm = Some(map.next_value()?),
                        "clip_norm_type" => clip_norm_type = Some(map.next_value()?),
                        "clip_value" => clip_value = Some(map.next_value()?),
                        "schedule" => schedule = Some(map.next_value()?),
                        _ => return Ok(false),
                    }
                    Ok(true)
                })?;
                Ok(OptimSpec { optimizer, clip_norm, clip_norm_type, clip_value, schedule })
            }
        }
        d.deserialize_any(V)
    }
}

impl Validate for OptimSpec {
    fn validate(&self) -> Result<(), SpecError> {
        self.optimizer.validate()?;
        if let Some(v) = self.clip_norm {
            positive("clip_norm", v)?;
        }
        if let Some(p) = self.clip_norm_type {
            if !clip::is_norm_type(p) {
                return Err(SpecError::new("clip_norm_type", clip::NORM_TYPE_RANGE.replace("{}", &p.to_string())));
            }
            if self.clip_norm.is_none() {
                return Err(SpecError::new("clip_norm_type", "is the norm of `clip_norm`, which is not set"));
            }
        }
        if let Some(v) = self.clip_value {
            positive("clip_value", v)?;
        }
        if let Some(schedule) = &self.schedule {
            schedule.validate().map_err(|e| e.within("schedule"))?;
        }
        Ok(())
    }
}

/// ATen's `lerp` (PyTorch's `m.lerp_(g, w)`, the moment update of its newer Adam variants):
/// `start + w·(end − start)` for |w| < 0.5, else `end − (end − start)·(1 − w)`.
#[inline]
pub(crate) fn lerp<F: Element>(start: F, end: F, weight: F) -> F {
    if weight.abs() < F::of(0.5) { start + weight * (end - start) } else { end - (end - start) * (F::one() - weight) }
}

/// The checks of Adam's family (`adam`, `adamw`, `nadam`, `radam`, `adamax`), as PyTorch makes
/// them but for 0 (refused): `lr` > 0, each of `betas` in [0, 1), `eps` > 0, `weight_decay` ≥ 0.
pub(crate) fn validate_adam_family(lr: f64, betas: [f64; 2], eps: f64, weight_decay: f64) -> Result<(), SpecError> {
    positive("lr", lr)?;
    beta("betas[0]", betas[0])?;
    beta("betas[1]", betas[1])?;
    positive("eps", eps)?;
    non_negative("weight_decay", weight_decay)
}

/// Fails with `key` unless `value` is finite and `≥ 0`.
pub(crate) fn non_negative(key: &str, value: f64) -> Result<(), SpecError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(SpecError::new(key, format!("must be a finite number ≥ 0, got {value}")))
    }
}

/// Fails with `key` unless `value` is in `[0, 1)` (a decay rate: Adam's betas, RMSprop's alpha).
pub(crate) fn beta(key: &str, value: f64) -> Result<(), SpecError> {
    if (0.0..1.0).contains(&value) {
        Ok(())
    } else {
        Err(SpecError::new(key, format!("must be in [0, 1), got {value}")))
    }
}

/// Fails with `key` unless `value` is in `[0, 1]`.
pub(crate) fn unit_interval(key: &str, value: f64) -> Result<(), SpecError> {
    backprop_tensor::spec::in_range(key, value, 0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> Result<OptimSpec, String> {
        toml::from_str::<OptimSpec>(src).map_err(|e| e.message().to_string())
    }

    #[test]
    fn flat_table_round_trips_through_toml() {
        let src = "kind = \"adam\"\nlr = 0.01\nbetas = [0.8, 0.99]\namsgrad = true\nclip_norm = 1.5\nclip_value = 3\n\
                   [schedule]\nkind = \"step\"\nstep_size = 30\nwarmup_epochs = 5\n";
        let spec = parse(src).unwrap();
        let want_adam = Adam { lr: 0.01, betas: [0.8, 0.99], amsgrad: true, ..Adam::default() };
        assert_eq!(spec.optimizer, OptimizerSpec::Adam(want_adam));
        assert_eq!((spec.clip_norm, spec.clip_value), (Some(1.5), Some(3.0)));
        let schedule = spec.schedule.as_ref().unwrap();
        assert_eq!(schedule.schedule, ScheduleSpec::Step(StepLr { step_size: 30, gamma: 0.1 }));
        assert_eq!((schedule.warmup_epochs, schedule.warmup_start_factor), (5, 1.0 / 3.0));
        assert!(spec.validate().is_ok());

        let written = toml::to_string(&spec).unwrap();
        assert!(written.starts_with("kind = \"adam\"\n"), "{written}");
        assert!(written.contains("\n[schedule]\nkind = \"step\"\n"), "{written}");
        assert_eq!(parse(&written).unwrap(), spec, "{written}");
    }

    #[test]
    fn defaults_write_kind_only_and_read_back() {
        for &name in OptimizerSpec::NAMES {
            let spec = OptimSpec { optimizer: OptimizerSpec::from_name(name).unwrap(), ..OptimSpec::default() };
            let written = toml::to_string(&spec).unwrap();
            assert!(written.starts_with(&format!("kind = \"{name}\"\n")), "{written}");
            assert!(!written.contains("clip") && !written.contains("schedule"), "{written}");
            // Flags added later are left out at false: configs resolved before them match.
            assert!(!written.contains("maximize") && !written.contains("decoupled"), "{written}");
            assert_eq!(parse(&written).unwrap(), spec);
            assert_eq!(parse(&format!("kind = \"{name}\"")).unwrap(), spec);
            assert!(spec.validate().is_ok(), "{name}");
        }
        let constant = OptimSpec { schedule: Some(LrScheduleSpec::default()), ..OptimSpec::default() };
        let written = toml::to_string(&constant).unwrap();
        assert!(written.ends_with("[schedule]\nkind = \"constant\"\n"), "{written}");
        assert_eq!(parse(&written).unwrap(), constant);
        let ascending = OptimSpec {
            optimizer: OptimizerSpec::Sgd(Sgd { maximize: true, ..Sgd::default() }),
            ..OptimSpec::default()
        };
        let written = toml::to_string(&ascending).unwrap();
        assert!(written.contains("maximize = true"), "{written}");
        assert_eq!(parse(&written).unwrap(), ascending);
    }

    /// A state the steps left passes; a sum of squares made negative, or any value made NaN, does
    /// not; a first moment or momentum may be negative.
    #[test]
    fn states_the_steps_leave_pass_and_broken_ones_do_not() {
        let optimizers: Vec<(OptimizerSpec, &[usize], &[usize])> = vec![
            (OptimizerSpec::Sgd(Sgd { momentum: 0.9, ..Sgd::default() }), &[], &[0, 1, 2]),
            (OptimizerSpec::Adam(Adam { amsgrad: true, ..Adam::default() }), &[3, 4, 5, 6, 7, 8], &[0, 1, 2]),
            (OptimizerSpec::AdamW(AdamW::default()), &[3, 4, 5], &[0, 1, 2]),
            (
                OptimizerSpec::RmsProp(RmsProp { centered: true, momentum: 0.5, ..RmsProp::default() }),
                &[0, 1, 2],
                &[3, 4, 5, 6, 7, 8],
            ),
            (OptimizerSpec::Adagrad(Adagrad::default()), &[0, 1, 2], &[]),
            (OptimizerSpec::NAdam(NAdam::default()), &[3, 4, 5, 6], &[0, 1, 2]),
            (OptimizerSpec::RAdam(RAdam::default()), &[3, 4, 5], &[0, 1, 2]),
            (OptimizerSpec::Adamax(Adamax::default()), &[3, 4, 5], &[0, 1, 2]),
            (OptimizerSpec::Adadelta(Adadelta::default()), &[0, 1, 2, 3, 4, 5], &[]),
        ];
        // A new optimiser's state needs its line above (which values must be ≥ 0).
        for name in OptimizerSpec::NAMES {
            assert!(optimizers.iter().any(|(s, ..)| s.name() == *name), "no state check of `{name}`");
        }
        for (spec, squares, signed) in optimizers {
            let opt = spec.get::<f64>();
            let mut state = vec![0.0; opt.state_len(3)];
            let mut params = [0.5, -1.0, 2.0];
            for (step, grads) in [[0.3, -1.2, 0.5], [-0.1, 0.8, -0.4]].iter().enumerate() {
                opt.step(&mut params, grads, &mut state, step as u64 + 1, 0.1);
            }
            assert!(opt.check_state(&state).is_ok(), "{spec:?}: {state:?}");
            for &i in squares {
                let mut broken = state.clone();
                broken[i] = -1e-3;
                assert!(opt.check_state(&broken).unwrap_err().contains("negative"), "{spec:?} [{i}]");
            }
            for &i in signed {
                let mut negative = state.clone();
                negative[i] = -1e-3;
                assert!(opt.check_state(&negative).is_ok(), "{spec:?} [{i}] may be negative");
            }
            if let Some(first) = state.first().copied() {
                let mut nan = state.clone();
                nan[0] = f64::NAN;
                assert!(opt.check_state(&nan).unwrap_err().contains("not finite"), "{spec:?} {first}");
            }
        }
    }

    #[test]
    fn unknown_keys_name_the_optimiser_fields_and_ours() {
        let err = parse("kind = \"sgd\"\nmomentun = 0.9\n").unwrap_err();
        assert_eq!(
            err,
            "unknown field `momentun`, expected one of `lr`, `momentum`, `dampening`, `weight_decay`, `nesterov`, \
             `maximize`, `clip_norm`, `clip_norm_type`, `clip_value`, `schedule`"
        );
        let err = parse("kind = \"adam\"\nclip_nrom = 1.0\n").unwrap_err();
        assert!(err.starts_with("unknown field `clip_nrom`, expected one of `lr`, `betas`"), "{err}");
        let err = parse("kind = \"sgd\"\n[schedule]\nkind = \"step\"\nstep_size = 3\ngama = 0.5\n").unwrap_err();
        assert_eq!(
            err,
            "unknown field `gama`, expected one of `step_size`, `gamma`, `warmup_epochs`, `warmup_start_factor`"
        );
        let err = parse("kind = \"sgd\"\n[schedule]\nkind = \"constant\"\nx = 1\n").unwrap_err();
        assert_eq!(err, "unknown field `x`, expected `warmup_epochs` or `warmup_start_factor`");
        let err = parse("kind = \"sgd\"\n[schedule]\nkind = \"step\"\n").unwrap_err();
        assert_eq!(err, "missing field `step_size`");
        let err = parse("kind = \"sgd\"\nclip_norm = \"big\"\n").unwrap_err();
        assert!(err.starts_with("invalid type: string \"big\""), "{err}");
        let err = parse("kind = \"adamm\"\n").unwrap_err();
        assert!(err.contains("unknown variant `adamm`, expected one of `sgd`, `adam`"), "{err}");
    }

    #[test]
    fn validation_prefixes_schedule_keys() {
        let spec = parse("kind = \"sgd\"\nclip_norm = 0\n").unwrap();
        assert_eq!(spec.validate().unwrap_err().key, "clip_norm");
        for (p, shown) in [("0", "0"), ("-1", "-1"), ("nan", "NaN"), ("-inf", "-inf")] {
            let spec = parse(&format!("kind = \"sgd\"\nclip_norm = 1\nclip_norm_type = {p}\n")).unwrap();
            let e = spec.validate().unwrap_err();
            assert_eq!(e.key, "clip_norm_type");
            assert_eq!(e.message, format!("must be a number above 0 (inf: the largest |g|), got {shown}"));
        }
        let spec = parse("kind = \"sgd\"\nclip_norm_type = 1\n").unwrap();
        assert_eq!(
            spec.validate().unwrap_err().to_string(),
            "invalid value for `clip_norm_type`: is the norm of `clip_norm`, which is not set"
        );
        for p in ["0.5", "1", "3", "inf"] {
            let spec = parse(&format!("kind = \"sgd\"\nclip_norm = 1\nclip_norm_type = {p}\n")).unwrap();
            assert_eq!(spec.validate(), Ok(()), "{p}");
            let written = toml::to_string(&spec).unwrap();
            assert!(written.contains("clip_norm_type = "), "{written}");
            assert_eq!(parse(&written).unwrap(), spec);
        }
        let spec = parse("kind = \"sgd\"\n[schedule]\nkind = \"cosine\"\nt_max = 0\n").unwrap();
        assert_eq!(spec.validate().unwrap_err().key, "schedule.t_max");
        let spec = parse("kind = \"adam\"\nbetas = [0.9, 1.0]\n").unwrap();
        assert_eq!(spec.validate().unwrap_err().key, "betas[1]");
    }

    #[test]
    fn clip_grads_applies_value_then_norm() {
        let spec = OptimSpec { clip_value: Some(4.0), clip_norm: Some(1.0), ..OptimSpec::default() };
        let mut g = [3.0f64, -40.0];
        assert_eq!(spec.clip_grads(&mut g), Some(5.0));
        assert!((g[0] - 0.6).abs() < 1e-6 && (g[1] + 0.8).abs() < 1e-6, "{g:?}");
        assert_eq!(OptimSpec::default().clip_grads(&mut g), None);
    }

    #[test]
    fn scheduler_starts_from_the_optimiser_lr() {
        let spec = parse("kind = \"adam\"\nlr = 0.2\nschedule = \"constant\"\n").unwrap();
        assert_eq!(spec.scheduler().lr(), 0.2);
        assert_eq!(spec.optimizer.lr(), 0.2);
    }
}
