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
/// guard.complete();
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
