//! Criterion benchmark of each executor's overhead per chunk: `serial`, `threads` and `processes` running a
//! describe of one float64 column over tiny chunks (1,024 rows: the kernel's share is ~1 µs), so the time
//! per chunk is scheduling, transport (for processes: a task frame to the worker and its ~500-byte partial
//! back over a pipe) and the caller's callback.
//!
//! `cargo bench -p tally-benches --bench executor`. `tally gen` files of 256 and 16 chunks are written to a
//! temporary directory (removed at the end); workers map them, as `tally describe` workers do. Two groups:
//! - `executor_pass`: one pass over 256 chunks in a started session (workers already up): throughput in
//!   chunks per second, i.e. the inverse of the per-chunk overhead.
//! - `executor_session`: start the session, one pass over 16 chunks, close it: what a whole small run pays
//!   (worker processes spawned, input opened by each, reaped).

use std::ffi::OsString;
use std::path::Path;

use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main, measurement::WallTime};
use tally_engine::exec::processes::WorkerCommand;
use tally_engine::exec::{Cancel, ExecOptions, ExecutorKind};
use tally_engine::generate::{GenOptions, write_demo};
use tally_engine::plan::{Pass, Plan, StatEntry};
use tally_engine::source::{InputOptions, open_for_run};
use tally_engine::stats::Stat;
use tally_engine::store::Store;

const CHUNK_ROWS: u64 = 1024;
const WORKERS: usize = 2;

/// A generated file of `chunks` chunks in `dir`, opened: the plan of column `a` and its store.
fn open(dir: &Path, chunks: u64) -> (Plan, Store) {
    let path = dir.join(format!("tiny-chunks-{chunks}.arrow"));
    let options = GenOptions { rows: chunks * CHUNK_ROWS, seed: 1, batch_rows: 65_536 };
    write_demo(&path, &options, &Cancel::default(), |_| {}).expect("demo file written");
    let input = open_for_run(&path, &InputOptions::default(), &Cancel::default()).expect("generated file opens");
    let schema = input.schema();
    let a = schema.index_of("a").expect("demo column a");
    let plan = Plan::try_new(&schema, &[a], chunks * CHUNK_ROWS, CHUNK_ROWS).expect("valid plan");
    let store = input.into_store(&plan.projection()).expect("store of column a");
    (plan, store)
}

fn options() -> ExecOptions {
    let worker = WorkerCommand::new(env!("CARGO_BIN_EXE_tally-worker").into(), Vec::<OsString>::new());
    ExecOptions { workers: WORKERS, worker_command: Some(worker), ..ExecOptions::default() }
}

const KINDS: [(&str, ExecutorKind); 3] =
    [("serial", ExecutorKind::Serial), ("threads", ExecutorKind::Threads), ("processes", ExecutorKind::Processes)];

fn pass() -> Pass {
    Pass { id: 0, entries: vec![StatEntry { columns: vec![0], stat: Stat::Describe { exact: false } }] }
}

fn run_pass(session: &mut dyn tally_engine::exec::Session, pass: &Pass) {
    session
        .run_pass(pass, &mut |_, partial| {
            std::hint::black_box(partial);
            Ok(())
        })
        .expect("pass over the generated file");
}

fn per_chunk(group: &mut BenchmarkGroup<'_, WallTime>, dir: &Path) {
    let chunks = 256;
    let (plan, store) = open(dir, chunks);
    group.throughput(Throughput::Elements(chunks));
    let pass = pass();
    for (name, kind) in KINDS {
        let executor = kind.build(&options()).expect("executor");
        let mut session = executor.start(&plan, &store).expect("session starts");
        group.bench_function(name, |b| b.iter(|| run_pass(session.as_mut(), &pass)));
        session.close();
    }
}

fn per_session(group: &mut BenchmarkGroup<'_, WallTime>, dir: &Path) {
    let (plan, store) = open(dir, 16);
    let pass = pass();
    for (name, kind) in KINDS {
        let executor = kind.build(&options()).expect("executor");
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut session = executor.start(&plan, &store).expect("session starts");
                run_pass(session.as_mut(), &pass);
                std::hint::black_box(session.close());
            })
        });
    }
}

fn executors(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    per_chunk(&mut c.benchmark_group("executor_pass"), dir.path());
    per_session(&mut c.benchmark_group("executor_session"), dir.path());
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = executors
}
criterion_main!(benches);
