//! [`Many`]: an instance that runs one at a time and can restart.

use core::fmt;

use crate::lifecycle::closed::ClosedWait;
use crate::lifecycle::context::{Context, Parent};
use crate::lifecycle::error::{ClosedError, StartError};
use crate::lifecycle::guard::Guard;
use crate::lifecycle::handle::Handle;
use crate::lifecycle::state::State;
use crate::lifecycle::table::Kind;
use crate::lifecycle::transition::Transition;
use crate::lifecycle::wait::Wait;

/// Runs one instance at a time and allows restarts:
/// `Created -> Running -> Stopped -> Running -> ... -> Closed`.
///
/// Each [`start`](Many::start) begins a run with a fresh context and a fresh
/// done signal; [`stop`](Many::stop) ends the current run and allows a
/// restart; [`close`](Many::close) ends it for good. Compare
/// [`One`](crate::One), which runs once.
///
/// `Many` is a cheap handle (one pointer): clones share the instance.
///
/// **Dropping the last handle closes the instance** (as
/// [`close`](Many::close) does): the current run's context is cancelled
/// and no run can start again. Unlike a Go value, a `Many` does not live on
/// unreferenced: keep a handle (a clone) for as long as the instance should
/// live. Guards and waits do not count as handles.
///
/// The transition table is in `spec/transitions.md`.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// use runcycle::{Many, State};
///
/// let many = Many::new();
/// for _ in 0..3 {
///     let guard = many.start().unwrap();
///     let ctx = guard.context();
///     let worker = std::thread::spawn(move || {
///         while !ctx.is_cancelled() { std::thread::yield_now(); }
///         drop(guard);
///     });
///     many.stop().unwrap().wait(); // cancel this run, wait for its exit
///     worker.join().unwrap();
///     assert_eq!(many.state(), State::Stopped);
/// }
/// many.close().wait();
/// assert_eq!(many.state(), State::Closed);
/// ```
#[derive(Clone)]
pub struct Many {
    handle: Handle,
}

impl Many {
    /// A new instance with no parent context. Dropping its last handle
    /// closes it (see [`Many`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let many = runcycle::Many::new();
    /// assert_eq!(many.state(), runcycle::State::Created);
    /// ```
    #[must_use]
    pub fn new() -> Many {
        Many {
            handle: Handle::new(Kind::Many, None),
        }
    }

    /// A new instance tied to `parent`, a `CancellationToken` or another
    /// run's [`Context`] (Go's `NewMany(parent)`). Cancelling `parent` acts
    /// like [`close`](Many::close), at the moment of the parent's
    /// cancellation (the run's context is cancelled by that transition; it
    /// is not a tokio-util child of `parent`). Nesting has no depth limit:
    /// propagation uses no stack per level.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// use runcycle::{CancellationToken, Many, StartError};
    ///
    /// let parent = CancellationToken::new();
    /// let many = Many::with_parent(&parent);
    /// let guard = many.start().unwrap();
    /// parent.cancel();
    /// assert!(guard.context().is_cancelled());
    /// drop(guard);
    /// assert_eq!(many.start().unwrap_err(), StartError::Closed);
    /// ```
    #[must_use]
    pub fn with_parent(parent: &impl Parent) -> Many {
        Many {
            handle: Handle::new(Kind::Many, Some(parent.parent_token())),
        }
    }

    /// Starts a run, if none is in progress and the instance is not closed.
    ///
    /// # Errors
    ///
    /// [`StartError::Running`] while a run is in progress,
    /// [`StartError::Closed`] once closed or while a close is pending.
    ///
    /// # Panics
    ///
    /// If this start would begin run 2^57 (after 144,115,188,075,855,871
    /// runs; at one run per nanosecond, 4.5 years): the message says to make a
    /// new `Many`. Nothing is changed.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let many = runcycle::Many::new();
    /// drop(many.start().unwrap());
    /// drop(many.start().unwrap()); // restarts
    /// ```
    #[track_caller]
    pub fn start(&self) -> Result<Guard, StartError> {
        self.handle.start()
    }

    /// The current state: one atomic load.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// assert_eq!(runcycle::Many::new().state(), runcycle::State::Created);
    /// ```
    #[must_use]
    #[inline]
    pub fn state(&self) -> State {
        self.handle.state()
    }

    /// The number of runs started so far: 0 before the first
    /// [`start`](Many::start), then the current run's number while a run is
    /// in progress (the first run is 1, as
    /// [`Guard::run_number`](crate::Guard::run_number) says), and the last
    /// run's number once it has ended. A close does not change it; an
    /// instance closed before any start stays at 0. One atomic load.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let many = runcycle::Many::new();
    /// assert_eq!(many.run_number(), 0);
    /// let guard = many.start().unwrap();
    /// assert_eq!(many.run_number(), 1);
    /// drop(guard);
    /// drop(many.start().unwrap());
    /// assert_eq!(many.run_number(), 2);
    /// many.close();
    /// assert_eq!(many.run_number(), 2);
    /// ```
    #[must_use]
    #[inline]
    pub fn run_number(&self) -> u64 {
        self.handle.run_number()
    }

    /// The current run's context. Before the first start it is the token
    /// the first run will use; while Stopped it is the last run's (cancelled);
    /// each restart brings a new one.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let many = runcycle::Many::new();
    /// let first = many.start().unwrap();
    /// let ctx = many.context();
    /// drop(first);
    /// assert!(ctx.is_cancelled());
    /// let _second = many.start().unwrap();
    /// assert!(!many.context().is_cancelled());
    /// ```
    #[must_use]
    pub fn context(&self) -> Context {
        Context::shared(self.handle.context())
    }

    /// A wait that resolves when the current run (or, before a start, the
    /// next run) ends, or the instance closes. While Stopped, it is the last
    /// run's, already resolved.
    ///
    /// # Deadlocks
    ///
    /// Waiting on the returned [`Wait`] (`.await`, [`Wait::wait`]) from the
    /// run itself, the code that holds the run's [`Guard`], never returns: the
    /// run ends only when that guard drops. Inside a run, drop the guard, or
    /// call `stop()`/`close()` without waiting; wait from outside it.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let many = runcycle::Many::new();
    /// let guard = many.start().unwrap();
    /// let done = many.done();
    /// drop(guard);
    /// assert!(done.is_done());
    /// ```
    #[must_use = "a Wait does nothing unless awaited or waited on"]
    pub fn done(&self) -> Wait {
        self.handle.done()
    }

    /// A wait that resolves once the instance is
    /// [`Closed`](State::Closed): closed for good (by
    /// [`close`](Many::close), the parent's cancellation, or dropping the
    /// last handle) and no run in progress. Unlike [`done`](Many::done), it
    /// stays pending while the instance is Stopped between runs and across
    /// restarts. It does not close anything and does not keep the instance
    /// open (it is not a handle). See [`ClosedWait`].
    ///
    /// # Deadlocks
    ///
    /// Waiting on it from the code that holds a run's [`Guard`] never
    /// returns: the instance is Closed only once that run has ended.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// use runcycle::Many;
    ///
    /// let many = Many::new();
    /// let closed = many.closed();
    /// drop(many.start().unwrap()); // Stopped: not closed
    /// assert!(!closed.is_done());
    /// let closer = many.clone();
    /// std::thread::spawn(move || closer.close());
    /// closed.wait();
    /// assert_eq!(many.state(), runcycle::State::Closed);
    /// ```
    #[must_use = "a ClosedWait does nothing unless awaited or waited on"]
    pub fn closed(&self) -> ClosedWait {
        self.handle.closed()
    }

    /// Stops the current run and allows a restart: cancels the run's context
    /// and returns the [`Transition`]: the state before the call, and a wait
    /// for the run's exit. Does nothing on a Created or Stopped instance. The
    /// stop happens at the call; dropping the `Transition` only gives up the
    /// wait (Go's `Halt`), awaiting it is Go's `Stop(ctx)`, its
    /// [`previous`](Transition::previous) state is Go's `Stop2`.
    ///
    /// # Errors
    ///
    /// [`ClosedError`] if the instance is closed or closing.
    ///
    /// # Deadlocks
    ///
    /// Waiting on the returned [`Transition`] (`.await`,
    /// [`Transition::wait`]) from the run itself, the code that holds the
    /// run's [`Guard`], never returns: the run ends only when that guard
    /// drops. Inside a run, drop the `Transition` or the guard; wait from
    /// outside it.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// use runcycle::{Many, State};
    ///
    /// let many = Many::new();
    /// let guard = many.start().unwrap();
    /// let stopping = many.stop().unwrap();
    /// assert_eq!(stopping.previous(), State::Running);
    /// assert!(guard.context().is_cancelled());
    /// drop(guard);
    /// stopping.wait();
    /// assert_eq!(many.state(), State::Stopped);
    /// assert_eq!(many.stop().unwrap().previous(), State::Stopped);
    /// ```
    ///
    /// From async code:
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # futures::executor::block_on(async {
    /// let many = runcycle::Many::new();
    /// let guard = many.start().unwrap();
    /// std::thread::spawn(move || drop(guard));
    /// many.stop()?.await;
    /// # Ok::<(), runcycle::ClosedError>(())
    /// # }).unwrap();
    /// ```
    // Called for its effect: the Transition is extra information.
    #[allow(clippy::must_use_candidate)]
    pub fn stop(&self) -> Result<Transition, ClosedError> {
        self.handle.stop()
    }

    /// Closes the instance: from now on `start` is refused; the context is
    /// cancelled. Returns the [`Transition`]: the state before the call, and
    /// a wait that resolves when a run in progress has exited (at once
    /// otherwise). A close requested after a stop, before the run exits,
    /// wins: the instance ends Closed.
    ///
    /// The close happens at the call: `many.close();` alone is Go's
    /// `Cancel()`, awaiting the result is `Close(ctx)`, its
    /// [`previous`](Transition::previous) state is `Close2`/`Cancel`'s `prev`.
    ///
    /// # Deadlocks
    ///
    /// Waiting on the returned [`Transition`] (`.await`,
    /// [`Transition::wait`]) from the run itself, the code that holds the
    /// run's [`Guard`], never returns: the run ends only when that guard
    /// drops. Inside a run, drop the `Transition` or the guard; wait from
    /// outside it.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// use runcycle::{Many, State};
    ///
    /// let many = Many::new();
    /// drop(many.start().unwrap());
    /// let closing = many.close();
    /// assert_eq!(closing.previous(), State::Stopped);
    /// closing.wait();
    /// assert_eq!(many.state(), State::Closed);
    /// ```
    // A fire-and-forget `close();` is the common use: not `#[must_use]`.
    #[allow(clippy::must_use_candidate)]
    pub fn close(&self) -> Transition {
        self.handle.close()
    }
}

impl Default for Many {
    /// Same as [`Many::new`].
    fn default() -> Self {
        Many::new()
    }
}

impl fmt::Debug for Many {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.handle.fmt_debug("Many", f)
    }
}
