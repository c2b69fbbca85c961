//! The packing GEMM behind [`super::large`], behind the one safe function of this module.
//!
//! On x86-64 processors with AVX2 and FMA (nearly every one since 2015) it is
//! `private-gemm-x86`, faer's x86 matrix-product kernels (AVX2 or AVX-512, chosen at run time),
//! which compute every element of `a·b` by one definition that does not depend on the processor:
//!
//! ```text
//! for each block P of 512 consecutive p (0..512, 512..1024, …, in increasing order):
//!     s_P    = fma(a[i][p_last], b[p_last][j], … fma(a[i][p_first], b[p_first][j], 0))
//!     c[i][j] = s_P                 for the first block of a product that does not accumulate,
//!     c[i][j] = c[i][j] + s_P       for every other block
//! ```
//!
//! (each `fma` a fused multiply-add, rounded once). The blocks are 512 long whatever the
//! caches, and each lane of a kernel runs one element's chain, so a product gives the same bits
//! with AVX2 or AVX-512 kernels, and on any number of threads: threads split the output, never
//! the sum over `p` ([`gemm_views`]). A test checks every layout against the definition, with
//! the AVX2 kernels and, where the processor has AVX-512 (as the dev VM's AMD Zen 4 host of the
//! fourteenth session), with the AVX-512 ones too: bit-equal on both.
//!
//! Elsewhere (other architectures, x86 without FMA) it is `matrixmultiply`, ndarray's own
//! GEMM, whose rounding depends on the processor's vector unit.
//!
//! A large column-major `a` (the `aᵀ` of W3's `aᵀ·δ`) is copied row-major into a per-thread
//! buffer first (`COPY_MIN_ROWS`): the kernels run such products faster that way, and the
//! layout does not change the sum.
//!
//! Chosen by measurement (docs/performance.md, "GEMM choice" and "Eighth session").
//! `private-gemm-x86`'s entry point is an `unsafe fn` over raw pointers and strides. This
//! module is the only library code in the workspace that allows `unsafe` (two tests' counting
//! allocators are the others), and it derives every pointer and stride from ndarray views whose
//! shapes it has checked.
#![allow(unsafe_code)]

use ndarray::{Axis, linalg::general_mat_mul};

use crate::{Element, MatView, MatViewMut};

/// `c ← a·b`, or `c ← c + a·b` when `accumulate`, on `threads` threads (1: the calling one).
///
/// With more than one thread, the output is split in two along its longer side (`a`'s rows
/// with `c`'s, or `b`'s columns with `c`'s), each half a product of its own on its own thread
/// (`rayon::join`): each element is still computed whole by one thread, so the bits do not
/// depend on the thread count. The longer side: on W2's and W3's shapes it was up to 1.7×
/// faster than the shorter where the two differ much, within ±10% where they do not
/// (docs/bench/pg-threads-devvm.txt).
///
/// # Panics
/// When the shapes disagree (`a`: m×k, `b`: k×n, `c`: m×n).
pub(super) fn gemm_views<F: Element>(
    a: MatView<'_, F>,
    b: MatView<'_, F>,
    c: MatViewMut<'_, F>,
    accumulate: bool,
    threads: usize,
) {
    on_threads(a, b, c, accumulate, threads, one_thread);
}

/// A product on the calling thread, `m, k, n ≥ 1`, the shapes checked.
type Kernel<F> = fn(MatView<'_, F>, MatView<'_, F>, MatViewMut<'_, F>, bool);

/// [`gemm_views`] with `kernel` for each thread's part.
fn on_threads<F: Element>(
    a: MatView<'_, F>,
    b: MatView<'_, F>,
    mut c: MatViewMut<'_, F>,
    accumulate: bool,
    threads: usize,
    kernel: Kernel<F>,
) {
    let ((m, k), (k2, n)) = (a.dim(), b.dim());
    assert!(k == k2 && c.dim() == (m, n), "gemm shapes: ({m}, {k})·({k2}, {n}) into {:?}", c.dim());
    if super::empty_product((m, k, n), accumulate, || c.fill(F::zero())) {
        return;
    }
    if threads > 1 && m.max(n) > 1 {
        let (t1, t2) = (threads - threads / 2, threads / 2);
        if n >= m {
            let (b1, b2) = b.split_at(Axis(1), n / 2);
            let (c1, c2) = c.split_at(Axis(1), n / 2);
            rayon::join(
                || on_threads(a, b1, c1, accumulate, t1, kernel),
                || on_threads(a, b2, c2, accumulate, t2, kernel),
            );
        } else {
            let (a1, a2) = a.split_at(Axis(0), m / 2);
            let (c1, c2) = c.split_at(Axis(0), m / 2);
            rayon::join(
                || on_threads(a1, b, c1, accumulate, t1, kernel),
                || on_threads(a2, b, c2, accumulate, t2, kernel),
            );
        }
        return;
    }
    kernel(a, b, c, accumulate);
}

/// The fixed-order kernels where the processor has them, else [`fallback`].
fn one_thread<F: Element>(a: MatView<'_, F>, b: MatView<'_, F>, c: MatViewMut<'_, F>, accumulate: bool) {
    #[cfg(target_arch = "x86_64")]
    if let Some(kernels) = fma::kernels() {
        fma::gemm(kernels, a, b, c, accumulate, (fma::COPY_MIN_ROWS, fma::COPY_MIN_COLS));
        return;
    }
    fallback(a, b, c, accumulate);
}

/// `c ← a·b` (or `c ← c + a·b`) by `matrixmultiply`, on the calling thread.
fn fallback<F: Element>(a: MatView<'_, F>, b: MatView<'_, F>, mut c: MatViewMut<'_, F>, accumulate: bool) {
    // `general_mat_mul` computes c ← alpha·a·b + beta·c, and does not read `c` when beta is 0.
    let beta = if accumulate { F::one() } else { F::zero() };
    general_mat_mul(F::one(), &a, &b, beta, &mut c);
}

/// Sets up this thread's packing buffer for the fixed-order kernels (one allocation, on a
/// thread's first product: `private_gemm_x86` keeps it per thread) by running a 1×1×1 product
/// through them; nothing elsewhere. What a thread that is to run the other halves of products
/// calls before it waits for them, so that its first half allocates nothing.
pub(super) fn prepare_thread() {
    #[cfg(target_arch = "x86_64")]
    if let Some(kernels) = fma::kernels() {
        let (a, b, mut c) = ([1.0f32], [1.0f32], [0.0f32]);
        let view = |x| MatView::from_shape((1, 1), x).expect("1×1");
        let c = MatViewMut::from_shape((1, 1), &mut c[..]).expect("1×1");
        fma::gemm(kernels, view(&a[..]), view(&b[..]), c, false, (fma::COPY_MIN_ROWS, fma::COPY_MIN_COLS));
    }
}

/// Whether large products run the fixed-order FMA kernels (x86-64 with AVX2 and FMA), and so
/// follow the definition in this module's documentation bit for bit.
pub(super) fn fixed_order() -> bool {
    #[cfg(target_arch = "x86_64")]
    return fma::kernels().is_some();
    #[cfg(not(target_arch = "x86_64"))]
    return false;
}

#[cfg(target_arch = "x86_64")]
mod fma {
    use std::any::Any;
    use std::cell::RefCell;

    use ndarray::CowArray;
    use private_gemm_x86::{Accum, DType, DstKind, IType, InstrSet};

    use crate::{Dtype, Element, MatView, MatViewMut};

    /// A column-major `a` (the `aᵀ` of `aᵀ·δ`) with at least this many rows, in a product with
    /// at least [`COPY_MIN_COLS`] columns, is copied row-major before the kernels see it: read
    /// in place, each step along `p` jumps a whole row of the stored matrix (16 KiB for W3's
    /// 4096-wide layers), and W3's two such products ran 22–27% faster on two threads with the
    /// copy (the copy included) on the AVX2 dev VM. Smaller ones (W2's) ran slower with it.
    /// Same bits either way: the layout does not change the sum.
    pub(super) const COPY_MIN_ROWS: usize = 1024;
    /// See [`COPY_MIN_ROWS`].
    pub(super) const COPY_MIN_COLS: usize = 2048;

    thread_local! {
        /// Per thread, the row-major copy of a large column-major `a` (grown, never shrunk, so
        /// a warm training step allocates nothing).
        static SCRATCH_F32: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
        static SCRATCH_F64: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
    }

    /// The kernels this processor runs: AVX-512 or AVX2 (with FMA), or none.
    pub(super) fn kernels() -> Option<InstrSet> {
        if std::arch::is_x86_feature_detected!("avx512f") {
            Some(InstrSet::Avx512)
        } else if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            Some(InstrSet::Avx256)
        } else {
            None
        }
    }

    /// `c ← a·b` (or `c ← c + a·b`) on the calling thread, `m, k, n ≥ 1`, the shapes checked;
    /// a column-major `a` is copied row-major first from `copy_min` = (rows, columns of `c`),
    /// normally ([`COPY_MIN_ROWS`], [`COPY_MIN_COLS`]).
    pub(super) fn gemm<F: Element>(
        kernels: InstrSet,
        a: MatView<'_, F>,
        b: MatView<'_, F>,
        c: MatViewMut<'_, F>,
        accumulate: bool,
        (min_rows, min_cols): (usize, usize),
    ) {
        // The kernels walk `p` backwards when an operand's stride along it is negative, which
        // would reverse the sum; such views (only a caller's own reversed slices) are copied.
        let (a, b) = (forwards(a), forwards(b));
        let ((m, k), n) = (a.dim(), b.ncols());
        match a.t().to_slice() {
            Some(stored) if m >= min_rows && n >= min_cols => with_scratch(|scratch: &mut Vec<F>| {
                scratch.resize(m * k, F::zero());
                transpose(stored, (k, m), scratch);
                let rows = MatView::from_shape((m, k), &scratch[..]).expect("scratch sized m·k");
                run(kernels, rows, b.view(), c, accumulate);
            }),
            _ => run(kernels, a.view(), b.view(), c, accumulate),
        }
    }

    /// Runs `f` on this thread's scratch buffer for `F`.
    fn with_scratch<F: Element>(f: impl FnOnce(&mut Vec<F>)) {
        fn typed<F: 'static>(v: &mut dyn Any) -> &mut Vec<F> {
            v.downcast_mut().expect("the scratch of F's own dtype")
        }
        match F::DTYPE {
            Dtype::F32 => SCRATCH_F32.with_borrow_mut(|v| f(typed(v))),
            Dtype::F64 => SCRATCH_F64.with_borrow_mut(|v| f(typed(v))),
        }
    }

    /// `to` ← the transpose of the row-major `rows × cols` matrix `from`, in 32×32 tiles.
    fn transpose<F: Element>(from: &[F], (rows, cols): (usize, usize), to: &mut [F]) {
        const TILE: usize = 32;
        for r0 in (0..rows).step_by(TILE) {
            for c0 in (0..cols).step_by(TILE) {
                for r in r0..(r0 + TILE).min(rows) {
                    for c in c0..(c0 + TILE).min(cols) {
                        to[c * rows + r] = from[r * cols + c];
                    }
                }
            }
        }
    }

    /// The kernels' call, on views of the shapes checked by [`super::gemm_views`] (`a`: m×k,
    /// `b`: k×n, `c`: m×n) with no negative stride.
    fn run<F: Element>(
        kernels: InstrSet,
        a: MatView<'_, F>,
        b: MatView<'_, F>,
        mut c: MatViewMut<'_, F>,
        accumulate: bool,
    ) {
        let ((m, k), n) = (a.dim(), b.ncols());
        let [a_rs, a_cs] = [a.strides()[0], a.strides()[1]];
        let [b_rs, b_cs] = [b.strides()[0], b.strides()[1]];
        let [c_rs, c_cs] = [c.strides()[0], c.strides()[1]];
        let dtype = match F::DTYPE {
            Dtype::F32 => DType::F32,
            Dtype::F64 => DType::F64,
        };
        // dst ← alpha·lhs·rhs (Replace) or dst ← dst + alpha·lhs·rhs (Add); alpha = 1 exactly.
        let alpha = F::one();
        // SAFETY: `kernels` was detected on this processor. Every pointer comes from a live
        // ndarray view of the checked shape (a: m×k, b: k×n, c: m×n), with that view's own
        // strides in elements, so each index the kernels visit, (i, p), (p, j) or (i, j) within
        // those shapes, lies inside the view's memory. `c` is a unique (&mut-derived) view, so
        // it overlaps neither `a` nor `b`, and a `MatViewMut` never has two indices on one
        // element. `dtype` is `F`'s; `alpha` is an `F` that outlives the call; the index
        // pointers are null (no row or column gather), as is the diagonal (none). The call
        // runs on this thread only (the crate's threads are not compiled in) and returns when
        // the product is written.
        unsafe {
            private_gemm_x86::gemm(
                dtype,
                IType::U64,
                kernels,
                m,
                n,
                k,
                c.as_mut_ptr().cast(),
                c_rs,
                c_cs,
                std::ptr::null(),
                std::ptr::null(),
                DstKind::Full,
                if accumulate { Accum::Add } else { Accum::Replace },
                a.as_ptr().cast(),
                a_rs,
                a_cs,
                false,
                std::ptr::null(),
                0,
                b.as_ptr().cast(),
                b_rs,
                b_cs,
                false,
                (&raw const alpha).cast(),
                1,
            );
        }
    }

    /// The view itself, or a row-major copy when either of its strides is negative.
    fn forwards<F: Element>(v: MatView<'_, F>) -> CowArray<'_, F, ndarray::Ix2> {
        if v.strides().iter().any(|&s| s < 0) { v.as_standard_layout().into_owned().into() } else { v.into() }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use ndarray::s;

    use super::*;
    use crate::Matrix;

    /// The module's definition, written out: blocks of 512 `p`, each an FMA chain from 0.
    pub(in crate::linalg) fn definition<F: Element>(
        a: MatView<'_, F>,
        b: MatView<'_, F>,
        c: &Matrix<F>,
        accumulate: bool,
    ) -> Matrix<F> {
        let k = a.ncols();
        Matrix::from_shape_fn(c.dim(), |(i, j)| {
            let mut out = c[[i, j]];
            for (block, start) in (0..k).step_by(512).enumerate() {
                let mut s = F::zero();
                for p in start..(start + 512).min(k) {
                    s = a[[i, p]].mul_add(b[[p, j]], s);
                }
                out = if block == 0 && !accumulate { s } else { out + s };
            }
            out
        })
    }

    /// Every layout of `a`, `b` and `c` (row- and column-major, strided, reversed), with and
    /// without accumulating, `kernel` on one and two threads ([`on_threads`]): the definition
    /// bit for bit when `exact`, else within rounding of it, and the same bits on both.
    fn case<F: Element>((m, k, n): (usize, usize, usize), kernel: Kernel<F>, exact: bool) {
        let value = |i: usize, j: usize, salt: usize| {
            F::of((((i * 31 + j * 17 + salt) % 97) as f64 / 97.0 - 0.45) * (1.0 + (j % 5) as f64 * 0.3))
        };
        let a = Matrix::from_shape_fn((m, k), |(i, p)| value(i, p, 1));
        let b = Matrix::from_shape_fn((k, n), |(p, j)| value(p, j, 2));
        let c0 = Matrix::from_shape_fn((m, n), |(i, j)| value(i, j, 3));
        // Stored transposes (row-major), whose `.t()` are column-major views of `a` and `b`.
        let transposed = |x: &Matrix<F>| x.t().as_standard_layout().into_owned();
        let (at, bt) = (transposed(&a), transposed(&b));
        // Strided copies (every other column holds NaN) and reversed ones, read back in order.
        let wide = |x: &Matrix<F>| {
            Matrix::from_shape_fn(
                (x.nrows(), 2 * x.ncols()),
                |(i, j)| if j % 2 == 0 { x[[i, j / 2]] } else { F::nan() },
            )
        };
        let (a_wide, b_wide) = (wide(&a), wide(&b));
        let rev = |x: &Matrix<F>| {
            let (r, c) = x.dim();
            Matrix::from_shape_fn((r, c), |(i, j)| x[[r - 1 - i, c - 1 - j]])
        };
        let (a_rev, b_rev) = (rev(&a), rev(&b));
        let a_views = [a.view(), at.t(), a_wide.slice(s![.., ..;2]), a_rev.slice(s![..;-1, ..;-1])];
        let b_views = [b.view(), bt.t(), b_wide.slice(s![.., ..;2]), b_rev.slice(s![..;-1, ..;-1])];
        for v in [a_views[3], b_views[3]] {
            assert!(v.shape().iter().zip(v.strides()).all(|(&len, &s)| len < 2 || s < 0), "reversed");
        }
        let bound = Matrix::from_shape_fn((m, n), |(i, j)| {
            (0..k).map(|p| (a[[i, p]] * b[[p, j]]).abs()).sum::<F>() + c0[[i, j]].abs()
        });
        for accumulate in [false, true] {
            let want = definition(a.view(), b.view(), &c0, accumulate);
            for (ai, av) in a_views.iter().enumerate() {
                for (bi, bv) in b_views.iter().enumerate() {
                    for c_layout in 0..4 {
                        let mut on_one_thread = None;
                        for threads in [1, 2] {
                            let mut store = match c_layout {
                                0 => c0.clone(),
                                1 => transposed(&c0),
                                2 => wide(&c0),
                                _ => rev(&c0),
                            };
                            let cv = match c_layout {
                                0 => store.view_mut(),
                                1 => store.view_mut().reversed_axes(),
                                2 => store.slice_mut(s![.., ..;2]),
                                _ => store.slice_mut(s![..;-1, ..;-1]),
                            };
                            on_threads(*av, *bv, cv, accumulate, threads, kernel);
                            let got = match c_layout {
                                0 => store.clone(),
                                1 => store.t().to_owned(),
                                2 => store.slice(s![.., ..;2]).to_owned(),
                                _ => rev(&store),
                            };
                            let what =
                                format!("{m}x{k}x{n} a{ai} b{bi} c{c_layout} acc {accumulate} threads {threads}");
                            if exact {
                                assert!(
                                    got.iter().zip(&want).all(|(g, w)| g.f64().to_bits() == w.f64().to_bits()),
                                    "{what}"
                                );
                            } else {
                                // The usual bound for a sum of k + 1 products in any order.
                                let close = |((g, w), b): ((&F, &F), &F)| {
                                    (*g - *w).abs() <= *b * F::of(2.0 * (k + 1) as f64) * F::epsilon()
                                };
                                assert!(got.iter().zip(&want).zip(&bound).all(close), "{what}");
                            }
                            // Threads split the output, never the sum: the same bits.
                            let bits = |x: &Matrix<F>| x.iter().map(|v| v.f64().to_bits()).collect::<Vec<_>>();
                            match &on_one_thread {
                                None => on_one_thread = Some(bits(&got)),
                                Some(one) => assert!(*one == bits(&got), "{what}: not the bits of one thread"),
                            }
                            if c_layout == 2 {
                                assert!(store.slice(s![.., 1..;2]).iter().all(|x| x.is_nan()), "{what} wrote outside");
                            }
                        }
                    }
                }
            }
        }
    }

    /// Kernel edges (AVX2 f32 tiles are 24×4, f64 12×4; AVX-512 96×4 and 48×4) and the
    /// 512-long blocks of p: k = 511, 512, 513 and several blocks.
    const SHAPES: [(usize, usize, usize); 6] =
        [(1, 1, 1), (25, 511, 5), (7, 512, 9), (97, 513, 3), (13, 1100, 26), (3, 37, 49)];

    /// [`case`] for every shape of [`SHAPES`], in f32 and f64.
    fn every_shape(f32_kernel: Kernel<f32>, f64_kernel: Kernel<f64>, exact: bool) {
        for shape in SHAPES {
            case::<f32>(shape, f32_kernel, exact);
            case::<f64>(shape, f64_kernel, exact);
        }
    }

    /// The fixed-order kernels run on every x86-64 processor with AVX2 and FMA (the bit-exact
    /// tests below fall back to rounding bounds where they do not, so they alone could not tell
    /// a lost kernel from an older processor).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_fixed_order_kernels_run_wherever_avx2_and_fma_are() {
        let avx2_fma = std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma");
        assert_eq!(fixed_order(), avx2_fma);
        if std::arch::is_x86_feature_detected!("avx512f") {
            assert!(matches!(fma::kernels(), Some(private_gemm_x86::InstrSet::Avx512)));
        }
    }

    #[test]
    fn large_products_follow_the_definition_in_every_layout() {
        let exact = fixed_order();
        if !exact {
            eprintln!("this processor has no AVX2/FMA: checking large products within rounding only");
        }
        every_shape(one_thread, one_thread, exact);
    }

    /// The FMA kernels with every column-major `a` copied row-major first (the path of W3's
    /// large `aᵀ·δ` products).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn copied_operands_follow_the_definition_too() {
        if fma::kernels().is_none() {
            eprintln!("this processor has no AVX2/FMA: nothing to check");
            return;
        }
        fn copying<F: Element>(a: MatView<'_, F>, b: MatView<'_, F>, c: MatViewMut<'_, F>, accumulate: bool) {
            fma::gemm(fma::kernels().expect("checked"), a, b, c, accumulate, (1, 1));
        }
        every_shape(copying, copying, true);
    }

    /// Each kernel set this processor can run, not only the one [`one_thread`] picks: on an
    /// AVX-512 machine the AVX2 kernels too, which must give the same bits (the definition's).
    /// Says on stderr which sets ran, so a log shows whether AVX-512 was checked.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn each_kernel_set_this_processor_runs_follows_the_definition() {
        use private_gemm_x86::InstrSet;
        fn with<const AVX512: bool, F: Element>(a: MatView<'_, F>, b: MatView<'_, F>, c: MatViewMut<'_, F>, acc: bool) {
            let kernels = if AVX512 { InstrSet::Avx512 } else { InstrSet::Avx256 };
            fma::gemm(kernels, a, b, c, acc, (usize::MAX, usize::MAX));
        }
        let avx2 = std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma");
        let avx512 = std::arch::is_x86_feature_detected!("avx512f");
        eprintln!("fixed-order kernels checked here: AVX2 {avx2}, AVX-512 {avx512}");
        if avx2 {
            every_shape(with::<false, f32>, with::<false, f64>, true);
        }
        if avx512 {
            every_shape(with::<true, f32>, with::<true, f64>, true);
        }
    }

    /// The other processors' GEMM, which this machine may not pick by itself.
    #[test]
    fn the_fallback_gemm_agrees_with_the_definition_in_every_layout() {
        every_shape(fallback, fallback, false);
    }
}
