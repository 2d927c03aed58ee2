//! A parser for `spec/transitions.md`, shared by the spec check in
//! `src/lifecycle/table/tests.rs` and the behavioural row tests in `tests/spec_rows.rs`.
//! It yields the spec's words as strings; each user maps them to its types.

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
