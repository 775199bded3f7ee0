//! CSV input (`arrow-csv`): the schema inferred from a sample (with `--schema` overrides), then every
//! record decoded once into an uncompressed Arrow IPC file in a memfd, or in an unnamed temporary file when
//! it would not fit in memory (`spill.rs`).
//!
//! ```text
//!  regular file ─► file.rs: map, infer, split.rs: proven record ranges ─► parallel.rs: ranges decoded on
//!                  threads, batches written in file order (ordered.rs) ─► Output
//!  pipe / stdin ─► Recording (keeps the bytes the sample read) ─► Format::infer_schema (first N records)
//!               └► replay the kept bytes, then the rest ─► arrow-csv Reader ─► batches ─► Output
//! ```
//!
//! Owns the CSV dialect (header, delimiter, quote, escape, null markers), type inference and its
//! overrides. Both paths cut the data into batches of [`CSV_BATCH_ROWS`] rows counted from the first
//! record, so a file decoded in parallel (any thread count) and the same text read from a pipe give the same
//! store. Errors name the file, the line where the bad record begins and its column (`errors.rs`): exact
//! for mapped files, quoted newlines included; the serial pipe path counts records as lines (one header
//! line + the record's index), which is the same whenever no quoted field spans lines.
//!
//! Modules: `split.rs` proves where the text can be cut (hand-written, see there why), `ordered.rs` runs
//! work on threads with results in order, `parallel.rs` decodes ranges and re-cuts batches, `file.rs` ties
//! them to an opened file, `errors.rs` turns arrow-csv's messages into tally's.

mod errors;
mod file;
mod ordered;
mod parallel;
mod plain;
mod separators;
mod split;

pub use file::CsvFile;

use std::io::{BufReader, Cursor, Read};
use std::path::Path;
use std::sync::Arc;

use arrow_csv::reader::Format as CsvFormat;
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use super::InputFormat;
use super::convert::Output;
use super::ipc::{IpcFile, guarded};
use crate::error::{Error, Result};
use errors::{Located, bad_record, message};

/// Rows per record batch of a decoded CSV file (the kernels walk chunks batch piece by batch piece).
pub const CSV_BATCH_ROWS: usize = 1 << 16;

/// The CSV dialect and schema options (`--csv-*`, `--schema`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// The first record names the columns; without it columns are `c0, c1, ...`.
    pub header: bool,
    /// Field separator; `None`: `,`, or a tab for `.tsv` files.
    pub delimiter: Option<u8>,
    pub quote: u8,
    /// Escape character inside quoted fields (none by default: a doubled quote is a quote).
    pub escape: Option<u8>,
    /// Field texts that mean null (whole field, exact match).
    pub nulls: Vec<String>,
    /// Types forced on named columns instead of the inferred ones.
    pub schema: Vec<(String, DataType)>,
    /// Records read to infer the types.
    pub infer_records: usize,
    /// Threads that scan and decode a mapped file (`--csv-threads`); `None`: one per core. The result does
    /// not depend on it.
    pub threads: Option<usize>,
    /// Bytes per piece of the parallel split; `None`: automatic (about four pieces per thread, 1 to 32 MiB).
    /// Tests set it small to put cuts everywhere; the result does not depend on it.
    pub piece_bytes: Option<usize>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            header: true,
            delimiter: None,
            quote: b'"',
            escape: None,
            nulls: vec![String::new(), "NA".into()],
            schema: Vec::new(),
            infer_records: 10_000,
            threads: None,
            piece_bytes: None,
        }
    }
}

/// Parses `--schema name:type,...` (types: i8..i64, u8..u64, f32, f64, bool, str, date).
pub fn parse_schema_overrides(text: &str) -> Result<Vec<(String, DataType)>, String> {
    text.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|item| {
            let (name, ty) = item.rsplit_once(':').ok_or_else(|| format!("{item:?} is not name:type"))?;
            Ok((name.trim().to_string(), parse_type(ty.trim())?))
        })
        .collect()
}

fn parse_type(ty: &str) -> Result<DataType, String> {
    Ok(match ty.to_ascii_lowercase().as_str() {
        "i8" | "int8" => DataType::Int8,
        "i16" | "int16" => DataType::Int16,
        "i32" | "int32" => DataType::Int32,
        "i64" | "int64" | "int" => DataType::Int64,
        "u8" | "uint8" => DataType::UInt8,
        "u16" | "uint16" => DataType::UInt16,
        "u32" | "uint32" => DataType::UInt32,
        "u64" | "uint64" => DataType::UInt64,
        "f32" | "float32" => DataType::Float32,
        "f64" | "float64" | "float" | "double" => DataType::Float64,
        "bool" | "boolean" => DataType::Boolean,
        "str" | "string" | "utf8" | "text" => DataType::Utf8,
        "date" | "date32" => DataType::Date32,
        other => {
            return Err(format!(
                "unknown type {other:?} (use i8, i16, i32, i64, u8, u16, u32, u64, f32, f64, bool, str or date)"
            ));
        }
    })
}

impl CsvOptions {
    /// The field delimiter for `path` (a tab for `.tsv` unless set) and the quote.
    fn delimiter_and_quote(&self, path: &Path) -> (u8, u8) {
        let tsv = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
        (self.delimiter.unwrap_or(if tsv { b'\t' } else { b',' }), self.quote)
    }

    fn format(&self, path: &Path) -> Result<CsvFormat> {
        let (delimiter, _) = self.delimiter_and_quote(path);
        let alternatives: Vec<String> = self.nulls.iter().map(|n| regex::escape(n)).collect();
        let nulls = regex::Regex::new(&format!("^(?:{})$", alternatives.join("|")))
            .map_err(|e| Error::input(format!("--csv-null: {e}")))?;
        let mut format = CsvFormat::default()
            .with_header(self.header)
            .with_delimiter(delimiter)
            .with_quote(self.quote)
            .with_null_regex(nulls);
        if let Some(e) = self.escape {
            format = format.with_escape(e);
        }
        Ok(format)
    }
}

/// Decodes the CSV text of `input` (`size`: its length, when known) into a mapped Arrow IPC file, serially
/// (pipes, standard input, and the fallback of `file.rs`).
pub(crate) fn decode(input: impl Read, size: Option<u64>, options: &CsvOptions, label: &Path) -> Result<IpcFile> {
    let format = options.format(label)?;
    let mut recording = Recording { inner: input, kept: Vec::new() };
    let (inferred, _) =
        guarded(|| format.infer_schema(&mut recording, Some(options.infer_records.max(1)))).map_err(|e| {
            Error::input(format!("malformed CSV (header or first records): {}", message(&e))).with_file(label)
        })?;
    let schema = schema_of(inferred, options).map_err(|e| e.with_file(label))?;
    let Recording { inner, kept } = recording;
    let replay = BufReader::with_capacity(1 << 20, Cursor::new(kept).chain(inner));
    let reader = arrow_csv::ReaderBuilder::new(schema.clone())
        .with_format(format)
        .with_batch_size(CSV_BATCH_ROWS)
        .build_buffered(replay)
        .map_err(|e| Error::input(format!("cannot read CSV: {}", message(&e))).with_file(label))?;
    // Decoded values take about as many bytes as their text (8-byte numbers from ~8-20 characters).
    let mut out = Output::spilling(label, &schema, size.map(|s| s.saturating_mul(2)))?;
    let mut reader = reader;
    loop {
        match guarded(|| reader.next().transpose()) {
            Ok(Some(batch)) => out.write(&batch)?,
            Ok(None) => break,
            Err(e) => return Err(bad_record(&e, &schema, &Located::Records).with_file(label)),
        }
    }
    Ok(out.finish()?.with_format(InputFormat::Csv))
}

/// The inferred schema with `--schema` applied; header names made unique and non-empty.
fn schema_of(inferred: Schema, options: &CsvOptions) -> Result<SchemaRef> {
    let mut fields: Vec<Field> = inferred.fields().iter().map(|f| f.as_ref().clone()).collect();
    if !options.header {
        fields = fields.into_iter().enumerate().map(|(i, f)| f.with_name(format!("c{i}"))).collect();
    }
    for (name, ty) in &options.schema {
        let Some(field) = fields.iter_mut().find(|f| f.name() == name) else {
            let names: Vec<&str> = inferred.fields().iter().map(|f| f.name().as_str()).collect();
            return Err(Error::input(format!(
                "--schema names {name:?}, which is not a column (columns: {})",
                names.join(", ")
            )));
        };
        *field = Field::new(name, ty.clone(), true);
    }
    for (i, field) in fields.iter_mut().enumerate() {
        // A column with no value in the sample infers as Null; text is the type that reads anything.
        if field.data_type() == &DataType::Null {
            *field = Field::new(field.name(), DataType::Utf8, true);
        }
        if field.name().is_empty() {
            *field = Field::new(format!("c{i}"), field.data_type().clone(), true);
        }
    }
    Ok(Arc::new(Schema::new(fields)))
}

/// A reader that keeps a copy of everything read through it, so the inference sample can be replayed.
struct Recording<R> {
    inner: R,
    kept: Vec<u8>,
}

impl<R: Read> Read for Recording<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.kept.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}
