//! Loom models of the `Group`'s lock-free protocols (`src/task/group/`,
//! invariants 1-4 of `shared.rs` and the "no abort is missed" argument of
//! `task.rs`). A tokio runtime cannot run under loom, so these drive the
//! group's own parts through `runcycle::__LoomGroup` (compiled only with
//! `--cfg loom`): a spawn's acceptance and a task's end on loom threads,
//! the real `GroupWait` (as a future under `loom::future::block_on`, and
//! blocking), and the real task future that watches the abort epoch.
//!
//! * `close_vs_spawn`: a close and a spawn race; the close's wait returns
//!   only after every task it did not refuse has ended (G5, invariant 1).
//! * `ends_vs_wait_async`, `ends_vs_wait_blocking`: two tasks end on two
//!   threads while a wait registers; the wait is woken (a missed
//!   notification is a loom deadlock) and sees the failure recorded by one
//!   of them (invariants 2 and 3: the `listening` count lets an end skip
//!   the notification only when no wait can miss it).
//! * `abort_vs_pending_task`: `abort_all` races a task that is about to
//!   park on a body that never ends; the task is woken and ends aborted
//!   (invariant 4).
//! * `old_abort_then_new_abort`: an `abort_all` races a spawn's acceptance
//!   (so it may or may not cover the task) and a second `abort_all` comes
//!   after; the second abort wakes the task, which ends aborted, whatever
//!   the first one's notification did to its listener (task.rs, the "old
//!   abort" case). The task is polled by hand with a counting waker.
//!
//! Plants (loom-tests/plant.sh), each caught: `group-no-fence` (no fence
//! between a task's decrement and its read of `listening`) and
//! `group-no-recheck` (the wait does not re-read the word after it
//! registers) by `ends_vs_wait_async`; `group-abort-no-recheck` (the task
//! does not re-read the epoch after it listens) by `abort_vs_pending_task`;
//! `group-inexact-as-exact` (every abort listener taken as exact) by
//! `old_abort_then_new_abort`; `group-accept-split` (the closed check and
//! the count as two steps) by `close_vs_spawn`.
//!
//! Found by this file: the first version of invariant 3 used `SeqCst`
//! accesses, which loom models as `AcqRel`; it reported a lost wake-up in
//! `ends_vs_wait_*` (a false alarm under C11's `SeqCst`, but unprovable
//! here). The protocol now uses `SeqCst` fences, which loom checks exactly.

#![cfg(all(loom, feature = "tokio"))]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context as TaskContext, Poll};

use loom::future::block_on;
use loom::sync::atomic::AtomicBool;
use loom::sync::Arc;
use loom::thread;
use runcycle::__LoomGroup as Group;

/// The preemption bound of the three-thread models (`ends_vs_wait_*`):
/// with 3 the whole file runs in about 5 s in release.
const PREEMPTIONS: usize = 3;

/// A body that never ends, and says whether it was polled.
struct Forever(Arc<AtomicBool>);

impl Future for Forever {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut TaskContext<'_>) -> Poll<()> {
        self.0.store(true, Ordering::Release);
        Poll::Pending
    }
}

#[test]
fn close_vs_spawn() {
    loom::model(|| {
        let group = Group::default();
        let ended = Arc::new(AtomicBool::new(false));
        let spawner = {
            let group = group.clone();
            let ended = Arc::clone(&ended);
            thread::spawn(move || {
                let accepted = group.accept().is_some();
                if accepted {
                    ended.store(true, Ordering::Relaxed);
                    group.end_ok();
                }
                accepted
            })
        };
        group.close();
        block_on(group.wait()).unwrap();
        // What the wait saw: the task's end, if the task was accepted.
        let seen = ended.load(Ordering::Relaxed);
        let accepted = spawner.join().unwrap();
        assert!(
            !accepted || seen,
            "the close's wait missed an accepted task"
        );
        assert!(group.accept().is_none(), "accepted after the close");
        assert_eq!(group.tasks(), 0);
    });
}

/// Two accepted tasks end on two threads, one with an error, while `wait`
/// registers and sleeps.
fn ends_vs_wait(blocking: bool) {
    let mut builder = loom::model::Builder::new();
    // Three threads and event-listener's lock: bounded so the model runs
    // in seconds (loom-tests/README.md, "Bounds").
    builder.preemption_bound = Some(PREEMPTIONS);
    builder.check(move || {
        let group = Group::default();
        group.accept().unwrap();
        group.accept().unwrap();
        let ok = {
            let group = group.clone();
            thread::spawn(move || group.end_ok())
        };
        let failed = {
            let group = group.clone();
            thread::spawn(move || group.end_failed())
        };
        let report = if blocking {
            group.wait().wait()
        } else {
            block_on(group.wait())
        };
        assert_eq!(group.tasks(), 0, "the wait returned with a task left");
        let report = report.expect_err("the failure was recorded before the end");
        assert_eq!(report.failures().len(), 1);
        assert!(group.is_cancelled(), "a failure cancels before the end");
        ok.join().unwrap();
        failed.join().unwrap();
    });
}

#[test]
fn ends_vs_wait_async() {
    ends_vs_wait(false);
}

#[test]
fn ends_vs_wait_blocking() {
    ends_vs_wait(true);
}

#[test]
fn abort_vs_pending_task() {
    loom::model(|| {
        let group = Group::default();
        let epoch = group.accept().unwrap();
        let polled = Arc::new(AtomicBool::new(false));
        let task = {
            let group = group.clone();
            let polled = Arc::clone(&polled);
            thread::spawn(move || block_on(group.task(epoch, move |_ctx| Forever(polled))))
        };
        group.abort_all();
        task.join().unwrap();
        assert_eq!(group.tasks(), 0);
        assert_eq!(group.failures(), 1, "the task is reported aborted");
        assert!(group.is_cancelled(), "abort_all cancels the context");
        let _ = polled.load(Ordering::Acquire); // polled or not: both are fine
    });
}

/// Counts the wake-ups of a task polled by hand.
struct Wakes(loom::sync::atomic::AtomicUsize);

impl std::task::Wake for Wakes {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// The "old abort" case (task.rs module doc): an `abort_all` races the
/// task's acceptance (it may bump the epoch before the task reads it and
/// notify after the task listened), then a second `abort_all` comes. The
/// task is polled by hand, as an executor would: again whenever it was
/// woken, and never otherwise (`loom::future::block_on` may wake
/// spuriously, which would hide a task the second abort forgot to wake).
/// After the second abort the task must be woken, and then end aborted.
#[test]
fn old_abort_then_new_abort() {
    loom::model(|| {
        let group = Group::default();
        let first = {
            let group = group.clone();
            thread::spawn(move || group.abort_all())
        };
        let epoch = group.accept().unwrap();
        let wakes = std::sync::Arc::new(Wakes(loom::sync::atomic::AtomicUsize::new(0)));
        let waker = std::task::Waker::from(std::sync::Arc::clone(&wakes));
        let mut cx = TaskContext::from_waker(&waker);
        let woken = || wakes.0.load(Ordering::SeqCst);
        let mut task =
            Box::pin(group.task(epoch, |_ctx| Forever(Arc::new(AtomicBool::new(false)))));
        let mut seen = woken();
        let mut done = task.as_mut().poll(&mut cx).is_ready();
        first.join().unwrap();
        // Re-poll while woken (by the first abort's notification, say).
        while !done && woken() != seen {
            seen = woken();
            done = task.as_mut().poll(&mut cx).is_ready();
        }
        group.abort_all();
        while !done {
            assert_ne!(woken(), seen, "the second abort did not wake the task");
            seen = woken();
            done = task.as_mut().poll(&mut cx).is_ready();
        }
        assert_eq!(group.tasks(), 0);
        assert_eq!(group.failures(), 1);
    });
}
