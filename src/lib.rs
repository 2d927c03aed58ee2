//! Lifecycle primitives for concurrent code: run an instance at most once
//! ([`One`]) or one at a time with restarts ([`Many`]), with a cancellation
//! context per run and waits that work from async code and from threads.
//!
//! A Rust port, and an improvement, of the Go package `shot` v0.4.3.
//!
//! ```
//! # if runcycle::__LOOM { return; }
//! use runcycle::{Many, State};
//!
//! let many = Many::new();
//! let guard = many.start().unwrap(); // Err(Running) / Err(Closed) otherwise
//! let ctx = guard.context();         // the run's Context (read-only)
//! let worker = std::thread::spawn(move || {
//!     while !ctx.is_cancelled() { std::thread::yield_now(); }
//!     drop(guard); // completion is signalled when the guard goes
//! });
//! many.stop().unwrap().wait(); // cancel the run, wait for its exit (from outside the run: see below)
//! worker.join().unwrap();
//! assert_eq!(many.state(), State::Stopped);
//! ```
//!
//! **Never wait for your own run.** A run ends only when its [`Guard`]
//! drops, so `stop()?.wait()`, `close().wait()`, `done().wait()` or their
//! `.await` forms, called by the code that holds the guard, never return;
//! the same holds for a `Group` task waiting on its own group and a `G`'s
//! task on its own `G`. Inside a run, cancel without waiting (`cancel()`)
//! or drop the guard. With the `tokio` feature, the blocking waits
//! ([`Wait::wait`], `wait_timeout`, `wait_deadline`, `GroupWait::wait`)
//! panic on a thread that drives a tokio runtime, as tokio's own blocking
//! calls do: `.await` them there, or call them from `spawn_blocking`.
//!
//! # Go to Rust
//!
//! | Go | Rust |
//! |---|---|
//! | `NewOne(ctx)` / `NewMany(ctx)` | [`One::with_parent`] / [`Many::with_parent`] (or `new()` without a parent) |
//! | `Start() (stop func(), err error)` | [`Many::start`] `-> Result<Guard, Error>`; dropping the [`Guard`] is `stop()` |
//! | `State()`, `Context()`, `Done()` | [`Many::state`], [`Many::context`] (a read-only [`Context`]), [`Many::done`] (a [`Wait`]) |
//! | `Close(ctx)`, `Close2(ctx)`, `Cancel()` | [`Many::close`], [`Many::close2`], [`Many::cancel`]; bound the wait with [`Wait::wait_timeout`] or a timeout future |
//! | `Stop(ctx)`, `Stop2(ctx)`, `Halt()` | [`Many::stop`], [`Many::stop2`], [`Many::halt`] |
//! | `ErrRunning`, `ErrClosed` | [`Error::Running`], [`Error::Closed`] |
//! | `State` | [`State`] |
//! | `Go(f)`, `GoCtx(ctx, f)`, `G` | `go`, `go_ctx`, `go_on` and `G` (feature `tokio`): a task with its own lifecycle; panics and aborts are reported, never lost |
//! | `Group`, `NewGroup(ctx)` | `Group` (feature `tokio`): tasks under one context; `close` atomically refuses new tasks, then waits |
//!
//! # Semantics
//!
//! The lifecycle is one transition table, shared as data by [`One`] and
//! [`Many`]; it is written out in `spec/transitions.md` and a test checks the
//! code's table against it cell by cell. Calls change the state when they
//! are made, not when their [`Wait`] is awaited. Parent cancellation is
//! observed eagerly, inside the parent's `cancel()`.
//!
//! # Features
//!
//! - `tokio` (default): `go`, `go_ctx`, `go_on`, `G` and `Group`, tasks on
//!   tokio. Without it, [`One`] and [`Many`] need no runtime: they depend on
//!   tokio-util for `CancellationToken` and on event-listener for the waits.
//! - `tracing` (off by default): one `trace` event, target `runcycle`, per state
//!   transition (instance, kind, event, from, to, run). Compiled out when off.
//!
//! # How it is verified
//!
//! ```sh
//! cargo test                                    # spec check, every spec row, integration and proptest model tests, doc examples
//! RUSTFLAGS="--cfg loom" cargo test --release   # loom: every interleaving (within bounds) of the real code
//! PROPTEST_CASES=100000 cargo test --test model_sequential --test model_concurrent   # a deep proptest run
//! bash .ci/mutants                              # mutation testing with cargo-mutants
//! ```
//!
//! The spec check compares the code's table with `spec/transitions.md` cell
//! by cell; proptest compares random operation sequences (and concurrent
//! histories, for linearizability) with a reference model written from the
//! spec; loom explores the interleavings of two and three threads on the real
//! code; each of them is shown to catch planted bugs. Mutation testing:
//! every mutant of the state machine, `One`, `Many`, `Guard` and `Wait` is
//! caught (`MUTANTS.md` has the figures).

#![deny(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unreachable_pub
)]
#![forbid(unsafe_code)]
#![warn(clippy::pedantic)]

mod lifecycle;
mod sync;
#[cfg(feature = "tokio")]
mod task;

pub use lifecycle::context::{Context, Parent};
pub use lifecycle::error::{ClosedError, StartError, TimedOut};
pub use lifecycle::guard::Guard;
pub use lifecycle::many::Many;
pub use lifecycle::one::One;
pub use lifecycle::state::State;
pub use lifecycle::transition::Transition;
pub use lifecycle::wait::Wait;
#[cfg(feature = "tokio")]
pub use task::group::{BoxError, Group, GroupError, GroupTaskOutput, GroupWait};
#[cfg(feature = "tokio")]
pub use task::panic::{Panic, TaskError};
#[cfg(feature = "tokio")]
pub use task::spawn::{spawn, spawn_on, Task, TaskBuilder};

/// tokio-util's token, re-exported: `with_parent` takes one, and a
/// [`Context`] hands out children of the run's token as this type.
pub use tokio_util::sync::CancellationToken;

/// `true` when the crate was built with `--cfg loom`. Doc examples start with
/// a hidden `if runcycle::__LOOM { return; }`: under loom every atomic must live
/// inside a `loom::model`, which a doc example is not, so they skip there
/// (the loom suite in `loom-tests/` covers that build).
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
    #[cfg(feature = "tokio")]
    {
        send_sync::<Task<(), ()>>();
        send_sync::<TaskBuilder>();
        send_sync::<TaskError<()>>();
        send_sync::<Panic>();
        send_sync::<Group>();
        send_sync::<GroupWait>();
        send_sync::<GroupError>();
    }
};
