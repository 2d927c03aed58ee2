//! The state a group's handles, tasks and waits share: one state word, the
//! abort epoch, the events, the limit and the record of outcomes.
//!
//! # Invariants
//!
//! 1. The state word holds the `CLOSED` flag and the count of accepted tasks
//!    that have not ended (queued ones included). A spawn adds one to the
//!    count with a compare-and-swap that fails if `CLOSED` is set, so a
//!    close (a `fetch_or` of `CLOSED` on the same word) and a spawn are
//!    ordered by the word's modification order: the spawn was accepted
//!    before the close, and every wait that starts after the close counts
//!    it, or it sees `CLOSED` and is refused (rule G5). Nothing else adds to
//!    the count, and only a task's end takes one away, exactly once.
//! 2. A task records its outcome (a failure in the report, a value or a
//!    failure in the result queue) under `record`'s lock, and cancels the
//!    context if it failed, *before* it takes itself off the count: a
//!    waiter that sees the count at zero finds every outcome and the
//!    context as they are at the end (rules G6, G7). A successful task of a
//!    `Group<()>` records nothing and takes no lock.
//! 3. The task whose end brings the count to zero notifies `empty` and
//!    `queued`; a task that queued an outcome notifies `queued`; each only
//!    if a wait is registered (`listening`). Every wait counts itself in
//!    `listening`, registers a listener, then re-checks the word (or the
//!    queue) before it sleeps. Between the waiter's increment and its
//!    re-read, and between the ender's decrement and its read of
//!    `listening`, each side issues a `SeqCst` fence. The two fences are
//!    ordered one way or the other: if the ender's comes first, the
//!    waiter's re-read sees the decrement (and does not sleep); if the
//!    waiter's comes first, the ender's read sees the waiter counted (and
//!    notifies). So no end is missed, and an end nobody waits for costs no
//!    notification (event-listener 5.4.2's `notify` always takes the
//!    event's lock; tokio's `Notify`, which `TaskTracker` uses, skips it
//!    when nobody waits, and so does this). Fences, not `SeqCst` accesses
//!    (the first version): the argument is the same, and loom checks
//!    fences exactly but models `SeqCst` accesses as `AcqRel`, which
//!    reported this store-buffering pattern as a lost wake-up
//!    (`loom-tests/group.rs`).
//! 4. The abort epoch only grows. A task remembers the epoch read after its
//!    acceptance; it is aborted once the epoch is larger (rule G9). A task
//!    looks at the epoch before every poll of its body, and a pending task
//!    listens on `abort` (see `task.rs` for why no abort is missed).

use std::collections::VecDeque;

use event_listener::{Event, EventListener};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::sync::{fence, AtomicU64, AtomicUsize, Mutex, Ordering, StdArc as Arc};
use crate::task::group::report::{GroupError, TaskFailure};
use crate::task::spawn::TaskId;

/// The `CLOSED` flag of the state word: set once by `close`, never cleared.
pub(crate) const CLOSED: usize = 1;

/// One accepted task in the state word's count (the bits above `CLOSED`).
pub(crate) const ONE_TASK: usize = 2;

/// A decoded state word.
#[derive(Clone, Copy)]
pub(crate) struct Word(usize);

impl Word {
    pub(crate) fn is_closed(self) -> bool {
        self.0 & CLOSED != 0
    }

    /// Accepted tasks that have not ended.
    pub(crate) fn tasks(self) -> usize {
        self.0 / ONE_TASK
    }
}

/// What a task's end hands back to the group.
pub(crate) enum End<T> {
    /// A value (of a `Group<T>` with `T` other than `()`: queued for
    /// `join_next`), or nothing (a `Group<()>`).
    Value(TaskId, T),
    /// A success of a `Group<()>`: nothing to record.
    Unit,
    Failed(TaskFailure),
}

/// What the tasks record, under one lock.
pub(crate) struct Record<T> {
    /// Every failure, in completion order (rule G7).
    pub(crate) failures: Vec<TaskFailure>,
    /// Outcomes not yet taken by `join_next` (rule G8).
    pub(crate) results: VecDeque<Result<(TaskId, T), TaskFailure>>,
}

pub(crate) struct Shared<T> {
    /// `CLOSED` and the count (invariant 1).
    state: AtomicUsize,
    /// The group's token; tasks get it as an `Arc` clone (no lock, see
    /// `Context::shared`).
    pub(crate) token: Arc<CancellationToken>,
    /// The abort epoch (invariant 4).
    pub(crate) epoch: AtomicU64,
    /// `abort_all` calls that have bumped the epoch and not yet finished
    /// notifying `abort` (see `task.rs`).
    pub(crate) aborts_in_flight: AtomicUsize,
    /// Notified by `abort_all` after each bump of the epoch.
    pub(crate) abort: Event,
    /// Waits registered on `empty` or `queued` (invariant 3).
    listening: AtomicUsize,
    /// Notified when the count reaches zero (invariant 3).
    pub(crate) empty: Event,
    /// Notified when an outcome is queued or the count reaches zero.
    pub(crate) queued: Event,
    /// Notified by `close`: wakes every pending `reserve`.
    pub(crate) closing: Event,
    /// The slots of a group with a limit, and the limit.
    pub(crate) limit: Option<(Arc<Semaphore>, usize)>,
    pub(crate) record: Mutex<Record<T>>,
}

impl<T> Shared<T> {
    pub(crate) fn new(token: CancellationToken, limit: Option<usize>) -> Shared<T> {
        Shared {
            state: AtomicUsize::new(0),
            token: Arc::new(token),
            epoch: AtomicU64::new(0),
            aborts_in_flight: AtomicUsize::new(0),
            abort: Event::new(),
            listening: AtomicUsize::new(0),
            empty: Event::new(),
            queued: Event::new(),
            closing: Event::new(),
            limit: limit.map(|n| (Arc::new(Semaphore::new(n)), n)),
            record: Mutex::new(Record {
                failures: Vec::new(),
                results: VecDeque::new(),
            }),
        }
    }

    /// The state word. `Acquire`: pairs with a task's end (its `Release`
    /// decrement), so a caller that sees a task gone sees what the task did
    /// before it ended (its record and its body's writes, invariant 2).
    pub(crate) fn word(&self) -> Word {
        Word(self.state.load(Ordering::Acquire))
    }

    /// Registers a wait on `empty` (invariant 3); [`Shared::unlisten`] when
    /// the listener is gone. The caller re-reads the word afterwards.
    pub(crate) fn listen_empty(&self) -> EventListener {
        // `Relaxed`: the fence below orders it (invariant 3).
        self.listening.fetch_add(1, Ordering::Relaxed);
        let listener = self.empty.listen();
        // Invariant 3: between the count and the caller's re-read.
        fence(Ordering::SeqCst);
        listener
    }

    /// Registers a wait on `queued`, as [`Shared::listen_empty`].
    pub(crate) fn listen_queued(&self) -> EventListener {
        // `Relaxed`: the fence below orders it (invariant 3).
        self.listening.fetch_add(1, Ordering::Relaxed);
        let listener = self.queued.listen();
        // Invariant 3: between the count and the caller's re-read.
        fence(Ordering::SeqCst);
        listener
    }

    /// A wait registered by `listen_*` is over (its listener dropped).
    pub(crate) fn unlisten(&self) {
        // `Relaxed`: an ender that still counts this wait only notifies
        // for nothing.
        self.listening.fetch_sub(1, Ordering::Relaxed);
    }

    /// Accepts one task unless the group is closed (invariant 1); the abort
    /// epoch the task belongs to.
    pub(crate) fn accept(&self) -> Option<u64> {
        // `Relaxed` first read: the compare-and-swap below re-reads the word.
        let mut word = self.state.load(Ordering::Relaxed);
        loop {
            if Word(word).is_closed() {
                return None;
            }
            // A CAS, not a `fetch_add` then a check: a `fetch_add` would make
            // a refused task visible in the count for a moment (a waiter
            // could see it and wait for a task that never runs), and undoing
            // it could bring the count to zero without anyone notifying.
            // `Relaxed` is enough for what the CAS decides: all operations
            // on one atomic are in one modification order, and that order
            // alone places the spawn before or after the close. The count's
            // readers are synchronized by the task's end, not by the spawn.
            match self.state.compare_exchange_weak(
                word,
                word + ONE_TASK,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => word = now,
            }
        }
        // `SeqCst`, read after the acceptance: an `abort_all` that began
        // after this spawn returned bumps the epoch past this value; one
        // that finished before the spawn began is included in it. `SeqCst`
        // with the bump and the in-flight counter of `abort_all`, whose
        // argument (task.rs) needs one total order of the three.
        Some(self.epoch.load(Ordering::SeqCst))
    }

    /// Cancels the group's context. tokio-util's `cancel` takes the token's
    /// lock even when it is cancelled already; a failure's end, an abort
    /// and a close after the first look first (one atomic load), so that
    /// 10,000 tasks aborted at once do not queue on that lock.
    pub(crate) fn cancel(&self) {
        if !self.token.is_cancelled() {
            self.token.cancel();
        }
    }

    /// Sets `CLOSED` (once; a second close changes nothing), cancels the
    /// context and wakes the pending `reserve`s.
    pub(crate) fn close(&self) {
        // `AcqRel`: the flag is ordered with every spawn's CAS on the same
        // word (invariant 1). `Release` also publishes the caller's writes
        // to a spawn that reads the flag; nothing needs more.
        self.state.fetch_or(CLOSED, Ordering::AcqRel);
        self.cancel();
        // After the flag: a `reserve` that listens, then re-reads the flag,
        // cannot miss both (invariant 3).
        self.closing.notify(usize::MAX);
    }

    /// `abort_all`: cancel, bump the epoch, wake the pending tasks.
    pub(crate) fn abort_all(&self) {
        self.cancel();
        // `SeqCst`, the three of them (task.rs, "no abort is missed"): the
        // in-flight mark is ordered before the bump, the bump before the
        // notification, the notification before the unmark.
        self.aborts_in_flight.fetch_add(1, Ordering::SeqCst);
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.abort.notify(usize::MAX);
        self.aborts_in_flight.fetch_sub(1, Ordering::SeqCst);
    }

    /// A task's end (invariant 2): records `end`, cancels the context on a
    /// failure, frees the task's slot (`slot`: dropped here, between the
    /// record and the count, so that a queued task starts after this one's
    /// outcome is recorded, and a caller that sees this task gone finds its
    /// slot free: a `try_spawn` right after a `wait` is not refused as full),
    /// takes the task off the count and notifies.
    pub(crate) fn end<S>(&self, end: End<T>, slot: S) {
        let queued = match end {
            End::Unit => false,
            End::Value(id, value) => {
                self.record.lock().results.push_back(Ok((id, value)));
                true
            }
            End::Failed(failure) => {
                {
                    let mut record = self.record.lock();
                    record.failures.push(failure.clone());
                    record.results.push_back(Err(failure));
                }
                // Every failure cancels (the first error, every panic, every
                // abort; rule G7): before the count drops, so a waiter that
                // sees the group empty sees the context cancelled.
                self.cancel();
                true
            }
        };
        drop(slot);
        // `Release`: publishes the record above and the body's writes to
        // whoever reads the word and sees this end (`word`'s `Acquire`).
        let before = self.state.fetch_sub(ONE_TASK, Ordering::Release);
        let last = Word(before).tasks() == 1;
        if !(last || queued) {
            return;
        }
        // Invariant 3: between the decrement and the read of `listening`,
        // which is then `Relaxed`. No wait registered: nothing to notify.
        fence(Ordering::SeqCst);
        if self.listening.load(Ordering::Relaxed) > 0 {
            if last {
                self.empty.notify(usize::MAX);
            }
            self.queued.notify(usize::MAX);
        }
    }

    /// The report as it stands (rule G7).
    pub(crate) fn report(&self) -> Result<(), GroupError> {
        let record = self.record.lock();
        if record.failures.is_empty() {
            Ok(())
        } else {
            Err(GroupError {
                failures: record.failures.clone(),
            })
        }
    }

    /// The next outcome, or `Done` when no task is left and nothing is
    /// queued, or `Empty` when tasks remain.
    pub(crate) fn try_next(&self) -> Next<T> {
        let mut record = self.record.lock();
        match record.results.pop_front() {
            Some(outcome) => Next::Outcome(outcome),
            // Read under the lock: a task queues under it before it leaves
            // the count, so a count of zero here means no outcome can still
            // arrive (invariant 2).
            None if self.word().tasks() == 0 => Next::Done,
            None => Next::Empty,
        }
    }
}

/// What [`Shared::try_next`] found.
pub(crate) enum Next<T> {
    Outcome(Result<(TaskId, T), TaskFailure>),
    Done,
    Empty,
}

/// The `listening` count of invariant 3 is what lets an end skip the
/// notification when nobody waits: it must come back to zero once every
/// wait is over, whether it resolved or was dropped pending (else every end
/// would notify, and take the event's lock, for good).
#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::task::group::task::Permit;
    use crate::task::group::wait::GroupWait;
    use core::future::Future;
    use core::pin::Pin;
    use core::task::{Context as TaskContext, Waker};

    #[test]
    fn waits_unregister_when_they_resolve_and_when_dropped() {
        let shared = Arc::new(Shared::<()>::new(CancellationToken::new(), None));
        shared.accept().unwrap();
        let mut cx = TaskContext::from_waker(Waker::noop());
        // Pending, then dropped.
        let mut dropped = GroupWait::new(Arc::clone(&shared));
        assert!(Pin::new(&mut dropped).poll(&mut cx).is_pending());
        assert_eq!(shared.listening.load(Ordering::Relaxed), 1);
        drop(dropped);
        assert_eq!(shared.listening.load(Ordering::Relaxed), 0);
        // Pending, then resolved by the end.
        let mut resolved = GroupWait::new(Arc::clone(&shared));
        assert!(Pin::new(&mut resolved).poll(&mut cx).is_pending());
        shared.end(End::Unit, Permit::None);
        assert!(Pin::new(&mut resolved).poll(&mut cx).is_ready());
        assert_eq!(shared.listening.load(Ordering::Relaxed), 0);
        // A blocking wait on an empty group does not register at all.
        GroupWait::new(Arc::clone(&shared))
            .block(None)
            .unwrap()
            .unwrap();
        assert_eq!(shared.listening.load(Ordering::Relaxed), 0);
        // A blocking wait that times out unregisters.
        shared.accept().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(1);
        assert!(GroupWait::new(Arc::clone(&shared))
            .block(Some(deadline))
            .is_err());
        assert_eq!(shared.listening.load(Ordering::Relaxed), 0);
    }
}
