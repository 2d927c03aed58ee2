//! `go`, `go_ctx`, `go_on` and `G`: outcomes, panics, cancellation, races.

#![cfg(all(not(loom), feature = "tokio"))]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use runcycle::{go, go_ctx, go_on, TaskError, G};
use tokio_util::sync::CancellationToken;

const BOUND: Duration = Duration::from_secs(20);

async fn finish<T, E>(g: &G<T, E>) {
    tokio::time::timeout(BOUND, g.done())
        .await
        .expect("the task hung");
}

#[tokio::test]
async fn the_value_is_taken_once_and_success_has_no_err() {
    let g = go(|_| async { Ok::<_, std::io::Error>(42) });
    finish(&g).await;
    assert!(g.is_finished());
    assert!(g.err().is_none());
    assert!(matches!(g.take(), Some(Ok(42))));
    assert!(g.take().is_none());
    assert!(g.err().is_none());
}

#[tokio::test]
async fn an_error_is_reported_by_err_and_take() {
    let g = go(|_| async { Err::<(), _>(std::io::Error::other("refused")) });
    finish(&g).await;
    match g.err() {
        Some(TaskError::Failed(e)) => assert_eq!(e.to_string(), "refused"),
        other => panic!("expected the error, got {other:?}"),
    }
    assert!(matches!(g.take(), Some(Err(TaskError::Failed(_)))));
    assert!(
        matches!(g.err(), Some(TaskError::Failed(_))),
        "err stays readable"
    );
}

#[tokio::test]
async fn a_panic_is_the_outcome_never_a_success() {
    let g: G<(), ()> = go(|_| async { panic!("kaboom") });
    finish(&g).await;
    let Some(TaskError::Panicked(p)) = g.err() else {
        panic!("the panic was lost: {:?}", g.err());
    };
    assert_eq!(p.message(), Some("kaboom"));
    assert_eq!(p.to_string(), "task panicked: kaboom");
    assert!(p.take_payload().is_some());
    assert!(matches!(g.take(), Some(Err(TaskError::Panicked(_)))));
}

#[tokio::test]
async fn outcomes_debug_with_their_contents() {
    let g: G<(), ()> = go(|_| async { panic!("kaboom") });
    finish(&g).await;
    assert_eq!(
        format!("{:?}", g.err().unwrap()),
        r#"Panicked(Panic { message: Some("kaboom"), .. })"#
    );
    let failed: TaskError<&str> = TaskError::Failed(Arc::new("refused"));
    assert_eq!(format!("{failed:?}"), r#"Failed("refused")"#);
    assert_eq!(format!("{:?}", TaskError::<()>::Aborted), "Aborted");
    assert_eq!(failed.to_string(), "task failed: refused");
    let panicked: TaskError<&str> = match g.err().unwrap() {
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
    let g: G<(), std::io::Error> = go(|_| async { panic!("kaboom") });
    finish(&g).await;
    let panicked = g.err().unwrap();
    assert_eq!(
        panicked.source().unwrap().to_string(),
        "task panicked: kaboom"
    );
    assert!(TaskError::<std::io::Error>::Aborted.source().is_none());
}

#[tokio::test]
async fn a_panic_while_building_the_future_is_caught_too() {
    let g: G<(), ()> = go(|_| -> std::future::Ready<Result<(), ()>> { panic!("eager") });
    finish(&g).await;
    assert!(matches!(g.err(), Some(TaskError::Panicked(p)) if p.message() == Some("eager")));
}

#[tokio::test]
async fn nothing_is_reported_before_the_exit() {
    let g = go(|ctx| async move {
        ctx.cancelled().await;
        Err::<(), _>("stopped")
    });
    tokio::task::yield_now().await;
    assert!(g.err().is_none() && g.take().is_none() && !g.is_finished());
    g.cancel();
    finish(&g).await;
    assert!(g.err().is_some());
}

#[tokio::test]
async fn close_cancels_at_the_call_and_waits_for_the_exit() {
    let exited = Arc::new(AtomicBool::new(false));
    let e = Arc::clone(&exited);
    let g = go(|ctx| async move {
        ctx.cancelled().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        e.store(true, Ordering::SeqCst);
        Ok::<_, ()>(())
    });
    let ctx = g.context();
    let wait = g.close();
    assert!(ctx.is_cancelled(), "cancelled at the call");
    tokio::time::timeout(BOUND, wait).await.unwrap();
    assert!(
        exited.load(Ordering::SeqCst),
        "close returned before the exit"
    );
}

#[test]
fn go_outside_a_runtime_panics_naming_the_cause() {
    let caught = std::panic::catch_unwind(|| {
        let _g = go(|_| async { Ok::<(), ()>(()) });
    });
    let payload = caught.expect_err("go outside a runtime must panic");
    let message = payload
        .downcast_ref::<String>()
        .expect("a formatted message");
    assert!(
        message.contains("runcycle::go must be called from within a tokio runtime"),
        "{message}"
    );
    let caught = std::panic::catch_unwind(|| {
        let _g = go_ctx(&CancellationToken::new(), |_| async { Ok::<(), ()>(()) });
    });
    let payload = caught.expect_err("go_ctx outside a runtime must panic");
    assert!(payload
        .downcast_ref::<String>()
        .unwrap()
        .contains("runcycle::go_ctx"));
}

#[test]
fn go_on_works_from_a_plain_thread() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let g = go_on(runtime.handle(), None, |_| async { Ok::<_, ()>("hello") });
    assert_eq!(g.done().wait_timeout(BOUND), Ok(()));
    assert!(matches!(g.take(), Some(Ok("hello"))));
}

#[tokio::test]
async fn go_ctx_with_a_cancelled_parent_still_runs_with_a_cancelled_context() {
    let parent = CancellationToken::new();
    parent.cancel();
    let ran = Arc::new(AtomicBool::new(false));
    let r = Arc::clone(&ran);
    let g = go_ctx(&parent, |ctx| async move {
        r.store(true, Ordering::SeqCst);
        if ctx.is_cancelled() {
            Err("cancelled before the start")
        } else {
            Ok(())
        }
    });
    finish(&g).await;
    assert!(ran.load(Ordering::SeqCst), "the task ran");
    assert!(matches!(g.err(), Some(TaskError::Failed(e)) if *e == "cancelled before the start"));
}

#[tokio::test]
async fn go_ctx_parent_cancellation_reaches_the_task() {
    let parent = CancellationToken::new();
    let g = go_ctx(&parent, |ctx| async move {
        ctx.cancelled().await;
        Ok::<_, ()>("saw it")
    });
    parent.cancel();
    finish(&g).await;
    assert!(matches!(g.take(), Some(Ok("saw it"))));
}

#[tokio::test]
async fn dropping_the_g_detaches_the_task() {
    let finished = Arc::new(AtomicBool::new(false));
    let f = Arc::clone(&finished);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let g = go(|ctx| async move {
        let _ = rx.await;
        f.store(!ctx.is_cancelled(), Ordering::SeqCst);
        Ok::<(), ()>(())
    });
    let done = g.done();
    drop(g);
    tx.send(()).unwrap();
    tokio::time::timeout(BOUND, done).await.unwrap();
    assert!(
        finished.load(Ordering::SeqCst),
        "the task ran on, uncancelled"
    );
}

#[test]
fn a_runtime_shutdown_reports_the_task_as_aborted() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let g = go_on(runtime.handle(), None, |ctx| async move {
        ctx.cancelled().await;
        Ok::<(), ()>(())
    });
    drop(runtime);
    assert_eq!(g.done().wait_timeout(BOUND), Ok(()));
    assert!(matches!(g.err(), Some(TaskError::Aborted)));
}

#[test]
fn cancel_and_close_racing_the_exit_never_lose_the_outcome() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let oks = AtomicUsize::new(0);
    for i in 0..2_000 {
        let g = go_on(runtime.handle(), None, move |ctx| async move {
            if ctx.is_cancelled() {
                Err("cancelled")
            } else {
                Ok(i)
            }
        });
        let closer = std::thread::scope(|s| {
            let handle = s.spawn(|| {
                if i % 2 == 0 {
                    g.cancel();
                    g.done().wait_timeout(BOUND)
                } else {
                    g.close().wait_timeout(BOUND)
                }
            });
            handle.join().unwrap()
        });
        assert_eq!(closer, Ok(()));
        assert!(g.is_finished());
        match g.take() {
            Some(Ok(v)) => {
                assert_eq!(v, i);
                oks.fetch_add(1, Ordering::Relaxed);
            }
            Some(Err(TaskError::Failed(e))) => assert_eq!(*e, "cancelled"),
            other => panic!("iteration {i}: outcome {other:?}"),
        }
    }
}

#[tokio::test]
async fn debug_shows_whether_it_finished() {
    let g = go(|_| async { Ok::<(), ()>(()) });
    finish(&g).await;
    assert_eq!(format!("{g:?}"), "G { finished: true, .. }");
}
