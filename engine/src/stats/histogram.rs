//! The histogram statistic: counts per bin of a [`HistogramSpec`], plus underflow, overflow, null and NaN
//! counts, as a mergeable state.
//!
//! Owns the counting kernels. The counts equal `numpy.histogram(a.astype(np.float64), bins, range)` for
//! every value in range, edges included (see `histogram_edges.rs` for the rule); values below the first
//! edge (−inf too) are `underflow`, above the last (+inf too) `overflow`, NaN `nan_count`, nulls
//! `null_count` (from [`crate::store::ColumnChunk::null_count`]). NumPy drops the out-of-range values and
//! refuses NaN without a range; tally counts them apart. Integer columns are converted to f64 first, as
//! NumPy compares them. Float32 columns are widened to f64 (NumPy would build float32 edges for a float32
//! array: `numpy.histogram(a.astype(np.float64))` is the reference).
//!
//! Speed: one pass, four interleaved count arrays (consecutive values hit different arrays, so repeated
//! bins do not serialise on one counter) and, for equal-width bins, NumPy's arithmetic estimate instead of
//! a search. Counts are integers: merging is exact and order-free.

use serde::{Deserialize, Serialize};

use super::histogram_edges::HistogramSpec;
use super::numeric::{AsF64, NumericChunk, numeric_dispatch};

/// Count arrays the kernel interleaves.
const WAYS: usize = 4;

/// The mergeable state. `Default` (no counts yet) is the merge identity; `update` sizes `counts`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Histogram {
    pub counts: Vec<u64>,
    pub underflow: u64,
    pub overflow: u64,
    pub null_count: u64,
    pub nan_count: u64,
}

/// The finished histogram, named as in the JSON output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistogramResult {
    pub edges: Vec<f64>,
    pub counts: Vec<u64>,
    pub underflow: u64,
    pub overflow: u64,
    pub null_count: u64,
    pub nan_count: u64,
}

impl HistogramResult {
    /// Values that fell in a bin.
    pub fn in_range(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// Per-call scratch: `WAYS` count arrays side by side, and the out-of-range tallies.
struct Tally {
    ways: Vec<u64>,
    bins: usize,
    under: u64,
    over: u64,
    nan: u64,
}

impl Tally {
    /// Counts one value. `in_bin` is only called for `lo <= x <= hi`.
    #[inline(always)]
    fn add(&mut self, way: usize, x: f64, lo: f64, hi: f64, in_bin: impl Fn(f64) -> usize) {
        if x >= lo && x <= hi {
            self.ways[way * self.bins + in_bin(x)] += 1;
        } else if x < lo {
            self.under += 1;
        } else if x > hi {
            self.over += 1;
        } else {
            self.nan += 1;
        }
    }
}

impl Histogram {
    /// Counts the rows of `chunk` whose validity bit is set.
    pub fn update(&mut self, spec: &HistogramSpec, chunk: NumericChunk<'_>) {
        self.null_count += chunk.null_count() as u64;
        if self.counts.is_empty() {
            self.counts = vec![0; spec.bins()];
        }
        let mut tally = Tally { ways: vec![0; WAYS * spec.bins()], bins: spec.bins(), under: 0, over: 0, nan: 0 };
        match spec.uniform() {
            Some(u) => numeric_dispatch!(chunk, c => count(&mut tally, c.values, c.validity, spec, |x| u.bin(x))),
            None => numeric_dispatch!(chunk, c => count(&mut tally, c.values, c.validity, spec, |x| spec.search(x))),
        }
        for way in tally.ways.chunks_exact(spec.bins()) {
            self.counts.iter_mut().zip(way).for_each(|(c, w)| *c += w);
        }
        self.underflow += tally.under;
        self.overflow += tally.over;
        self.nan_count += tally.nan;
    }

    /// Adds `other`'s counts. Both must come from the same spec (the plan and the state header see to it);
    /// an empty side is the identity.
    pub fn merge(&mut self, other: &Histogram) {
        if self.counts.len() < other.counts.len() {
            self.counts.resize(other.counts.len(), 0);
        }
        self.counts.iter_mut().zip(&other.counts).for_each(|(a, b)| *a += b);
        self.underflow += other.underflow;
        self.overflow += other.overflow;
        self.null_count += other.null_count;
        self.nan_count += other.nan_count;
    }

    /// The result with `spec`'s edges; idempotent.
    pub fn finish(&self, spec: &HistogramSpec) -> HistogramResult {
        let mut counts = self.counts.clone();
        counts.resize(spec.bins(), 0);
        HistogramResult {
            edges: spec.edges().to_vec(),
            counts,
            underflow: self.underflow,
            overflow: self.overflow,
            null_count: self.null_count,
            nan_count: self.nan_count,
        }
    }
}

/// The counting loop: dense groups of `WAYS` values without validity tests; 64-row validity words that
/// are all set take the dense loop too, others visit their set bits.
#[inline(always)]
fn count<T: AsF64>(
    tally: &mut Tally,
    values: &[T],
    validity: Option<&[u64]>,
    spec: &HistogramSpec,
    in_bin: impl Fn(f64) -> usize + Copy,
) {
    let (lo, hi) = (spec.lo(), spec.hi());
    let dense = |tally: &mut Tally, xs: &[T]| {
        let groups = xs.chunks_exact(WAYS);
        let tail = groups.remainder();
        for group in groups {
            for (way, &x) in group.iter().enumerate() {
                tally.add(way, x.as_f64(), lo, hi, in_bin);
            }
        }
        for &x in tail {
            tally.add(0, x.as_f64(), lo, hi, in_bin);
        }
    };
    let Some(words) = validity else { return dense(tally, values) };
    for (xs, &word) in values.chunks(64).zip(words) {
        if word == u64::MAX || (xs.len() < 64 && word == (1u64 << xs.len()) - 1) {
            dense(tally, xs);
            continue;
        }
        let mut bits = word;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if let Some(&x) = xs.get(i) {
                tally.add(0, x.as_f64(), lo, hi, in_bin);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ColumnChunk;

    fn f64s(values: &[f64], validity: Option<&[u64]>) -> NumericChunk<'static> {
        let values: &'static [f64] = Box::leak(values.to_vec().into_boxed_slice());
        let validity = validity.map(|v| &*Box::leak(v.to_vec().into_boxed_slice()));
        NumericChunk::F64(ColumnChunk::new(values, validity))
    }

    #[test]
    fn counts_edges_outside_values_nan_and_nulls() {
        // np.histogram([0, 0.5, 1, 1.5, 2], bins=2, range=(0, 2)) -> [2, 3]: 1.0 opens bin 1, 2.0 closes it.
        let spec = HistogramSpec::equal_width(0.0, 2.0, 2).unwrap();
        let mut h = Histogram::default();
        let xs = [0.0, 0.5, 1.0, 1.5, 2.0, -1.0, f64::NEG_INFINITY, 2.5, f64::INFINITY, f64::NAN, 7.0];
        // the last value is null
        h.update(&spec, f64s(&xs, Some(&[(1 << 10) - 1])));
        let r = h.finish(&spec);
        assert_eq!(r.counts, [2, 3]);
        assert_eq!((r.underflow, r.overflow, r.nan_count, r.null_count), (2, 2, 1, 1));
        assert_eq!(r.edges, [0.0, 1.0, 2.0]);
    }

    #[test]
    fn integer_columns_compare_as_float64() {
        let spec = HistogramSpec::from_edges(vec![0.0, 9_007_199_254_740_992.0, 9_007_199_254_740_994.0]).unwrap();
        let mut h = Histogram::default();
        // 2^53 + 1 rounds to 2^53 (ties to even) in float64: bin 1, like NumPy.
        let xs: &'static [i64] = &[1, (1 << 53) + 1, (1 << 53) - 1];
        h.update(&spec, NumericChunk::I64(ColumnChunk::new(xs, None)));
        assert_eq!(h.finish(&spec).counts, [2, 1]);
    }

    #[test]
    fn empty_state_finishes_to_zeros_and_merges_as_identity() {
        let spec = HistogramSpec::equal_width(0.0, 1.0, 3).unwrap();
        assert_eq!(Histogram::default().finish(&spec).counts, [0, 0, 0]);
        let mut h = Histogram::default();
        h.update(&spec, f64s(&[0.1, 0.9], None));
        let mut m = Histogram::default();
        m.merge(&h);
        assert_eq!(m, h);
        m.merge(&Histogram::default());
        assert_eq!(m, h);
    }
}
