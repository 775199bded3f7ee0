//! `describe`: the fused describe statistics of each column, in one pass.

use std::path::Path;

use arrow_schema::Schema;
use serde::{Deserialize, Serialize};

use super::quantile::{self, ExactQuantiles, Method, Probability, Selector, select};
use super::{Analysis, AnalysisResult, Resolved, Step, described_columns, positions};
use crate::error::{Error, Result};
use crate::plan::{Plan, StatEntry, resolve_columns};
use crate::report::typed::Flavor;
use crate::report::{ColumnReport, InputInfo, Report};
use crate::run::{Outcome, RunOptions, run, run_store};
use crate::stats::{AnyPartial, FinishOptions, PartialSet, Stat, Value};
use crate::store::{ColumnKind, Store};

/// Count, nulls, NaN, extrema, sum, mean, var, std, skewness and kurtosis of columns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DescribeRequest {
    /// Column names, in output order; `None` for all columns.
    pub columns: Option<Vec<String>>,
    /// Correctly rounded float sums and means.
    pub exact: bool,
    pub ddof: u64,
    /// `--quantiles`: exact quantiles (method `linear`) of the numeric columns, as written.
    pub quantiles: Vec<String>,
}

impl DescribeRequest {
    pub(super) fn validate(&self, schema: &Schema) -> Result<DescribeJob> {
        let (columns, skipped) = described_indices(schema, self.columns.as_deref())?;
        let probabilities = self.quantiles.iter().map(|q| Probability::parse(q)).collect::<Result<Vec<_>>>()?;
        let selectors = if probabilities.is_empty() {
            Vec::new()
        } else {
            columns
                .iter()
                .map(|&c| {
                    let t = schema.field(c).data_type();
                    ColumnKind::of(t).is_numeric().then(|| Selector::new(quantile::domain_of(t), select::COLLECT_LIMIT))
                })
                .collect()
        };
        let notes = skipped_note(schema, &skipped).into_iter().collect();
        Ok(DescribeJob { request: self.clone(), columns, probabilities, selectors, first: None, passes: 0, notes })
    }
}

/// The columns to describe, and the nested columns left out of "every column" (struct, list, map and union
/// columns have no statistics of their own; a struct's fields are described as columns `a.b`, which the
/// input's schema lists after its own columns: `source/fields.rs`). Naming a nested column is an error
/// that says what to do instead.
fn described_indices(schema: &Schema, names: Option<&[String]>) -> Result<(Vec<usize>, Vec<usize>)> {
    let nested = |i: &usize| ColumnKind::of(schema.field(*i).data_type()) == ColumnKind::Nested;
    let all = resolve_columns(schema, names)?;
    if names.is_none() {
        return Ok(all.into_iter().partition(|i| !nested(i)));
    }
    if let Some(&i) = all.iter().find(|i| nested(i)) {
        let field = schema.field(i);
        let fields: Vec<&str> = schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .filter(|n| n.strip_prefix(field.name().as_str()).is_some_and(|rest| rest.starts_with('.')))
            .collect();
        let instead = if fields.is_empty() {
            "it has no statistics of its own".to_string()
        } else {
            format!("describe its fields instead: {}", fields.join(", "))
        };
        return Err(
            Error::input(format!("is a {} column; {instead}", kind_word(field.data_type()))).with_column(field.name())
        );
    }
    Ok((all, Vec::new()))
}

fn kind_word(t: &arrow_schema::DataType) -> &'static str {
    use arrow_schema::DataType as T;
    match t {
        T::Struct(_) => "struct",
        T::Map(..) => "map",
        T::Union(..) => "union",
        T::Dictionary(_, v) => kind_word(v),
        _ => "list",
    }
}

/// `"skipped nested columns st (struct: its fields st.x, st.y are described), l (list)"`.
fn skipped_note(schema: &Schema, skipped: &[usize]) -> Option<String> {
    if skipped.is_empty() {
        return None;
    }
    let parts: Vec<String> = skipped
        .iter()
        .map(|&i| format!("{} ({})", schema.field(i).name(), kind_word(schema.field(i).data_type())))
        .collect();
    Some(format!(
        "skipped nested columns (no statistics of their own; struct fields are described as `column.field`): {}",
        parts.join(", ")
    ))
}

/// A describe in progress: one pass, plus the selection passes of `--quantiles`.
#[derive(Debug)]
pub struct DescribeJob {
    request: DescribeRequest,
    pub(super) columns: Vec<usize>,
    probabilities: Vec<Probability>,
    /// One per column: `None` for columns without quantiles (not numeric, or none asked for).
    selectors: Vec<Option<Selector>>,
    /// The first pass's describe statistics, kept while the quantile passes run.
    first: Option<PartialSet>,
    passes: u32,
    /// Said once on stderr (and kept in the outcome): the nested columns left out.
    pub(super) notes: Vec<String>,
}

impl DescribeJob {
    pub(super) fn step(&mut self, plan: &Plan, previous: Option<&PartialSet>) -> Result<Step> {
        let positions = positions(plan, &self.columns)?;
        self.passes += 1;
        let Some(previous) = previous else {
            let stat = Stat::Describe { exact: self.request.exact };
            let mut entries: Vec<StatEntry> =
                positions.iter().map(|&p| StatEntry { columns: vec![p], stat: stat.clone() }).collect();
            for (&p, s) in positions.iter().zip(&self.selectors) {
                if s.is_some() {
                    entries.push(StatEntry { columns: vec![p], stat: quantile::first_pass() });
                }
            }
            return Ok(Step::Pass(entries));
        };
        // Hand each active selection its state, in the order the entries were made.
        let mut states = previous.stats.iter();
        if self.first.is_none() {
            let describe: Vec<_> = states.by_ref().take(positions.len()).cloned().collect();
            self.first = Some(PartialSet { rows: previous.rows, stats: describe });
            for s in self.selectors.iter_mut().flatten() {
                match states.next() {
                    Some(AnyPartial::KeyHistogram(h)) => {
                        let (probabilities, method) = (&self.probabilities, Method::Linear);
                        s.start(h, |n| probabilities.iter().flat_map(|q| method.ranks(n, q)).collect())
                    }
                    _ => return Err(Error::internal("describe's quantile pass lost a histogram")),
                }
            }
        } else {
            // The pass carried windows exactly for the selections that were not done when it was made.
            for s in self.selectors.iter_mut().flatten().filter(|s| !s.is_done()) {
                match states.next() {
                    Some(AnyPartial::KeyWindows(w)) => s.refine(w)?,
                    _ => return Err(Error::internal("describe's quantile pass lost a window state")),
                }
            }
        }
        let entries: Vec<StatEntry> = positions
            .iter()
            .zip(self.selectors.iter())
            .filter_map(|(&p, s)| {
                let s = s.as_ref().filter(|s| !s.is_done())?;
                Some(StatEntry { columns: vec![p], stat: Stat::KeyWindows(s.windows().to_vec()) })
            })
            .collect();
        if !entries.is_empty() {
            return Ok(Step::Pass(entries));
        }
        let quantiles = (!self.probabilities.is_empty())
            .then(|| {
                let values = self
                    .selectors
                    .iter()
                    .map(|s| match s {
                        Some(s) => Ok(ExactQuantiles::of(s, &self.probabilities, Method::Linear)?.values),
                        None => Ok(vec![None; self.probabilities.len()]),
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok::<_, Error>(DescribeQuantiles {
                    probabilities: self.probabilities.clone(),
                    values,
                    passes: self.passes - 1,
                })
            })
            .transpose()?;
        let resolved = Resolved::Describe(ResolvedDescribe {
            columns: described_columns(plan, &positions),
            exact: self.request.exact,
            ddof: self.request.ddof,
            quantiles,
        });
        let first = self.first.take().unwrap_or_else(|| previous.clone());
        Ok(Step::Finish(resolved, first))
    }
}

/// The exact quantiles of `describe --quantiles`, computed during the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DescribeQuantiles {
    pub probabilities: Vec<Probability>,
    /// Per described column, one value per probability.
    pub values: Vec<Vec<Option<Value>>>,
    pub passes: u32,
}

/// One described column as a state file records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DescribedColumn {
    pub name: String,
    pub type_name: String,
    /// How the type presents its statistics (ISO 8601 text, true/false counts); `Plain` in state files
    /// written before it existed.
    #[serde(default)]
    pub flavor: Flavor,
}

/// A describe whose final state is one describe statistic per column, in this order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResolvedDescribe {
    pub columns: Vec<DescribedColumn>,
    pub exact: bool,
    pub ddof: u64,
    /// `--quantiles`: not mergeable, so a state with them is never saved.
    #[serde(default)]
    pub quantiles: Option<DescribeQuantiles>,
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
            .enumerate()
            .map(|(i, (c, s))| {
                let mut summary = s
                    .summary(&options)
                    .ok_or_else(|| Error::internal(format!("describe of {} got a {} state", c.name, s.kind_name())))?;
                c.flavor.decorate(&mut summary);
                let quantiles = self.quantiles.as_ref().map_or_else(Vec::new, |q| q.values[i].clone());
                Ok(ColumnReport { name: c.name.clone(), type_name: c.type_name.clone(), summary, quantiles })
            })
            .collect::<Result<_>>()?;
        let quantiles = self
            .quantiles
            .as_ref()
            .map_or_else(Vec::new, |q| q.probabilities.iter().map(|p| format!("q{}", p.text)).collect());
        Ok(Report { input, rows: state.rows, filter: None, ddof: self.ddof, exact: self.exact, columns, quantiles })
    }
}

/// `describe` and how to run it, in one struct: the convenient entry point for programs and tests.
#[derive(Clone, Debug)]
pub struct DescribeOptions {
    /// Column names, in output order; `None` for all columns.
    pub columns: Option<Vec<String>>,
    /// Correctly rounded float sums and means (the default, as in the CLI); `false` is `--compensated`.
    pub exact: bool,
    pub ddof: u64,
    pub run: RunOptions,
}

impl Default for DescribeOptions {
    fn default() -> Self {
        DescribeOptions { columns: None, exact: true, ddof: 1, run: RunOptions::default() }
    }
}

impl DescribeOptions {
    fn analysis(&self) -> Analysis {
        Analysis::Describe(DescribeRequest {
            columns: self.columns.clone(),
            exact: self.exact,
            ddof: self.ddof,
            quantiles: Vec::new(),
        })
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
