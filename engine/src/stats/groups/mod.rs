//! The group-by state: key → per-group accumulators, mergeable, serialisable, deterministic.
//!
//! ```text
//!  piece ─► key columns ─► group id per row (hash table, or a direct array for a small integer range)
//!        └► value columns ─────────────┴──► accumulators[column][group id]     (accs.rs)
//! ```
//!
//! **Radix partitions** (DuckDB's radix-partitioned aggregation, [`PARTITIONS`] of them, chosen by bits of
//! the fixed hash of the key): a state starts as one table and splits into partitions when it passes
//! [`SPLIT_AT`] groups. A partitioned state's chunk rows are bucketed by partition before they touch a
//! table, so each partition's table and accumulators stay cache-sized while they are worked on, and two
//! states merge partition by partition, independently (in parallel, with rayon). A group's values enter
//! its accumulators in row order and its partials merge in the Aggregator's order whatever the layout, so
//! the layout never changes a bit of the result. The hash is foldhash with a fixed seed (`keys.rs`): the
//! same key lands in the same partition in every process.
//!
//! **Sorted partitions** (one integer, boolean or float key, the `--by k2` case): a partitioned state of
//! that layout keeps each partition's groups sorted by key and holds no hash table. A piece's rows are put
//! in partition order with their values (`scatter.rs`), each partition's new keys are radix-sorted and
//! inserted by one walk over both key lists, and the values then enter their groups in row order; two
//! states merge partition by partition by merging their sorted key lists (`table.rs`). A million groups
//! per chunk never meet a hash probe, which would miss the cache on every row. Every group still receives
//! its values one by one in row order, and its partials in the Aggregator's order, so the bits are those
//! of the hash-table path (tested against it) and independent of how rows are batched.
//!
//! Otherwise (one-table states, string or several keys) group ids are assigned per partition in order of
//! first appearance (row order within a chunk, then the canonical merge order of the Aggregator), never in
//! hash-table order; each group sees its values in row order; outputs are sorted by key. A [`GroupId`]
//! names a group across partitions.
//!
//! Exact distinct counts and top-k are group-bys without aggregated columns (see `analysis/`).

pub mod accs;
mod assign;
mod direct;
pub mod keys;
mod one_table;
mod raw;
mod scatter;
pub mod sketch;
pub mod table;

use arrow_array::Array;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use accs::{ColumnAccs, Dense, Items, Needs, Run};
pub use keys::{KeyKind, KeyStore, KeyValue};
pub use table::GroupTable;

use assign::{FixedElem, PieceKeys, bit, bucket};
use keys::KeyColumn;
use scatter::Scattered;

use crate::report::Cell;
use crate::stats::numeric::{NumericChunk, numeric_chunk, numeric_dispatch};
use crate::store::validity_words;

/// An aggregation function of `--agg`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AggFn {
    /// Rows of the group.
    Count,
    /// Values of a column in the group: not null, not NaN.
    CountOf,
    Sum,
    Mean,
    Min,
    Max,
    Var,
    Std,
    NullCount,
    NanCount,
}

impl AggFn {
    /// The name as `--agg` spells it.
    pub fn name(self) -> &'static str {
        match self {
            AggFn::Count | AggFn::CountOf => "count",
            AggFn::Sum => "sum",
            AggFn::Mean => "mean",
            AggFn::Min => "min",
            AggFn::Max => "max",
            AggFn::Var => "var",
            AggFn::Std => "std",
            AggFn::NullCount => "null_count",
            AggFn::NanCount => "nan_count",
        }
    }

    /// Every function, in the order help texts list them.
    pub const ALL: [AggFn; 9] = [
        AggFn::Count,
        AggFn::Sum,
        AggFn::Mean,
        AggFn::Min,
        AggFn::Max,
        AggFn::Var,
        AggFn::Std,
        AggFn::NullCount,
        AggFn::NanCount,
    ];
}

/// One aggregated column: its kind and what its accumulators keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggColumn {
    pub float: bool,
    pub needs: Needs,
}

/// What a group-by entry computes: the entry's columns are the key columns, then the aggregated ones.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSpec {
    pub keys: Vec<KeyKind>,
    pub aggs: Vec<AggColumn>,
}

impl GroupSpec {
    /// Heap bytes one group takes in a state (key, row count, table entry at hashbrown's load factor,
    /// accumulators).
    pub fn bytes_per_group(&self) -> u64 {
        KeyStore::bytes_per_group(&self.keys)
            + 8
            + 20
            + self.aggs.iter().map(|a| ColumnAccs::bytes_per_group(a.float, a.needs)).sum::<u64>()
    }
}

/// Number of radix partitions of a partitioned group-by state.
pub const PARTITIONS: usize = 64;

/// Groups beyond which a one-table state splits into partitions (below, everything is in cache anyway).
pub const SPLIT_AT: usize = 1 << 15;

fn as_refs(arrays: &[arrow_array::ArrayRef]) -> Vec<&dyn Array> {
    arrays.iter().map(|a| a.as_ref()).collect()
}

/// The partition of a key hash among `parts` (1 or [`PARTITIONS`]): bits 40..46 (hashbrown takes its
/// control byte from the top 7 bits and its bucket from the low ones, so these stay independent of both).
#[inline(always)]
fn partition(hash: u64, parts: usize) -> usize {
    ((hash >> 40) as usize) & (parts - 1)
}

/// A group across partitions: `partition << 26 | id within the partition`.
pub type GroupId = u32;
const LOCAL_BITS: u32 = 26;

#[inline(always)]
fn split(id: GroupId) -> (usize, u32) {
    ((id >> LOCAL_BITS) as usize, id & ((1 << LOCAL_BITS) - 1))
}

/// Integer range of keys below which a direct array replaces hashing (`direct.rs`).
const DIRECT_RANGE: i128 = 1 << 16;

/// The aggregated columns' numeric views, with their validity `words`.
fn value_chunks<'a>(values: &[&'a dyn Array], words: &'a [Option<Vec<u64>>]) -> Vec<NumericChunk<'a>> {
    values
        .iter()
        .zip(words)
        .map(|(a, w)| {
            numeric_chunk(*a, w.as_deref())
                .unwrap_or_else(|| panic!("bug in tally: a group-by value column of type {}", a.data_type()))
        })
        .collect()
}

/// Adds the (empty) groups of the sorted table `new` to partition `part` where their keys are new, keeping
/// it sorted; maps `ids` (groups of `new`) to the partition's ids.
fn add_groups(part: &mut GroupTable, new: &GroupTable, ids: Vec<u32>) -> Vec<u32> {
    if part.is_empty() {
        *part = new.clone();
        return ids;
    }
    let old = std::mem::replace(part, new.empty_like());
    let (grown, at) = old.into_sorted().with_groups_of(new);
    *part = grown;
    ids.into_iter().map(|g| at[g as usize]).collect()
}

/// Merges the sorted table `run` into partition `part` (sorted first if it is not: a state decoded from an
/// older tally), as [`GroupTable::merge`] would merge it, keeping the partition sorted.
fn merge_sorted_into(part: &mut GroupTable, run: &GroupTable) {
    if part.is_empty() {
        *part = run.clone();
        return;
    }
    let old = std::mem::replace(part, run.empty_like());
    *part = old.into_sorted().merge_sorted(run);
}

/// A value column's items, scattered and widened ([`Run`]).
enum RunValues {
    Float(Vec<f64>),
    Int(Vec<i64>),
    UInt(Vec<u64>),
}

impl RunValues {
    fn of(items: &Scattered, chunk: NumericChunk<'_>) -> RunValues {
        match chunk {
            NumericChunk::F64(c) => RunValues::Float(items.values(c.values, |x| x)),
            NumericChunk::F32(c) => RunValues::Float(items.values(c.values, f64::from)),
            NumericChunk::I8(c) => RunValues::Int(items.values(c.values, i64::from)),
            NumericChunk::I16(c) => RunValues::Int(items.values(c.values, i64::from)),
            NumericChunk::I32(c) => RunValues::Int(items.values(c.values, i64::from)),
            NumericChunk::I64(c) => RunValues::Int(items.values(c.values, |x| x)),
            NumericChunk::U8(c) => RunValues::Int(items.values(c.values, i64::from)),
            NumericChunk::U16(c) => RunValues::Int(items.values(c.values, i64::from)),
            NumericChunk::U32(c) => RunValues::Int(items.values(c.values, i64::from)),
            NumericChunk::U64(c) => RunValues::UInt(items.values(c.values, |x| x)),
        }
    }

    fn slice(&self, range: std::ops::Range<usize>) -> Run<'_> {
        match self {
            RunValues::Float(v) => Run::Float(&v[range]),
            RunValues::Int(v) => Run::Int(&v[range]),
            RunValues::UInt(v) => Run::UInt(&v[range]),
        }
    }
}

/// The hash the null key is placed by.
const NULL_HASH: u64 = 0x9e37_79b9_7f4a_7c15;

/// The group-by state: one table, or [`PARTITIONS`] partitions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Groups {
    pub parts: Vec<GroupTable>,
}

impl Groups {
    /// The empty state (merge identity) of `spec`.
    pub fn new(spec: &GroupSpec) -> Groups {
        Groups { parts: vec![GroupTable::new(spec)] }
    }

    /// Splits a one-table state into [`PARTITIONS`] partitions (group by group, in id order).
    fn split(&mut self) {
        let whole = self.parts.pop().expect("a one-table state has its table");
        self.parts = (0..PARTITIONS).map(|_| whole.empty_like()).collect();
        self.absorb(&whole);
        if self.is_fixed() {
            let parts = std::mem::take(&mut self.parts);
            self.parts = parts.into_par_iter().map(GroupTable::into_sorted).collect();
        }
    }

    /// Whether keys are stored fixed-width (one integer, boolean or float key): partitioned states of
    /// that layout keep each partition sorted by key and merge by merging the sorted lists.
    fn is_fixed(&self) -> bool {
        matches!(self.parts[0].keys, KeyStore::Fixed { .. })
    }

    /// Folds a one-table state into this partitioned one.
    fn absorb(&mut self, table: &GroupTable) {
        for part in &mut self.parts {
            part.ensure_table();
        }
        for h in 0..table.len() as u32 {
            let hash = table.hash_of(h, NULL_HASH);
            self.parts[partition(hash, PARTITIONS)].absorb(table, h, hash);
        }
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.parts.iter().map(GroupTable::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.parts.iter().all(GroupTable::is_empty)
    }

    /// Every group's id, partition by partition.
    pub fn ids(&self) -> impl Iterator<Item = GroupId> + '_ {
        self.parts
            .iter()
            .enumerate()
            .flat_map(|(p, t)| (0..t.len() as u32).map(move |g| ((p as u32) << LOCAL_BITS) | g))
    }

    /// Adds one chunk piece: `keys` and `values` are the entry's key and aggregated columns; rows whose
    /// `selection` bit is clear (a `--where` filter) are not rows.
    ///
    /// A one-table state takes the piece block by block (`one_table.rs`). When it passes [`SPLIT_AT`]
    /// groups, it splits into partitions at once and the rest of the piece goes in partitioned, instead
    /// of first growing one table, out of cache, to every group of the piece (a record batch of a million
    /// distinct keys) and then splitting.
    pub fn update(&mut self, keys: &[&dyn Array], values: &[&dyn Array], selection: Option<&[u64]>) {
        let len = keys.first().map_or(0, |k| k.len());
        if self.parts.len() > 1 {
            return self.update_partitioned(keys, values, selection);
        }
        let start = self.update_blocks(keys, values, selection);
        if start < len {
            let slice = |columns: &[&dyn Array]| -> Vec<arrow_array::ArrayRef> {
                columns.iter().map(|c| c.slice(start, len - start)).collect()
            };
            let (k, v) = (slice(keys), slice(values));
            self.update_partitioned(&as_refs(&k), &as_refs(&v), selection.map(|s| &s[start / 64..]));
        }
    }

    fn update_partitioned(&mut self, keys: &[&dyn Array], values: &[&dyn Array], selection: Option<&[u64]>) {
        if self.update_scattered(keys, values, selection) {
            return;
        }
        let len = keys.first().map_or(0, |k| k.len());
        let mut ids = vec![u32::MAX; len];
        self.assign_ids(&PieceKeys::of(keys), 0..len, selection, &mut ids, &mut None);
        // Rows by partition (ascending within each), then each partition's counts and accumulators.
        let items = ids.iter().enumerate().filter(|(_, id)| **id != u32::MAX).map(|(i, &id)| {
            let (p, g) = split(id);
            (p, i as u32, g)
        });
        let (pairs, starts) = bucket(items, self.parts.len());
        let words: Vec<Option<Vec<u64>>> = values.iter().map(|a| validity_words(*a)).collect();
        let chunks = value_chunks(values, &words);
        for (p, part) in self.parts.iter_mut().enumerate() {
            let pairs = &pairs[starts[p]..starts[p + 1]];
            for &(_, g) in pairs {
                part.rows[g as usize] += 1;
            }
            for (acc, chunk) in part.aggs.iter_mut().zip(&chunks) {
                acc.update(pairs, *chunk);
            }
        }
    }

    /// The partitioned state's path for one fixed-width key (`--by k2`): the piece's items and values are
    /// put in partition order first ([`scatter`]); each partition's distinct keys are then sorted (radix),
    /// the new ones inserted into the sorted partition by one walk over both key lists, and the values
    /// added to their groups in row order, partition by partition while it is in cache. No hash probes: a
    /// piece of a million groups would miss the cache on every probe. Each group receives its values one
    /// by one, in row order, as through a hash table, so the bits do not depend on how rows are batched.
    /// Returns false, having done nothing, where it does not apply (several or string keys, booleans).
    fn update_scattered(&mut self, keys: &[&dyn Array], values: &[&dyn Array], selection: Option<&[u64]>) -> bool {
        if keys.len() != 1 || !matches!(self.parts[0].keys, KeyStore::Fixed { .. }) {
            return false;
        }
        let Some(KeyColumn::Numeric(c)) = KeyColumn::of(keys[0]) else { return false };
        let key_valid = validity_words(keys[0]);
        numeric_dispatch!(c, c => self.scattered(c.values, key_valid.as_deref(), selection, values));
        true
    }

    fn scattered<T: FixedElem>(
        &mut self,
        xs: &[T],
        key_valid: Option<&[u64]>,
        selection: Option<&[u64]>,
        values: &[&dyn Array],
    ) {
        let np = self.parts.len();
        let items = Scattered::of(xs, key_valid, selection, np);
        let words: Vec<Option<Vec<u64>>> = values.iter().map(|a| validity_words(*a)).collect();
        let chunks = value_chunks(values, &words);
        let runs: Vec<(RunValues, Option<Vec<bool>>)> =
            chunks.iter().map(|c| (RunValues::of(&items, *c), items.validity(c.validity()))).collect();
        for (p, part) in self.parts.iter_mut().enumerate() {
            let range = items.range(p);
            if range.is_empty() {
                continue;
            }
            let (new, ids) = part.sorted_of(&items.keys[range.clone()]);
            let gids = add_groups(part, &new, ids);
            for &g in &gids {
                part.rows[g as usize] += 1;
            }
            for (acc, (values, valid)) in part.aggs.iter_mut().zip(&runs) {
                acc.update_run(&gids, values.slice(range.clone()), valid.as_ref().map(|v| &v[range.clone()]));
            }
        }
        // The null key's rows: one group, in row order.
        let null_rows: Vec<u32> =
            (0..xs.len()).filter(|&i| bit(selection, i) && !bit(key_valid, i)).map(|i| i as u32).collect();
        if !null_rows.is_empty() {
            let part = &mut self.parts[partition(NULL_HASH, np)];
            let mut new = part.empty_like();
            let g = new.null_gid();
            let g = add_groups(part, &new, vec![g])[0];
            part.rows[g as usize] += null_rows.len() as u64;
            let pairs: Vec<(u32, u32)> = null_rows.into_iter().map(|row| (row, g)).collect();
            for (acc, chunk) in part.aggs.iter_mut().zip(&chunks) {
                acc.update(&pairs[..], *chunk);
            }
        }
    }

    /// Folds `other` in, partition by partition (in parallel: partitions are independent, and each
    /// partition's merge order is the caller's).
    pub fn merge(&mut self, other: &Groups) {
        if self.is_empty() {
            *self = other.clone();
            return;
        }
        match (self.parts.len(), other.parts.len()) {
            (1, 1) => {
                self.parts[0].merge(&other.parts[0]);
                if self.parts[0].len() > SPLIT_AT {
                    self.split();
                }
            }
            (_, 1) if self.is_fixed() => {
                let mut other = other.clone();
                other.split();
                self.merge(&other);
            }
            (_, 1) => self.absorb(&other.parts[0]),
            (1, _) => {
                self.split();
                self.merge(other);
            }
            _ if self.is_fixed() => self.parts.par_iter_mut().zip(other.parts.par_iter()).for_each(|(a, b)| {
                if b.is_empty() {
                    return;
                }
                let b = std::borrow::Cow::Borrowed(b);
                let b = if b.is_sorted_table() { b } else { std::borrow::Cow::Owned(b.into_owned().into_sorted()) };
                merge_sorted_into(a, &b);
            }),
            _ => self.parts.par_iter_mut().zip(other.parts.par_iter()).for_each(|(a, b)| a.merge(b)),
        }
    }

    /// The state cut into `owners` slices by partition: slice `q` holds partition `p` when
    /// `p % owners == q` and empty tables elsewhere (a one-table state is split first). Each partition
    /// merges apart from the others, so merging the slices separately (in the same order) and joining
    /// them with [`Groups::join`] gives the same groups, bit for bit, as merging the whole states. The
    /// MPI executor sends each slice to the rank that merges it.
    pub fn into_slices(mut self, owners: usize) -> Vec<Groups> {
        let owners = owners.max(1);
        if self.parts.len() == 1 {
            self.split();
        }
        let template = self.parts[0].empty_like();
        let mut slices: Vec<Groups> =
            (0..owners).map(|_| Groups { parts: (0..PARTITIONS).map(|_| template.empty_like()).collect() }).collect();
        for (p, table) in self.parts.into_iter().enumerate() {
            slices[p % owners].parts[p] = table;
        }
        slices
    }

    /// The inverse of [`Groups::into_slices`]: partition `p` from slice `p % slices.len()`.
    pub fn join(slices: Vec<Groups>) -> Result<Groups, String> {
        let owners = slices.len();
        if owners == 0 || slices.iter().any(|s| s.parts.len() != PARTITIONS) {
            return Err(format!("cannot join {owners} group-by slices: each must have {PARTITIONS} partitions"));
        }
        let mut slices: Vec<Vec<Option<GroupTable>>> =
            slices.into_iter().map(|s| s.parts.into_iter().map(Some).collect()).collect();
        let parts = (0..PARTITIONS).map(|p| slices[p % owners][p].take().expect("each partition is taken once"));
        Ok(Groups { parts: parts.collect() })
    }

    /// Whether the states can merge (same partitions, key layout and accumulators).
    pub fn compatible(&self, other: &Groups) -> bool {
        let ok = |n: usize| n == 1 || n == PARTITIONS;
        ok(self.parts.len()) && ok(other.parts.len()) && self.parts[0].layout() == other.parts[0].layout()
    }

    /// The key of group `id`, one value per key column.
    pub fn key(&self, id: GroupId) -> Vec<KeyValue> {
        let (p, g) = split(id);
        self.parts[p].key(g)
    }

    /// Rows of group `id`.
    pub fn rows(&self, id: GroupId) -> u64 {
        let (p, g) = split(id);
        self.parts[p].rows[g as usize]
    }

    /// Aggregation `f` of value column `column` for group `id`; `AggFn::Count` ignores the column.
    pub fn cell(&self, id: GroupId, column: Option<usize>, f: AggFn, ddof: u64) -> Cell {
        let (p, g) = split(id);
        self.parts[p].cell(g, column, f, ddof)
    }

    /// Group ids in ascending key order (numbers numerically, strings bytewise, null last).
    pub fn key_order(&self) -> Vec<GroupId> {
        self.in_key_order(self.ids().collect())
    }

    /// Whether group `id` is the null key, and whether it is the NaN key (of a float column).
    pub fn is_null_or_nan(&self, id: GroupId) -> (bool, bool) {
        let (p, g) = split(id);
        self.parts[p].keys.is_null_or_nan(g)
    }

    /// `f` of every group of `order`, in `order`'s order, computed in id order: each partition's vectors
    /// are then read front to back, where reading a million groups in key order would miss the cache once
    /// per quantity per group.
    pub fn gather<T>(&self, order: &[GroupId], f: impl Fn(GroupId) -> T) -> Vec<T> {
        if order.len() < self.len() / 16 {
            return order.iter().map(|&id| f(id)).collect();
        }
        let mut offsets = Vec::with_capacity(self.parts.len());
        let mut total = 0usize;
        for part in &self.parts {
            offsets.push(total);
            total += part.len();
        }
        let mut by_id: Vec<Option<T>> = self.ids().map(|id| Some(f(id))).collect();
        order
            .iter()
            .map(|&id| {
                let (p, g) = split(id);
                by_id[offsets[p] + g as usize].take().expect("bug in tally: an ordered group id twice")
            })
            .collect()
    }

    /// `ids` in ascending key order (see [`key_order`](Self::key_order)).
    pub fn in_key_order(&self, mut ids: Vec<GroupId>) -> Vec<GroupId> {
        let fixed: Option<(KeyKind, Vec<(bool, u64)>)> = match &self.parts[0].keys {
            KeyStore::Fixed { kind, .. } => Some((
                *kind,
                ids.iter()
                    .map(|&id| {
                        let (p, g) = split(id);
                        match &self.parts[p].keys {
                            KeyStore::Fixed { values, null, .. } => (*null == Some(g), values[g as usize]),
                            KeyStore::Encoded { .. } => (false, 0),
                        }
                    })
                    .collect(),
            )),
            KeyStore::Encoded { .. } => None,
        };
        match fixed {
            Some((kind, keys)) => {
                let ordered = |(null, v): (bool, u64)| (null, keys::fixed_order(kind, v));
                let mut order: Vec<((bool, u64), GroupId)> =
                    keys.into_iter().map(ordered).zip(ids.iter().copied()).collect();
                order.sort_unstable();
                ids = order.into_iter().map(|(_, id)| id).collect();
            }
            None => {
                let mut decoded: Vec<(Vec<KeyValue>, GroupId)> = ids.iter().map(|&id| (self.key(id), id)).collect();
                decoded.sort_by(|(a, _), (b, _)| {
                    a.iter().zip(b).map(|(x, y)| x.cmp_key(y)).find(|o| o.is_ne()).unwrap_or(std::cmp::Ordering::Equal)
                });
                ids = decoded.into_iter().map(|(_, id)| id).collect();
            }
        }
        ids
    }
}
