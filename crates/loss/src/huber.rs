use backprop_tensor::spec::positive;
use backprop_tensor::{Element, MatView, MatViewMut, SpecError, Validate};
use ndarray::Zip;
use serde::{Deserialize, Serialize};

use crate::Loss;

/// The Huber loss, mean over all elements (PyTorch `HuberLoss`).
///
/// `huber`: the Huber loss, quadratic near zero and linear beyond `delta` (PyTorch
/// `torch.nn.HuberLoss`, reduction `mean`, parameter `delta`, default 1.0).
///
/// With `x = a − t` per element,
/// `ℓ(x) = ½·x²` if `|x| < delta`, else `delta·(|x| − ½·delta)`, and
/// `C = 1/(N·K) · Σ_n Σ_k ℓ(a_nk − t_nk)`;
/// `∂C/∂a_nk = clamp(x, −delta, delta) / (N·K)` (`x` inside the band, `delta·sign(x)` outside;
/// the two pieces meet with equal value and slope at `|x| = delta`). `N` is the number of samples
/// (rows), `K` the number of outputs (columns); the mean is over all `N·K` elements, as PyTorch's
/// default. The ½ is PyTorch's: with `delta = 1` this equals PyTorch's `SmoothL1Loss` with
/// `beta = 1`.
///
/// # Shapes
/// `output`, `target` and `grad` are (N, K).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Huber {
    /// Where the loss turns from quadratic to linear, `> 0` (default 1.0, PyTorch's).
    pub delta: f64,
}

impl Default for Huber {
    fn default() -> Self {
        Huber { delta: 1.0 }
    }
}

impl Validate for Huber {
    fn validate(&self) -> Result<(), SpecError> {
        positive("delta", self.delta)
    }
}

impl<F: Element> Loss<F> for Huber {
    fn cost(&self, output: MatView<'_, F>, target: MatView<'_, F>) -> F {
        let delta = F::of(self.delta);
        let half = F::of(0.5);
        let mut sum = 0.0;
        Zip::from(output).and(target).for_each(|&a, &t| {
            let x = (a - t).abs();
            sum += if x < delta { half * x * x } else { delta * (x - half * delta) }.f64();
        });
        F::of(sum / output.len() as f64)
    }

    fn gradient(&self, output: MatView<'_, F>, target: MatView<'_, F>, grad: MatViewMut<'_, F>) {
        let delta = F::of(self.delta);
        let scale = F::of(1.0 / output.len() as f64);
        Zip::from(grad).and(output).and(target).for_each(|g, &a, &t| {
            let x = a - t;
            *g = scale * x.max(-delta).min(delta);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn quadratic_inside_linear_outside() {
        let a = array![[0.5, 3.0], [-2.0, 1.0]];
        let t = array![[0.0, 0.0], [0.0, 0.0]];
        // ½·0.25, 1·(3 − ½), 1·(2 − ½), 1·(1 − ½) at the boundary
        assert_eq!(Huber::default().cost(a.view(), t.view()), (0.125 + 2.5 + 1.5 + 0.5) / 4.0);
        let mut g = array![[9.0, 9.0], [9.0, 9.0]];
        Huber::default().gradient(a.view(), t.view(), g.view_mut());
        assert_eq!(g, array![[0.125, 0.25], [-0.25, 0.25]]);
    }

    #[test]
    fn delta_moves_the_boundary() {
        let a = array![[0.5, -3.0]];
        let t = array![[0.0, 0.0]];
        let h = Huber { delta: 0.25 };
        // 0.25·(0.5 − 0.125), 0.25·(3 − 0.125)
        assert_eq!(h.cost(a.view(), t.view()), (0.09375 + 0.71875) / 2.0);
        let mut g = array![[9.0, 9.0]];
        h.gradient(a.view(), t.view(), g.view_mut());
        assert_eq!(g, array![[0.125, -0.125]]);
    }

    #[test]
    fn delta_must_be_positive() {
        assert!(Huber { delta: 2.0 }.validate().is_ok());
        assert_eq!(Huber { delta: 0.0 }.validate().unwrap_err().key, "delta");
        assert!(Huber { delta: f64::NAN }.validate().is_err());
    }
}
