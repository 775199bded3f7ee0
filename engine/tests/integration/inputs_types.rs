//! More Arrow types (issue 11, item 6): float16, booleans, dates, times, timestamps (with a time zone),
//! durations and dictionary-encoded columns are described through their values, checked against brute
//! force over the values this test wrote (strings, decimals and nested types: inputs_text_time.rs,
//! inputs_decimal.rs, inputs_nested.rs).

use crate::common;

use std::sync::Arc;

use arrow_array::types::{Float16Type, Int8Type, Int32Type};
use arrow_array::{
    ArrayRef, ArrowPrimitiveType, BooleanArray, Date32Array, DictionaryArray, DurationMicrosecondArray, Float16Array,
    Float64Array, Int32Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow_schema::{DataType, Field, Schema};
use tally_engine::describe;
use tally_engine::exec::ExecutorKind;
use tally_engine::stats::{Summary, Value};

type F16 = <Float16Type as ArrowPrimitiveType>::Native;

#[test]
fn temporal_boolean_float16_and_dictionary_columns_are_described_by_their_values() {
    let n = 5_000usize;
    let ints: Vec<Option<i64>> = (0..n).map(|i| (i % 9 != 4).then(|| (i as i64 * 7_919) % 100_003 - 50_000)).collect();
    let halves: Vec<Option<F16>> =
        (0..n).map(|i| (i % 11 != 0).then(|| F16::from_f32((i % 200) as f32 * 0.5 - 30.0))).collect();
    let bools: Vec<Option<bool>> = (0..n).map(|i| (i % 13 != 0).then_some(i % 3 == 0)).collect();
    // Dictionary: keys null every 7th row; entry 2 is null.
    let dict_values = Float64Array::from(vec![Some(1.25), Some(-3.5), None, Some(10.0)]);
    let keys: Vec<Option<i8>> = (0..n).map(|i| (i % 7 != 0).then_some((i % 4) as i8)).collect();
    let decoded: Vec<Option<f64>> =
        keys.iter().map(|k| k.and_then(|k| [Some(1.25), Some(-3.5), None, Some(10.0)][k as usize])).collect();
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("date", Arc::new(Date32Array::from(ints.iter().map(|v| v.map(|x| x as i32)).collect::<Vec<_>>()))),
        ("ts", Arc::new(TimestampMillisecondArray::from(ints.clone()).with_timezone("Europe/Paris"))),
        ("dur", Arc::new(DurationMicrosecondArray::from(ints.clone()))),
        ("half", Arc::new(Float16Array::from(halves.clone()))),
        ("flag", Arc::new(BooleanArray::from(bools.clone()))),
        (
            "dict",
            Arc::new(
                DictionaryArray::<Int8Type>::try_new(keys.iter().copied().collect(), Arc::new(dict_values)).unwrap(),
            ),
        ),
        ("idict", {
            let v = Int32Array::from(vec![5, -7, 11]);
            let k: Vec<Option<i32>> = (0..n).map(|i| Some((i % 3) as i32)).collect();
            Arc::new(DictionaryArray::<Int32Type>::try_new(k.into_iter().collect(), Arc::new(v)).unwrap())
        }),
        ("s", Arc::new(StringArray::from((0..n).map(|i| (i % 2 == 0).then(|| format!("v{i}"))).collect::<Vec<_>>()))),
    ];
    let fields: Vec<Field> = columns.iter().map(|(name, a)| Field::new(*name, a.data_type().clone(), true)).collect();
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), columns.into_iter().map(|(_, a)| a).collect()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("types.arrow");
    let mut w = arrow_ipc::writer::FileWriter::try_new(std::fs::File::create(&path).unwrap(), &schema).unwrap();
    // Two batches: the dictionary is written once and shared.
    w.write(&batch.slice(0, 2_000)).unwrap();
    w.write(&batch.slice(2_000, n - 2_000)).unwrap();
    w.finish().unwrap();

    let report = describe(&path, &common::options_of(ExecutorKind::Threads, 2, 1_500, false, 1)).unwrap().report;
    let col = |name: &str| -> &Summary { &report.columns.iter().find(|c| c.name == name).unwrap().summary };
    // Dates and timestamps are instants: no sum (tests/inputs_text_time.rs checks their ISO 8601 text).
    let ints_ok = |name: &str, xs: &[Option<i128>]| {
        let valid: Vec<i128> = xs.iter().flatten().copied().collect();
        let s = col(name);
        assert_eq!((s.count, s.null_count), (valid.len() as u64, (xs.len() - valid.len()) as u64), "{name}");
        assert_eq!(s.min, valid.iter().min().map(|&v| Value::Int(v)), "{name}");
        assert_eq!(s.max, valid.iter().max().map(|&v| Value::Int(v)), "{name}");
        let sum = (!matches!(name, "date" | "ts")).then(|| Value::Int(valid.iter().sum()));
        assert_eq!(s.sum, sum, "{name}");
    };
    let as_i128: Vec<Option<i128>> = ints.iter().map(|v| v.map(i128::from)).collect();
    for name in ["date", "ts", "dur"] {
        ints_ok(name, &as_i128);
    }
    ints_ok("flag", &bools.iter().map(|b| b.map(i128::from)).collect::<Vec<_>>());
    ints_ok("idict", &(0..n).map(|i| Some([5, -7, 11][i % 3])).collect::<Vec<_>>());
    let floats_ok = |name: &str, xs: &[Option<f64>]| {
        let valid: Vec<f64> = xs.iter().flatten().copied().collect();
        let s = col(name);
        assert_eq!((s.count, s.null_count), (valid.len() as u64, (xs.len() - valid.len()) as u64), "{name}");
        assert_eq!(s.min, Some(Value::Float(valid.iter().copied().fold(f64::INFINITY, f64::min))), "{name}");
        assert_eq!(s.max, Some(Value::Float(valid.iter().copied().fold(f64::NEG_INFINITY, f64::max))), "{name}");
        let exact = common::exact_moments(&valid, 1);
        assert!(common::ulps(s.mean.unwrap(), exact.mean) <= 1.0, "{name}: {:?} vs {}", s.mean, exact.mean);
    };
    floats_ok("half", &halves.iter().map(|h| h.map(|x| f64::from(x.to_f32()))).collect::<Vec<_>>());
    floats_ok("dict", &decoded);
    let s = col("s");
    assert_eq!((s.count, s.null_count, s.min), ((n / 2) as u64, (n / 2) as u64, None));
    let min = (0..n).step_by(2).map(|i| format!("v{i}")).min();
    assert_eq!(s.extra("min"), min.map(tally_engine::stats::Extra::Text).as_ref(), "strings: bytewise min as text");
}

/// A stream whose dictionary grows batch by batch (delta dictionary batches, issue 11 item 5) is decoded
/// into the segment with delta dictionaries (the file format has no replacement), and describes the
/// decoded values: checked against brute force over the values written.
#[test]
fn streams_with_delta_dictionaries_describe_their_values() {
    use arrow_ipc::writer::{DictionaryHandling, IpcWriteOptions, StreamWriter};
    let words: Vec<String> = (0..12).map(|i| format!("w{i:02}")).collect();
    let field = Field::new("d", DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)), true);
    let schema = Arc::new(Schema::new(vec![field]));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("delta.arrows");
    let options = IpcWriteOptions::default().with_dictionary_handling(DictionaryHandling::Delta);
    let mut w = StreamWriter::try_new_with_options(std::fs::File::create(&path).unwrap(), &schema, options).unwrap();
    let mut written: Vec<Option<String>> = Vec::new();
    for k in 1..=4usize {
        // Batch k's dictionary is the first 3k words: the previous one plus a delta.
        let values = StringArray::from(words[..3 * k].to_vec());
        let keys: Vec<Option<i32>> = (0..10).map(|i| (i % 4 != 3).then_some(((i * 7 + k) % (3 * k)) as i32)).collect();
        written.extend(keys.iter().map(|key| key.map(|key| words[key as usize].clone())));
        let dict = DictionaryArray::<Int32Type>::try_new(keys.into(), Arc::new(values)).unwrap();
        w.write(&RecordBatch::try_new(schema.clone(), vec![Arc::new(dict)]).unwrap()).unwrap();
    }
    w.finish().unwrap();
    let report = describe(&path, &common::options_of(ExecutorKind::Threads, 2, 7, false, 1)).unwrap().report;
    let s = &report.columns[0].summary;
    let valid: Vec<&String> = written.iter().flatten().collect();
    assert_eq!((s.count, s.null_count), (valid.len() as u64, (written.len() - valid.len()) as u64));
    let text = |v: Option<&&String>| v.map(|s| tally_engine::stats::Extra::Text(s.to_string()));
    assert_eq!(
        (s.extra("min").cloned(), s.extra("max").cloned()),
        (text(valid.iter().min()), text(valid.iter().max()))
    );
}
