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
        match self.received.get_mut(id) {
            None => return Err(Error::internal(format!("chunk {id} is out of range (0..{})", self.n_chunks))),
            Some(true) => return Err(Error::internal(format!("chunk {id} arrived twice"))),
            Some(seen) => *seen = true,
        }
        self.remaining -= 1;
        let (mut level, mut k, mut node) = (0u32, id, partial);
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

    /// The merged result of every chunk, or `empty` when there were no chunks.
    pub fn finish(self, empty: PartialSet) -> Result<PartialSet> {
        if self.remaining > 0 {
            let first = self.missing().next().unwrap_or(0);
            return Err(Error::internal(format!("{} chunks never arrived (first: {first})", self.remaining)));
        }
        Ok(self.root.unwrap_or(empty))
    }
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
