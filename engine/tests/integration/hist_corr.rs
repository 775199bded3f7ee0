//! Histogram and correlation statistics against independent references: NumPy's `histogram` algorithm
//! reproduced line by line, a brute-force count over the edges, and exact rational arithmetic for the
//! co-moments; plus the merge and serde laws.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Float64Array, Int64Array, UInt64Array};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, ToPrimitive, Zero};
use proptest::prelude::*;
use tally_engine::stats::comoments::CoMoments;
use tally_engine::stats::histogram::{Histogram, HistogramResult};
use tally_engine::stats::histogram_edges::HistogramSpec;
use tally_engine::stats::numeric::numeric_chunk;
use tally_engine::stats::{decode, encode};
use tally_engine::store::validity_words;

/// Runs `f` with the numeric chunks of `arrays` (validity from the arrays' null buffers).
fn with_chunks<R>(arrays: &[ArrayRef], f: impl FnOnce(&[tally_engine::stats::numeric::NumericChunk<'_>]) -> R) -> R {
    let words: Vec<Option<Vec<u64>>> = arrays.iter().map(|a| validity_words(a.as_ref())).collect();
    let chunks: Vec<_> =
        arrays.iter().zip(&words).map(|(a, w)| numeric_chunk(a.as_ref(), w.as_deref()).unwrap()).collect();
    f(&chunks)
}

fn histogram_of(spec: &HistogramSpec, pieces: &[ArrayRef]) -> HistogramResult {
    let mut h = Histogram::default();
    for p in pieces {
        with_chunks(std::slice::from_ref(p), |c| h.update(spec, c[0]));
    }
    h.finish(spec)
}

/// `numpy.histogram(a, bins=n, range=(lo, hi))` for float64 `a` without NaN, as `_histograms_impl.py`
/// computes it: keep `lo <= x <= hi`, `f = (x - lo) / (hi - lo) * n`, truncate, `n → n-1`, one step down
/// when `x < edges[i]`, one up when `x >= edges[i+1]` and `i != n-1`, then bincount.
fn numpy_uniform(xs: &[f64], edges: &[f64]) -> Vec<u64> {
    let n = edges.len() - 1;
    let (first, last) = (edges[0], edges[n]);
    let norm_denom = last - first;
    let mut counts = vec![0u64; n];
    for &x in xs.iter().filter(|&&x| x >= first && x <= last) {
        let mut i = ((x - first) / norm_denom * n as f64) as usize;
        if i == n {
            i -= 1;
        }
        if x < edges[i] {
            i -= 1;
        }
        if x >= edges[i + 1] && i != n - 1 {
            i += 1;
        }
        counts[i] += 1;
    }
    counts
}

/// The bin rule by brute force: a linear scan over all edges.
fn brute_force(xs: &[f64], edges: &[f64]) -> (Vec<u64>, u64, u64, u64) {
    let n = edges.len() - 1;
    let (mut counts, mut under, mut over, mut nan) = (vec![0u64; n], 0, 0, 0);
    for &x in xs {
        if x.is_nan() {
            nan += 1;
        } else if x < edges[0] {
            under += 1;
        } else if x > edges[n] {
            over += 1;
        } else if x == edges[n] {
            counts[n - 1] += 1;
        } else {
            let i = (0..n).rev().find(|&i| edges[i] <= x && x < edges[i + 1]).expect("x is inside");
            counts[i] += 1;
        }
    }
    (counts, under, over, nan)
}

/// Values drawn to hit edges: exact edges, their float neighbours, values in between, ±inf, NaN.
fn tricky_values(edges: Vec<f64>) -> impl Strategy<Value = Vec<f64>> {
    let e = edges.clone();
    let value = prop_oneof![
        4 => (0..e.len(), -1i32..=1).prop_map(move |(i, s)| match s { -1 => e[i].next_down(), 0 => e[i], _ => e[i].next_up() }),
        4 => edges[0] - 1.0..edges[edges.len() - 1] + 1.0,
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(f64::NAN),
    ];
    prop::collection::vec(value, 0..400)
}

fn spec_and_values() -> impl Strategy<Value = (f64, f64, usize, Vec<f64>)> {
    (-1e3f64..1e3, 1e-6f64..1e3, 1usize..120).prop_flat_map(|(lo, width, bins)| {
        let hi = lo + width;
        let edges = HistogramSpec::equal_width(lo, hi, bins).unwrap().edges().to_vec();
        (Just(lo), Just(hi), Just(bins), tricky_values(edges))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn histogram_equals_numpy_and_brute_force((lo, hi, bins, xs) in spec_and_values(), nulls in any::<u64>(), cut in 0usize..400) {
        let spec = HistogramSpec::equal_width(lo, hi, bins).unwrap();
        let valid: Vec<bool> = (0..xs.len()).map(|i| (nulls >> (i % 64)) & 1 == 1 || i % 3 == 0).collect();
        let used: Vec<f64> = xs.iter().zip(&valid).filter(|(_, v)| **v).map(|(x, _)| *x).collect();
        let array: ArrayRef = Arc::new(Float64Array::from(xs.iter().zip(&valid).map(|(x, v)| v.then_some(*x)).collect::<Vec<_>>()));
        let got = histogram_of(&spec, std::slice::from_ref(&array));
        let finite: Vec<f64> = used.iter().copied().filter(|x| !x.is_nan()).collect();
        prop_assert_eq!(&got.counts, &numpy_uniform(&finite, spec.edges()));
        let (counts, under, over, nan) = brute_force(&used, spec.edges());
        prop_assert_eq!(&got.counts, &counts);
        prop_assert_eq!((got.underflow, got.overflow, got.nan_count), (under, over, nan));
        prop_assert_eq!(got.null_count as usize, xs.len() - used.len());
        // split law: exact
        let cut = cut.min(xs.len());
        let split = histogram_of(&spec, &[array.slice(0, cut), array.slice(cut, xs.len() - cut)]);
        prop_assert_eq!(&split, &got);
        // explicit edges take the search path and must agree too
        let by_edges = HistogramSpec::from_edges(spec.edges().to_vec()).unwrap();
        prop_assert_eq!(&histogram_of(&by_edges, std::slice::from_ref(&array)).counts, &got.counts);
    }

    #[test]
    fn histogram_of_uneven_edges_equals_brute_force(mut edges in prop::collection::vec(-50i32..50, 2..12), xs in prop::collection::vec(-60i32..60, 0..300)) {
        edges.sort();
        let edges: Vec<f64> = edges.into_iter().map(|e| e as f64 / 4.0).collect();
        let xs: Vec<f64> = xs.into_iter().map(|x| x as f64 / 4.0).collect();
        let spec = HistogramSpec::from_edges(edges.clone()).unwrap();
        let array: ArrayRef = Arc::new(Float64Array::from(xs.clone()));
        let got = histogram_of(&spec, &[array]);
        let (counts, under, over, _) = brute_force(&xs, &edges);
        prop_assert_eq!((got.counts, got.underflow, got.overflow), (counts, under, over));
    }
}

#[test]
fn histogram_special_cases() {
    // A constant column with an autodetected range: NumPy widens to [c - 0.5, c + 0.5].
    let spec = HistogramSpec::from_data_range(Some((7.0, 7.0)), 4).unwrap();
    assert_eq!(spec.edges(), [6.5, 6.75, 7.0, 7.25, 7.5]);
    let r = histogram_of(&spec, &[Arc::new(Float64Array::from(vec![7.0; 5]))]);
    assert_eq!(r.counts, [0, 0, 5, 0]);
    // A range excluding everything.
    let spec = HistogramSpec::equal_width(10.0, 11.0, 3).unwrap();
    let r = histogram_of(&spec, &[Arc::new(Float64Array::from(vec![1.0, 2.0, 12.0, f64::INFINITY]))]);
    assert_eq!((r.counts.clone(), r.underflow, r.overflow, r.in_range()), (vec![0, 0, 0], 2, 2, 0));
    // np.histogram(np.linspace(-4, 4, 51), bins=50, range=(-4, 4)): every edge in its own bin, the last closed.
    let spec = HistogramSpec::equal_width(-4.0, 4.0, 50).unwrap();
    let r = histogram_of(&spec, &[Arc::new(Float64Array::from(spec.edges().to_vec()))]);
    let mut expected = vec![1u64; 50];
    expected[49] = 2;
    assert_eq!(r.counts, expected);
    // Integers and nulls.
    let ints: ArrayRef = Arc::new(Int64Array::from(vec![Some(0), None, Some(5), Some(10), Some(-1), None]));
    let r = histogram_of(&HistogramSpec::equal_width(0.0, 10.0, 2).unwrap(), &[ints]);
    assert_eq!((r.counts, r.underflow, r.null_count), (vec![1, 2], 1, 2));
}

#[test]
fn histogram_state_round_trips() {
    let spec = HistogramSpec::equal_width(0.0, 1.0, 5).unwrap();
    let mut h = Histogram::default();
    with_chunks(&[Arc::new(Float64Array::from(vec![Some(0.3), None, Some(f64::NAN), Some(2.0)]))], |c| {
        h.update(&spec, c[0])
    });
    assert_eq!(decode::<Histogram>(&encode(&h).unwrap()).unwrap(), h);
    assert_eq!(decode::<HistogramSpec>(&encode(&spec).unwrap()).unwrap(), spec);
}

// ---------------------------------------------------------------------------------------------------
// Co-moments against exact rationals.

/// `x · 2^scale` as an exact integer (the test data are dyadic with at most `scale` fraction bits).
fn scaled(x: f64, scale: i32) -> BigInt {
    let r = BigRational::from_float(x * 2f64.powi(scale)).expect("finite");
    assert!(r.is_integer(), "{x} has more than {scale} fraction bits");
    r.to_integer()
}

/// Exact pairwise-complete statistics of two columns.
struct ExactPair {
    n: u64,
    cov: Option<f64>,
    corr: Option<f64>,
    /// `sqrt(var_x · var_y)` over the pair's rows, the largest `|cov|` can be (Cauchy-Schwarz): the scale
    /// a covariance's rounding error is measured against.
    spread: f64,
}

/// Exact pairwise-complete `(n, cov, corr)` of two columns given as integers `x · 2^scale` (`None`: null
/// or NaN), from exact integer power sums: `n²·C = n·Σxy − Σx·Σy` holds exactly in integers.
fn exact_pair(x: &[Option<BigInt>], y: &[Option<BigInt>], scale: i32, ddof: u64) -> ExactPair {
    let rows: Vec<(&BigInt, &BigInt)> = x.iter().zip(y).filter_map(|(a, b)| Some((a.as_ref()?, b.as_ref()?))).collect();
    let n = rows.len() as u64;
    if n == 0 {
        return ExactPair { n: 0, cov: None, corr: None, spread: 0.0 };
    }
    let zero = || BigInt::zero();
    let (mut sx, mut sy, mut sxy, mut sxx, mut syy) = (zero(), zero(), zero(), zero(), zero());
    for (a, b) in &rows {
        sx += *a;
        sy += *b;
        sxy += *a * *b;
        sxx += *a * *a;
        syy += *b * *b;
    }
    let nb = BigInt::from(n);
    let c = &nb * sxy - &sx * &sy; // n · C · 4^scale
    let m2x = &nb * sxx - &sx * &sx;
    let m2y = &nb * syy - &sy * &sy;
    let unit = BigInt::from(1) << (2 * scale as usize);
    let denominator = nb.clone() * BigInt::from(n.saturating_sub(ddof).max(1)) * unit;
    let cov = (n > ddof).then(|| BigRational::new(c.clone(), denominator.clone()).to_f64().unwrap());
    let corr = (!m2x.is_zero() && !m2y.is_zero()).then(|| {
        let r = BigRational::new(&c * &c, &m2x * &m2y).to_f64().unwrap().sqrt();
        if c.is_negative() { -r } else { r }
    });
    let spread = BigRational::new(&m2x * &m2y, &denominator * &denominator).to_f64().unwrap().sqrt();
    ExactPair { n, cov, corr, spread }
}

/// How far a covariance may be from the exact one: `rel` of its own size, or a few roundings of the
/// pair's spread. The second term is what floating point attains for a covariance near 0 (two nearly
/// uncorrelated columns): the centered products round at the spread's scale. NumPy 2.4's `np.cov` on
/// such data (two columns of up to 200,000 dyadic values, 180 draws) stayed within 0.075 ε·spread off
/// the diagonal, tally within 0.087 ε·spread; on the diagonal 5.9 ε and 6.2 ε relative.
fn cov_close(got: f64, exact: &ExactPair, rel: f64) -> bool {
    let want = exact.cov.unwrap();
    close(got, want, rel) || (got - want).abs() <= 4.0 * f64::EPSILON * exact.spread
}

fn close(got: f64, want: f64, rel: f64) -> bool {
    (got - want).abs() <= rel * want.abs().max(1e-300) || got == want
}

fn check_against_exact(columns: &[Vec<Option<BigInt>>], scale: i32, state: &CoMoments, ddof: u64, rel: f64) {
    let r = state.finish(ddof);
    for i in 0..columns.len() {
        for j in 0..columns.len() {
            let exact = exact_pair(&columns[i], &columns[j], scale, ddof);
            let (n, cov, corr) = (exact.n, exact.cov, exact.corr);
            assert_eq!(r.n_pairs[(i, j)], n, "n of ({i}, {j})");
            match (r.cov[(i, j)], cov) {
                (Some(g), Some(w)) => {
                    assert!(cov_close(g, &exact, rel), "cov ({i}, {j}): {g} vs exact {w}, spread {}", exact.spread)
                }
                (g, w) => assert_eq!(g, w, "cov ({i}, {j})"),
            }
            match (r.corr[(i, j)], corr) {
                (Some(g), Some(w)) => assert!((g - w).abs() <= rel.max(1e-15), "corr ({i}, {j}): {g} vs exact {w}"),
                (g, w) => assert_eq!(g, w, "corr ({i}, {j})"),
            }
            if i == j && corr.is_some() {
                assert_eq!(r.corr[(i, j)], Some(1.0));
            }
        }
    }
}

fn co_of(arrays: &[ArrayRef], cuts: &[usize]) -> CoMoments {
    let len = arrays[0].len();
    let mut total = CoMoments::new(arrays.len());
    let mut bounds: Vec<usize> = cuts.iter().map(|&c| c.min(len)).collect();
    bounds.sort();
    bounds.insert(0, 0);
    bounds.push(len);
    for w in bounds.windows(2) {
        let pieces: Vec<ArrayRef> = arrays.iter().map(|a| a.slice(w[0], w[1] - w[0])).collect();
        let mut part = CoMoments::new(arrays.len());
        with_chunks(&pieces, |c| part.update(c));
        total.merge(&part);
    }
    total
}

/// Dyadic floats (multiples of 1/8 up to ±2^20): exact in f64 and in rationals.
fn float_column(len: usize) -> impl Strategy<Value = Vec<Option<f64>>> {
    let v = prop_oneof![
        8 => (-(1i64 << 23)..(1i64 << 23)).prop_map(|k| Some(k as f64 / 8.0)),
        1 => Just(None),
        1 => Just(Some(f64::NAN)),
        1 => Just(Some(2.5)),
    ];
    prop::collection::vec(v, len)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn corr_and_cov_equal_exact_rationals(
        cols in (1usize..3000).prop_flat_map(|len| prop::collection::vec(float_column(len), 3)),
        cuts in prop::collection::vec(0usize..3000, 0..3),
        ddof in 0u64..2,
    ) {
        let mut cols = cols;
        let len = cols[0].len();
        cols.push(vec![Some(0.1); len]); // a constant column: None everywhere
        let arrays: Vec<ArrayRef> = cols.iter().map(|c| Arc::new(Float64Array::from(c.clone())) as ArrayRef).collect();
        // 0.1 is not dyadic with 3 fraction bits, but a constant column only needs n: scale it as 0.
        let exact: Vec<Vec<Option<BigInt>>> = cols.iter().map(|c| c.iter().map(|x| x.filter(|x| !x.is_nan()).map(|x| if x == 0.1 { BigInt::zero() } else { scaled(x, 3) })).collect()).collect();
        let whole = co_of(&arrays, &[]);
        check_against_exact(&exact, 3, &whole, ddof, 1e-12);
        let split = co_of(&arrays, &cuts);
        check_against_exact(&exact, 3, &split, ddof, 1e-12);
        prop_assert_eq!(decode::<CoMoments>(&encode(&split).unwrap()).unwrap(), split);
    }
}

/// Found by `corr_and_cov_equal_exact_rationals` in CI: two large, nearly uncorrelated columns, whose
/// covariance is ~1e-5 of their spread, so rounding at the spread's scale (~1e-17 of it here) is 1e-12
/// of the covariance itself. Rebuilt here deterministically: `y = z − β·x` with `β` the regression
/// slope of `z` on `x` rounded to 20 fraction bits, which leaves `|corr(x, y)|` below 1e-5.
#[test]
fn nearly_uncorrelated_columns_are_within_roundings_of_their_spread() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        ((seed >> 40) as i64 - (1 << 23)) as f64 / 8.0 // dyadic, |v| < 2^20
    };
    let n = 2999;
    let x: Vec<f64> = (0..n).map(|_| next()).collect();
    let z: Vec<f64> = (0..n).map(|_| next()).collect();
    let scale = 23; // x and z have 3 fraction bits, β has 20.
    let big = |v: &[f64]| v.iter().map(|&v| Some(scaled(v, scale))).collect::<Vec<_>>();
    let (bx, bz) = (big(&x), big(&z));
    let slope = exact_pair(&bx, &bz, scale, 0).cov.unwrap() / exact_pair(&bx, &bx, scale, 0).cov.unwrap();
    let beta = (slope * 2f64.powi(20)).round() / 2f64.powi(20);
    let y: Vec<f64> = x.iter().zip(&z).map(|(x, z)| z - beta * x).collect();
    let by = big(&y);
    assert!(
        y.iter()
            .zip(&by)
            .all(|(v, b)| BigRational::from_float(*v).unwrap() * BigRational::from_integer(BigInt::from(1) << scale)
                == BigRational::from_integer(b.clone().unwrap())),
        "y is exact"
    );
    let exact = exact_pair(&bx, &by, scale, 1);
    assert!(exact.corr.unwrap().abs() < 1e-5, "the case this test is for: corr {:?}", exact.corr);
    let arrays: Vec<ArrayRef> = vec![Arc::new(Float64Array::from(x)), Arc::new(Float64Array::from(y))];
    for cuts in [&[][..], &[1000], &[7, 1500, 2998]] {
        check_against_exact(&[bx.clone(), by.clone()], scale, &co_of(&arrays, cuts), 1, 1e-12);
    }
}

#[test]
fn integers_near_i64_max_keep_their_spread() {
    let xs: Vec<Option<i64>> = (0..5000i64).map(|i| (i % 7 != 3).then_some(i64::MAX - (i * 37 % 1001))).collect();
    let ys: Vec<Option<u64>> = (0..5000u64).map(|i| Some(u64::MAX - (i * 11 % 503))).collect();
    let arrays: Vec<ArrayRef> = vec![Arc::new(Int64Array::from(xs.clone())), Arc::new(UInt64Array::from(ys.clone()))];
    let exact =
        vec![xs.iter().map(|x| x.map(BigInt::from)).collect(), ys.iter().map(|y| y.map(BigInt::from)).collect()];
    check_against_exact(&exact, 0, &co_of(&arrays, &[]), 1, 1e-12);
    check_against_exact(&exact, 0, &co_of(&arrays, &[1000, 2500, 2501]), 1, 1e-12);
}

#[test]
fn one_pair_and_constant_columns() {
    // np.corrcoef([1, 2, 3, 4], [2, 4, 6, 9]) and np.cov(..., ddof=1), values checked in rationals.
    let x: ArrayRef = Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0, 4.0]));
    let y: ArrayRef = Arc::new(Float64Array::from(vec![2.0, 4.0, 6.0, 9.0]));
    let r = co_of(&[x.clone(), y.clone()], &[2]).finish(1);
    // dx = ±1.5, ±0.5; dy = -3.25, -1.25, 0.75, 3.75: Σdxdy = 11.5, M2x = 5, M2y = 26.75.
    assert_eq!(r.cov[(0, 1)], Some(11.5 / 3.0));
    assert_eq!(r.cov[(0, 0)], Some(5.0 / 3.0));
    assert!((r.corr[(0, 1)].unwrap() - 11.5 / (5.0f64 * 26.75).sqrt()).abs() < 1e-15);
    assert_eq!((r.corr[(0, 0)], r.corr[(1, 1)]), (Some(1.0), Some(1.0)));
    // Constant over the pair's rows only: y is 3 wherever x is valid.
    let x: ArrayRef = Arc::new(Float64Array::from(vec![Some(0.1), None, Some(0.7), Some(0.3)]));
    let y: ArrayRef = Arc::new(Float64Array::from(vec![0.3, 5.0, 0.3, 0.3]));
    let r = co_of(&[x, y], &[]).finish(1);
    assert_eq!(r.corr[(0, 1)], None);
    assert_eq!(r.corr[(1, 1)], Some(1.0));
    assert_eq!(r.cov[(0, 1)], Some(0.0));
    assert_eq!(r.n_pairs[(0, 1)], 3);
    // Empty and single rows.
    let r = CoMoments::new(2).finish(1);
    assert_eq!((r.corr[(0, 1)], r.cov[(0, 0)], r.n_pairs[(1, 1)]), (None, None, 0));
}

#[test]
fn far_apart_means_do_not_overflow_the_merge() {
    // Two halves with means ±1e151: δ²·na·nb overflows f64 while M2 itself (~1e306) does not.
    let n = 2000usize;
    let xs: Vec<f64> =
        (0..n).map(|i| if i < n / 2 { 1e151 } else { -1e151 } * (1.0 + (i % 17) as f64 / 1024.0)).collect();
    let ys: Vec<f64> = (0..n).map(|i| (i % 29) as f64 - if i < n / 2 { 0.0 } else { 3.0 }).collect();
    let arrays: Vec<ArrayRef> =
        vec![Arc::new(Float64Array::from(xs.clone())), Arc::new(Float64Array::from(ys.clone()))];
    let exact: Vec<Vec<Option<BigInt>>> =
        [xs, ys].iter().map(|c| c.iter().map(|&x| Some(scaled(x, 0))).collect()).collect();
    check_against_exact(&exact, 0, &co_of(&arrays, &[n / 2]), 1, 1e-12);
    assert!(co_of(&arrays, &[n / 2]).finish(1).cov[(0, 0)].unwrap().is_finite());
}
