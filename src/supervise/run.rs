//! One run of a child as a tokio task: the service's future under
//! `catch_unwind`, then the guard dropped, then the exit sent to the
//! supervisor (spec/supervise.md, S2, S3).

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::lifecycle::context::Context;
use crate::lifecycle::guard::Guard;
use crate::supervise::child::Service;
use crate::supervise::report::Exit;
use crate::task::panic::Panic;

/// A run's end, as its task reports it.
pub(crate) struct ExitMsg {
    pub(crate) index: usize,
    pub(crate) exit: Exit,
    pub(crate) at: Instant,
}

/// What a run's task needs to end the run and report it.
pub(crate) struct RunEnd {
    pub(crate) index: usize,
    pub(crate) guard: Guard,
    pub(crate) tx: UnboundedSender<ExitMsg>,
}

/// Spawns one run of `service` on the current runtime. Generic, so the
/// service's future lives in the task itself (no box of its own).
pub(crate) fn spawn_run<S: Service>(service: Arc<S>, ctx: Context, end: RunEnd) -> JoinHandle<()> {
    tokio::spawn(async move {
        // The call is inside `catch_unwind` too: a service that panics
        // before its first await is a panicked run, not a dead supervisor.
        let result = AssertUnwindSafe(async move { service.serve(ctx).await })
            .catch_unwind()
            .await;
        let at = Instant::now();
        let RunEnd { index, guard, tx } = end;
        // S2: the run has ended before the supervisor hears of it.
        drop(guard);
        let exit = match result {
            Ok(Ok(())) => Exit::Completed,
            Ok(Err(e)) => e.into_exit(),
            Err(payload) => Exit::Panicked(Panic::new(payload)),
        };
        // The receiver is gone only if the supervisor run was dropped.
        let _ = tx.send(ExitMsg { index, exit, at });
    })
}
