//! A supervised child: [`Child`] (its spec), [`Service`] (what it runs) and
//! [`ChildError`] (how a run says it failed, or what it wants next):
//! spec/supervise.md, S1-S4.

use core::fmt;
use std::error::Error as StdError;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::lifecycle::context::Context;
use crate::supervise::policy::{Backoff, Restart};
use crate::supervise::run::{spawn_run, RunEnd};
use crate::task::group::{BoxError, SharedError};

/// The error of a child's run: a failure, or a wish about what comes next
/// ("do not restart me", "stop the whole tree").
///
/// `?` converts any `std::error::Error + Send + Sync + 'static` into a
/// failure (as `anyhow` does, `ChildError` is therefore not itself an
/// `Error`); [`ChildError::new`] takes anything that converts into a
/// `Box<dyn Error + Send + Sync>` (a `String`, an `anyhow::Error`).
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// use runcycle::supervise::ChildError;
///
/// async fn fetch(url: &str) -> Result<(), ChildError> {
///     if url.is_empty() {
///         return Err(ChildError::do_not_restart()); // nothing to do, ever
///     }
///     let _n: u32 = "12".parse()?;                   // a failure: restart by policy
///     Err(ChildError::new(format!("{url}: unreachable")))
/// }
/// ```
pub struct ChildError {
    kind: ErrorKind,
}

enum ErrorKind {
    Failed(BoxError),
    DoNotRestart,
    StopTree(BoxError),
}

impl ChildError {
    /// A failure: the child is restarted by its restart type.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let e = runcycle::supervise::ChildError::new("disk full");
    /// assert_eq!(e.to_string(), "disk full");
    /// ```
    pub fn new(error: impl Into<BoxError>) -> ChildError {
        ChildError {
            kind: ErrorKind::Failed(error.into()),
        }
    }

    /// "Do not restart me": the child is finished, whatever its restart
    /// type (suture's `ErrDoNotRestart`). Not a failure.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// assert!(runcycle::supervise::ChildError::do_not_restart().is_do_not_restart());
    /// ```
    #[must_use]
    pub fn do_not_restart() -> ChildError {
        ChildError {
            kind: ErrorKind::DoNotRestart,
        }
    }

    /// "Stop the whole tree": the supervisor shuts down and ends with
    /// `StopReason::StopTree`, and so does every supervisor above it
    /// (suture's `ErrTerminateSupervisorTree`).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let e = runcycle::supervise::ChildError::stop_tree("config is invalid");
    /// assert!(e.is_stop_tree());
    /// ```
    pub fn stop_tree(reason: impl Into<BoxError>) -> ChildError {
        ChildError {
            kind: ErrorKind::StopTree(reason.into()),
        }
    }

    /// Whether this is [`do_not_restart`](ChildError::do_not_restart).
    #[must_use]
    pub fn is_do_not_restart(&self) -> bool {
        matches!(self.kind, ErrorKind::DoNotRestart)
    }

    /// Whether this is [`stop_tree`](ChildError::stop_tree).
    #[must_use]
    pub fn is_stop_tree(&self) -> bool {
        matches!(self.kind, ErrorKind::StopTree(_))
    }

    /// The failure's error or the stop-tree reason.
    #[must_use]
    pub fn error(&self) -> Option<&(dyn StdError + Send + Sync + 'static)> {
        match &self.kind {
            ErrorKind::Failed(e) | ErrorKind::StopTree(e) => Some(&**e),
            ErrorKind::DoNotRestart => None,
        }
    }

    pub(crate) fn into_exit(self) -> crate::supervise::report::Exit {
        use crate::supervise::report::Exit;
        match self.kind {
            ErrorKind::Failed(e) => Exit::Failed(SharedError::from(e)),
            ErrorKind::DoNotRestart => Exit::DoNotRestart,
            ErrorKind::StopTree(e) => Exit::StopTree(SharedError::from(e)),
        }
    }
}

impl<E: StdError + Send + Sync + 'static> From<E> for ChildError {
    fn from(error: E) -> ChildError {
        ChildError::new(error)
    }
}

impl fmt::Debug for ChildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Failed(e) => f.debug_tuple("Failed").field(e).finish(),
            ErrorKind::DoNotRestart => f.write_str("DoNotRestart"),
            ErrorKind::StopTree(e) => f.debug_tuple("StopTree").field(e).finish(),
        }
    }
}

impl fmt::Display for ChildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Failed(e) => fmt::Display::fmt(e, f),
            ErrorKind::DoNotRestart => f.write_str("do not restart"),
            ErrorKind::StopTree(e) => write!(f, "stop the tree: {e}"),
        }
    }
}

/// What a child runs: one call of [`serve`](Service::serve) is one run,
/// which should return when `ctx` is cancelled (suture's `Serve(ctx)`).
///
/// Implemented for every `Fn(Context) -> impl Future<Output = Result<(),
/// ChildError>>` and for [`Supervisor`](crate::supervise::Supervisor) (a
/// subtree).
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// use std::future::Future;
/// use runcycle::Context;
/// use runcycle::supervise::{Child, ChildError, Service};
///
/// struct Ticker { every: std::time::Duration }
///
/// impl Service for Ticker {
///     fn serve(&self, ctx: Context) -> impl Future<Output = Result<(), ChildError>> + Send + 'static {
///         let every = self.every;
///         async move {
///             while ctx.run_until_cancelled(tokio::time::sleep(every)).await.is_some() {}
///             Ok(())
///         }
///     }
/// }
///
/// let child = Child::service("ticker", Ticker { every: std::time::Duration::from_secs(1) });
/// # let _ = child;
/// ```
pub trait Service: Send + Sync + 'static {
    /// One run, under `ctx`: it ends when the future does.
    fn serve(&self, ctx: Context) -> impl Future<Output = Result<(), ChildError>> + Send + 'static;
}

impl<F, Fut> Service for F
where
    F: Fn(Context) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), ChildError>> + Send + 'static,
{
    fn serve(&self, ctx: Context) -> impl Future<Output = Result<(), ChildError>> + Send + 'static {
        self(ctx)
    }
}

/// A [`Service`] behind a pointer: spawns its runs.
pub(crate) trait ErasedService: Send + Sync + 'static {
    fn spawn_run(self: Arc<Self>, ctx: Context, end: RunEnd) -> JoinHandle<()>;
}

impl<S: Service> ErasedService for S {
    fn spawn_run(self: Arc<Self>, ctx: Context, end: RunEnd) -> JoinHandle<()> {
        spawn_run(self, ctx, end)
    }
}

/// A child of a supervisor: a name, what it runs, and how it is restarted
/// and stopped (spec/supervise.md, S1).
///
/// Defaults: [`Restart::Permanent`], a 5 s shutdown timeout (OTP's default
/// for workers; none for a supervisor child, which stops its own children
/// with their timeouts), the supervisor's backoff.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// use std::time::Duration;
/// use runcycle::supervise::{Child, Restart};
///
/// let worker = Child::new("worker", |ctx| async move {
///     ctx.cancelled().await; // serve until asked to stop
///     Ok(())
/// })
/// .restart(Restart::Permanent)
/// .shutdown_timeout(Duration::from_secs(2));
/// assert_eq!(worker.name(), "worker");
/// ```
#[derive(Clone)]
pub struct Child {
    pub(crate) name: Arc<str>,
    pub(crate) service: Arc<dyn ErasedService>,
    pub(crate) restart: Restart,
    pub(crate) shutdown_timeout: Option<Duration>,
    pub(crate) backoff: Option<Backoff>,
}

/// OTP's default shutdown timeout for a worker.
const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

impl Child {
    /// A child running `f(ctx)` on each run.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let c = runcycle::supervise::Child::new("tick", |_ctx| async { Ok(()) });
    /// # let _ = c;
    /// ```
    pub fn new<F, Fut>(name: impl Into<Arc<str>>, f: F) -> Child
    where
        F: Fn(Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ChildError>> + Send + 'static,
    {
        Child::service(name, f)
    }

    /// A child running a [`Service`].
    ///
    /// # Examples
    ///
    /// See [`Service`].
    pub fn service(name: impl Into<Arc<str>>, service: impl Service) -> Child {
        Child {
            name: name.into(),
            service: Arc::new(service),
            restart: Restart::default(),
            shutdown_timeout: Some(DEFAULT_SHUTDOWN_TIMEOUT),
            backoff: None,
        }
    }

    pub(crate) fn subtree(name: Arc<str>, service: Arc<dyn ErasedService>) -> Child {
        Child {
            name,
            service,
            restart: Restart::default(),
            shutdown_timeout: None,
            backoff: None,
        }
    }

    /// The restart type (default [`Restart::Permanent`]).
    #[must_use]
    pub fn restart(mut self, restart: Restart) -> Child {
        self.restart = restart;
        self
    }

    /// How long a stop waits for a run to end before aborting it (S11).
    #[must_use]
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Child {
        self.shutdown_timeout = Some(timeout);
        self
    }

    /// Wait for the run to end however long it takes (OTP's `infinity`;
    /// the default for a supervisor child).
    #[must_use]
    pub fn no_shutdown_timeout(mut self) -> Child {
        self.shutdown_timeout = None;
        self
    }

    /// A backoff of its own instead of the supervisor's.
    #[must_use]
    pub fn backoff(mut self, backoff: Backoff) -> Child {
        self.backoff = Some(backoff);
        self
    }

    /// The child's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("name", &self.name)
            .field("restart", &self.restart)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("backoff", &self.backoff)
            .finish_non_exhaustive()
    }
}
