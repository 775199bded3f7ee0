//! The Report: finished statistics with stable names, and the renderers that print them.
//!
//! Field names equal the CLI and JSON names (`mean`, `std`, `nan_count`). The JSON layout is documented in
//! README.md and versioned by [`SCHEMA_VERSION`]; anything that changes it bumps the version.

pub mod arrow;
pub mod bars;
pub mod corr;
pub mod csv;
pub mod hist;
pub mod json;
pub mod plot;
pub mod result;
pub mod table;

pub use arrow::describe_batch;

use std::io::Write;

use crate::stats::{Summary, Value};

/// Version of the JSON output layout.
pub const SCHEMA_VERSION: u32 = 1;

/// What was read.
#[derive(Clone, Debug, PartialEq)]
pub struct InputInfo {
    pub path: String,
    pub format: &'static str,
    pub bytes: u64,
    pub batches: usize,
}

/// The finished statistics of one column.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnReport {
    pub name: String,
    pub type_name: String,
    pub summary: Summary,
}

/// The finished result of `describe`.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub input: InputInfo,
    pub rows: u64,
    pub ddof: u64,
    pub exact: bool,
    pub columns: Vec<ColumnReport>,
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

impl Report {
    pub fn render(&self, format: Format, out: &mut dyn Write) -> std::io::Result<()> {
        match format {
            Format::Table => table::render(self, out),
            Format::Json => json::render(self, out),
            Format::Csv => csv::render(self, out),
            Format::Arrow => result::render(&crate::analysis::AnalysisResult::Describe(self.clone()), format, 0, out),
        }
    }
}

/// The statistics in output order, with their stable names.
pub const STAT_NAMES: [&str; 11] =
    ["count", "null_count", "nan_count", "min", "max", "sum", "mean", "var", "std", "skewness", "kurtosis"];

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
