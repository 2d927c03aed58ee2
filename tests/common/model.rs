//! A sequential reference model of `One` and `Many`, derived from
//! `spec/transitions.md` (through the parsed [`Oracle`]; it does not use the
//! crate's transition table), and the pieces the model-based tests share: a
//! wrapper over the two real types and the proptest configuration.
//!
//! What each event does (next state, result, whether it cancels the run's
//! context, resolves `done`, begins a new run, whether the call's wait
//! waits) and the reads in each state are the spec's cells, looked up when
//! the event is applied; the model adds only what the table leaves out: run
//! numbers, a context flag and a done flag per run (so handles taken in
//! earlier runs are checked too), what each wait waits for, and the
//! deliberately wrong variants ([`Bug`]).
//!
//! Used by `tests/model_sequential.rs` (step by step, through
//! `proptest-state-machine`) and by `tests/model_concurrent.rs` (as the
//! sequential specification a concurrent history must linearize to). The
//! test `model_matches_spec_document` in `tests/model_sequential.rs` checks
//! how this model applies the spec's rows against every row of its tables.

#![allow(dead_code, unreachable_pub)]

use proptest::test_runner::{Config, FileFailurePersistence};
use runcycle::{Guard, Many, One, StartError, State, Transition, Wait};
use tokio_util::sync::CancellationToken;

use super::spec::{Cell, Event, Oracle, Public, Returns};
pub use super::spec::{Kind, Phase};

/// The spec's cells and reads (parsed once from `spec/transitions.md`).
fn oracle() -> &'static Oracle {
    Oracle::get()
}

/// The spec's "returns" column as the crate's result.
fn result(returns: Returns) -> Result<(), StartError> {
    match returns {
        Returns::Ok => Ok(()),
        Returns::ErrRunning => Err(StartError::Running),
        Returns::ErrClosed => Err(StartError::Closed),
    }
}

/// The spec's "state()" column as the crate's `State`.
pub fn public(state: Public) -> State {
    match state {
        Public::Created => State::Created,
        Public::Running => State::Running,
        Public::Stopped => State::Stopped,
        Public::Closed => State::Closed,
    }
}

/// Deliberately wrong variants of the model, to show that the properties
/// fail (and shrink) when model and crate disagree. `Bug::None` is the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bug {
    /// The real model.
    None,
    /// Wrong: a Many run that was stopped and then closed ends Stopped when
    /// it completes (the spec: Closing + complete -> Closed).
    StopThenCloseEndsStopped,
    /// Wrong: a stop on a Stopped Many returns `Err(Closed)` (the
    /// spec: `ok`, a no-op).
    StopOnStoppedErrs,
    /// Wrong: a restart keeps the previous run's (cancelled) context (the
    /// spec: a new run has a fresh context).
    RestartKeepsContext,
}

impl Bug {
    /// The variant numbered `n`, for const generic parameters.
    pub const fn from_u8(n: u8) -> Bug {
        match n {
            0 => Bug::None,
            1 => Bug::StopThenCloseEndsStopped,
            2 => Bug::StopOnStoppedErrs,
            3 => Bug::RestartKeepsContext,
            _ => panic!("no such model variant"),
        }
    }
}

/// What a `Wait` returned by a call waits for, in the model: nothing (it was
/// resolved when made), or the end of run `r` (runs are numbered from 0 in
/// the model).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WaitRef {
    Ready,
    Run(usize),
}

/// The reference model of one instance.
///
/// Each run has its own context flag and done flag (a vector indexed by the
/// run number, 0 for the first run), set by the spec's "cancels context" and
/// "resolves done" columns: a context or a `done()` wait taken during run `r`
/// is cancelled / resolved exactly when the model's flag for run `r` is set,
/// so earlier runs' handles are checked as well as the current one. The
/// instance's own reads come from the spec's "Reads" table for the current
/// state; for a consistent spec the two agree.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Model {
    kind: Kind,
    bug: Bug,
    phase: Phase,
    /// The current run (0-based). Before the first start it is the run the
    /// first start will begin; while Stopped, the run that ended.
    run: usize,
    /// Per run: its context has been cancelled.
    ctx_cancelled: Vec<bool>,
    /// Per run: its end (or the close of a never-run instance) has been
    /// signalled, i.e. `done()` waits of that run are resolved.
    done: Vec<bool>,
    /// Only for `Bug::StopThenCloseEndsStopped`: a stop was requested during
    /// the current run.
    stop_requested: bool,
}

impl Model {
    pub fn new(kind: Kind) -> Model {
        Model::with_bug(kind, Bug::None)
    }

    pub fn with_bug(kind: Kind, bug: Bug) -> Model {
        Model {
            kind,
            bug,
            phase: Phase::Created,
            run: 0,
            ctx_cancelled: vec![false],
            done: vec![false],
            stop_requested: false,
        }
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The current run (0-based).
    pub fn run(&self) -> usize {
        self.run
    }

    /// Number of runs begun (or about to begin, before the first start).
    pub fn runs(&self) -> usize {
        self.run + 1
    }

    /// A run is in progress: somebody holds its guard (the spec lets the
    /// run complete in this state).
    pub fn is_running(&self) -> bool {
        oracle().running(self.kind, self.phase)
    }

    /// Applies `event` as the spec's cell for the current state says (with
    /// the change of the wrong variant, if any): sets the current run's
    /// context and done flags, begins a new run, moves to the next state.
    /// Returns the cell, or `None` (and no change) where the spec lists no
    /// row: the event cannot happen here.
    fn apply(&mut self, event: Event) -> Option<Cell> {
        let mut cell = oracle().cell(self.kind, self.phase, event)?;
        match (self.bug, event, self.phase) {
            (Bug::StopThenCloseEndsStopped, Event::Complete, Phase::Closing)
                if self.stop_requested =>
            {
                cell.next = Phase::Stopped;
            }
            (Bug::StopThenCloseEndsStopped, Event::Stop, Phase::Running) => {
                self.stop_requested = true;
            }
            (Bug::StopOnStoppedErrs, Event::Stop, Phase::Stopped) => {
                return Some(Cell {
                    next: self.phase,
                    returns: Returns::ErrClosed,
                    cancels_context: false,
                    resolves_done: false,
                    new_run: false,
                    waits: false,
                });
            }
            _ => {}
        }
        if cell.cancels_context {
            self.ctx_cancelled[self.run] = true;
        }
        if cell.resolves_done {
            self.done[self.run] = true;
        }
        if cell.new_run {
            self.run += 1;
            self.ctx_cancelled
                .push(self.bug == Bug::RestartKeepsContext);
            self.done.push(false);
            self.stop_requested = false;
        }
        self.phase = cell.next;
        Some(cell)
    }

    /// [`apply`](Model::apply) for an event the spec lists here.
    fn must_apply(&mut self, event: Event) -> Cell {
        let (kind, phase) = (self.kind, self.phase);
        self.apply(event).unwrap_or_else(|| {
            panic!(
                "spec: no row for {} {} {}",
                kind.name(),
                phase.name(),
                event.name()
            )
        })
    }

    /// What the wait a call returns waits for: the current run's end if
    /// the cell says the call waits, else nothing.
    fn wait_of(&self, cell: Cell, run: usize) -> WaitRef {
        if cell.waits {
            WaitRef::Run(run)
        } else {
            WaitRef::Ready
        }
    }

    // ---- events -------------------------------------------------------

    /// `start()`.
    pub fn start(&mut self) -> Result<(), StartError> {
        result(self.must_apply(Event::Start).returns)
    }

    /// The run's guard is stopped or dropped.
    ///
    /// # Panics
    ///
    /// Without a run (the tests only complete a guard they hold).
    pub fn complete(&mut self) {
        assert!(self.try_complete(), "complete without a run: {self:?}");
    }

    /// [`complete`](Model::complete), or `false` (and no change) if no run is
    /// in progress.
    pub fn try_complete(&mut self) -> bool {
        self.apply(Event::Complete).is_some()
    }

    /// `stop()` (Many only): the state before the call
    /// and what the returned wait waits for.
    /// A stop: the error is `StartError::Closed` where the crate returns
    /// `ClosedError` (compare through `StartError::from`).
    pub fn stop(&mut self) -> Result<(State, WaitRef), StartError> {
        assert_eq!(self.kind, Kind::Many, "One has no stop");
        let (prev, run) = (self.state(), self.run);
        let cell = self.must_apply(Event::Stop);
        result(cell.returns).map(|()| (prev, self.wait_of(cell, run)))
    }

    /// `close()` / `close2()` / `cancel()` (and dropping the last handle):
    /// the state before the call and what the returned wait waits for.
    pub fn close(&mut self) -> (State, WaitRef) {
        let (prev, run) = (self.state(), self.run);
        let cell = self.must_apply(Event::Close);
        assert_eq!(cell.returns, Returns::Ok, "spec: a close cannot fail");
        (prev, self.wait_of(cell, run))
    }

    /// The parent token was cancelled.
    pub fn parent_cancel(&mut self) {
        self.must_apply(Event::ParentCancel);
    }

    // ---- reads ----------------------------------------------------------

    /// `state()`: the spec's reads in the current state.
    pub fn state(&self) -> State {
        public(oracle().reads(self.phase).state)
    }

    /// `context().is_cancelled()`: the current run's context. The spec says
    /// it twice: the "cancels context" cells applied in this run, and the
    /// reads of the current state; a spec whose two answers differ is
    /// reported here (a wrong variant may set the flag where the reads do
    /// not: the flag then counts).
    pub fn context_cancelled(&self) -> bool {
        let reads = oracle().reads(self.phase).context_cancelled;
        self.agree(self.ctx_cancelled[self.run], reads, "context cancelled")
    }

    /// `done().is_done()`: the current run's done signal, from the "resolves
    /// done" cells and the reads, as for the context.
    pub fn done_resolved(&self) -> bool {
        let reads = oracle().reads(self.phase).done_resolved;
        self.agree(self.done[self.run], reads, "done resolved")
    }

    fn agree(&self, cells: bool, reads: bool, what: &str) -> bool {
        if self.bug == Bug::None {
            assert_eq!(
                cells,
                reads,
                "spec: the cells applied in run {} say {what}: {cells}, the reads of {} say {reads}",
                self.run,
                self.phase.name()
            );
        }
        cells || reads
    }

    /// What a `done()` taken now waits for.
    pub fn done_handle(&self) -> WaitRef {
        WaitRef::Run(self.run)
    }

    /// Whether the context taken during run `run` is cancelled now.
    pub fn run_context_cancelled(&self, run: usize) -> bool {
        self.ctx_cancelled[run]
    }

    /// Whether a wait is resolved now.
    pub fn wait_resolved(&self, wait: WaitRef) -> bool {
        match wait {
            WaitRef::Ready => true,
            WaitRef::Run(run) => self.done[run],
        }
    }
}

/// `One` or `Many` behind one interface (the system under test).
#[derive(Clone, Debug)]
pub enum Inst {
    One(One),
    Many(Many),
}

impl Inst {
    pub fn new(kind: Kind, parent: Option<&CancellationToken>) -> Inst {
        match (kind, parent) {
            (Kind::One, Some(p)) => Inst::One(One::with_parent(p)),
            (Kind::One, None) => Inst::One(One::new()),
            (Kind::Many, Some(p)) => Inst::Many(Many::with_parent(p)),
            (Kind::Many, None) => Inst::Many(Many::new()),
        }
    }

    pub fn start(&self) -> Result<Guard, StartError> {
        match self {
            Inst::One(i) => i.start(),
            Inst::Many(i) => i.start(),
        }
    }

    pub fn state(&self) -> State {
        match self {
            Inst::One(i) => i.state(),
            Inst::Many(i) => i.state(),
        }
    }

    pub fn context(&self) -> runcycle::Context {
        match self {
            Inst::One(i) => i.context(),
            Inst::Many(i) => i.context(),
        }
    }

    pub fn done(&self) -> Wait {
        match self {
            Inst::One(i) => i.done(),
            Inst::Many(i) => i.done(),
        }
    }

    pub fn close(&self) -> Transition {
        match self {
            Inst::One(i) => i.close(),
            Inst::Many(i) => i.close(),
        }
    }

    fn many(&self) -> &Many {
        match self {
            Inst::One(_) => panic!("One has no stop"),
            Inst::Many(i) => i,
        }
    }

    /// `Many::stop`, its `ClosedError` as `StartError::Closed` (the model's
    /// form).
    pub fn stop(&self) -> Result<Transition, StartError> {
        self.many().stop().map_err(StartError::from)
    }
}

/// Cases per property when `PROPTEST_CASES` is not set.
pub const DEFAULT_CASES: u32 = 1_000;

/// The configuration of the model properties: `PROPTEST_CASES` (and every
/// other `PROPTEST_*` variable) is honoured, else [`DEFAULT_CASES`]; failing
/// seeds persist in `file`, a path under the top-level
/// `proptest-regressions/` (absolute, so it does not depend on the working
/// directory).
///
/// `Config::with_cases` would not do: it overrides `PROPTEST_CASES`.
/// `Config::default()` is the one that reads the environment.
pub fn config(file: &'static str) -> Config {
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = DEFAULT_CASES;
    }
    config.failure_persistence = Some(Box::new(FileFailurePersistence::Direct(file)));
    config
}
