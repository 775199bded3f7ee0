//! Sources: open an input, check what it is by its magic bytes, describe its columns, and turn it into a
//! [`Store`](crate::store::Store) the kernels can read.
//!
//! Owns format detection and validation of everything a kernel later assumes (types, lengths, alignment,
//! null buffers). Does not own statistics or scheduling. Only the Arrow IPC file format is read so far;
//! the other formats are recognised so the error says what the file is rather than "not Arrow".

pub mod ipc;

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// What an input file is, judged by its first bytes (never by its extension).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Arrow IPC file format (`ARROW1` magic), a.k.a. Feather v2.
    ArrowFile,
    /// Arrow IPC stream format: continuation marker `0xFFFFFFFF` first, or the pre-1.0 framing that starts
    /// directly with the metadata length (see `looks_like_legacy_stream`).
    ArrowStream,
    Parquet,
    Npy,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::ArrowFile => "Arrow IPC file",
            Format::ArrowStream => "Arrow IPC stream",
            Format::Parquet => "Parquet",
            Format::Npy => "NumPy .npy",
        }
    }
}

/// Reads the first bytes of `path` and names its format.
pub fn sniff(path: &Path) -> Result<Format> {
    let mut file = open_input(path)?;
    let mut head = [0u8; 8];
    let mut filled = 0;
    while filled < head.len() {
        match file.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::input(format!("cannot read: {e}")).with_file(path)),
        }
    }
    let head = &head[..filled];
    if head.starts_with(b"ARROW1") {
        Ok(Format::ArrowFile)
    } else if head.starts_with(&[0xFF, 0xFF, 0xFF, 0xFF]) || looks_like_legacy_stream(head) {
        Ok(Format::ArrowStream)
    } else if head.starts_with(b"PAR1") {
        Ok(Format::Parquet)
    } else if head.starts_with(b"\x93NUMPY") {
        Ok(Format::Npy)
    } else if filled == 0 {
        Err(Error::input("empty file: not an Arrow IPC file").with_file(path))
    } else {
        Err(Error::input(format!(
            "not an Arrow IPC file (first bytes {}; an Arrow file starts with \"ARROW1\")",
            hex(head)
        ))
        .with_file(path)
        .with_byte_offset(0))
    }
}

/// Opens an input file, turning the OS error into one that names the file.
pub(crate) fn open_input(path: &Path) -> Result<File> {
    let file = File::open(path).map_err(|e| {
        let what = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => format!("cannot open: {e}"),
        };
        Error::input(what).with_file(path)
    })?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(Error::input("is a directory, not a file").with_file(path));
    }
    Ok(file)
}

/// Pre-1.0 Arrow streams (e.g. arrow-testing's `0.14.1/*.stream`) have no continuation marker: they start with
/// the i32 length of the first flatbuffer message, padded so that length + 4 is a multiple of 8, then the
/// flatbuffer's root offset (small, 4-aligned, inside the message). Recognised only to name the format in
/// the error; lengths below 2^24 keep text out (a text file's fourth byte is not zero).
fn looks_like_legacy_stream(head: &[u8]) -> bool {
    let (Some(len), Some(root)) = (head.get(0..4), head.get(4..8)) else { return false };
    let len = u32::from_le_bytes(len.try_into().expect("4 bytes"));
    let root = u32::from_le_bytes(root.try_into().expect("4 bytes"));
    (8..1 << 24).contains(&len) && (len + 4) % 8 == 0 && root % 4 == 0 && (4..len).contains(&root)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

/// Opens any supported input as a Source: for now, the Arrow IPC file format.
pub fn open(path: &Path) -> Result<ipc::IpcFile> {
    match sniff(path)? {
        Format::ArrowFile => ipc::IpcFile::open(path),
        other => Err(Error::input(format!(
            "{} input is not supported yet; convert it to an Arrow IPC file (e.g. pyarrow.feather.write_feather)",
            other.name()
        ))
        .with_file(path)),
    }
}
