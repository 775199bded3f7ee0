//! Central moments (n, mean, M2, M3, M4) as a mergeable state, and the block kernel that feeds them.
//!
//! Owns the numerics of mean, variance, skewness and kurtosis; does not own counting of nulls/NaN,
//! extrema or sums (see `describe_float.rs` and `describe_int.rs`, which fuse those into one pass).
//!
//! ## Why it is accurate
//! * Values are taken relative to a per-chunk **shift** `s` (the chunk's first finite value), so data
//!   like `1e9 + N(0,1)` or `i64::MAX - k` is reduced to small, exactly representable deltas before any
//!   squaring (`x - s` is exact by Sterbenz's lemma when `x` and `s` are within a factor of two). The shift
//!   is kept as a double-double `(hi, lo)` so integer shifts beyond 2^53 stay exact.
//! * Each block of [`BLOCK`] values is reduced with the **corrected two-pass** idea (Björck; Chan, Golub &
//!   LeVeque 1983): power sums of deviations from a center, corrected for the residual distance between that
//!   center and the block's mean. The center of the single fused pass is the chunk's running mean, which is
//!   within a few hundredths of a standard deviation of a block's mean for stationary data; when it is not
//!   within a tenth ([`center_is_close`]: first blocks, drifting or sorted data), a second pass around the
//!   block's own mean is made. Never the naive `E[x²] − E[x]²`.
//! * Values beyond 2^±200 in magnitude enter **scaled by a power of two** ([`Moments::scale`], exact), so
//!   moments of values near ±f64::MAX (variance beyond f64::MAX, std not) or near 1e-300 (squares below
//!   the subnormals) stay finite and non-zero, and states of different scales merge at the larger one:
//!   shifts 2e308 apart never overflow (issue 7).
//! * **M2 is a double-double** (`m2 + m2_lo`): the block kernel keeps the rounding errors of Σd²
//!   (`lanes::RUN_GROUPS`), the block's corrections add theirs (FMA, TwoSum), every merge adds its three
//!   terms with TwoSum, and the variance divides both parts before one rounding. On data whose squares
//!   round the same way again and again (values on a grid of eighths or cents, far from the mean's grid)
//!   the float variance was up to 5-10 ulps off against exact rationals, NumPy's about one; it is now
//!   within one (tests/accuracy.rs). M3 and M4 stay plain doubles.
//! * Blocks and chunks merge with the pairwise update of **Pébay (2008)**, "Formulas for robust, one-pass
//!   parallel computation of covariances and arbitrary-order statistical moments", SAND2008-6212,
//!   which generalises Chan et al.'s variance merge to M3 and M4.
//!
//! ## Why it is deterministic
//! The block passes run the fixed-lane kernels of [`lanes`], whose bits do not depend on the SIMD width
//! the compiler picks. Merge order is decided by the caller (the Aggregator's tree).

use serde::{Deserialize, Serialize};

use super::lanes;

/// Values per block of the two-pass kernel: 32 KiB of f64, so pass two reads from L1.
pub const BLOCK: usize = 4096;

/// Mergeable central moments of the finite values seen, relative to a shift.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Moments {
    /// Number of values (finite, non-null).
    pub n: u64,
    /// The shift as a double-double (`hi + lo`); meaningless while `n == 0`.
    pub shift_hi: f64,
    pub shift_lo: f64,
    /// Mean minus shift.
    pub mean_rel: f64,
    /// Sums of the 2nd, 3rd and 4th powers of deviations from the mean.
    pub m2: f64,
    /// The rounding errors of `m2`'s additions, kept by TwoSum: `m2 + m2_lo` is M2 to about twice the
    /// precision, so the variance is rounded about once however many blocks and states were merged.
    pub m2_lo: f64,
    pub m3: f64,
    pub m4: f64,
    /// Every value of this state was multiplied by `2^-scale` (exactly: a power of two) before it entered
    /// the moments, so that deviations of values near ±f64::MAX (whose variance may exceed f64::MAX) or
    /// near 1e-300 (whose squares underflow) stay in range; 0 for all ordinary data. See [`scale_for`].
    pub scale: i32,
}

/// Magnitudes up to `2^RANGE` (and down to `2^-RANGE`) are taken unscaled: their deviations' fourth
/// powers, summed over any realistic count, stay far inside the f64 range.
pub const RANGE: i32 = 200;

/// The scale a block whose largest finite magnitude is `amax` needs: 0 inside `[2^-RANGE, 2^RANGE]`
/// (and for all-zero blocks), else the exponent of `amax`, so scaled values lie in `[1, 2)`. Clamped at
/// to `[-960, 1022]` so that `2^-scale` is itself a normal f64 (values below 2^-960 are scaled into
/// `[2^-114, 1)`, values near f64::MAX into `[2, 4)`).
pub fn scale_for(amax: f64) -> i32 {
    if amax == 0.0 || (pow2(-RANGE)..=pow2(RANGE)).contains(&amax) {
        return 0;
    }
    ilogb(amax).clamp(-960, 1022)
}

/// `floor(log2 |x|)` of a finite, non-zero `x` (subnormals included).
pub fn ilogb(x: f64) -> i32 {
    let bits = x.to_bits() & !(1 << 63);
    let biased = (bits >> 52) as i32;
    if biased == 0 { -1011 - bits.leading_zeros() as i32 } else { biased - 1023 }
}

/// `2^e` for `e` in `[-1022, 1023]`.
#[inline]
pub fn pow2(e: i32) -> f64 {
    f64::from_bits(((e + 1023) as u64) << 52)
}

/// `x · 2^e` for any `e`, in steps that keep every factor a normal power of two; rounds only when the
/// result leaves the normal range.
pub fn ldexp(mut x: f64, mut e: i64) -> f64 {
    while e > 1000 && x.is_finite() && x != 0.0 {
        x *= pow2(1000);
        e -= 1000;
    }
    while e < -1000 && x != 0.0 {
        x *= pow2(-1000);
        e += 1000;
    }
    x * pow2(e as i32)
}

/// Moments of one block relative to the caller's shift (`mean_rel`), before merging.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BlockMoments {
    pub n: u64,
    pub mean_rel: f64,
    pub m2: f64,
    pub m2_lo: f64,
    pub m3: f64,
    pub m4: f64,
}

impl Moments {
    /// An empty state that will use `shift` for the values added to it.
    pub fn with_shift(shift_hi: f64, shift_lo: f64) -> Self {
        Moments { shift_hi, shift_lo, ..Default::default() }
    }

    /// Adds a block computed against this state's own shift.
    #[inline]
    pub fn add_block(&mut self, b: &BlockMoments) {
        if b.n == 0 {
            return;
        }
        let other = Moments {
            n: b.n,
            shift_hi: self.shift_hi,
            shift_lo: self.shift_lo,
            mean_rel: b.mean_rel,
            m2: b.m2,
            m2_lo: b.m2_lo,
            m3: b.m3,
            m4: b.m4,
            scale: self.scale,
        };
        self.merge(&other);
    }

    /// `self.merge(&Moments::one(x))`, bit for bit in every field, for a finite `x`: the per-value step of
    /// the group accumulators. Where both are unscaled (all ordinary data) it skips the general merge's
    /// rescaling and copies; the arithmetic is the merge's own, with the one-value state's constants.
    #[inline]
    pub fn add_value(&mut self, x: f64) {
        if self.n == 0 || self.scale != 0 || scale_for(x.abs()) != 0 {
            return self.merge(&Moments::one(x));
        }
        let shift_delta = (x - self.shift_hi) + (0.0 - self.shift_lo);
        let delta = shift_delta + (0.0 - self.mean_rel);
        let merged = merge_central(
            (self.n, self.mean_rel, (self.m2, self.m2_lo), self.m3, self.m4),
            (1, (0.0, 0.0), 0.0, 0.0),
            delta,
        );
        (self.n, self.mean_rel, (self.m2, self.m2_lo), self.m3, self.m4) = merged;
    }

    /// The state of the one finite value `x`, scaled as a block of its magnitude would be.
    #[inline]
    pub fn one(x: f64) -> Moments {
        let scale = scale_for(x.abs());
        Moments { n: 1, shift_hi: ldexp(x, -i64::from(scale)), scale, ..Moments::default() }
    }

    /// Pébay's pairwise merge; the result keeps `self`'s shift (or `other`'s if `self` is empty).
    pub fn merge(&mut self, other: &Moments) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *other;
            return;
        }
        // States of different scales meet at the larger one: the smaller state's contributions that
        // underflow there are below the larger one's rounding anyway.
        let mut other = *other;
        if other.scale > self.scale {
            self.rescale(other.scale);
        } else if other.scale < self.scale {
            other.rescale(self.scale);
        }
        // Difference of the shifts first: both are close for clustered data, so the subtraction is exact.
        let shift_delta = (other.shift_hi - self.shift_hi) + (other.shift_lo - self.shift_lo);
        let delta = shift_delta + (other.mean_rel - self.mean_rel);
        let merged = merge_central(
            (self.n, self.mean_rel, (self.m2, self.m2_lo), self.m3, self.m4),
            (other.n, (other.m2, other.m2_lo), other.m3, other.m4),
            delta,
        );
        (self.n, self.mean_rel, (self.m2, self.m2_lo), self.m3, self.m4) = merged;
    }

    /// Re-expresses the state at the coarser scale `scale` (> `self.scale`).
    pub fn rescale(&mut self, scale: i32) {
        let e = i64::from(self.scale) - i64::from(scale);
        self.shift_hi = ldexp(self.shift_hi, e);
        self.shift_lo = ldexp(self.shift_lo, e);
        self.mean_rel = ldexp(self.mean_rel, e);
        self.m2 = ldexp(self.m2, 2 * e);
        self.m2_lo = ldexp(self.m2_lo, 2 * e);
        self.m3 = ldexp(self.m3, 3 * e);
        self.m4 = ldexp(self.m4, 4 * e);
        self.scale = scale;
    }

    /// The mean, or `None` for no values.
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then(|| ldexp(self.shift_hi + (self.shift_lo + self.mean_rel), self.scale.into()))
    }

    /// M2 rounded once from its two parts; an infinite or NaN `m2` as it is (its low part is then NaN,
    /// from TwoSum's `inf − inf`).
    fn m2_total(&self) -> f64 {
        if self.m2.is_finite() { self.m2 + self.m2_lo } else { self.m2 }
    }

    /// The scaled variance `M2 / (n − ddof)`, from both parts of M2: the division of a double-double by an
    /// integer, so rounded about once.
    fn scaled_variance(&self, ddof: u64) -> f64 {
        let d = (self.n - ddof) as f64;
        let q = self.m2 / d;
        if !q.is_finite() {
            return non_negative(q);
        }
        // The division's own error, exactly (FMA), joins the low part before the one rounding.
        let r = (-q).mul_add(d, self.m2);
        non_negative(q + (r + self.m2_lo) / d)
    }

    /// Variance with `ddof` delta degrees of freedom; `None` when `n <= ddof`. Beyond f64::MAX it is
    /// `inf`, the correctly rounded value.
    pub fn variance(&self, ddof: u64) -> Option<f64> {
        (self.n > ddof).then(|| ldexp(self.scaled_variance(ddof), 2 * i64::from(self.scale)))
    }

    /// Standard deviation, taken on the scaled variance so that it stays finite when the variance is not.
    pub fn std(&self, ddof: u64) -> Option<f64> {
        (self.n > ddof).then(|| ldexp(self.scaled_variance(ddof).sqrt(), self.scale.into()))
    }

    /// Population (biased) skewness `g1 = sqrt(n) M3 / M2^1.5`, as scipy.stats.skew and polars by
    /// default; `None` when it does not exist (no values, or all values equal).
    pub fn skewness(&self) -> Option<f64> {
        (self.n > 0 && self.m2_total() > 0.0).then(|| {
            let n = self.n as f64;
            n.sqrt() * self.m3 / self.m2_total().powf(1.5)
        })
    }

    /// Population (biased) excess kurtosis `g2 = n M4 / M2² − 3`, as scipy.stats.kurtosis by default.
    pub fn kurtosis(&self) -> Option<f64> {
        (self.n > 0 && self.m2_total() > 0.0).then(|| {
            let n = self.n as f64;
            let m2 = self.m2_total();
            n * self.m4 / (m2 * m2) - 3.0
        })
    }
}

/// Clamps rounding noise below zero (and -0.0) to zero but lets NaN through (`f64::max` would hide it as 0).
#[inline]
fn non_negative(x: f64) -> f64 {
    if x <= 0.0 { 0.0 } else { x }
}

/// M2 as a double-double `(hi, lo)`.
pub type M2 = (f64, f64);

/// Pébay (2008) eq. 3.1 and its third/fourth-order analogues: merges `(n_a, mean_a, M2..M4)` with
/// `(n_b, M2..M4)` whose mean is `mean_a + delta`. Returns the merged `(n, mean, M2, M3, M4)`. M2's three
/// terms are added with TwoSum, their rounding errors kept in its low part.
#[inline]
pub fn merge_central(a: (u64, f64, M2, f64, f64), b: (u64, M2, f64, f64), delta: f64) -> (u64, f64, M2, f64, f64) {
    let (na_u, mean_a, (m2a, m2a_lo), m3a, m4a) = a;
    let (nb_u, (m2b, m2b_lo), m3b, m4b) = b;
    let n_u = na_u + nb_u;
    let (na, nb, n) = (na_u as f64, nb_u as f64, n_u as f64);
    let d_n = delta / n;
    let d_n2 = d_n * d_n;
    let term1 = delta * d_n * na * nb;
    let mean = mean_a + d_n * nb;
    let (ab, e1) = lanes::two_sum(m2a, m2b);
    let (m2, e2) = lanes::two_sum(ab, term1);
    let m2_lo = (m2a_lo + m2b_lo) + (e1 + e2);
    let m3 = m3a + m3b + term1 * d_n * (na - nb) + 3.0 * d_n * (na * m2b - nb * m2a);
    let m4 = m4a
        + m4b
        + term1 * d_n2 * (na * na - na * nb + nb * nb)
        + 6.0 * d_n2 * (na * na * m2b + nb * nb * m2a)
        + 4.0 * d_n * (na * m3b - nb * m3a);
    (n_u, mean, (m2, m2_lo), m3, m4)
}

/// Second pass over a block: corrected central moments around `shift + center`, where `center` is the
/// first pass's estimate of the mean relative to `shift`. The block holds `n` kept values plus `filled`
/// slots equal to `shift` exactly (nulls replaced by [`lanes::fill_masked`]), whose known contributions
/// `(−center)^p` are taken back out. `n` is non-zero.
#[inline]
pub fn block_central(xs: &[f64], shift: f64, center: f64, n: u64, filled: u64) -> BlockMoments {
    block_from_sums(lanes::power_sums(xs, shift, center), center, n, filled)
}

/// Takes the `filled` slots' deviations `−center` back out of raw power sums.
#[inline]
pub fn remove_fills(sums: [f64; 4], center: f64, filled: u64) -> [f64; 4] {
    if filled == 0 {
        return sums;
    }
    let (k, d) = (filled as f64, -center);
    let d2 = d * d;
    [sums[0] - k * d, sums[1] - k * d2, sums[2] - k * (d2 * d), sums[3] - k * (d2 * d2)]
}

/// Whether raw power sums taken around `center` can be turned into central moments without a second
/// pass: the center must be within a tenth of a standard deviation of the mean, so the binomial
/// corrections below change M4 by at most ~6% of its size and cost no significant digits.
#[inline]
pub fn center_is_close(sums: [f64; 4], n: u64) -> bool {
    let nf = n as f64;
    let c = sums[0] / nf;
    let spread = sums[1] / nf - c * c;
    c * c <= 0.01 * spread || (c == 0.0 && sums[1] == 0.0)
}

/// Central moments from raw power sums around `center` and the low part of Σd² (`lanes::power_sums`),
/// taking the `filled` slots back out.
#[inline]
pub fn block_from_sums((sums, sq_lo): ([f64; 4], f64), center: f64, n: u64, filled: u64) -> BlockMoments {
    let [s1, s2, s3, s4] = remove_fills(sums, center, filled);
    // Shift the raw power sums from the estimated mean to the corrected one (binomial expansion);
    // `c` is small next to the spread, so these corrections are small and well conditioned.
    let nf = n as f64;
    let c = s1 / nf;
    let c2 = c * c;
    let (m2, m2_lo) = block_m2(sums[1], sq_lo, center, filled, s1, c);
    BlockMoments {
        n,
        mean_rel: center + c,
        m2,
        m2_lo,
        m3: s3 - 3.0 * c * s2 + 2.0 * nf * c2 * c,
        m4: s4 - 4.0 * c * s3 + 6.0 * c2 * s2 - 3.0 * nf * c2 * c2,
    }
}

/// `M2 = (sq + sq_lo) − filled·center² − s1·c` as a double-double: the products' rounding errors
/// (FMA) and the subtractions' (TwoSum) join the low part, so the block's M2 is as good as its Σd².
#[inline]
fn block_m2(sq: f64, sq_lo: f64, center: f64, filled: u64, s1: f64, c: f64) -> M2 {
    let k = filled as f64;
    let kc = k * center;
    let fills = kc * center;
    let fills_err = kc.mul_add(center, -fills) + k.mul_add(center, -kc) * center;
    let shift = s1 * c;
    let shift_err = s1.mul_add(c, -shift);
    let (h, e1) = lanes::two_sum(sq, -fills);
    let (h, e2) = lanes::two_sum(h, -shift);
    let (m2, m2_lo) = lanes::two_sum(h, ((sq_lo + e1) + e2) - (fills_err + shift_err));
    if m2 + m2_lo <= 0.0 { (0.0, 0.0) } else { (m2, m2_lo) }
}

/// The moments of one block of `n` kept values and `filled` slots equal to `shift`: one fused pass around
/// `center` (pass the running mean relative to `shift`, or 0), and a second pass around the block's own
/// mean only when `center` proved too far from it. Also returns the fused pass (min, max, raw Σx).
#[inline]
pub fn block_moments(xs: &[f64], shift: f64, center: f64, n: u64, filled: u64) -> (BlockMoments, lanes::Fused) {
    let fused = lanes::fused(xs, shift, center);
    (moments_of_fused(&fused, || xs, shift, center, n, filled), fused)
}

/// [`block_moments`] from a fused pass already run: `data` gives the block's (filled) values again, and
/// is called only when the second pass is needed.
#[inline]
pub fn moments_of_fused<'a>(
    fused: &lanes::Fused,
    data: impl FnOnce() -> &'a [f64],
    shift: f64,
    center: f64,
    n: u64,
    filled: u64,
) -> BlockMoments {
    if n == 0 {
        return BlockMoments { n: 0, mean_rel: 0.0, m2: 0.0, m2_lo: 0.0, m3: 0.0, m4: 0.0 };
    }
    let sums = remove_fills(fused.sums, center, filled);
    if center_is_close(sums, n) {
        block_from_sums((fused.sums, fused.sq_lo), center, n, filled)
    } else {
        block_central(data(), shift, center + sums[0] / n as f64, n, filled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The group accumulators' per-value step against its definition, every field to the bit: states
    /// grown from values of every magnitude (zeros of both signs, subnormals, beyond 2^±200, near
    /// f64::MAX), whether the state or the value is scaled or not.
    #[test]
    fn add_value_is_the_merge_of_a_one_value_state_bit_for_bit() {
        let mut next = crate::stats::test_rng(11);
        let specials = [0.0, -0.0, 5e-324, -1e-310, 1e-70, 1e70, -1e300, f64::MAX, -f64::MAX, 3.0, -2.5];
        let fields =
            |m: &Moments| [m.shift_hi, m.shift_lo, m.mean_rel, m.m2, m.m2_lo, m.m3, m.m4].map(f64::to_bits).to_vec();
        for round in 0..400 {
            let (mut fast, mut slow) = (Moments::default(), Moments::default());
            for _ in 0..(round % 37 + 1) {
                let r = next();
                let x = if r.is_multiple_of(5) {
                    specials[(r >> 8) as usize % specials.len()]
                } else {
                    // Mostly ordinary values; exponents spread so that some rounds reach the scaled ones.
                    let spread = if round % 4 == 0 { 500 } else { 60 };
                    f64::from_bits((r >> 12) | (((r >> 3) % spread + 1023 - spread / 2) << 52))
                        * if r & 1 == 0 { 1.0 } else { -1.0 }
                };
                fast.add_value(x);
                slow.merge(&Moments::one(x));
                assert_eq!((fast.n, fast.scale), (slow.n, slow.scale), "round {round}, x = {x:e}");
                assert_eq!(fields(&fast), fields(&slow), "round {round}, x = {x:e}");
            }
        }
    }

    /// Brute-force reference in exact-ish arithmetic: two passes in f64 over data whose deviations are
    /// small integers (so every operation below is exact).
    fn reference_int(xs: &[i64]) -> (f64, f64, f64, f64) {
        let n = xs.len() as i128;
        let sum: i128 = xs.iter().map(|&x| x as i128).sum();
        // Work with n*x - sum to stay in integers: central moment k = Σ(n x − S)^k / n^k.
        let dev: Vec<i128> = xs.iter().map(|&x| n * x as i128 - sum).collect();
        let p = |k: u32| dev.iter().map(|d| d.pow(k)).sum::<i128>() as f64 / (n as f64).powi(k as i32);
        (sum as f64 / n as f64, p(2), p(3), p(4))
    }

    fn moments_of(xs: &[f64], shift: f64) -> Moments {
        let mut m = Moments::with_shift(shift, 0.0);
        for block in xs.chunks(BLOCK) {
            m.add_block(&block_moments(block, shift, m.mean_rel, block.len() as u64, 0).0);
        }
        m
    }

    #[test]
    fn an_infinite_m2_stays_infinite_through_its_low_part() {
        let inf = Moments { n: 3, m2: f64::INFINITY, ..Moments::default() };
        let mut merged = inf;
        merged.merge(&Moments { n: 2, m2: 1.0, mean_rel: 5.0, ..Moments::default() });
        assert!(merged.m2_lo.is_nan(), "TwoSum of inf leaves NaN in the low part");
        for m in [inf, merged] {
            assert_eq!(m.variance(1), Some(f64::INFINITY));
            assert_eq!(m.std(1), Some(f64::INFINITY));
        }
    }

    #[test]
    fn constant_column_has_exactly_zero_variance() {
        let xs = vec![0.1f64; 10_000];
        let m = moments_of(&xs, 0.1);
        assert_eq!(m.m2, 0.0);
        assert_eq!(m.variance(1), Some(0.0));
        assert_eq!(m.skewness(), None);
        assert_eq!(m.mean(), Some(0.1));
    }

    #[test]
    fn large_offset_small_integers_match_exact_reference() {
        // 1e15 + k: every value and every deviation is exactly representable.
        let ks: Vec<i64> = (0..20_000).map(|i| (i * 7919 % 13) - 6).collect();
        let xs: Vec<f64> = ks.iter().map(|&k| 1e15 + k as f64).collect();
        let (mean, m2, m3, m4) = reference_int(&ks);
        let m = moments_of(&xs, xs[0]);
        assert_eq!(m.mean().unwrap(), 1e15 + mean);
        let rel = |a: f64, b: f64| ((a - b) / b).abs();
        assert!(rel(m.m2, m2) < 1e-13, "{} vs {}", m.m2, m2);
        assert!((m.m3 - m3).abs() < 1e-10 * m2.powf(1.5), "{} vs {}", m.m3, m3);
        assert!(rel(m.m4, m4) < 1e-12);
    }

    #[test]
    fn merge_equals_whole_within_ulps() {
        let xs: Vec<f64> = (0..10_000).map(|i| ((i * 37 % 101) as f64).sin() * 3.0 + 1e9).collect();
        let whole = moments_of(&xs, xs[0]);
        let mut left = moments_of(&xs[..3_333], xs[0]);
        let right = moments_of(&xs[3_333..], xs[3_333]);
        left.merge(&right);
        assert_eq!(left.n, whole.n);
        let rel = |a: f64, b: f64| ((a - b) / b).abs();
        assert!(rel(left.m2, whole.m2) < 1e-12);
        assert!(rel(left.m4, whole.m4) < 1e-11);
        assert!((left.mean().unwrap() - whole.mean().unwrap()).abs() <= 2.0 * f64::EPSILON * 1e9);
    }

    #[test]
    fn filled_slots_are_taken_back_out() {
        let xs = [1.0, f64::NAN, 3.0, f64::INFINITY, 5.0];
        let mut filled = Vec::new();
        let n = lanes::fill_masked(&xs, &[0b10101u64], 2.0, &mut filled);
        let b = block_moments(&filled, 2.0, 0.0, n, 2).0;
        assert_eq!((b.n, b.mean_rel, b.m2), (3, 1.0, 8.0));
    }

    #[test]
    fn merge_with_empty_is_identity() {
        let m = moments_of(&[1.0, 2.0, 4.0], 1.0);
        let mut a = m;
        a.merge(&Moments::default());
        assert_eq!(a, m);
        let mut e = Moments::default();
        e.merge(&m);
        assert_eq!(e, m);
    }
}
