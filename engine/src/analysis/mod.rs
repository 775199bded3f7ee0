//! Analyses: what a user asks for, validated against the schema, lowered to passes, finished into results.
//!
//! ```text
//!  Analysis ──validate(schema)──► Job ──step()──► Pass ─► (Session, Aggregator) ─► PartialSet ─┐
//!                                  ▲                                                         │
//!                                  └──────────────── step(previous result) ◄─────────────────┘
//!                                  step() = Done(Resolved) ──► finish(Resolved, last PartialSet) ──► AnalysisResult
//! ```
//!
//! An [`Analysis`] is a closed enum of typed requests. [`Analysis::validate`] checks it against the input's
//! schema (naming the column or option at fault) and returns a [`Job`]: the columns it reads and a small
//! state machine that yields one pass at a time, each possibly shaped by the finished result of the previous
//! one (a histogram without `--range` first finds the range). When the job is done it hands back the
//! [`Resolved`] analysis: everything its final state depends on (column names and types, options, edges).
//! `Resolved` plus the final [`PartialSet`] is exactly what a state file stores, so finishing a saved state
//! (`tally merge`) and finishing a fresh run are one code path.
//!
//! Adding an analysis: a variant here, its file in this folder (validate, passes, finish), its statistics in
//! `stats/`, its result type and renderers; the run loop in `run.rs` does not change.

pub mod agg_list;
pub mod corr;
pub mod describe;
pub mod distinct;
pub mod groupby;
pub mod hist;
pub mod hist_rules;
mod memory;
pub mod quantile;

use arrow_schema::Schema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::plan::{Plan, StatEntry};
use crate::report::{InputInfo, Report, RowFilter};
use crate::stats::PartialSet;
use crate::store::ColumnKind;

pub use agg_list::{Aggregation, parse_aggs};
pub use corr::{CorrReport, CorrRequest};
pub use describe::DescribeRequest;
pub use distinct::{DistinctCount, DistinctReport, DistinctRequest, TopReport, TopRequest};
pub use groupby::{GroupByReport, GroupByRequest, GroupRow};
pub use hist::{Bins, HistReport, HistRequest};
pub use quantile::{QuantileReport, QuantileRequest};

/// What the user asked for.
#[derive(Clone, Debug, PartialEq)]
pub enum Analysis {
    Describe(DescribeRequest),
    Hist(HistRequest),
    Corr(CorrRequest),
    Quantile(QuantileRequest),
    GroupBy(GroupByRequest),
    Distinct(DistinctRequest),
    Top(TopRequest),
}

impl Analysis {
    /// Checks the request against `schema` and prepares its passes.
    pub fn validate(&self, schema: &Schema) -> Result<Job> {
        match self {
            Analysis::Describe(r) => Ok(Job::Describe(r.validate(schema)?)),
            Analysis::Hist(r) => Ok(Job::Hist(r.validate(schema)?)),
            Analysis::Corr(r) => Ok(Job::Corr(r.validate(schema)?)),
            Analysis::Quantile(r) => Ok(Job::Quantile(r.validate(schema)?)),
            Analysis::GroupBy(r) => Ok(Job::GroupBy(r.validate(schema)?)),
            Analysis::Distinct(r) => Ok(Job::Count(r.validate(schema)?)),
            Analysis::Top(r) => Ok(Job::Count(r.validate(schema)?)),
        }
    }

    /// Refuses `--save-state` for analyses whose states do not merge (exact quantiles), before any work.
    pub fn check_saveable(&self) -> Result<()> {
        match self {
            Analysis::Quantile(r) if r.approx.is_none() => Err(Error::input(
                "exact quantiles cannot be saved for merging (each run selects within its own data); \
                 use --approx to save a mergeable sketch",
            )),
            Analysis::Describe(r) if !r.quantiles.is_empty() => Err(Error::input(
                "describe --quantiles cannot be saved for merging (exact quantiles do not merge); \
                 save the describe without --quantiles, or use tally quantile --approx",
            )),
            _ => Ok(()),
        }
    }

    /// The subcommand name, as state files and messages say it.
    pub fn name(&self) -> &'static str {
        match self {
            Analysis::Describe(_) => "describe",
            Analysis::Hist(_) => "hist",
            Analysis::Corr(_) => "corr",
            Analysis::Quantile(_) => "quantile",
            Analysis::GroupBy(_) => "groupby",
            Analysis::Distinct(_) => "distinct",
            Analysis::Top(_) => "top",
        }
    }
}

/// A validated analysis in progress.
#[derive(Debug)]
pub enum Job {
    Describe(describe::DescribeJob),
    Hist(hist::HistJob),
    Corr(corr::CorrJob),
    Quantile(quantile::QuantileJob),
    GroupBy(groupby::GroupByJob),
    Count(distinct::CountJob),
}

/// What a job wants next (serialisable: the MPI executor broadcasts rank 0's steps).
#[derive(Debug, Serialize, Deserialize)]
pub enum Step {
    /// Run this pass and call [`Job::step`] again with its merged result.
    Pass(Vec<StatEntry>),
    /// The last pass's result is the final state of this resolved analysis.
    Done(Resolved),
    /// Done, and this (an earlier pass's result) is the final state: `describe --quantiles` keeps its
    /// first pass's describe statistics while later passes select the quantiles.
    Finish(Resolved, PartialSet),
}

impl Job {
    /// Source-schema indices of the columns the analysis reads, in output order.
    pub fn columns(&self) -> &[usize] {
        match self {
            Job::Describe(j) => &j.columns,
            Job::Hist(j) => std::slice::from_ref(&j.column),
            Job::Corr(j) => &j.columns,
            Job::Quantile(j) => std::slice::from_ref(&j.column),
            Job::GroupBy(j) => &j.columns,
            Job::Count(j) => &j.columns,
        }
    }

    /// Rows per chunk when the user gave none, for an input of `num_rows` rows: grouped analyses, whose chunk
    /// states grow with the distinct keys, take larger chunks ([`crate::plan::grouped_chunk_rows`]).
    pub fn default_chunk_rows(&self, num_rows: u64) -> u64 {
        match self {
            Job::GroupBy(_) => crate::plan::grouped_chunk_rows(num_rows),
            Job::Count(j) if !j.approx => crate::plan::grouped_chunk_rows(num_rows),
            _ => crate::plan::DEFAULT_CHUNK_ROWS,
        }
    }

    /// Tells the memory guards of exact grouped jobs how many workers will hold a chunk state at once.
    pub fn set_workers(&mut self, workers: usize) {
        match self {
            Job::GroupBy(j) => j.guard.set_workers(workers),
            Job::Count(j) => j.guards.iter_mut().for_each(|g| g.set_workers(workers)),
            _ => {}
        }
    }

    /// Notices for the user about what the analysis left out (nested columns `describe` skipped).
    pub fn notes(&self) -> &[String] {
        match self {
            Job::Describe(j) => &j.notes,
            _ => &[],
        }
    }

    /// The next pass given the merged result of the previous one (`None` before the first pass).
    pub fn step(&mut self, plan: &Plan, previous: Option<&PartialSet>) -> Result<Step> {
        match self {
            Job::Describe(j) => j.step(plan, previous),
            Job::Hist(j) => j.step(plan, previous),
            Job::Corr(j) => j.step(plan, previous),
            Job::Quantile(j) => j.step(plan, previous),
            Job::GroupBy(j) => j.step(plan, previous),
            Job::Count(j) => j.step(plan, previous),
        }
    }
}

/// An analysis with everything its final state depends on resolved: serialised in state files, compared
/// before two states are merged (different options or columns must never mix).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Resolved {
    Describe(describe::ResolvedDescribe),
    Hist(hist::ResolvedHist),
    Corr(corr::ResolvedCorr),
    Quantile(quantile::ResolvedQuantile),
    GroupBy(groupby::ResolvedGroupBy),
    Distinct(distinct::ResolvedDistinct),
    Top(distinct::ResolvedTop),
}

impl Resolved {
    /// The finished result of `state`, the final pass's merged partials.
    pub fn finish(&self, state: &PartialSet, input: InputInfo) -> Result<AnalysisResult> {
        match self {
            Resolved::Describe(r) => Ok(AnalysisResult::Describe(r.finish(state, input)?)),
            Resolved::Hist(r) => Ok(AnalysisResult::Hist(r.finish(state, input)?)),
            Resolved::Corr(r) => Ok(AnalysisResult::Corr(r.finish(state, input)?)),
            Resolved::Quantile(r) => Ok(AnalysisResult::Quantile(r.finish(state, input)?)),
            Resolved::GroupBy(r) => Ok(AnalysisResult::GroupBy(r.finish(state, input)?)),
            Resolved::Distinct(r) => Ok(AnalysisResult::Distinct(r.finish(state, input)?)),
            Resolved::Top(r) => Ok(AnalysisResult::Top(r.finish(state, input)?)),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Resolved::Describe(_) => "describe",
            Resolved::Hist(_) => "hist",
            Resolved::Corr(_) => "corr",
            Resolved::Quantile(_) => "quantile",
            Resolved::GroupBy(_) => "groupby",
            Resolved::Distinct(_) => "distinct",
            Resolved::Top(_) => "top",
        }
    }
}

/// The finished result of any analysis; each variant has its own renderers.
#[derive(Clone, Debug, PartialEq)]
pub enum AnalysisResult {
    Describe(Report),
    Hist(HistReport),
    Corr(CorrReport),
    Quantile(QuantileReport),
    GroupBy(GroupByReport),
    Distinct(DistinctReport),
    Top(TopReport),
}

impl AnalysisResult {
    /// Records the `--where` filter the result was computed under.
    pub fn set_filter(&mut self, filter: Option<RowFilter>) {
        match self {
            AnalysisResult::Describe(r) => r.filter = filter,
            AnalysisResult::Hist(r) => r.filter = filter,
            AnalysisResult::Corr(r) => r.filter = filter,
            AnalysisResult::Quantile(r) => r.filter = filter,
            AnalysisResult::GroupBy(r) => r.filter = filter,
            AnalysisResult::Distinct(r) => r.filter = filter,
            AnalysisResult::Top(r) => r.filter = filter,
        }
    }
}

/// Source indices of the numeric columns, in file order.
pub(crate) fn numeric_columns(schema: &Schema) -> Vec<usize> {
    (0..schema.fields().len()).filter(|&i| ColumnKind::of(schema.field(i).data_type()).is_numeric()).collect()
}

/// Source index of column `name`, which must be numeric (the error lists the numeric columns).
pub(crate) fn numeric_column(schema: &Schema, name: &str) -> Result<usize> {
    let index = crate::plan::find_column(schema, name)?;
    if !ColumnKind::of(schema.field(index).data_type()).is_numeric() {
        let numeric: Vec<&str> = numeric_columns(schema).iter().map(|&i| schema.field(i).name().as_str()).collect();
        return Err(Error::input(format!(
            "column {name:?} is {}, not a number; the numeric columns are: {}",
            schema.field(index).data_type(),
            numeric.join(", ")
        ))
        .with_column(name));
    }
    Ok(index)
}

/// The store positions of source columns `indices` in `plan`.
pub(crate) fn positions(plan: &Plan, indices: &[usize]) -> Result<Vec<usize>> {
    indices.iter().map(|&c| position(plan, c)).collect()
}

/// Names and types of the planned columns at `positions`, as resolved analyses record them.
pub(crate) fn described_columns(plan: &Plan, positions: &[usize]) -> Vec<describe::DescribedColumn> {
    positions
        .iter()
        .map(|&p| describe::DescribedColumn {
            name: plan.columns[p].name.clone(),
            type_name: plan.columns[p].type_name.clone(),
            flavor: plan.columns[p].flavor,
        })
        .collect()
}

/// The store position of source column `index` in `plan`.
pub(crate) fn position(plan: &Plan, index: usize) -> Result<usize> {
    plan.position(index).ok_or_else(|| Error::internal(format!("column {index} is not in the plan")))
}
