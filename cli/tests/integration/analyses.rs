//! `hist`, `corr`, `merge`, `--where` and `--save-state` from the command line: every subcommand, format
//! and error path, run as a user runs them. Expected values are computed here by brute force.

use crate::util;

use serde_json::Value;
use util::{Dir, expect_success, f64s, i64s, lossy};

fn json(dir: &Dir, args: &[&str]) -> Value {
    let out = dir.tally().args(args).args(["--format", "json", "-q"]).output().unwrap();
    expect_success(&out, &format!("{args:?}"));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", lossy(&out.stdout)))
}

fn fails(dir: &Dir, args: &[&str]) -> String {
    let out = dir.tally().args(args).arg("-q").output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{args:?} should fail: {}", lossy(&out.stderr));
    util::assert_no_panic(&out.stderr);
    lossy(&out.stderr)
}

/// `x` with values on the edges of 0..4 in 4 bins, a null, a NaN and ±inf; `k` an integer key.
fn small(dir: &Dir) {
    let x = [Some(0.0), Some(1.0), Some(1.5), Some(2.0), Some(4.0), Some(3.999), None, Some(f64::NAN), Some(-1.0)];
    let x: Vec<Option<f64>> = x.into_iter().chain([Some(f64::INFINITY), Some(f64::NEG_INFINITY)]).collect();
    let k: Vec<Option<i64>> = (0..x.len() as i64).map(Some).collect();
    dir.write_arrow("s.arrow", vec![("x", f64s(&x)), ("k", i64s(&k))]);
}

#[test]
fn hist_counts_follow_numpy_edges_and_count_the_rest_apart() {
    let dir = Dir::new();
    small(&dir);
    let doc = json(&dir, &["hist", "s.arrow", "--column", "x", "--bins", "4", "--range", "0,4"]);
    assert_eq!(doc["edges"], serde_json::json!([0.0, 1.0, 2.0, 3.0, 4.0]));
    // [0,1): 0 | [1,2): 1, 1.5 | [2,3): 2 | [3,4]: 3.999, 4 (last bin closed)
    assert_eq!(doc["counts"], serde_json::json!([1, 2, 1, 2]));
    assert_eq!((doc["underflow"].as_u64(), doc["overflow"].as_u64()), (Some(2), Some(1)), "-1 and -inf; +inf");
    assert_eq!((doc["null_count"].as_u64(), doc["nan_count"].as_u64()), (Some(1), Some(1)));
    // Without --range: the finite min..max, last edge exactly the max.
    let auto = json(&dir, &["hist", "s.arrow", "--column", "x", "--bins", "5"]);
    assert_eq!(auto["edges"][0].as_f64(), Some(-1.0));
    assert_eq!(auto["edges"][5].as_f64(), Some(4.0));
    // Explicit edges, and integer columns.
    let edges = json(&dir, &["hist", "s.arrow", "--column", "k", "--edges", "0,5,10"]);
    assert_eq!(edges["counts"], serde_json::json!([5, 6]), "0..4 | 5..10 with 10 in the closed last bin");
}

#[test]
fn hist_table_csv_arrow_and_plot() {
    let dir = Dir::new();
    dir.gen_file("g.arrow", 20_000, 1, 5_000);
    let out = dir
        .tally()
        .args(["hist", "g.arrow", "--column", "a", "--bins", "8", "-q"])
        .env("COLUMNS", "60")
        .output()
        .unwrap();
    expect_success(&out, "hist table");
    let text = lossy(&out.stdout);
    assert!(text.lines().all(|l| l.chars().count() <= 60), "fits 60 columns:\n{text}");
    assert!(text.contains("20000 values in 8 bins"), "{text}");
    let csv = dir
        .tally()
        .args(["hist", "g.arrow", "--column", "a", "--bins", "8", "--format", "csv", "-q"])
        .output()
        .unwrap();
    let rows = util::parse_csv(&lossy(&csv.stdout));
    assert_eq!(rows[0], ["lo", "hi", "count"]);
    let total: u64 = rows[1..].iter().map(|r| r[2].parse::<u64>().unwrap()).sum();
    assert_eq!((rows.len(), total), (9, 20_000));
    let arrow = dir
        .tally()
        .args(["hist", "g.arrow", "--column", "b", "--bins", "100", "--format", "arrow", "-o", "h.arrow", "-q"])
        .output()
        .unwrap();
    expect_success(&arrow, "hist arrow");
    let schema = dir.tally().args(["schema", "h.arrow", "--format", "json"]).output().unwrap();
    assert!(lossy(&schema.stdout).contains("\"count\""), "{}", lossy(&schema.stdout));
    let plot = dir
        .tally()
        .args(["hist", "g.arrow", "--column", "a", "--plot", "a.svg", "-q", "--format", "json"])
        .output()
        .unwrap();
    expect_success(&plot, "hist plot");
    let svg = String::from_utf8(dir.read("a.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("a (Float64)"), "{}", &svg[..svg.len().min(200)]);
}

#[test]
fn hist_bad_options_are_clear_errors() {
    let dir = Dir::new();
    small(&dir);
    for (args, says) in [
        (&["--bins", "0"][..], "must be at least 1"),
        (&["--range", "4,0"], "above the high end"),
        (&["--range", "1"], "not LO,HI"),
        (&["--edges", "0,2,1"], "increase monotonically"),
        (&["--edges", "0,1", "--range", "0,1"], "exclude each other"),
    ] {
        let out = dir.tally().args(["hist", "s.arrow", "--column", "x"]).args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        assert!(lossy(&out.stderr).contains(says), "{args:?}: {}", lossy(&out.stderr));
    }
    let err = fails(&dir, &["hist", "s.arrow", "--column", "nope"]);
    assert!(err.contains("no column named \"nope\""), "{err}");
    dir.write_arrow(
        "str.arrow",
        vec![("s", std::sync::Arc::new(arrow_array::StringArray::from(vec!["a"]))), ("v", f64s(&[Some(1.0)]))],
    );
    let err = fails(&dir, &["hist", "str.arrow", "--column", "s"]);
    assert!(err.contains("not a number") && err.contains("numeric columns are: v"), "{err}");
}

#[test]
fn corr_matrix_is_pairwise_complete_with_null_for_constant_columns() {
    let dir = Dir::new();
    let x = [Some(1.0), Some(2.0), Some(3.0), None, Some(5.0), Some(f64::NAN)];
    let y = [Some(2.0), Some(4.0), Some(7.0), Some(8.0), None, Some(1.0)];
    let c = [Some(3.0); 6];
    dir.write_arrow("c.arrow", vec![("x", f64s(&x)), ("y", f64s(&y)), ("c", f64s(&c))]);
    let doc = json(&dir, &["corr", "c.arrow", "--columns", "x,y,c"]);
    assert_eq!(doc["method"], "pearson");
    // Pairs (x, y) where both are usable: (1,2), (2,4), (3,7): r = 13/sqrt(2·(56/3)·... ) computed exactly:
    // mx = 2, my = 13/3; Sxy = 5, Sxx = 2, Syy = 38/3 → r = 5/sqrt(2·38/3) = 5/sqrt(76/3).
    let r = 5.0 / (76.0f64 / 3.0).sqrt();
    let got = doc["matrix"][0][1].as_f64().unwrap();
    assert!((got - r).abs() < 1e-15, "{got} vs {r}");
    assert_eq!(doc["n_pairs"][0][1].as_u64(), Some(3));
    assert_eq!(doc["n_pairs"][0][0].as_u64(), Some(4), "x alone: 1, 2, 3, 5");
    assert_eq!(doc["matrix"][0][0].as_f64(), Some(1.0));
    for i in 0..3 {
        assert!(doc["matrix"][2][i].is_null() && doc["matrix"][i][2].is_null(), "constant column: null");
    }
    let cov = json(&dir, &["corr", "c.arrow", "--columns", "x,y", "--cov"]);
    assert_eq!(cov["method"], "cov");
    // Sxy / (n - 1) = 5 / 2, within the co-moment kernel's bound (a few ulps of a two-pass reduction).
    let c01 = cov["matrix"][0][1].as_f64().unwrap();
    assert!((c01 - 2.5).abs() <= 4.0 * f64::EPSILON * 2.5, "{c01}");
    // A matrix wider than the terminal is printed in blocks of columns, each line within the width.
    let out =
        dir.tally().args(["corr", "c.arrow", "--columns", "x,y,c,x,y", "-q"]).env("COLUMNS", "30").output().unwrap();
    let text = lossy(&out.stdout);
    assert!(text.lines().skip(1).all(|l| l.chars().count() <= 30) && text.contains("\n\n"), "{text}");
    let err = fails(&dir, &["corr", "c.arrow", "--columns", "x"]);
    assert!(err.contains("at least two columns"), "{err}");
    // Without --columns: every numeric column, in file order (the string column is left out).
    dir.write_arrow(
        "mixed.arrow",
        vec![
            ("x", f64s(&x)),
            ("s", std::sync::Arc::new(arrow_array::StringArray::from(vec!["a"; 6]))),
            ("y", f64s(&y)),
        ],
    );
    let all = json(&dir, &["corr", "mixed.arrow"]);
    assert_eq!(all["columns"], serde_json::json!(["x", "y"]));
    assert_eq!(all["matrix"][0][1].as_f64(), Some(got));
    dir.write_arrow(
        "one.arrow",
        vec![("x", f64s(&x)), ("s", std::sync::Arc::new(arrow_array::StringArray::from(vec!["a"; 6])))],
    );
    let err = fails(&dir, &["corr", "one.arrow"]);
    assert!(err.contains("at least two numeric columns; this input has 1 (x)"), "{err}");
}

#[test]
fn new_analyses_are_bit_identical_across_executors_and_worker_counts() {
    let dir = Dir::new();
    dir.gen_file("g.arrow", 30_000, 2, 7_000);
    for args in [
        &["hist", "g.arrow", "--column", "b", "--bins", "50"][..],
        &["corr", "g.arrow", "--columns", "a,b,c,d,k1,k2"],
        &["describe", "g.arrow", "--where", "k1 < 500 and c is not null"],
    ] {
        let run = |extra: &[&str]| {
            let out = dir
                .tally()
                .args(args)
                .args(["--format", "json", "-q", "--chunk-rows", "4096"])
                .args(extra)
                .output()
                .unwrap();
            expect_success(&out, &format!("{args:?} {extra:?}"));
            out.stdout
        };
        let oracle = run(&["--executor", "serial"]);
        for workers in ["1", "2", "3", "7"] {
            assert!(run(&["--executor", "threads", "--workers", workers]) == oracle, "{args:?} threads x {workers}");
            assert!(
                run(&["--executor", "processes", "--workers", workers]) == oracle,
                "{args:?} processes x {workers}"
            );
        }
    }
}

#[test]
fn where_filters_every_analysis_and_reports_the_rows_that_passed() {
    let dir = Dir::new();
    small(&dir);
    let doc = json(&dir, &["describe", "s.arrow", "--where", "k >= 2 and k < 6"]);
    assert_eq!(doc["rows"].as_u64(), Some(4));
    assert_eq!(doc["where"]["input_rows"].as_u64(), Some(11));
    let x = util::column(&doc, "x");
    assert_eq!((x["count"].as_u64(), x["null_count"].as_u64()), (Some(4), Some(0)), "1.5, 2, 4, 3.999");
    let h =
        json(&dir, &["hist", "s.arrow", "--column", "x", "--bins", "4", "--range", "0,4", "--where", "x is not null"]);
    assert_eq!(h["null_count"].as_u64(), Some(0));
    let table = dir.tally().args(["describe", "s.arrow", "--where", "k < 3", "-q"]).output().unwrap();
    assert!(lossy(&table.stdout).contains("3 of 11 rows where k < 3"), "{}", lossy(&table.stdout));
    for (expr, says) in [
        ("k < )", "Line: 1, Column: 5"),
        ("zz > 1", "unknown column \"zz\"; the columns are: x, k"),
        ("x = 'a'", "x"),
        ("sqrt(x) > 1", "not supported"),
    ] {
        let err = fails(&dir, &["describe", "s.arrow", "--where", expr]);
        assert!(err.contains(says) && err.contains("s.arrow"), "{expr}: {err}");
    }
}

#[test]
fn saved_states_merge_into_the_analysis_of_both_files() {
    let dir = Dir::new();
    let first: Vec<Option<f64>> = (0..500).map(|i| Some(i as f64 * 0.25)).collect();
    let second: Vec<Option<f64>> = (500..1200).map(|i| if i % 7 == 0 { None } else { Some(i as f64 * 0.25) }).collect();
    let both: Vec<Option<f64>> = first.iter().chain(&second).copied().collect();
    dir.write_arrow("day1.arrow", vec![("v", f64s(&first))]);
    dir.write_arrow("day2.arrow", vec![("v", f64s(&second))]);
    dir.write_arrow("both.arrow", vec![("v", f64s(&both))]);
    for args in [&["describe"][..], &["hist", "--column", "v", "--bins", "7", "--range", "0,300"]] {
        let with = |file: &str, extra: &[&str]| {
            let mut a: Vec<&str> = vec![args[0], file];
            a.extend(&args[1..]);
            a.extend(extra);
            json(&dir, &a)
        };
        let (s1, s2) = (format!("{}1.tstate", args[0]), format!("{}2.tstate", args[0]));
        with("day1.arrow", &["--save-state", &s1]);
        with("day2.arrow", &["--save-state", &s2]);
        let merged = json(&dir, &["merge", &s1, &s2]);
        let whole = with("both.arrow", &[]);
        if args[0] == "hist" {
            assert_eq!(merged["counts"], whole["counts"]);
        } else {
            let (m, w) = (util::column(&merged, "v"), util::column(&whole, "v"));
            for stat in ["count", "null_count", "min", "max", "sum", "mean"] {
                assert_eq!(m[stat], w[stat], "{stat}");
            }
        }
        assert_eq!(merged["input"]["path"], "day1.arrow + day2.arrow");
    }
    // Mismatched and corrupt states.
    json(&dir, &["describe", "day1.arrow", "--save-state", "x.tstate", "--compensated"]);
    json(&dir, &["hist", "day1.arrow", "--column", "v", "--save-state", "h.tstate"]);
    let out = dir.tally().args(["merge", "describe1.tstate", "x.tstate"]).output().unwrap();
    assert!(lossy(&out.stderr).contains("cannot merge describe1.tstate with x.tstate"), "{}", lossy(&out.stderr));
    let out = dir.tally().args(["merge", "describe1.tstate", "h.tstate"]).output().unwrap();
    assert!(lossy(&out.stderr).contains("describe state, the other a hist state"), "{}", lossy(&out.stderr));
    let mut bytes = dir.read("describe1.tstate");
    bytes.truncate(bytes.len() - 3);
    dir.write("cut.tstate", &bytes);
    let out = dir.tally().args(["merge", "cut.tstate"]).output().unwrap();
    assert!(
        lossy(&out.stderr).contains("cut.tstate") && lossy(&out.stderr).contains("truncated"),
        "{}",
        lossy(&out.stderr)
    );
    let out = dir.tally().args(["merge", "day1.arrow"]).output().unwrap();
    assert!(lossy(&out.stderr).contains("not a tally state file"), "{}", lossy(&out.stderr));
}
