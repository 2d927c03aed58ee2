//! `Many`: one run at a time, restartable.

#![cfg(not(loom))]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

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
