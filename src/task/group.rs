//! [`Group`]: tasks sharing one context, waited for together, with errors
//! and panics reported and a close that atomically refuses new tasks.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context as TaskContext, Poll, Waker};
use std::error::Error as StdError;
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use tokio::runtime::Handle as Runtime;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::lifecycle::context::{Context, Parent};

use crate::lifecycle::block::assert_may_block;
use crate::lifecycle::error::{ClosedError, TimedOut};
use crate::sync::{Mutex, StdArc as Arc};
use crate::task::panic::Panic;
use crate::task::spawn::current_runtime;

/// The boxed error type of a [`Group`]'s report: a task's `Err(e)` is kept
/// as `e.into()` (see [`GroupTaskOutput`]).
///
/// # Examples
///
/// ```
/// let e: runcycle::BoxError = "any error converts".into();
/// assert_eq!(e.to_string(), "any error converts");
/// ```
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What a [`Group`] task's future may output: `()`, or `Result<(), E>` with
/// `E: Into<`[`BoxError`]`>` (the error-group mode, Go's `errgroup`): the
/// first `Err` cancels the group's context and is reported by
/// [`Group::wait`] and [`Group::close`].
///
/// Sealed, and implemented for nothing else: these two forms, which
/// [`Group::spawn`] infers from the closure with no annotation, and `!`, so
/// that a task whose body never returns (it only panics, or loops until the
/// runtime shuts down) needs no annotation either (rustdoc shows it as
/// `<fn() -> ! as Returns>::Output`: the never type cannot be named on
/// stable Rust).
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let group = runcycle::Group::new();
/// group.spawn(|_ctx| async { /* a task with nothing to report */ }).unwrap();
/// group.spawn(|_ctx| async { Ok::<(), std::io::Error>(()) }).unwrap();
/// group.spawn(|_ctx| async { Err::<(), _>("refused") }).unwrap();
/// let report = group.wait().await.unwrap_err();
/// assert_eq!(report.error().unwrap().to_string(), "refused");
/// # });
/// ```
pub trait GroupTaskOutput: sealed::Sealed + Send + 'static {}

impl GroupTaskOutput for () {}
impl<E: Into<BoxError> + Send + 'static> GroupTaskOutput for Result<(), E> {}

/// A body that never returns, as `async { panic!("...") }` or
/// `async { loop { ... } }`: its output type is left to the compiler's
/// fallback for `!`, which is `()` in edition 2021 (with the deny-by-default
/// lint `dependency_on_unit_never_type_fallback` when a bound needs it) and
/// `!` in edition 2024. Without this impl such a task would not compile.
impl GroupTaskOutput for never::Never {}

mod never {
    /// What a `fn` type returns.
    #[allow(unreachable_pub)] // nameable only inside the crate
    pub trait Returns {
        type Output;
    }

    impl<R> Returns for fn() -> R {
        type Output = R;
    }

    /// `!`, named on stable Rust (the never type itself is unstable to
    /// name): the output of a `fn() -> !`.
    pub(crate) type Never = <fn() -> ! as Returns>::Output;
}

mod sealed {
    use super::BoxError;

    /// Seals [`GroupTaskOutput`](super::GroupTaskOutput) and turns an output
    /// into the group's one form.
    #[allow(unreachable_pub)] // nameable only inside the crate: the seal
    pub trait Sealed {
        /// `Ok(())`, or the task's error, boxed.
        fn into_report(self) -> Result<(), BoxError>;
    }

    impl Sealed for () {
        fn into_report(self) -> Result<(), BoxError> {
            Ok(())
        }
    }

    impl<E: Into<BoxError>> Sealed for Result<(), E> {
        fn into_report(self) -> Result<(), BoxError> {
            self.map_err(Into::into)
        }
    }

    impl Sealed for super::never::Never {
        fn into_report(self) -> Result<(), BoxError> {
            // No value of `!` exists: this is never called.
            self
        }
    }
}

/// A group of tokio tasks sharing one context (Go's `Group`, plus an
/// error-group mode like Go's `errgroup`).
///
/// * [`spawn`](Group::spawn) spawns `f(ctx)` with the group's context
///   ([`spawn_on`](Group::spawn_on) from outside a runtime); a task may
///   return `()` or `Result<(), E>` ([`GroupTaskOutput`]): the first error
///   cancels the context and is reported by `wait`/`close`.
/// * A panic in any task is caught, cancels the context, and is reported by
///   `wait`/`close` with its payload.
/// * [`wait`](Group::wait) waits for every task started so far (any number
///   of times, from any number of waiters); [`close`](Group::close) refuses
///   new tasks (atomically: no task can start after a close has begun and be
///   missed by its wait), cancels the context and waits.
///
/// `Group` is a cheap handle; clones share the group. Dropping it does not
/// cancel the tasks. Compare [`spawn`](crate::spawn) for a single task whose
/// value you want back, and tokio's `JoinSet`, which yields each task's
/// output but has no shared context and no close that refuses new tasks.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use runcycle::Group;
///
/// let group = Group::new();
/// for i in 0..3 {
///     group.spawn(move |ctx| async move {
///         ctx.cancelled().await; // a worker that runs until shutdown
///         let _ = i;
///     }).unwrap();
/// }
/// group.spawn(|_ctx| async { Err::<(), _>("upstream unreachable") }).unwrap();
/// // The failure cancels the shared context; the workers exit; wait reports it.
/// let report = group.wait().await.unwrap_err();
/// assert_eq!(report.error().unwrap().to_string(), "upstream unreachable");
/// assert!(group.spawn(|_| async {}).is_ok(), "wait does not close the group");
/// group.close().await.unwrap_err();
/// assert!(group.spawn(|_| async {}).is_err(), "closed: refused");
/// # });
/// ```
#[derive(Clone)]
pub struct Group {
    inner: Arc<GroupInner>,
}

struct GroupInner {
    ctx: CancellationToken,
    /// Kept closed from birth: its `wait` then means "until no task is
    /// tracked", a wait group that can be waited on any number of times.
    tracker: TaskTracker,
    state: Mutex<GroupState>,
}

#[derive(Default)]
struct GroupState {
    /// Set by `close`; read by every spawn under the same lock (see
    /// `Group::spawn_task`).
    closed: bool,
    error: Option<Arc<dyn StdError + Send + Sync + 'static>>,
    panics: Vec<Panic>,
    aborted: usize,
}

impl GroupInner {
    fn failed(&self, error: BoxError) {
        {
            let mut state = self.state.lock();
            if state.error.is_none() {
                state.error = Some(Arc::from(error));
            }
        }
        self.ctx.cancel();
    }

    fn panicked(&self, panic: Panic) {
        self.state.lock().panics.push(panic);
        self.ctx.cancel();
    }

    fn report(&self) -> Result<(), GroupError> {
        let state = self.state.lock();
        if state.error.is_none() && state.panics.is_empty() && state.aborted == 0 {
            Ok(())
        } else {
            Err(GroupError {
                error: state.error.clone(),
                panics: state.panics.clone(),
                aborted: state.aborted,
            })
        }
    }
}

/// Owned by a task: reports it as aborted if the task is dropped before it
/// finishes (its runtime shut down), so no task vanishes unreported.
struct TaskEnd {
    inner: Arc<GroupInner>,
    finished: bool,
}

impl Drop for TaskEnd {
    fn drop(&mut self) {
        if !self.finished {
            self.inner.state.lock().aborted += 1;
            self.inner.ctx.cancel();
        }
    }
}

impl Group {
    /// A group with a root context.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let group = runcycle::Group::new();
    /// assert!(!group.context().is_cancelled());
    /// ```
    #[must_use]
    pub fn new() -> Group {
        Group::from_token(CancellationToken::new())
    }

    /// A group whose context is a child of `parent` (Go's `NewGroup(ctx)`):
    /// cancelling `parent` cancels the group's tasks. Pass another group's
    /// [`context`](Group::context) to nest groups.
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
        Group::from_token(parent.parent_token().child_token())
    }

    fn from_token(ctx: CancellationToken) -> Group {
        let tracker = TaskTracker::new();
        tracker.close();
        Group {
            inner: Arc::new(GroupInner {
                ctx,
                tracker,
                state: Mutex::new(GroupState::default()),
            }),
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
        Context::new(self.inner.ctx.clone())
    }

    /// Spawns `f(ctx)` on the current tokio runtime with the group's context
    /// (Go's `Group.Go`, and `errgroup.Go`). The future may output `()` or
    /// `Result<(), E>` with `E: Into<`[`BoxError`]`>` ([`GroupTaskOutput`]):
    /// the first `Err` cancels the group's context and is reported by
    /// [`wait`](Group::wait) and [`close`](Group::close).
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
    /// group.spawn(|_ctx| async { "x".parse::<u8>().map(drop) }).unwrap();
    /// let report = group.wait().await.unwrap_err();
    /// assert!(report.error().is_some());
    /// assert!(group.context().is_cancelled());
    /// # });
    /// ```
    #[track_caller]
    pub fn spawn<F, Fut>(&self, f: F) -> Result<(), ClosedError>
    where
        F: FnOnce(Context) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: GroupTaskOutput,
    {
        let runtime = current_runtime("runcycle::Group::spawn", "runcycle::Group::spawn_on");
        self.spawn_task(&runtime, f)
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
    pub fn spawn_on<F, Fut>(&self, f: F, runtime: &Runtime) -> Result<(), ClosedError>
    where
        F: FnOnce(Context) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: GroupTaskOutput,
    {
        self.spawn_task(runtime, f)
    }

    fn spawn_task<F, Fut>(&self, runtime: &Runtime, f: F) -> Result<(), ClosedError>
    where
        F: FnOnce(Context) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: GroupTaskOutput,
    {
        // The check and the registration happen under the lock `close` takes
        // to set `closed`: a task either registers before the close (and its
        // wait counts it) or sees `closed` and is refused. No task can slip
        // in after the close began (the race of tokio issue 6759).
        let token = {
            let state = self.inner.state.lock();
            if state.closed {
                return Err(ClosedError);
            }
            self.inner.tracker.token()
        };
        let ctx = Context::new(self.inner.ctx.clone());
        let mut end = TaskEnd {
            inner: Arc::clone(&self.inner),
            finished: false,
        };
        runtime.spawn(async move {
            let result = AssertUnwindSafe(async move { sealed::Sealed::into_report(f(ctx).await) })
                .catch_unwind()
                .await;
            match result {
                Ok(Ok(())) => {}
                Ok(Err(error)) => end.inner.failed(error),
                Err(payload) => end.inner.panicked(Panic::new(payload)),
            }
            end.finished = true;
            // Recorded before the tracker token goes: a waiter that sees the
            // group empty sees this task's outcome.
            drop(end);
            drop(token);
        });
        Ok(())
    }

    /// Cancels the group's context without waiting (Go's `Cancel`).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let group = runcycle::Group::new();
    /// group.cancel();
    /// assert!(group.context().is_cancelled());
    /// ```
    pub fn cancel(&self) {
        self.inner.ctx.cancel();
    }

    /// Closes the group at the call (further spawns are refused), cancels
    /// its context, and returns a [`GroupWait`] for every task (Go's
    /// `Close`). The close happens at the call: `group.close();` alone is a
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
    pub fn close(&self) -> GroupWait {
        self.inner.state.lock().closed = true;
        self.inner.ctx.cancel();
        self.wait()
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
        self.inner.state.lock().closed
    }

    /// The number of tasks that have not finished.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// assert_eq!(runcycle::Group::new().len(), 0);
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.inner.tracker.len()
    }

    /// Whether every task has finished.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// assert!(runcycle::Group::new().is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.inner.tracker.is_empty()
    }

    /// A [`GroupWait`] for every task started so far (and any started while
    /// waiting), then the group's report (Go's `Wait`). Does not close.
    ///
    /// # Deadlocks
    ///
    /// A task of the group that awaits its own group's `wait()` never
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
    /// group.spawn(|_| async {}).unwrap();
    /// let (a, b) = tokio::join!(group.wait(), group.wait());
    /// assert!(a.is_ok() && b.is_ok());
    /// # });
    /// ```
    #[must_use = "a GroupWait does nothing unless awaited or waited on"]
    pub fn wait(&self) -> GroupWait {
        let inner = Arc::clone(&self.inner);
        GroupWait {
            future: Box::pin(async move {
                // Re-check after every wake-up: tokio-util 0.7.20's
                // `TaskTracker` sets its count to zero before it notifies, so
                // a `wait` future made in between (after a new task was
                // added) can be woken by that earlier notification while the
                // new task still runs. Found by `group_matches_model`.
                while !inner.tracker.is_empty() {
                    inner.tracker.wait().await;
                }
                inner.report()
            }),
        }
    }
}

impl Default for Group {
    /// Same as [`Group::new`].
    fn default() -> Self {
        Group::new()
    }
}

impl fmt::Debug for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Group")
            .field("tasks", &self.len())
            .field("cancelled", &self.inner.ctx.is_cancelled())
            .finish_non_exhaustive()
    }
}

/// What [`Group::wait`] and [`Group::close`] return: a `Future` (any
/// executor) that resolves when the group has no task left, with the group's
/// report; also [`wait`](GroupWait::wait) and
/// [`wait_timeout`](GroupWait::wait_timeout) for threads.
///
/// # Deadlocks
///
/// A task of the group must not wait for its own group: the group is empty
/// only once that task has ended, so `group.wait().await` or
/// `group.close().await` inside one of its tasks never returns (and a
/// blocking wait there panics, see [`wait`](GroupWait::wait)). Inside a
/// task, cancel the group's context and return instead.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// let runtime = tokio::runtime::Runtime::new().unwrap();
/// let group = runtime.block_on(async {
///     let group = runcycle::Group::new();
///     group.spawn(|_| async {}).unwrap();
///     group
/// });
/// group.wait().wait().unwrap(); // from a plain thread
/// ```
pub struct GroupWait {
    future: Pin<Box<dyn Future<Output = Result<(), GroupError>> + Send + Sync>>,
}

impl GroupWait {
    /// Blocks the thread until the group has no task left.
    ///
    /// # Errors
    ///
    /// The group's [`GroupError`] if any task failed, panicked or was aborted.
    ///
    /// # Deadlocks
    ///
    /// A task of the group that waits for its own group never returns: the
    /// group is empty only once that task has finished. See
    /// [`GroupWait`].
    ///
    /// # Panics
    ///
    /// On a thread that drives a tokio runtime (a runtime worker, or inside
    /// `Runtime::block_on` or `#[tokio::main]`), with the message
    /// "`runcycle::GroupWait::wait` cannot block a thread that drives a tokio
    /// runtime (...)", even if the group is already empty: blocking there
    /// can stop the very tasks it waits for. `.await` the `GroupWait`
    /// instead, or call this from `tokio::task::spawn_blocking`.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let runtime = tokio::runtime::Runtime::new().unwrap();
    /// let _enter = runtime.enter();
    /// let group = runcycle::Group::new();
    /// group.spawn(|_| async {}).unwrap();
    /// assert!(group.close().wait().is_ok());
    /// ```
    #[track_caller]
    pub fn wait(self) -> Result<(), GroupError> {
        assert_may_block("runcycle::GroupWait::wait");
        match self.wait_until(None) {
            Ok(report) => report,
            Err(TimedOut) => unreachable!("runcycle: a wait without a deadline timed out"),
        }
    }

    /// Blocks the thread until the group has no task left, or `timeout`.
    ///
    /// # Errors
    ///
    /// `Err(TimedOut)` if tasks remain at the deadline; otherwise the
    /// report, as [`wait`](GroupWait::wait).
    ///
    /// # Deadlocks
    ///
    /// A task waiting for its own group times out, see [`GroupWait`].
    ///
    /// # Panics
    ///
    /// On a thread that drives a tokio runtime, as
    /// [`wait`](GroupWait::wait) (naming `runcycle::GroupWait::wait_timeout`).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let runtime = tokio::runtime::Runtime::new().unwrap();
    /// let group = runcycle::Group::new();
    /// let _enter = runtime.enter();
    /// group.spawn(|ctx| async move { ctx.cancelled().await }).unwrap();
    /// let wait = group.wait();
    /// assert!(wait.wait_timeout(std::time::Duration::from_millis(10)).is_err());
    /// ```
    #[track_caller]
    pub fn wait_timeout(self, timeout: Duration) -> Result<Result<(), GroupError>, TimedOut> {
        assert_may_block("runcycle::GroupWait::wait_timeout");
        self.wait_until(Instant::now().checked_add(timeout))
    }

    fn wait_until(mut self, deadline: Option<Instant>) -> Result<Result<(), GroupError>, TimedOut> {
        let thread = std::thread::current();
        let waker = Waker::from(Arc::new(ThreadWaker(thread)));
        let mut cx = TaskContext::from_waker(&waker);
        loop {
            if let Poll::Ready(report) = self.future.as_mut().poll(&mut cx) {
                return Ok(report);
            }
            match deadline {
                None => std::thread::park(),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Err(TimedOut);
                    }
                    std::thread::park_timeout(deadline - now);
                }
            }
        }
    }
}

/// Unparks the waiting thread.
struct ThreadWaker(std::thread::Thread);

impl std::task::Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

impl Future for GroupWait {
    type Output = Result<(), GroupError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        self.future.as_mut().poll(cx)
    }
}

impl fmt::Debug for GroupWait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupWait").finish_non_exhaustive()
    }
}

/// What went wrong in a [`Group`]: the first `Err` of a task (see
/// [`GroupTaskOutput`]), every panic (with payloads), and how many
/// tasks were dropped unfinished by a runtime shutting down.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let group = runcycle::Group::new();
/// group.spawn(|_| async { panic!("worker 3 crashed") }).unwrap();
/// let report = group.wait().await.unwrap_err();
/// assert_eq!(report.panics()[0].message(), Some("worker 3 crashed"));
/// assert_eq!(report.to_string(), "1 task panicked: worker 3 crashed");
/// # });
/// ```
#[derive(Clone)]
pub struct GroupError {
    error: Option<Arc<dyn StdError + Send + Sync + 'static>>,
    panics: Vec<Panic>,
    aborted: usize,
}

impl GroupError {
    /// The first `Err` returned by a task (see [`GroupTaskOutput`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let group = runcycle::Group::new();
    /// group.spawn(|_| async { Err::<(), _>("quota exceeded") }).unwrap();
    /// let report = group.wait().await.unwrap_err();
    /// assert_eq!(report.error().map(ToString::to_string).as_deref(), Some("quota exceeded"));
    /// # });
    /// ```
    #[must_use]
    pub fn error(&self) -> Option<&(dyn StdError + Send + Sync + 'static)> {
        self.error.as_deref()
    }

    /// Every panic caught in the group's tasks, in the order they happened.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let group = runcycle::Group::new();
    /// group.spawn(|_| async { panic!("one") }).unwrap();
    /// group.spawn(|_| async { panic!("two") }).unwrap();
    /// let report = group.wait().await.unwrap_err();
    /// assert_eq!(report.panics().len(), 2);
    /// assert_eq!(report.to_string(), "2 tasks panicked");
    /// # });
    /// ```
    #[must_use]
    pub fn panics(&self) -> &[Panic] {
        &self.panics
    }

    /// How many tasks were dropped before finishing (runtime shutdown).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let runtime = tokio::runtime::Runtime::new().unwrap();
    /// let group = runcycle::Group::new();
    /// runtime.block_on(async {
    ///     group.spawn(|ctx| async move { ctx.cancelled().await }).unwrap();
    /// });
    /// drop(runtime); // the task is dropped unfinished
    /// assert_eq!(group.wait().wait().unwrap_err().aborted(), 1);
    /// ```
    #[must_use]
    pub fn aborted(&self) -> usize {
        self.aborted
    }
}

impl fmt::Debug for GroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupError")
            .field("error", &self.error)
            .field("panics", &self.panics)
            .field("aborted", &self.aborted)
            .finish()
    }
}

impl fmt::Display for GroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(e) = &self.error {
            parts.push(e.to_string());
        }
        match self.panics.as_slice() {
            [] => {}
            [one] => parts.push(format!(
                "1 task panicked: {}",
                one.message().unwrap_or("(non-string payload)")
            )),
            many => parts.push(format!("{} tasks panicked", many.len())),
        }
        if self.aborted > 0 {
            parts.push(format!("{} task(s) dropped unfinished", self.aborted));
        }
        f.write_str(&parts.join("; "))
    }
}

impl StdError for GroupError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &self.error {
            Some(e) => Some(&**e as &(dyn StdError + 'static)),
            None => self.panics.first().map(|p| p as &(dyn StdError + 'static)),
        }
    }
}
