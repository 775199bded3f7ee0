//! Command-line arguments (clap derive). Parsing only: validation that needs the data lives in the engine.
//! The shared flags are in `common.rs`; each subcommand adds only its own.

mod common;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
pub(crate) use common::{AnalysisArgs, ExecutorArg, FormatArg, InputArgs, LogArgs, OutputArgs};

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
    /// Histogram of one numeric column: NumPy's equal-width bins (or explicit edges), under/overflow apart.
    Hist(HistArgs),
    /// Pearson correlation (or covariance) matrix of numeric columns, pairwise-complete.
    Corr(CorrArgs),
    /// Quantiles of one numeric column: exact (NumPy's methods, a few passes, bounded memory) or --approx.
    Quantile(QuantileArgs),
    /// Aggregations of numeric columns per distinct key (count, sum, mean, min, max, var, std, ...).
    Groupby(GroupByArgs),
    /// Distinct values per column (exact, or HyperLogLog estimates with --approx); nulls and NaN apart.
    Distinct(DistinctArgs),
    /// The most frequent values of a column with exact counts (ties by value ascending).
    Top(TopArgs),
    /// Merge states saved with --save-state (in the order given) and print the finished result.
    Merge(MergeArgs),
    /// The columns of a file: names, types, and whether tally computes statistics on them.
    Schema(SchemaArgs),
    /// Write a deterministic synthetic Arrow file (the benchmark and example data set).
    Gen(GenArgs),
    /// Convert any input (Parquet, CSV, .npy, Arrow IPC; or a dataset of several) to an Arrow IPC file,
    /// uncompressed and 64-byte aligned by default: the layout tally reads zero-copy.
    Convert(ConvertArgs),
    /// Measure how an analysis scales with workers and executors here, against the machine's memory
    /// ceiling (`tally bench --help` for its flags; the analysis' own flags mix in).
    #[command(disable_help_flag = true, disable_version_flag = true)]
    Bench(BenchWords),
    /// Internal: run as a worker process of `--executor processes` (frames on stdin/stdout).
    #[command(name = "__worker", hide = true)]
    Worker,
}

/// `tally bench`'s words, parsed by `bench::args` (they mix the bench's flags with the analysis' own).
#[derive(Debug, Args)]
pub(crate) struct BenchWords {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0.., value_name = "ARGS")]
    pub(crate) words: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct DescribeArgs {
    /// Input: an Arrow IPC file or stream, Parquet, CSV or .npy (detected by content, not extension), a
    /// pipe, `-` for standard input, or a quoted glob pattern.
    pub(crate) path: PathBuf,
    #[command(flatten)]
    pub(crate) select: ColumnArgs,
    /// Correctly rounded sum and mean of float columns: the default now (it costs ~3% on most data), so
    /// the flag only keeps older scripts working.
    #[arg(long, conflicts_with = "compensated")]
    pub(crate) exact: bool,
    /// Compensated (TwoSum) instead of correctly rounded float sums and means: within README's bound,
    /// faster only on columns whose values span more than 2^27 in magnitude within a block.
    #[arg(long)]
    pub(crate) compensated: bool,
    /// Delta degrees of freedom of var and std: 1 for the sample variance, 0 for the population variance.
    #[arg(long, default_value_t = 1)]
    pub(crate) ddof: u64,
    /// Also the exact quantiles (NumPy's `linear` method) of the numeric columns, e.g. 0.25,0.5,0.75; they
    /// take a few more passes over the data.
    #[arg(long, value_delimiter = ',', value_name = "Q1,Q2,...")]
    pub(crate) quantiles: Vec<String>,
    #[command(flatten)]
    pub(crate) run: AnalysisArgs,
}

/// Column selection shared by the analyses over several columns.
#[derive(Debug, Args)]
pub(crate) struct ColumnArgs {
    /// Comma-separated column names, in output order [default: all columns] (corr: at least two). Spaces around
    /// names are ignored; `#N` is the column at position N (0-based, as `tally schema` numbers them).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub(crate) columns: Vec<String>,
    /// One column name, taken as it is (commas included); repeatable, appended after --columns.
    #[arg(long, value_name = "NAME")]
    pub(crate) column: Vec<String>,
}

impl ColumnArgs {
    /// The selected columns in order (`None`: none named).
    pub(crate) fn selection(&self) -> Option<Vec<String>> {
        let all: Vec<String> = self.columns.iter().chain(&self.column).cloned().collect();
        (!all.is_empty()).then_some(all)
    }
}

impl DescribeArgs {
    /// The selected columns in order (`None`: all).
    pub(crate) fn selection(&self) -> Option<Vec<String>> {
        self.select.selection()
    }
}

#[derive(Debug, Args)]
pub(crate) struct HistArgs {
    /// Input: an Arrow IPC file or stream, a pipe, or `-` for standard input.
    pub(crate) path: PathBuf,
    /// The numeric column to count.
    #[arg(long, value_name = "NAME")]
    pub(crate) column: String,
    /// Number of equal-width bins [default: 10, as NumPy].
    /// Or a NumPy bin rule: auto, fd, sturges, sqrt, doane, scott, rice or stone (estimated from the data).
    #[arg(long, value_parser = parse_bins, value_name = "N|RULE")]
    pub(crate) bins: Option<BinsArg>,
    /// Explicit bin edges, comma-separated and non-decreasing (instead of --bins and --range).
    #[arg(long, value_parser = parse_edges, value_name = "E0,E1,...")]
    pub(crate) edges: Option<Edges>,
    /// The range the bins cover, `LO,HI` [default: the column's finite min and max (one more pass)].
    #[arg(long, value_parser = parse_range, value_name = "LO,HI", allow_hyphen_values = true)]
    pub(crate) range: Option<(f64, f64)>,
    /// Also draw the histogram into this SVG file.
    #[arg(long, value_name = "FILE.svg")]
    pub(crate) plot: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) run: AnalysisArgs,
}

#[derive(Debug, Args)]
pub(crate) struct QuantileArgs {
    /// Input: an Arrow IPC file or stream, a pipe, or `-` for standard input.
    pub(crate) path: PathBuf,
    /// The numeric column.
    #[arg(long, value_name = "NAME")]
    pub(crate) column: String,
    /// Probabilities in [0, 1], comma-separated, read exactly as decimals (0.29 is 29/100).
    #[arg(long = "q", value_name = "Q1,Q2,...", allow_hyphen_values = true)]
    pub(crate) q: String,
    /// How to interpolate between the order statistics around the rank (NumPy's methods).
    #[arg(long, value_parser = parse_method, default_value = "linear", value_name = "linear|lower|higher|nearest|midpoint")]
    pub(crate) method: tally_engine::analysis::quantile::Method,
    /// Approximate quantiles from a one-pass sketch with a guaranteed relative error (see --rel-error).
    #[arg(long)]
    pub(crate) approx: bool,
    /// Relative error bound of --approx quantiles, in (0, 1).
    #[arg(long, value_name = "E", default_value_t = 0.01, requires = "approx")]
    pub(crate) rel_error: f64,
    #[command(flatten)]
    pub(crate) run: AnalysisArgs,
}

#[derive(Debug, Args)]
pub(crate) struct CorrArgs {
    /// Input: an Arrow IPC file or stream, a pipe, or `-` for standard input.
    pub(crate) path: PathBuf,
    /// The numeric columns (at least two), in matrix order.
    #[command(flatten)]
    pub(crate) select: ColumnArgs,
    /// The sample covariance matrix instead of the correlation.
    #[arg(long)]
    pub(crate) cov: bool,
    /// Delta degrees of freedom of the covariance: 1 for the sample covariance, 0 for the population one.
    #[arg(long, default_value_t = 1)]
    pub(crate) ddof: u64,
    #[command(flatten)]
    pub(crate) run: AnalysisArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ConvertArgs {
    /// Input file(s) (or quoted glob patterns, read as one dataset), then the output Arrow IPC file; an
    /// existing output is replaced only when the new one is complete.
    #[arg(required = true, num_args = 2.., value_name = "IN... OUT")]
    pub(crate) paths: Vec<PathBuf>,
    /// Compress record batch bodies (smaller file; read back through a decompressing copy).
    #[arg(long, value_enum, default_value_t = CompressionArg::None)]
    pub(crate) compression: CompressionArg,
    #[command(flatten)]
    pub(crate) input: InputArgs,
    #[command(flatten)]
    pub(crate) log: LogArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum CompressionArg {
    None,
    Lz4,
    Zstd,
}

#[derive(Debug, Args)]
pub(crate) struct MergeArgs {
    /// State files written by --save-state, merged in this order.
    #[arg(required = true, value_name = "STATE")]
    pub(crate) states: Vec<PathBuf>,
    /// Also write the merged state to this file.
    #[arg(long, value_name = "FILE")]
    pub(crate) save_state: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
    #[command(flatten)]
    pub(crate) log: LogArgs,
}

/// `--method`: NumPy's names, as the engine spells them.
fn parse_method(s: &str) -> Result<tally_engine::analysis::quantile::Method, String> {
    use tally_engine::analysis::quantile::Method;
    Method::parse(s.trim()).ok_or_else(|| {
        let names: Vec<&str> = Method::ALL.iter().map(|m| m.name()).collect();
        format!("{s:?} is not a method; the methods are {}", names.join(", "))
    })
}

/// `--bins`: a count or a rule name.
#[derive(Clone, Copy, Debug)]
pub(crate) enum BinsArg {
    Count(usize),
    Rule(tally_engine::analysis::hist_rules::BinRule),
}

fn parse_bins(s: &str) -> Result<BinsArg, String> {
    if let Some(rule) = tally_engine::analysis::hist_rules::BinRule::parse(s.trim()) {
        return Ok(BinsArg::Rule(rule));
    }
    parse_bin_count(s).map(BinsArg::Count).map_err(|e| {
        if s.trim().chars().all(|c| c.is_ascii_digit()) {
            e
        } else {
            format!("{s:?} is neither a number of bins nor a rule (auto, fd, sturges, sqrt, doane, scott, rice, stone)")
        }
    })
}

fn parse_bin_count(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) if n <= 10_000_000 => Ok(n),
        Ok(_) => Err("at most 10000000 bins".into()),
        Err(_) => Err(format!("{s:?} is not a number of bins")),
    }
}

fn parse_number(s: &str) -> Result<f64, String> {
    let x: f64 = s.trim().parse().map_err(|_| format!("{:?} is not a number", s.trim()))?;
    if x.is_finite() { Ok(x) } else { Err(format!("{:?} is not finite", s.trim())) }
}

/// `--edges` as one value (clap would take a bare `Vec` for a repeated flag).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Edges(pub(crate) Vec<f64>);

fn parse_edges(s: &str) -> Result<Edges, String> {
    s.split(',').map(parse_number).collect::<Result<_, _>>().map(Edges)
}

fn parse_range(s: &str) -> Result<(f64, f64), String> {
    let (lo, hi) = s.split_once(',').ok_or_else(|| format!("{s:?} is not LO,HI"))?;
    let (lo, hi) = (parse_number(lo)?, parse_number(hi)?);
    if lo > hi {
        return Err(format!("the low end {lo} is above the high end {hi}"));
    }
    Ok((lo, hi))
}

#[derive(Debug, Args)]
pub(crate) struct SchemaArgs {
    /// Input: an Arrow IPC file or stream, Parquet, CSV, a pipe, or `-` for standard input.
    pub(crate) path: PathBuf,
    #[command(flatten)]
    pub(crate) input: InputArgs,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

#[derive(Debug, Args)]
pub(crate) struct GenArgs {
    /// Output file; an existing file is replaced only when the new one is complete.
    pub(crate) path: PathBuf,
    /// Number of rows to write (the file takes about 52 bytes per row).
    #[arg(long)]
    pub(crate) rows: u64,
    /// Random seed: the same rows and seed give the same values.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Rows per record batch: changes the file layout, never the values.
    #[arg(long, default_value_t = 1_000_000, value_parser = common::parse_at_least_one)]
    pub(crate) batch_rows: u64,
    #[command(flatten)]
    pub(crate) log: LogArgs,
}

#[cfg(test)]
mod tests {
    //! One test per flag (ripgrep style): its default, a value, and what it refuses.
    use std::time::Duration;

    use clap::CommandFactory;

    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("tally").chain(args.iter().copied()))
    }

    fn describe(args: &[&str]) -> DescribeArgs {
        let argv: Vec<&str> = ["describe", "x.arrow"].iter().chain(args).copied().collect();
        match parse(&argv).unwrap().command {
            Command::Describe(d) => d,
            other => panic!("expected describe, got {other:?}"),
        }
    }

    fn refused(args: &[&str]) -> String {
        let argv: Vec<&str> = ["describe", "x.arrow"].iter().chain(args).copied().collect();
        parse(&argv).unwrap_err().to_string()
    }

    #[test]
    fn flag_columns() {
        assert_eq!(describe(&[]).selection(), None);
        assert_eq!(describe(&["--columns", "a,d"]).selection(), Some(vec!["a".into(), "d".into()]));
        assert_eq!(describe(&["--columns", "a", "--columns", "b"]).selection(), Some(vec!["a".into(), "b".into()]));
    }

    #[test]
    fn flag_csv_threads() {
        assert_eq!(describe(&[]).run.input.to_options().csv.threads, None);
        assert_eq!(describe(&["--csv-threads", "3"]).run.input.to_options().csv.threads, Some(3));
        assert!(refused(&["--csv-threads", "0"]).contains("--csv-threads"));
    }

    #[test]
    fn flag_column() {
        let d = describe(&["--columns", "a", "--column", "x,y", "--column", "z"]);
        assert_eq!(d.selection(), Some(vec!["a".into(), "x,y".into(), "z".into()]));
    }

    #[test]
    fn flag_workers() {
        assert_eq!(describe(&[]).run.workers, None);
        assert_eq!(describe(&["--workers", "3"]).run.workers, Some(3));
        assert!(refused(&["--workers", "0"]).contains("must be at least 1"));
        assert!(refused(&["--workers", "2000"]).contains("must be at most 1024"));
    }

    #[test]
    fn flag_executor() {
        assert_eq!(describe(&[]).run.executor, ExecutorArg::Processes);
        assert_eq!(describe(&["--executor", "serial"]).run.executor, ExecutorArg::Serial);
        assert_eq!(describe(&["--executor", "threads"]).run.executor, ExecutorArg::Threads);
        assert!(parse(&["describe", "x", "--executor", "gpu"]).is_err());
    }

    #[test]
    fn flag_chunk_rows() {
        assert_eq!(describe(&[]).run.chunk_rows, None, "the analysis's default");
        assert_eq!(describe(&["--chunk-rows", "10"]).run.chunk_rows, Some(10));
        assert!(refused(&["--chunk-rows", "0"]).contains("must be at least 1"));
        assert!(refused(&["--chunk-rows", "many"]).contains("is not a whole number"));
    }

    #[test]
    fn flag_chunk_timeout() {
        assert_eq!(describe(&[]).run.chunk_timeout, None);
        assert_eq!(describe(&["--chunk-timeout", "1.5"]).run.chunk_timeout, Some(Duration::from_millis(1500)));
        assert!(refused(&["--chunk-timeout", "0"]).contains("positive number of seconds"));
        assert!(parse(&["describe", "x", "--chunk-timeout", "soon"]).is_err());
    }

    #[test]
    fn flag_where_and_save_state_are_reserved() {
        let d = describe(&[]);
        assert_eq!((d.run.filter, d.run.save_state), (None, None));
        let d = describe(&["--where", "k1 < 5", "--save-state", "s.tstate"]);
        assert_eq!(d.run.filter.as_deref(), Some("k1 < 5"));
        assert_eq!(d.run.save_state, Some(PathBuf::from("s.tstate")));
    }

    #[test]
    fn flag_format() {
        assert_eq!(describe(&[]).run.output.format, None);
        assert_eq!(describe(&["--format", "csv"]).run.output.format, Some(FormatArg::Csv));
        assert_eq!(describe(&["--format", "json"]).run.output.format, Some(FormatArg::Json));
        assert!(parse(&["describe", "x", "--format", "xml"]).is_err());
    }

    #[test]
    fn flag_output() {
        assert_eq!(describe(&[]).run.output.output, None);
        assert_eq!(describe(&["-o", "r.json"]).run.output.output, Some(PathBuf::from("r.json")));
        assert_eq!(describe(&["--output", "r.csv"]).run.output.output, Some(PathBuf::from("r.csv")));
    }

    #[test]
    fn flag_transpose() {
        assert!(!describe(&[]).run.output.transpose);
        assert!(describe(&["--transpose"]).run.output.transpose);
    }

    #[test]
    fn flag_verbose_counts() {
        assert_eq!(describe(&[]).run.log.verbose, 0);
        assert_eq!(describe(&["-v"]).run.log.verbose, 1);
        assert_eq!(describe(&["-vv"]).run.log.verbose, 2);
        assert_eq!(describe(&["--verbose", "-v"]).run.log.verbose, 2);
    }

    #[test]
    fn flag_quiet() {
        assert!(!describe(&[]).run.log.quiet);
        assert!(describe(&["-q"]).run.log.quiet);
    }

    #[test]
    fn flag_exact() {
        assert!(!describe(&[]).exact);
        assert!(describe(&["--exact"]).exact);
    }

    #[test]
    fn flag_compensated() {
        assert!(!describe(&[]).compensated);
        assert!(describe(&["--compensated"]).compensated);
        assert!(parse(&["describe", "f.arrow", "--exact", "--compensated"]).is_err());
    }

    #[test]
    fn flag_ddof() {
        assert_eq!(describe(&[]).ddof, 1);
        assert_eq!(describe(&["--ddof", "0"]).ddof, 0);
        assert!(parse(&["describe", "x", "--ddof", "-1"]).is_err());
    }

    #[test]
    fn worker_subcommand_is_hidden_but_parses() {
        assert!(matches!(parse(&["__worker"]).unwrap().command, Command::Worker));
        let help = Cli::command().render_help().to_string();
        assert!(!help.contains("__worker"));
    }

    #[test]
    fn gen_flags() {
        assert!(parse(&["gen", "out.arrow"]).is_err());
        match parse(&["gen", "out.arrow", "--rows", "10", "--seed", "7"]).unwrap().command {
            Command::Gen(g) => assert_eq!((g.rows, g.seed, g.batch_rows), (10, 7, 1_000_000)),
            other => panic!("expected gen, got {other:?}"),
        }
        let err = parse(&["gen", "out.arrow", "--rows", "10", "--batch-rows", "0"]).unwrap_err().to_string();
        assert!(err.contains("must be at least 1"), "{err}");
    }

    #[test]
    fn help_states_every_default() {
        let mut cmd = Cli::command();
        let help = cmd.find_subcommand_mut("describe").unwrap().render_long_help().to_string();
        for needle in [
            "[default: processes]",
            "[default: the number of cores]",
            "[default: 1048576; groupby, exact distinct and top: an eighth of the rows",
            "[default: no chunk timeout]",
            "[default: from the --output",
            "[default: all columns]",
            "[default: 1]",
        ] {
            assert!(help.contains(needle), "describe --help lacks {needle:?}:\n{help}");
        }
        let help = cmd.find_subcommand_mut("gen").unwrap().render_long_help().to_string();
        for needle in ["Number of rows", "Random seed", "[default: 1000000]"] {
            assert!(help.contains(needle), "gen --help lacks {needle:?}:\n{help}");
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct GroupByArgs {
    /// Input: an Arrow IPC file or stream, a pipe, or `-` for standard input.
    pub(crate) path: PathBuf,
    /// Key columns, comma-separated: integers, booleans or strings (utf8, large utf8, dictionary). A null
    /// key is a group of its own.
    #[arg(long, value_delimiter = ',', value_name = "K1[,K2...]", required = true)]
    pub(crate) by: Vec<String>,
    /// Aggregations, comma-separated: count, count(x), sum(x), mean(x), min(x), max(x), var(x), std(x),
    /// null_count(x), nan_count(x).
    #[arg(long, default_value = "count", value_name = "LIST")]
    pub(crate) agg: String,
    /// Order the groups by this aggregation (one of --agg) instead of by key; ties stay in key order.
    #[arg(long, value_name = "AGG")]
    pub(crate) sort: Option<String>,
    /// Descending order for --sort (missing values stay last).
    #[arg(long, requires = "sort")]
    pub(crate) desc: bool,
    /// Print at most N groups.
    #[arg(long, value_name = "N")]
    pub(crate) limit: Option<usize>,
    /// Delta degrees of freedom of var and std.
    #[arg(long, default_value_t = 1)]
    pub(crate) ddof: u64,
    /// Refuse an exact run whose estimated state is larger than SIZE (bytes, or with K, M, G: 512M, 2G)
    /// [default: the memory the system has available].
    #[arg(long, value_parser = parse_size, value_name = "SIZE")]
    pub(crate) memory_limit: Option<u64>,
    #[command(flatten)]
    pub(crate) run: AnalysisArgs,
}

#[derive(Debug, Args)]
pub(crate) struct DistinctArgs {
    /// Input: an Arrow IPC file or stream, a pipe, or `-` for standard input.
    pub(crate) path: PathBuf,
    /// The columns to count (integers, booleans, strings, floats).
    #[command(flatten)]
    pub(crate) select: ColumnArgs,
    /// HyperLogLog estimates (Apache DataSketches, 2^14 registers: about 0.8% relative standard error,
    /// 16 KiB per column) instead of exact counts.
    #[arg(long)]
    pub(crate) approx: bool,
    /// Refuse an exact run whose estimated state is larger than SIZE (bytes, or with K, M, G: 512M, 2G)
    /// [default: the memory the system has available].
    #[arg(long, value_parser = parse_size, value_name = "SIZE")]
    pub(crate) memory_limit: Option<u64>,
    #[command(flatten)]
    pub(crate) run: AnalysisArgs,
}

#[derive(Debug, Args)]
pub(crate) struct TopArgs {
    /// Input: an Arrow IPC file or stream, a pipe, or `-` for standard input.
    pub(crate) path: PathBuf,
    /// The column whose values are counted.
    #[arg(long, value_name = "NAME")]
    pub(crate) column: String,
    /// How many values to print.
    #[arg(short = 'k', long = "top", default_value_t = 10, value_name = "N")]
    pub(crate) k: usize,
    /// Refuse an exact run whose estimated state is larger than SIZE (bytes, or with K, M, G: 512M, 2G)
    /// [default: the memory the system has available].
    #[arg(long, value_parser = parse_size, value_name = "SIZE")]
    pub(crate) memory_limit: Option<u64>,
    #[command(flatten)]
    pub(crate) run: AnalysisArgs,
}

/// `1024`, `64K`, `512M`, `2G` (powers of 1024).
fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (digits, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = digits.parse().map_err(|_| format!("{text:?} is not a size (e.g. 512M, 2G)"))?;
    let shift = match unit.trim().to_ascii_uppercase().trim_end_matches("IB").trim_end_matches('B') {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err(format!("{text:?}: unknown unit {unit:?} (K, M, G, T)")),
    };
    n.checked_mul(1 << shift).ok_or_else(|| format!("{text:?} is too large"))
}

#[cfg(test)]
mod size_tests {
    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(super::parse_size("1024"), Ok(1024));
        assert_eq!(super::parse_size("64K"), Ok(64 << 10));
        assert_eq!(super::parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(super::parse_size("2g"), Ok(2 << 30));
        assert!(super::parse_size("2X").is_err() && super::parse_size("M").is_err());
    }
}
