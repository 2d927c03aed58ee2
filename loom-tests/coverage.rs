//! The suite's own checks, no model run: the reference model accepts a
//! correct history and rejects wrong ones; every pair of concurrent
//! operations is covered by some model, and every way of making and waiting
//! on a wait has a three-party model (a waiter, the completer, a
//! restarter); and the coverage tables in `loom-tests/README.md` are the
//! ones the models give.

#![cfg(loom)]

mod common;

use common::models::ALL;
use common::script::{Act, Model};
use common::Kind;

#[test]
fn reference_model() {
    common::self_test();
}

/// The operations of the table, in its order.
const OPS: &[&str] = &[
    "start",
    "complete",
    "stop",
    "stop-forget",
    "close",
    "close-forget",
    "parent-cancel",
    "last-drop",
    "context",
    "done",
    "wait",
    "state",
];

/// The table's operation an act performs, if any.
fn op(act: Act) -> Option<&'static str> {
    Some(match act {
        Act::Start(_) => "start",
        Act::Complete(_) => "complete",
        Act::Stop(_) => "stop",
        Act::StopForget => "stop-forget",
        Act::Close(_) => "close",
        Act::CloseForget => "close-forget",
        Act::ParentCancel => "parent-cancel",
        Act::DropHandle => "last-drop",
        Act::Context | Act::GuardCtx(_) => "context",
        Act::Done(_) => "done",
        Act::Wait(_) | Act::WaitAsync(_) | Act::Repoll(_) => "wait",
        Act::State => "state",
        Act::Ctx(_) | Act::Idle | Act::ParentSeen | Act::PollOnce(_) => return None,
    })
}

/// Why a pair is not modelled, if it cannot happen.
fn impossible(kind: Kind, a: &str, b: &str) -> Option<&'static str> {
    if kind == Kind::One && ["stop", "stop-forget"].iter().any(|x| *x == a || *x == b) {
        return Some("n/a (One has no stop)");
    }
    // Dropping the *last* handle cannot race with a call that needs a
    // handle: the caller's handle would not be the last one.
    let needs_handle = [
        "start",
        "stop",
        "stop-forget",
        "close",
        "close-forget",
        "done",
        "state",
        "last-drop",
    ];
    if (a == "last-drop" && needs_handle.contains(&b))
        || (b == "last-drop" && needs_handle.contains(&a))
    {
        return Some("n/a (needs a handle)");
    }
    None
}

/// The short name of a model's test, as the table shows it.
fn short(model: &Model, kind: Kind) -> String {
    let (bin, test) = model.name.split_once("::").expect("binary::test");
    let own = match kind {
        Kind::One => "loom_one",
        Kind::Many => "loom_many",
    };
    if bin == own {
        test.to_string()
    } else {
        format!("{}::{test}", bin.trim_start_matches("loom_"))
    }
}

/// The first model (in `ALL` order) of `kind` that runs `a` and `b` in two
/// different threads.
fn covering(kind: Kind, a: &str, b: &str) -> Option<&'static Model> {
    ALL.iter().copied().find(|m| {
        m.kind == kind
            && m.threads.iter().enumerate().any(|(i, ti)| {
                ti.iter().any(|x| op(*x) == Some(a))
                    && m.threads
                        .iter()
                        .enumerate()
                        .any(|(j, tj)| i != j && tj.iter().any(|x| op(*x) == Some(b)))
            })
    })
}

fn table(kind: Kind) -> (String, Vec<String>) {
    let ops: Vec<&str> = OPS
        .iter()
        .copied()
        .filter(|o| kind == Kind::Many || !["stop", "stop-forget"].contains(o))
        .collect();
    let mut out = String::new();
    let mut missing = Vec::new();
    out.push_str("| |");
    for o in &ops {
        out.push_str(&format!(" {o} |"));
    }
    out.push_str("\n|---|");
    for _ in &ops {
        out.push_str("---|");
    }
    out.push('\n');
    for a in &ops {
        out.push_str(&format!("| **{a}** |"));
        for b in &ops {
            let cell = if let Some(why) = impossible(kind, a, b) {
                why.to_string()
            } else if let Some(m) = covering(kind, a, b) {
                format!("`{}`", short(m, kind))
            } else {
                missing.push(format!("{a} × {b}"));
                "**MISSING**".to_string()
            };
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    (out, missing)
}

/// Every possible pair is covered, and the README shows the tables the
/// models give (set `RUNCYCLE_PRINT_COVERAGE=1` to print them).
#[test]
fn coverage_table() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/loom-tests/README.md"))
            .expect("loom-tests/README.md");
    let mut problems = Vec::new();
    for (kind, title) in [(Kind::One, "One"), (Kind::Many, "Many")] {
        let (text, missing) = table(kind);
        if std::env::var_os("RUNCYCLE_PRINT_COVERAGE").is_some() {
            println!("{title}:\n\n{text}");
        }
        if !missing.is_empty() {
            problems.push(format!("{title}: pairs not covered: {missing:?}"));
        }
        let begin = format!("<!-- coverage {title} begin -->\n");
        let end = format!("<!-- coverage {title} end -->");
        let shown = readme
            .split_once(&begin)
            .and_then(|(_, rest)| rest.split_once(&end))
            .map(|(table, _)| table.trim());
        if shown != Some(text.trim()) {
            problems.push(format!(
                "loom-tests/README.md: the {title} table between `{}` and `{end}` should be:\n\n{text}",
                begin.trim()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// The three-party wait models: for each way of making a wait (`done`,
/// `stop`, `close`) and each way of waiting (blocking, async), the first
/// model (in `ALL` order) of Many in which one thread waits on such a wait
/// for the run the prefix started, another completes that run, and a third
/// calls `start()` (a restart). A pair of threads cannot show a lost
/// wake-up that needs a restart between the completion's swap and what it
/// does next (`plants/fresh-load-notify.patch`); the pairwise tables above
/// cannot show this gap, so this table is checked on its own.
/// The wait an act makes, if it makes one of a given kind.
type Maker = fn(Act) -> Option<u8>;

fn three_party(make: Maker, blocking: bool) -> Option<&'static Model> {
    ALL.iter().copied().find(|m| {
        let started: Vec<u8> = m
            .prefix
            .iter()
            .filter_map(|a| match a {
                Act::Start(g) => Some(*g),
                _ => None,
            })
            .collect();
        let made: Vec<u8> = m.prefix.iter().filter_map(|a| make(*a)).collect();
        let waiter = |t: &[Act]| {
            t.iter().any(|a| match (*a, blocking) {
                (Act::Wait(w), true) | (Act::WaitAsync(w), false) => made.contains(&w),
                _ => false,
            })
        };
        let completer = |t: &[Act]| {
            t.iter()
                .any(|a| matches!(a, Act::Complete(g) if started.contains(g)))
        };
        let restarter = |t: &[Act]| t.iter().any(|a| matches!(a, Act::Start(_)));
        let n = m.threads.len();
        m.kind == Kind::Many
            && (0..n).any(|i| {
                (0..n).any(|j| {
                    (0..n).any(|k| {
                        i != j
                            && j != k
                            && i != k
                            && waiter(m.threads[i])
                            && completer(m.threads[j])
                            && restarter(m.threads[k])
                    })
                })
            })
    })
}

fn three_party_table() -> (String, Vec<String>) {
    let makers: [(&str, Maker); 3] = [
        ("done", |a| match a {
            Act::Done(w) => Some(w),
            _ => None,
        }),
        ("stop", |a| match a {
            Act::Stop(w) => Some(w),
            _ => None,
        }),
        ("close", |a| match a {
            Act::Close(w) => Some(w),
            _ => None,
        }),
    ];
    let mut out = String::from(
        "| wait made by | blocking (`Wait::wait`) | async (`.await`) |\n|---|---|---|\n",
    );
    let mut missing = Vec::new();
    for (name, make) in makers {
        out.push_str(&format!("| `{name}()` |"));
        for blocking in [true, false] {
            match three_party(make, blocking) {
                Some(m) => out.push_str(&format!(" `{}` |", short(m, Kind::Many))),
                None => {
                    missing.push(format!(
                        "{name} ({})",
                        if blocking { "blocking" } else { "async" }
                    ));
                    out.push_str(" **MISSING** |");
                }
            }
        }
        out.push('\n');
    }
    (out, missing)
}

/// Every way of making and waiting on a wait has a three-party model, and
/// the README shows the table the models give.
#[test]
fn three_party_waits() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/loom-tests/README.md"))
            .expect("loom-tests/README.md");
    let (text, missing) = three_party_table();
    if std::env::var_os("RUNCYCLE_PRINT_COVERAGE").is_some() {
        println!("three parties:\n\n{text}");
    }
    assert!(missing.is_empty(), "no three-party model for {missing:?}");
    let shown = readme
        .split_once("<!-- three-party begin -->\n")
        .and_then(|(_, rest)| rest.split_once("<!-- three-party end -->"))
        .map(|(table, _)| table.trim());
    assert_eq!(
        shown,
        Some(text.trim()),
        "loom-tests/README.md: the table between `<!-- three-party begin -->` and `<!-- three-party end -->` should be:\n\n{text}"
    );
}

/// Every model is run by exactly one test of its binary (the table names
/// them), and the names are unique.
#[test]
fn models_are_named_once() {
    let mut names: Vec<&str> = ALL.iter().map(|m| m.name).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "duplicate model names");
    for m in ALL {
        let (bin, test) = m.name.split_once("::").expect("binary::test");
        let file = match bin {
            "loom_one" => "one.rs",
            "loom_many" => "many.rs",
            "loom_waits" => "waits.rs",
            _ => panic!("unknown binary {bin}"),
        };
        let path = format!("{}/loom-tests/{file}", env!("CARGO_MANIFEST_DIR"));
        let source = std::fs::read_to_string(&path).expect("test file");
        assert!(
            source.contains(&format!("fn {test}()")),
            "{} has no test in {file}",
            m.name
        );
    }
}
