//! Task-side benchmarks for issue #13, measured the way the issue states its
//! targets: a program over the public API, the work spawned from a runtime
//! worker of a 2-worker multi-thread runtime, each case alternated with its
//! baselines in the same run, medians of 9 rounds; ratios printed beside
//! the figures. Allocation counts come from a counting global allocator.
//!
//! ```sh
//! cargo bench --bench tasks            # full run (about a minute)
//! cargo bench --bench tasks -- --quick # one short round (CI's smoke run)
//! ```
//!
//! Cases:
//! * `spawn + await`: `runcycle::spawn` then awaiting the `Task`, against
//!   `tokio::spawn` then awaiting its `JoinHandle` (per task).
//! * `group 1,000`: a `Group` of 1,000 tasks + `wait`, against a `JoinSet`
//!   of 1,000 + draining it and a `TaskTracker` of 1,000 + `wait`.
//! * allocations per task for each of those.
//! * `shutdown 10,000`: `Group::shutdown(deadline)` of 10,000 tasks that
//!   ignore cancellation: the time past the deadline (target <= 10 ms).

use std::hint::black_box;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[path = "common/counting.rs"]
mod counting;
#[path = "common/harness.rs"]
mod harness;
use counting::allocs;
use harness::{alternate, median, on_worker, report, runtime, Bench, Case};

// ---- the cases: each returns nanoseconds per unit of work ----

async fn runcycle_spawn_await(n: u32) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        let task =
            runcycle::spawn(|ctx| async move { Ok::<_, ()>(black_box(&ctx).is_cancelled()) });
        black_box(task.await.unwrap());
    }
    start.elapsed().as_nanos() as f64 / f64::from(n)
}

async fn tokio_spawn_await(n: u32) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        let handle = tokio::spawn(async move { Ok::<_, ()>(black_box(false)) });
        black_box(handle.await.unwrap().unwrap());
    }
    start.elapsed().as_nanos() as f64 / f64::from(n)
}

/// Part: `tokio::spawn` with one new token moved into the task (the floor
/// of any design that gives the task a token of its own).
async fn part_token_moved(n: u32) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        let token = CancellationToken::new();
        let handle = tokio::spawn(async move { Ok::<_, ()>(black_box(&token).is_cancelled()) });
        black_box(handle.await.unwrap().unwrap());
    }
    start.elapsed().as_nanos() as f64 / f64::from(n)
}

/// Part: as above, the spawner keeping a clone (to cancel the task):
/// tokio-util's clone and drop each take the token's lock.
async fn part_token_cloned(n: u32) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        let token = CancellationToken::new();
        let ctx = token.clone();
        let handle = tokio::spawn(async move { Ok::<_, ()>(black_box(&ctx).is_cancelled()) });
        black_box(handle.await.unwrap().unwrap());
        drop(token);
    }
    start.elapsed().as_nanos() as f64 / f64::from(n)
}

/// Part: as above, plus a drop guard that cancels the token when the task
/// ends (what `runcycle::spawn` does, spec/go.md T9).
async fn part_token_cloned_cancel_at_end(n: u32) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        let token = CancellationToken::new();
        let ctx = token.clone();
        let end = token.clone().drop_guard();
        let handle = tokio::spawn(async move {
            let _end = end;
            Ok::<_, ()>(black_box(&ctx).is_cancelled())
        });
        black_box(handle.await.unwrap().unwrap());
        drop(token);
    }
    start.elapsed().as_nanos() as f64 / f64::from(n)
}

const GROUP: u32 = 1_000;

async fn runcycle_group(rounds: u32) -> f64 {
    let start = Instant::now();
    for _ in 0..rounds {
        let group = runcycle::Group::new();
        for _ in 0..GROUP {
            group
                .spawn(|ctx| async move {
                    black_box(&ctx);
                })
                .unwrap();
        }
        group.wait().await.unwrap();
    }
    start.elapsed().as_nanos() as f64 / f64::from(rounds)
}

async fn joinset_group(rounds: u32) -> f64 {
    let start = Instant::now();
    for _ in 0..rounds {
        let mut set = JoinSet::new();
        for _ in 0..GROUP {
            set.spawn(async move {
                black_box(());
            });
        }
        while let Some(r) = set.join_next().await {
            r.unwrap();
        }
    }
    start.elapsed().as_nanos() as f64 / f64::from(rounds)
}

async fn tracker_group(rounds: u32) -> f64 {
    let start = Instant::now();
    for _ in 0..rounds {
        let tracker = TaskTracker::new();
        for _ in 0..GROUP {
            tracker.spawn(async move {
                black_box(());
            });
        }
        tracker.close();
        tracker.wait().await;
    }
    start.elapsed().as_nanos() as f64 / f64::from(rounds)
}

/// Part: the least a wait-for-all can do: 1,000 `tokio::spawn`, each task
/// decrementing one shared counter, the last one waking the spawner
/// through a `tokio::sync::Notify` (no cancellation, no report, no close).
async fn part_countdown_group(rounds: u32) -> f64 {
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    let start = Instant::now();
    for _ in 0..rounds {
        let shared = Arc::new((AtomicUsize::new(GROUP as usize), tokio::sync::Notify::new()));
        let notified = shared.1.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        for _ in 0..GROUP {
            let shared = Arc::clone(&shared);
            drop(tokio::spawn(async move {
                black_box(());
                if shared.0.fetch_sub(1, Ordering::AcqRel) == 1 {
                    shared.1.notify_waiters();
                }
            }));
        }
        if shared.0.load(Ordering::Acquire) != 0 {
            notified.await;
        }
    }
    start.elapsed().as_nanos() as f64 / f64::from(rounds)
}

/// Allocations per unit of `f`, run `n` times on a worker.
fn allocs_per(rt: &tokio::runtime::Runtime, n: u32, f: fn(u32) -> Bench) -> f64 {
    // Warm the runtime's queues and thread-locals first.
    on_worker(rt, move || f(n));
    let before = allocs();
    on_worker(rt, move || f(n));
    let spent = allocs() - before;
    // The `on_worker` wrapper itself allocates (its task): measured apart.
    let before = allocs();
    on_worker(rt, || async { 0.0 });
    let wrapper = allocs() - before;
    (spent - wrapper) as f64 / f64::from(n)
}

fn shutdown_10000(rt: &tokio::runtime::Runtime, deadline: Duration) -> (Duration, usize) {
    on_worker(rt, move || async move {
        let group = runcycle::Group::new();
        for _ in 0..10_000 {
            group
                .spawn(|_ctx| async move {
                    // Ignores cancellation: only an abort ends it.
                    std::future::pending::<()>().await;
                })
                .unwrap();
        }
        let start = Instant::now();
        let report = group.shutdown(deadline).await;
        let took = start.elapsed();
        let aborted = match &report {
            Ok(()) => 0,
            Err(e) => e.aborted().len(),
        };
        (took, aborted)
    })
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (rounds, n, group_rounds) = if quick {
        (1, 2_000, 5)
    } else {
        (9, 100_000, 200)
    };
    let rt = runtime();

    let spawn_cases: [Case; 5] = [
        ("runcycle::spawn + await Task", |n| {
            Box::pin(runcycle_spawn_await(n))
        }),
        ("baseline tokio::spawn + await JoinHandle", |n| {
            Box::pin(tokio_spawn_await(n))
        }),
        ("part: + a token moved in", |n| {
            Box::pin(part_token_moved(n))
        }),
        ("part: + a token, a clone kept", |n| {
            Box::pin(part_token_cloned(n))
        }),
        ("part: + a clone kept, cancel at end", |n| {
            Box::pin(part_token_cloned_cancel_at_end(n))
        }),
    ];
    let m = alternate(&rt, rounds, &spawn_cases, n);
    report("spawn + await", "ns per task", &spawn_cases, &m);

    let group_cases: [Case; 4] = [
        ("runcycle Group 1,000 spawn + wait", |n| {
            Box::pin(runcycle_group(n))
        }),
        ("baseline JoinSet 1,000 spawn + drain", |n| {
            Box::pin(joinset_group(n))
        }),
        ("baseline TaskTracker 1,000 spawn + wait", |n| {
            Box::pin(tracker_group(n))
        }),
        ("part: 1,000 tokio::spawn + countdown", |n| {
            Box::pin(part_countdown_group(n))
        }),
    ];
    let g = alternate(&rt, rounds, &group_cases, group_rounds);
    report("group of 1,000", "ns per group", &group_cases, &g);
    println!("runcycle Group vs TaskTracker: {:.2}x\n", g[0] / g[2]);

    println!("## allocations per task");
    for (name, f) in spawn_cases.iter() {
        println!("{name:<40} {:>6.2}", allocs_per(&rt, 1_000, *f));
    }
    for (name, f) in group_cases.iter() {
        println!(
            "{name:<40} {:>6.2}",
            allocs_per(&rt, 2, *f) / f64::from(GROUP)
        );
    }
    println!();

    println!("## shutdown of 10,000 tasks that ignore cancellation");
    let deadline = Duration::from_millis(100);
    let mut over = Vec::new();
    for _ in 0..rounds {
        let (took, aborted) = shutdown_10000(&rt, deadline);
        assert_eq!(aborted, 10_000, "every task is reported aborted");
        over.push(took.saturating_sub(deadline).as_secs_f64() * 1e3);
    }
    println!(
        "deadline 100 ms: returned {:.2} ms past the deadline (median of {rounds}; target <= 10 ms)",
        median(over)
    );
}
