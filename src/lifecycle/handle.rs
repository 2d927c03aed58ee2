//! [`Handle`]: what [`One`](crate::One) and [`Many`](crate::Many) wrap. It
//! turns the engine's transitions into what the public calls return: a
//! [`Guard`], a [`Wait`], a [`Transition`], or the error the table gives.

use core::fmt;

use tokio_util::sync::CancellationToken;

use crate::lifecycle::closed::ClosedWait;
use crate::lifecycle::engine::{Applied, Inner};
use crate::lifecycle::error::{ClosedError, StartError};
use crate::lifecycle::guard::Guard;
use crate::lifecycle::state::State;
use crate::lifecycle::table::{self, Event, Kind, Outcome};
use crate::lifecycle::transition::Transition;
use crate::lifecycle::wait::Wait;
use crate::lifecycle::watch;
use crate::sync::Arc;

/// A counted handle to an instance. Dropping the last handle closes the
/// instance (spec/README.md, "Dropping the last handle").
pub(crate) struct Handle {
    inner: Arc<Inner>,
}

impl Handle {
    pub(crate) fn new(kind: Kind, parent: Option<&CancellationToken>) -> Handle {
        // The parent watch is armed by the first read (invariant E11).
        Handle {
            inner: Arc::new(Inner::new(kind, parent)),
        }
    }

    #[inline]
    pub(crate) fn state(&self) -> State {
        // One load: the watch's flag is a bit of the word (invariant E11).
        let cur = self.inner.load();
        if cur.unwatched() {
            watch::arm_now(&self.inner);
            return self.inner.load().state();
        }
        cur.state()
    }

    #[track_caller]
    pub(crate) fn start(&self) -> Result<Guard, StartError> {
        let applied = self.inner.apply(Event::Start);
        self.guard_for(&applied)
    }

    fn guard_for(&self, applied: &Applied) -> Result<Guard, StartError> {
        match applied.cell.outcome {
            Outcome::Ok => Ok(Guard::new(Arc::clone(&self.inner))),
            Outcome::ErrRunning => Err(StartError::Running),
            Outcome::ErrClosed => Err(StartError::Closed),
        }
    }

    pub(crate) fn context(&self) -> crate::lifecycle::engine::RunToken {
        watch::arm(&self.inner);
        self.inner.context()
    }

    pub(crate) fn done(&self) -> Wait {
        watch::arm(&self.inner);
        let cur = self.inner.load();
        if table::reads(cur.phase()).done_resolved {
            Wait::ready()
        } else {
            Wait::pending(Arc::clone(&self.inner), cur.run())
        }
    }

    /// A wait for the instance to be `Closed` (engine invariant E9).
    pub(crate) fn closed(&self) -> ClosedWait {
        watch::arm(&self.inner);
        ClosedWait::new(Arc::clone(&self.inner))
    }

    /// The number of runs started so far: one load.
    #[inline]
    pub(crate) fn run_number(&self) -> u64 {
        self.inner.load().run_number()
    }

    /// What a stop or close returns: the state before the call, and a wait
    /// pending on the run that was current if the cell waits, else resolved.
    fn transition_for(&self, applied: &Applied) -> Transition {
        let wait = if applied.cell.waits {
            Wait::pending(Arc::clone(&self.inner), applied.prev.run())
        } else {
            Wait::ready()
        };
        Transition::new(applied.prev_state(), wait)
    }

    pub(crate) fn stop(&self) -> Result<Transition, ClosedError> {
        let applied = self.inner.apply(Event::Stop);
        match applied.cell.outcome {
            Outcome::Ok => Ok(self.transition_for(&applied)),
            Outcome::ErrClosed => Err(ClosedError),
            // The table never refuses a stop as running (spec/transitions.md).
            Outcome::ErrRunning => unreachable!("runcycle: a stop refused as running"),
        }
    }

    pub(crate) fn close(&self) -> Transition {
        let applied = self.inner.apply(Event::Close);
        // The table never refuses a close (spec/transitions.md).
        debug_assert_eq!(applied.cell.outcome, Outcome::Ok);
        self.transition_for(&applied)
    }

    /// Formats the instance for `Debug` impls: the decoded word, no lock.
    pub(crate) fn fmt_debug(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        watch::arm(&self.inner);
        let cur = self.inner.load();
        f.debug_struct(name)
            .field("state", &table::reads(cur.phase()).state)
            .field("phase", &cur.phase())
            .field("run", &cur.run())
            .finish_non_exhaustive()
    }
}

impl Clone for Handle {
    fn clone(&self) -> Self {
        self.inner.add_handle();
        Handle {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.inner.drop_handle();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::lifecycle::table::Phase;
    use crate::lifecycle::word::{phase_code, Word, MAX_RUN, RUN_SHIFT};

    /// An instance whose word says `phase` in run `run`: the only way to
    /// reach the last run numbers in a test.
    fn at_run(kind: Kind, phase: Phase, run: u64) -> Handle {
        let handle = Handle {
            inner: Arc::new(Inner::new(kind, None)),
        };
        handle
            .inner
            .set_word(Word((run << RUN_SHIFT) | phase_code(phase)));
        handle
    }

    #[test]
    fn runs_up_to_the_last_number_start_end_and_resolve_their_waits() {
        let many = at_run(Kind::Many, Phase::Stopped, MAX_RUN - 1);
        let before = Wait::pending(Arc::clone(&many.inner), MAX_RUN - 1);
        assert!(before.is_done());
        let guard = many.start().expect("run 2^57 - 1 starts");
        assert_eq!(many.inner.load().run(), MAX_RUN);
        let done = many.done();
        assert!(!done.is_done() && before.is_done());
        let ctx = guard.context();
        drop(guard);
        assert!(done.is_done() && ctx.is_cancelled());
        assert_eq!(many.state(), State::Stopped);
    }

    #[test]
    fn a_start_past_the_last_run_number_panics_and_changes_nothing() {
        let many = at_run(Kind::Many, Phase::Stopped, MAX_RUN);
        let done = many.done();
        let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| many.start()))
            .expect_err("the run number must not wrap");
        let message = panic.downcast_ref::<String>().expect("a formatted message");
        assert!(
            message.contains("at most 144115188075855871 runs") && message.contains("new `Many`"),
            "{message}"
        );
        assert_eq!(many.state(), State::Stopped);
        assert_eq!(many.inner.load().run(), MAX_RUN);
        assert!(done.is_done(), "the last run's wait stays resolved");
        assert!(many.close().is_done());
        assert_eq!(many.state(), State::Closed);
    }
}
