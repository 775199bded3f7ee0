//! Exact and approximate quantiles through the whole pipeline, against a brute-force reference: the
//! column's values sorted by a plain comparison sort, NumPy's `quantile` rule applied with an exactly
//! computed rank (exact rationals from the decimal text of q), and, where the float rank is exact, NumPy's
//! float algorithm line by line.

use crate::common;

use std::sync::Arc;

use arrow_array::{ArrayRef, Float32Array, Float64Array, Int64Array, UInt64Array};
use common::store_of;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{ToPrimitive, Zero};
use tally_engine::analysis::QuantileRequest;
use tally_engine::analysis::quantile::{Method, QuantileReport};
use tally_engine::exec::ExecutorKind;
use tally_engine::report::InputInfo;
use tally_engine::run::run_store;
use tally_engine::stats::Value;
use tally_engine::store::Store;
use tally_engine::{Analysis, AnalysisResult, RunOptions};

const METHODS: [Method; 5] = [Method::Linear, Method::Lower, Method::Higher, Method::Nearest, Method::Midpoint];
const GRID: [&str; 14] =
    ["0", "0.001", "0.01", "0.1", "0.25", "0.29", "0.3333", "0.5", "0.5001", "0.75", "0.9", "0.99", "0.999", "1"];

fn input() -> InputInfo {
    InputInfo { path: "memory".into(), format: "test", bytes: 0, batches: 0, files: Vec::new() }
}

struct Run<'a> {
    executor: ExecutorKind,
    workers: usize,
    chunk_rows: u64,
    filter: Option<&'a str>,
    collect_limit: Option<u64>,
}

impl Default for Run<'_> {
    fn default() -> Self {
        Run { executor: ExecutorKind::Serial, workers: 1, chunk_rows: 1000, filter: None, collect_limit: None }
    }
}

fn quantiles(
    store: &Store,
    column: &str,
    qs: &[&str],
    method: Method,
    approx: Option<f64>,
    run: &Run,
) -> QuantileReport {
    let analysis = Analysis::Quantile(QuantileRequest {
        column: column.into(),
        probabilities: qs.iter().map(|q| q.to_string()).collect(),
        method,
        approx,
        collect_limit: run.collect_limit,
    });
    let options = RunOptions {
        executor: run.executor,
        workers: run.workers,
        chunk_rows: Some(run.chunk_rows),
        filter: run.filter.map(str::to_string),
        ..RunOptions::default()
    };
    match run_store(store, input(), &analysis, &options).unwrap_or_else(|e| panic!("{e}")).result {
        AnalysisResult::Quantile(r) => r,
        other => panic!("not quantiles: {other:?}"),
    }
}

/// `text` as an exact rational.
fn rational(text: &str) -> BigRational {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits: BigInt = format!("{int}{frac}").parse().unwrap();
    BigRational::new(digits, BigInt::from(10u32).pow(frac.len() as u32))
}

/// NumPy's `_lerp`.
fn numpy_lerp(a: f64, b: f64, t: f64) -> f64 {
    let d = b - a;
    if t >= 0.5 { b - d * (1.0 - t) } else { a + d * t }
}

/// The documented rule over sorted values `xs` (as f64 for floats): exact rank; NumPy's float fraction
/// where its float rank has the same integer part; NumPy's lerp where it is defined.
fn reference(xs: &[f64], q: &str, method: Method) -> Option<f64> {
    let n = xs.len();
    if n == 0 {
        return None;
    }
    let h = rational(q) * BigRational::from_integer(BigInt::from(n - 1));
    let floor = h.floor().to_integer().to_usize().unwrap();
    let frac = h.clone() - BigRational::from_integer(BigInt::from(floor));
    let integer = frac.is_zero();
    let nearest = {
        let twice = frac.clone() * BigRational::from_integer(2.into());
        let one = BigRational::from_integer(1.into());
        if twice < one || (twice == one && floor.is_multiple_of(2)) { floor } else { floor + 1 }
    };
    let interp = |t: f64| {
        let (a, b) = (xs[floor], xs[floor + 1]);
        if a == b {
            a
        } else if a.is_infinite() && b.is_infinite() {
            f64::NAN
        } else if a.is_infinite() {
            a
        } else if b.is_infinite() {
            b
        } else {
            numpy_lerp(a, b, t)
        }
    };
    Some(match method {
        Method::Lower => xs[floor],
        Method::Higher => xs[if integer { floor } else { floor + 1 }],
        Method::Nearest => xs[nearest],
        Method::Linear | Method::Midpoint if integer => xs[floor],
        Method::Midpoint => interp(0.5),
        Method::Linear => {
            let hf = (n - 1) as f64 * q.parse::<f64>().unwrap();
            let t = if hf.floor() as usize == floor { hf - floor as f64 } else { frac.to_f64().unwrap() };
            interp(t)
        }
    })
}

fn float_of(v: Option<Value>) -> Option<f64> {
    v.map(|v| match v {
        Value::Float(f) => f,
        Value::Int(i) => i as f64,
    })
}

fn same(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()) || (a == 0.0 && b == 0.0),
        (None, None) => true,
        _ => false,
    }
}

/// Every method and q of the grid against the reference over `values` (the column's non-null values).
fn check_floats(store: &Store, column: &str, values: &[f64], run: &Run) {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
    for method in METHODS {
        let r = quantiles(store, column, &GRID, method, None, run);
        assert_eq!(r.counted.count, sorted.len() as u64);
        for ((q, got), want) in r.quantiles.iter().zip(GRID.iter().map(|q| reference(&sorted, q, method))) {
            assert!(same(float_of(*got), want), "{column} {method:?} q={}: {got:?} vs {want:?}", q.text);
        }
    }
}

fn f64_store(values: &[Option<f64>], batch: usize) -> Store {
    let batches = values.chunks(batch).map(|c| vec![Arc::new(Float64Array::from(c.to_vec())) as ArrayRef]).collect();
    store_of(&["x"], batches)
}

/// A deterministic generator (splitmix64).
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn messy(n: usize) -> Vec<Option<f64>> {
    (0..n as u64)
        .map(|i| match mix(i) % 40 {
            0 => None,
            1 => Some(f64::NAN),
            2 => Some(f64::INFINITY),
            3 => Some(f64::NEG_INFINITY),
            4..=9 => Some(((mix(i + 7) % 10) as f64) - 5.0), // heavy ties
            10 => Some(-0.0),
            _ => Some((mix(i * 3) as f64 / u64::MAX as f64 - 0.3) * 10f64.powi((mix(i) % 9) as i32 - 4)),
        })
        .collect()
}

#[test]
fn every_method_and_q_matches_the_reference_on_messy_floats() {
    let xs = messy(20_000);
    let store = f64_store(&xs, 997);
    let values: Vec<f64> = xs.iter().flatten().copied().collect();
    // The default limit collects at once; a small one forces counting windows and several passes.
    check_floats(&store, "x", &values, &Run::default());
    check_floats(&store, "x", &values, &Run { collect_limit: Some(16), ..Run::default() });
}

#[test]
fn small_and_degenerate_columns() {
    for xs in [
        vec![Some(3.5)],
        vec![Some(2.0), Some(-1.0)],
        vec![Some(f64::NEG_INFINITY), Some(f64::INFINITY)],
        vec![Some(1.0), Some(f64::INFINITY), Some(f64::INFINITY)],
        vec![None, Some(f64::NAN), Some(7.0), None],
        vec![Some(f64::MAX), Some(-f64::MAX), Some(f64::MAX)],
        vec![Some(5e-324), Some(0.0), Some(-5e-324)],
    ] {
        let store = f64_store(&xs, 2);
        let values: Vec<f64> = xs.iter().flatten().copied().collect();
        check_floats(&store, "x", &values, &Run { chunk_rows: 1, ..Run::default() });
    }
    for xs in [vec![None, None], vec![Some(f64::NAN)]] {
        let r = quantiles(&f64_store(&xs, 2), "x", &["0.5"], Method::Linear, None, &Run::default());
        assert_eq!(r.quantiles[0].1, None);
        assert_eq!(r.counted.count, 0);
    }
}

#[test]
fn agrees_with_numpys_float_algorithm_where_its_rank_is_exact() {
    // q = k/8 and n - 1 = 1000: (n - 1)·q is exact in float64, so NumPy's own arithmetic is the reference.
    let xs: Vec<Option<f64>> = (0..1001u64).map(|i| Some((mix(i) % 1_000_000) as f64 / 7.0)).collect();
    let store = f64_store(&xs, 100);
    let mut sorted: Vec<f64> = xs.iter().flatten().copied().collect();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let qs = ["0.125", "0.375", "0.5", "0.625", "0.875", "0.0625", "0.9375"];
    let r = quantiles(&store, "x", &qs, Method::Linear, None, &Run::default());
    for ((_, got), q) in r.quantiles.iter().zip(qs) {
        let h = 1000.0 * q.parse::<f64>().unwrap();
        let (lo, t) = (h.floor() as usize, h - h.floor());
        let want = numpy_lerp(sorted[lo], sorted[(lo + 1).min(1000)], t);
        assert_eq!(float_of(*got), Some(want), "q={q}");
    }
}

#[test]
fn the_rank_is_exact_where_numpys_float_rank_is_not() {
    // NumPy: 100 * 0.29 = 28.999999999999996, so it interpolates x[28] and x[29]; the exact rank is 29.
    let xs: Vec<Option<f64>> = (0..101).map(|i| Some(f64::from(i) * 10.0)).collect();
    let r = quantiles(&f64_store(&xs, 50), "x", &["0.29"], Method::Linear, None, &Run::default());
    assert_eq!(r.quantiles[0].1, Some(Value::Float(290.0)));
    let numpy = numpy_lerp(280.0, 290.0, 100.0 * 0.29 - 28.0);
    assert_ne!(numpy, 290.0, "NumPy's float rank lands below 29");
}

#[test]
fn integer_columns_return_exact_integers_near_the_extremes() {
    let ints: Vec<Option<i64>> = (0..5000u64)
        .map(|i| match mix(i) % 5 {
            0 => Some(i64::MIN + (mix(i + 1) % 3) as i64),
            1 => Some(i64::MAX - (mix(i + 2) % 3) as i64),
            2 => None,
            _ => Some((mix(i + 3) % 100) as i64 - 50),
        })
        .collect();
    let store =
        store_of(&["k"], ints.chunks(333).map(|c| vec![Arc::new(Int64Array::from(c.to_vec())) as ArrayRef]).collect());
    let mut sorted: Vec<i64> = ints.iter().flatten().copied().collect();
    sorted.sort();
    let n = sorted.len() as u64;
    for method in [Method::Lower, Method::Higher, Method::Nearest] {
        let r = quantiles(&store, "k", &GRID, method, None, &Run { collect_limit: Some(8), ..Run::default() });
        for (q, got) in &r.quantiles {
            let h = rational(&q.text) * BigRational::from_integer(BigInt::from(n - 1));
            let floor = h.floor().to_integer().to_usize().unwrap();
            let ceil = h.ceil().to_integer().to_usize().unwrap();
            let frac = h - BigRational::from_integer(BigInt::from(floor));
            let half = BigRational::new(1.into(), 2.into());
            let nearest = if frac < half || (frac == half && floor.is_multiple_of(2)) { floor } else { floor + 1 };
            let i = match method {
                Method::Lower => floor,
                Method::Higher => ceil,
                _ => nearest,
            };
            assert_eq!(*got, Some(Value::Int(i128::from(sorted[i]))), "{method:?} q={}", q.text);
        }
    }
    // linear on integers is float64, the difference taken exactly (NumPy's int64 difference would wrap).
    let r = quantiles(&store, "k", &["0.5"], Method::Linear, None, &Run::default());
    let want = reference(&sorted.iter().map(|&i| i as f64).collect::<Vec<_>>(), "0.5", Method::Linear);
    if sorted[(n as usize - 1) / 2] == sorted[n as usize / 2] {
        assert_eq!(float_of(r.quantiles[0].1), want);
    }
    let us: Vec<u64> = (0..3000u64).map(|i| (1 << 63) + mix(i) % 1000).collect();
    let store = store_of(&["u"], vec![vec![Arc::new(UInt64Array::from(us.clone())) as ArrayRef]]);
    let mut sorted = us.clone();
    sorted.sort();
    let r = quantiles(&store, "u", &["0", "0.5", "1"], Method::Lower, None, &Run::default());
    let got: Vec<Option<Value>> = r.quantiles.iter().map(|(_, v)| *v).collect();
    let want: Vec<Option<Value>> = [0, 1499, 2999].iter().map(|&i| Some(Value::Int(i128::from(sorted[i])))).collect();
    assert_eq!(got, want);
}

#[test]
fn float32_columns_are_quantiles_of_their_float64_values() {
    let xs: Vec<Option<f32>> = (0..3000u64).map(|i| Some((mix(i) % 100_000) as f32 / 3.0)).collect();
    let store = store_of(&["f"], vec![vec![Arc::new(Float32Array::from(xs.clone())) as ArrayRef]]);
    let values: Vec<f64> = xs.iter().flatten().map(|&x| f64::from(x)).collect();
    check_floats(&store, "f", &values, &Run { collect_limit: Some(32), ..Run::default() });
}

#[test]
fn same_bits_for_every_executor_worker_count_chunk_size_and_filter() {
    let xs = messy(30_000);
    let store = f64_store(&xs, 1000);
    let qs = ["0.1", "0.5", "0.9", "0.99"];
    let oracle = quantiles(&store, "x", &qs, Method::Linear, None, &Run { collect_limit: Some(64), ..Run::default() });
    for workers in [1, 2, 3, 7] {
        for chunk_rows in [512, 4096, 100_000] {
            let run =
                Run { executor: ExecutorKind::Threads, workers, chunk_rows, collect_limit: Some(64), ..Run::default() };
            let other = quantiles(&store, "x", &qs, Method::Linear, None, &run);
            assert_eq!(other.quantiles, oracle.quantiles, "threads x {workers}, chunks of {chunk_rows}");
        }
    }
    // A filter is the analysis of the rows it keeps.
    let filtered = quantiles(&store, "x", &qs, Method::Linear, None, &Run { filter: Some("x > 0"), ..Run::default() });
    let kept: Vec<Option<f64>> = xs.iter().filter(|x| x.is_some_and(|x| x > 0.0)).copied().collect();
    let direct = quantiles(&f64_store(&kept, 1000), "x", &qs, Method::Linear, None, &Run::default());
    assert_eq!(filtered.quantiles, direct.quantiles);
}

#[test]
fn sorted_constant_and_duplicated_columns_take_no_more_passes_than_random_ones() {
    let n = 200_000u64;
    let limit = Some(1000);
    let passes = |values: Vec<f64>| {
        let store = f64_store(&values.into_iter().map(Some).collect::<Vec<_>>(), 10_000);
        let r = quantiles(
            &store,
            "x",
            &["0.5", "0.9", "0.99"],
            Method::Linear,
            None,
            &Run { collect_limit: limit, chunk_rows: 50_000, ..Run::default() },
        );
        r.passes.unwrap()
    };
    let random: Vec<f64> = (0..n).map(|i| mix(i) as f64 / u64::MAX as f64).collect();
    let mut sorted = random.clone();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let reverse: Vec<f64> = sorted.iter().rev().copied().collect();
    let base = passes(random);
    assert!(base <= 4, "{base} passes on random data");
    assert!(passes(sorted) <= base);
    assert!(passes(reverse) <= base);
    assert_eq!(passes(vec![2.5; n as usize]), 1);
    let dup: Vec<f64> = (0..n).map(|i| if mix(i) % 10 < 9 { 1.0 } else { (mix(i) % 1000) as f64 }).collect();
    assert!(passes(dup) <= base);
}

#[test]
fn approximate_quantiles_meet_their_relative_error() {
    let n = 50_000u64;
    let sets: Vec<(&str, Vec<f64>)> = vec![
        ("heavy tail", (0..n).map(|i| 1.0 / (1.0 - (mix(i) as f64 / u64::MAX as f64)).max(1e-12)).collect()),
        ("signed", (0..n).map(|i| (mix(i) as f64 / u64::MAX as f64 - 0.5) * 1e6).collect()),
        ("zeros and duplicates", (0..n).map(|i| [0.0, 0.0, 3.0, -7.25, 1e-3][(mix(i) % 5) as usize]).collect()),
        (
            "wide range",
            (0..n).map(|i| 10f64.powi((mix(i) % 600) as i32 - 300) * if i % 2 == 0 { 1.0 } else { -1.0 }).collect(),
        ),
    ];
    for e in [0.01, 0.005] {
        for (name, xs) in &sets {
            let store = f64_store(&xs.iter().copied().map(Some).collect::<Vec<_>>(), 5000);
            let mut sorted = xs.clone();
            sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
            for method in [Method::Lower, Method::Higher, Method::Nearest] {
                let r = quantiles(&store, "x", &GRID, method, Some(e), &Run::default());
                assert_eq!(r.approx, Some(e));
                for ((q, got), _) in r.quantiles.iter().zip(&GRID) {
                    let exact = reference(&sorted, &q.text, method).unwrap();
                    let got = float_of(*got).unwrap();
                    let err = if exact == 0.0 { got.abs() } else { ((got - exact) / exact).abs() };
                    assert!(err <= e, "{name} e={e} {method:?} q={}: {got} vs {exact} ({err})", q.text);
                }
            }
        }
    }
}

#[test]
fn bad_requests_are_clear_errors() {
    let store = f64_store(&[Some(1.0)], 1);
    let err = |qs: &[&str], approx: Option<f64>| {
        let analysis = Analysis::Quantile(QuantileRequest {
            column: "x".into(),
            probabilities: qs.iter().map(|q| q.to_string()).collect(),
            method: Method::Linear,
            approx,
            collect_limit: None,
        });
        run_store(&store, input(), &analysis, &RunOptions::default()).unwrap_err().to_string()
    };
    assert!(err(&["1.5"], None).contains("\"1.5\" is not in [0, 1]"), "{}", err(&["1.5"], None));
    assert!(err(&["-0.5"], None).contains("negative"));
    assert!(err(&["x"], None).contains("not a number"));
    assert!(err(&[], None).contains("no quantiles"));
    assert!(err(&["0.5"], Some(0.0)).contains("--rel-error"));
}

#[test]
fn describe_quantiles_share_the_run_and_match_the_reference() {
    use arrow_array::StringArray;
    use tally_engine::analysis::DescribeRequest;
    let xs = messy(8000);
    let ks: Vec<Option<i64>> = (0..8000u64).map(|i| (i % 13 != 0).then(|| (mix(i) % 500) as i64)).collect();
    let names: Vec<Option<&str>> = (0..8000).map(|i| Some(if i % 2 == 0 { "a" } else { "b" })).collect();
    let batches = (0..8)
        .map(|b| {
            let r = b * 1000..(b + 1) * 1000;
            vec![
                Arc::new(Float64Array::from(xs[r.clone()].to_vec())) as ArrayRef,
                Arc::new(Int64Array::from(ks[r.clone()].to_vec())) as ArrayRef,
                Arc::new(StringArray::from(names[r].to_vec())) as ArrayRef,
            ]
        })
        .collect();
    let store = store_of(&["x", "k", "s"], batches);
    let qs = ["0.25", "0.5", "0.75", "0.99"];
    let describe = |quantiles: Vec<String>| {
        let analysis = Analysis::Describe(DescribeRequest { columns: None, exact: false, ddof: 1, quantiles });
        let options =
            RunOptions { executor: ExecutorKind::Threads, workers: 3, chunk_rows: Some(700), ..RunOptions::default() };
        match run_store(&store, input(), &analysis, &options).unwrap().result {
            AnalysisResult::Describe(r) => r,
            other => panic!("{other:?}"),
        }
    };
    let with = describe(qs.iter().map(|q| q.to_string()).collect());
    let without = describe(Vec::new());
    assert_eq!(with.quantiles, ["q0.25", "q0.5", "q0.75", "q0.99"]);
    for (a, b) in with.columns.iter().zip(&without.columns) {
        assert_eq!(format!("{:?}", a.summary), format!("{:?}", b.summary), "{}: describe statistics change", a.name);
    }
    let mut fx: Vec<f64> = xs.iter().flatten().copied().filter(|x| !x.is_nan()).collect();
    fx.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let mut ik: Vec<f64> = ks.iter().flatten().map(|&k| k as f64).collect();
    ik.sort_by(|a, b| a.partial_cmp(b).unwrap());
    for (column, sorted) in [(0, &fx), (1, &ik)] {
        for (got, q) in with.columns[column].quantiles.iter().zip(qs) {
            assert!(same(float_of(*got), reference(sorted, q, Method::Linear)), "column {column} q={q}: {got:?}");
        }
    }
    assert_eq!(with.columns[2].quantiles, vec![None; 4], "strings have no quantiles");
}

#[test]
fn approximate_quantiles_keep_infinities_apart_from_nan_at_any_error() {
    let xs = vec![Some(1.0), Some(f64::INFINITY), Some(f64::NAN), Some(f64::NEG_INFINITY), Some(2.0)];
    for e in [0.45, 0.1, 0.001] {
        let r = quantiles(&f64_store(&xs, 2), "x", &["0", "0.5", "1"], Method::Lower, Some(e), &Run::default());
        assert_eq!((r.counted.count, r.counted.nan_count), (4, 1), "e={e}");
        let got: Vec<Option<f64>> = r.quantiles.iter().map(|(_, v)| float_of(*v)).collect();
        assert_eq!(got[0], Some(f64::NEG_INFINITY));
        assert_eq!(got[2], Some(f64::INFINITY));
        assert!((got[1].unwrap() - 1.0).abs() <= e, "e={e}: {:?}", got[1]);
    }
}
