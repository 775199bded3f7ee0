//! Format detection: what an input is, judged by its first bytes (never by its extension), except that
//! text, which has no magic bytes, is CSV unless its name promises a binary format.

use std::path::Path;

use super::{open_input, pipe};
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
    /// Text that is not one of the above (no magic bytes: judged by the absence of binary bytes).
    Csv,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::ArrowFile => "Arrow IPC file",
            Format::ArrowStream => "Arrow IPC stream",
            Format::Parquet => "Parquet",
            Format::Npy => "NumPy .npy",
            Format::Csv => "CSV",
        }
    }
}

/// Reads the first bytes of `path` and names its format.
pub fn sniff(path: &Path) -> Result<Format> {
    let mut file = open_input(path)?;
    let mut head = [0u8; 8];
    let filled =
        pipe::read_head(&mut file, &mut head).map_err(|e| Error::input(format!("cannot read: {e}")).with_file(path))?;
    sniff_bytes(&head[..filled], path)
}

/// Names the format whose first bytes are `head` (up to 8).
pub(super) fn sniff_bytes(head: &[u8], path: &Path) -> Result<Format> {
    if head.starts_with(b"ARROW1") {
        Ok(Format::ArrowFile)
    } else if head.starts_with(&[0xFF, 0xFF, 0xFF, 0xFF]) || looks_like_legacy_stream(head) {
        Ok(Format::ArrowStream)
    } else if head.starts_with(b"PAR1") {
        Ok(Format::Parquet)
    } else if head.starts_with(b"PARE") {
        Err(Error::input(
            "encrypted Parquet file (PARE magic): tally cannot decrypt Parquet; decrypt it with the tool that \
             holds the key and write plain Parquet or Arrow",
        )
        .with_file(path))
    } else if head.starts_with(b"\x93NUMPY") {
        Ok(Format::Npy)
    } else if head.is_empty() {
        Err(Error::input("empty input: not an Arrow IPC file or stream").with_file(path))
    } else if looks_like_text(head) && !binary_extension(path) {
        Ok(Format::Csv)
    } else {
        Err(Error::input(format!(
            "not an Arrow IPC file or stream (first bytes {}; an Arrow file starts with \"ARROW1\", a stream with \
             ff ff ff ff, Parquet with \"PAR1\", .npy with \"\\x93NUMPY\"; text is read as CSV unless the name \
             ends in .arrow, .arrows, .feather, .ipc, .parquet or .npy)",
            hex(head)
        ))
        .with_file(path)
        .with_byte_offset(0))
    }
}

/// Text has no magic bytes: no NUL or other control bytes but tab, CR, LF, form feed, and valid UTF-8
/// up to a possibly cut last character.
fn looks_like_text(head: &[u8]) -> bool {
    let control = head.iter().any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C));
    let utf8 = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    };
    !control && utf8
}

/// Names that promise a binary format: text in such a file is a broken file, not CSV.
fn binary_extension(path: &Path) -> bool {
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
    matches!(ext.as_deref(), Some("arrow" | "arrows" | "feather" | "ipc" | "parquet" | "pq" | "npy"))
}

/// Pre-1.0 Arrow streams (e.g. arrow-testing's `0.14.1/*.stream`) have no continuation marker: they start with
/// the i32 length of the first flatbuffer message, padded so that length + 4 is a multiple of 8, then the
/// flatbuffer's root offset (small, 4-aligned, inside the message). arrow-rs's stream reader reads both
/// framings; lengths below 2^24 keep text out (a text file's fourth byte is not zero).
fn looks_like_legacy_stream(head: &[u8]) -> bool {
    let (Some(len), Some(root)) = (head.get(0..4), head.get(4..8)) else { return false };
    let len = u32::from_le_bytes(len.try_into().expect("4 bytes"));
    let root = u32::from_le_bytes(root.try_into().expect("4 bytes"));
    (8..1 << 24).contains(&len) && (len + 4) % 8 == 0 && root % 4 == 0 && (4..len).contains(&root)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}
