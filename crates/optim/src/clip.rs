//! Gradient clipping over the flat gradient buffer, as PyTorch's `torch.nn.utils`.
//!
//! - [`clip_grad_norm`] (`clip_grad_norm_`): with N = ‖g‖₂ over *all* gradients and
//!   c = max_norm / (N + 10⁻⁶), scales g ← c·g when c < 1; returns N, the norm before clipping.
//!   [`clip_grad_norm_type`] takes `norm_type` p (PyTorch's parameter): N = ‖g‖ₚ =
//!   (Σ|gᵢ|ᵖ)^(1/p), or max|gᵢ| for p = ∞ ([`grad_norm`]).
//! - [`clip_grad_value`] (`clip_grad_value_`): clamps each gradient to [−v, v].
//!
//! Both run in place, between the backward pass and the optimiser's step, and allocate nothing.
//! The norm is accumulated in `f64` whatever the element type. When some gradient is NaN the norm
//! is NaN and nothing is scaled (PyTorch would turn every gradient into NaN); an infinite norm
//! scales by 0, as PyTorch does. Where the powers |g|ᵖ overflow or underflow but the norm
//! does not, it is taken over |g|/max|g| and multiplied back (PyTorch's sum would be inf, and
//! clip every gradient to 0, or 0, and clip none); elsewhere it is the plain sum.

use backprop_tensor::{Element, math};

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
    clip_grad_norm_type(grads, max_norm, 2.0)
}

/// [`clip_grad_norm`] for the p-norm of `norm_type` (PyTorch `clip_grad_norm_`'s `norm_type`,
/// default 2): scales `grads` by c = max_norm / (N + 10⁻⁶) when c < 1, N = [`grad_norm`]`(grads,
/// norm_type)`; returns N.
///
/// ```
/// let mut g = [3.0f64, -4.0];
/// let norm = backprop_optim::clip_grad_norm_type(&mut g, 2.0, f64::INFINITY);
/// assert_eq!(norm, 4.0);
/// assert!((g[0] - 1.5).abs() < 1e-6 && (g[1] + 2.0).abs() < 1e-6);
/// ```
pub fn clip_grad_norm_type<F: Element>(grads: &mut [F], max_norm: f64, norm_type: f64) -> f64 {
    let total_norm = grad_norm(grads, norm_type);
    let coef = max_norm / (total_norm + 1e-6);
    if coef < 1.0 {
        let coef = F::of(coef);
        for g in grads.iter_mut() {
            *g *= coef;
        }
    }
    total_norm
}

/// Whether `p` can be a [`grad_norm`]'s `norm_type`: above 0, `inf` included (not NaN).
pub fn is_norm_type(p: f64) -> bool {
    p > 0.0
}

/// What a `norm_type` that [`is_norm_type`] refuses is told, `{}` the value given.
pub const NORM_TYPE_RANGE: &str = "must be a number above 0 (inf: the largest |g|), got {}";

/// ‖g‖ₚ over all of `grads`, p = `norm_type`, accumulated in `f64`: √(Σgᵢ²) for p = 2,
/// max|gᵢ| for p = ∞, Σ|gᵢ| for p = 1, (Σ|gᵢ|ᵖ)^(1/p) otherwise (PyTorch's
/// `torch.linalg.vector_norm` of all the gradients as one vector). NaN when some gradient is NaN.
/// `norm_type` should be above 0 (configs refuse anything else).
pub fn grad_norm<F: Element>(grads: &[F], norm_type: f64) -> f64 {
    // `f64::max` would drop a NaN; a NaN gradient makes the norm NaN, as for the others.
    let largest = || grads.iter().map(|g| g.f64().abs()).fold(0.0, |m, a| if a > m || a.is_nan() { a } else { m });
    if norm_type == f64::INFINITY {
        return largest();
    }
    if norm_type == 1.0 {
        return grads.iter().map(|g| g.f64().abs()).sum();
    }
    let power = |x: f64| if norm_type == 2.0 { x * x } else { math::powf(x, norm_type) };
    let root = |x: f64| if norm_type == 2.0 { x.sqrt() } else { math::powf(x, 1.0 / norm_type) };
    let sum: f64 = grads.iter().map(|g| power(g.f64().abs())).sum();
    if sum.is_finite() && sum >= f64::MIN_POSITIVE {
        return root(sum);
    }
    // The powers overflowed, or underflowed below f64's normal range (|g| = 1e-4 with p = 100
    // gives 0), where the norm is finite and above 0: taken again over |g| / max|g|, which is at
    // most 1 (PyTorch's unscaled sum would give inf and clip every gradient to 0, or 0 and clip
    // nothing).
    let m = largest();
    if !(m.is_finite() && m > 0.0) {
        return if m.is_nan() { m } else { root(sum) };
    }
    m * root(grads.iter().map(|g| power(g.f64().abs() / m)).sum())
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

    /// By hand, for g = (3, −4, 12): ‖g‖₁ = 19, ‖g‖₂ = 13, ‖g‖₃ = (27 + 64 + 1728)^(1/3) =
    /// 1819^(1/3), ‖g‖∞ = 12.
    #[test]
    fn p_norms_follow_their_definitions() {
        let g = [3.0f32, -4.0, 12.0];
        assert_eq!(grad_norm(&g, 1.0), 19.0);
        assert_eq!(grad_norm(&g, 2.0), 13.0);
        assert_eq!(grad_norm(&g, f64::INFINITY), 12.0);
        let cube = grad_norm(&g, 3.0).powi(3);
        assert!((cube - 1819.0).abs() < 1e-10, "{cube}");
        assert!((grad_norm(&g, 0.5) - (3f64.sqrt() + 2.0 + 12f64.sqrt()).powi(2)).abs() < 1e-12);
        assert_eq!(grad_norm::<f64>(&[], f64::INFINITY), 0.0);
        for p in [1.0, 2.0, 3.0, f64::INFINITY] {
            assert!(grad_norm(&[1.0, f64::NAN, 2.0], p).is_nan(), "p = {p}");
            assert!(grad_norm(&[f64::NAN, 1.0], p).is_nan(), "p = {p}");
        }
        // Powers past f64's range, or below it: the norm of the scaled values, times the largest.
        let huge = [1e200f64, -1e200];
        assert!((grad_norm(&huge, 2.0) / (1e200 * 2f64.sqrt()) - 1.0).abs() < 1e-15, "{}", grad_norm(&huge, 2.0));
        assert!((grad_norm(&huge, 100.0) / (1e200 * math::powf(2.0, 0.01)) - 1.0).abs() < 1e-14);
        // A sum below f64's normal range (its subnormals lose digits): scaled too.
        let subnormal = [3e-162f64, 3e-162];
        assert!(
            (grad_norm(&subnormal, 2.0) / (3e-162 * 2f64.sqrt()) - 1.0).abs() < 1e-15,
            "{}",
            grad_norm(&subnormal, 2.0)
        );
        let tiny = [1e-4f64, 1e-4];
        assert!((grad_norm(&tiny, 100.0) / (1e-4 * math::powf(2.0, 0.01)) - 1.0).abs() < 1e-14);
        assert_eq!(grad_norm(&[0.0f64, 0.0], 3.0), 0.0);
        assert_eq!(grad_norm(&[f64::INFINITY, 1.0], 3.0), f64::INFINITY);
        assert!(grad_norm(&[f64::INFINITY, f64::NAN], 3.0).is_nan());
        // The same bits as `clip_grad_norm` for p = 2, and scaled by max / (N + 1e-6) for the others.
        let (mut two, mut l2) = (g, g);
        assert_eq!(clip_grad_norm_type(&mut two, 2.0, 2.0), clip_grad_norm(&mut l2, 2.0));
        assert_eq!(two, l2);
        let mut inf = g;
        assert_eq!(clip_grad_norm_type(&mut inf, 6.0, f64::INFINITY), 12.0);
        let coef = (6.0 / (12.0 + 1e-6)) as f32;
        assert_eq!(inf, [3.0 * coef, -4.0 * coef, 12.0 * coef]);
        let mut small = g;
        assert_eq!(clip_grad_norm_type(&mut small, 20.0, 1.0), 19.0);
        assert_eq!(small, g, "‖g‖₁ = 19 is within 20");
    }

    #[test]
    fn value_clamps_both_signs_and_keeps_nan() {
        let mut g = [2.0, -2.0, 0.25, f64::NAN];
        clip_grad_value(&mut g, 0.5);
        assert_eq!(&g[..3], &[0.5, -0.5, 0.25]);
        assert!(g[3].is_nan());
    }
}
