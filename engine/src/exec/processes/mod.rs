//! The processes executor: a pool of worker processes over shared memory (see README.md beside this file).
//!
//! Workers are the same binary re-executed with a hidden subcommand (never a bare `fork()` of a
//! multi-threaded parent). Each maps the same data (the input file's page cache, or the inherited sealed
//! memfd), receives chunk ids over a pipe and answers with partial states; the parent only merges.

mod fault;
mod protocol;
mod supervisor;
mod worker;

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

pub use fault::FAULT_ENV;
pub use protocol::PROTOCOL_VERSION;
pub use worker::worker_main;

use super::{Cancel, ExecReport, Executor, OnPartial};
use crate::error::Result;
use crate::plan::Plan;
use crate::store::Store;

/// How to start a worker: a program and the arguments that make it run [`worker_main`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerCommand {
    pub program: PathBuf,
    pub args: Vec<OsString>,
}

/// Runs chunks in `workers` child processes, redoing the chunks of any worker that dies.
#[derive(Clone, Debug)]
pub struct Processes {
    pub command: WorkerCommand,
    pub workers: usize,
    /// A worker busy on one chunk for longer than this is killed and its chunk retried.
    pub chunk_timeout: Option<Duration>,
    /// Deaths a chunk may cause before the run fails naming it.
    pub max_attempts: u32,
    pub cancel: Cancel,
}

/// Attempts per chunk before it is declared poisonous.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

impl Executor for Processes {
    fn run(&self, plan: &Plan, store: &Store, on_partial: OnPartial<'_>) -> Result<ExecReport> {
        supervisor::run(self, plan, store, on_partial)
    }
}
