//! Parquet input. `run` decodes it in the workers, chunk by chunk (`lazy.rs`); `convert` and standard input
//! decode it once, into an uncompressed Arrow IPC file in a memfd (or
//! a temporary file when it would not fit in memory, `spill.rs`), which every worker then maps zero-copy.
//!
//! ```text
//!  .parquet ──footer──► ArrowReaderMetadata (schema, row groups)
//!      └─ row group i ─► ParquetRecordBatchReader ─► batch(es) ─► Output (IPC file) ─► Sink ─► IpcFile
//! ```
//!
//! Owns reading Parquet and checking what it promised (row counts); not the IPC layout (`convert.rs`) nor
//! where the bytes go (`spill.rs`).
//!
//! * **Batches are row groups.** Each row group becomes one record batch (split in equal parts of at most
//!   [`MAX_BATCH_ROWS`] rows), so a Parquet file gives the same bits as the Arrow IPC file whose record
//!   batches are its row groups: the kernels walk a chunk batch piece by batch piece.
//! * **Statistics are never used.** Parquet min/max statistics may be truncated (strings) or wrong (old
//!   writers, PARQUET-251), so every value is decoded; the footer's row counts are checked against what was
//!   decoded.
//! * **Mapped, not read.** The file is memory-mapped and handed to the parquet crate as `Bytes`: threads
//!   decode row groups concurrently without sharing a file offset, and processes share the page cache.
//! * **Never a panic.** The parquet crate is called under `catch_unwind` (`ipc::guarded`): a
//!   malformed file (apache/parquet-testing `bad_data/`) is an error naming the file and row group.

mod lazy;

use std::fs::File;
use std::path::Path;

use arrow_schema::ArrowError;
use bytes::Bytes;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use parquet::errors::ParquetError;
use parquet::file::metadata::{PageIndexPolicy, ParquetStatisticsPolicy};

use super::convert::Output;
use super::ipc::{IpcFile, guarded, map_bytes};
use super::{InputFormat, check_schema};
use crate::error::{Error, Result};

pub use lazy::ParquetFile;

/// Longest record batch a row group is decoded into: a million rows keeps one decoded batch of a few
/// columns in the tens of megabytes, and matches the default chunk size, so chunks rarely straddle batches.
pub const MAX_BATCH_ROWS: usize = 1 << 20;

/// Decodes the Parquet file at `path` into a mapped, uncompressed Arrow IPC file.
pub(crate) fn open(path: &Path) -> Result<IpcFile> {
    open_file(&super::open_input(path)?, path)
}

/// [`open`] for a regular file already open (standard input redirected from a file); `path` labels it.
pub(crate) fn open_file(file: &File, path: &Path) -> Result<IpcFile> {
    let file = map_bytes(file, path)?;
    let meta = load_metadata(&file, path)?;
    let schema = meta.schema().clone();
    check_schema(&schema).map_err(|e| e.with_file(path))?;
    check_row_counts(&meta, path)?;
    let groups = meta.metadata().row_groups();
    let estimate = groups.iter().map(|g| g.total_byte_size().max(0) as u64).sum();
    let mut out = Output::spilling(path, &schema, Some(estimate))?;
    for (i, group) in groups.iter().enumerate() {
        let rows = usize::try_from(group.num_rows())
            .map_err(|_| group_error(path, i, format!("negative row count {}", group.num_rows())))?;
        let decoded = decode_group(&file, &meta, i, rows, &mut |batch| out.write(batch))
            .map_err(|e| group_error(path, i, e.to_string()))?;
        if decoded != rows {
            return Err(group_error(path, i, format!("declares {rows} rows but {decoded} were decoded")));
        }
    }
    Ok(out.finish()?.with_format(InputFormat::Parquet))
}

/// The footer's row count must be the sum of its row groups' (each of which decoding checks again).
fn check_row_counts(meta: &ArrowReaderMetadata, path: &Path) -> Result<()> {
    let parquet = meta.metadata();
    let declared = parquet.file_metadata().num_rows();
    let group_rows: i64 = parquet.row_groups().iter().map(|g| g.num_rows().max(0)).sum();
    if declared < 0 || group_rows != declared {
        return Err(Error::input(format!(
            "malformed Parquet footer: the file declares {declared} rows but its row groups hold {group_rows}"
        ))
        .with_file(path));
    }
    Ok(())
}

/// Rows per record batch of a row group of `rows` rows: equal parts of at most [`MAX_BATCH_ROWS`], so the
/// batch layout depends on the row group alone.
fn batch_rows(rows: usize) -> usize {
    let parts = rows.div_ceil(MAX_BATCH_ROWS).max(1);
    rows.div_ceil(parts).max(1)
}

/// Reads the footer; a file that is not Parquet after all, or whose footer is corrupt, is an input error.
fn load_metadata(file: &Bytes, path: &Path) -> Result<ArrowReaderMetadata> {
    // tally never reads Parquet statistics (see the module docs), so they are not even decoded: that also
    // reads files whose statistics some writers encode wrongly (parquet-testing dict-page-offset-zero).
    let skip = || ParquetStatisticsPolicy::SkipAll;
    // The offset index (page locations, no statistics) lets a chunk that starts inside a row group skip the
    // pages before it instead of decoding them; files written without one still work, decoding from the
    // start of the row group (so --chunk-rows below the row-group size costs more there).
    let options = ArrowReaderOptions::new()
        .with_column_stats_policy(skip())
        .with_size_stats_policy(skip())
        .with_encoding_stats_policy(skip())
        .with_offset_index_policy(PageIndexPolicy::Optional)
        .with_column_index_policy(PageIndexPolicy::Skip);
    let malformed =
        |e: ArrowError| Error::input(format!("malformed Parquet file: {}", parquet_message(&e))).with_file(path);
    let meta =
        guarded(|| ArrowReaderMetadata::load(file, options.clone()).map_err(ArrowError::from)).map_err(malformed)?;
    let Some(schema) = int96_as_microseconds(&meta) else { return Ok(meta) };
    // The hint replaces the file's embedded Arrow schema; should the parquet crate refuse it for some other
    // column, the file is still read as it would be without the hint (INT96 as nanoseconds) rather than
    // refused.
    let hinted = options.with_schema(schema);
    Ok(guarded(|| ArrowReaderMetadata::try_new(meta.metadata().clone(), hinted).map_err(ArrowError::from))
        .unwrap_or(meta))
}

/// The schema with every top-level INT96 column read as microseconds, or `None` when there is none.
///
/// INT96 is the deprecated timestamp of Spark, Hive and Impala: days and nanoseconds of the day. The
/// parquet crate reads it as 64-bit nanoseconds, which wrap silently outside 1677-2262, and Spark writes
/// dates far beyond (parquet-testing `int96_from_spark.parquet` holds 9999-12-31 and year 290000, which
/// nanoseconds turned into dates of 1816 and 1815). Microseconds (Spark's own resolution, and what Iceberg and
/// DataFusion Comet read INT96 as) hold ±290,000 years; only digits below the microsecond, which Spark
/// never writes, are dropped.
fn int96_as_microseconds(meta: &ArrowReaderMetadata) -> Option<arrow_schema::SchemaRef> {
    use arrow_schema::{DataType, Field, Schema, TimeUnit};
    use parquet::basic::Type as Physical;
    let roots = meta.metadata().file_metadata().schema_descr().root_schema().get_fields();
    let schema = meta.schema();
    let int96 = |i: usize| roots.get(i).is_some_and(|t| t.is_primitive() && t.get_physical_type() == Physical::INT96);
    if roots.len() != schema.fields().len() || !(0..roots.len()).any(int96) {
        return None;
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| match f.data_type() {
            DataType::Timestamp(TimeUnit::Nanosecond, zone) if int96(i) => {
                f.as_ref().clone().with_data_type(DataType::Timestamp(TimeUnit::Microsecond, zone.clone()))
            }
            _ => f.as_ref().clone(),
        })
        .collect();
    Some(std::sync::Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone())))
}

/// Decodes row group `i` (declaring `rows` rows) batch by batch into `sink`; the rows decoded.
fn decode_group(
    file: &Bytes,
    meta: &ArrowReaderMetadata,
    i: usize,
    rows: usize,
    sink: &mut dyn FnMut(&arrow_array::RecordBatch) -> Result<()>,
) -> Result<usize, String> {
    let input = file.clone();
    let batch_rows = batch_rows(rows);
    let reader = guarded(|| {
        ParquetRecordBatchReaderBuilder::new_with_metadata(input, meta.clone())
            .with_row_groups(vec![i])
            .with_batch_size(batch_rows)
            .build()
            .map_err(ArrowError::from)
    })
    .map_err(|e| parquet_message(&e))?;
    let mut reader = reader;
    let mut decoded = 0usize;
    loop {
        match guarded(|| reader.next().transpose()) {
            Ok(Some(batch)) => {
                decoded += batch.num_rows();
                sink(&batch).map_err(|e| e.to_string())?;
            }
            Ok(None) => return Ok(decoded),
            Err(e) => return Err(parquet_message(&e)),
        }
    }
}

fn group_error(path: &Path, i: usize, why: String) -> Error {
    Error::input(format!("malformed Parquet row group {i}: {why}")).with_file(path)
}

/// The parquet crate's message without the "External error: " / "Parquet error: " wrapping.
fn parquet_message(e: &ArrowError) -> String {
    let message = match e {
        ArrowError::ExternalError(inner) => match inner.downcast_ref::<ParquetError>() {
            Some(ParquetError::General(m)) => m.clone(),
            Some(other) => other.to_string(),
            None => inner.to_string(),
        },
        ArrowError::ParquetError(m) => m.clone(),
        other => other.to_string(),
    };
    message.strip_prefix("Parquet error: ").map(str::to_string).unwrap_or(message)
}
