//! Which order statistics a quantile needs and how they combine: NumPy's `quantile` methods `linear`,
//! `lower`, `higher`, `nearest` and `midpoint`, over the ascending non-null, non-NaN values.
//!
//! The rank `h = (n − 1)·q` is computed exactly from the decimal text of `q` (`0.29` is 29/100), so an integer
//! rank is never missed: NumPy computes `h` in float64 and can land just below an integer (`100 × 0.29` is
//! `28.999999999999996`), then interpolates between the neighbouring order statistics. Where the float and
//! exact ranks have the same integer part, tally takes NumPy's float fraction `h − ⌊h⌋` and its `_lerp`
//! (`a + (b − a)·t` below `t = 0.5`, `b − (b − a)·(1 − t)` from it), so the result is NumPy's bit for bit.
//! Where they differ (the rank rounded across an integer), tally uses the exact rank; `nearest` rounds the
//! exact rank half to even, as NumPy's `around` does for the float one.
//!
//! tally also departs from NumPy where NumPy's arithmetic produces NaN for a defined answer: an exact
//! integer rank returns that order statistic itself (NumPy computes `a + (b − a)·0`, NaN when `b` is
//! infinite), equal neighbours return their value (`inf − inf` is NaN), and between a finite value and an
//! infinity the answer is that infinity. Only between `−inf` and `+inf` is the quantile NaN.
//! Float32 columns are computed as `numpy.quantile(a.astype(numpy.float64))`; integer columns return exact
//! integers for `lower`, `higher` and `nearest`, and float64 for `linear` and `midpoint` (as NumPy does,
//! with the difference `b − a` taken exactly before it is rounded to float64; NumPy wraps it in int64).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::stats::Value;
use crate::stats::order_key::KeyDomain;

/// Interpolation between the order statistics around the rank, as `numpy.quantile(method=...)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    #[default]
    Linear,
    Lower,
    Higher,
    Nearest,
    Midpoint,
}

impl Method {
    pub const ALL: [Method; 5] = [Method::Linear, Method::Lower, Method::Higher, Method::Nearest, Method::Midpoint];

    /// The method named `text` (as NumPy names it).
    pub fn parse(text: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.name() == text)
    }

    pub fn name(self) -> &'static str {
        match self {
            Method::Linear => "linear",
            Method::Lower => "lower",
            Method::Higher => "higher",
            Method::Nearest => "nearest",
            Method::Midpoint => "midpoint",
        }
    }
}

/// Most decimal places a probability may have: `(n − 1)·numerator` must fit 128 bits.
const MAX_PLACES: u32 = 19;

/// A probability in `[0, 1]`, exactly as written: `numerator / 10^places`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Probability {
    pub text: String,
    numerator: u64,
    places: u32,
    /// The float64 nearest the text (what NumPy computes with).
    pub value: f64,
}

impl Probability {
    /// Parses decimal text (`0.5`, `.99`, `1`, `25e-2`); the error names the text.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |why: &str| Error::input(format!("quantile {text:?} {why}"));
        let t = text.trim();
        let (mantissa, exponent) = match t.find(['e', 'E']) {
            Some(i) => (&t[..i], t[i + 1..].parse::<i32>().map_err(|_| bad("has a malformed exponent"))?),
            None => (t, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if int.is_empty() && frac.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(bad(if t.starts_with('-') {
                "is negative: quantiles are in [0, 1]"
            } else {
                "is not a number"
            }));
        }
        let digits = format!("{int}{frac}");
        let digits = digits.trim_start_matches('0');
        let mut scale = frac.len() as i64 - i64::from(exponent);
        let mut numerator: u128 = 0;
        for d in digits.bytes() {
            numerator = numerator
                .checked_mul(10)
                .and_then(|n| n.checked_add(u128::from(d - b'0')))
                .ok_or_else(|| bad("is not in [0, 1]"))?;
        }
        while scale > 0 && numerator.is_multiple_of(10) && numerator != 0 {
            numerator /= 10;
            scale -= 1;
        }
        if numerator == 0 {
            scale = 0;
        }
        if scale < 0 {
            return Err(bad("is not in [0, 1]"));
        }
        if scale > i64::from(MAX_PLACES) {
            return Err(bad(&format!("has more than {MAX_PLACES} decimal places")));
        }
        let places = scale as u32;
        if numerator > u128::from(10u64.pow(places)) {
            return Err(bad("is not in [0, 1]"));
        }
        let value: f64 = t.parse().map_err(|_| bad("is not a number"))?;
        Ok(Probability { text: t.to_string(), numerator: numerator as u64, places, value })
    }

    /// Parses a comma-separated list; empty lists and bad entries are errors naming the entry.
    pub fn parse_list(text: &str) -> Result<Vec<Self>> {
        let list: Vec<Probability> =
            text.split(',').filter(|s| !s.trim().is_empty()).map(Probability::parse).collect::<Result<_>>()?;
        if list.is_empty() {
            return Err(Error::input("no quantiles given (e.g. --q 0.5,0.9)"));
        }
        Ok(list)
    }
}

/// The exact rank `h = (n − 1)·q = floor + rem / den`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Rank {
    floor: u64,
    rem: u128,
    den: u128,
}

impl Rank {
    fn of(n: u64, p: &Probability) -> Rank {
        let den = u128::from(10u64.pow(p.places));
        let h = u128::from(n - 1) * u128::from(p.numerator);
        Rank { floor: (h / den) as u64, rem: h % den, den }
    }

    fn is_integer(&self) -> bool {
        self.rem == 0
    }

    /// `⌊h⌋ + 1` when `h` is not an integer.
    fn ceil(&self) -> u64 {
        self.floor + u64::from(!self.is_integer())
    }

    /// Round half to even, as `numpy.around`.
    fn nearest(&self) -> u64 {
        match (2 * self.rem).cmp(&self.den) {
            std::cmp::Ordering::Less => self.floor,
            std::cmp::Ordering::Greater => self.floor + 1,
            std::cmp::Ordering::Equal => self.floor + (self.floor & 1),
        }
    }

    /// The interpolation weight: NumPy's float fraction when its float rank has the same integer part.
    fn gamma(&self, n: u64, p: &Probability) -> f64 {
        let h = (n - 1) as f64 * p.value;
        if h.floor() == self.floor as f64 { h - self.floor as f64 } else { self.rem as f64 / self.den as f64 }
    }
}

impl Method {
    /// The 0-based ranks (in ascending order of the `n` values) this quantile reads.
    pub fn ranks(self, n: u64, p: &Probability) -> Vec<u64> {
        if n == 0 {
            return Vec::new();
        }
        let r = Rank::of(n, p);
        match self {
            Method::Lower => vec![r.floor],
            Method::Higher => vec![r.ceil()],
            Method::Nearest => vec![r.nearest()],
            Method::Linear | Method::Midpoint => {
                if r.is_integer() {
                    vec![r.floor]
                } else {
                    vec![r.floor, r.floor + 1]
                }
            }
        }
    }

    /// The quantile of `n` values, reading order statistics through `key_of(rank)`; `None` when `n` is 0.
    pub fn value(self, n: u64, p: &Probability, domain: KeyDomain, key_of: impl Fn(u64) -> u64) -> Option<Value> {
        if n == 0 {
            return None;
        }
        let r = Rank::of(n, p);
        let at = |rank| domain.value(key_of(rank));
        let interpolated = |t: f64| match (at(r.floor), at(r.floor + 1)) {
            (Value::Float(a), Value::Float(b)) => Value::Float(interpolate(a, b, t)),
            (Value::Int(a), Value::Int(b)) => Value::Float(interpolate_int(a, b, t)),
            _ => unreachable!("one domain per column"),
        };
        let as_float = |v: Value| Value::Float(v.as_f64());
        Some(match self {
            Method::Lower => at(r.floor),
            Method::Higher => at(r.ceil()),
            Method::Nearest => at(r.nearest()),
            Method::Linear | Method::Midpoint if r.is_integer() => as_float(at(r.floor)),
            Method::Linear => interpolated(r.gamma(n, p)),
            Method::Midpoint => interpolated(0.5),
        })
    }
}

/// NumPy's `_lerp` where it is defined; see the module docs for the cases it is not.
pub(crate) fn interpolate(a: f64, b: f64, t: f64) -> f64 {
    if t == 0.0 || a == b {
        return a;
    }
    match (a.is_infinite(), b.is_infinite()) {
        (true, true) => f64::NAN,
        (true, false) => a,
        (false, true) => b,
        (false, false) => lerp(a, b, t),
    }
}

/// `numpy.lib._function_base_impl._lerp`, bit for bit.
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let diff = b - a;
    if t >= 0.5 { b - diff * (1.0 - t) } else { a + diff * t }
}

/// NumPy's `_lerp` over integer neighbours: the difference in integers, then float64 arithmetic.
fn interpolate_int(a: i128, b: i128, t: f64) -> f64 {
    let diff = (b - a) as f64;
    if t >= 0.5 { b as f64 - diff * (1.0 - t) } else { a as f64 + diff * t }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Probability {
        Probability::parse(text).unwrap()
    }

    #[test]
    fn parses_decimal_text_exactly() {
        assert_eq!((p("0.29").numerator, p("0.29").places), (29, 2));
        assert_eq!((p("25e-2").numerator, p("25e-2").places), (25, 2));
        assert_eq!((p(".50").numerator, p(".50").places), (5, 1));
        assert_eq!((p("1").numerator, p("1").places), (1, 0));
        assert_eq!((p("0").numerator, p("0").places), (0, 0));
        assert_eq!((p("0.1e1").numerator, p("0.1e1").places), (1, 0));
        for bad in ["1.5", "-0.1", "abc", "", "nan", "inf", "2e0", "0.1e", "0.00000000000000000001"] {
            assert!(Probability::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(Probability::parse_list(" , ").is_err());
    }

    #[test]
    fn exact_rank_does_not_round_below_an_integer() {
        // NumPy: (101 - 1) * 0.29 = 28.999999999999996 -> interpolates between x[28] and x[29].
        assert_eq!(100.0 * 0.29, 28.999_999_999_999_996);
        let xs: Vec<u64> = (0..101).map(|i| crate::stats::order_key::float_key(i as f64)).collect();
        let v = Method::Linear.value(101, &p("0.29"), KeyDomain::Float, |r| xs[r as usize]);
        assert_eq!(v, Some(Value::Float(29.0)));
        assert_eq!(Method::Lower.ranks(101, &p("0.29")), [29]);
    }

    #[test]
    fn nearest_rounds_half_to_even() {
        // n = 5: h = 4q. q = 0.125 -> 0.5 -> 0; q = 0.375 -> 1.5 -> 2; q = 0.625 -> 2.5 -> 2.
        assert_eq!(Method::Nearest.ranks(5, &p("0.125")), [0]);
        assert_eq!(Method::Nearest.ranks(5, &p("0.375")), [2]);
        assert_eq!(Method::Nearest.ranks(5, &p("0.625")), [2]);
        assert_eq!(Method::Nearest.ranks(5, &p("0.626")), [3]);
    }

    #[test]
    fn infinities_give_defined_answers() {
        assert_eq!(interpolate(1.0, f64::INFINITY, 0.3), f64::INFINITY);
        assert_eq!(interpolate(f64::NEG_INFINITY, 1.0, 0.3), f64::NEG_INFINITY);
        assert_eq!(interpolate(f64::INFINITY, f64::INFINITY, 0.3), f64::INFINITY);
        assert!(interpolate(f64::NEG_INFINITY, f64::INFINITY, 0.3).is_nan());
        assert_eq!(interpolate(1.0, f64::INFINITY, 0.0), 1.0);
    }
}
