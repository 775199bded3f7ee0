//! The threads executor: chunks spread over a rayon pool of `workers` threads in this process.
//!
//! Workers claim chunk ids dynamically (rayon's work stealing) and send `(id, partial)` over a channel to
//! the calling thread, which alone runs `on_partial`; partials are never reduced by rayon, whose
//! reduction order depends on timing. The pool is built once per session and serves every pass.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::{Cancel, ExecReport, Executor, OnPartial, Session};
use crate::error::{Error, Result};
use crate::kernel::compute_chunk;
use crate::plan::{Chunk, Pass, Plan};
use crate::store::Store;

/// A rayon pool of a fixed number of threads.
#[derive(Clone, Debug)]
pub struct Threads {
    workers: usize,
    cancel: Cancel,
    /// CPUs to pin the pool's threads to, round robin (empty: none).
    pin: Vec<usize>,
}

impl Threads {
    pub fn new(workers: usize, cancel: Cancel) -> Self {
        Threads { workers: workers.max(1), cancel, pin: Vec::new() }
    }

    /// Pins thread `i` of the pool to `cpus[i mod n]` ([`super::pin`]).
    pub fn with_pin(mut self, cpus: Vec<usize>) -> Self {
        self.pin = cpus;
        self
    }
}

impl Executor for Threads {
    fn start<'a>(&'a self, plan: &'a Plan, store: &'a Store) -> Result<Box<dyn Session + 'a>> {
        self.start_over(plan, store, plan.chunks())
    }
}

impl Threads {
    /// A session over some of the plan's chunks only (an MPI rank's share).
    pub(crate) fn start_over<'a>(
        &'a self,
        plan: &'a Plan,
        store: &'a Store,
        chunks: Vec<Chunk>,
    ) -> Result<Box<dyn Session + 'a>> {
        // More threads than chunks would only idle.
        let workers = self.workers.min(chunks.len()).max(1);
        let started = Instant::now();
        let cpus = self.pin.clone();
        let pinned: Vec<(usize, usize)> =
            (0..workers).filter_map(|i| super::pin::cpu_for(&cpus, i).map(|cpu| (i, cpu))).collect();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(workers)
            .thread_name(|i| format!("tally-worker-{i}"))
            .start_handler(move |i| {
                if let Some(cpu) = super::pin::cpu_for(&cpus, i)
                    && let Err(e) = super::pin::pin(None, cpu)
                {
                    tracing::warn!("thread {i}: {e}");
                }
            })
            .build()
            .map_err(|e| Error::internal(format!("cannot start the thread pool: {e}")))?;
        Ok(Box::new(ThreadSession {
            spawn: started.elapsed(),
            busy: (0..workers).map(|_| AtomicU64::new(0)).collect(),
            pinned,
            cancel: &self.cancel,
            plan,
            store,
            chunks,
            pool,
            workers,
            passes: 0,
            compute: Duration::ZERO,
        }))
    }
}

struct ThreadSession<'a> {
    cancel: &'a Cancel,
    plan: &'a Plan,
    store: &'a Store,
    chunks: Vec<Chunk>,
    pool: rayon::ThreadPool,
    workers: usize,
    passes: usize,
    compute: Duration,
    spawn: Duration,
    /// Nanoseconds inside the kernel, per pool thread.
    busy: Vec<AtomicU64>,
    pinned: Vec<(usize, usize)>,
}

impl Session for ThreadSession<'_> {
    fn run_pass(&mut self, pass: &Pass, on_partial: OnPartial<'_>) -> Result<()> {
        let start = Instant::now();
        self.plan.check_pass(pass)?;
        let (plan, store, cancel, busy) = (self.plan, self.store, self.cancel, &self.busy);
        let stop = AtomicBool::new(false);
        let (tx, rx) = mpsc::sync_channel(self.workers * 4);
        let mut outcome = Ok(());
        std::thread::scope(|scope| {
            let (pool, chunks, stop) = (&self.pool, &self.chunks, &stop);
            scope.spawn(move || {
                pool.install(|| {
                    chunks.par_iter().with_max_len(1).for_each_with(tx, |tx, chunk| {
                        if !stop.load(Ordering::Relaxed) && cancel.signal().is_none() {
                            let computing = Instant::now();
                            let partial = compute_chunk(plan, pass, store, chunk);
                            let nanos = computing.elapsed().as_nanos() as u64;
                            if let Some(cell) = rayon::current_thread_index().and_then(|i| busy.get(i)) {
                                cell.fetch_add(nanos, Ordering::Relaxed);
                            }
                            // A closed receiver means the caller stopped the run: nothing left to do.
                            let _ = tx.send((chunk.id, partial));
                        }
                    })
                })
            });
            for (id, partial) in rx {
                if outcome.is_ok() {
                    outcome = partial.and_then(|partial| on_partial(id, partial));
                    if outcome.is_err() {
                        stop.store(true, Ordering::Relaxed);
                    }
                }
            }
        });
        outcome?;
        self.cancel.check()?;
        self.passes += 1;
        self.compute += start.elapsed();
        Ok(())
    }

    fn report(&self) -> ExecReport {
        ExecReport {
            chunks: self.chunks.len(),
            passes: self.passes,
            workers: self.workers,
            elapsed: self.spawn + self.compute,
            spawn: self.spawn,
            compute: self.compute,
            busy: self.busy.iter().map(|b| Duration::from_nanos(b.load(Ordering::Relaxed))).collect(),
            pinned: self.pinned.clone(),
            ..ExecReport::default()
        }
    }
}
