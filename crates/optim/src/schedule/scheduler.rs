//! The `[optim.schedule]` table ([`LrScheduleSpec`]: a schedule plus an optional linear
//! warm-up) and the runtime [`LrScheduler`] a trainer steps once per epoch.
//!
//! [`LrScheduler`] is plain data (serde), so a checkpoint can save it and a resumed run goes on
//! with the same lr sequence. It holds the spec it was built from, the base lr, the number of
//! epochs stepped, and the [`ScheduleState`].

use backprop_tensor::{SpecError, Validate};
use serde::{Deserialize, Serialize};

use super::{ScheduleSpec, ScheduleState};
use crate::table;

/// The `[optim.schedule]` table: the schedule (`kind` and its parameters) and a warm-up.
///
/// ```toml
/// [optim.schedule]
/// kind = "cosine"
/// t_max = 100
/// warmup_epochs = 5
/// warmup_start_factor = 0.1
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct LrScheduleSpec {
    /// The schedule and its parameters.
    pub schedule: ScheduleSpec,
    /// Epochs of linear warm-up before the schedule starts (default 0: none).
    pub warmup_epochs: u64,
    /// The first warm-up epoch's lr as a fraction of the base lr, in (0, 1] (default 1/3,
    /// PyTorch `LinearLR`'s `start_factor`).
    pub warmup_start_factor: f64,
}

const OWN_KEYS: &[&str] = &["warmup_epochs", "warmup_start_factor"];
const DEFAULT_WARMUP_START_FACTOR: f64 = 1.0 / 3.0;

impl LrScheduleSpec {
    /// `schedule` with no warm-up.
    pub fn new(schedule: ScheduleSpec) -> Self {
        LrScheduleSpec { schedule, warmup_epochs: 0, warmup_start_factor: DEFAULT_WARMUP_START_FACTOR }
    }
}

impl Default for LrScheduleSpec {
    /// `constant`, no warm-up.
    fn default() -> Self {
        LrScheduleSpec::new(ScheduleSpec::default())
    }
}

impl Validate for LrScheduleSpec {
    fn validate(&self) -> Result<(), SpecError> {
        self.schedule.validate()?;
        let s = self.warmup_start_factor;
        if !(s.is_finite() && s > 0.0 && s <= 1.0) {
            return Err(SpecError::new("warmup_start_factor", format!("must be in (0, 1], got {s}")));
        }
        Ok(())
    }
}

impl Serialize for LrScheduleSpec {
    /// One flat table: `kind`, the schedule's parameters, then the warm-up keys that differ
    /// from their defaults.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Flat<'a> {
            #[serde(flatten)]
            schedule: AsTable<'a>,
            #[serde(skip_serializing_if = "is_zero")]
            warmup_epochs: u64,
            #[serde(skip_serializing_if = "is_default_start_factor")]
            warmup_start_factor: f64,
        }
        struct AsTable<'a>(&'a ScheduleSpec);
        impl Serialize for AsTable<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                self.0.serialize_table(s)
            }
        }
        fn is_zero(n: &u64) -> bool {
            *n == 0
        }
        fn is_default_start_factor(x: &f64) -> bool {
            *x == DEFAULT_WARMUP_START_FACTOR
        }
        let flat = Flat {
            schedule: AsTable(&self.schedule),
            warmup_epochs: self.warmup_epochs,
            warmup_start_factor: self.warmup_start_factor,
        };
        flat.serialize(s)
    }
}

impl<'de> Deserialize<'de> for LrScheduleSpec {
    /// A flat table (`kind`, the schedule's keys, the warm-up keys) or a bare name.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = LrScheduleSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "a schedule name (one of {}) or a table with `kind`", ScheduleSpec::NAMES.join(", "))
            }
            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<LrScheduleSpec, E> {
                let name: serde::de::value::StrDeserializer<E> = serde::de::IntoDeserializer::into_deserializer(name);
                ScheduleSpec::deserialize(name).map(LrScheduleSpec::new)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<LrScheduleSpec, A::Error> {
                let mut warmup_epochs = None;
                let mut warmup_start_factor = None;
                let schedule = table::read(map, OWN_KEYS, |key, map: &mut A| {
                    match key {
                        "warmup_epochs" => warmup_epochs = Some(map.next_value()?),
                        "warmup_start_factor" => warmup_start_factor = Some(map.next_value()?),
                        _ => return Ok(false),
                    }
                    Ok(true)
                })?;
                Ok(LrScheduleSpec {
                    schedule,
                    warmup_epochs: warmup_epochs.unwrap_or(0),
                    warmup_start_factor: warmup_start_factor.unwrap_or(DEFAULT_WARMUP_START_FACTOR),
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// The lr of each epoch, stepped once per epoch by the trainer.
///
/// ```
/// use backprop_optim::{LrScheduleSpec, LrScheduler, ScheduleSpec, StepLr};
///
/// let spec = LrScheduleSpec { warmup_epochs: 2, ..LrScheduleSpec::new(ScheduleSpec::Step(StepLr { step_size: 2, gamma: 0.5 })) };
/// let mut sched = LrScheduler::new(0.3, Some(&spec));
/// let mut lrs = Vec::new();
/// for _epoch in 0..6 {
///     lrs.push(sched.lr()); // every optimiser step of this epoch uses this lr
///     sched.step(0.0); // after the epoch, with its cost
/// }
/// // Warm-up 0.1 → 0.2 (start factor 1/3), then StepLR from the base lr.
/// let want = [0.1, 0.2, 0.3, 0.3, 0.15, 0.15];
/// assert!(lrs.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-15), "{lrs:?}");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LrScheduler {
    base_lr: f64,
    schedule: Option<LrScheduleSpec>,
    epoch: u64,
    state: ScheduleState,
}

impl LrScheduler {
    /// A scheduler at epoch 0 from the optimiser's `base_lr`; `None` keeps the lr constant.
    ///
    /// # Panics
    /// When `schedule` fails its [`Validate`](backprop_tensor::Validate) check (a `step` with
    /// `step_size = 0`, its default, would divide by zero; a cosine with `t_max = 0` gives NaN
    /// learning rates), with the key and the reason: a config's schedule is checked before it
    /// gets here, one made in code should be too.
    pub fn new(base_lr: f64, schedule: Option<&LrScheduleSpec>) -> Self {
        if let Some(spec) = schedule
            && let Err(e) = backprop_tensor::Validate::validate(spec)
        {
            panic!("LrScheduler::new: invalid schedule: `{}`: {}", e.key, e.message);
        }
        let mut state = ScheduleState::new(base_lr);
        if let Some(spec) = schedule {
            spec.schedule.get().step(&mut state, base_lr, None);
        }
        LrScheduler { base_lr, schedule: schedule.cloned(), epoch: 0, state }
    }

    /// The lr of the coming epoch (epoch [`epoch`](Self::epoch), counting from 0).
    pub fn lr(&self) -> f64 {
        match &self.schedule {
            Some(spec) if self.epoch < spec.warmup_epochs => {
                let s = spec.warmup_start_factor;
                self.base_lr * (s + (1.0 - s) * self.epoch as f64 / spec.warmup_epochs as f64)
            }
            _ => self.state.lr,
        }
    }

    /// Ends an epoch whose monitored cost was `monitored_cost` (only `reduce_on_plateau` uses it;
    /// warm-up epochs' costs are ignored).
    pub fn step(&mut self, monitored_cost: f64) {
        self.epoch += 1;
        let Some(spec) = &self.schedule else { return };
        if self.epoch <= spec.warmup_epochs {
            return;
        }
        self.state.epoch += 1;
        spec.schedule.get().step(&mut self.state, self.base_lr, Some(monitored_cost));
    }

    /// Epochs stepped so far, warm-up included.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The optimiser's configured lr the schedule scales.
    pub fn base_lr(&self) -> f64 {
        self.base_lr
    }

    /// The schedule it follows (`None`: constant).
    pub fn schedule(&self) -> Option<&LrScheduleSpec> {
        self.schedule.as_ref()
    }

    /// Whether this scheduler, read back from a file (a checkpoint), is one its schedule reaches
    /// at its epoch: a valid schedule; for a schedule of the epoch alone, the scheduler a fresh
    /// one is after as many epochs, every field to the bit (up to [`CHECKED_EPOCHS`] epochs,
    /// stepped here; past them, a finite lr ≥ 0 and the schedule's epoch behind by the
    /// warm-up); for `reduce_on_plateau`, whose lr follows the costs, that epoch, and an lr
    /// (the coming one, and the one it keeps through a warm-up) within `[min(min_lr, lr), lr]`.
    /// A hand-edited lr of 1e308 under a constant schedule trained at it.
    pub fn check(&self) -> Result<(), String> {
        if let Some(spec) = &self.schedule {
            backprop_tensor::Validate::validate(spec).map_err(|e| format!("`{}`: {}", e.key, e.message))?;
        }
        // The lr the schedule keeps (the coming one, or the one a warm-up hands on to): the
        // warm-up's own ramp is computed from the base lr, and needs no check.
        let (lr, kept) = (self.lr(), self.state.lr);
        if !(kept.is_finite() && kept >= 0.0) {
            return Err(format!("lr {lr} (kept {kept}) at epoch {} is not a finite number ≥ 0", self.epoch));
        }
        let warmup = self.schedule.as_ref().map_or(0, |s| s.warmup_epochs);
        if self.schedule.is_some() && self.state.epoch != self.epoch.saturating_sub(warmup) {
            return Err(format!(
                "its schedule is at epoch {} after {} epochs, {warmup} of them warm-up",
                self.state.epoch, self.epoch
            ));
        }
        match self.schedule.as_ref().map(|s| &s.schedule) {
            Some(super::ScheduleSpec::ReduceOnPlateau(p)) => {
                let floor = p.min_lr.min(self.base_lr);
                if !(floor..=self.base_lr).contains(&kept) {
                    return Err(format!(
                        "lr {lr:e} (kept {kept:e}) at epoch {} is outside [{floor:e}, {:e}], where reduce_on_plateau \
                         keeps it",
                        self.epoch, self.base_lr
                    ));
                }
            }
            _ if self.epoch <= CHECKED_EPOCHS => {
                let mut fresh = LrScheduler::new(self.base_lr, self.schedule.as_ref());
                for _ in 0..self.epoch {
                    fresh.step(0.0);
                }
                if fresh != *self {
                    return Err(format!(
                        "lr {lr:e} (kept {kept:e}) at epoch {}, where the schedule gives {:e} (kept {:e})",
                        self.epoch,
                        fresh.lr(),
                        fresh.state.lr
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// The most epochs [`LrScheduler::check`] steps a fresh scheduler through (a few milliseconds).
pub const CHECKED_EPOCHS: u64 = 1 << 20;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::{ExponentialLr, ReduceLrOnPlateau};

    /// Every state a run reaches passes `check`, after a JSON round trip as a checkpoint makes
    /// it, whatever the schedule (the plateau's lr following the costs); an lr edited in does
    /// not.
    #[test]
    fn check_passes_every_state_a_run_reaches_and_no_edited_lr() {
        let specs = [
            "kind = \"constant\"",
            "kind = \"step\"\nstep_size = 3\ngamma = 0.5\nwarmup_epochs = 2",
            "kind = \"multistep\"\nmilestones = [2, 5]",
            "kind = \"exponential\"\ngamma = 0.9",
            "kind = \"cosine\"\nt_max = 7\neta_min = 0.01\nwarmup_epochs = 3\nwarmup_start_factor = 0.1",
            // A warm-up ramp that starts below min_lr: the ramp's lr is no plateau's.
            "kind = \"reduce_on_plateau\"\npatience = 1\nfactor = 0.5\nmin_lr = 0.02\nwarmup_epochs = 2\nwarmup_start_factor = 0.1",
        ];
        for text in specs {
            let spec: LrScheduleSpec = toml::from_str(text).unwrap();
            let mut sched = LrScheduler::new(0.1, Some(&spec));
            for e in 0..30 {
                let read: LrScheduler = serde_json::from_str(&serde_json::to_string(&sched).unwrap()).unwrap();
                assert_eq!(read.check(), Ok(()), "{text}: epoch {e}");
                let mut edited = serde_json::to_value(&sched).unwrap();
                edited["state"]["lr"] = 1e308.into();
                let edited: LrScheduler = serde_json::from_value(edited).unwrap();
                // In warm-up too, where the lr kept for after it is not the coming one.
                assert!(edited.check().is_err(), "{text}: an lr of 1e308 at epoch {e}");
                let mut behind = serde_json::to_value(&sched).unwrap();
                behind["state"]["epoch"] = (e + 7).into();
                let behind: LrScheduler = serde_json::from_value(behind).unwrap();
                assert!(behind.check().unwrap_err().contains("its schedule is at epoch"), "{text}: epoch {e}");
                // A cost that improves for a few epochs, then stalls: the plateau cuts its lr
                // down to `min_lr`, and stays there.
                sched.step(if e < 5 { 1.0 / (e + 1) as f64 } else { 1.0 });
            }
            if let Some(super::super::ScheduleSpec::ReduceOnPlateau(p)) = sched.schedule().map(|s| &s.schedule) {
                assert_eq!(sched.lr(), p.min_lr, "{text}: the floor reached, and passed above");
            }
        }
        // After warm-up, a plateau's lr below its floor is refused; during warm-up the ramp's
        // lr is the warm-up's own.
        let plateau: LrScheduleSpec =
            toml::from_str("kind = \"reduce_on_plateau\"\nmin_lr = 0.02\nwarmup_epochs = 2").unwrap();
        let mut sched = LrScheduler::new(0.1, Some(&plateau));
        for _ in 0..5 {
            sched.step(1.0);
        }
        let mut edited = serde_json::to_value(&sched).unwrap();
        edited["state"]["lr"] = 0.01.into();
        let edited: LrScheduler = serde_json::from_value(edited).unwrap();
        assert!(edited.check().unwrap_err().contains("outside [2e-2, 1e-1]"), "{:?}", edited.check());
        // A schedule that fails its own check is an error, not the panic of building a fresh
        // scheduler for it.
        let step: LrScheduleSpec = toml::from_str("kind = \"step\"\nstep_size = 2").unwrap();
        let mut invalid = serde_json::to_value(LrScheduler::new(0.1, Some(&step))).unwrap();
        invalid["schedule"]["step_size"] = 0.into();
        let invalid: LrScheduler = serde_json::from_value(invalid).unwrap();
        assert!(invalid.check().unwrap_err().starts_with("`step_size`"), "{:?}", invalid.check());
        // An epoch past CHECKED_EPOCHS is not stepped through (it would take hours): its lr
        // only needs to be finite and ≥ 0.
        let mut far = serde_json::to_value(LrScheduler::new(0.1, None)).unwrap();
        far["epoch"] = (1u64 << 50).into();
        let far: LrScheduler = serde_json::from_value(far.clone()).unwrap();
        assert_eq!(far.check(), Ok(()));
        let mut below = serde_json::to_value(&far).unwrap();
        below["state"]["lr"] = (-1.0).into();
        let below: LrScheduler = serde_json::from_value(below).unwrap();
        assert!(below.check().unwrap_err().contains("is not a finite number ≥ 0"), "{:?}", below.check());
        let plateau: LrScheduleSpec = toml::from_str("kind = \"reduce_on_plateau\"\nmin_lr = 0.02").unwrap();
        let mut low = serde_json::to_value(LrScheduler::new(0.1, Some(&plateau))).unwrap();
        low["state"]["lr"] = 0.01.into();
        let low: LrScheduler = serde_json::from_value(low).unwrap();
        assert!(low.check().unwrap_err().contains("outside [2e-2, 1e-1]"), "{:?}", low.check());
    }

    /// The warm-up keys are written when they differ from their defaults, and read back.
    #[test]
    fn warm_up_keys_round_trip_through_toml() {
        let spec: LrScheduleSpec =
            toml::from_str("kind = \"cosine\"\nt_max = 5\nwarmup_epochs = 2\nwarmup_start_factor = 0.5").unwrap();
        assert_eq!((spec.warmup_epochs, spec.warmup_start_factor), (2, 0.5));
        let text = toml::to_string(&spec).unwrap();
        assert!(text.contains("warmup_epochs = 2") && text.contains("warmup_start_factor = 0.5"), "{text}");
        assert_eq!(toml::from_str::<LrScheduleSpec>(&text).unwrap(), spec);
        let plain: LrScheduleSpec = toml::from_str("kind = \"cosine\"\nt_max = 5").unwrap();
        let text = toml::to_string(&plain).unwrap();
        assert!(!text.contains("warmup"), "defaults are left out: {text}");
        assert_eq!(toml::from_str::<LrScheduleSpec>(&text).unwrap(), plain);
    }

    /// `schedule = "constant"` is that schedule with its defaults and no warm-up.
    #[test]
    fn a_bare_name_is_that_schedule() {
        #[derive(Debug, Deserialize)]
        struct Doc {
            schedule: LrScheduleSpec,
        }
        let named: Doc = toml::from_str("schedule = \"constant\"").unwrap();
        assert_eq!(named.schedule, LrScheduleSpec::new(ScheduleSpec::Constant(crate::schedule::Constant {})));
        // A schedule whose parameter has no default needs the table.
        let err = toml::from_str::<Doc>("schedule = \"exponential\"").unwrap_err().to_string();
        assert!(err.contains("missing field `gamma`"), "{err}");
        let err = toml::from_str::<Doc>("schedule = 3").unwrap_err().to_string();
        assert!(err.contains("a schedule name (one of constant, step, multistep,"), "{err}");
    }

    #[test]
    fn no_schedule_is_constant() {
        let mut s = LrScheduler::new(0.5, None);
        for _ in 0..3 {
            assert_eq!(s.lr(), 0.5);
            s.step(1.0);
        }
        assert_eq!(s.epoch(), 3);
    }

    #[test]
    fn plateau_after_warm_up_ignores_warm_up_costs() {
        let plateau = ReduceLrOnPlateau { patience: 0, ..ReduceLrOnPlateau::default() };
        let spec = LrScheduleSpec { warmup_epochs: 2, ..LrScheduleSpec::new(ScheduleSpec::ReduceOnPlateau(plateau)) };
        let mut s = LrScheduler::new(1.0, Some(&spec));
        // Warm-up costs 0 would be "best" and make 5 a bad epoch if they were seen.
        for cost in [0.0, 0.0, 5.0] {
            s.step(cost);
        }
        assert_eq!(s.lr(), 1.0);
        s.step(5.0);
        assert!((s.lr() - 0.1).abs() < 1e-15);
    }

    #[test]
    fn state_round_trips_through_json_mid_run() {
        let spec = LrScheduleSpec::new(ScheduleSpec::Exponential(ExponentialLr { gamma: 0.5 }));
        let mut s = LrScheduler::new(1.0, Some(&spec));
        s.step(0.0);
        let mut back: LrScheduler = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
        back.step(0.0);
        assert_eq!(back.lr(), 0.25);
    }

    #[test]
    fn warm_up_start_factor_must_be_in_zero_one() {
        let spec = LrScheduleSpec { warmup_start_factor: 0.0, ..LrScheduleSpec::default() };
        assert_eq!(spec.validate().unwrap_err().key, "warmup_start_factor");
    }
}
