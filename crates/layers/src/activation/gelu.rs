//! `gelu`: the Gaussian error linear unit, exact form, σ(z) = z·Φ(z) = ½·z·(1 + erf(z/√2))
//! (PyTorch `nn.GELU(approximate="none")`).
//!
//! Derivative σ′(z) = Φ(z) + z·φ(z), φ(z) = e^(−z²/2)/√(2π). Range [≈ −0.17, ∞).
//!
//! Computed in `f64` with `libm`'s `erfc` as Φ(z) = ½·erfc(−z/√2), which equals ½·(1 + erf(z/√2))
//! but keeps its precision for very negative z, then rounded to the run's dtype.

use backprop_tensor::{Element, Validate, math};
use serde::{Deserialize, Serialize};

use super::Elementwise;

/// the Gaussian error linear unit, σ(z) = z·Φ(z), exact (erf) form.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Gelu {}

impl Validate for Gelu {}

/// Φ(z), the standard normal CDF.
fn cdf(z: f64) -> f64 {
    0.5 * libm::erfc(-z * std::f64::consts::FRAC_1_SQRT_2)
}

/// φ(z), the standard normal density.
fn pdf(z: f64) -> f64 {
    // 1/√(2π) = (1/√2)·(1/√π) = FRAC_1_SQRT_2 · FRAC_2_SQRT_PI / 2.
    let inv_sqrt_2pi = std::f64::consts::FRAC_1_SQRT_2 * std::f64::consts::FRAC_2_SQRT_PI * 0.5;
    inv_sqrt_2pi * math::exp(-0.5 * z * z)
}

impl Elementwise for Gelu {
    #[inline]
    fn value<F: Element>(&self, z: F) -> F {
        let z = z.f64();
        F::of(z * cdf(z))
    }

    #[inline]
    fn derivative<F: Element>(&self, z: F, _a: F) -> F {
        let z = z.f64();
        F::of(cdf(z) + z * pdf(z))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::testing::{check_derivative, check_values};

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
    fn f32_rounds_the_f64_value() {
        assert_eq!(Gelu {}.value(1.0_f32), 0.8413447460685429_f64 as f32);
    }
}
