//! The harness the task and supervision benches share: the setting
//! (a 2-worker multi-thread runtime, the work driven from a worker), cases
//! alternated round by round, medians, one table per section with each
//! case's ratio to the second case (the baseline).

use std::future::Future;
use std::pin::Pin;

/// The runtime of every case: 2 workers, timers and I/O on.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `f` on a runtime worker (spawned, then joined): the setting.
pub fn on_worker<F, Fut, R>(rt: &tokio::runtime::Runtime, f: F) -> R
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: Send + 'static,
{
    rt.block_on(async move { tokio::spawn(async move { f().await }).await.unwrap() })
}

/// One sample of a case: a future of the time per unit of work.
pub type Bench = Pin<Box<dyn Future<Output = f64> + Send>>;

/// A case: its name and the function that runs it `n` times.
pub type Case = (&'static str, fn(u32) -> Bench);

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Alternates the cases `rounds` times; returns each case's median.
pub fn alternate(rt: &tokio::runtime::Runtime, rounds: usize, cases: &[Case], n: u32) -> Vec<f64> {
    let mut samples = vec![Vec::new(); cases.len()];
    for _ in 0..rounds {
        for (i, (_, case)) in cases.iter().enumerate() {
            let case = *case;
            samples[i].push(on_worker(rt, move || case(n)));
        }
    }
    samples.into_iter().map(median).collect()
}

/// Prints a section: each case's median and its ratio to the second case.
pub fn report(title: &str, unit: &str, cases: &[Case], medians: &[f64]) {
    println!("## {title} ({unit}, median; ratio to the baseline)");
    for ((name, _), m) in cases.iter().zip(medians) {
        println!("{name:<52} {m:>12.0}   {:.2}x", m / medians[1]);
    }
    println!();
}
