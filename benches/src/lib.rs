//! Shared helpers of tally's benchmarks: in-memory stores of the demo data set.

use std::sync::Arc;

use tally_engine::generate::{demo_batch, demo_schema};
use tally_engine::plan::{Pass, Plan, StatEntry};
use tally_engine::stats::Stat;
use tally_engine::store::{Origin, Store};

/// Computes `pass` over every chunk of `plan`, discarding the partials: one benchmark iteration.
pub fn run_pass_once(plan: &Plan, pass: &Pass, store: &Store) {
    for chunk in &plan.chunks() {
        // In-memory stores are not lazily decoded: computing a chunk cannot fail.
        std::hint::black_box(tally_engine::kernel::compute_chunk(plan, pass, store, chunk).expect("in-memory store"));
    }
}

/// An in-memory store of `rows` demo rows in batches of `batch_rows`, its plan, and a describe pass of `columns`.
pub fn demo_store(rows: u64, batch_rows: u64, columns: &[&str], exact: bool) -> (Store, Plan, Pass) {
    let ids: Vec<i64> = (0..1000).collect();
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
