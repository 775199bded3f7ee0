//! The run every analysis subcommand shares: shared flags → engine options, progress, the run, notes,
//! `-v` summary, `--save-state`, rendering. A subcommand file only builds its [`Analysis`].

use std::path::Path;

use tally_engine::exec::Cancel;
use tally_engine::report::{plural, result};
use tally_engine::state_file::StateFile;
use tally_engine::{Analysis, Outcome, run_many};

use crate::args::{AnalysisArgs, OutputArgs};
use crate::options::{engine_options, format, init_logging, table_options, warn_on_many_chunks};
use crate::output::with_output;
use crate::progress;
use crate::ranks::Ranks;

/// Runs `analysis` over `path` with the shared flags and prints or writes its result. In an MPI job every
/// rank runs this; only rank 0 prints, writes and gets the outcome (`None` elsewhere).
pub(crate) fn run_and_render(
    path: &Path,
    analysis: &Analysis,
    args: &AnalysisArgs,
    cancel: &Cancel,
) -> anyhow::Result<Option<Outcome>> {
    let ranks = Ranks::start(args.executor)?;
    run_on(&ranks, path, analysis, args, cancel).map_err(|e| ranks.fail(e, cancel))
}

fn run_on(
    ranks: &Ranks,
    path: &Path,
    analysis: &Analysis,
    args: &AnalysisArgs,
    cancel: &Cancel,
) -> anyhow::Result<Option<Outcome>> {
    init_logging(args.log.verbose);
    let (mut options, warnings) = engine_options(args, cancel)?;
    for w in warnings.iter().filter(|_| ranks.is_root()) {
        eprintln!("tally: warning: {w}");
    }
    if args.save_state.is_some() {
        analysis.check_saveable()?;
    }
    let paths: Vec<std::path::PathBuf> = std::iter::once(path.to_path_buf()).chain(args.more.iter().cloned()).collect();
    let inputs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    // Refuse `-o INPUT` / `--save-state INPUT` before reading anything (the output module checks again).
    for out in args.output.output.iter().chain(&args.save_state) {
        tally_engine::output::refuse_inputs(out, &inputs)?;
    }
    let bar =
        progress::bar(0, args.log.quiet || !ranks.is_root(), "{spinner} {pos}/{len} chunks [{bar:30}] {msg} ETA {eta}");
    if ranks.is_root() {
        options.progress = Some(warn_on_many_chunks(progress::describe_callback(bar.clone()), options.chunk_rows));
    }
    let outcome = run_many(&paths, analysis, &options);
    bar.finish_and_clear();
    let outcome = outcome?;
    for note in outcome.notes.iter().filter(|_| ranks.is_root()) {
        eprintln!("tally: note: {note}");
    }
    if args.log.verbose > 0 {
        let e = &outcome.exec;
        eprintln!(
            "tally: {}{:?} executor, {}, {} of {} in {}, {} passed, {:.3} s",
            ranks.prefix(),
            options.executor,
            plural(e.workers, "worker"),
            plural(e.chunks, "chunk"),
            plural(e.chunk_rows as usize, "row"),
            plural(e.passes, "pass"),
            plural(outcome.state.rows as usize, "row"),
            e.elapsed.as_secs_f64()
        );
        let who = std::iter::once(("parent".to_string(), e.parent_memory))
            .chain(e.worker_memory.iter().enumerate().map(|(i, m)| (format!("worker {i}"), *m)));
        for (who, m) in who {
            if m.peak_rss == 0 {
                // Workers report their memory with each chunk they finish; this one finished none.
                eprintln!("tally: {}{who}: no chunk computed, no memory sample", ranks.prefix());
                continue;
            }
            eprintln!(
                "tally: {}{who} memory: peak RSS {:.1} MiB, anonymous {:.1} MiB",
                ranks.prefix(),
                mib(m.peak_rss),
                mib(m.anon)
            );
        }
    }
    if !ranks.is_root() {
        return Ok(None);
    }
    if let Some(state_path) = &args.save_state {
        let file = StateFile::new(outcome.resolved.clone(), &outcome.input, outcome.input_rows, outcome.state.clone())
            .with_filter(outcome.filter.as_ref().map(|f| f.text.clone()));
        let bytes = file.to_bytes()?;
        with_output(Some(state_path), &inputs, |out| out.write_all(&bytes))?;
    }
    render(&outcome.result, &args.output, &inputs)?;
    Ok(Some(outcome))
}

/// Prints or writes a finished result per the output flags; `inputs` may not be overwritten.
pub(crate) fn render(result: &tally_engine::AnalysisResult, args: &OutputArgs, inputs: &[&Path]) -> anyhow::Result<()> {
    let (format, note) = format(args);
    let table = table_options(args);
    with_output(args.output.as_deref(), inputs, |out| result::render(result, format, &table, out))?;
    if let Some(note) = note {
        eprintln!("tally: note: {note}");
    }
    Ok(())
}

/// Bytes in MiB, for the `-v` memory lines (exec/memory.rs says what the two figures are).
fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1u64 << 20) as f64
}
