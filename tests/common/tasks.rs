//! Helpers of the task-side tests (`tests/model_task.rs`,
//! `tests/model_group.rs`, `tests/shutdown.rs`).

#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::panic::PanicHookInfo;
use std::pin::Pin;
use std::sync::Once;
use std::task::Poll;

use proptest::test_runner::TestCaseError;

/// Installs, once per test binary, a panic hook that stays silent for the
/// panics `expected` recognizes (the tests' planted panics, expected by the
/// thousand) and prints every other one.
pub fn quiet_panics(expected: fn(&PanicHookInfo<'_>) -> bool) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !expected(info) {
                previous(info);
            }
        }));
    });
}

/// Whether the panic's message (a `String` payload) starts with `mark`.
pub fn marked(info: &PanicHookInfo<'_>, mark: &str) -> bool {
    info.payload()
        .downcast_ref::<String>()
        .is_some_and(|m| m.starts_with(mark))
}

/// `e`'s reason, prefixed with where it happened.
pub fn at(place: &str, e: TestCaseError) -> TestCaseError {
    match e {
        TestCaseError::Fail(reason) => {
            TestCaseError::fail(format!("{place}: {}", reason.message()))
        }
        reject @ TestCaseError::Reject(_) => reject,
    }
}

/// Polls `future` once with the caller's waker.
pub async fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *future).poll(cx))).await
}
