//! The `tracing` feature: every state transition emits one `trace!` event
//! with the instance, the event, and the phases before and after; every
//! task emits `task spawned` and `task ended` (id, name, outcome).
//!
//! `cargo test --features tracing --test tracing`

#![cfg(all(not(loom), feature = "tracing"))]

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// A minimal subscriber that runs a callback inside every event of target
/// `runcycle` (the engine emits it between a transition's compare-and-swap and
/// its token's cancellation).
#[derive(Clone)]
struct Hook(Arc<dyn Fn(&Event<'_>) + Send + Sync>);

impl Subscriber for Hook {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target() == "runcycle"
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        (self.0)(event);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, "{}={:?} ", field.name(), value);
    }
}

/// A hook that records each event's fields as text, and the record.
fn recorder() -> (Hook, Arc<Mutex<Vec<String>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = Arc::clone(&log);
    let hook = Hook(Arc::new(move |event: &Event<'_>| {
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        l.lock().unwrap().push(fields.0);
    }));
    (hook, log)
}

#[test]
fn every_transition_emits_one_event_and_no_ops_emit_none() {
    let (recorder, log) = recorder();
    tracing::subscriber::with_default(recorder, || {
        let many = runcycle::Many::new();
        let guard = many.start().unwrap(); // Created -> Running
        let _ = many.start(); // refused: no transition
        let _ = many.stop(); // Running -> Stopping
        drop(guard); // Stopping -> Stopped
        let _ = many.stop(); // no-op on Stopped
        many.close(); // Stopped -> Closed
    });
    let events = log.lock().unwrap().clone();
    let transitions: Vec<String> = events
        .iter()
        .map(|e| {
            let get = |k: &str| {
                e.split_whitespace()
                    .find_map(|f| f.strip_prefix(&format!("{k}=")))
                    .unwrap_or("?")
                    .to_string()
            };
            format!("{} {}->{}", get("event"), get("from"), get("to"))
        })
        .collect();
    assert_eq!(
        transitions,
        [
            "Start Created->Running",
            "Stop Running->Stopping",
            "Complete Stopping->Stopped",
            "Close Stopped->Closed",
        ],
        "{events:#?}"
    );
    assert!(events
        .iter()
        .all(|e| e.contains("instance=0x") && e.contains("kind=Many")));
}

/// spec/README.md section 8: the window of S2 is real (the rules claim no
/// less than the engine does), S1 holds inside it, S3 closes it for
/// `context()`, and S4 closes it when the call returns. The transition's
/// event is emitted between the compare-and-swap and the token's
/// cancellation, so a subscriber observes the window deterministically. It
/// also shows that a subscriber may call back into the instance (section
/// 13): no lock is held.
#[test]
fn a_subscriber_sees_the_new_state_before_the_token_is_cancelled() {
    let many = runcycle::Many::new();
    let guard = many.start().unwrap();
    let earlier = guard.context();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (m, ctx, log) = (many.clone(), earlier.clone(), Arc::clone(&seen));
    let hook = Hook(Arc::new(move |_: &Event<'_>| {
        // In this order: the earlier token, the state, then `context()`.
        let before = ctx.is_cancelled();
        let state = m.state();
        let refused = m.start().err();
        let fresh = m.context().is_cancelled();
        let after = ctx.is_cancelled();
        log.lock()
            .unwrap()
            .push((before, state, refused, fresh, after));
    }));
    tracing::subscriber::with_default(hook, || {
        let _ = many.stop(); // Running -> Stopping: cancels the context
                             // S4: the call has returned, the token is cancelled.
        assert!(earlier.is_cancelled());
    });
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [(
            false,                               // S2: the earlier token lags...
            runcycle::State::Running,            // ...the published Stopping
            Some(runcycle::StartError::Running), // (a start is refused: stop requested)
            true,                                // S3: context() is cancelled
            true,                                // and it cancelled the shared token
        )],
    );
    drop(guard);
}

/// The same window on a transition whose new state is visible in `state()`:
/// a Created `One` closed.
#[test]
fn a_subscriber_sees_closed_before_the_token_is_cancelled() {
    let one = runcycle::One::new();
    let earlier = one.context();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (o, ctx, log) = (one.clone(), earlier.clone(), Arc::clone(&seen));
    let hook = Hook(Arc::new(move |_: &Event<'_>| {
        log.lock()
            .unwrap()
            .push((ctx.is_cancelled(), o.state(), o.done().is_done()));
    }));
    tracing::subscriber::with_default(hook, || drop(one.close()));
    assert!(earlier.is_cancelled(), "S4");
    assert_eq!(
        *seen.lock().unwrap(),
        [(false, runcycle::State::Closed, true)],
        "S2: Closed and done, the earlier token not yet cancelled"
    );
}

/// The help of spec/README.md section 8 (S4): a call answered from a phase
/// whose context is cancelled returns only once the token is, even while
/// the thread that made the phase is still between its swap and its
/// cancel. Here the second call runs inside the first one's window (in its
/// trace event): a no-op `halt` and a completion. Found by the stress test
/// (a guard holder's `halt()` returned `Ok(Running)` with its context still
/// live, because another thread's stop was in its window).
#[test]
fn a_call_inside_another_calls_window_returns_with_the_token_cancelled() {
    for second in ["halt", "close", "complete"] {
        let many = runcycle::Many::new();
        let guard = Arc::new(Mutex::new(Some(many.start().unwrap())));
        let earlier = guard.lock().unwrap().as_ref().unwrap().context();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (m, ctx, log, g) = (
            many.clone(),
            earlier.clone(),
            Arc::clone(&seen),
            Arc::clone(&guard),
        );
        let hook = Hook(Arc::new(move |_: &Event<'_>| {
            // Only inside the first call's event (the second call's own
            // event, if any, finds the token cancelled already).
            if !log.lock().unwrap().is_empty() || ctx.is_cancelled() {
                return;
            }
            match second {
                "halt" => {
                    let _ = m.stop();
                }
                "close" => drop(m.close()),
                _ => drop(g.lock().unwrap().take()),
            }
            log.lock().unwrap().push(ctx.is_cancelled());
        }));
        tracing::subscriber::with_default(hook, || {
            let _ = many.stop();
        });
        assert_eq!(*seen.lock().unwrap(), [true], "{second}");
        drop(guard.lock().unwrap().take());
    }
}

/// spec/go.md, O3: a task emits `task spawned` (id, name) at its spawn and
/// `task ended` (id, name, outcome) when its future returns, panics or is
/// dropped unfinished (an abort, a runtime shutdown).
#[cfg(feature = "tokio")]
#[test]
fn tasks_emit_spawned_and_ended_with_id_name_and_outcome() {
    use runcycle::{spawn, TaskBuilder, TaskError, TaskId};

    let (recorder, log) = recorder();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let doomed = std::sync::OnceLock::new();
    let tasks: Vec<(TaskId, Option<&str>, &str)> =
        tracing::subscriber::with_default(recorder, || {
            let tasks = runtime.block_on(async {
                let ok = TaskBuilder::new()
                    .name("fine")
                    .spawn(|_| async { Ok::<_, &str>(1) });
                let failed = spawn(|_| async { Err::<u32, _>("no") });
                let panicked: runcycle::Task<(), ()> = TaskBuilder::new()
                    .name("boom")
                    .spawn(|_| async { panic!("boom") });
                let aborted = spawn(|_| std::future::pending::<Result<u32, &str>>());
                let ids = [ok.id(), failed.id(), panicked.id(), aborted.id()];
                tokio::task::yield_now().await;
                aborted.abort();
                assert_eq!(ok.await.unwrap(), 1);
                assert!(matches!(failed.await, Err(TaskError::Failed("no"))));
                assert!(panicked.await.unwrap_err().is_panic());
                assert!(aborted.await.unwrap_err().is_aborted());
                let left = TaskBuilder::new()
                    .name("left running")
                    .spawn(|_| std::future::pending::<Result<(), ()>>());
                tokio::task::yield_now().await;
                doomed.set(left).unwrap();
                vec![
                    (ids[0], Some("fine"), "ok"),
                    (ids[1], None, "error"),
                    (ids[2], Some("boom"), "panicked"),
                    (ids[3], None, "aborted"),
                ]
            });
            drop(runtime); // drops the task left running: its future ends unfinished
            tasks
        });
    let left = doomed.into_inner().unwrap();
    let mut tasks = tasks;
    tasks.push((left.id(), Some("left running"), "aborted"));
    check_task_events(&log.lock().unwrap(), &tasks);
}

/// Each task emitted exactly `task spawned` then `task ended` with its
/// outcome, both with its id, and its name if it has one.
#[cfg(feature = "tokio")]
fn check_task_events(events: &[String], tasks: &[(runcycle::TaskId, Option<&str>, &str)]) {
    for &(id, name, outcome) in tasks {
        let this: Vec<&String> = events
            .iter()
            .filter(|e| e.contains(&format!("task.id={id} ")))
            .collect();
        assert_eq!(this.len(), 2, "task {id}: {this:#?}");
        assert!(this[0].contains("message=task spawned"), "{this:#?}");
        assert!(this[1].contains("message=task ended"), "{this:#?}");
        assert!(
            this[1].contains(&format!("outcome={outcome:?}")),
            "task {id}: {this:#?}"
        );
        for event in this {
            match name {
                Some(name) => assert!(event.contains(&format!("task.name={name:?}")), "{event}"),
                None => assert!(!event.contains("task.name="), "{event}"),
            }
        }
    }
}

/// spec/go.md, O3: a group task emits the same `task spawned` (id, name)
/// and `task ended` (id, name, outcome: ok, error, panicked, aborted by
/// `abort_all` and by a runtime shutdown) as a `Task`.
#[cfg(feature = "tokio")]
#[test]
fn group_tasks_emit_spawned_and_ended_with_id_name_and_outcome() {
    use runcycle::GroupBuilder;

    let (recorder, log) = recorder();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let tasks = tracing::subscriber::with_default(recorder, || {
        let tasks = runtime.block_on(async {
            let group = GroupBuilder::new().build::<u32>();
            let ok = group
                .build_task()
                .name("fine")
                .spawn(|_| async { Ok::<_, &str>(1) });
            let failed = group.spawn(|_| async { Err::<u32, _>("no") });
            let panicked = group.build_task().name("boom").spawn(|_| async {
                if true {
                    panic!("boom");
                }
                Ok::<u32, &str>(0)
            });
            let aborted = group.spawn(|_| std::future::pending::<Result<u32, &str>>());
            tokio::task::yield_now().await;
            group.abort_all();
            group.wait().await.unwrap_err();
            let left = group
                .build_task()
                .name("left running")
                .spawn(|_| std::future::pending::<Result<u32, &str>>());
            tokio::task::yield_now().await;
            vec![
                (ok.unwrap(), Some("fine"), "ok"),
                (failed.unwrap(), None, "error"),
                (panicked.unwrap(), Some("boom"), "panicked"),
                (aborted.unwrap(), None, "aborted"),
                (left.unwrap(), Some("left running"), "aborted"),
            ]
        });
        drop(runtime); // drops the task left running
        tasks
    });
    check_task_events(&log.lock().unwrap(), &tasks);
}

#[test]
fn supervisors_emit_every_decision_with_supervisor_and_child() {
    use runcycle::supervise::{Backoff, Child, ChildError, Restart, Supervisor};
    let (recorder, log) = recorder();
    tracing::subscriber::with_default(recorder, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap()
            .block_on(async {
                let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
                let child = Child::new("job", move |_ctx| {
                    let n = runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    async move {
                        if n == 0 {
                            Err(ChildError::new("first run fails"))
                        } else {
                            Ok(())
                        }
                    }
                })
                .restart(Restart::Transient);
                let sup = Supervisor::builder("sup")
                    .backoff(Backoff::none())
                    .child(child)
                    .build();
                sup.run(&runcycle::CancellationToken::new()).await.unwrap();
            });
    });
    let events = log.lock().unwrap().clone();
    let supervision: Vec<String> = events
        .iter()
        .filter(|e| e.contains("supervisor=\"sup\""))
        .map(|e| {
            let message = e.split("message=").nth(1).unwrap();
            let message = message.split(" supervisor=").next().unwrap();
            let child = e
                .split_whitespace()
                .find_map(|f| {
                    f.strip_prefix("child=")
                        .or_else(|| f.strip_prefix("cause="))
                })
                .unwrap_or("-");
            format!("{message} {child}")
        })
        .collect();
    assert_eq!(
        supervision,
        [
            "child started \"job\"",
            "child exited \"job\"",
            "restarting \"job\"",
            "child started \"job\"",
            "child exited \"job\"",
            "child finished \"job\"",
            "supervisor stopping -",
            "supervisor ended -",
        ],
        "{events:#?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e.contains("exit=failed: first run fails")),
        "{events:#?}"
    );
}
