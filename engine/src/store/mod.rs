//! The Store: validated columns in (shared) memory, viewed by row range.
//!
//! Owns the decoded record batches of the planned columns and the mapping between global row numbers and
//! (batch, offset). Hands kernels typed, validated slices ([`ColumnChunk`]) so they cannot fail. Does not
//! own decoding (see `source/`) or statistics. [`segment`] owns the shared-memory segment that inputs which
//! cannot be mapped as they are get decoded into.

pub mod segment;
pub mod widen;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, SchemaRef};

use crate::error::{Error, Result};
use crate::source::fields::{FieldPath, descend};
use segment::SealedSegment;

/// Where a Store's bytes live, so a worker process can map the same bytes: it opens the file again, or maps
/// the segment through an inherited descriptor ([`SealedSegment::inheritable_fd`]).
#[derive(Clone, Debug)]
pub enum Origin {
    /// A file known only by its path (in-memory test stores); a worker would open it again.
    File(PathBuf),
    /// An uncompressed Arrow IPC file on disk, mapped as it is through this open descriptor. Workers inherit
    /// a duplicate of it, so they read the very file the parent planned on even if the path is replaced.
    OpenFile { path: PathBuf, file: Arc<std::fs::File> },
    /// A sealed memfd holding the input decoded into an uncompressed Arrow IPC file (streams, compressed files).
    Segment(Arc<SealedSegment>),
    /// A Parquet file decoded on demand ([`Store::lazy`]): workers inherit this descriptor, read the footer
    /// again and decode their own chunks.
    Parquet { path: PathBuf, file: Arc<std::fs::File> },
    /// A `.npy` file whose columns are slices of its mapping; `names` are the columns' names.
    Npy { path: PathBuf, file: Arc<std::fs::File>, names: Vec<String> },
    /// The files of a dataset, in order ([`Store::concat`]).
    Many(Vec<Origin>),
}

/// Decodes rows of a lazily decoded store's batches on demand (Parquet, `source/parquet/lazy.rs`): rows
/// `offset..offset + len` of batch `batch`, as a record batch of the store's schema.
pub trait DecodeRows: Send + Sync + std::fmt::Debug {
    fn decode(&self, batch: usize, offset: usize, len: usize) -> Result<RecordBatch>;
}

/// A run of values of one column with its validity bitmap: what a statistic's `update` consumes.
#[derive(Clone, Copy, Debug)]
pub struct ColumnChunk<'a, T> {
    pub values: &'a [T],
    /// Little-endian bit words, bit `i` set when `values[i]` is to be used (valid, and selected by the
    /// filter if there is one); `None` when all are. Bits past `values.len()` are zero.
    pub validity: Option<&'a [u64]>,
    /// Rows masked out of `validity` by a `--where` filter: they are neither values nor nulls.
    pub excluded: usize,
}

impl<'a, T> ColumnChunk<'a, T> {
    /// A chunk without filtered rows.
    pub fn new(values: &'a [T], validity: Option<&'a [u64]>) -> Self {
        ColumnChunk { values, validity, excluded: 0 }
    }

    /// Rows `range` of a chunk without filtered rows; `range.start` is a multiple of 64, so the validity
    /// words slice whole (and the bits past `range.end` stay zero where `range.end` is the chunk's end).
    pub fn rows(&self, range: std::ops::Range<usize>) -> Self {
        assert!(
            range.start.is_multiple_of(64) && self.excluded == 0,
            "bug in tally: a chunk sliced off a word boundary"
        );
        let validity = self.validity.map(|w| &w[range.start / 64..range.end.div_ceil(64)]);
        ColumnChunk { values: &self.values[range], validity, excluded: 0 }
    }

    /// Nulls among the rows in play (filtered-out rows are not counted).
    pub fn null_count(&self) -> usize {
        match self.validity {
            None => 0,
            Some(words) => {
                self.values.len() - self.excluded - words.iter().map(|w| w.count_ones() as usize).sum::<usize>()
            }
        }
    }
}

/// Float element types, widened to f64 for the kernels (exactly: every f32 is an f64).
pub trait FloatElem: Copy + Send + Sync + 'static {
    /// The values as f64, borrowing when they already are.
    fn widen<'a>(xs: &'a [Self], scratch: &'a mut Vec<f64>) -> &'a [f64];
}

impl FloatElem for f64 {
    fn widen<'a>(xs: &'a [f64], _: &'a mut Vec<f64>) -> &'a [f64] {
        xs
    }
}

impl FloatElem for f32 {
    fn widen<'a>(xs: &'a [f32], scratch: &'a mut Vec<f64>) -> &'a [f64] {
        scratch.clear();
        scratch.extend(xs.iter().map(|&x| f64::from(x)));
        scratch
    }
}

/// Integer element types, widened to i128 (exact for every Arrow integer).
pub trait IntElem: Copy + Ord + Send + Sync + 'static {
    fn to_i128(self) -> i128;
    /// The two's complement bits as i64 (wrapping for u64 above i64::MAX): differences of values less than
    /// 2^63 apart are exact with `wrapping_sub`.
    fn to_i64_wrapping(self) -> i64;
    /// `self − shift` as f64, for differences below 2^53. Types of at most 32 bits subtract in f64, which is
    /// exact for them and vectorises (SSE2 converts i32 to f64 in packs, i64 only one at a time).
    fn delta_f64(self, shift: i64, shift_f64: f64) -> f64;
    /// The values as one of the signed widths the vector kernels take (`stats/int_block.rs`), if they are.
    fn signed_view(xs: &[Self]) -> SignedView<'_> {
        let _ = xs;
        SignedView::Other
    }
}

/// A slice of integers seen as the signed type it is, where it is one the vector kernels take.
#[derive(Debug)]
pub enum SignedView<'a> {
    I64(&'a [i64]),
    I32(&'a [i32]),
    Other,
}

impl IntElem for i64 {
    #[inline(always)]
    fn to_i128(self) -> i128 {
        self as i128
    }
    #[inline(always)]
    fn to_i64_wrapping(self) -> i64 {
        self
    }
    #[inline(always)]
    fn delta_f64(self, shift: i64, _: f64) -> f64 {
        self.wrapping_sub(shift) as f64
    }
    fn signed_view(xs: &[i64]) -> SignedView<'_> {
        SignedView::I64(xs)
    }
}

impl IntElem for i32 {
    #[inline(always)]
    fn to_i128(self) -> i128 {
        self as i128
    }
    #[inline(always)]
    fn to_i64_wrapping(self) -> i64 {
        self as i64
    }
    #[inline(always)]
    fn delta_f64(self, _: i64, shift_f64: f64) -> f64 {
        self as f64 - shift_f64
    }
    fn signed_view(xs: &[i32]) -> SignedView<'_> {
        SignedView::I32(xs)
    }
}

macro_rules! int_elem {
    ($narrow_or_wide:ident: $($t:ty),*) => { $(impl IntElem for $t {
        #[inline(always)]
        fn to_i128(self) -> i128 { self as i128 }
        #[inline(always)]
        fn to_i64_wrapping(self) -> i64 { self as i64 }
        #[inline(always)]
        fn delta_f64(self, shift: i64, shift_f64: f64) -> f64 { int_elem!(@delta $narrow_or_wide, self, shift, shift_f64) }
    })* };
    (@delta narrow, $x:expr, $shift:expr, $shift_f64:expr) => { { let _ = $shift; $x as f64 - $shift_f64 } };
    (@delta wide, $x:expr, $shift:expr, $shift_f64:expr) => { { let _ = $shift_f64; ($x as i64).wrapping_sub($shift) as f64 } };
}
int_elem!(narrow: i8, i16, u8, u16, u32);
int_elem!(wide: u64);

/// How the engine treats a column's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ColumnKind {
    Float,
    Int,
    /// Decimal32/64/128/256 of this scale: exact integer statistics (`stats/describe_decimal.rs`).
    Decimal {
        scale: i8,
    },
    /// Strings (`utf8`) and binary: counts, bytewise min/max, lengths (`stats/describe_bytes.rs`).
    Bytes {
        utf8: bool,
    },
    /// Struct, list, map and union columns: listed by `schema`, skipped by analyses (struct fields are
    /// columns of their own, `a.b`: `source/fields.rs`).
    Nested,
    /// Counted (count, null_count) but not computed on (null, interval, run-end encoded columns).
    Other,
}

impl ColumnKind {
    /// The kind of a column of `data_type`: natively, or through the conversion [`widen::widen`] applies
    /// (float16, booleans, dates, times, timestamps, durations, dictionaries of any of these kinds).
    pub fn of(data_type: &DataType) -> ColumnKind {
        match data_type {
            DataType::Float16 => ColumnKind::Float,
            DataType::Boolean
            | DataType::Date32
            | DataType::Date64
            | DataType::Time32(_)
            | DataType::Time64(_)
            | DataType::Timestamp(_, _)
            | DataType::Duration(_) => ColumnKind::Int,
            DataType::Dictionary(_, values) => ColumnKind::of(values),
            DataType::Float32 | DataType::Float64 => ColumnKind::Float,
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64 => ColumnKind::Int,
            DataType::Decimal32(_, s)
            | DataType::Decimal64(_, s)
            | DataType::Decimal128(_, s)
            | DataType::Decimal256(_, s) => ColumnKind::Decimal { scale: *s },
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => ColumnKind::Bytes { utf8: true },
            DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => {
                ColumnKind::Bytes { utf8: false }
            }
            DataType::Struct(_)
            | DataType::List(_)
            | DataType::LargeList(_)
            | DataType::ListView(_)
            | DataType::LargeListView(_)
            | DataType::FixedSizeList(_, _)
            | DataType::Map(_, _)
            | DataType::Union(_, _) => ColumnKind::Nested,
            _ => ColumnKind::Other,
        }
    }

    /// Float and integer columns: what numeric analyses (histograms, quantiles, correlations, group-by
    /// aggregations) compute on.
    pub fn is_numeric(self) -> bool {
        matches!(self, ColumnKind::Float | ColumnKind::Int)
    }
}

/// Decoded, validated columns and the row-number index over their batches.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    /// `starts[i]` is the first row of batch `i`; `starts[batches.len()]` the row count.
    starts: Vec<u64>,
    mapping: Range<usize>,
    copied_batches: usize,
    origin: Origin,
    /// Set for stores whose batches are decoded chunk by chunk ([`Store::lazy`]); `batches` is then empty.
    decoder: Option<Arc<dyn DecodeRows>>,
    /// Set when some columns are struct fields ([`Store::with_fields`]): where each store column comes
    /// from in the batches, which then hold the struct columns.
    fields: Option<Vec<FieldPath>>,
}

impl Store {
    /// Builds a store over decoded batches. `mapping` is the address range of the mapped bytes (for the
    /// zero-copy check); `copied_batches` counts batches that had to be copied to fix their alignment;
    /// `origin` says where the mapped bytes come from.
    pub fn try_new(
        path: PathBuf,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
        mapping: Range<usize>,
        copied_batches: usize,
        origin: Origin,
    ) -> Result<Self> {
        let mut starts = Vec::with_capacity(batches.len() + 1);
        let mut row = 0u64;
        for batch in &batches {
            if batch.schema().fields() != schema.fields() {
                return Err(Error::internal("record batch schema differs from the store schema"));
            }
            starts.push(row);
            row += batch.num_rows() as u64;
        }
        starts.push(row);
        Ok(Store { path, schema, batches, starts, mapping, copied_batches, origin, decoder: None, fields: None })
    }

    /// A store whose batches (of `batch_rows` rows each) are decoded when a chunk is loaded
    /// ([`Store::load`]), by `decoder`, in whichever thread or process computes the chunk.
    pub fn lazy(
        path: PathBuf,
        schema: SchemaRef,
        batch_rows: &[u64],
        decoder: Arc<dyn DecodeRows>,
        origin: Origin,
    ) -> Store {
        let starts: Vec<u64> = std::iter::once(0)
            .chain(batch_rows.iter().scan(0, |row, n| {
                *row += n;
                Some(*row)
            }))
            .collect();
        Store {
            path,
            schema,
            batches: Vec::new(),
            starts,
            mapping: 0..0,
            copied_batches: 0,
            origin,
            decoder: Some(decoder),
            fields: None,
        }
    }

    /// This store's columns seen through `paths` (one per column of `schema`): struct fields read from
    /// their struct column ([`crate::source::fields`]).
    pub fn with_fields(mut self, schema: SchemaRef, paths: Vec<FieldPath>) -> Store {
        self.schema = schema;
        self.fields = Some(paths);
        self
    }

    /// Store column `column` out of a batch of the underlying columns.
    fn column_of(&self, batch: &RecordBatch, column: usize) -> ArrayRef {
        match &self.fields {
            None => batch.column(column).clone(),
            Some(paths) => descend(batch.column(paths[column].base), &paths[column].path),
        }
    }

    /// The stores of a dataset's files, one after the other: their batches in order, re-labelled with the
    /// dataset's `schema` where only nullability or metadata differ. `path` labels the dataset (its first
    /// file). Lazily decoded stores cannot be concatenated.
    pub fn concat(path: PathBuf, schema: SchemaRef, stores: Vec<Store>) -> Result<Store> {
        let mapping = stores.first().map_or(0..0, |s| s.mapping());
        let copied = stores.iter().map(|s| s.copied_batches).sum();
        let mut batches = Vec::new();
        let mut origins = Vec::with_capacity(stores.len());
        for store in stores {
            if store.decoder.is_some() || store.fields.is_some() {
                return Err(Error::internal("a lazily decoded or field-mapped store cannot be part of a dataset"));
            }
            for batch in store.batches {
                let batch = if batch.schema().fields() == schema.fields() {
                    batch
                } else {
                    RecordBatch::try_new(schema.clone(), batch.columns().to_vec())
                        .map_err(|e| Error::internal(format!("dataset member does not fit the schema: {e}")))?
                };
                batches.push(batch);
            }
            origins.push(store.origin);
        }
        Store::try_new(path, schema, batches, mapping, copied, Origin::Many(origins))
    }

    /// Record batch `i` with all the store's columns: the mapped batch, or decoded now for lazy stores.
    pub fn batch(&self, i: usize) -> Result<RecordBatch> {
        let batch = match &self.decoder {
            None => self.batches[i].clone(),
            Some(d) => d.decode(i, 0, (self.starts[i + 1] - self.starts[i]) as usize)?,
        };
        if self.fields.is_none() {
            return Ok(batch);
        }
        let columns = (0..self.schema.fields().len()).map(|c| self.column_of(&batch, c)).collect();
        RecordBatch::try_new(self.schema.clone(), columns).map_err(|e| Error::internal(e.to_string()))
    }

    /// Number of record batches (decoded or to be decoded).
    pub fn num_batches(&self) -> usize {
        self.starts.len() - 1
    }

    /// One piece (of [`piece_ranges`](Self::piece_ranges)) with its data: borrowed from the mapped batches,
    /// or decoded now for lazy stores (the only way a store can fail after it was built: a Parquet page
    /// that does not decode). A piece at a time, so a chunk of a lazy store holds one decoded piece (at most
    /// a row group's rows) in memory, however many rows the chunk spans: grouped analyses take chunks of
    /// millions of rows (`plan::grouped_chunk_rows`).
    pub fn load(&self, piece: Piece) -> Result<Loaded<'_>> {
        let decoded = match &self.decoder {
            None => None,
            Some(d) => Some(d.decode(piece.batch, piece.offset, piece.len)?),
        };
        Ok(Loaded { store: self, piece, decoded })
    }

    /// Where the bytes behind the batches live (a file, or a sealed shared-memory segment).
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    pub fn num_rows(&self) -> u64 {
        *self.starts.last().expect("starts is never empty")
    }

    pub fn batches(&self) -> &[RecordBatch] {
        &self.batches
    }

    /// Address range of the mapped input: every zero-copy buffer lies inside it.
    pub fn mapping(&self) -> Range<usize> {
        self.mapping.clone()
    }

    /// Batches whose buffers were misaligned in the file and were copied to aligned memory.
    pub fn copied_batches(&self) -> usize {
        self.copied_batches
    }

    /// The pieces of column `column` covering `rows`, one zero-copy slice per batch touched, in row order.
    pub fn pieces(&self, column: usize, rows: Range<u64>) -> impl Iterator<Item = ArrayRef> + '_ {
        self.piece_ranges(rows).map(move |p| self.slice(column, &p))
    }

    /// The per-batch pieces covering `rows`, in row order: every column is cut at the same places.
    pub fn piece_ranges(&self, rows: Range<u64>) -> impl Iterator<Item = Piece> + '_ {
        let first = self.starts.partition_point(|&s| s <= rows.start).saturating_sub(1);
        // `starts` has one entry per batch plus the end, for mapped and lazy stores alike.
        self.starts[first.min(self.num_batches())..]
            .windows(2)
            .enumerate()
            .take_while(move |(_, w)| w[0] < rows.end)
            .filter_map(move |(i, w)| {
                let (start, end) = (w[0], w[1]);
                let lo = rows.start.max(start);
                let hi = rows.end.min(end);
                (lo < hi).then_some(Piece { batch: first + i, offset: (lo - start) as usize, len: (hi - lo) as usize })
            })
    }

    /// Column `column` of one piece, zero copy. Only for stores that are not lazy (use [`Store::load`]).
    pub fn slice(&self, column: usize, piece: &Piece) -> ArrayRef {
        match &self.fields {
            None => self.batches[piece.batch].column(column).slice(piece.offset, piece.len),
            Some(paths) => {
                let base = self.batches[piece.batch].column(paths[column].base).slice(piece.offset, piece.len);
                descend(&base, &paths[column].path)
            }
        }
    }
}

/// One piece of a chunk with its data ([`Store::load`]).
#[derive(Debug)]
pub struct Loaded<'a> {
    store: &'a Store,
    pub piece: Piece,
    /// The decoded batch of a lazy store; `None` otherwise.
    decoded: Option<RecordBatch>,
}

impl Loaded<'_> {
    /// Column `column` of the piece.
    pub fn slice(&self, column: usize) -> ArrayRef {
        match &self.decoded {
            Some(batch) => self.store.column_of(batch, column),
            None => self.store.slice(column, &self.piece),
        }
    }
}

/// Rows `offset..offset + len` of batch `batch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    pub batch: usize,
    pub offset: usize,
    pub len: usize,
}

/// Bit words of an array's validity (bit `i` ↔ value `i`), or `None` when it has no nulls.
pub fn validity_words(array: &dyn Array) -> Option<Vec<u64>> {
    let nulls = array.logical_nulls()?;
    (nulls.null_count() > 0).then(|| nulls.inner().bit_chunks().iter_padded().collect())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::Int64Array;
    use arrow_schema::{Field, Schema};

    use super::*;

    fn store_of(batch_lens: &[i64]) -> Store {
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
        let mut next = 0;
        let batches = batch_lens
            .iter()
            .map(|&n| {
                let values: Vec<i64> = (next..next + n).collect();
                next += n;
                RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(values))]).unwrap()
            })
            .collect();
        Store::try_new("t".into(), schema, batches, 0..0, 0, Origin::File("t".into())).unwrap()
    }

    fn rows_of(store: &Store, rows: Range<u64>) -> Vec<i64> {
        store.pieces(0, rows).flat_map(|a| a.as_any().downcast_ref::<Int64Array>().unwrap().values().to_vec()).collect()
    }

    #[test]
    fn pieces_cover_exactly_the_requested_rows_across_batches() {
        let store = store_of(&[3, 0, 5, 2]);
        assert_eq!(store.num_rows(), 10);
        for lo in 0..=10u64 {
            for hi in lo..=10u64 {
                let expected: Vec<i64> = (lo as i64..hi as i64).collect();
                assert_eq!(rows_of(&store, lo..hi), expected, "rows {lo}..{hi}");
            }
        }
    }

    #[test]
    fn null_count_ignores_padding_bits() {
        let chunk = ColumnChunk::new(&[1.0f64; 70], Some(&[u64::MAX, 0b101]));
        assert_eq!(chunk.null_count(), 70 - 66);
    }
}
