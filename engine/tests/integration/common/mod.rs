//! Shared test helpers: exact reference statistics in big-integer arithmetic, in-memory stores, and where
//! the golden test data lives.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{Field, Schema};
use num_bigint::BigInt;
use num_traits::{Signed, ToPrimitive, Zero};
use tally_engine::exec::ExecutorKind;
use tally_engine::store::{Origin, Store};
use tally_engine::{DescribeOptions, RunOptions};

/// `num / den · 2^-pow2` as f64, within one ulp (64 quotient bits, then one rounding).
pub fn ratio_to_f64(num: &BigInt, den: &BigInt, pow2: i64) -> f64 {
    if num.is_zero() {
        return 0.0;
    }
    let k = 64 + den.bits() as i64 - num.abs().bits() as i64;
    let q = if k >= 0 { (num << k as usize) / den } else { num / (den << (-k) as usize) };
    q.to_f64().expect("64-bit quotient") * 2f64.powi((-k - pow2) as i32)
}

/// Exact moments of finite values: `(mean, var(ddof), skewness, kurtosis)`, each within ~1 ulp of the
/// true real-number result. Every f64 is `m·2^e`; scaling all by `2^s` makes them integers.
pub struct ExactMoments {
    pub n: u64,
    pub mean: f64,
    pub var: Option<f64>,
    pub skewness: Option<f64>,
    pub kurtosis: Option<f64>,
}

fn decompose(x: f64) -> (i64, i64) {
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7FF) as i64;
    let frac = (bits & ((1 << 52) - 1)) as i64;
    let (m, e) = if exp == 0 { (frac, -1074) } else { (frac | (1 << 52), exp - 1075) };
    (if x.is_sign_negative() { -m } else { m }, e)
}

pub fn exact_moments(xs: &[f64], ddof: u64) -> ExactMoments {
    assert!(!xs.is_empty() && xs.iter().all(|x| x.is_finite()));
    let parts: Vec<(i64, i64)> = xs.iter().map(|&x| decompose(x)).collect();
    let s = parts.iter().map(|&(_, e)| -e).max().unwrap().max(0);
    let ints: Vec<BigInt> = parts.iter().map(|&(m, e)| BigInt::from(m) << (e + s) as usize).collect();
    exact_moments_of_ints(&ints, s, ddof)
}

/// Moments of `ints[i] · 2^-s`.
pub fn exact_moments_of_ints(ints: &[BigInt], s: i64, ddof: u64) -> ExactMoments {
    let n = ints.len() as u64;
    let nb = BigInt::from(n);
    let sum: BigInt = ints.iter().sum();
    // Deviations scaled by n: n·x − Σx, all exact integers.
    let dev: Vec<BigInt> = ints.iter().map(|x| &nb * x - &sum).collect();
    let a2: BigInt = dev.iter().map(|d| d * d).sum();
    let a3: BigInt = dev.iter().map(|d| d * d * d).sum();
    let a4: BigInt = dev.iter().map(|d| d * d * d * d).sum();
    let mean = ratio_to_f64(&sum, &nb, s);
    // M2 = a2 / n² (in units 2^-2s); var = M2 / (n - ddof).
    let var = (n > ddof).then(|| ratio_to_f64(&a2, &(&nb * &nb * BigInt::from(n - ddof)), 2 * s));
    let (skewness, kurtosis) = if a2.is_zero() {
        (None, None)
    } else {
        // g1 = sqrt(n) M3 / M2^1.5 = sqrt(n) a3 / a2^1.5 (the powers of n and 2^s cancel).
        let (a2f, a3f) = (ratio_to_f64(&a2, &BigInt::from(1), 0), ratio_to_f64(&a3, &BigInt::from(1), 0));
        let g1 = (n as f64).sqrt() * a3f / a2f.powf(1.5);
        // g2 = n M4 / M2² − 3 = n a4 / a2² − 3, computed as an exact ratio.
        let g2 = ratio_to_f64(&(&nb * &a4 - BigInt::from(3) * &a2 * &a2), &(&a2 * &a2), 0);
        (Some(g1), Some(g2))
    };
    ExactMoments { n, mean, var, skewness, kurtosis }
}

/// `|a − b|` in units of the last place of `b`.
pub fn ulps(a: f64, b: f64) -> f64 {
    if a == b {
        return 0.0;
    }
    let ulp = f64::from_bits(b.abs().to_bits() + 1) - b.abs();
    ((a - b) / ulp).abs()
}

/// An in-memory store of the given column batches (each inner Vec is one record batch).
pub fn store_of(names: &[&str], batches: Vec<Vec<ArrayRef>>) -> Store {
    let fields: Vec<Field> =
        names.iter().zip(&batches[0]).map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect();
    let schema = Arc::new(Schema::new(fields));
    let batches = batches.into_iter().map(|cols| RecordBatch::try_new(schema.clone(), cols).unwrap()).collect();
    Store::try_new("memory".into(), schema, batches, 0..0, 0, Origin::File("memory".into())).unwrap()
}

/// Describe options of every column, run by `executor` with `workers` over chunks of `chunk_rows`.
pub fn options_of(executor: ExecutorKind, workers: usize, chunk_rows: u64, exact: bool, ddof: u64) -> DescribeOptions {
    let run = RunOptions { executor, workers, chunk_rows: Some(chunk_rows), ..RunOptions::default() };
    DescribeOptions { columns: None, exact, ddof, run }
}

/// `batch` as an Arrow IPC stream compressed with `codec`, where the last buffer of the first dictionary
/// batch (`dictionary`) or record batch declares `declared` decompressed bytes: a hostile or corrupt stream
/// that is otherwise valid.
pub fn stream_declaring(
    batch: &RecordBatch,
    codec: arrow_ipc::CompressionType,
    dictionary: bool,
    declared: i64,
) -> Vec<u8> {
    let options = arrow_ipc::writer::IpcWriteOptions::default().try_with_compression(Some(codec)).unwrap();
    let mut bytes = Vec::new();
    let mut w = arrow_ipc::writer::StreamWriter::try_new_with_options(&mut bytes, &batch.schema(), options).unwrap();
    w.write(batch).unwrap();
    w.finish().unwrap();
    drop(w);
    // Walk the framing: [FFFFFFFF] <len> <metadata> <body>, to the batch.
    let mut at = 0usize;
    loop {
        let len = i32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        let message = arrow_ipc::root_as_message(&bytes[at + 8..at + 8 + len]).unwrap();
        let body = at + 8 + len;
        let target = if dictionary {
            message.header_as_dictionary_batch().and_then(|d| d.data())
        } else {
            message.header_as_record_batch()
        };
        if let Some(target) = target {
            let buffer = target.buffers().unwrap().iter().rfind(|b| b.length() >= 8).unwrap();
            let p = body + buffer.offset() as usize;
            bytes[p..p + 8].copy_from_slice(&declared.to_le_bytes());
            return bytes;
        }
        at = body + message.bodyLength() as usize;
    }
}

/// The workspace root (cargo runs each test with its crate directory as the working directory).
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("engine/ is inside the workspace").to_path_buf()
}

/// The golden test data directory: `$TALLY_TESTDATA`, a relative value taken from the workspace root (as
/// README's `TALLY_TESTDATA=../shared/testdata cargo test` means it, issue 6 item 4); when unset,
/// `../shared/testdata` beside the workspace if it exists. `None` when there is none.
/// With `CI` set, the variable must be (issue 11 item 8: the golden tests fail there instead of finding, or
/// not finding, a directory by convention).
pub fn testdata_dir() -> Option<std::path::PathBuf> {
    let var = std::env::var_os("TALLY_TESTDATA").map(std::path::PathBuf::from);
    assert!(var.is_some() || std::env::var_os("CI").is_none(), "CI is set but TALLY_TESTDATA is not (.ci/run sets it)");
    resolve_testdata(var, &workspace_root())
}

/// [`testdata_dir`] for a given variable value and root (separate so it can be tested).
pub fn resolve_testdata(var: Option<std::path::PathBuf>, root: &std::path::Path) -> Option<std::path::PathBuf> {
    match var {
        Some(dir) if dir.is_absolute() => Some(dir),
        Some(dir) => Some(root.join(dir)),
        None => Some(root.join("../shared/testdata")).filter(|d| d.is_dir()),
    }
}

/// Writes `batches` as an Arrow IPC file at `path`, batch boundaries kept.
pub fn write_arrow(path: &std::path::Path, batches: &[RecordBatch]) {
    let mut w =
        arrow_ipc::writer::FileWriter::try_new(std::fs::File::create(path).unwrap(), &batches[0].schema()).unwrap();
    for b in batches {
        w.write(b).unwrap();
    }
    w.finish().unwrap();
}
