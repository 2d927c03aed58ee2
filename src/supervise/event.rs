//! [`Event`]: every decision a supervisor makes, in order, for a hook and
//! (feature `tracing`) as `tracing` events (spec/supervise.md, S14).

use core::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::supervise::report::{Exit, StopReason};

/// One thing a supervisor did or saw, passed to the hook given with
/// [`SupervisorBuilder::on_event`](crate::supervise::SupervisorBuilder::on_event).
///
/// Borrowed: the hook runs inside the supervisor, between two decisions,
/// and should return quickly (send the event to a channel to do more).
/// `Display` gives one line per event.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true)
/// #     .build().unwrap().block_on(async { // tokio's paused clock: durations are exact
/// use std::sync::{Arc, Mutex};
/// use runcycle::supervise::{Child, Event, Restart, Supervisor};
///
/// let log = Arc::new(Mutex::new(Vec::new()));
/// let sink = log.clone();
/// let sup = Supervisor::builder("app")
///     .child(Child::new("once", |_ctx| async { Ok(()) }).restart(Restart::Temporary))
///     .on_event(move |e: &Event<'_>| sink.lock().unwrap().push(e.to_string()))
///     .build();
/// sup.run(&runcycle::CancellationToken::new()).await.unwrap();
/// assert_eq!(
///     *log.lock().unwrap(),
///     [
///         "app: started \"once\" (run 1)",
///         "app: \"once\" (run 1) completed after 0ns",
///         "app: \"once\" finished",
///         "app: stopping: every child finished",
///         "app: ended: every child finished",
///     ]
/// );
/// # });
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A run of `child` started.
    Started {
        /// The supervisor's name.
        supervisor: &'a str,
        /// The child's name.
        child: &'a str,
        /// The run's number (1 for the first).
        run: u64,
    },
    /// A run of `child` ended.
    Exited {
        /// The supervisor's name.
        supervisor: &'a str,
        /// The child's name.
        child: &'a str,
        /// The run's number.
        run: u64,
        /// How it ended.
        exit: &'a Exit,
        /// Whether the supervisor had asked it to stop (a strategy restart
        /// or the shutdown); a requested exit takes no decision of its own.
        requested: bool,
        /// How long the run lasted.
        ran_for: Duration,
    },
    /// A restart decision: `children` restart after `delay`.
    Restarting {
        /// The supervisor's name.
        supervisor: &'a str,
        /// The child whose exit caused it.
        cause: &'a str,
        /// The restart set, in start order (S6).
        children: &'a [Arc<str>],
        /// The backoff before they start again (S7).
        delay: Duration,
        /// Restarts in the intensity period, this one included (S5).
        restarts: u32,
    },
    /// `child` will not run again (S4).
    Finished {
        /// The supervisor's name.
        supervisor: &'a str,
        /// The child's name.
        child: &'a str,
    },
    /// A run did not stop within its shutdown timeout: it is aborted (S11).
    StopTimedOut {
        /// The supervisor's name.
        supervisor: &'a str,
        /// The child's name.
        child: &'a str,
        /// The timeout it exceeded (zero after an abort request).
        timeout: Duration,
    },
    /// The supervisor is shutting down (S10): gave up, stop tree,
    /// shutdown or every child finished.
    Stopping {
        /// The supervisor's name.
        supervisor: &'a str,
        /// Why.
        reason: &'a StopReason,
    },
    /// The supervisor ended: every child has stopped.
    Ended {
        /// The supervisor's name.
        supervisor: &'a str,
        /// Why.
        reason: &'a StopReason,
    },
}

impl fmt::Display for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Started {
                supervisor,
                child,
                run,
            } => write!(f, "{supervisor}: started \"{child}\" (run {run})"),
            Event::Exited {
                supervisor,
                child,
                run,
                exit,
                requested,
                ran_for,
            } => {
                let how = if *requested { ", as asked" } else { "" };
                write!(
                    f,
                    "{supervisor}: \"{child}\" (run {run}) {exit} after {ran_for:?}{how}"
                )
            }
            Event::Restarting {
                supervisor,
                cause,
                children,
                delay,
                restarts,
            } => {
                write!(f, "{supervisor}: restarting")?;
                for (i, c) in children.iter().enumerate() {
                    let sep = if i == 0 { " " } else { ", " };
                    write!(f, "{sep}\"{c}\"")?;
                }
                write!(
                    f,
                    " in {delay:?} (cause \"{cause}\", restart {restarts} in the period)"
                )
            }
            Event::Finished { supervisor, child } => {
                write!(f, "{supervisor}: \"{child}\" finished")
            }
            Event::StopTimedOut {
                supervisor,
                child,
                timeout,
            } => write!(
                f,
                "{supervisor}: \"{child}\" did not stop within {timeout:?}: aborted"
            ),
            Event::Stopping { supervisor, reason } => write!(f, "{supervisor}: stopping: {reason}"),
            Event::Ended { supervisor, reason } => write!(f, "{supervisor}: ended: {reason}"),
        }
    }
}

/// The hook's type.
pub(crate) type Hook = Arc<dyn Fn(&Event<'_>) + Send + Sync + 'static>;

/// Passes `event` to the hook and to `tracing`.
pub(crate) fn emit(hook: Option<&Hook>, event: &Event<'_>) {
    #[cfg(feature = "tracing")]
    trace_event(event);
    if let Some(hook) = hook {
        hook(event);
    }
}

#[cfg(feature = "tracing")]
fn trace_event(event: &Event<'_>) {
    match event {
        Event::Started {
            supervisor,
            child,
            run,
        } => tracing::debug!(target: "runcycle", supervisor, child, run, "child started"),
        Event::Exited {
            supervisor,
            child,
            run,
            exit,
            requested,
            ran_for,
        } => tracing::debug!(
            target: "runcycle",
            supervisor, child, run, requested,
            exit = %exit, ran_for = ?ran_for,
            "child exited"
        ),
        Event::Restarting {
            supervisor,
            cause,
            children,
            delay,
            restarts,
        } => tracing::info!(
            target: "runcycle",
            supervisor, cause, restarts, children = children.len(), delay = ?delay,
            "restarting"
        ),
        Event::Finished { supervisor, child } => {
            tracing::debug!(target: "runcycle", supervisor, child, "child finished");
        }
        Event::StopTimedOut {
            supervisor,
            child,
            timeout,
        } => tracing::warn!(
            target: "runcycle",
            supervisor, child, timeout = ?timeout,
            "child did not stop in time: aborted"
        ),
        Event::Stopping { supervisor, reason } => {
            tracing::info!(target: "runcycle", supervisor, reason = %reason, "supervisor stopping");
        }
        Event::Ended { supervisor, reason } => {
            tracing::info!(target: "runcycle", supervisor, reason = %reason, "supervisor ended");
        }
    }
}
