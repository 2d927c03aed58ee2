//! The spec check: `spec/transitions.md` and the code's table agree cell by
//! cell, the diagrams are generated from the table, and the table keeps its
//! invariants.

use std::fmt::Write as _;

use super::*;

#[path = "../../../tests/common/spec.rs"]
mod spec;

fn read(path: &str) -> String {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("cannot read {full}: {e}"))
}

const PHASE_NAMES: [(&str, Phase); PHASES] = [
    ("Created", Phase::Created),
    ("Running", Phase::Running),
    ("Stopping", Phase::Stopping),
    ("Closing", Phase::Closing),
    ("Stopped", Phase::Stopped),
    ("Closed", Phase::Closed),
];

const EVENT_NAMES: [(&str, Event); EVENTS] = [
    ("start", Event::Start),
    ("complete", Event::Complete),
    ("stop", Event::Stop),
    ("close", Event::Close),
    ("parent-cancel", Event::ParentCancel),
];

fn phase_name(phase: Phase) -> &'static str {
    PHASE_NAMES.iter().find(|(_, p)| *p == phase).unwrap().0
}

fn event_name(event: Event) -> &'static str {
    EVENT_NAMES.iter().find(|(_, e)| *e == event).unwrap().0
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::One => "One",
        Kind::Many => "Many",
    }
}

fn parse_phase(s: &str) -> Phase {
    PHASE_NAMES
        .iter()
        .find(|(n, _)| *n == s)
        .unwrap_or_else(|| panic!("spec: unknown state {s:?}"))
        .1
}

fn parse_event(s: &str) -> Event {
    EVENT_NAMES
        .iter()
        .find(|(n, _)| *n == s)
        .unwrap_or_else(|| panic!("spec: unknown event {s:?}"))
        .1
}

fn parse_kind(s: &str) -> Kind {
    match s {
        "One" => Kind::One,
        "Many" => Kind::Many,
        _ => panic!("spec: unknown kind {s:?}"),
    }
}

fn parse_outcome(s: &str) -> Outcome {
    match s {
        "ok" => Outcome::Ok,
        "Err(Running)" => Outcome::ErrRunning,
        "Err(Closed)" => Outcome::ErrClosed,
        _ => panic!("spec: unknown return {s:?}"),
    }
}

/// The spec's transitions as `(kind, phase, event) -> cell`.
fn spec_cells(doc: &str) -> Vec<((Kind, Phase, Event), Cell)> {
    spec::transitions(doc)
        .iter()
        .map(|t| {
            let key = (
                parse_kind(&t.kind),
                parse_phase(&t.state),
                parse_event(&t.event),
            );
            let cell = Cell {
                next: parse_phase(&t.next),
                outcome: parse_outcome(&t.returns),
                cancels_context: t.cancels_context,
                resolves_done: t.resolves_done,
                new_run: t.new_run,
                waits: t.waits,
            };
            (key, cell)
        })
        .collect()
}

/// Every (kind, phase, event) the engine can index.
fn all_keys() -> Vec<(Kind, Phase, Event)> {
    let mut keys = Vec::new();
    for kind in [Kind::One, Kind::Many] {
        for phase in Phase::ALL {
            for (_, event) in EVENT_NAMES {
                keys.push((kind, phase, event));
            }
        }
    }
    keys
}

/// Compares a spec document's tables with the code's; returns every
/// disagreement, one line each.
fn disagreements(doc: &str) -> Vec<String> {
    let spec = spec_cells(doc);
    let mut out = Vec::new();
    for (i, (key, _)) in spec.iter().enumerate() {
        if spec[..i].iter().any(|(k, _)| k == key) {
            out.push(format!("spec lists {key:?} twice"));
        }
    }
    for key in all_keys() {
        let (kind, phase, event) = key;
        let in_spec = spec.iter().find(|(k, _)| *k == key).map(|(_, c)| *c);
        let in_code = cell(kind, phase, event);
        if in_spec != in_code {
            out.push(format!(
                "{} {} {}: spec says {in_spec:?}, code says {in_code:?}",
                kind_name(kind),
                phase_name(phase),
                event_name(event)
            ));
        }
    }
    let spec_reads = spec::reads(doc);
    for r in &spec_reads {
        let phase = parse_phase(&r.state);
        let state = match r.public_state.as_str() {
            "Created" => State::Created,
            "Running" => State::Running,
            "Stopped" => State::Stopped,
            "Closed" => State::Closed,
            s => panic!("spec: unknown state() value {s:?}"),
        };
        let in_spec = Reads {
            state,
            context_cancelled: r.context_cancelled,
            done_resolved: r.done_resolved,
        };
        if in_spec != reads(phase) {
            out.push(format!(
                "reads in {}: spec says {in_spec:?}, code says {:?}",
                phase_name(phase),
                reads(phase)
            ));
        }
    }
    for phase in Phase::ALL {
        if spec_reads
            .iter()
            .filter(|r| parse_phase(&r.state) == phase)
            .count()
            != 1
        {
            out.push(format!("reads: {} must be listed once", phase_name(phase)));
        }
    }
    out
}

#[test]
fn spec_matches_code() {
    let problems = disagreements(&read("spec/transitions.md"));
    assert!(
        problems.is_empty(),
        "spec/transitions.md and src/lifecycle/table.rs disagree:\n{}",
        problems.join("\n")
    );
}

/// The checker itself must be able to fail: flipping any one cell of the
/// spec's table (in every column) is reported.
#[test]
fn spec_check_catches_every_changed_cell() {
    let doc = read("spec/transitions.md");
    let flip = |cell: &str, col: usize| -> String {
        match col {
            1 | 3 => if cell == "Closed" {
                "Created"
            } else {
                "Closed"
            }
            .to_string(),
            2 => if cell == "close" { "stop" } else { "close" }.to_string(),
            4 => if cell == "ok" { "Err(Closed)" } else { "ok" }.to_string(),
            _ => if cell == "yes" { "no" } else { "yes" }.to_string(),
        }
    };
    let rows = spec::table_after(&doc, "## Transitions");
    let mut checked = 0;
    for row in &rows {
        let line = format!("| {} |", row.join(" | "));
        assert!(doc.contains(&line), "cannot find row {line}");
        for col in 1..row.len() {
            let mut changed = row.clone();
            changed[col] = flip(&row[col], col);
            let planted = doc.replacen(&line, &format!("| {} |", changed.join(" | ")), 1);
            assert!(
                !disagreements(&planted).is_empty(),
                "changing column {col} of {line} went unnoticed"
            );
            checked += 1;
        }
    }
    // A row removed is reported too.
    let first = format!("| {} |\n", rows[0].join(" | "));
    assert!(!disagreements(&doc.replacen(&first, "", 1)).is_empty());
    assert!(checked > 300, "only {checked} planted changes");
}

/// The Mermaid diagram of the table: self-loops left out, an edge marked
/// with a kind when the other kind does something else on that event.
fn diagram() -> String {
    let mut edges: Vec<((Phase, Phase), Vec<String>)> = Vec::new();
    for phase in Phase::ALL {
        for (_, event) in EVENT_NAMES {
            for kind in [Kind::One, Kind::Many] {
                let Some(c) = cell(kind, phase, event) else {
                    continue;
                };
                if c.next == phase {
                    continue;
                }
                let other = match kind {
                    Kind::One => Kind::Many,
                    Kind::Many => Kind::One,
                };
                let differs = cell(other, phase, event).is_some_and(|o| o.next != c.next);
                let mut label = event_name(event).to_string();
                if differs {
                    label = format!("{label} ({})", kind_name(kind));
                }
                if c.new_run {
                    label.push_str(" (new run)");
                }
                let key = (phase, c.next);
                match edges.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, labels)) => {
                        if !labels.contains(&label) {
                            labels.push(label);
                        }
                    }
                    None => edges.push((key, vec![label])),
                }
            }
        }
    }
    let id = |p: Phase| format!("{p:?}");
    let mut out = String::from(
        "stateDiagram-v2\n    state \"Stopping\" as Stopping\n    state \"Closing\" as Closing\n    [*] --> Created\n",
    );
    for ((from, to), labels) in edges {
        writeln!(
            out,
            "    {} --> {}: {}",
            id(from),
            id(to),
            labels.join(", ")
        )
        .unwrap();
    }
    out.push_str("    Closed --> [*]\n");
    out
}

fn mermaid_block(doc: &str, file: &str) -> String {
    let start = doc
        .find("```mermaid\n")
        .unwrap_or_else(|| panic!("{file} has no mermaid block"))
        + "```mermaid\n".len();
    let len = doc[start..].find("```").unwrap();
    doc[start..start + len].to_string()
}

#[test]
fn diagrams_are_generated_from_the_table() {
    let expected = diagram();
    for file in ["spec/transitions.md", "README.md"] {
        let found = mermaid_block(&read(file), file);
        assert_eq!(
            found, expected,
            "the diagram in {file} is not the table's; generated:\n{expected}"
        );
    }
}

#[test]
fn closed_is_terminal() {
    for kind in [Kind::One, Kind::Many] {
        for (_, event) in EVENT_NAMES {
            if let Some(c) = cell(kind, Phase::Closed, event) {
                assert_eq!(c.next, Phase::Closed, "{kind:?} {event:?} leaves Closed");
            }
        }
    }
}

/// Invariant #5 of the table: a cell cancels the context exactly when its
/// transition moves the reads from "not cancelled" to "cancelled" in the
/// same run. Invariant #3: a cell resolves done exactly when the reads move
/// from "not resolved" to "resolved".
#[test]
fn cancel_and_resolve_cells_agree_with_reads() {
    for key in all_keys() {
        let (kind, phase, event) = key;
        let Some(c) = cell(kind, phase, event) else {
            continue;
        };
        let (before, after) = (reads(phase), reads(c.next));
        if !c.new_run {
            assert_eq!(
                c.cancels_context,
                !before.context_cancelled && after.context_cancelled,
                "{key:?}: cancels_context"
            );
        }
        assert_eq!(
            c.resolves_done,
            !before.done_resolved && after.done_resolved,
            "{key:?}: resolves_done"
        );
        // Only a start from Stopped begins a new run, and it always does.
        assert_eq!(
            c.new_run,
            event == Event::Start && phase == Phase::Stopped,
            "{key:?}: new_run"
        );
        // The call waits exactly when it is a stop or close that finds a run.
        let running = matches!(phase, Phase::Running | Phase::Stopping | Phase::Closing);
        assert_eq!(
            c.waits,
            running && matches!(event, Event::Stop | Event::Close),
            "{key:?}: waits"
        );
    }
}

/// Invariant #1: the undefined cells are exactly the impossible ones.
#[test]
fn undefined_cells_are_the_impossible_ones() {
    for (kind, phase, event) in all_keys() {
        let one_never = kind == Kind::One
            && (matches!(phase, Phase::Stopping | Phase::Stopped) || event == Event::Stop);
        let not_running = !matches!(phase, Phase::Running | Phase::Stopping | Phase::Closing);
        let impossible = one_never || (event == Event::Complete && not_running);
        assert_eq!(
            cell(kind, phase, event).is_none(),
            impossible,
            "{kind:?} {phase:?} {event:?}"
        );
    }
}
