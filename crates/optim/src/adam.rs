use backprop_tensor::{Element, SpecError, Validate, math};
use serde::{Deserialize, Serialize};

use crate::Optimizer;

/// Adam, with L2 weight decay added to the gradient.
///
/// `adam`: Adam with optional L2 weight decay and AMSGrad (PyTorch `torch.optim.Adam`).
///
/// With γ = lr, (β₁, β₂) = `betas`, ε = `eps`, λ = `weight_decay`, at step t (from 1):
///
/// ```text
/// g ← −g                                       (if maximize)
/// g ← g + λ·θ                                  (if λ ≠ 0; L2, added to the gradient)
/// m ← β₁·m + (1 − β₁)·g
/// v ← β₂·v + (1 − β₂)·g²
/// v_max ← max(v_max, v)                         (amsgrad only; the max of the raw v)
/// m̂ = m / (1 − β₁ᵗ)
/// v̂ = v / (1 − β₂ᵗ)       or  v̂ = v_max / (1 − β₂ᵗ) with amsgrad
/// θ ← θ − γ·m̂ / (√v̂ + ε)
/// ```
///
/// The arithmetic is in PyTorch's order: `step_size = γ / (1 − β₁ᵗ)`, `denom = √v / √(1 − β₂ᵗ) + ε`,
/// `θ ← θ − step_size·m / denom`; the bias corrections are computed in `f64`.
///
/// With `decoupled_weight_decay` the decay is AdamW's instead (`θ ← θ·(1 − γ·λ)` before the
/// moments, no L2 term in `g`): PyTorch's `Adam(decoupled_weight_decay=True)`, which is `AdamW`.
///
/// Defaults (PyTorch's): lr 0.001, betas [0.9, 0.999], eps 1e-8, weight_decay 0, amsgrad false,
/// maximize false, decoupled_weight_decay false.
///
/// State, `n` parameters: `[m (n) | v (n) | v_max (n, amsgrad only)]`, zero at the start.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Adam {
    /// Learning rate γ (default 0.001).
    pub lr: f64,
    /// Decay rates (β₁, β₂) of the first and second moment averages (default [0.9, 0.999]).
    pub betas: [f64; 2],
    /// ε added to the denominator (default 1e-8).
    pub eps: f64,
    /// L2 penalty λ added to the gradient as λ·θ (default 0).
    pub weight_decay: f64,
    /// Normalise by the running maximum of v (AMSGrad; default false).
    pub amsgrad: bool,
    /// Ascend the gradient instead (default false; PyTorch's `maximize`): each step starts from
    /// `g ← −g`. Written out only when true, so that configs resolved before it existed (a
    /// checkpoint's, a sweep's finished trials) still match.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub maximize: bool,
    /// Decay the weights as AdamW does, `θ ← θ·(1 − γ·λ)`, instead of adding `λ·θ` to the gradient
    /// (default false; written out only when true, as `maximize`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub decoupled_weight_decay: bool,
}

impl Default for Adam {
    fn default() -> Self {
        Adam {
            lr: 1e-3,
            betas: [0.9, 0.999],
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            maximize: false,
            decoupled_weight_decay: false,
        }
    }
}

impl Validate for Adam {
    fn validate(&self) -> Result<(), SpecError> {
        crate::validate_adam_family(self.lr, self.betas, self.eps, self.weight_decay)
    }
}

impl<F: Element> Optimizer<F> for Adam {
    fn lr(&self) -> f64 {
        self.lr
    }

    fn state_len(&self, n_params: usize) -> usize {
        state_len(n_params, self.amsgrad)
    }

    fn step(&self, params: &mut [F], grads: &[F], state: &mut [F], step: u64, lr: F) {
        crate::assert_step_lengths(params, grads, state, Optimizer::<F>::state_len(self, params.len()));
        let moments = Moments { betas: self.betas, eps: self.eps, amsgrad: self.amsgrad, maximize: self.maximize };
        let l2 = decay_or_l2(params, lr, self.weight_decay, self.decoupled_weight_decay);
        moments.update(params, grads, state, step, lr, l2);
    }

    fn check_state(&self, state: &[F]) -> Result<(), String> {
        // `[m | v | v_max]`: v and v_max are averages of squares.
        crate::check_squares(state, state.len() / if self.amsgrad { 3 } else { 2 }..state.len())
    }
}

/// AdamW's decoupled decay, `θ ← θ·(1 − γ·λ)` (nothing when λ = 0), as PyTorch computes it.
pub(crate) fn decay<F: Element>(params: &mut [F], lr: F, weight_decay: f64) {
    if weight_decay != 0.0 {
        let shrink = F::of(1.0 - lr.f64() * weight_decay);
        for p in params.iter_mut() {
            *p *= shrink;
        }
    }
}

/// The weight decay of a step of Adam's family, before the moments: with `decoupled`, AdamW's
/// `θ ← θ·(1 − γ·λ)` applied to `params` now, and no L2 term; else none now, and λ returned, the
/// L2 coefficient the step adds to the gradient as λ·θ.
pub(crate) fn decay_or_l2<F: Element>(params: &mut [F], lr: F, weight_decay: f64, decoupled: bool) -> f64 {
    if decoupled {
        decay(params, lr, weight_decay);
        0.0
    } else {
        weight_decay
    }
}

/// State length of Adam and AdamW.
pub(crate) fn state_len(n_params: usize, amsgrad: bool) -> usize {
    if amsgrad { 3 * n_params } else { 2 * n_params }
}

/// The moment-based update Adam and AdamW share.
pub(crate) struct Moments {
    pub(crate) betas: [f64; 2],
    pub(crate) eps: f64,
    pub(crate) amsgrad: bool,
    pub(crate) maximize: bool,
}

impl Moments {
    /// One Adam update, with `l2` (Adam's `weight_decay`) added to the gradient as `l2·θ`.
    pub(crate) fn update<F: Element>(&self, params: &mut [F], grads: &[F], state: &mut [F], step: u64, lr: F, l2: f64) {
        let n = params.len();
        let (m, rest) = state.split_at_mut(n);
        let (v, v_max) = rest.split_at_mut(n);
        let [beta1, beta2] = self.betas;
        let t = step as f64;
        let bias_correction1 = 1.0 - math::powf(beta1, t);
        let bias_correction2 = 1.0 - math::powf(beta2, t);
        let step_size = F::of(lr.f64() / bias_correction1);
        let bias_correction2_sqrt = F::of(bias_correction2.sqrt());
        let (b1, b2) = (F::of(beta1), F::of(beta2));
        let (one_minus_b1, one_minus_b2) = (F::of(1.0 - beta1), F::of(1.0 - beta2));
        let (eps, l2_f) = (F::of(self.eps), F::of(l2));
        for i in 0..n {
            let mut g = if self.maximize { -grads[i] } else { grads[i] };
            if l2 != 0.0 {
                g += l2_f * params[i];
            }
            m[i] = b1 * m[i] + one_minus_b1 * g;
            v[i] = b2 * v[i] + one_minus_b2 * g * g;
            let second = if self.amsgrad {
                if v[i] > v_max[i] {
                    v_max[i] = v[i];
                }
                v_max[i]
            } else {
                v[i]
            };
            let denom = second.sqrt() / bias_correction2_sqrt + eps;
            params[i] -= step_size * m[i] / denom;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_moves_each_parameter_by_about_lr_against_its_gradient() {
        // At t = 1, m̂ = g and v̂ = g², so the step is lr·g/(|g| + ε) ≈ lr·sign(g).
        let adam = Adam { lr: 0.1, ..Adam::default() };
        let mut p = [1.0f64, 1.0];
        let mut state = vec![0.0; Optimizer::<f64>::state_len(&adam, 2)];
        adam.step(&mut p, &[3.0, -0.5], &mut state, 1, 0.1);
        assert!((p[0] - 0.9).abs() < 1e-8 && (p[1] - 1.1).abs() < 1e-8, "{p:?}");
        assert_eq!(state.len(), 4);
        assert_eq!(Optimizer::<f64>::state_len(&Adam { amsgrad: true, ..Adam::default() }, 2), 6);
    }

    #[test]
    fn rejects_betas_outside_zero_one() {
        assert_eq!(Adam { betas: [1.0, 0.999], ..Adam::default() }.validate().unwrap_err().key, "betas[0]");
        assert_eq!(Adam { betas: [0.9, -0.1], ..Adam::default() }.validate().unwrap_err().key, "betas[1]");
        assert_eq!(Adam { eps: 0.0, ..Adam::default() }.validate().unwrap_err().key, "eps");
        assert!(Adam::default().validate().is_ok());
    }
}
