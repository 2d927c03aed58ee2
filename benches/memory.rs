//! Memory figures for BENCHMARKS.md: sizes of the public types, heap
//! allocations per restart, and resident memory around long runs.
//!
//! ```sh
//! cargo bench --bench memory
//! ```
//!
//! It prints figures; the allocation targets are also asserted (a restart
//! without `context()` allocates nothing), so a regression fails the run.

use std::mem::size_of;

use runcycle::{Many, One};
use tokio_util::sync::CancellationToken;

#[path = "common/counting.rs"]
mod counting;
use counting::allocs;

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

fn main() {
    // `cargo bench` passes `--bench`; any other argument is ignored.
    println!("## size_of");
    println!("One: {} bytes", size_of::<One>());
    println!("Many: {} bytes", size_of::<Many>());
    println!("Guard: {} bytes", size_of::<runcycle::Guard>());
    println!("Wait: {} bytes", size_of::<runcycle::Wait>());
    println!("State: {} bytes", size_of::<runcycle::State>());
    println!("StartError: {} bytes", size_of::<runcycle::StartError>());
    println!("Transition: {} bytes", size_of::<runcycle::Transition>());
    println!(
        "Task<(), ()>: {} bytes",
        size_of::<runcycle::Task<(), ()>>()
    );
    println!("Group: {} bytes", size_of::<runcycle::Group>());
    println!("GroupWait: {} bytes", size_of::<runcycle::GroupWait>());
    println!(
        "(CancellationToken: {} bytes)",
        size_of::<CancellationToken>()
    );

    println!("\n## heap allocations per restart (Many with a parent)");
    let parent = CancellationToken::new();
    let many = Many::with_parent(&parent);
    drop(many.start().unwrap());
    let n = 100_000;
    let before = allocs();
    for _ in 0..n {
        drop(many.start().unwrap());
    }
    let without = (allocs() - before) as f64 / f64::from(n);
    let before = allocs();
    for _ in 0..n {
        let guard = many.start().unwrap();
        drop(guard.context());
        drop(guard);
    }
    let with = (allocs() - before) as f64 / f64::from(n);
    let before = allocs();
    for _ in 0..n {
        drop(parent.child_token());
    }
    let token_only = (allocs() - before) as f64 / f64::from(n);
    println!("without context(): {without:.2}");
    println!("with context(): {with:.2} (a child_token() alone: {token_only:.2})");
    assert!(without == 0.0, "a restart without context() allocated");

    println!("\n## resident memory");
    let rss0 = rss_kib();
    for i in 0..1_000_000 {
        let guard = many.start().unwrap();
        if i % 2 == 0 {
            drop(guard.context());
        }
        drop(guard);
    }
    let rss1 = rss_kib();
    println!("1,000,000 restarts of one Many: {rss0} KiB -> {rss1} KiB");

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
