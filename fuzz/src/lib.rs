//! What every target does with its bytes: write them to a file with the format's extension and run what
//! `tally describe FILE --executor serial` runs (open, sniff, validate, plan, decode, compute, finish), then
//! render the report, so a panic anywhere on the CLI's path is found. Errors are the expected outcome for
//! most inputs and are ignored; panics, hangs and runaway allocations are what libFuzzer reports.

use std::path::PathBuf;
use std::sync::OnceLock;

use tally_engine::exec::ExecutorKind;
use tally_engine::report::{Format, TableOptions};
use tally_engine::{DescribeOptions, RunOptions};

/// A directory of this process's own, removed when the process exits normally.
fn dir() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a temporary directory"))
}

/// Describes `bytes` as the file `input.<extension>`.
pub fn describe_bytes(bytes: &[u8], extension: &str) {
    let path: PathBuf = dir().path().join(format!("input.{extension}"));
    std::fs::write(&path, bytes).expect("write the input");
    // Small chunks so several chunks and batch boundaries are exercised even by tiny inputs.
    let run = RunOptions { executor: ExecutorKind::Serial, workers: 1, chunk_rows: Some(7), ..RunOptions::default() };
    let options = DescribeOptions { run, ..DescribeOptions::default() };
    if let Ok(described) = tally_engine::describe(&path, &options) {
        for format in [Format::Table, Format::Json, Format::Csv] {
            let _ = described.report.render(format, &TableOptions::default(), &mut std::io::sink());
        }
    }
}
