//! The Report: finished statistics with stable names, and the renderers that print them.
//!
//! Field names equal the CLI and JSON names (`mean`, `std`, `nan_count`). The JSON layout is documented in
//! README.md and versioned by [`SCHEMA_VERSION`]; anything that changes it bumps the version.

pub mod arrow;
pub mod bars;
pub mod corr;
pub mod counts;
pub mod csv;
pub mod groupby;
pub mod hist;
pub mod iso8601;
pub mod json;
pub mod plot;
pub mod quantile;
pub mod result;
pub mod table;
pub mod typed;

pub use arrow::describe_batch;

use std::io::Write;

use crate::stats::{Extra, Summary, Value};

pub use table::{Notation, ResultTable, TableCell, TableColumn, TableOptions};

/// Version of the JSON output layout.
pub const SCHEMA_VERSION: u32 = 1;

/// What was read.
#[derive(Clone, Debug, PartialEq)]
pub struct InputInfo {
    pub path: String,
    pub format: &'static str,
    pub bytes: u64,
    pub batches: usize,
    /// The files of a dataset of several (JSON `input.files`); empty for one file (`path`).
    pub files: Vec<String>,
}

/// A `--where` filter as results report it: the expression and the rows before filtering (the result's
/// own `rows` counts those that passed).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RowFilter {
    pub text: String,
    pub input_rows: u64,
}

impl RowFilter {
    /// `"197970 of 400000 rows where k1 < 500"`, or `"400000 rows"` without a filter.
    pub fn rows_text(filter: Option<&RowFilter>, rows: u64) -> String {
        match filter {
            Some(f) => format!("{rows} of {} where {}", plural(f.input_rows as usize, "row"), f.text),
            None => plural(rows as usize, "row"),
        }
    }
}

/// Adds `"where": {"expression", "input_rows"}` when the result was filtered.
pub(crate) fn with_where(mut doc: serde_json::Value, filter: Option<&RowFilter>) -> serde_json::Value {
    if let (Some(f), Some(map)) = (filter, doc.as_object_mut()) {
        map.insert("where".into(), serde_json::json!({"expression": f.text, "input_rows": f.input_rows}));
    }
    doc
}

/// The finished statistics of one column.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnReport {
    pub name: String,
    pub type_name: String,
    pub summary: Summary,
    /// The exact quantiles of `describe --quantiles`, one per [`Report::quantiles`] label (`None` for
    /// columns without values or that are not numeric).
    pub quantiles: Vec<Option<Value>>,
}

/// The finished result of `describe`.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub input: InputInfo,
    /// Rows that passed the filter (all rows without one).
    pub rows: u64,
    pub filter: Option<RowFilter>,
    pub ddof: u64,
    pub exact: bool,
    pub columns: Vec<ColumnReport>,
    /// Labels of the quantile statistics (`q0.25`, ...) that follow [`STAT_NAMES`]; empty without
    /// `--quantiles`.
    pub quantiles: Vec<String>,
}

impl Report {
    /// The names of every statistic in output order: [`STAT_NAMES`], the [`EXTRA_NAMES`] some column has,
    /// then the quantile labels.
    pub fn stat_names(&self) -> Vec<String> {
        let extras = EXTRA_NAMES.iter().filter(|n| self.columns.iter().any(|c| c.summary.extra(n).is_some()));
        STAT_NAMES.iter().chain(extras).map(|s| s.to_string()).chain(self.quantiles.iter().cloned()).collect()
    }

    /// Statistic `name` of column `c`: its text or extra statistic when it has one, else the numeric one.
    pub fn shown<'a>(&self, c: &'a ColumnReport, name: &str) -> Shown<'a> {
        if let Some(extra) = c.summary.extra(name) {
            return match extra {
                Extra::Count(n) => Shown::Cell(Cell::Count(*n)),
                Extra::Float(f) => Shown::Cell(Cell::Float(*f)),
                Extra::Text(t) => Shown::Text(t),
            };
        }
        if let Some(i) = STAT_NAMES.iter().position(|s| *s == name) {
            return Shown::Cell(c.summary.cell(i));
        }
        let quantile =
            self.quantiles.iter().position(|q| q == name).and_then(|i| c.quantiles.get(i).copied().flatten());
        Shown::Cell(match quantile {
            None => Cell::Missing,
            Some(Value::Int(v)) => Cell::Int(v),
            Some(Value::Float(f)) => Cell::Float(f),
        })
    }
}

/// A statistic as renderers see it: a number, or text (decimals, strings, ISO 8601).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shown<'a> {
    Cell(Cell),
    Text(&'a str),
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
    /// An Arrow IPC file of the result table.
    Arrow,
}

impl Format {
    /// The format a file name asks for by its extension (`.json`, `.csv`; `.txt` for the table).
    pub fn from_extension(path: &std::path::Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            "txt" => Some(Format::Table),
            "arrow" | "feather" => Some(Format::Arrow),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Arrow => "arrow",
        }
    }
}

impl Report {
    pub fn render(&self, format: Format, table: &TableOptions, out: &mut dyn Write) -> std::io::Result<()> {
        match format {
            Format::Table => table::render(&self.table(), table, out),
            Format::Json => json::render(self, out),
            Format::Csv => csv::render(self, out),
            Format::Arrow => result::write_arrow(&describe_batch(self), out),
        }
    }

    /// The describe table: one row per column, the statistics as table columns (DuckDB `SUMMARIZE`).
    pub fn table(&self) -> ResultTable {
        let mut columns = vec![TableColumn::new("name", 0), TableColumn::new("type", 2)];
        columns.extend(STAT_NAMES.iter().zip(STAT_PRIORITY).map(|(n, p)| TableColumn::new(*n, p)));
        let extras = self.stat_names().into_iter().skip(STAT_NAMES.len()).take_while(|n| !self.quantiles.contains(n));
        columns.extend(extras.map(|n| TableColumn::new(n, 3)));
        // Asked-for quantiles are as essential as the mean.
        columns.extend(self.quantiles.iter().map(|q| TableColumn::new(q.clone(), 0)));
        let names = self.stat_names();
        let rows = self
            .columns
            .iter()
            .map(|c| {
                let f32_values = c.type_name == "Float32";
                let mut row = vec![TableCell::Text(c.name.clone()), TableCell::Text(c.type_name.clone())];
                // min and max are values of the column: at its own precision (exact in f32).
                let own_precision = |n: &str| n == "min" || n == "max" || self.quantiles.iter().any(|q| q == n);
                row.extend(names.iter().map(|n| match self.shown(c, n) {
                    Shown::Text(t) => TableCell::Text(t.to_string()),
                    Shown::Cell(Cell::Missing) => TableCell::Missing,
                    Shown::Cell(Cell::Count(n)) => TableCell::Int(n.into()),
                    Shown::Cell(Cell::Int(v)) => TableCell::Int(v),
                    Shown::Cell(Cell::Float(x)) if f32_values && own_precision(n) && f64::from(x as f32) == x => {
                        TableCell::Float32(x as f32)
                    }
                    Shown::Cell(Cell::Float(x)) => TableCell::Float(x),
                }));
                row
            })
            .collect();
        let title = format!(
            "{}: {}, {}",
            self.input.path,
            RowFilter::rows_text(self.filter.as_ref(), self.rows),
            plural(self.columns.len(), "column")
        );
        ResultTable { title: Some(title), columns, rows, notation: Notation::PerRow }
    }
}

/// How easily each statistic is left out of a narrow table (see [`TableColumn::priority`]): count, min,
/// max and mean stay; kurtosis and skewness go first.
const STAT_PRIORITY: [u8; 11] = [0, 1, 2, 0, 0, 3, 0, 3, 1, 4, 4];

/// `1 row`, `2 rows`, `0 rows`, `3 record batches`.
pub fn plural(n: usize, word: &str) -> String {
    let suffix = if word.ends_with("ch") || word.ends_with('s') || word.ends_with('x') { "es" } else { "s" };
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}{suffix}") }
}

/// The statistics in output order, with their stable names.
pub const STAT_NAMES: [&str; 11] =
    ["count", "null_count", "nan_count", "min", "max", "sum", "mean", "var", "std", "skewness", "kurtosis"];

/// Statistics only some column types have, in output order after [`STAT_NAMES`]; a report lists those
/// that at least one of its columns has (`mean_decimal` for decimals; `true_count`, `false_count` for
/// booleans; `min_length`, `max_length`, `mean_length` for strings and binary; `min_iso`, `max_iso` for
/// temporal columns). Decimal and string columns also show `min`, `max` (and decimals `sum`) as text.
pub const EXTRA_NAMES: [&str; 8] =
    ["mean_decimal", "true_count", "false_count", "min_length", "max_length", "mean_length", "min_iso", "max_iso"];

/// A statistic's value as renderers see it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cell {
    Missing,
    Count(u64),
    Int(i128),
    Float(f64),
}

impl Summary {
    /// The statistic named `STAT_NAMES[i]`.
    pub fn cell(&self, i: usize) -> Cell {
        let value = |v: Option<Value>| match v {
            None => Cell::Missing,
            Some(Value::Int(i)) => Cell::Int(i),
            Some(Value::Float(f)) => Cell::Float(f),
        };
        let float = |v: Option<f64>| v.map_or(Cell::Missing, Cell::Float);
        match i {
            0 => Cell::Count(self.count),
            1 => Cell::Count(self.null_count),
            2 => Cell::Count(self.nan_count),
            3 => value(self.min),
            4 => value(self.max),
            5 => value(self.sum),
            6 => float(self.mean),
            7 => float(self.var),
            8 => float(self.std),
            9 => float(self.skewness),
            10 => float(self.kurtosis),
            _ => Cell::Missing,
        }
    }
}

/// Shortest text that parses back to the same f64 (ryu via serde_json), with the JSON spellings of the
/// non-finite values.
pub fn float_text(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x == f64::INFINITY {
        "inf".into()
    } else if x == f64::NEG_INFINITY {
        "-inf".into()
    } else {
        serde_json::to_string(&x).expect("finite floats always serialise")
    }
}
