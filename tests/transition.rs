//! `Transition`: what `stop()` and `close()` return (the state before the
//! call and a wait for the run's exit), and the `#[must_use]` and
//! `#[track_caller]` rules of the lifecycle calls.

#![cfg(not(loom))]
// A fire-and-forget `close()` must compile without a warning: this file
// denies unused results, so a `#[must_use]` on `close` or on `Transition`
// fails the build of this test.
#![deny(unused_must_use)]

use std::time::Duration;

use runcycle::{Many, One, State, TimedOut, Transition, Wait};

/// Generous bound that turns a hang into a failure.
const BOUND: Duration = Duration::from_secs(20);

#[test]
fn fire_and_forget_close_and_stop_compile_without_a_warning() {
    let one = One::new();
    one.close();
    assert_eq!(one.state(), State::Closed);
    let many = Many::new();
    let guard = many.start().unwrap();
    many.stop().unwrap();
    assert!(guard.context().is_cancelled());
    many.close();
    drop(guard);
    assert_eq!(many.state(), State::Closed);
}

#[test]
fn previous_is_the_state_before_the_call_for_every_public_state() {
    let many = Many::new();
    assert_eq!(many.stop().unwrap().previous(), State::Created);
    let guard = many.start().unwrap();
    assert_eq!(many.stop().unwrap().previous(), State::Running);
    assert_eq!(
        many.stop().unwrap().previous(),
        State::Running,
        "Stopping reads Running"
    );
    drop(guard);
    assert_eq!(many.stop().unwrap().previous(), State::Stopped);
    assert_eq!(many.close().previous(), State::Stopped);
    assert_eq!(many.close().previous(), State::Closed);

    let one = One::new();
    let guard = one.start().unwrap();
    assert_eq!(one.close().previous(), State::Running);
    assert_eq!(
        one.close().previous(),
        State::Running,
        "Closing reads Running"
    );
    drop(guard);
    assert_eq!(one.close().previous(), State::Closed);
}

#[test]
fn a_transition_waits_for_the_run_that_was_current_at_the_call() {
    let many = Many::new();
    let guard = many.start().unwrap();
    let stopping = many.stop().unwrap();
    let clone = stopping.clone();
    assert!(!stopping.is_done() && !clone.is_done());
    assert!(matches!(
        stopping.wait_timeout(Duration::from_millis(1)),
        Err(TimedOut { .. })
    ));
    let waiter = std::thread::spawn(move || clone.wait_timeout(BOUND));
    drop(guard);
    assert_eq!(waiter.join().unwrap(), Ok(()));
    assert!(stopping.is_done());
    // A later run does not make an ended transition pending again.
    let _second = many.start().unwrap();
    assert!(stopping.is_done());
    let wait: Wait = stopping.into_wait();
    assert!(wait.is_done());
}

#[test]
fn a_transition_is_a_future_on_any_executor() {
    let many = Many::new();
    let guard = many.start().unwrap();
    let closing = many.close();
    let waiter = std::thread::spawn(move || futures::executor::block_on(closing));
    drop(guard);
    waiter.join().unwrap();
    assert_eq!(many.state(), State::Closed);
}

#[test]
fn a_transition_debugs_as_its_previous_state_and_whether_it_is_done() {
    let many = Many::new();
    let guard = many.start().unwrap();
    let stopping = many.stop().unwrap();
    assert_eq!(
        format!("{stopping:?}"),
        "Transition { previous: Running, done: false }"
    );
    drop(guard);
    assert_eq!(
        format!("{stopping:?}"),
        "Transition { previous: Running, done: true }"
    );
}

/// The crate's types can be sent and shared (checked at compile time in
/// lib.rs too; here through the public paths).
#[test]
fn transition_is_send_sync_and_unpin() {
    fn check<T: Send + Sync + Unpin + 'static>() {}
    check::<Transition>();
}

/// `#[track_caller]`: a blocking wait refused on a runtime thread reports
/// the caller's line, not a line inside the crate.
#[cfg(feature = "tokio")]
#[test]
fn a_refused_blocking_wait_reports_the_callers_location() {
    use std::sync::{Arc, Mutex};

    let location: Arc<Mutex<Option<String>>> = Arc::default();
    let seen = Arc::clone(&location);
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if let Some(at) = info.location() {
            *seen.lock().unwrap() = Some(format!("{}:{}", at.file(), at.line()));
        }
    }));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let many = Many::new();
    let expected_line = line!() + 3;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(async {
            many.close().wait();
        });
    }));
    std::panic::set_hook(previous_hook);
    assert!(
        result.is_err(),
        "a blocking wait inside block_on must panic"
    );
    let at = location.lock().unwrap().clone().expect("the hook ran");
    assert_eq!(at, format!("tests/transition.rs:{expected_line}"));
}
