//! `describe`: the fused describe statistics of each column, in one pass.

use std::path::Path;

use arrow_schema::Schema;
use serde::{Deserialize, Serialize};

use super::{Analysis, AnalysisResult, Resolved, Step, position};
use crate::error::{Error, Result};
use crate::plan::{Plan, StatEntry, resolve_columns};
use crate::report::{ColumnReport, InputInfo, Report};
use crate::run::{Outcome, RunOptions, run, run_store};
use crate::stats::{FinishOptions, PartialSet, Stat};
use crate::store::Store;

/// Count, nulls, NaN, extrema, sum, mean, var, std, skewness and kurtosis of columns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DescribeRequest {
    /// Column names, in output order; `None` for all columns.
    pub columns: Option<Vec<String>>,
    /// Correctly rounded float sums and means.
    pub exact: bool,
    pub ddof: u64,
}

impl DescribeRequest {
    pub(super) fn validate(&self, schema: &Schema) -> Result<DescribeJob> {
        Ok(DescribeJob {
            request: self.clone(),
            columns: resolve_columns(schema, self.columns.as_deref())?,
            done: false,
        })
    }
}

/// A describe in progress: one pass.
#[derive(Debug)]
pub struct DescribeJob {
    request: DescribeRequest,
    pub(super) columns: Vec<usize>,
    done: bool,
}

impl DescribeJob {
    pub(super) fn step(&mut self, plan: &Plan, _previous: Option<&PartialSet>) -> Result<Step> {
        let positions = self.columns.iter().map(|&c| position(plan, c)).collect::<Result<Vec<_>>>()?;
        if self.done {
            let columns = positions
                .iter()
                .map(|&p| DescribedColumn {
                    name: plan.columns[p].name.clone(),
                    type_name: plan.columns[p].type_name.clone(),
                })
                .collect();
            return Ok(Step::Done(Resolved::Describe(ResolvedDescribe {
                columns,
                exact: self.request.exact,
                ddof: self.request.ddof,
            })));
        }
        self.done = true;
        let stat = Stat::Describe { exact: self.request.exact };
        Ok(Step::Pass(positions.into_iter().map(|p| StatEntry { columns: vec![p], stat: stat.clone() }).collect()))
    }
}

/// One described column as a state file records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DescribedColumn {
    pub name: String,
    pub type_name: String,
}

/// A describe whose final state is one describe statistic per column, in this order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResolvedDescribe {
    pub columns: Vec<DescribedColumn>,
    pub exact: bool,
    pub ddof: u64,
}

impl ResolvedDescribe {
    pub(super) fn finish(&self, state: &PartialSet, input: InputInfo) -> Result<Report> {
        if state.stats.len() != self.columns.len() {
            return Err(Error::internal(format!(
                "describe of {} columns got {} states",
                self.columns.len(),
                state.stats.len()
            )));
        }
        let options = FinishOptions { ddof: self.ddof };
        let columns = self
            .columns
            .iter()
            .zip(&state.stats)
            .map(|(c, s)| {
                let summary = s
                    .summary(&options)
                    .ok_or_else(|| Error::internal(format!("describe of {} got a {} state", c.name, s.kind_name())))?;
                Ok(ColumnReport { name: c.name.clone(), type_name: c.type_name.clone(), summary })
            })
            .collect::<Result<_>>()?;
        Ok(Report { input, rows: state.rows, filter: None, ddof: self.ddof, exact: self.exact, columns })
    }
}

/// `describe` and how to run it, in one struct: the convenient entry point for programs and tests.
#[derive(Clone, Debug)]
pub struct DescribeOptions {
    /// Column names, in output order; `None` for all columns.
    pub columns: Option<Vec<String>>,
    pub exact: bool,
    pub ddof: u64,
    pub run: RunOptions,
}

impl Default for DescribeOptions {
    fn default() -> Self {
        DescribeOptions { columns: None, exact: false, ddof: 1, run: RunOptions::default() }
    }
}

impl DescribeOptions {
    fn analysis(&self) -> Analysis {
        Analysis::Describe(DescribeRequest { columns: self.columns.clone(), exact: self.exact, ddof: self.ddof })
    }
}

/// The describe report plus what people may want to know about the run.
#[derive(Debug)]
pub struct Described {
    pub report: Report,
    pub outcome: Outcome,
}

/// Opens `path` and describes the requested columns.
pub fn describe(path: &Path, options: &DescribeOptions) -> Result<Described> {
    described(run(path, &options.analysis(), &options.run)?)
}

/// Describes an opened store (the benchmarks and tests call this to leave file opening out).
pub fn describe_store(store: &Store, input: InputInfo, options: &DescribeOptions) -> Result<Described> {
    described(run_store(store, input, &options.analysis(), &options.run)?)
}

fn described(outcome: Outcome) -> Result<Described> {
    match &outcome.result {
        AnalysisResult::Describe(report) => Ok(Described { report: report.clone(), outcome }),
        _ => Err(Error::internal("a describe run finished into another result")),
    }
}
