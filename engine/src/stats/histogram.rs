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
//! bins do not serialise on one counter), out-of-range, NaN and masked rows counted in slots of their own
//! (no branch on the value), and, for equal-width bins, NumPy's arithmetic estimate with branch-free
//! corrections instead of a search (see `histogram_edges.rs`). Counts are integers: merging is exact and
//! order-free.

use serde::{Deserialize, Serialize};

use super::histogram_edges::HistogramSpec;
use super::numeric::{AsF64, NumericChunk, numeric_dispatch};

/// Count arrays the kernel interleaves.
const WAYS: usize = 4;

/// Values whose slots are computed before they are counted.
const BLOCK: usize = 64;

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

impl Histogram {
    /// Counts the rows of `chunk` whose validity bit is set.
    pub fn update(&mut self, spec: &HistogramSpec, chunk: NumericChunk<'_>) {
        self.null_count += chunk.null_count() as u64;
        let bins = spec.bins();
        if self.counts.is_empty() {
            self.counts = vec![0; bins];
        }
        let mut slots = Slots::new(bins);
        match (spec.uniform(), chunk) {
            (Some(u), NumericChunk::F64(c)) => {
                slots.count(c.values, c.validity, |x| u.slot(x), |xs, out| u.fill(xs, out))
            }
            (Some(u), chunk) => {
                numeric_dispatch!(chunk, c => slots.count(c.values, c.validity, |x| u.slot(x), one_by_one(|x| u.slot(x))))
            }
            (None, chunk) => {
                let slot = |x| search_slot(spec, x);
                numeric_dispatch!(chunk, c => slots.count(c.values, c.validity, slot, one_by_one(slot)))
            }
        }
        let total = slots.total();
        self.counts.iter_mut().zip(&total[1..=bins]).for_each(|(c, t)| *c += t);
        self.underflow += total[0];
        self.overflow += total[bins + 1];
        self.nan_count += total[bins + 2];
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

/// The slot of a value by the bin rule itself (binary search), in the layout of [`Slots`].
#[inline(always)]
fn search_slot(spec: &HistogramSpec, x: f64) -> usize {
    if x >= spec.lo() && x <= spec.hi() {
        1 + spec.search(x)
    } else if x < spec.lo() {
        0
    } else if x > spec.hi() {
        spec.bins() + 1
    } else {
        spec.bins() + 2
    }
}

/// A block filler that computes each slot on its own.
#[inline(always)]
fn one_by_one<T: AsF64>(slot: impl Fn(f64) -> usize + Copy) -> impl Fn(&[T], &mut [usize]) + Copy {
    move |xs, out| {
        for (o, &x) in out.iter_mut().zip(xs) {
            *o = slot(x.as_f64());
        }
    }
}

/// Per-call scratch: `WAYS` count arrays side by side, each of `bins + 4` slots: underflow, the bins,
/// overflow, NaN, and a discard slot for masked rows. Every row increments exactly one slot, so the
/// counting loop has no branch on the value (out-of-range, NaN and masked rows are slots like the bins).
struct Slots {
    ways: Vec<u64>,
    stride: usize,
}

impl Slots {
    fn new(bins: usize) -> Self {
        Slots { ways: vec![0; WAYS * (bins + 4)], stride: bins + 4 }
    }

    /// The discard slot of masked-out rows.
    fn masked(&self) -> usize {
        self.stride - 1
    }

    /// The counting loop: dense groups of `WAYS` values, one count array each (consecutive values do not
    /// serialise on one counter). 64-row validity words that are all set take the dense loop; the others
    /// send masked rows to the discard slot with a select rather than a branch.
    #[inline(always)]
    fn count<T: AsF64>(
        &mut self,
        values: &[T],
        validity: Option<&[u64]>,
        slot: impl Fn(f64) -> usize + Copy,
        fill: impl Fn(&[T], &mut [usize]) + Copy,
    ) {
        let Some(words) = validity else { return self.dense(values, fill) };
        let masked = self.masked();
        for (xs, &word) in values.chunks(64).zip(words) {
            if word == u64::MAX {
                self.dense(xs, fill);
                continue;
            }
            for (i, &x) in xs.iter().enumerate() {
                let s = if (word >> i) & 1 == 1 { slot(x.as_f64()) } else { masked };
                self.ways[(i % WAYS) * self.stride + s] += 1;
            }
        }
    }

    /// Blocks of [`BLOCK`] values: first every slot of the block (`fill`: four at a time with AVX2 for
    /// float64 columns of equal-width bins), then the increments. Computing and counting each value in one
    /// loop ran at about 13 cycles per value.
    #[inline(always)]
    fn dense<T: AsF64>(&mut self, xs: &[T], fill: impl Fn(&[T], &mut [usize])) {
        let stride = self.stride;
        let mut slots = [0usize; BLOCK];
        for block in xs.chunks(BLOCK) {
            let slots = &mut slots[..block.len()];
            fill(block, slots);
            let groups = slots.chunks_exact(WAYS);
            let tail = groups.remainder();
            for group in groups {
                for (way, &s) in group.iter().enumerate() {
                    self.ways[way * stride + s] += 1;
                }
            }
            for &s in tail {
                self.ways[s] += 1;
            }
        }
    }

    /// The `WAYS` arrays summed slot by slot.
    fn total(&self) -> Vec<u64> {
        let mut total = vec![0; self.stride];
        for way in self.ways.chunks_exact(self.stride) {
            total.iter_mut().zip(way).for_each(|(t, w)| *t += w);
        }
        total
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
