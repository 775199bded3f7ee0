//! `hist`: counts per bin of one numeric column, NumPy's `histogram` semantics.
//!
//! With `--range` (or `--edges`) one pass counts; without, a first pass finds the column's finite range
//! and the second counts over `numpy.linspace(min, max, bins + 1)` (a constant column gets NumPy's
//! `[v - 0.5, v + 0.5]`, an empty one `[0, 1]`). A bin rule (`--bins auto`, see `hist_rules.rs`) first
//! gathers the statistics its estimator reads (and the exact interquartile range for `fd` and `auto`).

use arrow_schema::Schema;
use serde::{Deserialize, Serialize};

use super::hist_rules::{self, BinRule, DataStats};
use super::quantile::{self, ExactQuantiles, Method, Probability, Selector, select};
use super::{Resolved, Step, numeric_column, position};
use crate::error::{Error, Result};
use crate::plan::{Plan, StatEntry};
use crate::report::{InputInfo, RowFilter};
use crate::stats::histogram::HistogramResult;
use crate::stats::{AnyPartial, FinishOptions, HistogramSpec, PartialSet, Stat, Value};

/// How the bins are chosen.
#[derive(Clone, Debug, PartialEq)]
pub enum Bins {
    /// This many equal-width bins (over `range`, or the data's finite range).
    Count(usize),
    /// Explicit edges (at least two, non-decreasing).
    Edges(Vec<f64>),
    /// A NumPy bin-count rule over the data's range.
    Rule(BinRule),
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
            (Bins::Rule(rule), Some(_)) => {
                return Err(Error::input(format!(
                    "--bins {} estimates the bins from the data's own range; tally does not combine it with \
                     --range yet (give --bins N with --range)",
                    rule.name()
                )));
            }
            (Bins::Rule(_), None) => None,
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
            Bins::Rule(_) => 0,
        };
        let rule = match self.bins {
            Bins::Rule(r) => {
                let t = schema.field(column).data_type();
                Some(RuleJob {
                    rule: r,
                    integer: !t.is_floating(),
                    selector: Selector::new(quantile::domain_of(t), select::COLLECT_LIMIT),
                    stats: None,
                    candidates: 0,
                })
            }
            _ => None,
        };
        Ok(HistJob { column, bins, spec, stage: 0, rule })
    }
}

/// A histogram in progress: `spec` is known up front or after the range pass.
#[derive(Debug)]
pub struct HistJob {
    pub(super) column: usize,
    bins: usize,
    spec: Option<HistogramSpec>,
    stage: u8,
    rule: Option<RuleJob>,
}

/// A bin rule's statistics, gathered before the counting pass.
#[derive(Debug)]
struct RuleJob {
    rule: BinRule,
    integer: bool,
    /// The quartiles (`fd`, `auto`).
    selector: Selector,
    stats: Option<DataStats>,
    /// `stone`: candidate bin counts evaluated in one pass (`1..=candidates`).
    candidates: usize,
}

impl HistJob {
    pub(super) fn step(&mut self, plan: &Plan, previous: Option<&PartialSet>) -> Result<Step> {
        let p = position(plan, self.column)?;
        if self.rule.is_some() && self.spec.is_none() {
            return self.rule_step(plan, p, previous);
        }
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

impl HistJob {
    /// The passes of a bin rule: statistics (and quartile selection), then `stone`'s candidates; ends by
    /// setting `spec` and handing over to the counting pass.
    fn rule_step(&mut self, plan: &Plan, p: usize, previous: Option<&PartialSet>) -> Result<Step> {
        let rule = self.rule.as_mut().expect("called for rules only");
        let entry = |stat| StatEntry { columns: vec![p], stat };
        let Some(previous) = previous else {
            let mut entries = vec![entry(Stat::Describe { exact: false })];
            if rule.rule.needs_iqr() {
                entries.push(entry(quantile::first_pass()));
            }
            return Ok(Step::Pass(entries));
        };
        let quartiles = [Probability::parse("0.25")?, Probability::parse("0.75")?];
        if rule.stats.is_none() {
            let summary = previous.stats[0]
                .summary(&FinishOptions { ddof: 0 })
                .ok_or_else(|| Error::internal("a bin rule's first pass has no describe state"))?;
            let float = |v: Option<Value>| v.map_or(f64::NAN, Value::as_f64);
            let (min, max) = (float(summary.min), float(summary.max));
            if summary.count > 0 && !(min.is_finite() && max.is_finite()) {
                return Err(Error::input(format!(
                    "--bins {}: the data's range [{min}, {max}] is not finite (NumPy refuses it too); give --range \
                     with --bins N",
                    rule.rule.name()
                ))
                .with_column(&plan.columns[p].name));
            }
            rule.stats = Some(DataStats {
                n: summary.count,
                min,
                max,
                std: summary.var.map_or(0.0, f64::sqrt),
                skewness: summary.skewness.unwrap_or(0.0),
                iqr: 0.0,
            });
            if let Some(AnyPartial::KeyHistogram(h)) = previous.stats.get(1) {
                let method = Method::Linear;
                rule.selector.start(h, |n| quartiles.iter().flat_map(|q| method.ranks(n, q)).collect());
            }
        } else if let Some(AnyPartial::KeyWindows(w)) = previous.stats.first() {
            rule.selector.refine(w)?;
        }
        if rule.rule.needs_iqr() && !rule.selector.is_done() && rule.stats.is_some_and(|s| s.n > 0) {
            return Ok(Step::Pass(vec![entry(Stat::KeyWindows(rule.selector.windows().to_vec()))]));
        }
        let mut stats = rule.stats.expect("set above");
        if stats.n == 0 {
            self.spec = Some(HistogramSpec::from_data_range(None, 1)?);
            return self.step(plan, None);
        }
        if rule.rule.needs_iqr() {
            let q = ExactQuantiles::of(&rule.selector, &quartiles, Method::Linear)?;
            let f = |v: &Option<Value>| v.map_or(0.0, Value::as_f64);
            stats.iqr = f(&q.values[1]) - f(&q.values[0]);
        }
        let (first, last) =
            if stats.min == stats.max { (stats.min - 0.5, stats.max + 0.5) } else { (stats.min, stats.max) };
        if rule.rule == BinRule::Stone {
            if rule.candidates == 0 {
                rule.candidates = hist_rules::stone_candidates(stats.n)?;
                let entries = (1..=rule.candidates)
                    .map(|k| Ok(entry(Stat::Histogram(HistogramSpec::equal_width(first, last, k)?))))
                    .collect::<Result<Vec<_>>>()?;
                return Ok(Step::Pass(entries));
            }
            let counts: Vec<Vec<u64>> = previous
                .stats
                .iter()
                .map(|s| match s {
                    AnyPartial::Histogram(h) => Ok(h.counts.clone()),
                    _ => Err(Error::internal("stone's candidate pass lost a histogram")),
                })
                .collect::<Result<_>>()?;
            let ptp = stats.max - stats.min;
            let pick = hist_rules::stone_pick(stats.n, ptp, &counts);
            // NumPy turns the pick back into a width and the width into a count, which rounding can move.
            let width = if stats.n <= 1 || ptp == 0.0 { 0.0 } else { ptp / pick as f64 };
            let bins = hist_rules::bin_count(width, first, last, rule.integer)?;
            let spec = HistogramSpec::equal_width(first, last, bins)?;
            self.spec = Some(spec.clone());
            if bins <= counts.len() {
                let state = PartialSet { rows: previous.rows, stats: vec![previous.stats[bins - 1].clone()] };
                return Ok(Step::Finish(Resolved::Hist(self.resolved(plan, p, spec)), state));
            }
            self.stage = 0;
            return self.step(plan, None);
        }
        let width = hist_rules::width(rule.rule, &stats);
        let bins = hist_rules::bin_count(width, first, last, rule.integer)?;
        self.spec = Some(HistogramSpec::equal_width(first, last, bins)?);
        self.stage = 0;
        self.step(plan, None)
    }

    fn resolved(&self, plan: &Plan, p: usize, spec: HistogramSpec) -> ResolvedHist {
        ResolvedHist { column: plan.columns[p].name.clone(), type_name: plan.columns[p].type_name.clone(), spec }
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
