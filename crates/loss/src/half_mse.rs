use backprop_tensor::{Element, MatView, MatViewMut, Validate};
use ndarray::Zip;
use serde::{Deserialize, Serialize};

use crate::Loss;

/// The post's cost `1/(2N) Σ ‖a − t‖²`.
///
/// `half_mse`: the post's cost, half the squared error, averaged over samples.
///
/// `C = 1/(2N) · Σ_samples Σ_outputs (a − t)²`, `∂C/∂a = (a − t) / N`, with `N` the number of
/// samples (rows). The ½ cancels the 2 of the derivative, as in the post. This is *not* PyTorch's
/// `MSELoss` (which is `mse`: no ½, mean over every element).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HalfMse {}

impl Validate for HalfMse {}

impl<F: Element> Loss<F> for HalfMse {
    fn cost(&self, output: MatView<'_, F>, target: MatView<'_, F>) -> F {
        if output.dim() == target.dim()
            && let (Some(o), Some(t)) = (output.to_slice(), target.to_slice())
        {
            return half_mse_rows(output.nrows(), o, t);
        }
        let n = output.nrows() as f64;
        let mut sum = 0.0;
        // Other layouts: ndarray's order (row-major for a standard layout, as the buffers).
        Zip::from(output).and(target).for_each(|&a, &t| sum += ((a - t) * (a - t)).f64());
        F::of(sum / (n + n))
    }

    fn gradient(&self, output: MatView<'_, F>, target: MatView<'_, F>, grad: MatViewMut<'_, F>) {
        let mut grad = grad;
        let same_shape = output.dim() == target.dim() && grad.dim() == output.dim();
        if same_shape && let (Some(o), Some(t), Some(g)) = (output.to_slice(), target.to_slice(), grad.as_slice_mut()) {
            return half_mse_gradient_rows(output.nrows(), o, t, g);
        }
        let n = F::of(output.nrows() as f64);
        Zip::from(grad).and(output).and(target).for_each(|g, &a, &t| *g = (a - t) / n);
    }

    fn cost_rows(&self, cols: usize, output: &[F], target: &[F]) -> F {
        half_mse_rows(whole_rows(cols, output, target), output, target)
    }

    fn gradient_rows(&self, cols: usize, output: &[F], target: &[F], grad: &mut [F]) {
        assert_eq!(grad.len(), output.len(), "half_mse: gradient buffer of the wrong length");
        half_mse_gradient_rows(whole_rows(cols, output, target), output, target, grad);
    }
}

/// The rows of `output` (checked against `target`).
fn whole_rows<F>(cols: usize, output: &[F], target: &[F]) -> usize {
    assert!(
        output.len() == target.len() && output.len().checked_rem(cols).unwrap_or(output.len()) == 0,
        "half_mse: output and target must hold the same whole rows"
    );
    output.len().checked_div(cols).unwrap_or(0)
}

/// `1/(2n) Σ (a − t)²`, summed in order in f64 (see [`Loss::cost`]).
fn half_mse_rows<F: Element>(n: usize, output: &[F], target: &[F]) -> F {
    let n = n as f64;
    let mut sum = 0.0;
    for (&a, &t) in output.iter().zip(target) {
        sum += ((a - t) * (a - t)).f64();
    }
    F::of(sum / (n + n))
}

/// `g = (a − t)/n`.
fn half_mse_gradient_rows<F: Element>(n: usize, output: &[F], target: &[F], grad: &mut [F]) {
    let n = F::of(n as f64);
    for ((g, &a), &t) in grad.iter_mut().zip(output).zip(target) {
        *g = (a - t) / n;
    }
}
