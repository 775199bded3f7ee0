//! `--format arrow` results for Python: the Arrow renderer's IPC file is decoded once into record batches,
//! which are exported through the Arrow PyCapsule interface (`__arrow_c_stream__`), so `pyarrow.table(r)` or
//! `polars.DataFrame(r)` take the very buffers decoded here, without copying them
//! (<https://arrow.apache.org/docs/format/CDataInterface/PyCapsuleInterface.html>).

use std::ffi::CString;
use std::io::Cursor;

use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{Array, RecordBatch, RecordBatchIterator};
use arrow_schema::SchemaRef;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

/// A result table, ready to be handed to any Arrow consumer.
#[pyclass(module = "tally._native", frozen)]
#[derive(Debug)]
pub(crate) struct ArrowResult {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

/// Decodes the Arrow IPC file that `tally ... --format arrow` prints.
#[pyfunction]
pub(crate) fn arrow_result(ipc: &[u8]) -> PyResult<ArrowResult> {
    let reader = arrow_ipc::reader::FileReader::try_new(Cursor::new(ipc), None)
        .map_err(|e| PyValueError::new_err(format!("not an Arrow IPC file: {e}")))?;
    let schema = reader.schema();
    let batches = reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PyValueError::new_err(format!("cannot decode the Arrow result: {e}")))?;
    Ok(ArrowResult { schema, batches })
}

#[pymethods]
impl ArrowResult {
    /// The Arrow PyCapsule stream protocol: a capsule holding an `ArrowArrayStream` over the batches.
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        // The schema is ours to choose; a consumer that wants another one casts (the protocol allows it).
        let _ = requested_schema;
        let batches = self.batches.clone().into_iter().map(Ok);
        let reader = RecordBatchIterator::new(batches, self.schema.clone());
        let stream = FFI_ArrowArrayStream::new(Box::new(reader));
        let name = CString::new("arrow_array_stream").expect("no NUL");
        PyCapsule::new(py, stream, Some(name))
    }

    /// Rows over all batches.
    #[getter]
    fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// The addresses of every column's value buffers (validity excluded), batch by batch: lets tests show
    /// that a consumer got these very buffers, not copies.
    fn buffer_addresses(&self) -> Vec<Vec<Vec<usize>>> {
        self.batches
            .iter()
            .map(|b| {
                b.columns()
                    .iter()
                    .map(|c| c.to_data().buffers().iter().map(|buf| buf.as_ptr() as usize).collect())
                    .collect()
            })
            .collect()
    }

    fn __repr__(&self) -> String {
        format!("ArrowResult({} rows, {} columns)", self.num_rows(), self.schema.fields().len())
    }
}
