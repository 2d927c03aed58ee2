//! The blocking waits on threads that drive a tokio runtime (spec/README.md,
//! section 12): `Wait::wait`, `wait_timeout`, `wait_deadline`, their
//! `Transition` twins, `GroupWait::wait` and `wait_timeout`,
//! `Group::blocking_shutdown` and `Task::blocking_join` panic with a message naming the call and the fix where tokio's own blocking calls refuse (a current-thread
//! runtime, a task on a multi-thread runtime with one worker, inside
//! `Runtime::block_on`), and block normally where tokio allows it
//! (`spawn_blocking`, `block_in_place`, a plain thread, a thread holding a
//! `Handle::enter` guard).
//!
//! Every refused call waits for a run that nothing ends: without the check it
//! would hang. Each scenario runs on its own thread and the test waits for
//! its answer at most [`BOUND`], so a regression fails instead of hanging.

#![cfg(all(not(loom), feature = "tokio"))]

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use runcycle::{Group, One};
use tokio::runtime::{Builder, Handle, Runtime};

/// The bound on anything that must happen: a hang becomes a failure.
const BOUND: Duration = Duration::from_secs(20);

/// The blocking waits of the crate.
#[derive(Clone, Copy, Debug)]
enum Call {
    Wait,
    WaitTimeout,
    WaitDeadline,
    TransitionWait,
    TransitionWaitTimeout,
    TransitionWaitDeadline,
    GroupWait,
    GroupWaitTimeout,
    GroupBlockingShutdown,
    TaskBlockingJoin,
}

const CALLS: [Call; 10] = [
    Call::Wait,
    Call::WaitTimeout,
    Call::WaitDeadline,
    Call::TransitionWait,
    Call::TransitionWaitTimeout,
    Call::TransitionWaitDeadline,
    Call::GroupWait,
    Call::GroupWaitTimeout,
    Call::GroupBlockingShutdown,
    Call::TaskBlockingJoin,
];

/// What the awaited run or group task does.
#[derive(Clone, Copy, Debug)]
enum End {
    /// It never ends: a wait that blocks hangs.
    Never,
    /// It has ended before the call.
    Already,
    /// A task on the runtime ends it after yielding once: the wait returns
    /// only if the runtime keeps running while it blocks.
    ByTask,
}

/// A `One` whose run ends as `end` says: never (its guard is returned, to
/// be kept until the blocking call returns or unwinds), before the call, or
/// from a task on `handle`.
fn run_ending(handle: &Handle, end: End) -> (One, Option<runcycle::Guard>) {
    let one = One::new();
    let guard = one.start().unwrap();
    let kept = match end {
        End::Never => Some(guard),
        End::Already => None,
        End::ByTask => {
            handle.spawn(async move {
                tokio::task::yield_now().await;
                drop(guard);
            });
            None
        }
    };
    (one, kept)
}

impl Call {
    /// The name the panic message must carry.
    fn name(self) -> &'static str {
        match self {
            Call::Wait => "runcycle::Wait::wait",
            Call::WaitTimeout => "runcycle::Wait::wait_timeout",
            Call::WaitDeadline => "runcycle::Wait::wait_deadline",
            Call::TransitionWait => "runcycle::Transition::wait",
            Call::TransitionWaitTimeout => "runcycle::Transition::wait_timeout",
            Call::TransitionWaitDeadline => "runcycle::Transition::wait_deadline",
            Call::GroupWait => "runcycle::GroupWait::wait",
            Call::GroupWaitTimeout => "runcycle::GroupWait::wait_timeout",
            Call::GroupBlockingShutdown => "runcycle::Group::blocking_shutdown",
            Call::TaskBlockingJoin => "runcycle::Task::blocking_join",
        }
    }

    /// Makes a run (or a group task) on `handle` that ends as `end` says and
    /// blocks on it with this call; the call must return in time, with
    /// success.
    fn block(self, handle: &Handle, end: End) {
        match self {
            Call::Wait | Call::WaitTimeout | Call::WaitDeadline => {
                let (one, kept) = run_ending(handle, end);
                let done = one.done();
                match self {
                    Call::Wait => done.wait(),
                    Call::WaitTimeout => done.wait_timeout(BOUND).unwrap(),
                    _ => done.wait_deadline(Instant::now() + BOUND).unwrap(),
                }
                drop(kept);
            }
            Call::TransitionWait | Call::TransitionWaitTimeout | Call::TransitionWaitDeadline => {
                let (one, kept) = run_ending(handle, end);
                // The close's wait is for the run's exit (none if it ended).
                let closing = one.close();
                match self {
                    Call::TransitionWait => closing.wait(),
                    Call::TransitionWaitTimeout => closing.wait_timeout(BOUND).unwrap(),
                    _ => closing.wait_deadline(Instant::now() + BOUND).unwrap(),
                }
                drop(kept);
            }
            Call::GroupWait | Call::GroupWaitTimeout => {
                let group = Group::new();
                match end {
                    End::Never => group
                        .spawn_on(|ctx| async move { ctx.cancelled().await }, handle)
                        .map(drop),
                    End::Already => Ok(()),
                    End::ByTask => group
                        .spawn_on(|_| tokio::task::yield_now(), handle)
                        .map(drop),
                }
                .unwrap();
                let wait = group.wait();
                match self {
                    Call::GroupWait => wait.wait().unwrap(),
                    _ => wait.wait_timeout(BOUND).unwrap().unwrap(),
                }
            }
            Call::GroupBlockingShutdown => {
                let group = Group::new();
                match end {
                    // Ignores the shutdown's cancel: the deadline (an hour)
                    // would be waited for.
                    End::Never => group
                        .spawn_on(|_| std::future::pending::<()>(), handle)
                        .map(drop),
                    End::Already => Ok(()),
                    End::ByTask => group
                        .spawn_on(|_| tokio::task::yield_now(), handle)
                        .map(drop),
                }
                .unwrap();
                group.blocking_shutdown(Duration::from_secs(3600)).unwrap();
            }
            Call::TaskBlockingJoin => {
                let task = match end {
                    End::Never => runcycle::spawn_on(
                        |ctx| async move {
                            ctx.cancelled().await;
                            Ok::<(), ()>(())
                        },
                        handle,
                    ),
                    End::Already => ended_task(),
                    End::ByTask => runcycle::spawn_on(
                        |_| async {
                            tokio::task::yield_now().await;
                            Ok(())
                        },
                        handle,
                    ),
                };
                task.blocking_join().unwrap();
            }
        }
    }
}

/// A task that has ended, run on a runtime of its own (the scenario's own
/// runtime may not run before the call: inside its `block_on`, say).
fn ended_task() -> runcycle::Task<(), ()> {
    static ELSEWHERE: std::sync::OnceLock<Runtime> = std::sync::OnceLock::new();
    let runtime = ELSEWHERE.get_or_init(|| multi_thread(1));
    let task = runcycle::spawn_on(|_| async { Ok(()) }, runtime.handle());
    let deadline = Instant::now() + BOUND;
    while !task.is_finished() {
        assert!(Instant::now() < deadline, "the task did not end");
        std::thread::yield_now();
    }
    task
}

/// Runs `scenario` on a thread of its own and returns its answer, failing if
/// it takes longer than [`BOUND`] (the scenario's thread is then left hung).
fn bounded<T: Send + 'static>(what: &str, scenario: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(scenario());
    });
    match rx.recv_timeout(BOUND) {
        Ok(answer) => answer,
        Err(RecvTimeoutError::Timeout) => panic!("{what}: no answer in {BOUND:?} (a hang)"),
        Err(RecvTimeoutError::Disconnected) => panic!("{what}: the scenario itself panicked"),
    }
}

/// The message of a panic payload.
fn message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "(non-string payload)".to_owned())
}

/// Checks that `answer` is this crate's refusal of `call`.
fn assert_refused(call: Call, what: &str, answer: Result<(), String>) {
    let message = match answer {
        Ok(()) => panic!("{what}: `{}` returned instead of panicking", call.name()),
        Err(message) => message,
    };
    let expected = format!(
        "`{}` cannot block a thread that drives a tokio runtime",
        call.name()
    );
    assert!(
        message.starts_with(&expected),
        "{what}: the panic is not ours: {message:?}"
    );
    assert!(
        message.contains(".await") && message.contains("spawn_blocking"),
        "{what}: the message does not name the fix: {message:?}"
    );
}

fn current_thread() -> Runtime {
    Builder::new_current_thread().enable_all().build().unwrap()
}

fn multi_thread(workers: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .unwrap()
}

/// `call` made directly inside `runtime.block_on`, the panic caught there.
fn in_block_on(runtime: Runtime, call: Call, end: End) -> Result<(), String> {
    runtime.block_on(async {
        catch_unwind(AssertUnwindSafe(|| call.block(&Handle::current(), end)))
            .map_err(|payload| message(&*payload))
    })
}

/// `call` made inside a task spawned on `runtime`, the panic read from the
/// task's `JoinError`.
fn in_task(runtime: &Runtime, call: Call, end: End) -> Result<(), String> {
    runtime.block_on(async {
        tokio::spawn(async move { call.block(&Handle::current(), end) })
            .await
            .map_err(|e| message(&*e.into_panic()))
    })
}

#[test]
fn refused_inside_a_current_thread_block_on() {
    for call in CALLS {
        let what = format!("{call:?} in current_thread block_on");
        let answer = bounded(&what, move || {
            in_block_on(current_thread(), call, End::Never)
        });
        assert_refused(call, &what, answer);
    }
}

#[test]
fn refused_in_a_task_on_a_current_thread_runtime() {
    for call in CALLS {
        let what = format!("{call:?} in a current_thread task");
        let answer = bounded(&what, move || in_task(&current_thread(), call, End::Never));
        assert_refused(call, &what, answer);
    }
}

#[test]
fn refused_in_a_task_on_a_multi_thread_runtime_with_one_worker() {
    for call in CALLS {
        let what = format!("{call:?} in a task on one worker");
        let answer = bounded(&what, move || in_task(&multi_thread(1), call, End::Never));
        assert_refused(call, &what, answer);
    }
}

#[test]
fn refused_inside_a_multi_thread_block_on() {
    for call in CALLS {
        let what = format!("{call:?} in multi_thread block_on");
        let answer = bounded(&what, move || {
            in_block_on(multi_thread(2), call, End::Never)
        });
        assert_refused(call, &what, answer);
    }
}

/// The check does not depend on the wait: a wait that has already resolved
/// is refused too (spec/README.md, section 12), as tokio's `blocking_recv`
/// is, so a test that blocks a runtime thread fails every time.
#[test]
fn refused_even_when_the_wait_has_already_resolved() {
    for call in CALLS {
        let what = format!("{call:?} resolved, in current_thread block_on");
        let answer = bounded(&what, move || {
            in_block_on(current_thread(), call, End::Already)
        });
        assert_refused(call, &what, answer);
        let what = format!("{call:?} resolved, in a task on one worker");
        let answer = bounded(&what, move || in_task(&multi_thread(1), call, End::Already));
        assert_refused(call, &what, answer);
    }
}

/// The refusal leaves the task's budget as it was: a task that catches the
/// panic keeps running with the budget tokio gave it. (The check spends the
/// budget and gives it back; if it did not, the task would be made to
/// yield at its next budgeted operation, observable as `has_budget_remaining`.)
#[test]
fn the_check_gives_the_budget_back() {
    let answer = bounded("budget", || {
        current_thread().block_on(async {
            let before = tokio::task::coop::has_budget_remaining();
            let refused = catch_unwind(|| runcycle::One::new().done().wait()).is_err();
            (before, refused, tokio::task::coop::has_budget_remaining())
        })
    });
    assert_eq!(answer, (true, true, true));
}

#[test]
fn allowed_in_spawn_blocking() {
    for call in CALLS {
        let what = format!("{call:?} in spawn_blocking");
        bounded(&what, move || {
            current_thread().block_on(async {
                let handle = Handle::current();
                tokio::task::spawn_blocking(move || call.block(&handle, End::ByTask))
                    .await
                    .unwrap();
            });
        });
    }
}

#[test]
fn allowed_in_block_in_place() {
    for call in CALLS {
        let what = format!("{call:?} in block_in_place");
        bounded(&what, move || {
            multi_thread(1).block_on(async {
                tokio::spawn(async move {
                    tokio::task::block_in_place(|| call.block(&Handle::current(), End::ByTask));
                })
                .await
                .unwrap();
            });
        });
    }
}

#[test]
fn allowed_on_a_plain_thread() {
    for call in CALLS {
        let what = format!("{call:?} on a plain thread");
        bounded(&what, move || {
            let runtime = multi_thread(1);
            call.block(runtime.handle(), End::ByTask);
        });
    }
}

#[test]
fn allowed_on_a_thread_that_entered_a_runtime_handle() {
    for call in CALLS {
        let what = format!("{call:?} under Handle::enter");
        bounded(&what, move || {
            let runtime = multi_thread(1);
            let _enter = runtime.enter();
            call.block(runtime.handle(), End::ByTask);
        });
    }
}
