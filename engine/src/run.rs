//! The one entry point that runs any analysis: open → validate → plan → start a Session → per pass,
//! aggregate in the canonical tree → finish.
//!
//! ```text
//!  path ─► source::open ─► Analysis::validate(schema) ─► Plan (columns read, fixed chunks) ─► Store
//!                                                                                     │
//!        ┌────────────── Executor::start(plan, store): workers spawned once ◄─────────┘
//!        ▼
//!   loop session.next_step(job.step) ── Pass ─► session.run_pass ─► (chunk, partial)* ─► Aggregator
//!        ▲                                                      session.finish_pass(Aggregator) ─┘
//!        └── previous (on MPI rank 0: the merge of every rank's tree nodes; elsewhere none) ◄──────┘
//!        └── Done(resolved) ─► resolved.finish(last partials) ─► AnalysisResult (+ the state to save)
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::aggregate::Aggregator;
use crate::analysis::{Analysis, AnalysisResult, Resolved, Step};
use crate::error::{Error, Result};
use crate::exec::memory::MemoryUse;
use crate::exec::processes::WorkerCommand;
use crate::exec::{Cancel, ExecOptions, ExecReport, ExecutorKind};
use crate::filter::Filter;
use crate::plan::{Pass, Plan};
use crate::report::{InputInfo, RowFilter};
use crate::source;
use crate::stats::PartialSet;
use crate::store::Store;

/// Progress callback: `(chunks done, chunks total, bytes of column data done)`, per pass.
pub type ProgressFn = Arc<dyn Fn(usize, usize, u64) + Send + Sync>;

/// How to run an analysis: the options every analysis shares.
#[derive(Clone)]
pub struct RunOptions {
    pub executor: ExecutorKind,
    pub workers: usize,
    /// Rows per chunk; `None`: the analysis's default ([`Job::default_chunk_rows`](crate::analysis::Job::default_chunk_rows)).
    pub chunk_rows: Option<u64>,
    /// Checked between chunks; set by the CLI's signal handlers.
    pub cancel: Cancel,
    /// How to start worker processes (required by [`ExecutorKind::Processes`]).
    pub worker_command: Option<WorkerCommand>,
    pub chunk_timeout: Option<Duration>,
    /// Called after each finished chunk.
    pub progress: Option<ProgressFn>,
    /// `--where`: a SQL expression selecting the rows every statistic sees.
    pub filter: Option<String>,
    /// How to read inputs that do not describe themselves (CSV dialect and types).
    pub input: source::InputOptions,
    /// Pin worker `i` to the `i mod n`-th of these CPUs (empty: no pinning; `exec::pin::allowed_cpus`).
    pub pin: Vec<usize>,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("executor", &self.executor)
            .field("workers", &self.workers)
            .field("chunk_rows", &self.chunk_rows)
            .field("chunk_timeout", &self.chunk_timeout)
            .field("filter", &self.filter)
            .finish_non_exhaustive()
    }
}

impl RunOptions {
    /// Rows per chunk of `job` over `num_rows` rows: `--chunk-rows`, else the analysis's default.
    fn chunk_rows_for(&self, job: &crate::analysis::Job, num_rows: u64) -> u64 {
        self.chunk_rows.unwrap_or_else(|| job.default_chunk_rows(num_rows))
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            executor: ExecutorKind::Threads,
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            chunk_rows: None,
            cancel: Cancel::default(),
            worker_command: None,
            chunk_timeout: None,
            progress: None,
            filter: None,
            input: source::InputOptions::default(),
            pin: Vec::new(),
        }
    }
}

/// A finished run: the result, the state behind it, and what the run did.
#[derive(Debug)]
pub struct Outcome {
    pub result: AnalysisResult,
    /// The resolved analysis and the final pass's merged partials: what `--save-state` writes.
    pub resolved: Resolved,
    pub state: PartialSet,
    pub input: InputInfo,
    /// Rows of the input, before any filter (`state.rows` counts the rows that passed).
    pub input_rows: u64,
    /// The `--where` filter, if any.
    pub filter: Option<RowFilter>,
    pub exec: ExecReport,
    /// One-line notices, e.g. batches that had to be copied because the file's buffers were misaligned.
    pub notes: Vec<String>,
}

/// Opens `path` and runs `analysis` over it.
pub fn run(path: &Path, analysis: &Analysis, options: &RunOptions) -> Result<Outcome> {
    run_many(&[path.to_path_buf()], analysis, options)
}

/// Runs `analysis` over the dataset of `paths` (files and quoted glob patterns, `source::expand`), read as
/// the concatenation of its files; one path is that file.
pub fn run_many(paths: &[PathBuf], analysis: &Analysis, options: &RunOptions) -> Result<Outcome> {
    let opening = Instant::now();
    let files = source::expand(paths)?;
    let file = source::open_dataset(&files, &options.input, &options.cancel)?;
    let path = files[0].as_path();
    // The columns a run can name: the input's own and its struct fields (`a.b`).
    let schema = file.columns();
    let mut job = analysis.validate(&schema).map_err(|e| e.with_file(path))?;
    let filter = parse_filter(options, &schema).map_err(|e| e.with_file(path))?;
    let plan = Plan::try_with_filter(
        &schema,
        job.columns(),
        filter,
        file.num_rows(),
        options.chunk_rows_for(&job, file.num_rows()),
    )
    .map_err(|e| e.with_file(path))?;
    let shown: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let input = InputInfo {
        path: if files.len() == 1 { shown[0].clone() } else { format!("{} files: {}", files.len(), shown.join(", ")) },
        format: file.format().as_str(),
        bytes: files.iter().map(|f| std::fs::metadata(f).map_or(0, |m| m.len())).sum(),
        batches: file.num_batches(),
        files: if files.len() == 1 { Vec::new() } else { shown },
    };
    let store = file.into_store(&plan.projection())?;
    let open = opening.elapsed();
    let mut outcome = drive(&mut job, &plan, &store, input, options)?;
    outcome.exec.open = open;
    Ok(outcome)
}

/// Runs `analysis` over an opened store (benchmarks and tests leave file opening out this way).
pub fn run_store(store: &Store, input: InputInfo, analysis: &Analysis, options: &RunOptions) -> Result<Outcome> {
    let mut job = analysis.validate(store.schema())?;
    // Store column i must be plan column i: plan every column the store holds and let the job pick.
    let all: Vec<usize> = (0..store.schema().fields().len()).collect();
    let filter = parse_filter(options, store.schema())?;
    let plan = Plan::try_with_filter(
        store.schema(),
        &all,
        filter,
        store.num_rows(),
        options.chunk_rows_for(&job, store.num_rows()),
    )?;
    drive(&mut job, &plan, store, input, options)
}

fn parse_filter(options: &RunOptions, schema: &arrow_schema::Schema) -> Result<Option<Filter>> {
    options.filter.as_deref().map(|text| Filter::try_parse(text, schema)).transpose()
}

fn drive(
    job: &mut crate::analysis::Job,
    plan: &Plan,
    store: &Store,
    input: InputInfo,
    options: &RunOptions,
) -> Result<Outcome> {
    let mut notes = job.notes().to_vec();
    if store.copied_batches() > 0 {
        notes.push(format!(
            "{}: {} of {} record batches have misaligned buffers (written by an old or foreign Arrow writer) \
             and were copied; rewrite the file for zero-copy reads",
            store.path().display(),
            store.copied_batches(),
            store.num_batches()
        ));
    }
    // The serial executor computes every chunk on the calling thread: one chunk state at a time.
    job.set_workers(if matches!(options.executor, ExecutorKind::Serial) { 1 } else { options.workers });
    let executor = options.executor.build(&ExecOptions {
        workers: options.workers,
        cancel: options.cancel.clone(),
        worker_command: options.worker_command.clone(),
        chunk_timeout: options.chunk_timeout,
        pin: options.pin.clone(),
    })?;
    let mut session = executor.start(plan, store)?;
    let chunks = plan.chunks();
    let bytes_per_row = plan.bytes_per_row();
    let mut previous: Option<PartialSet> = None;
    let mut id = 0u32;
    let (mut merge, mut scanned) = (Duration::ZERO, 0u64);
    let mut memory = MemoryUse::sample();
    let resolved = loop {
        let entries = match session.next_step(previous.as_ref(), &mut |previous| job.step(plan, previous))? {
            Step::Pass(entries) => entries,
            Step::Done(resolved) => break resolved,
            Step::Finish(resolved, state) => {
                previous = Some(state);
                break resolved;
            }
        };
        let pass = Pass { id, entries };
        id += 1;
        let mut aggregator = Aggregator::new(chunks.len());
        let (mut done, mut bytes, total) = (0usize, 0u64, chunks.len());
        session.run_pass(&pass, &mut |chunk, partial| {
            let merging = Instant::now();
            aggregator.push(chunk, partial)?;
            merge += merging.elapsed();
            done += 1;
            if let Some(progress) = &options.progress {
                bytes += (chunks[chunk].rows.end - chunks[chunk].rows.start) * bytes_per_row;
                progress(done, total, bytes);
            }
            Ok(())
        })?;
        let merging = Instant::now();
        previous = session.finish_pass(aggregator, plan.empty_partials(&pass))?;
        merge += merging.elapsed();
        scanned += plan.num_rows * bytes_per_row;
        // The merged state is alive: the parent's largest point of a pass (exec/memory.rs).
        memory.update();
    };
    let mut exec = session.close();
    exec.chunk_rows = plan.chunk_rows;
    exec.merge = merge;
    exec.scanned_bytes = scanned;
    exec.parent_memory = memory;
    let state = previous.ok_or_else(|| Error::internal("an analysis finished without running a pass"))?;
    let mut result = resolved.finish(&state, input.clone())?;
    let filter =
        plan.filter.as_ref().map(|f| RowFilter { text: f.filter.text().to_string(), input_rows: plan.num_rows });
    result.set_filter(filter.clone());
    Ok(Outcome { result, resolved, state, input, input_rows: plan.num_rows, filter, exec, notes })
}
