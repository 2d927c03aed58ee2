//! Loom models of the contract between a run's context and the state word
//! (spec/README.md, sections 7 and 8):
//!
//! * **S1, never ahead.** A run's context is cancelled only after the state
//!   word has published a transition whose reads say "context cancelled"
//!   for that run (Running with a stop or close requested, Stopped, Closed)
//!   or a later run. A thread that sees a context cancelled and then reads
//!   the state sees such a phase.
//! * **S2, the lag window.** A cancelling transition publishes the phase
//!   first, then cancels the token (outside any lock), before the call
//!   returns and before it wakes waiters. In between, another thread can
//!   read the new phase while a context it obtained earlier is not cancelled
//!   yet.
//! * **S3.** `context()` (and `Guard::context()`) called when the state shows
//!   a phase whose reads say cancelled returns a cancelled context, even in
//!   the window; and it first applies a pending parent cancellation, so a
//!   `context()` made after seeing `parent.is_cancelled()` is cancelled.
//! * **S4.** Once the call that made the transition has returned (in
//!   happens-before order), every context of that run is cancelled; a waiter
//!   woken by the completion sees its context cancelled.
//!
//! Each model asserts S1, S3 and S4 on every interleaving it explores. The
//! ignored `window` model states S2's "no less" (some interleaving sees the
//! window), which loom cannot show (see its doc comment). Only the methods
//! every context type has are used (`is_cancelled`, `child_token`), and no
//! context type is named.
//!
//! What each reader expects once the racing transition is published (the
//! state it reads, what `start()` answers) is the spec's, looked up in the
//! oracle of `tests/common/spec.rs`; the models share one skeleton (two
//! threads, each with its own handle, joined in order).
//!
//! What the public API cannot show: `Stopping` and `Closing`
//! read as `Running` in `state()`, so S1 for them is checked through what a
//! later call returns: `start()` is refused with `Closed` once a close is
//! requested (and with `Running` before), and a stop that cancelled the
//! context a run saw must find the run still running.

#![cfg(loom)]

mod common;

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{Acquire, Release, SeqCst};
use std::task::{Context, Wake, Waker};

use loom::thread;
use runcycle::{Many, One, StartError, State};
use tokio_util::sync::CancellationToken;

use common::script::Inst;
use common::spec::{Cell, Event, Kind, Phase};
use common::{cell, model, outcome, public};

/// `start()` used as a read: refused with `Running` while a run is current
/// and not asked to close, with `Closed` once a close is requested. (Every
/// model below calls it only while a run is current or the instance closed,
/// so it never starts anything.)
fn refusal<G>(res: Result<G, StartError>) -> StartError {
    match res {
        Ok(_) => panic!("model bug: the probing start() started a run"),
        Err(e) => e,
    }
}

/// Learns that a context was cancelled the way async code does, from a
/// waker: the waker of a child token's `cancelled_owned()` future sets a
/// loom atomic. Loom cannot see the synchronization inside the token (a std
/// mutex in tokio-util), so after `is_cancelled()` returned true it would
/// let a load of the state word return a value older than the cancelling
/// thread's swap, which no real execution can do; the waker runs in the
/// cancelling thread, inside its `cancel()`, and its Release store gives
/// loom that happens-before edge.
struct Seen {
    flag: std::sync::Arc<Flag>,
    // Keeps the registration alive.
    _future: Pin<Box<dyn Future<Output = ()> + Send>>,
}

struct Flag(loom::sync::atomic::AtomicBool);

impl Wake for Flag {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        // Release: pairs with the Acquire load in `Seen::cancelled`.
        self.0.store(true, Release);
    }
}

impl Seen {
    /// Watches `token` (a child token of the context to watch).
    fn new(token: CancellationToken) -> Seen {
        let flag = std::sync::Arc::new(Flag(loom::sync::atomic::AtomicBool::new(false)));
        let mut future: Pin<Box<dyn Future<Output = ()> + Send>> =
            Box::pin(token.cancelled_owned());
        let waker = Waker::from(std::sync::Arc::clone(&flag));
        if future
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_ready()
        {
            flag.0.store(true, Release);
        }
        Seen {
            flag,
            _future: future,
        }
    }

    /// Whether the waker has run: the context is cancelled, and this thread
    /// has synchronized with the thread that cancelled it.
    fn cancelled(&self) -> bool {
        self.flag.0.load(Acquire)
    }
}

// ---------------------------------------------------------------------------
// The skeleton every model shares
// ---------------------------------------------------------------------------

/// Runs the model `name` of this file on every interleaving (no preemption
/// bound: each model has two threads and a few calls).
fn exhaustive(name: &str, f: impl Fn() + Sync + Send + 'static) {
    model(&format!("loom_context::{name}"), None, f);
}

/// Spawns a loom thread that runs `f` on a handle of its own to `inst`
/// (cloned before the spawn).
fn with<I, T>(inst: &I, f: impl FnOnce(I) -> T + Send + 'static) -> thread::JoinHandle<T>
where
    I: Clone + Send + 'static,
    T: Send + 'static,
{
    let inst = inst.clone();
    thread::spawn(move || f(inst))
}

/// Joins the model's two threads, the first first; returns what they
/// returned.
fn join<A, B>(first: thread::JoinHandle<A>, second: thread::JoinHandle<B>) -> (A, B) {
    (first.join().unwrap(), second.join().unwrap())
}

/// What `state()` reads once `event` happened in `phase`, as the spec says
/// (its "next" cell, then the reads of that state).
fn state_after(kind: Kind, phase: Phase, event: Event) -> State {
    public(spec_cell(kind, phase, event).next)
}

/// What `start()` answers once `event` happened in `phase` (the spec's
/// start row of the state it leads to); the models use `start()` as a read
/// only where it is refused.
fn refusal_after(kind: Kind, phase: Phase, event: Event) -> StartError {
    let next = spec_cell(kind, phase, event).next;
    match outcome(spec_cell(kind, next, Event::Start).returns) {
        Ok(()) => panic!("model bug: start() in {} would start a run", next.name()),
        Err(e) => e,
    }
}

fn spec_cell(kind: Kind, phase: Phase, event: Event) -> Cell {
    cell(kind, phase, event).unwrap_or_else(|| {
        panic!(
            "spec: no row for {} {} {}",
            kind.name(),
            phase.name(),
            event.name()
        )
    })
}

/// The thread that makes the transition: makes a context of the current
/// run, then `call`, which returns the previous state (it must be `prev`)
/// and whatever must outlive the check (a wait); once the call returned,
/// the context is cancelled (S4).
fn caller<I: Inst, W: Send + 'static>(
    inst: &I,
    prev: State,
    what: &'static str,
    call: fn(&I) -> (State, W),
) -> thread::JoinHandle<()> {
    with(inst, move |inst| {
        let mine = inst.context();
        let (was, keep) = call(&inst);
        assert_eq!(was, prev, "{what}: previous state");
        assert!(mine(), "S4: {what} returned, context live");
        drop(keep);
    })
}

/// The reader of an S1/S3 model: whether `seen`'s context was cancelled,
/// then `probe` (a read of the phase): a context seen cancelled means the
/// probe reads `after`, what the racing transition publishes (S1). Then it
/// probes again and makes a context: if the probe read `after`, that context
/// is cancelled (S3). Returns `ctx` (the context `seen` watches) for the S4
/// check after the join.
fn reader<I, P, T>(
    inst: &I,
    seen: Seen,
    ctx: T,
    probe: fn(&I) -> P,
    after: P,
    what: &'static str,
) -> thread::JoinHandle<T>
where
    I: Inst,
    P: PartialEq + std::fmt::Debug + Send + 'static,
    T: Send + 'static,
{
    with(inst, move |inst| {
        let cancelled = seen.cancelled();
        let read = probe(&inst);
        if cancelled {
            assert_eq!(read, after, "S1: context cancelled ahead of {what}");
        }
        let read = probe(&inst);
        let fresh = inst.context();
        if read == after {
            assert!(fresh(), "S3: context() live after {what}");
        }
        ctx
    })
}

/// `start()` as a read (see [`refusal`]).
fn probe_start<I: Inst>(inst: &I) -> StartError {
    refusal(inst.start())
}

// ---------------------------------------------------------------------------
// The models
// ---------------------------------------------------------------------------

/// S1 and S3 for One in `Created`: a fire-and-forget `close()` (Go's
/// `Cancel`) against a reader of a context
/// made before, and a reader that makes one.
#[test]
fn one_created_cancel() {
    exhaustive("one_created_cancel", || {
        let one = One::new();
        let ctx = one.context();
        let seen = Seen::new(ctx.child_token());
        let canceller = caller(&one, State::Created, "close()", |one| {
            (one.close().previous(), ())
        });
        let closed = state_after(Kind::One, Phase::Created, Event::Close);
        let reader = reader(&one, seen, ctx, One::state, closed, "the close");
        let ((), ctx) = join(canceller, reader);
        assert!(
            ctx.is_cancelled(),
            "S4: context live after the cancel returned"
        );
    });
}

/// S1 and S3 for One while `Running`: a fire-and-forget `close()` (which
/// requests the close)
/// against a reader that probes the phase with `start()`.
#[test]
fn one_running_cancel() {
    exhaustive("one_running_cancel", || {
        let one = One::new();
        let guard = one.start().unwrap();
        let ctx = guard.context();
        let seen = Seen::new(ctx.child_token());
        let canceller = caller(&one, State::Running, "close()", |one| {
            (one.close().previous(), ())
        });
        let refused = refusal_after(Kind::One, Phase::Running, Event::Close);
        let reader = reader(&one, seen, ctx, probe_start, refused, "the close");
        let ((), ctx) = join(canceller, reader);
        assert!(
            ctx.is_cancelled(),
            "S4: context live after the cancel returned"
        );
        drop(guard);
    });
}

/// S1 and S3 for Many: the completion against a reader of the state, of a
/// done wait and of the context (made before, and made after the read).
#[test]
fn many_complete() {
    exhaustive("many_complete", || {
        let many = Many::new();
        let guard = many.start().unwrap();
        let ctx = guard.context();
        let seen = Seen::new(ctx.child_token());
        let done = many.done();
        let stopped = state_after(Kind::Many, Phase::Running, Event::Complete);
        let completer = thread::spawn(move || drop(guard));
        let reader = with(&many, move |many| {
            let cancelled = seen.cancelled();
            let state = many.state();
            let ended = done.is_done();
            if cancelled {
                assert_eq!(state, stopped, "S1: context cancelled ahead of {stopped:?}");
                assert!(ended, "S1: context cancelled ahead of done()");
            }
            let state = many.state();
            let fresh = many.context();
            if state == stopped {
                assert!(fresh.is_cancelled(), "S3: context() live in {stopped:?}");
            }
            ctx
        });
        let ((), ctx) = join(completer, reader);
        assert!(ctx.is_cancelled(), "S4: context live after the completion");
        assert!(
            many.context().is_cancelled(),
            "S3: context() live in {stopped:?}"
        );
    });
}

/// S1 and S3 for Many: `close()` of a running instance against a reader
/// that probes the phase with `start()`.
#[test]
fn many_close() {
    exhaustive("many_close", || {
        let many = Many::new();
        let guard = many.start().unwrap();
        let ctx = guard.context();
        let seen = Seen::new(ctx.child_token());
        let closer = caller(&many, State::Running, "close()", |many| {
            let closing = many.close();
            (closing.previous(), closing)
        });
        let refused = refusal_after(Kind::Many, Phase::Running, Event::Close);
        let reader = reader(&many, seen, ctx, probe_start, refused, "the close");
        let ((), ctx) = join(closer, reader);
        assert!(
            ctx.is_cancelled(),
            "S4: context live after the close returned"
        );
        drop(guard);
    });
}

/// S1 for a stop, through its consequence: the run's body sees its context
/// cancelled and ends; the stop that cancelled it must then have found the
/// run still running (`Stopping` reads as `Running`, so no read can
/// tell it apart directly). S4 for the stopper.
#[test]
fn many_stop() {
    exhaustive("many_stop", || {
        let many = Many::new();
        let guard = many.start().unwrap();
        let ctx = guard.context();
        let stopper = with(&many, |many| {
            let mine = many.context();
            let stopping = many.stop().unwrap();
            let prev = stopping.previous();
            if prev == State::Running {
                assert!(mine.is_cancelled(), "S4: stop() returned, context live");
            }
            drop(stopping);
            prev
        });
        let body = thread::spawn(move || {
            let seen = ctx.is_cancelled();
            drop(guard);
            seen
        });
        let (prev, seen) = join(stopper, body);
        if seen {
            assert_eq!(
                prev,
                State::Running,
                "S1: the run saw its context cancelled before the stop was published"
            );
        }
    });
}

/// S3 with a parent: `context()` made after seeing `parent.is_cancelled()`
/// is cancelled, whether or not the parent's watch has run yet; for One
/// never started (the cancellation closes it) and for a running Many (it
/// asks the run to close).
fn parent_context<I: Inst>(name: &str, run: bool) {
    exhaustive(name, move || {
        let parent = CancellationToken::new();
        let inst = I::make(Some(&parent));
        let guard = run.then(|| inst.start().unwrap());
        let ctx = guard.as_ref().map(|guard| guard.context());
        let canceller = with(&parent, |parent| parent.cancel());
        let reader = {
            let parent = parent.clone();
            with(&inst, move |inst| {
                if parent.is_cancelled() {
                    assert!(
                        inst.context()(),
                        "S3: context() live after the parent was seen cancelled"
                    );
                }
            })
        };
        join(canceller, reader);
        match ctx {
            Some(ctx) => assert!(
                ctx.is_cancelled(),
                "S4: context live after parent.cancel() returned"
            ),
            None => assert!(inst.context()()),
        }
        drop(guard);
    });
}

#[test]
fn one_parent_context() {
    parent_context::<One>("one_parent_context", false);
}

#[test]
fn many_parent_context() {
    parent_context::<Many>("many_parent_context", true);
}

/// A waker that records that it was called (the waiter was woken, not only
/// polled) and unparks the waiting loom thread.
struct Woken {
    woken: loom::sync::atomic::AtomicBool,
    notify: loom::sync::Notify,
}

impl Wake for Woken {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.woken.store(true, SeqCst);
        self.notify.notify();
    }
}

/// S4 for a waiter: a done wait awaited against the completion; once its
/// waker has been called (the completion notified it), the run's context is
/// cancelled. (A waiter that finds the run ended without being woken may be
/// in S2's window: it is not asserted on.)
#[test]
fn many_woken_waiter() {
    exhaustive("many_woken_waiter", || {
        let many = Many::new();
        let guard = many.start().unwrap();
        let ctx = guard.context();
        let done = many.done();
        let completer = thread::spawn(move || drop(guard));
        let waiter = thread::spawn(move || {
            let flag = std::sync::Arc::new(Woken {
                woken: loom::sync::atomic::AtomicBool::new(false),
                notify: loom::sync::Notify::new(),
            });
            let waker = Waker::from(std::sync::Arc::clone(&flag));
            let mut cx = Context::from_waker(&waker);
            let mut done = pin!(done);
            while done.as_mut().poll(&mut cx).is_pending() {
                flag.notify.wait();
            }
            if flag.woken.load(SeqCst) {
                assert!(
                    ctx.is_cancelled(),
                    "S4: woken by the completion, context live"
                );
            }
        });
        join(completer, waiter);
    });
}

/// Whether some interleaving of `window` saw the new phase with a context
/// made before still live (a std atomic: it outlives loom's executions).
static WINDOW_SEEN: AtomicBool = AtomicBool::new(false);

/// S2's "no less": the window is real. The completion against a reader that
/// reads the state, then the context it was given before: some interleaving
/// must see `Stopped` with the context still live.
///
/// Ignored: loom cannot show this window. Loom switches threads only at
/// loom operations (atomics, locks, the waits' event list), and its DPOR
/// explores two orders of operations only when loom sees them conflict; a
/// token's cancellation is neither (a std mutex inside tokio-util). So the
/// reader's `state()` is placed before the swap that publishes the phase
/// (they conflict) or after the whole call, never between the swap and the
/// cancellation. Measured: it fails on the current engine (which has no
/// such window), on the engine with the cancellation moved after the swap,
/// and even with an extra load of the state word put between the swap and
/// the cancellation (45 interleavings each, none in the window): loads do
/// not conflict with the reader's load. Kept, ignored, as the statement of
/// what S2 asks and of why loom cannot check it (loom-tests/README.md).
#[test]
#[ignore = "loom cannot show S2's window (see the doc comment and loom-tests/README.md)"]
fn window() {
    WINDOW_SEEN.store(false, SeqCst);
    exhaustive("window", || {
        let many = Many::new();
        let guard = many.start().unwrap();
        let ctx = guard.context();
        let completer = thread::spawn(move || drop(guard));
        let reader = with(&many, move |many| {
            let state = many.state();
            let live = !ctx.is_cancelled();
            if state == State::Stopped && live {
                WINDOW_SEEN.store(true, SeqCst);
            }
            ctx
        });
        let ((), ctx) = join(completer, reader);
        assert!(ctx.is_cancelled(), "S4: context live after the completion");
    });
    assert!(
        WINDOW_SEEN.load(SeqCst),
        "S2: no interleaving saw Stopped with the earlier context still live"
    );
}
