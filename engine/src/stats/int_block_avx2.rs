//! One read of an int64 or int32 block for `describe`, with AVX2: min, max, Σd and Σd² of the deviations
//! `d = x − shift` in integers, each `d` written out as an f64, and the power sums of those f64 deltas around
//! a guessed center (`lanes::power_sums_as::<false>` with shift 0, the same operations lane for lane, so the same bits),
//! which spare the moment pass whenever the guess proves close to the block's mean. It computes
//! exactly what `IntDescribe`'s portable path (`extrema` and `narrow_deltas` in the `Tiny` tier) computes,
//! in one pass instead of two scalar ones: integer sums are exact in any order, and every delta is an exact
//! f64, so nothing here depends on lanes or build (tested against the portable path in `describe_int.rs`).
//!
//! The results are only valid for blocks whose deviations stay below 2^25 in magnitude (Σd² of a block then
//! fits u64 and `_mm256_mul_epi32` squares the low 32 bits exactly); the caller checks that spread from the
//! returned extrema and otherwise takes the portable path, which handles every spread.
//!
//! Masked-out slots (nulls) are read as `shift`: a value the state already holds, so it cannot move its min
//! or max, and its deviation is 0 for the sums and the deltas, as the portable path leaves them.

use std::arch::x86_64::{
    __m256i, _mm_loadu_si128, _mm256_add_epi64, _mm256_blendv_epi8, _mm256_castsi256_pd, _mm256_cmpgt_epi64,
    _mm256_cvtepi32_epi64, _mm256_loadu_si256, _mm256_mul_epi32, _mm256_set1_epi64x, _mm256_set1_pd,
    _mm256_setzero_si256, _mm256_storeu_pd, _mm256_storeu_si256, _mm256_sub_epi64, _mm256_sub_pd,
};

use super::describe_int::TinyBlock;
use super::lanes::{LANES, power_sums_finish};
use super::lanes_avx2::{Powers, SELECT, power_step, prefetch_ahead};

/// `1.5 · 2^52`: adding an integer `|d| < 2^51` to its bits gives the double `1.5 · 2^52 + d` exactly,
/// and subtracting it again leaves `d` as an f64 (AVX2 has no int64 → f64 conversion).
const MAGIC_BITS: i64 = 0x4338_0000_0000_0000;
const MAGIC: f64 = 6_755_399_441_055_744.0;

struct Acc {
    lo: __m256i,
    hi: __m256i,
    sum: __m256i,
    sq: __m256i,
    shift: __m256i,
    /// Power sums of the f64 deltas around `center`, as `lanes_avx2::power_sums::<false>` takes them (shift 0).
    p: Powers,
    center: f64,
}

impl Acc {
    #[target_feature(enable = "avx2,fma")]
    fn new(shift: i64, center: f64) -> Self {
        let vshift = _mm256_set1_epi64x(shift);
        let zero = _mm256_setzero_si256();
        Acc { lo: vshift, hi: vshift, sum: zero, sq: zero, shift: vshift, p: Powers::new(), center }
    }

    /// Four values (sign-extended to i64) of group `g`; writes their deltas to `out`.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn step(&mut self, x: __m256i, mask: Option<&[u64]>, g: usize, out: &mut [f64]) {
        let x = match mask {
            Some(m) => {
                let nibble = (m[g / 16] >> (4 * (g % 16))) & 0xF;
                // SAFETY: a SELECT row holds four u64; loadu has no alignment requirement.
                let keep = unsafe { _mm256_loadu_si256(SELECT[nibble as usize].as_ptr().cast()) };
                _mm256_blendv_epi8(self.shift, x, keep)
            }
            None => x,
        };
        self.lo = _mm256_blendv_epi8(self.lo, x, _mm256_cmpgt_epi64(self.lo, x));
        self.hi = _mm256_blendv_epi8(self.hi, x, _mm256_cmpgt_epi64(x, self.hi));
        let d = _mm256_sub_epi64(x, self.shift);
        self.sum = _mm256_add_epi64(self.sum, d);
        self.sq = _mm256_add_epi64(self.sq, _mm256_mul_epi32(d, d));
        let f = _mm256_sub_pd(
            _mm256_castsi256_pd(_mm256_add_epi64(d, _mm256_set1_epi64x(MAGIC_BITS))),
            _mm256_set1_pd(MAGIC),
        );
        // SAFETY: `out` holds exactly LANES = 4 f64; storeu has no alignment requirement.
        unsafe { _mm256_storeu_pd(out.as_mut_ptr(), f) };
        // `lanes_avx2::power_sums` of the delta with shift 0 (`f − 0` is `f` exactly, so it is left out).
        power_step(&mut self.p.s, _mm256_sub_pd(f, _mm256_set1_pd(self.center)));
    }

    /// Combines the lanes and adds the tail `(start.., values)` one by one.
    #[target_feature(enable = "avx2,fma")]
    fn finish(
        self,
        tail_start: usize,
        tail: impl Iterator<Item = (usize, i64)>,
        mask: Option<&[u64]>,
        shift: i64,
        deltas: &mut [f64],
    ) -> TinyBlock {
        let words = |v: __m256i| {
            let mut w = [0i64; LANES];
            // SAFETY: `w` holds exactly four i64; storeu has no alignment requirement.
            unsafe { _mm256_storeu_si256(w.as_mut_ptr().cast(), v) };
            w
        };
        let (lo, hi, sum, sq) = (words(self.lo), words(self.hi), words(self.sum), words(self.sq));
        let mut out = TinyBlock {
            lo: lo.into_iter().fold(shift, i64::min),
            hi: hi.into_iter().fold(shift, i64::max),
            sum: sum.into_iter().fold(0, i64::wrapping_add),
            sq: sq.into_iter().fold(0, |a, b| a.wrapping_add(b as u64)),
            sums: [0.0; 4],
            sq_lo: 0.0,
        };
        for (i, x) in tail {
            let x = if mask.is_none_or(|m| (m[i / 64] >> (i % 64)) & 1 == 1) { x } else { shift };
            out.lo = out.lo.min(x);
            out.hi = out.hi.max(x);
            let d = x.wrapping_sub(shift);
            out.sum = out.sum.wrapping_add(d);
            out.sq = out.sq.wrapping_add((d as u64).wrapping_mul(d as u64));
            deltas[i] = d as f64;
        }
        (out.sums, out.sq_lo) = power_sums_finish(self.p.into_lanes(), &deltas[tail_start..], 0.0, self.center);
        out
    }
}

/// The block pass over int64 values.
///
/// # Safety
/// The CPU must support AVX2; `deltas` holds `xs.len()` slots and `mask`, if any, covers `xs.len()` bits.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn tiny_i64(
    xs: &[i64],
    mask: Option<&[u64]>,
    shift: i64,
    center: f64,
    deltas: &mut [f64],
) -> TinyBlock {
    let mut acc = Acc::new(shift, center);
    let groups = xs.chunks_exact(LANES);
    let tail_start = xs.len() - groups.remainder().len();
    for (g, (group, out)) in groups.zip(deltas.chunks_exact_mut(LANES)).enumerate() {
        if g % 2 == 0 {
            prefetch_ahead(group);
        }
        // SAFETY: `group` holds exactly four i64; loadu has no alignment requirement.
        acc.step(unsafe { _mm256_loadu_si256(group.as_ptr().cast()) }, mask, g, out);
    }
    acc.finish(tail_start, xs[tail_start..].iter().enumerate().map(|(k, &x)| (tail_start + k, x)), mask, shift, deltas)
}

/// The block pass over int32 values (sign-extended to i64 four at a time).
///
/// # Safety
/// As [`tiny_i64`].
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn tiny_i32(
    xs: &[i32],
    mask: Option<&[u64]>,
    shift: i64,
    center: f64,
    deltas: &mut [f64],
) -> TinyBlock {
    let mut acc = Acc::new(shift, center);
    let groups = xs.chunks_exact(LANES);
    let tail_start = xs.len() - groups.remainder().len();
    for (g, (group, out)) in groups.zip(deltas.chunks_exact_mut(LANES)).enumerate() {
        if g % 4 == 0 {
            prefetch_ahead(group);
        }
        // SAFETY: `group` holds exactly four i32 (16 bytes); loadu has no alignment requirement.
        let x = _mm256_cvtepi32_epi64(unsafe { _mm_loadu_si128(group.as_ptr().cast()) });
        acc.step(x, mask, g, out);
    }
    acc.finish(
        tail_start,
        xs[tail_start..].iter().enumerate().map(|(k, &x)| (tail_start + k, i64::from(x))),
        mask,
        shift,
        deltas,
    )
}
