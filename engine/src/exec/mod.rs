//! Executors: run "compute the partial of chunk i" for every chunk and hand `(chunk id, partial)` to the
//! caller, which feeds the Aggregator.
//!
//! Only scheduling and transport differ between executors; all of them call
//! [`kernel::compute_chunk`](crate::kernel::compute_chunk). Completion order is free: determinism comes
//! from the Aggregator, never from the executor.

pub mod serial;
pub mod threads;

use std::time::Duration;

use crate::error::Result;
use crate::plan::Plan;
use crate::stats::PartialSet;
use crate::store::Store;

/// Receives each finished chunk; returning an error stops the run.
pub type OnPartial<'a> = &'a mut dyn FnMut(usize, PartialSet) -> Result<()>;

/// What a run did, for progress and benchmark reports.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExecReport {
    pub chunks: usize,
    pub workers: usize,
    pub elapsed: Duration,
}

/// A strategy for running the chunks of a plan.
pub trait Executor {
    /// Computes every chunk of `plan` over `store`, calling `on_partial` once per chunk, in any order.
    fn run(&self, plan: &Plan, store: &Store, on_partial: OnPartial<'_>) -> Result<ExecReport>;
}

/// The executors the CLI can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecutorKind {
    Serial,
    Threads,
}

impl ExecutorKind {
    pub fn build(self, workers: usize) -> Box<dyn Executor> {
        match self {
            ExecutorKind::Serial => Box::new(serial::Serial),
            ExecutorKind::Threads => Box::new(threads::Threads::new(workers)),
        }
    }
}
