//! The AVX2 build of [`Uniform::slot`](super::histogram_edges::Uniform) over a block of f64 values,
//! written with intrinsics: LLVM kept the portable loop scalar (the two edge loads per value are a gather
//! it would not emit), and that loop was most of a histogram pass.
//!
//! Every step is the portable one, lane by lane: `(x − lo)·scale` (no FMA), `max_pd(est, −½)` is exactly
//! `if est > −½ { est } else { −½ }` (NaN included: the second operand is returned), `min_pd(est, bins)`
//! exactly `if est < bins { est } else { bins }`, the same magic-number rounding in integer lanes, and the
//! two ordered comparisons against the gathered edges. So the slots are the portable code's, which the
//! tests check value by value on edges, their neighbours, ±0, ±inf and NaN.

use std::arch::x86_64::{
    _CMP_GE_OQ, _CMP_LT_OQ, _CMP_UNORD_Q, _mm256_add_epi64, _mm256_add_pd, _mm256_blendv_pd, _mm256_castpd_si256,
    _mm256_castsi256_pd, _mm256_cmp_pd, _mm256_i64gather_pd, _mm256_loadu_pd, _mm256_max_pd, _mm256_min_pd,
    _mm256_mul_pd, _mm256_set1_epi64x, _mm256_set1_pd, _mm256_storeu_si256, _mm256_sub_epi64, _mm256_sub_pd,
};

use super::histogram_edges::{MAGIC, Uniform};

/// `out[i] = u.slot(xs[i])` for every `i`; `out` is at least as long as `xs`.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn fill_slots(u: &Uniform, xs: &[f64], out: &mut [usize]) {
    assert!(out.len() >= xs.len());
    // Every slot estimate below lies in [0, bins + 1]; `ext` has bins + 3 entries, so both gathers
    // (entries s and s + 1) stay inside it. Checked once here rather than trusted.
    assert!(u.ext.len() as f64 >= u.bins + 3.0);
    let (lo, scale, bins) = (_mm256_set1_pd(u.lo), _mm256_set1_pd(u.scale), _mm256_set1_pd(u.bins));
    let (neg_half, half) = (_mm256_set1_pd(-0.5), _mm256_set1_pd(0.5));
    let magic = _mm256_set1_pd(MAGIC);
    let magic_bits = _mm256_set1_epi64x(MAGIC.to_bits() as i64);
    let one = _mm256_set1_epi64x(1);
    let nan_slot = _mm256_castsi256_pd(_mm256_set1_epi64x(u.nan as i64));
    let mut blocks = xs.chunks_exact(4);
    let mut outs = out.chunks_exact_mut(4);
    for (x4, o4) in (&mut blocks).zip(&mut outs) {
        // SAFETY: `x4` holds four f64 (loadu has no alignment requirement).
        let x = unsafe { _mm256_loadu_pd(x4.as_ptr()) };
        let est = _mm256_min_pd(_mm256_max_pd(_mm256_mul_pd(_mm256_sub_pd(x, lo), scale), neg_half), bins);
        let r = _mm256_sub_epi64(_mm256_castpd_si256(_mm256_add_pd(_mm256_sub_pd(est, half), magic)), magic_bits);
        let s = _mm256_add_epi64(r, one);
        // SAFETY: every lane of `s` is in [0, bins + 1] (est is clamped to [−½, bins] above), and `ext`
        // has at least bins + 3 entries (asserted above): both gathers read inside `ext`.
        let (at, above) = unsafe {
            (_mm256_i64gather_pd::<8>(u.ext.as_ptr(), s), _mm256_i64gather_pd::<8>(u.ext.as_ptr().add(1), s))
        };
        // A true comparison is all ones (−1 as an integer): adding it steps down, subtracting it steps up.
        let below = _mm256_castpd_si256(_mm256_cmp_pd::<_CMP_LT_OQ>(x, at));
        let beyond = _mm256_castpd_si256(_mm256_cmp_pd::<_CMP_GE_OQ>(x, above));
        let s = _mm256_sub_epi64(_mm256_add_epi64(s, below), beyond);
        let s = _mm256_blendv_pd(_mm256_castsi256_pd(s), nan_slot, _mm256_cmp_pd::<_CMP_UNORD_Q>(x, x));
        // SAFETY: `o4` holds four usize (64-bit on x86_64); storeu has no alignment requirement.
        unsafe { _mm256_storeu_si256(o4.as_mut_ptr().cast(), _mm256_castpd_si256(s)) };
    }
    for (o, &x) in outs.into_remainder().iter_mut().zip(blocks.remainder()) {
        *o = u.slot(x);
    }
}
