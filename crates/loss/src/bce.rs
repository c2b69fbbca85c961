use backprop_tensor::{Element, MatView, MatViewMut, Validate, math};
use ndarray::Zip;
use serde::{Deserialize, Serialize};

use crate::Loss;

/// Binary cross-entropy on probabilities, logs clamped at −100 (PyTorch `BCELoss`).
///
/// `bce`: binary cross-entropy on probabilities (PyTorch `torch.nn.BCELoss`, reduction `mean`).
///
/// The outputs `a` are probabilities in `[0, 1]` (a sigmoid output layer), the targets `t` are in
/// `[0, 1]`. Each logarithm is clamped below at −100, as PyTorch does, so that `a = 0` or `a = 1`
/// gives a finite cost:
///
/// `C = −1/(N·K) · Σ_n Σ_k [t·max(ln a, −100) + (1 − t)·max(ln_1p(−a), −100)]`,
///
/// with `N` the number of samples (rows) and `K` the number of outputs (columns); the mean is over
/// all `N·K` elements, as PyTorch's default. There is no ½. `ln(1 − a)` is computed as
/// `ln_1p(−a)`, as PyTorch does, which keeps its digits for small `a`.
///
/// The gradient is PyTorch's backward pass, element for element:
///
/// `∂C/∂a = (a − t) / max((1 − a)·a, ε) / (N·K)`, `ε = 10⁻¹²` (PyTorch's `EPSILON`, a single
/// precision constant: 9.999999960041972·10⁻¹³ in f64).
///
/// Where `(1 − a)·a ≥ ε` (about 10⁻¹² < a < 1 − 10⁻¹²), this is the exact derivative of `C`,
/// `[−t/a + (1 − t)/(1 − a)] / (N·K)`. Closer to 0 or 1 it is not: the floor bounds the gradient
/// at `|a − t|·10¹²/(N·K)` where the exact one grows to 10⁴³ near the clamp (and overflows in
/// f32), and at `a = 0` or `a = 1`, where the cost is flat (a clamped log), it is still
/// `±|a − t|·10¹²/(N·K)`, pushing `a` back towards `t`. With a sigmoid output layer prefer
/// `bce_with_logits`: the same cost computed from the logits, stable without any clamp, and its
/// gradient `(σ(z) − t)/(N·K)` is exact everywhere and skips the sigmoid's backward pass.
///
/// # Shapes
/// `output`, `target` and `grad` are (N, K).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Bce {}

impl Validate for Bce {}

/// PyTorch's floor for each logarithm.
const LOG_FLOOR: f64 = -100.0;

/// PyTorch's floor for `(1 − a)·a` in the gradient's denominator: `1e-12` as a single-precision
/// constant, as PyTorch writes it.
const EPSILON: f32 = 1e-12;

impl<F: Element> Loss<F> for Bce {
    fn cost(&self, output: MatView<'_, F>, target: MatView<'_, F>) -> F {
        let floor = F::of(LOG_FLOOR);
        // PyTorch's `clamp_min`, which keeps a NaN (`f64::max` would make it −100, and a NaN
        // output a finite cost that no divergence check sees).
        let clamp = |x: F| if x < floor { floor } else { x };
        let mut sum = 0.0;
        Zip::from(output).and(target).for_each(|&a, &t| {
            let log_a = clamp(math::ln(a));
            let log_not_a = clamp(math::ln_1p(-a));
            sum += (t * log_a + (F::one() - t) * log_not_a).f64();
        });
        F::of(-sum / output.len() as f64)
    }

    fn gradient(&self, output: MatView<'_, F>, target: MatView<'_, F>, grad: MatViewMut<'_, F>) {
        let (eps, n) = (F::of(f64::from(EPSILON)), F::of(output.len() as f64));
        Zip::from(grad).and(output).and(target).for_each(|g, &a, &t| {
            *g = (a - t) / ((F::one() - a) * a).max(eps) / n;
        });
    }

    fn target_range(&self) -> Option<(f64, f64)> {
        Some((0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn a_nan_output_gives_a_nan_cost() {
        // `f64::max` clamped ln(NaN) to −100: a cost of 100, finite, for an output that is not.
        let (a, t) = (array![[f64::NAN, 0.5]], array![[1.0, 0.0]]);
        assert!(Bce {}.cost(a.view(), t.view()).is_nan());
        let mut g = array![[0.0, 0.0]];
        Bce {}.gradient(a.view(), t.view(), g.view_mut());
        assert!(g[[0, 0]].is_nan() && g[[0, 1]].is_finite());
    }

    #[test]
    fn certain_outputs_are_clamped_and_finite() {
        // a = 0 against t = 0.3: −(0.3·(−100) + 0.7·ln 1) = 30; a = 1 against t = 1: 0.
        let a = array![[0.0, 1.0]];
        let t = array![[0.3, 1.0]];
        assert_eq!(Bce {}.cost(a.view(), t.view()), 15.0);
        // Totally wrong and certain: the clamp caps each element's cost at 100.
        let t_wrong = array![[1.0, 0.0]];
        assert_eq!(Bce {}.cost(a.view(), t_wrong.view()), 100.0);
        // The gradient's floor: (a − t)/ε/2, ε = 1e-12 rounded to single precision.
        let eps = f64::from(1e-12f32);
        assert_eq!(eps, 9.999999960041972e-13);
        let mut g = array![[9.0, 9.0]];
        Bce {}.gradient(a.view(), t.view(), g.view_mut());
        assert_eq!(g, array![[-0.3 / eps / 2.0, 0.0]]);
        Bce {}.gradient(a.view(), t_wrong.view(), g.view_mut());
        assert_eq!(g, array![[-1.0 / eps / 2.0, 1.0 / eps / 2.0]]);
    }

    #[test]
    fn f32_certain_outputs_are_finite() {
        let a = array![[0.0f32, 1.0, 1e-45]];
        let t = array![[0.5f32, 0.5, 1.0]];
        assert!(Bce {}.cost(a.view(), t.view()).is_finite());
        let mut g = array![[9.0f32; 3]];
        Bce {}.gradient(a.view(), t.view(), g.view_mut());
        assert!(g.iter().all(|x| x.is_finite()), "{g}");
    }

    #[test]
    fn matches_the_unclamped_gradient_inside() {
        let a = array![[0.2f64, 0.9]];
        let t = array![[1.0, 0.25]];
        let mut g = array![[0.0, 0.0]];
        Bce {}.gradient(a.view(), t.view(), g.view_mut());
        for ((&g, &a), &t) in g.iter().zip(&a).zip(&t) {
            assert!((g - (a - t) / (a * (1.0 - a) * 2.0)).abs() < 1e-12);
        }
    }
}
