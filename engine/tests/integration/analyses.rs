//! The analyses through the whole pipeline (validate → passes → Session → Aggregator → finish), against
//! brute-force references computed here row by row: histograms, correlations, `--where` filters and
//! saved states.

use crate::common;

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int32Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use common::store_of;
use tally_engine::analysis::{Bins, CorrRequest, DescribeRequest, HistRequest};
use tally_engine::exec::ExecutorKind;
use tally_engine::report::InputInfo;
use tally_engine::run::{Outcome, run_store};
use tally_engine::state_file::StateFile;
use tally_engine::store::Store;
use tally_engine::{Analysis, AnalysisResult, RunOptions};

/// Rows with nulls (every 17th `x`, every 11th `y`), NaN (every 23rd `x`), values exactly on edges, and an
/// integer key `k` in 0..10. `rows` split into batches of 997.
fn data(rows: usize) -> (Vec<Option<f64>>, Vec<Option<f64>>, Vec<i32>) {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut xs, mut ys, mut ks) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..rows {
        let r = next();
        let x = if i % 23 == 0 {
            f64::NAN
        } else if i % 5 == 0 {
            (r % 9) as f64 - 4.0
        } else {
            (r as f64 / u64::MAX as f64) * 8.0 - 4.0
        };
        xs.push((i % 17 != 0).then_some(x));
        let y = if x.is_nan() { 0.5 } else { 2.0 * x + ((next() % 1000) as f64 - 500.0) / 250.0 };
        ys.push((i % 11 != 0).then_some(y));
        ks.push((next() % 10) as i32);
    }
    (xs, ys, ks)
}

fn store(xs: &[Option<f64>], ys: &[Option<f64>], ks: &[i32]) -> Store {
    let batches = (0..xs.len())
        .step_by(997)
        .map(|s| {
            let e = (s + 997).min(xs.len());
            vec![
                Arc::new(Float64Array::from(xs[s..e].to_vec())) as ArrayRef,
                Arc::new(Float64Array::from(ys[s..e].to_vec())),
                Arc::new(Int32Array::from(ks[s..e].to_vec())),
            ]
        })
        .collect();
    store_of(&["x", "y", "k"], batches)
}

fn input() -> InputInfo {
    InputInfo { path: "memory".into(), format: "test", bytes: 0, batches: 0, files: Vec::new() }
}

fn run(store: &Store, analysis: &Analysis, executor: ExecutorKind, workers: usize, filter: Option<&str>) -> Outcome {
    let options = RunOptions {
        executor,
        workers,
        chunk_rows: Some(1500),
        filter: filter.map(str::to_string),
        ..RunOptions::default()
    };
    run_store(store, input(), analysis, &options).unwrap_or_else(|e| panic!("{e}"))
}

fn hist(bins: usize, range: Option<(f64, f64)>) -> Analysis {
    Analysis::Hist(HistRequest { column: "x".into(), bins: Bins::Count(bins), range })
}

/// NumPy's rule written out: bin i holds edges[i] <= x < edges[i+1], the last bin is closed.
fn brute_counts(xs: &[f64], edges: &[f64]) -> (Vec<u64>, u64, u64) {
    let n = edges.len() - 1;
    let (mut counts, mut under, mut over) = (vec![0u64; n], 0, 0);
    for &x in xs {
        if x < edges[0] {
            under += 1;
        } else if x > edges[n] {
            over += 1;
        } else {
            let i = (0..n).find(|&i| x >= edges[i] && (x < edges[i + 1] || i == n - 1)).unwrap();
            counts[i] += 1;
        }
    }
    (counts, under, over)
}

#[test]
fn histogram_without_range_takes_two_passes_and_counts_like_numpy() {
    let (xs, ys, ks) = data(9000);
    let s = store(&xs, &ys, &ks);
    let out = run(&s, &hist(40, None), ExecutorKind::Serial, 1, None);
    assert_eq!(out.exec.passes, 2, "range pass, then counts");
    let AnalysisResult::Hist(h) = &out.result else { panic!("a histogram") };
    let finite: Vec<f64> = xs.iter().flatten().copied().filter(|x| !x.is_nan()).collect();
    let (lo, hi) = finite.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
    let g = &h.histogram;
    assert_eq!((g.edges[0], g.edges[40]), (lo, hi), "the data's finite range, last edge exactly max");
    let (counts, under, over) = brute_counts(&finite, &g.edges);
    assert_eq!((&g.counts, g.underflow, g.overflow), (&counts, under, over));
    assert_eq!(g.null_count, xs.iter().filter(|x| x.is_none()).count() as u64);
    assert_eq!(g.nan_count, xs.iter().flatten().filter(|x| x.is_nan()).count() as u64);
    // Fixed range: one pass, values on the integer edges land per NumPy's rule.
    let out = run(&s, &hist(8, Some((-4.0, 4.0))), ExecutorKind::Threads, 3, None);
    assert_eq!(out.exec.passes, 1);
    let AnalysisResult::Hist(h) = &out.result else { panic!("a histogram") };
    assert_eq!(h.histogram.counts, brute_counts(&finite, &h.histogram.edges).0);
}

/// Pearson r over the rows where both are present and not NaN, two-pass in f64 (the reference).
fn brute_corr(a: &[Option<f64>], b: &[Option<f64>]) -> (f64, u64) {
    let pairs: Vec<(f64, f64)> = a
        .iter()
        .zip(b)
        .filter_map(|(x, y)| Some((((*x)?), (*y)?)))
        .filter(|(x, y)| !x.is_nan() && !y.is_nan())
        .collect();
    let n = pairs.len() as f64;
    let (mx, my) = (pairs.iter().map(|p| p.0).sum::<f64>() / n, pairs.iter().map(|p| p.1).sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in &pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    (sxy / (sxx.sqrt() * syy.sqrt()), pairs.len() as u64)
}

#[test]
fn correlation_is_pairwise_complete_and_identical_for_every_executor() {
    let (xs, ys, ks) = data(7000);
    let s = store(&xs, &ys, &ks);
    let corr = Analysis::Corr(CorrRequest { columns: vec!["x".into(), "y".into(), "k".into()], cov: false, ddof: 1 });
    let oracle = run(&s, &corr, ExecutorKind::Serial, 1, None);
    let AnalysisResult::Corr(c) = &oracle.result else { panic!("a correlation") };
    let (r, n) = brute_corr(&xs, &ys);
    assert_eq!(c.result.n_pairs[(0, 1)], n);
    let got = c.result.corr[(0, 1)].unwrap();
    assert!((got - r).abs() < 1e-12, "{got} vs {r}");
    assert_eq!((c.result.corr[(0, 0)], c.result.corr[(1, 1)]), (Some(1.0), Some(1.0)));
    for workers in [1, 2, 3, 7] {
        let other = run(&s, &corr, ExecutorKind::Threads, workers, None);
        assert_eq!(other.result, oracle.result, "threads x {workers}");
    }
}

/// The rows `k < 5 and y is not null` keeps, as their own store.
fn kept(xs: &[Option<f64>], ys: &[Option<f64>], ks: &[i32]) -> Store {
    let keep: Vec<usize> = (0..xs.len()).filter(|&i| ks[i] < 5 && ys[i].is_some()).collect();
    let pick = |v: &[Option<f64>]| keep.iter().map(|&i| v[i]).collect::<Vec<_>>();
    store(&pick(xs), &pick(ys), &keep.iter().map(|&i| ks[i]).collect::<Vec<_>>())
}

#[test]
fn a_filter_equals_the_analysis_of_the_passing_rows() {
    let (xs, ys, ks) = data(8000);
    let (all, only) = (store(&xs, &ys, &ks), kept(&xs, &ys, &ks));
    let filter = Some("k < 5 and y is not null");
    // Exact states: bit-identical.
    let h = hist(16, Some((-4.0, 4.0)));
    let (a, b) = (run(&all, &h, ExecutorKind::Threads, 2, filter), run(&only, &h, ExecutorKind::Serial, 1, None));
    assert_eq!(a.state, b.state, "the histogram state and the rows that passed, bit for bit");
    assert_eq!(a.state.rows, only.num_rows(), "rows that passed");
    let AnalysisResult::Hist(ha) = &a.result else { panic!("a histogram") };
    assert_eq!(ha.filter.as_ref().map(|f| (f.text.as_str(), f.input_rows)), Some(("k < 5 and y is not null", 8000)));
    // Describe: counts, nulls, extrema exact; moments within a few ulps (different block boundaries).
    let d = Analysis::Describe(DescribeRequest { columns: None, exact: true, ddof: 1, quantiles: Vec::new() });
    let (a, b) = (run(&all, &d, ExecutorKind::Threads, 3, filter), run(&only, &d, ExecutorKind::Serial, 1, None));
    let (AnalysisResult::Describe(ra), AnalysisResult::Describe(rb)) = (&a.result, &b.result) else { panic!() };
    assert_eq!(ra.rows, rb.rows);
    for (ca, cb) in ra.columns.iter().zip(&rb.columns) {
        let (sa, sb) = (&ca.summary, &cb.summary);
        assert_eq!(
            (sa.count, sa.null_count, sa.nan_count, sa.min, sa.max),
            (sb.count, sb.null_count, sb.nan_count, sb.min, sb.max),
            "{}",
            ca.name
        );
        assert_eq!((sa.sum, sa.mean), (sb.sum, sb.mean), "--exact sums are correctly rounded either way: {}", ca.name);
        let close = |p: Option<f64>, q: Option<f64>| match (p, q) {
            (Some(p), Some(q)) => (p - q).abs() <= 1e-12 * q.abs().max(1e-300),
            (p, q) => p == q,
        };
        assert!(close(sa.var, sb.var) && close(sa.skewness, sb.skewness), "{}", ca.name);
    }
    // Correlation over the filtered rows.
    let corr = Analysis::Corr(CorrRequest { columns: vec!["x".into(), "y".into()], cov: true, ddof: 1 });
    let (a, b) = (run(&all, &corr, ExecutorKind::Serial, 1, filter), run(&only, &corr, ExecutorKind::Serial, 1, None));
    let (AnalysisResult::Corr(ca), AnalysisResult::Corr(cb)) = (&a.result, &b.result) else { panic!() };
    assert_eq!(ca.result.n_pairs, cb.result.n_pairs);
    let (p, q) = (ca.result.cov[(0, 1)].unwrap(), cb.result.cov[(0, 1)].unwrap());
    assert!((p - q).abs() <= 1e-12 * q.abs(), "{p} vs {q}");
}

#[test]
fn bad_filters_name_the_position_and_the_columns() {
    let (xs, ys, ks) = data(100);
    let s = store(&xs, &ys, &ks);
    let options = RunOptions { filter: Some("k < 5 and zz > 1".into()), ..RunOptions::default() };
    let err = run_store(&s, input(), &hist(4, None), &options).unwrap_err().to_string();
    assert!(err.contains("zz") && err.contains("x, y, k"), "{err}");
}

#[test]
fn saved_states_of_two_halves_merge_into_the_whole() {
    let (xs, ys, ks) = data(6000);
    let whole = store(&xs, &ys, &ks);
    let (h1, h2) = (store(&xs[..3000], &ys[..3000], &ks[..3000]), store(&xs[3000..], &ys[3000..], &ks[3000..]));
    let save =
        |o: &Outcome| StateFile::new(o.resolved.clone(), &o.input, o.state.rows, o.state.clone()).to_bytes().unwrap();
    for analysis in [
        hist(12, Some((-4.0, 4.0))),
        Analysis::Describe(DescribeRequest { columns: None, exact: true, ddof: 1, quantiles: Vec::new() }),
    ] {
        let (a, b) =
            (run(&h1, &analysis, ExecutorKind::Serial, 1, None), run(&h2, &analysis, ExecutorKind::Serial, 1, None));
        let mut merged = StateFile::from_bytes(&save(&a), "a.tstate".as_ref()).unwrap();
        merged
            .merge(&StateFile::from_bytes(&save(&b), "b.tstate".as_ref()).unwrap(), "a".as_ref(), "b".as_ref())
            .unwrap();
        let full = run(&whole, &analysis, ExecutorKind::Serial, 1, None);
        match (merged.finish().unwrap(), &full.result) {
            (AnalysisResult::Hist(m), AnalysisResult::Hist(f)) => assert_eq!(m.histogram, f.histogram),
            (AnalysisResult::Describe(m), AnalysisResult::Describe(f)) => {
                for (cm, cf) in m.columns.iter().zip(&f.columns) {
                    let (sm, sf) = (&cm.summary, &cf.summary);
                    assert_eq!(
                        (sm.count, sm.min, sm.max, sm.sum, sm.mean),
                        (sf.count, sf.min, sf.max, sf.sum, sf.mean)
                    );
                }
            }
            other => panic!("{other:?}"),
        }
    }
    // A histogram state does not merge with another binning.
    let (a, b) = (
        run(&h1, &hist(12, Some((-4.0, 4.0))), ExecutorKind::Serial, 1, None),
        run(&h2, &hist(12, Some((-3.0, 3.0))), ExecutorKind::Serial, 1, None),
    );
    let mut sa = StateFile::from_bytes(&save(&a), "a".as_ref()).unwrap();
    let err =
        sa.merge(&StateFile::from_bytes(&save(&b), "b".as_ref()).unwrap(), "a.tstate".as_ref(), "b.tstate".as_ref());
    assert!(err.unwrap_err().to_string().contains("cannot merge a.tstate with b.tstate"));
}

#[test]
fn non_numeric_columns_are_refused_naming_the_numeric_ones() {
    let schema =
        Arc::new(Schema::new(vec![Field::new("s", DataType::Utf8, true), Field::new("v", DataType::Float64, true)]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(arrow_array::StringArray::from(vec!["a"])) as ArrayRef, Arc::new(Float64Array::from(vec![1.0]))],
    )
    .unwrap();
    let s = store_of(&["s", "v"], vec![batch.columns().to_vec()]);
    let analysis = Analysis::Hist(HistRequest { column: "s".into(), bins: Bins::Count(3), range: None });
    let err = run_store(&s, input(), &analysis, &RunOptions::default()).unwrap_err().to_string();
    assert!(err.contains("not a number") && err.contains("numeric columns are: v"), "{err}");
}
