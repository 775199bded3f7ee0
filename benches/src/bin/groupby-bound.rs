//! How fast `count, mean(a)` grouped by `k1` and by `k2` can go on this machine without tally's
//! guarantees: the yardstick for issue 10's speed targets (benches/README.md, "Group-by: the bound").
//!
//! `cargo run --release -p tally-benches --bin groupby-bound -- FILE` on a `tally gen` file. The columns
//! are mapped once (zero-copy, pages warmed by a first pass) and each kernel runs 7 times per thread count
//! in this process: no process start, no workers, no partial states, no merge order, plain compensated
//! sums in whatever order rows arrive (bits that change with the thread count), no nulls, no NaN checks.
//! - `k1`: a direct array of 1,000 groups per thread, then the threads' arrays added up.
//! - `k2 partitioned`: radix-partitioned aggregation, the layout of DuckDB and of tally's sorted
//!   partitions: each thread hashes a batch of rows, scatters them into [`PARTITIONS`] partitions, then
//!   aggregates partition by partition into small linear-probing tables (key and accumulators inline)
//!   that persist across batches; the threads' tables are then merged partition by partition, in
//!   parallel. The constants are the best of a sweep (benches/README.md).
//! - `k2 dense ids`: a floor no engine reaches, a perfect hash that costs nothing: every key is replaced
//!   by its group's dense id beforehand (not timed), and rows add into one array of a million groups.
//!
//! Written by hand: a measuring stick, not an engine path.

use std::hash::BuildHasher;
use std::path::PathBuf;
use std::time::Instant;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type};
use foldhash::fast::FixedState;
use tally_engine::stats::float_sum::CompensatedSum;

/// A group's count and compensated sum: the least that `count, mean(a)` needs, with the engine's own
/// compensated sum (its group accumulators' branch-free step), so the arithmetic is tally's.
#[derive(Clone, Copy, Default)]
struct Acc {
    count: u64,
    sum: CompensatedSum,
}

impl Acc {
    #[inline(always)]
    fn add(&mut self, x: f64) {
        self.count += 1;
        self.sum.add_branch_free(x);
    }

    fn merge(&mut self, other: &Acc) {
        self.count += other.count;
        self.sum.merge(&other.sum);
    }
}

const PARTITION_BITS: u32 = 10;
const PARTITIONS: usize = 1 << PARTITION_BITS;
/// Rows a thread scatters before aggregating them (4,096 rows a partition).
const BATCH: usize = 1 << 22;
/// Slots of a partition's table: about 1,000 groups each (a million over [`PARTITIONS`]), about half full.
const SLOTS: usize = 2048;

fn partition(hash: u64) -> usize {
    (hash >> (64 - PARTITION_BITS)) as usize
}

/// One partition's groups: open addressing, linear probing, the key beside its accumulators.
#[derive(Clone)]
struct Table {
    slots: Vec<(i64, bool, Acc)>,
    len: usize,
}

impl Table {
    fn new() -> Table {
        Table { slots: vec![(0, false, Acc::default()); SLOTS], len: 0 }
    }

    /// The accumulators of `key` (hash `h`), inserted empty if new.
    #[inline(always)]
    fn entry(&mut self, key: i64, h: u64) -> &mut Acc {
        let mask = self.slots.len() - 1;
        let mut i = (h as usize) & mask;
        while self.slots[i].1 && self.slots[i].0 != key {
            i = (i + 1) & mask;
        }
        if !self.slots[i].1 {
            assert!(
                self.len < SLOTS * 7 / 8,
                "a partition outgrew its table: more groups than this yardstick is sized for"
            );
            self.slots[i] = (key, true, Acc::default());
            self.len += 1;
        }
        &mut self.slots[i].2
    }
}

fn k1_thread(keys: &[&[i32]], values: &[&[f64]]) -> Vec<Acc> {
    // Slot 1000 collects keys outside 0..1000, which `main` refuses.
    let mut groups = vec![Acc::default(); 1001];
    for (keys, values) in keys.iter().zip(values) {
        for (&k, &x) in keys.iter().zip(*values) {
            groups[(k as u32).min(1000) as usize].add(x);
        }
    }
    groups
}

fn k2_thread(keys: &[&[i64]], values: &[&[f64]], hasher: &FixedState) -> Vec<Table> {
    let mut tables = vec![Table::new(); PARTITIONS];
    let mut hashes = vec![0u64; BATCH];
    let mut scattered = vec![(0i64, 0f64, 0u64); BATCH];
    let batches = keys.iter().zip(values).flat_map(|(k, v)| k.chunks(BATCH).zip(v.chunks(BATCH)));
    for (keys, values) in batches {
        for (h, &k) in hashes.iter_mut().zip(keys) {
            *h = hasher.hash_one(k);
        }
        let hashes = &hashes[..keys.len()];
        let mut starts = vec![0usize; PARTITIONS + 1];
        for &h in hashes {
            starts[partition(h) + 1] += 1;
        }
        for p in 0..PARTITIONS {
            starts[p + 1] += starts[p];
        }
        let mut next = starts.clone();
        for ((&k, &x), &h) in keys.iter().zip(values).zip(hashes) {
            let p = partition(h);
            scattered[next[p]] = (k, x, h);
            next[p] += 1;
        }
        for (p, table) in tables.iter_mut().enumerate() {
            for &(k, x, h) in &scattered[starts[p]..starts[p + 1]] {
                table.entry(k, h).add(x);
            }
        }
    }
    tables
}

/// Splits `columns` (one slice per record batch) into `threads` runs of whole batches of about equal rows.
fn shares<'a, T>(columns: &[&'a [T]], threads: usize) -> Vec<Vec<&'a [T]>> {
    let total: usize = columns.iter().map(|c| c.len()).sum();
    let mut out = vec![Vec::new(); threads];
    let mut seen = 0;
    for c in columns {
        out[(seen * threads / total.max(1)).min(threads - 1)].push(*c);
        seen += c.len();
    }
    out
}

/// The median time of 7 runs, and what the last one returned.
fn median_of_7(mut run: impl FnMut() -> usize) -> (f64, usize) {
    let mut times = Vec::new();
    let mut groups = 0;
    for _ in 0..7 {
        let start = Instant::now();
        groups = run();
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    (times[3], groups)
}

/// Groups by `k1`; `usize::MAX` if a key lies outside 0..1000.
fn k1(keys: &[Vec<&[i32]>], values: &[Vec<&[f64]>]) -> usize {
    let parts: Vec<Vec<Acc>> = std::thread::scope(|s| {
        let handles: Vec<_> = keys.iter().zip(values).map(|(k, a)| s.spawn(move || k1_thread(k, a))).collect();
        handles.into_iter().map(|h| h.join().expect("k1 thread")).collect()
    });
    let mut total = parts[0].clone();
    for part in &parts[1..] {
        total.iter_mut().zip(part).for_each(|(t, p)| t.merge(p));
    }
    if total[1000].count > 0 { usize::MAX } else { total.iter().filter(|g| g.count > 0).count() }
}

fn k2_partitioned(keys: &[Vec<&[i64]>], values: &[Vec<&[f64]>], hasher: &FixedState) -> usize {
    let mut parts: Vec<Vec<Table>> = std::thread::scope(|s| {
        let handles: Vec<_> = keys.iter().zip(values).map(|(k, a)| s.spawn(move || k2_thread(k, a, hasher))).collect();
        handles.into_iter().map(|h| h.join().expect("k2 thread")).collect()
    });
    let mut first = parts.remove(0);
    let per = PARTITIONS.div_ceil(keys.len());
    std::thread::scope(|s| {
        for (t, mine) in first.chunks_mut(per).enumerate() {
            let others = &parts;
            s.spawn(move || {
                for (j, table) in mine.iter_mut().enumerate() {
                    for (key, _, acc) in others.iter().flat_map(|o| o[t * per + j].slots.iter()).filter(|s| s.1) {
                        table.entry(*key, hasher.hash_one(*key)).merge(acc);
                    }
                }
            });
        }
    });
    first.iter().map(|t| t.len).sum()
}

fn k2_dense(ids: &[Vec<&[u32]>], values: &[Vec<&[f64]>], groups: usize) -> usize {
    let parts: Vec<Vec<Acc>> = std::thread::scope(|s| {
        let handles: Vec<_> = ids
            .iter()
            .zip(values)
            .map(|(ids, values)| {
                s.spawn(move || {
                    let mut accs = vec![Acc::default(); groups];
                    for (ids, values) in ids.iter().zip(values) {
                        for (&g, &x) in ids.iter().zip(*values) {
                            accs[g as usize].add(x);
                        }
                    }
                    accs
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("dense thread")).collect()
    });
    parts[0].iter().filter(|g| g.count > 0).count()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = PathBuf::from(std::env::args().nth(1).ok_or("usage: groupby-bound FILE (a `tally gen` file)")?);
    let file = tally_engine::source::open(&path)?;
    let index = |name: &str| file.schema().index_of(name);
    let (a, k1_index, k2_index) = (index("a")?, index("k1")?, index("k2")?);
    let store = file.into_store(&[a, k1_index, k2_index])?;
    let batches = store.batches();
    let a: Vec<&[f64]> = batches.iter().map(|b| &b.column(0).as_primitive::<Float64Type>().values()[..]).collect();
    let k1s: Vec<&[i32]> = batches.iter().map(|b| &b.column(1).as_primitive::<Int32Type>().values()[..]).collect();
    let k2s: Vec<&[i64]> = batches.iter().map(|b| &b.column(2).as_primitive::<Int64Type>().values()[..]).collect();
    let hasher = FixedState::with_seed(0x7a11);
    let mut dense_of = hashbrown::HashMap::with_hasher(hasher.clone());
    let dense: Vec<Vec<u32>> = k2s
        .iter()
        .map(|c| {
            c.iter()
                .map(|&k| {
                    let next = dense_of.len() as u32;
                    *dense_of.entry(k).or_insert(next)
                })
                .collect()
        })
        .collect();
    let dense: Vec<&[u32]> = dense.iter().map(|c| &c[..]).collect();
    // The first run faults the mapped pages in, as every fresh process (a tally worker) has to.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let start = Instant::now();
    let groups = k1(&shares(&k1s, cores), &shares(&a, cores));
    let first = start.elapsed().as_secs_f64();
    if groups == usize::MAX {
        return Err("k1 must lie in 0..1000, as `tally gen` writes it".into());
    }
    let warm = a.iter().flat_map(|c| c.iter()).sum::<f64>()
        + k1s.iter().flat_map(|c| c.iter()).map(|&k| f64::from(k)).sum::<f64>();
    std::hint::black_box(warm);
    let rows: usize = a.iter().map(|c| c.len()).sum();
    println!("{rows} rows of {}, {cores} cores; median of 7 in-process runs", path.display());
    println!("k1: first run, {cores} thread(s), pages faulted in: {:.1} ms ({groups} groups)", first * 1e3);
    for threads in 1..=cores {
        let values = shares(&a, threads);
        let (time, groups) = median_of_7(|| k1(&shares(&k1s, threads), &values));
        println!("k1: {threads} thread(s) {:.1} ms ({groups} groups)", time * 1e3);
        let (time, groups) = median_of_7(|| k2_partitioned(&shares(&k2s, threads), &values, &hasher));
        println!("k2 partitioned: {threads} thread(s) {:.1} ms ({groups} groups)", time * 1e3);
        let (time, groups) = median_of_7(|| k2_dense(&shares(&dense, threads), &values, dense_of.len()));
        println!(
            "k2 dense ids: {threads} thread(s) {:.1} ms ({groups} groups in the first thread's array)",
            time * 1e3
        );
    }
    Ok(())
}
