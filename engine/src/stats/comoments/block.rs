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
        let guess = self.next;
        let (n, lo, hi, sum, sq) = match guess {
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
#[inline(never)]
fn restricted_sums(a: &[f64], b: &[f64], w: &[f64]) -> (f64, f64, f64) {
    let (mut s1, mut s2, mut p) = ([0.0f64; LANES], [0.0f64; LANES], [0.0f64; LANES]);
    let len = a.len().min(b.len()).min(w.len());
    let (ga, gb, gw) = (a[..len].chunks_exact(LANES), b[..len].chunks_exact(LANES), w[..len].chunks_exact(LANES));
    let (ta, tb, tw) = (ga.remainder(), gb.remainder(), gw.remainder());
    for ((a, b), w) in ga.zip(gb).zip(gw) {
        for l in 0..LANES {
            let aw = a[l] * w[l];
            s1[l] += aw;
            s2[l] += aw * a[l];
            p[l] += a[l] * b[l];
        }
    }
    for l in 0..ta.len() {
        let aw = ta[l] * tw[l];
        s1[l] += aw;
        s2[l] += aw * ta[l];
        p[l] += ta[l] * tb[l];
    }
    (sum_lanes(&s1), sum_lanes(&s2), sum_lanes(&p))
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
#[inline(never)]
fn fused(d: &mut [f64], w: &mut Vec<f64>, center: f64) -> (u64, f64, f64, f64, f64) {
    w.resize(d.len(), 0.0);
    let (mut lo, mut hi) = ([f64::INFINITY; LANES], [f64::NEG_INFINITY; LANES]);
    let (mut n, mut s1, mut s2) = ([0.0f64; LANES], [0.0f64; LANES], [0.0f64; LANES]);
    #[inline(always)]
    fn step(l: usize, x: &mut f64, w: &mut f64, c: f64, acc: [&mut [f64; LANES]; 5]) {
        let [n, s1, s2, lo, hi] = acc;
        let v = *x;
        let ok = !v.is_nan();
        lo[l] = if v < lo[l] { v } else { lo[l] };
        hi[l] = if v > hi[l] { v } else { hi[l] };
        *x = if ok { v - c } else { 0.0 };
        *w = if ok { 1.0 } else { 0.0 };
        n[l] += *w;
        s1[l] += *x;
        s2[l] += *x * *x;
    }
    let mut dg = d.chunks_exact_mut(LANES);
    let mut wg = w.chunks_exact_mut(LANES);
    for (x, w) in (&mut dg).zip(&mut wg) {
        for l in 0..LANES {
            step(l, &mut x[l], &mut w[l], center, [&mut n, &mut s1, &mut s2, &mut lo, &mut hi]);
        }
    }
    for (l, (x, w)) in dg.into_remainder().iter_mut().zip(wg.into_remainder()).enumerate() {
        step(l, x, w, center, [&mut n, &mut s1, &mut s2, &mut lo, &mut hi]);
    }
    let lo = lo.iter().fold(f64::INFINITY, |a, &b| a.min(b));
    let hi = hi.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    let (lo, hi) = if lo > hi { (0.0, 0.0) } else { (lo, hi) };
    (sum_lanes(&n) as u64, lo, hi, sum_lanes(&s1), sum_lanes(&s2))
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
#[inline(never)]
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
