//! Arrow types the kernels read through a conversion, piece by piece, into one of the ten primitive types
//! they know (`stats/numeric.rs`):
//!
//! | column type                                   | read as                          | copy?            |
//! |-----------------------------------------------|----------------------------------|------------------|
//! | float16                                       | float32 (exact: every f16 is one)| yes              |
//! | boolean                                       | uint8 0/1: sum = true count, mean = fraction true | yes |
//! | date32, time32                                | int32, in the type's unit        | no (same buffer) |
//! | date64, time64, timestamp (any zone), duration| int64, in the type's unit        | no (same buffer) |
//! | dictionary of any of the above or a primitive | the decoded values (`take`)      | yes              |
//!
//! A dictionary row is null when its key is null or the entry it points to is null (`take` keeps both).
//! Owns only the conversion; which types convert is [`ColumnKind::of`](super::ColumnKind::of). The Source
//! validated every array (dictionary keys in range included), so a conversion cannot fail.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Float16Type;
use arrow_array::{Array, ArrayRef, Float32Array, UInt8Array, make_array};
use arrow_schema::DataType;

/// `array` as a kernel-native primitive array (itself when it already is one).
pub fn widen(array: ArrayRef) -> ArrayRef {
    let reinterpret = |to: DataType| {
        let data = array.to_data().into_builder().data_type(to).build();
        make_array(data.expect("bug in tally: same-width integer reinterpretation of a validated array"))
    };
    match array.data_type() {
        DataType::Float16 => {
            let values = array.as_primitive::<Float16Type>();
            let widened: Float32Array = values.unary(|x| x.to_f32());
            Arc::new(widened)
        }
        DataType::Boolean => {
            let b = array.as_boolean();
            let values: Vec<u8> = (0..b.len()).map(|i| u8::from(b.value(i))).collect();
            Arc::new(UInt8Array::new(values.into(), b.nulls().cloned()))
        }
        DataType::Date32 | DataType::Time32(_) => reinterpret(DataType::Int32),
        DataType::Date64 | DataType::Time64(_) | DataType::Timestamp(_, _) | DataType::Duration(_) => {
            reinterpret(DataType::Int64)
        }
        DataType::Dictionary(_, _) => {
            let dict = array.as_any_dictionary();
            let keys = dict.keys();
            let decoded = arrow_select::take::take(dict.values().as_ref(), keys, None)
                .expect("bug in tally: dictionary keys were validated in range");
            widen(decoded)
        }
        _ => array,
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::types::Int32Type;
    use arrow_array::{
        BooleanArray, DictionaryArray, Float16Array, Float64Array, Int32Array, TimestampMillisecondArray,
    };

    use super::*;

    #[test]
    fn conversions_keep_values_and_nulls() {
        let f16 = Float16Array::from(vec![Some(half_of(1.5)), None, Some(half_of(-0.25))]);
        let w = widen(Arc::new(f16));
        assert_eq!(
            w.as_primitive::<arrow_array::types::Float32Type>(),
            &Float32Array::from(vec![Some(1.5), None, Some(-0.25)])
        );
        let b = widen(Arc::new(BooleanArray::from(vec![Some(true), None, Some(false)])));
        assert_eq!(b.as_primitive::<arrow_array::types::UInt8Type>(), &UInt8Array::from(vec![Some(1), None, Some(0)]));
        let t = widen(Arc::new(TimestampMillisecondArray::from(vec![Some(-5), None]).with_timezone("+01:00")));
        assert_eq!(t.data_type(), &DataType::Int64);
        // Key 1 points at a null entry; key null is null.
        let values = Float64Array::from(vec![Some(2.5), None, Some(7.0)]);
        let keys = Int32Array::from(vec![Some(0), Some(1), None, Some(2), Some(0)]);
        let dict = DictionaryArray::<Int32Type>::try_new(keys, Arc::new(values)).unwrap();
        let d = widen(Arc::new(dict));
        assert_eq!(
            d.as_primitive::<arrow_array::types::Float64Type>(),
            &Float64Array::from(vec![Some(2.5), None, None, Some(7.0), Some(2.5)])
        );
    }

    fn half_of(x: f32) -> <Float16Type as arrow_array::ArrowPrimitiveType>::Native {
        <Float16Type as arrow_array::ArrowPrimitiveType>::Native::from_f32(x)
    }
}
