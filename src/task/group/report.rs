//! The report of a group: [`TaskFailure`] (one task's failure, with its id
//! and name) and [`GroupError`] (every failure, in completion order).

use core::fmt;
use std::error::Error as StdError;

use crate::sync::StdArc as Arc;
use crate::task::group::output::SharedError;
use crate::task::panic::{Panic, TaskError};
use crate::task::spawn::TaskId;

/// One failed task of a [`Group`](crate::Group): its id, its name (if it was
/// given one with [`build_task`](crate::Group::build_task)) and what went
/// wrong: its error, its panic, or its abort (spec/go.md, rules O1 and G7).
///
/// [`GroupError`] holds every failure of the group;
/// [`Group::join_next`](crate::Group::join_next) yields each one as it
/// happens too.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let group = runcycle::Group::new();
/// let id = group.build_task().name("fetch").spawn(|_| async { Err::<(), _>("timed out") })?;
/// let report = group.wait().await.unwrap_err();
/// let failure = &report.failures()[0];
/// assert_eq!(failure.id(), Some(id));
/// assert_eq!(failure.name(), Some("fetch"));
/// assert!(failure.error().is_failed());
/// assert_eq!(failure.to_string(), format!("task {id} \"fetch\": task failed: timed out"));
/// # Ok::<(), runcycle::ClosedError>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct TaskFailure {
    pub(crate) id: Option<TaskId>,
    pub(crate) name: Option<Arc<str>>,
    pub(crate) error: TaskError<SharedError>,
}

impl TaskFailure {
    /// The task's tokio id, as its spawn call returned it.
    ///
    /// `None` only if tokio could not name the task when its future was
    /// dropped: a task dropped, never polled, by a runtime that shuts down
    /// while its thread's locals are being destroyed. Every task that ran,
    /// and every task dropped by `abort_all`, `shutdown` or a runtime
    /// dropped normally, has its id.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let group = runcycle::Group::new();
    /// let id = group.spawn(|_| async { panic!("boom") }).unwrap();
    /// let failure = group.join_next().await.unwrap().unwrap_err();
    /// assert_eq!(failure.id(), Some(id));
    /// # });
    /// ```
    #[must_use]
    pub fn id(&self) -> Option<TaskId> {
        self.id
    }

    /// The name given at spawn (`group.build_task().name(..)`), if any.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let group = runcycle::Group::new();
    /// group.build_task().name("poller").spawn(|_| async { panic!("boom") }).unwrap();
    /// group.spawn(|_| async { panic!("unnamed") }).unwrap();
    /// let report = group.wait().await.unwrap_err();
    /// let mut names: Vec<_> = report.failures().iter().map(|f| f.name()).collect();
    /// names.sort();
    /// assert_eq!(names, [None, Some("poller")]);
    /// # });
    /// ```
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// What went wrong: [`TaskError::Failed`] with the task's error,
    /// [`TaskError::Panicked`] with its panic, or [`TaskError::Aborted`].
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use runcycle::TaskError;
    ///
    /// let group = runcycle::Group::new();
    /// group.spawn(|_| async { Err::<(), _>("refused") }).unwrap();
    /// let failure = group.join_next().await.unwrap().unwrap_err();
    /// match failure.error() {
    ///     TaskError::Failed(e) => assert_eq!(e.to_string(), "refused"),
    ///     other => panic!("{other:?}"),
    /// }
    /// # });
    /// ```
    #[must_use]
    pub fn error(&self) -> &TaskError<SharedError> {
        &self.error
    }

    /// The panic, if the task panicked (a shortcut for matching
    /// [`error`](TaskFailure::error)).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let group = runcycle::Group::new();
    /// group.spawn(|_| async { panic!("worker 3 crashed") }).unwrap();
    /// let report = group.wait().await.unwrap_err();
    /// assert_eq!(report.panics()[0].panic().unwrap().message(), Some("worker 3 crashed"));
    /// # });
    /// ```
    #[must_use]
    pub fn panic(&self) -> Option<&Panic> {
        match &self.error {
            TaskError::Panicked(panic) => Some(panic),
            _ => None,
        }
    }

    /// Turns the failure into its [`TaskError`].
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let group = runcycle::Group::new();
    /// group.spawn(|_| async { Err::<(), _>("refused") }).unwrap();
    /// let error = group.join_next().await.unwrap().unwrap_err().into_error();
    /// assert!(error.is_failed());
    /// # });
    /// ```
    #[must_use]
    pub fn into_error(self) -> TaskError<SharedError> {
        self.error
    }

    fn is_error(&self) -> bool {
        matches!(self.error, TaskError::Failed(_))
    }

    fn is_panic(&self) -> bool {
        matches!(self.error, TaskError::Panicked(_))
    }

    fn is_aborted(&self) -> bool {
        matches!(self.error, TaskError::Aborted)
    }
}

impl fmt::Debug for TaskFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskFailure")
            .field("id", &self.id)
            .field("name", &self.name())
            .field("error", &self.error)
            .finish()
    }
}

impl fmt::Display for TaskFailure {
    /// `task 12 "name": task failed: ...` (the id as tokio shows it; no
    /// name part for an unnamed task).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.id {
            Some(id) => write!(f, "task {id}")?,
            None => f.write_str("task (id unknown)")?,
        }
        if let Some(name) = self.name() {
            write!(f, " {name:?}")?;
        }
        write!(f, ": {}", self.error)
    }
}

impl StdError for TaskFailure {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.error)
    }
}

/// The report of a [`Group`](crate::Group): every failure of its tasks
/// (error, panic, abort), in completion order, each with the task's id and
/// name (spec/go.md, rule G7). Cumulative and sticky: every later wait
/// reports at least the same.
///
/// [`error`](GroupError::error) is the first `Err` of a task (Go's
/// `errgroup` answer); [`panics`](GroupError::panics),
/// [`aborted`](GroupError::aborted) and [`failures`](GroupError::failures)
/// list the rest.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let group = runcycle::Group::new();
/// group.build_task().name("worker 3").spawn(|_| async { panic!("crashed") }).unwrap();
/// let report = group.wait().await.unwrap_err();
/// assert_eq!(report.panics()[0].name(), Some("worker 3"));
/// assert_eq!(report.to_string(), "1 task panicked: crashed");
/// # });
/// ```
#[derive(Clone)]
pub struct GroupError {
    pub(crate) failures: Vec<TaskFailure>,
}

impl GroupError {
    /// The first `Err` returned by a task (see
    /// [`GroupTaskOutput`](crate::GroupTaskOutput)), if any.
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
        self.failures.iter().find_map(|f| match &f.error {
            TaskError::Failed(e) => Some(&**e),
            _ => None,
        })
    }

    /// The task that returned the first `Err`, with its id and name.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let group = runcycle::Group::new();
    /// group.build_task().name("db").spawn(|_| async { Err::<(), _>("down") }).unwrap();
    /// let report = group.wait().await.unwrap_err();
    /// assert_eq!(report.first_error().unwrap().name(), Some("db"));
    /// # });
    /// ```
    #[must_use]
    pub fn first_error(&self) -> Option<&TaskFailure> {
        self.failures.iter().find(|f| f.is_error())
    }

    /// Every task that panicked, in completion order.
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
    pub fn panics(&self) -> Vec<&TaskFailure> {
        self.failures.iter().filter(|f| f.is_panic()).collect()
    }

    /// Every task that was aborted (by `abort_all`, a shutdown's deadline,
    /// or its runtime shutting down), in completion order.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let runtime = tokio::runtime::Runtime::new().unwrap();
    /// let group = runcycle::Group::new();
    /// let id = runtime.block_on(async {
    ///     group.build_task().name("stuck").spawn(|_| std::future::pending::<()>())
    /// }).unwrap();
    /// drop(runtime); // the task is dropped unfinished
    /// let report = group.wait().wait().unwrap_err();
    /// assert_eq!(report.aborted().len(), 1);
    /// assert_eq!(report.aborted()[0].id(), Some(id));
    /// assert_eq!(report.aborted()[0].name(), Some("stuck"));
    /// ```
    #[must_use]
    pub fn aborted(&self) -> Vec<&TaskFailure> {
        self.failures.iter().filter(|f| f.is_aborted()).collect()
    }

    /// Every failure, in completion order.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let group = runcycle::Group::new();
    /// group.spawn(|_| async { Err::<(), _>("first") }).unwrap();
    /// group.wait().await.unwrap_err();
    /// group.spawn(|_| async { Err::<(), _>("second") }).unwrap();
    /// let report = group.wait().await.unwrap_err();
    /// let all: Vec<String> = report.failures().iter().map(|f| f.error().to_string()).collect();
    /// assert_eq!(all, ["task failed: first", "task failed: second"]);
    /// assert_eq!(report.error().unwrap().to_string(), "first");
    /// # });
    /// ```
    #[must_use]
    pub fn failures(&self) -> &[TaskFailure] {
        &self.failures
    }
}

impl fmt::Debug for GroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupError")
            .field("failures", &self.failures)
            .finish()
    }
}

impl fmt::Display for GroupError {
    /// The first error, then the panics, then the aborts, `; `-separated:
    /// "quota exceeded; 1 task panicked: boom; 2 tasks aborted".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(e) = self.error() {
            parts.push(e.to_string());
        }
        match self.panics().as_slice() {
            [] => {}
            [one] => parts.push(format!(
                "1 task panicked: {}",
                one.panic()
                    .and_then(Panic::message)
                    .unwrap_or("(non-string payload)")
            )),
            many => parts.push(format!("{} tasks panicked", many.len())),
        }
        match self.aborted().len() {
            0 => {}
            1 => parts.push("1 task aborted".to_string()),
            n => parts.push(format!("{n} tasks aborted")),
        }
        f.write_str(&parts.join("; "))
    }
}

impl StdError for GroupError {
    /// The first error, else the first panic.
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self.error() {
            Some(e) => Some(e as &(dyn StdError + 'static)),
            None => self
                .failures
                .iter()
                .find_map(|f| f.panic().map(|p| p as &(dyn StdError + 'static))),
        }
    }
}
