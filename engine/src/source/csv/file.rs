//! A CSV file on disk: mapped, its schema inferred and its record boundaries proven at open, its values
//! decoded in parallel only when a store of some columns is asked for.
//!
//! ```text
//!  open:       map ─► infer the schema (first records) ─► data start (after the header)
//!              ─► split.rs: candidate pieces, scanned on `threads` threads ─► proven ranges, row count
//!  into_store: parallel.rs: the planned columns decoded range by range ─► Output (memfd or spilled file)
//!              ─► IpcFile ─► Store
//! ```
//!
//! Owns the order of those steps and the serial fallback. Knowing the row count at open lets `run` plan
//! chunks before anything is decoded, and decoding only the planned columns is what makes `describe --columns
//! a,b` of a wide CSV cheap (as Polars' and DuckDB's projection pushdown do). A field of a column that is
//! not planned is tokenised but not parsed, so a bad value there is not an error for this run.
//!
//! The serial path (`super::decode`) remains for pipes and for dialects whose quote, delimiter or escape is
//! a line terminator, and takes over, with a note on standard error, if arrow-csv ever reads a range into
//! another number of records than the scan proved.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_csv::reader::Format;
use arrow_schema::SchemaRef;

use super::errors::message;
use super::parallel::{Job, Outcome};
use super::plain::Plain;
use super::split::{self, Dialect, Range, Scan, State};
use super::{CSV_BATCH_ROWS, CsvOptions, ordered};
use crate::error::{Error, Result};
use crate::source::InputFormat;
use crate::source::convert::Output;
use crate::source::ipc::{IpcFile, guarded};
use crate::store::Store;

/// Largest piece one thread scans and decodes at a time: big enough that joining batches at piece ends
/// (one concatenation of under 65,536 rows per piece) costs little, small enough to balance the threads.
const MAX_PIECE: usize = 32 << 20;
/// Smallest automatic piece: below this, starting a thread costs more than it saves.
const MIN_PIECE: usize = 1 << 20;

/// A mapped CSV file whose boundaries are known; values decoded by [`CsvFile::into_store`].
pub struct CsvFile {
    bytes: bytes::Bytes,
    label: PathBuf,
    schema: SchemaRef,
    format: Format,
    options: CsvOptions,
    dialect: Dialect,
    ranges: Vec<Range>,
    rows: u64,
    threads: usize,
}

impl std::fmt::Debug for CsvFile {
    // Not derived: that would print the mapped text.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvFile")
            .field("label", &self.label)
            .field("bytes", &self.bytes.len())
            .field("rows", &self.rows)
            .field("ranges", &self.ranges.len())
            .field("threads", &self.threads)
            .finish_non_exhaustive()
    }
}

impl CsvFile {
    /// Maps and scans `file`; `None` when its dialect cannot be split (then decode it serially).
    pub(crate) fn open(file: &File, label: &Path, options: &CsvOptions) -> Result<Option<CsvFile>> {
        let format = options.format(label)?;
        let (delimiter, quote) = options.delimiter_and_quote(label);
        let Some(dialect) = Dialect::try_new(delimiter, quote, options.escape) else { return Ok(None) };
        if file.metadata().map_err(|e| Error::io("cannot stat", e).with_file(label))?.len() == 0 {
            return Ok(None);
        }
        let bytes = crate::source::ipc::map_bytes(file, label)?;
        let (inferred, _) =
            guarded(|| format.infer_schema(&bytes[..], Some(options.infer_records.max(1)))).map_err(|e| {
                Error::input(format!("malformed CSV (header or first records): {}", message(&e))).with_file(label)
            })?;
        let schema = super::schema_of(inferred, options).map_err(|e| e.with_file(label))?;
        let threads = options.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let start = split::data_start(&bytes, options.header, dialect);
        let piece = options.piece_bytes.unwrap_or(((bytes.len() - start) / (4 * threads)).clamp(MIN_PIECE, MAX_PIECE));
        let pieces = split::candidates(&bytes, start, piece);
        let mut scans = Vec::with_capacity(pieces.len());
        ordered::for_each(
            pieces.len(),
            threads,
            pieces.len(),
            |k| Ok(split::scan(&bytes, pieces[k].0, pieces[k].1, State::RecordStart, dialect)),
            |_, s: Scan| {
                scans.push(s);
                Ok(())
            },
        )?;
        let ranges = split::chain(&bytes, &pieces, &scans, dialect);
        let rows = ranges.iter().map(|r| r.records).sum();
        let format = format.with_header(false);
        let label = label.to_path_buf();
        Ok(Some(CsvFile { bytes, label, schema, format, options: options.clone(), dialect, ranges, rows, threads }))
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    pub fn num_rows(&self) -> u64 {
        self.rows
    }

    /// Batches of the decoded store: [`CSV_BATCH_ROWS`] rows each, the last one shorter.
    pub fn num_batches(&self) -> usize {
        self.rows.div_ceil(CSV_BATCH_ROWS as u64) as usize
    }

    /// The pieces decoded independently (for tests and `-v`).
    pub fn num_ranges(&self) -> usize {
        self.ranges.len()
    }

    /// Decodes the columns `projection` (schema indices) and maps them as a store.
    pub fn into_store(self, projection: &[usize]) -> Result<Store> {
        let mut decoded = projection.to_vec();
        decoded.sort_unstable();
        decoded.dedup();
        self.into_ipc(Some(decoded))?.into_store(projection)
    }

    /// Decodes every column (`None`) or the ascending schema indices `decoded` into an Arrow IPC file of
    /// the file's width, with Null placeholders for the columns not decoded.
    pub fn into_ipc(self, decoded: Option<Vec<usize>>) -> Result<IpcFile> {
        let share = decoded.as_ref().map_or(1.0, |d| d.len() as f64 / self.schema.fields().len().max(1) as f64);
        let job = self.job(decoded);
        // Decoded values take about as many bytes as their text (8-byte numbers from ~8-20 characters).
        let estimate = (self.bytes.len() as f64 * 2.0 * share) as u64;
        let mut out = Output::spilling(&self.label, &job.stored_schema(), Some(estimate))?;
        match job.run(&mut out, &mut |_| {})? {
            Outcome::Done => Ok(out.finish()?.with_format(InputFormat::Csv)),
            Outcome::Unproven { range, scanned, decoded } => {
                drop(out);
                self.note_unproven(range, scanned, decoded);
                self.serial()
            }
        }
    }

    /// Decodes every column straight into `writer` as an uncompressed Arrow IPC file (`tally convert`:
    /// no store in between, so the text is parsed once and the output written once); `written(rows)`
    /// after each batch. `Ok(false)` when the split was unproven: what was written is unusable and the
    /// caller starts over another way.
    pub fn write_ipc(&self, writer: &mut dyn std::io::Write, written: &mut dyn FnMut(u64)) -> Result<bool> {
        let job = self.job(None);
        let mut out = Output::over(&self.label, &job.stored_schema(), writer)?;
        match job.run(&mut out, written)? {
            Outcome::Done => out.end().map(|_| true),
            Outcome::Unproven { range, scanned, decoded } => {
                self.note_unproven(range, scanned, decoded);
                Ok(false)
            }
        }
    }

    fn job(&self, decoded: Option<Vec<usize>>) -> Job<'_> {
        Job {
            plain: Plain::new(&self.schema, decoded.as_deref(), self.dialect, &self.options.nulls),
            bytes: &self.bytes,
            ranges: &self.ranges,
            schema: self.schema.clone(),
            decoded,
            format: self.format.clone(),
            dialect: self.dialect,
            threads: self.threads,
            label: &self.label,
        }
    }

    fn note_unproven(&self, range: usize, scanned: u64, decoded: u64) {
        eprintln!(
            "tally: note: {}: piece {range} of the parallel CSV split decoded to {decoded} records where the \
             scan found {scanned}; decoding the file serially instead (please report this)",
            self.label.display()
        );
    }

    fn serial(self) -> Result<IpcFile> {
        let size = self.bytes.len() as u64;
        super::decode(std::io::Cursor::new(self.bytes), Some(size), &self.options, &self.label)
    }
}
