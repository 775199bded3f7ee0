//! Failures as users meet them: exit code 1 for data and runtime errors, 2 for usage errors, one clear
//! `tally: error:` line on stderr naming the file, column or flag at fault, and never a panic.

use crate::util;

use std::process::{Output, Stdio};

use predicates::prelude::*;
use util::{Dir, assert_no_panic, lossy};

/// Asserts a data/runtime error: exit 1, nothing on stdout, and a first stderr line
/// `tally: error: ...` that contains every one of `needles`; any further lines are `caused by:` lines
/// that add something the first line does not already say.
#[track_caller]
fn assert_error(out: &Output, needles: &[&str]) {
    let stderr = lossy(&out.stderr);
    assert_no_panic(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "exit code 1 expected; stderr:\n{stderr}");
    assert!(out.stdout.is_empty(), "nothing on stdout on error, got:\n{}", lossy(&out.stdout));
    let mut lines = stderr.lines();
    let first = lines.next().unwrap_or_default();
    assert!(first.starts_with("tally: error: "), "first stderr line is the error:\n{stderr}");
    for needle in needles {
        assert!(first.contains(needle), "error line should mention {needle:?}:\n{stderr}");
    }
    for line in lines {
        let cause = line.trim_start().strip_prefix("caused by: ");
        let cause = cause.unwrap_or_else(|| panic!("unexpected extra stderr line {line:?} in:\n{stderr}"));
        assert!(!first.contains(cause), "cause {cause:?} repeats the error line:\n{stderr}");
    }
}

/// Asserts a usage error: exit 2, clap's `error:` message naming `needle`, nothing on stdout.
#[track_caller]
fn assert_usage_error(out: &Output, needle: &str) {
    let stderr = lossy(&out.stderr);
    assert_no_panic(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "exit code 2 expected; stderr:\n{stderr}");
    assert!(out.stdout.is_empty(), "nothing on stdout on a usage error");
    assert!(stderr.starts_with("error: ") && stderr.contains(needle), "usage error naming {needle:?}:\n{stderr}");
}

fn run(dir: &Dir, args: &[&str]) -> Output {
    dir.tally().args(args).output().expect("run tally")
}

#[test]
fn missing_file() {
    let dir = Dir::new();
    for sub in ["describe", "schema"] {
        let out = run(&dir, &[sub, "no-such-file.arrow"]);
        assert_error(&out, &["no-such-file.arrow", "no such file"]);
    }
}

#[test]
fn directory_instead_of_a_file() {
    let dir = Dir::new();
    std::fs::create_dir(dir.join("sub.arrow")).unwrap();
    for sub in ["describe", "schema"] {
        assert_error(&run(&dir, &[sub, "sub.arrow"]), &["sub.arrow", "directory"]);
    }
}

#[test]
fn empty_file() {
    let dir = Dir::new();
    dir.write("empty.arrow", b"");
    for sub in ["describe", "schema"] {
        assert_error(&run(&dir, &[sub, "empty.arrow"]), &["empty.arrow", "empty"]);
    }
}

#[test]
fn text_in_a_binary_named_file_or_binary_garbage_is_not_arrow() {
    let dir = Dir::new();
    // Text is read as CSV (cli/tests/integration/inputs.rs), except where the name promises a binary format.
    dir.write("data.arrow", b"a,b\n1,2\n3,4\n");
    dir.write("junk.bin", b"\x01\x02\x03\x04\x05\x06\x07\x08");
    for sub in ["describe", "schema"] {
        assert_error(&run(&dir, &[sub, "data.arrow"]), &["data.arrow", "not an Arrow IPC file"]);
        assert_error(&run(&dir, &[sub, "junk.bin"]), &["junk.bin", "not an Arrow IPC file"]);
    }
    // Shorter than the magic.
    dir.write("tiny.arrow", b"AR");
    assert_error(&run(&dir, &["describe", "tiny.arrow"]), &["tiny.arrow"]);
}

/// Formats tally recognises but does not read are named, so the user knows what they have and how to
/// convert it.
#[test]
fn recognised_but_unsupported_formats() {
    let dir = Dir::new();
    dir.write("x.parquet", b"PAR1\x15\x04\x15\x00 and then some bytes");
    assert_error(&run(&dir, &["describe", "x.parquet"]), &["x.parquet", "malformed Parquet file"]);
    dir.write("x.npy", b"\x93NUMPY\x01\x00v\x00{'descr': '<f8'}");
    assert_error(&run(&dir, &["schema", "x.npy"]), &["x.npy", "truncated .npy file"]);
}

/// A file cut in half (an interrupted write or copy) is reported as truncated, naming the file.
#[test]
fn truncated_arrow_file() {
    let dir = Dir::new();
    dir.gen_file("g.arrow", 10_000, 1, 2_500);
    let bytes = dir.read("g.arrow");
    dir.write("half.arrow", &bytes[..bytes.len() / 2]);
    for sub in ["describe", "schema"] {
        let out = run(&dir, &[sub, "half.arrow"]);
        assert_error(&out, &["half.arrow"]);
        let first = lossy(&out.stderr);
        assert!(first.contains("truncated") || first.contains("corrupt"), "says truncated or corrupt:\n{first}");
    }
    // Cut just before the end: only the trailing magic is missing.
    dir.write("cut.arrow", &bytes[..bytes.len() - 3]);
    assert_error(&run(&dir, &["describe", "cut.arrow"]), &["cut.arrow", "truncated"]);
    // Only the header survives.
    dir.write("head.arrow", &bytes[..8]);
    assert_error(&run(&dir, &["describe", "head.arrow"]), &["head.arrow", "truncated"]);
}

/// The footer's first block claims a shorter body than its buffers need: the batch's buffers then point
/// past the body. tally must say the batch is malformed, without arrow-rs's panic message leaking out.
#[test]
fn footer_block_with_a_short_body_is_an_error_not_a_panic() {
    let dir = Dir::new();
    dir.gen_file("g.arrow", 4_000, 1, 1_000);
    let mut bytes = dir.read("g.arrow");
    let len = bytes.len();
    let footer_len = i32::from_le_bytes(bytes[len - 10..len - 6].try_into().unwrap()) as usize;
    let footer_start = len - 10 - footer_len;
    let footer = arrow_ipc::root_as_footer(&bytes[footer_start..len - 10]).unwrap();
    let block = footer.recordBatches().unwrap().get(0);
    let (offset, meta, body) = (block.offset(), block.metaDataLength(), block.bodyLength());
    // The Block struct as flatbuffers lays it out: offset i64, metaDataLength i32, 4 bytes padding, bodyLength i64.
    let mut pattern = offset.to_le_bytes().to_vec();
    pattern.extend(meta.to_le_bytes());
    let at = (footer_start..len - 10 - 24)
        .find(|&i| bytes[i..i + 12] == pattern[..] && bytes[i + 16..i + 24] == body.to_le_bytes())
        .expect("the first block in the footer");
    bytes[at + 16..at + 24].copy_from_slice(&(body / 2 / 8 * 8).to_le_bytes());
    dir.write("short.arrow", &bytes);
    let out = run(&dir, &["describe", "short.arrow"]);
    assert_error(&out, &["short.arrow", "record batch 0"]);
}

/// Thrift compact protocol, as much of it as a Parquet footer needs (the encoding of the format's
/// `parquet.thrift`), written out here so the malformed footer is built independently of the parquet crate.
mod thrift {
    pub(super) const I32: u8 = 5;
    pub(super) const I64: u8 = 6;
    pub(super) const BINARY: u8 = 8;
    pub(super) const LIST: u8 = 9;
    pub(super) const STRUCT: u8 = 12;

    pub(super) fn varint(mut n: u64, out: &mut Vec<u8>) {
        while n >= 0x80 {
            out.push((n as u8) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
    }

    /// A field header (the id as a delta from the previous field's) and, for integers, the zigzag value.
    pub(super) fn int(out: &mut Vec<u8>, delta: u8, kind: u8, value: i64) {
        out.push(delta << 4 | kind);
        varint(((value << 1) ^ (value >> 63)) as u64, out);
    }

    pub(super) fn string(out: &mut Vec<u8>, delta: u8, text: &str) {
        out.push(delta << 4 | BINARY);
        varint(text.len() as u64, out);
        out.extend(text.as_bytes());
    }

    /// A field holding a list of `len` (< 15) structs; the caller writes them, each ending with a 0 byte.
    pub(super) fn struct_list(out: &mut Vec<u8>, delta: u8, len: u8) {
        out.push(delta << 4 | LIST);
        out.push(len << 4 | STRUCT);
    }
}

/// Fuzz run 10 (fuzz/README.md): a footer whose root schema element declares hundreds of millions of
/// children while the schema holds two elements. parquet 60.1 reserved room for every declared child
/// before reading one (4.8 GB here), so under an address-space limit, as on a machine without
/// overcommit or in a container, tally aborted with "memory allocation failed" (exit 134); the declared
/// count is now checked against the elements that follow. The limit makes the old behaviour fail the test.
#[test]
fn parquet_footer_declaring_more_schema_children_than_it_holds_is_refused_under_a_memory_limit() {
    use thrift::{I32, I64, int, string, struct_list};
    let mut meta = Vec::new();
    int(&mut meta, 1, I32, 1); // FileMetaData.version
    struct_list(&mut meta, 1, 2); // .schema
    string(&mut meta, 4, "schema"); // root SchemaElement: name (field 4)
    int(&mut meta, 1, I32, 600_000_000); // num_children (field 5)
    meta.push(0);
    int(&mut meta, 1, I32, 2); // leaf: type INT64 (field 1)
    int(&mut meta, 2, I32, 0); // repetition REQUIRED (field 3)
    string(&mut meta, 1, "a"); // name (field 4)
    meta.push(0);
    int(&mut meta, 1, I64, 0); // .num_rows
    struct_list(&mut meta, 1, 0); // .row_groups
    meta.push(0);
    let mut bytes = b"PAR1".to_vec();
    bytes.extend(&meta);
    bytes.extend((meta.len() as u32).to_le_bytes());
    bytes.extend(b"PAR1");
    let dir = Dir::new();
    dir.write("children.parquet", &bytes);
    let out = std::process::Command::new("sh")
        .current_dir(dir.path())
        .args(["-c", "ulimit -v 1000000 && exec \"$0\" \"$@\""])
        .arg(util::bin_path())
        .args(["describe", "children.parquet"])
        .output()
        .expect("run tally under sh");
    assert_error(&out, &["children.parquet", "malformed Parquet file", "children"]);
}

/// Small inputs of each kind tally reads: a generated (uncompressed) file, an Arrow IPC stream, and an
/// lz4-compressed file, each with nulls and several batches.
fn fuzz_inputs(dir: &Dir) -> Vec<(&'static str, Vec<u8>)> {
    dir.gen_file("g.arrow", 300, 5, 100);
    let batches: Vec<_> = (0..3)
        .map(|k| {
            let x: Vec<Option<f64>> = (0..50).map(|i| (i % 7 != 0).then_some((i + k) as f64)).collect();
            let n: Vec<Option<i64>> = (0..50).map(|i| Some(i * k)).collect();
            util::batch_of(vec![("x", util::f64s(&x)), ("n", util::i64s(&n))])
        })
        .collect();
    let schema = batches[0].schema();
    let mut stream = Vec::new();
    let mut writer = arrow_ipc::writer::StreamWriter::try_new(&mut stream, &schema).unwrap();
    batches.iter().for_each(|b| writer.write(b).unwrap());
    writer.finish().unwrap();
    drop(writer);
    let lz4 = arrow_ipc::writer::IpcWriteOptions::default()
        .try_with_compression(Some(arrow_ipc::CompressionType::LZ4_FRAME))
        .unwrap();
    let mut compressed = Vec::new();
    let mut writer = arrow_ipc::writer::FileWriter::try_new_with_options(&mut compressed, &schema, lz4).unwrap();
    batches.iter().for_each(|b| writer.write(b).unwrap());
    writer.finish().unwrap();
    drop(writer);
    vec![("generated file", dir.read("g.arrow")), ("stream", stream), ("lz4 file", compressed)]
}

/// Bytes overwritten anywhere in a small input: tally either reads it (the damage hit values) or reports
/// an error naming the file; it never panics, never prints a panic message (arrow-rs panics on some
/// malformed buffers; tally catches them) and never exits with anything but 0 or 1.
#[test]
fn corrupted_bytes_never_panic() {
    let dir = Dir::new();
    let mut failures = Vec::new();
    for (kind, good) in fuzz_inputs(&dir) {
        let len = good.len();
        // Every 53rd byte, plus every byte of the last 200 (a file's footer and its framing).
        let offsets: Vec<usize> = (0..len).step_by(53).chain(len.saturating_sub(200)..len).collect();
        for &offset in &offsets {
            for value in [0x00u8, 0xff] {
                if good[offset] == value {
                    continue;
                }
                let mut bytes = good.clone();
                bytes[offset] = value;
                dir.write("bad.arrow", &bytes);
                for sub in [&["describe", "bad.arrow", "--format", "csv"][..], &["schema", "bad.arrow"]] {
                    let out = dir.tally().env("RUST_BACKTRACE", "0").args(sub).output().unwrap();
                    let stderr = lossy(&out.stderr);
                    let ok = match out.status.code() {
                        Some(0) => !stderr.contains("panicked"),
                        Some(1) => stderr.starts_with("tally: error: bad.arrow: ") && !stderr.contains("panicked"),
                        _ => false,
                    };
                    if !ok {
                        let what = format!("{kind}, byte {offset} = {value:#04x}, {}", sub[0]);
                        failures.push(format!("{what}: {:?}\n{stderr}", out.status));
                    }
                }
            }
        }
    }
    // The first failure of each kind of input.
    let mut examples: Vec<&String> = Vec::new();
    for f in &failures {
        if !examples.iter().any(|e| e.split(',').next() == f.split(',').next()) {
            examples.push(f);
        }
    }
    let examples = examples.iter().map(|e| e.as_str()).collect::<Vec<_>>().join("\n");
    assert!(failures.is_empty(), "{} bad runs, e.g.:\n{examples}", failures.len());
}

#[test]
fn unknown_column_names_it_and_lists_the_columns() {
    let dir = Dir::new();
    dir.gen_file("g.arrow", 10, 1, 10);
    let out = run(&dir, &["describe", "g.arrow", "--columns", "a,nope"]);
    assert_error(&out, &["g.arrow", "\"nope\"", "id, a, b, c, d, k1, k2"]);
    let out = run(&dir, &["describe", "g.arrow", "--columns", "A"]);
    assert_error(&out, &["\"A\""]);
}

#[test]
fn output_file_that_cannot_be_created() {
    let dir = Dir::new();
    dir.gen_file("g.arrow", 10, 1, 10);
    let out = run(&dir, &["describe", "g.arrow", "--output", "missing-dir/out.json"]);
    assert_error(&out, &["missing-dir/out.json"]);
}

#[test]
fn gen_into_a_missing_directory() {
    let dir = Dir::new();
    let out = run(&dir, &["gen", "missing-dir/g.arrow", "--rows", "10", "--quiet"]);
    assert_error(&out, &["missing-dir/g.arrow"]);
}

#[test]
fn bad_flag_values_are_usage_errors() {
    let dir = Dir::new();
    dir.gen_file("g.arrow", 10, 1, 10);
    let cases: &[(&[&str], &str)] = &[
        (&["describe", "g.arrow", "--workers", "0"], "--workers"),
        (&["describe", "g.arrow", "--workers", "many"], "--workers"),
        (&["describe", "g.arrow", "--format", "xml"], "xml"),
        (&["describe", "g.arrow", "--executor", "gpu"], "gpu"),
        (&["describe", "g.arrow", "--chunk-rows", "0"], "--chunk-rows"),
        (&["describe", "g.arrow", "--ddof", "-1"], "-1"),
        (&["describe", "g.arrow", "--no-such-flag"], "--no-such-flag"),
        (&["describe", "g.arrow", "--executor", "gpu", "--workers", "2"], "gpu"),
        (&["describe", "g.arrow", "--chunk-timeout", "0"], "--chunk-timeout"),
        (&["describe", "g.arrow", "--chunk-timeout", "soon"], "--chunk-timeout"),
        (&["schema", "g.arrow", "--format", "xml"], "xml"),
        (&["gen", "x.arrow"], "--rows"),
        (&["gen", "x.arrow", "--rows", "ten"], "--rows"),
        (&["gen", "x.arrow", "--rows", "10", "--batch-rows", "0"], "--batch-rows"),
        (&["frobnicate", "g.arrow"], "frobnicate"),
        (&["describe"], "<PATH>"),
        (&["schema"], "<PATH>"),
        (&["gen", "--rows", "10"], "<PATH>"),
    ];
    for (args, needle) in cases {
        let out = run(&dir, args);
        assert_usage_error(&out, needle);
    }
    assert!(!dir.join("x.arrow").exists(), "a usage error writes nothing");
    // No subcommand at all: usage on stderr, exit 2.
    let out = run(&dir, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", lossy(&out.stderr));
    assert!(lossy(&out.stderr).contains("Usage"));
}

#[test]
fn help_and_version() {
    let dir = Dir::new();
    for args in [&["--help"][..], &["-h"], &["help"]] {
        dir.tally()
            .args(args)
            .assert()
            .code(0)
            .stdout(predicate::str::contains("describe").and(predicate::str::contains("schema")))
            .stdout(predicate::str::contains("gen"));
    }
    for args in [&["describe", "--help"][..], &["help", "describe"]] {
        dir.tally()
            .args(args)
            .assert()
            .code(0)
            .stdout(predicate::str::contains("--columns").and(predicate::str::contains("--chunk-rows")))
            .stdout(predicate::str::contains("--format").and(predicate::str::contains("--ddof")));
    }
    dir.tally().args(["schema", "--help"]).assert().code(0).stdout(predicate::str::contains("--format"));
    dir.tally().args(["gen", "--help"]).assert().code(0).stdout(predicate::str::contains("--seed"));
    let version = format!("tally {}\n", env!("CARGO_PKG_VERSION"));
    for args in [&["--version"][..], &["-V"]] {
        dir.tally().args(args).assert().code(0).stdout(version.clone()).stderr(predicate::str::is_empty());
    }
    // Propagated to subcommands (clap names them `tally-describe`).
    dir.tally()
        .args(["describe", "--version"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(env!("CARGO_PKG_VERSION")));
}

/// A reader that goes away (`tally ... | head -c 10`) ends tally quietly with exit 0: the write end of the
/// pipe is handed over with its read end already closed, so every write fails with EPIPE, reliably
/// (hyperfine's `exits_quietly_when_stdout_is_closed`).
#[test]
fn closed_stdout_exits_quietly() {
    let dir = Dir::new();
    dir.gen_file("g.arrow", 50_000, 1, 10_000);
    let cases: &[&[&str]] = &[
        &["describe", "g.arrow", "--format", "csv"],
        &["describe", "g.arrow", "--format", "json"],
        &["describe", "g.arrow"],
        &["schema", "g.arrow"],
        &["schema", "g.arrow", "--format", "json"],
        &["--help"],
        &["--version"],
    ];
    for args in cases {
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        let out = dir
            .std_tally()
            .args(*args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn tally")
            .wait_with_output()
            .expect("wait for tally");
        let stderr = lossy(&out.stderr);
        assert_no_panic(&out.stderr);
        assert!(out.status.success(), "{args:?} with a closed stdout: {:?}\n{stderr}", out.status);
        assert!(stderr.is_empty(), "{args:?} with a closed stdout printed:\n{stderr}");
    }
}

/// The same, with a reader that takes a few bytes and then leaves, as `head -c 10` does.
#[test]
fn reader_leaving_early_exits_quietly() {
    use std::io::Read;
    let dir = Dir::new();
    // Many columns make a table far larger than a pipe buffer.
    let columns: Vec<(String, arrow_array::ArrayRef)> = (0..2000)
        .map(|i| (format!("column_{i}"), std::sync::Arc::new(arrow_array::Int64Array::from(vec![i, 2 * i])) as _))
        .collect();
    dir.write_arrow("wide.arrow", columns.iter().map(|(n, a)| (n.as_str(), a.clone())).collect());
    for args in [&["describe", "wide.arrow", "--format", "csv"][..], &["schema", "wide.arrow"]] {
        let mut child =
            dir.std_tally().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn tally");
        let mut stdout = child.stdout.take().unwrap();
        let mut head = [0u8; 10];
        stdout.read_exact(&mut head).expect("the first bytes");
        drop(stdout);
        let out = child.wait_with_output().unwrap();
        let stderr = lossy(&out.stderr);
        assert_no_panic(&out.stderr);
        assert!(out.status.success(), "{args:?} after the reader left: {:?}\n{stderr}", out.status);
        assert!(stderr.is_empty(), "{args:?} after the reader left printed:\n{stderr}");
    }
}
