//! [`Panic`] and [`TaskError`]: how tasks and groups report what went wrong in a
//! task, so that no error or panic is lost.

use core::fmt;
use std::any::Any;
use std::error::Error as StdError;

use crate::sync::{Mutex, StdArc as Arc};

/// A panic caught in a task, with its payload.
///
/// Cloning shares the record: the message stays readable from every clone,
/// the payload can be taken once (to inspect it or to resume the panic).
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let task = runcycle::spawn(|_ctx| async { if true { panic!("boom") } Ok::<(), std::io::Error>(()) });
/// let Err(runcycle::TaskError::Panicked(panic)) = task.await else { unreachable!() };
/// assert_eq!(panic.message(), Some("boom"));
/// assert!(panic.take_payload().is_some());
/// # });
/// ```
#[derive(Clone)]
pub struct Panic {
    inner: Arc<PanicInner>,
}

struct PanicInner {
    message: Option<String>,
    payload: Mutex<Option<Box<dyn Any + Send>>>,
}

impl Panic {
    pub(crate) fn new(payload: Box<dyn Any + Send>) -> Panic {
        let message = if let Some(s) = payload.downcast_ref::<&'static str>() {
            Some((*s).to_string())
        } else {
            payload.downcast_ref::<String>().cloned()
        };
        Panic {
            inner: Arc::new(PanicInner {
                message,
                payload: Mutex::new(Some(payload)),
            }),
        }
    }

    /// The panic message, if the payload was a string (as with `panic!("...")`).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let task = runcycle::spawn(|_| async { panic!("at the disco") });
    /// # let task: runcycle::Task<(), std::io::Error> = task;
    /// let Err(runcycle::TaskError::Panicked(p)) = task.await else { unreachable!() };
    /// assert_eq!(p.message(), Some("at the disco"));
    /// # });
    /// ```
    #[must_use]
    pub fn message(&self) -> Option<&str> {
        self.inner.message.as_deref()
    }

    /// Takes the original payload, once; `None` if a clone took it already.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let task = runcycle::spawn(|_| async { std::panic::panic_any(42_u32) });
    /// # let task: runcycle::Task<(), std::io::Error> = task;
    /// let Err(runcycle::TaskError::Panicked(p)) = task.await else { unreachable!() };
    /// let payload = p.take_payload().unwrap();
    /// assert_eq!(payload.downcast_ref::<u32>(), Some(&42));
    /// assert!(p.take_payload().is_none());
    /// # });
    /// ```
    #[must_use]
    pub fn take_payload(&self) -> Option<Box<dyn Any + Send>> {
        self.inner.payload.lock().take()
    }

    /// Resumes the panic on this thread, with the original payload if it is
    /// still here (else with the message).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let task = runcycle::spawn(|_| async { panic!("again") });
    /// # let task: runcycle::Task<(), std::io::Error> = task;
    /// let Err(runcycle::TaskError::Panicked(p)) = task.await else { unreachable!() };
    /// let resumed = std::panic::catch_unwind(|| p.resume());
    /// assert!(resumed.is_err());
    /// # });
    /// ```
    pub fn resume(self) -> ! {
        let payload = self.take_payload().unwrap_or_else(|| {
            Box::new(
                self.inner
                    .message
                    .clone()
                    .unwrap_or_else(|| "panic".to_string()),
            )
        });
        std::panic::resume_unwind(payload)
    }
}

impl fmt::Debug for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Panic")
            .field("message", &self.message())
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.message() {
            Some(m) => write!(f, "task panicked: {m}"),
            None => f.write_str("task panicked (non-string payload)"),
        }
    }
}

impl StdError for Panic {}

/// Why a task did not succeed: the `Err` of awaiting a [`Task`](crate::Task)
/// (spec/go.md, O1 and O2).
///
/// The error is owned: `Failed(E)` holds the task's own error, so `E: Send`
/// is all it needs (`Box<dyn Error + Send>` works). `TaskError<E>` is
/// `Clone` when `E` is.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let task = runcycle::spawn(|_| async { Err::<(), _>("no route to host") });
/// match task.await {
///     Err(runcycle::TaskError::Failed(e)) => assert_eq!(e, "no route to host"),
///     other => panic!("{other:?}"),
/// }
/// # });
/// ```
///
/// It is `Clone` only when the error is; this does not compile:
///
/// ```compile_fail
/// struct NotClone;
/// let e = runcycle::TaskError::Failed(NotClone);
/// let _ = e.clone();
/// ```
#[non_exhaustive]
#[derive(Clone)]
pub enum TaskError<E> {
    /// The task returned `Err`: its error.
    Failed(E),
    /// The task panicked: the panic, with its payload.
    Panicked(Panic),
    /// The task's future was dropped before it finished: by an abort
    /// (`Task::abort`, an abort handle), by a shutdown whose deadline
    /// passed, or by its runtime shutting down.
    Aborted,
}

impl<E> TaskError<E> {
    /// Whether the task returned `Err` ([`TaskError::Failed`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let e = runcycle::TaskError::Failed("refused");
    /// assert!(e.is_failed() && !e.is_panic() && !e.is_aborted());
    /// ```
    #[must_use]
    pub fn is_failed(&self) -> bool {
        matches!(self, TaskError::Failed(_))
    }

    /// Whether the task panicked ([`TaskError::Panicked`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let task = runcycle::spawn(|_| async { panic!("boom") });
    /// # let task: runcycle::Task<(), ()> = task;
    /// assert!(task.await.unwrap_err().is_panic());
    /// # });
    /// ```
    #[must_use]
    pub fn is_panic(&self) -> bool {
        matches!(self, TaskError::Panicked(_))
    }

    /// Whether the task was aborted ([`TaskError::Aborted`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let task = runcycle::spawn(|_| std::future::pending::<Result<(), ()>>());
    /// task.abort();
    /// assert!(task.await.unwrap_err().is_aborted());
    /// # });
    /// ```
    #[must_use]
    pub fn is_aborted(&self) -> bool {
        matches!(self, TaskError::Aborted)
    }
}

impl<E: fmt::Debug> fmt::Debug for TaskError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::Failed(e) => f.debug_tuple("Failed").field(e).finish(),
            TaskError::Panicked(p) => f.debug_tuple("Panicked").field(p).finish(),
            TaskError::Aborted => f.write_str("Aborted"),
        }
    }
}

impl<E: fmt::Display> fmt::Display for TaskError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::Failed(e) => write!(f, "task failed: {e}"),
            TaskError::Panicked(p) => fmt::Display::fmt(p, f),
            // tokio's `JoinError` does not say which of the three dropped
            // the future, so the text names them all.
            TaskError::Aborted => f.write_str(
                "task aborted before it finished (abort, deadline shutdown or runtime shutdown)",
            ),
        }
    }
}

impl<E: StdError + 'static> StdError for TaskError<E> {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            TaskError::Failed(e) => Some(e),
            TaskError::Panicked(p) => Some(p),
            TaskError::Aborted => None,
        }
    }
}
