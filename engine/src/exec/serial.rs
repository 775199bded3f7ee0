//! The serial executor: every chunk in order on the calling thread. The reference oracle of the tests.

use std::time::Instant;

use super::{Cancel, ExecReport, Executor, OnPartial};
use crate::error::Result;
use crate::kernel::compute_chunk;
use crate::plan::Plan;
use crate::store::Store;

/// Runs chunks one after another, in id order.
#[derive(Clone, Debug, Default)]
pub struct Serial {
    pub cancel: Cancel,
}

impl Executor for Serial {
    fn run(&self, plan: &Plan, store: &Store, on_partial: OnPartial<'_>) -> Result<ExecReport> {
        let start = Instant::now();
        let chunks = plan.chunks();
        for chunk in &chunks {
            self.cancel.check()?;
            on_partial(chunk.id, compute_chunk(plan, store, chunk))?;
        }
        Ok(ExecReport { chunks: chunks.len(), workers: 1, elapsed: start.elapsed() })
    }
}
