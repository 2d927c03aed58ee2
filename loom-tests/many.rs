//! Loom models of `Many`: every pair of concurrent operations, restart
//! cycles, and the three-thread combinations (see `README.md` in this folder).
//!
//! The `closed_*` models (written by hand, not as scripts) check the closed
//! wait, `Many::closed` (engine invariant E9): a `ClosedWait` made while the
//! instance is not closed races each way of entering `Closed`: `close()`
//! from Stopped (`closed_vs_close_stopped`, and blocking,
//! `closed_blocking_vs_close_stopped`), the last handle dropped
//! (`closed_vs_last_drop`), the parent's cancellation
//! (`closed_vs_parent_cancel`), a close that waits for the run in
//! progress to complete (`closed_vs_close_running`), and a restart then a
//! close (`closed_vs_restart_close`: a new run, which clears the run
//! waiters' bit, must not matter to the closed wait). The async waits are
//! polled by hand with a counting waker, as an executor would: again only
//! when woken (`loom::future::block_on` may wake spuriously, which would
//! hide a lost wake-up). Once the closing thread is joined the instance is
//! Closed, so a wait still pending must have been woken by then. The
//! blocking wait parks for real: a lost wake-up is a loom deadlock.

#![cfg(loom)]

mod common;

use std::future::Future;
use std::sync::atomic::Ordering;
use std::task::{Context as TaskContext, Wake, Waker};

use common::models::*;
use common::script::run;
use loom::thread;
use runcycle::{CancellationToken, ClosedWait, Many, State};

#[test]
fn start_start() {
    run(&MANY_START_START);
}

#[test]
fn start_close() {
    run(&MANY_START_CLOSE);
}

#[test]
fn complete_close() {
    run(&MANY_COMPLETE_CLOSE);
}

#[test]
fn complete_stop() {
    run(&MANY_COMPLETE_STOP);
}

#[test]
fn complete_cancel() {
    run(&MANY_COMPLETE_CANCEL);
}

#[test]
fn stop_close() {
    run(&MANY_STOP_CLOSE);
}

#[test]
fn stop_stop() {
    run(&MANY_STOP_STOP);
}

#[test]
fn close_close() {
    run(&MANY_CLOSE_CLOSE);
}

#[test]
fn stop_forget_start() {
    run(&MANY_STOP_FORGET_START);
}

#[test]
fn parent_cancel_start() {
    run(&MANY_PARENT_CANCEL_START);
}

#[test]
fn parent_cancel_complete() {
    run(&MANY_PARENT_CANCEL_COMPLETE);
}

#[test]
fn parent_cancel_stop() {
    run(&MANY_PARENT_CANCEL_STOP);
}

#[test]
fn parent_cancel_close() {
    run(&MANY_PARENT_CANCEL_CLOSE);
}

#[test]
fn parent_cancel_context() {
    run(&MANY_PARENT_CANCEL_CONTEXT);
}

#[test]
fn parent_seen_start() {
    run(&MANY_PARENT_SEEN_START);
}

#[test]
fn first_read_parent_cancel() {
    run(&MANY_FIRST_READ_PARENT_CANCEL);
}

#[test]
fn done_parent_cancel() {
    run(&MANY_DONE_PARENT_CANCEL);
}

#[test]
fn first_reads_after_parent_cancel() {
    run(&MANY_FIRST_READS_AFTER_PARENT_CANCEL);
}

#[test]
fn parent_cancel_twice() {
    run(&MANY_PARENT_CANCEL_TWICE);
}

#[test]
fn context_close() {
    run(&MANY_CONTEXT_CLOSE);
}

#[test]
fn context_stop() {
    run(&MANY_CONTEXT_STOP);
}

#[test]
fn context_restart() {
    run(&MANY_CONTEXT_RESTART);
}

#[test]
fn done_start() {
    run(&MANY_DONE_START);
}

#[test]
fn done_stop() {
    run(&MANY_DONE_STOP);
}

#[test]
fn done_done() {
    run(&MANY_DONE_DONE);
}

#[test]
fn restart_cycles() {
    run(&MANY_RESTART_CYCLES);
}

#[test]
fn restart_stop() {
    run(&MANY_RESTART_STOP);
}

#[test]
fn last_handle_complete() {
    run(&MANY_LAST_HANDLE_COMPLETE);
}

#[test]
fn last_handle_wait() {
    run(&MANY_LAST_HANDLE_WAIT);
}

#[test]
fn last_handle_parent_cancel() {
    run(&MANY_LAST_HANDLE_PARENT_CANCEL);
}

#[test]
fn observe() {
    run(&MANY_OBSERVE);
}

#[test]
fn start_complete_close() {
    run(&MANY_START_COMPLETE_CLOSE);
}

#[test]
fn stop_close_restart() {
    run(&MANY_STOP_CLOSE_RESTART);
}

#[test]
#[ignore = "deep model (about 250 000 interleavings): run with --include-ignored"]
fn stop_close_restart_waits() {
    run(&MANY_STOP_CLOSE_RESTART_WAITS);
}

/// Counts the wake-ups of a future polled by hand.
struct Wakes(loom::sync::atomic::AtomicUsize);

impl Wake for Wakes {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Polls `closed` by hand while `closer` runs: once, then, after joining
/// `closer` (which has made the instance Closed), again only when woken;
/// it must have been woken, and then be ready. Also checks what the
/// instance says afterwards: Closed, with `run_number` `runs`.
fn poll_until_closed(many: &Many, closed: ClosedWait, closer: thread::JoinHandle<()>, runs: u64) {
    let wakes = std::sync::Arc::new(Wakes(loom::sync::atomic::AtomicUsize::new(0)));
    let waker = Waker::from(std::sync::Arc::clone(&wakes));
    let mut cx = TaskContext::from_waker(&waker);
    let woken = || wakes.0.load(Ordering::SeqCst);
    let mut closed = Box::pin(closed);
    let mut seen = woken();
    let mut done = closed.as_mut().poll(&mut cx).is_ready();
    closer.join().unwrap();
    while !done {
        assert_ne!(woken(), seen, "the close did not wake the closed wait");
        seen = woken();
        done = closed.as_mut().poll(&mut cx).is_ready();
    }
    assert!(closed.is_done());
    assert_eq!(many.state(), State::Closed);
    assert_eq!(many.run_number(), runs);
}

/// A closed wait on a Stopped instance races `close()`.
#[test]
fn closed_vs_close_stopped() {
    common::model("loom_many::closed_vs_close_stopped", None, || {
        let many = Many::new();
        drop(many.start().unwrap());
        let closed = many.closed();
        let closer = {
            let many = many.clone();
            thread::spawn(move || drop(many.close()))
        };
        poll_until_closed(&many, closed, closer, 1);
    });
}

/// The same with the blocking wait, which parks the loom thread.
#[test]
fn closed_blocking_vs_close_stopped() {
    common::model("loom_many::closed_blocking_vs_close_stopped", None, || {
        let many = Many::new();
        drop(many.start().unwrap());
        let closed = many.closed();
        let closer = {
            let many = many.clone();
            thread::spawn(move || drop(many.close()))
        };
        closed.wait();
        assert_eq!(many.state(), State::Closed);
        closer.join().unwrap();
    });
}

/// A closed wait on a Stopped instance races the drop of its last handle
/// (the wait is not a handle: it does not keep the instance open).
#[test]
fn closed_vs_last_drop() {
    common::model("loom_many::closed_vs_last_drop", None, || {
        let many = Many::new();
        drop(many.start().unwrap());
        let closed = many.closed();
        let observer = closed.clone();
        let dropper = thread::spawn(move || drop(many));
        let wakes = std::sync::Arc::new(Wakes(loom::sync::atomic::AtomicUsize::new(0)));
        let waker = Waker::from(std::sync::Arc::clone(&wakes));
        let mut cx = TaskContext::from_waker(&waker);
        let woken = || wakes.0.load(Ordering::SeqCst);
        let mut closed = Box::pin(closed);
        let mut seen = woken();
        let mut done = closed.as_mut().poll(&mut cx).is_ready();
        dropper.join().unwrap();
        while !done {
            assert_ne!(woken(), seen, "the last drop did not wake the closed wait");
            seen = woken();
            done = closed.as_mut().poll(&mut cx).is_ready();
        }
        assert!(observer.is_done());
    });
}

/// A closed wait on a Stopped instance races the parent's cancellation.
#[test]
fn closed_vs_parent_cancel() {
    common::model("loom_many::closed_vs_parent_cancel", None, || {
        let parent = CancellationToken::new();
        let many = Many::with_parent(&parent);
        drop(many.start().unwrap());
        let closed = many.closed();
        let canceller = thread::spawn(move || parent.cancel());
        poll_until_closed(&many, closed, canceller, 1);
    });
}

/// A closed wait made while a run is in progress: a close (Closing) races
/// the run's completion; the instance is Closed, and the wait resolves,
/// only once both are done.
#[test]
fn closed_vs_close_running() {
    common::model("loom_many::closed_vs_close_running", None, || {
        let many = Many::new();
        let guard = many.start().unwrap();
        let closed = many.closed();
        let completer = thread::spawn(move || drop(guard));
        drop(many.close());
        poll_until_closed(&many, closed, completer, 1);
    });
}

/// A closed wait on a Stopped instance while another thread restarts it
/// (a new run, which clears the run waiters' bit `W`), ends that run and
/// closes it: only the close wakes the wait for good.
#[test]
fn closed_vs_restart_close() {
    common::model("loom_many::closed_vs_restart_close", None, || {
        let many = Many::new();
        drop(many.start().unwrap());
        let closed = many.closed();
        let restarter = {
            let many = many.clone();
            thread::spawn(move || {
                drop(many.start().unwrap());
                drop(many.close());
            })
        };
        poll_until_closed(&many, closed, restarter, 2);
    });
}
