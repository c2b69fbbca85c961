use backprop_tensor::{Element, MatView, MatViewMut, Validate, math};
use ndarray::Zip;
use serde::{Deserialize, Serialize};

use crate::Loss;

/// Binary cross-entropy on logits, `σ` fused in (PyTorch `BCEWithLogitsLoss`).
///
/// `bce_with_logits`: binary cross-entropy on logits, a sigmoid fused into the loss (PyTorch
/// `torch.nn.BCEWithLogitsLoss`, reduction `mean`, no `weight` or `pos_weight`).
///
/// The input `x` is logits (any real), the targets `t` are in `[0, 1]`. The cost is `bce` of
/// `σ(x)`, computed stably per element as PyTorch does:
///
/// `ℓ(x, t) = max(x, 0) − x·t + ln(1 + e^(−|x|))`  (`= −t·ln σ(x) − (1 − t)·ln(1 − σ(x))`),
/// `C = 1/(N·K) · Σ_n Σ_k ℓ(x_nk, t_nk)`, `∂C/∂x_nk = (σ(x_nk) − t_nk) / (N·K)`,
///
/// with `N` the number of samples (rows) and `K` the number of outputs (columns); the mean is over
/// all `N·K` elements, as PyTorch's default. There is no ½. `e^(−|x|)` never overflows, so any
/// finite logit gives a finite cost and gradient, with no clamp.
///
/// It [absorbs](crate::Loss::absorbs) `sigmoid`: when the output layer's activation is `sigmoid`,
/// the loss is applied to that layer's pre-activation `zᴸ` and writes `δᴸ = (σ(zᴸ) − t)/(N·K)`
/// directly, so the sigmoid is applied once (forward, for the outputs) and its backward pass is
/// skipped. With an `identity` output layer the outputs are the logits and it takes them directly.
///
/// # Shapes
/// `output` (the logits), `target` and `grad` are (N, K).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BceWithLogits {}

impl Validate for BceWithLogits {}

/// `σ(x) = 1/(1 + e^(−x))`, evaluated so that the exponential never overflows.
fn sigmoid<F: Element>(x: F) -> F {
    if x >= F::zero() {
        F::one() / (F::one() + math::exp(-x))
    } else {
        let e = math::exp(x);
        e / (F::one() + e)
    }
}

impl<F: Element> Loss<F> for BceWithLogits {
    fn cost(&self, output: MatView<'_, F>, target: MatView<'_, F>) -> F {
        let mut sum = 0.0;
        Zip::from(output).and(target).for_each(|&x, &t| {
            sum += (x.max(F::zero()) - x * t + math::ln_1p(math::exp(-x.abs()))).f64();
        });
        F::of(sum / output.len() as f64)
    }

    fn gradient(&self, output: MatView<'_, F>, target: MatView<'_, F>, grad: MatViewMut<'_, F>) {
        let scale = F::of(1.0 / output.len() as f64);
        Zip::from(grad).and(output).and(target).for_each(|g, &x, &t| *g = scale * (sigmoid(x) - t));
    }

    fn absorbs(&self) -> Option<&'static str> {
        Some("sigmoid")
    }

    fn target_range(&self) -> Option<(f64, f64)> {
        Some((0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Bce;
    use ndarray::array;

    #[test]
    fn equals_bce_of_the_sigmoid() {
        let x = array![[-2.0, 0.0, 0.5], [3.0, -0.25, 1.5]];
        let t = array![[0.0, 1.0, 0.3], [1.0, 0.5, 0.0]];
        let a = x.mapv(sigmoid::<f64>);
        let fused: f64 = BceWithLogits {}.cost(x.view(), t.view());
        let plain: f64 = Bce {}.cost(a.view(), t.view());
        assert!((fused - plain).abs() < 1e-14, "{fused} vs {plain}");
    }

    #[test]
    fn huge_logits_stay_finite_and_right() {
        let x = array![[1000.0, -1000.0, 1000.0, -1000.0]];
        let t = array![[1.0, 0.0, 0.0, 1.0]];
        // Right and certain: 0; wrong and certain: |x| = 1000 each.
        assert_eq!(BceWithLogits {}.cost(x.view(), t.view()), 2000.0 / 4.0);
        let mut g = array![[9.0; 4]];
        BceWithLogits {}.gradient(x.view(), t.view(), g.view_mut());
        assert_eq!(g, array![[0.0, 0.0, 0.25, -0.25]]);

        let x = array![[1000.0f32, -1000.0]];
        let t = array![[0.0f32, 0.0]];
        assert_eq!(BceWithLogits {}.cost(x.view(), t.view()), 500.0);
        let mut g = array![[9.0f32; 2]];
        BceWithLogits {}.gradient(x.view(), t.view(), g.view_mut());
        assert_eq!(g, array![[0.5f32, 0.0]]);
    }

    #[test]
    fn absorbs_sigmoid() {
        assert_eq!(Loss::<f64>::absorbs(&BceWithLogits {}), Some("sigmoid"));
    }
}
