//! Compensated summation: the default, fast float `sum` and `mean`.
//!
//! The fused kernel ([`lanes::fused`](super::lanes::fused)) adds the raw values of a block with Knuth's
//! TwoSum in fixed lanes and hands over the pair `(sum, comp)`; here the blocks' pairs are added with
//! Neumaier's improvement of Kahan summation (Neumaier 1974). Every rounding error of the additions is
//! captured exactly and only the error terms are summed plainly, so the result is the sum computed in
//! about twice the working precision ("Accurate sum and dot product", Ogita, Rump & Oishi 2005, Sum2):
//!
//! ```text
//!   |value − Σx| ≤ eps·|Σx| + γ(n)²·Σ|x|,   eps = 2^-53, γ(n) = n·eps / (1 − n·eps), n ≤ 4096 + blocks
//! ```
//!
//! The first term is the final rounding: when there is no heavy cancellation (`Σ|x|` within ~2^50 of
//! `|Σx|`) the result is the correctly rounded sum except in the rare case of a near-tie, and data whose
//! partial sums are all exact (integer-valued floats, most decimals with few digits at this scale) gives
//! exactly the correctly rounded sum. NumPy's pairwise summation guarantees only `O(eps·log n)·Σ|x|`.
//! The default (exact) describe adds an [`ExactSum`](super::exact_sum::ExactSum) instead; this compensated
//! sum alone is what `--compensated` asks for.

use serde::{Deserialize, Serialize};

/// A running sum with its compensation term.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CompensatedSum {
    sum: f64,
    comp: f64,
}

impl CompensatedSum {
    /// The running sum and its compensation term, for the raw state codec (`groups/raw.rs`).
    pub(crate) fn parts(self) -> (f64, f64) {
        (self.sum, self.comp)
    }

    pub(crate) fn from_parts(sum: f64, comp: f64) -> CompensatedSum {
        CompensatedSum { sum, comp }
    }

    /// Neumaier's step: the rounding error of `sum + x` is recovered exactly (TwoSum with a branch).
    #[inline]
    pub fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.comp += (self.sum - t) + x;
        } else {
            self.comp += (x - t) + self.sum;
        }
        self.sum = t;
    }

    /// [`add`](Self::add) without its branch (Knuth's TwoSum, six operations): the same exact rounding
    /// error, so the same bits for finite sums, but no misprediction when the magnitudes of the running
    /// sum and the values cross unpredictably (a group's first values). The group-by accumulators use it.
    #[inline]
    pub fn add_branch_free(&mut self, x: f64) {
        let t = self.sum + x;
        let xv = t - self.sum;
        self.comp += (self.sum - (t - xv)) + (x - xv);
        self.sum = t;
    }

    /// Adds the product `a·b` almost exactly: its rounded value and its rounding error (Dekker's
    /// TwoProduct without FMA, so the bits do not depend on the CPU).
    pub fn add_product(&mut self, a: f64, b: f64) {
        let (p, e) = two_product(a, b);
        self.add(p);
        if e.is_finite() {
            self.add(e);
        }
    }

    /// Adds an unevaluated pair `hi + lo` (a block's compensated sum).
    #[inline]
    pub fn add_pair(&mut self, hi: f64, lo: f64) {
        self.add(hi);
        self.comp += lo;
    }

    /// `(sum + comp) / n` from the unevaluated pair: the quotient of the rounded value, corrected by the
    /// exact remainder (Dekker's division step), so the mean is as good as the pair and not rounded twice.
    pub fn mean(&self, n: u64) -> f64 {
        let nf = n as f64;
        let q = self.sum / nf;
        if self.comp == 0.0 || !q.is_finite() {
            return q;
        }
        let (p, e) = two_product(q, nf);
        if !e.is_finite() {
            // Beyond ~1e300 the split overflows: the correction is far below the last bit anyway.
            return q + self.comp / nf;
        }
        // sum − p is exact (Sterbenz: p is within a few ulps of sum).
        q + (((self.sum - p) - e) + self.comp) / nf
    }

    pub fn merge(&mut self, other: &CompensatedSum) {
        self.add(other.sum);
        self.comp += other.comp;
    }

    /// The compensated total; an overflowed running sum stays infinite.
    pub fn value(&self) -> f64 {
        if self.sum.is_finite() { self.sum + self.comp } else { self.sum }
    }
}

/// Veltkamp's split: `a == hi + lo` with both halves holding at most 26 significant bits.
#[inline]
fn split(a: f64) -> (f64, f64) {
    let t = 134_217_729.0 * a; // 2^27 + 1
    let hi = t - (t - a);
    (hi, a - hi)
}

/// Dekker (1971): `a·b == p + e` exactly, barring overflow and underflow.
#[inline]
pub fn two_product(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    let ((ah, al), (bh, bl)) = (split(a), split(b));
    let e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
    (p, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both steps recover the exact rounding error, so they agree bit for bit on finite sums: values of
    /// mixed signs over 600 binary orders, with exact cancellations.
    #[test]
    fn the_branch_free_step_equals_neumaiers() {
        let mut next = crate::stats::test_rng(7);
        for _ in 0..200 {
            let (mut a, mut b) = (CompensatedSum::default(), CompensatedSum::default());
            for _ in 0..500 {
                let r = next();
                let x = f64::from_bits((r >> 12) | (((r % 600) + 723) << 52)) * if r & 1 == 0 { 1.0 } else { -1.0 };
                for x in [x, -x * f64::from(u8::from(r.is_multiple_of(3)))] {
                    a.add(x);
                    b.add_branch_free(x);
                }
                assert_eq!((a.sum.to_bits(), a.comp.to_bits()), (b.sum.to_bits(), b.comp.to_bits()));
            }
        }
    }

    #[test]
    fn two_product_is_exact() {
        // (2^27 + 1)^2 = 2^54 + 2^28 + 1 needs 55 bits: the 1 is the rounding error.
        let a = 134_217_729.0;
        let (p, e) = two_product(a, a);
        assert_eq!((p, e), (18_014_398_777_917_440.0, 1.0));
        let mut s = CompensatedSum::default();
        s.add_product(a, a);
        s.add(-18_014_398_777_917_440.0);
        assert_eq!(s.value(), 1.0);
    }

    #[test]
    fn recovers_what_plain_summation_loses() {
        let mut s = CompensatedSum::default();
        for x in [1e16, 1.0, -1e16, 1.0] {
            s.add(x);
        }
        assert_eq!(s.value(), 2.0);
    }

    #[test]
    fn merge_keeps_both_compensations() {
        let (mut a, mut b) = (CompensatedSum::default(), CompensatedSum::default());
        a.add(1e16);
        a.add(1.0);
        b.add(-1e16);
        b.add(1.0);
        a.merge(&b);
        assert_eq!(a.value(), 2.0);
    }

    #[test]
    fn overflow_is_infinite_not_nan() {
        let mut s = CompensatedSum::default();
        s.add(f64::MAX);
        s.add(f64::MAX);
        assert_eq!(s.value(), f64::INFINITY);
    }
}
