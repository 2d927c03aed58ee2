//! Supervision: children restarted by a policy, in trees, with an ordered
//! shutdown (feature `tokio`; the rules are `spec/supervise.md`, S1-S14).
//!
//! A [`Supervisor`] runs [`Child`]ren, each an async function of its
//! [`Context`](crate::Context) (or a [`Service`]) run under a
//! [`Many`](crate::Many), and decides after every exit, by a pure policy
//! function: the child's [`Restart`] type, the supervisor's [`Strategy`], a
//! [`Backoff`] and the restart [`Intensity`]. A supervisor is itself a child
//! of another ([`Child::supervisor`]). Every decision is an [`Event`]; the
//! end is a [`Report`] (or, when it gave up or a child stopped the tree, a
//! [`SupervisorError`] with the report inside).
//!
//! # Quick start
//!
//! A child that fails twice and then serves; the supervisor restarts it
//! after 100 ms, then 200 ms, and stops it when the program shuts down:
//!
//! ```
//! # if runcycle::__LOOM { return; }
//! # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true)
//! #     .build().unwrap().block_on(async { // tokio's paused clock: the delays are exact
//! use std::sync::atomic::{AtomicU32, Ordering};
//! use std::sync::Arc;
//! use std::time::Duration;
//! use runcycle::supervise::{Backoff, Child, ChildError, Supervisor};
//!
//! let attempts = Arc::new(AtomicU32::new(0));
//! let db = Child::new("db", move |ctx| {
//!     // Relaxed: a counter; the supervisor runs one attempt at a time.
//!     let attempt = attempts.fetch_add(1, Ordering::Relaxed) + 1;
//!     async move {
//!         if attempt < 3 {
//!             return Err(ChildError::new("connection refused")); // restarted
//!         }
//!         ctx.cancelled().await; // serve until asked to stop
//!         Ok(())
//!     }
//! });
//! let sup = Supervisor::builder("app")
//!     .backoff(Backoff::default().initial(Duration::from_millis(100)).jitter(0.0))
//!     .child(db)
//!     .on_event(|event| println!("{event}")) // one line per decision
//!     .build();
//!
//! // The run as a task: `shutdown` cancels it (the supervisor stops its
//! // children in reverse order), waits up to 30 s, then aborts it, and
//! // aborting a supervisor's run aborts every child (S13).
//! let app = runcycle::spawn(move |ctx| sup.run(&ctx));
//! tokio::time::sleep(Duration::from_secs(1)).await;
//! let report = app.shutdown(Duration::from_secs(30)).await?;
//! let db = &report.children()[0];
//! assert_eq!((db.runs(), db.failures()), (3, 2));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! A whole program (a tree with a nested supervisor that gives up, Ctrl-C
//! and a report) is `examples/service.rs`.
//!
//! # Coming from Erlang/OTP's `supervisor`
//!
//! | OTP | here |
//! |---|---|
//! | strategies `one_for_one`, `one_for_all`, `rest_for_one` | [`Strategy::OneForOne`] (the default, as OTP's), [`Strategy::OneForAll`], [`Strategy::RestForOne`] (S6) |
//! | `simple_one_for_one` | none: children are fixed when the supervisor is built |
//! | restart types `permanent`, `transient`, `temporary` | [`Restart::Permanent`] (the default, as OTP's), [`Restart::Transient`], [`Restart::Temporary`] (S4); a `Temporary` child stopped by a sibling's restart is finished, not restarted, as in OTP |
//! | `intensity`, `period` (defaults 1 and 5 s) | [`Intensity::new(max_restarts, period)`](Intensity::new), same rule: more than `max_restarts` restarts in `period` gives up (S5); the default here is **3 in 5 s** |
//! | `shutdown` = milliseconds (default 5000 for a worker) | [`Child::shutdown_timeout`] (default 5 s): the run's context is cancelled, then it is aborted if it has not returned (S11) |
//! | `shutdown` = `infinity` (the default for a supervisor child) | [`Child::no_shutdown_timeout`]; the default of [`Child::supervisor`] |
//! | `shutdown` = `brutal_kill` | `shutdown_timeout(Duration::ZERO)`: the context is cancelled and the task aborted at once (a future cannot be killed between two polls: it is dropped at its next yield) |
//! | child order: started in order, terminated in reverse | the same: start order is the order of [`SupervisorBuilder::child`] calls; stops are in reverse (S1, S10) |
//! | escalation: a supervisor past its intensity terminates its children, then itself | the same (S5, S10): it ends with [`StopReason::GaveUp`] and its parent sees a `Failed` exit. **Differs**: OTP's supervisor then exits with reason `shutdown`, which a `transient` parent entry does not restart; here giving up is a failure, so a `Transient` subtree *is* restarted (use `Temporary` not to) |
//! | `significant` children and `auto_shutdown` (default `never`) | no per-child flag: a supervisor ends with [`StopReason::AllDone`] once *every* child is finished, as `auto_shutdown => all_significant` with every child significant (S10); no `any_significant`, and no supervisor that stays up empty |
//! | child type `worker` / `supervisor` | [`Child::new`] or [`Child::service`] / [`Child::supervisor`] |
//! | `start_child`, `terminate_child`, `restart_child`, `delete_child`, `which_children`, `count_children` | only [`Supervisor::children`] (counters, read-only): no adding, removing, stopping or restarting one child from outside at run time |
//! | a child's start function failing (`{error, _}`) | no separate start phase: a run that fails early is a failure like any other |
//! | SASL supervisor reports | [`SupervisorBuilder::on_event`], and `tracing` events (feature `tracing`, target `runcycle`) |
//!
//! # Coming from Go's suture (v4)
//!
//! | suture | here |
//! |---|---|
//! | `Service.Serve(ctx) error`, returning when `ctx` is done | [`Service::serve`]`(ctx)` or a closure `Fn(Context) -> impl Future<Output = Result<(), ChildError>>`, returning when [`Context::cancelled`](crate::Context::cancelled) fires |
//! | a service that returns (`nil` or an error) is restarted | [`Restart::Permanent`] (the default); `Transient` and `Temporary` have no suture equivalent |
//! | `ErrDoNotRestart` | [`ChildError::do_not_restart`] (finished, whatever its restart type, S4) |
//! | `ErrTerminateSupervisorTree` | [`ChildError::stop_tree`]: this supervisor and every one above it stop (S4, S12); no `DontPropagateTermination` |
//! | `FailureThreshold` (5), `FailureDecay` (30 s): a decaying failure count per supervisor | [`Intensity`]: a count of restarts in a sliding `period`; past it the supervisor **gives up and escalates**, where suture pauses and keeps going |
//! | `FailureBackoff` (15 s) with `BackoffJitter`: every restart of the supervisor paused | [`Backoff`] per child: exponential (`initial`, `factor`, `max`), with `jitter`, reset after a healthy run (`reset_after`); a seed ([`SupervisorBuilder::jitter_seed`]) replays the delays |
//! | `Timeout` (10 s) per supervisor | [`Child::shutdown_timeout`] per child (5 s) |
//! | `EventHook` (events: service terminate, panic, backoff, resume, stop timeout) | [`SupervisorBuilder::on_event`]: [`Event`] (start, exit, restart decision, finish, stop timeout, stopping, end); a nested supervisor keeps its own hook (suture copies the parent's on `Add`) |
//! | `UnstoppedServiceReport`: services that did not stop, still running | [`Report::not_stopped_in_time`]: those runs were **aborted**, nothing is left running (S11, S13) |
//! | panics recovered (`PassThroughPanics` to let them crash) | panics always caught: [`Exit::Panicked`], a failure with its payload; no pass-through option |
//! | `Serve(ctx)` / `ServeBackground(ctx)` | [`Supervisor::run`]`(&parent)`, a future: await it, `tokio::spawn` it, or `runcycle::spawn` it for a bounded `Task::shutdown` or a `Task::blocking_join` from a plain thread |
//! | `Add` and `Remove` while running | none: children are fixed when the supervisor is built |
//!
//! # Coming from tokio-graceful-shutdown
//!
//! | tokio-graceful-shutdown | here |
//! |---|---|
//! | `Toplevel` | the root [`Supervisor`], run under a root token |
//! | a subsystem: `async fn(SubsystemHandle) -> Result<(), E>` | a [`Child`]: `Fn(Context) -> impl Future<Output = Result<(), ChildError>>`, called again on each restart (a subsystem runs once) |
//! | nested subsystems (`SubsystemHandle::start`) | children fixed at build; a subtree is a [`Child::supervisor`]; a run can still start tasks of its own in a `Group` under its context |
//! | `SubsystemHandle::on_shutdown_requested` | [`Context::cancelled`](crate::Context::cancelled) |
//! | `SubsystemHandle::request_shutdown` (the whole program) | [`ChildError::stop_tree`] (the tree ends with an error), or cancel the root token (it ends with [`StopReason::Shutdown`]) |
//! | `catch_signals()` | `runcycle::signal::ShutdownSignals` (feature `signal`): run the root under its `shutdown()` token and give [`SupervisorBuilder::abort_on`] its `abort()` token: the second Ctrl-C aborts what is still stopping |
//! | `handle_shutdown_requests(timeout)`: one global shutdown timeout | per-child [`Child::shutdown_timeout`]s; for one global bound, `runcycle::spawn` the run and `Task::shutdown(timeout)` it (the quick start above) |
//! | error and panic forwarding: a failure shuts the program down (`ErrorAction::Forward`), or only its subtree (`CatchAndLocalShutdown`) | a failure is a **restart decision**, not a shutdown; only giving up or `stop_tree` escalates. For "any failure stops everything", `Intensity::new(0, period)` gives up at the first restart |
//! | partial shutdown of a subtree (`NestedSubsystem::initiate_shutdown`), `detached` | none: a subtree stops when its supervisor decides it (a restart, a give-up) or when its parent stops |
//! | the collected errors at the end | the [`Report`]: each child's runs, failures and last [`Exit`] |
//!
//! # What this crate adds
//!
//! - **A policy that is a pure function, checked against a model.** The
//!   decisions (S4-S7) are `policy.rs`, without runtime or I/O, and
//!   `tests/model_supervise.rs` runs the whole supervisor against an
//!   independent reference model of the rules on random histories, under
//!   tokio's paused clock. Each child is a [`Many`](crate::Many), whose
//!   transitions the loom models check.
//! - **No run twice at once, no run after the end.** A child's next run
//!   starts only after the supervisor has seen the previous one end (S2),
//!   and at the end each child's `Many` is closed, a close that is atomic
//!   with its starts: a late start is refused, not raced (S10).
//! - **Nothing left detached.** A run that does not stop in time is
//!   aborted and reported (S11); dropping a supervisor's run aborts every
//!   child (S13).
//! - **Exact delays and replayable jitter**: everything is on tokio's clock
//!   (tests run paused) and the jitter's generator takes a seed.
//! - **Async and blocking waits** from the crate's other parts: a run
//!   spawned with `runcycle::spawn` is a `Task` that a plain thread can
//!   `blocking_join`.
//!
//! # What it does not do
//!
//! - No dynamic children: no adding, removing, stopping or restarting one
//!   child at run time (OTP's `start_child`/`terminate_child`, suture's
//!   `Add`/`Remove`, `simple_one_for_one`); build a new supervisor.
//! - No per-child `significant` flag and no `auto_shutdown` choice: a
//!   supervisor ends when every child is finished, and not before.
//! - No supervisor-wide pause after too many failures (suture's
//!   `FailureBackoff`): past its intensity a supervisor gives up.
//! - No option to let panics through (suture's `PassThroughPanics`).
//! - No stopping of one subtree from outside (tokio-graceful-shutdown's
//!   partial shutdown); no hook inherited by nested supervisors.
//! - No single global shutdown deadline of its own: per-child timeouts,
//!   `abort_on`, or a `Task::shutdown` bound around the run.
//! - Tokio only: children are tokio tasks on the supervisor's runtime.

mod child;
mod event;
mod policy;
mod report;
mod run;
mod supervisor;

pub use child::{Child, ChildError, Service};
pub use event::Event;
pub use policy::{Backoff, Intensity, Restart, Strategy};
pub use report::{ChildStats, Exit, Report, StopReason, SupervisorError};
pub use supervisor::{Supervisor, SupervisorBuilder};
