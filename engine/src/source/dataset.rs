//! Many files as one dataset: several paths, or quoted glob patterns (`'logs/2026-*.parquet'`), read as
//! the concatenation of the files in the given order (a pattern's matches sorted by name).
//!
//! ```text
//!  paths / patterns ─► expand ─► open each (same format, same columns) ─► Dataset
//!      └─ into_store: each file's store, batches concatenated in file order ─► Store (Origin::Many)
//! ```
//!
//! Owns expansion, the "one format, one schema" rule and its errors (naming the first file and column that
//! differ). The chunk list then spans the files in order, so the results equal those of one file holding
//! the same batches. Arrow IPC and `.npy` members stay zero-copy; Parquet members are decoded once into a
//! segment each (a lazily decoded member cannot share a store with others yet).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_schema::{Field, Schema, SchemaRef};

use super::{Input, InputFormat, InputOptions};
use crate::error::{Error, Result};
use crate::exec::Cancel;
use crate::store::Store;

/// Opened member files and their shared schema.
#[derive(Debug)]
pub struct Dataset {
    pub(crate) members: Vec<(PathBuf, Input)>,
    schema: SchemaRef,
}

/// Expands glob patterns (only arguments that do not name an existing file and contain `*`, `?` or `[`),
/// keeping the order of the arguments; a pattern's matches are sorted. A pattern matching nothing is an
/// error, as is the same file twice.
pub fn expand(args: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = Vec::new();
    for arg in args {
        let text = arg.to_string_lossy();
        let pattern = !arg.exists() && text.contains(['*', '?', '[']);
        if !pattern {
            out.push(arg.clone());
            continue;
        }
        let matches = glob::glob(&text).map_err(|e| Error::input(format!("bad glob pattern {text:?}: {e}")))?;
        let mut found: Vec<PathBuf> = matches.filter_map(|m| m.ok()).filter(|p| p.is_file()).collect();
        if found.is_empty() {
            return Err(Error::input(format!("the pattern {text:?} matches no file")));
        }
        found.sort();
        out.extend(found);
    }
    for (i, p) in out.iter().enumerate() {
        if out[..i].contains(p) {
            return Err(Error::input("the file is given twice (a dataset reads each file once)").with_file(p));
        }
    }
    Ok(out)
}

/// Opens `paths` (already expanded) as one input: the file itself when there is one, else a [`Dataset`].
pub fn open_dataset(paths: &[PathBuf], options: &InputOptions, cancel: &Cancel) -> Result<Input> {
    match paths {
        [] => Err(Error::input("no input file given")),
        [one] => super::open_for_run(one, options, cancel),
        many => {
            let mut members = Vec::with_capacity(many.len());
            for path in many {
                members.push((path.clone(), open_member(path, options, cancel)?));
            }
            Dataset::try_new(members).map(Input::Dataset)
        }
    }
}

/// One member: as `run` opens it, except Parquet, which is decoded into a segment (see the module docs).
fn open_member(path: &Path, options: &InputOptions, cancel: &Cancel) -> Result<Input> {
    match super::open_for_run(path, options, cancel)? {
        #[cfg(feature = "parquet")]
        Input::Parquet(_) => Ok(Input::Ipc(super::parquet::open(path)?)),
        other => Ok(other),
    }
}

/// Formats that count as the same: an Arrow IPC file is one format whether compressed or a stream.
fn family(format: InputFormat) -> &'static str {
    match format {
        InputFormat::ArrowFile | InputFormat::ArrowFileCompressed | InputFormat::ArrowStream => "Arrow IPC",
        InputFormat::Parquet => "Parquet",
        InputFormat::Csv => "CSV",
        InputFormat::Npy => ".npy",
    }
}

impl Dataset {
    /// Checks that every member has the first member's format and columns (names and types, in order);
    /// a column is nullable in the dataset when it is in any member.
    pub(crate) fn try_new(members: Vec<(PathBuf, Input)>) -> Result<Dataset> {
        let (first_path, first) = members.first().ok_or_else(|| Error::internal("an empty dataset"))?;
        let base = first.schema();
        let mut fields: Vec<Field> = base.fields().iter().map(|f| f.as_ref().clone()).collect();
        for (path, member) in &members[1..] {
            if family(member.format()) != family(first.format()) {
                return Err(Error::input(format!(
                    "is {}, but {} is {}: a dataset is one format",
                    family(member.format()),
                    first_path.display(),
                    family(first.format())
                ))
                .with_file(path));
            }
            let schema = member.schema();
            let differ = |why: String| {
                Error::input(format!(
                    "{why} in {}: the files of a dataset must have the same columns",
                    first_path.display()
                ))
                .with_file(path)
            };
            for (i, field) in fields.iter_mut().enumerate() {
                let Some(other) = schema.fields().get(i) else {
                    return Err(differ(format!("has {i} columns, not column {i} {:?} as", field.name())));
                };
                if other.name() != field.name() || other.data_type() != field.data_type() {
                    return Err(differ(format!(
                        "column {i} is {:?} ({}), but {:?} ({})",
                        other.name(),
                        other.data_type(),
                        field.name(),
                        field.data_type()
                    ))
                    .with_column(other.name()));
                }
                if other.is_nullable() {
                    field.set_nullable(true);
                }
            }
            if let Some(extra) = schema.fields().get(fields.len()) {
                return Err(differ(format!("has a column {:?} that is not", extra.name())).with_column(extra.name()));
            }
        }
        Ok(Dataset { members, schema: Arc::new(Schema::new(fields)) })
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    pub fn files(&self) -> Vec<&Path> {
        self.members.iter().map(|(p, _)| p.as_path()).collect()
    }

    pub fn num_rows(&self) -> u64 {
        self.members.iter().map(|(_, m)| m.num_rows()).sum()
    }

    pub fn num_batches(&self) -> usize {
        self.members.iter().map(|(_, m)| m.num_batches()).sum()
    }

    pub fn format(&self) -> InputFormat {
        self.members[0].1.format()
    }

    /// The members' stores of `projection`, concatenated in file order.
    pub fn into_store(self, projection: &[usize]) -> Result<Store> {
        let schema = Arc::new(self.schema.project(projection).map_err(|e| Error::internal(e.to_string()))?);
        let label = self.members[0].0.clone();
        let stores = self.members.into_iter().map(|(_, m)| m.into_store(projection)).collect::<Result<Vec<_>>>()?;
        Store::concat(label, schema, stores)
    }
}
