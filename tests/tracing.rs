//! The `tracing` feature: every state transition emits one `trace!` event
//! with the instance, the event, and the phases before and after.
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
