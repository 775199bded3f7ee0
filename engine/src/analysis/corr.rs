//! `corr`: Pearson correlation (or covariance) matrix of numeric columns, pairwise-complete, one pass.

use arrow_schema::Schema;
use serde::{Deserialize, Serialize};

use super::describe::DescribedColumn;
use super::{Resolved, Step, described_columns, numeric_column, numeric_columns, positions};
use crate::error::{Error, Result};
use crate::plan::{Plan, StatEntry};
use crate::report::{InputInfo, RowFilter};
use crate::stats::comoments::CorrResult;
use crate::stats::{AnyPartial, PartialSet, Stat};

/// `tally corr`.
#[derive(Clone, Debug, PartialEq)]
pub struct CorrRequest {
    pub columns: Vec<String>,
    /// Report the covariance matrix instead of the correlation.
    pub cov: bool,
    pub ddof: u64,
}

impl CorrRequest {
    pub(super) fn validate(&self, schema: &Schema) -> Result<CorrJob> {
        let columns: Vec<usize> = if self.columns.is_empty() {
            // Like describe and pandas' `DataFrame.corr(numeric_only=True)`: every numeric column.
            let numeric = numeric_columns(schema);
            if numeric.len() < 2 {
                return Err(Error::input(format!(
                    "corr needs at least two numeric columns; this input has {}{}",
                    numeric.len(),
                    numeric.iter().map(|&i| format!(" ({})", schema.field(i).name())).collect::<String>()
                )));
            }
            numeric
        } else if self.columns.len() < 2 {
            return Err(Error::input(format!(
                "corr needs at least two columns, got {} (--columns a,b,...)",
                self.columns.len()
            )));
        } else {
            self.columns.iter().map(|c| numeric_column(schema, c)).collect::<Result<_>>()?
        };
        Ok(CorrJob { request: self.clone(), columns, done: false })
    }
}

#[derive(Debug)]
pub struct CorrJob {
    request: CorrRequest,
    pub(super) columns: Vec<usize>,
    done: bool,
}

impl CorrJob {
    pub(super) fn step(&mut self, plan: &Plan, _previous: Option<&PartialSet>) -> Result<Step> {
        let positions = positions(plan, &self.columns)?;
        if self.done {
            let columns = described_columns(plan, &positions);
            return Ok(Step::Done(Resolved::Corr(ResolvedCorr {
                columns,
                cov: self.request.cov,
                ddof: self.request.ddof,
            })));
        }
        self.done = true;
        Ok(Step::Pass(vec![StatEntry { columns: positions, stat: Stat::CoMoments }]))
    }
}

/// A correlation whose final state is one co-moment matrix over `columns`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResolvedCorr {
    pub columns: Vec<DescribedColumn>,
    pub cov: bool,
    pub ddof: u64,
}

/// The finished matrices.
#[derive(Clone, Debug, PartialEq)]
pub struct CorrReport {
    pub input: InputInfo,
    pub rows: u64,
    pub filter: Option<RowFilter>,
    pub columns: Vec<DescribedColumn>,
    /// `"pearson"`, or `"cov"` with `--cov`.
    pub method: &'static str,
    pub ddof: u64,
    pub result: CorrResult,
}

impl ResolvedCorr {
    pub(super) fn finish(&self, state: &PartialSet, input: InputInfo) -> Result<CorrReport> {
        match state.stats.as_slice() {
            [AnyPartial::CoMoments(m)] if m.k == self.columns.len() => Ok(CorrReport {
                input,
                rows: state.rows,
                filter: None,
                columns: self.columns.clone(),
                method: if self.cov { "cov" } else { "pearson" },
                ddof: self.ddof,
                result: m.finish(self.ddof),
            }),
            _ => Err(Error::internal("a correlation finished without its co-moment state")),
        }
    }
}
