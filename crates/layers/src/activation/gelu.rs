use backprop_tensor::math::{self, LANES, Lanes, Lanes3};
use backprop_tensor::{Element, Validate};
use serde::{Deserialize, Serialize};

use super::Elementwise;

/// The Gaussian error linear unit, σ(z) = z·Φ(z): exact (erf) form, or PyTorch's tanh form.
///
/// `gelu`: the Gaussian error linear unit (PyTorch `nn.GELU`, with its parameter `approximate`).
///
/// `approximate = "none"` (the default), the exact form: σ(z) = z·Φ(z) = ½·z·(1 + erf(z/√2)),
/// derivative σ′(z) = Φ(z) + z·φ(z), φ(z) = e^(−z²/2)/√(2π). Range [≈ −0.17, ∞). Computed in
/// `f64` with [`math::erfc`] as Φ(z) = ½·erfc(−z/√2), which equals ½·(1 + erf(z/√2)) but keeps
/// its precision for very negative z, then rounded to the run's dtype; over a layer's slice four
/// at a time ([`math::erfc4`], [`math::exp4`]), with the same bits.
///
/// `approximate = "tanh"`, PyTorch's tanh form: σ(z) = ½·z·(1 + tanh(u)), u = β·(z + κ·z³),
/// β = √(2/π), κ = 0.044715, derivative σ′(z) = ½·(1 + tanh u) + ½·z·(1 − tanh² u)·β·(1 + 3κ·z²)
/// (the terms of PyTorch's backward), in `f64` with [`math::tanh`], then rounded to the dtype.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Gelu {
    /// `"none"` (default): the exact form; `"tanh"`: the tanh approximation (PyTorch's names).
    pub approximate: Approximate,
}

/// Which form of [`Gelu`] (PyTorch's `approximate`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Approximate {
    /// The exact form, `z·Φ(z)`.
    #[default]
    None,
    /// `½·z·(1 + tanh(√(2/π)·(z + 0.044715·z³)))`.
    Tanh,
}

/// √(2/π), the tanh form's β (PyTorch's `M_SQRT2 * M_2_SQRTPI * 0.5`).
const BETA: f64 = std::f64::consts::SQRT_2 * std::f64::consts::FRAC_2_SQRT_PI * 0.5;
/// The tanh form's κ.
const KAPPA: f64 = 0.044715;

/// The tanh form's `σ(z)`.
#[inline]
fn tanh_value(z: f64) -> f64 {
    let inner = BETA * (z + KAPPA * (z * z * z));
    0.5 * z * (1.0 + math::tanh(inner))
}

/// The tanh form's `σ′(z)`, as PyTorch's backward writes it.
#[inline]
fn tanh_derivative(z: f64) -> f64 {
    let z_sq = z * z;
    let t = math::tanh(BETA * (z + KAPPA * (z_sq * z)));
    let left = 0.5 * z;
    let right = 1.0 + t;
    let left_derivative = 0.5 * right;
    let right_derivative = 1.0 - t * t;
    let inner_derivative = BETA * (1.0 + 3.0 * KAPPA * z_sq);
    left_derivative + left * right_derivative * inner_derivative
}

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
        match self.approximate {
            Approximate::None => F::of(value_of(z, math::erfc(erfc_arg(z)))),
            Approximate::Tanh => F::of(tanh_value(z)),
        }
    }

    #[inline]
    fn derivative<F: Element>(&self, z: F, _a: F) -> F {
        let z = z.f64();
        match self.approximate {
            Approximate::None => F::of(derivative_of(z, math::erfc(erfc_arg(z)), math::exp(exp_arg(z)))),
            Approximate::Tanh => F::of(tanh_derivative(z)),
        }
    }

    fn values<F: Element>(&self, z: &[F], a: &mut [F]) {
        match self.approximate {
            Approximate::None => math::lanes_map(z, a, Steps),
            Approximate::Tanh => a.iter_mut().zip(z).for_each(|(a, &z)| *a = F::of(tanh_value(z.f64()))),
        }
    }

    fn deltas<F: Element>(&self, z: &[F], a: &[F], grad_a: &[F], grad_z: &mut [F]) {
        match self.approximate {
            Approximate::None => math::lanes_map3(z, a, grad_a, grad_z, Steps),
            Approximate::Tanh => {
                let len = grad_z.len();
                let (z, grad_a) = (&z[..len], &grad_a[..len]);
                for i in 0..len {
                    grad_z[i] = grad_a[i] * F::of(tanh_derivative(z[i].f64()));
                }
            }
        }
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
            &Gelu::default(),
            &[(1.0, 0.8413447460685429), (-1.0, -0.15865525393145707), (2.5, 2.4844758366855597), (0.0, 0.0)],
        );
        // The two forms differ in the last bits far out on the left; 1e-12 relative is plenty.
        let got: f64 = Gelu::default().value(-3.0);
        assert!((got - -0.00404969409489031).abs() < 1e-12 * 0.00404969409489031);
    }

    #[test]
    fn derivative_matches_central_difference() {
        check_derivative(&Gelu::default(), &[-5.0, -2.0, -0.7, 0.0, 0.3, 1.0, 4.0]);
    }

    #[test]
    fn slices_have_the_one_by_one_bits() {
        check_slices_match_scalars(&Gelu::default());
    }

    /// The tanh form against values from Python 3 (`0.5 * z * (1 + math.tanh(math.sqrt(2 /
    /// math.pi) * (z + 0.044715 * z**3)))`), and PyTorch 2.15's `gelu(approximate="tanh")`
    /// in float64, which gives the same numbers to the last bit or two.
    #[test]
    fn the_tanh_form() {
        let tanh = Gelu { approximate: Approximate::Tanh };
        let cases = [(1.0, 0.8411919906082768), (-1.0, -0.15880800939172324), (2.5, 2.484915733910001), (0.0, 0.0)];
        for (z, want) in cases {
            let got: f64 = tanh.value(z);
            assert!((got - want).abs() <= 4e-16 * want.abs(), "gelu_tanh({z}) = {got}, want {want}");
        }
        // PyTorch's backward (torch.autograd, float64). At z = −5, `1 + tanh u` cancels (tanh u
        // ≈ −1 + 2e-6) and magnifies a last-bit difference between our tanh and the C library's
        // a million times: 2e-10 relative there.
        let grads =
            [(1.0, 1.0829640838457826, 1e-15), (-1.0, -0.08296408384578252, 1e-15), (2.5, 1.037951576212666, 1e-15)];
        let more = [(0.0, 0.5, 0.0), (4.0, 1.000335123197122, 1e-15), (-5.0, -1.5463619879596227e-06, 1e-9)];
        for (z, want, tolerance) in grads.into_iter().chain(more) {
            let got: f64 = tanh.derivative(z, tanh.value(z));
            assert!((got - want).abs() <= tolerance * want.abs(), "gelu_tanh'({z}) = {got}, want {want}");
        }
        // Not the exact form: they differ by about 2e-4 at z = 1.
        assert!((tanh.value(1.0f64) - Gelu::default().value(1.0f64)).abs() > 1e-4);
        check_derivative(&tanh, &[-5.0, -2.0, -0.7, 0.0, 0.3, 1.0, 4.0]);
        check_slices_match_scalars(&tanh);
    }

    #[test]
    fn f32_rounds_the_f64_value() {
        assert_eq!(Gelu::default().value(1.0_f32), 0.8413447460685429_f64 as f32);
    }
}
