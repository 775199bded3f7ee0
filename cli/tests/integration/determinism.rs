//! Results are a function of the data and the chunk size only: never of the executor, the worker count or
//! thread timing. And `gen` output is a function of its rows, seed and batch size only.

use crate::util;

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
    for extra in [&[][..], &["--compensated"], &["--ddof", "0", "--columns", "d,c,k2"]] {
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

/// Every type tally computes on (issue 11, item 5), in several batches: decimal, string, binary,
/// dictionary, temporal, boolean and float16 columns and a struct's fields give the same JSON for every
/// executor (worker processes included) and worker count.
#[test]
fn describe_of_every_type_is_byte_identical_for_every_executor() {
    use std::sync::Arc;

    use arrow_array::types::{Float16Type, Int16Type};
    use arrow_array::{
        ArrayRef, ArrowPrimitiveType, BooleanArray, Date32Array, Decimal128Array, DictionaryArray,
        DurationNanosecondArray, Float16Array, Int64Array, LargeBinaryArray, StringArray, StructArray,
        TimestampMillisecondArray,
    };
    use arrow_schema::{DataType, Field};

    type F16 = <Float16Type as ArrowPrimitiveType>::Native;
    let n = 9_000usize;
    let opt = |i: usize, m: usize| i % m != 1;
    let x: ArrayRef = Arc::new(Int64Array::from((0..n).map(|i| opt(i, 5).then_some(i as i64 * 3)).collect::<Vec<_>>()));
    let st = StructArray::try_new(
        vec![Field::new("x", DataType::Int64, true)].into(),
        vec![x],
        Some((0..n).map(|i| i % 9 != 0).collect::<Vec<_>>().into()),
    )
    .unwrap();
    let strings: Vec<Option<String>> = (0..n).map(|i| opt(i, 4).then(|| format!("s{}", i * 7 % 1000))).collect();
    let dict: DictionaryArray<Int16Type> = strings.iter().map(|s| s.as_deref()).collect();
    let columns: Vec<(&str, ArrayRef)> = vec![
        (
            "dec",
            Arc::new(
                Decimal128Array::from(
                    (0..n)
                        .map(|i| opt(i, 6).then_some(i as i128 * 1_000_000_007 - 4_000_000_000_000))
                        .collect::<Vec<_>>(),
                )
                .with_precision_and_scale(30, 4)
                .unwrap(),
            ),
        ),
        ("s", Arc::new(StringArray::from(strings.clone()))),
        (
            "bin",
            Arc::new(LargeBinaryArray::from(
                strings.iter().map(|s| s.as_deref().map(str::as_bytes)).collect::<Vec<_>>(),
            )),
        ),
        ("dict", Arc::new(dict)),
        (
            "date",
            Arc::new(Date32Array::from(
                (0..n).map(|i| opt(i, 7).then_some(i as i32 * 13 - 50_000)).collect::<Vec<_>>(),
            )),
        ),
        (
            "ts",
            Arc::new(
                TimestampMillisecondArray::from(
                    (0..n).map(|i| opt(i, 3).then_some(i as i64 * 86_399_999)).collect::<Vec<_>>(),
                )
                .with_timezone("+02:00"),
            ),
        ),
        (
            "dur",
            Arc::new(DurationNanosecondArray::from(
                (0..n).map(|i| opt(i, 8).then_some(i as i64 * 999_999_937 - 10_i64.pow(12))).collect::<Vec<_>>(),
            )),
        ),
        ("flag", Arc::new(BooleanArray::from((0..n).map(|i| opt(i, 10).then_some(i % 3 == 0)).collect::<Vec<_>>()))),
        (
            "half",
            Arc::new(Float16Array::from(
                (0..n).map(|i| opt(i, 11).then(|| F16::from_f32((i % 500) as f32 * 0.125 - 20.0))).collect::<Vec<_>>(),
            )),
        ),
        ("st", Arc::new(st)),
    ];
    let batch = util::batch_of(columns);
    let batches: Vec<_> = (0..n).step_by(2_500).map(|s| batch.slice(s, 2_500.min(n - s))).collect();
    let dir = Dir::new();
    dir.write_batches("types.arrow", &batches);
    let run = |args: &[&str]| {
        let mut all = vec!["--chunk-rows", "1000"];
        all.extend_from_slice(args);
        dir.describe_json_raw("types.arrow", &all)
    };
    let oracle = run(&["--executor", "serial"]);
    let doc = util::parse_describe_json(&lossy(&oracle));
    let names: Vec<&str> = doc["columns"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["dec", "s", "bin", "dict", "date", "ts", "dur", "flag", "half", "st.x"]);
    for executor in executors() {
        for workers in ["1", "2", "3", "7"] {
            let got = run(&["--executor", executor, "--workers", workers]);
            assert!(
                got == oracle,
                "{executor} --workers {workers} differs from serial:\n{}\n{}",
                lossy(&oracle),
                lossy(&got)
            );
        }
    }
}
