//! Issue 7, end to end: every accuracy case the issue reports, reproduced on generated Arrow IPC files and
//! checked against exact rational references written here (num-bigint, independent of the engine's own
//! exact code), NumPy's documented pairwise summation, and brute-force loops.
//!
//! * the compensated `sum` and `mean` (`exact: false`, the CLI's `--compensated`): correctly rounded for
//!   integer-valued floats and sums without cancellation, within the README bound
//!   `eps·|S| + 2(n + 2^20)·eps²·Σ|x|` otherwise, and never worse than NumPy;
//! * the exact sum (`exact: true`, the CLI's default): correctly rounded everywhere, cancellation near
//!   ±f64::MAX included, whichever path (the in-pass levels or the full extraction) a block takes;
//! * finite std (and skewness/kurtosis) for spreads whose variance exceeds f64::MAX, non-zero std for
//!   values near 1e-300, no overflow when merging far-apart chunks;
//! * integer columns: correctly rounded var and std;
//! * chunk size changes at most the last bits.

use crate::common;

use std::path::Path;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Float64Array, Int64Array, RecordBatch};
use arrow_ipc::writer::FileWriter;
use arrow_schema::{Field, Schema};
use num_bigint::BigInt;
use num_traits::{Signed, ToPrimitive, Zero};
use tally_engine::exec::ExecutorKind;
use tally_engine::run::RunOptions;
use tally_engine::stats::{Summary, Value};
use tally_engine::{DescribeOptions, describe};

const EPS: f64 = f64::EPSILON / 2.0;

/// A small deterministic generator (xorshift64*), independent of tally's.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Writes one column `x` in the given batches to an Arrow IPC file.
fn write_file(path: &Path, batches: &[ArrayRef]) {
    let schema = Arc::new(Schema::new(vec![Field::new("x", batches[0].data_type().clone(), true)]));
    let mut w = FileWriter::try_new(std::fs::File::create(path).unwrap(), &schema).unwrap();
    for b in batches {
        w.write(&RecordBatch::try_new(schema.clone(), vec![b.clone()]).unwrap()).unwrap();
    }
    w.finish().unwrap();
}

fn run(path: &Path, exact: bool, ddof: u64, chunk_rows: u64, executor: ExecutorKind) -> Summary {
    let run = RunOptions { executor, workers: 2, chunk_rows: Some(chunk_rows), ..RunOptions::default() };
    let options = DescribeOptions { exact, ddof, run, ..DescribeOptions::default() };
    describe(path, &options).unwrap().report.columns.remove(0).summary
}

/// The column in a fresh file, described with the default options but `exact`, `ddof` and `chunk_rows`.
fn describe_batches(batches: &[ArrayRef], exact: bool, ddof: u64, chunk_rows: u64) -> Summary {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.arrow");
    write_file(&path, batches);
    run(&path, exact, ddof, chunk_rows, ExecutorKind::Threads)
}

fn float(v: Option<Value>) -> f64 {
    match v {
        Some(Value::Float(f)) => f,
        other => panic!("expected a float, got {other:?}"),
    }
}

/// `x` as an exact integer in units of 2^-1074.
fn units(x: f64) -> BigInt {
    let bits = x.to_bits();
    let exp = (bits >> 52) & 0x7FF;
    let frac = bits & ((1 << 52) - 1);
    let (m, shift) = if exp == 0 { (frac, 0) } else { (frac | (1 << 52), exp - 1) };
    let v = BigInt::from(m) << shift as usize;
    if x.is_sign_negative() { -v } else { v }
}

fn exact_sum(xs: &[f64]) -> BigInt {
    xs.iter().map(|&x| units(x)).sum()
}

/// `num / den · 2^-1074` correctly rounded to nearest, ties to even (normal results and zero only).
fn round_units(num: &BigInt, den: &BigInt) -> f64 {
    if num.is_zero() {
        return 0.0;
    }
    let (neg, num) = (num.is_negative(), num.abs());
    // q = floor(num · 2^k / den) with 60..=61 bits, sticky = remainder != 0.
    let k = 60 + den.bits() as i64 - num.bits() as i64;
    let (n2, d2) = if k >= 0 { (&num << k as usize, den.clone()) } else { (num.clone(), den << (-k) as usize) };
    let q = &n2 / &d2;
    let sticky = &q * &d2 != n2;
    let extra = q.bits() - 53;
    let m = (&q >> extra as usize).to_u64().unwrap();
    let low = &q - (BigInt::from(m) << extra as usize);
    let half = BigInt::from(1) << (extra - 1) as usize;
    let up = low > half || (low == half && (sticky || m % 2 == 1));
    let e = extra as i64 - k - 1074;
    // m·2^e in two exact steps (both factors normal powers of two here).
    let v = ((m + u64::from(up)) as f64) * 2f64.powi((e / 2) as i32) * 2f64.powi((e - e / 2) as i32);
    assert!(v.is_finite() && v.abs() >= f64::MIN_POSITIVE, "reference covers normal results only");
    if neg { -v } else { v }
}

fn correct_sum(xs: &[f64]) -> f64 {
    round_units(&exact_sum(xs), &BigInt::from(1))
}

fn correct_mean(xs: &[f64]) -> f64 {
    round_units(&exact_sum(xs), &BigInt::from(xs.len()))
}

/// |got − exact| in units of 2^-1074.
fn error_units(got: f64, xs: &[f64]) -> BigInt {
    (units(got) - exact_sum(xs)).abs()
}

/// NumPy's `np.add.reduce` of a contiguous float64 array (numpy/_core/src/umath/loops_utils.h.src,
/// `pairwise_sum`): the first element is the reduction's initial value, the rest is summed pairwise with
/// eight accumulators in blocks of at most 128.
fn numpy_sum(xs: &[f64]) -> f64 {
    fn pairwise(a: &[f64]) -> f64 {
        let n = a.len();
        if n < 8 {
            a.iter().fold(-0.0, |s, &x| s + x)
        } else if n <= 128 {
            let mut r: [f64; 8] = a[..8].try_into().unwrap();
            let mut i = 8;
            while i < n - n % 8 {
                for j in 0..8 {
                    r[j] += a[i + j];
                }
                i += 8;
            }
            let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for &x in &a[n - n % 8..] {
                res += x;
            }
            res
        } else {
            let mut n2 = n / 2;
            n2 -= n2 % 8;
            pairwise(&a[..n2]) + pairwise(&a[n2..])
        }
    }
    match xs.split_first() {
        None => 0.0,
        Some((&first, rest)) => first + pairwise(rest),
    }
}

/// The README bound of the default sum, `eps·|S| + 2(n + 2^20)·eps²·Σ|x|` with eps = 2^-53, in units of
/// 2^-1074 (rounded up), exactly.
fn default_bound_units(xs: &[f64]) -> BigInt {
    let abs: BigInt = xs.iter().map(|&x| units(x).abs()).sum();
    let n = BigInt::from(2 * (xs.len() as u64 + (1 << 20)));
    (exact_sum(xs).abs() >> 53usize) + ((n * abs) >> 106usize) + 2
}

/// The kept values of an array with nulls.
fn kept(a: &Float64Array) -> Vec<f64> {
    a.iter().flatten().collect()
}

#[test]
fn integer_valued_delays_get_the_correctly_rounded_mean() {
    // Delays in whole minutes: ~330,000 rows, ~2.5% nulls, record batches of 65,536 rows, mean ≈ 12.6.
    let mut rng = Rng(0xDE1A_4500);
    let xs: Vec<Option<f64>> = (0..330_000)
        .map(|_| {
            let delay = (-(1.0 - rng.uniform()).ln() * 27.0).floor() - 14.0;
            (rng.below(40) != 0).then_some(delay)
        })
        .collect();
    let batches: Vec<ArrayRef> =
        xs.chunks(65_536).map(|c| Arc::new(Float64Array::from(c.to_vec())) as ArrayRef).collect();
    let values: Vec<f64> = xs.iter().flatten().copied().collect();
    let (sum, mean) = (correct_sum(&values), correct_mean(&values));
    assert!((12.0..13.5).contains(&mean), "generator drifted: mean {mean}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("delays.arrow");
    write_file(&path, &batches);
    for (chunk_rows, executor) in
        [(1 << 20, ExecutorKind::Threads), (65_536, ExecutorKind::Serial), (1000, ExecutorKind::Threads)]
    {
        for exact in [false, true] {
            let s = run(&path, exact, 1, chunk_rows, executor);
            assert_eq!(s.count, values.len() as u64);
            assert_eq!(float(s.sum), sum, "sum, exact {exact}, chunk_rows {chunk_rows}");
            assert_eq!(s.mean, Some(mean), "mean, exact {exact}, chunk_rows {chunk_rows}");
        }
    }
}

#[test]
fn two_decimal_rainfall_sum_is_correctly_rounded() {
    // 0.01 steps, ~26,000 rows, mostly zeros: each value is the double nearest to k/100, as parsed.
    let mut rng = Rng(0x4A17);
    let xs: Vec<f64> =
        (0..26_000).map(|_| if rng.below(5) == 0 { rng.below(300) as f64 / 100.0 } else { 0.0 }).collect();
    let s = describe_batches(&[Arc::new(Float64Array::from(xs.clone()))], false, 1, 1 << 20);
    assert_eq!(float(s.sum), correct_sum(&xs), "numpy gets {}", numpy_sum(&xs));
    assert_eq!(s.mean, Some(correct_mean(&xs)));
    assert!(error_units(float(s.sum), &xs) <= error_units(numpy_sum(&xs), &xs));
}

#[test]
fn slices_at_odd_offsets_spread_over_magnitudes() {
    // One batch of ~5,600 values over eight orders of magnitude, written as slices at bit offsets that are
    // not byte aligned; 3% nulls.
    let mut rng = Rng(0x511CE);
    let n = 5_600;
    let signed = |rng: &mut Rng, positive: bool| {
        let x = 10f64.powf(rng.uniform() * 8.0 - 4.0) * (1.0 + rng.uniform());
        if positive || rng.below(2) == 0 { x } else { -x }
    };
    for positive in [true, false] {
        let all: Float64Array = (0..n).map(|_| (rng.below(33) != 0).then(|| signed(&mut rng, positive))).collect();
        let cuts = [0usize, 3, 1_001, 1_002, 2_717, 4_099, n];
        let batches: Vec<ArrayRef> =
            cuts.windows(2).map(|w| Arc::new(all.slice(w[0], w[1] - w[0])) as ArrayRef).collect();
        let xs = kept(&all);
        let s = describe_batches(&batches, false, 1, 1 << 20);
        let (got, numpy) = (float(s.sum), numpy_sum(&xs));
        assert_eq!(s.count, xs.len() as u64);
        assert!(error_units(got, &xs) <= error_units(numpy, &xs), "tally {got} numpy {numpy}");
        assert!(error_units(got, &xs) <= default_bound_units(&xs), "outside the documented bound");
        if positive {
            // No cancellation: the correctly rounded value.
            assert_eq!(got, correct_sum(&xs));
            assert_eq!(s.mean, Some(correct_mean(&xs)));
        }
        let e = describe_batches(&batches, true, 1, 7);
        assert_eq!((float(e.sum), e.mean), (correct_sum(&xs), Some(correct_mean(&xs))), "--exact");
    }
}

/// `sqrt(num / den)` (both positive) within 2^-58 relative: an integer square root of 120+ bits.
fn sqrt_ratio(num: &BigInt, den: &BigInt) -> f64 {
    let j = ((124 + den.bits() as i64 - num.bits() as i64).max(0) / 2 + 1) as usize;
    let root = ((num << (2 * j)) / den).sqrt();
    round_units(&(root << 1074), &(BigInt::from(1) << j))
}

/// Exact std (with `ddof`), skewness and kurtosis of finite `xs`, from big-integer central moments.
fn exact_spread(xs: &[f64], ddof: u64) -> (f64, f64, f64) {
    let n = BigInt::from(xs.len());
    let ints: Vec<BigInt> = xs.iter().map(|&x| units(x)).collect();
    let sum: BigInt = ints.iter().sum();
    // Deviations times n, in units of 2^-1074: n·x − Σx.
    let dev: Vec<BigInt> = ints.iter().map(|x| &n * x - &sum).collect();
    let a = |k: u32| -> BigInt { dev.iter().map(|d| d.pow(k)).sum() };
    let (a2, a3, a4) = (a(2), a(3), a(4));
    // var = a2 / (n² (n − ddof)) · 2^-2148, so std = sqrt(a2 / (n² (n − ddof))) · 2^-1074.
    let std = sqrt_ratio(&a2, &((&n * &n * BigInt::from(xs.len() as u64 - ddof)) << 2148));
    // g1 = sqrt(n) a3 / a2^1.5 = sign(a3) sqrt(n a3² / a2³);  g2 = (n a4 − 3 a2²) / a2².
    let g1 = sqrt_ratio(&(&n * &a3 * &a3), &a2.pow(3));
    let g1 = if a3.is_negative() { -g1 } else { g1 };
    let g2 = round_units(&((&n * &a4 - BigInt::from(3) * &a2 * &a2) << 1074), &(&a2 * &a2));
    (std, g1, g2)
}

fn assert_close(got: Option<f64>, want: f64, rel: f64, what: &str) {
    let got = got.unwrap_or_else(|| panic!("{what} missing"));
    assert!((got - want).abs() <= rel * want.abs(), "{what}: {got} vs exact {want}");
}

#[test]
fn far_apart_values_have_a_finite_std_whatever_the_chunking() {
    // [1e308, −1e308] in chunks of one row: merging shifts 2e308 apart must not overflow.
    let xs = [1e308, -1e308];
    for chunk_rows in [1, 2, 1 << 20] {
        let s = describe_batches(&[Arc::new(Float64Array::from(xs.to_vec()))], false, 1, chunk_rows);
        assert_eq!((float(s.sum), s.mean), (0.0, Some(0.0)), "chunk_rows {chunk_rows}");
        assert_eq!(s.var, Some(f64::INFINITY), "the variance 2e616 is not representable");
        let std = s.std.unwrap();
        assert!((std - 2f64.sqrt() * 1e308).abs() <= 2.0 * EPS * std, "std {std}");
    }
}

#[test]
fn values_near_max_have_a_finite_std_skewness_and_kurtosis() {
    // ±f64::MAX·u: the variance (~1e616) exceeds f64::MAX, std, skewness and kurtosis do not. Nulls, and
    // chunks of 1, 3 and all rows.
    let mut rng = Rng(0x3A7);
    let xs: Vec<Option<f64>> =
        (0..3_000).map(|i| (i % 17 != 0).then(|| f64::MAX * (rng.uniform() * 1.6 - 0.6))).collect();
    let values: Vec<f64> = xs.iter().flatten().copied().collect();
    let (std, g1, g2) = exact_spread(&values, 1);
    let batches: Vec<ArrayRef> =
        xs.chunks(1_000).map(|c| Arc::new(Float64Array::from(c.to_vec())) as ArrayRef).collect();
    for chunk_rows in [1, 3, 1 << 20] {
        for exact in [false, true] {
            let s = describe_batches(&batches, exact, 1, chunk_rows);
            assert_eq!(s.var, Some(f64::INFINITY), "var");
            assert_close(s.std, std, 1e-14, "std");
            assert_close(s.skewness, g1, 1e-12, "skewness");
            assert_close(s.kurtosis, g2, 1e-12, "kurtosis");
            assert_close(s.mean, correct_mean(&values), 4.0 * EPS, "mean");
            if exact {
                assert_eq!(s.mean, Some(correct_mean(&values)), "--exact mean");
                assert_eq!(float(s.sum), f64::INFINITY, "the sum itself exceeds f64::MAX");
            }
        }
    }
}

#[test]
fn values_near_1e_300_keep_their_spread() {
    // A real spread at 1e-300: var (~1e-603) underflows, as it must; std, skewness and kurtosis exist.
    let mut rng = Rng(0x7177);
    let xs: Vec<f64> = (0..5_000).map(|_| 1e-300 * (1.0 + rng.uniform() * rng.uniform())).collect();
    let (std, g1, g2) = exact_spread(&xs, 1);
    for chunk_rows in [1, 999, 1 << 20] {
        let s = describe_batches(&[Arc::new(Float64Array::from(xs.clone()))], false, 1, chunk_rows);
        assert_eq!(s.var, Some(0.0), "the exact variance is below the smallest subnormal");
        assert_close(s.std, std, 1e-13, "std");
        assert_close(s.skewness, g1, 1e-10, "skewness");
        assert_close(s.kurtosis, g2, 1e-10, "kurtosis");
        assert_eq!(s.mean, Some(correct_mean(&xs)), "mean, chunk_rows {chunk_rows}");
    }
}

#[test]
fn exact_is_correctly_rounded_through_cancellation_near_max() {
    // Values near ±f64::MAX cancelling down to small numbers, with tiny ones and nulls between them (nulls
    // only among the small values, so the exact sum stays finite).
    let mut rng = Rng(0xE8AC7);
    for round in 0..6 {
        let mut xs: Vec<f64> = Vec::new();
        for _ in 0..2_000 {
            let big = f64::MAX * rng.uniform();
            xs.push(big);
            xs.push(1.5 * rng.uniform() * 10f64.powi(rng.below(40) as i32 - 20));
            xs.push(-big);
        }
        xs.push(f64::MAX * 0.75);
        xs.push(f64::from_bits(1 + rng.below(1000)));
        let with_nulls: Vec<Option<f64>> =
            xs.iter().enumerate().map(|(i, &x)| Some(x).filter(|_| i % 3 != 1 || (i / 3) % 37 != 5)).collect();
        let values: Vec<f64> = with_nulls.iter().flatten().copied().collect();
        let a: ArrayRef = Arc::new(Float64Array::from(with_nulls));
        let chunk_rows = [1, 2, 7, 4096, 4097, 1 << 20][round];
        let s = describe_batches(std::slice::from_ref(&a), true, 1, chunk_rows);
        assert_eq!(float(s.sum), correct_sum(&values), "sum, chunk_rows {chunk_rows}");
        assert_eq!(s.mean, Some(correct_mean(&values)), "mean, chunk_rows {chunk_rows}");
        // The default stays finite and within its bound even here.
        let d = describe_batches(&[a], false, 1, chunk_rows);
        assert!(error_units(float(d.sum), &values) <= default_bound_units(&values), "default sum {:?}", d.sum);
    }
}

#[test]
fn integer_variance_is_correctly_rounded() {
    // id = 0..10^7 with ddof 0: (n² − 1) / 12 = 8333333333333.25 exactly.
    let n = 10_000_000i64;
    let ids: ArrayRef = Arc::new(Int64Array::from_iter_values(0..n));
    let s = describe_batches(&[ids], false, 0, 1 << 20);
    assert_eq!(s.var, Some(8_333_333_333_333.25));
    let var = BigInt::from(n) * n - 1;
    assert_eq!(s.std, Some(sqrt_ratio(&var, &BigInt::from(12))));
    // Random int64 columns with nulls, near i64::MAX and spread widely: exact rationals.
    let mut rng = Rng(0x1D);
    for (base, spread) in [(i64::MAX - (1 << 40), 1u64 << 40), (0, 1 << 62), (-5, 1000), (i64::MIN / 2, 1 << 33)] {
        let xs: Vec<Option<i64>> = (0..20_000)
            .map(|i| {
                (i % 13 != 0).then(|| {
                    base.wrapping_add(
                        (rng.below(spread) as i64).wrapping_sub((spread / 2) as i64 * i64::from(base == 0)),
                    )
                })
            })
            .collect();
        let values: Vec<BigInt> = xs.iter().flatten().map(|&x| BigInt::from(x)).collect();
        let m = BigInt::from(values.len());
        let (s1, s2): (BigInt, BigInt) = (values.iter().sum(), values.iter().map(|x| x * x).sum());
        let num = &m * &s2 - &s1 * &s1;
        for ddof in [0u64, 1] {
            let den = &m * (&m - ddof);
            let a: ArrayRef = Arc::new(Int64Array::from(xs.clone()));
            let s = describe_batches(&[a], false, ddof, 4_999);
            assert_eq!(s.var, Some(round_units(&(&num << 1074), &den)), "var, base {base}, ddof {ddof}");
            assert_eq!(s.std, Some(sqrt_ratio(&num, &den)), "std");
        }
    }
}

/// `np.var(x, ddof)` of a contiguous float64 array (numpy/_core/_methods.py `_var`): the mean is the pairwise
/// sum divided by n, the deviations are squared with a plain multiply, and their pairwise sum is divided by
/// `n − ddof`.
fn numpy_var(xs: &[f64], ddof: u64) -> f64 {
    let mean = numpy_sum(xs) / xs.len() as f64;
    let squares: Vec<f64> = xs.iter().map(|&x| (x - mean) * (x - mean)).collect();
    numpy_sum(&squares) / (xs.len() as u64 - ddof) as f64
}

/// The exact variance of `xs` with `ddof`, correctly rounded: `(n·Σu² − (Σu)²) / (n·(n − ddof))` in units
/// of 2^-2148.
fn correct_var(xs: &[f64], ddof: u64) -> f64 {
    let n = BigInt::from(xs.len());
    let u: Vec<BigInt> = xs.iter().map(|&x| units(x)).collect();
    let (s1, s2): (BigInt, BigInt) = (u.iter().sum(), u.iter().map(|x| x * x).sum());
    round_units(&(&n * s2 - &s1 * &s1), &((&n * (&n - BigInt::from(ddof))) << 1074))
}

#[test]
fn float_variance_is_within_an_ulp_and_no_worse_than_numpy() {
    // Data whose squared deviations round the same way again and again: values on a fixed grid (eighths,
    // cents) far from the mean's grid. A lane summing a block's 1,024 squares in sequence was 5-10 ulps
    // off here, where NumPy's pairwise sum stays within about one.
    let mut rng = Rng(0x5EED);
    let (mut ours, mut numpy) = (0.0f64, 0.0f64);
    for case in 0..24 {
        let n = [500usize, 5_402, 70_001][case % 3];
        let values: Vec<f64> = (0..n)
            .map(|_| match case % 4 {
                0 => (rng.below(1 << 24) as f64 - (1 << 23) as f64) / 8.0 + 1e6,
                1 => (rng.below(1 << 24) as f64 - (1 << 23) as f64) / 8.0,
                2 => (rng.below(1_000_000) as f64) / 100.0 + 1e3,
                _ => 1.0 + (rng.uniform() + rng.uniform() + rng.uniform() - 1.5) * 1e-3,
            })
            .collect();
        let column: Vec<Option<f64>> =
            values.iter().enumerate().map(|(i, &x)| (case % 2 == 0 || i % 17 != 5).then_some(x)).collect();
        let kept: Vec<f64> = column.iter().flatten().copied().collect();
        let a: ArrayRef = Arc::new(Float64Array::from(column));
        for (ddof, chunk_rows) in [(1u64, 1u64 << 20), (0, 4_999)] {
            let want = correct_var(&kept, ddof);
            let got = describe_batches(std::slice::from_ref(&a), true, ddof, chunk_rows).var.unwrap();
            let err = common::ulps(got, want);
            assert!(err <= 1.0, "case {case}, n {n}, ddof {ddof}: var {got} vs exact {want} ({err} ulps)");
            ours += err;
            numpy += common::ulps(numpy_var(&kept, ddof), want);
        }
    }
    assert!(ours <= numpy, "ulps off in all: tally {ours}, NumPy's rule {numpy}");
}

#[test]
fn chunk_size_changes_at_most_the_last_bits() {
    let mut rng = Rng(0xC4C);
    let xs: Vec<Option<f64>> = (0..40_000)
        .map(|i| (i % 29 != 3).then(|| 1e6 * (rng.uniform() - 0.3) + 10f64.powi(rng.below(12) as i32 - 6)))
        .collect();
    let batches: Vec<ArrayRef> =
        xs.chunks(9_999).map(|c| Arc::new(Float64Array::from(c.to_vec())) as ArrayRef).collect();
    let values: Vec<f64> = xs.iter().flatten().copied().collect();
    let reference = describe_batches(&batches, false, 1, 1 << 20);
    assert_eq!(float(reference.sum), correct_sum(&values));
    for chunk_rows in [1, 7, 4_096, 65_536] {
        let s = describe_batches(&batches, false, 1, chunk_rows);
        assert_close(Some(float(s.sum)), correct_sum(&values), 2.0 * EPS, "sum");
        assert_close(s.mean, correct_mean(&values), 2.0 * EPS, "mean");
        assert_close(s.var, reference.var.unwrap(), 1e-14, "var");
        assert_close(s.skewness, reference.skewness.unwrap(), 1e-12, "skewness");
    }
}

/// The exact sum's fast path takes two extraction levels inside the fused pass, on grids chosen from the
/// magnitudes seen so far; blocks with values more than ~2^27 below those (or above them) must fall back to
/// the full extraction. Values spread over 90 binary orders, a late block far above the earlier ones, and
/// pairs that cancel the large values so that every small residual shows in the result.
#[test]
fn exact_sums_of_blocks_the_in_pass_levels_cannot_take_whole() {
    let mut rng = Rng(0xB10C);
    let n = 60_000;
    let mut xs: Vec<f64> = Vec::with_capacity(n);
    while xs.len() < n {
        if xs.len() == 5 * 4_096 {
            // Two whole blocks of values above the magnitudes so far (below 2^21), every low bit set: on the
            // first level's grid they land, but 4,096 of them no longer sum exactly there.
            xs.extend((0..8_192).map(|_| (1.0 + (rng.next() >> 12) as f64 * 2f64.powi(-52)) * 2f64.powi(33)));
        }
        let k = rng.below(90) as i32 - 70;
        let x = (1.0 + rng.uniform()) * 2f64.powi(k);
        let x = if rng.below(2) == 0 { -x } else { x };
        if xs.len() > 50_000 && rng.below(50) == 0 {
            // Beyond every magnitude of the earlier blocks, then cancelled exactly.
            xs.extend([x * 2f64.powi(60), -x * 2f64.powi(60)]);
        } else {
            xs.push(x);
        }
    }
    let all: Float64Array = xs.iter().map(|&x| Some(x)).collect();
    let batches: Vec<ArrayRef> = vec![Arc::new(all)];
    for chunk_rows in [1 << 20, 9_999] {
        let e = describe_batches(&batches, true, 1, chunk_rows);
        assert_eq!(float(e.sum), correct_sum(&xs), "sum, chunks of {chunk_rows}");
        assert_eq!(e.mean, Some(correct_mean(&xs)), "mean, chunks of {chunk_rows}");
    }
}
