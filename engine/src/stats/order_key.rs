//! Order-preserving integer keys: `u64` keys whose integer order is the order of the values, the ground the
//! exact quantile selection and the approximate quantile sketch both stand on.
//!
//! Floats: the sign bit flipped for positive values, every bit flipped for negative ones (the classic radix
//! sort key), after `x + 0.0` turns `-0.0` into `+0.0` (they are equal values; NumPy's partition may return
//! either), and every NaN mapped to [`NAN_KEY`], above `+inf`'s key, so the statistics can count NaN apart.
//! Float32 values are widened to f64 first (exact). Signed integers: the sign bit flipped. Unsigned: as is.
//! Integer keys may be `u64::MAX` (`u64::MAX`, `i64::MAX`): only float keys stand for NaN there.

use serde::{Deserialize, Serialize};

use super::Value;

/// The key every NaN gets: above every other float key (`+inf` is `0xFFF0_0000_0000_0000`).
pub const NAN_KEY: u64 = u64::MAX;

/// How keys map back to values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyDomain {
    Float,
    Signed,
    Unsigned,
}

impl KeyDomain {
    /// The value whose key is `key`.
    pub fn value(self, key: u64) -> Value {
        match self {
            KeyDomain::Float => Value::Float(float_of_key(key)),
            KeyDomain::Signed => Value::Int(i128::from((key ^ SIGN) as i64)),
            KeyDomain::Unsigned => Value::Int(i128::from(key)),
        }
    }

    /// The value of `key` as a float (integers rounded as NumPy's `astype(float64)` rounds them).
    pub fn float(self, key: u64) -> f64 {
        self.value(key).as_f64()
    }
}

const SIGN: u64 = 1 << 63;

/// The key of an f64 (`NAN_KEY` for NaN).
#[inline(always)]
pub fn float_key(x: f64) -> u64 {
    let x = x + 0.0;
    let bits = x.to_bits();
    let key = bits ^ ((((bits as i64) >> 63) as u64) | SIGN);
    if x.is_nan() { NAN_KEY } else { key }
}

/// The f64 whose [`float_key`] is `key` (for `key != NAN_KEY`).
pub fn float_of_key(key: u64) -> f64 {
    f64::from_bits(if key & SIGN != 0 { key ^ SIGN } else { !key })
}

/// A numeric element type with an order key.
pub trait OrderKey: Copy + Send + Sync + 'static {
    const DOMAIN: KeyDomain;
    /// What values compare as without computing their key: f64 for floats, i64 or u64 for integers.
    type Cmp: PartialOrd + Copy;
    fn order_key(self) -> u64;
    fn cmp_value(self) -> Self::Cmp;
    /// The comparable form of the value whose key is `key` (`key` not NaN's): comparing it with
    /// `cmp_value` orders as comparing keys does.
    fn cmp_bound(key: u64) -> Self::Cmp;
}

impl OrderKey for f64 {
    const DOMAIN: KeyDomain = KeyDomain::Float;
    type Cmp = f64;
    #[inline(always)]
    fn order_key(self) -> u64 {
        float_key(self)
    }
    #[inline(always)]
    fn cmp_value(self) -> f64 {
        self
    }
    fn cmp_bound(key: u64) -> f64 {
        float_of_key(key)
    }
}

impl OrderKey for f32 {
    const DOMAIN: KeyDomain = KeyDomain::Float;
    type Cmp = f64;
    #[inline(always)]
    fn order_key(self) -> u64 {
        float_key(f64::from(self))
    }
    #[inline(always)]
    fn cmp_value(self) -> f64 {
        f64::from(self)
    }
    fn cmp_bound(key: u64) -> f64 {
        float_of_key(key)
    }
}

macro_rules! signed_key {
    ($($t:ty),*) => { $(impl OrderKey for $t {
        const DOMAIN: KeyDomain = KeyDomain::Signed;
        type Cmp = i64;
        #[inline(always)]
        fn order_key(self) -> u64 { (i64::from(self) as u64) ^ SIGN }
        #[inline(always)]
        fn cmp_value(self) -> i64 { i64::from(self) }
        fn cmp_bound(key: u64) -> i64 { (key ^ SIGN) as i64 }
    })* };
}
macro_rules! unsigned_key {
    ($($t:ty),*) => { $(impl OrderKey for $t {
        const DOMAIN: KeyDomain = KeyDomain::Unsigned;
        type Cmp = u64;
        #[inline(always)]
        fn order_key(self) -> u64 { u64::from(self) }
        #[inline(always)]
        fn cmp_value(self) -> u64 { u64::from(self) }
        fn cmp_bound(key: u64) -> u64 { key }
    })* };
}
signed_key!(i8, i16, i32, i64);
unsigned_key!(u8, u16, u32, u64);

/// Calls `f` with the key of every row of `values` whose validity bit is set.
#[inline(always)]
pub fn for_each_key<T: OrderKey>(values: &[T], validity: Option<&[u64]>, f: impl FnMut(u64)) {
    for_each_key_by(values, validity, T::order_key, f)
}

/// Calls `f` with every row of `values` whose validity bit is set.
#[inline(always)]
pub fn for_each_valid<T: Copy>(values: &[T], validity: Option<&[u64]>, f: impl FnMut(T)) {
    for_each_key_by(values, validity, |x| x, f)
}

/// [`for_each_key`] with the key function given (the approximate sketch keys integers as floats).
#[inline(always)]
pub fn for_each_key_by<T: Copy, K>(values: &[T], validity: Option<&[u64]>, key: impl Fn(T) -> K, mut f: impl FnMut(K)) {
    // Plain loops, not `Iterator::for_each`: that one was not inlined, which kept the callers' running
    // minima and counters in memory (a store-to-load chain per value).
    let Some(words) = validity else {
        for &x in values {
            f(key(x));
        }
        return;
    };
    for (xs, &word) in values.chunks(64).zip(words) {
        if word == u64::MAX {
            for &x in xs {
                f(key(x));
            }
        } else {
            let mut w = word;
            while w != 0 {
                f(key(xs[w.trailing_zeros() as usize]));
                w &= w - 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_keys_order_like_the_values() {
        let xs = [
            f64::NEG_INFINITY,
            -f64::MAX,
            -1.5,
            -f64::MIN_POSITIVE,
            -5e-324,
            0.0,
            5e-324,
            1.0,
            f64::MAX,
            f64::INFINITY,
        ];
        for w in xs.windows(2) {
            assert!(float_key(w[0]) < float_key(w[1]), "{} !< {}", w[0], w[1]);
        }
        for &x in &xs {
            assert_eq!(float_of_key(float_key(x)).to_bits(), x.to_bits());
        }
        assert_eq!(float_key(-0.0), float_key(0.0));
        assert_eq!(float_key(f64::NAN), NAN_KEY);
        assert_eq!(float_key(-f64::NAN), NAN_KEY);
        assert_eq!(float_key(f64::from_bits(0x7FF0_0000_0000_0001)), NAN_KEY);
        assert!(float_key(f64::INFINITY) < NAN_KEY);
    }

    #[test]
    fn integer_keys_order_like_the_values_and_map_back() {
        let xs = [i64::MIN, -1, 0, 1, i64::MAX];
        for w in xs.windows(2) {
            assert!(w[0].order_key() < w[1].order_key());
        }
        for &x in &xs {
            assert_eq!(KeyDomain::Signed.value(x.order_key()), Value::Int(i128::from(x)));
        }
        assert_eq!(KeyDomain::Unsigned.value(u64::MAX.order_key()), Value::Int(i128::from(u64::MAX)));
        assert_eq!((-3i8).order_key(), (-3i64).order_key());
    }

    #[test]
    fn masked_rows_are_skipped() {
        let xs: Vec<i64> = (0..70).collect();
        let mut words = vec![u64::MAX, 0b101];
        words[0] &= !(1 << 3);
        let mut seen = Vec::new();
        for_each_key(&xs, Some(&words), |k| seen.push(k ^ SIGN));
        let want: Vec<u64> = (0..64).filter(|&i| i != 3).chain([64, 66]).collect();
        assert_eq!(seen, want);
    }
}
