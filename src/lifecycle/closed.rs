//! [`ClosedWait`]: a wait for an instance to be closed for good, usable
//! from async code on any executor and from plain threads.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::lifecycle::engine::Inner;
use crate::lifecycle::error::TimedOut;
use crate::lifecycle::wait::Wait;
use crate::sync::Arc;

/// A wait for a [`Many`](crate::Many) to be
/// [`Closed`](crate::State::Closed): what [`Many::closed`](crate::Many::closed)
/// returns.
///
/// It resolves once the instance is closed for good and no run is in
/// progress (`state() == State::Closed`), however the close came: a
/// [`close`](crate::Many::close), the parent's cancellation, or the last
/// handle dropped. A close requested while a run is in progress resolves it
/// when that run exits. Unlike [`Wait`], which follows one run, it stays
/// pending across any number of runs and restarts, and also while the
/// instance is `Stopped` between runs: a supervisor sleeping before a
/// restart can wait on it to learn at once that the instance was closed.
///
/// Use it as a [`Future`] on any executor, or block a thread with
/// [`wait`](ClosedWait::wait), [`wait_timeout`](ClosedWait::wait_timeout)
/// or [`wait_deadline`](ClosedWait::wait_deadline). It only observes: it
/// does not close the instance (that is `close`), and it is not a handle:
/// it does not keep the instance open (dropping the last `Many` closes the
/// instance, and then the wait resolves). Any number of waits, and clones,
/// can wait; all wake.
///
/// # Deadlocks
///
/// The code holding a run's [`Guard`](crate::Guard) must not wait for the
/// close: the instance is `Closed` only once that run has ended, which
/// needs the guard dropped. A timed wait there returns `Err(TimedOut)`. A
/// blocking wait must not run on a thread that drives a tokio runtime: with
/// the `tokio` feature it panics there (see [`wait`](ClosedWait::wait)).
///
/// # Cancel safety
///
/// Dropping the future at any point loses nothing: it holds no state except
/// its registration, which it removes. Polling it repeatedly reuses one
/// registration.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// use runcycle::Many;
///
/// let many = Many::new();
/// drop(many.start().unwrap()); // one run, now Stopped
/// let closed = many.closed();
/// assert!(!closed.is_done());
/// let waiter = std::thread::spawn(move || closed.wait());
/// drop(many); // the last handle: the instance closes
/// waiter.join().unwrap();
/// ```
///
/// From async code, a backoff sleep cut short by a close:
///
/// ```
/// # if runcycle::__LOOM { return; }
/// use runcycle::{CancellationToken, Many};
///
/// futures::executor::block_on(async {
///     let shutdown = CancellationToken::new();
///     let many = Many::with_parent(&shutdown);
///     drop(many.start().unwrap());
///     std::thread::spawn(move || shutdown.cancel());
///     many.closed().await; // resolves when the parent is cancelled
///     assert!(many.start().is_err());
/// });
/// ```
#[derive(Clone)]
pub struct ClosedWait {
    /// The wait, with [`Wait::until_closed`]'s target (engine invariant E9).
    wait: Wait,
}

impl ClosedWait {
    pub(crate) fn new(inner: Arc<Inner>) -> ClosedWait {
        ClosedWait {
            wait: Wait::until_closed(inner),
        }
    }

    /// Whether the instance is `Closed` (the wait would return at once).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// use runcycle::Many;
    ///
    /// let many = Many::new();
    /// let closed = many.closed();
    /// drop(many.start().unwrap());
    /// assert!(!closed.is_done(), "Stopped is not Closed");
    /// many.close();
    /// assert!(closed.is_done());
    /// ```
    #[must_use]
    pub fn is_done(&self) -> bool {
        self.wait.is_done()
    }

    /// Blocks the thread until the instance is `Closed`.
    ///
    /// Do not call it from async code (it blocks the executor's thread):
    /// `.await` the `ClosedWait` there instead.
    ///
    /// # Deadlocks
    ///
    /// Called by the code that holds a run's [`Guard`](crate::Guard), it
    /// never returns: the instance is `Closed` only once that run has
    /// ended.
    ///
    /// # Panics
    ///
    /// With the `tokio` feature, on a thread that drives a tokio runtime (a
    /// runtime worker, or inside `Runtime::block_on` or `#[tokio::main]`),
    /// with the message "`runcycle::ClosedWait::wait` cannot block a thread
    /// that drives a tokio runtime (...)", even if the instance is already
    /// closed, as [`Wait::wait`]. `.await` the `ClosedWait` instead, or call
    /// this from `tokio::task::spawn_blocking`.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// use runcycle::Many;
    ///
    /// let many = Many::new();
    /// let guard = many.start().unwrap();
    /// many.close(); // Closing: Closed once the run exits
    /// let closed = many.closed();
    /// std::thread::spawn(move || drop(guard));
    /// closed.wait();
    /// ```
    #[track_caller]
    pub fn wait(&self) {
        self.wait.wait_as("runcycle::ClosedWait::wait");
    }

    /// Blocks the thread until the instance is `Closed` or `timeout` has
    /// passed. A close at the deadline counts as closed, as in
    /// [`Wait::wait_timeout`].
    ///
    /// # Errors
    ///
    /// [`TimedOut`] if the instance was not `Closed` in time. The instance
    /// is not changed either way.
    ///
    /// # Panics
    ///
    /// On a thread that drives a tokio runtime, as
    /// [`wait`](ClosedWait::wait) (naming
    /// `runcycle::ClosedWait::wait_timeout`).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// use std::time::Duration;
    /// use runcycle::Many;
    ///
    /// let many = Many::new();
    /// let closed = many.closed();
    /// assert!(closed.wait_timeout(Duration::from_millis(1)).is_err());
    /// many.close();
    /// assert_eq!(closed.wait_timeout(Duration::from_secs(10)), Ok(()));
    /// ```
    #[track_caller]
    pub fn wait_timeout(&self, timeout: Duration) -> Result<(), TimedOut> {
        self.wait
            .wait_timeout_as("runcycle::ClosedWait::wait_timeout", timeout)
    }

    /// Blocks the thread until the instance is `Closed` or `deadline` has
    /// passed. A close at the deadline counts as closed.
    ///
    /// # Errors
    ///
    /// [`TimedOut`] if the instance was not `Closed` by then.
    ///
    /// # Panics
    ///
    /// On a thread that drives a tokio runtime, as
    /// [`wait`](ClosedWait::wait) (naming
    /// `runcycle::ClosedWait::wait_deadline`).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// use std::time::{Duration, Instant};
    /// use runcycle::Many;
    ///
    /// let many = Many::new();
    /// many.close();
    /// let deadline = Instant::now() + Duration::from_secs(10);
    /// assert_eq!(many.closed().wait_deadline(deadline), Ok(()));
    /// ```
    #[track_caller]
    pub fn wait_deadline(&self, deadline: Instant) -> Result<(), TimedOut> {
        self.wait
            .wait_deadline_as("runcycle::ClosedWait::wait_deadline", deadline)
    }
}

impl Future for ClosedWait {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.wait).poll(cx)
    }
}

impl fmt::Debug for ClosedWait {
    /// The instance's closedness, read with one atomic load (never blocks).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClosedWait")
            .field("closed", &self.is_done())
            .finish_non_exhaustive()
    }
}
