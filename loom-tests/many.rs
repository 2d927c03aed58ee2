//! Loom models of `Many`: every pair of concurrent operations, restart
//! cycles, and the three-thread combinations (see `README.md` in this folder).

#![cfg(loom)]

mod common;

use common::models::*;
use common::script::run;

#[test]
fn start_start() {
    run(&MANY_START_START);
}

#[test]
fn start_close() {
    run(&MANY_START_CLOSE);
}

#[test]
fn complete_close() {
    run(&MANY_COMPLETE_CLOSE);
}

#[test]
fn complete_stop() {
    run(&MANY_COMPLETE_STOP);
}

#[test]
fn complete_cancel() {
    run(&MANY_COMPLETE_CANCEL);
}

#[test]
fn stop_close() {
    run(&MANY_STOP_CLOSE);
}

#[test]
fn stop_stop() {
    run(&MANY_STOP_STOP);
}

#[test]
fn close_close() {
    run(&MANY_CLOSE_CLOSE);
}

#[test]
fn stop_forget_start() {
    run(&MANY_STOP_FORGET_START);
}

#[test]
fn parent_cancel_start() {
    run(&MANY_PARENT_CANCEL_START);
}

#[test]
fn parent_cancel_complete() {
    run(&MANY_PARENT_CANCEL_COMPLETE);
}

#[test]
fn parent_cancel_stop() {
    run(&MANY_PARENT_CANCEL_STOP);
}

#[test]
fn parent_cancel_close() {
    run(&MANY_PARENT_CANCEL_CLOSE);
}

#[test]
fn parent_cancel_context() {
    run(&MANY_PARENT_CANCEL_CONTEXT);
}

#[test]
fn parent_seen_start() {
    run(&MANY_PARENT_SEEN_START);
}

#[test]
fn parent_cancel_twice() {
    run(&MANY_PARENT_CANCEL_TWICE);
}

#[test]
fn context_close() {
    run(&MANY_CONTEXT_CLOSE);
}

#[test]
fn context_stop() {
    run(&MANY_CONTEXT_STOP);
}

#[test]
fn context_restart() {
    run(&MANY_CONTEXT_RESTART);
}

#[test]
fn done_start() {
    run(&MANY_DONE_START);
}

#[test]
fn done_stop() {
    run(&MANY_DONE_STOP);
}

#[test]
fn done_done() {
    run(&MANY_DONE_DONE);
}

#[test]
fn restart_cycles() {
    run(&MANY_RESTART_CYCLES);
}

#[test]
fn restart_stop() {
    run(&MANY_RESTART_STOP);
}

#[test]
fn last_handle_complete() {
    run(&MANY_LAST_HANDLE_COMPLETE);
}

#[test]
fn last_handle_wait() {
    run(&MANY_LAST_HANDLE_WAIT);
}

#[test]
fn last_handle_parent_cancel() {
    run(&MANY_LAST_HANDLE_PARENT_CANCEL);
}

#[test]
fn observe() {
    run(&MANY_OBSERVE);
}

#[test]
fn start_complete_close() {
    run(&MANY_START_COMPLETE_CLOSE);
}

#[test]
fn stop_close_restart() {
    run(&MANY_STOP_CLOSE_RESTART);
}

#[test]
#[ignore = "deep model (about 250 000 interleavings): run with --include-ignored"]
fn stop_close_restart_waits() {
    run(&MANY_STOP_CLOSE_RESTART_WAITS);
}
