//! `tally quantile`: its own flags (column, probabilities, method, approximation) on top of the shared ones.

use tally_engine::Analysis;
use tally_engine::analysis::QuantileRequest;
use tally_engine::exec::Cancel;

use crate::analysis::run_and_render;
use crate::args::QuantileArgs;

pub(crate) fn run(args: QuantileArgs, cancel: &Cancel) -> anyhow::Result<()> {
    run_and_render(&args.path, &analysis(&args), &args.run, cancel)?;
    Ok(())
}

/// The analysis these flags ask for (shared with `tally bench --analysis quantile`).
pub(crate) fn analysis(args: &QuantileArgs) -> Analysis {
    Analysis::Quantile(QuantileRequest {
        column: args.column.clone(),
        probabilities: args.q.split(',').map(|q| q.trim().to_string()).filter(|q| !q.is_empty()).collect(),
        method: args.method,
        approx: args.approx.then_some(args.rel_error),
        collect_limit: None,
    })
}
