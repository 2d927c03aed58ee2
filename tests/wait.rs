//! `Wait`: from threads, tokio and `futures::executor`; many waiters; bounded
//! waits; transitions that happen at the call, whatever becomes of the wait.

#![cfg(not(loom))]

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use runcycle::{Many, One, State, TimedOut};
use tokio_util::sync::CancellationToken;

/// Generous bound that turns a hang into a failure.
const BOUND: Duration = Duration::from_secs(20);

/// Untimed waits, bounded from outside: a timed wait returns `Ok` at its
/// deadline once the run has ended (spec/README.md, section 9), which would
/// hide a lost wake-up. One waiter takes the single-waiter slot, the others
/// the listener list (invariant E10): all must be woken by the completion.
#[test]
fn many_blocked_threads_all_wake_on_completion() {
    let many = Many::new();
    let guard = many.start().unwrap();
    let woken = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = std::sync::mpsc::channel();
    for _ in 0..16 {
        let done = many.done();
        let woken = Arc::clone(&woken);
        let tx = tx.clone();
        thread::spawn(move || {
            done.wait();
            woken.fetch_add(1, Ordering::SeqCst);
            tx.send(()).unwrap();
        });
    }
    thread::sleep(Duration::from_millis(20));
    assert_eq!(
        woken.load(Ordering::SeqCst),
        0,
        "woke before the completion"
    );
    drop(guard);
    for i in 0..16 {
        assert!(
            rx.recv_timeout(BOUND).is_ok(),
            "only {i} of 16 waiters woke"
        );
    }
    assert_eq!(woken.load(Ordering::SeqCst), 16);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tokio_tasks_all_wake_on_close() {
    let one = One::new();
    let guard = one.start().unwrap();
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let one = one.clone();
            tokio::spawn(async move {
                if i % 2 == 0 {
                    one.done().await;
                } else {
                    one.close().await;
                }
            })
        })
        .collect();
    let ctx = guard.context();
    tokio::spawn(async move {
        ctx.cancelled().await;
        drop(guard);
    });
    one.close();
    for t in tasks {
        tokio::time::timeout(BOUND, t)
            .await
            .expect("a waiter hung")
            .unwrap();
    }
    assert_eq!(one.state(), State::Closed);
}

/// The blocking waits return only once the run has ended: the waiter checks,
/// after its wait returns, that the completion had begun (the flag is set
/// before the guard is dropped, and only after the waiter had time to block).
#[test]
fn blocking_waits_return_only_after_the_end() {
    for kind in ["wait", "wait_timeout", "wait_deadline"] {
        let many = Many::new();
        let guard = many.start().unwrap();
        let done = many.done();
        let ending = Arc::new(AtomicUsize::new(0));
        let waiter = {
            let ending = Arc::clone(&ending);
            thread::spawn(move || {
                match kind {
                    "wait" => done.wait(),
                    "wait_timeout" => done.wait_timeout(BOUND).unwrap(),
                    _ => done
                        .wait_deadline(std::time::Instant::now() + BOUND)
                        .unwrap(),
                }
                assert_eq!(ending.load(Ordering::SeqCst), 1, "{kind} returned early");
                assert!(done.is_done());
            })
        };
        thread::sleep(Duration::from_millis(20));
        ending.store(1, Ordering::SeqCst);
        drop(guard);
        waiter.join().unwrap();
    }
}

#[test]
fn futures_executor_waits_for_a_stop() {
    let many = Many::new();
    let guard = many.start().unwrap();
    let ctx = guard.context();
    let worker = thread::spawn(move || {
        while !ctx.is_cancelled() {
            thread::yield_now();
        }
        drop(guard);
    });
    futures::executor::block_on(async {
        many.stop().unwrap().await;
    });
    assert_eq!(many.state(), State::Stopped);
    worker.join().unwrap();
}

#[test]
fn futures_executor_joins_many_waits_on_one_instance() {
    let many = Many::new();
    let guard = many.start().unwrap();
    let waits: Vec<_> = (0..8).map(|_| many.done()).collect();
    let dropper = thread::spawn(move || {
        thread::sleep(Duration::from_millis(10));
        drop(guard);
    });
    futures::executor::block_on(futures::future::join_all(waits));
    dropper.join().unwrap();
}

#[test]
fn timed_out_wait_does_not_undo_the_stop() {
    let many = Many::new();
    let guard = many.start().unwrap();
    let wait = many.stop().unwrap();
    assert!(matches!(
        wait.wait_timeout(Duration::from_millis(5)),
        Err(TimedOut { .. })
    ));
    // Still stopping: the context is cancelled and a start is refused.
    assert!(guard.context().is_cancelled());
    assert_eq!(many.start().unwrap_err(), runcycle::StartError::Running);
    drop(guard);
    assert_eq!(wait.wait_timeout(BOUND), Ok(()));
    assert_eq!(many.state(), State::Stopped);
}

#[tokio::test]
async fn a_timeout_firing_on_the_future_does_not_undo_the_close() {
    let one = One::new();
    let guard = one.start().unwrap();
    let r = tokio::time::timeout(Duration::from_millis(5), one.close()).await;
    assert!(r.is_err(), "the run is still going");
    assert!(one.start().is_err());
    assert!(guard.context().is_cancelled());
    drop(guard);
    assert_eq!(one.state(), State::Closed);
}

#[test]
// The pattern under test: Go users write `_ = m.Close(ctx)`-like code.
#[allow(clippy::let_underscore_future)]
fn a_close_never_awaited_still_closes() {
    let many = Many::new();
    let _ = many.close();
    assert_eq!(many.state(), State::Closed);
    assert!(many.context().is_cancelled());

    let many = Many::new();
    let guard = many.start().unwrap();
    drop(many.stop()); // the wait is dropped unpolled
    assert!(guard.context().is_cancelled());
    drop(guard);
    assert_eq!(many.state(), State::Stopped);
}

#[test]
fn a_future_dropped_mid_wait_does_not_undo_the_stop() {
    let many = Many::new();
    let guard = many.start().unwrap();
    {
        let mut fut = pin!(many.stop().unwrap());
        let mut cx = Context::from_waker(Waker::noop());
        assert_eq!(fut.as_mut().poll(&mut cx), Poll::Pending);
    }
    assert!(guard.context().is_cancelled());
    drop(guard);
    assert_eq!(many.state(), State::Stopped);
}

#[test]
fn repeated_polls_reuse_one_registration() {
    let many = Many::new();
    let guard = many.start().unwrap();
    let mut fut = pin!(many.done());
    let mut cx = Context::from_waker(Waker::noop());
    // Cut down under Miri (.ci/miri), which runs this about 1,000 times slower.
    let polls = if cfg!(miri) { 500 } else { 10_000 };
    for _ in 0..polls {
        assert_eq!(fut.as_mut().poll(&mut cx), Poll::Pending);
    }
    drop(guard);
    assert_eq!(fut.as_mut().poll(&mut cx), Poll::Ready(()));
}

#[test]
fn a_done_waiter_on_a_created_instance_wakes_on_parent_cancellation() {
    let parent = CancellationToken::new();
    let one = One::with_parent(&parent);
    let done = one.done();
    let waiter = thread::spawn(move || done.wait_timeout(BOUND));
    thread::sleep(Duration::from_millis(10));
    parent.cancel();
    assert_eq!(waiter.join().unwrap(), Ok(()));
    assert_eq!(one.state(), State::Closed);
}

#[tokio::test]
async fn an_async_done_waiter_on_a_created_instance_wakes_on_parent_cancellation() {
    let parent = CancellationToken::new();
    let many = Many::with_parent(&parent);
    let done = many.done();
    let waiter = tokio::spawn(done);
    tokio::task::yield_now().await;
    parent.cancel();
    tokio::time::timeout(BOUND, waiter)
        .await
        .expect("hung")
        .unwrap();
}

#[test]
fn done_taken_before_the_first_start_resolves_at_the_end_of_the_first_run() {
    let many = Many::new();
    let done = many.done();
    let guard = many.start().unwrap();
    assert!(!done.is_done(), "a start does not resolve done");
    drop(guard);
    assert!(done.is_done());
    let _second = many.start().unwrap();
    assert!(done.is_done(), "a restart does not unresolve the old done");
    assert!(!many.done().is_done());
}

#[test]
fn clones_of_a_wait_wait_for_the_same_run() {
    let many = Many::new();
    let guard = many.start().unwrap();
    let done = many.done();
    let copy = done.clone();
    drop(guard);
    assert!(done.is_done() && copy.is_done());
    copy.wait();
    let debug = format!("{done:?}");
    assert!(debug.contains("done: true"), "{debug}");
}

#[test]
fn wait_deadline_in_the_past_reports_a_timeout_only_if_pending() {
    let many = Many::new();
    let guard = many.start().unwrap();
    let past = std::time::Instant::now();
    assert!(matches!(
        many.done().wait_deadline(past),
        Err(TimedOut { .. })
    ));
    drop(guard);
    assert_eq!(many.done().wait_deadline(past), Ok(()));
    // A timeout too large for `Instant` means no deadline.
    assert_eq!(many.done().wait_timeout(Duration::MAX), Ok(()));
}

/// A wait for one's own run (the documented deadlock, `# Deadlocks` on every
/// wait): from the code that holds the guard, `stop()`'s and `close()`'s
/// waits cannot resolve, since the run ends only when the guard drops. The
/// stop and the close still took effect; a timed wait reports the timeout;
/// dropping the guard then ends the run and the same waits resolve.
#[test]
fn a_wait_for_ones_own_run_times_out_until_the_guard_drops() {
    let many = Many::new();
    let guard = many.start().unwrap();
    let ctx = guard.context();
    let stop = many.stop().unwrap();
    assert!(ctx.is_cancelled(), "the stop took effect at the call");
    assert!(matches!(
        stop.wait_timeout(Duration::from_millis(5)),
        Err(TimedOut { .. })
    ));
    let close = many.close();
    assert!(matches!(
        close.wait_timeout(Duration::from_millis(5)),
        Err(TimedOut { .. })
    ));
    drop(guard);
    assert_eq!(stop.wait_timeout(BOUND), Ok(()));
    assert_eq!(close.wait_timeout(BOUND), Ok(()));
    assert_eq!(many.state(), State::Closed);
}

/// A blocking waiter in the single-waiter slot (engine invariant E10) is
/// woken by the end of its run only: a transition of the run that does not
/// end it (a stop request, Running -> Stopping, made while the waiter is
/// parked) must leave the waiter in the slot, or the run's end finds the
/// slot empty and the waiter never wakes. The 100 ms pause only makes it
/// likely that the waiter is parked before the stop; the test passes either
/// way on correct code.
#[test]
fn a_stop_request_does_not_take_a_parked_waiter_from_the_slot() {
    let many = Many::new();
    let guard = many.start().unwrap();
    let done = many.done();
    let (woke, wake) = std::sync::mpsc::channel();
    // An untimed wait: a timed one would return `Ok` at its deadline anyway
    // (the run has ended by then), hiding the lost wake-up.
    thread::spawn(move || {
        done.wait();
        woke.send(()).unwrap();
    });
    thread::sleep(Duration::from_millis(100));
    let stop = many.stop().unwrap();
    thread::sleep(Duration::from_millis(100));
    drop(guard);
    assert!(
        wake.recv_timeout(BOUND).is_ok(),
        "the waiter was not woken by the run's end"
    );
    assert!(stop.is_done());
}

/// Counts its wake-ups.
struct CountingWaker(AtomicUsize);

impl std::task::Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A future re-polled with another task's waker (moved between tasks) is
/// woken through the new waker, not the old one: the re-poll replaces the
/// waker stored in the single-waiter slot (invariant E10), as it does in
/// the listener list.
#[test]
fn a_repoll_with_another_waker_is_woken_through_the_new_one() {
    let many = Many::new();
    let guard = many.start().unwrap();
    let mut fut = pin!(many.done());
    let (old, new) = (
        Arc::new(CountingWaker(AtomicUsize::new(0))),
        Arc::new(CountingWaker(AtomicUsize::new(0))),
    );
    let old_waker = Waker::from(Arc::clone(&old));
    let new_waker = Waker::from(Arc::clone(&new));
    assert_eq!(
        fut.as_mut().poll(&mut Context::from_waker(&old_waker)),
        Poll::Pending
    );
    assert_eq!(
        fut.as_mut().poll(&mut Context::from_waker(&new_waker)),
        Poll::Pending
    );
    drop(guard);
    assert_eq!(
        new.0.load(Ordering::SeqCst),
        1,
        "the new waker was not woken"
    );
    assert_eq!(old.0.load(Ordering::SeqCst), 0, "the old waker was woken");
    assert_eq!(
        fut.as_mut().poll(&mut Context::from_waker(&new_waker)),
        Poll::Ready(())
    );
}
