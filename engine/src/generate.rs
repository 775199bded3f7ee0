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
//! Values depend only on `rows` and `seed`, never on `batch_rows` (issue 6, item 12): rows are grouped in
//! fixed blocks of [`ROW_BLOCK`] rows, and every (block, column) pair has its own xoshiro256++ stream
//! seeded from `(seed, block, column)` (a counter-based scheme in the spirit of Salmon et al., "Parallel
//! random numbers: as easy as 1, 2, 3", SC 2011). A batch that starts inside a block replays that block's
//! stream up to its first row, so `--batch-rows` changes the file layout and never a value, and the bytes
//! do not depend on how many threads generate them.
//!
//! The file goes through [`crate::output::OutputFile`]: an interrupted or failed run leaves an existing
//! file untouched, and a file larger than the free disk space is refused before anything is written.

use std::io::Write;
use std::ops::Range;
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
use crate::output::{OutputFile, check_free_space};

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

/// Rows per random-number block: small enough that replaying a partial block at a batch boundary costs
/// little (at most 0.4% extra work with the default batches), large enough that seeding is noise.
pub const ROW_BLOCK: u64 = 4096;

fn stream(seed: u64, block: u64, column: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(mix(mix(mix(seed) ^ block) ^ column))
}

/// The fixed id set of `k2` for a seed.
fn k2_ids(seed: u64) -> Vec<i64> {
    let mut rng = stream(seed, u64::MAX, 0);
    (0..K2_DISTINCT).map(|_| rng.random_range(0..i64::MAX)).collect()
}

/// The values of `column` for `rows`: each block's stream from its first row, keeping the rows asked for.
fn values<T>(seed: u64, column: u64, rows: Range<u64>, mut f: impl FnMut(&mut Xoshiro256PlusPlus) -> T) -> Vec<T> {
    let mut out = Vec::with_capacity((rows.end - rows.start) as usize);
    if rows.is_empty() {
        return out;
    }
    for block in rows.start / ROW_BLOCK..=(rows.end - 1) / ROW_BLOCK {
        let mut rng = stream(seed, block, column);
        for row in block * ROW_BLOCK..((block + 1) * ROW_BLOCK).min(rows.end) {
            let v = f(&mut rng);
            if row >= rows.start {
                out.push(v);
            }
        }
    }
    out
}

fn floats(seed: u64, column: u64, rows: Range<u64>, f: impl FnMut(&mut Xoshiro256PlusPlus) -> f64) -> ArrayRef {
    Arc::new(Float64Array::from(values(seed, column, rows, f)))
}

/// Rows `start..start + n` of the demo data set, as one record batch.
pub fn demo_batch(seed: u64, start: u64, n: usize, ids: &[i64]) -> RecordBatch {
    let rows = start..start + n as u64;
    let normal = |r: &mut Xoshiro256PlusPlus| -> f64 { StandardNormal.sample(r) };
    let lognormal = LogNormal::new(0.0, 1.0).expect("valid parameters");
    let valid: BooleanBuffer = values(seed, 7, rows.clone(), |r| !r.random_bool(0.01)).into_iter().collect();
    let c_values = values(seed, 3, rows.clone(), |r| r.random::<f64>());
    let c = Float64Array::new(c_values.into(), Some(NullBuffer::new(valid)));
    let k1 = values(seed, 5, rows.clone(), |r| r.random_range(0..1000));
    let k2 = values(seed, 6, rows.clone(), |r| ids[r.random_range(0..ids.len())]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(start as i64..(start as i64 + n as i64))),
        floats(seed, 1, rows.clone(), normal),
        floats(seed, 2, rows.clone(), |r| lognormal.sample(r)),
        Arc::new(c),
        floats(seed, 4, rows, |r| 1e9 + normal(r)),
        Arc::new(Int32Array::from(k1)),
        Arc::new(Int64Array::from(k2)),
    ];
    RecordBatch::try_new(demo_schema(), columns).expect("columns match the schema")
}

/// An upper bound of the file size: 52 value bytes and one validity bit per row, plus per-batch message
/// metadata and 64-byte buffer padding, plus the header, schema and footer.
pub fn estimated_bytes(options: &GenOptions) -> u128 {
    let rows = u128::from(options.rows);
    let batches = rows.div_ceil(u128::from(options.batch_rows.max(1)));
    rows * 52 + rows.div_ceil(8) + batches * (1024 + 8 * 64 + 16) + 4096
}

/// Writes the demo data set as an uncompressed Arrow IPC file; `progress` gets the rows written so far.
/// Refuses a file larger than the free space of the target filesystem; on any error or when `cancel`
/// fires, an existing file at `path` is left as it was and no temporary file stays behind.
pub fn write_demo(path: &Path, options: &GenOptions, cancel: &Cancel, progress: impl FnMut(u64)) -> Result<()> {
    if options.batch_rows == 0 {
        return Err(Error::input("--batch-rows must be at least 1"));
    }
    check_free_space(path, estimated_bytes(options))?;
    if options.rows > i64::MAX as u64 {
        return Err(Error::input(format!("--rows must be at most {} (the id column is an int64)", i64::MAX)));
    }
    let mut out = OutputFile::create(path, &[])?;
    write_demo_to(out.writer(), options, cancel, progress).map_err(|e| e.with_file(path))?;
    out.commit()
}

/// Writes the demo data set to `out` (see [`write_demo`]).
pub fn write_demo_to(
    out: &mut dyn Write,
    options: &GenOptions,
    cancel: &Cancel,
    mut progress: impl FnMut(u64),
) -> Result<()> {
    if options.batch_rows == 0 {
        return Err(Error::input("--batch-rows must be at least 1"));
    }
    let arrow_err = |e: arrow_schema::ArrowError| Error::new(crate::ErrorKind::Io, format!("cannot write: {e}"));
    let mut writer = FileWriter::try_new(out, &demo_schema()).map_err(arrow_err)?;
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
                demo_batch(options.seed, start, n, &ids)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_do_not_depend_on_where_batches_start() {
        let ids = k2_ids(3);
        let whole = demo_batch(3, 0, 10_000, &ids);
        for cut in [1u64, 4095, 4096, 4097, 9999] {
            let a = demo_batch(3, 0, cut as usize, &ids);
            let b = demo_batch(3, cut, 10_000 - cut as usize, &ids);
            assert_eq!(a, whole.slice(0, cut as usize), "cut at {cut}");
            assert_eq!(b, whole.slice(cut as usize, 10_000 - cut as usize), "cut at {cut}");
        }
    }

    #[test]
    fn the_size_estimate_bounds_real_files() {
        for (rows, batch_rows) in [(0u64, 10u64), (1, 1), (10_000, 333), (50_000, 50_000)] {
            let options = GenOptions { rows, seed: 1, batch_rows };
            let mut bytes = Vec::new();
            write_demo_to(&mut bytes, &options, &Cancel::default(), |_| {}).unwrap();
            let estimate = estimated_bytes(&options);
            assert!(bytes.len() as u128 <= estimate, "{rows}/{batch_rows}: {} > {estimate}", bytes.len());
            assert!(estimate <= bytes.len() as u128 * 2 + 8192, "{rows}/{batch_rows}: {estimate} too loose");
        }
    }
}
