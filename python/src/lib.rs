//! `tally._native`: the Rust half of the Python package. One generic entry point, [`invoke`], runs a
//! CLI-style argument list through the `tally` command line in-process (`tally_cli::embed`) with the GIL
//! released, turns Ctrl-C into a clean cancel, and raises `tally.errors` exceptions with the engine's context.
//! [`arrow::ArrowResult`] hands `--format arrow` results to pyarrow/Polars through the Arrow C stream
//! interface. Everything else (keyword arguments → flags, JSON → dicts, docstrings) is Python in `tally/`.

mod arrow;
mod errors;
mod run;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run::invoke, m)?)?;
    m.add_function(wrap_pyfunction!(run::worker_main, m)?)?;
    m.add_function(wrap_pyfunction!(arrow::arrow_result, m)?)?;
    m.add_class::<arrow::ArrowResult>()?;
    m.add_function(wrap_pyfunction!(commands, m)?)?;
    m.add("STATE_FORMAT_VERSION", tally_engine::stats::STATE_FORMAT_VERSION)?;
    Ok(())
}

/// The `tally` subcommands this build knows, as `(name, one-line help)` pairs.
#[pyfunction]
fn commands() -> Vec<(String, String)> {
    tally_cli::embed::commands()
}
