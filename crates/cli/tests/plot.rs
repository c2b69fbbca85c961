//! The SVG pictures, checked by their structure: one polyline per cost series, a logarithmic
//! axis for costs that span decades, a rectangle per run of same-class cells, a circle per
//! sample; and `redraw` on real run directories.

use std::path::{Path, PathBuf};

use backprop_cli::config;
use backprop_cli::plot::{
    COST_COLOR, GRID, LOSS_PLOT_BUCKETS, PALETTE, VAL_COST_COLOR, is_classification, read_metrics, redraw,
    region_color, render_decision, render_loss, uses_log_scale,
};
use backprop_cli::train::EpochMetrics;
use backprop_layers::activation::{Sigmoid, Softmax};
use backprop_layers::{ActivationSpec, LayerSpec, Network};
use backprop_tensor::math;
use ndarray::{Array2, array};
use tempfile::TempDir;

/// Reading the SVG files (shared with xtask's plot tests).
#[path = "support/svg.rs"]
mod svg;
use svg::elements;

fn hex((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02X}{g:02X}{b:02X}")
}

/// The points of the polylines stroked in `color` with more than two points (a legend sample
/// has two).
fn series(svg: &str, color: (u8, u8, u8)) -> Vec<Vec<(f64, f64)>> {
    elements(svg, "polyline")
        .into_iter()
        .filter(|e| e.get("stroke") == Some(&hex(color)))
        .map(|e| {
            e["points"]
                .split_whitespace()
                .map(|p| {
                    let (x, y) = p.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect::<Vec<_>>()
        })
        .filter(|p| p.len() > 2)
        .collect()
}

/// The plot area's top and bottom pixel rows: the extent of the mesh's vertical lines.
fn plot_area(svg: &str) -> (f64, f64) {
    let vertical = elements(svg, "line").into_iter().find(|e| e["x1"] == e["x2"]).expect("a vertical mesh line");
    let (a, b): (f64, f64) = (vertical["y1"].parse().unwrap(), vertical["y2"].parse().unwrap());
    (a.min(b), a.max(b))
}

fn check_svg_root(svg: &str) {
    assert!(svg.trim_start().starts_with("<svg "), "{}", &svg[..svg.len().min(200)]);
    assert!(svg.trim_end().ends_with("</svg>"));
}

fn history(costs: &[f64], val: Option<&[f64]>) -> Vec<EpochMetrics> {
    costs
        .iter()
        .enumerate()
        .map(|(epoch, &cost)| EpochMetrics { epoch, cost, val_cost: val.map(|v| v[epoch]), ..Default::default() })
        .collect()
}

#[test]
fn one_line_per_cost_series() {
    let costs: Vec<f64> = (0..50).map(|e| 1.0 / (1.0 + e as f64)).collect();
    let val: Vec<f64> = costs.iter().map(|c| c * 1.5).collect();

    let svg = render_loss(&history(&costs, None)).unwrap();
    check_svg_root(&svg);
    let cost = series(&svg, COST_COLOR);
    assert_eq!(cost.len(), 1);
    assert_eq!(cost[0].len(), 50, "a point per epoch");
    assert!(series(&svg, VAL_COST_COLOR).is_empty());

    let svg = render_loss(&history(&costs, Some(&val))).unwrap();
    check_svg_root(&svg);
    assert_eq!(series(&svg, COST_COLOR).len(), 1);
    assert_eq!(series(&svg, VAL_COST_COLOR).len(), 1);
    assert!(svg.contains("val_cost"), "the legend names the series");
    // Lower cost is lower on the picture (larger y), and validation sits above training.
    let (c, v) = (&series(&svg, COST_COLOR)[0], &series(&svg, VAL_COST_COLOR)[0]);
    assert!(c[0].1 < c[49].1);
    assert!(v.iter().zip(c).all(|(v, c)| v.1 <= c.1));
}

#[test]
fn costs_spanning_decades_get_a_log_axis() {
    // 10^(−e/10): four decades, so a log axis, on which the points are evenly spaced.
    let geometric: Vec<f64> = (0..=40).map(|e| math::powf(10.0, -(e as f64) / 10.0)).collect();
    assert!(uses_log_scale(&history(&geometric, None)));
    let svg = render_loss(&history(&geometric, None)).unwrap();
    assert!(svg.contains("cost (log scale)"));
    let ys: Vec<f64> = series(&svg, COST_COLOR)[0].iter().map(|p| p.1).collect();
    let steps: Vec<f64> = ys.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(steps.iter().all(|s| (s - steps[0]).abs() <= 1.0), "evenly spaced on a log axis: {steps:?}");

    // Less than two decades (1 → 0.02): linear, where the same kind of sequence is not even.
    let short: Vec<f64> = (0..=17).map(|e| math::powf(10.0, -(e as f64) / 10.0)).collect();
    assert!(!uses_log_scale(&history(&short, None)));
    let svg = render_loss(&history(&short, None)).unwrap();
    assert!(!svg.contains("log scale"));
    let ys: Vec<f64> = series(&svg, COST_COLOR)[0].iter().map(|p| p.1).collect();
    assert!((ys[1] - ys[0]) > 3.0 * (ys[17] - ys[16]));

    // A validation cost alone can make the span.
    let flat = vec![1.0; 10];
    let falling: Vec<f64> = (0..10).map(|e| 10f64.powi(-e)).collect();
    assert!(uses_log_scale(&history(&flat, Some(&falling))));

    // The span is of the positive costs: a cost of exactly 0 (left off a log axis) does not
    // hide it. And exactly two decades is not more than two.
    assert!(uses_log_scale(&history(&[1.0, 0.0, 1e-3], None)));
    // And the zero is left off without moving the axis: the other points are drawn where they
    // are without it.
    let ys = |costs: &[f64]| -> Vec<f64> {
        series(&render_loss(&history(costs, None)).unwrap(), COST_COLOR).concat().iter().map(|p| p.1).collect()
    };
    let (with_zero, without) = (ys(&[1.0, 0.1, 0.0, 0.01, 1e-3]), ys(&[1.0, 0.1, 0.01, 1e-3]));
    assert_eq!(with_zero, without);
    assert!(!uses_log_scale(&history(&[100.0, 1.0], None)));
    assert!(uses_log_scale(&history(&[100.0, 0.99], None)));
}

/// Each region's fill is its class colour mixed with 70% white, channel by channel.
#[test]
fn region_fills_are_the_palette_mixed_with_white() {
    for k in 0..12 {
        let (c, r) = (PALETTE[k % 10], region_color(k));
        for (c, r) in [(c.0, r.0), (c.1, r.1), (c.2, r.2)] {
            let want = 0.3 * f64::from(c) + 0.7 * 255.0;
            assert!((f64::from(r) - want).abs() <= 0.5 + 1e-9, "class {k}: {r} for {want}");
        }
    }
}

#[test]
fn long_histories_are_thinned_but_keep_their_ends_and_spikes() {
    // 20001 epochs falling from 1, with one spike to 5 at epoch 12345 and a dip at epoch 777.
    let mut costs: Vec<f64> = (0..=20_000).map(|e| 0.5 + 0.5 / (1.0 + e as f64 / 100.0)).collect();
    costs[12_345] = 5.0;
    costs[777] = 0.01;
    let svg = render_loss(&history(&costs, None)).unwrap();
    let line = &series(&svg, COST_COLOR)[0];
    assert!(line.len() <= 2 * LOSS_PLOT_BUCKETS + 2, "{} points", line.len());
    assert!(line.len() >= LOSS_PLOT_BUCKETS, "{} points", line.len());
    assert!(line.windows(2).all(|w| w[0].0 <= w[1].0), "points in epoch order");
    // Pixel y grows downwards: the spike is the topmost point, the dip the lowest, and the line
    // still starts at epoch 0 and ends at the last epoch (the extreme x pixels).
    let top = line.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let bottom = line.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let untouched = render_loss(&history(&costs[..1_000], None)).unwrap();
    let short = &series(&untouched, COST_COLOR)[0];
    assert_eq!(short.len(), 1_000, "short histories keep every point");
    assert!(top < line[0].1, "the spike (5) is drawn above the start (1): top {top}, start {}", line[0].1);
    assert!(bottom > line[line.len() - 1].1, "the dip is drawn below the last point");
    let xs: Vec<f64> = line.iter().map(|p| p.0).collect();
    assert_eq!(xs[0], xs.iter().copied().fold(f64::INFINITY, f64::min));
    assert_eq!(xs[xs.len() - 1], xs.iter().copied().fold(f64::NEG_INFINITY, f64::max));
}

#[test]
fn odd_histories_still_draw() {
    for h in [
        vec![],
        history(&[0.5], None),
        history(&[f64::NAN, 1.0, f64::INFINITY], None),
        history(&[1.0, 0.0, 1e-6], None),
    ] {
        check_svg_root(&render_loss(&h).unwrap());
    }
    // Flat histories (every cost the same, at 0 or below it, so the axis has no height of its
    // own) draw their line along the bottom, the axis half a unit high.
    for flat in [[0.0; 3], [-2.0; 3]] {
        let svg = render_loss(&history(&flat, None)).unwrap();
        let (_, bottom) = plot_area(&svg);
        let line = &series(&svg, COST_COLOR)[0];
        assert!(line.iter().all(|p| (p.1 - bottom).abs() <= 1.0), "{line:?} against the bottom at {bottom}");
    }
}

/// A linear cost axis runs from 0 (or the lowest cost, if below 0) to 5% of the span above the
/// highest cost.
#[test]
fn a_linear_axis_starts_at_zero_and_leaves_five_percent_above() {
    for (costs, lo, hi) in [(vec![1.0, 0.5, 0.25], 0.0, 1.0), (vec![3.0, -1.0, 2.0], -1.0, 3.0)] {
        let svg = render_loss(&history(&costs, None)).unwrap();
        let (top, bottom) = plot_area(&svg);
        let line = &series(&svg, COST_COLOR)[0];
        let top_of_span = hi + 0.05 * (hi - lo);
        for (p, c) in line.iter().zip(&costs) {
            let want = top + (top_of_span - c) / (top_of_span - lo) * (bottom - top);
            assert!((p.1 - want).abs() <= 1.5, "cost {c} at y = {}, want {want:.1} ({costs:?})", p.1);
        }
    }
}

/// A 2-1 sigmoid net that says class 1 exactly where x0 > 0.5.
fn threshold_net() -> Network<f64> {
    let mut net = Network::new(2, &[LayerSpec::new(1, ActivationSpec::Sigmoid(Sigmoid {}))]);
    net.params_mut().copy_from_slice(&[20.0, 0.0, -10.0]);
    net
}

#[test]
fn decision_regions_and_points() {
    let x = array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.25, 0.5]];
    let t = array![[0.0], [1.0], [1.0], [0.0], [0.0]];
    let svg = render_decision(&threshold_net(), x.view(), t.view(), 0.5).unwrap();
    check_svg_root(&svg);

    // Every grid row splits into one run of class 0 and one of class 1.
    let rects = elements(&svg, "rect");
    let count = |fill: String| rects.iter().filter(|r| r.get("fill") == Some(&fill)).count();
    assert_eq!(count(hex(region_color(0))), GRID);
    assert_eq!(count(hex(region_color(1))), GRID);

    let circles = elements(&svg, "circle");
    assert_eq!(circles.len(), 5, "a circle per sample");
    let colored = |k: usize| circles.iter().filter(|c| c.get("fill") == Some(&hex(PALETTE[k]))).count();
    assert_eq!((colored(0), colored(1)), (3, 2), "coloured by true class");

    // Several outputs predict their argmax; three classes, three colours.
    let mut net = Network::new(2, &[LayerSpec::new(3, ActivationSpec::Softmax(Softmax {}))]);
    net.params_mut().copy_from_slice(&[5.0, -5.0, 0.0, 0.0, 0.0, 5.0, 0.0, 0.0, 0.0]);
    let t3 = array![[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0]];
    let svg = render_decision(&net, x.view(), t3.view(), 0.5).unwrap();
    let rects = elements(&svg, "rect");
    for k in 0..3 {
        let fill = hex(region_color(k));
        assert!(rects.iter().any(|r| r.get("fill") == Some(&fill)), "a region of class {k}");
    }
    let circles = elements(&svg, "circle");
    assert_eq!(circles.len(), 5);
    for color in &PALETTE[..3] {
        assert!(circles.iter().any(|c| c.get("fill") == Some(&hex(*color))));
    }

    let three = Array2::<f64>::zeros((2, 3));
    let err = render_decision(&threshold_net(), three.view(), three.view(), 0.5).unwrap_err();
    assert!(err.to_string().contains("2 features"), "{err}");
}

/// The pixel box the decision regions cover: left, right, top, bottom.
fn region_box(svg: &str) -> (f64, f64, f64, f64) {
    let fills: Vec<String> = (0..10).map(|k| hex(region_color(k))).collect();
    let cells: Vec<[f64; 4]> = elements(svg, "rect")
        .into_iter()
        .filter(|r| r.get("fill").is_some_and(|f| fills.contains(f)))
        .map(|r| ["x", "y", "width", "height"].map(|k| r[k].parse::<f64>().unwrap()))
        .collect();
    let fold = |f: fn(&[f64; 4]) -> f64, min: bool| {
        cells
            .iter()
            .map(f)
            .fold(if min { f64::INFINITY } else { f64::NEG_INFINITY }, |a, b| if min { a.min(b) } else { a.max(b) })
    };
    (fold(|c| c[0], true), fold(|c| c[0] + c[2], false), fold(|c| c[1], true), fold(|c| c[1] + c[3], false))
}

/// Each feature's axis is its range widened by 5% on each side (by 0.5 when all values are
/// equal), and (−1, 1) without samples: each sample's circle sits where that scale puts it.
#[test]
fn the_decision_axes_pad_the_data_by_five_percent() {
    let at = |svg: &str| -> Vec<(f64, f64)> {
        elements(svg, "circle").iter().map(|c| (c["cx"].parse().unwrap(), c["cy"].parse().unwrap())).collect()
    };
    let cases = [
        (array![[0.0, 0.0], [1.0, 2.0], [0.25, 1.0]], (-0.05, 1.05), (-0.1, 2.1)),
        (array![[3.0, -1.0], [3.0, 1.0], [3.0, 0.0]], (2.5, 3.5), (-1.1, 1.1)),
    ];
    for (x, (x_lo, x_hi), (y_lo, y_hi)) in cases {
        let t = Array2::<f64>::zeros((x.nrows(), 1));
        let svg = render_decision(&threshold_net(), x.view(), t.view(), 0.5).unwrap();
        let (left, right, top, bottom) = region_box(&svg);
        assert!(right - left > 400.0 && bottom - top > 400.0, "{left}..{right} × {top}..{bottom}");
        for ((cx, cy), row) in at(&svg).into_iter().zip(x.outer_iter()) {
            let want_x = left + (row[0] - x_lo) / (x_hi - x_lo) * (right - left);
            let want_y = bottom - (row[1] - y_lo) / (y_hi - y_lo) * (bottom - top);
            assert!(
                (cx - want_x).abs() <= 1.5 && (cy - want_y).abs() <= 1.5,
                "{row}: ({cx}, {cy}), want ({want_x:.1}, {want_y:.1})"
            );
        }
    }
    // No samples: the regions still fill a square of the picture, over (−1, 1)², split at x0 = 0.5.
    let none = Array2::<f64>::zeros((0, 2));
    let svg = render_decision(&threshold_net(), none.view(), Array2::<f64>::zeros((0, 1)).view(), 0.5).unwrap();
    let (left, right, top, bottom) = region_box(&svg);
    assert!(right - left > 400.0 && bottom - top > 400.0, "{left}..{right} × {top}..{bottom}");
    let class_1 = elements(&svg, "rect").into_iter().filter(|r| r.get("fill") == Some(&hex(region_color(1)))).count();
    assert_eq!(class_1, GRID);
    let edge = elements(&svg, "rect")
        .into_iter()
        .filter(|r| r.get("fill") == Some(&hex(region_color(1))))
        .map(|r| r["x"].parse::<f64>().unwrap())
        .fold(f64::INFINITY, f64::min);
    // Cell centres −1 + (i + ½)·0.02 pass 0.5 from i = 75: class 1 from three quarters across.
    let want = left + 0.75 * (right - left);
    assert!((edge - want).abs() <= 1.5, "class 1 from x = {edge}, want {want:.1}");
    // The cells tile the area: each row's class-0 run ends where its class-1 run starts, and
    // every rectangle is one row high.
    let row_height = (bottom - top) / GRID as f64;
    for r in elements(&svg, "rect").iter().filter(|r| r.get("fill") == Some(&hex(region_color(0)))) {
        let end = r["x"].parse::<f64>().unwrap() + r["width"].parse::<f64>().unwrap();
        assert!((end - edge).abs() <= 1.0, "class 0 ends at {end}, class 1 starts at {edge}");
        assert!((r["height"].parse::<f64>().unwrap() - row_height).abs() <= 1.0, "a row high: {r:?}");
    }

    // The same across the rows: a net that says class 1 where x1 > 0.5 fills the top quarter.
    let mut rows = Network::new(2, &[LayerSpec::new(1, ActivationSpec::Sigmoid(Sigmoid {}))]);
    rows.params_mut().copy_from_slice(&[0.0, 20.0, -10.0]);
    let svg = render_decision(&rows, none.view(), Array2::<f64>::zeros((0, 1)).view(), 0.5).unwrap();
    let (_, _, top, bottom) = region_box(&svg);
    let class_1: Vec<[f64; 2]> = elements(&svg, "rect")
        .into_iter()
        .filter(|r| r.get("fill") == Some(&hex(region_color(1))))
        .map(|r| [r["y"].parse::<f64>().unwrap(), r["y"].parse::<f64>().unwrap() + r["height"].parse::<f64>().unwrap()])
        .collect();
    assert_eq!(class_1.len(), GRID / 4, "a rectangle per row of the top quarter");
    let (from, to) = class_1.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), r| (a.min(r[0]), b.max(r[1])));
    let quarter = top + 0.25 * (bottom - top);
    assert!(
        (from - top).abs() <= 1.5 && (to - quarter).abs() <= 1.5,
        "class 1 over y = {from}..{to}, want {top}..{quarter:.1}"
    );
}

#[test]
fn classification_targets() {
    let check = |t: Array2<f64>, want: bool| assert_eq!(is_classification(t.view()), want, "{t}");
    check(array![[0.0], [1.0], [1.0]], true);
    check(array![[1.0, 0.0], [0.0, 1.0]], true);
    check(array![[0.0, 0.0], [0.0, 1.0]], false); // the half adder's (sum, carry)
    check(array![[0.5], [1.0]], false);
    check(array![[1.0, 1.0], [0.0, 1.0]], false);
    check(array![[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], true); // one 1 a row, the rest 0s
    check(array![[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]], false);
    check(Array2::zeros((0, 1)), false);
}

/// A fresh, empty scratch folder, removed when dropped (pass or panic).
fn scratch(name: &str) -> TempDir {
    tempfile::Builder::new().prefix(&format!("backprop-plot-{name}-")).tempdir().unwrap()
}

/// Trains `toml` into a fresh run directory and returns it, with the scratch folder holding it.
fn run_dir(name: &str, toml: &str) -> (TempDir, PathBuf) {
    let tmp = scratch(name);
    let dir = tmp.path();
    let config = dir.join("config.in.toml");
    std::fs::write(&config, toml).unwrap();
    let loaded = config::load(&config, &[]).unwrap();
    let run = dir.join("run");
    std::fs::create_dir_all(&run).unwrap();
    backprop_cli::run::run_training_any(&loaded, &run, &mut std::io::sink()).unwrap();
    (tmp, run)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn redraw_a_classification_run() {
    let (_tmp, run) = run_dir(
        "xor",
        "[data]\nsource = \"xor\"\n[model]\nhidden = [4]\nactivation = \"tanh\"\noutput_activation = \"sigmoid\"\n\
         [optim]\nkind = \"sgd\"\nlr = 0.5\n[train]\nepochs = 30\nlog_every = 0\n",
    );
    // Drawn again from the run's files, not left from training.
    for svg in ["loss.svg", "decision.svg"] {
        std::fs::remove_file(run.join(svg)).unwrap();
    }
    assert_eq!(redraw(&run).unwrap(), [run.join("loss.svg"), run.join("decision.svg")], "the files it wrote");
    let loss = read(&run.join("loss.svg"));
    check_svg_root(&loss);
    assert_eq!(series(&loss, COST_COLOR)[0].len(), 31, "epochs 0 to 30");
    let decision = read(&run.join("decision.svg"));
    check_svg_root(&decision);
    assert_eq!(elements(&decision, "circle").len(), 4, "the four xor samples");
    let leftovers: Vec<_> = std::fs::read_dir(&run).unwrap().filter_map(|e| e.ok()).collect();
    assert!(leftovers.iter().all(|e| !e.file_name().to_string_lossy().ends_with(".tmp")), "atomic writes");
}

#[test]
fn redraw_a_regression_run_draws_only_the_cost() {
    let (_tmp, run) = run_dir("half_adder", "[data]\nsource = \"half_adder\"\n[train]\nepochs = 5\nlog_every = 0\n");
    assert_eq!(redraw(&run).unwrap(), [run.join("loss.svg")]);
    check_svg_root(&read(&run.join("loss.svg")));
    assert!(!run.join("decision.svg").exists(), "(sum, carry) are not classes");
}

#[test]
fn metrics_columns_by_name() {
    let tmp = scratch("metrics");
    let dir = tmp.path();
    let path = dir.join("metrics.csv");
    std::fs::write(&path, "epoch,accuracy,cost,val_cost,lr\n0,0.5,1.0,2.0,0.1\n1,0.75,0.5,NaN,0.1\n2,1,0.25,,0.1\n")
        .unwrap();
    let h = read_metrics(&path).unwrap();
    assert_eq!(h.len(), 3);
    assert_eq!((h[0].epoch, h[0].cost, h[0].val_cost), (0, 1.0, Some(2.0)));
    assert!(h[1].val_cost.unwrap().is_nan());
    assert_eq!((h[2].epoch, h[2].cost, h[2].val_cost), (2, 0.25, None));

    for (text, message) in [
        ("", "empty file"),
        ("epoch,lr\n0,1\n", "lacks an `epoch` or a `cost` column"),
        ("epoch,cost\n0,x\n", ":2: `cost` is `x`, not a number"),
        ("epoch,cost\n0.5,1\n", "`epoch` is `0.5`"),
        ("epoch,cost\n0\n", ":2: 1 cells, the header has 2"),
        ("epoch,cost,lr\n0,1,0.5\n1,0.5\n", ":3: 2 cells, the header has 3"),
        ("epoch,cost\n0,1,0.5\n", ":2: 3 cells, the header has 2"),
        ("epoch,cost\n", ":1: the header `epoch,cost` and no epoch after it"),
        ("epoch,cost\n\n", ":1: the header `epoch,cost` and no epoch after it"),
        ("epoch,cost\n0,1\n2,0.5\n1,0.7\n", ":4: epoch 1 after epoch 2: the epochs must rise"),
        ("epoch,cost\n0,1\n0,0.5\n", ":3: epoch 0 after epoch 0"),
    ] {
        std::fs::write(&path, text).unwrap();
        let err = read_metrics(&path).unwrap_err();
        assert!(err.to_string().contains(message), "{text:?}: {err}");
    }
    let err = redraw(&dir.join("missing")).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    // A sweep's folder is told apart from a run's.
    std::fs::remove_file(&path).unwrap();
    std::fs::write(dir.join("sweep.json"), "{}").unwrap();
    let err = redraw(dir).unwrap_err();
    assert!(err.to_string().contains(": a sweep's folder, whose plots `cargo xtask experiment`"), "{err}");
    assert_eq!(err.exit_code(), 2);
}

/// Costs at the ends of f64's range draw in a moment (they once sent the axis code into an
/// endless loop): a log axis spans at most `MAX_DECADES` below the highest cost, a linear one
/// stays finite.
#[test]
fn extreme_costs_draw() {
    for costs in [
        vec![1e-320, 1.0],
        vec![1e-160, 1e160],
        vec![1e-10, 1e308],
        vec![2.6e-8, 4e300, 1.0],
        vec![f64::MAX, f64::MAX / 2.0],
        vec![-f64::MAX, f64::MAX],
        vec![5e-324, 5e-324],
    ] {
        let svg = render_loss(&history(&costs, None)).unwrap_or_else(|e| panic!("{costs:?}: {e}"));
        check_svg_root(&svg);
    }
    // Within MAX_DECADES of the highest cost, every point is drawn.
    let svg = render_loss(&history(&[1e-25, 1e4, 1.0, 1e-5], None)).unwrap();
    assert_eq!(series(&svg, COST_COLOR).iter().map(Vec::len).collect::<Vec<_>>(), [4]);
}

/// Features at the ends of the dtype's range draw in a moment too: the axes leave out values
/// beyond an eighth of the largest, and the points drawn are those inside.
#[test]
fn extreme_features_draw() {
    let x = array![[1e308, 0.0], [-1e308, 1.0], [0.0, 0.0], [1.0, 1.0]];
    let t = array![[0.0], [1.0], [1.0], [0.0]];
    let svg = render_decision(&threshold_net(), x.view(), t.view(), 0.5).unwrap();
    check_svg_root(&svg);
    assert_eq!(elements(&svg, "circle").len(), 2, "the two points inside the axes");
    let mut net32 = Network::<f32>::new(2, &[LayerSpec::new(1, ActivationSpec::Sigmoid(Sigmoid {}))]);
    net32.params_mut().copy_from_slice(&[20.0, 0.0, -10.0]);
    let x32 = array![[3e38f32, 0.0], [-3e38, 1.0], [1e37, 2.0]];
    let t32 = array![[0.0f32], [1.0], [1.0]];
    let svg = render_decision(&net32, x32.view(), t32.view(), 0.5).unwrap();
    assert_eq!(elements(&svg, "circle").len(), 1);
}
