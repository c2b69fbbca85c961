//! Evaluation reports on a data set: a confusion matrix with per-class precision, recall and F1
//! for classification (scikit-learn's definitions), MSE, MAE and R² for regression.

use backprop_tensor::{Element, MatView};
use serde::{Deserialize, Serialize};

use crate::train::argmax;

/// Precision, recall and F1 of one class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassScores {
    /// The class's label.
    pub class: String,
    /// TP / (TP + FP); 0 when nothing was predicted as this class.
    pub precision: f64,
    /// TP / (TP + FN); 0 when the class has no samples.
    pub recall: f64,
    /// 2·P·R / (P + R); 0 when both are 0.
    pub f1: f64,
    /// Samples of this class.
    pub support: usize,
}

/// How a classifier did on a data set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassificationReport {
    /// Fraction of samples predicted right.
    pub accuracy: f64,
    /// `confusion[i][j]`: samples of class `i` predicted as class `j`.
    pub confusion: Vec<Vec<usize>>,
    /// One entry per class, in class order.
    pub per_class: Vec<ClassScores>,
}

/// How a regressor did on a data set (over every output).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegressionReport {
    /// Mean of (y − ŷ)² over all elements.
    pub mse: f64,
    /// Mean of |y − ŷ| over all elements.
    pub mae: f64,
    /// Coefficient of determination 1 − SS_res/SS_tot per output, averaged over outputs
    /// (scikit-learn's `uniform_average`); an output with constant targets scores 1 if predicted
    /// exactly, else 0. NaN (`null` in JSON) for fewer than two samples, where it is not defined
    /// (scikit-learn's `r2_score` gives NaN and a warning), and where an output is NaN.
    pub r2: f64,
    /// When every target is 0 or 1 (a truth table's bits, multi-label targets): how many of
    /// the outputs fall on their target's side of the decision threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bits: Option<BitScores>,
    /// With two outputs or more: each output's own MSE, MAE and R², in target order
    /// (scikit-learn's `multioutput="raw_values"`): targets on other scales (a price and a
    /// rent) make the means above mostly the larger one's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_output: Option<PerOutput>,
    /// What the scores compare with the targets where it is not the network's outputs:
    /// `"sigmoid(output)"` when those are logits a loss takes through a sigmoid
    /// (`bce_with_logits` over an `identity` output), whose R² against 0/1 targets would say
    /// nothing of the fit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub of: Option<String>,
}

/// Each output's own scores, one value per output in target order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PerOutput {
    /// Mean of (y − ŷ)² over the samples.
    pub mse: Vec<f64>,
    /// Mean of |y − ŷ| over the samples.
    pub mae: Vec<f64>,
    /// 1 − SS_res/SS_tot (constant targets: 1 if predicted exactly, else 0; NaN for fewer than
    /// two samples).
    pub r2: Vec<f64>,
}

/// Outputs read as bits: an output is 1 when it is above the decision threshold, strictly (as
/// [`predicted_class`] decides one output), and right when that is its target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BitScores {
    /// Right outputs over all outputs, every element alike (Keras's `binary_accuracy`).
    pub accuracy: f64,
    /// Rows whose every output is right, over the rows (scikit-learn's `accuracy_score` of
    /// multi-label targets, "subset accuracy"): for the half adder, the rows whose sum and carry
    /// are both right.
    pub exact_match: f64,
}

/// `x` for people: the shortest text that reads back to it, with an exponent below 10⁻⁵ and
/// from 10¹⁵ (where Rust's `Display` writes every digit: 300 zeros for 1e-300).
///
/// ```
/// use backprop_cli::report::number;
/// assert_eq!((number(0.25), number(1e-300), number(-2e20), number(0.0)), ("0.25".into(), "1e-300".into(), "-2e20".into(), "0".into()));
/// ```
pub fn number(x: f64) -> String {
    number_in(x)
}

/// [`number`] in `F`'s own shortest digits (an f32's `0.1`, not the `0.10000000149011612` of
/// its value in f64).
pub fn number_in<F: Element>(x: F) -> String {
    let v = x.f64();
    match (v != 0.0 && !(1e-5..1e15).contains(&v.abs()), F::DTYPE) {
        (true, backprop_tensor::Dtype::F32) => format!("{:e}", v as f32),
        (true, backprop_tensor::Dtype::F64) => format!("{v:e}"),
        (false, _) => x.to_string(),
    }
}

/// A figure for people, as Keras prints them: four decimals, or four digits of an exponent form
/// where those would hide the number (below 10⁻³, from 10⁶); the JSON has every digit.
///
/// ```
/// use backprop_cli::report::figure;
/// assert_eq!((figure(0.97333), figure(2.5e-5), figure(0.0)), ("0.9733".into(), "2.5000e-5".into(), "0.0000".into()));
/// ```
pub fn figure(x: f64) -> String {
    if x == 0.0 || (1e-3..1e6).contains(&x.abs()) { format!("{x:.4}") } else { format!("{x:.4e}") }
}

/// Rows of cells as a table: the first column left-aligned, the others right-aligned, each as
/// wide as its widest cell, two spaces apart; an empty row is an empty line.
fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let width = |c: usize| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns).map(width).collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(
                |(c, cell)| {
                    if c == 0 { format!("{cell:<w$}", w = widths[0]) } else { format!("{cell:>w$}", w = widths[c]) }
                },
            )
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

impl ClassificationReport {
    /// The report as scikit-learn's `classification_report` prints it (with four decimals): a
    /// row per class the samples hold or the model predicted (scikit-learn's labels when none are
    /// given; the others named after the table), the accuracy, the macro and support-weighted
    /// averages over those rows; then the confusion matrix over every class.
    pub fn to_text(&self) -> String {
        let score = |x: f64| format!("{x:.4}");
        let predicted = |k: usize| self.confusion.iter().map(|row| row.get(k).copied().unwrap_or(0)).sum::<usize>();
        let (seen, unseen): (Vec<_>, Vec<_>) =
            self.per_class.iter().enumerate().partition(|(k, c)| c.support > 0 || predicted(*k) > 0);
        let seen: Vec<&ClassScores> = seen.into_iter().map(|(_, c)| c).collect();
        let mut rows = vec![["", "precision", "recall", "f1-score", "support"].map(String::from).to_vec()];
        for c in &seen {
            rows.push(vec![c.class.clone(), score(c.precision), score(c.recall), score(c.f1), c.support.to_string()]);
        }
        let total: usize = seen.iter().map(|c| c.support).sum();
        let mean = |f: fn(&ClassScores) -> f64| seen.iter().map(|c| f(c)).sum::<f64>() / seen.len().max(1) as f64;
        let weighted = |f: fn(&ClassScores) -> f64| {
            seen.iter().map(|c| f(c) * c.support as f64).sum::<f64>() / total.max(1) as f64
        };
        rows.push(Vec::new());
        rows.push(vec!["accuracy".into(), String::new(), String::new(), score(self.accuracy), total.to_string()]);
        for (name, avg) in
            [("macro avg", &mean as &dyn Fn(fn(&ClassScores) -> f64) -> f64), ("weighted avg", &weighted)]
        {
            let row = [avg(|c| c.precision), avg(|c| c.recall), avg(|c| c.f1)].map(score);
            rows.push([vec![name.to_string()], row.to_vec(), vec![total.to_string()]].concat());
        }
        let mut out = table(&rows);
        if !unseen.is_empty() {
            let names: Vec<String> = unseen.iter().map(|(_, c)| format!("`{}`", c.class)).collect();
            out.push_str(&format!("(no sample and no prediction, left out: {})\n", names.join(", ")));
        }
        out.push_str("\nconfusion matrix (rows: true class, columns: predicted class):\n");
        let names: Vec<String> = self.per_class.iter().map(|c| c.class.clone()).collect();
        let mut matrix = vec![[vec![String::new()], names.clone()].concat()];
        for (name, row) in names.iter().zip(&self.confusion) {
            matrix.push([vec![name.clone()], row.iter().map(usize::to_string).collect()].concat());
        }
        out.push_str(&table(&matrix));
        out
    }
}

impl RegressionReport {
    /// The report for people: R², MSE and MAE over every output, each output's own under its
    /// name (`names`, in target order; `#1`, … where the model names none) with two outputs or
    /// more, and the outputs read as bits for 0/1 targets.
    pub fn to_text(&self, names: &[String]) -> String {
        let mut rows = vec![["", "R²", "MSE", "MAE"].map(String::from).to_vec()];
        rows.push(vec!["all outputs".into(), figure(self.r2), figure(self.mse), figure(self.mae)]);
        if let Some(per) = &self.per_output {
            for (j, ((r2, mse), mae)) in per.r2.iter().zip(&per.mse).zip(&per.mae).enumerate() {
                let name = names.get(j).cloned().unwrap_or_else(|| format!("#{}", j + 1));
                rows.push(vec![name, figure(*r2), figure(*mse), figure(*mae)]);
            }
        }
        let mut out = table(&rows);
        if let Some(of) = &self.of {
            out.push_str(&format!(
                "\n(of {of}: the network's outputs are logits, its loss's probabilities are these)\n"
            ));
        }
        if let Some(bits) = &self.bits {
            out.push_str(&format!(
                "\noutputs read as bits: {} of them right (binary accuracy), {} of the rows right in every output \
                 (exact match)\n",
                figure(bits.accuracy),
                figure(bits.exact_match)
            ));
        }
        out
    }
}

/// A network's output for people: 6 decimals (the post's `0.031141`), or 6 digits after the
/// point of an exponent form below 10⁻⁴, where the decimals would hide it, and from 10¹⁵.
///
/// ```
/// use backprop_cli::report::output;
/// assert_eq!((output(0.0311409), output(2.5e-9), output(0.0)), ("0.031141".into(), "2.500000e-9".into(), "0.000000".into()));
/// ```
pub fn output(x: f64) -> String {
    if x != 0.0 && x.is_finite() && !(1e-4..1e15).contains(&x.abs()) { format!("{x:.6e}") } else { format!("{x:.6}") }
}

/// The class of one row: argmax for several outputs (the first on ties); for one, class 1 when
/// `output > threshold`, strictly, as Keras's `BinaryAccuracy`, scikit-learn's `predict` and
/// torchmetrics decide (an output exactly at the threshold, such as an untrained net's
/// σ(0) = 0.5, is class 0). Every accuracy, report, prediction and decision plot decides by it.
pub fn predicted_class<F: Element>(row: ndarray::ArrayView1<'_, F>, threshold: F) -> usize {
    if row.len() == 1 { usize::from(row[0] > threshold) } else { argmax(row.iter().copied()) }
}

/// The report for `outputs` against one-hot (or single 0/1) `targets`. `classes` names the
/// classes (for a single output: two classes), or is empty for classes named `0`, `1`, ….
///
/// # Panics
/// When `outputs` and `targets` differ in shape, or `classes` names another number of classes
/// than the outputs hold (a class past the names was counted as the last one).
pub fn classification<F: Element>(
    outputs: MatView<'_, F>,
    targets: MatView<'_, F>,
    threshold: F,
    classes: &[String],
) -> ClassificationReport {
    assert_eq!(outputs.dim(), targets.dim(), "report::classification: outputs and targets differ in shape");
    let k = targets.ncols().max(2);
    assert!(
        classes.is_empty() || classes.len() == k,
        "report::classification: {} class names for {k} classes",
        classes.len()
    );
    let mut confusion = vec![vec![0usize; k]; k];
    for (o, t) in outputs.outer_iter().zip(targets.outer_iter()) {
        let truth = predicted_class(t, F::of(0.5));
        let guess = predicted_class(o, threshold);
        confusion[truth.min(k - 1)][guess.min(k - 1)] += 1;
    }
    let total: usize = confusion.iter().flatten().sum();
    let right: usize = (0..k).map(|i| confusion[i][i]).sum();
    let per_class = (0..k)
        .map(|c| {
            let tp = confusion[c][c] as f64;
            let predicted: usize = (0..k).map(|i| confusion[i][c]).sum();
            let support: usize = confusion[c].iter().sum();
            let precision = if predicted > 0 { tp / predicted as f64 } else { 0.0 };
            let recall = if support > 0 { tp / support as f64 } else { 0.0 };
            let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
            let class = classes.get(c).cloned().unwrap_or_else(|| c.to_string());
            ClassScores { class, precision, recall, f1, support }
        })
        .collect();
    ClassificationReport { accuracy: right as f64 / total.max(1) as f64, confusion, per_class }
}

/// The report for `outputs` against `targets` (same shape); with [`BitScores`] at `threshold`
/// when every target is 0 or 1.
///
/// # Panics
/// When `outputs` and `targets` differ in shape.
pub fn regression<F: Element>(outputs: MatView<'_, F>, targets: MatView<'_, F>, threshold: F) -> RegressionReport {
    assert_eq!(outputs.dim(), targets.dim(), "report::regression: outputs and targets differ in shape");
    let n = outputs.len().max(1) as f64;
    let diffs = || outputs.iter().zip(targets.iter()).map(|(o, t)| o.f64() - t.f64());
    let (se, ae) = (sum_of_powers(diffs, 2, None), sum_of_powers(diffs, 1, None));
    let cols = targets.ncols().max(1);
    let r2_of = |j: usize| {
        if targets.nrows() < 2 {
            return f64::NAN;
        }
        let t = targets.column(j);
        let mean = mean_of(|| t.iter().map(|v| v.f64()));
        let deviations = || t.iter().map(move |v| v.f64() - mean);
        let residuals = || outputs.column(j).into_iter().zip(t.iter()).map(|(o, t)| o.f64() - t.f64());
        let (mut ss_tot, mut ss_res) = (sum_of_powers(deviations, 2, None), sum_of_powers(residuals, 2, None));
        if ss_tot.is_infinite() || ss_res.is_infinite() {
            // Their ratio, over both scaled by one power of two (targets of 1e155).
            let scale = scale_of(deviations().chain(residuals()));
            (ss_tot, ss_res) = (sum_of_powers(deviations, 2, Some(scale)), sum_of_powers(residuals, 2, Some(scale)));
        }
        match (ss_tot > 0.0, ss_res > 0.0) {
            // A NaN output (or target) is no score: neither side of a comparison.
            _ if ss_tot.is_nan() || ss_res.is_nan() => f64::NAN,
            (true, _) => 1.0 - ss_res / ss_tot,
            (false, false) => 1.0,
            (false, true) => 0.0,
        }
    };
    let r2 = (0..targets.ncols()).map(r2_of).sum::<f64>() / cols as f64;
    let per_output = (targets.ncols() >= 2).then(|| {
        let rows = targets.nrows().max(1) as f64;
        let column_mean = |j: usize, power: i32| {
            let diffs = || outputs.column(j).into_iter().zip(targets.column(j)).map(|(o, t)| o.f64() - t.f64());
            mean_of_powers(diffs, power, rows)
        };
        PerOutput {
            mse: (0..targets.ncols()).map(|j| column_mean(j, 2)).collect(),
            mae: (0..targets.ncols()).map(|j| column_mean(j, 1)).collect(),
            r2: (0..targets.ncols()).map(r2_of).collect(),
        }
    });
    let (mse, mae) = match (se.is_infinite(), ae.is_infinite()) {
        (false, false) => (se / n, ae / n),
        _ => (mean_of_powers(diffs, 2, n), mean_of_powers(diffs, 1, n)),
    };
    RegressionReport { mse, mae, r2, bits: bits(outputs, targets, threshold), per_output, of: None }
}

/// The mean of `values`: their plain sum over their count, or where that sum overflows (50
/// targets near 1e307), the sum of the values scaled by a power of two, scaled back: the same
/// bits whenever the plain sum is finite.
fn mean_of<I: Iterator<Item = f64>>(values: impl Fn() -> I) -> f64 {
    let n = values().count().max(1) as f64;
    let plain = values().sum::<f64>() / n;
    if !plain.is_infinite() {
        return plain;
    }
    let scale = scale_of(values());
    values().map(|v| v / scale).sum::<f64>() / n * scale
}

/// Σ|v|ᵖ over `values` (p = 1 or 2), in plain f64; with `scale`, over the values divided by it.
fn sum_of_powers<I: Iterator<Item = f64>>(values: impl Fn() -> I, power: i32, scale: Option<f64>) -> f64 {
    let s = scale.unwrap_or(1.0);
    values().map(|v| if power == 2 { (v / s) * (v / s) } else { (v / s).abs() }).sum()
}

/// The power of two at the largest |v| of `values` (1 when there is none, or it is 0): dividing
/// by it is exact, and leaves every value within ±2.
fn scale_of(values: impl Iterator<Item = f64>) -> f64 {
    let largest = values.filter(|v| v.is_finite()).fold(0.0f64, |m, v| m.max(v.abs()));
    // The exponent's bits alone: the power of two at or below `largest` (0 for a subnormal).
    let power = f64::from_bits(largest.to_bits() & 0x7ff0_0000_0000_0000);
    if power > 0.0 { power } else { 1.0 }
}

/// The mean of |v|ᵖ over `values` (`n` of them): the plain sum over `n`, or, where that sum
/// overflows though the mean need not (errors of 1e155 squared, summed over rows), the sum of
/// the values scaled by a power of two, scaled back after the division; the same bits whenever
/// the plain sum is finite.
fn mean_of_powers<I: Iterator<Item = f64>>(values: impl Fn() -> I, power: i32, n: f64) -> f64 {
    let plain = sum_of_powers(&values, power, None);
    if !plain.is_infinite() {
        return plain / n;
    }
    let scale = scale_of(values());
    let mut mean = sum_of_powers(&values, power, Some(scale)) / n;
    for _ in 0..power {
        mean *= scale;
    }
    mean
}

/// [`BitScores`] when every target is 0 or 1 (and there is one), else `None`.
fn bits<F: Element>(outputs: MatView<'_, F>, targets: MatView<'_, F>, threshold: F) -> Option<BitScores> {
    if targets.is_empty() || !targets.iter().all(|&t| t == F::zero() || t == F::one()) {
        return None;
    }
    let right = |o: F, t: F| (o > threshold) == (t == F::one());
    let (mut outputs_right, mut rows_right) = (0usize, 0usize);
    for (o, t) in outputs.outer_iter().zip(targets.outer_iter()) {
        let here = o.iter().zip(t.iter()).filter(|&(&o, &t)| right(o, t)).count();
        outputs_right += here;
        rows_right += usize::from(here == t.len());
    }
    Some(BitScores {
        accuracy: outputs_right as f64 / targets.len() as f64,
        exact_match: rows_right as f64 / targets.nrows() as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// Without names, the classes are the outputs' (they were at least two: a third class
    /// counted as the second); names for another count, or outputs and targets of other shapes,
    /// are refused rather than read in part.
    #[test]
    fn classes_without_names_are_the_outputs_and_mismatches_panic() {
        let out = array![[0.1, 0.2, 0.7], [0.8, 0.1, 0.1]];
        let t = array![[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]];
        let r = classification(out.view(), t.view(), 0.5, &[]);
        assert_eq!(r.confusion, vec![vec![0, 0, 0], vec![1, 0, 0], vec![0, 0, 1]]);
        assert_eq!(r.accuracy, 0.5);
        assert_eq!(r.per_class.iter().map(|c| c.class.as_str()).collect::<Vec<_>>(), ["0", "1", "2"]);
        let panics = |f: &dyn Fn()| std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err();
        let two: Vec<String> = vec!["a".into(), "b".into()];
        assert!(panics(&|| drop(classification(out.view(), t.view(), 0.5, &two))));
        let short = t.slice(ndarray::s![..1, ..]);
        assert!(panics(&|| drop(classification(out.view(), short, 0.5, &[]))));
        assert!(panics(&|| {
            let _ = regression(out.view(), short, 0.5);
        }));
        let narrow = t.slice(ndarray::s![.., ..2]);
        assert!(panics(&|| drop(classification(out.view(), narrow, 0.5, &[]))));
    }

    #[test]
    fn confusion_and_scores_follow_the_definitions() {
        // Truth: 0, 0, 1, 2; predicted: 0, 1, 1, 1.
        let out = array![[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1], [0.3, 0.4, 0.3]];
        let t = array![[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
        let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let r = classification(out.view(), t.view(), 0.5, &names);
        assert_eq!(r.confusion, vec![vec![1, 1, 0], vec![0, 1, 0], vec![0, 1, 0]]);
        assert_eq!(r.accuracy, 0.5);
        assert_eq!((r.per_class[0].precision, r.per_class[0].recall), (1.0, 0.5));
        assert_eq!((r.per_class[1].precision, r.per_class[1].recall), (1.0 / 3.0, 1.0));
        assert!((r.per_class[1].f1 - 0.5).abs() < 1e-15);
        assert_eq!((r.per_class[2].precision, r.per_class[2].f1, r.per_class[2].support), (0.0, 0.0, 1));
    }

    /// F1 where precision and recall are both below 1, and a class with no sample and no
    /// prediction: 0 everywhere (scikit-learn's `zero_division = 0`), not 0/0.
    #[test]
    fn f1_is_the_harmonic_mean_and_empty_classes_score_0() {
        // Truth 0, 0, 1, 1; predicted 0, 1, 0, 1: class 0 has precision 1/2 and recall 1/2.
        let out = array![[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.3, 0.6, 0.1]];
        let t = array![[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0]];
        let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let r = classification(out.view(), t.view(), 0.5, &names);
        let a = &r.per_class[0];
        assert_eq!((a.precision, a.recall, a.f1), (0.5, 0.5, 0.5));
        let c = &r.per_class[2];
        assert_eq!((c.precision, c.recall, c.f1, c.support), (0.0, 0.0, 0.0, 0));
    }

    /// The text report: scikit-learn's `classification_report` layout and averages (a class
    /// with neither a sample nor a prediction left out of them, as scikit-learn leaves out
    /// labels in neither `y_true` nor `y_pred`), then the confusion matrix.
    #[test]
    fn the_text_report_is_scikit_learns() {
        let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        // Truth 0, 0, 1, 2; predicted 0, 1, 1, 1 (the case above).
        let out = array![[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1], [0.3, 0.4, 0.3]];
        let t = array![[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
        let text = classification(out.view(), t.view(), 0.5, &names).to_text();
        let want = "              precision  recall  f1-score  support\n\
                    a                1.0000  0.5000    0.6667        2\n\
                    b                0.3333  1.0000    0.5000        1\n\
                    c                0.0000  0.0000    0.0000        1\n\
                    \n\
                    accuracy                           0.5000        4\n\
                    macro avg        0.4444  0.5000    0.3889        4\n\
                    weighted avg     0.5833  0.5000    0.4583        4\n\
                    \n\
                    confusion matrix (rows: true class, columns: predicted class):\n\
                    \x20  a  b  c\n\
                    a  1  1  0\n\
                    b  0  1  0\n\
                    c  0  1  0\n";
        assert_eq!(text, want, "\n{text}");
        // Class c has no sample and is never predicted: no row, and the averages are over a and
        // b (scikit-learn's labels: those of y_true and y_pred); the matrix keeps it.
        let out = array![[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.3, 0.6, 0.1]];
        let t = array![[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0]];
        let text = classification(out.view(), t.view(), 0.5, &names).to_text();
        assert!(text.contains("\nmacro avg        0.5000  0.5000    0.5000        4\n"), "{text}");
        assert!(!text.lines().any(|l| l.starts_with("c  ") && l.contains('.')), "{text}");
        assert!(text.contains("(no sample and no prediction, left out: `c`)\n"), "{text}");
        assert!(text.ends_with("c  0  0  0\n"), "{text}");
    }

    #[test]
    fn the_text_regression_report_names_each_output() {
        let out = array![[1.0, 0.9], [0.0, 0.7], [1.0, 0.6]];
        let t = array![[1.0, 1.0], [0.0, 0.0], [1.0, 1.0]];
        let r = regression(out.view(), t.view(), 0.5);
        let text = r.to_text(&["sum".to_string()]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0].split_whitespace().collect::<Vec<_>>(), ["R²", "MSE", "MAE"]);
        assert!(lines[1].starts_with("all outputs  ") && lines[2].starts_with("sum  ") && lines[3].starts_with("#2  "));
        assert_eq!(lines[2].split_whitespace().collect::<Vec<_>>(), ["sum", "1.0000", "0.0000", "0.0000"]);
        // Targets of 0s and 1s: bits, 5 of 6 right (0.7 is above 0.5, its target 0), 2 of 3 rows.
        assert_eq!(
            lines[5],
            "outputs read as bits: 0.8333 of them right (binary accuracy), 0.6667 of the rows right in every output \
             (exact match)"
        );
    }

    /// Errors of 2⁵¹¹ squared and summed over rows overflow f64, their mean does not: MSE, MAE and
    /// R² as for the same data scaled down by 2⁵¹¹ (where the sums gave inf and NaN).
    #[test]
    fn huge_targets_score_without_overflow() {
        let k = 2f64.powi(511);
        let t = array![[0.0], [2.0], [4.0], [6.0]];
        let o = array![[1.0], [1.0], [5.0], [5.0]];
        let small = regression(o.view(), t.view(), 0.5);
        assert_eq!((small.mse, small.mae, small.r2), (1.0, 1.0, 0.8));
        let huge = regression(o.mapv(|v| v * k).view(), t.mapv(|v| v * k).view(), 0.5);
        assert_eq!((huge.mse, huge.mae, huge.r2), (k * k, k, 0.8), "{huge:?}");
        // Two outputs: each one's own figures too.
        let t2 = ndarray::concatenate![ndarray::Axis(1), t, t].mapv(|v| v * k);
        let o2 = ndarray::concatenate![ndarray::Axis(1), o, o].mapv(|v| v * k);
        let per = regression(o2.view(), t2.view(), 0.5).per_output.expect("two outputs");
        assert_eq!((per.mse, per.mae, per.r2), (vec![k * k; 2], vec![k; 2], vec![0.8; 2]));
        // Targets whose sum overflows though their mean does not: R² of outputs all 0 is
        // 1 − Σt²/Σ(t − t̄)², below 0 (it was 1: an infinite mean made the deviations infinite).
        let t = ndarray::Array2::from_shape_fn((50, 1), |(i, _)| 1e307 * (1.0 + (i % 2) as f64));
        let zeros = ndarray::Array2::zeros((50, 1));
        let r = regression(zeros.view(), t.view(), 0.5);
        // Mean 1.5e307, deviations ±0.5e307: Σ(t − t̄)² = 50·0.25e614, Σt² = 25·(1 + 4)e614.
        assert!((r.r2 - (1.0 - 125.0 / 12.5)).abs() < 1e-12, "{r:?}");
    }

    #[test]
    fn single_outputs_are_two_classes_by_threshold() {
        let out = array![[0.2], [0.6], [0.7]];
        let t = array![[0.0], [0.0], [1.0]];
        let r = classification(out.view(), t.view(), 0.5, &[]);
        assert_eq!(r.confusion, vec![vec![1, 1], vec![0, 1]]);
    }

    #[test]
    fn regression_scores() {
        let out = array![[1.0], [2.0], [4.0]];
        let t = array![[1.0], [3.0], [5.0]];
        let r = regression(out.view(), t.view(), 0.5);
        assert!((r.mse - 2.0 / 3.0).abs() < 1e-15 && (r.mae - 2.0 / 3.0).abs() < 1e-15);
        // mean t = 3, SS_tot = 8, SS_res = 2.
        assert!((r.r2 - 0.75).abs() < 1e-15);
    }

    #[test]
    fn r2_is_the_mean_over_outputs_and_constant_targets_score_0_or_1() {
        // Column 0 as above (0.75); column 1 constant and predicted exactly (1).
        let out = array![[1.0, 7.0], [2.0, 7.0], [4.0, 7.0]];
        let t = array![[1.0, 7.0], [3.0, 7.0], [5.0, 7.0]];
        let r = regression(out.view(), t.view(), 0.5);
        assert!((r.r2 - (0.75 + 1.0) / 2.0).abs() < 1e-15, "{}", r.r2);
        assert!((r.mse - 2.0 / 6.0).abs() < 1e-15, "a mean over every element: {}", r.mse);
        // Column 1 constant and missed (0): scikit-learn's convention.
        let out = array![[1.0, 7.0], [2.0, 7.5], [4.0, 7.0]];
        let r = regression(out.view(), t.view(), 0.5);
        assert!((r.r2 - 0.75 / 2.0).abs() < 1e-15, "{}", r.r2);
        // Each output's own, as scikit-learn's `raw_values`: column 1 constant and missed.
        let each = r.per_output.as_ref().expect("two outputs");
        assert_eq!((each.mse.clone(), each.mae.clone()), (vec![2.0 / 3.0, 0.25 / 3.0], vec![2.0 / 3.0, 0.5 / 3.0]));
        assert_eq!(each.r2, vec![0.75, 0.0]);
        let one =
            regression(out.column(0).insert_axis(ndarray::Axis(1)), t.column(0).insert_axis(ndarray::Axis(1)), 0.5);
        assert!(one.per_output.is_none(), "one output is its own mean");
        // A NaN output is no fit, not a perfect one on constant targets.
        let nan = regression(array![[f64::NAN, 7.0], [2.0, 7.0]].view(), array![[1.0, 7.0], [1.0, 7.0]].view(), 0.5);
        assert!(nan.r2.is_nan() && nan.per_output.as_ref().unwrap().r2[0].is_nan(), "{nan:?}");
        assert_eq!(nan.per_output.unwrap().r2[1], 1.0);
        // One sample: not defined (scikit-learn's NaN), whether predicted exactly or not.
        for out in [array![[1.5, 2.0]], array![[1.0, 2.0]]] {
            let r = regression(out.view(), array![[1.5, 2.0]].view(), 0.5);
            assert!(r.r2.is_nan(), "{}", r.r2);
            assert!(serde_json::to_string(&r).unwrap().contains("\"r2\":null"));
        }
    }

    /// By hand: the half adder's four rows, one output wrong in row 1 and both in row 3.
    #[test]
    fn zero_one_targets_are_scored_as_bits() {
        let t = array![[0.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]];
        let out = array![[0.1, 0.2], [0.4, 0.1], [0.9, 0.3], [0.7, 0.2]];
        let bits = regression(out.view(), t.view(), 0.5).bits.expect("0/1 targets");
        assert_eq!(bits, BitScores { accuracy: 5.0 / 8.0, exact_match: 2.0 / 4.0 });
        // At the threshold is a 0, as for one output's class; logits decide at 0.
        let bits = regression(array![[0.5, 0.0]].view(), array![[1.0, 0.0]].view(), 0.5).bits.unwrap();
        assert_eq!((bits.accuracy, bits.exact_match), (0.5, 0.0));
        let logits = array![[-2.0, 0.3], [1.5, -0.1], [3.0, -4.0], [-1.0, 2.0]];
        let bits = regression(logits.view(), t.view(), 0.0).bits.unwrap();
        assert_eq!((bits.accuracy, bits.exact_match), (7.0 / 8.0, 3.0 / 4.0));
        // Any other target, and there are none.
        let other = array![[0.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 0.5]];
        assert_eq!(regression(out.view(), other.view(), 0.5).bits, None);
        assert_eq!(regression(array![[1.0], [2.0]].view(), array![[1.0], [2.0]].view(), 0.5).bits, None);
        let none = ndarray::Array2::<f64>::zeros((0, 2));
        assert_eq!(regression(none.view(), none.view(), 0.5).bits, None);
    }

    #[test]
    fn numbers_read_back_in_their_own_type() {
        assert_eq!(
            (number_in(0.1f32), number_in(1e-30f32), number_in(3e20f32)),
            ("0.1".into(), "1e-30".into(), "3e20".into())
        );
        assert_eq!(
            (number_in(0.1f64), number_in(1e-30f64), number_in(-0.0f64)),
            ("0.1".into(), "1e-30".into(), "-0".into())
        );
        assert_eq!(
            (output(1e15), output(-3e-5), output(f64::NAN)),
            ("1.000000e15".into(), "-3.000000e-5".into(), "NaN".into())
        );
        assert_eq!(output(0.0001), "0.000100");
        assert_eq!((number(0.1), number(1e-300), number(-2e20)), ("0.1".into(), "1e-300".into(), "-2e20".into()));
    }

    #[test]
    fn a_single_output_exactly_at_the_threshold_is_class_0() {
        assert_eq!(predicted_class(array![0.5].view(), 0.5), 0);
        assert_eq!(predicted_class(array![0.5001].view(), 0.5), 1);
        assert_eq!(predicted_class(array![0.0].view(), 0.0), 0, "a logit of 0");
        assert_eq!(predicted_class(array![1e-300].view(), 0.0), 1);
        assert_eq!(predicted_class(array![0.2, 0.5, 0.3].view(), 0.5), 1);
    }
}
