//! The threads executor: chunks spread over a rayon pool of `workers` threads in this process.
//!
//! Workers claim chunk ids dynamically (rayon's work stealing) and send `(id, partial)` over a channel to
//! the calling thread, which alone runs `on_partial`; partials are never reduced by rayon, whose
//! reduction order depends on timing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use rayon::prelude::*;

use super::{Cancel, ExecReport, Executor, OnPartial};
use crate::error::{Error, Result};
use crate::kernel::compute_chunk;
use crate::plan::Plan;
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
    fn run(&self, plan: &Plan, store: &Store, on_partial: OnPartial<'_>) -> Result<ExecReport> {
        let start = Instant::now();
        let chunks = plan.chunks();
        // More threads than chunks would only idle.
        let workers = self.workers.min(chunks.len()).max(1);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(workers)
            .thread_name(|i| format!("tally-worker-{i}"))
            .build()
            .map_err(|e| Error::internal(format!("cannot start the thread pool: {e}")))?;
        let stop = AtomicBool::new(false);
        let (tx, rx) = mpsc::sync_channel(workers * 4);
        let mut outcome = Ok(());
        std::thread::scope(|scope| {
            scope.spawn(|| {
                pool.install(|| {
                    chunks.par_iter().with_max_len(1).for_each_with(tx, |tx, chunk| {
                        if !stop.load(Ordering::Relaxed) && self.cancel.signal().is_none() {
                            // A closed receiver means the caller stopped the run: nothing left to do.
                            let _ = tx.send((chunk.id, compute_chunk(plan, store, chunk)));
                        }
                    })
                })
            });
            for (id, partial) in rx {
                if outcome.is_ok() {
                    outcome = on_partial(id, partial);
                    if outcome.is_err() {
                        stop.store(true, Ordering::Relaxed);
                    }
                }
            }
        });
        outcome?;
        self.cancel.check()?;
        Ok(ExecReport { chunks: chunks.len(), workers, elapsed: start.elapsed() })
    }
}
