//! The runtime-free lifecycle core, in layers (each imports only from the
//! ones above it):
//!
//! 1. [`table`]: the transition table, the code form of
//!    `spec/transitions.md` (data, no atomics).
//! 2. [`engine`]: the state word and the transitions on it.
//! 3. the public handles: [`one`], [`many`], [`guard`], [`wait`],
//!    [`context`], with [`state`] for the values they return.

pub(crate) mod block;
pub(crate) mod context;
pub(crate) mod engine;
pub(crate) mod guard;
pub(crate) mod many;
pub(crate) mod one;
pub(crate) mod state;
pub(crate) mod table;
pub(crate) mod wait;
