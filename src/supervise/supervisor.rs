//! [`Supervisor`]: runs children and carries out the policy's decisions
//! (spec/supervise.md, S1-S14).
//!
//! The design:
//!
//! * One supervisor run is one async function (`Run::drive`) that owns all
//!   its state: no lock is shared with the children except the counters
//!   (`Spec::stats`, read by [`Supervisor::children`]). It handles one thing
//!   at a time (S9): its shutdown trigger, then exits, then due restarts.
//! * Each child is a `Many` whose only handle the run holds, so a dropped
//!   run closes every child (S13: the last handle closes the instance). Each run of a child is a tokio
//!   task holding the run's `Guard`; the task catches a panic, drops the
//!   guard (the run has ended, S2), then sends its exit on a channel, so
//!   exits arrive in the order they happened and the next `start()` cannot
//!   find the run still in progress.
//! * Stopping a child (S11) waits on that channel for the child's exit (other
//!   exits are kept, in order, in a backlog) up to its shutdown timeout, then
//!   aborts the task and waits for its future to be dropped.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::Poll;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use crate::lifecycle::context::{Context, Parent};
use crate::lifecycle::many::Many;
use crate::supervise::child::{Child, ChildError, ErasedService, Service};
use crate::supervise::event::{emit, Event, Hook};
use crate::supervise::policy::Restart;
use crate::supervise::policy::{
    Backoff, ChildPolicy, Decision, Intensity, Policy, RestartSet, Strategy,
};
use crate::supervise::report::{ChildStats, Exit, Report, StopReason, SupervisorError};
use crate::supervise::run::{ExitMsg, RunEnd};

/// Runs children and restarts them by a policy: restart types, a strategy,
/// backoff and a restart intensity, with an ordered shutdown
/// (spec/supervise.md).
///
/// A `Supervisor` is a cheap handle to its spec (clones share it); each
/// [`run`](Supervisor::run) is one supervisor run under a parent token.
/// It is itself a [`Service`], so a supervisor is a child of another
/// ([`Child::supervisor`]): a tree.
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::time::Duration;
/// use runcycle::CancellationToken;
/// use runcycle::supervise::{Child, ChildError, Restart, Strategy, Supervisor};
///
/// let shutdown = CancellationToken::new();
/// let sup = Supervisor::builder("app")
///     .strategy(Strategy::OneForOne)
///     .child(Child::new("server", |ctx| async move {
///         ctx.cancelled().await; // serve until the shutdown
///         Ok(())
///     }))
///     .child(Child::new("migrate", |_ctx| async { Ok(()) }).restart(Restart::Transient))
///     .build();
/// let running = tokio::spawn(sup.run(&shutdown));
/// # tokio::time::sleep(Duration::from_millis(10)).await;
/// shutdown.cancel(); // on Ctrl-C, say (see `runcycle::signal`)
/// let report = running.await.unwrap()?;
/// assert_eq!(report.children()[0].runs(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct Supervisor {
    spec: Arc<Spec>,
}

struct Spec {
    name: Arc<str>,
    strategy: Strategy,
    intensity: Intensity,
    backoff: Backoff,
    children: Vec<Child>,
    hook: Option<Hook>,
    abort: Option<CancellationToken>,
    seed: Option<u64>,
    /// The counters of the current (or last) run, in start order (S14).
    stats: Mutex<Vec<ChildStats>>,
}

impl Spec {
    fn stats(&self) -> MutexGuard<'_, Vec<ChildStats>> {
        // A panic while the lock is held can only come from the allocator;
        // the counters stay consistent field by field, so poisoning is
        // stripped.
        self.stats.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Builds a [`Supervisor`]: `Supervisor::builder(name)`, then the policy and
/// the children, then [`build`](SupervisorBuilder::build).
///
/// # Examples
///
/// ```
/// # if runcycle::__LOOM { return; }
/// use std::time::Duration;
/// use runcycle::supervise::{Backoff, Child, Intensity, Strategy, Supervisor};
///
/// let sup = Supervisor::builder("pipeline")
///     .strategy(Strategy::RestForOne)
///     .intensity(Intensity::new(5, Duration::from_secs(30)))
///     .backoff(Backoff::default().initial(Duration::from_millis(50)))
///     .child(Child::new("source", |ctx| async move { ctx.cancelled().await; Ok(()) }))
///     .child(Child::new("sink", |ctx| async move { ctx.cancelled().await; Ok(()) }))
///     .build();
/// assert_eq!(sup.name(), "pipeline");
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct SupervisorBuilder {
    name: Arc<str>,
    strategy: Strategy,
    intensity: Intensity,
    backoff: Backoff,
    children: Vec<Child>,
    hook: Option<Hook>,
    abort: Option<CancellationToken>,
    seed: Option<u64>,
}

impl SupervisorBuilder {
    /// The strategy (default [`Strategy::OneForOne`]).
    pub fn strategy(mut self, strategy: Strategy) -> SupervisorBuilder {
        self.strategy = strategy;
        self
    }

    /// The restart intensity (default 3 restarts in 5 s).
    pub fn intensity(mut self, intensity: Intensity) -> SupervisorBuilder {
        self.intensity = intensity;
        self
    }

    /// The backoff of children that have none of their own (default
    /// [`Backoff::default`]).
    pub fn backoff(mut self, backoff: Backoff) -> SupervisorBuilder {
        self.backoff = backoff;
        self
    }

    /// Adds a child; children start in the order they are added.
    pub fn child(mut self, child: Child) -> SupervisorBuilder {
        self.children.push(child);
        self
    }

    /// Calls `hook` with every [`Event`], in order, from inside the
    /// supervisor (keep it short). A nested supervisor has its own hook.
    pub fn on_event(
        mut self,
        hook: impl Fn(&Event<'_>) + Send + Sync + 'static,
    ) -> SupervisorBuilder {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// Once `token` is cancelled the supervisor shuts down and stops
    /// waiting for its children: every child still running is aborted at
    /// once (S11). A second Ctrl-C, say (`runcycle::signal`).
    pub fn abort_on(mut self, token: &CancellationToken) -> SupervisorBuilder {
        self.abort = Some(token.clone());
        self
    }

    /// Seeds the backoff jitter's generator, so that a run's delays can be
    /// replayed (default: a random seed per supervisor run).
    pub fn jitter_seed(mut self, seed: u64) -> SupervisorBuilder {
        self.seed = Some(seed);
        self
    }

    /// The supervisor.
    #[must_use]
    pub fn build(self) -> Supervisor {
        let stats = self
            .children
            .iter()
            .map(|c| ChildStats::new(c.name.clone()))
            .collect();
        Supervisor {
            spec: Arc::new(Spec {
                name: self.name,
                strategy: self.strategy,
                intensity: self.intensity,
                backoff: self.backoff,
                children: self.children,
                hook: self.hook,
                abort: self.abort,
                seed: self.seed,
                stats: Mutex::new(stats),
            }),
        }
    }
}

impl fmt::Debug for SupervisorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SupervisorBuilder")
            .field("name", &self.name)
            .field("strategy", &self.strategy)
            .field("children", &self.children.len())
            .finish_non_exhaustive()
    }
}

impl Supervisor {
    /// A builder for a supervisor named `name` (in events, reports and
    /// the parent's view).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let sup = runcycle::supervise::Supervisor::builder("root").build();
    /// assert_eq!(sup.name(), "root");
    /// ```
    pub fn builder(name: impl Into<Arc<str>>) -> SupervisorBuilder {
        SupervisorBuilder {
            name: name.into(),
            strategy: Strategy::default(),
            intensity: Intensity::default(),
            backoff: Backoff::default(),
            children: Vec::new(),
            hook: None,
            abort: None,
            seed: None,
        }
    }

    /// The supervisor's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The children's counters (runs, failures, last exit) in start order,
    /// as of now: the current run's, or the last run's once it ended
    /// (S14).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// let sup = runcycle::supervise::Supervisor::builder("s")
    ///     .child(runcycle::supervise::Child::new("c", |_ctx| async { Ok(()) }))
    ///     .build();
    /// assert_eq!(sup.children()[0].runs(), 0);
    /// ```
    #[must_use]
    pub fn children(&self) -> Vec<ChildStats> {
        self.spec.stats().clone()
    }

    /// One supervisor run under `parent` (a token, or a run's
    /// [`Context`]): starts the children in order and supervises them
    /// until the parent is cancelled, every child has finished, a child
    /// stops the tree or the supervisor gives up; then stops the children
    /// in reverse order (S10, S11) and returns the report (S12).
    ///
    /// Spawn it (`tokio::spawn(sup.run(&token))`, or
    /// `runcycle::spawn` for a bounded `shutdown`) or await it. Must run in
    /// a tokio runtime: children are tokio tasks. Dropping the future
    /// aborts every child (S13). Two runs of one `Supervisor` at once are
    /// independent, except that [`children`](Supervisor::children) then
    /// mixes their counters (the report of each run is its own only if
    /// the runs do not overlap).
    ///
    /// # Errors
    ///
    /// [`SupervisorError`] when it gave up (S5) or a child stopped the tree.
    ///
    /// # Examples
    ///
    /// See [`Supervisor`].
    pub fn run(
        &self,
        parent: &impl Parent,
    ) -> impl Future<Output = Result<Report, SupervisorError>> + Send + 'static {
        let spec = self.spec.clone();
        let parent = parent.parent_token().clone();
        async move { Run::new(spec, parent).drive().await }
    }
}

impl Service for Supervisor {
    fn serve(&self, ctx: Context) -> impl Future<Output = Result<(), ChildError>> + Send + 'static {
        let run = self.run(&ctx);
        async move {
            match run.await {
                Ok(_) => Ok(()),
                Err(e) if e.is_stop_tree() => Err(ChildError::stop_tree(e)),
                Err(e) => Err(ChildError::new(e)),
            }
        }
    }
}

impl Child {
    /// A child that is a whole supervisor (a subtree): named after it,
    /// `Permanent`, and with no shutdown timeout (it stops its own
    /// children with theirs; OTP's `infinity`).
    ///
    /// # Examples
    ///
    /// ```
    /// # if runcycle::__LOOM { return; }
    /// use runcycle::supervise::{Child, Supervisor};
    ///
    /// let workers = Supervisor::builder("workers").build();
    /// let root = Supervisor::builder("root").child(Child::supervisor(workers)).build();
    /// # let _ = root;
    /// ```
    #[must_use]
    pub fn supervisor(supervisor: Supervisor) -> Child {
        let name = supervisor.spec.name.clone();
        Child::subtree(name, Arc::new(supervisor) as Arc<dyn ErasedService>)
    }
}

impl fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Supervisor")
            .field("name", &self.spec.name)
            .field("strategy", &self.spec.strategy)
            .field("intensity", &self.spec.intensity)
            .field("children", &self.spec.children)
            .finish_non_exhaustive()
    }
}

enum Phase {
    /// Not running and nothing scheduled: before the start, or finished.
    Finished,
    Running {
        run: u64,
        started: Instant,
        task: JoinHandle<()>,
    },
    Pending {
        due: Instant,
    },
}

struct Slot {
    many: Many,
    phase: Phase,
}

/// How a stop cancels the run: a strategy restart keeps the `Many`
/// restartable, a shutdown closes it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum StopKind {
    Restart,
    Shutdown,
}

/// What the loop handles next (S9).
enum Next {
    Shutdown,
    Exit(ExitMsg),
    /// A restart's due time had passed when the loop looked (the cached
    /// clock reading is current).
    Due,
    /// The timer of the earliest due time fired.
    Timer,
}

/// One supervisor run.
struct Run {
    spec: Arc<Spec>,
    parent: Pin<Box<WaitForCancellationFutureOwned>>,
    parent_token: CancellationToken,
    abort: Option<Pin<Box<WaitForCancellationFutureOwned>>>,
    /// The children, each with the only handle of its `Many`: dropping the
    /// run drops them, which closes every child and cancels its run's
    /// context (the crate's rule: the last handle closes the instance),
    /// with no parent token and no parent watch per child (S13).
    slots: Vec<Slot>,
    policy: Policy,
    tx: mpsc::UnboundedSender<ExitMsg>,
    rx: mpsc::UnboundedReceiver<ExitMsg>,
    /// Exits received while waiting for another child's (S9).
    backlog: VecDeque<ExitMsg>,
    /// The clock as last read: each event is handled at one reading (a
    /// read costs about 24 ns; a restart used to take six).
    now: Instant,
}

impl Drop for Run {
    fn drop(&mut self) {
        // S13: nothing keeps running detached: each running task is
        // aborted here, and each `Many` closes when `slots` drops after
        // this. (After a normal end every slot is Finished.)
        for slot in &self.slots {
            if let Phase::Running { task, .. } = &slot.phase {
                task.abort();
            }
        }
    }
}

impl Run {
    fn new(spec: Arc<Spec>, parent_token: CancellationToken) -> Run {
        let slots = spec
            .children
            .iter()
            .map(|_| Slot {
                many: Many::new(),
                phase: Phase::Finished,
            })
            .collect();
        let policies = spec
            .children
            .iter()
            .map(|c| ChildPolicy {
                restart: c.restart,
                backoff: c.backoff.unwrap_or(spec.backoff),
            })
            .collect();
        let seed = spec.seed.unwrap_or_else(random_seed);
        let policy = Policy::new(spec.strategy, spec.intensity, policies, seed);
        let (tx, rx) = mpsc::unbounded_channel();
        {
            let mut stats = spec.stats();
            for (s, c) in stats.iter_mut().zip(&spec.children) {
                *s = ChildStats::new(c.name.clone());
            }
        }
        Run {
            parent: Box::pin(parent_token.clone().cancelled_owned()),
            parent_token,
            abort: spec
                .abort
                .as_ref()
                .map(|t| Box::pin(t.clone().cancelled_owned())),
            slots,
            policy,
            tx,
            rx,
            backlog: VecDeque::new(),
            now: Instant::now(),
            spec,
        }
    }

    /// Reads the clock.
    fn clock(&mut self) -> Instant {
        self.now = Instant::now();
        self.now
    }

    fn emit(&self, event: &Event<'_>) {
        emit(self.spec.hook.as_ref(), event);
    }

    fn shutdown_requested(&self) -> bool {
        self.parent_token.is_cancelled() || self.abort_requested()
    }

    fn abort_requested(&self) -> bool {
        self.spec
            .abort
            .as_ref()
            .is_some_and(CancellationToken::is_cancelled)
    }

    async fn drive(mut self) -> Result<Report, SupervisorError> {
        if !self.shutdown_requested() {
            for index in 0..self.slots.len() {
                self.start(index);
            }
        }
        let reason = loop {
            if self
                .slots
                .iter()
                .all(|s| matches!(s.phase, Phase::Finished))
                && !self.shutdown_requested()
            {
                break StopReason::AllDone;
            }
            match self.next().await {
                Next::Shutdown => break StopReason::Shutdown,
                Next::Exit(msg) => {
                    if let Some(reason) = self.spontaneous_exit(msg).await {
                        break reason;
                    }
                }
                Next::Due => self.start_due(),
                Next::Timer => {
                    // Time has passed while the loop slept: read the clock.
                    self.clock();
                    self.start_due();
                }
            }
        };
        self.shutdown(reason).await
    }

    /// The next thing to handle, in S9's priority.
    async fn next(&mut self) -> Next {
        if let Some(msg) = self.backlog.pop_front() {
            // S9: a shutdown comes before the exits waiting here. (Without
            // a backlog the parent's future is polled first, below.)
            if self.shutdown_requested() {
                self.backlog.push_front(msg);
                return Next::Shutdown;
            }
            return Next::Exit(msg);
        }
        let due = self
            .slots
            .iter()
            .filter_map(|s| match s.phase {
                Phase::Pending { due } => Some(due),
                _ => None,
            })
            .min();
        // A due time already reached (a zero backoff) is handled without a
        // timer: tokio's timer fires on 1 ms ticks, so a `sleep_until(now)`
        // would hold every zero-backoff restart for up to a millisecond.
        // Shutdown and exits still come first (S9): they are polled first.
        // (The cached reading answers a zero backoff without a new one.)
        let due_now = due.is_some_and(|due| due <= self.now || due <= self.clock());
        let mut sleep = due
            .filter(|_| !due_now)
            .map(|due| Box::pin(tokio::time::sleep_until(due)));
        let Run {
            parent, abort, rx, ..
        } = self;
        core::future::poll_fn(|cx| {
            if parent.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Next::Shutdown);
            }
            if let Some(abort) = abort.as_mut() {
                if abort.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Next::Shutdown);
                }
            }
            if let Poll::Ready(msg) = rx.poll_recv(cx) {
                // The run holds a sender: the channel never closes.
                let msg = msg.expect("the supervisor holds a sender");
                return Poll::Ready(Next::Exit(msg));
            }
            if due_now {
                return Poll::Ready(Next::Due);
            }
            if let Some(sleep) = sleep.as_mut() {
                if sleep.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Next::Timer);
                }
            }
            Poll::Pending
        })
        .await
    }

    /// Starts a run of child `index` (S1, S2).
    fn start(&mut self, index: usize) {
        let child = &self.spec.children[index];
        let slot = &mut self.slots[index];
        let Ok(guard) = slot.many.start() else {
            // Closed: the run's token was cancelled, which happens only
            // once the run is over. Running: S2 says the previous run's
            // exit was seen, and its task dropped the guard before it
            // sent the exit. Neither can happen; finish the child.
            debug_assert!(false, "child {} could not start", child.name);
            slot.phase = Phase::Finished;
            return;
        };
        // The run's number is the `Many`'s own (a fresh `Many` per
        // supervisor run, so it counts this supervisor run's starts).
        let run = guard.run_number();
        self.spec.stats()[index].runs = run;
        let ctx = guard.context();
        let end = RunEnd {
            index,
            guard,
            tx: self.tx.clone(),
        };
        let task = child.service.clone().spawn_run(ctx, end);
        slot.phase = Phase::Running {
            run,
            started: self.now,
            task,
        };
        self.emit(&Event::Started {
            supervisor: &self.spec.name,
            child: &child.name,
            run,
        });
    }

    /// Starts every pending child whose due time has come, in start order
    /// (S6, S7).
    fn start_due(&mut self) {
        let now = self.now;
        for index in 0..self.slots.len() {
            if matches!(self.slots[index].phase, Phase::Pending { due } if due <= now) {
                self.start(index);
            }
        }
    }

    /// Records child `index`'s exit: counters and the `Exited` event.
    /// Returns how long the run lasted.
    fn record_exit(&mut self, msg: &ExitMsg, requested: bool) -> Duration {
        let slot = &mut self.slots[msg.index];
        let Phase::Running { run, started, .. } =
            core::mem::replace(&mut slot.phase, Phase::Finished)
        else {
            unreachable!("an exit of a child that is not running");
        };
        let ran_for = msg.at.saturating_duration_since(started);
        {
            let mut stats = self.spec.stats();
            let s = &mut stats[msg.index];
            s.failures += u64::from(msg.exit.is_failure());
            s.last_exit = Some(msg.exit.clone());
            // "Not stopped in time" is about the last run (`ChildStats`):
            // `stop_child` sets it again after an abort.
            s.not_stopped_in_time = None;
        }
        self.emit(&Event::Exited {
            supervisor: &self.spec.name,
            child: &self.spec.children[msg.index].name,
            run,
            exit: &msg.exit,
            requested,
            ran_for,
        });
        ran_for
    }

    fn finish(&mut self, index: usize) {
        self.slots[index].phase = Phase::Finished;
        self.emit(&Event::Finished {
            supervisor: &self.spec.name,
            child: &self.spec.children[index].name,
        });
    }

    /// S4-S7 for a spontaneous exit; `Some(reason)` if the supervisor must
    /// shut down.
    async fn spontaneous_exit(&mut self, msg: ExitMsg) -> Option<StopReason> {
        let index = msg.index;
        let now = self.clock();
        let ran_for = self.record_exit(&msg, false);
        let name = self.spec.children[index].name.clone();
        match self.policy.decide(index, msg.exit.kind(), ran_for, now) {
            Decision::Finish => {
                self.finish(index);
                None
            }
            Decision::StopTree => {
                let Exit::StopTree(reason) = msg.exit else {
                    unreachable!("stop tree comes from a stop-tree exit")
                };
                Some(StopReason::StopTree {
                    child: name,
                    reason,
                })
            }
            Decision::GiveUp => Some(StopReason::GaveUp {
                child: name,
                exit: msg.exit,
                max_restarts: self.spec.intensity.max_restarts(),
                period: self.spec.intensity.period(),
            }),
            Decision::Restart {
                set,
                delay,
                restarts,
            } => {
                self.restart(set, delay, restarts).await;
                None
            }
        }
    }

    /// S6: stops the running members of the set in reverse start order,
    /// then schedules the set.
    async fn restart(&mut self, set: RestartSet, delay: Duration, restarts: u32) {
        if set.strategy == Strategy::OneForOne {
            // The set is the child alone: nothing to stop, no list to build.
            let cause = set.cause;
            let due = self.now + delay;
            self.emit(&Event::Restarting {
                supervisor: &self.spec.name,
                cause: &self.spec.children[cause].name,
                children: core::slice::from_ref(&self.spec.children[cause].name),
                delay,
                restarts,
            });
            self.slots[cause].phase = Phase::Pending { due };
            return;
        }
        let mut members: Vec<usize> = (0..self.slots.len())
            .filter(|&k| {
                set.covers(k) && (k == set.cause || !matches!(self.slots[k].phase, Phase::Finished))
            })
            .collect();
        let mut stopped_any = false;
        for &k in members.iter().rev() {
            if matches!(self.slots[k].phase, Phase::Running { .. }) {
                self.stop_child(k, StopKind::Restart).await;
                stopped_any = true;
            }
        }
        // A Temporary member stopped by a sibling's restart is finished (S6).
        let mut finished = Vec::new();
        members.retain(|&k| {
            let keep = k == set.cause || self.spec.children[k].restart != Restart::Temporary;
            if !keep {
                finished.push(k);
            }
            keep
        });
        for k in finished {
            self.finish(k);
        }
        // The delay starts once the set has stopped (S7).
        let due = if stopped_any { self.clock() } else { self.now } + delay;
        let names: Vec<Arc<str>> = members
            .iter()
            .map(|&k| self.spec.children[k].name.clone())
            .collect();
        self.emit(&Event::Restarting {
            supervisor: &self.spec.name,
            cause: &self.spec.children[set.cause].name,
            children: &names,
            delay,
            restarts,
        });
        for k in members {
            self.slots[k].phase = Phase::Pending { due };
        }
    }

    /// S11: cancels child `index`'s run and waits up to its shutdown
    /// timeout for it to end, then aborts it. The exit is requested.
    async fn stop_child(&mut self, index: usize, kind: StopKind) {
        // Its exit may already be in the backlog (it ended while the
        // supervisor was busy): then it is simply taken.
        if let Some(pos) = self.backlog.iter().position(|m| m.index == index) {
            let msg = self.backlog.remove(pos).expect("found above");
            self.record_exit(&msg, true);
            return;
        }
        let slot = &self.slots[index];
        match kind {
            // The transitions are not waited on: the exit message is.
            StopKind::Restart => drop(slot.many.stop()),
            StopKind::Shutdown => drop(slot.many.close()),
        }
        let timeout = if self.abort_requested() {
            Some(Duration::ZERO)
        } else {
            self.spec.children[index].shutdown_timeout
        };
        let deadline = timeout.map(|t| self.clock() + t);
        if let Some(msg) = self.wait_for_exit(index, deadline).await {
            self.record_exit(&msg, true);
            return;
        }
        // Timed out (or aborted): abort the task and wait until its future
        // is dropped, guard included.
        let waited = if self.abort_requested() {
            Duration::ZERO
        } else {
            timeout.unwrap_or_default()
        };
        self.emit(&Event::StopTimedOut {
            supervisor: &self.spec.name,
            child: &self.spec.children[index].name,
            timeout: waited,
        });
        let Phase::Running { task, .. } = &mut self.slots[index].phase else {
            unreachable!("stopping a child that is not running");
        };
        task.abort();
        // The join error (cancelled or, if it raced, nothing) is not needed:
        // the exit message says what happened.
        let _ = task.await;
        // If the run ended just before the abort, its exit was sent before
        // the task finished: it is in the channel now.
        let mut exit = Exit::Aborted;
        while let Ok(msg) = self.rx.try_recv() {
            if msg.index == index {
                exit = msg.exit;
            } else {
                self.backlog.push_back(msg);
            }
        }
        let aborted = matches!(exit, Exit::Aborted);
        let msg = ExitMsg {
            index,
            exit,
            at: self.clock(),
        };
        self.record_exit(&msg, true);
        if aborted {
            self.spec.stats()[index].not_stopped_in_time = Some(waited);
        }
    }

    /// Waits for child `index`'s exit until `deadline` (forever if `None`),
    /// keeping other exits in the backlog; `None` on timeout or abort.
    async fn wait_for_exit(&mut self, index: usize, deadline: Option<Instant>) -> Option<ExitMsg> {
        // The deadline's timer is armed lazily. Most stopped runs end at
        // once: the cancellation just woke the run's task, which is next in
        // this worker's queue. So the first time nothing has arrived, the
        // supervisor wakes itself and steps aside for one scheduling round
        // instead of arming a timer (registering and removing a timer entry
        // doubled the cost of a one-by-one shutdown: benches/supervise.rs,
        // BENCHMARKS.md "Supervision"). The deadline itself is unchanged.
        let mut sleep = None;
        let mut stepped_aside = false;
        loop {
            let Run {
                abort, rx, backlog, ..
            } = self;
            let next = core::future::poll_fn(|cx| {
                if let Poll::Ready(msg) = rx.poll_recv(cx) {
                    return Poll::Ready(msg);
                }
                if let Some(abort) = abort.as_mut() {
                    if abort.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(None);
                    }
                }
                if let Some(deadline) = deadline {
                    if !stepped_aside {
                        stepped_aside = true;
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                    let sleep =
                        sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                    if sleep.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(None);
                    }
                }
                Poll::Pending
            })
            .await;
            match next {
                Some(msg) if msg.index == index => return Some(msg),
                Some(msg) => backlog.push_back(msg),
                None => return None,
            }
        }
    }

    /// S10: drops pending restarts, stops running children in reverse
    /// start order, closes every child; then the report (S12).
    async fn shutdown(mut self, reason: StopReason) -> Result<Report, SupervisorError> {
        self.emit(&Event::Stopping {
            supervisor: &self.spec.name,
            reason: &reason,
        });
        for slot in &mut self.slots {
            if matches!(slot.phase, Phase::Pending { .. }) {
                slot.phase = Phase::Finished;
            }
        }
        for index in (0..self.slots.len()).rev() {
            if matches!(self.slots[index].phase, Phase::Running { .. }) {
                self.stop_child(index, StopKind::Shutdown).await;
            }
        }
        for slot in &self.slots {
            drop(slot.many.close());
        }
        self.emit(&Event::Ended {
            supervisor: &self.spec.name,
            reason: &reason,
        });
        let escalate = matches!(
            reason,
            StopReason::GaveUp { .. } | StopReason::StopTree { .. }
        );
        let report = Report {
            supervisor: self.spec.name.clone(),
            reason,
            children: self.spec.stats().clone(),
        };
        if escalate {
            Err(SupervisorError {
                report: Box::new(report),
            })
        } else {
            Ok(report)
        }
    }
}

/// A seed for the jitter when none is given: std's per-process random keys.
fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x5eed);
    h.finish()
}
