//! The restart policy: what the supervisor does when a child's run ends, as
//! a pure function of the children's history and the clock (spec/supervise.md,
//! rules S4-S7). No runtime, no I/O: [`Policy::decide`] takes `now` and
//! returns the decision; the supervisor (`supervisor.rs`) carries it out.
//! `tests/model_supervise.rs` checks the whole supervisor against an
//! independent model of these rules.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use crate::supervise::report::ExitKind;

/// When a child is restarted after a spontaneous exit (OTP's restart types;
/// spec/supervise.md, S4).
///
/// | exit | `Permanent` | `Transient` | `Temporary` |
/// |---|---|---|---|
/// | completed (`Ok(())`) | restart | finish | finish |
/// | failed, panicked, aborted | restart | restart | finish |
/// | [`do_not_restart`](crate::supervise::ChildError::do_not_restart) | finish | finish | finish |
/// | [`stop_tree`](crate::supervise::ChildError::stop_tree) | stop the tree | stop the tree | stop the tree |
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// use runcycle::supervise::{Child, Restart};
///
/// let job = Child::new("migration", |_ctx| async { Ok(()) }).restart(Restart::Transient);
/// # let _ = job;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Restart {
    /// Always restarted, whatever the exit (a server). The default.
    #[default]
    Permanent,
    /// Restarted only after a failure (a job that must complete).
    Transient,
    /// Never restarted (a one-off).
    Temporary,
}

/// Which children a restart restarts (OTP's strategies; spec/supervise.md,
/// S6).
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// use runcycle::supervise::{Strategy, Supervisor};
///
/// // A connection and the workers that use it: when the connection fails,
/// // the workers started after it restart with it.
/// let sup = Supervisor::builder("db").strategy(Strategy::RestForOne).build();
/// # let _ = sup;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Strategy {
    /// Only the child that exited is restarted. The default.
    #[default]
    OneForOne,
    /// Every child is stopped (reverse start order) and all restart
    /// together: children that depend on each other.
    OneForAll,
    /// The child that exited and every child started after it restart:
    /// later children depend on earlier ones.
    RestForOne,
}

/// How many restarts a supervisor allows in a period before it gives up
/// and escalates (OTP's `intensity` and `period`; spec/supervise.md, S5).
///
/// The default is 3 restarts in 5 seconds.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// use std::time::Duration;
/// use runcycle::supervise::Intensity;
///
/// let strict = Intensity::new(1, Duration::from_secs(5)); // OTP's default
/// assert_eq!(strict.max_restarts(), 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Intensity {
    max_restarts: u32,
    period: Duration,
}

impl Intensity {
    /// At most `max_restarts` restarts in any `period`; one more gives up.
    /// `max_restarts = 0` gives up at the first restart.
    ///
    /// # Panics
    ///
    /// If `period` is zero: no restart could ever be counted.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// use std::time::Duration;
    /// let i = runcycle::supervise::Intensity::new(10, Duration::from_secs(60));
    /// assert_eq!(i.period(), Duration::from_secs(60));
    /// ```
    #[must_use]
    #[track_caller]
    pub fn new(max_restarts: u32, period: Duration) -> Intensity {
        assert!(
            !period.is_zero(),
            "runcycle::supervise::Intensity::new: the period must be longer than zero"
        );
        Intensity {
            max_restarts,
            period,
        }
    }

    /// The restarts allowed in one period.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// assert_eq!(runcycle::supervise::Intensity::default().max_restarts(), 3);
    /// ```
    #[must_use]
    pub fn max_restarts(&self) -> u32 {
        self.max_restarts
    }

    /// The sliding window restarts are counted in.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// use std::time::Duration;
    /// assert_eq!(runcycle::supervise::Intensity::default().period(), Duration::from_secs(5));
    /// ```
    #[must_use]
    pub fn period(&self) -> Duration {
        self.period
    }
}

impl Default for Intensity {
    fn default() -> Intensity {
        Intensity::new(3, Duration::from_secs(5))
    }
}

/// The delay before a restart: exponential, bounded, with jitter, reset
/// after a healthy run (spec/supervise.md, S7).
///
/// The `k`-th consecutive restart of a child waits
/// `min(max, initial * factor^(k-1))`, spread by `jitter` (0.1: up to 10%
/// shorter or longer, never above `max`). A run that lasted at least
/// `reset_after` resets `k`. The default: 100 ms initial, factor 2, 10 s
/// max, jitter 0.1, reset after 10 s. [`Backoff::none`] restarts at once.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// use std::time::Duration;
/// use runcycle::supervise::Backoff;
///
/// let b = Backoff::default()
///     .initial(Duration::from_millis(10))
///     .max(Duration::from_secs(1))
///     .jitter(0.0);
/// assert_eq!(b.delay(1), Duration::from_millis(10));
/// assert_eq!(b.delay(3), Duration::from_millis(40)); // 10 * 2^2
/// assert_eq!(b.delay(20), Duration::from_secs(1));   // bounded
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    initial: Duration,
    factor: u32,
    max: Duration,
    jitter: f64,
    reset_after: Duration,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff {
            initial: Duration::from_millis(100),
            factor: 2,
            max: Duration::from_secs(10),
            jitter: 0.1,
            reset_after: Duration::from_secs(10),
        }
    }
}

impl Backoff {
    /// No delay at all: every restart is immediate (the intensity still
    /// bounds a crash loop).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// assert_eq!(runcycle::supervise::Backoff::none().delay(5), std::time::Duration::ZERO);
    /// ```
    #[must_use]
    pub fn none() -> Backoff {
        Backoff {
            initial: Duration::ZERO,
            jitter: 0.0,
            ..Backoff::default()
        }
    }

    /// The first restart's delay (before jitter).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// use std::time::Duration;
    /// let b = runcycle::supervise::Backoff::default().initial(Duration::from_secs(1)).jitter(0.0);
    /// assert_eq!(b.delay(1), Duration::from_secs(1));
    /// ```
    #[must_use]
    pub fn initial(mut self, initial: Duration) -> Backoff {
        self.initial = initial;
        self
    }

    /// The growth of the delay per consecutive restart (1: constant).
    ///
    /// # Panics
    ///
    /// If `factor` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// use std::time::Duration;
    /// let b = runcycle::supervise::Backoff::default().factor(3).jitter(0.0);
    /// assert_eq!(b.delay(3), Duration::from_millis(900));
    /// ```
    #[must_use]
    #[track_caller]
    pub fn factor(mut self, factor: u32) -> Backoff {
        assert!(
            factor > 0,
            "runcycle::supervise::Backoff::factor: the factor must be at least 1"
        );
        self.factor = factor;
        self
    }

    /// The longest delay, jitter included.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// use std::time::Duration;
    /// let b = runcycle::supervise::Backoff::default().max(Duration::from_millis(150));
    /// assert_eq!(b.delay(10), Duration::from_millis(150));
    /// ```
    #[must_use]
    pub fn max(mut self, max: Duration) -> Backoff {
        self.max = max;
        self
    }

    /// The spread: each delay is multiplied by a random factor in
    /// `[1 - jitter, 1 + jitter)` (then bounded by `max`), so children that
    /// fail together do not restart in lockstep.
    ///
    /// # Panics
    ///
    /// If `jitter` is not in `0.0..=1.0`.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let b = runcycle::supervise::Backoff::default().jitter(0.5);
    /// # let _ = b;
    /// ```
    #[must_use]
    #[track_caller]
    pub fn jitter(mut self, jitter: f64) -> Backoff {
        assert!(
            (0.0..=1.0).contains(&jitter),
            "runcycle::supervise::Backoff::jitter: the jitter must be in 0.0..=1.0, got {jitter}"
        );
        self.jitter = jitter;
        self
    }

    /// A run at least this long is healthy: the next restart starts again
    /// from the initial delay.
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// use std::time::Duration;
    /// let b = runcycle::supervise::Backoff::default().reset_after(Duration::from_secs(60));
    /// # let _ = b;
    /// ```
    #[must_use]
    pub fn reset_after(mut self, reset_after: Duration) -> Backoff {
        self.reset_after = reset_after;
        self
    }

    /// The delay of the `k`-th consecutive restart before jitter:
    /// `min(max, initial * factor^(k-1))` (`k = 0` is taken as 1).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// use std::time::Duration;
    /// let b = runcycle::supervise::Backoff::default();
    /// assert_eq!(b.delay(2), Duration::from_millis(200));
    /// ```
    #[must_use]
    pub fn delay(&self, k: u32) -> Duration {
        // A zero delay or a factor of 1 never grows: answer at once (`k`
        // grows with every restart of a crash loop, so a loop over it would
        // make each restart slower than the last). Otherwise the delay at
        // least doubles per step and reaches `max` within 94 steps (a
        // `Duration` holds under 2^94 ns).
        if self.initial.is_zero() || self.factor == 1 {
            return self.initial.min(self.max);
        }
        let mut delay = self.initial;
        for _ in 0..k.saturating_sub(1) {
            if delay >= self.max {
                break;
            }
            delay = delay.saturating_mul(self.factor);
        }
        delay.min(self.max)
    }

    /// The delay with jitter applied, `u` in `[0, 1)` (S7).
    // Delays below 2^53 ns (104 days) convert to `f64` exactly; `as` back
    // to `u64` saturates (a negative or NaN spread cannot occur: the factor
    // is at least `1 - jitter >= 0`).
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    fn jittered(&self, base: Duration, u: f64) -> Duration {
        let base_ns = base.as_nanos() as f64;
        let spread = base_ns * (1.0 + self.jitter * (2.0 * u - 1.0));
        // `as` saturates a float to the integer range (and NaN to 0).
        Duration::from_nanos(spread as u64).min(self.max)
    }
}

/// `SplitMix64` (Steele, Lea, Flood 2014): the jitter's generator, seeded
/// so a run can be replayed (S7).
#[derive(Clone, Debug)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A draw in `[0, 1)` with 53 random bits (exact in an `f64`).
    #[allow(clippy::cast_precision_loss)]
    pub(crate) fn next_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// What one child looks like to the policy.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ChildPolicy {
    pub(crate) restart: Restart,
    pub(crate) backoff: Backoff,
}

/// The action of S4 for a spontaneous exit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    Restart,
    Finish,
    StopTree,
}

/// S4 as a function.
pub(crate) fn action(restart: Restart, exit: ExitKind) -> Action {
    match (exit, restart) {
        (ExitKind::StopTree, _) => Action::StopTree,
        (ExitKind::DoNotRestart, _)
        | (_, Restart::Temporary)
        | (ExitKind::Completed, Restart::Transient) => Action::Finish,
        (_, Restart::Permanent | Restart::Transient) => Action::Restart,
    }
}

/// The policy's decision for one spontaneous exit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// The child is finished (S4).
    Finish,
    /// The whole tree stops (S4).
    StopTree,
    /// Too many restarts in the period (S5): shut down and escalate.
    GiveUp,
    /// Restart the children `set` (S6) after `delay` (S7); `restarts` is
    /// the count in the period, this one included.
    Restart {
        set: RestartSet,
        delay: Duration,
        restarts: u32,
    },
}

/// The restart set of S6 before the "running or pending" filter, which
/// needs the supervisor's view of its children: child `from` and, for
/// `all`, every other, otherwise every later one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RestartSet {
    pub(crate) cause: usize,
    pub(crate) strategy: Strategy,
}

impl RestartSet {
    /// Whether child `index` is in the set (if it is running or pending).
    pub(crate) fn covers(&self, index: usize) -> bool {
        match self.strategy {
            Strategy::OneForOne => index == self.cause,
            Strategy::OneForAll => true,
            Strategy::RestForOne => index >= self.cause,
        }
    }
}

/// The policy's memory: restart times in the period (S5), each child's
/// consecutive restarts (S7), the jitter generator.
#[derive(Debug)]
pub(crate) struct Policy {
    strategy: Strategy,
    intensity: Intensity,
    children: Vec<ChildPolicy>,
    consecutive: Vec<u32>,
    restarts: VecDeque<Instant>,
    rng: SplitMix64,
}

impl Policy {
    pub(crate) fn new(
        strategy: Strategy,
        intensity: Intensity,
        children: Vec<ChildPolicy>,
        seed: u64,
    ) -> Policy {
        Policy {
            strategy,
            intensity,
            consecutive: vec![0; children.len()],
            children,
            restarts: VecDeque::new(),
            rng: SplitMix64::new(seed),
        }
    }

    /// The decision for child `index`'s spontaneous exit `exit` at `now`,
    /// after a run that lasted `ran_for` (S4, S5, S6, S7). A `Restart`
    /// is recorded in the intensity window and the child's count.
    pub(crate) fn decide(
        &mut self,
        index: usize,
        exit: ExitKind,
        ran_for: Duration,
        now: Instant,
    ) -> Decision {
        let child = self.children[index];
        match action(child.restart, exit) {
            Action::Finish => return Decision::Finish,
            Action::StopTree => return Decision::StopTree,
            Action::Restart => {}
        }
        // S5: forget restarts a period old or older, then count this one.
        let period = self.intensity.period();
        while let Some(&t) = self.restarts.front() {
            if now.saturating_duration_since(t) >= period {
                self.restarts.pop_front();
            } else {
                break;
            }
        }
        let restarts = self.restarts.len() as u64 + 1;
        if restarts > u64::from(self.intensity.max_restarts()) {
            return Decision::GiveUp;
        }
        self.restarts.push_back(now);
        // S7: a healthy run resets the count; then the k-th delay.
        let backoff = child.backoff;
        let k = &mut self.consecutive[index];
        if ran_for >= backoff.reset_after {
            *k = 0;
        }
        *k = k.saturating_add(1);
        let base = backoff.delay(*k);
        let delay = if backoff.jitter > 0.0 && !base.is_zero() {
            backoff.jittered(base, self.rng.next_unit())
        } else {
            base
        };
        Decision::Restart {
            set: RestartSet {
                cause: index,
                strategy: self.strategy,
            },
            delay,
            // At most `max_restarts + 1`, a `u32` plus one: saturate.
            restarts: u32::try_from(restarts).unwrap_or(u32::MAX),
        }
    }

    /// A child's consecutive restarts (for the report and the tests).
    #[cfg(test)]
    pub(crate) fn consecutive(&self, index: usize) -> u32 {
        self.consecutive[index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(restart: Restart, backoff: Backoff, intensity: Intensity) -> Policy {
        Policy::new(
            Strategy::OneForOne,
            intensity,
            vec![ChildPolicy { restart, backoff }],
            1,
        )
    }

    #[test]
    fn splitmix64_matches_the_reference_vectors() {
        // The reference implementation (Vigna's splitmix64.c) seeded with 0.
        let mut g = SplitMix64::new(0);
        assert_eq!(g.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(g.next_u64(), 0x6e78_9e6a_a1b9_65f4);
        assert_eq!(g.next_u64(), 0x06c4_5d18_8009_454f);
    }

    #[test]
    fn the_action_table_is_s4() {
        use Action::{Finish, Restart as Again, StopTree as Stop};
        use ExitKind::*;
        // spec/supervise.md, S4: rows are exits, columns Permanent,
        // Transient, Temporary.
        let table = [
            (Completed, [Again, Finish, Finish]),
            (Failed, [Again, Again, Finish]),
            (Panicked, [Again, Again, Finish]),
            (Aborted, [Again, Again, Finish]),
            (DoNotRestart, [Finish, Finish, Finish]),
            (StopTree, [Stop, Stop, Stop]),
        ];
        for (exit, actions) in table {
            let types = [Restart::Permanent, Restart::Transient, Restart::Temporary];
            for (restart, expected) in types.into_iter().zip(actions) {
                assert_eq!(action(restart, exit), expected, "{restart:?} {exit:?}");
            }
        }
    }

    #[test]
    fn intensity_gives_up_on_the_restart_past_the_limit_and_forgets_old_ones() {
        let t0 = Instant::now();
        let second = Duration::from_secs(1);
        let mut p = policy(
            Restart::Permanent,
            Backoff::none(),
            Intensity::new(2, 5 * second),
        );
        let fail =
            |p: &mut Policy, at: Duration| p.decide(0, ExitKind::Failed, Duration::ZERO, t0 + at);
        assert!(matches!(
            fail(&mut p, Duration::ZERO),
            Decision::Restart { restarts: 1, .. }
        ));
        assert!(matches!(
            fail(&mut p, second),
            Decision::Restart { restarts: 2, .. }
        ));
        assert_eq!(fail(&mut p, 2 * second), Decision::GiveUp);
        // At 5 s the restart at 0 s is a full period old: forgotten.
        assert!(matches!(
            fail(&mut p, 5 * second),
            Decision::Restart { restarts: 2, .. }
        ));
    }

    #[test]
    fn zero_max_restarts_gives_up_at_once() {
        let mut p = policy(
            Restart::Permanent,
            Backoff::none(),
            Intensity::new(0, Duration::from_secs(1)),
        );
        assert_eq!(
            p.decide(0, ExitKind::Completed, Duration::ZERO, Instant::now()),
            Decision::GiveUp
        );
    }

    #[test]
    fn backoff_grows_is_bounded_and_resets_after_a_healthy_run() {
        let ms = Duration::from_millis;
        let b = Backoff::default()
            .initial(ms(10))
            .max(ms(50))
            .jitter(0.0)
            .reset_after(ms(1000));
        let mut p = policy(
            Restart::Permanent,
            b,
            Intensity::new(u32::MAX, Duration::from_secs(1)),
        );
        let now = Instant::now();
        let mut delays = Vec::new();
        for ran_for in [ms(0), ms(0), ms(0), ms(0), ms(999), ms(1000), ms(0)] {
            match p.decide(0, ExitKind::Failed, ran_for, now) {
                Decision::Restart { delay, .. } => delays.push(delay),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            delays,
            [ms(10), ms(20), ms(40), ms(50), ms(50), ms(10), ms(20)]
        );
        assert_eq!(p.consecutive(0), 2);
    }

    #[test]
    fn no_backoff_has_no_jitter_either() {
        // So that `Backoff::none().initial(d)` restarts exactly after `d`.
        let exact = Backoff::default().initial(Duration::ZERO).jitter(0.0);
        assert_eq!(Backoff::none(), exact);
    }

    #[test]
    fn the_delay_of_a_long_crash_loop_is_computed_in_bounded_steps() {
        let ms = Duration::from_millis;
        assert_eq!(Backoff::none().delay(u32::MAX), Duration::ZERO);
        let flat = Backoff::default().initial(ms(7)).factor(1);
        assert_eq!(flat.delay(u32::MAX), ms(7));
        let grows = Backoff::default()
            .initial(Duration::from_nanos(1))
            .max(Duration::MAX);
        assert_eq!(grows.delay(u32::MAX), Duration::MAX);
        assert_eq!(grows.delay(11), Duration::from_nanos(1024));
    }

    #[test]
    fn jitter_stays_within_its_spread_and_under_max() {
        let ms = Duration::from_millis;
        let b = Backoff::default()
            .initial(ms(100))
            .factor(1)
            .max(ms(105))
            .jitter(0.5);
        let mut p = policy(
            Restart::Permanent,
            b,
            Intensity::new(u32::MAX, Duration::from_secs(1)),
        );
        let (mut low, mut capped) = (false, false);
        for _ in 0..1000 {
            let Decision::Restart { delay, .. } =
                p.decide(0, ExitKind::Failed, ms(0), Instant::now())
            else {
                panic!()
            };
            assert!(delay >= ms(50) && delay <= ms(105), "{delay:?}");
            low |= delay < ms(75);
            capped |= delay == ms(105);
        }
        assert!(low && capped, "the draws cover the spread");
    }

    #[test]
    fn restart_sets_follow_the_strategy() {
        let set = |strategy| RestartSet { cause: 1, strategy };
        let covered = |s: RestartSet| (0..3).filter(|&i| s.covers(i)).collect::<Vec<_>>();
        assert_eq!(covered(set(Strategy::OneForOne)), [1]);
        assert_eq!(covered(set(Strategy::OneForAll)), [0, 1, 2]);
        assert_eq!(covered(set(Strategy::RestForOne)), [1, 2]);
    }
}
