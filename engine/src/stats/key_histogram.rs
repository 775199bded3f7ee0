//! [`KeyHistogram`]: counts of values by the top `bits` bits of their order key, plus the smallest and
//! largest key, NaN and null counts. The first pass of an exact quantile (which bucket holds each wanted
//! rank) and, with more bits, the whole approximate quantile sketch (see `select/sketch.rs`).
//!
//! Counts are integers and min/max are order-free, so merging is exact and the merged state does not
//! depend on the merge order. The table is dense while counting (one increment per value, no search) and
//! travels sparse: only non-zero buckets are serialised, so a partial is small whatever `bits` is.

use serde::{Deserialize, Serialize};

use super::numeric::{AsF64, NumericChunk, numeric_dispatch};
use super::order_key::{NAN_KEY, OrderKey, float_key};

/// Largest table: 2^21 buckets (16 MiB of counts), the finest the approximate sketch asks for.
pub const MAX_BITS: u32 = 21;

/// Smallest table: with 12 bits or fewer, `+inf` (key `0xFFF0…`) would share NaN's last bucket.
pub const MIN_BITS: u32 = 13;

/// The mergeable state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "SparseForm", try_from = "SparseForm")]
pub struct KeyHistogram {
    bits: u32,
    /// Dense counts per bucket (`2^bits`), empty until the first update or merge.
    counts: Vec<u64>,
    /// Smallest and largest non-NaN key (meaningless while `count()` is 0).
    min: u64,
    max: u64,
    /// Sum of `counts`, kept so that no caller walks the table to learn it.
    total: u64,
    pub nan_count: u64,
    pub null_count: u64,
}

impl KeyHistogram {
    pub fn new(bits: u32) -> Self {
        KeyHistogram {
            bits: bits.clamp(MIN_BITS, MAX_BITS),
            counts: Vec::new(),
            min: u64::MAX,
            max: 0,
            total: 0,
            nan_count: 0,
            null_count: 0,
        }
    }

    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// Right shift from a key to its bucket.
    pub fn shift(&self) -> u32 {
        64 - self.bits
    }

    /// Counts per bucket (empty when nothing was counted).
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Non-NaN values counted.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// Smallest and largest non-NaN key, if any value was counted.
    pub fn key_range(&self) -> Option<(u64, u64)> {
        (self.count() > 0).then_some((self.min, self.max))
    }

    /// Counts the rows of `chunk` whose validity bit is set; `float_keys` keys integers by their float64
    /// value (the approximate sketch), otherwise by their exact integer key.
    pub fn update(&mut self, chunk: NumericChunk<'_>, float_keys: bool) {
        self.null_count += chunk.null_count() as u64;
        if self.counts.is_empty() {
            self.counts = vec![0; 1 << self.bits];
        }
        if float_keys && chunk.is_integer() {
            numeric_dispatch!(chunk, c => self.count_keys(c.values, c.validity, true, |x| float_key(x.as_f64())));
        } else {
            numeric_dispatch!(chunk, c => self.count_keys(c.values, c.validity, chunk.can_be_nan(), OrderKey::order_key));
        }
    }

    /// The counting loop, built for AVX2 where the CPU has it (the keys of a block are computed in vector
    /// registers; the counts, being integers, do not depend on the build).
    #[inline(always)]
    fn count_keys<T: Copy>(
        &mut self,
        values: &[T],
        validity: Option<&[u64]>,
        has_nan: bool,
        key: impl Fn(T) -> u64 + Copy,
    ) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above), the only requirement of `count_keys_avx2`.
            return unsafe { self.count_keys_avx2(values, validity, has_nan, key) };
        }
        self.count_key_blocks(values, validity, has_nan, key);
    }

    /// [`Self::count_key_blocks`] compiled for AVX2.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn count_keys_avx2<T: Copy>(
        &mut self,
        values: &[T],
        validity: Option<&[u64]>,
        has_nan: bool,
        key: impl Fn(T) -> u64 + Copy,
    ) {
        self.count_key_blocks(values, validity, has_nan, key);
    }

    /// Blocks of 64 rows: a block whose rows are all valid computes its 64 keys and their minimum and
    /// maximum in one loop the compiler vectorises, then increments the counts; other blocks visit their
    /// valid rows one by one (one loop computing and counting each key ran at ~6.6 cycles per value). A
    /// NaN's key is `NAN_KEY`, alone in the last bucket (no other float key shares its top bits), so NaN
    /// are counted like any value and moved out once per call; for floats the running maximum tracks
    /// `key + 1` (wrapping), which sends NaN to 0 without a branch. (Integer keys may be `u64::MAX` for real
    /// values: they take a plain maximum.)
    #[inline(always)]
    fn count_key_blocks<T: Copy>(
        &mut self,
        values: &[T],
        validity: Option<&[u64]>,
        has_nan: bool,
        key: impl Fn(T) -> u64 + Copy,
    ) {
        let shift = self.shift();
        let before = self.count();
        let counts = &mut self.counts[..];
        // The table has 2^bits entries and `key >> shift < 2^bits`: the mask only spares a bounds check.
        let last = counts.len() - 1;
        let bump = u64::from(has_nan);
        let (mut min, mut max, mut seen) = (u64::MAX, 0u64, 0u64);
        let mut keys = [0u64; 64];
        let mut words = validity.map(|w| w.iter().copied());
        for xs in values.chunks(64) {
            let word = match &mut words {
                Some(w) => w.next().unwrap_or(0),
                None => u64::MAX,
            };
            if xs.len() == 64 && word == u64::MAX {
                let (mut lo, mut hi) = (u64::MAX, 0u64);
                for (k, &x) in keys.iter_mut().zip(xs) {
                    *k = key(x);
                    lo = lo.min(*k);
                    hi = hi.max(k.wrapping_add(bump));
                }
                (min, max) = (min.min(lo), max.max(hi));
                for &k in &keys {
                    counts[(k >> shift) as usize & last] += 1;
                }
                seen += 64;
            } else {
                let mut w = if xs.len() == 64 { word } else { word & ((1u64 << xs.len()) - 1) };
                while w != 0 {
                    let k = key(xs[w.trailing_zeros() as usize]);
                    w &= w - 1;
                    counts[(k >> shift) as usize & last] += 1;
                    min = min.min(k);
                    max = max.max(k.wrapping_add(bump));
                    seen += 1;
                }
            }
        }
        if has_nan {
            self.nan_count += counts[last];
            seen -= counts[last];
            counts[last] = 0;
            max = max.wrapping_sub(1);
        }
        self.total += seen;
        if seen > 0 {
            if before == 0 {
                (self.min, self.max) = (min, max);
            } else {
                (self.min, self.max) = (self.min.min(min), self.max.max(max));
            }
        }
    }

    pub fn merge(&mut self, other: &KeyHistogram) {
        if other.count() > 0 {
            if self.count() == 0 {
                (self.min, self.max) = (other.min, other.max);
            } else {
                (self.min, self.max) = (self.min.min(other.min), self.max.max(other.max));
            }
        }
        if self.counts.is_empty() {
            self.counts.clone_from(&other.counts);
            self.bits = other.bits;
        } else if !other.counts.is_empty() {
            self.counts.iter_mut().zip(&other.counts).for_each(|(a, b)| *a += b);
        }
        self.total += other.total;
        self.nan_count += other.nan_count;
        self.null_count += other.null_count;
    }

    /// The first and last key of bucket `b`.
    pub fn bucket_keys(&self, b: usize) -> (u64, u64) {
        let lo = (b as u64) << self.shift();
        (lo, lo | (u64::MAX >> self.bits))
    }
}

impl Default for KeyHistogram {
    fn default() -> Self {
        KeyHistogram::new(16)
    }
}

/// The wire form: non-zero buckets only.
#[derive(Serialize, Deserialize)]
struct SparseForm {
    bits: u32,
    buckets: Vec<(u32, u64)>,
    min: u64,
    max: u64,
    nan_count: u64,
    null_count: u64,
}

impl From<KeyHistogram> for SparseForm {
    fn from(h: KeyHistogram) -> Self {
        let buckets = h.counts.iter().enumerate().filter(|(_, c)| **c != 0).map(|(i, &c)| (i as u32, c)).collect();
        SparseForm { bits: h.bits, buckets, min: h.min, max: h.max, nan_count: h.nan_count, null_count: h.null_count }
    }
}

impl TryFrom<SparseForm> for KeyHistogram {
    type Error = String;
    fn try_from(s: SparseForm) -> Result<Self, String> {
        if !(MIN_BITS..=MAX_BITS).contains(&s.bits) {
            return Err(format!("key histogram of {} bits ({MIN_BITS}..={MAX_BITS})", s.bits));
        }
        let mut h = KeyHistogram::new(s.bits);
        h.min = s.min;
        h.max = s.max;
        h.nan_count = s.nan_count;
        h.null_count = s.null_count;
        if !s.buckets.is_empty() {
            h.counts = vec![0; 1 << s.bits];
            for (i, c) in s.buckets {
                *h.counts.get_mut(i as usize).ok_or_else(|| format!("bucket {i} out of range"))? = c;
                h.total = h.total.checked_add(c).ok_or("bucket counts overflow")?;
            }
        }
        Ok(h)
    }
}

/// `NAN_KEY`'s bucket is the last one whatever the bit count, and `+inf` is never in it.
const _: () = assert!(NAN_KEY >> (64 - MAX_BITS) == (1 << MAX_BITS) - 1);
const _: () = assert!(0xFFF0_0000_0000_0000u64 >> (64 - MIN_BITS) != (1 << MIN_BITS) - 1);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ColumnChunk;

    impl KeyHistogram {
        fn update_f(&mut self, chunk: NumericChunk<'_>) {
            self.update(chunk, false)
        }
    }

    fn f64s(xs: &'static [f64]) -> NumericChunk<'static> {
        NumericChunk::F64(ColumnChunk::new(xs, None))
    }

    /// The dispatched build (AVX2 here, where the CPU has it) and the portable one against a brute-force
    /// count, over lengths around the 64-row blocks, validity with partial words, NaN, ±inf and ±0.
    #[test]
    fn both_builds_count_as_a_plain_loop_does() {
        let mut next = crate::stats::test_rng(0x2545_F491_4F6C_DD1Du64);
        for len in [0usize, 1, 63, 64, 65, 128, 200, 1000] {
            let xs: Vec<f64> = (0..len)
                .map(|_| match next() % 16 {
                    0 => f64::NAN,
                    1 => f64::INFINITY,
                    2 => f64::NEG_INFINITY,
                    3 => -0.0,
                    4 => 0.0,
                    _ => f64::from_bits(next()).clamp(-1e300, 1e300),
                })
                .collect();
            let mut words: Vec<u64> =
                (0..len.div_ceil(64)).map(|i| if i % 3 == 0 { u64::MAX } else { next() }).collect();
            if len % 64 != 0 {
                *words.last_mut().unwrap() &= (1u64 << (len % 64)) - 1;
            }
            for validity in [None, Some(words.as_slice())] {
                let valid = |i: usize| validity.is_none_or(|w| (w[i / 64] >> (i % 64)) & 1 == 1);
                let keys: Vec<u64> = (0..len).filter(|&i| valid(i)).map(|i| float_key(xs[i])).collect();
                let numbers: Vec<u64> = keys.iter().copied().filter(|&k| k != NAN_KEY).collect();
                let mut want = vec![0u64; 1 << 16];
                numbers.iter().for_each(|&k| want[(k >> 48) as usize] += 1);
                let leaked: &'static [f64] = Box::leak(xs.clone().into_boxed_slice());
                let words: Option<&'static [u64]> = validity.map(|w| &*Box::leak(w.to_vec().into_boxed_slice()));
                let chunk = ColumnChunk::new(leaked, words);
                let mut dispatched = KeyHistogram::new(16);
                dispatched.update(NumericChunk::F64(chunk), false);
                let mut portable = KeyHistogram::new(16);
                portable.counts = vec![0; 1 << 16];
                portable.count_key_blocks(leaked, words, true, float_key);
                for h in [&dispatched, &portable] {
                    assert_eq!(h.counts, want, "len {len}");
                    assert_eq!(h.count(), numbers.len() as u64);
                    assert_eq!(h.nan_count, (keys.len() - numbers.len()) as u64);
                    let range = numbers.iter().min().zip(numbers.iter().max()).map(|(a, b)| (*a, *b));
                    assert_eq!(h.key_range(), range, "len {len}");
                }
            }
        }
    }

    #[test]
    fn counts_buckets_extremes_and_nan() {
        let mut h = KeyHistogram::new(MIN_BITS);
        h.update_f(f64s(&[1.0, 1.25, -2.0, f64::NAN, 3.0, f64::INFINITY]));
        assert_eq!(h.count(), 5);
        assert_eq!(h.nan_count, 1);
        assert_eq!(h.key_range(), Some((float_key(-2.0), float_key(f64::INFINITY))));
        let counts = h.counts();
        // 13 bits are sign, exponent and one mantissa bit: 1.0 and 1.25 share a half-binade.
        assert_eq!(counts[(float_key(1.0) >> 51) as usize], 2);
        assert_eq!(counts[(float_key(f64::INFINITY) >> 51) as usize], 1);
        assert_eq!(counts.iter().sum::<u64>(), 5);
    }

    #[test]
    fn only_nan_has_no_range_and_merge_is_order_free() {
        let mut a = KeyHistogram::new(16);
        a.update_f(f64s(&[f64::NAN]));
        assert_eq!(a.key_range(), None);
        let mut b = KeyHistogram::new(16);
        b.update_f(f64s(&[4.0, -1.0]));
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        assert_eq!(ab, ba);
        assert_eq!(ab.key_range(), Some((float_key(-1.0), float_key(4.0))));
        let mut empty = KeyHistogram::new(16);
        empty.merge(&ab);
        assert_eq!(empty, ab);
    }

    #[test]
    fn sparse_wire_form_round_trips() {
        let mut h = KeyHistogram::new(MAX_BITS);
        h.update_f(f64s(&[1.0, 2.0, 2.0, f64::NAN]));
        let bytes = crate::stats::encode(&h).unwrap();
        assert!(bytes.len() < 100, "{} bytes", bytes.len());
        let back: KeyHistogram = crate::stats::decode(&bytes).unwrap();
        assert_eq!(back, h);
    }
}
