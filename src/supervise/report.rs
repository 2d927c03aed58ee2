//! How a run ended ([`Exit`]), and what a supervisor reports when it ends
//! ([`Report`], [`SupervisorError`]): spec/supervise.md, S3 and S12.

use core::fmt;
use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

use crate::task::group::SharedError;
use crate::task::panic::Panic;

/// How one run of a child ended (spec/supervise.md, S3).
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// use runcycle::supervise::Exit;
///
/// let exit = Exit::Completed;
/// assert!(!exit.is_failure());
/// assert_eq!(exit.to_string(), "completed");
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Exit {
    /// The service returned `Ok(())`.
    Completed,
    /// The service returned an error.
    Failed(SharedError),
    /// The service panicked; the panic is caught, with its payload.
    Panicked(Panic),
    /// The service returned [`ChildError::do_not_restart`](crate::supervise::ChildError::do_not_restart).
    DoNotRestart,
    /// The service returned [`ChildError::stop_tree`](crate::supervise::ChildError::stop_tree)
    /// with this reason.
    StopTree(SharedError),
    /// The run did not end within its shutdown timeout and its task was
    /// aborted (or its runtime dropped it).
    Aborted,
}

impl Exit {
    /// A failure: `Failed`, `Panicked` or `Aborted` (what a `Transient`
    /// child is restarted after).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// assert!(runcycle::supervise::Exit::Aborted.is_failure());
    /// ```
    #[must_use]
    pub fn is_failure(&self) -> bool {
        self.kind().is_failure()
    }

    /// The error of a `Failed` or `StopTree` exit.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// assert!(runcycle::supervise::Exit::Completed.error().is_none());
    /// ```
    #[must_use]
    pub fn error(&self) -> Option<&(dyn StdError + Send + Sync + 'static)> {
        match self {
            Exit::Failed(e) | Exit::StopTree(e) => Some(&**e),
            _ => None,
        }
    }

    pub(crate) fn kind(&self) -> ExitKind {
        match self {
            Exit::Completed => ExitKind::Completed,
            Exit::Failed(_) => ExitKind::Failed,
            Exit::Panicked(_) => ExitKind::Panicked,
            Exit::DoNotRestart => ExitKind::DoNotRestart,
            Exit::StopTree(_) => ExitKind::StopTree,
            Exit::Aborted => ExitKind::Aborted,
        }
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exit::Completed => f.write_str("completed"),
            Exit::Failed(e) => write!(f, "failed: {e}"),
            Exit::Panicked(p) => match p.message() {
                Some(m) => write!(f, "panicked: {m}"),
                None => f.write_str("panicked"),
            },
            Exit::DoNotRestart => f.write_str("asked not to be restarted"),
            Exit::StopTree(e) => write!(f, "asked to stop the tree: {e}"),
            Exit::Aborted => f.write_str("aborted"),
        }
    }
}

/// The shape of an [`Exit`] without its payload: what the policy reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ExitKind {
    Completed,
    Failed,
    Panicked,
    DoNotRestart,
    StopTree,
    Aborted,
}

impl ExitKind {
    pub(crate) fn is_failure(self) -> bool {
        matches!(
            self,
            ExitKind::Failed | ExitKind::Panicked | ExitKind::Aborted
        )
    }
}

/// A child's counters: runs started, failures, the last exit
/// (spec/supervise.md, S14).
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use runcycle::supervise::{Child, Restart, Supervisor};
///
/// let sup = Supervisor::builder("jobs")
///     .child(Child::new("once", |_ctx| async { Ok(()) }).restart(Restart::Temporary))
///     .build();
/// let report = sup.run(&runcycle::CancellationToken::new()).await.unwrap();
/// let once = &report.children()[0];
/// assert_eq!((once.name(), once.runs(), once.failures()), ("once", 1, 0));
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct ChildStats {
    pub(crate) name: Arc<str>,
    pub(crate) runs: u64,
    pub(crate) failures: u64,
    pub(crate) last_exit: Option<Exit>,
    pub(crate) not_stopped_in_time: Option<Duration>,
}

impl ChildStats {
    pub(crate) fn new(name: Arc<str>) -> ChildStats {
        ChildStats {
            name,
            runs: 0,
            failures: 0,
            last_exit: None,
            not_stopped_in_time: None,
        }
    }

    /// The child's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs started.
    #[must_use]
    pub fn runs(&self) -> u64 {
        self.runs
    }

    /// Runs that ended in a failure (failed, panicked, aborted).
    #[must_use]
    pub fn failures(&self) -> u64 {
        self.failures
    }

    /// How the last run ended (`None` before the first run ends).
    #[must_use]
    pub fn last_exit(&self) -> Option<&Exit> {
        self.last_exit.as_ref()
    }

    /// If the child's last run did not stop within its shutdown timeout
    /// (and was aborted): that timeout.
    #[must_use]
    pub fn not_stopped_in_time(&self) -> Option<Duration> {
        self.not_stopped_in_time
    }
}

/// Why a supervisor ended (spec/supervise.md, S10, S12).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum StopReason {
    /// Its parent token (the context it ran under) was cancelled.
    Shutdown,
    /// Every child finished and none is to be restarted.
    AllDone,
    /// Too many restarts in the period (S5): it gave up.
    GaveUp {
        /// The child whose exit was one restart too many.
        child: Arc<str>,
        /// That exit.
        exit: Exit,
        /// The intensity it exceeded.
        max_restarts: u32,
        /// Its period.
        period: Duration,
    },
    /// A child asked to stop the whole tree.
    StopTree {
        /// The child that asked.
        child: Arc<str>,
        /// Its reason.
        reason: SharedError,
    },
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::Shutdown => f.write_str("shut down"),
            StopReason::AllDone => f.write_str("every child finished"),
            StopReason::GaveUp {
                child,
                exit,
                max_restarts,
                period,
            } => write!(
                f,
                "gave up: more than {max_restarts} restarts in {period:?} (the last: child \"{child}\" {exit})"
            ),
            StopReason::StopTree { child, reason } => {
                write!(f, "child \"{child}\" stopped the tree: {reason}")
            }
        }
    }
}

/// What a supervisor reports when it ends (spec/supervise.md, S12).
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use runcycle::supervise::{Child, StopReason, Supervisor};
/// use runcycle::CancellationToken;
///
/// let shutdown = CancellationToken::new();
/// let sup = Supervisor::builder("app")
///     .child(Child::new("server", |ctx| async move { ctx.cancelled().await; Ok(()) }))
///     .build();
/// shutdown.cancel();
/// let report = sup.run(&shutdown).await.unwrap();
/// assert!(matches!(report.reason(), StopReason::Shutdown));
/// assert!(report.all_stopped_in_time());
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct Report {
    pub(crate) supervisor: Arc<str>,
    pub(crate) reason: StopReason,
    pub(crate) children: Vec<ChildStats>,
}

impl Report {
    /// The supervisor's name.
    #[must_use]
    pub fn supervisor(&self) -> &str {
        &self.supervisor
    }

    /// Why it ended.
    #[must_use]
    pub fn reason(&self) -> &StopReason {
        &self.reason
    }

    /// Each child's counters, in start order.
    #[must_use]
    pub fn children(&self) -> &[ChildStats] {
        &self.children
    }

    /// The children whose last run did not stop within its shutdown
    /// timeout and was aborted.
    #[must_use]
    pub fn not_stopped_in_time(&self) -> Vec<&ChildStats> {
        self.children
            .iter()
            .filter(|c| c.not_stopped_in_time.is_some())
            .collect()
    }

    /// Whether every child stopped within its timeout.
    #[must_use]
    pub fn all_stopped_in_time(&self) -> bool {
        self.children
            .iter()
            .all(|c| c.not_stopped_in_time.is_none())
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "supervisor \"{}\" {}", self.supervisor, self.reason)?;
        for c in self.not_stopped_in_time() {
            let timeout = c.not_stopped_in_time.unwrap_or_default();
            write!(f, "; child \"{}\" did not stop within {timeout:?}", c.name)?;
        }
        Ok(())
    }
}

/// A supervisor that gave up or was told to stop the tree: an escalation
/// (spec/supervise.md, S12). The report is inside.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use runcycle::supervise::{Backoff, Child, Intensity, StopReason, Supervisor};
/// use std::time::Duration;
///
/// let sup = Supervisor::builder("flaky")
///     .intensity(Intensity::new(2, Duration::from_secs(10)))
///     .backoff(Backoff::none())
///     .child(Child::new("crashes", |_ctx| async { Err(std::io::Error::other("no disk"))? }))
///     .build();
/// let err = sup.run(&runcycle::CancellationToken::new()).await.unwrap_err();
/// assert!(matches!(err.report().reason(), StopReason::GaveUp { .. }));
/// assert_eq!(err.report().children()[0].runs(), 3); // the first run and 2 restarts
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct SupervisorError {
    pub(crate) report: Box<Report>,
}

impl SupervisorError {
    /// The supervisor's report.
    #[must_use]
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The report, owned.
    #[must_use]
    pub fn into_report(self) -> Report {
        *self.report
    }

    /// Whether a child asked to stop the whole tree (rather than the
    /// supervisor giving up).
    #[must_use]
    pub fn is_stop_tree(&self) -> bool {
        matches!(self.report.reason, StopReason::StopTree { .. })
    }
}

impl fmt::Display for SupervisorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.report, f)
    }
}

impl StdError for SupervisorError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &self.report.reason {
            StopReason::GaveUp { exit, .. } => exit.error().map(|e| e as _),
            StopReason::StopTree { reason, .. } => Some(&**reason),
            _ => None,
        }
    }
}
