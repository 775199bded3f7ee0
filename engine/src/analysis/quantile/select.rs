//! Exact selection of order statistics by radix refinement over order keys, a few parallel passes, memory
//! independent of the column's length.
//!
//! ```text
//!  pass 1   KeyHistogram: counts by the top 16 key bits, global min/max key   ─► bucket of each wanted rank
//!  pass 2+  KeyWindows over those buckets only: either 2^16 sub-buckets with     ─► narrower bucket, or the
//!           their min/max key, or (at most COLLECT_LIMIT keys) the keys             keys: exact select
//! ```
//!
//! A rank is answered as soon as its bucket holds a single key (equal values: constant and heavily
//! duplicated columns finish early), or sits at the bucket's first or last position (whose key, the
//! bucket's min or max, is known), or when its bucket's keys are collected. A window always spans only the
//! keys actually seen in its bucket (`min..=max`), so integers packed in a narrow range (all sharing their top
//! 16 bits) are resolved in the second pass, and sorted or reverse-sorted input behaves as any other: the
//! counts do not depend on the order of the rows.
//!
//! Memory, independent of the column's length. One chunk's state: the pass-1 table (2^16 counts, 512 KiB)
//! or, later, 24 bytes per sub-bucket of each window (1.5 MiB per window), plus its share of at most
//! `COLLECT_LIMIT` collected keys (8 MiB) per window; a window per wanted rank at most, usually fewer since
//! nearby ranks share one. A worker holds one chunk's state and the frame that carries it: at most
//! `2 · W · 9.5 MiB` for W windows. The parent holds the Aggregator's pending nodes (one per level of the
//! merge tree, `⌈log2 chunks⌉ + 1`, plus the chunks that arrive ahead of their siblings, at most two per
//! worker), each with its own sub-bucket counts, and the collected keys twice at most (merged and being
//! merged): `W · ((levels + 1 + 2 · workers) · 1.5 MiB + 16 MiB)`. Measured with `-v` (exec/memory.rs) and
//! checked on 32M rows by cli/tests/integration/memory.rs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::stats::key_histogram::KeyHistogram;
use crate::stats::key_windows::{KeyWindows, Window, WindowState};
use crate::stats::order_key::KeyDomain;

/// Bits of the pass-1 table.
pub const FIRST_PASS_BITS: u32 = 16;

/// Largest window whose keys are collected rather than counted again.
pub const COLLECT_LIMIT: u64 = 1 << 20;

/// What the selection learned about a column in its first pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counted {
    /// Non-null, non-NaN values.
    pub count: u64,
    pub null_count: u64,
    pub nan_count: u64,
}

/// A key range that holds wanted ranks: `base` values lie below `lo`, `count` inside `lo..=hi`.
#[derive(Clone, Debug)]
struct Target {
    lo: u64,
    hi: u64,
    base: u64,
    count: u64,
    ranks: Vec<u64>,
}

/// The selection state of one column across passes.
#[derive(Clone, Debug)]
pub struct Selector {
    domain: KeyDomain,
    counted: Option<Counted>,
    answers: BTreeMap<u64, u64>,
    targets: Vec<Target>,
    /// The windows of the pass in flight, matching `targets`.
    windows: Vec<Window>,
    passes: u32,
    collect_limit: u64,
}

impl Selector {
    /// A selection whose windows collect at most `collect_limit` keys each.
    pub fn new(domain: KeyDomain, collect_limit: u64) -> Self {
        Selector {
            domain,
            counted: None,
            answers: BTreeMap::new(),
            targets: Vec::new(),
            windows: Vec::new(),
            passes: 0,
            collect_limit,
        }
    }

    pub fn domain(&self) -> KeyDomain {
        self.domain
    }

    /// Passes this selection has consumed.
    pub fn passes(&self) -> u32 {
        self.passes
    }

    pub fn counted(&self) -> Option<Counted> {
        self.counted
    }

    /// Takes the first pass's histogram; `ranks(count)` says which ranks are wanted.
    pub fn start(&mut self, h: &KeyHistogram, ranks: impl FnOnce(u64) -> Vec<u64>) {
        self.passes += 1;
        let counted = Counted { count: h.count(), null_count: h.null_count, nan_count: h.nan_count };
        self.counted = Some(counted);
        let Some((min, max)) = h.key_range() else { return };
        let mut wanted = ranks(counted.count);
        wanted.sort_unstable();
        wanted.dedup();
        let counts = h.counts();
        let buckets = counts.iter().enumerate().filter(|(_, c)| **c > 0).map(|(b, &c)| {
            let (lo, hi) = h.bucket_keys(b);
            // Only the outermost edges are known keys (the global min and max); inner edges are bounds.
            let lo_exact = lo <= min;
            let hi_exact = hi >= max;
            Bucket { count: c, lo: lo.max(min), hi: hi.min(max), lo_exact, hi_exact }
        });
        self.place(&wanted, 0, buckets);
        self.plan_windows();
    }

    /// The windows of the next pass (empty: every rank is answered).
    pub fn windows(&self) -> &[Window] {
        &self.windows
    }

    pub fn is_done(&self) -> bool {
        self.counted.is_some() && self.targets.is_empty()
    }

    /// Takes a window pass's merged state.
    pub fn refine(&mut self, state: &KeyWindows) -> Result<()> {
        self.passes += 1;
        let targets = std::mem::take(&mut self.targets);
        self.windows.clear();
        if state.windows.len() != targets.len() {
            return Err(Error::internal(format!(
                "quantile pass returned {} windows for {} targets",
                state.windows.len(),
                targets.len()
            )));
        }
        for (target, found) in targets.iter().zip(&state.windows) {
            match found {
                WindowState::Keys(keys) => self.select(target, keys)?,
                WindowState::Counts(s) => {
                    if s.counts.iter().sum::<u64>() != target.count {
                        return Err(Error::internal("a quantile window's counts changed between passes"));
                    }
                    let buckets = (0..s.counts.len()).filter(|&b| s.counts[b] > 0).map(|b| Bucket {
                        count: s.counts[b],
                        lo: s.min[b],
                        hi: s.max[b],
                        lo_exact: true,
                        hi_exact: true,
                    });
                    self.place(&target.ranks, target.base, buckets);
                }
            }
        }
        self.plan_windows();
        Ok(())
    }

    /// The key at `rank`, once answered.
    pub fn key(&self, rank: u64) -> Option<u64> {
        self.answers.get(&rank).copied()
    }

    /// Assigns each of `ranks` (sorted) to its bucket: answered, or a target for the next pass.
    fn place(&mut self, ranks: &[u64], base: u64, buckets: impl Iterator<Item = Bucket>) {
        let mut start = base;
        let mut ranks = ranks.iter().copied().peekable();
        for b in buckets {
            let end = start + b.count;
            let mut inside = Vec::new();
            while let Some(&r) = ranks.peek() {
                if r >= end {
                    break;
                }
                ranks.next();
                if b.lo == b.hi || (r == start && b.lo_exact) {
                    self.answers.insert(r, b.lo);
                } else if r == end - 1 && b.hi_exact {
                    self.answers.insert(r, b.hi);
                } else {
                    inside.push(r);
                }
            }
            if !inside.is_empty() {
                self.targets.push(Target { lo: b.lo, hi: b.hi, base: start, count: b.count, ranks: inside });
            }
            start = end;
        }
    }

    fn plan_windows(&mut self) {
        self.windows = self
            .targets
            .iter()
            .map(|t| {
                if t.count <= self.collect_limit {
                    Window::collecting(t.lo, t.hi)
                } else {
                    Window::counting(t.lo, t.hi)
                }
            })
            .collect();
    }

    /// Exact selection among a target's collected keys.
    fn select(&mut self, target: &Target, keys: &[u64]) -> Result<()> {
        if keys.len() as u64 != target.count {
            return Err(Error::internal(format!(
                "a quantile window collected {} keys, its count was {}",
                keys.len(),
                target.count
            )));
        }
        let mut keys = keys.to_vec();
        // Successive partitions, each over what lies right of the previous rank.
        let mut from = 0usize;
        for &r in &target.ranks {
            let i = (r - target.base) as usize;
            let (_, key, _) = keys[from..].select_nth_unstable(i - from);
            self.answers.insert(r, *key);
            from = i;
        }
        Ok(())
    }
}

/// One non-empty bucket: its count and the keys bounding it (`*_exact`: that bound is a key present).
struct Bucket {
    count: u64,
    lo: u64,
    hi: u64,
    lo_exact: bool,
    hi_exact: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::key_windows::KeyWindows;
    use crate::stats::numeric::NumericChunk;
    use crate::store::ColumnChunk;

    /// Runs the selection over one in-memory column, as the run loop would over chunks.
    fn select_all(xs: &'static [i64], ranks: Vec<u64>) -> (Selector, u32) {
        let chunk = || NumericChunk::I64(ColumnChunk::new(xs, None));
        let mut h = KeyHistogram::new(FIRST_PASS_BITS);
        h.update(chunk(), false);
        let mut s = Selector::new(KeyDomain::Signed, 100);
        s.start(&h, |_| ranks);
        while !s.is_done() {
            let mut w = KeyWindows::default();
            w.update(s.windows(), chunk());
            s.refine(&w).unwrap();
        }
        let passes = s.passes();
        (s, passes)
    }

    #[test]
    fn narrow_integers_resolve_in_two_passes() {
        let xs: &'static [i64] = Box::leak((0..10_000).map(|i| (i * 7919) % 1000).collect::<Vec<_>>().into());
        let mut sorted = xs.to_vec();
        sorted.sort();
        let ranks: Vec<u64> = vec![0, 1, 4999, 5000, 9998, 9999];
        let (s, passes) = select_all(xs, ranks.clone());
        assert!(passes <= 2, "{passes} passes");
        for r in ranks {
            assert_eq!(s.domain.value(s.key(r).unwrap()), crate::stats::Value::Int(i128::from(sorted[r as usize])));
        }
    }

    #[test]
    fn a_constant_column_takes_one_pass() {
        let xs: &'static [i64] = Box::leak(vec![42i64; 5000].into());
        let (s, passes) = select_all(xs, vec![0, 2500, 4999]);
        assert_eq!(passes, 1);
        assert_eq!(s.domain.value(s.key(2500).unwrap()), crate::stats::Value::Int(42));
    }
}
