//! The parent watch: turns the cancellation of an instance's parent token
//! into a `ParentCancel` transition, eagerly, inside the parent's
//! `cancel()` (invariant E6), and without recursion for nested instances
//! (invariant E7, the per-thread work list).

use core::cell::RefCell;
#[cfg(not(loom))]
use core::task::Waker;

use crate::lifecycle::engine::Inner;
use crate::lifecycle::table::Event;
use crate::sync::Arc;

/// Arms the parent watch of `inner` if it is not armed yet (invariant
/// E11): from then on the parent's cancellation applies `ParentCancel`
/// inside the parent's `cancel()`; if the parent is already cancelled, it is
/// applied now. One load when armed already or without a parent. Called by
/// every call that reads the instance without a transition of its own
/// (`state()`, `context()`, `done()`, `closed()`, `Debug`) before it reads.
#[inline]
pub(crate) fn arm(inner: &Arc<Inner>) {
    if inner.load().unwatched() {
        arm_now(inner);
    }
}

/// The first read of a watched instance: registers the watch. (`state()`
/// calls it directly when the word it loaded has `U` set.)
#[cold]
#[inline(never)]
pub(crate) fn arm_now(inner: &Arc<Inner>) {
    inner.poll_watch(&waker(inner));
    // Another reader may be arming at the same time, and may have found the
    // cancellation without having applied it yet (invariant E11).
    inner.catch_up_with_parent();
}

/// The watch's waker: it owns a reference to the instance (invariant E5),
/// and waking it fires the watch ([`fire`]) on the thread that cancelled
/// the parent: parent cancellation is observed eagerly (spec/README.md,
/// "Parent cancellation").
///
/// Without loom the instance's own `Arc` is the waker (`Inner` implements
/// `Wake`), so arming a watch allocates nothing beyond the parent's future;
/// `Wake` is implemented for `std`'s `Arc` only, so under loom, whose `Arc`
/// the instance then lives in, a small `std` `Arc` holds the loom one. The
/// wake-up path after that ([`propagate`], [`fire`]) is the same code.
#[cfg(not(loom))]
fn waker(inner: &Arc<Inner>) -> Waker {
    Waker::from(Arc::clone(inner))
}

#[cfg(not(loom))]
impl std::task::Wake for Inner {
    fn wake(self: Arc<Self>) {
        propagate(self);
    }
    // `wake_by_ref` keeps its default (a clone, then `wake`): tokio's
    // `Notify` wakes by value.
}

// Under loom, in its own file (compiled only with `--cfg loom`, so the
// mutation runs leave it out as they do the group's loom facade).
#[cfg(loom)]
mod loom_waker;
#[cfg(loom)]
use loom_waker::waker;

/// What a wake-up does: applies `ParentCancel` if the parent is cancelled,
/// else registers the watch again.
fn fire(inner: &Arc<Inner>) {
    if inner.parent_is_cancelled() {
        inner.transition(Event::ParentCancel);
    } else {
        // A wake-up that was not a cancellation: register again.
        inner.poll_watch(&waker(inner));
    }
}

// Not `const { .. }`: loom's `thread_local!` has no const form.
#[allow(clippy::missing_const_for_thread_local)]
mod propagation_list {
    use super::{Arc, Inner, RefCell};

    crate::sync::thread_local! {
    /// The work list of the parent cancellation this thread is propagating
    /// (invariant E7): `Some` while a watch fires on this thread; a watch
    /// woken meanwhile (by the token its instance's transition cancels) is
    /// pushed here instead of firing inside that transition.
    pub(super) static PROPAGATION: RefCell<Option<Vec<Arc<Inner>>>> = RefCell::new(None);
    }
}
use propagation_list::PROPAGATION;

/// Fires `watch`, and every watch its firing wakes, one after the other on
/// this thread's stack (invariant E7): a chain of N nested instances takes N
/// iterations of one loop, not N nested frames. The outermost call returns
/// only when the list is empty, so the thread that cancelled the root token
/// still sees every descendant closed when its `cancel()` returns.
fn propagate(watch: Arc<Inner>) {
    let nested = PROPAGATION.try_with(|list| match list.borrow_mut().as_mut() {
        Some(pending) => {
            pending.push(Arc::clone(&watch));
            true
        }
        None => false,
    });
    let Ok(nested) = nested else {
        // This thread's thread-locals are being destroyed (an instance
        // dropped by another thread-local's destructor): no work list, so
        // the watch fires in place, one frame per level as without the list.
        fire(&watch);
        return;
    };
    if nested {
        return;
    }
    PROPAGATION.with(|list| *list.borrow_mut() = Some(Vec::new()));
    // Ends the propagation even if a firing panics (a tracing subscriber, or
    // an engine bug): the watches still pending then fire from the guard, so
    // no descendant is left open.
    let _end = EndPropagation;
    let mut next = Some(watch);
    while let Some(watch) = next {
        fire(&watch);
        next = PROPAGATION.with(|list| list.borrow_mut().as_mut().and_then(Vec::pop));
    }
}

/// Clears this thread's work list when the outermost [`propagate`] returns
/// or unwinds; on unwind, fires what was still pending.
struct EndPropagation;

impl Drop for EndPropagation {
    fn drop(&mut self) {
        let pending = PROPAGATION.with(|list| list.borrow_mut().take());
        for watch in pending.into_iter().flatten() {
            propagate(watch);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::lifecycle::table::{Kind, Phase};

    /// The word's `U` bit (invariant E11): set for an instance with a
    /// parent until its first read arms the watch, clear after it (so
    /// later reads are one load), clear too once the last handle is gone;
    /// never set without a parent.
    #[test]
    fn the_first_read_arms_the_watch_once() {
        let parent = CancellationToken::new();
        let inner = Arc::new(Inner::new(Kind::Many, Some(&parent)));
        assert!(inner.load().unwatched(), "not armed before a read");
        arm(&inner);
        assert!(!inner.load().unwatched(), "armed by the first read");
        parent.cancel();
        assert_eq!(inner.load().phase(), Phase::Closed, "the watch fired");

        let unread = Arc::new(Inner::new(Kind::Many, Some(&parent)));
        unread.drop_handle();
        assert!(
            !unread.load().unwatched(),
            "nothing to watch after the last handle"
        );

        let orphan = Inner::new(Kind::Many, None);
        assert!(!orphan.load().unwatched(), "no parent, nothing to watch");
    }

    /// A wake-up of the watch while the parent is not cancelled (a spurious
    /// one: tokio-util only wakes on cancellation, but a waker may be woken
    /// by anyone holding it) changes nothing and registers the watch again:
    /// the parent's later cancellation still closes the instance.
    #[test]
    fn a_wake_up_without_a_cancellation_changes_nothing_and_watches_again() {
        let parent = CancellationToken::new();
        let inner = Arc::new(Inner::new(Kind::Many, Some(&parent)));
        arm(&inner);
        waker(&inner).wake();
        assert_eq!(
            inner.load().phase(),
            Phase::Created,
            "a wake-up is not a cancellation"
        );
        parent.cancel();
        assert_eq!(
            inner.load().phase(),
            Phase::Closed,
            "the watch was registered again"
        );
    }
}
