//! Supervision benchmarks for issue #14, measured the way the issue states
//! its targets (the setting of `benches/tasks.rs`): a program over the
//! public API, the work driven from a runtime worker of a 2-worker
//! multi-thread runtime, each case alternated with its baselines in the same
//! run, medians of 9 rounds; ratios to the baseline printed beside the
//! figures.
//!
//! ```sh
//! cargo bench --bench supervise                  # full run (about 30 s)
//! cargo bench --bench supervise -- --quick       # one short round (CI's smoke run)
//! cargo bench --bench supervise -- restart tree  # only these sections (restart, tree, memory)
//! ```
//!
//! Cases:
//! * `restart latency`: a child fails and its next run starts, zero backoff
//!   (`Backoff::none()`, an intensity that never gives up), per restart
//!   (20,000 restarts per sample), against a hand-written restart loop over
//!   a `Many` (start, move the guard into a tokio task running the same
//!   service, await its `JoinHandle`, start again). Target <= 1.2x.
//! * `a tree of 10,000 children`: a root supervisor of 100 supervisors of 100
//!   children that wait on their context: from the root run's spawn until
//!   all 10,000 have started, then the root token cancelled, until the root
//!   run returns; against 10,000 `tokio::spawn`ed tasks waiting on clones of
//!   one token: spawned until all have started, the token cancelled, every
//!   `JoinHandle` awaited. Target <= 1.5x.
//! * `memory per idle child`: allocations (the counting allocator of
//!   `common/counting.rs`) and heap bytes in use (glibc's `mallinfo2`, all
//!   arenas, malloc's chunk headers included) per child of a running
//!   supervisor whose 10,000 children wait on their context, and per child
//!   of its spec (names, services, builders), against 10,000 idle tokio
//!   tasks. Reported; no target.
//!
//! The smoke run asserts what the cases rely on: the restart case's report
//! counts every run, and the tree's report has every child stopped in time.
//! Cases named `part:` are not targets: each adds or removes one ingredient
//! (a phase, the boxed future, the exit message, the clock, the one-by-one
//! stop) so that a miss can be explained by a measurement (BENCHMARKS.md,
//! "Supervision").

use std::future::Future;
use std::hint::black_box;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use runcycle::supervise::{Backoff, Child, ChildError, Intensity, Restart, Supervisor};
use runcycle::{CancellationToken, Context, Many};

#[path = "common/counting.rs"]
mod counting;
#[path = "common/harness.rs"]
mod harness;
use counting::allocs;
use harness::{alternate, on_worker, report, runtime, Case};

// ---- restart latency: each returns nanoseconds per restart ----

/// The service both sides run: fails at once (the error boxes its
/// message: the same allocations on both sides).
async fn failing(ctx: Context) -> Result<(), ChildError> {
    black_box(&ctx);
    Err(ChildError::new("failed"))
}

/// A supervisor whose one child fails `n` times at once and then asks not
/// to be restarted: `n` restarts, then the supervisor ends (`AllDone`).
async fn supervisor_restarts(n: u32) -> f64 {
    let left = Arc::new(AtomicUsize::new(n as usize));
    let sup = Supervisor::builder("bench")
        .backoff(Backoff::none())
        .intensity(Intensity::new(u32::MAX, Duration::from_secs(1)))
        .child(Child::new("flaky", move |ctx| {
            // `Relaxed`: one run at a time (S2), ordered by the supervisor.
            let last = left.fetch_sub(1, Ordering::Relaxed) == 0;
            async move {
                if last {
                    return Err(ChildError::do_not_restart());
                }
                failing(ctx).await
            }
        }))
        .build();
    let start = Instant::now();
    let report = sup.run(&CancellationToken::new()).await.unwrap();
    let took = start.elapsed();
    // The first run and n restarts.
    assert_eq!(report.children()[0].runs(), u64::from(n) + 1);
    took.as_nanos() as f64 / f64::from(n)
}

/// The hand-written loop: start, a task per run holding the guard, await its
/// `JoinHandle` (the run's result), start again.
async fn many_loop_restarts(n: u32) -> f64 {
    let many = Many::new();
    let start = Instant::now();
    for _ in 0..=n {
        let guard = many.start().unwrap();
        let ctx = guard.context();
        let run = tokio::spawn(async move {
            let result = failing(ctx).await;
            drop(guard);
            result
        });
        black_box(run.await.unwrap().is_err());
    }
    start.elapsed().as_nanos() as f64 / f64::from(n)
}

/// Part: the supervisor with every run counted healthy
/// (`reset_after(0)`): the consecutive-restart count stays 1, so the
/// backoff's delay is computed in one step whatever the run number.
async fn part_supervisor_healthy(n: u32) -> f64 {
    let left = Arc::new(AtomicUsize::new(n as usize));
    let sup = Supervisor::builder("bench")
        .backoff(Backoff::none().reset_after(Duration::ZERO))
        .intensity(Intensity::new(u32::MAX, Duration::from_secs(1)))
        .child(Child::new("flaky", move |ctx| {
            // `Relaxed`: one run at a time (S2), ordered by the supervisor.
            let last = left.fetch_sub(1, Ordering::Relaxed) == 0;
            async move {
                if last {
                    return Err(ChildError::do_not_restart());
                }
                failing(ctx).await
            }
        }))
        .build();
    let start = Instant::now();
    let report = sup.run(&CancellationToken::new()).await.unwrap();
    let took = start.elapsed();
    assert_eq!(report.children()[0].runs(), u64::from(n) + 1);
    took.as_nanos() as f64 / f64::from(n)
}

type Service = Arc<dyn Fn(Context) -> BoxRun + Send + Sync>;
type BoxRun = Pin<Box<dyn Future<Output = Result<(), ChildError>> + Send>>;

/// Part: the hand-written loop, the service behind an `Arc<dyn Fn>`
/// returning a boxed future, run under `catch_unwind` (what the
/// supervisor's run task does).
async fn part_boxed_catch_unwind(n: u32) -> f64 {
    let service: Service = Arc::new(|ctx| Box::pin(failing(ctx)));
    let many = Many::new();
    let start = Instant::now();
    for _ in 0..=n {
        let guard = many.start().unwrap();
        let ctx = guard.context();
        let service = service.clone();
        let run = tokio::spawn(async move {
            let result = AssertUnwindSafe(async move { service(ctx).await })
                .catch_unwind()
                .await;
            drop(guard);
            result
        });
        black_box(run.await.unwrap().is_err());
    }
    start.elapsed().as_nanos() as f64 / f64::from(n)
}

/// Part: as above, the result sent over an unbounded mpsc channel (with
/// the child's index and the time) and received by the loop, the
/// `JoinHandle` dropped: the supervisor's exit message.
async fn part_exit_message(n: u32) -> f64 {
    let service: Service = Arc::new(|ctx| Box::pin(failing(ctx)));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let many = Many::new();
    let start = Instant::now();
    for _ in 0..=n {
        let guard = many.start().unwrap();
        let ctx = guard.context();
        let service = service.clone();
        let tx = tx.clone();
        drop(tokio::spawn(async move {
            let result = AssertUnwindSafe(async move { service(ctx).await })
                .catch_unwind()
                .await;
            drop(guard);
            let _ = tx.send((0_usize, result.map(|r| r.is_err()), Instant::now()));
        }));
        black_box(rx.recv().await.unwrap().1.is_ok());
    }
    start.elapsed().as_nanos() as f64 / f64::from(n)
}

/// Part: the cost of the clock: one `tokio::time::Instant::now()`.
async fn part_clock_read(n: u32) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        black_box(tokio::time::Instant::now());
    }
    start.elapsed().as_nanos() as f64 / f64::from(n)
}

// ---- a tree of 10,000: each returns nanoseconds per tree ----

const SUPERVISORS: usize = 100;
const PER_SUPERVISOR: usize = 100;
const CHILDREN: usize = SUPERVISORS * PER_SUPERVISOR;

/// Counts children that have started; wakes the driver when all have.
struct Started {
    count: AtomicUsize,
    all: tokio::sync::Notify,
}

impl Started {
    fn new() -> Arc<Started> {
        Arc::new(Started {
            count: AtomicUsize::new(0),
            all: tokio::sync::Notify::new(),
        })
    }

    fn one(&self) {
        // `AcqRel`: the last increment is seen by `wait`'s load.
        if self.count.fetch_add(1, Ordering::AcqRel) + 1 == CHILDREN {
            self.all.notify_one();
        }
    }

    async fn wait(&self) {
        // `notify_one` stores a permit if nobody waits yet.
        if self.count.load(Ordering::Acquire) < CHILDREN {
            self.all.notified().await;
        }
    }
}

fn tree(started: &Arc<Started>) -> Supervisor {
    let mut root = Supervisor::builder("root");
    for s in 0..SUPERVISORS {
        let mut sup = Supervisor::builder(format!("s{s}"));
        for c in 0..PER_SUPERVISOR {
            let started = started.clone();
            sup = sup.child(Child::new(format!("c{c}"), move |ctx: Context| {
                let started = started.clone();
                async move {
                    started.one();
                    ctx.cancelled().await;
                    Ok(())
                }
            }));
        }
        root = root.child(Child::supervisor(sup.build()));
    }
    root.build()
}

/// Which part of a tree's life a case times.
#[derive(Clone, Copy)]
enum Phase {
    /// From the start until the root run returns.
    Whole,
    /// From the start until every child has started.
    Start,
    /// From the cancellation until the root run returns.
    Stop,
}

impl Phase {
    fn timed(self, start: Instant, all_started: Instant, end: Instant) -> Duration {
        match self {
            Phase::Whole => end - start,
            Phase::Start => all_started - start,
            Phase::Stop => end - all_started,
        }
    }
}

/// One supervisor of `CHILDREN` children that wait on their context.
fn flat(started: &Arc<Started>) -> Supervisor {
    let mut sup = Supervisor::builder("flat");
    for c in 0..CHILDREN {
        let started = started.clone();
        sup = sup.child(
            Child::new(format!("c{c}"), move |ctx: Context| {
                let started = started.clone();
                async move {
                    started.one();
                    ctx.cancelled().await;
                    Ok(())
                }
            })
            .restart(Restart::Permanent),
        );
    }
    sup.build()
}

async fn supervisor_tree(rounds: u32, phase: Phase) -> f64 {
    let mut total = Duration::ZERO;
    for _ in 0..rounds {
        let started = Started::new();
        let root = tree(&started);
        let token = CancellationToken::new();
        let start = Instant::now();
        let running = tokio::spawn(root.run(&token));
        started.wait().await;
        let all_started = Instant::now();
        token.cancel();
        let report = running.await.unwrap().unwrap();
        total += phase.timed(start, all_started, Instant::now());
        assert!(report.all_stopped_in_time());
        assert_eq!(report.children().len(), SUPERVISORS);
    }
    total.as_nanos() as f64 / f64::from(rounds)
}

async fn tokio_tasks(rounds: u32, phase: Phase) -> f64 {
    let mut total = Duration::ZERO;
    for _ in 0..rounds {
        let started = Started::new();
        let token = CancellationToken::new();
        let start = Instant::now();
        let mut handles = Vec::with_capacity(CHILDREN);
        for _ in 0..CHILDREN {
            let token = token.clone();
            let started = started.clone();
            handles.push(tokio::spawn(async move {
                started.one();
                token.cancelled().await;
            }));
        }
        started.wait().await;
        let all_started = Instant::now();
        token.cancel();
        for h in handles {
            h.await.unwrap();
        }
        total += phase.timed(start, all_started, Instant::now());
    }
    total.as_nanos() as f64 / f64::from(rounds)
}

/// Part: what the supervisor builds per child, without a supervisor: a
/// `Many` tied to a parent token, a run started with its context, a task
/// holding the guard running the boxed service; the parent's
/// cancellation ends them all at once (no one-by-one stop), then every
/// handle is awaited.
async fn part_many_tasks(rounds: u32, phase: Phase) -> f64 {
    many_tasks(rounds, phase, Stop::Parent).await
}

/// Part: as above, stopped the way a supervisor must (S10, S11): one by
/// one in reverse start order, each closed and its task awaited before the
/// next is closed.
async fn part_many_tasks_ordered_stop(rounds: u32) -> f64 {
    many_tasks(rounds, Phase::Stop, Stop::OneByOne).await
}

/// Part: as above, each task awaited under a 5 s `tokio::time::timeout`
/// (a timer armed and dropped per child, as a shutdown timeout does).
async fn part_many_tasks_ordered_stop_timeout(rounds: u32) -> f64 {
    many_tasks(rounds, Phase::Stop, Stop::OneByOneTimeout).await
}

/// How the runs of `many_tasks` are stopped.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// The parent token cancelled: all at once.
    Parent,
    /// Each `Many` closed in reverse order, its task awaited.
    OneByOne,
    /// The same, each await under a timeout.
    OneByOneTimeout,
}

async fn many_tasks(rounds: u32, phase: Phase, stop: Stop) -> f64 {
    let mut total = Duration::ZERO;
    for _ in 0..rounds {
        let started = Started::new();
        let token = CancellationToken::new();
        let start = Instant::now();
        let mut handles = Vec::with_capacity(CHILDREN);
        let mut manys = Vec::with_capacity(CHILDREN);
        for _ in 0..CHILDREN {
            let many = Many::with_parent(&token);
            let guard = many.start().unwrap();
            let ctx = guard.context();
            let started = started.clone();
            let run: BoxRun = Box::pin(async move {
                started.one();
                ctx.cancelled().await;
                Ok(())
            });
            handles.push(tokio::spawn(async move {
                let result = AssertUnwindSafe(run).catch_unwind().await;
                drop(guard);
                result.is_ok()
            }));
            manys.push(many);
        }
        started.wait().await;
        let all_started = Instant::now();
        if stop != Stop::Parent {
            for (many, h) in manys.iter().zip(handles).rev() {
                drop(many.close());
                if stop == Stop::OneByOneTimeout {
                    let timeout = Duration::from_secs(5);
                    tokio::time::timeout(timeout, h).await.unwrap().unwrap();
                } else {
                    h.await.unwrap();
                }
            }
        } else {
            token.cancel();
            for h in handles {
                h.await.unwrap();
            }
        }
        total += phase.timed(start, all_started, Instant::now());
        drop(manys);
    }
    total.as_nanos() as f64 / f64::from(rounds)
}

/// Part: one supervisor of 10,000 children (no nesting).
async fn part_flat_supervisor(rounds: u32) -> f64 {
    let mut total = Duration::ZERO;
    for _ in 0..rounds {
        let started = Started::new();
        let sup = flat(&started);
        let token = CancellationToken::new();
        let start = Instant::now();
        let running = tokio::spawn(sup.run(&token));
        started.wait().await;
        token.cancel();
        running.await.unwrap().unwrap();
        total += start.elapsed();
    }
    total.as_nanos() as f64 / f64::from(rounds)
}

// ---- the harness ----

// ---- memory per idle child ----

/// Heap bytes in use: glibc's `mallinfo2` (all arenas: `uordblks`, the
/// chunks in use with their headers, plus `hblkhd`, the mmapped ones).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn heap_bytes() -> Option<u64> {
    #[repr(C)]
    struct Mallinfo2 {
        arena: usize,
        ordblks: usize,
        smblks: usize,
        hblks: usize,
        hblkhd: usize,
        usmblks: usize,
        fsmblks: usize,
        uordblks: usize,
        fordblks: usize,
        keepcost: usize,
    }
    extern "C" {
        fn mallinfo2() -> Mallinfo2;
    }
    // SAFETY: `mallinfo2` (glibc 2.33+) takes no argument and returns the
    // struct by value, laid out as declared above (ten `size_t`s, malloc.h).
    let m = unsafe { mallinfo2() };
    Some((m.uordblks + m.hblkhd) as u64)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn heap_bytes() -> Option<u64> {
    None
}

/// Allocations and heap bytes per child.
#[derive(Clone, Copy)]
struct Cost {
    allocs: f64,
    bytes: Option<f64>,
}

impl std::fmt::Display for Cost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:>6.2} allocations", self.allocs)?;
        match self.bytes {
            Some(b) => write!(f, " {b:>7.0} heap bytes"),
            None => write!(f, " (heap bytes: glibc only)"),
        }
    }
}

/// What `f` allocates and keeps, per child (`CHILDREN` children).
fn measure<R>(f: impl FnOnce() -> R) -> (R, Cost) {
    let (a0, b0) = (allocs(), heap_bytes());
    let r = f();
    let (a1, b1) = (allocs(), heap_bytes());
    let n = CHILDREN as f64;
    let cost = Cost {
        allocs: (a1 - a0) as f64 / n,
        bytes: b0.zip(b1).map(|(b0, b1)| (b1 as f64 - b0 as f64) / n),
    };
    (r, cost)
}

type Ender = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// Runs `sup` until its `CHILDREN` children have started; returns what ends
/// it.
async fn start_idle(sup: Supervisor, started: Arc<Started>) -> Ender {
    let token = CancellationToken::new();
    let running = tokio::spawn(sup.run(&token));
    started.wait().await;
    Box::new(move || {
        Box::pin(async move {
            token.cancel();
            running.await.unwrap().unwrap();
        })
    })
}

/// The cost per child of building `make`'s supervisor (its spec: names,
/// services, builders) and of running it with every child idle.
fn idle_supervisor(
    rt: &tokio::runtime::Runtime,
    make: fn(&Arc<Started>) -> Supervisor,
) -> (Cost, Cost) {
    // Once to size the runtime and the allocator, once measured.
    let started = Started::new();
    let end = on_worker(rt, move || start_idle(make(&started), started));
    on_worker(rt, end);
    let started = Started::new();
    let (sup, spec) = measure(|| make(&started));
    let (end, running) = measure(|| on_worker(rt, move || start_idle(sup, started)));
    on_worker(rt, end);
    (spec, running)
}

/// Part: 10,000 runs of `Many`s tied to one token, each a task holding its
/// guard and running a boxed future under `catch_unwind` (a supervisor's
/// child without the supervisor), idle; returns what ends them.
async fn idle_many_tasks() -> Ender {
    let started = Started::new();
    let token = CancellationToken::new();
    let mut handles = Vec::with_capacity(CHILDREN);
    let mut manys = Vec::with_capacity(CHILDREN);
    for _ in 0..CHILDREN {
        let many = Many::with_parent(&token);
        let guard = many.start().unwrap();
        let ctx = guard.context();
        let started = started.clone();
        let run: BoxRun = Box::pin(async move {
            started.one();
            ctx.cancelled().await;
            Ok(())
        });
        handles.push(tokio::spawn(async move {
            let result = AssertUnwindSafe(run).catch_unwind().await;
            drop(guard);
            result.is_ok()
        }));
        manys.push(many);
    }
    started.wait().await;
    Box::new(move || {
        Box::pin(async move {
            token.cancel();
            for h in handles {
                h.await.unwrap();
            }
            drop(manys);
        })
    })
}

/// The cost per task of 10,000 tasks idle on a token: `start` starts them
/// and returns what ends them.
fn idle_tasks(
    rt: &tokio::runtime::Runtime,
    start: fn() -> Pin<Box<dyn Future<Output = Ender> + Send>>,
) -> Cost {
    let end = on_worker(rt, start);
    on_worker(rt, end);
    let (end, cost) = measure(|| on_worker(rt, start));
    on_worker(rt, end);
    cost
}

async fn idle_tokio_tasks() -> Ender {
    let started = Started::new();
    let token = CancellationToken::new();
    let mut handles = Vec::with_capacity(CHILDREN);
    for _ in 0..CHILDREN {
        let token = token.clone();
        let started = started.clone();
        handles.push(tokio::spawn(async move {
            started.one();
            token.cancelled().await;
        }));
    }
    started.wait().await;
    Box::new(move || {
        Box::pin(async move {
            token.cancel();
            for h in handles {
                h.await.unwrap();
            }
        })
    })
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    // Sections to run: the arguments that are not flags (`restart`, `tree`,
    // `memory`); all if none.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let run = |section: &str| only.is_empty() || only.iter().any(|o| section.contains(o.as_str()));
    let (rounds, restarts, trees) = if quick { (1, 2_000, 1) } else { (9, 20_000, 5) };
    let rt = runtime();

    let restart_cases: [Case; 6] = [
        ("supervisor: child fails -> next run starts", |n| {
            Box::pin(supervisor_restarts(n))
        }),
        ("baseline: Many loop, task per run, await it", |n| {
            Box::pin(many_loop_restarts(n))
        }),
        ("part: supervisor, every run healthy (k = 1)", |n| {
            Box::pin(part_supervisor_healthy(n))
        }),
        ("part: loop + boxed service + catch_unwind", |n| {
            Box::pin(part_boxed_catch_unwind(n))
        }),
        ("part: ... + exit over mpsc, handle dropped", |n| {
            Box::pin(part_exit_message(n))
        }),
        ("part: one clock read (tokio Instant::now)", |n| {
            Box::pin(part_clock_read(n))
        }),
    ];
    if run("restart") {
        let m = alternate(&rt, rounds, &restart_cases, restarts);
        report("restart latency", "ns per restart", &restart_cases, &m);
    }

    let tree_cases: [Case; 12] = [
        ("supervisor tree 100 x 100: start + shutdown", |n| {
            Box::pin(supervisor_tree(n, Phase::Whole))
        }),
        ("baseline 10,000 tokio tasks on a token", |n| {
            Box::pin(tokio_tasks(n, Phase::Whole))
        }),
        ("part: supervisor tree, start phase", |n| {
            Box::pin(supervisor_tree(n, Phase::Start))
        }),
        ("part: baseline, start phase", |n| {
            Box::pin(tokio_tasks(n, Phase::Start))
        }),
        ("part: supervisor tree, shutdown phase", |n| {
            Box::pin(supervisor_tree(n, Phase::Stop))
        }),
        ("part: baseline, shutdown phase", |n| {
            Box::pin(tokio_tasks(n, Phase::Stop))
        }),
        ("part: one supervisor of 10,000", |n| {
            Box::pin(part_flat_supervisor(n))
        }),
        ("part: 10,000 Many runs as tasks, no supervisor", |n| {
            Box::pin(part_many_tasks(n, Phase::Whole))
        }),
        ("part: the same, start phase", |n| {
            Box::pin(part_many_tasks(n, Phase::Start))
        }),
        ("part: the same, shutdown phase", |n| {
            Box::pin(part_many_tasks(n, Phase::Stop))
        }),
        ("part: the same, shutdown one by one (S10)", |n| {
            Box::pin(part_many_tasks_ordered_stop(n))
        }),
        ("part: ... each under a 5 s timeout", |n| {
            Box::pin(part_many_tasks_ordered_stop_timeout(n))
        }),
    ];
    if run("tree") {
        let t = alternate(&rt, rounds, &tree_cases, trees);
        report("a tree of 10,000 children", "ns per tree", &tree_cases, &t);
    }

    if !run("memory") {
        return;
    }
    println!("## memory per idle child (10,000 children waiting on their context)");
    for (name, make) in [
        (
            "supervisor tree 100 x 100",
            tree as fn(&Arc<Started>) -> Supervisor,
        ),
        ("one supervisor of 10,000", flat),
    ] {
        let (spec, running) = idle_supervisor(&rt, make);
        println!("{name:<40} running: {running}; its spec: {spec}");
    }
    println!(
        "{:<40} running: {}",
        "baseline 10,000 tokio tasks on a token",
        idle_tasks(&rt, || Box::pin(idle_tokio_tasks()))
    );
    println!(
        "{:<40} running: {}",
        "part: 10,000 Many runs as tasks",
        idle_tasks(&rt, || Box::pin(idle_many_tasks()))
    );
}
