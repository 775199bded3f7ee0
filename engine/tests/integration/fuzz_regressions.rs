//! Minimised reproducers of what `cargo fuzz` found (fuzz/README.md lists the runs), run as the fuzz
//! targets run them: the bytes written to a file with the target's extension and described as
//! `tally describe FILE --executor serial --chunk-rows 7` does. Each must now be a one-line error that names
//! the file and says what is wrong (or a result), never a panic, an abort or an attempt to allocate what the
//! input merely declares.

use crate::common;

use tally_engine::exec::ExecutorKind;
use tally_engine::{DescribeOptions, RunOptions, describe};

/// Describes `bytes` as the fuzz harness does (7-row chunks, serially): the report, or the error's text,
/// which must name the file on one line.
fn describe_bytes(bytes: &[u8], extension: &str) -> Result<tally_engine::Described, String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("input.{extension}"));
    std::fs::write(&path, bytes).unwrap();
    let run = RunOptions { executor: ExecutorKind::Serial, workers: 1, chunk_rows: Some(7), ..RunOptions::default() };
    // A panic fails the test by itself.
    describe(&path, &DescribeOptions { run, ..DescribeOptions::default() }).map_err(|e| {
        let text = e.to_string();
        assert!(text.contains(&path.display().to_string()) && !text.contains('\n'), "{text}");
        text
    })
}

/// `batch` as a zstd-compressed Arrow IPC file.
fn zstd_file(batch: &arrow_array::RecordBatch) -> Vec<u8> {
    let options = arrow_ipc::writer::IpcWriteOptions::default()
        .try_with_compression(Some(arrow_ipc::CompressionType::ZSTD))
        .unwrap();
    let mut bytes = Vec::new();
    let mut w = arrow_ipc::writer::FileWriter::try_new_with_options(&mut bytes, &batch.schema(), options).unwrap();
    w.write(batch).unwrap();
    w.finish().unwrap();
    drop(w);
    bytes
}

/// Where a file's footer starts, and the footer: `[flatbuffer][i32 length]["ARROW1"]` at the end.
fn footer_of(bytes: &[u8]) -> (usize, arrow_ipc::Footer<'_>) {
    let footer_len = i32::from_le_bytes(bytes[bytes.len() - 10..bytes.len() - 6].try_into().unwrap()) as usize;
    let footer_start = bytes.len() - 10 - footer_len;
    (footer_start, arrow_ipc::root_as_footer(&bytes[footer_start..bytes.len() - 10]).unwrap())
}

/// `ipc_file` crash (fuzz/README.md, run 1): a zstd-compressed IPC file whose record batch flatbuffer reaches
/// past the metadata length its footer block declares. arrow-rs parses the message from the whole block, so
/// it read the batch, and the buffer that declared 2^40 decompressed bytes made it allocate them (an abort
/// under AddressSanitizer, a failed allocation otherwise); tally parsed the metadata alone, failed, and so
/// skipped the check that refuses such declarations. Generated here: a valid file, its block's metadata
/// length cut by 8 (moving the body 8 bytes earlier, as arrow-rs then reads it) and a declared length
/// patched where arrow-rs now looks for it.
#[test]
fn ipc_file_whose_message_outgrows_its_block_metadata_is_still_capped() {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Int64Array, RecordBatch};
    let column = |k: i64| Arc::new(Int64Array::from((0..64).map(|i| i * k).collect::<Vec<_>>())) as ArrayRef;
    let batch = RecordBatch::try_from_iter([("a", column(3)), ("b", column(7))]).unwrap();
    let mut bytes = zstd_file(&batch);
    let (footer_start, footer) = footer_of(&bytes);
    let block = footer.recordBatches().unwrap().get(0);
    let (offset, meta) = (block.offset() as usize, block.metaDataLength() as usize);
    let message = arrow_ipc::root_as_message(&bytes[offset + 8..offset + meta]).unwrap();
    let last = message.header_as_record_batch().unwrap().buffers().unwrap().iter().next_back().unwrap();
    let at = offset + meta - 8 + last.offset() as usize;
    // Patch the block (its struct bytes: offset i64, metaDataLength i32, padding, bodyLength i64).
    let mut pattern = block.offset().to_le_bytes().to_vec();
    pattern.extend((meta as i32).to_le_bytes());
    let found = (footer_start..bytes.len() - 10).find(|&i| bytes[i..].starts_with(&pattern)).expect("the block");
    bytes[found + 8..found + 12].copy_from_slice(&(meta as i32 - 8).to_le_bytes());
    bytes[at..at + 8].copy_from_slice(&(1i64 << 40).to_le_bytes());
    let err = describe_bytes(&bytes, "arrow").expect_err("refused");
    assert!(err.contains("declares") && err.contains("decompression"), "{err}");
}

/// `ipc_stream` out-of-memory (fuzz/README.md, run 2): an LZ4 stream whose dictionary batch buffer declares
/// 20 GiB decompressed, under the machine-memory cap, so arrow-rs set out to allocate it. No LZ4 frame
/// of a few kilobytes can hold that: a buffer is now refused when it declares more than its codec can
/// expand its compressed bytes to. Generated: a valid stream, the dictionary's data buffer patched.
#[test]
fn stream_dictionary_buffer_declaring_more_than_lz4_can_expand_is_refused() {
    use std::sync::Arc;

    use arrow_array::types::Int32Type;
    use arrow_array::{ArrayRef, DictionaryArray, RecordBatch};
    let words: Vec<String> = (0..200).map(|i| format!("value {}", i % 17)).collect();
    let dict: DictionaryArray<Int32Type> = words.iter().map(String::as_str).collect();
    let batch = RecordBatch::try_from_iter([("d", Arc::new(dict) as ArrayRef)]).unwrap();
    let bytes = common::stream_declaring(&batch, arrow_ipc::CompressionType::LZ4_FRAME, true, 20 << 30);
    let err = describe_bytes(&bytes, "arrows").expect_err("refused");
    assert!(err.contains("21474836480 bytes after LZ4 decompression") && err.contains("more than the format"), "{err}");
}

/// `ipc_file` crash (fuzz/README.md, run 4, the optimised build): a zstd-compressed IPC file whose
/// dictionary batch buffer declares 2 TiB decompressed. The declared sizes were checked, but only after
/// the batches' row counts were taken, and taking them decodes every dictionary: arrow-rs decompressed the
/// dictionary and set out to allocate the declared size. Generated: a valid file with a dictionary column,
/// the dictionary's values buffer patched.
#[test]
fn ipc_file_dictionary_declaring_terabytes_is_refused_before_it_is_decoded() {
    use std::sync::Arc;

    use arrow_array::types::Int32Type;
    use arrow_array::{ArrayRef, DictionaryArray, RecordBatch};
    let words: Vec<String> = (0..200).map(|i| format!("value {}", i % 17)).collect();
    let dict: DictionaryArray<Int32Type> = words.iter().map(String::as_str).collect();
    let batch = RecordBatch::try_from_iter([("d", Arc::new(dict) as ArrayRef)]).unwrap();
    let mut bytes = zstd_file(&batch);
    let block = footer_of(&bytes).1.dictionaries().unwrap().get(0);
    let (offset, meta) = (block.offset() as usize, block.metaDataLength() as usize);
    let message = arrow_ipc::root_as_message(&bytes[offset + 8..offset + meta]).unwrap();
    let data = message.header_as_dictionary_batch().unwrap().data().unwrap();
    let values = data.buffers().unwrap().iter().next_back().unwrap();
    let at = offset + meta + values.offset() as usize;
    bytes[at..at + 8].copy_from_slice(&(1i64 << 41).to_le_bytes());
    let err = describe_bytes(&bytes, "arrow").expect_err("refused");
    assert!(err.contains("dictionary batch") && err.contains("2199023255552 bytes after zstd decompression"), "{err}");
}

/// `ipc_stream` crash (fuzz/README.md, run 4): a stream whose one record batch has no columns and declares
/// 40,813,871,623,045,125 rows. Arrow allows any length for a batch without columns, so the file opens; the
/// plan then set out to list 5.8e15 chunks of 7 rows and the allocation aborted the process. Then (run 5)
/// a file of no columns declaring 67M rows took seconds as 9.6M chunks under the chunk cap. A plan that
/// reads nothing is now one chunk, so the declared rows are counted at once. Generated: a valid stream of
/// an empty batch of 3 rows, its length patched.
#[test]
fn stream_batch_of_no_columns_declaring_quadrillions_of_rows_is_one_chunk() {
    use std::sync::Arc;

    use arrow_array::{RecordBatch, RecordBatchOptions};
    let schema = Arc::new(arrow_schema::Schema::empty());
    let batch =
        RecordBatch::try_new_with_options(schema.clone(), vec![], &RecordBatchOptions::new().with_row_count(Some(3)))
            .unwrap();
    let mut bytes = Vec::new();
    let mut w = arrow_ipc::writer::StreamWriter::try_new(&mut bytes, &schema).unwrap();
    w.write(&batch).unwrap();
    w.write(&batch).unwrap();
    w.finish().unwrap();
    drop(w);
    // The second record batch message's length field: the last i64 3 of the stream.
    let rows = 40_813_871_623_045_125i64;
    let at = (0..bytes.len() - 8).rev().find(|&i| bytes[i..i + 8] == 3i64.to_le_bytes()).expect("the length");
    bytes[at..at + 8].copy_from_slice(&rows.to_le_bytes());
    let report = describe_bytes(&bytes, "arrows").expect("described").report;
    assert_eq!(report.rows, rows as u64 + 3);
    assert!(report.columns.is_empty());
}
