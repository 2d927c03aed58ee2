#![cfg(all(not(loom), feature = "tokio"))]
//! Model-based test of `Task` (`spec/go.md`, O1-O3 and T1-T9): one task and
//! a random sequence of calls on it, run on the real type and compared step
//! by step with a reference model written by hand from the spec (not from
//! the crate).
//!
//! * `task_matches_model`: one task spawned by `spawn`, `spawn_on` or a
//!   `TaskBuilder` (with a parent, cancelled before the spawn or not, and a
//!   name or not), aborted before it runs or not; it ends at once, when
//!   released (ignoring its context), or when released or cancelled (then
//!   after a cleanup of 0, 10 or 30 ms), with a value, an error or a panic.
//!   Then 0 to 12 of: release, `cancel`, the parent's cancel, `abort`, an
//!   abort through an `abort_handle()` taken at the spawn, a sleep of 10 or
//!   20 ms, awaiting the `Task` (pending before the end, the outcome once
//!   after it, a panic after that). The case ends with `shutdown(timeout)`
//!   (0, 15 or 45 ms) or with the runtime's shutdown (then `blocking_join`
//!   from the test's thread). After every step: `is_finished()` (of the
//!   `Task` and of the abort handle), `context().is_cancelled()`, `id()`
//!   (the one the body read from `tokio::task::id()`), `name()`, `Debug`,
//!   and what the body saw: whether it ran, and the context at its return or
//!   when its future was dropped (an abort cancels the context first, T4).
//! * `wrong_model_*`: the property run against deliberately wrong models
//!   fails and shrinks to a short case.
//!
//! Determinism. The runtime is current-thread with tokio's paused clock:
//! the task runs only while the test awaits, and time moves only when both
//! are idle (to the next timer), so a cleanup, a sleep and a shutdown's
//! deadline happen at exact virtual instants, which the model counts in
//! milliseconds. Durations are chosen so no deadline can tie with a task's
//! end (cleanups and sleeps are multiples of 10 ms, timeouts are not). After
//! every step the test lets the task run until it reaches the state the model
//! says it is in (bounded by 20 s of real time, to turn a hang into a
//! failure).
//!
//! Cases: 1,000, or `PROPTEST_CASES`. Failing seeds persist in
//! `proptest-regressions/model_task/`.

mod common;

use std::cell::Cell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use common::model::config;
use common::tasks::{at, poll_once};
use futures::FutureExt as _;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use runcycle::{spawn, spawn_on, CancellationToken, Context, Task, TaskBuilder, TaskError, TaskId};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// The bound on anything that must happen (real time): a hang becomes a
/// failure.
const BOUND: Duration = Duration::from_secs(20);

/// The prefix of every panic message of the tasks here; the panic hook
/// installed by [`quiet_task_panics`] does not print them.
const MARK: &str = "model_task: ";

/// Task panics are expected by the thousand: print only the others.
fn quiet_task_panics() {
    common::tasks::quiet_panics(|info| common::tasks::marked(info, MARK) || EXPECTING_PANIC.get());
}

thread_local! {
    /// Set while this thread makes a call that must panic.
    static EXPECTING_PANIC: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f`, which may panic, with the panic hook quiet on this thread:
/// whether it panicked, else its value.
fn catch<T>(f: impl FnOnce() -> T) -> Result<T, ()> {
    EXPECTING_PANIC.set(true);
    let caught = std::panic::catch_unwind(AssertUnwindSafe(f));
    EXPECTING_PANIC.set(false);
    caught.map_err(drop)
}

/// A fresh current-thread runtime with the paused clock, for one case.
fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime")
}

// ---- the cases ----------------------------------------------------------------

/// How the task is spawned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TaskSpawn {
    /// `spawn(f)`: the parent token of the case is not linked to it.
    Spawn,
    /// `spawn_on(f, &handle)`: not linked either.
    SpawnOn,
    /// `TaskBuilder::new().parent(&parent)` (then `.name(..)` if named),
    /// with the parent cancelled before the spawn or not (T7).
    Builder { parent_cancelled: bool, named: bool },
}

/// When the task ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TaskExit {
    /// At once; a panic is then raised while building the future.
    AtOnce,
    /// When released; it ignores its context.
    OnRelease,
    /// When released, or `cleanup` ms after its context is cancelled (the
    /// cancel wins when both happened before the task could run).
    OnReleaseOrCancel { cleanup: u64 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TaskOutcome {
    Ok(u32),
    Err(u8),
    Panic(u8),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TaskOp {
    Release,
    Cancel,
    CancelParent,
    /// `Task::abort`.
    Abort,
    /// `abort()` on a clone of the handle taken at the spawn.
    AbortHandle,
    /// `tokio::time::sleep(ms)`: virtual time passes.
    Sleep(u64),
    /// Awaiting the `Task`: pending before the end (polled once); after it,
    /// the outcome, once; after that, a poll panics (T3).
    Await,
}

/// How the case ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TaskEnd {
    /// `shutdown(timeout ms)` (T5).
    Shutdown(u64),
    /// The runtime is dropped, then `blocking_join` on the test's thread.
    RuntimeShutdown,
}

#[derive(Clone, Debug)]
struct TaskCase {
    spawn: TaskSpawn,
    /// `abort()` right after the spawn, before the task could run.
    abort_at_once: bool,
    exit: TaskExit,
    outcome: TaskOutcome,
    ops: Vec<TaskOp>,
    end: TaskEnd,
}

fn task_case() -> impl Strategy<Value = TaskCase> {
    let spawn = prop_oneof![
        Just(TaskSpawn::Spawn),
        Just(TaskSpawn::SpawnOn),
        (any::<bool>(), any::<bool>()).prop_map(|(parent_cancelled, named)| {
            TaskSpawn::Builder {
                parent_cancelled,
                named,
            }
        }),
    ];
    let exit = prop_oneof![
        Just(TaskExit::AtOnce),
        Just(TaskExit::OnRelease),
        prop_oneof![Just(0_u64), Just(10), Just(30)]
            .prop_map(|cleanup| TaskExit::OnReleaseOrCancel { cleanup }),
    ];
    let outcome = prop_oneof![
        (0..100_u32).prop_map(TaskOutcome::Ok),
        (0..4_u8).prop_map(TaskOutcome::Err),
        (0..4_u8).prop_map(TaskOutcome::Panic),
    ];
    let op = prop_oneof![
        2 => Just(TaskOp::Release),
        2 => Just(TaskOp::Cancel),
        1 => Just(TaskOp::CancelParent),
        1 => Just(TaskOp::Abort),
        1 => Just(TaskOp::AbortHandle),
        2 => prop_oneof![Just(10_u64), Just(20)].prop_map(TaskOp::Sleep),
        2 => Just(TaskOp::Await),
    ];
    let end = prop_oneof![
        prop_oneof![Just(0_u64), Just(15), Just(45)].prop_map(TaskEnd::Shutdown),
        Just(TaskEnd::RuntimeShutdown),
    ];
    (
        spawn,
        prop::bool::weighted(0.1),
        exit,
        outcome,
        prop::collection::vec(op, 0..=12),
        end,
    )
        .prop_map(|(spawn, abort_at_once, exit, outcome, ops, end)| TaskCase {
            spawn,
            abort_at_once,
            exit,
            outcome,
            ops,
            end,
        })
}

/// An outcome, as text: `Ok(v)`, `Failed(e)`, `Panicked(message)`,
/// `Aborted`.
fn show(outcome: &Result<u32, TaskError<String>>) -> String {
    match outcome {
        Ok(v) => format!("Ok({v})"),
        Err(TaskError::Failed(e)) => format!("Failed({e})"),
        Err(TaskError::Panicked(p)) => format!("Panicked({})", p.message().unwrap_or("?")),
        Err(TaskError::Aborted) => "Aborted".to_string(),
        Err(other) => format!("unknown outcome {other:?}"),
    }
}

// ---- the model ------------------------------------------------------------------

/// What the body saw, as it records it.
const NOT_RUN: u8 = 0;
const RUNNING: u8 = 1;
/// It returned (or panicked) with its context live, or cancelled.
const RETURNED_LIVE: u8 = 2;
const RETURNED_CANCELLED: u8 = 3;
/// Its future was dropped unfinished with its context live, or cancelled.
const DROPPED_LIVE: u8 = 4;
const DROPPED_CANCELLED: u8 = 5;

/// A deliberately wrong model, to show that the property catches it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bug {
    None,
    /// An abort after the task returned still makes the outcome `Aborted`
    /// (against T4: "if it finished first, the outcome stands").
    AbortOverridesOutcome,
    /// An abort does not cancel the context before the future is dropped
    /// (against T4).
    AbortDoesNotCancel,
    /// A shutdown waits for the task however long it takes (no deadline,
    /// against T5).
    ShutdownWithoutDeadline,
}

/// Rules O1, T3-T7 of `spec/go.md`, for one task; time in virtual ms.
#[derive(Clone, Debug)]
struct TaskModel {
    bug: Bug,
    exit: TaskExit,
    /// The outcome the body will return, as [`show`] writes it.
    outcome: String,
    /// Linked to the parent token (`TaskBuilder::parent`).
    linked: bool,
    /// The context is cancelled.
    cancelled: bool,
    now: u64,
    /// The body runs (it ran once the first step settled).
    ran: bool,
    /// When the body will return, once its cleanup began.
    returns_at: Option<u64>,
    /// What the body recorded, once it ended: one of the constants above.
    ended: Option<u8>,
    /// The outcome was yielded (by an await).
    yielded: bool,
}

impl TaskModel {
    fn new(case: &TaskCase, bug: Bug) -> TaskModel {
        let outcome = match case.outcome {
            TaskOutcome::Ok(v) => format!("Ok({v})"),
            TaskOutcome::Err(n) => format!("Failed(error {n})"),
            TaskOutcome::Panic(n) => format!("Panicked({MARK}panic {n})"),
        };
        let (linked, cancelled) = match case.spawn {
            TaskSpawn::Spawn | TaskSpawn::SpawnOn => (false, false),
            TaskSpawn::Builder {
                parent_cancelled, ..
            } => (true, parent_cancelled),
        };
        let mut model = TaskModel {
            bug,
            exit: case.exit,
            outcome,
            linked,
            cancelled,
            now: 0,
            ran: false,
            returns_at: None,
            ended: None,
            yielded: false,
        };
        if case.abort_at_once {
            // Before the first poll: the body is never called.
            model.abort();
        } else {
            // T7: with a cancelled parent the task still runs.
            model.ran = true;
            match model.exit {
                TaskExit::AtOnce => model.returns(),
                TaskExit::OnRelease => {}
                TaskExit::OnReleaseOrCancel { .. } => {
                    if model.cancelled {
                        model.start_cleanup();
                    }
                }
            }
        }
        model
    }

    fn is_finished(&self) -> bool {
        self.ended.is_some()
    }

    /// The body returns its outcome now.
    fn returns(&mut self) {
        if self.ended.is_none() {
            self.ended = Some(if self.cancelled {
                RETURNED_CANCELLED
            } else {
                RETURNED_LIVE
            });
            // T9: the end cancels the context.
            self.cancelled = true;
        }
    }

    /// A `OnReleaseOrCancel` body saw its context cancelled.
    fn start_cleanup(&mut self) {
        if let TaskExit::OnReleaseOrCancel { cleanup } = self.exit {
            if self.ended.is_none() && self.returns_at.is_none() {
                self.returns_at = Some(self.now + cleanup);
                self.tick(0);
            }
        }
    }

    fn tick(&mut self, ms: u64) {
        self.now += ms;
        if self.returns_at.is_some_and(|at| at <= self.now) {
            self.returns();
        }
    }

    fn release(&mut self) {
        // The cancel wins once the cleanup began (the body's select is
        // biased to it).
        if self.ran && self.returns_at.is_none() && self.exit != TaskExit::AtOnce {
            self.returns();
        }
    }

    fn cancel(&mut self) {
        self.cancelled = true;
        if self.ran {
            self.start_cleanup();
        }
    }

    fn cancel_parent(&mut self) {
        if self.linked {
            self.cancel();
        }
    }

    /// T4: cancel, then drop the future if it has not ended.
    fn abort(&mut self) {
        if self.bug != Bug::AbortDoesNotCancel {
            self.cancelled = true;
        }
        if self.ended.is_none() {
            self.outcome = "Aborted".to_string();
            self.ended = Some(match (self.ran, self.cancelled) {
                (false, _) => NOT_RUN,
                (true, false) => DROPPED_LIVE,
                (true, true) => DROPPED_CANCELLED,
            });
        } else if self.bug == Bug::AbortOverridesOutcome {
            self.outcome = "Aborted".to_string();
        }
    }

    /// The runtime shut down: an unfinished task's future is dropped, its
    /// context left as it was.
    fn runtime_shutdown(&mut self) {
        if self.ended.is_none() {
            self.outcome = "Aborted".to_string();
            self.ended = Some(if self.cancelled {
                DROPPED_CANCELLED
            } else {
                DROPPED_LIVE
            });
            // T9: the end cancels the context.
            self.cancelled = true;
        }
    }

    /// The outcome, once, after the end (`None` before the end; `Err` once
    /// it was yielded: the poll panics).
    fn take(&mut self) -> Result<Option<String>, ()> {
        if self.yielded {
            return Err(());
        }
        if !self.is_finished() {
            return Ok(None);
        }
        self.yielded = true;
        Ok(Some(self.outcome.clone()))
    }

    /// T5: the outcome and the virtual time the shutdown took (`Err` if
    /// the outcome was yielded already: the shutdown panics).
    fn shutdown(&mut self, timeout: u64) -> Result<(String, u64), ()> {
        if self.yielded {
            return Err(());
        }
        let start = self.now;
        if timeout == 0 {
            // The deadline has passed at the first poll: the task gets no
            // chance to run, even one that would return at the cancel.
            self.abort();
            let taken = self.take().map(Option::unwrap)?;
            return Ok((taken, 0));
        }
        self.cancel();
        if let Some(at) = self.returns_at.filter(|_| !self.is_finished()) {
            if at - self.now < timeout || self.bug == Bug::ShutdownWithoutDeadline {
                self.tick(at - self.now);
            }
        }
        if !self.is_finished() {
            self.tick(timeout);
            self.abort();
        }
        let taken = self.take().map(Option::unwrap)?;
        Ok((taken, self.now - start))
    }
}

// ---- the test --------------------------------------------------------------------

/// The body's own record: what it saw, and its id.
struct Body {
    seen: AtomicU8,
    id: Mutex<Option<TaskId>>,
}

/// In the body's future: records, if the future is dropped before it
/// returned, whether the context was cancelled by then.
struct DropProbe {
    ctx: Context,
    body: Arc<Body>,
}

impl Drop for DropProbe {
    fn drop(&mut self) {
        let dropped = if self.ctx.is_cancelled() {
            DROPPED_CANCELLED
        } else {
            DROPPED_LIVE
        };
        // Only a future that had not returned.
        let _ =
            self.body
                .seen
                .compare_exchange(RUNNING, dropped, Ordering::SeqCst, Ordering::SeqCst);
    }
}

/// The reads, compared with the model.
fn check(
    task: &Task<u32, String>,
    handle: &runcycle::TaskAbortHandle,
    name: Option<&str>,
    model: &TaskModel,
    body: &Body,
) -> Result<(), TestCaseError> {
    let finished = model.is_finished();
    prop_assert_eq!(task.is_finished(), finished, "is_finished()");
    prop_assert_eq!(handle.is_finished(), finished, "abort handle is_finished()");
    prop_assert_eq!(
        task.context().is_cancelled(),
        model.cancelled,
        "context().is_cancelled()"
    );
    prop_assert_eq!(task.name(), name, "name()");
    prop_assert_eq!(handle.id(), task.id(), "abort handle id()");
    prop_assert_eq!(
        format!("{task:?}"),
        format!(
            "Task {{ id: {:?}, name: {:?}, finished: {finished}, .. }}",
            task.id(),
            name
        ),
        "Debug"
    );
    let seen = body.seen.load(Ordering::SeqCst);
    let expected = match model.ended {
        Some(ended) => ended,
        None if model.ran => RUNNING,
        None => NOT_RUN,
    };
    prop_assert_eq!(seen, expected, "what the body saw");
    if seen != NOT_RUN {
        prop_assert_eq!(
            *body.id.lock().unwrap(),
            Some(task.id()),
            "tokio::task::id()"
        );
    }
    Ok(())
}

/// Lets the task run until its body is where the model says (bounded in
/// real time; the runtime's clock does not move while the task is ready).
async fn settle(
    task: &Task<u32, String>,
    model: &TaskModel,
    body: &Body,
) -> Result<(), TestCaseError> {
    let deadline = std::time::Instant::now() + BOUND;
    let want_ran = model.ran;
    loop {
        let seen = body.seen.load(Ordering::SeqCst);
        let ran = seen != NOT_RUN;
        if task.is_finished() == model.is_finished() && (ran || !want_ran) {
            return Ok(());
        }
        prop_assert!(
            std::time::Instant::now() < deadline,
            "hang: the task does not reach the model's state"
        );
        tokio::task::yield_now().await;
    }
}

fn run_task_case(case: &TaskCase, bug: Bug) -> Result<(), TestCaseError> {
    quiet_task_panics();
    let runtime = runtime();
    let parent = CancellationToken::new();
    let mut model = TaskModel::new(case, bug);
    let body = Arc::new(Body {
        seen: AtomicU8::new(NOT_RUN),
        id: Mutex::new(None),
    });
    let (tx, rx) = oneshot::channel::<()>();
    let mut tx = Some(tx);
    let (exit, outcome) = (case.exit, case.outcome);
    let b = Arc::clone(&body);
    let f = move |ctx: Context| {
        *b.id.lock().unwrap() = tokio::task::try_id();
        b.seen.store(RUNNING, Ordering::SeqCst);
        let returned = |b: &Body, ctx: &Context| {
            let state = if ctx.is_cancelled() {
                RETURNED_CANCELLED
            } else {
                RETURNED_LIVE
            };
            b.seen.store(state, Ordering::SeqCst);
        };
        if let (TaskExit::AtOnce, TaskOutcome::Panic(n)) = (exit, outcome) {
            // Panics while building the future.
            returned(&b, &ctx);
            std::panic::panic_any(format!("{MARK}panic {n}"));
        }
        async move {
            let probe = DropProbe {
                ctx: ctx.clone(),
                body: Arc::clone(&b),
            };
            match exit {
                TaskExit::AtOnce => {}
                TaskExit::OnRelease => {
                    let _ = rx.await;
                }
                TaskExit::OnReleaseOrCancel { cleanup } => {
                    tokio::select! {
                        biased;
                        () = ctx.cancelled() => {
                            if cleanup > 0 {
                                tokio::time::sleep(Duration::from_millis(cleanup)).await;
                            }
                        }
                        _ = rx => {}
                    }
                }
            }
            returned(&b, &ctx);
            drop(probe);
            match outcome {
                TaskOutcome::Ok(v) => Ok(v),
                TaskOutcome::Err(n) => Err(format!("error {n}")),
                TaskOutcome::Panic(n) => std::panic::panic_any(format!("{MARK}panic {n}")),
            }
        }
    };
    let name = match case.spawn {
        TaskSpawn::Builder { named: true, .. } => Some("model"),
        _ => None,
    };
    let (task, handle, result) = runtime.block_on(async {
        let mut task = match case.spawn {
            TaskSpawn::Spawn => spawn(f),
            TaskSpawn::SpawnOn => spawn_on(f, &tokio::runtime::Handle::current()),
            TaskSpawn::Builder {
                parent_cancelled,
                named,
            } => {
                if parent_cancelled {
                    parent.cancel();
                }
                let builder = TaskBuilder::new().parent(&parent);
                let builder = if named {
                    builder.name("model")
                } else {
                    builder
                };
                builder.spawn(f)
            }
        };
        if case.abort_at_once {
            task.abort();
        }
        let handle = task.abort_handle();
        let result = async {
            settle(&task, &model, &body).await?;
            check(&task, &handle, name, &model, &body)?;
            for (step, &op) in case.ops.iter().enumerate() {
                let at = |e| at(&format!("step {step} {op:?}"), e);
                match op {
                    TaskOp::Release => {
                        if let Some(tx) = tx.take() {
                            let _ = tx.send(());
                        }
                        model.release();
                    }
                    TaskOp::Cancel => {
                        task.cancel();
                        model.cancel();
                    }
                    TaskOp::CancelParent => {
                        parent.cancel();
                        model.cancel_parent();
                    }
                    TaskOp::Abort => {
                        task.abort();
                        model.abort();
                    }
                    TaskOp::AbortHandle => {
                        handle.clone().abort();
                        model.abort();
                    }
                    TaskOp::Sleep(ms) => {
                        tokio::time::sleep(Duration::from_millis(ms)).await;
                        model.tick(ms);
                    }
                    TaskOp::Await => {
                        if let Ok(expected) = model.take() {
                            // Let the end reach the handle first.
                            settle(&task, &model, &body).await.map_err(at)?;
                            let poll = poll_once(&mut task).await;
                            let got = match poll {
                                Poll::Ready(o) => Some(show(&o)),
                                Poll::Pending => None,
                            };
                            prop_assert_eq!(got, expected, "step {}: await", step);
                        } else {
                            let panicked = catch(|| {
                                let mut cx =
                                    std::task::Context::from_waker(std::task::Waker::noop());
                                let _ = Pin::new(&mut task).poll(&mut cx);
                            });
                            prop_assert!(
                                panicked.is_err(),
                                "step {step}: a poll after the outcome was yielded did not panic"
                            );
                        }
                    }
                }
                settle(&task, &model, &body).await.map_err(at)?;
                check(&task, &handle, name, &model, &body).map_err(at)?;
            }
            Ok::<(), TestCaseError>(())
        }
        .await;
        (task, handle, result)
    });
    result?;
    match case.end {
        TaskEnd::Shutdown(timeout) => {
            let expected = model.shutdown(timeout);
            let (got, elapsed) = runtime.block_on(async {
                let start = Instant::now();
                EXPECTING_PANIC.set(expected.is_err());
                let got = AssertUnwindSafe(task.shutdown(Duration::from_millis(timeout)))
                    .catch_unwind()
                    .await;
                EXPECTING_PANIC.set(false);
                (got, start.elapsed())
            });
            match expected {
                Err(()) => prop_assert!(got.is_err(), "a shutdown after the await did not panic"),
                Ok((outcome, took)) => {
                    let Ok(got) = got else {
                        return Err(TestCaseError::fail("the shutdown panicked"));
                    };
                    prop_assert_eq!(show(&got), outcome, "shutdown({}) outcome", timeout);
                    prop_assert_eq!(
                        elapsed,
                        Duration::from_millis(took),
                        "shutdown({}) virtual time",
                        timeout
                    );
                }
            }
            prop_assert!(handle.is_finished(), "finished after the shutdown");
            drop(runtime);
        }
        TaskEnd::RuntimeShutdown => {
            drop(runtime);
            model.runtime_shutdown();
            let at = |e| at("after the runtime's shutdown", e);
            check(&task, &handle, name, &model, &body).map_err(at)?;
            let expected = model.take();
            let got = catch(|| task.blocking_join()).map(|o| Some(show(&o)));
            prop_assert_eq!(got, expected, "blocking_join after the runtime's shutdown");
        }
    }
    let seen = body.seen.load(Ordering::SeqCst);
    prop_assert!(seen != RUNNING, "the body neither returned nor was dropped");
    drop(tx);
    Ok(())
}

proptest! {
    #![proptest_config(config(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/proptest-regressions/model_task/task.txt"
    )))]
    /// `Task`: a task's outcome and 0 to 12 calls before and after its end,
    /// then a shutdown, agree with the model.
    #[test]
    fn task_matches_model(case in task_case()) {
        run_task_case(&case, Bug::None)?;
    }
}

// ---- the property can fail ------------------------------------------------------

/// Runs the property against the wrong model `bug` with a fixed seed and no
/// seed file: proptest's shrunk counterexample.
fn shrunk_counterexample(bug: Bug) -> TaskCase {
    let config = Config {
        cases: 2_000,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(
        config.clone(),
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    match runner.run(&task_case(), |case| run_task_case(&case, bug)) {
        Err(TestError::Fail(reason, case)) => {
            println!("{bug:?}: proptest's shrunk counterexample: {case:?}\n  failure: {reason}");
            case
        }
        Err(e) => panic!("the runner gave up: {e}"),
        Ok(()) => panic!("a wrong model passed {} cases", config.cases),
    }
}

#[test]
fn wrong_model_abort_overrides_outcome_is_caught() {
    let case = shrunk_counterexample(Bug::AbortOverridesOutcome);
    // An abort after the task ended, then its outcome (an await or the
    // case's end).
    assert!(case.ops.len() <= 2, "not shrunk: {case:?}");
    assert!(
        case.ops
            .iter()
            .any(|op| matches!(op, TaskOp::Abort | TaskOp::AbortHandle)),
        "{case:?}"
    );
}

#[test]
fn wrong_model_abort_does_not_cancel_is_caught() {
    let case = shrunk_counterexample(Bug::AbortDoesNotCancel);
    assert!(case.ops.len() <= 1, "not shrunk: {case:?}");
}

#[test]
fn wrong_model_shutdown_without_deadline_is_caught() {
    let case = shrunk_counterexample(Bug::ShutdownWithoutDeadline);
    // A task whose cleanup outlasts the shutdown's deadline.
    assert!(
        matches!(
            (case.exit, case.end),
            (
                TaskExit::OnReleaseOrCancel { cleanup: 30 },
                TaskEnd::Shutdown(0 | 15)
            ) | (
                TaskExit::OnReleaseOrCancel { cleanup: 10 },
                TaskEnd::Shutdown(0)
            )
        ),
        "{case:?}"
    );
    assert!(case.ops.is_empty(), "not shrunk: {case:?}");
}

// ---- the generator reaches the interesting cases ----------------------------------

/// Cases drawn by `task_case()`, run through the model only (not the
/// crate): how many reach each situation the property is meant to check.
#[test]
fn task_cases_cover_the_cases() {
    use proptest::strategy::ValueTree;
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let strategy = task_case();
    let samples = 1_000;
    let mut seen = std::collections::BTreeMap::<&str, usize>::new();
    for _ in 0..samples {
        let case = strategy.new_tree(&mut runner).unwrap().current();
        let mut m = TaskModel::new(&case, Bug::None);
        let mut hits = std::collections::BTreeSet::new();
        if case.abort_at_once {
            hits.insert("aborted before it ran");
        }
        for op in &case.ops {
            let (finished, ran) = (m.is_finished(), m.ran);
            match op {
                TaskOp::Release => m.release(),
                TaskOp::Cancel => m.cancel(),
                TaskOp::CancelParent => m.cancel_parent(),
                TaskOp::Abort | TaskOp::AbortHandle => {
                    m.abort();
                    if finished {
                        hits.insert("an abort after the end keeps the outcome");
                    } else if ran && m.returns_at.is_some() {
                        hits.insert("an abort during the cleanup");
                    } else if ran {
                        hits.insert("an abort while the task waits");
                    }
                }
                TaskOp::Sleep(ms) => {
                    m.tick(*ms);
                    if !finished && m.is_finished() {
                        hits.insert("a cleanup ends during a sleep");
                    }
                }
                TaskOp::Await => match m.take() {
                    Err(()) => {
                        hits.insert("a poll after the outcome was yielded");
                    }
                    Ok(Some(_)) => {
                        hits.insert("an await yields the outcome");
                    }
                    Ok(None) => {
                        hits.insert("an await before the end");
                    }
                },
            }
        }
        match case.end {
            TaskEnd::Shutdown(timeout) => {
                let before = m.clone();
                match m.shutdown(timeout) {
                    Err(()) => {}
                    Ok((outcome, _)) if outcome == "Aborted" && !before.is_finished() => {
                        hits.insert("a shutdown aborts at its deadline");
                    }
                    Ok(_) if !before.is_finished() => {
                        hits.insert("a shutdown gets the task's own outcome");
                    }
                    Ok(_) => {}
                }
            }
            TaskEnd::RuntimeShutdown => {
                if !m.is_finished() {
                    hits.insert("a runtime shutdown aborts the task");
                }
            }
        }
        for hit in hits {
            *seen.entry(hit).or_default() += 1;
        }
    }
    println!("of {samples} cases: {seen:#?}");
    assert_eq!(seen.len(), 11, "a situation is never reached: {seen:?}");
    for (what, n) in &seen {
        assert!(*n >= 10, "{what}: only {n} of {samples}");
    }
}
