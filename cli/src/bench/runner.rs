//! Runs every configuration: one warm-up, then `--runs` measured runs, each a whole in-process
//! `tally_engine::run_many` (open, spawn, passes, merge, finish) timed from outside, with the engine's own
//! split of the time ([`ExecReport`]) and the bench's own overhead around the call.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use tally_engine::exec::{Cancel, ExecReport};
use tally_engine::{Analysis, RunOptions, run_many};

use super::plan::Config;

/// One run of one configuration.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Run {
    pub(crate) executor: String,
    pub(crate) workers: usize,
    /// Position among the configuration's runs (0 is the warm-up).
    pub(crate) index: usize,
    pub(crate) warmup: bool,
    /// Seconds: the whole run, and the engine's split of it.
    pub(crate) wall: f64,
    pub(crate) open: f64,
    pub(crate) spawn: f64,
    pub(crate) compute: f64,
    pub(crate) merge: f64,
    pub(crate) busy: Vec<f64>,
    pub(crate) spawned: usize,
    pub(crate) chunks: usize,
    /// Rows per chunk, as the run resolved them (the analysis's default unless `--chunk-rows`).
    pub(crate) chunk_rows: u64,
    pub(crate) passes: usize,
    /// Column bytes scanned over all passes.
    pub(crate) bytes: u64,
    /// The bench's own time for this run outside the engine call (options, bookkeeping, progress).
    pub(crate) overhead: f64,
    /// `(worker, cpu)` pairs the executor pinned.
    pub(crate) pinned: Vec<(usize, usize)>,
}

impl Run {
    fn new(config: &Config, index: usize, wall: Duration, e: &ExecReport) -> Run {
        Run {
            executor: config.name(),
            workers: config.workers,
            index,
            warmup: index == 0,
            wall: wall.as_secs_f64(),
            open: e.open.as_secs_f64(),
            spawn: e.spawn.as_secs_f64(),
            compute: e.compute.as_secs_f64(),
            merge: e.merge.as_secs_f64(),
            busy: e.busy.iter().map(Duration::as_secs_f64).collect(),
            spawned: e.spawned,
            chunks: e.chunks,
            chunk_rows: e.chunk_rows,
            passes: e.passes,
            bytes: e.scanned_bytes,
            overhead: 0.0,
            pinned: e.pinned.clone(),
        }
    }
}

/// Everything a configuration's runs share.
pub(crate) struct Job<'a> {
    pub(crate) paths: &'a [PathBuf],
    pub(crate) analysis: &'a Analysis,
    /// From the analysis' shared flags (`--where`, `--chunk-rows`, input options, worker command).
    pub(crate) base: &'a RunOptions,
    pub(crate) runs: usize,
    /// CPUs to pin workers to (empty: none).
    pub(crate) pin: &'a [usize],
    pub(crate) cancel: &'a Cancel,
}

/// Runs each configuration in turn, ticking `bar` once per run; stops at once when cancelled.
pub(crate) fn run_all(job: &Job<'_>, configs: &[Config], bar: &ProgressBar) -> anyhow::Result<Vec<Run>> {
    let mut out = Vec::with_capacity(configs.len() * (job.runs + 1));
    for config in configs {
        for index in 0..=job.runs {
            let begin = Instant::now();
            job.cancel.check()?;
            let options = RunOptions {
                executor: config.executor,
                workers: config.workers,
                pin: job.pin.to_vec(),
                ..job.base.clone()
            };
            bar.set_message(format!("{} x{} run {index}/{}", config.name(), config.workers, job.runs));
            let called = Instant::now();
            let outcome = run_many(job.paths, job.analysis, &options)?;
            let wall = called.elapsed();
            let mut run = Run::new(config, index, wall, &outcome.exec);
            drop(outcome);
            bar.inc(1);
            run.overhead = (begin.elapsed() - wall).as_secs_f64();
            out.push(run);
        }
    }
    Ok(out)
}
