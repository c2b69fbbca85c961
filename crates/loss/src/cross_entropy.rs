use backprop_tensor::spec::in_range;
use backprop_tensor::{Element, MatView, MatViewMut, SpecError, Validate, math};
use ndarray::{ArrayView1, Zip};
use serde::{Deserialize, Serialize};

use crate::Loss;

/// Softmax cross-entropy on logits, mean over samples (PyTorch `CrossEntropyLoss`, probability
/// targets).
///
/// `cross_entropy`: softmax cross-entropy on logits against class-probability targets, a softmax
/// fused into the loss (PyTorch `torch.nn.CrossEntropyLoss` with probability targets, reduction
/// `mean`, parameter `label_smoothing`, default 0.0; no `weight`).
///
/// The input `x` is logits (any real), each target row `t` a distribution over the `K` classes
/// (one-hot for hard labels). With label smoothing `ε` the target becomes
/// `t'_k = (1 − ε)·t_k + ε/K`, and
///
/// `C = −1/N · Σ_n Σ_k t'_nk · log_softmax(x_n)_k`,
/// `log_softmax(x)_k = x_k − m − ln Σ_j e^(x_j − m)`, `m = max_j x_j`,
///
/// computed stably: subtracting the row max `m` keeps every exponential in `(0, 1]`, so any finite
/// logits give a finite cost. The mean is over the `N` samples (rows) only, not over `N·K`: that
/// is PyTorch's `mean` for class-probability targets. There is no ½.
///
/// The gradient is `∂C/∂x_nk = (softmax(x_n)_k − t'_nk) / N` for target rows that sum to 1 (what
/// a distribution does). In general it is `(softmax(x_n)_k · Σ_j t'_nj − t'_nk) / N`, the exact
/// derivative of the cost above, which is what is computed.
///
/// It [absorbs](crate::Loss::absorbs) `softmax`: when the output layer's activation is
/// `softmax`, the loss is applied to that layer's pre-activation `zᴸ` (the logits) and writes
/// `δᴸ = ∂C/∂zᴸ = (a − t')/N` directly, `a = softmax(zᴸ)` being the layer's output; the softmax's
/// own backward pass (its Jacobian) is skipped. With an `identity` output layer the outputs are
/// the logits and the loss takes them directly. Either way softmax is applied exactly once, inside
/// the loss or by the layer's forward pass, never twice.
///
/// # Shapes
/// `output` (the logits), `target` and `grad` are (N, K): rows are samples, columns classes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CrossEntropy {
    /// `ε` in `[0, 1]`: the target mixed with the uniform distribution, `(1 − ε)·t + ε/K`
    /// (default 0.0, PyTorch's).
    pub label_smoothing: f64,
}

impl Validate for CrossEntropy {
    fn validate(&self) -> Result<(), SpecError> {
        in_range("label_smoothing", self.label_smoothing, 0.0, 1.0)
    }
}

/// The row's max `m` and `ln Σ_j e^(x_j − m)`, so that `log_softmax(x)_k = x_k − m − lse`.
fn max_and_log_sum_exp<F: Element>(x: ArrayView1<'_, F>) -> (F, F) {
    let m = x.fold(F::neg_infinity(), |m, &v| m.max(v));
    let sum = x.fold(F::zero(), |s, &v| s + math::exp(v - m));
    (m, math::ln(sum))
}

/// [`max_and_log_sum_exp`] of a row in a slice (the same folds, in the same order).
fn max_and_log_sum_exp_slice<F: Element>(x: &[F]) -> (F, F) {
    let m = x.iter().fold(F::neg_infinity(), |m, &v| m.max(v));
    let sum = x.iter().fold(F::zero(), |s, &v| s + math::exp(v - m));
    (m, math::ln(sum))
}

/// Elements of the stack buffer [`rows_max_lse`] computes its exponentials in.
const SCRATCH: usize = 256;

/// [`max_and_log_sum_exp_slice`] of each row of the row-major `xs` (`k` columns), handed to
/// `each(row, m, lse)` in row order: the same bits, but the exponentials of as many rows as fit
/// [`SCRATCH`] computed together, four at a time ([`math::exp_in_place`]), instead of one call
/// each (W2's cross-entropy, ten classes, was 8% of its main thread's time).
fn rows_max_lse<F: Element>(xs: &[F], k: usize, mut each: impl FnMut(usize, F, F)) {
    if k == 0 || k > SCRATCH {
        for (i, x) in xs.chunks_exact(k.max(1)).enumerate() {
            let (m, lse) = max_and_log_sum_exp_slice(x);
            each(i, m, lse);
        }
        return;
    }
    let per = SCRATCH / k;
    let (mut buf, mut maxes) = ([F::zero(); SCRATCH], [F::zero(); SCRATCH]);
    for (c, chunk) in xs.chunks(per * k).enumerate() {
        let rows = chunk.len() / k;
        for (r, x) in chunk.chunks_exact(k).enumerate() {
            let m = x.iter().fold(F::neg_infinity(), |m, &v| m.max(v));
            maxes[r] = m;
            for (b, &v) in buf[r * k..(r + 1) * k].iter_mut().zip(x) {
                *b = v - m;
            }
        }
        math::exp_in_place(&mut buf[..rows * k]);
        for (r, &m) in maxes[..rows].iter().enumerate() {
            let sum = buf[r * k..(r + 1) * k].iter().fold(F::zero(), |s, &e| s + e);
            each(c * per + r, m, math::ln(sum));
        }
    }
}

impl CrossEntropy {
    /// `(1 − ε, ε/K)`: the smoothed target is `keep·t + spread`.
    fn smoothing<F: Element>(&self, k: usize) -> (F, F) {
        (F::of(1.0 - self.label_smoothing), F::of(self.label_smoothing / k as f64))
    }
}

impl<F: Element> Loss<F> for CrossEntropy {
    fn cost(&self, output: MatView<'_, F>, target: MatView<'_, F>) -> F {
        let (keep, spread) = self.smoothing::<F>(output.ncols());
        let mut sum = 0.0;
        // Row-major buffers (the workspace's): slice loops, the same sums in the same order.
        let k = output.ncols();
        if k > 0
            && output.dim() == target.dim()
            && let (Some(xs), Some(ts)) = (output.to_slice(), target.to_slice())
        {
            rows_max_lse(xs, k, |i, m, lse| {
                for (&x, &t) in xs[i * k..(i + 1) * k].iter().zip(&ts[i * k..(i + 1) * k]) {
                    sum -= ((keep * t + spread) * (x - m - lse)).f64();
                }
            });
            return F::of(sum / output.nrows() as f64);
        }
        for (x, t) in output.outer_iter().zip(target.outer_iter()) {
            let (m, lse) = max_and_log_sum_exp(x);
            Zip::from(x).and(t).for_each(|&x, &t| sum -= ((keep * t + spread) * (x - m - lse)).f64());
        }
        F::of(sum / output.nrows() as f64)
    }

    fn gradient(&self, output: MatView<'_, F>, target: MatView<'_, F>, grad: MatViewMut<'_, F>) {
        let (keep, spread) = self.smoothing::<F>(output.ncols());
        let n = F::of(output.nrows() as f64);
        let k = output.ncols();
        let mut grad = grad;
        let same_shape = output.dim() == target.dim() && grad.dim() == output.dim();
        if k > 0
            && same_shape
            && let (Some(xs), Some(ts), Some(gs)) = (output.to_slice(), target.to_slice(), grad.as_slice_mut())
        {
            // g ← x − m − lse, then e^g over the whole batch at once, then the affine part.
            rows_max_lse(xs, k, |i, m, lse| {
                for (g, &x) in gs[i * k..(i + 1) * k].iter_mut().zip(&xs[i * k..(i + 1) * k]) {
                    *g = x - m - lse;
                }
            });
            math::exp_in_place(gs);
            for (t, g) in ts.chunks_exact(k).zip(gs.chunks_exact_mut(k)) {
                let mass = t.iter().fold(F::zero(), |s, &t| s + keep * t + spread);
                for (g, &t) in g.iter_mut().zip(t) {
                    *g = (*g * mass - (keep * t + spread)) / n;
                }
            }
            return;
        }
        for ((x, t), g) in output.outer_iter().zip(target.outer_iter()).zip(grad.outer_iter_mut()) {
            let (m, lse) = max_and_log_sum_exp(x);
            // Σ_j t'_j: 1 for a distribution, kept so the gradient is exact for any target.
            let mass = t.fold(F::zero(), |s, &t| s + keep * t + spread);
            Zip::from(g).and(x).and(t).for_each(|g, &x, &t| {
                *g = (math::exp(x - m - lse) * mass - (keep * t + spread)) / n;
            });
        }
    }

    fn absorbs(&self) -> Option<&'static str> {
        Some("softmax")
    }

    fn target_range(&self) -> Option<(f64, f64)> {
        Some((0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    // The references are computed with the standard library's exp and ln: independent of `math`.
    #![allow(clippy::disallowed_methods)]
    use super::*;
    use ndarray::{Array2, ArrayView2, ShapeBuilder, array};

    /// The cost and gradient one row and one exponential at a time, as written before the
    /// batched exponentials: the reference for their bits.
    fn one_at_a_time<F: Element>(ce: &CrossEntropy, xs: &[F], ts: &[F], k: usize) -> (F, Vec<F>) {
        let (keep, spread) = ce.smoothing::<F>(k);
        let rows = xs.len() / k;
        let n = F::of(rows as f64);
        let (mut sum, mut grad) = (0.0, vec![F::zero(); xs.len()]);
        for ((x, t), g) in xs.chunks_exact(k).zip(ts.chunks_exact(k)).zip(grad.chunks_exact_mut(k)) {
            let (m, lse) = max_and_log_sum_exp_slice(x);
            let mass = t.iter().fold(F::zero(), |s, &t| s + keep * t + spread);
            for ((g, &x), &t) in g.iter_mut().zip(x).zip(t) {
                sum -= ((keep * t + spread) * (x - m - lse)).f64();
                *g = (math::exp(x - m - lse) * mass - (keep * t + spread)) / n;
            }
        }
        (F::of(sum / rows as f64), grad)
    }

    fn batched_keep_the_bits<F: Element>() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for k in [1, 2, 3, 10, 85, 256, 257, 300] {
            for rows in [1, 2, 25, 26, 70] {
                for smoothing in [0.0, 0.1] {
                    let ce = CrossEntropy { label_smoothing: smoothing };
                    let xs: Vec<F> = (0..rows * k).map(|_| F::of(next() * 40.0 - 20.0)).collect();
                    let ts: Vec<F> = (0..rows * k).map(|i| F::of(if i % k == i / k % k { 1.0 } else { 0.0 })).collect();
                    let (cost, grad) = one_at_a_time(&ce, &xs, &ts, k);
                    let mut got = vec![F::nan(); xs.len()];
                    ce.gradient_rows(k, &xs, &ts, &mut got);
                    let bits = |v: &[F]| v.iter().map(|x| x.f64().to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&got), bits(&grad), "gradient, k {k}, {rows} rows, ε {smoothing}");
                    assert_eq!(
                        ce.cost_rows(k, &xs, &ts).f64().to_bits(),
                        cost.f64().to_bits(),
                        "cost, k {k}, {rows} rows"
                    );
                    // The same through column-major views (no row-major slices: the loop
                    // over row views).
                    let column_major = |v: &[F]| {
                        let mut a = Array2::<F>::zeros((rows, k).f());
                        a.assign(&ArrayView2::from_shape((rows, k), v).unwrap());
                        a
                    };
                    let (xc, tc) = (column_major(&xs), column_major(&ts));
                    let mut gc = Array2::<F>::from_elem((rows, k).f(), F::nan());
                    ce.gradient(xc.view(), tc.view(), gc.view_mut());
                    let gc: Vec<F> = gc.iter().copied().collect();
                    assert_eq!(bits(&gc), bits(&grad), "gradient of views, k {k}, {rows} rows, ε {smoothing}");
                    let got = ce.cost(xc.view(), tc.view());
                    assert_eq!(got.f64().to_bits(), cost.f64().to_bits(), "cost of views, k {k}, {rows} rows");
                }
            }
        }
    }

    /// The exponentials of several rows at once give each row's cost and gradient the bits of
    /// one row and one exponential at a time, in f64 and f32, for rows wider than the scratch
    /// buffer too, and so does the loop over the rows of views that are not row-major.
    #[test]
    fn batched_exponentials_keep_the_bits() {
        batched_keep_the_bits::<f64>();
        batched_keep_the_bits::<f32>();
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-14 * a.abs().max(b.abs()).max(1.0)
    }

    #[test]
    fn huge_logits_stay_finite_and_right() {
        let ce = CrossEntropy::default();
        let x = array![[1000.0, 0.0]];
        assert_eq!(ce.cost(x.view(), array![[1.0, 0.0]].view()), 0.0);
        assert_eq!(ce.cost(x.view(), array![[0.0, 1.0]].view()), 1000.0);
        let mut g = array![[9.0, 9.0]];
        ce.gradient(x.view(), array![[0.0, 1.0]].view(), g.view_mut());
        assert_eq!(g, array![[1.0, -1.0]]);

        let x = array![[-1000.0, 1000.0, 0.0], [1000.0, 1000.0, -1000.0]];
        let t = array![[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];
        // Row 1: −(−1000 − 1000) = 2000; row 2: ln 2.
        assert!(close(ce.cost(x.view(), t.view()), (2000.0 + 2f64.ln()) / 2.0));
        let mut g = Array2::from_elem((2, 3), 9.0);
        ce.gradient(x.view(), t.view(), g.view_mut());
        assert_eq!(g, array![[-0.5, 0.5, 0.0], [0.25, -0.25, 0.0]]);

        let x = array![[1000.0f32, -1000.0]];
        let t = array![[0.0f32, 1.0]];
        assert_eq!(ce.cost(x.view(), t.view()), 2000.0);
        let mut g = array![[9.0f32; 2]];
        ce.gradient(x.view(), t.view(), g.view_mut());
        assert_eq!(g, array![[1.0f32, -1.0]]);
    }

    #[test]
    fn label_smoothing_follows_the_formula() {
        // K = 4, ε = 0.2: t' = 0.8·t + 0.05.
        let ce = CrossEntropy { label_smoothing: 0.2 };
        let x = array![[1.0f64, 2.0, 0.5, -1.0], [0.0, 0.0, 3.0, 1.0]];
        let t = array![[0.0, 1.0, 0.0, 0.0], [0.5, 0.0, 0.5, 0.0]];
        let mut want_cost = 0.0;
        let mut want_grad = Array2::<f64>::zeros((2, 4));
        for i in 0..2 {
            let z: f64 = x.row(i).iter().map(|v| v.exp()).sum();
            for k in 0..4 {
                let ts = 0.8 * t[[i, k]] + 0.05;
                want_cost -= ts * (x[[i, k]].exp() / z).ln() / 2.0;
                want_grad[[i, k]] = (x[[i, k]].exp() / z - ts) / 2.0;
            }
        }
        assert!(close(ce.cost(x.view(), t.view()), want_cost));
        let mut g = Array2::from_elem((2, 4), 9.0);
        ce.gradient(x.view(), t.view(), g.view_mut());
        for (&g, &w) in g.iter().zip(&want_grad) {
            assert!(close(g, w), "{g} vs {w}");
        }
    }

    #[test]
    fn full_smoothing_ignores_the_target() {
        let ce = CrossEntropy { label_smoothing: 1.0 };
        let x = array![[0.0, 0.0, 0.0]];
        let a: f64 = ce.cost(x.view(), array![[1.0, 0.0, 0.0]].view());
        let b: f64 = ce.cost(x.view(), array![[0.0, 0.0, 1.0]].view());
        assert_eq!(a, b);
        assert!(close(a, 3f64.ln()));
    }

    #[test]
    fn label_smoothing_must_be_in_unit_interval() {
        assert!(CrossEntropy { label_smoothing: 0.0 }.validate().is_ok());
        assert!(CrossEntropy { label_smoothing: 1.0 }.validate().is_ok());
        assert_eq!(CrossEntropy { label_smoothing: 1.5 }.validate().unwrap_err().key, "label_smoothing");
        assert!(CrossEntropy { label_smoothing: -0.1 }.validate().is_err());
    }

    #[test]
    fn absorbs_softmax() {
        assert_eq!(Loss::<f64>::absorbs(&CrossEntropy::default()), Some("softmax"));
    }
}
