//! Shared helpers of tally's benchmarks: in-memory stores of the demo data set, their sizes in bytes, and the
//! criterion loop every kernel benchmark shares ([`bench_kernels`]).

use std::sync::Arc;

use criterion::{Criterion, Throughput};

use tally_engine::generate::{demo_batch, demo_schema};
use tally_engine::plan::{Pass, Plan, StatEntry};
use tally_engine::stats::Stat;
use tally_engine::store::{Origin, Store};

/// Distinct `k2` ids of `tally gen` (`generate::K2_DISTINCT`): the high-cardinality key of the benchmarks.
pub const K2_DISTINCT: usize = tally_engine::generate::K2_DISTINCT;

/// Computes `pass` over every chunk of `plan`, discarding the partials: one benchmark iteration.
pub fn run_pass_once(plan: &Plan, pass: &Pass, store: &Store) {
    for chunk in &plan.chunks() {
        // In-memory stores are not lazily decoded: computing a chunk cannot fail.
        std::hint::black_box(tally_engine::kernel::compute_chunk(plan, pass, store, chunk).expect("in-memory store"));
    }
}

/// `k2` ids as `tally gen` spreads them (its id set is private to the generator): `distinct` odd-constant
/// multiples, so a hash table sees keys as scattered as random ones. Distinct: multiplication by an odd
/// constant is a bijection mod 2^64, and clearing the sign bit could only merge two ids 2^63 apart.
pub fn k2_ids(distinct: usize) -> Vec<i64> {
    (0..distinct as u64).map(|i| (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 1) as i64).collect()
}

/// An in-memory store of `rows` demo rows in batches of `batch_rows`, its plan, and a describe pass of `columns`.
/// `k2` draws from 1,000 ids here; [`demo_store_keys`] chooses.
pub fn demo_store(rows: u64, batch_rows: u64, columns: &[&str], exact: bool) -> (Store, Plan, Pass) {
    demo_store_keys(rows, batch_rows, columns, exact, 1000)
}

/// As [`demo_store`], with `k2` drawn from `k2_distinct` ids ([`K2_DISTINCT`] as in `tally gen`).
pub fn demo_store_keys(
    rows: u64,
    batch_rows: u64,
    columns: &[&str],
    exact: bool,
    k2_distinct: usize,
) -> (Store, Plan, Pass) {
    let ids = k2_ids(k2_distinct);
    let schema = demo_schema();
    let batches: Vec<_> = (0..rows.div_ceil(batch_rows))
        .map(|b| {
            let start = b * batch_rows;
            demo_batch(1, start, batch_rows.min(rows - start) as usize, &ids)
        })
        .collect();
    let names: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
    let source = Plan::try_with_names(&schema, Some(&names), rows, tally_engine::plan::DEFAULT_CHUNK_ROWS)
        .expect("demo columns exist");
    let projected: Vec<_> =
        batches.iter().map(|b| b.project(&source.projection()).expect("valid projection")).collect();
    let schema = Arc::new(schema.project(&source.projection()).expect("valid projection"));
    let all: Vec<usize> = (0..columns.len()).collect();
    let plan = Plan::try_new(&schema, &all, rows, tally_engine::plan::DEFAULT_CHUNK_ROWS).expect("valid plan");
    let store = Store::try_new("memory".into(), schema, projected, 0..0, 0, Origin::File("memory".into()))
        .expect("consistent batches");
    let entries = all.iter().map(|&c| StatEntry { columns: vec![c], stat: Stat::Describe { exact } }).collect();
    (store, plan, Pass { id: 0, entries })
}

/// Bytes of column values a pass over `columns` of `store` reads (validity bitmaps left out): what
/// `Throughput::Bytes` is set to, so every kernel reports GB/s comparable with the `membw` ceiling.
pub fn value_bytes(store: &Store, columns: &[usize]) -> u64 {
    let schema = store.schema();
    let width: usize = columns.iter().map(|&c| schema.field(c).data_type().primitive_width().unwrap_or(0)).sum();
    store.num_rows() * width as u64
}

/// One kernel benchmark: its name, the demo columns it reads and the statistic computed over all of them
/// (one pass entry).
pub type KernelCase<'a> = (&'a str, &'a [&'a str], Stat);

/// Benchmarks each case in group `group`: `rows` in-memory demo rows (`k2` drawn from `k2_distinct` ids), one
/// pass of the case's statistic over every chunk, throughput in bytes of the columns' values.
pub fn bench_kernels(c: &mut Criterion, group: &str, rows: u64, k2_distinct: usize, cases: Vec<KernelCase<'_>>) {
    let mut group = c.benchmark_group(group);
    for (name, columns, stat) in cases {
        let (store, plan, _) = demo_store_keys(rows, 1_000_000, columns, false, k2_distinct);
        let all: Vec<usize> = (0..columns.len()).collect();
        group.throughput(Throughput::Bytes(value_bytes(&store, &all)));
        let pass = Pass { id: 0, entries: vec![StatEntry { columns: all, stat }] };
        group.bench_function(name, |b| b.iter(|| run_pass_once(&plan, &pass, &store)));
    }
    group.finish();
}
