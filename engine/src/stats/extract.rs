//! Exact block sums by error-free extraction: the fast path of the exact sum (the default; not `--compensated`).
//!
//! [`ExactSum`] deposits each value into a superaccumulator, a few integer operations and three dependent
//! limb updates per value that do not vectorise. Here a block of finite values is instead split, level by
//! level, with Rump, Ogita & Oishi's *ExtractVector* ("Accurate floating-point summation part I: faithful
//! rounding", SIAM J. Sci. Comput. 31(1), 2008, Algorithm 3.2): with `σ = 2^(E + 13)` and every
//! `|x| < 2^E`, a block of at most 2^12 values gives
//!
//! ```text
//!   q = (σ + x) − σ      the high part of x on the grid of σ's half-ulp, 2^(E − 40)   (exact)
//!   r = x − q            the rest, |r| <= 2^(E − 40)                                  (exact)
//!   Σq                   multiples of 2^(E − 40) below σ in magnitude: exact in f64, in any order
//! ```
//!
//! so `Σx = Σq + Σr` exactly, `Σq` is one double handed to the superaccumulator, and the next level
//! extracts from the residuals `r`, about 40 bits further down. Blocks of ordinary data are exact after
//! two or three levels of a loop of adds that vectorises (AVX2 at run time, same bits: each level's `Σq`
//! is exact, so the lanes cannot change it). Values beyond `2^1010` (σ would overflow) and residuals below
//! `2^-1000` (σ would leave the normal range) go to the superaccumulator one by one.

use super::exact_sum::ExactSum;
use super::lanes::LANES;
use super::moments::{ilogb, pow2};

/// Largest block the 2^13 headroom of σ covers (Σ|q| < 2^12 · 2^E < σ).
pub const MAX_BLOCK: usize = 1 << 12;

/// Adds the finite values `xs` (at most [`MAX_BLOCK`], every `|x| <= amax`) to `sum` exactly. `scratch`
/// holds the residuals between levels.
pub fn add_block(sum: &mut ExactSum, xs: &[f64], amax: f64, scratch: &mut [Vec<f64>; 2]) {
    debug_assert!(xs.len() <= MAX_BLOCK);
    let [a, b] = scratch;
    let (mut cur, mut next) = (a, b);
    let mut amax = amax;
    let mut level = 0;
    while amax > 0.0 {
        // 2^e > amax: the exponent of the smallest power of two above every |x|.
        let e = ilogb(amax) + 1;
        if e + 13 > 1023 || e + 13 - 53 < -1000 {
            // σ would overflow, or its grid would reach the subnormals: value by value.
            let rest: &[f64] = if level == 0 { xs } else { &cur[..xs.len()] };
            return sum.add_slice(rest);
        }
        let sigma = pow2(e + 13);
        let src: &[f64] = if level == 0 { xs } else { &cur[..xs.len()] };
        if next.len() < xs.len() {
            // Grown once per update; later levels and blocks overwrite without clearing.
            next.resize(xs.len(), 0.0);
        }
        let (tau, rest_max) = extract(src, sigma, &mut next[..xs.len()]);
        sum.add(tau);
        amax = rest_max;
        std::mem::swap(&mut cur, &mut next);
        level += 1;
    }
}

/// The σ of the first two extraction levels for a block whose every `|x| < 2^e`, known before the block is
/// read (from the state's extremes so far), so that both levels run inside the fused pass of the exact mode
/// (`lanes::fused_exact`) instead of two more passes. Level 2 extracts from residuals below 2^(e − 40),
/// so its σ is that of `e − 39`. A block whose second residuals are all zero (every value at least
/// ~2^(e − 27) in magnitude, or on the same grid) has the exact sum `Σq₁ + Σq₂`; the caller checks that,
/// and that the block kept below 2^e, and otherwise runs [`add_block`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Levels {
    pub sigma1: f64,
    pub sigma2: f64,
}

impl Levels {
    /// `None` where a σ would leave the range [`add_block`] allows.
    pub fn below(e: i32) -> Option<Self> {
        let fits = |e: i32| e + 13 <= 1023 && e + 13 - 53 >= -1000;
        (fits(e) && fits(e - 39)).then(|| Levels { sigma1: pow2(e + 13), sigma2: pow2(e - 39 + 13) })
    }

    /// `[Σq₁, Σq₂, r]` of one value, where `r` holds the bits of the second residual (non-zero bits: the
    /// two levels did not take the value whole).
    #[inline(always)]
    pub fn split(&self, x: f64) -> [f64; 3] {
        let q1 = (self.sigma1 + x) - self.sigma1;
        let r1 = x - q1;
        let q2 = (self.sigma2 + r1) - self.sigma2;
        [q1, q2, r1 - q2]
    }

    /// The portable build of the two levels over a block: `[Σq₁, Σq₂, OR of the second residuals' bits]`.
    /// Both sums are exact in any order, so every build gives these bits.
    pub fn apply(&self, xs: &[f64]) -> [f64; 3] {
        let (mut t1, mut t2, mut rest) = (0.0, 0.0, 0u64);
        for &x in xs {
            let [q1, q2, r2] = self.split(x);
            t1 += q1;
            t2 += q2;
            rest |= r2.to_bits();
        }
        [t1, t2, f64::from_bits(rest)]
    }
}

/// One level: writes the residuals to `out`, returns the exact Σq and the largest |residual|.
#[inline]
fn extract(xs: &[f64], sigma: f64, out: &mut [f64]) -> (f64, f64) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above), the only requirement of `extract_avx2`.
        return unsafe { extract_avx2(xs, sigma, out) };
    }
    extract_portable(xs, sigma, out)
}

/// [`extract_portable`] with AVX2 intrinsics (LLVM left the portable loop's lane sums scalar). Σq is
/// exact in any order and the residuals are per value, so the result is the portable one.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn extract_avx2(xs: &[f64], sigma: f64, out: &mut [f64]) -> (f64, f64) {
    use std::arch::x86_64::{
        _mm256_add_pd, _mm256_andnot_pd, _mm256_loadu_pd, _mm256_max_pd, _mm256_set1_pd, _mm256_setzero_pd,
        _mm256_storeu_pd, _mm256_sub_pd,
    };
    let n = xs.len() / LANES * LANES;
    let (vsigma, sign, zero) = (_mm256_set1_pd(sigma), _mm256_set1_pd(-0.0), _mm256_setzero_pd());
    let (mut acc, mut big) = (zero, zero);
    for (g, o) in xs[..n].chunks_exact(LANES).zip(out[..n].chunks_exact_mut(LANES)) {
        // SAFETY: `g` and `o` hold exactly LANES = 4 f64; loadu/storeu have no alignment requirement.
        let x = unsafe { _mm256_loadu_pd(g.as_ptr()) };
        let q = _mm256_sub_pd(_mm256_add_pd(vsigma, x), vsigma);
        let r = _mm256_sub_pd(x, q);
        acc = _mm256_add_pd(acc, q);
        // SAFETY: as above.
        unsafe { _mm256_storeu_pd(o.as_mut_ptr(), r) };
        big = _mm256_max_pd(_mm256_andnot_pd(sign, r), big);
    }
    let (mut a, mut b) = ([0.0f64; LANES], [0.0f64; LANES]);
    // SAFETY: both arrays hold exactly four f64.
    unsafe {
        _mm256_storeu_pd(a.as_mut_ptr(), acc);
        _mm256_storeu_pd(b.as_mut_ptr(), big);
    }
    let (tau, rest_max) = extract_portable(&xs[n..], sigma, &mut out[n..]);
    ((a[0] + a[1]) + (a[2] + a[3]) + tau, b.iter().fold(rest_max, |m, &v| m.max(v)))
}

#[inline(always)]
fn extract_portable(xs: &[f64], sigma: f64, out: &mut [f64]) -> (f64, f64) {
    let mut acc = [0.0f64; LANES];
    let mut big = [0.0f64; LANES];
    let mut groups = xs.chunks_exact(LANES);
    let mut outs = out.chunks_exact_mut(LANES);
    for (g, o) in (&mut groups).zip(&mut outs) {
        for j in 0..LANES {
            let q = (sigma + g[j]) - sigma;
            let r = g[j] - q;
            acc[j] += q;
            o[j] = r;
            let a = r.abs();
            big[j] = if a > big[j] { a } else { big[j] };
        }
    }
    for ((j, &x), o) in groups.remainder().iter().enumerate().zip(outs.into_remainder()) {
        let q = (sigma + x) - sigma;
        let r = x - q;
        acc[j] += q;
        *o = r;
        big[j] = big[j].max(r.abs());
    }
    // Exact whatever the order: every partial sum of q's is a multiple of 2^(e − 40) below σ.
    let tau = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    (tau, big.iter().fold(0.0f64, |m, &b| m.max(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(xs: &[f64]) -> ExactSum {
        let mut s = ExactSum::default();
        s.add_slice(xs);
        s
    }

    #[test]
    fn extraction_equals_the_superaccumulator() {
        let mut s = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        let mut scratch = [Vec::new(), Vec::new()];
        for round in 0..300 {
            let len = [1usize, 2, 5, 64, 1000, MAX_BLOCK][round % 6];
            let xs: Vec<f64> = (0..len)
                .map(|_| {
                    let m = f64::from_bits((next() & ((1 << 52) - 1)) | (1023 << 52)); // [1, 2)
                    let e = match round % 5 {
                        0 => (next() % 40) as i32 - 20,
                        1 => (next() % 2000) as i32 - 1000,
                        2 => 1000 + (next() % 23) as i32,
                        3 => -1060 + (next() % 60) as i32,
                        _ => 0,
                    };
                    let x = m * pow2(e.clamp(-1022, 1023) / 2) * pow2(e.clamp(-1022, 1023) - e.clamp(-1022, 1023) / 2);
                    if next() % 2 == 0 { -x } else { x }
                })
                .collect();
            let amax = xs.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            let mut got = ExactSum::default();
            add_block(&mut got, &xs, amax, &mut scratch);
            assert_eq!(got, plain(&xs), "round {round}");
        }
        let mut got = ExactSum::default();
        add_block(&mut got, &[f64::MAX, -f64::MAX, 1.0, 5e-324], f64::MAX, &mut scratch);
        assert_eq!(got, plain(&[1.0, 5e-324]));
        add_block(&mut got, &[0.0, -0.0], 0.0, &mut scratch);
        assert_eq!(got, plain(&[1.0, 5e-324]));
    }
}
