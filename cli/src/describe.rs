//! `tally describe`.

use tally_engine::exec::ExecutorKind;
use tally_engine::report::Format;
use tally_engine::{DescribeOptions, describe};

use crate::args::{DescribeArgs, ExecutorArg, FormatArg};
use crate::output::with_output;

pub(crate) fn run(args: DescribeArgs) -> anyhow::Result<()> {
    let mut options = DescribeOptions {
        columns: args.columns,
        executor: match args.executor {
            ExecutorArg::Serial => ExecutorKind::Serial,
            ExecutorArg::Threads => ExecutorKind::Threads,
        },
        chunk_rows: args.chunk_rows,
        exact: args.exact,
        ddof: args.ddof,
        ..DescribeOptions::default()
    };
    if let Some(workers) = args.workers {
        options.workers = workers as usize;
    }
    let done = describe(&args.path, &options)?;
    for note in &done.notes {
        eprintln!("tally: note: {note}");
    }
    if args.verbose {
        let e = &done.exec;
        eprintln!(
            "tally: {:?} executor, {} workers, {} chunks of {} rows, {:.3} s",
            options.executor,
            e.workers,
            e.chunks,
            options.chunk_rows,
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
