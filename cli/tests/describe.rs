//! `tally describe` values, checked against references computed by hand (small Arrow files written here)
//! or by brute force in the test, never against tally's own output.

mod util;

use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Float32Array, Float64Array, Int8Array, Int32Array, Int64Array, StringArray, UInt64Array,
};
use util::{
    Dir, assert_null, assert_raw_int, assert_stat_f64, assert_stat_near, assert_u64s, batch_of, column, json_f64,
};

fn f64s(values: &[Option<f64>]) -> ArrayRef {
    Arc::new(Float64Array::from(values.to_vec()))
}

fn i64s(values: &[Option<i64>]) -> ArrayRef {
    Arc::new(Int64Array::from(values.to_vec()))
}

/// [1, 2, null, 3, NaN, 4]: the null and the NaN are counted and excluded from everything else.
#[test]
fn float_column_with_a_null_and_a_nan() {
    let dir = Dir::new();
    dir.write_arrow("x.arrow", vec![("x", f64s(&[Some(1.0), Some(2.0), None, Some(3.0), Some(f64::NAN), Some(4.0)]))]);
    for ddof in ["1", "0"] {
        let doc = dir.describe_json("x.arrow", &["--ddof", ddof]);
        let x = column(&doc, "x");
        assert_eq!(x["type"], "Float64");
        assert_u64s(x, &[("count", 4), ("null_count", 1), ("nan_count", 1)]);
        assert!(x["min"].is_f64() && x["max"].is_f64() && x["sum"].is_f64(), "float column reports floats: {x}");
        assert_stat_f64(x, "min", 1.0);
        assert_stat_f64(x, "max", 4.0);
        assert_stat_f64(x, "sum", 10.0);
        assert_stat_f64(x, "mean", 2.5);
        // Deviations -1.5, -0.5, 0.5, 1.5: M2 = 5, M3 = 0, M4 = 10.25.
        let var = if ddof == "1" { 5.0 / 3.0 } else { 5.0 / 4.0 };
        assert_stat_f64(x, "var", var);
        assert_stat_f64(x, "std", f64::sqrt(var));
        assert_stat_near(x, "skewness", 0.0, 1e-12);
        // Population excess kurtosis n M4 / M2^2 - 3 = 4 * 10.25 / 25 - 3.
        assert_stat_near(x, "kurtosis", -1.36, 1e-12);
        assert_eq!(doc["options"]["ddof"], ddof.parse::<u64>().unwrap());
    }
}

/// The same values as an Int64 column: exact integers for min, max and sum.
#[test]
fn int_column_with_a_null() {
    let dir = Dir::new();
    dir.write_arrow("x.arrow", vec![("n", i64s(&[Some(1), None, Some(2), Some(3), Some(4)]))]);
    let doc = dir.describe_json("x.arrow", &[]);
    let n = column(&doc, "n");
    assert_eq!(n["type"], "Int64");
    assert_u64s(n, &[("count", 4), ("null_count", 1), ("nan_count", 0)]);
    assert!(n["min"].is_i64() && n["max"].is_i64() && n["sum"].is_i64(), "int column reports integers: {n}");
    assert_eq!((n["min"].as_i64(), n["max"].as_i64(), n["sum"].as_i64()), (Some(1), Some(4), Some(10)));
    assert_stat_f64(n, "mean", 2.5);
    assert_stat_f64(n, "var", 5.0 / 3.0);
    assert_stat_f64(n, "std", f64::sqrt(5.0 / 3.0));
    assert_stat_near(n, "skewness", 0.0, 1e-12);
    assert_stat_near(n, "kurtosis", -1.36, 1e-12);
}

/// No spread: var and std are 0; skewness and kurtosis (0/0) do not exist.
#[test]
fn constant_columns() {
    let dir = Dir::new();
    dir.write_arrow(
        "c.arrow",
        vec![("f", f64s(&[Some(5.0), Some(5.0), Some(5.0)])), ("i", i64s(&[Some(-7), Some(-7), Some(-7)]))],
    );
    let doc = dir.describe_json("c.arrow", &[]);
    let f = column(&doc, "f");
    assert_u64s(f, &[("count", 3), ("null_count", 0)]);
    for (stat, v) in [("min", 5.0), ("max", 5.0), ("sum", 15.0), ("mean", 5.0), ("var", 0.0), ("std", 0.0)] {
        assert_stat_f64(f, stat, v);
    }
    assert_null(f, &["skewness", "kurtosis"]);
    let i = column(&doc, "i");
    assert_eq!((i["min"].as_i64(), i["max"].as_i64(), i["sum"].as_i64()), (Some(-7), Some(-7), Some(-21)));
    for (stat, v) in [("mean", -7.0), ("var", 0.0), ("std", 0.0)] {
        assert_stat_f64(i, stat, v);
    }
    assert_null(i, &["skewness", "kurtosis"]);
}

/// One value: the sample variance (ddof 1) does not exist, the population variance (ddof 0) is 0.
#[test]
fn one_value() {
    let dir = Dir::new();
    dir.write_arrow("one.arrow", vec![("x", f64s(&[Some(7.5)])), ("n", i64s(&[Some(42)]))]);
    let doc = dir.describe_json("one.arrow", &[]);
    let x = column(&doc, "x");
    assert_u64s(x, &[("count", 1), ("null_count", 0), ("nan_count", 0)]);
    for (stat, v) in [("min", 7.5), ("max", 7.5), ("sum", 7.5), ("mean", 7.5)] {
        assert_stat_f64(x, stat, v);
    }
    assert_null(x, &["var", "std", "skewness", "kurtosis"]);
    let n = column(&doc, "n");
    assert_eq!((n["min"].as_i64(), n["max"].as_i64(), n["sum"].as_i64()), (Some(42), Some(42), Some(42)));
    assert_stat_f64(n, "mean", 42.0);
    assert_null(n, &["var", "std", "skewness", "kurtosis"]);

    let doc = dir.describe_json("one.arrow", &["--ddof", "0"]);
    for name in ["x", "n"] {
        assert_stat_f64(column(&doc, name), "var", 0.0);
        assert_stat_f64(column(&doc, name), "std", 0.0);
    }
}

/// --ddof at or above the count: var and std do not exist (no division by zero or a negative count).
#[test]
fn ddof_at_least_count_gives_null_variance() {
    let dir = Dir::new();
    dir.write_arrow("x.arrow", vec![("x", f64s(&[Some(1.0), Some(3.0)]))]);
    for ddof in ["2", "3", "1000"] {
        let doc = dir.describe_json("x.arrow", &["--ddof", ddof]);
        let x = column(&doc, "x");
        assert_null(x, &["var", "std"]);
        assert_stat_f64(x, "mean", 2.0);
    }
}

/// Only nulls (or only NaN): counts are reported, every value statistic is absent; the sum of no values is 0.
#[test]
fn all_null_and_all_nan_columns() {
    let dir = Dir::new();
    dir.write_arrow(
        "n.arrow",
        vec![
            ("f", f64s(&[None, None, None])),
            ("i", i64s(&[None, None, None])),
            ("nan", f64s(&[Some(f64::NAN), None, Some(f64::NAN)])),
        ],
    );
    let doc = dir.describe_json("n.arrow", &[]);
    assert_eq!(doc["rows"], 3);
    let absent = ["min", "max", "mean", "var", "std", "skewness", "kurtosis"];
    let f = column(&doc, "f");
    assert_u64s(f, &[("count", 0), ("null_count", 3), ("nan_count", 0)]);
    assert_null(f, &absent);
    assert_stat_f64(f, "sum", 0.0);
    let i = column(&doc, "i");
    assert_u64s(i, &[("count", 0), ("null_count", 3), ("nan_count", 0)]);
    assert_null(i, &absent);
    assert_eq!(i["sum"].as_i64(), Some(0), "sum of no integers: {i}");
    let nan = column(&doc, "nan");
    assert_u64s(nan, &[("count", 0), ("null_count", 1), ("nan_count", 2)]);
    assert_null(nan, &absent);
}

/// ±inf are values: they are the extrema and make the sum infinite, or NaN when both signs appear; the
/// spread is NaN. Non-finite floats are the strings "inf", "-inf" and "NaN".
#[test]
fn infinities() {
    let dir = Dir::new();
    let inf = f64::INFINITY;
    dir.write_arrow(
        "inf.arrow",
        vec![
            ("both", f64s(&[Some(1.0), Some(inf), Some(-inf), Some(2.0)])),
            ("pos", f64s(&[Some(1.0), Some(inf), None, Some(2.0)])),
            ("neg", f64s(&[Some(-inf), Some(f64::NAN), None, Some(-inf)])),
        ],
    );
    let doc = dir.describe_json("inf.arrow", &[]);
    let both = column(&doc, "both");
    assert_u64s(both, &[("count", 4), ("null_count", 0), ("nan_count", 0)]);
    for (stat, v) in [("min", -inf), ("max", inf), ("sum", f64::NAN), ("mean", f64::NAN), ("var", f64::NAN)] {
        assert_stat_f64(both, stat, v);
    }
    for stat in ["std", "skewness", "kurtosis"] {
        assert_stat_f64(both, stat, f64::NAN);
    }
    let pos = column(&doc, "pos");
    assert_u64s(pos, &[("count", 3), ("null_count", 1), ("nan_count", 0)]);
    for (stat, v) in [("min", 1.0), ("max", inf), ("sum", inf), ("mean", inf), ("var", f64::NAN), ("std", f64::NAN)] {
        assert_stat_f64(pos, stat, v);
    }
    let neg = column(&doc, "neg");
    assert_u64s(neg, &[("count", 2), ("null_count", 1), ("nan_count", 1)]);
    for (stat, v) in [("min", -inf), ("max", -inf), ("sum", -inf), ("mean", -inf)] {
        assert_stat_f64(neg, stat, v);
    }
}

/// Near i64::MAX: exact integer extrema and sums beyond 2^53 and beyond u64, and the small spread kept
/// (a naive f64 computation would see every value as 2^63).
#[test]
fn int64_near_the_limits() {
    let dir = Dir::new();
    let max = i64::MAX;
    dir.write_arrow(
        "big.arrow",
        vec![
            ("twice_max", i64s(&[Some(max), Some(max), None, None])),
            ("near_max", i64s(&[Some(max), Some(max - 1), Some(max - 2), Some(max - 3)])),
            ("twice_min", i64s(&[Some(i64::MIN), None, Some(i64::MIN), None])),
        ],
    );
    let raw = String::from_utf8(dir.describe_json_raw("big.arrow", &[])).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&raw).unwrap();

    let twice = column(&doc, "twice_max");
    assert_eq!(twice["sum"].as_u64(), Some(18446744073709551614), "{twice}");
    assert_eq!((twice["min"].as_i64(), twice["max"].as_i64()), (Some(max), Some(max)));
    assert_stat_f64(twice, "mean", max as f64);
    assert_stat_f64(twice, "var", 0.0);

    let near = column(&doc, "near_max");
    assert_eq!((near["min"].as_i64(), near["max"].as_i64()), (Some(max - 3), Some(max)));
    assert_raw_int(&raw, "near_max", "sum", 4 * max as i128 - 6);
    assert_raw_int(&raw, "near_max", "min", max as i128 - 3);
    // The exact mean is i64::MAX - 1.5; the nearest double is 2^63.
    assert_stat_f64(near, "mean", 9223372036854775808.0);
    // Deviations 1.5, 0.5, -0.5, -1.5 from the mean: M2 = 5.
    assert_stat_f64(near, "var", 5.0 / 3.0);
    assert_stat_near(near, "skewness", 0.0, 1e-9);
    assert_stat_near(near, "kurtosis", -1.36, 1e-9);

    let min2 = column(&doc, "twice_min");
    assert_eq!(min2["min"].as_i64(), Some(i64::MIN));
    assert_raw_int(&raw, "twice_min", "sum", 2 * i64::MIN as i128);
    assert_stat_f64(min2, "mean", i64::MIN as f64);
}

/// Unsigned and narrow integer types keep their domain: u64::MAX is not a negative number, i8 sums do not
/// wrap.
#[test]
fn unsigned_and_narrow_ints() {
    let dir = Dir::new();
    let u: ArrayRef = Arc::new(UInt64Array::from(vec![Some(u64::MAX), Some(u64::MAX), Some(0)]));
    let i8s: ArrayRef = Arc::new(Int8Array::from(vec![Some(-128), Some(127), None]));
    let i32s: ArrayRef = Arc::new(Int32Array::from(vec![Some(i32::MAX), Some(i32::MAX), Some(i32::MAX)]));
    dir.write_arrow("u.arrow", vec![("u", u), ("i8", i8s), ("i32", i32s)]);
    let raw = String::from_utf8(dir.describe_json_raw("u.arrow", &[])).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&raw).unwrap();

    let u = column(&doc, "u");
    assert_eq!(u["type"], "UInt64");
    assert_eq!((u["min"].as_u64(), u["max"].as_u64()), (Some(0), Some(u64::MAX)));
    assert_raw_int(&raw, "u", "sum", 2 * u64::MAX as i128);
    // (2^65 - 2) / 3 = 12297829382473034410 exactly.
    assert_stat_f64(u, "mean", 12297829382473034410u64 as f64);

    let i8c = column(&doc, "i8");
    assert_eq!((i8c["min"].as_i64(), i8c["max"].as_i64(), i8c["sum"].as_i64()), (Some(-128), Some(127), Some(-1)));
    assert_stat_f64(i8c, "mean", -0.5);
    assert_stat_f64(i8c, "var", 255.0 * 255.0 / 2.0);

    let i32c = column(&doc, "i32");
    assert_eq!(i32c["sum"].as_i64(), Some(3 * i32::MAX as i64));
}

/// Float32 values are widened exactly: 0.1f32 is 0.100000001490116119384765625, not 0.1.
#[test]
fn float32_is_widened_exactly() {
    let dir = Dir::new();
    let x: ArrayRef = Arc::new(Float32Array::from(vec![Some(0.1f32), None, Some(0.5f32)]));
    dir.write_arrow("f32.arrow", vec![("x", x)]);
    let doc = dir.describe_json("f32.arrow", &[]);
    let x = column(&doc, "x");
    assert_eq!(x["type"], "Float32");
    let tenth = f64::from(0.1f32);
    assert_u64s(x, &[("count", 2), ("null_count", 1)]);
    assert_stat_f64(x, "min", tenth);
    assert_stat_f64(x, "max", 0.5);
    assert_stat_f64(x, "sum", tenth + 0.5);
    assert_stat_f64(x, "mean", (tenth + 0.5) / 2.0);
}

/// Columns tally does not compute on (strings, booleans) report count and null_count only.
#[test]
fn non_numeric_columns_report_counts_only() {
    let dir = Dir::new();
    let s: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), None, Some("bc"), Some("")]));
    let b: ArrayRef = Arc::new(BooleanArray::from(vec![Some(true), None, None, Some(false)]));
    dir.write_arrow("s.arrow", vec![("s", s), ("b", b)]);
    let doc = dir.describe_json("s.arrow", &[]);
    let s = column(&doc, "s");
    assert_eq!(s["type"], "Utf8");
    assert_u64s(s, &[("count", 3), ("null_count", 1), ("nan_count", 0)]);
    let absent = ["min", "max", "sum", "mean", "var", "std", "skewness", "kurtosis"];
    assert_null(s, &absent);
    let b = column(&doc, "b");
    assert_eq!(b["type"], "Boolean");
    assert_u64s(b, &[("count", 2), ("null_count", 2), ("nan_count", 0)]);
    assert_null(b, &absent);
}

/// `--columns` selects and orders the output columns.
#[test]
fn columns_option_selects_and_orders() {
    let dir = Dir::new();
    dir.write_arrow("x.arrow", vec![("a", f64s(&[Some(1.0)])), ("b", i64s(&[Some(2)])), ("c", f64s(&[Some(3.0)]))]);
    let doc = dir.describe_json("x.arrow", &["--columns", "c,a"]);
    let names: Vec<&str> = doc["columns"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["c", "a"]);
    assert_stat_f64(column(&doc, "c"), "sum", 3.0);
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
        let array: ArrayRef = Arc::new(Float64Array::from(values.to_vec()));
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
            Some((i as f64) * 0.25 - 10.0 + if i % 3 == 0 { 3.0 } else { 0.0 })
        }
    };
    let int_value = |i: usize| -> Option<i64> { (i % 5 != 0).then(|| (i as i64 * 37) % 101 - 50) };
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

/// A file with a schema and no record batches: zero rows, every column empty.
#[test]
fn file_without_batches() {
    let dir = Dir::new();
    let schema = arrow_schema::Schema::new(vec![
        arrow_schema::Field::new("x", arrow_schema::DataType::Float64, true),
        arrow_schema::Field::new("n", arrow_schema::DataType::Int64, true),
    ]);
    dir.write_schema_and_batches("empty.arrow", &schema, &[]);
    let doc = dir.describe_json("empty.arrow", &[]);
    assert_eq!(doc["rows"], 0);
    assert_eq!(doc["input"]["batches"], 0);
    for name in ["x", "n"] {
        let c = column(&doc, name);
        assert_u64s(c, &[("count", 0), ("null_count", 0), ("nan_count", 0)]);
        assert_null(c, &["min", "max", "mean", "var", "std", "skewness", "kurtosis"]);
    }
}
