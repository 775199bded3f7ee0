//! Every statistic against an independent reference: exact big-integer arithmetic or a brute-force loop.
//! The cases are the ones naive implementations get wrong: constant columns, one value, all null, NaN and
//! ±inf, values near 1e308, integers near i64::MAX, 1e9 + N(0,1) and 1e15 + small integers.

use crate::common;

use std::sync::Arc;

use arrow_array::{ArrayRef, Float32Array, Float64Array, Int8Array, Int64Array, UInt64Array};
use common::{ExactMoments, exact_moments, exact_moments_of_ints, options_of, store_of, ulps};
use num_bigint::BigInt;
use tally_engine::describe_store;
use tally_engine::exec::ExecutorKind;
use tally_engine::report::InputInfo;
use tally_engine::stats::{Summary, Value};

fn describe_arrays(batches: Vec<Vec<ArrayRef>>, exact: bool, ddof: u64, chunk_rows: u64) -> Summary {
    let store = store_of(&["x"], batches);
    let input = InputInfo { path: "memory".into(), format: "test", bytes: 0, batches: 0, files: Vec::new() };
    let options = options_of(ExecutorKind::Serial, 1, chunk_rows, exact, ddof);
    describe_store(&store, input, &options).unwrap().report.columns.remove(0).summary
}

fn floats(xs: &[f64]) -> Summary {
    describe_arrays(vec![vec![Arc::new(Float64Array::from(xs.to_vec()))]], false, 1, 1 << 20)
}

fn float_value(v: Option<Value>) -> f64 {
    match v {
        Some(Value::Float(f)) => f,
        other => panic!("expected a float, got {other:?}"),
    }
}

/// Deterministic pseudo-normal numbers (sum of uniforms), independent of tally's generator.
fn noise(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed | 1;
    let mut uniform = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n).map(|_| (0..12).map(|_| uniform()).sum::<f64>() - 6.0).collect()
}

/// Checks moments against the exact reference: mean within 2 ulps, var/std within `rel` relative error,
/// skewness and kurtosis within `abs` absolute error.
fn check_moments(got: &Summary, want: &ExactMoments, rel: f64, abs: f64) {
    assert_eq!(got.count, want.n);
    let mean = got.mean.unwrap();
    assert!(ulps(mean, want.mean) <= 2.0, "mean {mean} vs exact {}", want.mean);
    match (got.var, want.var) {
        (Some(g), Some(0.0)) => assert_eq!(g, 0.0),
        (Some(g), Some(w)) => assert!(((g - w) / w).abs() <= rel, "var {g} vs exact {w}"),
        (g, w) => assert_eq!(g, w),
    }
    for (g, w, what) in [(got.skewness, want.skewness, "skewness"), (got.kurtosis, want.kurtosis, "kurtosis")] {
        match (g, w) {
            (Some(g), Some(w)) => assert!((g - w).abs() <= abs, "{what} {g} vs exact {w}"),
            (g, w) => assert_eq!(g, w, "{what}"),
        }
    }
}

#[test]
fn constant_column_has_zero_variance_exactly() {
    for c in [0.1, -3.7e-300, 1e308, 123456789.123] {
        let s = floats(&vec![c; 10_000]);
        assert_eq!((s.count, s.mean, s.var, s.std), (10_000, Some(c), Some(0.0), Some(0.0)), "constant {c}");
        assert_eq!((s.skewness, s.kurtosis), (None, None), "higher moments of a constant do not exist");
        assert_eq!(float_value(s.min), c);
        assert_eq!(float_value(s.max), c);
    }
}

#[test]
fn one_value() {
    let s = floats(&[2.5]);
    assert_eq!((s.count, s.mean, s.var, s.std, s.skewness), (1, Some(2.5), None, None, None));
    let s0 = describe_arrays(vec![vec![Arc::new(Float64Array::from(vec![2.5]))]], false, 0, 1 << 20);
    assert_eq!((s0.var, s0.std), (Some(0.0), Some(0.0)), "population variance of one value");
}

#[test]
fn all_null_and_empty() {
    let nulls: ArrayRef = Arc::new(Float64Array::from(vec![None::<f64>; 100]));
    let s = describe_arrays(vec![vec![nulls]], false, 1, 7);
    assert_eq!((s.count, s.null_count, s.nan_count), (0, 100, 0));
    assert_eq!((s.min, s.max, s.mean, s.var), (None, None, None, None));
    assert_eq!(float_value(s.sum), 0.0, "the empty sum is 0");
    let s = floats(&[]);
    assert_eq!((s.count, s.mean), (0, None));
}

#[test]
fn nan_is_counted_apart_and_infinities_are_values() {
    let s = floats(&[1.0, f64::NAN, f64::INFINITY, 2.0, f64::NAN]);
    assert_eq!((s.count, s.nan_count), (3, 2));
    assert_eq!((float_value(s.min), float_value(s.max)), (1.0, f64::INFINITY));
    assert_eq!((float_value(s.sum), s.mean), (f64::INFINITY, Some(f64::INFINITY)));
    assert!(s.var.unwrap().is_nan() && s.skewness.unwrap().is_nan());

    let s = floats(&[f64::NEG_INFINITY, 5.0, f64::INFINITY]);
    assert!(float_value(s.sum).is_nan() && s.mean.unwrap().is_nan(), "inf − inf is NaN");
    assert_eq!((float_value(s.min), float_value(s.max)), (f64::NEG_INFINITY, f64::INFINITY));

    let s = floats(&[f64::NAN; 9]);
    assert_eq!((s.count, s.nan_count, s.min, s.mean), (0, 9, None, None));

    let s = floats(&[f64::INFINITY, f64::NAN]);
    assert_eq!((s.count, float_value(s.min), float_value(s.max)), (1, f64::INFINITY, f64::INFINITY));
}

#[test]
fn nan_and_nulls_in_the_same_column_with_chunks_across_batches() {
    let a: ArrayRef = Arc::new(Float64Array::from(vec![Some(1.0), None, Some(f64::NAN), Some(4.0)]));
    let b: ArrayRef = Arc::new(Float64Array::from(vec![None, Some(7.0), Some(f64::NEG_INFINITY), Some(10.0)]));
    for chunk_rows in [1, 2, 3, 100] {
        let s = describe_arrays(vec![vec![a.clone()], vec![b.clone()]], false, 1, chunk_rows);
        assert_eq!((s.count, s.null_count, s.nan_count), (5, 2, 1), "chunk_rows {chunk_rows}");
        assert_eq!(float_value(s.min), f64::NEG_INFINITY);
        assert_eq!(float_value(s.max), 10.0);
    }
}

#[test]
fn values_near_the_top_of_the_range() {
    let xs = [1.7e308, 1.6e308, 1.75e308, 1.65e308];
    let s = floats(&xs);
    assert_eq!(float_value(s.sum), f64::INFINITY, "the true sum exceeds f64::MAX");
    let want = exact_moments(&xs, 1);
    assert!(ulps(s.mean.unwrap(), want.mean) <= 2.0, "mean {:?} vs exact {}", s.mean, want.mean);
    // Deviations of ~1e306 square beyond f64::MAX: the variance is not representable, its square root is.
    // The reference takes the values scaled by 2^-1000, exactly.
    let scaled = exact_moments(&xs.map(|x| x * 2f64.powi(-1000)), 1);
    let std = scaled.var.unwrap().sqrt() * 2f64.powi(1000);
    assert_eq!((want.var, s.var), (Some(f64::INFINITY), Some(f64::INFINITY)));
    assert!(ulps(s.std.unwrap(), std) <= 2.0, "std {:?} vs exact {std}", s.std);
    assert!((s.skewness.unwrap() - scaled.skewness.unwrap()).abs() <= 1e-12, "skewness {:?}", s.skewness);
    assert!((s.kurtosis.unwrap() - scaled.kurtosis.unwrap()).abs() <= 1e-12, "kurtosis {:?}", s.kurtosis);
    assert_eq!((float_value(s.min), float_value(s.max)), (1.6e308, 1.75e308));
    let s = describe_arrays(vec![vec![Arc::new(Float64Array::from(xs.to_vec()))]], true, 1, 3);
    assert_eq!(float_value(s.sum), f64::INFINITY);
    assert_eq!(s.mean, Some(1.675e308), "exact mean of huge values does not overflow");
}

#[test]
fn catastrophic_cancellation_1e9_plus_normal() {
    let xs: Vec<f64> = noise(200_000, 7).iter().map(|z| 1e9 + z).collect();
    let want = exact_moments(&xs, 1);
    check_moments(&floats(&xs), &want, 1e-12, 1e-9);
    for chunk_rows in [1000, 65_537] {
        let s = describe_arrays(vec![vec![Arc::new(Float64Array::from(xs.clone()))]], false, 1, chunk_rows);
        check_moments(&s, &want, 1e-12, 1e-9);
    }
}

#[test]
fn large_offset_plus_small_integers() {
    let xs: Vec<f64> = (0..100_000u64).map(|i| 1e15 + ((i * 7919) % 23) as f64).collect();
    check_moments(&floats(&xs), &exact_moments(&xs, 1), 1e-13, 1e-10);
}

#[test]
fn skewed_data_matches_exact_higher_moments() {
    let xs: Vec<f64> = noise(50_000, 3).iter().map(|z| (z * 0.8).exp()).collect();
    check_moments(&floats(&xs), &exact_moments(&xs, 1), 1e-13, 1e-10);
    let s = describe_arrays(vec![vec![Arc::new(Float64Array::from(xs.clone()))]], false, 0, 999);
    check_moments(&s, &exact_moments(&xs, 0), 1e-13, 1e-10);
}

/// Correctly rounded `num / 2^s`, by hand: round half to even on the bits below the 53rd.
fn round_big(num: &BigInt, s: i64) -> f64 {
    if num == &BigInt::from(0) {
        return 0.0;
    }
    let neg = num < &BigInt::from(0);
    let mag = if neg { -num } else { num.clone() };
    let bits = mag.bits() as i64;
    let drop = bits - 53;
    let (mut m, exp) = if drop > 0 {
        let m: BigInt = &mag >> drop as usize;
        let rest = &mag - (&m << drop as usize);
        let half = BigInt::from(1) << (drop - 1) as usize;
        let odd = (&m % 2u32) == BigInt::from(1);
        let m = if rest > half || (rest == half && odd) { m + 1 } else { m };
        (m, drop - s)
    } else {
        (mag, -s)
    };
    if m.bits() > 53 {
        m >>= 1;
        return round_big(&(if neg { -(m << 1usize) } else { m << 1usize }), -exp);
    }
    let v = num_traits::ToPrimitive::to_f64(&m).unwrap() * 2f64.powi(exp as i32);
    if neg { -v } else { v }
}

#[test]
fn exact_sum_and_mean_are_correctly_rounded() {
    let mut xs: Vec<f64> = noise(30_000, 11).iter().map(|z| z * 1e6).collect();
    xs.extend([1e16, 1.0, -1e16, 0.1, 0.2, 0.3, 1e-10]);
    let parts: Vec<(BigInt, i64)> = xs
        .iter()
        .map(|&x| {
            let bits = x.to_bits();
            let exp = ((bits >> 52) & 0x7FF) as i64;
            let m = (bits & ((1 << 52) - 1)) as i64 | (1 << 52);
            (BigInt::from(if x < 0.0 { -m } else { m }), exp - 1075)
        })
        .collect();
    let s = parts.iter().map(|(_, e)| -e).max().unwrap();
    let sum: BigInt = parts.iter().map(|(m, e)| m << (e + s) as usize).sum();
    let got = describe_arrays(vec![vec![Arc::new(Float64Array::from(xs.clone()))]], true, 1, 4096);
    assert_eq!(float_value(got.sum), round_big(&sum, s));
    // mean = sum / n: scale up so the quotient keeps 120 bits, round the exact quotient (remainder sticky).
    let n = BigInt::from(xs.len());
    let scaled = (&sum << 120usize) / &n;
    let sticky = (&sum << 120usize) % &n != BigInt::from(0);
    let q = (scaled << 1usize) + BigInt::from(sticky as u8);
    assert_eq!(got.mean.unwrap(), round_big(&q, s + 121));
}

#[test]
fn integers_near_i64_max_keep_their_spread() {
    let xs: Vec<i64> = (0..10_000).map(|i| i64::MAX - (i * 37 % 1001)).collect();
    let s = describe_arrays(vec![vec![Arc::new(Int64Array::from(xs.clone()))]], false, 1, 3000);
    let sum: i128 = xs.iter().map(|&x| x as i128).sum();
    assert_eq!(s.sum, Some(Value::Int(sum)), "exact integer sum beyond i64");
    assert_eq!(s.min, Some(Value::Int(xs.iter().copied().min().unwrap() as i128)));
    assert_eq!(s.max, Some(Value::Int(i64::MAX as i128)));
    let ints: Vec<BigInt> = xs.iter().map(|&x| BigInt::from(x)).collect();
    check_moments(&s, &exact_moments_of_ints(&ints, 0, 1), 1e-13, 1e-10);
}

#[test]
fn unsigned_and_small_integers() {
    let xs: Vec<u64> = (0..5000u64).map(|i| u64::MAX - i * i).collect();
    let s = describe_arrays(vec![vec![Arc::new(UInt64Array::from(xs.clone()))]], false, 1, 777);
    assert_eq!(s.sum, Some(Value::Int(xs.iter().map(|&x| x as i128).sum())));
    let ints: Vec<BigInt> = xs.iter().map(|&x| BigInt::from(x)).collect();
    check_moments(&s, &exact_moments_of_ints(&ints, 0, 1), 1e-13, 1e-10);

    let ys: Vec<Option<i8>> = (0..1000).map(|i| if i % 10 == 3 { None } else { Some((i % 256 - 128) as i8) }).collect();
    let s = describe_arrays(vec![vec![Arc::new(Int8Array::from(ys.clone()))]], false, 1, 64);
    let valid: Vec<i64> = ys.iter().flatten().map(|&y| y as i64).collect();
    assert_eq!((s.count, s.null_count), (valid.len() as u64, 100));
    assert_eq!(s.sum, Some(Value::Int(valid.iter().sum::<i64>() as i128)));
    assert_eq!(s.min, Some(Value::Int(-128)));
    assert_eq!(s.max, Some(Value::Int(127)));
    let ints: Vec<BigInt> = valid.iter().map(|&x| BigInt::from(x)).collect();
    check_moments(&s, &exact_moments_of_ints(&ints, 0, 1), 1e-13, 1e-10);
}

#[test]
fn float32_columns_are_widened_exactly() {
    let xs: Vec<f32> = noise(20_000, 5).iter().map(|z| 100.0 + *z as f32).collect();
    let s = describe_arrays(vec![vec![Arc::new(Float32Array::from(xs.clone()))]], false, 1, 5000);
    let wide: Vec<f64> = xs.iter().map(|&x| x as f64).collect();
    check_moments(&s, &exact_moments(&wide, 1), 1e-13, 1e-10);
    assert_eq!(float_value(s.min), wide.iter().copied().fold(f64::INFINITY, f64::min));
}
