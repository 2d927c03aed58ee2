//! The runtime-free lifecycle core, in layers; each imports only from the
//! layers before it:
//!
//! 1. [`table`]: the transition table, the code form of
//!    `spec/transitions.md` (data, no atomics); [`state`] and [`error`],
//!    the values the calls return.
//! 2. [`word`]: the state word's layout (pure data).
//! 3. [`engine`]: an instance's shared part and the transitions on its
//!    state word (the atomics, through `crate::sync`).
//! 4. [`watch`]: the parent watch, which turns the parent's cancellation
//!    into transitions; [`block`]: whether this thread may block.
//! 5. The handles: [`context`], [`guard`], [`wait`] (and [`closed`], which
//!    wraps it), [`transition`], then
//!    [`handle`] (which builds them from transitions), then the public
//!    [`one`] and [`many`].

pub(crate) mod block;
pub(crate) mod closed;
pub(crate) mod context;
pub(crate) mod engine;
pub(crate) mod error;
pub(crate) mod guard;
pub(crate) mod handle;
pub(crate) mod many;
pub(crate) mod one;
pub(crate) mod state;
pub(crate) mod table;
pub(crate) mod transition;
pub(crate) mod wait;
pub(crate) mod waiter;
pub(crate) mod watch;
pub(crate) mod word;
