// The scratch program behind docs/bench/pg-compare-devvm.txt: the `gemm` crate 0.19 (x86-v4
// kernels) against `private-gemm-x86` 0.1.22 (faer's x86-64 kernels, without its own threads) on
// the workloads' product shapes, in the layouts the network uses (a·W; aᵀ·δ, whose left operand
// is column-major; δ·Wᵀ, whose right operand is), f32, c row-major; best of 7 samples of >= 50 ms.
// Two threads: the gemm crate's `Parallelism::Rayon(2)` against the output split in two along its
// longer side with rayon::join (what backprop-tensor does). Also: whether private-gemm-x86's
// result equals the fixed-order definition (an FMA chain over p in blocks of 512) bit for bit on
// 64 sampled elements, and the allocations each call makes. For the aᵀ·δ products, a second line:
// private-gemm-x86 after copying the column-major `a` into a row-major scratch buffer (tiles of
// 32×32, on each thread for its half), the copy timed with the product. Not part of the workspace:
// cargo new pg-compare, this file as src/main.rs, the [dependencies] gemm = { version = "0.19",
// default-features = false, features = ["std", "rayon", "x86-v4"] }, private-gemm-x86 =
// { version = "=0.1.22", default-features = false, features = ["std"] }, rayon = "1";
// cargo build --release; RAYON_NUM_THREADS=2 target/release/pg-compare. private-gemm-x86 runs its
// AVX-512 kernels where the processor has AVX-512F (as backprop-tensor does), else its AVX2 ones;
// the first line says which. docs/bench/lease/build.sh builds it this way for a lease.
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 { ALLOCS.fetch_add(1, Ordering::Relaxed); unsafe { System.alloc(l) } }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) { unsafe { System.dealloc(p, l) } }
}
#[global_allocator]
static A: Counting = Counting;

fn time(mut f: impl FnMut()) -> f64 {
    for _ in 0..3 { f(); }
    let mut best = f64::MAX;
    for _ in 0..7 {
        let t = Instant::now();
        let mut n = 0;
        while t.elapsed().as_secs_f64() < 0.05 || n < 1 { f(); n += 1; }
        best = best.min(t.elapsed().as_secs_f64() / n as f64);
    }
    best
}

#[derive(Clone, Copy)]
struct P { m: usize, k: usize, n: usize, ta: bool, tb: bool }
impl P {
    // a: m×k, stored k×m row-major when ta; b: k×n, stored n×k row-major when tb.
    fn a_strides(self) -> (isize, isize) { if self.ta { (1, self.m as isize) } else { (self.k as isize, 1) } }
    fn b_strides(self) -> (isize, isize) { if self.tb { (1, self.k as isize) } else { (self.n as isize, 1) } }
}

fn crate_gemm(p: P, a: &[f32], b: &[f32], c: &mut [f32], threads: usize) {
    let ((a_rs, a_cs), (b_rs, b_cs)) = (p.a_strides(), p.b_strides());
    let par = if threads > 1 { gemm::Parallelism::Rayon(threads) } else { gemm::Parallelism::None };
    unsafe { gemm::gemm(p.m, p.n, p.k, c.as_mut_ptr(), 1, p.n as isize, false, a.as_ptr(), a_cs, a_rs, b.as_ptr(), b_cs, b_rs, 0.0f32, 1.0f32, false, false, false, par) }
}

// Rows r0..r1 and columns c0..c1 of c, on the calling thread.
fn pg_block(p: P, a: &[f32], b: &[f32], c: usize, (r0, r1, c0, c1): (usize, usize, usize, usize)) {
    use private_gemm_x86::*;
    let ((a_rs, a_cs), (b_rs, b_cs)) = (p.a_strides(), p.b_strides());
    let alpha = 1.0f32;
    unsafe {
        gemm(DType::F32, IType::U64, kernels(), r1 - r0, c1 - c0, p.k, (c as *mut f32).add(r0 * p.n + c0) as *mut (), p.n as isize, 1,
            std::ptr::null(), std::ptr::null(), DstKind::Full, Accum::Replace,
            a.as_ptr().offset(r0 as isize * a_rs) as *const (), a_rs, a_cs, false, std::ptr::null(), 0,
            b.as_ptr().offset(c0 as isize * b_cs) as *const (), b_rs, b_cs, false, &raw const alpha as *const (), 1)
    }
}

fn kernels() -> private_gemm_x86::InstrSet {
    if std::arch::is_x86_feature_detected!("avx512f") { private_gemm_x86::InstrSet::Avx512 } else { private_gemm_x86::InstrSet::Avx256 }
}

fn pg(p: P, a: &[f32], b: &[f32], c: &mut [f32], threads: usize) {
    let cp = c.as_mut_ptr() as usize;
    if threads < 2 {
        pg_block(p, a, b, cp, (0, p.m, 0, p.n));
    } else if p.n >= p.m {
        rayon::join(|| pg_block(p, a, b, cp, (0, p.m, 0, p.n / 2)), || pg_block(p, a, b, cp, (0, p.m, p.n / 2, p.n)));
    } else {
        rayon::join(|| pg_block(p, a, b, cp, (0, p.m / 2, 0, p.n)), || pg_block(p, a, b, cp, (p.m / 2, p.m, 0, p.n)));
    }
}

// pg after copying a column-major `a` (ta) into a row-major scratch (the copy timed with it).
fn pg_copy_a(p: P, a: &[f32], b: &[f32], c: &mut [f32], threads: usize, scratch: &mut Vec<f32>) {
    if !p.ta { return pg(p, a, b, c, threads); }
    scratch.resize(p.m * p.k, 0.0);
    // a is stored k×m row-major; scratch = its transpose, m×k row-major, in 32×32 tiles.
    for i0 in (0..p.m).step_by(32) { for q0 in (0..p.k).step_by(32) {
        for i in i0..(i0 + 32).min(p.m) { for q in q0..(q0 + 32).min(p.k) { scratch[i * p.k + q] = a[q * p.m + i]; } }
    } }
    pg(P { ta: false, ..p }, scratch, b, c, threads);
}

fn definition(p: P, a: &[f32], b: &[f32], i: usize, j: usize) -> f32 {
    let ((a_rs, a_cs), (b_rs, b_cs)) = (p.a_strides(), p.b_strides());
    let mut out = 0.0f32;
    for (block, start) in (0..p.k).step_by(512).enumerate() {
        let mut s = 0.0f32;
        for q in start..(start + 512).min(p.k) {
            s = a[(i as isize * a_rs + q as isize * a_cs) as usize].mul_add(b[(q as isize * b_rs + j as isize * b_cs) as usize], s);
        }
        out = if block == 0 { s } else { out + s };
    }
    out
}

fn main() {
    let shapes = [
        ("W2 b32 a·W1", P { m: 32, k: 784, n: 256, ta: false, tb: false }),
        ("W2 b32 aᵀ·δ1", P { m: 784, k: 32, n: 256, ta: true, tb: false }),
        ("W2 b32 a·W2", P { m: 32, k: 256, n: 128, ta: false, tb: false }),
        ("W2 b32 aᵀ·δ2", P { m: 256, k: 32, n: 128, ta: true, tb: false }),
        ("W2 b32 δ2·W2ᵀ", P { m: 32, k: 128, n: 256, ta: false, tb: true }),
        ("W2 b128 a·W1", P { m: 128, k: 784, n: 256, ta: false, tb: false }),
        ("W2 b128 aᵀ·δ1", P { m: 784, k: 128, n: 256, ta: true, tb: false }),
        ("W2 b128 a·W2", P { m: 128, k: 256, n: 128, ta: false, tb: false }),
        ("W2 b128 aᵀ·δ2", P { m: 256, k: 128, n: 128, ta: true, tb: false }),
        ("W2 b128 δ2·W2ᵀ", P { m: 128, k: 128, n: 256, ta: false, tb: true }),
        ("W3 a·W1", P { m: 256, k: 1024, n: 4096, ta: false, tb: false }),
        ("W3 a·W2", P { m: 256, k: 4096, n: 4096, ta: false, tb: false }),
        ("W3 a·W3", P { m: 256, k: 4096, n: 10, ta: false, tb: false }),
        ("W3 aᵀ·δ1", P { m: 1024, k: 256, n: 4096, ta: true, tb: false }),
        ("W3 aᵀ·δ2", P { m: 4096, k: 256, n: 4096, ta: true, tb: false }),
        ("W3 δ2·W2ᵀ", P { m: 256, k: 4096, n: 4096, ta: false, tb: true }),
        ("W3 δ3·W3ᵀ", P { m: 256, k: 10, n: 4096, ta: false, tb: true }),
    ];

    let mut seed = 1u32;
    let mut rnd = move || { seed = seed.wrapping_mul(1664525).wrapping_add(1013904223); (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5 };
    println!("# private-gemm-x86 kernels: {}", if matches!(kernels(), private_gemm_x86::InstrSet::Avx512) { "AVX-512" } else { "AVX2" });
    println!("{:16} {:>15} | {:>8} {:>8} {:>6} | {:>8} {:>8} {:>6} | {:>10} {:>9}", "product", "m×k×n", "gemm 1t", "pg 1t", "ratio", "gemm 2t", "pg 2t", "ratio", "definition", "allocs");
    for (name, p) in shapes {
        let a: Vec<f32> = (0..p.m * p.k).map(|_| rnd()).collect();
        let b: Vec<f32> = (0..p.k * p.n).map(|_| rnd()).collect();
        let mut c = vec![0f32; p.m * p.n];
        let gf = |t: f64| 2.0 * (p.m * p.k * p.n) as f64 / t / 1e9;
        let (g1, q1) = (time(|| crate_gemm(p, &a, &b, &mut c, 1)), time(|| pg(p, &a, &b, &mut c, 1)));
        let (g2, q2) = (time(|| crate_gemm(p, &a, &b, &mut c, 2)), time(|| pg(p, &a, &b, &mut c, 2)));
        let mut scratch = Vec::new();
        let q3 = time(|| pg_copy_a(p, &a, &b, &mut c, 2, &mut scratch));
        let q4 = time(|| pg_copy_a(p, &a, &b, &mut c, 1, &mut scratch));
        let mut exact = true;
        for threads in [1, 2] {
            pg(p, &a, &b, &mut c, threads);
            for s in 0..64 {
                let (i, j) = ((s * 7919) % p.m, (s * 104729) % p.n);
                exact &= c[i * p.n + j].to_bits() == definition(p, &a, &b, i, j).to_bits();
            }
        }
        let before = ALLOCS.load(Ordering::Relaxed);
        pg(p, &a, &b, &mut c, 1);
        let allocs = ALLOCS.load(Ordering::Relaxed) - before;
        println!("{name:16} {:>15} | {:8.1} {:8.1} {:6.2} | {:8.1} {:8.1} {:6.2} | {:>10} {:>9}",
            format!("{}×{}×{}", p.m, p.k, p.n), gf(g1), gf(q1), g1 / q1, gf(g2), gf(q2), g2 / q2, if exact { "bit-equal" } else { "DIFFERS" }, allocs);
        if p.ta { println!("{:>16} {:>15} | {:>8} {:8.1} {:>6} | {:>8} {:8.1}  (a copied row-major first, the copy timed with it)", "  copy of a", "", "", gf(q4), "", "", gf(q3)); }
    }
}
