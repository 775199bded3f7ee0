//! Output files that can never cost data (issue 6, items 1-3): every file tally writes (`describe -o`,
//! `gen`, later `convert` and saved states) goes through [`OutputFile`].
//!
//! * An output that *is* one of the inputs (same device and inode, so also through symlinks and hard
//!   links) is refused before anything is opened for writing.
//! * Bytes go to a temporary file in the target's own directory (same filesystem, so the final `rename` is
//!   atomic) which replaces the target only in [`OutputFile::commit`]. An error, a Ctrl-C (the run returns
//!   `Cancelled` and the value is dropped) or a crash before that leaves the old file untouched; dropping
//!   an uncommitted `OutputFile` removes the temporary file.
//! * An existing target that is not a regular file (`/dev/null`, a FIFO, a terminal) is written directly:
//!   there is nothing to replace, and renaming over a device would be wrong.
//! * [`check_free_space`] refuses an output larger than the free space of the target filesystem
//!   (`statvfs`), naming both numbers, so `gen --rows 18446744073709551615` cannot fill a disk.
//!
//! Does not own what is written: callers get a `Write` and format their own bytes.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Environment variable that replaces the measured free space (bytes) of the output filesystem: lets tests
/// exercise the disk-full refusal without filling a disk.
pub const FREE_BYTES_ENV: &str = "TALLY_FREE_BYTES";

/// A file being written; it replaces its target only when committed.
#[derive(Debug)]
pub struct OutputFile {
    target: PathBuf,
    sink: Sink,
}

#[derive(Debug)]
enum Sink {
    Atomic(BufWriter<tempfile::NamedTempFile>),
    Direct(BufWriter<File>),
}

impl OutputFile {
    /// Prepares to write `path`, refusing it when it is the same file as any of `inputs`.
    pub fn create(path: &Path, inputs: &[&Path]) -> Result<OutputFile> {
        refuse_inputs(path, inputs)?;
        // Write through a symlink to where it points, so the link survives and the rename stays in the
        // target's directory.
        let target = match std::fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
            _ => path.to_path_buf(),
        };
        let io = |what: &str, e: std::io::Error| Error::io(format!("{what}: {e}"), e).with_file(path);
        if let Ok(m) = std::fs::metadata(&target) {
            if m.is_dir() {
                return Err(Error::input("is a directory; give a file name for the output").with_file(path));
            }
            if !m.is_file() {
                let file = std::fs::OpenOptions::new().write(true).open(&target).map_err(|e| io("cannot open", e))?;
                return Ok(OutputFile { target, sink: Sink::Direct(BufWriter::with_capacity(1 << 20, file)) });
            }
        }
        let dir = parent_dir(&target);
        if !dir.is_dir() {
            return Err(
                Error::input(format!("cannot create the output: {} is not a directory", dir.display())).with_file(path)
            );
        }
        // 0o666 before the umask, like any file a shell creates (tempfile's default, 0o600, would surprise).
        let tmp = tempfile::Builder::new()
            .prefix(".tally-")
            .suffix(".tmp")
            .permissions(std::fs::Permissions::from_mode(0o666))
            .tempfile_in(dir)
            .map_err(|e| {
                // tempfile's message names the random temporary path; the kind is what matters.
                let kind = std::io::Error::from(e.kind());
                io("cannot create a temporary file beside the output", kind)
            })?;
        Ok(OutputFile { target, sink: Sink::Atomic(BufWriter::with_capacity(1 << 20, tmp)) })
    }

    /// Where the bytes go.
    pub fn writer(&mut self) -> &mut dyn Write {
        match &mut self.sink {
            Sink::Atomic(w) => w,
            Sink::Direct(w) => w,
        }
    }

    /// The file that will be replaced.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes and moves the finished file into place.
    pub fn commit(self) -> Result<()> {
        let target = self.target;
        let io = |what: &str, e: std::io::Error| Error::io(format!("{what}: {e}"), e).with_file(&target);
        match self.sink {
            Sink::Direct(mut w) => w.flush().map_err(|e| io("cannot write", e)),
            Sink::Atomic(w) => {
                let tmp = w.into_inner().map_err(|e| io("cannot write", e.into_error()))?;
                tmp.persist(&target).map_err(|e| io("cannot move the finished file into place", e.error))?;
                Ok(())
            }
        }
    }
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Refuses `output` when it is the same file (device and inode) as one of `inputs`.
pub fn refuse_inputs(output: &Path, inputs: &[&Path]) -> Result<()> {
    let Ok(out) = std::fs::metadata(output) else { return Ok(()) };
    if !out.is_file() {
        return Ok(());
    }
    for input in inputs {
        if let Ok(m) = std::fs::metadata(input)
            && (m.dev(), m.ino()) == (out.dev(), out.ino())
        {
            return Err(Error::input(format!(
                "the output is the input file {} (same file); writing it would destroy the input, \
                 choose another output path",
                input.display()
            ))
            .with_file(output));
        }
    }
    Ok(())
}

/// Refuses to write `needed` bytes to `path` when its filesystem has less free space (for unprivileged
/// users, `f_bavail`), or [`FREE_BYTES_ENV`] when set.
pub fn check_free_space(path: &Path, needed: u128) -> Result<()> {
    let dir = parent_dir(path);
    let free = match std::env::var(FREE_BYTES_ENV).ok().and_then(|v| v.trim().parse::<u128>().ok()) {
        Some(free) => free,
        None => match rustix::fs::statvfs(dir) {
            Ok(s) => u128::from(s.f_bavail) * u128::from(s.f_frsize),
            // Unknown free space (an exotic filesystem): let the write itself fail if it must.
            Err(_) => return Ok(()),
        },
    };
    if needed > free {
        return Err(Error::input(format!(
            "the output needs {} but the filesystem of {} has only {} free; nothing was written",
            human_bytes(needed),
            dir.display(),
            human_bytes(free)
        ))
        .with_file(path));
    }
    Ok(())
}

/// `123456789 bytes (123.5 MB)`: the exact number and a readable one.
pub fn human_bytes(n: u128) -> String {
    let units = ["kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let mut value = n as f64;
    let mut unit = "";
    for u in units {
        if value < 1000.0 {
            break;
        }
        value /= 1000.0;
        unit = u;
    }
    if unit.is_empty() { format!("{n} bytes") } else { format!("{n} bytes ({value:.1} {unit})") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_named_exactly_and_readably() {
        assert_eq!(human_bytes(999), "999 bytes");
        assert_eq!(human_bytes(520_107_258), "520107258 bytes (520.1 MB)");
        assert_eq!(human_bytes(1_500_000_000_000), "1500000000000 bytes (1.5 TB)");
    }

    #[test]
    fn uncommitted_output_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.txt");
        std::fs::write(&path, b"old").unwrap();
        let mut out = OutputFile::create(&path, &[]).unwrap();
        out.writer().write_all(b"new").unwrap();
        drop(out);
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let mut out = OutputFile::create(&path, &[]).unwrap();
        out.writer().write_all(b"new").unwrap();
        out.commit().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn the_input_is_refused_through_links() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.arrow");
        std::fs::write(&input, b"data").unwrap();
        let link = dir.path().join("link.arrow");
        std::os::unix::fs::symlink(&input, &link).unwrap();
        let hard = dir.path().join("hard.arrow");
        std::fs::hard_link(&input, &hard).unwrap();
        for out in [&input, &link, &hard] {
            let err = OutputFile::create(out, &[&input]).unwrap_err();
            assert!(err.to_string().contains("is the input file"), "{err}");
        }
        assert!(OutputFile::create(&dir.path().join("other"), &[&input]).is_ok());
    }
}
