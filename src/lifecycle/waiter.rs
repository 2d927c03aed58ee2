//! The single-waiter slot of an instance (engine invariant E10): where the
//! first [`Wait`](crate::Wait) for a run's end that has to block keeps its
//! waker or its thread, without allocating and without the listener list.
//!
//! One wait at a time owns the slot (`owned`, claimed with one
//! compare-and-swap, released when that wait resolves or is dropped); any
//! other wait meanwhile uses the instance's listener list, as before. The
//! waiter itself sits behind a crate mutex, so loom models it. Foreign code
//! (waking, unparking, cloning or dropping a waker) never runs under that
//! lock (spec/README.md, section 13).

use core::task::Waker;

use crate::sync::{current, AtomicBool, Mutex, Ordering, Thread};

/// What the completer wakes.
pub(crate) enum Waiter {
    /// An async wait: its task's waker.
    Task(Waker),
    /// A blocking wait: its thread, parked (or about to park).
    Thread(Thread),
}

impl Waiter {
    /// The current thread, for a blocking wait.
    pub(crate) fn this_thread() -> Waiter {
        Waiter::Thread(current())
    }

    /// Wakes the waiter: foreign code, so never under a crate lock.
    fn wake(self) {
        match self {
            Waiter::Task(waker) => waker.wake(),
            Waiter::Thread(thread) => thread.unpark(),
        }
    }
}

/// The slot: an ownership flag and the owner's waiter.
pub(crate) struct WaiterSlot {
    /// Whether a wait owns the slot.
    owned: AtomicBool,
    /// The owner's waiter, `None` before it is stored, once the completer
    /// took it, and once the slot is released.
    waiter: Mutex<Option<Waiter>>,
}

impl WaiterSlot {
    /// A free, empty slot.
    pub(crate) fn new() -> WaiterSlot {
        WaiterSlot {
            owned: AtomicBool::new(false),
            waiter: Mutex::new(None),
        }
    }

    /// Claims the slot for the calling wait: `true` if it now owns it (and
    /// must [`release`](Self::release) it), `false` if another wait does.
    #[inline]
    pub(crate) fn claim(&self) -> bool {
        // Acquire pairs with the Release store of `release`: the previous
        // owner's clearing of the waiter (its unlock) happens before our
        // store (our lock). Relaxed on failure: nothing is read.
        self.owned
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Stores the owner's waiter (under the lock); the waiter it replaces
    /// (a stale one, or the owner's previous waker) is dropped after the
    /// lock is released.
    #[inline]
    pub(crate) fn store(&self, waiter: Waiter) {
        let old = self.waiter.lock().replace(waiter);
        drop(old);
    }

    /// Makes the owner's stored waker `waker`: nothing if the stored one
    /// wakes the same task (a pointer comparison, no foreign code), else a
    /// clone made outside the lock and stored. The caller re-checks the
    /// word afterwards (invariant E10).
    #[inline]
    pub(crate) fn update_waker(&self, waker: &Waker) {
        let same = matches!(&*self.waiter.lock(), Some(Waiter::Task(w)) if w.will_wake(waker));
        if !same {
            self.store(Waiter::Task(waker.clone()));
        }
    }

    /// Releases the owner's claim: clears the waiter (so a dropped
    /// future's waker is not kept alive), then frees the slot.
    #[inline]
    pub(crate) fn release(&self) {
        let old = self.waiter.lock().take();
        // Release pairs with the Acquire of `claim`: our clearing happens
        // before the next owner's store.
        self.owned.store(false, Ordering::Release);
        drop(old);
    }

    /// The completer's side: takes the waiter under the lock and wakes it
    /// after releasing the lock; `true` if there was one. A stale waiter
    /// (its wait already resolved, or re-polled with another waker) is
    /// woken for nothing: waits re-check the word and wait again.
    #[inline]
    pub(crate) fn wake(&self) -> bool {
        let waiter = self.waiter.lock().take();
        match waiter {
            Some(waiter) => {
                waiter.wake();
                true
            }
            None => false,
        }
    }
}
