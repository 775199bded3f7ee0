//! `tally schema` and `tally gen`: the generated data set has the documented columns and distributions,
//! checked against the distributions' own parameters (not against earlier tally output).

use crate::util;

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, StringArray};
use arrow_schema::{DataType, Field, Schema};
use predicates::prelude::*;
use util::{Dir, assert_stat_near, assert_u64s, column, expect_success, json_f64, lossy};

fn schema_json(dir: &Dir, name: &str) -> serde_json::Value {
    let out = dir.tally().args(["schema", name, "--format", "json"]).output().unwrap();
    expect_success(&out, "tally schema --format json");
    serde_json::from_slice(&out.stdout).expect("schema output is JSON")
}

/// The generated schema, as documented: names, Arrow types, nullability; rows and batch count.
#[test]
fn gen_writes_the_documented_schema() {
    let dir = Dir::new();
    dir.gen_file("g.arrow", 10_001, 3, 2_500);
    let doc = schema_json(&dir, "g.arrow");
    let mut keys: Vec<&str> = doc.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["columns", "input", "rows", "schema_version"]);
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["input"]["path"], "g.arrow");
    assert_eq!(doc["input"]["format"], "arrow-ipc-file");
    assert_eq!(doc["rows"], 10_001);
    assert_eq!(doc["input"]["batches"], 5, "ceil(10001 / 2500) batches");
    let columns: Vec<(String, String, bool, String)> = doc["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c.as_object().unwrap().len(), 4, "name, type, nullable, statistics: {c}");
            let s = |k: &str| c[k].as_str().unwrap().to_string();
            (s("name"), s("type"), c["nullable"].as_bool().unwrap(), s("statistics"))
        })
        .collect();
    let expected = [
        ("id", "Int64", false),
        ("a", "Float64", false),
        ("b", "Float64", false),
        ("c", "Float64", true),
        ("d", "Float64", false),
        ("k1", "Int32", false),
        ("k2", "Int64", false),
    ];
    assert_eq!(columns.len(), expected.len());
    for ((name, ty, nullable, stats), (en, et, enull)) in columns.iter().zip(expected) {
        assert_eq!((name.as_str(), ty.as_str(), *nullable), (en, et, enull));
        assert_eq!(stats, "all");
    }
}

/// 200,000 rows: every column matches its distribution's parameters, with tolerances of many standard
/// errors (the standard error of the mean of a unit normal is 1/sqrt(200000) ≈ 0.0022).
#[test]
fn gen_data_follows_the_documented_distributions() {
    let dir = Dir::new();
    let n: u64 = 200_000;
    dir.gen_file("g.arrow", n, 1, 65_536);
    let doc = dir.describe_json("g.arrow", &[]);
    assert_eq!(doc["rows"], n);

    let id = column(&doc, "id");
    assert_u64s(id, &[("count", n), ("null_count", 0), ("min", 0), ("max", n - 1), ("sum", n * (n - 1) / 2)]);

    let a = column(&doc, "a");
    assert_u64s(a, &[("count", n), ("null_count", 0), ("nan_count", 0)]);
    assert_stat_near(a, "mean", 0.0, 0.02);
    assert_stat_near(a, "std", 1.0, 0.02);
    assert_stat_near(a, "skewness", 0.0, 0.05);
    assert_stat_near(a, "kurtosis", 0.0, 0.1);

    // lognormal(0, 1): mean e^0.5, positive.
    let b = column(&doc, "b");
    assert_stat_near(b, "mean", 0.5f64.exp(), 0.05);
    assert!(json_f64(&b["min"]) > 0.0, "lognormal values are positive: {b}");

    // uniform [0, 1) with 1% nulls.
    let c = column(&doc, "c");
    let nulls = c["null_count"].as_u64().unwrap();
    assert!((1_600..=2_400).contains(&nulls), "about 1% of {n} rows are null, got {nulls}");
    assert_eq!(c["count"].as_u64().unwrap() + nulls, n);
    let (min, max) = (json_f64(&c["min"]), json_f64(&c["max"]));
    assert!((0.0..1.0).contains(&min) && (0.0..1.0).contains(&max) && min < 0.001 && max > 0.999, "{c}");
    assert_stat_near(c, "mean", 0.5, 0.01);
    assert_stat_near(c, "var", 1.0 / 12.0, 0.002);

    // 1e9 + normal(0, 1): the catastrophic-cancellation column.
    let d = column(&doc, "d");
    assert_stat_near(d, "mean", 1e9, 0.01);
    assert_stat_near(d, "std", 1.0, 0.02);

    let k1 = column(&doc, "k1");
    let (lo, hi) = (k1["min"].as_i64().unwrap(), k1["max"].as_i64().unwrap());
    assert!((0..=999).contains(&lo) && (0..=999).contains(&hi) && lo <= 2 && hi >= 997, "uniform 0..1000: {k1}");
    assert_stat_near(k1, "mean", 499.5, 3.0);

    let k2 = column(&doc, "k2");
    assert!(k2["min"].as_i64().unwrap() >= 0, "k2 ids are non-negative: {k2}");
    assert_eq!(k2["null_count"], 0);
}

/// `--rows` not a multiple of `--batch-rows`, one batch, and zero rows.
#[test]
fn gen_row_and_batch_counts() {
    let dir = Dir::new();
    for (rows, batch, batches) in
        [(1u64, 1_000u64, 1u64), (999, 1_000, 1), (1_000, 1_000, 1), (1_001, 1_000, 2), (7, 2, 4)]
    {
        dir.gen_file("g.arrow", rows, 1, batch);
        let doc = schema_json(&dir, "g.arrow");
        assert_eq!(
            (doc["rows"].as_u64(), doc["input"]["batches"].as_u64()),
            (Some(rows), Some(batches)),
            "{rows}/{batch}"
        );
        let described = dir.describe_json("g.arrow", &[]);
        assert_eq!(column(&described, "id")["max"], rows - 1);
    }
    dir.gen_file("zero.arrow", 0, 1, 1_000);
    let doc = schema_json(&dir, "zero.arrow");
    assert_eq!((doc["rows"].as_u64(), doc["input"]["batches"].as_u64()), (Some(0), Some(0)));
    let described = dir.describe_json("zero.arrow", &[]);
    assert_eq!(described["rows"], 0);
    assert_eq!(column(&described, "a")["count"], 0);
}

/// The progress bar draws only on a terminal: piped stderr stays empty, and gen prints nothing on stdout.
#[test]
fn gen_is_silent_when_not_on_a_terminal() {
    let dir = Dir::new();
    dir.tally()
        .args(["gen", "g.arrow", "--rows", "20000", "--batch-rows", "1000"])
        .assert()
        .success()
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::is_empty());
    // Replaces an existing file (once the new one is complete).
    dir.write("o.arrow", b"not arrow at all");
    dir.tally().args(["gen", "o.arrow", "--rows", "5", "-q"]).assert().success();
    assert_eq!(schema_json(&dir, "o.arrow")["rows"], 5);
}

/// Schema of a hand-made file: types Arrow spells, nullability as written, and which columns tally
/// computes statistics on.
#[test]
fn schema_of_a_custom_file() {
    let dir = Dir::new();
    let fields = vec![
        Field::new("price", DataType::Float64, true),
        Field::new("qty", DataType::Int64, false),
        Field::new("label", DataType::Utf8, true),
    ];
    let schema = Arc::new(Schema::new(fields));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Float64Array::from(vec![Some(1.5), None])),
        Arc::new(Int64Array::from(vec![1, 2])),
        Arc::new(StringArray::from(vec![Some("x"), None])),
    ];
    let batch = arrow_array::RecordBatch::try_new(schema.clone(), columns).unwrap();
    dir.write_schema_and_batches("t.arrow", &schema, &[batch.clone(), batch]);

    let doc = schema_json(&dir, "t.arrow");
    assert_eq!((doc["rows"].as_u64(), doc["input"]["batches"].as_u64()), (Some(4), Some(2)));
    let summary: Vec<String> = doc["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("{} {} {} {}", c["name"], c["type"], c["nullable"], c["statistics"]))
        .collect();
    assert_eq!(
        summary,
        [
            r#""price" "Float64" true "all""#,
            r#""qty" "Int64" false "all""#,
            r#""label" "Utf8" true "counts, min/max, lengths""#,
        ]
    );

    for args in [&["schema", "t.arrow"][..], &["schema", "t.arrow", "--format", "table"]] {
        let out = dir.tally().args(args).output().unwrap();
        expect_success(&out, "tally schema");
        let text = lossy(&out.stdout);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("t.arrow:"), "title names the file:\n{text}");
        for fact in ["4 rows", "2 record batches", "3 columns"] {
            assert!(lines[0].contains(fact), "title says {fact}:\n{text}");
        }
        let row = |name: &str| -> Vec<&str> {
            lines.iter().find(|l| l.split_whitespace().nth(1) == Some(name)).unwrap().split_whitespace().collect()
        };
        assert_eq!(row("price")[..4], ["0", "price", "Float64", "yes"]);
        assert_eq!(row("qty")[..4], ["1", "qty", "Int64", "no"]);
        assert_eq!(row("label")[..4], ["2", "label", "Utf8", "yes"]);
        assert!(text.contains("counts, min/max, lengths"), "{text}");
    }
    // describe agrees on what it computes: counts, extremes and lengths for the string column.
    let doc = dir.describe_json("t.arrow", &[]);
    assert_u64s(column(&doc, "label"), &[("count", 2), ("null_count", 2)]);
    assert_eq!(column(&doc, "qty")["sum"], 6);
}
