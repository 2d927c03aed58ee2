//! Supervision: children restarted by a policy, in trees, with an ordered
//! shutdown (feature `tokio`; the rules are `spec/supervise.md`).
//!
//! A [`Supervisor`] runs [`Child`]ren, each an async function of its
//! [`Context`](crate::Context) (or a [`Service`]) run under a
//! [`Many`](crate::Many), and decides after every exit, by a pure policy
//! function: the child's [`Restart`] type, the supervisor's [`Strategy`], a
//! [`Backoff`] and the restart [`Intensity`]. A supervisor is itself a child
//! of another ([`Child::supervisor`]). Every decision is an [`Event`].

mod child;
mod event;
mod policy;
mod report;
mod supervisor;

pub use child::{Child, ChildError, Service};
pub use event::Event;
pub use policy::{Backoff, Intensity, Restart, Strategy};
pub use report::{ChildStats, Exit, Report, StopReason, SupervisorError};
pub use supervisor::{Supervisor, SupervisorBuilder};
