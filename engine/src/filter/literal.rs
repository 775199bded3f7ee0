//! Numeric literals read exactly, and comparisons against integer columns turned into ranges.
//!
//! A literal is kept as its decimal text; against an integer column it is read as an exact decimal
//! (its floor and whether it has a fractional part) so no comparison rounds through f64: for integer x,
//! `x < L ⇔ x < ⌈L⌉`, `x <= L ⇔ x <= ⌊L⌋`, `x = L ⇔ L is whole and x = L`. The resulting bounds are then
//! clipped to the column type's range, so an out-of-range literal still compares correctly.

use super::{CmpOp, Pred};

/// Magnitudes are saturated here: far outside every Arrow integer type, so clipping gives the same answer.
const SATURATE: u128 = 1 << 100;

/// A decimal literal: `-1^neg × (whole + frac)`, `0 <= frac < 1`; `whole` saturates at [`SATURATE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Decimal {
    pub(super) neg: bool,
    pub(super) whole: u128,
    pub(super) has_frac: bool,
}

impl Decimal {
    /// Reads `[+-]digits[.digits][e[+-]digits]` (what sqlparser hands over as a number); `None` if malformed.
    pub(super) fn parse(text: &str, neg: bool) -> Option<Decimal> {
        let (mantissa, exp) = match text.find(['e', 'E']) {
            Some(i) => (&text[..i], text[i + 1..].parse::<i64>().ok()?),
            None => (text, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if int.is_empty() && frac.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        // value = digits × 10^(exp − len(frac)); split the digit string at the decimal point.
        let digits: Vec<u8> = int.bytes().chain(frac.bytes()).map(|b| b - b'0').collect();
        let point = (int.len() as i64).saturating_add(exp); // digits before the point
        let (whole_digits, frac_digits): (&[u8], &[u8]) = if point <= 0 {
            (&[], &digits)
        } else if point as usize >= digits.len() {
            (&digits, &[])
        } else {
            digits.split_at(point as usize)
        };
        let mut whole: u128 = 0;
        for &d in whole_digits {
            whole = (whole * 10 + d as u128).min(SATURATE);
        }
        // Trailing zeros past the digit string (point > len) multiply by ten each.
        for _ in digits.len() as i64..point.min(digits.len() as i64 + 40) {
            whole = (whole * 10).min(SATURATE);
        }
        Some(Decimal { neg, whole, has_frac: frac_digits.iter().any(|&d| d != 0) })
    }

    fn floor(self) -> i128 {
        let w = self.whole as i128;
        if self.neg { -w - self.has_frac as i128 } else { w }
    }

    fn ceil(self) -> i128 {
        let w = self.whole as i128;
        if self.neg { -w } else { w + self.has_frac as i128 }
    }
}

/// `x op lit` on an integer column of range `min..=max`, as a range test or a constant for valid rows.
pub(super) fn int_compare(col: usize, op: CmpOp, lit: Decimal, min: i128, max: i128) -> Pred {
    let (lo, hi, negated) = match op {
        CmpOp::Lt => (min, lit.ceil() - 1, false),
        CmpOp::Le => (min, lit.floor(), false),
        CmpOp::Gt => (lit.floor() + 1, max, false),
        CmpOp::Ge => (lit.ceil(), max, false),
        CmpOp::Eq | CmpOp::Ne if lit.has_frac => return Pred::IfValid { col, value: op == CmpOp::Ne },
        CmpOp::Eq => (lit.floor(), lit.floor(), false),
        CmpOp::Ne => (lit.floor(), lit.floor(), true),
    };
    let (lo, hi) = (lo.max(min), hi.min(max));
    if lo > hi {
        Pred::IfValid { col, value: negated }
    } else if lo == min && hi == max {
        Pred::IfValid { col, value: !negated }
    } else {
        Pred::IntRange { col, lo, hi, negated }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        Decimal::parse(s, false).unwrap()
    }

    #[test]
    fn decimals_are_read_exactly() {
        assert_eq!(dec("12.50"), Decimal { neg: false, whole: 12, has_frac: true });
        assert_eq!(dec("12.00"), Decimal { neg: false, whole: 12, has_frac: false });
        assert_eq!(dec("1.5e1"), Decimal { neg: false, whole: 15, has_frac: false });
        assert_eq!(dec("15e-1"), Decimal { neg: false, whole: 1, has_frac: true });
        assert_eq!(dec(".5"), Decimal { neg: false, whole: 0, has_frac: true });
        assert_eq!(dec("9007199254740992.0").whole, 1 << 53);
        assert_eq!(dec("1e300").whole, SATURATE);
        assert_eq!(dec("1e-300"), Decimal { neg: false, whole: 0, has_frac: true });
        assert_eq!(dec("0e999999").whole, 0);
        assert_eq!(Decimal::parse("-2.5", true).map(|d| (d.floor(), d.ceil())), None);
        assert_eq!(Decimal::parse("2.5", true).map(|d| (d.floor(), d.ceil())), Some((-3, -2)));
        assert!(Decimal::parse("1x", false).is_none() && Decimal::parse(".", false).is_none());
    }

    #[test]
    fn integer_comparisons_become_clipped_ranges() {
        let (min, max) = (-128, 127);
        assert_eq!(int_compare(0, CmpOp::Lt, dec("1000"), min, max), Pred::IfValid { col: 0, value: true });
        assert_eq!(int_compare(0, CmpOp::Gt, dec("1000"), min, max), Pred::IfValid { col: 0, value: false });
        assert_eq!(int_compare(0, CmpOp::Eq, dec("2.5"), min, max), Pred::IfValid { col: 0, value: false });
        assert_eq!(int_compare(0, CmpOp::Ne, dec("2.5"), min, max), Pred::IfValid { col: 0, value: true });
        assert_eq!(
            int_compare(0, CmpOp::Lt, dec("2.5"), min, max),
            Pred::IntRange { col: 0, lo: -128, hi: 2, negated: false }
        );
        assert_eq!(
            int_compare(0, CmpOp::Ne, dec("3"), min, max),
            Pred::IntRange { col: 0, lo: 3, hi: 3, negated: true }
        );
        let (min, max) = (i64::MIN as i128, i64::MAX as i128);
        assert_eq!(
            int_compare(0, CmpOp::Gt, dec("9007199254740992.0"), min, max),
            Pred::IntRange { col: 0, lo: (1 << 53) + 1, hi: max, negated: false }
        );
    }
}
