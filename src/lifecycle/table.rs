//! The lifecycle transition table: the one piece of data that drives both
//! [`One`](crate::One) and [`Many`](crate::Many).
//!
//! This module is the code form of `spec/transitions.md`. The test
//! `spec_check` (at the bottom of this file) parses that document and compares
//! it with [`ROWS`] and [`READS`] cell by cell, so the two cannot drift.
//!
//! # Phases
//!
//! The public [`State`] has four values. Internally a running instance can
//! also carry a pending request, so the engine distinguishes six phases:
//!
//! | phase | public state | meaning |
//! |---|---|---|
//! | `Created` | Created | never started, not closed |
//! | `Running` | Running | a run is in progress, nothing requested |
//! | `Stopping` | Running | a run is in progress and was asked to stop (Many only) |
//! | `Closing` | Running | a run is in progress and the instance was asked to close |
//! | `Stopped` | Stopped | the last run ended, a restart is allowed (Many only) |
//! | `Closed` | Closed | terminal: no run will ever start again |
//!
//! # Events
//!
//! `Start` (`start`), `Complete` (the run's [`Guard`](crate::Guard) is
//! completed or dropped), `Stop` (`stop`), `Close` (`close`, and dropping
//! the last handle) and `ParentCancel` (the parent token was cancelled).
//!
//! # Invariants
//!
//! - **T1.** A cell is `None` exactly when the event cannot happen in that phase for
//!   that kind (a `Complete` without a run, a `Stop` on a `One`, a phase that
//!   kind never reaches). The engine treats reaching a `None` cell as a bug.
//! - **T2.** `Closed` is terminal: every defined cell in the `Closed` row has
//!   `next == Closed`.
//! - **T3.** Exactly the cells that end a run or close a never-run instance resolve
//!   `done`; the engine notifies waiters only for those cells.
//! - **T4.** Only `Start` from `Stopped` begins a new run (`new_run`): a fresh
//!   context and a fresh done signal. `Start` from `Created` runs the first
//!   run, whose context and done signal exist from construction.
//! - **T5.** A cell `cancels_context` when it is the transition that moves the run's
//!   context from not-cancelled to cancelled; [`READS`] says, per phase,
//!   whether the current context is cancelled, and the two agree (checked by
//!   the unit test `cancel_cells_agree_with_reads`).

use crate::lifecycle::state::State;

/// Which instance type a table cell belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kind {
    /// [`One`](crate::One): runs at most once.
    One = 0,
    /// [`Many`](crate::Many): restartable.
    Many = 1,
}

/// Number of [`Kind`] values.
pub(crate) const KINDS: usize = 2;

/// The engine's internal state; see the module doc for the meaning of each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Phase {
    /// Never started, not closed.
    Created = 0,
    /// A run is in progress and nothing was requested.
    Running = 1,
    /// A run is in progress and a stop was requested.
    Stopping = 2,
    /// A run is in progress and a close was requested.
    Closing = 3,
    /// The last run ended; a restart is allowed.
    Stopped = 4,
    /// Terminal.
    Closed = 5,
}

/// Number of [`Phase`] values.
pub(crate) const PHASES: usize = 6;

impl Phase {
    /// Every phase, in discriminant order.
    #[cfg(all(test, not(loom)))]
    pub(crate) const ALL: [Phase; PHASES] = [
        Phase::Created,
        Phase::Running,
        Phase::Stopping,
        Phase::Closing,
        Phase::Stopped,
        Phase::Closed,
    ];
}

/// Something that happens to an instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Event {
    /// `start()`.
    Start = 0,
    /// The run's guard was stopped or dropped.
    Complete = 1,
    /// `stop()`.
    Stop = 2,
    /// `close()`, last handle dropped.
    Close = 3,
    /// The parent token was cancelled.
    ParentCancel = 4,
}

/// Number of [`Event`] values.
pub(crate) const EVENTS: usize = 5;

/// What the call returns (besides the previous state, which every call that
/// reports one takes from the state word it replaced).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Success.
    Ok,
    /// `Err(StartError::Running)`.
    ErrRunning,
    /// `Err(StartError::Closed)` (`Err(ClosedError)` for a stop).
    ErrClosed,
}

/// One cell of the table: what `event` does in a given phase.
// Each bool is one yes/no column of spec/transitions.md; flags would hide them.
#[allow(clippy::struct_excessive_bools)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cell {
    /// The phase after the event.
    pub(crate) next: Phase,
    /// What the call returns.
    pub(crate) outcome: Outcome,
    /// This transition cancels the run's context (invariant T5).
    pub(crate) cancels_context: bool,
    /// This transition resolves `done` (invariant T3).
    pub(crate) resolves_done: bool,
    /// This transition begins a new run (invariant T4).
    pub(crate) new_run: bool,
    /// The call's returned wait handle waits for the current run to exit.
    pub(crate) waits: bool,
}

/// One row of the table as written in `spec/transitions.md`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Row {
    pub(crate) kind: Kind,
    pub(crate) phase: Phase,
    pub(crate) event: Event,
    pub(crate) cell: Cell,
}

/// What the reads return in each phase (the same for both kinds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Reads {
    /// `state()`.
    pub(crate) state: State,
    /// Whether the token `context()` returns is cancelled.
    pub(crate) context_cancelled: bool,
    /// Whether `done()` is already resolved.
    pub(crate) done_resolved: bool,
}

// Short names keep the table below one row per line.
use Event::{Close, Complete, ParentCancel, Start, Stop};
use Kind::{Many, One};
use Phase::{Closed, Closing, Created, Running, Stopped, Stopping};

/// The yes/no columns of the table as bit flags; a row or-s the ones that
/// hold. (`|` -> `^` on these disjoint bits is an equivalent mutant,
/// excluded in `.cargo/mutants.toml`; `|` -> `&` is caught by the spec
/// check.)
type Flags = u8;
/// See [`Cell::cancels_context`].
const CANCEL: Flags = 0b0001;
/// See [`Cell::resolves_done`].
const RESOLVE: Flags = 0b0010;
/// See [`Cell::new_run`].
const NEW_RUN: Flags = 0b0100;
/// See [`Cell::waits`].
const WAITS: Flags = 0b1000;
/// No flag holds.
const NONE: Flags = 0;

const fn row(
    kind: Kind,
    phase: Phase,
    event: Event,
    next: Phase,
    outcome: Outcome,
    flags: Flags,
) -> Row {
    Row {
        kind,
        phase,
        event,
        cell: Cell {
            next,
            outcome,
            cancels_context: flags & CANCEL != 0,
            resolves_done: flags & RESOLVE != 0,
            new_run: flags & NEW_RUN != 0,
            waits: flags & WAITS != 0,
        },
    }
}

const OK: Outcome = Outcome::Ok;
const RUNNING: Outcome = Outcome::ErrRunning;
const CLOSED: Outcome = Outcome::ErrClosed;

/// The normative table, row for row as in `spec/transitions.md`.
#[rustfmt::skip]
pub(crate) const ROWS: &[Row] = &[
    // ---- One: Created -> Running -> Closed ----
    row(One,  Created,  Start,        Running,  OK,       NONE),
    row(One,  Created,  Close,        Closed,   OK,       CANCEL | RESOLVE),
    row(One,  Created,  ParentCancel, Closed,   OK,       CANCEL | RESOLVE),
    row(One,  Running,  Start,        Running,  RUNNING,  NONE),
    row(One,  Running,  Complete,     Closed,   OK,       CANCEL | RESOLVE),
    row(One,  Running,  Close,        Closing,  OK,       CANCEL | WAITS),
    row(One,  Running,  ParentCancel, Closing,  OK,       CANCEL),
    row(One,  Closing,  Start,        Closing,  CLOSED,   NONE),
    row(One,  Closing,  Complete,     Closed,   OK,       RESOLVE),
    row(One,  Closing,  Close,        Closing,  OK,       WAITS),
    row(One,  Closing,  ParentCancel, Closing,  OK,       NONE),
    row(One,  Closed,   Start,        Closed,   CLOSED,   NONE),
    row(One,  Closed,   Close,        Closed,   OK,       NONE),
    row(One,  Closed,   ParentCancel, Closed,   OK,       NONE),
    // ---- Many: restartable ----
    row(Many, Created,  Start,        Running,  OK,       NONE),
    row(Many, Created,  Stop,         Created,  OK,       NONE),
    row(Many, Created,  Close,        Closed,   OK,       CANCEL | RESOLVE),
    row(Many, Created,  ParentCancel, Closed,   OK,       CANCEL | RESOLVE),
    row(Many, Running,  Start,        Running,  RUNNING,  NONE),
    row(Many, Running,  Complete,     Stopped,  OK,       CANCEL | RESOLVE),
    row(Many, Running,  Stop,         Stopping, OK,       CANCEL | WAITS),
    row(Many, Running,  Close,        Closing,  OK,       CANCEL | WAITS),
    row(Many, Running,  ParentCancel, Closing,  OK,       CANCEL),
    row(Many, Stopping, Start,        Stopping, RUNNING,  NONE),
    row(Many, Stopping, Complete,     Stopped,  OK,       RESOLVE),
    row(Many, Stopping, Stop,         Stopping, OK,       WAITS),
    row(Many, Stopping, Close,        Closing,  OK,       WAITS),
    row(Many, Stopping, ParentCancel, Closing,  OK,       NONE),
    row(Many, Closing,  Start,        Closing,  CLOSED,   NONE),
    row(Many, Closing,  Complete,     Closed,   OK,       RESOLVE),
    row(Many, Closing,  Stop,         Closing,  OK,       WAITS),
    row(Many, Closing,  Close,        Closing,  OK,       WAITS),
    row(Many, Closing,  ParentCancel, Closing,  OK,       NONE),
    row(Many, Stopped,  Start,        Running,  OK,       NEW_RUN),
    row(Many, Stopped,  Stop,         Stopped,  OK,       NONE),
    row(Many, Stopped,  Close,        Closed,   OK,       NONE),
    row(Many, Stopped,  ParentCancel, Closed,   OK,       NONE),
    row(Many, Closed,   Start,        Closed,   CLOSED,   NONE),
    row(Many, Closed,   Stop,         Closed,   CLOSED,   NONE),
    row(Many, Closed,   Close,        Closed,   OK,       NONE),
    row(Many, Closed,   ParentCancel, Closed,   OK,       NONE),
];

/// The reads, per phase in discriminant order, as in `spec/transitions.md`.
#[rustfmt::skip]
pub(crate) const READS: [Reads; PHASES] = [
    /* Created  */ Reads { state: State::Created, context_cancelled: false, done_resolved: false },
    /* Running  */ Reads { state: State::Running, context_cancelled: false, done_resolved: false },
    /* Stopping  */ Reads { state: State::Running, context_cancelled: true,  done_resolved: false },
    /* Closing */ Reads { state: State::Running, context_cancelled: true,  done_resolved: false },
    /* Stopped  */ Reads { state: State::Stopped, context_cancelled: true,  done_resolved: true  },
    /* Closed   */ Reads { state: State::Closed,  context_cancelled: true,  done_resolved: true  },
];

/// The table the engine indexes: `TABLE[kind][phase][event]`, built from
/// [`ROWS`] at compile time. Building fails to compile on a duplicate row.
pub(crate) const TABLE: [[[Option<Cell>; EVENTS]; PHASES]; KINDS] = build(ROWS);

const fn build(rows: &[Row]) -> [[[Option<Cell>; EVENTS]; PHASES]; KINDS] {
    let mut table = [[[None; EVENTS]; PHASES]; KINDS];
    let mut i = 0;
    while i < rows.len() {
        let r = rows[i];
        let slot = &mut table[r.kind as usize][r.phase as usize][r.event as usize];
        assert!(slot.is_none(), "duplicate row in the transition table");
        *slot = Some(r.cell);
        i += 1;
    }
    table
}

/// The cell for `event` in `phase` for `kind`, `None` if it cannot happen
/// (invariant T1).
#[inline]
pub(crate) fn cell(kind: Kind, phase: Phase, event: Event) -> Option<Cell> {
    TABLE[kind as usize][phase as usize][event as usize]
}

/// The reads in `phase`.
#[inline]
pub(crate) fn reads(phase: Phase) -> Reads {
    READS[phase as usize]
}

#[cfg(all(test, not(loom)))]
mod tests;
