use backprop_tensor::spec::positive;
use backprop_tensor::{Element, SpecError, Validate};
use serde::{Deserialize, Serialize};

use crate::{Optimizer, non_negative, unit_interval};

/// Gradient descent with optional (Nesterov) momentum and L2 weight decay.
///
/// `sgd`: stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight
/// decay (PyTorch `torch.optim.SGD`).
///
/// With γ = lr, λ = `weight_decay`, μ = `momentum`, τ = `dampening`, at step t (from 1):
///
/// ```text
/// g ← −g                                       (if maximize)
/// g ← g + λ·θ                                  (if λ ≠ 0)
/// b ← g                   at t = 1              (if μ ≠ 0; no dampening on the first step)
/// b ← μ·b + (1 − τ)·g     at t > 1
/// g ← g + μ·b  if nesterov, else  g ← b
/// θ ← θ − γ·g
/// ```
///
/// Defaults (PyTorch's): lr 0.001, momentum 0, dampening 0, weight_decay 0, nesterov false,
/// maximize false, which is plain `θ ← θ − lr·g`. As PyTorch raises, `nesterov` needs momentum > 0 and dampening 0.
///
/// State: the momentum buffer b, one value per parameter, only when momentum ≠ 0 (else none).
/// "First step" is `step == 1`, so a resumed run must keep its step count with its state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sgd {
    /// Learning rate γ (default 0.001, PyTorch's).
    pub lr: f64,
    /// Momentum factor μ (default 0: no momentum buffer).
    pub momentum: f64,
    /// Dampening τ of the momentum's gradient term (default 0).
    pub dampening: f64,
    /// L2 penalty λ added to the gradient as λ·θ (default 0).
    pub weight_decay: f64,
    /// Use Nesterov momentum (default false; needs momentum > 0 and dampening 0).
    pub nesterov: bool,
    /// Ascend the gradient instead (default false; PyTorch's `maximize`): each step starts from
    /// `g ← −g`. Written out only when true, so that configs resolved before it existed (a
    /// checkpoint's, a sweep's finished trials) still match.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub maximize: bool,
}

impl Default for Sgd {
    fn default() -> Self {
        Sgd { lr: 1e-3, momentum: 0.0, dampening: 0.0, weight_decay: 0.0, nesterov: false, maximize: false }
    }
}

impl Validate for Sgd {
    fn validate(&self) -> Result<(), SpecError> {
        positive("lr", self.lr)?;
        non_negative("momentum", self.momentum)?;
        unit_interval("dampening", self.dampening)?;
        non_negative("weight_decay", self.weight_decay)?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(SpecError::new(
                "nesterov",
                format!(
                    "requires momentum > 0 and dampening = 0, got momentum = {} and dampening = {}",
                    self.momentum, self.dampening
                ),
            ));
        }
        Ok(())
    }
}

impl<F: Element> Optimizer<F> for Sgd {
    fn lr(&self) -> f64 {
        self.lr
    }

    fn state_len(&self, n_params: usize) -> usize {
        if self.momentum != 0.0 { n_params } else { 0 }
    }

    fn step(&self, params: &mut [F], grads: &[F], state: &mut [F], step: u64, lr: F) {
        crate::assert_step_lengths(params, grads, state, Optimizer::<F>::state_len(self, params.len()));
        if self.weight_decay == 0.0 && self.momentum == 0.0 {
            // Plain `θ ← θ − lr·g`: one vectorised pass (two threads for large models). Maximising,
            // `θ − (−lr)·g`, PyTorch's `θ + (−lr)·(−g)` to the bit.
            let lr = if self.maximize { -lr } else { lr };
            backprop_tensor::linalg::sub_scaled(params, lr, grads);
            return;
        }
        let weight_decay = F::of(self.weight_decay);
        let momentum = F::of(self.momentum);
        let one_minus_dampening = F::of(1.0 - self.dampening);
        for (i, (p, &g)) in params.iter_mut().zip(grads).enumerate() {
            let mut g = if self.maximize { -g } else { g };
            if self.weight_decay != 0.0 {
                g += weight_decay * *p;
            }
            if self.momentum != 0.0 {
                let b = &mut state[i];
                *b = if step == 1 { g } else { momentum * *b + one_minus_dampening * g };
                g = if self.nesterov { g + momentum * *b } else { *b };
            }
            *p -= lr * g;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_sgd_by_hand() {
        let sgd = Sgd { lr: 0.5, ..Sgd::default() };
        let mut params = [1.0, -1.0];
        Optimizer::<f64>::step(&sgd, &mut params, &[0.2, -0.4], &mut [], 1, 0.5);
        assert_eq!(params, [0.9, -0.8]);
        assert_eq!(Optimizer::<f64>::state_len(&sgd, 2), 0);
    }

    #[test]
    fn momentum_starts_from_the_gradient_then_accumulates() {
        // b1 = g = 1 (no dampening on step 1), b2 = 0.9·1 + 0.5·1 = 1.4.
        let sgd = Sgd { lr: 1.0, momentum: 0.9, dampening: 0.5, ..Sgd::default() };
        let mut p = [0.0];
        let mut state = [0.0];
        Optimizer::<f64>::step(&sgd, &mut p, &[1.0], &mut state, 1, 1.0);
        assert_eq!((p, state), ([-1.0], [1.0]));
        Optimizer::<f64>::step(&sgd, &mut p, &[1.0], &mut state, 2, 1.0);
        assert_eq!((p, state), ([-2.4], [1.4]));
    }

    #[test]
    fn nesterov_needs_momentum_and_no_dampening() {
        let bad = Sgd { nesterov: true, ..Sgd::default() };
        assert_eq!(bad.validate().unwrap_err().key, "nesterov");
        let bad = Sgd { nesterov: true, momentum: 0.9, dampening: 0.1, ..Sgd::default() };
        assert_eq!(bad.validate().unwrap_err().key, "nesterov");
        assert!(Sgd { nesterov: true, momentum: 0.9, ..Sgd::default() }.validate().is_ok());
        assert_eq!(Sgd { momentum: -0.1, ..Sgd::default() }.validate().unwrap_err().key, "momentum");
        assert_eq!(Sgd { lr: 0.0, ..Sgd::default() }.validate().unwrap_err().key, "lr");
    }
}
