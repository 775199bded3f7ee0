//! The finite range (min and max) of a numeric column: the first pass of a histogram without `--range`.
//!
//! Values are compared as f64, as NumPy does when it derives histogram edges from `a.min()`/`a.max()`
//! (integers are converted to float64 there too). Nulls, NaN and ±inf are not part of the range (NumPy
//! refuses a non-finite autodetected range; tally counts ±inf as under/overflow instead).

use serde::{Deserialize, Serialize};

use super::{FinishOptions, Partial, Summary};
use crate::store::{ColumnChunk, FloatElem, IntElem};

/// Finite min and max, and how many finite values they cover.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Range {
    pub finite: u64,
    pub min: f64,
    pub max: f64,
}

impl Default for Range {
    fn default() -> Self {
        Range { finite: 0, min: f64::INFINITY, max: f64::NEG_INFINITY }
    }
}

impl Range {
    pub fn update_float<T: FloatElem>(&mut self, chunk: ColumnChunk<'_, T>) {
        let mut scratch = Vec::new();
        let xs = T::widen(chunk.values, &mut scratch);
        self.fold(xs.iter().copied(), chunk.validity);
    }

    pub fn update_int<T: IntElem>(&mut self, chunk: ColumnChunk<'_, T>) {
        self.fold(chunk.values.iter().map(|&x| x.to_i128() as f64), chunk.validity);
    }

    fn fold(&mut self, xs: impl Iterator<Item = f64>, validity: Option<&[u64]>) {
        let (mut lo, mut hi, mut n) = (self.min, self.max, 0u64);
        for (i, x) in xs.enumerate() {
            let valid = validity.is_none_or(|w| (w[i / 64] >> (i % 64)) & 1 == 1);
            if valid && x.is_finite() {
                lo = lo.min(x);
                hi = hi.max(x);
                n += 1;
            }
        }
        (self.min, self.max, self.finite) = (lo, hi, self.finite + n);
    }

    /// `(min, max)` when there was at least one finite value.
    pub fn bounds(&self) -> Option<(f64, f64)> {
        (self.finite > 0).then_some((self.min, self.max))
    }
}

impl Partial for Range {
    fn merge(&mut self, other: &Self) {
        self.finite += other.finite;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    fn finish(&self, _: &FinishOptions) -> Summary {
        Summary::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_nulls_nan_and_infinities() {
        let xs = [3.0, f64::NAN, -1.0, f64::INFINITY, 7.5, f64::NEG_INFINITY, -9.0];
        let validity = [0b011_1111u64]; // the last value (-9) is null
        let mut r = Range::default();
        r.update_float(ColumnChunk::new(&xs, Some(&validity)));
        assert_eq!((r.finite, r.bounds()), (3, Some((-1.0, 7.5))));
        let mut ints = Range::default();
        ints.update_int(ColumnChunk::new(&[5i64, -2, 9], None));
        r.merge(&ints);
        assert_eq!((r.finite, r.bounds()), (6, Some((-2.0, 9.0))));
        assert_eq!(Range::default().bounds(), None);
    }
}
