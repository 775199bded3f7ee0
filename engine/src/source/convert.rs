//! Decodes inputs that cannot be mapped as they are into a sealed shared-memory segment laid out as an
//! uncompressed Arrow IPC file, which [`IpcFile::from_segment`] then maps like any file.
//!
//! ```text
//!  .stream ──StreamReader──┐                                        (64-byte aligned buffers,
//!                          ├─► one RecordBatch at a time ─► FileWriter ─► SegmentWriter ─► seal
//!  compressed .arrow ──────┘   (IpcFile, decompressing)      no compression)    (memfd)
//! ```
//!
//! Owns the conversion only: what a segment is lives in `store/segment.rs`, reading it in `source/ipc.rs`.
//! Batches stream through one at a time, so the memory cost beyond the segment itself is one decoded batch.
//!
//! Why convert instead of decoding in place: a stream has no footer, so it cannot be read by batch index
//! (which workers need), and a compressed body would be decompressed again by every worker that touches its
//! chunk. Converting once gives every worker zero-copy, random-access reads.
//!
//! arrow-rs is called under `catch_unwind` (`ipc::guarded`): fuzzed streams must be errors naming the file,
//! the record batch and the byte offset where its messages start, never a panic.

use std::io::{BufReader, Cursor, ErrorKind, Read, Write};
use std::path::Path;

use arrow_array::RecordBatch;
use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::FileWriter;
use arrow_schema::{ArrowError, Schema};

use super::Format;
use super::ipc::{IpcFile, guarded};
use super::spill::Sink;
use crate::error::{Error, Result};
use crate::store::segment::{SealedSegment, SegmentWriter};

/// Decodes the Arrow IPC stream or Arrow IPC file at `path` (whose format [`super::sniff()`] found) into a
/// sealed segment holding the same batches as an uncompressed Arrow IPC file.
pub fn to_segment(path: &Path, format: Format) -> Result<SealedSegment> {
    match format {
        Format::ArrowStream => stream_to_segment(path),
        Format::ArrowFile => file_to_segment(&IpcFile::open(path)?),
        other => Err(Error::input(format!("{} input cannot be converted yet", other.name())).with_file(path)),
    }
}

/// Rewrites an opened IPC file (typically one with compressed bodies) uncompressed into a segment. The
/// file was validated when it was opened (footer, bounds, endianness); each batch is decoded, and so
/// decompressed, exactly once.
pub(crate) fn file_to_segment(file: &IpcFile) -> Result<SealedSegment> {
    let path = file.path();
    let mut out = Output::create(path, file.schema())?;
    file.for_each_batch(|i, batch| out.write(&batch).map_err(|e| e.with_batch(i)))?;
    out.seal()
}

/// Reads an Arrow IPC stream (continuation-marker or pre-1.0 framing) into a segment, batch by batch.
pub(crate) fn stream_to_segment(path: &Path) -> Result<SealedSegment> {
    let file = super::open_input(path)?;
    let size = file.metadata().map(|m| m.len()).ok();
    read_stream_to_segment(file, size, path)
}

/// Same, from any reader (a pipe, standard input): nothing is seeked, the first message is read once, checked,
/// and handed on to the stream reader. `size` bounds the first message's length when the input's size is
/// known; `label` names the input in errors.
pub(crate) fn read_stream_to_segment(mut input: impl Read, size: Option<u64>, label: &Path) -> Result<SealedSegment> {
    let path = label;
    let head = check_schema_message(&mut input, size, path)?;
    // The same caps on declared sizes that IPC files get (`stream_guard.rs`).
    let guarded_input = super::stream_guard::StreamGuard::new(Cursor::new(head).chain(input), size);
    let counted = Counted { inner: BufReader::new(guarded_input), pos: 0 };
    let malformed = |e: ArrowError| match e {
        ArrowError::IoError(_, io) if io.kind() == ErrorKind::UnexpectedEof => {
            Error::input("truncated Arrow IPC stream: the file ends inside a message (was the write interrupted?)")
                .with_file(path)
        }
        e => Error::input(format!("malformed Arrow IPC stream: {e}")).with_file(path),
    };
    let mut reader = guarded(|| StreamReader::try_new(counted, None)).map_err(malformed)?;
    // Checked here, against the input, so the error does not point into the segment.
    super::check_schema(&reader.schema()).map_err(|e| e.with_file(path).with_byte_offset(0))?;
    let mut out = Output::create(path, &reader.schema())?;
    for i in 0.. {
        let start = reader.get_ref().pos;
        match guarded(|| reader.next().transpose()) {
            Ok(Some(batch)) => out.write(&batch).map_err(|e| e.with_batch(i))?,
            Ok(None) => break,
            Err(e) => return Err(malformed(e).with_batch(i).with_byte_offset(start)),
        }
    }
    out.seal()
}

/// Longest first message accepted when the input's size is unknown (a pipe): a schema is kilobytes.
const MAX_SCHEMA_MESSAGE: u64 = 1 << 30;

/// arrow-rs's stream reader checks neither the schema's endianness (it would read a big-endian stream as
/// wrong numbers, arrow-rs issue 3459) nor its metadata version, so the first message is read here first.
/// Anything unreadable is left for the stream reader to report. Returns the bytes it consumed.
fn check_schema_message(input: &mut impl Read, size: Option<u64>, path: &Path) -> Result<Vec<u8>> {
    let mut head = Vec::new();
    let take = |input: &mut dyn Read, n: usize, head: &mut Vec<u8>| -> bool {
        let start = head.len();
        head.resize(start + n, 0);
        let got = super::pipe::read_head(input, &mut head[start..]).unwrap_or(0);
        head.truncate(start + got);
        got == n
    };
    if !take(input, 4, &mut head) {
        return Ok(head);
    }
    let mut word: [u8; 4] = head[0..4].try_into().expect("4 bytes");
    if word == [0xFF; 4] {
        if !take(input, 4, &mut head) {
            return Ok(head);
        }
        word = head[4..8].try_into().expect("4 bytes");
    }
    let limit = size.unwrap_or(MAX_SCHEMA_MESSAGE);
    let Some(len) = u64::try_from(i32::from_le_bytes(word)).ok().filter(|&n| n > 0 && n <= limit) else {
        return Ok(head);
    };
    let start = head.len();
    if !take(input, len as usize, &mut head) {
        return Ok(head);
    }
    let Ok(message) = arrow_ipc::root_as_message(&head[start..]) else { return Ok(head) };
    let refuse = |why: &str| Err(Error::input(why).with_file(path).with_byte_offset(0));
    if let Err(why) = super::check_metadata_version(message.version()) {
        return refuse(&why);
    }
    match message.header_as_schema() {
        Some(schema) if !schema.endianness().equals_to_target_endianness() => refuse(super::BIG_ENDIAN),
        _ => Ok(head),
    }
}

/// The decoded input being written, as an Arrow IPC file with default options: uncompressed, buffers
/// padded to 64 bytes, so [`IpcFile`] maps it zero-copy. `W` is a memfd ([`SegmentWriter`]) or a
/// [`Sink`] that may spill to a temporary file.
pub(crate) struct Output<'a, W: Write> {
    path: &'a Path,
    writer: FileWriter<W>,
}

impl<'a> Output<'a, SegmentWriter> {
    fn create(path: &'a Path, schema: &Schema) -> Result<Self> {
        let name = path.file_name().map_or_else(|| path.to_string_lossy(), |n| n.to_string_lossy());
        let segment = SegmentWriter::create(&name).map_err(|e| e.with_file(path))?;
        Self::over(path, schema, segment)
    }

    fn seal(self) -> Result<SealedSegment> {
        let segment = guarded(|| self.writer.into_inner()).map_err(|e| write_error(self.path, e))?;
        segment.seal().map_err(|e| e.with_file(self.path))
    }
}

impl<'a> Output<'a, Sink> {
    /// An output in memory or, when `estimate` (decoded bytes) is too large for it, in a temporary file.
    pub(crate) fn spilling(path: &'a Path, schema: &Schema, estimate: Option<u64>) -> Result<Self> {
        Self::over(path, schema, Sink::for_size(estimate, path)?)
    }

    /// Ends the IPC file and maps it.
    pub(crate) fn finish(self) -> Result<IpcFile> {
        let sink = guarded(|| self.writer.into_inner()).map_err(|e| write_error(self.path, e))?;
        sink.finish(self.path)
    }
}

impl<'a, W: Write> Output<'a, W> {
    /// An output into `out`; `path` names the input in errors.
    pub(crate) fn over(path: &'a Path, schema: &Schema, out: W) -> Result<Self> {
        // Delta dictionaries: a stream's dictionary that grows batch by batch (delta dictionary batches) is
        // written as the file format allows, as deltas, instead of being refused as a replacement.
        let options = arrow_ipc::writer::IpcWriteOptions::default()
            .with_dictionary_handling(arrow_ipc::writer::DictionaryHandling::Delta);
        let writer =
            guarded(|| FileWriter::try_new_with_options(out, schema, options)).map_err(|e| write_error(path, e))?;
        Ok(Output { path, writer })
    }

    pub(crate) fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        guarded(|| self.writer.write(batch)).map_err(|e| write_error(self.path, e))
    }

    /// Ends the IPC file (its footer) and hands back the writer.
    pub(crate) fn end(self) -> Result<W> {
        guarded(|| self.writer.into_inner()).map_err(|e| write_error(self.path, e))
    }
}

/// I/O failures are the segment's (out of memory, usually); anything else is a batch arrow-rs cannot write
/// as an IPC file (e.g. a dictionary replaced mid-stream, which the file format cannot express).
fn write_error(path: &Path, e: ArrowError) -> Error {
    match e {
        ArrowError::IoError(msg, source) => {
            Error::io(format!("cannot write the decoded input into shared memory: {msg}"), source).with_file(path)
        }
        other => {
            Error::input(format!("cannot store the decoded batches as an Arrow IPC file: {other}")).with_file(path)
        }
    }
}

/// A reader that counts the bytes taken from it: where each stream message starts, for error context.
struct Counted<R> {
    inner: R,
    pos: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}
