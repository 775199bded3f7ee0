//! `groupby` against a brute-force reference: a `BTreeMap` over rows with exact rational sums and means
//! (num-rational, correctly rounded conversion) and an exact two-pass variance, for every aggregation, key
//! type (signed, unsigned beyond i64::MAX, bool, utf8, large utf8, dictionary with a null entry and unused
//! entries, two columns), null keys, null values, NaN, ±inf, one group, every row its own group, many
//! batches of sliced arrays; bit-identical across executors, worker counts and chunkings; `--where`;
//! save/merge; the errors.

use crate::common;

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::types::Int8Type;
use arrow_array::{
    ArrayRef, BooleanArray, DictionaryArray, Float64Array, Int8Array, Int32Array, Int64Array, LargeStringArray,
    StringArray, UInt64Array,
};
use common::{exact_moments, store_of};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::ToPrimitive;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use tally_engine::analysis::{AnalysisResult, GroupByReport, GroupByRequest, parse_aggs};
use tally_engine::exec::ExecutorKind;
use tally_engine::report::{Cell, InputInfo};
use tally_engine::run::{Outcome, RunOptions, run_store};
use tally_engine::state_file::StateFile;
use tally_engine::stats::groups::KeyValue;
use tally_engine::store::Store;
use tally_engine::{Analysis, Error};

const NAMES: [&str; 9] = ["ki", "ku", "kb", "ks", "kl", "kd", "x", "y", "id"];

/// One row of the test table.
#[derive(Clone, Debug)]
struct Row {
    ki: Option<i32>,
    ku: Option<u64>,
    kb: Option<bool>,
    ks: Option<String>,
    /// Dictionary entry index; entry 1 is a null value, entries 4 and 5 are never used.
    kd: Option<i8>,
    x: Option<f64>,
    y: Option<i64>,
    id: i64,
}

const DICT: [Option<&str>; 6] = [Some("b"), None, Some("a"), Some("B"), Some("unused"), Some("zz")];

fn rows(n: usize, seed: u64, groups: i32) -> Vec<Row> {
    let mut r = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let maybe = |r: &mut Xoshiro256PlusPlus, p: f64| r.random_bool(1.0 - p);
            let x = match r.random_range(0..40) {
                0 => Some(f64::NAN),
                1 if r.random_bool(0.2) => Some(f64::INFINITY),
                2 if r.random_bool(0.2) => Some(f64::NEG_INFINITY),
                3 => None,
                4 => Some(1e15 + r.random_range(0..1000) as f64),
                _ => Some(r.random::<f64>() * 100.0 - 50.0),
            };
            Row {
                ki: maybe(&mut r, 0.05).then(|| r.random_range(-groups..groups)),
                ku: maybe(&mut r, 0.05).then(|| u64::MAX - r.random_range(0..groups as u64)),
                kb: maybe(&mut r, 0.1).then(|| r.random_bool(0.3)),
                ks: maybe(&mut r, 0.05)
                    .then(|| ["", "a", "b", "B", "é", "ab", "a,b"][r.random_range(0..7)].to_string()),
                kd: maybe(&mut r, 0.05).then(|| [0i8, 1, 2, 3][r.random_range(0..4)]),
                x,
                y: maybe(&mut r, 0.1).then(|| {
                    if r.random_bool(0.5) { i64::MAX - r.random_range(0..1000) } else { r.random_range(-1000..1000) }
                }),
                id: i as i64,
            }
        })
        .collect()
}

/// The rows as a store of batches cut at `cuts`, each column a slice of a larger array (offsets non-zero).
fn store(rows: &[Row], cuts: &[usize]) -> Store {
    let pad = |n: usize| n + 3;
    let mut batches = Vec::new();
    let mut start = 0;
    for &end in cuts.iter().chain(std::iter::once(&rows.len())) {
        let rs = &rows[start..end];
        let sliced = |a: ArrayRef| a.slice(3, rs.len());
        let p = pad(rs.len());
        let mut ki: Vec<Option<i32>> = vec![Some(7); 3];
        ki.extend(rs.iter().map(|r| r.ki));
        let mut ku: Vec<Option<u64>> = vec![None; 3];
        ku.extend(rs.iter().map(|r| r.ku));
        let mut kb: Vec<Option<bool>> = vec![Some(true); 3];
        kb.extend(rs.iter().map(|r| r.kb));
        let mut ks: Vec<Option<&str>> = vec![Some("pad"); 3];
        ks.extend(rs.iter().map(|r| r.ks.as_deref()));
        let mut kd: Vec<Option<i8>> = vec![Some(5); 3];
        kd.extend(rs.iter().map(|r| r.kd));
        let mut x: Vec<Option<f64>> = vec![Some(1e300); 3];
        x.extend(rs.iter().map(|r| r.x));
        let mut y: Vec<Option<i64>> = vec![Some(i64::MIN); 3];
        y.extend(rs.iter().map(|r| r.y));
        let mut id: Vec<i64> = vec![-1; 3];
        id.extend(rs.iter().map(|r| r.id));
        assert_eq!(ki.len(), p);
        let dict =
            DictionaryArray::<Int8Type>::try_new(Int8Array::from(kd), Arc::new(StringArray::from(DICT.to_vec())))
                .unwrap();
        batches.push(vec![
            sliced(Arc::new(Int32Array::from(ki))),
            sliced(Arc::new(UInt64Array::from(ku))),
            sliced(Arc::new(BooleanArray::from(kb))),
            sliced(Arc::new(StringArray::from(ks.clone()))),
            sliced(Arc::new(LargeStringArray::from(ks))),
            sliced(Arc::new(dict)),
            sliced(Arc::new(Float64Array::from(x))),
            sliced(Arc::new(Int64Array::from(y))),
            sliced(Arc::new(Int64Array::from(id))),
        ]);
        start = end;
    }
    store_of(&NAMES, batches)
}

/// A reference key value; variant order puts null last, like tally.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum RefKey {
    I(i64),
    U(u64),
    B(bool),
    /// Bytes: strings compare bytewise.
    S(Vec<u8>),
    Null,
}

fn ref_key(row: &Row, column: &str) -> RefKey {
    let s = |v: Option<&str>| v.map_or(RefKey::Null, |s| RefKey::S(s.as_bytes().to_vec()));
    match column {
        "ki" => row.ki.map_or(RefKey::Null, |v| RefKey::I(v.into())),
        "ku" => row.ku.map_or(RefKey::Null, RefKey::U),
        "kb" => row.kb.map_or(RefKey::Null, RefKey::B),
        "ks" | "kl" => s(row.ks.as_deref()),
        "kd" => s(row.kd.and_then(|k| DICT[k as usize])),
        "id" => RefKey::I(row.id),
        other => panic!("no key column {other}"),
    }
}

fn tally_key(v: &KeyValue) -> RefKey {
    match v {
        KeyValue::Null => RefKey::Null,
        KeyValue::Int(i) => RefKey::I(*i),
        KeyValue::UInt(u) => RefKey::U(*u),
        KeyValue::Bool(b) => RefKey::B(*b),
        KeyValue::Str(s) => RefKey::S(s.as_bytes().to_vec()),
        KeyValue::Float(f) => panic!("float key {f}"),
    }
}

fn exact(x: f64) -> BigRational {
    BigRational::from_float(x).expect("finite")
}

/// The expected cell of aggregation `name` over a group's rows.
fn expected(name: &str, rows: &[&Row], ddof: u64) -> Cell {
    if name == "count" {
        return Cell::Count(rows.len() as u64);
    }
    let (func, col) = name.trim_end_matches(')').split_once('(').unwrap();
    if col == "y" {
        let ys: Vec<i64> = rows.iter().filter_map(|r| r.y).collect();
        let big: Vec<BigInt> = ys.iter().map(|&y| BigInt::from(y)).collect();
        let n = ys.len() as u64;
        let sum: BigInt = big.iter().sum();
        return match func {
            "count" => Cell::Count(n),
            "null_count" => Cell::Count(rows.len() as u64 - n),
            "nan_count" => Cell::Count(0),
            "sum" => Cell::Int(sum.to_i128().unwrap()),
            _ if n == 0 => Cell::Missing,
            "mean" => Cell::Float(BigRational::new(sum, n.into()).to_f64().unwrap()),
            "min" => Cell::Int((*ys.iter().min().unwrap()).into()),
            "max" => Cell::Int((*ys.iter().max().unwrap()).into()),
            "var" | "std" if n <= ddof => Cell::Missing,
            "var" | "std" => {
                // Two passes in exact arithmetic: the mean, then the squared deviations.
                let mean = BigRational::new(sum.clone(), n.into());
                let m2: BigRational = big.iter().map(|y| (BigRational::from(y.clone()) - &mean).pow(2)).sum();
                let var = m2 / BigRational::from(BigInt::from(n - ddof));
                let v = var.to_f64().unwrap();
                Cell::Float(if func == "var" { v } else { v.sqrt() })
            }
            other => panic!("{other}"),
        };
    }
    let values: Vec<f64> = rows.iter().filter_map(|r| r.x).filter(|x| !x.is_nan()).collect();
    let finite: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    let (pos, neg) = (values.contains(&f64::INFINITY), values.contains(&f64::NEG_INFINITY));
    let infinite = match (pos, neg) {
        (true, true) => Some(f64::NAN),
        (true, false) => Some(f64::INFINITY),
        (false, true) => Some(f64::NEG_INFINITY),
        _ => None,
    };
    let n = values.len() as u64;
    let sum: BigRational = finite.iter().map(|&x| exact(x)).sum();
    match func {
        "count" => Cell::Count(n),
        "null_count" => Cell::Count(rows.iter().filter(|r| r.x.is_none()).count() as u64),
        "nan_count" => Cell::Count(rows.iter().filter(|r| r.x.is_some_and(f64::is_nan)).count() as u64),
        "sum" if n == 0 => Cell::Float(0.0),
        "sum" => Cell::Float(infinite.unwrap_or_else(|| sum.to_f64().unwrap())),
        _ if n == 0 => Cell::Missing,
        "mean" => Cell::Float(
            infinite.unwrap_or_else(|| (sum / BigRational::from(BigInt::from(finite.len()))).to_f64().unwrap()),
        ),
        "min" => Cell::Float(values.iter().copied().fold(f64::INFINITY, f64::min)),
        "max" => Cell::Float(values.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
        "var" | "std" if n <= ddof => Cell::Missing,
        "var" | "std" if infinite.is_some() => Cell::Float(f64::NAN),
        "var" | "std" => {
            let v = exact_moments(&finite, ddof).var.unwrap();
            Cell::Float(if func == "var" { v } else { v.sqrt() })
        }
        other => panic!("{other}"),
    }
}

/// `|a − b|` in units of the last place of `b` (0 for equal values, NaN and infinities included).
fn ulps(a: f64, b: f64) -> f64 {
    if a == b || (a.is_nan() && b.is_nan()) { 0.0 } else { common::ulps(a, b) }
}

/// Checks one cell: exact for counts, integers, extrema and integer means/variances (correctly rounded);
/// float sums and means within 1 ulp of the correctly rounded value; float variances within 1e-12 relative.
fn assert_cell(name: &str, got: &Cell, want: &Cell, context: &str) {
    match (got, want) {
        (Cell::Float(g), Cell::Float(w))
            if name.contains("(x)") && (name.starts_with("sum") || name.starts_with("mean")) =>
        {
            assert!(ulps(*g, *w) <= 1.0, "{context} {name}: {g} vs exact {w}");
        }
        (Cell::Float(g), Cell::Float(w))
            if name.contains("(x)") && (name.starts_with("var") || name.starts_with("std")) =>
        {
            assert!((g - w).abs() <= 1e-12 * w.abs() || (g.is_nan() && w.is_nan()), "{context} {name}: {g} vs {w}");
        }
        (Cell::Float(g), Cell::Float(w)) if name.starts_with("std(y") => {
            assert!(ulps(*g, *w) <= 1.0, "{context} {name}: {g} vs {w}");
        }
        (Cell::Float(g), Cell::Float(w)) => assert_eq!(g.to_bits(), w.to_bits(), "{context} {name}: {g} vs {w}"),
        _ => assert_eq!(got, want, "{context} {name}"),
    }
}

const ALL_AGGS: &str = "count,count(x),sum(x),mean(x),min(x),max(x),var(x),std(x),null_count(x),nan_count(x),\
                        count(y),sum(y),mean(y),min(y),max(y),var(y),std(y),null_count(y),nan_count(y)";

fn request(by: &[&str], aggs: &str) -> GroupByRequest {
    GroupByRequest {
        by: by.iter().map(|s| s.to_string()).collect(),
        aggs: parse_aggs(aggs).unwrap(),
        sort: None,
        desc: false,
        limit: None,
        ddof: 1,
        memory_limit: None,
    }
}

fn input() -> InputInfo {
    InputInfo { path: "memory".into(), format: "test", bytes: 0, batches: 0, files: Vec::new() }
}

fn run_with(store: &Store, r: &GroupByRequest, executor: ExecutorKind, workers: usize, chunk_rows: u64) -> Outcome {
    let options = RunOptions { executor, workers, chunk_rows: Some(chunk_rows), ..RunOptions::default() };
    run_store(store, input(), &Analysis::GroupBy(r.clone()), &options).unwrap_or_else(|e| panic!("{e}"))
}

fn report(o: &Outcome) -> &GroupByReport {
    match &o.result {
        AnalysisResult::GroupBy(r) => r,
        other => panic!("not a group-by: {other:?}"),
    }
}

/// Checks `report` against the brute-force groups of `rows` by `by`.
fn check(report: &GroupByReport, rows: &[Row], by: &[&str], context: &str) {
    let mut groups: BTreeMap<Vec<RefKey>, Vec<&Row>> = BTreeMap::new();
    for r in rows {
        groups.entry(by.iter().map(|c| ref_key(r, c)).collect()).or_default().push(r);
    }
    assert_eq!(report.group_count as usize, groups.len(), "{context}: group count");
    let got: Vec<Vec<RefKey>> = report.groups.iter().map(|g| g.key.iter().map(tally_key).collect()).collect();
    let want: Vec<Vec<RefKey>> = groups.keys().cloned().collect();
    assert_eq!(got, want, "{context}: keys in order");
    for (g, (key, members)) in report.groups.iter().zip(&groups) {
        for (name, cell) in report.aggregations.iter().zip(&g.cells) {
            assert_cell(name, cell, &expected(name, members, report.ddof), &format!("{context} key {key:?}"));
        }
    }
}

#[test]
fn every_aggregation_and_key_type_matches_brute_force() {
    let data = rows(3000, 1, 40);
    let s = store(&data, &[1, 700, 701, 2048]);
    for by in [&["ki"][..], &["ku"], &["kb"], &["ks"], &["kl"], &["kd"], &["ks", "ki"], &["kd", "kb"]] {
        let r = request(by, ALL_AGGS);
        let out = run_with(&s, &r, ExecutorKind::Serial, 1, 500);
        check(report(&out), &data, by, &format!("by {by:?}"));
    }
}

#[test]
fn one_group_and_every_row_its_own_group() {
    let data = rows(1500, 2, 1);
    let s = store(&data, &[100]);
    // `ki` in -1..1 with nulls: three groups; `id`: each row alone (var undefined, std undefined).
    for by in [&["ki"][..], &["id"]] {
        let out = run_with(&s, &request(by, ALL_AGGS), ExecutorKind::Threads, 3, 256);
        check(report(&out), &data, by, &format!("by {by:?}"));
    }
    let constant: Vec<Row> = data.iter().map(|r| Row { kb: Some(true), ..r.clone() }).collect();
    let out = run_with(&store(&constant, &[]), &request(&["kb"], ALL_AGGS), ExecutorKind::Serial, 1, 1 << 20);
    assert_eq!(report(&out).group_count, 1);
    check(report(&out), &constant, &["kb"], "one group");
}

#[test]
fn bit_identical_for_every_executor_worker_count_and_batching() {
    let data = rows(5000, 3, 300);
    let by = ["ks", "ki"];
    let r = request(&by, ALL_AGGS);
    let reference = format!("{:?}", report(&run_with(&store(&data, &[]), &r, ExecutorKind::Serial, 1, 400)).groups);
    for (cuts, executor, workers) in [
        (vec![1, 999, 2500], ExecutorKind::Serial, 1),
        (vec![], ExecutorKind::Threads, 1),
        (vec![400, 800], ExecutorKind::Threads, 2),
        (vec![3], ExecutorKind::Threads, 3),
        (vec![1234, 4999], ExecutorKind::Threads, 7),
    ] {
        let got = run_with(&store(&data, &cuts), &r, executor, workers, 400);
        assert_eq!(
            format!("{:?}", report(&got).groups),
            reference,
            "{executor:?} × {workers}, batches cut at {cuts:?}"
        );
    }
}

/// Beyond one table: a record batch of 100,000 rows and ~55,000 groups is taken in slices, splits into
/// radix partitions mid-batch, and its partitioned states merge; every group still matches brute force,
/// and the bits do not depend on batching, chunking or workers.
#[test]
fn many_groups_in_one_large_batch_match_brute_force_and_every_layout() {
    let data = rows(100_000, 6, 40_000);
    let one_batch = store(&data, &[]);
    for by in [&["ki"][..], &["ks", "ki"]] {
        let r = request(by, "count,sum(x),mean(x),min(y),max(y),std(x),var(y),null_count(y),nan_count(x)");
        let whole = run_with(&one_batch, &r, ExecutorKind::Serial, 1, 1 << 20);
        check(report(&whole), &data, by, &format!("by {by:?}, one chunk"));
        let chunked = run_with(&one_batch, &r, ExecutorKind::Threads, 2, 70_000);
        check(report(&chunked), &data, by, &format!("by {by:?}, chunks of 70,000"));
        let small = run_with(&store(&data, &[999, 40_000, 70_001]), &r, ExecutorKind::Threads, 3, 70_000);
        assert_eq!(
            format!("{:?}", report(&small).groups),
            format!("{:?}", report(&chunked).groups),
            "by {by:?}: batches cut differently"
        );
    }
}

/// The groups of `data` in batches of 1,000 rows, one chunk, have the bits of `whole`.
fn assert_same_bits_in_batches_of_1000(data: &[Row], r: &GroupByRequest, whole: &Outcome) {
    let cuts: Vec<usize> = (1..data.len().div_ceil(1000)).map(|i| i * 1000).collect();
    let small = run_with(&store(data, &cuts), r, ExecutorKind::Serial, 1, 1 << 20);
    assert_eq!(format!("{:?}", report(&small).groups), format!("{:?}", report(whole).groups), "batches of 1,000");
}

/// A one-table state takes a large batch in blocks that share one direct array of key ids, widened or
/// started anew as the keys move: here the key ranges of runs of 65,536 rows are disjoint, then adjacent,
/// then a billion away, then back, with null keys throughout. Every group matches brute force, and the
/// bits equal those of batches of 1,000 rows.
#[test]
fn direct_arrays_of_the_slices_of_a_large_batch_match_brute_force() {
    let mut data = rows(300_000, 9, 50);
    for (i, row) in data.iter_mut().enumerate() {
        let base = [0, -500, 1_000_000_000, 20, -450][(i / 65_536).min(4)];
        row.ki = row.ki.map(|k| base + k.rem_euclid(97));
    }
    let r = request(&["ki"], "count,sum(x),min(x),std(x),sum(y),nan_count(x)");
    let whole = run_with(&store(&data, &[]), &r, ExecutorKind::Serial, 1, 1 << 20);
    check(report(&whole), &data, &["ki"], "one batch of 300,000 rows");
    assert_same_bits_in_batches_of_1000(&data, &r, &whole);
}

/// The loop for one integer key without nulls (ids and row counts together, through a direct array that
/// follows the keys): one batch whose keys stay in a small range, drift slowly up and then down over six
/// thousand values each way (the array widens on either side), alternate between 5 and two billion in every block (too wide: hashed), sit at both
/// ends of the i32 range, and come back negative. Brute force, and the bits of batches of 1,000 rows and
/// of two threads.
#[test]
fn one_integer_key_without_nulls_matches_brute_force_however_its_range_moves() {
    let mut data = rows(200_000, 10, 50);
    for (i, row) in data.iter_mut().enumerate() {
        let k = row.id as i32;
        row.ki = Some(match i {
            0..20_000 => k.rem_euclid(97),
            20_000..70_000 => 1_000 + (k - 20_000) / 8,
            70_000..120_000 => -200_000 - (k - 70_000) / 8,
            120_000..140_000 if i % 2 == 0 => 5,
            120_000..140_000 => 2_000_000_000 + k.rem_euclid(50),
            140_000..160_000 if (i / 3_000) % 2 == 0 => i32::MIN + k.rem_euclid(40),
            140_000..160_000 => i32::MAX - k.rem_euclid(40),
            _ => k.rem_euclid(97) - 50,
        });
    }
    let r = request(&["ki"], "count,sum(x),mean(x),min(x),std(x),sum(y),null_count(x),nan_count(x)");
    let whole = run_with(&store(&data, &[]), &r, ExecutorKind::Serial, 1, 1 << 20);
    check(report(&whole), &data, &["ki"], "one batch of 200,000 rows");
    assert_same_bits_in_batches_of_1000(&data, &r, &whole);
    let threads = run_with(&store(&data, &[]), &r, ExecutorKind::Threads, 2, 50_000);
    assert_eq!(format!("{:?}", report(&threads).groups), format!("{:?}", report(&whole).groups), "two threads");
}

/// Every row its own group, one integer key without nulls, in one batch: the one-table state passes
/// 32,768 groups in the middle of the batch, splits into partitions, and takes the rest partitioned.
#[test]
fn a_batch_that_splits_the_state_midway_matches_brute_force() {
    let mut data = rows(80_000, 11, 50);
    for row in &mut data {
        row.ki = Some(3 * row.id as i32 - 100_000);
    }
    let r = request(&["ki"], "count,sum(x),max(x),mean(y)");
    let whole = run_with(&store(&data, &[]), &r, ExecutorKind::Serial, 1, 1 << 20);
    check(report(&whole), &data, &["ki"], "80,000 groups in one batch");
    assert_same_bits_in_batches_of_1000(&data, &r, &whole);
}

#[test]
fn a_filter_equals_the_group_by_of_the_passing_rows() {
    let data = rows(2500, 4, 20);
    let r = request(&["ki"], ALL_AGGS);
    let options = RunOptions {
        executor: ExecutorKind::Threads,
        workers: 2,
        chunk_rows: Some(300),
        filter: Some("y > 0 or kb".into()),
        ..RunOptions::default()
    };
    let out = run_store(&store(&data, &[900]), input(), &Analysis::GroupBy(r), &options).unwrap();
    let kept: Vec<Row> = data.into_iter().filter(|r| r.y.is_some_and(|y| y > 0) || r.kb == Some(true)).collect();
    assert_eq!(out.state.rows, kept.len() as u64);
    check(report(&out), &kept, &["ki"], "where y > 0 or kb");
}

#[test]
fn sort_desc_and_limit_order_by_the_aggregation_then_the_key() {
    let data = rows(2000, 5, 30);
    let mut r = request(&["ki"], "count,mean(x)");
    r.sort = Some(parse_aggs("count").unwrap().remove(0));
    r.desc = true;
    r.limit = Some(7);
    let out = run_with(&store(&data, &[]), &r, ExecutorKind::Serial, 1, 1000);
    let rep = report(&out);
    let mut counts: BTreeMap<RefKey, u64> = BTreeMap::new();
    for row in &data {
        *counts.entry(ref_key(row, "ki")).or_default() += 1;
    }
    let mut want: Vec<(RefKey, u64)> = counts.into_iter().collect();
    want.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    want.truncate(7);
    let got: Vec<(RefKey, u64)> = rep
        .groups
        .iter()
        .map(|g| (tally_key(&g.key[0]), if let Cell::Count(n) = g.cells[0] { n } else { panic!() }))
        .collect();
    assert_eq!(got, want);
    assert_eq!(rep.group_count, 61);
}

#[test]
fn saved_states_of_two_halves_merge_into_the_whole() {
    let data = rows(4000, 6, 50);
    let r = request(&["kd", "ki"], ALL_AGGS);
    let save =
        |o: &Outcome| StateFile::new(o.resolved.clone(), &o.input, o.state.rows, o.state.clone()).to_bytes().unwrap();
    let a = run_with(&store(&data[..2000], &[]), &r, ExecutorKind::Serial, 1, 1000);
    let b = run_with(&store(&data[2000..], &[]), &r, ExecutorKind::Serial, 1, 1000);
    let mut merged = StateFile::from_bytes(&save(&a), "a".as_ref()).unwrap();
    merged.merge(&StateFile::from_bytes(&save(&b), "b".as_ref()).unwrap(), "a".as_ref(), "b".as_ref()).unwrap();
    let AnalysisResult::GroupBy(m) = merged.finish().unwrap() else { panic!("not a group-by") };
    check(&m, &data, &["kd", "ki"], "merged halves");
    // Chunks of 1000 rows: the whole file's tree merges ((0, 1), (2, 3)), the same states in the same
    // order as the two saved halves, so the bits agree too.
    let whole = run_with(&store(&data, &[]), &r, ExecutorKind::Serial, 1, 1000);
    assert!(format!("{:?}", m.groups) == format!("{:?}", report(&whole).groups), "merged halves differ from the whole");
}

#[test]
fn bad_requests_are_clear_errors() {
    let s = store(&rows(10, 7, 3), &[]);
    let err = |r: GroupByRequest| -> String {
        let options = RunOptions { executor: ExecutorKind::Serial, ..RunOptions::default() };
        let e: Error = run_store(&s, input(), &Analysis::GroupBy(r), &options).unwrap_err();
        e.to_string()
    };
    assert!(err(request(&["x"], "count")).contains("group-by keys are integers, booleans or strings"));
    assert!(err(request(&["ki"], "mean(ks)")).contains("not a number"));
    assert!(err(request(&["ki"], "mean(zz)")).contains("no column named \"zz\""));
    assert!(err(request(&[], "count")).contains("at least one key column"));
    let mut r = request(&["ki"], "count");
    r.sort = Some(parse_aggs("mean(x)").unwrap().remove(0));
    assert!(err(r).contains("--sort mean(x): not one of the aggregations (count)"));
}

/// The guard counts two copies of the whole state and chunk states beside them: three in the parent and two
/// in each worker (engine/src/analysis/memory.rs). The same 4000 groups fit in chunks of 1000 rows and not in
/// chunks of all 4000 (grouped analyses default to chunks of millions of rows), and a limit that fits one
/// worker's chunk states does not fit three workers'.
#[test]
fn the_memory_guard_counts_each_workers_chunk_state() {
    let data = rows(4000, 8, 1000);
    let s = store(&data, &[]);
    let mut r = request(&["id"], "count,mean(x)");
    let run = |r: &GroupByRequest, executor: ExecutorKind, workers: usize, chunk_rows: u64| {
        let options = RunOptions { executor, workers, chunk_rows: Some(chunk_rows), ..RunOptions::default() };
        run_store(&s, input(), &Analysis::GroupBy(r.clone()), &options)
    };
    r.memory_limit = Some(1);
    let err = run(&r, ExecutorKind::Serial, 1, 1000).unwrap_err().to_string();
    let bpg: u64 = err.split(" bytes per group").next().unwrap().rsplit(' ').next().unwrap().parse().unwrap();
    assert!(err.contains("states of up to 1000 groups per chunk") && err.contains("in each of 1 workers"), "{err}");
    // Serially, one worker: 2 · 4000 + (3 + 2) · 1000 groups.
    r.memory_limit = Some((2 * 4000 + 5 * 1000) * bpg);
    let out = run(&r, ExecutorKind::Serial, 1, 1000).unwrap();
    check(report(&out), &data, &["id"], "chunks of 1000 rows fit");
    let err = run(&r, ExecutorKind::Serial, 1, 4000).unwrap_err().to_string();
    assert!(err.contains("groupby by id would hold about 4") && err.contains("more than the memory limit"), "{err}");
    // Three threads: (3 + 2 · 3) · 1000 chunk groups no longer fit; with room for them the run goes ahead.
    let err = run(&r, ExecutorKind::Threads, 3, 1000).unwrap_err().to_string();
    assert!(err.contains("in each of 3 workers"), "{err}");
    r.memory_limit = Some((2 * 4000 + 9 * 1000) * bpg);
    let out = run(&r, ExecutorKind::Threads, 3, 1000).unwrap();
    check(report(&out), &data, &["id"], "room for three workers' chunk states");
}

#[test]
fn an_exact_state_that_would_not_fit_is_refused_before_it_is_built() {
    let data = rows(4000, 8, 1000);
    let s = store(&data, &[]);
    let mut r = request(&["id"], "count,mean(x)");
    r.memory_limit = Some(600 << 10);
    // Small chunks: the chunk states (three in the parent, two per worker) stay small beside the 2 whole states.
    let options = RunOptions { executor: ExecutorKind::Serial, chunk_rows: Some(50), ..RunOptions::default() };
    let err = run_store(&s, input(), &Analysis::GroupBy(r.clone()), &options).unwrap_err().to_string();
    assert!(
        err.contains("groupby by id would hold about 4")
            && err.contains("more than the memory limit of 600 KiB")
            && err.contains("distinct --approx"),
        "{err}"
    );
    // Few groups under the same limit: a boolean's domain is known; an integer key's min/max pass, or a
    // string key's sketch pass, finds them, then the exact pass runs.
    r.by = vec!["kb".into()];
    let out = run_store(&s, input(), &Analysis::GroupBy(r.clone()), &options).unwrap();
    assert_eq!((out.exec.passes, report(&out).group_count), (1, 3));
    for key in ["ki", "ks"] {
        r.by = vec![key.into()];
        let out = run_store(&s, input(), &Analysis::GroupBy(r.clone()), &options).unwrap();
        assert_eq!(out.exec.passes, 2, "a min/max or sketch pass, then the group-by");
        check(report(&out), &data, &[key], "after the bounding pass");
    }
    // Integer keys whose range is too wide for the limit: min/max, then the sketch, then the group-by.
    let mut wide = data.clone();
    for (i, row) in wide.iter_mut().enumerate() {
        row.ki = row.ki.map(|k| if i % 2 == 0 { k } else { k.saturating_mul(1_000_000) });
    }
    r.by = vec!["ki".into()];
    let out = run_store(&store(&wide, &[]), input(), &Analysis::GroupBy(r), &options).unwrap();
    assert_eq!(out.exec.passes, 3, "min/max, sketch, group-by");
    check(report(&out), &wide, &["ki"], "after both bounding passes");
}

/// More groups than `SPLIT_AT`: chunk states start as one table and split into partitions, merges meet
/// both layouts; results stay exact and identical for every executor and worker count.
#[test]
fn partitioned_states_match_brute_force_and_each_other() {
    let data = rows(60_000, 9, 30_000);
    let s = store(&data, &[20_000, 45_000]);
    for by in [&["ki"][..], &["ks", "ki"], &["id"]] {
        let r = request(by, "count,sum(y),mean(x),min(x),var(y),null_count(x)");
        let reference = run_with(&s, &r, ExecutorKind::Serial, 1, 25_000);
        check(report(&reference), &data, by, &format!("by {by:?}"));
        let one_chunk = run_with(&s, &r, ExecutorKind::Serial, 1, 1 << 20);
        check(report(&one_chunk), &data, by, &format!("by {by:?}, one chunk"));
        for workers in [2, 3, 7] {
            let got = run_with(&s, &r, ExecutorKind::Threads, workers, 25_000);
            assert!(
                format!("{:?}", report(&got).groups) == format!("{:?}", report(&reference).groups),
                "threads × {workers} by {by:?}"
            );
        }
    }
}

/// The `Partial` laws for group and sketch states (engine/tests/integration/laws.rs lists them here): round trip bit
/// for bit, the empty state is the merge identity, and merging two halves equals the whole for the exact
/// fields (the float ones are checked against brute force above).
#[test]
fn group_states_obey_the_partial_laws() {
    use tally_engine::stats::{AnyPartial, decode, encode};
    let data = rows(50_000, 10, 30_000);
    for by in [&["ki"][..], &["ks", "kd"]] {
        let r = request(by, ALL_AGGS);
        let out = run_with(&store(&data, &[]), &r, ExecutorKind::Serial, 1, 10_000);
        let bytes = encode(&out.state).unwrap();
        let back: tally_engine::stats::PartialSet = decode(&bytes).unwrap();
        assert!(back == out.state && encode(&back).unwrap() == bytes, "round trip by {by:?}");
        let [AnyPartial::Groups(g)] = out.state.stats.as_slice() else { panic!("no group state") };
        let mut empty = AnyPartial::Groups(Box::new(tally_engine::stats::Groups::new(&match &out.resolved {
            tally_engine::analysis::Resolved::GroupBy(res) => res.spec.clone(),
            other => panic!("{other:?}"),
        })));
        empty.merge(&AnyPartial::Groups(g.clone())).unwrap();
        assert!(empty == out.state.stats[0], "identity by {by:?}");
        // A decoded state (its hash table rebuilt) merges like the original.
        let mut a = back.clone();
        a.merge(&out.state).unwrap();
        let mut b = out.state.clone();
        b.merge(&back).unwrap();
        assert!(a == b, "decoded and original states merge alike by {by:?}");
    }
}

/// The partition exchange of the MPI executor (`stats::slices`): the states of four stretches of rows cut
/// into slices for 1, 2, 3 and 5 owners, each owner merging its slices in the same order, joined, give
/// the same groups, bit for bit, as merging the whole states, for small (one-table) and partitioned ones.
#[test]
fn states_merged_slice_by_slice_and_joined_equal_the_whole_merge() {
    use tally_engine::stats::slices::{cut, join};
    let data = rows(48_000, 12, 30_000);
    for (by, groups) in [(&["ki"][..], "one table"), (&["id"][..], "partitioned"), (&["ks", "kd"][..], "two keys")] {
        let r = request(by, ALL_AGGS);
        let parts: Vec<Outcome> =
            data.chunks(12_000).map(|rows| run_with(&store(rows, &[]), &r, ExecutorKind::Serial, 1, 4_000)).collect();
        let states: Vec<&tally_engine::stats::PartialSet> = parts.iter().map(|o| &o.state).collect();
        let mut whole = states[0].clone();
        for s in &states[1..] {
            whole.merge(s).unwrap();
        }
        let empty = tally_engine::stats::PartialSet {
            rows: 0,
            stats: vec![tally_engine::stats::AnyPartial::Groups(Box::new(tally_engine::stats::Groups::new(
                &match &parts[0].resolved {
                    tally_engine::analysis::Resolved::GroupBy(res) => res.spec.clone(),
                    other => panic!("{other:?}"),
                },
            )))],
        };
        let finish = |s: &tally_engine::stats::PartialSet| parts[0].resolved.finish(s, input()).unwrap();
        let AnalysisResult::GroupBy(expected) = finish(&whole) else { panic!("not a group-by") };
        check(&expected, &data, by, &format!("whole merge by {by:?}"));
        for owners in [1, 2, 3, 5] {
            let cuts: Vec<Vec<_>> = states.iter().map(|s| cut((*s).clone(), &empty, owners).unwrap()).collect();
            let merged: Vec<_> = (0..owners)
                .map(|q| {
                    let mut m = cuts[0][q].clone();
                    for c in &cuts[1..] {
                        m.merge(&c[q]).unwrap();
                    }
                    m
                })
                .collect();
            let joined = join(merged).unwrap();
            assert_eq!(joined.rows, whole.rows, "{groups}, {owners} owners: rows");
            let AnalysisResult::GroupBy(got) = finish(&joined) else { panic!("not a group-by") };
            assert!(
                format!("{:?}", got.groups) == format!("{:?}", expected.groups),
                "{groups}, {owners} owners: the joined slices differ from the whole merge"
            );
        }
    }
}
