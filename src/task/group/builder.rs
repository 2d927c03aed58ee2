//! [`GroupBuilder`] (a group's parent and limit), [`GroupTaskBuilder`] (a
//! task's name), [`Slot`] (a reserved place) and [`TrySpawnError`].

use core::fmt;
use core::future::Future;

use tokio::runtime::Handle as Runtime;
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;

use crate::lifecycle::context::{Context, Parent};
use crate::lifecycle::error::ClosedError;
use crate::sync::StdArc as Arc;
use crate::task::group::output::GroupTaskOutput;
use crate::task::group::{Group, SlotFrom};
use crate::task::spawn::{current_runtime, TaskId};

/// Builds a [`Group<T>`](Group) for any `T`: its parent and its limit
/// (rules G1 and G4). `Group::new()` and `Group::with_parent` are the
/// shortcuts for a `Group<()>` without a limit.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use runcycle::{CancellationToken, GroupBuilder};
///
/// let shutdown = CancellationToken::new();
/// let fetches = GroupBuilder::new().parent(&shutdown).limit(8).build();
/// fetches.spawn(|_ctx| async { Ok::<_, std::io::Error>(200_u16) }).unwrap();
/// assert_eq!(fetches.join_next().await.unwrap().unwrap().1, 200);
/// shutdown.cancel();
/// assert!(fetches.context().is_cancelled());
/// # });
/// ```
#[must_use = "a builder does nothing until `build` is called"]
#[derive(Clone, Default)]
pub struct GroupBuilder {
    parent: Option<CancellationToken>,
    limit: Option<usize>,
}

impl GroupBuilder {
    /// A builder for a group with a root context and no limit.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let group = runcycle::GroupBuilder::new().build::<u32>();
    /// assert_eq!(group.limit(), None);
    /// ```
    pub fn new() -> GroupBuilder {
        GroupBuilder::default()
    }

    /// The group's context will be a child of `parent` (a token or a
    /// [`Context`]); a second call replaces the first.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let outer = runcycle::Group::new();
    /// let inner = runcycle::GroupBuilder::new().parent(&outer.context()).build::<()>();
    /// outer.cancel();
    /// assert!(inner.context().is_cancelled());
    /// ```
    pub fn parent(mut self, parent: &impl Parent) -> GroupBuilder {
        self.parent = Some(parent.parent_token().clone());
        self
    }

    /// At most `n` bodies run at once (rule G4): `spawn` queues beyond it,
    /// `try_spawn` refuses, `reserve` waits.
    ///
    /// # Panics
    ///
    /// If `n` is 0: "`runcycle::GroupBuilder::limit` needs at least one
    /// slot (a limit of 0 would never run a task)".
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let group = runcycle::GroupBuilder::new().limit(3).build::<()>();
    /// assert_eq!(group.limit(), Some(3));
    /// ```
    #[track_caller]
    pub fn limit(mut self, n: usize) -> GroupBuilder {
        assert!(
            n > 0,
            "`runcycle::GroupBuilder::limit` needs at least one slot (a limit of 0 would never \
             run a task)"
        );
        assert!(
            n <= tokio::sync::Semaphore::MAX_PERMITS,
            "`runcycle::GroupBuilder::limit`: {n} is more than tokio's semaphore holds ({})",
            tokio::sync::Semaphore::MAX_PERMITS
        );
        self.limit = Some(n);
        self
    }

    /// The group. `T` is the value of its tasks' `Ok` (inferred from the
    /// first spawn, or named: `build::<u32>()`).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let group: runcycle::Group<String> = runcycle::GroupBuilder::new().build();
    /// assert!(group.is_empty());
    /// ```
    #[must_use]
    pub fn build<T: Send + 'static>(self) -> Group<T> {
        let token = match &self.parent {
            Some(parent) => parent.child_token(),
            None => CancellationToken::new(),
        };
        Group::build(token, self.limit)
    }
}

impl fmt::Debug for GroupBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupBuilder")
            .field("parent", &self.parent.is_some())
            .field("limit", &self.limit)
            .finish()
    }
}

/// Why [`Group::try_spawn`] refused a task. The task is not started.
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
/// let refused = group.try_spawn(|_| async {}).unwrap_err();
/// assert_eq!(refused, TrySpawnError::Full);
/// assert_eq!(refused.to_string(), "full");
/// # });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TrySpawnError {
    /// The group has a limit and no free slot.
    Full,
    /// The group is closed.
    Closed,
}

impl fmt::Display for TrySpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrySpawnError::Full => "full",
            TrySpawnError::Closed => "closed",
        })
    }
}

impl std::error::Error for TrySpawnError {}

/// A place reserved in a group by [`Group::reserve`] (or
/// [`GroupTaskBuilder::reserve`]): [`spawn`](Slot::spawn) a task into it.
/// Dropping an unused `Slot` frees it.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use runcycle::{GroupBuilder, TrySpawnError};
///
/// let group = GroupBuilder::new().limit(1).build::<()>();
/// let slot = group.reserve().await?;
/// assert_eq!(group.try_spawn(|_| async {}), Err(TrySpawnError::Full)); // the slot is taken
/// drop(slot);
/// assert!(group.try_spawn(|_| async {}).is_ok());
/// # Ok::<(), runcycle::ClosedError>(())
/// # }).unwrap();
/// ```
#[must_use = "dropping a Slot frees it: spawn a task into it"]
pub struct Slot<T = ()> {
    group: Group<T>,
    permit: Option<OwnedSemaphorePermit>,
    name: Option<Arc<str>>,
}

impl<T: Send + 'static> Slot<T> {
    pub(crate) fn new(
        group: Group<T>,
        permit: Option<OwnedSemaphorePermit>,
        name: Option<Arc<str>>,
    ) -> Slot<T> {
        Slot {
            group,
            permit,
            name,
        }
    }

    /// Names the task this slot will run (replacing a name given to
    /// [`GroupTaskBuilder::name`] before [`reserve`](GroupTaskBuilder::reserve)):
    /// for a name known only once the slot is held, such as a connection's
    /// peer address.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let group = runcycle::GroupBuilder::new().limit(4).build::<()>();
    /// let slot = group.reserve().await?;
    /// let peer = "10.0.0.7:4242"; // known after the slot was taken
    /// slot.name(format!("conn {peer}")).spawn(|_| async { panic!("bad frame") })?;
    /// let report = group.wait().await.unwrap_err();
    /// assert_eq!(report.panics()[0].name(), Some("conn 10.0.0.7:4242"));
    /// # Ok::<(), runcycle::ClosedError>(())
    /// # }).unwrap();
    /// ```
    pub fn name(mut self, name: impl Into<Arc<str>>) -> Slot<T> {
        self.name = Some(name.into());
        self
    }

    /// Spawns `f(ctx)` into the slot on the current runtime (the body
    /// starts at once: the slot is its).
    ///
    /// # Errors
    ///
    /// [`ClosedError`] if the group was closed since the slot was reserved;
    /// the slot is freed.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, as [`Group::spawn`] (naming
    /// `runcycle::Slot::spawn`).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let group = runcycle::GroupBuilder::new().limit(1).build::<()>();
    /// let slot = group.reserve().await?;
    /// group.close();
    /// assert!(slot.spawn(|_| async {}).is_err()); // closed meanwhile
    /// # Ok::<(), runcycle::ClosedError>(())
    /// # }).unwrap();
    /// ```
    #[track_caller]
    pub fn spawn<F, Fut>(self, f: F) -> Result<TaskId, ClosedError>
    where
        F: FnOnce(Context) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: GroupTaskOutput<T>,
    {
        let runtime = current_runtime("runcycle::Slot::spawn", "runcycle::Slot::spawn_on");
        self.spawn_on(f, &runtime)
    }

    /// [`spawn`](Slot::spawn) on an explicit runtime: callable from any
    /// thread.
    ///
    /// # Errors
    ///
    /// [`ClosedError`], as [`spawn`](Slot::spawn).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let runtime = tokio::runtime::Runtime::new().unwrap();
    /// let group = runcycle::GroupBuilder::new().limit(1).build::<()>();
    /// let slot = futures::executor::block_on(group.reserve()).unwrap();
    /// slot.spawn_on(|_| async {}, runtime.handle()).unwrap();
    /// group.close().wait().unwrap();
    /// ```
    pub fn spawn_on<F, Fut>(self, f: F, runtime: &Runtime) -> Result<TaskId, ClosedError>
    where
        F: FnOnce(Context) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: GroupTaskOutput<T>,
    {
        let Slot {
            group,
            permit,
            name,
        } = self;
        group.spawn_task(runtime, name, SlotFrom::Taken(permit), f)
    }
}

impl<T> fmt::Debug for Slot<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot")
            .field("name", &self.name.as_deref())
            .field("limited", &self.permit.is_some())
            .finish_non_exhaustive()
    }
}

/// A builder for one task of a group ([`Group::build_task`]): a name, then
/// any of the four spawn forms of the group (rules G3 and O3). An unnamed
/// task costs no allocation for its name.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let group = runcycle::GroupBuilder::new().limit(2).build::<()>();
/// for i in 0..4 {
///     let slot = group.build_task().name(format!("conn {i}")).reserve().await?;
///     slot.spawn(|_ctx| async {})?;
/// }
/// group.build_task().name("reaper").try_spawn(|_ctx| async {}).ok();
/// group.close().await.unwrap();
/// # Ok::<(), runcycle::ClosedError>(())
/// # }).unwrap();
/// ```
#[must_use = "a builder does nothing until one of its spawn forms is called"]
pub struct GroupTaskBuilder<'a, T = ()> {
    group: &'a Group<T>,
    name: Option<Arc<str>>,
}

impl<'a, T: Send + 'static> GroupTaskBuilder<'a, T> {
    pub(crate) fn new(group: &'a Group<T>) -> Self {
        GroupTaskBuilder { group, name: None }
    }

    /// The task's name, shown in the report
    /// ([`TaskFailure::name`](crate::TaskFailure::name)); as
    /// [`TaskBuilder::name`](crate::TaskBuilder::name), a `&str`, a
    /// `String` or an `Arc<str>` (shared, no copy).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let group = runcycle::Group::new();
    /// group.build_task().name("indexer").spawn(|_| async { panic!("bad page") }).unwrap();
    /// let failure = group.join_next().await.unwrap().unwrap_err();
    /// assert_eq!(failure.name(), Some("indexer"));
    /// # });
    /// ```
    pub fn name(mut self, name: impl Into<Arc<str>>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// [`Group::spawn`], with the name.
    ///
    /// # Errors
    ///
    /// [`ClosedError`] once the group is closed.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, as [`Group::spawn`] (naming
    /// `runcycle::GroupTaskBuilder::spawn`).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let group = runcycle::Group::new();
    /// let id = group.build_task().name("a").spawn(|_| async {}).unwrap();
    /// # let _ = id;
    /// group.wait().await.unwrap();
    /// # });
    /// ```
    #[track_caller]
    pub fn spawn<F, Fut>(self, f: F) -> Result<TaskId, ClosedError>
    where
        F: FnOnce(Context) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: GroupTaskOutput<T>,
    {
        let runtime = current_runtime(
            "runcycle::GroupTaskBuilder::spawn",
            "runcycle::GroupTaskBuilder::spawn_on",
        );
        self.spawn_on(f, &runtime)
    }

    /// [`Group::spawn_on`], with the name.
    ///
    /// # Errors
    ///
    /// [`ClosedError`] once the group is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let runtime = tokio::runtime::Runtime::new().unwrap();
    /// let group = runcycle::Group::new();
    /// group.build_task().name("b").spawn_on(|_| async {}, runtime.handle()).unwrap();
    /// group.close().wait().unwrap();
    /// ```
    pub fn spawn_on<F, Fut>(self, f: F, runtime: &Runtime) -> Result<TaskId, ClosedError>
    where
        F: FnOnce(Context) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: GroupTaskOutput<T>,
    {
        self.group
            .spawn_task(runtime, self.name, SlotFrom::Queue, f)
    }

    /// [`Group::try_spawn`], with the name.
    ///
    /// # Errors
    ///
    /// [`TrySpawnError`], as [`Group::try_spawn`].
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, as [`Group::spawn`] (naming
    /// `runcycle::GroupTaskBuilder::try_spawn`).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let group = runcycle::GroupBuilder::new().limit(1).build::<()>();
    /// group.build_task().name("c").try_spawn(|_| async {}).unwrap();
    /// group.close().await.unwrap();
    /// # });
    /// ```
    #[track_caller]
    pub fn try_spawn<F, Fut>(self, f: F) -> Result<TaskId, TrySpawnError>
    where
        F: FnOnce(Context) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: GroupTaskOutput<T>,
    {
        let runtime = current_runtime(
            "runcycle::GroupTaskBuilder::try_spawn",
            "runcycle::GroupTaskBuilder::spawn_on",
        );
        self.group.try_spawn_task(&runtime, self.name, f)
    }

    /// [`Group::reserve`]; the [`Slot`] spawns with the name.
    ///
    /// # Errors
    ///
    /// [`ClosedError`], as [`Group::reserve`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`Group::reserve`].
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let group = runcycle::GroupBuilder::new().limit(1).build::<()>();
    /// let slot = group.build_task().name("d").reserve().await?;
    /// slot.spawn(|_| async { panic!("d failed") })?;
    /// let report = group.wait().await.unwrap_err();
    /// assert_eq!(report.panics()[0].name(), Some("d"));
    /// # Ok::<(), runcycle::ClosedError>(())
    /// # }).unwrap();
    /// ```
    pub async fn reserve(self) -> Result<Slot<T>, ClosedError> {
        self.group.reserve_named(self.name).await
    }
}

impl<T> fmt::Debug for GroupTaskBuilder<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupTaskBuilder")
            .field("name", &self.name.as_deref())
            .finish_non_exhaustive()
    }
}
