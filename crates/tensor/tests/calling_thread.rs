//! `linalg::adopt_calling_thread`, in a process of its own: it changes rayon's global pool,
//! which only the first call in a process can build.

use backprop_tensor::linalg::{adopt_calling_thread, matmul_into, threads};
use backprop_tensor::rng::{seeded, unit};
use ndarray::Array2;

#[test]
fn the_calling_thread_joins_the_global_pool_and_products_keep_their_bits() {
    assert_eq!(rayon::current_thread_index(), None, "a plain thread before");
    let pool_size = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    assert!(adopt_calling_thread(), "the first call builds the pool");
    assert_eq!(rayon::current_thread_index(), Some(0), "this thread is the pool's first");
    assert_eq!(rayon::current_num_threads(), pool_size, "counted among the usual number of threads");
    assert!(!adopt_calling_thread(), "only once");

    // 256·256·256 = 2²⁴ multiply-adds: two threads where there are two.
    let mut rng = seeded(3);
    let mut random = |r, c| Array2::from_shape_fn((r, c), |_| unit(&mut rng) * 2.0 - 1.0);
    let (a, b) = (random(256, 256), random(256, 256));
    let mut here = Array2::<f64>::zeros((256, 256));
    matmul_into(a.view(), b.view(), here.view_mut(), false);
    let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let mut alone = Array2::<f64>::zeros((256, 256));
    one_thread.install(|| {
        assert_eq!(threads(), 1);
        matmul_into(a.view(), b.view(), alone.view_mut(), false);
    });
    assert_eq!(threads(), pool_size.min(2));
    assert!(here.iter().zip(&alone).all(|(x, y)| x.to_bits() == y.to_bits()), "the same bits");
}
