//! Where results go: standard output, or `--output FILE` through the engine's [`OutputFile`] (never the
//! input, replaced only when complete; see `tally_engine::output`).

use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use tally_engine::output::OutputFile;

/// Runs `write` against stdout or a new version of `path` that replaces it only on success; `inputs` are
/// the files the result was computed from, which `path` may not be.
pub(crate) fn with_output(
    path: Option<&Path>,
    inputs: &[&Path],
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    match path {
        Some(path) => {
            let mut file = OutputFile::create(path, inputs)?;
            write(file.writer()).with_context(|| format!("{}: cannot write", path.display()))?;
            Ok(file.commit()?)
        }
        // An embedded run (crate::embed) hands standard output to its host instead.
        None if crate::embed::active() => crate::embed::write_stdout(write).context("cannot capture the output"),
        None => {
            let mut out = BufWriter::new(std::io::stdout().lock());
            write(&mut out).and_then(|()| out.flush()).context("cannot write to standard output")
        }
    }
}
