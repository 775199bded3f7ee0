//! `groupby`: aggregations of numeric columns per distinct key, in one pass.
//!
//! Keys: integer, boolean and string columns (utf8, large utf8, dictionary-encoded utf8); a null key is a
//! group of its own. Output: groups in ascending key order (numbers numerically, strings bytewise, null
//! last), or by one aggregation with `--sort` (ties in key order, missing values last), cut at `--limit`.

use arrow_schema::Schema;
use serde::{Deserialize, Serialize};

use super::agg_list::Aggregation;
use super::describe::DescribedColumn;
use super::memory::Guard;
use super::{Resolved, Step, described_columns, numeric_column, positions};
use crate::error::{Error, Result};
use crate::plan::{Plan, StatEntry, find_column};
use crate::report::{Cell, InputInfo, RowFilter};
use crate::stats::groups::{AggColumn, AggFn, GroupSpec, Groups, KeyKind, KeyValue, Needs};
use crate::stats::{AnyPartial, PartialSet, Stat};
use crate::store::ColumnKind;

/// `tally groupby`.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupByRequest {
    /// Key column names.
    pub by: Vec<String>,
    pub aggs: Vec<Aggregation>,
    /// Order groups by this aggregation (one of `aggs`) instead of by key.
    pub sort: Option<Aggregation>,
    pub desc: bool,
    pub limit: Option<usize>,
    pub ddof: u64,
    /// Refuse to start when the estimated state exceeds this many bytes (default: the memory available).
    pub memory_limit: Option<u64>,
}

/// Source index and key kind of key column `name`; `floats` allows float keys (distinct, top).
pub(crate) fn key_column(schema: &Schema, name: &str, floats: bool) -> Result<(usize, KeyKind)> {
    let index = find_column(schema, name)?;
    let data_type = schema.field(index).data_type();
    match KeyKind::of(data_type) {
        Some(KeyKind::Float) if !floats => Err(Error::input(format!(
            "column {name:?} is {data_type}: group-by keys are integers, booleans or strings"
        ))
        .with_column(name)),
        Some(kind) => Ok((index, kind)),
        None => Err(Error::input(format!(
            "column {name:?} is {data_type}, which cannot be a key (integers, booleans, strings{})",
            if floats { ", floats" } else { "" }
        ))
        .with_column(name)),
    }
}

impl GroupByRequest {
    pub(super) fn validate(&self, schema: &Schema) -> Result<GroupByJob> {
        if self.by.is_empty() {
            return Err(Error::input("groupby needs at least one key column (--by k1[,k2...])"));
        }
        let mut columns = Vec::new();
        let mut kinds = Vec::new();
        for name in &self.by {
            let (index, kind) = key_column(schema, name, false)?;
            if columns.contains(&index) {
                return Err(Error::input(format!("key column {name:?} is given twice")).with_column(name));
            }
            columns.push(index);
            kinds.push(kind);
        }
        let aggs = if self.aggs.is_empty() {
            vec![Aggregation { func: AggFn::Count, column: None }]
        } else {
            self.aggs.clone()
        };
        // Distinct aggregated columns, in first-use order; each aggregation points at its slot.
        let mut values: Vec<usize> = Vec::new();
        let mut specs: Vec<AggColumn> = Vec::new();
        let mut slots = Vec::new();
        for a in &aggs {
            let Some(name) = &a.column else {
                slots.push(None);
                continue;
            };
            let index = numeric_column(schema, name)?;
            let slot = values.iter().position(|&v| v == index).unwrap_or_else(|| {
                values.push(index);
                let float = ColumnKind::of(schema.field(index).data_type()) == ColumnKind::Float;
                specs.push(AggColumn { float, needs: Needs::default() });
                values.len() - 1
            });
            specs[slot].needs = specs[slot].needs.with(a.func);
            slots.push(Some(slot));
        }
        let sort = match &self.sort {
            None => None,
            Some(s) => Some(aggs.iter().position(|a| a.name() == s.name()).ok_or_else(|| {
                let names: Vec<String> = aggs.iter().map(Aggregation::name).collect();
                Error::input(format!("--sort {}: not one of the aggregations ({})", s.name(), names.join(", ")))
            })?),
        };
        let keys = columns.len();
        let spec = GroupSpec { keys: kinds, aggs: specs };
        let what = format!("groupby by {}", self.by.join(","));
        let guard =
            Guard::new(self.memory_limit, spec.bytes_per_group(), what, "use `distinct --approx` to count the keys")
                .range_first();
        columns.extend(values.iter().filter(|v| !columns[..keys].contains(v)).copied().collect::<Vec<_>>());
        Ok(GroupByJob {
            columns,
            keys,
            values,
            spec,
            guard,
            aggs,
            slots,
            sort,
            desc: self.desc,
            limit: self.limit,
            ddof: self.ddof,
            done: false,
        })
    }
}

/// A group-by in progress: one pass.
#[derive(Debug)]
pub struct GroupByJob {
    /// Key columns, then the aggregated columns that are not keys (what the plan reads).
    pub(super) columns: Vec<usize>,
    keys: usize,
    /// Source indices of the aggregated columns, in slot order.
    values: Vec<usize>,
    spec: GroupSpec,
    pub(super) guard: Guard,
    aggs: Vec<Aggregation>,
    slots: Vec<Option<usize>>,
    sort: Option<usize>,
    desc: bool,
    limit: Option<usize>,
    ddof: u64,
    done: bool,
}

impl GroupByJob {
    pub(super) fn step(&mut self, plan: &Plan, previous: Option<&PartialSet>) -> Result<Step> {
        let keys = positions(plan, &self.columns[..self.keys])?;
        if let Some(sketch_pass) = self.guard.step(plan, &keys, previous)? {
            return Ok(Step::Pass(sketch_pass));
        }
        let values = positions(plan, &self.values)?;
        if self.done {
            return Ok(Step::Done(Resolved::GroupBy(ResolvedGroupBy {
                by: described_columns(plan, &keys),
                values: described_columns(plan, &values),
                spec: self.spec.clone(),
                aggs: self.aggs.clone(),
                slots: self.slots.clone(),
                sort: self.sort,
                desc: self.desc,
                limit: self.limit,
                ddof: self.ddof,
            })));
        }
        self.done = true;
        let columns = keys.into_iter().chain(values).collect();
        Ok(Step::Pass(vec![StatEntry { columns, stat: Stat::GroupBy(self.spec.clone()) }]))
    }
}

/// A group-by whose final state is one [`Groups`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResolvedGroupBy {
    pub by: Vec<DescribedColumn>,
    pub values: Vec<DescribedColumn>,
    pub spec: GroupSpec,
    pub aggs: Vec<Aggregation>,
    /// Per aggregation, its value column's slot (`None` for `count`).
    pub slots: Vec<Option<usize>>,
    pub sort: Option<usize>,
    pub desc: bool,
    pub limit: Option<usize>,
    pub ddof: u64,
}

/// One output group.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupRow {
    pub key: Vec<KeyValue>,
    /// One per aggregation.
    pub cells: Vec<Cell>,
}

/// The finished group-by.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupByReport {
    pub input: InputInfo,
    pub rows: u64,
    pub filter: Option<RowFilter>,
    pub by: Vec<DescribedColumn>,
    /// Aggregation names (`count`, `mean(a)`), in output order.
    pub aggregations: Vec<String>,
    pub ddof: u64,
    /// Groups in the data (before `--limit`).
    pub group_count: u64,
    pub groups: Vec<GroupRow>,
}

/// Sort order of cells for `--sort`: numbers ascending, then NaN, then missing values.
fn cell_order(a: &Cell, b: &Cell) -> std::cmp::Ordering {
    let rank = |c: &Cell| match *c {
        Cell::Missing => (2, 0.0, 0i128),
        Cell::Float(f) if f.is_nan() => (1, 0.0, 0),
        Cell::Float(f) => (0, f, 0),
        Cell::Count(n) => (0, 0.0, n.into()),
        Cell::Int(i) => (0, 0.0, i),
    };
    let (ra, rb) = (rank(a), rank(b));
    ra.0.cmp(&rb.0).then(ra.1.total_cmp(&rb.1)).then(ra.2.cmp(&rb.2))
}

/// Group ids in output order: by key, or stably by one aggregation (missing and NaN last either way).
pub(crate) fn ordered(groups: &Groups, by: Option<(Option<usize>, AggFn)>, desc: bool, ddof: u64) -> Vec<u32> {
    let mut ids = groups.key_order();
    if let Some((slot, func)) = by {
        let mut keyed: Vec<(Cell, u32)> = ids.iter().map(|&g| (groups.cell(g, slot, func, ddof), g)).collect();
        let last = |c: &Cell| matches!(c, Cell::Missing) || matches!(c, Cell::Float(f) if f.is_nan());
        // Stable: equal cells keep the key order.
        keyed.sort_by(|(x, _), (y, _)| match (desc, last(x), last(y)) {
            (true, false, false) => cell_order(y, x),
            _ => cell_order(x, y),
        });
        ids = keyed.into_iter().map(|(_, g)| g).collect();
    }
    ids
}

impl ResolvedGroupBy {
    pub(super) fn finish(&self, state: &PartialSet, input: InputInfo) -> Result<GroupByReport> {
        let [AnyPartial::Groups(groups)] = state.stats.as_slice() else {
            return Err(Error::internal("a group-by finished without its group state"));
        };
        let by = self.sort.map(|i| (self.slots[i], self.aggs[i].func));
        let mut ids = ordered(groups, by, self.desc, self.ddof);
        if let Some(limit) = self.limit {
            ids.truncate(limit);
        }
        let rows = groups.gather(&ids, |g| GroupRow {
            key: groups.key(g),
            cells: self.aggs.iter().zip(&self.slots).map(|(a, &s)| groups.cell(g, s, a.func, self.ddof)).collect(),
        });
        Ok(GroupByReport {
            input,
            rows: state.rows,
            filter: None,
            by: self.by.clone(),
            aggregations: self.aggs.iter().map(Aggregation::name).collect(),
            ddof: self.ddof,
            group_count: groups.len() as u64,
            groups: rows,
        })
    }
}
