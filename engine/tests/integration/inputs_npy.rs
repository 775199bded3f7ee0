//! `.npy` input (issue 11, item 3). The test writes `.npy` files byte by byte, following the format
//! specification (NEP 1: magic, version, little-endian header length, a Python dict literal padded with
//! spaces to a multiple of 64 bytes, then the raw values), so it knows every value and layout.
//!
//! 1. 1-D and Fortran-order 2-D arrays are mapped in place (the store's arrays point into the file's
//!    mapping); C-order 2-D arrays are transposed once; all three describe with the same bits as the same
//!    columns written as an Arrow IPC file, and integer statistics equal brute force.
//! 2. Refusals: big-endian, unsupported dtypes, 3-D, truncated data, wrong `--names` count.

use crate::common;

use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use tally_engine::exec::ExecutorKind;
use tally_engine::source::npy::NPY_BATCH_ROWS;
use tally_engine::source::{Input, InputFormat, InputOptions, open_for_run};
use tally_engine::stats::Value;
use tally_engine::{DescribeOptions, describe};

/// A `.npy` v1.0 file: `descr`, `fortran_order`, `shape`, then `data` as it is.
fn npy(descr: &str, fortran: bool, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let shape = match shape {
        [n] => format!("({n},)"),
        s => format!("({})", s.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
    };
    let order = if fortran { "True" } else { "False" };
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}");
    while !(10 + dict.len() + 1).is_multiple_of(64) {
        dict.push(' ');
    }
    dict.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.extend_from_slice(data);
    out
}

fn f64_bytes(xs: impl IntoIterator<Item = f64>) -> Vec<u8> {
    xs.into_iter().flat_map(f64::to_le_bytes).collect()
}

fn options(names: Option<Vec<String>>, executor: ExecutorKind) -> DescribeOptions {
    let mut o = common::options_of(executor, 2, 50_000, false, 1);
    o.run.input = InputOptions { names, ..InputOptions::default() };
    o
}

fn bits(path: &Path, o: &DescribeOptions) -> Vec<String> {
    let report = describe(path, o).unwrap_or_else(|e| panic!("{e}")).report;
    report.columns.iter().map(|c| format!("{} {} {:?}", c.name, c.type_name, c.summary)).collect()
}

/// Value `(row, column)` of the test matrix.
fn value(r: usize, c: usize) -> f64 {
    ((r * 7919 + c * 104_729) % 100_003) as f64 * 0.37 - 1e4 / (c + 1) as f64
}

#[test]
fn fortran_and_1d_are_zero_copy_c_order_is_transposed_and_all_equal_arrow() {
    let dir = tempfile::tempdir().unwrap();
    let (rows, cols) = (2 * NPY_BATCH_ROWS + 321, 3);
    let c_order = f64_bytes((0..rows).flat_map(|r| (0..cols).map(move |c| value(r, c))));
    let f_order = f64_bytes((0..cols).flat_map(|c| (0..rows).map(move |r| value(r, c))));
    std::fs::write(dir.path().join("c.npy"), npy("<f8", false, &[rows, cols], &c_order)).unwrap();
    std::fs::write(dir.path().join("f.npy"), npy("<f8", true, &[rows, cols], &f_order)).unwrap();
    let schema = Arc::new(Schema::new(
        (0..cols).map(|c| Field::new(format!("c{c}"), DataType::Float64, false)).collect::<Vec<_>>(),
    ));
    let arrow = dir.path().join("same.arrow");
    let mut w = arrow_ipc::writer::FileWriter::try_new(std::fs::File::create(&arrow).unwrap(), &schema).unwrap();
    for start in (0..rows).step_by(NPY_BATCH_ROWS) {
        let end = (start + NPY_BATCH_ROWS).min(rows);
        let columns: Vec<ArrayRef> = (0..cols)
            .map(|c| Arc::new(Float64Array::from((start..end).map(|r| value(r, c)).collect::<Vec<_>>())) as ArrayRef)
            .collect();
        w.write(&RecordBatch::try_new(schema.clone(), columns).unwrap()).unwrap();
    }
    w.finish().unwrap();
    let reference = bits(&arrow, &options(None, ExecutorKind::Serial));
    for name in ["c.npy", "f.npy"] {
        for executor in [ExecutorKind::Serial, ExecutorKind::Threads] {
            assert_eq!(bits(&dir.path().join(name), &options(None, executor)), reference, "{name} {executor:?}");
        }
    }
    let opened =
        |name: &str| open_for_run(&dir.path().join(name), &InputOptions::default(), &Default::default()).unwrap();
    // Fortran order: in place; the arrays lie inside the file's mapping.
    let f = opened("f.npy");
    assert!(matches!(f, Input::Npy(_)) && f.format() == InputFormat::Npy && f.format().as_str() == "npy");
    let store = f.into_store(&[2, 0]).unwrap();
    let mapping = store.mapping();
    let first = store.batches()[0].column(0).to_data().buffers()[0].as_ptr() as usize;
    assert!(mapping.contains(&first), "column c2 is not inside the mapping");
    assert_eq!(store.schema().field(0).name(), "c2");
    // C order: transposed into a segment.
    assert!(matches!(opened("c.npy"), Input::Ipc(_)));
    // Names.
    let named =
        bits(&dir.path().join("c.npy"), &options(Some(vec!["x".into(), "y".into(), "z".into()]), ExecutorKind::Serial));
    assert!(named[2].starts_with("z Float64"), "{named:?}");
}

#[test]
fn one_dimensional_integers_equal_brute_force() {
    let dir = tempfile::tempdir().unwrap();
    let xs: Vec<i32> = (0..100_000).map(|i: i32| i.wrapping_mul(2_654_435_761u32 as i32) >> 7).collect();
    let data: Vec<u8> = xs.iter().flat_map(|x| x.to_le_bytes()).collect();
    let path = dir.path().join("i.npy");
    std::fs::write(&path, npy("<i4", false, &[xs.len()], &data)).unwrap();
    let report = describe(&path, &options(None, ExecutorKind::Threads)).unwrap().report;
    let s = &report.columns[0].summary;
    assert_eq!((report.columns[0].name.as_str(), report.columns[0].type_name.as_str()), ("c0", "Int32"));
    assert_eq!(s.count, xs.len() as u64);
    assert_eq!(s.sum, Some(Value::Int(xs.iter().map(|&x| x as i128).sum())));
    assert_eq!(s.min, Some(Value::Int(*xs.iter().min().unwrap() as i128)));
    assert_eq!(s.max, Some(Value::Int(*xs.iter().max().unwrap() as i128)));
}

#[test]
fn unreadable_npy_files_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let err = |name: &str, bytes: Vec<u8>, names: Option<Vec<String>>| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        describe(&path, &options(names, ExecutorKind::Serial)).unwrap_err().to_string()
    };
    let eight = f64_bytes([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
    assert!(err("be.npy", npy(">f8", false, &[8], &eight), None).contains("big-endian"));
    assert!(err("c16.npy", npy("<c16", false, &[4], &eight), None).contains("unsupported .npy dtype \"<c16\""));
    assert!(err("o.npy", npy("|O", false, &[8], &eight), None).contains("unsupported .npy dtype"));
    assert!(err("3d.npy", npy("<f8", false, &[2, 2, 2], &eight), None).contains("3 dimensions"));
    assert!(err("short.npy", npy("<f8", false, &[9], &eight), None).contains("truncated .npy file"));
    let mut cut = npy("<f8", false, &[8], &eight);
    cut.truncate(20);
    assert!(err("cut.npy", cut, None).contains("truncated .npy file: the header declares"));
    let e = err("names.npy", npy("<f8", false, &[4, 2], &eight), Some(vec!["a".into()]));
    assert!(e.contains("--names gives 1 names for 2 columns") && e.contains("names.npy"), "{e}");
}
