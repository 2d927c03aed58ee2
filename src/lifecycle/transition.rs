//! [`Transition`]: what `stop()` and `close()` return.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::lifecycle::error::TimedOut;
use crate::lifecycle::state::State;
use crate::lifecycle::wait::Wait;

/// The transition a [`stop`](crate::Many::stop) or
/// [`close`](crate::Many::close) made: the state before the call, and a wait
/// for the run it asked to end.
///
/// The call has already changed the instance when it returns (the close
/// refuses starts from then on, the run's context is cancelled): the
/// `Transition` only reports. So it can be dropped at once (a
/// fire-and-forget `many.close();`, Go's `Cancel()`), asked for the
/// [`previous`](Transition::previous) state (Go's `Close2`/`Stop2`/`Halt`),
/// awaited (`many.stop()?.await`, Go's `Stop(ctx)`), or waited on from a
/// thread ([`wait`](Transition::wait), [`wait_timeout`](Transition::wait_timeout)).
/// The wait resolves when the run that was in progress at the call has
/// exited, at once if none was.
///
/// # Deadlocks
///
/// Waiting from the run itself (the code that holds the run's
/// [`Guard`](crate::Guard)) never returns: the run ends only when that guard
/// drops. Inside a run, drop the `Transition` instead of waiting; see
/// [`Wait`] for the blocking waits on tokio threads.
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
/// assert!(!stopping.is_done());
/// drop(guard);
/// stopping.wait();
///
/// // Fire and forget: the close has happened when the call returns.
/// many.close();
/// assert_eq!(many.state(), State::Closed);
/// assert_eq!(many.close().previous(), State::Closed);
/// ```
///
/// From async code, on any executor:
///
/// ```
/// # if runcycle::__LOOM { return; }
/// futures::executor::block_on(async {
///     let many = runcycle::Many::new();
///     let guard = many.start().unwrap();
///     std::thread::spawn(move || drop(guard));
///     many.close().await;
///     assert_eq!(many.state(), runcycle::State::Closed);
/// });
/// ```
#[derive(Clone)]
pub struct Transition {
    previous: State,
    wait: Wait,
}

impl Transition {
    pub(crate) fn new(previous: State, wait: Wait) -> Transition {
        Transition { previous, wait }
    }

    /// The state of the instance just before the call (Go's `prev` of
    /// `Close2`, `Stop2`, `Halt` and `Cancel`).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let one = runcycle::One::new();
    /// assert_eq!(one.close().previous(), runcycle::State::Created);
    /// assert_eq!(one.close().previous(), runcycle::State::Closed);
    /// ```
    #[must_use]
    pub fn previous(&self) -> State {
        self.previous
    }

    /// Whether the run has exited (a wait would return at once).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let many = runcycle::Many::new();
    /// let guard = many.start().unwrap();
    /// let stopping = many.stop().unwrap();
    /// assert!(!stopping.is_done());
    /// guard.complete();
    /// assert!(stopping.is_done());
    /// ```
    #[must_use]
    pub fn is_done(&self) -> bool {
        self.wait.is_done()
    }

    /// Blocks the thread until the run has exited: [`Wait::wait`].
    ///
    /// # Panics
    ///
    /// With the `tokio` feature, on a thread that drives a tokio runtime (see
    /// [`Wait::wait`]); `.await` the transition there.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let many = runcycle::Many::new();
    /// let guard = many.start().unwrap();
    /// std::thread::spawn(move || drop(guard));
    /// many.stop().unwrap().wait();
    /// assert_eq!(many.state(), runcycle::State::Stopped);
    /// ```
    #[track_caller]
    pub fn wait(&self) {
        self.wait.wait_as("runcycle::Transition::wait");
    }

    /// [`wait`](Transition::wait), giving up after `timeout`:
    /// [`Wait::wait_timeout`]. Giving up changes nothing.
    ///
    /// # Errors
    ///
    /// [`TimedOut`] if the run had not exited in time.
    ///
    /// # Panics
    ///
    /// As [`wait`](Transition::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// use std::time::Duration;
    ///
    /// let many = runcycle::Many::new();
    /// let _guard = many.start().unwrap(); // a run that ignores its context
    /// assert!(many.close().wait_timeout(Duration::from_millis(1)).is_err());
    /// assert_eq!(many.state(), runcycle::State::Running); // closing, refusing starts
    /// ```
    #[track_caller]
    pub fn wait_timeout(&self, timeout: Duration) -> Result<(), TimedOut> {
        self.wait
            .wait_timeout_as("runcycle::Transition::wait_timeout", timeout)
    }

    /// [`wait`](Transition::wait), giving up at `deadline`:
    /// [`Wait::wait_deadline`].
    ///
    /// # Errors
    ///
    /// [`TimedOut`] if the run had not exited by then.
    ///
    /// # Panics
    ///
    /// As [`wait`](Transition::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// use std::time::{Duration, Instant};
    ///
    /// let many = runcycle::Many::new();
    /// let deadline = Instant::now() + Duration::from_secs(5);
    /// assert!(many.stop().unwrap().wait_deadline(deadline).is_ok()); // nothing ran
    /// ```
    #[track_caller]
    pub fn wait_deadline(&self, deadline: Instant) -> Result<(), TimedOut> {
        self.wait
            .wait_deadline_as("runcycle::Transition::wait_deadline", deadline)
    }

    /// The wait alone, e.g. to store beside other [`Wait`]s.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let many = runcycle::Many::new();
    /// let waits: Vec<runcycle::Wait> = vec![many.done(), many.close().into_wait()];
    /// assert!(waits.iter().all(runcycle::Wait::is_done));
    /// ```
    #[must_use]
    pub fn into_wait(self) -> Wait {
        self.wait
    }
}

/// Resolves when the run has exited, like [`Wait`]; cancel-safe.
impl Future for Transition {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.wait).poll(cx)
    }
}

impl fmt::Debug for Transition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transition")
            .field("previous", &self.previous)
            .field("done", &self.wait.is_done())
            .finish()
    }
}
