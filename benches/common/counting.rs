//! The counting global allocator of the benches that report allocations
//! (`memory.rs`, `tasks.rs`): every allocation adds one to a counter and its
//! requested size to a byte counter; every deallocation adds its size to a
//! freed-bytes counter, so the live heap is the difference.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);
static FREED: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // `Relaxed` (all three counters): counters read after the measured
        // work on its thread; nothing is published through them.
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        FREED.fetch_add(layout.size() as u64, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Counted as a new allocation of `new_size` and a free of the old
        // block, as the default `realloc` (alloc, copy, dealloc) would be.
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        FREED.fetch_add(layout.size() as u64, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations so far, in the whole process.
pub fn allocs() -> u64 {
    ALLOCS.load(Ordering::Relaxed)
}

/// Bytes requested so far (the layouts' sizes, not the allocator's rounded
/// block sizes), in the whole process.
#[allow(dead_code)] // used by memory.rs, not by tasks.rs
pub fn bytes() -> u64 {
    BYTES.load(Ordering::Relaxed)
}

/// Bytes requested and not freed yet: the live heap, in the whole process.
#[allow(dead_code)] // used by memory.rs, not by tasks.rs
pub fn live_bytes() -> i64 {
    BYTES.load(Ordering::Relaxed) as i64 - FREED.load(Ordering::Relaxed) as i64
}
