use backprop_tensor::{Element, SpecError, Validate};
use serde::{Deserialize, Serialize};

use crate::Optimizer;
use crate::adam::{Moments, decay, state_len};

/// Adam with weight decay decoupled from the gradient.
///
/// `adamw`: Adam with decoupled weight decay (PyTorch `torch.optim.AdamW`).
///
/// With γ = lr and λ = `weight_decay`, each step first shrinks the parameters, then takes Adam's
/// step (see [`Adam`](crate::Adam)) without any L2 term in the gradient:
///
/// ```text
/// g ← −g                                        (if maximize)
/// θ ← θ − γ·λ·θ                                 (as PyTorch: θ ← θ·(1 − γ·λ))
/// m ← β₁·m + (1 − β₁)·g
/// v ← β₂·v + (1 − β₂)·g²
/// v_max ← max(v_max, v)                         (amsgrad only)
/// θ ← θ − γ·m̂ / (√v̂ + ε),  m̂ = m / (1 − β₁ᵗ),  v̂ = v (or v_max) / (1 − β₂ᵗ)
/// ```
///
/// γ is this step's (scheduled) learning rate, in the decay as in the step.
///
/// Defaults (PyTorch's): lr 0.001, betas [0.9, 0.999], eps 1e-8, weight_decay 0.01, amsgrad false,
/// maximize false. The same as `adam` with `decoupled_weight_decay = true` (but for the default
/// weight_decay).
///
/// State, `n` parameters: `[m (n) | v (n) | v_max (n, amsgrad only)]`, zero at the start.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdamW {
    /// Learning rate γ (default 0.001).
    pub lr: f64,
    /// Decay rates (β₁, β₂) of the first and second moment averages (default [0.9, 0.999]).
    pub betas: [f64; 2],
    /// ε added to the denominator (default 1e-8).
    pub eps: f64,
    /// Decoupled decay λ: each step multiplies θ by 1 − γ·λ (default 0.01).
    pub weight_decay: f64,
    /// Normalise by the running maximum of v (AMSGrad; default false).
    pub amsgrad: bool,
    /// Ascend the gradient instead (default false; PyTorch's `maximize`): each step starts from
    /// `g ← −g`. Written out only when true, so that configs resolved before it existed (a
    /// checkpoint's, a sweep's finished trials) still match.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub maximize: bool,
}

impl Default for AdamW {
    fn default() -> Self {
        AdamW { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 1e-2, amsgrad: false, maximize: false }
    }
}

impl Validate for AdamW {
    fn validate(&self) -> Result<(), SpecError> {
        crate::validate_adam_family(self.lr, self.betas, self.eps, self.weight_decay)
    }
}

impl<F: Element> Optimizer<F> for AdamW {
    fn lr(&self) -> f64 {
        self.lr
    }

    fn state_len(&self, n_params: usize) -> usize {
        state_len(n_params, self.amsgrad)
    }

    fn step(&self, params: &mut [F], grads: &[F], state: &mut [F], step: u64, lr: F) {
        crate::assert_step_lengths(params, grads, state, Optimizer::<F>::state_len(self, params.len()));
        decay(params, lr, self.weight_decay);
        let moments = Moments { betas: self.betas, eps: self.eps, amsgrad: self.amsgrad, maximize: self.maximize };
        moments.update(params, grads, state, step, lr, 0.0);
    }

    fn check_state(&self, state: &[F]) -> Result<(), String> {
        // `[m | v | v_max]`: v and v_max are averages of squares.
        crate::check_squares(state, state.len() / if self.amsgrad { 3 } else { 2 }..state.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_gradient_only_decays() {
        // m = v = 0, so Adam's part is 0/(0 + ε) = 0 and θ ← θ·(1 − 0.1·0.5).
        let adamw = AdamW { lr: 0.1, weight_decay: 0.5, ..AdamW::default() };
        let mut p = [2.0, -4.0];
        let mut state = vec![0.0; Optimizer::<f64>::state_len(&adamw, 2)];
        adamw.step(&mut p, &[0.0, 0.0], &mut state, 1, 0.1);
        assert_eq!(p, [1.9, -3.8]);
    }
}
