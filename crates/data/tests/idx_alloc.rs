//! An IDX header that lies about its size is refused without allocating for what it claims: a
//! global allocator records the largest single allocation this thread makes while loading.
#![allow(unsafe_code)] // A global allocator is an `unsafe impl`; it only records and forwards.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use common::{assert_mentions, error, gzip, idx_images, idx_labels, scratch, write};

struct Recording;

thread_local! {
    static RECORDING: Cell<bool> = const { Cell::new(false) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn record(size: usize) {
    // `try_with`: thread-locals may be gone while a thread exits.
    let _ = RECORDING.try_with(|on| {
        if on.get() {
            let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
        }
    });
}

// SAFETY: forwards every call to the system allocator unchanged; only records sizes.
unsafe impl GlobalAlloc for Recording {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Recording = Recording;

/// The largest allocation `f` makes on this thread.
fn largest_allocation(f: impl FnOnce()) -> usize {
    LARGEST.with(|l| l.set(0));
    RECORDING.with(|r| r.set(true));
    f();
    RECORDING.with(|r| r.set(false));
    LARGEST.with(Cell::get)
}

const SPEC: &str = "source = \"idx\"\nimages = \"img\"\nlabels = \"lab\"";

#[test]
fn lying_headers_allocate_nothing_like_their_claims() {
    let dir = scratch("idx-alloc");
    write(&dir, "lab", idx_labels(&[1]));
    // Raw, 10¹² bytes claimed: refused against the file's size.
    write(&dir, "img", idx_images(1_000_000, 1000, 1000, &[7; 100]));
    let big = largest_allocation(|| assert_mentions(&error(&dir, SPEC), &["truncated IDX file"]));
    assert!(big < 1 << 20, "largest allocation {big} bytes");
    // Gzipped, 10¹² bytes claimed: refused against the limit.
    write(&dir, "img", gzip(&idx_images(1_000_000, 1000, 1000, &[7; 100])));
    let big = largest_allocation(|| assert_mentions(&error(&dir, SPEC), &["more than the limit"]));
    assert!(big < 1 << 20, "largest allocation {big} bytes");
    // Gzipped, 1.9 GB claimed (under the limit), 100 bytes there: read incrementally.
    write(&dir, "lab", idx_labels(&[1; 1900]));
    write(&dir, "img", gzip(&idx_images(1900, 1000, 1000, &[7; 100])));
    let big = largest_allocation(|| assert_mentions(&error(&dir, SPEC), &["truncated IDX file"]));
    assert!(big < 2 << 20, "largest allocation {big} bytes");
}
