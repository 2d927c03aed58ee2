//! [`go`], [`go_ctx`], [`go_on`] and [`G`]: a tokio task with a managed
//! context whose outcome (value, error or panic) is never lost.

use core::fmt;
use core::future::Future;
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

/// The current tokio runtime, or a panic naming the cause.
pub(crate) fn current_runtime(caller: &str) -> Runtime {
    match Runtime::try_current() {
        Ok(runtime) => runtime,
        Err(e) => panic!(
            "{caller} must be called from within a tokio runtime ({e}); \
             pass a runtime handle explicitly (runcycle::go_on) from other threads"
        ),
    }
}

/// Runs `f(ctx)` as a tokio task on the current runtime, with a managed
/// context `ctx` (Go's `Go`).
///
/// Returns a [`G`] that can cancel the task (`cancel`, `close`), wait for it
/// (`done`, `close`) and read its outcome (`err`, `take`).
///
/// # Panics
///
/// If called outside a tokio runtime, with the message "`runcycle::go` must be
/// called from within a tokio runtime (...)". Use [`go_on`] with a runtime
/// handle from other threads.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let g = runcycle::go(|ctx| async move {
///     ctx.cancelled().await; // serve until told to stop
///     Ok::<_, std::io::Error>("drained")
/// });
/// g.close().await; // cancel, wait for the exit
/// assert_eq!(g.take().unwrap().unwrap(), "drained");
/// # });
/// ```
pub fn go<F, Fut, T, E>(f: F) -> G<T, E>
where
    F: FnOnce(Context) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + Sync + 'static,
{
    go_on(&current_runtime("runcycle::go"), None, f)
}

/// [`go`] with a context tied to `parent`, a `CancellationToken` or another
/// run's [`Context`] (Go's `GoCtx`): cancelling `parent` cancels the task's
/// context (through the task's own lifecycle; it is not a tokio-util child).
///
/// If `parent` is already cancelled, the task still starts, with a cancelled
/// context (as in Go): it runs, sees the cancellation and returns its own
/// outcome.
///
/// # Panics
///
/// Outside a tokio runtime, as [`go`].
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let shutdown = tokio_util::sync::CancellationToken::new();
/// let g = runcycle::go_ctx(&shutdown, |ctx| async move {
///     ctx.cancelled().await;
///     Err::<(), _>("shut down")
/// });
/// shutdown.cancel();
/// g.done().await;
/// assert!(matches!(g.err(), Some(runcycle::TaskError::Failed(_))));
/// # });
/// ```
pub fn go_ctx<F, Fut, T, E>(parent: &impl Parent, f: F) -> G<T, E>
where
    F: FnOnce(Context) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + Sync + 'static,
{
    go_on(
        &current_runtime("runcycle::go_ctx"),
        Some(parent.parent_token()),
        f,
    )
}

/// [`go`] / [`go_ctx`] on an explicit runtime: callable from any thread.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// let runtime = tokio::runtime::Runtime::new().unwrap();
/// // From a plain thread, outside the runtime:
/// let g = runcycle::go_on(runtime.handle(), None, |_ctx| async { Ok::<_, ()>(7) });
/// g.done().wait();
/// assert!(matches!(g.take(), Some(Ok(7))));
/// ```
pub fn go_on<F, Fut, T, E>(runtime: &Runtime, parent: Option<&CancellationToken>, f: F) -> G<T, E>
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
        // The task keeps a handle too, so dropping the `G` does not close
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
    G { handle, outcome }
}

/// Where a task's outcome is kept until it is taken.
enum Outcome<T, E> {
    Running,
    Exited(Result<T, TaskError<E>>),
    /// The value was taken; the error (if any) stays readable.
    Taken(Option<TaskError<E>>),
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

/// A task started by [`go`], [`go_ctx`] or [`go_on`] (Go's `G`).
///
/// Dropping the `G` detaches the task: it keeps running with its context
/// (like a tokio `JoinHandle`, and like Go). Use [`cancel`](G::cancel) or
/// [`close`](G::close) to stop it.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let g = runcycle::go(|ctx| async move {
///     tokio::select! {
///         _ = ctx.cancelled() => Err("cancelled"),
///         _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => Ok(()),
///     }
/// });
/// assert!(g.err().is_none(), "nothing before the exit");
/// g.close().await;
/// assert!(matches!(g.err(), Some(runcycle::TaskError::Failed(e)) if *e == "cancelled"));
/// # });
/// ```
#[must_use = "dropping a G detaches the task; keep it to cancel, wait or read the outcome"]
pub struct G<T, E> {
    handle: Handle,
    outcome: Arc<Mutex<Outcome<T, E>>>,
}

impl<T, E> G<T, E> {
    /// Cancels the task's context without waiting (Go's `Cancel`).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let g = runcycle::go(|ctx| async move { ctx.cancelled().await; Ok::<(), ()>(()) });
    /// g.cancel();
    /// g.done().await;
    /// # });
    /// ```
    pub fn cancel(&self) {
        self.handle.close();
    }

    /// Cancels the task's context at the call and returns a [`Wait`] for its
    /// exit (Go's `Close`; bound the wait with a timeout as needed).
    ///
    /// # Deadlocks
    ///
    /// The task itself must not wait on it: a task awaiting its own `G`'s
    /// `close()` never returns, since the wait resolves only when the task has
    /// exited. Inside the task, watch the context and return instead.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let g = runcycle::go(|ctx| async move { ctx.cancelled().await; Ok::<(), ()>(()) });
    /// let closed = tokio::time::timeout(std::time::Duration::from_secs(5), g.close()).await;
    /// assert!(closed.is_ok());
    /// # });
    /// ```
    pub fn close(&self) -> Wait {
        self.handle.close().into_wait()
    }

    /// A [`Wait`] that resolves when the task has exited (Go's `Done`).
    ///
    /// # Deadlocks
    ///
    /// The task itself must not wait on it: a task awaiting its own `G`'s
    /// `done()` never returns, since the wait resolves only when the task has
    /// exited. Inside the task, watch the context and return instead.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let g = runcycle::go(|_| async { Ok::<_, ()>(()) });
    /// g.done().await;
    /// assert!(g.is_finished());
    /// # });
    /// ```
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
    /// let g = runcycle::go(|ctx| async move { ctx.cancelled().await; Ok::<(), ()>(()) });
    /// let ctx = g.context();
    /// g.cancel();
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
    /// let g = runcycle::go(|ctx| async move { ctx.cancelled().await; Ok::<(), ()>(()) });
    /// assert!(!g.is_finished());
    /// g.close().await;
    /// assert!(g.is_finished());
    /// # });
    /// ```
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.handle.done().is_done()
    }

    /// The task's failure: `None` while it runs and after a success (Go's
    /// `Err`); after an error, a panic or an abort, that failure. It stays
    /// readable after [`take`](G::take).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let g = runcycle::go(|_| async { Err::<(), _>(std::io::Error::other("disk full")) });
    /// g.done().await;
    /// assert_eq!(g.err().unwrap().to_string(), "task failed: disk full");
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
    /// `Some(Err(failure))`; `None` while it runs and after it was taken.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let g = runcycle::go(|_| async { Ok::<_, ()>(vec![1, 2, 3]) });
    /// g.done().await;
    /// assert!(matches!(g.take(), Some(Ok(v)) if v == [1, 2, 3]));
    /// assert!(g.take().is_none());
    /// # });
    /// ```
    #[must_use]
    pub fn take(&self) -> Option<Result<T, TaskError<E>>> {
        let mut outcome = self.outcome.lock();
        match &*outcome {
            Outcome::Running | Outcome::Taken(_) => None,
            Outcome::Exited(result) => {
                let failure = result.as_ref().err().cloned();
                match std::mem::replace(&mut *outcome, Outcome::Taken(failure)) {
                    Outcome::Exited(result) => Some(result),
                    _ => unreachable!("runcycle: the outcome changed under its lock"),
                }
            }
        }
    }
}

impl<T, E> fmt::Debug for G<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("G")
            .field("finished", &self.is_finished())
            .finish_non_exhaustive()
    }
}
