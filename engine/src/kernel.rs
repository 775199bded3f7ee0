//! The per-chunk kernel shared by every executor: a chunk's rows in, one partial state per pass entry out.
//!
//! Infallible by design: the Source validated types, lengths and null buffers, and the Plan checked that
//! every entry names planned columns, so this only dispatches on the (already checked) column type and
//! feeds typed slices to the statistics. A chunk is walked piece by piece (one piece per record batch it
//! touches); every entry of the pass sees the same piece while it is in cache.

use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};

use crate::plan::{Chunk, Pass, Plan, StatEntry};
use crate::stats::{AnyPartial, FloatDescribe, IntDescribe, PartialSet, Range};
use crate::store::{ColumnChunk, Store, validity_words};

/// Computes the partial states of every entry of `pass` over `chunk`'s rows.
pub fn compute_chunk(plan: &Plan, pass: &Pass, store: &Store, chunk: &Chunk) -> PartialSet {
    let mut set = plan.empty_partials(pass);
    for piece in store.piece_ranges(chunk.rows.clone()) {
        set.rows += piece.len as u64;
        for (entry, state) in pass.entries.iter().zip(&mut set.stats) {
            update(state, entry, store.slice(entry.columns[0], &piece).as_ref());
        }
    }
    set
}

fn update(state: &mut AnyPartial, _entry: &StatEntry, array: &dyn Array) {
    if let AnyPartial::Counts(c) = state {
        return c.update(array.len(), array.logical_null_count());
    }
    let words = validity_words(array);
    let validity = words.as_deref();
    macro_rules! dispatch {
        ($($dt:ident => $t:ty),* $(,)?) => {
            match array.data_type() {
                $(arrow_schema::DataType::$dt => {
                    let chunk = ColumnChunk { values: array.as_primitive::<$t>().values(), validity };
                    update_typed(state, chunk)
                })*
                other => unreachable_type(other),
            }
        };
    }
    dispatch!(
        Float64 => Float64Type, Float32 => Float32Type,
        Int8 => Int8Type, Int16 => Int16Type, Int32 => Int32Type, Int64 => Int64Type,
        UInt8 => UInt8Type, UInt16 => UInt16Type, UInt32 => UInt32Type, UInt64 => UInt64Type,
    );
}

/// One typed chunk into one state. The plan chose the state from the column's type, so float states only
/// ever see float chunks and integer states integer chunks.
fn update_typed<T: Numeric>(state: &mut AnyPartial, chunk: ColumnChunk<'_, T>) {
    match state {
        AnyPartial::Counts(c) => c.update(chunk.values.len(), chunk.null_count()),
        AnyPartial::Float(s) => T::describe_float(s, chunk),
        AnyPartial::Int(s) => T::describe_int(s, chunk),
        AnyPartial::Range(r) => T::range(r, chunk),
    }
}

/// The per-type entry points of the statistics: float and integer states take different element traits.
trait Numeric: Copy + 'static {
    fn describe_float(s: &mut FloatDescribe, chunk: ColumnChunk<'_, Self>);
    fn describe_int(s: &mut IntDescribe, chunk: ColumnChunk<'_, Self>);
    fn range(r: &mut Range, chunk: ColumnChunk<'_, Self>);
}

macro_rules! numeric {
    (float: $($t:ty),*) => { $(impl Numeric for $t {
        fn describe_float(s: &mut FloatDescribe, chunk: ColumnChunk<'_, Self>) { s.update(chunk) }
        fn describe_int(_: &mut IntDescribe, _: ColumnChunk<'_, Self>) { state_mismatch() }
        fn range(r: &mut Range, chunk: ColumnChunk<'_, Self>) { r.update_float(chunk) }
    })* };
    (int: $($t:ty),*) => { $(impl Numeric for $t {
        fn describe_float(_: &mut FloatDescribe, _: ColumnChunk<'_, Self>) { state_mismatch() }
        fn describe_int(s: &mut IntDescribe, chunk: ColumnChunk<'_, Self>) { s.update(chunk) }
        fn range(r: &mut Range, chunk: ColumnChunk<'_, Self>) { r.update_int(chunk) }
    })* };
}
numeric!(float: f64, f32);
numeric!(int: i8, i16, i32, i64, u8, u16, u32, u64);

fn state_mismatch() -> ! {
    panic!("bug in tally: a describe state met a column of the other numeric kind")
}

/// The plan derived the state kind from the same schema the store was decoded with.
fn unreachable_type(t: &arrow_schema::DataType) -> ! {
    panic!("bug in tally: the plan and the store disagree on a column type ({t})")
}
