//! Decimal columns (issue 11, item 5): `sum` exact in the decimal domain and printed with the column's
//! scale, `mean`, `var` and `std` correctly rounded, `mean_decimal` rounded half-even to the scale as
//! Python's `decimal` does. The references are exact rationals computed here from the values this test
//! wrote, and "correctly rounded" is checked exactly: the reported double is nearer to the true value than
//! either of its neighbours.

use crate::common;

use std::sync::Arc;

use arrow_array::{ArrayRef, Decimal128Array, Decimal256Array, RecordBatch};
use arrow_buffer::i256;
use arrow_schema::{Field, Schema};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use tally_engine::describe;
use tally_engine::exec::ExecutorKind;
use tally_engine::report::Format;
use tally_engine::stats::{Extra, Summary};

/// The exact rational value of a finite double.
fn rational(x: f64) -> BigRational {
    BigRational::from_float(x).expect("finite")
}

/// `got` is the double nearest to `exact` (a tie may go either way: the neighbours are as near).
fn assert_correctly_rounded(got: f64, exact: &BigRational, what: &str) {
    let err = |x: f64| (rational(x) - exact).abs();
    let (down, up) = (got.next_down(), got.next_up());
    assert!(err(got) <= err(down) && err(got) <= err(up), "{what}: {got} is not the nearest double to {exact}");
}

/// `got` is the double nearest to `sqrt(exact)`: its half-way points to the neighbours bracket the root.
fn assert_sqrt_correctly_rounded(got: f64, exact: &BigRational, what: &str) {
    let two = BigRational::from_integer(2.into());
    let lo = (rational(got.next_down()) + rational(got)) / &two;
    let hi = (rational(got) + rational(got.next_up())) / &two;
    assert!(&lo * &lo <= *exact && *exact <= &hi * &hi, "{what}: {got} is not the nearest double to sqrt({exact})");
}

/// Decimal text of `x · 10^-scale`, built from the integer and fractional parts.
fn text(x: &BigInt, scale: u32) -> String {
    let unit = BigInt::from(10).pow(scale);
    let (int, frac) = (x.abs() / &unit, x.abs() % &unit);
    let sign = if x.is_negative() { "-" } else { "" };
    if scale == 0 { format!("{sign}{int}") } else { format!("{sign}{int}.{frac:0>w$}", w = scale as usize) }
}

/// Python's `Decimal.quantize(..., ROUND_HALF_EVEN)` of the rational `q` to an integer.
fn half_even(q: &BigRational) -> BigInt {
    let floor = q.floor();
    let diff = q - &floor;
    let half = BigRational::new(1.into(), 2.into());
    let f = floor.to_integer();
    if diff > half || (diff == half && (&f % 2u8) != BigInt::zero()) { f + 1 } else { f }
}

fn extra_text(s: &Summary, name: &str) -> String {
    match s.extra(name) {
        Some(Extra::Text(t)) => t.clone(),
        other => panic!("{name}: {other:?}"),
    }
}

/// Checks one decimal column's summary against the values (`None`: null) and its scale.
fn check(s: &Summary, values: &[Option<BigInt>], scale: u32, name: &str) {
    let xs: Vec<&BigInt> = values.iter().flatten().collect();
    let n = xs.len();
    assert_eq!((s.count, s.null_count), (n as u64, (values.len() - n) as u64), "{name}");
    let sum: BigInt = xs.iter().copied().sum();
    assert_eq!(extra_text(s, "sum"), text(&sum, scale), "{name} sum");
    assert_eq!(extra_text(s, "min"), text(xs.iter().min().unwrap(), scale), "{name} min");
    assert_eq!(extra_text(s, "max"), text(xs.iter().max().unwrap(), scale), "{name} max");
    let unit = BigRational::from_integer(BigInt::from(10).pow(scale));
    let mean = BigRational::new(sum.clone(), BigInt::from(n)) / &unit;
    assert_correctly_rounded(s.mean.unwrap(), &mean, &format!("{name} mean"));
    let in_units = BigRational::new(sum, BigInt::from(n));
    assert_eq!(extra_text(s, "mean_decimal"), text(&half_even(&in_units), scale), "{name} mean_decimal");
    // The sample variance from the deviations (not the power sums tally keeps).
    let dev2: BigRational =
        xs.iter().map(|x| BigRational::from_integer((*x).clone()) / &unit - &mean).map(|d| &d * &d).sum();
    let var = dev2 / BigRational::from_integer(BigInt::from(n - 1));
    assert_correctly_rounded(s.var.unwrap(), &var, &format!("{name} var"));
    assert_sqrt_correctly_rounded(s.std.unwrap(), &var, &format!("{name} std"));
    assert_eq!((s.skewness, s.kurtosis), (None, None), "{name}: not computed for decimals");
}

fn write(dir: &std::path::Path, columns: Vec<(&str, ArrayRef)>, batch_rows: usize) -> std::path::PathBuf {
    let fields: Vec<Field> = columns.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect();
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), columns.into_iter().map(|(_, a)| a).collect()).unwrap();
    let path = dir.join("decimals.arrow");
    let mut w = arrow_ipc::writer::FileWriter::try_new(std::fs::File::create(&path).unwrap(), &schema).unwrap();
    for start in (0..batch.num_rows()).step_by(batch_rows) {
        w.write(&batch.slice(start, batch_rows.min(batch.num_rows() - start))).unwrap();
    }
    w.finish().unwrap();
    path
}

#[test]
fn decimal_sums_are_exact_and_means_correctly_rounded() {
    let n = 3_001usize;
    // Values near the top of decimal128(38): their sum needs more than 128 bits.
    let big: Vec<Option<i128>> = (0..n)
        .map(|i| (i % 7 != 3).then(|| (10i128.pow(37) * 9 + i as i128 * 1_000_003) * if i % 3 == 0 { -1 } else { 1 }))
        .collect();
    let small: Vec<Option<i128>> = (0..n).map(|i| (i % 5 != 0).then_some((i as i128 * 37) % 1_001 - 500)).collect();
    let wide: Vec<Option<i256>> = (0..n)
        .map(|i| (i % 4 != 1).then(|| i256::from_i128(i as i128 - 1_500).wrapping_mul(i256::from_i128(10i128.pow(35)))))
        .collect();
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("big", Arc::new(Decimal128Array::from(big.clone()).with_precision_and_scale(38, 6).unwrap())),
        ("small", Arc::new(Decimal128Array::from(small.clone()).with_precision_and_scale(9, 2).unwrap())),
        ("wide", Arc::new(Decimal256Array::from(wide.clone()).with_precision_and_scale(76, 30).unwrap())),
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), columns, 700);
    let ints = |v: &[Option<i128>]| v.iter().map(|x| x.map(BigInt::from)).collect::<Vec<_>>();
    let wides: Vec<Option<BigInt>> =
        wide.iter().map(|x| x.map(|x| BigInt::from_signed_bytes_le(&x.to_le_bytes()))).collect();

    let render = |executor, workers| {
        let report = describe(&path, &common::options_of(executor, workers, 450, false, 1)).unwrap().report;
        let mut json = Vec::new();
        report.render(Format::Json, &Default::default(), &mut json).unwrap();
        (report, json)
    };
    let (report, oracle) = render(ExecutorKind::Serial, 1);
    let col = |name: &str| &report.columns.iter().find(|c| c.name == name).unwrap().summary;
    check(col("big"), &ints(&big), 6, "big");
    check(col("small"), &ints(&small), 2, "small");
    check(col("wide"), &wides, 30, "wide");
    for workers in [1, 2, 3, 7] {
        assert!(render(ExecutorKind::Threads, workers).1 == oracle, "threads x {workers} differs from serial");
    }
    // The JSON keeps every digit: decimal statistics are strings.
    let doc: serde_json::Value = serde_json::from_slice(&oracle).unwrap();
    let small_json = &doc["columns"][1];
    assert_eq!(small_json["sum"], serde_json::Value::String(extra_text(col("small"), "sum")));
    assert!(small_json["mean"].is_f64());
}

#[test]
fn decimal_text_of_an_exact_half_rounds_to_even() {
    // Values 0.01 and 0.02 (scale 2): mean 0.015 → "0.02" (half to even); 0.01, 0.04 → 0.025 → "0.02".
    let dir = tempfile::tempdir().unwrap();
    for (values, expected) in [([1i128, 2], "0.02"), ([1, 4], "0.02"), ([-1, -2], "-0.02"), ([3, 4], "0.04")] {
        let a = Decimal128Array::from(values.to_vec()).with_precision_and_scale(5, 2).unwrap();
        let path = write(dir.path(), vec![("d", Arc::new(a))], 10);
        let report = describe(&path, &common::options_of(ExecutorKind::Serial, 1, 10, false, 1)).unwrap().report;
        let s = &report.columns[0].summary;
        assert_eq!(extra_text(s, "mean_decimal"), expected, "{values:?}");
        let q = BigRational::new(BigInt::from(values[0] + values[1]), BigInt::from(200));
        assert_correctly_rounded(s.mean.unwrap(), &q, "mean");
    }
}
