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
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            return self.fold(
                xs,
                chunk.validity,
                |x| x,
                |acc, block| {
                    // SAFETY: the CPU supports AVX2 (checked just above), the only requirement of `avx2::dense`.
                    unsafe { avx2::dense(acc, block) }
                },
            );
        }
        self.fold(xs, chunk.validity, |x| x, |acc, block| acc.dense(block, |x| x));
    }

    pub fn update_int<T: IntElem + AsF64>(&mut self, chunk: ColumnChunk<'_, T>) {
        self.fold(chunk.values, chunk.validity, AsF64::as_f64, |acc, block| acc.dense(block, AsF64::as_f64));
    }

    /// Runs of 64 valid rows (a validity word of all ones, or no validity) take the branch-free lane loop
    /// (`dense`: for float64 on AVX2, `avx2::dense`); other words visit their set bits. Min and max do not
    /// depend on the order values are seen, so the result equals a plain loop's (the sign of a zero extreme
    /// aside, which comparisons cannot see).
    #[inline(always)]
    fn fold<T: Copy>(
        &mut self,
        xs: &[T],
        validity: Option<&[u64]>,
        f: impl Fn(T) -> f64 + Copy,
        dense: impl Fn(&mut Lanes, &[T]),
    ) {
        let mut acc = Lanes::new(self);
        match validity {
            None => dense(&mut acc, xs),
            Some(words) => {
                for (w, block) in words.iter().zip(xs.chunks(64)) {
                    if *w == u64::MAX && block.len() == 64 {
                        dense(&mut acc, block);
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

    #[inline(always)]
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

    #[inline(always)]
    fn one(&mut self, x: f64) {
        self.lane(0, x);
    }

    fn store(self, r: &mut Range) {
        r.min = self.lo.iter().copied().fold(f64::INFINITY, f64::min);
        r.max = self.hi.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        r.finite += self.n.iter().sum::<u64>();
    }
}

/// The dense lane loop over float64 with AVX2 intrinsics (LLVM kept the portable loop scalar, or, written
/// with selects, packed its masks through the stack at half the speed). Lanes 0..4 and 4..8 are two
/// registers fed the values the portable loop feeds them, `min_pd(v, lo)` is exactly `if v < lo { v } else
/// { lo }` and `max_pd` likewise, so the result is the portable loop's, bit for bit.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::{
        __m256d, __m256i, _CMP_LT_OQ, _mm256_and_pd, _mm256_blendv_pd, _mm256_castpd_si256, _mm256_castsi256_pd,
        _mm256_cmp_pd, _mm256_loadu_pd, _mm256_loadu_si256, _mm256_max_pd, _mm256_min_pd, _mm256_set1_epi64x,
        _mm256_set1_pd, _mm256_storeu_pd, _mm256_storeu_si256, _mm256_sub_epi64,
    };

    use super::{LANES, Lanes};

    const _: () = assert!(LANES == 8, "two __m256d hold the eight lanes");

    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn dense(acc: &mut Lanes, xs: &[f64]) {
        let abs = _mm256_castsi256_pd(_mm256_set1_epi64x(i64::MAX));
        let (inf, neg_inf) = (_mm256_set1_pd(f64::INFINITY), _mm256_set1_pd(f64::NEG_INFINITY));
        // SAFETY: `h` is 0 or 1, so `v[4 * h..]` holds at least four 8-byte lanes; loadu needs no alignment.
        let load = |v: &[f64; LANES], h: usize| unsafe { _mm256_loadu_pd(v[4 * h..].as_ptr()) };
        // SAFETY: as for `load`.
        let load_n = |v: &[u64; LANES], h: usize| unsafe { _mm256_loadu_si256(v[4 * h..].as_ptr().cast()) };
        let mut lo: [__m256d; 2] = [load(&acc.lo, 0), load(&acc.lo, 1)];
        let mut hi: [__m256d; 2] = [load(&acc.hi, 0), load(&acc.hi, 1)];
        let mut n: [__m256i; 2] = [load_n(&acc.n, 0), load_n(&acc.n, 1)];
        let mut groups = xs.chunks_exact(LANES);
        for g in &mut groups {
            for h in 0..2 {
                // SAFETY: a group holds eight f64, so `g[4 * h..]` holds at least four.
                let x = unsafe { _mm256_loadu_pd(g[4 * h..].as_ptr()) };
                let finite = _mm256_cmp_pd::<_CMP_LT_OQ>(_mm256_and_pd(x, abs), inf);
                lo[h] = _mm256_min_pd(_mm256_blendv_pd(inf, x, finite), lo[h]);
                hi[h] = _mm256_max_pd(_mm256_blendv_pd(neg_inf, x, finite), hi[h]);
                // A true comparison is all ones, −1 as an integer: subtracting it counts the value.
                n[h] = _mm256_sub_epi64(n[h], _mm256_castpd_si256(finite));
            }
        }
        for h in 0..2 {
            // SAFETY: `acc.lo`, `acc.hi` and `acc.n` hold eight lanes, so each slice from 4·h holds four.
            unsafe {
                _mm256_storeu_pd(acc.lo[4 * h..].as_mut_ptr(), lo[h]);
                _mm256_storeu_pd(acc.hi[4 * h..].as_mut_ptr(), hi[h]);
                _mm256_storeu_si256(acc.n[4 * h..].as_mut_ptr().cast(), n[h]);
            }
        }
        for &x in groups.remainder() {
            acc.one(x);
        }
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
