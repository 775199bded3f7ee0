//! Strings, binary, temporal and boolean columns (issue 11, item 5), against brute force over the values
//! this test wrote: bytewise min/max and lengths; ISO 8601 text from a naive calendar walk (year by year,
//! month by month), not the engine's day-count formula; true/false counts.

use crate::common;

use std::sync::Arc;

use arrow_array::types::Int8Type;
use arrow_array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Date64Array, DictionaryArray, DurationMillisecondArray,
    LargeStringArray, RecordBatch, StringArray, StringViewArray, Time32SecondArray, Time64NanosecondArray,
    TimestampMicrosecondArray, TimestampSecondArray,
};
use arrow_schema::{Field, Schema};
use tally_engine::describe;
use tally_engine::exec::ExecutorKind;
use tally_engine::report::Format;
use tally_engine::stats::{Extra, Summary, Value};

fn write(dir: &std::path::Path, columns: Vec<(&str, ArrayRef)>) -> std::path::PathBuf {
    let fields: Vec<Field> = columns.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect();
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), columns.into_iter().map(|(_, a)| a).collect()).unwrap();
    let path = dir.join("t.arrow");
    let mut w = arrow_ipc::writer::FileWriter::try_new(std::fs::File::create(&path).unwrap(), &schema).unwrap();
    for start in (0..batch.num_rows()).step_by(333) {
        w.write(&batch.slice(start, 333.min(batch.num_rows() - start))).unwrap();
    }
    w.finish().unwrap();
    path
}

fn extra(s: &Summary, name: &str) -> Extra {
    s.extra(name).unwrap_or_else(|| panic!("no {name} in {s:?}")).clone()
}

fn text(s: &Summary, name: &str) -> String {
    match extra(s, name) {
        Extra::Text(t) => t,
        other => panic!("{name}: {other:?}"),
    }
}

/// Checks a string or binary column against its values; `show` renders a value as the report should.
fn check_bytes(s: &Summary, values: &[Option<Vec<u8>>], show: impl Fn(&[u8]) -> String, name: &str) {
    let xs: Vec<&Vec<u8>> = values.iter().flatten().collect();
    assert_eq!((s.count, s.null_count), (xs.len() as u64, (values.len() - xs.len()) as u64), "{name}");
    assert_eq!(text(s, "min"), show(xs.iter().min().unwrap()), "{name} min");
    assert_eq!(text(s, "max"), show(xs.iter().max().unwrap()), "{name} max");
    let lens: Vec<u64> = xs.iter().map(|x| x.len() as u64).collect();
    assert_eq!(extra(s, "min_length"), Extra::Count(*lens.iter().min().unwrap()), "{name}");
    assert_eq!(extra(s, "max_length"), Extra::Count(*lens.iter().max().unwrap()), "{name}");
    // Total length < 2^53 and count small: the correctly rounded mean is the f64 division.
    let mean = lens.iter().sum::<u64>() as f64 / lens.len() as f64;
    assert_eq!(extra(s, "mean_length"), Extra::Float(mean), "{name}");
}

#[test]
fn strings_and_binary_report_bytewise_extremes_and_lengths() {
    let n = 2_000usize;
    // Mixed scripts: bytewise order of UTF-8 is code point order (é > z, 中 > é).
    let words = ["pear", "apple", "", "zz", "é", "中文", "a\u{0}b", "Zebra"];
    let strs: Vec<Option<String>> =
        (0..n).map(|i| (i % 9 != 4).then(|| format!("{}{}", words[i % words.len()], i % 13))).collect();
    let bins: Vec<Option<Vec<u8>>> = (0..n).map(|i| (i % 6 != 0).then(|| vec![(i * 31 % 256) as u8; i % 5])).collect();
    // Dictionary: keys null every 11th row, entry 1 null.
    let entries = [Some("k"), None, Some("b"), Some("yy")];
    let keys: Vec<Option<i8>> = (0..n).map(|i| (i % 11 != 0).then_some((i % 4) as i8)).collect();
    let dict_values: Vec<Option<Vec<u8>>> =
        keys.iter().map(|k| k.and_then(|k| entries[k as usize]).map(|s| s.as_bytes().to_vec())).collect();
    let dict =
        DictionaryArray::<Int8Type>::try_new(keys.into(), Arc::new(StringArray::from(entries.to_vec()))).unwrap();
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("s", Arc::new(StringArray::from(strs.clone()))),
        ("ls", Arc::new(LargeStringArray::from(strs.clone()))),
        ("vs", Arc::new(StringViewArray::from(strs.clone()))),
        ("b", Arc::new(BinaryArray::from(bins.iter().map(|b| b.as_deref()).collect::<Vec<_>>()))),
        ("d", Arc::new(dict)),
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), columns);
    let report = describe(&path, &common::options_of(ExecutorKind::Threads, 3, 250, false, 1)).unwrap().report;
    let col = |name: &str| &report.columns.iter().find(|c| c.name == name).unwrap().summary;
    let str_bytes: Vec<Option<Vec<u8>>> = strs.iter().map(|s| s.as_ref().map(|s| s.as_bytes().to_vec())).collect();
    let utf8 = |v: &[u8]| String::from_utf8(v.to_vec()).unwrap();
    for name in ["s", "ls", "vs"] {
        check_bytes(col(name), &str_bytes, utf8, name);
    }
    check_bytes(col("b"), &bins, |v| v.iter().map(|b| format!("{b:02x}")).collect(), "b");
    check_bytes(col("d"), &dict_values, utf8, "d");
}

/// Days since 1970-01-01 to a civil date, walking years then months (the reference for ISO dates).
fn walk(days: i64) -> (i64, u32, u32) {
    let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let (mut y, mut d) = (1970i64, days);
    while d < 0 {
        y -= 1;
        d += if leap(y) { 366 } else { 365 };
    }
    while d >= if leap(y) { 366 } else { 365 } {
        d -= if leap(y) { 366 } else { 365 };
        y += 1;
    }
    let lengths = [31, if leap(y) { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut m = 0;
    while d >= lengths[m] {
        d -= lengths[m];
        m += 1;
    }
    (y, m as u32 + 1, d as u32 + 1)
}

fn iso_date(days: i64) -> String {
    let (y, m, d) = walk(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Python's `datetime.isoformat()` layout: fraction digits only when non-zero, trailing zeros dropped.
fn iso_instant(value: i64, per_second: i64, zone: &str) -> String {
    let (secs, sub) = (value.div_euclid(per_second), value.rem_euclid(per_second));
    let (days, t) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let digits = per_second.ilog10() as usize;
    let frac = if sub == 0 { String::new() } else { format!(".{sub:0digits$}").trim_end_matches('0').to_string() };
    format!("{}T{:02}:{:02}:{:02}{frac}{zone}", iso_date(days), t / 3600, t % 3600 / 60, t % 60)
}

#[test]
fn temporal_columns_report_iso_8601_extremes_and_booleans_their_counts() {
    let n = 1_500usize;
    let days: Vec<Option<i32>> =
        (0..n).map(|i| (i % 8 != 2).then_some((i as i32 * 7_919) % 160_001 - 80_000)).collect();
    let secs: Vec<Option<i64>> =
        days.iter().map(|d| d.map(|d| i64::from(d) * 86_400 + (d as i64 * 37).rem_euclid(86_400))).collect();
    let micros: Vec<Option<i64>> = secs.iter().map(|s| s.map(|s| s * 1_000_000 + s.rem_euclid(999_983))).collect();
    let tod: Vec<Option<i32>> = (0..n).map(|i| (i % 5 != 1).then_some((i as i32 * 613) % 86_400)).collect();
    let tod_ns: Vec<Option<i64>> = tod.iter().map(|t| t.map(|t| i64::from(t) * 1_000_000_000 + 120)).collect();
    let durs: Vec<Option<i64>> = (0..n).map(|i| (i % 7 != 0).then_some((i as i64 - 700) * 3_600_123)).collect();
    let bools: Vec<Option<bool>> = (0..n).map(|i| (i % 10 != 9).then_some(i % 3 != 0)).collect();
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("date", Arc::new(Date32Array::from(days.clone()))),
        (
            "date64",
            Arc::new(Date64Array::from(days.iter().map(|d| d.map(|d| i64::from(d) * 86_400_000)).collect::<Vec<_>>())),
        ),
        ("ts", Arc::new(TimestampSecondArray::from(secs.clone()))),
        ("tsz", Arc::new(TimestampMicrosecondArray::from(micros.clone()).with_timezone("Europe/Paris"))),
        ("tod", Arc::new(Time32SecondArray::from(tod.clone()))),
        ("tod_ns", Arc::new(Time64NanosecondArray::from(tod_ns.clone()))),
        ("dur", Arc::new(DurationMillisecondArray::from(durs.clone()))),
        ("flag", Arc::new(BooleanArray::from(bools.clone()))),
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), columns);
    let run = |executor, workers| {
        let report = describe(&path, &common::options_of(executor, workers, 200, false, 1)).unwrap().report;
        let mut json = Vec::new();
        report.render(Format::Json, &Default::default(), &mut json).unwrap();
        (report, json)
    };
    let (report, oracle) = run(ExecutorKind::Serial, 1);
    for workers in [1, 2, 3, 7] {
        assert!(run(ExecutorKind::Threads, workers).1 == oracle, "threads x {workers} differs from serial");
    }
    let col = |name: &str| &report.columns.iter().find(|c| c.name == name).unwrap().summary;
    let extremes =
        |v: &[Option<i64>]| (v.iter().flatten().min().copied().unwrap(), v.iter().flatten().max().copied().unwrap());
    let wide = |v: &[Option<i32>]| v.iter().map(|x| x.map(i64::from)).collect::<Vec<_>>();
    let check = |name: &str, values: &[Option<i64>], iso: &dyn Fn(i64) -> String, moments: bool| {
        let s = col(name);
        let (lo, hi) = extremes(values);
        let valid = values.iter().flatten().count() as u64;
        assert_eq!((s.count, s.null_count), (valid, values.len() as u64 - valid), "{name}");
        assert_eq!((s.min, s.max), (Some(Value::Int(lo.into())), Some(Value::Int(hi.into()))), "{name} in its unit");
        assert_eq!((text(s, "min_iso"), text(s, "max_iso")), (iso(lo), iso(hi)), "{name} ISO 8601");
        assert_eq!(s.mean.is_some(), moments, "{name}: a mean only for durations");
        assert_eq!(s.sum.is_some(), moments, "{name}: a sum only for durations");
    };
    check("date", &wide(&days), &iso_date, false);
    check(
        "date64",
        &wide(&days).iter().map(|d| d.map(|d| d * 86_400_000)).collect::<Vec<_>>(),
        &|ms| iso_date(ms / 86_400_000),
        false,
    );
    check("ts", &secs, &|v| iso_instant(v, 1, ""), false);
    check("tsz", &micros, &|v| iso_instant(v, 1_000_000, "Z"), false);
    check("tod", &wide(&tod), &|v| iso_instant(v, 1, "")[11..].to_string(), false);
    check("tod_ns", &tod_ns, &|v| iso_instant(v, 1_000_000_000, "")[11..].to_string(), false);
    // Durations: PT..H..M..S from the seconds, as ISO 8601 spells them.
    let iso_duration = |ms: i64| {
        let sign = if ms < 0 { "-" } else { "" };
        let (s, sub) = (ms.abs() / 1000, ms.abs() % 1000);
        let (d, h, m, sec) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60);
        let mut out = format!("{sign}P");
        if d > 0 {
            out += &format!("{d}D");
        }
        out += "T";
        for (v, u) in [(h, "H"), (m, "M")] {
            if v > 0 {
                out += &format!("{v}{u}");
            }
        }
        let frac = if sub == 0 { String::new() } else { format!(".{sub:03}").trim_end_matches('0').to_string() };
        if sec > 0 || sub > 0 {
            out += &format!("{sec}{frac}S");
        }
        // A whole number of days has no time part; zero is `PT0S`.
        match out.strip_suffix('T') {
            Some("P") | Some("-P") => "PT0S".to_string(),
            Some(days) => days.to_string(),
            None => out,
        }
    };
    check("dur", &durs, &iso_duration, true);
    let exact = common::exact_moments(&durs.iter().flatten().map(|&d| d as f64).collect::<Vec<_>>(), 1);
    assert!(common::ulps(col("dur").mean.unwrap(), exact.mean) <= 0.5, "duration mean correctly rounded");
    let flag = col("flag");
    let trues = bools.iter().flatten().filter(|b| **b).count() as u64;
    let falses = bools.iter().flatten().filter(|b| !**b).count() as u64;
    assert_eq!((extra(flag, "true_count"), extra(flag, "false_count")), (Extra::Count(trues), Extra::Count(falses)));
    assert!(common::ulps(flag.mean.unwrap(), trues as f64 / (trues + falses) as f64) <= 0.5, "fraction true");
}
