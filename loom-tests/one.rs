//! Loom models of `One`: every pair of concurrent operations, and the
//! three-thread combination (see `README.md` in this folder for the coverage
//! table, the bounds and the interleavings explored).

#![cfg(loom)]

mod common;

use common::models::*;
use common::script::run;

#[test]
fn start_start() {
    run(&ONE_START_START);
}

#[test]
fn start_close() {
    run(&ONE_START_CLOSE);
}

#[test]
fn complete_close() {
    run(&ONE_COMPLETE_CLOSE);
}

#[test]
fn complete_cancel() {
    run(&ONE_COMPLETE_CANCEL);
}

#[test]
fn close_close() {
    run(&ONE_CLOSE_CLOSE);
}

#[test]
fn parent_cancel_start() {
    run(&ONE_PARENT_CANCEL_START);
}

#[test]
fn parent_cancel_complete() {
    run(&ONE_PARENT_CANCEL_COMPLETE);
}

#[test]
fn parent_cancel_close() {
    run(&ONE_PARENT_CANCEL_CLOSE);
}

#[test]
fn parent_cancel_context() {
    run(&ONE_PARENT_CANCEL_CONTEXT);
}

#[test]
fn parent_seen_start() {
    run(&ONE_PARENT_SEEN_START);
}

#[test]
fn first_read_parent_cancel() {
    run(&ONE_FIRST_READ_PARENT_CANCEL);
}

#[test]
fn done_parent_cancel() {
    run(&ONE_DONE_PARENT_CANCEL);
}

#[test]
fn first_reads_after_parent_cancel() {
    run(&ONE_FIRST_READS_AFTER_PARENT_CANCEL);
}

#[test]
fn parent_cancel_twice() {
    run(&ONE_PARENT_CANCEL_TWICE);
}

#[test]
fn context_close() {
    run(&ONE_CONTEXT_CLOSE);
}

#[test]
fn context_complete() {
    run(&ONE_CONTEXT_COMPLETE);
}

#[test]
fn done_start() {
    run(&ONE_DONE_START);
}

#[test]
fn done_close() {
    run(&ONE_DONE_CLOSE);
}

#[test]
fn done_done() {
    run(&ONE_DONE_DONE);
}

#[test]
fn last_handle_complete() {
    run(&ONE_LAST_HANDLE_COMPLETE);
}

#[test]
fn last_handle_wait() {
    run(&ONE_LAST_HANDLE_WAIT);
}

#[test]
fn last_handle_parent_cancel() {
    run(&ONE_LAST_HANDLE_PARENT_CANCEL);
}

#[test]
fn observe() {
    run(&ONE_OBSERVE);
}

#[test]
fn start_complete_close() {
    run(&ONE_START_COMPLETE_CLOSE);
}
