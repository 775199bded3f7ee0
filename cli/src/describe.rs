//! `tally describe`: its own flags (columns, `--exact`/`--compensated`, `--ddof`) on top of the shared ones.

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
    // Correctly rounded sums unless `--compensated` (issue 7: exact extraction inside the fused pass costs
    // ~3% over the compensated sum, so it became the default; `--exact` is kept for scripts).
    let exact = args.exact || !args.compensated;
    Analysis::Describe(DescribeRequest { columns: args.selection(), exact, ddof: args.ddof, quantiles })
}
