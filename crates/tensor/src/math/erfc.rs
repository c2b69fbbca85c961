//! `erfc`, the complementary error function: the algorithm and coefficients of FreeBSD's
//! `s_erf.c` (Sun Microsystems, 1993), as musl and the `libm` crate carry them, written across
//! lanes with the library's own exponential so that a slice is computed four at a time.
//!
//! ```text
//! |x| < 0.84375          erfc x = 1 − (x + x·P(x²)/Q(x²))      (x < 1/4)
//!                                = 1/2 − (x − 1/2 + x·P/Q)      (otherwise)
//! 0.84375 ≤ |x| < 1.25   erfc |x| = 1 − erx − P₁(s)/Q₁(s),  s = |x| − 1
//! 1.25 ≤ |x| < 28        erfc |x| = e^(−z² − 0.5625)·e^((z − |x|)(z + |x|) + R(s)/S(s)) / |x|,
//!                        s = 1/x², z = |x| with its low 32 bits cleared, R/S one of two fits
//!                        (below and above |x| = 1/0.35)
//! |x| ≥ 28               0 (x > 0)
//! x ≤ −0.84375           erfc x = 2 − erfc |x|
//! ```
//!
//! Sun's copyright notice: "Developed at SunPro, a Sun Microsystems, Inc. business. Permission
//! to use, copy, modify, and distribute this software is freely granted, provided that this
//! notice is preserved."

// The literals are `s_erf.c`'s own, as printed there.
#![allow(clippy::excessive_precision)]

use super::{FAST_BOUND, exp_each, exp_lanes};

const ERX: f64 = 8.45062911510467529297e-01;
const PP: [f64; 5] = [
    1.28379167095512558561e-01,
    -3.25042107247001499370e-01,
    -2.84817495755985104766e-02,
    -5.77027029648944159157e-03,
    -2.37630166566501626084e-05,
];
const QQ: [f64; 5] = [
    3.97917223959155352819e-01,
    6.50222499887672944485e-02,
    5.08130628187576562776e-03,
    1.32494738004321644526e-04,
    -3.96022827877536812320e-06,
];
const PA: [f64; 7] = [
    -2.36211856075265944077e-03,
    4.14856118683748331666e-01,
    -3.72207876035701323847e-01,
    3.18346619901161753674e-01,
    -1.10894694282396677476e-01,
    3.54783043256182359371e-02,
    -2.16637559486879084300e-03,
];
const QA: [f64; 6] = [
    1.06420880400844228286e-01,
    5.40397917702171048937e-01,
    7.18286544141962662868e-02,
    1.26171219808761642112e-01,
    1.36370839120290507362e-02,
    1.19844998467991074170e-02,
];
/// R and S below |x| = 1/0.35 (`RA`, `SA`) and above it (`RB`, `SB`, one coefficient fewer each,
/// padded with a zero highest term: Horner's first step is then `c + s·0 = c`, exactly `s_erf.c`'s
/// start, so a lane picks its fit's coefficients one by one instead of branching).
const RA: [f64; 8] = [
    -9.86494403484714822705e-03,
    -6.93858572707181764372e-01,
    -1.05586262253232909814e+01,
    -6.23753324503260060396e+01,
    -1.62396669462573470355e+02,
    -1.84605092906711035994e+02,
    -8.12874355063065934246e+01,
    -9.81432934416914548592e+00,
];
const SA: [f64; 8] = [
    1.96512716674392571292e+01,
    1.37657754143519042600e+02,
    4.34565877475229228821e+02,
    6.45387271733267880336e+02,
    4.29008140027567833386e+02,
    1.08635005541779435134e+02,
    6.57024977031928170135e+00,
    -6.04244152148580987438e-02,
];
const RB: [f64; 8] = [
    -9.86494292470009928597e-03,
    -7.99283237680523006574e-01,
    -1.77579549177547519889e+01,
    -1.60636384855821916062e+02,
    -6.37566443368389627722e+02,
    -1.02509513161107724954e+03,
    -4.83519191608651397019e+02,
    0.0,
];
const SB: [f64; 8] = [
    3.03380607434824582924e+01,
    3.25792512996573918826e+02,
    1.53672958608443695994e+03,
    3.19985821950859553908e+03,
    2.55305040643316442583e+03,
    4.74528541206955367215e+02,
    -2.24409524465858183362e+01,
    0.0,
];

/// `|x|` from which the far formula's second fit (`RB`, `SB`) applies: 1/0.35 to the high word.
pub(super) const FIT_SPLIT: f64 = f64::from_bits(0x4006_db6d_0000_0000);

/// `c[0] + s·(c[1] + s·(… + s·c[n−1]))`, Horner's rule in the order `s_erf.c` writes it.
#[inline(always)]
fn horner(s: f64, c: &[f64]) -> f64 {
    c.iter().rev().fold(0.0, |acc, &c| c + s * acc)
}

/// `1 + s·(c[0] + s·(c[1] + …))`: the denominators, whose constant term is 1.
#[inline(always)]
fn one_plus(s: f64, c: &[f64]) -> f64 {
    1.0 + s * horner(s, c)
}

/// `erfc` on `L` lanes, every region's formula computed on every lane and the right one kept,
/// so that each step is one operation across the lanes. Lanes outside the far region feed it
/// `|x| = 2` instead, so that its exponentials stay in the table's range.
#[inline(always)]
pub(super) fn erfc_lanes<const L: usize>(x: [f64; L]) -> [f64; L] {
    // Steps with no lane in the far region skip it, with the same operations on each lane: for
    // standard normal pre-activations in gelu, a third of the steps are all near 0 and three
    // quarters have no lane beyond |x| = 1.25. (NaN is below neither bound.)
    let all_below = |bound: f64| x.iter().fold(true, |ok, x| ok & (x.abs() < bound));
    if all_below(0.84375) {
        return x.map(near);
    }
    if all_below(1.25) {
        return x.map(|x| {
            let (near, mid) = (near(x), mid(x.abs()));
            if x.abs() < 0.84375 {
                near
            } else if x < 0.0 {
                2.0 - mid
            } else {
                mid
            }
        });
    }
    let mut far_x = [0.0; L];
    let mut e_args = [[0.0; L]; 2];
    for i in 0..L {
        let a = x[i].abs();
        let ax = if (1.25..28.0).contains(&a) { a } else { 2.0 };
        far_x[i] = ax;
        let s = 1.0 / (ax * ax);
        // The fit's coefficients picked one by one (a blend per coefficient, not a branch).
        let low = ax < FIT_SPLIT;
        let r_fit: [f64; 8] = std::array::from_fn(|j| if low { RA[j] } else { RB[j] });
        let s_fit: [f64; 8] = std::array::from_fn(|j| if low { SA[j] } else { SB[j] });
        let (r, big_s) = (horner(s, &r_fit), one_plus(s, &s_fit));
        let z = f64::from_bits(ax.to_bits() & 0xffff_ffff_0000_0000);
        e_args[0][i] = -z * z - 0.5625;
        e_args[1][i] = (z - ax) * (z + ax) + r / big_s;
    }
    let in_range = e_args.iter().flatten().fold(true, |ok, x| ok & (x.abs() <= FAST_BOUND));
    // Indexed, not `map`ped: `array::map` left the exponential out of line (perf, 12%).
    let [e0, e1] = if in_range {
        [exp_lanes(e_args[0]), exp_lanes(e_args[1])]
    } else {
        [exp_each(e_args[0]), exp_each(e_args[1])]
    };
    let mut out = [0.0; L];
    for i in 0..L {
        let (x, a) = (x[i], x[i].abs());
        let far = e0[i] * e1[i] / far_x[i];
        let mid = mid(a);
        let near = near(x);
        // erfc of |x| in the two outer regions, then reflected for negative x.
        let positive = if a < 1.25 {
            mid
        } else if a < 28.0 {
            far
        } else {
            0.0
        };
        out[i] = if a < 0.84375 {
            near
        } else if x.is_nan() {
            x
        } else if x < 0.0 {
            2.0 - positive
        } else {
            positive
        };
    }
    out
}

/// `erfc a` for `0.84375 ≤ a < 1.25`.
#[inline(always)]
fn mid(a: f64) -> f64 {
    let s = a - 1.0;
    1.0 - ERX - horner(s, &PA) / one_plus(s, &QA)
}

/// `erfc x` for `|x| < 0.84375`.
#[inline(always)]
fn near(x: f64) -> f64 {
    let z = x * x;
    let y = horner(z, &PP) / one_plus(z, &QQ);
    if x < 0.25 { 1.0 - (x + x * y) } else { 0.5 - (x - 0.5 + x * y) }
}
