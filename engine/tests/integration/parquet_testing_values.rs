//! apache/parquet-testing's valid files, value by value (issue 11, item 8): every top-level column is
//! decoded here a second, independent way, through the parquet crate's row API (`get_row_iter`: page
//! decoding into `Field`s, not the Arrow reader tally uses), and tally's statistics must equal brute force
//! over those values:
//! - booleans and integers: count, null count, minimum, maximum, sum;
//! - floats: NaN count, minimum, maximum; strings: bytewise minimum and maximum;
//! - decimals: minimum, maximum, sum and the half-even rounded mean as decimal text at the column's scale;
//! - dates, times and timestamps: minimum and maximum, converted from tally's unit to the row API's (which
//!   reads INT96 as milliseconds from days and nanoseconds, without tally's 64-bit-nanosecond range).
//!
//! Nested columns (groups, lists, maps) must be skipped by describe, not described.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use tally_engine::exec::ExecutorKind;
use tally_engine::stats::{Extra, Summary, Value};
use tally_engine::{DescribeOptions, RunOptions, describe};

/// One column's values as the row API gives them, kept when every non-null one is of one plain kind.
#[derive(Default)]
struct Column {
    ints: Vec<i128>,
    floats: Vec<f64>,
    strings: Vec<String>,
    /// Unscaled decimal values and their scale.
    decimals: Vec<i128>,
    scale: u32,
    /// Dates (days), times and timestamps, with the row API's units per second (0 for days).
    times: Vec<i64>,
    per_second: i64,
    nested: bool,
    nulls: u64,
    /// A value of a kind this test does not compare (dates, decimals, groups, ...).
    other: bool,
}

fn read_rows(path: &Path) -> Result<(u64, BTreeMap<String, Column>), String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let reader = SerializedFileReader::new(file).map_err(|e| e.to_string())?;
    let mut columns: BTreeMap<String, Column> = BTreeMap::new();
    let mut rows = 0;
    for row in reader.get_row_iter(None).map_err(|e| e.to_string())? {
        let row = row.map_err(|e| e.to_string())?;
        rows += 1;
        for (name, field) in row.get_column_iter() {
            let c = columns.entry(name.clone()).or_default();
            match field {
                Field::Null => c.nulls += 1,
                Field::Bool(b) => c.ints.push(i128::from(*b)),
                Field::Byte(v) => c.ints.push((*v).into()),
                Field::Short(v) => c.ints.push((*v).into()),
                Field::Int(v) => c.ints.push((*v).into()),
                Field::Long(v) => c.ints.push((*v).into()),
                Field::UByte(v) => c.ints.push((*v).into()),
                Field::UShort(v) => c.ints.push((*v).into()),
                Field::UInt(v) => c.ints.push((*v).into()),
                Field::ULong(v) => c.ints.push((*v).into()),
                Field::Float(v) => c.floats.push((*v).into()),
                Field::Double(v) => c.floats.push(*v),
                Field::Str(s) => c.strings.push(s.clone()),
                Field::Decimal(d) => match unscaled(d.data()) {
                    Some(v) => {
                        c.decimals.push(v);
                        c.scale = d.scale() as u32;
                    }
                    None => c.other = true,
                },
                Field::Date(v) => c.time(i64::from(*v), 0),
                Field::TimeMillis(v) => c.time(i64::from(*v), 1_000),
                Field::TimeMicros(v) => c.time(*v, 1_000_000),
                Field::TimestampMillis(v) => c.time(*v, 1_000),
                Field::TimestampMicros(v) => c.time(*v, 1_000_000),
                Field::Group(_) | Field::ListInternal(_) | Field::MapInternal(_) => c.nested = true,
                _ => c.other = true,
            }
        }
    }
    Ok((rows, columns))
}

impl Column {
    fn time(&mut self, v: i64, per_second: i64) {
        if !self.times.is_empty() && self.per_second != per_second {
            self.other = true;
        }
        self.times.push(v);
        self.per_second = per_second;
    }
}

/// A big-endian two's-complement decimal as an integer (`None` past 16 bytes).
fn unscaled(bytes: &[u8]) -> Option<i128> {
    if bytes.is_empty() || bytes.len() > 16 {
        return None;
    }
    let fill = if bytes[0] & 0x80 != 0 { 0xff } else { 0 };
    let mut wide = [fill; 16];
    wide[16 - bytes.len()..].copy_from_slice(bytes);
    Some(i128::from_be_bytes(wide))
}

/// `v` × 10^-scale as decimal text: `-12.50` for (-1250, 2).
fn decimal_text(v: i128, scale: u32) -> String {
    let digits = format!("{:0>width$}", v.unsigned_abs(), width = scale as usize + 1);
    let (whole, fraction) = digits.split_at(digits.len() - scale as usize);
    let sign = if v < 0 { "-" } else { "" };
    if scale == 0 { format!("{sign}{whole}") } else { format!("{sign}{whole}.{fraction}") }
}

/// `sum / n` rounded to an integer, ties to even.
fn half_even(sum: i128, n: i128) -> i128 {
    let (q, r) = (sum.div_euclid(n), sum.rem_euclid(n));
    match (2 * r).cmp(&n) {
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal if q % 2 != 0 => q + 1,
        _ => q,
    }
}

/// Units per second of an Arrow temporal type as Arrow prints it (`Timestamp(µs, "UTC")`, `Time32(ms)`);
/// 0 for `Date32` (days); `None` for anything else.
fn arrow_per_second(type_name: &str) -> Option<i64> {
    if type_name == "Date32" {
        return Some(0);
    }
    let unit = type_name.split_once('(')?.1.split([',', ')']).next()?;
    match (type_name.starts_with("Timestamp") || type_name.starts_with("Time"), unit) {
        (true, "s") => Some(1),
        (true, "ms") => Some(1_000),
        (true, "µs") => Some(1_000_000),
        (true, "ns") => Some(1_000_000_000),
        _ => None,
    }
}

/// Compares one column; `None` when it is not of a compared kind. Returns the problems found.
fn compare(name: &str, c: &Column, s: &Summary, type_name: &str) -> Option<Vec<String>> {
    let kinds =
        [!c.ints.is_empty(), !c.floats.is_empty(), !c.strings.is_empty(), !c.decimals.is_empty(), !c.times.is_empty()];
    if c.other || c.nested || kinds.iter().filter(|k| **k).count() > 1 {
        return None;
    }
    let mut problems = Vec::new();
    let mut check = |what: &str, ok: bool, detail: String| {
        if !ok {
            problems.push(format!("{name}: {what}: {detail}"));
        }
    };
    let valid = (c.ints.len() + c.floats.len() + c.strings.len() + c.decimals.len() + c.times.len()) as u64;
    check("counts", (s.count + s.nan_count, s.null_count) == (valid, c.nulls), format!("{s:?}"));
    if !c.ints.is_empty() {
        let (min, max, sum) = (c.ints.iter().min(), c.ints.iter().max(), c.ints.iter().sum::<i128>());
        let want = (min.map(|&v| Value::Int(v)), max.map(|&v| Value::Int(v)), Some(Value::Int(sum)));
        check("min, max, sum", (s.min, s.max, s.sum) == want, format!("{:?} vs {want:?}", (s.min, s.max, s.sum)));
    } else if !c.floats.is_empty() {
        let finite: Vec<f64> = c.floats.iter().copied().filter(|x| !x.is_nan()).collect();
        let nan = (c.floats.len() - finite.len()) as u64;
        let min = finite.iter().copied().reduce(f64::min).map(Value::Float);
        let max = finite.iter().copied().reduce(f64::max).map(Value::Float);
        check("nan, min, max", (s.nan_count, s.min, s.max) == (nan, min, max), format!("{s:?}"));
    } else if !c.strings.is_empty() {
        let text = |n: &str| match s.extra(n) {
            Some(Extra::Text(t)) => Some(t.clone()),
            _ => None,
        };
        let want = (c.strings.iter().min().cloned(), c.strings.iter().max().cloned());
        check("min, max", (text("min"), text("max")) == want, format!("{:?} vs {want:?}", (text("min"), text("max"))));
    } else if !c.decimals.is_empty() {
        let text = |n: &str| match s.extra(n) {
            Some(Extra::Text(t)) => Some(t.clone()),
            _ => None,
        };
        let sum = c.decimals.iter().try_fold(0i128, |a, &v| a.checked_add(v))?;
        let (min, max) = (c.decimals.iter().min()?, c.decimals.iter().max()?);
        let mean = half_even(sum, c.decimals.len() as i128);
        let want = [*min, *max, sum, mean].map(|v| Some(decimal_text(v, c.scale)));
        let got = ["min", "max", "sum", "mean_decimal"].map(text);
        check("decimal min, max, sum, mean", got == want, format!("{got:?} vs {want:?}"));
    } else if !c.times.is_empty() {
        let Some(unit) = arrow_per_second(type_name) else {
            problems.push(format!("{name}: temporal values read as {type_name}"));
            return Some(problems);
        };
        // tally's value in the row API's unit: days stay days; a finer unit is floored to the coarser one.
        let convert = |v: Option<Value>| match (v, unit, c.per_second) {
            (Some(Value::Int(v)), 0, 0) => Some(v),
            (Some(Value::Int(v)), u, r) if u > 0 && r > 0 && u >= r => Some(v.div_euclid(i128::from(u / r))),
            (Some(Value::Int(v)), u, r) if u > 0 && r > 0 => Some(v * i128::from(r / u)),
            _ => None,
        };
        let want = (c.times.iter().min().map(|&v| i128::from(v)), c.times.iter().max().map(|&v| i128::from(v)));
        let got = (convert(s.min), convert(s.max));
        check("temporal min, max", got == want, format!("{type_name}: {got:?} vs {want:?} per {}", c.per_second));
    }
    Some(problems)
}

/// Spark's INT96 file: its largest value (year 290000) overflowed Spark's own 64-bit microsecond
/// arithmetic when written, so its stored day number is far in the past, and Spark (and tally, reading
/// INT96 as microseconds with the same 64-bit arithmetic) reads the year back. The row API computes
/// milliseconds from the stored day without wrapping, a different answer; the file's README lists the
/// values Spark wrote, which are the reference here.
const SPARK_INT96: &str = "int96_from_spark.parquet";

fn check_spark_int96(dir: &Path, s: &Summary) -> Vec<String> {
    let readme = std::fs::read_to_string(dir.join("int96_from_spark.md")).expect("int96_from_spark.md");
    let listed = readme.split("they correspond to:\n```\n").nth(1).and_then(|t| t.lines().next()).expect("the list");
    let values: Vec<i128> = listed.split(", ").filter(|v| *v != "null").map(|v| v.parse().expect("a number")).collect();
    let nulls = listed.split(", ").filter(|v| *v == "null").count() as u64;
    let want = (values.len() as u64, nulls, values.iter().min().copied(), values.iter().max().copied());
    let got = (s.count, s.null_count, s.min.map(int), s.max.map(int));
    if got == want { vec![] } else { vec![format!("{SPARK_INT96}: {got:?}, its README lists {want:?}")] }
}

fn int(v: Value) -> i128 {
    match v {
        Value::Int(i) => i,
        Value::Float(f) => panic!("a float {f} for a timestamp"),
    }
}

fn kind_of(c: &Column) -> &'static str {
    if !c.ints.is_empty() {
        "integer"
    } else if !c.floats.is_empty() {
        "float"
    } else if !c.strings.is_empty() {
        "string"
    } else if !c.decimals.is_empty() {
        "decimal"
    } else if !c.times.is_empty() {
        "temporal"
    } else {
        "empty"
    }
}

#[test]
fn parquet_testing_plain_columns_equal_an_independent_row_decoding() {
    let Some(root) = common::testdata_dir() else { return };
    let dir = root.join("parquet-testing");
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("parquet-testing/MANIFEST.tsv");
    let (mut files, mut compared, mut nested, mut problems) = (0, 0, 0, Vec::new());
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    let run = RunOptions { executor: ExecutorKind::Threads, workers: 2, chunk_rows: Some(97), ..RunOptions::default() };
    let options = DescribeOptions { run, ..DescribeOptions::default() };
    for line in manifest.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        if f.get(3) != Some(&"valid") {
            continue;
        }
        let path = dir.join(f[0]);
        let Ok((rows, columns)) = read_rows(&path) else { continue }; // the row API cannot read it: no second opinion
        let Ok(described) = describe(&path, &options) else { continue }; // refusals: inputs_parquet.rs
        files += 1;
        if described.report.rows != rows {
            problems.push(format!("{}: {} rows, the row API read {rows}", f[0], described.report.rows));
        }
        for (name, column) in &columns {
            let report = described.report.columns.iter().find(|c| &c.name == name);
            if column.nested {
                if report.is_some() {
                    problems.push(format!("{} {name}: a nested column was described, not skipped", f[0]));
                }
                nested += 1;
                continue;
            }
            let Some(report) = report else { continue };
            if f[0] == SPARK_INT96 {
                problems.extend(check_spark_int96(&dir, &report.summary));
                *kinds.entry("int96 (documented values)").or_default() += 1;
                continue;
            }
            if let Some(found) = compare(&format!("{} {name}", f[0]), column, &report.summary, &report.type_name) {
                compared += 1;
                *kinds.entry(kind_of(column)).or_default() += 1;
                problems.extend(found);
            }
        }
    }
    println!(
        "parquet-testing: {compared} columns of {files} files compared with the row API {kinds:?}, {nested} nested skipped"
    );
    assert!(files >= 20 && compared >= 100, "too few compared: {compared} columns of {files} files");
    // Every kind above is in the suite: a kind that stops being compared is a test that stopped testing.
    for kind in ["integer", "float", "string", "decimal", "temporal"] {
        assert!(kinds.get(kind).is_some_and(|&n| n > 0), "no {kind} column compared: {kinds:?}");
    }
    assert!(problems.is_empty(), "{} mismatches:\n{}", problems.len(), problems.join("\n"));
}
