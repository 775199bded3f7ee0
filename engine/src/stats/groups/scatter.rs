//! A piece's rows in partition order, values carried along: the high-cardinality path of
//! `Groups::update` for a partitioned state with one fixed-width key.
//!
//! ```text
//!  keys ──hash──► partition of every row ──counting sort──► (key, hash) per partition, rows ascending
//!  value column ─────────────────────────── same order ───► values per partition, read front to back
//! ```
//!
//! Why: a million-row piece of a million-group key touches some 600,000 groups. Probing and accumulating
//! partition by partition keeps each partition's table and accumulators in cache, but only if the values
//! arrive in that order too: gathering them by row afterwards misses the cache on every row (the piece's
//! column is megabytes). Each column is read once, in row order, and written to 64 sequential streams.
//! The sort is stable, so every group still sees its rows in row order.

use super::assign::{FixedElem, bit};
use super::keys::hash_word;
use super::partition;

/// Partition of a row that is not an item (filtered out, or a null key).
const SKIP: u8 = u8::MAX;

/// The items of a piece (selected rows with a non-null key) in partition order.
pub(super) struct Scattered {
    /// Partition of each row of the piece, [`SKIP`] for rows that are not items.
    part_of: Vec<u8>,
    /// Where each partition's items start; `parts + 1` entries.
    pub starts: Vec<usize>,
    /// `(key bits, key hash)` of each item.
    pub keys: Vec<(u64, u64)>,
}

impl Scattered {
    /// Scatters the keys `xs` into `parts` partitions (at most 255); `key_valid` and `selection` are
    /// validity words (`None`: every row).
    pub(super) fn of<T: FixedElem>(
        xs: &[T],
        key_valid: Option<&[u64]>,
        selection: Option<&[u64]>,
        parts: usize,
    ) -> Scattered {
        debug_assert!(parts < usize::from(SKIP));
        let mut part_of = vec![SKIP; xs.len()];
        let mut hashes = vec![0u64; xs.len()];
        let mut counts = vec![0usize; parts];
        for (i, x) in xs.iter().enumerate() {
            if bit(selection, i) && bit(key_valid, i) {
                let h = hash_word(x.bits());
                let p = partition(h, parts);
                part_of[i] = p as u8;
                hashes[i] = h;
                counts[p] += 1;
            }
        }
        let starts = starts_of(&counts);
        let mut next = starts.clone();
        let mut keys = vec![(0u64, 0u64); starts[parts]];
        for ((x, &p), &h) in xs.iter().zip(&part_of).zip(&hashes) {
            if p != SKIP {
                let slot = &mut next[usize::from(p)];
                keys[*slot] = (x.bits(), h);
                *slot += 1;
            }
        }
        Scattered { part_of, starts, keys }
    }

    /// The items' values of one column (`values[row]` converted by `f`), in item order.
    pub(super) fn values<T: Copy, U: Copy + Default>(&self, values: &[T], f: impl Fn(T) -> U) -> Vec<U> {
        let mut next = self.starts.clone();
        let mut out = vec![U::default(); self.keys.len()];
        for (&x, &p) in values.iter().zip(&self.part_of) {
            if p != SKIP {
                let slot = &mut next[usize::from(p)];
                out[*slot] = f(x);
                *slot += 1;
            }
        }
        out
    }

    /// Whether each item's value is valid, in item order (`None` when every value is).
    pub(super) fn validity(&self, words: Option<&[u64]>) -> Option<Vec<bool>> {
        let words = words?;
        let mut next = self.starts.clone();
        let mut out = vec![false; self.keys.len()];
        for (i, &p) in self.part_of.iter().enumerate() {
            if p != SKIP {
                let slot = &mut next[usize::from(p)];
                out[*slot] = bit(Some(words), i);
                *slot += 1;
            }
        }
        Some(out)
    }

    /// The item range of partition `p`.
    pub(super) fn range(&self, p: usize) -> std::ops::Range<usize> {
        self.starts[p]..self.starts[p + 1]
    }
}

fn starts_of(counts: &[usize]) -> Vec<usize> {
    let mut starts = Vec::with_capacity(counts.len() + 1);
    let mut total = 0;
    starts.push(0);
    for c in counts {
        total += c;
        starts.push(total);
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against a plain loop: every item once, in its partition, rows ascending within each.
    #[test]
    fn items_are_grouped_by_partition_in_row_order() {
        let xs: Vec<i64> = (0..1000).map(|i| (i * 7919) % 613 - 300).collect();
        let key_valid: Vec<u64> = (0..16).map(|w| !(1u64 << (w % 64))).collect();
        let selection: Vec<u64> = (0..16).map(|w| if w == 3 { 0 } else { u64::MAX }).collect();
        let s = Scattered::of(&xs, Some(&key_valid), Some(&selection), 64);
        let rows: Vec<usize> = s.values(&(0..xs.len()).collect::<Vec<_>>(), |r| r);
        let valid = s.validity(Some(&key_valid)).expect("words given");
        let mut expected: Vec<(usize, usize)> = (0..xs.len())
            .filter(|&i| bit(Some(&selection), i) && bit(Some(&key_valid), i))
            .map(|i| (partition(hash_word(xs[i].bits()), 64), i))
            .collect();
        expected.sort();
        assert_eq!(s.keys.len(), expected.len());
        for (k, &(p, row)) in expected.iter().enumerate() {
            assert!(s.range(p).contains(&k), "item {k} of partition {p}");
            assert_eq!((rows[k], s.keys[k]), (row, (xs[row].bits(), hash_word(xs[row].bits()))));
            assert!(valid[k]);
        }
    }
}
