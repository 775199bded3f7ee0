//! Column-versus-column comparisons: numbers of any mix of types, strings, booleans.
//!
//! Each side is widened once per piece into one exact representation (integers to i128, floats to f64)
//! and the pair compared in one loop. Integer against float is exact: the float is split into its floor
//! and fraction instead of rounding the integer to f64 (2^53 + 1 > 2^53 as f64). NaN follows the module's
//! rule: equal to NaN, above everything else; -0.0 equals 0.0.

use std::cmp::Ordering;

use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_schema::DataType;

use super::CmpOp;
use super::bits::{Bits, and_valid, from_buffer, pack_with};
use super::eval::logical_validity;
use super::strings::{accept_table, rows};

/// One side, widened.
enum Num {
    Int(Vec<i128>),
    Float(Vec<f64>),
}

fn widen(array: &dyn Array) -> Num {
    macro_rules! int {
        ($t:ty) => {
            Num::Int(array.as_primitive::<$t>().values().iter().map(|&x| x as i128).collect())
        };
    }
    match array.data_type() {
        DataType::Int8 => int!(Int8Type),
        DataType::Int16 => int!(Int16Type),
        DataType::Int32 => int!(Int32Type),
        DataType::Int64 => int!(Int64Type),
        DataType::UInt8 => int!(UInt8Type),
        DataType::UInt16 => int!(UInt16Type),
        DataType::UInt32 => int!(UInt32Type),
        DataType::UInt64 => int!(UInt64Type),
        DataType::Float32 => {
            Num::Float(array.as_primitive::<Float32Type>().values().iter().map(|&x| x.into()).collect())
        }
        DataType::Float64 => Num::Float(array.as_primitive::<Float64Type>().values().to_vec()),
        other => panic!("numeric filter on a {other} column"),
    }
}

/// A key whose integer order is the NaN rule's order of floats: the sign-magnitude bits turned into
/// two's complement, -0.0 folded onto 0.0, every NaN mapped above +inf.
fn float_key(x: f64) -> i64 {
    if x.is_nan() {
        return i64::MAX;
    }
    let bits = (x + 0.0).to_bits() as i64; // x + 0.0 turns -0.0 into +0.0
    bits ^ (((bits >> 63) as u64) >> 1) as i64
}

/// Exact order of an integer and a float (NaN above every integer).
fn int_vs_float(x: i128, y: f64) -> Ordering {
    const TWO_127: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0;
    if y.is_nan() || y >= TWO_127 {
        return Ordering::Less;
    }
    if y < -TWO_127 {
        return Ordering::Greater;
    }
    let floor = y.floor();
    // |floor| <= 2^127 and floor is whole, so the cast is exact (and floor = 2^127 was excluded).
    match x.cmp(&(floor as i128)) {
        Ordering::Equal if y > floor => Ordering::Less,
        other => other,
    }
}

/// `a op b` row by row.
pub(super) fn compare(a: &dyn Array, op: CmpOp, b: &dyn Array) -> Bits {
    let len = a.len();
    let accept = accept_table(op);
    let pick = |o: Ordering| accept[(o as i8 + 1) as usize];
    let valid = and_valid(logical_validity(a), logical_validity(b).as_ref());
    let truth = match (a.data_type(), b.data_type()) {
        (DataType::Boolean, DataType::Boolean) => {
            let (x, y) = (from_buffer(a.as_boolean().values()), from_buffer(b.as_boolean().values()));
            let same = op == CmpOp::Eq;
            x.iter().zip(&y).map(|(x, y)| if same { !(x ^ y) } else { x ^ y }).collect()
        }
        (l, r) if is_string(l) && is_string(r) => {
            let ((x, _), (y, _)) = (rows(a), rows(b));
            pack_with(len, |i| pick(x[i].cmp(y[i])))
        }
        _ => match (widen(a), widen(b)) {
            (Num::Int(x), Num::Int(y)) => pack_with(len, |i| pick(x[i].cmp(&y[i]))),
            (Num::Float(x), Num::Float(y)) => pack_with(len, |i| pick(float_key(x[i]).cmp(&float_key(y[i])))),
            (Num::Int(x), Num::Float(y)) => pack_with(len, |i| pick(int_vs_float(x[i], y[i]))),
            (Num::Float(x), Num::Int(y)) => pack_with(len, |i| pick(int_vs_float(y[i], x[i]).reverse())),
        },
    };
    Bits::new(truth, valid, len)
}

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(..))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_floats_compare_exactly() {
        let two53 = 9_007_199_254_740_992.0;
        assert_eq!(int_vs_float((1 << 53) + 1, two53), Ordering::Greater);
        assert_eq!(int_vs_float(1 << 53, two53), Ordering::Equal);
        assert_eq!(int_vs_float(2, 2.5), Ordering::Less);
        assert_eq!(int_vs_float(-3, -2.5), Ordering::Less);
        assert_eq!(int_vs_float(-2, -2.5), Ordering::Greater);
        assert_eq!(int_vs_float(i64::MAX as i128, 9_223_372_036_854_775_808.0), Ordering::Less); // 2^63
        assert_eq!(int_vs_float(u64::MAX as i128, f64::INFINITY), Ordering::Less);
        assert_eq!(int_vs_float(i64::MIN as i128, f64::NEG_INFINITY), Ordering::Greater);
        assert_eq!(int_vs_float(0, f64::NAN), Ordering::Less);
        assert_eq!(int_vs_float(0, -0.0), Ordering::Equal);
    }

    #[test]
    fn float_keys_follow_the_nan_rule() {
        let order = [f64::NEG_INFINITY, -1e308, -1.0, -5e-324, 0.0, 5e-324, 1.0, f64::MAX, f64::INFINITY, f64::NAN];
        for w in order.windows(2) {
            assert!(float_key(w[0]) < float_key(w[1]), "{} < {}", w[0], w[1]);
        }
        assert_eq!(float_key(-0.0), float_key(0.0));
        assert_eq!(float_key(f64::NAN), float_key(-f64::NAN));
    }
}
