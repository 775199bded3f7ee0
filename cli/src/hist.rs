//! `tally hist`: its own flags (column, bins or edges, range, plot) on top of the shared ones.

use tally_engine::Analysis;
use tally_engine::analysis::{AnalysisResult, Bins, HistRequest};
use tally_engine::exec::Cancel;

use crate::analysis::run_and_render;
use crate::args::{BinsArg, HistArgs};

pub(crate) fn run(args: HistArgs, cancel: &Cancel) -> anyhow::Result<()> {
    let outcome = run_and_render(&args.path, &analysis(&args)?, &args.run, cancel)?;
    // `None` on MPI ranks other than 0, which write nothing.
    if let (Some(plot), Some(AnalysisResult::Hist(h))) = (&args.plot, outcome.as_ref().map(|o| &o.result)) {
        let title = format!("{} ({})", h.column, h.type_name);
        tally_engine::report::plot::render_histogram_titled(&h.histogram, &title, plot)?;
    }
    Ok(())
}

/// The analysis these flags ask for (shared with `tally bench --analysis hist`).
pub(crate) fn analysis(args: &HistArgs) -> anyhow::Result<Analysis> {
    let bins = match (&args.edges, args.bins) {
        (Some(_), Some(_)) => anyhow::bail!("--bins and --edges exclude each other"),
        (Some(edges), None) => Bins::Edges(edges.0.clone()),
        (None, Some(BinsArg::Rule(rule))) => Bins::Rule(rule),
        (None, Some(BinsArg::Count(n))) => Bins::Count(n),
        (None, None) => Bins::Count(10),
    };
    Ok(Analysis::Hist(HistRequest { column: args.column.clone(), bins, range: args.range }))
}
