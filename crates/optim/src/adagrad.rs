use backprop_tensor::spec::positive;
use backprop_tensor::{Element, SpecError, Validate};
use serde::{Deserialize, Serialize};

use crate::{Optimizer, non_negative};

/// Adagrad: divide the gradient by the root of the sum of its squares so far.
///
/// `adagrad`: Adagrad with optional learning-rate decay and L2 weight decay (PyTorch
/// `torch.optim.Adagrad`).
///
/// With γ = lr, η = `lr_decay`, λ = `weight_decay`, ε = `eps`, at step t (from 1):
///
/// ```text
/// γ̃ = γ / (1 + (t − 1)·η)
/// g ← −g                                       (if maximize)
/// g ← g + λ·θ                                  (if λ ≠ 0)
/// s ← s + g²                                   (s starts at initial_accumulator_value)
/// θ ← θ − γ̃·g / (√s + ε)
/// ```
///
/// Defaults (PyTorch's): lr 0.01, lr_decay 0, weight_decay 0, initial_accumulator_value 0,
/// eps 1e-10, maximize false.
///
/// State, `n` parameters: `s − initial_accumulator_value` (n). Storing the sum less its start
/// keeps the "zero at the start" contract of [`Optimizer::state_len`], so a caller needs no
/// special set-up; PyTorch's `state_sum` is the stored value plus `initial_accumulator_value`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Adagrad {
    /// Learning rate γ (default 0.01).
    pub lr: f64,
    /// Decay η: step t uses γ / (1 + (t − 1)·η) (default 0).
    pub lr_decay: f64,
    /// L2 penalty λ added to the gradient as λ·θ (default 0).
    pub weight_decay: f64,
    /// Start of the sum of squared gradients (default 0).
    pub initial_accumulator_value: f64,
    /// ε added to the denominator (default 1e-10).
    pub eps: f64,
    /// Ascend the gradient instead (default false; PyTorch's `maximize`): each step starts from
    /// `g ← −g`. Written out only when true, so that configs resolved before it existed (a
    /// checkpoint's, a sweep's finished trials) still match.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub maximize: bool,
}

impl Default for Adagrad {
    fn default() -> Self {
        Adagrad {
            lr: 1e-2,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
            maximize: false,
        }
    }
}

impl Validate for Adagrad {
    fn validate(&self) -> Result<(), SpecError> {
        positive("lr", self.lr)?;
        non_negative("lr_decay", self.lr_decay)?;
        non_negative("weight_decay", self.weight_decay)?;
        non_negative("initial_accumulator_value", self.initial_accumulator_value)?;
        positive("eps", self.eps)
    }
}

impl<F: Element> Optimizer<F> for Adagrad {
    fn lr(&self) -> f64 {
        self.lr
    }

    fn state_len(&self, n_params: usize) -> usize {
        n_params
    }

    fn check_state(&self, state: &[F]) -> Result<(), String> {
        // The sum of squares less its start: ≥ 0.
        crate::check_squares(state, 0..state.len())
    }

    fn step(&self, params: &mut [F], grads: &[F], state: &mut [F], step: u64, lr: F) {
        crate::assert_step_lengths(params, grads, state, Optimizer::<F>::state_len(self, params.len()));
        let clr = F::of(lr.f64() / (1.0 + (step as f64 - 1.0) * self.lr_decay));
        let (weight_decay, initial, eps) =
            (F::of(self.weight_decay), F::of(self.initial_accumulator_value), F::of(self.eps));
        for ((p, &g), sum_less_initial) in params.iter_mut().zip(grads).zip(state.iter_mut()) {
            let mut g = if self.maximize { -g } else { g };
            if self.weight_decay != 0.0 {
                g += weight_decay * *p;
            }
            *sum_less_initial += g * g;
            let std = (initial + *sum_less_initial).sqrt() + eps;
            *p -= clr * g / std;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_by_hand() {
        // s = 1 + 3² = 10 would be PyTorch's state_sum; stored is 9. Step = 0.5·3/(√10 + ε).
        let ada = Adagrad { lr: 0.5, initial_accumulator_value: 1.0, ..Adagrad::default() };
        let mut p = [0.0];
        let mut state = [0.0];
        ada.step(&mut p, &[3.0], &mut state, 1, 0.5);
        assert_eq!(state, [9.0]);
        assert!((p[0] + 1.5 / 10f64.sqrt()).abs() < 1e-9, "{p:?}");
    }
}
