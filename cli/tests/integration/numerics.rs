//! `tally describe` numerics against independent oracles: an exact integer oracle for `--exact`,
//! brute-force statistics for every way of cutting the rows into batches and chunks, and values at the
//! edges of the f64 range.

use crate::util;

use util::{Dir, assert_stat_f64, assert_stat_near, assert_u64s, batch_of, column, f64s, i64s, json_f64};

/// Finite values so far apart that their differences overflow: the sum of [1e308, -1e308] is exactly 0,
/// the mean 0, and the variance (2e616) is beyond f64, so inf. Any finite variance, let alone 0, is wrong.
#[test]
fn finite_values_whose_differences_overflow() {
    let dir = Dir::new();
    dir.write_arrow(
        "far.arrow",
        vec![
            ("pm", f64s(&[Some(1e308), Some(-1e308), None])),
            ("pm_max", f64s(&[Some(f64::MAX), Some(-f64::MAX), None])),
            ("up", f64s(&[Some(0.0), Some(1e308), Some(1e308)])),
        ],
    );
    for extra in [&[][..], &["--compensated"]] {
        let doc = dir.describe_json("far.arrow", extra);
        for name in ["pm", "pm_max"] {
            let c = column(&doc, name);
            assert_u64s(c, &[("count", 2), ("null_count", 1), ("nan_count", 0)]);
            assert_stat_f64(c, "sum", 0.0);
            assert_stat_f64(c, "mean", 0.0);
            assert_stat_f64(c, "var", f64::INFINITY);
            // The variance (2e616) overflows, its square root does not: std = sqrt(2)·1e308 (issue 7);
            // for ±f64::MAX the standard deviation itself exceeds f64::MAX.
            let std = json_f64(&c["std"]);
            if name == "pm" {
                let want = 2f64.sqrt() * 1e308;
                assert!((std - want).abs() <= 1e-15 * want, "{extra:?} std of pm: {std} vs {want}");
            } else {
                assert_eq!(std, f64::INFINITY, "{extra:?} std of pm_max");
            }
        }
        // The exact sum 2e308 overflows; the mean 6.67e307 does not (inf is acceptable for a mean computed
        // as sum / n, NaN is not); the variance 3.3e615 overflows.
        let up = column(&doc, "up");
        assert_stat_f64(up, "sum", f64::INFINITY);
        let mean = json_f64(&up["mean"]);
        assert!(mean == f64::INFINITY || (mean - 1e308 * (2.0 / 3.0)).abs() <= 1e293, "{extra:?} mean of up: {up}");
        assert_stat_f64(up, "var", f64::INFINITY);
    }
}

/// Large offsets with a small spread (the `d` column's problem): the deviations are what matter.
#[test]
fn large_offset_small_spread() {
    let dir = Dir::new();
    let base = 1e15;
    dir.write_arrow(
        "off.arrow",
        vec![("x", f64s(&[Some(base + 1.0), Some(base + 2.0), Some(base + 3.0), Some(base + 4.0)]))],
    );
    let doc = dir.describe_json("off.arrow", &[]);
    let x = column(&doc, "x");
    assert_stat_f64(x, "sum", 4.0 * base + 10.0);
    assert_stat_f64(x, "mean", base + 2.5);
    assert_stat_f64(x, "var", 5.0 / 3.0);
    assert_stat_near(x, "kurtosis", -1.36, 1e-9);
}

/// The exact sum of doubles, correctly rounded, divided by `div` with one rounding: an independent
/// oracle for `--exact`. Each double is `m * 2^e` with an integer `m`; the terms are summed exactly in i128
/// at the smallest exponent, and the quotient keeps a sticky bit so the final `as f64` rounds correctly.
fn exact_quotient(values: &[f64], div: i128) -> f64 {
    let parts: Vec<(i128, i32)> = values
        .iter()
        .filter(|x| **x != 0.0)
        .map(|&x| {
            let bits = x.to_bits();
            let exp = ((bits >> 52) & 0x7ff) as i32;
            assert!(exp != 0 && exp != 0x7ff, "oracle handles normal numbers only");
            let m = ((bits & ((1 << 52) - 1)) | (1 << 52)) as i128;
            (if x < 0.0 { -m } else { m }, exp - 1075)
        })
        .collect();
    let emin = parts.iter().map(|p| p.1).min().unwrap_or(0);
    let total: i128 = parts.iter().map(|&(m, e)| m.checked_shl((e - emin) as u32).unwrap()).sum();
    // Sign and magnitude, so the sticky bit rounds the magnitude whatever the sign.
    let magnitude = total.unsigned_abs();
    let shift = (125 - (128 - magnitude.leading_zeros()) as i32).max(0);
    let scaled = magnitude << shift;
    let (q, r) = (scaled / div as u128, scaled % div as u128);
    let q = if r != 0 { q | 1 } else { q };
    let value = q as f64 * 2f64.powi(emin - shift);
    if total < 0 { -value } else { value }
}

/// The oracle itself, where IEEE arithmetic already gives the correctly rounded answer: one addition or
/// one division of exact operands.
#[test]
fn exact_oracle_agrees_with_single_ieee_operations() {
    assert_eq!(exact_quotient(&[0.1, 0.2], 1), 0.1 + 0.2);
    assert_eq!(exact_quotient(&[1e16, 1.0, -1e16], 1), 1.0);
    assert_eq!(exact_quotient(&[1.0, 2.0], 3), 1.0);
    assert_eq!(exact_quotient(&[1.0], 3), 1.0 / 3.0);
    assert_eq!(exact_quotient(&[-2.0], 3), -2.0 / 3.0);
    assert_eq!(exact_quotient(&[0.7, 0.0], 10), 0.7 / 10.0);
    assert_eq!(exact_quotient(&[1e300, -1e300], 7), 0.0);
}

/// `--exact` gives the correctly rounded sum and mean, also where naive summation loses everything.
#[test]
fn exact_sum_and_mean_match_an_integer_oracle() {
    let dir = Dir::new();
    let sets: [&[f64]; 4] = [
        &[1e15, 0.1, -1e15, 0.2],
        &[0.1, 0.2, 0.3],
        &[1e16, 1.0, -1e16, 1.0, 3.0],
        &[0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1],
    ];
    for (k, values) in sets.iter().enumerate() {
        let name = format!("e{k}.arrow");
        let array = f64s(&values.iter().map(|&x| Some(x)).collect::<Vec<_>>());
        dir.write_arrow(&name, vec![("x", array)]);
        let doc = dir.describe_json(&name, &["--exact"]);
        assert_eq!(doc["options"]["exact"], true);
        let x = column(&doc, "x");
        assert_stat_f64(x, "sum", exact_quotient(values, 1));
        assert_stat_f64(x, "mean", exact_quotient(values, values.len() as i128));
    }
}

/// Reference statistics by brute force: two-pass moments in f64 over the kept values.
struct Reference {
    count: u64,
    nulls: u64,
    nans: u64,
    min: f64,
    max: f64,
    sum: f64,
    mean: f64,
    var: f64,
    skew: f64,
    kurt: f64,
}

fn reference(values: &[Option<f64>]) -> Reference {
    let kept: Vec<f64> = values.iter().flatten().copied().filter(|x| !x.is_nan()).collect();
    let n = kept.len() as f64;
    let sum: f64 = kept.iter().sum();
    let mean = sum / n;
    let m = |p: i32| kept.iter().map(|x| (x - mean).powi(p)).sum::<f64>();
    let (m2, m3, m4) = (m(2), m(3), m(4));
    Reference {
        count: kept.len() as u64,
        nulls: values.iter().filter(|v| v.is_none()).count() as u64,
        nans: values.iter().flatten().filter(|x| x.is_nan()).count() as u64,
        min: kept.iter().copied().fold(f64::INFINITY, f64::min),
        max: kept.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        sum,
        mean,
        var: m2 / (n - 1.0),
        skew: n.sqrt() * m3 / m2.powf(1.5),
        kurt: n * m4 / (m2 * m2) - 3.0,
    }
}

#[track_caller]
fn assert_rel(got: f64, expected: f64, rel: f64, what: &str) {
    assert!((got - expected).abs() <= rel * expected.abs().max(1.0), "{what}: expected {expected}, got {got}");
}

/// Batches of awkward sizes, nulls and NaN scattered across validity words, and chunk sizes that cut
/// batches and 64-bit validity words anywhere: every chunking gives the brute-force statistics.
#[test]
fn chunking_across_batches_and_validity_words() {
    let dir = Dir::new();
    let lens = [37usize, 64, 99, 1, 130];
    let total: usize = lens.iter().sum();
    let float_value = |i: usize| -> Option<f64> {
        if i % 7 == 3 {
            None
        } else if i % 11 == 5 {
            Some(f64::NAN)
        } else {
            Some((i as f64) * 0.25 - 10.0 + if i.is_multiple_of(3) { 3.0 } else { 0.0 })
        }
    };
    let int_value = |i: usize| -> Option<i64> { (!i.is_multiple_of(5)).then(|| (i as i64 * 37) % 101 - 50) };
    let floats: Vec<Option<f64>> = (0..total).map(float_value).collect();
    let ints: Vec<Option<i64>> = (0..total).map(int_value).collect();
    let mut batches = Vec::new();
    let mut start = 0;
    for len in lens {
        batches.push(batch_of(vec![("f", f64s(&floats[start..start + len])), ("i", i64s(&ints[start..start + len]))]));
        start += len;
    }
    dir.write_batches("chunks.arrow", &batches);

    let rf = reference(&floats);
    let ints_as_f64: Vec<Option<f64>> = ints.iter().map(|v| v.map(|x| x as f64)).collect();
    let ri = reference(&ints_as_f64);
    let int_sum: i64 = ints.iter().flatten().sum();

    let runs: &[&[&str]] = &[
        &["--chunk-rows", "1", "--executor", "serial"],
        &["--chunk-rows", "2", "--workers", "2"],
        &["--chunk-rows", "3", "--workers", "3"],
        &["--chunk-rows", "63", "--executor", "serial"],
        &["--chunk-rows", "64", "--workers", "2"],
        &["--chunk-rows", "65", "--workers", "7"],
        &["--chunk-rows", "100", "--executor", "serial"],
        &["--chunk-rows", "1000", "--workers", "2"],
    ];
    for args in runs {
        let doc = dir.describe_json("chunks.arrow", args);
        let what = format!("{args:?}");
        assert_eq!(doc["rows"], total as u64, "{what}");
        let f = column(&doc, "f");
        assert_u64s(f, &[("count", rf.count), ("null_count", rf.nulls), ("nan_count", rf.nans)]);
        assert_stat_f64(f, "min", rf.min);
        assert_stat_f64(f, "max", rf.max);
        // Multiples of 0.25 of modest size: every summation order is exact.
        assert_stat_f64(f, "sum", rf.sum);
        assert_rel(json_f64(&f["mean"]), rf.mean, 1e-14, &format!("f mean {what}"));
        assert_rel(json_f64(&f["var"]), rf.var, 1e-12, &format!("f var {what}"));
        assert_rel(json_f64(&f["skewness"]), rf.skew, 1e-9, &format!("f skewness {what}"));
        assert_rel(json_f64(&f["kurtosis"]), rf.kurt, 1e-9, &format!("f kurtosis {what}"));

        let i = column(&doc, "i");
        assert_u64s(i, &[("count", ri.count), ("null_count", ri.nulls), ("nan_count", 0)]);
        assert_eq!(i["min"].as_i64(), Some(ri.min as i64), "{what}");
        assert_eq!(i["max"].as_i64(), Some(ri.max as i64), "{what}");
        assert_eq!(i["sum"].as_i64(), Some(int_sum), "{what}");
        // Both operands are exact doubles, so one division is the correctly rounded mean.
        assert_stat_f64(i, "mean", int_sum as f64 / ri.count as f64);
        assert_rel(json_f64(&i["var"]), ri.var, 1e-12, &format!("i var {what}"));
        assert_rel(json_f64(&i["skewness"]), ri.skew, 1e-9, &format!("i skewness {what}"));
        assert_rel(json_f64(&i["kurtosis"]), ri.kurt, 1e-9, &format!("i kurtosis {what}"));
    }
}
