//! `ln(1 + x)`: the algorithm and coefficients of FreeBSD's `s_log1p.c` (Sun Microsystems,
//! 1993), as musl and the `libm` crate carry them, written across lanes with each branch's
//! choice made per lane, so that a slice is computed four at a time with the `libm` crate's
//! bits.
//!
//! `1 + x = 2ᵏ·(1 + f)` with `√2/2 ≤ 1 + f < √2` (`k = 0`, `f = x` when `1 + x` is already
//! there), a correction `c` for the rounding of `1 + x`, then with `s = f/(2 + f)`:
//! `ln(1 + x) = k·ln2_hi + (f − (hfsq − (s·(hfsq + R(s²)) + (k·ln2_lo + c))))`, `hfsq = f²/2`,
//! `R` a degree-7 polynomial in `s²`, evaluated as `s_log1p.c` does.
//!
//! Sun's copyright notice: "Developed at SunPro, a Sun Microsystems, Inc. business. Permission
//! to use, copy, modify, and distribute this software is freely granted, provided that this
//! notice is preserved."

// The literals are `s_log1p.c`'s own, as printed there.
#![allow(clippy::excessive_precision)]

const LN2_HI: f64 = 6.93147180369123816490e-01;
const LN2_LO: f64 = 1.90821492927058770002e-10;
const LG1: f64 = 6.666666666666735130e-01;
const LG2: f64 = 3.999999999940941908e-01;
const LG3: f64 = 2.857142874366239149e-01;
const LG4: f64 = 2.222219843214978396e-01;
const LG5: f64 = 1.818357216161805012e-01;
const LG6: f64 = 1.531383769920937332e-01;
const LG7: f64 = 1.479819860511658591e-01;

/// `ln(1 + x)` on `L` lanes: `s_log1p.c`'s operations, both reductions computed on every lane
/// and the right one kept. Lanes with `x ≤ −1`, `+∞` or NaN go to the `libm` crate's `log1p`.
#[inline(always)]
pub(super) fn ln_1p_lanes<const L: usize>(x: [f64; L]) -> [f64; L] {
    let mut f = [0.0; L];
    let mut c = [0.0; L];
    let mut dk = [0.0; L];
    for i in 0..L {
        let x = x[i];
        let hx = (x.to_bits() >> 32) as u32;
        // √2/2 ≤ 1 + x < √2 (to the high word): no reduction.
        let unreduced = if hx >> 31 != 0 { hx <= 0xbfd2_bec4 } else { hx < 0x3fda_827a };
        let u = 1.0 + x;
        let ui = u.to_bits();
        let hu = ((ui >> 32) as u32).wrapping_add(0x3ff0_0000 - 0x3fe6_a09e);
        let k = (hu >> 20) as i32 - 0x3ff;
        let correction = if k >= 2 { 1.0 - (u - x) } else { x - (u - 1.0) };
        let c_reduced = if k < 54 { correction / u } else { 0.0 };
        let hu = (hu & 0x000f_ffff) + 0x3fe6_a09e;
        let f_reduced = f64::from_bits((u64::from(hu) << 32) | (ui & 0xffff_ffff)) - 1.0;
        (f[i], c[i], dk[i]) = if unreduced { (x, 0.0, 0.0) } else { (f_reduced, c_reduced, f64::from(k)) };
    }
    let mut out = [0.0; L];
    let mut special = false;
    for i in 0..L {
        let f = f[i];
        let hfsq = 0.5 * f * f;
        let s = f / (2.0 + f);
        let z = s * s;
        let w = z * z;
        let t1 = w * (LG2 + w * (LG4 + w * LG6));
        let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
        let r = t2 + t1;
        let y = s * (hfsq + r) + (dk[i] * LN2_LO + c[i]) - hfsq + f + dk[i] * LN2_HI;
        // |x| < 2⁻⁵³: x itself (±0 included).
        let tiny = ((x[i].to_bits() >> 32) as u32) << 1 < 0x3ca0_0000 << 1;
        out[i] = if tiny { x[i] } else { y };
        special |= !(x[i] > -1.0 && x[i] < f64::INFINITY);
    }
    if special { with_specials(x, out) } else { out }
}

/// The lanes with `x ≤ −1`, `+∞` or NaN from the `libm` crate, the others as computed: out of
/// line, so the vector path's code does not depend on it.
#[cold]
#[inline(never)]
fn with_specials<const L: usize>(x: [f64; L], mut out: [f64; L]) -> [f64; L] {
    for (y, &x) in out.iter_mut().zip(&x) {
        if !(x > -1.0 && x < f64::INFINITY) {
            *y = libm::log1p(x);
        }
    }
    out
}
