//! `tally describe`: its own flags (columns, `--exact`, `--ddof`) on top of the shared ones.

use tally_engine::exec::Cancel;
use tally_engine::report::plural;
use tally_engine::{DescribeOptions, describe};

use crate::args::DescribeArgs;
use crate::options::{engine_options, format, init_logging, table_options, warn_on_many_chunks};
use crate::output::with_output;
use crate::progress;

pub(crate) fn run(args: DescribeArgs, cancel: &Cancel) -> anyhow::Result<()> {
    let run = &args.run;
    init_logging(run.log.verbose);
    let (engine_run, warnings) = engine_options(run, cancel)?;
    for w in warnings {
        eprintln!("tally: warning: {w}");
    }
    let mut options =
        DescribeOptions { columns: args.selection(), exact: args.exact, ddof: args.ddof, run: engine_run };
    let (format, format_note) = format(&run.output);
    // Refuse `-o INPUT` before reading anything (the output module checks again when it writes).
    if let Some(out) = &run.output.output {
        tally_engine::output::refuse_inputs(out, &[&args.path])?;
    }
    let bar = progress::bar(0, run.log.quiet, "{spinner} {pos}/{len} chunks [{bar:30}] {msg} ETA {eta}");
    options.run.progress = Some(warn_on_many_chunks(progress::describe_callback(bar.clone()), options.run.chunk_rows));
    let done = describe(&args.path, &options);
    bar.finish_and_clear();
    let done = done?;
    for note in &done.outcome.notes {
        eprintln!("tally: note: {note}");
    }
    if run.log.verbose > 0 {
        let e = &done.outcome.exec;
        eprintln!(
            "tally: {:?} executor, {}, {} of {}, {:.3} s",
            options.run.executor,
            plural(e.workers, "worker"),
            plural(e.chunks, "chunk"),
            plural(options.run.chunk_rows as usize, "row"),
            e.elapsed.as_secs_f64()
        );
    }
    let table = table_options(&run.output);
    with_output(run.output.output.as_deref(), &[&args.path], |out| done.report.render(format, &table, out))?;
    if let Some(note) = format_note {
        eprintln!("tally: note: {note}");
    }
    Ok(())
}
