//! CSV input (`arrow-csv`): the schema inferred from a sample (with `--schema` overrides), then every
//! record decoded once into an uncompressed Arrow IPC file in a memfd, or in an unnamed temporary file when
//! it would not fit in memory (`spill.rs`).
//!
//! ```text
//!  input ─► Recording (keeps the bytes the sample read) ─► Format::infer_schema (first N records)
//!        └► replay the kept bytes, then the rest ─► arrow-csv Reader ─► batches of CSV_BATCH_ROWS ─► Output
//! ```
//!
//! Owns the CSV dialect (header, delimiter, quote, escape, null markers), type inference and its
//! overrides, and errors that name the line and column of a bad field. Works on pipes as well as files:
//! nothing is read twice, the sample is replayed from memory.
//!
//! Quoted fields may hold newlines (the csv-core state machine handles them); line numbers in errors then
//! count records (one header line + the record's index), which equals the physical line whenever no
//! quoted field spans lines. Decoding is serial; a parallel split at line boundaries is left for later.

use std::io::{BufReader, Cursor, Read};
use std::path::Path;
use std::sync::Arc;

use arrow_csv::reader::Format as CsvFormat;
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};

use super::InputFormat;
use super::convert::Output;
use super::ipc::{IpcFile, guarded};
use crate::error::{Error, Result};

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
    fn format(&self, path: &Path) -> Result<CsvFormat> {
        let tsv = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
        let delimiter = self.delimiter.unwrap_or(if tsv { b'\t' } else { b',' });
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

/// Decodes the CSV text of `input` (`size`: its length, when known) into a mapped Arrow IPC file.
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
            Err(e) => return Err(bad_record(&e, &schema).with_file(label)),
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

/// arrow-csv says "Error while parsing value '{v}' as type '{t}' for column {i} at line {n}", where `n` is
/// the 0-based line (the header counted); this names the 1-based line and the column, and how to go on.
fn bad_record(e: &ArrowError, schema: &Schema) -> Error {
    let text = message(e);
    let number_after = |key: &str| -> Option<usize> {
        let at = text.find(key)? + key.len();
        text[at..].split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
    };
    let (Some(column), Some(record)) = (number_after("for column "), number_after(" at line ")) else {
        return Error::input(format!("malformed CSV: {text}"));
    };
    let line = record + 1;
    let value = text.split('\'').nth(1).unwrap_or("");
    let Some(field) = schema.fields().get(column) else { return Error::input(format!("malformed CSV: {text}")) };
    let name = field.name();
    let types =
        if field.data_type().is_integer() { format!("{name}:f64 or {name}:str") } else { format!("{name}:str") };
    Error::input(format!(
        "line {line}: cannot read {value:?} as {} (types are inferred from the first records or set with \
         --schema: try --schema {types}, or mark null texts with --csv-null)",
        field.data_type()
    ))
    .with_column(name)
}

fn message(e: &ArrowError) -> String {
    match e {
        ArrowError::ParseError(m) | ArrowError::CsvError(m) => m.clone(),
        other => other.to_string(),
    }
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
