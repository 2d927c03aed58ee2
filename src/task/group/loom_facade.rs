//! The group's lock-free protocols, opened to the loom suite
//! (`loom-tests/group.rs`): compiled only with `--cfg loom`, where a tokio
//! runtime cannot run, so the models drive the group's own parts (the
//! state word, the events and their `listening` count, the abort epoch and
//! the task future) on loom threads instead of tokio tasks. Not API.

// Scaffolding for the models, not a public surface: the API lints that
// shape the crate's real items do not apply.
#![allow(clippy::must_use_candidate, clippy::missing_panics_doc)]

use core::future::Future;

use tokio_util::sync::CancellationToken;

use crate::lifecycle::context::Context;
use crate::sync::StdArc as Arc;
use crate::task::group::report::TaskFailure;
use crate::task::group::shared::{End, Shared};
use crate::task::group::task::{GroupTask, Permit};
use crate::task::group::wait::GroupWait;
use crate::task::panic::TaskError;

/// A `Group<()>`'s shared state, without a limit.
#[derive(Clone)]
pub struct LoomGroup(Arc<Shared<()>>);

impl core::fmt::Debug for LoomGroup {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LoomGroup")
            .field("tasks", &self.tasks())
            .finish()
    }
}

impl Default for LoomGroup {
    fn default() -> Self {
        LoomGroup(Arc::new(Shared::new(CancellationToken::new(), None)))
    }
}

impl LoomGroup {
    /// A spawn's acceptance: the abort epoch, or `None` if closed (G5).
    pub fn accept(&self) -> Option<u64> {
        self.0.accept()
    }

    /// `Group::close`'s part on the shared state.
    pub fn close(&self) {
        self.0.close();
    }

    /// `Group::abort_all`'s part.
    pub fn abort_all(&self) {
        self.0.abort_all();
    }

    /// An accepted task's successful end (a `Group<()>`: nothing recorded).
    pub fn end_ok(&self) {
        self.0.end(End::Unit, Permit::None);
    }

    /// An accepted task's end with an error.
    pub fn end_failed(&self) {
        let failure = TaskFailure {
            id: None,
            name: None,
            error: TaskError::Failed(Arc::from(Box::from("failed"))),
        };
        self.0.end(End::Failed(failure), Permit::None);
    }

    /// The wait of `Group::wait` / `Group::close`.
    pub fn wait(&self) -> GroupWait<()> {
        GroupWait::new(Arc::clone(&self.0))
    }

    /// Accepted tasks that have not ended.
    pub fn tasks(&self) -> usize {
        self.0.word().tasks()
    }

    /// Failures recorded so far.
    pub fn failures(&self) -> usize {
        self.0.report().map_or_else(|e| e.failures().len(), |()| 0)
    }

    /// The group's context.
    pub fn is_cancelled(&self) -> bool {
        self.0.token.is_cancelled()
    }

    /// The future a group spawns for an accepted task (`epoch` from
    /// [`accept`](LoomGroup::accept)) whose body is `body(ctx)`.
    pub fn task<F, Fut>(&self, epoch: u64, body: F) -> impl Future<Output = ()> + Send
    where
        F: FnOnce(Context) -> Fut + Send,
        Fut: Future<Output = ()> + Send,
    {
        GroupTask::new(Arc::clone(&self.0), epoch, None, Permit::None, body)
    }
}
