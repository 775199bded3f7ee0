//! Shared helpers of the CLI integration tests: a scratch directory per test, a `tally` command builder,
//! writers for generated and hand-made Arrow files, and readers for the JSON and CSV outputs.
//!
//! Every test runs the built binary (ripgrep `tests/util.rs`, hyperfine `tests/integration_tests.rs`), so
//! these tests see exactly what a user sees: arguments, stdout, stderr and exit codes. Expected values are
//! computed here by hand or by brute force in the test, never by asking tally.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
use arrow_ipc::writer::FileWriter;
use arrow_schema::{Field, Schema};
use serde_json::Value;

/// A scratch directory removed when the test ends; the binary runs with it as its working directory, so
/// tests pass relative file names and the paths tally prints are short and predictable.
pub(crate) struct Dir {
    tmp: tempfile::TempDir,
}

impl Dir {
    pub(crate) fn new() -> Dir {
        Dir { tmp: tempfile::Builder::new().prefix("tally-cli-test-").tempdir().expect("create a temp dir") }
    }

    pub(crate) fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// The absolute path of `name` inside the directory.
    pub(crate) fn join(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// `tally` with this directory as its working directory.
    pub(crate) fn tally(&self) -> assert_cmd::Command {
        let mut cmd = tally();
        cmd.current_dir(self.path());
        cmd
    }

    /// Same, as a plain `std::process::Command` (for custom stdio such as a closed pipe).
    pub(crate) fn std_tally(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(bin_path());
        cmd.current_dir(self.path());
        cmd
    }

    pub(crate) fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.join(name);
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        path
    }

    pub(crate) fn read(&self, name: &str) -> Vec<u8> {
        let path = self.join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// `tally gen NAME --rows ROWS --seed SEED --batch-rows BATCH --quiet`, asserting success.
    pub(crate) fn gen_file(&self, name: &str, rows: u64, seed: u64, batch_rows: u64) -> PathBuf {
        let out = self
            .tally()
            .args(["gen", name, "--quiet"])
            .args(["--rows", &rows.to_string(), "--seed", &seed.to_string()])
            .args(["--batch-rows", &batch_rows.to_string()])
            .output()
            .expect("run tally gen");
        expect_success(&out, "tally gen");
        self.join(name)
    }

    /// Writes one record batch with the given columns (name, array) as an Arrow IPC file. Every field is
    /// nullable, so arrays with nulls and without fit.
    pub(crate) fn write_arrow(&self, name: &str, columns: Vec<(&str, ArrayRef)>) -> PathBuf {
        let batch = batch_of(columns);
        self.write_batches(name, &[batch])
    }

    /// Writes record batches that share one schema as an Arrow IPC file.
    pub(crate) fn write_batches(&self, name: &str, batches: &[RecordBatch]) -> PathBuf {
        let schema = batches.first().expect("at least one batch").schema();
        self.write_schema_and_batches(name, schema.as_ref(), batches)
    }

    /// Writes an Arrow IPC file with `schema` and `batches` (possibly none).
    pub(crate) fn write_schema_and_batches(&self, name: &str, schema: &Schema, batches: &[RecordBatch]) -> PathBuf {
        let path = self.join(name);
        let file = std::fs::File::create(&path).expect("create arrow file");
        let mut writer = FileWriter::try_new(file, schema).expect("arrow writer");
        for batch in batches {
            writer.write(batch).expect("write batch");
        }
        writer.finish().expect("finish arrow file");
        path
    }

    /// `tally describe NAME --format json ARGS...`, asserting success, parsed.
    pub(crate) fn describe_json(&self, name: &str, args: &[&str]) -> Value {
        let out = self.describe_json_raw(name, args);
        parse_describe_json(&lossy(&out))
    }

    /// The raw stdout of `tally describe NAME --format json ARGS...`, asserting success.
    pub(crate) fn describe_json_raw(&self, name: &str, args: &[&str]) -> Vec<u8> {
        let out =
            self.tally().args(["describe", name, "--format", "json"]).args(args).output().expect("run tally describe");
        expect_success(&out, "tally describe");
        out.stdout
    }
}

/// Parses describe JSON, then re-reads every float statistic from its text with `str::parse`, which rounds
/// correctly: serde_json without its `float_roundtrip` feature may parse a float one ulp off (it reads
/// `4000000000000010.0` as `4000000000000009.5`), and these tests compare floats bit for bit.
pub(crate) fn parse_describe_json(raw: &str) -> Value {
    let mut doc: Value =
        serde_json::from_str(raw).unwrap_or_else(|e| panic!("describe output is not JSON ({e}):\n{raw}"));
    let mut at = raw.find("\"columns\"").expect("a columns key");
    for col in doc["columns"].as_array_mut().expect("columns is an array") {
        at += raw[at..].find("\"name\": ").expect("each column has a name");
        let end = raw[at..].find('}').map_or(raw.len(), |e| at + e);
        let block = &raw[at..end];
        for stat in STAT_NAMES {
            if !col[stat].is_f64() {
                continue;
            }
            let key = format!("\"{stat}\": ");
            let start = block.find(&key).expect("the statistic's key") + key.len();
            let text = block[start..].split([',', '\n']).next().unwrap().trim();
            let exact: f64 = text.parse().unwrap_or_else(|e| panic!("{stat} = {text:?}: {e}"));
            col[stat] = Value::Number(serde_json::Number::from_f64(exact).expect("finite"));
        }
        at = end;
    }
    doc
}

/// A Float64 array from optional values (None is null).
pub(crate) fn f64s(values: &[Option<f64>]) -> ArrayRef {
    Arc::new(Float64Array::from(values.to_vec()))
}

/// An Int64 array from optional values (None is null).
pub(crate) fn i64s(values: &[Option<i64>]) -> ArrayRef {
    Arc::new(Int64Array::from(values.to_vec()))
}

/// One record batch from named columns, every field nullable.
pub(crate) fn batch_of(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = columns.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect();
    let arrays: Vec<ArrayRef> = columns.into_iter().map(|(_, a)| a).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("valid batch")
}

/// The `tally` binary built by cargo for this test run.
pub(crate) fn tally() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("tally").expect("the tally binary is built")
}

pub(crate) fn bin_path() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tally"))
}

pub(crate) fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Panics with the full output unless the command exited 0.
pub(crate) fn expect_success(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed with {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        lossy(&out.stdout),
        lossy(&out.stderr)
    );
}

/// A run must never print a Rust panic, whatever it did.
pub(crate) fn assert_no_panic(stderr: &[u8]) {
    let text = lossy(stderr);
    assert!(!text.contains("panicked") && !text.contains("RUST_BACKTRACE"), "tally panicked:\n{text}");
}

/// The column named `name` of a describe JSON document.
pub(crate) fn column<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["columns"]
        .as_array()
        .expect("columns is an array")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no column {name:?} in\n{doc:#}"))
}

/// Reads a JSON float statistic: a number, or one of the strings "NaN", "inf", "-inf".
pub(crate) fn json_f64(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().expect("a number"),
        Value::String(s) if s == "NaN" => f64::NAN,
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        other => panic!("expected a float statistic, got {other}"),
    }
}

/// Asserts that statistic `stat` of column `col` is exactly `expected` (bit for bit; NaN matches NaN, and
/// non-finite values must be spelled as the strings "NaN", "inf", "-inf").
#[track_caller]
pub(crate) fn assert_stat_f64(col: &Value, stat: &str, expected: f64) {
    let v = &col[stat];
    if !expected.is_finite() {
        let spelled = if expected.is_nan() {
            "NaN"
        } else if expected > 0.0 {
            "inf"
        } else {
            "-inf"
        };
        assert_eq!(v, spelled, "{} {stat}: expected the string {spelled:?}, got {v}", col["name"]);
        return;
    }
    assert!(v.is_number(), "{} {stat}: expected the number {expected:?}, got {v}", col["name"]);
    let got = json_f64(v);
    assert!(got == expected, "{} {stat}: expected {expected:?}, got {got:?}", col["name"]);
}

/// Asserts that statistic `stat` is a number within `tol` (absolute) of `expected`.
#[track_caller]
pub(crate) fn assert_stat_near(col: &Value, stat: &str, expected: f64, tol: f64) {
    let v = &col[stat];
    assert!(v.is_number(), "{} {stat}: expected a number near {expected}, got {v}", col["name"]);
    let got = json_f64(v);
    assert!((got - expected).abs() <= tol, "{} {stat}: expected {expected} ± {tol}, got {got}", col["name"]);
}

/// Asserts that each of `stats` is JSON `null`.
#[track_caller]
pub(crate) fn assert_null(col: &Value, stats: &[&str]) {
    for stat in stats {
        assert!(col[*stat].is_null(), "{} {stat}: expected null, got {}", col["name"], col[*stat]);
    }
}

/// Asserts that each (statistic, value) pair is that exact JSON unsigned integer.
#[track_caller]
pub(crate) fn assert_u64s(col: &Value, stats: &[(&str, u64)]) {
    for (stat, expected) in stats {
        assert_eq!(col[*stat].as_u64(), Some(*expected), "{} {stat}: got {}", col["name"], col[*stat]);
    }
}

/// Asserts that statistic `stat` is written as the exact JSON integer `expected` (any size: the raw text
/// of the document is searched, so values beyond u64 and i64 are checked digit for digit).
#[track_caller]
pub(crate) fn assert_raw_int(raw: &str, column: &str, stat: &str, expected: i128) {
    let block = raw_column_block(raw, column);
    let needle = format!("\"{stat}\": {expected},");
    assert!(block.contains(&needle), "column {column:?}: expected `{needle}` in\n{block}");
}

/// The text of one column's object in pretty-printed describe JSON.
fn raw_column_block<'a>(raw: &'a str, column: &str) -> &'a str {
    let key = format!("\"name\": {},", serde_json::to_string(column).unwrap());
    let start = raw.find(&key).unwrap_or_else(|| panic!("no column {column:?} in\n{raw}"));
    let end = raw[start..].find('}').map_or(raw.len(), |e| start + e);
    &raw[start..end]
}

/// Parses RFC 4180 CSV (quoted fields may hold commas, quotes and newlines) into rows of fields.
pub(crate) fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(!quoted, "unterminated quoted CSV field");
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// The statistic names in output order, as documented for every format.
pub(crate) const STAT_NAMES: [&str; 11] =
    ["count", "null_count", "nan_count", "min", "max", "sum", "mean", "var", "std", "skewness", "kurtosis"];

/// Pids of the live children of `parent` (from /proc), i.e. its worker processes.
pub(crate) fn children(parent: u32) -> Vec<u32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else { continue };
        let ppid = status.lines().find_map(|l| l.strip_prefix("PPid:")).map(|v| v.trim().parse::<u32>());
        let zombie = status.lines().any(|l| l.starts_with("State:") && l.contains('Z'));
        if ppid == Some(Ok(parent)) && !zombie {
            pids.push(pid);
        }
    }
    pids
}

pub(crate) fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map(|s| !s.lines().any(|l| l.starts_with("State:") && l.contains('Z')))
        .unwrap_or(false)
}
