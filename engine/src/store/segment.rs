//! The Store's shared-memory segment: an anonymous, sealed `memfd` holding an Arrow IPC file.
//!
//! ```text
//!  parent:  SegmentWriter::create ──write(2) through the fd──► seal() ──► SealedSegment ──mmap──► IpcFile
//!                                                                           │
//!                                                                           └─ inheritable_fd(): dup, no FD_CLOEXEC,
//!                                                                              its number on the worker's argv
//!  worker:  SealedSegment::from_inherited_fd(n) ──verify the seals──► SealedSegment ──mmap──► IpcFile
//! ```
//!
//! Owns creating, filling and sealing the segment, and handing it to worker processes by file descriptor.
//! Does not own what goes into it (`source/convert.rs` writes an uncompressed Arrow IPC file) nor how it is
//! read (`source/ipc.rs` maps it exactly like a file on disk).
//!
//! ## Why a memfd
//! * **No name, no leak.** A memfd lives exactly as long as some process holds its descriptor or a mapping of
//!   it. When the parent and its workers exit, however they exit (SIGKILL included), the kernel frees it:
//!   nothing is left in `/dev/shm` and no sweeper is needed.
//! * **Sealed means immutable.** After [`SegmentWriter::seal`] applies `F_SEAL_WRITE | F_SEAL_SHRINK |
//!   F_SEAL_GROW | F_SEAL_SEAL`, no process can change, truncate or grow the bytes, and the seals cannot be
//!   removed. That is what makes mapping it and handing out `&[u8]` views of it sound: the classic mmap
//!   hazards (bytes changing under a shared reference, SIGBUS after truncation) cannot happen. A worker checks
//!   the seals itself ([`SealedSegment::from_inherited_fd`]) instead of trusting its parent.
//! * **Writes go through the fd**, never through a writable shared mapping: `F_SEAL_WRITE` is refused
//!   (`EBUSY`) while a writable shared mapping exists, and there never is one.
//!
//! ## Why not the `shared_memory` crate
//! Its last release is from 2022, its handle is neither `Send` nor `Sync` (the Store is shared by threads), and
//! it creates *named* segments: a crashed owner leaves its `/dev/shm` entry behind, so every run would need a
//! sweeper for the leftovers of earlier ones. An anonymous memfd makes that whole class of bug impossible.
//!
//! ## Trust in types
//! A [`SealedSegment`] can only be built by [`SegmentWriter::seal`] (which applied the seals) or by
//! [`SealedSegment::from_inherited_fd`] (which verified them). Holding one is the proof that its bytes can
//! never change, which `source/ipc.rs` relies on when it maps the segment.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Mutex;

use rustix::fs::{MemfdFlags, SealFlags};
use rustix::io::FdFlags;

use crate::error::{Error, ErrorKind, Result};

/// The seals a segment must carry before anyone may map it: its bytes and its length are frozen.
const FROZEN: SealFlags = SealFlags::WRITE.union(SealFlags::SHRINK).union(SealFlags::GROW);

/// Longest memfd name Linux accepts is 249 bytes; the name only shows in `/proc/<pid>/fd` and `/proc/<pid>/maps`.
const MAX_NAME: usize = 200;

/// A memfd being filled. Implements [`Write`] (buffered); [`seal`](SegmentWriter::seal) turns it into a
/// [`SealedSegment`]. Dropping it unsealed frees the memory.
#[derive(Debug)]
pub struct SegmentWriter {
    out: BufWriter<File>,
}

impl SegmentWriter {
    /// Creates an empty anonymous memfd (`MFD_CLOEXEC | MFD_ALLOW_SEALING`). `name` is for people reading
    /// `/proc/<pid>/fd` (shown as `/memfd:tally:<name>`); it is shortened, and NUL bytes are replaced.
    pub fn create(name: &str) -> Result<SegmentWriter> {
        let mut label = format!("tally:{}", name.replace('\0', "_"));
        if label.len() > MAX_NAME {
            let cut = (0..=MAX_NAME).rev().find(|&i| label.is_char_boundary(i)).unwrap_or(0);
            label.truncate(cut);
        }
        let fd = rustix::fs::memfd_create(label.as_str(), MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)
            .map_err(|e| Error::io("cannot create the shared-memory segment (memfd_create)", e.into()))?;
        Ok(SegmentWriter { out: BufWriter::with_capacity(1 << 20, File::from(fd)) })
    }

    /// Flushes the buffered bytes and seals the memfd: from now on nobody (this process included) can write,
    /// truncate, grow or unseal it.
    pub fn seal(self) -> Result<SealedSegment> {
        let file =
            self.out.into_inner().map_err(|e| Error::io("cannot write the shared-memory segment", e.into_error()))?;
        rustix::fs::fcntl_add_seals(&file, FROZEN | SealFlags::SEAL)
            .map_err(|e| Error::io("cannot seal the shared-memory segment", e.into()))?;
        // Every dup shares this file offset: rewind, so a reader that uses read(2) (`wc -c <&N`) sees it all.
        (&file).seek(SeekFrom::Start(0)).map_err(|e| Error::io("cannot rewind the shared-memory segment", e))?;
        SealedSegment::new(file)
    }
}

impl Write for SegmentWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.out.write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// A memfd whose bytes can never change again (sealed `WRITE | SHRINK | GROW`). Cheap to share behind an
/// `Arc`; map it with [`IpcFile::from_segment`](crate::source::ipc::IpcFile::from_segment).
#[derive(Debug)]
pub struct SealedSegment {
    file: File,
    len: u64,
}

/// Serialises [`SealedSegment::from_inherited_fd`]: checking that a descriptor is unclaimed and claiming it
/// (setting `FD_CLOEXEC`) must be one step, or two threads could both take ownership of the same number.
static CLAIM: Mutex<()> = Mutex::new(());

impl SealedSegment {
    fn new(file: File) -> Result<SealedSegment> {
        let len = file.metadata().map_err(|e| Error::io("cannot stat the shared-memory segment", e))?.len();
        Ok(SealedSegment { file, len })
    }

    /// Size in bytes (fixed: the segment is sealed).
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The memfd as a file, to map it or read it. It is read-only in effect: writes fail with `EPERM`
    /// because of the seals. Its file offset is shared with every duplicate of the descriptor (in workers
    /// too), so read with a mapping or positioned reads (`read_at`), not `read`.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// A duplicate of the descriptor **without** `FD_CLOEXEC`, for one child process to inherit.
    ///
    /// Spawn the child while the returned descriptor is alive, pass its number on the command line
    /// (`fd.as_raw_fd()`), and drop it right after `spawn()` returns; the child calls
    /// [`from_inherited_fd`](Self::from_inherited_fd) with that number.
    ///
    /// Why not keep `FD_CLOEXEC` and move the descriptor to a fixed number in `pre_exec` with `dup2`: when
    /// the source already has the target number, `dup2(3, 3)` is a no-op that leaves `FD_CLOEXEC` set, so
    /// the descriptor silently vanishes at `exec` (and fixing it means more `unsafe` code between `fork` and
    /// `exec`). With a plain `dup` there is no remapping at all: the child gets the very same number, open.
    ///
    /// The cost: until it is dropped, the duplicate is also inherited by any other child spawned at the same
    /// moment by another thread. That child can only read the sealed bytes, and the memory is freed when it
    /// exits, so keep the window short (create, spawn, drop) rather than holding these descriptors.
    pub fn inheritable_fd(&self) -> Result<OwnedFd> {
        // POSIX `dup` never sets FD_CLOEXEC on the new descriptor.
        rustix::io::dup(&self.file)
            .map_err(|e| Error::io("cannot duplicate the shared-memory segment's descriptor", e.into()))
    }

    /// Takes ownership of a segment descriptor inherited from the parent (the number it passed on the
    /// command line), after checking that it is one: not a standard stream, open, not yet claimed (no
    /// `FD_CLOEXEC`: every descriptor std and rustix open has it), a memfd, and sealed
    /// `WRITE | SHRINK | GROW`. Sets `FD_CLOEXEC` on it, so it is not passed on to this process's children
    /// and cannot be claimed twice. Errors are [`ErrorKind::Protocol`]: the parent sent a bad number.
    ///
    /// Contract: `raw` is a descriptor this process inherited and nothing else in it owns. The checks
    /// enforce that for every descriptor std or rustix created (they carry `FD_CLOEXEC`) and for repeated
    /// claims; what they cannot see is a caller passing the number of a non-`FD_CLOEXEC` descriptor it still
    /// owns elsewhere, such as a live [`inheritable_fd`](Self::inheritable_fd) result in the same process.
    /// Only call it with numbers read from the command line, once, at worker start-up.
    pub fn from_inherited_fd(raw: RawFd) -> Result<SealedSegment> {
        let refuse = |why: String| Error::new(ErrorKind::Protocol, format!("shared-memory segment fd {raw}: {why}"));
        let owned = claim_inherited(raw, verify_sealed_memfd).map_err(refuse)?;
        SealedSegment::new(File::from(owned)).map_err(|e| refuse(e.message().to_string()))
    }
}

/// Takes ownership of a regular file's descriptor inherited from the parent (the input file it opened and
/// planned on), checking it like [`SealedSegment::from_inherited_fd`] does and that it is the file the parent
/// named: the same device and inode. The worker then maps the very file the parent mapped, even if the path
/// now names another file.
pub fn claim_inherited_file(raw: RawFd, device: u64, inode: u64) -> Result<File> {
    let refuse = |why: String| Error::new(ErrorKind::Protocol, format!("input file fd {raw}: {why}"));
    let owned = claim_inherited(raw, |fd| {
        let stat = rustix::fs::fstat(fd).map_err(|e| format!("cannot stat ({e})"))?;
        if rustix::fs::FileType::from_raw_mode(stat.st_mode) != rustix::fs::FileType::RegularFile {
            return Err("not a regular file".into());
        }
        if (stat.st_dev, stat.st_ino) != (device, inode) {
            return Err(format!(
                "is device {} inode {}, the parent planned on device {device} inode {inode}",
                stat.st_dev, stat.st_ino
            ));
        }
        Ok(())
    })
    .map_err(refuse)?;
    Ok(File::from(owned))
}

/// Device and inode of an open file: what [`claim_inherited_file`] checks.
pub fn file_identity(file: &File) -> Result<(u64, u64)> {
    let stat = rustix::fs::fstat(file).map_err(|e| Error::io("cannot stat the input", e.into()))?;
    Ok((stat.st_dev, stat.st_ino))
}

/// A duplicate of `file`'s descriptor without `FD_CLOEXEC`, for one child to inherit (see
/// [`SealedSegment::inheritable_fd`] for the protocol and its cost).
pub fn inheritable_file_fd(file: &File) -> Result<OwnedFd> {
    // POSIX `dup` never sets FD_CLOEXEC on the new descriptor.
    rustix::io::dup(file).map_err(|e| Error::io("cannot duplicate the input file's descriptor", e.into()))
}

/// The claim protocol shared by segments and input files: `raw` must not be a standard stream, must be
/// open, not yet claimed (no `FD_CLOEXEC`) and pass `verify`; it then gets `FD_CLOEXEC` and one owner.
/// The contract of [`SealedSegment::from_inherited_fd`] applies.
fn claim_inherited(raw: RawFd, verify: impl FnOnce(BorrowedFd<'_>) -> Result<(), String>) -> Result<OwnedFd, String> {
    if raw < 0 {
        return Err("not a file descriptor number".into());
    }
    if raw <= 2 {
        return Err("is a standard stream (stdin, stdout or stderr), not an inherited descriptor".into());
    }
    let _claim = CLAIM.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    // SAFETY: `borrow_raw` needs `raw` to stay open while borrowed. Under the contract above nothing else
    // owns it, so nothing closes it during these few calls (and concurrent claims wait on the lock).
    // The borrow is only passed to fcntl, fstat and readlink by number; if `raw` is not open they fail
    // with EBADF, an error, and no memory is ever accessed through it.
    let fd = unsafe { BorrowedFd::borrow_raw(raw) };
    let flags = rustix::io::fcntl_getfd(fd).map_err(|e| format!("not open ({e})"))?;
    if flags.contains(FdFlags::CLOEXEC) {
        return Err("has FD_CLOEXEC set: it was not inherited, or it is already claimed".into());
    }
    verify(fd)?;
    rustix::io::fcntl_setfd(fd, flags | FdFlags::CLOEXEC).map_err(|e| format!("cannot set FD_CLOEXEC: {e}"))?;
    // SAFETY: `OwnedFd::from_raw_fd` needs `raw` open and owned by nobody else. It is open (F_GETFD
    // succeeded). It had no FD_CLOEXEC, so std and rustix did not create it in this process (they always
    // set it): it was inherited across exec, and by the contract above nothing else here owns it. We set
    // FD_CLOEXEC under the claim lock, so any later call with the same number is refused before this
    // point: the returned OwnedFd is its only owner.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// `Ok` when `fd` is a regular memfd sealed at least `WRITE | SHRINK | GROW`; otherwise why not.
fn verify_sealed_memfd(fd: BorrowedFd<'_>) -> Result<(), String> {
    let stat = rustix::fs::fstat(fd).map_err(|e| format!("cannot stat ({e})"))?;
    if rustix::fs::FileType::from_raw_mode(stat.st_mode) != rustix::fs::FileType::RegularFile {
        return Err("not a regular file (expected a memfd)".into());
    }
    // Only memfd_create(MFD_ALLOW_SEALING) files can carry these seals: other files refuse F_GET_SEALS
    // (EINVAL), other shmem files report just F_SEAL_SEAL. /proc confirms when it is mounted.
    let seals = rustix::fs::fcntl_get_seals(fd).map_err(|e| format!("not a sealable memfd ({e})"))?;
    if !seals.contains(FROZEN) {
        return Err(format!("memfd is not sealed against writes and resizing (seals {seals:?})"));
    }
    let link = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()));
    match link {
        Ok(target) if !target.to_string_lossy().starts_with("/memfd:") => {
            Err(format!("not a memfd ({})", target.display()))
        }
        _ => Ok(()),
    }
}
