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

    pub fn merge(&mut self, other: &CompensatedSum) {
        self.add(other.sum);
        self.comp += other.comp;
    }

    /// The compensated total; an overflowed running sum stays infinite.
    pub fn value(&self) -> f64 {
        if self.sum.is_finite() { self.sum + self.comp } else { self.sum }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
