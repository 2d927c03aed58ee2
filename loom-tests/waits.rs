//! Loom models of the waits against the signal: done, close and stop waits
//! registered before, during and after the completion, blocking and async,
//! several waiters at once, and three parties (a waiter, the completer and
//! a restarter; see `README.md` in this folder).

#![cfg(loom)]

mod common;

use common::models::*;
use common::script::run;

#[test]
fn one_done_blocking() {
    run(&ONE_DONE_WAIT);
}

#[test]
fn one_done_async() {
    run(&ONE_DONE_WAIT_ASYNC);
}

#[test]
fn one_close_blocking() {
    run(&ONE_CLOSE_WAIT);
}

#[test]
fn one_close_async() {
    run(&ONE_CLOSE_WAIT_ASYNC);
}

#[test]
fn many_done_blocking() {
    run(&MANY_DONE_WAIT);
}

#[test]
fn many_done_async() {
    run(&MANY_DONE_WAIT_ASYNC);
}

#[test]
fn many_close_blocking() {
    run(&MANY_CLOSE_WAIT);
}

#[test]
fn many_close_async() {
    run(&MANY_CLOSE_WAIT_ASYNC);
}

#[test]
fn many_stop_blocking() {
    run(&MANY_STOP_WAIT);
}

#[test]
fn many_stop_async() {
    run(&MANY_STOP_WAIT_ASYNC);
}

#[test]
fn one_mixed() {
    run(&ONE_MIXED_WAITS);
}

#[test]
fn many_mixed() {
    run(&MANY_MIXED_WAITS);
}

// Three parties: a waiter of run 1, its completer, and a restarter that
// waits for run 1 to end and restarts (see `common/models.rs`). Three run
// by default; the other three explore more (each 8 to 24 s) and are
// ignored: `-- --include-ignored` adds them (README, "Deeper runs").

// The single-waiter slot (engine invariant E10).

#[test]
fn slot_blocking() {
    run(&SLOT_BLOCKING);
}

#[test]
fn slot_repoll() {
    run(&SLOT_REPOLL);
}

#[test]
fn slot_and_list() {
    run(&SLOT_AND_LIST);
}

#[test]
fn slot_reclaim() {
    run(&SLOT_RECLAIM);
}

#[test]
fn many_done_blocking_restart() {
    run(&MANY_DONE_RESTART_WAIT);
}

#[test]
#[ignore = "deep model (about 250 000 interleavings): run with --include-ignored"]
fn many_done_async_restart() {
    run(&MANY_DONE_RESTART_WAIT_ASYNC);
}

#[test]
#[ignore = "deep model (about 100 000 interleavings): run with --include-ignored"]
fn many_stop_blocking_restart() {
    run(&MANY_STOP_RESTART_WAIT);
}

#[test]
fn many_stop_async_restart() {
    run(&MANY_STOP_RESTART_WAIT_ASYNC);
}

#[test]
fn many_close_blocking_restart() {
    run(&MANY_CLOSE_RESTART_WAIT);
}

#[test]
#[ignore = "deep model (about 80 000 interleavings): run with --include-ignored"]
fn many_close_async_restart() {
    run(&MANY_CLOSE_RESTART_WAIT_ASYNC);
}
