use backprop_tensor::spec::positive;
use backprop_tensor::{Element, SpecError, Validate};
use serde::{Deserialize, Serialize};

use crate::{Optimizer, non_negative, unit_interval};

/// Adadelta: steps scaled by the ratio of the running RMS of past steps to that of gradients.
///
/// `adadelta`: Adadelta (Zeiler, 2012; PyTorch `torch.optim.Adadelta`), whose step sizes need
/// no learning rate (`lr` scales them; 1, PyTorch's default, is Zeiler's rule).
///
/// With γ = lr, ρ = `rho`, ε = `eps`, λ = `weight_decay`, at each step:
///
/// ```text
/// g ← −g                                          (if maximize)
/// g ← g + λ·θ                                     (if λ ≠ 0; L2, added to the gradient)
/// v ← ρ·v + (1 − ρ)·g²
/// Δ = √(u + ε) / √(v + ε) · g
/// u ← ρ·u + (1 − ρ)·Δ²
/// θ ← θ − γ·Δ
/// ```
///
/// Defaults (PyTorch's): lr 1.0, rho 0.9, eps 1e-6, weight_decay 0, maximize false.
///
/// State, `n` parameters: `[v (n) | u (n)]` (the running averages of g² and of Δ²), zero at the
/// start.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Adadelta {
    /// Scale γ of every step (default 1.0).
    pub lr: f64,
    /// Decay rate ρ of both running averages (default 0.9).
    pub rho: f64,
    /// ε added inside both square roots (default 1e-6).
    pub eps: f64,
    /// L2 penalty λ added to the gradient as λ·θ (default 0).
    pub weight_decay: f64,
    /// Ascend the gradient instead (default false; PyTorch's `maximize`): each step starts from
    /// `g ← −g`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub maximize: bool,
}

impl Default for Adadelta {
    fn default() -> Self {
        Adadelta { lr: 1.0, rho: 0.9, eps: 1e-6, weight_decay: 0.0, maximize: false }
    }
}

impl Validate for Adadelta {
    fn validate(&self) -> Result<(), SpecError> {
        positive("lr", self.lr)?;
        unit_interval("rho", self.rho)?;
        positive("eps", self.eps)?;
        non_negative("weight_decay", self.weight_decay)
    }
}

impl<F: Element> Optimizer<F> for Adadelta {
    fn lr(&self) -> f64 {
        self.lr
    }

    fn state_len(&self, n_params: usize) -> usize {
        2 * n_params
    }

    fn step(&self, params: &mut [F], grads: &[F], state: &mut [F], _step: u64, lr: F) {
        crate::assert_step_lengths(params, grads, state, Optimizer::<F>::state_len(self, params.len()));
        let n = params.len();
        let (square_avg, acc_delta) = state.split_at_mut(n);
        let (rho, one_minus_rho) = (F::of(self.rho), F::of(1.0 - self.rho));
        let (eps, l2) = (F::of(self.eps), F::of(self.weight_decay));
        for i in 0..n {
            let mut g = if self.maximize { -grads[i] } else { grads[i] };
            if self.weight_decay != 0.0 {
                g += l2 * params[i];
            }
            square_avg[i] = square_avg[i] * rho + one_minus_rho * g * g;
            let std = (square_avg[i] + eps).sqrt();
            let delta = (acc_delta[i] + eps).sqrt() / std * g;
            acc_delta[i] = acc_delta[i] * rho + one_minus_rho * delta * delta;
            params[i] += -lr * delta;
        }
    }

    fn check_state(&self, state: &[F]) -> Result<(), String> {
        // `[v | u]`: both are averages of squares.
        crate::check_squares(state, 0..state.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_by_hand() {
        // v = (1 − ρ)·4, Δ = √ε/√(v + ε)·2, u = (1 − ρ)·Δ², in that order of operations.
        let adadelta = Adadelta::default();
        let mut p = [1.0f64];
        let mut state = vec![0.0; Optimizer::<f64>::state_len(&adadelta, 1)];
        adadelta.step(&mut p, &[2.0], &mut state, 1, 1.0);
        let v: f64 = (1.0 - 0.9) * 2.0 * 2.0;
        let delta = 1e-6f64.sqrt() / (v + 1e-6).sqrt() * 2.0;
        assert_eq!(p[0], 1.0 - delta);
        assert_eq!(state, [v, (1.0 - 0.9) * delta * delta]);
    }
}
