//! `spawn`, `spawn_on`, `TaskBuilder` and `Task` (spec/go.md, O1-O3 and
//! T1-T9): outcomes of every kind, abort, shutdown with a deadline, ids and
//! names, blocking joins, races, misuse.

#![cfg(all(not(loom), feature = "tokio"))]

use std::cell::Cell;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, Location};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Waker};
use std::time::Duration;

use runcycle::{
    spawn, spawn_on, CancellationToken, Context, Group, Panic, Task, TaskBuilder, TaskError,
};
use tokio::time::Instant;

const BOUND: Duration = Duration::from_secs(20);

/// Awaits the task (bounded), leaving it in place to be inspected.
async fn outcome<T, E>(task: &mut Task<T, E>) -> Result<T, TaskError<E>> {
    tokio::time::timeout(BOUND, task)
        .await
        .expect("the task hung")
}

/// Waits (bounded) until the task has ended, without taking the outcome.
async fn ended<T, E>(task: &Task<T, E>) {
    tokio::time::timeout(BOUND, async {
        while !task.is_finished() {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the task hung");
}

// ---- outcomes (O1, O2) -----------------------------------------------------

#[tokio::test]
async fn a_value_is_the_outcome() {
    let mut task = spawn(|_| async { Ok::<_, std::io::Error>(vec![1, 2, 3]) });
    assert_eq!(outcome(&mut task).await.unwrap(), [1, 2, 3]);
    assert!(task.is_finished());
}

#[tokio::test]
async fn an_error_is_owned_and_a_boxed_send_error_works() {
    let mut task = spawn(|_| async {
        Err::<(), Box<dyn Error + Send>>(Box::new(std::io::Error::other("refused")))
    });
    match outcome(&mut task).await {
        Err(TaskError::Failed(e)) => assert_eq!(e.to_string(), "refused"),
        other => panic!("expected the error, got {other:?}"),
    }
}

/// An error type that is `Send` but not `Sync`.
#[derive(Debug)]
struct NotSync(Cell<u8>);

impl fmt::Display for NotSync {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not sync {}", self.0.get())
    }
}

impl Error for NotSync {}

#[tokio::test]
async fn an_error_that_is_not_sync_is_returned_as_is() {
    let mut task = spawn(|_| async { Err::<(), _>(NotSync(Cell::new(7))) });
    let Err(failure) = outcome(&mut task).await else {
        panic!("a success")
    };
    assert!(failure.is_failed() && !failure.is_panic() && !failure.is_aborted());
    assert_eq!(failure.to_string(), "task failed: not sync 7");
    assert_eq!(failure.source().unwrap().to_string(), "not sync 7");
    let TaskError::Failed(e) = failure else {
        unreachable!()
    };
    e.0.set(8); // owned: no `Arc`, the value itself
    assert_eq!(e.0.get(), 8);
}

#[tokio::test]
async fn a_panic_is_the_outcome_never_a_success() {
    let mut task: Task<(), ()> = spawn(|_| async { panic!("kaboom") });
    let Err(TaskError::Panicked(p)) = outcome(&mut task).await else {
        panic!("the panic was lost")
    };
    assert_eq!(p.message(), Some("kaboom"));
    assert_eq!(p.to_string(), "task panicked: kaboom");
    assert!(p.take_payload().is_some());
}

#[tokio::test]
async fn a_panic_with_a_non_string_payload_keeps_the_payload() {
    let mut task: Task<(), ()> = spawn(|_| async { std::panic::panic_any(42_u32) });
    let Err(TaskError::Panicked(p)) = outcome(&mut task).await else {
        panic!("the panic was lost")
    };
    assert_eq!(p.message(), None);
    assert_eq!(p.to_string(), "task panicked (non-string payload)");
    assert_eq!(p.take_payload().unwrap().downcast_ref::<u32>(), Some(&42));
}

#[tokio::test]
async fn a_panic_while_building_the_future_is_caught_too() {
    let mut task: Task<(), ()> =
        spawn(|_| -> std::future::Ready<Result<(), ()>> { panic!("eager") });
    assert!(
        matches!(outcome(&mut task).await, Err(TaskError::Panicked(p)) if p.message() == Some("eager"))
    );
}

#[tokio::test]
async fn outcomes_debug_and_display_with_their_contents() {
    let mut task: Task<(), ()> = spawn(|_| async { panic!("kaboom") });
    let panicked = outcome(&mut task).await.unwrap_err();
    assert_eq!(
        format!("{panicked:?}"),
        r#"Panicked(Panic { message: Some("kaboom"), .. })"#
    );
    let failed: TaskError<&str> = TaskError::Failed("refused");
    assert_eq!(format!("{failed:?}"), r#"Failed("refused")"#);
    assert_eq!(failed.to_string(), "task failed: refused");
    assert_eq!(format!("{:?}", TaskError::<()>::Aborted), "Aborted");
    assert_eq!(
        TaskError::<&str>::Aborted.to_string(),
        "task aborted before it finished (abort, deadline shutdown or runtime shutdown)"
    );
    let TaskError::Panicked(p) = panicked else {
        unreachable!()
    };
    assert_eq!(
        TaskError::<&str>::Panicked(p).to_string(),
        "task panicked: kaboom"
    );
}

#[tokio::test]
async fn outcomes_chain_their_cause_as_error_source() {
    let failed: TaskError<std::io::Error> = TaskError::Failed(std::io::Error::other("disk gone"));
    assert_eq!(failed.source().unwrap().to_string(), "disk gone");
    let mut task: Task<(), std::io::Error> = spawn(|_| async { panic!("kaboom") });
    let panicked = outcome(&mut task).await.unwrap_err();
    assert_eq!(
        panicked.source().unwrap().to_string(),
        "task panicked: kaboom"
    );
    assert!(TaskError::<std::io::Error>::Aborted.source().is_none());
}

#[tokio::test]
async fn an_outcome_clones_when_its_error_does() {
    let failed: TaskError<String> = TaskError::Failed("refused".to_string());
    let copy = failed.clone();
    assert!(matches!(copy, TaskError::Failed(e) if e == "refused"));
    let mut task: Task<(), String> = spawn(|_| async { panic!("kaboom") });
    let panicked = outcome(&mut task).await.unwrap_err();
    let copy = panicked.clone();
    let (TaskError::Panicked(a), TaskError::Panicked(b)) = (panicked, copy) else {
        panic!("not panics")
    };
    // A clone of a panic shares the record: one payload, taken once.
    assert_eq!(b.message(), Some("kaboom"));
    assert!(a.take_payload().is_some());
    assert!(b.take_payload().is_none());
    let _: fn(&Panic) -> Panic = Panic::clone;
}

#[test]
fn a_runtime_shutdown_makes_the_outcome_aborted() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let task = spawn_on(
        |ctx| async move {
            ctx.cancelled().await;
            Ok::<(), ()>(())
        },
        runtime.handle(),
    );
    drop(runtime);
    assert!(task.is_finished());
    // Any executor: tokio recorded the cancellation when it dropped the task.
    let awaited = futures::executor::block_on(task);
    assert!(matches!(awaited, Err(TaskError::Aborted)), "{awaited:?}");
}

// ---- Task as a future (T3) --------------------------------------------------

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
async fn nothing_is_yielded_before_the_exit() {
    let mut task = spawn(|ctx| async move {
        ctx.cancelled().await;
        Err::<(), _>("stopped")
    });
    tokio::task::yield_now().await;
    assert!(!task.is_finished());
    let mut cx = TaskContext::from_waker(Waker::noop());
    for _ in 0..3 {
        assert!(Pin::new(&mut task).poll(&mut cx).is_pending());
    }
    task.cancel();
    assert!(matches!(
        outcome(&mut task).await,
        Err(TaskError::Failed("stopped"))
    ));
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
    let mut cx = TaskContext::from_waker(Waker::noop());
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
    "a `runcycle::Task` was polled after it yielded its outcome (it yields it once, as a tokio \
     `JoinHandle`): await a `Task` once; to wait with a bound and keep it, await `&mut task` \
     inside `tokio::time::timeout` or `select!`";

#[tokio::test]
async fn polling_a_task_after_it_yielded_panics_naming_the_fix() {
    let mut task = spawn(|_| async { Ok::<_, ()>(1) });
    assert_eq!(outcome(&mut task).await.unwrap(), 1);
    assert_eq!(poll_panic(&mut task), POLLED_AFTER);
    assert_eq!(poll_panic(&mut task), POLLED_AFTER, "every later poll");
    // The task is still readable through its other calls.
    assert!(task.is_finished());
    task.cancel();
    task.abort();
}

// ---- cancel, abort (T4) -------------------------------------------------------

#[tokio::test]
async fn cancel_cancels_the_context_and_the_task_decides() {
    let mut task = spawn(|ctx| async move {
        ctx.cancelled().await;
        Ok::<_, ()>("closed")
    });
    let ctx = task.context();
    task.cancel();
    assert!(ctx.is_cancelled(), "cancelled at the call");
    assert_eq!(outcome(&mut task).await.unwrap(), "closed");
}

#[tokio::test]
async fn abort_before_the_task_runs_never_calls_its_body() {
    let called = Arc::new(AtomicBool::new(false));
    let c = Arc::clone(&called);
    // A current-thread runtime: the task cannot run before this test yields.
    let mut task = spawn(move |_| {
        c.store(true, Ordering::SeqCst);
        async { Ok::<_, ()>(()) }
    });
    task.abort();
    assert!(matches!(outcome(&mut task).await, Err(TaskError::Aborted)));
    assert!(!called.load(Ordering::SeqCst), "the body was called");
    assert!(task.context().is_cancelled());
}

#[tokio::test]
async fn abort_while_the_task_waits_drops_its_future() {
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let mut task = spawn(|_ctx| async move {
        started_tx.send(()).unwrap();
        std::future::pending::<()>().await; // ignores its context
        Ok::<_, ()>("never")
    });
    started_rx.await.unwrap();
    task.abort();
    assert!(matches!(outcome(&mut task).await, Err(TaskError::Aborted)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_while_the_task_is_being_polled_on_another_worker() {
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let mut task = spawn(|_ctx| async move {
        started_tx.send(()).unwrap();
        loop {
            // Busy, ignoring its context, yielding to the scheduler only.
            std::hint::spin_loop();
            tokio::task::yield_now().await;
        }
        #[allow(unreachable_code)]
        Ok::<(), ()>(())
    });
    started_rx.await.unwrap();
    task.abort();
    assert!(matches!(outcome(&mut task).await, Err(TaskError::Aborted)));
}

#[tokio::test]
async fn abort_after_the_task_finished_keeps_its_outcome() {
    let mut task = spawn(|_| async { Err::<(), _>("own failure") });
    ended(&task).await;
    task.abort();
    task.abort_handle().abort();
    assert!(matches!(
        outcome(&mut task).await,
        Err(TaskError::Failed("own failure"))
    ));
}

/// Records, when dropped, whether the context was cancelled by then.
struct DropProbe {
    ctx: Context,
    seen: Arc<AtomicU8>,
}

const NOT_DROPPED: u8 = 0;
const DROPPED_CANCELLED: u8 = 1;
const DROPPED_UNCANCELLED: u8 = 2;

impl Drop for DropProbe {
    fn drop(&mut self) {
        let seen = if self.ctx.is_cancelled() {
            DROPPED_CANCELLED
        } else {
            DROPPED_UNCANCELLED
        };
        self.seen.store(seen, Ordering::SeqCst);
    }
}

/// A task whose future holds a [`DropProbe`] and never returns.
async fn probed(by: &str, abort: impl FnOnce(&Task<(), ()>)) {
    let seen = Arc::new(AtomicU8::new(NOT_DROPPED));
    let s = Arc::clone(&seen);
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let mut task = spawn(|ctx| async move {
        let _probe = DropProbe { ctx, seen: s };
        started_tx.send(()).unwrap();
        std::future::pending::<Result<(), ()>>().await
    });
    started_rx.await.unwrap();
    abort(&task);
    assert!(
        matches!(outcome(&mut task).await, Err(TaskError::Aborted)),
        "{by}"
    );
    assert_eq!(seen.load(Ordering::SeqCst), DROPPED_CANCELLED, "{by}");
}

#[tokio::test]
async fn abort_cancels_the_context_before_the_future_is_dropped() {
    probed("Task::abort", Task::abort).await;
    probed("TaskAbortHandle::abort", |task| task.abort_handle().abort()).await;
    probed("a clone of the handle, from a thread", |task| {
        let handle = task.abort_handle().clone();
        std::thread::spawn(move || handle.abort()).join().unwrap();
    })
    .await;
}

#[tokio::test]
async fn the_probe_sees_an_uncancelled_context_under_a_plain_tokio_abort() {
    // The probe can fail the check above: a tokio abort alone (no cancel
    // first) drops the future with the context as it was.
    let one = runcycle::One::new();
    let guard = one.start().unwrap();
    let ctx = guard.context();
    let seen = Arc::new(AtomicU8::new(NOT_DROPPED));
    let s = Arc::clone(&seen);
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let handle = tokio::spawn(async move {
        let _probe = DropProbe { ctx, seen: s };
        started_tx.send(()).unwrap();
        std::future::pending::<()>().await;
    });
    started_rx.await.unwrap();
    handle.abort();
    assert!(handle.await.unwrap_err().is_cancelled());
    assert_eq!(seen.load(Ordering::SeqCst), DROPPED_UNCANCELLED);
    drop(guard);
}

#[tokio::test]
async fn an_abort_handle_reports_the_task() {
    let task = spawn(|ctx| async move {
        ctx.cancelled().await;
        Ok::<_, ()>(())
    });
    let handle = task.abort_handle();
    assert_eq!(handle.id(), task.id());
    assert!(!handle.is_finished());
    assert_eq!(
        format!("{handle:?}"),
        format!(
            "TaskAbortHandle {{ id: {:?}, finished: false, .. }}",
            task.id()
        )
    );
    task.cancel();
    let mut task = task;
    outcome(&mut task).await.unwrap();
    assert!(handle.is_finished());
    handle.abort(); // after the end: nothing
}

// ---- shutdown with a deadline (T5), on tokio's paused clock ---------------------

#[tokio::test(start_paused = true)]
async fn shutdown_returns_a_cooperating_tasks_own_outcome_before_the_deadline() {
    let task = spawn(|ctx| async move {
        ctx.cancelled().await;
        tokio::time::sleep(Duration::from_millis(30)).await; // cleanup
        Err::<(), _>("cleaned up")
    });
    let start = Instant::now();
    let got = task.shutdown(Duration::from_millis(100)).await;
    assert!(
        matches!(got, Err(TaskError::Failed("cleaned up"))),
        "{got:?}"
    );
    assert_eq!(start.elapsed(), Duration::from_millis(30));
}

#[tokio::test(start_paused = true)]
async fn shutdown_aborts_a_task_that_ignores_cancel_at_the_deadline() {
    let seen = Arc::new(AtomicU8::new(NOT_DROPPED));
    let s = Arc::clone(&seen);
    let task = spawn(|ctx| async move {
        let _probe = DropProbe { ctx, seen: s };
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok::<_, ()>("too late")
    });
    let start = Instant::now();
    let got = task.shutdown(Duration::from_millis(100)).await;
    assert!(matches!(got, Err(TaskError::Aborted)), "{got:?}");
    assert_eq!(start.elapsed(), Duration::from_millis(100));
    assert_eq!(seen.load(Ordering::SeqCst), DROPPED_CANCELLED);
}

#[tokio::test(start_paused = true)]
async fn shutdown_of_a_finished_task_yields_its_outcome_at_once() {
    let task = spawn(|_| async { Ok::<_, ()>(5) });
    ended(&task).await;
    let start = Instant::now();
    assert_eq!(task.shutdown(Duration::from_secs(1)).await.unwrap(), 5);
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn shutdown_with_a_zero_timeout_still_takes_an_outcome_that_is_ready() {
    let panicking: Task<(), ()> = spawn(|_| async { panic!("early") });
    ended(&panicking).await;
    assert!(panicking
        .shutdown(Duration::ZERO)
        .await
        .unwrap_err()
        .is_panic());
    let stubborn = spawn(|_| std::future::pending::<Result<(), ()>>());
    assert!(stubborn
        .shutdown(Duration::ZERO)
        .await
        .unwrap_err()
        .is_aborted());
}

// ---- ids, names, Debug (T6, O3) --------------------------------------------------

#[tokio::test]
async fn ids_are_tokios_ids() {
    let mut a = spawn(|_| async { Ok::<_, ()>(tokio::task::id()) });
    let mut b = TaskBuilder::new()
        .name("b")
        .spawn(|_| async { Ok::<_, ()>(tokio::task::id()) });
    let (id_a, id_b) = (a.id(), b.id());
    assert_ne!(id_a, id_b);
    assert_eq!(outcome(&mut a).await.unwrap(), id_a);
    assert_eq!(outcome(&mut b).await.unwrap(), id_b);
    let _: runcycle::TaskId = id_a;
}

#[tokio::test]
async fn names_are_optional_and_shown_in_debug() {
    let unnamed = spawn(|ctx| async move {
        ctx.cancelled().await;
        Ok::<(), ()>(())
    });
    assert_eq!(unnamed.name(), None);
    assert_eq!(
        format!("{unnamed:?}"),
        format!(
            "Task {{ id: {:?}, name: None, finished: false, .. }}",
            unnamed.id()
        )
    );
    let shared: Arc<str> = Arc::from("shared");
    let named = TaskBuilder::new()
        .name("first")
        .name(String::from("poller"))
        .spawn(|_| async { Ok::<(), ()>(()) });
    assert_eq!(
        named.name(),
        Some("poller"),
        "the second name replaces the first"
    );
    ended(&named).await;
    assert_eq!(
        format!("{named:?}"),
        format!(
            r#"Task {{ id: {:?}, name: Some("poller"), finished: true, .. }}"#,
            named.id()
        )
    );
    let from_arc = TaskBuilder::new()
        .name(Arc::clone(&shared))
        .spawn(|_| async { Ok::<(), ()>(()) });
    assert_eq!(from_arc.name(), Some("shared"));
    // Once the task ended (with the `tracing` feature its `task ended`
    // event holds a clone of the name until then): this one and the Task's.
    ended(&from_arc).await;
    assert_eq!(Arc::strong_count(&shared), 2, "shared, not copied");
    unnamed.cancel();
}

// ---- spawn_on, TaskBuilder (T1, T7) ------------------------------------------------

#[test]
fn spawn_on_works_from_a_plain_thread() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let task = spawn_on(|_| async { Ok::<_, ()>("hello") }, runtime.handle());
    assert_eq!(task.blocking_join().unwrap(), "hello");
}

#[test]
fn a_builder_spawns_on_a_runtime_from_a_plain_thread_with_its_parent() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let parent = CancellationToken::new();
    let task = TaskBuilder::new().parent(&parent).name("child").spawn_on(
        |ctx| async move {
            ctx.cancelled().await;
            Ok::<_, ()>("parent cancelled")
        },
        runtime.handle(),
    );
    assert!(!task.is_finished());
    assert_eq!(task.name(), Some("child"));
    parent.cancel();
    assert_eq!(task.blocking_join().unwrap(), "parent cancelled");
}

#[tokio::test]
async fn a_builder_with_a_cancelled_parent_still_runs_with_a_cancelled_context() {
    let parent = CancellationToken::new();
    parent.cancel();
    let ran = Arc::new(AtomicBool::new(false));
    let r = Arc::clone(&ran);
    let mut task = TaskBuilder::new().parent(&parent).spawn(|ctx| async move {
        r.store(true, Ordering::SeqCst);
        if ctx.is_cancelled() {
            Err("cancelled before the start")
        } else {
            Ok(())
        }
    });
    let got = outcome(&mut task).await;
    assert!(ran.load(Ordering::SeqCst), "the task ran");
    assert!(matches!(
        got,
        Err(TaskError::Failed("cancelled before the start"))
    ));
}

#[tokio::test]
async fn a_builder_parent_cancellation_reaches_the_task_and_a_task_cancel_not_the_parent() {
    let parent = CancellationToken::new();
    let sibling = TaskBuilder::new().parent(&parent).spawn(|ctx| async move {
        ctx.cancelled().await;
        Ok::<_, ()>("saw it")
    });
    let mut task = TaskBuilder::new().parent(&parent).spawn(|ctx| async move {
        ctx.cancelled().await;
        Ok::<_, ()>("saw it")
    });
    sibling.cancel();
    assert!(!parent.is_cancelled() && !task.context().is_cancelled());
    parent.cancel();
    assert_eq!(outcome(&mut task).await.unwrap(), "saw it");
}

#[tokio::test]
async fn a_builder_takes_a_run_context_as_parent_and_a_second_parent_replaces_the_first() {
    let server = runcycle::Many::new();
    let guard = server.start().unwrap();
    let unused = CancellationToken::new();
    let mut task = TaskBuilder::new()
        .parent(&unused)
        .parent(&guard.context())
        .spawn(|ctx| async move {
            ctx.cancelled().await;
            Ok::<_, ()>("stopped with the run")
        });
    server.stop().unwrap();
    assert_eq!(outcome(&mut task).await.unwrap(), "stopped with the run");
    assert!(!unused.is_cancelled());
}

#[tokio::test]
async fn a_builder_without_options_is_spawn() {
    let mut task =
        TaskBuilder::default().spawn(|ctx| async move { Ok::<_, ()>(ctx.is_cancelled()) });
    assert!(!outcome(&mut task).await.unwrap());
    assert_eq!(
        format!("{:?}", TaskBuilder::new()),
        "TaskBuilder { parent: None, name: None }"
    );
    assert_eq!(
        format!(
            "{:?}",
            TaskBuilder::new()
                .parent(&CancellationToken::new())
                .name("n")
        ),
        r#"TaskBuilder { parent: Some("CancellationToken"), name: Some("n") }"#
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
    let (message, file, line) = panic_site(|| {
        let _ = group.spawn(|_| async {}).unwrap();
    });
    let call_line = line!() - 2; // the line of the call above
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

#[test]
fn blocking_join_on_a_runtime_thread_panics_at_the_callers_line() {
    let here = Location::caller().file();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let task = spawn(|_| async { Ok::<_, ()>(()) });
        let (message, file, line) = panic_site(|| drop(task.blocking_join()));
        let call_line = line!() - 1; // the line of the call above
        assert_eq!((file.as_str(), line), (here, call_line));
        assert!(
            message.starts_with("`runcycle::Task::blocking_join` cannot block a thread"),
            "{message}"
        );
    });
}

#[test]
fn blocking_join_works_in_spawn_blocking_and_on_a_plain_thread() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let got = runtime.block_on(async {
        let task = spawn(|_| async { Ok::<_, ()>("joined") });
        tokio::task::spawn_blocking(move || task.blocking_join())
            .await
            .unwrap()
    });
    assert_eq!(got.unwrap(), "joined");
    let task: Task<(), ()> = spawn_on(|_| async { panic!("from the task") }, runtime.handle());
    let got = std::thread::spawn(move || task.blocking_join())
        .join()
        .unwrap();
    assert!(matches!(got, Err(TaskError::Panicked(p)) if p.message() == Some("from the task")));
}

// ---- detach, races ---------------------------------------------------------

#[tokio::test]
async fn dropping_the_task_detaches_it() {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<bool>();
    let task = spawn(|ctx| async move {
        let _ = rx.await;
        done_tx.send(!ctx.is_cancelled()).unwrap();
        Ok::<(), ()>(())
    });
    drop(task);
    tx.send(()).unwrap();
    let ran_on = tokio::time::timeout(BOUND, done_rx).await.unwrap().unwrap();
    assert!(ran_on, "the task ran on, uncancelled");
}

fn two_workers() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap()
}

#[test]
fn cancel_racing_the_exit_never_loses_the_outcome() {
    let runtime = two_workers();
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
        std::thread::scope(|s| {
            s.spawn(|| task.cancel());
        });
        match task.blocking_join() {
            Ok(v) => assert_eq!(v, i),
            Err(TaskError::Failed(e)) => assert_eq!(e, "cancelled"),
            other => panic!("iteration {i}: outcome {other:?}"),
        }
    }
}

#[test]
fn abort_racing_the_exit_yields_the_outcome_or_aborted_never_nothing() {
    let runtime = two_workers();
    for i in 0..2_000_u32 {
        let task = spawn_on(
            move |_| async move {
                tokio::task::yield_now().await;
                Ok::<_, ()>(i)
            },
            runtime.handle(),
        );
        let handle = task.abort_handle();
        std::thread::scope(|s| {
            s.spawn(|| handle.abort());
        });
        match task.blocking_join() {
            Ok(v) => assert_eq!(v, i),
            Err(TaskError::Aborted) => {}
            other => panic!("iteration {i}: outcome {other:?}"),
        }
        assert!(handle.is_finished());
    }
}

#[test]
fn awaits_racing_the_exit_always_yield_the_outcome() {
    let runtime = two_workers();
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

/// spec/go.md T9: however a task ends, its context is cancelled before an
/// awaiter sees the outcome, and so is a child token taken from it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_context_is_cancelled_when_the_task_ends_however_it_ends() {
    for how in ["ok", "error", "panic", "abort"] {
        let (child_tx, child_rx) = tokio::sync::oneshot::channel();
        let task = runcycle::spawn(move |ctx| async move {
            child_tx.send(ctx.child_token()).unwrap();
            match how {
                "ok" => Ok(()),
                "error" => Err("failed"),
                "panic" => panic!("planted"),
                _ => std::future::pending().await,
            }
        });
        let ctx = task.context();
        let child = child_rx.await.unwrap();
        if how == "abort" {
            task.abort_handle().abort();
        }
        let result = task.await;
        assert!(
            ctx.is_cancelled(),
            "{how}: the context outlived the task ({result:?})"
        );
        assert!(
            child.is_cancelled(),
            "{how}: the child token outlived the task"
        );
    }
}
