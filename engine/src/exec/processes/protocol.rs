//! The wire protocol between the supervisor and its worker processes.
//!
//! Every message is the postcard encoding of a [`ToWorker`] or [`ToParent`] after a `u16` protocol version,
//! cut into frames of at most [`FRAME_BYTES`]: each frame is a little-endian `u32` header (its byte length,
//! with [`MORE`] set on every frame but a message's last) and the bytes. A reader never acts on half a
//! message; a truncated frame is a protocol error naming what was expected. A worker and a parent of
//! different versions refuse each other on the first message instead of misreading partial states.
//!
//! Why bounded frames (issue 10): a million-group chunk state is tens of megabytes, and a larger chunk of
//! long string keys can be gigabytes. One frame per message needed a length cap (it was 256 MiB, past which
//! a run failed) and made the reader allocate whatever a header declared; bounded frames need neither, since
//! a message's buffer grows only as its bytes arrive. The alternative the issue names, a sealed memfd per
//! partial passed with `SCM_RIGHTS`, would save the pipe's copy: measured in benches/README.md ("Partials
//! in bounded frames"), the pipe is not where a million-group run spends its time.

use std::io::{ErrorKind as IoKind, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::error::{Error, ErrorKind, Result};
use crate::exec::memory::MemoryUse;
use crate::plan::{Chunk, Pass, Plan};
use crate::stats::PartialSet;
use crate::store::Origin;
use crate::store::segment::{file_identity, inheritable_file_fd};

/// Bumped whenever a message, its framing or a partial state changes shape.
pub const PROTOCOL_VERSION: u16 = 4;

/// The most bytes one frame carries: 1 MiB, sixteen times a pipe's default buffer, so a frame costs a few
/// `write` calls and a header per megabyte is noise.
pub(crate) const FRAME_BYTES: u32 = 1 << 20;

/// Header bit: more frames of the same message follow.
const MORE: u32 = 1 << 31;

/// Where a worker finds the data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum InputSpec {
    /// A file known only by its path (stores built in memory by tests): the worker opens it itself.
    Path(PathBuf),
    /// The input file the parent opened, inherited as descriptor `fd`; the worker checks it is the file the
    /// parent planned on (`device`, `inode`) and maps it, sharing the parent's page cache.
    File { fd: i32, device: u64, inode: u64, label: PathBuf },
    /// A sealed memfd the worker inherited as file descriptor `fd`; `label` names the original input.
    Segment { fd: i32, label: PathBuf },
    /// A Parquet file inherited as descriptor `fd` (checked like `File`): the worker reads its footer and
    /// decodes the rows of its own chunks.
    Parquet { fd: i32, device: u64, inode: u64, label: PathBuf },
    /// A `.npy` file inherited as descriptor `fd` (checked like `File`), mapped in place with these names.
    Npy { fd: i32, device: u64, inode: u64, label: PathBuf, names: Vec<String> },
    /// The files of a dataset, in order: each opened as its own spec says, then concatenated.
    Many(Vec<InputSpec>),
}

/// What a worker is told to open for `origin`, with the descriptors it inherits (alive until it started).
pub(crate) fn input_spec(origin: &Origin, label: &std::path::Path) -> Result<(InputSpec, Vec<OwnedFd>)> {
    let file_spec = |file: &std::fs::File| -> Result<(i32, u64, u64, OwnedFd)> {
        let (device, inode) = file_identity(file)?;
        let fd = inheritable_file_fd(file)?;
        Ok((fd.as_raw_fd(), device, inode, fd))
    };
    Ok(match origin {
        Origin::File(path) => (InputSpec::Path(path.clone()), Vec::new()),
        Origin::OpenFile { path, file } => {
            let (fd, device, inode, owned) = file_spec(file)?;
            (InputSpec::File { fd, device, inode, label: path.clone() }, vec![owned])
        }
        Origin::Parquet { path, file } => {
            let (fd, device, inode, owned) = file_spec(file)?;
            (InputSpec::Parquet { fd, device, inode, label: path.clone() }, vec![owned])
        }
        Origin::Npy { path, file, names } => {
            let (fd, device, inode, owned) = file_spec(file)?;
            (InputSpec::Npy { fd, device, inode, label: path.clone(), names: names.clone() }, vec![owned])
        }
        Origin::Segment(segment) => {
            let fd = segment.inheritable_fd()?;
            (InputSpec::Segment { fd: fd.as_raw_fd(), label: label.to_path_buf() }, vec![fd])
        }
        Origin::Many(members) => {
            let mut specs = Vec::with_capacity(members.len());
            let mut fds = Vec::new();
            for member in members {
                let (spec, owned) = input_spec(member, label)?;
                specs.push(spec);
                fds.extend(owned);
            }
            (InputSpec::Many(specs), fds)
        }
    })
}

/// Parent → worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[allow(clippy::large_enum_variant, reason = "Hello, the large one, is sent once per worker")]
pub(crate) enum ToWorker {
    /// First frame: where the data is and what is read of it. The worker opens and validates it once.
    Hello { worker: usize, input: InputSpec, plan: Plan },
    /// The statistics of the next pass; tasks that follow name it by id.
    Pass(Pass),
    /// Compute this chunk for pass `pass` and reply with [`ToParent::Done`].
    Task { pass: u32, chunk: Chunk },
}

/// Worker → parent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum ToParent {
    /// The store is open: send tasks.
    Ready { pid: u32 },
    /// One chunk's partial states for one pass, and the worker's memory use so far.
    Done { pass: u32, chunk: usize, partial: PartialSet, memory: MemoryUse },
    /// The worker cannot go on (e.g. the input changed under it); its error, rendered with context.
    Failed { message: String, input_error: bool },
}

fn protocol(message: String) -> Error {
    Error::new(ErrorKind::Protocol, message)
}

/// Writes one frame.
pub(crate) fn write_frame<T: Serialize>(out: &mut impl Write, message: &T) -> Result<()> {
    write_frame_with(out, message, &mut Vec::new())
}

/// Writes one message, encoded in `frame` (cleared first). A loop that sends many large messages passes
/// the same buffer every time: a fresh buffer of tens of megabytes per message is mapped and faulted in
/// page by page each time, which costs more than the copy.
pub(crate) fn write_frame_with<T: Serialize>(out: &mut impl Write, message: &T, frame: &mut Vec<u8>) -> Result<()> {
    frame.clear();
    frame.extend_from_slice(&PROTOCOL_VERSION.to_le_bytes());
    postcard::to_io(message, &mut *frame).map_err(|e| Error::internal(format!("cannot encode a frame: {e}")))?;
    let mut pieces = frame.chunks(FRAME_BYTES as usize).peekable();
    while let Some(piece) = pieces.next() {
        let more = if pieces.peek().is_some() { MORE } else { 0 };
        let header = (piece.len() as u32 | more).to_le_bytes();
        out.write_all(&header)
            .and_then(|()| out.write_all(piece))
            .map_err(|e| Error::io("cannot write to the pipe", e))?;
    }
    out.flush().map_err(|e| Error::io("cannot write to the pipe", e))
}

/// Reads one message; `Ok(None)` on a clean end of stream (the peer closed the pipe between messages).
pub(crate) fn read_frame<T: DeserializeOwned>(input: &mut impl Read) -> Result<Option<T>> {
    read_frame_with(input, &mut Vec::new())
}

/// [`read_frame`] into a buffer the caller keeps across messages (see [`write_frame_with`]).
pub(crate) fn read_frame_with<T: DeserializeOwned>(input: &mut impl Read, body: &mut Vec<u8>) -> Result<Option<T>> {
    body.clear();
    loop {
        let mut header = [0u8; 4];
        match read_full(input, &mut header)? {
            0 if body.is_empty() => return Ok(None),
            4 => {}
            n => return Err(protocol(format!("pipe closed inside a frame header ({n} of 4 bytes)"))),
        }
        let header = u32::from_le_bytes(header);
        let len = header & !MORE;
        // A continued frame is always full, so a short one, or an empty message, is not ours.
        let valid = len <= FRAME_BYTES && (header & MORE == 0 || len == FRAME_BYTES) && (len > 0 || !body.is_empty());
        if !valid {
            return Err(protocol(format!("invalid frame header {header:#010x}")));
        }
        let start = body.len();
        body.resize(start + len as usize, 0);
        let got = read_full(input, &mut body[start..])?;
        if got != len as usize {
            return Err(protocol(format!("pipe closed inside a frame ({got} of {len} bytes)")));
        }
        if header & MORE == 0 {
            break;
        }
    }
    if body.len() < 2 {
        return Err(protocol(format!("a message of {} byte(s), shorter than its version", body.len())));
    }
    let version = u16::from_le_bytes([body[0], body[1]]);
    if version != PROTOCOL_VERSION {
        return Err(protocol(format!(
            "peer speaks protocol version {version}, this tally speaks {PROTOCOL_VERSION} (mixed installations?)"
        )));
    }
    postcard::from_bytes(&body[2..]).map(Some).map_err(|e| protocol(format!("undecodable frame: {e}")))
}

/// Fills `buf` as far as the stream allows; returns the bytes read (short only at end of stream).
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == IoKind::Interrupted => {}
            Err(e) => return Err(Error::io("cannot read from the pipe", e)),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{AnyPartial, Counts};

    #[test]
    fn frames_round_trip_and_end_cleanly() {
        let msgs = vec![
            ToParent::Ready { pid: 42 },
            ToParent::Done {
                pass: 1,
                chunk: 7,
                partial: PartialSet { rows: 4, stats: vec![AnyPartial::Counts(Counts { count: 3, null_count: 1 })] },
                memory: MemoryUse { peak_rss: 9 << 20, anon: 3 << 20 },
            },
            ToParent::Failed { message: "boom".into(), input_error: true },
        ];
        let mut buf = Vec::new();
        for m in &msgs {
            write_frame(&mut buf, m).unwrap();
        }
        let mut r = &buf[..];
        for m in &msgs {
            assert_eq!(read_frame::<ToParent>(&mut r).unwrap().as_ref(), Some(m));
        }
        assert_eq!(read_frame::<ToParent>(&mut r).unwrap(), None);
    }

    #[test]
    fn truncated_wrong_version_and_invalid_headers_are_errors() {
        let mut buf = Vec::new();
        write_frame(&mut buf, &ToParent::Ready { pid: 1 }).unwrap();
        let cut = &buf[..buf.len() - 1];
        assert!(read_frame::<ToParent>(&mut &cut[..]).unwrap_err().to_string().contains("inside a frame"));
        let mut skew = buf.clone();
        skew[4] ^= 0xFF;
        assert!(read_frame::<ToParent>(&mut &skew[..]).unwrap_err().to_string().contains("protocol version"));
        // Longer than a frame, a short continued frame, an empty message: none is read (or allocated for).
        for header in [0x7FFF_FFFFu32, FRAME_BYTES + 1, MORE | 5, 0] {
            let bytes = header.to_le_bytes();
            let err = read_frame::<ToParent>(&mut &bytes[..]).unwrap_err().to_string();
            assert!(err.contains("invalid frame header"), "{header:#x}: {err}");
        }
        assert!(read_frame::<ToParent>(&mut &buf[..2]).unwrap_err().to_string().contains("frame header"));
    }

    /// A message bigger than a frame crosses as full continued frames and a last short one, and reads back
    /// whole; cut anywhere, it is an error, never a shorter message.
    #[test]
    fn messages_larger_than_a_frame_cross_in_bounded_frames() {
        let frame = FRAME_BYTES as usize;
        let message = ToParent::Failed { message: "x".repeat(2 * frame + 12_345), input_error: false };
        let mut buf = Vec::new();
        write_frame(&mut buf, &message).unwrap();
        let mut at = 0;
        let mut sizes = Vec::new();
        while at < buf.len() {
            let header = u32::from_le_bytes(buf[at..at + 4].try_into().unwrap());
            sizes.push((header & !MORE, header & MORE != 0));
            at += 4 + (header & !MORE) as usize;
        }
        assert_eq!(sizes.len(), 3);
        assert!(sizes[..2].iter().all(|&s| s == (FRAME_BYTES, true)) && !sizes[2].1, "{sizes:?}");
        assert_eq!(sizes.iter().map(|s| s.0 as usize).sum::<usize>(), 2 + 1 + 4 + 2 * frame + 12_345 + 1);
        let mut both = buf.clone();
        both.extend_from_slice(&buf);
        let mut r = &both[..];
        assert_eq!(read_frame::<ToParent>(&mut r).unwrap(), Some(message.clone()));
        assert_eq!(read_frame::<ToParent>(&mut r).unwrap(), Some(message));
        assert_eq!(read_frame::<ToParent>(&mut r).unwrap(), None);
        for cut in [4, frame, frame + 4, frame + 6, buf.len() - 1] {
            assert!(read_frame::<ToParent>(&mut &buf[..cut]).is_err(), "cut at {cut}");
        }
    }
}
