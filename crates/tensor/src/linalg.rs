//! Matrix products into preallocated outputs.
//!
//! Every function here writes into a buffer the caller owns: a training step that calls them
//! allocates no matrices (nor does the packing GEMM on x86-64 with AVX2 and FMA; elsewhere
//! `matrixmultiply` makes one to three small allocations of its own per large product, for its
//! packing buffers). Transposed operands are passed as views (`w.t()`) or as
//! [`Operand::Cols`], never copied. Which GEMM runs is this module's business alone:
//!
//! - small products (up to [`SMALL_GEMM`] multiply-adds, e.g. the half adder's 4×2·2×2) run
//!   direct loops specialised for the layouts backprop uses (row-major `a·W`, `aᵀ·δ` and `δ·Wᵀ`),
//!   which beat any packing kernel at that size and pay no thread pool;
//! - everything else goes to a packing GEMM (`linalg/packed.rs`, the workspace's only
//!   `unsafe`): faer's x86-64 kernels (AVX2/FMA or AVX-512, chosen at run time), or
//!   `matrixmultiply` on other processors; on two threads when the product is large enough to
//!   repay the hand-off (see [`threads`]; the pool and its warm thread are `linalg/pool.rs`); a
//!   layer's two backward products, when each is somewhat smaller, run side by side instead
//!   (`dense.rs`).
//!
//! Small products sum `Σ_p a[i][p]·b[p][j]` from zero in increasing `p` (a multiply, then an
//! add; `c + Σ` when accumulating), whatever the layouts of their operands and output (row- or
//! column-major buffers, strided views), so they give the same bits as the plain definition on
//! every machine. Large products give the same bits for any thread count
//! (threads split the output, never the sum over `p`). On x86-64 with AVX2 and FMA they follow
//! one fixed order too (fused multiply-adds in increasing `p`, in blocks of 512; `packed.rs`
//! spells it out), so the same bits on every such processor, AVX2 or AVX-512
//! ([`large_products_in_fixed_order`]); elsewhere the rounding depends on the processor.

mod dense;
mod packed;
mod pool;

pub use dense::{DensePlan, backward_const, dense_backward, dense_forward, forward_const};
use pool::parallel_from;
pub use pool::{
    WAIT_POLICY_VAR, active_wait, adopt_calling_thread, pool_threads, spinning_threads, splits_when_warm, threads,
    with_warm_threads,
};

use ndarray::{ArrayView1, ArrayViewMut1, Axis};

use crate::{Element, MatView, MatViewMut};

/// Runs `$body` with `$c` a `const usize` equal to `$width` when that is a tiny width, one
/// for which the library compiles kernels with the size as a constant (1 to 4), and evaluates
/// `$otherwise` for any other width. The one list of those widths: the direct product loops
/// ([`gemm`]'s), [`DensePlan`]'s dense kernels and the layers crate's per-layer passes all
/// pick their kernels through it.
///
/// ```
/// fn square<const N: usize>() -> usize { N * N }
/// let pick = |w: usize| backprop_tensor::tiny_width!(w, N => Some(square::<N>()), _ => None);
/// assert_eq!((pick(3), pick(5)), (Some(9), None));
/// ```
#[macro_export]
macro_rules! tiny_width {
    ($width:expr, $c:ident => $body:expr, _ => $otherwise:expr) => {
        $crate::tiny_width!(@ $width, $c, $body, $otherwise; 1 2 3 4)
    };
    (@ $width:expr, $c:ident, $body:expr, $otherwise:expr; $($w:literal)*) => {
        match $width {
            $($w => {
                const $c: usize = $w;
                $body
            })*
            _ => $otherwise,
        }
    };
}

/// Products with `m·k·n` up to this run the direct loops instead of the packing GEMM.
pub const SMALL_GEMM: usize = 4096;

/// How the elements of a matrix operand lie in memory.
#[derive(Clone, Copy, Debug)]
pub enum Operand<'a, F> {
    /// Row-major: element `(i, j)` of an `r × c` operand at `i·c + j` (a standard-layout
    /// buffer).
    Rows(&'a [F]),
    /// Column-major: element `(i, j)` at `j·r + i`, i.e. the transpose of a row-major `c × r`
    /// buffer (`w.t()` of a standard-layout `w`).
    Cols(&'a [F]),
    /// Any other layout (a strided view); only the packing GEMM takes it.
    View(MatView<'a, F>),
}

impl<'a, F: Element> Operand<'a, F> {
    /// The operand behind a view: a slice when the view is row- or column-major.
    pub fn of(v: MatView<'a, F>) -> Self {
        if let Some(s) = v.to_slice() {
            Operand::Rows(s)
        } else if let Some(s) = v.reversed_axes().to_slice() {
            Operand::Cols(s)
        } else {
            Operand::View(v)
        }
    }

    /// The transposed operand (a view of the same memory).
    pub fn t(self) -> Self {
        match self {
            Operand::Rows(s) => Operand::Cols(s),
            Operand::Cols(s) => Operand::Rows(s),
            Operand::View(v) => Operand::View(v.reversed_axes()),
        }
    }

    /// The operand as an `r × c` view.
    fn view(self, (r, c): (usize, usize)) -> MatView<'a, F> {
        match self {
            Operand::Rows(s) => MatView::from_shape((r, c), s).expect("operand length checked"),
            Operand::Cols(s) => MatView::from_shape((c, r), s).expect("operand length checked").reversed_axes(),
            Operand::View(v) => v,
        }
    }

    /// Panics unless the operand holds an `r × c` matrix.
    fn check(&self, (r, c): (usize, usize), name: &str) {
        let ok = match self {
            Operand::Rows(s) | Operand::Cols(s) => s.len() == r * c,
            Operand::View(v) => v.dim() == (r, c),
        };
        assert!(ok, "matmul: operand {name} is not {r}×{c}");
    }
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
    if let Some(cs) = c.as_slice_mut() {
        gemm((m, k, n), Operand::of(a), Operand::of(b), cs, accumulate);
    } else if m * k * n <= SMALL_GEMM {
        small_views(a, b, c, accumulate);
    } else {
        large((m, k, n), a, b, c, accumulate);
    }
}

/// `c ← a·b` (or `c ← c + a·b`) on buffers: `a` is (m, k), `b` is (k, n) and `c` the row-major
/// (m, n) output. What [`matmul_into`] runs once it has looked at the views' layouts.
///
/// # Panics
/// When an operand does not hold a matrix of its shape.
#[inline]
pub fn gemm<F: Element>(
    (m, k, n): (usize, usize, usize),
    a: Operand<'_, F>,
    b: Operand<'_, F>,
    c: &mut [F],
    accumulate: bool,
) {
    // Tiny inner sizes (the half adder's 2 and 2) unroll completely, here, inlined into the
    // caller; everything else is one call away.
    if (1..=4).contains(&k) && (1..=4).contains(&n) && tiny_dispatch((m, k, n), a, b, c, accumulate) {
        return;
    }
    gemm_general((m, k, n), a, b, c, accumulate);
}

/// [`gemm`] beyond the tiny sizes.
#[inline(never)]
fn gemm_general<F: Element>(
    (m, k, n): (usize, usize, usize),
    a: Operand<'_, F>,
    b: Operand<'_, F>,
    c: &mut [F],
    accumulate: bool,
) {
    a.check((m, k), "a");
    b.check((k, n), "b");
    assert_eq!(c.len(), m * n, "matmul: output is not {m}×{n}");
    if empty_product((m, k, n), accumulate, || c.fill(F::zero())) {
        return;
    }
    if m * k * n <= SMALL_GEMM {
        // Fixed widths unroll the inner loop and keep a row of `c` in registers.
        match (a, b) {
            (Operand::Rows(a), Operand::Rows(b)) if !accumulate => {
                return match n {
                    2 => nn_fixed::<F, 2>(k, a, b, c),
                    4 => nn_fixed::<F, 4>(k, a, b, c),
                    8 => nn_fixed::<F, 8>(k, a, b, c),
                    _ => small_nn((k, n), a, b, c),
                };
            }
            (Operand::Cols(a), Operand::Rows(b)) if !accumulate => {
                return match n {
                    2 => tn_fixed::<F, 2>(m, a, b, c),
                    4 => tn_fixed::<F, 4>(m, a, b, c),
                    8 => tn_fixed::<F, 8>(m, a, b, c),
                    _ => small_tn((m, n), a, b, c),
                };
            }
            (Operand::Rows(a), Operand::Cols(b)) => {
                return match k {
                    2 => nt_fixed::<F, 2>(n, a, b, c, accumulate),
                    4 => nt_fixed::<F, 4>(n, a, b, c, accumulate),
                    8 => nt_fixed::<F, 8>(n, a, b, c, accumulate),
                    _ => small_nt((k, n), a, b, c, accumulate),
                };
            }
            _ => {}
        }
    }
    let c = MatViewMut::from_shape((m, n), c).expect("output length checked");
    if m * k * n <= SMALL_GEMM {
        return small_views(a.view((m, k)), b.view((k, n)), c, accumulate);
    }
    large((m, k, n), a.view((m, k)), b.view((k, n)), c, accumulate);
}

/// Handles a product with a zero dimension, where there is nothing to multiply: true when it
/// did. With `k = 0`, `c = a·b` is all zeros (`clear` runs) and `c + a·b` is `c`.
fn empty_product((m, k, n): (usize, usize, usize), accumulate: bool, clear: impl FnOnce()) -> bool {
    if m == 0 || n == 0 {
        return true;
    }
    if k == 0 {
        if !accumulate {
            clear();
        }
        return true;
    }
    false
}

/// Whether this processor computes large products in the fixed order of the packing GEMM
/// (x86-64 with AVX2 and FMA: fused multiply-adds in increasing `p`, blocks of 512). Then a
/// product gives the same bits here as on every other such processor, and once a thread has
/// run one, computing more allocates nothing. Elsewhere (`matrixmultiply`) the rounding
/// depends on the processor.
pub fn large_products_in_fixed_order() -> bool {
    packed::fixed_order()
}

/// The packing GEMM ([`packed`]), on two threads for large products.
fn large<F: Element>(
    (m, k, n): (usize, usize, usize),
    a: MatView<'_, F>,
    b: MatView<'_, F>,
    c: MatViewMut<'_, F>,
    accumulate: bool,
) {
    let threads = if m * k * n < parallel_from() { 1 } else { threads() };
    packed::gemm_views(a, b, c, accumulate, threads);
}

/// Runs [`tiny`] for `k, n ≤ 4` and a slice layout; false when it did not.
#[inline(always)]
fn tiny_dispatch<F: Element>(
    (m, k, n): (usize, usize, usize),
    a: Operand<'_, F>,
    b: Operand<'_, F>,
    c: &mut [F],
    accumulate: bool,
) -> bool {
    macro_rules! all_sizes {
        ($layout:expr, $a:expr, $b:expr) => {
            crate::tiny_width!(k, K => crate::tiny_width!(n, N =>
                tiny::<F, $layout, K, N>(m, $a, $b, c, accumulate), _ => return false), _ => return false)
        };
    }
    match (a, b) {
        (Operand::Rows(a), Operand::Rows(b)) => all_sizes!(NN, a, b),
        (Operand::Cols(a), Operand::Rows(b)) => all_sizes!(TN, a, b),
        (Operand::Rows(a), Operand::Cols(b)) => all_sizes!(NT, a, b),
        _ => return false,
    }
    true
}

/// The layouts the direct loops take: `a·b`, `aᵀ·b` and `a·bᵀ` of row-major buffers.
const NN: u8 = 0;
const TN: u8 = 1;
const NT: u8 = 2;

/// `c (+)= a·b` for fixed `k = K ≤ 4` and `n = N ≤ 4` in layout `L`: every loop but the one over
/// rows unrolled, each element summed in `p` order.
#[inline(never)]
fn tiny<F: Element, const L: u8, const K: usize, const N: usize>(
    m: usize,
    a: &[F],
    b: &[F],
    c: &mut [F],
    accumulate: bool,
) {
    assert!(a.len() == m * K && b.len() == K * N && c.len() == m * N, "matmul: operands of the wrong size");
    // `b` (at most 4×4) in registers, as an array indexed [p][j].
    let mut bm = [[F::zero(); N]; K];
    for (p, row) in bm.iter_mut().enumerate() {
        for (j, x) in row.iter_mut().enumerate() {
            *x = if L == NT { b[j * K + p] } else { b[p * N + j] };
        }
    }
    // Row i of `a` as an array: K consecutive values, or (aᵀ) the i-th of each of K rows of m.
    let a_row = |i: usize| -> [F; K] {
        if L == TN { std::array::from_fn(|p| a[p * m + i]) } else { a[i * K..i * K + K].try_into().expect("K values") }
    };
    for (i, ci) in c.chunks_exact_mut(N).enumerate() {
        let ai = a_row(i);
        let mut acc = [F::zero(); N];
        for (&aip, bp) in ai.iter().zip(&bm) {
            for (acc, &b) in acc.iter_mut().zip(bp) {
                *acc += aip * b;
            }
        }
        for (c, acc) in ci.iter_mut().zip(acc) {
            *c = if accumulate { *c + acc } else { acc };
        }
    }
}

/// [`small_nn`] for `n = N`: each row of `c` is accumulated in an array (registers).
#[inline]
fn nn_fixed<F: Element, const N: usize>(k: usize, a: &[F], b: &[F], c: &mut [F]) {
    let m = c.len() / N;
    assert!(a.len() == m * k && b.len() == k * N);
    for i in 0..m {
        let mut acc = [F::zero(); N];
        let ai = &a[i * k..i * k + k];
        for p in 0..k {
            let bp = &b[p * N..p * N + N];
            for j in 0..N {
                acc[j] += ai[p] * bp[j];
            }
        }
        c[i * N..i * N + N].copy_from_slice(&acc);
    }
}

/// [`small_tn`] for `n = N`.
#[inline]
fn tn_fixed<F: Element, const N: usize>(m: usize, a: &[F], b: &[F], c: &mut [F]) {
    let k = b.len() / N;
    assert!(a.len() == m * k && c.len() == m * N);
    for i in 0..m {
        let mut acc = [F::zero(); N];
        for p in 0..k {
            let aip = a[p * m + i];
            let bp = &b[p * N..p * N + N];
            for j in 0..N {
                acc[j] += aip * bp[j];
            }
        }
        c[i * N..i * N + N].copy_from_slice(&acc);
    }
}

/// [`small_nt`] for `k = K`: fixed-length dot products.
#[inline]
fn nt_fixed<F: Element, const K: usize>(n: usize, a: &[F], b: &[F], c: &mut [F], accumulate: bool) {
    let m = a.len() / K;
    assert!(b.len() == n * K && c.len() == m * n);
    for i in 0..m {
        let ai = &a[i * K..i * K + K];
        for j in 0..n {
            let bj = &b[j * K..j * K + K];
            let mut acc = F::zero();
            for p in 0..K {
                acc += ai[p] * bj[p];
            }
            let out = &mut c[i * n + j];
            *out = if accumulate { *out + acc } else { acc };
        }
    }
}

/// `c = a·b`, both row-major: row `i` of `c` is `Σ_p a[i][p]·(row p of b)`, summed in `p` order.
#[inline]
fn small_nn<F: Element>((k, n): (usize, usize), a: &[F], b: &[F], c: &mut [F]) {
    for (ci, ai) in c.chunks_exact_mut(n).zip(a.chunks_exact(k)) {
        ci.fill(F::zero());
        for (&aip, bp) in ai.iter().zip(b.chunks_exact(n)) {
            for (c, &b) in ci.iter_mut().zip(bp) {
                *c += aip * b;
            }
        }
    }
}

/// `c = a·b` with `a` column-major (the transpose of a row-major `k × m` buffer, as in `xᵀ·δ`)
/// and `b` row-major: row `i` of `c` is `Σ_p a[p][i]·(row p of b)`, in `p` order.
#[inline]
fn small_tn<F: Element>((m, n): (usize, usize), a: &[F], b: &[F], c: &mut [F]) {
    for (i, ci) in c.chunks_exact_mut(n).enumerate() {
        ci.fill(F::zero());
        for (ap, bp) in a.chunks_exact(m).zip(b.chunks_exact(n)) {
            let aip = ap[i];
            for (c, &b) in ci.iter_mut().zip(bp) {
                *c += aip * b;
            }
        }
    }
}

/// `c (+)= a·b` with `a` row-major and `b` column-major (the transpose of a row-major `n × k`
/// buffer, as in `δ·Wᵀ`): `c[i][j]` is the dot product of row `i` of `a` and row `j` of that
/// buffer, in `p` order.
#[inline]
fn small_nt<F: Element>((k, n): (usize, usize), a: &[F], b: &[F], c: &mut [F], accumulate: bool) {
    for (ci, ai) in c.chunks_exact_mut(n).zip(a.chunks_exact(k)) {
        for (c, bj) in ci.iter_mut().zip(b.chunks_exact(k)) {
            let mut acc = F::zero();
            for (&x, &y) in ai.iter().zip(bj) {
                acc += x * y;
            }
            *c = if accumulate { *c + acc } else { acc };
        }
    }
}

/// `c (+)= a·b` on views of any layout, each element by the definition: `Σ_p a[i][p]·b[p][j]`
/// from zero in increasing `p` (a multiply, then an add), then `c + Σ` when `accumulate`. What
/// the small loops above compute for the layouts they know: a small product whose operands or
/// output are strided (or that accumulates into `a·b` or `aᵀ·b`) gets the same bits here,
/// instead of the packing GEMM's fused multiply-adds.
fn small_views<F: Element>(a: MatView<'_, F>, b: MatView<'_, F>, mut c: MatViewMut<'_, F>, accumulate: bool) {
    for ((i, j), c) in c.indexed_iter_mut() {
        let mut acc = F::zero();
        for (&x, &y) in a.row(i).iter().zip(b.column(j)) {
            acc += x * y;
        }
        *c = if accumulate { *c + acc } else { acc };
    }
}

/// `out ← Σ_rows m` (the bias gradient: the delta summed over the batch), or `out += …` when
/// `accumulate` is true. Rows are summed in order.
pub fn sum_rows_into<F: Element>(m: MatView<'_, F>, mut out: ArrayViewMut1<'_, F>, accumulate: bool) {
    assert_eq!(m.ncols(), out.len(), "sum_rows: {} columns into {}", m.ncols(), out.len());
    if let (Some(ms), Some(os)) = (m.to_slice(), out.as_slice_mut()) {
        sum_rows(ms, os, accumulate);
        return;
    }
    if !accumulate {
        out.fill(F::zero());
    }
    for row in m.axis_iter(Axis(0)) {
        out.zip_mut_with(&row, |o, &x| *o += x);
    }
}

/// [`sum_rows_into`] on buffers: `m` is row-major with `out.len()` columns.
///
/// # Panics
/// When `m`'s length is not a multiple of `out.len()`.
pub fn sum_rows<F: Element>(m: &[F], out: &mut [F], accumulate: bool) {
    let cols = out.len();
    if cols == 0 {
        return;
    }
    assert_eq!(m.len() % cols, 0, "sum_rows: {} values in rows of {cols}", m.len());
    if !accumulate {
        out.fill(F::zero());
    }
    for row in m.chunks_exact(cols) {
        for (o, &x) in out.iter_mut().zip(row) {
            *o += x;
        }
    }
}

/// `m[i][j] += v[j]` for every row `i` (adds a bias to every sample).
///
/// # Panics
/// When `v` is not as long as `m`'s rows.
pub fn add_row_in_place<F: Element>(mut m: MatViewMut<'_, F>, v: ArrayView1<'_, F>) {
    assert_eq!(m.ncols(), v.len(), "add_row: {} columns, bias of {}", m.ncols(), v.len());
    if let (Some(ms), Some(vs)) = (m.as_slice_mut(), v.to_slice()) {
        add_row(ms, vs);
        return;
    }
    for mut row in m.axis_iter_mut(Axis(0)) {
        row.zip_mut_with(&v, |x, &b| *x += b);
    }
}

/// [`add_row_in_place`] on buffers: `m` is row-major with `v.len()` columns.
pub fn add_row<F: Element>(m: &mut [F], v: &[F]) {
    for row in m.chunks_exact_mut(v.len().max(1)) {
        for (x, &b) in row.iter_mut().zip(v) {
            *x += b;
        }
    }
}

/// Slices from this long are updated by [`sub_scaled`] on two threads (a few MB: memory-bound
/// work that two cores' bandwidth speeds up).
const PARALLEL_AXPY: usize = 1 << 20;

/// Inside [`with_warm_threads`], [`sub_scaled`] splits from this length (256 KiB of `f32`): the
/// other thread is awake, so the split costs no wake-up. W2's SGD step (235,146 parameters)
/// was 6% of its samples on one thread while the other spun (docs/performance.md, fourteenth
/// session).
const PARALLEL_AXPY_WARM: usize = 1 << 16;

/// `y ← y − alpha·x` element-wise (plain SGD's update), over the common length of `y` and `x`;
/// split across two threads for long slices. Each element is computed the same either way.
#[inline]
pub fn sub_scaled<F: Element>(y: &mut [F], alpha: F, x: &[F]) {
    let len = y.len().min(x.len());
    let (y, x) = (&mut y[..len], &x[..len]);
    let from = if pool::warm() { PARALLEL_AXPY_WARM } else { PARALLEL_AXPY };
    if len >= from && threads() >= 2 {
        let (y1, y2) = y.split_at_mut(len / 2);
        let (x1, x2) = x.split_at(len / 2);
        rayon::join(|| sub_scaled_serial(y1, alpha, x1), || sub_scaled_serial(y2, alpha, x2));
    } else {
        sub_scaled_serial(y, alpha, x);
    }
}

/// Compiled for the baseline, AVX2 and AVX-512; the CPU picks at run time. The same multiply and
/// subtract on every build (no contraction), so the same bits.
#[multiversion::multiversion(targets("x86_64+avx512f", "x86_64+avx2"))]
fn sub_scaled_serial<F: Element>(y: &mut [F], alpha: F, x: &[F]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y -= alpha * x;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Matrix;
    use ndarray::{array, s};

    /// The transpose of `x`, stored row-major (`x.t().to_owned()` would keep `x`'s memory
    /// order, so its `.t()` would be row-major again, not the column-major view tests want).
    fn transposed<F: Element>(x: &Matrix<F>) -> Matrix<F> {
        x.t().as_standard_layout().into_owned()
    }

    fn naive(a: &Matrix<f64>, b: &Matrix<f64>) -> Matrix<f64> {
        Matrix::from_shape_fn((a.nrows(), b.ncols()), |(i, j)| (0..a.ncols()).map(|p| a[[i, p]] * b[[p, j]]).sum())
    }

    fn check(m: usize, k: usize, n: usize) {
        let a = Matrix::from_shape_fn((m, k), |(i, j)| (i as f64 + 1.0) * 0.5 - j as f64 * 0.25);
        let b = Matrix::from_shape_fn((k, n), |(i, j)| (j as f64 - 0.5) * (i as f64 + 0.3));
        let want = naive(&a, &b);
        let close = |c: &Matrix<f64>, w: &Matrix<f64>| (c - w).iter().all(|d| d.abs() < 1e-9 * (1.0 + k as f64));
        let mut c = Matrix::zeros((m, n));
        matmul_into(a.view(), b.view(), c.view_mut(), false);
        assert!(close(&c, &want), "plain {m}x{k}x{n}");
        // Transposed operands through views: (bᵀ aᵀ)ᵀ = a b.
        let (at, bt) = (transposed(&a), transposed(&b));
        let mut ct = Matrix::zeros((n, m));
        matmul_into(bt.view(), at.view(), ct.view_mut(), false);
        assert!(close(&ct.t().to_owned(), &want), "into a transpose {m}x{k}x{n}");
        // Every combination of row- and column-major operands.
        for (av, bv) in [(a.view(), bt.t()), (at.t(), b.view()), (at.t(), bt.t())] {
            let mut c2 = Matrix::from_elem((m, n), 7.0);
            matmul_into(av, bv, c2.view_mut(), false);
            assert!(close(&c2, &want), "transposed {m}x{k}x{n}");
            matmul_into(av, bv, c2.view_mut(), true);
            assert!(close(&c2, &(&want * 2.0)), "accumulate {m}x{k}x{n}");
        }
        // Strided operands and output.
        let wide_a = Matrix::from_shape_fn((m, 2 * k), |(i, j)| if j % 2 == 0 { a[[i, j / 2]] } else { f64::NAN });
        let mut wide_c = Matrix::from_elem((m, 2 * n), 5.0);
        matmul_into(wide_a.slice(s![.., ..;2]), b.view(), wide_c.slice_mut(s![.., ..;2]), false);
        assert!(close(&wide_c.slice(s![.., ..;2]).to_owned(), &want), "strided {m}x{k}x{n}");
        assert!(wide_c.slice(s![.., 1..;2]).iter().all(|&x| x == 5.0), "strided {m}x{k}x{n} wrote outside");
    }

    /// Whichever build the CPU picks (baseline, AVX2, AVX-512), and on one thread or two, each
    /// element is `y − alpha·x` rounded as written, in f32 and f64.
    #[test]
    fn sub_scaled_is_the_plain_update_at_every_length() {
        let mut rng = crate::rng::seeded(9);
        for len in (0..=70).chain([PARALLEL_AXPY + 3]) {
            check_sub_scaled(len, &mut rng);
        }
        // In a warm scope long slices split from a shorter length.
        let _alone = pool::tests::warm_scopes_to_myself();
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("a pool");
        pool.install(|| {
            with_warm_threads(|| {
                assert!(pool::warm(), "a warm scope");
                for len in [PARALLEL_AXPY_WARM - 1, PARALLEL_AXPY_WARM, PARALLEL_AXPY_WARM + 3, 235_146] {
                    check_sub_scaled(len, &mut rng);
                }
            })
        });
    }

    /// `sub_scaled` on `len` random elements against `y − alpha·x` rounded as written, f64 and f32.
    fn check_sub_scaled(len: usize, rng: &mut crate::rng::SeededRng) {
        let x: Vec<f64> = (0..len).map(|_| crate::rng::unit(rng) - 0.5).collect();
        let y: Vec<f64> = (0..len).map(|_| crate::rng::unit(rng) * 4.0 - 2.0).collect();
        let alpha = 0.37;
        let mut got = y.clone();
        sub_scaled(&mut got, alpha, &x);
        let want: Vec<f64> = y.iter().zip(&x).map(|(&y, &x)| y - alpha * x).collect();
        assert!(got == want, "f64, length {len}");

        let (x32, mut got32): (Vec<f32>, Vec<f32>) =
            (x.iter().map(|&v| v as f32).collect(), y.iter().map(|&v| v as f32).collect());
        let want32: Vec<f32> = got32.iter().zip(&x32).map(|(&y, &x)| y - 0.37f32 * x).collect();
        sub_scaled(&mut got32, 0.37f32, &x32);
        assert!(got32 == want32, "f32, length {len}");
    }

    #[test]
    fn small_and_large_products_agree_with_the_definition() {
        for &(m, k, n) in &[(1, 1, 1), (4, 2, 2), (3, 5, 7), (8, 6, 1), (32, 33, 34), (64, 7, 65), (200, 150, 120)] {
            check(m, k, n);
        }
    }

    #[test]
    fn small_products_sum_in_index_order() {
        // Bit-for-bit the sequential sum from zero (multiply, then add; `c + Σ` when
        // accumulating), whatever the layouts: row- and column-major buffers and strided views of
        // the operands and of the output. Sizes: the tiny kernels (k, n ≤ 4), the fixed widths
        // (2, 4, 8), the general small loops, and the largest small product.
        for &(m, k, n) in &[(4, 3, 2), (5, 4, 4), (6, 9, 8), (3, 8, 5), (7, 11, 6), (16, 16, 16)] {
            assert!(m * k * n <= SMALL_GEMM);
            let mut rng = crate::rng::seeded((m * 100 + k * 10 + n) as u64);
            let mut draw = |r, c| Matrix::from_shape_fn((r, c), |_| crate::rng::unit(&mut rng) * 2.0 - 1.0);
            let (a, b, c0) = (draw(m, k), draw(k, n), draw(m, n));
            let sum = |i: usize, j: usize| {
                let mut acc = 0.0;
                for p in 0..k {
                    acc += a[[i, p]] * b[[p, j]];
                }
                acc
            };
            let want = Matrix::from_shape_fn((m, n), |(i, j)| sum(i, j));
            let want_acc = Matrix::from_shape_fn((m, n), |(i, j)| c0[[i, j]] + sum(i, j));
            // The packing GEMM's fused multiply-adds give other bits on these values: the test
            // tells the two apart.
            let mut fused = Matrix::zeros((m, n));
            large((m, k, n), a.view(), b.view(), fused.view_mut(), false);
            assert_ne!(fused, want, "{m}x{k}x{n}: values where fused and unfused sums differ");

            let (at, bt) = (transposed(&a), transposed(&b));
            let mut spread_a = Matrix::zeros((m, 2 * k));
            spread_a.slice_mut(s![.., ..;2]).assign(&a);
            let mut spread_b = Matrix::zeros((2 * k, n));
            spread_b.slice_mut(s![..;2, ..]).assign(&b);
            let layouts = [
                ("a·b", a.view(), b.view()),
                ("a·(bᵀ)ᵀ", a.view(), bt.t()),
                ("(aᵀ)ᵀ·b", at.t(), b.view()),
                ("(aᵀ)ᵀ·(bᵀ)ᵀ", at.t(), bt.t()),
                ("strided a", spread_a.slice(s![.., ..;2]), b.view()),
                ("strided b", a.view(), spread_b.slice(s![..;2, ..])),
            ];
            for (name, av, bv) in layouts {
                for accumulate in [false, true] {
                    let want = if accumulate { &want_acc } else { &want };
                    let mut c = c0.clone();
                    matmul_into(av, bv, c.view_mut(), accumulate);
                    assert_eq!(&c, want, "{name}, {m}x{k}x{n}, accumulate {accumulate}");
                    let mut wide = Matrix::from_elem((m, 2 * n), f64::NAN);
                    wide.slice_mut(s![.., ..;2]).assign(&c0);
                    matmul_into(av, bv, wide.slice_mut(s![.., ..;2]), accumulate);
                    assert_eq!(&wide.slice(s![.., ..;2]), want, "{name} into a strided c, {m}x{k}x{n}");
                }
            }
        }
    }

    /// Products just above [`SMALL_GEMM`] go to the packing GEMM whatever their layouts, and
    /// give its fixed order's bits (FMA chains) through [`matmul_into`], not the small loops'.
    #[test]
    fn products_above_the_small_size_take_the_packing_gemm_in_every_layout() {
        if !large_products_in_fixed_order() {
            eprintln!("this processor has no AVX2/FMA: large products have no fixed order to check");
            return;
        }
        for &(m, k, n) in &[(17, 16, 16), (40, 30, 20)] {
            assert!(m * k * n > SMALL_GEMM);
            let mut rng = crate::rng::seeded((m * k * n) as u64);
            let mut draw = |r, c| Matrix::from_shape_fn((r, c), |_| crate::rng::unit(&mut rng) * 2.0 - 1.0);
            let (a, b, c0) = (draw(m, k), draw(k, n), draw(m, n));
            let (at, bt) = (transposed(&a), transposed(&b));
            let mut spread_a = Matrix::zeros((m, 2 * k));
            spread_a.slice_mut(s![.., ..;2]).assign(&a);
            for accumulate in [false, true] {
                let want = packed::tests::definition(a.view(), b.view(), &c0, accumulate);
                let mut unfused = c0.clone();
                small_views(a.view(), b.view(), unfused.view_mut(), accumulate);
                assert_ne!(unfused, want, "{m}x{k}x{n}: values where the small loops' bits differ");
                let layouts = [
                    ("a·b", a.view(), b.view()),
                    ("a·(bᵀ)ᵀ", a.view(), bt.t()),
                    ("(aᵀ)ᵀ·b", at.t(), b.view()),
                    ("strided a", spread_a.slice(s![.., ..;2]), b.view()),
                ];
                for (name, av, bv) in layouts {
                    let mut c = c0.clone();
                    matmul_into(av, bv, c.view_mut(), accumulate);
                    assert_eq!(c, want, "{name}, {m}x{k}x{n}, accumulate {accumulate}");
                    let mut wide = Matrix::from_elem((m, 2 * n), f64::NAN);
                    wide.slice_mut(s![.., ..;2]).assign(&c0);
                    matmul_into(av, bv, wide.slice_mut(s![.., ..;2]), accumulate);
                    assert_eq!(wide.slice(s![.., ..;2]), want, "{name} into a strided c, {m}x{k}x{n}");
                }
            }
        }
    }

    /// An operand that does not hold its shape is refused, not read out of bounds or short.
    #[test]
    #[should_panic(expected = "matmul: operand a is not 3×5")]
    fn an_operand_of_the_wrong_length_is_refused() {
        let mut c = [0.0f64; 3 * 6];
        gemm((3, 5, 6), Operand::Rows(&[1.0; 14]), Operand::Rows(&[1.0; 30]), &mut c, false);
    }

    #[test]
    fn large_products_give_the_same_bits_on_one_and_two_threads() {
        // Above PARALLEL_GEMM, in every layout the network uses (a·W, aᵀ·δ, δ·Wᵀ), f32 and f64.
        fn case<F: Element>(m: usize, k: usize, n: usize) {
            assert!(m * k * n >= pool::PARALLEL_GEMM);
            let value = |i: usize, j: usize| F::of(((i * 7 + j * 13) % 29) as f64 / 29.0 - 0.4);
            let a = Matrix::from_shape_fn((m, k), |(i, j)| value(i, j));
            let b = Matrix::from_shape_fn((k, n), |(i, j)| value(j, i + 3));
            let (at, bt) = (transposed(&a), transposed(&b));
            for (av, bv) in [(a.view(), b.view()), (at.t(), b.view()), (a.view(), bt.t())] {
                let on = |threads: usize| {
                    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a pool");
                    let mut c = Matrix::<F>::zeros((m, n));
                    pool.install(|| {
                        assert_eq!(super::threads(), threads);
                        matmul_into(av, bv, c.view_mut(), false);
                        matmul_into(av, bv, c.view_mut(), true);
                    });
                    c
                };
                let one = on(1);
                assert_eq!(one, on(2), "{m}x{k}x{n}");
                assert!(one.iter().all(|x| x.is_finite()));
            }
        }
        case::<f32>(200, 230, 190);
        case::<f64>(300, 110, 260);
    }

    #[test]
    fn empty_dimensions() {
        let mut c = Matrix::from_elem((2, 3), 1.0);
        matmul_into(Matrix::<f64>::zeros((2, 0)).view(), Matrix::zeros((0, 3)).view(), c.view_mut(), false);
        assert!(c.iter().all(|&x| x == 0.0));
        let mut e = Matrix::<f64>::zeros((0, 3));
        matmul_into(Matrix::zeros((0, 4)).view(), Matrix::zeros((4, 3)).view(), e.view_mut(), false);
        // The same through a strided output (the packing GEMM's path): k = 0 clears, or keeps
        // `c` when accumulating, and leaves the skipped columns alone.
        let mut wide = Matrix::from_elem((2, 6), 1.0);
        let (a, b) = (Matrix::<f64>::zeros((2, 0)), Matrix::zeros((0, 3)));
        matmul_into(a.view(), b.view(), wide.slice_mut(s![.., ..;2]), true);
        assert!(wide.iter().all(|&x| x == 1.0));
        matmul_into(a.view(), b.view(), wide.slice_mut(s![.., ..;2]), false);
        assert!(wide.slice(s![.., ..;2]).iter().all(|&x| x == 0.0));
        assert!(wide.slice(s![.., 1..;2]).iter().all(|&x| x == 1.0));
    }

    #[test]
    fn rows_sum_and_bias_add() {
        let m = array![[1.0, 2.0], [3.0, 4.0]];
        let mut s = array![10.0, 10.0];
        sum_rows_into(m.view(), s.view_mut(), false);
        assert_eq!(s, array![4.0, 6.0]);
        sum_rows_into(m.t(), s.view_mut(), true);
        assert_eq!(s, array![7.0, 13.0]);
        let mut m2 = m.clone();
        add_row_in_place(m2.view_mut(), s.view());
        assert_eq!(m2, array![[8.0, 15.0], [10.0, 17.0]]);
        add_row_in_place(m2.view_mut().reversed_axes(), array![1.0, 2.0].view());
        assert_eq!(m2, array![[9.0, 16.0], [12.0, 19.0]]);
    }
}
