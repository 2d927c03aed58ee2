//! `spawn`, `spawn_on`, `TaskBuilder` and `Task`: outcomes (taken, read or
//! awaited), panics, cancellation, races, misuse.

#![cfg(all(not(loom), feature = "tokio"))]

use std::future::Future;
use std::panic::{AssertUnwindSafe, Location};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Waker};
use std::time::Duration;

use runcycle::{spawn, spawn_on, CancellationToken, Group, Task, TaskBuilder, TaskError};

const BOUND: Duration = Duration::from_secs(20);

async fn finish<T, E>(task: &Task<T, E>) {
    tokio::time::timeout(BOUND, task.done())
        .await
        .expect("the task hung");
}

/// Awaits the task (bounded), leaving it in place to be inspected.
async fn outcome<T, E>(task: &mut Task<T, E>) -> Result<T, TaskError<E>> {
    tokio::time::timeout(BOUND, task)
        .await
        .expect("the task hung")
}

#[tokio::test]
async fn the_value_is_taken_once_and_success_has_no_err() {
    let task = spawn(|_| async { Ok::<_, std::io::Error>(42) });
    finish(&task).await;
    assert!(task.is_finished());
    assert!(task.err().is_none());
    assert!(matches!(task.take(), Some(Ok(42))));
    assert!(task.take().is_none());
    assert!(task.err().is_none());
}

#[tokio::test]
async fn an_error_is_reported_by_err_and_take() {
    let task = spawn(|_| async { Err::<(), _>(std::io::Error::other("refused")) });
    finish(&task).await;
    match task.err() {
        Some(TaskError::Failed(e)) => assert_eq!(e.to_string(), "refused"),
        other => panic!("expected the error, got {other:?}"),
    }
    assert!(matches!(task.take(), Some(Err(TaskError::Failed(_)))));
    assert!(
        matches!(task.err(), Some(TaskError::Failed(_))),
        "err stays readable"
    );
}

#[tokio::test]
async fn a_panic_is_the_outcome_never_a_success() {
    let task: Task<(), ()> = spawn(|_| async { panic!("kaboom") });
    finish(&task).await;
    let Some(TaskError::Panicked(p)) = task.err() else {
        panic!("the panic was lost: {:?}", task.err());
    };
    assert_eq!(p.message(), Some("kaboom"));
    assert_eq!(p.to_string(), "task panicked: kaboom");
    assert!(p.take_payload().is_some());
    assert!(matches!(task.take(), Some(Err(TaskError::Panicked(_)))));
}

#[tokio::test]
async fn outcomes_debug_with_their_contents() {
    let task: Task<(), ()> = spawn(|_| async { panic!("kaboom") });
    finish(&task).await;
    assert_eq!(
        format!("{:?}", task.err().unwrap()),
        r#"Panicked(Panic { message: Some("kaboom"), .. })"#
    );
    let failed: TaskError<&str> = TaskError::Failed(Arc::new("refused"));
    assert_eq!(format!("{failed:?}"), r#"Failed("refused")"#);
    assert_eq!(format!("{:?}", TaskError::<()>::Aborted), "Aborted");
    assert_eq!(failed.to_string(), "task failed: refused");
    let panicked: TaskError<&str> = match task.err().unwrap() {
        TaskError::Panicked(p) => TaskError::Panicked(p),
        other => panic!("{other:?}"),
    };
    assert_eq!(panicked.to_string(), "task panicked: kaboom");
    assert_eq!(
        TaskError::<&str>::Aborted.to_string(),
        "task dropped before it finished (runtime shut down)"
    );
}

#[tokio::test]
async fn outcomes_chain_their_cause_as_error_source() {
    use std::error::Error as _;
    let cause = std::io::Error::other("disk gone");
    let failed: TaskError<std::io::Error> = TaskError::Failed(Arc::new(cause));
    assert_eq!(failed.source().unwrap().to_string(), "disk gone");
    let task: Task<(), std::io::Error> = spawn(|_| async { panic!("kaboom") });
    finish(&task).await;
    let panicked = task.err().unwrap();
    assert_eq!(
        panicked.source().unwrap().to_string(),
        "task panicked: kaboom"
    );
    assert!(TaskError::<std::io::Error>::Aborted.source().is_none());
}

#[tokio::test]
async fn a_panic_while_building_the_future_is_caught_too() {
    let task: Task<(), ()> = spawn(|_| -> std::future::Ready<Result<(), ()>> { panic!("eager") });
    finish(&task).await;
    assert!(matches!(task.err(), Some(TaskError::Panicked(p)) if p.message() == Some("eager")));
}

#[tokio::test]
async fn nothing_is_reported_before_the_exit() {
    let task = spawn(|ctx| async move {
        ctx.cancelled().await;
        Err::<(), _>("stopped")
    });
    tokio::task::yield_now().await;
    assert!(task.err().is_none() && task.take().is_none() && !task.is_finished());
    task.cancel();
    finish(&task).await;
    assert!(task.err().is_some());
}

#[tokio::test]
async fn close_cancels_at_the_call_and_waits_for_the_exit() {
    let exited = Arc::new(AtomicBool::new(false));
    let e = Arc::clone(&exited);
    let task = spawn(|ctx| async move {
        ctx.cancelled().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        e.store(true, Ordering::SeqCst);
        Ok::<_, ()>(())
    });
    let ctx = task.context();
    let wait = task.close();
    assert!(ctx.is_cancelled(), "cancelled at the call");
    tokio::time::timeout(BOUND, wait).await.unwrap();
    assert!(
        exited.load(Ordering::SeqCst),
        "close returned before the exit"
    );
}

#[tokio::test]
async fn a_fire_and_forget_close_cancels_at_the_call() {
    let mut task = spawn(|ctx| async move {
        ctx.cancelled().await;
        Ok::<_, ()>("closed")
    });
    // A statement, on purpose: `Wait` is not `#[must_use]`, so this compiles
    // without a warning (clippy runs with `-D warnings` on the tests).
    task.close();
    assert!(task.context().is_cancelled());
    assert_eq!(outcome(&mut task).await.unwrap(), "closed");
}

// ---- Task as a future ----------------------------------------------------

#[tokio::test]
async fn awaiting_a_task_yields_its_value() {
    let task = spawn(|_| async { Ok::<_, ()>(vec![1, 2, 3]) });
    let value = tokio::time::timeout(BOUND, task).await.unwrap().unwrap();
    assert_eq!(value, [1, 2, 3]);
}

#[tokio::test]
async fn awaiting_a_task_yields_its_error_and_err_stays_readable() {
    let mut task = spawn(|_| async { Err::<(), _>(std::io::Error::other("refused")) });
    match outcome(&mut task).await {
        Err(TaskError::Failed(e)) => assert_eq!(e.to_string(), "refused"),
        other => panic!("expected the error, got {other:?}"),
    }
    assert!(task.take().is_none(), "the await took the outcome");
    assert!(
        matches!(task.err(), Some(TaskError::Failed(e)) if e.to_string() == "refused"),
        "err stays readable after the await"
    );
}

#[tokio::test]
async fn awaiting_a_task_yields_its_panic() {
    let mut task: Task<(), ()> = spawn(|_| async { panic!("kaboom") });
    match outcome(&mut task).await {
        Err(TaskError::Panicked(p)) => assert_eq!(p.message(), Some("kaboom")),
        other => panic!("the panic was lost: {other:?}"),
    }
    assert!(task.take().is_none());
    assert!(matches!(task.err(), Some(TaskError::Panicked(_))));
}

#[test]
fn awaiting_a_task_yields_aborted_when_its_runtime_shut_down() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let task = spawn_on(
        |ctx| async move {
            ctx.cancelled().await;
            Ok::<(), ()>(())
        },
        runtime.handle(),
    );
    drop(runtime);
    assert_eq!(task.done().wait_timeout(BOUND), Ok(()));
    assert!(matches!(task.err(), Some(TaskError::Aborted)));
    // Any executor: the outcome was recorded when the runtime dropped the task.
    let awaited = futures::executor::block_on(task);
    assert!(matches!(awaited, Err(TaskError::Aborted)), "{awaited:?}");
}

#[tokio::test]
async fn awaiting_a_task_waits_for_its_exit() {
    let (tx, rx) = tokio::sync::oneshot::channel::<u32>();
    let task = spawn(|_| async move { rx.await.map_err(|_| "sender dropped") });
    let awaiting = tokio::spawn(task);
    tokio::task::yield_now().await;
    assert!(!awaiting.is_finished(), "resolved before the task exited");
    tx.send(5).unwrap();
    let awaited = tokio::time::timeout(BOUND, awaiting)
        .await
        .expect("the await hung")
        .unwrap();
    assert_eq!(awaited.unwrap(), 5);
}

#[tokio::test]
async fn a_bounded_await_that_gives_up_loses_nothing() {
    let mut task = spawn(|ctx| async move {
        ctx.cancelled().await;
        Ok::<_, ()>("kept")
    });
    let gave_up = tokio::time::timeout(Duration::from_millis(5), &mut task).await;
    assert!(gave_up.is_err(), "the task exited on its own");
    task.cancel();
    assert_eq!(outcome(&mut task).await.unwrap(), "kept");
}

/// Polls `task` once with a no-op waker, catching a panic: its message.
fn poll_panic<T, E>(task: &mut Task<T, E>) -> String {
    let mut cx = Context::from_waker(Waker::noop());
    let caught = std::panic::catch_unwind(AssertUnwindSafe(|| Pin::new(task).poll(&mut cx)));
    let payload = match caught {
        Ok(poll) => panic!(
            "the poll returned instead of panicking (ready: {})",
            poll.is_ready()
        ),
        Err(payload) => payload,
    };
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(ToString::to_string))
        .expect("a string message")
}

const POLLED_AFTER: &str =
    "a `runcycle::Task` was polled after its outcome was taken (it yields its outcome once, \
     as a tokio `JoinHandle`; `take()` takes it too): await a `Task` once; use \
     `Task::done()` to wait for the exit again and `Task::err()` to read a failure";

#[tokio::test]
async fn polling_a_task_after_it_yielded_panics_naming_the_fix() {
    let mut task = spawn(|_| async { Ok::<_, ()>(1) });
    assert_eq!(outcome(&mut task).await.unwrap(), 1);
    assert_eq!(poll_panic(&mut task), POLLED_AFTER);
    // The task is still usable through its other calls.
    assert!(task.is_finished() && task.err().is_none() && task.take().is_none());
    tokio::time::timeout(BOUND, task.done()).await.unwrap();
}

#[tokio::test]
async fn polling_a_task_after_take_panics_too() {
    let mut task = spawn(|_| async { Ok::<_, ()>(1) });
    finish(&task).await;
    assert!(matches!(task.take(), Some(Ok(1))));
    assert_eq!(poll_panic(&mut task), POLLED_AFTER);
}

#[tokio::test]
async fn polling_a_running_task_is_pending_and_does_not_panic() {
    let mut task = spawn(|ctx| async move {
        ctx.cancelled().await;
        Ok::<_, ()>(())
    });
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..3 {
        assert!(Pin::new(&mut task).poll(&mut cx).is_pending());
    }
    task.cancel();
    outcome(&mut task).await.unwrap();
}

// ---- spawn_on, TaskBuilder -----------------------------------------------

#[test]
fn spawn_on_works_from_a_plain_thread() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let task = spawn_on(|_| async { Ok::<_, ()>("hello") }, runtime.handle());
    assert_eq!(task.done().wait_timeout(BOUND), Ok(()));
    assert!(matches!(task.take(), Some(Ok("hello"))));
}

#[test]
fn a_builder_spawns_on_a_runtime_from_a_plain_thread_with_its_parent() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let parent = CancellationToken::new();
    let task = TaskBuilder::new().parent(&parent).spawn_on(
        |ctx| async move {
            ctx.cancelled().await;
            Ok::<_, ()>("parent cancelled")
        },
        runtime.handle(),
    );
    assert!(!task.is_finished());
    parent.cancel();
    assert_eq!(task.done().wait_timeout(BOUND), Ok(()));
    assert!(matches!(task.take(), Some(Ok("parent cancelled"))));
}

#[tokio::test]
async fn a_builder_with_a_cancelled_parent_still_runs_with_a_cancelled_context() {
    let parent = CancellationToken::new();
    parent.cancel();
    let ran = Arc::new(AtomicBool::new(false));
    let r = Arc::clone(&ran);
    let task = TaskBuilder::new().parent(&parent).spawn(|ctx| async move {
        r.store(true, Ordering::SeqCst);
        if ctx.is_cancelled() {
            Err("cancelled before the start")
        } else {
            Ok(())
        }
    });
    finish(&task).await;
    assert!(ran.load(Ordering::SeqCst), "the task ran");
    assert!(matches!(task.err(), Some(TaskError::Failed(e)) if *e == "cancelled before the start"));
}

#[tokio::test]
async fn a_builder_parent_cancellation_reaches_the_task() {
    let parent = CancellationToken::new();
    let task = TaskBuilder::new().parent(&parent).spawn(|ctx| async move {
        ctx.cancelled().await;
        Ok::<_, ()>("saw it")
    });
    parent.cancel();
    finish(&task).await;
    assert!(matches!(task.take(), Some(Ok("saw it"))));
}

#[tokio::test]
async fn a_builder_takes_a_run_context_as_parent() {
    let server = runcycle::Many::new();
    let guard = server.start().unwrap();
    let task = TaskBuilder::new()
        .parent(&guard.context())
        .spawn(|ctx| async move {
            ctx.cancelled().await;
            Ok::<_, ()>("stopped with the run")
        });
    server.stop().unwrap();
    let mut task = task;
    assert_eq!(outcome(&mut task).await.unwrap(), "stopped with the run");
}

#[tokio::test]
async fn a_builder_without_a_parent_is_spawn() {
    let task = TaskBuilder::default().spawn(|ctx| async move { Ok::<_, ()>(ctx.is_cancelled()) });
    let mut task = task;
    assert!(!outcome(&mut task).await.unwrap());
    assert_eq!(
        format!("{:?}", TaskBuilder::new()),
        "TaskBuilder { parent: None }"
    );
}

// ---- misuse ----------------------------------------------------------------

/// Serializes the tests that replace the process-wide panic hook.
static HOOK: Mutex<()> = Mutex::new(());

/// Runs `f`, which must panic on this thread: the panic's message and the
/// file and line the panic points at (what `#[track_caller]` decides).
fn panic_site(f: impl FnOnce()) -> (String, String, u32) {
    let _serial = HOOK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let me = std::thread::current().id();
    let seen: Arc<Mutex<Option<(String, u32)>>> = Arc::default();
    let previous: Arc<dyn Fn(&std::panic::PanicHookInfo<'_>) + Send + Sync> =
        Arc::from(std::panic::take_hook());
    {
        let seen = Arc::clone(&seen);
        let previous = Arc::clone(&previous);
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().id() == me {
                let at = info.location().map(|l| (l.file().to_string(), l.line()));
                *seen.lock().unwrap() = at;
            } else {
                previous(info);
            }
        }));
    }
    let caught = std::panic::catch_unwind(AssertUnwindSafe(f));
    let _ = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| previous(info)));
    let payload = caught.expect_err("the call must panic");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .expect("a formatted message");
    let (file, line) = seen.lock().unwrap().take().expect("the hook saw the panic");
    (message, file, line)
}

#[test]
fn spawn_outside_a_runtime_panics_at_the_callers_line_naming_the_fix() {
    let here = Location::caller().file();
    let (message, file, line) = panic_site(|| drop(spawn(|_| async { Ok::<(), ()>(()) })));
    let call_line = line!() - 1; // the line of the call above
    assert_eq!((file.as_str(), line), (here, call_line));
    assert!(
        message.starts_with("`runcycle::spawn` must be called from within a tokio runtime ("),
        "{message}"
    );
    assert!(
        message.ends_with("; use `runcycle::spawn_on` with a runtime handle from other threads"),
        "{message}"
    );

    let builder = TaskBuilder::new().parent(&CancellationToken::new());
    let (message, file, line) = panic_site(|| drop(builder.spawn(|_| async { Ok::<(), ()>(()) })));
    let call_line = line!() - 1; // the line of the call above
    assert_eq!((file.as_str(), line), (here, call_line));
    assert!(
        message.starts_with(
            "`runcycle::TaskBuilder::spawn` must be called from within a tokio runtime ("
        ),
        "{message}"
    );
    assert!(
        message.ends_with(
            "; use `runcycle::TaskBuilder::spawn_on` with a runtime handle from other threads"
        ),
        "{message}"
    );

    let group = Group::new();
    let (message, file, line) = panic_site(|| group.spawn(|_| async {}).unwrap());
    let call_line = line!() - 1; // the line of the call above
    assert_eq!((file.as_str(), line), (here, call_line));
    assert!(
        message
            .starts_with("`runcycle::Group::spawn` must be called from within a tokio runtime ("),
        "{message}"
    );
    assert!(
        message.ends_with(
            "; use `runcycle::Group::spawn_on` with a runtime handle from other threads"
        ),
        "{message}"
    );
    assert!(group.is_empty(), "nothing was registered");
}

#[test]
fn blocking_group_waits_on_a_runtime_thread_panic_at_the_callers_line() {
    let here = Location::caller().file();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let group = Group::new();
        let (message, file, line) = panic_site(|| drop(group.wait().wait()));
        let call_line = line!() - 1; // the line of the call above
        assert_eq!((file.as_str(), line), (here, call_line));
        assert!(
            message.starts_with("`runcycle::GroupWait::wait` cannot block a thread"),
            "{message}"
        );
        let (message, file, line) = panic_site(|| drop(group.close().wait_timeout(Duration::ZERO)));
        let call_line = line!() - 1; // the line of the call above
        assert_eq!((file.as_str(), line), (here, call_line));
        assert!(
            message.starts_with("`runcycle::GroupWait::wait_timeout` cannot block a thread"),
            "{message}"
        );
    });
}

// ---- detach, abort, races, Debug -------------------------------------------

#[tokio::test]
async fn dropping_the_task_detaches_it() {
    let finished = Arc::new(AtomicBool::new(false));
    let f = Arc::clone(&finished);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = spawn(|ctx| async move {
        let _ = rx.await;
        f.store(!ctx.is_cancelled(), Ordering::SeqCst);
        Ok::<(), ()>(())
    });
    let done = task.done();
    drop(task);
    tx.send(()).unwrap();
    tokio::time::timeout(BOUND, done).await.unwrap();
    assert!(
        finished.load(Ordering::SeqCst),
        "the task ran on, uncancelled"
    );
}

#[test]
fn cancel_and_close_racing_the_exit_never_lose_the_outcome() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let oks = AtomicUsize::new(0);
    for i in 0..2_000 {
        let task = spawn_on(
            move |ctx| async move {
                if ctx.is_cancelled() {
                    Err("cancelled")
                } else {
                    Ok(i)
                }
            },
            runtime.handle(),
        );
        let closer = std::thread::scope(|s| {
            let handle = s.spawn(|| {
                if i % 2 == 0 {
                    task.cancel();
                    task.done().wait_timeout(BOUND)
                } else {
                    task.close().wait_timeout(BOUND)
                }
            });
            handle.join().unwrap()
        });
        assert_eq!(closer, Ok(()));
        assert!(task.is_finished());
        match task.take() {
            Some(Ok(v)) => {
                assert_eq!(v, i);
                oks.fetch_add(1, Ordering::Relaxed);
            }
            Some(Err(TaskError::Failed(e))) => assert_eq!(*e, "cancelled"),
            other => panic!("iteration {i}: outcome {other:?}"),
        }
    }
}

#[test]
fn awaits_racing_the_exit_always_yield_the_outcome() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    for i in 0..2_000_u32 {
        let task = spawn_on(move |_| async move { Ok::<_, ()>(i) }, runtime.handle());
        // The await starts on another thread while the task may be exiting.
        let awaited = std::thread::scope(|s| {
            s.spawn(|| runtime.block_on(async { tokio::time::timeout(BOUND, task).await }))
                .join()
                .unwrap()
        });
        let awaited = awaited.expect("the await hung");
        assert!(
            matches!(awaited, Ok(v) if v == i),
            "iteration {i}: {awaited:?}"
        );
    }
}

#[tokio::test]
async fn debug_shows_whether_it_finished() {
    let task = spawn(|_| async { Ok::<(), ()>(()) });
    finish(&task).await;
    assert_eq!(format!("{task:?}"), "Task { finished: true, .. }");
}
