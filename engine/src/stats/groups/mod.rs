//! The group-by state: key → per-group accumulators, mergeable, serialisable, deterministic.
//!
//! ```text
//!  piece ─► key columns ─► group id per row (hash table, or a direct array for a small integer range)
//!        └► value columns ─────────────┴──► accumulators[column][group id]     (accs.rs)
//! ```
//!
//! Group ids are assigned in order of first appearance (row order within a chunk, then the canonical
//! merge order of the Aggregator), never in hash-table order; outputs are sorted by key. So a hash that is
//! fixed (foldhash with a fixed seed, `keys.rs`) is needed only for speed and, later, partitioning; the
//! results would not change with another one. The table itself (`hashbrown::HashTable` of group ids) is
//! not serialised: it is rebuilt from the stored keys and hashes when a decoded state is first touched.
//!
//! Exact distinct counts and top-k are group-bys without aggregated columns (see `analysis/`).

pub mod accs;
pub mod keys;
pub mod sketch;

use arrow_array::Array;
use hashbrown::HashTable;
use serde::{Deserialize, Serialize};

pub use accs::{ColumnAccs, Needs};
pub use keys::{KeyKind, KeyStore, KeyValue};

use keys::{KeyColumn, hash_bytes, hash_word};

use crate::report::Cell;
use crate::stats::numeric::{numeric_chunk, numeric_dispatch};
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
    /// Heap bytes one group takes in a state (keys, hash, row count, table slot, accumulators).
    pub fn bytes_per_group(&self) -> u64 {
        KeyStore::bytes_per_group(&self.keys)
            + 8
            + 8
            + 8
            + self.aggs.iter().map(|a| ColumnAccs::bytes_per_group(a.float, a.needs)).sum::<u64>()
    }
}

/// Integer range of a piece's key below which a direct array replaces hashing for that piece.
const DIRECT_RANGE: i128 = 1 << 16;

/// The group-by state.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Groups {
    pub keys: KeyStore,
    /// The fixed hash of each group's key.
    pub hashes: Vec<u64>,
    /// Rows of each group (that passed the filter).
    pub rows: Vec<u64>,
    pub aggs: Vec<ColumnAccs>,
    /// Group ids by key hash; not serialised (rebuilt by [`Groups::ensure_table`]). The null group of the
    /// fixed layout is not in it.
    #[serde(skip)]
    table: HashTable<u32>,
}

impl PartialEq for Groups {
    fn eq(&self, other: &Groups) -> bool {
        (&self.keys, &self.hashes, &self.rows, &self.aggs) == (&other.keys, &other.hashes, &other.rows, &other.aggs)
    }
}

/// Per-row key access, typed once per piece.
trait FixedElem: Copy {
    fn bits(self) -> u64;
    /// The value as an integer, for the direct-array range test (`None` for floats).
    fn int(self) -> Option<i128>;
}

macro_rules! fixed_elem {
    (int: $($t:ty),*) => { $(impl FixedElem for $t {
        #[inline(always)] fn bits(self) -> u64 { self as i64 as u64 }
        #[inline(always)] fn int(self) -> Option<i128> { Some(self as i128) }
    })* };
    (uint: $($t:ty),*) => { $(impl FixedElem for $t {
        #[inline(always)] fn bits(self) -> u64 { self as u64 }
        #[inline(always)] fn int(self) -> Option<i128> { Some(self as i128) }
    })* };
}
fixed_elem!(int: i8, i16, i32, i64);
fixed_elem!(uint: u8, u16, u32, u64);
impl FixedElem for f64 {
    fn bits(self) -> u64 {
        keys::float_bits(self)
    }
    fn int(self) -> Option<i128> {
        None
    }
}
impl FixedElem for f32 {
    fn bits(self) -> u64 {
        keys::float_bits(f64::from(self))
    }
    fn int(self) -> Option<i128> {
        None
    }
}

#[inline(always)]
fn bit(words: Option<&[u64]>, i: usize) -> bool {
    words.is_none_or(|w| (w[i / 64] >> (i % 64)) & 1 == 1)
}

/// The hash the null group of the fixed layout is recorded with.
const NULL_HASH: u64 = 0x9e37_79b9_7f4a_7c15;

impl Groups {
    /// The empty state (merge identity) of `spec`.
    pub fn new(spec: &GroupSpec) -> Groups {
        Groups {
            keys: KeyStore::new(&spec.keys),
            hashes: Vec::new(),
            rows: Vec::new(),
            aggs: spec.aggs.iter().map(|a| ColumnAccs::new(a.float, a.needs)).collect(),
            table: HashTable::new(),
        }
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Adds one chunk piece: `keys` and `values` are the entry's key and aggregated columns; rows whose
    /// `selection` bit is clear (a `--where` filter) are not rows.
    pub fn update(&mut self, keys: &[&dyn Array], values: &[&dyn Array], selection: Option<&[u64]>) {
        self.ensure_table();
        let len = keys.first().map_or(0, |k| k.len());
        let mut gids = vec![u32::MAX; len];
        self.assign_ids(keys, selection, &mut gids);
        for &g in &gids {
            if g != u32::MAX {
                self.rows[g as usize] += 1;
            }
        }
        for (acc, array) in self.aggs.iter_mut().zip(values) {
            let words = validity_words(*array);
            let chunk = numeric_chunk(*array, words.as_deref())
                .unwrap_or_else(|| panic!("bug in tally: a group-by value column of type {}", array.data_type()));
            acc.update(&gids, chunk);
        }
    }

    fn assign_ids(&mut self, keys: &[&dyn Array], selection: Option<&[u64]>, gids: &mut [u32]) {
        let columns: Vec<KeyColumn<'_>> = keys
            .iter()
            .map(|k| {
                KeyColumn::of(*k).unwrap_or_else(|| panic!("bug in tally: a key column of type {}", k.data_type()))
            })
            .collect();
        let nulls: Vec<Option<Vec<u64>>> = keys.iter().map(|k| validity_words(*k)).collect();
        if matches!(self.keys, KeyStore::Fixed { .. }) {
            let nulls = nulls[0].as_deref();
            match &columns[0] {
                KeyColumn::Numeric(c) => numeric_dispatch!(c, c => self.fixed_ids(c.values, nulls, selection, gids)),
                KeyColumn::Bool(b) => {
                    let xs: Vec<u8> = (0..b.len()).map(|i| u8::from(b.value(i))).collect();
                    self.fixed_ids(&xs, nulls, selection, gids);
                }
                _ => panic!("bug in tally: a string key in the fixed layout"),
            }
            return;
        }
        let mut buf = Vec::new();
        for (i, gid) in gids.iter_mut().enumerate() {
            if !bit(selection, i) {
                continue;
            }
            buf.clear();
            for (c, n) in columns.iter().zip(&nulls) {
                if bit(n.as_deref(), i) {
                    c.encode(i, &mut buf);
                } else {
                    buf.push(0);
                }
            }
            *gid = self.encoded_gid(&buf, hash_bytes(&buf));
        }
    }

    /// Group ids of a fixed-layout piece; a direct array (value − min → id) when the piece's integer
    /// range is small, so `--by k1` hashes each distinct key once per piece instead of once per row.
    fn fixed_ids<T: FixedElem>(&mut self, xs: &[T], nulls: Option<&[u64]>, sel: Option<&[u64]>, gids: &mut [u32]) {
        let keep = |i: usize| bit(sel, i) && bit(nulls, i);
        let range = xs.iter().try_fold((i128::MAX, i128::MIN), |(lo, hi), x| x.int().map(|v| (lo.min(v), hi.max(v))));
        if let Some((lo, hi)) = range.filter(|(lo, hi)| lo <= hi && hi - lo < DIRECT_RANGE) {
            let mut direct = vec![u32::MAX; (hi - lo + 1) as usize];
            for (i, (x, gid)) in xs.iter().zip(gids.iter_mut()).enumerate() {
                if !bit(sel, i) {
                    continue;
                }
                if !bit(nulls, i) {
                    *gid = self.null_gid();
                    continue;
                }
                let slot = &mut direct[(x.int().unwrap_or(lo) - lo) as usize];
                if *slot == u32::MAX {
                    *slot = self.fixed_gid(x.bits());
                }
                *gid = *slot;
            }
            return;
        }
        for (i, (x, gid)) in xs.iter().zip(gids.iter_mut()).enumerate() {
            if keep(i) {
                *gid = self.fixed_gid(x.bits());
            } else if bit(sel, i) {
                *gid = self.null_gid();
            }
        }
    }

    fn new_group(&mut self, hash: u64) -> u32 {
        let g = self.rows.len() as u32;
        self.hashes.push(hash);
        self.rows.push(0);
        for a in &mut self.aggs {
            a.push_group();
        }
        g
    }

    fn null_gid(&mut self) -> u32 {
        if let KeyStore::Fixed { null: Some(g), .. } = self.keys {
            return g;
        }
        let g = self.new_group(NULL_HASH);
        if let KeyStore::Fixed { values, null, .. } = &mut self.keys {
            values.push(0);
            *null = Some(g);
        }
        g
    }

    #[inline]
    fn fixed_gid(&mut self, v: u64) -> u32 {
        let hash = hash_word(v);
        let KeyStore::Fixed { values, .. } = &mut self.keys else { panic!("bug in tally: fixed key, encoded store") };
        let hashes = &self.hashes;
        match self.table.entry(hash, |&g| values[g as usize] == v, |&g| hashes[g as usize]) {
            hashbrown::hash_table::Entry::Occupied(o) => *o.get(),
            hashbrown::hash_table::Entry::Vacant(slot) => {
                let g = self.rows.len() as u32;
                slot.insert(g);
                values.push(v);
                self.new_group(hash)
            }
        }
    }

    fn encoded_gid(&mut self, key: &[u8], hash: u64) -> u32 {
        let KeyStore::Encoded { offsets, bytes, .. } = &mut self.keys else {
            panic!("bug in tally: encoded key, fixed store")
        };
        let hashes = &self.hashes;
        let eq = |&g: &u32| &bytes[offsets[g as usize] as usize..offsets[g as usize + 1] as usize] == key;
        match self.table.entry(hash, eq, |&g| hashes[g as usize]) {
            hashbrown::hash_table::Entry::Occupied(o) => *o.get(),
            hashbrown::hash_table::Entry::Vacant(slot) => {
                let g = self.rows.len() as u32;
                slot.insert(g);
                bytes.extend_from_slice(key);
                offsets.push(bytes.len() as u64);
                self.new_group(hash)
            }
        }
    }

    /// Rebuilds the table after decoding (the table is not serialised).
    fn ensure_table(&mut self) {
        let null = match &self.keys {
            KeyStore::Fixed { null, .. } => *null,
            KeyStore::Encoded { .. } => None,
        };
        let in_table = self.len() - usize::from(null.is_some());
        if self.table.len() == in_table {
            return;
        }
        self.table = HashTable::with_capacity(in_table);
        let hashes = &self.hashes;
        for g in (0..self.len() as u32).filter(|&g| Some(g) != null) {
            self.table.insert_unique(hashes[g as usize], g, |&h| hashes[h as usize]);
        }
    }

    /// The id in `self` of `other`'s group `h`, inserted when new.
    fn gid_of(&mut self, other: &Groups, h: u32) -> u32 {
        match &other.keys {
            KeyStore::Fixed { null: Some(n), .. } if *n == h => self.null_gid(),
            KeyStore::Fixed { values, .. } => self.fixed_gid(values[h as usize]),
            KeyStore::Encoded { .. } => self.encoded_gid(other.keys.encoded(h), other.hashes[h as usize]),
        }
    }

    /// Folds `other` in: its groups in their id order, so ids (and float bits) depend on the merge order
    /// only, which the Aggregator fixes.
    pub fn merge(&mut self, other: &Groups) {
        if self.is_empty() {
            *self = other.clone();
            return;
        }
        self.ensure_table();
        for h in 0..other.len() as u32 {
            let g = self.gid_of(other, h);
            self.rows[g as usize] += other.rows[h as usize];
            for (a, b) in self.aggs.iter_mut().zip(&other.aggs) {
                a.merge_group(g, b, h);
            }
        }
    }

    /// Whether the states can merge (same key layout and accumulators).
    pub fn compatible(&self, other: &Groups) -> bool {
        let layout = |g: &Groups| match &g.keys {
            KeyStore::Fixed { kind, .. } => (vec![*kind], true),
            KeyStore::Encoded { kinds, .. } => (kinds.clone(), false),
        };
        let accs = |g: &Groups| -> Vec<(bool, Needs)> {
            g.aggs
                .iter()
                .map(|a| match a {
                    ColumnAccs::Float(f) => (true, f.needs),
                    ColumnAccs::Int(i) => (false, i.needs),
                })
                .collect()
        };
        layout(self) == layout(other) && accs(self) == accs(other)
    }

    /// The key of group `g`, one value per key column.
    pub fn key(&self, g: u32) -> Vec<KeyValue> {
        self.keys.values(g)
    }

    /// Aggregation `f` of value column `column` for group `g`; `AggFn::Count` ignores the column.
    pub fn cell(&self, g: u32, column: Option<usize>, f: AggFn, ddof: u64) -> Cell {
        match (f, column) {
            (AggFn::Count, _) | (_, None) => Cell::Count(self.rows[g as usize]),
            (f, Some(c)) => self.aggs[c].cell(g, f, ddof),
        }
    }

    /// Group ids in ascending key order (numbers numerically, strings bytewise, null last).
    pub fn key_order(&self) -> Vec<u32> {
        let mut ids: Vec<u32> = (0..self.len() as u32).collect();
        match &self.keys {
            KeyStore::Fixed { kind, values, null } => {
                let sort_key = |g: &u32| {
                    let v = values[*g as usize];
                    let ordered = match kind {
                        KeyKind::Int => v ^ (1 << 63),
                        // Canonical floats: flip as total_cmp does; NaN (positive) sorts after +inf.
                        KeyKind::Float if v >> 63 == 1 => !v,
                        KeyKind::Float => v | (1 << 63),
                        _ => v,
                    };
                    (Some(*g) == *null, ordered)
                };
                ids.sort_unstable_by_key(sort_key);
            }
            KeyStore::Encoded { .. } => {
                let decoded: Vec<Vec<KeyValue>> = ids.iter().map(|&g| self.key(g)).collect();
                ids.sort_by(|&a, &b| {
                    let (ka, kb) = (&decoded[a as usize], &decoded[b as usize]);
                    ka.iter()
                        .zip(kb)
                        .map(|(x, y)| x.cmp_key(y))
                        .find(|o| o.is_ne())
                        .unwrap_or(std::cmp::Ordering::Equal)
                });
            }
        }
        ids
    }
}
