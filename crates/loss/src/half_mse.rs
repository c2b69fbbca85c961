//! `half_mse`: the post's cost, half the squared error, averaged over samples.
//!
//! `C = 1/(2N) · Σ_samples Σ_outputs (a − t)²`, `∂C/∂a = (a − t) / N`, with `N` the number of
//! samples (rows). The ½ cancels the 2 of the derivative, as in the post. This is *not* PyTorch's
//! `MSELoss` (which is `mse`: no ½, mean over every element).

use backprop_tensor::{Element, MatView, MatViewMut, Validate};
use ndarray::Zip;
use serde::{Deserialize, Serialize};

use crate::Loss;

/// The post's cost `1/(2N) Σ ‖a − t‖²`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HalfMse {}

impl Validate for HalfMse {}

impl<F: Element> Loss<F> for HalfMse {
    fn cost(&self, output: MatView<'_, F>, target: MatView<'_, F>) -> F {
        let n = F::of(output.nrows() as f64);
        let mut sum = F::zero();
        // Row-major buffers (the workspace's): a plain loop in the same order as the `Zip`.
        if output.dim() == target.dim()
            && let (Some(o), Some(t)) = (output.to_slice(), target.to_slice())
        {
            for (&a, &t) in o.iter().zip(t) {
                sum += (a - t) * (a - t);
            }
            return sum / (n + n);
        }
        Zip::from(output).and(target).for_each(|&a, &t| sum += (a - t) * (a - t));
        sum / (n + n)
    }

    fn gradient(&self, output: MatView<'_, F>, target: MatView<'_, F>, grad: MatViewMut<'_, F>) {
        let n = F::of(output.nrows() as f64);
        let mut grad = grad;
        let same_shape = output.dim() == target.dim() && grad.dim() == output.dim();
        if same_shape && let (Some(o), Some(t), Some(g)) = (output.to_slice(), target.to_slice(), grad.as_slice_mut()) {
            for ((g, &a), &t) in g.iter_mut().zip(o).zip(t) {
                *g = (a - t) / n;
            }
            return;
        }
        Zip::from(grad).and(output).and(target).for_each(|g, &a, &t| *g = (a - t) / n);
    }
}
