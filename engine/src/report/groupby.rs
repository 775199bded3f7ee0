//! Rendering a group-by: JSON (documented in README.md), CSV and Arrow (one row per group: the key
//! columns, then one column per aggregation), and the generic result table.
//!
//! JSON: `{"schema_version", "analysis": "groupby", "input": {...}, "rows", "ddof", "by": [...],
//! "aggregations": [...], "group_count", "groups": [{"key": {"k1": v, ...}, "count": n, "mean(a)": x}]}`;
//! a null key is `null`, an aggregation that does not exist (the mean of no values) is `null`, non-finite
//! floats are `"NaN"`, `"inf"`, `"-inf"`, integer sums are exact integers.

use std::io::Write;
use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray, UInt64Array};
use arrow_schema::{DataType, Field, Schema};
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::hist::input_json;
use super::json::JsonCell;
use super::{Cell, Notation, ResultTable, RowFilter, SCHEMA_VERSION, TableCell, TableColumn, float_text, plural};
use crate::analysis::GroupByReport;
use crate::stats::groups::{KeyKind, KeyValue};

/// A key value as JSON.
pub(crate) fn key_json(v: &KeyValue) -> serde_json::Value {
    match v {
        KeyValue::Null => serde_json::Value::Null,
        KeyValue::Int(i) => serde_json::json!(i),
        KeyValue::UInt(u) => serde_json::json!(u),
        KeyValue::Bool(b) => serde_json::json!(b),
        KeyValue::Float(f) if f.is_finite() => serde_json::json!(f),
        KeyValue::Float(f) => serde_json::json!(float_text(*f)),
        KeyValue::Str(s) => serde_json::json!(s),
    }
}

struct JsonGroups<'a>(&'a GroupByReport);
struct JsonGroup<'a>(&'a GroupByReport, usize);

impl Serialize for JsonGroups<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq((0..self.0.groups.len()).map(|i| JsonGroup(self.0, i)))
    }
}

impl Serialize for JsonGroup<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (r, g) = (self.0, &self.0.groups[self.1]);
        let mut map = s.serialize_map(Some(1 + g.cells.len()))?;
        map.serialize_entry("key", &JsonKey(r, &g.key))?;
        for (name, cell) in r.aggregations.iter().zip(&g.cells) {
            map.serialize_entry(name, &JsonCell(*cell))?;
        }
        map.end()
    }
}

/// A group's key as `{"k1": v, ...}`, streamed (no map built per group).
struct JsonKey<'a>(&'a GroupByReport, &'a [KeyValue]);

impl Serialize for JsonKey<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.1.len()))?;
        for (c, v) in self.0.by.iter().zip(self.1) {
            match v {
                KeyValue::Null => map.serialize_entry(&c.name, &())?,
                KeyValue::Int(i) => map.serialize_entry(&c.name, i)?,
                KeyValue::UInt(u) => map.serialize_entry(&c.name, u)?,
                KeyValue::Bool(b) => map.serialize_entry(&c.name, b)?,
                KeyValue::Str(t) => map.serialize_entry(&c.name, t)?,
                KeyValue::Float(_) => map.serialize_entry(&c.name, &key_json(v))?,
            }
        }
        map.end()
    }
}

/// The whole document, streamed in the documented key order (no intermediate JSON value: a million
/// groups are written as they are serialised).
struct JsonDoc<'a>(&'a GroupByReport);

impl Serialize for JsonDoc<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("schema_version", &SCHEMA_VERSION)?;
        map.serialize_entry("analysis", "groupby")?;
        map.serialize_entry("input", &input_json(&r.input))?;
        map.serialize_entry("rows", &r.rows)?;
        if let Some(f) = &r.filter {
            map.serialize_entry("where", &serde_json::json!({"expression": f.text, "input_rows": f.input_rows}))?;
        }
        map.serialize_entry("ddof", &r.ddof)?;
        map.serialize_entry("by", &r.by.iter().map(|c| &c.name).collect::<Vec<_>>())?;
        map.serialize_entry("aggregations", &r.aggregations)?;
        map.serialize_entry("group_count", &r.group_count)?;
        map.serialize_entry("groups", &JsonGroups(r))?;
        map.end()
    }
}

pub fn json(r: &GroupByReport, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &JsonDoc(r))?;
    writeln!(out)
}

fn key_text(v: &KeyValue) -> String {
    match v {
        KeyValue::Null => String::new(),
        KeyValue::Int(i) => i.to_string(),
        KeyValue::UInt(u) => u.to_string(),
        KeyValue::Bool(b) => b.to_string(),
        KeyValue::Float(f) => float_text(*f),
        KeyValue::Str(s) => super::csv::quote(s),
    }
}

pub(crate) fn cell_text(c: &Cell) -> String {
    match *c {
        Cell::Missing => String::new(),
        Cell::Count(n) => n.to_string(),
        Cell::Int(i) => i.to_string(),
        Cell::Float(f) => float_text(f),
    }
}

/// `k1,...,agg1,...`, one row per group; a null key or a missing value is an empty field.
pub fn csv(r: &GroupByReport, out: &mut dyn Write) -> std::io::Result<()> {
    let header: Vec<String> =
        r.by.iter()
            .map(|c| c.name.as_str())
            .chain(r.aggregations.iter().map(String::as_str))
            .map(super::csv::quote)
            .collect();
    writeln!(out, "{}", header.join(","))?;
    for g in &r.groups {
        let fields: Vec<String> = g.key.iter().map(key_text).chain(g.cells.iter().map(cell_text)).collect();
        writeln!(out, "{}", fields.join(","))?;
    }
    Ok(())
}

/// A key column as an Arrow array of its kind.
pub(crate) fn key_array(kind: KeyKind, values: impl Iterator<Item = KeyValue>) -> ArrayRef {
    match kind {
        KeyKind::Int => {
            Arc::new(Int64Array::from_iter(values.map(|v| if let KeyValue::Int(i) = v { Some(i) } else { None })))
        }
        KeyKind::UInt => {
            Arc::new(UInt64Array::from_iter(values.map(|v| if let KeyValue::UInt(u) = v { Some(u) } else { None })))
        }
        KeyKind::Bool => {
            Arc::new(BooleanArray::from_iter(values.map(|v| if let KeyValue::Bool(b) = v { Some(b) } else { None })))
        }
        KeyKind::Float => {
            Arc::new(Float64Array::from_iter(values.map(|v| if let KeyValue::Float(f) = v { Some(f) } else { None })))
        }
        KeyKind::Str => {
            Arc::new(StringArray::from_iter(values.map(|v| if let KeyValue::Str(s) = v { Some(s) } else { None })))
        }
    }
}

/// An aggregation column: UInt64 for counts, Int64 for integers that fit, Float64 otherwise.
pub(crate) fn cells_array(cells: &[Cell]) -> (DataType, ArrayRef) {
    let fits = |c: &Cell| match *c {
        Cell::Missing => true,
        Cell::Int(i) => i64::try_from(i).is_ok(),
        _ => false,
    };
    if cells.iter().all(|c| matches!(c, Cell::Count(_))) {
        let v = cells.iter().map(|c| if let Cell::Count(n) = c { *n } else { 0 });
        (DataType::UInt64, Arc::new(UInt64Array::from_iter_values(v)))
    } else if cells.iter().any(|c| matches!(c, Cell::Int(_))) && cells.iter().all(fits) {
        let v = cells.iter().map(|c| if let Cell::Int(i) = c { Some(*i as i64) } else { None });
        (DataType::Int64, Arc::new(Int64Array::from_iter(v)))
    } else {
        let v = cells.iter().map(|c| match *c {
            Cell::Missing => None,
            Cell::Count(n) => Some(n as f64),
            Cell::Int(i) => Some(i as f64),
            Cell::Float(f) => Some(f),
        });
        (DataType::Float64, Arc::new(Float64Array::from_iter(v)))
    }
}

/// The groups as an Arrow record batch: key columns (nullable, of their kind), then the aggregations.
pub fn record_batch(r: &GroupByReport) -> RecordBatch {
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (j, c) in r.by.iter().enumerate() {
        let kind = r.groups.iter().map(|g| &g.key[j]).find_map(kind_of).unwrap_or(KeyKind::Str);
        let array = key_array(kind, r.groups.iter().map(|g| g.key[j].clone()));
        fields.push(Field::new(&c.name, array.data_type().clone(), true));
        columns.push(array);
    }
    for (j, name) in r.aggregations.iter().enumerate() {
        let cells: Vec<Cell> = r.groups.iter().map(|g| g.cells[j]).collect();
        let (data_type, array) = cells_array(&cells);
        fields.push(Field::new(name, data_type, true));
        columns.push(array);
    }
    let meta = [("group_count".to_string(), r.group_count.to_string())];
    let schema = Schema::new(fields).with_metadata(meta.into_iter().collect::<std::collections::HashMap<_, _>>());
    RecordBatch::try_new(Arc::new(schema), columns).expect("one value per group in every column")
}

fn kind_of(v: &KeyValue) -> Option<KeyKind> {
    Some(match v {
        KeyValue::Null => return None,
        KeyValue::Int(_) => KeyKind::Int,
        KeyValue::UInt(_) => KeyKind::UInt,
        KeyValue::Bool(_) => KeyKind::Bool,
        KeyValue::Float(_) => KeyKind::Float,
        KeyValue::Str(_) => KeyKind::Str,
    })
}

/// A key value as a table cell (`<null>` for the null key).
pub(crate) fn key_cell(v: &KeyValue) -> TableCell {
    match v {
        KeyValue::Null => TableCell::Text("<null>".into()),
        KeyValue::Int(i) => TableCell::Int((*i).into()),
        KeyValue::UInt(u) => TableCell::Int((*u).into()),
        KeyValue::Bool(b) => TableCell::Text(b.to_string()),
        KeyValue::Float(f) => TableCell::Float(*f),
        KeyValue::Str(s) => TableCell::Text(s.clone()),
    }
}

pub(crate) fn value_cell(c: &Cell) -> TableCell {
    match *c {
        Cell::Missing => TableCell::Missing,
        Cell::Count(n) => TableCell::Int(n.into()),
        Cell::Int(i) => TableCell::Int(i),
        Cell::Float(f) => TableCell::Float(f),
    }
}

/// The generic table: keys, then aggregations; the title says how many groups there are and are shown.
pub fn table(r: &GroupByReport) -> ResultTable {
    let mut columns: Vec<TableColumn> = r.by.iter().map(|c| TableColumn::new(&c.name, 0)).collect();
    columns.extend(r.aggregations.iter().enumerate().map(|(i, a)| TableColumn::new(a, u8::from(i > 0))));
    let rows =
        r.groups.iter().map(|g| g.key.iter().map(key_cell).chain(g.cells.iter().map(value_cell)).collect()).collect();
    let shown =
        if (r.groups.len() as u64) < r.group_count { format!(", {} shown", r.groups.len()) } else { String::new() };
    let by: Vec<&str> = r.by.iter().map(|c| c.name.as_str()).collect();
    let title = format!(
        "{}: {}, {} by {}{shown}",
        r.input.path,
        RowFilter::rows_text(r.filter.as_ref(), r.rows),
        plural(r.group_count as usize, "group"),
        by.join(", ")
    );
    ResultTable { title: Some(title), columns, rows, notation: Notation::PerColumn }
}
