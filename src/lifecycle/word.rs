//! The state word: the one `AtomicU64` of an instance, and its decoding.
//!
//! Pure data, no atomics: [`engine`](super::engine) owns the atomic and
//! loads and swaps [`Word`]s. The layout:
//!
//! ```text
//!  63                         7   6   5   4   3     0
//! +----------------------------+---+---+---+-------+
//! |          run number        | U | W | C | phase |
//! +----------------------------+---+---+---+-------+
//! ```
//!
//! * `phase` ([`PHASE_BITS`]): the table's [`Phase`], encoded so that its
//!   two low bits are the public [`State`]'s discriminant ([`phase_code`]):
//!   `state()` is a load and a mask, with no table lookup. `Closed` has two
//!   codes: with [`NEVER_STARTED`] set when the instance closed from
//!   `Created`, so that [`Word::run_number`] can say no run ever started.
//! * `C` ([`CONTEXT_CREATED`]): the current run's context token exists (it is
//!   created lazily, on the first `context()` call of the run, so runs that
//!   never ask for it allocate nothing).
//! * `W` ([`WAITERS`]): somebody may be waiting for the current run to end
//!   (invariant E4). A run nobody waits for ends without touching the
//!   listener list.
//! * `U` ([`UNWATCHED`]): the instance has a parent whose watch is not
//!   armed yet (invariant E11): set in the first word of an instance with a
//!   parent, cleared once by the arming (or the last handle's drop), kept by
//!   every transition. In the word so that `state()` tests it in the value
//!   it loads anyway.
//! * `run number`: 1 for the first run (also while `Created`), incremented
//!   by every `Start` from `Stopped` (invariant T4). At one restart per
//!   nanosecond it would take 4.5 years to exhaust 57 bits.
//!
//! `state()` and every wait check are one `Acquire` load of this word.

use core::fmt;

use crate::lifecycle::state::State;
use crate::lifecycle::table::{self, Cell, Phase};

/// Mask of the phase bits of the state word.
pub(crate) const PHASE_BITS: u64 = 0b1111;
/// Mask of the phase bits that hold the public state.
pub(crate) const STATE_BITS: u64 = 0b11;
/// Set while the current run's context token exists (invariant E1).
pub(crate) const CONTEXT_CREATED: u64 = 1 << 4;
/// Set while somebody may wait for the current run to end (invariant E4).
pub(crate) const WAITERS: u64 = 1 << 5;
/// Set while the instance's parent watch is not armed yet (invariant E11).
pub(crate) const UNWATCHED: u64 = 1 << 6;
/// Shift of the run number.
pub(crate) const RUN_SHIFT: u32 = 7;
/// The largest run number the word can hold: 2^57 - 1 (invariant E8).
pub(crate) const MAX_RUN: u64 = u64::MAX >> RUN_SHIFT;
/// Set with the `Closed` phase code when the instance closed without ever
/// starting (from `Created`): the run field then still says 1, the run a
/// start would have begun, but no run was started ([`Word::run_number`]).
/// Only meaningful with the `Closed` code (`Stopping` uses the same bit).
pub(crate) const NEVER_STARTED: u64 = 0b0100;
/// The word of a new instance: phase `Created`, run 1, no context.
/// (`Created` is phase code 0, checked by the unit test `phase_codes_decode`.)
pub(crate) const INITIAL: u64 = 1 << RUN_SHIFT;

/// How a phase is stored in the state word: the two low bits are the public
/// [`State`] of the phase (its discriminant), the two above tell the three
/// running phases apart. `state()` then needs no lookup; the unit test
/// `phase_codes_decode` checks the encoding against the reads table.
pub(crate) const fn phase_code(phase: Phase) -> u64 {
    match phase {
        Phase::Created => 0b0000,
        Phase::Running => 0b0001,
        Phase::Stopping => 0b0101,
        Phase::Closing => 0b1001,
        Phase::Stopped => 0b0010,
        Phase::Closed => 0b0011,
    }
}

/// The phase bits of an instance that closed without ever starting.
const CLOSED_NEVER_STARTED: u64 = phase_code(Phase::Closed) | NEVER_STARTED;

/// The public state whose discriminant is `bits` (0..=3).
#[inline]
fn state_of_bits(bits: u64) -> State {
    match bits {
        0 => State::Created,
        1 => State::Running,
        2 => State::Stopped,
        _ => State::Closed,
    }
}

/// A decoded copy of the state word.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Word(pub(crate) u64);

impl Word {
    pub(crate) fn phase(self) -> Phase {
        match self.0 & PHASE_BITS {
            0b0000 => Phase::Created,
            0b0001 => Phase::Running,
            0b0101 => Phase::Stopping,
            0b1001 => Phase::Closing,
            0b0010 => Phase::Stopped,
            // The second code: closed before any start (`NEVER_STARTED`).
            0b0011 | CLOSED_NEVER_STARTED => Phase::Closed,
            bits => unreachable!("runcycle: corrupt state word (phase bits {bits:#06b})"),
        }
    }

    /// The public state: the two low bits of the phase ([`phase_code`]).
    #[inline]
    pub(crate) fn state(self) -> State {
        state_of_bits(self.0 & STATE_BITS)
    }

    pub(crate) fn run(self) -> u64 {
        self.0 >> RUN_SHIFT
    }

    /// Whether a run was ever started: false while `Created` and once
    /// closed from `Created` ([`NEVER_STARTED`]).
    #[inline]
    pub(crate) fn started(self) -> bool {
        let phase = self.0 & PHASE_BITS;
        phase != phase_code(Phase::Created) && phase != CLOSED_NEVER_STARTED
    }

    /// The public run number (`Many::run_number`): the number of runs
    /// started so far, which is the current run's number while one is in
    /// progress; 0 if no run was ever started.
    #[inline]
    pub(crate) fn run_number(self) -> u64 {
        if self.started() {
            self.run()
        } else {
            0
        }
    }

    pub(crate) fn has_context(self) -> bool {
        self.0 & CONTEXT_CREATED != 0
    }

    pub(crate) fn with_context(self) -> Word {
        Word(self.0 | CONTEXT_CREATED)
    }

    pub(crate) fn has_waiters(self) -> bool {
        self.0 & WAITERS != 0
    }

    /// Whether the parent watch is still to be armed (invariant E11).
    #[inline]
    pub(crate) fn unwatched(self) -> bool {
        self.0 & UNWATCHED != 0
    }

    /// Whether run `run` has ended (or the instance closed before it began).
    pub(crate) fn run_ended(self, run: u64) -> bool {
        table::reads(self.phase()).done_resolved || self.run() > run
    }

    /// The word after `cell` is applied to `self`: the phase code or-ed into
    /// phase bits that are clear on the left. (`|` -> `^` on these disjoint
    /// bits is an equivalent mutant, excluded in `.cargo/mutants.toml`.)
    #[track_caller]
    pub(crate) fn after(self, cell: Cell) -> Word {
        if cell.new_run {
            // A new run: next run number, no context yet (invariant E1), no
            // waiters (invariant E4). The run number is checked, never
            // wrapped (invariant E8): a wrapped number would make a wait for
            // an ended run read "not done".
            let run = self.run();
            assert!(
                run < MAX_RUN,
                "runcycle: `Many::start` cannot begin run {} (at most {MAX_RUN} runs per instance; \
                 make a new `Many` to go on)",
                u128::from(run) + 1,
            );
            // `U` is kept: whether the parent is watched is not per run.
            Word(((run + 1) << RUN_SHIFT) | (self.0 & UNWATCHED) | phase_code(cell.next))
        } else if cell.next == Phase::Closed && !self.started() {
            // Closed without a run (from `Created`, or a no-op on such a
            // word, which keeps it): remembered for `run_number`.
            Word((self.0 & !PHASE_BITS) | CLOSED_NEVER_STARTED)
        } else {
            Word((self.0 & !PHASE_BITS) | phase_code(cell.next))
        }
    }
}

impl fmt::Debug for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Word")
            .field("phase", &self.phase())
            .field("run", &self.run())
            .field("context_created", &self.has_context())
            .field("waiters", &self.has_waiters())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn words_debug_as_decoded_fields() {
        let word = Word(INITIAL).with_context();
        assert_eq!(
            format!("{word:?}"),
            "Word { phase: Created, run: 1, context_created: true, waiters: false }"
        );
    }

    #[test]
    fn with_context_sets_the_bit() {
        for word in [Word(INITIAL), Word(INITIAL).with_context()] {
            let set = word.with_context();
            assert!(set.has_context());
            assert_eq!(set.phase(), word.phase());
            assert_eq!(set.run(), word.run());
        }
    }

    #[test]
    fn phase_codes_decode() {
        let mut seen = Vec::new();
        for phase in Phase::ALL {
            let code = phase_code(phase);
            assert_eq!(code & !PHASE_BITS, 0, "{phase:?} fits the phase bits");
            assert!(!seen.contains(&code), "{phase:?}: codes are distinct");
            seen.push(code);
            // Decoding, with every other bit of the word set or clear.
            for rest in [0, !PHASE_BITS] {
                let word = Word(rest | code);
                assert_eq!(word.phase(), phase);
                assert_eq!(word.state(), table::reads(phase).state, "{phase:?}");
            }
        }
        assert_eq!(phase_code(Phase::Created), 0, "INITIAL relies on it");
        assert_eq!(Word(INITIAL).phase(), Phase::Created);
        assert_eq!(Word(INITIAL).run(), 1);
        assert!(!Word(INITIAL).has_context() && !Word(INITIAL).has_waiters());
        // The second code of `Closed`: decodes as `Closed`, distinct from
        // every phase's code, and says no run was started.
        assert!(!seen.contains(&CLOSED_NEVER_STARTED));
        assert_eq!(CLOSED_NEVER_STARTED & !PHASE_BITS, 0);
        for rest in [0, !PHASE_BITS] {
            let word = Word(rest | CLOSED_NEVER_STARTED);
            assert_eq!(word.phase(), Phase::Closed);
            assert_eq!(word.state(), State::Closed);
        }
    }

    /// A transition that does not begin a run changes only the phase bits:
    /// the run number and the context and waiter flags are kept
    /// (invariants E1, E4: `W` is cleared only by the next run's start),
    /// on the close of a never-started instance too.
    #[test]
    fn only_a_new_run_changes_more_than_the_phase_bits() {
        use crate::lifecycle::table::{cell, Event, Kind};
        let events = [
            Event::Start,
            Event::Complete,
            Event::Stop,
            Event::Close,
            Event::ParentCancel,
        ];
        for kind in [Kind::One, Kind::Many] {
            for phase in Phase::ALL {
                for event in events {
                    let Some(cell) = cell(kind, phase, event) else {
                        continue;
                    };
                    if cell.new_run {
                        continue;
                    }
                    for flags in [
                        0,
                        CONTEXT_CREATED,
                        WAITERS,
                        UNWATCHED,
                        CONTEXT_CREATED | WAITERS | UNWATCHED,
                    ] {
                        let word = Word((3 << RUN_SHIFT) | flags | phase_code(phase));
                        let next = word.after(cell);
                        assert_eq!(
                            next.0 & !PHASE_BITS,
                            word.0 & !PHASE_BITS,
                            "{kind:?} {phase:?} {event:?}"
                        );
                        assert_eq!(next.phase(), cell.next, "{kind:?} {phase:?} {event:?}");
                    }
                }
            }
        }
    }

    /// A new run clears `C` and `W` (invariants E1, E4) and keeps `U`
    /// (invariant E11: whether the parent is watched is not per run).
    #[test]
    fn a_new_run_keeps_only_the_watch_flag() {
        use crate::lifecycle::table::{cell, Event, Kind};
        let start = cell(Kind::Many, Phase::Stopped, Event::Start).unwrap();
        for flags in [0, UNWATCHED, CONTEXT_CREATED | WAITERS | UNWATCHED] {
            let word = Word((3 << RUN_SHIFT) | flags | phase_code(Phase::Stopped));
            let next = word.after(start);
            assert_eq!(next.run(), 4);
            assert_eq!(next.phase(), Phase::Running);
            assert!(!next.has_context() && !next.has_waiters());
            assert_eq!(next.unwatched(), flags & UNWATCHED != 0, "{flags:#b}");
        }
    }

    /// `run_number` is 0 until a start, and stays 0 through a close that
    /// came before any start; a close after a run keeps that run's number.
    #[test]
    fn run_numbers_count_started_runs() {
        use crate::lifecycle::table::{cell, Event, Kind};
        let apply = |word: Word, kind, event| word.after(cell(kind, word.phase(), event).unwrap());
        for kind in [Kind::One, Kind::Many] {
            let created = Word(INITIAL);
            assert_eq!(created.run_number(), 0);
            for event in [Event::Close, Event::ParentCancel] {
                let closed = apply(created, kind, event);
                assert_eq!((closed.phase(), closed.run_number()), (Phase::Closed, 0));
                // Every later event is a no-op on that word.
                for again in [Event::Start, Event::Close, Event::ParentCancel] {
                    assert_eq!(apply(closed, kind, again), closed, "{kind:?} {again:?}");
                }
            }
            let running = apply(created, kind, Event::Start);
            assert_eq!(running.run_number(), 1);
            let closing = apply(running, kind, Event::Close);
            assert_eq!(closing.run_number(), 1);
            let closed = apply(closing, kind, Event::Complete);
            assert_eq!((closed.phase(), closed.run_number()), (Phase::Closed, 1));
        }
        let stopped = Word(INITIAL).after(cell(Kind::Many, Phase::Created, Event::Start).unwrap());
        let stopped = stopped.after(cell(Kind::Many, Phase::Running, Event::Complete).unwrap());
        let second = stopped.after(cell(Kind::Many, Phase::Stopped, Event::Start).unwrap());
        assert_eq!((stopped.run_number(), second.run_number()), (1, 2));
        let closed = second
            .after(cell(Kind::Many, Phase::Running, Event::Complete).unwrap())
            .after(cell(Kind::Many, Phase::Stopped, Event::Close).unwrap());
        assert_eq!((closed.phase(), closed.run_number()), (Phase::Closed, 2));
    }
}
