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
/// magnitude never exceeds √(2·53·ln 2) ≈ 8.57. The logarithm and the cosine are
/// [`math`](crate::math)'s (the `libm` crate's), not the platform's C library, so the draws are
/// the same bits on every platform.
pub fn standard_normal(rng: &mut SeededRng) -> f64 {
    let radius = (-2.0 * crate::math::ln(1.0 - unit(rng))).sqrt();
    let angle = std::f64::consts::TAU * unit(rng);
    radius * crate::math::cos(angle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known answers, so that every stream of every sweep stays the same from one version to the
    /// next. From this Python, an independent transcription of the formula:
    ///
    /// ```python
    /// M = (1 << 64) - 1
    /// def derive(base, index):
    ///     z = base ^ ((index * 0x9E3779B97F4A7C15 + 0xD1B54A32D192ED03) & M)
    ///     z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    ///     z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    ///     return z ^ (z >> 31)
    /// ```
    #[test]
    fn derived_seeds_are_splitmix64_of_base_and_index() {
        for (base, index, want) in [
            (0x0, 0, 0x8209_b480_faed_1b10_u64),
            (0x1, 0, 0x01d6_0447_fea3_5413),
            (0x0, 1, 0x2d0f_28c7_e7e7_86b2),
            (0x2a, 2, 0x0e30_a117_17e5_781f),
            (u64::MAX, 7, 0xb547_8e94_e4bf_f893),
            (123_456_789, 1000, 0x4e48_91c7_3cb0_d71c),
        ] {
            assert_eq!(derive_seed(base, index), want, "derive_seed({base:#x}, {index})");
        }
    }

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
