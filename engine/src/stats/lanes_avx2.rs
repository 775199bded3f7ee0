//! AVX2 builds of the two block loops of [`lanes`](super::lanes), written with intrinsics: one 256-bit
//! register holds the [`LANES`] accumulators of one statistic, lane `j` of the register being lane `j` of
//! the portable loop. Every intrinsic is the IEEE operation the portable code performs per lane (add,
//! sub, mul; `min_pd(x, lo)` is exactly `if x < lo { x } else { lo }`, NaN and signed zeros included, and
//! `max_pd` likewise), no FMA, and the tail and the lane combination are the portable code's own, so the
//! bits are the portable build's. Why intrinsics: LLVM's SLP vectoriser turned the portable loop with its
//! TwoSum into scalar code with spills when compiled for AVX2 (perf annotate, benches/README.md).

use std::arch::x86_64::{
    __m256d, _mm256_add_pd, _mm256_loadu_pd, _mm256_max_pd, _mm256_min_pd, _mm256_mul_pd, _mm256_set1_pd,
    _mm256_setzero_pd, _mm256_storeu_pd, _mm256_sub_pd,
};

use super::lanes::{Fused, FusedLanes, LANES, power_sums_finish};

const _: () = assert!(LANES == 4, "one __m256d holds four f64 lanes");

/// The four lanes of `v` (shared with the other AVX2 modules of `stats`).
#[inline(always)]
pub(crate) fn lanes(v: __m256d) -> [f64; LANES] {
    let mut out = [0.0; LANES];
    // SAFETY: `out` holds exactly four f64; storeu has no alignment requirement. (AVX is enabled in every
    // caller, which are `#[target_feature(enable = "avx2")]` functions.)
    unsafe { _mm256_storeu_pd(out.as_mut_ptr(), v) };
    out
}

/// [`lanes::fused`](super::lanes::fused) with AVX2.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn fused(xs: &[f64], shift: f64, center: f64) -> Fused {
    let groups = xs.chunks_exact(LANES);
    let tail = groups.remainder();
    let (vs, vc, zero) = (_mm256_set1_pd(shift), _mm256_set1_pd(center), _mm256_setzero_pd());
    let (mut s1, mut s2, mut s3, mut s4, mut raw, mut comp) = (zero, zero, zero, zero, zero, zero);
    let (mut lo, mut hi) = (_mm256_set1_pd(f64::INFINITY), _mm256_set1_pd(f64::NEG_INFINITY));
    for g in groups {
        // SAFETY: `g` holds exactly LANES = 4 f64; loadu has no alignment requirement.
        let x = unsafe { _mm256_loadu_pd(g.as_ptr()) };
        lo = _mm256_min_pd(x, lo);
        hi = _mm256_max_pd(x, hi);
        // Knuth's TwoSum, as `lanes::two_sum`.
        let t = _mm256_add_pd(raw, x);
        let z = _mm256_sub_pd(t, raw);
        let e = _mm256_add_pd(_mm256_sub_pd(raw, _mm256_sub_pd(t, z)), _mm256_sub_pd(x, z));
        raw = t;
        comp = _mm256_add_pd(comp, e);
        let d = _mm256_sub_pd(_mm256_sub_pd(x, vs), vc);
        let d2 = _mm256_mul_pd(d, d);
        s1 = _mm256_add_pd(s1, d);
        s2 = _mm256_add_pd(s2, d2);
        s3 = _mm256_add_pd(s3, _mm256_mul_pd(d2, d));
        s4 = _mm256_add_pd(s4, _mm256_mul_pd(d2, d2));
    }
    let acc = FusedLanes {
        s: [lanes(s1), lanes(s2), lanes(s3), lanes(s4)],
        raw: lanes(raw),
        comp: lanes(comp),
        lo: lanes(lo),
        hi: lanes(hi),
    };
    acc.finish(tail, shift, center)
}

/// [`lanes::power_sums`](super::lanes::power_sums) with AVX2.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn power_sums(xs: &[f64], shift: f64, center: f64) -> [f64; 4] {
    let groups = xs.chunks_exact(LANES);
    let tail = groups.remainder();
    let (vs, vc, zero) = (_mm256_set1_pd(shift), _mm256_set1_pd(center), _mm256_setzero_pd());
    let (mut s1, mut s2, mut s3, mut s4) = (zero, zero, zero, zero);
    for g in groups {
        // SAFETY: `g` holds exactly LANES = 4 f64; loadu has no alignment requirement.
        let x = unsafe { _mm256_loadu_pd(g.as_ptr()) };
        let d = _mm256_sub_pd(_mm256_sub_pd(x, vs), vc);
        let d2 = _mm256_mul_pd(d, d);
        s1 = _mm256_add_pd(s1, d);
        s2 = _mm256_add_pd(s2, d2);
        s3 = _mm256_add_pd(s3, _mm256_mul_pd(d2, d));
        s4 = _mm256_add_pd(s4, _mm256_mul_pd(d2, d2));
    }
    power_sums_finish([lanes(s1), lanes(s2), lanes(s3), lanes(s4)], tail, shift, center)
}
