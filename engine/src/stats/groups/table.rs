//! One partition of a group-by state: its keys, a hash table from key to group id, the row counts and the
//! accumulators, indexed by the partition's group ids (assigned in order of first appearance).
//!
//! Table entries carry what equality needs inline (the fixed key itself, or the hash of an encoded key), so
//! a probe touches only the table. The table is not serialised: `GroupTable::ensure_table` rebuilds it
//! from the stored keys the first time a decoded state is updated or merged into.

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;
use serde::{Deserialize, Serialize};

use super::accs::{ColumnAccs, Needs, Plan, RIGHT};
use super::keys::{KeyStore, KeyValue, fixed_order, hash_bytes, hash_word};
use super::{AggFn, GroupSpec, KeyKind};
use crate::report::Cell;

/// One partition's groups.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GroupTable {
    pub keys: KeyStore,
    /// Rows of each group (that passed the filter).
    #[serde(with = "super::raw")]
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

    /// The fixed layout's parts: kind, key bits by id, the null key's id.
    fn fixed(&self) -> (KeyKind, &[u64], Option<u32>) {
        match &self.keys {
            KeyStore::Fixed { kind, values, null } => (*kind, values, *null),
            KeyStore::Encoded { .. } => panic!("bug in tally: a sorted partition of encoded keys"),
        }
    }

    /// The [`fixed_order`] of every key but the null one (last in a sorted table), in id order: what the
    /// merge walks of two sorted tables compare.
    fn keyed_ranks(&self) -> Vec<u64> {
        let (kind, values, null) = self.fixed();
        values[..values.len() - usize::from(null.is_some())].iter().map(|&v| fixed_order(kind, v)).collect()
    }

    /// Whether the groups' ids follow their keys' output order: [`fixed_order`] ascending, the null key
    /// (if any) last.
    pub(crate) fn is_sorted_table(&self) -> bool {
        let (kind, values, null) = self.fixed();
        let keyed = values.len() - usize::from(null.is_some());
        null.is_none_or(|g| g as usize == keyed)
            && values[..keyed].windows(2).all(|w| fixed_order(kind, w[0]) < fixed_order(kind, w[1]))
    }

    /// This fixed-layout table with its ids in key order (null last) and no hash table: the form of the
    /// partitions of a partitioned fixed-key state, which merge by merging their sorted keys.
    pub(crate) fn into_sorted(self) -> GroupTable {
        if self.is_sorted_table() {
            return GroupTable { table: HashTable::new(), ..self };
        }
        let (kind, values, null) = self.fixed();
        let mut take: Vec<u32> = (0..self.len() as u32).filter(|&g| Some(g) != null).collect();
        take.sort_unstable_by_key(|&g| fixed_order(kind, values[g as usize]));
        take.extend(null);
        self.rebuilt(&self.empty_like(), &Plan { take, both: Vec::new() })
    }

    /// The merge of two sorted tables (see [`into_sorted`](Self::into_sorted)): one walk over both key
    /// lists; a key in both gets `other`'s accumulators merged into this one's, as [`merge`](Self::merge)
    /// would (so the bits are the same), and the result is sorted.
    pub(crate) fn merge_sorted(&self, other: &GroupTable) -> GroupTable {
        let (na, nb) = (self.fixed().2, other.fixed().2);
        let (ra, rb) = (self.keyed_ranks(), other.keyed_ranks());
        let mut take = vec![0u32; ra.len() + rb.len() + 1];
        let mut both = vec![(0u32, 0u32); ra.len().min(rb.len()) + 1];
        let (mut i, mut j, mut k, mut nboth) = (0, 0, 0, 0);
        // Branch-free: the keys of two random partitions interleave unpredictably.
        while i < ra.len() && j < rb.len() {
            let (x, y) = (ra[i], rb[j]);
            let (le, ge) = (x <= y, x >= y);
            take[k] = if le { i as u32 } else { j as u32 | RIGHT };
            both[nboth] = (k as u32, j as u32);
            nboth += usize::from(le & ge);
            i += usize::from(le);
            j += usize::from(ge);
            k += 1;
        }
        take.truncate(k);
        both.truncate(nboth);
        take.extend(i as u32..ra.len() as u32);
        take.extend((j as u32..rb.len() as u32).map(|j| j | RIGHT));
        match (na, nb) {
            (Some(x), Some(y)) => {
                both.push((take.len() as u32, y));
                take.push(x);
            }
            (Some(x), None) => take.push(x),
            (None, Some(y)) => take.push(y | RIGHT),
            (None, None) => {}
        }
        self.rebuilt(other, &Plan { take, both })
    }

    /// This sorted table with the groups of the sorted table `new` added where their keys are not here yet
    /// (as `new` has them: empty, for [`sorted_of`](Self::sorted_of)'s tables), still sorted; and where
    /// each group of `new` is now. Values then go into the groups one by one, in row order, exactly as
    /// a hash-table insert followed by the same additions would put them.
    pub(crate) fn with_groups_of(&self, new: &GroupTable) -> (GroupTable, Vec<u32>) {
        let (na, (_, b, nb)) = (self.fixed().2, new.fixed());
        let (ra, rb) = (self.keyed_ranks(), new.keyed_ranks());
        let mut take = Vec::with_capacity(ra.len() + rb.len() + 1);
        let mut at = vec![0u32; b.len()];
        let (mut i, mut j) = (0, 0);
        while i < ra.len() && j < rb.len() {
            let (x, y) = (ra[i], rb[j]);
            let k = take.len() as u32;
            if x <= y {
                take.push(i as u32);
                i += 1;
                if x == y {
                    at[j] = k;
                    j += 1;
                }
            } else {
                take.push(j as u32 | RIGHT);
                at[j] = k;
                j += 1;
            }
        }
        take.extend(i as u32..ra.len() as u32);
        for (j, slot) in at.iter_mut().enumerate().take(rb.len()).skip(j) {
            *slot = take.len() as u32;
            take.push(j as u32 | RIGHT);
        }
        match (na, nb) {
            (Some(x), Some(y)) => {
                at[y as usize] = take.len() as u32;
                take.push(x);
            }
            (Some(x), None) => take.push(x),
            (None, Some(y)) => {
                at[y as usize] = take.len() as u32;
                take.push(y | RIGHT);
            }
            (None, None) => {}
        }
        (self.rebuilt(new, &Plan { take, both: Vec::new() }), at)
    }

    /// The groups `plan` lists, from this table (left) and `other` (right), with no hash table.
    fn rebuilt(&self, other: &GroupTable, plan: &Plan) -> GroupTable {
        let (kind, a, na) = self.fixed();
        let (_, b, nb) = other.fixed();
        let mut null = None;
        let values = plan
            .take
            .iter()
            .enumerate()
            .map(|(k, &t)| {
                let (right, g) = (usize::from(t & RIGHT != 0), t & !RIGHT);
                if [na, nb][right] == Some(g) {
                    null = Some(k as u32);
                }
                [a, b][right][g as usize]
            })
            .collect();
        let row_sides = [&self.rows[..], &other.rows[..]];
        let mut rows: Vec<u64> =
            plan.take.iter().map(|&t| row_sides[usize::from(t & RIGHT != 0)][(t & !RIGHT) as usize]).collect();
        for &(k, r) in &plan.both {
            rows[k as usize] += other.rows[r as usize];
        }
        GroupTable {
            keys: KeyStore::Fixed { kind, values, null },
            rows,
            aggs: self.aggs.iter().zip(&other.aggs).map(|(x, y)| x.rebuilt(y, plan)).collect(),
            table: HashTable::new(),
        }
    }

    /// A sorted table of this one's layout (fixed) whose groups are the distinct keys of `keys` (key bits,
    /// with their hashes), and each key's group id. The groups have no rows yet.
    pub(crate) fn sorted_of(&self, keys: &[(u64, u64)]) -> (GroupTable, Vec<u32>) {
        let (kind, _, _) = self.fixed();
        let mut order: Vec<(u64, u32)> =
            keys.iter().enumerate().map(|(k, &(v, _))| (fixed_order(kind, v), k as u32)).collect();
        radsort::sort_by_key(&mut order, |e| e.0);
        let mut values = vec![0u64; keys.len()];
        let mut ids = vec![0u32; keys.len()];
        // Branch-free: a new key starts a group; `next` counts the groups so far.
        let mut next = 0usize;
        let mut last = order.first().map_or(0, |e| !e.0);
        for (rank, k) in order {
            next += usize::from(rank != last);
            last = rank;
            values[next - 1] = keys[k as usize].0;
            ids[k as usize] = (next - 1) as u32;
        }
        values.truncate(next);
        let mut run = self.empty_like();
        run.rows = vec![0; next];
        for a in &mut run.aggs {
            a.grow_to(next);
        }
        run.keys = KeyStore::Fixed { kind, values, null: None };
        (run, ids)
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::stats::groups::{AggColumn, Run};
    use crate::stats::test_rng;

    const FNS: [AggFn; 7] =
        [AggFn::Count, AggFn::Sum, AggFn::Mean, AggFn::Min, AggFn::Max, AggFn::Var, AggFn::NullCount];

    fn spec() -> GroupSpec {
        let needs = FNS.iter().fold(Needs::default(), |n, &f| n.with(f));
        GroupSpec { keys: vec![KeyKind::Int], aggs: vec![AggColumn { float: true, needs }] }
    }

    /// Rows `(key, value)` (`None`: null) added one by one through the hash table, in row order.
    fn hashed(rows: &[(Option<i64>, Option<f64>)]) -> GroupTable {
        let mut t = GroupTable::new(&spec());
        t.ensure_table();
        let mut gids = Vec::new();
        for &(k, _) in rows {
            let g = match k {
                Some(k) => t.fixed_gid(k as u64, hash_word(k as u64)),
                None => t.null_gid(),
            };
            t.rows[g as usize] += 1;
            gids.push(g);
        }
        let values: Vec<f64> = rows.iter().map(|r| r.1.unwrap_or(0.0)).collect();
        let valid: Vec<bool> = rows.iter().map(|r| r.1.is_some()).collect();
        t.aggs[0].update_run(&gids, Run::Float(&values), Some(&valid));
        t
    }

    fn random_rows(seed: u64, n: usize, keys: u64) -> Vec<(Option<i64>, Option<f64>)> {
        let mut next = test_rng(seed);
        (0..n)
            .map(|_| {
                let k = next();
                let key = (!k.is_multiple_of(17)).then(|| ((k >> 8) % keys) as i64 - (keys / 2) as i64);
                let v = next();
                let value = (!v.is_multiple_of(13)).then(|| (v >> 11) as f64 / (1u64 << 40) as f64 - 1000.0);
                (key, value)
            })
            .collect()
    }

    /// Every group as `key → (rows, every aggregation's cell)`: what two tables must agree on, ids aside.
    fn by_key(t: &GroupTable) -> BTreeMap<Option<i64>, String> {
        (0..t.len() as u32)
            .map(|g| {
                let key = match t.key(g).as_slice() {
                    [KeyValue::Int(k)] => Some(*k),
                    [KeyValue::Null] => None,
                    other => panic!("{other:?}"),
                };
                let cells: Vec<String> = FNS.iter().map(|&f| format!("{:?}", t.cell(g, Some(0), f, 1))).collect();
                (key, format!("{} {}", t.rows[g as usize], cells.join(" ")))
            })
            .collect()
    }

    /// Merging sorted tables equals merging through the hash table, bit for bit, and stays sorted;
    /// inserting the new keys of a batch and adding its rows equals adding them through the hash table.
    /// The row counts are checked against a plain count per key.
    #[test]
    fn sorted_merges_and_inserts_equal_the_hash_table_path() {
        for (seed, keys) in [(1, 50), (2, 3_000), (3, 100_000)] {
            let (left, right) = (random_rows(seed, 5_000, keys), random_rows(seed + 100, 4_000, keys));
            let mut want = hashed(&left);
            want.merge(&hashed(&right));
            let sorted = hashed(&left).into_sorted().merge_sorted(&hashed(&right).into_sorted());
            assert!(sorted.is_sorted_table(), "seed {seed}");
            assert_eq!(by_key(&sorted), by_key(&want), "merge, seed {seed}");
            let mut counts: BTreeMap<Option<i64>, u64> = BTreeMap::new();
            for (k, _) in left.iter().chain(&right) {
                *counts.entry(*k).or_default() += 1;
            }
            let got: BTreeMap<Option<i64>, u64> =
                by_key(&sorted).into_iter().map(|(k, v)| (k, v.split(' ').next().unwrap().parse().unwrap())).collect();
            assert_eq!(got, counts, "row counts, seed {seed}");

            // `right`'s rows added one by one to the sorted `left` after inserting its new keys.
            let grown = hashed(&left).into_sorted();
            let keyed: Vec<(u64, u64)> =
                right.iter().filter_map(|r| r.0).map(|k| (k as u64, hash_word(k as u64))).collect();
            let (new, ids) = grown.sorted_of(&keyed);
            let (mut table, at) = grown.with_groups_of(&new);
            assert!(table.is_sorted_table(), "insert, seed {seed}");
            let keyed_rows: Vec<_> = right.iter().filter(|r| r.0.is_some()).collect();
            let gids: Vec<u32> = ids.iter().map(|&g| at[g as usize]).collect();
            for &g in &gids {
                table.rows[g as usize] += 1;
            }
            let values: Vec<f64> = keyed_rows.iter().map(|r| r.1.unwrap_or(0.0)).collect();
            let valid: Vec<bool> = keyed_rows.iter().map(|r| r.1.is_some()).collect();
            table.aggs[0].update_run(&gids, Run::Float(&values), Some(&valid));
            let mut all = left.clone();
            all.extend(right.iter().copied().filter(|r| r.0.is_some()));
            let want = hashed(&all);
            assert_eq!(by_key(&table), by_key(&want), "insert, seed {seed}");
        }
    }
}
