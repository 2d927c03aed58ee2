//! The future a group spawns for each task: it runs the body, records the
//! outcome, and drops the body when the group's abort epoch moves past its
//! own.
//!
//! # No abort is missed
//!
//! A task is aborted when the epoch is larger than the one it was accepted
//! in (shared.rs, invariant 4). It reads the epoch before every poll of its
//! body, so an abort is seen at the task's next wake-up; a task that is
//! pending (waiting on something that may never come) must be woken by the
//! abort itself. It listens on the group's `abort` event, lazily, at its
//! first `Pending`, then re-reads the epoch: `abort_all` bumps the epoch
//! before it notifies, so either the notification finds the listener, or
//! the re-read sees the bump. The listener keeps the waker it was polled
//! with; it is polled again only when the task's waker changes.
//!
//! One case needs more: a notification meant for an older abort. If an
//! `abort_all` bumped the epoch before this task's acceptance read it (so
//! the task is not aborted by it) and notifies after the task listened, it
//! spends the task's listener, and a later `abort_all` would find none. The
//! task can tell that this may happen: `abort_all` counts itself in flight
//! from before its bump until after its notification, and the task reads
//! that counter before it listens (all `SeqCst`, one total order). A zero
//! there means every abort that bumped the epoch before the task's
//! acceptance had finished notifying before the listener existed, so any
//! notification the listener gets is a new abort's, which the epoch shows.
//! Otherwise the listener is "inexact": it is polled at every poll of the
//! task, and one that was notified by an old abort is replaced. And no
//! listener is ever dropped with a notification in it: event-listener would
//! pass it on to another listener, an old abort for that one ([`discard`]).

use core::future::Future;
use core::pin::Pin;
use core::task::{Context as TaskContext, Poll, Waker};
use std::panic::{catch_unwind, AssertUnwindSafe};

use event_listener::{EventListener, Listener};
use pin_project_lite::pin_project;

use crate::sync::{Ordering, StdArc as Arc};
use tokio::sync::{AcquireError, OwnedSemaphorePermit};

use crate::lifecycle::context::Context;
use crate::task::group::is_unit;
use crate::task::group::output::{sealed::Sealed, GroupTaskOutput, SharedError};
use crate::task::group::report::TaskFailure;
use crate::task::group::shared::{End, Shared};
use crate::task::panic::{Panic, TaskError};

/// The slot a task holds, or waits for (rule G4).
pub(crate) enum Permit {
    /// No limit.
    None,
    /// Held for the task: freed when dropped.
    Held(#[allow(dead_code)] OwnedSemaphorePermit),
    /// Queued: the semaphore's acquire, first polled by the spawn (mod.rs).
    Queued(Pin<Box<dyn Future<Output = Result<OwnedSemaphorePermit, AcquireError>> + Send>>),
}

pin_project! {
    /// A group task: the slot it waits for (if queued), the user's closure
    /// until the body is built, the body, and what the task needs to report.
    pub(crate) struct GroupTask<T, F, Fut> {
        shared: Arc<Shared<T>>,
        // The abort epoch the task was accepted in.
        epoch: u64,
        name: Option<Arc<str>>,
        // The listener on the abort event, once the task was pending.
        abort: Option<EventListener>,
        // The waker `abort` holds (polled again only if it changes).
        waker: Option<Waker>,
        // Whether a notification of `abort` can only mean a new abort
        // (module doc).
        exact: bool,
        // Whether the outcome was recorded.
        ended: bool,
        // Held until the outcome is recorded, then freed before the task
        // leaves the count: the next queued task starts after this one's
        // outcome is recorded (rule G4), so completions are ordered by the
        // slots.
        permit: Permit,
        // The user's closure, called once the slot is held.
        f: Option<F>,
        #[pin]
        body: Option<Fut>,
    }

    impl<T, F, Fut> PinnedDrop for GroupTask<T, F, Fut> {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            discard(this.abort);
            if !*this.ended {
                // Dropped unfinished: by a runtime shutting down (rule G11).
                // The body goes first, so a wait that sees the task gone
                // sees its resources gone too (rule G10); the slot last.
                drop_body(this.body.as_mut());
                *this.f = None;
                *this.ended = true;
                #[cfg(feature = "tracing")]
                trace_ended(this.name.as_deref(), "aborted");
                let failure = failure(this.name.take(), TaskError::Aborted);
                let slot = core::mem::replace(this.permit, Permit::None);
                this.shared.end(End::Failed(failure), slot);
            }
        }
    }
}

/// Drops the abort listener without passing its notification on.
///
/// A plain drop of a notified `EventListener` hands the notification to
/// the next listener of the event (event-listener 5.4.2,
/// `InnerListener`'s drop removes with `propagate = true`): an aborted
/// task would wake another task with a notification that is not its own,
/// the "old abort" the module doc excludes for exact listeners, and that
/// task's listener would be spent. Found by
/// `abort_all_racing_spawns_never_leaves_a_pending_task_behind`.
fn discard(abort: &mut Option<EventListener>) {
    if let Some(listener) = abort.take() {
        listener.discard();
    }
}

/// The `task ended` event (feature `tracing`, target `runcycle`, as a
/// `Task`'s): the id (tokio enters it while it polls or drops the task),
/// the name, and the outcome: `ok`, `error`, `panicked` or `aborted`.
#[cfg(feature = "tracing")]
fn trace_ended(name: Option<&str>, outcome: &str) {
    // The fields are evaluated only when a subscriber wants the event.
    tracing::trace!(
        target: "runcycle",
        {
            task.id = tokio::task::try_id().map(tracing::field::display),
            task.name = name,
            outcome,
        },
        "task ended"
    );
}

/// Drops the body; a panic in its `Drop` is caught (the task is reported
/// aborted either way, and a panic must not escape into tokio's drop).
fn drop_body<B>(mut body: Pin<&mut Option<B>>) {
    let _ = catch_unwind(AssertUnwindSafe(|| body.set(None)));
}

/// A failure of the current task (its id from tokio: set while tokio polls
/// or drops a task's future).
fn failure(name: Option<Arc<str>>, error: TaskError<SharedError>) -> TaskFailure {
    TaskFailure {
        id: tokio::task::try_id(),
        name,
        error,
    }
}

impl<T, F, Fut> GroupTask<T, F, Fut> {
    pub(crate) fn new(
        shared: Arc<Shared<T>>,
        epoch: u64,
        name: Option<Arc<str>>,
        permit: Permit,
        f: F,
    ) -> Self {
        GroupTask {
            shared,
            epoch,
            name,
            abort: None,
            waker: None,
            exact: false,
            ended: false,
            permit,
            f: Some(f),
            body: None,
        }
    }
}

/// How the task ends: `None` for an abort.
type Ending<O> = Option<Result<O, Panic>>;

impl<T, F, Fut> Future for GroupTask<T, F, Fut>
where
    T: Send + 'static,
    F: FnOnce(Context) -> Fut,
    Fut: Future,
    Fut::Output: GroupTaskOutput<T>,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        let mut this = self.project();
        if *this.ended {
            return Poll::Ready(());
        }
        let shared: &Shared<T> = this.shared;
        // `SeqCst`: with `abort_all`'s bump (module doc).
        let ending: Ending<Fut::Output> = if shared.epoch.load(Ordering::SeqCst) > *this.epoch {
            None
        } else {
            'run: {
                if let Permit::Queued(acquire) = this.permit {
                    match acquire.as_mut().poll(cx) {
                        Poll::Ready(Ok(permit)) => *this.permit = Permit::Held(permit),
                        Poll::Ready(Err(_)) => {
                            unreachable!("runcycle: a group's semaphore is never closed")
                        }
                        Poll::Pending => {
                            if watch_abort(
                                shared,
                                *this.epoch,
                                this.abort,
                                this.waker,
                                this.exact,
                                cx,
                            ) {
                                break 'run None;
                            }
                            return Poll::Pending;
                        }
                    }
                }
                if let Some(f) = this.f.take() {
                    let ctx = Context::shared(Arc::clone(&shared.token));
                    match catch_unwind(AssertUnwindSafe(|| f(ctx))) {
                        Ok(body) => this.body.set(Some(body)),
                        Err(payload) => break 'run Some(Err(Panic::new(payload))),
                    }
                }
                let Some(body) = this.body.as_mut().as_pin_mut() else {
                    unreachable!("runcycle: a group task's body is gone before its end");
                };
                match catch_unwind(AssertUnwindSafe(|| body.poll(cx))) {
                    Ok(Poll::Ready(output)) => Some(Ok(output)),
                    Err(payload) => Some(Err(Panic::new(payload))),
                    Ok(Poll::Pending) => {
                        if watch_abort(shared, *this.epoch, this.abort, this.waker, this.exact, cx)
                        {
                            None
                        } else {
                            return Poll::Pending;
                        }
                    }
                }
            }
        };
        // The body is dropped before the task leaves the count (rule G10).
        drop_body(this.body.as_mut());
        *this.f = None;
        *this.ended = true;
        discard(this.abort);
        let name = this.name.take();
        #[cfg(feature = "tracing")]
        let traced = name.clone();
        let end = match ending {
            None => End::Failed(failure(name, TaskError::Aborted)),
            Some(Err(panic)) => End::Failed(failure(name, TaskError::Panicked(panic))),
            Some(Ok(output)) => match output.into_outcome() {
                Ok(_) if is_unit::<T>() => End::Unit,
                Ok(value) => match tokio::task::try_id() {
                    Some(id) => End::Value(id, value),
                    None => unreachable!("runcycle: a group task polled outside tokio"),
                },
                Err(error) => End::Failed(failure(name, TaskError::Failed(Arc::from(error)))),
            },
        };
        #[cfg(feature = "tracing")]
        trace_ended(
            traced.as_deref(),
            match &end {
                End::Unit | End::Value(..) => "ok",
                End::Failed(f) => match f.error {
                    TaskError::Failed(_) => "error",
                    TaskError::Panicked(_) => "panicked",
                    _ => "aborted",
                },
            },
        );
        // The slot frees after the end is recorded, before the task leaves
        // the count (rule G4, `Shared::end`).
        shared.end(end, core::mem::replace(this.permit, Permit::None));
        Poll::Ready(())
    }
}

/// Makes sure an abort wakes the pending task (module doc); `true` if the
/// task is to be aborted now.
fn watch_abort<T>(
    shared: &Shared<T>,
    epoch: u64,
    abort: &mut Option<EventListener>,
    waker: &mut Option<Waker>,
    exact: &mut bool,
    cx: &TaskContext<'_>,
) -> bool {
    loop {
        match abort {
            Some(_) if *exact && waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) => {
                return false;
            }
            Some(listener) => {
                if Pin::new(listener)
                    .poll(&mut TaskContext::from_waker(cx.waker()))
                    .is_ready()
                {
                    // Notified: a new abort, or (inexact listener) an old one.
                    discard(abort);
                    *waker = None;
                    if shared.epoch.load(Ordering::SeqCst) > epoch {
                        return true;
                    }
                    continue;
                }
                *waker = Some(cx.waker().clone());
                return false;
            }
            None => {
                // `SeqCst`, before listening (module doc).
                *exact = shared.aborts_in_flight.load(Ordering::SeqCst) == 0;
                let listener = shared.abort.listen();
                // Re-read after listening: an abort whose notification
                // missed the listener has bumped the epoch before it.
                if shared.epoch.load(Ordering::SeqCst) > epoch {
                    listener.discard();
                    return true;
                }
                *abort = Some(listener);
            }
        }
    }
}

/// The old-abort case of the module doc, driven by hand (no runtime, no
/// timing): an `abort_all` that bumped the epoch before a task's acceptance
/// notifies after the task listened. The task's listener is spent by that
/// notification; the next `abort_all` must still wake and abort the task.
#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::AtomicUsize;

    /// Counts its wake-ups.
    #[derive(Default)]
    struct Wakes(AtomicUsize);

    impl std::task::Wake for Wakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Rule G10: the body is dropped before the task leaves the count, so a
    /// wait that sees the group empty sees the body's resources released
    /// (tokio drops the task's future only after its last poll returned).
    /// Driven by hand: the future is still alive when the check runs.
    #[test]
    fn an_aborted_body_is_dropped_before_the_task_leaves_the_count() {
        let shared = Arc::new(Shared::<()>::new(
            tokio_util::sync::CancellationToken::new(),
            None,
        ));
        let epoch = shared.accept().unwrap();
        let held = Arc::new(());
        let body_holds = Arc::clone(&held);
        let f = move |_ctx: Context| async move {
            let held_by_body = body_holds;
            std::future::pending::<()>().await;
            drop(held_by_body);
        };
        let mut task = Box::pin(GroupTask::new(
            Arc::clone(&shared),
            epoch,
            None,
            Permit::None,
            f,
        ));
        let mut cx = TaskContext::from_waker(Waker::noop());
        assert!(task.as_mut().poll(&mut cx).is_pending());
        assert_eq!(Arc::strong_count(&held), 2, "the body holds it");
        shared.abort_all();
        assert!(task.as_mut().poll(&mut cx).is_ready());
        assert_eq!(shared.word().tasks(), 0);
        assert_eq!(
            Arc::strong_count(&held),
            1,
            "the task left the count with its body alive"
        );
        drop(task);
    }

    #[test]
    fn an_old_aborts_notification_does_not_spend_the_next_abort() {
        let shared = Arc::new(Shared::<()>::new(
            tokio_util::sync::CancellationToken::new(),
            None,
        ));
        // An abort_all is under way: marked in flight, epoch bumped, not
        // yet notified.
        shared.aborts_in_flight.fetch_add(1, Ordering::SeqCst);
        shared.epoch.fetch_add(1, Ordering::SeqCst);
        // A task is accepted now: the abort is not its.
        let epoch = shared.accept().unwrap();
        assert_eq!(epoch, 1);
        let f = |_ctx: Context| std::future::pending::<()>();
        let mut task = Box::pin(GroupTask::new(
            Arc::clone(&shared),
            epoch,
            None,
            Permit::None,
            f,
        ));
        let count = Arc::new(Wakes::default());
        let waker = Waker::from(Arc::clone(&count));
        let mut cx = TaskContext::from_waker(&waker);
        assert!(task.as_mut().poll(&mut cx).is_pending(), "listens");
        // The old abort notifies now, and finishes.
        shared.abort.notify(usize::MAX);
        shared.aborts_in_flight.fetch_sub(1, Ordering::SeqCst);
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            1,
            "the old abort woke the task"
        );
        // Woken: not aborted (the epoch is its own), listens again.
        assert!(
            task.as_mut().poll(&mut cx).is_pending(),
            "an old abort aborted the task"
        );
        assert_eq!(shared.word().tasks(), 1);
        // A new abort: it must wake the task, which is then aborted.
        shared.abort_all();
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            2,
            "the new abort found no listener: the old one spent it"
        );
        assert!(task.as_mut().poll(&mut cx).is_ready());
        assert_eq!(shared.word().tasks(), 0);
        let report = shared.report().unwrap_err();
        assert_eq!(report.aborted().len(), 1);
    }
}
