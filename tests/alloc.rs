//! Heap allocations, counted per thread by a counting global allocator:
//! restarts without `context()` allocate nothing, restarts with it leave no
//! growth, and polling a wait does not grow any waiter list.

#![cfg(not(loom))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use runcycle::{Many, One};
use tokio_util::sync::CancellationToken;

struct Counting;

thread_local! {
    /// Allocations made by this thread.
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    /// Bytes this thread holds (allocated minus freed by this thread).
    static LIVE: Cell<i64> = const { Cell::new(0) };
}

fn size(layout: Layout) -> i64 {
    i64::try_from(layout.size()).unwrap()
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        LIVE.with(|c| c.set(c.get() + size(layout)));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.with(|c| c.set(c.get() - size(layout)));
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> u64 {
    ALLOCS.with(Cell::get)
}

fn live() -> i64 {
    LIVE.with(Cell::get)
}

#[test]
fn restarts_without_context_allocate_nothing() {
    let many = Many::with_parent(&CancellationToken::new());
    drop(many.start().unwrap()); // warm up
    let before = allocs();
    for _ in 0..10_000 {
        drop(many.start().unwrap());
    }
    assert_eq!(allocs() - before, 0, "allocations in 10,000 restarts");
}

/// A run nobody waits for ends without touching the waiter list (engine
/// invariant E4): event-listener allocates its list on first use, so even
/// the first completion or close of a fresh instance allocates nothing.
#[test]
fn ending_runs_nobody_waits_for_allocates_nothing() {
    let many = Many::new();
    let one = One::new();
    let idle = Many::new();
    let before = allocs();
    for _ in 0..3 {
        drop(many.start().unwrap());
    }
    drop(one.start().unwrap());
    many.close();
    idle.close();
    assert_eq!(allocs() - before, 0, "allocations without any waiter");
}

#[test]
fn restarts_with_context_do_not_grow_memory() {
    let parent = CancellationToken::new();
    let many = Many::with_parent(&parent);
    for _ in 0..10 {
        let guard = many.start().unwrap();
        let _ = guard.context();
    }
    let (live_before, allocs_before) = (live(), allocs());
    for _ in 0..10_000 {
        let guard = many.start().unwrap();
        let ctx = guard.context();
        drop(guard);
        assert!(ctx.is_cancelled());
    }
    let per_restart = (allocs() - allocs_before) / 10_000;
    assert!(
        per_restart <= 2,
        "{per_restart} allocations per restart (the token's own)"
    );
    assert_eq!(live(), live_before, "bytes held grew over 10,000 restarts");
}

#[test]
fn one_instances_do_not_leak() {
    let parent = CancellationToken::new();
    drop(One::with_parent(&parent)); // warm up
    let before = live();
    for _ in 0..1_000 {
        let one = One::with_parent(&parent);
        let guard = one.start().unwrap();
        let _ = one.context();
        let done = one.done();
        drop(guard);
        assert!(done.is_done());
    }
    assert_eq!(live(), before, "bytes held grew over 1,000 instances");
}

#[test]
fn polling_a_wait_again_allocates_nothing() {
    let many = Many::new();
    let guard = many.start().unwrap();
    let mut fut = pin!(many.done());
    let mut cx = Context::from_waker(Waker::noop());
    assert_eq!(fut.as_mut().poll(&mut cx), Poll::Pending); // registers
    let before = allocs();
    for _ in 0..10_000 {
        assert_eq!(fut.as_mut().poll(&mut cx), Poll::Pending);
    }
    assert_eq!(
        allocs() - before,
        0,
        "polling allocated (a waiter list grew)"
    );
    drop(guard);
    assert_eq!(fut.as_mut().poll(&mut cx), Poll::Ready(()));
}

/// A single async waiter takes the instance's single-waiter slot (engine
/// invariant E10): registering, being woken by the completion and
/// resolving allocate nothing, over many restarts (event-listener's list,
/// which allocates an entry per listener, is never touched). Everything
/// runs on this thread, so the completion's side is counted too.
#[test]
fn a_single_async_waiter_allocates_nothing() {
    let many = Many::new();
    let mut cx = Context::from_waker(Waker::noop());
    let mut cycle = || {
        let guard = many.start().unwrap();
        let mut done = pin!(many.done());
        assert_eq!(done.as_mut().poll(&mut cx), Poll::Pending); // registers
        drop(guard); // wakes it
        assert_eq!(done.as_mut().poll(&mut cx), Poll::Ready(()));
    };
    cycle(); // warm up
    let before = allocs();
    for _ in 0..10_000 {
        cycle();
    }
    assert_eq!(
        allocs() - before,
        0,
        "allocations in 10,000 waited restarts"
    );
}

/// The same for a waiter dropped while pending (it releases the slot), and
/// for one whose waker changes between polls.
#[test]
fn a_dropped_or_repolled_single_waiter_allocates_nothing() {
    let many = Many::new();
    let mut cx = Context::from_waker(Waker::noop());
    let mut cycle = || {
        let guard = many.start().unwrap();
        {
            let mut dropped = pin!(many.done());
            assert_eq!(dropped.as_mut().poll(&mut cx), Poll::Pending);
        }
        let mut done = pin!(many.done());
        assert_eq!(done.as_mut().poll(&mut cx), Poll::Pending);
        let mut other = Context::from_waker(futures::task::noop_waker_ref());
        assert_eq!(done.as_mut().poll(&mut other), Poll::Pending);
        drop(guard);
        assert_eq!(done.as_mut().poll(&mut cx), Poll::Ready(()));
    };
    cycle(); // warm up
    let before = allocs();
    for _ in 0..10_000 {
        cycle();
    }
    assert_eq!(allocs() - before, 0, "allocations in 10,000 restarts");
}

/// A single blocking waiter, woken by a completion on another thread:
/// neither thread allocates (the waiter parks its own thread, stored in
/// the slot, engine invariant E10). The completer drops each guard as soon
/// as it has it: some waits find the run ended before they park, most
/// park (either way nothing may allocate).
#[test]
fn a_single_blocking_waiter_allocates_nothing() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    const N: u64 = 2_000;
    let many = Many::new();
    let handed: Arc<Mutex<Option<runcycle::Guard>>> = Arc::new(Mutex::new(None));
    let ready = Arc::new(AtomicBool::new(false));
    let completer = {
        let (handed, ready) = (Arc::clone(&handed), Arc::clone(&ready));
        std::thread::spawn(move || {
            let mut before = None;
            for i in 0..=N {
                if i == 1 {
                    before = Some(allocs()); // after the warm-up round
                }
                while !ready.swap(false, Ordering::Acquire) {
                    std::thread::yield_now();
                }
                let guard = handed.lock().unwrap().take().unwrap();
                drop(guard);
            }
            allocs() - before.unwrap()
        })
    };
    let round = || {
        let guard = many.start().unwrap();
        let done = many.done();
        *handed.lock().unwrap() = Some(guard);
        ready.store(true, Ordering::Release);
        done.wait();
    };
    round(); // warm up
    let before = allocs();
    for _ in 0..N {
        round();
    }
    let waiter = allocs() - before;
    let completer = completer.join().unwrap();
    assert_eq!(waiter, 0, "the waiter allocated in {N} waits");
    assert_eq!(completer, 0, "the completer allocated in {N} completions");
}

/// An instance without a parent is one allocation (its shared part): no
/// parent watch is made for it.
#[test]
fn an_instance_without_a_parent_is_one_allocation() {
    let before = allocs();
    let one = One::new();
    assert_eq!(allocs() - before, 1, "One::new");
    let before = allocs();
    let many = Many::new();
    assert_eq!(allocs() - before, 1, "Many::new");
    drop((one, many));
}

/// Allocations of `n` tasks made by `spawn_one` and awaited one by one, on
/// a current-thread runtime (everything happens on this thread, where the
/// counter counts), after a warm-up of the same.
#[cfg(feature = "tokio")]
fn allocs_of_tasks<F: Future<Output = ()>>(n: u64, spawn_one: impl Fn() -> F) -> u64 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        for _ in 0..n {
            spawn_one().await;
        }
        let before = allocs();
        for _ in 0..n {
            spawn_one().await;
        }
        allocs() - before
    })
}

/// spec/go.md, T9: a `Task` is tokio's task plus one token, one allocation
/// beyond `tokio::spawn` for an unnamed task (the context handed to the task
/// is a clone of the token, no allocation), and nothing more for a name
/// given as an `Arc<str>`.
///
/// With a parent, the child token's node is the one allocation too, but
/// tokio-util keeps the parent's list of children in a `Vec` that it shrinks
/// to `2 * len` once a quarter full (`tree_node::remove_child`): a parent
/// whose only child comes and goes frees and reallocates that list for
/// every child, one more allocation per task (tokio-util's, for every child
/// token). A parent with other children alive keeps its list: one.
#[cfg(feature = "tokio")]
#[test]
fn a_task_allocates_one_more_than_a_tokio_task() {
    use std::sync::Arc;

    use runcycle::TaskBuilder;

    const N: u64 = 1_000;
    let tokio = allocs_of_tasks(N, || async {
        let handle = tokio::spawn(async { Ok::<_, ()>(1) });
        assert_eq!(handle.await.unwrap(), Ok(1));
    });
    let unnamed = allocs_of_tasks(N, || async {
        let task = runcycle::spawn(|_ctx| async { Ok::<_, ()>(1) });
        assert_eq!(task.await.unwrap(), 1);
    });
    let parent = CancellationToken::new();
    let with_parent = allocs_of_tasks(N, || async {
        let task = TaskBuilder::new()
            .parent(&parent)
            .spawn(|_ctx| async { Ok::<_, ()>(1) });
        assert_eq!(task.await.unwrap(), 1);
    });
    let sibling = parent.child_token();
    let with_parent_and_sibling = allocs_of_tasks(N, || async {
        let task = TaskBuilder::new()
            .parent(&parent)
            .spawn(|_ctx| async { Ok::<_, ()>(1) });
        assert_eq!(task.await.unwrap(), 1);
    });
    drop(sibling);
    let lone_child_tokens = allocs_of_tasks(N, || async {
        drop(parent.child_token());
    });
    let name: Arc<str> = Arc::from("shared name");
    let named = allocs_of_tasks(N, || async {
        let task = TaskBuilder::new()
            .name(Arc::clone(&name))
            .spawn(|_ctx| async { Ok::<_, ()>(1) });
        assert_eq!(task.await.unwrap(), 1);
    });
    println!(
        "allocations per task: tokio::spawn {}, runcycle::spawn {}, with a lone parent {}, \
         with a parent that has another child {}, named (Arc<str>) {}; \
         per lone child token (no task) {}",
        tokio / N,
        unnamed / N,
        with_parent / N,
        with_parent_and_sibling / N,
        named / N,
        lone_child_tokens / N,
    );
    assert_eq!(unnamed, tokio + N, "runcycle::spawn");
    assert_eq!(named, tokio + N, "TaskBuilder::name(Arc<str>)");
    assert_eq!(
        with_parent_and_sibling,
        tokio + N,
        "TaskBuilder::parent, the parent's list kept"
    );
    assert_eq!(lone_child_tokens, 2 * N, "tokio-util: a lone child token");
    assert_eq!(
        with_parent,
        tokio + lone_child_tokens,
        "TaskBuilder::parent, a lone child: tokio's task and tokio-util's child token"
    );
}
