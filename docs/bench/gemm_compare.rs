// The scratch program behind docs/bench/gemm-compare.txt: matrixmultiply 0.3 against the gemm crate 0.19
// on the workloads' product shapes (row-major f32, c = a·b), best of 7 samples of >= 50 ms, and
// the allocations gemm makes per call (counting global allocator). Not part of the workspace:
// cargo new gemm-compare && cd gemm-compare && cargo add matrixmultiply --features avx512,threading
// && cargo add gemm --no-default-features --features std,rayon,x86-v4 && cargo add rayon,
// this file as src/main.rs, cargo build --release; run as `gemm-compare 1` and
// `MATMUL_NUM_THREADS=2 RAYON_NUM_THREADS=2 gemm-compare 2`.
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
fn main() {
    let threads: usize = std::env::args().nth(1).map(|s| s.parse().unwrap()).unwrap_or(1);
    let shapes = [(32,784,256),(32,256,128),(32,128,10),(784,32,256),(256,32,128),(32,128,256),(128,784,256),(784,128,256),(256,1024,4096),(256,4096,4096),(4096,256,4096)];
    for (m,k,n) in shapes {
        let a = vec![0.5f32; m*k]; let b = vec![0.25f32; k*n]; let mut c = vec![0f32; m*n];
        let fl = 2.0*(m*k*n) as f64;
        let t1 = time(|| unsafe { matrixmultiply::sgemm(m,k,n,1.0,a.as_ptr(),k as isize,1,b.as_ptr(),n as isize,1,0.0,c.as_mut_ptr(),n as isize,1) });
        let par = if threads > 1 { gemm::Parallelism::Rayon(threads) } else { gemm::Parallelism::None };
        let mut g = || unsafe { gemm::gemm(m,n,k,c.as_mut_ptr(),1,n as isize,false,a.as_ptr(),1,k as isize,b.as_ptr(),1,n as isize,0.0f32,1.0f32,false,false,false,par) };
        let t2 = time(&mut g);
        let before = ALLOCS.load(Ordering::Relaxed);
        for _ in 0..10 { g(); }
        let ga = ALLOCS.load(Ordering::Relaxed) - before;
        println!("{m}x{k}x{n}: mm {:.1} GF/s  gemm {:.1} GF/s  gemm allocs/10 calls {ga}", fl/t1/1e9, fl/t2/1e9);
    }
}
