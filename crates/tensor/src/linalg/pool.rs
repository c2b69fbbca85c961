//! The thread pool behind the large products: how many threads a product uses, the calling
//! thread made one of rayon's ([`adopt_calling_thread`]), and the warm scope
//! ([`with_warm_threads`]) in which the pool's other thread spins between products instead of
//! sleeping, under the wait policy of [`WAIT_POLICY_VAR`].

use std::cell::Cell;
use std::ffi::OsStr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// Products with `m·k·n` from this on (8.4·10⁶ multiply-adds) run on two threads. Measured on
/// a 2-core AVX-512 Xeon (docs/performance.md): W2's batch-32 products (at most 6.4·10⁶) lose
/// 25–35% on two threads, since waking the second thread for each one costs more than it saves;
/// W2's batch-128 products (up to 25.7·10⁶) and every W3 product (10⁷ to 4.3·10⁹, the output
/// layer's included) gain 15–25%.
pub(super) const PARALLEL_GEMM: usize = 1 << 23;

/// Inside [`with_warm_threads`], products split over two threads from this size on (1.0·10⁶
/// multiply-adds): the other thread is already awake, so a split costs no wake-up. On the dev VM
/// W2 at batch 32 (whose products, up to 6.4·10⁶, stayed on one thread) ran 35–40% faster, and
/// at batch 128 (docs/performance.md, ninth session).
const PARALLEL_GEMM_WARM: usize = 1 << 20;

thread_local! {
    /// Whether this thread is running the closure of a [`with_warm_threads`].
    static WARM: Cell<bool> = const { Cell::new(false) };
}

/// Whether this thread is running the closure of a [`with_warm_threads`] (the other thread of
/// the pool awake).
pub(super) fn warm() -> bool {
    WARM.get()
}

/// The size from which a product on this thread splits over two threads.
pub(super) fn parallel_from() -> usize {
    if warm() { PARALLEL_GEMM_WARM } else { PARALLEL_GEMM }
}

/// Whether a product of `madds` multiply-adds would split over two threads inside
/// [`with_warm_threads`]: what decides whether a training loop is worth keeping a thread warm for.
pub fn splits_when_warm(madds: usize) -> bool {
    threads() >= 2 && madds >= PARALLEL_GEMM_WARM
}

/// The environment variable that stops [`with_warm_threads`] from keeping a thread spinning,
/// as `OMP_WAIT_POLICY` does for OpenMP: `passive` (no spinning: the second core stays free, on
/// a shared machine say, and products split from the cold size again), or `active`, the default.
/// Case does not matter; empty is unset.
pub const WAIT_POLICY_VAR: &str = "BACKPROP_WAIT_POLICY";

/// Whether the environment's [`WAIT_POLICY_VAR`] lets [`with_warm_threads`] keep a thread
/// spinning: `Ok(true)` when it is unset or `active`, `Ok(false)` for `passive`, an error
/// naming the variable and its value for anything else. Read once per process. The `backprop`
/// and `xtask` binaries refuse a bad value (exit 2) before doing anything; the library takes it
/// as `active`.
pub fn active_wait() -> Result<bool, String> {
    static POLICY: OnceLock<Result<bool, String>> = OnceLock::new();
    POLICY.get_or_init(|| wait_policy(std::env::var_os(WAIT_POLICY_VAR).as_deref())).clone()
}

/// [`active_wait`] for the variable's `value`.
fn wait_policy(value: Option<&OsStr>) -> Result<bool, String> {
    let Some(value) = value.filter(|v| !v.is_empty()) else { return Ok(true) };
    match value.to_str().map(str::to_ascii_lowercase).as_deref() {
        Some("active") => Ok(true),
        Some("passive") => Ok(false),
        _ => Err(format!("{WAIT_POLICY_VAR}={}: expected `active` or `passive`", value.to_string_lossy())),
    }
}

/// Runs `f` (a training loop) with one other thread of the pool kept awake: it spins, running
/// any pool work that appears (the other half of each product), instead of going to sleep
/// between products (yielding its CPU between checks to any other thread that wants it, so
/// that on a core it shares with `f`'s thread it takes little from it). On the dev VM a
/// sleeping pool thread took 40–60 µs to start a half product (`docs/performance.md`, ninth
/// session), as long as a whole product of W2 at batch 32; awake,
/// it starts at once, so products split over two threads from 2²⁰ multiply-adds instead of
/// 2²³. What OpenMP's active wait policy does for BLAS libraries; the cost is a second core
/// busy while `f` runs.
///
/// Only on a thread of a rayon pool with at least two threads (the binaries' main thread is one,
/// see [`adopt_calling_thread`]); elsewhere, or nested, it just runs `f`. Results do not
/// change: each element of a product is computed whole by one thread, whichever. One allocation
/// (the spinning job), and the spinning thread's packing buffer if it has none yet; none per
/// product. With `BACKPROP_WAIT_POLICY=passive` in the
/// environment ([`WAIT_POLICY_VAR`]) it just runs `f`.
pub fn with_warm_threads<R>(f: impl FnOnce() -> R) -> R {
    warm_scope(active_wait().unwrap_or(true), f)
}

/// [`with_warm_threads`] under the wait policy `active` (false: just run `f`).
fn warm_scope<R>(active: bool, f: impl FnOnce() -> R) -> R {
    /// Stops the spinning job, and leaves the warm scope, also when `f` panics.
    struct Scope(Arc<AtomicBool>);
    impl Drop for Scope {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Release);
            WARM.set(false);
        }
    }
    if !active || threads() < 2 || rayon::current_thread_index().is_none() || WARM.get() {
        return f();
    }
    WARM.set(true);
    let stop = Arc::new(AtomicBool::new(false));
    let _scope = Scope(Arc::clone(&stop));
    rayon::spawn(move || {
        // A thread in a warm scope of its own (this one, waiting on a half product, or another
        // training's) has its own work to do: only an otherwise idle thread spins.
        // Nor does a job that starts after its scope has ended (it can start late: "Eighteenth
        // session" in performance.md).
        if WARM.get() || stop.load(Ordering::Acquire) {
            return;
        }
        // Its first half product then allocates nothing, whenever it comes.
        super::packed::prepare_thread();
        SPINNING.fetch_add(1, Ordering::Relaxed);
        while !stop.load(Ordering::Acquire) {
            // With no pool work, give the CPU to any other thread that wants it: alone on its
            // core this returns at once, but when the scheduler has put this thread on the
            // training thread's core, spinning would take half of that core from it (W2 ran at
            // 44 k and 51 k samples/s so, against 89 k and 99 k with the yield: performance.md,
            // "Twenty-third session").
            if rayon::yield_now() != Some(rayon::Yield::Executed) {
                std::thread::yield_now();
            }
        }
        SPINNING.fetch_sub(1, Ordering::Relaxed);
    });
    f()
}

/// How many threads spin for a [`with_warm_threads`] right now.
static SPINNING: AtomicUsize = AtomicUsize::new(0);

/// How many threads of the process spin for a [`with_warm_threads`] right now: for tests and
/// diagnostics. The spinning thread starts when the pool's other thread picks its job up, which
/// on the dev VM took from a few microseconds to 13 ms after the scope began; until then
/// products split from 2²⁰ multiply-adds as inside the scope, but their other halves wait for
/// whichever thread is free (often the calling one, which then runs both).
pub fn spinning_threads() -> usize {
    SPINNING.load(Ordering::Relaxed)
}

/// How many threads a large product uses: 2 when the machine has at least two (rayon's pool,
/// `RAYON_NUM_THREADS` to override), else 1. Products below 2²³ multiply-adds always run on
/// the calling thread.
pub fn threads() -> usize {
    rayon::current_num_threads().min(2)
}

/// Makes the calling thread one of the threads of rayon's global pool, which it builds with the
/// usual number of threads (`RAYON_NUM_THREADS`, else one per core; [`pool_threads`]: at most
/// one per core, and at least two allowed) counting this one: what a
/// binary's `main` calls first, before anything uses the pool. A product on two threads then
/// works on one half itself and leaves the other to one pool thread, instead of handing both
/// halves to the pool and sleeping until they are done (two thread switches per product):
/// W2 at batch 128 ran 13% faster on the dev VM. Results do not change (a product gives the same
/// bits on one and two threads). Returns false, changing nothing, when the global pool already
/// exists.
///
/// Call it from a thread that lives as long as the process (the main thread): the pool keeps
/// counting it as one of its threads.
pub fn adopt_calling_thread() -> bool {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let threads = pool_threads(std::env::var("RAYON_NUM_THREADS").ok().as_deref(), cores);
    rayon::ThreadPoolBuilder::new().num_threads(threads).use_current_thread().build_global().is_ok()
}

/// The global pool's threads for a `RAYON_NUM_THREADS` of `env` on `cores` cores: the
/// variable's value when it is a positive number (rayon ignores anything else), else `cores`,
/// but never more than `max(cores, 2)`. Nothing here uses more threads than cores (products at
/// most two), and `RAYON_NUM_THREADS=20000` made a pool of 20,000 threads: a run of 0.1 s
/// took minutes to start.
pub fn pool_threads(env: Option<&str>, cores: usize) -> usize {
    let wanted = env.and_then(|v| v.trim().parse::<usize>().ok()).filter(|&n| n > 0).unwrap_or(cores);
    wanted.min(cores.max(2))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::Matrix;
    use crate::linalg::matmul_into;

    /// Held by each test that opens a warm scope: `SPINNING` counts the whole process's spinning
    /// threads, and the test harness runs tests side by side (one test's spinning thread was
    /// once counted by another's "nothing spins" on a loaded machine).
    pub(in crate::linalg) static WARM_SCOPES: std::sync::Mutex<()> = std::sync::Mutex::new(());

    pub(in crate::linalg) fn warm_scopes_to_myself() -> std::sync::MutexGuard<'static, ()> {
        WARM_SCOPES.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits (at most 10 s) until `done`.
    fn eventually(what: &str, done: impl Fn() -> bool) {
        let t0 = std::time::Instant::now();
        while !done() {
            assert!(t0.elapsed().as_secs() < 10, "{what}");
            std::thread::yield_now();
        }
    }

    /// Inside `with_warm_threads`, in a pool of two: one other thread spins until the closure
    /// returns (or panics), products split from 2²⁰ multiply-adds, and they keep their bits.
    /// Outside a pool, or nested, it only runs the closure.
    #[test]
    fn warm_threads_spin_while_the_closure_runs_and_keep_the_bits() {
        let _alone = warm_scopes_to_myself();
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("a pool");
        // 128·128·64 = 2²⁰: one thread when cold, two when warm.
        let a = Matrix::from_shape_fn((128, 128), |(i, j)| ((i * 7 + j * 3) % 17) as f64 / 17.0 - 0.4);
        let b = Matrix::from_shape_fn((128, 64), |(i, j)| ((i * 5 + j * 11) % 13) as f64 / 13.0 - 0.6);
        let product = || {
            let mut c = Matrix::<f64>::zeros((128, 64));
            matmul_into(a.view(), b.view(), c.view_mut(), false);
            c
        };
        let cold = pool.install(|| {
            assert_eq!(parallel_from(), PARALLEL_GEMM);
            product()
        });
        let warm = pool.install(|| {
            with_warm_threads(|| {
                assert_eq!(parallel_from(), PARALLEL_GEMM_WARM);
                assert!(splits_when_warm(128 * 128 * 64) && !splits_when_warm(128 * 128 * 64 - 1));
                eventually("the other thread spins", || SPINNING.load(Ordering::Relaxed) == 1);
                // Nested: no second spinning thread (there is none to spare).
                with_warm_threads(|| assert_eq!(parallel_from(), PARALLEL_GEMM_WARM));
                product()
            })
        });
        assert!(cold.iter().zip(&warm).all(|(x, y)| x.to_bits() == y.to_bits()), "the same bits");
        eventually("the spinning stops", || SPINNING.load(Ordering::Relaxed) == 0);
        pool.install(|| assert_eq!(parallel_from(), PARALLEL_GEMM, "the scope is left"));
        // A panic leaves the scope too.
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.install(|| with_warm_threads(|| panic!("in the closure")))
        }));
        assert!(panicked.is_err());
        eventually("the spinning stops after a panic", || SPINNING.load(Ordering::Relaxed) == 0);
        pool.install(|| assert_eq!(parallel_from(), PARALLEL_GEMM, "left after a panic"));
        // Not a pool thread: nothing to keep warm.
        assert_eq!(with_warm_threads(parallel_from), PARALLEL_GEMM);
        // The passive wait policy: no spinning, products split from the cold size.
        let passive = pool.install(|| {
            warm_scope(false, || {
                assert_eq!(parallel_from(), PARALLEL_GEMM);
                std::thread::sleep(std::time::Duration::from_millis(20));
                assert_eq!(SPINNING.load(Ordering::Relaxed), 0, "nothing spins");
                product()
            })
        });
        assert!(cold.iter().zip(&passive).all(|(x, y)| x.to_bits() == y.to_bits()), "the same bits");
    }

    #[test]
    fn the_wait_policy_is_active_unless_the_environment_says_passive() {
        let policy = |v: Option<&str>| wait_policy(v.map(OsStr::new));
        for (value, active) in [(None, true), (Some(""), true), (Some("active"), true), (Some("ACTIVE"), true)] {
            assert_eq!(policy(value), Ok(active), "{value:?}");
        }
        for value in ["passive", "Passive", "PASSIVE"] {
            assert_eq!(policy(Some(value)), Ok(false), "{value}");
        }
        for value in ["pasive", "spin", "0", " passive"] {
            let err = policy(Some(value)).expect_err(value);
            assert!(err.contains(WAIT_POLICY_VAR) && err.contains(value), "{err}");
        }
    }

    #[test]
    fn the_pool_has_at_most_a_thread_per_core_and_may_have_two() {
        assert_eq!(pool_threads(Some("20000"), 2), 2);
        assert_eq!(pool_threads(Some("20000"), 16), 16);
        assert_eq!(pool_threads(Some("2"), 1), 2, "two threads are allowed on one core");
        assert_eq!(pool_threads(Some("3"), 1), 2);
        assert_eq!(pool_threads(Some("1"), 16), 1);
        assert_eq!(pool_threads(None, 16), 16);
        for garbage in ["abc", "0", "-1", ""] {
            assert_eq!(pool_threads(Some(garbage), 4), 4, "{garbage:?}: rayon's default");
        }
    }
}
