//! A small service: a worker managed by `Many` that fails twice and is
//! restarted by its supervisor, then a shutdown with a bounded wait.
//!
//! Run it with `cargo run --example service`; it finishes by itself in about
//! a second and exits 0.

use std::time::Duration;

use shot::{Many, State};
use tokio_util::sync::CancellationToken;

/// One run of the worker: the first two runs "lose their connection" after a
/// moment; the third serves until its context is cancelled.
async fn worker(run: u32, ctx: CancellationToken) -> Result<(), String> {
    println!("  [worker] run {run}: serving");
    if run < 3 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        return Err("connection reset by peer".to_string());
    }
    ctx.cancelled().await;
    println!("  [worker] run {run}: context cancelled, draining");
    tokio::time::sleep(Duration::from_millis(50)).await;
    Ok(())
}

#[tokio::main]
async fn main() {
    // The service's root: cancelling it shuts everything down.
    let shutdown = CancellationToken::new();
    let instance = Many::with_parent(&shutdown);
    println!("[main] worker instance: {}", instance.state());

    let mut run = 0;
    let supervisor = {
        let instance = instance.clone();
        tokio::spawn(async move {
            loop {
                let guard = match instance.start() {
                    Ok(guard) => guard,
                    Err(e) => {
                        println!("[supervisor] not restarting: {e}");
                        return;
                    }
                };
                run += 1;
                println!("[supervisor] started run {run}: {}", instance.state());
                let ctx = guard.context();
                // The guard moves into the task: completion is signalled when
                // the task ends, however it ends (even by panicking).
                let task = tokio::spawn(async move {
                    let _guard = guard;
                    worker(run, ctx).await
                });
                match task.await {
                    Ok(Ok(())) => println!("[supervisor] run {run} exited cleanly"),
                    Ok(Err(e)) => println!("[supervisor] run {run} failed: {e}"),
                    Err(e) => println!("[supervisor] run {run} panicked: {e}"),
                }
                println!("[supervisor] worker instance: {}", instance.state());
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };

    tokio::time::sleep(Duration::from_millis(800)).await;
    println!("[main] shutting down: {}", instance.state());
    shutdown.cancel(); // the parent's cancellation closes the instance at once
    match tokio::time::timeout(Duration::from_secs(2), instance.close()).await {
        Ok(()) => println!("[main] worker exited: {}", instance.state()),
        Err(_) => println!("[main] worker did not exit in 2 s: {}", instance.state()),
    }
    supervisor.await.expect("supervisor panicked");
    assert_eq!(instance.state(), State::Closed);
    println!("[main] done");
}
