//! `tally convert`: any supported input (or dataset) to an Arrow IPC file, by default uncompressed with
//! 64-byte aligned buffers: the layout tally (and every Arrow reader) maps zero-copy.
//!
//! ```text
//!  input(s) ─► source::open_dataset ─► Store (all columns) ─► batch by batch ─► FileWriter ─► OutputFile
//!                                       (Parquet: decoded here)                (lz4/zstd opt.)  (atomic)
//!  one CSV, uncompressed ─► decoded in parallel straight into ─────────────────► FileWriter ─► OutputFile
//! ```
//!
//! Owns the conversion loop only. The output goes through [`OutputFile`]: written to a temporary file
//! beside the target and renamed into place when complete, so an error or Ctrl-C never leaves a partial
//! file, and an output that is one of the inputs is refused before anything is written. One batch is
//! decoded at a time, so memory stays one batch beyond the mapped or decoded input.

use std::path::{Path, PathBuf};

use arrow_ipc::CompressionType;
use arrow_ipc::writer::{FileWriter, IpcWriteOptions};

use crate::error::{Error, ErrorKind, Result};
use crate::exec::Cancel;
use crate::output::OutputFile;
use crate::source::{self, InputOptions};

/// Body compression of the written file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compression {
    /// Uncompressed: mapped zero-copy by tally.
    #[default]
    None,
    Lz4,
    Zstd,
}

/// What a conversion wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Converted {
    pub rows: u64,
    pub batches: usize,
    pub columns: usize,
}

/// Converts `inputs` (files and quoted glob patterns, one dataset) into the Arrow IPC file `output`.
/// `progress(rows done, rows total)` is called after each batch.
pub fn convert(
    inputs: &[PathBuf],
    output: &Path,
    compression: Compression,
    options: &InputOptions,
    cancel: &Cancel,
    mut progress: impl FnMut(u64, u64),
) -> Result<Converted> {
    let ext = output.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
    if matches!(ext.as_deref(), Some("parquet" | "csv" | "npy" | "json")) {
        return Err(
            Error::input("tally convert writes Arrow IPC files only (name the output .arrow)").with_file(output)
        );
    }
    let files = source::expand(inputs)?;
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    // Refused before any input is decoded (OutputFile checks again when it creates the file).
    crate::output::refuse_inputs(output, &refs)?;
    let input = source::open_dataset(&files, options, cancel)?;
    if let (source::Input::Csv(csv), Compression::None) = (&input, compression)
        && let Some(converted) = csv_straight(csv, output, &refs, cancel, &mut progress)?
    {
        return Ok(converted);
    }
    let schema = input.schema();
    let all: Vec<usize> = (0..schema.fields().len()).collect();
    let store = input.into_store(&all)?;
    let codec = match compression {
        Compression::None => None,
        Compression::Lz4 => Some(CompressionType::LZ4_FRAME),
        Compression::Zstd => Some(CompressionType::ZSTD),
    };
    let write_err =
        |e: arrow_schema::ArrowError| Error::new(ErrorKind::Io, format!("cannot write: {e}")).with_file(output);
    let ipc = IpcWriteOptions::default().try_with_compression(codec).map_err(write_err)?;
    let mut out = OutputFile::create(output, &refs)?;
    let total = store.num_rows();
    let mut writer = FileWriter::try_new_with_options(out.writer(), &schema, ipc).map_err(write_err)?;
    let mut done = 0;
    for i in 0..store.num_batches() {
        cancel.check()?;
        let batch = store.batch(i)?;
        done += batch.num_rows() as u64;
        writer.write(&batch).map_err(write_err)?;
        progress(done, total);
    }
    writer.finish().map_err(write_err)?;
    drop(writer);
    out.commit()?;
    Ok(Converted { rows: total, batches: store.num_batches(), columns: all.len() })
}

/// An uncompressed conversion of one CSV file, decoded straight into the output: the batches the store
/// would hold are the file's batches, so writing them through a store first only costs a second write of
/// every byte. `None` when the parallel split was unproven (the caller converts the usual way).
fn csv_straight(
    csv: &source::csv::CsvFile,
    output: &Path,
    inputs: &[&Path],
    cancel: &Cancel,
    progress: &mut impl FnMut(u64, u64),
) -> Result<Option<Converted>> {
    let mut out = OutputFile::create(output, inputs)?;
    let (total, mut done) = (csv.num_rows(), 0);
    let mut writer = Cancellable { inner: out.writer(), cancel };
    let finished = csv.write_ipc(&mut writer, &mut |rows| {
        done += rows;
        progress(done, total);
    });
    // Ctrl-C stops the writes; say so rather than the failed write it caused.
    cancel.check()?;
    if !finished? {
        return Ok(None);
    }
    out.commit()?;
    let columns = csv.schema().fields().len();
    Ok(Some(Converted { rows: total, batches: csv.num_batches(), columns }))
}

/// A writer that fails once the run is cancelled, so a long decode stops at its next write.
struct Cancellable<'a, W: std::io::Write + ?Sized> {
    inner: &'a mut W,
    cancel: &'a Cancel,
}

impl<W: std::io::Write + ?Sized> std::io::Write for Cancellable<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.cancel.signal().is_some() {
            // Not `Interrupted`: `write_all` retries that forever.
            return Err(std::io::Error::other("cancelled"));
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
