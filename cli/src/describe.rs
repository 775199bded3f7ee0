//! `tally describe`: its own flags (columns, `--exact`, `--ddof`) on top of the shared ones.

use tally_engine::Analysis;
use tally_engine::analysis::DescribeRequest;
use tally_engine::exec::Cancel;

use crate::analysis::run_and_render;
use crate::args::DescribeArgs;

pub(crate) fn run(args: DescribeArgs, cancel: &Cancel) -> anyhow::Result<()> {
    run_and_render(&args.path, &analysis(&args), &args.run, cancel).map(drop)
}

/// The analysis these flags ask for (shared with `tally bench --analysis describe`).
pub(crate) fn analysis(args: &DescribeArgs) -> Analysis {
    let quantiles = args.quantiles.iter().map(|q| q.trim().to_string()).filter(|q| !q.is_empty()).collect();
    Analysis::Describe(DescribeRequest { columns: args.selection(), exact: args.exact, ddof: args.ddof, quantiles })
}
