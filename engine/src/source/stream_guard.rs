//! Checks each message of an Arrow IPC stream before arrow-rs reads it, with the caps an IPC file gets
//! (`ipc.rs`): arrow-rs allocates what a message declares up front (its metadata length, its body length,
//! and for a compressed body every buffer's decompressed length), so a corrupt or hostile stream could
//! otherwise make it allocate terabytes and abort the process instead of failing with an error.
//!
//! The guard sits between the input and arrow-rs's `StreamReader`: it reads one whole message (framing,
//! metadata flatbuffer, body), checks it, and hands the same bytes on. A message it cannot parse is handed
//! on untouched, so arrow-rs reports it as it always has. Refusals are `InvalidData` I/O errors, which the
//! stream conversion turns into "malformed Arrow IPC stream" errors naming the file, batch and offset.
//!
//! Owns only these checks; decoding stays arrow-rs's (`convert.rs`).

use std::io::{Error as IoError, ErrorKind, Read};

use super::declared::{check_declared, physical_memory};

/// A stream reader that refuses messages declaring more than the input holds or the machine has.
pub(crate) struct StreamGuard<R> {
    inner: R,
    /// The current message's bytes and how many of them were handed on.
    pending: Vec<u8>,
    at: usize,
    /// Bytes of the input not yet read, when its size is known (a file), else `None` (a pipe).
    remaining: Option<u64>,
    /// The decompressed bytes one batch may declare.
    limit: u64,
    /// Past the end-of-stream marker or a message the guard does not understand: bytes pass as they are.
    raw: bool,
}

impl<R: Read> StreamGuard<R> {
    /// Guards `inner`, of `size` bytes when known.
    pub(crate) fn new(inner: R, size: Option<u64>) -> Self {
        StreamGuard { inner, pending: Vec::new(), at: 0, remaining: size, limit: physical_memory(), raw: false }
    }

    /// Appends up to `n` bytes of the input to `pending` (fewer at its end); true when all `n` came.
    fn take(&mut self, n: u64) -> std::io::Result<bool> {
        let got = (&mut self.inner).take(n).read_to_end(&mut self.pending)? as u64;
        if let Some(r) = &mut self.remaining {
            *r = r.saturating_sub(got);
        }
        Ok(got == n)
    }

    /// Whether `n` more bytes can be in the input (always, for a pipe).
    fn fits(&self, n: u64) -> bool {
        self.remaining.is_none_or(|r| n <= r)
    }

    /// Reads the next message into `pending`, checking it on the way.
    fn next_message(&mut self) -> std::io::Result<()> {
        self.pending.clear();
        self.at = 0;
        if !self.take(4)? {
            return Ok(());
        }
        let mut prefix = 4;
        if self.pending[..4] == [0xFF; 4] {
            if !self.take(4)? {
                return Ok(());
            }
            prefix = 8;
        }
        let word: [u8; 4] = self.pending[prefix - 4..prefix].try_into().expect("4 bytes");
        let len = i32::from_le_bytes(word);
        if len <= 0 {
            // End of stream (0), or a length arrow-rs refuses itself: nothing more to check.
            self.raw = true;
            return Ok(());
        }
        let len = len as u64;
        if !self.fits(len) {
            return Err(truncated(len, self.remaining.unwrap_or(0)));
        }
        if !self.take(len)? {
            return Ok(());
        }
        let Ok(message) = arrow_ipc::root_as_message(&self.pending[prefix..]) else {
            self.raw = true;
            return Ok(());
        };
        let body = message.bodyLength();
        let Ok(body) = u64::try_from(body) else {
            self.raw = true;
            return Ok(());
        };
        if !self.fits(body) {
            return Err(truncated(body, self.remaining.unwrap_or(0)));
        }
        let batch =
            message.header_as_record_batch().or_else(|| message.header_as_dictionary_batch().and_then(|d| d.data()));
        let meta_end = self.pending.len();
        // The flatbuffer borrows `pending`, which the body is appended to: find what to check first.
        let compressed = batch.is_some_and(|b| b.compression().is_some());
        if !self.take(body)? || !compressed {
            return Ok(());
        }
        let message = arrow_ipc::root_as_message(&self.pending[prefix..meta_end]).expect("parsed above");
        let batch = message
            .header_as_record_batch()
            .or_else(|| message.header_as_dictionary_batch().and_then(|d| d.data()))
            .expect("a batch above");
        check_declared(&batch, &self.pending[meta_end..], self.limit).map_err(|why| invalid(format!("a batch {why}")))
    }
}

/// A message that declares more bytes than the input has left: the input ends inside it. Said before
/// anything of the declared size is allocated, and as `InvalidData`: arrow-rs takes an `UnexpectedEof` at a
/// message boundary for the end of the stream, which would silently drop the batch.
fn truncated(declared: u64, left: u64) -> IoError {
    invalid(format!(
        "truncated Arrow IPC stream: a message declares {declared} more bytes but the input ends after {left} \
         (was the write interrupted?)"
    ))
}

fn invalid(msg: String) -> IoError {
    IoError::new(ErrorKind::InvalidData, msg)
}

impl<R: Read> Read for StreamGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.pending.len() {
            if self.raw {
                return self.inner.read(buf);
            }
            self.next_message()?;
            if self.pending.is_empty() {
                return if self.raw { self.inner.read(buf) } else { Ok(0) };
            }
        }
        let n = buf.len().min(self.pending.len() - self.at);
        buf[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}
