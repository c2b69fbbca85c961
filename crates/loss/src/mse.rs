use backprop_tensor::{Element, MatView, MatViewMut, Validate};
use ndarray::Zip;
use serde::{Deserialize, Serialize};

use crate::Loss;

/// Mean squared error over all elements, `1/(N·K) Σ (a − t)²` (PyTorch `MSELoss`).
///
/// `mse`: the mean squared error over every element (PyTorch `torch.nn.MSELoss`, reduction
/// `mean`).
///
/// `C = 1/(N·K) · Σ_n Σ_k (a_nk − t_nk)²`, `∂C/∂a_nk = 2·(a_nk − t_nk) / (N·K)`, with `N` the
/// number of samples (rows) and `K` the number of outputs (columns). There is no ½: the mean is
/// over all `N·K` elements, as PyTorch's default. For the post's `1/(2N) Σ ‖a − t‖²` (½, mean over
/// samples only) see `half_mse`; the two differ by the constant factor `2/K`.
///
/// # Shapes
/// `output`, `target` and `grad` are (N, K).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Mse {}

impl Validate for Mse {}

impl<F: Element> Loss<F> for Mse {
    fn cost(&self, output: MatView<'_, F>, target: MatView<'_, F>) -> F {
        let mut sum = 0.0;
        Zip::from(output).and(target).for_each(|&a, &t| sum += ((a - t) * (a - t)).f64());
        F::of(sum / output.len() as f64)
    }

    fn gradient(&self, output: MatView<'_, F>, target: MatView<'_, F>, grad: MatViewMut<'_, F>) {
        let scale = F::of(2.0 / output.len() as f64);
        Zip::from(grad).and(output).and(target).for_each(|g, &a, &t| *g = scale * (a - t));
    }

    // The buffer forms: the same operations in the same (row-major) order, without views.
    fn cost_rows(&self, _cols: usize, output: &[F], target: &[F]) -> F {
        assert_eq!(output.len(), target.len(), "mse: output and target of different lengths");
        let mut sum = 0.0;
        for (&a, &t) in output.iter().zip(target) {
            sum += ((a - t) * (a - t)).f64();
        }
        F::of(sum / output.len() as f64)
    }

    fn gradient_rows(&self, _cols: usize, output: &[F], target: &[F], grad: &mut [F]) {
        assert!(output.len() == target.len() && grad.len() == output.len(), "mse: buffers of different lengths");
        let scale = F::of(2.0 / output.len() as f64);
        for ((g, &a), &t) in grad.iter_mut().zip(output).zip(target) {
            *g = scale * (a - t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array};

    #[test]
    fn mean_over_every_element_without_half() {
        let a = array![[0.5, 1.0, 2.0], [0.0, 0.0, -1.0]];
        let t = array![[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]];
        // (0.25 + 0 + 4 + 0 + 1 + 1) / 6
        assert_eq!(Mse {}.cost(a.view(), t.view()), 6.25 / 6.0);
        let mut g = Array2::from_elem((2, 3), 9.0);
        Mse {}.gradient(a.view(), t.view(), g.view_mut());
        assert_eq!(g, array![[1.0 / 6.0, 0.0, 4.0 / 6.0], [0.0, -2.0 / 6.0, -2.0 / 6.0]]);
    }

    #[test]
    fn is_half_mse_times_two_over_k() {
        let a = array![[0.3, -1.2, 0.7, 2.0]];
        let t = array![[0.1, 0.4, -0.5, 1.0]];
        let half: f64 = crate::HalfMse {}.cost(a.view(), t.view());
        let full: f64 = Mse {}.cost(a.view(), t.view());
        assert!((full - half * 2.0 / 4.0).abs() < 1e-15);
    }
}
