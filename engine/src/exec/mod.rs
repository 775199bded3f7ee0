//! Executors and Sessions: run "compute the partials of pass p on chunk i" for every chunk and hand
//! `(chunk id, partial)` to the caller, which feeds the Aggregator.
//!
//! ```text
//!  Executor::start(plan, store) ──► Session ──run_pass(pass 0)──► (chunk, partial)* ──► Aggregator
//!                                     │      ──run_pass(pass 1)──► ...   (workers stay up in between)
//!                                     └─ report(): chunks, passes, workers spawned, the time split
//! ```
//!
//! A Session is started once per run: the processes executor spawns its workers (which open and validate
//! the input) once, and every pass of a multi-pass analysis reuses them. Only scheduling and transport
//! differ between executors; all of them call [`kernel::compute_chunk`](crate::kernel::compute_chunk).
//! Completion order is free: determinism comes from the Aggregator, never from the executor.

pub mod memory;
#[cfg(feature = "mpi")]
pub mod mpi;
pub mod pin;
pub mod processes;
pub mod serial;
pub mod threads;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::aggregate::Aggregator;
use crate::analysis::Step;
use crate::error::{Error, ErrorKind, Result};
use crate::plan::{Pass, Plan};
use crate::stats::PartialSet;
use crate::store::Store;

/// Receives each finished chunk; returning an error stops the run.
pub type OnPartial<'a> = &'a mut dyn FnMut(usize, PartialSet) -> Result<()>;

/// What a run did, for progress and benchmark reports (`tally bench` splits a run's time with it).
///
/// The parts are wall-clock times on the calling thread, measured with one `Instant::now` per chunk at
/// most, so collecting them costs nothing measurable. `spawn + open + compute` is the run; `merge` is the
/// part of `compute` the calling thread spent in the Aggregator (partials are merged as they arrive, so
/// merging overlaps the workers' computing; only the last merges add to the run).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExecReport {
    /// Chunks per pass.
    pub chunks: usize,
    /// Rows per chunk (set by `run`: the resolved `--chunk-rows`).
    pub chunk_rows: u64,
    pub passes: usize,
    /// Workers (threads or processes) running at once.
    pub workers: usize,
    /// Worker processes started over the whole session, replacements included (0 for in-process executors).
    pub spawned: usize,
    pub elapsed: Duration,
    /// Starting the executor: building the thread pool, or starting the worker processes until every one
    /// has reported ready (exec, mapping and validating the input in the worker included).
    pub spawn: Duration,
    /// Opening and validating the input and building the Store in this process (set by `run`; zero when
    /// the caller brought the store).
    pub open: Duration,
    /// Wall time of the passes, from handing out the first chunk to the last partial (the wait for the
    /// first workers to become ready excluded: that is `spawn`).
    pub compute: Duration,
    /// Time in the Aggregator on the calling thread (set by `run`): merging partials, part of `compute`,
    /// and the final merges of each pass.
    pub merge: Duration,
    /// Per worker, in worker order (a replaced process gets an entry of its own): time spent computing
    /// chunks. For processes, as the parent sees it: from handing a worker a chunk to its answer.
    pub busy: Vec<Duration>,
    /// Bytes of column data scanned, over all passes (set by `run`): what GB/s figures divide.
    pub scanned_bytes: u64,
    /// Workers pinned to a CPU with `sched_setaffinity`, as `(worker, cpu)` (empty unless asked to pin).
    /// Processes list the pins that succeeded; pool threads pin themselves as they start, so threads list
    /// the pins asked for (a failure is logged as a warning either way).
    pub pinned: Vec<(usize, usize)>,
    /// Per worker process, in worker order as `busy`: its peak resident set and largest anonymous memory
    /// (reported with each chunk; see [`memory`]). Empty for in-process executors, whose threads are part
    /// of `parent_memory`.
    pub worker_memory: Vec<memory::MemoryUse>,
    /// This process (set by `run`): sampled after each pass's merge.
    pub parent_memory: memory::MemoryUse,
}

/// A strategy for running the chunks of a plan: starts a [`Session`].
pub trait Executor {
    /// Starts a session over `store` (for the processes executor: spawns the workers).
    fn start<'a>(&'a self, plan: &'a Plan, store: &'a Store) -> Result<Box<dyn Session + 'a>>;
}

/// A started executor: runs passes one after another over the same workers.
pub trait Session {
    /// Computes `pass` on every chunk of the plan, calling `on_partial` once per chunk, in any order.
    fn run_pass(&mut self, pass: &Pass, on_partial: OnPartial<'_>) -> Result<()>;
    /// What the session did so far.
    fn report(&self) -> ExecReport;
    /// The run's next step: `decide` (the job's `step`) given the merged result of the last pass. Every
    /// participant of a distributed session must take the same steps: the MPI session decides on rank 0
    /// and broadcasts the step to the other ranks, which have no merged result. Local sessions decide.
    fn next_step(
        &mut self,
        previous: Option<&PartialSet>,
        decide: &mut dyn FnMut(Option<&PartialSet>) -> Result<Step>,
    ) -> Result<Step> {
        decide(previous)
    }
    /// Merges a finished pass: `aggregator` holds the partials of every chunk this process received. Local
    /// sessions received them all; an MPI rank sends its part of the tree to rank 0, where the pass is
    /// merged (`None` on the other ranks).
    fn finish_pass(&mut self, aggregator: Aggregator, empty: PartialSet) -> Result<Option<PartialSet>> {
        aggregator.finish(empty).map(Some)
    }
    /// Ends the session cleanly (workers are told to exit and reaped) and reports. Dropping a session
    /// instead, as an error does, stops its workers at once.
    fn close(self: Box<Self>) -> ExecReport {
        self.report()
    }
}

/// A request to stop, shared by the signal handler and the executors: holds the number of the signal
/// that asked (e.g. 2 for SIGINT), or 0. Executors check it between chunks (and the process supervisor
/// every few milliseconds), stop their workers and return [`ErrorKind::Cancelled`].
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicUsize>);

impl Cancel {
    /// The shared cell, for `signal_hook::flag::register_usize`.
    pub fn cell(&self) -> Arc<AtomicUsize> {
        self.0.clone()
    }

    pub fn cancel(&self, signal: usize) {
        self.0.store(signal, Ordering::SeqCst);
    }

    /// The signal that cancelled the run, if any.
    pub fn signal(&self) -> Option<usize> {
        match self.0.load(Ordering::Relaxed) {
            0 => None,
            s => Some(s),
        }
    }

    /// `Err(Cancelled)` once cancelled.
    pub fn check(&self) -> Result<()> {
        match self.signal() {
            None => Ok(()),
            Some(2) => Err(Error::new(ErrorKind::Cancelled, "interrupted (SIGINT)")),
            Some(15) => Err(Error::new(ErrorKind::Cancelled, "terminated (SIGTERM)")),
            Some(s) => Err(Error::new(ErrorKind::Cancelled, format!("stopped by signal {s}"))),
        }
    }
}

/// The executors the CLI can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecutorKind {
    Serial,
    Threads,
    Processes,
    /// Ranks of an MPI job (cargo feature `mpi`; MPI initialised by the caller, see `exec::mpi::Runtime`).
    Mpi,
}

/// Everything an executor may need to be built.
#[derive(Clone, Debug, Default)]
pub struct ExecOptions {
    pub workers: usize,
    pub cancel: Cancel,
    /// How to start a worker process (the `processes` executor only).
    pub worker_command: Option<processes::WorkerCommand>,
    pub chunk_timeout: Option<Duration>,
    /// Pin worker `i` to the `i mod n`-th of these CPUs (empty: no pinning); see [`pin`].
    pub pin: Vec<usize>,
}

impl ExecutorKind {
    pub fn build(self, options: &ExecOptions) -> Result<Box<dyn Executor>> {
        let workers = options.workers.max(1);
        Ok(match self {
            ExecutorKind::Serial => Box::new(serial::Serial { cancel: options.cancel.clone() }),
            ExecutorKind::Threads => {
                Box::new(threads::Threads::new(workers, options.cancel.clone()).with_pin(options.pin.clone()))
            }
            ExecutorKind::Processes => Box::new(processes::Processes {
                command: options.worker_command.clone().ok_or_else(|| {
                    Error::internal("the processes executor needs a worker command (the tally binary)")
                })?,
                workers,
                chunk_timeout: options.chunk_timeout,
                max_attempts: processes::DEFAULT_MAX_ATTEMPTS,
                cancel: options.cancel.clone(),
                pin: options.pin.clone(),
            }),
            #[cfg(feature = "mpi")]
            ExecutorKind::Mpi => Box::new(mpi::Mpi::new(workers, options.cancel.clone())),
            #[cfg(not(feature = "mpi"))]
            ExecutorKind::Mpi => {
                return Err(Error::new(
                    ErrorKind::Input,
                    "this tally was built without MPI support: rebuild with `cargo build --release --features mpi`",
                ));
            }
        })
    }
}
