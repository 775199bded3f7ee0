//! Parquet decoded where the chunk is computed: in the worker process or thread, chunk by chunk, in
//! parallel, so a Parquet file larger than memory is described with one decoded chunk per worker alive.
//!
//! ```text
//!  parent:  footer ─► ParquetFile (schema, row groups → batch list) ─► Store::lazy ──fd──► workers
//!  worker:  footer ─► ParquetFile ─► Store::lazy ─► kernel: Store::load(chunk rows)
//!                                                      └─► ParquetRows::decode(batch, rows) per piece
//!                                                          (row group, RowSelection, projected columns)
//! ```
//!
//! The batch list is the one [`super::open`] decodes eagerly (each row group, split in equal parts of at
//! most [`super::MAX_BATCH_ROWS`] rows) and the chunk list is the usual fixed row ranges, so a chunk sees
//! exactly the pieces it would see in the eagerly decoded file, or in the Arrow IPC file whose batches are
//! the row groups: the same bits. It depends on the file and `--chunk-rows` only, never on the workers.
//!
//! Only the planned columns are decoded (a projection mask over the root columns), and only the rows of
//! the piece (a row selection: pages outside it are skipped where the file has an offset index, decoded
//! and dropped otherwise). A decoding failure is an input error naming the file and row group, reported
//! for the chunk that met it.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, SchemaRef};
use bytes::Bytes;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ParquetRecordBatchReaderBuilder, RowSelection, RowSelector};

use super::{group_error, load_metadata, parquet_message};
use crate::error::{Error, Result};
use crate::source::ipc::{guarded, map_bytes};
use crate::store::{DecodeRows, Origin, Store};

/// One record batch of the batch list: `rows` rows of row group `group` from row `offset` on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Part {
    group: usize,
    offset: usize,
    rows: usize,
}

/// An opened Parquet file whose values are decoded on demand: footer, schema and batch list.
#[derive(Debug)]
pub struct ParquetFile {
    path: PathBuf,
    /// Kept for worker processes, which inherit it ([`Origin::Parquet`]).
    file: Arc<File>,
    data: Bytes,
    meta: ArrowReaderMetadata,
    parts: Vec<Part>,
}

impl ParquetFile {
    /// Reads the footer of the Parquet file at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        Self::from_file(&crate::source::open_input(path)?, path)
    }

    /// Reads the footer of an open Parquet file (a worker's inherited descriptor); `label` names it.
    pub fn from_file(file: &File, label: &Path) -> Result<Self> {
        let file = file
            .try_clone()
            .map_err(|e| Error::input(format!("cannot duplicate the descriptor: {e}")).with_file(label))?;
        let data = map_bytes(&file, label)?;
        let meta = load_metadata(&data, label)?;
        crate::source::check_schema(meta.schema()).map_err(|e| e.with_file(label))?;
        let parts = batch_list(&meta, label)?;
        Ok(ParquetFile { path: label.to_path_buf(), file: Arc::new(file), data, meta, parts })
    }

    pub fn schema(&self) -> &SchemaRef {
        self.meta.schema()
    }

    pub fn num_rows(&self) -> u64 {
        self.parts.iter().map(|p| p.rows as u64).sum()
    }

    /// Batches of the batch list (row groups and their parts).
    pub fn num_batches(&self) -> usize {
        self.parts.len()
    }

    /// A store over the columns `projection` (schema indices, in store order) that decodes on demand.
    pub fn into_store(self, projection: &[usize]) -> Result<Store> {
        let schema =
            Arc::new(self.schema().project(projection).map_err(|e| Error::internal(format!("bad projection: {e}")))?);
        // The reader returns the projected root columns in file order; `order` puts them in store order.
        let mut sorted = projection.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != projection.len() {
            return Err(Error::internal("a projection names a column twice"));
        }
        let order = projection.iter().map(|p| sorted.binary_search(p).expect("in sorted")).collect();
        let mask = ProjectionMask::roots(self.meta.metadata().file_metadata().schema_descr(), sorted);
        let rows: Vec<u64> = self.parts.iter().map(|p| p.rows as u64).collect();
        let origin = Origin::Parquet { path: self.path.clone(), file: self.file.clone() };
        let decoder = ParquetRows {
            path: self.path.clone(),
            data: self.data,
            meta: self.meta,
            mask,
            order,
            schema,
            parts: self.parts,
        };
        let schema = decoder.schema.clone();
        Ok(Store::lazy(decoder.path.clone(), schema, &rows, Arc::new(decoder), origin))
    }
}

/// Every row group, split in equal parts of at most `MAX_BATCH_ROWS` rows; the footer's row counts checked.
fn batch_list(meta: &ArrowReaderMetadata, path: &Path) -> Result<Vec<Part>> {
    super::check_row_counts(meta, path)?;
    let mut parts = Vec::new();
    for (group, g) in meta.metadata().row_groups().iter().enumerate() {
        let rows = usize::try_from(g.num_rows())
            .map_err(|_| group_error(path, group, format!("negative row count {}", g.num_rows())))?;
        let batch = super::batch_rows(rows);
        let mut offset = 0;
        while offset < rows {
            let n = batch.min(rows - offset);
            parts.push(Part { group, offset, rows: n });
            offset += n;
        }
    }
    Ok(parts)
}

/// The decoder a lazy [`Store`] calls for each piece of a chunk.
#[derive(Debug)]
struct ParquetRows {
    path: PathBuf,
    data: Bytes,
    meta: ArrowReaderMetadata,
    mask: ProjectionMask,
    order: Vec<usize>,
    schema: SchemaRef,
    parts: Vec<Part>,
}

impl DecodeRows for ParquetRows {
    fn decode(&self, batch: usize, offset: usize, len: usize) -> Result<RecordBatch> {
        let part = self.parts[batch];
        let failed = |why: String| group_error(&self.path, part.group, why);
        let input = self.data.clone();
        let selection = RowSelection::from(vec![RowSelector::skip(part.offset + offset), RowSelector::select(len)]);
        let mut reader = guarded(|| {
            ParquetRecordBatchReaderBuilder::new_with_metadata(input, self.meta.clone())
                .with_row_groups(vec![part.group])
                .with_projection(self.mask.clone())
                .with_row_selection(selection)
                .with_batch_size(len.max(1))
                .build()
                .map_err(ArrowError::from)
        })
        .map_err(|e| failed(parquet_message(&e)))?;
        let decoded = match guarded(|| reader.next().transpose()) {
            Ok(Some(b)) => b,
            Ok(None) => return Err(failed(format!("declares rows {}.. but holds none there", part.offset + offset))),
            Err(e) => return Err(failed(parquet_message(&e))),
        };
        if decoded.num_rows() != len {
            return Err(failed(format!("{} rows decoded where {len} were declared", decoded.num_rows())));
        }
        let columns = self.order.iter().map(|&i| decoded.column(i).clone()).collect();
        RecordBatch::try_new(self.schema.clone(), columns)
            .map_err(|e| failed(format!("decoded columns do not match the schema: {e}")))
    }
}
