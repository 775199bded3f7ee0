//! `--bins RULE` against NumPy's `histogram_bin_edges` estimators reproduced here from their source
//! (`numpy/lib/_histograms_impl.py`) over the raw values: two-pass std and skewness, percentiles from a
//! sorted copy, and `stone`'s cross-validation from brute-force bin counts.

use crate::common;

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array};
use common::store_of;
use tally_engine::analysis::hist_rules::BinRule;
use tally_engine::analysis::{Bins, HistRequest};
use tally_engine::exec::ExecutorKind;
use tally_engine::report::InputInfo;
use tally_engine::run::run_store;
use tally_engine::store::Store;
use tally_engine::{Analysis, AnalysisResult, RunOptions};

const RULES: [&str; 8] = ["auto", "fd", "sturges", "sqrt", "doane", "scott", "rice", "stone"];

fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let (lo, t) = (h.floor() as usize, h - h.floor());
    let (a, b) = (sorted[lo], sorted[(lo + 1).min(sorted.len() - 1)]);
    let d = b - a;
    if t >= 0.5 { b - d * (1.0 - t) } else { a + d * t }
}

/// NumPy's counts per bin of `numpy.histogram(x, bins=k, range=(first, last))`, by brute force.
fn counts(x: &[f64], k: usize, first: f64, last: f64) -> Vec<u64> {
    let edges: Vec<f64> =
        (0..=k).map(|i| if i == k { last } else { first + i as f64 * ((last - first) / k as f64) }).collect();
    let mut c = vec![0u64; k];
    for &v in x {
        let i = (0..k).rev().find(|&i| edges[i] <= v).unwrap_or(0);
        c[i.min(k - 1)] += 1;
    }
    c
}

/// The bin count `numpy.histogram_bin_edges(x, bins=rule)` gives.
fn numpy_bins(x: &[f64], rule: &str, integer: bool) -> usize {
    let n = x.len() as f64;
    let mut sorted = x.to_vec();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let (min, max) = (sorted[0], sorted[x.len() - 1]);
    let ptp = max - min;
    let (first, last) = if min == max { (min - 0.5, max + 0.5) } else { (min, max) };
    let mean = x.iter().sum::<f64>() / n;
    let std = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    let iqr = percentile(&sorted, 0.75) - percentile(&sorted, 0.25);
    let sqrt = ptp / n.sqrt();
    let sturges = ptp / (n.log2() + 1.0);
    let fd = 2.0 * iqr * n.powf(-1.0 / 3.0);
    let width = match rule {
        "sqrt" => sqrt,
        "sturges" => sturges,
        "rice" => ptp / (2.0 * n.powf(1.0 / 3.0)),
        "scott" => (24.0 * std::f64::consts::PI.powf(0.5) / n).powf(1.0 / 3.0) * std,
        "fd" => fd,
        "auto" => fd.max(sqrt / 2.0).min(sturges),
        "doane" => {
            let sg1 = (6.0 * (n - 2.0) / ((n + 1.0) * (n + 3.0))).sqrt();
            let g1 = x.iter().map(|v| ((v - mean) / std).powi(3)).sum::<f64>() / n;
            if std > 0.0 { ptp / (1.0 + n.log2() + (1.0 + g1.abs() / sg1).log2()) } else { 0.0 }
        }
        "stone" => {
            if x.len() <= 1 || ptp == 0.0 {
                0.0
            } else {
                let upper = 100.max(n.sqrt() as usize);
                let jhat = |k: usize| {
                    let p: f64 = counts(x, k, first, last).iter().map(|&c| (c as f64 / n).powi(2)).sum();
                    (2.0 - (n + 1.0) * p) / (ptp / k as f64)
                };
                let best = (1..=upper).min_by(|&a, &b| jhat(a).partial_cmp(&jhat(b)).unwrap()).unwrap();
                ptp / best as f64
            }
        }
        _ => unreachable!(),
    };
    if width == 0.0 {
        return 1;
    }
    let width = if integer && width < 1.0 { 1.0 } else { width };
    ((last - first) / width).ceil() as usize
}

fn input() -> InputInfo {
    InputInfo { path: "memory".into(), format: "test", bytes: 0, batches: 0, files: Vec::new() }
}

fn tally_bins(store: &Store, rule: &str) -> (usize, f64, f64) {
    let analysis = Analysis::Hist(HistRequest {
        column: "x".into(),
        bins: Bins::Rule(BinRule::parse(rule).unwrap()),
        range: None,
    });
    let options =
        RunOptions { executor: ExecutorKind::Threads, workers: 3, chunk_rows: Some(300), ..RunOptions::default() };
    match run_store(store, input(), &analysis, &options).unwrap_or_else(|e| panic!("{rule}: {e}")).result {
        AnalysisResult::Hist(h) => {
            let e = &h.histogram.edges;
            (h.histogram.counts.len(), e[0], e[e.len() - 1])
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_rule_gives_numpys_bin_count_and_range() {
    let sets: Vec<(&str, Vec<f64>)> = vec![
        ("uniform", (0..3000).map(|i| (mix(i) % 1_000_000) as f64 / 1e4).collect()),
        ("skewed", (0..2500).map(|i| ((mix(i) % 1000) as f64 / 100.0).exp()).collect()),
        ("two values", (0..500).map(|i| if i % 3 == 0 { -2.0 } else { 5.0 }).collect()),
        ("constant", vec![4.25; 300]),
    ];
    for (name, x) in &sets {
        let store = store_of(
            &["x"],
            x.chunks(700).map(|c| vec![Arc::new(Float64Array::from(c.to_vec())) as ArrayRef]).collect(),
        );
        for rule in RULES {
            let (bins, lo, hi) = tally_bins(&store, rule);
            assert_eq!(bins, numpy_bins(x, rule, false), "{name} {rule}");
            let min = x.iter().copied().fold(f64::INFINITY, f64::min);
            let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let (want_lo, want_hi) = if min == max { (min - 0.5, max + 0.5) } else { (min, max) };
            assert_eq!((lo, hi), (want_lo, want_hi), "{name} {rule}");
        }
    }
    // Integer columns: widths below 1 become 1.
    let ints: Vec<i64> = (0..4000).map(|i| (mix(i) % 50) as i64).collect();
    let store = store_of(&["x"], vec![vec![Arc::new(Int64Array::from(ints.clone())) as ArrayRef]]);
    let xs: Vec<f64> = ints.iter().map(|&i| i as f64).collect();
    for rule in RULES {
        assert_eq!(tally_bins(&store, rule).0, numpy_bins(&xs, rule, true), "ints {rule}");
    }
}

#[test]
fn rules_refuse_infinite_data_and_a_range() {
    let store = store_of(&["x"], vec![vec![Arc::new(Float64Array::from(vec![1.0, f64::INFINITY])) as ArrayRef]]);
    let run = |range| {
        let analysis = Analysis::Hist(HistRequest { column: "x".into(), bins: Bins::Rule(BinRule::Auto), range });
        run_store(&store, input(), &analysis, &RunOptions::default()).unwrap_err().to_string()
    };
    assert!(run(None).contains("not finite"), "{}", run(None));
    assert!(run(Some((0.0, 1.0))).contains("--range"));
}
