//! The sweep's plots, as SVG:
//! - `curves.svg`: the cost per epoch of each point (the best [`MAX_CURVES`], from each trial's
//!   `metrics.csv`): the median over its trials as a line, the 10th to 90th percentile as a
//!   band; a log-scale cost axis when the costs span more than two decades.
//! - `metric_vs_<key>.svg` for each swept key: the success metric of every `ok` trial against
//!   the key's value (a dot per trial, coloured by success, jittered sideways at a repeated
//!   value), the median at each value as a line, and the success threshold; each diverged
//!   trial a cross in a band past the end of the axis where failure lies.
//!
//! A legend goes in the corner where it hides the fewest points (matplotlib's `loc="best"`).
//!
//! Axes are plain linear axes over the value or its log10, with their ticks chosen here, so
//! one chart type serves every plot.

use std::error::Error;
use std::path::Path;

use backprop_cli::CliError;
use backprop_cli::fsutil::{MODEL_LIMIT, read_input, write_atomic};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use rayon::prelude::*;

use super::plan::Plan;
use super::report::{percentile, short};
use super::trial::{Status, TrialResult};

/// The most points `curves.svg` draws (the best ones).
pub const MAX_CURVES: usize = 10;

/// Up to this many distinct values of a key are drawn as columns of jittered dots.
const MAX_DISCRETE: usize = 12;

/// The most epochs a curve samples (evenly spaced, the first and last included).
const MAX_SAMPLES: usize = 500;

/// The legend's entry for diverged trials, drawn as crosses in a band past the metric's values.
const DIVERGED: &str = "diverged (no metric)";

/// Colours of the series (matplotlib's tab10).
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<Ticked, Ticked>>;
type DrawResult = Result<(), Box<dyn Error>>;

/// Writes `curves.svg` and one `metric_vs_<key>.svg` per key; `order` is the points, best first.
pub fn write_all(dir: &Path, plan: &Plan, results: &[TrialResult], order: &[usize]) -> Result<(), CliError> {
    let fail = |what: &str, e: Box<dyn Error>| CliError::Failed(format!("cannot draw {what}: {e}"));
    let svg = curves(dir, plan, results, order).map_err(|e| fail("curves.svg", e))?;
    write_atomic(&dir.join("curves.svg"), svg.as_bytes())?;
    for (k, key) in plan.keys.iter().enumerate() {
        let name = format!("metric_vs_{}.svg", file_safe(key));
        let svg = metric_vs(plan, results, k).map_err(|e| fail(&name, e))?;
        write_atomic(&dir.join(&name), svg.as_bytes())?;
    }
    Ok(())
}

/// `key` with every character but letters, digits, `.`, `-` and `_` replaced by `_`.
pub fn file_safe(key: &str) -> String {
    key.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect()
}

/// An axis: a range over the plotted coordinate (the value, or its log10), its ticks, and how
/// a tick is labelled.
struct Scale {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
    log: bool,
    /// Category names, for an axis of categories at 0, 1, ….
    categories: Option<Vec<String>>,
    title: String,
}

impl Scale {
    /// A linear or (when every value is positive and they span more than two decades) log axis
    /// over `values`.
    fn over(values: &[f64], title: &str) -> Scale {
        Self::over_from(values, title, |ratio| ratio > 100.0)
    }

    /// [`over`](Self::over) for a grid's values, log from two decades on: a learning rate's
    /// 0.001, 0.01, 0.1 are a decade apart each, not 0.001 and 0.01 squeezed at one end.
    fn over_grid(values: &[f64], title: &str) -> Scale {
        // In logarithms: 0.7 / 0.007 is 99.99999999999999.
        Self::over_from(values, title, |ratio| libm::log10(ratio) >= 2.0 - 1e-9)
    }

    /// A log axis when every value is positive and `log_for` the ratio of the largest to the
    /// smallest, else linear.
    fn over_from(values: &[f64], title: &str, log_for: impl Fn(f64) -> bool) -> Scale {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let (min, max) = finite.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
        let (min, max) = if finite.is_empty() { (0.0, 1.0) } else { (min, max) };
        let log = min > 0.0 && log_for(max / min);
        let (lo, hi) = if log { (libm::log10(min), libm::log10(max)) } else { (min, max) };
        let pad = if hi > lo { 0.05 * (hi - lo) } else { 0.5 * lo.abs().max(1.0) };
        let (lo, hi) = (lo - pad, hi + pad);
        let ticks = if log { decade_ticks(lo, hi) } else { nice_ticks(lo, hi, 6) };
        Scale { lo, hi, ticks, log, categories: None, title: title.to_string() }
    }

    /// An axis of named categories at 0, 1, ….
    fn categories(names: Vec<String>, title: &str) -> Scale {
        let n = names.len() as f64;
        Scale {
            lo: -0.5,
            hi: n - 0.5,
            ticks: (0..names.len()).map(|i| i as f64).collect(),
            log: false,
            categories: Some(names),
            title: title.to_string(),
        }
    }

    /// The plotted coordinate of a value.
    fn at(&self, v: f64) -> f64 {
        if self.log { libm::log10(v) } else { v }
    }

    fn label(&self, t: f64) -> String {
        match &self.categories {
            Some(names) => names.get(t.round().max(0.0) as usize).cloned().unwrap_or_default(),
            None if self.log => short(Some(libm::pow(10.0, t))),
            None => short(Some(t)),
        }
    }
}

/// A linear axis over `lo..hi` whose ticks are given.
struct Ticked {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ranged for Ticked {
    type ValueType = f64;
    type FormatOption = DefaultFormatting;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let f = (v - self.lo) / (self.hi - self.lo);
        limit.0 + (f * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() { Vec::new() } else { self.ticks.clone() }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// About `n` round ticks (1, 2 or 5 × 10^k apart) within `[lo, hi]`.
fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let raw = (hi - lo) / (n.max(2) - 1) as f64;
    if !(raw.is_finite() && raw > 0.0) {
        return vec![lo];
    }
    let mag = libm::pow(10.0, libm::log10(raw).floor());
    let f = raw / mag;
    let step = mag
        * if f < 1.5 {
            1.0
        } else if f < 3.0 {
            2.0
        } else if f < 7.0 {
            5.0
        } else {
            10.0
        };
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).map(|t| if t.abs() < step * 1e-9 { 0.0 } else { t }).collect()
}

/// Ticks of a log10 axis: every decade, with 2× and 5× when it spans fewer than three; over
/// more than ten decades every k-th, so that there are at most about ten (a diverged run's
/// 1e306 beside a cost of 1e-15 labelled 322 decades, one over the other).
fn decade_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let (first, last) = (lo.floor() as i64, hi.ceil() as i64);
    let fine = hi - lo < 3.0;
    let every = ((last - first + 9) / 10).max(1);
    let mut ticks = Vec::new();
    for d in (first..=last).filter(|d| d.rem_euclid(every) == 0) {
        for m in if fine { &[1.0, 2.0, 5.0][..] } else { &[1.0][..] } {
            let t = d as f64 + libm::log10(*m);
            if (lo..=hi).contains(&t) {
                ticks.push(t);
            }
        }
    }
    ticks
}

/// Where a chart's legend goes and about how big it is: its entries' labels, and the points (in
/// plotted coordinates) it should not hide.
struct Legend<'a> {
    labels: Vec<String>,
    avoid: &'a [(f64, f64)],
}

impl Legend<'_> {
    /// The corner whose legend box covers the fewest of the points to avoid (matplotlib's
    /// `loc="best"`): upper right, upper left, lower right, lower left, the first on a tie.
    fn corner(&self, x: &Scale, y: &Scale) -> SeriesLabelPosition {
        // The box in pixels as plotters draws it (entries of about 20 px, 7 px a character and
        // the sample beside it), over the plotting area's pixels (the chart's size less its
        // label areas, margins and caption).
        let chars = self.labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
        let (w, h) = ((7 * chars + 50) as f64 / 850.0, (20 * self.labels.len() + 12) as f64 / 490.0);
        let inside = |(px, py): &(f64, f64), right: bool, upper: bool| {
            let fx = (px - x.lo) / (x.hi - x.lo);
            let fy = (py - y.lo) / (y.hi - y.lo);
            let in_x = if right { fx >= 1.0 - w } else { fx <= w };
            let in_y = if upper { fy >= 1.0 - h } else { fy <= h };
            in_x && in_y
        };
        let corners = [
            (SeriesLabelPosition::UpperRight, true, true),
            (SeriesLabelPosition::UpperLeft, false, true),
            (SeriesLabelPosition::LowerRight, true, false),
            (SeriesLabelPosition::LowerLeft, false, false),
        ];
        let covered = |right, upper| self.avoid.iter().filter(|p| inside(p, right, upper)).count();
        let best = corners.iter().min_by_key(|(_, right, upper)| covered(*right, *upper)).expect("four corners");
        best.0.clone()
    }
}

/// An SVG chart over `x` and `y`, with `draw` adding the series and a legend if any is labelled,
/// in the corner where it hides the fewest of `legend`'s points.
fn chart(
    caption: &str,
    x: &Scale,
    y: &Scale,
    legend: &Legend<'_>,
    draw: impl FnOnce(&mut Chart<'_, '_>) -> DrawResult,
) -> Result<String, Box<dyn Error>> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 600)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 18))
            .margin(14)
            .x_label_area_size(48)
            .y_label_area_size(80)
            .build_cartesian_2d(
                Ticked { lo: x.lo, hi: x.hi, ticks: x.ticks.clone() },
                Ticked { lo: y.lo, hi: y.hi, ticks: y.ticks.clone() },
            )?;
        let (xl, yl) = (|v: &f64| x.label(*v), |v: &f64| y.label(*v));
        chart
            .configure_mesh()
            .x_desc(x.title.as_str())
            .y_desc(y.title.as_str())
            .x_label_formatter(&xl)
            .y_label_formatter(&yl)
            .bold_line_style(BLACK.mix(0.12))
            .draw()?;
        draw(&mut chart)?;
        chart
            .configure_series_labels()
            .position(legend.corner(x, y))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.5))
            .draw()?;
        root.present()?;
    }
    Ok(svg)
}

/// `costs` with every value after its last finite one made that one (gaps before it stay).
fn hold_last(costs: &mut [f64]) {
    if let Some(last) = costs.iter().rposition(|c| c.is_finite()) {
        let value = costs[last];
        costs[last + 1..].fill(value);
    }
}

/// One point's curve: the sampled epochs with their 10th, 50th and 90th percentiles.
struct Curve {
    label: String,
    rows: Vec<(f64, f64, f64, f64)>,
}

fn curves(dir: &Path, plan: &Plan, results: &[TrialResult], order: &[usize]) -> Result<String, Box<dyn Error>> {
    let shown: Vec<usize> = order.iter().copied().take(MAX_CURVES).collect();
    let ran = |r: &TrialResult| matches!(r.status, Status::Ok | Status::Diverged);
    let last_epoch = plan
        .trials
        .iter()
        .zip(results)
        .filter(|(t, r)| shown.contains(&t.point) && ran(r))
        .filter_map(|(_, r)| r.number("epochs_run"))
        .fold(0.0f64, f64::max) as usize;
    let samples: Vec<usize> = if last_epoch < MAX_SAMPLES {
        (0..=last_epoch).collect()
    } else {
        let mut s: Vec<usize> = (0..MAX_SAMPLES)
            .map(|i| (i as f64 * last_epoch as f64 / (MAX_SAMPLES - 1) as f64).round() as usize)
            .collect();
        s.dedup();
        s
    };
    let mut slot = vec![usize::MAX; last_epoch + 1];
    for (i, e) in samples.iter().enumerate() {
        slot[*e] = i;
    }

    // Every shown trial's costs at the sampled epochs (NaN where it has none).
    let jobs: Vec<(usize, &str, bool)> = plan
        .trials
        .iter()
        .zip(results)
        .filter(|(t, r)| shown.contains(&t.point) && ran(r))
        // (An `ok` trial's reason is empty when it completed its epochs, and says why it
        // stopped otherwise.)
        .map(|(t, r)| (t.point, t.dir.as_str(), r.status == Status::Ok && !r.reason.is_empty()))
        .collect();
    // A trial that ended early without diverging (early stopping, `stop_below`) keeps its last
    // cost to the end: left out there, the median of the trials still running drew a late
    // rise that no trial had. A diverged trial's curve ends where it diverged.
    let series: Vec<(usize, Option<Vec<f64>>)> = jobs
        .par_iter()
        .map(|(p, d, ok)| {
            let mut costs = sampled_costs(&dir.join(d).join("metrics.csv"), &slot, samples.len());
            if *ok && let Some(c) = costs.as_mut() {
                hold_last(c);
            }
            (*p, costs)
        })
        .collect();
    // A trial that ran but whose metrics.csv cannot be read (missing or damaged) is left out of
    // its curve, and said so: not counted in the legend's n as if drawn. (One that was read and
    // holds no finite cost, a run that diverged at once, counts: it ran, and has nothing to draw.)
    for ((_, d, _), (_, costs)) in jobs.iter().zip(&series) {
        if costs.is_none() {
            errln!("warning: {}: cannot be read; left out of curves.svg", dir.join(d).join("metrics.csv").display());
        }
    }

    let mut curves = Vec::with_capacity(shown.len());
    for (rank, p) in shown.iter().enumerate() {
        let of_p: Vec<&Option<Vec<f64>>> = series.iter().filter(|(q, _)| q == p).map(|(_, s)| s).collect();
        let mine: Vec<&Vec<f64>> = of_p.iter().filter_map(|s| s.as_ref()).collect();
        let mut rows = Vec::with_capacity(samples.len());
        let mut column = Vec::with_capacity(mine.len());
        for (i, e) in samples.iter().enumerate() {
            column.clear();
            column.extend(mine.iter().map(|s| s[i]).filter(|v| v.is_finite()));
            if column.is_empty() {
                continue;
            }
            column.sort_by(f64::total_cmp);
            rows.push((*e as f64, percentile(&column, 0.1), percentile(&column, 0.5), percentile(&column, 0.9)));
        }
        let n = mine.len();
        let unread = of_p.len() - n;
        let count = if unread == 0 { format!("n={n}") } else { format!("n={n}; {unread} unreadable") };
        curves.push(Curve { label: format!("#{} {} ({count})", rank + 1, plan.point_label(*p)), rows });
    }

    let ys: Vec<f64> = curves.iter().flat_map(|c| c.rows.iter().flat_map(|r| [r.1, r.3])).collect();
    let x = Scale::over(&[0.0, last_epoch.max(1) as f64], "epoch");
    let mut y = Scale::over(&ys, "cost");
    let (xlo, xhi) = (0.0, last_epoch.max(1) as f64);
    y.title = if y.log { "cost (log scale)".into() } else { "cost".into() };
    let x = Scale { lo: xlo, hi: xhi, ..x };
    let more = if plan.points.len() > shown.len() {
        format!(", the best {} of {} points", shown.len(), plan.points.len())
    } else {
        String::new()
    };
    let caption = format!("{}: cost per epoch, median and 10th-90th percentile over seeds{more}", plan.name);
    let legend = Legend {
        labels: curves.iter().map(|c| c.label.clone()).collect(),
        avoid: &curves
            .iter()
            .flat_map(|c| c.rows.iter().flat_map(|r| [(r.0, y.at(r.1)), (r.0, y.at(r.3))]))
            .collect::<Vec<_>>(),
    };
    chart(&caption, &x, &y, &legend, |chart| {
        // Every band beneath every line: drawn over the best point's line, eight translucent
        // bands greyed it out.
        for (i, c) in curves.iter().enumerate().filter(|(_, c)| !c.rows.is_empty()) {
            let color = PALETTE[i % PALETTE.len()];
            let band: Vec<(f64, f64)> =
                c.rows.iter().map(|r| (r.0, y.at(r.3))).chain(c.rows.iter().rev().map(|r| (r.0, y.at(r.1)))).collect();
            chart.draw_series(std::iter::once(Polygon::new(band, color.mix(0.18).filled())))?;
        }
        for (i, c) in curves.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            if c.rows.is_empty() {
                continue;
            }
            chart
                .draw_series(LineSeries::new(c.rows.iter().map(|r| (r.0, y.at(r.2))), color.stroke_width(2)))?
                .label(c.label.as_str())
                .legend(move |(px, py)| PathElement::new(vec![(px, py), (px + 20, py)], color.stroke_width(2)));
        }
        Ok(())
    })
}

/// The `cost` column of a `metrics.csv` at the epochs `slot` maps to sample positions (NaN
/// where the file has none, or a cost that is not finite); `None` for a file that cannot be
/// read, has no `epoch` and `cost` columns, or no cost at any sampled epoch (a damaged file). Rows are one per epoch from 0, so only the
/// sampled lines are parsed; a file whose rows are not is read field by field.
fn sampled_costs(path: &Path, slot: &[usize], n: usize) -> Option<Vec<f64>> {
    let mut out = vec![f64::NAN; n];
    let bytes = read_input(path, MODEL_LIMIT, "metrics file").ok()?;
    let mut lines = bytes.split(|b| *b == b'\n');
    let header: Vec<&[u8]> = lines.next().unwrap_or_default().split(|b| *b == b',').collect();
    let (Some(ei), Some(ci)) = (header.iter().position(|h| *h == b"epoch"), header.iter().position(|h| *h == b"cost"))
    else {
        return None;
    };
    let field = |line: &[u8], i: usize| {
        line.split(|b| *b == b',').nth(i).and_then(|f| std::str::from_utf8(f).ok()).map(str::trim).map(str::to_string)
    };
    let mut in_order = true;
    // Whether any sampled row had a cost (a number, `NaN` and `inf` included).
    let mut read_one = false;
    // Fast path: the line number is the epoch; scan for newlines only.
    let data = &bytes[bytes.iter().position(|b| *b == b'\n').map_or(bytes.len(), |p| p + 1)..];
    let mut start = 0;
    // memchr finds each newline a word or a vector at a time (a byte loop was 3% of a sweep).
    for (row, i) in memchr::memchr_iter(b'\n', data).enumerate() {
        let line = &data[start..i];
        start = i + 1;
        if let Some(&s) = slot.get(row)
            && s != usize::MAX
        {
            if field(line, ei).and_then(|e| e.parse::<usize>().ok()) != Some(row) {
                in_order = false;
                break;
            }
            let cost = field(line, ci).and_then(|c| c.parse::<f64>().ok());
            read_one |= cost.is_some();
            out[s] = cost.unwrap_or(f64::NAN);
        }
    }
    if in_order {
        return read_one.then_some(out);
    }
    out.fill(f64::NAN);
    read_one = false;
    for line in data.split(|b| *b == b'\n') {
        let Some(e) = field(line, ei).and_then(|e| e.parse::<usize>().ok()) else { continue };
        if let Some(&s) = slot.get(e)
            && s != usize::MAX
        {
            let cost = field(line, ci).and_then(|c| c.parse::<f64>().ok());
            read_one |= cost.is_some();
            out[s] = cost.unwrap_or(f64::NAN);
        }
    }
    read_one.then_some(out)
}

fn metric_vs(plan: &Plan, results: &[TrialResult], k: usize) -> Result<String, Box<dyn Error>> {
    let key = &plan.keys[k];
    let metric = &plan.success.metric;
    let literal = |p: usize| plan.points[p].values[k].as_str();
    let number = |s: &str| s.parse::<f64>().ok().filter(|v| v.is_finite());
    let numeric = plan.points.iter().all(|p| number(&p.values[k]).is_some());

    // The key's distinct values in plan order, and each trial's position on the x axis.
    let mut distinct: Vec<&str> = Vec::new();
    for p in 0..plan.points.len() {
        if !distinct.contains(&literal(p)) {
            distinct.push(literal(p));
        }
    }
    let mut x = if numeric {
        let values: Vec<f64> = distinct.iter().filter_map(|s| number(s)).collect();
        let mut x = Scale::over_grid(&values, key);
        if distinct.len() <= MAX_DISCRETE {
            x.ticks = values.iter().map(|v| x.at(*v)).collect();
        }
        x
    } else {
        Scale::categories(distinct.iter().map(|s| s.to_string()).collect(), key)
    };
    let position = |x: &Scale, p: usize| match numeric {
        true => x.at(number(literal(p)).expect("numeric")),
        false => distinct.iter().position(|d| *d == literal(p)).expect("listed") as f64,
    };
    let mut xs: Vec<f64> = (0..plan.points.len()).map(|p| position(&x, p)).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    // A few distinct values: the trials of one value spread over 40% of the gap to the next,
    // and the axis leaves half a gap at each end.
    let jitter = if distinct.len() <= MAX_DISCRETE {
        let gap = xs.windows(2).map(|w| w[1] - w[0]).fold(f64::INFINITY, f64::min);
        let gap = if gap.is_finite() && gap > 0.0 { gap } else { 1.0 };
        x.lo = xs[0] - 0.5 * gap;
        x.hi = xs[xs.len() - 1] + 0.5 * gap;
        0.4 * gap
    } else {
        0.0
    };
    let x = x;

    // A fixed jitter per seed index (golden-ratio sequence), so a plot is reproducible.
    let offset = |seed_index: u64| ((seed_index as f64 * 0.618_033_988_749_895).fract() - 0.5) * jitter;
    let dots: Vec<(f64, f64, f64, bool)> = plan
        .trials
        .iter()
        .zip(results)
        .filter(|(_, r)| r.status == Status::Ok)
        .filter_map(|(t, r)| {
            let v = r.number(metric).filter(|v| v.is_finite())?;
            Some((position(&x, t.point), offset(t.seed_index), v, plan.success.is_met(Some(v))))
        })
        .collect();
    // Diverged trials have no metric to place: each is a cross in a band past the end of the
    // axis where failure lies (above a cost, below an accuracy), so that a value whose trials
    // all diverged is not an empty column.
    let diverged: Vec<f64> = plan
        .trials
        .iter()
        .zip(results)
        .filter(|(_, r)| r.status == Status::Diverged)
        .map(|(t, _)| position(&x, t.point) + offset(t.seed_index))
        .collect();
    // The thresholds are on the axis too, or a line outside the trials' range is drawn at its
    // edge. One of 0 or below has no place on a log axis: where the rest make one, it is left
    // out (and not drawn).
    let thresholds: Vec<f64> =
        [plan.success.below, plan.success.above].into_iter().flatten().filter(|t| t.is_finite()).collect();
    let values = |keep: &dyn Fn(f64) -> bool| -> Vec<f64> {
        dots.iter().map(|d| d.2).chain(thresholds.iter().copied().filter(|t| keep(*t))).collect()
    };
    let mut y = Scale::over(&values(&|t| t > 0.0), metric);
    if !y.log {
        y = Scale::over(&values(&|_| true), metric);
    }
    if y.log {
        y.title = format!("{metric} (log scale)");
    }
    // The band: a tenth of the values' span more, its crosses at its middle, a line at its
    // inner edge.
    let band = (!diverged.is_empty()).then(|| {
        let span = y.hi - y.lo;
        if plan.success.below.is_some() || plan.success.above.is_none() {
            y.hi += 0.1 * span;
            (y.hi - 0.05 * span, y.hi - 0.1 * span)
        } else {
            y.lo -= 0.1 * span;
            (y.lo + 0.05 * span, y.lo + 0.1 * span)
        }
    });
    let (x, y) = (x, y);
    let medians: Vec<(f64, f64)> = xs
        .iter()
        .filter_map(|px| {
            let mut v: Vec<f64> = dots.iter().filter(|d| d.0 == *px).map(|d| d.2).collect();
            v.sort_by(f64::total_cmp);
            (!v.is_empty()).then(|| (*px, y.at(percentile(&v, 0.5))))
        })
        .collect();
    let caption = format!("{}: {metric} of each trial against {key} ({})", plan.name, plan.success.describe());
    let (good, bad) = (PALETTE[0], PALETTE[1]);
    let crosses: Vec<(f64, f64)> = band.map_or(Vec::new(), |(at, _)| diverged.iter().map(|px| (*px, at)).collect());
    let threshold_label = |t: f64| format!("threshold {}", short(Some(t)));
    let legend = Legend {
        // The entries drawn: each colour of dot there is, the median, the crosses, the
        // thresholds with a place on the axis.
        labels: [
            (dots.iter().any(|d| d.3), "success"),
            (dots.iter().any(|d| !d.3), "no success"),
            (!medians.is_empty(), "median"),
            (!crosses.is_empty(), DIVERGED),
        ]
        .into_iter()
        .filter(|(drawn, _)| *drawn)
        .map(|(_, label)| label.to_string())
        .chain(
            [plan.success.below, plan.success.above]
                .into_iter()
                .flatten()
                .filter(|t| !y.log || *t > 0.0)
                .map(threshold_label),
        )
        .collect(),
        avoid: &dots
            .iter()
            .map(|d| (d.0 + d.1, y.at(d.2)))
            .chain(crosses.iter().copied())
            .chain(medians.iter().copied())
            .collect::<Vec<_>>(),
    };
    chart(&caption, &x, &y, &legend, |chart| {
        for (success, color, label) in [(true, good, "success"), (false, bad, "no success")] {
            let mine: Vec<(f64, f64)> =
                dots.iter().filter(|d| d.3 == success).map(|d| (d.0 + d.1, y.at(d.2))).collect();
            if mine.is_empty() {
                continue;
            }
            chart
                .draw_series(mine.into_iter().map(|p| Circle::new(p, 3, color.mix(0.55).filled())))?
                .label(label)
                .legend(move |(px, py)| Circle::new((px + 10, py), 3, color.filled()));
        }
        if !medians.is_empty() {
            // One median is a line of one point, which draws nothing: a dash across its trials.
            let half = (0.5 * jitter).max((x.hi - x.lo) / 40.0);
            let line: Vec<(f64, f64)> = match medians[..] {
                [(px, py)] => vec![(px - half, py), (px + half, py)],
                _ => medians.clone(),
            };
            chart
                .draw_series(LineSeries::new(line, BLACK.stroke_width(2)))?
                .label("median")
                .legend(|(px, py)| PathElement::new(vec![(px, py), (px + 20, py)], BLACK.stroke_width(2)));
        }
        if let Some((_, edge)) = band {
            let grey = BLACK.mix(0.35);
            chart.draw_series(DashedLineSeries::new([(x.lo, edge), (x.hi, edge)], 4, 4, grey.stroke_width(1)))?;
            let red = PALETTE[3];
            chart
                .draw_series(crosses.iter().map(|p| Cross::new(*p, 4, red.stroke_width(2))))?
                .label(DIVERGED)
                .legend(move |(px, py)| Cross::new((px + 10, py), 4, red.stroke_width(2)));
        }
        for threshold in [plan.success.below, plan.success.above].into_iter().flatten() {
            if !y.log || threshold > 0.0 {
                let t = y.at(threshold);
                let red = PALETTE[3];
                chart
                    .draw_series(LineSeries::new([(x.lo, t), (x.hi, t)], red.stroke_width(1)))?
                    .label(threshold_label(threshold))
                    .legend(move |(px, py)| PathElement::new(vec![(px, py), (px + 20, py)], red.stroke_width(1)));
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::super::svg::{elements, texts};

    use super::super::plan::{Point, Trial};
    use super::super::spec::{Mode, Success};
    use super::*;

    #[test]
    fn sampled_costs_reads_the_sampled_epochs() {
        let dir = std::env::temp_dir().join(format!("backprop-sampled-costs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("metrics.csv");
        // Epochs 0..=4; slot maps epochs 0, 2 and 4 to samples 0, 1, 2.
        let slot = [0, usize::MAX, 1, usize::MAX, 2];
        std::fs::write(&path, "epoch,cost,lr\n0,1.5,0.5\n1,1,0.5\n2,0.25,0.5\n3,NaN,0.5\n4,1e-3,0.5\n").unwrap();
        assert_eq!(sampled_costs(&path, &slot, 3).unwrap(), [1.5, 0.25, 1e-3]);
        // A last line without its newline is not read by the fast path (a run cut short).
        std::fs::write(&path, "epoch,cost,lr\n0,1.5,0.5\n1,1,0.5\n2,0.25,0.5\n3,0,0.5\n4,7,0.5").unwrap();
        let got = sampled_costs(&path, &slot, 3).unwrap();
        assert_eq!(got[..2], [1.5, 0.25]);
        assert!(got[2].is_nan());
        // Rows out of order (or another column order): the slow path finds each epoch.
        std::fs::write(&path, "cost,epoch\n0.25,2\n1.5,0\n1e-3,4\n").unwrap();
        assert_eq!(sampled_costs(&path, &slot, 3).unwrap(), [1.5, 0.25, 1e-3]);
        // A run that diverged at once is read (costs not finite); a file without the columns,
        // or none at all, is not.
        std::fs::write(&path, "epoch,cost,lr\n0,inf,0.5\n1,NaN,0.5\n2,NaN,0.5\n").unwrap();
        assert!(sampled_costs(&path, &slot, 3).unwrap().iter().all(|c| c.is_nan() || c.is_infinite()));
        std::fs::write(&path, "epoch,lr\n0,0.5\n").unwrap();
        assert_eq!(sampled_costs(&path, &slot, 3), None);
        assert_eq!(sampled_costs(&dir.join("missing.csv"), &slot, 3), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(nice_ticks(0.0, 1.0, 6), [0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]);
        assert_eq!(decade_ticks(-4.2, 0.1), [-4.0, -3.0, -2.0, -1.0, 0.0]);
        assert_eq!(decade_ticks(-1.0, 0.0).len(), 4);
        assert_eq!(file_safe("optim.lr"), "optim.lr");
        assert_eq!(file_safe("model.init.kind/x"), "model.init.kind_x");
    }

    #[test]
    fn log_scale_only_when_costs_span_decades() {
        assert!(Scale::over(&[1e-4, 0.3], "c").log);
        assert!(!Scale::over(&[0.01, 0.3], "c").log);
        assert!(!Scale::over(&[0.0, 0.3], "c").log);
        // Exactly two decades is still linear for costs; a grid's 0.001, 0.01, 0.1 is log.
        assert!(!Scale::over(&[1.0, 100.0], "c").log);
        assert!(Scale::over(&[2.0, 201.0], "c").log);
        assert!(Scale::over_grid(&[0.001, 0.01, 0.1], "lr").log);
        assert!(!Scale::over_grid(&[0.1, 0.5, 1.0], "lr").log);
        assert!(Scale::over_grid(&[0.007, 0.07, 0.7], "lr").log && Scale::over_grid(&[3e-6, 3e-5, 3e-4], "lr").log);
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    fn assert_close(got: &[f64], want: &[f64]) {
        assert!(got.len() == want.len() && got.iter().zip(want).all(|(g, w)| close(*g, *w)), "{got:?} != {want:?}");
    }

    #[test]
    fn axes_pad_the_data_by_five_percent_or_half_a_flat_value() {
        // 2..12: 5% of 10 each side, ticks 2 apart (11 / 5 = 2.2 rounds to 2).
        let s = Scale::over(&[12.0, 2.0, f64::NAN, 7.0], "lr");
        assert!(!s.log && s.title == "lr" && s.categories.is_none());
        assert_close(&[s.lo, s.hi], &[1.5, 12.5]);
        assert_close(&s.ticks, &[2.0, 4.0, 6.0, 8.0, 10.0, 12.0]);
        // One value: half of it each side (half of 1 for a value under 1 in size).
        let s = Scale::over(&[3.0, 3.0], "c");
        assert_close(&[s.lo, s.hi], &[1.5, 4.5]);
        let s = Scale::over(&[-4.0], "c");
        assert_close(&[s.lo, s.hi], &[-6.0, -2.0]);
        let s = Scale::over(&[0.2], "c");
        assert_close(&[s.lo, s.hi], &[-0.3, 0.7]);
        assert_close(&s.ticks, &[-0.2, 0.0, 0.2, 0.4, 0.6]);
        // No finite value: 0..1, padded.
        let s = Scale::over(&[f64::NAN, f64::INFINITY], "c");
        assert_close(&[s.lo, s.hi], &[-0.05, 1.05]);
        assert_close(&s.ticks, &[0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        // A log axis pads the exponents: 0.1..100 is -1..2, 0.15 each side; a tick per decade.
        let s = Scale::over(&[0.1, 100.0, 1.0], "c");
        assert!(s.log);
        assert_close(&[s.lo, s.hi], &[-1.15, 2.15]);
        assert_close(&s.ticks, &[-1.0, 0.0, 1.0, 2.0]);
        assert_close(&[s.at(100.0), s.at(0.1)], &[2.0, -1.0]);
        assert_eq!([s.label(2.0), s.label(-1.0), s.label(0.0)], ["100", "0.1", "1"]);
        // A linear axis plots and labels the value itself.
        let s = Scale::over(&[1.0, 2.0], "c");
        assert_close(&[s.at(7.0), s.at(-0.5)], &[7.0, -0.5]);
        assert_eq!([s.label(2.0), s.label(0.25)], ["2", "0.25"]);
    }

    #[test]
    fn categories_sit_at_whole_numbers_half_a_step_from_the_ends() {
        let s = Scale::categories(vec!["relu".into(), "tanh".into(), "sigmoid".into()], "act");
        assert!(!s.log && s.title == "act");
        assert_close(&[s.lo, s.hi], &[-0.5, 2.5]);
        assert_close(&s.ticks, &[0.0, 1.0, 2.0]);
        // A tick's label is the category nearest it; none past the last.
        assert_eq!(
            [s.label(0.0), s.label(1.0), s.label(2.0), s.label(1.4), s.label(-0.3)],
            ["relu", "tanh", "sigmoid", "tanh", "relu"]
        );
        assert_eq!(s.label(3.0), "");
    }

    #[test]
    fn a_ticked_axis_maps_linearly_onto_the_pixels_and_offers_its_ticks() {
        let t = Ticked { lo: 1.0, hi: 5.0, ticks: vec![1.0, 2.5, 4.0] };
        // 2 is a quarter of the way from 1 to 5: a quarter of the pixels from the first.
        assert_eq!(t.map(&2.0, (100, 500)), 200);
        assert_eq!(t.map(&2.0, (500, 100)), 400);
        assert_eq!([t.map(&1.0, (10, 20)), t.map(&5.0, (10, 20)), t.map(&3.3, (0, 10))], [10, 20, 6]);
        assert_eq!(t.range(), 1.0..5.0);
        // The ticks are the bold points; there are no light ones.
        use plotters::coord::ranged1d::{BoldPoints, LightPoints};
        assert_eq!(t.key_points(BoldPoints(10)), [1.0, 2.5, 4.0]);
        assert!(t.key_points(LightPoints::new(10, 100)).is_empty());
    }

    #[test]
    fn nice_ticks_step_by_one_two_or_five_times_a_power_of_ten() {
        // (hi - lo) / 5 rounded to 1, 2, 5 or 10 × 10^k: below 1.5 to 1, below 3 to 2, below 7 to 5.
        assert_eq!(nice_ticks(0.0, 6.0, 6), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]); // 1.2
        assert_eq!(nice_ticks(0.0, 7.5, 6), [0.0, 2.0, 4.0, 6.0]); // 1.5
        assert_eq!(nice_ticks(0.0, 8.0, 6), [0.0, 2.0, 4.0, 6.0, 8.0]); // 1.6
        assert_eq!(nice_ticks(0.0, 15.0, 6), [0.0, 5.0, 10.0, 15.0]); // 3
        assert_eq!(nice_ticks(0.0, 20.0, 6), [0.0, 5.0, 10.0, 15.0, 20.0]); // 4
        assert_eq!(nice_ticks(0.0, 35.0, 6), [0.0, 10.0, 20.0, 30.0]); // 7
        assert_eq!(nice_ticks(0.0, 40.0, 6), [0.0, 10.0, 20.0, 30.0, 40.0]); // 8
        // Away from 0: the multiples of the step within the range.
        assert_eq!(nice_ticks(10.0, 20.0, 6), [10.0, 12.0, 14.0, 16.0, 18.0, 20.0]);
        assert_eq!(nice_ticks(-7.0, 13.0, 6), [-5.0, 0.0, 5.0, 10.0]);
        assert_eq!(nice_ticks(1.0, 9.0, 3), [5.0]); // 8 / 2 = 4: a step of 5
        // An empty or reversed range: its start alone.
        assert_eq!(nice_ticks(3.0, 3.0, 6), [3.0]);
        assert_eq!(nice_ticks(2.0, 1.0, 6), [2.0]);
    }

    #[test]
    fn decade_ticks_add_two_and_five_times_under_three_decades() {
        // log10 2 and log10 5 = 1 - log10 2.
        let (two, five) = (std::f64::consts::LOG10_2, 1.0 - std::f64::consts::LOG10_2);
        // 0.00316..0.63: 1, 2 and 5 × each power of ten within.
        assert_close(
            &decade_ticks(-2.5, -0.2),
            &[-3.0 + five, -2.0, -2.0 + two, -2.0 + five, -1.0, -1.0 + two, -1.0 + five],
        );
        // Three decades or more: the powers of ten alone.
        assert_close(&decade_ticks(0.0, 3.0), &[0.0, 1.0, 2.0, 3.0]);
        assert_close(&decade_ticks(-0.5, 2.6), &[0.0, 1.0, 2.0]);
        assert_eq!(decade_ticks(-10.0, 0.0).len(), 11, "ten decades: every one");
        // A diverged trial's 1e306 beside 1e-15: every 33rd decade, about ten labels, not 322.
        let wide = decade_ticks(-15.2, 306.1);
        assert!((9..=11).contains(&wide.len()), "{wide:?}");
        assert!(wide.windows(2).all(|w| w[1] - w[0] == 33.0), "{wide:?}");
    }

    /// A plan named `study` over one key, `optim.lr`, with `values` as its points and `seeds`
    /// trials each (trial `i` in `trials/i`), point by point.
    fn plan(values: &[&str], seeds: u64, success: Success) -> Plan {
        let points: Vec<Point> =
            values.iter().enumerate().map(|(index, v)| Point { index, values: vec![v.to_string()] }).collect();
        let trials = (0..points.len())
            .flat_map(|point| (0..seeds).map(move |seed_index| (point, seed_index)))
            .enumerate()
            .map(|(index, (point, seed_index))| Trial {
                index,
                point,
                seed_index,
                seed: 100 + seed_index,
                dir: format!("trials/{index}"),
                overrides: Vec::new(),
            })
            .collect();
        Plan {
            config: "study.toml".into(),
            overrides: Vec::new(),
            name: "study".into(),
            mode: Mode::Grid,
            seed: 0,
            seeds,
            keys: vec!["optim.lr".into()],
            success,
            points,
            trials,
        }
    }

    /// A trial that completed with these `summary.json` fields.
    fn ok(fields: &[(&str, f64)]) -> TrialResult {
        let summary = fields.iter().map(|(k, v)| (k.to_string(), serde_json::json!(v))).collect();
        TrialResult { status: Status::Ok, reason: String::new(), summary }
    }

    fn failed() -> TrialResult {
        TrialResult { status: Status::Failed, reason: "no data".into(), summary: Default::default() }
    }

    /// Writes trial `i`'s `metrics.csv` with `costs` at epochs 0, 1, ….
    fn write_costs(dir: &Path, i: usize, costs: &[f64]) {
        let mut text = String::from("epoch,cost\n");
        for (e, c) in costs.iter().enumerate() {
            text += &format!("{e},{c}\n");
        }
        std::fs::create_dir_all(dir.join(format!("trials/{i}"))).unwrap();
        std::fs::write(dir.join(format!("trials/{i}/metrics.csv")), text).unwrap();
    }

    fn points(e: &HashMap<String, String>) -> Vec<(f64, f64)> {
        e["points"]
            .split_whitespace()
            .map(|p| {
                let (x, y) = p.split_once(',').unwrap();
                (x.parse().unwrap(), y.parse().unwrap())
            })
            .collect()
    }

    /// The plot area's pixel edges `((left, right), (bottom, top))`: the ends of the mesh's
    /// horizontal and vertical lines (every mesh line spans the area).
    fn area(svg: &str) -> ((f64, f64), (f64, f64)) {
        let lines = elements(svg, "line");
        let n = |e: &HashMap<String, String>, k: &str| e[k].parse::<f64>().unwrap();
        let h = lines.iter().find(|e| e["y1"] == e["y2"]).expect("a horizontal mesh line");
        let v = lines.iter().find(|e| e["x1"] == e["x2"]).expect("a vertical mesh line");
        ((n(h, "x1"), n(h, "x2")), (n(v, "y1"), n(v, "y2")))
    }

    /// The pixel of `v` on an axis from `lo` to `hi` over pixels `from` to `to`: rounded, so
    /// within half a pixel of the exact position.
    fn assert_at(pixel: f64, v: f64, (lo, hi): (f64, f64), (from, to): (f64, f64)) {
        let want = from + (v - lo) / (hi - lo) * (to - from);
        assert!((pixel - want).abs() <= 0.5 + 1e-9, "{v} on {lo}..{hi} over {from}..{to}: {pixel}, not {want}");
    }

    #[test]
    fn curves_draw_each_shown_points_median_and_band_over_its_epochs() {
        let tmp = tempfile::Builder::new().prefix("bp-sweep-curves-").tempdir().unwrap();
        let dir = tmp.path();
        let values: Vec<String> = (1..=11).map(|i| format!("0.{i}")).collect();
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        let plan = plan(&values, 3, Success::default());
        let mut results = vec![TrialResult::missing(); plan.trials.len()];
        // Point 0, epochs 0..=4: seed k's cost at epoch e is 4 - e + k. So at epoch e the 10th
        // percentile is 4.2 - e, the median 5 - e, the 90th 5.8 - e.
        for k in 0..3 {
            write_costs(dir, k, &[4.0 + k as f64, 3.0 + k as f64, 2.0 + k as f64, 1.0 + k as f64, k as f64]);
        }
        results[..3].fill(ok(&[("epochs_run", 4.0)]));
        // Point 1: two trials at 1 for epochs 0..=2, a third that failed (its leftover metrics
        // not drawn, nor counted).
        for k in 3..5 {
            write_costs(dir, k, &[1.0, 1.0, 1.0]);
        }
        // (Stopped early: their last cost is held to the end.)
        results[3..5].fill(TrialResult { reason: "early_stopping".into(), ..ok(&[("epochs_run", 2.0)]) });
        write_costs(dir, 5, &[9.0, 9.0, 9.0]);
        results[5] = failed();
        // Points 2..=9 never ran. Point 10, not among the best 10, ran to epoch 8.
        for k in 30..33 {
            write_costs(dir, k, &[50.0; 9]);
        }
        results[30..33].fill(ok(&[("epochs_run", 8.0)]));
        let order: Vec<usize> = (0..11).collect();
        let svg = curves(dir, &plan, &results, &order).unwrap();

        let labels = texts(&svg);
        let caption = "study: cost per epoch, median and 10th-90th percentile over seeds, the best 10 of 11 points";
        assert!(labels.iter().any(|l| l == caption), "{labels:?}");
        let legend: Vec<&String> = labels.iter().filter(|l| l.starts_with('#')).collect();
        assert_eq!(legend, ["#1 optim.lr=0.1 (n=3)", "#2 optim.lr=0.2 (n=2)"]);
        assert!(labels.iter().any(|l| l == "cost") && labels.iter().any(|l| l == "epoch"), "{labels:?}");

        // The axes: epochs 0..4 exactly; costs 0.2..5.8 (the 10th and 90th percentiles), padded
        // by 5% of 5.6.
        let (xs, ys) = area(&svg);
        let (ex, ey) = ((0.0, 4.0), (0.2 - 0.28, 5.8 + 0.28));
        let lines: Vec<_> = elements(&svg, "polyline").into_iter().filter(|e| e["stroke-width"] == "2").collect();
        let line = |color: &str| {
            let mut found = lines.iter().filter(|e| e["stroke"] == color).map(points).filter(|p| p.len() > 2);
            let p = found.next().unwrap_or_else(|| panic!("a line in {color}"));
            assert!(found.next().is_none(), "one line in {color}");
            p
        };
        // Point 0 in the palette's first colour, its median at every epoch.
        let median = line("#1F77B4");
        assert_eq!(median.len(), 5);
        for (e, (px, py)) in median.iter().enumerate() {
            assert_at(*px, e as f64, ex, xs);
            assert_at(*py, 5.0 - e as f64, ey, ys);
        }
        // Point 1 in the second, flat at 1: its trials stopped after epoch 2 without diverging
        // (early stopping) and keep their last cost to epoch 4.
        let median = line("#FF7F0E");
        assert_eq!(median.len(), 5);
        for (e, (px, py)) in median.iter().enumerate() {
            assert_at(*px, e as f64, ex, xs);
            assert_at(*py, 1.0, ey, ys);
        }
        // The bands, all before (beneath) the lines.
        let first_line = svg.find("<polyline fill=\"none\" opacity=\"1\" stroke=\"#1F77B4\"").expect("point 0's line");
        let last_band = svg.rfind("<polygon").unwrap();
        assert!(last_band < first_line, "a band drawn over a line: {svg}");
        // The band: the 90th percentile forward, then the 10th back.
        let bands = elements(&svg, "polygon");
        assert_eq!(bands.len(), 2);
        assert_eq!((bands[0]["fill"].as_str(), bands[1]["fill"].as_str()), ("#1F77B4", "#FF7F0E"));
        let band = points(&bands[0]);
        assert_eq!(band.len(), 10);
        for (i, (px, py)) in band.iter().enumerate() {
            let (e, cost) = if i < 5 { (i as f64, 5.8 - i as f64) } else { ((9 - i) as f64, 4.2 - (9 - i) as f64) };
            assert_at(*px, e, ex, xs);
            assert_at(*py, cost, ey, ys);
        }

        // Trials that completed fewer epochs (a point's own `train.epochs`) are drawn to their
        // end only.
        let mut completed = results.clone();
        completed[3..5].fill(ok(&[("epochs_run", 2.0)]));
        let svg_completed = curves(dir, &plan, &completed, &order).unwrap();
        let short: Vec<_> = elements(&svg_completed, "polyline")
            .into_iter()
            .filter(|e| e["stroke-width"] == "2" && e["stroke"] == "#FF7F0E")
            .map(|e| points(&e))
            .filter(|p| p.len() > 2)
            .collect();
        assert_eq!(short.iter().map(Vec::len).collect::<Vec<_>>(), [3]);

        // A trial that ran but whose metrics.csv is gone or damaged is not counted as drawn.
        std::fs::remove_file(dir.join("trials/4/metrics.csv")).unwrap();
        std::fs::write(dir.join("trials/2/metrics.csv"), "epoch,cost\n0,").unwrap();
        let svg = curves(dir, &plan, &results, &order).unwrap();
        let labels = texts(&svg);
        let legend: Vec<&String> = labels.iter().filter(|l| l.starts_with('#')).collect();
        assert_eq!(legend, ["#1 optim.lr=0.1 (n=2; 1 unreadable)", "#2 optim.lr=0.2 (n=1; 1 unreadable)"]);
    }

    /// The last finite cost is held to the end; a gap before it stays a gap.
    #[test]
    fn a_trial_that_stopped_early_holds_its_last_cost() {
        let mut costs = [3.0, f64::NAN, 2.0, f64::NAN, f64::NAN];
        hold_last(&mut costs);
        assert_eq!(costs[2..], [2.0, 2.0, 2.0]);
        assert!(costs[1].is_nan());
        let mut none = [f64::NAN; 3];
        hold_last(&mut none);
        assert!(none.iter().all(|c| c.is_nan()));
    }

    #[test]
    fn long_curves_sample_500_epochs_the_first_and_last_included() {
        let tmp = tempfile::Builder::new().prefix("bp-sweep-samples-").tempdir().unwrap();
        let dir = tmp.path();
        // 1000 epochs: epoch round(i · 1000 / 499) for i in 0..500. 500: the same, round(i · 500 / 499),
        // which skips one epoch (250). 499: every epoch.
        for (last, want) in [(1000usize, 500usize), (500, 500), (499, 500)] {
            let plan = plan(&["0.5"], 1, Success::default());
            let costs: Vec<f64> = (0..=last).map(|e| 1000.0 + e as f64).collect();
            write_costs(dir, 0, &costs);
            let svg = curves(dir, &plan, &[ok(&[("epochs_run", last as f64)])], &[0]).unwrap();
            // Every point shown: the caption says nothing of the best ones.
            let caption = "study: cost per epoch, median and 10th-90th percentile over seeds";
            assert!(texts(&svg).iter().any(|l| l == caption), "{:?}", texts(&svg));
            let (xs, _) = area(&svg);
            let median: Vec<(f64, f64)> = elements(&svg, "polyline")
                .iter()
                .filter(|e| e["stroke"] == "#1F77B4")
                .map(points)
                .find(|p| p.len() > 2)
                .expect("the median line");
            assert_eq!(median.len(), want, "{last} epochs");
            for (i, (px, _)) in median.iter().enumerate() {
                let e = if last == 499 { i } else { (i * last + 499 / 2) / 499 };
                assert_at(*px, e as f64, (0.0, last as f64), xs);
            }
            assert_eq!(median[0].0, xs.0);
            assert_eq!(median[want - 1].0, xs.1);
        }
    }

    /// The golden-ratio sequence's jitter of seed indices 0, 1, 2: frac(k · 0.618…) - 1/2, of
    /// 40% of the gap between values.
    const SPREAD: [f64; 3] = [-0.5, 0.118_033_988_749_895, -0.263_932_022_500_210_3];

    /// A circle's `(cx, cy, fill)`.
    type Dot = (f64, f64, String);

    /// The data's dots (the legend's are opaque), and the legend's.
    fn dots(svg: &str) -> (Vec<Dot>, Vec<Dot>) {
        let all: Vec<_> = elements(svg, "circle")
            .into_iter()
            .map(|e| (e["cx"].parse().unwrap(), e["cy"].parse().unwrap(), e["fill"].clone(), e["opacity"] == "1"))
            .collect();
        let pick = |legend: bool| all.iter().filter(|d| d.3 == legend).map(|d| (d.0, d.1, d.2.clone())).collect();
        (pick(false), pick(true))
    }

    #[test]
    fn metric_dots_spread_over_the_gap_between_values_with_medians_and_the_threshold() {
        let success = Success { metric: "final_cost".into(), below: Some(0.5), above: None };
        let plan = plan(&["0.5", "2", "1"], 3, success);
        let costs = [[0.1, 0.3, 0.9], [2.0, 1.0, 3.0], [0.2, 0.6, 1.0]];
        let results: Vec<TrialResult> = costs.iter().flatten().map(|c| ok(&[("final_cost", *c)])).collect();
        let svg = metric_vs(&plan, &results, 0).unwrap();
        let labels = texts(&svg);
        assert!(labels.iter().any(|l| l == "study: final_cost of each trial against optim.lr (final_cost &lt; 0.5)"));
        for label in ["success", "no success", "median", "threshold 0.5", "final_cost", "optim.lr"] {
            assert!(labels.iter().any(|l| l == label), "{label} in {labels:?}");
        }

        // x: the values 0.5, 1 and 2 are at least 0.5 apart, so the axis runs from 0.25 to 2.25
        // with a tick at each value, and a value's trials spread over 0.2. y: costs 0.1..3,
        // padded by 5% of 2.9.
        let (xs, ys) = area(&svg);
        let (ex, ey) = ((0.25, 2.25), (0.1 - 0.145, 3.0 + 0.145));
        let ticks: Vec<f64> =
            elements(&svg, "line").iter().filter(|e| e["x1"] == e["x2"]).map(|e| e["x1"].parse().unwrap()).collect();
        assert_eq!(ticks.len(), 3);
        for (px, v) in ticks.iter().zip([0.5, 2.0, 1.0]) {
            assert_at(*px, v, ex, xs);
        }
        assert!(["0.5", "1", "2"].iter().all(|t| labels.iter().any(|l| l == t)), "{labels:?}");

        // A dot per trial: the successes (below 0.5) first, in the palette's first colour.
        let (data, legend) = dots(&svg);
        let mut want = Vec::new();
        for success in [true, false] {
            for (p, v) in [0.5, 2.0, 1.0].iter().enumerate() {
                for k in 0..3 {
                    if (costs[p][k] < 0.5) == success {
                        let color = if success { "#1F77B4" } else { "#FF7F0E" };
                        want.push((v + SPREAD[k] * 0.2, costs[p][k], color));
                    }
                }
            }
        }
        assert_eq!(data.len(), want.len());
        for ((px, py, fill), (x, y, color)) in data.iter().zip(&want) {
            assert_eq!(fill, color);
            assert_at(*px, *x, ex, xs);
            assert_at(*py, *y, ey, ys);
        }

        // The medians, by value: 0.3 at 0.5, 0.6 at 1, 2 at 2.
        let polylines = elements(&svg, "polyline");
        let black: Vec<Vec<(f64, f64)>> =
            polylines.iter().filter(|e| e["stroke"] == "#000000" && e["stroke-width"] == "2").map(points).collect();
        let median = black.iter().find(|p| p.len() == 3).expect("the median line");
        for ((px, py), (x, y)) in median.iter().zip([(0.5, 0.3), (1.0, 0.6), (2.0, 2.0)]) {
            assert_at(*px, x, ex, xs);
            assert_at(*py, y, ey, ys);
        }
        // The threshold across the whole plot, in red.
        let red: Vec<Vec<(f64, f64)>> = polylines.iter().filter(|e| e["stroke"] == "#D62728").map(points).collect();
        let threshold = red.iter().find(|p| p[0].0 == xs.0).expect("the threshold line");
        assert_eq!(threshold.len(), 2);
        assert_eq!(threshold[1].0, xs.1);
        assert_at(threshold[0].1, 0.5, ey, ys);
        assert_eq!(threshold[0].1, threshold[1].1);
        // The legend's dots sit in the middle of its line marks (20 pixels long).
        let mark = black.iter().find(|p| p.len() == 2).expect("the median's legend mark");
        assert_eq!(mark[1].0 - mark[0].0, 20.0);
        assert_eq!(legend.len(), 2);
        for (cx, _, _) in &legend {
            assert_eq!(*cx, mark[0].0 + 10.0);
        }
    }

    /// The centres of the crosses drawn in red (each two 8-pixel diagonals), in pixels.
    fn crosses(svg: &str) -> Vec<(f64, f64)> {
        let n = |e: &HashMap<String, String>, k: &str| e[k].parse::<f64>().unwrap();
        elements(svg, "line")
            .iter()
            .filter(|e| e["stroke"] == "#D62728" && n(e, "y1") > n(e, "y2"))
            .map(|e| ((n(e, "x1") + n(e, "x2")) / 2.0, (n(e, "y1") + n(e, "y2")) / 2.0))
            .collect()
    }

    #[test]
    fn diverged_trials_are_crosses_in_a_band_past_the_end_where_failure_lies() {
        let diverged = || TrialResult { status: Status::Diverged, reason: "NaN".into(), summary: Default::default() };
        // Values 0.5 and 2: a gap of 1.5, a spread of 0.6. The costs 0.1 and 0.3 and the
        // threshold 0.5 make the axis 0.08..0.52; a cost's band adds 0.044 above it, its crosses
        // at its middle.
        let success = Success { metric: "final_cost".into(), below: Some(0.5), above: None };
        let plan = plan(&["0.5", "2"], 2, success);
        let results = [ok(&[("final_cost", 0.1)]), ok(&[("final_cost", 0.3)]), diverged(), diverged()];
        let svg = metric_vs(&plan, &results, 0).unwrap();
        assert!(texts(&svg).iter().any(|l| l == DIVERGED), "{:?}", texts(&svg));
        let (xs, ys) = area(&svg);
        let (ex, ey) = ((0.5 - 0.75, 2.0 + 0.75), (0.08, 0.52 + 0.044));
        let (data, _) = dots(&svg);
        for ((_, py, _), y) in data.iter().zip([0.1, 0.3]) {
            assert_at(*py, y, ey, ys);
        }
        // Two crosses in 2's column, and the legend's.
        let all = crosses(&svg);
        assert_eq!(all.len(), 3, "{all:?}");
        let pixel = |v: f64, (lo, hi): (f64, f64), (from, to): (f64, f64)| from + (v - lo) / (hi - lo) * (to - from);
        for spread in &SPREAD[..2] {
            let want = (pixel(2.0 + spread * 0.6, ex, xs), pixel(0.542, ey, ys));
            assert!(
                all.iter().any(|c| (c.0 - want.0).abs() <= 1.0 && (c.1 - want.1).abs() <= 1.0),
                "{want:?} in {all:?}"
            );
        }
        // An accuracy's band is below it: success above 0.9, accuracies 0.5 and 1.
        let success = Success { metric: "final_accuracy".into(), below: None, above: Some(0.9) };
        let plan = self::plan(&["0.5", "2"], 2, success);
        let results = [
            diverged(),
            ok(&[("final_accuracy", 0.5)]),
            ok(&[("final_accuracy", 1.0)]),
            ok(&[("final_accuracy", 1.0)]),
        ];
        let svg = metric_vs(&plan, &results, 0).unwrap();
        let (xs, ys) = area(&svg);
        // Accuracies 0.5..1 and the threshold 0.9: 0.475..1.025, and a band of 0.055 below.
        let ey = (0.475 - 0.055, 1.025);
        let all = crosses(&svg);
        assert_eq!(all.len(), 2, "{all:?}");
        let want = (pixel(0.5 + SPREAD[0] * 0.6, ex, xs), pixel(0.42 + 0.0275, ey, ys));
        assert!(all.iter().any(|c| (c.0 - want.0).abs() <= 1.0 && (c.1 - want.1).abs() <= 1.0), "{want:?} in {all:?}");
        // None diverged: no band, no entry.
        let results = [
            ok(&[("final_accuracy", 0.5)]),
            ok(&[("final_accuracy", 1.0)]),
            ok(&[("final_accuracy", 1.0)]),
            ok(&[("final_accuracy", 1.0)]),
        ];
        let svg = metric_vs(&plan, &results, 0).unwrap();
        assert!(crosses(&svg).is_empty() && !texts(&svg).iter().any(|l| l == DIVERGED));
    }

    #[test]
    fn the_legend_goes_where_it_hides_the_fewest_points() {
        let axis = |lo, hi| Scale { lo, hi, ticks: Vec::new(), log: false, categories: None, title: String::new() };
        let (x, y) = (axis(0.0, 10.0), axis(-1.0, 1.0));
        let corner = |avoid: &[(f64, f64)]| Legend { labels: vec!["success".into(); 3], avoid }.corner(&x, &y);
        assert_eq!(corner(&[]), SeriesLabelPosition::UpperRight);
        assert_eq!(corner(&[(9.9, 0.95)]), SeriesLabelPosition::UpperLeft);
        assert_eq!(corner(&[(9.9, 0.95), (0.1, 0.9)]), SeriesLabelPosition::LowerRight);
        assert_eq!(corner(&[(9.9, 0.95), (0.1, 0.9), (9.5, -0.95)]), SeriesLabelPosition::LowerLeft);
        // The fewest, not none: two up right, one in every other corner.
        let avoid = [(9.9, 0.95), (9.8, 0.95), (0.1, 0.9), (9.5, -0.95), (0.2, -0.9)];
        assert_eq!(corner(&avoid), SeriesLabelPosition::UpperLeft);
        // A point in the middle is in no corner's box.
        assert_eq!(corner(&[(5.0, 0.0)]), SeriesLabelPosition::UpperRight);
    }

    #[test]
    fn one_value_spreads_over_one_unit_and_thresholds_need_a_place_on_the_axis() {
        // One value: a gap of 1, so 2.5..3.5 and a spread of 0.4. A threshold of 0 on a linear
        // axis is drawn, and the axis reaches it: 0..1.5, padded by 5% of 1.5 (it was drawn at
        // the edge of the trials' 0.5..1.5, where it read as 0.45).
        let success = Success { metric: "final_cost".into(), below: None, above: Some(0.0) };
        let plan = plan(&["3"], 2, success);
        let results = [ok(&[("final_cost", 0.5)]), ok(&[("final_cost", 1.5)])];
        let svg = metric_vs(&plan, &results, 0).unwrap();
        let (xs, ys) = area(&svg);
        let (data, _) = dots(&svg);
        assert_eq!(data.len(), 2);
        let ey = (0.0 - 0.075, 1.5 + 0.075);
        for ((px, py, _), (k, y)) in data.iter().zip([(0, 0.5), (1, 1.5)]) {
            assert_at(*px, 3.0 + SPREAD[k] * 0.4, (2.5, 3.5), xs);
            assert_at(*py, y, ey, ys);
        }
        assert!(texts(&svg).iter().any(|l| l == "threshold 0"), "{:?}", texts(&svg));
        let red: Vec<Vec<(f64, f64)>> =
            elements(&svg, "polyline").iter().filter(|e| e["stroke"] == "#D62728").map(points).collect();
        let threshold = red.iter().find(|p| p[0].0 == xs.0).expect("the threshold line");
        assert_at(threshold[0].1, 0.0, ey, ys);
        // The one value's median, 1.0, is a dash across its trials (a line of one point drew
        // nothing).
        let black: Vec<Vec<(f64, f64)>> = elements(&svg, "polyline")
            .iter()
            .filter(|e| e["stroke"] == "#000000" && e["stroke-width"] == "2")
            .map(points)
            .collect();
        let dash = black.iter().find(|p| p.len() == 2 && p[0].1 == p[1].1).expect("the median's dash");
        assert_at(dash[0].1, 1.0, ey, ys);
        assert_at(dash[0].0, 3.0 - 0.2, (2.5, 3.5), xs);
        assert_at(dash[1].0, 3.0 + 0.2, (2.5, 3.5), xs);

        // Costs over four decades: a log axis, where a threshold of 0 has no place; one of 0.01
        // is at -2.
        let success = Success { metric: "final_cost".into(), below: Some(0.01), above: Some(0.0) };
        let plan = self::plan(&["3"], 2, success);
        let results = [ok(&[("final_cost", 1e-4)]), ok(&[("final_cost", 1.0)])];
        let svg = metric_vs(&plan, &results, 0).unwrap();
        let labels = texts(&svg);
        assert!(labels.iter().any(|l| l == "final_cost (log scale)"), "{labels:?}");
        assert!(
            labels.iter().any(|l| l == "threshold 0.01") && !labels.iter().any(|l| l == "threshold 0"),
            "{labels:?}"
        );
        let (xs, ys) = area(&svg);
        let ey = (-4.0 - 0.2, 0.0 + 0.2);
        let red: Vec<Vec<(f64, f64)>> =
            elements(&svg, "polyline").iter().filter(|e| e["stroke"] == "#D62728").map(points).collect();
        let threshold = red.iter().find(|p| p[0].0 == xs.0).expect("the threshold line");
        assert_at(threshold[0].1, -2.0, ey, ys);
        let (data, _) = dots(&svg);
        assert_at(data[0].1, -4.0, ey, ys);
        assert_at(data[1].1, 0.0, ey, ys);
    }
}
