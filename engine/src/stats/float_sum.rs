//! Compensated (Neumaier) summation of block sums: the default, fast float `sum`.
//!
//! Each block's lane sums are combined in a fixed order, then added here with Neumaier's improvement
//! of Kahan summation (Neumaier 1974), so the error grows with the block length (512 adds per lane),
//! not with the column length. `--exact` adds an [`ExactSum`](super::exact_sum::ExactSum) on top.

use serde::{Deserialize, Serialize};

/// A running sum with its compensation term.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CompensatedSum {
    sum: f64,
    comp: f64,
}

impl CompensatedSum {
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

    /// Adds the product `a·b` almost exactly: its rounded value and its rounding error (Dekker's
    /// TwoProduct without FMA, so the bits do not depend on the CPU).
    pub fn add_product(&mut self, a: f64, b: f64) {
        let (p, e) = two_product(a, b);
        self.add(p);
        if e.is_finite() {
            self.add(e);
        }
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
