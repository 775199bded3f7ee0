//! Where results go: standard output or `--output FILE`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context;

/// Runs `write` against stdout or a freshly created file, flushing at the end so errors surface here.
pub(crate) fn with_output(
    path: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    match path {
        Some(path) => {
            let file = File::create(path).with_context(|| format!("{}: cannot create output file", path.display()))?;
            let mut out = BufWriter::new(file);
            write(&mut out).and_then(|()| out.flush()).with_context(|| format!("{}: cannot write", path.display()))
        }
        None => {
            let mut out = BufWriter::new(std::io::stdout().lock());
            write(&mut out).and_then(|()| out.flush()).context("cannot write to standard output")
        }
    }
}
