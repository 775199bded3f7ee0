//! The per-chunk kernel shared by every executor: a chunk's rows in, one partial state per column out.
//!
//! Infallible by design: the Source validated types, lengths and null buffers, so this only dispatches on
//! the (already checked) column type and feeds typed slices to the statistics.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrowPrimitiveType};

use crate::plan::{Chunk, Plan};
use crate::stats::{AnyPartial, FloatDescribe, IntDescribe, PartialSet};
use crate::store::{ColumnChunk, FloatElem, IntElem, Store, validity_words};

/// Computes the partial states of every planned column over `chunk`'s rows.
pub fn compute_chunk(plan: &Plan, store: &Store, chunk: &Chunk) -> PartialSet {
    let mut set = plan.empty_partials();
    for (column, state) in set.columns.iter_mut().enumerate() {
        for piece in store.pieces(column, chunk.rows.clone()) {
            update(state, piece.as_ref());
        }
    }
    set
}

fn update(state: &mut AnyPartial, array: &dyn Array) {
    use arrow_schema::DataType as D;
    match state {
        AnyPartial::Counts(c) => c.update(array.len(), array.logical_null_count()),
        AnyPartial::Float(s) => match array.data_type() {
            D::Float64 => float::<Float64Type>(s, array),
            D::Float32 => float::<Float32Type>(s, array),
            other => unreachable_type(other),
        },
        AnyPartial::Int(s) => match array.data_type() {
            D::Int8 => int::<Int8Type>(s, array),
            D::Int16 => int::<Int16Type>(s, array),
            D::Int32 => int::<Int32Type>(s, array),
            D::Int64 => int::<Int64Type>(s, array),
            D::UInt8 => int::<UInt8Type>(s, array),
            D::UInt16 => int::<UInt16Type>(s, array),
            D::UInt32 => int::<UInt32Type>(s, array),
            D::UInt64 => int::<UInt64Type>(s, array),
            other => unreachable_type(other),
        },
    }
}

fn float<T: ArrowPrimitiveType>(state: &mut FloatDescribe, array: &dyn Array)
where
    T::Native: FloatElem,
{
    let words = validity_words(array);
    let values = array.as_primitive::<T>().values();
    state.update(ColumnChunk { values, validity: words.as_deref() });
}

fn int<T: ArrowPrimitiveType>(state: &mut IntDescribe, array: &dyn Array)
where
    T::Native: IntElem,
{
    let words = validity_words(array);
    let values = array.as_primitive::<T>().values();
    state.update(ColumnChunk { values, validity: words.as_deref() });
}

/// The plan derived the state kind from the same schema the store was decoded with.
fn unreachable_type(t: &arrow_schema::DataType) -> ! {
    panic!("bug in tally: the plan and the store disagree on a column type ({t})")
}
