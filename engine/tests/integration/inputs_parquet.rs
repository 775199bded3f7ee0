//! Parquet input (issue 11, item 1 and the Parquet half of item 8).
//!
//! 1. Files this test writes with the parquet crate's own `ArrowWriter` (every codec tally reads, nulls,
//!    NaN, several row groups) describe bit-identically to the same batches written as an Arrow IPC file,
//!    and their exact statistics equal brute-force loops over the values the test generated.
//! 2. apache/parquet-testing (`$TALLY_TESTDATA/parquet-testing`, see its `MANIFEST.tsv`): every valid file
//!    loads with the row count pyarrow reported; the integer columns of the files that ship an
//!    `_expect.csv` equal statistics computed here from that CSV; every malformed file is a one-line error
//!    naming the file, within 5 s, never a panic.

use crate::common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::{Array, ArrayRef, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, GzipLevel, ZstdLevel};
use parquet::file::properties::WriterProperties;
use tally_engine::exec::ExecutorKind;
use tally_engine::source::InputFormat;
use tally_engine::stats::{Summary, Value};
use tally_engine::{DescribeOptions, describe, describe_store, source};

fn options(executor: ExecutorKind, workers: usize, chunk_rows: u64) -> DescribeOptions {
    common::options_of(executor, workers, chunk_rows, false, 1)
}

/// The values the round-trip files hold, generated here so the test knows them.
struct Data {
    x: Vec<Option<f64>>,
    k: Vec<i64>,
    m: Vec<Option<i32>>,
    s: Vec<Option<String>>,
}

fn data(rows: usize) -> Data {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut d = Data { x: Vec::new(), k: Vec::new(), m: Vec::new(), s: Vec::new() };
    for i in 0..rows {
        let r = next();
        d.x.push(match r % 50 {
            0 => None,
            1 => Some(f64::NAN),
            _ => Some((r >> 11) as f64 / (1u64 << 40) as f64 - 1000.0),
        });
        d.k.push((r >> 3) as i64 % 1_000_000_007 - 500_000_000);
        d.m.push((!r.is_multiple_of(7)).then_some((r >> 40) as i32 - (1 << 23)));
        d.s.push((!i.is_multiple_of(5)).then(|| format!("s{}", r % 97)));
    }
    d
}

fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("x", DataType::Float64, true),
        Field::new("k", DataType::Int64, false),
        Field::new("m", DataType::Int32, true),
        Field::new("s", DataType::Utf8, true),
    ]))
}

/// The data cut into record batches of `batch_rows` rows.
fn batches(d: &Data, batch_rows: usize) -> Vec<RecordBatch> {
    let rows = d.k.len();
    (0..rows.div_ceil(batch_rows))
        .map(|b| {
            let r = b * batch_rows..((b + 1) * batch_rows).min(rows);
            let columns: Vec<ArrayRef> = vec![
                Arc::new(Float64Array::from(d.x[r.clone()].to_vec())),
                Arc::new(Int64Array::from(d.k[r.clone()].to_vec())),
                Arc::new(Int32Array::from(d.m[r.clone()].to_vec())),
                Arc::new(StringArray::from(d.s[r].to_vec())),
            ];
            RecordBatch::try_new(schema(), columns).unwrap()
        })
        .collect()
}

fn write_parquet(path: &Path, batches: &[RecordBatch], row_group: usize, compression: Compression) {
    let props =
        WriterProperties::builder().set_max_row_group_row_count(Some(row_group)).set_compression(compression).build();
    let mut writer = ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema(), Some(props)).unwrap();
    for b in batches {
        writer.write(b).unwrap();
    }
    writer.close().unwrap();
}

fn write_arrow(path: &Path, batches: &[RecordBatch]) {
    let mut writer = arrow_ipc::writer::FileWriter::try_new(std::fs::File::create(path).unwrap(), &schema()).unwrap();
    for b in batches {
        writer.write(b).unwrap();
    }
    writer.finish().unwrap();
}

/// Every statistic of every column, printed with Debug (shortest round trip: equal text ⇔ equal bits).
fn bits(path: &Path, options: &DescribeOptions) -> Vec<String> {
    let report = describe(path, options).unwrap_or_else(|e| panic!("{e}")).report;
    report.columns.iter().map(|c| format!("{}: {:?}", c.name, c.summary)).collect()
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn parquet_describes_bit_identically_to_arrow_whose_batches_are_its_row_groups() {
    let dir = temp_dir();
    let (rows, group) = (23_456, 5_000);
    let d = data(rows);
    let arrow = dir.path().join("same.arrow");
    write_arrow(&arrow, &batches(&d, group));
    let codecs = [
        ("plain", Compression::UNCOMPRESSED),
        ("snappy", Compression::SNAPPY),
        ("zstd", Compression::ZSTD(ZstdLevel::try_new(3).unwrap())),
        ("gzip", Compression::GZIP(GzipLevel::default())),
        ("lz4raw", Compression::LZ4_RAW),
    ];
    for chunk_rows in [1_000, 4_096, 1 << 20] {
        let reference = bits(&arrow, &options(ExecutorKind::Serial, 1, chunk_rows));
        for (name, codec) in codecs {
            let path = dir.path().join(format!("{name}.parquet"));
            // Written in batches unrelated to the row groups: the writer cuts the row groups.
            write_parquet(&path, &batches(&d, 777), group, codec);
            for (executor, workers) in [(ExecutorKind::Serial, 1), (ExecutorKind::Threads, 3)] {
                let got = bits(&path, &options(executor, workers, chunk_rows));
                assert_eq!(got, reference, "{name}, chunk_rows {chunk_rows}, {executor:?}");
            }
            // Decoded once into a segment (what `convert` and standard input do) instead of chunk by chunk.
            let eager = source::open(&path).unwrap();
            assert_eq!(eager.format(), InputFormat::Parquet);
            let store = eager.into_store(&[0, 1, 2, 3]).unwrap();
            let info = tally_engine::report::InputInfo {
                path: name.into(),
                format: "parquet",
                bytes: 0,
                batches: 0,
                files: Vec::new(),
            };
            let got = describe_store(&store, info, &options(ExecutorKind::Threads, 2, chunk_rows)).unwrap().report;
            let got: Vec<String> = got.columns.iter().map(|c| format!("{}: {:?}", c.name, c.summary)).collect();
            assert_eq!(got, reference, "{name} decoded eagerly, chunk_rows {chunk_rows}");
        }
    }
    let file =
        source::open_for_run(&dir.path().join("zstd.parquet"), &Default::default(), &Default::default()).unwrap();
    assert!(matches!(file, source::Input::Parquet(_)));
    assert_eq!(file.format(), InputFormat::Parquet);
    assert_eq!(InputFormat::Parquet.as_str(), "parquet");
    assert_eq!((file.num_rows(), file.num_batches()), (rows as u64, rows.div_ceil(group)));
    // Projected in another order than the file's: the store follows the projection.
    let store = file.into_store(&[3, 0]).unwrap();
    assert_eq!(store.schema().field(0).name(), "s");
    let pieces: Vec<_> = store.piece_ranges(4_990..5_010).collect();
    assert_eq!(pieces.len(), 2);
    let loaded = store.load(pieces[1]).unwrap();
    let x = loaded.slice(1);
    let x = x.as_any().downcast_ref::<Float64Array>().unwrap();
    assert_eq!(x.len(), 10);
    for (i, want) in d.x[5_000..5_010].iter().enumerate() {
        assert_eq!(x.is_null(i), want.is_none());
        if let Some(w) = want {
            assert_eq!(x.value(i).to_bits(), w.to_bits());
        }
    }
}

#[test]
fn parquet_statistics_equal_brute_force_over_the_written_values() {
    let dir = temp_dir();
    let d = data(10_001);
    let path = dir.path().join("x.parquet");
    write_parquet(&path, &batches(&d, 4_000), 3_000, Compression::SNAPPY);
    let report = describe(&path, &options(ExecutorKind::Threads, 2, 2_048)).unwrap().report;
    let col = |name: &str| &report.columns.iter().find(|c| c.name == name).unwrap().summary;
    let ints = |xs: &[Option<i128>], s: &Summary| {
        let valid: Vec<i128> = xs.iter().flatten().copied().collect();
        assert_eq!(s.count, valid.len() as u64);
        assert_eq!(s.null_count, (xs.len() - valid.len()) as u64);
        assert_eq!(s.min, valid.iter().min().map(|&v| Value::Int(v)));
        assert_eq!(s.max, valid.iter().max().map(|&v| Value::Int(v)));
        assert_eq!(s.sum, Some(Value::Int(valid.iter().sum())));
    };
    ints(&d.k.iter().map(|&v| Some(v as i128)).collect::<Vec<_>>(), col("k"));
    ints(&d.m.iter().map(|v| v.map(i128::from)).collect::<Vec<_>>(), col("m"));
    let x = col("x");
    let finite: Vec<f64> = d.x.iter().flatten().copied().filter(|v| !v.is_nan()).collect();
    assert_eq!(x.null_count, d.x.iter().filter(|v| v.is_none()).count() as u64);
    assert_eq!(x.nan_count, d.x.iter().flatten().filter(|v| v.is_nan()).count() as u64);
    assert_eq!(x.min, Some(Value::Float(finite.iter().copied().fold(f64::INFINITY, f64::min))));
    assert_eq!(x.max, Some(Value::Float(finite.iter().copied().fold(f64::NEG_INFINITY, f64::max))));
    let exact = common::exact_moments(&finite, 1);
    assert!(common::ulps(x.mean.unwrap(), exact.mean) <= 1.0, "{:?} vs {}", x.mean, exact.mean);
    let s = col("s");
    assert_eq!((s.count, s.null_count), (8_000, 2_001));
}

#[test]
fn parquet_errors_name_the_file_and_what_is_wrong() {
    let dir = temp_dir();
    let path = dir.path().join("cut.parquet");
    let d = data(2_000);
    write_parquet(&path, &batches(&d, 2_000), 1_000, Compression::SNAPPY);
    let bytes = std::fs::read(&path).unwrap();
    // Truncated: the footer (at the end) is gone.
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let e = source::open(&path).unwrap_err().to_string();
    assert!(e.starts_with(&path.display().to_string()) && e.contains("malformed Parquet file"), "{e}");
    // Data pages overwritten: the footer is fine, a row group is not.
    let mut broken = bytes.clone();
    broken[8..400].iter_mut().for_each(|b| *b = 0xA5);
    std::fs::write(&path, &broken).unwrap();
    let e = source::open(&path).unwrap_err().to_string();
    assert!(e.contains("malformed Parquet row group 0"), "{e}");
    // Decoded chunk by chunk, the same damage fails a chunk that meets it, naming it: both chunks of row
    // group 0 do, and with two threads either may fail first (seen in CI: chunk 1). One thread meets chunk 0.
    let e = describe(&path, &options(ExecutorKind::Threads, 2, 500)).unwrap_err().to_string();
    let named = e.contains("chunk 0 (rows 0..500)") || e.contains("chunk 1 (rows 500..1000)");
    assert!(named && e.contains("malformed Parquet row group 0"), "{e}");
    let e = describe(&path, &options(ExecutorKind::Serial, 1, 500)).unwrap_err().to_string();
    assert!(e.contains("chunk 0 (rows 0..500)") && e.contains("malformed Parquet row group 0"), "{e}");
}

// ---- apache/parquet-testing ----

fn parquet_testing() -> Option<PathBuf> {
    let Some(root) = common::testdata_dir() else {
        assert!(std::env::var_os("CI").is_none(), "CI is set but TALLY_TESTDATA is not (.ci/run sets it)");
        println!("note: TALLY_TESTDATA is not set; skipping the parquet-testing tests");
        return None;
    };
    let dir = root.join("parquet-testing");
    assert!(dir.join("MANIFEST.tsv").is_file(), "TALLY_TESTDATA is set but {} has no MANIFEST.tsv", dir.display());
    Some(dir)
}

/// `(path, kind, expect, pyarrow's result)` for every row of `MANIFEST.tsv`.
fn manifest(dir: &Path) -> Vec<(String, String, String, String)> {
    let text = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            (f[0].into(), f[3].into(), f[4].into(), f.get(5).copied().unwrap_or("").into())
        })
        .collect()
}

/// Valid files arrow-rs 60 cannot read, with the reason; each must still be a clean error.
const ARROW_RS_CANNOT: &[(&str, &str)] = &[(
    "dict-page-offset-zero.parquet",
    "its footer's thrift encoding is refused by arrow-rs's metadata decoder (\"Expected list element type\")",
)];

/// Describes `path` on its own thread, at most `limit`; the outcome (rows, or the error) and the time.
fn describe_within(path: &Path, limit: Duration) -> (Result<u64, String>, Duration) {
    let (tx, rx) = std::sync::mpsc::channel();
    let p = path.to_path_buf();
    let start = Instant::now();
    std::thread::spawn(move || {
        // Chunks of 64Ki rows: a chunk inside a row group of a file without an offset index decodes the rows
        // before it (overflow_i16_page_cnt.parquet has 40,000 one-row pages in one row group).
        let outcome = std::panic::catch_unwind(|| describe(&p, &options(ExecutorKind::Threads, 2, 1 << 16)));
        let _ = tx.send(match outcome {
            Ok(Ok(d)) => Ok(d.report.rows),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("PANIC".into()),
        });
    });
    let outcome =
        rx.recv_timeout(limit).unwrap_or_else(|_| panic!("{}: still running after {limit:?}", path.display()));
    (outcome, start.elapsed())
}

#[test]
fn every_parquet_testing_file_loads_as_pyarrow_does_or_is_refused_cleanly() {
    let Some(dir) = parquet_testing() else { return };
    let (mut loaded, mut refused, mut problems) = (0, 0, Vec::new());
    for (rel, kind, expect, pyarrow) in manifest(&dir) {
        if matches!(kind.as_str(), "doc" | "reference-csv") {
            continue;
        }
        let path = dir.join(&rel);
        let (outcome, took) = describe_within(&path, Duration::from_secs(5));
        let pyarrow_rows = pyarrow.strip_prefix("ok rows=").and_then(|r| r.split(' ').next()?.parse::<u64>().ok());
        match &outcome {
            Ok(_) => loaded += 1,
            Err(e) => {
                refused += 1;
                if e.contains('\n') || !e.contains(&path.display().to_string()) || e.contains("PANIC") {
                    problems.push(format!("{rel}: not a one-line error naming the file: {e:?}"));
                }
            }
        }
        let known = ARROW_RS_CANNOT.iter().find(|(f, _)| *f == rel);
        match (kind.as_str(), expect.as_str(), &outcome) {
            (_, _, Err(_)) if known.is_some() => {}
            ("valid", _, Ok(rows)) if Some(*rows) != pyarrow_rows => {
                problems.push(format!("{rel}: {rows} rows, pyarrow read {pyarrow:?}"))
            }
            ("valid", _, Err(e)) => problems.push(format!("{rel}: valid but refused: {e}")),
            (_, "error", Ok(rows)) | ("encrypted", _, Ok(rows)) => {
                problems.push(format!("{rel}: malformed but described ({rows} rows)"))
            }
            _ => {}
        }
        if took > Duration::from_secs(5) {
            problems.push(format!("{rel}: took {took:?}"));
        }
    }
    println!("parquet-testing: {loaded} loaded, {refused} refused");
    assert!(
        loaded >= 30 && refused >= 7,
        "expected the whole parquet-testing folder ({loaded} loaded, {refused} refused)"
    );
    assert!(problems.is_empty(), "{} files misbehaved:\n{}", problems.len(), problems.join("\n"));
}

/// Integer statistics of one CSV column: `(count, nulls, min, max, sum)`; an empty field is a null.
fn csv_column(rows: &[Vec<String>], c: usize) -> Option<(u64, u64, i128, i128, i128)> {
    let mut out = (0u64, 0u64, i128::MAX, i128::MIN, 0i128);
    for row in rows {
        let field = row[c].trim_matches('"');
        if field.is_empty() {
            out.1 += 1;
            continue;
        }
        let v: i128 = field.parse().ok()?;
        out = (out.0 + 1, out.1, out.2.min(v), out.3.max(v), out.4 + v);
    }
    Some(out)
}

#[test]
fn parquet_testing_integer_columns_equal_their_expect_csv() {
    let Some(dir) = parquet_testing() else { return };
    let mut checked = 0;
    for stem in ["delta_binary_packed", "delta_encoding_optional_column"] {
        let text = std::fs::read_to_string(dir.join(format!("{stem}_expect.csv"))).unwrap();
        let mut lines = text.lines();
        let header: Vec<String> = lines.next().unwrap().split(',').map(|h| h.trim_matches('"').to_string()).collect();
        let rows: Vec<Vec<String>> = lines.map(|l| l.split(',').map(str::to_string).collect()).collect();
        let path = dir.join(format!("{stem}.parquet"));
        let report = describe(&path, &options(ExecutorKind::Threads, 2, 64)).unwrap().report;
        assert_eq!(report.rows, rows.len() as u64, "{stem}");
        for (c, name) in header.iter().enumerate() {
            let Some((count, nulls, min, max, sum)) = csv_column(&rows, c) else { continue };
            let s = &report.columns.iter().find(|r| r.name.trim() == name.trim()).unwrap().summary;
            assert_eq!((s.count, s.null_count), (count, nulls), "{stem}.{name}");
            if count > 0 {
                let expected = (Some(Value::Int(min)), Some(Value::Int(max)), Some(Value::Int(sum)));
                assert_eq!((s.min, s.max, s.sum), expected, "{stem}.{name}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 70, "checked only {checked} columns");
}

/// arrow-testing's Parquet files (its `parquet/fuzzing/` holds ~130 clusterfuzz reproducers): each is
/// described or refused with a one-line error naming it, within 5 s, decoded chunk by chunk.
#[test]
fn arrow_testing_parquet_fuzz_files_are_refused_within_five_seconds() {
    let Some(root) = parquet_testing().and_then(|d| d.parent().map(|p| p.join("arrow-testing"))) else { return };
    let text = std::fs::read_to_string(root.join("MANIFEST.tsv")).unwrap();
    let (mut refused, mut problems) = (0, Vec::new());
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        if !f[0].starts_with("parquet/") || f[3] == "doc" {
            continue;
        }
        let path = root.join(f[0]);
        let (outcome, took) = describe_within(&path, Duration::from_secs(5));
        match outcome {
            Err(e) if e == "PANIC" || e.contains('\n') || !e.contains(&path.display().to_string()) => {
                problems.push(format!("{}: {e:?}", f[0]))
            }
            Err(_) => refused += 1,
            Ok(rows) if f[4] == "error" => problems.push(format!("{}: malformed but described ({rows} rows)", f[0])),
            Ok(_) => {}
        }
        if took > Duration::from_secs(5) {
            problems.push(format!("{}: took {took:?}", f[0]));
        }
    }
    assert!(refused >= 100, "only {refused} arrow-testing Parquet files refused");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
