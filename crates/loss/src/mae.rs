use backprop_tensor::{Element, MatView, MatViewMut, Validate};
use ndarray::Zip;
use serde::{Deserialize, Serialize};

use crate::Loss;

/// Mean absolute error over all elements, `1/(N·K) Σ |a − t|` (PyTorch `L1Loss`).
///
/// `mae`: the mean absolute error over every element (PyTorch `torch.nn.L1Loss`, reduction
/// `mean`).
///
/// `C = 1/(N·K) · Σ_n Σ_k |a_nk − t_nk|`, `∂C/∂a_nk = sign(a_nk − t_nk) / (N·K)`, with `N` the
/// number of samples (rows), `K` the number of outputs (columns), and `sign(0) = 0`: where the
/// output equals the target the (sub)gradient written is 0, as PyTorch's `sign` gives. The mean is
/// over all `N·K` elements, as PyTorch's default.
///
/// # Shapes
/// `output`, `target` and `grad` are (N, K).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Mae {}

impl Validate for Mae {}

impl<F: Element> Loss<F> for Mae {
    fn cost(&self, output: MatView<'_, F>, target: MatView<'_, F>) -> F {
        let mut sum = 0.0;
        Zip::from(output).and(target).for_each(|&a, &t| sum += (a - t).abs().f64());
        F::of(sum / output.len() as f64)
    }

    fn gradient(&self, output: MatView<'_, F>, target: MatView<'_, F>, grad: MatViewMut<'_, F>) {
        let step = F::of(1.0 / output.len() as f64);
        Zip::from(grad).and(output).and(target).for_each(|g, &a, &t| {
            // PyTorch's sign: 0 at a = t (Rust's `signum` would give ±1 there).
            *g = if a > t {
                step
            } else if a < t {
                -step
            } else {
                F::zero()
            };
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn mean_absolute_error_and_zero_gradient_at_equality() {
        let a = array![[0.5, 1.0], [-2.0, 0.0]];
        let t = array![[0.0, 1.0], [0.0, 1.0]];
        assert_eq!(Mae {}.cost(a.view(), t.view()), 3.5 / 4.0);
        let mut g = array![[9.0, 9.0], [9.0, 9.0]];
        Mae {}.gradient(a.view(), t.view(), g.view_mut());
        assert_eq!(g, array![[0.25, 0.0], [-0.25, -0.25]]);
    }

    #[test]
    fn signed_zero_difference_has_zero_gradient() {
        let a = array![[0.0]];
        let t = array![[-0.0]];
        let mut g = array![[9.0]];
        Mae {}.gradient(a.view(), t.view(), g.view_mut());
        assert_eq!(g, array![[0.0]]);
    }
}
