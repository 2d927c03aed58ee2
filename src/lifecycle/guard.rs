//! [`Guard`]: the proof that a run is in progress.

use core::fmt;

use crate::lifecycle::context::Context;
use crate::lifecycle::engine::Inner;
use crate::lifecycle::table::Event;
use crate::lifecycle::watch;
use crate::sync::Arc;

/// Returned by a successful `start`: the run lasts as long as this guard.
///
/// Completing the guard with [`Guard::complete`], or dropping it (also while a
/// panic unwinds), signals the run's completion exactly once: the context is
/// cancelled, the instance moves on (`One` to Closed; `Many` to Stopped, or
/// to Closed if a close was requested) and every `done` waiter wakes. This is
/// Go's `stop` function, made impossible to forget or to call twice.
///
/// Since nothing else ends the run, the code holding the guard must not
/// wait for that run (`stop()?.wait()`, `close().await`, `done()` ...):
/// such a wait never returns. Complete or drop the guard first, or call
/// `stop()`/`close()` and drop the returned [`Transition`](crate::Transition)
/// instead of waiting on it.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// use runcycle::{Many, State};
///
/// let many = Many::new();
/// let guard = many.start().unwrap();
/// let ctx = guard.context();
/// std::thread::spawn(move || {
///     // ... work until `ctx` is cancelled ...
///     guard.complete(); // or just let it drop
/// })
/// .join()
/// .unwrap();
/// assert!(ctx.is_cancelled());
/// assert_eq!(many.state(), State::Stopped);
/// ```
///
/// # Must use
///
/// A guard dropped at once ends its run at once, so an unused guard is a
/// warning (here made an error):
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// let many = runcycle::Many::new();
/// many.start().unwrap(); // error: unused `Guard` that must be used
/// ```
#[must_use = "dropping the guard ends the run at once"]
pub struct Guard {
    inner: Arc<Inner>,
}

impl Guard {
    pub(crate) fn new(inner: Arc<Inner>) -> Guard {
        Guard { inner }
    }

    /// Ends the run ("this run is finished", Go's `stop()` function): the
    /// same as dropping the guard, spelled out. Not to be confused with
    /// [`Many::stop`](crate::Many::stop), which asks a run to stop.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// use runcycle::{One, State};
    ///
    /// let one = One::new();
    /// let guard = one.start().unwrap();
    /// guard.complete();
    /// assert_eq!(one.state(), State::Closed);
    /// ```
    pub fn complete(self) {
        // `self` is dropped on return, and its `Drop` ends the run: the
        // same code path as any other drop, so it runs exactly once.
    }

    /// The run's context, the token the instance's `context()` returns while
    /// this run is current. The run should end when it is cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// use runcycle::Many;
    ///
    /// let many = Many::new();
    /// let guard = many.start().unwrap();
    /// let ctx = guard.context();
    /// many.stop().unwrap();
    /// assert!(ctx.is_cancelled());
    /// ```
    #[must_use]
    pub fn context(&self) -> Context {
        watch::arm(&self.inner);
        Context::shared(self.inner.context())
    }

    /// The number of this guard's run: 1 for the instance's first run, 2
    /// for the run after it, and so on (what
    /// [`Many::run_number`](crate::Many::run_number) says while this run is
    /// in progress). One atomic load: while the guard lives its run is the
    /// instance's current run (no other can start before it ends).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// use runcycle::Many;
    ///
    /// let many = Many::new();
    /// let first = many.start().unwrap();
    /// assert_eq!(first.run_number(), 1);
    /// drop(first);
    /// let second = many.start().unwrap();
    /// assert_eq!(second.run_number(), 2);
    /// assert_eq!(many.run_number(), 2);
    /// ```
    #[must_use]
    #[inline]
    pub fn run_number(&self) -> u64 {
        self.inner.load().run()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.inner.apply(Event::Complete);
    }
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard")
            .field("run", &self.inner.load().run())
            .finish_non_exhaustive()
    }
}
