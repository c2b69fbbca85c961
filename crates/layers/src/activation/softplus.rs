use backprop_tensor::math::{self, LANES, Lanes, Lanes3};
use backprop_tensor::spec::{finite, positive};
use backprop_tensor::{Element, SpecError, Validate};
use serde::{Deserialize, Serialize};

use super::Elementwise;

/// a smooth rectifier, σ(z) = ln(1 + e^(beta·z)) / beta, linear above the threshold.
///
/// `softplus`: a smooth rectifier, σ(z) = ln(1 + e^(beta·z)) / beta, and σ(z) = z once
/// beta·z > threshold (PyTorch `nn.Softplus`, defaults beta = 1, threshold = 20).
///
/// Derivative σ′(z) = sigmoid(beta·z) = 1 / (1 + e^(−beta·z)), and 1 above the threshold.
/// Range (0, ∞). Computed without overflow for any threshold: ln(1 + e^x) = max(x, 0) + ln_1p(e^(−|x|)).
/// Over a layer's slice both are computed four at a time ([`math::exp4`], [`math::ln_1p4`]),
/// with the bits of the one-at-a-time functions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Softplus {
    /// Sharpness: larger is closer to relu. Default 1.
    pub beta: f64,
    /// Above beta·z > threshold the output is z itself. Default 20.
    pub threshold: f64,
}

impl Default for Softplus {
    fn default() -> Self {
        Softplus { beta: 1.0, threshold: 20.0 }
    }
}

impl Validate for Softplus {
    fn validate(&self) -> Result<(), SpecError> {
        positive("beta", self.beta)?;
        // Below f32's smallest normal number, 1/β overflows in an f32 run (below f64's, in
        // every run): every output is infinite, whatever the weights.
        let floor = f64::from(f32::MIN_POSITIVE);
        if self.beta < floor {
            return Err(SpecError::new(
                "beta",
                format!("must be at least {floor:e} (1/beta must be finite, in f32 too), got {:e}", self.beta),
            ));
        }
        finite("threshold", self.threshold)
    }
}

impl Elementwise for Softplus {
    #[inline]
    fn value<F: Element>(&self, z: F) -> F {
        let beta = F::of(self.beta);
        let x = beta * z;
        if x > F::of(self.threshold) {
            return z;
        }
        (x.max(F::zero()) + math::ln_1p(math::exp(-x.abs()))) / beta
    }

    #[inline]
    fn derivative<F: Element>(&self, z: F, _a: F) -> F {
        let x = F::of(self.beta) * z;
        if x > F::of(self.threshold) { F::one() } else { F::one() / (F::one() + math::exp(-x)) }
    }

    fn values<F: Element>(&self, z: &[F], a: &mut [F]) {
        math::lanes_map(z, a, Steps { beta: F::of(self.beta), threshold: F::of(self.threshold) });
    }

    fn deltas<F: Element>(&self, z: &[F], a: &[F], grad_a: &[F], grad_z: &mut [F]) {
        let kernel = Steps { beta: F::of(self.beta), threshold: F::of(self.threshold) };
        math::lanes_map3(z, a, grad_a, grad_z, kernel);
    }
}

/// `value` and `grad_a·derivative` on four lanes, step by step; lanes past the threshold take
/// `e⁰` and keep their own branch.
#[derive(Clone, Copy)]
struct Steps<F> {
    beta: F,
    threshold: F,
}

impl<F: Element> Lanes<F> for Steps<F> {
    #[inline(always)]
    fn lanes(&self, z: [F; LANES]) -> [F; LANES] {
        let x = z.map(|z| self.beta * z);
        let e = math::exp4(x.map(|x| if x > self.threshold { F::zero() } else { -x.abs() }));
        let l = math::ln_1p4(e);
        std::array::from_fn(|i| if x[i] > self.threshold { z[i] } else { (x[i].max(F::zero()) + l[i]) / self.beta })
    }
}

impl<F: Element> Lanes3<F> for Steps<F> {
    #[inline(always)]
    fn lanes(&self, z: [F; LANES], _a: [F; LANES], grad_a: [F; LANES]) -> [F; LANES] {
        let x = z.map(|z| self.beta * z);
        let e = math::exp4(x.map(|x| if x > self.threshold { F::zero() } else { -x }));
        std::array::from_fn(|i| grad_a[i] * if x[i] > self.threshold { F::one() } else { F::one() / (F::one() + e[i]) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::testing::{check_derivative, check_slices_match_scalars, check_values};

    #[test]
    fn values() {
        // Expected values from Python 3: math.log1p(math.exp(beta * z)) / beta.
        check_values(
            &Softplus::default(),
            &[(1.0, 1.3132616875182228), (-2.0, 0.1269280110429725), (0.0, std::f64::consts::LN_2)],
        );
        check_values(&Softplus { beta: 2.0, threshold: 20.0 }, &[(1.5, 1.524293675786871)]);
        // Above the threshold the output is z itself.
        check_values(&Softplus::default(), &[(25.0, 25.0)]);
    }

    #[test]
    fn never_overflows() {
        let wide = Softplus { beta: 1.0, threshold: 1e6 };
        assert_eq!(wide.value(1000.0_f64), 1000.0);
        assert_eq!(wide.value(-1000.0_f64), 0.0);
        assert_eq!(wide.derivative(1000.0_f64, 1000.0), 1.0);
        assert_eq!(wide.value(100.0_f32), 100.0);
    }

    #[test]
    fn derivative_matches_central_difference() {
        check_derivative(&Softplus::default(), &[-6.0, -1.0, 0.0, 0.4, 3.0, 25.0]);
        check_derivative(&Softplus { beta: 3.0, threshold: 5.0 }, &[-1.0, 0.5, 2.0]);
    }

    #[test]
    fn slices_have_the_one_by_one_bits() {
        check_slices_match_scalars(&Softplus::default());
        // beta·z on the threshold itself at z = 4 and z = 20.
        check_slices_match_scalars(&Softplus { beta: 0.5, threshold: 2.0 });
    }

    #[test]
    fn beta_must_be_positive() {
        assert!(Softplus { beta: 0.0, threshold: 20.0 }.validate().is_err());
        assert!(Softplus { beta: 1.0, threshold: f64::NAN }.validate().is_err());
    }
}
