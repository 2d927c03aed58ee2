//! [`Wait`]: a wait for a run to end, usable from async code on any executor
//! and from plain threads.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::time::{Duration, Instant};

use event_listener::{EventListener, Listener};

use crate::lifecycle::block::assert_may_block;
use crate::lifecycle::engine::Inner;
use crate::lifecycle::error::TimedOut;
use crate::lifecycle::waiter::Waiter;
use crate::sync::{park, park_timeout, Arc};

/// A wait for the end of a run: what `done()`, `close()` and `stop()` return.
///
/// It resolves when the run it was made for has ended (for a `close` or
/// `stop` on a running instance, when the run exits; for `done()`, when the
/// current or next run ends or the instance closes). Use it as a [`Future`]
/// on any executor (tokio, `futures::executor`, ...), or block a thread with
/// [`wait`](Wait::wait), [`wait_timeout`](Wait::wait_timeout) or
/// [`wait_deadline`](Wait::wait_deadline).
///
/// The call that returned the `Wait` has already changed the instance: the
/// wait only observes. Dropping it, or giving up at a timeout, never undoes
/// anything (Go's `Close(ctx)` bounded wait). Any number of waits, and clones
/// of one wait, can wait on one instance; all wake.
///
/// # Deadlocks
///
/// A wait for one's own run never returns: the run ends when its
/// [`Guard`](crate::Guard) goes, so the code holding the guard (the run
/// itself) must not wait for it, e.g. with `many.stop()?.wait()` or
/// `close().await`; neither may a task wait on its own `Task`. Stop or
/// close without waiting (drop the returned `Transition`), or drop the guard
/// first. A timed wait there
/// returns `Err(TimedOut)`. And a blocking wait must not run on a thread
/// that drives a tokio runtime: with the `tokio` feature it panics there
/// (see [`wait`](Wait::wait)).
///
/// # Cancel safety
///
/// Dropping the future at any point loses nothing: it holds no state except
/// its registration, which it removes (releasing the instance's
/// single-waiter slot if it held it). Polling it repeatedly reuses one
/// registration, so the instance's waiter list does not grow. The first
/// wait of an instance that has to block registers without allocating.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// use runcycle::Many;
///
/// let many = Many::new();
/// let guard = many.start().unwrap();
/// let done = many.done();
/// assert!(!done.is_done());
/// let waiter = std::thread::spawn(move || done.wait());
/// guard.complete();
/// waiter.join().unwrap();
/// ```
///
/// From async code (any executor):
///
/// ```
/// # if runcycle::__LOOM { return; }
/// use runcycle::Many;
///
/// futures::executor::block_on(async {
///     let many = Many::new();
///     let guard = many.start().unwrap();
///     let ctx = guard.context();
///     std::thread::spawn(move || {
///         while !ctx.is_cancelled() { std::thread::yield_now(); }
///         drop(guard);
///     });
///     many.stop().unwrap().await; // cancels the context, waits for the exit
/// });
/// ```
pub struct Wait {
    /// `None`: resolved when made.
    inner: Option<Arc<Inner>>,
    /// The run whose end this waits for, or [`UNTIL_CLOSED`]: the wait of a
    /// [`ClosedWait`](crate::ClosedWait), for the instance to be `Closed`.
    run: u64,
    /// The registration of a pending future (invariants E4, E10 of the
    /// engine).
    reg: Option<Reg>,
}

/// Where a pending wait is registered.
enum Reg {
    /// In the instance's single-waiter slot, which it owns (engine invariant
    /// E10); released when the wait resolves or is dropped.
    Slot,
    /// In the listener list (invariants E4, E9).
    List(EventListener),
}

/// How a blocking wait parks, the parameter of [`Wait::wait_until`] (its
/// seam for the deadline tests).
enum Parker {
    /// The wait owns the slot, with this thread stored: park the thread.
    Thread,
    /// A listener registered in the list.
    List(EventListener),
}

impl Parker {
    /// Parks until woken (possibly spuriously); always `true`.
    fn park(self) -> bool {
        match self {
            Parker::Thread => park(),
            Parker::List(listener) => listener.wait(),
        }
        true
    }

    /// Parks until woken (possibly spuriously) or `deadline`: `false` if
    /// the deadline has passed.
    fn park_deadline(self, deadline: Instant) -> bool {
        match self {
            Parker::Thread => match deadline.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => {
                    park_timeout(left);
                    true
                }
                _ => false,
            },
            Parker::List(listener) => listener.wait_deadline(deadline).is_some(),
        }
    }
}

/// Releases a blocking wait's claim on the slot when the wait returns.
struct SlotClaim<'a>(&'a Inner);

impl Drop for SlotClaim<'_> {
    fn drop(&mut self) {
        self.0.release_slot();
    }
}

/// The `run` of a wait for the instance to be `Closed` (engine invariant
/// E9) rather than for a run's end: no run has number 0 (the first is 1).
const UNTIL_CLOSED: u64 = 0;

impl Wait {
    /// A wait for the instance to be `Closed` (what
    /// [`ClosedWait`](crate::ClosedWait) wraps).
    pub(crate) fn until_closed(inner: Arc<Inner>) -> Wait {
        Wait {
            inner: Some(inner),
            run: UNTIL_CLOSED,
            reg: None,
        }
    }

    /// Whether what a wait for `run` waits for has happened: the run has
    /// ended, or (for [`UNTIL_CLOSED`]) the instance is `Closed`.
    #[inline]
    fn reached(run: u64, inner: &Inner) -> bool {
        if run == UNTIL_CLOSED {
            inner.is_closed()
        } else {
            inner.run_ended(run)
        }
    }

    /// Registers a listener for `run` and re-checks (engine invariants E4,
    /// E9): `None` if what the wait waits for has happened meanwhile.
    fn listen(run: u64, inner: &Inner) -> Option<EventListener> {
        if run == UNTIL_CLOSED {
            inner.listen_closed()
        } else {
            inner.listen_for(run)
        }
    }

    pub(crate) fn ready() -> Wait {
        Wait {
            inner: None,
            run: 0,
            reg: None,
        }
    }

    pub(crate) fn pending(inner: Arc<Inner>, run: u64) -> Wait {
        Wait {
            inner: Some(inner),
            run,
            reg: None,
        }
    }

    /// Whether the run has ended (the wait would return at once).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// use runcycle::One;
    ///
    /// let one = One::new();
    /// let done = one.done();
    /// assert!(!done.is_done());
    /// one.close();
    /// assert!(done.is_done());
    /// ```
    #[must_use]
    pub fn is_done(&self) -> bool {
        match &self.inner {
            None => true,
            Some(inner) => Wait::reached(self.run, inner),
        }
    }

    /// Blocks the thread until the run has ended.
    ///
    /// Do not call it from async code (it blocks the executor's thread):
    /// `.await` the `Wait` there instead.
    ///
    /// # Deadlocks
    ///
    /// A wait for one's own run never returns: `many.stop()?.wait()`,
    /// `close().wait()` or `done().wait()` called by the code that holds the
    /// run's [`Guard`](crate::Guard) (the run ends only when that guard
    /// drops). Inside a run, stop or close without waiting (drop the
    /// `Transition`), or drop the guard first; wait from outside it.
    ///
    /// # Panics
    ///
    /// With the `tokio` feature, on a thread that drives a tokio runtime (a
    /// runtime worker, or inside `Runtime::block_on` or `#[tokio::main]`),
    /// with the message "`runcycle::Wait::wait` cannot block a thread that drives
    /// a tokio runtime (...)", even if the run has already ended: blocking
    /// there can stop the run it waits for. `.await` the `Wait` instead, or
    /// call this from `tokio::task::spawn_blocking`. Without the feature the
    /// crate cannot tell, and such a call can deadlock.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// use runcycle::One;
    ///
    /// let one = One::new();
    /// let guard = one.start().unwrap();
    /// let close = one.close(); // cancels the context at once
    /// std::thread::spawn(move || drop(guard));
    /// close.wait();
    /// ```
    #[track_caller]
    pub fn wait(&self) {
        self.wait_as("runcycle::Wait::wait");
    }

    /// [`wait`](Wait::wait), naming `call` if it panics.
    #[track_caller]
    pub(crate) fn wait_as(&self, call: &str) {
        assert_may_block(call);
        let parked = self.wait_until(Parker::park);
        if parked.is_err() {
            unreachable!("runcycle: a wait without a deadline timed out");
        }
    }

    /// Blocks the thread until the run has ended or `timeout` has passed.
    ///
    /// A run that ends at the deadline counts as ended: the wait re-checks
    /// the run after its last park and returns `Ok(())` if it has ended.
    ///
    /// # Errors
    ///
    /// [`TimedOut`] if the run had not ended in time. The instance is not
    /// changed either way.
    ///
    /// # Deadlocks
    ///
    /// Waiting for one's own run (from the code that holds its guard) cannot
    /// succeed: it returns `Err(TimedOut)` at the deadline, see
    /// [`wait`](Wait::wait).
    ///
    /// # Panics
    ///
    /// On a thread that drives a tokio runtime, as [`wait`](Wait::wait)
    /// (naming `runcycle::Wait::wait_timeout`).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// use std::time::Duration;
    /// use runcycle::One;
    ///
    /// let one = One::new();
    /// let guard = one.start().unwrap();
    /// assert!(one.close().wait_timeout(Duration::from_millis(1)).is_err());
    /// drop(guard);
    /// assert!(one.done().wait_timeout(Duration::from_secs(10)).is_ok());
    /// ```
    #[track_caller]
    pub fn wait_timeout(&self, timeout: Duration) -> Result<(), TimedOut> {
        self.wait_timeout_as("runcycle::Wait::wait_timeout", timeout)
    }

    /// [`wait_timeout`](Wait::wait_timeout), naming `call` if it panics.
    #[track_caller]
    pub(crate) fn wait_timeout_as(&self, call: &str, timeout: Duration) -> Result<(), TimedOut> {
        assert_may_block(call);
        match Instant::now().checked_add(timeout) {
            Some(deadline) => self.wait_until(|parker| parker.park_deadline(deadline)),
            // Further away than `Instant` can express: no deadline.
            None => self.wait_until(Parker::park),
        }
    }

    /// Blocks the thread until the run has ended or `deadline` has passed.
    ///
    /// A run that ends at the deadline counts as ended, as in
    /// [`wait_timeout`](Wait::wait_timeout).
    ///
    /// # Errors
    ///
    /// [`TimedOut`] if the run had not ended by then.
    ///
    /// # Deadlocks
    ///
    /// Waiting for one's own run returns `Err(TimedOut)` at the deadline,
    /// see [`wait`](Wait::wait).
    ///
    /// # Panics
    ///
    /// On a thread that drives a tokio runtime, as [`wait`](Wait::wait)
    /// (naming `runcycle::Wait::wait_deadline`).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// use std::time::{Duration, Instant};
    /// use runcycle::Many;
    ///
    /// let many = Many::new();
    /// let deadline = Instant::now() + Duration::from_secs(10);
    /// many.close();
    /// assert_eq!(many.done().wait_deadline(deadline), Ok(()));
    /// ```
    #[track_caller]
    pub fn wait_deadline(&self, deadline: Instant) -> Result<(), TimedOut> {
        self.wait_deadline_as("runcycle::Wait::wait_deadline", deadline)
    }

    /// [`wait_deadline`](Wait::wait_deadline), naming `call` if it panics.
    #[track_caller]
    pub(crate) fn wait_deadline_as(&self, call: &str, deadline: Instant) -> Result<(), TimedOut> {
        assert_may_block(call);
        self.wait_until(|parker| parker.park_deadline(deadline))
    }

    /// The blocking wait, with the parking step as a parameter: `park` blocks
    /// (on the slot: the thread; or on a registered listener) and returns
    /// `true` if it was woken, or `false` if it gave up (its deadline
    /// passed). The public waits pass [`Parker::park`] or
    /// [`Parker::park_deadline`]; the unit tests below pass one that ends
    /// the run and then reports a timeout, the deadline-meets-completion
    /// race that no real clock can produce on demand.
    fn wait_until(&self, mut park: impl FnMut(Parker) -> bool) -> Result<(), TimedOut> {
        let Some(inner) = &self.inner else {
            return Ok(());
        };
        // A plain load first: an ended run needs no registration.
        if Wait::reached(self.run, inner) {
            return Ok(());
        }
        // A run wait that can claim the slot stores this thread there and
        // announces (invariant E10), then parks until the run has ended; it
        // stays registered until it returns (the thread handle stays
        // valid), so each wake-up (possibly stale or spurious) only
        // re-checks.
        if self.run != UNTIL_CLOSED && inner.claim_slot() {
            let _claim = SlotClaim(inner);
            if !inner.wait_in_slot(self.run, Waiter::this_thread()) {
                return Ok(());
            }
            loop {
                if !park(Parker::Thread) {
                    return Wait::after_deadline(self.run, inner);
                }
                if Wait::reached(self.run, inner) {
                    return Ok(());
                }
            }
        }
        // Else register, re-check and announce (invariants E4, E9), and
        // park; a wake-up re-registers.
        while !Wait::reached(self.run, inner) {
            let Some(listener) = Wait::listen(self.run, inner) else {
                return Ok(());
            };
            if !park(Parker::List(listener)) {
                // Gave up at the deadline: re-check (`after_deadline`).
                return Wait::after_deadline(self.run, inner);
            }
        }
        Ok(())
    }
}

impl Future for Wait {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let Some(inner) = &this.inner else {
            return Poll::Ready(());
        };
        loop {
            if Wait::reached(this.run, inner) {
                this.unregister();
                return Poll::Ready(());
            }
            match &mut this.reg {
                // The first run wait to block owns the slot: store the
                // waker, then announce (invariant E10).
                None if this.run != UNTIL_CLOSED && inner.claim_slot() => {
                    this.reg = Some(Reg::Slot);
                    if inner.wait_in_slot(this.run, Waiter::Task(cx.waker().clone())) {
                        return Poll::Pending;
                    }
                    this.unregister();
                    return Poll::Ready(());
                }
                // Register, re-check and announce (invariants E4, E9).
                None => match Wait::listen(this.run, inner) {
                    Some(listener) => this.reg = Some(Reg::List(listener)),
                    None => return Poll::Ready(()),
                },
                // Polled again: the stored waker is replaced if it differs,
                // then the word re-checked (invariant E10).
                Some(Reg::Slot) => {
                    if inner.repoll_slot(this.run, cx.waker()) {
                        return Poll::Pending;
                    }
                    this.unregister();
                    return Poll::Ready(());
                }
                // Reuses the registration: polling again does not add a
                // waiter, it only updates the stored waker.
                Some(Reg::List(listener)) => match Pin::new(listener).poll(cx) {
                    Poll::Ready(()) => this.reg = None,
                    Poll::Pending => return Poll::Pending,
                },
            }
        }
    }
}

impl Wait {
    /// The answer of a blocking wait that gave up at its deadline. The run
    /// may have ended after the parker's last look (its wake-up racing the
    /// clock): a run that has ended is reported as ended, never as a
    /// timeout.
    fn after_deadline(run: u64, inner: &Inner) -> Result<(), TimedOut> {
        if Wait::reached(run, inner) {
            Ok(())
        } else {
            Err(TimedOut)
        }
    }

    /// Drops the registration; releases the slot if the wait owns it.
    fn unregister(&mut self) {
        if let Some(Reg::Slot) = self.reg.take() {
            if let Some(inner) = &self.inner {
                inner.release_slot();
            }
        }
    }
}

impl Drop for Wait {
    /// Releases the slot if the wait owns it (invariant E10); a listener
    /// removes itself.
    fn drop(&mut self) {
        self.unregister();
    }
}

impl Clone for Wait {
    /// A wait for the same run, with its own registration.
    fn clone(&self) -> Self {
        Wait {
            inner: self.inner.clone(),
            run: self.run,
            reg: None,
        }
    }
}

impl fmt::Debug for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("run", &self.run)
            .field("done", &self.is_done())
            .finish_non_exhaustive()
    }
}

/// The deadline-meets-completion race of the timed waits, driven through
/// the parking seam ([`Wait::wait_until`]): loom cannot model the clock, and
/// a real deadline cannot be made to expire exactly as a run ends.
#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::lifecycle::many::Many;
    use crate::lifecycle::one::One;

    /// The parker reports a timeout, but the run ended while it was parked
    /// (here: the parker itself ends it, before "the clock" runs out): the
    /// wait returns `Ok`, not `TimedOut`.
    #[test]
    fn a_run_that_ends_as_the_deadline_passes_is_reported_ended() {
        let one = One::new();
        let mut guard = Some(one.start().unwrap());
        let done = one.done();
        let mut parks = 0;
        let answer = done.wait_until(|parker| {
            // The only waiter: it parks its thread, from the slot
            // (invariant E10 of the engine).
            assert!(matches!(parker, Parker::Thread));
            parks += 1;
            drop(guard.take()); // the run ends ...
            false // ... and the deadline passes before the parker sees it
        });
        assert_eq!(
            answer,
            Ok(()),
            "a run that had ended was reported as a timeout"
        );
        assert_eq!(parks, 1, "the wait parked again after its deadline");
    }

    /// The same race for a wait that parks on the listener list, because
    /// another wait (a pending future) owns the slot.
    #[test]
    fn a_run_that_ends_as_the_deadline_passes_is_reported_ended_from_the_list() {
        let one = One::new();
        let mut guard = Some(one.start().unwrap());
        let mut first = one.done();
        let mut cx = Context::from_waker(core::task::Waker::noop());
        assert_eq!(Pin::new(&mut first).poll(&mut cx), Poll::Pending);
        let mut parks = 0;
        let answer = one.done().wait_until(|parker| {
            assert!(matches!(parker, Parker::List(_)));
            parks += 1;
            drop(guard.take());
            false
        });
        assert_eq!(answer, Ok(()));
        assert_eq!(parks, 1);
        assert_eq!(Pin::new(&mut first).poll(&mut cx), Poll::Ready(()));
    }

    /// A timeout on the list path is a timeout too.
    #[test]
    fn a_run_still_going_at_the_deadline_times_out_from_the_list() {
        let one = One::new();
        let _guard = one.start().unwrap();
        let mut first = one.done();
        let mut cx = Context::from_waker(core::task::Waker::noop());
        assert_eq!(Pin::new(&mut first).poll(&mut cx), Poll::Pending);
        let answer = one.done().wait_until(|parker| {
            assert!(matches!(parker, Parker::List(_)));
            false
        });
        assert_eq!(answer, Err(TimedOut));
    }

    /// The same for a stop on a `Many`, the wait `stop()` returns.
    #[test]
    fn a_stop_that_completes_as_the_deadline_passes_is_reported_ended() {
        let many = Many::new();
        let mut guard = Some(many.start().unwrap());
        let stop = many.stop().unwrap().into_wait();
        let answer = stop.wait_until(|_parker| {
            drop(guard.take());
            false
        });
        assert_eq!(answer, Ok(()));
    }

    /// The other side of the re-check: a run still going at the deadline
    /// is a timeout, after exactly one park.
    #[test]
    fn a_run_still_going_at_the_deadline_times_out() {
        let one = One::new();
        let _guard = one.start().unwrap();
        let mut parks = 0;
        let answer = one.done().wait_until(|_parker| {
            parks += 1;
            false
        });
        assert_eq!(answer, Err(TimedOut));
        assert_eq!(parks, 1);
    }

    /// A parker woken while the run still goes parks again (a spurious or
    /// stale wake-up is not an end), and the wait returns once it has ended.
    #[test]
    fn a_wake_up_before_the_end_parks_again() {
        let one = One::new();
        let mut guard = Some(one.start().unwrap());
        let mut parks = 0;
        let answer = one.done().wait_until(|_parker| {
            parks += 1;
            if parks == 2 {
                drop(guard.take());
            }
            true
        });
        assert_eq!(answer, Ok(()));
        assert_eq!(parks, 2);
    }
}
