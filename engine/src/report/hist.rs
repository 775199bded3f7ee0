//! Rendering a histogram: JSON (documented in README.md), CSV and Arrow (one row per bin), and a
//! terminal bar chart.
//!
//! JSON: `{"schema_version", "analysis": "hist", "input": {...}, "rows", "column", "type", "edges": [...],
//! "counts": [...], "underflow", "overflow", "null_count", "nan_count"}`; edges are shortest round-trip
//! floats, counts exact integers.

use std::io::Write;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, UInt64Array};
use arrow_schema::{DataType, Field, Schema};

use super::{RowFilter, SCHEMA_VERSION, float_text};
use crate::analysis::HistReport;
use crate::report::InputInfo;

/// The `input` object every analysis's JSON carries.
pub(crate) fn input_json(input: &InputInfo) -> serde_json::Value {
    let mut doc =
        serde_json::json!({"path": input.path, "format": input.format, "bytes": input.bytes, "batches": input.batches});
    // A dataset of several files lists them, in the order their rows were read.
    if !input.files.is_empty() {
        doc["files"] = serde_json::json!(input.files);
    }
    doc
}

pub fn json(r: &HistReport, out: &mut dyn Write) -> std::io::Result<()> {
    let h = &r.histogram;
    let doc = serde_json::json!({
        "schema_version": SCHEMA_VERSION,
        "analysis": "hist",
        "input": input_json(&r.input),
        "rows": r.rows,
        "column": r.column,
        "type": r.type_name,
        "edges": h.edges,
        "counts": h.counts,
        "underflow": h.underflow,
        "overflow": h.overflow,
        "null_count": h.null_count,
        "nan_count": h.nan_count,
    });
    let doc = super::with_where(doc, r.filter.as_ref());
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// `lo,hi,count`, one row per bin. The underflow, overflow, null and NaN counts are not bins: they are in
/// the JSON and Arrow outputs, not in this table.
pub fn csv(r: &HistReport, out: &mut dyn Write) -> std::io::Result<()> {
    let h = &r.histogram;
    writeln!(out, "lo,hi,count")?;
    for (i, count) in h.counts.iter().enumerate() {
        writeln!(out, "{},{},{count}", float_text(h.edges[i]), float_text(h.edges[i + 1]))?;
    }
    Ok(())
}

/// The bins as an Arrow record batch (`lo`, `hi`, `count`); the other counts ride in the schema metadata.
pub fn record_batch(r: &HistReport) -> RecordBatch {
    let h = &r.histogram;
    let meta = [
        ("column", r.column.clone()),
        ("underflow", h.underflow.to_string()),
        ("overflow", h.overflow.to_string()),
        ("null_count", h.null_count.to_string()),
        ("nan_count", h.nan_count.to_string()),
    ];
    let schema = Schema::new(vec![
        Field::new("lo", DataType::Float64, false),
        Field::new("hi", DataType::Float64, false),
        Field::new("count", DataType::UInt64, false),
    ])
    .with_metadata(meta.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<std::collections::HashMap<_, _>>());
    let n = h.counts.len();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Float64Array::from(h.edges[..n].to_vec())),
        Arc::new(Float64Array::from(h.edges[1..=n].to_vec())),
        Arc::new(UInt64Array::from(h.counts.clone())),
    ];
    RecordBatch::try_new(Arc::new(schema), columns).expect("three columns of n rows")
}

/// A horizontal bar chart fitted to `width` characters, then the counts outside the bins.
pub fn table(r: &HistReport, width: usize, out: &mut dyn Write) -> std::io::Result<()> {
    let h = &r.histogram;
    writeln!(
        out,
        "{} ({}) over {}: {} values in {} bins",
        r.column,
        r.type_name,
        RowFilter::rows_text(r.filter.as_ref(), r.rows),
        h.counts.iter().sum::<u64>(),
        h.counts.len()
    )?;
    // The bar lines end with the underflow, overflow, null and NaN counts.
    for line in super::bars::render_bars(h, width) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}
