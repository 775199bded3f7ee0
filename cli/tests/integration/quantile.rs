//! `tally quantile` as users meet it: the JSON shape, the same bits for every executor and worker count,
//! a crashed worker mid-pass, the approximate sketch's saved states, and the errors.

use crate::util;

use serde_json::Value;
use util::{Dir, assert_no_panic, lossy};

fn setup() -> Dir {
    let dir = Dir::new();
    dir.gen_file("g.arrow", 120_000, 5, 20_000);
    dir
}

fn quantile(dir: &Dir, args: &[&str]) -> std::process::Output {
    dir.tally().args(["quantile", "g.arrow", "--format", "json", "--chunk-rows", "5000"]).args(args).output().unwrap()
}

fn json(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{}", lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn json_names_method_count_quantiles_and_passes() {
    let dir = setup();
    let doc = json(&quantile(&dir, &["--column", "k1", "--q", "0,0.5,1", "--method", "nearest"]));
    assert_eq!(doc["analysis"], "quantile");
    assert_eq!(doc["method"], "nearest");
    assert_eq!(doc["count"], 120_000);
    assert_eq!(doc["exact"], true);
    assert!(doc["passes"].as_u64().unwrap() <= 2);
    let qs = doc["quantiles"].as_array().unwrap();
    assert_eq!(qs.len(), 3);
    assert_eq!(qs[0]["q"], "0");
    // k1 is an integer column: exact integers, and its range is 0..=999.
    assert_eq!(qs[0]["value"], 0);
    assert_eq!(qs[2]["value"], 999);
}

#[test]
fn same_bits_for_every_executor_and_worker_count_and_after_a_crash() {
    let dir = setup();
    let args = ["--column", "b", "--q", "0.01,0.5,0.9,0.99,0.999"];
    let serial = quantile(&dir, &[&args[..], &["--executor", "serial"]].concat());
    assert!(serial.status.success(), "{}", lossy(&serial.stderr));
    for (executor, workers) in [("threads", "3"), ("processes", "1"), ("processes", "2"), ("processes", "7")] {
        let out = quantile(&dir, &[&args[..], &["--executor", executor, "--workers", workers]].concat());
        assert!(out.status.success(), "{}", lossy(&out.stderr));
        assert!(out.stdout == serial.stdout, "{executor} x {workers} differs from serial");
    }
    // A worker dies as the second pass arrives, its replacement dies inside that pass: their chunks are
    // redone, the answer does not change.
    let out = dir
        .tally()
        .args(["quantile", "g.arrow", "--format", "json", "--chunk-rows", "5000", "--executor", "processes"])
        .args(["--workers", "2"])
        .args(args)
        .env("TALLY_FAULT", "exit:pass=1:worker=0,abort:chunk=3:worker=2")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", lossy(&out.stderr));
    assert!(out.stdout == serial.stdout, "the crash changed the answer");
    assert_no_panic(&out.stderr);
}

#[test]
fn approximate_states_save_and_merge_exact_ones_refuse() {
    let dir = setup();
    let approx = ["--column", "b", "--q", "0.5,0.99", "--approx", "--rel-error", "0.005"];
    let whole = json(&quantile(&dir, &approx));
    assert_eq!(whole["exact"], false);
    assert_eq!(whole["approx"]["relative_error"], 0.005);
    let saved = quantile(&dir, &[&approx[..], &["--save-state", "a.tstate"]].concat());
    assert!(saved.status.success(), "{}", lossy(&saved.stderr));
    let merged = dir.tally().args(["merge", "a.tstate", "--format", "json"]).output().unwrap();
    let merged = json(&merged);
    assert_eq!(merged["quantiles"], whole["quantiles"]);
    let refused = quantile(&dir, &["--column", "b", "--q", "0.5", "--save-state", "e.tstate"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(lossy(&refused.stderr).contains("--approx"), "{}", lossy(&refused.stderr));
    assert!(!dir.join("e.tstate").exists());
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = setup();
    for (args, message) in [
        (vec!["--column", "b", "--q", "1.2"], "\"1.2\" is not in [0, 1]"),
        (vec!["--column", "b", "--q", "0.5,abc"], "\"abc\" is not a number"),
        (vec!["--column", "b", "--q", ","], "no quantiles"),
        (vec!["--column", "nope", "--q", "0.5"], "nope"),
        (vec!["--column", "b", "--q", "0.5", "--approx", "--rel-error", "2"], "--rel-error"),
    ] {
        let out = quantile(&dir, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = lossy(&out.stderr);
        assert!(err.contains(message), "{args:?}: {err}");
        assert_no_panic(&out.stderr);
    }
    // --rel-error without --approx is a usage error.
    let out = quantile(&dir, &["--column", "b", "--q", "0.5", "--rel-error", "0.1"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn describe_quantiles_in_every_format_and_no_saved_state() {
    let dir = setup();
    let out = dir
        .tally()
        .args(["describe", "g.arrow", "--columns", "b,k1", "--quantiles", "0.25,0.5,0.75"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", lossy(&out.stderr));
    let table = lossy(&out.stdout);
    assert!(table.contains("q0.25") && table.contains("q0.75"), "{table}");
    let doc = json(
        &dir.tally()
            .args(["describe", "g.arrow", "--columns", "k1", "--quantiles", "0,1", "--format", "json"])
            .output()
            .unwrap(),
    );
    assert_eq!(doc["columns"][0]["q0"], 0.0);
    assert_eq!(doc["columns"][0]["q1"], 999.0);
    let exact = json(&quantile(&dir, &["--column", "b", "--q", "0.5"]));
    let doc = json(
        &dir.tally()
            .args(["describe", "g.arrow", "--columns", "b", "--quantiles", "0.5", "--format", "json"])
            .output()
            .unwrap(),
    );
    assert_eq!(doc["columns"][0]["q0.5"], exact["quantiles"][0]["value"]);
    let out =
        dir.tally().args(["describe", "g.arrow", "--quantiles", "0.5", "--save-state", "s.tstate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(lossy(&out.stderr).contains("cannot be saved"), "{}", lossy(&out.stderr));
}
