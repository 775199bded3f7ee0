//! Per-group accumulators of one aggregated column, stored column-wise (one vector per quantity, indexed
//! by group id) and only for the quantities the requested aggregations need ([`Needs`]).
//!
//! The accuracy rules are describe's (README "Nulls and NaN"), with its math reused, not rewritten:
//! * integer columns: exact `i128` sums, `mean` = exact sum / count correctly rounded
//!   (`describe_int::exact_mean`), `var`/`std` correctly rounded from the exact Σx and Σx²
//!   (`describe_int::variance_ratio`, `exact_ratio`);
//! * float columns: compensated sums ([`CompensatedSum`], Neumaier) of the finite values, central moments
//!   merged with Pébay's update ([`Moments`]: every value enters as a one-value state, so shift and scaling
//!   rules are the same as describe's); NaN counted apart and excluded; ±inf are values (they count, they
//!   are the min/max, they make `sum`/`mean` infinite or NaN and `var`/`std` NaN).
//!
//! A compensated sum of values beyond 2^400 could overflow although the mean is finite; such values are
//! summed apart, scaled by 2^-600 (exact: a power of two), in a sparse per-group map that ordinary data
//! never touches.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::AggFn;
use crate::report::Cell;
use crate::stats::describe_int::{Wide, exact_mean, variance_ratio};
use crate::stats::exact_ratio::{ratio_to_f64, sqrt_ratio_to_f64};
use crate::stats::float_sum::CompensatedSum;
use crate::stats::moments::{self, Moments};
use crate::stats::numeric::{AsF64, NumericChunk, numeric_dispatch};
use crate::store::IntElem;

/// Values at or beyond this magnitude are summed apart, scaled (see the module docs).
const HUGE: f64 = 2.582_249_878_086_908_6e120; // 2^400
const HUGE_SCALE: i32 = 600;

/// Which per-group quantities an aggregated column keeps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Needs {
    pub sum: bool,
    pub extrema: bool,
    /// Float: central moments; integer: Σx and Σx² exactly.
    pub spread: bool,
    pub nulls: bool,
    pub nan: bool,
}

impl Needs {
    /// Adds what `f` needs.
    pub fn with(mut self, f: AggFn) -> Needs {
        match f {
            AggFn::Count | AggFn::CountOf => {}
            AggFn::Sum | AggFn::Mean => self.sum = true,
            AggFn::Min | AggFn::Max => self.extrema = true,
            AggFn::Var | AggFn::Std => self.spread = true,
            AggFn::NullCount => self.nulls = true,
            AggFn::NanCount => self.nan = true,
        }
        self
    }
}

/// The accumulators of one aggregated column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ColumnAccs {
    Float(FloatAccs),
    Int(IntAccs),
}

impl ColumnAccs {
    pub fn new(float: bool, needs: Needs) -> ColumnAccs {
        if float {
            ColumnAccs::Float(FloatAccs { needs, ..FloatAccs::default() })
        } else {
            ColumnAccs::Int(IntAccs { needs, ..IntAccs::default() })
        }
    }

    /// Empty accumulators of the same kind and needs.
    pub fn empty_like(&self) -> ColumnAccs {
        match self {
            ColumnAccs::Float(a) => ColumnAccs::new(true, a.needs),
            ColumnAccs::Int(a) => ColumnAccs::new(false, a.needs),
        }
    }

    pub fn push_group(&mut self) {
        match self {
            ColumnAccs::Float(a) => a.grow_to(a.n.len() + 1),
            ColumnAccs::Int(a) => a.grow_to(a.n.len() + 1),
        }
    }

    /// Adds empty groups up to `groups` in all.
    pub fn grow_to(&mut self, groups: usize) {
        match self {
            ColumnAccs::Float(a) => a.grow_to(groups),
            ColumnAccs::Int(a) => a.grow_to(groups),
        }
    }

    /// Adds row `row` of `chunk` to group `gid` for every `(row, gid)` of `items`, in the order given (rows
    /// ascending: each group sees its values in row order).
    pub fn update(&mut self, gids: impl Items, chunk: NumericChunk<'_>) {
        match self {
            ColumnAccs::Float(a) => numeric_dispatch!(chunk, c => a.update(gids, c.values, c.validity)),
            ColumnAccs::Int(a) => match chunk {
                NumericChunk::I8(c) => a.update(gids, c.values, c.validity),
                NumericChunk::I16(c) => a.update(gids, c.values, c.validity),
                NumericChunk::I32(c) => a.update(gids, c.values, c.validity),
                NumericChunk::I64(c) => a.update(gids, c.values, c.validity),
                NumericChunk::U8(c) => a.update(gids, c.values, c.validity),
                NumericChunk::U16(c) => a.update(gids, c.values, c.validity),
                NumericChunk::U32(c) => a.update(gids, c.values, c.validity),
                NumericChunk::U64(c) => a.update(gids, c.values, c.validity),
                NumericChunk::F64(_) | NumericChunk::F32(_) => {
                    panic!("bug in tally: integer group accumulators met a float column")
                }
            },
        }
    }

    /// Adds item `k` of `run` to group `gids[k]` for every k, in item order (rows ascending: each group sees
    /// its values in row order); `validity[k]` false is a null.
    pub fn update_run(&mut self, gids: &[u32], run: Run<'_>, validity: Option<&[bool]>) {
        match (self, run) {
            (ColumnAccs::Float(a), Run::Float(x)) => a.update_run(gids, x, validity),
            (ColumnAccs::Float(a), Run::Int(x)) => a.update_run(gids, x, validity),
            (ColumnAccs::Float(a), Run::UInt(x)) => a.update_run(gids, x, validity),
            (ColumnAccs::Int(a), Run::Int(x)) => a.update_run(gids, x, validity),
            (ColumnAccs::Int(a), Run::UInt(x)) => a.update_run(gids, x, validity),
            (ColumnAccs::Int(_), Run::Float(_)) => {
                panic!("bug in tally: integer group accumulators met a float column")
            }
        }
    }

    /// Folds groups `first..first + ids.len()` of `other` into groups `ids` here (`ids[k]` receives group
    /// `first + k`; ids are distinct). Quantity by quantity, each in one tight loop: a merge of two large
    /// partitions then streams through `other`'s vectors instead of hopping between a dozen per group.
    pub fn merge_groups(&mut self, ids: &[u32], other: &ColumnAccs, first: usize) {
        match (self, other) {
            (ColumnAccs::Float(a), ColumnAccs::Float(b)) => a.merge_groups(ids, b, first),
            (ColumnAccs::Int(a), ColumnAccs::Int(b)) => a.merge_groups(ids, b, first),
            _ => panic!("bug in tally: group accumulators of different column kinds"),
        }
    }

    /// The accumulators of the groups `plan` lists, from this state (left) and `other` (right).
    pub fn rebuilt(&self, other: &ColumnAccs, plan: &Plan) -> ColumnAccs {
        match (self, other) {
            (ColumnAccs::Float(a), ColumnAccs::Float(b)) => ColumnAccs::Float(a.rebuilt(b, plan)),
            (ColumnAccs::Int(a), ColumnAccs::Int(b)) => ColumnAccs::Int(a.rebuilt(b, plan)),
            _ => panic!("bug in tally: group accumulators of different column kinds"),
        }
    }

    /// Aggregation `f` of group `g` (`AggFn::Count` is the group's rows, kept by the caller).
    pub fn cell(&self, g: u32, f: AggFn, ddof: u64) -> Cell {
        match self {
            ColumnAccs::Float(a) => a.cell(g as usize, f, ddof),
            ColumnAccs::Int(a) => a.cell(g as usize, f, ddof),
        }
    }

    /// Heap bytes per group of accumulators with `needs` (for the memory estimate).
    pub fn bytes_per_group(float: bool, needs: Needs) -> u64 {
        let flag = |b: bool, n: u64| if b { n } else { 0 };
        let common = 8 + flag(needs.nulls, 8);
        if float {
            common + 16 + flag(needs.nan, 8) + flag(needs.sum, 16) + flag(needs.extrema, 16) + flag(needs.spread, 64)
        } else {
            common + flag(needs.sum || needs.spread, 16) + flag(needs.extrema, 32) + flag(needs.spread, 32)
        }
    }
}

/// Which rows of a chunk piece go to which groups, in the order they are added.
pub trait Items: Copy {
    /// Calls `f(row, group)` for every item, in order.
    fn each(self, f: impl FnMut(usize, usize));
}

/// `(row, group)` pairs.
impl Items for &[(u32, u32)] {
    #[inline(always)]
    fn each(self, mut f: impl FnMut(usize, usize)) {
        for &(i, g) in self {
            f(i as usize, g as usize);
        }
    }
}

/// Every row of the piece, row `i` to group `.0[i]` (an unfiltered piece of a one-table state).
#[derive(Clone, Copy, Debug)]
pub struct Dense<'a>(pub &'a [u32]);

impl Items for Dense<'_> {
    #[inline(always)]
    fn each(self, mut f: impl FnMut(usize, usize)) {
        for (i, &g) in self.0.iter().enumerate() {
            f(i, g as usize);
        }
    }
}

/// One value column's items in item order (`groups::scatter`), widened to one type per kind: floats to
/// f64 (exact), signed integers to i64, unsigned to u64.
#[derive(Clone, Copy, Debug)]
pub enum Run<'a> {
    Float(&'a [f64]),
    Int(&'a [i64]),
    UInt(&'a [u64]),
}

/// How to rebuild a state from two (a merge of two sorted partitions, or a permutation into key order,
/// `table.rs`): group `k` starts as a copy of one group, `take[k]` (of the left state, or of the right one
/// when [`RIGHT`] is set), and each `both` entry `(k, r)` then merges group `r` of the right state into it.
/// Copy first, merge after: both loops run without a data-dependent branch per group (a merge of random
/// keys would mispredict one in two).
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub take: Vec<u32>,
    pub both: Vec<(u32, u32)>,
}

/// The bit of [`Plan::take`] entries that come from the right state.
pub const RIGHT: u32 = 1 << 31;

impl Plan {
    /// The entries of `take` as `(from the right?, group)`.
    #[inline(always)]
    fn split(t: u32) -> (bool, usize) {
        (t & RIGHT != 0, (t & !RIGHT) as usize)
    }
}

/// One quantity's vector of a rebuilt state (both empty: a quantity not kept).
fn rebuilt<T: Clone>(a: &[T], b: &[T], plan: &Plan, merge: impl Fn(&mut T, &T)) -> Vec<T> {
    if a.is_empty() && b.is_empty() {
        return Vec::new();
    }
    // The side is picked by indexing, not by a branch the interleaving of two key lists would mispredict.
    let sides = [a, b];
    let mut out: Vec<T> = plan
        .take
        .iter()
        .map(|&t| {
            let (right, g) = Plan::split(t);
            sides[usize::from(right)][g].clone()
        })
        .collect();
    for &(k, r) in &plan.both {
        merge(&mut out[k as usize], &b[r as usize]);
    }
    out
}

fn rebuilt_counts(a: &[u64], b: &[u64], plan: &Plan) -> Vec<u64> {
    rebuilt(a, b, plan, |x, y| *x += y)
}

/// A sparse per-group quantity (only the groups that have it) of a rebuilt state.
fn sparse_rebuilt<T: Copy + Default>(
    a: &BTreeMap<u32, T>,
    b: &BTreeMap<u32, T>,
    plan: &Plan,
    merge: impl Fn(&mut T, &T),
) -> BTreeMap<u32, T> {
    let mut out = BTreeMap::new();
    if a.is_empty() && b.is_empty() {
        return out;
    }
    for (k, &t) in plan.take.iter().enumerate() {
        let (right, g) = Plan::split(t);
        if let Some(x) = if right { b } else { a }.get(&(g as u32)) {
            out.insert(k as u32, *x);
        }
    }
    for &(k, r) in &plan.both {
        if let Some(x) = b.get(&r) {
            merge(out.entry(k).or_default(), x);
        }
    }
    out
}

/// Folds the sparse quantity of groups `first..first + ids.len()` of `src` into groups `ids` of `dst`.
fn sparse_merge_groups<T: Default>(
    dst: &mut BTreeMap<u32, T>,
    src: &BTreeMap<u32, T>,
    ids: &[u32],
    first: usize,
    merge: impl Fn(&mut T, &T),
) {
    for (&h, x) in src.range(first as u32..(first + ids.len()) as u32) {
        merge(dst.entry(ids[h as usize - first]).or_default(), x);
    }
}

fn add_inf(a: &mut (u64, u64), b: &(u64, u64)) {
    a.0 += b.0;
    a.1 += b.1;
}

/// `dst[ids[k]] ⊕= src[k]` for every k.
#[inline(always)]
fn scatter<T>(dst: &mut [T], src: &[T], ids: &[u32], mut merge: impl FnMut(&mut T, &T)) {
    for (&g, x) in ids.iter().zip(src) {
        merge(&mut dst[g as usize], x);
    }
}

#[inline(always)]
fn add_counts(dst: &mut [u64], src: &[u64], ids: &[u32]) {
    scatter(dst, src, ids, |a, b| *a += b);
}

#[inline(always)]
fn valid(validity: Option<&[u64]>, i: usize) -> bool {
    validity.is_none_or(|w| (w[i / 64] >> (i % 64)) & 1 == 1)
}

/// Accumulators of a float column; vectors of quantities not needed stay empty.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FloatAccs {
    pub needs: Needs,
    /// Finite values.
    #[serde(with = "super::raw")]
    pub n: Vec<u64>,
    /// `(+inf, -inf)` counts; only groups that have infinities (rare: dense vectors of zeros would be
    /// copied by every merge of sorted partitions).
    pub inf: BTreeMap<u32, (u64, u64)>,
    #[serde(with = "super::raw")]
    pub nulls: Vec<u64>,
    #[serde(with = "super::raw")]
    pub nan: Vec<u64>,
    /// Over finite values below 2^400 in magnitude.
    #[serde(with = "super::raw")]
    pub sum: Vec<CompensatedSum>,
    /// Over finite values beyond, scaled by 2^-600; only groups that have such values.
    pub huge: BTreeMap<u32, CompensatedSum>,
    #[serde(with = "super::raw")]
    pub min: Vec<f64>,
    #[serde(with = "super::raw")]
    pub max: Vec<f64>,
    pub moments: Vec<Moments>,
}

/// What an ordinary value (finite, below [`HUGE`]) does to a group, moments aside: the one definition that
/// [`FloatAccs::add`] and the tight loop of [`FloatAccs::update_ordinary_first`] share.
struct Ordinary<'a> {
    needs: Needs,
    n: &'a mut [u64],
    sum: &'a mut [CompensatedSum],
    min: &'a mut [f64],
    max: &'a mut [f64],
}

impl Ordinary<'_> {
    #[inline(always)]
    fn add(&mut self, g: usize, x: f64) {
        self.n[g] += 1;
        if self.needs.sum {
            self.sum[g].add_branch_free(x);
        }
        if self.needs.extrema {
            self.min[g] = self.min[g].min(x);
            self.max[g] = self.max[g].max(x);
        }
    }
}

impl FloatAccs {
    fn grow_to(&mut self, groups: usize) {
        let n = self.needs;
        self.n.resize(groups, 0);
        if n.nulls {
            self.nulls.resize(groups, 0);
        }
        if n.nan {
            self.nan.resize(groups, 0);
        }
        if n.sum {
            self.sum.resize(groups, CompensatedSum::default());
        }
        if n.extrema {
            self.min.resize(groups, f64::INFINITY);
            self.max.resize(groups, f64::NEG_INFINITY);
        }
        if n.spread {
            self.moments.resize(groups, Moments::default());
        }
    }

    fn update<T: AsF64>(&mut self, gids: impl Items, values: &[T], validity: Option<&[u64]>) {
        if !self.needs.spread {
            return match validity {
                None => self.update_ordinary_first(gids, values, |_| true),
                Some(words) => self.update_ordinary_first(gids, values, |i| valid(Some(words), i)),
            };
        }
        gids.each(|i, g| {
            if valid(validity, i) {
                self.add(g, values[i].as_f64());
            } else if self.needs.nulls {
                self.nulls[g] += 1;
            }
        });
    }

    /// [`update`](Self::update) for accumulators without moments (`count, mean(a)`, `min(c), max(c)` and
    /// the like): ordinary values (finite, below [`HUGE`]) take a tight loop over the quantities they
    /// touch, nulls are counted in the same loop, and the others (NaN, infinities, huge values) are set
    /// aside and added after, in row order. The two kinds touch different quantities but for the count
    /// `n` and the extrema, where the order does not matter (integer addition; and the values set aside
    /// are never zero, so min and max pick the same value, sign of zero included), and null counts are
    /// integers, so every quantity gets the same bits as adding row by row. `is_valid(row)` is false for
    /// a null (constant true for a column without nulls, so that loop has no bit test).
    #[inline(always)]
    fn update_ordinary_first<T: AsF64>(&mut self, gids: impl Items, values: &[T], is_valid: impl Fn(usize) -> bool) {
        let count_nulls = self.needs.nulls;
        let nulls = &mut self.nulls;
        let mut ordinary =
            Ordinary { needs: self.needs, n: &mut self.n, sum: &mut self.sum, min: &mut self.min, max: &mut self.max };
        let mut rest = Vec::new();
        gids.each(|i, g| {
            if !is_valid(i) {
                if count_nulls {
                    nulls[g] += 1;
                }
                return;
            }
            let x = values[i].as_f64();
            if x.abs() < HUGE {
                ordinary.add(g, x);
            } else {
                rest.push((i, g));
            }
        });
        for (i, g) in rest {
            self.add(g, values[i].as_f64());
        }
    }

    fn update_run<T: AsF64>(&mut self, gids: &[u32], values: &[T], validity: Option<&[bool]>) {
        for (k, (&g, x)) in gids.iter().zip(values).enumerate() {
            if validity.is_none_or(|v| v[k]) {
                self.add(g as usize, x.as_f64());
            } else if self.needs.nulls {
                self.nulls[g as usize] += 1;
            }
        }
    }

    /// The quantities an ordinary value (finite, below [`HUGE`]) touches, moments aside, borrowed apart.
    fn ordinary(&mut self) -> Ordinary<'_> {
        Ordinary { needs: self.needs, n: &mut self.n, sum: &mut self.sum, min: &mut self.min, max: &mut self.max }
    }

    #[inline(always)]
    fn add(&mut self, g: usize, x: f64) {
        if x.abs() < HUGE {
            self.ordinary().add(g, x);
            if self.needs.spread {
                self.moments[g].add_value(x);
            }
            return;
        }
        if x.is_nan() {
            if self.needs.nan {
                self.nan[g] += 1;
            }
            return;
        }
        if self.needs.extrema {
            self.min[g] = self.min[g].min(x);
            self.max[g] = self.max[g].max(x);
        }
        if x.is_infinite() {
            if x > 0.0 {
                self.inf.entry(g as u32).or_default().0 += 1;
            } else {
                self.inf.entry(g as u32).or_default().1 += 1;
            }
            return;
        }
        self.n[g] += 1;
        if self.needs.sum {
            self.huge.entry(g as u32).or_default().add(moments::ldexp(x, -i64::from(HUGE_SCALE)));
        }
        if self.needs.spread {
            self.moments[g].add_value(x);
        }
    }

    fn merge_groups(&mut self, ids: &[u32], o: &FloatAccs, first: usize) {
        let range = first..first + ids.len();
        add_counts(&mut self.n, &o.n[range.clone()], ids);
        sparse_merge_groups(&mut self.inf, &o.inf, ids, first, add_inf);
        if self.needs.nulls {
            add_counts(&mut self.nulls, &o.nulls[range.clone()], ids);
        }
        if self.needs.nan {
            add_counts(&mut self.nan, &o.nan[range.clone()], ids);
        }
        if self.needs.sum {
            scatter(&mut self.sum, &o.sum[range.clone()], ids, |a, b| a.merge(b));
            sparse_merge_groups(&mut self.huge, &o.huge, ids, first, CompensatedSum::merge);
        }
        if self.needs.extrema {
            scatter(&mut self.min, &o.min[range.clone()], ids, |a, b| *a = a.min(*b));
            scatter(&mut self.max, &o.max[range.clone()], ids, |a, b| *a = a.max(*b));
        }
        if self.needs.spread {
            scatter(&mut self.moments, &o.moments[range], ids, |a, b| a.merge(b));
        }
    }

    fn rebuilt(&self, o: &FloatAccs, plan: &Plan) -> FloatAccs {
        FloatAccs {
            needs: self.needs,
            n: rebuilt_counts(&self.n, &o.n, plan),
            inf: sparse_rebuilt(&self.inf, &o.inf, plan, add_inf),
            nulls: rebuilt_counts(&self.nulls, &o.nulls, plan),
            nan: rebuilt_counts(&self.nan, &o.nan, plan),
            sum: rebuilt(&self.sum, &o.sum, plan, |a, b| a.merge(b)),
            huge: sparse_rebuilt(&self.huge, &o.huge, plan, CompensatedSum::merge),
            min: rebuilt(&self.min, &o.min, plan, |a, b| *a = a.min(*b)),
            max: rebuilt(&self.max, &o.max, plan, |a, b| *a = a.max(*b)),
            moments: rebuilt(&self.moments, &o.moments, plan, |a, b| a.merge(b)),
        }
    }

    /// `(+inf, -inf)` values of group `g`.
    fn infinities(&self, g: usize) -> (u64, u64) {
        self.inf.get(&(g as u32)).copied().unwrap_or_default()
    }

    fn count(&self, g: usize) -> u64 {
        let (pos, neg) = self.infinities(g);
        self.n[g] + pos + neg
    }

    /// What infinities do to `sum` and `mean`: `None` when there are none.
    fn infinite_total(&self, g: usize) -> Option<f64> {
        let (pos, neg) = self.infinities(g);
        match (pos > 0, neg > 0) {
            (true, true) => Some(f64::NAN),
            (true, false) => Some(f64::INFINITY),
            (false, true) => Some(f64::NEG_INFINITY),
            (false, false) => None,
        }
    }

    fn finite_sum(&self, g: usize) -> f64 {
        match self.huge.get(&(g as u32)) {
            None => self.sum[g].value(),
            Some(big) => moments::ldexp(big.value(), HUGE_SCALE.into()) + self.sum[g].value(),
        }
    }

    fn finite_mean(&self, g: usize) -> f64 {
        let n = self.n[g];
        match self.huge.get(&(g as u32)) {
            None => self.sum[g].mean(n),
            Some(big) => moments::ldexp(big.value() / n as f64, HUGE_SCALE.into()) + self.sum[g].value() / n as f64,
        }
    }

    fn cell(&self, g: usize, f: AggFn, ddof: u64) -> Cell {
        let count = self.count(g);
        let some = |x: Option<f64>| x.map_or(Cell::Missing, Cell::Float);
        match f {
            AggFn::Count | AggFn::CountOf => Cell::Count(count),
            AggFn::NullCount => Cell::Count(self.nulls[g]),
            AggFn::NanCount => Cell::Count(self.nan[g]),
            AggFn::Sum if count == 0 => Cell::Float(0.0),
            AggFn::Sum => Cell::Float(self.infinite_total(g).unwrap_or_else(|| self.finite_sum(g))),
            _ if count == 0 => Cell::Missing,
            AggFn::Mean => Cell::Float(self.infinite_total(g).unwrap_or_else(|| self.finite_mean(g))),
            AggFn::Min => Cell::Float(self.min[g]),
            AggFn::Max => Cell::Float(self.max[g]),
            AggFn::Var | AggFn::Std if self.infinite_total(g).is_some() => some((count > ddof).then_some(f64::NAN)),
            AggFn::Var => some(self.moments[g].variance(ddof)),
            AggFn::Std => some(self.moments[g].std(ddof)),
        }
    }
}

/// Accumulators of an integer column; vectors of quantities not needed stay empty.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IntAccs {
    pub needs: Needs,
    #[serde(with = "super::raw")]
    pub n: Vec<u64>,
    #[serde(with = "super::raw")]
    pub nulls: Vec<u64>,
    /// Exact Σx (for sum, mean, var and std).
    pub sum: Vec<i128>,
    pub min: Vec<i128>,
    pub max: Vec<i128>,
    /// Exact Σx².
    pub sum_sq: Vec<Wide>,
}

impl IntAccs {
    fn grow_to(&mut self, groups: usize) {
        let n = self.needs;
        self.n.resize(groups, 0);
        if n.nulls {
            self.nulls.resize(groups, 0);
        }
        if n.sum || n.spread {
            self.sum.resize(groups, 0);
        }
        if n.extrema {
            self.min.resize(groups, i128::MAX);
            self.max.resize(groups, i128::MIN);
        }
        if n.spread {
            self.sum_sq.resize(groups, Wide::default());
        }
    }

    fn update<T: IntElem>(&mut self, gids: impl Items, values: &[T], validity: Option<&[u64]>) {
        gids.each(|i, g| self.add(g, valid(validity, i).then(|| values[i].to_i128())));
    }

    fn update_run<T: IntElem>(&mut self, gids: &[u32], values: &[T], validity: Option<&[bool]>) {
        for (k, (&g, x)) in gids.iter().zip(values).enumerate() {
            self.add(g as usize, validity.is_none_or(|v| v[k]).then(|| x.to_i128()));
        }
    }

    /// Adds value `x` (`None`: a null) to group `g`.
    #[inline(always)]
    fn add(&mut self, g: usize, x: Option<i128>) {
        let needs = self.needs;
        let Some(x) = x else {
            if needs.nulls {
                self.nulls[g] += 1;
            }
            return;
        };
        self.n[g] += 1;
        if needs.sum || needs.spread {
            self.sum[g] += x;
        }
        if needs.extrema {
            self.min[g] = self.min[g].min(x);
            self.max[g] = self.max[g].max(x);
        }
        if needs.spread {
            let a = x.unsigned_abs();
            self.sum_sq[g].add_u128(a * a);
        }
    }

    fn rebuilt(&self, o: &IntAccs, plan: &Plan) -> IntAccs {
        IntAccs {
            needs: self.needs,
            n: rebuilt_counts(&self.n, &o.n, plan),
            nulls: rebuilt_counts(&self.nulls, &o.nulls, plan),
            sum: rebuilt(&self.sum, &o.sum, plan, |a, b| *a += b),
            min: rebuilt(&self.min, &o.min, plan, |a, b| *a = (*a).min(*b)),
            max: rebuilt(&self.max, &o.max, plan, |a, b| *a = (*a).max(*b)),
            sum_sq: rebuilt(&self.sum_sq, &o.sum_sq, plan, |a, b| a.add(b)),
        }
    }

    fn merge_groups(&mut self, ids: &[u32], o: &IntAccs, first: usize) {
        let range = first..first + ids.len();
        add_counts(&mut self.n, &o.n[range.clone()], ids);
        if self.needs.nulls {
            add_counts(&mut self.nulls, &o.nulls[range.clone()], ids);
        }
        if self.needs.sum || self.needs.spread {
            scatter(&mut self.sum, &o.sum[range.clone()], ids, |a, b| *a += b);
        }
        if self.needs.extrema {
            scatter(&mut self.min, &o.min[range.clone()], ids, |a, b| *a = (*a).min(*b));
            scatter(&mut self.max, &o.max[range.clone()], ids, |a, b| *a = (*a).max(*b));
        }
        if self.needs.spread {
            scatter(&mut self.sum_sq, &o.sum_sq[range], ids, |a, b| a.add(b));
        }
    }

    fn cell(&self, g: usize, f: AggFn, ddof: u64) -> Cell {
        let n = self.n[g];
        match f {
            AggFn::Count | AggFn::CountOf => Cell::Count(n),
            AggFn::NullCount => Cell::Count(self.nulls[g]),
            AggFn::NanCount => Cell::Count(0),
            AggFn::Sum => Cell::Int(self.sum[g]),
            _ if n == 0 => Cell::Missing,
            AggFn::Mean => Cell::Float(exact_mean(self.sum[g], n)),
            AggFn::Min => Cell::Int(self.min[g]),
            AggFn::Max => Cell::Int(self.max[g]),
            AggFn::Var | AggFn::Std => match variance_ratio(n, self.sum[g], &self.sum_sq[g], ddof) {
                None => Cell::Missing,
                Some((p, q)) if f == AggFn::Var => Cell::Float(ratio_to_f64(&p, &q)),
                Some((p, q)) => Cell::Float(sqrt_ratio_to_f64(&p, &q)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_constant_is_two_to_the_400() {
        assert_eq!(HUGE, moments::pow2(400));
    }

    /// The tight loop for columns without nulls sets NaN, infinities and huge values aside; every quantity
    /// must still get the bits of adding the rows one by one, in row order (the definition).
    #[test]
    fn ordinary_values_first_gives_the_bits_of_row_by_row_addition() {
        let specials = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300, -1e300, 0.0, -0.0, f64::MAX];
        let mut next = crate::stats::test_rng(7);
        let values: Vec<f64> = (0..20_000)
            .map(|_| {
                let r = next();
                if r.is_multiple_of(23) {
                    specials[(r >> 8) as usize % specials.len()]
                } else {
                    ((r >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 1e6
                }
            })
            .collect();
        let ids: Vec<u32> = (0..values.len()).map(|_| (next() % 37) as u32).collect();
        // About one row in eight null, for the runs with validity words.
        let words: Vec<u64> = (0..values.len().div_ceil(64)).map(|_| next() | next() | next()).collect();
        let lists = [&[AggFn::Mean][..], &[AggFn::Min, AggFn::Max], &[AggFn::Sum, AggFn::Max, AggFn::NanCount]];
        let runs = lists.iter().flat_map(|fns| [(*fns, None), (*fns, Some(&words[..]))]);
        let with_nulls = [AggFn::Min, AggFn::Mean, AggFn::NullCount];
        for (fns, validity) in runs.chain([(&with_nulls[..], Some(&words[..]))]) {
            let needs = fns.iter().fold(Needs::default(), |n, &f| n.with(f));
            let mut fast = FloatAccs { needs, ..FloatAccs::default() };
            fast.grow_to(37);
            let mut slow = fast.clone();
            fast.update(Dense(&ids), &values, validity);
            for (i, (&g, &x)) in ids.iter().zip(&values).enumerate() {
                if validity.is_none_or(|w| (w[i / 64] >> (i % 64)) & 1 == 1) {
                    slow.add(g as usize, x);
                } else if needs.nulls {
                    slow.nulls[g as usize] += 1;
                }
            }
            let bits = |a: &FloatAccs| {
                // Debug shows both halves of each compensated sum, to the last bit.
                let sums = format!("{:?}", a.sum);
                let ext: Vec<(u64, u64)> = a.min.iter().zip(&a.max).map(|(x, y)| (x.to_bits(), y.to_bits())).collect();
                let huge = format!("{:?}", a.huge);
                (a.n.clone(), a.nan.clone(), a.inf.clone(), a.nulls.clone(), sums, ext, huge)
            };
            assert_eq!(bits(&fast), bits(&slow), "{fns:?}, validity {}", validity.is_some());
            assert!(!needs.nulls || fast.nulls.iter().sum::<u64>() > 1_000, "nulls were counted");
            assert!(fast.inf.len() > 5 && (fast.huge.len() > 5 || !needs.sum), "the special values were met");
        }
    }

    #[test]
    fn huge_values_keep_a_finite_mean() {
        let mut a = FloatAccs { needs: Needs::default().with(AggFn::Mean), ..FloatAccs::default() };
        a.grow_to(1);
        a.update(&[(0, 0), (1, 0), (2, 0)][..], &[f64::MAX, f64::MAX, 1.0], None);
        assert_eq!(a.cell(0, AggFn::Sum, 1), Cell::Float(f64::INFINITY));
        let Cell::Float(m) = a.cell(0, AggFn::Mean, 1) else { panic!("no mean") };
        assert!((m - f64::MAX * (2.0 / 3.0)).abs() <= f64::MAX * 1e-15, "{m}");
    }
}
