//! The errors of the lifecycle calls: each call returns a type that holds
//! only the failures it can have.

use core::fmt;

/// Why [`start`](crate::Many::start) was refused: Go's `ErrRunning` and
/// `ErrClosed`.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// use runcycle::{One, StartError};
///
/// let one = One::new();
/// let guard = one.start().unwrap();
/// assert_eq!(one.start().unwrap_err(), StartError::Running);
/// guard.complete();
/// assert_eq!(one.start().unwrap_err(), StartError::Closed);
/// assert_eq!(StartError::Running.to_string(), "already running");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StartError {
    /// A run is in progress (Go's `ErrRunning`, "already running").
    Running,
    /// The instance is closed or closing, or a `One` has already run (Go's
    /// `ErrClosed`, "closed").
    Closed,
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StartError::Running => "already running",
            StartError::Closed => "closed",
        })
    }
}

impl std::error::Error for StartError {}

impl From<ClosedError> for StartError {
    /// [`StartError::Closed`]: a function that starts and stops can use `?`
    /// on both.
    fn from(_: ClosedError) -> StartError {
        StartError::Closed
    }
}

/// The instance (or group) is closed: Go's `ErrClosed`, the one way
/// [`Many::stop`](crate::Many::stop) and `Group::spawn` can fail.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// use runcycle::{ClosedError, Many};
///
/// let many = Many::new();
/// many.close();
/// let err: ClosedError = many.stop().unwrap_err();
/// assert_eq!(err.to_string(), "closed");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ClosedError;

impl fmt::Display for ClosedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("closed")
    }
}

impl std::error::Error for ClosedError {}

/// A blocking wait gave up at its deadline; the instance was not changed.
///
/// Returned by [`Wait::wait_timeout`](crate::Wait::wait_timeout),
/// [`Wait::wait_deadline`](crate::Wait::wait_deadline) and their
/// [`Transition`](crate::Transition) twins. This is the Rust form of Go's
/// `Close(ctx)` returning `ctx.Err()`: giving up the wait never undoes the
/// transition that was asked for.
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
/// let stopping = many.stop().unwrap();
/// let err: TimedOut = stopping.wait_timeout(Duration::from_millis(1)).unwrap_err();
/// assert_eq!(err.to_string(), "timed out waiting for the instance");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct TimedOut;

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("timed out waiting for the instance")
    }
}

impl std::error::Error for TimedOut {}
