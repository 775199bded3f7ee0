//! String leaves: Utf8, LargeUtf8, Utf8View and dictionaries of them, compared bytewise.
//!
//! Bytewise order of UTF-8 is code-point order, the order of PostgreSQL's `C` collation and of Arrow's own
//! comparison kernels. A dictionary column is compared on its dictionary once per piece (a dictionary is
//! usually far shorter than the piece) and the answers are gathered by key.

use std::cmp::Ordering;

use arrow_array::cast::AsArray;
use arrow_array::{Array, OffsetSizeTrait};
use arrow_schema::DataType;

use super::CmpOp;
use super::bits::{Bits, pack, pack_with, validity};

/// `accept[ordering + 1]`: whether `op` holds for Less, Equal, Greater; a lookup instead of a branch.
pub(super) fn accept_table(op: CmpOp) -> [bool; 3] {
    [Ordering::Less, Ordering::Equal, Ordering::Greater].map(|o| op.holds(o))
}

/// `x op lit` for every row of a string or dictionary-of-string column.
pub(super) fn compare(array: &dyn Array, op: CmpOp, lit: &[u8]) -> Bits {
    let accept = accept_table(op);
    let len = array.len();
    match array.data_type() {
        DataType::Dictionary(..) => {
            let dict = array.as_any_dictionary();
            let values = dict.values();
            let valid = validity(array.logical_nulls().as_ref());
            if values.is_empty() {
                // No values: every key is null (arrow checks non-null keys against the dictionary).
                return Bits::constant(None, len);
            }
            let per_value = plain(values.as_ref(), accept, lit);
            let keys = dict.normalized_keys();
            let truth = pack(&keys, |k| per_value[k / 64] >> (k % 64) & 1 == 1);
            Bits::new(truth, valid, len)
        }
        _ => Bits::new(plain(array, accept, lit), validity(array.nulls()), len),
    }
}

/// The truth of `x op lit` per element of a plain string array, nulls not applied.
fn plain(array: &dyn Array, accept: [bool; 3], lit: &[u8]) -> Vec<u64> {
    fn offsets<O: OffsetSizeTrait>(array: &dyn Array, accept: [bool; 3], lit: &[u8]) -> Vec<u64> {
        let a = array.as_string::<O>();
        let (offs, data) = (a.value_offsets(), a.value_data());
        pack_with(a.len(), |i| {
            let s = &data[offs[i].as_usize()..offs[i + 1].as_usize()];
            accept[(s.cmp(lit) as i8 + 1) as usize]
        })
    }
    match array.data_type() {
        DataType::Utf8 => offsets::<i32>(array, accept, lit),
        DataType::LargeUtf8 => offsets::<i64>(array, accept, lit),
        DataType::Utf8View => {
            let a = array.as_string_view();
            pack_with(a.len(), |i| accept[(a.value(i).as_bytes().cmp(lit) as i8 + 1) as usize])
        }
        other => panic!("string filter on a {other} column"),
    }
}

/// Every row's bytes (a null row's are arbitrary) and the validity, for comparing two columns.
pub(super) fn rows(array: &dyn Array) -> (Vec<&[u8]>, Option<Vec<u64>>) {
    fn offsets<O: OffsetSizeTrait>(array: &dyn Array) -> Vec<&[u8]> {
        let a = array.as_string::<O>();
        let (offs, data) = (a.value_offsets(), a.value_data());
        offs.windows(2).map(|w| &data[w[0].as_usize()..w[1].as_usize()]).collect()
    }
    let valid = validity(array.logical_nulls().as_ref());
    let values = match array.data_type() {
        DataType::Utf8 => offsets::<i32>(array),
        DataType::LargeUtf8 => offsets::<i64>(array),
        DataType::Utf8View => {
            let a = array.as_string_view();
            (0..a.len()).map(|i| a.value(i).as_bytes()).collect()
        }
        DataType::Dictionary(..) => {
            let dict = array.as_any_dictionary();
            if dict.values().is_empty() {
                vec![&[][..]; array.len()]
            } else {
                let (values, _) = rows(dict.values().as_ref());
                dict.normalized_keys().into_iter().map(|k| values[k]).collect()
            }
        }
        other => panic!("string filter on a {other} column"),
    };
    (values, valid)
}
