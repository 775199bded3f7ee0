//! `distinct` and `top` against brute force: exact distinct counts per key type (NaN one value counted
//! apart, -0.0 equal to 0.0, nulls apart), HyperLogLog estimates within their stated bounds and the same
//! bits for every executor and worker count, top-k ties broken by value ascending.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, StringArray};
use common::store_of;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use tally_engine::Analysis;
use tally_engine::analysis::{AnalysisResult, DistinctCount, DistinctRequest, TopRequest};
use tally_engine::exec::ExecutorKind;
use tally_engine::report::InputInfo;
use tally_engine::run::{RunOptions, run_store};
use tally_engine::stats::groups::KeyValue;
use tally_engine::store::Store;

struct Data {
    ints: Vec<Option<i64>>,
    floats: Vec<Option<f64>>,
    strings: Vec<Option<String>>,
}

fn data(n: usize, seed: u64, domain: i64) -> Data {
    let mut r = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut ints = Vec::new();
    let mut floats = Vec::new();
    let mut strings = Vec::new();
    for _ in 0..n {
        ints.push(r.random_bool(0.97).then(|| r.random_range(0..domain)));
        floats.push(match r.random_range(0..20) {
            0 => None,
            1 => Some(f64::NAN),
            2 => Some(-f64::NAN),
            3 => Some(-0.0),
            4 => Some(0.0),
            5 => Some(f64::INFINITY),
            _ => Some(r.random_range(0..domain) as f64 / 4.0),
        });
        strings.push(r.random_bool(0.95).then(|| format!("s{}", r.random_range(0..domain))));
    }
    Data { ints, floats, strings }
}

fn store(d: &Data, batch: usize) -> Store {
    let mut batches = Vec::new();
    for start in (0..d.ints.len()).step_by(batch) {
        let end = (start + batch).min(d.ints.len());
        batches.push(vec![
            Arc::new(Int64Array::from(d.ints[start..end].to_vec())) as ArrayRef,
            Arc::new(Float64Array::from(d.floats[start..end].to_vec())),
            Arc::new(StringArray::from(d.strings[start..end].iter().map(|s| s.as_deref()).collect::<Vec<_>>())),
        ]);
    }
    store_of(&["i", "f", "s"], batches)
}

fn run(s: &Store, analysis: Analysis, executor: ExecutorKind, workers: usize) -> AnalysisResult {
    let options = RunOptions { executor, workers, chunk_rows: Some(700), ..RunOptions::default() };
    let input = InputInfo { path: "memory".into(), format: "test", bytes: 0, batches: 0, files: Vec::new() };
    run_store(s, input, &analysis, &options).unwrap_or_else(|e| panic!("{e}")).result
}

fn distinct(columns: &[&str], approx: bool) -> Analysis {
    Analysis::Distinct(DistinctRequest {
        columns: columns.iter().map(|c| c.to_string()).collect(),
        approx,
        memory_limit: None,
    })
}

/// `(distinct, nulls, NaN rows)` by brute force; floats by canonical bits (-0.0 is 0.0).
fn brute(d: &Data) -> [(u64, u64, u64); 3] {
    let nulls = |n: usize| n as u64;
    let ints: BTreeSet<i64> = d.ints.iter().flatten().copied().collect();
    let nan = d.floats.iter().flatten().filter(|x| x.is_nan()).count() as u64;
    let floats: BTreeSet<u64> =
        d.floats.iter().flatten().filter(|x| !x.is_nan()).map(|&x| if x == 0.0 { 0 } else { x.to_bits() }).collect();
    let strings: BTreeSet<&String> = d.strings.iter().flatten().collect();
    [
        (ints.len() as u64, nulls(d.ints.iter().filter(|x| x.is_none()).count()), 0),
        (floats.len() as u64, nulls(d.floats.iter().filter(|x| x.is_none()).count()), nan),
        (strings.len() as u64, nulls(d.strings.iter().filter(|x| x.is_none()).count()), 0),
    ]
}

#[test]
fn exact_distinct_counts_match_brute_force() {
    for (n, domain) in [(3000, 50), (5000, 100_000), (1, 3)] {
        let d = data(n, n as u64, domain);
        let AnalysisResult::Distinct(r) =
            run(&store(&d, 999), distinct(&["i", "f", "s"], false), ExecutorKind::Threads, 3)
        else {
            panic!("not distinct")
        };
        let got: Vec<(u64, u64, u64)> = r
            .columns
            .iter()
            .map(|c| match c.distinct {
                DistinctCount::Exact(x) => (x, c.null_count, c.nan_count),
                DistinctCount::Approx(_) => panic!("approx"),
            })
            .collect();
        assert_eq!(got, brute(&d), "{n} rows, domain {domain}");
    }
}

#[test]
fn approximate_counts_are_within_their_bounds_and_identical_everywhere() {
    let d = data(60_000, 9, 1_000_000);
    let s = store(&d, 7_000);
    let truth = brute(&d);
    let oracle = format!("{:?}", run(&s, distinct(&["i", "f", "s"], true), ExecutorKind::Serial, 1));
    for workers in [1, 2, 3, 7] {
        let got = format!("{:?}", run(&s, distinct(&["i", "f", "s"], true), ExecutorKind::Threads, workers));
        assert_eq!(got, oracle, "threads × {workers}");
    }
    let AnalysisResult::Distinct(r) = run(&s, distinct(&["i", "f", "s"], true), ExecutorKind::Serial, 1) else {
        panic!("not distinct")
    };
    for (c, (exact, nulls, nan)) in r.columns.iter().zip(truth) {
        let DistinctCount::Approx(e) = c.distinct else { panic!("exact") };
        assert!(e.lower <= exact as f64 && exact as f64 <= e.upper, "{}: {exact} outside {e:?}", c.name);
        // 4 standard errors of 1.04/sqrt(2^14): a failure here is a broken sketch, not bad luck.
        assert!((e.estimate - exact as f64).abs() <= 0.033 * exact as f64, "{}: {e:?} vs {exact}", c.name);
        assert_eq!((c.null_count, c.nan_count), (nulls, nan), "{}", c.name);
    }
}

#[test]
fn top_k_counts_exactly_and_breaks_ties_by_value() {
    let d = data(4000, 11, 30);
    let s = store(&d, 1000);
    for (column, k) in [("i", 5), ("s", 40), ("f", 7)] {
        let AnalysisResult::Top(r) = run(
            &s,
            Analysis::Top(TopRequest { column: column.into(), k, memory_limit: None }),
            ExecutorKind::Threads,
            2,
        ) else {
            panic!("not top")
        };
        // Brute force over the values' total order (NaN and nulls are not values).
        let mut counts: BTreeMap<String, (u64, String)> = BTreeMap::new();
        let mut add = |sort_key: String, shown: String| counts.entry(sort_key).or_insert((0, shown)).0 += 1;
        match column {
            "i" => d.ints.iter().flatten().for_each(|v| add(format!("{:020}", v), v.to_string())),
            "s" => d.strings.iter().flatten().for_each(|v| add(v.clone(), v.clone())),
            _ => d.floats.iter().flatten().filter(|x| !x.is_nan()).for_each(|&v| {
                // Non-negative floats (0, x/4, +inf): their bits are in numeric order.
                let v = if v == 0.0 { 0.0 } else { v };
                add(format!("{:020}", v.to_bits()), v.to_string())
            }),
        }
        let mut want: Vec<(u64, String)> = counts.into_values().collect();
        want.sort_by_key(|a| std::cmp::Reverse(a.0));
        want.truncate(k);
        let got: Vec<(u64, String)> = r
            .values
            .iter()
            .map(|(v, n)| {
                let shown = match v {
                    KeyValue::Int(i) => i.to_string(),
                    KeyValue::Str(s) => s.clone(),
                    KeyValue::Float(f) => f.to_string(),
                    other => panic!("{other:?}"),
                };
                (*n, shown)
            })
            .collect();
        assert_eq!(got, want, "top {k} of {column}");
    }
}
