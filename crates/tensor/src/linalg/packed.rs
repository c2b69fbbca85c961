//! The packing GEMM behind [`super::large`]: the `gemm` crate (AVX2/FMA or AVX-512 kernels
//! chosen at run time), behind the one safe function of this module.
//!
//! Chosen by measurement against ndarray's default (`matrixmultiply`) on the workloads' shapes
//! (docs/performance.md): on an AVX-512 Xeon, 2 threads, `gemm` runs W2's products 1.3–2.8×
//! and W3's about 1.5× faster; on an AVX2 EPYC the two are within ±30% of each other.
//!
//! The `gemm` crate's entry point is an `unsafe fn` over raw pointers and strides. This module
//! is the only library code in the workspace that allows `unsafe` (two tests' counting
//! allocators are the others), and it derives every pointer and stride from ndarray views whose
//! shapes it has checked.
#![allow(unsafe_code)]

use gemm::Parallelism;

use crate::{Element, MatView, MatViewMut};

/// `c ← a·b`, or `c ← c + a·b` when `accumulate`, on `threads` threads (1: the calling one).
///
/// # Panics
/// When the shapes disagree (`a`: m×k, `b`: k×n, `c`: m×n).
pub(super) fn gemm_views<F: Element>(
    a: MatView<'_, F>,
    b: MatView<'_, F>,
    mut c: MatViewMut<'_, F>,
    accumulate: bool,
    threads: usize,
) {
    let ((m, k), (k2, n)) = (a.dim(), b.dim());
    assert!(k == k2 && c.dim() == (m, n), "gemm shapes: ({m}, {k})·({k2}, {n}) into {:?}", c.dim());
    if super::empty_product((m, k, n), accumulate, || c.fill(F::zero())) {
        return;
    }
    let (a_rs, a_cs) = (a.strides()[0], a.strides()[1]);
    let (b_rs, b_cs) = (b.strides()[0], b.strides()[1]);
    let (c_rs, c_cs) = (c.strides()[0], c.strides()[1]);
    let parallelism = if threads > 1 { Parallelism::Rayon(threads) } else { Parallelism::None };
    // `gemm` computes dst ← alpha·dst + beta·lhs·rhs (dst not read unless `read_dst`).
    let (alpha, beta) = (if accumulate { F::one() } else { F::zero() }, F::one());
    // SAFETY: every pointer comes from a live ndarray view of the checked shape, with that
    // view's own strides (in elements), so each index (i, j) the kernel visits, i < rows and
    // j < cols, lies inside the view's memory. `c` is a unique (&mut-derived) view, so it
    // overlaps neither `a` nor `b`, and a `MatViewMut` never has two indices on one element.
    // The views outlive the call, which returns only when every thread has finished.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            c_cs,
            c_rs,
            accumulate,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            alpha,
            beta,
            false,
            false,
            false,
            parallelism,
        );
    }
}
