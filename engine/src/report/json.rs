//! JSON output, schema version [`SCHEMA_VERSION`] (documented in README.md).
//!
//! Statistics that do not exist are `null`; non-finite floats are the strings `"NaN"`, `"inf"`, `"-inf"`;
//! floats use the shortest text that round-trips; integer sums, minima and maxima are exact JSON integers
//! (they can exceed 2^53, so readers that parse into doubles should be told; Python's json is exact).

use std::io::Write;

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::{Cell, Report, SCHEMA_VERSION, Shown};

pub fn render(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &JsonReport(report))?;
    writeln!(out)
}

struct JsonReport<'a>(&'a Report);
struct JsonColumns<'a>(&'a Report);
pub(crate) struct JsonCell(pub(crate) Cell);
struct JsonShown<'a>(Shown<'a>);

impl Serialize for JsonShown<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Shown::Cell(c) => JsonCell(c).serialize(s),
            Shown::Text(t) => s.serialize_str(t),
        }
    }
}

impl Serialize for JsonReport<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("schema_version", &SCHEMA_VERSION)?;
        map.serialize_entry("input", &super::hist::input_json(&r.input))?;
        map.serialize_entry("rows", &r.rows)?;
        if let Some(f) = &r.filter {
            map.serialize_entry("where", &serde_json::json!({"expression": f.text, "input_rows": f.input_rows}))?;
        }
        let mut options = serde_json::json!({"ddof": r.ddof, "exact": r.exact, "nulls": "excluded", "nan": "excluded"});
        if !r.quantiles.is_empty() {
            options["quantile_method"] = "linear".into();
        }
        map.serialize_entry("options", &options)?;
        map.serialize_entry("columns", &JsonColumns(r))?;
        map.end()
    }
}

impl Serialize for JsonColumns<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let names = self.0.stat_names();
        s.collect_seq(self.0.columns.iter().map(|c| {
            let entries: Vec<(&str, JsonShown<'_>)> =
                names.iter().map(|name| (name.as_str(), JsonShown(self.0.shown(c, name)))).collect();
            ColumnEntry { name: &c.name, type_name: &c.type_name, entries }
        }))
    }
}

struct ColumnEntry<'a> {
    name: &'a str,
    type_name: &'a str,
    entries: Vec<(&'a str, JsonShown<'a>)>,
}

impl Serialize for ColumnEntry<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.entries.len() + 2))?;
        map.serialize_entry("name", self.name)?;
        map.serialize_entry("type", self.type_name)?;
        for (k, v) in &self.entries {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl Serialize for JsonCell {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Cell::Missing => s.serialize_none(),
            Cell::Count(n) => s.serialize_u64(n),
            Cell::Int(i) => s.serialize_i128(i),
            Cell::Float(f) if f.is_finite() => s.serialize_f64(f),
            Cell::Float(f) => s.serialize_str(&super::float_text(f)),
        }
    }
}
