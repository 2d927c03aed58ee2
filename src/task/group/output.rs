//! [`GroupTaskOutput`]: what a group task's future may output, sealed.

use std::error::Error as StdError;

use crate::sync::StdArc as Arc;

/// The boxed error a group task's `Err(e)` is converted into (`e.into()`,
/// see [`GroupTaskOutput`]).
///
/// # Examples
///
/// ```
/// let e: runcycle::BoxError = "any error converts".into();
/// assert_eq!(e.to_string(), "any error converts");
/// ```
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// The error of a failed group task as the report holds it: shared, so that
/// the report and [`Group::join_next`](crate::Group::join_next) can both
/// hand it out (a `TaskFailure` is `Clone`).
///
/// # Examples
///
/// ```
/// let e: runcycle::SharedError = std::sync::Arc::from(runcycle::BoxError::from("refused"));
/// assert_eq!(e.to_string(), "refused");
/// ```
pub type SharedError = Arc<dyn StdError + Send + Sync + 'static>;

/// What a task of a [`Group<T>`](crate::Group) may output: `()` (in a
/// `Group<()>`), `Result<T, E>` with `E: Into<`[`BoxError`]`>` (the
/// error-group mode, Go's `errgroup`: the first `Err` cancels the group's
/// context and is [`GroupError::error`](crate::GroupError::error)), or `!`
/// (spec/go.md, rule G2).
///
/// Sealed, and implemented for nothing else: these forms are inferred from
/// the closure with no annotation; `!` is there so that a task whose body
/// never returns (it only panics, or loops until it is aborted) needs no
/// annotation either (rustdoc shows it as `<fn() -> ! as Returns>::Output`:
/// the never type cannot be named on stable Rust). In edition 2021 such a
/// body's output falls back to `()`, which fits a `Group<()>` only: in a
/// `Group<T>`, name its `Result` (`Ok::<T, E>(..)` after the `panic!`).
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let group = runcycle::Group::new();
/// group.spawn(|_ctx| async { /* a task with nothing to report */ }).unwrap();
/// group.spawn(|_ctx| async { Ok::<(), std::io::Error>(()) }).unwrap();
/// group.spawn(|_ctx| async { Err::<(), _>("refused") }).unwrap();
/// let report = group.wait().await.unwrap_err();
/// assert_eq!(report.error().unwrap().to_string(), "refused");
///
/// // A group with values: `Result<T, E>` tasks, results by `join_next`.
/// let squares = runcycle::GroupBuilder::new().build();
/// squares.spawn(|_ctx| async { Ok::<u32, std::io::Error>(7 * 7) }).unwrap();
/// let (_id, value) = squares.join_next().await.unwrap().unwrap();
/// assert_eq!(value, 49);
/// # });
/// ```
pub trait GroupTaskOutput<T>: sealed::Sealed<T> + Send + 'static {}

impl GroupTaskOutput<()> for () {}
impl<T: Send + 'static, E: Into<BoxError> + Send + 'static> GroupTaskOutput<T> for Result<T, E> {}

/// A body that never returns, as `async { panic!("...") }` or
/// `async { loop { ... } }`: its output type is left to the compiler's
/// fallback for `!`, which is `()` in edition 2021 (with the deny-by-default
/// lint `dependency_on_unit_never_type_fallback` when a bound needs it) and
/// `!` in edition 2024. Without this impl such a task would not compile.
impl<T> GroupTaskOutput<T> for never::Never {}

pub(crate) mod never {
    /// What a `fn` type returns.
    #[allow(unreachable_pub)] // nameable only inside the crate
    pub trait Returns {
        type Output;
    }

    impl<R> Returns for fn() -> R {
        type Output = R;
    }

    /// `!`, named on stable Rust (the never type itself is unstable to
    /// name): the output of a `fn() -> !`.
    pub(crate) type Never = <fn() -> ! as Returns>::Output;
}

pub(crate) mod sealed {
    use super::BoxError;

    /// Seals [`GroupTaskOutput`](super::GroupTaskOutput) and turns an output
    /// into the group's one form.
    #[allow(unreachable_pub)] // nameable only inside the crate: the seal
    pub trait Sealed<T> {
        /// The value, or the task's error, boxed.
        fn into_outcome(self) -> Result<T, BoxError>;
    }

    impl Sealed<()> for () {
        fn into_outcome(self) -> Result<(), BoxError> {
            Ok(())
        }
    }

    impl<T, E: Into<BoxError>> Sealed<T> for Result<T, E> {
        fn into_outcome(self) -> Result<T, BoxError> {
            self.map_err(Into::into)
        }
    }

    impl<T> Sealed<T> for super::never::Never {
        fn into_outcome(self) -> Result<T, BoxError> {
            // No value of `!` exists: this is never called.
            self
        }
    }
}
