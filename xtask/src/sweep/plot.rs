//! The sweep's plots, as SVG:
//! - `curves.svg`: the cost per epoch of each point (the best [`MAX_CURVES`], from each trial's
//!   `metrics.csv`): the median over its trials as a line, the 10th to 90th percentile as a
//!   band; a log-scale cost axis when the costs span more than two decades.
//! - `metric_vs_<key>.svg` for each swept key: the success metric of every `ok` trial against
//!   the key's value (a dot per trial, coloured by success, jittered sideways at a repeated
//!   value), the median at each value as a line, and the success threshold.
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
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let (min, max) = finite.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
        let (min, max) = if finite.is_empty() { (0.0, 1.0) } else { (min, max) };
        let log = min > 0.0 && max / min > 100.0;
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

/// Ticks of a log10 axis: every decade, with 2× and 5× when it spans fewer than three.
fn decade_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let (first, last) = (lo.floor() as i64, hi.ceil() as i64);
    let fine = hi - lo < 3.0;
    let mut ticks = Vec::new();
    for d in first..=last {
        for m in if fine { &[1.0, 2.0, 5.0][..] } else { &[1.0][..] } {
            let t = d as f64 + libm::log10(*m);
            if (lo..=hi).contains(&t) {
                ticks.push(t);
            }
        }
    }
    ticks
}

/// An SVG chart over `x` and `y`, with `draw` adding the series and a legend if any is labelled.
fn chart(
    caption: &str,
    x: &Scale,
    y: &Scale,
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
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.5))
            .draw()?;
        root.present()?;
    }
    Ok(svg)
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
    let jobs: Vec<(usize, &str)> = plan
        .trials
        .iter()
        .zip(results)
        .filter(|(t, r)| shown.contains(&t.point) && ran(r))
        .map(|(t, _)| (t.point, t.dir.as_str()))
        .collect();
    let series: Vec<(usize, Vec<f64>)> = jobs
        .par_iter()
        .map(|(p, d)| (*p, sampled_costs(&dir.join(d).join("metrics.csv"), &slot, samples.len())))
        .collect();

    let mut curves = Vec::with_capacity(shown.len());
    for (rank, p) in shown.iter().enumerate() {
        let mine: Vec<&Vec<f64>> = series.iter().filter(|(q, _)| q == p).map(|(_, s)| s).collect();
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
        curves.push(Curve { label: format!("#{} {} (n={n})", rank + 1, plan.point_label(*p)), rows });
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
    chart(&caption, &x, &y, |chart| {
        for (i, c) in curves.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            if c.rows.is_empty() {
                continue;
            }
            let band: Vec<(f64, f64)> =
                c.rows.iter().map(|r| (r.0, y.at(r.3))).chain(c.rows.iter().rev().map(|r| (r.0, y.at(r.1)))).collect();
            chart.draw_series(std::iter::once(Polygon::new(band, color.mix(0.18).filled())))?;
            chart
                .draw_series(LineSeries::new(c.rows.iter().map(|r| (r.0, y.at(r.2))), color.stroke_width(2)))?
                .label(c.label.as_str())
                .legend(move |(px, py)| PathElement::new(vec![(px, py), (px + 20, py)], color.stroke_width(2)));
        }
        Ok(())
    })
}

/// The `cost` column of a `metrics.csv` at the epochs `slot` maps to sample positions (NaN
/// where the file has none). Rows are one per epoch from 0, so only the sampled lines are
/// parsed; a file whose rows are not is read field by field.
fn sampled_costs(path: &Path, slot: &[usize], n: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; n];
    let Ok(bytes) = read_input(path, MODEL_LIMIT, "metrics file") else { return out };
    let mut lines = bytes.split(|b| *b == b'\n');
    let header: Vec<&[u8]> = lines.next().unwrap_or_default().split(|b| *b == b',').collect();
    let (Some(ei), Some(ci)) = (header.iter().position(|h| *h == b"epoch"), header.iter().position(|h| *h == b"cost"))
    else {
        return out;
    };
    let field = |line: &[u8], i: usize| {
        line.split(|b| *b == b',').nth(i).and_then(|f| std::str::from_utf8(f).ok()).map(str::trim).map(str::to_string)
    };
    let mut in_order = true;
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
            out[s] = field(line, ci).and_then(|c| c.parse::<f64>().ok()).unwrap_or(f64::NAN);
        }
    }
    if in_order {
        return out;
    }
    out.fill(f64::NAN);
    for line in data.split(|b| *b == b'\n') {
        let Some(e) = field(line, ei).and_then(|e| e.parse::<usize>().ok()) else { continue };
        if let Some(&s) = slot.get(e)
            && s != usize::MAX
        {
            out[s] = field(line, ci).and_then(|c| c.parse::<f64>().ok()).unwrap_or(f64::NAN);
        }
    }
    out
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
        let mut x = Scale::over(&values, key);
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

    let dots: Vec<(f64, f64, f64, bool)> = plan
        .trials
        .iter()
        .zip(results)
        .filter(|(_, r)| r.status == Status::Ok)
        .filter_map(|(t, r)| {
            let v = r.number(metric).filter(|v| v.is_finite())?;
            // A fixed jitter per seed index (golden-ratio sequence), so a plot is reproducible.
            let offset = ((t.seed_index as f64 * 0.618_033_988_749_895).fract() - 0.5) * jitter;
            Some((position(&x, t.point), offset, v, plan.success.is_met(Some(v))))
        })
        .collect();
    let ys: Vec<f64> = dots.iter().map(|d| d.2).collect();
    let mut y = Scale::over(&ys, metric);
    if y.log {
        y.title = format!("{metric} (log scale)");
    }
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
    chart(&caption, &x, &y, |chart| {
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
            chart
                .draw_series(LineSeries::new(medians.iter().copied(), BLACK.stroke_width(2)))?
                .label("median")
                .legend(|(px, py)| PathElement::new(vec![(px, py), (px + 20, py)], BLACK.stroke_width(2)));
        }
        for threshold in [plan.success.below, plan.success.above].into_iter().flatten() {
            if !y.log || threshold > 0.0 {
                let t = y.at(threshold);
                let red = PALETTE[3];
                chart
                    .draw_series(LineSeries::new([(x.lo, t), (x.hi, t)], red.stroke_width(1)))?
                    .label(format!("threshold {}", short(Some(threshold))))
                    .legend(move |(px, py)| PathElement::new(vec![(px, py), (px + 20, py)], red.stroke_width(1)));
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampled_costs_reads_the_sampled_epochs() {
        let dir = std::env::temp_dir().join(format!("backprop-sampled-costs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("metrics.csv");
        // Epochs 0..=4; slot maps epochs 0, 2 and 4 to samples 0, 1, 2.
        let slot = [0, usize::MAX, 1, usize::MAX, 2];
        std::fs::write(&path, "epoch,cost,lr\n0,1.5,0.5\n1,1,0.5\n2,0.25,0.5\n3,NaN,0.5\n4,1e-3,0.5\n").unwrap();
        assert_eq!(sampled_costs(&path, &slot, 3), [1.5, 0.25, 1e-3]);
        // A last line without its newline is not read by the fast path (a run cut short).
        std::fs::write(&path, "epoch,cost,lr\n0,1.5,0.5\n1,1,0.5\n2,0.25,0.5\n3,0,0.5\n4,7,0.5").unwrap();
        let got = sampled_costs(&path, &slot, 3);
        assert_eq!(got[..2], [1.5, 0.25]);
        assert!(got[2].is_nan());
        // Rows out of order (or another column order): the slow path finds each epoch.
        std::fs::write(&path, "cost,epoch\n0.25,2\n1.5,0\n1e-3,4\n").unwrap();
        assert_eq!(sampled_costs(&path, &slot, 3), [1.5, 0.25, 1e-3]);
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
    }
}
