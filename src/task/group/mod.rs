//! [`Group`]: a set of tokio tasks sharing one context, with a count, a
//! report of every failure, a queue of results, an optional limit and an
//! abort epoch of its own (spec/go.md, rules G1 to G14).
//!
//! The design, and what each part costs:
//!
//! * No `TaskTracker`, no per-task registry, no per-task lock on the fast
//!   path: one state word (the `CLOSED` flag and the count, shared.rs,
//!   invariant 1) decides acceptance against a close with one
//!   compare-and-swap; a task's end is one `fetch_sub` and, if it is the
//!   last, a notification. A successful task of a `Group<()>` takes no lock.
//! * A task's context is the group's token behind an `Arc` (a clone is one
//!   atomic increment; cloning the token itself would take its tree lock).
//! * Abort is an epoch, not a list of handles: `abort_all` bumps it and
//!   notifies one event; each task compares at each poll, and a pending task
//!   listens lazily (task.rs). A task that ends at its first poll never
//!   allocates a listener.
//! * The limit is a tokio `Semaphore`: `try_spawn` takes a permit before it
//!   is accepted, a queued `spawn` waits for one inside the task (first in,
//!   first out, abortable), `reserve` races the permit against the close.
//! * The waits (`GroupWait`, `join_next`) listen on events, re-check, sleep.

mod builder;
#[cfg(loom)]
pub(crate) mod loom_facade;
mod output;
mod report;
mod shared;
mod task;
mod wait;

use core::fmt;
use core::future::Future;
use core::pin::pin;
use core::task::{Context as TaskContext, Poll, Waker};
use std::any::TypeId;
use std::time::{Duration, Instant};

use futures_util::future::{select, Either};
use tokio::runtime::Handle as Runtime;
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;

use crate::lifecycle::block::assert_may_block;
use crate::lifecycle::context::{Context, Parent};
use crate::lifecycle::error::ClosedError;
use crate::sync::StdArc as Arc;
use crate::task::spawn::{current_runtime, TaskId};

pub use builder::{GroupBuilder, GroupTaskBuilder, Slot, TrySpawnError};
pub use output::{BoxError, GroupTaskOutput, SharedError};
pub use report::{GroupError, TaskFailure};
pub use wait::GroupWait;

use shared::{Next, Shared};
use task::{GroupTask, Permit};

/// Whether `T` is `()`: a `Group<()>` queues no successes (rule G8) and its
/// successful tasks take no lock. A `TypeId` comparison of two constants,
/// folded by the compiler (no cost at run time).
pub(crate) fn is_unit<T: 'static>() -> bool {
    TypeId::of::<T>() == TypeId::of::<()>()
}

/// A group of tokio tasks sharing one context (Go's `Group` and `errgroup`,
/// with tokio's `JoinSet` results, a limit, abort and a bounded shutdown).
///
/// * [`spawn`](Group::spawn) spawns `f(ctx)` with the group's context and
///   returns its [`TaskId`](tokio::task::Id) ([`spawn_on`](Group::spawn_on)
///   from outside a runtime, [`build_task`](Group::build_task) to name it);
///   a task may return `()` (in a `Group<()>`) or `Result<T, E>`
///   ([`GroupTaskOutput`]): the first `Err` cancels the context.
/// * A limit ([`GroupBuilder::limit`]) bounds the bodies running at once:
///   `spawn` queues, [`try_spawn`](Group::try_spawn) refuses,
///   [`reserve`](Group::reserve) waits for a slot.
/// * [`join_next`](Group::join_next) yields outcomes as tasks finish;
///   [`wait`](Group::wait) and [`close`](Group::close) give the report of
///   every failure ([`GroupError`]).
/// * [`abort_all`](Group::abort_all) drops the tasks' futures;
///   [`shutdown`](Group::shutdown) closes, waits up to a deadline, aborts
///   what is left and reports.
///
/// `Group` is a cheap handle; clones share the group. Dropping it does not
/// cancel the tasks (they are detached). Compared with tokio's `JoinSet`:
/// the tasks share a context they can clean up on, a close refuses new tasks
/// atomically, and failures come back as one report with ids and names.
/// Compared with tokio-util's `TaskTracker`: it cancels, refuses after
/// close, limits, aborts and collects outcomes.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::time::Duration;
/// use runcycle::Group;
///
/// let group = Group::new();
/// for _ in 0..3 {
///     group.spawn(|ctx| async move { ctx.cancelled().await })?; // workers until shutdown
/// }
/// let stuck = group.build_task().name("stuck").spawn(|_ctx| std::future::pending::<()>())?;
/// // Close, wait up to the deadline, abort what is left, report.
/// let report = group.shutdown(Duration::from_millis(50)).await.unwrap_err();
/// assert_eq!(report.aborted().len(), 1);
/// assert_eq!(report.aborted()[0].id(), Some(stuck));
/// assert_eq!(report.aborted()[0].name(), Some("stuck"));
/// # Ok::<(), runcycle::ClosedError>(())
/// # }).unwrap();
/// ```
pub struct Group<T = ()> {
    shared: Arc<Shared<T>>,
}

impl<T> Clone for Group<T> {
    fn clone(&self) -> Self {
        Group {
            shared: Arc::clone(&self.shared),
        }
    }
}

/// How a spawn gets its slot.
pub(crate) enum SlotFrom {
    /// `spawn`: a free slot now, else queue for one.
    Queue,
    /// `try_spawn` and `Slot::spawn`: the slot is taken already (`None`
    /// without a limit).
    Taken(Option<OwnedSemaphorePermit>),
}

impl Group<()> {
    /// A `Group<()>` with a root context and no limit.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let group = runcycle::Group::new();
    /// assert!(!group.context().is_cancelled());
    /// assert_eq!(group.limit(), None);
    /// ```
    #[must_use]
    pub fn new() -> Group {
        GroupBuilder::new().build()
    }

    /// A `Group<()>` whose context is a child of `parent` (Go's
    /// `NewGroup(ctx)`): cancelling `parent` cancels the group's tasks. Pass
    /// another group's [`context`](Group::context) to nest groups.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let outer = runcycle::Group::new();
    /// let inner = runcycle::Group::with_parent(&outer.context());
    /// outer.cancel();
    /// assert!(inner.context().is_cancelled());
    /// ```
    #[must_use]
    pub fn with_parent(parent: &impl Parent) -> Group {
        GroupBuilder::new().parent(parent).build()
    }
}

impl Default for Group<()> {
    /// Same as [`Group::new`].
    fn default() -> Self {
        Group::new()
    }
}

impl<T: Send + 'static> Group<T> {
    pub(crate) fn build(token: CancellationToken, limit: Option<usize>) -> Group<T> {
        Group {
            shared: Arc::new(Shared::new(token, limit)),
        }
    }

    /// The group's context, shared by all its tasks.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let group = runcycle::Group::new();
    /// let ctx = group.context();
    /// group.cancel();
    /// assert!(ctx.is_cancelled());
    /// ```
    #[must_use]
    pub fn context(&self) -> Context {
        Context::shared(Arc::clone(&self.shared.token))
    }

    /// The limit on bodies running at once, if the group has one
    /// ([`GroupBuilder::limit`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let group = runcycle::GroupBuilder::new().limit(4).build::<()>();
    /// assert_eq!(group.limit(), Some(4));
    /// ```
    #[must_use]
    pub fn limit(&self) -> Option<usize> {
        self.shared.limit.as_ref().map(|(_, n)| *n)
    }

    /// Spawns `f(ctx)` on the current tokio runtime with the group's context
    /// (Go's `Group.Go`, `errgroup.Go`) and returns its id. In a group with
    /// a limit and no free slot, the task is accepted and queued: its body
    /// is not called until a slot frees (first in, first out); `spawn`
    /// itself never waits (rule G3).
    ///
    /// The future may output `()` (in a `Group<()>`) or `Result<T, E>` with
    /// `E: Into<`[`BoxError`]`>` ([`GroupTaskOutput`]): the first `Err`
    /// cancels the group's context and is the report's
    /// [`error`](GroupError::error).
    ///
    /// # Errors
    ///
    /// [`ClosedError`] once [`close`](Group::close) has been called; the
    /// task is not started.
    ///
    /// # Panics
    ///
    /// If called outside a tokio runtime, at the caller's line, with the
    /// message "`runcycle::Group::spawn` must be called from within a tokio
    /// runtime (...); use `runcycle::Group::spawn_on` with a runtime handle
    /// from other threads".
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let group = runcycle::Group::new();
    /// group.spawn(|_ctx| async { /* work */ }).unwrap();
    /// let id = group.spawn(|_ctx| async { "x".parse::<u8>().map(drop) }).unwrap();
    /// let report = group.wait().await.unwrap_err();
    /// assert_eq!(report.first_error().unwrap().id(), Some(id));
    /// assert!(group.context().is_cancelled());
    /// # });
    /// ```
    #[track_caller]
    pub fn spawn<F, Fut>(&self, f: F) -> Result<TaskId, ClosedError>
    where
        F: FnOnce(Context) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: GroupTaskOutput<T>,
    {
        let runtime = current_runtime("runcycle::Group::spawn", "runcycle::Group::spawn_on");
        self.spawn_task(&runtime, None, SlotFrom::Queue, f)
    }

    /// [`spawn`](Group::spawn) on an explicit runtime: callable from any
    /// thread.
    ///
    /// # Errors
    ///
    /// [`ClosedError`] once the group is closed, as [`spawn`](Group::spawn).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let runtime = tokio::runtime::Runtime::new().unwrap();
    /// let group = runcycle::Group::new();
    /// // From a plain thread, outside the runtime:
    /// group.spawn_on(|_ctx| async { Ok::<(), std::io::Error>(()) }, runtime.handle()).unwrap();
    /// group.close().wait().unwrap();
    /// ```
    pub fn spawn_on<F, Fut>(&self, f: F, runtime: &Runtime) -> Result<TaskId, ClosedError>
    where
        F: FnOnce(Context) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: GroupTaskOutput<T>,
    {
        self.spawn_task(runtime, None, SlotFrom::Queue, f)
    }

    /// Spawns `f(ctx)` only if it can start now: never waits, never queues
    /// (rule G3).
    ///
    /// # Errors
    ///
    /// [`TrySpawnError::Full`] if the group has a limit and no free slot;
    /// [`TrySpawnError::Closed`] once the group is closed (closed wins when
    /// both hold). The task is not started either way.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, as [`spawn`](Group::spawn) (naming
    /// `runcycle::Group::try_spawn`).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use runcycle::{GroupBuilder, TrySpawnError};
    ///
    /// let group = GroupBuilder::new().limit(1).build::<()>();
    /// group.try_spawn(|ctx| async move { ctx.cancelled().await }).unwrap();
    /// assert_eq!(group.try_spawn(|_| async {}), Err(TrySpawnError::Full));
    /// group.close().await.unwrap();
    /// assert_eq!(group.try_spawn(|_| async {}), Err(TrySpawnError::Closed));
    /// # });
    /// ```
    #[track_caller]
    pub fn try_spawn<F, Fut>(&self, f: F) -> Result<TaskId, TrySpawnError>
    where
        F: FnOnce(Context) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: GroupTaskOutput<T>,
    {
        let runtime = current_runtime("runcycle::Group::try_spawn", "runcycle::Group::spawn_on");
        self.try_spawn_task(&runtime, None, f)
    }

    /// Waits for a free slot (Go's `Go` after `SetLimit`), then
    /// [`Slot::spawn`] spawns into it. Without a limit it is ready at once.
    ///
    /// # Errors
    ///
    /// [`ClosedError`] if the group is closed before a slot is free (a close
    /// wakes every waiting `reserve`).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future gives up its place in the queue and
    /// takes no slot.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let group = runcycle::GroupBuilder::new().limit(2).build();
    /// for i in 0..10_u32 {
    ///     let slot = group.reserve().await?; // at most 2 bodies at once
    ///     slot.spawn(move |_ctx| async move { Ok::<_, std::io::Error>(i) })?;
    /// }
    /// let mut sum = 0;
    /// while let Some(outcome) = group.join_next().await {
    ///     sum += outcome.unwrap().1;
    /// }
    /// assert_eq!(sum, 45);
    /// # Ok::<(), runcycle::ClosedError>(())
    /// # }).unwrap();
    /// ```
    pub async fn reserve(&self) -> Result<Slot<T>, ClosedError> {
        self.reserve_named(None).await
    }

    pub(crate) async fn reserve_named(
        &self,
        name: Option<Arc<str>>,
    ) -> Result<Slot<T>, ClosedError> {
        if self.is_closed() {
            return Err(ClosedError);
        }
        let permit = match &self.shared.limit {
            None => None,
            Some((slots, _)) => {
                let acquire = pin!(Arc::clone(slots).acquire_owned());
                let closed = pin!(self.closed());
                match select(acquire, closed).await {
                    // A slot freed after the close (by a task the close
                    // ended, say) is not handed out: the close came first.
                    Either::Left((Ok(_), _)) if self.is_closed() => return Err(ClosedError),
                    Either::Left((Ok(permit), _)) => Some(permit),
                    Either::Left((Err(_), _)) => {
                        unreachable!("runcycle: a group's semaphore is never closed")
                    }
                    Either::Right(((), _)) => return Err(ClosedError),
                }
            }
        };
        Ok(Slot::new(self.clone(), permit, name))
    }

    /// Resolves once the group is closed.
    async fn closed(&self) {
        loop {
            if self.is_closed() {
                return;
            }
            let listener = self.shared.closing.listen();
            // Re-check after listening: `close` sets the flag, then notifies.
            if self.is_closed() {
                return;
            }
            listener.await;
        }
    }

    /// A builder for one task: [`name`](GroupTaskBuilder::name) it, then
    /// spawn it with any of the four forms.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let group = runcycle::Group::new();
    /// group.build_task().name("janitor").spawn(|_ctx| async { panic!("oops") })?;
    /// let report = group.wait().await.unwrap_err();
    /// assert_eq!(report.panics()[0].name(), Some("janitor"));
    /// # Ok::<(), runcycle::ClosedError>(())
    /// # }).unwrap();
    /// ```
    #[must_use = "a builder does nothing until one of its spawn forms is called"]
    pub fn build_task(&self) -> GroupTaskBuilder<'_, T> {
        GroupTaskBuilder::new(self)
    }

    /// Accepts and spawns a task (every spawn form ends here).
    pub(crate) fn spawn_task<F, Fut>(
        &self,
        runtime: &Runtime,
        name: Option<Arc<str>>,
        slot: SlotFrom,
        f: F,
    ) -> Result<TaskId, ClosedError>
    where
        F: FnOnce(Context) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: GroupTaskOutput<T>,
    {
        // Refused here, a taken slot is dropped with `slot`: freed.
        let epoch = self.shared.accept().ok_or(ClosedError)?;
        let permit = match slot {
            SlotFrom::Taken(None) => Permit::None,
            SlotFrom::Taken(Some(permit)) => Permit::Held(permit),
            SlotFrom::Queue => match &self.shared.limit {
                None => Permit::None,
                Some((slots, _)) => {
                    if let Ok(permit) = Arc::clone(slots).try_acquire_owned() {
                        Permit::Held(permit)
                    } else {
                        // Queued in spawn order: the first poll, here on the
                        // spawning thread, takes the task's place in the
                        // semaphore's first-in-first-out queue (the task's
                        // own first poll may come later, on any worker, and
                        // replaces the no-op waker with its own).
                        let mut acquire = Box::pin(Arc::clone(slots).acquire_owned());
                        let mut cx = TaskContext::from_waker(Waker::noop());
                        match acquire.as_mut().poll(&mut cx) {
                            Poll::Ready(Ok(permit)) => Permit::Held(permit),
                            Poll::Ready(Err(_)) => {
                                unreachable!("runcycle: a group's semaphore is never closed")
                            }
                            Poll::Pending => Permit::Queued(acquire),
                        }
                    }
                }
            },
        };
        #[cfg(feature = "tracing")]
        let traced = name.clone();
        let task = GroupTask::new(Arc::clone(&self.shared), epoch, name, permit, f);
        let id = runtime.spawn(task).id();
        // As a `Task`'s (spec/go.md, rule O3).
        #[cfg(feature = "tracing")]
        tracing::trace!(
            target: "runcycle",
            { task.id = %id, task.name = traced.as_deref() },
            "task spawned"
        );
        Ok(id)
    }

    pub(crate) fn try_spawn_task<F, Fut>(
        &self,
        runtime: &Runtime,
        name: Option<Arc<str>>,
        f: F,
    ) -> Result<TaskId, TrySpawnError>
    where
        F: FnOnce(Context) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: GroupTaskOutput<T>,
    {
        // Closed wins over full (rule G3).
        if self.is_closed() {
            return Err(TrySpawnError::Closed);
        }
        let permit = match &self.shared.limit {
            None => None,
            Some((slots, _)) => match Arc::clone(slots).try_acquire_owned() {
                Ok(permit) => Some(permit),
                Err(_) => return Err(TrySpawnError::Full),
            },
        };
        self.spawn_task(runtime, name, SlotFrom::Taken(permit), f)
            .map_err(|ClosedError| TrySpawnError::Closed)
    }

    /// Cancels the group's context without closing or waiting (Go's
    /// `Cancel`).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let group = runcycle::Group::new();
    /// group.cancel();
    /// assert!(group.context().is_cancelled());
    /// assert!(!group.is_closed());
    /// ```
    pub fn cancel(&self) {
        self.shared.cancel();
    }

    /// Closes the group at the call (every spawn form is refused from now
    /// on, atomically, rule G5), cancels its context, wakes every waiting
    /// [`reserve`](Group::reserve), and returns a [`GroupWait`] for every
    /// task (Go's `Close`). Queued tasks stay accepted: they run when a slot
    /// frees, with a cancelled context. `group.close();` alone is a
    /// fire-and-forget close.
    ///
    /// # Deadlocks
    ///
    /// A task of the group that awaits its own group's `close()` never
    /// returns: the group is empty only once that task has ended. Inside a
    /// task, cancel the context ([`cancel`](Group::cancel)) and return
    /// instead.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let group = runcycle::Group::new();
    /// group.spawn(|ctx| async move { ctx.cancelled().await }).unwrap();
    /// group.close().await.unwrap();
    /// assert!(group.is_closed());
    /// # });
    /// ```
    // A fire-and-forget `close();` is a common use: not `#[must_use]`.
    #[allow(clippy::must_use_candidate)]
    pub fn close(&self) -> GroupWait<T> {
        self.shared.close();
        self.wait()
    }

    /// Cancels the context, then aborts every task accepted before the call
    /// (queued ones too): each one's future is dropped at its next wake-up
    /// (one that is running is dropped when its current poll returns) and
    /// it is reported [`Aborted`](crate::TaskError::Aborted). Tasks accepted
    /// after the call are not affected; a task that finished first keeps its
    /// outcome (rule G9). Does not close and does not wait.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let group = runcycle::Group::new();
    /// group.spawn(|_ctx| std::future::pending::<()>()).unwrap(); // ignores its context
    /// group.abort_all();
    /// let report = group.wait().await.unwrap_err();
    /// assert_eq!(report.aborted().len(), 1);
    /// group.spawn(|_ctx| async {}).unwrap(); // not closed
    /// # });
    /// ```
    pub fn abort_all(&self) {
        self.shared.abort_all();
    }

    /// Shuts the group down within `timeout`, give or take the aborts: close
    /// (rule G5), wait up to `timeout` for every task, then
    /// [`abort_all`](Group::abort_all) what is still running, wait for the
    /// aborted tasks to be dropped, and return the report, which names every
    /// aborted task with every error and panic (rule G10).
    ///
    /// A task that never yields cannot be dropped by anything: the shutdown
    /// waits for it (as tokio's `JoinSet::shutdown`).
    ///
    /// # Deadlocks
    ///
    /// A task of the group that awaits its own group's shutdown waits for
    /// itself: its own abort happens only when it yields, which the await
    /// does, so it is aborted at the deadline, with the shutdown it was
    /// running. Shut a group down from outside it.
    ///
    /// # Errors
    ///
    /// The group's [`GroupError`] if any task failed, panicked or was
    /// aborted (by this call or before).
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime with a time driver (tokio's `timeout` panics
    /// there; `#[tokio::main]` and `Runtime::new()` have one). From plain
    /// threads use [`blocking_shutdown`](Group::blocking_shutdown).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future does not undo the close or an abort it already
    /// made; the tasks go on ending by themselves.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use std::time::Duration;
    ///
    /// let group = runcycle::Group::new();
    /// group.spawn(|ctx| async move { ctx.cancelled().await }).unwrap(); // ends on cancel
    /// group.build_task().name("deaf").spawn(|_| std::future::pending::<()>()).unwrap();
    /// let report = group.shutdown(Duration::from_millis(20)).await.unwrap_err();
    /// let aborted: Vec<_> = report.aborted().iter().map(|f| f.name()).collect();
    /// assert_eq!(aborted, [Some("deaf")]);
    /// # });
    /// ```
    pub async fn shutdown(&self, timeout: Duration) -> Result<(), GroupError> {
        let wait = self.close();
        if let Ok(report) = tokio::time::timeout(timeout, wait).await {
            return report;
        }
        self.abort_all();
        self.wait().await
    }

    /// [`shutdown`](Group::shutdown) for plain threads: blocks the thread.
    ///
    /// # Errors
    ///
    /// The group's [`GroupError`], as [`shutdown`](Group::shutdown).
    ///
    /// # Panics
    ///
    /// On a thread that drives a tokio runtime, as
    /// [`GroupWait::wait`] (naming `runcycle::Group::blocking_shutdown`).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// use std::time::Duration;
    ///
    /// let runtime = tokio::runtime::Runtime::new().unwrap();
    /// let group = runcycle::Group::new();
    /// group.spawn_on(|_| std::future::pending::<()>(), runtime.handle()).unwrap();
    /// let report = group.blocking_shutdown(Duration::from_millis(20)).unwrap_err();
    /// assert_eq!(report.aborted().len(), 1);
    /// ```
    #[track_caller]
    pub fn blocking_shutdown(&self, timeout: Duration) -> Result<(), GroupError> {
        assert_may_block("runcycle::Group::blocking_shutdown");
        let wait = self.close();
        if let Ok(report) = wait.block(Instant::now().checked_add(timeout)) {
            return report;
        }
        self.abort_all();
        match self.wait().block(None) {
            Ok(report) => report,
            Err(_) => unreachable!("runcycle: a wait without a deadline timed out"),
        }
    }

    /// Whether [`close`](Group::close) has been called.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let group = runcycle::Group::new();
    /// assert!(!group.is_closed());
    /// group.close();
    /// assert!(group.is_closed());
    /// ```
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.shared.word().is_closed()
    }

    /// The number of accepted tasks that have not ended, queued ones
    /// included.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// assert_eq!(runcycle::Group::new().len(), 0);
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.shared.word().tasks()
    }

    /// Whether every accepted task has ended.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// assert!(runcycle::Group::new().is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A [`GroupWait`] for every task accepted so far (and any accepted
    /// while waiting), then the group's report (Go's `Wait`). Does not
    /// close.
    ///
    /// # Deadlocks
    ///
    /// A task of the group that awaits its own group's `wait()` never
    /// returns. Inside a task, cancel the context and return instead.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let group = runcycle::Group::new();
    /// group.spawn(|_| async {}).unwrap();
    /// let (a, b) = tokio::join!(group.wait(), group.wait());
    /// assert!(a.is_ok() && b.is_ok());
    /// # });
    /// ```
    #[must_use = "a GroupWait does nothing unless awaited or waited on"]
    pub fn wait(&self) -> GroupWait<T> {
        GroupWait::new(Arc::clone(&self.shared))
    }

    /// The next task to finish, in completion order (rule G8):
    /// `Some(Ok((id, value)))`, or `Some(Err(failure))` for an error, a
    /// panic or an abort; `None` once no accepted task remains and nothing
    /// is left to take. Each outcome goes to exactly one caller. A
    /// `Group<()>` queues no successes: there it yields the failures only.
    /// A failure is also kept in the report.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: an outcome is taken only when the future returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let group = runcycle::GroupBuilder::new().build();
    /// let id = group.spawn(|_| async { Ok::<_, std::io::Error>("done") }).unwrap();
    /// assert_eq!(group.join_next().await.unwrap().unwrap(), (id, "done"));
    /// assert!(group.join_next().await.is_none());
    /// # });
    /// ```
    pub async fn join_next(&self) -> Option<Result<(TaskId, T), TaskFailure>> {
        loop {
            match self.shared.try_next() {
                Next::Outcome(outcome) => return Some(outcome),
                Next::Done => return None,
                Next::Empty => {}
            }
            let listener = self.shared.listen_queued();
            let _registered = Unlisten(&self.shared);
            // Re-check after listening: a task queues, then notifies.
            match self.shared.try_next() {
                Next::Outcome(outcome) => return Some(outcome),
                Next::Done => return None,
                Next::Empty => listener.await,
            }
        }
    }

    /// [`join_next`](Group::join_next) without waiting: the next outcome
    /// already there, else `None` (whether tasks remain or not: see
    /// [`is_empty`](Group::is_empty)).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let group = runcycle::GroupBuilder::new().build();
    /// assert!(group.try_join_next().is_none());
    /// group.spawn(|_| async { Ok::<_, std::io::Error>(1) }).unwrap();
    /// group.wait().await.unwrap();
    /// assert_eq!(group.try_join_next().unwrap().unwrap().1, 1);
    /// # });
    /// ```
    #[must_use]
    pub fn try_join_next(&self) -> Option<Result<(TaskId, T), TaskFailure>> {
        match self.shared.try_next() {
            Next::Outcome(outcome) => Some(outcome),
            Next::Done | Next::Empty => None,
        }
    }
}

/// Ends `join_next`'s registration when it goes (shared.rs, invariant 3),
/// also when the future is dropped.
struct Unlisten<'a, T>(&'a Shared<T>);

impl<T> Drop for Unlisten<'_, T> {
    fn drop(&mut self) {
        self.0.unlisten();
    }
}

impl<T> fmt::Debug for Group<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = self.shared.word();
        f.debug_struct("Group")
            .field("tasks", &word.tasks())
            .field("closed", &word.is_closed())
            .field("cancelled", &self.shared.token.is_cancelled())
            .field("limit", &self.shared.limit.as_ref().map(|(_, n)| *n))
            .finish_non_exhaustive()
    }
}
