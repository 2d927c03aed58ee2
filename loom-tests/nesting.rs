//! Loom models of parent propagation through nested instances (engine
//! invariant E7, spec/README.md section 7, "Propagation"): a cancellation
//! reaches every level through the per-thread work list, not through one
//! nested call per level, and the thread that cancels the root sees every
//! level closed when its `cancel()` returns (eagerness), while other threads
//! race it with calls on the inner levels.
//!
//! Plant `propagation-drops-queue` (the outermost firing does not drain the
//! work list: only the first level is closed) is caught by `nested_cancel`.

#![cfg(loom)]

use loom::thread;
use runcycle::{Many, One, State};
use tokio_util::sync::CancellationToken;

/// root token -> Many `a` -> Many `b` (a's context) -> One `c` (b's
/// context): cancelling the root closes all three before `cancel()`
/// returns, whatever another thread does on `c` meanwhile.
#[test]
fn nested_cancel() {
    loom::model(|| {
        let root = CancellationToken::new();
        let a = Many::with_parent(&root);
        let b = Many::with_parent(&a.context());
        let c = One::with_parent(&b.context());
        let c2 = c.clone();
        let racer = thread::spawn(move || {
            // A start on the innermost level races the propagation: either
            // it runs first (and the run is then asked to close) or it is
            // refused.
            let guard = c2.start().ok();
            let ctx = guard.as_ref().map(runcycle::Guard::context);
            drop(guard);
            if let Some(ctx) = ctx {
                assert!(ctx.is_cancelled(), "the run's context after its end");
            }
        });
        root.cancel();
        assert_eq!(a.state(), State::Closed);
        assert_eq!(b.state(), State::Closed);
        // `c` is Closed, or Running until the racer's guard drops.
        assert_ne!(
            c.state(),
            State::Created,
            "the innermost level was not reached"
        );
        assert!(c.start().is_err());
        racer.join().unwrap();
        assert_eq!(c.state(), State::Closed);
        assert!(c.context().is_cancelled());
    });
}

/// Two threads cancel two roots whose chains meet in one instance: each
/// thread's work list is its own, and the shared level is closed once.
#[test]
fn two_roots_two_threads() {
    loom::model(|| {
        let r1 = CancellationToken::new();
        let r2 = CancellationToken::new();
        let a = Many::with_parent(&r1);
        let b = Many::with_parent(&r2);
        let a_inner = One::with_parent(&a.context());
        let b_inner = One::with_parent(&b.context());
        let t = thread::spawn(move || {
            r2.cancel();
            assert_eq!(b_inner.state(), State::Closed);
        });
        r1.cancel();
        assert_eq!(a_inner.state(), State::Closed);
        t.join().unwrap();
        assert_eq!(b.state(), State::Closed);
    });
}
