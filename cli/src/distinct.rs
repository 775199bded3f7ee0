//! `tally distinct` and `tally top`: column selection, `--approx`, `-k` on top of the shared flags.

use tally_engine::Analysis;
use tally_engine::analysis::{DistinctRequest, TopRequest};
use tally_engine::exec::Cancel;

use crate::analysis::run_and_render;
use crate::args::{DistinctArgs, TopArgs};

pub(crate) fn run_distinct(args: DistinctArgs, cancel: &Cancel) -> anyhow::Result<()> {
    let request = DistinctRequest {
        columns: args.select.selection().unwrap_or_default(),
        approx: args.approx,
        memory_limit: args.memory_limit,
    };
    run_and_render(&args.path, &Analysis::Distinct(request), &args.run, cancel).map(drop)
}

pub(crate) fn run_top(args: TopArgs, cancel: &Cancel) -> anyhow::Result<()> {
    let request = TopRequest { column: args.column, k: args.k, memory_limit: args.memory_limit };
    run_and_render(&args.path, &Analysis::Top(request), &args.run, cancel).map(drop)
}
