// W1 in AVX-512 registers (docs/performance.md, "Nineteenth session"): each of the half adder's
// layers as one __m512d (lane = row·2 + unit), its parameters kept broadcast (W0 = [w0, w1]×4,
// W1 = [w2, w3]×4, B = [b0, b1]×4), sums over rows in increasing row order. Three variants:
// - the library's exponential (128-entry table read with gathers), separate multiply and add:
//   the same cost, bit for bit, as w1_registers.rs;
// - a 16-entry table read with two-register permutes (vpermt2pd) and a degree-7 polynomial, still
//   no FMA (the table's tails are left 0 here: a timing experiment, not an exponential to ship);
// - the same with FMA in the layer's product and the exponential, and the cost's /4 as ×0.25.
// Not part of the workspace: copy it to crates/tensor/examples/w1_zmm.rs, then
// `RUSTFLAGS="-C target-cpu=native" cargo run --release -p backprop-tensor --example w1_zmm -- 21`
// (the minimum of 21 interleaved runs of 20000 epochs each, from the bench README's fixed start).
#![allow(unsafe_code, missing_docs)]
#[rustfmt::skip]
#[path = "../src/math/exp_table.rs"]
mod exp_table;
use std::arch::x86_64::*;
use exp_table::{INV_LN2_N, LN2_HI_N, LN2_LO_N, TABLE};
use std::time::Instant;

const SHIFT: f64 = 6755399441055744.0;

#[derive(Clone, Copy)]
pub struct Layer { w0: __m512d, w1: __m512d, b: __m512d }

#[inline(always)]
unsafe fn idx(v: [i64; 8]) -> __m512i { unsafe { _mm512_loadu_si512(v.as_ptr() as *const _) } }

/// The library's 128-entry exponential, table read with gathers.
#[inline(always)]
unsafe fn exp_gather(x: __m512d) -> __m512d {
    unsafe {
        let shifted = _mm512_add_pd(_mm512_mul_pd(x, _mm512_set1_pd(INV_LN2_N)), _mm512_set1_pd(SHIFT));
        let kbits = _mm512_castpd_si512(shifted);
        let k = _mm512_sub_pd(shifted, _mm512_set1_pd(SHIFT));
        let r = _mm512_sub_pd(
            _mm512_sub_pd(x, _mm512_mul_pd(k, _mm512_set1_pd(LN2_HI_N))),
            _mm512_mul_pd(k, _mm512_set1_pd(LN2_LO_N)),
        );
        let i2 = _mm512_slli_epi64(_mm512_and_si512(kbits, _mm512_set1_epi64(127)), 1);
        let base = TABLE.as_ptr() as *const f64;
        let tail = _mm512_i64gather_pd::<8>(i2, base);
        let head = _mm512_castpd_si512(_mm512_i64gather_pd::<8>(_mm512_add_epi64(i2, _mm512_set1_epi64(1)), base));
        let s = _mm512_castsi512_pd(_mm512_add_epi64(head, _mm512_slli_epi64(kbits, 45)));
        let r2 = _mm512_mul_pd(r, r);
        let p1 = _mm512_mul_pd(r2, _mm512_add_pd(_mm512_set1_pd(0.5), _mm512_mul_pd(r, _mm512_set1_pd(1.0 / 6.0))));
        let p2 = _mm512_mul_pd(
            _mm512_mul_pd(r2, r2),
            _mm512_add_pd(_mm512_set1_pd(1.0 / 24.0), _mm512_mul_pd(r, _mm512_set1_pd(1.0 / 120.0))),
        );
        let sum = _mm512_add_pd(_mm512_add_pd(_mm512_add_pd(tail, r), p1), p2);
        _mm512_add_pd(s, _mm512_mul_pd(s, sum))
    }
}

pub struct T16 { tail_a: __m512d, tail_b: __m512d, head_a: __m512i, head_b: __m512i, inv: f64, hi: f64, lo: f64 }

pub fn t16() -> T16 {
    let ln2 = std::f64::consts::LN_2;
    let mut tails = [0.0f64; 16];
    let mut heads = [0i64; 16];
    for i in 0..16 {
        let h = (i as f64 / 16.0).exp2();
        tails[i] = 0.0;
        heads[i] = (h.to_bits() as i64).wrapping_sub((i as i64) << 48);
    }
    let step = ln2 / 16.0;
    let hi = f64::from_bits(step.to_bits() & !((1u64 << 17) - 1));
    unsafe {
        T16 {
            tail_a: _mm512_loadu_pd(tails.as_ptr()),
            tail_b: _mm512_loadu_pd(tails[8..].as_ptr()),
            head_a: _mm512_loadu_si512(heads.as_ptr() as *const _),
            head_b: _mm512_loadu_si512(heads[8..].as_ptr() as *const _),
            inv: 16.0 / ln2,
            hi,
            lo: step - hi,
        }
    }
}

/// The table's tail and the scale 2^(k/16) for the low bits `kbits` of the shifted product.
#[inline(always)]
unsafe fn lookup16(kbits: __m512i, t: &T16) -> (__m512d, __m512d) {
    unsafe {
        let tail = _mm512_permutex2var_pd(t.tail_a, kbits, t.tail_b);
        let head = _mm512_permutex2var_epi64(t.head_a, kbits, t.head_b);
        (tail, _mm512_castsi512_pd(_mm512_add_epi64(head, _mm512_slli_epi64(kbits, 48))))
    }
}

/// A 16-entry table read with two-register permutes, degree-7 polynomial.
#[inline(always)]
unsafe fn exp_perm(x: __m512d, t: &T16) -> __m512d {
    unsafe {
        let shifted = _mm512_add_pd(_mm512_mul_pd(x, _mm512_set1_pd(t.inv)), _mm512_set1_pd(SHIFT));
        let kbits = _mm512_castpd_si512(shifted);
        let k = _mm512_sub_pd(shifted, _mm512_set1_pd(SHIFT));
        let r = _mm512_sub_pd(_mm512_sub_pd(x, _mm512_mul_pd(k, _mm512_set1_pd(t.hi))), _mm512_mul_pd(k, _mm512_set1_pd(t.lo)));
        let (tail, s) = lookup16(kbits, t);
        let c = |v: f64| _mm512_set1_pd(v);
        let r2 = _mm512_mul_pd(r, r);
        let r4 = _mm512_mul_pd(r2, r2);
        let p1 = _mm512_mul_pd(r2, _mm512_add_pd(c(0.5), _mm512_mul_pd(r, c(1.0 / 6.0))));
        let p2 = _mm512_mul_pd(r4, _mm512_add_pd(c(1.0 / 24.0), _mm512_mul_pd(r, c(1.0 / 120.0))));
        let p3 = _mm512_mul_pd(_mm512_mul_pd(r4, r2), _mm512_add_pd(c(1.0 / 720.0), _mm512_mul_pd(r, c(1.0 / 5040.0))));
        let sum = _mm512_add_pd(_mm512_add_pd(_mm512_add_pd(_mm512_add_pd(tail, r), p1), p2), p3);
        _mm512_add_pd(s, _mm512_mul_pd(s, sum))
    }
}

/// [`exp_perm`] with FMA.
#[inline(always)]
unsafe fn exp_perm_fma(x: __m512d, t: &T16) -> __m512d {
    unsafe {
        let shifted = _mm512_fmadd_pd(x, _mm512_set1_pd(t.inv), _mm512_set1_pd(SHIFT));
        let kbits = _mm512_castpd_si512(shifted);
        let k = _mm512_sub_pd(shifted, _mm512_set1_pd(SHIFT));
        let r = _mm512_fnmadd_pd(k, _mm512_set1_pd(t.lo), _mm512_fnmadd_pd(k, _mm512_set1_pd(t.hi), x));
        let (tail, s) = lookup16(kbits, t);
        let c = |v: f64| _mm512_set1_pd(v);
        let r2 = _mm512_mul_pd(r, r);
        let r4 = _mm512_mul_pd(r2, r2);
        let q1 = _mm512_fmadd_pd(r, c(1.0 / 6.0), c(0.5));
        let q2 = _mm512_fmadd_pd(r, c(1.0 / 120.0), c(1.0 / 24.0));
        let q3 = _mm512_fmadd_pd(r, c(1.0 / 5040.0), c(1.0 / 720.0));
        let hi = _mm512_fmadd_pd(r2, q3, q2);
        let lo = _mm512_fmadd_pd(r2, q1, _mm512_add_pd(tail, r));
        let sum = _mm512_fmadd_pd(r4, hi, lo);
        _mm512_fmadd_pd(s, sum, s)
    }
}

/// Sums the four rows' lanes of each unit, in row order, into every row's lanes.
#[inline(always)]
unsafe fn row_sum(x: __m512d, r: &[__m512i; 4]) -> __m512d {
    unsafe {
        let p = |i: usize| _mm512_permutexvar_pd(r[i], x);
        _mm512_add_pd(_mm512_add_pd(_mm512_add_pd(p(0), p(1)), p(2)), p(3))
    }
}

#[target_feature(enable = "avx512f,fma")]
pub unsafe fn train<const PERM: bool, const FMA: bool>(layers: &mut [Layer; 3], epochs: usize, t16: &T16) -> f64 {
    unsafe {
        let even = idx([0, 0, 2, 2, 4, 4, 6, 6]);
        let odd = idx([1, 1, 3, 3, 5, 5, 7, 7]);
        let rows = [idx([0, 1, 0, 1, 0, 1, 0, 1]), idx([2, 3, 2, 3, 2, 3, 2, 3]), idx([4, 5, 4, 5, 4, 5, 4, 5]), idx([6, 7, 6, 7, 6, 7, 6, 7])];
        let x = _mm512_setr_pd(0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0);
        let t = _mm512_setr_pd(0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0);
        let one = _mm512_set1_pd(1.0);
        let zero = _mm512_setzero_pd();
        let lr = _mm512_set1_pd(0.5);
        let forward = |a: __m512d, l: &Layer| {
            let ae = _mm512_permutexvar_pd(even, a);
            let ao = _mm512_permutexvar_pd(odd, a);
            let (z, e) = if FMA {
                let z = _mm512_sub_pd(zero, _mm512_fmadd_pd(ao, l.w1, _mm512_fmadd_pd(ae, l.w0, l.b)));
                (z, exp_perm_fma(z, t16))
            } else {
                let acc = _mm512_add_pd(_mm512_add_pd(zero, _mm512_mul_pd(ae, l.w0)), _mm512_mul_pd(ao, l.w1));
                let z = _mm512_sub_pd(zero, _mm512_add_pd(acc, l.b));
                (z, if PERM { exp_perm(z, t16) } else { exp_gather(z) })
            };
            let _ = z;
            _mm512_div_pd(one, _mm512_add_pd(one, e))
        };
        // Returns (gradient wrt input, new layer).
        let backward = |input: __m512d, a: __m512d, g: __m512d, l: &Layer| {
            let d = _mm512_mul_pd(g, _mm512_mul_pd(a, _mm512_sub_pd(one, a)));
            let ie = _mm512_permutexvar_pd(even, input);
            let io = _mm512_permutexvar_pd(odd, input);
            let g0 = row_sum(_mm512_mul_pd(ie, d), &rows);
            let g1 = row_sum(_mm512_mul_pd(io, d), &rows);
            let gb = row_sum(d, &rows);
            let wt0 = _mm512_unpacklo_pd(l.w0, l.w1);
            let wt1 = _mm512_unpackhi_pd(l.w0, l.w1);
            let de = _mm512_permutexvar_pd(even, d);
            let dd = _mm512_permutexvar_pd(odd, d);
            let ga = _mm512_add_pd(_mm512_add_pd(zero, _mm512_mul_pd(de, wt0)), _mm512_mul_pd(dd, wt1));
            let new = Layer {
                w0: _mm512_sub_pd(l.w0, _mm512_mul_pd(lr, g0)),
                w1: _mm512_sub_pd(l.w1, _mm512_mul_pd(lr, g1)),
                b: _mm512_sub_pd(l.b, _mm512_mul_pd(lr, gb)),
            };
            (ga, new)
        };
        let mut cost = 0.0;
        let mut ls = *layers;
        for _ in 0..epochs {
            let a1 = forward(x, &ls[0]);
            let a2 = forward(a1, &ls[1]);
            let a3 = forward(a2, &ls[2]);
            let diff = _mm512_sub_pd(a3, t);
            cost = _mm512_reduce_add_pd(_mm512_mul_pd(diff, diff)) / 8.0;
            let g = _mm512_mul_pd(diff, _mm512_set1_pd(0.25));
            let (g2, n2) = backward(a2, a3, g, &ls[2]);
            let (g1, n1) = backward(a1, a2, g2, &ls[1]);
            let (_, n0) = backward(x, a1, g1, &ls[0]);
            ls = [n0, n1, n2];
        }
        *layers = ls;
        cost
    }
}

pub fn layers(w: &[[f64; 4]; 3], b: &[[f64; 2]; 3]) -> [Layer; 3] {
    std::array::from_fn(|l| unsafe {
        let w = w[l];
        Layer {
            w0: _mm512_setr_pd(w[0], w[1], w[0], w[1], w[0], w[1], w[0], w[1]),
            w1: _mm512_setr_pd(w[2], w[3], w[2], w[3], w[2], w[3], w[2], w[3]),
            b: _mm512_setr_pd(b[l][0], b[l][1], b[l][0], b[l][1], b[l][0], b[l][1], b[l][0], b[l][1]),
        }
    })
}


fn main() {
    let w0 = [
        [0.6888437030500962, 0.515908805880605, -0.15885683833831, -0.4821664994140733],
        [0.02254944273721704, -0.19013172509917142, 0.5675971780695452, -0.3933745478421451],
        [-0.04680609169528838, 0.1667640789100624, 0.8162257703906703, 0.009373711634780513],
    ];
    let b0 = [
        [-0.43632431120059234, 0.5116084083144479],
        [0.23673799335066326, -0.4989873172751189],
        [0.8194925119364802, 0.9655709520753062],
    ];
    let t16 = t16();
    let rounds: usize = std::env::args().nth(1).map_or(15, |s| s.parse().unwrap());
    let mut best = [f64::MAX; 3];
    for _ in 0..rounds {
        for (v, slot) in best.iter_mut().enumerate() {
            let mut ls = layers(&w0, &b0);
            let t0 = Instant::now();
            let cost = unsafe {
                match v {
                    0 => train::<false, false>(std::hint::black_box(&mut ls), std::hint::black_box(20000), &t16),
                    1 => train::<true, false>(std::hint::black_box(&mut ls), std::hint::black_box(20000), &t16),
                    _ => train::<true, true>(std::hint::black_box(&mut ls), std::hint::black_box(20000), &t16),
                }
            };
            let ms = t0.elapsed().as_secs_f64() * 1e3;
            *slot = slot.min(ms);
            if v == 0 && *slot == ms { eprintln!("gather cost {cost:e}"); }
            if v == 1 && *slot == ms { eprintln!("perm cost {cost:e}"); }
            if v == 2 && *slot == ms { eprintln!("fma cost {cost:e}"); }
        }
    }
    println!("zmm gather min {:.3} ms, zmm perm16 min {:.3} ms, perm16+fma {:.3} ms", best[0], best[1], best[2]);
}
