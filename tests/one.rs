//! `One`: runs at most once.

#![cfg(not(loom))]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use runcycle::{ClosedError, One, StartError, State};
use tokio_util::sync::CancellationToken;

#[test]
fn runs_once_then_refuses() {
    let one = One::new();
    assert_eq!(one.state(), State::Created);
    let ctx = one.context();
    let guard = one.start().unwrap();
    assert_eq!(one.state(), State::Running);
    assert_eq!(one.start().unwrap_err(), StartError::Running);
    drop(guard);
    assert_eq!(one.state(), State::Closed);
    assert!(ctx.is_cancelled(), "completion cancels the context");
    assert_eq!(one.start().unwrap_err(), StartError::Closed);
}

#[test]
fn the_context_before_the_start_is_the_runs_context() {
    let one = One::new();
    let before = one.context();
    let guard = one.start().unwrap();
    assert!(!before.is_cancelled());
    one.close();
    assert!(before.is_cancelled() && guard.context().is_cancelled());
}

#[test]
fn a_close_before_the_start_prevents_the_run() {
    let one = One::new();
    let done = one.done();
    let wait = one.close();
    assert_eq!(wait.previous(), State::Created);
    assert!(wait.is_done() && done.is_done());
    assert!(one.context().is_cancelled());
    assert_eq!(one.start().unwrap_err(), StartError::Closed);
    assert_eq!(one.close().previous(), State::Closed, "close is idempotent");
}

#[test]
fn close_waits_for_the_run_to_exit() {
    let one = One::new();
    let guard = one.start().unwrap();
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
    assert_eq!(one.close().wait_timeout(Duration::from_secs(20)), Ok(()));
    assert_eq!(
        exited.load(Ordering::SeqCst),
        1,
        "close returned before the exit"
    );
    assert_eq!(one.state(), State::Closed);
    worker.join().unwrap();
}

#[test]
fn an_already_cancelled_parent_gives_a_closed_instance() {
    let parent = CancellationToken::new();
    parent.cancel();
    let one = One::with_parent(&parent);
    assert_eq!(one.state(), State::Closed);
    assert!(one.done().is_done());
    assert!(one.context().is_cancelled());
    assert_eq!(one.start().unwrap_err(), StartError::Closed);
}

/// The parent watch is armed at the first read (spec/README.md, "Watched
/// from the first read"): an instance nobody has read has no watch, so every
/// call must apply a parent cancellation itself before its own event.
#[test]
fn every_call_sees_a_parent_cancellation_on_an_instance_never_read() {
    let calls: [fn(&One) -> bool; 3] = [
        |one| one.start().unwrap_err() == StartError::Closed,
        |one| one.close().previous() == State::Closed,
        |one| one.context().is_cancelled(),
    ];
    for (i, call) in calls.iter().enumerate() {
        let parent = CancellationToken::new();
        let one = One::with_parent(&parent);
        parent.cancel();
        assert!(call(&one), "call {i} did not see the parent cancelled");
        assert_eq!(one.state(), State::Closed);
    }
    // A run started before the cancellation, nothing read: the completion
    // applies it first (a Many would otherwise end Stopped, tests/many.rs).
    let parent = CancellationToken::new();
    let one = One::with_parent(&parent);
    let guard = one.start().unwrap();
    parent.cancel();
    drop(guard);
    assert_eq!(one.start().unwrap_err(), StartError::Closed);
}

#[test]
fn a_grandparent_cancellation_reaches_the_instance() {
    let root = CancellationToken::new();
    let parent = root.child_token();
    let one = One::with_parent(&parent);
    let guard = one.start().unwrap();
    root.cancel();
    assert!(guard.context().is_cancelled());
    assert_eq!(one.start().unwrap_err(), StartError::Closed);
    drop(guard);
    assert_eq!(one.state(), State::Closed);
}

#[test]
fn dropping_the_last_handle_while_running_cancels_and_closes() {
    let one = One::new();
    let copy = one.clone();
    let guard = one.start().unwrap();
    let ctx = guard.context();
    let done = one.done();
    drop(one);
    assert!(!ctx.is_cancelled(), "a clone is still alive");
    drop(copy);
    assert!(ctx.is_cancelled(), "the last handle's drop cancels the run");
    assert!(!done.is_done(), "the run has not exited yet");
    drop(guard);
    assert!(done.is_done());
}

#[test]
fn dropping_the_last_handle_releases_the_parent_watch() {
    let parent = CancellationToken::new();
    let one = One::with_parent(&parent);
    let done = one.done();
    drop(one);
    assert!(done.is_done(), "closed by the drop");
    // The parent's cancellation no longer reaches anything; nothing breaks.
    parent.cancel();
}

#[test]
fn exactly_one_of_many_racing_starts_wins() {
    // Cut down under Miri (.ci/miri), which runs this about 1,000 times slower.
    let rounds = if cfg!(miri) { 20 } else { 200 };
    for _ in 0..rounds {
        let one = One::new();
        let barrier = Arc::new(Barrier::new(4));
        let wins: Vec<_> = (0..4)
            .map(|_| {
                let one = one.clone();
                let barrier = Arc::clone(&barrier);
                thread::spawn(move || {
                    barrier.wait();
                    one.start().ok()
                })
            })
            .collect();
        let guards: Vec<_> = wins.into_iter().filter_map(|t| t.join().unwrap()).collect();
        assert_eq!(guards.len(), 1);
        drop(guards);
        assert_eq!(one.state(), State::Closed);
    }
}

#[test]
fn debug_shows_the_decoded_state() {
    let one = One::new();
    let _guard = one.start().unwrap();
    let debug = format!("{one:?}");
    assert!(
        debug.starts_with("One") && debug.contains("Running"),
        "{debug}"
    );
    assert_eq!(One::default().state(), State::Created);
}

#[test]
fn errors_and_states_display_like_go() {
    assert_eq!(StartError::Running.to_string(), "already running");
    assert_eq!(StartError::Closed.to_string(), "closed");
    let err: Box<dyn std::error::Error> = Box::new(StartError::Closed);
    assert_eq!(err.to_string(), "closed");
    let many = runcycle::Many::new();
    many.close();
    let closed: ClosedError = many.stop().unwrap_err();
    let closed: Box<dyn std::error::Error> = Box::new(closed);
    assert_eq!(closed.to_string(), "closed");
    let names: Vec<String> = [
        State::Created,
        State::Running,
        State::Stopped,
        State::Closed,
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    assert_eq!(names, ["created", "running", "stopped", "closed"]);
    let many = runcycle::Many::new();
    let _guard = many.start().unwrap();
    let timed_out = many
        .close()
        .wait_timeout(std::time::Duration::ZERO)
        .unwrap_err();
    let timed_out: Box<dyn std::error::Error> = Box::new(timed_out);
    assert_eq!(timed_out.to_string(), "timed out waiting for the instance");
}
