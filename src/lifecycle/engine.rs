//! The engine shared by [`One`](crate::One) and [`Many`](crate::Many).
//!
//! Both types are thin handles over [`Handle`], which owns an [`Inner`]. Every
//! state change goes through [`Inner::apply`], which looks the event up in the
//! transition table ([`crate::table`]) and installs the result with one
//! compare-and-swap on the state word. There is no per-type code path: the
//! only difference between One and Many is the [`Kind`] used to index the
//! table.
//!
//! # The state word
//!
//! One `AtomicU64`, laid out as
//!
//! ```text
//!  63                             6   5   4   3     0
//! +--------------------------------+---+---+-------+
//! |          run number            | W | C | phase |
//! +--------------------------------+---+---+-------+
//! ```
//!
//! * `phase` ([`PHASE_BITS`]): the table's [`Phase`], encoded so that its
//!   two low bits are the public [`State`]'s discriminant ([`phase_code`]):
//!   `state()` is a load and a mask, with no table lookup.
//! * `C` ([`CONTEXT_CREATED`]): the current run's context token exists (it is
//!   created lazily, on the first `context()` call of the run, so runs that
//!   never ask for it allocate nothing).
//! * `W` ([`WAITERS`]): somebody may be waiting for the current run to end
//!   (invariant #4). A run nobody waits for ends without touching the
//!   listener list.
//! * `run number`: 1 for the first run (also while `Created`), incremented
//!   by every `Start` from `Stopped` (table invariant #4). At one restart per
//!   nanosecond it would take 9 years to exhaust 58 bits.
//!
//! `state()` and every wait check are one `Acquire` load of this word.
//!
//! # Invariants
//!
//! 1. While `C` is set, the slot holds the token of the word's run, and every
//!    change of the word's phase other than a `Start` that begins a new run
//!    is made with the slot locked. (A new run clears `C`; the slot then
//!    holds the previous run's token, already cancelled. Waiters set `W`
//!    without the lock, invariant #4; that changes no phase.)
//! 2. State first, token second (spec/README.md, section 8, S1 to S4): a
//!    cell that cancels the context publishes its phase with the
//!    compare-and-swap (under the slot lock if `C` is set, invariant #1,
//!    taking a clone of the token), releases the lock, and only then
//!    cancels the token, before it notifies waiters and returns. So a token
//!    is never cancelled ahead of the word (S1); the window between the swap
//!    and the cancel is the only disagreement (S2); `context()` seeing a
//!    phase that says cancelled cancels the token it returns itself (S3),
//!    and so does every other call answered from such a phase of the same
//!    run, no-op or not (the help, S4): none returns while its run's token
//!    could still read live.
//! 3. While `C` is clear nobody holds a token of the current run; `context()`
//!    creates one under the slot lock, cancels it if the phase says so, and
//!    publishes it by setting `C` with a compare-and-swap, retrying if the
//!    word changed in between.
//! 4. Waiters are notified after the compare-and-swap that resolves `done`
//!    (table invariant #3), and only if the word it replaced had `W` set. A
//!    waiter first registers its listener, then sets `W` with one
//!    `fetch_or`, which also re-reads the word: if the run had ended it does
//!    not wait ([`Inner::listen_for`]). Both are read-modify-writes of the
//!    one atomic word, so its modification order decides: either the
//!    resolving swap comes first and the waiter's `fetch_or` sees the run
//!    ended, or the swap replaces a word with `W` set and notifies, after the
//!    registration (which happens before the `fetch_or` it reads). No
//!    wake-up is lost. `W` is cleared only by the next run's `Start`; set on
//!    an ended run it is never read, since a run ends once (table invariant
//!    #3) and a later waiter of that run sees the end first.
//! 5. The waker watching the parent token owns an `Arc<Inner>`; the cycle
//!    through `watch` is broken when the last handle is dropped (or when the
//!    parent is cancelled, which consumes the waker).
//! 6. Parent cancellation reaches the instance two ways, whichever comes
//!    first: the watch's waker, which tokio-util runs inside the `cancel()`
//!    call that cancelled the parent, just after it marked the token tree
//!    cancelled; and every call (`start`, completion, `stop`, `close`), which
//!    first checks `parent.is_cancelled()` and applies `ParentCancel` itself.
//!    `context()` makes the same check. So a call made after the parent's
//!    cancellation (in happens-before order, e.g. after observing
//!    `parent.is_cancelled()`) always sees it applied. Run contexts are
//!    root tokens cancelled only by the instance's transitions (invariant
//!    #2), so they never run ahead of the state word. Only the
//!    lock-free reads (`state()`, `done()`'s first check) can lag the parent
//!    by tokio-util's mark-then-notify window, for a thread that learned of
//!    the cancellation from the parent token itself (spec/README.md, 7).
//!
//! 7. Propagation is a loop, not a recursion: a parent watch that wakes on
//!    a thread already firing a watch is pushed on that thread's work list
//!    ([`propagate`]) and fired by the outermost firing after the current
//!    one returns. A chain of N nested instances uses N iterations and a
//!    constant stack; the outermost firing (inside the root's `cancel()`)
//!    returns only when the list is empty, so eagerness (#6) is kept.
//! 8. The run number never wraps: a `Start` that would begin run 2^58
//!    ([`MAX_RUN`] + 1) panics before its compare-and-swap, changing
//!    nothing (spec/README.md, section 14). Run numbers only grow, which
//!    [`Word::run_ended`] relies on.
//!
//! # Locks and deadlock freedom
//!
//! The engine has two locks, `slot` and `watch`, never held together, and
//! one rule (spec/README.md, section 13): **no user or foreign code runs
//! while a crate lock is held.** Under `slot` the engine only reads or
//! replaces a token (dropping the replaced reference is tokio-util's
//! reference counting, which wakes nobody) and makes its compare-and-swap;
//! under `watch` it only polls or takes the parent's future (which
//! registers our own waker). Token
//! cancellation (foreign wakers, the watches of nested instances), `tracing`
//! events and waiter notification all run after the lock is released; the
//! watch's future is dropped outside its lock. So a waker that calls back
//! into the instance cannot deadlock, and no lock is ever taken while
//! another crate lock is held: there is no lock order to violate.

use core::cell::RefCell;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Waker};

use event_listener::Event as Signal;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use crate::lifecycle::table::{self, Cell, Event, Kind, Outcome, Phase};
use crate::sync::{Arc, AtomicU64, AtomicUsize, Mutex, Ordering, StdArc};
use crate::{Error, Guard, State, Wait};

/// Mask of the phase bits of the state word.
const PHASE_BITS: u64 = 0b1111;
/// Mask of the phase bits that hold the public state.
const STATE_BITS: u64 = 0b11;
/// Set while the current run's context token exists (invariant #1).
const CONTEXT_CREATED: u64 = 1 << 4;
/// Set while somebody may wait for the current run to end (invariant #4).
const WAITERS: u64 = 1 << 5;
/// Shift of the run number.
const RUN_SHIFT: u32 = 6;
/// The largest run number the word can hold: 2^58 - 1 (invariant #8).
pub(crate) const MAX_RUN: u64 = u64::MAX >> RUN_SHIFT;
/// The word of a new instance: phase `Created`, run 1, no context.
/// (`Created` is phase code 0, checked by the unit test `phase_codes_decode`.)
const INITIAL: u64 = 1 << RUN_SHIFT;

/// How a phase is stored in the state word: the two low bits are the public
/// [`State`] of the phase (its discriminant), the two above tell the three
/// running phases apart. `state()` then needs no lookup; the unit test
/// `phase_codes_decode` checks the encoding against the reads table.
const fn phase_code(phase: Phase) -> u64 {
    match phase {
        Phase::Created => 0b0000,
        Phase::Running => 0b0001,
        Phase::Stopping => 0b0101,
        Phase::Closing => 0b1001,
        Phase::Stopped => 0b0010,
        Phase::Closed => 0b0011,
    }
}

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
pub(crate) struct Word(u64);

impl Word {
    pub(crate) fn phase(self) -> Phase {
        match self.0 & PHASE_BITS {
            0b0000 => Phase::Created,
            0b0001 => Phase::Running,
            0b0101 => Phase::Stopping,
            0b1001 => Phase::Closing,
            0b0010 => Phase::Stopped,
            0b0011 => Phase::Closed,
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

    fn has_context(self) -> bool {
        self.0 & CONTEXT_CREATED != 0
    }

    fn with_context(self) -> Word {
        Word(self.0 | CONTEXT_CREATED)
    }

    fn has_waiters(self) -> bool {
        self.0 & WAITERS != 0
    }

    /// Whether run `run` has ended (or the instance closed before it began).
    fn run_ended(self, run: u64) -> bool {
        table::reads(self.phase()).done_resolved || self.run() > run
    }

    /// The word after `cell` is applied to `self`. (`+` puts the phase code
    /// into phase bits that are clear on the left; `|` would do the same, but
    /// then `^` would too, a mutant no test could tell apart.)
    fn after(self, cell: Cell) -> Word {
        if cell.new_run {
            // A new run: next run number, no context yet (invariant #1), no
            // waiters (invariant #4). The run number is checked, never
            // wrapped (invariant #8): a wrapped number would make a wait for
            // an ended run read "not done".
            let run = self.run();
            assert!(
                run < MAX_RUN,
                "runcycle: `Many::start` cannot begin run {} (at most {MAX_RUN} runs per instance; \
                 make a new `Many` to go on)",
                u128::from(run) + 1,
            );
            Word(((run + 1) << RUN_SHIFT) + phase_code(cell.next))
        } else {
            Word((self.0 & !PHASE_BITS) + phase_code(cell.next))
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

/// The slot that holds the current run's context token, once created.
struct Slot {
    /// The run the token belongs to (0: none yet).
    run: u64,
    token: Option<CancellationToken>,
}

impl Slot {
    /// A clone of run `run`'s token, if the slot holds it. The run check
    /// matters where the word was loaded before the lock was taken: the
    /// word may have moved to a new run since, and the slot to its token.
    fn token_of(&self, run: u64) -> Option<CancellationToken> {
        if self.run == run {
            self.token.clone()
        } else {
            None
        }
    }
}

/// The result of [`Inner::apply`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Applied {
    /// The word the transition replaced (or found, for a no-op).
    pub(crate) prev: Word,
    /// The cell that was applied.
    pub(crate) cell: Cell,
}

impl Applied {
    /// The public state before the call.
    pub(crate) fn prev_state(&self) -> State {
        table::reads(self.prev.phase()).state
    }

    /// The call's result as the table gives it.
    pub(crate) fn result(&self) -> Result<(), Error> {
        match self.cell.outcome {
            Outcome::Ok => Ok(()),
            Outcome::ErrRunning => Err(Error::Running),
            Outcome::ErrClosed => Err(Error::Closed),
        }
    }
}

/// The shared part of an instance.
pub(crate) struct Inner {
    /// The state word (see the module doc).
    word: AtomicU64,
    kind: Kind,
    /// Notified when a run ends or a never-run instance closes (invariant #4).
    signal: Signal,
    slot: Mutex<Slot>,
    parent: Option<CancellationToken>,
    /// Watches the parent token (invariant #5).
    watch: Mutex<Option<Pin<Box<WaitForCancellationFutureOwned>>>>,
    /// Number of live `One`/`Many` handles (not guards or waits).
    handles: AtomicUsize,
}

impl Inner {
    /// Loads the state word.
    #[inline]
    pub(crate) fn load(&self) -> Word {
        // Acquire pairs with the AcqRel compare-and-swap in `apply`: whoever
        // sees a run ended also sees everything the run did before its guard
        // was dropped.
        Word(self.word.load(Ordering::Acquire))
    }

    fn cell(&self, phase: Phase, event: Event) -> Cell {
        match table::cell(self.kind, phase, event) {
            Some(cell) => cell,
            // Table invariant #1: the handles never issue such an event.
            None => unreachable!(
                "runcycle: event {event:?} in phase {phase:?} for {:?}",
                self.kind
            ),
        }
    }

    /// Applies a call's `event`, after applying the parent's cancellation if
    /// the parent is cancelled but the watch has not run yet (invariant #6).
    pub(crate) fn apply(&self, event: Event) -> Applied {
        if self.parent_cancel_pending() {
            self.transition(Event::ParentCancel);
        }
        self.transition(event)
    }

    /// Whether the parent is cancelled and the instance has not applied it
    /// yet: the window between tokio-util marking the token tree cancelled
    /// and it waking the parent's waiters (invariant #6). Costs nothing
    /// without a parent or once closing; else one `is_cancelled` (a lock in
    /// tokio-util).
    fn parent_cancel_pending(&self) -> bool {
        let Some(parent) = &self.parent else {
            return false;
        };
        !matches!(self.load().phase(), Phase::Closed | Phase::Closing) && parent.is_cancelled()
    }

    /// Applies `event`: one table lookup and one compare-and-swap (retried if
    /// the word changed under us), then the cell's effects.
    pub(crate) fn transition(&self, event: Event) -> Applied {
        let mut slot = None;
        let mut cur = self.load();
        loop {
            let cell = self.cell(cur.phase(), event);
            let next = cur.after(cell);
            if next == cur {
                // Invariant #2, the help: a call answered from a phase whose
                // context is cancelled returns only once the token is; the
                // thread that made that phase may still be between its
                // swap and its cancel.
                if cur.has_context() && table::reads(cur.phase()).context_cancelled {
                    let slot = slot.unwrap_or_else(|| self.slot.lock());
                    let token = slot.token_of(cur.run());
                    drop(slot);
                    if let Some(token) = token {
                        token.cancel();
                    }
                }
                return Applied { prev: cur, cell };
            }
            if cur.has_context() && !cell.new_run && slot.is_none() {
                // Invariant #1: take the lock, then look again.
                slot = Some(self.slot.lock());
                cur = self.load();
                continue;
            }
            // AcqRel: Release publishes the run's work to whoever loads the
            // new word (see `load`); Acquire orders our effects after the
            // transitions we replace.
            match self
                .word
                .compare_exchange(cur.0, next.0, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    // Invariant #2: the token is cancelled after the new
                    // phase is published, with no lock held (the lock rule),
                    // whenever the new phase says so: by the cell that
                    // cancels, and as help by every later transition of the
                    // run (its canceller may still be in its window, and a
                    // completion wakes waiters that must see it cancelled).
                    // A clone under the lock: `C` set means the slot holds
                    // this run's token (invariant #1).
                    let token = if cur.has_context() && table::reads(next.phase()).context_cancelled
                    {
                        slot.as_ref().and_then(|s| s.token_of(cur.run()))
                    } else {
                        None
                    };
                    drop(slot);
                    // The event comes between the swap and the cancel (both
                    // outside the lock): a subscriber sees the new phase
                    // with the token not yet cancelled, the window of S2
                    // that `tests/tracing.rs` shows is real.
                    #[cfg(feature = "tracing")]
                    tracing::trace!(
                        target: "runcycle",
                        instance = ?core::ptr::from_ref(self),
                        kind = ?self.kind,
                        event = ?event,
                        from = ?cur.phase(),
                        to = ?next.phase(),
                        run = next.run(),
                        "transition"
                    );
                    if let Some(token) = token {
                        token.cancel();
                    }
                    if cell.resolves_done && cur.has_waiters() {
                        // Invariant #4: somebody announced a wait on this run.
                        self.signal.notify(usize::MAX);
                    }
                    return Applied { prev: cur, cell };
                }
                Err(actual) => cur = Word(actual),
            }
        }
    }

    /// The current run's context token, created on first use (invariant #3).
    pub(crate) fn context(&self) -> CancellationToken {
        // Invariant #6: a caller who saw the parent cancelled gets a
        // cancelled context.
        if self.parent_cancel_pending() {
            self.transition(Event::ParentCancel);
        }
        let (token, cancelled) = self.context_slot();
        if cancelled {
            // Invariant #2: the phase says cancelled; the thread that made
            // the transition may not have cancelled the token yet, so help
            // (a no-op if it has). Outside the lock: cancelling runs wakers.
            token.cancel();
        }
        token
    }

    /// The current run's token, created if needed under the slot lock, and
    /// whether the phase the call saw says the context is cancelled.
    fn context_slot(&self) -> (CancellationToken, bool) {
        let mut slot = self.slot.lock();
        let mut cur = self.load();
        loop {
            if slot.run != cur.run() || slot.token.is_none() {
                // Either no token yet, or the slot holds an earlier run's
                // (cancelled, or about to be by the thread that ended that
                // run and holds a clone, invariant #2) or an unpublished token of
                // an earlier attempt: this run needs its own. A root token,
                // not a child of the parent: only the instance's own
                // transitions cancel it, so its cancellation is always in
                // step with the state word (invariant #2), including when the
                // cause is the parent (invariant #6).
                slot.run = cur.run();
                slot.token = Some(CancellationToken::new());
            }
            let Some(token) = slot.token.clone() else {
                unreachable!("runcycle: the slot was just filled")
            };
            let cancelled = table::reads(cur.phase()).context_cancelled;
            if cur.has_context() {
                return (token, cancelled);
            }
            // AcqRel: publishes the token to the transitions that must cancel
            // it (they see `C` and take the lock, invariant #1).
            match self.word.compare_exchange(
                cur.0,
                cur.with_context().0,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return (token, cancelled),
                Err(actual) => cur = Word(actual),
            }
        }
    }

    /// Whether run `run` has ended (or the instance closed before it began).
    pub(crate) fn run_ended(&self, run: u64) -> bool {
        self.load().run_ended(run)
    }

    /// A listener that is notified when run `run` ends, or `None` if it has
    /// already ended: registers the listener, then announces the wait by
    /// setting `W` unless the run has ended meanwhile (invariant #4).
    pub(crate) fn listen_for(&self, run: u64) -> Option<event_listener::EventListener> {
        let listener = self.signal.listen();
        // AcqRel: Release orders our registration before the swap that ends
        // the run (it reads `W` with Acquire, then notifies); Acquire makes
        // the end of the run, if it came first, visible like `load` does.
        // Setting `W` on a word whose run has ended is harmless: `W` is not
        // read again before the next run begins without it.
        let prev = Word(self.word.fetch_or(WAITERS, Ordering::AcqRel));
        if prev.run_ended(run) {
            None
        } else {
            Some(listener)
        }
    }

    /// Polls the parent watch; applies `ParentCancel` once the parent is
    /// cancelled.
    fn poll_watch(&self, waker: &Waker) {
        let mut watch = self.watch.lock();
        let ready = match watch.as_mut() {
            Some(future) => future
                .as_mut()
                .poll(&mut Context::from_waker(waker))
                .is_ready(),
            None => false,
        };
        let finished = if ready { watch.take() } else { None };
        drop(watch);
        // Dropped outside the lock: dropping it takes the parent's locks.
        drop(finished);
        if ready {
            self.transition(Event::ParentCancel);
        }
    }
}

/// Wakes when the parent token is cancelled and applies `ParentCancel`
/// synchronously, on the thread that cancelled the parent: parent
/// cancellation is observed eagerly (spec/README.md, "Parent cancellation").
struct ParentWatch(Arc<Inner>);

impl ParentWatch {
    /// What a wake-up does: applies `ParentCancel` if the parent is
    /// cancelled, else registers the watch again.
    fn fire(self: StdArc<Self>) {
        let cancelled = self
            .0
            .parent
            .as_ref()
            .is_some_and(CancellationToken::is_cancelled);
        if cancelled {
            self.0.transition(Event::ParentCancel);
        } else {
            // A wake-up that was not a cancellation: register again.
            let inner = Arc::clone(&self.0);
            inner.poll_watch(&Waker::from(self));
        }
    }
}

// `wake_by_ref` keeps its default (a clone, then `wake`): tokio's `Notify`
// wakes by value.
impl std::task::Wake for ParentWatch {
    fn wake(self: StdArc<Self>) {
        propagate(self);
    }
}

// Not `const { .. }`: loom's `thread_local!` has no const form.
#[allow(clippy::missing_const_for_thread_local)]
mod propagation_list {
    use super::{ParentWatch, RefCell, StdArc};

    crate::sync::thread_local! {
    /// The work list of the parent cancellation this thread is propagating
    /// (invariant #7): `Some` while a watch fires on this thread; a watch
    /// woken meanwhile (by the token its instance's transition cancels) is
    /// pushed here instead of firing inside that transition.
    pub(super) static PROPAGATION: RefCell<Option<Vec<StdArc<ParentWatch>>>> = RefCell::new(None);
    }
}
use propagation_list::PROPAGATION;

/// Fires `watch`, and every watch its firing wakes, one after the other on
/// this thread's stack (invariant #7): a chain of N nested instances takes N
/// iterations of one loop, not N nested frames. The outermost call returns
/// only when the list is empty, so the thread that cancelled the root token
/// still sees every descendant closed when its `cancel()` returns.
fn propagate(watch: StdArc<ParentWatch>) {
    let nested = PROPAGATION.try_with(|list| match list.borrow_mut().as_mut() {
        Some(pending) => {
            pending.push(StdArc::clone(&watch));
            true
        }
        None => false,
    });
    let Ok(nested) = nested else {
        // This thread's thread-locals are being destroyed (an instance
        // dropped by another thread-local's destructor): no work list, so
        // the watch fires in place, one frame per level as without the list.
        watch.fire();
        return;
    };
    if nested {
        return;
    }
    PROPAGATION.with(|list| *list.borrow_mut() = Some(Vec::new()));
    // Ends the propagation even if a firing panics (a tracing subscriber, or
    // an engine bug): the watches still pending then fire from the guard, so
    // no descendant is left open.
    let _end = EndPropagation;
    let mut next = Some(watch);
    while let Some(watch) = next {
        watch.fire();
        next = PROPAGATION.with(|list| list.borrow_mut().as_mut().and_then(Vec::pop));
    }
}

/// Clears this thread's work list when the outermost [`propagate`] returns
/// or unwinds; on unwind, fires what was still pending.
struct EndPropagation;

impl Drop for EndPropagation {
    fn drop(&mut self) {
        let pending = PROPAGATION.with(|list| list.borrow_mut().take());
        for watch in pending.into_iter().flatten() {
            propagate(watch);
        }
    }
}

/// A counted handle to an instance: what [`One`](crate::One) and
/// [`Many`](crate::Many) wrap. Dropping the last handle closes the instance.
pub(crate) struct Handle {
    inner: Arc<Inner>,
}

impl Handle {
    pub(crate) fn new(kind: Kind, parent: Option<&CancellationToken>) -> Handle {
        let handle = Handle::unwatched(kind, parent);
        handle.watch_parent();
        handle
    }

    /// A new instance with `parent` that does not yet react to the parent's
    /// cancellation: [`Handle::watch_parent`] arms the watch, and only
    /// [`Handle::start_unwatched`] skips the check of invariant #6. `G` uses the gap to start its run first, so that a task
    /// given an already cancelled parent still runs (with a cancelled
    /// context) instead of being refused.
    pub(crate) fn unwatched(kind: Kind, parent: Option<&CancellationToken>) -> Handle {
        let inner = Arc::new(Inner {
            word: AtomicU64::new(INITIAL),
            kind,
            signal: Signal::new(),
            slot: Mutex::new(Slot {
                run: 0,
                token: None,
            }),
            parent: parent.cloned(),
            watch: Mutex::new(parent.map(|p| Box::pin(p.clone().cancelled_owned()))),
            handles: AtomicUsize::new(1),
        });
        Handle { inner }
    }

    /// Arms the parent watch: from now on the parent's cancellation applies
    /// `ParentCancel`; if the parent is already cancelled, it is applied now.
    pub(crate) fn watch_parent(&self) {
        if self.inner.parent.is_some() {
            let waker = Waker::from(StdArc::new(ParentWatch(Arc::clone(&self.inner))));
            self.inner.poll_watch(&waker);
        }
    }

    #[inline]
    pub(crate) fn state(&self) -> State {
        self.inner.load().state()
    }

    pub(crate) fn start(&self) -> Result<Guard, Error> {
        let applied = self.inner.apply(Event::Start);
        applied.result()?;
        Ok(Guard::new(Arc::clone(&self.inner)))
    }

    /// `start` without the parent check of invariant #6, for an instance
    /// made by [`Handle::unwatched`] whose watch is not armed yet.
    #[cfg(feature = "tokio")]
    pub(crate) fn start_unwatched(&self) -> Result<Guard, Error> {
        let applied = self.inner.transition(Event::Start);
        applied.result()?;
        Ok(Guard::new(Arc::clone(&self.inner)))
    }

    pub(crate) fn context(&self) -> CancellationToken {
        self.inner.context()
    }

    pub(crate) fn done(&self) -> Wait {
        let cur = self.inner.load();
        if table::reads(cur.phase()).done_resolved {
            Wait::ready()
        } else {
            Wait::pending(Arc::clone(&self.inner), cur.run())
        }
    }

    /// The wait handle a stop or close returns: pending on the run that was
    /// current if the cell waits, else already resolved.
    fn wait_for(&self, applied: &Applied) -> Wait {
        if applied.cell.waits {
            Wait::pending(Arc::clone(&self.inner), applied.prev.run())
        } else {
            Wait::ready()
        }
    }

    pub(crate) fn stop(&self) -> Result<(State, Wait), Error> {
        let applied = self.inner.apply(Event::Stop);
        applied.result()?;
        Ok((applied.prev_state(), self.wait_for(&applied)))
    }

    pub(crate) fn halt(&self) -> Result<State, Error> {
        let applied = self.inner.apply(Event::Stop);
        applied.result().map(|()| applied.prev_state())
    }

    pub(crate) fn close(&self) -> (State, Wait) {
        let applied = self.inner.apply(Event::Close);
        (applied.prev_state(), self.wait_for(&applied))
    }

    pub(crate) fn cancel(&self) -> State {
        self.inner.apply(Event::Close).prev_state()
    }

    /// Formats the instance for `Debug` impls: the decoded word, no lock.
    pub(crate) fn fmt_debug(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cur = self.inner.load();
        f.debug_struct(name)
            .field("state", &table::reads(cur.phase()).state)
            .field("phase", &cur.phase())
            .field("run", &cur.run())
            .finish_non_exhaustive()
    }
}

impl Clone for Handle {
    fn clone(&self) -> Self {
        // Relaxed, as in `Arc::clone`: a new handle can only be made from an
        // existing one, which keeps the count above zero.
        self.inner.handles.fetch_add(1, Ordering::Relaxed);
        Handle {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // AcqRel, as in `Arc::drop`: the last dropper sees every other
        // handle's operations before it closes the instance.
        if self.inner.handles.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        // The last handle: nobody can start a run any more, so close
        // (spec/README.md, "Dropping the last handle"), then break the
        // waker cycle (invariant #5).
        self.inner.apply(Event::Close);
        let watch = self.inner.watch.lock().take();
        drop(watch);
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

    /// An instance whose word says `phase` in run `run`: the only way to
    /// reach the last run numbers in a test.
    fn at_run(kind: Kind, phase: Phase, run: u64) -> Handle {
        let handle = Handle::unwatched(kind, None);
        handle
            .inner
            .word
            .store((run << RUN_SHIFT) | phase_code(phase), Ordering::Relaxed);
        handle
    }

    #[test]
    fn runs_up_to_the_last_number_start_end_and_resolve_their_waits() {
        let many = at_run(Kind::Many, Phase::Stopped, MAX_RUN - 1);
        let before = Wait::pending(Arc::clone(&many.inner), MAX_RUN - 1);
        assert!(before.is_done());
        let guard = many.start().expect("run 2^58 - 1 starts");
        assert_eq!(many.inner.load().run(), MAX_RUN);
        let done = many.done();
        assert!(!done.is_done() && before.is_done());
        let ctx = guard.context();
        drop(guard);
        assert!(done.is_done() && ctx.is_cancelled());
        assert_eq!(many.state(), State::Stopped);
    }

    #[test]
    fn a_start_past_the_last_run_number_panics_and_changes_nothing() {
        let many = at_run(Kind::Many, Phase::Stopped, MAX_RUN);
        let done = many.done();
        let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| many.start()))
            .expect_err("the run number must not wrap");
        let message = panic.downcast_ref::<String>().expect("a formatted message");
        assert!(
            message.contains("at most 288230376151711743 runs") && message.contains("new `Many`"),
            "{message}"
        );
        assert_eq!(many.state(), State::Stopped);
        assert_eq!(many.inner.load().run(), MAX_RUN);
        assert!(done.is_done(), "the last run's wait stays resolved");
        assert!(many.close().1.is_done());
        assert_eq!(many.state(), State::Closed);
    }

    /// The engine cancels a run's token whenever a call leaves the run in a
    /// phase whose reads say "context cancelled" (invariant #2), not by the
    /// table's `cancels context` column; this checks the two agree: a cell
    /// cancels exactly when it moves the run from a live-context phase into
    /// a cancelled-context phase.
    #[test]
    fn the_cancel_column_is_the_reads_tables_edge() {
        for kind in [Kind::One, Kind::Many] {
            for phase in Phase::ALL {
                for event in [
                    Event::Start,
                    Event::Complete,
                    Event::Stop,
                    Event::Close,
                    Event::ParentCancel,
                ] {
                    let Some(cell) = table::cell(kind, phase, event) else {
                        continue;
                    };
                    let edge = !cell.new_run
                        && !table::reads(phase).context_cancelled
                        && table::reads(cell.next).context_cancelled;
                    assert_eq!(cell.cancels_context, edge, "{kind:?} {phase:?} {event:?}");
                }
            }
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
    }
}
