//! The model interpreter: a model is data (what the main thread does before
//! spawning, what each thread does, what the main thread does after joining
//! them); [`run`] executes it on the real `One`/`Many` inside
//! `loom::model`, records every result, and checks them.
//!
//! Checks made in every interleaving:
//!
//! * one run at a time, and each run's end happens-before whatever observes
//!   it (the [`RunLog`](super::RunLog) in a loom `UnsafeCell`);
//! * every result (the `Result` of `start`/`stop`, the previous
//!   state of `close`/`stop`, `state()`, whether a context
//!   is cancelled, the moment a wait returns) is explained by some sequential
//!   order of the operations under the spec's table
//!   ([`assert_sequential`](super::assert_sequential));
//! * each thread's `state()` reads are in an order the spec's diagram allows;
//! * a run's context is cancelled as soon as its guard is dropped, and every
//!   context is cancelled once the instance is Stopped or Closed;
//! * every wait returns (a lost wake-up is a loom deadlock) and is then done;
//! * nothing leaks: loom fails the model if any loom `Arc` (the instance's
//!   shared state, held by handles, guards, waits, the parent watch, and
//!   event-listener's list held by every registered listener) is still
//!   alive when the model ends.

use std::future::Future;

use loom::sync::Arc;
use loom::thread;
use runcycle::{Guard, Many, One, StartError, State, Transition, Wait};
use tokio_util::sync::CancellationToken;

/// A run's context as the models see it: whether it is cancelled. (Made
/// from whatever `context()` returns, without naming its type: only its
/// `is_cancelled()` is used.)
pub type Ctx = std::sync::Arc<dyn Fn() -> bool + Send + Sync>;

/// Wraps a context (any type with `is_cancelled()`) as a [`Ctx`].
macro_rules! ctx {
    ($context:expr) => {{
        let context = $context;
        let ctx: Ctx = std::sync::Arc::new(move || context.is_cancelled());
        ctx
    }};
}

use super::{assert_order, assert_sequential, state_reads_cancelled, History, Kind, Op, RunLog};

/// One step of a script.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Act {
    /// `start()`; on success the guard is kept as guard `g` and the run's
    /// body begins (the run log is entered).
    Start(u8),
    /// `context()` of guard `g` (made lazily here if nobody made it yet);
    /// whether it is cancelled is recorded, and the token kept.
    GuardCtx(u8),
    /// The run of guard `g` ends: its body exits and the guard is dropped;
    /// its context, if some thread made it, must then be cancelled.
    Complete(u8),
    /// Reads whether guard `g`'s context (made before) is cancelled.
    Ctx(u8),
    /// `context()`; the token is kept and checked at the end.
    Context,
    /// `done()`, kept as wait `w`.
    Done(u8),
    /// `close()`: the previous state is checked, the wait kept as `w`.
    Close(u8),
    /// `close()`, the `Transition` dropped at once (Go's `Cancel`); the
    /// previous state is checked.
    CloseForget,
    /// `Many::stop()`: the previous state is checked, the wait kept as `w`.
    Stop(u8),
    /// `Many::stop()`, the `Transition` dropped at once (Go's `Halt`).
    StopForget,
    /// `parent.cancel()` (the model must have a parent).
    ParentCancel,
    /// `parent.is_cancelled()`.
    ParentSeen,
    /// Drops this thread's handle, which must be the last one.
    DropHandle,
    /// Blocks on wait `w` (`Wait::wait`).
    Wait(u8),
    /// Awaits wait `w` with `loom::future::block_on`.
    WaitAsync(u8),
    /// Polls wait `w` once with a waker that wakes nothing, and keeps it
    /// (registered, if pending: in the single-waiter slot if it is the
    /// first, engine invariant E10).
    PollOnce(u8),
    /// Awaits wait `w` itself (not a clone, unlike [`WaitAsync`](Act::WaitAsync))
    /// with `loom::future::block_on`: after a [`PollOnce`](Act::PollOnce),
    /// a re-poll with a different waker.
    Repoll(u8),
    /// `state()`.
    State,
    /// Reads the run log: no run may be active, and loom checks the read
    /// happens-after every run's body.
    Idle,
}

impl Act {
    /// Whether the act needs a handle to the instance.
    fn needs_handle(self) -> bool {
        !matches!(
            self,
            Act::Complete(_)
                | Act::GuardCtx(_)
                | Act::Ctx(_)
                | Act::Wait(_)
                | Act::WaitAsync(_)
                | Act::PollOnce(_)
                | Act::Repoll(_)
                | Act::Idle
                | Act::ParentCancel
                | Act::ParentSeen
        )
    }
}

/// A model: what runs where.
#[derive(Debug)]
pub struct Model {
    /// The test's name, as printed.
    pub name: &'static str,
    pub kind: Kind,
    /// `with_parent` instead of `new`.
    pub parent: bool,
    /// The preemption bound (`None`: exhaustive).
    pub bound: Option<usize>,
    pub prefix: &'static [Act],
    pub threads: &'static [&'static [Act]],
    pub suffix: &'static [Act],
}

impl Model {
    /// Guards and waits made in the prefix and used by a thread, moved there.
    fn inherits(script: &[Act], id_is_guard: bool) -> Vec<u8> {
        let mut made = Vec::new();
        let mut used = Vec::new();
        for act in script {
            match (*act, id_is_guard) {
                (Act::Start(g), true) => made.push(g),
                (Act::Complete(g), true) if !made.contains(&g) => used.push(g),
                (Act::Done(w) | Act::Close(w) | Act::Stop(w), false) => made.push(w),
                (Act::Wait(w) | Act::WaitAsync(w) | Act::PollOnce(w) | Act::Repoll(w), false)
                    if !made.contains(&w) && !used.contains(&w) =>
                {
                    used.push(w);
                }
                _ => {}
            }
        }
        used
    }
}

/// The instance types, behind one interface.
pub trait Inst: Clone + Send + Sync + 'static {
    fn make(parent: Option<&CancellationToken>) -> Self;
    fn start(&self) -> Result<Guard, StartError>;
    fn state(&self) -> State;
    fn context(&self) -> Ctx;
    fn done(&self) -> Wait;
    fn close(&self) -> Transition;
    /// `Many::stop`; its `ClosedError` as `StartError::Closed` (the
    /// reference model's form).
    fn stop(&self) -> Result<Transition, StartError>;
}

macro_rules! common_inst {
    () => {
        fn start(&self) -> Result<Guard, StartError> {
            Self::start(self)
        }
        fn state(&self) -> State {
            Self::state(self)
        }
        fn context(&self) -> Ctx {
            ctx!(Self::context(self))
        }
        fn done(&self) -> Wait {
            Self::done(self)
        }
        fn close(&self) -> Transition {
            Self::close(self)
        }
    };
}

impl Inst for One {
    fn make(parent: Option<&CancellationToken>) -> Self {
        parent.map_or_else(One::new, One::with_parent)
    }
    common_inst!();
    fn stop(&self) -> Result<Transition, StartError> {
        unreachable!("One has no stop")
    }
}

impl Inst for Many {
    fn make(parent: Option<&CancellationToken>) -> Self {
        parent.map_or_else(Many::new, Many::with_parent)
    }
    common_inst!();
    fn stop(&self) -> Result<Transition, StartError> {
        Self::stop(self).map_err(StartError::from)
    }
}

const SLOTS: usize = 8;

/// What one thread (or the main thread) holds while it runs its script.
struct Env<I> {
    inst: Option<I>,
    parent: Option<CancellationToken>,
    log: Arc<RunLog>,
    guards: [Option<Guard>; SLOTS],
    ctxs: [Option<Ctx>; SLOTS],
    waits: [Option<Wait>; SLOTS],
    ops: Vec<Op>,
    tokens: Vec<Ctx>,
}

impl<I: Inst> Env<I> {
    fn new(inst: Option<I>, parent: Option<CancellationToken>, log: Arc<RunLog>) -> Self {
        Env {
            inst,
            parent,
            log,
            guards: Default::default(),
            ctxs: Default::default(),
            waits: Default::default(),
            ops: Vec::new(),
            tokens: Vec::new(),
        }
    }

    fn inst(&self) -> &I {
        self.inst.as_ref().expect("model bug: no handle here")
    }

    fn keep(&mut self, w: u8, wait: Wait) {
        let slot = &mut self.waits[usize::from(w)];
        assert!(slot.is_none(), "model bug: wait {w} reused");
        *slot = Some(wait);
    }

    fn act(&mut self, act: Act) {
        match act {
            Act::Start(g) => match self.inst().start() {
                Ok(guard) => {
                    self.ops.push(Op::Start {
                        guard: g,
                        res: Ok(()),
                    });
                    self.log.enter();
                    self.guards[usize::from(g)] = Some(guard);
                }
                Err(e) => self.ops.push(Op::Start {
                    guard: g,
                    res: Err(e),
                }),
            },
            Act::GuardCtx(g) => {
                // Only if the start succeeded.
                if let Some(guard) = &self.guards[usize::from(g)] {
                    let ctx = ctx!(guard.context());
                    self.ops.push(Op::Ctx {
                        guard: g,
                        cancelled: ctx(),
                    });
                    self.ctxs[usize::from(g)] = Some(ctx);
                }
            }
            Act::Complete(g) => {
                // Only if the start succeeded.
                if let Some(guard) = self.guards[usize::from(g)].take() {
                    self.log.exit();
                    drop(guard);
                    self.ops.push(Op::Complete { guard: g });
                    if let Some(ctx) = &self.ctxs[usize::from(g)] {
                        assert!(
                            ctx(),
                            "the run's context is not cancelled after its completion"
                        );
                        self.ops.push(Op::Ctx {
                            guard: g,
                            cancelled: true,
                        });
                    }
                }
            }
            Act::Ctx(g) => {
                if let Some(ctx) = &self.ctxs[usize::from(g)] {
                    let cancelled = ctx();
                    self.ops.push(Op::Ctx {
                        guard: g,
                        cancelled,
                    });
                }
            }
            Act::Context => {
                let token = self.inst().context();
                self.tokens.push(token);
            }
            Act::Done(w) => {
                let wait = self.inst().done();
                self.ops.push(Op::Done { wait: w });
                self.keep(w, wait);
            }
            Act::Close(w) => {
                let closing = self.inst().close();
                let prev = closing.previous();
                self.ops.push(Op::Close {
                    prev: Some(prev),
                    wait: Some(w),
                });
                if prev != State::Running {
                    assert!(
                        closing.is_done(),
                        "close from {prev:?} returned a pending wait"
                    );
                }
                self.keep(w, closing.into_wait());
            }
            Act::CloseForget => {
                let prev = self.inst().close().previous();
                self.ops.push(Op::Close {
                    prev: Some(prev),
                    wait: None,
                });
            }
            Act::Stop(w) => match self.inst().stop() {
                Ok(stopping) => {
                    let prev = stopping.previous();
                    self.ops.push(Op::Stop {
                        res: Ok(Some(prev)),
                        wait: Some(w),
                    });
                    if prev != State::Running {
                        assert!(
                            stopping.is_done(),
                            "stop from {prev:?} returned a pending wait"
                        );
                    }
                    self.keep(w, stopping.into_wait());
                }
                Err(e) => self.ops.push(Op::Stop {
                    res: Err(e),
                    wait: None,
                }),
            },
            Act::StopForget => {
                let res = self.inst().stop().map(|t| Some(t.previous()));
                self.ops.push(Op::Stop { res, wait: None });
            }
            Act::ParentCancel => {
                self.parent.as_ref().expect("model bug: no parent").cancel();
                self.ops.push(Op::ParentCancel);
            }
            Act::ParentSeen => {
                let seen = self
                    .parent
                    .as_ref()
                    .expect("model bug: no parent")
                    .is_cancelled();
                self.ops.push(Op::ParentSeen(seen));
            }
            Act::DropHandle => {
                drop(self.inst.take().expect("model bug: no handle"));
                self.ops.push(Op::Close {
                    prev: None,
                    wait: None,
                });
            }
            Act::Wait(w) | Act::WaitAsync(w) => {
                // A wait made by a failed stop does not exist: nothing to do.
                if let Some(wait) = self.waits[usize::from(w)].take() {
                    if matches!(act, Act::Wait(_)) {
                        wait.wait();
                    } else {
                        loom::future::block_on(wait.clone());
                    }
                    assert!(wait.is_done(), "a wait returned but is not done");
                    self.ops.push(Op::Wait { wait: w });
                }
            }
            Act::PollOnce(w) => {
                if let Some(wait) = self.waits[usize::from(w)].as_mut() {
                    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
                    let _ = std::pin::Pin::new(wait).poll(&mut cx);
                }
            }
            Act::Repoll(w) => {
                if let Some(mut wait) = self.waits[usize::from(w)].take() {
                    loom::future::block_on(&mut wait);
                    assert!(wait.is_done(), "a wait returned but is not done");
                    self.ops.push(Op::Wait { wait: w });
                }
            }
            Act::State => {
                let state = self.inst().state();
                self.ops.push(Op::State(state));
            }
            Act::Idle => {
                self.log.read_idle();
            }
        }
    }

    fn finish(self) -> (Vec<Op>, Vec<Ctx>) {
        assert!(
            self.guards.iter().all(Option::is_none),
            "model bug: a guard was not completed by its script"
        );
        (self.ops, self.tokens)
    }
}

fn states(ops: &[Op]) -> Vec<State> {
    ops.iter()
        .filter_map(|op| match op {
            Op::State(s) => Some(*s),
            _ => None,
        })
        .collect()
}

/// Runs `model` under loom (see the module doc for what is checked).
pub fn run(model: &'static Model) {
    match model.kind {
        Kind::One => super::model(model.name, model.bound, move || once::<One>(model)),
        Kind::Many => super::model(model.name, model.bound, move || once::<Many>(model)),
    }
}

/// One interleaving.
fn once<I: Inst>(model: &'static Model) {
    let parent = model.parent.then(CancellationToken::new);
    let log = Arc::new(RunLog::new());
    let mut main = Env::new(
        Some(I::make(parent.as_ref())),
        parent.clone(),
        Arc::clone(&log),
    );
    for act in model.prefix {
        main.act(*act);
    }

    // Hand out handles (only to threads that use one), the guards and waits
    // the prefix made and a thread uses, and the contexts of the prefix's
    // guards.
    let main_keeps = model.suffix.iter().any(|a| a.needs_handle());
    let holders = model
        .threads
        .iter()
        .filter(|s| s.iter().any(|a| a.needs_handle()))
        .count();
    let mut envs = Vec::new();
    for script in model.threads {
        let inst = script
            .iter()
            .any(|a| a.needs_handle())
            .then(|| main.inst().clone());
        if script.contains(&Act::DropHandle) {
            assert!(
                holders == 1 && !main_keeps,
                "model bug: DropHandle must drop the last handle"
            );
        }
        let mut env = Env::new(inst, parent.clone(), Arc::clone(&log));
        for g in Model::inherits(script, true) {
            env.guards[usize::from(g)] = main.guards[usize::from(g)].take();
        }
        for w in Model::inherits(script, false) {
            env.waits[usize::from(w)] = main.waits[usize::from(w)].take();
        }
        for (g, ctx) in main.ctxs.iter().enumerate() {
            if script.contains(&Act::Ctx(g as u8)) || script.contains(&Act::Complete(g as u8)) {
                env.ctxs[g] = ctx.clone();
            }
        }
        envs.push(env);
    }
    if !main_keeps {
        // Dropping the main thread's handle must not be the last drop (an
        // unrecorded close): a thread keeps one, and drops it explicitly.
        assert!(
            holders == 1 && model.threads.iter().any(|s| s.contains(&Act::DropHandle)),
            "model bug: without a handle in the suffix, one thread must drop the last one"
        );
        main.inst = None;
    }
    let handles: Vec<_> = envs
        .into_iter()
        .zip(model.threads)
        .map(|(mut env, script)| {
            thread::spawn(move || {
                for act in *script {
                    env.act(*act);
                }
                env.finish()
            })
        })
        .collect();
    let mut threads = Vec::new();
    let mut tokens = Vec::new();
    for handle in handles {
        let (ops, toks) = handle.join().expect("a model thread panicked");
        threads.push(ops);
        tokens.extend(toks);
    }
    let prefix = std::mem::take(&mut main.ops);
    for act in model.suffix {
        main.act(*act);
    }

    // Every run's body is over, and the main thread (which joined every
    // thread) sees all of it.
    let runs = log.read_idle();
    let history = History {
        prefix,
        threads,
        suffix: main.ops.clone(),
    };
    let started = history
        .all()
        .filter(|op| matches!(op, Op::Start { res: Ok(()), .. }))
        .count();
    assert_eq!(
        runs as usize, started,
        "the run log and the successful starts disagree"
    );
    for ops in history.threads.iter().chain([&history.suffix]) {
        assert_order(model.kind, &states(ops));
    }
    let mut main_states = states(&history.prefix);
    main_states.extend(states(&history.suffix));
    assert_order(model.kind, &main_states);
    assert_sequential(model.kind, &history);

    // Contexts: all cancelled once the instance reads a state in which the
    // spec's reads say cancelled, Stopped or Closed (or no handle is left,
    // which closes it).
    let ended = match &main.inst {
        Some(inst) => state_reads_cancelled(inst.state()),
        None => true,
    };
    if ended {
        for token in tokens.iter().chain(main.ctxs.iter().flatten()) {
            assert!(token(), "a context is not cancelled after the end");
        }
    }
    let (_, main_tokens) = main.finish();
    if ended {
        assert!(main_tokens.iter().all(|token| token()));
    }
}
