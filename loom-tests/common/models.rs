//! Every model of the suite, as data (see `script.rs` for what the acts do
//! and what is checked). The test binaries run them; the `coverage` test
//! derives the operations × operations tables of `loom-tests/README.md` from
//! them.
//!
//! Guard and wait numbers are names local to a model. A guard or wait made
//! in `prefix` is moved to the thread that completes or waits on it. Bounds
//! are preemption bounds (`None`: exhaustive); the README records what each
//! explores.

use super::script::{Act::*, Model};
use super::Kind::{Many, One};

/// Defines one model for both kinds: `$one` (`loom_one::$test`, kind One)
/// and `$many` (`loom_many::$test`, kind Many), with the same operations.
/// Models whose operations differ by kind are written out below.
macro_rules! both {
    ($(#[$doc:meta])* $one:ident, $many:ident, $test:literal, { $($fields:tt)* }) => {
        $(#[$doc])*
        pub static $one: Model = Model {
            name: concat!("loom_one::", $test),
            kind: One,
            $($fields)*
        };
        $(#[$doc])*
        pub static $many: Model = Model {
            name: concat!("loom_many::", $test),
            kind: Many,
            $($fields)*
        };
    };
}

// ---------------------------------------------------------------------------
// One

/// Two starts, each running and completing if it wins: One runs exactly once.
pub static ONE_START_START: Model = Model {
    name: "loom_one::start_start",
    kind: One,
    parent: false,
    bound: None,
    prefix: &[],
    threads: &[
        &[Start(0), GuardCtx(0), Complete(0)],
        &[Start(1), GuardCtx(1), Complete(1)],
    ],
    suffix: &[State],
};

both!(
    /// A run against close (waiting for it) and a dropped close.
    ONE_START_CLOSE, MANY_START_CLOSE, "start_close", {
        parent: false,
        bound: Some(3),
        prefix: &[],
        threads: &[
            &[Start(0), GuardCtx(0), Complete(0)],
            &[Close(0), Wait(0), State, Idle, CloseForget],
        ],
        suffix: &[State],
    }
);

both!(
    /// The completion against close, whose wait is awaited.
    ONE_COMPLETE_CLOSE, MANY_COMPLETE_CLOSE, "complete_close", {
        parent: false,
        bound: Some(3),
        prefix: &[Start(0), GuardCtx(0)],
        threads: &[
            &[Complete(0)],
            &[Close(0), Ctx(0), WaitAsync(0), State, Idle],
        ],
        suffix: &[State],
    }
);

both!(
    /// The completion against a dropped close.
    ONE_COMPLETE_CANCEL, MANY_COMPLETE_CANCEL, "complete_cancel", {
        parent: false,
        bound: None,
        prefix: &[Start(0), GuardCtx(0)],
        threads: &[&[Complete(0)], &[CloseForget, Ctx(0), State]],
        suffix: &[State],
    }
);

both!(
    /// Closes and cancels in two threads, one waiting, against the completion.
    ONE_CLOSE_CLOSE, MANY_CLOSE_CLOSE, "close_close", {
        parent: false,
        bound: Some(3),
        prefix: &[Start(0), GuardCtx(0)],
        threads: &[
            &[Close(0), CloseForget, Wait(0), State],
            &[CloseForget, Close(1), Complete(0)],
        ],
        suffix: &[State],
    }
);

/// The parent's cancellation against a start.
pub static ONE_PARENT_CANCEL_START: Model = Model {
    name: "loom_one::parent_cancel_start",
    kind: One,
    parent: true,
    bound: Some(3),
    prefix: &[],
    threads: &[
        &[Start(0), GuardCtx(0), Complete(0)],
        &[ParentCancel, State],
    ],
    suffix: &[State],
};

both!(
    /// The parent's cancellation against the completion.
    ONE_PARENT_CANCEL_COMPLETE, MANY_PARENT_CANCEL_COMPLETE, "parent_cancel_complete", {
        parent: true,
        bound: None,
        prefix: &[Start(0), GuardCtx(0)],
        threads: &[&[Complete(0)], &[ParentCancel, Ctx(0), State]],
        suffix: &[State],
    }
);

both!(
    /// The parent's cancellation against close (waiting), a dropped close and a close
    /// wait.
    ONE_PARENT_CANCEL_CLOSE, MANY_PARENT_CANCEL_CLOSE, "parent_cancel_close", {
        parent: true,
        bound: Some(3),
        prefix: &[Start(0), GuardCtx(0)],
        threads: &[
            &[ParentCancel, Complete(0)],
            &[Close(0), CloseForget, Wait(0), State],
        ],
        suffix: &[State],
    }
);

both!(
    /// The parent's cancellation against the lazy creation of the context and a
    /// done wait of a never-started instance.
    ONE_PARENT_CANCEL_CONTEXT, MANY_PARENT_CANCEL_CONTEXT, "parent_cancel_context", {
        parent: true,
        bound: Some(3),
        prefix: &[],
        threads: &[&[ParentCancel], &[Context, Done(0), Wait(0), State]],
        suffix: &[State],
    }
);

both!(
    /// The first read of an instance, which arms its parent watch
    /// (invariant E11), against the parent's cancellation followed by a read
    /// on the cancelling thread: that read, made after `cancel()` returned,
    /// must see the instance closed whichever way the arming went.
    ONE_FIRST_READ_PARENT_CANCEL, MANY_FIRST_READ_PARENT_CANCEL, "first_read_parent_cancel", {
        parent: true,
        bound: None,
        prefix: &[],
        threads: &[&[State], &[ParentCancel, State]],
        suffix: &[State],
    }
);

both!(
    /// A done wait, which arms the parent watch (invariant E11), against the
    /// parent's cancellation: the waiter wakes whether the cancellation came
    /// before the arming (the arming applies it) or after (the watch fires).
    ONE_DONE_PARENT_CANCEL, MANY_DONE_PARENT_CANCEL, "done_parent_cancel", {
        parent: true,
        bound: None,
        prefix: &[],
        threads: &[&[Done(0), Wait(0)], &[ParentCancel]],
        suffix: &[State],
    }
);

both!(
    /// Two first reads racing to arm the parent watch (invariant E11) of an
    /// instance whose parent was cancelled before either: whichever arms,
    /// the arming applies the cancellation, and the other read, and the
    /// waiter, see it. (The parent token is tokio-util's, whose locks loom
    /// does not see, so loom does not reorder a `cancel()` in one thread
    /// before an arming in another by itself: this model fixes that order
    /// in the prefix.)
    ONE_FIRST_READS_AFTER_PARENT_CANCEL, MANY_FIRST_READS_AFTER_PARENT_CANCEL,
    "first_reads_after_parent_cancel", {
        parent: true,
        bound: None,
        prefix: &[ParentCancel],
        threads: &[&[Done(0), Wait(0)], &[State]],
        suffix: &[State],
    }
);

both!(
    /// A start made after seeing the parent cancelled, racing the watch: the
    /// start must see the cancellation applied (invariant E6).
    ONE_PARENT_SEEN_START, MANY_PARENT_SEEN_START, "parent_seen_start", {
        parent: true,
        bound: None,
        prefix: &[],
        threads: &[
            &[ParentCancel],
            &[ParentSeen, Start(0), GuardCtx(0), Complete(0), State],
        ],
        suffix: &[State],
    }
);

both!(
    /// The parent cancelled from two threads at once.
    ONE_PARENT_CANCEL_TWICE, MANY_PARENT_CANCEL_TWICE, "parent_cancel_twice", {
        parent: true,
        bound: None,
        prefix: &[Start(0), GuardCtx(0)],
        threads: &[&[ParentCancel, Complete(0)], &[ParentCancel, State]],
        suffix: &[State],
    }
);

both!(
    /// The lazy creation of the context against close.
    ONE_CONTEXT_CLOSE, MANY_CONTEXT_CLOSE, "context_close", {
        parent: false,
        bound: None,
        prefix: &[],
        threads: &[&[Context, State], &[Close(0), State]],
        suffix: &[State],
    }
);

/// The lazy creation of the context (twice) against the completion.
pub static ONE_CONTEXT_COMPLETE: Model = Model {
    name: "loom_one::context_complete",
    kind: One,
    parent: false,
    bound: None,
    prefix: &[Start(0)],
    threads: &[&[Context, Context], &[Complete(0)]],
    suffix: &[State],
};

/// A done wait made before or during the start, against the run.
pub static ONE_DONE_START: Model = Model {
    name: "loom_one::done_start",
    kind: One,
    parent: false,
    bound: Some(3),
    prefix: &[],
    threads: &[
        &[Start(0), GuardCtx(0), Complete(0)],
        &[Done(0), Wait(0), Idle, State],
    ],
    suffix: &[State],
};

/// A done wait against close, a dropped close and the completion.
pub static ONE_DONE_CLOSE: Model = Model {
    name: "loom_one::done_close",
    kind: One,
    parent: false,
    bound: Some(3),
    prefix: &[Start(0), GuardCtx(0)],
    threads: &[
        &[Done(0), Wait(0), State],
        &[Close(1), CloseForget, Complete(0)],
    ],
    suffix: &[State],
};

both!(
    /// Two threads making done waits, one waiting, against the context and the
    /// completion.
    ONE_DONE_DONE, MANY_DONE_DONE, "done_done", {
        parent: false,
        bound: Some(3),
        prefix: &[Start(0), GuardCtx(0)],
        threads: &[
            &[Done(0), Wait(0), State],
            &[Done(1), State, Context, Complete(0)],
        ],
        suffix: &[State],
    }
);

/// The last handle dropped (which closes) against the lazy creation of the
/// context and the completion.
pub static ONE_LAST_HANDLE_COMPLETE: Model = Model {
    name: "loom_one::last_handle_complete",
    kind: One,
    parent: false,
    bound: None,
    prefix: &[Start(0), Done(0)],
    threads: &[&[GuardCtx(0), Complete(0)], &[DropHandle]],
    suffix: &[Wait(0), Idle],
};

both!(
    /// The last handle dropped (which closes a never-started instance) against
    /// a waiter blocked on `done()`; the context made before must end cancelled.
    ONE_LAST_HANDLE_WAIT, MANY_LAST_HANDLE_WAIT, "last_handle_wait", {
        parent: false,
        bound: Some(3),
        prefix: &[Context, Done(0)],
        threads: &[&[Wait(0), Idle], &[DropHandle]],
        suffix: &[],
    }
);

both!(
    /// The last handle dropped (which breaks the parent-watch cycle) against
    /// the parent's cancellation (which runs the watch).
    ONE_LAST_HANDLE_PARENT_CANCEL, MANY_LAST_HANDLE_PARENT_CANCEL, "last_handle_parent_cancel", {
        parent: true,
        bound: None,
        prefix: &[Start(0), GuardCtx(0), Done(0)],
        threads: &[&[ParentCancel, Complete(0)], &[DropHandle]],
        suffix: &[Wait(0), Idle],
    }
);

/// An observer reading `state()` against a run and a a dropped close.
pub static ONE_OBSERVE: Model = Model {
    name: "loom_one::observe",
    kind: One,
    parent: false,
    bound: Some(2),
    prefix: &[],
    threads: &[
        &[Start(0), GuardCtx(0), Complete(0)],
        &[State, State, State],
        &[CloseForget],
    ],
    suffix: &[State],
};

both!(
    /// Three threads: start (a restart, for Many) vs completion vs close.
    ONE_START_COMPLETE_CLOSE, MANY_START_COMPLETE_CLOSE, "start_complete_close", {
        parent: false,
        bound: Some(2),
        prefix: &[Start(0), GuardCtx(0)],
        threads: &[
            &[Complete(0)],
            &[Start(1), GuardCtx(1), Complete(1)],
            &[Close(0), Wait(0), State],
        ],
        suffix: &[State],
    }
);

// ---------------------------------------------------------------------------
// Many

/// Two starts, each running and completing if it wins: one run at a time,
/// restarts allowed.
pub static MANY_START_START: Model = Model {
    name: "loom_many::start_start",
    kind: Many,
    parent: false,
    bound: Some(3),
    prefix: &[],
    threads: &[
        &[Start(0), GuardCtx(0), Complete(0)],
        &[Start(1), GuardCtx(1), Complete(1)],
    ],
    suffix: &[State],
};

/// The completion against stop, whose wait is blocked on.
pub static MANY_COMPLETE_STOP: Model = Model {
    name: "loom_many::complete_stop",
    kind: Many,
    parent: false,
    bound: Some(3),
    prefix: &[Start(0), GuardCtx(0)],
    threads: &[&[Complete(0)], &[Stop(0), Ctx(0), Wait(0), State, Idle]],
    suffix: &[State],
};

/// stop and a dropped stop against close and a dropped close on a running instance; the run
/// completes afterwards.
pub static MANY_STOP_CLOSE: Model = Model {
    name: "loom_many::stop_close",
    kind: Many,
    parent: false,
    bound: None,
    prefix: &[Start(0), GuardCtx(0)],
    threads: &[&[Stop(0), StopForget], &[Close(1), CloseForget]],
    suffix: &[Ctx(0), State, Complete(0), State],
};

/// Stops, waited on and dropped, in two threads, one waiting, against the completion.
pub static MANY_STOP_STOP: Model = Model {
    name: "loom_many::stop_stop",
    kind: Many,
    parent: false,
    bound: Some(3),
    prefix: &[Start(0), GuardCtx(0)],
    threads: &[
        &[Stop(0), StopForget, Wait(0), State],
        &[Stop(1), StopForget, Complete(0)],
    ],
    suffix: &[State],
};

/// A dropped stop and a stop (waiting) against a restart from Stopped.
pub static MANY_STOP_FORGET_START: Model = Model {
    name: "loom_many::stop_forget_start",
    kind: Many,
    parent: false,
    bound: None,
    prefix: &[Start(0), Complete(0)],
    threads: &[
        &[StopForget, Stop(0), Wait(0)],
        &[Start(1), GuardCtx(1), Complete(1)],
    ],
    suffix: &[State],
};

/// The parent's cancellation against a restart (whose new context is a
/// child of the parent).
pub static MANY_PARENT_CANCEL_START: Model = Model {
    name: "loom_many::parent_cancel_start",
    kind: Many,
    parent: true,
    bound: Some(3),
    prefix: &[Start(0), Complete(0)],
    threads: &[
        &[Start(1), GuardCtx(1), Complete(1)],
        &[ParentCancel, State],
    ],
    suffix: &[State],
};

/// The parent's cancellation against stop (waiting) and a dropped stop.
pub static MANY_PARENT_CANCEL_STOP: Model = Model {
    name: "loom_many::parent_cancel_stop",
    kind: Many,
    parent: true,
    bound: Some(3),
    prefix: &[Start(0), GuardCtx(0)],
    threads: &[
        &[ParentCancel, Complete(0)],
        &[Stop(0), StopForget, Wait(0), State],
    ],
    suffix: &[State],
};

/// The lazy creation of the context (twice) against stop, a dropped stop and the
/// completion.
pub static MANY_CONTEXT_STOP: Model = Model {
    name: "loom_many::context_stop",
    kind: Many,
    parent: false,
    bound: None,
    prefix: &[Start(0)],
    threads: &[&[Context, Context], &[Stop(0), StopForget, Complete(0)]],
    suffix: &[State],
};

/// The lazy creation of the context against a completion and a restart: a
/// context is the ended run's (cancelled) or the new run's.
pub static MANY_CONTEXT_RESTART: Model = Model {
    name: "loom_many::context_restart",
    kind: Many,
    parent: false,
    bound: Some(3),
    prefix: &[Start(0)],
    threads: &[
        &[Context, Context],
        &[Complete(0), Start(1), GuardCtx(1), Complete(1)],
    ],
    suffix: &[State],
};

/// A done wait made while Stopped or during a restart.
pub static MANY_DONE_START: Model = Model {
    name: "loom_many::done_start",
    kind: Many,
    parent: false,
    bound: Some(3),
    prefix: &[Start(0), Complete(0)],
    threads: &[
        &[Start(1), GuardCtx(1), Complete(1)],
        &[Done(0), Wait(0), State],
    ],
    suffix: &[State],
};

/// A done wait against stop, a dropped stop, close, a dropped close and the completion.
pub static MANY_DONE_STOP: Model = Model {
    name: "loom_many::done_stop",
    kind: Many,
    parent: false,
    bound: Some(3),
    prefix: &[Start(0), GuardCtx(0)],
    threads: &[
        &[Done(0), Wait(0), State],
        &[Stop(1), StopForget, Close(2), CloseForget, Complete(0)],
    ],
    suffix: &[State],
};

/// Restart cycles in two threads (runs with and without a context).
pub static MANY_RESTART_CYCLES: Model = Model {
    name: "loom_many::restart_cycles",
    kind: Many,
    parent: false,
    bound: Some(2),
    prefix: &[],
    threads: &[
        &[Start(0), Complete(0), Start(1), GuardCtx(1), Complete(1)],
        &[Start(2), GuardCtx(2), Complete(2), Start(3), Complete(3)],
    ],
    suffix: &[State],
};

/// Restart cycles against stop (waiting) and a dropped stop.
pub static MANY_RESTART_STOP: Model = Model {
    name: "loom_many::restart_stop",
    kind: Many,
    parent: false,
    bound: Some(2),
    prefix: &[],
    threads: &[
        &[
            Start(0),
            GuardCtx(0),
            Complete(0),
            Start(1),
            GuardCtx(1),
            Complete(1),
        ],
        &[Stop(0), Wait(0), StopForget],
    ],
    suffix: &[State],
};

/// The last handle dropped (which closes, and breaks the cycle through the
/// watch of a parent that is never cancelled) against the lazy creation of
/// the context and the completion.
pub static MANY_LAST_HANDLE_COMPLETE: Model = Model {
    name: "loom_many::last_handle_complete",
    kind: Many,
    parent: true,
    bound: None,
    prefix: &[Start(0), Done(0)],
    threads: &[&[GuardCtx(0), Complete(0)], &[DropHandle]],
    suffix: &[Wait(0), Idle],
};

/// An observer reading `state()` against restart cycles.
pub static MANY_OBSERVE: Model = Model {
    name: "loom_many::observe",
    kind: Many,
    parent: false,
    bound: Some(3),
    prefix: &[],
    threads: &[
        &[Start(0), GuardCtx(0), Complete(0), Start(1), Complete(1)],
        &[State, State, State],
    ],
    suffix: &[State],
};

/// Three threads: stop vs close vs restart.
pub static MANY_STOP_CLOSE_RESTART: Model = Model {
    name: "loom_many::stop_close_restart",
    kind: Many,
    parent: false,
    bound: Some(2),
    prefix: &[Start(0), GuardCtx(0)],
    threads: &[
        &[Stop(0), State],
        &[Close(1), State],
        &[Complete(0), Start(1), GuardCtx(1), Complete(1)],
    ],
    suffix: &[State],
};

/// The same with the stop and the close waiting for their run (deeper: an
/// ignored test, see the README).
pub static MANY_STOP_CLOSE_RESTART_WAITS: Model = Model {
    name: "loom_many::stop_close_restart_waits",
    kind: Many,
    parent: false,
    bound: Some(2),
    prefix: &[Start(0), GuardCtx(0)],
    threads: &[
        &[Stop(0), Wait(0)],
        &[Close(1), Wait(1), State],
        &[Complete(0), Start(1), GuardCtx(1), Complete(1)],
    ],
    suffix: &[State],
};

// ---------------------------------------------------------------------------
// Waiters against the signal: a wait made before the completion (in the
// prefix) and one made during it (racing it, in the waiting thread), both
// waited for in that thread; one made after it (in the suffix). Blocking
// (`Wait::wait`) and async (`loom::future::block_on`).

macro_rules! waits {
    ($name:ident, $test:literal, $kind:expr, $make:ident, $wait:ident) => {
        pub static $name: Model = Model {
            name: $test,
            kind: $kind,
            parent: false,
            bound: Some(3),
            prefix: &[Start(0), GuardCtx(0), $make(0)],
            threads: &[&[Complete(0)], &[$make(1), $wait(0), Idle, $wait(1), Idle]],
            suffix: &[$make(2), $wait(2), Idle, State],
        };
    };
}

waits!(
    ONE_DONE_WAIT,
    "loom_waits::one_done_blocking",
    One,
    Done,
    Wait
);
waits!(
    ONE_DONE_WAIT_ASYNC,
    "loom_waits::one_done_async",
    One,
    Done,
    WaitAsync
);
waits!(
    ONE_CLOSE_WAIT,
    "loom_waits::one_close_blocking",
    One,
    Close,
    Wait
);
waits!(
    ONE_CLOSE_WAIT_ASYNC,
    "loom_waits::one_close_async",
    One,
    Close,
    WaitAsync
);
waits!(
    MANY_DONE_WAIT,
    "loom_waits::many_done_blocking",
    Many,
    Done,
    Wait
);
waits!(
    MANY_DONE_WAIT_ASYNC,
    "loom_waits::many_done_async",
    Many,
    Done,
    WaitAsync
);
waits!(
    MANY_CLOSE_WAIT,
    "loom_waits::many_close_blocking",
    Many,
    Close,
    Wait
);
waits!(
    MANY_CLOSE_WAIT_ASYNC,
    "loom_waits::many_close_async",
    Many,
    Close,
    WaitAsync
);
waits!(
    MANY_STOP_WAIT,
    "loom_waits::many_stop_blocking",
    Many,
    Stop,
    Wait
);
waits!(
    MANY_STOP_WAIT_ASYNC,
    "loom_waits::many_stop_async",
    Many,
    Stop,
    WaitAsync
);

/// Two waiters blocked at once on one run, one async on a done wait, one
/// blocking on a close wait, against the completion.
pub static ONE_MIXED_WAITS: Model = Model {
    name: "loom_waits::one_mixed",
    kind: One,
    parent: false,
    bound: Some(2),
    prefix: &[Start(0), GuardCtx(0), Done(0), Close(1)],
    threads: &[&[Complete(0)], &[WaitAsync(0), Idle], &[Wait(1), Idle]],
    suffix: &[State],
};

/// Two waiters blocked at once on one run, one async on a done wait, one
/// blocking on a stop wait, against the completion.
pub static MANY_MIXED_WAITS: Model = Model {
    name: "loom_waits::many_mixed",
    kind: Many,
    parent: false,
    bound: Some(2),
    prefix: &[Start(0), GuardCtx(0), Done(0), Stop(1)],
    threads: &[&[Complete(0)], &[WaitAsync(0), Idle], &[Wait(1), Idle]],
    suffix: &[State],
};

// ---------------------------------------------------------------------------
// Three parties: a waiter of run 1, the completer of run 1, and a third
// thread that restarts the instance (a Many) once run 1 has ended. A
// completion must decide whether to notify from the word its
// compare-and-swap replaced: a restart in between begins run 2 and clears
// the waiters bit `W` (invariant E4), so a decision taken from a
// fresh load after the swap loses the wake-up (the `fresh-load-notify`
// plant). No two-thread model can show it, nor a model where the completer
// also restarts (it loads before it restarts).
//
// The waiter takes its wait from `done()`, `stop()` or `close()` in the
// prefix and blocks on it (`Wait::wait`) or awaits it. The restarter first
// waits for run 1 to end (a blocking `done()` wait), as a supervisor would,
// then restarts. That wait matters to loom, not only to realism: its
// `fetch_or` on the state word is what lets loom's DPOR place the restart
// between the completion's swap and its next load. A restarter that only
// calls `start()` (a load, then a swap) was measured not to find the plant
// even at bound 4 (loom records one last access per atomic, so the
// restarter's own load hides the completion's load from its swap).
//
// A `close()` ends the restarts: in the `close` models the restarter's
// `start()` is refused, no new run clears `W`, and the race cannot happen;
// they are the control that shows the plant needs a restart (they still
// catch `no-notify`). One never restarts, so it has no such model.

macro_rules! restart_waits {
    ($name:ident, $test:literal, $make:ident, $wait:ident) => {
        pub static $name: Model = Model {
            name: $test,
            kind: Many,
            parent: false,
            bound: Some(2),
            prefix: &[Start(0), $make(0), Done(1)],
            threads: &[
                &[$wait(0)],
                &[Complete(0)],
                &[Wait(1), Start(1), Complete(1)],
            ],
            suffix: &[State],
        };
    };
}

restart_waits!(
    MANY_DONE_RESTART_WAIT,
    "loom_waits::many_done_blocking_restart",
    Done,
    Wait
);
restart_waits!(
    MANY_DONE_RESTART_WAIT_ASYNC,
    "loom_waits::many_done_async_restart",
    Done,
    WaitAsync
);
restart_waits!(
    MANY_STOP_RESTART_WAIT,
    "loom_waits::many_stop_blocking_restart",
    Stop,
    Wait
);
restart_waits!(
    MANY_STOP_RESTART_WAIT_ASYNC,
    "loom_waits::many_stop_async_restart",
    Stop,
    WaitAsync
);
restart_waits!(
    MANY_CLOSE_RESTART_WAIT,
    "loom_waits::many_close_blocking_restart",
    Close,
    Wait
);
restart_waits!(
    MANY_CLOSE_RESTART_WAIT_ASYNC,
    "loom_waits::many_close_async_restart",
    Close,
    WaitAsync
);

// ---------------------------------------------------------------------------
// The single-waiter slot (engine invariant E10): the first run wait to block
// stores its waker or thread in the slot; later ones use the listener list.

/// One blocking waiter, in the slot, against the completion.
pub static SLOT_BLOCKING: Model = Model {
    name: "loom_waits::slot_blocking",
    kind: Many,
    parent: false,
    bound: None,
    prefix: &[Start(0), Done(0)],
    threads: &[&[Complete(0)], &[Wait(0), Idle]],
    suffix: &[State],
};

/// One async waiter, in the slot since its first poll (a waker that wakes
/// nothing), re-polled with a different waker against the completion: the
/// completer may take the old waker just before it is replaced.
pub static SLOT_REPOLL: Model = Model {
    name: "loom_waits::slot_repoll",
    kind: Many,
    parent: false,
    bound: None,
    prefix: &[Start(0), Done(0), PollOnce(0)],
    threads: &[&[Complete(0)], &[Repoll(0), Idle]],
    suffix: &[State],
};

/// Two waiters at once: one async in the slot (re-polled), one blocking
/// in the list; both must wake.
pub static SLOT_AND_LIST: Model = Model {
    name: "loom_waits::slot_and_list",
    kind: Many,
    parent: false,
    bound: Some(2),
    prefix: &[Start(0), Done(0), Done(1), PollOnce(0)],
    threads: &[&[Complete(0)], &[Repoll(0), Idle], &[Wait(1), Idle]],
    suffix: &[State],
};

/// The slot reused: a blocking waiter of run 1 resolves (releasing the
/// slot) and waits again, on `done()` of the restarted Many (claiming it
/// again), against a thread that completes run 1, restarts and completes
/// run 2. The completer of run 1 may wake the slot's waiter late, when it
/// already waits for run 2 (a stale unpark). (No `Idle` after the second
/// wait: a `done()` made while Stopped is the ended run's, resolved, and
/// run 2 may not have begun.)
pub static SLOT_RECLAIM: Model = Model {
    name: "loom_waits::slot_reclaim",
    kind: Many,
    parent: false,
    bound: Some(2),
    prefix: &[Start(0), Done(0)],
    threads: &[
        &[Complete(0), Start(1), Complete(1)],
        &[Wait(0), Done(1), Wait(1)],
    ],
    suffix: &[State],
};

/// Every model, in the order the coverage tables look for them.
pub static ALL: &[&Model] = &[
    &ONE_START_START,
    &ONE_START_CLOSE,
    &ONE_COMPLETE_CLOSE,
    &ONE_COMPLETE_CANCEL,
    &ONE_CLOSE_CLOSE,
    &ONE_PARENT_CANCEL_START,
    &ONE_PARENT_CANCEL_COMPLETE,
    &ONE_PARENT_CANCEL_CLOSE,
    &ONE_PARENT_CANCEL_CONTEXT,
    &ONE_PARENT_CANCEL_TWICE,
    &ONE_PARENT_SEEN_START,
    &ONE_FIRST_READ_PARENT_CANCEL,
    &ONE_DONE_PARENT_CANCEL,
    &ONE_FIRST_READS_AFTER_PARENT_CANCEL,
    &ONE_CONTEXT_CLOSE,
    &ONE_CONTEXT_COMPLETE,
    &ONE_DONE_START,
    &ONE_DONE_CLOSE,
    &ONE_DONE_DONE,
    &ONE_LAST_HANDLE_COMPLETE,
    &ONE_LAST_HANDLE_WAIT,
    &ONE_LAST_HANDLE_PARENT_CANCEL,
    &ONE_OBSERVE,
    &ONE_START_COMPLETE_CLOSE,
    &MANY_START_START,
    &MANY_START_CLOSE,
    &MANY_COMPLETE_CLOSE,
    &MANY_COMPLETE_STOP,
    &MANY_COMPLETE_CANCEL,
    &MANY_STOP_CLOSE,
    &MANY_STOP_STOP,
    &MANY_CLOSE_CLOSE,
    &MANY_STOP_FORGET_START,
    &MANY_PARENT_CANCEL_START,
    &MANY_PARENT_CANCEL_COMPLETE,
    &MANY_PARENT_CANCEL_STOP,
    &MANY_PARENT_CANCEL_CLOSE,
    &MANY_PARENT_CANCEL_CONTEXT,
    &MANY_PARENT_CANCEL_TWICE,
    &MANY_PARENT_SEEN_START,
    &MANY_FIRST_READ_PARENT_CANCEL,
    &MANY_DONE_PARENT_CANCEL,
    &MANY_FIRST_READS_AFTER_PARENT_CANCEL,
    &MANY_CONTEXT_CLOSE,
    &MANY_CONTEXT_STOP,
    &MANY_CONTEXT_RESTART,
    &MANY_DONE_START,
    &MANY_DONE_STOP,
    &MANY_DONE_DONE,
    &MANY_RESTART_CYCLES,
    &MANY_RESTART_STOP,
    &MANY_LAST_HANDLE_COMPLETE,
    &MANY_LAST_HANDLE_WAIT,
    &MANY_LAST_HANDLE_PARENT_CANCEL,
    &MANY_OBSERVE,
    &MANY_START_COMPLETE_CLOSE,
    &MANY_STOP_CLOSE_RESTART,
    &ONE_DONE_WAIT,
    &ONE_DONE_WAIT_ASYNC,
    &ONE_CLOSE_WAIT,
    &ONE_CLOSE_WAIT_ASYNC,
    &MANY_DONE_WAIT,
    &MANY_DONE_WAIT_ASYNC,
    &MANY_CLOSE_WAIT,
    &MANY_CLOSE_WAIT_ASYNC,
    &MANY_STOP_WAIT,
    &MANY_STOP_WAIT_ASYNC,
    &ONE_MIXED_WAITS,
    &MANY_MIXED_WAITS,
    &MANY_DONE_RESTART_WAIT,
    &MANY_DONE_RESTART_WAIT_ASYNC,
    &MANY_STOP_RESTART_WAIT,
    &MANY_STOP_RESTART_WAIT_ASYNC,
    &MANY_CLOSE_RESTART_WAIT,
    &MANY_CLOSE_RESTART_WAIT_ASYNC,
    &MANY_STOP_CLOSE_RESTART_WAITS,
    &SLOT_BLOCKING,
    &SLOT_REPOLL,
    &SLOT_AND_LIST,
    &SLOT_RECLAIM,
];
