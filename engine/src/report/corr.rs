//! Rendering a correlation or covariance matrix: JSON (documented in README.md), CSV and Arrow (one row
//! per column, one column per column), and an aligned table.
//!
//! JSON: `{"schema_version", "analysis": "corr", "input": {...}, "rows", "method": "pearson" | "cov",
//! "ddof", "columns": [...], "matrix": [[...]], "n_pairs": [[...]]}`; a correlation that does not exist
//! (a constant column, no common rows) is `null`.

use std::io::Write;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use ndarray::Array2;

use super::hist::input_json;
use super::{RowFilter, SCHEMA_VERSION, float_text};
use crate::analysis::CorrReport;

fn matrix(r: &CorrReport) -> &Array2<Option<f64>> {
    if r.method == "cov" { &r.result.cov } else { &r.result.corr }
}

fn number(x: Option<f64>) -> serde_json::Value {
    match x {
        None => serde_json::Value::Null,
        Some(v) if v.is_finite() => serde_json::json!(v),
        Some(v) => serde_json::json!(float_text(v)),
    }
}

pub fn json(r: &CorrReport, out: &mut dyn Write) -> std::io::Result<()> {
    let m = matrix(r);
    let rows: Vec<Vec<serde_json::Value>> =
        m.rows().into_iter().map(|row| row.iter().map(|&x| number(x)).collect()).collect();
    let n_pairs: Vec<Vec<u64>> = r.result.n_pairs.rows().into_iter().map(|row| row.to_vec()).collect();
    let doc = serde_json::json!({
        "schema_version": SCHEMA_VERSION,
        "analysis": "corr",
        "input": input_json(&r.input),
        "rows": r.rows,
        "method": r.method,
        "ddof": r.ddof,
        "columns": r.columns.iter().map(|c| &c.name).collect::<Vec<_>>(),
        "matrix": rows,
        "n_pairs": n_pairs,
    });
    let doc = super::with_where(doc, r.filter.as_ref());
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

fn cell(x: Option<f64>) -> String {
    x.map_or_else(String::new, float_text)
}

/// `name,<col 1>,<col 2>,...`, one row per column; a missing value is an empty field.
pub fn csv(r: &CorrReport, out: &mut dyn Write) -> std::io::Result<()> {
    let names: Vec<&str> = r.columns.iter().map(|c| c.name.as_str()).collect();
    writeln!(out, "name,{}", names.iter().map(|n| super::csv::quote(n)).collect::<Vec<_>>().join(","))?;
    for (name, row) in names.iter().zip(matrix(r).rows()) {
        let cells: Vec<String> = row.iter().map(|&x| cell(x)).collect();
        writeln!(out, "{},{}", super::csv::quote(name), cells.join(","))?;
    }
    Ok(())
}

/// The matrix as an Arrow record batch: a `name` column, then one nullable Float64 column per column.
pub fn record_batch(r: &CorrReport) -> RecordBatch {
    let m = matrix(r);
    let mut fields = vec![Field::new("name", DataType::Utf8, false)];
    let mut columns: Vec<ArrayRef> = vec![Arc::new(StringArray::from_iter_values(r.columns.iter().map(|c| &c.name)))];
    for (j, c) in r.columns.iter().enumerate() {
        fields.push(Field::new(&c.name, DataType::Float64, true));
        columns.push(Arc::new(Float64Array::from(m.column(j).to_vec())));
    }
    let schema = Schema::new(fields)
        .with_metadata(std::collections::HashMap::from([("method".to_string(), r.method.to_string())]));
    RecordBatch::try_new(Arc::new(schema), columns).expect("k + 1 columns of k rows")
}

/// An aligned matrix, `-` where no value exists: correlations at 6 decimals (the JSON has every digit),
/// covariances as shortest round-trip floats (their scale is the data's).
/// `line_width` is the terminal's (`None`: unlimited).
pub fn table(r: &CorrReport, line_width: Option<usize>, out: &mut dyn Write) -> std::io::Result<()> {
    let m = matrix(r);
    let names: Vec<&str> = r.columns.iter().map(|c| c.name.as_str()).collect();
    let text: Vec<Vec<String>> = m
        .rows()
        .into_iter()
        .map(|row| {
            row.iter()
                .map(|&x| match x {
                    None => "-".to_string(),
                    Some(v) if r.method == "cov" => float_text(v),
                    Some(v) => format!("{v:.6}"),
                })
                .collect()
        })
        .collect();
    let first = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let width =
        text.iter().flatten().map(String::len).chain(names.iter().map(|n| n.chars().count())).max().unwrap_or(1);
    let label = if r.method == "cov" { "covariance" } else { "Pearson correlation" };
    let rows = RowFilter::rows_text(r.filter.as_ref(), r.rows);
    writeln!(out, "{label} of {} columns over {rows} (pairwise-complete)", names.len())?;
    // Wider than the terminal: the matrix is printed in blocks of as many columns as fit, each with the row names.
    let per_block = line_width.map_or(names.len(), |w| (w.saturating_sub(first) / (width + 2)).max(1));
    for (b, cols) in (0..names.len()).collect::<Vec<_>>().chunks(per_block).enumerate() {
        if b > 0 {
            writeln!(out)?;
        }
        write!(out, "{:first$}", "")?;
        for &j in cols {
            write!(out, "  {:>width$}", names[j])?;
        }
        writeln!(out)?;
        for (name, row) in names.iter().zip(&text) {
            write!(out, "{name:<first$}")?;
            for &j in cols {
                write!(out, "  {:>width$}", row[j])?;
            }
            writeln!(out)?;
        }
    }
    Ok(())
}
