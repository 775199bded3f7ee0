//! NumPy `.npy` input: 1-D and 2-D arrays of little-endian numbers, one column per array column.
//!
//! ```text
//!  .npy ──mmap──► header (ndarray-npy) ─┬─ 1-D, or 2-D Fortran order: each column is contiguous
//!                                       │     └─► Arrow arrays over the mapping (zero copy) ─► Store
//!                                       └─ 2-D C order: rows are contiguous
//!                                             └─► one transposing copy ─► Output (IPC) ─► Sink ─► IpcFile
//! ```
//!
//! Owns the header checks (dtype, byte order, shape, data length) and the two layouts. Columns are named
//! `c0..cN`, or by `--names`. Both layouts cut the rows into record batches of [`NPY_BATCH_ROWS`], so the
//! same numbers give the same bits in either order. Refused clearly: big-endian data, dtypes other than
//! integers and floats of 4 or 8 bytes (and 1/2-byte integers), structured/object dtypes, 0-d and 3-D+
//! arrays, data shorter than the header promises.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, PrimitiveArray, RecordBatch, types::*};
use arrow_buffer::{Buffer, MutableBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use bytes::Bytes;
use ndarray_npy::npy::header::Header;

use super::convert::Output;
use super::ipc::{IpcFile, map_bytes};
use super::{Input, InputFormat};
use crate::error::{Error, Result};
use crate::store::{Origin, Store};

/// Rows per record batch, in both layouts.
pub const NPY_BATCH_ROWS: usize = 1 << 16;

/// A parsed `.npy` file over its mapping.
#[derive(Debug)]
pub struct NpyFile {
    path: PathBuf,
    file: Arc<File>,
    data: Bytes,
    /// Byte offset of the first value.
    offset: usize,
    dtype: DataType,
    width: usize,
    rows: usize,
    columns: usize,
    fortran: bool,
    names: Vec<String>,
}

/// Opens a `.npy` file: zero copy where its columns are contiguous, otherwise transposed once into a
/// segment.
pub(crate) fn open(path: &Path, names: Option<&[String]>) -> Result<Input> {
    let npy = NpyFile::from_file(&super::open_input(path)?, path, names)?;
    if npy.fortran || npy.columns <= 1 { Ok(Input::Npy(npy)) } else { Ok(Input::Ipc(npy.to_ipc()?)) }
}

impl NpyFile {
    /// Maps and checks an open `.npy` file (a worker's inherited descriptor too); `label` names it.
    pub fn from_file(file: &File, label: &Path, names: Option<&[String]>) -> Result<Self> {
        let refuse = |why: String| Error::input(why).with_file(label);
        let data = map_bytes(file, label)?;
        let offset = header_end(&data).map_err(refuse)?;
        let header =
            Header::from_reader(&mut &data[..offset]).map_err(|e| refuse(format!("malformed .npy header: {e}")))?;
        let descr = header.type_descriptor.to_string();
        let (dtype, width) = dtype_of(descr.trim_matches(['\'', '"'])).map_err(refuse)?;
        let (rows, columns) = match header.shape.as_slice() {
            [n] => (*n, 1),
            [n, m] => (*n, *m),
            other => {
                return Err(refuse(format!(
                    ".npy arrays of {} dimensions are not read (only 1-D and 2-D: reshape it first)",
                    other.len()
                )));
            }
        };
        let needed = rows.checked_mul(columns).and_then(|v| v.checked_mul(width));
        if needed.is_none_or(|n| n > data.len() - offset) {
            return Err(refuse(format!(
                "truncated .npy file: shape {:?} of {descr} needs more than the {} data bytes present",
                header.shape,
                data.len() - offset
            )));
        }
        let names = match names {
            None => (0..columns).map(|i| format!("c{i}")).collect(),
            Some(n) if n.len() == columns => n.to_vec(),
            Some(n) => return Err(refuse(format!("--names gives {} names for {columns} columns", n.len()))),
        };
        let file = Arc::new(file.try_clone().map_err(|e| refuse(format!("cannot duplicate the descriptor: {e}")))?);
        let fortran = header.layout.is_fortran();
        Ok(NpyFile { path: label.to_path_buf(), file, data, offset, dtype, width, rows, columns, fortran, names })
    }

    pub fn schema(&self) -> SchemaRef {
        let fields: Vec<Field> = self.names.iter().map(|n| Field::new(n, self.dtype.clone(), false)).collect();
        Arc::new(Schema::new(fields))
    }

    pub fn num_rows(&self) -> u64 {
        self.rows as u64
    }

    pub fn num_batches(&self) -> usize {
        self.rows.div_ceil(NPY_BATCH_ROWS)
    }

    /// The names the columns were given (for worker processes, which rebuild the same store).
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// A store whose arrays are slices of the mapping (1-D or Fortran order only).
    pub fn into_store(self, projection: &[usize]) -> Result<Store> {
        let schema = Arc::new(self.schema().project(projection).map_err(|e| Error::internal(e.to_string()))?);
        let column_bytes = self.rows * self.width;
        let aligned = (self.data.as_ptr() as usize + self.offset).is_multiple_of(self.width);
        let mut batches = Vec::with_capacity(self.num_batches());
        let mut copied = 0;
        for start in (0..self.rows).step_by(NPY_BATCH_ROWS) {
            let len = NPY_BATCH_ROWS.min(self.rows - start);
            let columns: Vec<ArrayRef> = projection
                .iter()
                .map(|&c| {
                    let at = self.offset + c * column_bytes + start * self.width;
                    let bytes = self.data.slice(at..at + len * self.width);
                    // Misaligned data (a hand-written header) cannot back a typed array: copy it (aligned).
                    let buffer = if aligned { Buffer::from(bytes) } else { Buffer::from(&bytes[..]) };
                    array_of(&self.dtype, buffer, len)
                })
                .collect();
            copied += usize::from(!aligned);
            batches.push(RecordBatch::try_new(schema.clone(), columns).map_err(|e| Error::internal(e.to_string()))?);
        }
        let mapping = self.data.as_ptr() as usize..self.data.as_ptr() as usize + self.data.len();
        let origin = Origin::Npy { path: self.path.clone(), file: self.file.clone(), names: self.names.clone() };
        Store::try_new(self.path, schema, batches, mapping, copied, origin)
    }

    /// The values copied once into a segment (or a temporary file, `spill.rs`): C-order 2-D data is
    /// transposed on the way; `convert` and standard input take this path for every layout.
    pub(crate) fn to_ipc(&self) -> Result<IpcFile> {
        let schema = self.schema();
        let total = (self.rows * self.columns * self.width) as u64;
        let mut out = Output::spilling(&self.path, &schema, Some(total))?;
        let w = self.width;
        for start in (0..self.rows).step_by(NPY_BATCH_ROWS) {
            let len = NPY_BATCH_ROWS.min(self.rows - start);
            let columns: Vec<ArrayRef> = (0..self.columns)
                .map(|c| {
                    let mut column = MutableBuffer::with_capacity(len * w);
                    if self.fortran || self.columns == 1 {
                        let at = self.offset + (c * self.rows + start) * w;
                        column.extend_from_slice(&self.data[at..at + len * w]);
                    } else {
                        let row_bytes = self.columns * w;
                        let block = &self.data[self.offset + start * row_bytes..][..len * row_bytes];
                        for row in block.chunks_exact(row_bytes) {
                            column.extend_from_slice(&row[c * w..(c + 1) * w]);
                        }
                    }
                    array_of(&self.dtype, column.into(), len)
                })
                .collect();
            out.write(&RecordBatch::try_new(schema.clone(), columns).map_err(|e| Error::internal(e.to_string()))?)?;
        }
        Ok(out.finish()?.with_format(InputFormat::Npy))
    }
}

/// Where the header ends, checked before ndarray-npy reads it (it allocates the declared length).
fn header_end(data: &[u8]) -> Result<usize, String> {
    if data.len() < 10 || &data[..6] != b"\x93NUMPY" {
        return Err("not a .npy file (no \\x93NUMPY magic)".into());
    }
    let (len, fixed): (usize, usize) = match data[6] {
        1 => (u16::from_le_bytes([data[8], data[9]]) as usize, 10),
        2 | 3 if data.len() >= 12 => (u32::from_le_bytes([data[8], data[9], data[10], data[11]]) as usize, 12),
        v => return Err(format!("unsupported .npy format version {v}.{}", data[7])),
    };
    match fixed.checked_add(len) {
        Some(end) if end <= data.len() => Ok(end),
        _ => Err(format!("truncated .npy file: the header declares {len} bytes, the file has {}", data.len())),
    }
}

/// The Arrow type and byte width of a NumPy type string such as `<f8`.
fn dtype_of(descr: &str) -> Result<(DataType, usize), String> {
    let (order, kind) = descr.split_at(descr.len().min(1));
    if order == ">" {
        return Err(format!(
            ".npy data is big-endian ({descr}); tally reads little-endian only (numpy: a.astype(a.dtype.newbyteorder('<')))"
        ));
    }
    let t = match (order, kind) {
        ("<" | "=" | "|", "i1") => DataType::Int8,
        ("<" | "=", "i2") => DataType::Int16,
        ("<" | "=", "i4") => DataType::Int32,
        ("<" | "=", "i8") => DataType::Int64,
        ("<" | "=" | "|", "u1") => DataType::UInt8,
        ("<" | "=", "u2") => DataType::UInt16,
        ("<" | "=", "u4") => DataType::UInt32,
        ("<" | "=", "u8") => DataType::UInt64,
        ("<" | "=", "f4") => DataType::Float32,
        ("<" | "=", "f8") => DataType::Float64,
        _ => {
            return Err(format!(
                "unsupported .npy dtype {descr:?} (tally reads 1-8 byte integers and 4/8 byte floats; convert with \
                 a.astype('<f8'))"
            ));
        }
    };
    let width = t.primitive_width().expect("primitive");
    Ok((t, width))
}

/// A primitive array of `len` values of `dtype` over `buffer` (aligned for the type).
fn array_of(dtype: &DataType, buffer: Buffer, len: usize) -> ArrayRef {
    fn typed<T: arrow_array::ArrowPrimitiveType>(buffer: Buffer, len: usize) -> ArrayRef {
        Arc::new(PrimitiveArray::<T>::new(ScalarBuffer::new(buffer, 0, len), None))
    }
    match dtype {
        DataType::Int8 => typed::<Int8Type>(buffer, len),
        DataType::Int16 => typed::<Int16Type>(buffer, len),
        DataType::Int32 => typed::<Int32Type>(buffer, len),
        DataType::Int64 => typed::<Int64Type>(buffer, len),
        DataType::UInt8 => typed::<UInt8Type>(buffer, len),
        DataType::UInt16 => typed::<UInt16Type>(buffer, len),
        DataType::UInt32 => typed::<UInt32Type>(buffer, len),
        DataType::UInt64 => typed::<UInt64Type>(buffer, len),
        DataType::Float32 => typed::<Float32Type>(buffer, len),
        DataType::Float64 => typed::<Float64Type>(buffer, len),
        other => unreachable!("dtype_of never yields {other}"),
    }
}
