//! `Guard`: completion is signalled exactly once, by `stop` or by drop,
//! including while a panic unwinds.

#![cfg(not(loom))]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::thread;

use runcycle::{Many, One, State};

#[test]
fn a_guard_dropped_by_a_panic_signals_completion() {
    let many = Many::new();
    let done = many.done();
    let ctx = many.context();
    let result = catch_unwind(AssertUnwindSafe(|| {
        let _guard = many.start().unwrap();
        panic!("the run failed");
    }));
    assert!(result.is_err());
    assert_eq!(many.state(), State::Stopped);
    assert!(ctx.is_cancelled());
    assert!(done.is_done());
    // The instance is usable again.
    drop(many.start().unwrap());
}

#[test]
fn a_guard_dropped_by_a_panicking_thread_signals_completion() {
    let one = One::new();
    let guard = one.start().unwrap();
    let worker = thread::spawn(move || {
        let _guard = guard;
        panic!("worker panicked");
    });
    assert!(worker.join().is_err());
    assert_eq!(one.state(), State::Closed);
    assert!(one.done().is_done());
}

#[test]
fn complete_and_drop_are_the_same_single_signal() {
    let many = Many::new();
    let first = many.start().unwrap();
    first.complete();
    assert_eq!(many.state(), State::Stopped);
    let second = many.start().unwrap();
    // Nothing left of the first run can end the second.
    assert_eq!(many.state(), State::Running);
    assert!(!second.context().is_cancelled());
    drop(second);
    assert_eq!(many.state(), State::Stopped);
}

#[test]
fn the_guard_context_is_the_run_context() {
    let many = Many::new();
    let guard = many.start().unwrap();
    let from_guard = guard.context();
    let from_instance = many.context();
    assert!(!from_guard.is_cancelled());
    many.stop().unwrap();
    assert!(from_guard.is_cancelled() && from_instance.is_cancelled());
    let debug = format!("{guard:?}");
    assert!(
        debug.starts_with("Guard") && debug.contains("run: 1"),
        "{debug}"
    );
}

#[test]
fn a_guard_can_complete_on_another_thread() {
    let one = One::new();
    let guard = one.start().unwrap();
    thread::spawn(move || guard.complete()).join().unwrap();
    assert_eq!(one.state(), State::Closed);
}
