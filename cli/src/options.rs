//! The one place the shared flags ([`AnalysisArgs`]) become engine options, warnings about flags that do
//! nothing, the logging level, the output format and the table width (issue 6, items 10 and 12).

use std::io::IsTerminal;
use std::path::Path;

use tally_engine::exec::processes::WorkerCommand;
use tally_engine::exec::{Cancel, ExecutorKind};
use tally_engine::report::{Format, TableOptions};
use tally_engine::{ProgressFn, RunOptions};

use crate::args::{AnalysisArgs, ExecutorArg, FormatArg, OutputArgs};

/// More chunks than this make per-chunk overhead dominate a run: warned about.
pub(crate) const MANY_CHUNKS: usize = 1_000_000;

/// Engine options for the shared flags, with the warnings they deserve (printed by the caller).
pub(crate) fn engine_options(args: &AnalysisArgs, cancel: &Cancel) -> anyhow::Result<(RunOptions, Vec<String>)> {
    let mut options = RunOptions {
        executor: executor_kind(args.executor),
        chunk_rows: args.chunk_rows,
        cancel: cancel.clone(),
        chunk_timeout: args.chunk_timeout,
        filter: args.filter.clone(),
        input: args.input.to_options(),
        ..RunOptions::default()
    };
    if let Some(workers) = args.workers {
        options.workers = workers as usize;
    }
    if options.executor == ExecutorKind::Processes {
        // Workers are this very binary, re-executed with the hidden subcommand; an embedded run (whose
        // executable is its host's) says how to start them.
        options.worker_command = Some(match crate::embed::worker_command() {
            Some(command) => command?,
            None => WorkerCommand::new(std::env::current_exe()?, vec!["__worker".into()]),
        });
    }
    Ok((options, warnings(args)))
}

/// The engine's executor for `--executor` (and `tally bench --executors`).
pub(crate) fn executor_kind(e: ExecutorArg) -> ExecutorKind {
    match e {
        ExecutorArg::Serial => ExecutorKind::Serial,
        ExecutorArg::Threads => ExecutorKind::Threads,
        ExecutorArg::Processes => ExecutorKind::Processes,
        ExecutorArg::Mpi => ExecutorKind::Mpi,
    }
}

/// Flags that are accepted but change nothing, and why.
fn warnings(args: &AnalysisArgs) -> Vec<String> {
    let mut out = Vec::new();
    if args.workers.is_some() && args.executor == ExecutorArg::Serial {
        out.push("--workers has no effect with --executor serial (it runs on one thread)".to_string());
    }
    if args.chunk_timeout.is_some() && args.executor != ExecutorArg::Processes {
        out.push(format!(
            "--chunk-timeout has no effect with --executor {} (only worker processes can be stopped and retried)",
            match args.executor {
                ExecutorArg::Serial => "serial",
                ExecutorArg::Mpi => "mpi",
                _ => "threads",
            }
        ));
    }
    out
}

/// The warning for an absurd chunk count, once the row count is known.
pub(crate) fn chunk_count_warning(chunks: usize, chunk_rows: Option<u64>) -> Option<String> {
    let chunk_rows = chunk_rows?;
    (chunks > MANY_CHUNKS).then(|| {
        format!(
            "--chunk-rows {chunk_rows} makes {chunks} chunks; per-chunk overhead will dominate the run (the default \
             is {} rows per chunk)",
            tally_engine::plan::DEFAULT_CHUNK_ROWS
        )
    })
}

/// Wraps a progress callback so the first report of an absurd chunk count prints a warning.
pub(crate) fn warn_on_many_chunks(inner: ProgressFn, chunk_rows: Option<u64>) -> ProgressFn {
    let warned = std::sync::atomic::AtomicBool::new(false);
    std::sync::Arc::new(move |done, total, bytes| {
        if let Some(w) = chunk_count_warning(total, chunk_rows)
            && !warned.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            eprintln!("tally: warning: {w}");
        }
        inner(done, total, bytes)
    })
}

/// Warnings always; `-v` DEBUG (run summary, worker lifecycle); `-vv` TRACE (one line per chunk). On
/// stderr, without colours, in the same shape as tally's other messages (`tally: warning: ...`).
pub(crate) fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => tracing::Level::WARN,
        1 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .event_format(TallyFormat)
        .try_init();
}

/// `tally: warning: <message>` for warnings, `tally: <message>` for everything else.
struct TallyFormat;

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for TallyFormat
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let level = *event.metadata().level();
        let prefix = if level == tracing::Level::WARN {
            "tally: warning: "
        } else if level == tracing::Level::ERROR {
            "tally: error: "
        } else {
            "tally: "
        };
        writer.write_str(prefix)?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// `--format`, or the one the `--output` extension names (with a note to print once it is written), or the
/// table.
pub(crate) fn format(args: &OutputArgs) -> (Format, Option<String>) {
    match (args.format, args.output.as_deref().and_then(Format::from_extension)) {
        (Some(f), _) => match f {
            FormatArg::Table => (Format::Table, None),
            FormatArg::Json => (Format::Json, None),
            FormatArg::Csv => (Format::Csv, None),
            FormatArg::Arrow => (Format::Arrow, None),
        },
        (None, Some(f)) => {
            let path = args.output.as_deref().map_or(Path::new(""), |p| p);
            (f, Some(format!("wrote {} as {} (from its extension; --format overrides)", path.display(), f.name())))
        }
        (None, None) => (Format::Table, None),
    }
}

/// The table layout: fitted to `COLUMNS` when set, else to the terminal when stdout is one; unlimited
/// for files and pipes.
pub(crate) fn table_options(args: &OutputArgs) -> TableOptions {
    let width = if args.output.is_some() || crate::embed::active() { None } else { terminal_width() };
    TableOptions { width, transpose: args.transpose }
}

fn terminal_width() -> Option<usize> {
    if let Some(n) = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse::<usize>().ok()).filter(|&n| n > 0) {
        return Some(n);
    }
    let stdout = std::io::stdout();
    if !stdout.is_terminal() {
        return None;
    }
    rustix::termios::tcgetwinsize(&stdout).ok().map(|w| usize::from(w.ws_col)).filter(|&n| n > 0)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::args::{Cli, Command};

    fn run_args(args: &[&str]) -> AnalysisArgs {
        let argv = ["tally", "describe", "x"].iter().chain(args).copied();
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Describe(d) => d.run,
            _ => unreachable!(),
        }
    }

    #[test]
    fn options_that_do_nothing_are_named() {
        assert!(warnings(&run_args(&[])).is_empty());
        assert!(warnings(&run_args(&["--workers", "2"])).is_empty());
        let w = warnings(&run_args(&["--executor", "serial", "--workers", "4"]));
        assert_eq!(w, vec!["--workers has no effect with --executor serial (it runs on one thread)"]);
        let w = warnings(&run_args(&["--executor", "threads", "--chunk-timeout", "1"]));
        assert!(w[0].starts_with("--chunk-timeout has no effect with --executor threads"), "{w:?}");
        assert_eq!(warnings(&run_args(&["--executor", "serial", "--chunk-timeout", "1", "--workers", "2"])).len(), 2);
    }

    #[test]
    fn absurd_chunk_counts_name_the_default() {
        assert_eq!(chunk_count_warning(MANY_CHUNKS, Some(10)), None);
        assert_eq!(chunk_count_warning(10_000_000, None), None, "defaults never make that many");
        let w = chunk_count_warning(10_000_000, Some(1)).unwrap();
        assert!(w.contains("10000000 chunks") && w.contains("the default is 1048576 rows per chunk"), "{w}");
    }

    #[test]
    fn engine_options_follow_the_flags() {
        let (o, _) = engine_options(
            &run_args(&["--executor", "threads", "--workers", "3", "--chunk-rows", "7"]),
            &Cancel::default(),
        )
        .unwrap();
        assert_eq!(
            (o.executor, o.workers, o.chunk_rows, o.worker_command.is_none()),
            (ExecutorKind::Threads, 3, Some(7), true)
        );
        let (o, _) = engine_options(&run_args(&["--where", "a > 1"]), &Cancel::default()).unwrap();
        assert_eq!(o.filter.as_deref(), Some("a > 1"), "the expression goes to the engine as written");
    }

    #[test]
    fn the_output_extension_picks_the_format() {
        let out = |o: &str, f: Option<FormatArg>| OutputArgs { format: f, output: Some(o.into()), transpose: false };
        assert_eq!(format(&out("r.csv", None)).0, Format::Csv);
        assert!(format(&out("r.csv", None)).1.unwrap().contains("as csv (from its extension"));
        assert_eq!(format(&out("r.JSON", None)).0, Format::Json);
        assert_eq!(format(&out("r.out", None)), (Format::Table, None));
        assert_eq!(format(&out("r.csv", Some(FormatArg::Json))), (Format::Json, None));
    }
}
