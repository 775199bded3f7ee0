//! Issue 12, item 1: every executor fills the time split of [`ExecReport`] (spawn, open, compute, merge,
//! per-worker busy time), the scanned bytes and the pinning it did. Times are only checked for their
//! relations (parts within the whole), never for speed.

use tally_engine::analysis::DescribeRequest;
use tally_engine::exec::{Cancel, ExecutorKind, pin};
use tally_engine::generate::{GenOptions, write_demo};
use tally_engine::{Analysis, RunOptions, run};

fn describe_ab() -> Analysis {
    Analysis::Describe(DescribeRequest {
        columns: Some(vec!["a".into(), "b".into()]),
        exact: false,
        ddof: 1,
        quantiles: Vec::new(),
    })
}

#[test]
fn serial_and_threads_split_their_time_and_count_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.arrow");
    write_demo(&path, &GenOptions { rows: 20_000, seed: 1, batch_rows: 6_000 }, &Cancel::default(), |_| {}).unwrap();
    for (executor, workers) in [(ExecutorKind::Serial, 1), (ExecutorKind::Threads, 3)] {
        let options = RunOptions { executor, workers, chunk_rows: Some(3_000), ..RunOptions::default() };
        let e = run(&path, &describe_ab(), &options).unwrap().exec;
        assert_eq!((e.chunks, e.passes, e.workers, e.spawned), (7, 1, workers, 0), "{executor:?}");
        // two f64 columns of 20000 rows, one pass
        assert_eq!(e.scanned_bytes, 20_000 * 16, "{executor:?}");
        assert_eq!(e.busy.len(), workers, "{executor:?}");
        assert!(e.busy.iter().sum::<std::time::Duration>() > std::time::Duration::ZERO, "{e:?}");
        assert!(e.busy.iter().all(|&b| b <= e.compute), "a worker is busy within the passes: {e:?}");
        assert!(e.open > std::time::Duration::ZERO && e.compute > std::time::Duration::ZERO, "{e:?}");
        assert_eq!(e.elapsed, e.spawn + e.compute, "{executor:?}");
        assert!(e.pinned.is_empty());
    }
}

#[test]
fn a_quantile_run_counts_the_bytes_of_every_pass() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.arrow");
    write_demo(&path, &GenOptions { rows: 5_000, seed: 2, batch_rows: 5_000 }, &Cancel::default(), |_| {}).unwrap();
    let analysis = Analysis::Describe(DescribeRequest {
        columns: Some(vec!["a".into()]),
        exact: false,
        ddof: 1,
        quantiles: vec!["0.5".into()],
    });
    let options = RunOptions { executor: ExecutorKind::Serial, chunk_rows: Some(1_000), ..RunOptions::default() };
    let e = run(&path, &analysis, &options).unwrap().exec;
    assert!(e.passes > 1, "exact quantiles take several passes: {e:?}");
    assert_eq!(e.scanned_bytes, 5_000 * 8 * e.passes as u64);
}

#[test]
fn pinned_threads_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.arrow");
    write_demo(&path, &GenOptions { rows: 10_000, seed: 1, batch_rows: 10_000 }, &Cancel::default(), |_| {}).unwrap();
    let cpus = pin::allowed_cpus().unwrap();
    let options = RunOptions {
        executor: ExecutorKind::Threads,
        workers: 2,
        chunk_rows: Some(2_000),
        pin: cpus.clone(),
        ..RunOptions::default()
    };
    let e = run(&path, &describe_ab(), &options).unwrap().exec;
    let want: Vec<(usize, usize)> = (0..2).map(|w| (w, cpus[w % cpus.len()])).collect();
    assert_eq!(e.pinned, want);
}

/// Without `--chunk-rows` each analysis takes its default: grouped analyses an eighth of the rows (within
/// 2^20..2^24, `plan::grouped_chunk_rows`), the others 2^20; the report says which rows per chunk ran.
#[test]
fn each_analysis_takes_its_default_chunk_rows_unless_told() {
    use tally_engine::analysis::{DistinctRequest, GroupByRequest, TopRequest};
    use tally_engine::plan::DEFAULT_CHUNK_ROWS;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.arrow");
    write_demo(&path, &GenOptions { rows: 4_000, seed: 3, batch_rows: 1_500 }, &Cancel::default(), |_| {}).unwrap();
    let schema = tally_engine::source::open(&path).unwrap().schema().clone();
    let groupby = Analysis::GroupBy(GroupByRequest {
        by: vec!["k1".into()],
        aggs: Vec::new(),
        sort: None,
        desc: false,
        limit: None,
        ddof: 1,
        memory_limit: None,
    });
    let distinct =
        |approx| Analysis::Distinct(DistinctRequest { columns: vec!["k2".into()], approx, memory_limit: None });
    let top = Analysis::Top(TopRequest { column: "k2".into(), k: 3, memory_limit: None });
    let eighth = 50_000_000u64.div_ceil(8).next_multiple_of(1 << 16);
    for (analysis, want) in [
        (&describe_ab(), DEFAULT_CHUNK_ROWS),
        (&distinct(true), DEFAULT_CHUNK_ROWS),
        (&groupby, eighth),
        (&distinct(false), eighth),
        (&top, eighth),
    ] {
        let job = analysis.validate(&schema).unwrap();
        assert_eq!(job.default_chunk_rows(50_000_000), want, "{}", analysis.name());
        assert_eq!(job.default_chunk_rows(10), DEFAULT_CHUNK_ROWS, "{}: never below the default", analysis.name());
        let options = RunOptions { executor: ExecutorKind::Serial, ..RunOptions::default() };
        let e = run(&path, analysis, &options).unwrap().exec;
        assert_eq!((e.chunk_rows, e.chunks), (DEFAULT_CHUNK_ROWS, 1), "{}", analysis.name());
        let options = RunOptions { executor: ExecutorKind::Serial, chunk_rows: Some(1_000), ..RunOptions::default() };
        let e = run(&path, analysis, &options).unwrap().exec;
        assert_eq!((e.chunk_rows, e.chunks), (1_000, 4), "{}: --chunk-rows wins", analysis.name());
    }
}
