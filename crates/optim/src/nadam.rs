use backprop_tensor::{Element, SpecError, Validate, math};
use serde::{Deserialize, Serialize};

use crate::adam::decay_or_l2;
use crate::{Optimizer, lerp, non_negative};

/// NAdam: Adam with Nesterov momentum and a momentum schedule.
///
/// `nadam`: Adam whose step looks ahead along the momentum (Dozat, 2016), with its momentum
/// warming up over the steps (PyTorch `torch.optim.NAdam`).
///
/// With γ = lr, (β₁, β₂) = `betas`, ε = `eps`, λ = `weight_decay`, ψ = `momentum_decay`, at
/// step t (from 1):
///
/// ```text
/// g ← −g                                          (if maximize)
/// g ← g + λ·θ                                     (if λ ≠ 0; L2, added to the gradient)
/// θ ← θ·(1 − γ·λ)                                 (instead, with decoupled_weight_decay)
/// μₜ = β₁·(1 − ½·0.96^(t·ψ)),  μₜ₊₁ = β₁·(1 − ½·0.96^((t+1)·ψ))
/// Πₜ = μ₁·μ₂·…·μₜ
/// m ← β₁·m + (1 − β₁)·g                           (as torch: m + (1 − β₁)·(g − m))
/// v ← β₂·v + (1 − β₂)·g²
/// d = √(v / (1 − β₂ᵗ)) + ε
/// θ ← θ − γ·(1 − μₜ)/(1 − Πₜ) · g/d − γ·μₜ₊₁/(1 − Πₜ·μₜ₊₁) · m/d
/// ```
///
/// The arithmetic is in PyTorch's order: the two coefficients are computed in `f64`, and each
/// term is `θ + c·g/d` (ATen's `addcdiv`).
///
/// Defaults (PyTorch's): lr 0.002, betas [0.9, 0.999], eps 1e-8, weight_decay 0,
/// momentum_decay 0.004, decoupled_weight_decay false, maximize false.
///
/// State, `n` parameters: `[m (n) | v (n) | Πₜ (1)]`, zero at the start (the product is taken as
/// 1 before step 1, whatever the state holds). The product is kept in the run's precision:
/// PyTorch keeps it in its default dtype (float32 unless set to float64).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NAdam {
    /// Learning rate γ (default 0.002).
    pub lr: f64,
    /// Decay rates (β₁, β₂) of the first and second moment averages (default [0.9, 0.999]).
    pub betas: [f64; 2],
    /// ε added to the denominator (default 1e-8).
    pub eps: f64,
    /// L2 penalty λ added to the gradient as λ·θ (default 0).
    pub weight_decay: f64,
    /// ψ, how fast the momentum μₜ rises towards β₁ (default 0.004).
    pub momentum_decay: f64,
    /// Decay the weights as AdamW does, `θ ← θ·(1 − γ·λ)`, instead of adding `λ·θ` to the gradient
    /// (default false; PyTorch's NAdamW).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub decoupled_weight_decay: bool,
    /// Ascend the gradient instead (default false; PyTorch's `maximize`): each step starts from
    /// `g ← −g`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub maximize: bool,
}

impl Default for NAdam {
    fn default() -> Self {
        NAdam {
            lr: 2e-3,
            betas: [0.9, 0.999],
            eps: 1e-8,
            weight_decay: 0.0,
            momentum_decay: 4e-3,
            decoupled_weight_decay: false,
            maximize: false,
        }
    }
}

impl Validate for NAdam {
    fn validate(&self) -> Result<(), SpecError> {
        crate::validate_adam_family(self.lr, self.betas, self.eps, self.weight_decay)?;
        non_negative("momentum_decay", self.momentum_decay)
    }
}

impl NAdam {
    /// μ at step `t`: β₁·(1 − ½·0.96^(t·ψ)).
    fn mu(&self, t: f64) -> f64 {
        self.betas[0] * (1.0 - 0.5 * math::powf(0.96, t * self.momentum_decay))
    }
}

impl<F: Element> Optimizer<F> for NAdam {
    fn lr(&self) -> f64 {
        self.lr
    }

    fn state_len(&self, n_params: usize) -> usize {
        2 * n_params + 1
    }

    fn step(&self, params: &mut [F], grads: &[F], state: &mut [F], step: u64, lr: F) {
        crate::assert_step_lengths(params, grads, state, Optimizer::<F>::state_len(self, params.len()));
        let n = params.len();
        let (m, rest) = state.split_at_mut(n);
        let (v, product) = rest.split_at_mut(n);
        let [beta1, beta2] = self.betas;
        let t = step as f64;
        let l2 = decay_or_l2(params, lr, self.weight_decay, self.decoupled_weight_decay);
        let (mu, mu_next) = (self.mu(t), self.mu(t + 1.0));
        let previous = if step <= 1 { F::one() } else { product[0] };
        product[0] = previous * F::of(mu);
        let mu_product = product[0].f64();
        let gamma = lr.f64();
        let grad_coef = F::of(-gamma * (1.0 - mu) / (1.0 - mu_product));
        let avg_coef = F::of(-gamma * mu_next / (1.0 - mu_product * mu_next));
        let bias_correction2 = F::of(1.0 - math::powf(beta2, t));
        let (b2, one_minus_b1, one_minus_b2) = (F::of(beta2), F::of(1.0 - beta1), F::of(1.0 - beta2));
        let (eps, l2) = (F::of(self.eps), F::of(l2));
        for i in 0..n {
            let mut g = if self.maximize { -grads[i] } else { grads[i] };
            if l2 != F::zero() {
                g += l2 * params[i];
            }
            m[i] = lerp(m[i], g, one_minus_b1);
            v[i] = v[i] * b2 + one_minus_b2 * g * g;
            let denom = (v[i] / bias_correction2).sqrt() + eps;
            params[i] += grad_coef * g / denom;
            params[i] += avg_coef * m[i] / denom;
        }
    }

    fn check_state(&self, state: &[F]) -> Result<(), String> {
        // `[m | v | Πₜ]`: v is an average of squares, Πₜ a product of positive factors.
        crate::check_squares(state, state.len() / 2..state.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_momentum_product_starts_at_one_and_is_kept_in_the_state() {
        let nadam = NAdam { lr: 0.1, momentum_decay: 0.5, ..NAdam::default() };
        let mut state = vec![7.0f64; Optimizer::<f64>::state_len(&nadam, 2)];
        state[..4].fill(0.0);
        let mut p = [1.0, 1.0];
        // Step 1 ignores the 7 left in the product's slot.
        nadam.step(&mut p, &[0.5, -0.5], &mut state, 1, 0.1);
        assert_eq!(state[4], nadam.mu(1.0));
        nadam.step(&mut p, &[0.5, -0.5], &mut state, 2, 0.1);
        assert_eq!(state[4], nadam.mu(1.0) * nadam.mu(2.0));
        // The first step moves about lr against the gradient's sign, as Adam's does.
        let mut q = [1.0f64];
        let mut fresh = vec![0.0; Optimizer::<f64>::state_len(&nadam, 1)];
        nadam.step(&mut q, &[3.0], &mut fresh, 1, 0.1);
        assert!(q[0] < 1.0 && q[0] > 0.8, "{q:?}");
    }

    #[test]
    fn momentum_rises_towards_beta1() {
        let nadam = NAdam::default();
        assert!(nadam.mu(1.0) < nadam.mu(1000.0) && nadam.mu(1000.0) < nadam.betas[0]);
        assert!((nadam.mu(1e6) - 0.9).abs() < 1e-12);
    }
}
