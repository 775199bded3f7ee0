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
//!  Parquet ──footer──► parquet/lazy.rs: row groups decoded by the workers, chunk by chunk
//!  CSV ──csv/: split at proven record boundaries, decoded on threads──► spill.rs: sealed memfd, or an
//!       unnamed temporary file when too big ──► IpcFile (pipes: decoded serially)
//!  .npy ──npy.rs──► 1-D / Fortran order: mapped in place; C order: transposed once (spill.rs)
//!  several files / globs ──dataset.rs──► one Store over the members' batches, in file order
//! ```
//!
//! Inputs that cannot be mapped as they are get decoded once into a sealed shared-memory segment (or a
//! temporary file) laid out as an uncompressed IPC file, so one reader serves everything and worker processes
//! never decode or decompress, except Parquet, whose decoding is the expensive part and so is done by
//! the workers in parallel (`input.rs` picks; `tally convert` and standard input decode Parquet once).
//! `sniff.rs` names a format by its magic bytes; text without any is CSV. `declared.rs` caps what compressed
//! IPC batches declare they decompress to (files at open; streams message by message through
//! `stream_guard.rs`, before arrow-rs allocates it). `fields.rs` makes struct fields columns `a.b` of every
//! input, listed after its own columns.
//!
//! `-` (standard input), pipes and FIFOs are read once into a segment as well (`pipe.rs`: never blocking in
//! `open` and honouring Ctrl-C while waiting); directories and devices are refused before anything is
//! opened, so nothing can hang on `/dev/tty` or a FIFO without a writer.

pub mod columns;
pub mod convert;
pub mod csv;
pub mod dataset;
mod declared;
pub mod fields;
mod input;
pub mod ipc;
pub mod npy;
#[cfg(feature = "parquet")]
pub mod parquet;
mod pipe;
mod sniff;
mod spill;
mod stream_guard;

use std::fs::File;
use std::io::{Cursor, Read};
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::exec::Cancel;

pub use dataset::{expand, open_dataset};
pub use input::{Input, InputOptions, open_for_run};
use sniff::sniff_bytes;
pub use sniff::{Format, sniff};

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
    /// `"parquet"`: a Parquet file, decoded row group by row group into a segment (or a temporary file).
    Parquet,
    /// `"csv"`: CSV text, decoded once into a segment (or a temporary file).
    Csv,
    /// `"npy"`: a NumPy array, mapped as it is (1-D, Fortran order) or transposed once into a segment.
    Npy,
}

impl InputFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            InputFormat::ArrowFile => "arrow-ipc-file",
            InputFormat::ArrowFileCompressed => "arrow-ipc-file (compressed)",
            InputFormat::ArrowStream => "arrow-ipc-stream",
            InputFormat::Parquet => "parquet",
            InputFormat::Csv => "csv",
            InputFormat::Npy => "npy",
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

/// What kind of thing `path` names, refusing what tally cannot read (checked with `stat`, which never
/// blocks, before anything is opened).
fn input_kind(path: &Path) -> Result<std::fs::FileType> {
    let meta = std::fs::metadata(path).map_err(|e| open_error(&e, path))?;
    let kind = meta.file_type();
    if kind.is_dir() {
        return Err(Error::input("is a directory, not a file").with_file(path));
    }
    if kind.is_block_device() || kind.is_char_device() {
        return Err(Error::input(
            "is a device, not a file or pipe (to read standard input, pipe an Arrow IPC stream into `-`)",
        )
        .with_file(path));
    }
    Ok(kind)
}

/// Opens a regular input file, turning the OS error into one that names the file. Pipes and FIFOs are
/// refused here (they would block in `open`): [`open_with`] reads them through `pipe.rs`.
pub(crate) fn open_input(path: &Path) -> Result<File> {
    let kind = input_kind(path)?;
    if kind.is_fifo() || kind.is_socket() {
        return Err(
            Error::input("is a pipe; tally reads pipes as Arrow IPC streams through `describe`").with_file(path)
        );
    }
    File::open(path).map_err(|e| open_error(&e, path))
}

/// The OS error of opening or `stat`ing an input, in words, naming the file.
fn open_error(e: &std::io::Error, path: &Path) -> Error {
    let what = match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => format!("cannot open: {e}"),
    };
    Error::input(what).with_file(path)
}

/// A `/proc/meminfo` line (`key` with its colon, e.g. `"MemTotal:"`) in bytes, if it can be read.
pub(crate) fn meminfo(key: &str) -> Option<u64> {
    let m = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = m.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kib| kib * 1024)
}

/// Opens any supported input as a Source: an Arrow IPC file is mapped as it is, unless its bodies are
/// compressed; those and Arrow IPC streams are decoded once into a sealed segment (see the module docs).
/// [`ipc::IpcFile::format`] says which. `-` is standard input.
pub fn open(path: &Path) -> Result<ipc::IpcFile> {
    open_with(path, &Cancel::default())
}

/// [`open`], giving up with `Cancelled` when `cancel` fires while waiting for a pipe.
pub fn open_with(path: &Path, cancel: &Cancel) -> Result<ipc::IpcFile> {
    open_with_options(path, &InputOptions::default(), cancel)
}

/// [`open_with`], reading CSV with `options`.
pub fn open_with_options(path: &Path, options: &InputOptions, cancel: &Cancel) -> Result<ipc::IpcFile> {
    if path.as_os_str() == "-" {
        let stdin = rustix::io::dup(std::io::stdin())
            .map_err(|e| Error::io("cannot read standard input", e.into()).with_file(path))?;
        let file = File::from(stdin);
        let kind = file.metadata().map_err(|e| Error::io(format!("cannot read standard input: {e}"), e))?.file_type();
        if kind.is_char_device() || kind.is_block_device() {
            return Err(Error::input(
                "standard input is a terminal or device; pipe an Arrow IPC stream or file into tally \
                 (e.g. `cat x.arrows | tally describe -`)",
            )
            .with_file(path));
        }
        if kind.is_file() {
            // `< x.arrow`: a real file, mapped like any other.
            return open_file(&file, path, options);
        }
        return from_pipe(file, path, options, cancel);
    }
    let kind = input_kind(path)?;
    if kind.is_fifo() || kind.is_socket() {
        return from_pipe(pipe::open_fifo(path)?, path, options, cancel);
    }
    match sniff(path)? {
        Format::ArrowFile => decompressed(ipc::IpcFile::open(path)?, path),
        Format::ArrowStream => {
            let segment = convert::stream_to_segment(path)?;
            let decoded = ipc::IpcFile::from_segment(Arc::new(segment), path)?;
            Ok(decoded.with_format(InputFormat::ArrowStream))
        }
        #[cfg(feature = "parquet")]
        Format::Parquet => parquet::open(path),
        Format::Csv => {
            let file = open_input(path)?;
            if let Some(mapped) = csv::CsvFile::open(&file, path, &options.csv)? {
                return mapped.into_ipc(None);
            }
            let size = file.metadata().ok().map(|m| m.len());
            csv::decode(file, size, &options.csv, path)
        }
        Format::Npy => npy::NpyFile::from_file(&open_input(path)?, path, options.names.as_deref())?.to_ipc(),
        #[cfg(not(feature = "parquet"))]
        Format::Parquet => Err(unsupported(Format::Parquet, path)),
    }
}

/// A regular file given as an open descriptor (standard input redirected from a file).
fn open_file(file: &File, path: &Path, options: &InputOptions) -> Result<ipc::IpcFile> {
    let mut head = [0u8; 8];
    let filled = rustix::io::pread(file, &mut head, 0)
        .map_err(|e| Error::io("cannot read standard input", e.into()).with_file(path))?;
    match sniff_bytes(&head[..filled], path)? {
        Format::ArrowFile => decompressed(ipc::IpcFile::from_file(file, path)?, path),
        Format::ArrowStream => {
            let reader = std::io::BufReader::new(
                rustix::io::dup(file)
                    .map(File::from)
                    .map_err(|e| Error::io("cannot read standard input", e.into()).with_file(path))?,
            );
            let segment = convert::read_stream_to_segment(reader, file.metadata().ok().map(|m| m.len()), path)?;
            Ok(ipc::IpcFile::from_segment(Arc::new(segment), path)?.with_format(InputFormat::ArrowStream))
        }
        #[cfg(feature = "parquet")]
        Format::Parquet => parquet::open_file(file, path),
        Format::Npy => npy::NpyFile::from_file(file, path, options.names.as_deref())?.to_ipc(),
        Format::Csv => {
            if let Some(mapped) = csv::CsvFile::open(file, path, &options.csv)? {
                return mapped.into_ipc(None);
            }
            let input = rustix::io::dup(file)
                .map(File::from)
                .map_err(|e| Error::io("cannot read standard input", e.into()).with_file(path))?;
            // A dup shares the file offset: read from the start, whatever the shell left it at.
            let input = positioned(input, path)?;
            csv::decode(input, file.metadata().ok().map(|m| m.len()), &options.csv, path)
        }
        #[cfg(not(feature = "parquet"))]
        Format::Parquet => Err(unsupported(Format::Parquet, path)),
    }
}

/// `file` rewound to its start.
fn positioned(mut file: File, path: &Path) -> Result<File> {
    use std::io::Seek;
    file.seek(std::io::SeekFrom::Start(0)).map_err(|e| Error::io("cannot rewind standard input", e).with_file(path))?;
    Ok(file)
}

/// Reads a pipe to its end into a segment: a stream batch by batch, a file as it is.
fn from_pipe(file: File, path: &Path, options: &InputOptions, cancel: &Cancel) -> Result<ipc::IpcFile> {
    let result = read_pipe(pipe::Waiting { file, cancel }, path, options);
    // A wait that ended because of Ctrl-C is a cancellation, whatever the reader made of it.
    cancel.check()?;
    result
}

fn read_pipe(mut input: pipe::Waiting<'_>, path: &Path, options: &InputOptions) -> Result<ipc::IpcFile> {
    let mut head = [0u8; 8];
    let filled = pipe::read_head(&mut input, &mut head)
        .map_err(|e| Error::input(format!("cannot read: {e}")).with_file(path))?;
    let head = &head[..filled];
    match sniff_bytes(head, path)? {
        Format::ArrowStream => {
            let segment = convert::read_stream_to_segment(Cursor::new(head.to_vec()).chain(input), None, path)?;
            Ok(ipc::IpcFile::from_segment(Arc::new(segment), path)?.with_format(InputFormat::ArrowStream))
        }
        Format::ArrowFile => {
            // The footer is at the end: keep the bytes as they are, then read them like a mapped file.
            let name = path.to_string_lossy();
            let mut segment = crate::store::segment::SegmentWriter::create(&name).map_err(|e| e.with_file(path))?;
            let copied = std::io::Write::write_all(&mut segment, head)
                .and_then(|()| std::io::copy(&mut input, &mut segment).map(|_| ()));
            copied.map_err(|e| Error::io(format!("cannot read: {e}"), e).with_file(path))?;
            let segment = segment.seal().map_err(|e| e.with_file(path))?;
            decompressed(ipc::IpcFile::from_segment(Arc::new(segment), path)?, path)
        }
        Format::Csv => csv::decode(Cursor::new(head.to_vec()).chain(input), None, &options.csv, path),
        other => Err(unsupported(other, path)),
    }
}

/// `file` as it is, or decompressed into a segment when its bodies are LZ4/ZSTD-compressed.
fn decompressed(file: ipc::IpcFile, path: &Path) -> Result<ipc::IpcFile> {
    if !file.is_compressed() {
        return Ok(file);
    }
    let segment = convert::file_to_segment(&file)?;
    drop(file);
    let decoded = ipc::IpcFile::from_segment(Arc::new(segment), path)?;
    Ok(decoded.with_format(InputFormat::ArrowFileCompressed))
}

fn unsupported(format: Format, path: &Path) -> Error {
    if cfg!(feature = "parquet") && format == Format::Parquet {
        // Reached only for pipes and standard input: regular files are read by `parquet::open`.
        return Error::input(
            "Parquet cannot be read from a pipe or standard input (its footer is at the end and row groups are \
             read by offset); pass the file's path",
        )
        .with_file(path);
    }
    let how = match format {
        Format::Npy => "load it with numpy.load and write it with pyarrow (pyarrow.ipc.new_file)",
        #[cfg(not(feature = "parquet"))]
        Format::Parquet => "this tally was built without the `parquet` feature",
        _ => "convert it to an Arrow IPC file (e.g. pyarrow.feather.write_feather(pyarrow.parquet.read_table(...)))",
    };
    Error::input(format!("{} input is not supported yet; {how}", format.name())).with_file(path)
}
