//! The engine shared by [`One`](crate::One) and [`Many`](crate::Many): the
//! shared [`Inner`] of an instance and the transitions on its state word.
//!
//! Every state change goes through [`Inner::apply`], which looks the event
//! up in the transition table ([`table`]) and installs the result with one
//! compare-and-swap on the state word ([`Word`], laid out in
//! [`word`](super::word)). There is no per-type code path: the only
//! difference between One and Many is the [`Kind`] used to index the table.
//!
//! The layers above: [`watch`](super::watch) turns the parent token's
//! cancellation into `ParentCancel` events; [`handle`](super::handle) turns
//! transitions into what the public calls return ([`Guard`](crate::Guard),
//! [`Wait`](crate::Wait), [`Transition`](crate::Transition), errors). The
//! engine imports neither.
//!
//! Invariants are labelled E1 to E10 (the table's are T1 to T5, in
//! [`table`]); comments cite them as "invariant E4".
//!//!
//! # Invariants
//!
//! - **E1.** While `C` is set, the slot holds the token of the word's run, and every
//!   change of the word's phase other than a `Start` that begins a new run
//!   is made with the slot locked. (A new run clears `C`; the slot then
//!   holds the previous run's token, already cancelled. Waiters set `W`
//!   without the lock, invariant E4; that changes no phase.)
//! - **E2.** State first, token second (spec/README.md, section 8, S1 to S4): a
//!   cell that cancels the context publishes its phase with the
//!   compare-and-swap (under the slot lock if `C` is set, invariant E1,
//!   taking a clone of the token), releases the lock, and only then
//!   cancels the token, before it notifies waiters and returns. So a token
//!   is never cancelled ahead of the word (S1); the window between the swap
//!   and the cancel is the only disagreement (S2); `context()` seeing a
//!   phase that says cancelled cancels the token it returns itself (S3),
//!   and so does every other call answered from such a phase of the same
//!   run, no-op or not (the help, S4): none returns while its run's token
//!   could still read live.
//! - **E3.** While `C` is clear nobody holds a token of the current run; `context()`
//!   creates one under the slot lock, cancels it if the phase says so, and
//!   publishes it by setting `C` with a compare-and-swap, retrying if the
//!   word changed in between.
//! - **E4.** Waiters are notified after the compare-and-swap that resolves `done`
//!   (invariant T3), and only if the word it replaced had `W` set. A
//!   waiter first registers its listener, then sets `W` with one
//!   `fetch_or`, which also re-reads the word: if the run had ended it does
//!   not wait ([`Inner::listen_for`]). Both are read-modify-writes of the
//!   one atomic word, so its modification order decides: either the
//!   resolving swap comes first and the waiter's `fetch_or` sees the run
//!   ended, or the swap replaces a word with `W` set and notifies, after the
//!   registration (which happens before the `fetch_or` it reads). No
//!   wake-up is lost. `W` is cleared only by the next run's `Start`; set on
//!   an ended run it is never read, since a run ends once (table invariant
//!   #3) and a later waiter of that run sees the end first.
//! - **E5.** The waker watching the parent token owns an `Arc<Inner>`; the cycle
//!   through `watch` is broken when the last handle is dropped (or when the
//!   parent is cancelled, which consumes the waker).
//! - **E6.** Parent cancellation reaches the instance two ways, whichever comes
//!   first: the watch's waker, once armed (invariant E11), which
//!   tokio-util runs inside the `cancel()` call that cancelled the parent,
//!   just after it marked the token tree cancelled; and every call (`start`, completion, `stop`, `close`), which
//!   first checks `parent.is_cancelled()` and applies `ParentCancel` itself.
//!   `context()` makes the same check. So a call made after the parent's
//!   cancellation (in happens-before order, e.g. after observing
//!   `parent.is_cancelled()`) always sees it applied. Run contexts are
//!   root tokens cancelled only by the instance's transitions (invariant
//!   #2), so they never run ahead of the state word. Only the
//!   lock-free reads (`state()`, `done()`'s first check) can lag the parent
//!   by tokio-util's mark-then-notify window, for a thread that learned of
//!   the cancellation from the parent token itself (spec/README.md, 7).
//!
//! - **E7.** Propagation is a loop, not a recursion: a parent watch that wakes on
//!   a thread already firing a watch is pushed on that thread's work list
//!   ([`propagate`]) and fired by the outermost firing after the current
//!   one returns. A chain of N nested instances uses N iterations and a
//!   constant stack; the outermost firing (inside the root's `cancel()`)
//!   returns only when the list is empty, so eagerness (#6) is kept.
//! - **E8.** The run number never wraps: a `Start` that would begin run 2^57
//!   ([`MAX_RUN`] + 1) panics before its compare-and-swap, changing
//!   nothing (spec/README.md, section 14). Run numbers only grow, which
//!   [`Word::run_ended`] relies on.
//! - **E9.** The closed wait (`Many::closed`, spec/README.md, section 15)
//!   waits on its own event, `closed`, notified by every transition into
//!   `Closed` (from `Created`, `Closing` or `Stopped`; `Closed` is terminal,
//!   so each instance enters it once) if the event has a listener. A
//!   waiter registers its listener first, then re-reads the word with a
//!   read-modify-write (`fetch_or` of no bits, [`Inner::listen_closed`]),
//!   not a load: the entry into `Closed` is the compare-and-swap of
//!   [`Inner::transition`], also a read-modify-write of the word, so the
//!   word's modification order puts one before the other. If the
//!   compare-and-swap comes first, the waiter's `fetch_or` reads `Closed`
//!   and does not wait. If the `fetch_or` comes first, the
//!   compare-and-swap (`Acquire`) reads a value in its release sequence
//!   (every write of the word is a read-modify-write), so the registration
//!   happens before the closer looks for listeners, and it notifies. No
//!   wake-up is lost, without a fence: a waiter with a plain load and a
//!   closer that checks the listener list are the store-buffering pattern
//!   (each may read the other's location stale), which
//!   `loom-tests/plants/closed-load.patch` plants and `loom_many` catches.
//!   Cost: a transition that does not enter `Closed` (every `start`,
//!   `stop`, and completion into `Stopped`) pays one comparison of the
//!   cell's next phase here (and one in [`Word::after`], for the code that
//!   remembers a close before any start); the entry into `Closed` pays one
//!   `Acquire` load of the event's list pointer (null, and no allocation,
//!   if nobody ever waited for the close), and the list lock only if
//!   somebody did. The instance grows by one pointer (the event).
//! - **E10.** The single-waiter slot ([`waiter`](super::waiter)): the first
//!   wait for a run's end that has to block claims the slot (one
//!   compare-and-swap of its `owned` flag, `Acquire`, pairing with the
//!   `Release` store of the previous owner's release) and registers there
//!   instead of in `signal`'s list: no allocation and no list lock. Any
//!   other wait meanwhile (the slot owned) uses the list, invariant E4, so
//!   any number of waiters all wake; the closed wait (invariant E9) always
//!   uses its own list. The owner stores its waker or thread under the
//!   slot's mutex, then announces with the `fetch_or` of invariant E4
//!   ([`Inner::wait_in_slot`]); the completer, after the swap that
//!   resolves `done` from a word with `W` set, takes the waiter under the
//!   mutex and wakes it after releasing the lock, then notifies the list
//!   if it has listeners ([`Inner::wake_waiters`]). No wake-up is lost, by
//!   E4's argument with the store in place of the listener: the `fetch_or`
//!   (`AcqRel`) and the swap (`AcqRel`) are read-modify-writes of the one
//!   word; if the swap comes first, the `fetch_or` sees the run ended and
//!   the wait does not park; if the `fetch_or` comes first, the swap reads
//!   `W` in its release sequence, so the store (before the `fetch_or`)
//!   happens before the completer's lock, which then finds the waiter (or
//!   a later one of the same owner). A re-poll with another waker
//!   replaces the stored one under the mutex, then re-checks the word with
//!   a load ([`Inner::repoll_slot`]): a completer that took the old waker
//!   did so after its swap and before our lock, so our load sees the run
//!   ended; a completer that locks after us takes the new waker. The list
//!   is notified only if `total_listeners` (under the list's lock) counts
//!   one: a listener registered before its `fetch_or` is seen by the same
//!   release-sequence argument, and a single waiter never makes
//!   event-listener allocate its list (`notify` would). The owner releases
//!   the slot when it resolves or is dropped: it takes its waiter out (so
//!   a dropped future's waker is not kept alive), then clears `owned`. A
//!   stale waiter (a released owner's, taken late by a completer, or a
//!   waker replaced after the completer took it) costs one spurious
//!   wake-up: a woken wait re-checks the word and waits again, and a
//!   blocking wait parks in a loop (`park` may return spuriously anyway).
//!   Costs: a single waiter pays the claim, two uncontended lock round
//!   trips of the slot (store and release) and the `fetch_or`; the
//!   completer one lock round trip, the wake, and `total_listeners` (an
//!   `Acquire` load, plus the list's lock if the list was ever allocated).
//!   The plants `slot-announce-first`, `slot-repoll-no-recheck` and
//!   `slot-not-woken` (`loom-tests/plants/`) break it; `loom_waits::slot_*`
//!   catch them.
//! - **E11.** The parent watch is armed lazily (spec/README.md, "Watched from
//!   the first read"): the word's `U` bit is set from construction, for an
//!   instance with a parent, until the first read arms the watch
//!   ([`watch::arm`](super::watch::arm), then [`Inner::poll_watch`]) or the
//!   last handle turns it off. Every lock-free read of the word that can
//!   observe the parent (`state()`, `done()`, `closed()`, `Debug`) and
//!   `context()` test the bit first (`state()` in the word it loads).
//!   Arming makes the parent's cancellation future under the watch lock
//!   and polls it: tokio-util's
//!   future checks `is_cancelled` (under the token's lock) before it
//!   registers the waker, and `cancel()` marks the tree under that lock
//!   before it wakes waiters, so either the poll sees the cancellation and
//!   `ParentCancel` is applied before the flag is cleared, or the waker is
//!   registered before the mark and is woken by that `cancel()` (step 1 of
//!   spec section 7). The bit is cleared (`fetch_and`, `AcqRel`) after
//!   that, and read with the word's `Acquire` load: a reader that sees it
//!   clear sees the watch registered or the transition made. A reader that sees it set, after
//!   its poll under the lock (which arms the watch, or finds it armed or
//!   finished by another reader still on its way to clearing the flag),
//!   checks the parent itself as the calls do (invariant E6) before it
//!   reads: another reader's arming may have found the cancellation and
//!   not applied it yet. (`loom_many::first_read_parent_cancel` and
//!   `first_reads_after_parent_cancel` found that window in a first
//!   version without the check.)
//!
//! # Locks and deadlock freedom
//!
//! The engine has three locks, `slot`, `watch` and the single-waiter
//! slot's (invariant E10), never held together, and one rule
//! (spec/README.md, section 13): **no user or foreign code runs while a
//! crate lock is held.** Under `slot` the engine only reads or
//! replaces a token (dropping the replaced reference is tokio-util's
//! reference counting, which wakes nobody) and makes its compare-and-swap;
//! under `watch` it only polls or takes the parent's future (which
//! registers our own waker); under the waiter slot's lock only a waiter is
//! moved in or out and two wakers compared (`Waker::will_wake`, a pointer
//! comparison): waking, cloning and dropping them run after it. Token
//! cancellation (foreign wakers, the watches of nested instances), `tracing`
//! events and waiter notification all run after the lock is released; the
//! watch's future is dropped outside its lock. So a waker that calls back
//! into the instance cannot deadlock, and no lock is ever taken while
//! another crate lock is held: there is no lock order to violate.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Waker};

use event_listener::Event as Signal;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use crate::lifecycle::state::State;
use crate::lifecycle::table::{self, Cell, Event, Kind, Phase};
use crate::lifecycle::waiter::{Waiter, WaiterSlot};
use crate::lifecycle::word::{Word, INITIAL, UNWATCHED, WAITERS};
use crate::sync::{AtomicU64, AtomicUsize, Mutex, Ordering, StdArc};

/// A run's context token, shared by the slot, the run's contexts and the
/// transitions that cancel it: behind a `std` `Arc`, so each of those
/// handles is one reference count, where a `CancellationToken` clone takes
/// the token's lock in tokio-util twice (clone and drop). The `Arc` is
/// `std`'s under loom too, as the group's shared token is: a reference
/// count that orders nothing the models check. (Loom does not see inside
/// the token either: tokio-util uses loom's types only in its own tests,
/// so its locks are `std`'s under our `--cfg loom`.)
pub(crate) type RunToken = StdArc<CancellationToken>;

/// The slot that holds the current run's context token, once created.
struct Slot {
    /// The run the token belongs to (0: none yet).
    run: u64,
    token: Option<RunToken>,
}

impl Slot {
    /// A clone of run `run`'s token, if the slot holds it. The run check
    /// matters where the word was loaded before the lock was taken: the
    /// word may have moved to a new run since, and the slot to its token.
    fn token_of(&self, run: u64) -> Option<RunToken> {
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
}

/// The shared part of an instance.
pub(crate) struct Inner {
    /// The state word (see the module doc).
    word: AtomicU64,
    kind: Kind,
    /// Notified when a run ends or a never-run instance closes (invariant E4).
    signal: Signal,
    /// The first run wait's waker or thread, woken with `signal`'s
    /// listeners (invariant E10).
    waiter: WaiterSlot,
    /// Notified when the instance enters `Closed` (invariant E9).
    closed: Signal,
    slot: Mutex<Slot>,
    parent: Option<CancellationToken>,
    /// Watches the parent token (invariants E5, E11); whether it is armed
    /// yet is the word's `U` bit.
    watch: Mutex<Watch>,
    /// Number of live `One`/`Many` handles (not guards or waits).
    handles: AtomicUsize,
}

impl Inner {
    /// A new instance of `kind`, `Created`, with one handle. With a
    /// `parent`, the parent's future is stored for the watch
    /// ([`watch`](super::watch)), which is not armed yet.
    pub(crate) fn new(kind: Kind, parent: Option<&CancellationToken>) -> Inner {
        Inner {
            word: AtomicU64::new(if parent.is_some() {
                INITIAL | UNWATCHED
            } else {
                INITIAL
            }),
            kind,
            signal: Signal::new(),
            waiter: WaiterSlot::new(),
            closed: Signal::new(),
            slot: Mutex::new(Slot {
                run: 0,
                token: None,
            }),
            parent: parent.cloned(),
            watch: Mutex::new(if parent.is_some() {
                Watch::Unarmed
            } else {
                Watch::Off
            }),
            handles: AtomicUsize::new(1),
        }
    }

    /// Whether the parent token is cancelled (false without a parent).
    pub(crate) fn parent_is_cancelled(&self) -> bool {
        self.parent
            .as_ref()
            .is_some_and(CancellationToken::is_cancelled)
    }

    /// Counts one more `One`/`Many` handle.
    pub(crate) fn add_handle(&self) {
        // Relaxed, as in `Arc::clone`: a new handle can only be made from an
        // existing one, which keeps the count above zero.
        self.handles.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one handle less; the last one closes the instance
    /// (spec/README.md, "Dropping the last handle") and breaks the waker
    /// cycle (invariant E5).
    pub(crate) fn drop_handle(&self) {
        // AcqRel, as in `Arc::drop`: the last dropper sees every other
        // handle's operations before it closes the instance.
        if self.handles.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        self.apply(Event::Close);
        let watch = core::mem::replace(&mut *self.watch.lock(), Watch::Off);
        // Closed now: a watch has nothing left to do.
        self.clear_unwatched();
        // Dropped outside the lock: dropping it takes the parent's locks.
        drop(watch);
    }

    /// Clears the word's `U` bit (invariant E11), after the arming's
    /// registration or transition.
    fn clear_unwatched(&self) {
        // AcqRel: Release, after the registration or the transition, pairs
        // with the Acquire of `load`: a reader that sees `U` clear sees the
        // watch registered or the transition made. (A read-modify-write, so
        // it cannot undo a concurrent transition; transitions keep `U`.)
        self.word.fetch_and(!UNWATCHED, Ordering::AcqRel);
    }

    /// Sets the state word: only for tests that need the last run numbers.
    #[cfg(all(test, not(loom)))]
    pub(crate) fn set_word(&self, word: Word) {
        self.word.store(word.0, Ordering::Relaxed);
    }

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
            // invariant T1: the handles never issue such an event.
            None => unreachable!(
                "runcycle: event {event:?} in phase {phase:?} for {:?}",
                self.kind
            ),
        }
    }

    /// Applies a call's `event`, after applying the parent's cancellation if
    /// the parent is cancelled but the watch has not run yet (invariant E6).
    #[track_caller]
    pub(crate) fn apply(&self, event: Event) -> Applied {
        self.catch_up_with_parent();
        self.transition(event)
    }

    /// Applies the parent's cancellation if the parent is cancelled but the
    /// instance has not applied it yet (invariants E6, E11).
    pub(crate) fn catch_up_with_parent(&self) {
        if self.parent_cancel_pending() {
            self.transition(Event::ParentCancel);
        }
    }

    /// Whether the parent is cancelled and the instance has not applied it
    /// yet: the window between tokio-util marking the token tree cancelled
    /// and it waking the parent's waiters (invariant E6). Costs nothing
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
    #[track_caller]
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
                    // this run's token (invariant E1).
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
                        // Invariants E4, E10: somebody announced a wait on
                        // this run.
                        self.wake_waiters();
                    }
                    if cell.next == Phase::Closed {
                        // Invariant E9: this swap entered `Closed` (a
                        // no-op on `Closed` returned above).
                        self.notify_closed();
                    }
                    return Applied { prev: cur, cell };
                }
                Err(actual) => cur = Word(actual),
            }
        }
    }

    /// The current run's context token, created on first use (invariant E3).
    pub(crate) fn context(&self) -> RunToken {
        // Invariant #6: a caller who saw the parent cancelled gets a
        // cancelled context.
        self.catch_up_with_parent();
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
    fn context_slot(&self) -> (RunToken, bool) {
        let mut slot = self.slot.lock();
        let mut cur = self.load();
        loop {
            if slot.run != cur.run() || slot.token.is_none() {
                // Either no token yet, or the slot holds an earlier run's
                // (cancelled, or about to be by the thread that ended that
                // run and holds a clone, invariant E2) or an unpublished token of
                // an earlier attempt: this run needs its own. A root token,
                // not a child of the parent: only the instance's own
                // transitions cancel it, so its cancellation is always in
                // step with the state word (invariant E2), including when the
                // cause is the parent (invariant E6).
                slot.run = cur.run();
                let token = CancellationToken::new();
                match slot.token.as_mut().and_then(StdArc::get_mut) {
                    // Nobody holds the old token any more (no context of
                    // that run is alive): its allocation is reused.
                    Some(old) => *old = token,
                    None => slot.token = Some(StdArc::new(token)),
                }
            }
            let Some(token) = slot.token.clone() else {
                unreachable!("runcycle: the slot was just filled")
            };
            let cancelled = table::reads(cur.phase()).context_cancelled;
            if cur.has_context() {
                return (token, cancelled);
            }
            // AcqRel: publishes the token to the transitions that must cancel
            // it (they see `C` and take the lock, invariant E1).
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
    /// setting `W` unless the run has ended meanwhile (invariant E4).
    pub(crate) fn listen_for(&self, run: u64) -> Option<event_listener::EventListener> {
        let listener = self.signal.listen();
        if self.announce(run) {
            Some(listener)
        } else {
            None
        }
    }

    /// Announces a registered wait for `run` (invariants E4, E10): sets `W`
    /// and re-reads the word with one `fetch_or`. `true` if the run is still
    /// going (the waiter must wait: the completer will wake it), `false` if
    /// it has ended.
    #[inline]
    fn announce(&self, run: u64) -> bool {
        // AcqRel: Release orders our registration (the listener, or the
        // waiter in the slot) before the swap that ends the run (it reads
        // `W` with Acquire, then wakes); Acquire makes the end of the run,
        // if it came first, visible like `load` does. Setting `W` on a word
        // whose run has ended is harmless: `W` is not read again before the
        // next run begins without it.
        let prev = Word(self.word.fetch_or(WAITERS, Ordering::AcqRel));
        !prev.run_ended(run)
    }

    /// Claims the single-waiter slot (invariant E10): `true` if the caller
    /// now owns it and must [`release_slot`](Self::release_slot) it.
    #[inline]
    pub(crate) fn claim_slot(&self) -> bool {
        self.waiter.claim()
    }

    /// The slot owner's registration for `run` (invariant E10): stores
    /// `waiter`, then announces. `true` if the run is still going (wait, the
    /// completer will wake `waiter`), `false` if it has ended.
    #[inline]
    pub(crate) fn wait_in_slot(&self, run: u64, waiter: Waiter) -> bool {
        self.waiter.store(waiter);
        self.announce(run)
    }

    /// The slot owner's re-poll with `waker` (invariant E10): stores it if
    /// it differs from the stored one, then re-checks. `true` if run `run`
    /// is still going.
    #[inline]
    pub(crate) fn repoll_slot(&self, run: u64, waker: &Waker) -> bool {
        self.waiter.update_waker(waker);
        // A load suffices here (no `W` to set, it is set): a completer that
        // took the old waker did so under the slot lock after its swap, so
        // our lock after its unlock makes the swap visible to this load.
        !self.run_ended(run)
    }

    /// Releases the slot owner's claim (invariant E10).
    #[inline]
    pub(crate) fn release_slot(&self) {
        self.waiter.release();
    }

    /// Wakes the run's waiters, after the swap that resolved `done` from a
    /// word with `W` set (invariants E4, E10): the slot's waiter, then the
    /// listener list. The list is notified only if it has listeners, so a
    /// single waiter (in the slot) never makes event-listener allocate its
    /// list (`notify` allocates it on first use; `total_listeners` does
    /// not).
    #[inline]
    fn wake_waiters(&self) {
        self.waiter.wake();
        if self.signal.total_listeners() != 0 {
            self.signal.notify(usize::MAX);
        }
    }

    /// Wakes the closed waiters after the swap that entered `Closed`
    /// (invariant E9): no allocation and no lock if nobody ever listened.
    /// Out of line and cold: once per instance, kept out of the code of
    /// the transitions that start and end runs.
    #[cold]
    #[inline(never)]
    fn notify_closed(&self) {
        if self.closed.total_listeners() != 0 {
            self.closed.notify(usize::MAX);
        }
    }

    /// Whether the instance is `Closed` (closed for good, no run in
    /// progress): what the closed wait waits for (invariant E9).
    #[inline]
    pub(crate) fn is_closed(&self) -> bool {
        self.load().phase() == Phase::Closed
    }

    /// A listener that is notified when the instance enters `Closed`, or
    /// `None` if it already has: registers the listener, then re-reads the
    /// word with a read-modify-write (invariant E9).
    pub(crate) fn listen_closed(&self) -> Option<event_listener::EventListener> {
        let listener = self.closed.listen();
        // AcqRel, and a read-modify-write rather than a load (invariant
        // E9): Release heads a release sequence that the closing
        // compare-and-swap (Acquire) reads from if it comes later, so our
        // registration happens before its look for listeners; Acquire
        // makes a `Closed` it replaced visible as `load` does. No bits are
        // set: the word is unchanged.
        let prev = Word(self.word.fetch_or(0, Ordering::AcqRel));
        if prev.phase() == Phase::Closed {
            None
        } else {
            Some(listener)
        }
    }

    /// Polls the parent watch, arming it first if it is not (invariant
    /// E11); applies `ParentCancel` once the parent is cancelled.
    pub(crate) fn poll_watch(&self, waker: &Waker) {
        let mut watch = self.watch.lock();
        let arming = matches!(*watch, Watch::Unarmed);
        if arming {
            if let Some(parent) = &self.parent {
                *watch = Watch::Armed(Box::pin(parent.clone().cancelled_owned()));
            }
        }
        let ready = match &mut *watch {
            // tokio-util's future checks `is_cancelled` before it registers
            // the waker, so a cancellation that came before arming is seen
            // here, and one after it wakes the waker.
            Watch::Armed(future) => future
                .as_mut()
                .poll(&mut Context::from_waker(waker))
                .is_ready(),
            Watch::Unarmed | Watch::Off => false,
        };
        let finished = if ready {
            core::mem::replace(&mut *watch, Watch::Off)
        } else {
            Watch::Off
        };
        drop(watch);
        // Dropped outside the lock: dropping it takes the parent's locks.
        drop(finished);
        if ready {
            self.transition(Event::ParentCancel);
        }
        if arming {
            // After the registration or the transition (invariant E11).
            self.clear_unwatched();
        }
    }
}

/// The parent watch of an instance (invariants E5, E11).
enum Watch {
    /// A parent, not watched yet: armed by the first lock-free read.
    Unarmed,
    /// The parent's cancellation future, registered with the watch's waker.
    Armed(Pin<Box<WaitForCancellationFutureOwned>>),
    /// No parent, or nothing left to watch (the parent was cancelled, or the
    /// last handle is gone).
    Off,
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// The engine cancels a run's token whenever a call leaves the run in a
    /// phase whose reads say "context cancelled" (invariant E2), not by the
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
}
