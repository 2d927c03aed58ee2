//! The parent watch's waker under loom (see [`waker`](super::waker) in
//! the parent module for the `std` one): `Wake` is implemented for `std`'s
//! `Arc` only, and under loom the instance lives in loom's, so a small
//! `std` `Arc` holds the loom one. The wake-up path after it is the same
//! code ([`propagate`](super::propagate)).

use core::task::Waker;

use super::propagate;
use crate::lifecycle::engine::Inner;
use crate::sync::{Arc, StdArc};

/// The watch's waker: owns a reference to the instance (invariant E5).
pub(super) fn waker(inner: &Arc<Inner>) -> Waker {
    Waker::from(StdArc::new(LoomWaker(Arc::clone(inner))))
}

/// The `std` `Arc`'s payload.
struct LoomWaker(Arc<Inner>);

impl std::task::Wake for LoomWaker {
    fn wake(self: StdArc<Self>) {
        propagate(Arc::clone(&self.0));
    }
}
