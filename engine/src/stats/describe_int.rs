//! The `describe` state of an integer column (int8..int64, uint8..uint64).
//!
//! `sum` is exact in i128 (no overflow for any realistic row count: 2^64 values of magnitude 2^63 fit),
//! `min`/`max` are exact integers, and `mean` is the exact sum divided by the count, correctly rounded.
//! Moments use the deviations from the chunk's first value computed exactly in i128, so columns near
//! `i64::MAX` keep their small spread instead of collapsing to multiples of 2048.
//!
//! `var` and `std` are correctly rounded: the state also keeps Σx² exactly ([`Wide`], 256-bit), so the
//! variance `(n·Σx² − (Σx)²) / (n·(n − ddof))` is an exact rational rounded once ([`exact_ratio`]); the
//! f64 moments only serve skewness and kurtosis (issue 7: `id` = 0..10^7 gave 8333333333333.249 for the
//! exact 8333333333333.25).

use serde::{Deserialize, Serialize};

use num_bigint::{BigInt, BigUint};

use super::exact_ratio;
use super::exact_sum::ExactSum;
use super::lanes;
use super::moments::{BLOCK, Moments, block_from_sums, block_moments, center_is_close, remove_fills};
use super::{FinishOptions, Partial, Summary, Value};
use crate::store::{ColumnChunk, IntElem, SignedView};

/// Values per block of an integer column: half the float blocks, so that a block's f64 deltas (16 KiB) and
/// the column lines streaming past stay in a 32 KiB L1 between the integer pass and the moment pass.
const INT_BLOCK: usize = BLOCK / 2;
const WORDS_PER_BLOCK: usize = INT_BLOCK / 64;
/// How a spread tier of [`IntDescribe::narrow_deltas`] sums d², wrapping, so that null slots taken back
/// out cancel exactly.
trait Squares: Copy + Default {
    fn plus(self, d: i64) -> Self;
    fn minus(self, d: i64) -> Self;
    fn total(self) -> u128;
}

/// Spreads below 2^25: d² < 2^50 and a block's Σd² < 2^62 fit u64, whose lanes vectorise.
#[derive(Clone, Copy, Default)]
struct Tiny(u64);
/// Below 2^32: each d² fits u64 (`(d mod 2^64)² mod 2^64` is d², no absolute value), the sum takes u128.
#[derive(Clone, Copy, Default)]
struct Small(u128);
/// Below 2^50: d² < 2^100 in u128.
#[derive(Clone, Copy, Default)]
struct Narrow(u128);

impl Squares for Tiny {
    #[inline(always)]
    fn plus(self, d: i64) -> Self {
        Tiny(self.0.wrapping_add((d as u64).wrapping_mul(d as u64)))
    }
    #[inline(always)]
    fn minus(self, d: i64) -> Self {
        Tiny(self.0.wrapping_sub((d as u64).wrapping_mul(d as u64)))
    }
    fn total(self) -> u128 {
        self.0.into()
    }
}

impl Squares for Small {
    #[inline(always)]
    fn plus(self, d: i64) -> Self {
        Small(self.0.wrapping_add(u128::from((d as u64).wrapping_mul(d as u64))))
    }
    #[inline(always)]
    fn minus(self, d: i64) -> Self {
        Small(self.0.wrapping_sub(u128::from((d as u64).wrapping_mul(d as u64))))
    }
    fn total(self) -> u128 {
        self.0
    }
}

impl Squares for Narrow {
    #[inline(always)]
    fn plus(self, d: i64) -> Self {
        let a = u128::from(d.unsigned_abs());
        Narrow(self.0.wrapping_add(a.wrapping_mul(a)))
    }
    #[inline(always)]
    fn minus(self, d: i64) -> Self {
        let a = u128::from(d.unsigned_abs());
        Narrow(self.0.wrapping_sub(a.wrapping_mul(a)))
    }
    fn total(self) -> u128 {
        self.0
    }
}

/// Describe state of an integer column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntDescribe {
    pub null_count: u64,
    /// `i128::MAX` / `i128::MIN` while there are no values.
    pub min: i128,
    pub max: i128,
    pub sum: i128,
    pub moments: Moments,
    /// The shift of `moments` as an exact integer (its `hi + lo` form only serves the float math).
    pub shift: i128,
    /// Σx² of the values, exactly.
    pub sum_sq: Wide,
}

/// A 256-bit two's complement integer, little-endian 64-bit words: Σx² of up to 2^64 values below 2^64
/// in magnitude fits (< 2^192), and the signed pieces it is built from add with wrapping carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wide(pub [u64; 4]);

impl Wide {
    /// Adds `x` sign-extended to 256 bits.
    #[inline]
    pub fn add_i128(&mut self, x: i128) {
        let ext = if x < 0 { u64::MAX } else { 0 };
        self.add_words([x as u64, (x >> 64) as u64, ext, ext]);
    }

    #[inline]
    pub fn add_u128(&mut self, x: u128) {
        self.add_words([x as u64, (x >> 64) as u64, 0, 0]);
    }

    /// Adds `a · b` exactly.
    pub fn add_mul(&mut self, a: u128, b: u64) {
        let lo = (a as u64 as u128) * b as u128;
        let hi = (a >> 64) * b as u128;
        // a·b = hi·2^64 + lo, hi < 2^128.
        self.add_words([lo as u64, (lo >> 64) as u64, 0, 0]);
        self.add_words([0, hi as u64, (hi >> 64) as u64, 0]);
    }

    pub fn add(&mut self, other: &Wide) {
        self.add_words(other.0);
    }

    #[inline]
    fn add_words(&mut self, w: [u64; 4]) {
        let mut carry = false;
        for (a, b) in self.0.iter_mut().zip(w) {
            let (s1, c1) = a.overflowing_add(b);
            let (s2, c2) = s1.overflowing_add(u64::from(carry));
            *a = s2;
            carry = c1 | c2;
        }
    }

    /// The value, read as a non-negative integer (a sum of squares is one).
    pub fn to_biguint(self) -> BigUint {
        let bytes: Vec<u8> = self.0.iter().flat_map(|w| w.to_le_bytes()).collect();
        BigUint::from_bytes_le(&bytes)
    }
}

/// Min, max (over the kept values and the shift), Σd and Σd² (wrapping) of one block, from the one-read
/// vector pass (`int_block_avx2.rs`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct TinyBlock {
    pub lo: i64,
    pub hi: i64,
    pub sum: i64,
    pub sq: u64,
    /// `lanes::power_sums_as::<false>(deltas, 0.0, guess)`, computed on the same read.
    pub sums: [f64; 4],
    /// Its low part of Σd² (0: no runs for integers, see `lanes::power_sums_as`).
    pub sq_lo: f64,
}

/// Min and max of the kept values, or `None` when there are none.
#[inline]
fn extrema<T: IntElem>(xs: &[T], mask: Option<&[u64]>) -> Option<(T, T)> {
    let first = (0..xs.len()).find(|&i| keep(mask, i))?;
    let (mut lo, mut hi) = (xs[first], xs[first]);
    match mask {
        None => {
            for &x in xs {
                lo = lo.min(x);
                hi = hi.max(x);
            }
        }
        Some(_) => {
            for (i, &x) in xs.iter().enumerate() {
                let k = keep(mask, i);
                lo = if k && x < lo { x } else { lo };
                hi = if k && x > hi { x } else { hi };
            }
        }
    }
    Some((lo, hi))
}

impl Default for IntDescribe {
    fn default() -> Self {
        IntDescribe {
            null_count: 0,
            min: i128::MAX,
            max: i128::MIN,
            sum: 0,
            moments: Moments::default(),
            shift: 0,
            sum_sq: Wide::default(),
        }
    }
}

#[inline(always)]
fn keep(mask: Option<&[u64]>, i: usize) -> bool {
    mask.is_none_or(|m| (m[i / 64] >> (i % 64)) & 1 == 1)
}

/// Splits an integer shift into a double-double `(hi, lo)` with `hi + lo == shift` exactly.
fn split_shift(shift: i128) -> (f64, f64) {
    let hi = shift as f64;
    (hi, (shift - hi as i128) as f64)
}

impl IntDescribe {
    pub fn update<T: IntElem>(&mut self, chunk: ColumnChunk<'_, T>) {
        self.null_count += chunk.null_count() as u64;
        let mut deltas = vec![0.0f64; INT_BLOCK.min(chunk.values.len())];
        // The means of the last two blocks: the next block's mean is guessed by extrapolating them, which is
        // exact for sorted ids and within noise of the running mean for stationary data.
        let (mut before, mut last) = (None, None);
        for (b, block) in chunk.values.chunks(INT_BLOCK).enumerate() {
            let mask = chunk.validity.map(|v| {
                let start = b * WORDS_PER_BLOCK;
                &v[start..(start + WORDS_PER_BLOCK).min(v.len())]
            });
            let guess = match (before, last) {
                (Some(a), Some(b)) => b + (b - a),
                (None, Some(b)) => b,
                _ => self.moments.mean_rel,
            };
            if let Some(mean) = self.update_block(block, mask, &mut deltas[..block.len()], guess) {
                (before, last) = (last, Some(mean));
            }
        }
    }

    /// Folds one block in; `guess` is where its mean (relative to the shift) is expected. Returns the block's
    /// mean relative to the shift where its values are narrow enough to have one exactly.
    fn update_block<T: IntElem>(
        &mut self,
        xs: &[T],
        mask: Option<&[u64]>,
        deltas: &mut [f64],
        guess: f64,
    ) -> Option<f64> {
        if self.moments.n == 0 {
            let first = (0..xs.len()).find(|&i| keep(mask, i))?;
            self.shift = xs[first].to_i128();
            let (hi, lo) = split_shift(self.shift);
            self.moments = Moments::with_shift(hi, lo);
        }
        let n = lanes::count_kept(xs.len(), mask);
        if n == 0 {
            return None;
        }
        let (sum_d, at_guess) = match self.tiny_block_simd(xs, mask, deltas, guess) {
            Some(b) => {
                self.min = self.min.min(b.lo.into());
                self.max = self.max.max(b.hi.into());
                self.add_block_sums(n, b.sum, b.sq.into());
                (Some(b.sum), Some((b.sums, b.sq_lo)))
            }
            None => (self.portable_block(xs, mask, deltas), None),
        };
        // Null slots hold delta 0, the shift itself: the moment kernels take them back out.
        let fills = xs.len() as u64 - n;
        let Some(sum_d) = sum_d else {
            self.moments.add_block(&block_moments(deltas, 0.0, self.moments.mean_rel, n, fills).0);
            return None;
        };
        let mean = sum_d as f64 / n as f64;
        let sums = at_guess.unwrap_or_else(|| lanes::power_sums_as::<false>(deltas, 0.0, guess));
        let block = if center_is_close(remove_fills(sums.0, guess, fills), n) {
            block_from_sums(sums, guess, n, fills)
        } else {
            // A second pass around the block's mean, known from its exact Σd.
            block_from_sums(lanes::power_sums_as::<false>(deltas, 0.0, mean), mean, n, fills)
        };
        self.moments.add_block(&block);
        Some(mean)
    }

    /// The one-read AVX2 pass for int64 and int32 blocks whose deviations from the shift stay below 2^25
    /// (`int_block_avx2.rs`); `None` where it does not apply, and the portable path runs instead.
    #[allow(unused_variables)]
    fn tiny_block_simd<T: IntElem>(
        &self,
        xs: &[T],
        mask: Option<&[u64]>,
        deltas: &mut [f64],
        guess: f64,
    ) -> Option<TinyBlock> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            let shift = i64::try_from(self.shift).ok()?;
            let b = match T::signed_view(xs) {
                // SAFETY: the CPU supports AVX2 (checked just above); `deltas` has a slot per value and the
                // mask a bit per value (the block's slices, cut together by `update`).
                SignedView::I64(v) => unsafe { super::int_block_avx2::tiny_i64(v, mask, shift, guess, deltas) },
                // SAFETY: as above.
                SignedView::I32(v) => unsafe { super::int_block_avx2::tiny_i32(v, mask, shift, guess, deltas) },
                SignedView::Other => return None,
            };
            let spread = (i128::from(b.hi) - self.shift).max(self.shift - i128::from(b.lo));
            return (spread < 1 << 25).then_some(b);
        }
        None
    }

    /// Extrema, sums and deltas of a block in portable code, for every spread; returns Σd where the block's
    /// spread keeps it in an i64 (below 2^50), `None` for wider blocks.
    fn portable_block<T: IntElem>(&mut self, xs: &[T], mask: Option<&[u64]>, deltas: &mut [f64]) -> Option<i64> {
        let (lo, hi) = extrema(xs, mask)?;
        let (lo, hi) = (lo.to_i128(), hi.to_i128());
        self.min = self.min.min(lo);
        self.max = self.max.max(hi);
        // Deviations below 2^50 make i64 arithmetic exact and every delta an exact f64, and 4096 of them
        // sum without overflow: the fast path for any realistic column. How Σd² is accumulated depends on
        // the spread (see the tiers). Wider blocks take i128 per value.
        let spread = (hi - self.shift).max(self.shift - lo);
        if spread < 1 << 25 {
            Some(self.narrow_deltas::<T, Tiny>(xs, mask, deltas))
        } else if spread < 1 << 32 {
            Some(self.narrow_deltas::<T, Small>(xs, mask, deltas))
        } else if spread < 1 << 50 {
            Some(self.narrow_deltas::<T, Narrow>(xs, mask, deltas))
        } else {
            self.wide_deltas(xs, mask, deltas);
            None
        }
    }

    /// Deltas, Σd and Σd² in integers; returns Σd. Every slot is converted (null
    /// slots hold arbitrary values: wrapping arithmetic keeps that harmless), then null slots are taken
    /// back out with the same wrapping expressions, so the main loop has no per-value branch. `S` is the
    /// tier of the block's spread, which decides how Σd² is accumulated.
    fn narrow_deltas<T: IntElem, S: Squares>(&mut self, xs: &[T], mask: Option<&[u64]>, deltas: &mut [f64]) -> i64 {
        let shift = self.shift as i64;
        let shift_f64 = shift as f64;
        let (mut sum, mut sq) = (0i64, S::default());
        for (&x, d) in xs.iter().zip(deltas.iter_mut()) {
            *d = x.delta_f64(shift, shift_f64);
            let di = x.to_i64_wrapping().wrapping_sub(shift);
            sum = sum.wrapping_add(di);
            sq = sq.plus(di);
        }
        if let Some(mask) = mask {
            for (w, &word) in mask.iter().enumerate() {
                let mut clear = !word;
                while clear != 0 {
                    let i = w * 64 + clear.trailing_zeros() as usize;
                    clear &= clear - 1;
                    if let (Some(x), Some(d)) = (xs.get(i), deltas.get_mut(i)) {
                        let di = x.to_i64_wrapping().wrapping_sub(shift);
                        sum = sum.wrapping_sub(di);
                        sq = sq.minus(di);
                        *d = 0.0;
                    }
                }
            }
        }
        let n = lanes::count_kept(xs.len(), mask);
        self.add_block_sums(n, sum, sq.total());
        sum
    }

    /// Adds a block's Σx (= n·s + Σd) and Σx² (= n·s² + 2·s·Σd + Σd²); |s| <= 2^64 and |Σd| < 2^62, so
    /// the middle term fits i128.
    fn add_block_sums(&mut self, n: u64, sum_d: i64, sum_d2: u128) {
        self.sum += sum_d as i128 + n as i128 * self.shift;
        let s = self.shift.unsigned_abs();
        self.sum_sq.add_mul(s * s, n);
        self.sum_sq.add_i128(2 * self.shift * sum_d as i128);
        self.sum_sq.add_u128(sum_d2);
    }

    /// Deltas and sum in i128, for blocks spread over more than 2^50.
    fn wide_deltas<T: IntElem>(&mut self, xs: &[T], mask: Option<&[u64]>, deltas: &mut [f64]) {
        for (i, (&x, d)) in xs.iter().zip(deltas.iter_mut()).enumerate() {
            let v = x.to_i128();
            *d = 0.0;
            if keep(mask, i) {
                *d = (v - self.shift) as f64;
                self.sum += v;
                let a = v.unsigned_abs();
                self.sum_sq.add_u128(a * a);
            }
        }
    }

    fn variance_ratio(&self, ddof: u64) -> Option<(BigUint, BigUint)> {
        variance_ratio(self.moments.n, self.sum, &self.sum_sq, ddof)
    }

    fn exact_mean(&self) -> f64 {
        exact_mean(self.sum, self.moments.n)
    }
}

/// The variance of `n` integers with exact sum `sum` and exact sum of squares `sum_sq` as an exact ratio
/// `(n·Σx² − (Σx)²) / (n·(n − ddof))`, or `None` when `n <= ddof`. Shared with the group-by accumulators.
pub(crate) fn variance_ratio(n: u64, sum: i128, sum_sq: &Wide, ddof: u64) -> Option<(BigUint, BigUint)> {
    if n <= ddof {
        return None;
    }
    let num = BigInt::from(n) * BigInt::from(sum_sq.to_biguint()) - BigInt::from(sum).pow(2);
    // Non-negative by Cauchy–Schwarz; `to_biguint` fails only on a negative (corrupt) state.
    let num = num.to_biguint().unwrap_or_default();
    Some((num, BigUint::from(n) * BigUint::from(n - ddof)))
}

/// The exact mean `sum / n`, correctly rounded: the i128 sum splits into three exactly representable
/// doubles whose exact sum the [`ExactSum`] divides with one rounding. Shared with the group-by accumulators.
pub(crate) fn exact_mean(sum: i128, n: u64) -> f64 {
    let mut exact = ExactSum::default();
    let (high, mid, low) = (sum >> 84, (sum >> 42) & ((1 << 42) - 1), sum & ((1 << 42) - 1));
    exact.add(high as f64 * 2f64.powi(84));
    exact.add(mid as f64 * 2f64.powi(42));
    exact.add(low as f64);
    exact.div_to_f64(n)
}

impl Partial for IntDescribe {
    fn merge(&mut self, other: &Self) {
        self.null_count += other.null_count;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.sum += other.sum;
        self.sum_sq.add(&other.sum_sq);
        if self.moments.n == 0 {
            self.shift = other.shift;
        }
        self.moments.merge(&other.moments);
    }

    fn finish(&self, options: &FinishOptions) -> Summary {
        let m = &self.moments;
        let mut out =
            Summary { count: m.n, null_count: self.null_count, sum: Some(Value::Int(self.sum)), ..Summary::default() };
        if m.n == 0 {
            return out;
        }
        out.min = Some(Value::Int(self.min));
        out.max = Some(Value::Int(self.max));
        out.mean = Some(self.exact_mean());
        if let Some((num, den)) = self.variance_ratio(options.ddof) {
            out.var = Some(exact_ratio::ratio_to_f64(&num, &den));
            out.std = Some(exact_ratio::sqrt_ratio_to_f64(&num, &den));
        }
        out.skewness = m.skewness();
        out.kurtosis = m.kurtosis();
        out
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    /// A state that already holds `shift` (as every state does after its first value).
    fn holding(shift: i128) -> IntDescribe {
        let (hi, lo) = split_shift(shift);
        IntDescribe { shift, min: shift, max: shift, moments: Moments::with_shift(hi, lo), ..Default::default() }
    }

    fn both_paths<T: IntElem>(xs: &[T], mask: Option<&[u64]>, shift: i128) -> Option<(IntDescribe, IntDescribe)> {
        if lanes::count_kept(xs.len(), mask) == 0 {
            return None; // `update_block` returns before either path
        }
        let (mut simd, mut portable) = (holding(shift), holding(shift));
        let (mut d_simd, mut d_portable) = (vec![f64::NAN; xs.len()], vec![f64::NAN; xs.len()]);
        let guess = 3.5;
        let b = simd.tiny_block_simd(xs, mask, &mut d_simd, guess)?;
        simd.min = simd.min.min(b.lo.into());
        simd.max = simd.max.max(b.hi.into());
        simd.add_block_sums(lanes::count_kept(xs.len(), mask), b.sum, b.sq.into());
        let sum_d = portable.portable_block(xs, mask, &mut d_portable);
        assert_eq!(sum_d, Some(b.sum));
        let bits = |d: &[f64]| d.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&d_simd), bits(&d_portable), "deltas");
        let (sums, sq_lo) = lanes::power_sums_as::<false>(&d_portable, 0.0, guess);
        assert_eq!((bits(&b.sums), b.sq_lo.to_bits()), (bits(&sums), sq_lo.to_bits()), "power sums at the guess");
        Some((simd, portable))
    }

    #[test]
    fn the_avx2_block_pass_equals_the_portable_pass() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            eprintln!("no AVX2 on this CPU: only the portable path runs here");
            return;
        }
        let mut next = super::super::test_rng(0x2545_F491_4F6C_DD1D);
        let mut checked = 0;
        for round in 0..600 {
            let len = [1usize, 3, 4, 5, 63, 64, 65, 1000, BLOCK][round % 9];
            // Spreads inside the vector pass's limit, at it, and beyond (where it must step aside).
            let spread = [10i64, 1 << 20, (1 << 25) - 1, 1 << 25, 1 << 40][round / 9 % 5];
            let base = [0i64, -1_000_000_000, i64::MAX - (1 << 41), i64::MIN + (1 << 41)][round % 4];
            let mut mask: Vec<u64> = (0..len.div_ceil(64)).map(|_| next() | next()).collect();
            if !len.is_multiple_of(64) {
                // Bits past the values are zero, as in every validity word the engine makes.
                *mask.last_mut().unwrap() &= (1 << (len % 64)) - 1;
            }
            let mask = (round % 3 != 0).then_some(&mask[..]);
            let wide: Vec<i64> = (0..len).map(|_| base + (next() % (2 * spread as u64 + 1)) as i64 - spread).collect();
            let shift = i128::from(wide[0]);
            let kept_spread = (0..len).filter(|&i| keep(mask, i)).map(|i| (i128::from(wide[i]) - shift).abs()).max();
            if let Some((simd, portable)) = both_paths(&wide, mask, shift) {
                assert!(kept_spread < Some(1 << 25), "round {round}: the vector pass took a spread of {kept_spread:?}");
                assert_eq!(simd, portable, "i64, round {round}");
                checked += 1;
            }
            let narrow: Vec<i32> = wide.iter().map(|&x| (x - base) as i32).collect();
            if let Some((simd, portable)) = both_paths(&narrow, mask, i128::from(narrow[0])) {
                assert_eq!(simd, portable, "i32, round {round}");
                checked += 1;
            }
        }
        assert!(checked > 500, "only {checked} blocks took the vector pass");
    }
}
