//! `tally describe`.

use tally_engine::exec::processes::WorkerCommand;
use tally_engine::exec::{Cancel, ExecutorKind};
use tally_engine::report::Format;
use tally_engine::{DescribeOptions, RunOptions, describe};

use crate::args::{DescribeArgs, ExecutorArg, FormatArg};
use crate::output::with_output;
use crate::progress;

pub(crate) fn run(args: DescribeArgs, cancel: &Cancel) -> anyhow::Result<()> {
    init_logging(args.verbose);
    let mut run = RunOptions {
        executor: match args.executor {
            ExecutorArg::Serial => ExecutorKind::Serial,
            ExecutorArg::Threads => ExecutorKind::Threads,
            ExecutorArg::Processes => ExecutorKind::Processes,
        },
        chunk_rows: args.chunk_rows,
        cancel: cancel.clone(),
        chunk_timeout: args.chunk_timeout,
        ..RunOptions::default()
    };
    if let Some(workers) = args.workers {
        run.workers = workers as usize;
    }
    if run.executor == ExecutorKind::Processes {
        // Workers are this very binary, re-executed with the hidden subcommand.
        let program = std::env::current_exe()?;
        run.worker_command = Some(WorkerCommand::new(program, vec!["__worker".into()]));
    }
    let mut options = DescribeOptions { columns: args.columns, exact: args.exact, ddof: args.ddof, run };
    let bar = progress::bar(0, args.quiet, "{spinner} {pos}/{len} chunks [{bar:30}] {msg} ({eta})");
    options.run.progress = Some(progress::describe_callback(bar.clone()));
    let done = describe(&args.path, &options);
    bar.finish_and_clear();
    let done = done?;
    for note in &done.outcome.notes {
        eprintln!("tally: note: {note}");
    }
    if args.verbose > 0 {
        let e = &done.outcome.exec;
        eprintln!(
            "tally: {:?} executor, {} workers, {} chunks of {} rows, {:.3} s",
            options.run.executor,
            e.workers,
            e.chunks,
            options.run.chunk_rows,
            e.elapsed.as_secs_f64()
        );
    }
    let format = match args.format {
        FormatArg::Table => Format::Table,
        FormatArg::Json => Format::Json,
        FormatArg::Csv => Format::Csv,
    };
    with_output(args.output.as_deref(), |out| done.report.render(format, out))
}

/// Warnings always, worker details with `-v`; on stderr, without colours.
fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => tracing::Level::WARN,
        1 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .try_init();
}
