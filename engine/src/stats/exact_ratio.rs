//! Correct rounding of exact rationals: `p / q` and `sqrt(p / q)` for non-negative big integers, to the
//! nearest f64 (ties to even). Owns only this rounding; the integer describe builds the rationals (its
//! variance from exact power sums) and calls these once per finished column, never per value.

use num_bigint::BigUint;

/// Bits kept before the final rounding: 53 of the significand, a guard and a round bit at least.
const WORK_BITS: u64 = 56;

/// `q · 2^exp`, plus "a little more" when `sticky`, rounded to the nearest f64, ties to even. `q` must
/// have at least 55 bits or be exact (`sticky` false); results stay in the normal range or overflow.
fn round(q: &BigUint, sticky: bool, exp: i64) -> f64 {
    let bits = q.bits();
    if bits <= 53 {
        debug_assert!(!sticky, "too few bits to round with a sticky remainder");
        let m = u64::try_from(q).unwrap_or(0);
        return super::moments::ldexp(m as f64, exp);
    }
    let extra = bits - 53;
    let m = u64::try_from(&(q >> extra)).unwrap_or(0);
    let low = q - (BigUint::from(m) << extra);
    let half = BigUint::from(1u8) << (extra - 1);
    let up = low > half || (low == half && (sticky || m & 1 == 1));
    // m + 1 may be 2^53: still exact as an f64.
    super::moments::ldexp((m + u64::from(up)) as f64, exp + extra as i64)
}

/// `p / q` correctly rounded; `q` must be non-zero.
pub fn ratio_to_f64(p: &BigUint, q: &BigUint) -> f64 {
    if p.bits() == 0 {
        return 0.0;
    }
    // Scale so the quotient has about WORK_BITS bits; the remainder becomes the sticky bit.
    let k = WORK_BITS as i64 + q.bits() as i64 - p.bits() as i64;
    let (num, den) = if k >= 0 { (p << k as u64, q.clone()) } else { (p.clone(), q << (-k) as u64) };
    let quotient = &num / &den;
    let sticky = &quotient * &den != num;
    round(&quotient, sticky, -k)
}

/// `sqrt(p / q)` correctly rounded; `q` must be non-zero.
pub fn sqrt_ratio_to_f64(p: &BigUint, q: &BigUint) -> f64 {
    if p.bits() == 0 {
        return 0.0;
    }
    // p · 4^j / q has at least 2·WORK_BITS bits, so its integer square root has at least WORK_BITS.
    let j = ((2 * WORK_BITS + q.bits()).saturating_sub(p.bits()) / 2 + 1) as i64;
    let num = p << (2 * j) as u64;
    let t = &num / q;
    let root = t.sqrt();
    // sqrt(num/q) lies in [root, root + 1); it equals root only when both steps were exact.
    let sticky = &t * q != num || &root * &root != t;
    round(&root, sticky, -j)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn big(x: u128) -> BigUint {
        BigUint::from(x)
    }

    #[test]
    fn exact_quotients_and_ties() {
        assert_eq!(ratio_to_f64(&big(1), &big(3)), 1.0 / 3.0);
        assert_eq!(ratio_to_f64(&big(10u128.pow(14) - 1), &big(12)), 8_333_333_333_333.25);
        assert_eq!(ratio_to_f64(&big(0), &big(7)), 0.0);
        // 2^53 + 1 is a tie between 2^53 and 2^53 + 2: even wins; one more unit in the remainder rounds up.
        let two53 = 1u128 << 53;
        assert_eq!(ratio_to_f64(&big(two53 + 1), &big(1)), two53 as f64);
        assert_eq!(ratio_to_f64(&big(2 * two53 + 3), &big(2)), (two53 + 2) as f64);
        assert_eq!(ratio_to_f64(&big(two53 + 3), &big(1)), (two53 + 4) as f64);
        assert_eq!(ratio_to_f64(&(big(1) << 2000u32), &big(1)), f64::INFINITY);
    }

    #[test]
    fn square_roots() {
        assert_eq!(sqrt_ratio_to_f64(&big(4), &big(1)), 2.0);
        assert_eq!(sqrt_ratio_to_f64(&big(2), &big(1)), 2f64.sqrt());
        assert_eq!(sqrt_ratio_to_f64(&big(1), &big(4)), 0.5);
        // IEEE sqrt is correctly rounded: it is the reference for exactly representable arguments.
        for x in [3u128, 5, 10, 12345, (1 << 53) - 1, 1 << 101, ((1 << 53) - 1) << 70] {
            assert_eq!(sqrt_ratio_to_f64(&big(x), &big(1)), (x as f64).sqrt(), "sqrt {x}");
        }
        assert_eq!(sqrt_ratio_to_f64(&(big(1) << 2000u32), &big(1)), 2f64.powi(1000));
        assert_eq!(sqrt_ratio_to_f64(&big(1), &(big(1) << 2000u32)), 2f64.powi(-1000));
    }
}
