//! Command-line arguments (clap derive). Parsing only: validation that needs the data lives in the engine.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Fast, exact, parallel statistics over Arrow files.
#[derive(Debug, Parser)]
#[command(name = "tally", version, about, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Count, nulls, NaN, min, max, sum, mean, var, std, skewness and kurtosis of each column.
    Describe(DescribeArgs),
    /// The columns of a file: names, types, and whether tally computes statistics on them.
    Schema(SchemaArgs),
    /// Write a deterministic synthetic Arrow file (the benchmark and example data set).
    Gen(GenArgs),
    /// Internal: run as a worker process of `--executor processes` (frames on stdin/stdout).
    #[command(name = "__worker", hide = true)]
    Worker,
}

#[derive(Debug, Args)]
pub(crate) struct DescribeArgs {
    /// Input file (Arrow IPC file format; detected by content, not extension).
    pub(crate) path: PathBuf,
    /// Comma-separated column names, in output order (default: all columns).
    #[arg(long, value_delimiter = ',')]
    pub(crate) columns: Option<Vec<String>>,
    /// Worker processes or threads (default: the number of cores).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub(crate) workers: Option<u64>,
    /// How chunks are run: `processes` (a pool of worker processes over shared memory), `threads`
    /// (one process), or `serial` (one thread, the reference). Results are identical.
    #[arg(long, value_enum, default_value_t = ExecutorArg::Processes)]
    pub(crate) executor: ExecutorArg,
    /// Seconds a worker process may spend on one chunk before it is killed and the chunk retried.
    #[arg(long, value_parser = parse_seconds)]
    pub(crate) chunk_timeout: Option<std::time::Duration>,
    /// Rows per chunk, the unit of work; results do not depend on the worker count for a fixed value.
    #[arg(long, default_value_t = tally_engine::plan::DEFAULT_CHUNK_ROWS,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) chunk_rows: u64,
    /// Correctly rounded sum and mean of float columns (exact accumulation; slower).
    #[arg(long)]
    pub(crate) exact: bool,
    /// Delta degrees of freedom of var and std: 1 for the sample variance, 0 for the population variance.
    #[arg(long, default_value_t = 1)]
    pub(crate) ddof: u64,
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub(crate) format: FormatArg,
    /// Write the result to this file instead of standard output.
    #[arg(long, short)]
    pub(crate) output: Option<PathBuf>,
    /// Print run details (executor, workers, chunks, time) and worker logs on stderr; twice (`-vv`) adds
    /// one line per chunk.
    #[arg(long, short, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
    /// No progress bar.
    #[arg(long, short)]
    pub(crate) quiet: bool,
}

fn parse_seconds(s: &str) -> Result<std::time::Duration, String> {
    let secs: f64 = s.parse().map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if secs.is_finite() && secs > 0.0 && secs < 1e9 {
        Ok(std::time::Duration::from_secs_f64(secs))
    } else {
        Err("must be a positive number of seconds".into())
    }
}

#[derive(Debug, Args)]
pub(crate) struct SchemaArgs {
    pub(crate) path: PathBuf,
    #[arg(long, value_enum, default_value_t = SchemaFormatArg::Table)]
    pub(crate) format: SchemaFormatArg,
}

#[derive(Debug, Args)]
pub(crate) struct GenArgs {
    /// Output file (overwritten).
    pub(crate) path: PathBuf,
    #[arg(long)]
    pub(crate) rows: u64,
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) batch_rows: u64,
    /// No progress bar.
    #[arg(long, short)]
    pub(crate) quiet: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExecutorArg {
    Processes,
    Threads,
    Serial,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum FormatArg {
    Table,
    Json,
    Csv,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum SchemaFormatArg {
    Table,
    Json,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("tally").chain(args.iter().copied()))
    }

    fn describe(args: &[&str]) -> DescribeArgs {
        match parse(args).unwrap().command {
            Command::Describe(d) => d,
            other => panic!("expected describe, got {other:?}"),
        }
    }

    #[test]
    fn describe_defaults() {
        let d = describe(&["describe", "x.arrow"]);
        assert_eq!(d.columns, None);
        assert_eq!(d.workers, None);
        assert_eq!(d.executor, ExecutorArg::Processes);
        assert_eq!(d.chunk_timeout, None);
        assert_eq!(d.chunk_rows, tally_engine::plan::DEFAULT_CHUNK_ROWS);
        assert_eq!((d.exact, d.ddof, d.format), (false, 1, FormatArg::Table));
    }

    #[test]
    fn columns_split_on_commas() {
        let d = describe(&["describe", "x", "--columns", "a,d"]);
        assert_eq!(d.columns, Some(vec!["a".to_string(), "d".to_string()]));
    }

    #[test]
    fn workers_and_chunk_rows_reject_zero() {
        assert!(parse(&["describe", "x", "--workers", "0"]).is_err());
        assert!(parse(&["describe", "x", "--chunk-rows", "0"]).is_err());
        assert_eq!(describe(&["describe", "x", "--workers", "3"]).workers, Some(3));
    }

    #[test]
    fn executor_and_format_are_closed_sets() {
        assert_eq!(describe(&["describe", "x", "--executor", "serial"]).executor, ExecutorArg::Serial);
        assert!(parse(&["describe", "x", "--executor", "gpu"]).is_err());
        assert_eq!(describe(&["describe", "x", "--format", "csv"]).format, FormatArg::Csv);
        assert!(parse(&["describe", "x", "--format", "xml"]).is_err());
    }

    #[test]
    fn chunk_timeout_takes_positive_seconds() {
        let d = describe(&["describe", "x", "--chunk-timeout", "1.5"]);
        assert_eq!(d.chunk_timeout, Some(std::time::Duration::from_millis(1500)));
        assert!(parse(&["describe", "x", "--chunk-timeout", "0"]).is_err());
        assert!(parse(&["describe", "x", "--chunk-timeout", "soon"]).is_err());
    }

    #[test]
    fn worker_subcommand_is_hidden_but_parses() {
        assert!(matches!(parse(&["__worker"]).unwrap().command, Command::Worker));
        let help = Cli::command().render_help().to_string();
        assert!(!help.contains("__worker"));
    }

    #[test]
    fn exact_and_ddof() {
        let d = describe(&["describe", "x", "--exact", "--ddof", "0"]);
        assert!(d.exact);
        assert_eq!(d.ddof, 0);
    }

    #[test]
    fn gen_requires_rows() {
        assert!(parse(&["gen", "out.arrow"]).is_err());
        match parse(&["gen", "out.arrow", "--rows", "10", "--seed", "7"]).unwrap().command {
            Command::Gen(g) => assert_eq!((g.rows, g.seed, g.batch_rows), (10, 7, 1_000_000)),
            other => panic!("expected gen, got {other:?}"),
        }
    }
}
