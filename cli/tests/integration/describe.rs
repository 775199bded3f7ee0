//! `tally describe` values, checked against references computed by hand (small Arrow files written here)
//! or by brute force in the test, never against tally's own output.

use crate::util;

use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, DictionaryArray, Float32Array, Int8Array, Int32Array, StringArray, UInt64Array,
};
use arrow_ipc::CompressionType;
use arrow_ipc::writer::{FileWriter, IpcWriteOptions, StreamWriter};
use util::{
    Dir, assert_null, assert_raw_int, assert_stat_f64, assert_stat_near, assert_u64s, batch_of, column, f64s, i64s,
};

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
    let doc = util::parse_describe_json(&raw);

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
    let doc = util::parse_describe_json(&raw);

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

/// Strings and dictionaries of strings report counts, bytewise extremes (as JSON strings) and lengths;
/// booleans (as 0/1) add their true/false counts; dates have their extremes in days and as ISO 8601 text,
/// and no sum or moments (issue 11, item 5).
#[test]
fn string_boolean_and_date_columns_report_their_own_statistics() {
    let dir = Dir::new();
    let s: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), None, Some("bc"), Some("")]));
    let b: ArrayRef = Arc::new(BooleanArray::from(vec![Some(true), None, None, Some(false)]));
    let dict: ArrayRef =
        Arc::new([Some("a"), None, Some("b"), Some("a")].into_iter().collect::<DictionaryArray<Int32Type>>());
    let date: ArrayRef = Arc::new(Date32Array::from(vec![Some(1), Some(2), None, Some(4)]));
    dir.write_arrow("s.arrow", vec![("s", s), ("b", b), ("dict", dict), ("date", date)]);
    let doc = dir.describe_json("s.arrow", &[]);
    let s = column(&doc, "s");
    assert_eq!(s["type"], "Utf8");
    assert_u64s(s, &[("count", 3), ("null_count", 1), ("nan_count", 0), ("min_length", 0), ("max_length", 2)]);
    assert_eq!((s["min"].as_str(), s["max"].as_str(), s["mean_length"].as_f64()), (Some(""), Some("bc"), Some(1.0)));
    let absent = ["sum", "mean", "var", "std", "skewness", "kurtosis", "true_count", "min_iso"];
    assert_null(s, &absent);
    let b = column(&doc, "b");
    assert_eq!(b["type"], "Boolean");
    assert_u64s(b, &[("count", 2), ("null_count", 2), ("nan_count", 0), ("true_count", 1), ("false_count", 1)]);
    assert_eq!((b["min"].as_i64(), b["max"].as_i64(), b["sum"].as_i64()), (Some(0), Some(1), Some(1)), "sum = trues");
    assert_eq!(b["mean"].as_f64(), Some(0.5));
    let dict = column(&doc, "dict");
    assert_eq!(dict["type"], "Dictionary(Int32, Utf8)");
    assert_u64s(dict, &[("count", 3), ("null_count", 1), ("nan_count", 0)]);
    assert_eq!((dict["min"].as_str(), dict["max"].as_str()), (Some("a"), Some("b")));
    assert_null(dict, &absent);
    let date = column(&doc, "date");
    assert_eq!(date["type"], "Date32");
    assert_u64s(date, &[("count", 3), ("null_count", 1), ("nan_count", 0)]);
    assert_eq!((date["min"].as_i64(), date["max"].as_i64()), (Some(1), Some(4)));
    assert_eq!((date["min_iso"].as_str(), date["max_iso"].as_str()), (Some("1970-01-02"), Some("1970-01-05")));
    assert_null(date, &["sum", "mean", "var", "std", "skewness", "kurtosis"]);
}

/// lz4- and zstd-compressed IPC files (decoded into fresh buffers, not zero-copy) give the same values.
#[test]
fn compressed_files() {
    let dir = Dir::new();
    let batch = batch_of(vec![
        ("x", f64s(&[Some(1.0), Some(2.0), None, Some(3.0), Some(f64::NAN), Some(4.0)])),
        ("n", i64s(&[Some(1), None, Some(2), Some(3), Some(4), None])),
    ]);
    for (name, codec) in [("lz4.arrow", CompressionType::LZ4_FRAME), ("zstd.arrow", CompressionType::ZSTD)] {
        let options = IpcWriteOptions::default().try_with_compression(Some(codec)).unwrap();
        let file = std::fs::File::create(dir.join(name)).unwrap();
        let mut writer = FileWriter::try_new_with_options(file, batch.schema().as_ref(), options).unwrap();
        writer.write(&batch).unwrap();
        writer.finish().unwrap();
        let doc = dir.describe_json(name, &[]);
        let x = column(&doc, "x");
        assert_u64s(x, &[("count", 4), ("null_count", 1), ("nan_count", 1)]);
        assert_stat_f64(x, "sum", 10.0);
        assert_stat_f64(x, "var", 5.0 / 3.0);
        let n = column(&doc, "n");
        assert_u64s(n, &[("count", 4), ("null_count", 2), ("min", 1), ("max", 4), ("sum", 10)]);
        assert_stat_f64(n, "mean", 2.5);
    }
}

/// An Arrow IPC *stream* (no footer, several batches) gives the same values as a file.
#[test]
fn arrow_stream_input() {
    let dir = Dir::new();
    let batches = [
        batch_of(vec![("x", f64s(&[Some(1.0), Some(2.0), None])), ("n", i64s(&[Some(1), None, Some(2)]))]),
        batch_of(vec![("x", f64s(&[Some(3.0), Some(f64::NAN), Some(4.0)])), ("n", i64s(&[Some(3), Some(4), None]))]),
    ];
    let file = std::fs::File::create(dir.join("x.arrows")).unwrap();
    let mut writer = StreamWriter::try_new(file, batches[0].schema().as_ref()).unwrap();
    for batch in &batches {
        writer.write(batch).unwrap();
    }
    writer.finish().unwrap();
    let doc = dir.describe_json("x.arrows", &[]);
    assert_eq!(doc["rows"], 6);
    assert_eq!(doc["input"]["batches"], 2);
    let x = column(&doc, "x");
    assert_u64s(x, &[("count", 4), ("null_count", 1), ("nan_count", 1)]);
    assert_stat_f64(x, "sum", 10.0);
    assert_stat_f64(x, "var", 5.0 / 3.0);
    let n = column(&doc, "n");
    assert_u64s(n, &[("count", 4), ("null_count", 2), ("min", 1), ("max", 4), ("sum", 10)]);
    let out = dir.tally().args(["schema", "x.arrows", "--format", "json"]).output().unwrap();
    util::expect_success(&out, "schema of a stream");
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
