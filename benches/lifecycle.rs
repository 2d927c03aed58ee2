//! Lifecycle benchmarks: every group runs runcycle next to its baselines in the
//! same run, so the results read as ratios on one machine. See
//! BENCHMARKS.md for the figures and how to reproduce them:
//!
//! ```sh
//! cargo bench --bench lifecycle
//! ```

use std::future::Future;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use divan::{black_box, Bencher};
use runcycle::{Many, One, State};
use tokio_util::sync::CancellationToken;

#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

fn main() {
    divan::main();
}

/// What a Rust user would write instead of `Many`: a `Mutex` around the
/// state and the run's token.
struct MutexMany {
    parent: Option<CancellationToken>,
    inner: Mutex<(State, Option<CancellationToken>)>,
}

impl MutexMany {
    fn new(parent: Option<&CancellationToken>) -> MutexMany {
        MutexMany {
            parent: parent.cloned(),
            inner: Mutex::new((State::Created, None)),
        }
    }
    fn start(&self) -> bool {
        let mut inner = self.inner.lock().unwrap();
        if matches!(inner.0, State::Running | State::Closed) {
            return false;
        }
        inner.0 = State::Running;
        inner.1 = Some(match &self.parent {
            Some(parent) => parent.child_token(),
            None => CancellationToken::new(),
        });
        true
    }
    fn context(&self) -> CancellationToken {
        self.inner.lock().unwrap().1.clone().unwrap()
    }
    /// A reader's view: the state, under the lock.
    fn state(&self) -> State {
        self.inner.lock().unwrap().0
    }
    fn complete(&self) {
        let mut inner = self.inner.lock().unwrap();
        if let Some(token) = &inner.1 {
            token.cancel();
        }
        inner.0 = State::Stopped;
    }
    /// The completion under runcycle's lock rule (spec/README.md, section
    /// 13: no foreign code under a lock): `cancel()` runs the wakers of
    /// everything awaiting the token, so it is called after the lock is
    /// released, on a handle taken under it. `complete` above cancels under
    /// its lock, which deadlocks if a waker calls back into the instance.
    fn complete_outside_the_lock(&self) {
        let token = {
            let mut inner = self.inner.lock().unwrap();
            inner.0 = State::Stopped;
            inner.1.clone()
        };
        if let Some(token) = token {
            token.cancel();
        }
    }
}

mod state {
    use super::*;

    #[divan::bench]
    fn runcycle_state(b: Bencher) {
        let many = Many::new();
        b.bench(|| black_box(&many).state());
    }

    #[divan::bench]
    fn baseline_atomic_u8_load(b: Bencher) {
        let state = AtomicU8::new(1);
        b.bench(|| black_box(&state).load(Ordering::Acquire));
    }

    /// The same load through a one-pointer handle (an `Arc`), as every
    /// runcycle handle is: the part of `state()` its shape costs.
    #[divan::bench]
    fn part_load_through_arc(b: Bencher) {
        let state = Arc::new(std::sync::atomic::AtomicU64::new(1));
        b.bench(|| black_box(&state).load(Ordering::Acquire));
    }
}

/// Start, ask for the context, stop. Without a parent (the common case) and
/// with one; the floors are one token made and cancelled.
mod restart_with_context {
    use super::*;

    #[divan::bench]
    fn runcycle_many_start_context_stop(b: Bencher) {
        let many = Many::new();
        b.bench(|| {
            let guard = many.start().unwrap();
            black_box(guard.context());
            drop(guard);
        });
    }

    #[divan::bench]
    fn runcycle_many_with_parent_start_context_stop(b: Bencher) {
        let parent = CancellationToken::new();
        let many = Many::with_parent(&parent);
        b.bench(|| {
            let guard = many.start().unwrap();
            black_box(guard.context());
            drop(guard);
        });
    }

    #[divan::bench]
    fn floor_child_token_cancel(b: Bencher) {
        let parent = CancellationToken::new();
        b.bench(|| {
            let token = parent.child_token();
            token.cancel();
            black_box(token);
        });
    }

    #[divan::bench]
    fn floor_new_token_cancel(b: Bencher) {
        b.bench(|| {
            let token = CancellationToken::new();
            token.cancel();
            black_box(token);
        });
    }

    #[divan::bench]
    fn baseline_mutex_state_and_token(b: Bencher) {
        let many = MutexMany::new(None);
        b.bench(|| {
            assert!(many.start());
            black_box(many.context());
            many.complete();
        });
    }

    /// The Mutex version with runcycle's lock rule: its completion clones
    /// the token under the lock and cancels it after (one more token
    /// handle per run than `baseline_mutex_state_and_token`).
    #[divan::bench]
    fn baseline_mutex_lock_rule(b: Bencher) {
        let many = MutexMany::new(None);
        b.bench(|| {
            assert!(many.start());
            black_box(many.context());
            many.complete_outside_the_lock();
        });
    }

    #[divan::bench]
    fn baseline_mutex_with_parent(b: Bencher) {
        let parent = CancellationToken::new();
        let many = MutexMany::new(Some(&parent));
        b.bench(|| {
            assert!(many.start());
            black_box(many.context());
            many.complete();
        });
    }

    /// What one token handle costs beyond the floor: a clone and its drop
    /// (each takes the token's lock in tokio-util).
    #[divan::bench]
    fn part_token_clone_drop(b: Bencher) {
        let token = CancellationToken::new();
        b.bench(|| drop(black_box(token.clone())));
    }
}

/// Start and stop without asking for the context: no allocation.
mod restart_without_context {
    use super::*;

    #[divan::bench]
    fn runcycle_many_start_stop(b: Bencher) {
        let many = Many::new();
        b.bench(|| drop(black_box(many.start().unwrap())));
    }

    #[divan::bench]
    fn runcycle_many_with_parent_start_stop(b: Bencher) {
        let many = Many::with_parent(&CancellationToken::new());
        b.bench(|| drop(black_box(many.start().unwrap())));
    }

    #[divan::bench]
    fn baseline_two_cas(b: Bencher) {
        let word = AtomicU8::new(0);
        b.bench(|| {
            let w = black_box(&word);
            let _ = w.compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire);
            let _ = w.compare_exchange(1, 0, Ordering::AcqRel, Ordering::Acquire);
        });
    }

    /// The parent check every call makes (spec/README.md, 7): one
    /// `is_cancelled()`, which takes the token's lock in tokio-util.
    #[divan::bench]
    fn part_parent_is_cancelled(b: Bencher) {
        let parent = CancellationToken::new();
        b.bench(|| black_box(&parent).is_cancelled());
    }
}

mod one_lifecycle {
    use super::*;

    /// Calls per sample, fixed: left to divan, a slow first sample (an
    /// allocation's page fault) makes it pick 1 call per sample, which the
    /// timer's precision (about 20 ns here) then dominates.
    const SAMPLE_SIZE: u32 = 64;

    #[divan::bench(sample_size = SAMPLE_SIZE)]
    fn runcycle_one_new_start_stop(b: Bencher) {
        b.bench(|| {
            let one = One::new();
            drop(one.start().unwrap());
            black_box(one);
        });
    }

    /// What watching the parent costs (the part of `with_parent` beyond
    /// `new`): a boxed `cancelled_owned()` future on a clone of the parent,
    /// polled once to register, then dropped to deregister.
    #[divan::bench(sample_size = SAMPLE_SIZE)]
    fn part_parent_watch(b: Bencher) {
        let parent = CancellationToken::new();
        b.bench(|| {
            let mut watch = Box::pin(parent.clone().cancelled_owned());
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            assert!(watch.as_mut().poll(&mut cx).is_pending());
            drop(black_box(watch));
        });
    }

    #[divan::bench(sample_size = SAMPLE_SIZE)]
    fn runcycle_one_with_parent_start_stop(b: Bencher) {
        let parent = CancellationToken::new();
        b.bench(|| {
            let one = One::with_parent(&parent);
            drop(one.start().unwrap());
            black_box(one);
        });
    }

    #[divan::bench(sample_size = SAMPLE_SIZE)]
    fn floor_child_token_cancel(b: Bencher) {
        let parent = CancellationToken::new();
        b.bench(|| {
            let token = parent.child_token();
            token.cancel();
            black_box(token);
        });
    }
}

/// Threads racing `start`/stop on one instance; each run checks it is the
/// only one (exactly one winner per run). divan runs the closure on every
/// thread at once and reports the time per call on one thread, within a
/// sample (a sample is short enough to run mostly inside one time slice).
/// While the threads fit the cores, the throughput of all threads together
/// is `threads / time`; past the cores (on the 2-core machine: 4, 8 and 16
/// threads) it is at most `cores / time`: those counts show the shape, not
/// more parallelism. Each call is an attempt (won or refused).
mod contended_restarts {
    use super::*;

    /// The thread counts of the issue.
    pub(crate) const THREADS: &[usize] = &[1, 2, 4, 8, 16];
    /// Samples per case: keeps the whole contended group (both modules)
    /// under a minute.
    pub(crate) const SAMPLES: u32 = 100;
    /// Seconds per case at most.
    pub(crate) const MAX_TIME: f64 = 2.0;
    /// Seconds per case at least: a case of short samples would otherwise
    /// end in milliseconds, before the scheduler has mixed the threads (on
    /// 2 cores the writer of `contended_reads` may not have run at all).
    pub(crate) const MIN_TIME: f64 = 0.5;
    /// Calls per sample, fixed: left to divan, a slow first sample under
    /// contention makes it pick 1 call per sample, which the timer's
    /// precision (about 20 ns here) then dominates.
    const SAMPLE_SIZE: u32 = 256;

    #[divan::bench(threads = THREADS, sample_count = SAMPLES, sample_size = SAMPLE_SIZE, min_time = MIN_TIME, max_time = MAX_TIME)]
    fn runcycle_many(b: Bencher) {
        let many = Many::new();
        let active = AtomicUsize::new(0);
        b.bench(|| {
            if let Ok(guard) = many.start() {
                assert_eq!(active.fetch_add(1, Ordering::Relaxed), 0, "two winners");
                active.fetch_sub(1, Ordering::Relaxed);
                drop(guard);
            }
        });
    }

    #[divan::bench(threads = THREADS, sample_count = SAMPLES, sample_size = SAMPLE_SIZE, min_time = MIN_TIME, max_time = MAX_TIME)]
    fn baseline_mutex(b: Bencher) {
        let many = MutexMany::new(None);
        let active = AtomicUsize::new(0);
        b.bench(|| {
            if many.start() {
                assert_eq!(active.fetch_add(1, Ordering::Relaxed), 0, "two winners");
                active.fetch_sub(1, Ordering::Relaxed);
                many.complete();
            }
        });
    }
}

/// Threads reading `state()` while one writer restarts the instance over
/// and over. divan runs the same closure on every bench thread, so the
/// writer is not one of them: each case spawns its own plain thread that
/// restarts in a loop until a flag set after the measurement stops it, and
/// the `threads` are all readers. So `threads = 1` is one reader and one
/// writer (the machine's 2 cores), and the upper counts are oversubscribed
/// by one more thread. Reported: the time per `state()` call on one reader.
mod contended_reads {
    use super::contended_restarts::{MAX_TIME, MIN_TIME, SAMPLES, THREADS};
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::thread;

    /// Calls per sample, fixed (see `contended_restarts::SAMPLE_SIZE`);
    /// larger: a lock-free read takes under a nanosecond.
    const SAMPLE_SIZE: u32 = 1024;

    /// Runs `restart` in a loop on a plain thread until the returned
    /// closure is called (it stops and joins the thread). Returns once the
    /// writer has made its first restart, so the readers never measure an
    /// idle instance.
    fn writer(restart: impl Fn() + Send + 'static) -> impl FnOnce() {
        let stop = Arc::new(AtomicBool::new(false));
        let started = Arc::new(AtomicBool::new(false));
        let thread = {
            let (stop, started) = (Arc::clone(&stop), Arc::clone(&started));
            thread::spawn(move || {
                // `Relaxed` (both flags): signals only, no data is
                // published with them.
                while !stop.load(Ordering::Relaxed) {
                    restart();
                    started.store(true, Ordering::Relaxed);
                }
            })
        };
        while !started.load(Ordering::Relaxed) {
            thread::yield_now();
        }
        move || {
            stop.store(true, Ordering::Relaxed);
            thread.join().unwrap();
        }
    }

    #[divan::bench(threads = THREADS, sample_count = SAMPLES, sample_size = SAMPLE_SIZE, min_time = MIN_TIME, max_time = MAX_TIME)]
    fn runcycle_many(b: Bencher) {
        let many = Many::new();
        let stop = {
            let many = many.clone();
            writer(move || drop(many.start().expect("the only starter")))
        };
        b.bench(|| black_box(&many).state());
        stop();
    }

    #[divan::bench(threads = THREADS, sample_count = SAMPLES, sample_size = SAMPLE_SIZE, min_time = MIN_TIME, max_time = MAX_TIME)]
    fn baseline_mutex(b: Bencher) {
        let many = Arc::new(MutexMany::new(None));
        let stop = {
            let many = Arc::clone(&many);
            writer(move || {
                assert!(many.start(), "the only starter");
                many.complete();
            })
        };
        b.bench(|| black_box(&many).state());
        stop();
    }
}

/// A completion in one thread wakes a waiter in another. Both sides use the
/// same hand-off (a spinning helper thread), so the difference is the
/// primitive.
mod wake_across_threads {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::thread;

    type Job = Arc<Mutex<Option<Box<dyn FnOnce() + Send>>>>;

    /// A helper thread that runs the job it is handed, once per handing.
    struct Helper {
        job: Job,
        flag: Arc<AtomicBool>,
        stop: Arc<AtomicBool>,
        thread: Option<thread::JoinHandle<()>>,
    }

    impl Helper {
        fn new() -> Helper {
            let job: Job = Arc::new(Mutex::new(None));
            let flag = Arc::new(AtomicBool::new(false));
            let stop = Arc::new(AtomicBool::new(false));
            let thread = {
                let (job, flag, stop) = (Arc::clone(&job), Arc::clone(&flag), Arc::clone(&stop));
                thread::spawn(move || {
                    while !stop.load(Ordering::Acquire) {
                        if flag.swap(false, Ordering::AcqRel) {
                            if let Some(f) = job.lock().unwrap().take() {
                                f();
                            }
                        } else {
                            std::hint::spin_loop();
                        }
                    }
                })
            };
            Helper {
                job,
                flag,
                stop,
                thread: Some(thread),
            }
        }
        fn hand(&self, f: impl FnOnce() + Send + 'static) {
            *self.job.lock().unwrap() = Some(Box::new(f));
            self.flag.store(true, Ordering::Release);
        }
    }

    impl Drop for Helper {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::Release);
            self.thread.take().unwrap().join().unwrap();
        }
    }

    #[divan::bench(sample_count = 2000)]
    fn runcycle_blocking_wait(b: Bencher) {
        let helper = Helper::new();
        let many = Many::new();
        b.bench(|| {
            let guard = many.start().unwrap();
            let done = many.done();
            helper.hand(move || drop(guard));
            done.wait();
        });
    }

    #[divan::bench(sample_count = 2000)]
    fn baseline_condvar(b: Bencher) {
        let helper = Helper::new();
        let pair = Arc::new((Mutex::new(false), Condvar::new()));
        b.bench(|| {
            *pair.0.lock().unwrap() = false;
            let p = Arc::clone(&pair);
            helper.hand(move || {
                *p.0.lock().unwrap() = true;
                p.1.notify_all();
            });
            let mut done = pair.0.lock().unwrap();
            while !*done {
                done = pair.1.wait(done).unwrap();
            }
        });
    }

    #[divan::bench(sample_count = 2000)]
    fn runcycle_async_wait(b: Bencher) {
        let helper = Helper::new();
        let many = Many::new();
        b.bench(|| {
            let guard = many.start().unwrap();
            let done = many.done();
            helper.hand(move || drop(guard));
            futures::executor::block_on(done);
        });
    }

    #[divan::bench(sample_count = 2000)]
    fn baseline_tokio_notify(b: Bencher) {
        let helper = Helper::new();
        let notify = Arc::new(tokio::sync::Notify::new());
        b.bench(|| {
            let n = Arc::clone(&notify);
            let notified = notify.notified();
            helper.hand(move || n.notify_waiters());
            futures::executor::block_on(notified);
        });
    }
}

mod spawn_and_wait {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap()
    }

    #[divan::bench]
    fn runcycle_spawn_await(b: Bencher) {
        let rt = runtime();
        b.bench(|| {
            rt.block_on(async {
                let task =
                    runcycle::spawn(
                        |ctx| async move { Ok::<_, ()>(black_box(ctx).is_cancelled()) },
                    );
                let _ = black_box(task.await);
            });
        });
    }

    #[divan::bench]
    fn baseline_spawn_token_join(b: Bencher) {
        let rt = runtime();
        b.bench(|| {
            rt.block_on(async {
                let token = CancellationToken::new();
                let ctx = token.clone();
                let handle =
                    tokio::spawn(async move { Ok::<_, ()>(black_box(ctx).is_cancelled()) });
                let _ = black_box(handle.await.unwrap());
                token.cancel();
            });
        });
    }

    #[divan::bench(sample_count = 20)]
    fn runcycle_group_1000_spawn_wait(b: Bencher) {
        let rt = runtime();
        b.bench(|| {
            rt.block_on(async {
                let group = runcycle::Group::new();
                for _ in 0..1000 {
                    group
                        .spawn(|ctx| async move {
                            black_box(ctx);
                        })
                        .unwrap();
                }
                group.wait().await.unwrap();
            });
        });
    }

    #[divan::bench(sample_count = 20)]
    fn baseline_task_tracker_1000_spawn_wait(b: Bencher) {
        let rt = runtime();
        b.bench(|| {
            rt.block_on(async {
                let tracker = tokio_util::task::TaskTracker::new();
                let token = CancellationToken::new();
                for _ in 0..1000 {
                    let ctx = token.clone();
                    tracker.spawn(async move {
                        black_box(ctx);
                    });
                }
                tracker.close();
                tracker.wait().await;
            });
        });
    }
}
