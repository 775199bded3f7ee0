//! Failures → `tally.errors` exceptions. The classes live in Python (docstrings, attributes a user can read);
//! this side only picks the class by the engine's [`ErrorKind`] and passes the context fields.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use tally_cli::embed::Failure;
use tally_engine::ErrorKind;

/// The Python exception for a failed command line.
pub(crate) fn to_python(py: Python<'_>, failure: &Failure) -> PyErr {
    match build(py, failure) {
        Ok(err) => err,
        Err(err) => err,
    }
}

fn build(py: Python<'_>, failure: &Failure) -> PyResult<PyErr> {
    let context = PyDict::new(py);
    let (kind, message) = match (failure, failure.engine_error()) {
        (Failure::Usage(text), _) => ("usage", text.trim_end().to_string()),
        (_, Some(e)) => {
            let c = e.context();
            context.set_item("file", c.file.as_ref().map(|p| p.display().to_string()))?;
            context.set_item("column", c.column.clone())?;
            context.set_item("batch", c.batch)?;
            context.set_item("byte_offset", c.byte_offset)?;
            context.set_item("chunk", c.chunk)?;
            context.set_item("rows", c.rows.as_ref().map(|r| (r.start, r.end)))?;
            context.set_item("worker", c.worker.clone())?;
            context.set_item("reason", e.message())?;
            (kind_name(e.kind()), failure.to_string())
        }
        (Failure::Run(_), None) => ("other", failure.to_string()),
    };
    let factory = py.import("tally.errors")?.getattr("from_native")?;
    let exception = factory.call((kind, message), Some(&context))?;
    Ok(PyErr::from_value(exception))
}

fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Input => "input",
        ErrorKind::Worker => "worker",
        ErrorKind::Io => "io",
        ErrorKind::Protocol => "protocol",
        ErrorKind::Cancelled => "cancelled",
        ErrorKind::Internal => "internal",
    }
}
