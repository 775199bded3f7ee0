//! Arrow IPC file format, memory-mapped and decoded zero-copy.
//!
//! ```text
//!  file ──mmap──► Buffer (whole file, shared page cache) ──FileDecoder──► RecordBatch
//!                                                                          arrays point into the map
//! ```
//!
//! The file is mapped once; arrow-rs's [`FileDecoder`] turns each footer block into a [`RecordBatch`] whose
//! buffers are slices of the mapping, so nothing is copied and every process that maps the same file
//! shares the same physical pages. Validation stays on (these are user files), alignment is required so
//! zero copy is guaranteed; a batch written with misaligned buffers (old or foreign writers) is decoded
//! again with alignment relaxed, which copies that batch, and the Store says so once.
//!
//! Everything the footer claims is checked against the file size before it is sliced (arrow-rs slicing
//! panics out of bounds), and arrow-rs is called under `catch_unwind`, so a malformed file is an error
//! naming the byte offset, never a crash.
//!
//! The same reader serves a sealed shared-memory segment ([`IpcFile::from_segment`]): inputs that cannot be
//! mapped as they are (streams, files with LZ4/ZSTD-compressed bodies, see [`IpcFile::is_compressed`]) are
//! first decoded into one by `source/convert.rs`, laid out as an uncompressed IPC file.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_buffer::Buffer;
use arrow_ipc::reader::FileDecoder;
use arrow_ipc::{Block, MetadataVersion};
use arrow_schema::{ArrowError, SchemaRef};
use memmap2::Mmap;

use super::InputFormat;
use super::declared::{check_declared, physical_memory};
use crate::error::{Error, Result};
use crate::store::segment::SealedSegment;
use crate::store::{Origin, Store};

/// Bytes before the first message: magic `ARROW1` and two bytes of padding.
const HEADER_LEN: usize = 8;
/// Bytes after the footer: its i32 length and the magic `ARROW1`.
const TRAILER_LEN: usize = 10;

/// An opened Arrow IPC file: the mapping, the schema and the footer's block list.
#[derive(Debug)]
pub struct IpcFile {
    path: PathBuf,
    data: Buffer,
    schema: SchemaRef,
    version: MetadataVersion,
    dictionaries: Vec<Block>,
    batches: Vec<Block>,
    batch_rows: Vec<u64>,
    /// Some record or dictionary batch has a compressed body: decoding it would copy and decompress.
    compressed: bool,
    origin: Origin,
    format: InputFormat,
}

impl IpcFile {
    /// Maps the file at `path` and reads its footer and batch sizes.
    pub fn open(path: &Path) -> Result<Self> {
        let file = super::open_input(path)?;
        Self::from_file(&file, path)
    }

    /// Maps a sealed segment that holds an Arrow IPC file (written by `source/convert.rs`, or inherited by a
    /// worker); `label` names the original input in errors. The segment is kept alive by [`Self::origin`],
    /// so its descriptor can be handed on to worker processes.
    pub fn from_segment(segment: Arc<SealedSegment>, label: &Path) -> Result<Self> {
        let data = map(segment.file(), label)?;
        Self::from_buffer(data, label, Origin::Segment(segment))
    }

    /// Maps an already open file on disk that holds an Arrow IPC file; `label` is its path, used in errors
    /// and as its [`Origin::File`].
    pub fn from_file(file: &std::fs::File, label: &Path) -> Result<Self> {
        let data = map(file, label)?;
        let kept = file
            .try_clone()
            .map_err(|e| Error::input(format!("cannot duplicate the descriptor: {e}")).with_file(label))?;
        Self::from_buffer(data, label, Origin::OpenFile { path: label.to_path_buf(), file: Arc::new(kept) })
    }

    fn from_buffer(data: Buffer, label: &Path, origin: Origin) -> Result<Self> {
        let bytes = data.as_slice();
        let len = bytes.len();
        let err = |msg: String, offset: usize| Error::input(msg).with_file(label).with_byte_offset(offset as u64);
        if &bytes[..6] != b"ARROW1" {
            return Err(err("not an Arrow IPC file (no ARROW1 magic at the start)".into(), 0));
        }
        if &bytes[len - 6..] != b"ARROW1" {
            return Err(err(
                "truncated or corrupt Arrow IPC file: no ARROW1 magic at the end (was the write interrupted?)".into(),
                len - 6,
            ));
        }
        let footer_len = i32::from_le_bytes(bytes[len - TRAILER_LEN..len - 6].try_into().expect("4 bytes"));
        let footer_start = usize::try_from(footer_len)
            .ok()
            .and_then(|f| (len - TRAILER_LEN).checked_sub(f))
            .filter(|&start| start >= HEADER_LEN)
            .ok_or_else(|| err(format!("footer length {footer_len} does not fit the file"), len - TRAILER_LEN))?;
        let footer = arrow_ipc::root_as_footer(&bytes[footer_start..len - TRAILER_LEN])
            .map_err(|e| err(format!("corrupt Arrow IPC footer: {e}"), footer_start))?;
        let fb_schema = footer.schema().ok_or_else(|| err("footer has no schema".into(), footer_start))?;
        if !fb_schema.endianness().equals_to_target_endianness() {
            return Err(err(super::BIG_ENDIAN.into(), footer_start));
        }
        super::check_metadata_version(footer.version()).map_err(|why| err(why, footer_start))?;
        let schema = guarded(|| arrow_ipc::convert::try_fb_to_schema(fb_schema))
            .map_err(|e| err(format!("unreadable schema: {e}"), footer_start))?;
        super::check_schema(&schema).map_err(|e| e.with_file(label).with_byte_offset(footer_start as u64))?;
        let file = IpcFile {
            path: label.to_path_buf(),
            schema: Arc::new(schema),
            version: footer.version(),
            dictionaries: footer.dictionaries().map(|v| v.iter().copied().collect()).unwrap_or_default(),
            batches: footer.recordBatches().map(|v| v.iter().copied().collect()).unwrap_or_default(),
            batch_rows: Vec::new(),
            data: data.clone(),
            compressed: false,
            origin,
            format: InputFormat::ArrowFile,
        };
        for block in file.dictionaries.iter().chain(&file.batches) {
            file.check_block(block, footer_start)?;
        }
        // Sizes first: counting the batches' rows decodes every dictionary, which decompresses it.
        let mut file = file;
        file.compressed = file.any_compressed_body();
        if file.compressed {
            file.format = InputFormat::ArrowFileCompressed;
            file.check_decompressed_sizes()?;
        }
        file.with_batch_rows()
    }

    /// The flatbuffer message of a block, if it parses, read exactly as arrow-rs's `FileDecoder` reads it:
    /// from the whole block (metadata and body), so a message whose flatbuffer reaches past its declared
    /// metadata length parses here whenever it parses there (a fuzzed file slipped past the decompressed
    /// size check that way: it did not parse from the metadata alone, so it was not checked).
    fn message(&self, block: &Block) -> Option<arrow_ipc::Message<'_>> {
        let len = (block.metaDataLength() as usize).checked_add(usize::try_from(block.bodyLength()).ok()?)?;
        let meta = self.data.as_slice().get(block.offset() as usize..).and_then(|rest| rest.get(..len))?;
        // Encapsulated message: [0xFFFFFFFF] <i32 length> <flatbuffer>; pre-1.0 files omit the marker.
        let flatbuffer = if meta.starts_with(&[0xFF; 4]) { meta.get(8..) } else { meta.get(4..) };
        flatbuffer.and_then(|fb| arrow_ipc::root_as_message(fb).ok())
    }

    /// Refuses compressed batches that declare more decompressed bytes than the machine has: arrow-rs
    /// allocates the declared size up front, and a corrupt or hostile length would abort the process.
    fn check_decompressed_sizes(&self) -> Result<()> {
        let limit = physical_memory();
        let check = |block: &Block| {
            let Some(message) = self.message(block) else { return Ok(()) };
            let batch = message
                .header_as_record_batch()
                .or_else(|| message.header_as_dictionary_batch().and_then(|d| d.data()));
            let Some(batch) = batch else { return Ok(()) };
            let body = block.offset() as usize + block.metaDataLength() as usize;
            check_declared(&batch, self.data.as_slice().get(body..).unwrap_or_default(), limit)
        };
        for (i, block) in self.batches.iter().enumerate() {
            check(block).map_err(|why| self.batch_error(i, why))?;
        }
        for block in &self.dictionaries {
            check(block).map_err(|why| {
                Error::input(format!("malformed dictionary batch: {why}"))
                    .with_file(&self.path)
                    .with_byte_offset(block.offset() as u64)
            })?;
        }
        Ok(())
    }

    /// Whether any record or dictionary batch declares body compression (LZ4 frame or ZSTD). A message that
    /// does not parse counts as uncompressed: arrow-rs parses it the same way ([`message`](Self::message)),
    /// so decoding it fails before anything is decompressed.
    fn any_compressed_body(&self) -> bool {
        let compressed = |block: &Block| {
            let Some(message) = self.message(block) else { return false };
            let batch = message
                .header_as_record_batch()
                .or_else(|| message.header_as_dictionary_batch().and_then(|d| d.data()));
            batch.is_some_and(|b| b.compression().is_some())
        };
        self.dictionaries.iter().chain(&self.batches).any(compressed)
    }

    /// Decodes every batch with an empty projection: cheap, and gives each batch's row count.
    fn with_batch_rows(mut self) -> Result<Self> {
        let decoder = self.decoder(Some(Vec::new()), false)?;
        let mut rows = Vec::with_capacity(self.batches.len());
        for i in 0..self.batches.len() {
            let batch = self.decode_batch(&decoder, i)?;
            let n = u64::try_from(batch.num_rows()).ok().filter(|&n| n <= i64::MAX as u64);
            rows.push(n.ok_or_else(|| self.batch_error(i, "negative row count".into()))?);
        }
        self.batch_rows = rows;
        Ok(self)
    }

    fn check_block(&self, block: &Block, footer_start: usize) -> Result<()> {
        let (offset, meta, body) = (block.offset(), block.metaDataLength(), block.bodyLength());
        let end = u64::try_from(offset)
            .ok()
            .zip(u64::try_from(meta).ok())
            .zip(u64::try_from(body).ok())
            .and_then(|((o, m), b)| o.checked_add(m)?.checked_add(b));
        match end {
            Some(end) if end <= footer_start as u64 && offset >= HEADER_LEN as i64 && meta > 0 => Ok(()),
            _ => Err(Error::input(format!(
                "footer block (offset {offset}, metadata {meta} bytes, body {body} bytes) lies outside the \
                 data section (bytes {HEADER_LEN}..{footer_start})"
            ))
            .with_file(&self.path)
            .with_byte_offset(footer_start as u64)),
        }
    }

    /// A decoder that has read every dictionary; `require_alignment` keeps decoding zero-copy.
    fn decoder(&self, projection: Option<Vec<usize>>, require_alignment: bool) -> Result<FileDecoder> {
        let mut decoder = FileDecoder::new(self.schema.clone(), self.version).with_require_alignment(require_alignment);
        if let Some(p) = projection {
            decoder = decoder.with_projection(p);
        }
        for block in &self.dictionaries {
            let buf = self.block_buffer(block);
            guarded(|| decoder.read_dictionary(block, &buf)).map_err(|e| {
                Error::input(format!("unreadable dictionary batch: {e}"))
                    .with_file(&self.path)
                    .with_byte_offset(block.offset() as u64)
            })?;
        }
        Ok(decoder)
    }

    /// The bytes of a block; its bounds were checked at open.
    fn block_buffer(&self, block: &Block) -> Buffer {
        let len = block.metaDataLength() as usize + block.bodyLength() as usize;
        self.data.slice_with_length(block.offset() as usize, len)
    }

    fn decode_batch(&self, decoder: &FileDecoder, i: usize) -> Result<RecordBatch> {
        let block = &self.batches[i];
        let buf = self.block_buffer(block);
        match guarded(|| decoder.read_record_batch(block, &buf)) {
            Ok(Some(batch)) => Ok(batch),
            Ok(None) => Err(self.batch_error(i, "footer block holds no record batch".into())),
            Err(e) => Err(self.batch_error(i, e.to_string())),
        }
    }

    fn batch_error(&self, i: usize, msg: String) -> Error {
        Error::input(format!("malformed record batch: {msg}"))
            .with_file(&self.path)
            .with_batch(i)
            .with_byte_offset(self.batches[i].offset() as u64)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the mapped bytes live: the file itself, or a sealed segment it was decoded into.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// What the input was, for reports ([`InputFormat::as_str`] gives the stable JSON value).
    pub fn format(&self) -> InputFormat {
        self.format
    }

    /// Records what the input was when the mapped bytes are a conversion of it (`source::open`).
    pub(crate) fn with_format(mut self, format: InputFormat) -> Self {
        self.format = format;
        self
    }

    /// Whether record batches have compressed bodies: decoding them copies and decompresses, so
    /// `source::open` converts such files into a segment once instead.
    pub fn is_compressed(&self) -> bool {
        self.compressed
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    pub fn num_rows(&self) -> u64 {
        self.batch_rows.iter().sum()
    }

    pub fn num_batches(&self) -> usize {
        self.batches.len()
    }

    /// Decodes the projected columns of every batch into a [`Store`] whose arrays point into the mapping.
    pub fn into_store(self, projection: &[usize]) -> Result<Store> {
        let aligned = self.decoder(Some(projection.to_vec()), true)?;
        let mut relaxed = None;
        let mut copied = 0;
        let mut batches = Vec::with_capacity(self.batches.len());
        for i in 0..self.batches.len() {
            let batch = match self.decode_batch(&aligned, i) {
                Ok(batch) => batch,
                Err(first) => {
                    // Misaligned buffers fail only the aligned decoder: retry with a copying one.
                    if relaxed.is_none() {
                        relaxed = Some(self.decoder(Some(projection.to_vec()), false)?);
                    }
                    let batch = self.decode_batch(relaxed.as_ref().expect("set above"), i).map_err(|_| first)?;
                    copied += 1;
                    batch
                }
            };
            if batch.num_rows() as u64 != self.batch_rows[i] {
                return Err(self.batch_error(i, "row count changed between reads".into()));
            }
            batches.push(batch);
        }
        let mapping = self.data.as_ptr() as usize..self.data.as_ptr() as usize + self.data.len();
        let schema =
            Arc::new(self.schema.project(projection).map_err(|e| Error::internal(format!("bad projection: {e}")))?);
        Store::try_new(self.path, schema, batches, mapping, copied, self.origin)
    }

    /// Decodes every batch with all its columns, in order, copying and decompressing as needed, and hands
    /// each to `f` with its index; one batch is alive at a time. For `source/convert.rs`.
    pub(crate) fn for_each_batch(&self, mut f: impl FnMut(usize, RecordBatch) -> Result<()>) -> Result<()> {
        let decoder = self.decoder(None, false)?;
        for i in 0..self.batches.len() {
            f(i, self.decode_batch(&decoder, i)?)?;
        }
        Ok(())
    }
}

/// Maps `file` read-only; `label` names it in errors.
fn map(file: &std::fs::File, label: &Path) -> Result<Buffer> {
    let len = file.metadata().map_err(|e| Error::input(format!("cannot stat: {e}")).with_file(label))?.len();
    if len < (HEADER_LEN + TRAILER_LEN) as u64 {
        return Err(
            Error::input(format!("truncated Arrow IPC file: {len} bytes is shorter than its framing")).with_file(label)
        );
    }
    Ok(Buffer::from(map_bytes(file, label)?))
}

/// Maps any input file read-only (Parquet too: `source/parquet`), as shareable bytes. Positioned reads
/// from many threads need no shared file offset this way, and every process shares the page cache.
pub(crate) fn map_bytes(file: &std::fs::File, label: &Path) -> Result<bytes::Bytes> {
    // SAFETY: memmap2 requires that the mapped file is not modified while mapped, or reads may observe
    // changing bytes (and truncation raises SIGBUS). tally only reads; inputs it creates itself are
    // `SealedSegment`s, which cannot change (F_SEAL_WRITE/SHRINK/GROW, checked by the type's constructors),
    // and for user files we rely on the same convention as every mmap-based reader (ripgrep, arrow's
    // zero_copy_ipc example): do not rewrite a file while tally reads it. Changing bytes can give wrong
    // numbers but never memory unsafety in our code, because all structure is validated from the bytes once
    // at open and kernels only read plain numbers (Parquet is parsed by the parquet crate's safe, bounds-checked
    // code, so changing bytes there are at worst a decoding error).
    let map =
        unsafe { Mmap::map(file) }.map_err(|e| Error::input(format!("cannot memory-map: {e}")).with_file(label))?;
    #[cfg(target_os = "linux")]
    huge_pages_hint(&map);
    Ok(bytes::Bytes::from_owner(map))
}

/// Asks for transparent huge pages on a file mapping (`MADV_HUGEPAGE`): pages the mapping faults in from
/// disk are then read ahead as 2 MiB folios and mapped a PMD at a time. Without it, a file first read
/// through tally's own mapping sits in the page cache in small folios, and every later run pays for it:
/// `describe a,b,c,d` of the 2.6 GB benchmark file took 0.33 s instead of 0.14 s (20,432 page faults
/// instead of 2,539; benches/README.md "Huge pages for mapped files"). A hint only: where THP is off
/// (`never`) or the file system has no large folios, the kernel refuses or ignores it, and nothing changes.
#[cfg(target_os = "linux")]
fn huge_pages_hint(map: &Mmap) {
    let _ = map.advise(memmap2::Advice::HugePage);
}

/// Runs arrow-rs code with panics turned into errors: a malformed file must never crash tally.
pub(crate) fn guarded<T>(f: impl FnOnce() -> Result<T, ArrowError>) -> Result<T, ArrowError> {
    quiet_panics_install();
    QUIET.with(|q| q.set(q.get() + 1));
    let outcome = catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(q.get() - 1));
    outcome.unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".into());
        Err(ArrowError::IpcError(format!("arrow-rs rejected the data ({what})")))
    })
}

thread_local! {
    /// Depth of `guarded` calls on this thread: their panics become errors, so they must not print.
    static QUIET: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Wraps the panic hook once so that panics inside `guarded` stay silent (the error says it all) while
/// every other panic, a real bug, still prints as usual.
fn quiet_panics_install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if QUIET.with(|q| q.get()) == 0 {
                previous(info);
            }
        }));
    });
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::io::Write;

    /// The VmFlags line of the mapping that holds `addr`, from /proc/self/smaps.
    fn vm_flags(addr: usize) -> Option<String> {
        let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
        let mut inside = false;
        for line in smaps.lines() {
            if let Some((range, _)) = line.split_once(' ')
                && let Some((lo, hi)) = range.split_once('-')
                && let (Ok(lo), Ok(hi)) = (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
            {
                inside = (lo..hi).contains(&addr);
            } else if inside && let Some(flags) = line.strip_prefix("VmFlags:") {
                return Some(flags.trim().to_string());
            }
        }
        None
    }

    #[test]
    fn file_mappings_ask_for_huge_pages() {
        let thp = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled").unwrap_or_default();
        if thp.is_empty() || thp.contains("[never]") {
            eprintln!("transparent huge pages are off here: the kernel refuses the hint");
            return;
        }
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&vec![7u8; 1 << 22]).unwrap();
        let bytes = super::map_bytes(&file, std::path::Path::new("t")).unwrap();
        let flags = vm_flags(bytes.as_ptr() as usize).expect("the mapping is listed");
        assert!(flags.split_whitespace().any(|f| f == "hg"), "VmFlags: {flags}");
    }
}
