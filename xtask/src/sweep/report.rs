//! The result files of a sweep, made from its plan and whatever its trial directories hold:
//! `trials.csv` (a row per trial), `summary.csv` and `summary.md` (a row per point, best first)
//! and the plots (see `plot`). `cargo xtask experiment` writes them after its trials, `cargo
//! xtask collect` from the trial directories alone; both run this same code.

use std::path::Path;

use backprop_cli::CliError;
use backprop_cli::fsutil::write_atomic;
use rayon::prelude::*;

use super::plan::{Plan, Resolved};
use super::plot;
use super::trial::{self, Status, TrialResult};

/// Fields of `summary.json` that get a `trials.csv` column of their own, when any trial has them
/// (`r2`, `mse`, `mae`, `bit_accuracy` and `exact_match` are its regression report's, in the
/// targets' own units).
const OPTIONAL: [&str; 10] = [
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

/// Fields of `summary.json` that `trials.csv` leaves out (or shows under another name).
const OMITTED: [&str; 8] =
    ["final_cost", "best_cost", "epochs_run", "train_seconds", "seed", "parameters", "initial_cost", "stop_epoch"];

/// What the result files say, for the caller to print.
pub struct Report {
    /// `summary.md`.
    pub markdown: String,
    /// Trials with no result yet.
    pub missing: usize,
    /// Of which have a result of another config than the plan's (counted as no result).
    pub stale: usize,
    /// Trials that failed.
    pub failed: usize,
}

/// Mean, sample standard deviation (n − 1), median, min and max.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stats {
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (NaN for one value).
    pub std: f64,
    /// Median (the mean of the middle two for an even count).
    pub median: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

impl Stats {
    /// The statistics of `values` (finite ones only); `None` when there are none.
    pub fn of(values: &[f64]) -> Option<Stats> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let std =
            if v.len() > 1 { (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt() } else { f64::NAN };
        Some(Stats { mean, std, median: percentile(&v, 0.5), min: v[0], max: v[v.len() - 1] })
    }

    fn cells(stats: Option<Stats>) -> [Option<f64>; 5] {
        match stats {
            Some(s) => [Some(s.mean), Some(s.std), Some(s.median), Some(s.min), Some(s.max)],
            None => [None; 5],
        }
    }
}

/// The `q`-quantile of sorted values, interpolating linearly between neighbours (numpy's
/// default).
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (i, frac) = (pos.floor() as usize, pos - pos.floor());
    match sorted.get(i + 1) {
        Some(next) if frac > 0.0 => sorted[i] + (next - sorted[i]) * frac,
        _ => sorted[i],
    }
}

/// One row of `summary.csv`.
#[derive(Clone, Debug)]
pub struct PointRow {
    /// The point.
    pub point: usize,
    /// Trials that ran: `ok`, diverged or failed (not missing).
    pub n: usize,
    /// Of which diverged.
    pub diverged: usize,
    /// Of which failed.
    pub failed: usize,
    /// Successes over `n` (NaN when `n` is 0).
    pub success_rate: f64,
    /// The success rate's 95% confidence interval ([`wilson`]; NaNs when `n` is 0).
    pub success_ci: (f64, f64),
    /// The success metric over the `ok` trials.
    pub metric: Option<Stats>,
    /// Validation accuracy over the `ok` trials, where measured.
    pub val_accuracy: Option<Stats>,
}

/// Reads every trial of `plan` under `dir`, writes the result files and returns the summary.
/// With the plan's `configs`, a trial whose result is of another config (see
/// [`trial::is_stale`]) has no result.
pub fn write_all(dir: &Path, plan: &Plan, configs: Option<&Resolved>) -> Result<Report, CliError> {
    let (results, stale): (Vec<TrialResult>, Vec<bool>) = plan
        .trials
        .par_iter()
        .map(|t| {
            let trial_dir = dir.join(&t.dir);
            match configs {
                Some(c) if trial::is_stale(&trial_dir, &c.trial_config(t)) => (TrialResult::missing(), true),
                _ => (trial::read(&trial_dir), false),
            }
        })
        .unzip();
    write_atomic(&dir.join("trials.csv"), &trials_csv(plan, &results)?)?;
    let rows = summarize(plan, &results);
    let with_val = val_columns(plan, &results);
    write_atomic(&dir.join("summary.csv"), &summary_csv(plan, &rows, with_val)?)?;
    let markdown = summary_md(plan, &rows, with_val, &results);
    write_atomic(&dir.join("summary.md"), markdown.as_bytes())?;
    let order: Vec<usize> = rows.iter().map(|r| r.point).collect();
    plot::write_all(dir, plan, &results, &order)?;
    Ok(Report {
        markdown,
        missing: results.iter().filter(|r| r.status == Status::Missing).count(),
        stale: stale.iter().filter(|s| **s).count(),
        failed: results.iter().filter(|r| r.status == Status::Failed).count(),
    })
}

/// Whether the summaries get `val_accuracy_*` columns: when a trial measured it and it is not
/// already the success metric (whose columns are the first statistics).
fn val_columns(plan: &Plan, results: &[TrialResult]) -> bool {
    plan.success.metric != "val_accuracy" && results.iter().any(|r| r.number("val_accuracy").is_some())
}

/// The numeric fields beyond the fixed columns that any trial's summary holds: the known
/// optional ones first, then any other (future) field, sorted.
fn extra_columns(results: &[TrialResult], metric: &str) -> Vec<String> {
    let present = |k: &str| results.iter().any(|r| r.number(k).is_some());
    // The success metric has a column, also one left out otherwise (`initial_cost`).
    let fixed = ["final_cost", "best_cost", "epochs_run", "train_seconds"];
    let own = OMITTED.contains(&metric) && !fixed.contains(&metric) && present(metric);
    let mut cols: Vec<String> = own.then(|| metric.to_string()).into_iter().collect();
    cols.extend(OPTIONAL.iter().filter(|k| present(k)).map(|k| k.to_string()));
    let mut others: Vec<String> = results
        .iter()
        .flat_map(|r| r.summary.iter().filter(|(_, v)| v.is_number()).map(|(k, _)| k.clone()))
        .filter(|k| !OPTIONAL.contains(&k.as_str()) && !OMITTED.contains(&k.as_str()))
        .collect();
    others.sort();
    others.dedup();
    cols.extend(others);
    cols
}

fn trials_csv(plan: &Plan, results: &[TrialResult]) -> Result<Vec<u8>, CliError> {
    let extra = extra_columns(results, &plan.success.metric);
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = vec!["trial".into()];
    header.extend(plan.keys.iter().cloned());
    header.extend(["seed", "status", "success", "final_cost", "best_cost", "epochs_run", "seconds"].map(String::from));
    header.extend(extra.iter().cloned());
    header.push("reason".into());
    w.write_record(&header).map_err(csv_error)?;
    let field = |r: &TrialResult, k: &str| r.field(k).filter(|v| v.is_number()).map(|v| v.to_string());
    for (t, r) in plan.trials.iter().zip(results) {
        if r.status == Status::Missing {
            continue;
        }
        let mut row: Vec<String> = vec![t.index.to_string()];
        row.extend(plan.points[t.point].values.iter().map(|v| csv_cell(v)));
        row.push(t.seed.to_string());
        row.push(r.status.name().into());
        // As the success rate counts it: an `ok` trial whose metric meets the threshold.
        let success = r.status == Status::Ok && plan.success.is_met(r.number(&plan.success.metric));
        row.push(success.to_string());
        for k in ["final_cost", "best_cost", "epochs_run", "train_seconds"] {
            row.push(field(r, k).unwrap_or_default());
        }
        for k in &extra {
            row.push(field(r, k).unwrap_or_default());
        }
        row.push(r.reason.clone());
        w.write_record(&row).map_err(csv_error)?;
    }
    w.into_inner().map_err(|e| CliError::Failed(format!("cannot write trials.csv: {e}")))
}

/// A grid value (TOML text) as a CSV cell: a string as its text (`tanh`, where the TOML
/// `"tanh"` became `"""tanh"""` in CSV and needed the quotes to be matched), a float as
/// [`number_text`] shows it; arrays and tables as their TOML.
fn csv_cell(value: &str) -> String {
    match toml::from_str::<toml::Table>(&format!("v = {value}")).ok().and_then(|mut t| t.remove("v")) {
        // Bare unless a reader would take it for something else: `"01"` for the number 1,
        // `"True"` for a boolean, `"NA"` for a missing value (pandas' defaults).
        Some(toml::Value::String(text)) if !reads_as_other(&text) => text,
        Some(toml::Value::Float(_)) => number_text(value),
        _ => value.to_string(),
    }
}

/// Whether a CSV reader (pandas' `read_csv` with its defaults) would read `text` as a number, a
/// boolean or a missing value rather than as this text.
fn reads_as_other(text: &str) -> bool {
    const MISSING: [&str; 19] = [
        "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA",
        "NULL", "NaN", "None", "n/a", "nan", "null",
    ];
    let t = text.trim();
    t.parse::<f64>().is_ok()
        || t.eq_ignore_ascii_case("true")
        || t.eq_ignore_ascii_case("false")
        || MISSING.contains(&t)
}

fn csv_error(e: csv::Error) -> CliError {
    CliError::Failed(format!("cannot write csv: {e}"))
}

/// A row per point, best first: highest success rate, then the best median of the metric
/// (lowest, or highest when higher is better), then plan order.
pub fn summarize(plan: &Plan, results: &[TrialResult]) -> Vec<PointRow> {
    let mut rows: Vec<PointRow> = plan
        .points
        .iter()
        .map(|p| {
            let mine: Vec<&TrialResult> = plan
                .trials
                .iter()
                .zip(results)
                .filter(|(t, r)| t.point == p.index && r.status != Status::Missing)
                .map(|(_, r)| r)
                .collect();
            let ok: Vec<&&TrialResult> = mine.iter().filter(|r| r.status == Status::Ok).collect();
            let metric = |k: &str| ok.iter().filter_map(|r| r.number(k)).collect::<Vec<f64>>();
            let successes = ok.iter().filter(|r| plan.success.is_met(r.number(&plan.success.metric))).count();
            let n = mine.len();
            PointRow {
                point: p.index,
                n,
                diverged: mine.iter().filter(|r| r.status == Status::Diverged).count(),
                failed: mine.iter().filter(|r| r.status == Status::Failed).count(),
                success_rate: if n == 0 { f64::NAN } else { successes as f64 / n as f64 },
                success_ci: wilson(successes, n),
                metric: Stats::of(&metric(&plan.success.metric)),
                val_accuracy: Stats::of(&metric("val_accuracy")),
            }
        })
        .collect();
    let higher = plan.success.higher_is_better();
    // Best first: the success rate; at equal rates the point whose trials broke least often
    // (diverged or failed, of those that ran), then the better median, the better mean (medians
    // of accuracies tie often), the more trials, and plan order last.
    let lowest_first = |x: f64| if x.is_nan() { f64::INFINITY } else { x };
    let better_first = |x: f64| lowest_first(if higher { -x } else { x });
    let key = |r: &PointRow| {
        let broke = if r.n == 0 { f64::NAN } else { (r.diverged + r.failed) as f64 / r.n as f64 };
        [
            lowest_first(-r.success_rate),
            lowest_first(broke),
            better_first(r.metric.map_or(f64::NAN, |s| s.median)),
            better_first(r.metric.map_or(f64::NAN, |s| s.mean)),
        ]
    };
    rows.sort_by(|a, b| {
        let (ka, kb) = (key(a), key(b));
        ka.iter()
            .zip(&kb)
            .map(|(x, y)| x.total_cmp(y))
            .fold(std::cmp::Ordering::Equal, std::cmp::Ordering::then)
            .then(b.n.cmp(&a.n))
            .then(a.point.cmp(&b.point))
    });
    rows
}

/// The 95% confidence interval of a success rate of `successes` in `n` trials: Wilson's score
/// interval (statsmodels' `proportion_confint(method="wilson")`, scipy's
/// `binomtest(...).proportion_ci(method="wilson")`),
/// `(p̂ + z²/2n ± z·√(p̂(1 − p̂)/n + z²/4n²)) / (1 + z²/n)` with `z` the normal's 97.5% quantile.
/// Unlike `p̂ ± z·√(p̂(1 − p̂)/n)`, it is not a point at 0% or 100% (82 of 100 gives 73.3–88.3%,
/// 100 of 100 gives 96.3–100%). NaNs for `n` = 0.
pub fn wilson(successes: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    const Z: f64 = 1.959_963_984_540_054;
    let (k, n) = (successes as f64, n as f64);
    let p = k / n;
    let z2n = Z * Z / n;
    let centre = (p + z2n / 2.0) / (1.0 + z2n);
    let half = Z * (p * (1.0 - p) / n + z2n / (4.0 * n)).sqrt() / (1.0 + z2n);
    // At 0 or n successes the end is 0 or 1 exactly (rounding left it an ulp off).
    let low = if successes == 0 { 0.0 } else { (centre - half).max(0.0) };
    let high = if k == n { 1.0 } else { (centre + half).min(1.0) };
    (low, high)
}

const STAT_NAMES: [&str; 5] = ["mean", "std", "median", "min", "max"];

fn summary_header(plan: &Plan, with_val: bool) -> Vec<String> {
    let mut header: Vec<String> = plan.keys.clone();
    header.extend(["n", "diverged", "failed", "success_rate", "success_low", "success_high"].map(String::from));
    header.extend(STAT_NAMES.map(String::from));
    if with_val {
        header.extend(STAT_NAMES.map(|s| format!("val_accuracy_{s}")));
    }
    header
}

fn summary_csv(plan: &Plan, rows: &[PointRow], with_val: bool) -> Result<Vec<u8>, CliError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(summary_header(plan, with_val)).map_err(csv_error)?;
    let num = |x: Option<f64>| x.filter(|v| v.is_finite()).map(|v| v.to_string()).unwrap_or_default();
    for r in rows {
        let mut row: Vec<String> = plan.points[r.point].values.iter().map(|v| csv_cell(v)).collect();
        row.extend([r.n.to_string(), r.diverged.to_string(), r.failed.to_string(), num(Some(r.success_rate))]);
        row.extend([num(Some(r.success_ci.0)), num(Some(r.success_ci.1))]);
        row.extend(Stats::cells(r.metric).map(num));
        if with_val {
            row.extend(Stats::cells(r.val_accuracy).map(num));
        }
        w.write_record(&row).map_err(csv_error)?;
    }
    w.into_inner().map_err(|e| CliError::Failed(format!("cannot write summary.csv: {e}")))
}

fn summary_md(plan: &Plan, rows: &[PointRow], with_val: bool, results: &[TrialResult]) -> String {
    let done = results.iter().filter(|r| r.status != Status::Missing).count();
    // "Strict": a threshold's inequality; no threshold, no inequality to qualify.
    let strict = if plan.success.below.is_some() || plan.success.above.is_some() { " (strict)" } else { "" };
    let mut md = format!(
        "Sweep `{}` ({}): {} × {}, {done} of {} trials finished. Success: {}{strict}; \
         95% CI is the success rate's confidence interval (Wilson score: points whose intervals \
         overlap may differ by chance alone); mean…max are {} over the trials with status ok.\n\n",
        plan.name,
        plan.config.display(),
        count(plan.points.len(), "point"),
        count(plan.seeds as usize, "seed"),
        plan.trials.len(),
        plan.success.describe(),
        plan.success.metric,
    );
    // One column for the interval's two ends.
    let header: Vec<String> = summary_header(plan, with_val)
        .iter()
        .filter(|h| *h != "success_high")
        .map(|h| if h == "success_low" { "95% CI".to_string() } else { cell(h) })
        .collect();
    md.push_str(&format!("| {} |\n", header.join(" | ")));
    let aligns: Vec<&str> =
        header.iter().enumerate().map(|(i, _)| if i < plan.keys.len() { "---" } else { "---:" }).collect();
    md.push_str(&format!("|{}|\n", aligns.join("|")));
    for r in rows {
        let mut cells: Vec<String> = plan.points[r.point].values.iter().map(|v| cell(&csv_cell(v))).collect();
        cells.extend([r.n.to_string(), r.diverged.to_string(), r.failed.to_string(), percent(r.success_rate)]);
        cells.push(match r.success_ci {
            (low, _) if low.is_nan() => "–".into(),
            (low, high) => format!("{}–{}", percent(low), percent(high)),
        });
        cells.extend(Stats::cells(r.metric).map(short));
        if with_val {
            cells.extend(Stats::cells(r.val_accuracy).map(short));
        }
        md.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    md
}

/// `text` as one cell of a Markdown table: `|` escaped, line breaks as spaces (a value such as a
/// path may hold either, and would break the table).
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// A grid value as the table shows it: a float whose TOML text is long (`1e200` is written out
/// in 201 digits) in Rust's shortest exponent form where that is shorter (it reads back to the
/// same number); any other value, integers included (a seed of 19 digits is not an f64), as it
/// is.
fn number_text(value: &str) -> String {
    let float = value.contains(['.', 'e', 'E']);
    match value.parse::<f64>() {
        Ok(x) if float && value.len() > 16 && x.is_finite() && format!("{x:e}").len() < value.len() => {
            format!("{x:e}")
        }
        _ => value.to_string(),
    }
}

fn percent(x: f64) -> String {
    if x.is_nan() {
        return "–".into();
    }
    let p = 100.0 * x;
    if (p - p.round()).abs() < 1e-9 { format!("{p:.0}%") } else { format!("{p:.1}%") }
}

/// A number in 4 significant digits, for tables and axis labels.
pub fn short(x: Option<f64>) -> String {
    match x {
        None => "–".into(),
        Some(v) if !v.is_finite() => "–".into(),
        Some(0.0) => "0".into(),
        Some(v) if (1e-3..1e5).contains(&v.abs()) => {
            let digits = (3 - libm::log10(v.abs()).floor() as i32).max(0) as usize;
            let s = format!("{v:.digits$}");
            if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
        }
        Some(v) => {
            let s = format!("{v:.3e}");
            match s.split_once('e') {
                Some((m, e)) => format!("{}e{e}", m.trim_end_matches('0').trim_end_matches('.')),
                None => s,
            }
        }
    }
}

/// `n` and `noun`, plural but for one: `1 point`, `3 seeds`.
pub(crate) fn count(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::plan::plan_of;
    use crate::sweep::spec::Success;

    /// Reference values: the roots of (p̂ − p)² = z²·p(1 − p)/n by the quadratic formula (an
    /// independent route to Wilson's interval), in Python:
    /// `z = statistics.NormalDist().inv_cdf(0.975); a = 1 + z*z/n; b = -(2*k/n + z*z/n);
    /// c = (k/n)**2; d = math.sqrt(b*b - 4*a*c); ((-b - d)/(2*a), (-b + d)/(2*a))`.
    #[test]
    fn wilson_interval_matches_the_roots_of_its_quadratic() {
        let cases = [
            (82, 100, 0.733326416136992, 0.8829977450105371),
            (99, 100, 0.9455138038212931, 0.9982325679358607),
            (0, 10, 0.0, 0.27753279986288915),
            (10, 10, 0.7224672001371111, 1.0),
            (1, 1, 0.2065493143772375, 1.0),
            (3, 7, 0.15821985525146975, 0.7495416354723426),
            (500, 1000, 0.4690696003681045, 0.5309303996318955),
        ];
        for (k, n, low, high) in cases {
            let (l, h) = wilson(k, n);
            assert!((l - low).abs() < 1e-12 && (h - high).abs() < 1e-12, "{k}/{n}: ({l}, {h}), want ({low}, {high})");
        }
        // The ends at 0 and n successes are exact, and no trial gives no interval.
        assert_eq!((wilson(0, 5).0, wilson(5, 5).1), (0.0, 1.0));
        assert!(wilson(0, 0).0.is_nan() && wilson(0, 0).1.is_nan());
    }

    #[test]
    fn stats_and_percentiles() {
        let s = Stats::of(&[3.0, 1.0, 2.0, f64::NAN, 4.0]).unwrap();
        assert_eq!((s.mean, s.median, s.min, s.max), (2.5, 2.5, 1.0, 4.0));
        assert!((s.std - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(percentile(&[0.0, 10.0], 0.1), 1.0);
        // At an exact index, that value: no interpolation, even where the neighbours' difference
        // overflows.
        assert_eq!(percentile(&[-f64::MAX, f64::MAX], 0.0), -f64::MAX);
        assert_eq!(percentile(&[-f64::MAX, 1.0, f64::MAX], 0.5), 1.0);
        assert!(Stats::of(&[]).is_none());
    }

    #[test]
    fn markdown_cells_escape_bars_and_line_breaks() {
        assert_eq!(cell("\"a|b.csv\""), "\"a\\|b.csv\"");
        assert_eq!(cell("two\nlines\r\n"), "two lines  ");
        assert_eq!(cell("0.5"), "0.5");
    }

    /// A trial's result with `summary.json` fields `fields`.
    fn result(status: Status, fields: serde_json::Value) -> TrialResult {
        let serde_json::Value::Object(summary) = fields else { panic!("an object") };
        TrialResult { status, reason: String::new(), summary }
    }

    fn ok(final_cost: f64, val_accuracy: f64) -> TrialResult {
        result(Status::Ok, serde_json::json!({ "final_cost": final_cost, "val_accuracy": val_accuracy }))
    }

    /// Four points × four seeds, success `final_cost < 0.01`: counts, success rates, the metric's
    /// statistics over the `ok` trials, and the order (rate first, then the median).
    #[test]
    fn points_are_counted_rated_and_ranked() {
        let mut plan = plan_of(4, 4);
        plan.success = Success { metric: "final_cost".into(), below: Some(0.01), above: None };
        let failed = TrialResult { status: Status::Failed, reason: "x".into(), summary: Default::default() };
        let diverged = result(Status::Diverged, serde_json::json!({ "final_cost": 3.0 }));
        let results = vec![
            // Point 0: 2 of 3 (one missing).
            ok(0.5, 0.5),
            ok(0.001, 0.6),
            ok(0.002, 0.7),
            TrialResult::missing(),
            // Point 1: 2 of 4, one diverged and one failed.
            ok(0.005, 0.9),
            ok(0.003, 0.9),
            diverged,
            failed,
            // Point 2: 3 of 4, median 0.003.
            ok(0.001, 0.95),
            ok(0.002, 0.95),
            ok(0.2, 0.95),
            ok(0.004, 0.95),
            // Point 3: 3 of 4, median 0.0025: ranked before point 2.
            ok(0.002, 0.99),
            ok(0.003, 0.99),
            ok(0.002, 0.99),
            ok(0.5, 0.99),
        ];
        let rows = summarize(&plan, &results);
        let order: Vec<usize> = rows.iter().map(|r| r.point).collect();
        assert_eq!(order, [3, 2, 0, 1]);
        let by_point = |p: usize| rows.iter().find(|r| r.point == p).unwrap();
        let p0 = by_point(0);
        assert_eq!((p0.n, p0.diverged, p0.failed), (3, 0, 0));
        assert_eq!(p0.success_rate, 2.0 / 3.0);
        let s = p0.metric.unwrap();
        assert_eq!((s.median, s.min, s.max), (0.002, 0.001, 0.5));
        assert_eq!(s.mean, (0.5 + 0.001 + 0.002) / 3.0);
        let p1 = by_point(1);
        assert_eq!((p1.n, p1.diverged, p1.failed, p1.success_rate), (4, 1, 1, 0.5));
        assert_eq!(p1.metric.unwrap().max, 0.005, "only ok trials enter the statistics");
        assert_eq!(by_point(2).val_accuracy.unwrap().median, 0.95);

        // Equal rates and medians: the fewer broken trials, then the better mean, then the
        // more trials, rank first (accuracy medians tie often).
        let mut tied = plan_of(4, 4);
        tied.success = Success { metric: "final_cost".into(), below: Some(0.01), above: None };
        let tied_results = vec![
            // Point 0: 1 of 4 ok (median 0.5), 3 diverged: no success.
            ok(0.5, 0.5),
            result(Status::Diverged, serde_json::json!({ "final_cost": 3.0 })),
            result(Status::Diverged, serde_json::json!({ "final_cost": 3.0 })),
            result(Status::Diverged, serde_json::json!({ "final_cost": 3.0 })),
            // Point 1: 4 ok, median 0.6 (worse), no success: ranked before point 0.
            ok(0.6, 0.5),
            ok(0.6, 0.5),
            ok(0.6, 0.5),
            ok(0.6, 0.5),
            // Point 2: median 0.005 as point 3, mean 0.0055: after point 3.
            ok(0.004, 0.5),
            ok(0.005, 0.5),
            ok(0.005, 0.5),
            ok(0.008, 0.5),
            // Point 3: median 0.005, mean 0.005.
            ok(0.005, 0.5),
            ok(0.005, 0.5),
            ok(0.005, 0.5),
            ok(0.005, 0.5),
        ];
        let order: Vec<usize> = summarize(&tied, &tied_results).iter().map(|r| r.point).collect();
        assert_eq!(order, [3, 2, 1, 0]);

        // Higher is better (a threshold from above): equal rates ranked by the highest median.
        plan.success = Success { metric: "val_accuracy".into(), below: None, above: Some(0.8) };
        let rows = summarize(&plan, &results);
        let order: Vec<usize> = rows.iter().map(|r| r.point).collect();
        assert_eq!(order, [3, 2, 1, 0], "{:?}", rows.iter().map(|r| r.success_rate).collect::<Vec<_>>());

        // summary.csv: a row per point in that order, the statistics in their columns; no
        // val_accuracy_* columns when it is the metric, and with them otherwise.
        assert!(!val_columns(&plan, &results));
        plan.success = Success { metric: "final_cost".into(), below: Some(0.01), above: None };
        assert!(val_columns(&plan, &results));
        assert!(!val_columns(
            &plan,
            &[ok(0.1, f64::NAN), result(Status::Ok, serde_json::json!({ "final_cost": 1.0 }))]
        ));
        let rows = summarize(&plan, &results);
        let csv = String::from_utf8(summary_csv(&plan, &rows, true).unwrap()).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "optim.lr,n,diverged,failed,success_rate,success_low,success_high,mean,std,median,min,max,\
             val_accuracy_mean,val_accuracy_std,val_accuracy_median,val_accuracy_min,val_accuracy_max"
        );
        let p0_line: Vec<&str> = lines[3].split(',').collect();
        assert_eq!(p0_line[..5], ["0.5", "3", "0", "0", &(2.0f64 / 3.0).to_string()]);
        let (low, high) = wilson(2, 3);
        assert_eq!(p0_line[5..7], [low.to_string(), high.to_string()]);
        assert_eq!(p0_line[9..12], ["0.002", "0.001", "0.5"]);
        assert_eq!(p0_line[14..17], ["0.6", "0.5", "0.7"]);

        // summary.md: the swept keys' columns left-aligned, the numbers right-aligned.
        let md = summary_md(&plan, &rows, false, &results);
        let lines: Vec<&str> = md.lines().collect();
        assert!(lines[0].contains("4 points × 4 seeds, 15 of 16 trials finished"), "{}", lines[0]);
        assert_eq!(
            lines[2],
            "| optim.lr | n | diverged | failed | success_rate | 95% CI | mean | std | median | min | max |"
        );
        assert_eq!(lines[3], format!("|---|{}", "---:|".repeat(10)));
        assert!(lines[4].starts_with("| 3.5 | 4 | 0 | 0 | 75% | 30.1%–95.4% |"), "{}", lines[4]);
    }

    /// trials.csv's extra columns: the known optional fields present in any trial, then other
    /// numeric fields, sorted; never a field with a fixed column or one left out.
    #[test]
    fn extra_columns_are_the_optional_then_the_unknown_numeric_fields() {
        let results = [
            result(Status::Ok, serde_json::json!({ "final_cost": 1.0, "seed": 3, "zeta": 1.5, "val_cost": 0.5 })),
            result(Status::Ok, serde_json::json!({ "accuracy": 0.5, "alpha": 2, "note": "text" })),
        ];
        assert_eq!(extra_columns(&results, "final_cost"), ["accuracy", "val_cost", "alpha", "zeta"]);
        // The success metric has a column of its own, first, also where others are left out.
        let with_initial = [result(Status::Ok, serde_json::json!({ "initial_cost": 0.3, "parameters": 9 }))];
        assert_eq!(extra_columns(&with_initial, "initial_cost"), ["initial_cost"]);
        assert!(extra_columns(&with_initial, "final_cost").is_empty());
    }

    #[test]
    fn long_grid_values_are_shown_short() {
        assert_eq!(number_text(&toml::Value::Float(1e200).to_string()), "1e200");
        assert_eq!(number_text(&toml::Value::Float(1.5e-300).to_string()), "1.5e-300");
        for plain in ["0.5", "2.0", "[2, 2]", "\"adam\"", "0.30000000000000004e0x"] {
            assert_eq!(number_text(plain), plain);
        }
        assert_eq!(number_text("0.30000000000000004"), "0.30000000000000004");
        // Integers are shown whole: two seeds of 19 digits are two values, which f64 would merge.
        assert_eq!(number_text("1200000000000000001"), "1200000000000000001");
        // In CSV, a string is its text, a float as in the table, the rest its TOML.
        assert_eq!(csv_cell("\"tanh\""), "tanh");
        // A string that would read as a number or a boolean keeps its quotes.
        assert_eq!(
            (csv_cell("\"01\""), csv_cell("\"1\""), csv_cell("\"true\"")),
            ("\"01\"".into(), "\"1\"".into(), "\"true\"".into())
        );
        for other in ["\"True\"", "\"NA\"", "\"null\"", "\"N/A\"", "\"\""] {
            assert_eq!(csv_cell(other), other, "a missing value or a boolean to pandas");
        }
        assert_eq!(csv_cell("\"a \\\"b\\\"\""), "a \"b\"");
        assert_eq!(csv_cell(&toml::Value::Float(1e300).to_string()), "1e300");
        assert_eq!(csv_cell("0.5"), "0.5");
        assert_eq!(csv_cell("[2, 2]"), "[2, 2]");
        assert_eq!(csv_cell("{ kind = \"adam\" }"), "{ kind = \"adam\" }");
    }

    #[test]
    fn short_numbers() {
        assert_eq!(short(Some(0.0005085364)), "5.085e-4");
        assert_eq!(short(Some(0.25)), "0.25");
        assert_eq!(short(Some(1234.5678)), "1235");
        assert_eq!(short(Some(0.012345)), "0.01235");
        assert_eq!(short(None), "–");
        assert_eq!((short(Some(f64::INFINITY)), short(Some(f64::NAN))), ("–".to_string(), "–".to_string()));
        assert_eq!(percent(0.85), "85%");
        assert_eq!(percent(0.845), "84.5%");
    }
}
