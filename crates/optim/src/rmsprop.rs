use backprop_tensor::spec::positive;
use backprop_tensor::{Element, SpecError, Validate};
use serde::{Deserialize, Serialize};

use crate::{Optimizer, beta, non_negative};

/// RMSprop: divide the gradient by a running root mean square.
///
/// `rmsprop`: RMSprop with optional centring, momentum and L2 weight decay (PyTorch
/// `torch.optim.RMSprop`).
///
/// With γ = lr, α = `alpha`, ε = `eps`, λ = `weight_decay`, μ = `momentum`, at every step:
///
/// ```text
/// g ← −g                                       (if maximize)
/// g ← g + λ·θ                                  (if λ ≠ 0)
/// v ← α·v + (1 − α)·g²
/// ṽ = v,  or if centered:  g_avg ← α·g_avg + (1 − α)·g,  ṽ = v − g_avg²
/// if μ > 0:  b ← μ·b + g / (√ṽ + ε),  θ ← θ − γ·b
/// else:      θ ← θ − γ·g / (√ṽ + ε)
/// ```
///
/// Unlike SGD's, the momentum buffer b starts at zero (PyTorch's rule).
///
/// Defaults (PyTorch's): lr 0.01, alpha 0.99, eps 1e-8, weight_decay 0, momentum 0, centered false,
/// maximize false.
///
/// State, `n` parameters: `[v (n) | g_avg (n, centered only) | b (n, momentum > 0 only)]`, zero at
/// the start.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RmsProp {
    /// Learning rate γ (default 0.01).
    pub lr: f64,
    /// Smoothing constant α of the squared-gradient average, in [0, 1) (default 0.99).
    pub alpha: f64,
    /// ε added to the denominator (default 1e-8).
    pub eps: f64,
    /// L2 penalty λ added to the gradient as λ·θ (default 0).
    pub weight_decay: f64,
    /// Momentum factor μ (default 0: no momentum buffer).
    pub momentum: f64,
    /// Normalise by an estimate of the gradient's variance instead of its second moment
    /// (default false).
    pub centered: bool,
    /// Ascend the gradient instead (default false; PyTorch's `maximize`): each step starts from
    /// `g ← −g`. Written out only when true, so that configs resolved before it existed (a
    /// checkpoint's, a sweep's finished trials) still match.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub maximize: bool,
}

impl Default for RmsProp {
    fn default() -> Self {
        RmsProp { lr: 1e-2, alpha: 0.99, eps: 1e-8, weight_decay: 0.0, momentum: 0.0, centered: false, maximize: false }
    }
}

impl Validate for RmsProp {
    fn validate(&self) -> Result<(), SpecError> {
        positive("lr", self.lr)?;
        beta("alpha", self.alpha)?;
        positive("eps", self.eps)?;
        non_negative("weight_decay", self.weight_decay)?;
        non_negative("momentum", self.momentum)
    }
}

impl<F: Element> Optimizer<F> for RmsProp {
    fn lr(&self) -> f64 {
        self.lr
    }

    fn state_len(&self, n_params: usize) -> usize {
        n_params * (1 + usize::from(self.centered) + usize::from(self.momentum > 0.0))
    }

    fn check_state(&self, state: &[F]) -> Result<(), String> {
        // `[v | g_avg | b]`: v, the first of its parts, is an average of squares.
        let parts = 1 + usize::from(self.centered) + usize::from(self.momentum > 0.0);
        crate::check_squares(state, 0..state.len() / parts)
    }

    fn step(&self, params: &mut [F], grads: &[F], state: &mut [F], _step: u64, lr: F) {
        crate::assert_step_lengths(params, grads, state, Optimizer::<F>::state_len(self, params.len()));
        let n = params.len();
        let (square_avg, rest) = state.split_at_mut(n);
        let (grad_avg, rest) = rest.split_at_mut(if self.centered { n } else { 0 });
        let buf = &mut rest[..if self.momentum > 0.0 { n } else { 0 }];
        let (alpha, one_minus_alpha) = (F::of(self.alpha), F::of(1.0 - self.alpha));
        let (eps, weight_decay, momentum) = (F::of(self.eps), F::of(self.weight_decay), F::of(self.momentum));
        for i in 0..n {
            let mut g = if self.maximize { -grads[i] } else { grads[i] };
            if self.weight_decay != 0.0 {
                g += weight_decay * params[i];
            }
            square_avg[i] = alpha * square_avg[i] + one_minus_alpha * g * g;
            let avg = if self.centered {
                grad_avg[i] = alpha * grad_avg[i] + one_minus_alpha * g;
                (square_avg[i] - grad_avg[i] * grad_avg[i]).sqrt()
            } else {
                square_avg[i].sqrt()
            } + eps;
            if self.momentum > 0.0 {
                buf[i] = momentum * buf[i] + g / avg;
                params[i] -= lr * buf[i];
            } else {
                params[i] -= lr * g / avg;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_by_hand() {
        // v = 0.01·4 = 0.04, √v = 0.2, step = 0.01·2/0.2 = 0.1 (ε = 0 would be exact; 1e-8 is not).
        let rms = RmsProp::default();
        let mut p = [1.0f64];
        let mut state = vec![0.0; Optimizer::<f64>::state_len(&rms, 1)];
        rms.step(&mut p, &[2.0], &mut state, 1, 0.01);
        assert!((p[0] - 0.9).abs() < 1e-7, "{p:?}");
        let all = RmsProp { centered: true, momentum: 0.9, ..RmsProp::default() };
        assert_eq!(Optimizer::<f64>::state_len(&all, 5), 15);
    }

    #[test]
    fn rejects_alpha_of_one() {
        assert_eq!(RmsProp { alpha: 1.0, ..RmsProp::default() }.validate().unwrap_err().key, "alpha");
    }
}
