//! `tally distinct` and `tally top`: column selection, `--approx`, `-k` on top of the shared flags.

use tally_engine::Analysis;
use tally_engine::analysis::{DistinctRequest, TopRequest};
use tally_engine::exec::Cancel;

use crate::analysis::run_and_render;
use crate::args::{DistinctArgs, TopArgs};

pub(crate) fn run_distinct(args: DistinctArgs, cancel: &Cancel) -> anyhow::Result<()> {
    run_and_render(&args.path, &distinct_analysis(&args), &args.run, cancel).map(drop)
}

pub(crate) fn run_top(args: TopArgs, cancel: &Cancel) -> anyhow::Result<()> {
    run_and_render(&args.path, &top_analysis(&args), &args.run, cancel).map(drop)
}

/// The analyses these flags ask for (shared with `tally bench --analysis distinct|top`).
pub(crate) fn distinct_analysis(args: &DistinctArgs) -> Analysis {
    Analysis::Distinct(DistinctRequest {
        columns: args.select.selection().unwrap_or_default(),
        approx: args.approx,
        memory_limit: args.memory_limit,
    })
}

pub(crate) fn top_analysis(args: &TopArgs) -> Analysis {
    Analysis::Top(TopRequest { column: args.column.clone(), k: args.k, memory_limit: args.memory_limit })
}
