//! A small service under a supervision tree, which finishes by itself in
//! about two and a half seconds and exits 0:
//!
//! ```text
//! service                     root supervisor, OneForOne, up to 5 restarts in 10 s
//! ├── echo        Permanent   a TCP echo server on 127.0.0.1:0: this run's `Group`
//! │                           holds one task per connection, at most 16 at once
//! ├── client      Permanent   talks to the server; its first two runs fail, and
//! │                           the supervisor restarts it with backoff (100 ms, 200 ms)
//! ├── jobs        Transient   a nested supervisor, up to 2 restarts in 5 s:
//! │   └── import  Transient   fails its first three runs: "jobs" gives up, and the
//! │                           root sees a failure of "jobs" and restarts the subtree;
//! │                           in the new subtree the import completes, so "import"
//! │                           finishes, "jobs" ends with every child finished and,
//! │                           being Transient, is not restarted
//! └── export      Permanent   ignores cancellation: at the shutdown the root waits
//!                             its 500 ms shutdown timeout, then aborts it
//! ```
//!
//! The shutdown comes from a timer at 1.8 s or, with the `signal` feature, from
//! the first Ctrl-C (SIGINT or SIGTERM), whichever comes first; a Ctrl-C after
//! the shutdown began aborts whatever is still running (`abort_on`). The
//! root stops its children in reverse start order. Every decision of both
//! supervisors is printed as it happens (an `on_event` hook, one line per
//! `Event`), and at the end the root's report and each child's counters.
//!
//! There is no restart loop in this file: the supervisor is it.
//!
//! Run it with `cargo run --example service`, or with
//! `cargo run --example service --features signal` and press Ctrl-C (twice
//! to abort the export's grace period).
//!
//! Under `--cfg loom` (the loom suite's build) tokio has no networking, so
//! the example builds to an empty `main` there.

#[cfg(loom)]
fn main() {}

#[cfg(not(loom))]
use std::sync::atomic::{AtomicU32, Ordering};
#[cfg(not(loom))]
use std::sync::Arc;
#[cfg(not(loom))]
use std::time::{Duration, Instant};

#[cfg(not(loom))]
use runcycle::supervise::{
    Backoff, Child, ChildError, Event, Intensity, Restart, Strategy, Supervisor,
};
#[cfg(not(loom))]
use runcycle::{CancellationToken, Context, GroupBuilder};
#[cfg(not(loom))]
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
#[cfg(not(loom))]
use tokio::net::{TcpListener, TcpStream};

/// When the timer shuts the service down, if no signal did first.
#[cfg(not(loom))]
const RUN_FOR: Duration = Duration::from_millis(1800);
/// How long the root waits for the export to stop before aborting it.
#[cfg(not(loom))]
const EXPORT_SHUTDOWN_TIMEOUT: Duration = Duration::from_millis(500);
/// The client's runs that fail (the ones after keep going).
#[cfg(not(loom))]
const CLIENT_FAILING_RUNS: u32 = 2;
/// The import's runs that fail: one more than "jobs" allows restarts, so
/// "jobs" gives up once.
#[cfg(not(loom))]
const IMPORT_FAILING_RUNS: u32 = 3;

/// Prints a line with the time since the start.
#[cfg(not(loom))]
fn log(start: Instant, what: impl std::fmt::Display) {
    println!("{:>6.3}s  {what}", start.elapsed().as_secs_f64());
}

/// The hook both supervisors print their decisions with.
#[cfg(not(loom))]
fn print_events(start: Instant) -> impl Fn(&Event<'_>) + Send + Sync + 'static {
    move |event| log(start, event)
}

/// One run of the echo server: accept connections until `ctx` is
/// cancelled, each served by a task of this run's group, then shut the
/// group down (the connections see the same cancellation).
#[cfg(not(loom))]
async fn serve(start: Instant, listener: Arc<TcpListener>, ctx: Context) -> Result<(), ChildError> {
    let conns = GroupBuilder::new().parent(&ctx).limit(16).build();
    loop {
        // Backpressure: wait for a free slot before accepting.
        let slot = tokio::select! {
            () = ctx.cancelled() => break,
            slot = conns.reserve() => slot?,
        };
        let (stream, peer) = tokio::select! {
            () = ctx.cancelled() => break,
            accepted = listener.accept() => accepted?, // a failure: restarted
        };
        log(start, format!("echo: accepted {peer}"));
        // A refused spawn means the group is closing: drop the connection.
        let _ = slot
            .name(format!("conn {peer}"))
            .spawn(move |ctx| echo(start, stream, ctx));
    }
    conns.shutdown(Duration::from_millis(500)).await?;
    Ok(())
}

/// Echoes lines back until the peer leaves or `ctx` is cancelled.
#[cfg(not(loom))]
async fn echo(start: Instant, stream: TcpStream, ctx: Context) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    while let Some(Ok(Some(line))) = ctx.run_until_cancelled(lines.next_line()).await {
        if write
            .write_all(format!("{line}\n").as_bytes())
            .await
            .is_err()
        {
            break;
        }
    }
    log(start, "echo: connection closed");
}

/// One run of the client: ping every 100 ms. The first
/// `CLIENT_FAILING_RUNS` runs fail after two pings; the next one pings
/// until `ctx` is cancelled.
#[cfg(not(loom))]
async fn client(
    start: Instant,
    run: u32,
    addr: std::net::SocketAddr,
    ctx: Context,
) -> Result<(), ChildError> {
    let stream = TcpStream::connect(addr).await?;
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut pings = 0_u32;
    while ctx
        .run_until_cancelled(tokio::time::sleep(Duration::from_millis(100)))
        .await
        .is_some()
    {
        write
            .write_all(format!("ping {run}.{pings}\n").as_bytes())
            .await?;
        let reply = lines.next_line().await?.unwrap_or_default();
        pings += 1;
        if pings == 1 {
            log(
                start,
                format!("client: run {run}: the server echoed {reply:?}"),
            );
        }
        if run <= CLIENT_FAILING_RUNS && pings == 2 {
            return Err(ChildError::new(format!(
                "lost the session after {pings} pings (simulated)"
            )));
        }
    }
    log(
        start,
        format!("client: run {run}: stopping after {pings} pings"),
    );
    Ok(())
}

/// One run of the import: fails fast its first `IMPORT_FAILING_RUNS` runs
/// (counted across the subtree's runs), then completes after 100 ms.
#[cfg(not(loom))]
async fn import(run: u32, ctx: Context) -> Result<(), ChildError> {
    if run <= IMPORT_FAILING_RUNS {
        tokio::time::sleep(Duration::from_millis(20)).await;
        return Err(ChildError::new(
            "upstream refused the connection (simulated)",
        ));
    }
    match ctx
        .run_until_cancelled(tokio::time::sleep(Duration::from_millis(100)))
        .await
    {
        Some(()) => Ok(()),                          // imported: done for good
        None => Err(ChildError::new("interrupted")), // stopped half-way
    }
}

/// The tokens that stop the service: `shutdown` by the first Ctrl-C
/// (with the `signal` feature) or the timer, `abort` by a Ctrl-C after
/// that.
#[cfg(not(loom))]
struct Stop {
    shutdown: CancellationToken,
    abort: CancellationToken,
    #[cfg(feature = "signal")]
    _signals: runcycle::signal::ShutdownSignals,
}

#[cfg(not(loom))]
impl Stop {
    #[cfg(feature = "signal")]
    fn new(start: Instant) -> Stop {
        let signals = runcycle::signal::ShutdownSignals::install().expect("install the handlers");
        log(start, "main: Ctrl-C shuts down, a second one aborts");
        Stop {
            shutdown: signals.shutdown(),
            abort: signals.abort(),
            _signals: signals,
        }
    }

    #[cfg(not(feature = "signal"))]
    fn new(start: Instant) -> Stop {
        log(
            start,
            "main: no `signal` feature: only the timer shuts down",
        );
        Stop {
            shutdown: CancellationToken::new(),
            abort: CancellationToken::new(),
        }
    }
}

#[cfg(not(loom))]
#[tokio::main]
async fn main() {
    let start = Instant::now();
    let stop = Stop::new(start);

    let listener = Arc::new(
        TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0"),
    );
    let addr = listener.local_addr().expect("a bound address");
    log(start, format!("main: listening on {addr}"));

    // Each child is a function of its run's context, called once per run.
    let echo = Child::new("echo", move |ctx| serve(start, listener.clone(), ctx));

    let client_runs = Arc::new(AtomicU32::new(0));
    let client = Child::new("client", move |ctx| {
        // Relaxed: a counter of runs; the supervisor orders the runs (one
        // at a time), nothing else is published through it.
        let run = client_runs.fetch_add(1, Ordering::Relaxed) + 1;
        client(start, run, addr, ctx)
    });

    let import_runs = Arc::new(AtomicU32::new(0));
    let jobs = Supervisor::builder("jobs")
        // The third restart in 5 s is one too many: "jobs" gives up.
        .intensity(Intensity::new(
            IMPORT_FAILING_RUNS - 1,
            Duration::from_secs(5),
        ))
        .backoff(Backoff::none())
        .child(
            Child::new("import", move |ctx| {
                // Relaxed: a counter of runs, as the client's.
                let run = import_runs.fetch_add(1, Ordering::Relaxed) + 1;
                import(run, ctx)
            })
            // Restarted after a failure, finished once it completes.
            .restart(Restart::Transient),
        )
        .on_event(print_events(start))
        .abort_on(&stop.abort)
        .build();

    let export = Child::new("export", |_ctx| async {
        // Ignores its context: only the abort ends it.
        std::future::pending::<()>().await;
        Ok(())
    })
    .shutdown_timeout(EXPORT_SHUTDOWN_TIMEOUT);

    let root = Supervisor::builder("service")
        .strategy(Strategy::OneForOne)
        .intensity(Intensity::new(5, Duration::from_secs(10)))
        .backoff(Backoff::default().initial(Duration::from_millis(100)))
        .child(echo)
        .child(client)
        // The subtree's escalation is a failure of "jobs" here: Transient
        // restarts it (as Permanent would; OTP would not, its supervisor
        // exits with reason `shutdown`), and finishes it once it ends by
        // itself (Permanent would start it again); Temporary would finish
        // it at the first escalation.
        .child(Child::supervisor(jobs).restart(Restart::Transient))
        .child(export)
        .on_event(print_events(start))
        .abort_on(&stop.abort)
        .build();

    // The timer, unless a signal came first.
    let timer = {
        let shutdown = stop.shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = shutdown.cancelled() => {
                    log(start, "main: signal: shutting down (Ctrl-C again to abort)");
                    false
                }
                () = tokio::time::sleep(RUN_FOR) => {
                    log(start, "main: timer: shutting down");
                    shutdown.cancel();
                    true
                }
            }
        })
    };

    let ended = root.run(&stop.shutdown).await;
    let by_timer = timer.await.expect("the timer task panicked");

    let report = match ended {
        Ok(report) => report,
        Err(e) => {
            // Gave up or stopped the tree: not this example's plan.
            log(start, format!("main: {e}"));
            std::process::exit(1);
        }
    };
    log(start, format!("main: {report}"));
    for child in report.children() {
        let last = child
            .last_exit()
            .map_or_else(|| "none".to_string(), ToString::to_string);
        println!(
            "          {:<7} runs {}, failures {}, last exit: {last}",
            child.name(),
            child.runs(),
            child.failures(),
        );
    }

    // With the timer, the plan in the doc comment above happened.
    if by_timer {
        let stats = |name: &str| {
            report
                .children()
                .iter()
                .find(|c| c.name() == name)
                .map(|c| (c.runs(), c.failures()))
        };
        assert_eq!(stats("echo"), Some((1, 0)));
        assert_eq!(
            stats("client"),
            Some((u64::from(CLIENT_FAILING_RUNS) + 1, 2))
        );
        assert_eq!(stats("jobs"), Some((2, 1)));
        let late: Vec<_> = report
            .not_stopped_in_time()
            .iter()
            .map(|c| c.name())
            .collect();
        assert_eq!(late, ["export"]);
    }
}
