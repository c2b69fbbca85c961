//! The one source of randomness: a seeded, portable stream.
//!
//! ChaCha8 gives the same numbers on every platform, OS and thread count, and
//! [`derive_seed`] gives each trial or purpose its own independent stream from one base seed, so
//! a result never depends on what ran before it or beside it.

use rand::SeedableRng;

/// The RNG every seeded operation uses.
pub type SeededRng = rand_chacha::ChaCha8Rng;

/// A fresh stream for `seed`.
pub fn seeded(seed: u64) -> SeededRng {
    SeededRng::seed_from_u64(seed)
}

/// A seed for stream `index` of `base` (SplitMix64 of both): distinct indices give unrelated
/// streams, and the same pair always gives the same seed.
pub fn derive_seed(base: u64, index: u64) -> u64 {
    let mut z = base ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform draw from `[0, 1)` with 53 random bits (the same on every platform).
pub fn unit(rng: &mut SeededRng) -> f64 {
    use rand::RngCore;
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A standard normal draw, N(0, 1), by Box–Muller from two [`unit()`] draws:
/// `√(−2·ln(1 − u₁))·cos(2π·u₂)`.
///
/// Every call consumes exactly two values of the stream (the sine half of the pair is dropped, so
/// the function keeps no state). `1 − u₁` lies in (0, 1], so the logarithm is finite and the
/// magnitude never exceeds √(2·53·ln 2) ≈ 8.57. The randomness is the same on every platform; the
/// result goes through std's `ln` and `cos`, which may differ in the last bit between C maths
/// libraries.
pub fn standard_normal(rng: &mut SeededRng) -> f64 {
    let radius = (-2.0 * libm::log(1.0 - unit(rng))).sqrt();
    let angle = std::f64::consts::TAU * unit(rng);
    radius * libm::cos(angle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_fixed_by_their_seed() {
        let a: Vec<f64> = (0..3)
            .map({
                let mut r = seeded(7);
                move |_| unit(&mut r)
            })
            .collect();
        let b: Vec<f64> = (0..3)
            .map({
                let mut r = seeded(7);
                move |_| unit(&mut r)
            })
            .collect();
        assert_eq!(a, b);
        assert!(a.iter().all(|x| (0.0..1.0).contains(x)));
        assert_ne!(derive_seed(1, 0), derive_seed(1, 1));
        assert_ne!(derive_seed(1, 0), derive_seed(2, 0));
    }

    #[test]
    fn standard_normal_has_mean_0_and_std_1() {
        let n = 100_000;
        let mut rng = seeded(3);
        let xs: Vec<f64> = (0..n).map(|_| standard_normal(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        // Five standard errors: σ/√n for the mean, σ/√(2n) for the standard deviation.
        assert!(mean.abs() < 5.0 / (n as f64).sqrt(), "mean {mean}");
        assert!((var.sqrt() - 1.0).abs() < 5.0 / (2.0 * n as f64).sqrt(), "std {}", var.sqrt());
        assert!(xs.iter().all(|x| x.is_finite() && x.abs() < 8.6));
    }
}
