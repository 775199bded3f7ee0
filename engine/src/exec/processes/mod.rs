//! The processes executor: a pool of worker processes over shared memory (see README.md beside this file).
//!
//! Workers are the same binary re-executed with a hidden subcommand (never a bare `fork()` of a
//! multi-threaded parent). Each maps the same data (the input file's page cache, or the inherited sealed
//! memfd), receives chunk ids over a pipe and answers with partial states; the parent only merges.

mod chunk_queue;
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

use super::{Cancel, Executor, Session};
use crate::error::Result;
use crate::plan::Plan;
use crate::store::Store;

/// How to start a worker: a program and the arguments that make it run [`worker_main`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerCommand {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// Extra environment for the workers (tests inject faults with [`FAULT_ENV`] this way).
    pub env: Vec<(OsString, OsString)>,
}

impl WorkerCommand {
    /// `program` re-executed with `args`, inheriting our environment.
    pub fn new(program: PathBuf, args: Vec<OsString>) -> Self {
        WorkerCommand { program, args, env: Vec::new() }
    }
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
    /// Pin worker `i` (by spawn order, replacements included) to `pin[i mod n]` right after it starts
    /// (empty: no pinning; see [`crate::exec::pin`]).
    pub pin: Vec<usize>,
}

/// Attempts per chunk before it is declared poisonous.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

impl Executor for Processes {
    fn start<'a>(&'a self, plan: &'a Plan, store: &'a Store) -> Result<Box<dyn Session + 'a>> {
        Ok(Box::new(supervisor::start(self, plan, store)?))
    }
}
