//! [`One`]: an instance that runs at most once.

use core::fmt;

use crate::lifecycle::context::{Context, Parent};

use crate::lifecycle::engine::Handle;
use crate::lifecycle::table::Kind;
use crate::{Error, Guard, State, Wait};

/// Runs an instance at most once: `Created -> Running -> Closed`.
///
/// [`start`](One::start) succeeds once and returns a [`Guard`]; when the guard
/// is stopped or dropped the instance is Closed for good. A close before the
/// start prevents the run altogether. Compare [`Many`](crate::Many), which
/// allows restarts.
///
/// `One` is a cheap handle (one pointer): clones share the instance. Dropping
/// the last handle closes the instance (like [`cancel`](One::cancel)): its
/// context is cancelled and a run still in progress ends Closed when its
/// guard drops. The transition table is in `spec/transitions.md`.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// use runcycle::{Error, One, State};
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
/// assert_eq!(one.start().unwrap_err(), Error::Closed);
/// ```
#[derive(Clone)]
pub struct One {
    handle: Handle,
}

impl One {
    /// A new instance with no parent context.
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
    /// like [`cancel`](One::cancel), at the moment of the parent's
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
    /// [`Error::Running`] while the run is in progress, [`Error::Closed`]
    /// after it or after a close (or a close request, or the parent's
    /// cancellation).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let one = runcycle::One::new();
    /// let guard = one.start().unwrap();
    /// assert_eq!(one.start().unwrap_err(), runcycle::Error::Running);
    /// drop(guard);
    /// ```
    pub fn start(&self) -> Result<Guard, Error> {
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
    /// let _ = one.cancel();
    /// assert!(ctx.is_cancelled());
    /// ```
    #[must_use]
    pub fn context(&self) -> Context {
        Context::new(self.handle.context())
    }

    /// A wait that resolves when the run has ended, or the instance closed
    /// without running.
    ///
    /// # Deadlocks
    ///
    /// Waiting on the returned [`Wait`] (`.await`, [`Wait::wait`]) from the
    /// run itself, the code that holds the run's [`Guard`], never returns: the
    /// run ends only when that guard drops. Inside a run, call `cancel()` or
    /// drop the guard; wait from outside it.
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
    pub fn done(&self) -> Wait {
        self.handle.done()
    }

    /// Closes the instance: from now on `start` is refused; the context is
    /// cancelled. The returned [`Wait`] resolves when a run in progress has
    /// exited (at once otherwise). The close happens at the call, whether or
    /// not the wait is used.
    ///
    /// # Deadlocks
    ///
    /// Waiting on the returned [`Wait`] (`.await`, [`Wait::wait`]) from the
    /// run itself, the code that holds the run's [`Guard`], never returns: the
    /// run ends only when that guard drops. Inside a run, call `cancel()` or
    /// drop the guard; wait from outside it.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let one = runcycle::One::new();
    /// one.close().wait(); // never started: closed at once
    /// assert_eq!(one.state(), runcycle::State::Closed);
    /// ```
    pub fn close(&self) -> Wait {
        self.handle.close().1
    }

    /// [`close`](One::close), also returning the state before the call.
    ///
    /// # Deadlocks
    ///
    /// Waiting on the returned [`Wait`] (`.await`, [`Wait::wait`]) from the
    /// run itself, the code that holds the run's [`Guard`], never returns: the
    /// run ends only when that guard drops. Inside a run, call `cancel()` or
    /// drop the guard; wait from outside it.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let one = runcycle::One::new();
    /// let (prev, wait) = one.close2();
    /// assert_eq!(prev, runcycle::State::Created);
    /// assert!(wait.is_done());
    /// ```
    pub fn close2(&self) -> (State, Wait) {
        self.handle.close()
    }

    /// [`close2`](One::close2) without the wait: returns the state before the
    /// call.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let one = runcycle::One::new();
    /// let guard = one.start().unwrap();
    /// assert_eq!(one.cancel(), runcycle::State::Running);
    /// assert!(guard.context().is_cancelled());
    /// ```
    // Called for its effect: the previous state is extra information.
    #[allow(clippy::must_use_candidate)]
    pub fn cancel(&self) -> State {
        self.handle.cancel()
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
