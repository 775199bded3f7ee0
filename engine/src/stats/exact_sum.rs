//! Exact sum of `f64` values: the state behind the correctly rounded `sum` and `mean` of floats (the default;
//! `--compensated` does without).
//!
//! [`ExactSum`] owns the arithmetic only: it keeps the *exact* real sum of every finite value it is given,
//! counts the infinities apart, merges with another state without any rounding, and rounds once, correctly
//! (to nearest, ties to even), when asked for [`ExactSum::to_f64`] or the mean [`ExactSum::div_to_f64`].
//! It does not own nulls, NaN or counting rows: the caller excludes NaN (it goes to `nan_count`) and nulls.
//!
//! # Design
//! This is the "small superaccumulator" of R. M. Neal, *Fast exact summation using small and large
//! superaccumulators*, arXiv:1505.05571 (2015), with 32-bit digits in 64-bit limbs. The sum is a two's
//! complement fixed-point integer whose least significant bit weighs 2^-1074, the smallest subnormal, so
//! every finite `f64` is an integer in these units:
//!
//! ```text
//!   x = ±m · 2^p · 2^-1074      m < 2^53 (integer significand), p = 0..=2045
//!   ±m · 2^(p % 32) = d0 + d1 · 2^32 + r · 2^64,   d0, d1 in [0, 2^32),  r in [-2^20, 2^20)
//!   limbs:    [ 0 ][ 1 ] ... [ p/32 ][ p/32+1 ][ p/32+2 ] ... [ 65 ][ 66 ][ 67 ]    limb i weighs 2^(32·i)
//!                                += d0     += d1     += r            carries only
//! ```
//!
//! A limb holds one digit in `[0, 2^32)` when normalised and has 31 spare bits, so it absorbs
//! `NORMALISE_EVERY` (about 2^31) additions before one carry-propagation pass ("normalise") is due: the hot
//! loop is a multiply and three adds per value, with no per-value branch. Finite values reach bit 2097; two more
//! limbs of carries make the sum exact while its magnitude is below 2^1101, over 2^77 times `f64::MAX`
//! (beyond that the state wraps modulo 2^1102, which needs more than 2^77 additions).
//!
//! Equality and the serialised form are canonical: both look at the normalised value (sign, magnitude and
//! the two infinity counts), so states that hold the same exact sum compare equal and encode to the same
//! bytes whatever the order of additions and merges; `merge` is exactly associative and commutative.
//!
//! # Why written by hand
//! The `xsum` crate (a port of Neal's code) was found by the project to return wrong sums, and `accurate`
//! cannot be serialised; neither offers a canonical, compact encoding, an exact merge, or a correctly
//! rounded division for the mean. The whole algorithm is a few hundred lines of safe integer code, tested
//! below against `num-bigint`.

use serde::{Deserialize, Serialize};

/// Bits of one digit: each 64-bit limb holds one digit plus headroom for unpropagated carries.
const DIGIT_BITS: u32 = 32;
const DIGIT_MASK: i64 = (1 << DIGIT_BITS) - 1;
/// Limbs of the accumulator: finite values land in limbs 0..=65 (bits 0..=2097), 66 and 67 take carries.
const LIMBS: usize = 68;
/// Additions between two normalisations. One addition changes a limb by at most `2^32 - 1` up or `2^20`
/// down (see [`deposit`]), so after `k` additions into a normalised state a limb lies in
/// `[-k·2^20, (k+1)·(2^32-1)]`; the carry pass adds less than 2^31 to that, which stays below 2^63 for
/// every `k <= 2^31 - 2`.
const NORMALISE_EVERY: u32 = (1 << 31) - 2;
/// Accumulator arrays in the hot loop (see `ExactSum::add_block`).
const LANES: usize = 4;
/// Values per pass of the hot loop: 8 KiB, well inside L1.
const PIECE: usize = 1024;
/// `POW2[s] = 2^s`: [`deposit`] multiplies by a table entry because on x86-64 a 64x64->128-bit multiply
/// costs fewer micro-ops than the variable 128-bit shift that `1 << s` compiles to.
const POW2: [i64; 32] = {
    let mut t = [0i64; 32];
    let mut i = 0;
    while i < 32 {
        t[i] = 1 << i;
        i += 1;
    }
    t
};
const FRAC_BITS: u32 = 52;
const FRAC_MASK: u64 = (1 << FRAC_BITS) - 1;
const EXP_MASK: u64 = 0x7FF;
const INF_BITS: u64 = EXP_MASK << FRAC_BITS;

/// Exact sum of f64 values: a fixed-point "superaccumulator" spanning the whole f64 range.
///
/// `==` is equality of the exact sums and of the infinity counts, and the serialised form is canonical
/// (see the module docs). `Debug` shows the raw, possibly not yet normalised, limbs.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(into = "Wire", try_from = "Wire")]
pub struct ExactSum {
    /// Two's complement fixed point, limb `i` weighs 2^(32·i - 1074). Normalised (canonical) when
    /// `pending == 0`: limbs below the top in `[0, 2^32)`, the top limb in `[-2^31, 2^31)`.
    limbs: [i64; LIMBS],
    /// Additions since the last normalisation; always below [`NORMALISE_EVERY`] between calls.
    pending: u32,
    /// How many `+inf` were added.
    pos_inf: u64,
    /// How many `-inf` were added.
    neg_inf: u64,
}

impl Default for ExactSum {
    /// The empty sum, which is zero and the identity of [`ExactSum::merge`].
    fn default() -> Self {
        Self { limbs: [0; LIMBS], pending: 0, pos_inf: 0, neg_inf: 0 }
    }
}

impl PartialEq for ExactSum {
    fn eq(&self, other: &Self) -> bool {
        self.pos_inf == other.pos_inf
            && self.neg_inf == other.neg_inf
            && self.normalised().limbs == other.normalised().limbs
    }
}

impl Eq for ExactSum {}

impl ExactSum {
    /// Adds `x`: finite values exactly, `±inf` counted apart. `x` must not be NaN (callers exclude it);
    /// in release builds a NaN makes the sum NaN, as if both infinities had been added.
    #[inline]
    pub fn add(&mut self, x: f64) {
        add_one(&mut self.limbs, &mut self.pos_inf, &mut self.neg_inf, x);
        self.pending += 1;
        if self.pending >= NORMALISE_EVERY {
            self.normalise();
        }
    }

    /// Adds every value of `xs`, with the same result as [`ExactSum::add`] on each: the hot loop.
    pub fn add_slice(&mut self, xs: &[f64]) {
        self.add_slice_normalising_every(xs, NORMALISE_EVERY);
    }

    /// [`ExactSum::add_slice`] with the normalisation budget as a parameter, so tests can cross it often.
    fn add_slice_normalising_every(&mut self, xs: &[f64], every: u32) {
        let every = every.clamp(1, NORMALISE_EVERY);
        let mut rest = xs;
        while !rest.is_empty() {
            let room = every.saturating_sub(self.pending) as usize;
            let (block, tail) = rest.split_at(room.min(rest.len()));
            self.add_block(block);
            // block.len() <= room = every - pending, so this neither truncates nor passes `every`.
            self.pending += block.len() as u32;
            if self.pending >= every {
                self.normalise();
            }
            rest = tail;
        }
    }

    /// Adds `block` without normalising; the caller accounts for its `block.len()` additions.
    fn add_block(&mut self, block: &[f64]) {
        // LANES accumulators: neighbouring values usually hit the same three limbs, and spreading them over
        // several arrays breaks the store-to-load dependency chain through those limbs. The lanes' sum keeps
        // the limb bound of `block.len()` additions, so adding the lanes back costs no extra budget.
        let mut lanes = [[0i64; LIMBS]; LANES - 1];
        let Self { limbs, pos_inf, neg_inf, .. } = self;
        for piece in block.chunks(PIECE) {
            // A quick pass that vectorises both finds out whether the piece is all finite (then the loop
            // skips the check per value) and pulls the piece into cache with many loads in flight, which the
            // long loop below cannot do by itself.
            if piece.iter().fold(true, |finite, x| finite & x.is_finite()) {
                add_piece::<false>(limbs, &mut lanes, pos_inf, neg_inf, piece);
            } else {
                add_piece::<true>(limbs, &mut lanes, pos_inf, neg_inf, piece);
            }
        }
        for lane in &lanes {
            for (limb, &l) in limbs.iter_mut().zip(lane) {
                *limb += l;
            }
        }
    }

    /// Adds the exact sum and the infinity counts of `other` to `self`.
    pub fn merge(&mut self, other: &ExactSum) {
        self.normalise();
        // Both normalised: limbs below the top in [0, 2^33), the top in [-2^32, 2^32): one carry pass.
        for (limb, o) in self.limbs.iter_mut().zip(other.normalised().limbs) {
            *limb += o;
        }
        self.normalise();
        self.pos_inf = self.pos_inf.saturating_add(other.pos_inf);
        self.neg_inf = self.neg_inf.saturating_add(other.neg_inf);
    }

    /// The exact sum correctly rounded to nearest, ties to even; beyond `f64::MAX` it is `±inf`. Added
    /// infinities win: `+inf` and `-inf` both give NaN, one kind gives that infinity. An exact zero is `+0.0`.
    pub fn to_f64(&self) -> f64 {
        if let Some(special) = self.special() {
            return special;
        }
        let (neg, mag) = self.sign_magnitude();
        round_to_f64(neg, &mag, 0, false)
    }

    /// The exact sum divided by `n`, correctly rounded to nearest, ties to even: an exact mean. `n == 0`
    /// gives NaN; infinities as in [`ExactSum::to_f64`]. A nonzero quotient that rounds to zero keeps its sign.
    pub fn div_to_f64(&self, n: u64) -> f64 {
        if n == 0 {
            return f64::NAN;
        }
        if let Some(special) = self.special() {
            return special;
        }
        let (neg, mag) = self.sign_magnitude();
        // Long division of mag·2^32 (one fraction digit, q[0]) by n, top digit first. The remainder
        // stays below n, so each step's dividend is below n·2^32 and its quotient digit fits 32 bits.
        let n = u128::from(n);
        let mut q = [0u32; LIMBS + 1];
        let mut rem = 0u128;
        for i in (0..=LIMBS).rev() {
            let digit = if i == 0 { 0 } else { mag[i - 1] };
            let cur = (rem << DIGIT_BITS) | u128::from(digit);
            q[i] = (cur / n) as u32;
            rem = cur % n;
        }
        round_to_f64(neg, &q, DIGIT_BITS, rem != 0)
    }

    /// True when no infinity was added and the finite values sum to exactly zero.
    pub fn is_zero(&self) -> bool {
        self.pos_inf == 0 && self.neg_inf == 0 && self.normalised().limbs == [0; LIMBS]
    }

    /// The result forced by added infinities, if any.
    fn special(&self) -> Option<f64> {
        match (self.pos_inf > 0, self.neg_inf > 0) {
            (true, true) => Some(f64::NAN),
            (true, false) => Some(f64::INFINITY),
            (false, true) => Some(f64::NEG_INFINITY),
            (false, false) => None,
        }
    }

    /// Propagates carries so that every limb holds one digit (the top limb a signed one).
    fn normalise(&mut self) {
        let mut carry = 0i64;
        for limb in &mut self.limbs[..LIMBS - 1] {
            let t = *limb + carry;
            *limb = t & DIGIT_MASK;
            carry = t >> DIGIT_BITS;
        }
        // The top limb only ever takes carries; keeping its low 32 bits, sign-extended, reduces the sum
        // modulo 2^(32·LIMBS), which is unreachable in practice (see the module docs) but never panics.
        let top = &mut self.limbs[LIMBS - 1];
        *top = i64::from((*top + carry) as i32);
        self.pending = 0;
    }

    fn normalised(&self) -> Self {
        let mut copy = self.clone();
        if copy.pending > 0 {
            copy.normalise();
        }
        copy
    }

    /// Sign and magnitude (little-endian 32-bit digits) of the finite sum; zero is positive.
    fn sign_magnitude(&self) -> (bool, [u32; LIMBS]) {
        let limbs = self.normalised().limbs;
        let neg = limbs[LIMBS - 1] < 0;
        let mut mag = [0u32; LIMBS];
        let mut carry = u64::from(neg); // negation is "invert and add one"
        for (m, &limb) in mag.iter_mut().zip(&limbs) {
            let digit = if neg { !(limb as u32) } else { limb as u32 };
            let t = u64::from(digit) + carry;
            *m = t as u32;
            carry = t >> DIGIT_BITS;
        }
        (neg, mag)
    }
}

/// Adds `piece`, spread over `limbs` and `lanes`; `SPECIALS` says whether it may hold infinities (or NaN).
#[inline(always)]
fn add_piece<const SPECIALS: bool>(
    limbs: &mut [i64; LIMBS],
    lanes: &mut [[i64; LIMBS]; LANES - 1],
    pos_inf: &mut u64,
    neg_inf: &mut u64,
    piece: &[f64],
) {
    let mut add = |limbs: &mut [i64; LIMBS], x: f64| {
        if SPECIALS {
            add_one(limbs, pos_inf, neg_inf, x);
        } else {
            deposit(limbs, x.to_bits());
        }
    };
    let mut groups = piece.chunks_exact(LANES);
    for group in &mut groups {
        add(limbs, group[0]);
        for (lane, &x) in lanes.iter_mut().zip(&group[1..]) {
            add(lane, x);
        }
    }
    for &x in groups.remainder() {
        add(limbs, x);
    }
}

/// Adds finite `x` exactly, or counts an infinity.
#[inline(always)]
fn add_one(limbs: &mut [i64; LIMBS], pos_inf: &mut u64, neg_inf: &mut u64, x: f64) {
    let bits = x.to_bits();
    if (bits >> FRAC_BITS) & EXP_MASK == EXP_MASK {
        count_special(pos_inf, neg_inf, x);
    } else {
        deposit(limbs, bits);
    }
}

#[cold]
fn count_special(pos_inf: &mut u64, neg_inf: &mut u64, x: f64) {
    debug_assert!(!x.is_nan(), "ExactSum: NaN must be excluded by the caller");
    if x > 0.0 || x.is_nan() {
        *pos_inf = pos_inf.saturating_add(1);
    }
    if x < 0.0 || x.is_nan() {
        *neg_inf = neg_inf.saturating_add(1);
    }
}

/// Adds the finite value with bits `bits` to `limbs`: its signed integer significand, shifted by its
/// exponent modulo 32, is cut into two unsigned 32-bit digits and a signed rest in `[-2^20, 2^20)`, which go
/// into three neighbouring limbs.
#[inline(always)]
fn deposit(limbs: &mut [i64; LIMBS], bits: u64) {
    let biased = (bits >> FRAC_BITS) & EXP_MASK;
    let normal = u64::from(biased != 0);
    let mant = (bits & FRAC_MASK) | (normal << FRAC_BITS);
    // Weight of the significand's last bit in units of 2^-1074: subnormals and the smallest normals share 0.
    let pos = biased - normal;
    let idx = (pos / 32) as usize & 63; // pos <= 2046, so the mask only tells the optimiser idx + 2 < LIMBS
    let neg = (bits as i64) >> 63; // 0 or -1
    let signed = (mant as i64 ^ neg) - neg;
    // |signed| < 2^53, so the product fits 85 bits: wide = d0 + d1·2^32 + rest·2^64 with d0, d1 unsigned.
    let wide = i128::from(signed) * i128::from(POW2[(pos % 32) as usize]);
    limbs[idx] += i64::from(wide as u32);
    limbs[idx + 1] += i64::from((wide >> 32) as u32);
    limbs[idx + 2] += (wide >> 64) as i64;
}

/// Rounds `±mag · 2^-(1074 + frac_bits)`, plus "a little more" when `sticky`, to the nearest `f64`, ties to
/// even. `mag` is little-endian 32-bit digits.
fn round_to_f64(neg: bool, mag: &[u32], frac_bits: u32, sticky: bool) -> f64 {
    let sign = u64::from(neg) << 63;
    let Some(top) = mag.iter().rposition(|&d| d != 0) else {
        return f64::from_bits(sign); // a signed zero: below half the smallest subnormal
    };
    let width = top as u32 * DIGIT_BITS + (DIGIT_BITS - mag[top].leading_zeros());
    // The result's last significand bit, as a bit position of `mag`: 53 bits below the top, but never
    // finer than 2^-1074 (the subnormal range).
    let lsb = width.saturating_sub(53).max(frac_bits);
    let mant = bits_from(mag, lsb) & ((1 << 53) - 1);
    let (half, below) = match lsb.checked_sub(1) {
        Some(r) => (bits_from(mag, r) & 1 == 1, any_bit_below(mag, r)),
        None => (false, false),
    };
    let mant = mant + u64::from(half && (sticky || below || mant & 1 == 1));
    // With `e = lsb - frac_bits`, (e << 52) + mant is the f64 bit pattern: mant in [2^52, 2^53] carries the
    // implicit bit into the exponent field (so e is the biased exponent minus one), and for e == 0 a mant
    // below 2^52 is a subnormal. Rounding up to 2^53 moves to the next binade by itself.
    let e = u64::from(lsb - frac_bits);
    let bits = if e >= EXP_MASK { INF_BITS } else { ((e << FRAC_BITS) + mant).min(INF_BITS) };
    f64::from_bits(sign | bits)
}

/// The 64 bits of `mag` from bit `start` up (zeros past the end).
fn bits_from(mag: &[u32], start: u32) -> u64 {
    let i = (start / DIGIT_BITS) as usize;
    let digit = |k: usize| u128::from(mag.get(k).copied().unwrap_or(0));
    let window = digit(i) | digit(i + 1) << 32 | digit(i + 2) << 64;
    (window >> (start % DIGIT_BITS)) as u64
}

/// Whether any bit of `mag` below bit `pos` is set.
fn any_bit_below(mag: &[u32], pos: u32) -> bool {
    let i = (pos / DIGIT_BITS) as usize;
    let partial = mag.get(i).is_some_and(|&d| d & ((1u32 << (pos % DIGIT_BITS)) - 1) != 0);
    partial || mag.iter().take(i).any(|&d| d != 0)
}

/// The serialised form: sign and magnitude with the zero bytes at both ends cut off, so small sums take a
/// few bytes. Only the canonical encoding of a value is accepted back.
#[derive(Serialize, Deserialize)]
#[serde(rename = "ExactSum")]
struct Wire {
    /// The finite sum is negative (never set for zero).
    neg: bool,
    /// Zero bytes below `mag` (0 for zero).
    skip: u16,
    /// Little-endian magnitude bytes, first and last nonzero.
    mag: Vec<u8>,
    pos_inf: u64,
    neg_inf: u64,
}

impl From<ExactSum> for Wire {
    fn from(sum: ExactSum) -> Self {
        let (neg, mag) = sum.sign_magnitude();
        let bytes: Vec<u8> = mag.iter().flat_map(|d| d.to_le_bytes()).collect();
        let lo = bytes.iter().position(|&b| b != 0).unwrap_or(0);
        let hi = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        Wire {
            neg,
            skip: lo as u16, // lo < 4 · LIMBS
            mag: bytes[lo..hi].to_vec(),
            pos_inf: sum.pos_inf,
            neg_inf: sum.neg_inf,
        }
    }
}

impl TryFrom<Wire> for ExactSum {
    type Error = &'static str;

    fn try_from(wire: Wire) -> Result<Self, Self::Error> {
        const NOT_CANONICAL: &str = "ExactSum: not the canonical encoding of a sum";
        let start = usize::from(wire.skip);
        let canonical = match (wire.mag.first(), wire.mag.last()) {
            (Some(&first), Some(&last)) => first != 0 && last != 0 && start + wire.mag.len() <= 4 * LIMBS,
            _ => !wire.neg && wire.skip == 0,
        };
        if !canonical {
            return Err(NOT_CANONICAL);
        }
        let mut digits = [0u32; LIMBS];
        for (k, &byte) in wire.mag.iter().enumerate() {
            let at = start + k;
            digits[at / 4] |= u32::from(byte) << (8 * (at % 4));
        }
        let mut limbs = [0i64; LIMBS];
        let mut carry = u64::from(wire.neg); // two's complement of the magnitude: invert and add one
        for (limb, &d) in limbs.iter_mut().zip(&digits) {
            let t = u64::from(if wire.neg { !d } else { d }) + carry;
            *limb = i64::from(t as u32);
            carry = t >> DIGIT_BITS;
        }
        let top = i64::from(limbs[LIMBS - 1] as u32 as i32);
        if (top < 0) != wire.neg {
            return Err(NOT_CANONICAL); // the magnitude is out of range
        }
        limbs[LIMBS - 1] = top;
        Ok(ExactSum { limbs, pending: 0, pos_inf: wire.pos_inf, neg_inf: wire.neg_inf })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigInt;
    use std::cmp::Ordering;

    /// Exact value of a finite (or infinite: 2^1024) `f64` in units of 2^-1074, from the IEEE 754 textbook
    /// formula: (-1)^s · 1.frac · 2^(e - 1023) for normals, (-1)^s · 0.frac · 2^-1022 for subnormals.
    fn exact(x: f64) -> BigInt {
        let bits = x.to_bits();
        let (e, frac) = ((bits >> 52) & 0x7FF, bits & ((1 << 52) - 1));
        // units of 2^-1074: significand · 2^(exponent - 52 + 1074)
        let mag = if e == 0 {
            BigInt::from(frac) // frac · 2^(-1022 - 52 + 1074)
        } else {
            BigInt::from(frac + (1 << 52)) << (e as usize + 1074 - 1023 - 52)
        };
        if x.is_sign_negative() { -mag } else { mag }
    }

    fn exact_sum(xs: &[f64]) -> BigInt {
        xs.iter().fold(BigInt::from(0), |acc, &x| acc + exact(x))
    }

    /// `num / (n · 2^1074)` rounded to nearest, ties to even, found by binary search over the ordered
    /// bit patterns of the non-negative doubles (the +inf pattern stands for 2^1024, where rounding
    /// overflows) and one exact midpoint comparison.
    fn reference_round(num: &BigInt, n: u64) -> f64 {
        let (neg, v) = (*num < BigInt::from(0), if *num < BigInt::from(0) { -num } else { num.clone() });
        let n = BigInt::from(n);
        let (mut lo, mut hi) = (0u64, INF_BITS); // exact(lo)·n <= v throughout
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if exact(f64::from_bits(mid)) * &n <= v {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        let below = exact(f64::from_bits(lo)) * &n;
        let bits = if lo == INF_BITS || below == v {
            lo
        } else {
            let above = exact(f64::from_bits(lo + 1)) * &n;
            match (BigInt::from(2) * &v).cmp(&(below + above)) {
                Ordering::Less => lo,
                Ordering::Greater => lo + 1,
                Ordering::Equal => lo + (lo & 1),
            }
        };
        let x = f64::from_bits(bits);
        if neg { -x } else { x }
    }

    fn sum_of(xs: &[f64]) -> ExactSum {
        let mut s = ExactSum::default();
        s.add_slice(xs);
        s
    }

    /// Compares bit patterns, so that -0.0 != 0.0 and NaN == NaN.
    fn assert_same(got: f64, want: f64, what: &str) {
        assert!(
            got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
            "{what}: got {got:e}, want {want:e}"
        );
    }

    /// Checks `to_f64` and a few means of `xs` against the reference, adding one by one and by slice.
    fn check(xs: &[f64]) {
        let (s, num) = (sum_of(xs), exact_sum(xs));
        let mut one_by_one = ExactSum::default();
        xs.iter().for_each(|&x| one_by_one.add(x));
        assert_eq!(s, one_by_one);
        assert_same(s.to_f64(), reference_round(&num, 1), &format!("sum of {xs:?}"));
        for n in [1, 2, 3, 10, xs.len().max(1) as u64, 1 << 40, u64::MAX] {
            assert_same(s.div_to_f64(n), reference_round(&num, n), &format!("sum/{n} of {xs:?}"));
        }
    }

    /// xorshift64* (Vigna), enough to spread test values; no extra crate.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        /// A finite value: any bit pattern, or one of a few nearby binades (carries and cancellation),
        /// or a subnormal, or a negated earlier value.
        fn value(&mut self, centre: u64, earlier: &[f64]) -> f64 {
            let sign = self.next() & (1 << 63);
            let bits = match self.below(6) {
                0 | 1 => self.next() & !(1 << 63),
                2 | 3 => ((centre + self.below(70)).min(2046) << 52) | (self.next() & FRAC_MASK),
                4 => self.next() & FRAC_MASK,
                _ => return earlier.last().map_or(0.0, |x| -x),
            };
            let x = f64::from_bits(sign | bits);
            if x.is_finite() { x } else { 1.0 }
        }
        fn vec(&mut self, len: usize) -> Vec<f64> {
            let centre = self.below(1990);
            let mut xs = Vec::with_capacity(len);
            for _ in 0..len {
                let x = self.value(centre, &xs);
                xs.push(x);
            }
            xs
        }
    }

    #[test]
    fn reference_decoding_is_sound() {
        assert_eq!(exact(1.0), BigInt::from(1) << 1074);
        assert_eq!(exact(-5e-324), BigInt::from(-1));
        assert_eq!(exact(f64::MAX), BigInt::from((1u64 << 53) - 1) << (971 + 1074));
        assert_eq!(exact(f64::MIN_POSITIVE), BigInt::from(1) << 52);
        assert_same(reference_round(&(BigInt::from(3) << 1072), 1), 0.75, "0.75");
        assert_same(reference_round(&BigInt::from(1), 2), 0.0, "half the smallest subnormal");
    }

    #[test]
    fn empty_sum_is_zero() {
        let s = ExactSum::default();
        assert!(s.is_zero());
        assert_same(s.to_f64(), 0.0, "empty");
        assert_same(s.div_to_f64(7), 0.0, "empty mean");
        assert!(s.div_to_f64(0).is_nan());
        assert!(sum_of(&[1.5]).div_to_f64(0).is_nan());
        assert!(sum_of(&[0.0, -0.0, 2.5, -2.5]).is_zero());
        assert!(!sum_of(&[5e-324]).is_zero());
    }

    #[test]
    fn cancellation_is_exact() {
        assert_same(sum_of(&[1e308, 1.0, -1e308]).to_f64(), 1.0, "1e308");
        assert_same(sum_of(&[1e16, 1.0, -1e16]).to_f64(), 1.0, "1e16");
        assert_same(sum_of(&[f64::MAX, 5e-324, -f64::MAX]).to_f64(), 5e-324, "extremes");
        assert_same(
            sum_of(&[0.1, 0.2, -0.3]).to_f64(),
            reference_round(&exact_sum(&[0.1, 0.2, -0.3]), 1),
            "0.1+0.2-0.3",
        );
        check(&[1e308, 1.0, -1e308]);
        check(&[-1e16, 1.0, 1e16, -3.0]);
    }

    #[test]
    fn subnormals() {
        let tiny = 5e-324;
        assert_same(sum_of(&[tiny; 3]).to_f64(), 1.5e-323, "3 ulps");
        assert_same(sum_of(&[-tiny; 1000]).to_f64(), -1000.0 * tiny, "1000 ulps");
        assert_same(sum_of(&[f64::MIN_POSITIVE, -tiny]).to_f64(), f64::MIN_POSITIVE - tiny, "largest subnormal");
        check(&[tiny, tiny, 2.2e-308, -1e-310, 1e-300]);
        check(&[tiny; 7]);
    }

    #[test]
    fn ties_go_to_even() {
        let two53 = 9_007_199_254_740_992.0;
        assert_same(sum_of(&[two53, 1.0]).to_f64(), two53, "2^53+1 -> 2^53");
        assert_same(sum_of(&[two53, 3.0]).to_f64(), two53 + 4.0, "2^53+3 -> 2^53+4");
        assert_same(sum_of(&[two53, 1.0, 5e-324]).to_f64(), two53 + 2.0, "just above a tie");
        assert_same(sum_of(&[two53, 1.0, -5e-324]).to_f64(), two53, "just below a tie");
        assert_same(sum_of(&[5e-324]).div_to_f64(2), 0.0, "half an ulp -> 0");
        assert_same(sum_of(&[-5e-324]).div_to_f64(2), -0.0, "minus half an ulp -> -0");
        assert_same(sum_of(&[1.5e-323]).div_to_f64(2), 1e-323, "1.5 ulps -> 2 ulps");
        assert_same(sum_of(&[1.0, 2f64.powi(-53)]).to_f64(), 1.0, "1 + half ulp -> 1");
        assert_same(sum_of(&[1.0, 2f64.powi(-52), 2f64.powi(-53)]).to_f64(), 1.0 + 2f64.powi(-51), "odd + half ulp");
        for xs in [&[two53, 1.0][..], &[two53, 3.0], &[1.0, 2f64.powi(-53)], &[-two53, -1.0, 5e-324]] {
            check(xs);
        }
    }

    /// Finite values that add up to `units` · 2^-1074 exactly: 52-bit pieces, each a double.
    fn from_units(units: &BigInt) -> Vec<f64> {
        let (neg, mut rest) = (*units < BigInt::from(0), if *units < BigInt::from(0) { -units } else { units.clone() });
        let mut xs = Vec::new();
        for i in 0.. {
            if rest == BigInt::from(0) {
                break;
            }
            let piece = u64::try_from(&rest & BigInt::from((1u64 << 52) - 1)).unwrap();
            rest >>= 52;
            // piece · 2^(52 i - 1074): a subnormal bit pattern for i == 0, else an exact normal product.
            let x = if i == 0 { f64::from_bits(piece) } else { piece as f64 * 2f64.powi(52 * i - 1074) };
            xs.push(if neg { -x } else { x });
        }
        xs
    }

    #[test]
    fn a_remainder_breaks_what_looks_like_a_tie() {
        // S / n = M + 1/2 + 1/(2n) in units of 2^(k - 1074): the quotient's fraction digit shows an exact
        // half and only the remainder tells that the true value is above it, so it rounds up to odd M + 1.
        let m = (1u64 << 53) - 2;
        for (n, k) in [(3u64, 0usize), ((1 << 40) + 1, 0), ((1 << 63) + 1, 20), (u64::MAX, 25)] {
            let units = (BigInt::from(n) * m + (BigInt::from(n) + 1) / 2) << k;
            let s = sum_of(&from_units(&units));
            let want = f64::from_bits(m + 1) * 2f64.powi(k as i32);
            assert_same(s.div_to_f64(n), want, &format!("n = {n}, k = {k}"));
            assert_same(reference_round(&units, n), want, "reference");
        }
        check(&from_units(&((BigInt::from(1) << 53) + 1)));
    }

    #[test]
    fn overflow_goes_to_infinity_and_comes_back() {
        let (max, half_ulp) = (f64::MAX, 2f64.powi(970));
        assert_same(sum_of(&[max, max]).to_f64(), f64::INFINITY, "2 MAX");
        assert_same(sum_of(&[-max, -max]).to_f64(), f64::NEG_INFINITY, "-2 MAX");
        assert_same(sum_of(&[max, max, -max]).to_f64(), max, "back to MAX");
        assert_same(sum_of(&[max, max]).div_to_f64(2), max, "mean of MAX");
        assert_same(sum_of(&[max, half_ulp]).to_f64(), f64::INFINITY, "MAX + half ulp ties to inf");
        assert_same(sum_of(&[max, half_ulp, -5e-324]).to_f64(), max, "just below the tie");
        check(&[max, half_ulp]);
        check(&[max, max, max, -max, 1.0]);
    }

    /// `2^k` copies of `x`, by merging a state with itself `k` times.
    fn doubled(x: f64, k: u32) -> ExactSum {
        let mut s = sum_of(&[x]);
        for _ in 0..k {
            let copy = s.clone();
            s.merge(&copy);
        }
        s
    }

    #[test]
    fn far_beyond_max_does_not_wrap() {
        assert_same(doubled(f64::MAX, 40).div_to_f64(1 << 40), f64::MAX, "2^40 MAX / 2^40");
        assert_same(doubled(-f64::MAX, 63).div_to_f64(1 << 63), -f64::MAX, "2^63 MAX / 2^63");
        let mut s = doubled(f64::MAX, 64);
        assert_same(s.to_f64(), f64::INFINITY, "2^64 MAX");
        assert_same(s.div_to_f64(1 << 63), f64::INFINITY, "2 MAX");
        assert_eq!(limb_value(&s), exact(f64::MAX) << 64);
        let back: ExactSum = postcard::from_bytes(&postcard::to_allocvec(&s).unwrap()).unwrap();
        assert_eq!(back, s);
        s.merge(&doubled(-f64::MAX, 64));
        assert!(s.is_zero());
        // The documented headroom: 2^76 MAX is still positive.
        let top = doubled(f64::MAX, 76);
        assert_eq!(limb_value(&top), exact(f64::MAX) << 76);
        assert_same(top.to_f64(), f64::INFINITY, "2^76 MAX");
        // Far beyond the headroom the state wraps modulo 2^2176 units, as documented, and never panics.
        let huge = doubled(f64::MAX, 200);
        assert!(huge.is_zero() && huge.div_to_f64(3) == 0.0);
        let mut wrapped = doubled(f64::from_bits(1 << 52), 2174 - 52); // 2^2174 units
        wrapped.merge(&wrapped.clone());
        assert_same(wrapped.to_f64(), f64::NEG_INFINITY, "2^2175 units wraps to -2^2175");
        wrapped.merge(&wrapped.clone());
        assert!(wrapped.is_zero());
    }

    #[test]
    fn infinities() {
        let (inf, nan) = (f64::INFINITY, f64::NAN);
        assert_same(sum_of(&[inf]).to_f64(), inf, "+inf");
        assert_same(sum_of(&[1.0, -inf, 1e308]).to_f64(), -inf, "-inf");
        assert_same(sum_of(&[inf, -inf]).to_f64(), nan, "both");
        assert_same(sum_of(&[inf, inf, -f64::MAX]).div_to_f64(3), inf, "mean with +inf");
        assert_same(sum_of(&[-inf]).div_to_f64(0), nan, "n == 0");
        let mut a = sum_of(&[inf, 1.0]);
        assert!(!a.is_zero());
        assert_ne!(a, sum_of(&[inf, inf, 1.0]));
        a.merge(&sum_of(&[-inf]));
        assert_same(a.to_f64(), nan, "merged");
        assert_eq!(a, sum_of(&[-inf, 1.0, inf]));
    }

    #[test]
    fn mean_of_tenths_is_correctly_rounded() {
        let xs = [0.1; 10];
        assert_same(sum_of(&xs).div_to_f64(10), 0.1, "mean");
        assert_same(sum_of(&xs).div_to_f64(10), reference_round(&exact_sum(&xs), 10), "mean vs reference");
        assert_same(sum_of(&xs).to_f64(), reference_round(&exact_sum(&xs), 1), "sum vs reference");
        assert_same(sum_of(&[1.0, 2.0]).div_to_f64(3), 1.0, "(1+2)/3");
        assert_same(sum_of(&[1.0]).div_to_f64(3), 1.0 / 3.0, "1/3");
    }

    #[test]
    fn random_sums_and_means_match_the_reference() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for round in 0..1000 {
            let len = [1, 2, 3, 5, 17, 64][round % 6];
            let xs = rng.vec(len);
            check(&xs);
            let n = (rng.next() >> rng.below(64)).max(1);
            assert_same(sum_of(&xs).div_to_f64(n), reference_round(&exact_sum(&xs), n), "random n");
        }
    }

    #[test]
    fn merge_law_and_associativity() {
        let mut rng = Rng(42);
        for _ in 0..200 {
            let len = rng.below(60) as usize;
            let xs = rng.vec(len);
            let (i, j) = {
                let (a, b) = (rng.below(len as u64 + 1) as usize, rng.below(len as u64 + 1) as usize);
                (a.min(b), a.max(b))
            };
            let whole = sum_of(&xs);
            let (a, b, c) = (sum_of(&xs[..i]), sum_of(&xs[i..j]), sum_of(&xs[j..]));
            let mut ab = a.clone();
            ab.merge(&b);
            let mut ab_c = ab.clone();
            ab_c.merge(&c);
            let mut bc = b.clone();
            bc.merge(&c);
            let mut a_bc = a.clone();
            a_bc.merge(&bc);
            let mut c_b_a = c.clone();
            c_b_a.merge(&b);
            c_b_a.merge(&a);
            assert_eq!(ab_c, whole);
            assert_eq!(a_bc, whole);
            assert_eq!(c_b_a, whole);
            let mut ab_slices = a.clone();
            ab_slices.add_slice(&xs[i..j]);
            assert_eq!(ab_slices, ab);
            let mut id = ExactSum::default();
            id.merge(&whole);
            assert_eq!(id, whole);
            id.merge(&ExactSum::default());
            assert_eq!(id, whole);
            let bytes = postcard::to_allocvec(&whole).unwrap();
            assert_eq!(postcard::to_allocvec(&a_bc).unwrap(), bytes);
            assert_eq!(postcard::to_allocvec(&c_b_a).unwrap(), bytes);
        }
    }

    #[test]
    fn postcard_round_trip_is_canonical_and_compact() {
        let mut rng = Rng(7);
        let mut cases = vec![vec![], vec![1.0], vec![-1.0], vec![f64::INFINITY, -2.5], vec![-f64::MAX; 3]];
        cases.extend((0..50).map(|k| rng.vec(k)));
        for xs in cases {
            let s = sum_of(&xs);
            let bytes = postcard::to_allocvec(&s).unwrap();
            let back: ExactSum = postcard::from_bytes(&bytes).unwrap();
            assert_eq!(back, s);
            assert_same(back.to_f64(), s.to_f64(), "round trip");
            assert_eq!(postcard::to_allocvec(&back).unwrap(), bytes);
        }
        assert!(postcard::to_allocvec(&sum_of(&[1.0; 100])).unwrap().len() < 10);
        assert!(postcard::to_allocvec(&ExactSum::default()).unwrap().len() <= 5);
        // Non-canonical or out-of-range encodings are errors, not panics or other values.
        let wire = |neg, skip, mag: Vec<u8>| Wire { neg, skip, mag, pos_inf: 0, neg_inf: 0 };
        for bad in [
            wire(true, 0, vec![]),
            wire(false, 3, vec![]),
            wire(false, 0, vec![1, 0]),
            wire(false, 0, vec![0, 1]),
            wire(false, 270, vec![1, 1, 1]),
            wire(false, u16::MAX, vec![1]),
            wire(false, 268, vec![1, 0, 0, 0x80]),
            wire(false, 271, vec![0x80]),
            wire(true, 268, vec![1, 0, 0, 0x80]),
        ] {
            let bytes = postcard::to_allocvec(&bad).unwrap();
            assert!(postcard::from_bytes::<ExactSum>(&bytes).is_err());
        }
        // The most negative value, -2^2175 units, is representable and round-trips.
        let min: ExactSum =
            postcard::from_bytes(&postcard::to_allocvec(&wire(true, 271, vec![0x80])).unwrap()).unwrap();
        assert_same(min.to_f64(), f64::NEG_INFINITY, "most negative");
    }

    /// Value of the raw limbs, normalised or not: sum of limb_i · 2^(32 i).
    fn limb_value(s: &ExactSum) -> BigInt {
        s.limbs.iter().enumerate().fold(BigInt::from(0), |acc, (i, &l)| acc + (BigInt::from(l) << (32 * i)))
    }

    fn assert_canonical(s: &ExactSum) {
        assert_eq!(s.pending, 0);
        assert!(s.limbs[..LIMBS - 1].iter().all(|&l| (0..1 << 32).contains(&l)));
        assert!((-(1 << 31)..1 << 31).contains(&s.limbs[LIMBS - 1]));
    }

    #[test]
    fn limbs_absorb_the_whole_normalisation_budget() {
        // The real NORMALISE_EVERY: every limb that takes deposits starts at the largest (then smallest) value
        // NORMALISE_EVERY - 1 additions into a normalised state can reach; one more addition of the largest
        // significand triggers the carry pass. Overflow would panic here (tests build with overflow checks).
        let d = (1i64 << 32) - 1;
        for sign in [1.0, -1.0] {
            let mut s = ExactSum::default();
            let k = i64::from(NORMALISE_EVERY - 1);
            for limb in &mut s.limbs[..66] {
                *limb = if sign > 0.0 { (k + 1) * d } else { -k * d };
            }
            s.pending = NORMALISE_EVERY - 1;
            let x = sign * f64::from_bits(0x7FE0_FFFF_FFFF_FFFF); // biased exponent 2046: limb 63, shift 29
            let want = limb_value(&s) + exact(x);
            s.add(x);
            assert_canonical(&s);
            assert_eq!(limb_value(&s), want);
            assert_same(s.to_f64(), reference_round(&want, 1), "after the budget");
        }
    }

    #[test]
    fn normalising_mid_slice_changes_nothing() {
        let mut rng = Rng(99);
        for every in [1, 2, 3, 7, 64] {
            let xs = rng.vec(300);
            let mut s = ExactSum::default();
            s.add_slice_normalising_every(&xs, every);
            assert!(s.pending < every);
            assert_eq!(limb_value(&s), exact_sum(&xs));
            assert_eq!(s, sum_of(&xs));
            assert_same(s.to_f64(), reference_round(&exact_sum(&xs), 1), "small budget");
        }
        let mut s = sum_of(&[1.0, 2.0]);
        s.merge(&sum_of(&[3.0]));
        assert_canonical(&s);
    }

    #[test]
    fn long_slices_cross_pieces_and_lanes() {
        let mut rng = Rng(2024);
        let mut xs = rng.vec(3 * PIECE + 5);
        check(&xs);
        xs[PIECE + 7] = f64::INFINITY;
        let mut one_by_one = ExactSum::default();
        xs.iter().for_each(|&x| one_by_one.add(x));
        let s = sum_of(&xs);
        assert_eq!(s, one_by_one);
        assert_same(s.to_f64(), f64::INFINITY, "one +inf among finite values");
        xs[PIECE + 7] = 0.0;
        let mut without = sum_of(&xs);
        assert_ne!(without, s);
        without.add(f64::INFINITY);
        assert_eq!(without, s);
    }
}
