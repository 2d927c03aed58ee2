//! A small service built on runcycle, which finishes by itself in about two
//! seconds and exits 0:
//!
//! * a `Group` runs a TCP echo server on 127.0.0.1:0 (an acceptor task and
//!   one named task per connection, all sharing the group's context, at most
//!   16 at once: the acceptor waits for a free slot before it accepts);
//!   one more task in it, a "slow export", ignores cancellation;
//! * a client worker managed by `Many` talks to it; its first two runs fail
//!   and its supervisor restarts it, the third run keeps going;
//! * a `Task` runs a background job (a "metrics flusher") whose result is
//!   awaited at the end;
//! * then a shutdown: one root token is cancelled, and every part is waited
//!   for with a bounded wait; the group's `shutdown(500 ms)` aborts the task
//!   that ignored the cancellation and the example prints what was aborted.
//!
//! Run it with `cargo run --example service`.
//!
//! Under `--cfg loom` (the loom suite's build) tokio has no networking, so
//! the example builds to an empty `main` there.

#[cfg(loom)]
fn main() {}

#[cfg(not(loom))]
use std::time::{Duration, Instant};

#[cfg(not(loom))]
use runcycle::{CancellationToken, Group, GroupBuilder, Many, State, TaskBuilder};
#[cfg(not(loom))]
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
#[cfg(not(loom))]
use tokio::net::{TcpListener, TcpStream};

/// Prints a line with the time since the start.
#[cfg(not(loom))]
fn log(start: Instant, who: &str, what: impl std::fmt::Display) {
    println!("{:>6.3}s  {who:<10} {what}", start.elapsed().as_secs_f64());
}

/// The echo server: an acceptor and one task per connection, in `group`.
#[cfg(not(loom))]
async fn serve(start: Instant, group: Group) -> std::io::Result<std::net::SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let conns = group.clone();
    group
        .build_task()
        .name("acceptor")
        .spawn(move |ctx| async move {
            loop {
                // Backpressure: wait for a free slot before accepting.
                let slot = tokio::select! {
                    () = ctx.cancelled() => return Ok::<(), std::io::Error>(()),
                    slot = conns.reserve() => match slot {
                        Ok(slot) => slot,
                        Err(_closed) => return Ok(()),
                    },
                };
                let (stream, peer) = tokio::select! {
                    () = ctx.cancelled() => return Ok(()),
                    accepted = listener.accept() => accepted?,
                };
                log(start, "server", format!("accepted {peer}"));
                // A refused spawn means the group is closing: drop the connection.
                let _ = slot
                    .name(format!("conn {peer}"))
                    .spawn(move |ctx| echo(start, stream, ctx));
            }
        })
        .expect("the group is open");
    Ok(addr)
}

#[cfg(not(loom))]
async fn echo(start: Instant, stream: TcpStream, ctx: runcycle::Context) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    loop {
        let line = tokio::select! {
            () = ctx.cancelled() => break,
            line = lines.next_line() => line,
        };
        match line {
            Ok(Some(line)) => {
                if write
                    .write_all(format!("{line}\n").as_bytes())
                    .await
                    .is_err()
                {
                    break;
                }
            }
            _ => break,
        }
    }
    log(start, "server", "connection closed");
}

/// One run of the client worker. Runs 1 and 2 give up after two pings with
/// an error; run 3 pings until its context is cancelled.
#[cfg(not(loom))]
async fn client(
    start: Instant,
    run: u32,
    addr: std::net::SocketAddr,
    ctx: runcycle::Context,
) -> Result<u32, String> {
    let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut pings = 0;
    loop {
        tokio::select! {
            () = ctx.cancelled() => return Ok(pings),
            () = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
        write
            .write_all(format!("ping {run}.{pings}\n").as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let reply = lines.next_line().await.map_err(|e| e.to_string())?;
        pings += 1;
        if pings == 1 {
            let reply = reply.unwrap_or_default();
            log(
                start,
                "worker",
                format!("run {run}: server echoed {reply:?}"),
            );
        }
        if run < 3 && pings == 2 {
            return Err(format!("run {run}: simulated failure after {pings} pings"));
        }
    }
}

#[cfg(not(loom))]
#[tokio::main]
async fn main() {
    let start = Instant::now();
    // The service's root: cancelling it shuts everything down.
    let shutdown = CancellationToken::new();

    // 1. The echo server, in a group of at most 16 tasks at once.
    let server: Group = GroupBuilder::new().parent(&shutdown).limit(16).build();
    let addr = serve(start, server.clone())
        .await
        .expect("bind 127.0.0.1:0");
    log(start, "server", format!("listening on {addr}"));
    // A task that ignores its context: only an abort ends it.
    server
        .build_task()
        .name("slow export")
        .spawn(|_ctx| async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        })
        .expect("the group is open");

    // 2. A background job, as a task tied to the root.
    let flusher = TaskBuilder::new()
        .parent(&shutdown)
        .spawn(move |ctx| async move {
            let mut flushes = 0_u32;
            loop {
                tokio::select! {
                    () = ctx.cancelled() => break,
                    () = tokio::time::sleep(Duration::from_millis(250)) => flushes += 1,
                }
            }
            log(
                start,
                "flusher",
                format!("stopping after {flushes} flushes"),
            );
            Ok::<_, std::io::Error>(flushes)
        });

    // 3. The client worker, one run at a time, restarted by its supervisor.
    let worker = Many::with_parent(&shutdown);
    log(start, "worker", format!("state: {}", worker.state()));
    let supervisor = {
        let worker = worker.clone();
        tokio::spawn(async move {
            let mut run = 0;
            loop {
                let guard = match worker.start() {
                    Ok(guard) => guard,
                    Err(e) => {
                        log(start, "supervisor", format!("not restarting: {e}"));
                        return;
                    }
                };
                run += 1;
                log(
                    start,
                    "worker",
                    format!("state: {} (run {run})", worker.state()),
                );
                let ctx = guard.context();
                // The guard moves into the task: completion is signalled when
                // the task ends, however it ends (even by panicking).
                let task = tokio::spawn(async move {
                    let _guard = guard;
                    client(start, run, addr, ctx).await
                });
                match task.await {
                    Ok(Ok(pings)) => log(
                        start,
                        "worker",
                        format!("run {run} exited cleanly after {pings} pings"),
                    ),
                    Ok(Err(e)) => log(start, "worker", format!("failed: {e}")),
                    Err(e) => log(start, "worker", format!("run {run} panicked: {e}")),
                }
                log(start, "worker", format!("state: {}", worker.state()));
                if worker.state() == State::Stopped {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    log(start, "supervisor", "restarting the worker");
                }
            }
        })
    };

    tokio::time::sleep(Duration::from_millis(1300)).await;

    // 4. Shutdown: one cancellation, then bounded waits.
    log(start, "main", "shutdown requested");
    shutdown.cancel(); // closes the worker at once; cancels the group and the task
    let bound = Duration::from_secs(2);
    match tokio::time::timeout(bound, worker.close()).await {
        Ok(()) => log(
            start,
            "main",
            format!("worker {} within {bound:?}", worker.state()),
        ),
        Err(_) => log(start, "worker", format!("did not exit within {bound:?}")),
    }
    // Close, wait up to 500 ms, abort what is still running, report.
    let grace = Duration::from_millis(500);
    match server.shutdown(grace).await {
        Ok(()) => unreachable!("the slow export ignores cancellation: it must be aborted"),
        Err(report) => {
            assert!(report
                .aborted()
                .iter()
                .any(|t| t.name() == Some("slow export")));
            for task in report.aborted() {
                // "task 9 \"slow export\": task aborted before it finished (...)"
                log(start, "server", format!("aborted {task}"));
            }
            if let Some(e) = report.error() {
                log(start, "server", format!("error: {e}"));
            }
        }
    }
    // A task is a future of its outcome; `shutdown` bounds the wait and
    // aborts it if it does not return in time.
    match flusher.shutdown(bound).await {
        Ok(n) => log(start, "main", format!("flusher returned {n} flushes")),
        Err(e) => log(start, "flusher", format!("failed: {e}")),
    }
    supervisor.await.expect("the supervisor panicked");
    assert_eq!(worker.state(), State::Closed);
    log(start, "main", "bye");
}
