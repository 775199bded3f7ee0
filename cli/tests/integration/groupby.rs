//! `tally groupby` from the command line: the JSON shape of the issue, table/CSV/Arrow, `--sort --desc
//! --limit`, byte-identical results for every executor and worker count (and after a worker crash),
//! `--save-state` + `merge`, and errors that say where they are.

use crate::util;

use std::sync::Arc;

use arrow_array::types::Int8Type;
use arrow_array::{ArrayRef, DictionaryArray, Float64Array, Int8Array, StringArray};
use serde_json::{Value, json};
use util::{Dir, expect_success, i64s, lossy};

fn run(dir: &Dir, args: &[&str]) -> std::process::Output {
    dir.tally().args(args).arg("-q").output().expect("run tally")
}

fn json_of(dir: &Dir, args: &[&str]) -> Value {
    let out = dir.tally().args(args).args(["--format", "json", "-q"]).output().unwrap();
    expect_success(&out, &format!("{args:?}"));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", lossy(&out.stdout)))
}

/// Ten rows by hand: string keys with a null, a dictionary key whose dictionary holds a null and an unused
/// entry, values with a null, a NaN and an infinity.
fn small(dir: &Dir) {
    let s: ArrayRef = Arc::new(StringArray::from(vec![
        Some("b"),
        Some("a"),
        None,
        Some("b"),
        Some("a"),
        Some("B"),
        None,
        Some("a"),
        Some("b"),
        Some("b"),
    ]));
    let dict = DictionaryArray::<Int8Type>::try_new(
        Int8Array::from(vec![Some(0), Some(1), Some(2), None, Some(0), Some(2), Some(0), Some(1), Some(2), Some(0)]),
        Arc::new(StringArray::from(vec![Some("x"), None, Some("y"), Some("never")])),
    )
    .unwrap();
    let v: ArrayRef = Arc::new(Float64Array::from(vec![
        Some(1.0),
        Some(2.0),
        Some(3.0),
        None,
        Some(f64::NAN),
        Some(6.0),
        Some(7.0),
        Some(8.0),
        Some(f64::INFINITY),
        Some(10.0),
    ]));
    let n = i64s(&[Some(1), Some(2), Some(3), Some(4), Some(5), Some(6), Some(7), Some(8), None, Some(10)]);
    dir.write_arrow("s.arrow", vec![("s", s), ("d", Arc::new(dict)), ("v", v), ("n", n)]);
}

#[test]
fn json_has_the_documented_shape_and_values() {
    let dir = Dir::new();
    small(&dir);
    let doc = json_of(
        &dir,
        &["groupby", "s.arrow", "--by", "s", "--agg", "count,count(v),sum(v),mean(n),max(n),nan_count(v)"],
    );
    assert_eq!(doc["analysis"], "groupby");
    assert_eq!(doc["by"], json!(["s"]));
    assert_eq!(doc["aggregations"], json!(["count", "count(v)", "sum(v)", "mean(n)", "max(n)", "nan_count(v)"]));
    assert_eq!(doc["group_count"], 4);
    // Bytewise: "B" < "a" < "b", null last. Group b: v = 1, null, inf, 10; n = 1, 4, null, 10.
    let expected = json!([
        {"key": {"s": "B"}, "count": 1, "count(v)": 1, "sum(v)": 6.0, "mean(n)": 6.0, "max(n)": 6, "nan_count(v)": 0},
        {"key": {"s": "a"}, "count": 3, "count(v)": 2, "sum(v)": 10.0, "mean(n)": 5.0, "max(n)": 8, "nan_count(v)": 1},
        {"key": {"s": "b"}, "count": 4, "count(v)": 3, "sum(v)": "inf", "mean(n)": 5.0, "max(n)": 10,
         "nan_count(v)": 0},
        {"key": {"s": null}, "count": 2, "count(v)": 2, "sum(v)": 10.0, "mean(n)": 5.0, "max(n)": 7, "nan_count(v)": 0},
    ]);
    assert_eq!(doc["groups"], expected);
    // Key order in the text: "key" first, then the aggregations in --agg order.
    let raw =
        lossy(&run(&dir, &["groupby", "s.arrow", "--by", "s", "--agg", "sum(v),count", "--format", "json"]).stdout);
    let raw = &raw[raw.find("\"groups\"").unwrap()..];
    let (k, s, c) = (raw.find("\"key\"").unwrap(), raw.find("\"sum(v)\"").unwrap(), raw.find("\"count\"").unwrap());
    assert!(k < s && s < c, "{raw}");
}

#[test]
fn dictionary_keys_with_a_null_entry_and_two_columns() {
    let dir = Dir::new();
    small(&dir);
    let doc = json_of(&dir, &["groupby", "s.arrow", "--by", "d,s", "--agg", "count"]);
    // d: x, null(entry), y, null(key), x, y, x, null(entry), y, x; the unused "never" is no group.
    let keys: Vec<(Value, Value, u64)> = doc["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["key"]["d"].clone(), g["key"]["s"].clone(), g["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        keys,
        vec![
            (json!("x"), json!("a"), 1),
            (json!("x"), json!("b"), 2),
            (json!("x"), json!(null), 1),
            (json!("y"), json!("B"), 1),
            (json!("y"), json!("b"), 1),
            (json!("y"), json!(null), 1),
            (json!(null), json!("a"), 2),
            (json!(null), json!("b"), 1),
        ]
    );
}

#[test]
fn table_csv_and_arrow_outputs() {
    let dir = Dir::new();
    small(&dir);
    let out = run(&dir, &["groupby", "s.arrow", "--by", "s", "--agg", "count,mean(v)"]);
    expect_success(&out, "table");
    let table = lossy(&out.stdout);
    assert!(table.contains("4 groups by s") && table.contains("<null>") && table.contains("mean(v)"), "{table}");
    let out = run(&dir, &["groupby", "s.arrow", "--by", "s", "--agg", "count,mean(v)", "--format", "csv"]);
    assert_eq!(lossy(&out.stdout), "s,count,mean(v)\nB,1,6.0\na,3,5.0\nb,4,inf\n,2,5.0\n");
    let out = run(&dir, &["groupby", "s.arrow", "--by", "s", "--agg", "count,sum(n)", "-o", "g.arrow"]);
    expect_success(&out, "arrow");
    let file = std::fs::File::open(dir.join("g.arrow")).unwrap();
    let reader = arrow_ipc::reader::FileReader::try_new(file, None).unwrap();
    let batches: Vec<_> = reader.collect::<Result<_, _>>().unwrap();
    let schema = batches[0].schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["s", "count", "sum(n)"]);
    assert_eq!(batches[0].num_rows(), 4);
    assert_eq!(batches[0].column(0).null_count(), 1);
}

#[test]
fn sort_desc_limit() {
    let dir = Dir::new();
    small(&dir);
    let doc = json_of(
        &dir,
        &["groupby", "s.arrow", "--by", "s", "--agg", "count", "--sort", "count", "--desc", "--limit", "3"],
    );
    let got: Vec<(Value, u64)> = doc["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["key"]["s"].clone(), g["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(got, vec![(json!("b"), 4), (json!("a"), 3), (json!(null), 2)]);
    assert_eq!(doc["group_count"], 4);
}

/// The parallel executors `groupby --help` lists besides `serial`.
fn executors(dir: &Dir) -> Vec<&'static str> {
    let help = lossy(&run(dir, &["groupby", "--help"]).stdout);
    ["threads", "processes"].into_iter().filter(|e| *e == "threads" || help.contains(e)).collect()
}

#[test]
fn byte_identical_for_every_executor_and_worker_count_and_after_a_crash() {
    let dir = Dir::new();
    dir.gen_file("g.arrow", 200_000, 2, 70_000);
    for agg in [
        &["--by", "k1", "--agg", "count,mean(a),std(b),sum(k2),min(c)"][..],
        &["--by", "k2", "--agg", "count,mean(a),var(d)"],
    ] {
        let with = |extra: &[&str]| {
            let mut args = vec!["groupby", "g.arrow", "--format", "json", "--chunk-rows", "9000"];
            args.extend_from_slice(agg);
            args.extend_from_slice(extra);
            let out = run(&dir, &args);
            expect_success(&out, &format!("{args:?}"));
            out.stdout
        };
        let oracle = with(&["--executor", "serial"]);
        for executor in executors(&dir) {
            for workers in ["1", "2", "3", "7"] {
                assert!(
                    with(&["--executor", executor, "--workers", workers]) == oracle,
                    "{executor} × {workers} {agg:?}"
                );
            }
        }
        if executors(&dir).contains(&"processes") {
            let out = dir
                .tally()
                .args(["groupby", "g.arrow", "--format", "json", "--chunk-rows", "9000", "--executor", "processes"])
                .args(["--workers", "3", "-q"])
                .args(agg)
                .env("TALLY_FAULT", "abort:chunk=5:worker=0")
                .output()
                .unwrap();
            assert!(out.stdout == oracle, "after a worker crash: {}", lossy(&out.stderr));
        }
    }
}

#[test]
fn saved_states_merge_into_the_group_by_of_both_files() {
    let dir = Dir::new();
    dir.gen_file("g.arrow", 60_000, 4, 30_000);
    let agg = ["--by", "k1", "--agg", "count,sum(k2),mean(a),min(c),null_count(c)", "--chunk-rows", "30000"];
    json_of(&dir, &[&["groupby", "g.arrow", "--where", "id < 30000", "--save-state", "a.tstate"][..], &agg].concat());
    json_of(&dir, &[&["groupby", "g.arrow", "--where", "id >= 30000", "--save-state", "b.tstate"][..], &agg].concat());
    let out = run(&dir, &["merge", "a.tstate", "b.tstate", "--format", "json"]);
    // States of different filters must not mix silently.
    assert!(!out.status.success() && lossy(&out.stderr).contains("where"), "{}", lossy(&out.stderr));
    // Without filters: two halves of the rows as two files.
    dir.gen_file("h.arrow", 60_000, 4, 30_000);
    json_of(&dir, &[&["groupby", "g.arrow", "--save-state", "g.tstate"][..], &agg].concat());
    json_of(&dir, &[&["groupby", "h.arrow", "--save-state", "h.tstate"][..], &agg].concat());
    // CSV keeps the exact integer sums as text (JSON readers may parse them into doubles).
    let csv = |args: &[&str]| util::parse_csv(&lossy(&run(&dir, &[args, &["--format", "csv"]].concat()).stdout));
    let merged = csv(&["merge", "g.tstate", "h.tstate"]);
    let whole = csv(&[&["groupby", "g.arrow"][..], &agg].concat());
    assert_eq!(merged[0], ["k1", "count", "sum(k2)", "mean(a)", "min(c)", "null_count(c)"]);
    assert_eq!((merged.len(), whole.len()), (1001, 1001));
    let int = |s: &str| s.parse::<i128>().unwrap_or_else(|e| panic!("{s}: {e}"));
    for (gm, gw) in merged[1..].iter().zip(&whole[1..]) {
        assert_eq!((&gm[0], &gm[4]), (&gw[0], &gw[4]), "key and min");
        for i in [1, 2, 5] {
            assert_eq!(int(&gm[i]), 2 * int(&gw[i]), "{}", merged[0][i]);
        }
    }
}

#[test]
fn errors_name_the_position_or_the_column() {
    let dir = Dir::new();
    small(&dir);
    let fails = |args: &[&str]| {
        let out = run(&dir, args);
        assert!(!out.status.success(), "{args:?} should fail");
        util::assert_no_panic(&out.stderr);
        lossy(&out.stderr)
    };
    let e = fails(&["groupby", "s.arrow", "--by", "s", "--agg", "count,maen(v)"]);
    assert!(e.contains("unknown aggregation \"maen\" at position 7"), "{e}");
    let e = fails(&["groupby", "s.arrow", "--by", "v"]);
    assert!(e.contains("group-by keys are integers, booleans or strings") && e.contains("s.arrow"), "{e}");
    let e = fails(&["groupby", "s.arrow", "--by", "s", "--agg", "mean(s)"]);
    assert!(e.contains("not a number"), "{e}");
    let e = fails(&["groupby", "s.arrow", "--by", "s", "--sort", "mean(v)"]);
    assert!(e.contains("--sort mean(v): not one of the aggregations (count)"), "{e}");
}

#[test]
fn the_memory_guard_refuses_with_a_message_that_suggests_approx() {
    let dir = Dir::new();
    dir.gen_file("g.arrow", 50_000, 1, 50_000);
    for args in [
        &["groupby", "g.arrow", "--by", "id"][..],
        &["distinct", "g.arrow", "--columns", "id"],
        &["top", "g.arrow", "--column", "id"],
    ] {
        let out = run(&dir, &[args, &["--memory-limit", "1M"]].concat());
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = lossy(&out.stderr);
        assert!(err.contains("more than the memory limit of 1 MiB") && err.contains("distinct --approx"), "{err}");
    }
    // The same limit is plenty for k1's thousand groups (a sketch pass finds that out first).
    let doc = json_of(&dir, &["groupby", "g.arrow", "--by", "k1", "--memory-limit", "1M"]);
    assert_eq!(doc["group_count"], 1000);
    let out = run(&dir, &["distinct", "g.arrow", "--columns", "id", "--approx", "--memory-limit", "1M"]);
    expect_success(&out, "approx needs no guard");
}
