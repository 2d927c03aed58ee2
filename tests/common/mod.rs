//! Helpers shared by the integration tests.

pub mod model;
pub mod spec;
pub mod tasks;
