//! `Many`: one run at a time, restartable.

#![cfg(not(loom))]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use std::future::Future;

use runcycle::{ClosedError, Many, StartError, State};
use tokio_util::sync::CancellationToken;

const BOUND: Duration = Duration::from_secs(20);

// Loop counts, cut down under Miri (.ci/miri), which runs this file about
// 1,000 times slower.
const EXITS: usize = if cfg!(miri) { 10 } else { 50 };
const RACING_CALLS: usize = if cfg!(miri) { 100 } else { 2_000 };
const RESTARTS: usize = if cfg!(miri) { 200 } else { 10_000 };

#[test]
fn each_run_has_a_fresh_context_and_done() {
    let many = Many::new();
    let first = many.start().unwrap();
    let (ctx1, done1) = (many.context(), many.done());
    drop(first);
    assert!(ctx1.is_cancelled() && done1.is_done());
    assert!(
        many.context().is_cancelled(),
        "Stopped: the last run's context"
    );
    let _second = many.start().unwrap();
    let (ctx2, done2) = (many.context(), many.done());
    assert!(!ctx2.is_cancelled() && !done2.is_done());
    assert!(
        ctx1.is_cancelled() && done1.is_done(),
        "the old run stays ended"
    );
}

/// A run's token is shared behind an `Arc` that the next run reuses when
/// no context of the last run is left (BENCHMARKS.md, issue #15): the reuse
/// must put a new, live token in it, and a context kept from an earlier run
/// keeps that run's cancelled token.
#[test]
fn a_restart_gets_a_live_context_whether_or_not_old_contexts_are_kept() {
    let many = Many::new();
    let mut kept = None;
    for run in 1..=6 {
        let guard = many.start().unwrap();
        let ctx = guard.context();
        assert!(
            !ctx.is_cancelled(),
            "run {run}: a new run's context is live"
        );
        assert!(!many.context().is_cancelled(), "run {run}: the same token");
        drop(guard);
        assert!(ctx.is_cancelled(), "run {run}: cancelled at its end");
        // Keep every third run's context alive across the next start (the
        // allocation cannot be reused then); drop the others.
        if run % 3 == 0 {
            kept = Some(ctx);
        }
        if let Some(old) = &kept {
            assert!(old.is_cancelled(), "a kept context stays cancelled");
        }
    }
}

#[test]
fn stop_on_created_and_stopped_changes_nothing() {
    let many = Many::new();
    assert_eq!(
        many.stop().map(|t| (t.previous(), t.is_done())),
        Ok((State::Created, true))
    );
    assert_eq!(many.state(), State::Created);
    assert!(!many.context().is_cancelled());
    drop(many.start().unwrap());
    assert_eq!(many.stop().map(|t| t.previous()), Ok(State::Stopped));
    assert_eq!(many.state(), State::Stopped);
}

#[test]
fn stop_on_closed_is_refused() {
    let many = Many::new();
    many.close();
    let err: ClosedError = many.stop().unwrap_err();
    assert_eq!(err.to_string(), "closed");
    assert_eq!(StartError::from(err), StartError::Closed);
}

#[test]
fn a_close_after_a_stop_before_the_exit_wins() {
    let many = Many::new();
    let guard = many.start().unwrap();
    let stop = many.stop().unwrap();
    let close = many.close();
    assert_eq!(close.previous(), State::Running);
    drop(guard);
    assert!(stop.is_done() && close.is_done());
    assert_eq!(many.state(), State::Closed);
    assert_eq!(many.start().unwrap_err(), StartError::Closed);
}

#[test]
fn a_stop_while_a_close_is_pending_waits_and_the_close_wins() {
    let many = Many::new();
    let guard = many.start().unwrap();
    many.close();
    let stop = many.stop().unwrap();
    assert_eq!(stop.previous(), State::Running);
    assert!(!stop.is_done());
    assert_eq!(
        many.start().unwrap_err(),
        StartError::Closed,
        "a pending close refuses starts"
    );
    drop(guard);
    assert!(stop.is_done());
    assert_eq!(many.state(), State::Closed);
}

#[test]
fn stop_waits_for_the_exit_from_another_thread() {
    let many = Many::new();
    for _ in 0..EXITS {
        let guard = many.start().unwrap();
        let ctx = guard.context();
        let exited = Arc::new(AtomicUsize::new(0));
        let worker = {
            let exited = Arc::clone(&exited);
            thread::spawn(move || {
                while !ctx.is_cancelled() {
                    thread::yield_now();
                }
                exited.store(1, Ordering::SeqCst);
                drop(guard);
            })
        };
        assert_eq!(many.stop().unwrap().wait_timeout(BOUND), Ok(()));
        assert_eq!(exited.load(Ordering::SeqCst), 1);
        assert_eq!(many.state(), State::Stopped);
        worker.join().unwrap();
    }
}

/// As in tests/one.rs: a Many nobody has read (no watch armed) sees its
/// parent's cancellation at every call, and a run that ends after it ends
/// Closed, not Stopped.
#[test]
fn every_call_sees_a_parent_cancellation_on_an_instance_never_read() {
    let calls: [fn(&Many) -> bool; 4] = [
        |many| many.start().unwrap_err() == StartError::Closed,
        |many| many.stop().is_err(),
        |many| many.close().previous() == State::Closed,
        |many| many.context().is_cancelled(),
    ];
    for (i, call) in calls.iter().enumerate() {
        let parent = CancellationToken::new();
        let many = Many::with_parent(&parent);
        parent.cancel();
        assert!(call(&many), "call {i} did not see the parent cancelled");
    }
    let parent = CancellationToken::new();
    let many = Many::with_parent(&parent);
    let guard = many.start().unwrap();
    parent.cancel();
    drop(guard);
    // The completion applied the cancellation: the run ended Closed. (A
    // read would apply it too; `start` is the call that tells.)
    assert_eq!(many.start().unwrap_err(), StartError::Closed);
}

#[test]
fn parent_cancellation_while_stopped_closes() {
    let parent = CancellationToken::new();
    let many = Many::with_parent(&parent);
    drop(many.start().unwrap());
    parent.cancel();
    assert_eq!(many.state(), State::Closed);
    assert_eq!(many.start().unwrap_err(), StartError::Closed);
}

#[test]
fn parent_cancellation_while_running_ends_closed_not_stopped() {
    let parent = CancellationToken::new();
    let many = Many::with_parent(&parent);
    let guard = many.start().unwrap();
    many.stop().ok(); // a stop first ...
    parent.cancel(); // ... then the parent: the close wins
    drop(guard);
    assert_eq!(many.state(), State::Closed);
}

#[test]
fn parent_cancellation_from_another_thread_wakes_a_close_waiter() {
    let parent = CancellationToken::new();
    let many = Many::with_parent(&parent);
    let guard = many.start().unwrap();
    let ctx = guard.context();
    let worker = thread::spawn(move || {
        while !ctx.is_cancelled() {
            thread::yield_now();
        }
        drop(guard);
    });
    let canceller = thread::spawn(move || parent.cancel());
    assert_eq!(many.done().wait_timeout(BOUND), Ok(()));
    canceller.join().unwrap();
    worker.join().unwrap();
    assert_eq!(many.state(), State::Closed);
}

#[test]
fn at_most_one_run_at_a_time_under_racing_starts_and_stops() {
    let many = Many::new();
    let active = Arc::new(AtomicUsize::new(0));
    let runs = Arc::new(AtomicUsize::new(0));
    let threads = 4;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let (many, active, runs, barrier) = (
                many.clone(),
                Arc::clone(&active),
                Arc::clone(&runs),
                Arc::clone(&barrier),
            );
            thread::spawn(move || {
                barrier.wait();
                for _ in 0..RACING_CALLS {
                    if i % 2 == 0 {
                        if let Ok(guard) = many.start() {
                            assert_eq!(
                                active.fetch_add(1, Ordering::SeqCst),
                                0,
                                "two runs at once"
                            );
                            runs.fetch_add(1, Ordering::SeqCst);
                            active.fetch_sub(1, Ordering::SeqCst);
                            drop(guard);
                        }
                    } else {
                        many.stop().ok();
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert!(runs.load(Ordering::SeqCst) > 0);
    assert_eq!(many.state(), State::Stopped);
}

#[test]
fn dropping_the_last_handle_while_running_cancels_and_closes() {
    let many = Many::new();
    let guard = many.start().unwrap();
    let ctx = guard.context();
    let done = many.done();
    drop(many);
    assert!(ctx.is_cancelled());
    drop(guard);
    assert!(done.is_done());
}

#[test]
fn ten_thousand_restarts_keep_the_instance_small() {
    let parent = CancellationToken::new();
    let many = Many::with_parent(&parent);
    for i in 0..RESTARTS {
        let guard = many.start().unwrap();
        if i % 2 == 0 {
            let _ = guard.context();
        }
        drop(guard);
    }
    assert_eq!(many.state(), State::Stopped);
    // The instance holds no token or waiter per past run: after the last
    // handle goes, only `parent` remains. (Allocation counts are in
    // tests/alloc.rs.)
    let debug = format!("{many:?}");
    assert!(debug.contains(&format!("run: {RESTARTS}")), "{debug}");
}

#[test]
fn debug_shows_the_decoded_state() {
    let many = Many::default();
    let _guard = many.start().unwrap();
    many.stop().ok();
    let debug = format!("{many:?}");
    assert!(
        debug.contains("Stopping") && debug.contains("Running"),
        "{debug}"
    );
}

// ---------------------------------------------------------------------------
// The closed wait (`Many::closed`, spec/README.md section 15)
// ---------------------------------------------------------------------------

/// A thread blocked on `closed()` while the instance is Stopped, woken by a
/// `close()` from another thread.
#[test]
fn closed_resolves_on_close_from_stopped() {
    let many = Many::new();
    drop(many.start().unwrap());
    let closed = many.closed();
    assert!(!closed.is_done(), "Stopped is not Closed");
    let waiter = {
        let closed = closed.clone();
        thread::spawn(move || closed.wait_timeout(BOUND))
    };
    let closer = many.clone();
    thread::spawn(move || drop(closer.close())).join().unwrap();
    assert_eq!(waiter.join().unwrap(), Ok(()));
    assert!(closed.is_done());
    assert_eq!(many.state(), State::Closed);
}

#[test]
fn closed_resolves_on_close_from_created() {
    let many = Many::new();
    let closed = many.closed();
    assert!(!closed.is_done(), "Created is not Closed");
    let waiter = {
        let closed = closed.clone();
        thread::spawn(move || closed.wait_timeout(BOUND))
    };
    many.close();
    assert_eq!(waiter.join().unwrap(), Ok(()));
    assert!(closed.is_done() && many.closed().is_done());
}

/// A close requested while a run is in progress (Closing) resolves the
/// closed wait only once the run has ended.
#[test]
fn closed_resolves_on_close_while_running_only_after_the_run_ends() {
    let many = Many::new();
    let guard = many.start().unwrap();
    let closed = many.closed();
    let close = many.close();
    assert!(!closed.is_done(), "Closing is not Closed");
    assert!(
        closed.wait_timeout(Duration::from_millis(1)).is_err(),
        "the run is still in progress"
    );
    let waiter = {
        let closed = closed.clone();
        thread::spawn(move || closed.wait_timeout(BOUND))
    };
    thread::spawn(move || drop(guard)).join().unwrap();
    assert_eq!(waiter.join().unwrap(), Ok(()));
    assert!(close.is_done() && closed.is_done());
}

#[test]
fn closed_resolves_on_parent_cancel_while_stopped() {
    let parent = CancellationToken::new();
    let many = Many::with_parent(&parent);
    drop(many.start().unwrap());
    let closed = many.closed();
    let waiter = {
        let closed = closed.clone();
        thread::spawn(move || closed.wait_timeout(BOUND))
    };
    thread::spawn(move || parent.cancel()).join().unwrap();
    assert_eq!(waiter.join().unwrap(), Ok(()));
    assert_eq!(many.state(), State::Closed);
}

#[test]
fn closed_resolves_on_parent_cancel_while_running_after_the_run() {
    let parent = CancellationToken::new();
    let many = Many::with_parent(&parent);
    let guard = many.start().unwrap();
    let closed = many.closed();
    parent.cancel();
    assert!(guard.context().is_cancelled());
    assert!(!closed.is_done(), "the run is still in progress");
    drop(guard);
    assert!(closed.is_done());
    assert_eq!(closed.wait_timeout(BOUND), Ok(()));
}

/// The closed wait is not a handle: dropping the last `Many` closes the
/// instance and resolves it.
#[test]
fn closed_resolves_on_last_handle_drop() {
    let many = Many::new();
    drop(many.start().unwrap());
    let closed = many.closed();
    let waiter = {
        let closed = closed.clone();
        thread::spawn(move || closed.wait_timeout(BOUND))
    };
    thread::spawn(move || drop(many)).join().unwrap();
    assert_eq!(waiter.join().unwrap(), Ok(()));
    assert!(closed.is_done());
}

/// Pending while Created, Running, Stopping and Stopped, across restarts;
/// stop and completion do not resolve it.
#[test]
fn closed_stays_pending_until_closed_across_restarts() {
    let many = Many::new();
    let closed = many.closed();
    for _ in 0..3 {
        let guard = many.start().unwrap();
        assert!(!closed.is_done(), "Running");
        let stop = many.stop().unwrap();
        assert!(!closed.is_done(), "Stopping");
        drop(guard);
        assert!(stop.is_done());
        assert!(!closed.is_done(), "Stopped");
        assert!(closed.wait_timeout(Duration::from_millis(1)).is_err());
    }
    assert_eq!(many.state(), State::Stopped);
    many.close();
    assert!(closed.is_done());
}

/// A closed future pending in another thread's executor (between restarts,
/// as a supervisor's backoff sleep would be) is woken by the close.
#[test]
fn a_pending_closed_future_is_woken_by_the_close() {
    let many = Many::new();
    drop(many.start().unwrap());
    let polled = Arc::new(Barrier::new(2));
    let waiter = {
        let closed = many.closed();
        let polled = Arc::clone(&polled);
        thread::spawn(move || {
            futures::executor::block_on(async move {
                let mut closed = std::pin::pin!(closed);
                // Poll once (registering the wait), then let the closer go.
                let first =
                    futures::future::poll_fn(|cx| std::task::Poll::Ready(closed.as_mut().poll(cx)))
                        .await;
                polled.wait();
                if first.is_pending() {
                    closed.await;
                }
            });
        })
    };
    polled.wait();
    // Restarts do not wake it for good: it stays pending until the close.
    drop(many.start().unwrap());
    many.close();
    join_within(waiter, "the close did not wake the closed future");
}

/// Joins `thread`, failing with `what` if it has not finished within
/// [`BOUND`] (a hang turned into a failure; the thread is left behind).
fn join_within<T>(thread: thread::JoinHandle<T>, what: &str) -> T {
    let deadline = std::time::Instant::now() + BOUND;
    while !thread.is_finished() {
        assert!(std::time::Instant::now() < deadline, "{what}");
        thread::sleep(Duration::from_millis(1));
    }
    thread.join().unwrap()
}

/// Async on an executor: `closed().await` cut short by a close from another
/// thread, and a closed wait resolved at once once Closed.
#[test]
fn closed_future_resolves_on_close_from_another_thread() {
    let many = Many::new();
    drop(many.start().unwrap());
    let closed = many.closed();
    let waiter = thread::spawn(move || futures::executor::block_on(closed));
    let closer = many.clone();
    thread::spawn(move || drop(closer.close())).join().unwrap();
    join_within(waiter, "the close did not wake the closed future");
    futures::executor::block_on(many.closed());
}

#[test]
fn closed_wait_deadline_and_timeout() {
    let many = Many::new();
    let closed = many.closed();
    let soon = std::time::Instant::now() + Duration::from_millis(1);
    assert!(closed.wait_deadline(soon).is_err());
    assert!(closed.wait_timeout(Duration::from_millis(1)).is_err());
    assert!(!closed.is_done(), "a timed-out wait changes nothing");
    assert_eq!(many.state(), State::Created);
    many.close();
    let later = std::time::Instant::now() + BOUND;
    assert_eq!(closed.wait_deadline(later), Ok(()));
    assert_eq!(closed.wait_timeout(Duration::MAX), Ok(()));
    closed.wait();
}

#[test]
fn closed_debug_says_whether_closed() {
    let many = Many::new();
    let closed = many.closed();
    assert_eq!(format!("{closed:?}"), "ClosedWait { closed: false, .. }");
    many.close();
    assert_eq!(format!("{closed:?}"), "ClosedWait { closed: true, .. }");
}

#[cfg(feature = "tokio")]
#[test]
fn closed_blocking_wait_panics_on_a_runtime_thread() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for call in ["wait", "wait_timeout", "wait_deadline"] {
        let many = Many::new();
        many.close(); // even when already closed
        let closed = many.closed();
        let panic = runtime.block_on(async {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match call {
                "wait" => closed.wait(),
                "wait_timeout" => closed.wait_timeout(BOUND).unwrap(),
                _ => closed
                    .wait_deadline(std::time::Instant::now() + BOUND)
                    .unwrap(),
            }))
            .expect_err("a blocking wait on a runtime thread")
        });
        let message = panic.downcast_ref::<String>().expect("a formatted message");
        assert!(
            message.contains(&format!(
                "`runcycle::ClosedWait::{call}` cannot block a thread that drives a tokio runtime"
            )),
            "{message}"
        );
    }
}

// ---------------------------------------------------------------------------
// The run number
// ---------------------------------------------------------------------------

#[test]
fn run_numbers_count_the_started_runs() {
    let many = Many::new();
    assert_eq!(many.run_number(), 0, "no run started");
    let stop = many.stop().unwrap();
    assert!(stop.is_done());
    assert_eq!(many.run_number(), 0, "a stop on Created starts nothing");
    for n in 1..=5 {
        let guard = many.start().unwrap();
        assert_eq!((many.run_number(), guard.run_number()), (n, n));
        assert_eq!(many.start().unwrap_err(), StartError::Running);
        assert_eq!(many.run_number(), n, "a refused start starts nothing");
        drop(many.stop().unwrap());
        assert_eq!(guard.run_number(), n, "Stopping: the guard's run");
        drop(guard);
        assert_eq!(many.run_number(), n, "Stopped: the last run");
    }
    many.close();
    assert_eq!(many.run_number(), 5, "a close keeps the last run's number");
    assert_eq!(many.start().unwrap_err(), StartError::Closed);
    assert_eq!(many.run_number(), 5);
}

#[test]
fn a_many_closed_before_any_start_has_run_number_zero() {
    let many = Many::new();
    many.close();
    assert_eq!((many.state(), many.run_number()), (State::Closed, 0));
    many.close();
    assert_eq!(many.run_number(), 0);

    let parent = CancellationToken::new();
    let child = Many::with_parent(&parent);
    parent.cancel();
    assert_eq!((child.state(), child.run_number()), (State::Closed, 0));
    assert_eq!(child.start().unwrap_err(), StartError::Closed);
    assert_eq!(child.run_number(), 0);
}

#[test]
fn a_close_while_running_keeps_the_runs_number() {
    let many = Many::new();
    drop(many.start().unwrap());
    let guard = many.start().unwrap();
    many.close();
    assert_eq!((many.run_number(), guard.run_number()), (2, 2));
    drop(guard);
    assert_eq!((many.state(), many.run_number()), (State::Closed, 2));
}
