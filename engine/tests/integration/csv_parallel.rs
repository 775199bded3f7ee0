//! The parallel CSV split (issue 11, item 2): the test writes the CSV text itself, with every hazard, and
//! knows every value, so the references are its own arrays (the same data written another way), never
//! tally's output.
//!
//! 1. Any thread count and piece size gives exactly the test's arrays, in batches of `CSV_BATCH_ROWS`
//!    counted from the first record (the serial decode's cut), and the serial pipe path gives the same.
//! 2. A bad value or a ragged record in a late piece names the exact line (counted by the test, quoted
//!    newlines and empty lines included) and the column.
//! 3. Describe of the CSV (all columns and projections, serial and threads executors; the processes executor
//!    is run by `cli/tests/integration/inputs.rs`) equals describe of the same values written as an Arrow IPC file.

use crate::common;

use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use tally_engine::exec::{Cancel, ExecutorKind};
use tally_engine::source::csv::{CSV_BATCH_ROWS, CsvOptions, parse_schema_overrides};
use tally_engine::source::{InputOptions, open_with_options};
use tally_engine::{DescribeOptions, describe};

/// One generated record: the values, and the text that encodes them.
#[derive(Clone, Debug)]
struct Row {
    id: Option<i64>,
    x: Option<f64>,
    s: Option<String>,
}

struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Random rows and their CSV text: quoted fields with delimiters, doubled quotes, `\n` and `\r\n` inside,
/// empty fields and `NA` as nulls, LF and CRLF record ends, empty lines between records, a header or not,
/// and sometimes no final newline. Returns the text and, per row, the byte offset where its record begins.
fn generate(seed: u64, rows: usize, header: bool) -> (Vec<Row>, Vec<u8>, Vec<usize>) {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut text = Vec::new();
    if header {
        text.extend_from_slice(b"id,\"x\",s\n");
    }
    let (mut out, mut starts) = (Vec::with_capacity(rows), Vec::with_capacity(rows));
    for i in 0..rows {
        if rng.next(20) == 0 {
            text.extend_from_slice(if rng.next(2) == 0 { b"\n" } else { b"\r\n" });
        }
        starts.push(text.len());
        let id = (rng.next(17) != 0).then(|| rng.next(1 << 40) as i64 - (1 << 39));
        let x = (rng.next(13) != 0).then(|| (rng.next(1 << 52) as f64 - 2e15) / 1024.0);
        let s = match rng.next(10) {
            0 => None,
            1 => Some("a, b".to_string()),
            2 => Some(format!("say \"hi\" {i}")),
            3 => Some(format!("two\nlines {i}")),
            4 => Some(format!("crlf\r\ninside,{i}")),
            5 => Some(",".to_string()),
            _ => Some(format!("t{}", rng.next(1000))),
        };
        let null = |rng: &mut Rng| if rng.next(2) == 0 { "" } else { "NA" };
        let id_text = id.map_or_else(|| null(&mut rng).to_string(), |v| v.to_string());
        let x_text = x.map_or_else(|| null(&mut rng).to_string(), |v| format!("{v:?}"));
        let s_text = match &s {
            None => null(&mut rng).to_string(),
            Some(v) if v.contains([',', '"', '\n', '\r']) || rng.next(4) == 0 => {
                format!("\"{}\"", v.replace('"', "\"\""))
            }
            Some(v) => v.clone(),
        };
        text.extend_from_slice(format!("{id_text},{x_text},{s_text}").as_bytes());
        if i + 1 < rows || rng.next(2) == 0 {
            text.extend_from_slice(if rng.next(3) == 0 { b"\r\n" } else { b"\n" });
        }
        out.push(Row { id, x, s });
    }
    (out, text, starts)
}

fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("x", DataType::Float64, true),
        Field::new("s", DataType::Utf8, true),
    ]))
}

/// The test's own batches of `rows`, cut every `CSV_BATCH_ROWS` rows, named as the CSV names them.
fn expected(rows: &[Row], names: [&str; 3]) -> Vec<RecordBatch> {
    let fields: Vec<Field> =
        schema().fields().iter().zip(names).map(|(f, n)| f.as_ref().clone().with_name(n)).collect();
    let schema = Arc::new(Schema::new(fields));
    rows.chunks(CSV_BATCH_ROWS)
        .map(|part| {
            let columns: Vec<ArrayRef> = vec![
                Arc::new(part.iter().map(|r| r.id).collect::<Int64Array>()),
                Arc::new(part.iter().map(|r| r.x).collect::<Float64Array>()),
                Arc::new(part.iter().map(|r| r.s.clone()).collect::<StringArray>()),
            ];
            RecordBatch::try_new(schema.clone(), columns).unwrap()
        })
        .collect()
}

fn csv_options(header: bool, threads: usize, piece: Option<usize>) -> CsvOptions {
    CsvOptions {
        header,
        schema: parse_schema_overrides(if header { "id:i64,x:f64,s:str" } else { "c0:i64,c1:f64,c2:str" }).unwrap(),
        threads: Some(threads),
        piece_bytes: piece,
        ..CsvOptions::default()
    }
}

fn decoded(path: &Path, csv: CsvOptions) -> tally_engine::Result<Vec<RecordBatch>> {
    let file = open_with_options(path, &InputOptions { csv, names: None }, &Cancel::default())?;
    let all: Vec<usize> = (0..file.schema().fields().len()).collect();
    Ok(file.into_store(&all)?.batches().to_vec())
}

fn names(header: bool) -> [&'static str; 3] {
    if header { ["id", "x", "s"] } else { ["c0", "c1", "c2"] }
}

#[test]
fn any_thread_count_and_piece_size_gives_the_written_values_in_the_serial_cut() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("r.csv");
    for seed in 1..13u64 {
        let header = seed % 3 != 0;
        let (rows, text, _) = generate(seed, (seed as usize * 37) % 400 + 1, header);
        std::fs::write(&p, &text).unwrap();
        let want = expected(&rows, names(header));
        for threads in [1, 2, 3, 7] {
            for piece in [Some(3), Some(41), Some(1 << 20)] {
                let got = decoded(&p, csv_options(header, threads, piece)).unwrap();
                assert_eq!(got, want, "seed {seed}, {threads} threads, piece {piece:?}");
            }
        }
    }
}

#[test]
fn large_files_are_cut_on_the_65536_row_grid_whatever_the_pieces() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.csv");
    let (rows, text, _) = generate(99, 2 * CSV_BATCH_ROWS + 4321, true);
    std::fs::write(&p, &text).unwrap();
    let want = expected(&rows, names(true));
    assert_eq!(want.len(), 3);
    for (threads, piece) in [(1, None), (2, Some(100_000)), (3, Some(777_777)), (7, Some(50_000)), (2, None)] {
        let got = decoded(&p, csv_options(true, threads, Some(piece.unwrap_or(usize::MAX)))).unwrap();
        let sizes: Vec<usize> = got.iter().map(|b| b.num_rows()).collect();
        assert_eq!(sizes, vec![CSV_BATCH_ROWS, CSV_BATCH_ROWS, 4321], "{threads} threads, piece {piece:?}");
        assert_eq!(got, want, "{threads} threads, piece {piece:?}");
    }
    // The same text through a pipe takes the serial arrow-csv Reader: the same batches.
    let fifo = dir.path().join("pipe.csv");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let writer = {
        let (fifo, text) = (fifo.clone(), text.clone());
        std::thread::spawn(move || std::fs::write(fifo, text).unwrap())
    };
    let piped = decoded(&fifo, csv_options(true, 2, None)).unwrap();
    writer.join().unwrap();
    assert_eq!(piped, want);
}

/// The 1-based line where the record of row `row` begins, counted in the text: the reference.
fn line_of(text: &[u8], starts: &[usize], row: usize) -> usize {
    1 + text[..starts[row]].iter().filter(|&&b| b == b'\n').count()
}

#[test]
fn a_bad_record_in_a_late_piece_names_its_exact_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.csv");
    let (_, text, starts) = generate(7, 150_000, true);
    let bad = 141_234;
    assert!(line_of(&text, &starts, bad) > bad + 2000, "quoted newlines and empty lines shift lines from records");
    // Row `bad`'s x replaced by text that is not a number.
    let end = starts[bad] + text[starts[bad]..].iter().position(|&b| b == b',').unwrap();
    let mut broken = text[..=end].to_vec();
    broken.extend_from_slice(b"oops");
    let rest = &text[end + 1..];
    broken.extend_from_slice(&rest[rest.iter().position(|&b| b == b',').unwrap()..]);
    std::fs::write(&p, &broken).unwrap();
    let want = format!(
        "{}: column \"x\": line {}: cannot read \"oops\" as Float64",
        p.display(),
        line_of(&text, &starts, bad)
    );
    for (threads, piece) in [(1, Some(usize::MAX)), (2, None), (3, Some(4096)), (7, Some(100_000))] {
        let e = decoded(&p, csv_options(true, threads, piece)).unwrap_err().to_string();
        assert!(e.starts_with(&want), "{threads} threads: {e}\nwant {want}");
    }
    // A record with a field missing: the line, and the first missing column.
    let mut ragged = text[..starts[bad]].to_vec();
    ragged.extend_from_slice(b"1,2\n");
    ragged.extend_from_slice(&text[starts[bad + 1]..]);
    std::fs::write(&p, &ragged).unwrap();
    let want = format!(
        "{}: column \"s\": malformed CSV: line {} has the wrong number of fields (expected 3 got 2)",
        p.display(),
        line_of(&text, &starts, bad)
    );
    for threads in [1, 3] {
        let e = decoded(&p, csv_options(true, threads, Some(10_000))).unwrap_err().to_string();
        assert!(e.starts_with(&want), "{threads} threads: {e}\nwant {want}");
    }
}

fn described(path: &Path, csv: CsvOptions, executor: ExecutorKind, columns: Option<&[&str]>) -> String {
    let mut o: DescribeOptions = common::options_of(executor, 2, 50_000, false, 1);
    o.run.input = InputOptions { csv, names: None };
    o.columns = columns.map(|c| c.iter().map(|s| s.to_string()).collect());
    let report = describe(path, &o).unwrap_or_else(|e| panic!("{e}")).report;
    let numeric: Vec<_> = report.columns.into_iter().filter(|c| c.name != "s").map(|c| (c.name, c.summary)).collect();
    format!("{numeric:?}")
}

#[test]
fn describe_of_the_csv_equals_describe_of_the_same_values_as_arrow() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, arrow) = (dir.path().join("d.csv"), dir.path().join("d.arrow"));
    let (rows, text, _) = generate(5, CSV_BATCH_ROWS + 999, true);
    std::fs::write(&csv, &text).unwrap();
    common::write_arrow(&arrow, &expected(&rows, names(true)));
    for columns in [None, Some(&["x"][..]), Some(&["x", "id"][..])] {
        let want = described(&arrow, CsvOptions::default(), ExecutorKind::Serial, columns);
        for executor in [ExecutorKind::Serial, ExecutorKind::Threads] {
            for threads in [1, 2, 7] {
                let got = described(&csv, csv_options(true, threads, Some(30_000)), executor, columns);
                assert_eq!(got, want, "{executor:?}, {threads} threads, columns {columns:?}");
            }
        }
    }
}
