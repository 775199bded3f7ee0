//! Sessions over worker processes: workers are spawned once per run and serve every pass; a worker that
//! dies between passes is replaced and the results stay bit-identical.
//!
//! These drive the engine's Session directly (a multi-pass run is built from describe passes), with the
//! real `tally` binary as the worker program, so the processes executor is exercised exactly as the CLI
//! uses it.

use crate::util;

use tally_engine::aggregate::Aggregator;
use tally_engine::exec::processes::{FAULT_ENV, Processes, WorkerCommand};
use tally_engine::exec::{Cancel, ExecOptions, Executor, ExecutorKind};
use tally_engine::plan::{Pass, Plan, StatEntry};
use tally_engine::stats::{PartialSet, Stat};
use tally_engine::{source, stats};
use util::{Dir, bin_path};

fn worker(env: &[(&str, &str)]) -> WorkerCommand {
    let mut command = WorkerCommand::new(bin_path(), vec!["__worker".into()]);
    command.env = env.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
    command
}

/// Three passes (describe of column 1, of columns 1 and 2, exact describe of column 3), each merged in the
/// canonical tree; returns the encoded merged states and the session report.
fn three_passes(executor: &dyn Executor, plan: &Plan, store: &tally_engine::store::Store) -> (Vec<Vec<u8>>, usize) {
    let passes = [
        vec![StatEntry { columns: vec![1], stat: Stat::Describe { exact: false } }],
        vec![
            StatEntry { columns: vec![1], stat: Stat::Describe { exact: false } },
            StatEntry { columns: vec![2], stat: Stat::Describe { exact: false } },
        ],
        vec![StatEntry { columns: vec![3], stat: Stat::Describe { exact: true } }],
    ];
    let mut session = executor.start(plan, store).unwrap();
    let mut out = Vec::new();
    for (id, entries) in passes.into_iter().enumerate() {
        let pass = Pass { id: id as u32, entries };
        let mut agg = Aggregator::new(plan.chunks().len());
        session.run_pass(&pass, &mut |c, p| agg.push(c, p)).unwrap();
        let merged: PartialSet = agg.finish(plan.empty_partials(&pass)).unwrap();
        out.push(stats::encode(&merged).unwrap());
    }
    let report = session.close();
    assert_eq!(report.passes, 3);
    (out, report.spawned)
}

#[test]
fn workers_are_spawned_once_per_session_and_replaced_between_passes() {
    let dir = Dir::new();
    dir.tally().args(["gen", "g.arrow", "--rows", "50000", "--seed", "3", "-q"]).assert().success();
    let file = source::open(&dir.join("g.arrow")).unwrap();
    let all: Vec<usize> = (0..file.schema().fields().len()).collect();
    let plan = Plan::try_new(file.schema(), &all, file.num_rows(), 4_000).unwrap();
    let store = file.into_store(&plan.projection()).unwrap();

    let serial = ExecutorKind::Serial.build(&ExecOptions::default()).unwrap();
    let (oracle, _) = three_passes(serial.as_ref(), &plan, &store);

    let processes = |env: &[(&str, &str)]| Processes {
        command: worker(env),
        workers: 3,
        chunk_timeout: None,
        max_attempts: 3,
        cancel: Cancel::default(),
        pin: Vec::new(),
    };
    let (clean, spawned) = three_passes(&processes(&[]), &plan, &store);
    assert_eq!(clean, oracle, "processes equal serial, bit for bit, on every pass");
    assert_eq!(spawned, 3, "each worker is spawned exactly once for three passes");

    // Worker 1 exits when pass 1 arrives: between passes, holding no chunk.
    let (faulty, spawned) = three_passes(&processes(&[(FAULT_ENV, "exit:pass=1:worker=1")]), &plan, &store);
    assert_eq!(faulty, oracle, "a worker lost between passes changes nothing");
    assert_eq!(spawned, 4, "the dead worker is replaced once");
}

#[test]
fn workers_read_the_file_the_parent_opened_even_if_the_path_is_replaced() {
    let dir = Dir::new();
    dir.tally().args(["gen", "g.arrow", "--rows", "20000", "--seed", "3", "-q"]).assert().success();
    dir.tally().args(["gen", "other.arrow", "--rows", "20000", "--seed", "4", "-q"]).assert().success();
    let file = source::open(&dir.join("g.arrow")).unwrap();
    let all: Vec<usize> = (0..file.schema().fields().len()).collect();
    let plan = Plan::try_new(file.schema(), &all, file.num_rows(), 4_000).unwrap();
    let store = file.into_store(&plan.projection()).unwrap();
    let serial = ExecutorKind::Serial.build(&ExecOptions::default()).unwrap();
    let (oracle, _) = three_passes(serial.as_ref(), &plan, &store);
    // Same shape, other values, renamed over the path after the parent opened it.
    std::fs::rename(dir.join("other.arrow"), dir.join("g.arrow")).unwrap();
    let processes = Processes {
        command: worker(&[]),
        workers: 2,
        chunk_timeout: None,
        max_attempts: 3,
        cancel: Cancel::default(),
        pin: Vec::new(),
    };
    let (got, _) = three_passes(&processes, &plan, &store);
    assert_eq!(got, oracle, "workers map the parent's open file, not whatever the path names now");
}

#[test]
fn the_chunk_timeout_covers_a_worker_that_hangs_before_it_is_ready() {
    let dir = Dir::new();
    dir.tally().args(["gen", "g.arrow", "--rows", "20000", "-q"]).assert().success();
    let clean = dir
        .tally()
        .args(["describe", "g.arrow", "--format", "json", "--executor", "serial", "--chunk-rows", "4000"])
        .output()
        .unwrap();
    let out = dir
        .tally()
        .env(FAULT_ENV, "hang:start:worker=0")
        .args(["describe", "g.arrow", "--format", "json", "--workers", "1", "--chunk-rows", "4000"])
        .args(["--chunk-timeout", "0.5"])
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("did not become ready within 2 s (the --chunk-timeout, at least 2 s)"), "{err}");
    let strip = |b: &[u8]| {
        String::from_utf8_lossy(b).lines().filter(|l| !l.contains("\"elapsed")).collect::<Vec<_>>().join("\n")
    };
    assert_eq!(strip(&out.stdout), strip(&clean.stdout));
}

#[test]
fn a_chunk_timeout_too_short_for_any_chunk_names_the_chunk_its_rows_and_the_timeout() {
    let dir = Dir::new();
    dir.tally().args(["gen", "g.arrow", "--rows", "400000", "-q"]).assert().success();
    let out = dir
        .tally()
        .args(["describe", "g.arrow", "--workers", "2", "--chunk-rows", "100000", "--chunk-timeout", "0.0001"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let last = err.lines().find(|l| l.starts_with("tally: error:")).unwrap_or_else(|| panic!("no error line: {err}"));
    assert!(last.contains("chunk failed 3 times"), "{last}");
    let deaths: Vec<&str> =
        err.lines().filter(|l| l.contains("was killed") && !l.starts_with("tally: error:")).collect();
    assert!(!deaths.is_empty() && deaths.iter().all(|l| l.starts_with("tally: warning: worker ")), "{err}");
    assert!(last.contains("--chunk-timeout of 0.0001 s"), "{last}");
    assert!(regex_like(last, "chunk ", " (rows "), "names the chunk and its rows: {last}");
}

fn regex_like(text: &str, a: &str, b: &str) -> bool {
    text.find(a).is_some_and(|i| text[i..].contains(b))
}
