//! Results as Arrow record batches (`--format arrow`), for pipelines: one row per described column.
//!
//! Statistics are Float64 (integer minima, maxima and sums beyond 2^53 are rounded here; the JSON output
//! keeps them exact), counts UInt64, and a statistic that does not exist is null.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt64Array};
use arrow_schema::{DataType, Field, Schema};

use super::{Cell, Report, Shown, float_text};

/// `name`, `type`, then every statistic of [`Report::stat_names`] as a column.
pub fn describe_batch(report: &Report) -> RecordBatch {
    let mut fields = vec![Field::new("name", DataType::Utf8, false), Field::new("type", DataType::Utf8, false)];
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(report.columns.iter().map(|c| &c.name))),
        Arc::new(StringArray::from_iter_values(report.columns.iter().map(|c| &c.type_name))),
    ];
    for name in &report.stat_names() {
        let shown: Vec<Shown<'_>> = report.columns.iter().map(|c| report.shown(c, name)).collect();
        if shown.iter().any(|s| matches!(s, Shown::Text(_))) {
            // Text statistics (decimals, strings, ISO 8601) stay text: a Utf8 column, numbers as JSON writes them.
            fields.push(Field::new(name, DataType::Utf8, true));
            columns.push(Arc::new(StringArray::from_iter(shown.iter().map(shown_text))));
            continue;
        }
        let cells: Vec<Cell> = shown.iter().map(|s| if let Shown::Cell(c) = s { *c } else { Cell::Missing }).collect();
        if cells.iter().all(|c| matches!(c, Cell::Count(_))) {
            fields.push(Field::new(name, DataType::UInt64, false));
            let counts = cells.iter().map(|c| if let Cell::Count(n) = c { *n } else { 0 });
            columns.push(Arc::new(UInt64Array::from_iter_values(counts)));
        } else {
            fields.push(Field::new(name, DataType::Float64, true));
            let values = cells.iter().map(|c| match *c {
                Cell::Missing => None,
                Cell::Count(n) => Some(n as f64),
                Cell::Int(i) => Some(i as f64),
                Cell::Float(f) => Some(f),
            });
            columns.push(Arc::new(Float64Array::from_iter(values)));
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("equal-length columns")
}

fn shown_text(s: &Shown<'_>) -> Option<String> {
    match *s {
        Shown::Text(t) => Some(t.to_string()),
        Shown::Cell(Cell::Missing) => None,
        Shown::Cell(Cell::Count(n)) => Some(n.to_string()),
        Shown::Cell(Cell::Int(i)) => Some(i.to_string()),
        Shown::Cell(Cell::Float(f)) => Some(float_text(f)),
    }
}
