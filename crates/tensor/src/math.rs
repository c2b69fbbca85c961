//! Elementary functions the library computes itself: one algorithm, the same bits on every
//! machine, and a slice form the compiler vectorises.
//!
//! # `exp`
//! With `N = 128`, `k = round(x·N/ln 2)` and `r = x − k·(ln 2/N)` (Cody–Waite: `ln 2/N` split
//! into a 36-bit head, so `k·head` is exact, and a rounded tail), `|r| ≤ ln 2/256` and
//!
//! `eˣ = 2^(k/N)·eʳ = s·(1 + tail + r + r²·(1/2 + r/6) + r⁴·(1/24 + r/120))`, rounded as
//! `s + s·(…)`,
//!
//! where `2^(k/N) = s·(1 + tail)`: `s = 2^⌊k/N⌋·head` and `tail` come from a 128-entry table
//! (`math/exp_table.rs`, written from exact arithmetic by `math/make_exp_table.py`). The
//! polynomial is eʳ's Taylor series to r⁵; what it leaves out is below 2⁻⁶⁰ of the result. This is
//! the scheme of the Arm optimized-routines `exp` that glibc and musl ship, without contracted
//! multiply-adds, so results agree with the C library's `exp` in all but a few last bits (tested
//! on 200,000 arguments over the whole range: all within 1 ulp, 99.88% bit for bit). Every
//! operation is a plain IEEE multiply or add, so the result does not depend on the CPU or on how
//! many lanes ran at once.
//!
//! Arguments with `|x| > 708` (overflow, results near or below the smallest normal double) and
//! NaN go to the `libm` crate's `exp` (below).
//!
//! f32 values are computed in f64 and rounded once.
//!
//! # Slice forms
//! [`exp_in_place`] and [`map_exp`] (`post(exp(pre(x)))` in one pass, what sigmoid needs) run four
//! elements at a time, each step of the scheme one operation across the four lanes. They are
//! compiled twice, for the build's baseline (SSE2: two lanes per instruction) and for AVX2 (four),
//! and the CPU picks at run time (the `multiversion` crate); the operations are the same, and
//! neither build contracts multiply-adds, so the bits are too.
//!
//! # `tanh`
//! Cephes' rational function below `|x| = 0.625`, `±(1 − 2/(e^(2|x|) + 1))` from there with the
//! exponential's scheme above, in plain IEEE operations: within 2 ulps of the C library's
//! `tanh`, and four at a time in [`tanh_slice`] with the same bits (see [`tanh`]).
//!
//! # `exp_m1`, `ln_1p`, `erfc`: what activations need four at a time
//! [`exp_m1`] is `exp`'s reduction with the 1 taken off before the sum (within 2 ulps of the C
//! library's). [`ln_1p`] and [`erfc`] are FreeBSD's algorithms, as musl and the `libm` crate
//! have them, written across lanes (`math/log1p.rs`, `math/erfc.rs`): `ln_1p` with the `libm`
//! crate's bits, `erfc` with [`exp`] for its exponentials (within 3 ulps of `libm`'s). Each has a
//! four-lane form ([`exp_m1_4`], [`ln_1p4`], [`erfc4`], beside [`exp4`]) for kernels that
//! [`lanes_map`] and [`lanes_map3`] run over slices: the activations' slice passes.
//!
//! # The other functions: [`ln`], [`powf`], [`sin`], [`cos`], [`log10`]
//! The standard library's `f64::ln` and the like call the platform's C maths library, whose last
//! bits differ between C libraries (glibc, musl, macOS's) and, within glibc, between the builds it
//! picks by CPU feature (with and without FMA). These go to the `libm` crate instead, a Rust
//! translation of musl's (within 1 ulp of glibc, tested): plain Rust arithmetic, the same bits on
//! every machine. f32 values are computed in f64 and rounded once, as for `exp`. The workspace's
//! `clippy.toml` refuses the standard library's forms.

mod erfc;
#[rustfmt::skip]
mod exp_table;
mod log1p;

use exp_table::{INV_LN2_N, LN2_HI_N, LN2_LO_N, TABLE};

use crate::Element;

/// Beyond this `|x|` the table path would leave the normal range; the standard library answers.
const FAST_BOUND: f64 = 708.0;
/// Adding then subtracting `1.5·2⁵²` rounds to the nearest integer and leaves it in the low bits.
const SHIFT: f64 = 6755399441055744.0;
/// Elements per step of the slice forms and of the four-lane functions ([`exp4`], …): one AVX2
/// register of f64.
pub const LANES: usize = 4;

/// `eˣ` for `|x| ≤ 708` (the module's formula) on each of `L` lanes, written step by step
/// across the lanes so that, for four lanes, each step becomes one vector instruction (only the
/// table reads stay scalar). One lane is the scalar [`exp_f64`].
#[inline(always)]
fn exp_lanes<const L: usize>(x: [f64; L]) -> [f64; L] {
    let (s, sum) = exp_parts(x);
    std::array::from_fn(|i| s[i] + s[i] * sum[i])
}

/// `eˣ − 1` for `|x| ≤ 708` on each of `L` lanes: [`exp_lanes`]' reduction, with the 1 taken
/// from the table's power before the rest is added, `(s − 1) + s·(tail + p(r))`. Near 0
/// (`k = 0`: `s = 1`, `tail = 0`, `r = x`) that is the polynomial alone, `x + x²/2 + …`, with no
/// cancellation; elsewhere `s − 1` is exact (Sterbenz) or as large as the result, and the two
/// terms cancel at most by half. `x = ±0` gives `x`.
#[inline(always)]
fn exp_m1_lanes<const L: usize>(x: [f64; L]) -> [f64; L] {
    let (s, sum) = exp_parts(x);
    std::array::from_fn(|i| if x[i] == 0.0 { x[i] } else { (s[i] - 1.0) + s[i] * sum[i] })
}

/// The module's reduction of `eˣ` on each of `L` lanes: `(s, sum)` with `eˣ ≈ s + s·sum`.
#[inline(always)]
fn exp_parts<const L: usize>(x: [f64; L]) -> ([f64; L], [f64; L]) {
    let mut k_bits = [0u64; L];
    let mut r = [0.0; L];
    for i in 0..L {
        let shifted = x[i] * INV_LN2_N + SHIFT;
        k_bits[i] = shifted.to_bits();
        let k = shifted - SHIFT;
        r[i] = x[i] - k * LN2_HI_N - k * LN2_LO_N;
    }
    // k mod 128 (two's complement in the low bits) picks the entry; k's higher bits the exponent.
    let mut tail = [0.0; L];
    let mut s = [0.0; L];
    for i in 0..L {
        let (t, head_bits) = TABLE[(k_bits[i] % 128) as usize];
        tail[i] = f64::from_bits(t);
        s[i] = f64::from_bits(head_bits.wrapping_add(k_bits[i] << 45));
    }
    let mut sum = [0.0; L];
    for i in 0..L {
        let (r, r2) = (r[i], r[i] * r[i]);
        sum[i] = tail[i] + r + r2 * (0.5 + r * (1.0 / 6.0)) + r2 * r2 * (1.0 / 24.0 + r * (1.0 / 120.0));
    }
    (s, sum)
}

/// `eˣ` in f64 (the module's algorithm).
#[inline]
pub fn exp_f64(x: f64) -> f64 {
    if x.abs() <= FAST_BOUND { exp_lanes([x])[0] } else { libm::exp(x) }
}

/// `eˣ` (for f32, computed in f64 and rounded once).
#[inline]
pub fn exp<F: Element>(x: F) -> F {
    F::of(exp_f64(x.f64()))
}

/// `x ← eˣ` for every element: the same bits as [`exp`] on each, four at a time.
pub fn exp_in_place<F: Element>(xs: &mut [F]) {
    map_lanes(None, xs, |x| x, |e| e);
}

/// `eˣ − 1`, exact near 0 (for f32, computed in f64 and rounded once): [`exp`]'s scheme with the
/// 1 taken off before the rest is added, within 2 ulps of the C library's `expm1` (tested);
/// beyond `|x| = 708`, and for NaN, the `libm` crate's `expm1`. `exp_m1(±0) = ±0`.
#[inline]
pub fn exp_m1<F: Element>(x: F) -> F {
    F::of(exp_m1_f64(x.f64()))
}

fn exp_m1_f64(x: f64) -> f64 {
    if x.abs() <= FAST_BOUND { exp_m1_lanes([x])[0] } else { libm::expm1(x) }
}

/// `erfc x = 1 − erf x`, the complementary error function (for f32, computed in f64 and
/// rounded once): FreeBSD's algorithm, as musl and the `libm` crate have it (`math/erfc.rs`),
/// with [`exp`] for its exponentials, so within 3 ulps of the `libm` crate's `erfc` and its
/// bits where no exponential is taken, `|x| < 1.25` (tested); four at a time by [`erfc4`].
#[inline]
pub fn erfc<F: Element>(x: F) -> F {
    F::of(erfc::erfc_lanes([x.f64()])[0])
}

/// `ln(1 + x)`, exact near 0 (for f32, computed in f64 and rounded once): FreeBSD's
/// `s_log1p.c` written across lanes (`math/log1p.rs`), with the `libm` crate's `log1p` bits
/// (tested), and four at a time by [`ln_1p4`].
#[inline]
pub fn ln_1p<F: Element>(x: F) -> F {
    F::of(log1p::ln_1p_lanes([x.f64()])[0])
}

/// [`ln_1p`] on four values, with its bits on each.
#[inline(always)]
pub fn ln_1p4<F: Element>(x: [F; LANES]) -> [F; LANES] {
    log1p::ln_1p_lanes(x.map(|x| x.f64())).map(F::of)
}

/// [`exp`] on four values, with its bits on each: a step of a slice form ([`lanes_map`]).
/// Inlined, so it runs at the caller's instruction set.
#[inline(always)]
pub fn exp4<F: Element>(x: [F; LANES]) -> [F; LANES] {
    four(&x, |x| x, |e| e)
}

/// [`exp_m1`] on four values, with its bits on each.
#[inline(always)]
pub fn exp_m1_4<F: Element>(x: [F; LANES]) -> [F; LANES] {
    let v = x.map(|x| x.f64());
    let in_range = v.iter().fold(true, |ok, x| ok & (x.abs() <= FAST_BOUND));
    let e = if in_range { exp_m1_lanes(v) } else { exp_m1_each(v) };
    e.map(F::of)
}

/// [`exp_m1_f64`] lane by lane, out of line (see [`exp_each`]).
#[cold]
#[inline(never)]
fn exp_m1_each(v: [f64; LANES]) -> [f64; LANES] {
    v.map(exp_m1_f64)
}

/// [`erfc`] on four values, with its bits on each.
#[inline(always)]
pub fn erfc4<F: Element>(x: [F; LANES]) -> [F; LANES] {
    erfc::erfc_lanes(x.map(|x| x.f64())).map(F::of)
}

/// A function on [`LANES`] values at a time, for [`lanes_map`]: written step by step across the
/// lanes with [`exp4`], [`erfc4`], … so that each step is one vector operation.
///
/// A trait and not a closure because the method can be `#[inline(always)]` (a closure cannot be
/// marked so on stable Rust), so that it is compiled into each of [`lanes_map`]'s builds, AVX2
/// included, instead of called at the baseline's instruction set.
pub trait Lanes<F>: Copy {
    /// The function on four values.
    fn lanes(&self, x: [F; LANES]) -> [F; LANES];
}

/// A function of three values on [`LANES`] at a time, for [`lanes_map3`] (see [`Lanes`]).
pub trait Lanes3<F>: Copy {
    /// The function on four triples.
    fn lanes(&self, x: [F; LANES], y: [F; LANES], w: [F; LANES]) -> [F; LANES];
}

/// `dst ← kernel(src)`, [`LANES`] elements at a time: how an element-wise function written
/// across four lanes runs over a slice. Compiled for the build's baseline and for AVX2, picked
/// at run time as for [`map_exp`]; the kernel is inlined into both, with the same operations, so
/// the same bits. The last, partial step runs the kernel on the remaining elements padded with
/// zeros, whose results are dropped (lanes do not mix).
///
/// # Panics
/// When `src` and `dst` differ in length.
pub fn lanes_map<F: Element>(src: &[F], dst: &mut [F], kernel: impl Lanes<F>) {
    assert_eq!(src.len(), dst.len(), "lanes_map over slices of different lengths");
    lanes_map_any(src, dst, kernel);
}

#[multiversion::multiversion(targets("x86_64+avx2"))]
fn lanes_map_any<F: Element>(src: &[F], dst: &mut [F], kernel: impl Lanes<F>) {
    let (mut from, mut to) = (src.chunks_exact(LANES), dst.chunks_exact_mut(LANES));
    for (x, y) in (&mut from).zip(&mut to) {
        y.copy_from_slice(&kernel.lanes(whole(x)));
    }
    let rest = to.into_remainder();
    if !rest.is_empty() {
        rest.copy_from_slice(&kernel.lanes(padded(from.remainder()))[..rest.len()]);
    }
}

/// `dst ← kernel(x, y, w)` on three slices of `dst`'s length, [`LANES`] elements at a time, as
/// [`lanes_map`]: what an activation's backward pass (`z`, `a`, `∂C/∂a` → `∂C/∂z`) needs.
///
/// # Panics
/// When the slices differ in length.
pub fn lanes_map3<F: Element>(x: &[F], y: &[F], w: &[F], dst: &mut [F], kernel: impl Lanes3<F>) {
    let len = dst.len();
    assert!(x.len() == len && y.len() == len && w.len() == len, "lanes_map3 over slices of different lengths");
    lanes_map3_any(x, y, w, dst, kernel);
}

#[multiversion::multiversion(targets("x86_64+avx2"))]
fn lanes_map3_any<F: Element>(x: &[F], y: &[F], w: &[F], dst: &mut [F], kernel: impl Lanes3<F>) {
    let split = dst.len() / LANES * LANES;
    let (x, y, w) = (&x[..dst.len()], &y[..dst.len()], &w[..dst.len()]);
    let steps = x[..split].chunks_exact(LANES).zip(y[..split].chunks_exact(LANES)).zip(w[..split].chunks_exact(LANES));
    for (((x, y), w), out) in steps.zip(dst.chunks_exact_mut(LANES)) {
        out.copy_from_slice(&kernel.lanes(whole(x), whole(y), whole(w)));
    }
    let rest = &mut dst[split..];
    if !rest.is_empty() {
        let out = kernel.lanes(padded(&x[split..]), padded(&y[split..]), padded(&w[split..]));
        rest.copy_from_slice(&out[..rest.len()]);
    }
}

/// A step's [`LANES`] elements as an array.
#[inline(always)]
fn whole<F: Element>(xs: &[F]) -> [F; LANES] {
    xs.try_into().expect("a whole step")
}

/// Up to [`LANES`] elements as an array, zeros after them.
#[inline(always)]
fn padded<F: Element>(xs: &[F]) -> [F; LANES] {
    std::array::from_fn(|i| xs.get(i).copied().unwrap_or(F::zero()))
}

/// `dst[i] = post(exp(pre(src[i])))` for every element, with [`exp`]'s bits, four elements at a
/// time in one pass: what an activation such as σ(z) = 1/(1 + e^(−z)) needs (`pre` negates,
/// `post` takes the reciprocal) without three passes over its buffer. `pre` and `post` run in
/// `F`, so each element gets exactly the bits of `post(exp(pre(x)))` written one at a time.
///
/// On an x86-64 CPU with AVX2 (detected at run time, once; each call reads the cached answer) the
/// four lanes are one AVX2 register; the operations, and so the bits, are the same as without it.
///
/// # Panics
/// When `src` and `dst` differ in length.
#[inline]
pub fn map_exp<F: Element>(src: &[F], dst: &mut [F], pre: impl Fn(F) -> F + Copy, post: impl Fn(F) -> F + Copy) {
    assert_eq!(src.len(), dst.len(), "map_exp over slices of different lengths");
    map_lanes(Some(src), dst, pre, post);
}

/// `post(exp(pre(x)))` on four values held in registers, with [`exp`]'s bits on each: one step
/// of [`map_exp`] as a function of an array, for a kernel that keeps four rows of a unit in one
/// `[F; 4]` (`docs/bench/w1_lanes_const.rs`). Inlined, so it runs at the caller's instruction
/// set: four lanes per instruction in code compiled for AVX2, two in the baseline's.
#[inline(always)]
pub fn map_exp4<F: Element>(xs: [F; LANES], pre: impl Fn(F) -> F, post: impl Fn(F) -> F) -> [F; LANES] {
    four(&xs, pre, post)
}

/// [`lanes`] compiled twice, for the build's baseline and for AVX2; the CPU picks at run time.
#[multiversion::multiversion(targets("x86_64+avx2"))]
fn map_lanes<F: Element>(src: Option<&[F]>, dst: &mut [F], pre: impl Fn(F) -> F + Copy, post: impl Fn(F) -> F + Copy) {
    lanes(src, dst, pre, post);
}

/// `dst[i] = post(exp(pre(x)))` with `x = src[i]`, or `dst[i]` itself without `src`.
#[inline(always)]
fn lanes<F: Element>(src: Option<&[F]>, dst: &mut [F], pre: impl Fn(F) -> F + Copy, post: impl Fn(F) -> F + Copy) {
    let one = |x: F| post(exp(pre(x)));
    match src {
        Some(src) => {
            let (mut from, mut to) = (src.chunks_exact(LANES), dst.chunks_exact_mut(LANES));
            for (from, to) in (&mut from).zip(&mut to) {
                to.copy_from_slice(&four(from, pre, post));
            }
            for (x, y) in from.remainder().iter().zip(to.into_remainder()) {
                *y = one(*x);
            }
        }
        None => {
            let mut chunks = dst.chunks_exact_mut(LANES);
            for chunk in &mut chunks {
                let e = four(chunk, pre, post);
                chunk.copy_from_slice(&e);
            }
            for y in chunks.into_remainder() {
                *y = one(*y);
            }
        }
    }
}

/// `post(exp(pre(x)))` on four elements, step by step across the lanes.
#[inline(always)]
fn four<F: Element>(xs: &[F], pre: impl Fn(F) -> F, post: impl Fn(F) -> F) -> [F; LANES] {
    let mut v = [0.0; LANES];
    for (v, x) in v.iter_mut().zip(xs) {
        *v = pre(*x).f64();
    }
    // `&`, not a short-circuit `all`: one vector compare, and a branch LLVM cannot split into
    // per-lane branches interleaved with the fallback (which it did in some builds, +25%
    // instructions for the same bits).
    let in_range = v.iter().fold(true, |ok, x| ok & (x.abs() <= FAST_BOUND));
    let e = if in_range { exp_lanes(v) } else { exp_each(v) };
    e.map(|e| post(F::of(e)))
}

/// [`exp_f64`] lane by lane, for a step with an argument beyond the table's range: out of line,
/// so the vector path's code does not depend on it (also `erfc`'s).
#[cold]
#[inline(never)]
fn exp_each<const L: usize>(v: [f64; L]) -> [f64; L] {
    v.map(exp_f64)
}

/// Below this `|x|`, [`tanh`] is Cephes' rational function; from it, `1 − 2/(e^(2|x|) + 1)`.
const TANH_SMALL: f64 = 0.625;
/// Beyond this `|x|`, `tanh x` rounds to ±1 (from about 19.06), so the exponential's argument
/// stays in the table's range.
const TANH_CLAMP: f64 = 20.0;
/// Cephes' `tanh` rational function on `|x| < 0.625` (S. L. Moshier's Cephes Math Library, as
/// Go's `math.Tanh` uses it): `tanh x = x + x·s·P(s)/Q(s)`, `s = x²` (`P` highest power first;
/// `Q` monic). The literals are Cephes' own.
#[allow(clippy::excessive_precision)]
const TANH_P: [f64; 3] = [-9.64399179425052238628E-1, -9.92877231001918586564E1, -1.61468768441708447952E3];
#[allow(clippy::excessive_precision)]
const TANH_Q: [f64; 3] = [1.12811678491632931402E2, 2.23548839060100448583E3, 4.84406305325125486048E3];

/// `tanh` on `L` lanes, step by step across them (see [`tanh`]).
#[inline(always)]
fn tanh_lanes<const L: usize>(x: [f64; L]) -> [f64; L] {
    let mut twice = [0.0; L];
    for i in 0..L {
        // NaN stays NaN (`NaN > c` is false) and comes out of the exponential as NaN.
        let a = x[i].abs();
        twice[i] = 2.0 * if a > TANH_CLAMP { TANH_CLAMP } else { a };
    }
    let e = exp_lanes(twice);
    let mut out = [0.0; L];
    for i in 0..L {
        let (x, a) = (x[i], x[i].abs());
        let far = (1.0 - 2.0 / (e[i] + 1.0)).copysign(x);
        let s = x * x;
        let p = (TANH_P[0] * s + TANH_P[1]) * s + TANH_P[2];
        let q = ((s + TANH_Q[0]) * s + TANH_Q[1]) * s + TANH_Q[2];
        let near = x + x * s * (p / q);
        // `x` itself at ±0, so that tanh(−0) = −0.
        out[i] = if a >= TANH_SMALL || a.is_nan() {
            far
        } else if a == 0.0 {
            x
        } else {
            near
        };
    }
    out
}

/// `tanh x`, in plain IEEE operations (the same bits on every machine), the library's own:
///
/// - `|x| < 0.625`: `x + x·s·P(s)/Q(s)` with `s = x²`, Cephes' rational function (relative
///   error about 1e-16, no cancellation near 0);
/// - otherwise `±(1 − 2/(e^(2|x|) + 1))`, `e^(…)` from [`exp`]'s scheme, `|x|` clamped at 20
///   (where tanh rounds to ±1).
///
/// Within 2 ulps of the C library's `tanh` (tested); f32 computed in f64 and rounded once.
/// [`tanh_slice`] gives the same bits four at a time.
#[inline]
pub fn tanh<F: Element>(x: F) -> F {
    F::of(tanh_lanes([x.f64()])[0])
}

/// `dst[i] = tanh(src[i])` for every element, with [`tanh`]'s bits, four at a time (AVX2 where
/// the CPU has it, picked at run time, as for [`map_exp`]).
///
/// # Panics
/// When `src` and `dst` differ in length.
pub fn tanh_slice<F: Element>(src: &[F], dst: &mut [F]) {
    assert_eq!(src.len(), dst.len(), "tanh_slice over slices of different lengths");
    tanh_map(src, dst);
}

#[multiversion::multiversion(targets("x86_64+avx2"))]
fn tanh_map<F: Element>(src: &[F], dst: &mut [F]) {
    let (mut from, mut to) = (src.chunks_exact(LANES), dst.chunks_exact_mut(LANES));
    for (from, to) in (&mut from).zip(&mut to) {
        let t = tanh_lanes(std::array::from_fn::<f64, LANES, _>(|i| from[i].f64()));
        for (y, t) in to.iter_mut().zip(t) {
            *y = F::of(t);
        }
    }
    for (x, y) in from.remainder().iter().zip(to.into_remainder()) {
        *y = tanh(*x);
    }
}

/// Each `fn name(x)` as `F::of(libm::that(x.f64()))`: the `libm` crate's function in f64,
/// rounded once to `F`.
macro_rules! from_libm {
    ($($(#[$doc:meta])* $name:ident => $libm:ident;)*) => {$(
        $(#[$doc])*
        #[inline]
        pub fn $name<F: Element>(x: F) -> F {
            F::of(libm::$libm(x.f64()))
        }
    )*};
}

from_libm! {
    /// `ln x`, the natural logarithm (the `libm` crate's `log`).
    ln => log;
    /// `sin x` (the `libm` crate's).
    sin => sin;
    /// `cos x` (the `libm` crate's).
    cos => cos;
    /// `log₁₀ x` (the `libm` crate's).
    log10 => log10;
}

/// `xʸ` (the `libm` crate's `pow`).
#[inline]
pub fn powf<F: Element>(x: F, y: F) -> F {
    F::of(libm::pow(x.f64(), y.f64()))
}

#[cfg(test)]
mod tests {
    // The tests compare with the C library's functions on purpose.
    #![allow(clippy::disallowed_methods)]
    use super::*;
    use crate::rng::{seeded, unit};

    /// Distance in units in the last place between two finite doubles of the same sign.
    fn ulps(a: f64, b: f64) -> u64 {
        a.to_bits().abs_diff(b.to_bits())
    }

    /// `a` and `b` equal, or of one sign and at most `most` ulps apart.
    fn within(a: f64, b: f64, most: u64) -> bool {
        a == b || (a.signum() == b.signum() && ulps(a, b) <= most)
    }

    #[test]
    fn agrees_with_the_c_library_to_one_ulp_and_mostly_exactly() {
        let mut rng = seeded(7);
        let (mut same, total) = (0usize, 200_000usize);
        for i in 0..total {
            // Half over the whole fast range, half near 0 where sigmoids live.
            let x = if i % 2 == 0 { (unit(&mut rng) * 2.0 - 1.0) * FAST_BOUND } else { (unit(&mut rng) - 0.5) * 40.0 };
            let (ours, libc) = (exp_f64(x), x.exp());
            assert!(ulps(ours, libc) <= 1, "exp({x:e}) = {ours:e}, C library {libc:e}");
            same += usize::from(ours == libc);
        }
        // The C library contracts multiply-adds and fits its polynomial, so a few last bits differ
        // (0.12% here); one wrong table entry alone would be wrong on 1/128 = 0.8% of arguments.
        assert!(same * 1000 >= total * 995, "only {same} of {total} agree exactly");
    }

    /// The `libm` crate's functions against the C library's (glibc here), each on arguments
    /// drawn over where the library uses it: the same function to within an ulp or two (a wrong
    /// function, a swapped argument or a lost `1 +` is off by far more), mostly to the bit, and in
    /// f32 (rounded once from f64) the C library's bits on every argument drawn.
    #[test]
    fn the_other_functions_agree_with_the_c_library() {
        // (name, ours, the C library's, range, most ulps apart).
        type Case = (&'static str, fn(f64) -> f64, fn(f64) -> f64, (f64, f64), u64);
        let cases: [Case; 5] = [
            ("ln", ln::<f64>, f64::ln, (1e-300, 1e300), 1),
            ("ln_1p", ln_1p::<f64>, f64::ln_1p, (-0.999, 50.0), 1),
            ("sin", sin::<f64>, f64::sin, (-10.0, 10.0), 1),
            ("cos", cos::<f64>, f64::cos, (-10.0, 10.0), 1),
            ("log10", log10::<f64>, f64::log10, (1e-300, 1e300), 1),
        ];
        let mut rng = seeded(11);
        for (name, ours, libc, (lo, hi), most) in cases {
            let mut same = 0;
            for _ in 0..20_000 {
                let u = unit(&mut rng);
                // Logarithms over decades, the others uniformly.
                let x = if lo > 0.0 { (lo.ln() + u * (hi.ln() - lo.ln())).exp() } else { lo + u * (hi - lo) };
                let (a, b) = (ours(x), libc(x));
                assert!(within(a, b, most), "{name}({x:e}) = {a:e}, C {b:e}");
                same += usize::from(a == b);
                let x32 = f64::from(x as f32);
                assert_eq!(ours(x32) as f32, libc(x32) as f32, "{name}({x32:e}) in f32");
            }
            // The fewest exact: sin and cos, 96.9%.
            assert!(same >= 19_200, "{name}: only {same} of 20000 the C library's bits");
        }
        for (x, y) in [(0.9, 3.0), (0.999, 20_000.0), (10.0, -2.5), (2.0, 0.5)] {
            let (a, b) = (powf(x, y), f64::powf(x, y));
            assert!(ulps(a, b) <= 1, "{x}^{y} = {a:e}, C {b:e}");
        }
        // The generic forms in f32: computed in f64, rounded once.
        assert_eq!(ln(2.0f32), 2.0f64.ln() as f32);
    }

    /// The library's tanh against the C library's: within 2 ulps everywhere drawn, most of it
    /// to the bit (a wrong coefficient, branch point or sign is off by far more), its special
    /// values, and the slice form's bits at every length and lane position.
    #[test]
    fn tanh_is_within_two_ulps_of_the_c_library() {
        let mut rng = seeded(5);
        let (mut same, n) = (0, 200_000);
        for i in 0..n {
            // Half where the rational function and the first exponentials are, half out to ±25.
            let x = if i % 2 == 0 { (unit(&mut rng) - 0.5) * 4.0 } else { (unit(&mut rng) - 0.5) * 50.0 };
            let (ours, libc) = (tanh(x), x.tanh());
            assert!(within(ours, libc, 2), "tanh({x:e}) = {ours:e}, C {libc:e}");
            same += usize::from(ours == libc);
        }
        // 87% here; the C library computes in other steps.
        assert!(same * 100 >= n * 85, "only {same} of {n} the C library's bits");
        for (x, want) in [(0.0, 0.0), (1.0, 0.7615941559557649), (20.0, 1.0), (1e300, 1.0), (f64::INFINITY, 1.0)] {
            assert_eq!((tanh(x), tanh(-x)), (want, -want), "tanh(±{x})");
        }
        assert!(tanh(-0.0f64).is_sign_negative() && tanh(0.0f64).is_sign_positive());
        assert!(tanh(f64::NAN).is_nan());
        assert_eq!(tanh(0.5f32), 0.5f64.tanh() as f32);
        // Both sides of the branch point and of the clamp.
        for x in [0.625, 0.625f64.next_down(), 19.0, 20.5, 1e-300, 5e-324] {
            assert!(ulps(tanh(x), x.tanh()) <= 2, "tanh({x:e}) = {:e}, C {:e}", tanh(x), x.tanh());
        }
        for len in 0..=9 {
            for odd in [None, Some(f64::NAN), Some(-0.0), Some(f64::NEG_INFINITY)] {
                let mut xs: Vec<f64> = (0..len).map(|_| (unit(&mut rng) - 0.5) * 6.0).collect();
                if let (Some(v), Some(first)) = (odd, xs.first_mut()) {
                    *first = v;
                }
                let mut ys = vec![7.0; len];
                tanh_slice(&xs, &mut ys);
                let one_by_one: Vec<u64> = xs.iter().map(|&x| tanh(x).to_bits()).collect();
                assert_eq!(ys.iter().map(|y| y.to_bits()).collect::<Vec<_>>(), one_by_one, "{xs:?}");
            }
        }
    }

    /// The library's `exp_m1` against the C library's: within 2 ulps near 0 (where the 1 is
    /// taken off before the sum), over the sigmoid range and over the whole table range, most of
    /// it to the bit; its special values; four lanes with the scalar bits whatever lanes fall
    /// beyond the table.
    #[test]
    fn exp_m1_is_within_two_ulps_of_the_c_library() {
        let mut rng = seeded(13);
        let (mut same, n) = (0, 150_000);
        for i in 0..n {
            let u = unit(&mut rng) - 0.5;
            let x = match i % 3 {
                0 => u * 0.05,
                1 => u * 40.0,
                _ => u * 2.0 * FAST_BOUND,
            };
            let (ours, libc) = (exp_m1(x), x.exp_m1());
            assert!(within(ours, libc, 2), "exp_m1({x:e}) = {ours:e}, C {libc:e}");
            same += usize::from(ours == libc);
        }
        assert!(same * 100 >= n * 85, "only {same} of {n} the C library's bits");
        for x in [1e-300, -1e-300, 5e-324, 1e-17, -3e-9, 0.75, -0.75, 1.0, -1.0, 707.9, -707.9, 708.5, -745.0, 709.7] {
            assert!(ulps(exp_m1(x), x.exp_m1()) <= 2, "exp_m1({x:e}) = {:e}, C {:e}", exp_m1(x), x.exp_m1());
        }
        assert!(exp_m1(-0.0f64).is_sign_negative() && exp_m1(0.0f64) == 0.0 && exp_m1(0.0f64).is_sign_positive());
        assert_eq!((exp_m1(f64::INFINITY), exp_m1(f64::NEG_INFINITY), exp_m1(-800.0)), (f64::INFINITY, -1.0, -1.0));
        assert!(exp_m1(f64::NAN).is_nan());
        assert_eq!(exp_m1(0.3f32), 0.3f32.exp_m1());
        let inside = [0.5, -3.25, 1e-9, -700.0];
        for outside in [-750.0, 710.0, f64::INFINITY, f64::NAN] {
            for mask in 0..16 {
                let xs: [f64; 4] = std::array::from_fn(|i| if mask >> i & 1 == 1 { outside } else { inside[i] });
                assert_eq!(exp_m1_4(xs).map(f64::to_bits), xs.map(|x| exp_m1(x).to_bits()), "{xs:?}");
            }
        }
    }

    /// The library's `ln_1p` is the `libm` crate's `log1p` to the bit (its algorithm, the same
    /// operations), on both reductions, their edges, the tiny and the special arguments; four
    /// lanes with the scalar bits whatever lanes are special.
    #[test]
    fn ln_1p_is_libm_s_to_the_bit() {
        let mut rng = seeded(23);
        for i in 0..200_000 {
            let u = unit(&mut rng);
            let x = match i % 4 {
                0 => u - 0.5,
                1 => u * 1.4 - 1.0,
                2 => 1e-20 * (u - 0.5),
                _ => (u * 1400.0 - 700.0).exp(),
            };
            assert_eq!(ln_1p(x).to_bits(), libm::log1p(x).to_bits(), "ln_1p({x:e})");
        }
        // The reductions' bounds on the high word exactly (`0x3fda827a`, `0xbfd2bec4`), with
        // the lowest and highest low words, and 1 + x around 2⁵⁴ (`k` = 53 and 54).
        let high_words =
            [0x3fda_827a_0000_0000u64, 0x3fda_827a_ffff_ffff, 0xbfd2_bec4_0000_0000, 0xbfd2_bec4_ffff_ffff];
        let edges = [0.0, 1.1e-16, 0.41421356, -0.29289321, 1.0, -1.0, 2.0, 1e16, 1.8e16, 1e300, f64::INFINITY]
            .into_iter()
            .chain(high_words.map(f64::from_bits))
            .chain([2f64.powi(53), 2f64.powi(54), 2f64.powi(55)]);
        for x in edges.flat_map(|e: f64| [e, e.next_down(), e.next_up()]).flat_map(|x| [x, -x]) {
            let (ours, theirs) = (ln_1p(x), libm::log1p(x));
            assert!(ours.to_bits() == theirs.to_bits() || (ours.is_nan() && theirs.is_nan()), "ln_1p({x:e})");
        }
        assert!(ln_1p(-0.0f64).is_sign_negative() && ln_1p(f64::NAN).is_nan());
        assert_eq!((ln_1p(-1.0f64), ln_1p(f64::INFINITY)), (f64::NEG_INFINITY, f64::INFINITY));
        assert_eq!(ln_1p(0.75f32), libm::log1p(0.75) as f32);
        let inside = [0.5, -0.7, 1e-30, 3.0];
        for outside in [-1.0, -2.0, f64::INFINITY, f64::NAN] {
            for mask in 0..16 {
                let xs: [f64; 4] = std::array::from_fn(|i| if mask >> i & 1 == 1 { outside } else { inside[i] });
                let (got, want) = (ln_1p4(xs), xs.map(ln_1p));
                for (g, w) in got.iter().zip(&want) {
                    assert!(g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()), "{xs:?}");
                }
            }
        }
    }

    /// The library's `erfc` against the `libm` crate's, whose algorithm it is with another
    /// exponential: to the bit where no exponential is taken (|x| < 1.25), within 3 ulps beyond
    /// (two exponentials, each within an ulp of `libm`'s, multiplied; a wrong coefficient,
    /// region or reflection is off by far more), across every region's edges; special values;
    /// four lanes with the scalar bits.
    #[test]
    fn erfc_is_libm_s_to_three_ulps() {
        let mut rng = seeded(17);
        let (mut same, n) = (0, 100_000);
        for i in 0..n {
            let u = unit(&mut rng) - 0.5;
            let x = if i % 2 == 0 { u * 8.0 } else { u * 60.0 };
            let (ours, theirs) = (erfc(x), libm::erfc(x));
            let most = if x.abs() < 1.25 { 0 } else { 3 };
            assert!(ours == theirs || ulps(ours, theirs) <= most, "erfc({x:e}) = {ours:e}, libm {theirs:e}");
            same += usize::from(ours == theirs);
        }
        assert!(same * 100 >= n * 90, "only {same} of {n} libm's bits");
        let split = erfc::FIT_SPLIT;
        let edges = [0.0, 1e-300, 1e-17, 0.25, 0.84375, 1.25, split, 26.6, 27.5, 28.0, 40.0];
        for x in edges.into_iter().flat_map(|e: f64| [e, e.next_down(), e.next_up()]).flat_map(|x| [x, -x]) {
            let (ours, theirs) = (erfc(x), libm::erfc(x));
            let most = if x.abs() < 1.25 { 0 } else { 3 };
            assert!(ours == theirs || ulps(ours, theirs) <= most, "erfc({x:e}) = {ours:e}, libm {theirs:e}");
            // The same in a step of four lanes at the edge (each region's fast path included).
            assert_eq!(erfc4([x; 4]).map(f64::to_bits), [ours.to_bits(); 4], "erfc4 at {x:e}");
        }
        assert_eq!((erfc(0.0f64), erfc(f64::INFINITY), erfc(f64::NEG_INFINITY), erfc(-30.0)), (1.0, 0.0, 2.0, 2.0));
        assert!(erfc(f64::NAN).is_nan());
        assert_eq!(erfc(1.0f64), 0.15729920705028513);
        assert_eq!(erfc(0.5f32), libm::erfc(0.5) as f32);
        for step in 0..200 {
            // Steps all near 0 (the near formula alone), all within 1.25 (no far region), and
            // mixed.
            let spread = [1.6, 2.4, 12.0, 12.0, 12.0][step % 5];
            let mut xs: [f64; 4] = std::array::from_fn(|_| (unit(&mut rng) - 0.5) * spread);
            xs[step % 4] = [27.0, -27.9, f64::NAN, 0.3][step / 4 % 4];
            if step % 3 == 0 {
                // A second lane whose exponential is beyond the table's range.
                xs[(step + 1) % 4] = 26.8;
            }
            assert_eq!(erfc4(xs).map(f64::to_bits), xs.map(|x| erfc(x).to_bits()), "{xs:?}");
        }
    }

    /// `lanes_map` and `lanes_map3` give the kernel's bits on every element at every length,
    /// the last partial step included (a kernel of one lane is the scalar function).
    #[test]
    fn lanes_maps_give_each_element_the_kernel_s_bits() {
        let mut rng = seeded(19);
        #[derive(Clone, Copy)]
        struct Kernel;
        impl Lanes<f64> for Kernel {
            #[inline(always)]
            fn lanes(&self, x: [f64; LANES]) -> [f64; LANES] {
                let e = exp4(x);
                std::array::from_fn(|i| x[i] * e[i] + 1.0)
            }
        }
        #[derive(Clone, Copy)]
        struct Kernel3;
        impl Lanes3<f64> for Kernel3 {
            #[inline(always)]
            fn lanes(&self, x: [f64; LANES], y: [f64; LANES], w: [f64; LANES]) -> [f64; LANES] {
                let e = erfc4(y);
                std::array::from_fn(|i| x[i] * e[i] - w[i])
            }
        }
        for len in 0..=11 {
            let draw = |rng: &mut _| (0..len).map(|_| (unit(rng) - 0.5) * 10.0).collect::<Vec<f64>>();
            let (x, y, w) = (draw(&mut rng), draw(&mut rng), draw(&mut rng));
            let mut got = vec![f64::NAN; len];
            lanes_map(&x, &mut got, Kernel);
            let want: Vec<f64> = x.iter().map(|&x| x * exp(x) + 1.0).collect();
            assert_eq!(got, want, "lanes_map, length {len}");
            lanes_map3(&x, &y, &w, &mut got, Kernel3);
            let want: Vec<f64> = (0..len).map(|i| x[i] * erfc(y[i]) - w[i]).collect();
            assert_eq!(got, want, "lanes_map3, length {len}");
        }
    }

    #[test]
    fn exact_and_special_values() {
        assert_eq!(exp_f64(0.0), 1.0);
        assert_eq!(exp_f64(-0.0), 1.0);
        assert_eq!(exp_f64(1.0), std::f64::consts::E);
        assert_eq!(exp_f64(std::f64::consts::LN_2), 2.0);
        assert_eq!(exp_f64(f64::INFINITY), f64::INFINITY);
        assert_eq!(exp_f64(f64::NEG_INFINITY), 0.0);
        assert!(exp_f64(f64::NAN).is_nan());
        assert_eq!(exp_f64(710.0), f64::INFINITY);
        assert_eq!(exp_f64(-746.0), 0.0);
        // Both sides of the bound, and the subnormal results past it, as the C library gives them.
        for x in [708.0, -708.0, 708.5, -708.5, -740.0, 709.7] {
            assert!(ulps(exp_f64(x), x.exp()) <= 1, "exp({x})");
        }
    }

    #[test]
    fn table_entries_are_powers_of_two() {
        for (i, &(tail, head)) in TABLE.iter().enumerate() {
            let head = f64::from_bits(head.wrapping_add((i as u64) << 45));
            let value = head * (1.0 + f64::from_bits(tail));
            let want = (i as f64 / 128.0).exp2();
            assert!(ulps(value, want) <= 1, "2^({i}/128): {value} vs {want}");
            assert!(f64::from_bits(tail).abs() < f64::EPSILON, "tail {i} is below an ulp of head");
        }
    }

    #[test]
    fn the_slice_form_gives_the_scalar_bits_at_every_length() {
        let mut rng = seeded(3);
        for len in 0..=11 {
            for out_of_range in [None, Some(len / 2)] {
                let mut xs: Vec<f64> = (0..len).map(|_| (unit(&mut rng) - 0.5) * 60.0).collect();
                if let Some(i) = out_of_range.filter(|&i| i < len) {
                    xs[i] = -720.0;
                }
                let want: Vec<f64> = xs.iter().map(|&x| exp_f64(x)).collect();
                exp_in_place(&mut xs);
                assert_eq!(xs, want, "length {len}");
            }
        }
    }

    #[test]
    fn map_exp_gives_the_scalar_bits_on_every_code_path() {
        let mut rng = seeded(5);
        let (pre, post) = (|z: f64| -z, |e: f64| 1.0 / (1.0 + e));
        for len in 0..=11 {
            let mut zs: Vec<f64> = (0..len).map(|_| (unit(&mut rng) - 0.5) * 80.0).collect();
            if len > 2 {
                zs[1] = 750.0;
            }
            let want: Vec<f64> = zs.iter().map(|&z| post(exp(pre(z)))).collect();
            let mut got = vec![0.0; len];
            map_exp(&zs, &mut got, pre, post);
            assert_eq!(got, want, "length {len}");
            // In place, and the baseline build (`map_exp` ran the AVX2 one where the CPU has it).
            let mut in_place = zs.clone();
            map_lanes(None, &mut in_place, pre, post);
            assert_eq!(in_place, want, "in place, length {len}");
            let mut baseline = vec![0.0; len];
            lanes(Some(&zs), &mut baseline, pre, post);
            assert_eq!(baseline, want, "baseline build, length {len}");
        }
    }

    #[test]
    fn map_exp4_gives_the_scalar_bits_in_every_lane() {
        let mut rng = seeded(9);
        let (pre, post) = (|z: f64| -z, |e: f64| 1.0 / (1.0 + e));
        for step in 0..64 {
            let mut zs: [f64; 4] = std::array::from_fn(|_| (unit(&mut rng) - 0.5) * 80.0);
            if step % 8 == 7 {
                zs[step % 4] = -750.0; // one lane beyond the table's range: the fallback
            }
            let want = zs.map(|z| post(exp(pre(z))));
            assert_eq!(map_exp4(zs, pre, post).map(f64::to_bits), want.map(f64::to_bits), "{zs:?}");
            let z32 = zs.map(|z| z as f32);
            let want32 = z32.map(|z| 1.0 / (1.0 + exp(-z)));
            assert_eq!(map_exp4(z32, |z| -z, |e| 1.0 / (1.0 + e)), want32, "{z32:?}");
        }
    }

    /// Every pattern of lanes beyond the table's range in a step of four (none, one, two, three,
    /// all), each such lane below, above, infinite or NaN: the scalar bits in every lane.
    #[test]
    fn every_pattern_of_lanes_out_of_range_gives_the_scalar_bits() {
        let inside = [0.5, -3.25, 700.0, -707.5];
        for outside in [-750.0, 710.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
            for mask in 0..16 {
                let xs: [f64; 4] = std::array::from_fn(|i| if mask >> i & 1 == 1 { outside } else { inside[i] });
                let want = xs.map(|x| exp_f64(x).to_bits());
                assert_eq!(map_exp4(xs, |x| x, |e| e).map(f64::to_bits), want, "{xs:?}");
                let mut slice = xs.to_vec();
                exp_in_place(&mut slice);
                assert_eq!(slice.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), want, "{xs:?}");
            }
        }
    }

    #[test]
    fn f32_is_the_f64_result_rounded() {
        let mut rng = seeded(5);
        let mut xs: Vec<f32> = (0..64).map(|_| ((unit(&mut rng) - 0.5) * 50.0) as f32).collect();
        let want: Vec<f32> = xs.iter().map(|&x| exp_f64(f64::from(x)) as f32).collect();
        for (&x, &w) in xs.iter().zip(&want) {
            assert!((w - x.exp()).abs() <= 2.0 * f32::EPSILON * w, "exp({x}) as f32");
        }
        exp_in_place(&mut xs);
        assert_eq!(xs, want);
    }
}
