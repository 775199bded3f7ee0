//! The output formats of `tally describe` (JSON layout, CSV, table), `--output FILE` and `--verbose`.

use crate::util;

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, StringArray};
use predicates::prelude::*;
use util::{Dir, STAT_NAMES, assert_no_panic, column, expect_success, lossy, parse_csv};

/// A small file whose statistics are known by hand (six rows, one batch):
/// `x` = [1, 2, null, 3, NaN, 4], `n` = three times i64::MAX and three nulls, `s` = four strings and two
/// nulls, `inf` = [1, inf, -inf, 2, null, 3], and `x,"y"` = 1..=6, a name CSV must quote.
fn known_file(dir: &Dir) -> std::path::PathBuf {
    let x: ArrayRef =
        Arc::new(Float64Array::from(vec![Some(1.0), Some(2.0), None, Some(3.0), Some(f64::NAN), Some(4.0)]));
    let n: ArrayRef =
        Arc::new(Int64Array::from(vec![Some(i64::MAX), Some(i64::MAX), Some(i64::MAX), None, None, None]));
    let s: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), None, Some("b"), Some("c"), None, Some("d")]));
    let inf: ArrayRef = Arc::new(Float64Array::from(vec![
        Some(1.0),
        Some(f64::INFINITY),
        Some(f64::NEG_INFINITY),
        Some(2.0),
        None,
        Some(3.0),
    ]));
    let q: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), Some(2), Some(3), Some(4), Some(5), Some(6)]));
    dir.write_arrow("known.arrow", vec![("x", x), ("n", n), ("s", s), ("inf", inf), ("x,\"y\"", q)])
}

/// The statistics a string column adds to a report, after [`STAT_NAMES`] (README, JSON output).
const LENGTHS: [&str; 3] = ["min_length", "max_length", "mean_length"];

fn sorted_keys(object: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = object.as_object().expect("an object").keys().cloned().collect();
    keys.sort_unstable();
    keys
}

fn sorted(keys: &[&str]) -> Vec<String> {
    let mut keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    keys.sort_unstable();
    keys
}

#[test]
fn json_document_shape() {
    let dir = Dir::new();
    let path = known_file(&dir);
    let raw = lossy(&dir.describe_json_raw("known.arrow", &[]));
    let doc = util::parse_describe_json(&raw);

    // The documented top-level keys, in the documented order as written.
    let expected_top = ["schema_version", "input", "rows", "options", "columns"];
    assert_eq!(sorted_keys(&doc), sorted(&expected_top));
    let positions: Vec<usize> = expected_top.iter().map(|k| raw.find(&format!("\n  \"{k}\":")).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "top-level key order:\n{raw}");

    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["rows"], 6);
    let input = doc["input"].as_object().unwrap();
    assert_eq!(input.len(), 4, "input: {input:?}");
    assert_eq!(input["path"], "known.arrow");
    assert_eq!(input["format"], "arrow-ipc-file");
    assert_eq!(input["bytes"], std::fs::metadata(&path).unwrap().len());
    assert_eq!(input["batches"], 1);
    assert_eq!(doc["options"], serde_json::json!({"ddof": 1, "exact": true, "nulls": "excluded", "nan": "excluded"}));

    let columns = doc["columns"].as_array().unwrap();
    let names: Vec<&str> = columns.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["x", "n", "s", "inf", "x,\"y\""]);
    // The string column adds its length statistics to every column of the report (null elsewhere).
    let mut expected_keys = vec!["name", "type"];
    expected_keys.extend(STAT_NAMES);
    expected_keys.extend(LENGTHS);
    for c in columns {
        assert_eq!(sorted_keys(c), sorted(&expected_keys), "keys of {c}");
    }
    // Each column object lists its keys in the documented order.
    let x_start = raw.find("\"name\": \"x\"").unwrap();
    let positions: Vec<usize> =
        STAT_NAMES.iter().map(|k| x_start + raw[x_start..].find(&format!("\"{k}\":")).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "column key order:\n{raw}");

    let opts = dir.describe_json("known.arrow", &["--ddof", "0", "--exact"]);
    assert_eq!(opts["options"]["ddof"], 0);
    assert_eq!(opts["options"]["exact"], true);
}

/// CSV: a header, then one record per column; absent statistics are empty fields, non-finite floats are
/// `NaN`/`inf`/`-inf`, integers are exact, names with commas or quotes are quoted.
#[test]
fn csv_output() {
    let dir = Dir::new();
    known_file(&dir);
    let out = dir.tally().args(["describe", "known.arrow", "--format", "csv"]).output().unwrap();
    expect_success(&out, "describe --format csv");
    let text = lossy(&out.stdout);
    let rows = parse_csv(&text);
    let mut header = vec!["name".to_string(), "type".to_string()];
    header.extend(STAT_NAMES.iter().chain(&LENGTHS).map(|s| s.to_string()));
    assert_eq!(rows[0], header);
    assert_eq!(rows.len(), 1 + 5, "one record per column:\n{text}");
    assert!(rows.iter().all(|r| r.len() == header.len()), "every record has every field:\n{text}");
    let record = |name: &str| rows.iter().find(|r| r[0] == name).unwrap_or_else(|| panic!("no {name}:\n{text}"));
    let field = |name: &str, stat: &str| {
        let i = header.iter().position(|h| h == stat).unwrap();
        record(name)[i].clone()
    };
    let float = |name: &str, stat: &str| -> f64 {
        let f = field(name, stat);
        f.parse().unwrap_or_else(|e| panic!("{name} {stat} = {f:?}: {e}"))
    };

    assert_eq!(record("x")[1], "Float64");
    assert_eq!(
        (field("x", "count"), field("x", "null_count"), field("x", "nan_count")),
        ("4".into(), "1".into(), "1".into())
    );
    assert_eq!((float("x", "min"), float("x", "max"), float("x", "sum")), (1.0, 4.0, 10.0));
    assert_eq!((float("x", "mean"), float("x", "var")), (2.5, 5.0 / 3.0));
    assert_eq!(float("x", "std"), f64::sqrt(5.0 / 3.0));

    assert_eq!(record("n")[1], "Int64");
    assert_eq!(field("n", "min"), i64::MAX.to_string());
    assert_eq!(field("n", "sum"), (3 * i64::MAX as i128).to_string());
    assert_eq!(field("n", "null_count"), "3");

    assert_eq!(record("s")[1], "Utf8");
    assert_eq!((field("s", "count"), field("s", "null_count")), ("4".into(), "2".into()));
    assert_eq!(
        (field("s", "min"), field("s", "max"), field("s", "mean_length")),
        ("a".into(), "d".into(), "1.0".into())
    );
    for stat in ["sum", "mean", "var", "std", "skewness", "kurtosis"] {
        assert_eq!(field("s", stat), "", "s {stat} is absent");
    }
    assert_eq!(field("x", "min_length"), "", "x has no lengths");

    assert_eq!((field("inf", "min"), field("inf", "max")), ("-inf".into(), "inf".into()));
    assert_eq!((field("inf", "sum"), field("inf", "mean")), ("NaN".into(), "NaN".into()));

    assert_eq!(field("x,\"y\"", "sum"), "21");
    assert!(text.contains("\"x,\"\"y\"\"\",Int64,"), "RFC 4180 quoting of the column name:\n{text}");
}

/// The table: a title line, a header with the statistic names, then one row per column (DuckDB
/// `SUMMARIZE` orientation), fitted to a wide terminal here so every statistic shows.
#[test]
fn table_output() {
    let dir = Dir::new();
    known_file(&dir);
    for args in [&["describe", "known.arrow"][..], &["describe", "known.arrow", "--format", "table"]] {
        let out = dir.tally().args(args).env("COLUMNS", "400").output().unwrap();
        expect_success(&out, "describe --format table");
        let text = lossy(&out.stdout);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].contains("known.arrow") && lines[0].contains("6 rows"), "title:\n{text}");
        let header: Vec<&str> = lines[1].split_whitespace().collect();
        let mut expected = vec!["name", "type"];
        expected.extend(STAT_NAMES);
        expected.extend(LENGTHS);
        assert_eq!(header, expected, "{text}");
        let row = |name: &str| -> Vec<&str> {
            let line =
                lines.iter().find(|l| l.starts_with(&format!("{name} "))).unwrap_or_else(|| panic!("{name}: {text}"));
            line[name.len()..].split_whitespace().collect()
        };
        let stat =
            |name: &str, stat: &str| row(name)[1 + STAT_NAMES.iter().position(|s| *s == stat).unwrap()].to_string();
        assert_eq!(["x", "n", "s", "inf", "x,\"y\""].map(|c| stat(c, "count")), ["4", "3", "4", "5", "6"]);
        assert_eq!(["x", "n", "s", "inf"].map(|c| stat(c, "nan_count")), ["1", "0", "0", "0"]);
        assert_eq!(stat("n", "sum"), (3 * i64::MAX as i128).to_string(), "exact integer sum in the table");
        assert_eq!(stat("s", "mean"), "-", "absent statistic:\n{text}");
        assert_eq!(stat("inf", "max"), "inf");
        assert_eq!(row("n")[0], "Int64");
    }
}

/// `--output FILE` writes the result there and nothing on stdout, in every format.
#[test]
fn output_file_and_quiet_stdout() {
    let dir = Dir::new();
    known_file(&dir);
    for format in ["json", "csv", "table"] {
        let file = format!("out.{format}");
        dir.tally()
            .args(["describe", "known.arrow", "--format", format, "--output", &file])
            .assert()
            .success()
            .stdout(predicate::str::is_empty());
        let written = lossy(&dir.read(&file));
        let stdout = dir.tally().args(["describe", "known.arrow", "--format", format]).output().unwrap();
        assert_eq!(written, lossy(&stdout.stdout), "--output {format} holds what stdout would");
    }
    // The short flag, overwriting an existing file.
    dir.write("out.json", b"old contents that are longer than nothing at all");
    dir.tally().args(["describe", "known.arrow", "--format", "json", "-o", "out.json"]).assert().success();
    let doc: serde_json::Value = serde_json::from_slice(&dir.read("out.json")).unwrap();
    assert_eq!(column(&doc, "x")["count"], 4);
}

/// `--verbose` reports the run on stderr and leaves stdout machine-readable.
#[test]
fn verbose_goes_to_stderr() {
    let dir = Dir::new();
    known_file(&dir);
    for args in [&["--workers", "2", "-v"][..], &["--executor", "serial", "--verbose"]] {
        let out = dir.tally().args(["describe", "known.arrow", "--format", "json"]).args(args).output().unwrap();
        expect_success(&out, "describe -v");
        assert_no_panic(&out.stderr);
        let err = lossy(&out.stderr);
        assert!(err.contains("executor") && err.contains("chunk"), "verbose line:\n{err}");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is still JSON");
        assert_eq!(doc["rows"], 6);
    }
    // Without -v, a clean run prints nothing on stderr.
    dir.tally().args(["describe", "known.arrow"]).assert().success().stderr(predicate::str::is_empty());
}
