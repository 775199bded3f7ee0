//! `tally groupby`: keys, the `--agg` list, `--sort`/`--desc`/`--limit` and `--ddof` on top of the shared flags.

use tally_engine::Analysis;
use tally_engine::analysis::{GroupByRequest, parse_aggs};
use tally_engine::exec::Cancel;

use crate::analysis::run_and_render;
use crate::args::GroupByArgs;

pub(crate) fn run(args: GroupByArgs, cancel: &Cancel) -> anyhow::Result<()> {
    run_and_render(&args.path, &analysis(&args)?, &args.run, cancel).map(drop)
}

/// The analysis these flags ask for (shared with `tally bench --analysis groupby`).
pub(crate) fn analysis(args: &GroupByArgs) -> anyhow::Result<Analysis> {
    let aggs = parse_aggs(&args.agg)?;
    let sort = args.sort.as_deref().map(parse_sort).transpose()?;
    Ok(Analysis::GroupBy(GroupByRequest {
        by: args.by.clone(),
        aggs,
        sort,
        desc: args.desc,
        limit: args.limit,
        ddof: args.ddof,
        memory_limit: args.memory_limit,
    }))
}

fn parse_sort(text: &str) -> anyhow::Result<tally_engine::analysis::Aggregation> {
    let mut one = parse_aggs(text)?;
    anyhow::ensure!(one.len() == 1, "--sort takes one aggregation, got {text:?}");
    Ok(one.remove(0))
}
