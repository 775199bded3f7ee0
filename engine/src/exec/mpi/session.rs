//! One rank's MPI session: its block of chunks on the local threads pool, the pass's tree nodes merged up
//! a binomial tree of ranks to rank 0 (or, for group-by states, exchanged partition by partition and
//! merged on every rank at once), and the run's steps decided at rank 0 and broadcast (see the module
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
use crate::stats::{self, PartialSet, slices};
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
    /// The empty state of the last pass that exchanged group-by partitions: what the other ranks finish
    /// with, since only rank 0 ever holds every group.
    exchanged: Option<PartialSet>,
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
        Ok(MpiSession {
            world,
            rank,
            ranks,
            local,
            chunks: all_chunks.len(),
            workers,
            passes: 0,
            busy: Duration::ZERO,
            exchanged: None,
        })
    }

    fn is_root(&self) -> bool {
        self.rank == ROOT as usize
    }

    /// The partition exchange of a pass with group-by states: every rank cuts its tree nodes into one
    /// slice per rank (`stats::slices`: rank q gets partitions `p % ranks == q`, rank 0 the other entries
    /// too), all ranks swap slices at once (`MPI_Alltoallv`), each merges the slices it owns in the
    /// canonical tree (the same merges as a local run, partition by partition), and rank 0 gathers the
    /// merged slices and joins them. No rank merges more than its share of the groups; rank 0 receives
    /// every group once, merged, because it finishes and prints the result.
    fn exchange_partitions(
        &mut self,
        pass: usize,
        aggregator: Aggregator,
        empty: &PartialSet,
    ) -> Result<Option<PartialSet>> {
        let mut outgoing: Vec<Vec<(Node, PartialSet)>> = (0..self.ranks).map(|_| Vec::new()).collect();
        for (node, set) in aggregator.into_nodes() {
            for (to, slice) in outgoing.iter_mut().zip(slices::cut(set, empty, self.ranks)?) {
                to.push((node, slice));
            }
        }
        let messages = outgoing.iter().map(stats::encode).collect::<Result<Vec<_>>>()?;
        drop(outgoing);
        let incoming = wire::all_to_all(&self.world, &messages);
        let mut mine = Aggregator::new(self.chunks);
        for (peer, bytes) in incoming.iter().enumerate() {
            let from = |e: Error| e.with_worker(format!("rank {peer}"));
            let nodes: Vec<(Node, PartialSet)> = stats::decode(bytes).map_err(from)?;
            for (node, slice) in nodes {
                mine.push_node(node, slice).map_err(from)?;
            }
        }
        let merged = mine.finish(empty.clone())?;
        tracing::debug!(
            "rank {}: pass {pass}: exchanged group-by partitions: sent {} bytes, received {} bytes",
            self.rank,
            messages.iter().map(Vec::len).sum::<usize>(),
            incoming.iter().map(Vec::len).sum::<usize>()
        );
        if !self.is_root() {
            let message = stats::encode(&merged)?;
            wire::send(&self.world, ROOT as usize, &message);
            tracing::debug!(
                "rank {}: pass {pass}: sent its merged partitions, {} bytes, to rank 0",
                self.rank,
                message.len()
            );
            return Ok(None);
        }
        let mut parts = vec![merged];
        for peer in 1..self.ranks {
            let message = wire::receive(&self.world, peer);
            parts.push(stats::decode(&message).map_err(|e| e.with_worker(format!("rank {peer}")))?);
        }
        Ok(Some(slices::join(parts)?))
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
        self.exchanged = None;
        if self.ranks > 1 && self.chunks > 0 && slices::has_groups(&empty) {
            let merged = self.exchange_partitions(pass, aggregator, &empty);
            self.exchanged = Some(empty);
            self.busy += start.elapsed();
            return merged;
        }
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

    /// Rank 0 decides and broadcasts; with a group-by state in the last pass, the other ranks finish with
    /// its empty state instead of a copy of every group (they print nothing). the others take its step. A last step that leaves the final state
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
                (Step::Done(resolved), Some(state)) => {
                    let shared = match &self.exchanged {
                        Some(empty) => PartialSet { rows: state.rows, stats: empty.stats.clone() },
                        None => state.clone(),
                    };
                    stats::encode(&Step::Finish(resolved.clone(), shared))?
                }
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
