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
        let options = RunOptions { executor, workers, chunk_rows: 3_000, ..RunOptions::default() };
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
    let options = RunOptions { executor: ExecutorKind::Serial, chunk_rows: 1_000, ..RunOptions::default() };
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
        chunk_rows: 2_000,
        pin: cpus.clone(),
        ..RunOptions::default()
    };
    let e = run(&path, &describe_ab(), &options).unwrap().exec;
    let want: Vec<(usize, usize)> = (0..2).map(|w| (w, cpus[w % cpus.len()])).collect();
    assert_eq!(e.pinned, want);
}
