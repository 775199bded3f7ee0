//! `tally corr`: the columns, `--cov` and `--ddof` on top of the shared flags.

use tally_engine::Analysis;
use tally_engine::analysis::CorrRequest;
use tally_engine::exec::Cancel;

use crate::analysis::run_and_render;
use crate::args::CorrArgs;

pub(crate) fn run(args: CorrArgs, cancel: &Cancel) -> anyhow::Result<()> {
    run_and_render(&args.path, &analysis(&args), &args.run, cancel).map(drop)
}

/// The analysis these flags ask for (shared with `tally bench --analysis corr`).
pub(crate) fn analysis(args: &CorrArgs) -> Analysis {
    let columns = args.select.selection().unwrap_or_default();
    Analysis::Corr(CorrRequest { columns, cov: args.cov, ddof: args.ddof })
}
