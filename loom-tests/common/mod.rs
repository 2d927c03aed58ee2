//! Shared helpers of the loom suite: the model runner (bounds, interleaving
//! counts), the run log that checks "one run at a time" and happens-before,
//! and a sequential reference model of `spec/transitions.md`, against which
//! every model's recorded results are checked. The model takes each
//! transition's cell and each state's reads from the spec document itself,
//! parsed by `tests/common/spec.rs` (the parser the std tests and the
//! crate's spec check use; not the crate's table); what it adds are the
//! run numbers, the waits, the parent's mark and the allowed lag of a
//! context behind the state word (spec/README.md section 8).

#![allow(dead_code, unreachable_pub)]

pub mod models;
pub mod script;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

use loom::cell::UnsafeCell;
use runcycle::{StartError, State};

// ---------------------------------------------------------------------------
// The runner
// ---------------------------------------------------------------------------

/// Runs `f` under loom with at most `bound` preemptions per interleaving
/// (`None`: exhaustive), and prints how many interleavings were explored.
///
/// For deeper runs, `LOOM_MAX_PREEMPTIONS=n` replaces the bound of every
/// bounded model (exhaustive models stay exhaustive) and
/// `RUNCYCLE_LOOM_UNBOUNDED=1` makes every model exhaustive. The printed line
/// (`loom model NAME: N interleavings ...`) shows with
/// `cargo test -- --nocapture`.
pub fn model<F>(name: &str, bound: Option<usize>, f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    let mut builder = loom::model::Builder::new();
    // `Builder::new` read LOOM_MAX_PREEMPTIONS, if set.
    builder.preemption_bound = match (bound, builder.preemption_bound) {
        (None, _) => None,
        (Some(_), Some(env)) => Some(env),
        (Some(b), None) => Some(b),
    };
    if std::env::var_os("RUNCYCLE_LOOM_UNBOUNDED").is_some() {
        builder.preemption_bound = None;
    }
    let bound = builder.preemption_bound;
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&count);
    let t0 = Instant::now();
    builder.check(move || {
        counter.fetch_add(1, Relaxed);
        f();
    });
    let bound = bound.map_or_else(|| "none".to_string(), |b| b.to_string());
    eprintln!(
        "loom model {name}: {} interleavings, preemption bound {bound}, {:.2} s",
        count.load(Relaxed),
        t0.elapsed().as_secs_f64()
    );
}

// ---------------------------------------------------------------------------
// The run log
// ---------------------------------------------------------------------------

/// What the runs write. It lives in a loom `UnsafeCell`: loom reports a
/// "causality violation" when two accesses are not ordered by happens-before,
/// so two overlapping runs, or a waiter that reads it after a run's end
/// without synchronizing with that end, fail the model.
#[derive(Debug, Default)]
struct Log {
    active: bool,
    runs: u32,
}

/// Shared by the threads of a model (inside a loom `Arc`).
#[derive(Debug, Default)]
pub struct RunLog(UnsafeCell<Log>);

impl RunLog {
    pub fn new() -> RunLog {
        RunLog(UnsafeCell::new(Log::default()))
    }

    /// The body of a run begins: asserts no other run is active.
    pub fn enter(&self) {
        self.0.with_mut(|log| {
            // SAFETY: loom checks that this access does not race.
            let log = unsafe { &mut *log };
            assert!(!log.active, "two runs at once");
            log.active = true;
            log.runs += 1;
        });
    }

    /// The body of a run ends (just before its guard is dropped).
    pub fn exit(&self) {
        self.0.with_mut(|log| {
            // SAFETY: as above.
            let log = unsafe { &mut *log };
            assert!(log.active, "exit without enter");
            log.active = false;
        });
    }

    /// Reads the log after a run is known to have ended: asserts no run is
    /// active; returns the number of runs so far. Loom checks that the
    /// reader synchronized with the writers.
    pub fn read_idle(&self) -> u32 {
        self.0.with(|log| {
            // SAFETY: as above.
            let log = unsafe { &*log };
            assert!(
                !log.active,
                "a run is still active after its end was observed"
            );
            log.runs
        })
    }
}

// ---------------------------------------------------------------------------
// The sequential reference model (spec/transitions.md, through the oracle)
// ---------------------------------------------------------------------------

/// The spec's parser and oracle, shared with the std tests (and the crate's
/// spec check): the cells below are looked up there, never written here.
#[path = "../../tests/common/spec.rs"]
pub mod spec;

use spec::{Cell, Event as Ev, Oracle, Public, Returns};
pub use spec::{Kind, Phase};

/// What `ev` does in `phase` for `kind` (the spec's row); `None`: the event
/// cannot happen.
pub fn cell(kind: Kind, phase: Phase, ev: Ev) -> Option<Cell> {
    Oracle::get().cell(kind, phase, ev)
}

/// The spec's "returns" column as the crate's result.
pub fn outcome(returns: Returns) -> Result<(), StartError> {
    match returns {
        Returns::Ok => Ok(()),
        Returns::ErrRunning => Err(StartError::Running),
        Returns::ErrClosed => Err(StartError::Closed),
    }
}

/// The spec's "state()" column.
pub fn public(p: Phase) -> State {
    match Oracle::get().reads(p).state {
        Public::Created => State::Created,
        Public::Running => State::Running,
        Public::Stopped => State::Stopped,
        Public::Closed => State::Closed,
    }
}

/// The spec's "context() cancelled" column.
pub fn reads_cancelled(p: Phase) -> bool {
    Oracle::get().reads(p).context_cancelled
}

/// Whether every state that reads `state` in `state()` reads its context
/// cancelled (Stopped and Closed; not Running, which Stopping and Closing
/// share with Running).
pub fn state_reads_cancelled(state: State) -> bool {
    Phase::ALL
        .iter()
        .filter(|&&p| public(p) == state)
        .all(|&p| reads_cancelled(p))
}

/// The spec's "done() resolved" column.
pub fn reads_done(p: Phase) -> bool {
    Oracle::get().reads(p).done_resolved
}

/// The spec's edges on the public state (self-loops included): some row of
/// `kind` goes from a state that reads `a` to one that reads `b`.
fn edge(kind: Kind, a: State, b: State) -> bool {
    a == b
        || Phase::ALL.iter().any(|&p| {
            public(p) == a
                && spec::Event::ALL
                    .iter()
                    .filter_map(|&ev| cell(kind, p, ev))
                    .any(|c| public(c.next) == b)
        })
}

/// Whether an observer may see `b` after `a`: `b` is reachable from `a`
/// along the spec's edges (an observer can miss intermediate states).
pub fn may_follow(kind: Kind, a: State, b: State) -> bool {
    let all = [
        State::Created,
        State::Running,
        State::Stopped,
        State::Closed,
    ];
    let mut seen = vec![a];
    let mut i = 0;
    while i < seen.len() {
        let s = seen[i];
        for t in all {
            if edge(kind, s, t) && !seen.contains(&t) {
                seen.push(t);
            }
        }
        i += 1;
    }
    seen.contains(&b)
}

/// Asserts that a sequence of `state()` reads by one thread is in an order
/// the spec allows.
pub fn assert_order(kind: Kind, seen: &[State]) {
    for pair in seen.windows(2) {
        assert!(
            may_follow(kind, pair[0], pair[1]),
            "observed {:?} then {:?}: not an order the spec allows ({seen:?})",
            pair[0],
            pair[1]
        );
    }
}

/// An operation as a thread performed it, with what it returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// `start()`; `guard` names the guard an `Ok` produced.
    Start {
        guard: u8,
        res: Result<(), StartError>,
    },
    /// The guard `guard` was dropped (completion).
    Complete { guard: u8 },
    /// `stop()`: its previous state (`None`: not observed), or its error
    /// (`ClosedError` as `StartError::Closed`); `wait` names the returned
    /// wait, if kept.
    Stop {
        res: Result<Option<State>, StartError>,
        wait: Option<u8>,
    },
    /// `close()` or the last handle dropped (prev `None`: not observed).
    Close {
        prev: Option<State>,
        wait: Option<u8>,
    },
    /// `done()`, kept as wait `wait`.
    Done { wait: u8 },
    /// Wait `wait` returned (blocking or awaited).
    Wait { wait: u8 },
    /// `parent.cancel()`: the parent token is marked cancelled, then the
    /// instance's watch applies `ParentCancel` (unless a call did first).
    ParentCancel,
    /// `parent.is_cancelled()` returned this.
    ParentSeen(bool),
    /// The context of guard `guard`'s run was observed (not) cancelled.
    Ctx { guard: u8, cancelled: bool },
    /// `state()` returned this.
    State(State),
}

const GUARDS: usize = 8;
const WAITS: usize = 8;

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
struct Sim {
    pos: Vec<usize>,
    phase: Phase,
    run: u8,
    guard_run: [u8; GUARDS],
    /// The run each wait waits for; 0: resolved when made.
    wait_run: [u8; WAITS],
    /// Bit `r`: a transition whose cell says "cancels context" has been
    /// applied in run `r` (the word says run `r`'s context is cancelled).
    cancelled: u32,
    /// Bit `r`: the transition that cancels run `r`'s context has been
    /// applied, but the thread that applied it may not have cancelled the
    /// token yet (spec/README.md section 8, S2): its readers may still see
    /// it not cancelled.
    late: u32,
    /// The parent token is marked cancelled.
    parent_marked: bool,
    /// `ParentCancel` was applied to the instance.
    parent_applied: bool,
    /// Per thread: the run whose token this thread still has to cancel
    /// (S2); done before the thread's next operation, and before the main
    /// thread goes on after joining it (S4).
    pending: Vec<Option<u8>>,
}

impl Sim {
    /// Whether run `run`'s context is cancelled, as the spec's "cancels
    /// context" cells applied so far say (for a consistent spec, the reads
    /// of the current state for the current run, and yes for every earlier
    /// run).
    fn ctx_cancelled(&self, run: u8) -> bool {
        self.cancelled & (1 << run) != 0
    }

    /// Applies `op` of thread `t`; `None` if the spec forbids it here.
    fn step(&self, kind: Kind, t: usize, op: Op) -> Option<Sim> {
        let mut s = self.clone();
        s.pos[t] += 1;
        // S4: the cancellations a thread owes are done before its next
        // operation; the threads start after the prefix is done, and the
        // suffix runs after joining every thread.
        let n = s.pending.len();
        let settled: Vec<usize> = if t == n - 1 {
            (0..n).collect()
        } else {
            vec![0, t]
        };
        for u in settled {
            if let Some(run) = s.pending[u].take() {
                s.late &= !(1 << run);
            }
        }
        let event = |s: &mut Sim, ev: Ev| -> Option<Cell> {
            let cell = cell(kind, s.phase, ev)?;
            if cell.cancels_context {
                // S1/S2: the word says cancelled from now on; the token
                // follows before this thread's next operation.
                s.cancelled |= 1 << s.run;
                s.late |= 1 << s.run;
                s.pending[t] = Some(s.run);
            }
            if cell.new_run {
                s.run += 1;
            }
            s.phase = cell.next;
            Some(cell)
        };
        let call = matches!(
            op,
            Op::Start { .. }
                | Op::Complete { .. }
                | Op::Stop { .. }
                | Op::Close { .. }
                | Op::ParentCancel
        );
        if call && s.parent_marked && !s.parent_applied {
            // invariant E6: a call first applies a parent
            // cancellation the instance has not applied yet.
            event(&mut s, Ev::ParentCancel)?;
            s.parent_applied = true;
        }
        match op {
            Op::Start { guard, res } => {
                let c = event(&mut s, Ev::Start)?;
                if outcome(c.returns) != res {
                    return None;
                }
                if res.is_ok() {
                    s.guard_run[usize::from(guard)] = s.run;
                }
            }
            Op::Complete { guard } => {
                if s.guard_run[usize::from(guard)] != s.run {
                    return None;
                }
                event(&mut s, Ev::Complete)?;
            }
            Op::Stop { res, wait } => {
                let (prev, run) = (public(s.phase), s.run);
                let c = event(&mut s, Ev::Stop)?;
                match (outcome(c.returns), res) {
                    (Ok(()), Ok(p)) if p.is_none_or(|p| p == prev) => {}
                    (Err(a), Err(b)) if a == b => {}
                    _ => return None,
                }
                if let Some(w) = wait {
                    s.wait_run[usize::from(w)] = if c.waits { run } else { 0 };
                }
            }
            Op::Close { prev, wait } => {
                let (before, run) = (public(s.phase), s.run);
                let c = event(&mut s, Ev::Close)?;
                if prev.is_some_and(|p| p != before) {
                    return None;
                }
                if let Some(w) = wait {
                    s.wait_run[usize::from(w)] = if c.waits { run } else { 0 };
                }
            }
            Op::ParentCancel => {
                // The parent's token is marked cancelled (if `mark` did not
                // do it earlier) and the watch applies `ParentCancel` inside
                // `cancel()` (unless a call above already did).
                s.parent_marked = true;
                if !s.parent_applied {
                    event(&mut s, Ev::ParentCancel)?;
                    s.parent_applied = true;
                }
            }
            Op::ParentSeen(seen) => {
                if s.parent_marked != seen {
                    return None;
                }
            }
            Op::Done { wait } => {
                s.wait_run[usize::from(wait)] = if reads_done(s.phase) { 0 } else { s.run };
            }
            Op::Wait { wait } => {
                let run = s.wait_run[usize::from(wait)];
                // The engine's `run_ended`: resolved when made, or the run
                // has ended, or the instance is done.
                if !(run == 0 || run < s.run || reads_done(s.phase)) {
                    return None;
                }
            }
            Op::Ctx { guard, cancelled } => {
                let run = s.guard_run[usize::from(guard)];
                // Never ahead (S1); behind only while the cancellation is
                // owed (S2).
                let lagging = s.late & (1 << run) != 0;
                if s.ctx_cancelled(run) != cancelled && (cancelled || !lagging) {
                    return None;
                }
            }
            Op::State(st) => {
                if public(s.phase) != st {
                    return None;
                }
            }
        }
        if call && reads_cancelled(s.phase) && s.late & (1 << s.run) != 0 {
            // S4, the help: a call answered from a phase of the run whose
            // context is cancelled cancels the token before it returns.
            s.pending[t] = Some(s.run);
        }
        Some(s)
    }

    /// The moves thread `t` can make before its next operation `op` takes
    /// effect: for `parent.cancel()`, the mark: tokio-util marks the parent
    /// token cancelled before it wakes the watch, and from then on every
    /// call applies the cancellation first (invariant E6). (Tokens are
    /// never cancelled ahead of their transition, S1: there is no such
    /// move.)
    fn parent_marks(&self, op: Op) -> Vec<Sim> {
        let mut moves = Vec::new();
        if op == Op::ParentCancel && !self.parent_marked {
            let mut s = self.clone();
            s.parent_marked = true;
            moves.push(s);
        }
        moves
    }
}

/// A history: what the main thread did before spawning (`prefix`), what each
/// thread did, and what the main thread did after joining them (`suffix`).
#[derive(Clone, Debug, Default)]
pub struct History {
    pub prefix: Vec<Op>,
    pub threads: Vec<Vec<Op>>,
    pub suffix: Vec<Op>,
}

impl History {
    /// Every operation, in no particular order.
    pub fn all(&self) -> impl Iterator<Item = &Op> {
        self.prefix
            .iter()
            .chain(self.threads.iter().flatten())
            .chain(self.suffix.iter())
    }
}

/// Asserts that some interleaving of the threads' operations (each thread in
/// its own order, after the prefix and before the suffix) is a sequential
/// execution the spec allows, returning exactly what was recorded.
pub fn assert_sequential(kind: Kind, h: &History) {
    if !explains(kind, h) {
        panic!("no sequential order of the spec explains this history: {h:#?}");
    }
}

/// Whether some sequential order explains `h` (see [`assert_sequential`]).
pub fn explains(kind: Kind, h: &History) -> bool {
    let mut all = vec![h.prefix.clone()];
    all.extend(h.threads.iter().cloned());
    all.push(h.suffix.clone());
    let n = all.len();
    let start = Sim {
        pos: vec![0; n],
        phase: Phase::Created,
        run: 1,
        guard_run: [0; GUARDS],
        wait_run: [0; WAITS],
        cancelled: 0,
        late: 0,
        parent_marked: false,
        parent_applied: false,
        pending: vec![None; n],
    };
    search(kind, &all, start, &mut HashSet::new())
}

fn search(kind: Kind, all: &[Vec<Op>], s: Sim, failed: &mut HashSet<Sim>) -> bool {
    let n = all.len();
    if (0..n).all(|t| s.pos[t] == all[t].len()) {
        return true;
    }
    if failed.contains(&s) {
        return false;
    }
    // The prefix runs alone first; the suffix alone last.
    let prefix_done = s.pos[0] == all[0].len();
    let threads_done = (1..n - 1).all(|t| s.pos[t] == all[t].len());
    let movable: Vec<usize> = if !prefix_done {
        vec![0]
    } else if !threads_done {
        (1..n - 1).filter(|&t| s.pos[t] < all[t].len()).collect()
    } else {
        vec![n - 1]
    };
    for t in movable {
        let op = all[t][s.pos[t]];
        if let Some(next) = s.step(kind, t, op) {
            if search(kind, all, next, failed) {
                return true;
            }
        }
        for next in s.parent_marks(op) {
            if search(kind, all, next, failed) {
                return true;
            }
        }
    }
    failed.insert(s);
    false
}

/// Self-test of the reference model: it accepts a correct history and
/// rejects wrong ones (runs as a plain test).
pub fn self_test() {
    use Op as O;
    let rejects = |kind: Kind, h: History| {
        assert!(!explains(kind, &h), "the reference model accepted {h:#?}");
    };
    let start = |guard| O::Start { guard, res: Ok(()) };
    // A close before the completion, as one thread sees it.
    assert_sequential(
        Kind::Many,
        &History {
            prefix: vec![start(0)],
            threads: vec![
                vec![O::Complete { guard: 0 }],
                vec![
                    O::Close {
                        prev: Some(State::Running),
                        wait: Some(0),
                    },
                    O::Ctx {
                        guard: 0,
                        cancelled: true,
                    },
                    O::Wait { wait: 0 },
                    O::State(State::Closed),
                ],
            ],
            suffix: vec![O::State(State::Closed)],
        },
    );
    // A context seen cancelled ahead of the completion that cancels it
    // (S1: never ahead).
    rejects(
        Kind::Many,
        History {
            prefix: vec![start(0)],
            threads: vec![
                vec![O::Complete { guard: 0 }],
                vec![
                    O::Ctx {
                        guard: 0,
                        cancelled: true,
                    },
                    O::State(State::Running),
                ],
            ],
            suffix: vec![O::State(State::Stopped)],
        },
    );
    // Two successful starts of a One.
    rejects(
        Kind::One,
        History {
            prefix: vec![],
            threads: vec![
                vec![start(0), O::Complete { guard: 0 }],
                vec![start(1), O::Complete { guard: 1 }],
            ],
            suffix: vec![],
        },
    );
    // A context seen cancelled while nothing could have cancelled it.
    rejects(
        Kind::Many,
        History {
            prefix: vec![start(0)],
            threads: vec![
                vec![O::Ctx {
                    guard: 0,
                    cancelled: true,
                }],
                vec![O::State(State::Running)],
            ],
            suffix: vec![O::Complete { guard: 0 }],
        },
    );
    // A context not cancelled after the completion.
    rejects(
        Kind::Many,
        History {
            prefix: vec![start(0), O::Complete { guard: 0 }],
            threads: vec![],
            suffix: vec![O::Ctx {
                guard: 0,
                cancelled: false,
            }],
        },
    );
    // A close reporting Running after the only run ended.
    rejects(
        Kind::Many,
        History {
            prefix: vec![start(0), O::Complete { guard: 0 }],
            threads: vec![vec![O::Close {
                prev: Some(State::Running),
                wait: None,
            }]],
            suffix: vec![],
        },
    );
    // A close wait that returned before the run ended.
    rejects(
        Kind::One,
        History {
            prefix: vec![start(0)],
            threads: vec![
                vec![
                    O::Close {
                        prev: Some(State::Running),
                        wait: Some(0),
                    },
                    O::Wait { wait: 0 },
                    O::State(State::Running),
                ],
                vec![O::Complete { guard: 0 }],
            ],
            suffix: vec![],
        },
    );
    // A done wait that returned although nothing ended.
    rejects(
        Kind::Many,
        History {
            prefix: vec![start(0), O::Done { wait: 0 }],
            threads: vec![vec![O::Wait { wait: 0 }]],
            suffix: vec![O::Complete { guard: 0 }],
        },
    );
    // A start after seeing the parent cancelled must be refused (engine
    // invariant E6), even if the watch has not run yet.
    rejects(
        Kind::One,
        History {
            prefix: vec![],
            threads: vec![
                vec![O::ParentCancel],
                vec![O::ParentSeen(true), start(0), O::Complete { guard: 0 }],
            ],
            suffix: vec![],
        },
    );
    assert_sequential(
        Kind::One,
        &History {
            prefix: vec![],
            threads: vec![
                vec![O::ParentCancel],
                vec![
                    O::ParentSeen(true),
                    O::Start {
                        guard: 0,
                        res: Err(StartError::Closed),
                    },
                ],
            ],
            suffix: vec![O::State(State::Closed)],
        },
    );
    // A close seen through the context while the state still reads
    // Running (Closing).
    assert_sequential(
        Kind::One,
        &History {
            prefix: vec![
                start(0),
                O::Ctx {
                    guard: 0,
                    cancelled: false,
                },
            ],
            threads: vec![
                vec![O::Close {
                    prev: Some(State::Running),
                    wait: None,
                }],
                vec![
                    O::Ctx {
                        guard: 0,
                        cancelled: true,
                    },
                    O::State(State::Running),
                ],
            ],
            suffix: vec![O::Complete { guard: 0 }, O::State(State::Closed)],
        },
    );
    // S2: another thread sees the new state before the token's cancel.
    assert_sequential(
        Kind::Many,
        &History {
            prefix: vec![start(0)],
            threads: vec![
                vec![O::Complete { guard: 0 }],
                vec![
                    O::State(State::Stopped),
                    O::Ctx {
                        guard: 0,
                        cancelled: false,
                    },
                ],
            ],
            suffix: vec![O::Ctx {
                guard: 0,
                cancelled: true,
            }],
        },
    );
    // S4: the completing thread itself, after its call, sees it cancelled;
    // and so does the main thread after joining.
    rejects(
        Kind::Many,
        History {
            prefix: vec![start(0)],
            threads: vec![vec![
                O::Complete { guard: 0 },
                O::Ctx {
                    guard: 0,
                    cancelled: false,
                },
            ]],
            suffix: vec![],
        },
    );
    rejects(
        Kind::Many,
        History {
            prefix: vec![start(0)],
            threads: vec![vec![O::Complete { guard: 0 }]],
            suffix: vec![O::Ctx {
                guard: 0,
                cancelled: false,
            }],
        },
    );
    // Observed order.
    assert!(may_follow(Kind::Many, State::Stopped, State::Running));
    assert!(may_follow(Kind::Many, State::Created, State::Stopped));
    assert!(!may_follow(Kind::One, State::Closed, State::Running));
    assert!(!may_follow(Kind::Many, State::Running, State::Created));
    assert!(!may_follow(Kind::One, State::Running, State::Stopped));
    assert!(state_reads_cancelled(State::Stopped) && state_reads_cancelled(State::Closed));
    assert!(!state_reads_cancelled(State::Running) && !state_reads_cancelled(State::Created));
}
