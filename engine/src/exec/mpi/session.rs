//! One rank's MPI session: its block of chunks on the local threads pool, the pass's tree nodes merged up
//! a binomial tree of ranks to rank 0, and the run's steps decided at rank 0 and broadcast (see the module
//! docs of `exec::mpi`).

use std::time::{Duration, Instant};

use mpi::topology::SimpleCommunicator;
use mpi::traits::Communicator;

use super::wire::{self, ROOT};
use crate::aggregate::{Aggregator, Node};
use crate::analysis::Step;
use crate::error::{Error, ErrorKind, Result};
use crate::exec::threads::Threads;
use crate::exec::{ExecReport, OnPartial, Session};
use crate::plan::{Pass, Plan};
use crate::stats::{self, PartialSet};
use crate::store::Store;

pub(super) struct MpiSession<'a> {
    world: SimpleCommunicator,
    rank: usize,
    ranks: usize,
    local: Box<dyn Session + 'a>,
    chunks: usize,
    workers: usize,
    passes: usize,
    busy: Duration,
}

impl<'a> MpiSession<'a> {
    /// Checks that every rank planned the same run (same input shape, columns, filter and chunks), then
    /// starts the local pool over this rank's share of the chunks.
    pub(super) fn try_start(local: &'a Threads, workers: usize, plan: &'a Plan, store: &'a Store) -> Result<Self> {
        let world = SimpleCommunicator::world();
        let (rank, ranks) = (world.rank() as usize, world.size() as usize);
        let fingerprint = u64::from(crc32fast::hash(&stats::encode(plan)?)) | (plan.num_rows << 32);
        let all = wire::all_gather(&world, fingerprint);
        let differ: Vec<String> =
            all.iter().enumerate().filter(|(_, f)| **f != all[0]).map(|(r, _)| r.to_string()).collect();
        if !differ.is_empty() {
            return Err(Error::input(format!(
                "{} {} planned a different run than rank 0 (another input, row count, column set or --where): \
                 every rank must read the same file (see README, \"Clusters (MPI)\")",
                if differ.len() == 1 { "rank" } else { "ranks" },
                differ.join(", ")
            )));
        }
        let all_chunks = plan.chunks();
        let mine = all_chunks[super::share(all_chunks.len(), rank, ranks)].to_vec();
        tracing::debug!(
            "rank {rank} of {ranks}: chunks {:?} of {}",
            super::share(all_chunks.len(), rank, ranks),
            all_chunks.len()
        );
        let local = local.start_over(plan, store, mine)?;
        Ok(MpiSession { world, rank, ranks, local, chunks: all_chunks.len(), workers, passes: 0, busy: Duration::ZERO })
    }

    fn is_root(&self) -> bool {
        self.rank == ROOT as usize
    }
}

impl Session for MpiSession<'_> {
    fn run_pass(&mut self, pass: &Pass, on_partial: OnPartial<'_>) -> Result<()> {
        let start = Instant::now();
        self.local.run_pass(pass, on_partial)?;
        self.busy += start.elapsed();
        Ok(())
    }

    /// Merges the pass over the ranks in a binomial tree: in round j, rank r (a multiple of 2^(j+1))
    /// receives the tree nodes of ranks [r + 2^j, r + 2^(j+1)) from rank r + 2^j and pushes them into its
    /// aggregator, which merges whatever siblings now meet; the other ranks send theirs and are done. Every
    /// merge is still the canonical tree's (it is a function of node positions only), so the result is the
    /// same bits as a local run, while rank 0 receives log2(ranks) messages instead of one per rank and the
    /// merges of the upper tree run on many ranks at once.
    fn finish_pass(&mut self, mut aggregator: Aggregator, empty: PartialSet) -> Result<Option<PartialSet>> {
        let start = Instant::now();
        let pass = self.passes;
        self.passes += 1;
        let (mut received, mut bytes) = (0usize, 0usize);
        let mut step = 1;
        while step < self.ranks {
            if !self.rank.is_multiple_of(2 * step) {
                let nodes = aggregator.into_nodes();
                let message = stats::encode(&nodes)?;
                wire::send(&self.world, self.rank - step, &message);
                tracing::debug!(
                    "rank {}: pass {pass}: sent {} tree nodes, {} bytes to rank {}",
                    self.rank,
                    nodes.len(),
                    message.len(),
                    self.rank - step
                );
                self.busy += start.elapsed();
                return Ok(None);
            }
            let peer = self.rank + step;
            if peer < self.ranks {
                let message = wire::receive(&self.world, peer);
                let nodes: Vec<(Node, PartialSet)> =
                    stats::decode(&message).map_err(|e| e.with_worker(format!("rank {peer}")))?;
                (received, bytes) = (received + nodes.len(), bytes + message.len());
                for (node, partial) in nodes {
                    aggregator.push_node(node, partial).map_err(|e| e.with_worker(format!("rank {peer}")))?;
                }
            }
            step *= 2;
        }
        let merged = aggregator.finish(empty)?;
        tracing::debug!(
            "pass {pass}: rank 0 received {received} tree nodes, {bytes} bytes, in {} rounds, {:.3} s",
            self.ranks.next_power_of_two().trailing_zeros(),
            start.elapsed().as_secs_f64()
        );
        self.busy += start.elapsed();
        Ok(Some(merged))
    }

    /// Rank 0 decides and broadcasts; the others take its step. A last step that leaves the final state
    /// with rank 0 (`Done`) reaches the others as `Finish` with that state, so every rank ends the run
    /// with the same result.
    fn next_step(
        &mut self,
        previous: Option<&PartialSet>,
        decide: &mut dyn FnMut(Option<&PartialSet>) -> Result<Step>,
    ) -> Result<Step> {
        let start = Instant::now();
        let step = if self.is_root() {
            let step = decide(previous)?;
            let shared = match (&step, previous) {
                (Step::Done(resolved), Some(state)) => stats::encode(&Step::Finish(resolved.clone(), state.clone()))?,
                _ => stats::encode(&step)?,
            };
            let bytes = wire::broadcast(&self.world, shared);
            tracing::debug!("next step after {} passes: broadcast {} bytes", self.passes, bytes.len());
            step
        } else {
            let bytes = wire::broadcast(&self.world, Vec::new());
            stats::decode(&bytes)
                .map_err(|e| Error::new(ErrorKind::Protocol, format!("cannot read rank 0's next step: {e}")))?
        };
        self.busy += start.elapsed();
        Ok(step)
    }

    fn report(&self) -> ExecReport {
        // The time split and busy times are this rank's own threads'; the counts are the job's.
        ExecReport {
            chunks: self.chunks,
            passes: self.passes,
            workers: self.workers * self.ranks,
            spawned: 0,
            elapsed: self.busy,
            ..self.local.report()
        }
    }
}
