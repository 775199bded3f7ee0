//! AVX2 builds of the two block loops of [`lanes`](super::lanes), written with intrinsics: one 256-bit
//! register holds the [`LANES`] accumulators of one statistic, lane `j` of the register being lane `j` of
//! the portable loop. Every intrinsic is the IEEE operation the portable code performs per lane (add,
//! sub, mul, and `fmadd_pd` where the portable code calls `mul_add`; `min_pd(x, lo)` is exactly
//! `if x < lo { x } else { lo }`, NaN and signed zeros included, and `max_pd` likewise; some additions are
//! `fmadd_pd(a, 1, b)`, which rounds exactly as `a + b`, see [`add_on_fma`]), no other FMA, and the tail
//! and the lane combination are the portable code's own, so the bits are the portable build's. Why
//! intrinsics: LLVM's SLP vectoriser turned the portable loop with its TwoSum into scalar code with spills
//! when compiled for AVX2 (perf annotate, benches/README.md).

use std::arch::x86_64::{
    __m256d, _MM_HINT_T0, _mm_prefetch, _mm256_add_pd, _mm256_blendv_pd, _mm256_castsi256_pd, _mm256_fmadd_pd,
    _mm256_loadu_pd, _mm256_loadu_si256, _mm256_max_pd, _mm256_min_pd, _mm256_mul_pd, _mm256_or_pd, _mm256_set1_pd,
    _mm256_setzero_pd, _mm256_storeu_pd, _mm256_sub_pd,
};

use super::extract::Levels;
use super::lanes::{Fused, FusedLanes, LANES, PowerLanes, RUN_GROUPS, power_sums_finish};

const _: () = assert!(LANES == 4, "one __m256d holds four f64 lanes");

/// The four lanes of `v` (shared with the other AVX2 modules of `stats`).
#[inline(always)]
pub(crate) fn lanes(v: __m256d) -> [f64; LANES] {
    let mut out = [0.0; LANES];
    // SAFETY: `out` holds exactly four f64; storeu has no alignment requirement. (AVX is enabled in every
    // caller, which are `#[target_feature(enable = "avx2,fma")]` functions.)
    unsafe { _mm256_storeu_pd(out.as_mut_ptr(), v) };
    out
}

/// One group's deviations `d` into the power sums `[Σd, Σd², Σd³, Σd⁴]`, as the portable loops do it (one
/// add, one mul, three `mul_add`s): shared by every AVX2 loop that must give `lanes::power_sums`' bits.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(super) fn power_step(s: &mut [__m256d; 4], d: __m256d) {
    let d2 = _mm256_mul_pd(d, d);
    s[0] = add_on_fma(d, s[0]);
    s[1] = _mm256_fmadd_pd(d, d, s[1]);
    s[2] = _mm256_fmadd_pd(d2, d, s[2]);
    s[3] = _mm256_fmadd_pd(d2, d2, s[3]);
}

/// `a + b` computed as `a·1 + b` on an FMA pipe: the same single rounding, so the same bits (NaN payloads
/// aside). The fused loops are bound by the two FP adder pipes while the two FMA pipes idle half the time,
/// so some of their additions run there (benches/README.md "Additions on the FMA pipes").
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(super) fn add_on_fma(a: __m256d, b: __m256d) -> __m256d {
    _mm256_fmadd_pd(a, _mm256_set1_pd(1.0), b)
}

/// Knuth's TwoSum on four lanes, as `lanes::two_sum`: `(t, e)` with `t + e == a + b` exactly.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn two_sum(a: __m256d, b: __m256d) -> (__m256d, __m256d) {
    let t = _mm256_add_pd(a, b);
    let z = _mm256_sub_pd(t, a);
    (t, _mm256_add_pd(_mm256_sub_pd(a, _mm256_sub_pd(t, z)), _mm256_sub_pd(b, z)))
}

/// Power sums in registers: `s` as [`power_step`] feeds them (`s[1]` the open run of Σd²), `sq`/`sq_lo` the
/// runs ended so far, as `lanes::PowerLanes`.
pub(super) struct Powers {
    pub(super) s: [__m256d; 4],
    sq: __m256d,
    sq_lo: __m256d,
}

impl Powers {
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn new() -> Self {
        let zero = _mm256_setzero_pd();
        Powers { s: [zero; 4], sq: zero, sq_lo: zero }
    }

    /// `lanes::end_run` on four lanes (Fast2Sum, as `lanes::fast_two_sum`). Its four additions are FMAs
    /// with a factor ±1 (`a·1 + b` rounds exactly as `a + b`: the same bits): the loop is bound by the two
    /// FP adder pipes, and the FMA pipes have room (plain adds here cost describe ~8%, these ~3%).
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    pub(super) fn end_run(&mut self) {
        let (one, minus_one) = (_mm256_set1_pd(1.0), _mm256_set1_pd(-1.0));
        let t = _mm256_fmadd_pd(self.s[1], one, self.sq);
        let z = _mm256_fmadd_pd(self.sq, minus_one, t);
        let e = _mm256_fmadd_pd(z, minus_one, self.s[1]);
        self.sq = t;
        self.sq_lo = _mm256_fmadd_pd(e, one, self.sq_lo);
        self.s[1] = _mm256_setzero_pd();
    }

    /// Ends the run after group `g` when it is the run's last.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    pub(super) fn after_group(&mut self, g: usize) {
        if g % RUN_GROUPS == RUN_GROUPS - 1 {
            self.end_run();
        }
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn into_lanes(self) -> PowerLanes {
        PowerLanes { s: self.s.map(lanes), sq: lanes(self.sq), sq_lo: lanes(self.sq_lo) }
    }
}

/// The register accumulators of the fused loop: one `__m256d` per statistic.
struct FusedAcc {
    p: Powers,
    raw: __m256d,
    comp: __m256d,
    lo: __m256d,
    hi: __m256d,
    /// `−shift` and `−center`: the deviation is two additions on the FMA pipes.
    shift: __m256d,
    center: __m256d,
}

impl FusedAcc {
    #[target_feature(enable = "avx2,fma")]
    fn new(shift: f64, center: f64) -> Self {
        let zero = _mm256_setzero_pd();
        FusedAcc {
            p: Powers::new(),
            raw: zero,
            comp: zero,
            lo: _mm256_set1_pd(f64::INFINITY),
            hi: _mm256_set1_pd(f64::NEG_INFINITY),
            shift: _mm256_set1_pd(-shift),
            center: _mm256_set1_pd(-center),
        }
    }

    /// One group of four values, lane `j` as lane `j` of the portable loop.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn step<const RAW: bool>(&mut self, x: __m256d) {
        self.lo = _mm256_min_pd(x, self.lo);
        self.hi = _mm256_max_pd(x, self.hi);
        if RAW {
            let (t, e) = two_sum(self.raw, x);
            self.raw = t;
            self.comp = _mm256_add_pd(self.comp, e);
        }
        // `(x − shift) − center`, both subtractions on the FMA pipes (`shift` and `center` are held negated).
        power_step(&mut self.p.s, add_on_fma(add_on_fma(x, self.shift), self.center));
    }

    #[target_feature(enable = "avx2,fma")]
    fn into_lanes(self) -> FusedLanes {
        FusedLanes {
            p: self.p.into_lanes(),
            raw: lanes(self.raw),
            comp: lanes(self.comp),
            lo: lanes(self.lo),
            hi: lanes(self.hi),
        }
    }
}

/// How far ahead of the loop the column is prefetched: the hardware's stream prefetcher stops at every
/// 4 KiB page, so the loop would wait at each page's first line (perf: a quarter of the fused loop's samples
/// sat on its load).
const PREFETCH_BYTES: usize = 4096;

/// A hint to load the line [`PREFETCH_BYTES`] past `group` into L1: never faults, whatever the address
/// (hence `wrapping_add`, which may point past the column's end).
#[target_feature(enable = "avx2")]
#[inline]
pub(super) fn prefetch_ahead<T>(group: &[T]) {
    _mm_prefetch::<_MM_HINT_T0>(group.as_ptr().cast::<u8>().wrapping_add(PREFETCH_BYTES).cast());
}

/// [`lanes::fused`](super::lanes::fused) with AVX2.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn fused<const RAW: bool>(xs: &[f64], shift: f64, center: f64) -> Fused {
    let groups = xs.chunks_exact(LANES);
    let tail = groups.remainder();
    let mut acc = FusedAcc::new(shift, center);
    for (k, g) in groups.enumerate() {
        if k % 2 == 0 {
            prefetch_ahead(g);
        }
        // SAFETY: `g` holds exactly LANES = 4 f64; loadu has no alignment requirement.
        acc.step::<RAW>(unsafe { _mm256_loadu_pd(g.as_ptr()) });
        acc.p.after_group(k);
    }
    acc.into_lanes().finish::<RAW>(tail, shift, center)
}

/// `SELECT[b]` has lane `j` all ones when bit `j` of the nibble `b` is set: four slots chosen by four mask
/// bits with one table load and one blend.
pub(super) static SELECT: [[u64; LANES]; 16] = {
    let mut t = [[0u64; LANES]; 16];
    let mut b = 0;
    while b < 16 {
        let mut j = 0;
        while j < LANES {
            if (b >> j) & 1 == 1 {
                t[b][j] = u64::MAX;
            }
            j += 1;
        }
        b += 1;
    }
    t
};

/// [`lanes::fused_masked`](super::lanes::fused_masked) with AVX2: each group's masked-out slots are
/// replaced by `fill` in the register (a blend), so the fused loop reads the block once, from where it
/// lies, instead of a filled copy; the values each lane sees are the copy's, so the bits are too.
///
/// # Safety
/// The CPU must support AVX2, and `mask` must hold at least `xs.len().div_ceil(64)` words.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn fused_masked<const RAW: bool>(
    xs: &[f64],
    mask: &[u64],
    fill: f64,
    shift: f64,
    center: f64,
) -> Fused {
    let vfill = _mm256_set1_pd(fill);
    let mut acc = FusedAcc::new(shift, center);
    // Sixty-four values a mask word, four a nibble: the word is shifted along instead of indexed per group.
    let words = xs.chunks_exact(64);
    let mut tail_start = xs.len() - words.remainder().len();
    for (slots, &word) in words.zip(mask) {
        let mut w = word;
        for (k, group) in slots.chunks_exact(LANES).enumerate() {
            if k % 2 == 0 {
                prefetch_ahead(group);
            }
            // SAFETY: `group` holds exactly LANES = 4 f64 and a SELECT row four u64; loadu has no alignment
            // requirement.
            let (x, keep) = unsafe {
                (_mm256_loadu_pd(group.as_ptr()), _mm256_loadu_si256(SELECT[(w & 0xF) as usize].as_ptr().cast()))
            };
            acc.step::<RAW>(_mm256_blendv_pd(vfill, x, _mm256_castsi256_pd(keep)));
            acc.p.after_group(k); // a word's 16 groups are whole runs (RUN_GROUPS divides 16)
            w >>= LANES;
        }
    }
    let rest = &xs[tail_start..];
    for (k, group) in rest.chunks_exact(LANES).enumerate() {
        let nibble = (mask[tail_start / 64] >> (LANES * k)) & 0xF;
        // SAFETY: as above.
        let (x, keep) =
            unsafe { (_mm256_loadu_pd(group.as_ptr()), _mm256_loadu_si256(SELECT[nibble as usize].as_ptr().cast())) };
        acc.step::<RAW>(_mm256_blendv_pd(vfill, x, _mm256_castsi256_pd(keep)));
        acc.p.after_group(k);
    }
    tail_start += rest.len() / LANES * LANES;
    let mut tail = [fill; LANES];
    for (i, t) in (tail_start..xs.len()).zip(tail.iter_mut()) {
        if (mask[i / 64] >> (i % 64)) & 1 == 1 {
            *t = xs[i];
        }
    }
    acc.into_lanes().finish::<RAW>(&tail[..xs.len() - tail_start], shift, center)
}

/// [`lanes::fused_exact`](super::lanes::fused_exact) with AVX2: the moment loop of [`fused`] without the
/// raw sum, and the two extraction levels on the same register.
///
/// # Safety
/// The CPU must support AVX2 and FMA, and `mask`, if any, must hold at least `xs.len().div_ceil(64)` words.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn fused_exact(
    xs: &[f64],
    mask: Option<&[u64]>,
    fill: f64,
    shift: f64,
    center: f64,
    levels: Levels,
) -> (Fused, [f64; 3]) {
    let (vfill, s1, s2) = (_mm256_set1_pd(fill), _mm256_set1_pd(levels.sigma1), _mm256_set1_pd(levels.sigma2));
    let mut acc = FusedAcc::new(shift, center);
    let zero = _mm256_setzero_pd();
    let (mut t1, mut t2, mut rest) = (zero, zero, zero);
    let groups = xs.chunks_exact(LANES);
    let tail_start = xs.len() - groups.remainder().len();
    for (g, group) in groups.enumerate() {
        if g % 2 == 0 {
            prefetch_ahead(group);
        }
        // SAFETY: `group` holds exactly LANES = 4 f64; loadu has no alignment requirement.
        let mut x = unsafe { _mm256_loadu_pd(group.as_ptr()) };
        if let Some(m) = mask {
            let nibble = (m[g / 16] >> (4 * (g % 16))) & 0xF;
            // SAFETY: a SELECT row holds four u64; loadu has no alignment requirement.
            let keep = unsafe { _mm256_loadu_si256(SELECT[nibble as usize].as_ptr().cast()) };
            x = _mm256_blendv_pd(vfill, x, _mm256_castsi256_pd(keep));
        }
        acc.step::<false>(x);
        acc.p.after_group(g);
        // `Levels::split`, four values at a time.
        let q1 = _mm256_sub_pd(_mm256_add_pd(s1, x), s1);
        let r1 = _mm256_sub_pd(x, q1);
        let q2 = _mm256_sub_pd(_mm256_add_pd(s2, r1), s2);
        t1 = add_on_fma(q1, t1);
        t2 = add_on_fma(q2, t2);
        rest = _mm256_or_pd(rest, _mm256_sub_pd(r1, q2));
    }
    let mut tail = [fill; LANES];
    for (i, t) in (tail_start..xs.len()).zip(tail.iter_mut()) {
        if mask.is_none_or(|m| (m[i / 64] >> (i % 64)) & 1 == 1) {
            *t = xs[i];
        }
    }
    let tail = &tail[..xs.len() - tail_start];
    let [a, b, r] = levels.apply(tail);
    let (l1, l2, lr) = (lanes(t1), lanes(t2), lanes(rest));
    // Exact in any order: every partial sum lies on its level's grid below its σ.
    let parts = [
        l1.iter().sum::<f64>() + a,
        l2.iter().sum::<f64>() + b,
        f64::from_bits(lr.iter().fold(r.to_bits(), |acc, x| acc | x.to_bits())),
    ];
    (acc.into_lanes().finish::<false>(tail, shift, center), parts)
}

/// [`lanes::power_sums`](super::lanes::power_sums) with AVX2.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn power_sums<const RUNS: bool>(xs: &[f64], shift: f64, center: f64) -> ([f64; 4], f64) {
    let groups = xs.chunks_exact(LANES);
    let tail = groups.remainder();
    let (vs, vc) = (_mm256_set1_pd(shift), _mm256_set1_pd(center));
    let mut p = Powers::new();
    for (k, g) in groups.enumerate() {
        // SAFETY: `g` holds exactly LANES = 4 f64; loadu has no alignment requirement.
        let x = unsafe { _mm256_loadu_pd(g.as_ptr()) };
        power_step(&mut p.s, _mm256_sub_pd(_mm256_sub_pd(x, vs), vc));
        if RUNS {
            p.after_group(k);
        }
    }
    power_sums_finish(p.into_lanes(), tail, shift, center)
}
