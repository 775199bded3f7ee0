//! `tally gen`: deterministic synthetic data for tests, examples and benchmarks.
//!
//! The schema is fixed so other tools can be compared on the same file:
//!
//! | column | type | values |
//! |---|---|---|
//! | `id` | int64 | 0..n |
//! | `a` | float64 | normal(0, 1) |
//! | `b` | float64 | lognormal(0, 1) |
//! | `c` | float64 | uniform [0, 1), 1% nulls |
//! | `d` | float64 | 1e9 + normal(0, 1): catastrophic cancellation for naive variance |
//! | `k1` | int32 | uniform in 0..1000 |
//! | `k2` | int64 | drawn from a fixed set of 1,000,000 random ids |
//!
//! Every (batch, column) pair has its own xoshiro256++ stream seeded from `(seed, batch, column)`, so the
//! bytes depend only on `rows`, `seed` and `batch_rows`, not on how many threads generate them.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int32Array, Int64Array, RecordBatch};
use arrow_buffer::{BooleanBuffer, NullBuffer};
use arrow_ipc::writer::FileWriter;
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, LogNormal, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::exec::Cancel;

/// Size and seed of a generated file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GenOptions {
    pub rows: u64,
    pub seed: u64,
    pub batch_rows: u64,
}

/// Number of distinct ids `k2` draws from.
pub const K2_DISTINCT: usize = 1_000_000;

/// The generated schema.
pub fn demo_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("a", DataType::Float64, false),
        Field::new("b", DataType::Float64, false),
        Field::new("c", DataType::Float64, true),
        Field::new("d", DataType::Float64, false),
        Field::new("k1", DataType::Int32, false),
        Field::new("k2", DataType::Int64, false),
    ]))
}

/// SplitMix64 finaliser: decorrelates the seeds of neighbouring streams.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn stream(seed: u64, batch: u64, column: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(mix(mix(mix(seed) ^ batch) ^ column))
}

/// The fixed id set of `k2` for a seed.
fn k2_ids(seed: u64) -> Vec<i64> {
    let mut rng = stream(seed, u64::MAX, 0);
    (0..K2_DISTINCT).map(|_| rng.random_range(0..i64::MAX)).collect()
}

fn floats(n: usize, mut rng: Xoshiro256PlusPlus, f: impl Fn(&mut Xoshiro256PlusPlus) -> f64) -> ArrayRef {
    Arc::new(Float64Array::from_iter_values((0..n).map(|_| f(&mut rng))))
}

/// Batch `b` of the demo data set, rows `start..start + n`.
pub fn demo_batch(seed: u64, b: u64, start: u64, n: usize, ids: &[i64]) -> RecordBatch {
    let normal = |r: &mut Xoshiro256PlusPlus| -> f64 { StandardNormal.sample(r) };
    let lognormal = LogNormal::new(0.0, 1.0).expect("valid parameters");
    let mut valid_rng = stream(seed, b, 7);
    let valid: BooleanBuffer = (0..n).map(|_| !valid_rng.random_bool(0.01)).collect();
    let mut c_rng = stream(seed, b, 3);
    let c_values: Vec<f64> = (0..n).map(|_| c_rng.random::<f64>()).collect();
    let c = Float64Array::new(c_values.into(), Some(NullBuffer::new(valid)));
    let mut k1_rng = stream(seed, b, 5);
    let mut k2_rng = stream(seed, b, 6);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(start as i64..(start as i64 + n as i64))),
        floats(n, stream(seed, b, 1), normal),
        floats(n, stream(seed, b, 2), |r| lognormal.sample(r)),
        Arc::new(c),
        floats(n, stream(seed, b, 4), |r| 1e9 + normal(r)),
        Arc::new(Int32Array::from_iter_values((0..n).map(|_| k1_rng.random_range(0..1000)))),
        Arc::new(Int64Array::from_iter_values((0..n).map(|_| ids[k2_rng.random_range(0..ids.len())]))),
    ];
    RecordBatch::try_new(demo_schema(), columns).expect("columns match the schema")
}

/// Writes the demo data set as an uncompressed Arrow IPC file; `progress` gets the rows written so far.
/// When `cancel` fires, the partial file is removed and `Cancelled` returned: nothing half-written stays.
pub fn write_demo(path: &Path, options: &GenOptions, cancel: &Cancel, progress: impl FnMut(u64)) -> Result<()> {
    let result = write_demo_file(path, options, cancel, progress);
    if result.is_err() {
        let _ = std::fs::remove_file(path);
    }
    result
}

fn write_demo_file(path: &Path, options: &GenOptions, cancel: &Cancel, mut progress: impl FnMut(u64)) -> Result<()> {
    if options.batch_rows == 0 {
        return Err(Error::input("--batch-rows must be at least 1"));
    }
    let io_err = |e: std::io::Error| Error::io(format!("{}: cannot write: {e}", path.display()), e);
    let arrow_err = |e: arrow_schema::ArrowError| Error::new(crate::ErrorKind::Io, format!("{}: {e}", path.display()));
    let file = File::create(path).map_err(io_err)?;
    let mut writer = FileWriter::try_new(BufWriter::with_capacity(1 << 20, file), &demo_schema()).map_err(arrow_err)?;
    let ids = k2_ids(options.seed);
    let n_batches = options.rows.div_ceil(options.batch_rows);
    // Generate a window of batches in parallel, write them in order: bounded memory, full cores.
    let window = 2 * rayon::current_num_threads() as u64;
    let mut done = 0u64;
    for first in (0..n_batches).step_by(window as usize) {
        cancel.check()?;
        let last = (first + window).min(n_batches);
        let batches: Vec<RecordBatch> = (first..last)
            .into_par_iter()
            .map(|b| {
                let start = b * options.batch_rows;
                let n = options.batch_rows.min(options.rows - start) as usize;
                demo_batch(options.seed, b, start, n, &ids)
            })
            .collect();
        for batch in &batches {
            writer.write(batch).map_err(arrow_err)?;
            done += batch.num_rows() as u64;
            progress(done);
        }
    }
    writer.finish().map_err(arrow_err)?;
    Ok(())
}
