//! [`spawn`], [`spawn_on`], [`TaskBuilder`] and [`Task`]: a tokio task with a
//! managed context whose outcome (value, error or panic) is never lost.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context as TaskContext, Poll};
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use tokio::runtime::Handle as Runtime;
use tokio_util::sync::CancellationToken;

use crate::lifecycle::context::{Context, Parent};
use crate::lifecycle::guard::Guard;
use crate::lifecycle::handle::Handle;
use crate::lifecycle::table::Kind;
use crate::lifecycle::wait::Wait;
use crate::sync::{Mutex, StdArc as Arc};
use crate::task::panic::{Panic, TaskError};

/// The current tokio runtime, or a panic at the caller's line naming the
/// call and the alternative that takes a runtime handle.
#[track_caller]
pub(crate) fn current_runtime(call: &str, alternative: &str) -> Runtime {
    match Runtime::try_current() {
        Ok(runtime) => runtime,
        Err(e) => panic!(
            "`{call}` must be called from within a tokio runtime ({e}); \
             use `{alternative}` with a runtime handle from other threads"
        ),
    }
}

/// Spawns `f(ctx)` as a tokio task on the current runtime, with a managed
/// context `ctx` (Go's `Go`; tokio's `spawn`).
///
/// Returns a [`Task`]: `.await` it for the outcome (as a tokio
/// `JoinHandle`), or cancel it ([`cancel`](Task::cancel),
/// [`close`](Task::close)), wait for it ([`done`](Task::done)) and read its
/// outcome ([`err`](Task::err), [`take`](Task::take)). To tie the context to
/// a parent, use [`TaskBuilder::parent`].
///
/// # Panics
///
/// If called outside a tokio runtime, at the caller's line, with the message
/// "`runcycle::spawn` must be called from within a tokio runtime (...); use
/// `runcycle::spawn_on` with a runtime handle from other threads".
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let task = runcycle::spawn(|ctx| async move {
///     ctx.cancelled().await; // serve until told to stop
///     Ok::<_, std::io::Error>("drained")
/// });
/// task.cancel();
/// assert_eq!(task.await.unwrap(), "drained");
/// # });
/// ```
#[track_caller]
pub fn spawn<F, Fut, T, E>(f: F) -> Task<T, E>
where
    F: FnOnce(Context) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + Sync + 'static,
{
    spawn_task(
        &current_runtime("runcycle::spawn", "runcycle::spawn_on"),
        None,
        f,
    )
}

/// [`spawn`] on an explicit runtime: callable from any thread (tokio's
/// `Handle::spawn`, with the argument order of tokio's `spawn_on`).
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// let runtime = tokio::runtime::Runtime::new().unwrap();
/// // From a plain thread, outside the runtime:
/// let task = runcycle::spawn_on(|_ctx| async { Ok::<_, ()>(7) }, runtime.handle());
/// task.done().wait();
/// assert!(matches!(task.take(), Some(Ok(7))));
/// ```
pub fn spawn_on<F, Fut, T, E>(f: F, runtime: &Runtime) -> Task<T, E>
where
    F: FnOnce(Context) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + Sync + 'static,
{
    spawn_task(runtime, None, f)
}

/// Options for a task, then [`spawn`](TaskBuilder::spawn) or
/// [`spawn_on`](TaskBuilder::spawn_on) (tokio's `task::Builder`, for
/// runcycle tasks). Today the one option is the parent; `spawn(f)` is
/// `TaskBuilder::new().spawn(f)`.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use runcycle::{CancellationToken, TaskBuilder};
///
/// let shutdown = CancellationToken::new();
/// let task = TaskBuilder::new().parent(&shutdown).spawn(|ctx| async move {
///     ctx.cancelled().await;
///     Err::<(), _>("shut down")
/// });
/// shutdown.cancel();
/// assert!(matches!(task.await, Err(runcycle::TaskError::Failed(e)) if *e == "shut down"));
/// # });
/// ```
#[derive(Debug, Default)]
#[must_use = "a TaskBuilder does nothing until `spawn` or `spawn_on` is called"]
pub struct TaskBuilder {
    parent: Option<CancellationToken>,
}

impl TaskBuilder {
    /// A builder with no parent: its tasks' contexts are cancelled only
    /// through their [`Task`].
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let task = runcycle::TaskBuilder::new().spawn(|_| async { Ok::<_, ()>(1) });
    /// assert_eq!(task.await.unwrap(), 1);
    /// # });
    /// ```
    pub fn new() -> TaskBuilder {
        TaskBuilder { parent: None }
    }

    /// Ties the task's context to `parent`, a `CancellationToken` or another
    /// run's [`Context`] (Go's `GoCtx`): cancelling `parent` cancels the
    /// task's context (through the task's own lifecycle; it is not a
    /// tokio-util child). A second call replaces the first parent.
    ///
    /// If `parent` is already cancelled when the task is spawned, the task
    /// still starts, with a cancelled context (as in Go): it runs, sees the
    /// cancellation and returns its own outcome.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let server = runcycle::Many::new();
    /// let guard = server.start().unwrap();
    /// let task = runcycle::TaskBuilder::new()
    ///     .parent(&guard.context()) // the run's context
    ///     .spawn(|ctx| async move { ctx.cancelled().await; Ok::<_, ()>("stopped with the run") });
    /// server.stop().unwrap(); // cancels the run's context, and so the task's
    /// assert_eq!(task.await.unwrap(), "stopped with the run");
    /// # });
    /// ```
    pub fn parent(self, parent: &impl Parent) -> TaskBuilder {
        TaskBuilder {
            parent: Some(parent.parent_token().clone()),
        }
    }

    /// Spawns `f(ctx)` on the current tokio runtime with these options: as
    /// [`spawn`](crate::spawn).
    ///
    /// # Panics
    ///
    /// If called outside a tokio runtime, at the caller's line, with the
    /// message "`runcycle::TaskBuilder::spawn` must be called from within a
    /// tokio runtime (...); use `runcycle::TaskBuilder::spawn_on` with a
    /// runtime handle from other threads".
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let parent = runcycle::CancellationToken::new();
    /// parent.cancel();
    /// // An already cancelled parent: the task still runs, with a cancelled context.
    /// let task = runcycle::TaskBuilder::new()
    ///     .parent(&parent)
    ///     .spawn(|ctx| async move { Ok::<_, ()>(ctx.is_cancelled()) });
    /// assert!(task.await.unwrap());
    /// # });
    /// ```
    #[track_caller]
    pub fn spawn<F, Fut, T, E>(self, f: F) -> Task<T, E>
    where
        F: FnOnce(Context) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Send + Sync + 'static,
    {
        let runtime = current_runtime(
            "runcycle::TaskBuilder::spawn",
            "runcycle::TaskBuilder::spawn_on",
        );
        spawn_task(&runtime, self.parent.as_ref(), f)
    }

    /// Spawns `f(ctx)` on `runtime` with these options: callable from any
    /// thread, as [`spawn_on`](crate::spawn_on).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let runtime = tokio::runtime::Runtime::new().unwrap();
    /// let shutdown = runcycle::CancellationToken::new();
    /// let task = runcycle::TaskBuilder::new()
    ///     .parent(&shutdown)
    ///     .spawn_on(|ctx| async move { ctx.cancelled().await; Ok::<_, ()>(()) }, runtime.handle());
    /// shutdown.cancel();
    /// task.done().wait();
    /// assert!(task.err().is_none());
    /// ```
    pub fn spawn_on<F, Fut, T, E>(self, f: F, runtime: &Runtime) -> Task<T, E>
    where
        F: FnOnce(Context) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Send + Sync + 'static,
    {
        spawn_task(runtime, self.parent.as_ref(), f)
    }
}

/// Every spawn ends here.
fn spawn_task<F, Fut, T, E>(
    runtime: &Runtime,
    parent: Option<&CancellationToken>,
    f: F,
) -> Task<T, E>
where
    F: FnOnce(Context) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + Sync + 'static,
{
    // A `One` drives the task's lifecycle. Its run starts before the parent
    // watch is armed, so an already cancelled parent gives a running task
    // with a cancelled context rather than a refused start (spec/go.md).
    let handle = Handle::unwatched(Kind::One, parent);
    let Ok(guard) = handle.start_unwatched() else {
        unreachable!("runcycle: a new instance refused its first start")
    };
    handle.watch_parent();
    let ctx = guard.context();
    let outcome = Arc::new(Mutex::new(Outcome::Running));
    let finish = Finish {
        outcome: Arc::clone(&outcome),
        guard: Some(guard),
        // The task keeps a handle too, so dropping the `Task` does not close
        // the instance: the task is detached, not cancelled (spec/go.md).
        _handle: handle.clone(),
    };
    runtime.spawn(async move {
        let mut finish = finish;
        let result = AssertUnwindSafe(async move { f(ctx).await })
            .catch_unwind()
            .await;
        finish.record(match result {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(TaskError::Failed(Arc::new(e))),
            Err(payload) => Err(TaskError::Panicked(Panic::new(payload))),
        });
    });
    Task {
        handle,
        outcome,
        exit: None,
    }
}

/// Where a task's outcome is kept until it is taken.
enum Outcome<T, E> {
    Running,
    Exited(Result<T, TaskError<E>>),
    /// The outcome was taken (by `take` or by the `Task` future); the error
    /// (if any) stays readable.
    Taken(Option<TaskError<E>>),
}

/// What an attempt to take the outcome found.
enum Taking<T, E> {
    Running,
    Taken,
    Got(Result<T, TaskError<E>>),
}

/// Owned by the task: records the outcome, then ends the run. If the task is
/// dropped before it finishes (its runtime shut down), `Drop` records
/// [`TaskError::Aborted`], so the outcome is never silently missing.
struct Finish<T, E> {
    outcome: Arc<Mutex<Outcome<T, E>>>,
    guard: Option<Guard>,
    _handle: Handle,
}

impl<T, E> Finish<T, E> {
    fn record(&mut self, result: Result<T, TaskError<E>>) {
        *self.outcome.lock() = Outcome::Exited(result);
        // The outcome is in place before the run ends: whoever sees `done`
        // resolved finds it.
        drop(self.guard.take());
    }
}

impl<T, E> Drop for Finish<T, E> {
    fn drop(&mut self) {
        if self.guard.is_some() {
            self.record(Err(TaskError::Aborted));
        }
    }
}

/// A task started by [`spawn`], [`spawn_on`] or a [`TaskBuilder`] (Go's `G`;
/// tokio's `JoinHandle`, with a context and an outcome that is never lost).
///
/// A `Task` is a [`Future`]: awaiting it waits for the task to exit and
/// yields its outcome, `Ok(value)` or `Err(`[`TaskError`]`)` (the task's
/// error, its panic, or an abort by a runtime shutdown), as a tokio
/// `JoinHandle` does. The outcome is yielded once: after the future yielded
/// it, [`take`](Task::take) returns `None` (and [`err`](Task::err) still
/// reports a failure), and polling the future again panics with a message
/// naming `Task` (as polling any finished future may). To wait again, use
/// [`done`](Task::done); to read a failure, [`err`](Task::err). Awaiting
/// after [`take`](Task::take) took the outcome panics too.
///
/// Dropping the `Task` detaches the task: it keeps running with its context
/// (like a tokio `JoinHandle`, and like Go). Use [`cancel`](Task::cancel) or
/// [`close`](Task::close) to stop it.
///
/// # Cancel safety
///
/// The future is cancel safe: dropping it (or a `&mut task` borrowed into a
/// `select!` or a timeout) before it yielded loses nothing; the outcome
/// stays in the `Task` until it is awaited again or taken.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::time::Duration;
///
/// let mut task = runcycle::spawn(|ctx| async move {
///     tokio::select! {
///         _ = ctx.cancelled() => Err("cancelled"),
///         _ = tokio::time::sleep(Duration::from_secs(60)) => Ok(()),
///     }
/// });
/// // A bounded wait that gives up loses nothing:
/// assert!(tokio::time::timeout(Duration::from_millis(1), &mut task).await.is_err());
/// assert!(task.err().is_none(), "nothing before the exit");
/// task.cancel();
/// assert!(matches!(task.await, Err(runcycle::TaskError::Failed(e)) if *e == "cancelled"));
/// # });
/// ```
#[must_use = "dropping a Task detaches the task; keep it to await, cancel or read the outcome"]
pub struct Task<T, E> {
    handle: Handle,
    outcome: Arc<Mutex<Outcome<T, E>>>,
    /// The exit wait of the pending future, made at its first poll that
    /// finds the task running and reused by later polls.
    exit: Option<Wait>,
}

impl<T, E> Task<T, E> {
    /// Cancels the task's context without waiting (Go's `Cancel`).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let task = runcycle::spawn(|ctx| async move { ctx.cancelled().await; Ok::<(), ()>(()) });
    /// task.cancel();
    /// task.done().await;
    /// # });
    /// ```
    pub fn cancel(&self) {
        // The transition is not needed: nothing waits here.
        drop(self.handle.close());
    }

    /// Cancels the task's context at the call and returns a [`Wait`] for its
    /// exit (Go's `Close`; bound the wait with a timeout as needed). The
    /// cancel happens at the call, so `task.close();` alone is a
    /// fire-and-forget cancel, as [`cancel`](Task::cancel).
    ///
    /// # Deadlocks
    ///
    /// The task itself must not wait on it: a task awaiting its own `Task`'s
    /// `close()` never returns, since the wait resolves only when the task has
    /// exited. Inside the task, watch the context and return instead.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let task = runcycle::spawn(|ctx| async move { ctx.cancelled().await; Ok::<(), ()>(()) });
    /// let closed = tokio::time::timeout(std::time::Duration::from_secs(5), task.close()).await;
    /// assert!(closed.is_ok());
    /// # });
    /// ```
    // A fire-and-forget `close();` is a common use: not `#[must_use]`.
    #[allow(clippy::must_use_candidate)]
    pub fn close(&self) -> Wait {
        self.handle.close().into_wait()
    }

    /// A [`Wait`] that resolves when the task has exited (Go's `Done`). It
    /// does not take the outcome: the `Task` can still be awaited.
    ///
    /// # Deadlocks
    ///
    /// The task itself must not wait on it: a task awaiting its own `Task`'s
    /// `done()` never returns, since the wait resolves only when the task has
    /// exited. Inside the task, watch the context and return instead.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let task = runcycle::spawn(|_| async { Ok::<_, ()>(()) });
    /// task.done().await;
    /// assert!(task.is_finished());
    /// # });
    /// ```
    #[must_use = "a Wait does nothing unless awaited or waited on"]
    pub fn done(&self) -> Wait {
        self.handle.done()
    }

    /// The task's context.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let task = runcycle::spawn(|ctx| async move { ctx.cancelled().await; Ok::<(), ()>(()) });
    /// let ctx = task.context();
    /// task.cancel();
    /// assert!(ctx.is_cancelled());
    /// # });
    /// ```
    #[must_use]
    pub fn context(&self) -> Context {
        Context::new(self.handle.context())
    }

    /// Whether the task has exited.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let task = runcycle::spawn(|ctx| async move { ctx.cancelled().await; Ok::<(), ()>(()) });
    /// assert!(!task.is_finished());
    /// task.close().await;
    /// assert!(task.is_finished());
    /// # });
    /// ```
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.handle.done().is_done()
    }

    /// The task's failure: `None` while it runs and after a success (Go's
    /// `Err`); after an error, a panic or an abort, that failure. It stays
    /// readable after the outcome was taken ([`take`](Task::take), or
    /// awaiting the `Task`).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let task = runcycle::spawn(|_| async { Err::<(), _>(std::io::Error::other("disk full")) });
    /// task.done().await;
    /// assert_eq!(task.err().unwrap().to_string(), "task failed: disk full");
    /// # });
    /// ```
    #[must_use]
    pub fn err(&self) -> Option<TaskError<E>> {
        match &*self.outcome.lock() {
            Outcome::Running | Outcome::Exited(Ok(_)) => None,
            Outcome::Exited(Err(e)) => Some(e.clone()),
            Outcome::Taken(e) => e.clone(),
        }
    }

    /// Takes the outcome once the task has exited: `Some(Ok(value))` or
    /// `Some(Err(failure))`; `None` while it runs and after it was taken
    /// (by an earlier `take`, or by awaiting the `Task`).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let task = runcycle::spawn(|_| async { Ok::<_, ()>(vec![1, 2, 3]) });
    /// task.done().await;
    /// assert!(matches!(task.take(), Some(Ok(v)) if v == [1, 2, 3]));
    /// assert!(task.take().is_none());
    /// # });
    /// ```
    #[must_use]
    pub fn take(&self) -> Option<Result<T, TaskError<E>>> {
        match self.take_outcome() {
            Taking::Got(result) => Some(result),
            Taking::Running | Taking::Taken => None,
        }
    }

    fn take_outcome(&self) -> Taking<T, E> {
        let mut outcome = self.outcome.lock();
        match &*outcome {
            Outcome::Running => Taking::Running,
            Outcome::Taken(_) => Taking::Taken,
            Outcome::Exited(result) => {
                let failure = result.as_ref().err().cloned();
                match std::mem::replace(&mut *outcome, Outcome::Taken(failure)) {
                    Outcome::Exited(result) => Taking::Got(result),
                    _ => unreachable!("runcycle: the outcome changed under its lock"),
                }
            }
        }
    }
}

impl<T, E> Future for Task<T, E> {
    type Output = Result<T, TaskError<E>>;

    /// Waits for the exit, then yields the outcome (once).
    ///
    /// # Panics
    ///
    /// When polled after the outcome was taken: after this future yielded
    /// it, or after [`take`](Task::take).
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        // Every field is `Unpin`, and so is `Task`.
        let this = &mut *self;
        loop {
            match this.take_outcome() {
                Taking::Got(result) => {
                    this.exit = None;
                    return Poll::Ready(result);
                }
                Taking::Taken => panic!(
                    "a `runcycle::Task` was polled after its outcome was taken (it yields its \
                     outcome once, as a tokio `JoinHandle`; `take()` takes it too): await a \
                     `Task` once; use `Task::done()` to wait for the exit again and \
                     `Task::err()` to read a failure"
                ),
                Taking::Running => {}
            }
            let exit = this.exit.get_or_insert_with(|| this.handle.done());
            if Pin::new(exit).poll(cx).is_pending() {
                return Poll::Pending;
            }
            // The run ended, so the outcome is recorded (`Finish::record`
            // writes it before it ends the run): the next turn takes it.
            // The wait is spent; a fresh one would only be needed if the
            // outcome were missing, which the assertion rules out.
            this.exit = None;
            assert!(
                !matches!(&*this.outcome.lock(), Outcome::Running),
                "runcycle: a task's run ended before its outcome was recorded"
            );
        }
    }
}

impl<T, E> fmt::Debug for Task<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("finished", &self.is_finished())
            .finish_non_exhaustive()
    }
}
