//! [`GroupWait`]: the wait of `Group::wait` and `Group::close`, a future and
//! blocking waits on the group's `empty` event.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use event_listener::{EventListener, Listener};

use crate::lifecycle::block::assert_may_block;
use crate::lifecycle::error::TimedOut;
use crate::sync::StdArc as Arc;
use crate::task::group::report::GroupError;
use crate::task::group::shared::Shared;

/// What [`Group::wait`](crate::Group::wait) and
/// [`Group::close`](crate::Group::close) return: a `Future` (any executor)
/// that resolves when the group has no accepted task left (tasks accepted
/// while it waits are waited for too), with the group's report; also
/// [`wait`](GroupWait::wait) and [`wait_timeout`](GroupWait::wait_timeout)
/// for plain threads (spec/go.md, rule G6).
///
/// Built on event-listener, as [`Wait`](crate::Wait): the group's last task
/// to end notifies, and a wait registers, re-checks, then sleeps.
///
/// # Deadlocks
///
/// A task of the group must not wait for its own group: the group is empty
/// only once that task has ended, so `group.wait().await` or
/// `group.close().await` inside one of its tasks never returns (and a
/// blocking wait there panics, see [`wait`](GroupWait::wait)). Inside a
/// task, cancel the group's context and return instead.
///
/// # Cancel safety
///
/// Dropping the future loses nothing: it only observes the group. Polling
/// it again reuses its one registration.
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
pub struct GroupWait<T = ()> {
    shared: Arc<Shared<T>>,
    listener: Option<EventListener>,
}

impl<T> GroupWait<T> {
    pub(crate) fn new(shared: Arc<Shared<T>>) -> GroupWait<T> {
        GroupWait {
            shared,
            listener: None,
        }
    }

    fn is_empty(&self) -> bool {
        self.shared.word().tasks() == 0
    }

    /// Blocks the thread until the group has no task left.
    ///
    /// # Errors
    ///
    /// The group's [`GroupError`] if any task failed, panicked or was aborted.
    ///
    /// # Deadlocks
    ///
    /// A task of the group that waits for its own group never returns: the
    /// group is empty only once that task has finished. See [`GroupWait`].
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
        self.block(None).unwrap_or_else(|TimedOut| {
            unreachable!("runcycle: a wait without a deadline timed out")
        })
    }

    /// Blocks the thread until the group has no task left, or `timeout`.
    /// A group that empties at the deadline counts as empty.
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
        self.block(Instant::now().checked_add(timeout))
    }

    /// The blocking wait: register, re-check, park (invariant 3 of
    /// shared.rs); at the deadline, a group that has emptied is reported
    /// empty, not timed out.
    pub(crate) fn block(
        self,
        deadline: Option<Instant>,
    ) -> Result<Result<(), GroupError>, TimedOut> {
        while !self.is_empty() {
            let listener = self.shared.listen_empty();
            let _registered = Registered(&self.shared);
            if self.is_empty() {
                break;
            }
            match deadline {
                None => listener.wait(),
                Some(deadline) => {
                    if listener.wait_deadline(deadline).is_none() {
                        if self.is_empty() {
                            break;
                        }
                        return Err(TimedOut);
                    }
                }
            }
        }
        Ok(self.shared.report())
    }
}

impl<T> Future for GroupWait<T> {
    type Output = Result<(), GroupError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        loop {
            if this.is_empty() {
                this.drop_listener();
                return Poll::Ready(this.shared.report());
            }
            match &mut this.listener {
                // Register; the loop re-checks before the first poll.
                None => this.listener = Some(this.shared.listen_empty()),
                Some(listener) => match Pin::new(listener).poll(cx) {
                    Poll::Ready(()) => this.drop_listener(),
                    Poll::Pending => return Poll::Pending,
                },
            }
        }
    }
}

impl<T> GroupWait<T> {
    /// Drops the registration, if any (shared.rs, invariant 3).
    fn drop_listener(&mut self) {
        if self.listener.take().is_some() {
            self.shared.unlisten();
        }
    }
}

impl<T> Drop for GroupWait<T> {
    fn drop(&mut self) {
        self.drop_listener();
    }
}

/// Ends a blocking wait's registration when it goes (panics included).
struct Registered<'a, T>(&'a Shared<T>);

impl<T> Drop for Registered<'_, T> {
    fn drop(&mut self) {
        self.0.unlisten();
    }
}

impl<T> fmt::Debug for GroupWait<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupWait")
            .field("tasks", &self.shared.word().tasks())
            .finish_non_exhaustive()
    }
}
