//! Supervision, rule by rule (spec/supervise.md, S1-S14), under tokio's
//! paused clock so every delay is exact. The random sequences are in
//! `tests/model_supervise.rs`.
#![cfg(all(not(loom), feature = "tokio"))]

mod common;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use runcycle::supervise::{
    Backoff, Child, ChildError, Event, Exit, Intensity, Report, Restart, StopReason, Strategy,
    Supervisor, SupervisorBuilder, SupervisorError,
};
use runcycle::{CancellationToken, Context};
use tokio::time::{sleep, Instant};

use common::tasks::quiet_panics;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Runs `f` on a current-thread runtime with the clock paused.
fn paused<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(f)
}

/// The hook's log: each event's `Display`, prefixed with the time since
/// `t0` in milliseconds.
#[derive(Clone)]
struct Log {
    t0: Instant,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Log {
    fn new() -> Log {
        Log {
            t0: Instant::now(),
            lines: Arc::default(),
        }
    }

    fn hook(&self) -> impl Fn(&Event<'_>) + Send + Sync + 'static {
        let log = self.clone();
        move |e| {
            let t = log.t0.elapsed().as_millis();
            log.lines.lock().unwrap().push(format!("{t} {e}"));
        }
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// The lines that contain `pat`.
    fn grep(&self, pat: &str) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|l| l.contains(pat))
            .collect()
    }
}

fn builder(log: &Log) -> SupervisorBuilder {
    Supervisor::builder("sup")
        .backoff(Backoff::none())
        .intensity(Intensity::new(100, Duration::from_secs(1)))
        .on_event(log.hook())
}

/// A child that serves until cancelled.
fn server(name: &str) -> Child {
    Child::new(name, |ctx: Context| async move {
        ctx.cancelled().await;
        Ok(())
    })
}

/// A child whose runs follow `script` (what run `n` does is `script(n)`,
/// `n` from 1), then serve until cancelled.
fn scripted<F, Fut>(name: &str, script: F) -> Child
where
    F: Fn(usize, Context) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), ChildError>> + Send + 'static,
{
    let runs = Arc::new(AtomicUsize::new(0));
    Child::new(name, move |ctx| {
        let n = runs.fetch_add(1, Ordering::SeqCst) + 1;
        script(n, ctx)
    })
}

/// Fails (an error) after `after` on the first `times` runs, then serves.
fn fails(name: &str, times: usize, after: Duration) -> Child {
    scripted(name, move |n, ctx| async move {
        if n <= times {
            sleep(after).await;
            Err(ChildError::new(format!("failure {n}")))
        } else {
            ctx.cancelled().await;
            Ok(())
        }
    })
}

async fn run_until(sup: &Supervisor, at: Duration) -> Result<Report, SupervisorError> {
    let token = CancellationToken::new();
    let stop = token.clone();
    tokio::spawn(async move {
        sleep(at).await;
        stop.cancel();
    });
    sup.run(&token).await
}

#[test]
fn s1_children_start_in_the_order_they_were_added_and_stop_in_reverse() {
    paused(async {
        let log = Log::new();
        let sup = builder(&log)
            .child(server("a"))
            .child(server("b"))
            .child(server("c"))
            .build();
        let report = run_until(&sup, ms(10)).await.unwrap();
        assert!(matches!(report.reason(), StopReason::Shutdown));
        assert_eq!(
            log.lines(),
            [
                "0 sup: started \"a\" (run 1)",
                "0 sup: started \"b\" (run 1)",
                "0 sup: started \"c\" (run 1)",
                "10 sup: stopping: shut down",
                "10 sup: \"c\" (run 1) completed after 10ms, as asked",
                "10 sup: \"b\" (run 1) completed after 10ms, as asked",
                "10 sup: \"a\" (run 1) completed after 10ms, as asked",
                "10 sup: ended: shut down",
            ]
        );
    });
}

#[test]
fn s2_a_child_never_runs_twice_at_once_even_when_it_fails_at_once() {
    paused(async {
        let live = Arc::new(AtomicUsize::new(0));
        let max = Arc::new(AtomicUsize::new(0));
        struct Live(Arc<AtomicUsize>);
        impl Drop for Live {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let (l, m) = (live.clone(), max.clone());
        let child = Child::new("crash", move |_ctx| {
            let now = l.fetch_add(1, Ordering::SeqCst) + 1;
            m.fetch_max(now, Ordering::SeqCst);
            let guard = Live(l.clone());
            async move {
                let _guard = guard;
                tokio::task::yield_now().await;
                Err(ChildError::new("crash"))
            }
        });
        let log = Log::new();
        let sup = builder(&log)
            .intensity(Intensity::new(1000, Duration::from_secs(1)))
            .child(child)
            .build();
        let err = sup.run(&CancellationToken::new()).await.unwrap_err();
        assert!(matches!(err.report().reason(), StopReason::GaveUp { .. }));
        assert_eq!(err.report().children()[0].runs(), 1001);
        assert_eq!(max.load(Ordering::SeqCst), 1);
        assert_eq!(live.load(Ordering::SeqCst), 0);
    });
}

/// What a child's first run does, for the S4 table.
#[derive(Clone, Copy, Debug)]
enum First {
    Ok,
    Err,
    Panic,
    DoNotRestart,
}

#[test]
fn s4_the_restart_type_decides_after_each_kind_of_exit() {
    quiet_panics(|info| info.payload().downcast_ref::<&str>() == Some(&"planted"));
    use First::*;
    let table = [
        (Restart::Permanent, Ok, true),
        (Restart::Permanent, Err, true),
        (Restart::Permanent, Panic, true),
        (Restart::Permanent, DoNotRestart, false),
        (Restart::Transient, Ok, false),
        (Restart::Transient, Err, true),
        (Restart::Transient, Panic, true),
        (Restart::Transient, DoNotRestart, false),
        (Restart::Temporary, Ok, false),
        (Restart::Temporary, Err, false),
        (Restart::Temporary, Panic, false),
        (Restart::Temporary, DoNotRestart, false),
    ];
    for (restart, first, restarted) in table {
        paused(async move {
            let log = Log::new();
            let child = scripted("c", move |n, ctx| async move {
                if n > 1 {
                    ctx.cancelled().await;
                    return Result::<(), ChildError>::Ok(());
                }
                sleep(ms(5)).await;
                match first {
                    Ok => Result::Ok(()),
                    Err => Result::Err(ChildError::new("e")),
                    Panic => panic!("planted"),
                    DoNotRestart => Result::Err(ChildError::do_not_restart()),
                }
            })
            .restart(restart);
            // A sibling keeps the supervisor alive when `c` finishes.
            let sup = builder(&log).child(child).child(server("s")).build();
            let report = run_until(&sup, ms(50)).await.unwrap();
            let c = &report.children()[0];
            let case = format!("{restart:?} after {first:?}");
            assert_eq!(c.runs(), if restarted { 2 } else { 1 }, "{case}");
            assert_eq!(
                log.grep("finished").len(),
                usize::from(!restarted),
                "{case}"
            );
            let failure = matches!(first, Err | Panic);
            assert_eq!(c.failures(), u64::from(failure), "{case}");
        });
    }
}

#[test]
fn s4_stop_tree_stops_the_whole_tree_from_a_nested_child() {
    paused(async {
        let log = Log::new();
        let leaf = scripted("leaf", |_, _ctx| async {
            sleep(ms(7)).await;
            Err(ChildError::stop_tree("config is invalid"))
        });
        let inner = Supervisor::builder("inner")
            .on_event(log.hook())
            .child(server("sibling"))
            .child(leaf)
            .build();
        let root = builder(&log)
            .child(server("first"))
            .child(Child::supervisor(inner))
            .build();
        let err = run_until(&root, Duration::from_secs(60)).await.unwrap_err();
        assert!(err.is_stop_tree());
        let StopReason::StopTree { child, reason } = err.report().reason() else {
            panic!("{err}")
        };
        assert_eq!(&**child, "inner");
        assert!(reason.to_string().contains("config is invalid"), "{reason}");
        // Everything stopped at 7 ms, the inner tree first, then the root's.
        let ends = log.grep("ended");
        assert_eq!(
            ends,
            [
                "7 inner: ended: child \"leaf\" stopped the tree: config is invalid",
                "7 sup: ended: child \"inner\" stopped the tree: supervisor \"inner\" child \"leaf\" stopped the tree: config is invalid",
            ]
        );
    });
}

#[test]
fn s5_more_restarts_than_the_intensity_in_the_period_gives_up_and_escalates() {
    paused(async {
        let log = Log::new();
        // Fails every 10 ms, zero backoff: restarts at 10, 20, 30; at 40 the
        // window of 31 ms still holds 10, 20, 30: a 4th is one too many.
        let sup = builder(&log)
            .intensity(Intensity::new(3, ms(31)))
            .child(fails("flaky", usize::MAX, ms(10)))
            .build();
        let err = run_until(&sup, Duration::from_secs(60)).await.unwrap_err();
        let StopReason::GaveUp {
            child,
            max_restarts,
            period,
            exit,
        } = err.report().reason()
        else {
            panic!("{err}")
        };
        assert_eq!((&**child, *max_restarts, *period), ("flaky", 3, ms(31)));
        assert!(matches!(exit, Exit::Failed(_)));
        assert_eq!(err.report().children()[0].runs(), 4);
        assert_eq!(
            log.grep("restarting"),
            [
                "10 sup: restarting \"flaky\" in 0ns (cause \"flaky\", restart 1 in the period)",
                "20 sup: restarting \"flaky\" in 0ns (cause \"flaky\", restart 2 in the period)",
                "30 sup: restarting \"flaky\" in 0ns (cause \"flaky\", restart 3 in the period)",
            ]
        );
        let last = log.lines().last().unwrap().clone();
        assert!(
            last.starts_with("40 sup: ended: gave up: more than 3 restarts in 31ms"),
            "{last}"
        );
        // The error is a std error whose source is the last failure.
        let source = std::error::Error::source(&err).unwrap().to_string();
        assert_eq!(source, "failure 4");
    });
}

#[test]
fn s5_a_restart_exactly_one_period_old_is_forgotten() {
    paused(async {
        let log = Log::new();
        // The same with a 30 ms period: at 40 the restart at 10 is 30 ms
        // old, forgotten; 20, 30 and this one make 3: allowed, forever.
        let sup = builder(&log)
            .intensity(Intensity::new(3, ms(30)))
            .child(fails("flaky", usize::MAX, ms(10)))
            .build();
        let report = run_until(&sup, ms(1005)).await.unwrap();
        assert_eq!(report.children()[0].runs(), 101);
        assert!(log.grep("restart 4 in").is_empty());
    });
}

#[test]
fn s6_one_for_all_stops_the_others_in_reverse_order_and_restarts_all_in_order() {
    paused(async {
        let log = Log::new();
        let sup = builder(&log)
            .strategy(Strategy::OneForAll)
            .child(server("a"))
            .child(fails("b", 1, ms(5)))
            .child(server("c"))
            .child(server("t").restart(Restart::Temporary))
            .build();
        run_until(&sup, ms(20)).await.unwrap();
        let at5: Vec<String> = log
            .lines()
            .into_iter()
            .filter(|l| l.starts_with("5 "))
            .collect();
        assert_eq!(
            at5,
            [
                "5 sup: \"b\" (run 1) failed: failure 1 after 5ms",
                "5 sup: \"t\" (run 1) completed after 5ms, as asked",
                "5 sup: \"c\" (run 1) completed after 5ms, as asked",
                "5 sup: \"a\" (run 1) completed after 5ms, as asked",
                "5 sup: \"t\" finished",
                "5 sup: restarting \"a\", \"b\", \"c\" in 0ns (cause \"b\", restart 1 in the period)",
                "5 sup: started \"a\" (run 2)",
                "5 sup: started \"b\" (run 2)",
                "5 sup: started \"c\" (run 2)",
            ]
        );
    });
}

#[test]
fn s6_rest_for_one_restarts_the_child_and_those_after_it() {
    paused(async {
        let log = Log::new();
        let sup = builder(&log)
            .strategy(Strategy::RestForOne)
            .child(server("a"))
            .child(fails("b", 1, ms(5)))
            .child(server("c"))
            .build();
        let report = run_until(&sup, ms(20)).await.unwrap();
        let runs: Vec<u64> = report.children().iter().map(|c| c.runs()).collect();
        assert_eq!(runs, [1, 2, 2]);
        let line = "5 sup: restarting \"b\", \"c\" in 0ns (cause \"b\", restart 1 in the period)";
        assert!(log.lines().iter().any(|l| l == line), "{:?}", log.lines());
    });
}

#[test]
fn s6_one_for_one_restarts_only_the_child() {
    paused(async {
        let log = Log::new();
        let sup = builder(&log)
            .child(server("a"))
            .child(fails("b", 2, ms(5)))
            .child(server("c"))
            .build();
        let report = run_until(&sup, ms(20)).await.unwrap();
        let runs: Vec<u64> = report.children().iter().map(|c| c.runs()).collect();
        assert_eq!(runs, [1, 3, 1]);
    });
}

/// The delays of the `restarting` lines, as printed.
fn delays(log: &Log) -> Vec<String> {
    log.grep("restarting")
        .iter()
        .map(|l| {
            l.split(" in ")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn s7_backoff_grows_per_consecutive_restart_and_resets_after_a_healthy_run() {
    paused(async {
        let log = Log::new();
        // Runs 1-3 fail after 1 ms, run 4 fails after 100 ms (healthy: the
        // reset is 50 ms), run 5 fails after 1 ms, then it serves.
        let child = scripted("c", |n, ctx| async move {
            match n {
                1..=3 | 5 => sleep(ms(1)).await,
                4 => sleep(ms(100)).await,
                _ => {
                    ctx.cancelled().await;
                    return Ok(());
                }
            }
            Err(ChildError::new("x"))
        });
        let backoff = Backoff::default()
            .initial(ms(10))
            .factor(3)
            .max(ms(50))
            .jitter(0.0)
            .reset_after(ms(50));
        let sup = builder(&log).backoff(backoff).child(child).build();
        run_until(&sup, ms(1000)).await.unwrap();
        assert_eq!(delays(&log), ["10ms", "30ms", "50ms", "10ms", "30ms"]);
        // Run 2 starts 10 ms after run 1 failed at 1 ms.
        assert!(log
            .lines()
            .iter()
            .any(|l| l == "11 sup: started \"c\" (run 2)"));
    });
}

#[test]
fn s7_jitter_is_replayable_with_a_seed_and_bounded() {
    let run = |seed| {
        paused(async move {
            let log = Log::new();
            let b = Backoff::default().initial(ms(100)).factor(1).jitter(0.5);
            let sup = builder(&log)
                .backoff(b)
                .jitter_seed(seed)
                .child(fails("c", 5, ms(1)))
                .build();
            run_until(&sup, ms(2000)).await.unwrap();
            delays(&log)
        })
    };
    assert_eq!(run(7), run(7));
    assert_ne!(run(7), run(8));
    // Without a seed each supervisor run draws its own (the chance that
    // two random seeds give the same five delays to the nanosecond is nil).
    let unseeded = || {
        paused(async move {
            let log = Log::new();
            let b = Backoff::default().initial(ms(100)).factor(1).jitter(0.5);
            let sup = builder(&log).backoff(b).child(fails("c", 5, ms(1))).build();
            run_until(&sup, ms(2000)).await.unwrap();
            delays(&log)
        })
    };
    assert_ne!(unseeded(), unseeded());
    let spread = run(9);
    assert_eq!(spread.len(), 5);
    for d in spread {
        let nanos = tokio_duration(&d);
        assert!((ms(50)..ms(150)).contains(&nanos), "{d}");
    }
}

/// Parses a `Debug`-printed duration of the form `12.345678ms` or `99ms`.
fn tokio_duration(s: &str) -> Duration {
    let v: f64 = s
        .trim_end_matches("ms")
        .parse()
        .unwrap_or_else(|_| panic!("{s}"));
    Duration::from_secs_f64(v / 1000.0)
}

#[test]
fn s8_a_shutdown_ends_the_backoff_at_once() {
    paused(async {
        let log = Log::new();
        let backoff = Backoff::default()
            .initial(Duration::from_secs(10))
            .jitter(0.0);
        let sup = builder(&log)
            .backoff(backoff)
            .child(fails("c", 1, ms(1)))
            .build();
        let start = Instant::now();
        let report = run_until(&sup, ms(5)).await.unwrap();
        assert_eq!(start.elapsed(), ms(5));
        assert_eq!(report.children()[0].runs(), 1);
        assert!(matches!(report.reason(), StopReason::Shutdown));
    });
}

#[test]
fn s10_the_supervisor_ends_when_every_child_has_finished() {
    paused(async {
        let log = Log::new();
        let job = scripted("job", |n, _ctx| async move {
            sleep(ms(3)).await;
            if n == 1 {
                Err(ChildError::new("once"))
            } else {
                Ok(())
            }
        });
        let sup = builder(&log).child(job.restart(Restart::Transient)).build();
        let report = sup.run(&CancellationToken::new()).await.unwrap();
        assert!(matches!(report.reason(), StopReason::AllDone));
        assert_eq!(report.children()[0].runs(), 2);
        assert_eq!(log.t0.elapsed(), ms(6));
    });
}

/// Counts drops: a run's future holds one.
struct Flag(Arc<AtomicUsize>);

impl Drop for Flag {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A child that ignores its context; each dropped run bumps `dropped`.
fn stuck(name: &str, dropped: &Arc<AtomicUsize>) -> Child {
    let d = dropped.clone();
    Child::new(name, move |_ctx| {
        let flag = Flag(d.clone());
        async move {
            let _flag = flag;
            std::future::pending::<()>().await;
            Ok(())
        }
    })
}

#[test]
fn s11_a_child_that_ignores_its_context_is_aborted_after_its_timeout() {
    paused(async {
        let log = Log::new();
        let dropped = Arc::new(AtomicUsize::new(0));
        let sup = builder(&log)
            .child(server("a"))
            .child(stuck("stuck", &dropped).shutdown_timeout(ms(300)))
            .child(server("c"))
            .build();
        let start = Instant::now();
        let report = run_until(&sup, ms(10)).await.unwrap();
        assert_eq!(start.elapsed(), ms(310));
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            1,
            "the run's future is dropped"
        );
        let late: Vec<&str> = report
            .not_stopped_in_time()
            .iter()
            .map(|c| c.name())
            .collect();
        assert_eq!(late, ["stuck"]);
        assert_eq!(report.children()[1].not_stopped_in_time(), Some(ms(300)));
        assert!(matches!(
            report.children()[1].last_exit(),
            Some(Exit::Aborted)
        ));
        assert!(!report.all_stopped_in_time());
        let lines = log.lines();
        // Reverse order: c at 10, stuck aborted at 310, then a.
        let expected = [
            "10 sup: \"c\" (run 1) completed after 10ms, as asked",
            "310 sup: \"stuck\" did not stop within 300ms: aborted",
            "310 sup: \"stuck\" (run 1) aborted after 310ms, as asked",
            "310 sup: \"a\" (run 1) completed after 310ms, as asked",
        ];
        for line in expected {
            assert!(lines.iter().any(|l| l == line), "{line} in {lines:?}");
        }
    });
}

#[test]
fn s11_the_abort_token_cuts_every_remaining_wait() {
    paused(async {
        let log = Log::new();
        let abort = CancellationToken::new();
        let dropped = Arc::new(AtomicUsize::new(0));
        let sup = builder(&log)
            .abort_on(&abort)
            .child(stuck("a", &dropped).shutdown_timeout(Duration::from_secs(30)))
            .child(stuck("b", &dropped).shutdown_timeout(Duration::from_secs(30)))
            .build();
        let token = CancellationToken::new();
        let (t, a) = (token.clone(), abort.clone());
        tokio::spawn(async move {
            sleep(ms(10)).await;
            t.cancel(); // the first Ctrl-C
            sleep(ms(100)).await;
            a.cancel(); // the second
        });
        let start = Instant::now();
        let report = sup.run(&token).await.unwrap();
        assert_eq!(start.elapsed(), ms(110));
        assert_eq!(report.not_stopped_in_time().len(), 2);
        assert_eq!(
            report.children()[0].not_stopped_in_time(),
            Some(Duration::ZERO)
        );
        assert_eq!(dropped.load(Ordering::SeqCst), 2);
    });
}

#[test]
fn s12_a_nested_supervisor_that_gives_up_is_a_failure_its_parent_restarts() {
    paused(async {
        let log = Log::new();
        let inner = Supervisor::builder("inner")
            .backoff(Backoff::none())
            .intensity(Intensity::new(0, Duration::from_secs(1)))
            .on_event(log.hook())
            .child(fails("leaf", 1, ms(4)))
            .build();
        let root = builder(&log)
            .child(Child::supervisor(inner.clone()))
            .build();
        let report = run_until(&root, ms(20)).await.unwrap();
        let sub = &report.children()[0];
        assert_eq!((sub.runs(), sub.failures()), (2, 1));
        assert!(matches!(sub.last_exit(), Some(Exit::Completed)));
        let line = "4 sup: restarting \"inner\" in 0ns (cause \"inner\", restart 1 in the period)";
        assert!(log.lines().iter().any(|l| l == line), "{:?}", log.lines());
        // The inner supervisor's second run started the leaf afresh.
        assert_eq!(inner.children()[0].runs(), 1);
    });
}

#[test]
fn s13_dropping_the_supervisor_aborts_every_child() {
    paused(async {
        let dropped = Arc::new(AtomicUsize::new(0));
        // A child that hands work to another task under its context.
        let (tx, rx) = std::sync::mpsc::channel();
        let handing = Child::new("hands off", move |ctx: Context| {
            let _ = tx.send(ctx.child_token());
            async move {
                std::future::pending::<()>().await;
                Ok(())
            }
        });
        let sup = Supervisor::builder("s")
            .child(stuck("a", &dropped))
            .child(stuck("b", &dropped))
            .child(handing)
            .build();
        let task = tokio::spawn(sup.run(&CancellationToken::new()));
        sleep(ms(5)).await;
        let work = rx.try_recv().unwrap();
        assert!(!work.is_cancelled());
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert_eq!(dropped.load(Ordering::SeqCst), 2);
        assert!(work.is_cancelled(), "the children's contexts are cancelled");
    });
}

#[test]
fn s14_counters_are_readable_while_the_supervisor_runs() {
    paused(async {
        let log = Log::new();
        let sup = builder(&log).child(fails("c", 3, ms(1))).build();
        let token = CancellationToken::new();
        let running = tokio::spawn(sup.run(&token));
        sleep(ms(10)).await;
        let c = &sup.children()[0];
        assert_eq!((c.name(), c.runs(), c.failures()), ("c", 4, 3));
        assert!(matches!(c.last_exit(), Some(Exit::Failed(_))));
        token.cancel();
        running.await.unwrap().unwrap();
        assert!(matches!(
            sup.children()[0].last_exit(),
            Some(Exit::Completed)
        ));
    });
}

#[test]
fn a_child_error_converts_from_any_error_with_question_mark() {
    paused(async {
        let child = Child::new("parse", |_ctx| async {
            let _n: u32 = "not a number".parse()?;
            Ok(())
        })
        .restart(Restart::Temporary);
        let sup = Supervisor::builder("s").child(child).build();
        let report = sup.run(&CancellationToken::new()).await.unwrap();
        let exit = report.children()[0].last_exit().unwrap();
        assert_eq!(exit.to_string(), "failed: invalid digit found in string");
    });
}

#[test]
fn a_global_shutdown_timeout_is_the_root_run_as_a_task_with_a_bounded_shutdown() {
    paused(async {
        let dropped = Arc::new(AtomicUsize::new(0));
        let sup = Supervisor::builder("root")
            .child(server("polite"))
            .child(stuck("stuck", &dropped).no_shutdown_timeout())
            .build();
        let s = sup.clone();
        let root = runcycle::spawn(move |ctx| s.run(&ctx));
        sleep(ms(5)).await;
        let start = Instant::now();
        // The stuck child would be waited for forever (no timeout of its
        // own); the global bound aborts the whole tree after 100 ms.
        let outcome = root.shutdown(ms(100)).await;
        assert_eq!(start.elapsed(), ms(100));
        assert!(
            matches!(outcome, Err(runcycle::TaskError::Aborted)),
            "{outcome:?}"
        );
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            1,
            "the stuck run was dropped (S13)"
        );
        assert_eq!(sup.children()[0].runs(), 1);
    });
}

#[test]
fn a_supervisor_whose_parent_is_already_cancelled_starts_nothing() {
    paused(async {
        let log = Log::new();
        let sup = builder(&log).child(server("a")).build();
        let token = CancellationToken::new();
        token.cancel();
        let report = sup.run(&token).await.unwrap();
        assert!(matches!(report.reason(), StopReason::Shutdown));
        assert_eq!(report.children()[0].runs(), 0);
        assert_eq!(
            log.lines(),
            ["0 sup: stopping: shut down", "0 sup: ended: shut down"]
        );
    });
}

#[test]
fn the_abort_token_alone_shuts_the_supervisor_down_without_waiting() {
    paused(async {
        let log = Log::new();
        let abort = CancellationToken::new();
        let dropped = Arc::new(AtomicUsize::new(0));
        let sup = builder(&log)
            .abort_on(&abort)
            .child(stuck("a", &dropped))
            .build();
        let a = abort.clone();
        tokio::spawn(async move {
            sleep(ms(10)).await;
            a.cancel();
        });
        let start = Instant::now();
        let report = sup.run(&CancellationToken::new()).await.unwrap();
        assert_eq!(start.elapsed(), ms(10));
        assert!(matches!(report.reason(), StopReason::Shutdown));
        assert_eq!(
            report.children()[0].not_stopped_in_time(),
            Some(Duration::ZERO)
        );
        assert_eq!(dropped.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn debug_shows_names_and_policy_without_running_anything() {
    let sup = Supervisor::builder("root")
        .strategy(Strategy::RestForOne)
        .child(server("db").restart(Restart::Transient));
    let text = format!("{sup:?}");
    assert!(
        text.contains("\"root\"") && text.contains("RestForOne"),
        "{text}"
    );
    let sup = sup.build();
    let text = format!("{sup:?}");
    assert!(
        text.contains("\"root\"") && text.contains("RestForOne"),
        "{text}"
    );
    assert!(
        text.contains("\"db\"") && text.contains("Transient"),
        "{text}"
    );
    assert_eq!(sup.name(), "root");
}
