//! The resolved plan of a sweep: its points (one value per swept key), its trials (a point and a
//! seed index), and `sweep.json`, the file that lets `collect` and a resumed run find them.
//!
//! Order, fixed and documented in `docs/sweeps.md`:
//! - keys in sorted order; grid points are the cartesian product with the **last key varying
//!   fastest** and each key's values in the order written; random point `j` draws every key, in
//!   key order, from the stream `derive_seed(derive_seed(seed, SAMPLE_STREAM), j)`;
//! - trial `i = point · seeds + k` for seed index `k`, with `experiment.seed =
//!   derive_seed(seed, k)` (top bit cleared, as TOML integers are signed): the same `k` gives
//!   the same start at every point, and a trial's seed depends on nothing but `(seed, k)`.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use backprop_cli::CliError;
use backprop_cli::config::{self, Loaded};
use backprop_tensor::rng::{derive_seed, seeded};
use serde::{Deserialize, Serialize};

use super::spec::{Axis, Mode, REPORT_METRICS, Success, SweepSpec, grid_key, is_bit_metric, is_class_accuracy};

/// The plan's file in the sweep directory.
pub const PLAN_FILE: &str = "sweep.json";

/// The stream under the sweep seed that random points draw from (trial seeds use `0..seeds`).
pub const SAMPLE_STREAM: u64 = u64::MAX;

/// Everything `collect` needs to know about a sweep: the contents of `sweep.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The base config file, as given on the command line.
    pub config: PathBuf,
    /// `--set` overrides of the base config.
    pub overrides: Vec<String>,
    /// `experiment.name` of the base config.
    pub name: String,
    /// Grid or random.
    pub mode: Mode,
    /// The sweep seed.
    pub seed: u64,
    /// Seed indices per point.
    pub seeds: u64,
    /// The swept keys, sorted.
    pub keys: Vec<String>,
    /// What a successful trial is.
    pub success: Success,
    /// The points, in order.
    pub points: Vec<Point>,
    /// The trials, in order.
    pub trials: Vec<Trial>,
}

/// One combination of swept values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Position in [`Plan::points`].
    pub index: usize,
    /// One TOML value per key of [`Plan::keys`], as written in an override (`0.5`, `[2, 2]`).
    pub values: Vec<String>,
}

/// One training run: a point and a seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// Position in [`Plan::trials`]; also its directory's name.
    pub index: usize,
    /// Its point.
    pub point: usize,
    /// Its seed index `k` (`0..seeds`).
    pub seed_index: u64,
    /// Its `experiment.seed`.
    pub seed: u64,
    /// Its directory, relative to the sweep directory.
    pub dir: String,
    /// The overrides that make its config from the base config (after the base's `--set`).
    pub overrides: Vec<String>,
}

impl Plan {
    /// The `key=value` overrides of point `p`.
    pub fn point_overrides(&self, p: usize) -> Vec<String> {
        self.keys.iter().zip(&self.points[p].values).map(|(k, v)| format!("{k}={v}")).collect()
    }

    /// `optim.lr=0.5 model.hidden=[2, 2]`, or `base` for a sweep over seeds only.
    pub fn point_label(&self, p: usize) -> String {
        if self.keys.is_empty() { "base".to_string() } else { self.point_overrides(p).join(" ") }
    }

    /// Reads `sweep.json` from a sweep directory: an input error (exit 2) when it is not a plan,
    /// or not one that [`resolve`] could have made (see [`Plan::check`]).
    pub fn read(dir: &Path) -> Result<Plan, CliError> {
        let path = dir.join(PLAN_FILE);
        let text = backprop_cli::fsutil::read_input_text(&path, backprop_cli::fsutil::MODEL_LIMIT, "sweep plan")?;
        let not_a_plan =
            |e: &dyn std::fmt::Display| CliError::Input(format!("{}: not a sweep plan: {e}", path.display()));
        let plan: Plan = serde_json::from_str(&text).map_err(|e| not_a_plan(&e))?;
        plan.check().map_err(|e| not_a_plan(&e))?;
        Ok(plan)
    }

    /// Whether the plan is consistent, as [`resolve`] makes it: at least one seed, a value per
    /// key at every point, and trial `i = point · seeds + k` for every point and seed index, with
    /// its seed, directory and overrides. A plan edited by hand (a trial removed, a directory
    /// changed) is not, and would otherwise be summarised as a smaller sweep.
    fn check(&self) -> Result<(), String> {
        if self.seeds == 0 || self.points.is_empty() {
            return Err(format!(
                "{} points × {} seeds: a sweep has at least one of each",
                self.points.len(),
                self.seeds
            ));
        }
        if let Some((i, p)) =
            self.points.iter().enumerate().find(|(i, p)| p.index != *i || p.values.len() != self.keys.len())
        {
            let n = self.keys.len();
            return Err(format!("point {i} has index {} and {} values, not {i} and {n}", p.index, p.values.len()));
        }
        let expected = u64::try_from(self.points.len()).ok().and_then(|p| p.checked_mul(self.seeds));
        if expected != Some(self.trials.len() as u64) {
            return Err(format!(
                "{} trials, but {} points × {} seeds make {}",
                self.trials.len(),
                self.points.len(),
                self.seeds,
                expected.map_or_else(|| "too many".to_string(), |n| n.to_string())
            ));
        }
        for (i, t) in self.trials.iter().enumerate() {
            let (point, k) = (i / self.seeds as usize, i as u64 % self.seeds);
            let mut overrides = self.point_overrides(point);
            overrides.push(format!("experiment.seed={}", trial_seed(self.seed, k)));
            let wanted =
                Trial { index: i, point, seed_index: k, seed: trial_seed(self.seed, k), dir: trial_dir(i), overrides };
            if *t != wanted {
                return Err(format!(
                    "trial {i} is not point {point} with seed index {k} (in `{}`, with seed {}, overrides {:?})",
                    wanted.dir, wanted.seed, wanted.overrides
                ));
            }
        }
        Ok(())
    }

    /// Writes `sweep.json` into `dir`, atomically.
    pub fn write(&self, dir: &Path) -> Result<(), CliError> {
        let json = serde_json::to_string_pretty(self).expect("a plan always serialises");
        backprop_cli::fsutil::write_atomic(&dir.join(PLAN_FILE), json.as_bytes())
    }
}

/// A plan and the loaded config of each point (whose `experiment.seed` the trials set).
pub struct Resolved {
    /// The plan.
    pub plan: Plan,
    /// The config of each point, validated, with `sweep` removed.
    pub points: Vec<Loaded>,
}

impl Resolved {
    /// The config trial `t` trains: its point's, with the trial's seed.
    pub fn trial_config(&self, t: &Trial) -> Loaded {
        let mut loaded = self.points[t.point].clone();
        loaded.config.experiment.seed = t.seed;
        loaded
    }
}

/// What planning checks against the data (the base config's, or a point's when `data.*` is swept).
#[derive(Clone, Copy)]
struct DataInfo {
    inputs: usize,
    outputs: usize,
    validation: bool,
    test: bool,
    classification: bool,
    /// Whether every target of the split a run's report measures (test, else validation, else
    /// train) is 0 or 1 in the targets' own units: `bit_accuracy` and `exact_match` are measured.
    bits: bool,
}

impl DataInfo {
    /// Whether the data has the held-out split `name` (`validation` or `test`).
    fn has(&self, name: &str) -> bool {
        if name == "validation" { self.validation } else { self.test }
    }
}

/// The data of the config at `path` with `overrides` as [`DataInfo`], or the error that would
/// fail every trial that reads it (a file that is not there, a bad row), which names the file.
fn data_info(path: &Path, overrides: &[String]) -> Result<DataInfo, CliError> {
    let base = config::load(path, overrides)?;
    // In the config's own element type: an f32 data set read as f64 would take twice its memory.
    match base.config.experiment.dtype {
        backprop_tensor::Dtype::F32 => sizes_of::<f32>(&base),
        backprop_tensor::Dtype::F64 => sizes_of::<f64>(&base),
    }
}

/// [`DataInfo`] of `base`'s data, read as `F`.
fn sizes_of<F: backprop_tensor::Element>(base: &Loaded) -> Result<DataInfo, CliError> {
    let splits = backprop_cli::app::load_data::<F>(base)?;
    // Said once here, for every trial that reads this data (a trial's run keeps them).
    for warning in &splits.warnings {
        errln!("warning: {warning}");
    }
    let (inputs, outputs) = (splits.train.features(), splits.train.outputs());
    let classification = splits.task == backprop_data::Task::Classification;
    // As the run's report reads them: in f64, the targets' scaling undone.
    let reported = splits.test.as_ref().or(splits.validation.as_ref()).unwrap_or(&splits.train);
    let mut targets = reported.targets.mapv(|t| t.f64());
    let bits = splits.target_normalizer.invert(&mut targets).is_ok()
        && !targets.is_empty()
        && targets.iter().all(|&t| t == 0.0 || t == 1.0);
    Ok(DataInfo {
        inputs,
        outputs,
        validation: splits.validation.is_some(),
        test: splits.test.is_some(),
        classification,
        bits,
    })
}

/// `1 output`, `2 outputs`.
fn count(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

/// The seed of seed index `k` under the sweep seed: `derive_seed(seed, k)` with the top bit
/// cleared, so that it is a TOML integer.
pub fn trial_seed(seed: u64, k: u64) -> u64 {
    derive_seed(seed, k) & (i64::MAX as u64)
}

/// Resolves the points and trials of `spec` over the config at `path` with `overrides`, and
/// loads every point's config (so an unknown key, or a value of the wrong type or out of range,
/// is an error before any trial starts). Errors are made by `error(key, message)`, with the
/// sweep key they are about.
pub fn resolve(
    path: &Path,
    overrides: &[String],
    name: &str,
    spec: &SweepSpec,
    error: &dyn Fn(&str, &str) -> CliError,
) -> Result<Resolved, CliError> {
    let keys: Vec<String> = spec.axes.iter().map(|(k, _)| k.clone()).collect();
    let mut values: Vec<Vec<toml::Value>> = match spec.mode {
        Mode::Grid => grid(&spec.axes),
        Mode::Random => (0..spec.samples as u64)
            .map(|j| {
                let mut rng = seeded(derive_seed(derive_seed(spec.seed, SAMPLE_STREAM), j));
                spec.axes.iter().map(|(_, axis)| axis.draw(&mut rng)).collect()
            })
            .collect(),
    };
    // Paths among the values resolve as the config file's own paths do, against its folder; a
    // grid given with `--set` is the command line's, and its paths resolve against the working
    // directory, as `--set`'s do.
    let grid_from_set = overrides
        .iter()
        .filter_map(|o| config::set_key(o))
        .any(|k| config::key_within(k, "sweep.grid") || config::key_parts(k) == ["sweep"]);
    if !grid_from_set {
        let base = path.parent().unwrap_or(Path::new(""));
        for point in &mut values {
            for (key, value) in keys.iter().zip(point.iter_mut()) {
                config::absolutize_value(key, value, base);
            }
        }
    }

    // Each (key, value) alone first, so that an error names the key it comes from; then each
    // point whole, for values that only clash together.
    let mut checked = HashSet::new();
    // The base config's data, read once before any trial, so that data no trial could read is
    // refused here (exit 2, naming the file and row) and not by every trial, and so that model
    // widths and a success metric that cannot fit it are too. When `data.*` keys are swept, each
    // point is checked against its own data instead, read once for each combination of their
    // values.
    let is_data = |k: &str| k == "data" || k.starts_with("data.");
    let data_swept = keys.iter().any(|k| is_data(k));
    let data = if data_swept { None } else { Some(data_info(path, overrides)?) };
    let mut point_data: HashMap<Vec<String>, DataInfo> = HashMap::new();
    let metric = &spec.success.metric;
    let held_out = [("val_", "validation"), ("test_", "test")].into_iter().find(|(p, _)| metric.starts_with(p));
    // The success metric must be measured on `whose` data: its held-out split, and an accuracy
    // for classification only.
    let measurable = |info: &DataInfo, whose: &str| match held_out {
        Some((_, name)) if !info.has(name) => Err(error(
            "sweep.success.metric",
            &format!("`{metric}` needs a {name} split, and {whose} has none (set `data.{name}`)"),
        )),
        _ if is_class_accuracy(metric) && !info.classification => Err(error(
            "sweep.success.metric",
            &format!("`{metric}` is measured for classification only, and {whose} is regression"),
        )),
        _ if REPORT_METRICS.contains(&metric.as_str()) && info.classification => Err(error(
            "sweep.success.metric",
            &format!("`{metric}` is the regression report's, and {whose} is classification"),
        )),
        _ if is_bit_metric(metric) && !info.bits => Err(error(
            "sweep.success.metric",
            &format!(
                "`{metric}` reads the outputs as bits, for targets of 0s and 1s only, and {whose} has other targets \
                 (in the split the report measures: test, else validation, else train)"
            ),
        )),
        _ => Ok(()),
    };
    let needs_data = held_out.is_some() || is_class_accuracy(metric) || REPORT_METRICS.contains(&metric.as_str());
    if needs_data && let Some(info) = &data {
        measurable(info, "the config's data")?;
    }
    let mut models_read: HashMap<PathBuf, backprop_cli::model_file::ModelFile> = HashMap::new();
    let mut loaded_points = Vec::with_capacity(values.len());
    let mut configs_seen: HashMap<String, (usize, String)> = HashMap::new();
    let mut points = Vec::with_capacity(values.len());
    for (p, vals) in values.iter().enumerate() {
        let literals: Vec<String> = vals.iter().map(toml::Value::to_string).collect();
        for (key, literal) in keys.iter().zip(&literals) {
            // A key beside another of its table in the grid (`optim.rho` beside `optim.kind`) may
            // fit only with it: the point's check below takes them together.
            let parent = |k: &str| config::key_parts(k).split_last().map(|(_, p)| p.to_vec()).unwrap_or_default();
            let siblings = keys.iter().any(|other| other != key && parent(other) == parent(key));
            if !siblings && checked.insert((key.clone(), literal.clone())) {
                let mut with = overrides.to_vec();
                with.push(format!("{key}={literal}"));
                let loaded = config::load(path, &with).map_err(|e| {
                    let inner = without_position(&e.to_string(), path, &with);
                    error(&grid_key(key), &format!("the value {literal} does not fit the config: {inner}"))
                })?;
                if key.starts_with("model.")
                    && let Some(&DataInfo { inputs, outputs, .. }) = data.as_ref()
                {
                    loaded.config.model.validate_for(inputs, outputs).map_err(|e| {
                        let what =
                            format!("the value {literal} does not fit the data ({inputs} inputs, {outputs} outputs)");
                        error(&grid_key(key), &format!("{what}: `model.{}`: {}", e.key, e.message))
                    })?;
                }
            }
        }
        let point = Point { index: p, values: literals };
        let point_overrides: Vec<String> = keys.iter().zip(&point.values).map(|(k, v)| format!("{k}={v}")).collect();
        let mut with = overrides.to_vec();
        with.extend(point_overrides.iter().cloned());
        let mut loaded = config::load(path, &with).map_err(|e| {
            let inner = without_position(&e.to_string(), path, &with);
            error("sweep.grid", &format!("point {p} ({}) is not a valid config: {inner}", point_overrides.join(" ")))
        })?;
        let at = || format!("point {p} ({})", point_overrides.join(" "));
        // The point's data: its own where `data.*` keys are swept, else the config's.
        let point_info = if data_swept {
            let data_overrides: Vec<String> = point_overrides
                .iter()
                .filter(|o| o.split_once('=').is_some_and(|(k, _)| is_data(k)))
                .cloned()
                .collect();
            let info = match point_data.entry(data_overrides) {
                Entry::Occupied(known) => *known.get(),
                Entry::Vacant(new) => {
                    let read = data_info(path, &[overrides, new.key().as_slice()].concat());
                    let info = read.map_err(|e| error("sweep.grid", &format!("the data of {}: {e}", at())))?;
                    *new.insert(info)
                }
            };
            measurable(&info, &format!("the data of {}", at()))?;
            let DataInfo { inputs, outputs, .. } = info;
            loaded.config.model.validate_for(inputs, outputs).map_err(|e| {
                let what = format!("{} does not fit its data ({inputs} inputs, {outputs} outputs)", at());
                error("sweep.grid", &format!("{what}: `model.{}`: {}", e.key, e.message))
            })?;
            Some((info, "its data"))
        } else {
            // `model.*` keys checked point by point (beside another of their table) are sized
            // here: a network past the limit would fail every trial of the point.
            if let Some(DataInfo { inputs, outputs, .. }) = data.as_ref() {
                loaded.config.model.validate_for(*inputs, *outputs).map_err(|e| {
                    let what = format!("{} does not fit the data ({inputs} inputs, {outputs} outputs)", at());
                    error("sweep.grid", &format!("{what}: `model.{}`: {}", e.key, e.message))
                })?;
            }
            data.map(|info| (info, "the data"))
        };
        // What the data's outputs and task refuse (`cross_entropy` over one output), as `train`
        // checks it: every trial of the point would fail. Checked by point, not by value:
        // another key's value may make a value fit (an output activation beside a hidden one).
        if let Some((DataInfo { outputs, classification, .. }, whose)) = point_info {
            loaded.config.validate_for_data(outputs, classification).map_err(|e| {
                let what = format!("{} does not fit {whose} ({})", at(), count(outputs, "output"));
                error("sweep.grid", &format!("{what}: `{}`: {}", e.key, e.message))
            })?;
        }
        // A model to start from that no trial could read, or of another shape than the point's
        // network: refused here, each file read once.
        if let Some(from) = &loaded.config.model.init_from {
            let file = loaded.resolve_key_path("model.init_from", from);
            let swept = keys.iter().any(|k| k == "model" || k.starts_with("model."));
            let refuse = |e: &dyn std::fmt::Display| {
                if swept {
                    error("sweep.grid", &format!("`model.init_from` of {}: {e}", at()))
                } else {
                    error("model.init_from", &e.to_string())
                }
            };
            let model = match models_read.entry(file.clone()) {
                Entry::Occupied(known) => known.into_mut(),
                Entry::Vacant(new) => {
                    new.insert(backprop_cli::model_file::ModelFile::read(&file).map_err(|e| refuse(&e))?)
                }
            };
            if let Some((DataInfo { inputs, outputs, .. }, _)) = point_info
                && let Some(differs) =
                    backprop_cli::experiment::init_from_mismatch(model, &loaded.config.model, inputs, outputs)
            {
                return Err(refuse(&format!("{}: {differs}", file.display())));
            }
        }
        // A trial is one run: its directory holds no sweep of its own.
        loaded.config.sweep = None;
        // Two grid values that spell one config (`"tanh"` and `{ kind = "tanh" }`, a default
        // written out): the point would run twice, to the same results. (A random sweep may
        // draw a choice twice.)
        if spec.mode == Mode::Grid
            && let Ok(text) = toml::to_string(&loaded.config)
        {
            let label = point_overrides.join(" ");
            if let Some((q, first)) = configs_seen.get(&text) {
                return Err(error(
                    "sweep.grid",
                    &format!("points {q} ({first}) and {p} ({label}) are the same config: it would run twice"),
                ));
            }
            configs_seen.insert(text, (p, label));
        }
        loaded_points.push(loaded);
        points.push(point);
    }

    let mut trials = Vec::with_capacity(points.len() * spec.seeds as usize);
    for point in &points {
        for k in 0..spec.seeds {
            let index = trials.len();
            let seed = trial_seed(spec.seed, k);
            let mut o: Vec<String> = keys.iter().zip(&point.values).map(|(k, v)| format!("{k}={v}")).collect();
            o.push(format!("experiment.seed={seed}"));
            trials.push(Trial { index, point: point.index, seed_index: k, seed, dir: trial_dir(index), overrides: o });
        }
    }
    let plan = Plan {
        config: path.to_path_buf(),
        overrides: overrides.to_vec(),
        name: name.to_string(),
        mode: spec.mode,
        seed: spec.seed,
        seeds: spec.seeds,
        keys,
        success: spec.success.clone(),
        points,
        trials,
    };
    Ok(Resolved { plan, points: loaded_points })
}

/// A config error's message without its `FILE (set by --set K=V): ` prefix, when one of `with`
/// gave the key.
fn without_position(message: &str, path: &Path, with: &[String]) -> String {
    with.iter()
        .find_map(|o| message.strip_prefix(&format!("{} (set by --set {o}): ", path.display())))
        .unwrap_or(message)
        .to_string()
}

/// `trials/00042`.
pub fn trial_dir(index: usize) -> String {
    format!("trials/{index:05}")
}

/// The cartesian product of the axes' value lists, the last axis varying fastest.
fn grid(axes: &[(String, Axis)]) -> Vec<Vec<toml::Value>> {
    let mut points: Vec<Vec<toml::Value>> = vec![Vec::new()];
    for (_, axis) in axes {
        let Axis::Values(values) = axis else { unreachable!("grid axes are value lists (checked by the spec)") };
        points = points
            .into_iter()
            .flat_map(|prefix| {
                values.iter().map(move |v| {
                    let mut p = prefix.clone();
                    p.push(v.clone());
                    p
                })
            })
            .collect();
    }
    points
}

/// A stable id for a sweep: FNV-1a (64 bit) of the config text and the overrides, in hex. The
/// same command gives the same id, so re-running it resumes the same directory.
pub fn sweep_id(config_text: &str, overrides: &[String]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(config_text.as_bytes());
    for o in overrides {
        eat(&[0]);
        eat(o.as_bytes());
    }
    format!("{:012x}", h >> 16)
}

#[cfg(test)]
/// A plan of `points` points (one key) × `seeds` seeds, as `resolve` makes it.
pub(crate) fn plan_of(points: usize, seeds: u64) -> Plan {
    let keys = vec!["optim.lr".to_string()];
    let points: Vec<Point> = (0..points).map(|index| Point { index, values: vec![format!("{index}.5")] }).collect();
    let mut plan = Plan {
        config: "x.toml".into(),
        overrides: Vec::new(),
        name: "x".into(),
        mode: Mode::Grid,
        seed: 7,
        seeds,
        keys,
        success: Success { metric: "final_cost".into(), below: None, above: None },
        points,
        trials: Vec::new(),
    };
    for p in 0..plan.points.len() {
        for k in 0..seeds {
            let (index, seed) = (plan.trials.len(), trial_seed(7, k));
            let mut overrides = plan.point_overrides(p);
            overrides.push(format!("experiment.seed={seed}"));
            plan.trials.push(Trial { index, point: p, seed_index: k, seed, dir: trial_dir(index), overrides });
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_varies_the_last_key_fastest() {
        let axes = vec![
            ("a".to_string(), Axis::Values(vec![1.into(), 2.into()])),
            ("b".to_string(), Axis::Values(vec!["x".into(), "y".into(), "z".into()])),
        ];
        let pts: Vec<String> = grid(&axes).iter().map(|p| format!("{}{}", p[0], p[1])).collect();
        assert_eq!(pts, ["1\"x\"", "1\"y\"", "1\"z\"", "2\"x\"", "2\"y\"", "2\"z\""]);
        assert_eq!(grid(&[]).len(), 1);
    }

    /// FNV-1a, 64 bits, shifted to 48: known answers (FNV-1a of "" is cbf29ce484222325, of "a"
    /// af63dc4c8601ec8c), and each override after a 0 byte.
    #[test]
    fn sweep_ids_are_fnv_1a_of_the_text_and_overrides() {
        assert_eq!(sweep_id("", &[]), "cbf29ce48422");
        assert_eq!(sweep_id("a", &[]), "af63dc4c8601");
        assert_ne!(sweep_id("a", &["b".into()]), sweep_id("ab", &[]));
        assert_ne!(sweep_id("a", &["b".into(), "c".into()]), sweep_id("a", &["bc".into()]));
    }

    #[test]
    fn literals_are_toml_values() {
        let v: toml::Table = toml::from_str("a = 0.5\nb = [2, 2]\nc = 2.0\nd = \"relu\"\ne = 1e-4").unwrap();
        let lits: Vec<String> = ["a", "b", "c", "d", "e"].iter().map(|k| v[*k].to_string()).collect();
        assert_eq!(lits, ["0.5", "[2, 2]", "2.0", "\"relu\"", "0.0001"]);
    }

    #[test]
    fn a_plan_edited_out_of_shape_is_refused() {
        let plan = plan_of(4, 5);
        assert_eq!(plan.check(), Ok(()));
        let tmp = tempfile::Builder::new().prefix("bp-plan-").tempdir().unwrap();
        plan.write(tmp.path()).unwrap();
        assert_eq!(Plan::read(tmp.path()).unwrap(), plan);

        type Edit = fn(&mut Plan);
        let edits: [(&str, Edit); 8] = [
            ("3 trials, but 4 points × 5 seeds make 20", |p| p.trials.truncate(3)),
            ("at least one", |p| p.seeds = 0),
            ("trial 2 ", |p| p.trials[2].dir = "../elsewhere".into()),
            ("trial 6 ", |p| p.trials.swap(6, 7)),
            ("trial 9 ", |p| p.trials[9].seed += 1),
            ("trial 0 ", |p| p.trials[0].overrides.pop().map_or((), drop)),
            ("point 1 has index 1 and 0 values", |p| p.points[1].values.clear()),
            ("point 2 has index 5 and 1 values", |p| p.points[2].index = 5),
        ];
        for (says, edit) in edits {
            let mut bad = plan.clone();
            edit(&mut bad);
            bad.write(tmp.path()).unwrap();
            let err = Plan::read(tmp.path()).unwrap_err();
            assert_eq!(err.exit_code(), 2);
            let message = err.to_string();
            assert!(message.contains("sweep.json: not a sweep plan: ") && message.contains(says), "{says}: {message}");
        }
    }

    #[test]
    fn ids_and_seeds_are_stable() {
        assert_eq!(sweep_id("x", &[]), sweep_id("x", &[]));
        assert_ne!(sweep_id("x", &["a=1".into()]), sweep_id("x", &[]));
        assert!(trial_seed(u64::MAX, 3) <= i64::MAX as u64);
        assert_eq!(trial_seed(7, 0), trial_seed(7, 0));
    }
}
