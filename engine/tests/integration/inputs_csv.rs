//! CSV input (issue 11, item 2): the test writes CSV text itself, so it knows every value.
//!
//! 1. A CSV file describes bit-identically to the same values written as an Arrow IPC file with the batches
//!    CSV decoding makes (`CSV_BATCH_ROWS`), and its exact statistics equal brute-force loops.
//! 2. Dialects: delimiter, quote, escape, null markers, no header, `.tsv`, quoted newlines, `--schema`.
//! 3. Errors name the file, line and column of a bad field, and unknown `--schema` columns.

use crate::common;

use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use tally_engine::exec::ExecutorKind;
use tally_engine::source::csv::{CSV_BATCH_ROWS, CsvOptions, parse_schema_overrides};
use tally_engine::source::{InputFormat, InputOptions};
use tally_engine::stats::{Summary, Value};
use tally_engine::{DescribeOptions, describe};

fn options(csv: CsvOptions, executor: ExecutorKind, chunk_rows: u64) -> DescribeOptions {
    let mut o = common::options_of(executor, 3, chunk_rows, false, 1);
    o.run.input = InputOptions { csv, names: None };
    o
}

fn summaries(path: &Path, o: &DescribeOptions) -> Vec<(String, Summary)> {
    let report = describe(path, o).unwrap_or_else(|e| panic!("{e}")).report;
    report.columns.into_iter().map(|c| (c.name, c.summary)).collect()
}

/// `x` floats (nulls as "" and "NA"), `k` integers, `t` text with commas, quotes and newlines.
fn values(rows: usize) -> (Vec<Option<f64>>, Vec<i64>) {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut x = Vec::new();
    let mut k = Vec::new();
    for _ in 0..rows {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        x.push((!state.is_multiple_of(31)).then(|| ((state >> 12) as f64 / 4096.0 - 1e9) * 1e-3));
        k.push((state >> 20) as i64 - (1 << 43));
    }
    (x, k)
}

fn write_csv(path: &Path, x: &[Option<f64>], k: &[i64]) {
    let mut text = String::from("x,k,t\n");
    for (i, (x, k)) in x.iter().zip(k).enumerate() {
        // `{:?}` prints the shortest text that parses back to the same f64.
        let x = match x {
            Some(v) => format!("{v:?}"),
            None if i.is_multiple_of(2) => String::new(),
            None => "NA".into(),
        };
        let t = if i % 1000 == 7 { "\"a, \"\"quoted\"\"\nline\"".to_string() } else { format!("t{}", i % 10) };
        text.push_str(&format!("{x},{k},{t}\n"));
    }
    std::fs::write(path, text).unwrap();
}

fn write_arrow(path: &Path, x: &[Option<f64>], k: &[i64]) {
    let schema =
        Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, true), Field::new("k", DataType::Int64, true)]));
    let mut w = arrow_ipc::writer::FileWriter::try_new(std::fs::File::create(path).unwrap(), &schema).unwrap();
    for start in (0..x.len()).step_by(CSV_BATCH_ROWS) {
        let end = (start + CSV_BATCH_ROWS).min(x.len());
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Float64Array::from(x[start..end].to_vec())),
            Arc::new(Int64Array::from(k[start..end].to_vec())),
        ];
        w.write(&RecordBatch::try_new(schema.clone(), columns).unwrap()).unwrap();
    }
    w.finish().unwrap();
}

#[test]
fn csv_describes_bit_identically_to_arrow_and_equals_brute_force() {
    let dir = tempfile::tempdir().unwrap();
    let rows = 2 * CSV_BATCH_ROWS + 1234;
    let (x, k) = values(rows);
    let csv = dir.path().join("v.csv");
    let arrow = dir.path().join("v.arrow");
    write_csv(&csv, &x, &k);
    write_arrow(&arrow, &x, &k);
    for chunk_rows in [10_000, 1 << 20] {
        let o = options(CsvOptions::default(), ExecutorKind::Threads, chunk_rows);
        let got = summaries(&csv, &o);
        let want = summaries(&arrow, &options(CsvOptions::default(), ExecutorKind::Serial, chunk_rows));
        assert_eq!(format!("{:?}", &got[..2]), format!("{want:?}"), "chunk_rows {chunk_rows}");
        assert_eq!((got[2].0.as_str(), got[2].1.count, got[2].1.null_count), ("t", rows as u64, 0));
    }
    let got = summaries(&csv, &options(CsvOptions::default(), ExecutorKind::Serial, 1 << 20));
    let valid: Vec<f64> = x.iter().flatten().copied().collect();
    let xs = &got[0].1;
    assert_eq!((xs.count, xs.null_count), (valid.len() as u64, (rows - valid.len()) as u64));
    assert_eq!(xs.min, Some(Value::Float(valid.iter().copied().fold(f64::INFINITY, f64::min))));
    assert!(common::ulps(xs.mean.unwrap(), common::exact_moments(&valid, 1).mean) <= 1.0);
    let ks = &got[1].1;
    assert_eq!(ks.sum, Some(Value::Int(k.iter().map(|&v| v as i128).sum())));
    assert_eq!(ks.max, Some(Value::Int(*k.iter().max().unwrap() as i128)));
    let file = tally_engine::source::open(&csv).unwrap();
    assert_eq!((file.format(), file.format().as_str()), (InputFormat::Csv, "csv"));
    assert_eq!(file.num_batches(), 3);
}

#[test]
fn dialects_delimiter_quote_escape_nulls_header_tsv_and_schema() {
    let dir = tempfile::tempdir().unwrap();
    let ints = |path: &Path, csv: CsvOptions| -> Vec<(String, u64, u64, Option<Value>)> {
        summaries(path, &options(csv, ExecutorKind::Serial, 2))
            .into_iter()
            .map(|(n, s)| (n, s.count, s.null_count, s.sum))
            .collect()
    };
    let p = dir.path().join("semi.txt");
    std::fs::write(&p, "a;b\n1;-\n'x;y';3\n5;7\n").unwrap();
    let csv = CsvOptions {
        delimiter: Some(b';'),
        quote: b'\'',
        nulls: vec!["-".into()],
        schema: parse_schema_overrides("a:str").unwrap(),
        ..CsvOptions::default()
    };
    assert_eq!(
        ints(&p, csv),
        vec![("a".into(), 3, 0, None), ("b".into(), 2, 1, Some(Value::Int(10)))],
        "'x;y' is one quoted field; '-' is null; a forced to text"
    );
    let p = dir.path().join("plain.tsv");
    std::fs::write(&p, "1\t2\nNA\t4\n").unwrap();
    let csv = CsvOptions { header: false, ..CsvOptions::default() };
    assert_eq!(ints(&p, csv), vec![("c0".into(), 1, 1, Some(Value::Int(1))), ("c1".into(), 2, 0, Some(Value::Int(6)))]);
    let p = dir.path().join("esc.csv");
    std::fs::write(&p, "s,n\n\"a\\\"b\",1\n\"c\",2\n").unwrap();
    let csv = CsvOptions { escape: Some(b'\\'), ..CsvOptions::default() };
    assert_eq!(ints(&p, csv)[1], ("n".into(), 2, 0, Some(Value::Int(3))));
    assert!(parse_schema_overrides("a:complex").unwrap_err().contains("unknown type"));
}

fn open_error(path: &Path, csv: CsvOptions) -> String {
    describe(path, &options(csv, ExecutorKind::Serial, 1000)).unwrap_err().to_string()
}

#[test]
fn a_bad_field_names_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("late.csv");
    let mut text = String::from("id,v\n");
    for i in 0..20_000 {
        text.push_str(&format!("{i},{i}\n"));
    }
    text.push_str("20000,2.5\n");
    std::fs::write(&p, &text).unwrap();
    // The sample (10,000 records) saw only integers; line 20,002 holds the first float.
    let e = open_error(&p, CsvOptions::default());
    let want = format!("{}: column \"v\": line 20002: cannot read \"2.5\" as Int64", p.display());
    assert!(e.starts_with(&want) && e.contains("--schema v:f64"), "{e}");
    let fixed = summaries(
        &p,
        &options(
            CsvOptions { schema: parse_schema_overrides("v:f64").unwrap(), ..Default::default() },
            ExecutorKind::Serial,
            1 << 20,
        ),
    );
    assert_eq!(fixed[1].1.sum, Some(Value::Float(199_990_000.0 + 2.5)));
    let e = open_error(&p, CsvOptions { schema: parse_schema_overrides("w:f64").unwrap(), ..Default::default() });
    assert!(e.contains("--schema names \"w\", which is not a column (columns: id, v)"), "{e}");
    let p = dir.path().join("ragged.csv");
    std::fs::write(&p, "a,b\n1,2\n3\n").unwrap();
    let e = open_error(&p, CsvOptions::default());
    assert!(e.contains("malformed CSV") && e.contains("line 3"), "{e}");
}
