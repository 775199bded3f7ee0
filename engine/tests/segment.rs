//! The shared-memory segment (`store/segment.rs`) and the inputs decoded into it (`source/convert.rs`).
//!
//! What is checked, and why it matters:
//! 1. a sealed segment cannot be written, grown, shrunk or resealed, through any descriptor: this is what
//!    makes mapping it sound;
//! 2. a worker refuses any descriptor that is not a sealed memfd it inherited (a regular file, an unsealed
//!    or half-sealed memfd, a closed number, stdin, a descriptor it already owns) and takes one over once;
//! 3. a child process reads the segment through an inherited descriptor (with `sh`, and as a tally worker
//!    would: this test binary re-executed, claiming and mapping it), and once the parent drops everything no
//!    descriptor, mapping or `/dev/shm` entry is left;
//! 4. streams and compressed files go through a segment and give the same batches as the plain file,
//!    zero-copy; a broken stream is an error naming the file and the record batch.
//!
//! Every test takes [`serial`]: one counts open descriptors, and a child would inherit a descriptor that
//! another test's thread has just made inheritable.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, IntoRawFd, OwnedFd};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, MutexGuard};

use arrow_array::{Array, ArrayRef, Float64Array, Int64Array, RecordBatch};
use arrow_ipc::CompressionType;
use arrow_ipc::writer::{FileWriter, IpcWriteOptions, StreamWriter};
use arrow_schema::{DataType, Field, Schema};
use rustix::fs::{MemfdFlags, SealFlags};
use rustix::io::FdFlags;
use tally_engine::ErrorKind;
use tally_engine::source::{self, InputFormat};
use tally_engine::store::segment::{SealedSegment, SegmentWriter};
use tally_engine::store::{Origin, Store};

fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `n` bytes that are not all alike, so a copy or an offset mistake shows.
fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
}

fn sealed(name: &str, bytes: &[u8]) -> SealedSegment {
    let mut writer = SegmentWriter::create(name).unwrap();
    writer.write_all(bytes).unwrap();
    writer.seal().unwrap()
}

#[test]
fn a_sealed_segment_keeps_its_bytes_and_refuses_writes_growth_shrinking_and_more_seals() {
    let _serial = serial();
    let bytes = pattern(100_000);
    let segment = sealed("seals", &bytes);
    assert_eq!(segment.len(), bytes.len() as u64);
    let mut back = vec![0; bytes.len()];
    segment.file().read_exact_at(&mut back, 0).unwrap();
    assert_eq!(back, bytes);

    let seals = rustix::fs::fcntl_get_seals(segment.file()).unwrap();
    assert_eq!(seals, SealFlags::WRITE | SealFlags::SHRINK | SealFlags::GROW | SealFlags::SEAL);

    // A duplicate descriptor is the same file: the seals hold for it too, as they do in every worker.
    let mut dup = segment.file().try_clone().unwrap();
    assert!(dup.write_all(b"x").is_err(), "write on a sealed segment");
    assert!(dup.write_at(b"x", 0).is_err(), "positioned write on a sealed segment");
    assert!(dup.set_len(bytes.len() as u64 + 1).is_err(), "growing a sealed segment");
    assert!(dup.set_len(10).is_err(), "shrinking a sealed segment");
    // F_SEAL_SEAL: no further seal can be added (`SegmentWriter::seal` consumes the writer, so sealing twice
    // through the API does not compile; this is the same through the raw descriptor).
    let again = rustix::fs::fcntl_add_seals(&dup, SealFlags::FUTURE_WRITE);
    assert_eq!(again, Err(rustix::io::Errno::PERM), "a second seal");
    segment.file().read_exact_at(&mut back, 0).unwrap();
    assert_eq!(back, bytes, "the bytes changed");
}

/// Runs `from_inherited_fd` on a descriptor this test owns (made inheritable, as a child would see it) and
/// returns the refusal. The test keeps ownership: a refusal must not take it, and `fd` closes it on drop.
fn refusal(fd: &OwnedFd) -> tally_engine::Error {
    rustix::io::fcntl_setfd(fd, FdFlags::empty()).unwrap();
    match SealedSegment::from_inherited_fd(fd.as_raw_fd()) {
        Err(e) => e,
        Ok(wrongly) => {
            // Two owners now: leak one rather than close the descriptor twice.
            std::mem::forget(wrongly);
            panic!("fd {} was accepted", fd.as_raw_fd())
        }
    }
}

fn assert_refused(err: &tally_engine::Error, raw: i32, needle: &str) {
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    let text = err.to_string();
    assert!(text.contains(&format!("fd {raw}")) && text.contains(needle), "{needle:?} not in: {text}");
}

#[test]
fn a_worker_refuses_descriptors_that_are_not_sealed_memfds() {
    let _serial = serial();
    assert_refused(&SealedSegment::from_inherited_fd(-1).unwrap_err(), -1, "not a file descriptor");
    assert_refused(&SealedSegment::from_inherited_fd(1 << 20).unwrap_err(), 1 << 20, "not open");
    assert_refused(&SealedSegment::from_inherited_fd(0).unwrap_err(), 0, "standard stream");

    let dir = tempfile::tempdir().unwrap();
    let regular = OwnedFd::from(File::create(dir.path().join("plain")).unwrap());
    assert_refused(&refusal(&regular), regular.as_raw_fd(), "memfd");
    // Refusing did not take the descriptor over: it is open and unchanged.
    assert_eq!(rustix::io::fcntl_getfd(&regular).unwrap(), FdFlags::empty());

    let flags = MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING;
    let unsealed = rustix::fs::memfd_create("tally-test-unsealed", flags).unwrap();
    assert_refused(&refusal(&unsealed), unsealed.as_raw_fd(), "not sealed");

    let half = rustix::fs::memfd_create("tally-test-half-sealed", flags).unwrap();
    rustix::fs::fcntl_add_seals(&half, SealFlags::SHRINK | SealFlags::GROW).unwrap();
    assert_refused(&refusal(&half), half.as_raw_fd(), "not sealed");

    // A memfd that does not allow sealing at all.
    let plain_memfd = rustix::fs::memfd_create("tally-test-no-sealing", MemfdFlags::CLOEXEC).unwrap();
    assert_refused(&refusal(&plain_memfd), plain_memfd.as_raw_fd(), "not sealed");

    // A descriptor this process opened itself has FD_CLOEXEC: never taken over by its number.
    let segment = sealed("owned", b"abc");
    let raw = segment.file().as_raw_fd();
    assert_refused(&SealedSegment::from_inherited_fd(raw).unwrap_err(), raw, "FD_CLOEXEC");
    assert_eq!(segment.len(), 3);
}

#[test]
fn a_worker_takes_over_an_inherited_segment_exactly_once() {
    let _serial = serial();
    let segment = sealed("claim", &pattern(5000));
    let inheritable = segment.inheritable_fd().unwrap();
    assert!(!rustix::io::fcntl_getfd(&inheritable).unwrap().contains(FdFlags::CLOEXEC), "must be inheritable");
    assert!(rustix::io::fcntl_getfd(segment.file()).unwrap().contains(FdFlags::CLOEXEC), "original stays CLOEXEC");
    let raw = inheritable.into_raw_fd(); // handed over, as to a child
    let claimed = SealedSegment::from_inherited_fd(raw).unwrap();
    assert_eq!(claimed.len(), 5000);
    assert!(rustix::io::fcntl_getfd(claimed.file()).unwrap().contains(FdFlags::CLOEXEC), "not passed on further");
    let mut back = vec![0; 5000];
    claimed.file().read_exact_at(&mut back, 0).unwrap();
    assert_eq!(back, pattern(5000));
    // A second claim of the same number would make two owners: refused.
    assert_refused(&SealedSegment::from_inherited_fd(raw).unwrap_err(), raw, "FD_CLOEXEC");
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn dev_shm() -> BTreeSet<String> {
    match std::fs::read_dir("/dev/shm") {
        Ok(dir) => dir.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => BTreeSet::new(),
    }
}

fn mapped(needle: &str) -> bool {
    std::fs::read_to_string("/proc/self/maps").unwrap().contains(needle)
}

#[test]
fn a_child_reads_the_segment_through_an_inherited_fd_and_nothing_is_left_afterwards() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leak-check.stream");
    std::fs::write(&path, stream_bytes()).unwrap();
    let name = "memfd:tally:leak-check.stream";
    let (fds, shm) = (open_fds(), dev_shm());
    assert!(!mapped(name));

    let file = source::open(&path).unwrap();
    let Origin::Segment(segment) = file.origin().clone() else { panic!("a stream is decoded into a segment") };
    assert!(mapped(name), "the segment should be mapped while the IpcFile lives");
    let fd = segment.inheritable_fd().unwrap();
    let n = fd.as_raw_fd();
    // `wc` reads through the descriptor itself; `od` opens it afresh through /proc (offset 0 either way).
    let script = format!("wc -c <&{n}; od -An -v -tx1 -N 8 /proc/self/fd/{n}");
    let out = Command::new("sh").arg("-c").arg(script).output().unwrap();
    drop(fd); // right after spawning, as a supervisor does
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let mut lines = stdout.lines();
    assert_eq!(lines.next().map(str::trim), Some(segment.len().to_string().as_str()), "{stdout}");
    let head: Vec<u8> = lines.flat_map(str::split_whitespace).map(|h| u8::from_str_radix(h, 16).unwrap()).collect();
    assert_eq!(head, b"ARROW1\0\0", "the segment is an Arrow IPC file: {stdout}");

    // Without `inheritable_fd`, a child gets nothing: the segment's own descriptor is CLOEXEC.
    let own = segment.file().as_raw_fd();
    let out = Command::new("sh").arg("-c").arg(format!("readlink /proc/self/fd/{own} || true")).output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains(name), "the segment leaked to a child");

    drop((file, segment));
    assert!(!mapped(name), "a mapping of the segment is left");
    assert_eq!(open_fds(), fds, "a descriptor is left open");
    assert_eq!(dev_shm(), shm, "a /dev/shm entry appeared");
}

/// An Int64 column with nulls and a Float64 column with a NaN, in three batches.
fn batches() -> Vec<RecordBatch> {
    let schema =
        Arc::new(Schema::new(vec![Field::new("i", DataType::Int64, true), Field::new("x", DataType::Float64, true)]));
    (0..3i64)
        .map(|b| {
            let n = 1000 + 17 * b;
            let ints: Int64Array = (0..n).map(|k| (k % 5 != 0).then_some(k * (b + 1) - 300)).collect();
            let floats: Float64Array =
                (0..n).map(|k| Some(if k == 3 { f64::NAN } else { (k as f64).sin() * 1e3 })).collect();
            let columns: Vec<ArrayRef> = vec![Arc::new(ints), Arc::new(floats)];
            RecordBatch::try_new(schema.clone(), columns).unwrap()
        })
        .collect()
}

fn write_file(path: &Path, options: IpcWriteOptions) {
    let batches = batches();
    let mut writer =
        FileWriter::try_new_with_options(File::create(path).unwrap(), &batches[0].schema(), options).unwrap();
    batches.iter().for_each(|b| writer.write(b).unwrap());
    writer.finish().unwrap();
}

fn stream_bytes() -> Vec<u8> {
    let batches = batches();
    let mut writer = StreamWriter::try_new(Vec::new(), &batches[0].schema()).unwrap();
    batches.iter().for_each(|b| writer.write(b).unwrap());
    writer.into_inner().unwrap()
}

fn store_of(path: &Path) -> (InputFormat, Store) {
    let file = source::open(path).unwrap_or_else(|e| panic!("{e}"));
    let format = file.format();
    let width = file.schema().fields().len();
    (format, file.into_store(&(0..width).collect::<Vec<_>>()).unwrap())
}

/// Every buffer of every column lies inside the mapping: nothing was copied.
fn assert_zero_copy(store: &Store) {
    assert_eq!(store.copied_batches(), 0);
    let mapping = store.mapping();
    for batch in store.batches() {
        for column in batch.columns() {
            for buffer in column.to_data().buffers() {
                let at = buffer.as_ptr() as usize;
                assert!(mapping.contains(&at) && at + buffer.len() <= mapping.end, "buffer outside the mapping");
            }
        }
    }
}

#[test]
fn streams_and_compressed_files_load_through_a_segment_with_the_same_batches() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.arrow");
    write_file(&plain, IpcWriteOptions::default());
    let (format, reference) = store_of(&plain);
    assert_eq!(format, InputFormat::ArrowFile);
    assert!(matches!(reference.origin(), Origin::OpenFile { path, .. } if *path == plain));

    let stream = dir.path().join("data.stream");
    std::fs::write(&stream, stream_bytes()).unwrap();
    let mut cases: Vec<(PathBuf, InputFormat)> = vec![(stream, InputFormat::ArrowStream)];
    for (name, codec) in [("lz4.arrow", CompressionType::LZ4_FRAME), ("zstd.arrow", CompressionType::ZSTD)] {
        let path = dir.path().join(name);
        write_file(&path, IpcWriteOptions::default().try_with_compression(Some(codec)).unwrap());
        cases.push((path, InputFormat::ArrowFileCompressed));
    }
    for (path, want) in cases {
        let (format, store) = store_of(&path);
        assert_eq!(format, want, "{}", path.display());
        assert_eq!(store.path(), path);
        let Origin::Segment(segment) = store.origin() else { panic!("{}: not decoded into a segment", path.display()) };
        assert!(!segment.is_empty());
        assert_zero_copy(&store);
        assert_eq!(store.batches(), reference.batches(), "{}", path.display());
    }
    assert_eq!(InputFormat::ArrowFile.as_str(), "arrow-ipc-file");
    assert_eq!(InputFormat::ArrowStream.as_str(), "arrow-ipc-stream");
    assert_eq!(InputFormat::ArrowFileCompressed.as_str(), "arrow-ipc-file (compressed)");
}

#[test]
fn a_truncated_stream_is_an_error_naming_the_file_and_the_record_batch() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.stream");
    let bytes = stream_bytes();
    // Drop the end-of-stream marker (8 bytes) and the last 100 bytes of the third batch's body.
    std::fs::write(&path, &bytes[..bytes.len() - 108]).unwrap();
    let err = source::open(&path).expect_err("truncated stream");
    let text = err.to_string();
    assert_eq!(err.kind(), ErrorKind::Input, "{text}");
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("record batch 2") && text.contains("byte offset") && text.contains("truncated"), "{text}");
    assert!(!text.contains('\n'), "{text}");
}

/// The worker side end to end: this test binary re-executed as a child, claiming the inherited segment and
/// mapping it with the same reader as the parent. `TALLY_TEST_SEGMENT_FD` switches the child mode on.
#[test]
fn a_reexecuted_child_claims_and_maps_an_inherited_segment() {
    if let Ok(raw) = std::env::var("TALLY_TEST_SEGMENT_FD") {
        let segment = SealedSegment::from_inherited_fd(raw.parse().unwrap()).unwrap();
        let file = source::ipc::IpcFile::from_segment(Arc::new(segment), Path::new("inherited")).unwrap();
        println!("child: rows={} batches={}", file.num_rows(), file.num_batches());
        return;
    }
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("for-child.stream");
    std::fs::write(&path, stream_bytes()).unwrap();
    let file = source::open(&path).unwrap();
    let Origin::Segment(segment) = file.origin() else { panic!("a stream is decoded into a segment") };
    let fd = segment.inheritable_fd().unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "a_reexecuted_child_claims_and_maps_an_inherited_segment", "--nocapture", "--test-threads=1"])
        .env("TALLY_TEST_SEGMENT_FD", fd.as_raw_fd().to_string())
        .output()
        .unwrap();
    drop(fd);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "child failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let rows: usize = batches().iter().map(RecordBatch::num_rows).sum();
    assert!(stdout.contains(&format!("child: rows={rows} batches=3")), "{stdout}");
    assert_eq!(file.num_rows(), rows as u64);
}
