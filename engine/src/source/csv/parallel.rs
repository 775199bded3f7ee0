//! Decodes the record ranges of a mapped CSV file (`split.rs`) on several threads, and writes the batches
//! into the store in file order, cut exactly as a serial decode cuts them. A range without quotes goes
//! through `plain.rs` (the same arrays, without csv-core); any other, and any `plain.rs` declines, through
//! arrow-csv.
//!
//! ```text
//!  Range k (start, end, records; first row R_k = Σ records before) ─► thread: arrow-csv Decoder over
//!      bytes[start..end]: a first batch of (65,536 − R_k mod 65,536) rows, then batches of 65,536
//!  ─► ordered.rs: results in k order ─► Rebatch: joins the last batch of range k with the first of k + 1
//!  ─► Output (memfd, or the unnamed temporary file when too big: spill.rs): batches of CSV_BATCH_ROWS
//! ```
//!
//! Owns the per-range decode, the re-cutting and the error locations; the boundaries are `split.rs`'s.
//! Every batch boundary falls on a multiple of [`CSV_BATCH_ROWS`] rows from the start of the file, as in a
//! serial decode, so the store's batches (and everything computed from them) do not depend on the thread
//! count. Only `window` ranges are decoded ahead of the writer, so memory stays bounded by a few pieces.
//!
//! Each range is checked against the scan: arrow-csv must decode exactly the records the scan counted.
//! A mismatch would mean the proof in `split.rs` does not hold for this text; it is reported as
//! [`Outcome::Unproven`] and the caller decodes the file serially instead (never a silently wrong split).

use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, NullArray, RecordBatch};
use arrow_csv::reader::{Decoder, Format};
use arrow_schema::{ArrowError, Schema, SchemaRef};

use super::CSV_BATCH_ROWS;
use super::errors::{Located, bad_record};
use super::ordered;
use super::plain::Plain;
use super::split::{Dialect, Range, record_offset};
use crate::error::{Error, Result};
use crate::source::convert::Output;
use crate::source::ipc::guarded;

/// What to decode: the mapped text, its ranges, the full schema and the columns wanted.
pub(crate) struct Job<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) ranges: &'a [Range],
    /// The schema of every column in the file.
    pub(crate) schema: SchemaRef,
    /// Schema indices to decode, ascending; every other column is stored as a [`NullArray`] placeholder.
    pub(crate) decoded: Option<Vec<usize>>,
    /// The dialect without a header (each range starts at a record).
    pub(crate) format: Format,
    pub(crate) dialect: Dialect,
    pub(crate) threads: usize,
    pub(crate) label: &'a Path,
    /// The fast path for ranges without quotes (`plain.rs`), when every decoded type has one.
    pub(crate) plain: Option<Plain>,
}

/// How decoding ended.
pub(crate) enum Outcome {
    Done,
    /// arrow-csv read another number of records than the scan proved: decode serially instead.
    Unproven {
        range: usize,
        scanned: u64,
        decoded: u64,
    },
}

impl Job<'_> {
    /// The schema of the store: the file's, with placeholder (Null) types for the columns not decoded, so
    /// worker processes find every column at its index in the file.
    pub(crate) fn stored_schema(&self) -> SchemaRef {
        let Some(decoded) = &self.decoded else { return self.schema.clone() };
        let fields: Vec<_> = self
            .schema
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| {
                if decoded.contains(&i) {
                    f.as_ref().clone()
                } else {
                    arrow_schema::Field::new(f.name(), arrow_schema::DataType::Null, true)
                }
            })
            .collect();
        Arc::new(Schema::new(fields))
    }

    /// Decodes every range into `out`, in order; `written(rows)` after each batch written.
    pub(crate) fn run<W: std::io::Write>(
        &self,
        out: &mut Output<'_, W>,
        written: &mut dyn FnMut(u64),
    ) -> Result<Outcome> {
        let firsts: Vec<u64> =
            self.ranges.iter().scan(0u64, |row, r| Some(std::mem::replace(row, *row + r.records))).collect();
        let stored = self.stored_schema();
        let mut rebatch = Rebatch::default();
        let mut unproven = None;
        let window = self.threads + 2;
        let mut emit = |b: RecordBatch| -> Result<()> {
            out.write(&b)?;
            written(b.num_rows() as u64);
            Ok(())
        };
        let done = ordered::for_each(
            self.ranges.len(),
            self.threads,
            window,
            |k| self.decode_range(k, firsts[k]),
            |k, batches| {
                let decoded: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();
                if decoded != self.ranges[k].records {
                    unproven = Some(Outcome::Unproven { range: k, scanned: self.ranges[k].records, decoded });
                    return Err(Error::internal("unproven split"));
                }
                for batch in batches {
                    let batch = self.widen(batch, &stored)?;
                    rebatch.push(batch, &mut emit)?;
                }
                Ok(())
            },
        );
        if let Some(outcome) = unproven {
            return Ok(outcome);
        }
        done?;
        rebatch.finish(&mut emit)?;
        Ok(Outcome::Done)
    }

    fn decoder(&self, batch_rows: usize) -> Decoder {
        let mut builder = arrow_csv::ReaderBuilder::new(self.schema.clone())
            .with_format(self.format.clone())
            .with_batch_size(batch_rows);
        if let Some(p) = &self.decoded {
            builder = builder.with_projection(p.clone());
        }
        builder.build_decoder()
    }

    /// Range `k`, whose first record is row `first` of the file: batches cut on the file's
    /// [`CSV_BATCH_ROWS`] grid (a short first batch up to the next multiple, then full ones).
    fn decode_range(&self, k: usize, first: u64) -> Result<Vec<RecordBatch>> {
        let range = self.ranges[k];
        let text = &self.bytes[range.start..range.end];
        let head = CSV_BATCH_ROWS - (first % CSV_BATCH_ROWS as u64) as usize;
        if let Some(batches) = self.plain.as_ref().and_then(|p| p.decode(text, head, CSV_BATCH_ROWS)) {
            return Ok(batches);
        }
        let mut decoder = self.decoder(head);
        let mut batches = Vec::new();
        let (mut pos, mut rows, mut since) = (0, 0u64, 0u64);
        loop {
            let fail = |e: ArrowError| self.error(&e, range, since);
            let n = guarded(|| decoder.decode(&text[pos..])).map_err(fail)?;
            pos += n;
            if n > 0 && decoder.capacity() > 0 {
                continue;
            }
            match guarded(|| decoder.flush()).map_err(fail)? {
                Some(batch) => {
                    rows += batch.num_rows() as u64;
                    batches.push(batch);
                    if batches.len() == 1 && head != CSV_BATCH_ROWS {
                        // The rest of the range in full batches; its record numbers restart at 0.
                        decoder = self.decoder(CSV_BATCH_ROWS);
                        since = rows;
                    }
                }
                None if n == 0 => return Ok(batches),
                None => {}
            }
        }
    }

    /// An arrow-csv error of range `range` (in a decoder that began `since` records into it), located.
    fn error(&self, e: &ArrowError, range: Range, since: u64) -> Error {
        let line = |record: u64| {
            let at = record_offset(self.bytes, range.start, since + record, self.dialect);
            1 + memchr::memchr_iter(b'\n', &self.bytes[..at]).count() as u64
        };
        bad_record(e, &self.schema, &Located::Lines(&line)).with_file(self.label)
    }

    /// The decoded columns placed at their file indices, with Null placeholders between them.
    fn widen(&self, batch: RecordBatch, stored: &SchemaRef) -> Result<RecordBatch> {
        let Some(decoded) = &self.decoded else { return Ok(batch) };
        let rows = batch.num_rows();
        let mut got = batch.columns().iter();
        let columns: Vec<ArrayRef> = (0..self.schema.fields().len())
            .map(|i| {
                if decoded.contains(&i) {
                    got.next().cloned().ok_or_else(|| Error::internal("arrow-csv returned too few columns"))
                } else {
                    Ok(Arc::new(NullArray::new(rows)) as ArrayRef)
                }
            })
            .collect::<Result<_>>()?;
        RecordBatch::try_new(stored.clone(), columns).map_err(|e| Error::internal(format!("widening a CSV batch: {e}")))
    }
}

/// Re-cuts batches arriving in order into batches of exactly [`CSV_BATCH_ROWS`] rows (the last one
/// shorter): a batch already on the grid passes through untouched, a split one is joined with
/// `arrow_select::concat` (once per range boundary, because ranges are decoded on the grid).
#[derive(Default)]
struct Rebatch {
    pending: Vec<RecordBatch>,
    rows: usize,
}

impl Rebatch {
    fn push(&mut self, batch: RecordBatch, emit: &mut dyn FnMut(RecordBatch) -> Result<()>) -> Result<()> {
        let mut offset = 0;
        while offset < batch.num_rows() {
            let take = (CSV_BATCH_ROWS - self.rows).min(batch.num_rows() - offset);
            let part = if offset == 0 && take == batch.num_rows() { batch.clone() } else { batch.slice(offset, take) };
            offset += take;
            if self.pending.is_empty() && take == CSV_BATCH_ROWS {
                emit(part)?;
                continue;
            }
            self.pending.push(part);
            self.rows += take;
            if self.rows == CSV_BATCH_ROWS {
                self.flush(emit)?;
            }
        }
        Ok(())
    }

    fn flush(&mut self, emit: &mut dyn FnMut(RecordBatch) -> Result<()>) -> Result<()> {
        let parts = std::mem::take(&mut self.pending);
        self.rows = 0;
        match parts.as_slice() {
            [] => Ok(()),
            [one] => emit(one.clone()),
            [first, ..] => {
                let joined = arrow_select::concat::concat_batches(&first.schema(), &parts)
                    .map_err(|e| Error::internal(format!("joining CSV batches: {e}")))?;
                emit(joined)
            }
        }
    }

    fn finish(mut self, emit: &mut dyn FnMut(RecordBatch) -> Result<()>) -> Result<()> {
        self.flush(emit)
    }
}
