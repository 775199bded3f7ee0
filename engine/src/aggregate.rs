//! The Aggregator: merges chunk partials in a canonical balanced binary tree over chunk ids.
//!
//! ```text
//!   level 2:            [0..4)                     [4..5) promoted
//!                      /      \                        |
//!   level 1:      [0..2)      [2..4)               [4..5) promoted
//!                 /   \       /   \                    |
//!   level 0:     0     1     2     3                   4
//! ```
//!
//! Node `(level, k)` covers chunk ids `[k·2^level, (k+1)·2^level)`. A node is merged with its sibling (left
//! into right order, always) as soon as both exist, like carries in a binary counter; a node whose sibling
//! range is empty (past the last chunk) is promoted unchanged. The merge tree is therefore a function of
//! the chunk count alone, so the result is bit-identical whatever the order in which chunks arrive (rayon's
//! `reduce` gives no such promise, hence this). Memory: one pending node per level, plus the chunks that
//! arrived ahead of their siblings.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::stats::PartialSet;

/// Collects `(chunk id, partial)` pairs in any order and merges them canonically.
#[derive(Debug)]
pub struct Aggregator {
    n_chunks: usize,
    pending: HashMap<(u32, usize), PartialSet>,
    received: Vec<bool>,
    remaining: usize,
    root: Option<PartialSet>,
}

impl Aggregator {
    pub fn new(n_chunks: usize) -> Self {
        Aggregator {
            n_chunks,
            pending: HashMap::new(),
            received: vec![false; n_chunks],
            remaining: n_chunks,
            root: None,
        }
    }

    /// Adds chunk `id`'s partial. Each id must arrive exactly once.
    pub fn push(&mut self, id: usize, partial: PartialSet) -> Result<()> {
        self.push_node(Node { level: 0, index: id }, partial)
    }

    /// Adds an already merged node of the canonical tree (what [`into_nodes`](Self::into_nodes) of another
    /// aggregator over the same chunk count returned): the chunks it covers count as arrived. The MPI
    /// executor sends these instead of every chunk's partial, so the tree is the same one, spread over ranks.
    pub fn push_node(&mut self, node: Node, partial: PartialSet) -> Result<()> {
        let covered = node.chunks(self.n_chunks);
        if covered.is_empty() || (node.level > 0 && level_width(node.level - 1) >= self.n_chunks) {
            return Err(Error::internal(format!("{node:?} is not a node of a tree over {} chunks", self.n_chunks)));
        }
        for id in covered.clone() {
            if std::mem::replace(&mut self.received[id], true) {
                return Err(Error::internal(format!("chunk {id} arrived twice")));
            }
        }
        self.remaining -= covered.len();
        let (mut level, mut k, mut node) = (node.level, node.index, partial);
        loop {
            if level_width(level) >= self.n_chunks {
                self.root = Some(node);
                return Ok(());
            }
            let sibling = k ^ 1;
            if sibling * level_width(level) >= self.n_chunks {
                // Nothing will ever arrive on the right: promote.
            } else if let Some(other) = self.pending.remove(&(level, sibling)) {
                node = if k < sibling { merged(node, &other)? } else { merged(other, &node)? };
            } else {
                self.pending.insert((level, k), node);
                return Ok(());
            }
            level += 1;
            k >>= 1;
        }
    }

    /// Chunk ids not pushed yet.
    pub fn missing(&self) -> impl Iterator<Item = usize> + '_ {
        self.received.iter().enumerate().filter(|(_, seen)| !**seen).map(|(i, _)| i)
    }

    /// The nodes merged so far whose siblings have not arrived (the root too, once complete), in chunk
    /// order: after pushing a contiguous run of chunks, the O(log chunks) maximal tree nodes covering it.
    pub fn into_nodes(self) -> Vec<(Node, PartialSet)> {
        let mut nodes: Vec<(Node, PartialSet)> =
            self.pending.into_iter().map(|((level, index), p)| (Node { level, index }, p)).collect();
        if let Some(root) = self.root {
            nodes.push((Node { level: root_level(self.n_chunks), index: 0 }, root));
        }
        nodes.sort_by_key(|(node, _)| node.index << node.level);
        nodes
    }

    /// The merged result of every chunk, or `empty` when there were no chunks.
    pub fn finish(self, empty: PartialSet) -> Result<PartialSet> {
        if self.remaining > 0 {
            let first = self.missing().next().unwrap_or(0);
            return Err(Error::internal(format!("{} chunks never arrived (first: {first})", self.remaining)));
        }
        Ok(self.root.unwrap_or(empty))
    }
}

/// Node `(level, index)` of the canonical tree: it covers chunk ids `[index·2^level, (index+1)·2^level)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    pub level: u32,
    pub index: usize,
}

impl Node {
    /// The chunk ids this node covers in a tree over `n_chunks` chunks (empty when past the end).
    pub fn chunks(&self, n_chunks: usize) -> std::ops::Range<usize> {
        let start = self.index.saturating_mul(level_width(self.level)).min(n_chunks);
        let end = (self.index.saturating_add(1)).saturating_mul(level_width(self.level)).min(n_chunks);
        start..end
    }
}

/// The level at which the tree over `n_chunks` chunks has its root (the first whose width covers them all).
fn root_level(n_chunks: usize) -> u32 {
    (0..usize::BITS).find(|&l| level_width(l) >= n_chunks).unwrap_or(usize::BITS)
}

fn level_width(level: u32) -> usize {
    1usize.checked_shl(level).unwrap_or(usize::MAX)
}

fn merged(mut left: PartialSet, right: &PartialSet) -> Result<PartialSet> {
    left.merge(right)?;
    Ok(left)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{AnyPartial, Counts};

    /// Chunk `id` contributes bit `id`: the total shows every chunk merged exactly once.
    fn leaf(id: usize) -> PartialSet {
        PartialSet { rows: 1, stats: vec![AnyPartial::Counts(Counts { count: 1 << id, null_count: id as u64 })] }
    }

    #[test]
    fn every_chunk_is_merged_once_in_any_order() {
        for n in 1..40usize {
            let mut order: Vec<usize> = (0..n).collect();
            order.reverse();
            order.rotate_left(n / 3);
            let mut agg = Aggregator::new(n);
            for &i in &order {
                agg.push(i, leaf(i)).unwrap();
            }
            let total = agg.finish(leaf(0)).unwrap();
            let expected = Counts { count: (1u64 << n) - 1, null_count: (n * (n - 1) / 2) as u64 };
            assert_eq!((total.rows, &total.stats[0]), (n as u64, &AnyPartial::Counts(expected)), "n = {n}");
        }
    }

    /// Every split of the chunks into contiguous runs, each run merged by its own aggregator and shipped
    /// as nodes, must hand over exactly the maximal tree nodes inside the run (found here by brute force
    /// over all nodes: inside the run, parent not), and rebuild the total of one aggregator.
    #[test]
    fn nodes_of_contiguous_runs_are_the_maximal_tree_nodes() {
        fn inside(node: Node, run: &std::ops::Range<usize>, n: usize) -> bool {
            let c = node.chunks(n);
            !c.is_empty() && run.start <= c.start && c.end <= run.end
        }
        for n in 1..40usize {
            let top = root_level(n);
            for ranks in 1..=5usize {
                let mut root = Aggregator::new(n);
                for r in (0..ranks).rev() {
                    let run = r * n / ranks..(r + 1) * n / ranks;
                    let mut local = Aggregator::new(n);
                    run.clone().for_each(|id| local.push(id, leaf(id)).unwrap());
                    let nodes = local.into_nodes();
                    let got: Vec<Node> = nodes.iter().map(|(node, _)| *node).collect();
                    let mut expected = Vec::new();
                    for level in 0..=top {
                        for index in 0..n.div_ceil(level_width(level)) {
                            let node = Node { level, index };
                            let parent = Node { level: level + 1, index: index / 2 };
                            if inside(node, &run, n) && (level == top || !inside(parent, &run, n)) {
                                expected.push(node);
                            }
                        }
                    }
                    expected.sort_by_key(|node| node.index << node.level);
                    assert_eq!(got, expected, "n = {n}, run {run:?}");
                    for (node, partial) in nodes {
                        root.push_node(node, partial).unwrap();
                    }
                }
                let total = root.finish(leaf(0)).unwrap();
                assert_eq!(total.rows, n as u64, "n = {n}, ranks = {ranks}");
                assert_eq!(
                    total.stats[0],
                    AnyPartial::Counts(Counts { count: (1u64 << n) - 1, null_count: (n * (n - 1) / 2) as u64 })
                );
            }
        }
    }

    #[test]
    fn foreign_nodes_are_errors() {
        let mut agg = Aggregator::new(5);
        assert!(agg.push_node(Node { level: 1, index: 3 }, leaf(0)).is_err(), "past the end");
        assert!(agg.push_node(Node { level: 4, index: 0 }, leaf(0)).is_err(), "above the root");
        agg.push_node(Node { level: 1, index: 1 }, leaf(2)).unwrap();
        assert!(agg.push(3, leaf(3)).is_err(), "covered by the node");
    }

    #[test]
    fn duplicates_and_gaps_are_errors() {
        let mut agg = Aggregator::new(3);
        agg.push(1, leaf(1)).unwrap();
        assert!(agg.push(1, leaf(1)).is_err());
        assert!(agg.push(3, leaf(3)).is_err());
        assert_eq!(agg.missing().collect::<Vec<_>>(), vec![0, 2]);
        assert!(agg.finish(leaf(0)).is_err());
    }
}
