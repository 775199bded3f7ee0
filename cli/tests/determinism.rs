//! Results are a function of the data and the chunk size only: never of the executor, the worker count or
//! thread timing. And `gen` output is a function of its rows, seed and batch size only.

mod util;

use util::{Dir, expect_success, lossy};

/// 300,000 rows in batches of 70,000: chunks of 50,000 rows straddle batch boundaries.
const ROWS: u64 = 300_000;
const BATCH_ROWS: u64 = 70_000;

/// The parallel executors `describe --help` lists besides the `serial` reference (`threads`, and
/// `processes` where this build has it).
fn executors() -> Vec<&'static str> {
    let help = util::tally().args(["describe", "--help"]).output().expect("describe --help");
    let help = lossy(&help.stdout);
    ["threads", "processes"].into_iter().filter(|e| *e == "threads" || help.contains(e)).collect()
}

#[test]
fn describe_json_is_byte_identical_for_every_executor_and_worker_count() {
    let dir = Dir::new();
    dir.gen_file("g.arrow", ROWS, 1, BATCH_ROWS);
    for extra in [&[][..], &["--exact"], &["--ddof", "0", "--columns", "d,c,k2"]] {
        let run = |args: &[&str]| {
            let mut all = vec!["--chunk-rows", "50000"];
            all.extend_from_slice(args);
            all.extend_from_slice(extra);
            dir.describe_json_raw("g.arrow", &all)
        };
        let oracle = run(&["--executor", "serial"]);
        for executor in executors() {
            for workers in ["1", "2", "3", "7"] {
                for _repeat in 0..2 {
                    let got = run(&["--executor", executor, "--workers", workers]);
                    assert!(
                        got == oracle,
                        "{executor} --workers {workers} {extra:?} differs from serial:\n--- serial\n{}\n--- {executor}\n{}",
                        lossy(&oracle),
                        lossy(&got)
                    );
                }
            }
        }
        let default_executor = run(&[]);
        assert!(default_executor == oracle, "default executor {extra:?} differs from serial");
    }
}

/// Many more chunks than workers, and chunk sizes that are not multiples of the batch or word size.
#[test]
fn describe_is_identical_across_workers_for_small_odd_chunks() {
    let dir = Dir::new();
    dir.gen_file("g.arrow", 20_011, 3, 999);
    for chunk in ["1", "97", "4096", "100000"] {
        let oracle = dir.describe_json_raw("g.arrow", &["--chunk-rows", chunk, "--executor", "serial"]);
        for executor in executors() {
            for workers in ["2", "5"] {
                let args = ["--chunk-rows", chunk, "--executor", executor, "--workers", workers];
                let got = dir.describe_json_raw("g.arrow", &args);
                assert!(got == oracle, "{args:?} differs from serial");
            }
        }
    }
}

#[test]
fn gen_is_a_function_of_its_arguments() {
    let dir = Dir::new();
    dir.gen_file("a.arrow", 50_000, 7, 12_345);
    dir.gen_file("b.arrow", 50_000, 7, 12_345);
    dir.gen_file("c.arrow", 50_000, 8, 12_345);
    let (a, b, c) = (dir.read("a.arrow"), dir.read("b.arrow"), dir.read("c.arrow"));
    assert!(a == b, "same seed, same bytes");
    assert!(a != c, "different seeds, different data");

    // The default seed is stable too.
    for name in ["d1.arrow", "d2.arrow"] {
        let out = dir.tally().args(["gen", name, "--rows", "1000", "--quiet"]).output().unwrap();
        expect_success(&out, "gen without --seed");
    }
    assert!(dir.read("d1.arrow") == dir.read("d2.arrow"), "default seed, same bytes");
}

/// `gen` generates batches in parallel: the bytes must not depend on the size of its thread pool.
#[test]
fn gen_bytes_do_not_depend_on_the_thread_count() {
    let dir = Dir::new();
    let mut files = Vec::new();
    for threads in ["1", "2", "5"] {
        let name = format!("t{threads}.arrow");
        let out = dir
            .tally()
            .env("RAYON_NUM_THREADS", threads)
            .args(["gen", &name, "--rows", "40000", "--batch-rows", "3000", "--seed", "11", "--quiet"])
            .output()
            .unwrap();
        expect_success(&out, "gen");
        files.push(dir.read(&name));
    }
    assert!(files.windows(2).all(|w| w[0] == w[1]), "RAYON_NUM_THREADS changed the bytes of gen");
}
