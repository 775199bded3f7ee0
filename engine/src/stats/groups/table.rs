//! One partition of a group-by state: its keys, a hash table from key to group id, the row counts and the
//! accumulators, indexed by the partition's group ids (assigned in order of first appearance).
//!
//! Table entries carry what equality needs inline (the fixed key itself, or the hash of an encoded key), so
//! a probe touches only the table. The table is not serialised: `GroupTable::ensure_table` rebuilds it
//! from the stored keys the first time a decoded state is updated or merged into.

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;
use serde::{Deserialize, Serialize};

use super::accs::{ColumnAccs, Needs};
use super::keys::{KeyStore, KeyValue, hash_bytes, hash_word};
use super::{AggFn, GroupSpec};
use crate::report::Cell;

/// One partition's groups.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GroupTable {
    pub keys: KeyStore,
    /// Rows of each group (that passed the filter).
    pub rows: Vec<u64>,
    pub aggs: Vec<ColumnAccs>,
    /// `(fixed key or encoded key's hash, group id)`; the fixed layout's null group is not in it.
    #[serde(skip)]
    table: HashTable<(u64, u32)>,
}

impl PartialEq for GroupTable {
    fn eq(&self, other: &GroupTable) -> bool {
        (&self.keys, &self.rows, &self.aggs) == (&other.keys, &other.rows, &other.aggs)
    }
}

impl GroupTable {
    pub fn new(spec: &GroupSpec) -> GroupTable {
        GroupTable {
            keys: KeyStore::new(&spec.keys),
            rows: Vec::new(),
            aggs: spec.aggs.iter().map(|a| ColumnAccs::new(a.float, a.needs)).collect(),
            table: HashTable::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn new_group(&mut self) -> u32 {
        let g = self.rows.len() as u32;
        self.rows.push(0);
        for a in &mut self.aggs {
            a.push_group();
        }
        g
    }

    pub(crate) fn null_gid(&mut self) -> u32 {
        if let KeyStore::Fixed { null: Some(g), .. } = self.keys {
            return g;
        }
        let g = self.new_group();
        if let KeyStore::Fixed { values, null, .. } = &mut self.keys {
            values.push(0);
            *null = Some(g);
        }
        g
    }

    /// The id of fixed key `v` (whose hash is `hash`), inserted when new.
    #[inline]
    pub(crate) fn fixed_gid(&mut self, v: u64, hash: u64) -> u32 {
        let next = self.rows.len() as u32;
        match self.table.entry(hash, |e| e.0 == v, |e| hash_word(e.0)) {
            Entry::Occupied(o) => o.get().1,
            Entry::Vacant(slot) => {
                slot.insert((v, next));
                if let KeyStore::Fixed { values, .. } = &mut self.keys {
                    values.push(v);
                }
                self.new_group()
            }
        }
    }

    /// The id of encoded key `key` (whose hash is `hash`), inserted when new.
    pub(crate) fn encoded_gid(&mut self, key: &[u8], hash: u64) -> u32 {
        let next = self.rows.len() as u32;
        let KeyStore::Encoded { offsets, bytes, .. } = &mut self.keys else {
            panic!("bug in tally: encoded key, fixed store")
        };
        let stored = |g: u32| &bytes[offsets[g as usize] as usize..offsets[g as usize + 1] as usize];
        match self.table.entry(hash, |e| e.0 == hash && stored(e.1) == key, |e| e.0) {
            Entry::Occupied(o) => o.get().1,
            Entry::Vacant(slot) => {
                slot.insert((hash, next));
                bytes.extend_from_slice(key);
                offsets.push(bytes.len() as u64);
                self.new_group()
            }
        }
    }

    /// Rebuilds the table after decoding (the table is not serialised).
    pub(crate) fn ensure_table(&mut self) {
        let null = match &self.keys {
            KeyStore::Fixed { null, .. } => *null,
            KeyStore::Encoded { .. } => None,
        };
        let in_table = self.len() - usize::from(null.is_some());
        if self.table.len() == in_table {
            return;
        }
        let mut table = HashTable::with_capacity(in_table);
        for g in (0..self.len() as u32).filter(|&g| Some(g) != null) {
            match &self.keys {
                KeyStore::Fixed { values, .. } => {
                    let v = values[g as usize];
                    table.insert_unique(hash_word(v), (v, g), |e: &(u64, u32)| hash_word(e.0));
                }
                KeyStore::Encoded { .. } => {
                    let h = hash_bytes(self.keys.encoded(g));
                    table.insert_unique(h, (h, g), |e: &(u64, u32)| e.0);
                }
            }
        }
        self.table = table;
    }

    /// An empty table of the same layout.
    pub(crate) fn empty_like(&self) -> GroupTable {
        let keys = match &self.keys {
            KeyStore::Fixed { kind, .. } => KeyStore::Fixed { kind: *kind, values: Vec::new(), null: None },
            KeyStore::Encoded { kinds, .. } => {
                KeyStore::Encoded { kinds: kinds.clone(), offsets: vec![0], bytes: Vec::new() }
            }
        };
        let aggs = self.aggs.iter().map(ColumnAccs::empty_like).collect();
        GroupTable { keys, rows: Vec::new(), aggs, table: HashTable::new() }
    }

    /// The hash of group `h`'s key (the null key's is `null_hash`).
    pub(crate) fn hash_of(&self, h: u32, null_hash: u64) -> u64 {
        match &self.keys {
            KeyStore::Fixed { null: Some(n), .. } if *n == h => null_hash,
            KeyStore::Fixed { values, .. } => hash_word(values[h as usize]),
            KeyStore::Encoded { .. } => hash_bytes(self.keys.encoded(h)),
        }
    }

    /// The id here of group `h` of `other` (whose key hashes to `hash`), a new empty group when the key is new.
    fn gid_of(&mut self, other: &GroupTable, h: u32, hash: u64) -> u32 {
        match &other.keys {
            KeyStore::Fixed { null: Some(n), .. } if *n == h => self.null_gid(),
            KeyStore::Fixed { values, .. } => self.fixed_gid(values[h as usize], hash),
            KeyStore::Encoded { .. } => self.encoded_gid(other.keys.encoded(h), hash),
        }
    }

    /// Folds groups `first..first + ids.len()` of `other` into groups `ids` here.
    fn merge_counts_and_accs(&mut self, ids: &[u32], other: &GroupTable, first: usize) {
        for (&g, &rows) in ids.iter().zip(&other.rows[first..]) {
            self.rows[g as usize] += rows;
        }
        for (a, b) in self.aggs.iter_mut().zip(&other.aggs) {
            a.merge_groups(ids, b, first);
        }
    }

    /// Folds group `h` of `other` (whose key hashes to `hash`) into the group of the same key here.
    pub(crate) fn absorb(&mut self, other: &GroupTable, h: u32, hash: u64) {
        let g = self.gid_of(other, h, hash);
        self.merge_counts_and_accs(&[g], other, h as usize);
    }

    /// Folds `other` in: its groups in their id order, so ids (and float bits) depend on the merge order
    /// only, which the Aggregator fixes. Every key is looked up first, then the accumulators merge
    /// quantity by quantity (a group receives one merge either way, so the bits are the same).
    pub fn merge(&mut self, other: &GroupTable) {
        if self.is_empty() {
            *self = other.clone();
            return;
        }
        self.ensure_table();
        let ids: Vec<u32> = (0..other.len() as u32).map(|h| self.gid_of(other, h, other.hash_of(h, 0))).collect();
        self.merge_counts_and_accs(&ids, other, 0);
    }

    /// `(key kinds, fixed layout?)` and the accumulators' kinds: what must agree for two states to merge.
    pub(crate) fn layout(&self) -> (Vec<super::KeyKind>, bool, Vec<(bool, Needs)>) {
        let (kinds, fixed) = match &self.keys {
            KeyStore::Fixed { kind, .. } => (vec![*kind], true),
            KeyStore::Encoded { kinds, .. } => (kinds.clone(), false),
        };
        let accs = self
            .aggs
            .iter()
            .map(|a| match a {
                ColumnAccs::Float(f) => (true, f.needs),
                ColumnAccs::Int(i) => (false, i.needs),
            })
            .collect();
        (kinds, fixed, accs)
    }

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
}
