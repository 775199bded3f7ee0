//! Zero copy, proven: every buffer of every decoded array lies inside the file's mapping. And the one
//! exception, files whose buffers are misaligned for their type, is copied per batch and announced.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Decimal128Array, Float64Array, RecordBatch};
use arrow_ipc::MetadataVersion;
use arrow_ipc::writer::{FileWriter, IpcWriteOptions};
use arrow_schema::{DataType, Field, Schema};
use tally_engine::generate::{GenOptions, write_demo};
use tally_engine::stats::Value;
use tally_engine::{DescribeOptions, describe, source};

fn buffers_inside(array: &dyn Array, mapping: &std::ops::Range<usize>) -> bool {
    let data = array.to_data();
    let inside = |ptr: *const u8, len: usize| {
        len == 0 || (mapping.contains(&(ptr as usize)) && ptr as usize + len <= mapping.end)
    };
    data.buffers().iter().all(|b| inside(b.as_ptr(), b.len()))
        && data.nulls().is_none_or(|n| inside(n.buffer().as_ptr(), n.buffer().len()))
}

#[test]
fn every_buffer_of_a_generated_file_points_into_the_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.arrow");
    write_demo(&path, &GenOptions { rows: 50_000, seed: 9, batch_rows: 12_345 }, &Default::default(), |_| {}).unwrap();
    let file = source::open(&path).unwrap();
    let all: Vec<usize> = (0..file.schema().fields().len()).collect();
    let store = file.into_store(&all).unwrap();
    assert_eq!(store.copied_batches(), 0);
    let mapping = store.mapping();
    assert!(mapping.end - mapping.start > 50_000 * (6 * 8 + 4), "the mapping holds all the data");
    for batch in store.batches() {
        for column in batch.columns() {
            assert!(buffers_inside(column.as_ref(), &mapping), "a {} buffer was copied", column.data_type());
        }
    }
}

#[test]
fn misaligned_buffers_are_copied_once_per_batch_and_announced() {
    // Decimal128 needs 16-byte alignment; an 8-byte aligned writer leaves some of its buffers at 8 mod 16.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.arrow");
    let schema = Arc::new(Schema::new(vec![
        Field::new("x", DataType::Float64, true),
        Field::new("dec", DataType::Decimal128(10, 2), true),
    ]));
    let options = IpcWriteOptions::try_new(8, false, MetadataVersion::V5).unwrap();
    let mut writer = FileWriter::try_new_with_options(std::fs::File::create(&path).unwrap(), &schema, options).unwrap();
    let mut expected_sum = 0.0;
    for b in 0..3 {
        // An odd number of f64 values puts the decimal buffer at an offset that is 8 mod 16.
        let xs: Vec<f64> = (0..5).map(|i| (b * 10 + i) as f64 * 0.5).collect();
        expected_sum += xs.iter().sum::<f64>();
        let decimals = Decimal128Array::from(vec![1i128; 5]).with_precision_and_scale(10, 2).unwrap();
        let columns: Vec<ArrayRef> = vec![Arc::new(Float64Array::from(xs)), Arc::new(decimals)];
        writer.write(&RecordBatch::try_new(schema.clone(), columns).unwrap()).unwrap();
    }
    writer.finish().unwrap();

    let done = describe(&path, &DescribeOptions::default()).unwrap();
    assert_eq!(done.outcome.notes.len(), 1, "one notice for the whole file: {:?}", done.outcome.notes);
    assert!(
        done.outcome.notes[0].contains("misaligned") && done.outcome.notes[0].contains("old.arrow"),
        "{}",
        done.outcome.notes[0]
    );
    let x = &done.report.columns[0].summary;
    assert_eq!((x.count, x.sum), (15, Some(Value::Float(expected_sum))));
    assert_eq!(done.report.columns[1].summary.count, 15);
}
