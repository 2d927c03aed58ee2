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

/// A minimal subscriber that records each event's fields as text.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, "{}={:?} ", field.name(), value);
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target() == "shot"
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        self.0.lock().unwrap().push(fields.0);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn every_transition_emits_one_event_and_no_ops_emit_none() {
    let recorder = Recorder::default();
    tracing::subscriber::with_default(recorder.clone(), || {
        let many = shot::Many::new();
        let guard = many.start().unwrap(); // Created -> Running
        let _ = many.start(); // refused: no transition
        let _ = many.halt(); // Running -> StopRequested
        drop(guard); // StopRequested -> Stopped
        let _ = many.halt(); // no-op on Stopped
        let _ = many.cancel(); // Stopped -> Closed
    });
    let events = recorder.0.lock().unwrap().clone();
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
            "Stop Running->StopRequested",
            "Complete StopRequested->Stopped",
            "Close Stopped->Closed",
        ],
        "{events:#?}"
    );
    assert!(events
        .iter()
        .all(|e| e.contains("instance=0x") && e.contains("kind=Many")));
}
