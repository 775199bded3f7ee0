//! `quantile`: exact quantiles of one numeric column by radix selection in a few passes ([`select`]), or
//! approximate ones with a stated relative error from a one-pass sketch ([`sketch`]); NumPy's methods and
//! where tally departs from them are in [`rank`].

pub mod rank;
pub mod select;
pub mod sketch;

use arrow_schema::Schema;
use serde::{Deserialize, Serialize};

use super::{Resolved, Step, numeric_column, position};
use crate::error::{Error, Result};
use crate::plan::{Plan, StatEntry};
use crate::report::{InputInfo, RowFilter};
use crate::stats::key_histogram::KeyHistogram;
use crate::stats::order_key::KeyDomain;
use crate::stats::{AnyPartial, PartialSet, Stat, Value};

pub use rank::{Method, Probability};
pub use select::{Counted, Selector};

/// `tally quantile`.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantileRequest {
    pub column: String,
    /// The probabilities as the user wrote them (parsed exactly, see [`Probability`]).
    pub probabilities: Vec<String>,
    pub method: Method,
    /// `Some(E)`: approximate, relative error at most `E`.
    pub approx: Option<f64>,
    /// Most keys one window collects for the final selection (default [`select::COLLECT_LIMIT`]): the
    /// memory bound's knob; smaller limits take more passes.
    pub collect_limit: Option<u64>,
}

impl QuantileRequest {
    pub(super) fn validate(&self, schema: &Schema) -> Result<QuantileJob> {
        let column = numeric_column(schema, &self.column)?;
        let probabilities = self.probabilities.iter().map(|q| Probability::parse(q)).collect::<Result<Vec<_>>>()?;
        if probabilities.is_empty() {
            return Err(Error::input("no quantiles given (e.g. --q 0.5,0.9)"));
        }
        let approx = self.approx.map(|e| sketch::sketch_bits(e).map(|bits| (e, bits))).transpose()?;
        let domain = domain_of(schema.field(column).data_type());
        let limit = self.collect_limit.unwrap_or(select::COLLECT_LIMIT).max(1);
        Ok(QuantileJob { column, probabilities, method: self.method, approx, selector: Selector::new(domain, limit) })
    }
}

/// The key domain of a numeric column type.
pub(crate) fn domain_of(t: &arrow_schema::DataType) -> KeyDomain {
    use arrow_schema::DataType as D;
    match t {
        D::Float16 | D::Float32 | D::Float64 => KeyDomain::Float,
        D::Int8 | D::Int16 | D::Int32 | D::Int64 => KeyDomain::Signed,
        _ => KeyDomain::Unsigned,
    }
}

/// A quantile in progress.
#[derive(Debug)]
pub struct QuantileJob {
    pub(super) column: usize,
    probabilities: Vec<Probability>,
    method: Method,
    /// Relative error and sketch bits.
    approx: Option<(f64, u32)>,
    selector: Selector,
}

impl QuantileJob {
    pub(super) fn step(&mut self, plan: &Plan, previous: Option<&PartialSet>) -> Result<Step> {
        let p = position(plan, self.column)?;
        let entry = |stat| Ok(Step::Pass(vec![StatEntry { columns: vec![p], stat }]));
        let resolved = |values| {
            Resolved::Quantile(ResolvedQuantile {
                column: plan.columns[p].name.clone(),
                type_name: plan.columns[p].type_name.clone(),
                method: self.method,
                probabilities: self.probabilities.clone(),
                approx: self.approx.map(|(e, _)| e),
                exact: values,
            })
        };
        if let Some((_, bits)) = self.approx {
            return match previous {
                None => entry(Stat::KeyHistogram { bits, float_keys: true }),
                Some(_) => Ok(Step::Done(resolved(None))),
            };
        }
        match previous.and_then(|s| s.stats.first()) {
            None => return entry(first_pass()),
            Some(AnyPartial::KeyHistogram(h)) if self.selector.counted().is_none() => {
                self.selector.start(h, |n| self.probabilities.iter().flat_map(|q| self.method.ranks(n, q)).collect())
            }
            Some(AnyPartial::KeyWindows(w)) => self.selector.refine(w)?,
            Some(other) => return Err(Error::internal(format!("quantile pass returned a {}", other.kind_name()))),
        }
        if !self.selector.is_done() {
            return entry(Stat::KeyWindows(self.selector.windows().to_vec()));
        }
        Ok(Step::Done(resolved(Some(ExactQuantiles::of(&self.selector, &self.probabilities, self.method)?))))
    }
}

/// The first pass of every exact selection.
pub(crate) fn first_pass() -> Stat {
    Stat::KeyHistogram { bits: select::FIRST_PASS_BITS, float_keys: false }
}

/// The answers of a finished exact selection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExactQuantiles {
    pub counted: Counted,
    pub values: Vec<Option<Value>>,
    pub passes: u32,
}

impl ExactQuantiles {
    pub(crate) fn of(selector: &Selector, probabilities: &[Probability], method: Method) -> Result<Self> {
        let counted = selector.counted().ok_or_else(|| Error::internal("quantiles finished before counting"))?;
        let missing = std::cell::Cell::new(false);
        let key = |rank| {
            selector.key(rank).unwrap_or_else(|| {
                missing.set(true);
                0
            })
        };
        let values: Vec<Option<Value>> =
            probabilities.iter().map(|p| method.value(counted.count, p, selector.domain(), key)).collect();
        if missing.get() {
            return Err(Error::internal("an exact quantile selection left a rank unanswered"));
        }
        Ok(ExactQuantiles { counted, values, passes: selector.passes() })
    }
}

/// A quantile analysis resolved: exact answers are computed during the passes and kept here (an exact
/// selection is not mergeable); an approximate one is finished from its sketch, the final state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResolvedQuantile {
    pub column: String,
    pub type_name: String,
    pub method: Method,
    pub probabilities: Vec<Probability>,
    pub approx: Option<f64>,
    pub exact: Option<ExactQuantiles>,
}

/// The finished quantiles of one column.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantileReport {
    pub input: InputInfo,
    pub rows: u64,
    pub filter: Option<RowFilter>,
    pub column: String,
    pub type_name: String,
    pub method: Method,
    pub counted: Counted,
    /// `(q as written, value)`; `None` when the column has no values.
    pub quantiles: Vec<(Probability, Option<Value>)>,
    /// `Some(E)` for approximate quantiles.
    pub approx: Option<f64>,
    /// Passes over the data (exact quantiles).
    pub passes: Option<u32>,
}

impl ResolvedQuantile {
    pub(super) fn finish(&self, state: &PartialSet, input: InputInfo) -> Result<QuantileReport> {
        let (counted, values, passes) = match (&self.exact, state.stats.as_slice()) {
            (Some(exact), _) => (exact.counted, exact.values.clone(), Some(exact.passes)),
            (None, [AnyPartial::KeyHistogram(h)]) => approximate(h, &self.probabilities, self.method),
            _ => return Err(Error::internal("approximate quantiles finished without their sketch")),
        };
        Ok(QuantileReport {
            input,
            rows: state.rows,
            filter: None,
            column: self.column.clone(),
            type_name: self.type_name.clone(),
            method: self.method,
            counted,
            quantiles: self.probabilities.iter().cloned().zip(values).collect(),
            approx: self.approx,
            passes,
        })
    }
}

/// Quantiles estimated from the sketch: each order statistic the method reads is estimated within the
/// relative error, then combined as the exact values would be.
fn approximate(
    h: &KeyHistogram,
    probabilities: &[Probability],
    method: Method,
) -> (Counted, Vec<Option<Value>>, Option<u32>) {
    let counted = Counted { count: h.count(), null_count: h.null_count, nan_count: h.nan_count };
    let values = probabilities
        .iter()
        .map(|p| {
            method.value(counted.count, p, KeyDomain::Float, |rank| {
                crate::stats::order_key::float_key(sketch::estimate(h, rank).unwrap_or(f64::NAN))
            })
        })
        .map(|v| v.map(|v| Value::Float(v.as_f64())))
        .collect();
    (counted, values, None)
}
