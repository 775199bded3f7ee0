//! Inputs that cannot be mapped or seeked: standard input (`-`), pipes and FIFOs (issue 6, item 8).
//!
//! Their bytes are read once into a sealed segment (`convert.rs`), so workers map them like any file; an
//! Arrow IPC stream is converted batch by batch, an Arrow IPC *file* arriving through a pipe is copied
//! as it is (its footer is at the end, so it needs random access).
//!
//! Waiting never ignores Ctrl-C. `open(2)` of a FIFO blocks until a writer appears, and tally's signal
//! handlers use `SA_RESTART`, so a plain open would hang through SIGINT: FIFOs are opened with
//! `O_NONBLOCK` (which returns at once for a reader) and the flag is then cleared. Every read then waits
//! in `poll(2)` with a short timeout and checks the [`Cancel`] token in between (on Linux a FIFO that
//! never had a writer reports no `POLLHUP`, so the wait lasts until a writer arrives, data comes or the
//! user gives up).

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::fs::OFlags;

use crate::error::{Error, Result};
use crate::exec::Cancel;

/// How often a waiting read looks at the cancel token.
const POLL_INTERVAL: Timespec = Timespec { tv_sec: 0, tv_nsec: 50_000_000 };

/// Opens a FIFO for reading without blocking in `open(2)`, then makes reads blocking again (they wait in
/// `poll`, see [`Waiting`]).
pub(crate) fn open_fifo(path: &Path) -> Result<File> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(OFlags::NONBLOCK.bits() as i32)
        .open(path)
        .map_err(|e| Error::io(format!("cannot open the pipe: {e}"), e).with_file(path))?;
    let flags = rustix::fs::fcntl_getfl(&file).map_err(|e| Error::io("cannot read the pipe's flags", e.into()))?;
    rustix::fs::fcntl_setfl(&file, flags - OFlags::NONBLOCK)
        .map_err(|e| Error::io("cannot make the pipe blocking", e.into()).with_file(path))?;
    Ok(file)
}

/// A reader over a pipe that waits for data in `poll(2)`, returning an error once `cancel` fires.
pub(crate) struct Waiting<'a> {
    pub(crate) file: File,
    pub(crate) cancel: &'a Cancel,
}

impl Read for Waiting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if self.cancel.signal().is_some() {
                return Err(std::io::Error::other("interrupted while waiting for input"));
            }
            let mut fds = [PollFd::new(&self.file, PollFlags::IN)];
            match rustix::event::poll(&mut fds, Some(&POLL_INTERVAL)) {
                Ok(0) => continue,
                Ok(_) => return self.file.read(buf),
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// Fills `head` as far as the input goes; the number of bytes read.
pub(crate) fn read_head<R: Read + ?Sized>(input: &mut R, head: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < head.len() {
        match input.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
