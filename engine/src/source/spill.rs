//! Where a decoded input goes: a sealed memfd when it fits in memory, an unnamed temporary file otherwise.
//!
//! ```text
//!  decoder ─► RecordBatch ─► FileWriter ─► Sink::Memory (memfd) ──seal──► IpcFile::from_segment
//!                                      └─► Sink::Disk (O_TMPFILE) ─────► IpcFile::from_file
//! ```
//!
//! Owns the choice and the finishing step only; what is written (an uncompressed, 64-byte aligned Arrow
//! IPC file) is `convert.rs`'s job. A memfd is RAM (or swap): decoding a Parquet or CSV file whose values do
//! not fit would push the machine into swap or the OOM killer, so inputs whose decoded size is estimated
//! above half the memory available right now are spilled to a temporary file without a name (`O_TMPFILE`
//! in `$TMPDIR`). Its pages live in the page cache, which the kernel can write back and drop, so memory
//! stays bounded; nothing is left behind, because the file has no name and disappears with its last
//! descriptor (SIGKILL included). Workers inherit its descriptor like any input file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use super::ipc::IpcFile;
use crate::error::{Error, Result};
use crate::store::segment::SegmentWriter;

/// The bytes of a decoded input being written.
#[derive(Debug)]
pub(crate) enum Sink {
    Memory(SegmentWriter),
    Disk(BufWriter<File>),
}

impl Sink {
    /// A memfd, unless `estimate` (decoded bytes; `None` when unknown) exceeds half of the memory
    /// available now, or `TALLY_SPILL=disk` asks for the temporary file (tests, and users who know better).
    pub(crate) fn for_size(estimate: Option<u64>, label: &Path) -> Result<Sink> {
        let forced = std::env::var("TALLY_SPILL").is_ok_and(|v| v == "disk");
        let too_big = estimate.is_some_and(|bytes| bytes > available_memory() / 2);
        if forced || too_big {
            let file = tempfile::tempfile().map_err(|e| {
                Error::io(
                    format!(
                        "cannot create a temporary file in {} for the decoded input",
                        std::env::temp_dir().display()
                    ),
                    e,
                )
                .with_file(label)
            })?;
            return Ok(Sink::Disk(BufWriter::with_capacity(1 << 20, file)));
        }
        let name = label.file_name().map_or_else(|| label.to_string_lossy(), |n| n.to_string_lossy());
        Ok(Sink::Memory(SegmentWriter::create(&name).map_err(|e| e.with_file(label))?))
    }

    /// Finishes the bytes (sealing the memfd, flushing the file) and maps them as an IPC file labelled
    /// with the original input's path.
    pub(crate) fn finish(self, label: &Path) -> Result<IpcFile> {
        match self {
            Sink::Memory(segment) => {
                let segment = segment.seal().map_err(|e| e.with_file(label))?;
                IpcFile::from_segment(Arc::new(segment), label)
            }
            Sink::Disk(out) => {
                let file = out.into_inner().map_err(|e| {
                    Error::io("cannot write the decoded input to its temporary file", e.into_error()).with_file(label)
                })?;
                IpcFile::from_file(&file, label)
            }
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Memory(s) => s.write(buf),
            Sink::Disk(f) => f.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::Memory(s) => s.write_all(buf),
            Sink::Disk(f) => f.write_all(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Memory(s) => s.flush(),
            Sink::Disk(f) => f.flush(),
        }
    }
}

/// `MemAvailable` (Linux `/proc/meminfo`): what can be used without swapping; 1 TiB when unreadable.
fn available_memory() -> u64 {
    super::meminfo("MemAvailable:").unwrap_or(1 << 40)
}
