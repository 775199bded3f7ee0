//! Evaluation of a [`Pred`] over one piece: the type `match` once per node and piece, then one tight
//! loop per leaf (integers, floats, booleans here; strings in `strings.rs`, column pairs in `cols.rs`).
//!
//! The leaves assume the arrays have the schema's types the filter was checked against; a mismatch is a
//! caller bug and panics in arrow's downcasts.

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrowPrimitiveType};
use arrow_schema::DataType;

use super::bits::{Bits, from_buffer, ones, pack, validity, words};
use super::{CmpOp, Pred, cols, strings};

/// The three-valued answer of `pred` for the `len` rows of `arrays`.
pub(super) fn evaluate(pred: &Pred, arrays: &[&dyn Array], len: usize) -> Bits {
    match pred {
        Pred::Const(value) => Bits::constant(*value, len),
        Pred::And(items) => fold(items, arrays, len, Bits::and),
        Pred::Or(items) => fold(items, arrays, len, Bits::or),
        Pred::Not(inner) => evaluate(inner, arrays, len).not(),
        Pred::IsNull { col, negated } => {
            let truth = match (logical_validity(arrays[*col]), negated) {
                (None, true) => ones(len),
                (None, false) => vec![0; words(len)],
                (Some(v), true) => v,
                (Some(v), false) => v.into_iter().map(|w| !w).collect(),
            };
            Bits::new(truth, None, len)
        }
        Pred::IfValid { col, value } => {
            let truth = if *value { ones(len) } else { vec![0; words(len)] };
            Bits::new(truth, logical_validity(arrays[*col]), len)
        }
        Pred::IntRange { col, lo, hi, negated } => {
            let array = arrays[*col];
            let bits = Bits::new(int_range(array, *lo, *hi), validity(array.nulls()), len);
            if *negated { bits.not() } else { bits }
        }
        Pred::Float { col, op, lit } => float(arrays[*col], *op, *lit),
        Pred::Str { col, op, lit } => strings::compare(arrays[*col], *op, lit.as_bytes()),
        Pred::Bool { col, value } => {
            let array = arrays[*col].as_boolean();
            let bits = Bits::new(from_buffer(array.values()), validity(array.nulls()), len);
            if *value { bits } else { bits.not() }
        }
        Pred::Cols { left, op, right } => cols::compare(arrays[*left], *op, arrays[*right]),
    }
}

fn fold(items: &[Pred], arrays: &[&dyn Array], len: usize, f: fn(Bits, &Bits) -> Bits) -> Bits {
    let mut items = items.iter().map(|p| evaluate(p, arrays, len));
    let first = items.next().expect("sqlparser chains have two operands or more");
    items.fold(first, |acc, b| f(acc, &b))
}

/// Rows that are not null, dictionaries included (a null dictionary value is a null row).
pub(super) fn logical_validity(array: &dyn Array) -> Option<Vec<u64>> {
    match array.data_type() {
        DataType::Dictionary(..) => validity(array.logical_nulls().as_ref()),
        _ => validity(array.nulls()),
    }
}

/// `lo <= x <= hi` as one unsigned compare: `(x − lo) mod 2^w <= hi − lo`, branch-free and vectorisable.
/// The bounds are inside the type's range (the parser clipped them), so the `as` casts are exact.
fn int_range(array: &dyn Array, lo: i128, hi: i128) -> Vec<u64> {
    macro_rules! range {
        ($t:ty, $u:ty) => {{
            let xs = array.as_primitive::<$t>().values();
            let (lo, span) = (lo as <$t as ArrowPrimitiveType>::Native, (hi - lo) as $u);
            pack(xs, |x| (x.wrapping_sub(lo) as $u) <= span)
        }};
    }
    match array.data_type() {
        DataType::Int8 => range!(Int8Type, u8),
        DataType::Int16 => range!(Int16Type, u16),
        DataType::Int32 => range!(Int32Type, u32),
        DataType::Int64 => range!(Int64Type, u64),
        DataType::UInt8 => range!(UInt8Type, u8),
        DataType::UInt16 => range!(UInt16Type, u16),
        DataType::UInt32 => range!(UInt32Type, u32),
        DataType::UInt64 => range!(UInt64Type, u64),
        other => panic!("integer filter on a {other} column"),
    }
}

/// A float column against a non-NaN literal. Under the NaN rule (NaN above everything, equal to itself)
/// `x > l` is `!(x <= l)`, `x >= l` is `!(x < l)` and `x != l` is `!(x == l)`: IEEE's `<`, `<=`, `==` are
/// false for NaN, so the complements come out true for it, as they should.
fn float(array: &dyn Array, op: CmpOp, lit: f64) -> Bits {
    fn base<T: Copy + Into<f64>>(xs: &[T], op: CmpOp, l: f64) -> Vec<u64> {
        match op {
            CmpOp::Lt | CmpOp::Ge => pack(xs, |x| x.into() < l),
            CmpOp::Le | CmpOp::Gt => pack(xs, |x| x.into() <= l),
            CmpOp::Eq | CmpOp::Ne => pack(xs, |x| x.into() == l),
        }
    }
    let truth = match array.data_type() {
        DataType::Float32 => base(array.as_primitive::<Float32Type>().values(), op, lit),
        DataType::Float64 => base(array.as_primitive::<Float64Type>().values(), op, lit),
        other => panic!("float filter on a {other} column"),
    };
    let bits = Bits::new(truth, validity(array.nulls()), array.len());
    if matches!(op, CmpOp::Gt | CmpOp::Ge | CmpOp::Ne) { bits.not() } else { bits }
}
