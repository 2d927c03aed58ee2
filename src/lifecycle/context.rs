//! [`Context`], the read-only view of a run's cancellation token, and
//! [`Parent`], what an instance can be tied to.

use core::fmt;
use core::future::Future;

use tokio_util::sync::{
    CancellationToken, WaitForCancellationFuture, WaitForCancellationFutureOwned,
};

use crate::sync::StdArc;

/// A run's context: tells the run when to stop, and cannot be cancelled by
/// the code that reads it (Go's `context.Context`).
///
/// `context()` on [`One`](crate::One) and [`Many`](crate::Many),
/// [`Guard::context`](crate::Guard::context) and the `ctx` a task receives
/// return one. It is cancelled only by the instance's own transitions: a
/// stop or close request, the run's completion, or the parent's
/// cancellation (spec/README.md, section 8). Holding one changes nothing;
/// clones are cheap (one reference count) and share the run's token.
///
/// To hand a token to code that wants a `CancellationToken`, take a
/// [`child_token`](Context::child_token): it is cancelled with the run, and
/// cancelling it affects only its own holders.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// use runcycle::Many;
///
/// let many = Many::new();
/// let guard = many.start().unwrap();
/// let ctx = guard.context();
/// assert!(!ctx.is_cancelled());
/// many.stop().unwrap(); // a stop request cancels the run's context
/// assert!(ctx.is_cancelled());
/// ```
///
/// A reader cannot cancel the run; this does not compile:
///
/// ```compile_fail
/// let many = runcycle::Many::new();
/// many.context().cancel();
/// ```
#[derive(Clone)]
pub struct Context {
    token: Token,
}

/// How a [`Context`] holds its token.
///
/// Cloning a `CancellationToken` takes the token's tree lock (tokio-util
/// 0.7.20, `tree_node::increase_handle_refcount`), which every task of a
/// group would contend for when it receives the group's context. A group's
/// tasks share one token behind an `Arc` instead: a clone is one atomic
/// increment, and cancelling stays the group's alone (the `Arc` is shared
/// read-only, as the owned token is).
#[derive(Clone)]
enum Token {
    /// The run's own token (a `Task`).
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))] // used by tasks
    Owned(CancellationToken),
    /// A token shared by many contexts at the cost of a reference count (a
    /// One or Many run, whose slot, contexts and cancelling transitions
    /// share it; a `Group`'s tasks).
    Shared(StdArc<CancellationToken>),
}

impl Context {
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))] // used by tasks
    pub(crate) fn new(token: CancellationToken) -> Context {
        Context {
            token: Token::Owned(token),
        }
    }

    /// A context over a shared token: cloning it, or making another from the
    /// same `Arc`, takes no lock (see [`Token`]).
    pub(crate) fn shared(token: StdArc<CancellationToken>) -> Context {
        Context {
            token: Token::Shared(token),
        }
    }

    /// Whether the run has been asked to stop (or has ended).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let one = runcycle::One::new();
    /// let ctx = one.context();
    /// assert!(!ctx.is_cancelled());
    /// one.close();
    /// assert!(ctx.is_cancelled());
    /// ```
    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        self.token().is_cancelled()
    }

    /// A future that resolves when the context is cancelled (tokio-util's
    /// [`CancellationToken::cancelled`]; cancel safe).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// futures::executor::block_on(async {
    ///     let one = runcycle::One::new();
    ///     let ctx = one.context();
    ///     one.close();
    ///     ctx.cancelled().await;
    /// });
    /// ```
    pub fn cancelled(&self) -> WaitForCancellationFuture<'_> {
        self.token().cancelled()
    }

    /// [`cancelled`](Context::cancelled) that owns the context, for a
    /// future that must be `'static`.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let one = runcycle::One::new();
    /// let stopped = one.context().cancelled_owned();
    /// one.close();
    /// futures::executor::block_on(stopped);
    /// ```
    pub fn cancelled_owned(self) -> WaitForCancellationFutureOwned {
        match self.token {
            Token::Owned(token) => token.cancelled_owned(),
            Token::Shared(token) => (*token).clone().cancelled_owned(),
        }
    }

    /// A new `CancellationToken` that is cancelled when this context is.
    /// Cancelling it cancels only it (and its own children), never the run.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let one = runcycle::One::new();
    /// let ctx = one.context();
    /// let child = ctx.child_token();
    /// child.cancel();
    /// assert!(!ctx.is_cancelled(), "the run is not affected");
    /// one.close();
    /// assert!(ctx.child_token().is_cancelled());
    /// ```
    #[must_use]
    pub fn child_token(&self) -> CancellationToken {
        self.token().child_token()
    }

    /// Runs `fut` until it completes (`Some(output)`) or the context is
    /// cancelled (`None`), whichever comes first (tokio-util's
    /// [`CancellationToken::run_until_cancelled`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// futures::executor::block_on(async {
    ///     let one = runcycle::One::new();
    ///     let ctx = one.context();
    ///     assert_eq!(ctx.run_until_cancelled(async { 7 }).await, Some(7));
    ///     one.close();
    ///     let never = std::future::pending::<()>();
    ///     assert_eq!(ctx.run_until_cancelled(never).await, None);
    /// });
    /// ```
    pub async fn run_until_cancelled<F: Future>(&self, fut: F) -> Option<F::Output> {
        self.token().run_until_cancelled(fut).await
    }

    /// The run's token itself, for the crate's own parent watches.
    pub(crate) fn token(&self) -> &CancellationToken {
        match &self.token {
            Token::Owned(token) => token,
            Token::Shared(token) => token,
        }
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

/// What an instance, a task or a group can be tied to with `with_parent`
/// (or `TaskBuilder::parent`): a [`CancellationToken`] you own, or another run's
/// [`Context`]. Cancelling the parent closes the instance (spec/README.md,
/// section 7).
///
/// Sealed: implemented for those two types only.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// use runcycle::{Many, One, State};
/// use tokio_util::sync::CancellationToken;
///
/// let shutdown = CancellationToken::new();
/// let server = Many::with_parent(&shutdown);        // a token
/// let worker = One::with_parent(&server.context()); // another run's context
/// shutdown.cancel();
/// assert_eq!(server.state(), State::Closed);
/// assert_eq!(worker.state(), State::Closed);
/// ```
pub trait Parent: sealed::Sealed {}

impl Parent for CancellationToken {}
impl Parent for Context {}

pub(crate) mod sealed {
    use tokio_util::sync::CancellationToken;

    /// Seals [`Parent`](super::Parent) and gives the crate the token.
    #[allow(unreachable_pub)] // nameable only inside the crate: the seal
    pub trait Sealed {
        /// The token whose cancellation closes the child.
        fn parent_token(&self) -> &CancellationToken;
    }

    impl Sealed for CancellationToken {
        fn parent_token(&self) -> &CancellationToken {
            self
        }
    }

    impl Sealed for super::Context {
        fn parent_token(&self) -> &CancellationToken {
            self.token()
        }
    }
}
