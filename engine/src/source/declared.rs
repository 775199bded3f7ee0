//! What the compressed buffers of an IPC record or dictionary batch declare they decompress to, and whether
//! that is believable, checked before arrow-rs reads the batch: arrow-rs allocates each declared size up
//! front, so a corrupt or hostile length would otherwise make it try to allocate terabytes and abort the
//! process (found by fuzzing, fuzz/README.md). Shared by IPC files (`ipc.rs`) and streams
//! (`stream_guard.rs`), so both get the same caps.
//!
//! Two caps: each buffer within what its codec can expand its compressed bytes to (LZ4's format cannot
//! exceed about 255:1; zstd's densest block, an RLE block, turns 4 bytes into at most 128 KiB), and the
//! batch as a whole within the machine's memory.

use arrow_ipc::{CompressionType, RecordBatch};

/// Checks the sizes `batch`'s buffers declare; `body` is its message body (or what of it there is).
/// Uncompressed batches pass. The error says which buffer declares what.
pub(crate) fn check_declared(batch: &RecordBatch<'_>, body: &[u8], limit: u64) -> Result<(), String> {
    let (Some(compression), Some(buffers)) = (batch.compression(), batch.buffers()) else { return Ok(()) };
    let codec = compression.codec();
    let mut total = 0u64;
    for (i, buffer) in buffers.iter().enumerate() {
        let at = usize::try_from(buffer.offset()).unwrap_or(usize::MAX);
        let Some(prefix) = body.get(at..at.saturating_add(8)).filter(|_| buffer.length() >= 8) else { continue };
        // Each compressed buffer starts with its decompressed length as an i64 (-1: stored raw).
        let declared = i64::from_le_bytes(prefix.try_into().expect("8 bytes"));
        let Ok(declared) = u64::try_from(declared) else { continue };
        let compressed = u64::try_from(buffer.length()).unwrap_or(0).saturating_sub(8);
        let most = max_expansion(codec, compressed);
        if declared > most {
            return Err(format!(
                "buffer {i} declares {declared} bytes after {} decompression of {compressed} bytes, more than \
                 the format can expand them to ({most})",
                codec_name(codec)
            ));
        }
        total = total.saturating_add(declared);
    }
    if total > limit {
        return Err(format!(
            "declares {total} bytes after decompression, more than this machine's {limit} bytes of memory"
        ));
    }
    Ok(())
}

/// The most bytes `compressed` bytes of `codec` can decompress to, with room for frame headers.
fn max_expansion(codec: CompressionType, compressed: u64) -> u64 {
    let (ratio, slack) = if codec == CompressionType::LZ4_FRAME { (256, 1 << 16) } else { (32_768, 1 << 17) };
    compressed.saturating_mul(ratio).saturating_add(slack)
}

fn codec_name(codec: CompressionType) -> &'static str {
    if codec == CompressionType::LZ4_FRAME { "LZ4" } else { "zstd" }
}

/// The cap on a batch's declared decompressed size: the machine's total physical memory (Linux
/// `/proc/meminfo`), or 1 TiB when it cannot be read.
pub(crate) fn physical_memory() -> u64 {
    super::meminfo("MemTotal:").unwrap_or(1 << 40)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Int64Array};

    use super::*;

    /// The bodies of the record batches of a stream of `column` written with `codec`, and each batch's
    /// metadata bytes.
    fn batches(column: ArrayRef, codec: CompressionType) -> Vec<(Vec<u8>, Vec<u8>)> {
        let batch = arrow_array::RecordBatch::try_from_iter([("x", column)]).unwrap();
        let options = arrow_ipc::writer::IpcWriteOptions::default().try_with_compression(Some(codec)).unwrap();
        let mut bytes = Vec::new();
        let mut w =
            arrow_ipc::writer::StreamWriter::try_new_with_options(&mut bytes, &batch.schema(), options).unwrap();
        w.write(&batch).unwrap();
        w.finish().unwrap();
        drop(w);
        let (mut at, mut out) = (0, Vec::new());
        while at + 8 <= bytes.len() {
            let len = i32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
            if len == 0 {
                break;
            }
            let meta = bytes[at + 8..at + 8 + len].to_vec();
            let body_len = arrow_ipc::root_as_message(&meta).unwrap().bodyLength() as usize;
            let body = bytes[at + 8 + len..at + 8 + len + body_len].to_vec();
            out.push((meta, body));
            at += 8 + len + body_len;
        }
        out
    }

    #[test]
    fn the_densest_real_inputs_pass_and_impossible_declarations_do_not() {
        // Eight megabytes of zeros compress further than any real data: both codecs' bounds must allow it.
        let zeros: ArrayRef = Arc::new(Int64Array::from(vec![0i64; 1 << 20]));
        for codec in [CompressionType::LZ4_FRAME, CompressionType::ZSTD] {
            for (meta, mut body) in batches(zeros.clone(), codec) {
                let message = arrow_ipc::root_as_message(&meta).unwrap();
                let Some(batch) = message.header_as_record_batch() else { continue };
                assert_eq!(check_declared(&batch, &body, u64::MAX), Ok(()), "{codec:?}");
                assert!(check_declared(&batch, &body, 1000).unwrap_err().contains("more than this machine's"));
                // The data buffer claims 20 GiB: more than its compressed bytes can hold in either format.
                let data = batch.buffers().unwrap().iter().find(|b| b.length() >= 8).unwrap();
                let at = data.offset() as usize;
                body[at..at + 8].copy_from_slice(&(20i64 << 30).to_le_bytes());
                let err = check_declared(&batch, &body, u64::MAX).unwrap_err();
                assert!(err.contains("more than the format can expand them to"), "{codec:?}: {err}");
            }
        }
    }
}
