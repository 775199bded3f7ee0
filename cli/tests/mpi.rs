//! `--executor mpi` (issue 14): every analysis under `mpirun -n 1|2|3` prints the very bytes of a local
//! run, and a rank that fails ends the whole job with exit 1 within seconds instead of hanging.
//!
//! These tests need an MPI build and an MPI launcher, which the default build does not have: they run when
//! `TALLY_MPI_BIN` names a `tally` built with `--features mpi` (`.ci/run` does this), and print a note
//! and pass otherwise. `TALLY_MPIRUN` overrides the launcher command line (default: Open MPI's `mpirun
//! --allow-run-as-root --oversubscribe`, so CI may run as root on 2 cores).

mod util;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use util::{Dir, lossy};

/// 300,000 rows in batches of 70,000, chunks of 20,000 rows: 15 chunks that straddle batch boundaries.
const ROWS: &str = "300000";
const CHUNK_ROWS: &str = "20000";

/// A hung job fails the test instead of hanging CI.
const DEADLINE: Duration = Duration::from_secs(60);

/// One subcommand line per analysis and per pass structure: one pass (describe, corr, groupby, distinct,
/// top, sketches), two (hist without a range) and several (exact quantiles, describe --quantiles).
const ANALYSES: &[&[&str]] = &[
    &["describe"],
    &["describe", "--exact", "--where", "k1 < 500 and c is not null", "--ddof", "0"],
    &["describe", "--quantiles", "0.1,0.5,0.99", "--columns", "a,c,k2"],
    &["hist", "--column", "a", "--bins", "auto"],
    &["hist", "--column", "k1", "--bins", "7", "--where", "d > 0"],
    &["corr", "--columns", "a,b,c,d"],
    &["quantile", "--column", "b", "--q", "0,0.001,0.5,0.999,1"],
    &["quantile", "--column", "k2", "--q", "0.25,0.75", "--method", "midpoint"],
    &["quantile", "--column", "a", "--q", "0.5,0.9", "--approx"],
    &["groupby", "--by", "k1", "--agg", "count,sum(a),mean(b),var(d),min(c),null_count(c)"],
    &["groupby", "--by", "k2", "--agg", "count,mean(a),std(b)", "--sort", "std(b)", "--desc", "--limit", "30"],
    &["distinct", "--columns", "k1,k2"],
    &["distinct", "--columns", "k2", "--approx"],
    &["top", "--column", "k1", "-k", "5"],
];

/// The MPI build under test, or `None` (with a printed note) when this run has none.
fn mpi_bin() -> Option<PathBuf> {
    match std::env::var_os("TALLY_MPI_BIN") {
        Some(bin) if !bin.is_empty() => Some(PathBuf::from(bin)),
        _ => {
            eprintln!("note: TALLY_MPI_BIN is not set: skipping the MPI tests (see cli/tests/mpi.rs)");
            None
        }
    }
}

/// The launcher: `TALLY_MPIRUN` split at spaces, or Open MPI's `mpirun` as CI runs it.
fn mpirun() -> Command {
    let line = std::env::var("TALLY_MPIRUN").unwrap_or_else(|_| "mpirun --allow-run-as-root --oversubscribe".into());
    let mut words = line.split_whitespace();
    let mut cmd = Command::new(words.next().expect("TALLY_MPIRUN is empty"));
    cmd.args(words);
    cmd
}

/// Runs `cmd` in `dir`, killing it (and failing) past [`DEADLINE`]; returns the output and the time taken.
/// The output is read while the command runs (a result larger than a pipe's buffer would block it).
fn run(mut cmd: Command, dir: &Path) -> (Output, Duration) {
    let start = Instant::now();
    let child = cmd
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the command");
    let pid = rustix::process::Pid::from_raw(child.id() as i32).expect("a child's pid");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    match rx.recv_timeout(DEADLINE) {
        Ok(out) => (out.expect("collect the output"), start.elapsed()),
        Err(_) => {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            let out = rx.recv().expect("the waiting thread").expect("collect the output");
            panic!("{cmd:?} hung for {DEADLINE:?}; stderr:\n{}", lossy(&out.stderr));
        }
    }
}

fn args(analysis: &[&str], input: &str, extra: &[&str]) -> Vec<String> {
    let common = ["--format", "json", "--quiet", "--chunk-rows", CHUNK_ROWS];
    analysis
        .iter()
        .take(1)
        .chain(&[input])
        .chain(&analysis[1..])
        .chain(&common)
        .chain(extra)
        .map(|s| s.to_string())
        .collect()
}

fn local(bin: &Path, dir: &Path, analysis: &[&str]) -> Vec<u8> {
    let mut cmd = Command::new(bin);
    cmd.args(args(analysis, "g.arrow", &["--executor", "threads", "--workers", "2"]));
    let (out, _) = run(cmd, dir);
    assert!(out.status.success(), "local {analysis:?} failed:\n{}", lossy(&out.stderr));
    out.stdout
}

fn under_mpi(bin: &Path, dir: &Path, ranks: usize, analysis: &[&str], workers: &str) -> Output {
    let mut cmd = mpirun();
    cmd.args(["-n", &ranks.to_string()]).arg(bin);
    cmd.args(args(analysis, "g.arrow", &["--executor", "mpi", "--workers", workers]));
    run(cmd, dir).0
}

fn generate(bin: &Path, dir: &Dir, name: &str, rows: &str) {
    let mut cmd = Command::new(bin);
    cmd.args(["gen", name, "--quiet", "--rows", rows, "--seed", "5", "--batch-rows", "70000"]);
    let (out, _) = run(cmd, dir.path());
    assert!(out.status.success(), "gen failed:\n{}", lossy(&out.stderr));
}

#[test]
fn every_analysis_is_byte_identical_to_a_local_run_for_1_2_and_3_ranks() {
    let Some(bin) = mpi_bin() else { return };
    let dir = Dir::new();
    generate(&bin, &dir, "g.arrow", ROWS);
    for analysis in ANALYSES {
        let expected = local(&bin, dir.path(), analysis);
        assert!(expected.starts_with(b"{"), "{analysis:?}: not JSON:\n{}", lossy(&expected));
        for (ranks, workers) in [(1, "2"), (2, "1"), (3, "2")] {
            let out = under_mpi(&bin, dir.path(), ranks, analysis, workers);
            assert!(out.status.success(), "-n {ranks} {analysis:?} failed:\n{}", lossy(&out.stderr));
            // Rank 0 alone prints: another rank's copy would show up as a second document.
            assert!(
                out.stdout == expected,
                "-n {ranks} {analysis:?} differs from the local run:\n--- local\n{}\n--- mpi\n{}",
                lossy(&expected),
                lossy(&out.stdout)
            );
            // The launcher may warn about the machine; tally itself has nothing to say.
            let stderr = lossy(&out.stderr);
            assert!(!stderr.contains("tally:"), "-n {ranks} {analysis:?} said:\n{stderr}");
        }
    }
}

/// Rank counts that are not powers of two: the binomial merge over ranks has uneven subtrees.
#[test]
fn uneven_merge_trees_over_4_and_5_ranks_give_the_same_bytes() {
    let Some(bin) = mpi_bin() else { return };
    let dir = Dir::new();
    generate(&bin, &dir, "g.arrow", ROWS);
    for analysis in [ANALYSES[0], ANALYSES[2], ANALYSES[9], ANALYSES[10]] {
        let expected = local(&bin, dir.path(), analysis);
        for ranks in [4, 5] {
            let out = under_mpi(&bin, dir.path(), ranks, analysis, "1");
            assert!(out.status.success(), "-n {ranks} {analysis:?} failed:\n{}", lossy(&out.stderr));
            assert!(out.stdout == expected, "-n {ranks} {analysis:?} differs from the local run");
        }
    }
}

/// A group-by of about 260,000 groups (partitioned states): the ranks exchange partitions instead of
/// sending whole states up the tree, each merges its share, rank 0 joins them, and the bytes are still
/// the local run's.
#[test]
fn group_by_states_are_exchanged_partition_by_partition() {
    let Some(bin) = mpi_bin() else { return };
    let dir = Dir::new();
    generate(&bin, &dir, "g.arrow", ROWS);
    let analysis: &[&str] = &["groupby", "--by", "k2", "--agg", "count,sum(a)"];
    let expected = local(&bin, dir.path(), analysis);
    let mut cmd = mpirun();
    cmd.args(["-n", "3"]).arg(&bin);
    cmd.args(args(analysis, "g.arrow", &["--executor", "mpi", "--workers", "1", "-vv"]));
    let (out, _) = run(cmd, dir.path());
    assert!(out.status.success(), "failed:\n{}", lossy(&out.stderr));
    assert!(out.stdout == expected, "differs from the local run");
    let stderr = lossy(&out.stderr);
    for rank in 0..3 {
        assert!(
            stderr.contains(&format!("rank {rank}: pass 0: exchanged group-by partitions")),
            "rank {rank} did not exchange:\n{stderr}"
        );
    }
    for rank in 1..3 {
        assert!(stderr.contains(&format!("rank {rank}: pass 0: sent its merged partitions")), "{stderr}");
    }
    assert!(!stderr.contains("tree nodes"), "a group-by state went up the tree:\n{stderr}");
}

/// More ranks than chunks: a rank with no chunk still takes part in every pass.
#[test]
fn ranks_without_chunks_take_part() {
    let Some(bin) = mpi_bin() else { return };
    let dir = Dir::new();
    generate(&bin, &dir, "g.arrow", "30000");
    for analysis in [&["describe", "--quantiles", "0.5"][..], &["hist", "--column", "b", "--bins", "auto"]] {
        let expected = local(&bin, dir.path(), analysis);
        // 30,000 rows in chunks of 20,000: two chunks for three ranks.
        let out = under_mpi(&bin, dir.path(), 3, analysis, "1");
        assert!(out.status.success(), "{analysis:?} failed:\n{}", lossy(&out.stderr));
        assert!(out.stdout == expected, "{analysis:?}:\n{}\n---\n{}", lossy(&expected), lossy(&out.stdout));
    }
}

/// Rank 1 reads a malformed file (a truncated copy, as a broken replica on one node would be): the job
/// ends with exit 1 within seconds, the error names the rank, and rank 0 prints no result.
#[test]
fn a_rank_failing_on_malformed_input_ends_the_job_with_exit_1() {
    let Some(bin) = mpi_bin() else { return };
    let dir = Dir::new();
    generate(&bin, &dir, "g.arrow", ROWS);
    let good = dir.read("g.arrow");
    dir.write("bad.arrow", &good[..good.len() / 2]);
    let mut cmd = mpirun();
    cmd.args(["-n", "1"]).arg(&bin).args(args(&["describe"], "g.arrow", &["--executor", "mpi"]));
    cmd.arg(":").args(["-n", "1"]).arg(&bin).args(args(&["describe"], "bad.arrow", &["--executor", "mpi"]));
    let (out, took) = run(cmd, dir.path());
    let stderr = lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr:\n{stderr}");
    assert!(took < Duration::from_secs(20), "the job took {took:?} to end");
    assert!(stderr.contains("tally: error: rank 1 of 2: bad.arrow"), "stderr:\n{stderr}");
    assert!(out.stdout.is_empty(), "a failed job printed a result:\n{}", lossy(&out.stdout));
    util::assert_no_panic(&out.stderr);
}

/// Ranks that read different files (a node with a stale copy) must not merge: the fingerprint of the plan
/// differs, and every rank stops with an error naming the odd rank.
#[test]
fn ranks_that_read_different_inputs_are_refused() {
    let Some(bin) = mpi_bin() else { return };
    let dir = Dir::new();
    generate(&bin, &dir, "g.arrow", ROWS);
    generate(&bin, &dir, "other.arrow", "200000");
    let mut cmd = mpirun();
    for (i, input) in ["g.arrow", "g.arrow", "other.arrow"].into_iter().enumerate() {
        if i > 0 {
            cmd.arg(":");
        }
        cmd.args(["-n", "1"]).arg(&bin).args(args(&["describe"], input, &["--executor", "mpi"]));
    }
    let (out, _) = run(cmd, dir.path());
    let stderr = lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr:\n{stderr}");
    assert!(stderr.contains("rank 2 planned a different run than rank 0"), "stderr:\n{stderr}");
    assert!(out.stdout.is_empty(), "printed:\n{}", lossy(&out.stdout));
}

/// A build without the feature says how to get one (exit 1, no panic).
#[cfg(not(feature = "mpi"))]
#[test]
fn the_default_build_explains_how_to_get_mpi() {
    let dir = Dir::new();
    dir.gen_file("g.arrow", 1000, 1, 1000);
    let out = dir.tally().args(["describe", "g.arrow", "--executor", "mpi"]).output().expect("run tally");
    assert_eq!(out.status.code(), Some(1));
    let stderr = lossy(&out.stderr);
    assert!(stderr.contains("built without MPI support") && stderr.contains("--features mpi"), "{stderr}");
}
