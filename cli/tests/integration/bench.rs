//! Issue 12: `tally bench` end to end. The JSON export has every documented field, with plausible values
//! (no timing is asserted: speed is measured in benchmarks, never in tests), and Ctrl-C leaves neither a
//! worker process nor the temporary file behind.

use crate::util;

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use util::{Dir, alive, assert_no_panic, children, lossy};

/// A small probe buffer: debug builds read memory slowly, and the probe's size is not under test here.
const PROBE: &str = "16777216";

fn number(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("{key} is not a number in {v}"))
}

#[test]
fn a_generated_bench_exports_every_field() {
    let dir = Dir::new();
    let out = dir
        .tally()
        .args(["bench", "--rows", "200000", "--runs", "1", "--export-json", "b.json", "--ceiling-bytes", PROBE])
        .args(["--export-markdown", "b.md", "--plot", "b.svg", "--chunk-rows", "50000", "-q"])
        .env("TMPDIR", dir.path())
        .output()
        .unwrap();
    assert_no_panic(&out.stderr);
    assert!(out.status.success(), "{}", lossy(&out.stderr));
    let text = lossy(&out.stdout);
    for needle in ["Benchmark 1: describe, processes x1", "Time (median ± MAD)", "Bench overhead", "Ceiling:"] {
        assert!(text.contains(needle), "report lacks {needle:?}:\n{text}");
    }
    let doc: Value = serde_json::from_slice(&dir.read("b.json")).unwrap();
    assert_eq!((doc["format"].as_str(), doc["version"].as_u64()), (Some("tally-bench"), Some(1)));
    let c = &doc["context"];
    for key in ["tally_version", "cpu_model", "kernel", "date", "hostname", "cache_state", "analysis"] {
        assert!(c[key].is_string(), "context.{key} missing: {c}");
    }
    assert_eq!(c["analysis"], "describe");
    assert!(c["features"].is_array() && c["debug_build"].is_boolean() && c["analysis_args"].is_array());
    for key in ["cores", "online_cpus", "numa_nodes", "memory_bytes", "mem_available_bytes"] {
        assert!(c[key].as_u64().is_some_and(|n| n >= 1), "context.{key} implausible: {c}");
    }
    assert_eq!(
        (c["chunk_rows"].as_u64(), c["runs_per_config"].as_u64(), c["warmup_runs"].as_u64()),
        (Some(50_000), Some(1), Some(1))
    );
    let input = &c["input"];
    assert_eq!((input["rows"].as_u64(), input["generated"].as_bool()), (Some(200_000), Some(true)));
    let file_bytes = input["file_bytes"].as_u64().unwrap();
    // 52 value bytes a row, plus validity and message overhead
    assert!((200_000 * 52..200_000 * 60).contains(&file_bytes), "{file_bytes}");
    let ceiling = &c["ceiling"];
    assert_eq!(ceiling["buffer_bytes"].as_u64(), Some(16_777_216));
    assert_eq!(ceiling["mapped_bytes"].as_u64(), Some(file_bytes));
    let cores = c["cores"].as_u64().unwrap() as usize;
    for kind in ["memory", "mapped"] {
        let points = ceiling[kind].as_array().unwrap();
        assert!(!points.is_empty() && points.len() <= cores, "{kind}: {points:?}");
        assert!(points.iter().all(|p| number(p, "gb_per_s") > 0.0 && p["threads"].as_u64().unwrap() >= 1));
    }
    assert!(number(ceiling, "seconds") > 0.0);

    // default: processes and threads over 1, 2, 4, ... cores; one warm-up and one run each
    let mut workers: Vec<u64> =
        std::iter::successors(Some(1u64), |w| Some(w * 2)).take_while(|&w| w < cores as u64).collect();
    workers.push(cores as u64);
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2 * workers.len() * 2, "{runs:?}");
    for r in runs {
        let wall = number(r, "wall_s");
        assert!(wall > 0.0);
        for key in ["open_s", "spawn_s", "compute_s", "merge_s", "overhead_s", "gb_per_s"] {
            let t = number(r, key);
            assert!(t >= 0.0 && t.is_finite(), "{key} = {t} in {r}");
        }
        assert!(number(r, "compute_s") + number(r, "spawn_s") + number(r, "open_s") <= wall * 1.001, "{r}");
        assert!(number(r, "merge_s") <= wall, "{r}");
        // 200000 rows in chunks of 50000: 4 chunks, one pass; 10 columns of the demo file are scanned
        assert_eq!((r["chunks"].as_u64(), r["passes"].as_u64()), (Some(4), Some(1)), "{r}");
        assert!(r["scanned_bytes"].as_u64().unwrap() >= 200_000 * 8, "{r}");
        let busy = r["busy_s"].as_array().unwrap();
        assert!(!busy.is_empty() && busy.iter().all(|b| b.as_f64().unwrap() >= 0.0), "{r}");
        match r["executor"].as_str().unwrap() {
            "processes" => assert_eq!(r["spawned"].as_u64(), r["workers"].as_u64(), "{r}"),
            "threads" => assert_eq!(r["spawned"].as_u64(), Some(0), "{r}"),
            other => panic!("executor {other}"),
        }
        assert!(r["pinned"].as_array().unwrap().is_empty());
        assert!(r["warmup"].as_bool().unwrap() == (r["index"].as_u64() == Some(0)));
    }
    let summary = doc["summary"].as_array().unwrap();
    assert_eq!(summary.len(), 2 * workers.len());
    for s in summary {
        assert_eq!(s["runs"].as_u64(), Some(1));
        let (median, min, max) = (number(s, "median_s"), number(s, "min_s"), number(s, "max_s"));
        assert!(min <= median && median <= max && number(s, "mad_s") == 0.0, "{s}");
        assert!(number(s, "speedup") > 0.0 && number(s, "efficiency") > 0.0 && number(s, "ceiling_fraction") > 0.0);
        if s["workers"] == 1 {
            assert_eq!((number(s, "speedup"), s["base_workers"].as_u64()), (1.0, Some(1)));
        }
    }
    // one measured run: the report says no spread can be measured
    let warnings: Vec<&str> = doc["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert!(warnings.iter().any(|w| w.contains("no spread can be measured")), "{warnings:?}");
    assert!(lossy(&dir.read("b.md")).contains("| executor | workers | median |"));
    assert!(lossy(&dir.read("b.svg")).starts_with("<svg"));
    // the generated file and its directory are gone
    let left: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    let mut left = left;
    left.sort();
    assert_eq!(left, ["b.json", "b.md", "b.svg"]);
}

#[test]
fn an_analysis_with_its_own_flags_on_a_given_file_and_pinning() {
    let dir = Dir::new();
    dir.tally().args(["gen", "g.arrow", "--rows", "30000", "-q"]).assert().success();
    let out = dir
        .tally()
        .args(["bench", "g.arrow", "--analysis", "groupby", "--by", "k1", "--agg", "count,mean(a)", "--runs", "1"])
        .args([
            "--executors",
            "processes",
            "--workers-list",
            "2",
            "--pin",
            "--ceiling-bytes",
            PROBE,
            "--chunk-rows",
            "10000",
        ])
        .args(["--export-json", "b.json", "-q"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&dir.read("b.json")).unwrap();
    assert_eq!(doc["context"]["analysis"], "groupby");
    assert_eq!(
        doc["context"]["analysis_args"],
        serde_json::json!(["--by", "k1", "--agg", "count,mean(a)", "--chunk-rows", "10000", "-q"])
    );
    let cpus: Vec<u64> = doc["context"]["pin_cpus"].as_array().unwrap().iter().map(|c| c.as_u64().unwrap()).collect();
    assert!(!cpus.is_empty());
    for r in doc["runs"].as_array().unwrap() {
        let want: Vec<Value> = (0..2).map(|w| serde_json::json!({"worker": w, "cpu": cpus[w % cpus.len()]})).collect();
        assert_eq!(r["pinned"].as_array().unwrap(), &want, "{r}");
        assert_eq!(r["chunks"].as_u64(), Some(3));
    }
    assert!(lossy(&out.stdout).contains("Pinning:   sched_setaffinity over CPUs"), "{}", lossy(&out.stdout));
}

#[test]
fn bench_refuses_what_it_cannot_honour() {
    let dir = Dir::new();
    let run = |args: &[&str]| dir.tally().arg("bench").args(args).output().unwrap();
    let out = run(&["x.arrow", "--workers", "2"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(lossy(&out.stderr).contains("use --workers-list instead of --workers"), "{}", lossy(&out.stderr));
    let out = run(&["x.arrow", "--plot", "p.png"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(lossy(&out.stderr).contains("PNG plots are not built into this tally"), "{}", lossy(&out.stderr));
    let out = run(&["--analysis", "nope"]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let out = run(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(lossy(&out.stdout).contains("--workers-list"));
}

#[test]
fn ctrl_c_during_a_bench_leaves_no_worker_and_no_temporary_file() {
    let dir = Dir::new();
    let child = dir
        .std_tally()
        .args(["bench", "--rows", "3000000", "--runs", "50", "--executors", "processes", "--workers-list", "2"])
        .args(["--ceiling-bytes", PROBE, "--chunk-rows", "100000", "-q"])
        .env("TMPDIR", dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    // Wait until the runs have started: worker processes are up.
    let start = Instant::now();
    while children(pid).is_empty() {
        assert!(start.elapsed() < Duration::from_secs(120), "no worker appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
    let workers = children(pid);
    let status = std::process::Command::new("kill").args(["-INT", &pid.to_string()]).status().unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", lossy(&out.stderr));
    assert_no_panic(&out.stderr);
    for w in workers {
        assert!(!alive(w), "worker {w} is still alive");
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}
