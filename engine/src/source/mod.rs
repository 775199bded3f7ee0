//! Sources: open an input, check what it is by its magic bytes, describe its columns, and turn it into a
//! [`Store`](crate::store::Store) the kernels can read.
//!
//! Owns format detection and validation of everything a kernel later assumes (types, lengths, alignment,
//! null buffers). Does not own statistics or scheduling.
//!
//! ```text
//!  Arrow IPC file, uncompressed ──────────────────────────────mmap──► IpcFile (zero copy)
//!  Arrow IPC stream (incl. pre-1.0) ─┐
//!  Arrow IPC file, LZ4/ZSTD bodies ──┴─convert.rs─► sealed memfd ─mmap──► IpcFile (zero copy)
//! ```
//!
//! Inputs that cannot be mapped as they are get decoded once into a sealed shared-memory segment laid out
//! as an uncompressed IPC file, so one reader serves everything and worker processes never decode or
//! decompress. Parquet and `.npy` are recognised so the error says what the file is rather than "not Arrow".

pub mod convert;
pub mod ipc;

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

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

/// What the input was, as reported in `InputInfo.format` (JSON `input.format`). The strings are part of the
/// documented JSON schema: short, lowercase, stable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputFormat {
    /// `"arrow-ipc-file"`: an uncompressed Arrow IPC file, mapped as it is.
    ArrowFile,
    /// `"arrow-ipc-file (compressed)"`: an Arrow IPC file with LZ4/ZSTD bodies, decompressed into a segment.
    ArrowFileCompressed,
    /// `"arrow-ipc-stream"`: an Arrow IPC stream (any framing), decoded into a segment.
    ArrowStream,
}

impl InputFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            InputFormat::ArrowFile => "arrow-ipc-file",
            InputFormat::ArrowFileCompressed => "arrow-ipc-file (compressed)",
            InputFormat::ArrowStream => "arrow-ipc-stream",
        }
    }
}

/// The one refusal of big-endian input, for files and streams alike: tally does not byte-swap, and a wrong
/// number is worse than an error.
pub(crate) const BIG_ENDIAN: &str = "the file was written on a big-endian machine; tally reads little-endian \
     Arrow files only (rewrite it with pyarrow, which byte-swaps)";

/// Refuses metadata from a future format version: its messages may mean something this reader does not know.
pub(crate) fn check_metadata_version(version: arrow_ipc::MetadataVersion) -> Result<(), String> {
    if version > arrow_ipc::MetadataVersion::V5 {
        return Err(format!(
            "unsupported metadata version V{} (written by a newer Arrow format; tally reads up to V5)",
            i32::from(version.0) + 1
        ));
    }
    Ok(())
}

/// Checks what arrow-rs accepts but the Arrow format forbids, so such a schema is refused with a reason
/// instead of being described: for now, decimal precisions outside `1..=max` of their width.
pub(crate) fn check_schema(schema: &arrow_schema::Schema) -> Result<()> {
    for field in schema.fields() {
        if let Some(why) = invalid_type(field.data_type()) {
            return Err(Error::input(format!("invalid schema: {why}")).with_column(field.name()));
        }
    }
    Ok(())
}

fn invalid_type(data_type: &arrow_schema::DataType) -> Option<String> {
    use arrow_schema::DataType as T;
    let decimal = |bits: u32, precision: u8, max: u8| {
        (!(1..=max).contains(&precision))
            .then(|| format!("decimal{bits} precision {precision} is outside the allowed 1..={max}"))
    };
    match data_type {
        T::Decimal32(p, _) => decimal(32, *p, arrow_schema::DECIMAL32_MAX_PRECISION),
        T::Decimal64(p, _) => decimal(64, *p, arrow_schema::DECIMAL64_MAX_PRECISION),
        T::Decimal128(p, _) => decimal(128, *p, arrow_schema::DECIMAL128_MAX_PRECISION),
        T::Decimal256(p, _) => decimal(256, *p, arrow_schema::DECIMAL256_MAX_PRECISION),
        T::List(f) | T::LargeList(f) | T::ListView(f) | T::LargeListView(f) | T::FixedSizeList(f, _) => {
            invalid_type(f.data_type())
        }
        T::Map(f, _) | T::RunEndEncoded(_, f) => invalid_type(f.data_type()),
        T::Struct(fields) => fields.iter().find_map(|f| invalid_type(f.data_type())),
        T::Union(fields, _) => fields.iter().find_map(|(_, f)| invalid_type(f.data_type())),
        T::Dictionary(_, values) => invalid_type(values),
        _ => None,
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

/// Opens any supported input as a Source: an Arrow IPC file is mapped as it is, unless its bodies are
/// compressed; those and Arrow IPC streams are decoded once into a sealed segment (see the module docs).
/// [`ipc::IpcFile::format`] says which.
pub fn open(path: &Path) -> Result<ipc::IpcFile> {
    match sniff(path)? {
        Format::ArrowFile => {
            let file = ipc::IpcFile::open(path)?;
            if !file.is_compressed() {
                return Ok(file);
            }
            let segment = convert::file_to_segment(&file)?;
            drop(file);
            let decoded = ipc::IpcFile::from_segment(Arc::new(segment), path)?;
            Ok(decoded.with_format(InputFormat::ArrowFileCompressed))
        }
        Format::ArrowStream => {
            let segment = convert::stream_to_segment(path)?;
            let decoded = ipc::IpcFile::from_segment(Arc::new(segment), path)?;
            Ok(decoded.with_format(InputFormat::ArrowStream))
        }
        other => Err(Error::input(format!(
            "{} input is not supported yet; convert it to an Arrow IPC file (e.g. pyarrow.feather.write_feather)",
            other.name()
        ))
        .with_file(path)),
    }
}
