//! `describe` end to end: Source → Store → Plan → Executor → Aggregator → Report.

use std::path::Path;

use crate::aggregate::Aggregator;
use crate::error::Result;
use crate::exec::processes::WorkerCommand;
use crate::exec::{Cancel, ExecOptions, ExecReport, ExecutorKind};
use crate::plan::{DEFAULT_CHUNK_ROWS, Plan, PlanOptions};
use crate::report::{ColumnReport, InputInfo, Report};
use crate::source;
use crate::stats::FinishOptions;
use crate::store::Store;

/// Progress callback: `(chunks done, chunks total, bytes of column data done)`.
pub type ProgressFn = std::sync::Arc<dyn Fn(usize, usize, u64) + Send + Sync>;

/// What `describe` computes and how.
#[derive(Clone)]
pub struct DescribeOptions {
    /// Column names, in output order; `None` for all columns.
    pub columns: Option<Vec<String>>,
    pub executor: ExecutorKind,
    pub workers: usize,
    pub chunk_rows: u64,
    pub exact: bool,
    pub ddof: u64,
    /// Checked between chunks; set by the CLI's signal handlers.
    pub cancel: Cancel,
    /// How to start worker processes (required by [`ExecutorKind::Processes`]).
    pub worker_command: Option<WorkerCommand>,
    pub chunk_timeout: Option<std::time::Duration>,
    /// Called after each finished chunk with `(chunks done, chunks total, bytes done)`.
    pub progress: Option<ProgressFn>,
}

impl std::fmt::Debug for DescribeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DescribeOptions")
            .field("columns", &self.columns)
            .field("executor", &self.executor)
            .field("workers", &self.workers)
            .field("chunk_rows", &self.chunk_rows)
            .field("exact", &self.exact)
            .field("ddof", &self.ddof)
            .finish_non_exhaustive()
    }
}

impl Default for DescribeOptions {
    fn default() -> Self {
        DescribeOptions {
            columns: None,
            executor: ExecutorKind::Threads,
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            chunk_rows: DEFAULT_CHUNK_ROWS,
            exact: false,
            ddof: 1,
            cancel: Cancel::default(),
            worker_command: None,
            chunk_timeout: None,
            progress: None,
        }
    }
}

/// The report plus what people may want to know about the run (printed on stderr by the CLI).
#[derive(Debug)]
pub struct Described {
    pub report: Report,
    pub exec: ExecReport,
    /// One-line notices, e.g. batches that had to be copied because the file's buffers were misaligned.
    pub notes: Vec<String>,
}

/// Opens `path` and describes the requested columns.
pub fn describe(path: &Path, options: &DescribeOptions) -> Result<Described> {
    let file = source::open_with(path, &options.cancel)?;
    let plan = Plan::try_new(
        file.schema(),
        options.columns.as_deref(),
        file.num_rows(),
        options.chunk_rows,
        PlanOptions { exact: options.exact, finish: FinishOptions { ddof: options.ddof } },
    )
    .map_err(|e| e.with_file(path))?;
    let input = InputInfo {
        path: path.display().to_string(),
        format: file.format().as_str(),
        bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
        batches: file.num_batches(),
    };
    let store = file.into_store(&plan.projection())?;
    describe_store(&store, &plan, input, options)
}

/// Describes an opened store with a ready plan (the benchmarks call this to leave file opening out).
pub fn describe_store(store: &Store, plan: &Plan, input: InputInfo, options: &DescribeOptions) -> Result<Described> {
    let mut notes = Vec::new();
    if store.copied_batches() > 0 {
        notes.push(format!(
            "{}: {} of {} record batches have misaligned buffers (written by an old or foreign Arrow writer) \
             and were copied; rewrite the file for zero-copy reads",
            store.path().display(),
            store.copied_batches(),
            store.batches().len()
        ));
    }
    let chunks = plan.chunks();
    let mut aggregator = Aggregator::new(chunks.len());
    let executor = options.executor.build(&ExecOptions {
        workers: options.workers,
        cancel: options.cancel.clone(),
        worker_command: options.worker_command.clone(),
        chunk_timeout: options.chunk_timeout,
    })?;
    let bytes_per_row = plan.bytes_per_row();
    let (mut done, mut bytes, total) = (0usize, 0u64, chunks.len());
    let exec = executor.run(plan, store, &mut |id, partial| {
        aggregator.push(id, partial)?;
        done += 1;
        if let Some(progress) = &options.progress {
            bytes += (chunks[id].rows.end - chunks[id].rows.start) * bytes_per_row;
            progress(done, total, bytes);
        }
        Ok(())
    })?;
    let total = aggregator.finish(plan.empty_partials())?;
    let columns = plan
        .columns
        .iter()
        .zip(&total.columns)
        .map(|(c, state)| ColumnReport {
            name: c.name.clone(),
            type_name: c.type_name.clone(),
            summary: state.finish(&plan.options.finish),
        })
        .collect();
    let report = Report { input, rows: plan.num_rows, ddof: options.ddof, exact: options.exact, columns };
    Ok(Described { report, exec, notes })
}
