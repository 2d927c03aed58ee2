//! [`State`], the public lifecycle state, and the crate's errors.

use core::fmt;

/// The lifecycle state of an instance, as [`One::state`](crate::One::state)
/// and [`Many::state`](crate::Many::state) report it.
///
/// The Go package's `State`: `StateCreated`, `StateRunning`, `StateStopped`,
/// `StateClosed`. `Display` prints the lowercase name.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// use runcycle::{Many, State};
///
/// let many = Many::new();
/// assert_eq!(many.state(), State::Created);
/// let guard = many.start().unwrap();
/// assert_eq!(many.state(), State::Running);
/// guard.stop();
/// assert_eq!(many.state(), State::Stopped);
/// assert_eq!(State::Stopped.to_string(), "stopped");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Initialized, never started, not closed.
    Created,
    /// A run is in progress (possibly asked to stop or close, not yet exited).
    Running,
    /// The last run exited; [`Many`](crate::Many) can start again.
    Stopped,
    /// Terminal: closed, and no run is in progress or will ever start.
    Closed,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Created => "created",
            State::Running => "running",
            State::Stopped => "stopped",
            State::Closed => "closed",
        })
    }
}

/// Why a call was refused: Go's `ErrRunning` and `ErrClosed`.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// use runcycle::{Error, One};
///
/// let one = One::new();
/// let guard = one.start().unwrap();
/// assert_eq!(one.start().unwrap_err(), Error::Running);
/// guard.stop();
/// assert_eq!(one.start().unwrap_err(), Error::Closed);
/// assert_eq!(Error::Running.to_string(), "already running");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    /// A run is in progress (Go's `ErrRunning`, "already running").
    Running,
    /// The instance is closed or closing, or a `One` has already run (Go's
    /// `ErrClosed`, "closed").
    Closed,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Running => "already running",
            Error::Closed => "closed",
        })
    }
}

impl std::error::Error for Error {}

/// A blocking wait gave up at its deadline; the instance was not changed.
///
/// Returned by [`Wait::wait_timeout`](crate::Wait::wait_timeout) and
/// [`Wait::wait_deadline`](crate::Wait::wait_deadline). This is the Rust form
/// of Go's `Close(ctx)` returning `ctx.Err()`: giving up the wait never undoes
/// the transition that was asked for.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// use std::time::Duration;
/// use runcycle::{Many, TimedOut};
///
/// let many = Many::new();
/// let _guard = many.start().unwrap();
/// // The run ignores its context, so the stop cannot complete in time.
/// let wait = many.stop().unwrap();
/// assert_eq!(wait.wait_timeout(Duration::from_millis(1)), Err(TimedOut));
/// assert_eq!(TimedOut.to_string(), "timed out waiting for the instance");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimedOut;

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("timed out waiting for the instance")
    }
}

impl std::error::Error for TimedOut {}
