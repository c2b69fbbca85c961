//! `sgd`: stochastic gradient descent, `θ ← θ − lr·g` (PyTorch `torch.optim.SGD`, whose `lr`
//! default is 0.001).

use backprop_tensor::spec::positive;
use backprop_tensor::{Element, SpecError, Validate};
use serde::{Deserialize, Serialize};

use crate::Optimizer;

/// Plain gradient descent: `θ ← θ − lr·g`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sgd {
    /// Learning rate (default 0.001, PyTorch's).
    pub lr: f64,
}

impl Default for Sgd {
    fn default() -> Self {
        Sgd { lr: 1e-3 }
    }
}

impl Validate for Sgd {
    fn validate(&self) -> Result<(), SpecError> {
        positive("lr", self.lr)
    }
}

impl<F: Element> Optimizer<F> for Sgd {
    fn lr(&self) -> f64 {
        self.lr
    }

    fn state_len(&self, _n_params: usize) -> usize {
        0
    }

    fn step(&self, params: &mut [F], grads: &[F], _state: &mut [F], _step: u64, lr: F) {
        for (p, &g) in params.iter_mut().zip(grads) {
            *p -= lr * g;
        }
    }
}
