//! The finite range (min and max) of a numeric column: the first pass of a histogram without `--range`.
//!
//! Values are compared as f64, as NumPy does when it derives histogram edges from `a.min()`/`a.max()`
//! (integers are converted to float64 there too). Nulls, NaN and ±inf are not part of the range (NumPy
//! refuses a non-finite autodetected range; tally counts ±inf as under/overflow instead).

use serde::{Deserialize, Serialize};

use super::numeric::AsF64;
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

/// Lanes of the min/max loop: independent accumulators the compiler keeps in vector registers.
const LANES: usize = 8;

impl Range {
    pub fn update_float<T: FloatElem>(&mut self, chunk: ColumnChunk<'_, T>) {
        let mut scratch = Vec::new();
        let xs = T::widen(chunk.values, &mut scratch);
        self.fold(xs, chunk.validity, |x| x);
    }

    pub fn update_int<T: IntElem + AsF64>(&mut self, chunk: ColumnChunk<'_, T>) {
        self.fold(chunk.values, chunk.validity, AsF64::as_f64);
    }

    /// Runs of 64 valid rows (a validity word of all ones, or no validity) take the branch-free lane loop;
    /// other words visit their set bits. Min and max do not depend on the order values are seen, so the
    /// result equals a plain loop's (the sign of a zero extreme aside, which comparisons cannot see).
    fn fold<T: Copy>(&mut self, xs: &[T], validity: Option<&[u64]>, f: impl Fn(T) -> f64 + Copy) {
        let mut acc = Lanes::new(self);
        match validity {
            None => acc.dense(xs, f),
            Some(words) => {
                for (w, block) in words.iter().zip(xs.chunks(64)) {
                    if *w == u64::MAX && block.len() == 64 {
                        acc.dense(block, f);
                    } else {
                        let mut bits = *w;
                        while bits != 0 {
                            let i = bits.trailing_zeros() as usize;
                            if let Some(&x) = block.get(i) {
                                acc.one(f(x));
                            }
                            bits &= bits - 1;
                        }
                    }
                }
            }
        }
        acc.store(self);
    }

    /// `(min, max)` when there was at least one finite value.
    pub fn bounds(&self) -> Option<(f64, f64)> {
        (self.finite > 0).then_some((self.min, self.max))
    }
}

/// Per-lane minima, maxima and finite counts.
struct Lanes {
    lo: [f64; LANES],
    hi: [f64; LANES],
    n: [u64; LANES],
}

impl Lanes {
    fn new(r: &Range) -> Self {
        let mut lanes = Lanes { lo: [f64::INFINITY; LANES], hi: [f64::NEG_INFINITY; LANES], n: [0; LANES] };
        (lanes.lo[0], lanes.hi[0]) = (r.min, r.max);
        lanes
    }

    #[inline(always)]
    fn lane(&mut self, l: usize, x: f64) {
        let finite = x.is_finite();
        self.lo[l] = if finite && x < self.lo[l] { x } else { self.lo[l] };
        self.hi[l] = if finite && x > self.hi[l] { x } else { self.hi[l] };
        self.n[l] += u64::from(finite);
    }

    fn dense<T: Copy>(&mut self, xs: &[T], f: impl Fn(T) -> f64) {
        let mut groups = xs.chunks_exact(LANES);
        for g in &mut groups {
            for (l, &x) in g.iter().enumerate() {
                self.lane(l, f(x));
            }
        }
        for &x in groups.remainder() {
            self.lane(0, f(x));
        }
    }

    fn one(&mut self, x: f64) {
        self.lane(0, x);
    }

    fn store(self, r: &mut Range) {
        r.min = self.lo.iter().copied().fold(f64::INFINITY, f64::min);
        r.max = self.hi.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        r.finite += self.n.iter().sum::<u64>();
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
    fn lanes_and_bit_walks_equal_a_plain_loop() {
        let mut next = crate::stats::test_rng(0x853C_49E6_748F_EA9Bu64);
        for len in [0usize, 1, 7, 63, 64, 65, 200, 1000] {
            let xs: Vec<f64> = (0..len)
                .map(|_| match next() % 20 {
                    0 => f64::NAN,
                    1 => f64::INFINITY,
                    2 => f64::NEG_INFINITY,
                    r => (r as f64 - 10.0) * (next() % 1000) as f64,
                })
                .collect();
            let mut words: Vec<u64> =
                (0..len.div_ceil(64)).map(|i| if i % 2 == 0 { u64::MAX } else { next() }).collect();
            if len % 64 != 0 {
                *words.last_mut().unwrap() &= (1u64 << (len % 64)) - 1;
            }
            for validity in [None, Some(words.as_slice())] {
                let mut r = Range::default();
                r.update_float(ColumnChunk::new(&xs, validity));
                let kept: Vec<f64> = (0..len)
                    .filter(|&i| validity.is_none_or(|w| (w[i / 64] >> (i % 64)) & 1 == 1))
                    .map(|i| xs[i])
                    .filter(|x| x.is_finite())
                    .collect();
                let want = (!kept.is_empty()).then(|| {
                    (
                        kept.iter().copied().fold(f64::INFINITY, f64::min),
                        kept.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    )
                });
                assert_eq!(
                    (r.finite, r.bounds()),
                    (kept.len() as u64, want),
                    "len {len}, masked {}",
                    validity.is_some()
                );
            }
        }
    }

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
