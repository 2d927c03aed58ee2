//! Deeply nested parents (spec/README.md, section 7, "Propagation"): a
//! parent's cancellation, and the drop of the outermost handle, reach every
//! level of a 100,000-deep chain of One, Many, Task and Group parents (and mixed
//! chains) on a 2 MiB stack, and every level ends Closed (a Group: its
//! context cancelled).
//!
//! Before the work list of engine invariant E7, each level's watch ran
//! inside the previous level's close: one chain of frames per level, and
//! 2,000 levels overflowed a 2 MiB stack (a process abort, not a test
//! failure: these tests then kill the test binary).
#![cfg(all(feature = "tokio", not(loom)))]

use std::thread;

use runcycle::{CancellationToken, Group, Many, One, State, TaskBuilder};

/// The depth the reliability issue asks for.
const DEPTH: usize = if cfg!(miri) { 50 } else { 100_000 };
/// A thread stack as small as tokio's and std's default.
const STACK: usize = 2 * 1024 * 1024;

/// Runs `f` on a thread with a 2 MiB stack and returns its result.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    thread::Builder::new()
        .name("small-stack".into())
        .stack_size(STACK)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("the small-stack thread panicked")
}

/// One level of a chain.
enum Level {
    One(One),
    Many(Many),
    Group(Group),
}

impl Level {
    fn new(kind: usize, parent: &Level) -> Level {
        match (kind % 3, parent) {
            (0, Level::One(p)) => Level::One(One::with_parent(&p.context())),
            (0, Level::Many(p)) => Level::One(One::with_parent(&p.context())),
            (0, Level::Group(p)) => Level::One(One::with_parent(&p.context())),
            (1, Level::One(p)) => Level::Many(Many::with_parent(&p.context())),
            (1, Level::Many(p)) => Level::Many(Many::with_parent(&p.context())),
            (1, Level::Group(p)) => Level::Many(Many::with_parent(&p.context())),
            (_, Level::One(p)) => Level::Group(Group::with_parent(&p.context())),
            (_, Level::Many(p)) => Level::Group(Group::with_parent(&p.context())),
            (_, Level::Group(p)) => Level::Group(Group::with_parent(&p.context())),
        }
    }

    /// Whether the level has taken its parent's cancellation.
    fn ended(&self) -> bool {
        match self {
            Level::One(x) => x.state() == State::Closed && x.context().is_cancelled(),
            Level::Many(x) => x.state() == State::Closed && x.context().is_cancelled(),
            Level::Group(x) => x.context().is_cancelled(),
        }
    }
}

/// A chain of `DEPTH` levels below `root`, each made by `kind(i)`.
fn chain(root: Level, kind: impl Fn(usize) -> usize) -> Vec<Level> {
    let mut levels = Vec::with_capacity(DEPTH + 1);
    levels.push(root);
    for i in 0..DEPTH {
        let next = Level::new(kind(i), &levels[i]);
        levels.push(next);
    }
    levels
}

fn assert_all_ended(levels: &[Level]) {
    for (i, level) in levels.iter().enumerate() {
        assert!(level.ended(), "level {i} of {} did not end", levels.len());
    }
}

/// Cancels a root token above a chain of `kind` levels, on a 2 MiB stack.
fn cancel_root_token(kind: fn(usize) -> usize) {
    on_small_stack(move || {
        let root = CancellationToken::new();
        let first = Level::new(kind(0), &Level::Group(Group::with_parent(&root)));
        let levels = chain(first, move |i| kind(i + 1));
        assert!(!levels[DEPTH].ended());
        root.cancel();
        // Eager: every level is closed when `cancel()` returns.
        assert_all_ended(&levels);
        // Dropping the chain, outermost first, must not recurse either.
        drop(levels);
    });
}

#[test]
fn cancelling_the_root_of_100000_nested_many_closes_every_level() {
    cancel_root_token(|_| 1);
}

#[test]
fn cancelling_the_root_of_100000_nested_one_closes_every_level() {
    cancel_root_token(|_| 0);
}

#[test]
fn cancelling_the_root_of_100000_nested_groups_cancels_every_level() {
    cancel_root_token(|_| 2);
}

#[test]
fn cancelling_the_root_of_a_mixed_100000_chain_closes_every_level() {
    cancel_root_token(|i| i);
}

#[test]
fn closing_the_outermost_many_of_100000_nested_closes_every_level() {
    on_small_stack(|| {
        let levels = chain(Level::Many(Many::new()), |_| 1);
        let Level::Many(root) = &levels[0] else {
            unreachable!()
        };
        root.close().wait();
        assert_all_ended(&levels);
    });
}

#[test]
fn dropping_the_outermost_of_100000_nested_handles_closes_every_level() {
    for kind in [0, 1, 2, 3] {
        on_small_stack(move || {
            let root = Level::Many(Many::new());
            let mut levels = chain(root, move |i| if kind == 3 { i } else { kind });
            // The outermost handle is the only handle of the root: dropping
            // it closes the root (spec section 10), and that reaches down.
            let root = levels.remove(0);
            drop(root);
            assert_all_ended(&levels);
        });
    }
}

#[test]
fn a_run_in_progress_at_every_level_is_asked_to_close() {
    on_small_stack(|| {
        let root = Many::new();
        let mut guards = Vec::with_capacity(DEPTH);
        let mut levels: Vec<Many> = vec![root.clone()];
        for i in 0..DEPTH {
            let next = Many::with_parent(&levels[i].context());
            guards.push(next.start().expect("start"));
            levels.push(next);
        }
        root.close();
        for guard in &guards {
            assert!(guard.context().is_cancelled());
        }
        for level in &levels[1..] {
            assert_eq!(
                level.state(),
                State::Running,
                "still running until the guard drops"
            );
            assert!(level.start().is_err());
        }
        drop(guards);
        for level in &levels {
            assert_eq!(level.state(), State::Closed);
        }
    });
}

/// `TaskBuilder::parent` chains, cancelled from a tokio worker thread (2 MiB
/// stack).
#[test]
fn cancelling_the_root_of_100000_nested_tasks_from_a_worker_closes_every_level() {
    let depth = if cfg!(miri) { 20 } else { DEPTH };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_stack_size(STACK)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        tokio::spawn(async move {
            let root = CancellationToken::new();
            let mut tasks = Vec::with_capacity(depth);
            tasks.push(TaskBuilder::new().parent(&root).spawn(|ctx| async move {
                ctx.cancelled().await;
                Ok::<(), ()>(())
            }));
            for i in 1..depth {
                let next =
                    TaskBuilder::new()
                        .parent(&tasks[i - 1].context())
                        .spawn(|ctx| async move {
                            ctx.cancelled().await;
                            Ok::<(), ()>(())
                        });
                tasks.push(next);
            }
            root.cancel();
            for (i, task) in tasks.iter().enumerate() {
                assert!(task.context().is_cancelled(), "task {i}");
            }
            for task in tasks {
                task.await.expect("the task's outcome");
            }
        })
        .await
        .expect("the worker's task");
    });
}

/// A 100,000-deep chain of parented tasks, each waiting on its context;
/// spawned from a task on a 1-worker runtime with 2 MiB stacks.
fn task_chain(depth: usize) -> Vec<runcycle::Task<(), ()>> {
    let root = TaskBuilder::new().spawn(|ctx| async move {
        ctx.cancelled().await;
        Ok::<(), ()>(())
    });
    let mut tasks = Vec::with_capacity(depth);
    tasks.push(root);
    for i in 1..depth {
        let next = TaskBuilder::new()
            .parent(&tasks[i - 1].context())
            .spawn(|ctx| async move {
                ctx.cancelled().await;
                Ok::<(), ()>(())
            });
        tasks.push(next);
    }
    tasks
}

fn small_stack_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_stack_size(STACK)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Aborting the outermost task cancels its context first (T4), and with it
/// every level below: the outermost is aborted, every other one returns.
#[test]
fn aborting_the_outermost_of_100000_nested_tasks_cancels_every_level() {
    let depth = if cfg!(miri) { 20 } else { DEPTH };
    small_stack_runtime().block_on(async move {
        tokio::spawn(async move {
            let tasks = task_chain(depth);
            tasks[0].abort();
            for (i, task) in tasks.iter().enumerate() {
                assert!(task.context().is_cancelled(), "task {i}");
            }
            let mut tasks = tasks.into_iter();
            let outermost = tasks.next().unwrap().await;
            assert!(matches!(outermost, Err(runcycle::TaskError::Aborted)));
            for task in tasks {
                task.await.expect("the task's outcome");
            }
        })
        .await
        .expect("the worker's task");
    });
}

/// An uncancelled chain whose runtime shuts down, then whose `Task`s are
/// dropped, on a 2 MiB stack: every level is aborted, its context cancelled
/// by its end (spec/go.md T9), and the chain of tokens is torn down without
/// recursion.
#[test]
fn a_runtime_shutdown_under_100000_nested_tasks_aborts_every_level() {
    let depth = if cfg!(miri) { 20 } else { DEPTH };
    on_small_stack(move || {
        let runtime = small_stack_runtime();
        let tasks = runtime.block_on(async move {
            tokio::spawn(async move { task_chain(depth) })
                .await
                .expect("the worker's task")
        });
        drop(runtime);
        for (i, task) in tasks.into_iter().enumerate() {
            assert!(task.context().is_cancelled(), "task {i}: T9");
            let outcome = futures::executor::block_on(task);
            assert!(
                matches!(outcome, Err(runcycle::TaskError::Aborted)),
                "task {i}"
            );
        }
    });
}

/// An instance dropped by a thread-local's destructor, when the work list's
/// own thread-local may already be gone: the cancellation still reaches the
/// nested level (the watch then fires in place). Both orders of
/// thread-local destruction are tried: the work list's thread-local is
/// first used before `HELD` is set (registered first), or only during
/// `HELD`'s destruction. (On Linux with glibc neither order reaches the
/// fallback in `engine::propagate`: destructors run last-registered first,
/// and a thread-local first used inside another's destructor is still
/// available. The fallback is for platforms that destroy in another order;
/// this test checks that the chain closes either way.)
#[test]
fn a_chain_dropped_during_thread_local_destruction_still_closes() {
    use std::cell::RefCell;

    thread_local! {
        static HELD: RefCell<Option<(Many, Many)>> = const { RefCell::new(None) };
    }
    for propagate_first in [true, false] {
        let (tx, rx) = std::sync::mpsc::channel();
        thread::spawn(move || {
            if propagate_first {
                let warm = Many::new();
                let nested = Many::with_parent(&warm.context());
                drop(warm);
                assert_eq!(nested.state(), State::Closed);
            }
            let outer = Many::new();
            let inner = Many::with_parent(&outer.context());
            let nested = Many::with_parent(&inner.context());
            tx.send(nested).unwrap();
            HELD.with(|held| *held.borrow_mut() = Some((outer, inner)));
            // The thread ends: its thread-locals are destroyed, `outer` is
            // the last handle of its instance and its drop closes `inner`,
            // whose close closes `nested`.
        })
        .join()
        .unwrap();
        let nested = rx.recv().unwrap();
        assert_eq!(
            nested.state(),
            State::Closed,
            "propagate first: {propagate_first}"
        );
    }
}
