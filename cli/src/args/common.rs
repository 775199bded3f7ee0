//! The flags every analysis shares (issue 8, item 2), defined once and flattened into each subcommand
//! (`#[command(flatten)]`), so `describe` today and `hist`, `corr`, `quantile` later parse, document and
//! validate them identically. `crate::options` maps them to engine options in one place.

use std::path::PathBuf;

use clap::{ArgAction, Args, ValueEnum};

/// How an analysis runs, where its result goes, and what it says on stderr.
#[derive(Debug, Args)]
pub(crate) struct AnalysisArgs {
    /// More input files, read after the first as one dataset (same format and columns); quoted glob
    /// patterns such as 'logs/2026-*.parquet' expand in sorted order.
    #[arg(value_name = "MORE")]
    pub(crate) more: Vec<PathBuf>,
    /// How chunks are run: `processes` (a pool of worker processes over shared memory), `threads` (one
    /// process), `serial` (one thread, the reference) or `mpi` (the ranks of an MPI job). Results are
    /// bit-identical.
    #[arg(long, value_enum, default_value_t = ExecutorArg::Processes, help_heading = "Execution")]
    pub(crate) executor: ExecutorArg,
    /// Worker processes or threads, 1 to 1024 [default: the number of cores]. Ignored (with a warning) by
    /// `--executor serial`.
    #[arg(long, value_parser = parse_workers, help_heading = "Execution")]
    pub(crate) workers: Option<u64>,
    /// Rows per chunk, the unit of work; results do not depend on the worker count for a fixed value
    /// [default: 1048576; groupby, exact distinct and top: an eighth of the rows, 1048576 to 16777216].
    #[arg(long, value_parser = parse_at_least_one, help_heading = "Execution")]
    pub(crate) chunk_rows: Option<u64>,
    /// Seconds a worker process may spend on one chunk before it is killed and the chunk retried
    /// (`--executor processes` only) [default: no chunk timeout].
    #[arg(long, value_parser = parse_seconds, value_name = "SECS", help_heading = "Execution")]
    pub(crate) chunk_timeout: Option<std::time::Duration>,
    /// Keep only the rows where this SQL expression is true, e.g. "k1 < 500 and c is not null"
    /// (comparisons, and/or/not, in, between, `is [not] null`; NaN sorts above +inf and equals itself).
    /// Dropped rows count neither as values nor as nulls [default: every row].
    #[arg(long = "where", value_name = "EXPR", help_heading = "Execution")]
    pub(crate) filter: Option<String>,
    /// Also write the merged state to this file, for `tally merge` (see README, "State files").
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub(crate) save_state: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) input: InputArgs,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
    #[command(flatten)]
    pub(crate) log: LogArgs,
}

/// How to read inputs that do not describe themselves: CSV's dialect and column types.
#[derive(Debug, Default, Args)]
pub(crate) struct InputArgs {
    /// CSV field separator, one character (`\t` for tab) [default: `,`; tab for .tsv files].
    #[arg(long, value_parser = parse_char, value_name = "CHAR", help_heading = "Input")]
    pub(crate) csv_delimiter: Option<u8>,
    /// CSV quote character.
    #[arg(long, value_parser = parse_char, default_value = "\"", value_name = "CHAR", help_heading = "Input")]
    pub(crate) csv_quote: u8,
    /// CSV escape character inside quoted fields [default: none; a doubled quote is a quote].
    #[arg(long, value_parser = parse_char, value_name = "CHAR", help_heading = "Input")]
    pub(crate) csv_escape: Option<u8>,
    /// A CSV field that means null, matched whole; repeat for several [default: the empty field and NA].
    #[arg(long, value_name = "TEXT", help_heading = "Input")]
    pub(crate) csv_null: Vec<String>,
    /// The CSV file has no header line: columns are named c0, c1, ...
    #[arg(long, help_heading = "Input")]
    pub(crate) csv_no_header: bool,
    /// Threads that split and decode a CSV file; the result is the same for any number [default: one per
    /// core].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024), value_name = "N", help_heading = "Input")]
    pub(crate) csv_threads: Option<u32>,
    /// Column types instead of the inferred ones, e.g. `id:i64,price:f64,code:str` (types: i8..i64,
    /// u8..u64, f32, f64, bool, str, date).
    #[arg(long, value_parser = parse_schema, value_name = "NAME:TYPE,...", help_heading = "Input")]
    pub(crate) schema: Option<SchemaOverrides>,
    /// Column names for a `.npy` array, comma-separated, one per array column [default: c0, c1, ...].
    #[arg(long, value_delimiter = ',', value_name = "NAME,...", help_heading = "Input")]
    pub(crate) names: Option<Vec<String>>,
}

/// `--schema`'s parsed list (a newtype: clap would take a bare `Vec` for a repeated flag).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct SchemaOverrides(pub(crate) Vec<(String, arrow_schema::DataType)>);

impl InputArgs {
    /// The engine's input options for these flags.
    pub(crate) fn to_options(&self) -> tally_engine::source::InputOptions {
        let defaults = tally_engine::source::csv::CsvOptions::default();
        let csv = tally_engine::source::csv::CsvOptions {
            header: !self.csv_no_header,
            delimiter: self.csv_delimiter,
            quote: self.csv_quote,
            escape: self.csv_escape,
            nulls: if self.csv_null.is_empty() { defaults.nulls } else { self.csv_null.clone() },
            schema: self.schema.clone().unwrap_or_default().0,
            infer_records: defaults.infer_records,
            threads: self.csv_threads.map(|n| n as usize),
            piece_bytes: None,
        };
        tally_engine::source::InputOptions { csv, names: self.names.clone() }
    }
}

/// One ASCII character; `\t` (or a real tab) is a tab.
fn parse_char(s: &str) -> Result<u8, String> {
    match s {
        "\\t" | "\t" | "tab" => Ok(b'\t'),
        _ if s.len() == 1 && s.is_ascii() => Ok(s.as_bytes()[0]),
        _ => Err(format!("{s:?} is not one ASCII character")),
    }
}

fn parse_schema(s: &str) -> Result<SchemaOverrides, String> {
    tally_engine::source::csv::parse_schema_overrides(s).map(SchemaOverrides)
}

/// Where a result goes and how it looks.
#[derive(Debug, Args)]
pub(crate) struct OutputArgs {
    /// Output format [default: from the --output file's extension (.json, .csv, .arrow, .txt), else table].
    #[arg(long, value_enum, help_heading = "Output")]
    pub(crate) format: Option<FormatArg>,
    /// Write the result to this file instead of standard output; the file is replaced only when the run
    /// succeeds, and never if it is the input.
    #[arg(long, short, value_name = "FILE", help_heading = "Output")]
    pub(crate) output: Option<PathBuf>,
    /// Table with one row per statistic and one column per input column (the pandas `describe`
    /// orientation) instead of one row per input column.
    #[arg(long, help_heading = "Output")]
    pub(crate) transpose: bool,
}

/// What is said on stderr.
#[derive(Debug, Args)]
pub(crate) struct LogArgs {
    /// More detail on stderr: `-v` the run summary and worker lifecycle, `-vv` also one line per chunk.
    #[arg(long, short, action = ArgAction::Count, help_heading = "Messages")]
    pub(crate) verbose: u8,
    /// No progress bar (warnings and errors are still printed).
    #[arg(long, short, help_heading = "Messages")]
    pub(crate) quiet: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExecutorArg {
    Processes,
    Threads,
    Serial,
    /// Ranks of an MPI job (`mpirun -n R tally ...`; a build with `--features mpi`): each rank runs its
    /// share of the chunks with `--workers` threads, rank 0 merges and prints.
    Mpi,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum FormatArg {
    Table,
    Json,
    Csv,
    /// An Arrow IPC file of the result table, for pipelines.
    Arrow,
}

/// A whole number of at least 1 (clap's own range check says "0 is not in 1..18446744073709551615").
pub(crate) fn parse_at_least_one(s: &str) -> Result<u64, String> {
    let n: u64 = s.trim().parse().map_err(|_| format!("{s:?} is not a whole number"))?;
    if n == 0 { Err("must be at least 1".into()) } else { Ok(n) }
}

fn parse_workers(s: &str) -> Result<u64, String> {
    let n = parse_at_least_one(s)?;
    if n > 1024 { Err("must be at most 1024".into()) } else { Ok(n) }
}

fn parse_seconds(s: &str) -> Result<std::time::Duration, String> {
    let secs: f64 = s.trim().parse().map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if secs.is_finite() && secs > 0.0 && secs < 1e9 {
        Ok(std::time::Duration::from_secs_f64(secs))
    } else {
        Err("must be a positive number of seconds".into())
    }
}
