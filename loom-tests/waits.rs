//! Loom models of the waits against the signal: done, close and stop waits
//! registered before, during and after the completion, blocking and async,
//! and several waiters at once (see `README.md` in this folder).

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
