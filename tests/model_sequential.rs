//! Model-based test, sequential: random sequences of 1 to 50 operations on
//! a real `One` or `Many` are compared, step by step, with the reference
//! model of `tests/common/model.rs` (derived from `spec/transitions.md`).
//!
//! Driven by `proptest-state-machine`: `Machine` is the
//! `ReferenceStateMachine` (the model plus the handles the test has taken),
//! `ShotTest` the `StateMachineTest` (the real instance). After every step
//! the call's return value, `state()`, `done()` resolved, optionally
//! `context()` cancelled, and every context, `done()` wait and stop/close
//! wait taken in an earlier step are compared with the model; for `Many`
//! also `run_number()` (the starts that returned ok, spec/README.md section
//! 14) and a `closed()` wait taken at creation, resolved exactly when the
//! model's state is Closed (section 15; it outlives the handles).
//!
//! Cases: 1,000 per property, or `PROPTEST_CASES`. Failing seeds persist in
//! `proptest-regressions/model_sequential/`.

#![cfg(not(loom))]

mod common;

use std::marker::PhantomData;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use common::model::{self, Bug, Inst, Kind, Model, WaitRef};
use common::spec;
use proptest::prelude::*;
use proptest::strategy::{Union, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};
use proptest_state_machine::{prop_state_machine, ReferenceStateMachine, StateMachineTest};
use runcycle::{ClosedWait, Guard, StartError, State, Wait};
use tokio_util::sync::CancellationToken;

/// One step of a sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Start,
    /// Ends the run: `guard.complete()` if `explicit`, else `drop(guard)`.
    Complete {
        explicit: bool,
    },
    /// `stop()`: the `Transition`'s previous state is checked; its wait is
    /// kept and checked in later steps if `keep`, else dropped at once (a
    /// fire-and-forget stop, Go's `Halt`).
    Stop {
        keep: bool,
    },
    /// `close()`, likewise (dropped at once: Go's `Cancel`).
    Close {
        keep: bool,
    },
    /// Cancels the parent token given to `with_parent`.
    ParentCancel,
    /// Keeps `context()` to check it in later steps.
    TakeContext,
    /// Keeps the held guard's `context()`.
    TakeGuardContext,
    /// Keeps `done()` to check it in later steps.
    TakeDone,
    /// Another handle to the instance.
    CloneHandle,
    /// Drops a handle; dropping the last one closes the instance.
    DropHandle,
    /// Nothing (the checks after the step still run): what is left once
    /// every handle is gone and no run or parent remains.
    Recheck,
}

/// The parent the instance is made with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Parent {
    /// `new()`.
    None,
    /// `with_parent(&token)`.
    Live,
    /// `with_parent(&token)` with `token` already cancelled.
    Cancelled,
}

/// What the last step's call must have returned.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Expect {
    Nothing,
    Start(Result<(), StartError>),
    Stop(Result<(State, WaitRef), StartError>),
    Close(State, WaitRef),
}

/// The reference state: the model, plus what the test holds (the handles it
/// took, as the model sees them).
#[derive(Clone, Debug)]
struct RefState {
    model: Model,
    parent: Parent,
    parent_cancelled: bool,
    /// Also compare `context().is_cancelled()` after every step. Off in half
    /// the cases, since `context()` creates the run's token lazily and the
    /// engine takes other paths when no token exists.
    eager_context: bool,
    handles: usize,
    /// The run of each context taken.
    contexts: Vec<usize>,
    /// What each `done()` taken waits for.
    dones: Vec<WaitRef>,
    /// What each stop/close wait taken waits for.
    waits: Vec<WaitRef>,
    /// The starts that returned ok: what `Many::run_number` says.
    starts: u64,
    expect: Expect,
}

/// The reference state machine; `BUG` selects a deliberately wrong model
/// (see [`Bug`]), 0 being the real one.
struct Machine<const KIND: u8, const BUG: u8>;

const ONE: u8 = 0;
const MANY: u8 = 1;

const fn kind(k: u8) -> Kind {
    if k == ONE {
        Kind::One
    } else {
        Kind::Many
    }
}

impl<const KIND: u8, const BUG: u8> ReferenceStateMachine for Machine<KIND, BUG> {
    type State = RefState;
    type Transition = Op;

    fn init_state() -> BoxedStrategy<RefState> {
        let parent = prop_oneof![
            2 => Just(Parent::None),
            7 => Just(Parent::Live),
            1 => Just(Parent::Cancelled),
        ];
        (parent, any::<bool>())
            .prop_map(|(parent, eager_context)| {
                let mut model = Model::with_bug(kind(KIND), Bug::from_u8(BUG));
                if parent == Parent::Cancelled {
                    model.parent_cancel();
                }
                RefState {
                    model,
                    parent,
                    parent_cancelled: parent == Parent::Cancelled,
                    eager_context,
                    handles: 1,
                    contexts: Vec::new(),
                    dones: Vec::new(),
                    waits: Vec::new(),
                    starts: 0,
                    expect: Expect::Nothing,
                }
            })
            .boxed()
    }

    fn transitions(state: &RefState) -> BoxedStrategy<Op> {
        let mut ops: Vec<(u32, BoxedStrategy<Op>)> = Vec::new();
        let add = |ops: &mut Vec<(u32, BoxedStrategy<Op>)>, weight: u32, op: Op| {
            ops.push((weight, Just(op).boxed()));
        };
        // Weights: a start, and a completion while running, are far more
        // likely than a close, so that a Many sequence sees several runs
        // (`many_sequences_restart` measures it).
        if state.handles > 0 {
            add(&mut ops, 40, Op::Start);
            ops.push((2, any::<bool>().prop_map(|keep| Op::Close { keep }).boxed()));
            add(&mut ops, 4, Op::TakeContext);
            add(&mut ops, 4, Op::TakeDone);
            add(&mut ops, 1, Op::CloneHandle);
            add(&mut ops, 1, Op::DropHandle);
            if state.model.kind() == Kind::Many {
                ops.push((10, any::<bool>().prop_map(|keep| Op::Stop { keep }).boxed()));
            }
        }
        if state.model.is_running() {
            add(&mut ops, 2, Op::TakeGuardContext);
        }
        if state.parent != Parent::None {
            add(&mut ops, 1, Op::ParentCancel);
        }
        if state.model.is_running() {
            ops.push((
                40,
                any::<bool>()
                    .prop_map(|explicit| Op::Complete { explicit })
                    .boxed(),
            ));
        }
        if ops.is_empty() {
            return Just(Op::Recheck).boxed();
        }
        Union::new_weighted(ops).boxed()
    }

    fn preconditions(state: &RefState, op: &Op) -> bool {
        let has_handle = state.handles > 0;
        match op {
            Op::Start
            | Op::Close { .. }
            | Op::TakeContext
            | Op::TakeDone
            | Op::CloneHandle
            | Op::DropHandle => has_handle,
            Op::Stop { .. } => has_handle && state.model.kind() == Kind::Many,
            Op::Complete { .. } | Op::TakeGuardContext => state.model.is_running(),
            Op::ParentCancel => state.parent != Parent::None,
            Op::Recheck => true,
        }
    }

    fn apply(mut state: RefState, op: &Op) -> RefState {
        let m = &mut state.model;
        state.expect = match op {
            Op::Start => {
                let started = m.start();
                if started.is_ok() {
                    state.starts += 1;
                }
                Expect::Start(started)
            }
            Op::Complete { .. } => {
                m.complete();
                Expect::Nothing
            }
            Op::Stop { keep } => {
                let r = m.stop();
                if let Ok((_, wait)) = r {
                    if *keep {
                        state.waits.push(wait);
                    }
                }
                Expect::Stop(r)
            }
            Op::Close { keep } => {
                let (prev, wait) = m.close();
                if *keep {
                    state.waits.push(wait);
                }
                Expect::Close(prev, wait)
            }
            Op::ParentCancel => {
                // Cancelling an already cancelled token does nothing.
                if !state.parent_cancelled {
                    state.parent_cancelled = true;
                    m.parent_cancel();
                }
                Expect::Nothing
            }
            Op::TakeContext | Op::TakeGuardContext => {
                state.contexts.push(m.run());
                Expect::Nothing
            }
            Op::TakeDone => {
                state.dones.push(m.done_handle());
                Expect::Nothing
            }
            Op::CloneHandle => {
                state.handles += 1;
                Expect::Nothing
            }
            Op::Recheck => Expect::Nothing,
            Op::DropHandle => {
                state.handles -= 1;
                if state.handles == 0 {
                    let _ = m.close();
                }
                Expect::Nothing
            }
        };
        state
    }
}

/// The system under test: a real instance and what the test holds.
struct Sut {
    parent: Option<CancellationToken>,
    /// Clones of the instance; the first is used for calls.
    handles: Vec<Inst>,
    guard: Option<Guard>,
    contexts: Vec<runcycle::Context>,
    dones: Vec<Wait>,
    waits: Vec<Wait>,
    /// `Many::closed()`, taken at creation (None for One).
    closed: Option<ClosedWait>,
}

impl Sut {
    fn inst(&self) -> &Inst {
        self.handles
            .first()
            .expect("the model said a handle is left")
    }
}

struct ShotTest<const KIND: u8, const BUG: u8>(PhantomData<()>);

impl<const KIND: u8, const BUG: u8> StateMachineTest for ShotTest<KIND, BUG> {
    type SystemUnderTest = Sut;
    type Reference = Machine<KIND, BUG>;

    fn init_test(r: &RefState) -> Sut {
        let parent = match r.parent {
            Parent::None => None,
            Parent::Live => Some(CancellationToken::new()),
            Parent::Cancelled => {
                let token = CancellationToken::new();
                token.cancel();
                Some(token)
            }
        };
        let inst = Inst::new(r.model.kind(), parent.as_ref());
        let closed = match &inst {
            Inst::One(_) => None,
            Inst::Many(many) => Some(many.closed()),
        };
        Sut {
            closed,
            parent,
            handles: vec![inst],
            guard: None,
            contexts: Vec::new(),
            dones: Vec::new(),
            waits: Vec::new(),
        }
    }

    fn apply(mut sut: Sut, r: &RefState, op: Op) -> Sut {
        let want = &r.expect;
        let m = &r.model;
        match op {
            Op::Start => {
                let got = sut.inst().start();
                let got_unit = got.as_ref().map(|_| ()).map_err(|e| *e);
                assert_eq!(&Expect::Start(got_unit), want, "{op:?}");
                if let Ok(guard) = got {
                    assert!(sut.guard.is_none(), "two guards at once");
                    sut.guard = Some(guard);
                }
            }
            Op::Complete { explicit } => {
                let guard = sut.guard.take().expect("the model said a guard is held");
                if explicit {
                    guard.complete();
                } else {
                    drop(guard);
                }
            }
            Op::Stop { keep } => {
                let Expect::Stop(want) = want else {
                    unreachable!()
                };
                match (sut.inst().stop(), want) {
                    (Ok(stopping), Ok((want_prev, w))) => {
                        assert_eq!(stopping.previous(), *want_prev, "{op:?}: previous state");
                        check_done(stopping.is_done(), *w, m, "the wait stop returned");
                        if keep {
                            sut.waits.push(stopping.into_wait());
                        }
                    }
                    (got, _) => assert_eq!(
                        got.map(|t| t.previous()),
                        want.map(|(prev, _)| prev),
                        "{op:?}"
                    ),
                }
            }
            Op::Close { keep } => {
                let Expect::Close(want_prev, w) = want else {
                    unreachable!()
                };
                let closing = sut.inst().close();
                assert_eq!(closing.previous(), *want_prev, "{op:?}: previous state");
                check_done(closing.is_done(), *w, m, "the wait close returned");
                if keep {
                    sut.waits.push(closing.into_wait());
                }
            }
            Op::ParentCancel => sut.parent.as_ref().expect("a parent").cancel(),
            Op::TakeContext => {
                let ctx = sut.inst().context();
                sut.contexts.push(ctx);
            }
            Op::TakeGuardContext => {
                let ctx = sut.guard.as_ref().expect("a guard").context();
                sut.contexts.push(ctx);
            }
            Op::TakeDone => {
                let done = sut.inst().done();
                sut.dones.push(done);
            }
            Op::CloneHandle => {
                let inst = sut.inst().clone();
                sut.handles.push(inst);
            }
            Op::DropHandle => drop(sut.handles.pop()),
            Op::Recheck => {}
        }
        sut
    }

    fn check_invariants(sut: &Sut, r: &RefState) {
        let m = &r.model;
        assert_eq!(sut.handles.len(), r.handles, "handles");
        assert_eq!(sut.guard.is_some(), m.is_running(), "a guard is held");
        if let Some(inst) = sut.handles.first() {
            assert_eq!(inst.state(), m.state(), "state() in {:?}", m.phase());
            assert_eq!(
                inst.done().is_done(),
                m.done_resolved(),
                "done() resolved in {:?}",
                m.phase()
            );
            if let Inst::Many(many) = inst {
                assert_eq!(
                    many.run_number(),
                    r.starts,
                    "run_number() in {:?}",
                    m.phase()
                );
            }
            if r.eager_context {
                assert_eq!(
                    inst.context().is_cancelled(),
                    m.context_cancelled(),
                    "context() cancelled in {:?}",
                    m.phase()
                );
            }
        }
        if let Some(closed) = &sut.closed {
            assert_eq!(
                closed.is_done(),
                m.state() == State::Closed,
                "closed() resolved in {:?}",
                m.phase()
            );
        }
        assert_eq!(sut.contexts.len(), r.contexts.len());
        for (i, (ctx, run)) in sut.contexts.iter().zip(&r.contexts).enumerate() {
            assert_eq!(
                ctx.is_cancelled(),
                m.run_context_cancelled(*run),
                "context #{i} (taken in run {run}) cancelled"
            );
        }
        assert_eq!(sut.dones.len(), r.dones.len());
        for (i, (done, w)) in sut.dones.iter().zip(&r.dones).enumerate() {
            check_done(done.is_done(), *w, m, &format!("done() #{i}"));
        }
        assert_eq!(sut.waits.len(), r.waits.len());
        for (i, (wait, w)) in sut.waits.iter().zip(&r.waits).enumerate() {
            check_done(wait.is_done(), *w, m, &format!("stop/close wait #{i}"));
        }
    }
}

/// A wait (a `Wait`, or the one a `Transition` holds) is resolved exactly
/// when the model's wait `w` is.
fn check_done(is_done: bool, w: WaitRef, m: &Model, what: &str) {
    assert_eq!(
        is_done,
        m.wait_resolved(w),
        "{what} ({w:?}) resolved, in {:?}",
        m.phase()
    );
}

type OneTest = ShotTest<ONE, 0>;
type ManyTest = ShotTest<MANY, 0>;

prop_state_machine! {
    #![proptest_config(model::config(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/proptest-regressions/model_sequential/one.txt"
    )))]
    /// `One`: sequences of 1 to 50 steps agree with the model.
    #[test]
    fn one_matches_model(sequential 1..=50 => OneTest);
}

prop_state_machine! {
    #![proptest_config(model::config(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/proptest-regressions/model_sequential/many.txt"
    )))]
    /// `Many`: sequences of 1 to 50 steps, with restarts, agree with the model.
    #[test]
    fn many_matches_model(sequential 1..=50 => ManyTest);
}

// ---- the model against the spec document --------------------------------

/// A fresh model of `kind` driven into the spec state `state`, the way
/// `tests/spec_rows.rs` drives the real types.
fn model_in(kind: Kind, state: &str) -> Model {
    let mut m = Model::new(kind);
    match state {
        "Created" => {}
        "Running" => m.start().unwrap(),
        "Stopping" => {
            m.start().unwrap();
            m.stop().unwrap();
        }
        "Closing" => {
            m.start().unwrap();
            let _ = m.close();
        }
        "Stopped" => {
            m.start().unwrap();
            m.complete();
        }
        "Closed" => {
            let _ = m.close();
        }
        _ => panic!("unknown state {state}"),
    }
    assert_eq!(m.phase().name(), state);
    m
}

/// Every row of the spec's Transitions and Reads tables, against the model
/// (not the crate): the model looks the spec's cells up, this checks that it
/// applies them right (run numbers, per-run flags, what each wait waits for).
#[test]
fn model_matches_spec_document() {
    let doc = spec::document();
    let reads = spec::reads(&doc);
    let check_reads = |m: &Model, what: &str| {
        let name = m.phase().name();
        let row = reads
            .iter()
            .find(|r| r.state == name)
            .unwrap_or_else(|| panic!("spec: no reads row for {name}"));
        let public = format!("{:?}", m.state());
        assert_eq!(public, row.public_state, "{what}: state()");
        assert_eq!(
            m.context_cancelled(),
            row.context_cancelled,
            "{what}: context"
        );
        assert_eq!(m.done_resolved(), row.done_resolved, "{what}: done");
    };
    let rows = spec::transitions(&doc);
    assert!(rows.len() >= 40, "spec: {} rows", rows.len());
    for row in &rows {
        let what = format!("{} {} {}", row.kind, row.state, row.event);
        let kind = match row.kind.as_str() {
            "One" => Kind::One,
            "Many" => Kind::Many,
            k => panic!("unknown kind {k}"),
        };
        let mut m = model_in(kind, &row.state);
        check_reads(&m, &what);
        let run = m.run();
        let (ctx_before, done_before) = (
            m.run_context_cancelled(run),
            m.wait_resolved(WaitRef::Run(run)),
        );
        let (returns, wait) = match row.event.as_str() {
            "start" => (
                match m.start() {
                    Ok(()) => "ok".to_string(),
                    Err(e) => format!("Err({e:?})"),
                },
                None,
            ),
            "complete" => {
                m.complete();
                ("ok".to_string(), None)
            }
            "stop" => match m.stop() {
                Ok((_, w)) => ("ok".to_string(), Some(w)),
                Err(e) => (format!("Err({e:?})"), None),
            },
            "close" => ("ok".to_string(), Some(m.close().1)),
            "parent-cancel" => {
                m.parent_cancel();
                ("ok".to_string(), None)
            }
            e => panic!("unknown event {e}"),
        };
        assert_eq!(m.phase().name(), row.next, "{what}: next");
        assert_eq!(returns, row.returns, "{what}: returns");
        let ctx_after = m.run_context_cancelled(run);
        assert_eq!(
            !ctx_before && ctx_after,
            row.cancels_context,
            "{what}: cancels context"
        );
        let done_after = m.wait_resolved(WaitRef::Run(run));
        assert_eq!(
            !done_before && done_after,
            row.resolves_done,
            "{what}: resolves done"
        );
        assert_eq!(m.run() != run, row.new_run, "{what}: new run");
        if row.new_run {
            assert!(
                !m.context_cancelled() && !m.done_resolved(),
                "{what}: fresh run"
            );
        }
        let waits = matches!(wait, Some(WaitRef::Run(_)));
        assert_eq!(waits, row.waits, "{what}: call waits");
        if let Some(w) = wait {
            assert_eq!(m.wait_resolved(w), !row.waits, "{what}: the call's wait");
        }
        check_reads(&m, &format!("{what} (after)"));
    }
}

// ---- the property can fail ------------------------------------------------

/// Runs the sequential property of `T` (a deliberately wrong model) with a
/// fixed seed and no seed file; returns the shrunk counterexample.
fn shrunk_counterexample<T>() -> (RefState, Vec<Op>)
where
    T: StateMachineTest<Reference: ReferenceStateMachine<State = RefState, Transition = Op>>,
{
    let config = Config {
        cases: 10_000,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(
        config.clone(),
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let strategy = T::Reference::sequential_strategy(1..=50);
    let result = runner.run(
        &strategy,
        |(init, ops, seen): (RefState, Vec<Op>, Option<Arc<AtomicUsize>>)| {
            T::test_sequential(config.clone(), init, ops, seen);
            Ok(())
        },
    );
    match result {
        Err(TestError::Fail(reason, (init, ops, _))) => {
            println!("shrunk counterexample: {ops:?}\n  initial: {init:?}\n  failure: {reason}");
            (init, ops)
        }
        Err(e) => panic!("the runner gave up: {e}"),
        Ok(()) => panic!("a wrong model passed {} cases", config.cases),
    }
}

#[test]
fn wrong_model_stop_then_close_is_caught() {
    let (_, ops) = shrunk_counterexample::<ShotTest<MANY, 1>>();
    assert!(ops.len() <= 6, "not shrunk: {ops:?}");
    assert!(ops.iter().any(|op| matches!(op, Op::Complete { .. })));
}

#[test]
fn wrong_model_stop_on_stopped_is_caught() {
    let (_, ops) = shrunk_counterexample::<ShotTest<MANY, 2>>();
    assert!(ops.len() <= 6, "not shrunk: {ops:?}");
    assert!(matches!(ops.last(), Some(Op::Stop { .. })));
}

#[test]
fn wrong_model_restart_context_is_caught() {
    let (_, ops) = shrunk_counterexample::<ShotTest<MANY, 3>>();
    assert!(ops.len() <= 6, "not shrunk: {ops:?}");
}

/// The generator gives `Many` several runs per sequence (restarts), not
/// only a start and a close.
#[test]
fn many_sequences_restart() {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let strategy = Machine::<MANY, 0>::sequential_strategy(1..=50);
    let samples = 1_000;
    let mut runs = Vec::new();
    for _ in 0..samples {
        let (init, ops, _) = strategy.new_tree(&mut runner).unwrap().current();
        let mut state = init;
        let mut started = 0;
        for op in &ops {
            state = Machine::<MANY, 0>::apply(state, op);
            if state.expect == Expect::Start(Ok(())) {
                started += 1;
            }
        }
        // Short sequences cannot restart much: count the long half.
        if ops.len() >= 25 {
            runs.push(started);
        }
    }
    runs.sort_unstable();
    let n = runs.len();
    let median = runs[n / 2];
    let with_restarts = runs.iter().filter(|&&r| r >= 3).count();
    println!(
        "runs in Many sequences of 25 to 50 steps: median {median}, max {}, {with_restarts} of {n} with 3 or more",
        runs[n - 1]
    );
    assert!(median >= 3, "median runs {median}");
}
