//! The block kernel of the co-moments: one block of at most [`super::BLOCK`] rows of k columns in, one
//! [`PairMoments`] per pair out.
//!
//! Owns the per-column block ([`ColumnBlock`]: values relative to the block's mean, usable flags, mean,
//! extrema, sums) and the pair sums over the rows where both columns are usable.
//!
//! ## How a pair is reduced, and its error bound
//! Each column is centered once per block on its own block mean `m` (two passes over the L1/L2-resident
//! block: sum, then deviations `d = x − m`). A pair then needs one pass of fixed-lane sums over its rows
//! (`w = wx·wy`): `n = Σw`, `Sx = Σw·dx`, `Sy`, `Sxx = Σw·dx²`, `Syy`, `Sxy = Σdx·dy`, and
//! `M2x = Sxx − Sx²/n`, `C = Sxy − Sx·Sy/n` (the exact shift identity, with the shift `m` next to the data).
//! A pair whose columns are both fully usable in the block reuses the columns' own `Sx`, `Sxx` (`Sx` is
//! then a rounding residue) and only computes `Sxy`.
//!
//! With [`LANES`] lanes, the rounding error of each sum is at most `γ·Σ|term|`, `γ = (n/LANES + 3)·ε`.
//! The subtraction is benign while the pair's mean offset is small: when `Sx² <= n·Sxx/2` (checked for
//! both columns) `Sxx <= 2·M2x`, so `|ΔM2x| <= 4γ·M2x` and `|ΔC| <= 4γ·√(M2x·M2y)`, the bound of a
//! two-pass reduction up to a factor 4. When a column's values on the pair's rows sit far from its block
//! mean (its other rows, where the partner is null, differ), the check fails and the pair is reduced
//! two-pass around its own means instead ([`recentered`]): rare, and as accurate as before.
//!
//! A column constant over the pair's rows gets `M2 = 0` and `C = 0` exactly and its value as mean: it is
//! constant over the block (`lo == hi`, then every `d` is exactly 0), or, in a masked pair, its computed
//! `M2` is within the rounding bound of 0 and a scan of the pair's rows confirms every `d` is the same.

use super::PairMoments;
use crate::stats::lanes::{LANES, sum_lanes};

/// One column's block: centered usable values (0 elsewhere), usable flags as 0/1, count, mean, extrema,
/// and the sums `Σd`, `Σd²` of the centered values.
pub(super) struct ColumnBlock {
    pub(super) d: Vec<f64>,
    w: Vec<f64>,
    pub(super) n: u64,
    pub(super) mean: f64,
    lo: f64,
    hi: f64,
    sum: f64,
    sq: f64,
    /// The center for the next block of the chunk: this block's mean.
    next: Option<f64>,
}

impl ColumnBlock {
    pub(super) fn new(cap: usize) -> Self {
        ColumnBlock {
            d: Vec::with_capacity(cap),
            w: Vec::with_capacity(cap),
            n: 0,
            mean: 0.0,
            lo: 0.0,
            hi: 0.0,
            sum: 0.0,
            sq: 0.0,
            next: None,
        }
    }

    fn full(&self) -> bool {
        self.n == self.d.len() as u64
    }

    fn constant(&self) -> bool {
        self.lo == self.hi
    }

    /// Reduces the block after `d` was filled with the values relative to the chunk shift (NaN where
    /// unusable): count, extrema, then centers `d` in place on `mean` (the block's mean, or, from the
    /// second block of a chunk on, the previous block's mean when it is close enough) and fills the usable
    /// flags `w`.
    pub(super) fn reduce(&mut self) {
        let sums = match self.next {
            // One fused pass around the previous block's mean.
            Some(c) => {
                self.mean = c;
                fused(&mut self.d, &mut self.w, c)
            }
            // Two passes: the block mean, then the deviations.
            None => {
                let (n, lo, hi, sum) = summary(&self.d);
                self.mean = if n == 0 { 0.0 } else { (sum / n as f64).clamp(lo, hi) };
                fused(&mut self.d, &mut self.w, self.mean)
            }
        };
        self.settle(sums);
    }

    /// Fills and reduces the block straight from float64 values, in the one pass of
    /// `block_avx2::fused_from` (the conversion `x − shift`, non-finite and null to NaN, and [`fused`]'s
    /// centering: the same operations, so the same bits as filling `d` and calling [`Self::reduce`];
    /// tested). `validity`: the chunk's words and the chunk row of `xs[0]`, a multiple of `LANES`. Returns
    /// false, touching nothing, where that pass does not apply: no center from a previous block yet, or a
    /// CPU without AVX2.
    pub(super) fn reduce_f64(&mut self, xs: &[f64], validity: Option<(&[u64], usize)>, shift: f64) -> bool {
        #[cfg(target_arch = "x86_64")]
        if let Some(c) = self.next
            && std::arch::is_x86_feature_detected!("avx2")
        {
            self.d.resize(xs.len(), 0.0);
            self.w.resize(xs.len(), 0.0);
            self.mean = c;
            // SAFETY: the CPU supports AVX2 (checked just above), the only requirement of `fused_from`;
            // `d` and `w` were just sized to `xs`.
            let sums = unsafe { super::block_avx2::fused_from(xs, validity, shift, &mut self.d, &mut self.w, c) };
            self.settle(sums);
            return true;
        }
        let _ = (xs, validity, shift);
        false
    }

    /// After the centering pass: a constant block exactly, a bad guess recentered, the next block's center.
    fn settle(&mut self, (n, lo, hi, sum, sq): (u64, f64, f64, f64, f64)) {
        (self.n, self.lo, self.hi, self.sum, self.sq) = (n, lo, hi, sum, sq);
        if n > 0 && lo == hi {
            // Constant: the value itself as center, every deviation exactly 0.
            self.mean = lo;
            self.d.iter_mut().for_each(|d| *d = 0.0);
            (self.sum, self.sq) = (0.0, 0.0);
        } else if n > 0 && sum * sum > 0.5 * n as f64 * sq {
            // The guess was too far from the data (module doc): center on the block mean after all.
            let offset = sum / n as f64;
            self.mean += offset;
            (self.sum, self.sq) = shift_usable(&mut self.d, &self.w, offset);
        }
        self.next = (n > 0).then(|| (self.mean + self.sum / n as f64).clamp(lo, hi));
    }

    /// The column with itself: its diagonal entry.
    pub(super) fn diagonal(&self) -> PairMoments {
        let m2 =
            if self.n == 0 || self.constant() { 0.0 } else { (self.sq - self.sum * self.sum / self.n as f64).max(0.0) };
        let mean = if self.n == 0 { 0.0 } else { (self.mean + self.sum / self.n as f64).clamp(self.lo, self.hi) };
        PairMoments { n: self.n, mean_x: mean, mean_y: mean, m2x: m2, m2y: m2, cxy: m2, ..PairMoments::default() }
    }
}

/// Sums of one pair over its rows, in deviations `dx, dy` from `center` (the columns' block means plus an
/// offset, 0 unless [`recentered`]).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct PairSums {
    pub(super) n: f64,
    pub(super) sx: f64,
    pub(super) sy: f64,
    pub(super) sxx: f64,
    pub(super) syy: f64,
    pub(super) sxy: f64,
    center: (f64, f64),
}

/// The pair `(bi, bj)` of one block. `raw(side, row)` re-reads one value of column `bi` (side 0) or `bj`
/// (side 1) relative to its chunk shift, for the exact mean of a column constant over the pair's rows.
pub(super) fn pair(bi: &ColumnBlock, bj: &ColumnBlock, raw: impl Fn(usize, usize) -> f64) -> PairMoments {
    let masked = !(bi.full() && bj.full());
    let mut s = if bi.full() && !bj.full() {
        // One column fully usable: the pair's rows are the other's, whose own sums are the pair's.
        let (sx, sxx, sxy) = restricted_sums(&bi.d, &bj.d, &bj.w);
        PairSums { n: bj.n as f64, sx, sy: bj.sum, sxx, syy: bj.sq, sxy, center: (0.0, 0.0) }
    } else if bj.full() && !bi.full() {
        let (sy, syy, sxy) = restricted_sums(&bj.d, &bi.d, &bi.w);
        PairSums { n: bi.n as f64, sx: bi.sum, sy, sxx: bi.sq, syy, sxy, center: (0.0, 0.0) }
    } else if masked {
        masked_sums(bi, bj)
    } else {
        PairSums {
            n: bi.n as f64,
            sx: bi.sum,
            sy: bj.sum,
            sxx: bi.sq,
            syy: bj.sq,
            sxy: dot(&bi.d, &bj.d),
            center: (0.0, 0.0),
        }
    };
    if s.n == 0.0 {
        return PairMoments::default();
    }
    let n = s.n;
    // Constant over the pair's rows: the exact value (row `first`) as mean, or None.
    let constant = |c: &ColumnBlock, other: &ColumnBlock, sum: f64, sq: f64, side: usize| -> Option<f64> {
        if c.constant() {
            return Some(c.mean);
        }
        let m2 = sq - sum * sum / n;
        // Within the rounding bound of 0 (module doc: `|ΔM2| <= 3γ·Sxx` for constant deviations)?
        if !masked || m2 > 2.0 * (n + 16.0) * f64::EPSILON * sq {
            return None;
        }
        constant_over(&c.d, &c.w, &other.w).map(|first| raw(side, first))
    };
    let cx = constant(bi, bj, s.sx, s.sxx, 0);
    let cy = constant(bj, bi, s.sy, s.syy, 1);
    let far = |sum: f64, sq: f64| sum * sum > 0.5 * n * sq;
    if (cx.is_none() && far(s.sx, s.sxx)) || (cy.is_none() && far(s.sy, s.syy)) {
        s = recentered(bi, bj, s.sx / n, s.sy / n);
    }
    let side = |c: &ColumnBlock, exact: Option<f64>, sum: f64, sq: f64, center: f64| match exact {
        Some(mean) => (mean, 0.0),
        None => ((c.mean + (center + sum / n)).clamp(c.lo, c.hi), (sq - sum * sum / n).max(0.0)),
    };
    let (mean_x, m2x) = side(bi, cx, s.sx, s.sxx, s.center.0);
    let (mean_y, m2y) = side(bj, cy, s.sy, s.syy, s.center.1);
    let cxy = if cx.is_some() || cy.is_some() { 0.0 } else { s.sxy - s.sx * s.sy / n };
    PairMoments { n: n as u64, mean_x, mean_y, m2x, m2y, cxy, ..PairMoments::default() }
}

/// The first of the pair's rows when `d` takes one value on all of them.
fn constant_over(d: &[f64], w: &[f64], other: &[f64]) -> Option<usize> {
    let mut rows = (0..d.len()).filter(|&r| w[r] * other[r] != 0.0);
    let first = rows.next()?;
    rows.all(|r| d[r] == d[first]).then_some(first)
}

/// One pass of the six pair sums over the rows where both columns are usable. Unusable slots hold
/// `d = 0`, so `Σdx·dy` needs no mask; rows in `LANES`-wide groups, row `r` in lane `r % LANES`.
#[inline(never)]
pub(super) fn masked_sums(bi: &ColumnBlock, bj: &ColumnBlock) -> PairSums {
    let mut acc = [[0.0f64; LANES]; 6];
    #[inline(always)]
    fn step(acc: &mut [[f64; LANES]; 6], l: usize, x: f64, y: f64, wx: f64, wy: f64) {
        let (xw, yw) = (x * wy, y * wx);
        acc[0][l] += wx * wy;
        acc[1][l] += xw;
        acc[2][l] += yw;
        acc[3][l] += xw * x;
        acc[4][l] += yw * y;
        acc[5][l] += x * y;
    }
    let len = bi.d.len().min(bj.d.len());
    let (xs, ys, wxs, wys) = (&bi.d[..len], &bj.d[..len], &bi.w[..len], &bj.w[..len]);
    let (gx, gy, gwx, gwy) =
        (xs.chunks_exact(LANES), ys.chunks_exact(LANES), wxs.chunks_exact(LANES), wys.chunks_exact(LANES));
    let (tx, ty, twx, twy) = (gx.remainder(), gy.remainder(), gwx.remainder(), gwy.remainder());
    for (((x, y), wx), wy) in gx.zip(gy).zip(gwx).zip(gwy) {
        for l in 0..LANES {
            step(&mut acc, l, x[l], y[l], wx[l], wy[l]);
        }
    }
    for l in 0..tx.len() {
        step(&mut acc, l, tx[l], ty[l], twx[l], twy[l]);
    }
    let [n, sx, sy, sxx, syy, sxy] = acc.map(|a| sum_lanes(&a));
    PairSums { n, sx, sy, sxx, syy, sxy, center: (0.0, 0.0) }
}

/// `(Σw·a, Σw·a², Σa·b)` for a fully usable column `a` restricted to the usable rows `w` of `b` (whose
/// unusable slots hold 0, so the product needs no mask).
fn restricted_sums(a: &[f64], b: &[f64], w: &[f64]) -> (f64, f64, f64) {
    let len = a.len().min(b.len()).min(w.len());
    let whole = len - len % LANES;
    let [mut s1, mut s2, mut p] = restricted_groups(&a[..whole], &b[..whole], &w[..whole]);
    for l in 0..len - whole {
        let (a, b, w) = (a[whole + l], b[whole + l], w[whole + l]);
        let aw = a * w;
        s1[l] += aw;
        s2[l] += aw * a;
        p[l] += a * b;
    }
    (sum_lanes(&s1), sum_lanes(&s2), sum_lanes(&p))
}

/// The lanes of [`restricted_sums`] over whole groups of `LANES` rows; AVX2 where the CPU has it.
fn restricted_groups(a: &[f64], b: &[f64], w: &[f64]) -> [[f64; LANES]; 3] {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above), the only requirement of the AVX2 loop.
        return unsafe { super::block_avx2::restricted_groups(a, b, w) };
    }
    restricted_groups_portable(a, b, w)
}

#[inline(never)]
pub(super) fn restricted_groups_portable(a: &[f64], b: &[f64], w: &[f64]) -> [[f64; LANES]; 3] {
    let (mut s1, mut s2, mut p) = ([0.0f64; LANES], [0.0f64; LANES], [0.0f64; LANES]);
    let (ga, gb, gw) = (a.chunks_exact(LANES), b.chunks_exact(LANES), w.chunks_exact(LANES));
    for ((a, b), w) in ga.zip(gb).zip(gw) {
        for l in 0..LANES {
            let aw = a[l] * w[l];
            s1[l] += aw;
            s2[l] += aw * a[l];
            p[l] += a[l] * b[l];
        }
    }
    [s1, s2, p]
}

/// The pair sums in deviations from `(mx, my)` more (a second pass around the pair's own means).
fn recentered(bi: &ColumnBlock, bj: &ColumnBlock, mx: f64, my: f64) -> PairSums {
    let mut acc = [[0.0f64; LANES]; 6];
    let len = bi.d.len().min(bj.d.len());
    for r in 0..len {
        let (w, l) = (bi.w[r] * bj.w[r], r % LANES);
        let (ex, ey) = ((bi.d[r] - mx) * w, (bj.d[r] - my) * w);
        acc[0][l] += w;
        acc[1][l] += ex;
        acc[2][l] += ey;
        acc[3][l] += ex * ex;
        acc[4][l] += ey * ey;
        acc[5][l] += ex * ey;
    }
    let [n, sx, sy, sxx, syy, sxy] = acc.map(|a| sum_lanes(&a));
    PairSums { n, sx, sy, sxx, syy, sxy, center: (mx, my) }
}

/// One pass over a block of values, NaN where unusable: usable count, min, max (`(0, 0)` when none is
/// usable) and fixed-lane sum. Written with selects (NaN fails every compare) so that it vectorises.
#[inline(never)]
fn summary(d: &[f64]) -> (u64, f64, f64, f64) {
    let (mut lo, mut hi) = ([f64::INFINITY; LANES], [f64::NEG_INFINITY; LANES]);
    let (mut n, mut acc) = ([0.0f64; LANES], [0.0f64; LANES]);
    let groups = d.chunks_exact(LANES);
    let tail = groups.remainder();
    #[inline(always)]
    fn step(
        l: usize,
        x: f64,
        n: &mut [f64; LANES],
        acc: &mut [f64; LANES],
        lo: &mut [f64; LANES],
        hi: &mut [f64; LANES],
    ) {
        let ok = !x.is_nan();
        n[l] += if ok { 1.0 } else { 0.0 };
        acc[l] += if ok { x } else { 0.0 };
        lo[l] = if x < lo[l] { x } else { lo[l] };
        hi[l] = if x > hi[l] { x } else { hi[l] };
    }
    for x in groups {
        for (l, &x) in x.iter().enumerate() {
            step(l, x, &mut n, &mut acc, &mut lo, &mut hi);
        }
    }
    for (l, &x) in tail.iter().enumerate() {
        step(l, x, &mut n, &mut acc, &mut lo, &mut hi);
    }
    let lo = lo.iter().fold(f64::INFINITY, |a, &b| a.min(b));
    let hi = hi.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    let (lo, hi) = if lo > hi { (0.0, 0.0) } else { (lo, hi) };
    (sum_lanes(&n) as u64, lo, hi, sum_lanes(&acc))
}

/// Centers the usable values on `center` in place (unusable slots, NaN, become 0) and fills the usable
/// flags `w` (1.0 or 0.0), with [`summary`]'s count and extrema in the same pass: `(n, min, max, Σd, Σd²)`.
/// AVX2 where the CPU has it (`block_avx2.rs`, the same bits).
fn fused(d: &mut [f64], w: &mut Vec<f64>, center: f64) -> (u64, f64, f64, f64, f64) {
    w.resize(d.len(), 0.0);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above), the only requirement of `block_avx2::fused`.
        return unsafe { super::block_avx2::fused(d, w, center) };
    }
    fused_portable(d, w, center)
}

#[inline(never)]
pub(super) fn fused_portable(d: &mut [f64], w: &mut [f64], center: f64) -> (u64, f64, f64, f64, f64) {
    let mut acc = FusedLanes::new();
    let mut dg = d.chunks_exact_mut(LANES);
    let mut wg = w.chunks_exact_mut(LANES);
    for (x, w) in (&mut dg).zip(&mut wg) {
        for l in 0..LANES {
            acc.step(l, &mut x[l], &mut w[l], center);
        }
    }
    acc.finish(dg.into_remainder(), wg.into_remainder(), center)
}

/// The lane accumulators of [`fused`]; value `r` of a block goes to lane `r % LANES` in both builds.
pub(super) struct FusedLanes {
    pub(super) n: [f64; LANES],
    pub(super) s1: [f64; LANES],
    pub(super) s2: [f64; LANES],
    pub(super) lo: [f64; LANES],
    pub(super) hi: [f64; LANES],
}

impl FusedLanes {
    pub(super) fn new() -> Self {
        let zero = [0.0; LANES];
        FusedLanes { n: zero, s1: zero, s2: zero, lo: [f64::INFINITY; LANES], hi: [f64::NEG_INFINITY; LANES] }
    }

    #[inline(always)]
    fn step(&mut self, l: usize, x: &mut f64, w: &mut f64, c: f64) {
        let v = *x;
        let ok = !v.is_nan();
        self.lo[l] = if v < self.lo[l] { v } else { self.lo[l] };
        self.hi[l] = if v > self.hi[l] { v } else { self.hi[l] };
        *x = if ok { v - c } else { 0.0 };
        *w = if ok { 1.0 } else { 0.0 };
        self.n[l] += *w;
        self.s1[l] += *x;
        self.s2[l] += *x * *x;
    }

    /// The tail (fewer than `LANES` values, lane `r` for tail value `r`), then the lane combination.
    pub(super) fn finish(mut self, d: &mut [f64], w: &mut [f64], c: f64) -> (u64, f64, f64, f64, f64) {
        for (l, (x, w)) in d.iter_mut().zip(w).enumerate() {
            self.step(l, x, w, c);
        }
        let lo = self.lo.iter().fold(f64::INFINITY, |a, &b| a.min(b));
        let hi = self.hi.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        let (lo, hi) = if lo > hi { (0.0, 0.0) } else { (lo, hi) };
        (sum_lanes(&self.n) as u64, lo, hi, sum_lanes(&self.s1), sum_lanes(&self.s2))
    }
}

/// Moves the usable deviations by `offset` (unusable slots stay 0); returns `(Σd, Σd²)`.
fn shift_usable(d: &mut [f64], w: &[f64], offset: f64) -> (f64, f64) {
    let (mut s1, mut s2) = ([0.0f64; LANES], [0.0f64; LANES]);
    for (r, (x, &w)) in d.iter_mut().zip(w).enumerate() {
        *x = (*x - offset) * w;
        s1[r % LANES] += *x;
        s2[r % LANES] += *x * *x;
    }
    (sum_lanes(&s1), sum_lanes(&s2))
}

/// Fixed-lane `Σ aᵢ·bᵢ` (the same bits for every SIMD width).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let len = a.len().min(b.len());
    let whole = len - len % LANES;
    let mut acc = dot_groups(&a[..whole], &b[..whole]);
    for l in 0..len - whole {
        acc[l] += a[whole + l] * b[whole + l];
    }
    sum_lanes(&acc)
}

/// The lanes of [`dot`] over whole groups of `LANES` rows; AVX2 where the CPU has it.
fn dot_groups(a: &[f64], b: &[f64]) -> [f64; LANES] {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above), the only requirement of the AVX2 loop.
        return unsafe { super::block_avx2::dot_groups(a, b) };
    }
    dot_groups_portable(a, b)
}

#[inline(never)]
pub(super) fn dot_groups_portable(a: &[f64], b: &[f64]) -> [f64; LANES] {
    let mut acc = [0.0f64; LANES];
    for (x, y) in a.chunks_exact(LANES).zip(b.chunks_exact(LANES)) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(values: impl Iterator<Item = f64>) -> ColumnBlock {
        let mut b = ColumnBlock::new(0);
        b.d = values.collect();
        b.reduce();
        b
    }

    #[test]
    fn the_three_pair_kernels_agree() {
        let len = 1021; // not a multiple of LANES
        let x = || (0..len).map(|i| ((i * 7919) % 1000) as f64 * 0.37 + 5.0);
        let y = || (0..len).map(|i| ((i * 104_729) % 997) as f64 * -1.3);
        let (bx, by) = (block(x()), block(y()));
        // Unmasked pair (column sums plus Σdx·dy) against the general masked kernel on the same data:
        // within the bound of the module doc, 4γ·Σ|terms|.
        let m = masked_sums(&bx, &by);
        let gamma = (len as f64 / LANES as f64 + 3.0) * f64::EPSILON;
        assert_eq!(m.n, len as f64);
        for (got, want, scale) in [
            (m.sx, bx.sum, bx.sq.sqrt() * (len as f64).sqrt()),
            (m.sxx, bx.sq, bx.sq),
            (m.syy, by.sq, by.sq),
            (m.sxy, dot(&bx.d, &by.d), (bx.sq * by.sq).sqrt()),
        ] {
            assert!((got - want).abs() <= 4.0 * gamma * scale, "{got} vs {want}");
        }
        // The one-sided kernel does the masked kernel's operations in the same lanes: the same bits.
        let by = block(y().enumerate().map(|(i, v)| if i % 10 == 3 { f64::NAN } else { v }));
        let m = masked_sums(&bx, &by);
        assert_eq!(restricted_sums(&bx.d, &by.d, &by.w), (m.sx, m.sxx, m.sxy));
        assert_eq!((m.n, m.sy, m.syy), (by.n as f64, by.sum, by.sq));
        let p = pair(&bx, &by, |_, _| unreachable!("no constant column"));
        assert_eq!(p.n, by.n);
    }

    #[test]
    fn avx2_and_portable_centering_give_the_same_bits() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            eprintln!("no AVX2 on this CPU: nothing to compare");
            return;
        }
        // NaN (unusable), signed zeros, huge and tiny values, lengths around multiples of LANES.
        let pool = [f64::NAN, 0.0, -0.0, 1e300, -1e300, 5e-324, 3.25, -7.5, 1e-3, 123456.789];
        for len in [0, 1, 3, 4, 5, 63, 64, 1021, 1024] {
            for center in [0.0, -0.0, 2.5, 1e299, f64::MIN_POSITIVE] {
                let d0: Vec<f64> = (0..len).map(|i| pool[(i * 7 + len) % pool.len()] * (1.0 + i as f64)).collect();
                let (mut da, mut wa) = (d0.clone(), vec![9.0; len]);
                let (mut db, mut wb) = (d0.clone(), vec![9.0; len]);
                let a = fused_portable(&mut da, &mut wa, center);
                // SAFETY: AVX2 is present (checked above).
                let b = unsafe { super::super::block_avx2::fused(&mut db, &mut wb, center) };
                let bits =
                    |t: (u64, f64, f64, f64, f64)| [t.0, t.1.to_bits(), t.2.to_bits(), t.3.to_bits(), t.4.to_bits()];
                assert_eq!(bits(a), bits(b), "len {len}, center {center}");
                let words = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!((words(&da), words(&wa)), (words(&db), words(&wb)), "len {len}, center {center}");
            }
        }
    }

    fn bits(b: &ColumnBlock) -> Vec<u64> {
        let mut v: Vec<u64> = b.d.iter().chain(&b.w).map(|x| x.to_bits()).collect();
        v.extend([b.n, b.mean.to_bits(), b.lo.to_bits(), b.hi.to_bits(), b.sum.to_bits(), b.sq.to_bits()]);
        v.push(b.next.map_or(1, f64::to_bits));
        v
    }

    #[test]
    fn one_pass_from_the_column_equals_filling_then_reducing() {
        // NaN, ±inf (unusable), a constant block, a block far from the previous one (recentered), tails.
        let pool = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 3.25, -7.5, 1e-3, 123456.789, 1e300];
        for len in [1usize, 3, 4, 7, 64, 1021, 1024] {
            for (shift, level) in [(0i128, 0.0), (1000, 1e6), (-5, -1e12)] {
                let blocks: Vec<Vec<f64>> = vec![
                    (0..len).map(|i| (i % 17) as f64 * 0.37).collect(),
                    (0..len).map(|i| pool[(i * 5 + len) % pool.len()] * (1.0 + i as f64)).collect(),
                    vec![2.5; len],
                    (0..len).map(|i| level + (i % 13) as f64).collect(),
                ];
                // `super::load`'s conversion, written out.
                // Validity words for all four blocks (some all-valid, some sparse), read from chunk row
                // `k * len` on (a multiple of LANES whenever len is).
                let words: Vec<u64> = (0..(4 * len).div_ceil(64) as u64)
                    .map(|i| match i % 3 {
                        0 => !0,
                        1 => 0x5555_0F0F_FFFF_0001u64.rotate_left(i as u32),
                        _ => 0,
                    })
                    .collect();
                for masked in [false, true] {
                    let valid = |row: usize| !masked || words[row / 64] >> (row % 64) & 1 == 1;
                    let (mut a, mut b) = (ColumnBlock::new(len), ColumnBlock::new(len));
                    for (k, xs) in blocks.iter().enumerate() {
                        let first = k * len;
                        // `super::load`'s conversion and `mark_nulls`, written out.
                        let converted = xs.iter().enumerate().map(|(r, &x)| {
                            let v = x - shift as f64;
                            if v.is_finite() && valid(first + r) { v } else { f64::NAN }
                        });
                        a.d = converted.collect();
                        a.reduce();
                        let validity = (masked && first % LANES == 0).then_some((&words[..], first));
                        let centered = b.next.is_some();
                        if masked && validity.is_none() || !b.reduce_f64(xs, validity, shift as f64) {
                            let avx2 = std::arch::is_x86_feature_detected!("avx2");
                            assert!(!centered || !avx2 || masked && validity.is_none(), "block {k}: slow path");
                            b.d = a.d.clone();
                            b.d.iter_mut().zip(xs).enumerate().for_each(|(r, (d, &x))| {
                                let v = x - shift as f64;
                                *d = if v.is_finite() && valid(first + r) { v } else { f64::NAN };
                            });
                            b.reduce();
                        }
                        assert_eq!(bits(&a), bits(&b), "len {len}, shift {shift}, block {k}, masked {masked}");
                    }
                }
            }
        }
    }

    #[test]
    fn avx2_and_portable_pair_loops_give_the_same_bits() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            eprintln!("no AVX2 on this CPU: nothing to compare");
            return;
        }
        let a: Vec<f64> = (0..1024).map(|i| ((i * 7919) % 1000) as f64 * 0.37 - 100.0).collect();
        let b: Vec<f64> =
            (0..1024).map(|i| if i % 9 == 2 { 0.0 } else { ((i * 104_729) % 997) as f64 * -1.3e-5 }).collect();
        let w: Vec<f64> = b.iter().map(|&x| if x == 0.0 { 0.0 } else { 1.0 }).collect();
        // SAFETY: AVX2 is present (checked above).
        let (fast_r, fast_d) = unsafe {
            (super::super::block_avx2::restricted_groups(&a, &b, &w), super::super::block_avx2::dot_groups(&a, &b))
        };
        let words = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(words(fast_r.as_flattened()), words(restricted_groups_portable(&a, &b, &w).as_flattened()));
        assert_eq!(words(&fast_d), words(&dot_groups_portable(&a, &b)));
    }

    #[test]
    fn a_constant_block_has_zero_deviations_and_its_value_as_mean() {
        let mut b = block((0..100).map(|_| 0.1));
        assert_eq!((b.mean, b.sum, b.sq), (0.1, 0.0, 0.0));
        assert!(b.d.iter().all(|&d| d == 0.0));
        // The next block starts from the previous mean and a constant block still comes out exact.
        b.d = (0..100).map(|i| if i % 3 == 0 { f64::NAN } else { 0.3 }).collect();
        b.reduce();
        assert_eq!((b.mean, b.sum, b.sq, b.n), (0.3, 0.0, 0.0, 66));
        assert_eq!(b.diagonal().m2x, 0.0);
    }
}
