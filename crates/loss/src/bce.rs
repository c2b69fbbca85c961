//! `bce`: binary cross-entropy on probabilities (PyTorch `torch.nn.BCELoss`, reduction `mean`).
//!
//! The outputs `a` are probabilities in `[0, 1]` (a sigmoid output layer), the targets `t` are in
//! `[0, 1]`. Each logarithm is clamped below at −100, as PyTorch does, so that `a = 0` or `a = 1`
//! gives a finite cost:
//!
//! `C = −1/(N·K) · Σ_n Σ_k [t·L(a) + (1 − t)·L(1 − a)]`, `L(p) = max(ln p, −100)`,
//!
//! with `N` the number of samples (rows) and `K` the number of outputs (columns); the mean is over
//! all `N·K` elements, as PyTorch's default. There is no ½.
//!
//! The gradient is the exact derivative of that clamped cost: where a logarithm is clamped it is
//! constant, so its derivative is 0:
//!
//! `∂C/∂a = [−t/a · 𝟙(ln a ≥ −100) + (1 − t)/(1 − a) · 𝟙(ln(1 − a) ≥ −100)] / (N·K)`,
//!
//! which equals `(a − t) / (a·(1 − a)·N·K)` wherever neither log is clamped. PyTorch's own backward
//! differs only where a log is clamped: it writes `(a − t) / max(a·(1 − a), 1e-12)`, which is
//! huge there (and not the derivative of its forward). Here `a = 0` gives `(1 − t)/(N·K)` and
//! `a = 1` gives `−t/(N·K)`, both finite. (In `f32` the exact derivative itself overflows to ±∞
//! for `0 < a ≲ 3·10⁻³⁹`, just above the clamp; in `f64` it stays finite down to the clamp.)
//!
//! With a sigmoid output layer prefer `bce_with_logits`: it is the same cost computed from the
//! logits, stable without any clamp, and its gradient `(σ(z) − t)/(N·K)` skips the sigmoid's
//! backward pass.
//!
//! # Shapes
//! `output`, `target` and `grad` are (N, K).

use backprop_tensor::{Element, MatView, MatViewMut, Validate, math};
use ndarray::Zip;
use serde::{Deserialize, Serialize};

use crate::Loss;

/// Binary cross-entropy on probabilities, logs clamped at −100 (PyTorch `BCELoss`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Bce {}

impl Validate for Bce {}

/// PyTorch's floor for each logarithm.
const LOG_FLOOR: f64 = -100.0;

impl<F: Element> Loss<F> for Bce {
    fn cost(&self, output: MatView<'_, F>, target: MatView<'_, F>) -> F {
        let floor = F::of(LOG_FLOOR);
        let mut sum = F::zero();
        Zip::from(output).and(target).for_each(|&a, &t| {
            let log_a = math::ln(a).max(floor);
            let log_not_a = math::ln(F::one() - a).max(floor);
            sum += t * log_a + (F::one() - t) * log_not_a;
        });
        -sum / F::of(output.len() as f64)
    }

    fn gradient(&self, output: MatView<'_, F>, target: MatView<'_, F>, grad: MatViewMut<'_, F>) {
        let floor = F::of(LOG_FLOOR);
        let scale = F::of(1.0 / output.len() as f64);
        Zip::from(grad).and(output).and(target).for_each(|g, &a, &t| {
            let not_a = F::one() - a;
            // Tested before dividing, so a clamped log (a = 0 or 1 included) contributes 0, not NaN.
            let d_log_a = if math::ln(a) >= floor { -t / a } else { F::zero() };
            let d_log_not_a = if math::ln(not_a) >= floor { (F::one() - t) / not_a } else { F::zero() };
            *g = scale * (d_log_a + d_log_not_a);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn certain_outputs_are_clamped_and_finite() {
        // a = 0 against t = 0.3: −(0.3·(−100) + 0.7·ln 1) = 30; a = 1 against t = 1: 0.
        let a = array![[0.0, 1.0]];
        let t = array![[0.3, 1.0]];
        assert_eq!(Bce {}.cost(a.view(), t.view()), 15.0);
        let mut g = array![[9.0, 9.0]];
        Bce {}.gradient(a.view(), t.view(), g.view_mut());
        // d/da of the unclamped ln(1 − a) term only: 0.7/(1 − 0) / 2; at a = 1: −1/1 / 2.
        assert_eq!(g, array![[0.35, -0.5]]);

        // Totally wrong and certain: the clamp caps each element's cost at 100.
        let a = array![[0.0, 1.0]];
        let t = array![[1.0, 0.0]];
        assert_eq!(Bce {}.cost(a.view(), t.view()), 100.0);
        let mut g = array![[9.0, 9.0]];
        Bce {}.gradient(a.view(), t.view(), g.view_mut());
        assert_eq!(g, array![[0.0, 0.0]]);
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
