//! `runcycle::signal::ShutdownSignals` on Unix: the test process sends
//! itself SIGTERM and SIGINT and checks which token each one cancels.
//!
//! `cargo test --features signal --test signal` (with `--features
//! signal,tracing`, it also checks the "shutdown signal received" events).
//!
//! Signals go to the whole process, so this binary holds them all, in one
//! `#[test]` run as phases in order: no other test of the binary can see a
//! signal meant for another. Every wait is bounded (20 s) to turn a lost
//! signal into a failure instead of a hang.

#![cfg(all(unix, feature = "signal"))]

use std::time::Duration;

use runcycle::signal::ShutdownSignals;
use runcycle::CancellationToken;

/// How long a signal may take to cancel its token before the test fails.
const BOUND: Duration = Duration::from_secs(20);

/// Sends this process `signal`.
fn send(signal: libc::c_int) {
    // SAFETY: `kill` and `getpid` are plain system calls with no memory
    // arguments; the handlers `ShutdownSignals::install` registered (tokio's)
    // make SIGTERM and SIGINT harmless to the process.
    let sent = unsafe { libc::kill(libc::getpid(), signal) };
    assert_eq!(sent, 0, "kill: {}", std::io::Error::last_os_error());
}

/// Waits, at most `BOUND`, for `token` to be cancelled.
async fn cancelled(token: &CancellationToken, what: &str) {
    tokio::time::timeout(BOUND, token.cancelled())
        .await
        .unwrap_or_else(|_| panic!("{what}: not cancelled within {BOUND:?}"));
}

/// Waits, at most `BOUND`, for the listening task to end (its `Debug`).
async fn stopped_listening(signals: &ShutdownSignals) {
    tokio::time::timeout(BOUND, async {
        while format!("{signals:?}").contains("listening: true") {
            tokio::task::yield_now().await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("still listening after {BOUND:?}: {signals:?}"));
}

#[test]
fn sigterm_then_sigint_cancel_shutdown_then_abort() {
    // A current-thread runtime: the listening tasks run on this thread, in
    // the order the runtime queues them (phase 3 relies on it), and the
    // tracing subscriber below is this thread's.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    #[cfg(feature = "tracing")]
    let (subscriber, events) = events::recorder();
    let run = || runtime.block_on(phases());
    #[cfg(feature = "tracing")]
    tracing::subscriber::with_default(subscriber, run);
    #[cfg(not(feature = "tracing"))]
    run();
    #[cfg(feature = "tracing")]
    assert_eq!(
        *events.lock().unwrap(),
        [
            // Phase 1.
            r#"signal="SIGTERM" count=1 cancelled="shutdown""#,
            r#"signal="SIGINT" count=2 cancelled="abort""#,
            // Phase 2.
            r#"signal="SIGTERM" count=1 cancelled="abort""#,
            // Phase 3: the witness only (the dropped one is silent).
            r#"signal="SIGTERM" count=1 cancelled="shutdown""#,
        ]
    );
}

async fn phases() {
    // 1. The first signal cancels `shutdown` and not `abort`; the second
    //    cancels `abort`; then the task stops listening.
    let signals = ShutdownSignals::install().unwrap();
    let (shutdown, abort) = (signals.shutdown(), signals.abort());
    assert!(!shutdown.is_cancelled() && !abort.is_cancelled());
    send(libc::SIGTERM);
    cancelled(&shutdown, "shutdown after the first signal").await;
    assert!(
        !abort.is_cancelled(),
        "abort cancelled by the first signal: {signals:?}"
    );
    send(libc::SIGINT);
    cancelled(&abort, "abort after the second signal").await;
    stopped_listening(&signals).await;
    drop(signals);

    // 2. The caller's tokens; a `shutdown` already cancelled (the program
    //    stops by itself): the first signal cancels `abort`.
    let shutdown = CancellationToken::new();
    shutdown.cancel();
    let abort = CancellationToken::new();
    let signals = ShutdownSignals::install_with_tokens(shutdown, abort.clone()).unwrap();
    send(libc::SIGTERM);
    cancelled(&abort, "abort after a signal during a shutdown").await;
    drop(signals);

    // 3. A dropped `ShutdownSignals` no longer listens. A second one is the
    //    witness that the signal was delivered: both listeners are woken by
    //    the same delivery, and the current-thread runtime runs every task
    //    woken then before it polls this future again, so a dropped one
    //    still listening would have cancelled its token by the time the
    //    witness's cancellation is seen here.
    let dropped = ShutdownSignals::install().unwrap();
    let dropped_shutdown = dropped.shutdown();
    let witness = ShutdownSignals::install().unwrap();
    drop(dropped);
    send(libc::SIGTERM);
    cancelled(&witness.shutdown(), "the witness's shutdown").await;
    assert!(
        !dropped_shutdown.is_cancelled(),
        "a dropped ShutdownSignals still cancelled its shutdown token"
    );
    drop(witness);
}

/// Outside a runtime, and on one without IO, `install` panics before it
/// registers anything (no signal is sent here).
#[test]
fn install_panics_outside_a_runtime_and_without_io() {
    let message = |payload: Box<dyn std::any::Any + Send>| match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => payload
            .downcast::<&str>()
            .map_or_else(|_| String::new(), |s| (*s).to_owned()),
    };
    let outside = std::panic::catch_unwind(|| ShutdownSignals::install().map(drop)).unwrap_err();
    let outside = message(outside);
    assert!(
        outside.starts_with(
            "`runcycle::signal::ShutdownSignals::install` must be called from within a tokio runtime ("
        ),
        "{outside}"
    );

    let no_io = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let without_io = std::panic::catch_unwind(|| {
        no_io.block_on(async {
            ShutdownSignals::install_with_tokens(CancellationToken::new(), CancellationToken::new())
                .map(drop)
        })
    })
    .unwrap_err();
    let without_io = message(without_io);
    assert!(without_io.contains("IO is disabled"), "{without_io}");
}

/// The `tracing` feature's "shutdown signal received" events, recorded.
#[cfg(feature = "tracing")]
mod events {
    use std::fmt::Write as _;
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata, Subscriber};

    /// Records the fields of every event of target `runcycle` named
    /// "shutdown signal received", as `name=value` text.
    pub(crate) struct Recorder(Arc<Mutex<Vec<String>>>);

    pub(crate) fn recorder() -> (Recorder, Arc<Mutex<Vec<String>>>) {
        let log = Arc::new(Mutex::new(Vec::new()));
        (Recorder(Arc::clone(&log)), log)
    }

    struct Fields {
        text: String,
        message: String,
    }

    impl Visit for Fields {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            if field.name() == "message" {
                self.message = format!("{value:?}");
            } else {
                let sep = if self.text.is_empty() { "" } else { " " };
                let _ = write!(self.text, "{sep}{}={value:?}", field.name());
            }
        }
    }

    impl Subscriber for Recorder {
        fn enabled(&self, metadata: &Metadata<'_>) -> bool {
            metadata.target() == "runcycle"
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            let mut fields = Fields {
                text: String::new(),
                message: String::new(),
            };
            event.record(&mut fields);
            if fields.message == "shutdown signal received" {
                self.0.lock().unwrap().push(fields.text);
            }
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }
}
