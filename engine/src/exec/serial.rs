//! The serial executor: every chunk in order on the calling thread. The reference oracle of the tests.

use std::time::{Duration, Instant};

use super::{Cancel, ExecReport, Executor, OnPartial, Session};
use crate::error::Result;
use crate::kernel::compute_chunk;
use crate::plan::{Chunk, Pass, Plan};
use crate::store::Store;

/// Runs chunks one after another, in id order.
#[derive(Clone, Debug, Default)]
pub struct Serial {
    pub cancel: Cancel,
}

impl Executor for Serial {
    fn start<'a>(&'a self, plan: &'a Plan, store: &'a Store) -> Result<Box<dyn Session + 'a>> {
        Ok(Box::new(SerialSession {
            cancel: &self.cancel,
            plan,
            store,
            chunks: plan.chunks(),
            passes: 0,
            compute: Duration::ZERO,
            busy: Duration::ZERO,
        }))
    }
}

struct SerialSession<'a> {
    cancel: &'a Cancel,
    plan: &'a Plan,
    store: &'a Store,
    chunks: Vec<Chunk>,
    passes: usize,
    compute: Duration,
    /// Inside the kernel: `compute` minus the caller's `on_partial` (the merges).
    busy: Duration,
}

impl Session for SerialSession<'_> {
    fn run_pass(&mut self, pass: &Pass, on_partial: OnPartial<'_>) -> Result<()> {
        let start = Instant::now();
        self.plan.check_pass(pass)?;
        for chunk in &self.chunks {
            self.cancel.check()?;
            let computing = Instant::now();
            let partial = compute_chunk(self.plan, pass, self.store, chunk)?;
            self.busy += computing.elapsed();
            on_partial(chunk.id, partial)?;
        }
        self.passes += 1;
        self.compute += start.elapsed();
        Ok(())
    }

    fn report(&self) -> ExecReport {
        ExecReport {
            chunks: self.chunks.len(),
            passes: self.passes,
            workers: 1,
            elapsed: self.compute,
            compute: self.compute,
            busy: vec![self.busy],
            ..ExecReport::default()
        }
    }
}
