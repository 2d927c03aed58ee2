//! The check that refuses a blocking wait on a thread that drives a tokio
//! runtime (spec/README.md, section 12).
//!
//! A blocking wait (`Wait::wait`, `wait_timeout`, `wait_deadline`,
//! `GroupWait::wait`, `wait_timeout`) parks the thread. On a thread that
//! drives a tokio runtime (a worker, or the thread inside `Runtime::block_on`
//! or `#[tokio::main]`) that stops the runtime's tasks, and with them, often,
//! the very run the wait is for: a current-thread runtime, or a multi-thread
//! runtime with one worker, deadlocks. Tokio's own blocking calls
//! (`blocking_recv`, `blocking_lock`, `Handle::block_on`) refuse there with a
//! panic; these waits do the same, with a message that names the call and
//! the fix.
//!
//! # How the thread is recognized
//!
//! Tokio refuses when a private thread-local flag says the thread has
//! "entered" a runtime: set while a thread runs the scheduler or a
//! `block_on`, cleared inside `spawn_blocking` closures and `block_in_place`
//! sections, never set on other threads (a thread that only holds a
//! `Handle::enter` guard may block). Tokio 1.54 has no public way to read
//! that flag without side effects: `Handle::try_current()` is also `Ok` on
//! `spawn_blocking` threads and under `Handle::enter`, `task::try_id()` is
//! also `Some` in `spawn_blocking`, and every call that consults the flag
//! (`Handle::block_on`, `blocking_recv`, `block_in_place`) panics where it
//! is set, with tokio's message, which the panic hook would print before
//! ours (and `block_in_place` moves the worker's core to a new thread).
//!
//! The one public state that follows the flag is the cooperative-scheduling
//! budget (`tokio::task::coop`): tokio gives every task poll and every
//! `block_on` poll a finite budget (128 units, held in a `u8`), and runs
//! `spawn_blocking` closures and `block_in_place` sections, like any thread
//! outside tokio, with none ("unconstrained"). So: a thread with a current
//! runtime handle (every entered thread has one) whose budget is finite is
//! refused. `has_budget_remaining` only says whether units are left, so the
//! check takes units with `poll_proceed` until it says none are left (a
//! finite budget runs out within `u8::MAX + 1` steps, an unconstrained one
//! never does) and then gives them all back: the first unit's
//! `RestoreOnPending` is dropped last, without `made_progress`, and restores
//! the budget as it was; the later ones are committed, so they restore
//! nothing. The budget is unchanged when the check returns. (One trace
//! remains, on the refusing path only: with `--cfg tokio_unstable`, the step
//! that empties the budget counts one forced yield in the runtime's
//! `budget_forced_yield_count` metric.)
//!
//! It differs from tokio's flag in one case: a future wrapped in
//! `tokio::task::unconstrained` runs on an entered thread with no budget,
//! so a blocking wait inside it is not refused (and can deadlock, as before
//! this check). Tokio exposes nothing better; the tests in
//! `tests/blocking_in_runtime.rs` pin the cases where it agrees with tokio.
//!
//! Cost, and no allocation: on a thread with no runtime handle, one
//! `Handle::try_current()` (a thread-local read); on a thread with a handle
//! that may block (`spawn_blocking`, `block_in_place`, `Handle::enter`), the
//! full 257 budget steps, each a thread-local access. Measured once on the
//! 2-core development machine (release build, an ad-hoc loop over an already
//! resolved `Wait::wait`; `is_done()` takes 1.5 ns there): about 27 ns per
//! call on a plain thread and 0.7 to 0.9 µs on a `spawn_blocking` or
//! `Handle::enter` thread, little next to the park of a wait that has to
//! block. `poll_proceed` needs tokio 1.47 or newer.

/// Panics if the current thread drives a tokio runtime, naming `call`.
///
/// Applied by every blocking wait before it looks at its run, so that a
/// wait that happens to be resolved already is refused too (as tokio's
/// `blocking_recv` is): a test that blocks a runtime thread fails every time,
/// not only when the wait has to park.
#[cfg(feature = "tokio")]
#[track_caller]
pub(crate) fn assert_may_block(call: &str) {
    assert!(
        !drives_runtime(),
        "`{call}` cannot block a thread that drives a tokio runtime (a runtime worker, or \
         inside `Runtime::block_on` or `#[tokio::main]`): the run it waits for could never \
         end. `.await` the wait instead, or call it from `tokio::task::spawn_blocking`"
    );
}

/// Without the `tokio` feature the crate cannot ask tokio; the waits
/// document the deadlock instead (their `# Panics` sections).
#[cfg(not(feature = "tokio"))]
#[inline]
pub(crate) fn assert_may_block(_call: &str) {}

/// Whether the current thread is one where tokio refuses to block (see the
/// module doc for how this is decided and its one difference from tokio).
#[cfg(feature = "tokio")]
fn drives_runtime() -> bool {
    use core::task::{Context, Poll, Waker};
    use tokio::task::coop;

    // Every entered thread has a current handle; most threads that may
    // block have none, and need nothing more.
    if tokio::runtime::Handle::try_current().is_err() {
        return false;
    }
    if !coop::has_budget_remaining() {
        // An exhausted budget is a finite one.
        return true;
    }
    // `poll_proceed` registers the waker only when no budget is left, which
    // the check before every call rules out; the no-op waker is never used.
    let mut cx = Context::from_waker(Waker::noop());
    // Restores the budget as it was when it drops (no `made_progress`).
    let Poll::Ready(_restore) = coop::poll_proceed(&mut cx) else {
        return true;
    };
    for _ in 0..=u8::MAX {
        if !coop::has_budget_remaining() {
            return true;
        }
        match coop::poll_proceed(&mut cx) {
            // Committed: it restores nothing when dropped, `_restore` does.
            Poll::Ready(step) => step.made_progress(),
            Poll::Pending => return true,
        }
    }
    false
}
