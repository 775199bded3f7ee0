//! Inputs other than Arrow IPC through the binary (issue 11): Parquet with every executor and with the decoded
//! data spilled to a temporary file, and the refusals users meet (pipes, encrypted files).

use crate::util;

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Float64Array, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use util::{Dir, assert_no_panic, lossy};

/// 50,000 rows in batches of `batch` rows: `x` floats with nulls, `k` integers.
fn batches(batch: usize) -> Vec<RecordBatch> {
    let schema =
        Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, true), Field::new("k", DataType::Int64, false)]));
    let rows = 50_000usize;
    (0..rows.div_ceil(batch))
        .map(|b| {
            let r = b * batch..((b + 1) * batch).min(rows);
            let x: ArrayRef = Arc::new(Float64Array::from(
                r.clone().map(|i| (!i.is_multiple_of(13)).then(|| (i as f64).sqrt() * 1.1 - 7.0)).collect::<Vec<_>>(),
            ));
            let k: ArrayRef =
                Arc::new(Int64Array::from(r.map(|i| (i as i64 * 7919) % 10_007 - 5_000).collect::<Vec<_>>()));
            RecordBatch::try_new(schema.clone(), vec![x, k]).unwrap()
        })
        .collect()
}

fn write_parquet(dir: &Dir, name: &str, row_group: usize) -> std::path::PathBuf {
    let path = dir.join(name);
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(row_group))
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).unwrap()))
        .build();
    let batches = batches(3_000);
    let mut w = ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), batches[0].schema(), Some(props)).unwrap();
    for b in &batches {
        w.write(b).unwrap();
    }
    w.close().unwrap();
    path
}

/// The `columns` block of describe JSON: everything but the input description.
fn columns(doc: &serde_json::Value) -> String {
    doc["columns"].to_string()
}

#[test]
fn parquet_through_the_binary_equals_arrow_for_every_executor_and_when_spilled_to_disk() {
    let dir = Dir::new();
    write_parquet(&dir, "t.parquet", 10_000);
    dir.write_batches("t.arrow", &batches(10_000));
    let reference = dir.describe_json("t.arrow", &["--executor", "serial", "--chunk-rows", "4096"]);
    for executor in ["serial", "threads", "processes"] {
        let doc = dir.describe_json("t.parquet", &["--executor", executor, "--workers", "3", "--chunk-rows", "4096"]);
        assert_eq!(columns(&doc), columns(&reference), "{executor}");
        assert_eq!(doc["input"]["format"], "parquet");
        assert_eq!(doc["input"]["batches"], 5);
    }
    // The decoded bytes in an unnamed temporary file instead of a memfd: workers inherit its descriptor.
    let out = dir
        .tally()
        .env("TALLY_SPILL", "disk")
        .args(["describe", "t.parquet", "--format", "json", "--executor", "processes", "--workers", "2"])
        .args(["--chunk-rows", "4096"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", lossy(&out.stderr));
    let doc = util::parse_describe_json(&lossy(&out.stdout));
    assert_eq!(columns(&doc), columns(&reference));
}

#[test]
fn parquet_from_a_pipe_and_encrypted_parquet_are_refused_with_a_reason() {
    let dir = Dir::new();
    let path = write_parquet(&dir, "t.parquet", 10_000);
    let out = dir.tally().args(["describe", "-"]).write_stdin(std::fs::read(&path).unwrap()).output().unwrap();
    let err = lossy(&out.stderr);
    assert_no_panic(&out.stderr);
    assert!(out.status.code() == Some(1) && err.contains("pass the file's path"), "{err}");
    // `< t.parquet` is a regular file, not a pipe: it is read.
    let stdin = std::process::Stdio::from(std::fs::File::open(&path).unwrap());
    let out = dir.std_tally().args(["describe", "-", "--format", "json"]).stdin(stdin).output().unwrap();
    assert!(out.status.success(), "{}", lossy(&out.stderr));
    assert_eq!(util::parse_describe_json(&lossy(&out.stdout))["input"]["format"], "parquet");

    let mut bytes = std::fs::read(&path).unwrap();
    bytes[..4].copy_from_slice(b"PARE");
    dir.write("secret.parquet", &bytes);
    let out = dir.tally().args(["describe", "secret.parquet"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(lossy(&out.stderr).contains("encrypted Parquet file"), "{}", lossy(&out.stderr));
}

#[test]
fn csv_flags_reach_the_reader_and_pipes_work() {
    let dir = Dir::new();
    dir.write("e.csv", b"id;price;note\n1;2.5;a\n2;NA;b\n3;-;\"c;d\"\n");
    let out = dir
        .tally()
        .args(["describe", "e.csv", "--format", "json", "--csv-delimiter", ";", "--csv-null", "-", "--csv-null", "NA"])
        .args(["--schema", "id:f64"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", lossy(&out.stderr));
    let doc = util::parse_describe_json(&lossy(&out.stdout));
    assert_eq!(doc["input"]["format"], "csv");
    let price = util::column(&doc, "price");
    assert_eq!((price["count"].as_u64(), price["null_count"].as_u64()), (Some(1), Some(2)));
    assert_eq!(util::column(&doc, "id")["type"], "Float64");
    assert_eq!(util::column(&doc, "note")["count"].as_u64(), Some(3));
    // Through a pipe, with the worker processes reading the decoded segment.
    let out = dir
        .tally()
        .args(["describe", "-", "--format", "json", "--csv-no-header", "--executor", "processes", "--workers", "2"])
        .write_stdin("1,2\n3,4\n")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", lossy(&out.stderr));
    let doc = util::parse_describe_json(&lossy(&out.stdout));
    assert_eq!(util::column(&doc, "c1")["sum"].as_i64(), Some(6));
    // A bad field: exit 1, the line and the column named.
    dir.write("bad.csv", b"a,b\n1,2\n3,x\n");
    let out = dir.tally().args(["describe", "bad.csv", "--schema", "b:i64"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_no_panic(&out.stderr);
    assert!(
        lossy(&out.stderr).contains("bad.csv: column \"b\": line 3: cannot read \"x\" as Int64"),
        "{}",
        lossy(&out.stderr)
    );
    let out = dir.tally().args(["describe", "bad.csv", "--csv-delimiter", "ab"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn csv_projection_with_worker_processes_and_spilled_equals_arrow() {
    let dir = Dir::new();
    // One 50,000-row batch: the CSV store's cut (65,536-row batches) of the same rows.
    let want = batches(65_536);
    dir.write_batches("t.arrow", &want);
    let (x, k) = (want[0].column(0), want[0].column(1));
    let x = x.as_any().downcast_ref::<Float64Array>().unwrap();
    let k = k.as_any().downcast_ref::<Int64Array>().unwrap();
    let mut text = String::from("note,x,k\n");
    for i in 0..x.len() {
        // A column the run does not ask for, full of quoted delimiters and newlines.
        let note = if i % 7 == 0 { format!("\"n, \"\"{i}\"\"\nnext\"") } else { format!("n{i}") };
        let xv = if x.is_null(i) { String::new() } else { format!("{:?}", x.value(i)) };
        text.push_str(&format!("{note},{xv},{}\n", k.value(i)));
    }
    dir.write("t.csv", text.as_bytes());
    for (spill, threads) in [("memory", "1"), ("disk", "3")] {
        let out = dir
            .tally()
            .args(["describe", "t.csv", "--format", "json", "--columns", "x,k", "--executor", "processes"])
            .args(["--workers", "2", "--chunk-rows", "7000", "--csv-threads", threads])
            .env("TALLY_SPILL", spill)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", lossy(&out.stderr));
        let doc = util::parse_describe_json(&lossy(&out.stdout));
        let want = columns(&dir.describe_json("t.arrow", &["--chunk-rows", "7000"]));
        assert_eq!(columns(&doc), want, "spilled to {spill}, {threads} threads");
    }
}

/// A Fortran-order `.npy` (NEP 1 layout, written here byte by byte): 3 columns of 40,000 rows.
fn fortran_npy() -> Vec<u8> {
    let (rows, cols) = (40_000usize, 3usize);
    let mut dict = format!("{{'descr': '<f8', 'fortran_order': True, 'shape': ({rows}, {cols}), }}");
    while !(10 + dict.len() + 1).is_multiple_of(64) {
        dict.push(' ');
    }
    dict.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    for c in 0..cols {
        for r in 0..rows {
            out.extend_from_slice(&((r * (c + 3)) as f64 * 0.25).to_le_bytes());
        }
    }
    out
}

#[test]
fn npy_in_place_through_worker_processes_with_names() {
    let dir = Dir::new();
    dir.write("m.npy", &fortran_npy());
    let run = |executor: &str| {
        let doc = dir.describe_json("m.npy", &["--executor", executor, "--names", "a,b,c", "--chunk-rows", "7000"]);
        assert_eq!(doc["input"]["format"], "npy");
        columns(&doc)
    };
    let serial = run("serial");
    assert_eq!(run("processes"), serial);
    assert!(serial.contains("\"name\":\"c\""), "{serial}");
    let out = dir.tally().args(["describe", "m.npy", "--names", "a,b"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(lossy(&out.stderr).contains("--names gives 2 names for 3 columns"), "{}", lossy(&out.stderr));
}

#[test]
fn a_dataset_of_files_and_patterns_through_worker_processes_lists_its_files() {
    let dir = Dir::new();
    dir.write_batches("all.arrow", &batches(5_000));
    let all = batches(5_000);
    dir.write_batches("part1.arrow", &all[..4]);
    dir.write_batches("part2.arrow", &all[4..7]);
    dir.write_batches("part3.arrow", &all[7..]);
    let reference = dir.describe_json("all.arrow", &["--executor", "serial", "--chunk-rows", "3000"]);
    let out = dir
        .tally()
        .args(["describe", "part1.arrow", "part[23].arrow", "--format", "json", "--executor", "processes"])
        .args(["--workers", "2", "--chunk-rows", "3000"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", lossy(&out.stderr));
    let doc = util::parse_describe_json(&lossy(&out.stdout));
    assert_eq!(columns(&doc), columns(&reference));
    assert_eq!(doc["input"]["files"], serde_json::json!(["part1.arrow", "part2.arrow", "part3.arrow"]));
    let out = dir.tally().args(["describe", "all.arrow", "nothing-*.arrow"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(lossy(&out.stderr).contains("matches no file"), "{}", lossy(&out.stderr));
}

/// `tally convert IN OUT` for each format, asserting success.
fn convert(dir: &Dir, args: &[&str]) {
    let out = dir.tally().arg("convert").args(args).arg("-q").output().unwrap();
    assert!(out.status.success(), "convert {args:?}: {}", lossy(&out.stderr));
}

#[test]
fn convert_round_trips_parquet_csv_npy_and_datasets_to_zero_copy_arrow() {
    let dir = Dir::new();
    write_parquet(&dir, "t.parquet", 10_000);
    dir.write_batches("t.arrow", &batches(10_000));
    let reference = columns(&dir.describe_json("t.arrow", &["--executor", "serial"]));
    for (args, name) in [
        (vec!["t.parquet", "p.arrow"], "p.arrow"),
        (vec!["t.parquet", "pz.arrow", "--compression", "zstd"], "pz.arrow"),
        (vec!["t.parquet", "pl.arrow", "--compression", "lz4"], "pl.arrow"),
    ] {
        convert(&dir, &args);
        let doc = dir.describe_json(name, &["--executor", "processes"]);
        assert_eq!(columns(&doc), reference, "{args:?}");
        let want = if name == "p.arrow" { "arrow-ipc-file" } else { "arrow-ipc-file (compressed)" };
        assert_eq!(doc["input"]["format"], want);
    }
    // The converted file is mapped in place: tally decodes with alignment required and notes any batch it
    // had to copy, so no note means every buffer was aligned.
    let bytes = dir.read("p.arrow");
    assert_eq!(&bytes[..6], b"ARROW1");
    let out = dir.tally().args(["describe", "p.arrow", "-q"]).output().unwrap();
    assert!(!lossy(&out.stderr).contains("misaligned"), "{}", lossy(&out.stderr));

    // CSV and .npy: convert, then describe equals describing the original.
    dir.write("c.csv", b"a;b\n1;2.5\n2;NA\n3;4.25\n");
    convert(&dir, &["c.csv", "c.arrow", "--csv-delimiter", ";"]);
    let csv = dir.tally().args(["describe", "c.csv", "--format", "json", "--csv-delimiter", ";"]).output().unwrap();
    assert_eq!(columns(&dir.describe_json("c.arrow", &[])), columns(&util::parse_describe_json(&lossy(&csv.stdout))));
    // A CSV of several pieces and batches, decoded straight into the output: the same statistics as the
    // CSV itself, batches on the 65,536-row grid, and a progress bar that ends at every row.
    let mut big = String::from("i,x,s,q\n");
    for i in 0..200_000u64 {
        let x = if i % 97 == 0 { "NA".to_string() } else { format!("{}", (i as f64 * 0.37).sin() * 1e3) };
        // Every 50,000th record is quoted: those pieces go through arrow-csv, the rest through plain.rs.
        let q = if i % 50_000 == 7 { "\"a,b\"" } else { "z" };
        big.push_str(&format!("{i},{x},s{},{q}\n", i % 13));
    }
    dir.write("big.csv", big.as_bytes());
    let out = dir.tally().args(["convert", "big.csv", "big.arrow", "-vv"]).output().unwrap();
    assert!(out.status.success(), "{}", lossy(&out.stderr));
    let csv = dir.tally().args(["describe", "big.csv", "--format", "json"]).output().unwrap();
    let want = columns(&util::parse_describe_json(&lossy(&csv.stdout)));
    assert_eq!(columns(&dir.describe_json("big.arrow", &["--executor", "serial"])), want);
    let schema = dir.tally().args(["schema", "big.arrow", "--format", "json"]).output().unwrap();
    let schema: serde_json::Value = serde_json::from_str(&lossy(&schema.stdout)).unwrap();
    assert_eq!(schema["rows"], 200_000, "{schema}");
    assert_eq!(schema["input"]["batches"], 4, "{schema}");
    dir.write("m.npy", &fortran_npy());
    convert(&dir, &["m.npy", "m.arrow"]);
    assert_eq!(columns(&dir.describe_json("m.arrow", &[])), columns(&dir.describe_json("m.npy", &[])));
    // A dataset into one file.
    dir.write_batches("d1.arrow", &batches(10_000)[..2]);
    dir.write_batches("d2.arrow", &batches(10_000)[2..]);
    convert(&dir, &["d1.arrow", "d2.arrow", "d.arrow"]);
    assert_eq!(columns(&dir.describe_json("d.arrow", &["--executor", "serial"])), reference);
}

#[test]
fn convert_never_leaves_a_partial_output_and_refuses_its_input() {
    let dir = Dir::new();
    dir.write("bad.csv", b"a,b\n1,2\n3,x\n");
    dir.write("old.arrow", b"keep me");
    let out = dir.tally().args(["convert", "bad.csv", "old.arrow", "--schema", "b:i64"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(lossy(&out.stderr).contains("line 3"), "{}", lossy(&out.stderr));
    assert_eq!(dir.read("old.arrow"), b"keep me", "a failed convert must not touch the old output");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 2, "temporary files left behind: {leftovers:?}");
    write_parquet(&dir, "t.parquet", 10_000);
    let out = dir.tally().args(["convert", "t.parquet", "t.parquet"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let out = dir.tally().args(["convert", "t.parquet", "t.csv"]).output().unwrap();
    assert!(lossy(&out.stderr).contains("writes Arrow IPC files only"), "{}", lossy(&out.stderr));
    let out = dir.tally().args(["convert", "t.parquet"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
