//! `distinct` (exact distinct counts per column, or HyperLogLog estimates with `--approx`) and `top` (the
//! k most frequent values with exact counts). Exact counting is a group-by without aggregations, one per
//! column; nulls and NaN are not counted as values but reported apart.

use arrow_schema::Schema;
use serde::{Deserialize, Serialize};

use super::describe::DescribedColumn;
use super::groupby::key_column;
use super::memory::Guard;
use super::{Resolved, Step, described_columns, positions};
use crate::error::{Error, Result};
use crate::plan::{Plan, StatEntry};
use crate::report::{InputInfo, RowFilter};
use crate::stats::groups::sketch::Estimate;
use crate::stats::groups::{GroupSpec, Groups, KeyKind, KeyValue};
use crate::stats::{AnyPartial, PartialSet, Stat};

/// `tally distinct`.
#[derive(Clone, Debug, PartialEq)]
pub struct DistinctRequest {
    pub columns: Vec<String>,
    /// HyperLogLog estimates instead of exact counts.
    pub approx: bool,
    /// Refuse an exact count whose estimated state exceeds this many bytes (default: the memory available).
    pub memory_limit: Option<u64>,
}

/// `tally top`.
#[derive(Clone, Debug, PartialEq)]
pub struct TopRequest {
    pub column: String,
    pub k: usize,
    /// As [`DistinctRequest::memory_limit`].
    pub memory_limit: Option<u64>,
}

/// A distinct or top job: one pass.
#[derive(Debug)]
pub struct CountJob {
    pub(super) columns: Vec<usize>,
    kinds: Vec<KeyKind>,
    /// `None`: distinct; `Some(k)`: top k.
    top: Option<usize>,
    pub(super) approx: bool,
    /// One guard per column (each column is its own state); unused with `approx`.
    pub(super) guards: Vec<Guard>,
    done: bool,
}

fn guards(kinds: &[KeyKind], names: &[String], limit: Option<u64>, what: &str) -> Vec<Guard> {
    kinds
        .iter()
        .zip(names)
        .map(|(&kind, name)| {
            let bytes = GroupSpec { keys: vec![kind], aggs: vec![] }.bytes_per_group();
            Guard::new(limit, bytes, format!("{what} of {name}"), "use `distinct --approx`")
        })
        .collect()
}

impl DistinctRequest {
    pub(super) fn validate(&self, schema: &Schema) -> Result<CountJob> {
        if self.columns.is_empty() {
            return Err(Error::input("distinct needs at least one column (--columns a,b,...)"));
        }
        let (columns, kinds): (Vec<usize>, Vec<KeyKind>) =
            self.columns.iter().map(|c| key_column(schema, c, true)).collect::<Result<Vec<_>>>()?.into_iter().unzip();
        let guards = guards(&kinds, &self.columns, self.memory_limit, "distinct");
        Ok(CountJob { columns, kinds, top: None, approx: self.approx, guards, done: false })
    }
}

impl TopRequest {
    pub(super) fn validate(&self, schema: &Schema) -> Result<CountJob> {
        let (index, kind) = key_column(schema, &self.column, true)?;
        let guards = guards(&[kind], std::slice::from_ref(&self.column), self.memory_limit, "top");
        Ok(CountJob { columns: vec![index], kinds: vec![kind], top: Some(self.k), approx: false, guards, done: false })
    }
}

impl CountJob {
    pub(super) fn step(&mut self, plan: &Plan, previous: Option<&PartialSet>) -> Result<Step> {
        let positions = positions(plan, &self.columns)?;
        if !self.approx && !self.done {
            // Columns are separate states: each guard sees its own column (all sketched in one pass).
            let mut sketch = Vec::new();
            for (i, guard) in self.guards.iter_mut().enumerate() {
                let own = previous
                    .filter(|p| p.stats.len() == positions.len())
                    .map(|p| PartialSet { rows: p.rows, stats: vec![p.stats[i].clone()] });
                if let Some(mut entries) = guard.step(plan, &positions[i..=i], own.as_ref())? {
                    sketch.append(&mut entries);
                }
            }
            if !sketch.is_empty() {
                // Guards that did not need a sketch get one anyway so the pass has one entry per column.
                let entries =
                    positions.iter().map(|&p| StatEntry { columns: vec![p], stat: Stat::ApproxDistinct }).collect();
                return Ok(Step::Pass(entries));
            }
        }
        if self.done {
            let columns = described_columns(plan, &positions);
            return Ok(Step::Done(match self.top {
                None => Resolved::Distinct(ResolvedDistinct { columns, approx: self.approx }),
                Some(k) => Resolved::Top(ResolvedTop { column: columns[0].clone(), k }),
            }));
        }
        self.done = true;
        Ok(Step::Pass(
            positions
                .into_iter()
                .zip(&self.kinds)
                .map(|(p, &kind)| StatEntry {
                    columns: vec![p],
                    stat: if self.approx {
                        Stat::ApproxDistinct
                    } else {
                        Stat::GroupBy(GroupSpec { keys: vec![kind], aggs: vec![] })
                    },
                })
                .collect(),
        ))
    }
}

/// A distinct count whose final state is one group or sketch state per column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResolvedDistinct {
    pub columns: Vec<DescribedColumn>,
    pub approx: bool,
}

/// A top-k whose final state is the column's group state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResolvedTop {
    pub column: DescribedColumn,
    pub k: usize,
}

/// Exact or estimated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DistinctCount {
    Exact(u64),
    Approx(Estimate),
}

#[derive(Clone, Debug, PartialEq)]
pub struct DistinctColumn {
    pub name: String,
    pub type_name: String,
    /// Distinct values, null and NaN not included.
    pub distinct: DistinctCount,
    pub null_count: u64,
    /// Rows holding NaN (all NaNs are one value).
    pub nan_count: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DistinctReport {
    pub input: InputInfo,
    pub rows: u64,
    pub filter: Option<RowFilter>,
    pub approx: bool,
    pub columns: Vec<DistinctColumn>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TopReport {
    pub input: InputInfo,
    pub rows: u64,
    pub filter: Option<RowFilter>,
    pub column: DescribedColumn,
    pub k: usize,
    /// The most frequent values with their counts: count descending, ties by value ascending.
    pub values: Vec<(KeyValue, u64)>,
    pub distinct: u64,
    pub null_count: u64,
    pub nan_count: u64,
}

/// `(distinct values, null rows, NaN rows)`.
fn counts(groups: &Groups) -> (u64, u64, u64) {
    let (mut distinct, mut nulls, mut nans) = (0, 0, 0);
    for g in groups.ids() {
        match groups.is_null_or_nan(g) {
            (true, _) => nulls += groups.rows(g),
            (_, true) => nans += groups.rows(g),
            _ => distinct += 1,
        }
    }
    (distinct, nulls, nans)
}

impl ResolvedDistinct {
    pub(super) fn finish(&self, state: &PartialSet, input: InputInfo) -> Result<DistinctReport> {
        if state.stats.len() != self.columns.len() {
            return Err(Error::internal("a distinct count finished with the wrong number of states"));
        }
        let columns = self
            .columns
            .iter()
            .zip(&state.stats)
            .map(|(c, s)| {
                let (distinct, null_count, nan_count) = match s {
                    AnyPartial::Groups(g) => {
                        let (d, n, nan) = counts(g);
                        (DistinctCount::Exact(d), n, nan)
                    }
                    AnyPartial::Sketch(k) => (DistinctCount::Approx(k.estimate()), k.null_count, k.nan_count),
                    other => {
                        return Err(Error::internal(format!("a distinct count got a {} state", other.kind_name())));
                    }
                };
                Ok(DistinctColumn {
                    name: c.name.clone(),
                    type_name: c.type_name.clone(),
                    distinct,
                    null_count,
                    nan_count,
                })
            })
            .collect::<Result<_>>()?;
        Ok(DistinctReport { input, rows: state.rows, filter: None, approx: self.approx, columns })
    }
}

impl ResolvedTop {
    pub(super) fn finish(&self, state: &PartialSet, input: InputInfo) -> Result<TopReport> {
        let [AnyPartial::Groups(groups)] = state.stats.as_slice() else {
            return Err(Error::internal("a top-k finished without its group state"));
        };
        let (distinct, null_count, nan_count) = counts(groups);
        // The k-th largest count first (linear), then only the groups at or above it are ordered.
        let mut candidates: Vec<(u64, u32)> =
            groups.ids().filter(|&g| groups.is_null_or_nan(g) == (false, false)).map(|g| (groups.rows(g), g)).collect();
        if self.k == 0 {
            candidates.clear();
        } else if self.k < candidates.len() {
            let (_, &mut (kth, _), _) =
                candidates.select_nth_unstable_by_key(self.k - 1, |&(n, _)| std::cmp::Reverse(n));
            candidates.retain(|&(n, _)| n >= kth);
        }
        let mut ids = groups.in_key_order(candidates.into_iter().map(|(_, g)| g).collect());
        // Stable: equal counts keep ascending key order.
        ids.sort_by_key(|&g| std::cmp::Reverse(groups.rows(g)));
        ids.truncate(self.k);
        let values = ids.iter().map(|&g| (groups.key(g).remove(0), groups.rows(g))).collect();
        Ok(TopReport {
            input,
            rows: state.rows,
            filter: None,
            column: self.column.clone(),
            k: self.k,
            values,
            distinct,
            null_count,
            nan_count,
        })
    }
}
