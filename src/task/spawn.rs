//! [`spawn`], [`spawn_on`], [`TaskBuilder`], [`Task`] and [`TaskAbortHandle`]:
//! a tokio task with a managed context whose outcome (value, error, panic or
//! abort) is never lost (spec/go.md, O1-O3 and T1-T9).
//!
//! # Design
//!
//! A [`Task`] is tokio's own `JoinHandle<Result<T, E>>`, mapped, plus the
//! task's cancellation token and its optional name. Tokio gives the rest:
//!
//! 1. The outcome: the task's `Result` is the `JoinHandle`'s output; tokio
//!    catches a panic of the future (`JoinError::is_panic`, mapped to
//!    [`TaskError::Panicked`]) and reports a future dropped unfinished, by
//!    an abort or by its runtime shutting down, as cancelled (mapped to
//!    [`TaskError::Aborted`]). No lock, no shared cell of our own.
//! 2. The context is one tokio-util `CancellationToken` (a child of the
//!    parent's when there is one): the `Task` holds it, `ctx` is a clone of
//!    it seen read-only. Cancelling is tokio-util's iterative walk, so a
//!    100,000-deep chain of parented tasks is cancelled without recursion.
//! 3. An abort cancels the token first, then aborts the tokio task, so code
//!    that runs while the future is dropped (drop guards) sees a cancelled
//!    context.
//!
//! Cost (T9): tokio's task plus the token's node, one allocation, for an
//! unnamed task (`tests/alloc.rs` counts it against `tokio::spawn`). A name
//! is an `Arc<str>`: none for an unnamed task, a reference count for a named
//! one given as an `Arc<str>`.
//!
//! The context is not cancelled when the task ends (spec/go.md does not ask
//! for it, and it would be one more lock per task): it is cancelled by
//! [`Task::cancel`], an abort, a shutdown or the parent.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{ready, Context as TaskContext, Poll};
use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Handle as Runtime;
use tokio::task::{AbortHandle, JoinError, JoinHandle};
use tokio_util::sync::CancellationToken;

use crate::lifecycle::block::assert_may_block;
use crate::lifecycle::context::{Context, Parent};
use crate::task::panic::{Panic, TaskError};

/// A task's id: tokio's own (`tokio::task::Id`), the one `tokio::task::id()`
/// returns inside the task and tokio-console shows (spec/go.md, O3).
///
/// Unique among the tasks running at a time; `Display` prints the number.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let task = runcycle::spawn(|_| async { Ok::<_, ()>(tokio::task::id()) });
/// let id: runcycle::TaskId = task.id();
/// assert_eq!(task.await.unwrap(), id);
/// # });
/// ```
pub type TaskId = tokio::task::Id;

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
/// `JoinHandle`), [`cancel`](Task::cancel) it (the task decides when to
/// return), [`abort`](Task::abort) it, or [`shutdown`](Task::shutdown) it
/// with a deadline. `f` is called inside the task, so a panic while it
/// builds its future is the task's panic too. To tie the context to a
/// parent or to name the task, use a [`TaskBuilder`].
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
    E: Send + 'static,
{
    spawn_task(
        &current_runtime("runcycle::spawn", "runcycle::spawn_on"),
        CancellationToken::new(),
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
/// assert_eq!(task.blocking_join().unwrap(), 7);
/// ```
pub fn spawn_on<F, Fut, T, E>(f: F, runtime: &Runtime) -> Task<T, E>
where
    F: FnOnce(Context) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    spawn_task(runtime, CancellationToken::new(), None, f)
}

/// Options for a task, then [`spawn`](TaskBuilder::spawn) or
/// [`spawn_on`](TaskBuilder::spawn_on) (tokio's `task::Builder`, for
/// runcycle tasks): a parent and a name. `spawn(f)` is
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
/// let task = TaskBuilder::new().parent(&shutdown).name("flusher").spawn(|ctx| async move {
///     ctx.cancelled().await;
///     Err::<(), _>("shut down")
/// });
/// assert_eq!(task.name(), Some("flusher"));
/// shutdown.cancel();
/// assert!(matches!(task.await, Err(runcycle::TaskError::Failed("shut down"))));
/// # });
/// ```
#[derive(Default)]
#[must_use = "a TaskBuilder does nothing until `spawn` or `spawn_on` is called"]
pub struct TaskBuilder {
    parent: Option<CancellationToken>,
    name: Option<Arc<str>>,
}

impl TaskBuilder {
    /// A builder with no parent and no name: its tasks' contexts are
    /// cancelled only through their [`Task`].
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
        TaskBuilder {
            parent: None,
            name: None,
        }
    }

    /// Ties the task's context to `parent`, a `CancellationToken` or another
    /// run's [`Context`] (Go's `GoCtx`): the context is a tokio-util child of
    /// it, so cancelling `parent` cancels the task's context. A second call
    /// replaces the first parent.
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
            ..self
        }
    }

    /// Names the task: [`Task::name`], its `Debug` and the `tracing` events
    /// show the name. A `&str` or `String` is copied into an `Arc<str>` (one
    /// allocation); an `Arc<str>` is shared. A second call replaces the first
    /// name. An unnamed task costs nothing for its name.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let task = runcycle::TaskBuilder::new()
    ///     .name("poller")
    ///     .spawn(|_| async { Ok::<_, ()>(()) });
    /// assert_eq!(task.name(), Some("poller"));
    /// assert!(format!("{task:?}").contains(r#"name: Some("poller")"#));
    /// # });
    /// ```
    pub fn name(self, name: impl Into<Arc<str>>) -> TaskBuilder {
        TaskBuilder {
            name: Some(name.into()),
            ..self
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
        E: Send + 'static,
    {
        let runtime = current_runtime(
            "runcycle::TaskBuilder::spawn",
            "runcycle::TaskBuilder::spawn_on",
        );
        self.spawn_on(f, &runtime)
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
    /// assert!(task.blocking_join().is_ok());
    /// ```
    pub fn spawn_on<F, Fut, T, E>(self, f: F, runtime: &Runtime) -> Task<T, E>
    where
        F: FnOnce(Context) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        // A child of a cancelled parent is born cancelled: the task still
        // starts (T7).
        let token = match &self.parent {
            Some(parent) => parent.child_token(),
            None => CancellationToken::new(),
        };
        spawn_task(runtime, token, self.name, f)
    }
}

impl fmt::Debug for TaskBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskBuilder")
            .field("parent", &self.parent.as_ref().map(|_| "CancellationToken"))
            .field("name", &self.name.as_deref())
            .finish()
    }
}

/// Every spawn ends here.
fn spawn_task<F, Fut, T, E>(
    runtime: &Runtime,
    token: CancellationToken,
    name: Option<Arc<str>>,
    f: F,
) -> Task<T, E>
where
    F: FnOnce(Context) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    let ctx = Context::new(token.clone());
    #[cfg(not(feature = "tracing"))]
    let join = runtime.spawn(async move { f(ctx).await });
    #[cfg(feature = "tracing")]
    let join = {
        let ended = trace::Ended::new(name.clone());
        runtime.spawn(async move {
            let mut ended = ended;
            let out = f(ctx).await;
            ended.returned(out.is_ok());
            out
        })
    };
    #[cfg(feature = "tracing")]
    tracing::trace!(
        target: "runcycle",
        { task.id = %join.id(), task.name = name.as_deref() },
        "task spawned"
    );
    Task {
        join,
        token,
        name,
        yielded: false,
    }
}

/// The `task ended` event (feature `tracing`).
#[cfg(feature = "tracing")]
mod trace {
    use std::sync::Arc;

    /// Owned by the task's future: emits `task ended` with the outcome when
    /// the future returns ([`returned`](Ended::returned)), or, from `Drop`,
    /// when it is dropped unfinished: during a panic's unwinding (tokio
    /// drops the future of a task whose poll panicked while the panic
    /// unwinds, before it catches it) the outcome is `panicked`, otherwise
    /// `aborted` (an abort or a runtime shutdown). Tokio enters the task's
    /// id while it polls or drops the future, so `tokio::task::try_id()`
    /// gives it.
    pub(super) struct Ended {
        name: Option<Arc<str>>,
        done: bool,
    }

    impl Ended {
        pub(super) fn new(name: Option<Arc<str>>) -> Ended {
            Ended { name, done: false }
        }

        pub(super) fn returned(&mut self, ok: bool) {
            self.done = true;
            self.emit(if ok { "ok" } else { "error" });
        }

        fn emit(&self, outcome: &str) {
            // The fields are evaluated only when a subscriber wants the
            // event: without one, this is the macro's cached check.
            tracing::trace!(
                target: "runcycle",
                {
                    task.id = tokio::task::try_id().map(tracing::field::display),
                    task.name = self.name.as_deref(),
                    outcome,
                },
                "task ended"
            );
        }
    }

    impl Drop for Ended {
        fn drop(&mut self) {
            if !self.done {
                self.emit(if std::thread::panicking() {
                    "panicked"
                } else {
                    "aborted"
                });
            }
        }
    }
}

/// Maps tokio's output to the task's outcome (O1): a caught panic is
/// `Panicked`, a future dropped unfinished (abort, runtime shutdown) is
/// `Aborted`.
fn outcome<T, E>(joined: Result<Result<T, E>, JoinError>) -> Result<T, TaskError<E>> {
    match joined {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(TaskError::Failed(e)),
        Err(e) => match e.try_into_panic() {
            Ok(payload) => Err(TaskError::Panicked(Panic::new(payload))),
            // Tokio's `JoinError` is a panic or a cancellation, nothing else.
            Err(_) => Err(TaskError::Aborted),
        },
    }
}

/// A task started by [`spawn`], [`spawn_on`] or a [`TaskBuilder`] (Go's `G`;
/// tokio's `JoinHandle`, with a context, a name and an owned outcome).
///
/// A `Task` is a [`Future`]: awaiting it waits for the task to end and
/// yields its outcome, `Ok(value)` or `Err(`[`TaskError`]`)` (the task's
/// error, its panic, or an abort), as a tokio `JoinHandle` does (it is one,
/// mapped). The outcome is yielded once: polling the `Task` again after it
/// yielded panics (see the `Future` impl).
///
/// Stopping it: [`cancel`](Task::cancel) asks (the task decides when to
/// return), [`abort`](Task::abort) drops its future at its next scheduling
/// point (after cancelling its context), [`shutdown`](Task::shutdown) does
/// both with a deadline in between. Dropping the `Task` detaches the task:
/// it keeps running with its context (like a tokio `JoinHandle`, and like
/// Go).
///
/// # Cancel safety
///
/// The future is cancel safe: dropping a pending poll (a `&mut task`
/// borrowed into a `select!` or a timeout) loses nothing; the outcome stays
/// in the `Task` until it is awaited again.
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
/// task.cancel();
/// assert!(matches!(task.await, Err(runcycle::TaskError::Failed("cancelled"))));
/// # });
/// ```
#[must_use = "dropping a Task detaches the task; keep it to await, cancel or abort it"]
pub struct Task<T, E> {
    join: JoinHandle<Result<T, E>>,
    token: CancellationToken,
    name: Option<Arc<str>>,
    /// Whether the future yielded the outcome (a later poll panics with a
    /// message naming `Task` rather than tokio's).
    yielded: bool,
}

impl<T, E> Task<T, E> {
    /// Cancels the task's context without waiting (Go's `Cancel`); the task
    /// decides when to return.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let task = runcycle::spawn(|ctx| async move { ctx.cancelled().await; Ok::<_, ()>("stopped") });
    /// task.cancel();
    /// assert_eq!(task.await.unwrap(), "stopped");
    /// # });
    /// ```
    pub fn cancel(&self) {
        self.token.cancel();
    }

    /// Aborts the task: cancels its context first, then aborts the tokio
    /// task (tokio's `JoinHandle::abort`). If the task has not finished, its
    /// future is dropped at its next scheduling point (one that is being
    /// polled is dropped when that poll returns) and the outcome is
    /// [`TaskError::Aborted`]; if it finished first, its outcome stands.
    /// Code that runs while the future is dropped sees the context
    /// cancelled. Does not wait: await the `Task` for the outcome.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let task = runcycle::spawn(|_ctx| async {
    ///     std::future::pending::<()>().await; // ignores its context
    ///     Ok::<(), ()>(())
    /// });
    /// task.abort();
    /// assert!(matches!(task.await, Err(runcycle::TaskError::Aborted)));
    /// # });
    /// ```
    pub fn abort(&self) {
        self.token.cancel();
        self.join.abort();
    }

    /// A handle that aborts the task from elsewhere, as [`abort`](Task::abort)
    /// (tokio's `JoinHandle::abort_handle`). It does not keep the outcome:
    /// only the `Task` yields it.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let task = runcycle::spawn(|_| std::future::pending::<Result<(), ()>>());
    /// let handle = task.abort_handle();
    /// assert_eq!(handle.id(), task.id());
    /// std::thread::spawn(move || handle.abort()).join().unwrap();
    /// assert!(task.await.unwrap_err().is_aborted());
    /// # });
    /// ```
    #[must_use = "an abort handle does nothing unless `abort` is called"]
    pub fn abort_handle(&self) -> TaskAbortHandle {
        TaskAbortHandle {
            abort: self.join.abort_handle(),
            token: self.token.clone(),
        }
    }

    /// Shuts the task down with a deadline (spec/go.md, T5): cancels its
    /// context, waits up to `timeout` for it to end, then aborts it and waits
    /// for the abort to take effect. Yields the outcome: the task's own if it
    /// ended in time (or while it was being aborted), else
    /// [`TaskError::Aborted`].
    ///
    /// Uses tokio's timer: the runtime needs the time driver
    /// (`#[tokio::main]` and `Runtime::new()` have it; a `Builder` needs
    /// `enable_time`). A task that never yields cannot be aborted; the wait
    /// after the abort waits for it, as tokio's.
    ///
    /// # Errors
    ///
    /// The task's failure ([`TaskError`]): its error, its panic, or
    /// `Aborted` if it was still running at the deadline (or its runtime
    /// shut down).
    ///
    /// # Panics
    ///
    /// Without a time driver (tokio's panic), and if the `Task` already
    /// yielded its outcome (as a second poll, see the `Future` impl).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before it is done leaves the task cancelled (the
    /// cancel happens at the first poll), and aborted if the deadline had
    /// passed; its outcome is lost with the `Task`.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use std::time::Duration;
    ///
    /// let polite = runcycle::spawn(|ctx| async move { ctx.cancelled().await; Ok::<_, ()>("bye") });
    /// assert_eq!(polite.shutdown(Duration::from_secs(5)).await.unwrap(), "bye");
    ///
    /// let stubborn = runcycle::spawn(|_| std::future::pending::<Result<(), ()>>());
    /// let outcome = stubborn.shutdown(Duration::from_millis(10)).await;
    /// assert!(matches!(outcome, Err(runcycle::TaskError::Aborted)));
    /// # });
    /// ```
    pub async fn shutdown(mut self, timeout: Duration) -> Result<T, TaskError<E>> {
        self.token.cancel();
        if let Ok(outcome) = tokio::time::timeout(timeout, &mut self).await {
            return outcome;
        }
        self.join.abort();
        (&mut self).await
    }

    /// Blocks the current thread until the task ends, and yields its outcome
    /// (the blocking twin of awaiting the `Task`, for plain threads).
    ///
    /// # Errors
    ///
    /// The task's failure ([`TaskError`]): its error, its panic, or
    /// `Aborted` (an abort, or its runtime shut down).
    ///
    /// # Panics
    ///
    /// At the caller's line, on a thread that drives a tokio runtime (a
    /// runtime worker, inside `Runtime::block_on` or `#[tokio::main]`): the
    /// task could then never run. `.await` the `Task` there, or call this
    /// from `tokio::task::spawn_blocking`. Also if the `Task` already yielded
    /// its outcome (as a second poll, see the `Future` impl).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let runtime = tokio::runtime::Runtime::new().unwrap();
    /// let task = runcycle::spawn_on(|_| async { Ok::<_, ()>("from a thread") }, runtime.handle());
    /// assert_eq!(task.blocking_join().unwrap(), "from a thread");
    /// ```
    #[track_caller]
    pub fn blocking_join(self) -> Result<T, TaskError<E>> {
        assert_may_block("runcycle::Task::blocking_join");
        futures_executor::block_on(self)
    }

    /// Whether the task has ended (returned, panicked or been aborted).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let task = runcycle::spawn(|ctx| async move { ctx.cancelled().await; Ok::<(), ()>(()) });
    /// assert!(!task.is_finished());
    /// task.cancel();
    /// while !task.is_finished() {
    ///     tokio::task::yield_now().await;
    /// }
    /// # });
    /// ```
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.join.is_finished()
    }

    /// The task's id: tokio's, as `tokio::task::id()` inside the task
    /// ([`TaskId`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let task = runcycle::spawn(|_| async { Ok::<_, ()>(tokio::task::id()) });
    /// let id = task.id();
    /// assert_eq!(task.await.unwrap(), id);
    /// # });
    /// ```
    #[must_use]
    pub fn id(&self) -> TaskId {
        self.join.id()
    }

    /// The task's name, if it was given one ([`TaskBuilder::name`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let named = runcycle::TaskBuilder::new().name("db").spawn(|_| async { Ok::<_, ()>(()) });
    /// assert_eq!(named.name(), Some("db"));
    /// let unnamed = runcycle::spawn(|_| async { Ok::<_, ()>(()) });
    /// assert_eq!(unnamed.name(), None);
    /// # });
    /// ```
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The task's context (read-only): the `ctx` the task received.
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
        Context::new(self.token.clone())
    }
}

impl<T, E> Future for Task<T, E> {
    type Output = Result<T, TaskError<E>>;

    /// Waits for the task to end, then yields its outcome (once).
    ///
    /// # Panics
    ///
    /// When polled after it yielded the outcome, with a message naming
    /// `runcycle::Task` and the fix (tokio's `JoinHandle` panics there too,
    /// with "`JoinHandle` polled after completion").
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        // Every field is `Unpin` (tokio's `JoinHandle` is), and so is `Task`.
        let this = &mut *self;
        assert!(
            !this.yielded,
            "a `runcycle::Task` was polled after it yielded its outcome (it yields it once, \
             as a tokio `JoinHandle`): await a `Task` once; to wait with a bound and keep it, \
             await `&mut task` inside `tokio::time::timeout` or `select!`"
        );
        let joined = ready!(Pin::new(&mut this.join).poll(cx));
        this.yielded = true;
        Poll::Ready(outcome(joined))
    }
}

impl<T, E> fmt::Debug for Task<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("id", &self.id())
            .field("name", &self.name())
            .field("finished", &self.is_finished())
            .finish_non_exhaustive()
    }
}

/// Aborts a [`Task`] from elsewhere ([`Task::abort_handle`]; tokio's
/// `AbortHandle`, which cancels the task's context first).
///
/// Cheap to clone; it does not keep the outcome, and dropping it does
/// nothing to the task.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let task = runcycle::spawn(|_| std::future::pending::<Result<(), ()>>());
/// let handles = [task.abort_handle(), task.abort_handle().clone()];
/// handles[1].abort();
/// assert!(task.await.unwrap_err().is_aborted());
/// assert!(handles[0].is_finished());
/// # });
/// ```
#[derive(Clone)]
pub struct TaskAbortHandle {
    abort: AbortHandle,
    token: CancellationToken,
}

impl TaskAbortHandle {
    /// Aborts the task: cancels its context, then aborts the tokio task, as
    /// [`Task::abort`]. A task that finished keeps its outcome.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let task = runcycle::spawn(|_| std::future::pending::<Result<(), ()>>());
    /// let ctx = task.context();
    /// task.abort_handle().abort();
    /// assert!(ctx.is_cancelled(), "cancelled at the call");
    /// assert!(task.await.unwrap_err().is_aborted());
    /// # });
    /// ```
    pub fn abort(&self) {
        self.token.cancel();
        self.abort.abort();
    }

    /// Whether the task has ended (returned, panicked or been aborted).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let task = runcycle::spawn(|_| async { Ok::<_, ()>(()) });
    /// let handle = task.abort_handle();
    /// task.await.unwrap();
    /// assert!(handle.is_finished());
    /// # });
    /// ```
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.abort.is_finished()
    }

    /// The task's id ([`Task::id`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let task = runcycle::spawn(|_| async { Ok::<_, ()>(()) });
    /// assert_eq!(task.abort_handle().id(), task.id());
    /// # });
    /// ```
    #[must_use]
    pub fn id(&self) -> TaskId {
        self.abort.id()
    }
}

impl fmt::Debug for TaskAbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskAbortHandle")
            .field("id", &self.id())
            .field("finished", &self.is_finished())
            .finish_non_exhaustive()
    }
}
