use backprop_tensor::{Element, SpecError, Validate, math};
use serde::{Deserialize, Serialize};

use crate::adam::decay_or_l2;
use crate::{Optimizer, lerp};

/// RAdam: Adam whose adaptive step is switched on, and scaled, by how well v is estimated.
///
/// `radam`: rectified Adam (Liu et al., 2020; PyTorch `torch.optim.RAdam`). In the first steps
/// the variance of the adaptive term is too large to trust, so the step is plain momentum SGD
/// until ρₜ, the length of the approximated moving average, exceeds 5.
///
/// With γ = lr, (β₁, β₂) = `betas`, ε = `eps`, λ = `weight_decay`, at step t (from 1):
///
/// ```text
/// g ← −g                                          (if maximize)
/// g ← g + λ·θ                                     (if λ ≠ 0; L2, added to the gradient)
/// θ ← θ·(1 − γ·λ)                                 (instead, with decoupled_weight_decay)
/// m ← β₁·m + (1 − β₁)·g                           (as torch: m + (1 − β₁)·(g − m))
/// v ← β₂·v + (1 − β₂)·g²
/// m̂ = m / (1 − β₁ᵗ)
/// ρ∞ = 2/(1 − β₂) − 1,  ρₜ = ρ∞ − 2t·β₂ᵗ/(1 − β₂ᵗ)
/// if ρₜ > 5:  r = √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ)),  l = √(1 − β₂ᵗ) / (√v + ε)
///             θ ← θ − m̂·γ·l·r
/// else:       θ ← θ − m̂·γ
/// ```
///
/// The arithmetic is in PyTorch's order: ρₜ and r in `f64`; l as torch's `scalar / tensor`
/// computes it, `(1/(√v + ε))·√(1 − β₂ᵗ)`; the product from the left, `((m̂·γ)·l)·r`. With β₂ ≤ 2/3
/// ρ∞ ≤ 5 and the step is never adaptive.
///
/// Defaults (PyTorch's): lr 0.001, betas [0.9, 0.999], eps 1e-8, weight_decay 0,
/// decoupled_weight_decay false, maximize false.
///
/// State, `n` parameters: `[m (n) | v (n)]`, zero at the start.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RAdam {
    /// Learning rate γ (default 0.001).
    pub lr: f64,
    /// Decay rates (β₁, β₂) of the first and second moment averages (default [0.9, 0.999]).
    pub betas: [f64; 2],
    /// ε added to the denominator (default 1e-8).
    pub eps: f64,
    /// L2 penalty λ added to the gradient as λ·θ (default 0).
    pub weight_decay: f64,
    /// Decay the weights as AdamW does, `θ ← θ·(1 − γ·λ)`, instead of adding `λ·θ` to the gradient
    /// (default false; PyTorch's RAdamW).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub decoupled_weight_decay: bool,
    /// Ascend the gradient instead (default false; PyTorch's `maximize`): each step starts from
    /// `g ← −g`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub maximize: bool,
}

impl Default for RAdam {
    fn default() -> Self {
        RAdam {
            lr: 1e-3,
            betas: [0.9, 0.999],
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled_weight_decay: false,
            maximize: false,
        }
    }
}

impl Validate for RAdam {
    fn validate(&self) -> Result<(), SpecError> {
        crate::validate_adam_family(self.lr, self.betas, self.eps, self.weight_decay)
    }
}

impl RAdam {
    /// ρₜ and, when it exceeds 5, the rectification r of step `t`.
    fn rectification(&self, t: f64) -> (f64, Option<f64>) {
        let beta2 = self.betas[1];
        let beta2_t = math::powf(beta2, t);
        let rho_inf = 2.0 / (1.0 - beta2) - 1.0;
        let rho_t = rho_inf - 2.0 * t * beta2_t / (1.0 - beta2_t);
        let r = (rho_t > 5.0)
            .then(|| ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)).sqrt());
        (rho_t, r)
    }
}

impl<F: Element> Optimizer<F> for RAdam {
    fn lr(&self) -> f64 {
        self.lr
    }

    fn state_len(&self, n_params: usize) -> usize {
        2 * n_params
    }

    fn step(&self, params: &mut [F], grads: &[F], state: &mut [F], step: u64, lr: F) {
        crate::assert_step_lengths(params, grads, state, Optimizer::<F>::state_len(self, params.len()));
        let n = params.len();
        let (m, v) = state.split_at_mut(n);
        let [beta1, beta2] = self.betas;
        let t = step as f64;
        let l2 = decay_or_l2(params, lr, self.weight_decay, self.decoupled_weight_decay);
        let bias_correction1 = F::of(1.0 - math::powf(beta1, t));
        let bias_correction2_sqrt = F::of((1.0 - math::powf(beta2, t)).sqrt());
        let rect = self.rectification(t).1.map(F::of);
        let (b2, one_minus_b1, one_minus_b2) = (F::of(beta2), F::of(1.0 - beta1), F::of(1.0 - beta2));
        let (eps, l2) = (F::of(self.eps), F::of(l2));
        for i in 0..n {
            let mut g = if self.maximize { -grads[i] } else { grads[i] };
            if l2 != F::zero() {
                g += l2 * params[i];
            }
            m[i] = lerp(m[i], g, one_minus_b1);
            v[i] = v[i] * b2 + one_minus_b2 * g * g;
            let corrected = m[i] / bias_correction1;
            params[i] -= match rect {
                Some(r) => {
                    let adaptive = (F::one() / (v[i].sqrt() + eps)) * bias_correction2_sqrt;
                    corrected * lr * adaptive * r
                }
                None => corrected * lr,
            };
        }
    }

    fn check_state(&self, state: &[F]) -> Result<(), String> {
        // `[m | v]`: v is an average of squares.
        crate::check_squares(state, state.len() / 2..state.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_steps_are_momentum_sgd_and_the_rectified_ones_follow() {
        let radam = RAdam::default();
        // ρ₁ = 1 for any β₂; with β₂ = 0.999, ρₜ first exceeds 5 at t = 6.
        assert!((radam.rectification(1.0).0 - 1.0).abs() < 1e-9);
        for t in 1..=5 {
            assert!(radam.rectification(t as f64).1.is_none(), "t = {t}");
        }
        let r = radam.rectification(6.0).1.expect("rectified at t = 6");
        assert!(r > 0.0 && r < 1.0, "{r}");
        // β₂ ≤ 2/3: ρ∞ ≤ 5, never rectified.
        let short = RAdam { betas: [0.9, 0.6], ..RAdam::default() };
        assert!((1..100).all(|t| short.rectification(t as f64).1.is_none()));
        // Step 1 is m̂·γ = g·γ: plain SGD.
        let mut p = [1.0f64, -1.0];
        let mut state = vec![0.0; Optimizer::<f64>::state_len(&radam, 2)];
        radam.step(&mut p, &[0.5, -2.0], &mut state, 1, 0.1);
        assert!((p[0] - 0.95).abs() < 1e-15 && (p[1] + 0.8).abs() < 1e-15, "{p:?}");
    }
}
