//! `Group`: shared context, waits, atomic close, errors and panics reported.

#![cfg(all(not(loom), feature = "tokio"))]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use runcycle::{CancellationToken, ClosedError, Group, GroupBuilder, TaskFailure, TrySpawnError};

const BOUND: Duration = Duration::from_secs(20);

#[tokio::test]
async fn wait_returns_after_every_task_started_so_far() {
    let group = Group::new();
    let finished = Arc::new(AtomicUsize::new(0));
    for i in 0..1_000_u64 {
        let finished = Arc::clone(&finished);
        group
            .spawn(move |_| async move {
                tokio::time::sleep(Duration::from_micros(i % 7)).await;
                finished.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
    }
    tokio::time::timeout(BOUND, group.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(finished.load(Ordering::SeqCst), 1_000);
    assert!(group.is_empty());
    assert_eq!(group.len(), 0);
    assert!(!group.context().is_cancelled(), "wait does not cancel");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_waiters_at_once_and_many_times() {
    let group = Group::new();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    group
        .spawn(|_| async move {
            let _ = rx.await;
        })
        .unwrap();
    let waiters: Vec<_> = (0..8)
        .map(|_| {
            let group = group.clone();
            tokio::spawn(async move { group.wait().await })
        })
        .collect();
    let blocking = {
        let group = group.clone();
        std::thread::spawn(move || group.wait().wait_timeout(BOUND))
    };
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(
        waiters.iter().all(|w| !w.is_finished()),
        "a waiter returned early"
    );
    tx.send(()).unwrap();
    for w in waiters {
        tokio::time::timeout(BOUND, w)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }
    assert!(matches!(blocking.join().unwrap(), Ok(Ok(()))));
    // And again: the group is reusable until closed.
    group.spawn(|_| async {}).unwrap();
    group.wait().await.unwrap();
}

#[tokio::test]
async fn spawn_after_close_is_refused() {
    let group = Group::new();
    group
        .spawn(|ctx| async move { ctx.cancelled().await })
        .unwrap();
    let wait = group.close();
    assert!(group.is_closed() && group.context().is_cancelled());
    assert!(matches!(group.spawn(|_| async {}), Err(ClosedError { .. })));
    assert!(matches!(
        group.spawn(|_| async { Ok::<(), std::io::Error>(()) }),
        Err(ClosedError { .. })
    ));
    assert!(matches!(
        group.spawn_on(|_| async {}, &tokio::runtime::Handle::current()),
        Err(ClosedError { .. })
    ));
    tokio::time::timeout(BOUND, wait).await.unwrap().unwrap();
}

/// No task may start after a close has begun and be missed by its wait: every
/// accepted task has finished when the close's wait returns.
#[test]
fn close_racing_spawn_never_misses_an_accepted_task() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let _enter = runtime.enter();
    for _ in 0..300 {
        let group = Group::new();
        let accepted = Arc::new(AtomicUsize::new(0));
        let finished = Arc::new(AtomicUsize::new(0));
        let mut finished_at_close = 0;
        std::thread::scope(|s| {
            for _ in 0..2 {
                let (group, accepted, finished) =
                    (group.clone(), Arc::clone(&accepted), Arc::clone(&finished));
                let handle = runtime.handle().clone();
                s.spawn(move || {
                    let _enter = handle.enter();
                    for _ in 0..50 {
                        let finished = Arc::clone(&finished);
                        let ok = group.spawn(move |_| async move {
                            tokio::task::yield_now().await;
                            finished.fetch_add(1, Ordering::SeqCst);
                        });
                        match ok {
                            Ok(_) => {
                                accepted.fetch_add(1, Ordering::SeqCst);
                            }
                            Err(ClosedError { .. }) => break,
                        }
                    }
                });
            }
            let closer = s.spawn(|| {
                std::thread::yield_now();
                group
                    .close()
                    .wait_timeout(BOUND)
                    .expect("close hung")
                    .unwrap();
                finished.load(Ordering::SeqCst)
            });
            finished_at_close = closer.join().unwrap();
        });
        // Every task ever accepted had finished when close's wait returned.
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            finished_at_close,
            "a task outlived close()"
        );
        assert_eq!(finished.load(Ordering::SeqCst), finished_at_close);
    }
}

#[tokio::test]
async fn a_panic_is_reported_with_its_payload_and_cancels_the_context() {
    let group = Group::new();
    let saw_cancel = Arc::new(AtomicUsize::new(0));
    for _ in 0..3 {
        let saw = Arc::clone(&saw_cancel);
        group
            .spawn(move |ctx| async move {
                ctx.cancelled().await;
                saw.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
    }
    group
        .spawn(|_| async { std::panic::panic_any(7_i32) })
        .unwrap();
    let report = tokio::time::timeout(BOUND, group.wait())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(
        saw_cancel.load(Ordering::SeqCst),
        3,
        "the panic cancelled the others"
    );
    assert_eq!(report.panics().len(), 1);
    let payload = report.panics()[0].panic().unwrap().take_payload().unwrap();
    assert_eq!(payload.downcast_ref::<i32>(), Some(&7));
    assert!(report.error().is_none());
    assert_eq!(report.to_string(), "1 task panicked: (non-string payload)");
    // Sticky: a later wait reports it again.
    assert_eq!(group.wait().await.unwrap_err().panics().len(), 1);
}

#[tokio::test]
async fn the_first_error_wins_cancels_and_is_returned() {
    let group = Group::new();
    group.spawn(|_| async { Err::<(), _>("first") }).unwrap();
    group.wait().await.unwrap_err();
    group
        .spawn(|_| async { Err::<(), _>(std::io::Error::other("second")) })
        .unwrap();
    let report = group.close().await.unwrap_err();
    assert_eq!(report.error().unwrap().to_string(), "first");
    assert!(group.context().is_cancelled());
    assert_eq!(report.to_string(), "first");
    assert!(std::error::Error::source(&report).is_some());
}

#[tokio::test]
async fn successful_result_tasks_report_nothing() {
    let group = Group::new();
    for _ in 0..10 {
        group
            .spawn(|_| async { Ok::<(), std::io::Error>(()) })
            .unwrap();
    }
    group.close().await.unwrap();
}

#[tokio::test]
async fn cancelling_a_parent_cancels_nested_groups_and_their_tasks() {
    let root = CancellationToken::new();
    let outer = Group::with_parent(&root);
    let inner = Group::with_parent(&outer.context());
    let stopped = Arc::new(AtomicUsize::new(0));
    for group in [&outer, &inner] {
        let stopped = Arc::clone(&stopped);
        group
            .spawn(move |ctx| async move {
                ctx.cancelled().await;
                stopped.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
    }
    root.cancel();
    tokio::time::timeout(BOUND, inner.wait())
        .await
        .unwrap()
        .unwrap();
    tokio::time::timeout(BOUND, outer.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stopped.load(Ordering::SeqCst), 2);
    // Cancelling the outer group alone also reaches the inner one.
    let outer = Group::new();
    let inner = Group::with_parent(&outer.context());
    outer.cancel();
    assert!(inner.context().is_cancelled());
}

#[tokio::test]
async fn no_task_outlives_close() {
    let group = Group::new();
    let running = Arc::new(AtomicUsize::new(0));
    for _ in 0..20 {
        let running = Arc::clone(&running);
        running.fetch_add(1, Ordering::SeqCst);
        group
            .spawn(move |ctx| async move {
                ctx.cancelled().await;
                // Slow shutdown: close must still wait for it.
                tokio::time::sleep(Duration::from_millis(20)).await;
                running.fetch_sub(1, Ordering::SeqCst);
            })
            .unwrap();
    }
    tokio::time::timeout(BOUND, group.close())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(running.load(Ordering::SeqCst), 0);
}

#[test]
fn a_runtime_shutdown_is_reported_as_aborted_tasks() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let group = Group::new();
    runtime.block_on(async {
        for _ in 0..3 {
            group
                .spawn(|ctx| async move { ctx.cancelled().await })
                .unwrap();
        }
    });
    drop(runtime);
    let report = group.wait().wait_timeout(BOUND).unwrap().unwrap_err();
    assert_eq!(report.aborted().len(), 3);
    assert!(report.to_string().contains("3 tasks aborted"), "{report}");
}

#[test]
fn spawn_outside_a_runtime_panics_naming_the_call_and_the_fix() {
    let group = Group::new();
    let caught = std::panic::catch_unwind(|| group.spawn(|_| async {}));
    let payload = caught.expect_err("must panic");
    let message = payload.downcast_ref::<String>().unwrap();
    assert!(
        message.starts_with("`runcycle::Group::spawn` must be called from within a tokio runtime"),
        "{message}"
    );
    assert!(
        message
            .ends_with("use `runcycle::Group::spawn_on` with a runtime handle from other threads"),
        "{message}"
    );
    // The refused task left nothing behind.
    assert!(group.is_empty());
    // (tests/task.rs checks that the panic points at the caller's line.)
}

#[tokio::test]
async fn spawn_takes_unit_and_result_tasks_without_annotations() {
    let group = Group::new();
    let ran = Arc::new(AtomicUsize::new(0));
    let r = Arc::clone(&ran);
    // `()`: nothing to report.
    group
        .spawn(|ctx| async move {
            let _ = ctx.is_cancelled();
            r.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
    let r = Arc::clone(&ran);
    // `Result<(), E>` with `E: Into<BoxError>`: a success reports nothing.
    group
        .spawn(|ctx| async move {
            let _ = ctx.is_cancelled();
            r.fetch_add(1, Ordering::SeqCst);
            Ok::<(), std::io::Error>(())
        })
        .unwrap();
    // The `?` operator inside a task: its error type is inferred from the
    // `Ok::<(), E>` the closure ends with.
    group
        .spawn(|_| async {
            let n: u8 = "7".parse()?;
            assert_eq!(n, 7);
            Ok::<(), std::num::ParseIntError>(())
        })
        .unwrap();
    tokio::time::timeout(BOUND, group.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 2);
    assert!(!group.context().is_cancelled(), "no task failed");

    // An `Err` cancels the context and is the report; `()` tasks are not.
    group
        .spawn(|_| async { Err::<(), _>(std::io::Error::other("refused")) })
        .unwrap();
    let report = tokio::time::timeout(BOUND, group.wait())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(report.error().unwrap().to_string(), "refused");
    assert!(group.context().is_cancelled());
}

/// A body that never returns has the output `!` (edition 2024) or `()` by
/// fallback (edition 2021, where a bound that needs the fallback is a
/// deny-by-default lint): both forms compile with no annotation.
#[test]
fn tasks_that_never_return_need_no_annotation() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let group = Group::new();
    group
        .spawn_on(
            |_| async {
                loop {
                    tokio::task::yield_now().await;
                }
            },
            runtime.handle(),
        )
        .unwrap();
    group
        .spawn_on(|_| async { panic!("only panics") }, runtime.handle())
        .unwrap();
    // The panicking task ends; the loop never does.
    let start = std::time::Instant::now();
    while group.len() > 1 {
        assert!(start.elapsed() < BOUND, "the panicking task never ended");
        std::thread::yield_now();
    }
    drop(runtime); // drops the loop unfinished
    let report = group.wait().wait_timeout(BOUND).unwrap().unwrap_err();
    assert_eq!(report.aborted().len(), 1, "{report}");
    assert_eq!(report.panics().len(), 1, "{report}");
}

#[test]
fn spawn_on_works_from_a_plain_thread() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let group = Group::new();
    let ran = Arc::new(AtomicUsize::new(0));
    for _ in 0..3 {
        let ran = Arc::clone(&ran);
        group
            .spawn_on(
                move |ctx| async move {
                    ctx.cancelled().await;
                    ran.fetch_add(1, Ordering::SeqCst);
                },
                runtime.handle(),
            )
            .unwrap();
    }
    group
        .spawn_on(
            |_| async { Err::<(), _>("from a plain thread") },
            runtime.handle(),
        )
        .unwrap();
    // The error cancels the context; the three others exit.
    let report = group.close().wait_timeout(BOUND).unwrap().unwrap_err();
    assert_eq!(report.error().unwrap().to_string(), "from a plain thread");
    assert_eq!(ran.load(Ordering::SeqCst), 3);
    assert!(matches!(
        group.spawn_on(|_| async {}, runtime.handle()),
        Err(ClosedError { .. })
    ));
}

#[tokio::test]
async fn a_fire_and_forget_close_closes_at_the_call() {
    let group = Group::new();
    group
        .spawn(|ctx| async move { ctx.cancelled().await })
        .unwrap();
    // A statement, on purpose: `GroupWait` is not `#[must_use]`, so this
    // compiles without a warning (clippy runs with `-D warnings` on tests).
    group.close();
    assert!(group.is_closed() && group.context().is_cancelled());
    assert!(group.spawn(|_| async {}).is_err());
    tokio::time::timeout(BOUND, group.wait())
        .await
        .unwrap()
        .unwrap();
}

#[test]
fn a_blocking_wait_times_out_without_changing_the_group() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _enter = runtime.enter();
    let group = Group::new();
    group
        .spawn(|ctx| async move { ctx.cancelled().await })
        .unwrap();
    assert!(group
        .wait()
        .wait_timeout(Duration::from_millis(10))
        .is_err());
    assert!(!group.is_closed() && group.len() == 1);
    group.cancel();
    assert!(matches!(group.wait().wait_timeout(BOUND), Ok(Ok(()))));
    assert!(format!("{group:?}").starts_with("Group"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_from_several_waiters_at_once() {
    let group = Group::new();
    let stopped = Arc::new(AtomicUsize::new(0));
    for _ in 0..4 {
        let stopped = Arc::clone(&stopped);
        group
            .spawn(move |ctx| async move {
                ctx.cancelled().await;
                tokio::time::sleep(Duration::from_millis(5)).await;
                stopped.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
    }
    let closers: Vec<_> = (0..6)
        .map(|_| {
            let group = group.clone();
            let stopped = Arc::clone(&stopped);
            tokio::spawn(async move {
                group.close().await.unwrap();
                assert_eq!(
                    stopped.load(Ordering::SeqCst),
                    4,
                    "a close returned before every task exited"
                );
            })
        })
        .collect();
    for c in closers {
        tokio::time::timeout(BOUND, c).await.unwrap().unwrap();
    }
}

/// `GroupWait::wait` (no bound) blocks a plain thread until the last task
/// ends and returns the group's report.
#[test]
fn a_blocking_wait_returns_the_report_after_the_last_task() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _enter = runtime.enter();
    let group = Group::new();
    let released = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    {
        let released = Arc::clone(&released);
        group
            .spawn(move |_| async move {
                let _ = rx.await;
                assert_eq!(released.load(Ordering::SeqCst), 1);
                panic!("last task fails");
            })
            .unwrap();
    }
    let wait = group.wait();
    let waiter = std::thread::spawn(move || wait.wait());
    std::thread::sleep(Duration::from_millis(20));
    released.store(1, Ordering::SeqCst);
    tx.send(()).unwrap();
    let report = waiter.join().unwrap().unwrap_err();
    assert_eq!(report.panics().len(), 1, "{report}");
    assert_eq!(
        report.panics()[0].panic().unwrap().message(),
        Some("last task fails")
    );
    assert!(group.is_empty());
}

#[test]
fn debug_shows_the_report_and_hides_the_future() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _enter = runtime.enter();
    let group = Group::new();
    assert_eq!(format!("{:?}", group.wait()), "GroupWait { tasks: 0, .. }");
    group.spawn(|_| async { panic!("boom") }).unwrap();
    let report = group.wait().wait_timeout(BOUND).unwrap().unwrap_err();
    let debug = format!("{report:?}");
    assert!(
        debug.starts_with("GroupError { failures: [TaskFailure { id: Some(")
            && debug.contains("name: None, error: Panicked("),
        "{debug}"
    );
    assert!(debug.contains("boom"), "{debug}");
}

/// Records that it was woken; the waker of a hand-polled wait.
#[derive(Default)]
struct Woken(std::sync::atomic::AtomicBool);

impl std::task::Wake for Woken {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A wake-up is not emptiness (spec/go.md G6): when its last task ends, the
/// group wakes every wait registered before, and a woken wait may be polled
/// only after a new task was added. The wait must re-check that the group
/// is empty. (First found with tokio-util's `TaskTracker`, which the group
/// used then, whose notifications behave the same; plant
/// `.ci/plants/group-wait-no-recheck.patch`.)
///
/// Driven by hand, with no timing: the wait is polled once (it registers
/// on the group's `empty` event), task A ends (the group notifies: the wait's
/// waker is woken), task B is added, and the wait is polled again: it must stay
/// pending while B runs. Without the re-check it resolves here every time;
/// proptest's `group_matches_model` found this only at 10,000 cases.
#[test]
fn wait_ignores_the_wake_up_of_an_earlier_emptiness() {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Waker};
    use std::time::Instant;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let _enter = runtime.enter();
    let group = Group::new();
    let (release_a, a) = tokio::sync::oneshot::channel::<()>();
    group
        .spawn(|_| async move {
            let _ = a.await;
        })
        .unwrap();

    let woken = Arc::new(Woken::default());
    let waker = Waker::from(Arc::clone(&woken));
    let mut cx = Context::from_waker(&waker);
    let mut wait = group.wait();
    assert!(
        Pin::new(&mut wait).poll(&mut cx).is_pending(),
        "the wait resolved while task A runs"
    );

    // A ends; the group's notification of that emptiness wakes the wait.
    release_a.send(()).unwrap();
    let start = Instant::now();
    while !woken.0.load(Ordering::SeqCst) {
        assert!(start.elapsed() < BOUND, "the end of task A woke no waiter");
        std::thread::yield_now();
    }

    // B starts before the woken wait is polled again.
    let (release_b, b) = tokio::sync::oneshot::channel::<()>();
    group
        .spawn(|_| async move {
            let _ = b.await;
        })
        .unwrap();
    assert_eq!(group.len(), 1);
    assert!(
        Pin::new(&mut wait).poll(&mut cx).is_pending(),
        "the wait resolved on the stale wake-up of A's end while task B still runs"
    );

    release_b.send(()).unwrap();
    assert!(matches!(wait.wait_timeout(BOUND), Ok(Ok(()))));
    assert!(group.is_empty());
}

// ---- limit, try_spawn, reserve (rules G3, G4) ----------------------------------

/// Waits until `cond` holds (20 s bound: a hang is a failure).
async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(start.elapsed() < BOUND, "hang: {what}");
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_into_a_full_group_queues_first_in_first_out() {
    let group = GroupBuilder::new().limit(2).build::<()>();
    assert_eq!(group.limit(), Some(2));
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut releases = Vec::new();
    for i in 0..6 {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        releases.push(tx);
        let (running, most, order) = (Arc::clone(&running), Arc::clone(&most), Arc::clone(&order));
        group
            .spawn(move |_| async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                order.lock().unwrap().push(i);
                let _ = rx.await;
                running.fetch_sub(1, Ordering::SeqCst);
            })
            .unwrap();
    }
    assert_eq!(group.len(), 6, "queued tasks count in len()");
    until("two bodies start", || order.lock().unwrap().len() == 2).await;
    // Release in order: each end frees a slot for the next queued task.
    for (i, tx) in releases.into_iter().enumerate() {
        tx.send(()).unwrap();
        let started = (i + 3).min(6);
        until("the next queued body starts", || {
            order.lock().unwrap().len() == started
        })
        .await;
    }
    tokio::time::timeout(BOUND, group.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        most.load(Ordering::SeqCst),
        2,
        "more than the limit ran at once"
    );
    assert_eq!(
        *order.lock().unwrap(),
        [0, 1, 2, 3, 4, 5],
        "not first in, first out"
    );
}

#[tokio::test]
async fn try_spawn_refuses_full_then_closed_and_closed_wins() {
    let group = GroupBuilder::new().limit(1).build::<()>();
    let ran = Arc::new(AtomicUsize::new(0));
    group
        .try_spawn(|ctx| async move { ctx.cancelled().await })
        .unwrap();
    let r = Arc::clone(&ran);
    assert_eq!(
        group.try_spawn(move |_| async move {
            r.fetch_add(1, Ordering::SeqCst);
        }),
        Err(TrySpawnError::Full)
    );
    assert_eq!(group.len(), 1, "a refused task is not counted");
    // Closed and full at once: closed wins.
    let wait = group.close();
    assert_eq!(group.try_spawn(|_| async {}), Err(TrySpawnError::Closed));
    assert_eq!(
        group.build_task().name("late").try_spawn(|_| async {}),
        Err(TrySpawnError::Closed)
    );
    tokio::time::timeout(BOUND, wait).await.unwrap().unwrap();
    // Closed and free: still closed.
    assert_eq!(group.try_spawn(|_| async {}), Err(TrySpawnError::Closed));
    assert_eq!(ran.load(Ordering::SeqCst), 0, "a refused task ran");
    assert_eq!(TrySpawnError::Full.to_string(), "full");
    assert_eq!(TrySpawnError::Closed.to_string(), "closed");
    // Without a limit, try_spawn never says Full.
    let free = Group::new();
    for _ in 0..100 {
        free.try_spawn(|ctx| async move { ctx.cancelled().await })
            .unwrap();
    }
    free.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserve_waits_for_a_slot_and_a_close_refuses_it() {
    use std::future::Future;
    let group = GroupBuilder::new().limit(1).build::<()>();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    group
        .spawn(move |_| async move {
            let _ = rx.await;
        })
        .unwrap();
    // Pending while the only slot is taken; a free slot resolves it.
    let mut reserve = Box::pin(group.build_task().name("second").reserve());
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(
        std::future::poll_fn(|cx| std::task::Poll::Ready(reserve.as_mut().poll(cx)))
            .await
            .is_pending()
    );
    tx.send(()).unwrap();
    let slot = tokio::time::timeout(BOUND, reserve).await.unwrap().unwrap();
    assert_eq!(
        group.try_spawn(|_| async {}),
        Err(TrySpawnError::Full),
        "the slot is held"
    );
    let id = slot.spawn(|_| async { panic!("second fails") }).unwrap();
    let report = tokio::time::timeout(BOUND, group.wait())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(report.panics()[0].name(), Some("second"));
    assert_eq!(report.panics()[0].id(), Some(id));

    // A dropped slot frees its place.
    let group = GroupBuilder::new().limit(1).build::<()>();
    let slot = group.reserve().await.unwrap();
    assert_eq!(group.try_spawn(|_| async {}), Err(TrySpawnError::Full));
    drop(slot);
    group
        .try_spawn(|ctx| async move { ctx.cancelled().await })
        .unwrap();

    // Every waiting reserve is woken and refused by a close.
    let waiting: Vec<_> = (0..3)
        .map(|_| {
            let group = group.clone();
            tokio::spawn(async move { group.reserve().await.map(drop) })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(
        waiting.iter().all(|w| !w.is_finished()),
        "a reserve did not wait"
    );
    let wait = group.close();
    for w in waiting {
        assert!(matches!(
            tokio::time::timeout(BOUND, w).await.unwrap().unwrap(),
            Err(ClosedError { .. })
        ));
    }
    tokio::time::timeout(BOUND, wait).await.unwrap().unwrap();
    assert!(group.reserve().await.is_err(), "reserve on a closed group");

    // A slot reserved before a close is refused by Slot::spawn, and freed.
    let group = GroupBuilder::new().limit(1).build::<()>();
    let slot = group.reserve().await.unwrap();
    group.close();
    assert!(matches!(slot.spawn(|_| async {}), Err(ClosedError { .. })));
    assert!(group.is_empty());
    // Without a limit, reserve is ready at once.
    let free = Group::new();
    let slot = free.reserve().await.unwrap();
    slot.spawn(|_| async {}).unwrap();
    free.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_queued_at_the_close_stay_accepted_and_run_with_a_cancelled_context() {
    let group = GroupBuilder::new().limit(1).build::<()>();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    group
        .spawn(move |_| async move {
            let _ = rx.await;
        })
        .unwrap();
    let saw_cancelled = Arc::new(AtomicUsize::new(0));
    for _ in 0..3 {
        let saw = Arc::clone(&saw_cancelled);
        group
            .spawn(move |ctx| async move {
                if ctx.is_cancelled() {
                    saw.fetch_add(1, Ordering::SeqCst);
                }
            })
            .unwrap();
    }
    let wait = group.close();
    assert_eq!(group.len(), 4);
    tx.send(()).unwrap();
    tokio::time::timeout(BOUND, wait).await.unwrap().unwrap();
    assert_eq!(saw_cancelled.load(Ordering::SeqCst), 3);
}

/// A task's slot is free by the time a wait sees the task gone: a
/// `try_spawn` right after `wait` is never refused as full. (Found by
/// `group_matches_model` when the slot was freed after the count dropped.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slot_is_free_once_a_wait_saw_its_task_end() {
    let group = GroupBuilder::new().limit(1).build::<()>();
    for round in 0..2_000 {
        group
            .try_spawn(|_| async {})
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        tokio::time::timeout(BOUND, group.wait())
            .await
            .unwrap()
            .unwrap();
    }
}

#[test]
fn a_limit_of_zero_panics_naming_the_call() {
    let caught = std::panic::catch_unwind(|| GroupBuilder::new().limit(0));
    let payload = caught.expect_err("must panic");
    let message = payload.downcast_ref::<String>().map_or_else(
        || payload.downcast_ref::<&str>().unwrap().to_string(),
        Clone::clone,
    );
    assert!(
        message.starts_with("`runcycle::GroupBuilder::limit` needs at least one slot"),
        "{message}"
    );
}

// ---- results (rule G8) ---------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_next_yields_outcomes_in_completion_order_each_once() {
    let group = GroupBuilder::new().build::<u32>();
    let mut releases = Vec::new();
    let mut ids = Vec::new();
    for i in 0..4_u32 {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        releases.push(Some(tx));
        let id = group
            .spawn(move |_| async move {
                let _ = rx.await;
                match i {
                    1 => Err(format!("task {i} failed")),
                    2 => panic!("task {i} panicked"),
                    _ => Ok(i * 10),
                }
            })
            .unwrap();
        ids.push(id);
    }
    assert!(group.try_join_next().is_none(), "nothing finished yet");
    // Completion order 3, 1, 0, 2.
    for (k, &i) in [3_usize, 1, 0, 2].iter().enumerate() {
        releases[i].take().unwrap().send(()).unwrap();
        let outcome = tokio::time::timeout(BOUND, group.join_next())
            .await
            .unwrap()
            .unwrap();
        match (i, outcome) {
            (1, Err(f)) => {
                assert_eq!(f.id(), Some(ids[1]));
                assert_eq!(f.error().to_string(), "task failed: task 1 failed");
            }
            (2, Err(f)) => {
                assert_eq!(f.id(), Some(ids[2]));
                assert_eq!(f.panic().unwrap().message(), Some("task 2 panicked"));
            }
            (i, Ok((id, v))) => {
                assert_eq!(id, ids[i]);
                assert_eq!(v, u32::try_from(i).unwrap() * 10);
            }
            (i, other) => panic!("step {k}: task {i} gave {other:?}"),
        }
    }
    assert!(group.join_next().await.is_none());
    assert!(group.try_join_next().is_none());
    // A failure is kept in the report too, in completion order.
    let report = group.wait().await.unwrap_err();
    let failed: Vec<_> = report.failures().iter().map(TaskFailure::id).collect();
    assert_eq!(failed, [Some(ids[1]), Some(ids[2])]);
    assert_eq!(report.error().unwrap().to_string(), "task 1 failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_group_queues_its_failures_only() {
    let group = Group::new();
    for _ in 0..100 {
        group.spawn(|_| async {}).unwrap();
    }
    let failed = group
        .build_task()
        .name("f")
        .spawn(|_| async { Err::<(), _>("no") })
        .unwrap();
    group.wait().await.unwrap_err();
    let failure = group.join_next().await.unwrap().unwrap_err();
    assert_eq!((failure.id(), failure.name()), (Some(failed), Some("f")));
    assert!(group.join_next().await.is_none(), "a success was queued");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_join_next_callers_share_the_outcomes_exactly_once() {
    let group = GroupBuilder::new().build::<usize>();
    let n = 2_000;
    let joiners: Vec<_> = (0..4)
        .map(|_| {
            let group = group.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                while let Some(outcome) = group.join_next().await {
                    got.push(outcome.unwrap().1);
                }
                got
            })
        })
        .collect();
    for i in 0..n {
        group
            .spawn(move |_| async move {
                tokio::task::yield_now().await;
                Ok::<_, std::io::Error>(i)
            })
            .unwrap();
    }
    // A joiner may see the group empty before the next spawn: drain the
    // rest here.
    let mut all = Vec::new();
    for j in joiners {
        all.extend(tokio::time::timeout(BOUND, j).await.unwrap().unwrap());
    }
    tokio::time::timeout(BOUND, group.wait())
        .await
        .unwrap()
        .unwrap();
    while let Some(outcome) = group.try_join_next() {
        all.push(outcome.unwrap().1);
    }
    all.sort_unstable();
    assert_eq!(all, (0..n).collect::<Vec<_>>());
}

// ---- abort (rule G9) -------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_all_drops_running_and_queued_tasks_but_not_later_ones() {
    let group = GroupBuilder::new().limit(1).build::<()>();
    let dropped = Arc::new(AtomicUsize::new(0));
    struct CountDrop(Arc<AtomicUsize>);
    impl Drop for CountDrop {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let started = Arc::new(AtomicUsize::new(0));
    let mut ids = Vec::new();
    for i in 0..3 {
        let (d, s) = (Arc::clone(&dropped), Arc::clone(&started));
        ids.push(
            group
                .build_task()
                .name(format!("deaf {i}"))
                .spawn(move |_| async move {
                    let _guard = CountDrop(d);
                    s.fetch_add(1, Ordering::SeqCst);
                    std::future::pending::<()>().await; // ignores its context
                })
                .unwrap(),
        );
    }
    until("the first body starts", || {
        started.load(Ordering::SeqCst) == 1
    })
    .await;
    group.abort_all();
    assert!(group.context().is_cancelled(), "abort_all cancels first");
    let report = tokio::time::timeout(BOUND, group.wait())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(
        started.load(Ordering::SeqCst),
        1,
        "a queued body ran after the abort"
    );
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        1,
        "the running body was not dropped"
    );
    let mut aborted: Vec<_> = report.aborted().iter().map(|f| f.id().unwrap()).collect();
    aborted.sort_unstable();
    ids.sort_unstable();
    assert_eq!(aborted, ids);
    assert!(report
        .aborted()
        .iter()
        .all(|f| f.name().unwrap().starts_with("deaf ")));
    // Not closed: a later task runs to its end (the slots were freed).
    let later = group.spawn(|_| async { Ok::<(), std::io::Error>(()) });
    later.unwrap();
    let report = tokio::time::timeout(BOUND, group.wait())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(report.aborted().len(), 3, "the later task was aborted");
}

#[tokio::test]
async fn a_task_that_finished_before_abort_all_keeps_its_outcome() {
    let group = Group::new();
    group.spawn(|_| async { Err::<(), _>("mine") }).unwrap();
    group.wait().await.unwrap_err();
    group.abort_all();
    let report = group.wait().await.unwrap_err();
    assert_eq!(report.failures().len(), 1);
    assert_eq!(report.error().unwrap().to_string(), "mine");
    assert!(report.aborted().is_empty());
}

/// A task that a pending abort listener knows nothing about (it registered
/// while another `abort_all` was being notified) is still woken by the next
/// `abort_all`: many rounds of abort_all racing spawns of pending tasks.
#[test]
fn abort_all_racing_spawns_never_leaves_a_pending_task_behind() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for _ in 0..200 {
        let group = Group::new();
        std::thread::scope(|s| {
            let g = group.clone();
            let handle = runtime.handle().clone();
            s.spawn(move || {
                for _ in 0..20 {
                    g.spawn_on(|_| std::future::pending::<()>(), &handle)
                        .unwrap();
                }
            });
            let g = group.clone();
            s.spawn(move || {
                for _ in 0..5 {
                    g.abort_all();
                    std::thread::yield_now();
                }
            });
        });
        // Every task was accepted before this call: all are aborted.
        group.abort_all();
        let report = group
            .wait()
            .wait_timeout(BOUND)
            .expect("a task was not aborted")
            .unwrap_err();
        assert_eq!(report.aborted().len(), 20);
    }
}

// ---- shutdown (rule G10) -----------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn shutdown_returns_early_when_every_task_ends_on_cancel() {
    let group = Group::new();
    for _ in 0..3 {
        group
            .spawn(|ctx| async move { ctx.cancelled().await })
            .unwrap();
    }
    let start = tokio::time::Instant::now();
    group.shutdown(Duration::from_secs(60)).await.unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "waited for the deadline"
    );
    assert!(group.is_closed() && group.is_empty());
}

#[test]
fn ids_and_names_appear_in_debug_and_display() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let group = Group::new();
    let id = group
        .build_task()
        .name("indexer")
        .spawn_on(|_| async { Err::<(), _>("bad page") }, runtime.handle())
        .unwrap();
    let report = group.wait().wait_timeout(BOUND).unwrap().unwrap_err();
    let failure = &report.failures()[0];
    assert_eq!(
        failure.to_string(),
        format!("task {id} \"indexer\": task failed: bad page")
    );
    let debug = format!("{failure:?}");
    assert!(
        debug.contains(&format!("{id:?}")) && debug.contains("\"indexer\""),
        "{debug}"
    );
    let group_debug = format!("{:?}", GroupBuilder::new().limit(3).build::<()>());
    assert_eq!(
        group_debug,
        "Group { tasks: 0, closed: false, cancelled: false, limit: Some(3), .. }"
    );
}
