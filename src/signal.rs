//! Process signals as cancellation (feature `signal`): the first SIGINT or
//! SIGTERM (Ctrl-C) cancels a *shutdown* token, the next one an *abort*
//! token.
//!
//! [`ShutdownSignals::install`] registers the handlers at the call and spawns
//! one small task on the current tokio runtime that turns signals into
//! cancellations:
//!
//! - the first signal cancels [`shutdown`](ShutdownSignals::shutdown): the
//!   root of the program's tokens (a [`Group`](crate::Group)'s parent, a
//!   supervision tree's root): "stop, cleanly";
//! - a signal that arrives once `shutdown` is cancelled (by the first signal
//!   or by anyone else: a timer, the program ending by itself) cancels
//!   [`abort`](ShutdownSignals::abort): "stop waiting for what has not
//!   stopped yet, abort it now". Race it against a graceful wait
//!   (`Group::shutdown`, `Task::shutdown`) and abort what is left
//!   (`Group::abort_all`).
//!
//! Once `abort` is cancelled (by a signal or by anyone), the task has
//! nothing left to do and ends. With the `tracing` feature, each signal
//! received is an `info` event, target `runcycle`, "shutdown signal
//! received", with the signal's name, how many signals this
//! `ShutdownSignals` has received, and the token it cancelled.
//!
//! # Examples
//!
//! A group of workers stopped by Ctrl-C, with a grace period that a second
//! Ctrl-C cuts short (here the first "signal" is a cancel by hand, so the
//! example runs; in a program the user's Ctrl-C does it):
//!
//! ```
//! # if runcycle::__LOOM { return; }
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::time::Duration;
//! use runcycle::signal::ShutdownSignals;
//! use runcycle::Group;
//!
//! let signals = ShutdownSignals::install()?;   // handlers registered here
//! let group = Group::with_parent(&signals.shutdown());
//! for _ in 0..3 {
//!     group.spawn(|ctx| async move {
//!         ctx.cancelled().await;                // serve until the first signal
//!     })?;
//! }
//!
//! signals.shutdown().cancel();                 // (what the first Ctrl-C does)
//! signals.shutdown().cancelled().await;        // a program waits here
//! let abort = signals.abort();
//! tokio::select! {
//!     report = group.shutdown(Duration::from_secs(30)) => report?,
//!     () = abort.cancelled() => group.abort_all(), // a second Ctrl-C
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! A program's `main`, waiting for a real signal:
//!
//! ```no_run
//! use runcycle::signal::ShutdownSignals;
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let signals = ShutdownSignals::install()?;
//!     let shutdown = signals.shutdown();
//!     // ... start the program's tasks under `shutdown`
//!     shutdown.cancelled().await;
//!     println!("shutting down; Ctrl-C again to abort");
//!     // ... wait for the tasks, racing `signals.abort().cancelled()`
//!     Ok(())
//! }
//! ```
//!
//! # Platforms
//!
//! - **Unix**: SIGINT (Ctrl-C in a terminal) and SIGTERM (`kill`, a
//!   container's or a service manager's stop) count alike. As in tokio,
//!   signals of one kind that arrive before the task has seen the previous
//!   one are coalesced into one: a second signal counts once the task has
//!   handled the first (it does so as soon as the runtime runs it).
//! - **Windows**: Ctrl-C, closing the console window (`CTRL_CLOSE_EVENT`)
//!   and a system shutdown (`CTRL_SHUTDOWN_EVENT`, which Windows sends to
//!   services; an interactive program is ended at shutdown). For a close or a
//!   shutdown, Windows ends the process a few seconds after the event (the
//!   system's timeout; tokio keeps the handler from returning until then)
//!   whatever the program does: the grace period is what Windows allows.
//!   Not compiled nor run on Windows by this crate's CI.
//! - Elsewhere `install` returns an error of kind `Unsupported`.
//!
//! # After a drop, and after the abort
//!
//! Dropping the `ShutdownSignals`, or the abort, ends its task, but the
//! handlers stay: tokio never unregisters an OS signal handler. On Unix, a
//! later SIGINT or SIGTERM is caught by tokio and ignored (unless another
//! listener takes it): the default action, ending the process, does **not**
//! come back. A program that must end however stuck it is can exit by
//! itself once `abort` fires (`std::process::exit(130)`, say, after a last
//! short wait). On Windows, tokio passes a Ctrl-C that no listener
//! takes to the next handler, so the default (ending the process) does come
//! back.

use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::pin;
use std::task::{Context, Poll};

use tokio::runtime::Handle as Runtime;
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;

/// Turns SIGINT/SIGTERM (Ctrl-C) into cancellations: the first one cancels
/// [`shutdown`](Self::shutdown), the next one [`abort`](Self::abort). The
/// [module docs](self) tell what each platform catches.
///
/// Compared with tokio's `signal::ctrl_c()`, which resolves once per call:
/// this listens for both signals at once, from the moment `install`
/// returns, counts them, and hands the result out as two tokens that any
/// number of tasks, groups and supervisors can watch or race.
///
/// It listens until it is dropped or `abort` is cancelled; dropping it does
/// not cancel the tokens.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use runcycle::signal::ShutdownSignals;
///
/// let signals = ShutdownSignals::install()?;
/// let shutdown = signals.shutdown(); // a clone: the root of the program's tokens
/// assert!(!shutdown.is_cancelled()); // until the first SIGINT or SIGTERM
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
#[must_use = "dropping `ShutdownSignals` stops listening: keep it as long as signals should shut down the program"]
pub struct ShutdownSignals {
    shutdown: CancellationToken,
    abort: CancellationToken,
    /// The listening task, aborted on drop.
    task: AbortHandle,
}

impl ShutdownSignals {
    /// Registers the handlers for SIGINT and SIGTERM (on Windows Ctrl-C,
    /// console close and shutdown) and starts listening, with two new
    /// tokens.
    ///
    /// The handlers are registered before this returns: a signal sent after
    /// it is not lost, even before the listening task first runs (tokio
    /// records it and wakes the task).
    ///
    /// # Errors
    ///
    /// If the OS refuses to register a handler (tokio's error), and, on a
    /// platform other than Unix and Windows, an error of kind
    /// `Unsupported`.
    ///
    /// # Panics
    ///
    /// At the caller's line, outside a tokio runtime (with the message
    /// "`runcycle::signal::ShutdownSignals::install` must be called from
    /// within a tokio runtime (...)"), and, on Unix, on a runtime built
    /// without IO (tokio's panic, "... IO is disabled ...": build it with
    /// `enable_io` or `enable_all`, as `#[tokio::main]` and `Runtime::new`
    /// do). Nothing is registered then.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let signals = runcycle::signal::ShutdownSignals::install()?;
    /// assert!(!signals.abort().is_cancelled());
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    #[track_caller]
    pub fn install() -> io::Result<ShutdownSignals> {
        install(
            "install",
            CancellationToken::new(),
            CancellationToken::new(),
        )
    }

    /// [`install`](Self::install), cancelling the caller's tokens: a
    /// program's existing root token as `shutdown`, say.
    ///
    /// A signal that arrives while `shutdown` is already cancelled cancels
    /// `abort` (so with a `shutdown` cancelled beforehand, the first signal
    /// aborts). If `abort` is already cancelled, the task ends at once.
    ///
    /// # Errors
    ///
    /// As [`install`](Self::install).
    ///
    /// # Panics
    ///
    /// As [`install`](Self::install) (the message names
    /// `install_with_tokens`).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use runcycle::signal::ShutdownSignals;
    /// use runcycle::CancellationToken;
    ///
    /// let root = CancellationToken::new();
    /// let signals = ShutdownSignals::install_with_tokens(root.clone(), CancellationToken::new())?;
    /// root.cancel();                      // the program stops by itself...
    /// assert!(signals.shutdown().is_cancelled());
    /// // ... and a Ctrl-C from now on cancels `signals.abort()`.
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    #[track_caller]
    pub fn install_with_tokens(
        shutdown: CancellationToken,
        abort: CancellationToken,
    ) -> io::Result<ShutdownSignals> {
        install("install_with_tokens", shutdown, abort)
    }

    /// The shutdown token (a clone): cancelled by the first signal.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let signals = runcycle::signal::ShutdownSignals::install()?;
    /// let group = runcycle::Group::with_parent(&signals.shutdown());
    /// assert!(!group.context().is_cancelled());
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn shutdown(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// The abort token (a clone): cancelled by a signal that arrives once
    /// [`shutdown`](Self::shutdown) is cancelled, the second one.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let signals = runcycle::signal::ShutdownSignals::install()?;
    /// let abort = signals.abort();
    /// assert!(!abort.is_cancelled()); // until a signal after the shutdown
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn abort(&self) -> CancellationToken {
        self.abort.clone()
    }
}

impl Drop for ShutdownSignals {
    /// Ends the listening task (tokio's abort: it stops at its next
    /// poll). The tokens are left as they are; the OS handlers stay (module
    /// docs).
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl fmt::Debug for ShutdownSignals {
    // Token flags and the task's finished flag: atomic reads, no lock.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShutdownSignals")
            .field("shutdown_cancelled", &self.shutdown.is_cancelled())
            .field("abort_cancelled", &self.abort.is_cancelled())
            .field("listening", &!self.task.is_finished())
            .finish()
    }
}

/// `install` and `install_with_tokens`: the runtime check, the handlers
/// (registered here, on the caller's thread), then the task.
#[track_caller]
fn install(
    call: &str,
    shutdown: CancellationToken,
    abort: CancellationToken,
) -> io::Result<ShutdownSignals> {
    let runtime = match Runtime::try_current() {
        Ok(runtime) => runtime,
        Err(e) => panic!(
            "`runcycle::signal::ShutdownSignals::{call}` must be called from within a tokio runtime ({e})"
        ),
    };
    let listeners = Listeners::new()?;
    let task = runtime
        .spawn(listen(listeners, shutdown.clone(), abort.clone()))
        .abort_handle();
    Ok(ShutdownSignals {
        shutdown,
        abort,
        task,
    })
}

/// The listening task: each signal cancels `shutdown`, or `abort` if
/// `shutdown` is already cancelled; it returns once `abort` is cancelled.
async fn listen(mut listeners: Listeners, shutdown: CancellationToken, abort: CancellationToken) {
    let mut aborted = pin!(abort.cancelled());
    #[cfg(feature = "tracing")]
    let mut count: u64 = 0;
    loop {
        // `abort` first: once it is cancelled, a pending signal has nothing
        // left to cancel. Both are polled on every wake, so neither wakeup
        // is lost (each poll registers this task's waker).
        let next = poll_fn(|cx| {
            if aborted.as_mut().poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            listeners.poll_next(cx).map(Some)
        })
        .await;
        let Some(signal) = next else { return };
        let cancelled = if shutdown.is_cancelled() {
            abort.cancel();
            "abort"
        } else {
            shutdown.cancel();
            "shutdown"
        };
        #[cfg(feature = "tracing")]
        {
            count += 1;
            tracing::info!(
                target: "runcycle",
                { signal, count, cancelled },
                "shutdown signal received"
            );
        }
        #[cfg(not(feature = "tracing"))]
        let _ = (signal, cancelled);
    }
}

/// tokio's listeners, one per signal kind; each is registered with the OS
/// when it is created.
struct Listeners {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(windows)]
    ctrl_c: tokio::signal::windows::CtrlC,
    #[cfg(windows)]
    ctrl_close: tokio::signal::windows::CtrlClose,
    #[cfg(windows)]
    ctrl_shutdown: tokio::signal::windows::CtrlShutdown,
}

impl Listeners {
    /// Registers every handler (tokio's `signal(kind)` registers the OS
    /// handler and subscribes the listener before it returns, so a signal
    /// after this is seen by the next poll).
    #[cfg(unix)]
    #[track_caller]
    fn new() -> io::Result<Listeners> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Listeners {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    #[cfg(windows)]
    #[track_caller]
    fn new() -> io::Result<Listeners> {
        use tokio::signal::windows::{ctrl_c, ctrl_close, ctrl_shutdown};
        Ok(Listeners {
            ctrl_c: ctrl_c()?,
            ctrl_close: ctrl_close()?,
            ctrl_shutdown: ctrl_shutdown()?,
        })
    }

    #[cfg(not(any(unix, windows)))]
    fn new() -> io::Result<Listeners> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "runcycle::signal: signals are supported on Unix and Windows only",
        ))
    }

    /// The name of the next signal received. Every listener is polled on
    /// each call (until one is ready), so each has this task's waker.
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<&'static str> {
        #[cfg(unix)]
        {
            if self.interrupt.poll_recv(cx).is_ready() {
                return Poll::Ready("SIGINT");
            }
            if self.terminate.poll_recv(cx).is_ready() {
                return Poll::Ready("SIGTERM");
            }
        }
        #[cfg(windows)]
        {
            if self.ctrl_c.poll_recv(cx).is_ready() {
                return Poll::Ready("ctrl_c");
            }
            if self.ctrl_close.poll_recv(cx).is_ready() {
                return Poll::Ready("ctrl_close");
            }
            if self.ctrl_shutdown.poll_recv(cx).is_ready() {
                return Poll::Ready("ctrl_shutdown");
            }
        }
        #[cfg(not(any(unix, windows)))]
        let _ = cx;
        Poll::Pending
    }
}

/// Compile-time check that the handle can cross threads.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<ShutdownSignals>();
};
