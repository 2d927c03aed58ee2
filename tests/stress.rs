//! Stress test: threads hammering `Many` with every operation, checking the
//! spec's guarantees as they go, then a targeted race between a waiter of a
//! run, the run's completer and a thread restarting the instance; and
//! (feature `tokio`, 30% of the same duration, in parallel) threads racing
//! tasks' ends with `cancel`, `abort`, abort handles and deadline shutdowns
//! (`tasks_never_lose_an_outcome_under_cancel_abort_and_shutdown`).
//!
//! ```sh
//! cargo test --release --test stress                  # the CI version: 10 s, 4 threads
//! cargo test --release --test stress -- --ignored     # the long version: 120 s
//! RUNCYCLE_STRESS_SECS=30 RUNCYCLE_STRESS_THREADS=8 cargo test --release --test stress
//! ```
//!
//! `RUNCYCLE_STRESS_SECS` sets the total duration of a test (the hammer gets 70%
//! of it, the race 30%), `RUNCYCLE_STRESS_THREADS` the hammer's thread count.
//! Under Miri (`.ci/miri`) both parts are cut down to a few hundred
//! operations, and under ThreadSanitizer (`.ci/tsan`) this is the workload.
//!
//! What the hammer checks, on each instance (an instance is sometimes closed
//! and replaced by a fresh one, so closes race with everything too):
//!
//! 1. At most one run at a time: a counter incremented after a successful
//!    `start` and decremented before the guard drops never exceeds 1.
//! 2. While a thread holds a guard: `state()` is `Running`; `start()` is
//!    refused with `Running` (or `Closed` once a close was requested);
//!    `done()` is not done; the instance's `context()` is the run's (if it
//!    reads cancelled, the guard's context then reads cancelled too); a
//!    `stop()` returns a transition from `Running` and leaves the context
//!    cancelled.
//! 3. A run's context is cancelled only for a cause: when a holder sees its
//!    context cancelled, some stop or close call began that had not
//!    returned before the run's `start` was called.
//! 4. When the guard drops, the run's context is cancelled and a `done()`
//!    taken during the run is done, at once.
//! 5. `Closed` (as a state or an error) is seen only once a close was
//!    requested; the states one thread sees follow the diagram (`Created`
//!    only before anything else, nothing after `Closed`).
//! 6. A thread holding no guard that blocks on a stop's wait is woken
//!    (holders end their runs within a few operations): a wait that needs
//!    its whole bound (20 s) counts as a lost wake-up.
//! 7. After every instance is closed, every kept wait resolves (blocking
//!    waits within a generous bound; futures polled while pending have been
//!    woken and are then ready) and every kept context is cancelled.
//!
//! Violations are counted and the first ones recorded; the test fails if
//! there is any. Timing is never asserted: the bounds only turn a hang into
//! a failure.

#![cfg(not(loom))]

use std::env;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use runcycle::{ClosedError, Guard, Many, StartError, State, Transition, Wait};

/// Generous bound that turns a hang into a failure.
const BOUND: Duration = Duration::from_secs(20);
/// At most this many waits, futures and contexts kept per thread and kind
/// (a random one is replaced when full, so memory stays bounded).
const KEEP: usize = 256;
/// Under Miri, operations per hammer thread and race rounds; elsewhere the
/// clock decides.
const MIRI_OPS: u64 = 150;
const MIRI_ROUNDS: u64 = 20;

#[test]
fn stress() {
    run(10);
}

/// The long version, for people: `cargo test --release --test stress --
/// --ignored` (README, "How it is verified", has the figures).
#[test]
#[ignore = "long: 120 s by default; run with -- --ignored"]
fn stress_long() {
    run(120);
}

fn run(default_secs: u64) {
    let secs: f64 = env_or("RUNCYCLE_STRESS_SECS", default_secs as f64);
    let threads: usize = env_or("RUNCYCLE_STRESS_THREADS", 4);
    assert!(threads >= 2, "RUNCYCLE_STRESS_THREADS must be at least 2");
    let total = Duration::from_secs_f64(secs);
    hammer(threads, total.mul_f64(0.7));
    race(total.mul_f64(0.3));
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

// ---------------------------------------------------------------------------
// Shared bookkeeping.

/// Counts violations and keeps the first few messages.
#[derive(Default)]
struct Violations {
    count: AtomicUsize,
    first: Mutex<Vec<String>>,
}

impl Violations {
    fn report(&self, msg: String) {
        self.count.fetch_add(1, SeqCst);
        let mut first = self.first.lock().unwrap();
        if first.len() < 20 {
            first.push(msg);
        }
    }

    fn check(&self, ok: bool, msg: impl FnOnce() -> String) {
        if !ok {
            self.report(msg());
        }
    }

    fn assert_none(&self, what: &str) {
        let n = self.count.load(SeqCst);
        let first = self.first.lock().unwrap();
        assert_eq!(n, 0, "{what}: {n} violations, first: {first:#?}");
    }
}

/// A waker that records that it was woken.
#[derive(Default)]
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, SeqCst);
    }
}

/// Polls `wait` once with a recording waker: `None` if it was ready,
/// otherwise the pending future and its waker's flag.
fn poll_once(mut wait: Wait) -> Option<(Wait, Arc<Flag>)> {
    let flag = Arc::new(Flag::default());
    let waker = Waker::from(Arc::clone(&flag));
    match Pin::new(&mut wait).poll(&mut Context::from_waker(&waker)) {
        Poll::Ready(()) => None,
        Poll::Pending => Some((wait, flag)),
    }
}

/// A pending future must have been woken (by `deadline`) and then be ready.
fn resolves(pending: &mut (Wait, Arc<Flag>), deadline: Instant) -> bool {
    let (wait, flag) = pending;
    while !flag.0.load(SeqCst) {
        if Instant::now() > deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(1));
    }
    let waker = Waker::from(Arc::new(Flag::default()));
    Pin::new(wait)
        .poll(&mut Context::from_waker(&waker))
        .is_ready()
}

/// A blocking wait that must be woken: `wait_timeout` re-checks the run at
/// its deadline, so a lost wake-up on a run that has ended since would still
/// return `Ok`, after the whole bound. A wait that needed its whole bound
/// did not wake: that is the hang the bound turns into a failure.
fn wakes(wait: &Wait) -> bool {
    let t0 = Instant::now();
    wait.wait_timeout(BOUND).is_ok() && t0.elapsed() < BOUND
}

/// xorshift64*: a small, seedable generator (no dependency needed).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) % n
    }
}

/// Keeps at most `KEEP` items, replacing a random one when full.
fn keep<T>(list: &mut Vec<T>, item: T, rng: &mut Rng) {
    if list.len() < KEEP {
        list.push(item);
    } else {
        let i = rng.below(KEEP as u64) as usize;
        list[i] = item;
    }
}

// ---------------------------------------------------------------------------
// The hammer.

/// One instance of the series, with what the checks need to know about it.
struct Instance {
    id: u64,
    many: Many,
    /// Guards alive (invariant 1).
    active: AtomicUsize,
    /// Set before the instance's close is requested (invariant 5).
    closing: AtomicBool,
    /// Stop and close calls begun, and returned (invariant 3).
    requests_begun: AtomicU64,
    requests_done: AtomicU64,
}

impl Instance {
    fn new(id: u64) -> Arc<Instance> {
        Arc::new(Instance {
            id,
            many: Many::new(),
            active: AtomicUsize::new(0),
            closing: AtomicBool::new(false),
            requests_begun: AtomicU64::new(0),
            requests_done: AtomicU64::new(0),
        })
    }

    /// Runs a stop or close call, counting it for invariant 3.
    fn request<T>(&self, call: impl FnOnce(&Many) -> T) -> T {
        self.requests_begun.fetch_add(1, SeqCst);
        let r = call(&self.many);
        self.requests_done.fetch_add(1, SeqCst);
        r
    }
}

/// The current instance and every instance made so far (closed at the end).
struct Series {
    current: Mutex<Arc<Instance>>,
    generation: AtomicU64,
    all: Mutex<Vec<Arc<Instance>>>,
}

impl Series {
    fn replace(&self, closed: &Instance) {
        let mut current = self.current.lock().unwrap();
        if current.id == closed.id {
            let next = Instance::new(closed.id + 1);
            self.all.lock().unwrap().push(Arc::clone(&next));
            *current = next;
            self.generation.fetch_add(1, SeqCst);
        }
    }
}

/// A guard held by a hammer thread, with what was recorded at its start.
struct Held {
    guard: Guard,
    inst: Arc<Instance>,
    /// `requests_done` read before `start` was called (invariant 3).
    done_before_start: u64,
    /// A `done()` taken during the run (invariant 4).
    done: Option<Wait>,
}

/// Operation counts of one hammer thread (summed for the report).
#[derive(Default, Clone, Copy)]
struct Counts {
    ops: u64,
    starts: u64,
    refused: u64,
    holder_checks: u64,
    /// Stops whose transition was dropped at once (Go's `Halt`).
    stops_dropped: u64,
    stops: u64,
    blocking_stop_waits: u64,
    closes: u64,
    waits_kept: u64,
    futures_pending: u64,
    cancelled_for_a_cause: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.ops += o.ops;
        self.starts += o.starts;
        self.refused += o.refused;
        self.holder_checks += o.holder_checks;
        self.stops_dropped += o.stops_dropped;
        self.stops += o.stops;
        self.blocking_stop_waits += o.blocking_stop_waits;
        self.closes += o.closes;
        self.waits_kept += o.waits_kept;
        self.futures_pending += o.futures_pending;
        self.cancelled_for_a_cause += o.cancelled_for_a_cause;
    }
}

/// What a hammer thread keeps until the final close.
#[derive(Default)]
struct Kept {
    waits: Vec<Wait>,
    futures: Vec<(Wait, Arc<Flag>)>,
    contexts: Vec<Box<dyn Fn() -> bool + Send>>,
}

/// The public state's place in the diagram: `Created` first, `Closed` last,
/// `Running` and `Stopped` alternating in between.
fn rank(s: State) -> u8 {
    match s {
        State::Created => 0,
        State::Running | State::Stopped => 1,
        State::Closed => 2,
    }
}

fn hammer(threads: usize, duration: Duration) {
    let first = Instance::new(0);
    let series = Arc::new(Series {
        current: Mutex::new(Arc::clone(&first)),
        generation: AtomicU64::new(0),
        all: Mutex::new(vec![first]),
    });
    let v = Arc::new(Violations::default());
    let start = Instant::now();
    let deadline = start + duration;
    let max_ops = if cfg!(miri) { MIRI_OPS } else { u64::MAX };
    let barrier = Arc::new(Barrier::new(threads));
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (series, v, barrier) = (Arc::clone(&series), Arc::clone(&v), Arc::clone(&barrier));
            thread::spawn(move || {
                barrier.wait();
                hammer_thread(t as u64, &series, &v, deadline, max_ops)
            })
        })
        .collect();
    let mut counts = Counts::default();
    let mut kept = Vec::new();
    for w in workers {
        let (c, k) = w.join().expect("a hammer thread panicked");
        counts.add(&c);
        kept.push(k);
    }
    let hammer_time = start.elapsed();

    // Every guard is gone: close every instance of the series.
    let instances = series.all.lock().unwrap().clone();
    let mut closes = Vec::new();
    for inst in &instances {
        v.check(inst.active.load(SeqCst) == 0, || {
            format!("instance {}: a guard outlived its thread", inst.id)
        });
        inst.closing.store(true, SeqCst);
        closes.push(inst.many.close());
        v.check(inst.many.state() == State::Closed, || {
            format!(
                "instance {}: {:?} after the final close with no guard alive",
                inst.id,
                inst.many.state()
            )
        });
    }
    let (mut waits, mut futures, mut contexts) = (0, 0, 0);
    // One bound for all the waits below, so a lost wake-up fails the test
    // in `BOUND`, not in `BOUND` per kept wait.
    let deadline = Instant::now() + BOUND;
    for w in &closes {
        v.check(w.wait_deadline(deadline).is_ok(), || {
            "a final close's wait did not resolve".into()
        });
    }
    for k in &mut kept {
        for w in &k.waits {
            waits += 1;
            v.check(w.wait_deadline(deadline).is_ok(), || {
                "a kept done()/stop() wait did not resolve after the final close".into()
            });
        }
        for f in &mut k.futures {
            futures += 1;
            v.check(resolves(f, deadline), || {
                "a pending Wait future was not woken, or not ready, after the final close".into()
            });
        }
        for c in &k.contexts {
            contexts += 1;
            v.check(c(), || {
                "a kept context is not cancelled after the final close".into()
            });
        }
    }
    eprintln!(
        "stress hammer: {threads} threads, {:.1} s, {} operations ({:.0}/s), {} runs, \
         {} refused starts, {} holder checks, {} stops dropped at once, {} stops kept ({} waited on), \
         {} closes ({} instances), {} cancelled contexts with a cause, \
         kept at the end: {waits} waits, {futures} pending futures, {contexts} contexts \
         ({} waits and {} pending futures kept over the run); {} violations",
        hammer_time.as_secs_f64(),
        counts.ops,
        counts.ops as f64 / hammer_time.as_secs_f64(),
        counts.starts,
        counts.refused,
        counts.holder_checks,
        counts.stops_dropped,
        counts.stops,
        counts.blocking_stop_waits,
        counts.closes,
        instances.len(),
        counts.cancelled_for_a_cause,
        counts.waits_kept,
        counts.futures_pending,
        v.count.load(SeqCst),
    );
    v.assert_none("stress hammer");
    assert!(counts.starts > 0, "no run started: the test tested nothing");
}

fn hammer_thread(
    t: u64,
    series: &Series,
    v: &Violations,
    deadline: Instant,
    max_ops: u64,
) -> (Counts, Kept) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (t + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9));
    let mut c = Counts::default();
    let mut kept = Kept::default();
    let mut held: Option<Held> = None;
    let mut inst = Arc::clone(&series.current.lock().unwrap());
    let mut generation = series.generation.load(SeqCst);
    // The highest rank of state this thread has seen on `inst` (invariant 5).
    let mut seen = 0u8;

    let observe = |inst: &Instance, seen: &mut u8, s: State, how: &str| {
        let r = rank(s);
        v.check(r >= *seen, || {
            format!("instance {}: {how} saw {s:?} after a later state", inst.id)
        });
        v.check(s != State::Closed || inst.closing.load(SeqCst), || {
            format!(
                "instance {}: {how} saw Closed with no close requested",
                inst.id
            )
        });
        *seen = (*seen).max(r);
    };
    let closed_error = |inst: &Instance, e: StartError, how: &str| {
        v.check(e == StartError::Closed && inst.closing.load(SeqCst), || {
            format!(
                "instance {}: {how} returned {e:?} (close requested: {})",
                inst.id,
                inst.closing.load(SeqCst)
            )
        });
    };

    // Stops early after a violation: a lost wake-up would otherwise cost a
    // `BOUND` per blocking wait until the deadline.
    while c.ops < max_ops && Instant::now() < deadline && v.count.load(SeqCst) == 0 {
        c.ops += 1;
        if held.is_none() {
            let g = series.generation.load(SeqCst);
            if g != generation {
                generation = g;
                inst = Arc::clone(&series.current.lock().unwrap());
                seen = 0;
            }
        }
        let op = rng.below(100);
        if let Some(h) = &mut held {
            let ctx = h.guard.context();
            if op < 30 {
                // End the run (invariants 1 and 4).
                let h = held.take().unwrap();
                v.check(h.inst.active.fetch_sub(1, SeqCst) == 1, || {
                    format!("instance {}: guard count wrong at drop", h.inst.id)
                });
                if op < 15 {
                    drop(h.guard);
                } else {
                    h.guard.complete();
                }
                v.check(ctx.is_cancelled(), || {
                    format!(
                        "instance {}: context not cancelled after the guard dropped",
                        h.inst.id
                    )
                });
                if let Some(done) = h.done {
                    v.check(done.is_done(), || {
                        format!(
                            "instance {}: the run's done() not done after the guard dropped",
                            h.inst.id
                        )
                    });
                    keep(&mut kept.waits, done, &mut rng);
                }
                continue;
            }
            c.holder_checks += 1;
            let many = &h.inst.many;
            match op {
                30..=44 => {
                    let s = many.state();
                    v.check(s == State::Running, || {
                        format!("instance {}: state {s:?} while a guard is held", h.inst.id)
                    });
                }
                45..=54 => match many.start() {
                    Ok(_) => v.report(format!(
                        "instance {}: a second start succeeded while a guard is held",
                        h.inst.id
                    )),
                    Err(StartError::Running) => {}
                    Err(e) => closed_error(&h.inst, e, "start while held"),
                },
                55..=64 => {
                    let done = many.done();
                    v.check(!done.is_done(), || {
                        format!(
                            "instance {}: done() is done while a guard is held",
                            h.inst.id
                        )
                    });
                    h.done = Some(done);
                }
                65..=79 => {
                    // The instance's context is the run's.
                    let instance_ctx = many.context();
                    let a = instance_ctx.is_cancelled();
                    let b = ctx.is_cancelled();
                    v.check(!a || b, || {
                        format!(
                            "instance {}: context() cancelled, the guard's context not",
                            h.inst.id
                        )
                    });
                }
                80..=87 => {
                    // Stop our own run: the context is cancelled at the call.
                    let r = h.inst.request(|m: &Many| m.stop().map(|t| t.previous()));
                    v.check(r == Ok(State::Running), || {
                        format!("instance {}: stop by the holder returned {r:?}", h.inst.id)
                    });
                    v.check(ctx.is_cancelled(), || {
                        format!(
                            "instance {}: context not cancelled after the holder's stop",
                            h.inst.id
                        )
                    });
                    c.stops_dropped += 1;
                }
                _ => {}
            }
            // Invariant 3: a cancelled context has a cause.
            if ctx.is_cancelled() {
                let begun = h.inst.requests_begun.load(SeqCst);
                v.check(begun > h.done_before_start, || {
                    format!(
                        "instance {}: run context cancelled with no stop or close begun since the start \
                         ({begun} begun, {} returned before the start)",
                        h.inst.id, h.done_before_start
                    )
                });
                c.cancelled_for_a_cause += 1;
            }
            continue;
        }
        let many = &inst.many;
        match op {
            0..=29 => {
                let done_before_start = inst.requests_done.load(SeqCst);
                match many.start() {
                    Ok(guard) => {
                        v.check(inst.active.fetch_add(1, SeqCst) == 0, || {
                            format!("instance {}: two runs at once", inst.id)
                        });
                        observe(&inst, &mut seen, State::Running, "start");
                        c.starts += 1;
                        held = Some(Held {
                            guard,
                            inst: Arc::clone(&inst),
                            done_before_start,
                            done: None,
                        });
                    }
                    Err(StartError::Running) => c.refused += 1,
                    Err(e) => {
                        closed_error(&inst, e, "start");
                        c.refused += 1;
                    }
                }
            }
            30..=41 => {
                // The transition dropped at once (Go's `Halt`).
                match inst.request(|m: &Many| m.stop().map(|t| t.previous())) {
                    Ok(s) => observe(&inst, &mut seen, s, "stop (dropped)"),
                    Err(e) => closed_error(&inst, e.into(), "stop (dropped)"),
                }
                c.stops_dropped += 1;
            }
            42..=53 => {
                let r: Result<Wait, ClosedError> = if op < 48 {
                    inst.request(Many::stop).map(Transition::into_wait)
                } else {
                    inst.request(Many::stop).map(|t| {
                        observe(&inst, &mut seen, t.previous(), "stop");
                        t.into_wait()
                    })
                };
                c.stops += 1;
                match r {
                    // This thread holds no guard: the holder ends its run
                    // within a few operations, so the wait must resolve.
                    Ok(w) if op % 4 == 0 => {
                        c.blocking_stop_waits += 1;
                        v.check(wakes(&w), || {
                            format!(
                                "instance {}: a stop's wait was not woken within {BOUND:?}",
                                inst.id
                            )
                        });
                    }
                    Ok(w) => {
                        c.waits_kept += 1;
                        keep(&mut kept.waits, w, &mut rng);
                    }
                    Err(e) => closed_error(&inst, e.into(), "stop"),
                }
            }
            54..=65 => {
                let s = many.state();
                observe(&inst, &mut seen, s, "state()");
            }
            66..=75 => {
                c.waits_kept += 1;
                keep(&mut kept.waits, many.done(), &mut rng);
            }
            76..=83 => {
                if let Some(f) = poll_once(many.done()) {
                    c.futures_pending += 1;
                    keep(&mut kept.futures, f, &mut rng);
                }
            }
            84..=97 => {
                let ctx = many.context();
                keep(
                    &mut kept.contexts,
                    Box::new(move || ctx.is_cancelled()),
                    &mut rng,
                );
            }
            _ => {
                // Rarely, close this instance and start a fresh one: closes
                // race with everything above.
                if rng.below(200) == 0 {
                    inst.closing.store(true, SeqCst);
                    let closing = inst.request(Many::close);
                    observe(&inst, &mut seen, closing.previous(), "close");
                    keep(&mut kept.waits, closing.into_wait(), &mut rng);
                    c.closes += 1;
                    series.replace(&inst);
                }
            }
        }
    }
    if let Some(h) = held.take() {
        v.check(h.inst.active.fetch_sub(1, SeqCst) == 1, || {
            format!("instance {}: guard count wrong at the last drop", h.inst.id)
        });
        drop(h.guard);
    }
    (c, kept)
}

// ---------------------------------------------------------------------------
// The targeted race.

/// What the coordinator hands to the three racers for one round.
#[derive(Default)]
struct Round {
    /// Run r's wait, for the waiter.
    wait: Option<Wait>,
    /// Run r's guard, for the completer.
    guard: Option<Guard>,
    /// Run r+1's guard, from the restarter.
    next: Option<Guard>,
    /// How the waiter waits this round.
    mode: u64,
    /// Whether the waiter's wait resolved, and whether it had to block.
    woke: bool,
    blocked: bool,
    restart_attempts: u64,
    stop: bool,
}

/// A waiter of run r, the completer of run r and a restarter that starts
/// run r+1 as soon as r has ended, in a loop: every waiter must wake. The
/// restart clears the waiters bit (invariant E4), so a waiter that
/// registers late must see from the run number that its run ended.
fn race(duration: Duration) {
    let many = Many::new();
    let round = Arc::new(Mutex::new(Round::default()));
    let go = Arc::new(Barrier::new(4));
    let end = Arc::new(Barrier::new(4));
    let spawn = |who: fn(&Many, &Mutex<Round>)| {
        let (many, round, go, end) = (
            many.clone(),
            Arc::clone(&round),
            Arc::clone(&go),
            Arc::clone(&end),
        );
        thread::spawn(move || loop {
            go.wait();
            if round.lock().unwrap().stop {
                return;
            }
            who(&many, &round);
            end.wait();
        })
    };
    let racers = [spawn(waiter), spawn(completer), spawn(restarter)];

    let start = Instant::now();
    let deadline = start + duration;
    let max_rounds = if cfg!(miri) { MIRI_ROUNDS } else { u64::MAX };
    let (mut rounds, mut blocked, mut attempts) = (0u64, 0u64, 0u64);
    let mut guard = many.start().unwrap();
    while rounds < max_rounds && Instant::now() < deadline {
        {
            let mut r = round.lock().unwrap();
            r.wait = Some(many.done());
            r.guard = Some(guard);
            r.mode = rounds % 3;
            r.woke = false;
            r.blocked = false;
        }
        go.wait();
        end.wait();
        let mut r = round.lock().unwrap();
        assert!(
            r.woke,
            "round {rounds}: the waiter of the ended run did not wake (mode {})",
            r.mode
        );
        blocked += u64::from(r.blocked);
        attempts += r.restart_attempts;
        guard = r
            .next
            .take()
            .expect("the restarter did not start the next run");
        assert_eq!(many.state(), State::Running, "round {rounds}");
        rounds += 1;
    }
    round.lock().unwrap().stop = true;
    go.wait();
    for t in racers {
        t.join().expect("a racer panicked");
    }
    drop(guard);
    assert_eq!(many.state(), State::Stopped);
    let elapsed = start.elapsed();
    eprintln!(
        "stress race: {rounds} rounds in {:.1} s ({:.0}/s), the waiter registered before the end \
         in {blocked}, {attempts} refused restarts; every waiter woke",
        elapsed.as_secs_f64(),
        rounds as f64 / elapsed.as_secs_f64(),
    );
    assert!(rounds > 0, "no round ran: the test tested nothing");
}

fn waiter(_: &Many, round: &Mutex<Round>) {
    let (wait, mode) = {
        let mut r = round.lock().unwrap();
        (r.wait.take().unwrap(), r.mode)
    };
    let blocked = !wait.is_done();
    let woke = match mode {
        0 => wakes(&wait),
        1 => match poll_once(wait) {
            None => true,
            Some(mut pending) => resolves(&mut pending, Instant::now() + BOUND),
        },
        // Two registrations for the same run: a polled clone and a
        // blocking wait on the original.
        _ => {
            let clone = poll_once(wait.clone());
            wakes(&wait) && clone.is_none_or(|mut p| resolves(&mut p, Instant::now() + BOUND))
        }
    };
    let mut r = round.lock().unwrap();
    r.woke = woke;
    r.blocked = blocked;
}

fn completer(_: &Many, round: &Mutex<Round>) {
    let guard = round.lock().unwrap().guard.take().unwrap();
    drop(guard);
}

fn restarter(many: &Many, round: &Mutex<Round>) {
    let deadline = Instant::now() + BOUND;
    let mut attempts = 0;
    let next = loop {
        match many.start() {
            Ok(g) => break g,
            Err(StartError::Running) if Instant::now() < deadline => {
                attempts += 1;
                thread::yield_now();
            }
            Err(e) => panic!("restart refused with {e:?} (after {attempts} attempts)"),
        }
    };
    let mut r = round.lock().unwrap();
    r.next = Some(next);
    r.restart_attempts = attempts;
}

// ---------------------------------------------------------------------------
// Tasks (spec/go.md, O1 and T3-T5).

/// What a stressed task's body does.
#[cfg(feature = "tokio")]
#[derive(Clone, Copy, Debug)]
enum Body {
    Value,
    Error,
    Panic,
    /// Returns its value once its context is cancelled.
    OnCancel,
    /// Never returns: only an abort ends it.
    IgnoresCancel,
}

/// What the test does to a stressed task before it joins it.
#[cfg(feature = "tokio")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Nothing,
    Cancel,
    Abort,
    /// `abort()` through an abort handle, from another thread, while this
    /// thread joins.
    AbortElsewhere,
    /// `shutdown(0 or 1 ms)` instead of a join.
    Shutdown,
}

/// The prefix of the stressed tasks' panic messages (not printed).
#[cfg(feature = "tokio")]
const TASK_PANIC: &str = "stress task panic";

/// Threads spawn tasks of every kind on a 2-worker runtime and, racing the
/// tasks' own ends, cancel, abort (here or from another thread) or shut
/// them down with a short deadline, then join them (`blocking_join`): every
/// task ends, its outcome is its own or, only if an abort was issued,
/// `Aborted`; a task that ignores its context is `Aborted`; a context reads
/// cancelled once `cancel` or `abort` returned.
#[cfg(all(feature = "tokio", not(miri)))]
#[test]
fn tasks_never_lose_an_outcome_under_cancel_abort_and_shutdown() {
    use runcycle::TaskError;

    let secs: f64 = env_or("RUNCYCLE_STRESS_SECS", 10.0);
    let deadline = Instant::now() + Duration::from_secs_f64(secs).mul_f64(0.3);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let ours = info
            .payload()
            .downcast_ref::<&str>()
            .is_some_and(|m| m.starts_with(TASK_PANIC));
        if !ours {
            previous(info);
        }
    }));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let violations = Violations::default();
    let counts: [AtomicU64; 5] = Default::default();
    thread::scope(|s| {
        for seed in 1..=2_u64 {
            let (runtime, violations, counts) = (&runtime, &violations, &counts);
            s.spawn(move || {
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed);
                while Instant::now() < deadline {
                    let body = match rng.below(5) {
                        0 => Body::Value,
                        1 => Body::Error,
                        2 => Body::Panic,
                        3 => Body::OnCancel,
                        _ => Body::IgnoresCancel,
                    };
                    let mut action = match rng.below(5) {
                        0 => Action::Nothing,
                        1 => Action::Cancel,
                        2 => Action::Abort,
                        3 => Action::AbortElsewhere,
                        _ => Action::Shutdown,
                    };
                    // Every task must end.
                    match (body, action) {
                        (Body::OnCancel, Action::Nothing) => action = Action::Cancel,
                        (Body::IgnoresCancel, Action::Nothing | Action::Cancel) => {
                            action = Action::Abort;
                        }
                        _ => {}
                    }
                    let task = runcycle::spawn_on(
                        move |ctx| async move {
                            match body {
                                Body::Value => Ok(1_u32),
                                Body::Error => Err("refused"),
                                Body::Panic => std::panic::panic_any(TASK_PANIC),
                                Body::OnCancel => {
                                    ctx.cancelled().await;
                                    Ok(1)
                                }
                                Body::IgnoresCancel => std::future::pending().await,
                            }
                        },
                        runtime.handle(),
                    );
                    let ctx = task.context();
                    let outcome = match action {
                        Action::Nothing => task.blocking_join(),
                        Action::Cancel | Action::Abort => {
                            if action == Action::Cancel {
                                task.cancel();
                            } else {
                                task.abort();
                            }
                            violations.check(ctx.is_cancelled(), || {
                                format!("{action:?}: the context is live after the call")
                            });
                            task.blocking_join()
                        }
                        Action::AbortElsewhere => {
                            let handle = task.abort_handle();
                            thread::scope(|s| {
                                s.spawn(move || handle.abort());
                                task.blocking_join()
                            })
                        }
                        Action::Shutdown => {
                            let timeout = Duration::from_millis(rng.below(2));
                            runtime.block_on(task.shutdown(timeout))
                        }
                    };
                    let aborted = matches!(
                        action,
                        Action::Abort | Action::AbortElsewhere | Action::Shutdown
                    );
                    let own = match (body, &outcome) {
                        (Body::Value | Body::OnCancel, Ok(1))
                        | (Body::Error, Err(TaskError::Failed("refused"))) => true,
                        (Body::Panic, Err(TaskError::Panicked(p))) => {
                            p.message() == Some(TASK_PANIC)
                        }
                        _ => false,
                    };
                    let is_aborted = matches!(outcome, Err(TaskError::Aborted));
                    violations.check(own || (aborted && is_aborted), || {
                        format!("{body:?} with {action:?}: outcome {outcome:?}")
                    });
                    violations.check(ctx.is_cancelled() || !aborted, || {
                        format!("{body:?} with {action:?}: the context is live after the end")
                    });
                    counts[usize::from(is_aborted)].fetch_add(1, SeqCst);
                }
            });
        }
    });
    drop(runtime);
    let _ = std::panic::take_hook();
    violations.assert_none("tasks");
    let (own, aborted) = (counts[0].load(SeqCst), counts[1].load(SeqCst));
    println!("tasks: {own} with their own outcome, {aborted} aborted");
    assert!(own > 0 && aborted > 0, "own {own}, aborted {aborted}");
}
