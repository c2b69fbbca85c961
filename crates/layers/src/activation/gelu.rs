//! `gelu`: the Gaussian error linear unit, exact form, σ(z) = z·Φ(z) = ½·z·(1 + erf(z/√2))
//! (PyTorch `nn.GELU(approximate="none")`).
//!
//! Derivative σ′(z) = Φ(z) + z·φ(z), φ(z) = e^(−z²/2)/√(2π). Range [≈ −0.17, ∞).
//!
//! Computed in `f64` with [`math::erfc`] as Φ(z) = ½·erfc(−z/√2), which equals ½·(1 + erf(z/√2))
//! but keeps its precision for very negative z, then rounded to the run's dtype; over a layer's
//! slice four at a time ([`math::erfc4`], [`math::exp4`]), with the same bits.

use backprop_tensor::math::{self, LANES, Lanes, Lanes3};
use backprop_tensor::{Element, Validate};
use serde::{Deserialize, Serialize};

use super::Elementwise;

/// the Gaussian error linear unit, σ(z) = z·Φ(z), exact (erf) form.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Gelu {}

impl Validate for Gelu {}

/// 1/√2.
const FRAC_1_SQRT_2: f64 = std::f64::consts::FRAC_1_SQRT_2;
/// 1/√(2π) = (1/√2)·(1/√π).
const INV_SQRT_2PI: f64 = std::f64::consts::FRAC_1_SQRT_2 * std::f64::consts::FRAC_2_SQRT_PI * 0.5;

/// Φ(z), the standard normal CDF, given `erfc(−z/√2)`: Φ(z) = ½·erfc(−z/√2).
#[inline(always)]
fn cdf(erfc: f64) -> f64 {
    0.5 * erfc
}

/// `z·Φ(z)` given `erfc(−z/√2)`.
#[inline(always)]
fn value_of(z: f64, erfc: f64) -> f64 {
    z * cdf(erfc)
}

/// `Φ(z) + z·φ(z)` given `erfc(−z/√2)` and `e^(−z²/2)`.
#[inline(always)]
fn derivative_of(z: f64, erfc: f64, e: f64) -> f64 {
    cdf(erfc) + z * (INV_SQRT_2PI * e)
}

/// `−z/√2`, erfc's argument, and `−z²/2`, the exponential's.
#[inline(always)]
fn erfc_arg(z: f64) -> f64 {
    -z * FRAC_1_SQRT_2
}

#[inline(always)]
fn exp_arg(z: f64) -> f64 {
    -0.5 * z * z
}

impl Elementwise for Gelu {
    #[inline]
    fn value<F: Element>(&self, z: F) -> F {
        let z = z.f64();
        F::of(value_of(z, math::erfc(erfc_arg(z))))
    }

    #[inline]
    fn derivative<F: Element>(&self, z: F, _a: F) -> F {
        let z = z.f64();
        F::of(derivative_of(z, math::erfc(erfc_arg(z)), math::exp(exp_arg(z))))
    }

    fn values<F: Element>(&self, z: &[F], a: &mut [F]) {
        math::lanes_map(z, a, Steps);
    }

    fn deltas<F: Element>(&self, z: &[F], a: &[F], grad_a: &[F], grad_z: &mut [F]) {
        math::lanes_map3(z, a, grad_a, grad_z, Steps);
    }
}

/// `value` and `grad_a·derivative` on four lanes, step by step.
#[derive(Clone, Copy)]
struct Steps;

impl<F: Element> Lanes<F> for Steps {
    #[inline(always)]
    fn lanes(&self, z: [F; LANES]) -> [F; LANES] {
        let z = z.map(F::f64);
        let c = math::erfc4(z.map(erfc_arg));
        std::array::from_fn(|i| F::of(value_of(z[i], c[i])))
    }
}

impl<F: Element> Lanes3<F> for Steps {
    #[inline(always)]
    fn lanes(&self, z: [F; LANES], _a: [F; LANES], grad_a: [F; LANES]) -> [F; LANES] {
        let z = z.map(F::f64);
        let (c, e) = (math::erfc4(z.map(erfc_arg)), math::exp4(z.map(exp_arg)));
        std::array::from_fn(|i| grad_a[i] * F::of(derivative_of(z[i], c[i], e[i])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::testing::{check_derivative, check_slices_match_scalars, check_values};

    #[test]
    fn values() {
        // Expected values from Python 3: 0.5 * z * (1 + math.erf(z / math.sqrt(2))).
        check_values(
            &Gelu {},
            &[(1.0, 0.8413447460685429), (-1.0, -0.15865525393145707), (2.5, 2.4844758366855597), (0.0, 0.0)],
        );
        // The two forms differ in the last bits far out on the left; 1e-12 relative is plenty.
        let got: f64 = Gelu {}.value(-3.0);
        assert!((got - -0.00404969409489031).abs() < 1e-12 * 0.00404969409489031);
    }

    #[test]
    fn derivative_matches_central_difference() {
        check_derivative(&Gelu {}, &[-5.0, -2.0, -0.7, 0.0, 0.3, 1.0, 4.0]);
    }

    #[test]
    fn slices_have_the_one_by_one_bits() {
        check_slices_match_scalars(&Gelu {});
    }

    #[test]
    fn f32_rounds_the_f64_value() {
        assert_eq!(Gelu {}.value(1.0_f32), 0.8413447460685429_f64 as f32);
    }
}
