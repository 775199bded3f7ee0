//! Statistics as mergeable partial states.
//!
//! ```text
//!   chunk 0 ─update─► state ─┐
//!   chunk 1 ─update─► state ─┴─merge─► state ─┐
//!   chunk 2 ─update─► state ─────────────────┴─merge─► state ─finish─► Summary
//! ```
//!
//! Every state follows the [`Partial`] contract. The `describe` statistics of one column are fused into one
//! state per column type ([`FloatDescribe`], [`IntDescribe`], [`Counts`]) because they share one pass over
//! the data; their pieces (moments, sums) live in their own files with the math as free functions.
//! [`AnyPartial`] is the closed enum the executors move around: no trait objects, no downcasts.

pub mod comoments;
pub mod describe_bytes;
pub mod describe_decimal;
pub mod describe_float;
pub mod describe_int;
pub mod exact_ratio;
pub mod exact_sum;
pub mod extract;
pub mod float_sum;
pub mod groups;
pub mod histogram;
pub mod histogram_edges;
#[cfg(target_arch = "x86_64")]
mod int_block_avx2;
pub mod key_histogram;
pub mod key_windows;
pub mod lanes;
#[cfg(target_arch = "x86_64")]
mod lanes_avx2;
pub mod moments;
pub mod numeric;
pub mod order_key;
pub(crate) mod prefetch;
pub mod range;
pub mod slices;
#[cfg(target_arch = "x86_64")]
mod uniform_avx2;

use serde::{Deserialize, Serialize, de::DeserializeOwned};

pub use comoments::CoMoments;
pub use describe_bytes::BytesDescribe;
pub use describe_decimal::DecimalDescribe;
pub use describe_float::FloatDescribe;
pub use describe_int::IntDescribe;
pub use groups::{GroupSpec, Groups};
pub use histogram::Histogram;
pub use histogram_edges::HistogramSpec;
pub use range::Range;

use crate::error::{Error, Result};
use crate::store::ColumnKind;

/// A mergeable statistic state.
///
/// Laws, checked for every variant of [`AnyPartial`] by `engine/tests/integration/laws.rs`:
/// * identity: `Default` is the empty state; merging it changes nothing, and merging into it copies.
/// * split: `update(a ++ b)` matches `merge(update(a), update(b))`: bit-exact for counts, min/max, null and
///   NaN counts, integer and exact sums; within a few ulps (relative, see the laws test) for moments.
/// * round trip: `decode(encode(s))` equals `s` bit for bit.
///
/// `update` is an inherent method of each state because its input type differs (typed slices); it is
/// infallible: the Source validated everything a kernel assumes.
pub trait Partial: Default + Clone + Send + Serialize + DeserializeOwned {
    /// Folds `other` into `self`. Not commutative in the last bits for moments: the Aggregator fixes the order.
    fn merge(&mut self, other: &Self);
    /// The finished statistics; non-consuming and idempotent.
    fn finish(&self, options: &FinishOptions) -> Summary;
}

/// Options that only matter when finishing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinishOptions {
    /// Delta degrees of freedom for `var` and `std` (1: sample variance).
    pub ddof: u64,
}

impl Default for FinishOptions {
    fn default() -> Self {
        FinishOptions { ddof: 1 }
    }
}

/// A value that keeps the column's domain: integer columns report exact integers.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Value {
    Int(i128),
    Float(f64),
}

impl Value {
    /// As float64 (integers rounded as NumPy's `astype(float64)` rounds them).
    pub fn as_f64(self) -> f64 {
        match self {
            Value::Int(i) => i as f64,
            Value::Float(f) => f,
        }
    }
}

/// The finished statistics of one column. `None` means the statistic does not exist for these values
/// (the mean of no values, the std of one value, statistics of a non-numeric column).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub count: u64,
    pub null_count: u64,
    pub nan_count: u64,
    pub min: Option<Value>,
    pub max: Option<Value>,
    pub sum: Option<Value>,
    pub mean: Option<f64>,
    pub var: Option<f64>,
    pub std: Option<f64>,
    pub skewness: Option<f64>,
    pub kurtosis: Option<f64>,
    /// What some column types add (`true_count`, `min_length`, `min_iso`, ...) and the text that replaces
    /// a numeric statistic for others (`min` of a string or decimal column), by output name, in the order
    /// set. See `report::EXTRA_NAMES` for the names and their order in the output.
    #[serde(default)]
    pub extra: Vec<(String, Extra)>,
}

/// A statistic only some column types have, or a statistic shown as text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Extra {
    Count(u64),
    Float(f64),
    Text(String),
}

impl Summary {
    /// Sets (or replaces) the extra statistic `name`.
    pub fn set(&mut self, name: &str, value: Extra) {
        match self.extra.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => *v = value,
            None => self.extra.push((name.to_string(), value)),
        }
    }

    pub fn set_text(&mut self, name: &str, text: String) {
        self.set(name, Extra::Text(text));
    }

    /// The extra statistic `name`, if this column has it.
    pub fn extra(&self, name: &str) -> Option<&Extra> {
        self.extra.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

/// Count and null count: all tally reports for columns it cannot compute on (strings, dates, ...).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub count: u64,
    pub null_count: u64,
}

impl Counts {
    pub fn update(&mut self, len: usize, null_count: usize) {
        self.count += (len - null_count) as u64;
        self.null_count += null_count as u64;
    }
}

impl Partial for Counts {
    fn merge(&mut self, other: &Self) {
        self.count += other.count;
        self.null_count += other.null_count;
    }

    fn finish(&self, _: &FinishOptions) -> Summary {
        Summary { count: self.count, null_count: self.null_count, ..Summary::default() }
    }
}

/// What to compute over one entry's columns: the closed set of statistics tally knows. A [`Pass`] is a list
/// of these (with their columns); [`Stat::empty`] makes the state a chunk starts from.
///
/// [`Pass`]: crate::plan::Pass
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Stat {
    /// The fused describe statistics of one column; `exact` adds the correctly rounded float sum.
    Describe { exact: bool },
    /// Finite min and max of one numeric column (the first pass of a histogram without `--range`).
    Range,
    /// Counts per bin of one numeric column.
    Histogram(HistogramSpec),
    /// Pairwise-complete co-moments of the entry's k numeric columns.
    CoMoments,
    /// Counts by the top `bits` bits of each value's order key (exact quantiles' first pass; with
    /// `float_keys`, integers keyed by their float64 value: the approximate quantile sketch).
    KeyHistogram { bits: u32, float_keys: bool },
    /// Counts or collects the keys inside these windows (exact quantiles' later passes).
    KeyWindows(Vec<key_windows::Window>),
    /// Group-by: the entry's columns are the key columns, then the aggregated columns.
    GroupBy(GroupSpec),
    /// HyperLogLog distinct count of one column (`distinct --approx`).
    ApproxDistinct,
}

impl Stat {
    /// The empty state (merge identity) of this statistic over `columns` columns, the first of `kind`.
    pub fn empty(&self, kind: ColumnKind, columns: usize) -> AnyPartial {
        match (self, kind) {
            (Stat::Describe { exact }, ColumnKind::Float) => AnyPartial::Float(FloatDescribe::new(*exact)),
            (Stat::Describe { .. }, ColumnKind::Int) => AnyPartial::Int(IntDescribe::default()),
            (Stat::Describe { .. }, ColumnKind::Decimal { scale }) => {
                AnyPartial::Decimal(Box::new(DecimalDescribe::new(scale)))
            }
            (Stat::Describe { .. }, ColumnKind::Bytes { utf8 }) => {
                AnyPartial::Bytes(Box::new(BytesDescribe::new(utf8)))
            }
            (Stat::Describe { .. }, ColumnKind::Nested | ColumnKind::Other) => AnyPartial::Counts(Counts::default()),
            (Stat::Range, _) => AnyPartial::Range(Range::default()),
            (Stat::Histogram(_), _) => AnyPartial::Histogram(Histogram::default()),
            (Stat::CoMoments, _) => AnyPartial::CoMoments(CoMoments::new(columns)),
            (Stat::KeyHistogram { bits, .. }, _) => AnyPartial::KeyHistogram(key_histogram::KeyHistogram::new(*bits)),
            (Stat::KeyWindows(_), _) => AnyPartial::KeyWindows(key_windows::KeyWindows::default()),
            (Stat::GroupBy(spec), _) => AnyPartial::Groups(Box::new(Groups::new(spec))),
            (Stat::ApproxDistinct, _) => AnyPartial::Sketch(Box::default()),
        }
    }
}

/// One statistic's state: the closed set the executors move around, with `match` dispatch (no trait
/// objects, no downcasts). The describe statistic has one fused state per column kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum AnyPartial {
    Counts(Counts),
    Float(FloatDescribe),
    Int(IntDescribe),
    Decimal(Box<DecimalDescribe>),
    Bytes(Box<BytesDescribe>),
    Range(Range),
    Histogram(Histogram),
    CoMoments(CoMoments),
    KeyHistogram(key_histogram::KeyHistogram),
    KeyWindows(key_windows::KeyWindows),
    Groups(Box<Groups>),
    Sketch(Box<groups::sketch::DistinctSketch>),
}

impl AnyPartial {
    /// Merges states of the same variant; different variants mean the two sides ran different plans.
    pub fn merge(&mut self, other: &AnyPartial) -> Result<()> {
        match (self, other) {
            (AnyPartial::Counts(a), AnyPartial::Counts(b)) => a.merge(b),
            (AnyPartial::Float(a), AnyPartial::Float(b)) => a.merge(b),
            (AnyPartial::Int(a), AnyPartial::Int(b)) => a.merge(b),
            (AnyPartial::Decimal(a), AnyPartial::Decimal(b)) if a.scale == b.scale => a.merge(b),
            (AnyPartial::Bytes(a), AnyPartial::Bytes(b)) if a.utf8 == b.utf8 => a.merge(b),
            (AnyPartial::Range(a), AnyPartial::Range(b)) => a.merge(b),
            (AnyPartial::Histogram(a), AnyPartial::Histogram(b)) => {
                if !(a.counts.is_empty() || b.counts.is_empty() || a.counts.len() == b.counts.len()) {
                    return Err(Error::internal(format!(
                        "cannot merge histograms of {} and {} bins",
                        a.counts.len(),
                        b.counts.len()
                    )));
                }
                a.merge(b)
            }
            (AnyPartial::CoMoments(a), AnyPartial::CoMoments(b)) => {
                if a.k != b.k {
                    return Err(Error::internal(format!("cannot merge co-moments of {} and {} columns", a.k, b.k)));
                }
                a.merge(b)
            }
            (AnyPartial::KeyHistogram(a), AnyPartial::KeyHistogram(b)) => {
                if a.bits() != b.bits() {
                    return Err(Error::internal(format!(
                        "cannot merge key histograms of {} and {} bits",
                        a.bits(),
                        b.bits()
                    )));
                }
                a.merge(b)
            }
            (AnyPartial::KeyWindows(a), AnyPartial::KeyWindows(b)) => a.merge(b).map_err(Error::internal)?,
            (AnyPartial::Groups(a), AnyPartial::Groups(b)) => {
                if !a.compatible(b) {
                    return Err(Error::internal("cannot merge group-by states of different keys or aggregations"));
                }
                a.merge(b)
            }
            (AnyPartial::Sketch(a), AnyPartial::Sketch(b)) => a.merge(b),
            (a, b) => {
                return Err(Error::internal(format!(
                    "cannot merge partial states of different kinds ({} and {})",
                    a.kind_name(),
                    b.kind_name()
                )));
            }
        }
        Ok(())
    }

    /// The describe summary of a describe state (`None` for other statistics).
    pub fn summary(&self, options: &FinishOptions) -> Option<Summary> {
        match self {
            AnyPartial::Counts(s) => Some(s.finish(options)),
            AnyPartial::Float(s) => Some(s.finish(options)),
            AnyPartial::Int(s) => Some(s.finish(options)),
            AnyPartial::Decimal(s) => Some(s.finish(options)),
            AnyPartial::Bytes(s) => Some(s.finish(options)),
            AnyPartial::Range(_)
            | AnyPartial::Histogram(_)
            | AnyPartial::CoMoments(_)
            | AnyPartial::KeyHistogram(_)
            | AnyPartial::KeyWindows(_)
            | AnyPartial::Groups(_)
            | AnyPartial::Sketch(_) => None,
        }
    }

    pub(crate) fn kind_name(&self) -> &'static str {
        match self {
            AnyPartial::Counts(_) => "counts",
            AnyPartial::Float(_) => "float describe",
            AnyPartial::Int(_) => "integer describe",
            AnyPartial::Decimal(_) => "decimal describe",
            AnyPartial::Bytes(_) => "string describe",
            AnyPartial::Range(_) => "range",
            AnyPartial::Histogram(_) => "histogram",
            AnyPartial::CoMoments(_) => "co-moments",
            AnyPartial::KeyHistogram(_) => "key histogram",
            AnyPartial::KeyWindows(_) => "key windows",
            AnyPartial::Groups(_) => "group-by",
            AnyPartial::Sketch(_) => "distinct sketch",
        }
    }
}

/// The partial states of one chunk (or of a merged range of chunks) for one pass: one per entry of the
/// pass, in pass order, plus the rows that passed the filter (all rows without one).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartialSet {
    pub rows: u64,
    pub stats: Vec<AnyPartial>,
}

impl PartialSet {
    pub fn merge(&mut self, other: &PartialSet) -> Result<()> {
        if self.stats.len() != other.stats.len() {
            return Err(Error::internal(format!(
                "cannot merge partial sets of {} and {} statistics",
                self.stats.len(),
                other.stats.len()
            )));
        }
        self.rows += other.rows;
        for (a, b) in self.stats.iter_mut().zip(&other.stats) {
            a.merge(b)?;
        }
        Ok(())
    }
}

/// Version of the serialised state format; bumped whenever any state's fields change.
pub const STATE_FORMAT_VERSION: u16 = 7;

/// Encodes a state for a pipe or a file: the format version, then the postcard body.
pub fn encode<T: Serialize>(state: &T) -> Result<Vec<u8>> {
    let mut out = STATE_FORMAT_VERSION.to_le_bytes().to_vec();
    postcard::to_io(state, &mut out).map_err(|e| Error::internal(format!("cannot encode a partial state: {e}")))?;
    Ok(out)
}

/// Decodes what [`encode`] wrote, refusing other format versions.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let protocol = |m: String| Error::new(crate::error::ErrorKind::Protocol, m);
    let (version, body) =
        bytes.split_first_chunk::<2>().ok_or_else(|| protocol("partial state too short to hold a version".into()))?;
    let version = u16::from_le_bytes(*version);
    if version != STATE_FORMAT_VERSION {
        return Err(protocol(format!(
            "partial state format version {version}, this tally reads version {STATE_FORMAT_VERSION}"
        )));
    }
    postcard::from_bytes(body).map_err(|e| protocol(format!("cannot decode a partial state: {e}")))
}

/// A fixed-seed xorshift64 generator for the unit tests' random data: the same data every run, no dependency.
#[cfg(test)]
pub(crate) fn test_rng(seed: u64) -> impl FnMut() -> u64 {
    let mut state = seed;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}
