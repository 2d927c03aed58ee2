//! The tokio wing: tasks with a managed context ([`spawn`]) and groups of
//! them ([`group`]), whose panics are never lost ([`panic`]). Built on the
//! lifecycle core; nothing in the core imports from here.

pub(crate) mod group;
pub(crate) mod panic;
pub(crate) mod spawn;
