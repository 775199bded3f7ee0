//! What `run` opens: an Arrow IPC file (mapped, or decoded into a segment first), a Parquet file whose
//! values are decoded later, chunk by chunk, where the chunk is computed (`parquet/lazy.rs`), or a CSV
//! file whose planned columns are decoded in parallel when the store is made (`csv/file.rs`).
//!
//! Owns the choice between the two and the handful of questions `run` and the workers ask of an opened
//! input; the formats themselves live in their own modules.

use std::path::Path;

use arrow_schema::SchemaRef;

use super::InputFormat;
use super::ipc::IpcFile;
use crate::error::Result;
use crate::exec::Cancel;
use crate::store::Store;

/// How to read inputs whose files do not say it themselves (CSV's dialect and types, `.npy` names).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InputOptions {
    pub csv: super::csv::CsvOptions,
    /// Column names for `.npy` arrays (`--names`) instead of `c0..cN`.
    pub names: Option<Vec<String>>,
}

/// An opened input, ready to become a [`Store`] of the planned columns.
#[derive(Debug)]
pub enum Input {
    Ipc(IpcFile),
    #[cfg(feature = "parquet")]
    Parquet(super::parquet::ParquetFile),
    /// A 1-D or Fortran-order `.npy` array, read in place.
    Npy(super::npy::NpyFile),
    /// A CSV file, mapped and split; only the planned columns are decoded, by `into_store`.
    Csv(super::csv::CsvFile),
    /// Several files read as one (`source/dataset.rs`).
    Dataset(super::dataset::Dataset),
}

/// Opens `path` for a run: a Parquet file by its footer only (its values are decoded by the workers),
/// anything else as [`super::open_with`] does.
pub fn open_for_run(path: &Path, options: &InputOptions, cancel: &Cancel) -> Result<Input> {
    if path.as_os_str() != "-" && is_regular_file(path) {
        match super::sniff(path)? {
            #[cfg(feature = "parquet")]
            super::Format::Parquet => return Ok(Input::Parquet(super::parquet::ParquetFile::open(path)?)),
            super::Format::Npy => return super::npy::open(path, options.names.as_deref()),
            super::Format::Csv => {
                if let Some(f) = super::csv::CsvFile::open(&super::open_input(path)?, path, &options.csv)? {
                    return Ok(Input::Csv(f));
                }
            }
            _ => {}
        }
    }
    Ok(Input::Ipc(super::open_with_options(path, options, cancel)?))
}

fn is_regular_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

impl Input {
    pub fn schema(&self) -> SchemaRef {
        match self {
            Input::Ipc(f) => f.schema().clone(),
            #[cfg(feature = "parquet")]
            Input::Parquet(f) => f.schema().clone(),
            Input::Npy(f) => f.schema(),
            Input::Csv(f) => f.schema().clone(),
            Input::Dataset(d) => d.schema().clone(),
        }
    }

    pub fn num_rows(&self) -> u64 {
        match self {
            Input::Ipc(f) => f.num_rows(),
            #[cfg(feature = "parquet")]
            Input::Parquet(f) => f.num_rows(),
            Input::Npy(f) => f.num_rows(),
            Input::Csv(f) => f.num_rows(),
            Input::Dataset(d) => d.num_rows(),
        }
    }

    pub fn num_batches(&self) -> usize {
        match self {
            Input::Ipc(f) => f.num_batches(),
            #[cfg(feature = "parquet")]
            Input::Parquet(f) => f.num_batches(),
            Input::Npy(f) => f.num_batches(),
            Input::Csv(f) => f.num_batches(),
            Input::Dataset(d) => d.num_batches(),
        }
    }

    pub fn format(&self) -> InputFormat {
        match self {
            Input::Ipc(f) => f.format(),
            #[cfg(feature = "parquet")]
            Input::Parquet(_) => InputFormat::Parquet,
            Input::Npy(_) => InputFormat::Npy,
            Input::Csv(_) => InputFormat::Csv,
            Input::Dataset(d) => d.format(),
        }
    }

    /// The columns a run can name: the input's own, then its struct fields as `a.b` (`fields.rs`).
    pub fn columns(&self) -> SchemaRef {
        super::fields::addressable_ref(&self.schema())
    }

    /// A store of the columns `projection` (indices into [`Input::columns`], in store order): struct
    /// fields are read through their struct column.
    pub fn into_store(self, projection: &[usize]) -> Result<Store> {
        let schema = self.schema();
        if projection.iter().all(|&p| p < schema.fields().len()) {
            return self.into_base_store(projection);
        }
        let columns = super::fields::addressable(&schema);
        let (tops, paths) = super::fields::split(&schema, projection)?;
        let projected = columns.project(projection).map_err(|e| crate::error::Error::internal(e.to_string()))?;
        Ok(self.into_base_store(&tops)?.with_fields(std::sync::Arc::new(projected), paths))
    }

    fn into_base_store(self, projection: &[usize]) -> Result<Store> {
        match self {
            Input::Ipc(f) => f.into_store(projection),
            #[cfg(feature = "parquet")]
            Input::Parquet(f) => f.into_store(projection),
            Input::Npy(f) => f.into_store(projection),
            Input::Csv(f) => f.into_store(projection),
            Input::Dataset(d) => d.into_store(projection),
        }
    }
}
