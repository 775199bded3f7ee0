//! Which chunk a worker gets next, within one pass.
//!
//! Page tables are per process: a chunk that worker A computed in an earlier pass has its file pages
//! mapped in A, and handing it to worker B makes B fault the same pages in again (fault-around maps
//! 64 KiB per fault; on the 50M-row quantile run the file faults and their unmapping at exit were about a
//! fifth of the CPU time). So a later pass first hands each worker the chunks it computed before, in chunk
//! order; then chunks nobody owns (first pass, requeued chunks, chunks of dead workers); and a worker
//! with nothing left steals from the back of the longest other list, so no worker idles while another
//! has a backlog. Results do not depend on any of this: partials are merged by chunk id.

use std::collections::{BTreeMap, VecDeque};

/// The chunks of one pass still to hand out.
#[derive(Debug, Default)]
pub(super) struct ChunkQueue {
    shared: VecDeque<usize>,
    /// Per live worker id: the chunks it computed in an earlier pass, ascending.
    own: BTreeMap<usize, VecDeque<usize>>,
}

impl ChunkQueue {
    /// All of `chunks` (ascending ids); `owner[c]` is the worker that last computed chunk `c`, if it is
    /// among the `live` workers.
    pub(super) fn new(chunks: impl IntoIterator<Item = usize>, owner: &[Option<usize>], live: &[usize]) -> Self {
        let mut queue = ChunkQueue::default();
        for c in chunks {
            match owner.get(c).copied().flatten().filter(|w| live.contains(w)) {
                Some(w) => queue.own.entry(w).or_default().push_back(c),
                None => queue.shared.push_back(c),
            }
        }
        queue
    }

    /// The next chunk for `worker`: its own first, then unowned ones, then stolen ones.
    pub(super) fn next_for(&mut self, worker: usize) -> Option<usize> {
        if let Some(c) = self.own.get_mut(&worker).and_then(VecDeque::pop_front) {
            return Some(c);
        }
        if let Some(c) = self.shared.pop_front() {
            return Some(c);
        }
        let victim = self.own.values_mut().max_by_key(|q| q.len())?;
        victim.pop_back()
    }

    /// A chunk back to be computed again (its worker died): handed out before anything else unowned.
    pub(super) fn requeue(&mut self, chunk: usize) {
        self.shared.push_front(chunk);
    }

    /// `worker` is gone: its chunks become unowned.
    pub(super) fn forget(&mut self, worker: usize) {
        if let Some(mine) = self.own.remove(&worker) {
            self.shared.extend(mine);
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.shared.is_empty() && self.own.values().all(VecDeque::is_empty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(q: &mut ChunkQueue, worker: usize) -> Vec<usize> {
        std::iter::from_fn(|| q.next_for(worker)).collect()
    }

    #[test]
    fn first_pass_hands_out_in_chunk_order() {
        let mut q = ChunkQueue::new(0..5, &[], &[0, 1]);
        assert_eq!(q.next_for(1), Some(0));
        assert_eq!(q.next_for(0), Some(1));
        assert_eq!(drain(&mut q, 1), [2, 3, 4]);
        assert!(q.is_empty());
    }

    #[test]
    fn a_later_pass_prefers_the_chunks_a_worker_computed_before() {
        // Chunks 0, 2, 4 were worker 0's, 1 and 3 worker 1's, 5 nobody's (its worker died).
        let owner = [Some(0), Some(1), Some(0), Some(1), Some(0), Some(7)];
        let mut q = ChunkQueue::new(0..6, &owner, &[0, 1]);
        assert_eq!(q.next_for(1), Some(1));
        assert_eq!(q.next_for(0), Some(0));
        assert_eq!(q.next_for(1), Some(3));
        // Worker 1 has none of its own left: the unowned chunk, then it steals from worker 0's back.
        assert_eq!(q.next_for(1), Some(5));
        assert_eq!(q.next_for(1), Some(4));
        assert_eq!(q.next_for(0), Some(2));
        assert_eq!(q.next_for(0), None);
        assert!(q.is_empty());
    }

    #[test]
    fn requeued_and_forgotten_chunks_go_to_whoever_asks() {
        let owner = [Some(0), Some(0), Some(1)];
        let mut q = ChunkQueue::new(0..3, &owner, &[0, 1]);
        assert_eq!(q.next_for(0), Some(0));
        q.requeue(0);
        q.forget(0);
        // Worker 1 first takes its own chunk, then the requeued one ahead of worker 0's former chunk.
        assert_eq!(drain(&mut q, 1), [2, 0, 1]);
    }

    #[test]
    fn every_chunk_is_handed_out_exactly_once() {
        let owner: Vec<Option<usize>> = (0..100).map(|c| Some(c * 7 % 3)).collect();
        let mut q = ChunkQueue::new(0..100, &owner, &[0, 2]);
        let mut seen = Vec::new();
        for turn in 0.. {
            let Some(c) = q.next_for([0, 2, 2][turn % 3]) else { break };
            seen.push(c);
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..100).collect::<Vec<_>>());
    }
}
