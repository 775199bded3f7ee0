//! The one-table state's path of `Groups::update` (up to [`SPLIT_AT`] groups: `--by k1`, booleans, most
//! string keys): the piece goes through in blocks of [`BLOCK_ROWS`], each block's ids, row counts and
//! every aggregated column in turn, while the next block's pages are asked for (`stats::prefetch`).
//!
//! ```text
//!  block b:   hint pages of block b+1 ─► ids (+ row counts) ─► column 1 ─► column 2 ─► …
//! ```
//!
//! Why blocks: each step reads one column, and a column's first read of a page waits on memory. In
//! blocks, the hints for the next block go out while the current one is worked on, so the wait overlaps
//! work; the ids stay in L1 between the steps. For one integer key without nulls, with every row selected
//! (the `--by k1` case), ids and row counts come from one loop, [`counted_run`]. The direct array of small
//! integer keys ([`DirectIds`]) lives across the blocks of a piece, so a block's
//! distinct keys are not looked up in the table again.
//!
//! Measured (benchmark file, `--by k1 --agg count,mean(a)`, whole process): serial 239 ms in passes over
//! 64K-row slices, 144 ms in blocks with the hints; two workers 130 → 84 ms (benches/README.md, "Group-by
//! k1 in blocks").
//!
//! Ids, the values each group receives and their order (rows ascending) are those of one pass over the
//! piece: blocks change when the work is done, never a bit of the state.

use arrow_array::Array;

use super::assign::{FixedElem, PieceKeys};
use super::direct::{DirectIds, EMPTY};
use super::keys::hash_word;
use super::{Dense, Groups, SPLIT_AT, value_chunks};
use crate::stats::numeric::numeric_dispatch;
use crate::store::validity_words;

/// Rows of a block: a multiple of 64 (validity and selection words slice whole). Few pages per column:
/// with four aggregated columns, blocks of 1,024 / 2,048 / 4,096 rows took 500 / 534 / 632 ms (serial; no
/// hints: 688 ms), and with one column 8,192 rows were as slow as no hints at all.
pub(super) const BLOCK_ROWS: usize = 2048;

impl Groups {
    /// Adds the piece's rows block by block to a one-table state; stops after the block that takes the
    /// state past [`SPLIT_AT`] groups (the state then splits) and returns the rows taken.
    pub(super) fn update_blocks(
        &mut self,
        keys: &[&dyn Array],
        values: &[&dyn Array],
        selection: Option<&[u64]>,
    ) -> usize {
        let len = keys.first().map_or(0, |k| k.len());
        let piece = PieceKeys::of(keys);
        let words: Vec<Option<Vec<u64>>> = values.iter().map(|a| validity_words(*a)).collect();
        let chunks = value_chunks(values, &words);
        let mut window = None;
        let mut ids = vec![u32::MAX; BLOCK_ROWS.min(len)];
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        // The piece's key column when every block takes `dense_block` (one per piece, not per block).
        let dense = piece.one_integer().filter(|_| selection.is_none());
        let mut start = 0;
        while start < len {
            let rows = start..(start + BLOCK_ROWS).min(len);
            // The next block's columns come from memory while this one is worked on (`stats::prefetch`).
            let next = rows.end..(rows.end + BLOCK_ROWS).min(len);
            piece.prefetch(next.clone());
            chunks.iter().for_each(|c| c.prefetch(next.clone()));
            let ids = &mut ids[..rows.len()];
            if selection.is_some() {
                ids.fill(u32::MAX);
            }
            match dense {
                Some(c) => numeric_dispatch!(c, c => self.dense_block(&c.values[rows.clone()], ids, &mut window)),
                None => self.assign_ids(&piece, rows.clone(), selection, ids, &mut window),
            }
            // One table: an id is the group's index in it.
            let part = &mut self.parts[0];
            if selection.is_none() {
                if dense.is_none() {
                    for &g in ids.iter() {
                        part.rows[g as usize] += 1;
                    }
                }
                for (acc, chunk) in part.aggs.iter_mut().zip(&chunks) {
                    acc.update(Dense(ids), chunk.rows(rows.clone()));
                }
            } else {
                pairs.clear();
                pairs.extend(ids.iter().enumerate().filter(|(_, g)| **g != u32::MAX).map(|(i, &g)| (i as u32, g)));
                for &(_, g) in &pairs {
                    part.rows[g as usize] += 1;
                }
                for (acc, chunk) in part.aggs.iter_mut().zip(&chunks) {
                    acc.update(&pairs[..], chunk.rows(rows.clone()));
                }
            }
            start = rows.end;
            if part.len() > SPLIT_AT {
                self.split();
                return start;
            }
        }
        len
    }

    /// The ids of a block of integer keys `xs` without nulls, every row selected, with the rows counted in
    /// the same loop: through the direct array, widened (or started anew) when a key falls outside it,
    /// and through the table, key by key, where the block's range is too wide for one.
    fn dense_block<T: FixedElem>(&mut self, xs: &[T], ids: &mut [u32], window: &mut Option<DirectIds>) {
        let part = &mut self.parts[0];
        part.ensure_table();
        let mut done = 0;
        while done < xs.len() {
            let rest = &xs[done..];
            if window.as_ref().is_none_or(|w| w.slot(rest[0]).is_none()) {
                let (lo, hi) = T::int_range(rest).expect("bug in tally: a dense block of non-integer keys");
                if DirectIds::covering(window, lo, hi).is_none() {
                    for (x, id) in rest.iter().zip(&mut ids[done..]) {
                        *id = part.fixed_gid(x.bits(), hash_word(x.bits()));
                        part.rows[*id as usize] += 1;
                    }
                    return;
                }
            }
            let w = window.as_mut().expect("covering sets the window");
            let first = rest[0];
            let slot = w.slot(first).expect("the window covers the key");
            if w.slots[slot] == EMPTY {
                w.slots[slot] = part.fixed_gid(first.bits(), hash_word(first.bits()));
            }
            done += counted_run(rest, &mut ids[done..], w, &mut part.rows);
        }
    }
}

/// Ids of `xs` through the window `w`, each row counted in `rows`, up to the first key that is outside the
/// window or new to it; returns the rows done.
#[inline(always)]
fn counted_run<T: FixedElem>(xs: &[T], ids: &mut [u32], w: &DirectIds, rows: &mut [u64]) -> usize {
    for (k, (x, id)) in xs.iter().zip(ids.iter_mut()).enumerate() {
        match w.slots.get(x.offset_from(w.lo)) {
            Some(&g) if g != EMPTY => {
                *id = g;
                rows[g as usize] += 1;
            }
            _ => return k,
        }
    }
    xs.len()
}
