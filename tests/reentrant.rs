//! Re-entrant wakers (spec/README.md, "No foreign code under a lock"): a
//! waker registered on a run's context that calls back into the same
//! instance when the context is cancelled, for every call that can cancel a
//! context. Before the lock rule, the engine cancelled the token while
//! holding the instance's slot lock, and such a waker deadlocked on it.
//!
//! Each call runs on its own thread and must return within a generous bound
//! (a deadlock becomes a test failure, not a hung test run).
#![cfg(all(feature = "tokio", not(loom)))]

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

use runcycle::{CancellationToken, Group, Guard, Many, One, StartError, State};
use tokio_util::sync::WaitForCancellationFutureOwned;

/// Long enough for any machine; a deadlock never returns.
const BOUND: Duration = Duration::from_secs(20);

/// A waker that runs a callback when woken: a user executor that polls
/// again at once, inline, on the waking thread.
struct Reenter(Box<dyn Fn() + Send + Sync>);

impl Wake for Reenter {
    fn wake(self: Arc<Self>) {
        (self.0)();
    }
}

/// Registers `callback` as the waker of a future awaiting `ctx`'s
/// cancellation; the returned future must be kept alive.
fn on_cancel(
    ctx: WaitForCancellationFutureOwned,
    calls: &Arc<Mutex<usize>>,
    callback: impl Fn() + Send + Sync + 'static,
) -> Pin<Box<WaitForCancellationFutureOwned>> {
    let mut future = Box::pin(ctx);
    let calls = Arc::clone(calls);
    let waker = Waker::from(Arc::new(Reenter(Box::new(move || {
        callback();
        *calls.lock().unwrap() += 1;
    }))));
    assert!(future
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    future
}

/// Runs `call` on its own thread; fails if it does not return within BOUND.
fn returns(what: &str, call: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        call();
        let _ = tx.send(());
    });
    assert!(
        rx.recv_timeout(BOUND).is_ok(),
        "{what}: the call did not return (a re-entrant waker deadlocked)"
    );
}

/// Every call a callback makes on a `Many` from inside a waker.
fn poke_many(many: &Many) {
    let _ = many.state();
    let _ = many.context().is_cancelled();
    let _ = many.done().is_done();
    let _ = many
        .stop()
        .map(|stopping| (stopping.previous(), stopping.is_done()));
    let closing = many.close();
    let _ = (closing.previous(), closing.is_done());
    drop(many.start());
}

/// Every call a callback makes on a `One` from inside a waker.
fn poke_one(one: &One) {
    let _ = one.state();
    let _ = one.context().is_cancelled();
    let _ = one.done().is_done();
    let closing = one.close();
    let _ = (closing.previous(), closing.is_done());
    drop(one.start());
}

/// The ways to cancel a running `Many`'s context from outside.
const MANY_CALLS: [&str; 4] = ["stop", "close", "guard", "parent"];

fn cancel_many(call: &str, many: &Many, guard: Guard, parent: &CancellationToken) {
    match call {
        "stop" => drop(many.stop()),
        "close" => drop(many.close()),
        "guard" => guard.complete(),
        "parent" => parent.cancel(),
        _ => unreachable!(),
    }
}

#[test]
fn a_waker_on_a_many_context_may_call_back_into_the_many() {
    for call in MANY_CALLS {
        let parent = CancellationToken::new();
        let many = Many::with_parent(&parent);
        let guard = many.start().unwrap();
        let calls = Arc::new(Mutex::new(0));
        let inner = many.clone();
        let _keep = on_cancel(guard.context().cancelled_owned(), &calls, move || {
            poke_many(&inner);
        });
        let m = many.clone();
        let p = parent.clone();
        returns(call, move || cancel_many(call, &m, guard, &p));
        assert_eq!(*calls.lock().unwrap(), 1, "{call}: the waker ran once");
        assert!(many.context().is_cancelled(), "{call}");
    }
}

#[test]
fn a_waker_on_a_created_many_context_may_call_back_into_the_many() {
    for call in ["close", "parent"] {
        let parent = CancellationToken::new();
        let many = Many::with_parent(&parent);
        let calls = Arc::new(Mutex::new(0));
        let inner = many.clone();
        let _keep = on_cancel(many.context().cancelled_owned(), &calls, move || {
            poke_many(&inner);
        });
        let m = many.clone();
        let p = parent.clone();
        returns(call, move || match call {
            "close" => drop(m.close()),
            _ => p.cancel(),
        });
        assert_eq!(*calls.lock().unwrap(), 1, "{call}");
        assert_eq!(many.state(), State::Closed, "{call}");
    }
}

#[test]
fn a_waker_on_a_one_context_may_call_back_into_the_one() {
    for call in ["close", "guard", "parent"] {
        for started in [false, true] {
            if call == "guard" && !started {
                continue;
            }
            let parent = CancellationToken::new();
            let one = One::with_parent(&parent);
            let guard = started.then(|| one.start().unwrap());
            let calls = Arc::new(Mutex::new(0));
            let inner = one.clone();
            let _keep = on_cancel(one.context().cancelled_owned(), &calls, move || {
                poke_one(&inner);
            });
            let o = one.clone();
            let p = parent.clone();
            returns(call, move || match call {
                "close" => drop(o.close()),
                "guard" => drop(guard),
                _ => {
                    p.cancel();
                    drop(guard);
                }
            });
            assert_eq!(*calls.lock().unwrap(), 1, "{call}, started: {started}");
        }
    }
}

/// Dropping the last handle cancels the context too: the waker calls back
/// through the guard and a wait, which outlive the handles.
#[test]
fn a_waker_may_call_back_when_the_last_handle_is_dropped() {
    let many = Many::new();
    let guard = Arc::new(Mutex::new(Some(many.start().unwrap())));
    let done = many.done();
    let calls = Arc::new(Mutex::new(0));
    let g = Arc::clone(&guard);
    let ctx = g.lock().unwrap().as_ref().unwrap().context();
    let _keep = on_cancel(ctx.cancelled_owned(), &calls, move || {
        if let Some(guard) = g
            .try_lock()
            .ok()
            .and_then(|g| g.as_ref().map(Guard::context))
        {
            assert!(guard.is_cancelled());
        }
        let _ = done.is_done();
    });
    returns("last handle dropped", move || drop(many));
    assert_eq!(*calls.lock().unwrap(), 1);
    drop(guard.lock().unwrap().take());
}

#[test]
fn a_waker_on_a_task_context_may_call_back_into_the_task_and_group() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _enter = runtime.enter();
    for call in [
        "task.cancel",
        "task.abort",
        "task.abort_handle.abort",
        "group.cancel",
        "group.close",
        "group.abort_all",
        "group.blocking_shutdown",
    ] {
        let task = Arc::new(runcycle::spawn(|ctx| async move {
            ctx.cancelled().await;
            Ok::<(), ()>(())
        }));
        let group = Group::new();
        group
            .spawn(|ctx| async move { ctx.cancelled().await })
            .unwrap();
        let calls = Arc::new(Mutex::new(0));
        let ctx = if call.starts_with("task.") {
            task.context().cancelled_owned()
        } else {
            group.context().cancelled_owned()
        };
        let (task2, group2) = (Arc::clone(&task), group.clone());
        let _keep = on_cancel(ctx, &calls, move || {
            let _ = task2.context().is_cancelled();
            let _ = task2.is_finished();
            let _ = (task2.id(), task2.name(), format!("{task2:?}"));
            task2.cancel();
            let handle = task2.abort_handle();
            let _ = (handle.is_finished(), handle.id());
            task2.abort();
            handle.abort();
            let _ = group2.context().is_cancelled();
            let _ = group2.is_closed();
            let _ = group2.len();
            let _ = (group2.limit(), group2.is_empty(), format!("{group2:?}"));
            let _ = group2.try_join_next();
            group2.cancel();
            group2.abort_all();
        });
        let (task3, group3) = (Arc::clone(&task), group.clone());
        returns(call, move || match call {
            "task.cancel" => task3.cancel(),
            "task.abort" => task3.abort(),
            "task.abort_handle.abort" => task3.abort_handle().abort(),
            "group.cancel" => group3.cancel(),
            "group.abort_all" => group3.abort_all(),
            "group.blocking_shutdown" => {
                let _ = group3.blocking_shutdown(std::time::Duration::from_secs(60));
            }
            _ => {
                group3.close();
            }
        });
        assert_eq!(*calls.lock().unwrap(), 1, "{call}");
        task.cancel();
        group.cancel();
    }
}

/// The callback sees the instance in the state the call produced: the token
/// is cancelled after the new phase is published (spec section 8).
#[test]
fn a_waker_sees_the_new_state_when_the_context_is_cancelled() {
    let one = One::new();
    let calls = Arc::new(Mutex::new(0));
    let seen = Arc::new(Mutex::new(None));
    let (inner, s) = (one.clone(), Arc::clone(&seen));
    let mut keep = on_cancel(one.context().cancelled_owned(), &calls, move || {
        *s.lock().unwrap() = Some((inner.state(), inner.start().err(), inner.done().is_done()));
    });
    let o = one.clone();
    returns("close", move || drop(o.close()));
    assert_eq!(
        *seen.lock().unwrap(),
        Some((State::Closed, Some(StartError::Closed), true)),
        "the close is published when the waker runs"
    );
    assert_eq!(
        keep.as_mut().poll(&mut Context::from_waker(Waker::noop())),
        Poll::Ready(())
    );
}
