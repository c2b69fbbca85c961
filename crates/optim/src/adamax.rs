use backprop_tensor::{Element, SpecError, Validate, math};
use serde::{Deserialize, Serialize};

use crate::{Optimizer, lerp};

/// Adamax: Adam with the infinity norm in place of the second moment.
///
/// `adamax`: Adam's variant based on the infinity norm (Kingma and Ba, 2015, section 7.1;
/// PyTorch `torch.optim.Adamax`).
///
/// With γ = lr, (β₁, β₂) = `betas`, ε = `eps`, λ = `weight_decay`, at step t (from 1):
///
/// ```text
/// g ← −g                                          (if maximize)
/// g ← g + λ·θ                                     (if λ ≠ 0; L2, added to the gradient)
/// m ← β₁·m + (1 − β₁)·g                           (as torch: m + (1 − β₁)·(g − m))
/// u ← max(β₂·u, |g| + ε)
/// θ ← θ − γ/(1 − β₁ᵗ) · m/u
/// ```
///
/// As in PyTorch, ε is added to |g| inside the max (not to the denominator), the step size
/// γ/(1 − β₁ᵗ) is computed in `f64`, and a NaN on either side of the max gives NaN.
///
/// Defaults (PyTorch's): lr 0.002, betas [0.9, 0.999], eps 1e-8, weight_decay 0, maximize false.
///
/// State, `n` parameters: `[m (n) | u (n)]`, zero at the start.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Adamax {
    /// Learning rate γ (default 0.002).
    pub lr: f64,
    /// Decay rates (β₁, β₂) of the first moment and of the infinity norm (default [0.9, 0.999]).
    pub betas: [f64; 2],
    /// ε added to |g| in the infinity norm (default 1e-8).
    pub eps: f64,
    /// L2 penalty λ added to the gradient as λ·θ (default 0).
    pub weight_decay: f64,
    /// Ascend the gradient instead (default false; PyTorch's `maximize`): each step starts from
    /// `g ← −g`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub maximize: bool,
}

impl Default for Adamax {
    fn default() -> Self {
        Adamax { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0.0, maximize: false }
    }
}

impl Validate for Adamax {
    fn validate(&self) -> Result<(), SpecError> {
        crate::validate_adam_family(self.lr, self.betas, self.eps, self.weight_decay)
    }
}

impl<F: Element> Optimizer<F> for Adamax {
    fn lr(&self) -> f64 {
        self.lr
    }

    fn state_len(&self, n_params: usize) -> usize {
        2 * n_params
    }

    fn step(&self, params: &mut [F], grads: &[F], state: &mut [F], step: u64, lr: F) {
        crate::assert_step_lengths(params, grads, state, Optimizer::<F>::state_len(self, params.len()));
        let n = params.len();
        let (m, u) = state.split_at_mut(n);
        let [beta1, beta2] = self.betas;
        let step_size = F::of(-(lr.f64() / (1.0 - math::powf(beta1, step as f64))));
        let (b2, one_minus_b1) = (F::of(beta2), F::of(1.0 - beta1));
        let (eps, l2) = (F::of(self.eps), F::of(self.weight_decay));
        for i in 0..n {
            let mut g = if self.maximize { -grads[i] } else { grads[i] };
            if self.weight_decay != 0.0 {
                g += l2 * params[i];
            }
            m[i] = lerp(m[i], g, one_minus_b1);
            let (decayed, current) = (u[i] * b2, g.abs() + eps);
            // torch.maximum: NaN if either is NaN (`f64::max` would drop it).
            u[i] = if decayed.is_nan() || decayed > current { decayed } else { current };
            params[i] += step_size * m[i] / u[i];
        }
    }

    fn check_state(&self, state: &[F]) -> Result<(), String> {
        // `[m | u]`: u is a decayed maximum of |g| + ε.
        crate::check_squares(state, state.len() / 2..state.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_norm_keeps_the_largest_recent_gradient() {
        let adamax = Adamax { lr: 0.1, betas: [0.9, 0.5], ..Adamax::default() };
        let mut p = [0.0f64];
        let mut state = vec![0.0; Optimizer::<f64>::state_len(&adamax, 1)];
        adamax.step(&mut p, &[-4.0], &mut state, 1, 0.1);
        // m = −0.4, u = 4 + ε, step size 0.1/0.1: θ = 0 + 1·0.4/(4 + ε) ≈ 0.1.
        assert!((p[0] - 0.1).abs() < 1e-9, "{p:?}");
        assert_eq!(state[1], 4.0 + 1e-8);
        adamax.step(&mut p, &[1.0], &mut state, 2, 0.1);
        assert_eq!(state[1], (4.0 + 1e-8) * 0.5);
        adamax.step(&mut p, &[f64::NAN], &mut state, 3, 0.1);
        assert!(state[1].is_nan());
    }
}
