//! apache/parquet-testing's valid files, value by value (issue 11, item 8): every top-level column of a
//! plain type (booleans, integers, floats, strings) is decoded here a second, independent way, through the
//! parquet crate's row API (`get_row_iter`: page decoding into `Field`s, not the Arrow reader tally uses),
//! and tally's count, null count, minimum, maximum and (for integers) sum must equal brute force over those
//! values. Dates, timestamps, decimals and nested columns are left to the Arrow-side tests: the row API
//! converts their units (INT96 to milliseconds, for one), so it is not the same description of them.

mod common;

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
                _ => c.other = true,
            }
        }
    }
    Ok((rows, columns))
}

/// Compares one column; `None` when it is not of a compared kind. Returns the problems found.
fn compare(name: &str, c: &Column, s: &Summary) -> Option<Vec<String>> {
    let kinds = [!c.ints.is_empty(), !c.floats.is_empty(), !c.strings.is_empty()];
    if c.other || kinds.iter().filter(|k| **k).count() > 1 {
        return None;
    }
    let mut problems = Vec::new();
    let mut check = |what: &str, ok: bool, detail: String| {
        if !ok {
            problems.push(format!("{name}: {what}: {detail}"));
        }
    };
    let valid = (c.ints.len() + c.floats.len() + c.strings.len()) as u64;
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
    }
    Some(problems)
}

#[test]
fn parquet_testing_plain_columns_equal_an_independent_row_decoding() {
    let Some(root) = common::testdata_dir() else { return };
    let dir = root.join("parquet-testing");
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("parquet-testing/MANIFEST.tsv");
    let (mut files, mut compared, mut problems) = (0, 0, Vec::new());
    let run = RunOptions { executor: ExecutorKind::Threads, workers: 2, chunk_rows: 97, ..RunOptions::default() };
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
            let Some(report) = described.report.columns.iter().find(|c| &c.name == name) else { continue };
            if let Some(found) = compare(&format!("{} {name}", f[0]), column, &report.summary) {
                compared += 1;
                problems.extend(found);
            }
        }
    }
    println!("parquet-testing: {compared} columns of {files} files compared with the row API");
    assert!(files >= 20 && compared >= 100, "too few compared: {compared} columns of {files} files");
    assert!(problems.is_empty(), "{} mismatches:\n{}", problems.len(), problems.join("\n"));
}
