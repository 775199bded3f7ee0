//! The `describe` state of a decimal column (decimal32/64/128/256, issue 11 item 5).
//!
//! A decimal is an integer `x` and the column's scale `s` (its value is `x / 10^s`), so everything is done
//! on the integers, exactly: `min`, `max` and `sum` are exact and printed as decimal text with the column's
//! scale (`sum` may need more digits than the type holds: it is still exact). `mean` is `Σx / (n·10^s)`
//! and `var` is `(n·Σx² − (Σx)²) / (n·(n − ddof)·10^2s)`, both exact rationals rounded once to the nearest
//! f64 ([`super::exact_ratio`]); `std` is the correctly rounded square root of that rational. Skewness and
//! kurtosis are not computed for decimals (nobody asked, and exact third and fourth powers of 256-bit
//! values are wide).
//!
//! Per value the sums run in 256-bit integers and fall back to big integers only when a 256-bit sum would
//! overflow (a decimal256 column near its 76-digit limit), so the state is exact for any input and cheap
//! for ordinary ones. The state is the exact integers, so merging is order-free and bit-identical
//! whatever the executor or the worker count.

use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal32Type, Decimal64Type, Decimal128Type, Decimal256Type};
use arrow_array::{Array, ArrowPrimitiveType};
use arrow_buffer::i256;
use arrow_schema::DataType;
use num_bigint::{BigInt, BigUint, Sign};
use serde::{Deserialize, Serialize};

use super::exact_ratio::{ratio_to_f64, sqrt_ratio_to_f64};
use super::{FinishOptions, Partial, Summary};

/// An exact integer that serialises as its little-endian two's complement bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Exact(pub BigInt);

impl Serialize for Exact {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0.to_signed_bytes_le())
    }
}

impl<'de> Deserialize<'de> for Exact {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let bytes: Vec<u8> = serde_bytes_vec(d)?;
        Ok(Exact(BigInt::from_signed_bytes_le(&bytes)))
    }
}

fn serde_bytes_vec<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    struct Bytes;
    impl<'de> serde::de::Visitor<'de> for Bytes {
        type Value = Vec<u8>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("integer bytes")
        }
        fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
            let mut out = Vec::new();
            while let Some(b) = seq.next_element::<u8>()? {
                out.push(b);
            }
            Ok(out)
        }
    }
    d.deserialize_bytes(Bytes)
}

fn big(x: i256) -> BigInt {
    BigInt::from_signed_bytes_le(&x.to_le_bytes())
}

/// Describe state of a decimal column of scale `scale`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DecimalDescribe {
    pub scale: i8,
    pub count: u64,
    pub null_count: u64,
    /// `None` while there are no values.
    pub min: Option<Exact>,
    pub max: Option<Exact>,
    pub sum: Exact,
    pub sum_sq: Exact,
}

/// Running 256-bit sums of one update, flushed into the exact ones when they would overflow.
#[derive(Default)]
struct Local {
    sum: i256,
    sum_sq: i256,
    min: Option<i256>,
    max: Option<i256>,
    count: u64,
}

impl DecimalDescribe {
    pub fn new(scale: i8) -> Self {
        DecimalDescribe { scale, ..DecimalDescribe::default() }
    }

    /// Folds in the values of a decimal `array` whose bit in `validity` is set (all when `None`);
    /// `excluded` of the unset rows were filtered out rather than null.
    pub fn update(&mut self, array: &dyn Array, validity: Option<&[u64]>, excluded: usize) {
        let mut local = Local::default();
        match array.data_type() {
            DataType::Decimal32(..) => self.fold::<Decimal32Type>(array, validity, &mut local, i256::from),
            DataType::Decimal64(..) => self.fold::<Decimal64Type>(array, validity, &mut local, i256::from),
            DataType::Decimal128(..) => self.fold::<Decimal128Type>(array, validity, &mut local, i256::from_i128),
            DataType::Decimal256(..) => self.fold::<Decimal256Type>(array, validity, &mut local, |x| x),
            t => panic!("bug in tally: a decimal state met a {t} column"),
        }
        self.flush(&mut local);
        self.null_count += (array.len() - excluded) as u64 - local.count;
        self.count += local.count;
        keep(&mut self.min, local.min.map(big), std::cmp::Ordering::Less);
        keep(&mut self.max, local.max.map(big), std::cmp::Ordering::Greater);
    }

    fn fold<T: ArrowPrimitiveType>(
        &mut self,
        array: &dyn Array,
        validity: Option<&[u64]>,
        local: &mut Local,
        wide: impl Fn(T::Native) -> i256,
    ) {
        let values = array.as_primitive::<T>().values();
        let valid = |i: usize| validity.is_none_or(|w| w[i / 64] >> (i % 64) & 1 == 1);
        for (i, &x) in values.iter().enumerate() {
            if valid(i) {
                self.add(local, wide(x));
            }
        }
    }

    #[inline]
    fn add(&mut self, local: &mut Local, x: i256) {
        local.count += 1;
        local.min = Some(local.min.map_or(x, |m| m.min(x)));
        local.max = Some(local.max.map_or(x, |m| m.max(x)));
        local.sum = match local.sum.checked_add(x) {
            Some(s) => s,
            None => {
                self.sum.0 += big(local.sum) + big(x);
                i256::ZERO
            }
        };
        match x.checked_mul(x) {
            Some(sq) => {
                local.sum_sq = match local.sum_sq.checked_add(sq) {
                    Some(s) => s,
                    None => {
                        self.sum_sq.0 += big(local.sum_sq) + big(sq);
                        i256::ZERO
                    }
                }
            }
            None => {
                let b = big(x);
                self.sum_sq.0 += &b * &b;
            }
        }
    }

    fn flush(&mut self, local: &mut Local) {
        self.sum.0 += big(std::mem::take(&mut local.sum));
        self.sum_sq.0 += big(std::mem::take(&mut local.sum_sq));
    }
}

impl Partial for DecimalDescribe {
    fn merge(&mut self, other: &Self) {
        self.count += other.count;
        self.null_count += other.null_count;
        self.sum.0 += &other.sum.0;
        self.sum_sq.0 += &other.sum_sq.0;
        keep(&mut self.min, other.min.as_ref().map(|m| m.0.clone()), std::cmp::Ordering::Less);
        keep(&mut self.max, other.max.as_ref().map(|m| m.0.clone()), std::cmp::Ordering::Greater);
    }

    fn finish(&self, options: &FinishOptions) -> Summary {
        let mut out = Summary { count: self.count, null_count: self.null_count, ..Summary::default() };
        let text = |x: &BigInt| decimal_text(x, self.scale);
        if let (Some(min), Some(max)) = (&self.min, &self.max) {
            out.set_text("min", text(&min.0));
            out.set_text("max", text(&max.0));
        }
        out.set_text("sum", text(&self.sum.0));
        if self.count == 0 {
            return out;
        }
        let n = BigInt::from(self.count);
        // The value is x · up / down: one of the two is 1, by the sign of the scale.
        let (up, down) = (pow10(-i16::from(self.scale)), pow10(i16::from(self.scale)));
        out.mean = Some(signed_ratio(&(&self.sum.0 * &up), &(&n * &down)));
        out.set_text("mean_decimal", text(&round_half_even(&self.sum.0, &n)));
        if self.count > options.ddof {
            // n·Σx² − (Σx)² ≥ 0 by Cauchy-Schwarz, exactly.
            let spread = &n * &self.sum_sq.0 - &self.sum.0 * &self.sum.0;
            let p = (spread * &up * &up).magnitude().clone();
            let q = (n * BigInt::from(self.count - options.ddof) * &down * &down).magnitude().clone();
            out.var = Some(ratio_to_f64(&p, &q));
            out.std = Some(sqrt_ratio_to_f64(&p, &q));
        }
        out
    }
}

/// Replaces `slot` by `candidate` when there is none yet or `candidate` compares `wins` to it.
fn keep(slot: &mut Option<Exact>, candidate: Option<BigInt>, wins: std::cmp::Ordering) {
    let Some(c) = candidate else { return };
    if slot.as_ref().is_none_or(|s| c.cmp(&s.0) == wins) {
        *slot = Some(Exact(c));
    }
}

/// `10^e` for `e ≥ 0`, 1 otherwise.
fn pow10(e: i16) -> BigInt {
    BigInt::from(10u8).pow(u32::from(e.max(0).unsigned_abs()))
}

/// `p / q` correctly rounded, with the sign of `p` (`q` positive).
fn signed_ratio(p: &BigInt, q: &BigInt) -> f64 {
    let r = ratio_to_f64(p.magnitude(), q.magnitude());
    if p.sign() == Sign::Minus { -r } else { r }
}

/// `p / q` rounded to the nearest integer, ties to even (Python's `decimal` default, ROUND_HALF_EVEN);
/// `q` positive.
pub fn round_half_even(p: &BigInt, q: &BigInt) -> BigInt {
    let (a, b): (BigUint, BigUint) = (p.magnitude().clone(), q.magnitude().clone());
    let (quot, rem) = (&a / &b, &a % &b);
    let twice = &rem * 2u8;
    let up = twice > b || (twice == b && (&quot % 2u8) == BigUint::from(1u8));
    let m = BigInt::from(quot + u8::from(up));
    if p.sign() == Sign::Minus { -m } else { m }
}

/// The integer `x` of a decimal of scale `scale` as decimal text: `12345`, scale 2 → `123.45`; scale -2 →
/// `1234500`.
pub fn decimal_text(x: &BigInt, scale: i8) -> String {
    let digits = x.magnitude().to_string();
    let sign = if x.sign() == Sign::Minus { "-" } else { "" };
    if scale <= 0 {
        let zeros = if x.magnitude().bits() == 0 { 0 } else { usize::from(scale.unsigned_abs()) };
        return format!("{sign}{digits}{}", "0".repeat(zeros));
    }
    let scale = usize::from(scale.unsigned_abs());
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{sign}{int}.{frac}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_text_keeps_the_scale() {
        let t = |x: i64, s: i8| decimal_text(&BigInt::from(x), s);
        assert_eq!(t(12345, 2), "123.45");
        assert_eq!(t(-5, 3), "-0.005");
        assert_eq!(t(0, 2), "0.00");
        assert_eq!(t(7, 0), "7");
        assert_eq!(t(7, -2), "700");
        assert_eq!(t(0, -2), "0");
    }

    #[test]
    fn half_even_rounding_matches_python_decimal() {
        // decimal.Decimal(p / q).quantize(Decimal(1), ROUND_HALF_EVEN) for these p, q:
        let r = |p: i64, q: i64| round_half_even(&BigInt::from(p), &BigInt::from(q)).to_string();
        assert_eq!(
            [r(5, 2), r(7, 2), r(-5, 2), r(-7, 2), r(10, 4), r(11, 4), r(-11, 4)],
            ["2", "4", "-2", "-4", "2", "3", "-3"]
        );
    }

    #[test]
    fn sums_past_256_bits_stay_exact() {
        let big_value = i256::MAX.wrapping_div(i256::from_i128(3)); // ~2^253
        let xs = arrow_array::Decimal256Array::from(vec![big_value; 10]).with_precision_and_scale(76, 0).unwrap();
        let mut s = DecimalDescribe::new(0);
        s.update(&xs, None, 0);
        assert_eq!(s.sum.0, big(big_value) * 10);
        assert_eq!(s.sum_sq.0, big(big_value) * big(big_value) * 10);
        assert_eq!(s.count, 10);
    }
}
