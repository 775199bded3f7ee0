//! Pearson correlation and covariance of k columns from mergeable co-moment states, with
//! **pairwise-complete** observations: the pair (i, j) uses the rows where both values are non-null and
//! finite (NaN and ±inf are not usable: moments over an infinite value do not exist), so each pair has
//! its own count `n_pairs[i][j]`, means and sums (like pandas' `DataFrame.corr`, unlike NumPy's
//! `corrcoef`, which propagates NaN).
//!
//! Owns the co-moment state of every pair `i <= j` (`n, mean_x, mean_y, M2x, M2y, Cxy`), the block kernel
//! that feeds it and the finish into matrices. Does not own null counting beyond what validity says (the
//! planner folds `--where` into validity).
//!
//! ## Accuracy
//! * Never `Σxy − ΣxΣy/n` on raw values. Each block of [`BLOCK`] rows is centered on each column's block
//!   mean, reduced in one pass of pair sums with the shift correction (error bound in `comoments/block.rs`,
//!   falling back to two passes around the pair's means when the bound would not hold), and merged with
//!   Chan, Golub & LeVeque (1979) / Pébay (2008, SAND2008-6212, eq. for the covariance):
//!   `C = Ca + Cb + δx·δy·na·nb/n`.
//! * Columns are taken relative to a per-chunk integer shift (the first usable value; truncated for
//!   floats) before the reduction, in exact i128 arithmetic for integers as `describe_int` does, so values
//!   near `i64::MAX` or `1e15` keep their spread in the means; states with different shifts merge through
//!   the exact shift difference.
//! * A column constant over a pair's rows gets its mean exactly (the value itself, not a rounded sum / n),
//!   so its `M2` is exactly 0 and its correlation `None`, never 1e-16 noise.
//! * Merge terms are formed as `(δx·g)·(δy·g)` with `g = sqrt(na·nb/n)` so they do not overflow before the
//!   result would; a covariance beyond the f64 range is ±inf and such a correlation `None` (see
//!   [`CoMoments::finish`]).
//!
//! ## Determinism
//! Fixed-lane sums ([`super::lanes`]), fixed block boundaries within a chunk, merge order set by the caller.

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use super::numeric::{NumericChunk, numeric_dispatch};
use block::ColumnBlock;

mod block;
#[cfg(target_arch = "x86_64")]
mod block_avx2;

/// Rows per block: k columns × 8 KiB of centered values stay in L2.
pub const BLOCK: usize = 1024;

/// The co-moments of one pair of columns over the rows where both are usable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PairMoments {
    pub n: u64,
    /// Means are `shift + mean` (the shifts are per-chunk integers, see `chunk_shift`).
    pub shift_x: i128,
    pub shift_y: i128,
    pub mean_x: f64,
    pub mean_y: f64,
    pub m2x: f64,
    pub m2y: f64,
    pub cxy: f64,
}

impl PairMoments {
    /// Chan/Pébay merge; an empty side is the identity, and `self` keeps its shifts.
    pub fn merge(&mut self, b: &PairMoments) {
        if b.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *b;
            return;
        }
        let n = self.n + b.n;
        let (na, nb, nf) = (self.n as f64, b.n as f64, n as f64);
        let dx = shifted_delta(b.shift_x, b.mean_x, self.shift_x, self.mean_x);
        let dy = shifted_delta(b.shift_y, b.mean_y, self.shift_y, self.mean_y);
        let g = (na * nb / nf).sqrt();
        let (gx, gy) = (dx * g, dy * g);
        self.m2x += b.m2x + gx * gx;
        self.m2y += b.m2y + gy * gy;
        self.cxy += b.cxy + gx * gy;
        self.mean_x = moved_mean(self.mean_x, dx, b.mean_x, na, nb, nf);
        self.mean_y = moved_mean(self.mean_y, dy, b.mean_y, na, nb, nf);
        self.n = n;
    }
}

/// `(sb + mb) − (sa + ma)`: the exact shift difference first, so near-equal large shifts cancel exactly.
#[inline]
fn shifted_delta(sb: i128, mb: f64, sa: i128, ma: f64) -> f64 {
    if sb == sa { mb - ma } else { (sb - sa) as f64 + (mb - ma) }
}

/// `ma + δ·nb/n`, or the weighted mean when `δ` overflowed (means of opposite signs near f64::MAX).
#[inline]
fn moved_mean(ma: f64, delta: f64, mb: f64, na: f64, nb: f64, n: f64) -> f64 {
    if delta.is_finite() { ma + delta * (nb / n) } else { ma * (na / n) + mb * (nb / n) }
}

/// Co-moments of k columns: one [`PairMoments`] per pair `i <= j`, row-major upper triangle.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CoMoments {
    pub k: usize,
    pub pairs: Vec<PairMoments>,
}

/// The finished matrices (k × k, symmetric).
#[derive(Clone, Debug, PartialEq)]
pub struct CorrResult {
    pub corr: Array2<Option<f64>>,
    pub cov: Array2<Option<f64>>,
    pub n_pairs: Array2<u64>,
}

/// Index of pair `(i, j)`, `i <= j < k`, in the upper triangle.
#[inline]
pub fn pair_index(k: usize, i: usize, j: usize) -> usize {
    i * k - i * (i + 1) / 2 + j
}

impl CoMoments {
    pub fn new(k: usize) -> Self {
        CoMoments { k, pairs: vec![PairMoments::default(); k * (k + 1) / 2] }
    }

    pub fn pair(&self, i: usize, j: usize) -> &PairMoments {
        let (i, j) = (i.min(j), i.max(j));
        &self.pairs[pair_index(self.k, i, j)]
    }

    /// Adds the rows of one chunk: `columns[c]` is column c's piece, all of the same length.
    pub fn update(&mut self, columns: &[NumericChunk<'_>]) {
        let k = self.k.min(columns.len());
        let len = columns.iter().take(k).map(NumericChunk::len).min().unwrap_or(0);
        let shifts: Vec<i128> = columns.iter().take(k).map(chunk_shift).collect();
        let mut blocks: Vec<ColumnBlock> = (0..k).map(|_| ColumnBlock::new(BLOCK.min(len))).collect();
        let mut start = 0;
        while start < len {
            let rows = BLOCK.min(len - start);
            for (c, b) in blocks.iter_mut().enumerate() {
                load(b, &columns[c], shifts[c], start, rows);
            }
            self.add_block(&blocks, &shifts, columns, start);
            start += rows;
        }
    }

    fn add_block(&mut self, blocks: &[ColumnBlock], shifts: &[i128], columns: &[NumericChunk<'_>], start: usize) {
        let k = blocks.len();
        for i in 0..k {
            let mut diag = blocks[i].diagonal();
            (diag.shift_x, diag.shift_y) = (shifts[i], shifts[i]);
            self.pairs[pair_index(self.k, i, i)].merge(&diag);
            for j in i + 1..k {
                let raw = |side: usize, row: usize| {
                    let c = if side == 0 { i } else { j };
                    raw_delta(&columns[c], shifts[c], start + row)
                };
                let mut pm = block::pair(&blocks[i], &blocks[j], raw);
                (pm.shift_x, pm.shift_y) = (shifts[i], shifts[j]);
                self.pairs[pair_index(self.k, i, j)].merge(&pm);
            }
        }
    }

    /// Merges `other` (same k) into `self`, pair by pair.
    pub fn merge(&mut self, other: &CoMoments) {
        if self.pairs.is_empty() {
            *self = other.clone();
            return;
        }
        self.pairs.iter_mut().zip(&other.pairs).for_each(|(a, b)| a.merge(b));
    }

    /// The k × k matrices. `cov = Cxy / (n − ddof)` (`None` when `n <= ddof`); `corr = Cxy / (√M2x·√M2y)`
    /// clamped to [−1, 1], exactly 1 on the diagonal, `None` when either column is constant over the pair's
    /// rows (`M2 == 0`), when the pair has no rows, or when a moment overflowed.
    pub fn finish(&self, ddof: u64) -> CorrResult {
        let k = self.k;
        let mut out = CorrResult {
            corr: Array2::from_elem((k, k), None),
            cov: Array2::from_elem((k, k), None),
            n_pairs: Array2::zeros((k, k)),
        };
        for i in 0..k {
            for j in i..k {
                let p = self.pair(i, j);
                let cov = (p.n > ddof).then(|| p.cxy / (p.n - ddof) as f64).filter(|c| !c.is_nan());
                let corr = if p.n == 0 || p.m2x == 0.0 || p.m2y == 0.0 || !(p.m2x.is_finite() && p.m2y.is_finite()) {
                    None
                } else if i == j {
                    Some(1.0)
                } else {
                    let r = p.cxy / (p.m2x.sqrt() * p.m2y.sqrt());
                    (!r.is_nan()).then(|| r.clamp(-1.0, 1.0))
                };
                for (a, b) in [(i, j), (j, i)] {
                    out.n_pairs[(a, b)] = p.n;
                    out.cov[(a, b)] = cov;
                    out.corr[(a, b)] = corr;
                }
            }
        }
        out
    }
}

/// Fills `block` with rows `start..start + rows` of `chunk`, relative to `shift`, and reduces it.
fn load(block: &mut ColumnBlock, chunk: &NumericChunk<'_>, shift: i128, start: usize, rows: usize) {
    // One pass from the column into the block where it applies (float64, AVX2, not the chunk's first
    // block); `start` is a multiple of BLOCK, hence of the lane count.
    if let NumericChunk::F64(c) = chunk
        && block.reduce_f64(&c.values[start..start + rows], chunk.validity().map(|w| (w, start)), shift as f64)
    {
        return;
    }
    block.d.resize(rows, 0.0);
    numeric_dispatch!(chunk, c => {
        let xs = &c.values[start..start + rows];
        // A plain conversion (it vectorises); null slots become NaN word by word below (nulls are rare,
        // all-valid words cost one compare), and the block reduction treats NaN as unusable.
        // ±inf are not usable either: a pair's co-moments over an infinite value do not exist, and keeping
        // them would make the result depend on where chunks split (inf − inf).
        block.d.iter_mut().zip(xs).for_each(|(d, &x)| {
            let v = x.delta(shift);
            *d = if v.is_finite() { v } else { f64::NAN };
        });
    });
    if let Some(words) = chunk.validity() {
        mark_nulls(words, start, &mut block.d);
    }
    block.reduce();
}

/// Sets the slots of rows `start..start + d.len()` whose validity bit is clear to NaN.
fn mark_nulls(words: &[u64], start: usize, d: &mut [f64]) {
    let end = start + d.len();
    if d.is_empty() {
        return;
    }
    for wi in start / 64..=(end - 1) / 64 {
        let mut clear = !words.get(wi).copied().unwrap_or(0);
        while clear != 0 {
            let g = wi * 64 + clear.trailing_zeros() as usize;
            clear &= clear - 1;
            if (start..end).contains(&g) {
                d[g - start] = f64::NAN;
            }
        }
    }
}

#[inline(always)]
fn is_valid(validity: Option<&[u64]>, i: usize) -> bool {
    validity.is_none_or(|v| (v[i / 64] >> (i % 64)) & 1 == 1)
}

/// The chunk's shift: its first usable value, exactly in i128 for integer columns, truncated to an integer
/// for float columns (0 when that is non-finite or beyond ±2^100), so that means far from 0 keep their
/// fraction bits: a state stores `shift + mean` with a small `mean`, and merges subtract shifts exactly.
fn chunk_shift(chunk: &NumericChunk<'_>) -> i128 {
    let validity = chunk.validity();
    numeric_dispatch!(chunk, c => (0..c.values.len())
        .find(|&i| is_valid(validity, i) && c.values[i].shift_of().is_some())
        .and_then(|i| c.values[i].shift_of())
        .unwrap_or(0))
}

fn raw_delta(chunk: &NumericChunk<'_>, shift: i128, row: usize) -> f64 {
    numeric_dispatch!(chunk, c => c.values[row].delta(shift))
}

/// Element conversion for the co-moments: `x − shift` as f64 (exact i128 subtraction for integers; for
/// floats exact by Sterbenz's lemma wherever `x` is within a factor 2 of the shift, rounded once elsewhere).
trait Delta: Copy {
    fn delta(self, shift: i128) -> f64;
    /// The shift this value proposes (`None`: not usable as one, NaN and infinities).
    fn shift_of(self) -> Option<i128>;
}

macro_rules! delta {
    (float: $($t:ty),*) => { $(impl Delta for $t {
        #[inline(always)]
        fn delta(self, shift: i128) -> f64 { self as f64 - shift as f64 }
        fn shift_of(self) -> Option<i128> {
            let x = self as f64;
            (x.abs() < 2f64.powi(100)).then(|| x.trunc() as i128) // NaN fails the compare
        }
    })* };
    (narrow: $($t:ty),*) => { $(impl Delta for $t {
        // Exact in f64 for types of at most 32 bits; vectorises.
        #[inline(always)]
        fn delta(self, shift: i128) -> f64 { self as f64 - shift as f64 }
        fn shift_of(self) -> Option<i128> { Some(self as i128) }
    })* };
    (wide: $($t:ty),*) => { $(impl Delta for $t {
        #[inline(always)]
        fn delta(self, shift: i128) -> f64 { (self as i128 - shift) as f64 }
        fn shift_of(self) -> Option<i128> { Some(self as i128) }
    })* };
}
delta!(float: f64, f32);
delta!(narrow: i8, i16, i32, u8, u16, u32);
delta!(wide: i64, u64);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ColumnChunk;

    fn chunk(values: &[f64], validity: Option<&[u64]>) -> NumericChunk<'static> {
        let values: &'static [f64] = Box::leak(values.to_vec().into_boxed_slice());
        let validity = validity.map(|v| &*Box::leak(v.to_vec().into_boxed_slice()));
        NumericChunk::F64(ColumnChunk::new(values, validity))
    }

    /// Exact `(n, M2x, M2y, Cxy)` over the rows where both integers are present, from i128 power sums:
    /// `n·C = n·Σxy − Σx·Σy` holds exactly.
    fn exact(x: &[Option<i64>], y: &[Option<i64>]) -> (u64, f64, f64, f64) {
        let rows: Vec<(i128, i128)> =
            x.iter().zip(y).filter_map(|(a, b)| Some((i128::from((*a)?), i128::from((*b)?)))).collect();
        let n = rows.len() as i128;
        let (sx, sy) = (rows.iter().map(|r| r.0).sum::<i128>(), rows.iter().map(|r| r.1).sum::<i128>());
        let co = |f: fn(&(i128, i128)) -> i128, s1: i128, s2: i128| {
            (n * rows.iter().map(f).sum::<i128>() - s1 * s2) as f64 / n as f64
        };
        (n as u64, co(|r| r.0 * r.0, sx, sx), co(|r| r.1 * r.1, sy, sy), co(|r| r.0 * r.1, sx, sy))
    }

    fn check(x: &[Option<i64>], y: &[Option<i64>], nan_for_none: bool) {
        let as_f = |v: &[Option<i64>]| -> Vec<f64> {
            v.iter().map(|v| v.map_or(if nan_for_none { f64::NAN } else { 12345.0 }, |v| v as f64)).collect()
        };
        let words = |v: &[Option<i64>]| -> Vec<u64> {
            let mut w = vec![0u64; v.len().div_ceil(64)];
            v.iter().enumerate().filter(|(_, v)| v.is_some()).for_each(|(i, _)| w[i / 64] |= 1 << (i % 64));
            w
        };
        let (wx, wy) = (words(x), words(y));
        let columns = if nan_for_none {
            [chunk(&as_f(x), None), chunk(&as_f(y), None)]
        } else {
            [chunk(&as_f(x), Some(&wx)), chunk(&as_f(y), Some(&wy))]
        };
        let mut co = CoMoments::new(2);
        co.update(&columns);
        let (n, m2x, m2y, c) = exact(x, y);
        let p = co.pair(0, 1);
        assert_eq!(p.n, n);
        let close = |got: f64, want: f64, scale: f64| (got - want).abs() <= 1e-12 * scale;
        assert!(close(p.m2x, m2x, m2x), "M2x {} vs {m2x}", p.m2x);
        assert!(close(p.m2y, m2y, m2y), "M2y {} vs {m2y}", p.m2y);
        assert!(close(p.cxy, c, (m2x * m2y).sqrt()), "C {} vs {c}", p.cxy);
    }

    #[test]
    fn values_far_from_the_block_mean_on_the_pairs_rows_are_recentered() {
        // Where y is missing x is -10^9, elsewhere 1000 + small: the pair's mean of x sits ~10^9 from the
        // block mean of x, so the one-pass shift correction would cancel; the pair is reduced two-pass.
        let len = 3000;
        let x: Vec<Option<i64>> =
            (0..len).map(|i| Some(if i % 2 == 0 { -1_000_000_000 } else { 1000 + i % 7 })).collect();
        let y: Vec<Option<i64>> = (0..len).map(|i| (i % 2 == 1).then_some((i * 31 % 101) - 50)).collect();
        check(&x, &y, true);
        check(&x, &y, false);
        // Both columns masked (the general kernel), with a level shift between blocks (the next block's
        // guess is far off, so the column is recentered too).
        let x: Vec<Option<i64>> =
            (0..len).map(|i| (i % 5 != 0).then_some(if i < 1500 { i % 13 } else { 1 << 40 | (i % 17) })).collect();
        let y: Vec<Option<i64>> =
            (0..len).map(|i| (i % 3 != 0).then_some(i * 7 % 19 - (i / 1000) * 1_000_000)).collect();
        check(&x, &y, true);
        check(&x, &y, false);
        // Fully usable columns (the unmasked kernel), drifting.
        let x: Vec<Option<i64>> = (0..len).map(|i| Some(i * i)).collect();
        let y: Vec<Option<i64>> = (0..len).map(|i| Some((i * 37 % 1001) + i * 1000)).collect();
        check(&x, &y, true);
    }

    #[test]
    fn large_offsets_keep_their_spread() {
        // Float columns near 1e15 (spacing 0.125, so these integers are exact): block sums of the raw values
        // would round by hundreds, far more than the spread; deviations from a nearby center are exact.
        let len = 5000;
        let x: Vec<Option<i64>> = (0..len).map(|i| Some(1_000_000_000_000_000 + i * 37 % 101)).collect();
        let y: Vec<Option<i64>> =
            (0..len).map(|i| (i % 11 != 4).then_some(-999_999_999_999_000 + i * 13 % 97 + i / 50)).collect();
        check(&x, &y, true);
        check(&x, &y, false);
    }

    #[test]
    fn constant_over_the_pairs_rows_only_is_exact_in_every_kernel() {
        // x is 7 wherever y is usable, and varies elsewhere: M2x = 0 and C = 0 exactly, mean exactly 7.
        let len = 2100usize;
        let x: Vec<f64> = (0..len).map(|i| if i % 4 == 0 { i as f64 } else { 0.7 }).collect();
        let y: Vec<f64> = (0..len).map(|i| if i % 4 == 0 { f64::NAN } else { (i % 9) as f64 }).collect();
        let mut co = CoMoments::new(2);
        co.update(&[chunk(&x, None), chunk(&y, None)]);
        let p = co.pair(0, 1);
        assert_eq!((p.m2x, p.cxy, p.mean_x, p.n), (0.0, 0.0, 0.7, (len - len / 4) as u64));
        // y masked by validity and x NaN elsewhere: the general kernel.
        let words: Vec<u64> = vec![!0x1111_1111_1111_1111; len.div_ceil(64)];
        let x: Vec<f64> = (0..len).map(|i| if i % 8 == 1 { f64::NAN } else { x[i] }).collect();
        let mut co = CoMoments::new(2);
        co.update(&[chunk(&x, None), chunk(&y, Some(&words))]);
        let p = co.pair(0, 1);
        assert_eq!((p.m2x, p.cxy, p.mean_x), (0.0, 0.0, 0.7));
    }
}
