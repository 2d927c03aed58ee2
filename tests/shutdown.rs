//! Bounded shutdown of a `Group` (spec/go.md, rules G9 to G11): the
//! newcomer's app from issue #13, 10,000 tasks with every kind of outcome at
//! once, races of close, spawn, abort and a full limit, a runtime shutdown,
//! and the blocking form. Time is tokio's paused clock wherever a deadline
//! decides the outcome; real time only bounds a hang (20 s).

#![cfg(all(not(loom), feature = "tokio"))]

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use runcycle::{Group, GroupBuilder, TaskError, TaskId, TrySpawnError};

const BOUND: Duration = Duration::from_secs(20);

/// The prefix of the tasks' panic messages here; [`quiet_task_panics`]
/// does not print them (thousands of expected panics).
const MARK: &str = "shutdown.rs: ";

/// Task panics are expected by the thousand: print only the others.
fn quiet_task_panics() {
    common::tasks::quiet_panics(|info| common::tasks::marked(info, MARK));
}

/// The newcomer's echo server (issue #13): connection handlers in a Group,
/// one of them ignores cancellation; shutdown on "Ctrl-C" with a 500 ms
/// bound. The report names the handler that had to be aborted, by id and
/// name, and the shutdown took the bound, no more.
#[tokio::test(start_paused = true)]
async fn the_newcomer_app_shuts_down_within_its_bound_and_names_what_it_aborted() {
    let shutdown = runcycle::CancellationToken::new();
    let handlers = Group::with_parent(&shutdown);
    let closed_cleanly = Arc::new(AtomicUsize::new(0));
    for conn in 0..3 {
        let closed_cleanly = Arc::clone(&closed_cleanly);
        handlers
            .build_task()
            .name(format!("conn {conn}"))
            .spawn(move |ctx| async move {
                // Echo until asked to stop, then say goodbye (20 ms).
                ctx.cancelled().await;
                tokio::time::sleep(Duration::from_millis(20)).await;
                closed_cleanly.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
    }
    let stuck = handlers
        .build_task()
        .name("conn 3 (stuck in a read)")
        .spawn(|_ctx| async {
            // A read with no timeout that never sees the context.
            tokio::time::sleep(Duration::from_secs(3600)).await;
        })
        .unwrap();
    let poller = handlers
        .build_task()
        .name("flaky poller")
        .spawn(|_ctx| async { Err::<(), _>("upstream 503") });

    tokio::time::sleep(Duration::from_millis(5)).await; // serving...
    shutdown.cancel(); // Ctrl-C
    let start = tokio::time::Instant::now();
    let report = handlers
        .shutdown(Duration::from_millis(500))
        .await
        .unwrap_err();
    assert_eq!(
        start.elapsed(),
        Duration::from_millis(500),
        "the shutdown took other than its bound (paused clock)"
    );
    assert_eq!(closed_cleanly.load(Ordering::SeqCst), 3);
    let aborted = report.aborted();
    assert_eq!(aborted.len(), 1, "{report}");
    assert_eq!(aborted[0].id(), Some(stuck));
    assert_eq!(aborted[0].name(), Some("conn 3 (stuck in a read)"));
    assert!(matches!(aborted[0].error(), TaskError::Aborted));
    let first = report.first_error().unwrap();
    assert_eq!(first.id(), Some(poller.unwrap()));
    assert_eq!(first.name(), Some("flaky poller"));
    assert_eq!(report.to_string(), "upstream 503; 1 task aborted");
    assert!(handlers.is_closed() && handlers.is_empty());
    // What the app prints.
    for failure in report.failures() {
        println!("{failure}");
    }
}

/// How each of the 10,000 tasks ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    /// Returns `Ok(i)` at once.
    Success,
    /// Returns `Err` at once.
    Error,
    /// Panics at once.
    Panic,
    /// Returns `Ok(i)` when the context is cancelled.
    OnCancel,
    /// Ignores cancellation: only an abort ends it.
    Deaf,
}

fn kind(i: usize) -> Kind {
    match i % 5 {
        0 => Kind::Success,
        1 => Kind::Error,
        2 => Kind::Panic,
        3 => Kind::OnCancel,
        _ => Kind::Deaf,
    }
}

/// 10,000 tasks that succeed, fail, panic, end on cancel or ignore it, all
/// at once; a shutdown with a deadline; every task's outcome is accounted
/// for exactly once, by its id, both in `join_next` and in the report.
fn ten_thousand_mixed(runtime: &tokio::runtime::Runtime, settle_first: bool) {
    quiet_task_panics();
    let n = 10_000;
    runtime.block_on(async {
        let group = GroupBuilder::new().build::<usize>();
        let mut kinds = HashMap::new();
        for i in 0..n {
            let k = kind(i);
            let id = group
                .spawn(move |ctx| async move {
                    match k {
                        Kind::Success => Ok(i),
                        Kind::Error => Err(format!("error {i}")),
                        Kind::Panic => panic!("{MARK}panic {i}"),
                        Kind::OnCancel => {
                            ctx.cancelled().await;
                            Ok(i)
                        }
                        Kind::Deaf => {
                            std::future::pending::<()>().await;
                            unreachable!()
                        }
                    }
                })
                .unwrap();
            assert!(kinds.insert(id, (i, k)).is_none(), "an id was given twice");
        }
        if settle_first {
            // Real clock: a deadline could fall before a task's first poll
            // (which would then be aborted, rightly). Close, and let every
            // task that can end do so, before the bounded shutdown.
            group.close();
            let start = std::time::Instant::now();
            while group.len() > n / 5 {
                assert!(start.elapsed() < BOUND, "hang: {} tasks left", group.len());
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        let report = tokio::time::timeout(BOUND, group.shutdown(Duration::from_millis(100)))
            .await
            .expect("hang")
            .unwrap_err();

        // Every outcome once, through join_next.
        let mut seen: HashMap<TaskId, Kind> = HashMap::new();
        while let Some(outcome) = group.join_next().await {
            let (id, got) = match outcome {
                Ok((id, value)) => {
                    assert_eq!(kinds[&id].0, value, "a value came back under another id");
                    (
                        id,
                        if value % 5 == 0 {
                            Kind::Success
                        } else {
                            Kind::OnCancel
                        },
                    )
                }
                Err(failure) => {
                    let id = failure.id().expect("every failure has its id");
                    let got = match failure.error() {
                        TaskError::Failed(e) => {
                            assert_eq!(e.to_string(), format!("error {}", kinds[&id].0));
                            Kind::Error
                        }
                        TaskError::Panicked(p) => {
                            assert_eq!(
                                p.message(),
                                Some(format!("{MARK}panic {}", kinds[&id].0).as_str())
                            );
                            Kind::Panic
                        }
                        TaskError::Aborted => Kind::Deaf,
                        other => panic!("unexpected outcome {other:?}"),
                    };
                    (id, got)
                }
            };
            assert!(seen.insert(id, got).is_none(), "task {id} reported twice");
        }
        assert_eq!(seen.len(), n, "an outcome was lost");
        for (id, (i, k)) in &kinds {
            assert_eq!(seen[id], *k, "task {i} ({id})");
        }
        // The report holds every failure: the errors, panics and aborts.
        assert_eq!(report.failures().len(), n / 5 * 3);
        assert_eq!(report.panics().len(), n / 5);
        assert_eq!(report.aborted().len(), n / 5);
        assert!(report
            .aborted()
            .iter()
            .all(|f| kinds[&f.id().unwrap()].1 == Kind::Deaf));
        assert!(group.is_empty());
    });
}

/// On the paused clock (current thread): every runnable task runs before
/// the deadline fires, so the outcome of each kind is certain.
#[test]
fn ten_thousand_tasks_with_every_outcome_at_once_paused_clock() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    ten_thousand_mixed(&runtime, false);
}

/// The same on a multi-thread runtime (real clock): the group is closed and
/// every task that can end has ended before the shutdown, so that the
/// deadline decides nothing (see `ten_thousand_mixed`).
#[test]
fn ten_thousand_tasks_with_every_outcome_at_once_multi_thread() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    ten_thousand_mixed(&runtime, true);
}

/// Close vs spawn vs abort_all vs a full limit, on a multi-thread runtime,
/// many rounds: every accepted task is accounted for exactly once (a value
/// or a failure in `join_next`, under the id its spawn returned), no spawn
/// that began after the close returned is accepted, and the limit is never
/// exceeded.
#[test]
fn close_spawn_abort_and_a_full_limit_race_and_every_task_is_accounted_once() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let limit = 3;
    for round in 0..100 {
        let group = GroupBuilder::new().limit(limit).build::<usize>();
        let closed = AtomicBool::new(false);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let accepted = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            for spawner in 0..2 {
                let (group, closed, accepted) = (&group, &closed, &accepted);
                let (running, most) = (Arc::clone(&running), Arc::clone(&most));
                let handle = runtime.handle().clone();
                s.spawn(move || {
                    let _enter = handle.enter();
                    for i in 0..40 {
                        let was_closed = closed.load(Ordering::SeqCst);
                        let (running, most) = (Arc::clone(&running), Arc::clone(&most));
                        let body = move |ctx: runcycle::Context| async move {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            struct Leave(Arc<AtomicUsize>);
                            impl Drop for Leave {
                                fn drop(&mut self) {
                                    self.0.fetch_sub(1, Ordering::SeqCst);
                                }
                            }
                            let _leave = Leave(running);
                            match i % 4 {
                                0 => {}
                                1 => tokio::task::yield_now().await,
                                2 => ctx.cancelled().await,
                                _ => std::future::pending::<()>().await, // deaf
                            }
                            Ok::<_, std::io::Error>(spawner * 1000 + i)
                        };
                        let result = if i % 3 == 0 {
                            group
                                .try_spawn(body)
                                .map_err(|e| e == TrySpawnError::Closed)
                        } else {
                            group.spawn(body).map_err(|_| true)
                        };
                        match result {
                            Ok(id) => {
                                assert!(!was_closed, "a spawn after the close was accepted");
                                accepted.lock().unwrap().push((id, spawner * 1000 + i));
                            }
                            Err(true) => break, // closed
                            Err(false) => {}    // full
                        }
                    }
                });
            }
            let group = &group;
            s.spawn(move || {
                for _ in 0..3 {
                    group.abort_all();
                    std::thread::yield_now();
                }
            });
            let closed = &closed;
            s.spawn(move || {
                for _ in 0..round % 7 {
                    std::thread::yield_now();
                }
                drop(group.close());
                closed.store(true, Ordering::SeqCst);
            });
        });
        let report = group.blocking_shutdown(Duration::from_millis(20));
        let accepted = accepted.into_inner().unwrap();
        let mut outcomes: HashMap<TaskId, Option<usize>> = HashMap::new();
        let runtime_handle = runtime.handle();
        while let Some(outcome) = runtime_handle.block_on(group.join_next()) {
            let (id, value) = match outcome {
                Ok((id, value)) => (id, Some(value)),
                Err(failure) => {
                    assert!(matches!(failure.error(), TaskError::Aborted), "{failure}");
                    (failure.id().unwrap(), None)
                }
            };
            assert!(
                outcomes.insert(id, value).is_none(),
                "round {round}: {id} twice"
            );
        }
        assert_eq!(
            outcomes.len(),
            accepted.len(),
            "round {round}: lost or extra"
        );
        for (id, value) in &accepted {
            if let Some(v) = outcomes[id] {
                assert_eq!(v, *value, "round {round}");
            }
        }
        let aborted = report.err().map_or(0, |r| r.aborted().len());
        assert_eq!(
            aborted,
            outcomes.values().filter(|v| v.is_none()).count(),
            "round {round}: the report and join_next disagree"
        );
        assert!(
            most.load(Ordering::SeqCst) <= limit,
            "round {round}: over the limit"
        );
        assert!(group.is_empty() && running.load(Ordering::SeqCst) == 0);
    }
}

/// A runtime shutdown drops the unfinished tasks, queued ones included:
/// each is reported `Aborted` with its id and name, never lost, never a
/// success (rule G11).
#[test]
fn a_runtime_shutdown_reports_every_unfinished_task_aborted_by_id() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let group = GroupBuilder::new().limit(2).build::<u32>();
    let mut unfinished = Vec::new();
    for i in 0..5 {
        // 2 run and wait forever, 3 are queued behind them.
        let id = group
            .build_task()
            .name(format!("t{i}"))
            .spawn_on(
                |_| std::future::pending::<Result<u32, std::io::Error>>(),
                runtime.handle(),
            )
            .unwrap();
        unfinished.push(id);
    }
    drop(runtime);
    let report = group.wait().wait_timeout(BOUND).unwrap().unwrap_err();
    let mut aborted: Vec<_> = report.aborted().iter().map(|f| f.id().unwrap()).collect();
    aborted.sort_unstable();
    unfinished.sort_unstable();
    assert_eq!(aborted, unfinished);
    assert_eq!(report.failures().len(), 5);
    assert!(group.is_empty());
}

/// `blocking_shutdown` from a plain thread: the tasks that end on cancel
/// end, the deaf one is aborted after the bound.
#[test]
fn blocking_shutdown_from_a_plain_thread() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let group = Group::new();
    let ended = Arc::new(AtomicUsize::new(0));
    for _ in 0..4 {
        let ended = Arc::clone(&ended);
        group
            .spawn_on(
                move |ctx| async move {
                    ctx.cancelled().await;
                    ended.fetch_add(1, Ordering::SeqCst);
                },
                runtime.handle(),
            )
            .unwrap();
    }
    let deaf = group
        .build_task()
        .name("deaf")
        .spawn_on(|_| std::future::pending::<()>(), runtime.handle())
        .unwrap();
    let report = std::thread::spawn(move || {
        let report = group.blocking_shutdown(Duration::from_millis(50));
        (group, report)
    });
    let (group, report) = report.join().unwrap();
    let report = report.unwrap_err();
    assert_eq!(ended.load(Ordering::SeqCst), 4);
    assert_eq!(report.aborted().len(), 1);
    assert_eq!(report.aborted()[0].id(), Some(deaf));
    assert!(group.is_closed() && group.is_empty());
    // Nothing left: a second shutdown returns the same report at once.
    assert_eq!(
        group
            .blocking_shutdown(Duration::ZERO)
            .unwrap_err()
            .failures()
            .len(),
        1
    );
}

/// `blocking_shutdown` on a runtime thread panics, naming the call, as
/// every blocking wait of the crate does.
#[test]
fn blocking_shutdown_on_a_runtime_thread_panics_naming_the_call() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let caught = runtime.block_on(async {
        let group = Group::new();
        std::panic::catch_unwind(|| group.blocking_shutdown(Duration::ZERO))
    });
    let payload = caught.expect_err("must panic");
    let message = payload.downcast_ref::<String>().unwrap();
    assert!(
        message.starts_with("`runcycle::Group::blocking_shutdown` cannot block a thread that drives a tokio runtime"),
        "{message}"
    );
}

/// A task accepted after `abort_all` is not affected; one accepted before,
/// and still queued for a slot, is aborted without its body ever running.
#[tokio::test(start_paused = true)]
async fn shutdown_aborts_queued_tasks_without_running_their_bodies() {
    let group = GroupBuilder::new().limit(1).build::<()>();
    let bodies = Arc::new(AtomicUsize::new(0));
    for _ in 0..3 {
        let bodies = Arc::clone(&bodies);
        group
            .spawn(move |_| async move {
                bodies.fetch_add(1, Ordering::SeqCst);
                std::future::pending::<()>().await;
            })
            .unwrap();
    }
    let report = group.shutdown(Duration::from_secs(1)).await.unwrap_err();
    assert_eq!(bodies.load(Ordering::SeqCst), 1, "a queued body ran");
    assert_eq!(report.aborted().len(), 3);
}

/// A spawn onto a runtime that has shut down is accepted (the group is
/// open) and its task, dropped by tokio at once, is reported aborted under
/// the id the spawn returned: never lost, never a success.
#[test]
fn a_spawn_onto_a_shut_down_runtime_is_reported_aborted() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let handle = runtime.handle().clone();
    drop(runtime);
    let group = Group::new();
    let ran = Arc::new(AtomicBool::new(false));
    let r = Arc::clone(&ran);
    let id = group
        .build_task()
        .name("late")
        .spawn_on(
            move |_| async move {
                r.store(true, Ordering::SeqCst);
            },
            &handle,
        )
        .unwrap();
    let report = group.wait().wait_timeout(BOUND).unwrap().unwrap_err();
    assert_eq!(report.aborted().len(), 1);
    assert_eq!(report.aborted()[0].id(), Some(id));
    assert_eq!(report.aborted()[0].name(), Some("late"));
    assert!(!ran.load(Ordering::SeqCst));
}
