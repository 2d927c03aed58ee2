//! `Context` (spec/README.md, section 8): readers of a run's context cannot
//! cancel the run. A `Context` has no `cancel` (a `compile_fail` doctest in
//! src/lifecycle/context.rs checks it); the only token it hands out, `child_token()`,
//! is a child: cancelling it leaves the run, the instance's state and every
//! other reader untouched, in every state of the table.
#![cfg(not(loom))]

mod common;

use common::model::{Kind, Phase};
use common::spec::{Event, Oracle, Returns};
use runcycle::{Guard, Many, One, StartError, State};

/// The phases of the table (the spec's states).
const PHASES: [Phase; 6] = Phase::ALL;

/// A Many in `phase`, with the guard of its run if one is in progress.
fn many_in(phase: Phase) -> (Many, Option<Guard>) {
    let many = Many::new();
    let guard = match phase {
        Phase::Created => None,
        Phase::Stopped => {
            drop(many.start().unwrap());
            None
        }
        Phase::Closed => {
            many.close();
            None
        }
        Phase::Running => Some(many.start().unwrap()),
        Phase::Stopping => {
            let guard = many.start().unwrap();
            many.stop().unwrap();
            Some(guard)
        }
        Phase::Closing => {
            let guard = many.start().unwrap();
            many.close();
            Some(guard)
        }
    };
    (many, guard)
}

#[test]
fn cancelling_a_child_of_a_many_context_changes_nothing_in_any_state() {
    for phase in PHASES {
        let (many, guard) = many_in(phase);
        let ctx = many.context();
        let before = (many.state(), ctx.is_cancelled(), many.done().is_done());
        let child = ctx.child_token();
        child.cancel();
        assert!(child.is_cancelled());
        assert_eq!(
            (many.state(), ctx.is_cancelled(), many.done().is_done()),
            before,
            "{phase:?}"
        );
        assert_eq!(many.context().is_cancelled(), before.1, "{phase:?}");
        if let Some(guard) = &guard {
            assert_eq!(guard.context().is_cancelled(), before.1, "{phase:?}");
        }
        // What the instance does next is what it would have done anyway:
        // the spec's start row for the phase.
        let start = Oracle::get()
            .cell(Kind::Many, phase, Event::Start)
            .expect("Many can start in every phase")
            .returns;
        match start {
            Returns::ErrRunning => assert_eq!(many.start().unwrap_err(), StartError::Running),
            Returns::ErrClosed => assert_eq!(many.start().unwrap_err(), StartError::Closed),
            Returns::Ok => {
                let run = many.start().unwrap();
                assert!(
                    !run.context().is_cancelled(),
                    "{phase:?}: the next run starts uncancelled"
                );
            }
        }
        drop(guard);
    }
}

#[test]
fn cancelling_a_child_of_a_created_one_context_does_not_cancel_its_run() {
    let one = One::new();
    one.context().child_token().cancel();
    assert_eq!(one.state(), State::Created);
    let guard = one.start().unwrap();
    assert!(
        !guard.context().is_cancelled(),
        "the first run must not start cancelled"
    );
    one.close();
    assert!(guard.context().is_cancelled());
}

#[test]
fn a_child_token_is_cancelled_with_the_run() {
    let (many, guard) = many_in(Phase::Running);
    let child = many.context().child_token();
    assert!(!child.is_cancelled());
    many.stop().unwrap();
    assert!(child.is_cancelled());
    drop(guard);
}

#[test]
fn a_context_debugs_as_its_cancellation() {
    let one = One::new();
    assert_eq!(
        format!("{:?}", one.context()),
        "Context { cancelled: false }"
    );
    one.close();
    assert_eq!(
        format!("{:?}", one.context()),
        "Context { cancelled: true }"
    );
}

/// Every state of the table reports a context whose cancellation matches
/// the reads table (spec/transitions.md, "Reads").
#[test]
fn the_context_matches_the_reads_table_in_every_state() {
    for phase in PHASES {
        let cancelled = Oracle::get().reads(phase).context_cancelled;
        let (many, guard) = many_in(phase);
        assert_eq!(many.context().is_cancelled(), cancelled, "{phase:?}");
        drop(guard);
    }
}

#[test]
fn run_until_cancelled_gives_the_output_or_none_once_cancelled() {
    futures::executor::block_on(async {
        let many = Many::new();
        let guard = many.start().unwrap();
        let ctx = guard.context();
        assert_eq!(ctx.run_until_cancelled(async { 7 }).await, Some(7));
        let _ = many.stop();
        assert_eq!(
            ctx.run_until_cancelled(std::future::pending::<u8>()).await,
            None
        );
        // `cancelled_owned` resolves too, and the run's other readers agree.
        many.context().cancelled_owned().await;
        drop(guard);
    });
}
