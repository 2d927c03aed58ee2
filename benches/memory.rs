//! Memory figures for BENCHMARKS.md: sizes of the public types, heap bytes
//! per instance and per run, allocations per call of every public call of
//! the lifecycle core, and resident memory around long runs.
//!
//! ```sh
//! cargo bench --bench memory
//! ```
//!
//! It prints figures; the allocation target is also asserted (a restart
//! without `context()` allocates nothing), so a regression fails the run.
//! Every other figure is printed, not asserted: it measures whatever the
//! code does.
//!
//! Counts come from the counting global allocator (`common/counting.rs`):
//! allocations and requested bytes (the layouts' sizes, not the allocator's
//! rounded blocks) in the whole process, so an allocation made by a helper
//! thread inside a measured window counts too.

use std::future::Future;
use std::mem::size_of;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use runcycle::{Guard, Many, One};
use tokio_util::sync::CancellationToken;

#[path = "common/counting.rs"]
mod counting;
use counting::{allocs, bytes, live_bytes};

/// Resident set size in KiB, from /proc/self/statm (Linux).
fn rss_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4
}

/// Calls measured per row of the allocation table.
const CALLS: u32 = 10_000;
/// Untimed calls before a row's measured ones, to reach its steady state
/// (thread-locals made, free lists filled).
const WARM_UP: u32 = 100;

/// What the measured parts of a row's iterations allocated.
#[derive(Default)]
struct Meter {
    allocs: u64,
    bytes: u64,
}

impl Meter {
    /// Runs `f`, adding what it allocates; what `f` returns is dropped by
    /// the caller, outside the measured part.
    fn m<R>(&mut self, f: impl FnOnce() -> R) -> R {
        let (a, b) = (allocs(), bytes());
        let r = f();
        self.allocs += allocs() - a;
        self.bytes += bytes() - b;
        r
    }
}

/// One row of the allocation table: `body` runs its setup, measures its
/// call with [`Meter::m`], and tears down, `CALLS` times after a warm-up.
fn row(call: &str, steady: &str, mut body: impl FnMut(&mut Meter)) {
    let mut warm = Meter::default();
    for _ in 0..WARM_UP {
        body(&mut warm);
    }
    let mut meter = Meter::default();
    for _ in 0..CALLS {
        body(&mut meter);
    }
    let n = f64::from(CALLS);
    println!(
        "| {call} | {:.2} | {:.1} | {steady} |",
        meter.allocs as f64 / n,
        meter.bytes as f64 / n
    );
}

/// Polls `f` once with a waker that does nothing.
fn poll_once<F: Future + ?Sized>(f: Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut TaskContext::from_waker(Waker::noop()))
}

/// A thread that ends the runs it is handed: it spins until a guard is put
/// in its slot, spins [`Ender::DELAY`] more (so that the waiter on the
/// other side has time to register), then drops the guard. It allocates
/// nothing itself (a std `Mutex` is a futex word), so a measured window
/// counts only the run's end and the wait.
struct Ender {
    shared: Arc<EnderShared>,
    thread: Option<thread::JoinHandle<()>>,
}

struct EnderShared {
    slot: Mutex<Option<Guard>>,
    handed: AtomicBool,
    stop: AtomicBool,
}

impl Ender {
    const DELAY: Duration = Duration::from_micros(5);

    fn new() -> Ender {
        let shared = Arc::new(EnderShared {
            slot: Mutex::new(None),
            handed: AtomicBool::new(false),
            stop: AtomicBool::new(false),
        });
        let thread = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                // `Acquire`: pairs with the `Release` stores of `drop` and
                // `hand`, so the slot's guard is seen.
                while !shared.stop.load(Ordering::Acquire) {
                    if shared.handed.swap(false, Ordering::AcqRel) {
                        let guard = shared.slot.lock().unwrap().take();
                        let t = Instant::now();
                        while t.elapsed() < Ender::DELAY {
                            std::hint::spin_loop();
                        }
                        drop(guard);
                    } else {
                        std::hint::spin_loop();
                    }
                }
            })
        };
        Ender {
            shared,
            thread: Some(thread),
        }
    }

    /// Hands `guard` over: the run ends on the ender's thread, soon.
    fn hand(&self, guard: Guard) {
        *self.shared.slot.lock().unwrap() = Some(guard);
        // `Release`: pairs with the ender's `swap`, publishes the slot.
        self.shared.handed.store(true, Ordering::Release);
    }
}

impl Drop for Ender {
    fn drop(&mut self) {
        // `Release`: pairs with the ender's `Acquire` load.
        self.shared.stop.store(true, Ordering::Release);
        self.thread.take().unwrap().join().unwrap();
    }
}

/// Counts how often a cross-thread wait found its run still going at the
/// call (so that it registered), to print beside the rows that use it.
struct Registered {
    pending: AtomicU64,
    total: AtomicU64,
}

impl Registered {
    const fn new() -> Registered {
        Registered {
            pending: AtomicU64::new(0),
            total: AtomicU64::new(0),
        }
    }
    fn note(&self, pending: bool) {
        // `Relaxed`: counters read on this thread after the loop.
        self.total.fetch_add(1, Ordering::Relaxed);
        if pending {
            self.pending.fetch_add(1, Ordering::Relaxed);
        }
    }
    fn take(&self) -> String {
        let (p, t) = (
            self.pending.swap(0, Ordering::Relaxed),
            self.total.swap(0, Ordering::Relaxed),
        );
        format!(
            "{:.1}% pending at the call",
            100.0 * p as f64 / t.max(1) as f64
        )
    }
}

fn sizes() {
    println!("## size_of (bytes)");
    println!("One: {}", size_of::<One>());
    println!("Many: {}", size_of::<Many>());
    println!("Guard: {}", size_of::<Guard>());
    println!("Wait: {}", size_of::<runcycle::Wait>());
    println!("Transition: {}", size_of::<runcycle::Transition>());
    println!("ClosedWait: {}", size_of::<runcycle::ClosedWait>());
    println!("Context: {}", size_of::<runcycle::Context>());
    println!("State: {}", size_of::<runcycle::State>());
    println!("StartError: {}", size_of::<runcycle::StartError>());
    println!("Task<(), ()>: {}", size_of::<runcycle::Task<(), ()>>());
    println!("Group: {}", size_of::<runcycle::Group>());
    println!("GroupWait: {}", size_of::<runcycle::GroupWait>());
    println!("(CancellationToken: {})", size_of::<CancellationToken>());
}

/// Heap bytes (requested sizes) and allocations of one construction, the
/// instance kept alive while it is counted; the mean of `CALLS`.
fn per_instance<T>(name: &str, make: impl Fn() -> T) {
    let mut kept = Vec::with_capacity(CALLS as usize);
    let (a, live) = (allocs(), live_bytes());
    for _ in 0..CALLS {
        kept.push(make());
    }
    let spent_allocs = allocs() - a;
    // The `Vec` was allocated before: only the instances' heap is counted.
    let spent_bytes = live_bytes() - live;
    drop(kept);
    let n = f64::from(CALLS);
    println!(
        "| {name} | {:.2} | {:.1} |",
        spent_allocs as f64 / n,
        spent_bytes as f64 / n
    );
}

/// Allocations and requested bytes per run of `run`, and the live heap left
/// after all of them (a leak would show there).
fn per_run(name: &str, many: &Many, run: impl Fn(&Many)) -> f64 {
    for _ in 0..WARM_UP {
        run(many);
    }
    let n = 100_000u32;
    let (a, b, live) = (allocs(), bytes(), live_bytes());
    for _ in 0..n {
        run(many);
    }
    let per = (allocs() - a) as f64 / f64::from(n);
    println!(
        "| {name} | {per:.2} | {:.1} | {} |",
        (bytes() - b) as f64 / f64::from(n),
        live_bytes() - live
    );
    per
}

fn heap() {
    println!("\n## heap per instance (mean of {CALLS}; requested bytes)");
    println!("| construction | allocations | bytes |");
    println!("|---|---|---|");
    let parent = CancellationToken::new();
    per_instance("One::new()", One::new);
    per_instance("One::with_parent(&token)", || One::with_parent(&parent));
    per_instance("Many::new()", Many::new);
    per_instance("Many::with_parent(&token)", || Many::with_parent(&parent));
    let outer = Many::new();
    let outer_run = outer.start().unwrap();
    let ctx = outer_run.context();
    per_instance("Many::with_parent(&context)", || Many::with_parent(&ctx));
    drop(outer_run);

    println!("\n## heap per run (start + stop; mean of 100,000 runs after a warm-up)");
    println!("| run | allocations | bytes | live bytes left after all runs |");
    println!("|---|---|---|---|");
    let many = Many::new();
    let without = per_run("Many::new(): start, drop guard", &many, |m| {
        drop(m.start().unwrap());
    });
    per_run("Many::new(): start, context(), drop guard", &many, |m| {
        let guard = m.start().unwrap();
        drop(guard.context());
        drop(guard);
    });
    let many_p = Many::with_parent(&parent);
    let without_p = per_run("Many::with_parent: start, drop guard", &many_p, |m| {
        drop(m.start().unwrap());
    });
    per_run(
        "Many::with_parent: start, context(), drop guard",
        &many_p,
        |m| {
            let guard = m.start().unwrap();
            drop(guard.context());
            drop(guard);
        },
    );
    let mut token_only = Meter::default();
    for _ in 0..10_000 {
        drop(token_only.m(|| parent.child_token()));
    }
    println!(
        "(floor: a child_token() alone: {:.2} allocations, {:.1} bytes)",
        token_only.allocs as f64 / 10_000.0,
        token_only.bytes as f64 / 10_000.0
    );
    assert!(without == 0.0, "a restart without context() allocated");
    assert!(
        without_p == 0.0,
        "a restart without context() allocated (with a parent)"
    );
}

/// Allocations per call of every public call of the core. Each row says
/// its steady state: what exists when the measured call is made.
#[allow(clippy::too_many_lines)] // one table, one row per call
fn calls() {
    println!("\n## allocations per call (mean of {CALLS} calls after {WARM_UP} warm-up calls)");
    println!("| call | allocations | bytes | steady state |");
    println!("|---|---|---|---|");
    let parent = CancellationToken::new();

    // One.
    row("One::new", "nothing else alive", |m| drop(m.m(One::new)));
    row(
        "One::with_parent(&token)",
        "a live token, no other child",
        |m| {
            drop(m.m(|| One::with_parent(&parent)));
        },
    );
    row("One::start", "a fresh One", |m| {
        let one = One::new();
        drop(m.m(|| one.start()));
    });
    row(
        "One::start (with a parent)",
        "a fresh One with a parent",
        |m| {
            let one = One::with_parent(&parent);
            drop(m.m(|| one.start()));
        },
    );
    row("One::context", "running, first context() of the run", |m| {
        let one = One::new();
        let guard = one.start().unwrap();
        drop(m.m(|| one.context()));
        drop(guard);
    });
    row(
        "One::context",
        "running, the run's context already made",
        |m| {
            let one = One::new();
            let guard = one.start().unwrap();
            drop(guard.context());
            drop(m.m(|| one.context()));
            drop(guard);
        },
    );
    row("One::context", "never started (a cancelled context)", |m| {
        let one = One::new();
        drop(m.m(|| one.context()));
    });
    row("One::state", "running", |m| {
        let one = One::new();
        let guard = one.start().unwrap();
        std::hint::black_box(m.m(|| one.state()));
        drop(guard);
    });
    row("One::done", "running (a pending wait)", |m| {
        let one = One::new();
        let guard = one.start().unwrap();
        drop(m.m(|| one.done()));
        drop(guard);
    });
    row("One::close", "running, guard held, no waiter", |m| {
        let one = One::new();
        let guard = one.start().unwrap();
        drop(m.m(|| one.close()));
        drop(guard);
    });
    row("One::close", "never started", |m| {
        let one = One::new();
        drop(m.m(|| one.close()));
    });

    // Many.
    row("Many::new", "nothing else alive", |m| drop(m.m(Many::new)));
    row(
        "Many::with_parent(&token)",
        "a live token, no other child",
        |m| {
            drop(m.m(|| Many::with_parent(&parent)));
        },
    );
    let many = Many::new();
    row("Many::start", "one Many restarted over and over", |m| {
        drop(m.m(|| many.start()));
    });
    let many_p = Many::with_parent(&parent);
    row(
        "Many::start (with a parent)",
        "one Many restarted over and over",
        |m| {
            drop(m.m(|| many_p.start()));
        },
    );
    row(
        "Many::start",
        "running: refused (StartError::Running)",
        |m| {
            let guard = many.start().unwrap();
            drop(m.m(|| many.start()));
            drop(guard);
        },
    );
    row(
        "Many::context",
        "running, first context() of the run",
        |m| {
            let guard = many.start().unwrap();
            drop(m.m(|| many.context()));
            drop(guard);
        },
    );
    row(
        "Many::context (with a parent)",
        "running, first context() of the run",
        |m| {
            let guard = many_p.start().unwrap();
            drop(m.m(|| many_p.context()));
            drop(guard);
        },
    );
    row(
        "Many::context",
        "running, the run's context already made",
        |m| {
            let guard = many.start().unwrap();
            drop(guard.context());
            drop(m.m(|| many.context()));
            drop(guard);
        },
    );
    row("Many::context", "stopped (between runs)", |m| {
        drop(m.m(|| many.context()));
    });
    row("Many::stop", "running, guard held, no waiter", |m| {
        let guard = many.start().unwrap();
        drop(m.m(|| many.stop()));
        drop(guard);
    });
    row("Many::stop", "stopped (nothing to stop)", |m| {
        drop(m.m(|| many.stop()));
    });
    row("Many::close", "a fresh Many, running, guard held", |m| {
        let fresh = Many::new();
        let guard = fresh.start().unwrap();
        drop(m.m(|| fresh.close()));
        drop(guard);
    });
    row("Many::done", "running (a pending wait)", |m| {
        let guard = many.start().unwrap();
        drop(m.m(|| many.done()));
        drop(guard);
    });
    row("Many::done", "stopped (a resolved wait)", |m| {
        drop(m.m(|| many.done()));
    });
    row("Many::state", "running", |m| {
        let guard = many.start().unwrap();
        std::hint::black_box(m.m(|| many.state()));
        drop(guard);
    });
    row("Many::run_number", "running", |m| {
        let guard = many.start().unwrap();
        std::hint::black_box(m.m(|| many.run_number()));
        drop(guard);
    });
    row("Many::closed", "not closed", |m| {
        drop(m.m(|| many.closed()))
    });

    // Guard.
    row("Guard::context", "first context() of the run", |m| {
        let guard = many.start().unwrap();
        drop(m.m(|| guard.context()));
        drop(guard);
    });
    row("Guard::context", "the run's context already made", |m| {
        let guard = many.start().unwrap();
        drop(guard.context());
        drop(m.m(|| guard.context()));
        drop(guard);
    });
    row("Guard::run_number", "running", |m| {
        let guard = many.start().unwrap();
        std::hint::black_box(m.m(|| guard.run_number()));
        drop(guard);
    });
    row("Guard::complete", "no context made, no waiter", |m| {
        let guard = many.start().unwrap();
        m.m(|| guard.complete());
    });
    row("Guard drop", "no context made, no waiter", |m| {
        let guard = many.start().unwrap();
        m.m(|| drop(guard));
    });
    row("Guard drop", "the run's context made (and dropped)", |m| {
        let guard = many.start().unwrap();
        drop(guard.context());
        m.m(|| drop(guard));
    });
    row(
        "Guard drop",
        "one async waiter registered (polled once)",
        |m| {
            let guard = many.start().unwrap();
            let mut done = pin!(many.done());
            assert!(poll_once(done.as_mut()).is_pending());
            m.m(|| drop(guard));
            assert!(poll_once(done.as_mut()).is_ready());
        },
    );

    // Wait.
    row("Wait::is_done", "pending", |m| {
        let guard = many.start().unwrap();
        let done = many.done();
        std::hint::black_box(m.m(|| done.is_done()));
        drop(guard);
    });
    row("Wait::clone", "pending, not polled", |m| {
        let guard = many.start().unwrap();
        let done = many.done();
        drop(m.m(|| done.clone()));
        drop(guard);
    });
    row(
        "Wait as a future: poll, poll",
        "one waiter: pending, the run ends (same thread, not counted), ready",
        |m| {
            let guard = many.start().unwrap();
            let mut done = pin!(many.done());
            assert!(m.m(|| poll_once(done.as_mut())).is_pending());
            drop(guard);
            assert!(m.m(|| poll_once(done.as_mut())).is_ready());
        },
    );
    row(
        "Wait as a future: 2 waiters",
        "two waiters of one run, each polled pending, then ready (all four polls counted)",
        |m| {
            let guard = many.start().unwrap();
            let mut a = pin!(many.done());
            let mut b = pin!(many.done());
            assert!(m.m(|| poll_once(a.as_mut())).is_pending());
            assert!(m.m(|| poll_once(b.as_mut())).is_pending());
            drop(guard);
            assert!(m.m(|| poll_once(a.as_mut())).is_ready());
            assert!(m.m(|| poll_once(b.as_mut())).is_ready());
        },
    );
    row("Wait as a future: poll", "stopped (ready at once)", |m| {
        let mut done = pin!(many.done());
        assert!(m.m(|| poll_once(done.as_mut())).is_ready());
    });
    row("Wait::wait", "stopped (returns at once)", |m| {
        let done = many.done();
        m.m(|| done.wait());
    });

    let ender = Ender::new();
    static REG: Registered = Registered::new();
    row(
        "Wait::wait",
        "one blocked waiter, the run ends on another thread (counted)",
        |m| {
            let guard = many.start().unwrap();
            let done = many.done();
            ender.hand(guard);
            REG.note(!done.is_done());
            m.m(|| done.wait());
        },
    );
    println!("|  | | | ({}) |", REG.take());
    row("Wait::wait_timeout(20 s)", "the same", |m| {
        let guard = many.start().unwrap();
        let done = many.done();
        ender.hand(guard);
        REG.note(!done.is_done());
        m.m(|| done.wait_timeout(Duration::from_secs(20))).unwrap();
    });
    println!("|  | | | ({}) |", REG.take());
    row("Wait::wait_deadline(now + 20 s)", "the same", |m| {
        let guard = many.start().unwrap();
        let done = many.done();
        let deadline = Instant::now() + Duration::from_secs(20);
        ender.hand(guard);
        REG.note(!done.is_done());
        m.m(|| done.wait_deadline(deadline)).unwrap();
    });
    println!("|  | | | ({}) |", REG.take());
    row(
        "Wait via block_on",
        "one async waiter (futures::executor::block_on), the run ends on another thread (counted)",
        |m| {
            let guard = many.start().unwrap();
            let done = many.done();
            ender.hand(guard);
            REG.note(!done.is_done());
            m.m(|| futures::executor::block_on(done));
        },
    );
    println!("|  | | | ({}) |", REG.take());
    row(
        "Transition::wait (of stop)",
        "the same, the Transition of stop() while running",
        |m| {
            let guard = many.start().unwrap();
            let stopping = many.stop().unwrap();
            ender.hand(guard);
            REG.note(!stopping.is_done());
            m.m(|| stopping.wait());
        },
    );
    println!("|  | | | ({}) |", REG.take());
    drop(ender);

    row("ClosedWait::is_done", "not closed", |m| {
        let closed = many.closed();
        std::hint::black_box(m.m(|| closed.is_done()));
    });
    row(
        "ClosedWait as a future: poll, poll",
        "a fresh Many: pending, closed (not counted), ready",
        |m| {
            let fresh = Many::new();
            let mut closed = pin!(fresh.closed());
            assert!(m.m(|| poll_once(closed.as_mut())).is_pending());
            fresh.close();
            assert!(m.m(|| poll_once(closed.as_mut())).is_ready());
        },
    );

    // Context.
    let guard = many.start().unwrap();
    let ctx = guard.context();
    row("Context::is_cancelled", "running", |m| {
        std::hint::black_box(m.m(|| ctx.is_cancelled()));
    });
    row("Context::clone", "running", |m| drop(m.m(|| ctx.clone())));
    row(
        "Context::child_token",
        "running, the child dropped after",
        |m| {
            drop(m.m(|| ctx.child_token()));
        },
    );
    row(
        "Context::cancelled polled",
        "running: pending, then dropped",
        |m| {
            let mut cancelled = pin!(ctx.cancelled());
            assert!(m.m(|| poll_once(cancelled.as_mut())).is_pending());
        },
    );
    drop(guard);
    row(
        "Context::cancelled polled",
        "a run's context: pending, the run ends (not counted), ready",
        |m| {
            let guard = many.start().unwrap();
            let ctx = guard.context();
            let mut cancelled = pin!(ctx.cancelled());
            assert!(m.m(|| poll_once(cancelled.as_mut())).is_pending());
            drop(guard);
            assert!(m.m(|| poll_once(cancelled.as_mut())).is_ready());
        },
    );
}

/// Restarts of the RSS loop.
const RESTARTS: u64 = 10_000_000;
/// Every `CROSS_EVERY`-th run is waited for by a blocked thread while
/// another thread ends it (a real cross-thread wake: about 50 us each on
/// the loaded 2-core machine, so every 10th run made the loop take 58 s);
/// the other runs are waited for on one thread, with a wait that
/// registers before the run ends (so every run's wait registers).
const CROSS_EVERY: u64 = 32;

/// 10,000,000 restarts of one `Many`, every run waited for by a wait that
/// registers before the run ends, in turn: an async `done()` under
/// `futures::executor::block_on` (polled pending, then the run ends from
/// inside the poll, then ready), the `Transition` of `stop()` polled
/// pending then waited with `wait()` after the run ended, and a `done()`
/// polled by hand; every [`CROSS_EVERY`]-th run instead a blocking
/// `done().wait()` while the [`Ender`] ends the run from another thread.
/// Every other run also asks for its `context()`.
fn rss_restarts() {
    let parent = CancellationToken::new();
    let many = Many::with_parent(&parent);
    let ender = Ender::new();
    let mut cross = (0u64, 0u64); // (registered, total)
    let mut run = |i: u64| {
        let guard = many.start().unwrap();
        if i % 2 == 0 {
            drop(guard.context());
        }
        if i % CROSS_EVERY == CROSS_EVERY - 1 {
            let done = many.done();
            ender.hand(guard);
            cross.0 += u64::from(!done.is_done());
            cross.1 += 1;
            done.wait();
            return;
        }
        match i % 3 {
            0 => {
                let mut guard = Some(guard);
                futures::executor::block_on(async {
                    let mut done = pin!(many.done());
                    std::future::poll_fn(|cx| {
                        let polled = done.as_mut().poll(cx);
                        if polled.is_pending() {
                            // Registered: end the run, which wakes this
                            // waiter; block_on polls again.
                            drop(guard.take());
                        }
                        polled
                    })
                    .await;
                });
                assert!(guard.is_none(), "the async wait never registered");
            }
            1 => {
                let mut stopping = pin!(many.stop().unwrap());
                assert!(poll_once(stopping.as_mut()).is_pending());
                drop(guard);
                stopping.wait();
            }
            _ => {
                let mut done = pin!(many.done());
                assert!(poll_once(done.as_mut()).is_pending());
                drop(guard);
                assert!(poll_once(done.as_mut()).is_ready());
            }
        }
    };
    let t = Instant::now();
    for i in 0..1_000 {
        run(i);
    }
    let rss0 = rss_kib();
    for i in 1_000..1_000_000 {
        run(i);
    }
    let rss1 = rss_kib();
    let t1 = t.elapsed();
    for i in 1_000_000..RESTARTS {
        run(i);
    }
    let rss2 = rss_kib();
    let elapsed = t.elapsed();
    drop(ender);
    println!(
        "{RESTARTS} restarts of one Many, each waited for: {rss0} KiB after 1,000 -> {rss1} KiB after 1,000,000 -> {rss2} KiB after {RESTARTS} ({:.1} s for 1 M, {:.1} s in all; a cross-thread wait 1 run in {CROSS_EVERY}: {} of {} found the run still going)",
        t1.as_secs_f64(),
        elapsed.as_secs_f64(),
        cross.0,
        cross.1
    );
}

fn rss_tasks() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let warm = |rt: &tokio::runtime::Runtime| {
        rt.block_on(async {
            for _ in 0..1_000 {
                let task = runcycle::spawn(|_| async { Ok::<_, ()>(()) });
                let _ = task.await;
            }
        });
    };
    warm(&rt);
    let rss2 = rss_kib();
    rt.block_on(async {
        for _ in 0..100_000 {
            let task = runcycle::spawn(|ctx| async move { Ok::<_, ()>(ctx.is_cancelled()) });
            let _ = task.await;
        }
    });
    let rss3 = rss_kib();
    println!("100,000 tasks (each awaited): {rss2} KiB -> {rss3} KiB");
    // The first wave grows the runtime and allocator to 1,000 live tasks at
    // once (the tasks above ran one at a time); growth after it would be
    // a leak.
    let rss_first = rt.block_on(async {
        let group = runcycle::Group::new();
        let mut rss_first = 0;
        for wave in 0..100 {
            for _ in 0..1_000 {
                group.spawn(|ctx| async move { drop(ctx) }).unwrap();
            }
            group.wait().await.unwrap();
            if wave == 0 {
                rss_first = rss_kib();
            }
        }
        rss_first
    });
    let rss4 = rss_kib();
    println!(
        "100,000 Group tasks (100 waves of 1,000): {rss3} KiB -> {rss_first} KiB after the first wave -> {rss4} KiB"
    );
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument is ignored.
    sizes();
    heap();
    calls();
    println!("\n## resident memory");
    rss_restarts();
    rss_tasks();
}
