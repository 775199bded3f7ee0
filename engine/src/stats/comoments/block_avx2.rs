//! The AVX2 builds of the co-moments' block loops (`block.rs`: the centering pass `fused_portable`, the
//! conversion of `super::load` fused into it, and the pair loops `restricted_groups_portable` and
//! `dot_groups_portable`), written with intrinsics: one 256-bit register holds the [`LANES`] accumulators of one statistic, lane `j` of
//! the register being lane `j` of the portable loop, and every intrinsic is the IEEE operation the
//! portable code does per lane (`min_pd(x, lo)` is exactly `if x < lo { x } else { lo }`; the NaN test
//! is an ordered compare; no FMA). The tail and the lane combination are the portable code's own, so the
//! bits are the portable build's (tested in `block.rs`). Why intrinsics: LLVM's SLP vectoriser left the
//! centering loop scalar with spills even when compiled for AVX2 (`perf annotate`, benches/README.md), and
//! it was 44% of a serial `corr`.

use std::arch::x86_64::{
    __m256d, _CMP_LT_OQ, _CMP_ORD_Q, _mm256_add_pd, _mm256_and_pd, _mm256_and_si256, _mm256_blendv_pd,
    _mm256_castsi256_pd, _mm256_cmp_pd, _mm256_cmpeq_epi64, _mm256_loadu_pd, _mm256_max_pd, _mm256_min_pd,
    _mm256_mul_pd, _mm256_set_epi64x, _mm256_set1_epi64x, _mm256_set1_pd, _mm256_setzero_pd, _mm256_storeu_pd,
    _mm256_sub_pd,
};

use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};

use super::block::FusedLanes;
use crate::stats::lanes::LANES;
use crate::stats::lanes_avx2::lanes;

const _: () = assert!(LANES == 4, "one __m256d holds four f64 lanes");

/// The lane accumulators of the centering loop in registers, and its per-group step: the register form of
/// `block::FusedLanes`, shared by [`fused`] and [`fused_from`].
struct Centering {
    center: __m256d,
    n: __m256d,
    s1: __m256d,
    s2: __m256d,
    lo: __m256d,
    hi: __m256d,
}

impl Centering {
    #[target_feature(enable = "avx2")]
    fn new(center: f64) -> Self {
        let zero = _mm256_setzero_pd();
        let (lo, hi) = (_mm256_set1_pd(f64::INFINITY), _mm256_set1_pd(f64::NEG_INFINITY));
        Centering { center: _mm256_set1_pd(center), n: zero, s1: zero, s2: zero, lo, hi }
    }

    /// One group: `v` the values relative to the shift (NaN where unusable), `ok` its usable mask; writes
    /// the centered values to `d` and the flags to `w` (LANES each).
    #[target_feature(enable = "avx2")]
    #[inline]
    fn step(&mut self, v: __m256d, ok: __m256d, d: &mut [f64], w: &mut [f64]) {
        self.lo = _mm256_min_pd(v, self.lo);
        self.hi = _mm256_max_pd(v, self.hi);
        let dv = _mm256_and_pd(_mm256_sub_pd(v, self.center), ok);
        let wv = _mm256_and_pd(_mm256_set1_pd(1.0), ok);
        assert!(d.len() >= LANES && w.len() >= LANES);
        // SAFETY: both hold at least LANES = 4 f64 (asserted); storeu has no alignment requirement.
        unsafe {
            _mm256_storeu_pd(d.as_mut_ptr(), dv);
            _mm256_storeu_pd(w.as_mut_ptr(), wv);
        }
        self.n = _mm256_add_pd(self.n, wv);
        self.s1 = _mm256_add_pd(self.s1, dv);
        self.s2 = _mm256_add_pd(self.s2, _mm256_mul_pd(dv, dv));
    }

    /// The portable tail and lane combination (`FusedLanes::finish`) on the register lanes.
    #[target_feature(enable = "avx2")]
    fn finish(self, d: &mut [f64], w: &mut [f64], center: f64) -> (u64, f64, f64, f64, f64) {
        let acc = FusedLanes {
            n: lanes(self.n),
            s1: lanes(self.s1),
            s2: lanes(self.s2),
            lo: lanes(self.lo),
            hi: lanes(self.hi),
        };
        acc.finish(d, w, center)
    }
}

/// `block::fused_portable` with AVX2: `d` centered in place, `w` the usable flags (`w.len() == d.len()`).
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn fused(d: &mut [f64], w: &mut [f64], center: f64) -> (u64, f64, f64, f64, f64) {
    let mut acc = Centering::new(center);
    let mut dg = d.chunks_exact_mut(LANES);
    let mut wg = w.chunks_exact_mut(LANES);
    for (x, w) in (&mut dg).zip(&mut wg) {
        // SAFETY: `x` holds exactly LANES = 4 f64; loadu has no alignment requirement.
        let v = unsafe { _mm256_loadu_pd(x.as_ptr()) };
        acc.step(v, _mm256_cmp_pd::<_CMP_ORD_Q>(v, v), x, w);
    }
    acc.finish(dg.into_remainder(), wg.into_remainder(), center)
}

/// `super::load`'s conversion of float64 values (`x − shift`, non-finite and null to NaN) and [`fused`] in
/// one pass from the column: `d` and `w` (both `xs.len()` long) are written, not read. `validity`, when
/// the column has nulls: the chunk's validity words and the chunk row of `xs[0]` (a multiple of LANES, so
/// a group's four bits sit in one word).
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn fused_from(
    xs: &[f64],
    validity: Option<(&[u64], usize)>,
    shift: f64,
    d: &mut [f64],
    w: &mut [f64],
    center: f64,
) -> (u64, f64, f64, f64, f64) {
    let vs = _mm256_set1_pd(shift);
    let (nan, inf, abs) =
        (_mm256_set1_pd(f64::NAN), _mm256_set1_pd(f64::INFINITY), _mm256_set1_pd(f64::from_bits(!0 >> 1)));
    // Lane j tests bit j of the group's four validity bits.
    let lane_bit = _mm256_set_epi64x(8, 4, 2, 1);
    let valid_bit = |row: usize| {
        validity.is_none_or(|(words, first)| {
            words.get((first + row) / 64).is_some_and(|w| w >> ((first + row) % 64) & 1 == 1)
        })
    };
    let mut acc = Centering::new(center);
    let whole = xs.len() - xs.len() % LANES;
    let (mut dg, mut wg) = (d[..whole].chunks_exact_mut(LANES), w[..whole].chunks_exact_mut(LANES));
    for (g, ((x, d), w)) in xs[..whole].chunks_exact(LANES).zip(&mut dg).zip(&mut wg).enumerate() {
        if g % 2 == 0 {
            // The same row of the column's next block, one cache line per two groups: the caller visits
            // k columns block by block, and the hardware prefetcher restarts at every 4 KiB page of each.
            // A hint that never faults, whatever the address (hence `wrapping_add` past the slice's end).
            _mm_prefetch::<_MM_HINT_T0>(x.as_ptr().wrapping_add(super::BLOCK).cast());
        }
        // SAFETY: `x` holds exactly LANES = 4 f64; loadu has no alignment requirement.
        let v = _mm256_sub_pd(unsafe { _mm256_loadu_pd(x.as_ptr()) }, vs);
        // |v| < inf: false for ±inf and NaN, which become NaN as in the portable conversion.
        let mut ok = _mm256_cmp_pd::<_CMP_LT_OQ>(_mm256_and_pd(v, abs), inf);
        if let Some((words, first)) = validity {
            let row = first + g * LANES;
            let nibble = words.get(row / 64).map_or(0, |w| (w >> (row % 64)) & 0xF) as i64;
            let bits = _mm256_and_si256(_mm256_set1_epi64x(nibble), lane_bit);
            ok = _mm256_and_pd(ok, _mm256_castsi256_pd(_mm256_cmpeq_epi64(bits, lane_bit)));
        }
        acc.step(_mm256_blendv_pd(nan, v, ok), ok, d, w);
    }
    let (dt, wt) = (&mut d[whole..xs.len()], &mut w[whole..xs.len()]);
    for (r, (d, &x)) in dt.iter_mut().zip(&xs[whole..]).enumerate() {
        let v = x - shift;
        *d = if v.is_finite() && valid_bit(whole + r) { v } else { f64::NAN };
    }
    acc.finish(dt, wt, center)
}

/// `block::restricted_groups_portable` with AVX2 (`a`, `b`, `w` of one length, a multiple of LANES).
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn restricted_groups(a: &[f64], b: &[f64], w: &[f64]) -> [[f64; LANES]; 3] {
    let (mut s1, mut s2, mut p) = (_mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd());
    for ((a, b), w) in a.chunks_exact(LANES).zip(b.chunks_exact(LANES)).zip(w.chunks_exact(LANES)) {
        // SAFETY: each slice holds exactly LANES = 4 f64; loadu has no alignment requirement.
        let (a, b, w) =
            unsafe { (_mm256_loadu_pd(a.as_ptr()), _mm256_loadu_pd(b.as_ptr()), _mm256_loadu_pd(w.as_ptr())) };
        let aw = _mm256_mul_pd(a, w);
        s1 = _mm256_add_pd(s1, aw);
        s2 = _mm256_add_pd(s2, _mm256_mul_pd(aw, a));
        p = _mm256_add_pd(p, _mm256_mul_pd(a, b));
    }
    [lanes(s1), lanes(s2), lanes(p)]
}

/// `block::dot_groups_portable` with AVX2 (`a`, `b` of one length, a multiple of LANES).
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn dot_groups(a: &[f64], b: &[f64]) -> [f64; LANES] {
    let mut acc = _mm256_setzero_pd();
    for (a, b) in a.chunks_exact(LANES).zip(b.chunks_exact(LANES)) {
        // SAFETY: each slice holds exactly LANES = 4 f64; loadu has no alignment requirement.
        let (a, b) = unsafe { (_mm256_loadu_pd(a.as_ptr()), _mm256_loadu_pd(b.as_ptr())) };
        acc = _mm256_add_pd(acc, _mm256_mul_pd(a, b));
    }
    lanes(acc)
}
