#![cfg(all(not(loom), feature = "tokio"))]
//! Model-based tests of `Group` (`spec/go.md`, rules G1 to G12; the `Task`
//! model is in `tests/model_task.rs`): random sequences of calls and task
//! outcomes on the real type, compared step by step with a reference model
//! written by hand from the spec (not from the crate).
//!
//! * `group_matches_model`: a group with or without a limit (1 to 3 slots),
//!   a `Group<()>` or a `Group<u32>`, on a 2-worker runtime or on a
//!   current-thread runtime with tokio's paused clock; 1 to 40 operations:
//!   the spawn forms (`spawn`, a `()` body, `try_spawn`, named through
//!   `build_task`, named `try_spawn`) of tasks that end at once, when
//!   released, or when the context is cancelled, each with an outcome (a
//!   value, an error, a panic); `reserve` (polled, kept) and `Slot::spawn`
//!   or dropping a slot; releasing a blocked task; `cancel`; `close`;
//!   `wait`; `abort_all`; `try_join_next` and `join_next`; and, on the
//!   paused clock, `shutdown(1 s)` (a `close` on the real clock, where a
//!   deadline would race the tasks). The model tracks the slots, the queue of
//!   waiters (queued tasks and reserves, first in first out), refusals, the
//!   abort of tasks accepted before `abort_all`, which tasks end by the
//!   cancel of a shutdown and which are aborted, and the completion order.
//!   After every operation the call's result, `is_closed()`,
//!   `context().is_cancelled()`, `len()`, `is_empty()`, `limit()`, which
//!   task bodies ran, and which reserves resolved are compared with it; the
//!   waits of `wait` and `close` must stay pending while a task is left and
//!   then report what the model reports: every failure, with the id the
//!   spawn returned and the name it was given, in completion order, the
//!   first error. At the end the runtime is dropped: the tasks still blocked
//!   or queued are reported aborted.
//! * `wrong_model_*`: the property run against deliberately wrong models
//!   (one per rule family: the context, the first error, the limit, the
//!   abort, the results, the shutdown) fails and shrinks to a short case.
//!
//! Determinism. After every operation the test waits until the group has
//! settled: `len()` equals the number of tasks the model holds (blocked,
//! parked or queued), the bodies the model says run have started, and the
//! reserves the model says resolved are ready. A task's outcome is recorded
//! before it stops counting, and its slot is freed after that: a queued
//! task starts only once the task before it has ended, so completions are
//! ordered except for the tasks that end at one cancellation or one abort,
//! all at once; the model keeps those as an unordered batch. `abort_all` is
//! applied as `cancel`, settle, `abort_all`, so that no task parked on the
//! context races the abort (either end is right, the spec leaves it open).
//! Nothing depends on timing except the 20 s bounds that turn a hang into a
//! failure, and the paused clock decides the shutdown's deadline: it fires
//! only once every task that can end has ended.
//!
//! Cases: 1,000 per property, or `PROPTEST_CASES`. Failing seeds persist in
//! `proptest-regressions/model_group/`.

mod common;

use std::any::Any;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use common::model::config;
use common::tasks::{at, poll_once};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use runcycle::{
    ClosedError, Group, GroupBuilder, GroupError, GroupWait, Slot, TaskError, TaskFailure, TaskId,
    TrySpawnError,
};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

/// The bound on anything that must happen: a hang becomes a failure.
const BOUND: Duration = Duration::from_secs(20);

/// The prefix of every panic message of the tasks here; the panic hook
/// installed by [`quiet_task_panics`] does not print them.
const MARK: &str = "model_group: ";

/// Task panics are expected by the thousand: print only the others.
fn quiet_task_panics() {
    common::tasks::quiet_panics(|info| common::tasks::marked(info, MARK));
}

/// A fresh runtime for one case: 2 workers, or the current thread with the
/// clock paused.
fn runtime(paused: bool) -> Runtime {
    if paused {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("a runtime")
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime")
    }
}

// ---- operations ----------------------------------------------------------------

/// When a task ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Until {
    /// At once (once its body runs).
    AtOnce,
    /// When the test releases it (its own oneshot channel); it ignores the
    /// context.
    Release,
    /// When the group's context is cancelled.
    Cancelled,
}

/// How a task ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// `Ok(value)` (the task's number), or `()`.
    Ok,
    /// `Err`.
    Err(u8),
    Panic(u8),
}

/// Which call spawns the task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    /// `spawn` of a `Result` body.
    Spawn,
    /// `spawn` of a body returning `()` (a `Group<()>`; in a `Group<u32>`,
    /// as `Spawn`). Its `Err` outcomes are `Ok`.
    Unit,
    /// `try_spawn`.
    Try,
    /// `build_task().name(..).spawn`.
    Named,
    /// `build_task().name(..).try_spawn`.
    NamedTry,
}

/// One step of a sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Spawn(Form, Until, Outcome),
    /// `reserve()`: polled once (it takes its place in the queue) and kept.
    Reserve,
    /// `Slot::spawn` into the `i % n`-th slot held; nothing if none.
    SlotSpawn(usize, Until, Outcome),
    /// Drops the `i % n`-th slot held; nothing if none.
    SlotDrop(usize),
    /// Releases the `i % n`-th of the `n` running tasks blocked until
    /// released; nothing if there is none.
    Release(usize),
    Cancel,
    /// `close()`; its wait is checked like `wait()`'s.
    Close,
    /// `wait()`: resolved with the model's report once no task is left,
    /// pending until then.
    Wait,
    /// `cancel()`, settle, then `abort_all()` (module doc).
    AbortAll,
    /// `try_join_next()`.
    TryJoin,
    /// `join_next()`, polled once (dropped if pending: it is cancel safe).
    JoinNext,
    /// `shutdown(1 s)`, awaited, on the paused clock; `Close` on the real
    /// clock (a deadline there would race the tasks).
    Shutdown,
}

/// One case: the group's shape and the operations.
#[derive(Clone, Debug)]
struct Case {
    limit: Option<usize>,
    /// A `Group<()>` (successes not queued), else a `Group<u32>`.
    unit: bool,
    /// A current-thread runtime with the clock paused.
    paused: bool,
    ops: Vec<Op>,
}

/// An outcome: `Ok` with weight `ok`, else an error or a panic, each with
/// weight 1.
fn outcome(ok: u32) -> BoxedStrategy<Outcome> {
    prop_oneof![
        ok => Just(Outcome::Ok),
        1 => (0..4_u8).prop_map(Outcome::Err),
        1 => (0..4_u8).prop_map(Outcome::Panic),
    ]
    .boxed()
}

/// A task: tasks parked on the context fail more often (as tasks that
/// return `Err` when cancelled do), so that several of them fail at one
/// cancellation; the others rarely, so that the context is not cancelled
/// too early in most sequences.
fn task() -> impl Strategy<Value = (Until, Outcome)> {
    prop_oneof![
        2 => (Just(Until::AtOnce), outcome(8)),
        3 => (Just(Until::Release), outcome(8)),
        3 => (Just(Until::Cancelled), outcome(1)),
    ]
}

fn form() -> impl Strategy<Value = Form> {
    prop_oneof![
        3 => Just(Form::Spawn),
        2 => Just(Form::Unit),
        2 => Just(Form::Try),
        1 => Just(Form::Named),
        1 => Just(Form::NamedTry),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        12 => (form(), task()).prop_map(|(f, (u, o))| Op::Spawn(f, u, o)),
        2 => Just(Op::Reserve),
        2 => (0..4_usize, task()).prop_map(|(i, (u, o))| Op::SlotSpawn(i, u, o)),
        1 => (0..4_usize).prop_map(Op::SlotDrop),
        6 => (0..4_usize).prop_map(Op::Release),
        1 => Just(Op::Cancel),
        1 => Just(Op::Close),
        2 => Just(Op::Wait),
        1 => Just(Op::AbortAll),
        2 => Just(Op::TryJoin),
        2 => Just(Op::JoinNext),
        1 => Just(Op::Shutdown),
    ]
}

/// A case. Not a `prop_flat_map` of the shape: proptest shrinks the parts
/// of a tuple independently, and a flat map's regenerated operations
/// would not shrink (an `Op::Shutdown` on the real clock is a `Close`).
fn case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![1 => Just(None), 2 => (1..=3_usize).prop_map(Some)],
        any::<bool>(),
        prop::bool::weighted(0.3),
        prop::collection::vec(op(), 1..=40),
    )
        .prop_map(|(limit, unit, paused, ops)| Case {
            limit,
            unit,
            paused,
            ops,
        })
}

/// The message of task `id`'s error or panic.
fn message(id: usize, outcome: Outcome) -> String {
    match outcome {
        Outcome::Ok => String::new(),
        Outcome::Err(n) => format!("task {id} failed ({n})"),
        Outcome::Panic(n) => format!("{MARK}task {id} panicked ({n})"),
    }
}

// ---- the model ---------------------------------------------------------------

/// Deliberately wrong variants of the model (`Bug::None` is the model).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bug {
    None,
    /// Wrong: a panic does not cancel the context (spec: every panic does).
    PanicKeepsContext,
    /// Wrong: the last error is reported (spec: the first).
    LastErrorWins,
    /// Wrong: `try_spawn` ignores the limit (spec: `Full`).
    TrySpawnIgnoresLimit,
    /// Wrong: `abort_all` forgets the queued tasks (spec: they are
    /// aborted too); they start when a slot frees.
    AbortForgetsQueued,
    /// Wrong: `join_next` yields the newest outcome first (spec: the
    /// completion order).
    JoinNewestFirst,
    /// Wrong: a shutdown aborts the tasks that would end on its cancel
    /// (spec: they end; only what is left at the deadline is aborted).
    ShutdownAbortsAtOnce,
}

/// What became of a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ok,
    Err,
    Panic,
    Aborted,
}

impl Kind {
    fn of(outcome: Outcome) -> Kind {
        match outcome {
            Outcome::Ok => Kind::Ok,
            Outcome::Err(_) => Kind::Err,
            Outcome::Panic(_) => Kind::Panic,
        }
    }

    fn is_failure(self) -> bool {
        self != Kind::Ok
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Accepted, waiting for a slot.
    Queued,
    /// Its body runs (blocked, or parked on the context).
    Running,
    Ended,
}

#[derive(Clone, Debug)]
struct ModelTask {
    until: Until,
    outcome: Outcome,
    name: Option<String>,
    state: State,
    /// Its body was called.
    started: bool,
    /// How it ended.
    kind: Option<Kind>,
    /// Taken by `join_next`/`try_join_next`.
    taken: bool,
}

/// A reserve's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Res {
    /// In the queue.
    Pending,
    /// Holds a slot (the test holds the `Slot`).
    Resolved,
    /// Spawned into, dropped, or refused by a close.
    Gone,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Waiter {
    Task(usize),
    Reserve(usize),
}

/// Rules G3 to G11 of `spec/go.md`.
#[derive(Clone, Debug)]
struct GroupModel {
    bug: Bug,
    limit: Option<usize>,
    unit: bool,
    closed: bool,
    cancelled: bool,
    tasks: Vec<ModelTask>,
    reserves: Vec<Res>,
    /// Queued tasks and pending reserves, first in first out.
    fifo: VecDeque<Waiter>,
    /// Every end, in completion order; each inner list is a batch of ends
    /// in any order (tasks that ended together), else one end.
    ends: Vec<Vec<usize>>,
    /// The batch being collected (ends at one cancellation or one abort).
    batch: Option<Vec<usize>>,
}

/// A call's answer, as the model predicts it.
type Answer = Result<usize, &'static str>;

impl GroupModel {
    fn new(bug: Bug, limit: Option<usize>, unit: bool) -> GroupModel {
        GroupModel {
            bug,
            limit,
            unit,
            closed: false,
            cancelled: false,
            tasks: Vec::new(),
            reserves: Vec::new(),
            fifo: VecDeque::new(),
            ends: Vec::new(),
            batch: None,
        }
    }

    /// Tasks accepted and not ended (`len()`).
    fn live(&self) -> usize {
        self.tasks
            .iter()
            .filter(|t| t.state != State::Ended)
            .count()
    }

    /// Free slots (`None`: no limit).
    fn free(&self) -> Option<usize> {
        let limit = self.limit?;
        let running = self
            .tasks
            .iter()
            .filter(|t| t.state == State::Running)
            .count();
        let held = self
            .reserves
            .iter()
            .filter(|r| **r == Res::Resolved)
            .count();
        Some(limit - running - held)
    }

    fn has_free(&self) -> bool {
        self.free().is_none_or(|n| n > 0)
    }

    fn ends_at_once(&self, id: usize) -> bool {
        let t = &self.tasks[id];
        t.until == Until::AtOnce || (t.until == Until::Cancelled && self.cancelled)
    }

    /// Task `id` ends (`kind`): recorded first, then the context is
    /// cancelled if it failed (rule G7), then its slot frees (rule G4).
    fn end(&mut self, id: usize, kind: Kind) {
        let task = &mut self.tasks[id];
        assert_ne!(task.state, State::Ended, "task {id} ended twice");
        task.state = State::Ended;
        task.kind = Some(kind);
        match &mut self.batch {
            Some(batch) => batch.push(id),
            None => self.ends.push(vec![id]),
        }
        let cancels = kind.is_failure()
            && !(kind == Kind::Panic && self.bug == Bug::PanicKeepsContext)
            && !self.cancelled;
        if cancels {
            // The tasks parked on the context end at once, and so does
            // what the slot this task frees (after the cancel) starts.
            let outer = self.batch.is_none();
            if outer {
                self.batch = Some(Vec::new());
            }
            self.cancel();
            self.pump();
            if outer {
                self.close_batch();
            }
        } else {
            self.pump();
        }
    }

    /// Gives free slots to the queue's head, in order; a task whose body
    /// ends at once ends.
    fn pump(&mut self) {
        while self.has_free() {
            let Some(waiter) = self.fifo.pop_front() else {
                return;
            };
            match waiter {
                Waiter::Reserve(r) => self.reserves[r] = Res::Resolved,
                Waiter::Task(id) => self.start(id),
            }
        }
    }

    /// Task `id`'s body is called (it holds a slot).
    fn start(&mut self, id: usize) {
        let task = &mut self.tasks[id];
        task.state = State::Running;
        task.started = true;
        if self.ends_at_once(id) {
            self.end(id, Kind::of(self.tasks[id].outcome));
        }
    }

    /// The context is cancelled (by `cancel`, `close`, a failure): every
    /// task parked on it ends, with the queued tasks the freed slots start,
    /// all at once, in no particular order.
    fn cancel(&mut self) {
        if self.cancelled {
            return;
        }
        self.cancelled = true;
        let outer = self.batch.is_none();
        if outer {
            self.batch = Some(Vec::new());
        }
        let parked: Vec<usize> = (0..self.tasks.len())
            .filter(|&id| {
                self.tasks[id].state == State::Running && self.tasks[id].until == Until::Cancelled
            })
            .collect();
        for id in parked {
            self.end(id, Kind::of(self.tasks[id].outcome));
        }
        if outer {
            self.close_batch();
        }
    }

    fn close_batch(&mut self) {
        if let Some(batch) = self.batch.take() {
            if !batch.is_empty() {
                self.ends.push(batch);
            }
        }
    }

    /// A spawn form (rule G3): `Closed`, `Full` (`try_spawn` only), or
    /// accepted: running if a slot is free, else queued (`spawn`).
    fn spawn(&mut self, form: Form, until: Until, outcome: Outcome) -> Answer {
        let trying = matches!(form, Form::Try | Form::NamedTry);
        if self.closed {
            return Err("closed");
        }
        let free = self.has_free() && self.fifo.is_empty();
        if trying && !free && self.bug != Bug::TrySpawnIgnoresLimit {
            return Err("full");
        }
        let id = self.tasks.len();
        let named = matches!(form, Form::Named | Form::NamedTry);
        self.tasks.push(ModelTask {
            until,
            outcome,
            name: named.then(|| format!("t{id}")),
            state: State::Queued,
            started: false,
            kind: None,
            taken: false,
        });
        if free || trying {
            self.start(id);
        } else {
            self.fifo.push_back(Waiter::Task(id));
        }
        Ok(id)
    }

    /// `reserve()`: refused if closed; a slot at once if one is free (or
    /// no limit); else queued. The reserve's number.
    fn reserve(&mut self) -> usize {
        let r = self.reserves.len();
        if self.closed {
            self.reserves.push(Res::Gone);
        } else if self.has_free() && self.fifo.is_empty() {
            self.reserves.push(Res::Resolved);
        } else {
            self.reserves.push(Res::Pending);
            self.fifo.push_back(Waiter::Reserve(r));
        }
        r
    }

    /// The resolved reserves whose slot the test holds.
    fn held(&self) -> Vec<usize> {
        (0..self.reserves.len())
            .filter(|&r| self.reserves[r] == Res::Resolved)
            .collect()
    }

    /// `Slot::spawn` of reserve `r`'s slot: refused if closed (the slot
    /// frees), else the task runs in it.
    fn slot_spawn(&mut self, r: usize, until: Until, outcome: Outcome) -> Answer {
        self.reserves[r] = Res::Gone;
        if self.closed {
            self.pump();
            return Err("closed");
        }
        let id = self.tasks.len();
        self.tasks.push(ModelTask {
            until,
            outcome,
            name: None,
            state: State::Queued,
            started: false,
            kind: None,
            taken: false,
        });
        self.start(id);
        Ok(id)
    }

    fn slot_drop(&mut self, r: usize) {
        self.reserves[r] = Res::Gone;
        self.pump();
    }

    /// `close` (rule G5): closed, waiting reserves refused, the context
    /// cancelled.
    fn close(&mut self) {
        self.closed = true;
        let reserves = &mut self.reserves;
        self.fifo.retain(|w| match *w {
            Waiter::Reserve(r) => {
                reserves[r] = Res::Gone;
                false
            }
            Waiter::Task(_) => true,
        });
        self.cancel();
    }

    /// Releases the `i % n`-th blocked running task; its number, if any.
    fn release(&mut self, i: usize) -> Option<usize> {
        let blocked: Vec<usize> = (0..self.tasks.len())
            .filter(|&id| {
                self.tasks[id].state == State::Running && self.tasks[id].until == Until::Release
            })
            .collect();
        if blocked.is_empty() {
            return None;
        }
        let id = blocked[i % blocked.len()];
        self.end(id, Kind::of(self.tasks[id].outcome));
        Some(id)
    }

    /// Every task not ended is aborted, all at once (rule G9, after the
    /// cancel; and the runtime's shutdown, rule G11); queued tasks never
    /// start. `queued_too: false` is the wrong model's.
    fn abort(&mut self, queued_too: bool) {
        let victims: Vec<usize> = (0..self.tasks.len())
            .filter(|&id| match self.tasks[id].state {
                State::Running => true,
                State::Queued => queued_too,
                State::Ended => false,
            })
            .collect();
        self.fifo
            .retain(|w| !matches!(w, Waiter::Task(id) if victims.contains(id)));
        if !victims.is_empty() {
            // Cancelled already (abort_all, shutdown), or by the first abort
            // (the runtime's shutdown, whose parked tasks ended before).
            self.cancelled = true;
        }
        self.batch = Some(Vec::new());
        for &id in &victims {
            let task = &mut self.tasks[id];
            task.state = State::Ended;
            task.kind = Some(Kind::Aborted);
            self.batch.as_mut().unwrap().push(id);
        }
        self.close_batch();
        self.pump();
    }

    /// `abort_all` once the context is cancelled (module doc).
    fn abort_all(&mut self) {
        self.cancel();
        self.abort(self.bug != Bug::AbortForgetsQueued);
    }

    /// `shutdown(timeout)` on the paused clock (rule G10): close, every task
    /// that can end ends, the deadline passes, the rest is aborted.
    fn shutdown(&mut self) {
        if self.bug == Bug::ShutdownAbortsAtOnce {
            self.closed = true;
            self.abort(true);
            self.close();
            return;
        }
        self.close();
        self.abort(true);
    }

    /// Outcomes `join_next` may yield next: the untaken ones it queues (a
    /// `Group<()>` queues failures only) of the first batch holding any.
    fn next_outcomes(&self) -> Vec<usize> {
        let queued = |id: &usize| {
            let t = &self.tasks[*id];
            !t.taken && (!self.unit || t.kind.is_some_and(Kind::is_failure))
        };
        let batches: Box<dyn Iterator<Item = &Vec<usize>>> = if self.bug == Bug::JoinNewestFirst {
            Box::new(self.ends.iter().rev())
        } else {
            Box::new(self.ends.iter())
        };
        for batch in batches {
            let open: Vec<usize> = batch.iter().copied().filter(queued).collect();
            if !open.is_empty() {
                return open;
            }
        }
        Vec::new()
    }

    /// The failures in completion order, batches kept.
    fn failures(&self) -> Vec<Vec<usize>> {
        self.ends
            .iter()
            .map(|b| {
                b.iter()
                    .copied()
                    .filter(|id| self.tasks[*id].kind.is_some_and(Kind::is_failure))
                    .collect::<Vec<_>>()
            })
            .filter(|b| !b.is_empty())
            .collect()
    }

    /// The tasks whose error may be the report's first (rule G7).
    fn first_error(&self) -> Vec<usize> {
        let errors = |b: &&Vec<usize>| -> Vec<usize> {
            b.iter()
                .copied()
                .filter(|id| self.tasks[*id].kind == Some(Kind::Err))
                .collect()
        };
        let batches: Vec<Vec<usize>> = self.ends.iter().map(|b| errors(&b)).collect();
        let mut with = batches.into_iter().filter(|b| !b.is_empty());
        if self.bug == Bug::LastErrorWins {
            with.next_back().unwrap_or_default()
        } else {
            with.next().unwrap_or_default()
        }
    }
}

// ---- the test ------------------------------------------------------------------

/// A task body's progress, as the body itself records it.
const NOT_RUN: u8 = 0;
const RUNNING: u8 = 1;
const ENDED: u8 = 2;

/// The value type of the group under test: `()` or `u32` (a task's value is
/// its number).
trait Val: Send + Sync + 'static + Copy + PartialEq + std::fmt::Debug {
    fn of(id: usize) -> Self;
}

impl Val for () {
    fn of(_: usize) {}
}

impl Val for u32 {
    fn of(id: usize) -> u32 {
        u32::try_from(id).expect("few tasks")
    }
}

type ReserveFuture<V> = Pin<Box<dyn Future<Output = Result<Slot<V>, ClosedError>> + Send>>;
type Body<O> = Pin<Box<dyn Future<Output = O> + Send>>;

/// What the test holds besides the group.
struct Harness<V> {
    paused: bool,
    /// Per model task: the sender that releases it, and its id.
    senders: Vec<Option<oneshot::Sender<()>>>,
    ids: Vec<TaskId>,
    /// Per spawn call: the model task (if accepted) and its body's progress.
    bodies: Vec<(Option<usize>, Arc<AtomicU8>)>,
    /// Waits of `wait` and `close` not resolved yet.
    pending: Vec<GroupWait<V>>,
    /// Per model reserve: its future while pending, its slot once resolved.
    reserves: Vec<Option<ReserveFuture<V>>>,
    slots: Vec<Option<Slot<V>>>,
    /// The failures of the last report (each later one extends them).
    reported: Vec<(usize, Kind)>,
}

async fn park(until: Until, ctx: &runcycle::Context, release: oneshot::Receiver<()>) {
    match until {
        Until::AtOnce => {}
        Until::Release => {
            let _ = release.await;
        }
        Until::Cancelled => ctx.cancelled().await,
    }
}

/// The body of model task `id`, returning `Result<V, String>`.
fn body<V: Val>(
    id: usize,
    until: Until,
    outcome: Outcome,
    progress: Arc<AtomicU8>,
    release: oneshot::Receiver<()>,
) -> impl FnOnce(runcycle::Context) -> Body<Result<V, String>> + Send + 'static {
    move |ctx| {
        Box::pin(async move {
            progress.store(RUNNING, Ordering::SeqCst);
            park(until, &ctx, release).await;
            progress.store(ENDED, Ordering::SeqCst);
            match outcome {
                Outcome::Ok => Ok(V::of(id)),
                Outcome::Err(_) => Err(message(id, outcome)),
                Outcome::Panic(_) => std::panic::panic_any(message(id, outcome)),
            }
        })
    }
}

/// The body of model task `id`, returning `()` (a `Group<()>`).
fn unit_body(
    id: usize,
    until: Until,
    outcome: Outcome,
    progress: Arc<AtomicU8>,
    release: oneshot::Receiver<()>,
) -> impl FnOnce(runcycle::Context) -> Body<()> + Send + 'static {
    move |ctx| {
        Box::pin(async move {
            progress.store(RUNNING, Ordering::SeqCst);
            park(until, &ctx, release).await;
            progress.store(ENDED, Ordering::SeqCst);
            if let Outcome::Panic(_) = outcome {
                std::panic::panic_any(message(id, outcome));
            }
        })
    }
}

/// The model task that got `id`.
fn index_of<V>(h: &Harness<V>, id: Option<TaskId>) -> Result<usize, TestCaseError> {
    let Some(id) = id else {
        return Err(TestCaseError::fail("a failure without an id"));
    };
    h.ids
        .iter()
        .position(|x| *x == id)
        .ok_or_else(|| TestCaseError::fail(format!("{id}: no spawn returned this id")))
}

/// A failure as the model names it; checks its name and message.
fn failure_of<V>(
    model: &GroupModel,
    h: &Harness<V>,
    f: &TaskFailure,
) -> Result<(usize, Kind), TestCaseError> {
    let i = index_of(h, f.id())?;
    let task = &model.tasks[i];
    prop_assert_eq!(f.name(), task.name.as_deref(), "task {}'s name", i);
    let kind = match f.error() {
        TaskError::Failed(e) => {
            prop_assert_eq!(e.to_string(), message(i, task.outcome));
            Kind::Err
        }
        TaskError::Panicked(p) => {
            let expected = message(i, task.outcome);
            prop_assert_eq!(p.message(), Some(expected.as_str()));
            Kind::Panic
        }
        TaskError::Aborted => Kind::Aborted,
        other => return Err(TestCaseError::fail(format!("unknown outcome {other:?}"))),
    };
    Ok((i, kind))
}

/// Compares a report of `wait`/`close`/`shutdown` with the model (rule G7):
/// every failure, batch by batch in completion order, with its id, name,
/// message; the first error; sticky (extends the last report).
fn check_report<V>(
    model: &GroupModel,
    h: &mut Harness<V>,
    report: &Result<(), GroupError>,
    what: &str,
) -> Result<(), TestCaseError> {
    let expected = model.failures();
    let Err(r) = report else {
        prop_assert!(
            expected.is_empty(),
            "{what}: Ok, the model expects {expected:?}"
        );
        return Ok(());
    };
    let actual = r
        .failures()
        .iter()
        .map(|f| failure_of(model, h, f))
        .collect::<Result<Vec<_>, _>>()?;
    let total: usize = expected.iter().map(Vec::len).sum();
    prop_assert_eq!(
        actual.len(),
        total,
        "{}: failures {:?}, the model expects {:?}",
        what,
        actual,
        expected
    );
    let mut start = 0;
    for batch in &expected {
        let mut got: Vec<(usize, Kind)> = actual[start..start + batch.len()].to_vec();
        let mut want: Vec<(usize, Kind)> = batch
            .iter()
            .map(|&i| (i, model.tasks[i].kind.expect("ended")))
            .collect();
        got.sort_by_key(|x| x.0);
        want.sort_by_key(|x| x.0);
        prop_assert_eq!(
            &got,
            &want,
            "{}: failures {:?}, the model expects {:?}",
            what,
            actual,
            expected
        );
        start += batch.len();
    }
    prop_assert!(
        actual.starts_with(&h.reported),
        "{what}: {actual:?} does not extend the last report {:?}",
        h.reported
    );
    h.reported = actual.clone();
    // The first error: the first `Err` in completion order.
    let first = model.first_error();
    match r.first_error() {
        None => prop_assert!(
            first.is_empty(),
            "{what}: no error, the model expects {first:?}"
        ),
        Some(f) => {
            let i = index_of(h, f.id())?;
            prop_assert!(
                first.contains(&i),
                "{what}: error of {i}, the model expects {first:?}"
            );
            let e = r.error().map(ToString::to_string);
            prop_assert_eq!(e, Some(message(i, model.tasks[i].outcome)));
        }
    }
    let count = |k: Kind| actual.iter().filter(|x| x.1 == k).count();
    prop_assert_eq!(r.panics().len(), count(Kind::Panic), "{}: panics()", what);
    prop_assert_eq!(
        r.aborted().len(),
        count(Kind::Aborted),
        "{}: aborted()",
        what
    );
    Ok(())
}

/// An outcome of `join_next`/`try_join_next` against the model (rule G8).
fn check_join<V: Val>(
    model: &mut GroupModel,
    h: &Harness<V>,
    actual: Option<Result<(TaskId, V), TaskFailure>>,
    what: &str,
) -> Result<(), TestCaseError> {
    let next = model.next_outcomes();
    let Some(outcome) = actual else {
        prop_assert!(
            next.is_empty(),
            "{what}: None, the model expects one of {next:?}"
        );
        return Ok(());
    };
    let (i, kind) = match &outcome {
        Ok((id, value)) => {
            let i = index_of(h, Some(*id))?;
            prop_assert_eq!(*value, V::of(i), "{}: the value of task {}", what, i);
            (i, Kind::Ok)
        }
        Err(f) => failure_of(model, h, f)?,
    };
    prop_assert!(
        next.contains(&i),
        "{what}: task {i}, the model expects one of {next:?}"
    );
    prop_assert_eq!(Some(kind), model.tasks[i].kind, "{}: task {}", what, i);
    model.tasks[i].taken = true;
    Ok(())
}

/// Whether the group has settled on the model's state (module doc); an
/// error for a state it cannot come back from.
async fn settled<V: Val>(
    group: &Group<V>,
    model: &GroupModel,
    h: &mut Harness<V>,
) -> Result<bool, TestCaseError> {
    let (len, live) = (group.len(), model.live());
    prop_assert!(len >= live, "len() is {len}, the model holds {live} tasks");
    let mut done = len == live;
    for (call, (task, body)) in h.bodies.iter().enumerate() {
        let body = body.load(Ordering::SeqCst);
        let Some(i) = task else { continue };
        let t = &model.tasks[*i];
        match t.state {
            State::Queued => {
                prop_assert_eq!(body, NOT_RUN, "queued task {} (call #{}) ran", i, call)
            }
            State::Running => {
                prop_assert!(body != ENDED, "task {i} ended, the model holds it running");
                done &= body == RUNNING;
            }
            State::Ended => {}
        }
    }
    for r in 0..model.reserves.len() {
        let Some(future) = &mut h.reserves[r] else {
            continue;
        };
        match (model.reserves[r], poll_once(future).await) {
            (Res::Resolved, Poll::Ready(Ok(slot))) => {
                h.reserves[r] = None;
                h.slots[r] = Some(slot);
            }
            (Res::Resolved, Poll::Pending) => done = false,
            (Res::Pending, Poll::Pending) => {}
            (state, Poll::Ready(got)) => {
                return Err(TestCaseError::fail(format!(
                    "reserve #{r} gave {got:?}, the model says {state:?}"
                )))
            }
            (Res::Gone, Poll::Pending) => {
                return Err(TestCaseError::fail(format!("reserve #{r} still pending")))
            }
        }
    }
    Ok(done)
}

/// Waits until the group has settled (20 s bound).
async fn settle<V: Val>(
    group: &Group<V>,
    model: &GroupModel,
    h: &mut Harness<V>,
) -> Result<(), TestCaseError> {
    let deadline = Instant::now() + BOUND;
    let mut spins = 0_u32;
    while !settled(group, model, h).await? {
        prop_assert!(
            Instant::now() < deadline,
            "hang: len() stays {}, the model holds {} tasks",
            group.len(),
            model.live()
        );
        spins += 1;
        if h.paused {
            // The current thread runs the tasks when this one yields.
            tokio::task::yield_now().await;
        } else {
            // The test thread is not one of the runtime's workers: blocking
            // it briefly leaves them the CPU.
            std::thread::sleep(Duration::from_micros(if spins < 100 { 10 } else { 500 }));
        }
    }
    Ok(())
}

/// Polls every pending reserve once after a close: each is refused (and
/// dropped, giving its place back).
async fn refuse_reserves<V: Val>(h: &mut Harness<V>) -> Result<(), TestCaseError> {
    for (r, slot) in h.reserves.iter_mut().enumerate() {
        if let Some(future) = slot {
            let poll = poll_once(future).await;
            prop_assert!(
                matches!(poll, Poll::Ready(Err(ClosedError { .. }))),
                "reserve #{} after the close: {:?}",
                r,
                poll
            );
            *slot = None;
        }
    }
    Ok(())
}

fn closed<E>(_: E) -> &'static str {
    "closed"
}

fn try_error(e: TrySpawnError) -> &'static str {
    match e {
        TrySpawnError::Full => "full",
        _ => "closed",
    }
}

/// Runs `op` on the group and the model; returns the wait it made, if any.
#[allow(clippy::too_many_lines)]
async fn apply<V: Val>(
    group: &Group<V>,
    model: &mut GroupModel,
    h: &mut Harness<V>,
    op: Op,
) -> Result<Option<GroupWait<V>>, TestCaseError> {
    match op {
        Op::Spawn(_, until, outcome) | Op::SlotSpawn(_, until, outcome)
            if !matches!(op, Op::SlotSpawn(..)) || !model.held().is_empty() =>
        {
            let form = form_of(op).unwrap_or(Form::Spawn);
            let id = model.tasks.len();
            let unit_body_here = form_of(op) == Some(Form::Unit) && model.unit;
            let outcome = match outcome {
                Outcome::Err(_) if unit_body_here => Outcome::Ok,
                other => other,
            };
            let (tx, rx) = oneshot::channel();
            let progress = Arc::new(AtomicU8::new(NOT_RUN));
            let p = Arc::clone(&progress);
            let name = format!("t{id}");
            let (actual, expected) = match op {
                Op::SlotSpawn(i, ..) => {
                    let held = model.held();
                    let r = held[i % held.len()];
                    let slot = h.slots[r].take().expect("a held slot");
                    let actual = slot
                        .spawn(body::<V>(id, until, outcome, p, rx))
                        .map_err(closed);
                    (actual, model.slot_spawn(r, until, outcome))
                }
                _ => {
                    let actual = match form {
                        Form::Unit if model.unit => {
                            let unit = (group as &dyn Any)
                                .downcast_ref::<Group<()>>()
                                .expect("a Group<()>");
                            unit.spawn(unit_body(id, until, outcome, p, rx))
                                .map_err(closed)
                        }
                        Form::Spawn | Form::Unit => group
                            .spawn(body::<V>(id, until, outcome, p, rx))
                            .map_err(closed),
                        Form::Try => group
                            .try_spawn(body::<V>(id, until, outcome, p, rx))
                            .map_err(try_error),
                        Form::Named => group
                            .build_task()
                            .name(name)
                            .spawn(body::<V>(id, until, outcome, p, rx))
                            .map_err(closed),
                        Form::NamedTry => group
                            .build_task()
                            .name(name)
                            .try_spawn(body::<V>(id, until, outcome, p, rx))
                            .map_err(try_error),
                    };
                    (actual, model.spawn(form, until, outcome))
                }
            };
            prop_assert_eq!(actual.map(drop), expected.map(drop), "the call's result");
            if let (Ok(task_id), Ok(i)) = (actual, expected) {
                prop_assert!(!h.ids.contains(&task_id), "id {} given twice", task_id);
                h.ids.push(task_id);
                h.senders.push(Some(tx));
                assert_eq!(h.ids.len(), i + 1);
            }
            h.bodies.push((expected.ok(), progress));
            Ok(None)
        }
        Op::Spawn(..) | Op::SlotSpawn(..) => Ok(None), // no slot held
        Op::Reserve => {
            let r = model.reserve();
            let g = group.clone();
            let mut future: ReserveFuture<V> = Box::pin(async move { g.reserve().await });
            let poll = poll_once(&mut future).await;
            h.slots.push(None);
            h.reserves.push(None);
            match (model.reserves[r], poll) {
                (Res::Resolved, Poll::Ready(Ok(slot))) => h.slots[r] = Some(slot),
                (Res::Pending, Poll::Pending) => h.reserves[r] = Some(future),
                (Res::Gone, Poll::Ready(Err(ClosedError { .. }))) => {}
                (state, poll) => {
                    return Err(TestCaseError::fail(format!(
                        "reserve: {poll:?}, the model says {state:?}"
                    )))
                }
            }
            Ok(None)
        }
        Op::SlotDrop(i) => {
            let held = model.held();
            if !held.is_empty() {
                let r = held[i % held.len()];
                drop(h.slots[r].take().expect("a held slot"));
                model.slot_drop(r);
            }
            Ok(None)
        }
        Op::Release(i) => {
            if let Some(id) = model.release(i) {
                let tx = h.senders[id].take().expect("released twice");
                // A failed send means the task is gone: the checks will say.
                let _ = tx.send(());
            }
            Ok(None)
        }
        Op::Cancel => {
            group.cancel();
            model.cancel();
            Ok(None)
        }
        Op::Close => {
            let wait = group.close();
            model.close();
            refuse_reserves(h).await?;
            Ok(Some(wait))
        }
        Op::Wait => Ok(Some(group.wait())),
        Op::AbortAll => {
            group.cancel();
            model.cancel();
            settle(group, model, h).await?;
            group.abort_all();
            model.abort_all();
            Ok(None)
        }
        Op::TryJoin => {
            let actual = group.try_join_next();
            check_join(model, h, actual, "try_join_next")?;
            Ok(None)
        }
        Op::JoinNext => {
            let mut join = Box::pin(group.join_next());
            match poll_once(&mut join).await {
                Poll::Ready(None) if model.live() > 0 => Err(TestCaseError::fail(format!(
                    "join_next: None with {} tasks left",
                    model.live()
                ))),
                Poll::Ready(actual) => {
                    check_join(model, h, actual, "join_next")?;
                    Ok(None)
                }
                Poll::Pending => {
                    let next = model.next_outcomes();
                    prop_assert!(
                        next.is_empty() && model.live() > 0,
                        "join_next pending, the model expects one of {:?} ({} tasks left)",
                        next,
                        model.live()
                    );
                    Ok(None)
                }
            }
        }
        Op::Shutdown if !h.paused => Box::pin(apply(group, model, h, Op::Close)).await,
        Op::Shutdown => {
            // The shutdown's own close, made first, so that the test can
            // refuse the waiting reserves (futures it holds) before the
            // grace period; the second close inside `shutdown` changes
            // nothing.
            group.close();
            refuse_reserves(h).await?;
            let report = group.shutdown(Duration::from_secs(1)).await;
            model.shutdown();
            check_report(model, h, &report, "shutdown")?;
            Ok(None)
        }
    }
}

fn form_of(op: Op) -> Option<Form> {
    match op {
        Op::Spawn(form, ..) => Some(form),
        _ => None,
    }
}

/// The reads, compared with the model once the group has settled.
fn check_reads<V: Val>(
    group: &Group<V>,
    model: &GroupModel,
    h: &Harness<V>,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(group.is_closed(), model.closed, "is_closed()");
    prop_assert_eq!(
        group.context().is_cancelled(),
        model.cancelled,
        "context().is_cancelled()"
    );
    prop_assert_eq!(group.len(), model.live(), "len()");
    prop_assert_eq!(group.is_empty(), model.live() == 0, "is_empty()");
    prop_assert_eq!(group.limit(), model.limit, "limit()");
    for (call, (task, body)) in h.bodies.iter().enumerate() {
        let body = body.load(Ordering::SeqCst);
        let expected = match task {
            None => NOT_RUN,
            Some(i) => {
                let t = &model.tasks[*i];
                match (t.state, t.kind) {
                    (State::Queued, _) => NOT_RUN,
                    (State::Running, _) => RUNNING,
                    (State::Ended, Some(Kind::Aborted)) if t.started => RUNNING,
                    (State::Ended, Some(Kind::Aborted)) => NOT_RUN,
                    (State::Ended, _) => ENDED,
                }
            }
        };
        prop_assert_eq!(
            body,
            expected,
            "the body of call #{} (task {:?})",
            call,
            task
        );
    }
    Ok(())
}

/// The waits of `wait`/`close`: resolved, with the model's report, once no
/// task is left; still pending while one is.
async fn check_waits<V: Val>(model: &GroupModel, h: &mut Harness<V>) -> Result<(), TestCaseError> {
    if model.live() == 0 {
        let waits: Vec<_> = h.pending.drain(..).collect();
        for (i, wait) in waits.into_iter().enumerate() {
            let report = if h.paused {
                // The paused clock would skip a 20 s timeout at once.
                wait.await
            } else {
                match tokio::time::timeout(BOUND, wait).await {
                    Ok(report) => report,
                    Err(_) => {
                        return Err(TestCaseError::fail(format!(
                            "hang: wait #{i} with no task left"
                        )))
                    }
                }
            };
            check_report(model, h, &report, &format!("wait #{i}"))?;
        }
    } else {
        for (i, wait) in h.pending.iter_mut().enumerate() {
            let poll = poll_once(wait).await;
            prop_assert!(
                poll.is_pending(),
                "wait #{i} returned {poll:?} with {} tasks left",
                model.live()
            );
        }
    }
    Ok(())
}

/// One step: the operation, then the checks once the group has settled.
async fn run_step<V: Val>(
    group: &Group<V>,
    model: &mut GroupModel,
    h: &mut Harness<V>,
    op: Op,
) -> Result<(), TestCaseError> {
    let wait = apply(group, model, h, op).await?;
    settle(group, model, h).await?;
    check_reads(group, model, h)?;
    h.pending.extend(wait);
    check_waits(model, h).await
}

/// The group property: runs `case` on a fresh group and compares every
/// step with the model (`bug` selects a deliberately wrong one).
fn run_group_case(bug: Bug, case: &Case) -> Result<(), TestCaseError> {
    if case.unit {
        run_case::<()>(bug, case)
    } else {
        run_case::<u32>(bug, case)
    }
}

fn run_case<V: Val>(bug: Bug, case: &Case) -> Result<(), TestCaseError> {
    quiet_task_panics();
    let runtime = runtime(case.paused);
    let mut builder = GroupBuilder::new();
    if let Some(n) = case.limit {
        builder = builder.limit(n);
    }
    let group = builder.build::<V>();
    let mut model = GroupModel::new(bug, case.limit, case.unit);
    let mut h = Harness {
        paused: case.paused,
        senders: Vec::new(),
        ids: Vec::new(),
        bodies: Vec::new(),
        pending: Vec::new(),
        reserves: Vec::new(),
        slots: Vec::new(),
        reported: Vec::new(),
    };
    runtime.block_on(async {
        for (step, &op) in case.ops.iter().enumerate() {
            let at = |e| at(&format!("step {step} {op:?}"), e);
            run_step(&group, &mut model, &mut h, op).await.map_err(at)?;
        }
        // The first abort at the shutdown cancels the context, and tokio
        // may still poll the tasks parked on it while it shuts down (its
        // docs: dropped tasks "might" run to completion): those would end
        // rather than be aborted, an order the spec leaves open. So they
        // end first; the tasks still blocked or queued ignore the context.
        if model
            .tasks
            .iter()
            .any(|t| t.state == State::Running && t.until == Until::Cancelled)
        {
            let at = |e| at("Cancel before the shutdown", e);
            run_step(&group, &mut model, &mut h, Op::Cancel)
                .await
                .map_err(at)?;
        }
        Ok::<(), TestCaseError>(())
    })?;
    // The runtime shuts down with the blocked and queued tasks in it (the
    // senders are still held, so none is released first, nor is a held
    // slot or a waiting reserve dropped first: a freed slot would start a
    // queued task): each is reported aborted.
    drop(runtime);
    h.reserves.clear();
    h.slots.clear();
    model.abort(true);
    let at = |e| at("after the runtime's shutdown", e);
    let Ok(report) = group.wait().wait_timeout(BOUND) else {
        return Err(at(TestCaseError::fail("hang: wait")));
    };
    check_report(&model, &mut h, &report, "wait").map_err(at)?;
    for (i, wait) in std::mem::take(&mut h.pending).into_iter().enumerate() {
        let Ok(report) = wait.wait_timeout(BOUND) else {
            return Err(at(TestCaseError::fail(format!("hang: wait #{i}"))));
        };
        check_report(&model, &mut h, &report, &format!("wait #{i}")).map_err(at)?;
    }
    prop_assert_eq!(
        group.context().is_cancelled(),
        model.cancelled,
        "after the runtime's shutdown: context().is_cancelled()"
    );
    prop_assert!(group.is_empty(), "after the runtime's shutdown: is_empty()");
    // What is left to join: every queued outcome, once each.
    while let Some(outcome) = group.try_join_next() {
        check_join(&mut model, &h, Some(outcome), "try_join_next at the end").map_err(at)?;
    }
    prop_assert!(
        model.next_outcomes().is_empty(),
        "an outcome was never queued"
    );
    drop(h.senders);
    Ok(())
}

proptest! {
    #![proptest_config(config(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/proptest-regressions/model_group/group.txt"
    )))]
    /// `Group`: cases of 1 to 40 operations agree with the model.
    #[test]
    fn group_matches_model(case in case()) {
        run_group_case(Bug::None, &case)?;
    }
}

// ---- the property can fail ------------------------------------------------------

/// Runs the group property against the wrong model `bug` with a fixed seed
/// and no seed file; returns proptest's shrunk counterexample, then that
/// case with single steps removed while it still fails (proptest's shrinker
/// tries each deletion once, before shrinking the steps, and leaves steps
/// that only a later deletion makes unneeded).
fn shrunk_counterexample(bug: Bug) -> (Case, Case) {
    let config = Config {
        cases: 2_000,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(
        config.clone(),
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let shrunk = match runner.run(&case(), |case| run_group_case(bug, &case)) {
        Err(TestError::Fail(reason, case)) => {
            println!("{bug:?}: proptest's shrunk counterexample: {case:?}\n  failure: {reason}");
            case
        }
        Err(e) => panic!("the runner gave up: {e}"),
        Ok(()) => panic!("a wrong model passed {} cases", config.cases),
    };
    // Single deletions, repeated until none fails: a step that was needed
    // may stop being needed once a later one is gone.
    let mut minimal = shrunk.clone();
    loop {
        let before = minimal.ops.len();
        let mut i = 0;
        while i < minimal.ops.len() && minimal.ops.len() > 1 {
            let mut shorter = minimal.clone();
            shorter.ops.remove(i);
            match run_group_case(bug, &shorter) {
                Err(_) => minimal = shorter,
                Ok(()) => i += 1,
            }
        }
        if minimal.ops.len() == before {
            break;
        }
    }
    match run_group_case(bug, &minimal) {
        Err(TestCaseError::Fail(reason)) => {
            println!(
                "{bug:?}: minimal: {minimal:?}\n  failure: {}",
                reason.message()
            );
        }
        other => panic!("the minimal case gave {other:?}"),
    }
    (shrunk, minimal)
}

fn is_spawn(op: &Op) -> bool {
    matches!(op, Op::Spawn(..) | Op::SlotSpawn(..))
}

#[test]
fn wrong_model_panic_keeps_context_is_caught() {
    let (shrunk, minimal) = shrunk_counterexample(Bug::PanicKeepsContext);
    assert!(shrunk.ops.len() <= 5, "not shrunk: {shrunk:?}");
    // A task that panics at once (through a slot, at most): the context
    // is cancelled.
    assert!(minimal.ops.len() <= 2, "{minimal:?}");
    assert!(
        matches!(
            minimal.ops.last(),
            Some(
                Op::Spawn(_, Until::AtOnce, Outcome::Panic(_))
                    | Op::SlotSpawn(_, Until::AtOnce, Outcome::Panic(_))
            )
        ),
        "{minimal:?}"
    );
}

#[test]
fn wrong_model_last_error_wins_is_caught() {
    let (shrunk, minimal) = shrunk_counterexample(Bug::LastErrorWins);
    assert!(shrunk.ops.len() <= 5, "not shrunk: {shrunk:?}");
    // Two errors (the report, at the latest the one after the shutdown,
    // names the first) and at most a step that makes the first one end.
    assert!(minimal.ops.len() <= 3, "{minimal:?}");
    let errors = minimal
        .ops
        .iter()
        .filter(|op| {
            matches!(
                op,
                Op::Spawn(_, _, Outcome::Err(_)) | Op::SlotSpawn(_, _, Outcome::Err(_))
            )
        })
        .count();
    assert_eq!(errors, 2, "{minimal:?}");
}

/// The limit family: `try_spawn` must say `Full`.
#[test]
fn wrong_model_try_spawn_ignores_the_limit_is_caught() {
    let (shrunk, minimal) = shrunk_counterexample(Bug::TrySpawnIgnoresLimit);
    assert!(shrunk.ops.len() <= 4, "not shrunk: {shrunk:?}");
    // A limited group, slots taken, then a try_spawn.
    assert!(minimal.limit.is_some(), "{minimal:?}");
    assert!(minimal.ops.len() <= 4, "{minimal:?}");
    assert!(
        matches!(
            minimal.ops.last(),
            Some(Op::Spawn(Form::Try | Form::NamedTry, ..))
        ),
        "{minimal:?}"
    );
}

/// The abort family: queued tasks are aborted too.
#[test]
fn wrong_model_abort_forgets_queued_tasks_is_caught() {
    let (shrunk, minimal) = shrunk_counterexample(Bug::AbortForgetsQueued);
    assert!(shrunk.ops.len() <= 30, "not shrunk: {shrunk:?}");
    // A limited group, a task holding the slot, one queued, abort_all.
    assert!(minimal.limit.is_some(), "{minimal:?}");
    assert!(minimal.ops.len() <= 4, "{minimal:?}");
    assert!(minimal.ops.contains(&Op::AbortAll), "{minimal:?}");
    assert!(
        minimal.ops.iter().filter(|op| is_spawn(op)).count() >= 2,
        "{minimal:?}"
    );
}

/// The results family: `join_next` follows the completion order.
#[test]
fn wrong_model_join_newest_first_is_caught() {
    let (shrunk, minimal) = shrunk_counterexample(Bug::JoinNewestFirst);
    assert!(shrunk.ops.len() <= 4, "not shrunk: {shrunk:?}");
    // Two outcomes queued, one after the other (the test joins what is
    // left at the end, in order).
    assert!(minimal.ops.len() <= 3, "{minimal:?}");
    assert_eq!(
        minimal.ops.iter().filter(|op| is_spawn(op)).count(),
        2,
        "{minimal:?}"
    );
}

/// The shutdown family: what ends on the cancel ends, only the rest is
/// aborted.
#[test]
fn wrong_model_shutdown_aborts_at_once_is_caught() {
    let (shrunk, minimal) = shrunk_counterexample(Bug::ShutdownAbortsAtOnce);
    assert!(shrunk.ops.len() <= 3, "not shrunk: {shrunk:?}");
    // On the paused clock: a task parked on the context, then a shutdown.
    assert!(minimal.paused, "{minimal:?}");
    assert!(
        matches!(
            minimal.ops[..],
            [
                Op::Spawn(_, Until::Cancelled, _) | Op::SlotSpawn(_, Until::Cancelled, _),
                Op::Shutdown
            ]
        ),
        "{minimal:?}"
    );
}

// ---- the generator reaches the interesting cases ----------------------------

/// Runs `case` through the model only (not the crate), as `apply` does;
/// the situations it reaches.
fn situations(case: &Case) -> std::collections::BTreeSet<&'static str> {
    let mut m = GroupModel::new(Bug::None, case.limit, case.unit);
    let mut hits = std::collections::BTreeSet::new();
    let mut pending = 0;
    for &op in &case.ops {
        let (cancelled, batches) = (m.cancelled, m.ends.len());
        let queued_before: Vec<usize> = (0..m.tasks.len())
            .filter(|&i| m.tasks[i].state == State::Queued)
            .collect();
        let pending_reserves: Vec<usize> = (0..m.reserves.len())
            .filter(|&r| m.reserves[r] == Res::Pending)
            .collect();
        let live_before = m.live();
        match op {
            Op::Spawn(form, until, outcome) => {
                let outcome = match outcome {
                    Outcome::Err(_) if form == Form::Unit && m.unit => Outcome::Ok,
                    other => other,
                };
                match m.spawn(form, until, outcome) {
                    Err("full") => {
                        hits.insert("try_spawn refused: full");
                    }
                    Err(_) => {
                        hits.insert("a spawn refused after close");
                    }
                    Ok(i) if m.tasks[i].state == State::Queued => {
                        hits.insert("a task queued");
                    }
                    Ok(_) => {}
                }
            }
            Op::Reserve => {
                let r = m.reserve();
                if m.reserves[r] == Res::Pending {
                    hits.insert("a reserve waits");
                }
            }
            Op::SlotSpawn(i, until, outcome) => {
                let held = m.held();
                if !held.is_empty() && m.slot_spawn(held[i % held.len()], until, outcome).is_ok() {
                    hits.insert("Slot::spawn");
                }
            }
            Op::SlotDrop(i) => {
                let held = m.held();
                if !held.is_empty() {
                    m.slot_drop(held[i % held.len()]);
                }
            }
            Op::Release(i) => {
                m.release(i);
            }
            Op::Cancel => m.cancel(),
            Op::Close => {
                m.close();
                pending += usize::from(m.live() > 0);
            }
            Op::Wait => pending += usize::from(m.live() > 0),
            Op::AbortAll => {
                m.abort_all();
                if queued_before
                    .iter()
                    .any(|&i| m.tasks[i].kind == Some(Kind::Aborted))
                {
                    hits.insert("abort_all aborted a queued task");
                }
                if live_before > 0 && m.live() == 0 {
                    hits.insert("abort_all aborted a task");
                }
            }
            Op::TryJoin | Op::JoinNext => {
                if let Some(&i) = m.next_outcomes().first() {
                    m.tasks[i].taken = true;
                    hits.insert("an outcome joined");
                }
            }
            Op::Shutdown if !case.paused => {
                m.close();
                pending += usize::from(m.live() > 0);
            }
            Op::Shutdown => {
                let parked = m
                    .tasks
                    .iter()
                    .any(|t| t.state == State::Running && t.until == Until::Cancelled);
                let blocked = m
                    .tasks
                    .iter()
                    .any(|t| t.state != State::Ended && t.until == Until::Release);
                m.shutdown();
                if parked {
                    hits.insert("shutdown: a task ends on its cancel");
                }
                if blocked {
                    hits.insert("shutdown: a task is aborted at the deadline");
                }
            }
        }
        if queued_before.iter().any(|&i| m.tasks[i].started) {
            hits.insert("a queued task started later");
        }
        if pending_reserves
            .iter()
            .any(|&r| m.reserves[r] == Res::Resolved)
        {
            hits.insert("a waiting reserve got a slot");
        }
        if pending_reserves.iter().any(|&r| m.reserves[r] == Res::Gone) && m.closed {
            hits.insert("a waiting reserve refused by the close");
        }
        if !cancelled && m.cancelled && m.ends[batches..].iter().any(|b| b.len() > 1) {
            hits.insert("2+ tasks end at one cancellation");
        }
        if m.failures().iter().any(|b| b.len() > 1) {
            hits.insert("2+ failures in one batch");
        }
        if m.live() == 0 && pending > 0 {
            hits.insert("a pending wait resolved later");
            pending = 0;
        }
    }
    if m.first_error().len() == 1
        && m.tasks.iter().filter(|t| t.kind == Some(Kind::Err)).count() >= 2
    {
        hits.insert("2+ errors, one first");
    }
    if m.live() > 0 {
        hits.insert("tasks aborted at the runtime's shutdown");
    }
    if m.tasks.iter().any(|t| t.state == State::Queued) {
        hits.insert("queued tasks aborted at the runtime's shutdown");
    }
    hits
}

#[test]
fn group_cases_cover_the_situations() {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let strategy = case();
    let samples = 1_000;
    let mut seen = std::collections::BTreeMap::<&str, usize>::new();
    for _ in 0..samples {
        let case = strategy.new_tree(&mut runner).unwrap().current();
        for hit in situations(&case) {
            *seen.entry(hit).or_default() += 1;
        }
    }
    println!("of {samples} cases: {seen:#?}");
    assert_eq!(seen.len(), 19, "a situation is never reached: {seen:?}");
    for (what, n) in &seen {
        assert!(*n >= 10, "{what}: only {n} of {samples}");
    }
}
