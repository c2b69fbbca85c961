//! A warm training step allocates nothing: a counting global allocator watches the threads that
//! run it while the trainer runs epochs (forward, loss, backward, optimiser step, evaluation),
//! large products included on x86-64 with AVX2 and FMA. Inside a rayon pool every thread of the
//! pool is watched, so the half of a product that runs on another thread counts too. Elsewhere
//! products large enough for the packing GEMM are the one exception, checked apart:
//! `matrixmultiply` allocates its packing buffers per call, a fixed count per product.
#![allow(unsafe_code)] // A global allocator is an `unsafe impl`; it only counts and forwards.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use backprop_cli::config::BatchSize;
use backprop_cli::train::{TrainOptions, Trainer};
use backprop_data::DataSpec;
use backprop_layers::{LayerSpec, Network};
use backprop_loss::LossSpec;
use backprop_optim::OptimizerSpec;
use backprop_optim::schedule::{LrScheduleSpec, ScheduleSpec};
use backprop_tensor::rng::seeded;

struct Counting;

thread_local! {
    /// The counter this thread's allocations go to, while it is watched. Each counting window
    /// has a counter of its own, so the windows of tests running side by side stay apart.
    static COUNTER: Cell<Option<&'static AtomicUsize>> = const { Cell::new(None) };
}

/// Adds one to the watching window's counter, if this thread is watched.
fn count_one() {
    if let Some(counter) = COUNTER.get() {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: forwards every call to the system allocator unchanged; only counts allocations made
// on a watched thread.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The allocations `f` makes on this thread, and on every thread of the pool when it runs inside
/// [`watching_the_pool`].
fn allocations_during(f: impl FnOnce()) -> usize {
    let window = start_counting();
    f();
    stop_counting(window)
}

/// A counting window: the counter it reads, the count it started from, and whether it set the
/// counter up itself (for this thread alone).
type Window = (&'static AtomicUsize, usize, bool);

/// Opens a counting window: on the counter that watches this thread already (inside
/// [`watching_the_pool`]), or else on a new one watching this thread alone.
fn start_counting() -> Window {
    match COUNTER.get() {
        Some(counter) => (counter, counter.load(Ordering::SeqCst), false),
        None => {
            let counter: &'static AtomicUsize = Box::leak(Box::new(AtomicUsize::new(0)));
            COUNTER.set(Some(counter));
            (counter, 0, true)
        }
    }
}

/// The allocations `f` makes run by the pool's other thread (inside [`watching_the_pool`], on
/// a pool of two): the second closure of a `join`, which the other thread must steal, since
/// the first waits for it.
fn allocations_on_the_other_thread(f: impl FnOnce() + Send) -> usize {
    let this = rayon::current_thread_index();
    let done = AtomicBool::new(false);
    allocations_during(|| {
        rayon::join(
            || {
                while !done.load(Ordering::Acquire) {
                    std::hint::spin_loop();
                }
            },
            || {
                assert_ne!(rayon::current_thread_index(), this, "run by the other thread");
                f();
                done.store(true, Ordering::Release);
            },
        );
    })
}

/// Waits (at most 30 s) until the pool's other thread spins for this thread's
/// `with_warm_threads`: it can take milliseconds to pick its job up.
fn wait_until_the_other_thread_spins() {
    let start = std::time::Instant::now();
    while backprop_tensor::linalg::spinning_threads() == 0 {
        assert!(start.elapsed().as_secs() < 30, "the other thread never spins");
        std::thread::yield_now();
    }
}

/// Closes a window; the allocations since it opened.
fn stop_counting((counter, start, own): Window) -> usize {
    let n = counter.load(Ordering::SeqCst) - start;
    if own {
        COUNTER.set(None);
    }
    n
}

/// Runs `f` on a thread of `pool` with every thread of the pool watched by one counter (the
/// other halves of split products, the thread a `with_warm_threads` keeps spinning), which the
/// windows inside read. The threads are set up before `f` starts, not per window: the owner of
/// a warm scope waiting for a broadcast would run its own spinning job (and end it) itself.
fn watching_the_pool<R: Send>(pool: &rayon::ThreadPool, f: impl FnOnce() -> R + Send) -> R {
    let counter: &'static AtomicUsize = Box::leak(Box::new(AtomicUsize::new(0)));
    pool.broadcast(|_| COUNTER.set(Some(counter)));
    let r = pool.install(f);
    pool.broadcast(|_| COUNTER.set(None));
    r
}

fn check(batch_size: BatchSize, optimizer: &str, activations: &[&str]) {
    check_with(batch_size, optimizer, activations, TrainOptions::default());
}

fn check_with(batch_size: BatchSize, optimizer: &str, activations: &[&str], extra: TrainOptions) {
    let data = DataSpec::FullAdder {}.load::<f64>().unwrap();
    let mut layers: Vec<LayerSpec> =
        activations.iter().map(|a| LayerSpec::new(4, backprop_layers::ActivationSpec::from_name(a).unwrap())).collect();
    layers.last_mut().unwrap().units = data.outputs();
    let mut net = Network::<f64>::new(data.features(), &layers);
    for (i, p) in net.params_mut().iter_mut().enumerate() {
        *p = ((i * 7919) % 13) as f64 / 13.0 - 0.5;
    }
    let opts = TrainOptions { epochs: 10, batch_size, log_every: 0, ..extra };
    let (loss, optimizer_spec) =
        (LossSpec::from_name("half_mse").unwrap(), OptimizerSpec::from_name(optimizer).unwrap());
    let mut trainer = Trainer::new(net, &data, loss.get(), optimizer_spec.get(), opts);
    let mut rng = seeded(1);
    trainer.evaluate();
    trainer.epoch(&mut rng);
    trainer.evaluate();
    let n = allocations_during(|| {
        for _ in 0..20 {
            trainer.epoch(&mut rng);
            let cost = trainer.evaluate();
            trainer.end_epoch(cost);
        }
    });
    assert_eq!(n, 0, "{batch_size:?} {optimizer} {activations:?}: {n} allocations in 20 warm epochs");
}

#[test]
fn warm_epochs_allocate_nothing() {
    for optimizer in backprop_optim::OptimizerSpec::NAMES {
        check(BatchSize::Full, optimizer, &["sigmoid", "tanh", "sigmoid"]);
        check(BatchSize::Size(3), optimizer, &["relu", "identity"]);
    }
    // Every schedule (with a warm-up, steps within the 20 epochs), with both clippings.
    for name in ScheduleSpec::NAMES {
        let mut spec = ScheduleSpec::from_name(name).unwrap();
        match &mut spec {
            ScheduleSpec::Step(s) => s.step_size = 4,
            ScheduleSpec::MultiStep(s) => s.milestones = vec![5, 9],
            ScheduleSpec::Cosine(s) => s.t_max = 8,
            ScheduleSpec::Exponential(s) => s.gamma = 0.9,
            _ => {}
        }
        backprop_tensor::Validate::validate(&spec).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let mut schedule = LrScheduleSpec::new(spec);
        schedule.warmup_epochs = 3;
        let extra = TrainOptions {
            schedule: Some(schedule),
            clip_norm: Some(0.5),
            clip_value: Some(0.1),
            ..Default::default()
        };
        check_with(BatchSize::Size(3), "adam", &["tanh", "sigmoid"], extra);
    }
    for act in backprop_layers::ActivationSpec::NAMES {
        check(BatchSize::Size(5), "sgd", &[act, act]);
    }
}

/// An MLP big enough for the packing GEMM (every product has more than `SMALL_GEMM`
/// multiply-adds): a warm epoch allocates nothing where large products run in the fixed order
/// (x86-64 with AVX2 and FMA: the kernels keep their packing buffers per thread); elsewhere the
/// same small number of times each epoch, at most three per large product (`matrixmultiply`'s
/// packing buffers), nothing of ours.
#[test]
fn large_products_allocate_at_most_the_gemm_packing_buffers() {
    large_product_epochs();
}

/// A first layer of 1024 inputs and 2048 units: its `xᵀ·δ` (a column-major `a` of 1024 rows, an
/// output of 2048 columns) is one the FMA kernels copy row-major first, into a scratch buffer
/// each thread keeps (`linalg/packed.rs`, `COPY_MIN_ROWS` and `COPY_MIN_COLS`): warm epochs
/// allocate nothing for it either. In a pool of one thread, so that the product is not split
/// into halves too narrow to be copied, and runs on the counted thread.
#[test]
fn the_row_major_copy_of_a_large_operand_is_kept_between_epochs() {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("a pool");
    watching_the_pool(&pool, || large_product_epochs_of(16, 1024, 2048, 10));
}

/// The same inside `with_warm_threads` in a pool of two threads, where the products of this net
/// (2²⁰ multiply-adds and more) split over both: the split and the spinning thread, which runs
/// the other halves, allocate nothing per epoch either. The epochs wait for the other thread to
/// spin (it can take milliseconds to pick its job up, longer than the epochs take), so that the
/// halves it steals are counted on it. Which halves it steals depends on the scheduler: on the
/// dev VM both threads were now and then put on one core, and the calling thread then ran most
/// halves itself; an allocation in the other half was caught in about half the runs there, in
/// none before every thread was counted.
#[test]
fn warm_threads_allocate_nothing_per_epoch() {
    use backprop_tensor::linalg::with_warm_threads;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("a pool");
    watching_the_pool(&pool, || {
        with_warm_threads(|| {
            wait_until_the_other_thread_spins();
            large_product_epochs();
        });
    });
}

/// The thread that a `with_warm_threads` keeps spinning allocates nothing for the first product
/// it runs: the kernels' packing buffer, which each thread sets up on its first product, is set
/// up before it spins. Otherwise a pool thread that ran no product while the loop warmed up
/// (the calling thread ran both halves, say, with the other thread put on its core) made that
/// one allocation in a later epoch: CI once saw counts of [0, 0, 1, 0, 0] in the test above.
/// Here the other thread's first product is forced: a product run by the second closure of a
/// `join`, which the spinning thread must steal, since the first waits for it.
#[test]
fn the_spinning_thread_is_ready_for_its_first_product() {
    use backprop_tensor::Matrix;
    use backprop_tensor::linalg::{SMALL_GEMM, matmul_into, with_warm_threads};
    if !backprop_tensor::linalg::large_products_in_fixed_order() {
        return; // `matrixmultiply` allocates its packing buffers per product anyway.
    }
    // Above the small-product loops, below the size that splits over two threads when warm.
    let (m, k, n) = (64, 64, 128);
    assert!(m * k * n > SMALL_GEMM && !backprop_tensor::linalg::splits_when_warm(m * k * n));
    let (a, b) = (Matrix::<f32>::ones((m, k)), Matrix::<f32>::ones((k, n)));
    let mut c = Matrix::<f32>::zeros((m, n));
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("a pool");
    watching_the_pool(&pool, || {
        with_warm_threads(|| {
            wait_until_the_other_thread_spins();
            let n = allocations_on_the_other_thread(|| matmul_into(a.view(), b.view(), c.view_mut(), false));
            assert_eq!(n, 0, "allocations in the spinning thread's first product");
        });
    });
    assert_eq!(c[[0, 0]], k as f32);
}

/// Five warm epochs of the MLP of the two tests above: checks their allocation counts.
fn large_product_epochs() {
    large_product_epochs_of(64, 300, 224, 10);
}

/// Five warm epochs of a `features`-`hidden`-`classes` MLP on `rows` samples: checks their
/// allocation counts.
fn large_product_epochs_of(rows: usize, features: usize, hidden: usize, classes: usize) {
    use backprop_data::Dataset;
    use backprop_tensor::Matrix;
    use backprop_tensor::linalg::{SMALL_GEMM, splits_when_warm};

    for (m, k, n) in [(rows, features, hidden), (rows, hidden, classes), (features, rows, hidden)] {
        assert!(m * k * n > SMALL_GEMM, "{m}x{k}x{n} must take the packing GEMM");
    }
    if backprop_tensor::linalg::threads() >= 2 {
        assert!(splits_when_warm(rows * features * hidden), "the first layer's products split when warm");
    }
    let data = Dataset {
        name: "blobs".into(),
        inputs: Matrix::from_shape_fn((rows, features), |(i, j)| ((i * 31 + j * 7) % 11) as f32 / 11.0),
        targets: Matrix::from_shape_fn((rows, classes), |(i, j)| if i % classes == j { 1.0 } else { 0.0 }),
    };
    let act = |name| backprop_layers::ActivationSpec::from_name(name).unwrap();
    let mut net =
        Network::<f32>::new(features, &[LayerSpec::new(hidden, act("relu")), LayerSpec::new(classes, act("softmax"))]);
    for (i, p) in net.params_mut().iter_mut().enumerate() {
        *p = ((i * 7919) % 13) as f32 / 130.0 - 0.05;
    }
    // Enough parameters (2¹⁶) that SGD's update splits over the two threads when warm.
    assert!(net.params().len() >= 1 << 16, "{} parameters", net.params().len());
    let opts = TrainOptions { epochs: 10, batch_size: BatchSize::Full, log_every: 0, ..TrainOptions::default() };
    let (loss, sgd) = (LossSpec::from_name("cross_entropy").unwrap(), OptimizerSpec::from_name("sgd").unwrap());
    let mut trainer = Trainer::new(net, &data, loss.get(), sgd.get(), opts);
    let mut rng = seeded(1);
    trainer.evaluate();
    trainer.epoch(&mut rng);
    trainer.evaluate();
    // Per epoch: backward's three products (∂W of both layers, δ·Wᵀ of the output layer) and the
    // evaluation's forward pass (two products).
    let products = 5;
    let counts: Vec<usize> = (0..5)
        .map(|_| {
            allocations_during(|| {
                trainer.epoch(&mut rng);
                let cost = trainer.evaluate();
                trainer.end_epoch(cost);
            })
        })
        .collect();
    assert!(counts.iter().all(|&c| c == counts[0]), "allocations differ between warm epochs: {counts:?}");
    if backprop_tensor::linalg::large_products_in_fixed_order() {
        assert_eq!(counts[0], 0, "allocations in a warm epoch of {products} large products");
    } else {
        assert!(counts[0] <= 3 * products, "{} allocations in a warm epoch of {products} large products", counts[0]);
    }
}

/// The counter works: an allocation inside the window is seen.
#[test]
fn the_counter_sees_allocations() {
    assert!(allocations_during(|| drop(std::hint::black_box(vec![1u8; 16]))) >= 1);
}

/// The counter sees an allocation on the pool's other thread: the second closure of a `join`,
/// which the other thread must steal, since the first waits for it.
#[test]
fn the_counter_sees_allocations_on_the_pools_other_thread() {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("a pool");
    watching_the_pool(&pool, || {
        let n = allocations_on_the_other_thread(|| drop(std::hint::black_box(vec![1u8; 16])));
        assert!(n >= 1, "{n} allocations seen");
    });
}

/// `Trainer::run_with`'s own loop allocates nothing once warm either: the lean full-batch epochs
/// (a tiny net, a larger one) and the general ones (mini-batches), counted from epoch 5 to 25
/// by an observer.
#[test]
fn the_run_loop_allocates_nothing_once_warm() {
    use backprop_cli::train::{EpochMetrics, Flow, Observer};
    struct Count(Option<Window>, Option<usize>);
    impl Observer<f64> for Count {
        fn epoch_end(&mut self, _: &Trainer<'_, f64>, m: &EpochMetrics) -> Flow {
            match m.epoch {
                5 => self.0 = Some(start_counting()),
                25 => self.1 = self.0.take().map(stop_counting),
                _ => {}
            }
            Flow::Continue
        }
    }
    let data = DataSpec::FullAdder {}.load::<f64>().unwrap();
    let sigmoid = || backprop_layers::ActivationSpec::from_name("sigmoid").unwrap();
    for (hidden, batch_size) in [(2, BatchSize::Full), (40, BatchSize::Full), (3, BatchSize::Size(3))] {
        let net = Network::<f64>::new(3, &[LayerSpec::new(hidden, sigmoid()), LayerSpec::new(2, sigmoid())]);
        let opts = TrainOptions { epochs: 30, batch_size, log_every: 0, ..TrainOptions::default() };
        let (loss, sgd) = (LossSpec::from_name("half_mse").unwrap(), OptimizerSpec::from_name("sgd").unwrap());
        let trainer = Trainer::new(net, &data, loss.get(), sgd.get(), opts);
        let mut count = Count(None, None);
        let outcome = trainer.run_with(&mut seeded(1), &mut count);
        assert_eq!(outcome.epochs_run, 30);
        assert_eq!(count.1, Some(0), "{hidden} hidden, {batch_size:?}: allocations in epochs 6 to 25");
    }
}
