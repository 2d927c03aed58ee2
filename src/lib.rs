//! Lifecycle primitives for concurrent code: run an instance at most once
//! ([`One`]) or one run at a time with restarts ([`Many`]), each run with its
//! own cancellation context, tokio tasks and groups that never lose an error
//! or a panic, and waits that work from async code and from threads.
//!
//! A Rust port, and an improvement, of the Go package `shot` v0.4.3 (a table
//! from Go to Rust is [below](#go-to-rust)).
//!
//! # Quick start (async)
//!
//! A worker run by a [`Many`] as a tokio task, stopped, restarted and closed:
//!
//! ```
//! # if runcycle::__LOOM { return; }
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use runcycle::{Many, State};
//!
//! let worker = Many::new();
//! for _ in 0..2 {
//!     let guard = worker.start()?;     // Err(StartError::Running) while a run is in progress
//!     let ctx = guard.context();       // this run's cancellation context (read-only)
//!     tokio::spawn(async move {
//!         let _guard = guard;          // the run ends when its guard drops, panics included
//!         ctx.cancelled().await;       // ... work until asked to stop
//!     });
//!     worker.stop()?.await;            // cancel the run, wait until it has exited
//!     assert_eq!(worker.state(), State::Stopped);
//! }
//! worker.close();                      // for good: no run starts again (nothing to wait for)
//! assert_eq!(worker.state(), State::Closed);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! A shutdown with a deadline: tasks in a `Group` and a single `Task`, tied to
//! one root token. `shutdown(grace)` cancels, waits up to `grace`, then aborts
//! what is still running and reports it, by id and name, with every error and
//! panic:
//!
//! ```
//! # if runcycle::__LOOM { return; }
//! # #[cfg(feature = "tokio")] // Group and tasks are the `tokio` feature's
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::time::Duration;
//! use runcycle::{CancellationToken, Group, TaskBuilder};
//!
//! let shutdown = CancellationToken::new(); // cancel it on Ctrl-C, say
//! let group = Group::with_parent(&shutdown);
//! for i in 0..3 {
//!     group.build_task().name(format!("worker {i}")).spawn(|ctx| async move {
//!         ctx.cancelled().await;           // serve until the shutdown
//!     })?;                                 // Err(ClosedError) once the group is closed
//! }
//! group.build_task().name("stuck").spawn(|_ctx| async {
//!     std::future::pending::<()>().await   // ignores its context
//! })?;
//! let flusher = TaskBuilder::new().parent(&shutdown).spawn(|ctx| async move {
//!     ctx.cancelled().await;
//!     Ok::<_, std::io::Error>("flushed")   // a task's value or error comes back to its owner
//! });
//!
//! shutdown.cancel();
//! let grace = Duration::from_millis(500);
//! let report = group.shutdown(grace).await.unwrap_err(); // close, wait, abort, report
//! for task in report.aborted() {
//!     println!("{task}"); // task 17 "stuck": task aborted before it finished (...)
//! }
//! # assert_eq!(report.aborted().iter().map(|t| t.name()).collect::<Vec<_>>(), [Some("stuck")]);
//! let flushed = flusher.shutdown(grace).await?; // a Task is a future of its outcome
//! assert_eq!(flushed, "flushed");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! A supervision tree (`supervise`): children restarted by a policy
//! (restart types, one-for-one / one-for-all / rest-for-one, exponential
//! backoff with jitter, a restart intensity that gives up and escalates),
//! nested supervisors, an ordered shutdown with a timeout per child, and an
//! event for every decision:
//!
//! ```
//! # if runcycle::__LOOM { return; }
//! # #[cfg(feature = "tokio")]
//! # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true)
//! #     .build().unwrap().block_on(async {
//! use std::time::Duration;
//! use runcycle::CancellationToken;
//! use runcycle::supervise::{Backoff, Child, ChildError, Supervisor};
//!
//! let shutdown = CancellationToken::new(); // or runcycle::signal::ShutdownSignals (feature `signal`)
//! let sup = Supervisor::builder("app")
//!     .backoff(Backoff::default().initial(Duration::from_millis(10)))
//!     .child(Child::new("server", |ctx| async move {
//!         ctx.cancelled().await;           // serve until the shutdown
//!         Ok(())
//!     }))
//!     .child(Child::new("uplink", |_ctx| async {
//!         tokio::time::sleep(Duration::from_millis(5)).await;
//!         Err(ChildError::new("connection lost")) // restarted after 10 ms, 20 ms, ...
//!     }))
//!     .on_event(|event| println!("{event}")) // app: restarting "uplink" in 10ms (...)
//!     .build();
//! let running = tokio::spawn(sup.run(&shutdown));
//! tokio::time::sleep(Duration::from_millis(50)).await;
//! shutdown.cancel();                       // children stop in reverse order, each within its timeout
//! let report = running.await??;
//! println!("{report}");                    // supervisor "app" shut down
//! # assert_eq!(report.children()[1].runs(), 3);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # From threads
//!
//! [`One`] and [`Many`] need no runtime: the same calls work from plain
//! threads, with blocking waits ([`Wait::wait`], `wait_timeout`,
//! `wait_deadline`, and the same on the `Transition` that `stop()` and
//! `close()` return):
//!
//! ```
//! # if runcycle::__LOOM { return Ok(()); }
//! use std::time::Duration;
//! use runcycle::{One, State};
//!
//! let one = One::new();                   // runs at most once
//! let guard = one.start()?;
//! let ctx = guard.context();
//! let worker = std::thread::spawn(move || {
//!     while !ctx.is_cancelled() {
//!         std::thread::yield_now();       // ... work
//!     }
//!     guard.complete();                   // this run is finished (dropping the guard is the same)
//! });
//! one.close().wait_timeout(Duration::from_secs(5))?; // cancel, wait for the exit, at most 5 s
//! worker.join().unwrap();
//! assert_eq!(one.state(), State::Closed);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A complete program, a small service under a supervision tree (a TCP echo
//! server, a client worker restarted with backoff, a nested `Supervisor`
//! that gives up and escalates, a child aborted at its shutdown timeout;
//! stopped by a timer or Ctrl-C, printing every decision and the report), is
//! [`examples/service.rs`](https://docs.rs/crate/runcycle/latest/source/examples/service.rs):
//! `cargo run --example service` in a clone of the repository.
//!
//! # Two rules
//!
//! **Dropping the last handle closes the instance.** A [`One`] or [`Many`] is
//! a cheap handle (clones share the instance); when the last one is dropped,
//! the instance closes: the current run's context is cancelled and no run can
//! start again (a [`Guard`] or a [`Wait`] does not keep it open). This is
//! unlike Go, where a `shot.Many` never closes by itself. So keep a handle
//! for as long as the instance should live (in the struct that owns the
//! service, say): `let guard = Many::new().start()?;` drops the `Many` at the
//! end of the statement, so the run it just started has its context
//! cancelled at once (the instance is closing).
//! A `Task` or a `Group` dropped does not cancel its tasks: they are
//! detached, as with tokio's `JoinHandle`.
//!
//! **Never wait for your own run.** A run ends only when its [`Guard`]
//! drops, so `stop()?.await`, `close().await`, `done().await` or their
//! blocking forms (`.wait()`), called by the code that holds the guard, never
//! return; the same holds for a `Group` task waiting on its own group and a
//! task on its own `Task`. Inside a run, stop or close without waiting (the
//! call changes the state at once; drop the `Transition` it returns) or drop
//! the guard. With the `tokio` feature, the blocking waits ([`Wait::wait`],
//! `wait_timeout`, `wait_deadline`, their `Transition` twins,
//! `GroupWait::wait`) panic on a thread that drives a tokio runtime, as
//! tokio's own blocking calls do: `.await` them there, or call them from
//! `spawn_blocking`.
//!
//! # Go to Rust
//!
//! Every identifier of Go's `shot` v0.4.3 and its Rust spelling. Rows
//! without a receiver are methods of both `One` and `Many`.
//!
//! | Go | Rust |
//! |---|---|
//! | `One`, `Many` | [`One`], [`Many`]: cheap handles, clones share the instance; **dropping the last one closes it** (Go's never close by themselves) |
//! | `NewOne(ctx)`, `NewMany(ctx)` | [`One::with_parent`], [`Many::with_parent`] (a [`CancellationToken`] or another run's [`Context`]); `One::new()`, `Many::new()` without a parent |
//! | `Start() (stop func(), err error)` | `start() -> Result<Guard, StartError>` ([`StartError`]); Go's `stop` func is the [`Guard`]: [`Guard::complete`] or dropping it, exactly once, also on panic |
//! | `State()` | `state() -> State` (one atomic load) |
//! | `Context()` | `context() -> Context`: read-only like Go's (`is_cancelled`, `cancelled().await`, `child_token()`); only the instance cancels it |
//! | `Done()` | `done() -> Wait`: a future, and `wait`, `wait_timeout`, `wait_deadline` from threads |
//! | `Close(ctx) error` | `close().await` (or `.wait()` from a thread): `close() -> Transition` ([`Transition`]); the close happens at the call; bound the wait with `tokio::time::timeout` or `wait_timeout` where Go passes `ctx` |
//! | `Close2(ctx) (prev State, err error)` | `let t = close();` then `t.previous()` and `t.await` |
//! | `Cancel() (prev State)` | `close().previous()`, or `close();` alone: dropping the `Transition` does not undo the close |
//! | `(*Many).Stop(ctx) error` | `Many::stop()?.await`: `stop() -> Result<Transition, ClosedError>` |
//! | `(*Many).Stop2(ctx) (prev State, err error)` | `let t = many.stop()?;` then `t.previous()` and `t.await` |
//! | `(*Many).Halt() (prev State, err error)` | `many.stop().map(\|t\| t.previous())`: stop without waiting |
//! | `ErrRunning` | `StartError::Running` ("already running") |
//! | `ErrClosed` | `StartError::Closed` from `start`, `ClosedError` from `stop` and `Group::spawn` (both "closed"; `?` turns a `ClosedError` into a `StartError`) |
//! | `State` | [`State`] |
//! | `StateCreated`, `StateRunning`, `StateStopped`, `StateClosed` | `State::Created`, `State::Running`, `State::Stopped`, `State::Closed` |
//! | `(State).String()` | `Display`: "created", "running", "stopped", "closed" |
//! | `Go(f) *G` | `spawn(f) -> Task<T, E>` (`f(ctx)` returns a future of `Result<T, E>`) on the current runtime; `spawn_on(f, &handle)` from any thread |
//! | `GoCtx(ctx, f) *G` | `TaskBuilder::new().parent(&ctx).spawn(f)` (or `.spawn_on(f, &handle)`) |
//! | `G` | `Task<T, E>`, a future of `Result<T, TaskError<E>>` (it is tokio's `JoinHandle`, plus the context); also `abort()`, `abort_handle()`, `id()`, `name()` |
//! | `(*G).Cancel()` | `Task::cancel()`: cancels the task's context, does not wait |
//! | `(*G).Close(ctx) error` | `task.cancel(); task.await`, or `Task::shutdown(timeout)`: cancel, wait up to `timeout`, then abort |
//! | `(*G).Done()` | `.await` the `Task`; `Task::is_finished()`; `blocking_join()` from threads |
//! | `(*G).Err() error` | the `Err` of awaiting the `Task`: `TaskError::Failed(e)` (owned), `Panicked(p)` with the payload, or `Aborted` |
//! | `Group` | `Group`: a cheap handle, clones share the group; dropping it does not cancel the tasks |
//! | `NewGroup(ctx)` | `Group::with_parent(&ctx)`, or `Group::new()` |
//! | `(*Group).Go(fn)` | `Group::spawn(f) -> Result<TaskId, ClosedError>` (refused once closed); `f(ctx)` returns `()` or `Result<T, E>`, whose first error cancels the group (Go's `errgroup` mode); `Group::spawn_on(f, &handle)` from any thread |
//! | `errgroup`'s `SetLimit(n)`, `Go`, `TryGo` | `GroupBuilder::new().limit(n).build()`; `reserve().await` then `Slot::spawn(f)` waits for a slot; `try_spawn(f)` refuses when full (`TrySpawnError::Full`); `spawn(f)` queues the task |
//! | `(*Group).Cancel()` | `Group::cancel()` |
//! | `(*Group).Context()` | `Group::context() -> Context` |
//! | `(*Group).Wait()` | `Group::wait() -> GroupWait`: a future, or `wait()` from threads; every error, panic and abort reported in a `GroupError` (`error()` is the first error, as errgroup's `Wait`) |
//! | `(*Group).Close()` | `Group::close() -> GroupWait`: refuses new tasks at the call (atomically), cancels the context, then the same wait; `shutdown(timeout)` / `blocking_shutdown(timeout)` add the deadline and the abort |
//! | (none) | `join_next().await` (each task's value or failure, in completion order), `abort_all()` |
//!
//! # Compared with
//!
//! **tokio-util's `CancellationToken`** (this crate builds on it and
//! re-exports it). A token is a signal only: it has no state, no notion of a
//! run that has exited, and nothing to wait on but the cancellation itself.
//! This crate adds the lifecycle around it: states, at most one run at a
//! time, a fresh context per run for restarts, a close that atomically
//! refuses new starts, and a wait for the run's *exit* (a future and a
//! blocking wait). It does not replace the token: contexts are tokens seen
//! read-only, and `Context::child_token()` gives a token for your own tree.
//!
//! **tokio-util's `TaskTracker`.** A tracker waits for a set of tasks; its
//! `close()` only lets `wait()` finish (spawning after it is still accepted),
//! and it neither cancels, aborts, limits nor collects results. `Group` adds a
//! shared context (cancelled by `close`, `cancel`, the parent, a task's first
//! error, a panic or an abort), a close that refuses new tasks atomically, a
//! limit, `abort_all`, a deadline `shutdown`, and a report of every error,
//! panic and abort with the task's id and name; its waits also work from
//! threads. It does not track arbitrary futures or other spawners.
//!
//! **tokio's `JoinSet`.** A `JoinSet` owns its tasks: it yields each task's
//! result (`join_next`), aborts them all on `abort_all` or when dropped.
//! `Group` has both (`join_next`, `abort_all`), and a clone-able handle
//! (spawn, join and wait from any task or thread), a context shared by its
//! tasks so they can clean up before an abort, a limit with `reserve` and
//! `try_spawn`, a deadline shutdown, and a report that keeps every failure;
//! dropping a `Group` detaches its tasks instead of aborting them. A
//! `Group<()>` does not keep successes, so a long-lived server group that
//! nobody drains does not grow (a `JoinSet` keeps every result until joined).
//!
//! **tokio-graceful-shutdown.** A whole-program framework: a tree of named
//! subsystems, Ctrl-C and SIGTERM handling, a global shutdown timeout, error
//! and panic propagation, partial shutdown of a subtree. `supervise` covers
//! the same ground (nested supervisors, signals with the `signal` feature,
//! failures and panics forwarded up the tree, a timeout per child, and a
//! global one by running the root as a `Task` with `shutdown(timeout)`)
//! and adds restart policies in the manner of Erlang/OTP (restart types,
//! strategies, backoff, restart intensity with escalation), decided by a
//! pure function checked against a reference model. Below it sits a lower
//! layer: restartable runs ([`Many`]), a runtime-free core usable from
//! threads and any executor, and a state machine checked against a written
//! spec (loom, proptest, mutation testing). It has no partial shutdown of a
//! named subtree on request and no children added while a supervisor runs.
//!
//! **Go's `shot` v0.4.3.** The same lifecycle and the same transition table.
//! Here the completion handle is a [`Guard`] that cannot be forgotten or
//! called twice and ends the run on panic; one `stop()` and one `close()`
//! return a `Transition` (the previous state and the wait) instead of
//! `Stop`/`Stop2`/`Halt` and `Close`/`Close2`/`Cancel`; waits are futures
//! and blocking waits at once; a close refuses new starts atomically; a
//! parent's cancellation is applied inside the parent's `cancel()`; panics in
//! tasks are caught and reported, never lost. What it does not do: take a
//! context to bound a wait (use a timeout); and, unlike Go, dropping the last
//! handle closes the instance.
//!
//! # Semantics
//!
//! The lifecycle is one transition table, shared as data by [`One`] and
//! [`Many`], with six phases: Created, Running, Stopping, Closing, Stopped,
//! Closed ([`State`] shows four: Stopping and Closing are `Running`, since the
//! run has not exited yet). It is written out in
//! [`spec/transitions.md`](https://docs.rs/crate/runcycle/latest/source/spec/transitions.md)
//! (rules in
//! [`spec/README.md`](https://docs.rs/crate/runcycle/latest/source/spec/README.md),
//! tasks and groups in
//! [`spec/go.md`](https://docs.rs/crate/runcycle/latest/source/spec/go.md),
//! supervision in
//! [`spec/supervise.md`](https://docs.rs/crate/runcycle/latest/source/spec/supervise.md)),
//! and a test checks the code's table against it cell by cell. Calls change
//! the state when they are made, not when their wait is awaited. A parent's
//! cancellation is applied inside the parent's `cancel()` once the instance
//! has been read (its first `state()`, `context()`, `done()` or `closed()`
//! arms the watch), and by every call before that: no call on the instance
//! can see the parent cancelled and the instance not.
//! Besides [`done`](Many::done) (the current run's exit),
//! [`Many::closed`] waits until the instance is Closed, and
//! [`Many::run_number`] / [`Guard::run_number`] number the runs from 1.
//!
//! # Features
//!
//! - `tokio` (default): `spawn`, `spawn_on`, `TaskBuilder`, `Task` and
//!   `Group`, tasks on tokio, and `supervise`, supervision trees. Without it, [`One`] and [`Many`] need no
//!   runtime: they depend on tokio-util for [`CancellationToken`] (re-exported
//!   here, so no tokio-util line is needed in your `Cargo.toml`) and on
//!   event-listener for the waits.
//! - `tracing` (off by default): one `trace` event, target `runcycle`, per
//!   state transition (instance, kind, event, from, to, run), two per task,
//!   one per supervisor decision. Compiled out when off.
//! - `signal` (off by default, implies `tokio`): `signal::ShutdownSignals`,
//!   SIGINT/SIGTERM (Ctrl-C) as a shutdown token, a second one as an abort.
//!
//! # How it is verified (for contributors)
//!
//! In a clone of the repository:
//!
//! ```sh
//! cargo test                                    # spec check, every spec row, integration and proptest model tests, doc examples
//! RUSTFLAGS="--cfg loom" cargo test --release   # loom: every interleaving (within bounds) of the real code
//! PROPTEST_CASES=100000 cargo test --test model_sequential --test model_concurrent   # a deep proptest run
//! bash .ci/mutants                              # mutation testing with cargo-mutants
//! bash .ci/run                                  # everything CI runs
//! ```
//!
//! The spec check compares the code's table with `spec/transitions.md` cell
//! by cell; proptest compares random operation sequences (and concurrent
//! histories, for linearizability) with a reference model of the spec;
//! loom explores the interleavings of two and three threads on the real
//! code (`loom-tests/`); each of them is shown to catch planted bugs.
//! Mutation testing: no mutant of the core (`src/lifecycle/`) survives the
//! tests (the few equivalent ones are excluded, each with its reason)
//! ([`MUTANTS.md`](https://docs.rs/crate/runcycle/latest/source/MUTANTS.md)
//! has the figures). The README has the details.

#![deny(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unreachable_pub
)]
#![forbid(unsafe_code)]
#![warn(clippy::pedantic)]
// docs.rs builds with `--cfg docsrs` (Cargo.toml, [package.metadata.docs.rs])
// on nightly: `doc_cfg` shows each feature-gated item's feature ("Available
// on crate feature tokio only"). Since Rust 1.92 `doc_auto_cfg` is merged
// into `doc_cfg` (rust-lang/rust#138907; naming `doc_auto_cfg` is now error
// E0557), and `doc_cfg` alone derives the badges from the `#[cfg]`s.
#![cfg_attr(docsrs, feature(doc_cfg))]

// The layers are folders: `lifecycle/` is the runtime-free core (its
// `mod.rs` lists its own layers), `task/` the tokio wing built on it, whole
// behind the one `cfg` below; `sync.rs` is the atomics and locks shim (std
// or loom). Supervision (issue #14) gets its own folder on top of both. A
// lower layer never imports a higher one. The core reads the `tokio`
// feature in one place, `lifecycle/block.rs`: with tokio present it can
// refuse a blocking wait on a runtime thread (spec/README.md, section 12).
mod lifecycle;
#[cfg(feature = "signal")]
pub mod signal;
#[cfg(feature = "tokio")]
pub mod supervise;
mod sync;
#[cfg(feature = "tokio")]
mod task;

pub use lifecycle::closed::ClosedWait;
pub use lifecycle::context::{Context, Parent};
pub use lifecycle::error::{ClosedError, StartError, TimedOut};
pub use lifecycle::guard::Guard;
pub use lifecycle::many::Many;
pub use lifecycle::one::One;
pub use lifecycle::state::State;
pub use lifecycle::transition::Transition;
pub use lifecycle::wait::Wait;
#[cfg(feature = "tokio")]
pub use task::group::{
    BoxError, Group, GroupBuilder, GroupError, GroupTaskBuilder, GroupTaskOutput, GroupWait,
    SharedError, Slot, TaskFailure, TrySpawnError,
};
#[cfg(feature = "tokio")]
pub use task::panic::{Panic, TaskError};
#[cfg(feature = "tokio")]
pub use task::spawn::{spawn, spawn_on, Task, TaskAbortHandle, TaskBuilder, TaskId};

/// The group's lock-free parts for the loom suite (`loom-tests/group.rs`);
/// only with `--cfg loom`. Not API.
#[cfg(all(loom, feature = "tokio"))]
#[doc(hidden)]
pub use task::group::loom_facade::LoomGroup as __LoomGroup;
/// tokio-util's token, re-exported: `with_parent` takes one, and a
/// [`Context`] hands out children of the run's token as this type.
pub use tokio_util::sync::CancellationToken;

/// `true` when the crate was built with `--cfg loom`. Doc examples start with
/// a hidden `if runcycle::__LOOM { return; }`: under loom every atomic must live
/// inside a `loom::model`, which a doc example is not, so they skip there
/// (the loom suite in `loom-tests/` covers that build).
//
// Why it exists, and why it cannot go (issue #12 asked): the loom command,
// `RUSTFLAGS="--cfg loom" cargo test`, also runs the doctests. Cargo passes
// RUSTFLAGS to rustc only; rustdoc gets RUSTDOCFLAGS. So each doctest is
// compiled *without* `cfg(loom)` (a `cfg!(loom)` written in the example is
// false) but linked against this library built *with* it, whose atomics
// (src/sync.rs) are loom's and panic outside `loom::model` ("cannot access
// Loom execution state from outside a Loom model"). The example cannot see
// the library's cfg by itself; this constant, evaluated when the library is
// compiled, carries it over. Checked on cargo 1.95 with a two-function crate
// (`pub const LOOM: bool = cfg!(loom)` and a fn touching a loom atomic):
// under `RUSTFLAGS="--cfg loom" cargo test --doc`, `cargo -v` shows the
// rustdoc command line without `--cfg loom`, a doctest asserting
// `!cfg!(loom) && LOOM` passes, and one calling the fn panics with that
// message. The other ways out are worse: `RUSTDOCFLAGS="--cfg loom"` as
// well would still need a skip in every example, and a loom command with
// `--tests` (no doctests) is one more thing a contributor must remember:
// the plain `cargo test` form would then fail on every doctest.
#[doc(hidden)]
pub const __LOOM: bool = cfg!(loom);

/// Compile-time check that the public types can cross threads.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<One>();
    send_sync::<Many>();
    send_sync::<Guard>();
    send_sync::<Wait>();
    send_sync::<Context>();
    send_sync::<State>();
    send_sync::<StartError>();
    send_sync::<ClosedError>();
    send_sync::<Transition>();
    send_sync::<TimedOut>();
    send_sync::<ClosedWait>();
    #[cfg(feature = "tokio")]
    {
        send_sync::<Task<(), ()>>();
        send_sync::<TaskBuilder>();
        send_sync::<TaskError<()>>();
        send_sync::<Panic>();
        send_sync::<Group>();
        send_sync::<GroupWait>();
        send_sync::<GroupError>();
        // The task side added by issue #13. A task's error needs only
        // `Send` (here a `Cell`, which is not `Sync`).
        send_sync::<Task<(), core::cell::Cell<u8>>>();
        send_sync::<TaskAbortHandle>();
        send_sync::<TaskId>();
        send_sync::<Group<u32>>();
        send_sync::<GroupWait<u32>>();
        send_sync::<GroupBuilder>();
        send_sync::<GroupTaskBuilder<'static, u32>>();
        send_sync::<Slot<u32>>();
        send_sync::<TaskFailure>();
        send_sync::<TrySpawnError>();
        // Supervision (issue #14).
        send_sync::<supervise::Supervisor>();
        send_sync::<supervise::SupervisorBuilder>();
        send_sync::<supervise::Child>();
        send_sync::<supervise::ChildError>();
        send_sync::<supervise::Restart>();
        send_sync::<supervise::Strategy>();
        send_sync::<supervise::Backoff>();
        send_sync::<supervise::Intensity>();
        send_sync::<supervise::Exit>();
        send_sync::<supervise::Event<'static>>();
        send_sync::<supervise::Report>();
        send_sync::<supervise::ChildStats>();
        send_sync::<supervise::StopReason>();
        send_sync::<supervise::SupervisorError>();
    }
};
