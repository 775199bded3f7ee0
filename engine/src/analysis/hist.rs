//! `hist`: counts per bin of one numeric column, NumPy's `histogram` semantics.
//!
//! With `--range` (or `--edges`) one pass counts; without, a first pass finds the column's finite range
//! and the second counts over `numpy.linspace(min, max, bins + 1)` (a constant column gets NumPy's
//! `[v - 0.5, v + 0.5]`, an empty one `[0, 1]`).

use arrow_schema::Schema;
use serde::{Deserialize, Serialize};

use super::{Resolved, Step, numeric_column, position};
use crate::error::{Error, Result};
use crate::plan::{Plan, StatEntry};
use crate::report::{InputInfo, RowFilter};
use crate::stats::histogram::HistogramResult;
use crate::stats::{AnyPartial, HistogramSpec, PartialSet, Stat};

/// How the bins are chosen.
#[derive(Clone, Debug, PartialEq)]
pub enum Bins {
    /// This many equal-width bins (over `range`, or the data's finite range).
    Count(usize),
    /// Explicit edges (at least two, non-decreasing).
    Edges(Vec<f64>),
}

/// `tally hist`.
#[derive(Clone, Debug, PartialEq)]
pub struct HistRequest {
    pub column: String,
    pub bins: Bins,
    pub range: Option<(f64, f64)>,
}

impl HistRequest {
    pub(super) fn validate(&self, schema: &Schema) -> Result<HistJob> {
        let column = numeric_column(schema, &self.column)?;
        let spec = match (&self.bins, self.range) {
            (Bins::Edges(_), Some(_)) => {
                return Err(Error::input("--edges and --range exclude each other: the edges fix the range"));
            }
            (Bins::Edges(edges), None) => Some(HistogramSpec::from_edges(edges.clone())?),
            (Bins::Count(n), Some((lo, hi))) => Some(HistogramSpec::equal_width(lo, hi, *n)?),
            (Bins::Count(n), None) => {
                // Checked now, so a bad count fails before a pass runs.
                HistogramSpec::equal_width(0.0, 1.0, *n)?;
                None
            }
        };
        let bins = match self.bins {
            Bins::Count(n) => n,
            Bins::Edges(ref e) => e.len() - 1,
        };
        Ok(HistJob { column, bins, spec, stage: 0 })
    }
}

/// A histogram in progress: `spec` is known up front or after the range pass.
#[derive(Debug)]
pub struct HistJob {
    pub(super) column: usize,
    bins: usize,
    spec: Option<HistogramSpec>,
    stage: u8,
}

impl HistJob {
    pub(super) fn step(&mut self, plan: &Plan, previous: Option<&PartialSet>) -> Result<Step> {
        let p = position(plan, self.column)?;
        let entry = |stat| Ok(Step::Pass(vec![StatEntry { columns: vec![p], stat }]));
        match (self.stage, &self.spec) {
            (0, None) => {
                self.stage = 1;
                entry(Stat::Range)
            }
            (1, None) => {
                let range = match previous.and_then(|s| s.stats.first()) {
                    Some(AnyPartial::Range(r)) => r.bounds(),
                    _ => return Err(Error::internal("the range pass returned no range")),
                };
                self.spec = Some(HistogramSpec::from_data_range(range, self.bins)?);
                self.stage = 2;
                entry(Stat::Histogram(self.spec.clone().expect("set above")))
            }
            (0, Some(spec)) => {
                self.stage = 2;
                entry(Stat::Histogram(spec.clone()))
            }
            (_, Some(spec)) => Ok(Step::Done(Resolved::Hist(ResolvedHist {
                column: plan.columns[p].name.clone(),
                type_name: plan.columns[p].type_name.clone(),
                spec: spec.clone(),
            }))),
            (_, None) => Err(Error::internal("histogram job out of order")),
        }
    }
}

/// A histogram whose final state is one histogram over `spec`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResolvedHist {
    pub column: String,
    pub type_name: String,
    pub spec: HistogramSpec,
}

/// The finished histogram of one column.
#[derive(Clone, Debug, PartialEq)]
pub struct HistReport {
    pub input: InputInfo,
    /// Rows that passed the filter (all rows without one).
    pub rows: u64,
    pub filter: Option<RowFilter>,
    pub column: String,
    pub type_name: String,
    pub histogram: HistogramResult,
}

impl ResolvedHist {
    pub(super) fn finish(&self, state: &PartialSet, input: InputInfo) -> Result<HistReport> {
        match state.stats.as_slice() {
            [AnyPartial::Histogram(h)] => Ok(HistReport {
                input,
                rows: state.rows,
                filter: None,
                column: self.column.clone(),
                type_name: self.type_name.clone(),
                histogram: h.finish(&self.spec),
            }),
            _ => Err(Error::internal("a histogram finished without its histogram state")),
        }
    }
}
