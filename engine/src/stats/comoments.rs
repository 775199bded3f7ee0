//! Pearson correlation and covariance of k columns from mergeable co-moment states, with
//! **pairwise-complete** observations: the pair (i, j) uses the rows where both values are non-null and
//! non-NaN, so each pair has its own count `n_pairs[i][j]`, means and sums (like pandas' `DataFrame.corr`,
//! unlike NumPy's `corrcoef`, which propagates NaN).
//!
//! Owns the co-moment state of every pair `i <= j` (`n, mean_x, mean_y, M2x, M2y, Cxy`), the block kernel
//! that feeds it and the finish into matrices. Does not own null counting beyond what validity says (the
//! planner folds `--where` into validity).
//!
//! ## Accuracy
//! * Never `Σxy − ΣxΣy/n`. Each block of [`BLOCK`] rows is reduced two-pass (block mean, then sums of
//!   centered products) and merged with Chan, Golub & LeVeque (1979) / Pébay (2008, SAND2008-6212, eq. for
//!   the covariance): `C = Ca + Cb + δx·δy·na·nb/n`.
//! * Integer columns are taken relative to a per-chunk integer shift (the first valid value) in i128
//!   before the conversion to f64, as `describe_int` does, so values near `i64::MAX` keep their spread;
//!   states with different shifts merge through the exact shift difference.
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

use super::lanes::{LANES, sum_lanes};
use super::numeric::{NumericChunk, numeric_dispatch};

/// Rows per block: k columns × 8 KiB of centered values stay in L2.
pub const BLOCK: usize = 1024;

/// The co-moments of one pair of columns over the rows where both are usable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PairMoments {
    pub n: u64,
    /// Means are `shift + mean` (shift 0 for float columns).
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
                b.load(&columns[c], shifts[c], start, rows);
            }
            self.add_block(&blocks, &shifts, columns, start);
            start += rows;
        }
    }

    fn add_block(&mut self, blocks: &[ColumnBlock], shifts: &[i128], columns: &[NumericChunk<'_>], start: usize) {
        let k = blocks.len();
        for i in 0..k {
            let (bi, si) = (&blocks[i], shifts[i]);
            let diag = PairMoments {
                n: bi.n,
                shift_x: si,
                shift_y: si,
                mean_x: bi.mean,
                mean_y: bi.mean,
                m2x: bi.m2,
                m2y: bi.m2,
                cxy: bi.m2,
            };
            self.pairs[pair_index(self.k, i, i)].merge(&diag);
            for j in i + 1..k {
                let bj = &blocks[j];
                let mut pm = if bi.full() && bj.full() {
                    PairMoments {
                        n: bi.n,
                        mean_x: bi.mean,
                        mean_y: bj.mean,
                        m2x: bi.m2,
                        m2y: bj.m2,
                        cxy: dot(&bi.d, &bj.d),
                        ..PairMoments::default()
                    }
                } else {
                    masked_pair(bi, bj, |c, row| raw_delta(&columns[c], shifts[c], start + row), (i, j))
                };
                (pm.shift_x, pm.shift_y) = (si, shifts[j]);
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

/// One column's block: centered usable values (0 elsewhere), usable flags as 0/1, count, mean, M2.
struct ColumnBlock {
    d: Vec<f64>,
    w: Vec<f64>,
    n: u64,
    mean: f64,
    m2: f64,
    constant: bool,
}

impl ColumnBlock {
    fn new(cap: usize) -> Self {
        ColumnBlock { d: Vec::with_capacity(cap), w: Vec::with_capacity(cap), n: 0, mean: 0.0, m2: 0.0, constant: true }
    }

    fn full(&self) -> bool {
        self.n == self.d.len() as u64
    }

    fn load(&mut self, chunk: &NumericChunk<'_>, shift: i128, start: usize, rows: usize) {
        let validity = chunk.validity();
        self.d.resize(rows, 0.0);
        self.w.resize(rows, 0.0);
        numeric_dispatch!(chunk, c => {
            let xs = &c.values[start..start + rows];
            // Every slot is converted without a per-row bit test (the loop vectorises), then the null
            // slots are cleared word by word: nulls are rare, and all-valid words cost one compare.
            self.d.iter_mut().zip(self.w.iter_mut()).zip(xs).for_each(|((d, w), &x)| {
                let x = x.delta(shift);
                let ok = !x.is_nan();
                *d = if ok { x } else { 0.0 };
                *w = f64::from(u8::from(ok));
            });
        });
        if let Some(words) = validity {
            clear_nulls(words, start, &mut self.d, &mut self.w);
        }
        let (n, lo, hi, sum) = summary(&self.d, &self.w);
        self.n = n;
        self.constant = lo == hi;
        self.mean = if n == 0 {
            0.0
        } else if self.constant {
            lo // exact: the deviations below are exactly 0
        } else {
            (sum / n as f64).clamp(lo, hi)
        };
        self.m2 = center(&mut self.d, &self.w, self.mean);
    }
}

/// Zeroes the slots of rows `start..start + d.len()` whose validity bit is clear.
fn clear_nulls(words: &[u64], start: usize, d: &mut [f64], w: &mut [f64]) {
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
                d[g - start] = 0.0;
                w[g - start] = 0.0;
            }
        }
    }
}

/// One pass over a block: usable count, min, max (`(0, 0)` when none is usable) and fixed-lane sum.
/// Row `r` goes to lane `r % LANES`; the loops are written over `LANES`-wide groups so they vectorise.
fn summary(d: &[f64], w: &[f64]) -> (u64, f64, f64, f64) {
    let (mut lo, mut hi) = ([f64::INFINITY; LANES], [f64::NEG_INFINITY; LANES]);
    let (mut n, mut acc) = ([0.0f64; LANES], [0.0f64; LANES]);
    let step = |l: usize,
                x: f64,
                w: f64,
                n: &mut [f64; LANES],
                acc: &mut [f64; LANES],
                lo: &mut [f64; LANES],
                hi: &mut [f64; LANES]| {
        n[l] += w;
        acc[l] += x * w;
        lo[l] = if w != 0.0 && x < lo[l] { x } else { lo[l] };
        hi[l] = if w != 0.0 && x > hi[l] { x } else { hi[l] };
    };
    let (dg, wg) = (d.chunks_exact(LANES), w.chunks_exact(LANES));
    let (dt, wt) = (dg.remainder(), wg.remainder());
    for (x, w) in dg.zip(wg) {
        for l in 0..LANES {
            step(l, x[l], w[l], &mut n, &mut acc, &mut lo, &mut hi);
        }
    }
    for (l, (&x, &w)) in dt.iter().zip(wt).enumerate() {
        step(l, x, w, &mut n, &mut acc, &mut lo, &mut hi);
    }
    let lo = lo.iter().fold(f64::INFINITY, |a, &b| a.min(b));
    let hi = hi.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    let (lo, hi) = if lo > hi { (0.0, 0.0) } else { (lo, hi) };
    (sum_lanes(&n) as u64, lo, hi, sum_lanes(&acc))
}

/// Centers the usable values on `mean` in place (unusable slots stay 0) and returns `Σ d²`.
fn center(d: &mut [f64], w: &[f64], mean: f64) -> f64 {
    let mut acc = [0.0f64; LANES];
    let mut dg = d.chunks_exact_mut(LANES);
    let wg = w.chunks_exact(LANES);
    let wt = wg.remainder();
    for (x, w) in (&mut dg).zip(wg) {
        for l in 0..LANES {
            x[l] = (x[l] - mean) * w[l];
            acc[l] += x[l] * x[l];
        }
    }
    for (l, (x, &w)) in dg.into_remainder().iter_mut().zip(wt).enumerate() {
        *x = (*x - mean) * w;
        acc[l] += *x * *x;
    }
    sum_lanes(&acc)
}

/// The co-moments of a pair over the rows where both columns are usable. `raw(c, row)` re-reads one
/// value (relative to its chunk shift) so a column constant over these rows gets its exact value as mean.
fn masked_pair(
    bi: &ColumnBlock,
    bj: &ColumnBlock,
    raw: impl Fn(usize, usize) -> f64,
    cols: (usize, usize),
) -> PairMoments {
    // Pass 1: count, sums and extrema over the pair's rows (no allocation: this runs per block and pair).
    let (mut n, mut sx, mut sy) = ([0.0f64; LANES], [0.0f64; LANES], [0.0f64; LANES]);
    let (mut x_lo, mut x_hi) = ([f64::INFINITY; LANES], [f64::NEG_INFINITY; LANES]);
    let (mut y_lo, mut y_hi) = ([f64::INFINITY; LANES], [f64::NEG_INFINITY; LANES]);
    let mut first = usize::MAX;
    let len = bi.d.len().min(bj.d.len());
    let (xs, ys, wxs, wys) = (&bi.d[..len], &bj.d[..len], &bi.w[..len], &bj.w[..len]);
    // Rows in LANES-wide groups, row r in lane r % LANES, branch-free selects: the loop vectorises.
    for r in 0..len {
        let (x, y, w, l) = (xs[r], ys[r], wxs[r] * wys[r], r % LANES);
        let keep = w != 0.0;
        n[l] += w;
        sx[l] += x * w;
        sy[l] += y * w;
        first = if keep && r < first { r } else { first };
        x_lo[l] = if keep && x < x_lo[l] { x } else { x_lo[l] };
        x_hi[l] = if keep && x > x_hi[l] { x } else { x_hi[l] };
        y_lo[l] = if keep && y < y_lo[l] { y } else { y_lo[l] };
        y_hi[l] = if keep && y > y_hi[l] { y } else { y_hi[l] };
    }
    let lowest = |v: [f64; LANES]| v.iter().fold(f64::INFINITY, |a, &b| a.min(b));
    let highest = |v: [f64; LANES]| v.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    let (x_lo, x_hi, y_lo, y_hi) = (lowest(x_lo), highest(x_hi), lowest(y_lo), highest(y_hi));
    let count = sum_lanes(&n);
    if count == 0.0 {
        return PairMoments::default();
    }
    // A column constant over these rows gets its exact value as mean and exactly zero deviations.
    let center = |lo: f64, hi: f64, sum: f64, mean: f64, c: usize| {
        if lo == hi { (lo, raw(c, first)) } else { ((sum / count).clamp(lo, hi), mean + (sum / count).clamp(lo, hi)) }
    };
    let (ax, mean_x) = center(x_lo, x_hi, sum_lanes(&sx), bi.mean, cols.0);
    let (ay, mean_y) = center(y_lo, y_hi, sum_lanes(&sy), bj.mean, cols.1);
    // Pass 2: centered sums of squares and products.
    let (mut m2x, mut m2y, mut cxy) = ([0.0f64; LANES], [0.0f64; LANES], [0.0f64; LANES]);
    for r in 0..len {
        let (w, l) = (wxs[r] * wys[r], r % LANES);
        let (dx, dy) = ((xs[r] - ax) * w, (ys[r] - ay) * w);
        m2x[l] += dx * dx;
        m2y[l] += dy * dy;
        cxy[l] += dx * dy;
    }
    PairMoments {
        n: count as u64,
        mean_x,
        mean_y,
        m2x: sum_lanes(&m2x),
        m2y: sum_lanes(&m2y),
        cxy: sum_lanes(&cxy),
        ..PairMoments::default()
    }
}

#[inline(always)]
fn is_valid(validity: Option<&[u64]>, i: usize) -> bool {
    validity.is_none_or(|v| (v[i / 64] >> (i % 64)) & 1 == 1)
}

/// Fixed-lane `Σ aᵢ·bᵢ` (the same bits for every SIMD width).
#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; LANES];
    let (ga, gb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ta, tb) = (ga.remainder(), gb.remainder());
    for (x, y) in ga.zip(gb) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    for (l, (x, y)) in ta.iter().zip(tb).enumerate() {
        acc[l] += x * y;
    }
    sum_lanes(&acc)
}

/// The chunk's shift: its first valid value for integer columns (exact in i128), 0 for floats.
fn chunk_shift(chunk: &NumericChunk<'_>) -> i128 {
    if !chunk.is_integer() {
        return 0;
    }
    let validity = chunk.validity();
    numeric_dispatch!(chunk, c => (0..c.values.len()).find(|&i| is_valid(validity, i)).map_or(0, |i| c.values[i].shift_of()))
}

fn raw_delta(chunk: &NumericChunk<'_>, shift: i128, row: usize) -> f64 {
    numeric_dispatch!(chunk, c => c.values[row].delta(shift))
}

/// Element conversion for the co-moments: `x − shift` as f64 (exact i128 subtraction for integers).
trait Delta: Copy {
    fn delta(self, shift: i128) -> f64;
    fn shift_of(self) -> i128;
}

macro_rules! delta {
    (float: $($t:ty),*) => { $(impl Delta for $t {
        #[inline(always)]
        fn delta(self, _: i128) -> f64 { self as f64 }
        fn shift_of(self) -> i128 { 0 }
    })* };
    (narrow: $($t:ty),*) => { $(impl Delta for $t {
        // Exact in f64 for types of at most 32 bits; vectorises.
        #[inline(always)]
        fn delta(self, shift: i128) -> f64 { self as f64 - shift as f64 }
        fn shift_of(self) -> i128 { self as i128 }
    })* };
    (wide: $($t:ty),*) => { $(impl Delta for $t {
        #[inline(always)]
        fn delta(self, shift: i128) -> f64 { (self as i128 - shift) as f64 }
        fn shift_of(self) -> i128 { self as i128 }
    })* };
}
delta!(float: f64, f32);
delta!(narrow: i8, i16, i32, u8, u16, u32);
delta!(wide: i64, u64);
