//! The threads executor: chunks spread over a rayon pool of `workers` threads in this process.
//!
//! Workers claim chunk ids dynamically (rayon's work stealing) and send `(id, partial)` over a channel to
//! the calling thread, which alone runs `on_partial`; partials are never reduced by rayon, whose
//! reduction order depends on timing. The pool is built once per session and serves every pass.

use std::sync::atomic::{AtomicBool, Ordering};
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
}

impl Threads {
    pub fn new(workers: usize, cancel: Cancel) -> Self {
        Threads { workers: workers.max(1), cancel }
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
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(workers)
            .thread_name(|i| format!("tally-worker-{i}"))
            .build()
            .map_err(|e| Error::internal(format!("cannot start the thread pool: {e}")))?;
        Ok(Box::new(ThreadSession {
            cancel: &self.cancel,
            plan,
            store,
            chunks,
            pool,
            workers,
            passes: 0,
            busy: Duration::ZERO,
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
    busy: Duration,
}

impl Session for ThreadSession<'_> {
    fn run_pass(&mut self, pass: &Pass, on_partial: OnPartial<'_>) -> Result<()> {
        let start = Instant::now();
        self.plan.check_pass(pass)?;
        let (plan, store, cancel) = (self.plan, self.store, self.cancel);
        let stop = AtomicBool::new(false);
        let (tx, rx) = mpsc::sync_channel(self.workers * 4);
        let mut outcome = Ok(());
        std::thread::scope(|scope| {
            let (pool, chunks, stop) = (&self.pool, &self.chunks, &stop);
            scope.spawn(move || {
                pool.install(|| {
                    chunks.par_iter().with_max_len(1).for_each_with(tx, |tx, chunk| {
                        if !stop.load(Ordering::Relaxed) && cancel.signal().is_none() {
                            // A closed receiver means the caller stopped the run: nothing left to do.
                            let _ = tx.send((chunk.id, compute_chunk(plan, pass, store, chunk)));
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
        self.busy += start.elapsed();
        Ok(())
    }

    fn report(&self) -> ExecReport {
        ExecReport {
            chunks: self.chunks.len(),
            passes: self.passes,
            workers: self.workers,
            spawned: 0,
            elapsed: self.busy,
        }
    }
}
