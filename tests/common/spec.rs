//! A parser for `spec/transitions.md`, and the one oracle every checker
//! derives its transitions from.
//!
//! Two layers: the spec's tables as strings ([`transitions`], [`reads`]),
//! which the spec check in `src/lifecycle/table/tests.rs` compares with the
//! code's table cell by cell (it also checks documents with a cell changed,
//! so it must report problems rather than stop at the first); and
//! [`Oracle`], the same tables as typed data, from which the reference
//! models derive what each event does: the proptest model
//! (`tests/common/model.rs`), the loom model (`loom-tests/common/mod.rs`,
//! which includes this file by `#[path]`), and `tests/context.rs` and
//! `tests/spec_rows.rs`. Change a cell of the spec and every one of them
//! expects the new cell; none holds a copy of the table.

#![allow(dead_code, unreachable_pub, clippy::struct_excessive_bools)]

/// One row of the "Transitions" table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    pub kind: String,
    pub state: String,
    pub event: String,
    pub next: String,
    pub returns: String,
    pub cancels_context: bool,
    pub resolves_done: bool,
    pub new_run: bool,
    pub waits: bool,
}

/// One row of the "Reads" table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Read {
    pub state: String,
    pub public_state: String,
    pub context_cancelled: bool,
    pub done_resolved: bool,
}

/// The spec document, read from the crate root.
pub fn document() -> String {
    let path = format!("{}/spec/transitions.md", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// The body rows of the first markdown table after `heading`, as cells.
pub fn table_after(doc: &str, heading: &str) -> Vec<Vec<String>> {
    let start = doc
        .find(heading)
        .unwrap_or_else(|| panic!("spec: no {heading:?} section"));
    let rows: Vec<Vec<String>> = doc[start..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2) // header and separator
        .map(|l| {
            l.trim()
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect();
    assert!(!rows.is_empty(), "spec: the {heading:?} table is empty");
    rows
}

fn yes_no(s: &str) -> bool {
    match s {
        "yes" => true,
        "no" => false,
        _ => panic!("spec: expected yes or no, found {s:?}"),
    }
}

pub fn transitions(doc: &str) -> Vec<Transition> {
    table_after(doc, "## Transitions")
        .into_iter()
        .map(|r| {
            assert_eq!(r.len(), 9, "spec: a transitions row has 9 cells: {r:?}");
            Transition {
                kind: r[0].clone(),
                state: r[1].clone(),
                event: r[2].clone(),
                next: r[3].clone(),
                returns: r[4].clone(),
                cancels_context: yes_no(&r[5]),
                resolves_done: yes_no(&r[6]),
                new_run: yes_no(&r[7]),
                waits: yes_no(&r[8]),
            }
        })
        .collect()
}

pub fn reads(doc: &str) -> Vec<Read> {
    table_after(doc, "## Reads")
        .into_iter()
        .map(|r| {
            assert_eq!(r.len(), 4, "spec: a reads row has 4 cells: {r:?}");
            Read {
                state: r[0].clone(),
                public_state: r[1].clone(),
                context_cancelled: yes_no(&r[2]),
                done_resolved: yes_no(&r[3]),
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The oracle: the spec's tables as typed data
// ---------------------------------------------------------------------------
//
// Every checker outside the crate's own table derives its transitions from
// this: the proptest reference model (`tests/common/model.rs`), the loom
// reference model (`loom-tests/common/mod.rs`, which includes this file by
// `#[path]`), `tests/context.rs` and `tests/spec_rows.rs`. A change to a cell
// of `spec/transitions.md` therefore changes what every one of them expects;
// only the names below (the spec's vocabulary) are written here.

/// A name of the spec's vocabulary and the value it stands for.
type Names<T> = &'static [(&'static str, T)];

fn name_of<T: Copy + PartialEq + std::fmt::Debug>(names: Names<T>, value: T) -> &'static str {
    names
        .iter()
        .find(|(_, v)| *v == value)
        .unwrap_or_else(|| panic!("spec: {value:?} has no name"))
        .0
}

fn parse_name<T: Copy>(names: Names<T>, what: &str, s: &str) -> T {
    names
        .iter()
        .find(|(n, _)| *n == s)
        .unwrap_or_else(|| panic!("spec: unknown {what} {s:?}"))
        .1
}

/// The "kind" column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    One,
    Many,
}

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::One, Kind::Many];
    const NAMES: Names<Kind> = &[("One", Kind::One), ("Many", Kind::Many)];

    pub fn name(self) -> &'static str {
        name_of(Self::NAMES, self)
    }

    pub fn parse(s: &str) -> Kind {
        parse_name(Self::NAMES, "kind", s)
    }
}

/// The spec's six states ("States").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    Created,
    Running,
    /// A stop was requested (Many only).
    Stopping,
    /// A close was requested.
    Closing,
    Stopped,
    Closed,
}

impl Phase {
    pub const ALL: [Phase; 6] = [
        Phase::Created,
        Phase::Running,
        Phase::Stopping,
        Phase::Closing,
        Phase::Stopped,
        Phase::Closed,
    ];
    const NAMES: Names<Phase> = &[
        ("Created", Phase::Created),
        ("Running", Phase::Running),
        ("Stopping", Phase::Stopping),
        ("Closing", Phase::Closing),
        ("Stopped", Phase::Stopped),
        ("Closed", Phase::Closed),
    ];

    /// The spec's name of the state.
    pub fn name(self) -> &'static str {
        name_of(Self::NAMES, self)
    }

    pub fn parse(s: &str) -> Phase {
        parse_name(Self::NAMES, "state", s)
    }
}

/// The "event" column ("Events").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    Start,
    Complete,
    Stop,
    Close,
    ParentCancel,
}

impl Event {
    pub const ALL: [Event; 5] = [
        Event::Start,
        Event::Complete,
        Event::Stop,
        Event::Close,
        Event::ParentCancel,
    ];
    const NAMES: Names<Event> = &[
        ("start", Event::Start),
        ("complete", Event::Complete),
        ("stop", Event::Stop),
        ("close", Event::Close),
        ("parent-cancel", Event::ParentCancel),
    ];

    pub fn name(self) -> &'static str {
        name_of(Self::NAMES, self)
    }

    pub fn parse(s: &str) -> Event {
        parse_name(Self::NAMES, "event", s)
    }
}

/// The "returns" column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Returns {
    Ok,
    ErrRunning,
    ErrClosed,
}

impl Returns {
    const NAMES: Names<Returns> = &[
        ("ok", Returns::Ok),
        ("Err(Running)", Returns::ErrRunning),
        ("Err(Closed)", Returns::ErrClosed),
    ];

    pub fn name(self) -> &'static str {
        name_of(Self::NAMES, self)
    }

    pub fn parse(s: &str) -> Returns {
        parse_name(Self::NAMES, "return", s)
    }
}

/// The public `state()` values (the `state()` column of "Reads").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Public {
    Created,
    Running,
    Stopped,
    Closed,
}

impl Public {
    const NAMES: Names<Public> = &[
        ("Created", Public::Created),
        ("Running", Public::Running),
        ("Stopped", Public::Stopped),
        ("Closed", Public::Closed),
    ];

    pub fn name(self) -> &'static str {
        name_of(Self::NAMES, self)
    }

    pub fn parse(s: &str) -> Public {
        parse_name(Self::NAMES, "state() value", s)
    }
}

/// One cell of the transition table: what an event does in a state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cell {
    pub next: Phase,
    pub returns: Returns,
    pub cancels_context: bool,
    pub resolves_done: bool,
    pub new_run: bool,
    pub waits: bool,
}

/// The reads in one state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Reads {
    pub state: Public,
    pub context_cancelled: bool,
    pub done_resolved: bool,
}

/// The spec's two tables, indexed by the vocabulary above.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Oracle {
    cells: [[[Option<Cell>; 5]; 6]; 2],
    reads: [Reads; 6],
}

impl Oracle {
    /// The oracle of `doc`. Panics on an unknown name, a row listed twice,
    /// or a state without exactly one reads row.
    pub fn parse(doc: &str) -> Oracle {
        let mut cells = [[[None; 5]; 6]; 2];
        for t in transitions(doc) {
            let (kind, phase, event) = (
                Kind::parse(&t.kind),
                Phase::parse(&t.state),
                Event::parse(&t.event),
            );
            let slot = &mut cells[kind as usize][phase as usize][event as usize];
            assert!(
                slot.is_none(),
                "spec: {} {} {} is listed twice",
                t.kind,
                t.state,
                t.event
            );
            *slot = Some(Cell {
                next: Phase::parse(&t.next),
                returns: Returns::parse(&t.returns),
                cancels_context: t.cancels_context,
                resolves_done: t.resolves_done,
                new_run: t.new_run,
                waits: t.waits,
            });
        }
        let rows = reads(doc);
        let reads = Phase::ALL.map(|phase| {
            let mut found = rows.iter().filter(|r| Phase::parse(&r.state) == phase);
            let r = found
                .next()
                .unwrap_or_else(|| panic!("spec: no reads row for {}", phase.name()));
            assert!(
                found.next().is_none(),
                "spec: two reads rows for {}",
                phase.name()
            );
            Reads {
                state: Public::parse(&r.public_state),
                context_cancelled: r.context_cancelled,
                done_resolved: r.done_resolved,
            }
        });
        Oracle { cells, reads }
    }

    /// The oracle of `spec/transitions.md`, parsed once per process.
    pub fn get() -> &'static Oracle {
        static ORACLE: std::sync::OnceLock<Oracle> = std::sync::OnceLock::new();
        ORACLE.get_or_init(|| Oracle::parse(&document()))
    }

    /// What `event` does in `phase` for `kind`; `None` where the spec lists
    /// no row (the event cannot happen there).
    pub fn cell(&self, kind: Kind, phase: Phase, event: Event) -> Option<Cell> {
        self.cells[kind as usize][phase as usize][event as usize]
    }

    /// The reads in `phase` (the same for both kinds).
    pub fn reads(&self, phase: Phase) -> Reads {
        self.reads[phase as usize]
    }

    /// Whether `kind` has rows in `phase` (One never reaches Stopping or
    /// Stopped).
    pub fn reaches(&self, kind: Kind, phase: Phase) -> bool {
        Event::ALL
            .iter()
            .any(|&event| self.cell(kind, phase, event).is_some())
    }

    /// Whether a run is in progress in `phase`: the spec lets it complete.
    pub fn running(&self, kind: Kind, phase: Phase) -> bool {
        self.cell(kind, phase, Event::Complete).is_some()
    }
}
