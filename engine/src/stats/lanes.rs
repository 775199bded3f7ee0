//! Fixed-lane block kernels: the two passes over a block of f64 values that every float and integer
//! `describe` runs. The hot loops of tally live here.
//!
//! Each pass keeps [`LANES`] independent accumulators, value `i` of a group of eight going to lane `i`, and
//! combines them in a fixed pairwise order at the end. Rust never fuses `a * b + c` into an FMA, so every
//! lane performs the same IEEE operations whatever SIMD width the compiler chooses: SSE2, AVX2 or
//! AVX-512 builds give the same bits (the polars `float_sum.rs` idea; arrow-arith's lane sums are the
//! model for the loop shape).
//!
//! Validity is applied per group of eight from one byte of the bitmap: masked-out slots may hold anything
//! (Arrow leaves null slots undefined), so they are replaced by neutral values (0 for sums, no-op for
//! min/max) with selects, never branches.

/// Independent accumulators per pass: one AVX-512 register, two AVX2 or four SSE2 registers of f64.
pub const LANES: usize = 8;

/// Combines lane accumulators in a fixed pairwise order.
#[inline(always)]
pub fn sum_lanes(l: &[f64; LANES]) -> f64 {
    ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]))
}

/// The validity byte of the group of eight values starting at `i` (a multiple of 8).
#[inline(always)]
fn group_bits(mask: Option<&[u64]>, i: usize) -> u8 {
    match mask {
        None => 0xFF,
        Some(m) => (m[i / 64] >> (i % 64)) as u8,
    }
}

/// What the first pass found among the kept values of a block.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scan {
    /// Σ(x − shift).
    pub sum_rel: f64,
    pub min: f64,
    pub max: f64,
}

/// First pass: Σ(x − shift), min and max over the values whose mask bit is set (all when `mask` is `None`).
/// NaN never wins a comparison, so it is skipped by min/max on its own; ±inf participate.
#[inline]
pub fn scan(xs: &[f64], mask: Option<&[u64]>, shift: f64) -> Scan {
    match mask {
        Some(m) => scan_masked(xs, m, shift),
        None => scan_dense(xs, shift),
    }
}

// Compiled once per listed target and once for the baseline, chosen at run time by CPU detection. The
// lane structure, not the instruction set, fixes the bits (see the module docs and the test below).
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+avx512bw+avx512dq", "x86_64+avx2"))]
fn scan_dense(xs: &[f64], shift: f64) -> Scan {
    scan_impl::<false>(xs, None, shift)
}

#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+avx512bw+avx512dq", "x86_64+avx2"))]
fn scan_masked(xs: &[f64], mask: &[u64], shift: f64) -> Scan {
    scan_impl::<true>(xs, Some(mask), shift)
}

#[inline(always)]
fn scan_impl<const MASKED: bool>(xs: &[f64], mask: Option<&[u64]>, shift: f64) -> Scan {
    let mut rel = [0.0f64; LANES];
    let mut lo = [f64::INFINITY; LANES];
    let mut hi = [f64::NEG_INFINITY; LANES];
    let groups = xs.chunks_exact(LANES);
    let tail = groups.remainder();
    for (g, group) in groups.enumerate() {
        let bits = if MASKED { group_bits(mask, g * LANES) } else { 0xFF };
        for j in 0..LANES {
            let x = group[j];
            let keep = !MASKED || bits & (1 << j) != 0;
            rel[j] += if keep { x - shift } else { 0.0 };
            lo[j] = if keep && x < lo[j] { x } else { lo[j] };
            hi[j] = if keep && x > hi[j] { x } else { hi[j] };
        }
    }
    let bits = if tail.is_empty() { 0 } else { group_bits(mask, xs.len() - tail.len()) };
    for (j, &x) in tail.iter().enumerate() {
        let keep = bits & (1 << j) != 0;
        rel[j] += if keep { x - shift } else { 0.0 };
        lo[j] = if keep && x < lo[j] { x } else { lo[j] };
        hi[j] = if keep && x > hi[j] { x } else { hi[j] };
    }
    let min = lo.iter().fold(f64::INFINITY, |a, &b| if b < a { b } else { a });
    let max = hi.iter().fold(f64::NEG_INFINITY, |a, &b| if b > a { b } else { a });
    Scan { sum_rel: sum_lanes(&rel), min, max }
}

/// Raw power sums of the deviations `d = (x − shift) − center` over the kept values: `[Σd, Σd², Σd³, Σd⁴]`.
#[inline]
pub fn power_sums(xs: &[f64], mask: Option<&[u64]>, shift: f64, center: f64) -> [f64; 4] {
    match mask {
        Some(m) => power_sums_masked(xs, m, shift, center),
        None => power_sums_dense(xs, shift, center),
    }
}

#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+avx512bw+avx512dq", "x86_64+avx2"))]
fn power_sums_dense(xs: &[f64], shift: f64, center: f64) -> [f64; 4] {
    power_sums_impl::<false>(xs, None, shift, center)
}

#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+avx512bw+avx512dq", "x86_64+avx2"))]
fn power_sums_masked(xs: &[f64], mask: &[u64], shift: f64, center: f64) -> [f64; 4] {
    power_sums_impl::<true>(xs, Some(mask), shift, center)
}

#[inline(always)]
fn power_sums_impl<const MASKED: bool>(xs: &[f64], mask: Option<&[u64]>, shift: f64, center: f64) -> [f64; 4] {
    let mut s1 = [0.0f64; LANES];
    let mut s2 = [0.0f64; LANES];
    let mut s3 = [0.0f64; LANES];
    let mut s4 = [0.0f64; LANES];
    let groups = xs.chunks_exact(LANES);
    let tail = groups.remainder();
    for (g, group) in groups.enumerate() {
        let bits = if MASKED { group_bits(mask, g * LANES) } else { 0xFF };
        for j in 0..LANES {
            let keep = !MASKED || bits & (1 << j) != 0;
            let d = if keep { (group[j] - shift) - center } else { 0.0 };
            let d2 = d * d;
            s1[j] += d;
            s2[j] += d2;
            s3[j] += d2 * d;
            s4[j] += d2 * d2;
        }
    }
    let bits = if tail.is_empty() { 0 } else { group_bits(mask, xs.len() - tail.len()) };
    for (j, &x) in tail.iter().enumerate() {
        let d = if bits & (1 << j) != 0 { (x - shift) - center } else { 0.0 };
        let d2 = d * d;
        s1[j] += d;
        s2[j] += d2;
        s3[j] += d2 * d;
        s4[j] += d2 * d2;
    }
    [sum_lanes(&s1), sum_lanes(&s2), sum_lanes(&s3), sum_lanes(&s4)]
}

/// Number of set bits: the kept values of a block.
#[inline]
pub fn count_kept(len: usize, mask: Option<&[u64]>) -> u64 {
    mask.map_or(len as u64, |m| m.iter().map(|w| u64::from(w.count_ones())).sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Straightforward scalar reference with explicit `if` on the mask.
    fn reference(xs: &[f64], mask: &[u64], shift: f64, center: f64) -> (f64, f64, f64, [f64; 4]) {
        let (mut rel, mut lo, mut hi, mut p) = (0.0, f64::INFINITY, f64::NEG_INFINITY, [0.0; 4]);
        for (i, &x) in xs.iter().enumerate() {
            if (mask[i / 64] >> (i % 64)) & 1 == 1 {
                rel += x - shift;
                lo = lo.min(x);
                hi = hi.max(x);
                let d = (x - shift) - center;
                for (k, pk) in p.iter_mut().enumerate() {
                    *pk += d.powi(k as i32 + 1);
                }
            }
        }
        (rel, lo, hi, p)
    }

    #[test]
    fn masked_kernels_match_a_scalar_loop_on_small_integers() {
        // Small integers keep every sum exact, so any lane order must agree with the scalar loop exactly.
        for len in [0usize, 1, 7, 8, 9, 63, 64, 65, 200] {
            let xs: Vec<f64> = (0..len).map(|i| ((i * 37) % 11) as f64 - 5.0).collect();
            let mask: Vec<u64> =
                (0..len.div_ceil(64).max(1)).map(|w| 0xF0F0_3C3C_FFFF_0001u64.rotate_left(w as u32)).collect();
            let mut mask = mask;
            if len % 64 != 0 {
                let last = mask.len() - 1;
                mask[last] &= (1u64 << (len % 64)) - 1;
            }
            let (rel, lo, hi, p) = reference(&xs, &mask, 1.0, 2.0);
            let s = scan(&xs, Some(&mask), 1.0);
            assert_eq!((s.sum_rel, s.min, s.max), (rel, lo, hi), "len {len}");
            assert_eq!(power_sums(&xs, Some(&mask), 1.0, 2.0), p, "len {len}");
            let all: Vec<u64> = vec![u64::MAX; len.div_ceil(64).max(1)];
            let mut all = all;
            if len % 64 != 0 {
                let last = all.len() - 1;
                all[last] = (1u64 << (len % 64)) - 1;
            }
            let (rel, lo, hi, p) = reference(&xs, &all, 1.0, 2.0);
            let s = scan(&xs, None, 1.0);
            assert_eq!((s.sum_rel, s.min, s.max), (rel, lo, hi), "len {len}");
            assert_eq!(power_sums(&xs, None, 1.0, 2.0), p, "len {len}");
        }
    }

    /// The dispatched (AVX2/AVX-512) kernels must give the same bits as the portable code on awkward data.
    #[test]
    fn dispatched_kernels_match_the_portable_build_bit_for_bit() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for len in [5usize, 64, 1000, 4096] {
            let xs: Vec<f64> = (0..len)
                .map(|_| {
                    let r = next();
                    let x = f64::from_bits(0x3FF0_0000_0000_0000 | (r >> 12)) * 10f64.powi((r % 9) as i32 - 4);
                    if r % 97 == 0 {
                        f64::NAN
                    } else if r % 89 == 0 {
                        f64::INFINITY
                    } else {
                        x
                    }
                })
                .collect();
            let mask: Vec<u64> = (0..len.div_ceil(64)).map(|_| next() | next()).collect();
            for m in [None, Some(&mask[..])] {
                let fast = scan(&xs, m, 1.5);
                let portable =
                    if m.is_some() { scan_impl::<true>(&xs, m, 1.5) } else { scan_impl::<false>(&xs, m, 1.5) };
                assert_eq!(format!("{fast:?}"), format!("{portable:?}"));
                let finite: Vec<f64> = xs.iter().map(|x| if x.is_finite() { *x } else { 0.25 }).collect();
                let fast = power_sums(&finite, m, 1.5, 0.125);
                let portable = if m.is_some() {
                    power_sums_impl::<true>(&finite, m, 1.5, 0.125)
                } else {
                    power_sums_impl::<false>(&finite, m, 1.5, 0.125)
                };
                assert_eq!(fast.map(f64::to_bits), portable.map(f64::to_bits));
            }
        }
    }

    #[test]
    fn nan_is_skipped_by_min_and_max_and_inf_counts() {
        let xs = [f64::NAN, 2.0, f64::NEG_INFINITY, 5.0];
        let s = scan(&xs, None, 0.0);
        assert_eq!((s.min, s.max), (f64::NEG_INFINITY, 5.0));
        assert!(s.sum_rel.is_nan());
    }
}
