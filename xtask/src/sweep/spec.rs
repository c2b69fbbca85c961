//! The `[sweep]` table of an experiment config: what a sweep varies, over how many seeds, and
//! what counts as a successful trial.
//!
//! ```toml
//! [sweep]
//! seeds = 100                      # every point with seed indices 0..100
//! seed = 7                         # the sweep seed (default: experiment.seed)
//! mode = "grid"                    # "grid" (default) or "random"
//! samples = 20                     # points drawn in random mode
//! grid = { "optim.lr" = [0.1, 0.5], "model.hidden" = [[2, 2], [3]] }
//! success = { metric = "final_cost", below = 0.01 }
//! ```
//!
//! Parsing checks types and ranges and names the offending key (`sweep.grid."optim.lr"`);
//! whether a grid key is a config key, and whether its values fit it, is checked by loading
//! every point's config (see `plan`).

use backprop_tensor::SpecError;
use backprop_tensor::rng::{SeededRng, unit};
use serde::{Deserialize, Serialize};

/// The keys a `[sweep]` table may hold.
pub const SWEEP_KEYS: [&str; 6] = ["seeds", "seed", "mode", "samples", "grid", "success"];

/// The metrics of `summary.json` a success criterion may name. `r2`, `mse` and `mae` are the
/// regression report's (`report.regression`, on the test split, else validation, else train), in
/// the targets' own units whatever `data.normalize_targets` says: the costs are in the scaled
/// targets' units with it, so a sweep over it compares these, not costs. `bit_accuracy` and
/// `exact_match` are that report's outputs read as bits, for 0/1 targets (a truth table).
pub const METRICS: [&str; 15] = [
    "final_cost",
    "best_cost",
    "initial_cost",
    "epochs_run",
    "train_seconds",
    "accuracy",
    "val_cost",
    "val_accuracy",
    "test_cost",
    "test_accuracy",
    "r2",
    "mse",
    "mae",
    "bit_accuracy",
    "exact_match",
];

/// The metrics of the regression report, not of `summary.json`'s top level.
pub const REPORT_METRICS: [&str; 5] = ["r2", "mse", "mae", "bit_accuracy", "exact_match"];

/// The metrics of the regression report's outputs read as bits (`report.regression.bits`),
/// each with its field there: measured only where every target is 0 or 1.
pub const BIT_METRICS: [(&str, &str); 2] = [("bit_accuracy", "accuracy"), ("exact_match", "exact_match")];

/// Whether `metric` is a fraction right, at most 1 and better higher: an accuracy (of classes
/// or of bits) or `exact_match`.
pub fn is_fraction_right(metric: &str) -> bool {
    metric.ends_with("accuracy") || metric == "exact_match"
}

/// Whether `metric` is a classification accuracy (`accuracy`, `val_accuracy`, `test_accuracy`).
pub fn is_class_accuracy(metric: &str) -> bool {
    metric.ends_with("accuracy") && !is_bit_metric(metric)
}

/// Whether `metric` is one of [`BIT_METRICS`].
pub fn is_bit_metric(metric: &str) -> bool {
    BIT_METRICS.iter().any(|(m, _)| *m == metric)
}

/// How the points of a sweep are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The cartesian product of the value lists.
    Grid,
    /// `samples` points, each key drawn independently from its range.
    Random,
}

/// The values one swept key takes.
#[derive(Clone, Debug, PartialEq)]
pub enum Axis {
    /// Each value in turn (grid), or one of them uniformly at random (random mode, `choice`).
    Values(Vec<toml::Value>),
    /// A float uniform in `[low, high)` (random mode only).
    Uniform(f64, f64),
    /// A float whose logarithm is uniform in `[ln low, ln high)` (random mode only).
    LogUniform(f64, f64),
}

impl Axis {
    /// One draw from `rng`: exactly one [`unit()`] value per call, so every key of every point
    /// draws the same number of values and the draws are the same on every platform.
    pub fn draw(&self, rng: &mut SeededRng) -> toml::Value {
        let u = unit(rng);
        match self {
            Axis::Values(vs) => vs[((u * vs.len() as f64) as usize).min(vs.len() - 1)].clone(),
            Axis::Uniform(lo, hi) => {
                let span = hi - lo;
                // A range wider than the largest double (both ends huge, of opposite signs) is
                // drawn at half scale, where its width is finite, and doubled back.
                let v = if span.is_finite() { lo + span * u } else { 2.0 * (lo / 2.0 + (hi / 2.0 - lo / 2.0) * u) };
                toml::Value::Float(v)
            }
            Axis::LogUniform(lo, hi) => {
                let (a, b) = (libm::log(*lo), libm::log(*hi));
                toml::Value::Float(libm::exp(a + (b - a) * u).clamp(*lo, *hi))
            }
        }
    }
}

/// When a trial counts as a success: its `metric` (a field of `summary.json`) is below `below`
/// and above `above` (each strict, each optional). With neither, every trial that completed
/// (status `ok`) is a success.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Success {
    /// The field of `summary.json`.
    pub metric: String,
    /// Success needs `metric < below`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub below: Option<f64>,
    /// Success needs `metric > above`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub above: Option<f64>,
}

impl Default for Success {
    fn default() -> Self {
        Success { metric: "final_cost".into(), below: None, above: None }
    }
}

impl Success {
    /// Whether a trial of status `ok` with this metric value succeeded.
    pub fn is_met(&self, value: Option<f64>) -> bool {
        match value {
            Some(v) if v.is_finite() => self.below.is_none_or(|b| v < b) && self.above.is_none_or(|a| v > a),
            _ => self.below.is_none() && self.above.is_none(),
        }
    }

    /// Whether larger values of the metric are better (`above` given, or an accuracy or R²).
    pub fn higher_is_better(&self) -> bool {
        match (self.below, self.above) {
            (Some(_), None) => false,
            (None, Some(_)) => true,
            _ => is_fraction_right(&self.metric) || self.metric == "r2",
        }
    }

    /// `final_cost < 0.01`, for headings.
    pub fn describe(&self) -> String {
        match (self.below, self.above) {
            (Some(b), Some(a)) => format!("{a} < {} < {b}", self.metric),
            (Some(b), None) => format!("{} < {b}", self.metric),
            (None, Some(a)) => format!("{} > {a}", self.metric),
            (None, None) => format!("status ok (metric {})", self.metric),
        }
    }
}

/// A parsed `[sweep]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepSpec {
    /// Seed indices per point (`0..seeds`).
    pub seeds: u64,
    /// The sweep seed: trial seeds and random points derive from it.
    pub seed: u64,
    /// Grid or random.
    pub mode: Mode,
    /// Points drawn in random mode.
    pub samples: usize,
    /// The swept keys, in sorted order, with their values.
    pub axes: Vec<(String, Axis)>,
    /// What a successful trial is.
    pub success: Success,
}

impl SweepSpec {
    /// Parses `table` (the `[sweep]` table); `default_seed` is the base config's
    /// `experiment.seed`. Errors name the key (`sweep.seeds`, `sweep.grid."optim.lr"`).
    pub fn parse(table: &toml::Table, default_seed: u64) -> Result<SweepSpec, SpecError> {
        for key in table.keys() {
            if !SWEEP_KEYS.contains(&key.as_str()) {
                return Err(unknown("sweep", key, &SWEEP_KEYS));
            }
        }
        let seeds = match table.get("seeds") {
            None => 1,
            Some(v) => count("sweep.seeds", v)?,
        };
        let seed = match table.get("seed") {
            None => default_seed,
            Some(toml::Value::Integer(i)) if *i >= 0 => *i as u64,
            Some(v) => return Err(SpecError::new("sweep.seed", format!("must be an integer ≥ 0, got {v}"))),
        };
        let mode = match table.get("mode") {
            None => Mode::Grid,
            Some(toml::Value::String(s)) if s == "grid" => Mode::Grid,
            Some(toml::Value::String(s)) if s == "random" => Mode::Random,
            Some(v) => return Err(SpecError::new("sweep.mode", format!("must be \"grid\" or \"random\", got {v}"))),
        };
        let samples = match (mode, table.get("samples")) {
            (Mode::Random, Some(v)) => count("sweep.samples", v)? as usize,
            (Mode::Random, None) => {
                return Err(SpecError::new("sweep.samples", "mode = \"random\" needs `samples`, the number of points"));
            }
            (Mode::Grid, Some(_)) => {
                return Err(SpecError::new("sweep.samples", "is only used with mode = \"random\""));
            }
            (Mode::Grid, None) => 0,
        };
        let axes = match table.get("grid") {
            None => Vec::new(),
            Some(toml::Value::Table(grid)) => {
                let mut axes = Vec::with_capacity(grid.len());
                for (key, value) in grid {
                    // Each point becomes `--set key=value`: anything but a plain dotted key
                    // (a space, `=`, `#`) would set something else than it says.
                    let bare =
                        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b));
                    if !key.split('.').all(bare) {
                        return Err(SpecError::new(
                            grid_key(key),
                            "is not a dotted config key (parts of letters, digits, `_` and `-`, joined by `.`)",
                        ));
                    }
                    axes.push((key.clone(), axis(key, value, mode)?));
                }
                axes.sort_by(|a, b| a.0.cmp(&b.0));
                axes
            }
            Some(v) => {
                return Err(SpecError::new(
                    "sweep.grid",
                    format!("must be a table of dotted config keys to values, got {}", v.type_str()),
                ));
            }
        };
        let success = match table.get("success") {
            None => Success::default(),
            Some(toml::Value::Table(t)) => success(t)?,
            Some(v) => {
                return Err(SpecError::new(
                    "sweep.success",
                    format!("must be a table like {{ metric = \"final_cost\", below = 0.01 }}, got {}", v.type_str()),
                ));
            }
        };
        let points = match mode {
            Mode::Random => samples as u64,
            Mode::Grid => axes
                .iter()
                .try_fold(1u64, |n, (_, axis)| match axis {
                    Axis::Values(vs) => n.checked_mul(vs.len() as u64),
                    Axis::Uniform(..) | Axis::LogUniform(..) => Some(n),
                })
                .unwrap_or(u64::MAX),
        };
        let trials = points.saturating_mul(seeds);
        if trials > MAX_TRIALS {
            let (key, what) = match mode {
                Mode::Random if samples as u64 > MAX_TRIALS => ("sweep.samples", format!("{samples} points")),
                Mode::Grid if points == u64::MAX => ("sweep.grid", "more grid points than a 64-bit count holds".into()),
                Mode::Grid if points > MAX_TRIALS => ("sweep.grid", format!("{points} grid points")),
                _ => ("sweep.seeds", format!("{points} points × {seeds} seeds")),
            };
            return Err(SpecError::new(
                key,
                format!("{what} make more trials than a sweep takes ({MAX_TRIALS}); split it into several sweeps"),
            ));
        }
        Ok(SweepSpec { seeds, seed, mode, samples, axes, success })
    }
}

/// The most trials one sweep plans: a hundred thousand runs, each with its own directory (planning
/// checks every point against the config, about a millisecond each).
pub const MAX_TRIALS: u64 = 100_000;

/// `key` quoted as a TOML key inside `sweep.grid`.
pub fn grid_key(key: &str) -> String {
    format!("sweep.grid.\"{key}\"")
}

fn count(key: &str, v: &toml::Value) -> Result<u64, SpecError> {
    match v {
        toml::Value::Integer(i) if *i >= 1 => Ok(*i as u64),
        _ => Err(SpecError::new(key, format!("must be an integer ≥ 1, got {v}"))),
    }
}

/// Whether a grid's value for the whole `[experiment]` table sets `seed` (in a list of tables,
/// or a random `choice` of them).
fn holds_seed(value: &toml::Value) -> bool {
    match value {
        toml::Value::Table(t) => t.contains_key("seed") || t.get("choice").is_some_and(holds_seed),
        toml::Value::Array(items) => items.iter().any(holds_seed),
        _ => false,
    }
}

fn axis(key: &str, value: &toml::Value, mode: Mode) -> Result<Axis, SpecError> {
    let name = grid_key(key);
    if key.split('.').any(str::is_empty) {
        return Err(SpecError::new(name, "is not a dotted config key"));
    }
    if key == "sweep" || key.starts_with("sweep.") {
        return Err(SpecError::new(name, "a sweep cannot vary its own [sweep] table"));
    }
    if key == "experiment.seed" || (key == "experiment" && holds_seed(value)) {
        return Err(SpecError::new(
            name,
            "trial seeds come from `sweep.seed` and `sweep.seeds`; vary those instead of experiment.seed",
        ));
    }
    let expected = match mode {
        Mode::Grid => "a non-empty list of values",
        Mode::Random => {
            "a non-empty list of values, { choice = [..] }, { uniform = [low, high] } or { log_uniform = [low, high] }"
        }
    };
    let values = |list: &[toml::Value]| {
        if list.is_empty() {
            return Err(SpecError::new(&name, format!("is an empty list; expected {expected}")));
        }
        // In a grid a value listed twice is a point run twice, to the same results (seeds are
        // paired across points): a slip. (A random choice may list one twice to weight it.)
        let same = |a: &toml::Value, b: &toml::Value| match (a, b) {
            (toml::Value::Integer(i), toml::Value::Float(f)) | (toml::Value::Float(f), toml::Value::Integer(i)) => {
                *i as f64 == *f
            }
            _ => a == b,
        };
        if mode == Mode::Grid
            && let Some((j, v)) = list.iter().enumerate().find(|(j, v)| list[..*j].iter().any(|u| same(u, v)))
        {
            return Err(SpecError::new(
                &name,
                format!("lists {v} twice (value {} of {}): the same point would run twice", j + 1, list.len()),
            ));
        }
        Ok(Axis::Values(list.to_vec()))
    };
    match value {
        toml::Value::Array(list) => values(list),
        toml::Value::Table(t) if t.len() == 1 => {
            let (kind, arg) = t.iter().next().expect("one entry");
            match (kind.as_str(), arg) {
                ("choice", toml::Value::Array(list)) => values(list),
                ("uniform" | "log_uniform", _) if mode == Mode::Grid => Err(SpecError::new(
                    &name,
                    format!("a `{kind}` range needs mode = \"random\"; a grid takes {expected}"),
                )),
                ("uniform" | "log_uniform", toml::Value::Array(bounds)) => {
                    let num = |v: &toml::Value| match v {
                        toml::Value::Float(f) => Some(*f),
                        toml::Value::Integer(i) => Some(*i as f64),
                        _ => None,
                    };
                    let (lo, hi) = match bounds.as_slice() {
                        [a, b] => (num(a), num(b)),
                        _ => (None, None),
                    };
                    let (Some(lo), Some(hi)) = (lo, hi) else {
                        return Err(SpecError::new(
                            &name,
                            format!("`{kind}` takes two numbers [low, high], got {arg}"),
                        ));
                    };
                    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                        return Err(SpecError::new(&name, format!("`{kind}` needs finite low < high, got {arg}")));
                    }
                    if kind == "log_uniform" {
                        if lo <= 0.0 {
                            return Err(SpecError::new(&name, format!("`log_uniform` needs 0 < low, got {arg}")));
                        }
                        Ok(Axis::LogUniform(lo, hi))
                    } else {
                        Ok(Axis::Uniform(lo, hi))
                    }
                }
                _ => Err(SpecError::new(&name, format!("expected {expected}, got {{ {kind} = {arg} }}"))),
            }
        }
        v => Err(SpecError::new(&name, format!("expected {expected}, got {} {v}", v.type_str()))),
    }
}

fn success(t: &toml::Table) -> Result<Success, SpecError> {
    for key in t.keys() {
        if !["metric", "below", "above"].contains(&key.as_str()) {
            return Err(unknown("sweep.success", key, &["metric", "below", "above"]));
        }
    }
    let metric = match t.get("metric") {
        None => "final_cost".to_string(),
        Some(toml::Value::String(m)) if METRICS.contains(&m.as_str()) => m.clone(),
        Some(toml::Value::String(m)) => return Err(unknown_value("sweep.success.metric", m, &METRICS)),
        Some(v) => return Err(SpecError::new("sweep.success.metric", format!("must be a metric name, got {v}"))),
    };
    let bound = |key: &str| match t.get(key) {
        None => Ok(None),
        Some(toml::Value::Float(f)) if f.is_finite() => Ok(Some(*f)),
        Some(toml::Value::Integer(i)) => Ok(Some(*i as f64)),
        Some(v) => Err(SpecError::new(format!("sweep.success.{key}"), format!("must be a finite number, got {v}"))),
    };
    let (below, above) = (bound("below")?, bound("above")?);
    // Every metric but R² is ≥ 0, and an accuracy or R² at most 1: thresholds past those no
    // trial can meet.
    if let Some(b) = below
        && b <= 0.0
        && metric != "r2"
    {
        return Err(SpecError::new(
            "sweep.success.below",
            format!("must be > 0 (`{metric}` is never negative), got {b}"),
        ));
    }
    if let Some(a) = above
        && (is_fraction_right(&metric) || metric == "r2")
        && a >= 1.0
    {
        let what = match metric.as_str() {
            "r2" => "R²",
            "exact_match" => "a fraction of rows",
            _ => "an accuracy",
        };
        return Err(SpecError::new("sweep.success.above", format!("must be < 1 ({what} is at most 1), got {a}")));
    }
    if let (Some(b), Some(a)) = (below, above)
        && b <= a
    {
        // Success needs above < metric < below: no trial could succeed.
        return Err(SpecError::new(
            "sweep.success.below",
            format!("must be greater than `above` ({a}), got {b}: success needs above < metric < below"),
        ));
    }
    Ok(Success { metric, below, above })
}

fn unknown(table: &str, key: &str, known: &[&str]) -> SpecError {
    let mut message = format!("unknown key, expected one of `{}`", known.join("`, `"));
    if let Some(close) = closest(key, known) {
        message.push_str(&format!("; did you mean `{close}`?"));
    }
    SpecError::new(format!("{table}.{key}"), message)
}

fn unknown_value(key: &str, value: &str, known: &[&str]) -> SpecError {
    let mut message = format!("unknown metric `{value}`, expected one of `{}`", known.join("`, `"));
    if let Some(close) = closest(value, known) {
        message.push_str(&format!("; did you mean `{close}`?"));
    }
    SpecError::new(key, message)
}

fn closest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(name, k), *k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SweepSpec, SpecError> {
        let table: toml::Table = toml::from_str(text).unwrap();
        SweepSpec::parse(&table, 7)
    }

    #[test]
    fn defaults_and_sorted_axes() {
        let s = parse("seeds = 3\ngrid = { \"optim.lr\" = [0.1, 0.5], \"model.hidden\" = [[2], [3]] }").unwrap();
        assert_eq!((s.seeds, s.seed, s.mode), (3, 7, Mode::Grid));
        let keys: Vec<&str> = s.axes.iter().map(|a| a.0.as_str()).collect();
        assert_eq!(keys, ["model.hidden", "optim.lr"]);
        assert_eq!(s.success, Success::default());
    }

    #[test]
    fn errors_name_the_key() {
        let key = |text: &str| parse(text).unwrap_err().key;
        assert_eq!(key("seeds = 0"), "sweep.seeds");
        assert_eq!(key("seedz = 2"), "sweep.seedz");
        assert_eq!(key("grid = { \"optim.lr\" = [] }"), "sweep.grid.\"optim.lr\"");
        assert_eq!(key("grid = { \"optim.lr \" = [2.0] }"), "sweep.grid.\"optim.lr \"");
        assert_eq!(key("grid = { \"optim.lr=0.3 #\" = [0.1] }"), "sweep.grid.\"optim.lr=0.3 #\"");
        assert_eq!(key("grid = { \"optim..lr\" = [0.1] }"), "sweep.grid.\"optim..lr\"");
        assert_eq!(key("grid = { \"optim.lr\" = 0.1 }"), "sweep.grid.\"optim.lr\"");
        assert_eq!(key("grid = { \"optim.lr\" = { uniform = [0, 1] } }"), "sweep.grid.\"optim.lr\"");
        assert_eq!(key("mode = \"random\"\nsamples = 2\ngrid = { x = { log_uniform = [0, 1] } }"), "sweep.grid.\"x\"");
        assert_eq!(key("success = { metric = \"final_cots\" }"), "sweep.success.metric");
        assert_eq!(key("success = { below = 0.1, above = 0.5 }"), "sweep.success.below");
        assert!(parse("success = { metric = \"accuracy\", below = 1.01, above = 0.9 }").is_ok());
        assert!(parse("sedes = 2").unwrap_err().message.contains("did you mean `seeds`"));
    }

    /// More trials than [`MAX_TRIALS`] are refused when the table is read, naming the key that
    /// made them (the planner would otherwise allocate and check them all first).
    #[test]
    fn too_many_trials_are_refused_up_front() {
        let error = |text: &str| parse(text).unwrap_err();
        let e = error("seeds = 100000000");
        assert_eq!(e.key, "sweep.seeds");
        assert!(e.message.contains("1 points × 100000000 seeds"), "{}", e.message);
        assert_eq!(error("seeds = 9223372036854775807\ngrid = { x = [1, 2] }").key, "sweep.seeds");
        assert_eq!(error("mode = \"random\"\nsamples = 1000000000000\ngrid = { x = [1] }").key, "sweep.samples");
        let wide: Vec<String> = (0..1000).map(|i| i.to_string()).collect();
        let grid = format!("grid = {{ a = [{0}], b = [{0}] }}", wide.join(", "));
        assert_eq!(error(&grid).key, "sweep.grid");
        assert!(parse(&format!("seeds = 100\ngrid = {{ a = [{}] }}", wide.join(", "))).is_ok(), "100,000 trials");
    }

    #[test]
    fn draws_stay_in_range() {
        let mut rng = backprop_tensor::rng::seeded(1);
        for _ in 0..1000 {
            let v = Axis::LogUniform(1e-4, 1e-1).draw(&mut rng).as_float().unwrap();
            assert!((1e-4..=1e-1).contains(&v));
            let u = Axis::Uniform(-2.0, 3.0).draw(&mut rng).as_float().unwrap();
            assert!((-2.0..3.0).contains(&u), "{u}");
            let wide = Axis::Uniform(-1.7e308, 1.7e308).draw(&mut rng).as_float().unwrap();
            assert!(wide.is_finite() && (-1.7e308..1.7e308).contains(&wide), "{wide}");
            let c = Axis::Values(vec![1.into(), 2.into()]).draw(&mut rng).as_integer().unwrap();
            assert!(c == 1 || c == 2);
        }
    }

    /// Each kind of axis draws from its distribution: a choice takes every value about equally
    /// often, a uniform range is covered evenly (its mean in the middle, both ends reached), and a
    /// log-uniform one evenly per decade. Fixed seeds, so the counts are the same every run.
    #[test]
    fn draws_follow_their_distributions() {
        let mut rng = backprop_tensor::rng::seeded(2);
        let n = 3000;
        let mut draws = |axis: &Axis| -> Vec<toml::Value> { (0..n).map(|_| axis.draw(&mut rng)).collect() };

        let choices = draws(&Axis::Values(vec![1.into(), 2.into(), 3.into()]));
        for c in 1..=3 {
            let k = choices.iter().filter(|v| v.as_integer() == Some(c)).count();
            assert!((850..=1150).contains(&k), "value {c} drawn {k} times of {n}");
        }

        let floats = |vs: Vec<toml::Value>| vs.iter().map(|v| v.as_float().unwrap()).collect::<Vec<f64>>();
        let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
        let ends = |xs: &[f64]| {
            (xs.iter().copied().fold(f64::INFINITY, f64::min), xs.iter().copied().fold(f64::NEG_INFINITY, f64::max))
        };

        // U(−2, 3): mean 0.5 (its standard error here is 0.026).
        let u = floats(draws(&Axis::Uniform(-2.0, 3.0)));
        assert!((mean(&u) - 0.5).abs() < 0.1, "mean {}", mean(&u));
        let (a, b) = ends(&u);
        assert!(a < -1.95 && b > 2.95, "[{a}, {b}]");

        // A range wider than the largest double, drawn at half scale: the same shape.
        let wide = floats(draws(&Axis::Uniform(-1.6e308, 1.6e308)));
        let scaled: Vec<f64> = wide.iter().map(|v| v / 1.6e308).collect();
        assert!(mean(&scaled).abs() < 0.1, "mean {}·1.6e308", mean(&scaled));
        let (a, b) = ends(&wide);
        assert!(a < -1.55e308 && b > 1.55e308, "[{a}, {b}]");

        // log-uniform over [1e-4, 1e-1): a third of the draws in each decade.
        let logs: Vec<f64> = floats(draws(&Axis::LogUniform(1e-4, 1e-1))).iter().map(|v| libm::log10(*v)).collect();
        for decade in [-4.0, -3.0, -2.0] {
            let k = logs.iter().filter(|l| (decade..decade + 1.0).contains(*l)).count();
            assert!((850..=1150).contains(&k), "decade 1e{decade}: {k} of {n}");
        }
    }

    #[test]
    fn success_thresholds_no_trial_can_meet_are_refused() {
        let key = |text: &str| parse(text).unwrap_err().key;
        assert_eq!(key("success = { metric = \"final_cost\", below = 0 }"), "sweep.success.below");
        assert_eq!(key("success = { metric = \"train_seconds\", below = -1 }"), "sweep.success.below");
        assert_eq!(key("success = { metric = \"accuracy\", above = 1.0 }"), "sweep.success.above");
        assert!(parse("success = { metric = \"accuracy\", above = 0.99 }").is_ok());
        assert!(parse("success = { metric = \"epochs_run\", above = 5 }").is_ok());
        // R² is at most 1 and may be below 0.
        assert_eq!(key("success = { metric = \"r2\", above = 1.0 }"), "sweep.success.above");
        assert!(parse("success = { metric = \"r2\", below = -0.5 }").is_ok());
        // The bits' fractions right are at most 1, and better higher.
        assert_eq!(key("success = { metric = \"exact_match\", above = 1.0 }"), "sweep.success.above");
        assert_eq!(key("success = { metric = \"bit_accuracy\", below = 0 }"), "sweep.success.below");
        for metric in ["exact_match", "bit_accuracy"] {
            let success = Success { metric: metric.into(), below: None, above: None };
            assert!(success.higher_is_better(), "{metric}");
        }
        assert_eq!(key("success = { metric = \"mse\", below = 0 }"), "sweep.success.below");
        let r2 = Success { metric: "r2".into(), below: None, above: None };
        assert!(r2.higher_is_better() && !Success { metric: "mae".into(), ..r2.clone() }.higher_is_better());
    }

    #[test]
    fn success_thresholds_are_strict() {
        let s = Success { metric: "final_cost".into(), below: Some(0.01), above: None };
        assert!(s.is_met(Some(0.005)) && !s.is_met(Some(0.01)) && !s.is_met(None) && !s.is_met(Some(f64::NAN)));
        assert!(!s.higher_is_better());
        assert!(Success::default().is_met(None));
        let above = Success { metric: "val_accuracy".into(), below: None, above: Some(0.9) };
        assert!(above.is_met(Some(0.95)) && !above.is_met(Some(0.9)) && !above.is_met(Some(0.5)));
        assert!(
            !above.is_met(Some(f64::INFINITY)) && !above.is_met(None),
            "a value that is not finite meets no threshold"
        );
    }

    /// Which way is better: a threshold from below says lower, from above higher, whatever the
    /// metric's name; with neither (or both), accuracies are better higher and the rest lower.
    #[test]
    fn the_better_direction_follows_the_threshold_then_the_name() {
        let s = |metric: &str, below, above| Success { metric: metric.into(), below, above };
        assert!(!s("val_accuracy", Some(0.5), None).higher_is_better());
        assert!(s("final_cost", None, Some(0.5)).higher_is_better());
        assert!(s("accuracy", None, None).higher_is_better() && s("accuracy", Some(1.0), Some(0.5)).higher_is_better());
        assert!(!s("best_cost", None, None).higher_is_better());
    }

    /// A grid value listed twice (`0.5` and `0.50`, `2` and `2.0` alike) is refused, naming it;
    /// a random choice may repeat one (to weight it).
    #[test]
    fn a_grid_value_listed_twice_is_refused() {
        let e = parse("grid = { \"optim.lr\" = [0.5, 0.1, 0.50] }").unwrap_err();
        assert_eq!(e.key, "sweep.grid.\"optim.lr\"");
        assert_eq!(e.message, "lists 0.5 twice (value 3 of 3): the same point would run twice");
        assert!(parse("grid = { \"model.hidden\" = [[2], [3], [2]] }").is_err());
        assert!(parse("grid = { \"train.epochs\" = [2, 2.0] }").is_err());
        assert!(parse("grid = { \"model.activation\" = [\"tanh\", \"relu\"] }").is_ok());
        assert!(
            parse("mode = \"random\"\nsamples = 3\ngrid = { \"optim.lr\" = { choice = [0.1, 0.1, 0.5] } }").is_ok()
        );
    }

    /// What an axis may be: the `[sweep]` table's own keys are not sweepable; a range table has
    /// one entry; range bounds may be integers and must be finite with low < high; success
    /// thresholds must be finite.
    #[test]
    fn axes_and_thresholds_refused_and_accepted() {
        let random = |grid: &str| parse(&format!("mode = \"random\"\nsamples = 2\ngrid = {{ {grid} }}"));
        let e = random("\"sweep.seeds\" = [1, 2]").unwrap_err();
        assert!(e.message.contains("cannot vary its own"), "{}", e.message);
        assert!(random("sweep = [1, 2]").unwrap_err().message.contains("cannot vary its own"));
        assert!(random("x = { uniform = [0, 1], choice = [1] }").is_err(), "a range table has one entry");
        assert_eq!(random("x = { uniform = [0, 2] }").unwrap().axes[0].1, Axis::Uniform(0.0, 2.0));
        assert_eq!(random("x = { log_uniform = [1, 10] }").unwrap().axes[0].1, Axis::LogUniform(1.0, 10.0));
        for bad in ["[1.0, 1.0]", "[2.0, 1.0]", "[0.0, inf]", "[-inf, 1.0]", "[nan, 1.0]", "[0.0, nan]"] {
            let e = random(&format!("x = {{ uniform = {bad} }}")).unwrap_err();
            assert!(e.message.contains("finite low < high"), "{bad}: {}", e.message);
        }
        for bad in ["inf", "nan", "-inf"] {
            assert_eq!(parse(&format!("success = {{ below = {bad} }}")).unwrap_err().key, "sweep.success.below");
        }
        // Exactly MAX_TRIALS grid points are not too many points: the seeds that multiply them are.
        let (a, b): (Vec<String>, Vec<String>) =
            ((0..1000).map(|i| i.to_string()).collect(), (0..100).map(|i| i.to_string()).collect());
        let e = parse(&format!("seeds = 2\ngrid = {{ a = [{}], b = [{}] }}", a.join(", "), b.join(", "))).unwrap_err();
        assert_eq!(e.key, "sweep.seeds", "{}", e.message);
        // A product past a 64-bit count is said to be so, not given as 2⁶⁴ − 1.
        let axes: Vec<String> = (0..7).map(|k| format!("k{k} = [{}]", a.join(", "))).collect();
        let e = parse(&format!("grid = {{ {} }}", axes.join(", "))).unwrap_err();
        assert!(e.key == "sweep.grid" && e.message.starts_with("more grid points than a 64-bit count holds"), "{e:?}");
    }

    /// `seed` and `mode` take exactly their documented values; a random sweep with too many
    /// trials names whichever key made them.
    #[test]
    fn seed_and_mode_values() {
        assert_eq!(parse("seed = 0").unwrap().seed, 0);
        assert_eq!(parse("seed = -1").unwrap_err().key, "sweep.seed");
        assert_eq!(parse("mode = \"grid\"").unwrap().mode, Mode::Grid);
        assert_eq!(parse("mode = \"random\"\nsamples = 3").unwrap().mode, Mode::Random);
        assert_eq!(parse("mode = \"randm\"\nsamples = 3").unwrap_err().key, "sweep.mode");
        let e = parse("mode = \"random\"\nsamples = 1000\nseeds = 100000").unwrap_err();
        assert_eq!(e.key, "sweep.seeds", "{}", e.message);
    }
}
