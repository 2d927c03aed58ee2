//! [`One`]: an instance that runs at most once.

use core::fmt;

use crate::lifecycle::context::{Context, Parent};
use crate::lifecycle::error::StartError;
use crate::lifecycle::guard::Guard;
use crate::lifecycle::handle::Handle;
use crate::lifecycle::state::State;
use crate::lifecycle::table::Kind;
use crate::lifecycle::transition::Transition;
use crate::lifecycle::wait::Wait;

/// Runs an instance at most once: `Created -> Running -> Closed`.
///
/// [`start`](One::start) succeeds once and returns a [`Guard`]; when the guard
/// is stopped or dropped the instance is Closed for good. A close before the
/// start prevents the run altogether. Compare [`Many`](crate::Many), which
/// allows restarts.
///
/// `One` is a cheap handle (one pointer): clones share the instance.
///
/// **Dropping the last handle closes the instance** (as
/// [`close`](One::close) does): its context is cancelled and a run still in
/// progress ends Closed when its guard drops. Unlike a Go value, a `One`
/// does not live on unreferenced: keep a handle for as long as the instance
/// should live. Guards and waits do not count as handles.
///
/// The transition table is in `spec/transitions.md`.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// use runcycle::{One, StartError, State};
///
/// let one = One::new();
/// let guard = one.start().unwrap();
/// let ctx = guard.context();
/// let worker = std::thread::spawn(move || {
///     while !ctx.is_cancelled() { std::thread::yield_now(); }
///     drop(guard); // signals completion
/// });
/// one.close().wait(); // cancel the context, wait for the exit
/// worker.join().unwrap();
/// assert_eq!(one.state(), State::Closed);
/// assert_eq!(one.start().unwrap_err(), StartError::Closed);
/// ```
#[derive(Clone)]
pub struct One {
    handle: Handle,
}

impl One {
    /// A new instance with no parent context. Dropping its last handle
    /// closes it (see [`One`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let one = runcycle::One::new();
    /// assert_eq!(one.state(), runcycle::State::Created);
    /// ```
    #[must_use]
    pub fn new() -> One {
        One {
            handle: Handle::new(Kind::One, None),
        }
    }

    /// A new instance tied to `parent`, a `CancellationToken` or another
    /// run's [`Context`] (Go's `NewOne(parent)`). Cancelling `parent` acts
    /// like [`close`](One::close), at the moment of the parent's
    /// cancellation (the instance's context is cancelled by that
    /// transition; it is not a tokio-util child of `parent`); if `parent` is
    /// already cancelled, the instance starts Closed. Nesting has no depth
    /// limit: propagation uses no stack per level.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// use runcycle::{One, State};
    /// use tokio_util::sync::CancellationToken;
    ///
    /// let parent = CancellationToken::new();
    /// let one = One::with_parent(&parent);
    /// parent.cancel();
    /// assert_eq!(one.state(), State::Closed);
    /// ```
    #[must_use]
    pub fn with_parent(parent: &impl Parent) -> One {
        One {
            handle: Handle::new(Kind::One, Some(parent.parent_token())),
        }
    }

    /// Starts the run, if it has not run and is not closed.
    ///
    /// # Errors
    ///
    /// [`StartError::Running`] while the run is in progress, [`StartError::Closed`]
    /// after it or after a close (or a close request, or the parent's
    /// cancellation).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let one = runcycle::One::new();
    /// let guard = one.start().unwrap();
    /// assert_eq!(one.start().unwrap_err(), runcycle::StartError::Running);
    /// drop(guard);
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
    /// assert_eq!(runcycle::One::new().state(), runcycle::State::Created);
    /// ```
    #[must_use]
    #[inline]
    pub fn state(&self) -> State {
        self.handle.state()
    }

    /// The instance's context: the token the run watches. It is cancelled
    /// when the run completes, on close, and when the parent is cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let one = runcycle::One::new();
    /// let ctx = one.context();
    /// assert!(!ctx.is_cancelled());
    /// one.close();
    /// assert!(ctx.is_cancelled());
    /// ```
    #[must_use]
    pub fn context(&self) -> Context {
        Context::shared(self.handle.context())
    }

    /// A wait that resolves when the run has ended, or the instance closed
    /// without running.
    ///
    /// # Deadlocks
    ///
    /// Waiting on the returned [`Wait`] (`.await`, [`Wait::wait`]) from the
    /// run itself, the code that holds the run's [`Guard`], never returns: the
    /// run ends only when that guard drops. Inside a run, drop the guard, or
    /// call `close()` without waiting; wait from outside it.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let one = runcycle::One::new();
    /// let done = one.done();
    /// drop(one.start().unwrap());
    /// assert!(done.is_done());
    /// ```
    #[must_use = "a Wait does nothing unless awaited or waited on"]
    pub fn done(&self) -> Wait {
        self.handle.done()
    }

    /// Closes the instance: from now on `start` is refused; the context is
    /// cancelled. Returns the [`Transition`]: the state before the call, and
    /// a wait that resolves when a run in progress has exited (at once
    /// otherwise). The close happens at the call: `one.close();` alone is
    /// Go's `Cancel()`, awaiting the result is `Close(ctx)`, its
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
    /// use runcycle::{One, State};
    ///
    /// let one = One::new();
    /// let closing = one.close(); // never started: closed at once
    /// assert_eq!(closing.previous(), State::Created);
    /// assert!(closing.is_done());
    /// assert_eq!(one.state(), State::Closed);
    /// ```
    // A fire-and-forget `close();` is the common use: not `#[must_use]`.
    #[allow(clippy::must_use_candidate)]
    pub fn close(&self) -> Transition {
        self.handle.close()
    }
}

impl Default for One {
    /// Same as [`One::new`].
    fn default() -> Self {
        One::new()
    }
}

impl fmt::Debug for One {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.handle.fmt_debug("One", f)
    }
}
