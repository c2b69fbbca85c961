//! Pictures of a run, as SVG: the cost per epoch ([`loss_svg`]) and, for 2-D classification
//! data, the decision regions with the samples on top ([`decision_svg`]); [`redraw`] makes both
//! from a run directory (`backprop plot RUN_DIR`).
//!
//! Drawn with plotters' SVG backend, which writes text as `<text>` elements and only estimates
//! its size, so no font files are read: the pictures come out the same on any machine. Each
//! picture is rendered to a string ([`render_loss`], [`render_decision`]) and written atomically.

use std::path::{Path, PathBuf};

use backprop_layers::Network;
use backprop_tensor::{Element, MatView, Matrix, math};
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;

use crate::config;
use crate::error::CliError;
use crate::fsutil::write_atomic;
use crate::train::{EpochMetrics, decision_threshold};

/// Cells per side of the decision-region grid.
pub const GRID: usize = 100;

/// The colour of each class (matplotlib's `tab10`), as RGB; class `k` uses `PALETTE[k % 10]`.
pub const PALETTE: [(u8, u8, u8); 10] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
];

/// The colour of the training cost's line.
pub const COST_COLOR: (u8, u8, u8) = PALETTE[0];
/// The colour of the validation cost's line.
pub const VAL_COST_COLOR: (u8, u8, u8) = PALETTE[1];

const SIZE: (u32, u32) = (800, 500);

fn rgb((r, g, b): (u8, u8, u8)) -> RGBColor {
    RGBColor(r, g, b)
}

/// The fill of class `k`'s region: its colour mixed with 70 % white.
pub fn region_color(k: usize) -> (u8, u8, u8) {
    let (r, g, b) = PALETTE[k % PALETTE.len()];
    let light = |c: u8| (f64::from(c) * 0.3 + 255.0 * 0.7).round() as u8;
    (light(r), light(g), light(b))
}

fn drawing_error(what: &str, e: impl std::fmt::Display) -> CliError {
    CliError::Failed(format!("cannot draw {what}: {e}"))
}

/// Whether the costs of `history` (training and validation, the positive finite ones) span
/// more than two decades, so that [`render_loss`] uses a logarithmic y axis.
pub fn uses_log_scale(history: &[EpochMetrics]) -> bool {
    let (lo, hi) = bounds(history.iter().flat_map(costs).filter(|c| *c > 0.0));
    lo > 0.0 && hi / lo > 100.0
}

fn costs(m: &EpochMetrics) -> impl Iterator<Item = f64> {
    std::iter::once(m.cost).chain(m.val_cost).filter(|c| c.is_finite())
}

/// The smallest and largest of `values` (`(∞, −∞)` when empty).
fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)))
}

/// The most decades a logarithmic cost axis spans, below its highest cost; lower costs are left
/// out of the plot.
pub const MAX_DECADES: f64 = 30.0;

/// The cost per epoch as an SVG document: one line for the training cost, one for the
/// validation cost where `history` has one; a logarithmic y axis when the costs span more than
/// two decades ([`uses_log_scale`]). Non-finite costs (and, on a log axis, costs ≤ 0 or more than
/// [`MAX_DECADES`] below the highest) are left out.
pub fn render_loss(history: &[EpochMetrics]) -> Result<String, CliError> {
    let x_range = 0..history.iter().map(|m| m.epoch).max().unwrap_or(0).max(1);
    if uses_log_scale(history) {
        // Whole decades, within f64's normal range and at most MAX_DECADES of them (the axis
        // code loops without end on ranges that reach infinity or subnormals).
        let (lo, hi) = bounds(history.iter().flat_map(costs).filter(|c| *c > 0.0));
        let top = math::log10(hi).ceil().min(f64::MAX_10_EXP as f64);
        let bottom = math::log10(lo).floor().max(top - MAX_DECADES).max(f64::MIN_10_EXP as f64);
        let (bottom, top) = (math::powf(10.0, bottom), math::powf(10.0, top));
        let y = (bottom..top).log_scale();
        draw_loss(history, x_range, y, "cost (log scale)", |c| (bottom..=top).contains(&c))
    } else {
        // Costs below 0 (a hand-written metrics.csv) or near f64::MAX: the axis keeps a width
        // that is finite, with room for the padding.
        let limit = f64::MAX / 4.0;
        let (lo, hi) = bounds(history.iter().flat_map(costs).filter(|c| c.abs() <= limit));
        let (lo, hi) = if lo.is_finite() { (lo.min(0.0), hi) } else { (0.0, 1.0) };
        let pad = if hi > lo { (hi - lo) * 0.05 } else { 0.5 };
        draw_loss(history, x_range, lo..hi + pad, "cost", |c| c.abs() <= limit)
    }
}

fn draw_loss<Y>(
    history: &[EpochMetrics],
    x_range: std::ops::Range<usize>,
    y_range: Y,
    y_desc: &str,
    keep: impl Fn(f64) -> bool,
) -> Result<String, CliError>
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let err = |e| drawing_error("the cost plot", e);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("cost per epoch", ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(x_range, y_range)
            .map_err(err)?;
        chart.configure_mesh().x_desc("epoch").y_desc(y_desc).draw().map_err(err)?;
        let mut lines = vec![("cost", COST_COLOR, points(history, |m| Some(m.cost), &keep))];
        if history.iter().any(|m| m.val_cost.is_some()) {
            lines.push(("val_cost", VAL_COST_COLOR, points(history, |m| m.val_cost, &keep)));
        }
        for (name, color, points) in lines {
            let style = rgb(color).stroke_width(2);
            chart
                .draw_series(LineSeries::new(points, style))
                .map_err(err)?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// At most this many buckets of epochs per line of the cost plot (about one per pixel column of
/// its 800-pixel width): a longer series is drawn as each bucket's lowest and highest point, in
/// epoch order, plus its first and last point.
pub const LOSS_PLOT_BUCKETS: usize = 800;

/// The finite `(epoch, value)` points of one series that `keep` accepts. A series longer than
/// `2·`[`LOSS_PLOT_BUCKETS`] is thinned to the first and last point and, for each of that many
/// equal runs of points, its lowest and highest (in epoch order): the line looks the same at
/// the plot's resolution, spikes included, and a 20000-epoch run's SVG stays small and quick.
fn points(
    history: &[EpochMetrics],
    value: impl Fn(&EpochMetrics) -> Option<f64>,
    keep: &impl Fn(f64) -> bool,
) -> Vec<(usize, f64)> {
    let all: Vec<(usize, f64)> = history
        .iter()
        .filter_map(|m| value(m).map(|c| (m.epoch, c)))
        .filter(|&(_, c)| c.is_finite() && keep(c))
        .collect();
    if all.len() <= 2 * LOSS_PLOT_BUCKETS {
        return all;
    }
    let mut thinned = Vec::with_capacity(2 * LOSS_PLOT_BUCKETS + 2);
    thinned.push(all[0]);
    let n = all.len();
    for b in 0..LOSS_PLOT_BUCKETS {
        let bucket = &all[b * n / LOSS_PLOT_BUCKETS..(b + 1) * n / LOSS_PLOT_BUCKETS];
        let lowest = bucket.iter().min_by(|x, y| x.1.total_cmp(&y.1)).copied();
        let highest = bucket.iter().max_by(|x, y| x.1.total_cmp(&y.1)).copied();
        if let (Some(lo), Some(hi)) = (lowest, highest) {
            let (first, second) = if lo.0 <= hi.0 { (lo, hi) } else { (hi, lo) };
            thinned.push(first);
            if second.0 != first.0 {
                thinned.push(second);
            }
        }
    }
    thinned.push(all[n - 1]);
    thinned.dedup_by_key(|p| p.0);
    thinned
}

/// Writes [`render_loss`]`(history)` to `path`, atomically.
pub fn loss_svg(history: &[EpochMetrics], path: &Path) -> Result<(), CliError> {
    write_atomic(path, render_loss(history)?.as_bytes())
}

/// Whether `targets` are classes: one-hot rows over two or more columns, or a single column of
/// 0s and 1s.
pub fn is_classification<F: Element>(targets: MatView<'_, F>) -> bool {
    let (zero, one) = (F::zero(), F::one());
    if targets.nrows() == 0 {
        return false;
    }
    if targets.ncols() == 1 {
        return targets.iter().all(|&t| t == zero || t == one);
    }
    targets.ncols() >= 2
        && targets
            .outer_iter()
            .all(|r| r.iter().all(|&t| t == zero || t == one) && r.iter().filter(|&&t| t == one).count() == 1)
}

/// The class of each row of a network's outputs or of targets
/// ([`predicted_class`](crate::report::predicted_class)).
pub fn classes<F: Element>(values: MatView<'_, F>, threshold: F) -> Vec<usize> {
    values.outer_iter().map(|r| crate::report::predicted_class(r, threshold)).collect()
}

/// The plotted range of one feature: its values' range, widened by 5 % on each side (by 0.5
/// when all values are equal). Values beyond ±`limit` are left out, so that the width, the
/// padding and every grid cell's centre stay finite in the network's dtype.
fn axis_range(values: impl Iterator<Item = f64>, limit: f64) -> (f64, f64) {
    let (lo, hi) = bounds(values.filter(|v| v.abs() <= limit));
    if !lo.is_finite() {
        return (-1.0, 1.0);
    }
    let pad = if hi > lo { hi * 0.05 - lo * 0.05 } else { 0.5 };
    (lo - pad, hi + pad)
}

/// The decision regions of `net` over 2-D `inputs` as an SVG document: a [`GRID`]×[`GRID`] grid
/// of cells, each filled with [`region_color`] of the class the network predicts at its centre
/// (cells of one class next to each other in a row are drawn as one rectangle), and every sample
/// on top as a circle in the [`PALETTE`] colour of its true class. A single output predicts class
/// 1 where it is `> threshold` (0.5 for probabilities, 0 for logits); several outputs predict
/// their argmax.
pub fn render_decision<F: Element>(
    net: &Network<F>,
    inputs: MatView<'_, F>,
    targets: MatView<'_, F>,
    threshold: F,
) -> Result<String, CliError> {
    render_decision_named(net, inputs, targets, threshold, &["x0".into(), "x1".into()])
}

/// The axes' titles of a decision plot: the features' names (`x0`, `x1` without them), said to
/// be scaled where the model's normalizer scales them (the plot is drawn in the network's
/// input space).
pub fn axis_titles(features: Option<&[String]>, kind: backprop_data::NormalizeKind) -> [String; 2] {
    let scaled = match kind {
        backprop_data::NormalizeKind::None => "",
        backprop_data::NormalizeKind::Standardize => " (standardized)",
        backprop_data::NormalizeKind::Minmax => " (min-max scaled)",
    };
    let name = |j: usize| features.and_then(|f| f.get(j)).cloned().unwrap_or_else(|| format!("x{j}"));
    [format!("{}{scaled}", name(0)), format!("{}{scaled}", name(1))]
}

/// [`render_decision`] with its axes titled `axes`.
pub fn render_decision_named<F: Element>(
    net: &Network<F>,
    inputs: MatView<'_, F>,
    targets: MatView<'_, F>,
    threshold: F,
    axes: &[String; 2],
) -> Result<String, CliError> {
    if inputs.ncols() != 2 || net.inputs() != 2 {
        return Err(CliError::Input(format!(
            "decision regions need 2 features, the data has {} and the network {} inputs",
            inputs.ncols(),
            net.inputs()
        )));
    }
    if targets.nrows() != inputs.nrows() {
        return Err(CliError::Input(format!("{} inputs but {} targets", inputs.nrows(), targets.nrows())));
    }
    // An eighth of the dtype's largest value: room for the padding (the plotting code loops
    // without end on ranges that reach infinity).
    let limit = F::max_value().f64() / 8.0;
    let (x0, x1) = axis_range(inputs.column(0).iter().map(|v| v.f64()), limit);
    let (y0, y1) = axis_range(inputs.column(1).iter().map(|v| v.f64()), limit);
    let inside = |x: f64, y: f64| (x0..=x1).contains(&x) && (y0..=y1).contains(&y);
    let (dx, dy) = ((x1 - x0) / GRID as f64, (y1 - y0) / GRID as f64);
    let mut grid = Matrix::<F>::zeros((GRID * GRID, 2));
    for (k, mut r) in grid.outer_iter_mut().enumerate() {
        let (i, j) = (k % GRID, k / GRID);
        r[0] = F::of(x0 + (i as f64 + 0.5) * dx);
        r[1] = F::of(y0 + (j as f64 + 0.5) * dy);
    }
    let predicted = classes(net.predict(grid.view()).view(), threshold);
    let truth = classes(targets, F::of(0.5));

    let err = |e| drawing_error("the decision regions", e);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (600, 600)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("decision regions", ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(err)?;
        let mut cells = Vec::new();
        for j in 0..GRID {
            let row = &predicted[j * GRID..(j + 1) * GRID];
            let mut start = 0;
            for i in 1..=GRID {
                if i == GRID || row[i] != row[start] {
                    let (a, b) =
                        ((x0 + start as f64 * dx, y0 + j as f64 * dy), (x0 + i as f64 * dx, y0 + (j + 1) as f64 * dy));
                    cells.push(Rectangle::new([a, b], rgb(region_color(row[start])).filled()));
                    start = i;
                }
            }
        }
        chart.draw_series(cells).map_err(err)?;
        chart.configure_mesh().disable_mesh().x_desc(axes[0].as_str()).y_desc(axes[1].as_str()).draw().map_err(err)?;
        let points = inputs.outer_iter().zip(&truth).filter(|(r, _)| inside(r[0].f64(), r[1].f64())).map(|(r, &k)| {
            Circle::new((r[0].f64(), r[1].f64()), 4, rgb(PALETTE[k % PALETTE.len()]).filled().stroke_width(1))
        });
        chart.draw_series(points).map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Writes [`render_decision_named`] to `path`, atomically.
pub fn decision_svg<F: Element>(
    net: &Network<F>,
    inputs: MatView<'_, F>,
    targets: MatView<'_, F>,
    threshold: F,
    axes: &[String; 2],
    path: &Path,
) -> Result<(), CliError> {
    write_atomic(path, render_decision_named(net, inputs, targets, threshold, axes)?.as_bytes())
}

/// Reads a run's `metrics.csv`: the columns `epoch` and `cost` (required) and `val_cost`
/// (optional), found by their header names; other columns are ignored, but every row must hold
/// as many cells as the header, the epochs must rise from row to row (as the trainer writes
/// them; rows out of order are a hand-edited or spliced file), and there must be one row at
/// least (a header alone is a cut file: an empty plot would look like a run of no epochs).
pub fn read_metrics(path: &Path) -> Result<Vec<EpochMetrics>, CliError> {
    let text = crate::fsutil::read_input_text(path, crate::fsutil::MODEL_LIMIT, "metrics file")?;
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let bad = |line: usize, m: String| CliError::Input(format!("{}:{}: {m}", path.display(), line + 1));
    let (_, header) = lines.next().ok_or_else(|| bad(0, "empty file, expected a header `epoch,cost,…`".into()))?;
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    let column = |name: &str| names.iter().position(|n| *n == name);
    let (Some(epoch), Some(cost)) = (column("epoch"), column("cost")) else {
        return Err(bad(0, format!("the header `{header}` lacks an `epoch` or a `cost` column")));
    };
    let val = column("val_cost");
    let mut last_epoch: Option<usize> = None;
    let history = lines
        .map(|(i, line)| {
            let cells: Vec<&str> = line.split(',').map(str::trim).collect();
            // Every row the trainer writes has the header's cells: fewer or more is a cut or
            // hand-edited file (a cut last row would otherwise be drawn as if whole).
            if cells.len() != names.len() {
                return Err(bad(i, format!("{} cells, the header has {}", cells.len(), names.len())));
            }
            // Every index below is a header column's, so within `cells`.
            let number = |k: usize, name: &str| {
                let s = cells[k];
                s.parse::<f64>().map_err(|_| bad(i, format!("`{name}` is `{s}`, not a number")))
            };
            let e = cells[epoch];
            let e = e.parse::<usize>().map_err(|_| bad(i, format!("`epoch` is `{e}`, not a whole number")))?;
            if let Some(last) = last_epoch.replace(e).filter(|&last| last >= e) {
                return Err(bad(i, format!("epoch {e} after epoch {last}: the epochs must rise from row to row")));
            }
            let val_cost = match val {
                Some(k) if !cells[k].is_empty() => Some(number(k, "val_cost")?),
                _ => None,
            };
            Ok(EpochMetrics { epoch: e, cost: number(cost, "cost")?, val_cost, ..Default::default() })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if history.is_empty() {
        return Err(bad(0, format!("the header `{header}` and no epoch after it")));
    }
    Ok(history)
}

/// `backprop plot RUN_DIR`: draws `loss.svg` from the run's `metrics.csv` and, when the run's
/// data has 2 features and classes ([`is_classification`]), `decision.svg` from its
/// `config.toml` and `model.json`. Hands back the files it wrote.
pub fn redraw(run_dir: &Path) -> Result<Vec<PathBuf>, CliError> {
    // A sweep's folder holds no run of its own: its trials do (its plots are its own).
    if run_dir.join("sweep.json").is_file() && !run_dir.join("metrics.csv").exists() {
        return Err(CliError::Input(format!(
            "{}: a sweep's folder, whose plots `cargo xtask experiment` and `collect` draw; `backprop plot` \
             draws a run's, such as a trial's ({})",
            run_dir.display(),
            run_dir.join("trials").join("00000").display()
        )));
    }
    // Every file read before any plot is written: a run directory that fails (its model gone)
    // is left as it was, not with a new loss.svg beside an old decision.svg.
    let history = read_metrics(&run_dir.join("metrics.csv"))?;
    let loaded = config::load(&run_dir.join("config.toml"), &[])?;
    let (splits, net) = crate::experiment::prepare_splits::<f64>(&loaded, Some(&run_dir.join("model.json")))?;
    let data = &splits.train;
    let mut written = vec![run_dir.join("loss.svg")];
    loss_svg(&history, &written[0])?;
    if data.features() == 2 && is_classification(data.targets.view()) {
        let threshold = decision_threshold(loaded.config.loss.get::<f64>(), &net);
        written.push(run_dir.join("decision.svg"));
        let axes = axis_titles(Some(&splits.feature_names), splits.normalizer.kind);
        decision_svg(&net, data.inputs.view(), data.targets.view(), threshold, &axes, &written[1])?;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A series of `10·LOSS_PLOT_BUCKETS` points, ten to a bucket, with ten distinct values in
    /// each: the thinned series is the first point, each bucket's lowest and highest in epoch
    /// order, and the last point.
    #[test]
    fn thinning_keeps_each_runs_lowest_and_highest_in_epoch_order() {
        let n = 10 * LOSS_PLOT_BUCKETS;
        // 919·e mod 1000: ten consecutive epochs take ten different values.
        let cost = |e: usize| ((e * 919) % 1000) as f64;
        let history: Vec<EpochMetrics> =
            (0..n).map(|epoch| EpochMetrics { epoch, cost: cost(epoch), ..Default::default() }).collect();
        let mut want = vec![0];
        for b in 0..LOSS_PLOT_BUCKETS {
            let run = b * 10..(b + 1) * 10;
            let lowest = run.clone().min_by(|x, y| cost(*x).total_cmp(&cost(*y))).unwrap();
            let highest = run.max_by(|x, y| cost(*x).total_cmp(&cost(*y))).unwrap();
            want.extend([lowest.min(highest), lowest.max(highest)]);
        }
        want.push(n - 1);
        want.dedup();
        let got: Vec<usize> = points(&history, |m| Some(m.cost), &|_| true).iter().map(|p| p.0).collect();
        assert_eq!(got, want);
        // At the limit, nothing is thinned.
        let all = points(&history[..2 * LOSS_PLOT_BUCKETS], |m| Some(m.cost), &|_| true);
        assert_eq!(all.len(), 2 * LOSS_PLOT_BUCKETS);
    }
}
