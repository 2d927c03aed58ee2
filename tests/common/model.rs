//! A sequential reference model of `One` and `Many`, written by hand from
//! `spec/transitions.md` (it does not use the crate's transition table), and
//! the pieces the model-based tests share: a wrapper over the two real types
//! and the proptest configuration.
//!
//! Used by `tests/model_sequential.rs` (step by step, through
//! `proptest-state-machine`) and by `tests/model_concurrent.rs` (as the
//! sequential specification a concurrent history must linearize to). The
//! test `model_matches_spec_document` in `tests/model_sequential.rs` checks
//! this model against every row of the spec's tables.

#![allow(dead_code, unreachable_pub)]

use proptest::test_runner::{Config, FileFailurePersistence};
use runcycle::{Error, Guard, Many, One, State, Wait};
use tokio_util::sync::CancellationToken;

/// Which type is modelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    One,
    Many,
}

/// The spec's six states ("States" in `spec/transitions.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    Created,
    Running,
    /// "Stopping": a stop was requested (Many only).
    Stopping,
    /// "Closing": a close was requested.
    Closing,
    Stopped,
    Closed,
}

impl Phase {
    /// The spec's name of the state.
    pub fn spec_name(self) -> &'static str {
        match self {
            Phase::Created => "Created",
            Phase::Running => "Running",
            Phase::Stopping => "Stopping",
            Phase::Closing => "Closing",
            Phase::Stopped => "Stopped",
            Phase::Closed => "Closed",
        }
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
    /// Wrong: stop/stop2/halt on a Stopped Many return `Err(Closed)` (the
    /// spec: `ok`, a no-op).
    HaltOnStoppedErrs,
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
            2 => Bug::HaltOnStoppedErrs,
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
/// run number, 0 for the first run): a context or a `done()` wait taken
/// during run `r` is cancelled / resolved exactly when the model's flag for
/// run `r` is set, so earlier runs' handles are checked as well as the
/// current one.
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

    /// A run is in progress: somebody holds its guard.
    pub fn is_running(&self) -> bool {
        matches!(
            self.phase,
            Phase::Running | Phase::Stopping | Phase::Closing
        )
    }

    fn cancel_context(&mut self) {
        self.ctx_cancelled[self.run] = true;
    }

    fn resolve_done(&mut self) {
        self.done[self.run] = true;
    }

    // ---- events -------------------------------------------------------

    /// `start()`: from Created the first run begins (its context and done
    /// signal exist already); from Stopped (Many) a new run begins with a
    /// fresh context and done signal; while running it is refused with
    /// `Running`, or `Closed` once a close was requested; Closed refuses.
    pub fn start(&mut self) -> Result<(), Error> {
        match self.phase {
            Phase::Created => {
                self.phase = Phase::Running;
                Ok(())
            }
            Phase::Stopped => {
                self.run += 1;
                self.ctx_cancelled
                    .push(self.bug == Bug::RestartKeepsContext);
                self.done.push(false);
                self.stop_requested = false;
                self.phase = Phase::Running;
                Ok(())
            }
            Phase::Running | Phase::Stopping => Err(Error::Running),
            Phase::Closing | Phase::Closed => Err(Error::Closed),
        }
    }

    /// The run's guard is stopped or dropped: the run's context is cancelled
    /// (if it was not yet), its done signal resolves; One ends Closed, Many
    /// ends Stopped unless a close was requested.
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
        let next = match (self.kind, self.phase) {
            (Kind::One, Phase::Running) => Phase::Closed,
            (Kind::Many, Phase::Running) | (_, Phase::Stopping) => Phase::Stopped,
            (Kind::Many, Phase::Closing)
                if self.bug == Bug::StopThenCloseEndsStopped && self.stop_requested =>
            {
                Phase::Stopped
            }
            (_, Phase::Closing) => Phase::Closed,
            (_, Phase::Created | Phase::Stopped | Phase::Closed) => return false,
        };
        self.cancel_context();
        self.resolve_done();
        self.phase = next;
        true
    }

    /// `stop()` / `stop2()` / `halt()` (Many only): the state before the call
    /// and what the returned wait waits for. A running instance has its
    /// context cancelled and the wait is for the run's end; Created and
    /// Stopped are left alone (wait resolved at once); Closed refuses.
    pub fn stop(&mut self) -> Result<(State, WaitRef), Error> {
        assert_eq!(self.kind, Kind::Many, "One has no stop");
        let prev = self.state();
        match self.phase {
            Phase::Created => Ok((prev, WaitRef::Ready)),
            Phase::Running => {
                self.cancel_context();
                self.stop_requested = true;
                self.phase = Phase::Stopping;
                Ok((prev, WaitRef::Run(self.run)))
            }
            Phase::Stopping | Phase::Closing => Ok((prev, WaitRef::Run(self.run))),
            Phase::Stopped if self.bug == Bug::HaltOnStoppedErrs => Err(Error::Closed),
            Phase::Stopped => Ok((prev, WaitRef::Ready)),
            Phase::Closed => Err(Error::Closed),
        }
    }

    /// `close()` / `close2()` / `cancel()` (and dropping the last handle):
    /// the state before the call and what the returned wait waits for.
    /// Created closes at once (context cancelled, done resolved); a running
    /// instance has its context cancelled and is marked for closing, the
    /// wait is for the run's end; Stopped closes (its context and done were
    /// settled when the run ended); Closed is left alone.
    pub fn close(&mut self) -> (State, WaitRef) {
        let prev = self.state();
        let wait = match self.phase {
            Phase::Created => {
                self.cancel_context();
                self.resolve_done();
                self.phase = Phase::Closed;
                WaitRef::Ready
            }
            Phase::Running | Phase::Stopping => {
                self.cancel_context();
                self.phase = Phase::Closing;
                WaitRef::Run(self.run)
            }
            Phase::Closing => WaitRef::Run(self.run),
            Phase::Stopped => {
                self.phase = Phase::Closed;
                WaitRef::Ready
            }
            Phase::Closed => WaitRef::Ready,
        };
        (prev, wait)
    }

    /// The parent token was cancelled: the same change as a close (the spec
    /// lists the same rows for both), with nothing returned.
    pub fn parent_cancel(&mut self) {
        let _ = self.close();
    }

    // ---- reads ----------------------------------------------------------

    /// `state()`.
    pub fn state(&self) -> State {
        match self.phase {
            Phase::Created => State::Created,
            Phase::Running | Phase::Stopping | Phase::Closing => State::Running,
            Phase::Stopped => State::Stopped,
            Phase::Closed => State::Closed,
        }
    }

    /// `context().is_cancelled()`: the current run's context.
    pub fn context_cancelled(&self) -> bool {
        self.ctx_cancelled[self.run]
    }

    /// `done().is_done()`: the current run's done signal.
    pub fn done_resolved(&self) -> bool {
        self.done[self.run]
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

    pub fn start(&self) -> Result<Guard, Error> {
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

    pub fn close(&self) -> Wait {
        match self {
            Inst::One(i) => i.close(),
            Inst::Many(i) => i.close(),
        }
    }

    pub fn close2(&self) -> (State, Wait) {
        match self {
            Inst::One(i) => i.close2(),
            Inst::Many(i) => i.close2(),
        }
    }

    pub fn cancel(&self) -> State {
        match self {
            Inst::One(i) => i.cancel(),
            Inst::Many(i) => i.cancel(),
        }
    }

    fn many(&self) -> &Many {
        match self {
            Inst::One(_) => panic!("One has no stop"),
            Inst::Many(i) => i,
        }
    }

    pub fn stop(&self) -> Result<Wait, Error> {
        self.many().stop()
    }

    pub fn stop2(&self) -> Result<(State, Wait), Error> {
        self.many().stop2()
    }

    pub fn halt(&self) -> Result<State, Error> {
        self.many().halt()
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
