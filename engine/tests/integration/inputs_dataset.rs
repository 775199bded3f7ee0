//! Many files as one dataset (issue 11, item 4): the results equal those of one file holding the same
//! batches, for Arrow IPC, Parquet, CSV and `.npy` members, with explicit lists and glob patterns; files that
//! do not fit together are refused, naming the first file and column that differ.

use crate::common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use tally_engine::exec::ExecutorKind;
use tally_engine::source::expand;
use tally_engine::{Analysis, RunOptions, run_many};

fn schema(nullable: bool) -> Arc<Schema> {
    Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, nullable), Field::new("k", DataType::Int64, false)]))
}

/// Batch `i` of the test data: 3,000 rows.
fn batch(i: usize, nullable: bool) -> RecordBatch {
    let rows = i * 3_000..(i + 1) * 3_000;
    let x: ArrayRef =
        Arc::new(Float64Array::from(rows.clone().map(|r| ((r * 37) % 1_001) as f64 / 7.0).collect::<Vec<_>>()));
    let k: ArrayRef = Arc::new(Int64Array::from(rows.map(|r| (r as i64 * 7919) % 10_007).collect::<Vec<_>>()));
    RecordBatch::try_new(schema(nullable), vec![x, k]).unwrap()
}

fn write_parquet(path: &Path, batches: &[RecordBatch]) {
    let mut w =
        parquet::arrow::ArrowWriter::try_new(std::fs::File::create(path).unwrap(), batches[0].schema(), None).unwrap();
    for b in batches {
        w.write(b).unwrap();
    }
    w.close().unwrap();
}

fn describe_all(paths: &[PathBuf], executor: ExecutorKind) -> tally_engine::Result<(Vec<String>, Vec<String>)> {
    let options = RunOptions { executor, workers: 3, chunk_rows: Some(2_000), ..RunOptions::default() };
    let analysis = Analysis::Describe(tally_engine::analysis::describe::DescribeRequest::default());
    let outcome = run_many(paths, &analysis, &options)?;
    let tally_engine::AnalysisResult::Describe(report) = outcome.result else { panic!("not a describe result") };
    let columns = report.columns.iter().map(|c| format!("{}: {:?}", c.name, c.summary)).collect();
    Ok((columns, report.input.files))
}

#[test]
fn a_dataset_equals_the_concatenated_file_for_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    // Three files of 1, 2 and 1 batches; the second declares x nullable (it holds no nulls).
    let parts = [vec![batch(0, false)], vec![batch(1, true), batch(2, true)], vec![batch(3, false)]];
    let all: Vec<RecordBatch> = (0..4).map(|i| batch(i, false)).collect();
    common::write_arrow(&p("all.arrow"), &all);
    for (i, part) in parts.iter().enumerate() {
        common::write_arrow(&p(&format!("day{i}.arrow")), part);
    }
    let (reference, _) = describe_all(&[p("all.arrow")], ExecutorKind::Serial).unwrap();
    let days: Vec<PathBuf> = (0..3).map(|i| p(&format!("day{i}.arrow"))).collect();
    for executor in [ExecutorKind::Serial, ExecutorKind::Threads] {
        let (got, files) = describe_all(&days, executor).unwrap();
        assert_eq!(got, reference, "{executor:?}");
        assert_eq!(files, days.iter().map(|d| d.display().to_string()).collect::<Vec<_>>());
    }
    // A pattern: sorted matches.
    let pattern = dir.path().join("day*.arrow");
    assert_eq!(expand(std::slice::from_ref(&pattern)).unwrap(), days);
    assert_eq!(describe_all(&[pattern], ExecutorKind::Threads).unwrap().0, reference);
    // Parquet members: each row group one batch, as in the Arrow files.
    for (i, part) in parts.iter().enumerate() {
        write_parquet(&p(&format!("day{i}.parquet")), &[arrow_select_concat(part)]);
    }
    let merged: Vec<RecordBatch> = parts.iter().map(|b| arrow_select_concat(b)).collect();
    common::write_arrow(&p("by_file.arrow"), &merged);
    let (by_file, _) = describe_all(&[p("by_file.arrow")], ExecutorKind::Serial).unwrap();
    let parquet: Vec<PathBuf> = (0..3).map(|i| p(&format!("day{i}.parquet"))).collect();
    assert_eq!(describe_all(&parquet, ExecutorKind::Threads).unwrap().0, by_file);
}

/// The batches of one file as one batch (what a Parquet writer makes one row group of).
fn arrow_select_concat(batches: &[RecordBatch]) -> RecordBatch {
    let columns: Vec<ArrayRef> = (0..2)
        .map(|c| {
            if c == 0 {
                let v: Vec<f64> = batches
                    .iter()
                    .flat_map(|b| b.column(0).as_any().downcast_ref::<Float64Array>().unwrap().values().to_vec())
                    .collect();
                Arc::new(Float64Array::from(v)) as ArrayRef
            } else {
                let v: Vec<i64> = batches
                    .iter()
                    .flat_map(|b| b.column(1).as_any().downcast_ref::<Int64Array>().unwrap().values().to_vec())
                    .collect();
                Arc::new(Int64Array::from(v)) as ArrayRef
            }
        })
        .collect();
    RecordBatch::try_new(schema(false), columns).unwrap()
}

#[test]
fn files_that_do_not_fit_together_are_refused_naming_file_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    common::write_arrow(&p("a.arrow"), &[batch(0, false)]);
    let renamed = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("x", DataType::Float64, false),
            Field::new("kk", DataType::Int64, false),
        ])),
        batch(1, false).columns().to_vec(),
    )
    .unwrap();
    common::write_arrow(&p("b.arrow"), &[renamed]);
    std::fs::write(p("c.csv"), "x,k\n1.5,2\n").unwrap();
    let err = |paths: &[PathBuf]| describe_all(paths, ExecutorKind::Serial).unwrap_err().to_string();
    let e = err(&[p("a.arrow"), p("b.arrow")]);
    assert!(
        e.starts_with(&format!(
            "{}: column \"kk\": column 1 is \"kk\" (Int64), but \"k\" (Int64) in {}",
            p("b.arrow").display(),
            p("a.arrow").display()
        )),
        "{e}"
    );
    let e = err(&[p("a.arrow"), p("c.csv")]);
    assert!(e.contains("is CSV, but") && e.contains("is Arrow IPC: a dataset is one format"), "{e}");
    let e = err(&[p("a.arrow"), p("a.arrow")]);
    assert!(e.contains("given twice"), "{e}");
    let e = err(&[dir.path().join("nothing*.arrow")]);
    assert!(e.contains("matches no file"), "{e}");
}
