//! Every row of `spec/transitions.md`, for both types, checked through the
//! public API only: the instance is driven into the row's state, the event
//! is applied, and the return value, the next state, the context, `done` and
//! the call's wait are compared with what the row says. For `Many`, also
//! the rules spec/README.md states in prose (sections 14 and 15): the run
//! number grows by one exactly at a start that returns ok, and a closed
//! wait (`Many::closed`) is resolved exactly in the states whose `state()`
//! is Closed, and a pending one (polled) is woken by the row that enters
//! Closed.
//!
//! The expected values come from the spec document (parsed by
//! `tests/common/spec.rs`), not from the crate's own table.

#![cfg(not(loom))]

mod common;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Wake, Waker};
use std::time::Duration;

use common::model::public;
use common::spec::{self, Event, Kind, Oracle, Phase, Returns};
use runcycle::{ClosedWait, Guard, Many, One, StartError, State, Wait};
use tokio_util::sync::CancellationToken;

/// One or Many behind one interface, for table-driven tests.
enum Inst {
    One(One),
    Many(Many),
}

impl Inst {
    fn new(kind: &str, parent: &CancellationToken) -> Inst {
        match kind {
            "One" => Inst::One(One::with_parent(parent)),
            "Many" => Inst::Many(Many::with_parent(parent)),
            _ => panic!("unknown kind {kind}"),
        }
    }
    fn start(&self) -> Result<Guard, StartError> {
        match self {
            Inst::One(i) => i.start(),
            Inst::Many(i) => i.start(),
        }
    }
    fn state(&self) -> State {
        match self {
            Inst::One(i) => i.state(),
            Inst::Many(i) => i.state(),
        }
    }
    fn context(&self) -> runcycle::Context {
        match self {
            Inst::One(i) => i.context(),
            Inst::Many(i) => i.context(),
        }
    }
    fn done(&self) -> Wait {
        match self {
            Inst::One(i) => i.done(),
            Inst::Many(i) => i.done(),
        }
    }
    fn close(&self) -> runcycle::Transition {
        match self {
            Inst::One(i) => i.close(),
            Inst::Many(i) => i.close(),
        }
    }
    /// `Many::closed` and `Many::run_number`; `None` for One.
    fn closed_and_run_number(&self) -> Option<(ClosedWait, u64)> {
        match self {
            Inst::One(_) => None,
            Inst::Many(i) => Some((i.closed(), i.run_number())),
        }
    }
    /// `Many::stop`; its `ClosedError` as `StartError::Closed`, the
    /// spec's `Err(Closed)`.
    fn stop(&self) -> Result<runcycle::Transition, StartError> {
        match self {
            Inst::One(_) => panic!("One has no stop"),
            Inst::Many(i) => i.stop().map_err(StartError::from),
        }
    }
}

struct Setup {
    inst: Inst,
    parent: CancellationToken,
    guard: Option<Guard>,
}

/// The spec's name for the state the instance is in, told apart through the
/// public API by what the spec's reads say of each state (`state()`, the
/// context) and, where two states read alike (Stopping and Closing), by
/// what the spec's start row of each answers (every such state refuses, so
/// the probe changes nothing).
fn observe(kind: &str, inst: &Inst) -> &'static str {
    let oracle = Oracle::get();
    let kind = Kind::parse(kind);
    let (state, cancelled) = (inst.state(), inst.context().is_cancelled());
    let alike: Vec<Phase> = Phase::ALL
        .into_iter()
        .filter(|&p| oracle.reaches(kind, p))
        .filter(|&p| {
            let reads = oracle.reads(p);
            public(reads.state) == state && reads.context_cancelled == cancelled
        })
        .collect();
    let start = |p: Phase| oracle.cell(kind, p, Event::Start).map(|c| c.returns);
    let found: Vec<Phase> = if alike.len() > 1 {
        assert!(
            alike.iter().all(|&p| start(p) != Some(Returns::Ok)),
            "cannot tell {alike:?} apart without starting a run"
        );
        let answer = match inst.start() {
            Ok(_) => panic!("start succeeded in one of {alike:?}"),
            Err(StartError::Running) => Returns::ErrRunning,
            Err(StartError::Closed) => Returns::ErrClosed,
            Err(e) => panic!("an error the spec does not know: {e:?}"),
        };
        alike
            .into_iter()
            .filter(|&p| start(p) == Some(answer))
            .collect()
    } else {
        alike
    };
    assert_eq!(
        found.len(),
        1,
        "{state:?} with the context cancelled: {cancelled}: states {found:?}"
    );
    found[0].name()
}

/// A fresh instance of `kind` (with a parent) driven into `state`.
fn setup(kind: &str, state: &str) -> Setup {
    let parent = CancellationToken::new();
    let inst = Inst::new(kind, &parent);
    let mut guard = None;
    match state {
        "Created" => {}
        "Running" => guard = Some(inst.start().unwrap()),
        "Stopping" => {
            guard = Some(inst.start().unwrap());
            assert_eq!(inst.stop().unwrap().previous(), State::Running);
        }
        "Closing" => {
            guard = Some(inst.start().unwrap());
            assert_eq!(inst.close().previous(), State::Running);
        }
        "Stopped" => drop(inst.start().unwrap()),
        "Closed" => drop(inst.close()),
        _ => panic!("unknown state {state}"),
    }
    assert_eq!(observe(kind, &inst), state, "setup of {kind} {state}");
    Setup {
        inst,
        parent,
        guard,
    }
}

/// The spec's `state()` in the state named `name`.
fn public_state(name: &str) -> State {
    public(Oracle::get().reads(Phase::parse(name)).state)
}

fn check_row(row: &spec::Transition) {
    let what = format!("{} {} {}", row.kind, row.state, row.event);
    let mut s = setup(&row.kind, &row.state);
    let ctx = s.inst.context();
    let ctx_was_cancelled = ctx.is_cancelled();
    let done = s.inst.done();
    let done_was_resolved = done.is_done();
    let prev = public_state(&row.state);
    // Many's closed wait, polled once (registered) if pending, and its run
    // number, before the event (spec/README.md, sections 14 and 15).
    let wakes = Arc::new(Wakes(AtomicUsize::new(0)));
    let waker = Waker::from(Arc::clone(&wakes));
    let mut closed_before = s.inst.closed_and_run_number().map(|(closed, runs)| {
        let mut closed = Box::pin(closed);
        let ready = closed
            .as_mut()
            .poll(&mut TaskContext::from_waker(&waker))
            .is_ready();
        assert_eq!(ready, prev == State::Closed, "{what}: closed() before");
        (closed, runs)
    });

    let (returns, wait) = match row.event.as_str() {
        "start" => match s.inst.start() {
            Ok(guard) => {
                s.guard = Some(guard);
                ("ok", None)
            }
            Err(StartError::Running) => ("Err(Running)", None),
            Err(StartError::Closed) => ("Err(Closed)", None),
            Err(e) => panic!("{what}: an error the spec does not know: {e:?}"),
        },
        "complete" => {
            drop(s.guard.take().expect("complete needs a run"));
            ("ok", None)
        }
        "stop" => match s.inst.stop() {
            Ok(stopping) => {
                assert_eq!(stopping.previous(), prev, "{what}: previous state");
                ("ok", Some(stopping.into_wait()))
            }
            Err(StartError::Closed) => ("Err(Closed)", None),
            Err(StartError::Running) => ("Err(Running)", None),
            Err(e) => panic!("{what}: an error the spec does not know: {e:?}"),
        },
        "close" => {
            let closing = s.inst.close();
            assert_eq!(closing.previous(), prev, "{what}: previous state");
            ("ok", Some(closing.into_wait()))
        }
        "parent-cancel" => {
            s.parent.cancel();
            ("ok", None)
        }
        e => panic!("unknown event {e}"),
    };
    assert_eq!(returns, row.returns, "{what}: returns");
    assert_eq!(observe(&row.kind, &s.inst), row.next, "{what}: next state");
    if let Some((closed, runs_before)) = closed_before.as_mut() {
        let closed_now = public_state(&row.next) == State::Closed;
        let entered = closed_now && prev != State::Closed;
        assert_eq!(closed.is_done(), closed_now, "{what}: closed() after");
        assert_eq!(
            wakes.0.load(Ordering::SeqCst) > 0,
            entered,
            "{what}: the pending closed wait is woken by the entry into Closed, and only by it"
        );
        if entered {
            let ready = closed
                .as_mut()
                .poll(&mut TaskContext::from_waker(&waker))
                .is_ready();
            assert!(ready, "{what}: the woken closed wait is ready");
        }
        let started = row.event == "start" && row.returns == "ok";
        let (_, runs_now) = s.inst.closed_and_run_number().unwrap();
        assert_eq!(
            runs_now,
            *runs_before + u64::from(started),
            "{what}: run_number counts the starts that return ok"
        );
    }

    if row.new_run {
        // The previous run's context stays cancelled and its done resolved;
        // the new run has its own.
        assert!(ctx.is_cancelled() && done.is_done(), "{what}: old run");
        assert!(!s.inst.context().is_cancelled(), "{what}: fresh context");
        assert!(!s.inst.done().is_done(), "{what}: fresh done");
    } else {
        let cancelled_now = ctx.is_cancelled();
        if row.cancels_context {
            assert!(
                !ctx_was_cancelled && cancelled_now,
                "{what}: cancels the context"
            );
        } else {
            assert_eq!(
                cancelled_now, ctx_was_cancelled,
                "{what}: context unchanged"
            );
        }
        let resolved_now = done.is_done();
        if row.resolves_done {
            assert!(!done_was_resolved && resolved_now, "{what}: resolves done");
        } else {
            assert_eq!(resolved_now, done_was_resolved, "{what}: done unchanged");
        }
    }

    if let Some(wait) = wait {
        assert_eq!(!wait.is_done(), row.waits, "{what}: the call's wait");
        if row.waits {
            drop(s.guard.take().expect("a pending wait needs a run"));
            assert!(wait.is_done(), "{what}: the wait resolves at the exit");
            assert_eq!(wait.wait_timeout(Duration::from_secs(10)), Ok(()));
        }
    }
}

/// Counts the wake-ups of a future polled by hand.
struct Wakes(AtomicUsize);

impl Wake for Wakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn every_transition_row_holds_for_its_kind() {
    let rows = spec::transitions(&spec::document());
    for row in &rows {
        check_row(row);
    }
    let kinds = |k: &str| rows.iter().filter(|r| r.kind == k).count();
    assert!(
        kinds("One") >= 14 && kinds("Many") >= 27,
        "spec rows went missing"
    );
}

#[test]
fn every_read_row_holds_for_both_kinds() {
    for read in spec::reads(&spec::document()) {
        for kind in ["One", "Many"] {
            if !Oracle::get().reaches(Kind::parse(kind), Phase::parse(&read.state)) {
                continue; // The spec has no row of this kind in that state.
            }
            let s = setup(kind, &read.state);
            let what = format!("{kind} {}", read.state);
            assert_eq!(
                s.inst.state().to_string(),
                read.public_state.to_lowercase(),
                "{what}: state()"
            );
            assert_eq!(
                s.inst.context().is_cancelled(),
                read.context_cancelled,
                "{what}: context()"
            );
            assert_eq!(
                s.inst.done().is_done(),
                read.done_resolved,
                "{what}: done()"
            );
            // spec/README.md, section 15: the closed wait is resolved
            // exactly where `state()` is Closed.
            if let Some((closed, _)) = s.inst.closed_and_run_number() {
                assert_eq!(
                    closed.is_done(),
                    read.public_state == "Closed",
                    "{what}: closed()"
                );
            }
        }
    }
}
