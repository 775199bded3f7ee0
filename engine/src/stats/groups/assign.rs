//! Group ids of a piece's rows (`Groups::assign_ids`) and its helpers: the key columns typed once per
//! piece, typed access to fixed-width keys, validity bits, and the counting sort that buckets rows by
//! partition (rows ascending within each).
//!
//! Ids are assigned per partition in order of first appearance (rows ascending), through the partition's
//! hash table, or for integer keys of a small range through a direct array ([`DirectIds`]) that asks the
//! table once per distinct key.

use std::ops::Range;

use arrow_array::Array;

use super::direct::{DirectIds, EMPTY};
use super::keys::{self, KeyColumn, hash_bytes, hash_word};
use super::{GroupTable, Groups, KeyStore, LOCAL_BITS, NULL_HASH, partition};
use crate::stats::numeric::{NumericChunk, numeric_dispatch};
use crate::store::validity_words;

/// The key columns of one piece, typed once: every block of the piece reads them.
pub(super) struct PieceKeys<'a> {
    columns: Vec<KeyColumn<'a>>,
    /// Validity words of each key column, aligned to the piece's first row.
    nulls: Vec<Option<Vec<u64>>>,
    /// A boolean key of the fixed layout, as 0/1 bytes.
    bools: Option<Vec<u8>>,
}

impl<'a> PieceKeys<'a> {
    pub(super) fn of(keys: &[&'a dyn Array]) -> PieceKeys<'a> {
        let columns: Vec<KeyColumn<'a>> = keys
            .iter()
            .map(|k| {
                KeyColumn::of(*k).unwrap_or_else(|| panic!("bug in tally: a key column of type {}", k.data_type()))
            })
            .collect();
        let bools = match columns.as_slice() {
            [KeyColumn::Bool(b)] => Some((0..b.len()).map(|i| u8::from(b.value(i))).collect()),
            _ => None,
        };
        PieceKeys { columns, nulls: keys.iter().map(|k| validity_words(*k)).collect(), bools }
    }

    /// Asks for rows `rows` of the numeric key columns to be loaded (see `stats::prefetch`).
    pub(super) fn prefetch(&self, rows: Range<usize>) {
        for c in &self.columns {
            if let KeyColumn::Numeric(c) = c {
                c.prefetch(rows.clone());
            }
        }
    }

    /// The key column when the key is one integer column without nulls (the `--by k1` case).
    pub(super) fn one_integer(&self) -> Option<&NumericChunk<'a>> {
        match (self.columns.as_slice(), self.nulls.as_slice()) {
            ([KeyColumn::Numeric(c)], [None]) if c.is_integer() => Some(c),
            _ => None,
        }
    }
}

/// `words` from row `start` on (a multiple of 64).
fn from_row(words: Option<&[u64]>, start: usize) -> Option<&[u64]> {
    words.map(|w| &w[start / 64..])
}

impl Groups {
    /// The group ids of rows `rows` of the piece: `ids[i]` for row `rows.start + i` (a multiple of 64);
    /// rows whose `selection` bit is clear keep the id they had. `window` is the piece's direct array,
    /// kept from block to block.
    pub(super) fn assign_ids(
        &mut self,
        piece: &PieceKeys<'_>,
        rows: Range<usize>,
        selection: Option<&[u64]>,
        ids: &mut [u32],
        window: &mut Option<DirectIds>,
    ) {
        debug_assert!(rows.start.is_multiple_of(64) && ids.len() == rows.len());
        if matches!(self.parts[0].keys, KeyStore::Fixed { .. }) {
            let (nulls, sel) = (from_row(piece.nulls[0].as_deref(), rows.start), from_row(selection, rows.start));
            match (&piece.columns[0], &piece.bools) {
                (_, Some(xs)) => self.fixed_ids(&xs[rows], nulls, sel, ids, window),
                (KeyColumn::Numeric(c), None) => {
                    numeric_dispatch!(c, c => self.fixed_ids(&c.values[rows], nulls, sel, ids, window))
                }
                _ => panic!("bug in tally: a string key in the fixed layout"),
            }
            return;
        }
        // Encoded keys: every selected row's bytes into one buffer, then partition by partition.
        let (mut buf, mut ends) = (Vec::new(), Vec::with_capacity(ids.len()));
        let mut items = Vec::with_capacity(ids.len());
        for i in rows.clone().filter(|&i| bit(selection, i)) {
            for (c, n) in piece.columns.iter().zip(&piece.nulls) {
                if bit(n.as_deref(), i) {
                    c.encode(i, &mut buf);
                } else {
                    buf.push(0);
                }
            }
            ends.push(buf.len());
            items.push(i - rows.start);
        }
        let key = |k: usize| &buf[if k == 0 { 0 } else { ends[k - 1] }..ends[k]];
        let hashes: Vec<u64> = (0..items.len()).map(|k| hash_bytes(key(k))).collect();
        let np = self.parts.len();
        let (pairs, starts) =
            bucket((0..items.len()).map(|k| (partition(hashes[k], np), items[k] as u32, k as u32)), np);
        for (p, part) in self.parts.iter_mut().enumerate() {
            part.ensure_table();
            for &(row, k) in &pairs[starts[p]..starts[p + 1]] {
                let g = part.encoded_gid(key(k as usize), hashes[k as usize]);
                ids[row as usize] = ((p as u32) << LOCAL_BITS) | g;
            }
        }
    }

    /// Group ids of fixed-layout keys `xs` (`nulls` and `sel` start at `xs[0]`). Through the direct array
    /// when the keys' integer range allows it, so `--by k1` asks the table once per distinct key; otherwise
    /// rows are bucketed by partition first (written for any partition count).
    fn fixed_ids<T: FixedElem>(
        &mut self,
        xs: &[T],
        nulls: Option<&[u64]>,
        sel: Option<&[u64]>,
        ids: &mut [u32],
        window: &mut Option<DirectIds>,
    ) {
        let np = self.parts.len();
        let null_id = |parts: &mut [GroupTable]| {
            let p = partition(NULL_HASH, parts.len());
            ((p as u32) << LOCAL_BITS) | parts[p].null_gid()
        };
        if let Some((lo, hi)) = T::int_range(xs)
            && let Some(DirectIds { lo, slots }) = DirectIds::covering(window, lo, hi)
        {
            let lo = *lo;
            let new_id = |x: T, parts: &mut [GroupTable]| {
                let (v, h) = (x.bits(), hash_word(x.bits()));
                let p = partition(h, np);
                parts[p].ensure_table();
                ((p as u32) << LOCAL_BITS) | parts[p].fixed_gid(v, h)
            };
            if sel.is_none() && nulls.is_none() {
                // Every row has a key (the `--by k1` case): no bit tests in the loop.
                for (x, id) in xs.iter().zip(ids.iter_mut()) {
                    let slot = &mut slots[x.offset_from(lo)];
                    if *slot == EMPTY {
                        *slot = new_id(*x, &mut self.parts);
                    }
                    *id = *slot;
                }
                return;
            }
            for (i, (x, id)) in xs.iter().zip(ids.iter_mut()).enumerate() {
                if !bit(sel, i) {
                    continue;
                }
                if !bit(nulls, i) {
                    *id = null_id(&mut self.parts);
                    continue;
                }
                let slot = &mut slots[x.offset_from(lo)];
                if *slot == EMPTY {
                    *slot = new_id(*x, &mut self.parts);
                }
                *id = *slot;
            }
            return;
        }
        let mut kept = Vec::with_capacity(xs.len());
        for (i, x) in xs.iter().enumerate() {
            if !bit(sel, i) {
                continue;
            }
            if bit(nulls, i) {
                kept.push((i as u32, x.bits()));
            } else {
                ids[i] = null_id(&mut self.parts);
            }
        }
        let hashes: Vec<u64> = kept.iter().map(|&(_, v)| hash_word(v)).collect();
        let items = kept.iter().zip(&hashes).map(|(&(row, v), &h)| (partition(h, np), row, (v, h)));
        let (pairs, starts) = bucket(items, np);
        for (p, part) in self.parts.iter_mut().enumerate() {
            part.ensure_table();
            for &(row, (v, h)) in &pairs[starts[p]..starts[p + 1]] {
                ids[row as usize] = ((p as u32) << LOCAL_BITS) | part.fixed_gid(v, h);
            }
        }
    }
}

/// Per-row key access, typed once per piece.
pub(super) trait FixedElem: Copy {
    fn bits(self) -> u64;
    /// The distance from `lo`, the smallest value of a direct-array piece (never called for floats,
    /// which have no direct range). Native wrapping arithmetic, not i128: it is on every row of `--by k1`,
    /// and the distance is below [`DIRECT_RANGE`](super::DIRECT_RANGE), so it is exact modulo 2^64.
    fn offset_from(self, lo: i128) -> usize;
    /// The smallest and largest of `xs` as integers (`None` for floats and empty slices): one pass in the
    /// native type, which vectorises where a fold in i128 does not.
    fn int_range(xs: &[Self]) -> Option<(i128, i128)>;
}

macro_rules! fixed_elem {
    (int: $($t:ty),*) => { $(impl FixedElem for $t {
        #[inline(always)] fn bits(self) -> u64 { self as i64 as u64 }
        #[inline(always)] fn offset_from(self, lo: i128) -> usize { (self as i64).wrapping_sub(lo as i64) as usize }
        fn int_range(xs: &[Self]) -> Option<(i128, i128)> { native_range(xs, <$t>::MAX, <$t>::MIN) }
    })* };
    (uint: $($t:ty),*) => { $(impl FixedElem for $t {
        #[inline(always)] fn bits(self) -> u64 { self as u64 }
        #[inline(always)] fn offset_from(self, lo: i128) -> usize { (self as u64).wrapping_sub(lo as u64) as usize }
        fn int_range(xs: &[Self]) -> Option<(i128, i128)> { native_range(xs, <$t>::MAX, <$t>::MIN) }
    })* };
}

fn native_range<T: Copy + Ord + Into<i128>>(xs: &[T], max: T, min: T) -> Option<(i128, i128)> {
    if xs.is_empty() {
        return None;
    }
    let (lo, hi) = xs.iter().fold((max, min), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    Some((lo.into(), hi.into()))
}
fixed_elem!(int: i8, i16, i32, i64);
fixed_elem!(uint: u8, u16, u32, u64);
impl FixedElem for f64 {
    fn bits(self) -> u64 {
        keys::float_bits(self)
    }
    fn offset_from(self, _: i128) -> usize {
        0
    }
    fn int_range(_: &[Self]) -> Option<(i128, i128)> {
        None
    }
}
impl FixedElem for f32 {
    fn bits(self) -> u64 {
        keys::float_bits(f64::from(self))
    }
    fn offset_from(self, _: i128) -> usize {
        0
    }
    fn int_range(_: &[Self]) -> Option<(i128, i128)> {
        None
    }
}

#[inline(always)]
pub(super) fn bit(words: Option<&[u64]>, i: usize) -> bool {
    words.is_none_or(|w| (w[i / 64] >> (i % 64)) & 1 == 1)
}

/// Rows bucketed by partition, ascending within each: `(row, value)` pairs and where each partition starts.
pub(super) fn bucket<T: Copy + Default>(
    items: impl Iterator<Item = (usize, u32, T)> + Clone,
    parts: usize,
) -> (Vec<(u32, T)>, Vec<usize>) {
    let mut starts = vec![0usize; parts + 1];
    for (p, _, _) in items.clone() {
        starts[p + 1] += 1;
    }
    for p in 0..parts {
        starts[p + 1] += starts[p];
    }
    let mut next = starts.clone();
    let mut out = vec![(0u32, T::default()); starts[parts]];
    for (p, row, v) in items {
        out[next[p]] = (row, v);
        next[p] += 1;
    }
    (out, starts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_range_is_the_smallest_and_largest_value_of_every_integer_type() {
        assert_eq!(i8::int_range(&[-5, 3, 127, -128]), Some((-128, 127)));
        assert_eq!(u64::int_range(&[u64::MAX, 7, 0]), Some((0, i128::from(u64::MAX))));
        assert_eq!(i64::int_range(&[i64::MIN]), Some((i128::from(i64::MIN), i128::from(i64::MIN))));
        assert_eq!(u16::int_range(&[]), None);
        assert_eq!(f64::int_range(&[1.0, 2.0]), None);
    }

    /// The distance a direct array indexes by, against i128 subtraction, at the ends of every type.
    #[test]
    fn offset_from_is_the_distance_from_the_smallest_value_at_the_ends_of_every_type() {
        fn check<T: FixedElem + Into<i128> + Copy>(xs: &[T]) {
            let (lo, _) = T::int_range(xs).unwrap();
            for &x in xs {
                assert_eq!(x.offset_from(lo) as i128, x.into() - lo);
            }
        }
        check(&[i8::MIN, i8::MIN + 3, -1, 0, i8::MAX]);
        check(&[u8::MAX - 9, u8::MAX]);
        check(&[i16::MIN, i16::MAX]);
        check(&[u16::MIN, u16::MAX]);
        check(&[i32::MAX - 999, i32::MAX]);
        check(&[i32::MIN, i32::MIN + 999]);
        check(&[i64::MIN, i64::MIN + 40_000]);
        check(&[i64::MAX - 65_535, i64::MAX]);
        check(&[-3i64, 65_000]);
        check(&[u32::MAX - 5, u32::MAX]);
        check(&[u64::MAX - 65_535, u64::MAX - 7, u64::MAX]);
        check(&[(1u64 << 63) - 3, 1u64 << 63, (1u64 << 63) + 3]);
    }
}
