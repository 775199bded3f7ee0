//! The numeric view of one Arrow array: [`NumericChunk`], converted once per chunk piece so that every
//! statistic of a pass (histogram, co-moments, ...) matches on one typed value slice plus validity.
//!
//! Owns the mapping from Arrow primitive types to typed slices and the per-element conversion to f64
//! ([`AsF64`]). Does not own validation (the Source did it) nor null counting (always
//! [`ColumnChunk::null_count`], which the planner may make account for filtered rows).

use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrowPrimitiveType, PrimitiveArray};

use crate::store::ColumnChunk;

/// One column chunk of any numeric Arrow type.
#[derive(Clone, Copy, Debug)]
pub enum NumericChunk<'a> {
    F64(ColumnChunk<'a, f64>),
    F32(ColumnChunk<'a, f32>),
    I8(ColumnChunk<'a, i8>),
    I16(ColumnChunk<'a, i16>),
    I32(ColumnChunk<'a, i32>),
    I64(ColumnChunk<'a, i64>),
    U8(ColumnChunk<'a, u8>),
    U16(ColumnChunk<'a, u16>),
    U32(ColumnChunk<'a, u32>),
    U64(ColumnChunk<'a, u64>),
}

/// Calls the generic expression `$body` with `$c` bound to the typed [`ColumnChunk`] inside a
/// [`NumericChunk`]: one monomorphised copy per element type, no per-value dispatch.
macro_rules! numeric_dispatch {
    ($chunk:expr, $c:ident => $body:expr) => {
        match $chunk {
            $crate::stats::numeric::NumericChunk::F64($c) => $body,
            $crate::stats::numeric::NumericChunk::F32($c) => $body,
            $crate::stats::numeric::NumericChunk::I8($c) => $body,
            $crate::stats::numeric::NumericChunk::I16($c) => $body,
            $crate::stats::numeric::NumericChunk::I32($c) => $body,
            $crate::stats::numeric::NumericChunk::I64($c) => $body,
            $crate::stats::numeric::NumericChunk::U8($c) => $body,
            $crate::stats::numeric::NumericChunk::U16($c) => $body,
            $crate::stats::numeric::NumericChunk::U32($c) => $body,
            $crate::stats::numeric::NumericChunk::U64($c) => $body,
        }
    };
}
pub(crate) use numeric_dispatch;

impl NumericChunk<'_> {
    /// Rows `range` (see [`ColumnChunk::rows`]).
    pub fn rows(&self, range: std::ops::Range<usize>) -> Self {
        use NumericChunk as N;
        match self {
            N::F64(c) => N::F64(c.rows(range)),
            N::F32(c) => N::F32(c.rows(range)),
            N::I8(c) => N::I8(c.rows(range)),
            N::I16(c) => N::I16(c.rows(range)),
            N::I32(c) => N::I32(c.rows(range)),
            N::I64(c) => N::I64(c.rows(range)),
            N::U8(c) => N::U8(c.rows(range)),
            N::U16(c) => N::U16(c.rows(range)),
            N::U32(c) => N::U32(c.rows(range)),
            N::U64(c) => N::U64(c.rows(range)),
        }
    }

    /// Hints that the values of rows `rows` will be read soon (see `stats::prefetch`).
    pub fn prefetch(&self, rows: std::ops::Range<usize>) {
        numeric_dispatch!(self, c => crate::stats::prefetch::pages(&c.values[rows]))
    }

    /// Number of slots (valid or not).
    pub fn len(&self) -> usize {
        numeric_dispatch!(self, c => c.values.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Null slots, through [`ColumnChunk::null_count`] (the one place that knows about filtered rows).
    pub fn null_count(&self) -> usize {
        numeric_dispatch!(self, c => c.null_count())
    }

    /// The validity words (`None`: every slot is to be used).
    pub fn validity(&self) -> Option<&[u64]> {
        numeric_dispatch!(self, c => c.validity)
    }

    /// False for the integer types, whose values are never NaN.
    pub fn can_be_nan(&self) -> bool {
        !self.is_integer()
    }

    /// True for the integer types, whose values are never NaN.
    pub fn is_integer(&self) -> bool {
        !matches!(self, NumericChunk::F64(_) | NumericChunk::F32(_))
    }
}

/// Element conversion to f64 as NumPy does (`astype(np.float64)`): exact for floats and integers up to
/// 2^53, round-to-nearest-even beyond.
pub trait AsF64: Copy + Send + Sync + 'static {
    fn as_f64(self) -> f64;
}

macro_rules! as_f64 {
    ($($t:ty),*) => { $(impl AsF64 for $t {
        #[inline(always)]
        fn as_f64(self) -> f64 { self as f64 }
    })* };
}
as_f64!(f64, f32, i8, i16, i32, i64, u8, u16, u32, u64);

fn typed<'a, P: ArrowPrimitiveType>(
    array: &'a dyn Array,
    validity: Option<&'a [u64]>,
) -> Option<ColumnChunk<'a, P::Native>> {
    let array = array.as_any().downcast_ref::<PrimitiveArray<P>>()?;
    Some(ColumnChunk::new(array.values().as_ref(), validity))
}

/// The typed view of `array` with the given validity words (see [`crate::store::validity_words`]), or
/// `None` when the array is not of a numeric type tally computes on.
pub fn numeric_chunk<'a>(array: &'a dyn Array, validity: Option<&'a [u64]>) -> Option<NumericChunk<'a>> {
    use arrow_schema::DataType as D;
    Some(match array.data_type() {
        D::Float64 => NumericChunk::F64(typed::<Float64Type>(array, validity)?),
        D::Float32 => NumericChunk::F32(typed::<Float32Type>(array, validity)?),
        D::Int8 => NumericChunk::I8(typed::<Int8Type>(array, validity)?),
        D::Int16 => NumericChunk::I16(typed::<Int16Type>(array, validity)?),
        D::Int32 => NumericChunk::I32(typed::<Int32Type>(array, validity)?),
        D::Int64 => NumericChunk::I64(typed::<Int64Type>(array, validity)?),
        D::UInt8 => NumericChunk::U8(typed::<UInt8Type>(array, validity)?),
        D::UInt16 => NumericChunk::U16(typed::<UInt16Type>(array, validity)?),
        D::UInt32 => NumericChunk::U32(typed::<UInt32Type>(array, validity)?),
        D::UInt64 => NumericChunk::U64(typed::<UInt64Type>(array, validity)?),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use arrow_array::{Float32Array, Int64Array, StringArray, UInt8Array};

    use super::*;
    use crate::store::validity_words;

    #[test]
    fn converts_each_numeric_type_and_refuses_others() {
        let a = Int64Array::from(vec![Some(1), None, Some(3)]);
        let words = validity_words(&a);
        let chunk = numeric_chunk(&a, words.as_deref()).unwrap();
        assert!(matches!(chunk, NumericChunk::I64(c) if c.values[2] == 3));
        assert_eq!(chunk.null_count(), 1);
        assert!(chunk.is_integer());
        let f = Float32Array::from(vec![0.5f32]);
        assert!(matches!(numeric_chunk(&f, None), Some(NumericChunk::F32(_))));
        assert!(!numeric_chunk(&f, None).unwrap().is_integer());
        assert!(matches!(numeric_chunk(&UInt8Array::from(vec![7u8]), None), Some(NumericChunk::U8(_))));
        assert!(numeric_chunk(&StringArray::from(vec!["x"]), None).is_none());
    }

    #[test]
    fn sliced_arrays_start_at_their_offset() {
        let a = Int64Array::from(vec![10, 11, 12, 13]);
        let s = a.slice(2, 2);
        let NumericChunk::I64(c) = numeric_chunk(&s, None).unwrap() else { panic!("not i64") };
        assert_eq!(c.values, &[12, 13]);
    }

    #[test]
    fn conversion_rounds_like_numpy_astype() {
        assert_eq!(i64::MAX.as_f64(), 9_223_372_036_854_775_808.0);
        assert_eq!(((1u64 << 53) + 1).as_f64(), (1u64 << 53) as f64);
        assert_eq!(0.1f32.as_f64(), f64::from(0.1f32));
    }
}
