//! The per-chunk kernel shared by every executor: a chunk's rows in, one partial state per pass entry out.
//!
//! Infallible by design: the Source validated types, lengths and null buffers, and the Plan checked that
//! every entry names planned columns, so this only dispatches on the (already checked) column type and
//! feeds typed slices to the statistics. A chunk is walked piece by piece (one piece per record batch it
//! touches); every entry of the pass sees the same piece while it is in cache.
//!
//! ```text
//!  piece ─► filter? ─► selection words (once per piece) ─┐
//!        └─► column piece ─► validity words ─── AND ─────┴─► NumericChunk{values, validity, excluded} ─► stat
//! ```
//!
//! A `--where` filter is folded into each column's validity: a row it drops is masked out like a null, and
//! `excluded` tells the statistics how many masked rows were dropped rather than null, so they count
//! neither as values nor as nulls.

use arrow_array::Array;

use crate::error::Result;
use crate::plan::{Chunk, Pass, Plan};
use crate::stats::numeric::{NumericChunk, numeric_chunk, numeric_dispatch};
use crate::stats::{AnyPartial, FloatDescribe, IntDescribe, PartialSet, Range, Stat};
use crate::store::{ColumnChunk, Loaded, Store, validity_words};

/// Computes the partial states of every entry of `pass` over `chunk`'s rows. Fails only when a lazily
/// decoded store (Parquet) cannot decode the chunk's rows; the statistics themselves cannot fail.
pub fn compute_chunk(plan: &Plan, pass: &Pass, store: &Store, chunk: &Chunk) -> Result<PartialSet> {
    let mut set = plan.empty_partials(pass);
    for piece in store.piece_ranges(chunk.rows.clone()) {
        let loaded = store.load(piece).map_err(|e| e.with_chunk(chunk.id, chunk.rows.clone()))?;
        compute_piece(plan, pass, &loaded, &mut set);
    }
    Ok(set)
}

/// Adds one loaded piece to the chunk's partial states `set`.
fn compute_piece(plan: &Plan, pass: &Pass, loaded: &Loaded<'_>, set: &mut PartialSet) {
    let len = loaded.piece.len;
    let selection = plan.filter.as_ref().map(|f| {
        let arrays: Vec<_> = f.positions.iter().map(|&p| loaded.slice(p)).collect();
        let refs: Vec<&dyn Array> = arrays.iter().map(|a| a.as_ref()).collect();
        f.filter.evaluate(&refs)
    });
    let selected = selection.as_deref().map_or(len, popcount);
    set.rows += selected as u64;
    if selected == 0 {
        return;
    }
    let selection = Selection { words: selection.as_deref(), excluded: len - selected };
    for (entry, state) in pass.entries.iter().zip(&mut set.stats) {
        if let (AnyPartial::Groups(groups), Stat::GroupBy(spec)) = (&mut *state, &entry.stat) {
            // Group-by sees the selection apart from the key's nulls: a null key is a group, a
            // filtered-out row is not a row.
            let arrays: Vec<_> = entry.columns.iter().map(|&c| loaded.slice(c)).collect();
            let refs: Vec<&dyn Array> = arrays.iter().map(|a| a.as_ref()).collect();
            let (keys, values) = refs.split_at(spec.keys.len());
            groups.update(keys, values, selection.words);
            continue;
        }
        if let AnyPartial::Sketch(sketch) = &mut *state {
            sketch.update(loaded.slice(entry.columns[0]).as_ref(), selection.words);
            continue;
        }
        let columns: Vec<Column> = entry.columns.iter().map(|&c| Column::load(loaded, c, &selection)).collect();
        update(state, &entry.stat, &columns);
    }
}

/// The filter's answer for one piece.
struct Selection<'a> {
    words: Option<&'a [u64]>,
    excluded: usize,
}

/// One column of one piece, with its validity already combined with the selection.
struct Column {
    array: arrow_array::ArrayRef,
    validity: Option<Vec<u64>>,
    excluded: usize,
}

impl Column {
    fn load(loaded: &Loaded<'_>, column: usize, selection: &Selection<'_>) -> Column {
        // float16, booleans, temporal types and dictionaries are read as primitive values (store/widen.rs).
        let array = crate::store::widen::widen(loaded.slice(column));
        let validity = match (validity_words(array.as_ref()), selection.words) {
            (v, None) => v,
            (None, Some(s)) => Some(s.to_vec()),
            (Some(mut v), Some(s)) => {
                v.iter_mut().zip(s).for_each(|(v, s)| *v &= s);
                Some(v)
            }
        };
        Column { array, validity, excluded: selection.excluded }
    }

    fn numeric(&self) -> NumericChunk<'_> {
        let mut chunk = numeric_chunk(self.array.as_ref(), self.validity.as_deref())
            .unwrap_or_else(|| unreachable_type(self.array.data_type()));
        numeric_dispatch!(&mut chunk, c => c.excluded = self.excluded);
        chunk
    }

    /// Values and nulls among the selected rows, for columns tally only counts.
    fn counts(&self) -> (usize, usize) {
        let len = self.array.len() - self.excluded;
        match &self.validity {
            None => (len, 0),
            Some(words) => {
                let valid = popcount(words);
                (valid, len - valid)
            }
        }
    }
}

fn popcount(words: &[u64]) -> usize {
    words.iter().map(|w| w.count_ones() as usize).sum()
}

fn update(state: &mut AnyPartial, stat: &Stat, columns: &[Column]) {
    match (state, stat) {
        (AnyPartial::Counts(c), _) => {
            let (values, nulls) = columns[0].counts();
            c.update(values + nulls, nulls);
        }
        (AnyPartial::Decimal(d), _) => {
            let c = &columns[0];
            d.update(c.array.as_ref(), c.validity.as_deref(), c.excluded)
        }
        (AnyPartial::Bytes(b), _) => {
            let c = &columns[0];
            b.update(c.array.as_ref(), c.validity.as_deref(), c.excluded)
        }
        (AnyPartial::Histogram(h), Stat::Histogram(spec)) => h.update(spec, columns[0].numeric()),
        (AnyPartial::KeyHistogram(h), Stat::KeyHistogram { float_keys, .. }) => {
            h.update(columns[0].numeric(), *float_keys)
        }
        (AnyPartial::KeyWindows(w), Stat::KeyWindows(windows)) => w.update(windows, columns[0].numeric()),
        (AnyPartial::Groups(_) | AnyPartial::Sketch(_), _) => {
            panic!("bug in tally: a group-by state without its statistic")
        }
        (AnyPartial::CoMoments(m), _) => {
            let chunks: Vec<NumericChunk<'_>> = columns.iter().map(Column::numeric).collect();
            m.update(&chunks);
        }
        (state, _) => numeric_dispatch!(columns[0].numeric(), c => update_typed(state, c)),
    }
}

/// One typed chunk into a single-column state. The plan chose the state from the column's type, so float
/// states only ever see float chunks and integer states integer chunks.
fn update_typed<T: Numeric>(state: &mut AnyPartial, chunk: ColumnChunk<'_, T>) {
    match state {
        AnyPartial::Float(s) => T::describe_float(s, chunk),
        AnyPartial::Int(s) => T::describe_int(s, chunk),
        AnyPartial::Range(r) => T::range(r, chunk),
        other => panic!("bug in tally: a {} state with the wrong statistic", other.kind_name()),
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
