//! Matrix products into preallocated outputs.
//!
//! Every function here writes into a buffer the caller owns, so a training step that calls them
//! allocates nothing. Transposed operands are passed as views (`w.t()`), never copied. Which GEMM
//! runs is this module's business alone: tiny products (the half adder's 4×2·2×2) use a plain
//! strided loop, which beats any packing kernel at that size; everything else goes to ndarray's
//! `general_mat_mul` (matrixmultiply).

use ndarray::{ArrayView1, ArrayViewMut1, Axis};

use crate::{Element, MatView, MatViewMut};

/// Products with `m·k·n` up to this run the direct loop instead of the packing GEMM.
const SMALL_GEMM: usize = 4096;

/// Row and column strides of a contiguous view, when both are non-negative.
fn strides2(s: &[isize]) -> Option<(usize, usize)> {
    Some((usize::try_from(s[0]).ok()?, usize::try_from(s[1]).ok()?))
}

/// `c ← a·b`, or `c ← c + a·b` when `accumulate` is true.
///
/// # Shapes
/// `a`: (m, k), `b`: (k, n), `c`: (m, n). Any of them may be a transposed view.
///
/// # Panics
/// When the shapes disagree: callers size their buffers once, so a mismatch is a bug, not input.
pub fn matmul_into<F: Element>(a: MatView<'_, F>, b: MatView<'_, F>, mut c: MatViewMut<'_, F>, accumulate: bool) {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    assert!(k == k2 && c.dim() == (m, n), "matmul shapes: ({m}, {k})·({k2}, {n}) into {:?}", c.dim());
    if m * k * n <= SMALL_GEMM
        && let (Some(sa), Some(sb)) = (a.as_slice_memory_order(), b.as_slice_memory_order())
        && let (Some(ra), Some(rb), Some(rc)) = (strides2(a.strides()), strides2(b.strides()), strides2(c.strides()))
        && let Some(sc) = c.as_slice_memory_order_mut()
    {
        small_gemm((m, k, n), (sa, ra), (sb, rb), (sc, rc), accumulate);
        return;
    }
    let beta = if accumulate { F::one() } else { F::zero() };
    ndarray::linalg::general_mat_mul(F::one(), &a, &b, beta, &mut c);
}

/// The direct loop: `c[i][j] (+)= Σ_p a[i][p]·b[p][j]`, summing `p` in order.
#[inline]
fn small_gemm<F: Element>(
    (m, k, n): (usize, usize, usize),
    (a, (ra, ca)): (&[F], (usize, usize)),
    (b, (rb, cb)): (&[F], (usize, usize)),
    (c, (rc, cc)): (&mut [F], (usize, usize)),
    accumulate: bool,
) {
    for i in 0..m {
        for j in 0..n {
            let mut acc = F::zero();
            for p in 0..k {
                acc += a[i * ra + p * ca] * b[p * rb + j * cb];
            }
            let out = &mut c[i * rc + j * cc];
            *out = if accumulate { *out + acc } else { acc };
        }
    }
}

/// `out ← Σ_rows m` (the bias gradient: the delta summed over the batch), or `out += …` when
/// `accumulate` is true. Rows are summed in order.
pub fn sum_rows_into<F: Element>(m: MatView<'_, F>, mut out: ArrayViewMut1<'_, F>, accumulate: bool) {
    assert_eq!(m.ncols(), out.len(), "sum_rows: {} columns into {}", m.ncols(), out.len());
    if !accumulate {
        out.fill(F::zero());
    }
    if let (Some(ms), Some(os)) = (m.as_slice(), out.as_slice_mut()) {
        for row in ms.chunks_exact(os.len().max(1)) {
            for (o, &x) in os.iter_mut().zip(row) {
                *o += x;
            }
        }
        return;
    }
    for row in m.axis_iter(Axis(0)) {
        out.zip_mut_with(&row, |o, &x| *o += x);
    }
}

/// `m[i][j] += v[j]` for every row `i` (adds a bias to every sample).
pub fn add_row_in_place<F: Element>(mut m: MatViewMut<'_, F>, v: ArrayView1<'_, F>) {
    assert_eq!(m.ncols(), v.len(), "add_row: {} columns, bias of {}", m.ncols(), v.len());
    if let (Some(ms), Some(vs)) = (m.as_slice_mut(), v.as_slice()) {
        for row in ms.chunks_exact_mut(vs.len().max(1)) {
            for (x, &b) in row.iter_mut().zip(vs) {
                *x += b;
            }
        }
        return;
    }
    for mut row in m.axis_iter_mut(Axis(0)) {
        row.zip_mut_with(&v, |x, &b| *x += b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Matrix;
    use ndarray::array;

    fn naive(a: &Matrix<f64>, b: &Matrix<f64>) -> Matrix<f64> {
        Matrix::from_shape_fn((a.nrows(), b.ncols()), |(i, j)| (0..a.ncols()).map(|p| a[[i, p]] * b[[p, j]]).sum())
    }

    fn check(m: usize, k: usize, n: usize) {
        let a = Matrix::from_shape_fn((m, k), |(i, j)| (i as f64 + 1.0) * 0.5 - j as f64 * 0.25);
        let b = Matrix::from_shape_fn((k, n), |(i, j)| (j as f64 - 0.5) * (i as f64 + 0.3));
        let want = naive(&a, &b);
        let mut c = Matrix::zeros((m, n));
        matmul_into(a.view(), b.view(), c.view_mut(), false);
        assert!((&c - &want).iter().all(|d| d.abs() < 1e-9), "plain {m}x{k}x{n}");
        // Transposed operands through views: (bᵀ aᵀ)ᵀ = a b.
        let (at, bt) = (a.t().to_owned(), b.t().to_owned());
        let mut ct = Matrix::zeros((n, m));
        matmul_into(bt.t().t(), at.t().t(), ct.view_mut(), false);
        let mut c2 = Matrix::zeros((m, n));
        matmul_into(at.t(), bt.t(), c2.view_mut(), false);
        assert!((&c2 - &want).iter().all(|d| d.abs() < 1e-9), "transposed {m}x{k}x{n}");
        matmul_into(at.t(), bt.t(), c2.view_mut(), true);
        assert!((&c2 - &(&want * 2.0)).iter().all(|d| d.abs() < 1e-9), "accumulate {m}x{k}x{n}");
    }

    #[test]
    fn small_and_large_products_agree_with_the_definition() {
        for &(m, k, n) in &[(1, 1, 1), (4, 2, 2), (3, 5, 7), (8, 6, 1), (32, 33, 34), (64, 7, 65)] {
            check(m, k, n);
        }
    }

    #[test]
    fn rows_sum_and_bias_add() {
        let m = array![[1.0, 2.0], [3.0, 4.0]];
        let mut s = array![10.0, 10.0];
        sum_rows_into(m.view(), s.view_mut(), false);
        assert_eq!(s, array![4.0, 6.0]);
        let mut m2 = m.clone();
        add_row_in_place(m2.view_mut(), s.view());
        assert_eq!(m2, array![[5.0, 8.0], [7.0, 10.0]]);
    }
}
