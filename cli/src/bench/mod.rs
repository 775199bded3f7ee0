//! `tally bench [PATH]`: how an analysis scales with workers and executors on this machine, against the
//! machine's measured memory ceiling (issue 12).
//!
//! ```text
//!  args (split: bench flags | the analysis' own parser) ─► input (PATH, or a generated temporary file)
//!    ─► ceiling probe (memory buffer, mapped file; 1..N threads) ─► plan (executor × workers)
//!    ─► runner (1 warm-up + R runs each, in process, ExecReport split) ─► stats (median, MAD, speed-up,
//!       efficiency, warnings) ─► report (text) / export (JSON, markdown) / plot (SVG)
//! ```
//!
//! The temporary directory is a `tempfile::TempDir`: removed when the bench returns, by error or by
//! Ctrl-C too (the signal only sets the shared [`Cancel`], which generation, the probe and every run
//! check; workers are reaped by their session, then the directory's destructor runs).

mod args;
mod ceiling;
mod context;
mod export;
mod plan;
mod plot;
mod report;
mod runner;
mod stats;
mod warnings;

use std::path::{Path, PathBuf};

use anyhow::Context;
use tally_engine::exec::{Cancel, ExecutorKind};
use tally_engine::generate::{GenOptions, write_demo};

use ceiling::Ceiling;
use context::Machine;
use runner::Run;
use stats::Summary;
use warnings::Warning;

use crate::options::{engine_options, executor_kind, init_logging};
use crate::output::with_output;
use crate::progress;

/// The input a bench measured.
#[derive(Clone, Debug, Default)]
pub(crate) struct Input {
    pub(crate) path: String,
    pub(crate) generated: bool,
    pub(crate) rows: u64,
    pub(crate) file_bytes: u64,
    /// Why the generated file has its size.
    pub(crate) why: Option<String>,
}

/// Everything a bench measured: what the report, the exports and the plot are drawn from.
#[derive(Debug, Default)]
pub(crate) struct Bench {
    pub(crate) machine: Machine,
    pub(crate) input: Input,
    pub(crate) analysis_name: &'static str,
    pub(crate) analysis_words: Vec<String>,
    /// The analysis as a command line, for headers.
    pub(crate) analysis: String,
    pub(crate) chunk_rows: u64,
    pub(crate) runs_per_config: usize,
    /// CPUs workers were pinned to (empty: no pinning).
    pub(crate) pin: Vec<usize>,
    pub(crate) ceiling: Ceiling,
    pub(crate) runs: Vec<Run>,
    pub(crate) summaries: Vec<Summary>,
    pub(crate) warnings: Vec<Warning>,
    pub(crate) load_after: Option<f64>,
}

impl Bench {
    /// What pinning did, per configuration, from the first run's report.
    pub(crate) fn pin_summary(&self) -> String {
        let mut parts = Vec::new();
        for s in &self.summaries {
            let Some(r) = self.runs.iter().find(|r| r.executor == s.executor && r.workers == s.workers) else {
                continue;
            };
            let pairs: Vec<String> = r.pinned.iter().map(|(w, cpu)| format!("{w}→cpu {cpu}")).collect();
            parts.push(if pairs.is_empty() {
                format!("{} x{}: not pinned (runs on the calling thread)", s.executor, s.workers)
            } else {
                format!("{} x{}: {}", s.executor, s.workers, pairs.join(" "))
            });
        }
        format!("sched_setaffinity over CPUs {:?}; {}", self.pin, parts.join("; "))
    }

    pub(crate) fn cache_state(&self) -> &'static str {
        if self.input.generated {
            "warm: the file was written just before, read once by the ceiling probe, one warm-up run per configuration"
        } else {
            "as found, then read once by the ceiling probe, one warm-up run per configuration"
        }
    }
}

/// Runs `tally bench` with the words that followed it.
pub(crate) fn run(words: &[String], cancel: &Cancel) -> anyhow::Result<()> {
    let split = args::split(words)?;
    let a = split.bench;
    if let Some(file) = &a.plot {
        plot::check_format(file)?;
    }
    let machine = Machine::read();
    // Created first so the analysis' flags are parsed (and refused) before anything is generated.
    let (temp, path) = match &a.path {
        Some(p) => (None, p.clone()),
        None => {
            let dir = tempfile::Builder::new()
                .prefix("tally-bench-")
                .tempdir()
                .context("cannot create a temporary directory")?;
            let path = dir.path().join("bench.arrow");
            (Some(dir), path)
        }
    };
    let (analysis, run_args) = args::analysis(a.analysis, &path, &split.analysis)?;
    init_logging(run_args.log.verbose);
    let quiet = run_args.log.quiet;
    let say = |text: String| {
        if !quiet {
            eprintln!("tally: {text}");
        }
    };
    let mut input = Input { path: path.display().to_string(), generated: a.path.is_none(), ..Input::default() };
    if let Some(dir) = &temp {
        let (rows, why) = match a.rows {
            Some(rows) => (rows, format!("{rows} rows, as --rows asked")),
            None => plan::default_rows(machine.mem_available_bytes, context::free_disk(dir.path()), machine.cores),
        };
        say(format!("generating {}: {why}", path.display()));
        let bar = progress::bar(rows, quiet, "{spinner} generating [{bar:30}] {human_pos}/{human_len} rows ETA {eta}");
        let written = write_demo(&path, &GenOptions { rows, seed: a.seed, batch_rows: 1_000_000 }, cancel, |r| {
            bar.set_position(r)
        });
        bar.finish_and_clear();
        written?;
        input.why = Some(why);
    } else if a.rows.is_some() {
        say("--rows has no effect with an input file".to_string());
    }
    input.file_bytes = std::fs::metadata(&path).with_context(|| format!("{}: cannot read", path.display()))?.len();

    let cores = context::cores();
    let workers: Vec<usize> = if a.workers_list.is_empty() {
        plan::default_workers(cores)
    } else {
        a.workers_list.iter().map(|&w| usize::from(w)).collect()
    };
    let executors: Vec<ExecutorKind> = a.executors.iter().map(|&e| executor_kind(e)).collect();
    let configs = plan::configs(&executors, &workers);
    let mut probe_threads: Vec<usize> = configs.iter().map(|c| c.workers.min(cores)).collect();
    probe_threads.sort_unstable();
    probe_threads.dedup();
    let buffer = a.ceiling_bytes.unwrap_or_else(|| ceiling::default_buffer(ceiling::last_level_cache()));
    say(format!("measuring the memory ceiling with {probe_threads:?} threads"));
    let ceiling = ceiling::probe(&path, &probe_threads, buffer, cancel)?;

    let (mut base, warnings) = engine_options(&run_args, cancel)?;
    for w in warnings {
        say(format!("warning: {w}"));
    }
    base.progress = None;
    let pin = if a.pin { tally_engine::exec::pin::allowed_cpus()? } else { Vec::new() };
    let paths: Vec<PathBuf> = std::iter::once(path.clone()).chain(run_args.more.iter().cloned()).collect();
    let job =
        runner::Job { paths: &paths, analysis: &analysis, base: &base, runs: usize::from(a.runs), pin: &pin, cancel };
    let total = (configs.len() * (usize::from(a.runs) + 1)) as u64;
    let bar = progress::bar(total, quiet, "{spinner} {msg} [{bar:30}] {pos}/{len} runs ETA {eta}");
    let runs = runner::run_all(&job, &configs, &bar);
    bar.finish_and_clear();
    let runs = runs?;

    input.rows = tally_engine::source::open(&path).map(|f| f.num_rows()).unwrap_or(0);
    let summaries = stats::summarise(&runs, Some(&ceiling));
    let bench = Bench {
        warnings: warnings::warnings(&summaries, cores, machine.load),
        machine,
        input,
        analysis_name: a.analysis.subcommand(),
        analysis: std::iter::once(a.analysis.subcommand().to_string())
            .chain(split.analysis.iter().cloned())
            .collect::<Vec<_>>()
            .join(" "),
        analysis_words: split.analysis,
        chunk_rows: runs.first().map_or(0, |r| r.chunk_rows),
        runs_per_config: usize::from(a.runs),
        pin,
        ceiling,
        runs,
        summaries,
        load_after: context::load_average(),
    };
    let inputs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    if let Some(file) = &a.export_json {
        let text = serde_json::to_string_pretty(&export::json(&bench))?;
        with_output(Some(file), &inputs, |out| writeln!(out, "{text}"))?;
    }
    if let Some(file) = &a.export_markdown {
        let command = format!("tally bench {}", words.join(" "));
        let text = report::markdown(&bench, &command);
        with_output(Some(file), &inputs, |out| out.write_all(text.as_bytes()))?;
    }
    if let Some(file) = &a.plot {
        plot::render(&bench, file)?;
    }
    let text = report::render(&bench);
    with_output(None, &inputs, |out| out.write_all(text.as_bytes()))?;
    if let Some(dir) = temp {
        dir.close().context("cannot remove the temporary directory")?;
    }
    Ok(())
}
