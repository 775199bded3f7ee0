//! Nested columns (issue 11, item 5): struct fields are columns `a.b` in `--columns`, `--where` and
//! group-by keys, null where the field or any enclosing struct is null, checked against brute force over
//! the rows this test wrote, from Arrow and from Parquet alike; list, map, union and struct columns
//! themselves are skipped by `describe` with a note, and naming one is an error that says what to do.
//! Also: compressed IPC streams get the file's cap on declared decompressed sizes.

use crate::common;

use std::sync::Arc;

use arrow_array::builder::{Int64Builder, ListBuilder, MapBuilder, StringBuilder};
use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, StructArray, UnionArray};
use arrow_buffer::{NullBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Fields, Schema, UnionFields};
use tally_engine::analysis::{Analysis, AnalysisResult, DescribeRequest, GroupByRequest, parse_aggs};
use tally_engine::exec::ExecutorKind;
use tally_engine::report::Format;
use tally_engine::stats::{Summary, Value};
use tally_engine::{RunOptions, run};

struct Rows {
    k: Vec<i64>,
    /// Per row: the struct is valid, then x, y, inner-valid, z.
    st: Vec<bool>,
    x: Vec<Option<i64>>,
    y: Vec<Option<String>>,
    inner: Vec<bool>,
    z: Vec<Option<f64>>,
}

fn rows(n: usize) -> Rows {
    Rows {
        k: (0..n as i64).collect(),
        st: (0..n).map(|i| i % 7 != 3).collect(),
        x: (0..n).map(|i| (i % 5 != 1).then_some((i as i64 * 37) % 101 - 50)).collect(),
        y: (0..n).map(|i| (i % 4 != 2).then(|| format!("g{}", i % 3))).collect(),
        inner: (0..n).map(|i| i % 11 != 5).collect(),
        z: (0..n).map(|i| (i % 6 != 0).then_some(i as f64 * 0.25 - 100.0)).collect(),
    }
}

fn batch(r: &Rows) -> RecordBatch {
    let inner_fields = Fields::from(vec![Field::new("z", DataType::Float64, true)]);
    let inner = StructArray::new(
        inner_fields.clone(),
        vec![Arc::new(Float64Array::from(r.z.clone())) as ArrayRef],
        Some(NullBuffer::from(r.inner.clone())),
    );
    let fields = Fields::from(vec![
        Field::new("x", DataType::Int64, true),
        Field::new("y", DataType::Utf8, true),
        Field::new("inner", DataType::Struct(inner_fields), true),
    ]);
    let st = StructArray::new(
        fields,
        vec![Arc::new(Int64Array::from(r.x.clone())), Arc::new(StringArray::from(r.y.clone())), Arc::new(inner)],
        Some(NullBuffer::from(r.st.clone())),
    );
    let k: ArrayRef = Arc::new(Int64Array::from(r.k.clone()));
    let schema = Schema::new(vec![
        Field::new("k", DataType::Int64, false),
        Field::new("st", arrow_array::Array::data_type(&st).clone(), true),
    ]);
    RecordBatch::try_new(Arc::new(schema), vec![k, Arc::new(st)]).unwrap()
}

fn write_arrow(dir: &std::path::Path, batch: &RecordBatch) -> std::path::PathBuf {
    let path = dir.join("nested.arrow");
    let mut w = arrow_ipc::writer::FileWriter::try_new(std::fs::File::create(&path).unwrap(), &batch.schema()).unwrap();
    for start in (0..batch.num_rows()).step_by(400) {
        w.write(&batch.slice(start, 400.min(batch.num_rows() - start))).unwrap();
    }
    w.finish().unwrap();
    path
}

fn write_parquet(dir: &std::path::Path, batch: &RecordBatch) -> std::path::PathBuf {
    let path = dir.join("nested.parquet");
    let props = parquet::file::properties::WriterProperties::builder().set_max_row_group_row_count(Some(400)).build();
    let mut w =
        parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), batch.schema(), Some(props))
            .unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
    path
}

fn options(executor: ExecutorKind, workers: usize, filter: Option<&str>) -> RunOptions {
    RunOptions { executor, workers, chunk_rows: Some(150), filter: filter.map(String::from), ..RunOptions::default() }
}

fn describe(
    path: &std::path::Path,
    columns: Option<&[&str]>,
    o: &RunOptions,
) -> tally_engine::Result<tally_engine::Outcome> {
    let columns = columns.map(|c| c.iter().map(|s| s.to_string()).collect());
    run(path, &Analysis::Describe(DescribeRequest { columns, exact: false, ddof: 1, quantiles: Vec::new() }), o)
}

fn report(o: &tally_engine::Outcome) -> &tally_engine::report::Report {
    match &o.result {
        AnalysisResult::Describe(r) => r,
        other => panic!("not a describe: {other:?}"),
    }
}

fn json(o: &tally_engine::Outcome) -> Vec<u8> {
    let mut out = Vec::new();
    report(o).render(Format::Json, &Default::default(), &mut out).unwrap();
    out
}

fn summary<'a>(o: &'a tally_engine::Outcome, name: &str) -> &'a Summary {
    &report(o).columns.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no column {name}")).summary
}

#[test]
fn struct_fields_are_columns_with_their_parents_nulls() {
    let r = rows(2_000);
    let b = batch(&r);
    let dir = tempfile::tempdir().unwrap();
    let (arrow, parquet) = (write_arrow(dir.path(), &b), write_parquet(dir.path(), &b));
    let cols = ["st.x", "st.inner.z", "st.y", "k"];
    let serial = describe(&arrow, Some(&cols), &options(ExecutorKind::Serial, 1, None)).unwrap();
    // x: null when st is null or x is; z: when st, inner or z is.
    let x: Vec<i64> = (0..r.k.len()).filter(|&i| r.st[i]).filter_map(|i| r.x[i]).collect();
    let s = summary(&serial, "st.x");
    assert_eq!((s.count, s.null_count), (x.len() as u64, (r.k.len() - x.len()) as u64));
    assert_eq!(
        (s.min, s.max, s.sum),
        (
            x.iter().min().map(|&v| Value::Int(v.into())),
            x.iter().max().map(|&v| Value::Int(v.into())),
            Some(Value::Int(x.iter().map(|&v| i128::from(v)).sum()))
        )
    );
    let z: Vec<f64> = (0..r.k.len()).filter(|&i| r.st[i] && r.inner[i]).filter_map(|i| r.z[i]).collect();
    let s = summary(&serial, "st.inner.z");
    assert_eq!((s.count, s.null_count), (z.len() as u64, (r.k.len() - z.len()) as u64));
    assert_eq!(s.max, Some(Value::Float(z.iter().copied().fold(f64::MIN, f64::max))));
    let y = (0..r.k.len()).filter(|&i| r.st[i] && r.y[i].is_some()).count() as u64;
    assert_eq!(summary(&serial, "st.y").count, y);
    let oracle = json(&serial);
    for workers in [1, 2, 3, 7] {
        let got = describe(&arrow, Some(&cols), &options(ExecutorKind::Threads, workers, None)).unwrap();
        assert!(json(&got) == oracle, "threads x {workers} differs from serial");
    }
    // Parquet's row groups are the Arrow file's batches: the same bits (the input block aside).
    let from_parquet = describe(&parquet, Some(&cols), &options(ExecutorKind::Threads, 2, None)).unwrap();
    assert_eq!(report(&from_parquet).columns, report(&serial).columns, "parquet equals arrow");
}

#[test]
fn struct_fields_filter_and_group() {
    let r = rows(1_200);
    let dir = tempfile::tempdir().unwrap();
    let arrow = write_arrow(dir.path(), &batch(&r));
    // `st.x > 3` is false (not selected) where st.x is null, as SQL's three-valued logic has it.
    let o = describe(&arrow, Some(&["k"]), &options(ExecutorKind::Threads, 2, Some("st.x > 3"))).unwrap();
    let kept = (0..r.k.len()).filter(|&i| r.st[i] && r.x[i].is_some_and(|x| x > 3)).count() as u64;
    assert_eq!(summary(&o, "k").count, kept);
    let o = describe(&arrow, Some(&["k"]), &options(ExecutorKind::Serial, 1, Some("\"st\".\"y\" = 'g1'"))).unwrap();
    let g1 = (0..r.k.len()).filter(|&i| r.st[i] && r.y[i].as_deref() == Some("g1")).count() as u64;
    assert_eq!(summary(&o, "k").count, g1);

    let request = GroupByRequest {
        by: vec!["st.y".into()],
        aggs: parse_aggs("count,sum(st.x)").unwrap(),
        sort: None,
        desc: false,
        limit: None,
        ddof: 1,
        memory_limit: None,
    };
    let o = run(&arrow, &Analysis::GroupBy(request), &options(ExecutorKind::Threads, 3, None)).unwrap();
    let AnalysisResult::GroupBy(g) = &o.result else { panic!("a group-by") };
    let key = |i: usize| r.st[i].then(|| r.y[i].clone()).flatten();
    for row in &g.groups {
        let name = match &row.key[0] {
            tally_engine::stats::groups::KeyValue::Str(s) => Some(s.clone()),
            tally_engine::stats::groups::KeyValue::Null => None,
            other => panic!("key {other:?}"),
        };
        let members: Vec<usize> = (0..r.k.len()).filter(|&i| key(i) == name).collect();
        let sum: i128 = members.iter().filter(|&&i| r.st[i]).filter_map(|&i| r.x[i]).map(i128::from).sum();
        assert_eq!(row.cells[0], tally_engine::report::Cell::Count(members.len() as u64), "count of {name:?}");
        assert_eq!(row.cells[1], tally_engine::report::Cell::Int(sum), "sum of {name:?}");
    }
    assert_eq!(g.groups.len(), 4, "g0, g1, g2 and null");
}

fn other_nested(n: usize) -> Vec<(&'static str, ArrayRef)> {
    let mut list = ListBuilder::new(Int64Builder::new());
    let mut map = MapBuilder::new(None, StringBuilder::new(), Int64Builder::new());
    for i in 0..n {
        list.values().append_value(i as i64);
        list.append(i % 3 != 0);
        map.keys().append_value("a");
        map.values().append_value(i as i64);
        map.append(true).unwrap();
    }
    let union_fields =
        UnionFields::try_new([0, 1], [Field::new("i", DataType::Int64, true), Field::new("s", DataType::Utf8, true)])
            .unwrap();
    let types: ScalarBuffer<i8> = (0..n).map(|i| (i % 2) as i8).collect();
    let children: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from((0..n as i64).collect::<Vec<_>>())),
        Arc::new(StringArray::from((0..n).map(|i| format!("u{i}")).collect::<Vec<_>>())),
    ];
    let union = UnionArray::try_new(union_fields, types, None, children).unwrap();
    vec![("l", Arc::new(list.finish())), ("m", Arc::new(map.finish())), ("u", Arc::new(union))]
}

#[test]
fn nested_columns_are_skipped_with_a_note_and_refused_by_name() {
    let r = rows(300);
    let b = batch(&r);
    let mut columns: Vec<(&str, ArrayRef)> = vec![("k", b.column(0).clone()), ("st", b.column(1).clone())];
    columns.extend(other_nested(300));
    let b = RecordBatch::try_from_iter(columns).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write_arrow(dir.path(), &b);
    let o = describe(&path, None, &options(ExecutorKind::Serial, 1, None)).unwrap();
    let names: Vec<&str> = report(&o).columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["k", "st.x", "st.y", "st.inner.z"], "every column that has statistics, fields included");
    let note = o.notes.iter().find(|n| n.contains("skipped nested columns")).expect("a note");
    for skipped in ["st (struct)", "st.inner (struct)", "l (list)", "m (map)", "u (union)"] {
        assert!(note.contains(skipped), "{note}");
    }
    let err = describe(&path, Some(&["st"]), &options(ExecutorKind::Serial, 1, None)).unwrap_err().to_string();
    assert!(
        err.contains("column \"st\"") && err.contains("is a struct column; describe its fields instead: st.x, st.y"),
        "{err}"
    );
    let err = describe(&path, Some(&["l"]), &options(ExecutorKind::Serial, 1, None)).unwrap_err().to_string();
    assert!(err.contains("nested.arrow") && err.contains("is a list column"), "{err}");
}

/// A zstd-compressed stream of 500 integers whose record batch declares `declared` decompressed bytes.
fn stream_declaring(declared: i64) -> Vec<u8> {
    let b = RecordBatch::try_from_iter([("x", Arc::new(Int64Array::from((0..500).collect::<Vec<i64>>())) as ArrayRef)])
        .unwrap();
    common::stream_declaring(&b, arrow_ipc::CompressionType::ZSTD, false, declared)
}

#[test]
fn compressed_streams_are_capped_like_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.arrows");
    std::fs::write(&path, stream_declaring(1 << 60)).unwrap();
    let err = describe(&path, None, &options(ExecutorKind::Serial, 1, None)).unwrap_err().to_string();
    // More than zstd can expand the buffer's compressed bytes to (the memory cap: source/declared.rs tests).
    assert!(err.contains("huge.arrows") && err.contains("more than the format can expand them to"), "{err}");
    assert!(err.contains("batch 0") && err.contains("byte"), "names the batch and offset: {err}");
    // A body longer than the input is refused before anything is allocated, and is an error: not the end of
    // the stream, which would drop the batch.
    let mut bytes = stream_declaring(4000);
    bytes.truncate(bytes.len() - 100);
    std::fs::write(&path, &bytes).unwrap();
    let err = describe(&path, None, &options(ExecutorKind::Serial, 1, None)).unwrap_err().to_string();
    assert!(err.contains("huge.arrows") && err.contains("truncated Arrow IPC stream"), "{err}");
}
