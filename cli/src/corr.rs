//! `tally corr`: the columns, `--cov` and `--ddof` on top of the shared flags.

use tally_engine::Analysis;
use tally_engine::analysis::CorrRequest;
use tally_engine::exec::Cancel;

use crate::analysis::run_and_render;
use crate::args::CorrArgs;

pub(crate) fn run(args: CorrArgs, cancel: &Cancel) -> anyhow::Result<()> {
    let columns: Vec<String> = args.columns.iter().chain(&args.column).cloned().collect();
    let request = CorrRequest { columns, cov: args.cov, ddof: args.ddof };
    run_and_render(&args.path, &Analysis::Corr(request), &args.run, cancel).map(drop)
}
