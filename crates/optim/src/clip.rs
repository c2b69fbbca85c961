//! Gradient clipping over the flat gradient buffer, as PyTorch's `torch.nn.utils`.
//!
//! - [`clip_grad_norm`] (`clip_grad_norm_`): with N = ‖g‖₂ over *all* gradients and
//!   c = max_norm / (N + 10⁻⁶), scales g ← c·g when c < 1; returns N, the norm before clipping.
//! - [`clip_grad_value`] (`clip_grad_value_`): clamps each gradient to [−v, v].
//!
//! Both run in place, between the backward pass and the optimiser's step, and allocate nothing.
//! The norm is accumulated in `f64` whatever the element type. When some gradient is NaN the norm
//! is NaN and nothing is scaled (PyTorch would turn every gradient into NaN); an infinite norm
//! scales by 0, as PyTorch does.

use backprop_tensor::Element;

/// Scales `grads` so that their joint L2 norm is at most about `max_norm`; returns the norm they
/// had before (PyTorch `clip_grad_norm_` with `norm_type = 2`). A `max_norm` of 0 or below
/// scales by a factor of 0 or below, as PyTorch's does: configs refuse it, and so does
/// `Trainer::new`.
///
/// ```
/// let mut g = [3.0f64, 4.0];
/// let norm = backprop_optim::clip_grad_norm(&mut g, 1.0);
/// assert_eq!(norm, 5.0);
/// assert!((g[0] - 0.6).abs() < 1e-6 && (g[1] - 0.8).abs() < 1e-6);
/// ```
pub fn clip_grad_norm<F: Element>(grads: &mut [F], max_norm: f64) -> f64 {
    let total_norm = grads.iter().map(|g| g.f64() * g.f64()).sum::<f64>().sqrt();
    let coef = max_norm / (total_norm + 1e-6);
    if coef < 1.0 {
        let coef = F::of(coef);
        for g in grads.iter_mut() {
            *g *= coef;
        }
    }
    total_norm
}

/// Clamps every gradient to `[−clip_value, clip_value]` (PyTorch `clip_grad_value_`).
///
/// ```
/// let mut g = [3.0, -0.5, -4.0];
/// backprop_optim::clip_grad_value(&mut g, 1.0);
/// assert_eq!(g, [1.0, -0.5, -1.0]);
/// ```
pub fn clip_grad_value<F: Element>(grads: &mut [F], clip_value: f64) {
    let (low, high) = (F::of(-clip_value), F::of(clip_value));
    for g in grads.iter_mut() {
        if *g < low {
            *g = low;
        } else if *g > high {
            *g = high;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norm_below_the_limit_leaves_gradients_alone() {
        let mut g = [0.3, -0.4];
        assert_eq!(clip_grad_norm(&mut g, 1.0), 0.5);
        assert_eq!(g, [0.3, -0.4]);
    }

    #[test]
    fn norm_above_the_limit_scales_by_max_over_norm_plus_1e6() {
        let mut g = [0.0f32, -30.0, 40.0];
        assert_eq!(clip_grad_norm(&mut g, 2.0), 50.0);
        let coef = (2.0 / (50.0 + 1e-6)) as f32;
        assert_eq!(g, [0.0, -30.0 * coef, 40.0 * coef]);
    }

    #[test]
    fn value_clamps_both_signs_and_keeps_nan() {
        let mut g = [2.0, -2.0, 0.25, f64::NAN];
        clip_grad_value(&mut g, 0.5);
        assert_eq!(&g[..3], &[0.5, -0.5, 0.25]);
        assert!(g[3].is_nan());
    }
}
