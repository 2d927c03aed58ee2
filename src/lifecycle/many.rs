//! [`Many`]: an instance that runs one at a time and can restart.

use core::fmt;

use crate::lifecycle::context::{Context, Parent};

use crate::lifecycle::engine::Handle;
use crate::lifecycle::table::Kind;
use crate::{Error, Guard, State, Wait};

/// Runs one instance at a time and allows restarts:
/// `Created -> Running -> Stopped -> Running -> ... -> Closed`.
///
/// Each [`start`](Many::start) begins a run with a fresh context and a fresh
/// done signal; [`stop`](Many::stop) ends the current run and allows a
/// restart; [`close`](Many::close) ends it for good. Compare
/// [`One`](crate::One), which runs once.
///
/// `Many` is a cheap handle (one pointer): clones share the instance.
/// Dropping the last handle closes the instance (like
/// [`cancel`](Many::cancel)). The transition table is in
/// `spec/transitions.md`.
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
    /// A new instance with no parent context.
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
    /// like [`cancel`](Many::cancel), at the moment of the parent's
    /// cancellation (the run's context is cancelled by that transition; it
    /// is not a tokio-util child of `parent`). Nesting has no depth limit:
    /// propagation uses no stack per level.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// use runcycle::{Error, Many};
    /// use tokio_util::sync::CancellationToken;
    ///
    /// let parent = CancellationToken::new();
    /// let many = Many::with_parent(&parent);
    /// let guard = many.start().unwrap();
    /// parent.cancel();
    /// assert!(guard.context().is_cancelled());
    /// drop(guard);
    /// assert_eq!(many.start().unwrap_err(), Error::Closed);
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
    /// [`Error::Running`] while a run is in progress, [`Error::Closed`] once
    /// closed or while a close is pending.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let many = runcycle::Many::new();
    /// drop(many.start().unwrap());
    /// drop(many.start().unwrap()); // restarts
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
    /// assert_eq!(runcycle::Many::new().state(), runcycle::State::Created);
    /// ```
    #[must_use]
    #[inline]
    pub fn state(&self) -> State {
        self.handle.state()
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
        Context::new(self.handle.context())
    }

    /// A wait that resolves when the current run (or, before a start, the
    /// next run) ends, or the instance closes. While Stopped, it is the last
    /// run's, already resolved.
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
    /// let many = runcycle::Many::new();
    /// let guard = many.start().unwrap();
    /// let done = many.done();
    /// drop(guard);
    /// assert!(done.is_done());
    /// ```
    pub fn done(&self) -> Wait {
        self.handle.done()
    }

    /// Stops the current run and allows a restart: cancels the run's context
    /// and returns a [`Wait`] for its exit. Does nothing on a Created or
    /// Stopped instance. The stop happens at the call.
    ///
    /// # Errors
    ///
    /// [`Error::Closed`] if the instance is closed.
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
    /// let many = runcycle::Many::new();
    /// let guard = many.start().unwrap();
    /// let wait = many.stop().unwrap();
    /// assert!(guard.context().is_cancelled());
    /// drop(guard);
    /// wait.wait();
    /// assert_eq!(many.state(), runcycle::State::Stopped);
    /// ```
    pub fn stop(&self) -> Result<Wait, Error> {
        self.handle.stop().map(|(_, wait)| wait)
    }

    /// [`stop`](Many::stop), also returning the state before the call.
    ///
    /// # Errors
    ///
    /// [`Error::Closed`] if the instance is closed.
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
    /// let many = runcycle::Many::new();
    /// let (prev, wait) = many.stop2().unwrap();
    /// assert_eq!(prev, runcycle::State::Created);
    /// assert!(wait.is_done());
    /// ```
    pub fn stop2(&self) -> Result<(State, Wait), Error> {
        self.handle.stop()
    }

    /// [`stop2`](Many::stop2) without the wait.
    ///
    /// # Errors
    ///
    /// [`Error::Closed`] if the instance is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let many = runcycle::Many::new();
    /// let _guard = many.start().unwrap();
    /// assert_eq!(many.halt(), Ok(runcycle::State::Running));
    /// ```
    pub fn halt(&self) -> Result<State, Error> {
        self.handle.halt()
    }

    /// Closes the instance: from now on `start` is refused; the context is
    /// cancelled. The returned [`Wait`] resolves when a run in progress has
    /// exited (at once otherwise). A close requested after a stop, before the
    /// run exits, wins: the instance ends Closed.
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
    /// let many = runcycle::Many::new();
    /// drop(many.start().unwrap());
    /// many.close().wait();
    /// assert_eq!(many.state(), runcycle::State::Closed);
    /// ```
    pub fn close(&self) -> Wait {
        self.handle.close().1
    }

    /// [`close`](Many::close), also returning the state before the call.
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
    /// let many = runcycle::Many::new();
    /// let (prev, _wait) = many.close2();
    /// assert_eq!(prev, runcycle::State::Created);
    /// ```
    pub fn close2(&self) -> (State, Wait) {
        self.handle.close()
    }

    /// [`close2`](Many::close2) without the wait: returns the state before the
    /// call.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let many = runcycle::Many::new();
    /// assert_eq!(many.cancel(), runcycle::State::Created);
    /// assert_eq!(many.cancel(), runcycle::State::Closed);
    /// ```
    // Called for its effect: the previous state is extra information.
    #[allow(clippy::must_use_candidate)]
    pub fn cancel(&self) -> State {
        self.handle.cancel()
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
