//! The one place that chooses between `std` and `loom` synchronization types.
//!
//! Every atomic, lock and shared pointer the crate uses comes from here, so
//! that building with `RUSTFLAGS="--cfg loom"` swaps all of them for loom's
//! model-checked versions and the loom suite in `loom-tests/` explores the
//! interleavings of the real code. The `std` side is shaped like loom's API
//! (as in tokio's `src/loom/`), not the reverse.
//!
//! Lock poisoning is stripped here, once: the crate's critical sections
//! restore every invariant before they can panic (they only move tokens in
//! and out of an `Option` and cancel tokens), so a poisoned lock still guards
//! consistent data.

#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    Arc,
};
#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    Arc,
};
// Fences: only the group's wait protocol uses one (the tokio wing).
#[cfg(all(loom, feature = "tokio"))]
pub(crate) use loom::sync::atomic::fence;
#[cfg(all(not(loom), feature = "tokio"))]
pub(crate) use std::sync::atomic::fence;

/// Thread-local storage: under loom each modelled thread needs its own copy
/// (loom runs its threads on one OS thread), so the macro comes from here too.
#[cfg(loom)]
pub(crate) use loom::thread_local;
#[cfg(not(loom))]
pub(crate) use std::thread_local;

/// Parking, for the blocking waits' single-waiter slot (engine invariant
/// E10): a handle to the current thread, stored for the completer to
/// unpark, and `park`.
#[cfg(loom)]
pub(crate) use loom::thread::{current, park, Thread};
#[cfg(not(loom))]
pub(crate) use std::thread::{current, park, Thread};

/// `std::thread::park_timeout`. Loom has no clock and no timed park: there
/// the timeout is modelled as a yield, a park that may return at any
/// moment (a timeout or a spurious wake-up, which every caller of `park`
/// must tolerate anyway).
#[cfg(not(loom))]
pub(crate) use std::thread::park_timeout;
#[cfg(loom)]
pub(crate) fn park_timeout(_timeout: std::time::Duration) {
    loom::thread::yield_now();
}

/// `std`'s `Arc` under every cfg, for two uses: wakers (`std::task::Wake` is
/// implemented only for `std::sync::Arc`; the waker's payload holds a shim
/// [`Arc`]), and G and Group, which run on tokio (which loom does not model)
/// and expose `Arc`s in their public API (`TaskError::Failed`), which must
/// not change type under `--cfg loom`.
pub(crate) use std::sync::Arc as StdArc;

/// A mutex whose `lock` cannot fail: poisoning is ignored (see the module doc).
pub(crate) struct Mutex<T>(imp::Mutex<T>);

/// The guard [`Mutex::lock`] returns.
pub(crate) type MutexGuard<'a, T> = imp::MutexGuard<'a, T>;

impl<T> Mutex<T> {
    /// A new unlocked mutex.
    pub(crate) fn new(value: T) -> Self {
        Mutex(imp::Mutex::new(value))
    }

    /// Locks, ignoring poisoning.
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        match self.0.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

#[cfg(loom)]
mod imp {
    pub(crate) use loom::sync::{Mutex, MutexGuard};
}
#[cfg(not(loom))]
mod imp {
    pub(crate) use std::sync::{Mutex, MutexGuard};
}
