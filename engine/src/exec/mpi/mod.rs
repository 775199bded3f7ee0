//! The MPI executor (cargo feature `mpi`): the ranks of an MPI job run one analysis together.
//!
//! ```text
//!  rank r (every rank runs the same command line, opens and maps the input itself)
//!    start: all-gather a fingerprint of the plan ── any rank that differs ──► error naming it, on every rank
//!    per pass:
//!      next_step: rank 0 decides (Job::step on the merged previous pass) ──bcast──► other ranks follow
//!      run_pass:  threads executor (--workers N) over chunks [r·n/R, (r+1)·n/R) ──► local Aggregator
//!      finish_pass: binomial tree over ranks, round j: rank r + 2^j ──(its Aggregator's tree nodes)──►
//!                   rank r (r a multiple of 2^(j+1)): Aggregator::push_node ... ──► rank 0: the merged pass
//!        or, with group-by states: nodes cut by partition ──alltoallv──► rank q merges partitions
//!                   p % ranks == q ──send──► rank 0 joins the slices: the merged pass
//! ```
//!
//! Each rank takes a contiguous block of the fixed chunk list, so its chunks form whole subtrees of the
//! canonical merge tree (aggregate.rs), and so does every contiguous run of ranks: an Aggregator that is
//! handed the nodes of its neighbours merges exactly the siblings the local run merges, in the same order,
//! whichever rank does it. The result is bit-identical to a local run for any rank count; rank 0 receives
//! log2(ranks) messages. Only the main thread calls MPI (`MPI_THREAD_FUNNELED`); rayon's threads only
//! compute. A pass with group-by states (group-by, exact distinct, top-k: the states that grow with the
//! data) skips the tree: every rank cuts its nodes into one slice per rank by radix partition
//! (`stats::slices`), the ranks swap slices at once (`MPI_Alltoallv`), each merges the partitions it owns
//! in the canonical tree, and rank 0 gathers and joins the merged slices; the other ranks finish with the
//! empty state, so only rank 0, which prints, ever holds every group. What this module does not do: retry
//! a dead rank (MPI has no such thing: the job fails).

mod session;
mod wire;

use mpi::environment::{Threading, Universe};
use mpi::topology::SimpleCommunicator;
use mpi::traits::Communicator;

use super::threads::Threads;
use super::{Cancel, Executor, Session};
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::store::Store;

/// MPI initialised for this process: finalised when dropped. The CLI holds one for `--executor mpi`.
pub struct Runtime {
    _universe: Universe,
    rank: usize,
    size: usize,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").field("rank", &self.rank).field("size", &self.size).finish()
    }
}

impl Runtime {
    /// Initialises MPI (`MPI_Init_thread` with `MPI_THREAD_FUNNELED`: worker threads never call MPI).
    pub fn try_init() -> Result<Runtime> {
        let (universe, _) = mpi::initialize_with_threading(Threading::Funneled)
            .ok_or_else(|| Error::internal("MPI is already initialised in this process"))?;
        let world = universe.world();
        Ok(Runtime { rank: world.rank() as usize, size: world.size() as usize, _universe: universe })
    }

    /// This process's rank in `MPI_COMM_WORLD`.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// The number of ranks in the job.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Ends the whole job with `code` on every rank (`MPI_Abort`): a rank that fails alone must not leave
    /// the others waiting in a collective for ever.
    pub fn abort(&self, code: i32) -> ! {
        SimpleCommunicator::world().abort(code)
    }
}

/// Runs the rank's share of every pass on a local threads pool; see the module docs.
#[derive(Clone, Debug)]
pub struct Mpi {
    local: Threads,
    workers: usize,
}

impl Mpi {
    pub fn new(workers: usize, cancel: Cancel) -> Self {
        Mpi { local: Threads::new(workers, cancel), workers: workers.max(1) }
    }
}

impl Executor for Mpi {
    fn start<'a>(&'a self, plan: &'a Plan, store: &'a Store) -> Result<Box<dyn Session + 'a>> {
        if !mpi::environment::is_initialized() {
            return Err(Error::internal("--executor mpi needs MPI initialised first (exec::mpi::Runtime::try_init)"));
        }
        let session = session::MpiSession::try_start(&self.local, self.workers, plan, store)?;
        Ok(Box::new(session))
    }
}

/// The chunk ids of `rank` out of `ranks`: a contiguous block, sizes differing by at most one.
pub fn share(n_chunks: usize, rank: usize, ranks: usize) -> std::ops::Range<usize> {
    rank * n_chunks / ranks..(rank + 1) * n_chunks / ranks
}

#[cfg(test)]
mod tests {
    use super::share;

    #[test]
    fn shares_are_contiguous_and_cover_every_chunk_once() {
        for n in 0..50usize {
            for ranks in 1..9usize {
                let mut next = 0;
                for r in 0..ranks {
                    let s = share(n, r, ranks);
                    assert_eq!(s.start, next, "n = {n}, ranks = {ranks}");
                    assert!(s.len() == n / ranks || s.len() == n / ranks + 1);
                    next = s.end;
                }
                assert_eq!(next, n);
            }
        }
    }
}
