//! Rendering `distinct` and `top`: JSON (documented in README.md), CSV and Arrow (one row per column or
//! per value), and the generic result table.
//!
//! distinct JSON: `{"schema_version", "analysis": "distinct", "input", "rows", "method": "exact" | "hll",
//! ["error": {"relative_standard_error", "bounds": "95% (2 standard deviations)"}], "columns": [{"name",
//! "type", "distinct", ["lower", "upper"], "null_count", "nan_count"}]}`; nulls and NaN are not counted
//! in `distinct`. top JSON: `{..., "analysis": "top", "column", "type", "k", "distinct", "null_count",
//! "nan_count", "values": [{"value": v, "count": n}]}` (count descending, ties by value ascending).

use std::io::Write;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt64Array};
use arrow_schema::{DataType, Field, Schema};

use super::groupby::{key_array, key_cell, key_json};
use super::hist::input_json;
use super::{Notation, ResultTable, RowFilter, SCHEMA_VERSION, TableCell, TableColumn, float_text, plural};
use crate::analysis::{DistinctCount, DistinctReport, TopReport};
use crate::stats::groups::KeyKind;
use crate::stats::groups::sketch::LG_K;

/// The sketch's relative standard error, `1.04 / sqrt(2^LG_K)`.
pub fn relative_standard_error() -> f64 {
    1.04 / f64::from(1u32 << LG_K).sqrt()
}

fn write_json(doc: serde_json::Value, filter: Option<&RowFilter>, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &super::with_where(doc, filter))?;
    writeln!(out)
}

pub fn distinct_json(r: &DistinctReport, out: &mut dyn Write) -> std::io::Result<()> {
    let columns: Vec<serde_json::Value> = r
        .columns
        .iter()
        .map(|c| {
            let mut v = serde_json::json!({"name": c.name, "type": c.type_name});
            let map = v.as_object_mut().expect("an object");
            match c.distinct {
                DistinctCount::Exact(n) => {
                    map.insert("distinct".into(), n.into());
                }
                DistinctCount::Approx(e) => {
                    map.insert("distinct".into(), e.estimate.into());
                    map.insert("lower".into(), e.lower.into());
                    map.insert("upper".into(), e.upper.into());
                }
            }
            map.insert("null_count".into(), c.null_count.into());
            map.insert("nan_count".into(), c.nan_count.into());
            v
        })
        .collect();
    let mut doc = serde_json::json!({
        "schema_version": SCHEMA_VERSION,
        "analysis": "distinct",
        "input": input_json(&r.input),
        "rows": r.rows,
        "method": if r.approx { "hll" } else { "exact" },
        "columns": columns,
    });
    if r.approx {
        doc["error"] = serde_json::json!({
            "relative_standard_error": relative_standard_error(),
            "bounds": "95% (2 standard deviations)",
            "sketch": format!("Apache DataSketches HLL, 2^{LG_K} registers"),
        });
    }
    write_json(doc, r.filter.as_ref(), out)
}

fn distinct_text(d: DistinctCount) -> (String, String, String) {
    match d {
        DistinctCount::Exact(n) => (n.to_string(), String::new(), String::new()),
        DistinctCount::Approx(e) => {
            (float_text(e.estimate.round()), float_text(e.lower.floor()), float_text(e.upper.ceil()))
        }
    }
}

/// `name,type,distinct,[lower,upper,]null_count,nan_count`.
pub fn distinct_csv(r: &DistinctReport, out: &mut dyn Write) -> std::io::Result<()> {
    let bounds = if r.approx { "lower,upper," } else { "" };
    writeln!(out, "name,type,distinct,{bounds}null_count,nan_count")?;
    for c in &r.columns {
        let (d, lo, hi) = distinct_text(c.distinct);
        let bounds = if r.approx { format!("{lo},{hi},") } else { String::new() };
        let (name, t) = (super::csv::quote(&c.name), super::csv::quote(&c.type_name));
        writeln!(out, "{name},{t},{d},{bounds}{},{}", c.null_count, c.nan_count)?;
    }
    Ok(())
}

pub fn distinct_batch(r: &DistinctReport) -> RecordBatch {
    let value = |f: fn(&DistinctCount) -> f64| -> ArrayRef {
        Arc::new(Float64Array::from_iter_values(r.columns.iter().map(|c| f(&c.distinct))))
    };
    let mut fields = vec![Field::new("name", DataType::Utf8, false), Field::new("type", DataType::Utf8, false)];
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(r.columns.iter().map(|c| &c.name))),
        Arc::new(StringArray::from_iter_values(r.columns.iter().map(|c| &c.type_name))),
    ];
    if r.approx {
        for (name, f) in [
            (
                "distinct",
                (|d: &DistinctCount| if let DistinctCount::Approx(e) = d { e.estimate } else { 0.0 })
                    as fn(&DistinctCount) -> f64,
            ),
            ("lower", |d| if let DistinctCount::Approx(e) = d { e.lower } else { 0.0 }),
            ("upper", |d| if let DistinctCount::Approx(e) = d { e.upper } else { 0.0 }),
        ] {
            fields.push(Field::new(name, DataType::Float64, false));
            columns.push(value(f));
        }
    } else {
        fields.push(Field::new("distinct", DataType::UInt64, false));
        let n = r.columns.iter().map(|c| if let DistinctCount::Exact(n) = c.distinct { n } else { 0 });
        columns.push(Arc::new(UInt64Array::from_iter_values(n)));
    }
    for (name, f) in [
        ("null_count", (|c: &crate::analysis::distinct::DistinctColumn| c.null_count) as fn(&_) -> u64),
        ("nan_count", |c| c.nan_count),
    ] {
        fields.push(Field::new(name, DataType::UInt64, false));
        columns.push(Arc::new(UInt64Array::from_iter_values(r.columns.iter().map(f))));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("one row per column")
}

pub fn distinct_table(r: &DistinctReport) -> ResultTable {
    let mut columns = vec![TableColumn::new("name", 0), TableColumn::new("type", 2), TableColumn::new("distinct", 0)];
    if r.approx {
        columns.extend([TableColumn::new("lower", 1), TableColumn::new("upper", 1)]);
    }
    columns.extend([TableColumn::new("null_count", 1), TableColumn::new("nan_count", 1)]);
    let rows = r
        .columns
        .iter()
        .map(|c| {
            let mut row = vec![TableCell::Text(c.name.clone()), TableCell::Text(c.type_name.clone())];
            match c.distinct {
                DistinctCount::Exact(n) => row.push(TableCell::Int(n.into())),
                DistinctCount::Approx(e) => row.extend([
                    TableCell::Int(e.estimate.round() as i128),
                    TableCell::Int(e.lower.floor() as i128),
                    TableCell::Int(e.upper.ceil() as i128),
                ]),
            }
            row.extend([TableCell::Int(c.null_count.into()), TableCell::Int(c.nan_count.into())]);
            row
        })
        .collect();
    let method = if r.approx {
        format!(
            "HyperLogLog estimates (relative standard error {:.2}%, bounds at 95%)",
            100.0 * relative_standard_error()
        )
    } else {
        "exact distinct counts".to_string()
    };
    let title = format!(
        "{}: {}, {method}; nulls and NaN not counted",
        r.input.path,
        RowFilter::rows_text(r.filter.as_ref(), r.rows)
    );
    ResultTable { title: Some(title), columns, rows, notation: Notation::PerColumn }
}

pub fn top_json(r: &TopReport, out: &mut dyn Write) -> std::io::Result<()> {
    let values: Vec<serde_json::Value> =
        r.values.iter().map(|(v, n)| serde_json::json!({"value": key_json(v), "count": n})).collect();
    let doc = serde_json::json!({
        "schema_version": SCHEMA_VERSION,
        "analysis": "top",
        "input": input_json(&r.input),
        "rows": r.rows,
        "column": r.column.name,
        "type": r.column.type_name,
        "k": r.k,
        "distinct": r.distinct,
        "null_count": r.null_count,
        "nan_count": r.nan_count,
        "values": values,
    });
    write_json(doc, r.filter.as_ref(), out)
}

/// `value,count`, most frequent first.
pub fn top_csv(r: &TopReport, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "{},count", super::csv::quote(&r.column.name))?;
    for (v, n) in &r.values {
        let text = match key_cell(v) {
            TableCell::Text(s) => super::csv::quote(&s),
            TableCell::Int(i) => i.to_string(),
            TableCell::Float(f) => float_text(f),
            _ => String::new(),
        };
        writeln!(out, "{text},{n}")?;
    }
    Ok(())
}

pub fn top_batch(r: &TopReport) -> RecordBatch {
    let kind = KeyKind::of(&arrow_type(&r.column.type_name)).unwrap_or(KeyKind::Str);
    let values = key_array(kind, r.values.iter().map(|(v, _)| v.clone()));
    let fields = vec![
        Field::new(&r.column.name, values.data_type().clone(), false),
        Field::new("count", DataType::UInt64, false),
    ];
    let counts: ArrayRef = Arc::new(UInt64Array::from_iter_values(r.values.iter().map(|(_, n)| *n)));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), vec![values, counts]).expect("k rows")
}

/// The Arrow type a plan recorded by name, as far as key kinds go.
fn arrow_type(name: &str) -> DataType {
    match name {
        "Boolean" => DataType::Boolean,
        n if n.starts_with("Int") => DataType::Int64,
        n if n.starts_with("UInt") => DataType::UInt64,
        n if n.starts_with("Float") => DataType::Float64,
        _ => DataType::Utf8,
    }
}

pub fn top_table(r: &TopReport) -> ResultTable {
    let columns = vec![TableColumn::new(&r.column.name, 0), TableColumn::new("count", 0)];
    let rows = r.values.iter().map(|(v, n)| vec![key_cell(v), TableCell::Int((*n).into())]).collect();
    let title = format!(
        "{}: {}, the {} most frequent of {} in {} ({} nulls, {} NaN)",
        r.input.path,
        RowFilter::rows_text(r.filter.as_ref(), r.rows),
        r.values.len(),
        plural(r.distinct as usize, "distinct value"),
        r.column.name,
        r.null_count,
        r.nan_count
    );
    ResultTable { title: Some(title), columns, rows, notation: Notation::PerColumn }
}
