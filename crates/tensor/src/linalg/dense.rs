//! A dense layer's matrix work in one pass each way: `z = a·W + b` forward; `∂C/∂W = aᵀ·δ`,
//! `∂C/∂b = Σ_rows δ` and `∂C/∂a = δ·Wᵀ` backward.
//!
//! For layers at most 4 wide on both sides (the post's nets), each direction is one function with
//! the sizes as constants: `W` and the gradient sums stay in registers, every loop but the one
//! over rows unrolls, and no product is dispatched on its own. Wider layers take the general
//! products ([`gemm`], [`add_row`], [`sum_rows`]). Both give the same bits for the tiny sizes:
//! every sum runs in the same order (`p` for `a·W`, rows for `aᵀ·δ` and the bias, units for
//! `δ·Wᵀ`), starting from zero.
//!
//! Going back, a layer's two products (`aᵀ·δ` and `δ·Wᵀ`) do not depend on each other: from
//! [`JOIN_GEMM`] multiply-adds each to below the size from which each product splits over two
//! threads itself ([`PARALLEL_GEMM`](super::pool::PARALLEL_GEMM)) they run side by side on two
//! threads.
//!
//! [`DensePlan`] picks a layer's kernels once for its shape; [`dense_forward`] and
//! [`dense_backward`] pick them on every call.

use super::{Operand, add_row, gemm, parallel_from, sum_rows, threads};
use crate::Element;

/// A layer's two backward products (`aᵀ·δ` and `δ·Wᵀ`, `m·k·n` multiply-adds each) from this
/// size on, and below [`PARALLEL_GEMM`](super::pool::PARALLEL_GEMM) (from which each product
/// splits over two threads itself), run side by side, one on each of two threads. W2 at batch
/// 128 has one such pair (its second layer's, 2²² each): 14 of 22 alternating runs faster on the
/// dev VM, median +5%; W2 at batch 32 (2²⁰) and W3 (all from 2²³) have none. Inside
/// [`with_warm_threads`](super::with_warm_threads) products split from 2²⁰, so no pair is left to
/// join. Each product is computed as on its own: the same bits.
const JOIN_GEMM: usize = 1 << 22;

/// `z ← a·w + b`: `a` (m × k; `x` of a forward pass, or a row-major buffer), `w` the row-major
/// (k × n) weights, `b` the n biases, `z` the row-major (m × n) output.
///
/// # Panics
/// When a buffer does not hold its shape.
pub fn dense_forward<F: Element>((m, k, n): (usize, usize, usize), a: Operand<'_, F>, w: &[F], b: &[F], z: &mut [F]) {
    DensePlan::new(k, n).forward(m, a, w, b, z);
}

/// The three gradients of a dense layer from its input `a` (m × k, as in [`dense_forward`]) and
/// its delta `δ` (row-major m × n): `gw ← aᵀ·δ` (k × n), `gb ← Σ_rows δ` (n) and, when given,
/// `grad_a ← δ·wᵀ` (row-major m × k).
///
/// # Panics
/// When a buffer does not hold its shape.
pub fn dense_backward<F: Element>(
    (m, k, n): (usize, usize, usize),
    a: Operand<'_, F>,
    delta: &[F],
    w: &[F],
    grads: (&mut [F], &mut [F]),
    grad_a: Option<&mut [F]>,
) {
    DensePlan::new(k, n).backward(m, a, delta, w, grads, grad_a);
}

type ForwardKernel<F> = fn(&[F], &[F], &[F], &mut [F]);
type BackwardKernel<F> = fn(&[F], &[F], &[F], &mut [F], &mut [F], Option<&mut [F]>);

/// [`dense_forward`] and [`dense_backward`] for one layer shape (`k` inputs, `n` units), the
/// kernel chosen once: a network keeps one per layer instead of matching the shape on every
/// call (that match and its checks were a tenth of the post's net's training step).
#[derive(Clone, Copy, Debug)]
pub struct DensePlan<F> {
    k: usize,
    n: usize,
    /// The fixed-size kernels, for `k, n ≤ 4`.
    fixed: Option<(ForwardKernel<F>, BackwardKernel<F>)>,
}

impl<F: Element> DensePlan<F> {
    /// The plan for a layer with `k` inputs and `n` units.
    pub fn new(k: usize, n: usize) -> Self {
        let fixed = crate::tiny_width!(k, K => crate::tiny_width!(n, N => Some((
            forward_const::<F, K, N> as ForwardKernel<F>,
            backward_const::<F, K, N> as BackwardKernel<F>,
        )), _ => None), _ => None);
        DensePlan { k, n, fixed }
    }

    /// [`dense_forward`] over `m` rows.
    ///
    /// # Panics
    /// When a buffer does not hold its shape.
    #[inline]
    pub fn forward(&self, m: usize, a: Operand<'_, F>, w: &[F], b: &[F], z: &mut [F]) {
        let (k, n) = (self.k, self.n);
        if let (Some((forward, _)), Operand::Rows(a)) = (self.fixed, a) {
            assert!(a.len() == m * k && z.len() == m * n, "dense_forward: buffers of the wrong size");
            return forward(a, w, b, z);
        }
        gemm((m, k, n), a, Operand::Rows(w), z, false);
        add_row(z, b);
    }

    /// [`dense_backward`] over `m` rows.
    ///
    /// # Panics
    /// When a buffer does not hold its shape.
    #[inline]
    pub fn backward(
        &self,
        m: usize,
        a: Operand<'_, F>,
        delta: &[F],
        w: &[F],
        (gw, gb): (&mut [F], &mut [F]),
        grad_a: Option<&mut [F]>,
    ) {
        let (k, n) = (self.k, self.n);
        if let (Some((_, backward)), Operand::Rows(a)) = (self.fixed, a) {
            assert!(
                a.len() == m * k && delta.len() == m * n && grad_a.as_ref().is_none_or(|g| g.len() == m * k),
                "dense_backward: buffers of the wrong size"
            );
            return backward(a, delta, w, gw, gb, grad_a);
        }
        let mut weights = || {
            gemm((k, m, n), a.t(), Operand::Rows(delta), gw, false);
            sum_rows(delta, gb, false);
        };
        let Some(grad_a) = grad_a else { return weights() };
        let mut below = || gemm((m, n, k), Operand::Rows(delta), Operand::Cols(w), grad_a, false);
        // Two independent products, each on one thread: side by side when each repays waking a
        // second thread (and neither splits over two threads itself: the band is empty when the
        // second thread is kept warm).
        if (JOIN_GEMM..parallel_from()).contains(&(m * k * n)) && threads() >= 2 {
            rayon::join(weights, below);
        } else {
            weights();
            below();
        }
    }
}

/// `W` (K × N, row-major) as an array indexed `[p][j]`.
#[inline(always)]
fn weights<F: Element, const K: usize, const N: usize>(w: &[F]) -> [[F; N]; K] {
    assert_eq!(w.len(), K * N, "dense: weights of the wrong size");
    std::array::from_fn(|p| std::array::from_fn(|j| w[p * N + j]))
}

/// [`dense_forward`] with the layer's sizes as constants (`K` inputs, `N` units; meant for
/// `K, N ≤ 4`), inlined into its caller: `z ← a·w + b` for `a` the row-major (m × K) input, `w`
/// the row-major (K × N) weights, `b` the N biases and `z` the row-major (m × N) output, `m` read
/// from `a`'s length. The same bits as [`dense_forward`] (each sum in increasing `p`, from zero,
/// then `+ b`).
///
/// # Panics
/// When `w` or `b` does not hold its shape. Rows beyond the shorter of `a` and `z` are left
/// alone; callers pass buffers of `m` whole rows.
#[inline(always)]
pub fn forward_const<F: Element, const K: usize, const N: usize>(a: &[F], w: &[F], b: &[F], z: &mut [F]) {
    let w = weights::<F, K, N>(w);
    let b: [F; N] = b.try_into().expect("dense_forward: N biases");
    for (ai, zi) in a.chunks_exact(K).zip(z.chunks_exact_mut(N)) {
        let mut acc = [F::zero(); N];
        for (&aip, wp) in ai.iter().zip(&w) {
            for (acc, &wpj) in acc.iter_mut().zip(wp) {
                *acc += aip * wpj;
            }
        }
        for ((z, acc), &b) in zi.iter_mut().zip(acc).zip(&b) {
            *z = acc + b;
        }
    }
}

/// [`dense_backward`] with the layer's sizes as constants (`K` inputs, `N` units; meant for
/// `K, N ≤ 4`), inlined into its caller: one pass over the rows of `a` (m × K) and `δ` (m × N),
/// the sums in registers; `gw ← aᵀ·δ`, `gb ← Σ_rows δ` and, when given, `grad_a ← δ·wᵀ`
/// (m × K). The same bits as [`dense_backward`].
///
/// # Panics
/// When `w`, `gw` or `gb` does not hold its shape.
#[inline(always)]
pub fn backward_const<F: Element, const K: usize, const N: usize>(
    a: &[F],
    delta: &[F],
    w: &[F],
    gw: &mut [F],
    gb: &mut [F],
    grad_a: Option<&mut [F]>,
) {
    let w = weights::<F, K, N>(w);
    let mut sum_w = [[F::zero(); N]; K];
    let mut sum_b = [F::zero(); N];
    let rows = a.chunks_exact(K).zip(delta.chunks_exact(N));
    let mut product = |ai: &[F], di: &[F]| {
        for (sum_p, &aip) in sum_w.iter_mut().zip(ai) {
            for (s, &dij) in sum_p.iter_mut().zip(di) {
                *s += aip * dij;
            }
        }
        for (s, &dij) in sum_b.iter_mut().zip(di) {
            *s += dij;
        }
    };
    match grad_a {
        Some(grad_a) => {
            for ((ai, di), gi) in rows.zip(grad_a.chunks_exact_mut(K)) {
                product(ai, di);
                for (g, wp) in gi.iter_mut().zip(&w) {
                    let mut acc = F::zero();
                    for (&dij, &wpj) in di.iter().zip(wp) {
                        acc += dij * wpj;
                    }
                    *g = acc;
                }
            }
        }
        None => rows.for_each(|(ai, di)| product(ai, di)),
    }
    assert!(gw.len() == K * N && gb.len() == N, "dense_backward: gradient buffers of the wrong size");
    for (g, s) in gw.chunks_exact_mut(N).zip(sum_w) {
        g.copy_from_slice(&s);
    }
    gb.copy_from_slice(&sum_b);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{seeded, unit};

    fn random(len: usize, rng: &mut crate::rng::SeededRng) -> Vec<f64> {
        (0..len).map(|_| unit(rng) * 2.0 - 1.0).collect()
    }

    /// `dense_backward`'s `(gw, gb, grad_a)`, asserted equal to those of the separate products.
    fn backward_both_ways(
        (m, k, n): (usize, usize, usize),
        a: &[f64],
        delta: &[f64],
        w: &[f64],
    ) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let (mut gw, mut gb, mut ga) = (vec![f64::NAN; k * n], vec![f64::NAN; n], vec![f64::NAN; m * k]);
        dense_backward((m, k, n), Operand::Rows(a), delta, w, (&mut gw, &mut gb), Some(&mut ga));
        let (mut want_gw, mut want_gb, mut want_ga) = (vec![0.0; k * n], vec![0.0; n], vec![0.0; m * k]);
        gemm((k, m, n), Operand::Cols(a), Operand::Rows(delta), &mut want_gw, false);
        sum_rows(delta, &mut want_gb, false);
        gemm((m, n, k), Operand::Rows(delta), Operand::Cols(w), &mut want_ga, false);
        assert!(gw == want_gw && gb == want_gb && ga == want_ga, "backward {m}×{k}×{n}");
        (gw, gb, ga)
    }

    /// The fused kernels give the bits of the separate products, at every tiny size and beyond.
    #[test]
    fn fused_passes_equal_the_separate_products() {
        let mut rng = seeded(11);
        for m in [0, 1, 3, 4, 7] {
            for k in 1..=5 {
                for n in 1..=5 {
                    let (a, w, b) = (random(m * k, &mut rng), random(k * n, &mut rng), random(n, &mut rng));
                    let delta = random(m * n, &mut rng);

                    let mut z = vec![f64::NAN; m * n];
                    dense_forward((m, k, n), Operand::Rows(&a), &w, &b, &mut z);
                    let mut want = vec![0.0; m * n];
                    gemm((m, k, n), Operand::Rows(&a), Operand::Rows(&w), &mut want, false);
                    add_row(&mut want, &b);
                    assert_eq!(z, want, "forward {m}×{k}×{n}");
                    // And a direct sum in p order, to catch the reference and the kernel agreeing on a mistake.
                    for i in 0..m {
                        for j in 0..n {
                            let mut acc = 0.0;
                            for p in 0..k {
                                acc += a[i * k + p] * w[p * n + j];
                            }
                            assert_eq!(z[i * n + j], acc + b[j], "z[{i}][{j}] of {m}×{k}×{n}");
                        }
                    }

                    let (gw, mut gb, _) = backward_both_ways((m, k, n), &a, &delta, &w);
                    for p in 0..k {
                        for j in 0..n {
                            let mut acc = 0.0;
                            for i in 0..m {
                                acc += a[i * k + p] * delta[i * n + j];
                            }
                            assert_eq!(gw[p * n + j], acc, "gw[{p}][{j}] of {m}×{k}×{n}");
                        }
                    }

                    let mut gw_only = vec![f64::NAN; k * n];
                    dense_backward((m, k, n), Operand::Rows(&a), &delta, &w, (&mut gw_only, &mut gb), None);
                    assert_eq!(gw_only, gw, "backward without grad_a {m}×{k}×{n}");
                }
            }
        }
    }

    /// A layer large enough for its two backward products to run side by side (`m·k·n` from
    /// [`JOIN_GEMM`] to below [`super::PARALLEL_GEMM`]) gets the bits of the products run one after the other.
    #[test]
    fn backward_products_side_by_side_give_the_same_bits() {
        let mut rng = seeded(13);
        for (m, k, n) in [(128, 256, 128), (128, 128, 300), (96, 200, 300)] {
            assert!(
                (JOIN_GEMM..super::super::pool::PARALLEL_GEMM).contains(&(m * k * n)),
                "{m}×{k}×{n} not in the band"
            );
            let (a, w, delta) = (random(m * k, &mut rng), random(k * n, &mut rng), random(m * n, &mut rng));
            backward_both_ways((m, k, n), &a, &delta, &w);
        }
    }

    /// A transposed input (the first layer fed a column-major view) takes the general path.
    #[test]
    fn transposed_inputs_take_the_general_products() {
        let mut rng = seeded(12);
        let (m, k, n) = (3, 2, 2);
        let (a_t, w, b, delta) =
            (random(k * m, &mut rng), random(k * n, &mut rng), random(n, &mut rng), random(m * n, &mut rng));
        let mut a = vec![0.0; m * k];
        for i in 0..m {
            for p in 0..k {
                a[i * k + p] = a_t[p * m + i];
            }
        }
        let (mut z1, mut z2) = (vec![0.0; m * n], vec![0.0; m * n]);
        dense_forward((m, k, n), Operand::Cols(&a_t), &w, &b, &mut z1);
        dense_forward((m, k, n), Operand::Rows(&a), &w, &b, &mut z2);
        assert_eq!(z1, z2);
        let (mut g1, mut b1, mut g2, mut b2) = (vec![0.0; k * n], vec![0.0; n], vec![0.0; k * n], vec![0.0; n]);
        dense_backward((m, k, n), Operand::Cols(&a_t), &delta, &w, (&mut g1, &mut b1), None);
        dense_backward((m, k, n), Operand::Rows(&a), &delta, &w, (&mut g2, &mut b2), None);
        assert_eq!((g1, b1), (g2, b2));
    }
}
