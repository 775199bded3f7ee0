//! Fixed-lane block kernels over a block of f64 values, for every float and integer `describe`: the
//! fused pass (power sums around a center, min, max) and, when the center proves too far from the block's
//! mean, a second pass of power sums. The hot loops of tally live here.
//!
//! Each pass keeps [`LANES`] independent accumulators per statistic, value `i` of a group going to lane
//! `i`, and combines them in a fixed pairwise order at the end. Rust never fuses `a * b + c` into an FMA by
//! itself, so every lane performs the same IEEE operations whatever SIMD width the compiler chooses: SSE2,
//! AVX2 or AVX-512 builds give the same bits (the polars `float_sum.rs` idea; arrow-arith's lane sums are
//! the model for the loop shape). The power sums Σd², Σd³, Σd⁴ are fused multiply-adds *everywhere*
//! (`mul_add` here, `_mm256_fmadd_pd` in the AVX2 build; one rounding instead of two, so also more
//! accurate): it moves three of the loop's additions off the two FP adder pipes, which bound the loop
//! (issue 7, benches/README.md: 9% less CPU for describe). A CPU without FMA runs the portable loop with
//! a correctly rounded software `fma`: slow, but the same bits.
//!
//! Σd² is the variance, so it gets more than a lane sum: a lane adds its squares in runs of
//! [`RUN_GROUPS`] groups (16 values, 4 per lane), and each run's sum enters the lane's total with
//! Fast2Sum, its rounding error kept apart (`sq_lo`). A lane of a 4,096-value block adding its 1,024
//! squares in sequence was up to 5-10 ulps off on grid-valued data, where NumPy's pairwise sum stays
//! within about 1 (measured against exact rationals): the rounding errors of such data share a sign,
//! so they grow with the depth of the sum. In runs the depth is 4 and the runs' errors are kept; the
//! Fast2Sum runs on the FMA pipes in the AVX2 build and costs describe ~3% (benches/README.md "Float
//! variance in double-double"; runs of 16 per lane measured 1% cheaper but up to 1.05 ε off).
//!
//! The two loops are written out in full on purpose: sharing the accumulator code through small
//! `#[inline(always)]` structs measured 5–8% slower (criterion, `--baseline`), so the repetition stays.
//!
//! Blocks with nulls (whose slots Arrow leaves undefined) are read with every masked-out slot replaced by
//! a neutral value, and the callers correct for the fills: the portable build copies the block
//! ([`fill_masked`]), the AVX2 build blends the fill into each register ([`fused_masked`]; the copy was 16% of
//! a serial describe). Per-element mask tests in the hot loops cost more than either (benches/README.md).
//! The AVX2 loops prefetch 4 KiB ahead: the hardware's stream prefetcher stops at every page. The two loops also exist as AVX2 intrinsics (`lanes_avx2.rs`), chosen at run time
//! ([`fused`]): the same lanes, the same operations and this file's tail and combination, so the same
//! bits; compiling this loop for AVX2 instead left it scalar (LLVM's SLP vectoriser, benches/README.md).

use super::extract::Levels;

/// Independent accumulators per statistic: two SSE2 registers of f64, or one AVX2 register.
pub const LANES: usize = 4;

/// Groups of [`LANES`] values per run of Σd² (a divisor of 16: a validity word holds whole runs).
pub const RUN_GROUPS: usize = 4;
const _: () = assert!(16 % RUN_GROUPS == 0);

/// Ends a run of Σd²: adds each lane's run sum `s2` into `sq` with Fast2Sum, keeping the rounding error
/// in `sq_lo`, and starts the next run at 0. An empty run adds 0, exactly, so ending one more run than
/// needed changes no bit.
#[inline(always)]
pub fn end_run(s2: &mut [f64; LANES], sq: &mut [f64; LANES], sq_lo: &mut [f64; LANES]) {
    for j in 0..LANES {
        let (t, e) = fast_two_sum(sq[j], s2[j]);
        sq[j] = t;
        sq_lo[j] += e;
        s2[j] = 0.0;
    }
}

/// Dekker's Fast2Sum, three operations: `s + e == a + b` exactly when `a`'s exponent is at least `b`'s.
/// Squares are non-negative, so the lane total `a` outgrows each run `b` after the first few runs of a
/// block; before that `e` may miss up to half an ulp of the run, which is ~1/256 of an ulp of the block.
#[inline(always)]
pub fn fast_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    (s, b - (s - a))
}

/// Combines lane accumulators in a fixed pairwise order.
#[inline(always)]
pub fn sum_lanes(l: &[f64; LANES]) -> f64 {
    (l[0] + l[1]) + (l[2] + l[3])
}

/// Raw power sums of the deviations `d = (x − shift) − center`: `[Σd, Σd², Σd³, Σd⁴]` and the low part
/// of Σd² (see [`RUN_GROUPS`]); AVX2 where the CPU has it, with the same bits (see [`fused`]).
#[inline]
pub fn power_sums(xs: &[f64], shift: f64, center: f64) -> ([f64; 4], f64) {
    power_sums_as::<true>(xs, shift, center)
}

/// [`power_sums`] in runs (`RUNS`) or with Σd² in one lane sum (then its low part is 0): integer columns
/// take their variance from exact sums, so their Σd² only feeds skewness and kurtosis and skips the runs.
#[inline]
pub fn power_sums_as<const RUNS: bool>(xs: &[f64], shift: f64, center: f64) -> ([f64; 4], f64) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports AVX2 (checked just above), the only requirement of `power_sums_avx2`.
        return unsafe { super::lanes_avx2::power_sums::<RUNS>(xs, shift, center) };
    }
    power_sums_portable::<RUNS>(xs, shift, center)
}

/// The second pass for the build's baseline target.
#[inline(always)]
pub fn power_sums_portable<const RUNS: bool>(xs: &[f64], shift: f64, center: f64) -> ([f64; 4], f64) {
    let mut s1 = [0.0f64; LANES];
    let mut s2 = [0.0f64; LANES];
    let mut s3 = [0.0f64; LANES];
    let mut s4 = [0.0f64; LANES];
    let (mut sq, mut sq_lo) = ([0.0f64; LANES], [0.0f64; LANES]);
    let groups = xs.chunks_exact(LANES);
    let tail = groups.remainder();
    for (g, group) in groups.enumerate() {
        for j in 0..LANES {
            let d = (group[j] - shift) - center;
            let d2 = d * d;
            s1[j] += d;
            s2[j] = d.mul_add(d, s2[j]);
            s3[j] = d2.mul_add(d, s3[j]);
            s4[j] = d2.mul_add(d2, s4[j]);
        }
        if RUNS && g % RUN_GROUPS == RUN_GROUPS - 1 {
            end_run(&mut s2, &mut sq, &mut sq_lo);
        }
    }
    power_sums_finish(PowerLanes { s: [s1, s2, s3, s4], sq, sq_lo }, tail, shift, center)
}

/// The power-sum lanes of a pass after its main loop: `s` as the loop left them (`s[1]` the open run of
/// Σd²), `sq` and `sq_lo` the Σd² of the runs it ended.
#[derive(Clone, Copy, Debug)]
pub struct PowerLanes {
    pub s: [[f64; LANES]; 4],
    pub sq: [f64; LANES],
    pub sq_lo: [f64; LANES],
}

/// The tail (fewer than [`LANES`] values, value `j` to lane `j`) and the fixed combination of the lane
/// accumulators of [`power_sums`]: shared by every build so the bits cannot differ. Returns the sums and
/// the low part of Σd².
#[inline(always)]
pub fn power_sums_finish(p: PowerLanes, tail: &[f64], shift: f64, center: f64) -> ([f64; 4], f64) {
    let PowerLanes { mut s, mut sq, mut sq_lo } = p;
    end_run(&mut s[1], &mut sq, &mut sq_lo);
    for (j, &x) in tail.iter().enumerate() {
        let d = (x - shift) - center;
        let d2 = d * d;
        s[0][j] += d;
        s[1][j] = d.mul_add(d, s[1][j]);
        s[2][j] = d2.mul_add(d, s[2][j]);
        s[3][j] = d2.mul_add(d2, s[3][j]);
    }
    end_run(&mut s[1], &mut sq, &mut sq_lo);
    let (hi, lo) = sum_lanes_compensated(&sq, &sq_lo);
    ([sum_lanes(&s[0]), hi, sum_lanes(&s[2]), sum_lanes(&s[3])], lo)
}

/// The single fused pass: power sums of `d = (x − shift) − center` together with min, max and the
/// compensated sum of the raw values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fused {
    /// `[Σd, Σd², Σd³, Σd⁴]`.
    pub sums: [f64; 4],
    /// The low part of Σd²: `sums[1] + sq_lo` is the sum of the rounded squares to about twice the precision
    /// (see [`RUN_GROUPS`]).
    pub sq_lo: f64,
    /// Σx of the raw values as an unevaluated pair `sum + comp`: every lane adds with Knuth's TwoSum,
    /// so each addition's rounding error is kept exactly (in `comp`, which is then summed plainly). The
    /// shift plays no part: `x − shift` is only error-free near the shift (Sterbenz), and issue 7 showed
    /// sums of `x − shift` several hundred ulps off for data spread over orders of magnitude.
    pub sum: f64,
    pub comp: f64,
    pub min: f64,
    pub max: f64,
}

/// Knuth's branch-free TwoSum: `s + e == a + b` exactly, `s = fl(a + b)` (no overflow assumed).
#[inline(always)]
pub fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let z = s - a;
    (s, (a - (s - z)) + (b - z))
}

/// Adds lane pairs `(s[j], c[j])` in the fixed pairwise order of [`sum_lanes`], keeping the errors.
#[inline(always)]
pub fn sum_lanes_compensated(s: &[f64; LANES], c: &[f64; LANES]) -> (f64, f64) {
    let (a, ea) = two_sum(s[0], s[1]);
    let (b, eb) = two_sum(s[2], s[3]);
    let (t, et) = two_sum(a, b);
    (t, ((ea + eb) + et) + sum_lanes(c))
}

/// Power sums, min and max in one read of the block: when `center` is already close to the block's mean
/// (the running mean of the chunk so far, for all blocks but the first), no second pass is needed.
///
/// Runs the AVX2 loop of `lanes_avx2.rs` where the CPU has it (one 256-bit register per statistic, lane
/// `j` of a register being lane `j` here). It performs the same IEEE operations per lane in the same
/// order (explicit FMAs included), shares the tail and the lane combination ([`FusedLanes::finish`]), and
/// Rust never contracts other operations into FMA: the bits are the same as this portable loop's (tested
/// on random data).
#[inline]
pub fn fused(xs: &[f64], shift: f64, center: f64) -> Fused {
    fused_as::<true>(xs, shift, center)
}

/// [`fused`], with the compensated raw sum (`RAW`) or without it (`sum` and `comp` are then 0): the exact mode
/// sums the block exactly instead, and the TwoSum is most of the loop's additions.
#[inline]
pub fn fused_as<const RAW: bool>(xs: &[f64], shift: f64, center: f64) -> Fused {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports AVX2 (checked just above), the only requirement of `fused_avx2`.
        return unsafe { super::lanes_avx2::fused::<RAW>(xs, shift, center) };
    }
    fused_portable::<RAW>(xs, shift, center)
}

/// [`fused`] of the block with every slot whose `mask` bit is clear replaced by `fill`: the portable build
/// fills a copy in `buf` ([`fill_masked`]) and runs the fused loop over it; the AVX2 build blends the fill
/// into each group's register instead, so the block is read once, where it lies (its lanes see the copy's
/// values: the same bits). `mask` holds at least `xs.len().div_ceil(64)` words.
#[inline]
pub fn fused_masked<const RAW: bool>(
    xs: &[f64],
    mask: &[u64],
    fill: f64,
    shift: f64,
    center: f64,
    buf: &mut Vec<f64>,
) -> Fused {
    assert!(mask.len() >= xs.len().div_ceil(64), "a validity mask shorter than its block");
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports AVX2 (checked just above) and the mask covers the block (asserted).
        return unsafe { super::lanes_avx2::fused_masked::<RAW>(xs, mask, fill, shift, center) };
    }
    fill_masked(xs, mask, fill, buf);
    fused_portable::<RAW>(buf, shift, center)
}

/// The exact mode's fused pass: [`fused_as::<false>`](fused_as) of the block (masked-out slots read as `fill`
/// where there is a `mask`) and, in the same read, the first two extraction levels of its exact sum
/// ([`Levels`]): `[Σq₁, Σq₂, residual bits]`. The portable build runs the two over the (filled) block one
/// after the other; the AVX2 build does both per register. The sums are exact, so the bits agree.
#[inline]
pub fn fused_exact(
    xs: &[f64],
    mask: Option<&[u64]>,
    fill: f64,
    shift: f64,
    center: f64,
    levels: Levels,
    buf: &mut Vec<f64>,
) -> (Fused, [f64; 3]) {
    if let Some(m) = mask {
        assert!(m.len() >= xs.len().div_ceil(64), "a validity mask shorter than its block");
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports AVX2 and FMA (checked just above) and the mask covers the block (asserted).
        return unsafe { super::lanes_avx2::fused_exact(xs, mask, fill, shift, center, levels) };
    }
    let data = match mask {
        Some(m) => {
            fill_masked(xs, m, fill, buf);
            &buf[..]
        }
        None => xs,
    };
    (fused_portable::<false>(data, shift, center), levels.apply(data))
}

/// The fused pass for the build's baseline target (SSE2 on x86-64).
#[inline(always)]
pub fn fused_portable<const RAW: bool>(xs: &[f64], shift: f64, center: f64) -> Fused {
    let mut s1 = [0.0f64; LANES];
    let mut s2 = [0.0f64; LANES];
    let mut s3 = [0.0f64; LANES];
    let mut s4 = [0.0f64; LANES];
    let (mut sq, mut sq_lo) = ([0.0f64; LANES], [0.0f64; LANES]);
    let mut raw = [0.0f64; LANES];
    let mut comp = [0.0f64; LANES];
    let mut lo = [f64::INFINITY; LANES];
    let mut hi = [f64::NEG_INFINITY; LANES];
    let groups = xs.chunks_exact(LANES);
    let tail = groups.remainder();
    for (g, group) in groups.enumerate() {
        for j in 0..LANES {
            let x = group[j];
            lo[j] = if x < lo[j] { x } else { lo[j] };
            hi[j] = if x > hi[j] { x } else { hi[j] };
            if RAW {
                let (t, e) = two_sum(raw[j], x);
                raw[j] = t;
                comp[j] += e;
            }
            let d = (x - shift) - center;
            let d2 = d * d;
            s1[j] += d;
            s2[j] = d.mul_add(d, s2[j]);
            s3[j] = d2.mul_add(d, s3[j]);
            s4[j] = d2.mul_add(d2, s4[j]);
        }
        if g % RUN_GROUPS == RUN_GROUPS - 1 {
            end_run(&mut s2, &mut sq, &mut sq_lo);
        }
    }
    FusedLanes { p: PowerLanes { s: [s1, s2, s3, s4], sq, sq_lo }, raw, comp, lo, hi }
        .finish::<RAW>(tail, shift, center)
}

/// The lane accumulators of [`fused`] after its main loop, in every build.
#[derive(Clone, Copy, Debug)]
pub struct FusedLanes {
    /// Power sums `[Σd, Σd², Σd³, Σd⁴]` per lane.
    pub p: PowerLanes,
    pub raw: [f64; LANES],
    pub comp: [f64; LANES],
    pub lo: [f64; LANES],
    pub hi: [f64; LANES],
}

impl FusedLanes {
    /// The tail (value `j` to lane `j`) and the fixed combination of the lanes: shared by every build so
    /// the bits cannot differ.
    #[inline(always)]
    pub fn finish<const RAW: bool>(mut self, tail: &[f64], shift: f64, center: f64) -> Fused {
        let Self { p, raw, comp, lo, hi } = &mut self;
        for (j, &x) in tail.iter().enumerate() {
            lo[j] = if x < lo[j] { x } else { lo[j] };
            hi[j] = if x > hi[j] { x } else { hi[j] };
            if RAW {
                let (t, e) = two_sum(raw[j], x);
                raw[j] = t;
                comp[j] += e;
            }
        }
        let min = lo.iter().fold(f64::INFINITY, |a, &b| if b < a { b } else { a });
        let max = hi.iter().fold(f64::NEG_INFINITY, |a, &b| if b > a { b } else { a });
        let (sum, comp) = sum_lanes_compensated(raw, comp);
        let (sums, sq_lo) = power_sums_finish(*p, tail, shift, center);
        Fused { sums, sq_lo, sum, comp, min, max }
    }
}

/// Number of set bits: the kept values of a block.
#[inline]
pub fn count_kept(len: usize, mask: Option<&[u64]>) -> u64 {
    mask.map_or(len as u64, |m| m.iter().map(|w| u64::from(w.count_ones())).sum())
}

/// Clear bits per 64-slot word up to which [`fill_masked`] visits them one by one (rare nulls); denser
/// masks (a `--where` keeping about half the rows) take the byte-table select instead.
const SPARSE_CLEAR: u32 = 8;

/// `BYTE_LANES[b][l]` is all ones when bit `l` of `b` is set: eight slots selected by one mask byte with
/// bitwise operations only (no branch per slot, which mispredicts on every other bit of a half mask).
static BYTE_LANES: [[u64; 8]; 256] = {
    let mut t = [[0u64; 8]; 256];
    let mut b = 0;
    while b < 256 {
        let mut l = 0;
        while l < 8 {
            if (b >> l) & 1 == 1 {
                t[b][l] = u64::MAX;
            }
            l += 1;
        }
        b += 1;
    }
    t
};

/// Copies `xs` into `out` with every slot whose mask bit is clear replaced by `fill`; returns how many
/// slots were kept.
pub fn fill_masked(xs: &[f64], mask: &[u64], fill: f64, out: &mut Vec<f64>) -> u64 {
    out.clear();
    out.extend_from_slice(xs);
    let mut kept = 0;
    let fill_bits = fill.to_bits();
    for (&word, chunk) in mask.iter().zip(out.chunks_mut(64)) {
        kept += u64::from(word.count_ones());
        let mut clear = !word;
        if clear.count_ones() <= SPARSE_CLEAR || chunk.len() < 64 {
            // Visit only the clear bits: nulls are usually rare.
            while clear != 0 {
                let i = clear.trailing_zeros() as usize;
                if let Some(x) = chunk.get_mut(i) {
                    *x = fill;
                }
                clear &= clear - 1;
            }
        } else {
            for (k, slots) in chunk.chunks_exact_mut(8).enumerate() {
                let lanes = &BYTE_LANES[((word >> (8 * k)) & 0xFF) as usize];
                for (x, &m) in slots.iter_mut().zip(lanes) {
                    *x = f64::from_bits((x.to_bits() & m) | (fill_bits & !m));
                }
            }
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_masked_matches_a_per_slot_loop_at_every_mask_density() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for density in [0u32, 1, 5, 9, 32, 60, 64] {
            let len = 200usize;
            let xs: Vec<f64> = (0..len).map(|i| i as f64 + 0.5).collect();
            let mask: Vec<u64> = (0..len.div_ceil(64))
                .map(|_| {
                    (0..64).fold(0u64, |w, b| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        if (state % 64) < u64::from(density) { w | (1 << b) } else { w }
                    })
                })
                .collect();
            let mut mask = mask;
            // Bits past the values are zero, as every validity word the engine makes.
            *mask.last_mut().unwrap() &= (1u64 << (len % 64)) - 1;
            let mut out = Vec::new();
            let kept = fill_masked(&xs, &mask, -1.0, &mut out);
            let want: Vec<f64> =
                (0..len).map(|i| if (mask[i / 64] >> (i % 64)) & 1 == 1 { xs[i] } else { -1.0 }).collect();
            assert_eq!(out, want, "density {density}/64");
            assert_eq!(kept, want.iter().filter(|&&x| x != -1.0).count() as u64);
        }
    }

    #[test]
    fn kernels_match_a_scalar_loop_on_small_integers() {
        // Small integers keep every sum exact, so any lane order must agree with the scalar loop exactly.
        for len in [0usize, 1, 7, 8, 9, 63, 64, 65, 200] {
            let xs: Vec<f64> = (0..len).map(|i| ((i * 37) % 11) as f64 - 5.0).collect();
            let (mut raw, mut lo, mut hi, mut p) = (0.0, f64::INFINITY, f64::NEG_INFINITY, [0.0; 4]);
            for &x in &xs {
                raw += x;
                lo = lo.min(x);
                hi = hi.max(x);
                let d = (x - 1.0) - 2.0;
                for (k, pk) in p.iter_mut().enumerate() {
                    *pk += d.powi(k as i32 + 1);
                }
            }
            let f = fused(&xs, 1.0, 2.0);
            assert_eq!((f.sums, f.sq_lo, f.min, f.max), (p, 0.0, lo, hi), "len {len}");
            assert_eq!(power_sums(&xs, 1.0, 2.0), (p, 0.0), "len {len}");
            assert_eq!((f.sum, f.comp), (raw, 0.0), "len {len}");
        }
    }

    /// Bits of a kernel result; every NaN as one canonical NaN: Rust leaves the sign and payload of a NaN
    /// result unspecified (LLVM may commute an addition of two NaNs), and tally only ever tests `is_nan`.
    fn canonical(x: f64) -> u64 {
        if x.is_nan() { f64::NAN.to_bits() } else { x.to_bits() }
    }

    fn bits(f: &Fused) -> Vec<u64> {
        let mut v: Vec<u64> = f.sums.iter().map(|&x| canonical(x)).collect();
        v.extend([f.sq_lo, f.sum, f.comp, f.min, f.max].map(canonical));
        v
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_and_portable_builds_give_the_same_bits() {
        use super::super::lanes_avx2;
        if !std::arch::is_x86_feature_detected!("avx2") || !std::arch::is_x86_feature_detected!("fma") {
            eprintln!("no AVX2 and FMA on this CPU: only the portable build runs here");
            return;
        }
        // xorshift data of every source type the kernels see (f64, f32 widened, integer deltas), with
        // null slots filled as the callers do, NaN and ±inf, over lengths that cross the lane groups.
        let mut s = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        for round in 0..400 {
            let len: usize = [0, 1, 3, 4, 5, 63, 64, 65, 1000, 4096][round % 10];
            let kind = round % 4;
            let mut xs: Vec<f64> = (0..len)
                .map(|_| {
                    let u = (next() >> 11) as f64 / (1u64 << 53) as f64;
                    match kind {
                        0 => (u - 0.5) * 10f64.powi((next() % 40) as i32 - 20),
                        1 => ((u - 0.5) as f32 * 1e3) as f64,
                        2 => (next() % 100_000) as f64 - 50_000.0,
                        _ => 1e9 + (u - 0.5),
                    }
                })
                .collect();
            for x in xs.iter_mut() {
                match next() % 50 {
                    0 => *x = f64::NAN,
                    1 => *x = f64::INFINITY,
                    2 => *x = f64::NEG_INFINITY,
                    _ => {}
                }
            }
            let mask: Vec<u64> = (0..len.div_ceil(64)).map(|_| next() | next()).collect();
            let mut filled = Vec::new();
            let shift = xs.iter().copied().find(|x| x.is_finite()).unwrap_or(0.0);
            fill_masked(&xs, &mask, shift, &mut filled);
            for data in [&xs, &filled] {
                let center = (next() % 7) as f64 * 0.25;
                // SAFETY: AVX2 support was checked at the top of the test.
                let (wide, wide_sums) = unsafe {
                    (
                        lanes_avx2::fused::<true>(data, shift, center),
                        lanes_avx2::power_sums::<true>(data, shift, center),
                    )
                };
                assert_eq!(bits(&wide), bits(&fused_portable::<true>(data, shift, center)), "fused, round {round}");
                // SAFETY: as above.
                let without_raw = unsafe { lanes_avx2::fused::<false>(data, shift, center) };
                let portable = fused_portable::<false>(data, shift, center);
                assert_eq!(bits(&without_raw), bits(&portable), "fused without raw sums, round {round}");
                assert_eq!((without_raw.sum, without_raw.comp), (0.0, 0.0));
                if std::ptr::eq(data, &xs) {
                    // The blend in registers sees the values of the filled copy.
                    // SAFETY: AVX2 support was checked at the top of the test; the mask covers the block.
                    let masked = unsafe { lanes_avx2::fused_masked::<true>(&xs, &mask, shift, shift, center) };
                    let copied = fused_portable::<true>(&filled, shift, center);
                    assert_eq!(bits(&masked), bits(&copied), "fused_masked, round {round}");
                }
                let narrow_sums = power_sums_portable::<true>(data, shift, center);
                let canon = |(s, lo): ([f64; 4], f64)| (s.map(canonical), canonical(lo));
                assert_eq!(canon(wide_sums), canon(narrow_sums), "power sums, round {round}");
                // SAFETY: as above.
                let wide_plain = unsafe { lanes_avx2::power_sums::<false>(data, shift, center) };
                let narrow_plain = power_sums_portable::<false>(data, shift, center);
                assert_eq!(canon(wide_plain), canon(narrow_plain), "power sums without runs, round {round}");
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn fused_exact_builds_agree_and_two_clean_levels_are_the_exact_sum() {
        use super::super::exact_sum::ExactSum;
        use super::super::lanes_avx2;
        use super::super::moments::{ilogb, pow2};
        if !std::arch::is_x86_feature_detected!("avx2") || !std::arch::is_x86_feature_detected!("fma") {
            eprintln!("no AVX2 and FMA on this CPU: only the portable build runs here");
            return;
        }
        let mut next = super::super::test_rng(0x9E37_79B9_7F4A_7C15);
        let (mut clean, mut unclean) = (0, 0);
        for round in 0..400 {
            let len = [1usize, 3, 4, 5, 64, 65, 1000, 4096][round % 8];
            // Binary orders of magnitude the block spans: two clean levels cover about 27 below the top.
            let orders = [1u64, 10, 26, 40, 80][round % 5];
            let xs: Vec<f64> = (0..len)
                .map(|_| {
                    let m = f64::from_bits((next() & ((1 << 52) - 1)) | (1023 << 52)); // [1, 2)
                    let x = m * pow2(-((next() % orders) as i32) + 20);
                    if next().is_multiple_of(2) { -x } else { x }
                })
                .collect();
            let mut mask: Vec<u64> = (0..len.div_ceil(64)).map(|_| next() | next()).collect();
            if !len.is_multiple_of(64) {
                *mask.last_mut().unwrap() &= (1 << (len % 64)) - 1;
            }
            let mask = (round % 3 == 0).then_some(&mask[..]);
            let (shift, center) = (xs[0], (next() % 5) as f64 - 2.0);
            let amax = xs.iter().fold(0.0f64, |a, x| a.max(x.abs()));
            let levels = Levels::below(ilogb(amax) + 1).unwrap();
            let mut filled = Vec::new();
            let data: &[f64] = match mask {
                Some(m) => {
                    fill_masked(&xs, m, shift, &mut filled);
                    &filled
                }
                None => &xs,
            };
            let portable = (fused_portable::<false>(data, shift, center), levels.apply(data));
            // SAFETY: AVX2 and FMA support was checked at the top of the test; the mask covers the block.
            let wide = unsafe { lanes_avx2::fused_exact(&xs, mask, shift, shift, center, levels) };
            assert_eq!(bits(&wide.0), bits(&portable.0), "moments, round {round}");
            assert_eq!(wide.1.map(f64::to_bits), portable.1.map(f64::to_bits), "levels, round {round}");
            let [t1, t2, rest] = portable.1;
            if rest.to_bits() == 0 {
                let (mut got, mut want) = (ExactSum::default(), ExactSum::default());
                got.add(t1);
                got.add(t2);
                want.add_slice(data);
                assert_eq!(got, want, "round {round}: two clean levels must be the exact sum");
                clean += 1;
            } else {
                unclean += 1;
            }
        }
        assert!(clean > 100 && unclean > 50, "{clean} clean and {unclean} unclean blocks");
    }

    #[test]
    fn fill_replaces_exactly_the_masked_out_slots() {
        let xs: Vec<f64> = (0..130).map(|i| i as f64).collect();
        let mask = [u64::MAX, 0b1011, 0b11];
        let mut out = Vec::new();
        assert_eq!(fill_masked(&xs, &mask, -1.0, &mut out), 64 + 3 + 2);
        for (i, &x) in out.iter().enumerate() {
            let kept = (mask[i / 64] >> (i % 64)) & 1 == 1;
            assert_eq!(x, if kept { i as f64 } else { -1.0 }, "slot {i}");
        }
    }

    #[test]
    fn nan_is_skipped_by_min_and_max_and_inf_counts() {
        let xs = [f64::NAN, 2.0, f64::NEG_INFINITY, 5.0];
        let f = fused(&xs, 0.0, 0.0);
        assert_eq!((f.min, f.max), (f64::NEG_INFINITY, 5.0));
        assert!(f.sums[0].is_nan());
    }
}
