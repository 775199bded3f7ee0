//! Rendering quantiles: JSON (documented in README.md), CSV and Arrow (one row per quantile), and a table.
//!
//! JSON: `{"schema_version", "analysis": "quantile", "input", "rows", "column", "type", "method", "count",
//! "null_count", "nan_count", "quantiles": [{"q", "value"}], "exact": true, "passes"}`, or `"exact": false`
//! with `"approx": {"relative_error": E}`. `q` is the text the user gave; values of integer columns are exact
//! integers, non-finite floats the strings `"NaN"`, `"inf"`, `"-inf"`, and a column without values gives
//! `null`.

use std::io::Write;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};

use super::hist::input_json;
use super::{RowFilter, SCHEMA_VERSION, TableCell, TableColumn, TableOptions, float_text, plural};
use crate::analysis::quantile::QuantileReport;
use crate::stats::Value;

/// A value as JSON: integers exact, finite floats as numbers, the others as their text.
pub(crate) fn value_json(v: Option<Value>) -> serde_json::Value {
    match v {
        None => serde_json::Value::Null,
        Some(Value::Int(i)) => match (i64::try_from(i), u64::try_from(i)) {
            (Ok(i), _) => i.into(),
            (_, Ok(u)) => u.into(),
            _ => i.to_string().into(),
        },
        Some(Value::Float(f)) if f.is_finite() => f.into(),
        Some(Value::Float(f)) => float_text(f).into(),
    }
}

fn value_text(v: Option<Value>) -> String {
    match v {
        None => String::new(),
        Some(Value::Int(i)) => i.to_string(),
        Some(Value::Float(f)) => float_text(f),
    }
}

pub fn json(r: &QuantileReport, out: &mut dyn Write) -> std::io::Result<()> {
    let quantiles: Vec<serde_json::Value> =
        r.quantiles.iter().map(|(q, v)| serde_json::json!({"q": q.text, "value": value_json(*v)})).collect();
    let mut doc = serde_json::json!({
        "schema_version": SCHEMA_VERSION,
        "analysis": "quantile",
        "input": input_json(&r.input),
        "rows": r.rows,
        "column": r.column,
        "type": r.type_name,
        "method": r.method.name(),
        "count": r.counted.count,
        "null_count": r.counted.null_count,
        "nan_count": r.counted.nan_count,
        "quantiles": quantiles,
        "exact": r.approx.is_none(),
    });
    let map = doc.as_object_mut().expect("an object");
    match (r.approx, r.passes) {
        (Some(e), _) => {
            map.insert("approx".into(), serde_json::json!({"relative_error": e}));
        }
        (None, Some(p)) => {
            map.insert("passes".into(), p.into());
        }
        (None, None) => {}
    }
    let doc = super::with_where(doc, r.filter.as_ref());
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// `q,value`, one row per quantile.
pub fn csv(r: &QuantileReport, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "q,value")?;
    for (q, v) in &r.quantiles {
        writeln!(out, "{},{}", q.text, value_text(*v))?;
    }
    Ok(())
}

/// `q` (the text given) and `value` (float64; integer quantiles as their text in `value_text` too, so no
/// integer beyond 2^53 is rounded); the method and counts ride in the schema metadata.
pub fn record_batch(r: &QuantileReport) -> RecordBatch {
    let mut meta = vec![
        ("column", r.column.clone()),
        ("method", r.method.name().to_string()),
        ("count", r.counted.count.to_string()),
        ("null_count", r.counted.null_count.to_string()),
        ("nan_count", r.counted.nan_count.to_string()),
    ];
    if let Some(e) = r.approx {
        meta.push(("relative_error", e.to_string()));
    }
    let schema = Schema::new(vec![
        Field::new("q", DataType::Utf8, false),
        Field::new("value", DataType::Float64, true),
        Field::new("value_text", DataType::Utf8, true),
    ])
    .with_metadata(meta.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<std::collections::HashMap<_, _>>());
    let float = |v: &Option<Value>| v.map(Value::as_f64);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(r.quantiles.iter().map(|(q, _)| q.text.as_str()))),
        Arc::new(Float64Array::from(r.quantiles.iter().map(|(_, v)| float(v)).collect::<Vec<_>>())),
        Arc::new(StringArray::from(
            r.quantiles.iter().map(|(_, v)| v.map(|v| value_text(Some(v)))).collect::<Vec<_>>(),
        )),
    ];
    RecordBatch::try_new(Arc::new(schema), columns).expect("three columns of one row per quantile")
}

pub fn table(r: &QuantileReport, options: &TableOptions, out: &mut dyn Write) -> std::io::Result<()> {
    let how = match (r.approx, r.passes) {
        (Some(e), _) => format!("approximate, relative error ≤ {e}"),
        (None, Some(p)) => format!("exact, {}", plural(p as usize, "pass")),
        (None, None) => "exact".into(),
    };
    let title = format!(
        "{} ({}) over {}: {} values, {} nulls, {} NaN; method {} ({how})",
        r.column,
        r.type_name,
        RowFilter::rows_text(r.filter.as_ref(), r.rows),
        r.counted.count,
        r.counted.null_count,
        r.counted.nan_count,
        r.method.name(),
    );
    let rows = r
        .quantiles
        .iter()
        .map(|(q, v)| {
            let value = match v {
                None => TableCell::Missing,
                Some(Value::Int(i)) => TableCell::Int(*i),
                Some(Value::Float(f)) => TableCell::Float(*f),
            };
            vec![TableCell::Text(q.text.clone()), value]
        })
        .collect();
    let table = super::ResultTable {
        title: Some(title),
        columns: vec![TableColumn::new("q", 0), TableColumn::new("value", 0)],
        rows,
        notation: super::Notation::PerColumn,
    };
    super::table::render(&table, options, out)
}
