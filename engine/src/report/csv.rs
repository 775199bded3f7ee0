//! CSV output: one row per column, one field per statistic, in [`Report::stat_names`] order.
//!
//! A statistic that does not exist is an empty field; floats use the shortest round-trip text and
//! `NaN`/`inf`/`-inf`, which pandas and polars parse as floats.

use std::io::Write;

use super::{Cell, Report, Shown, float_text};

pub fn render(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let names = report.stat_names();
    writeln!(out, "name,type,{}", names.join(","))?;
    for c in &report.columns {
        let mut line = format!("{},{}", quote(&c.name), quote(&c.type_name));
        for name in &names {
            line.push(',');
            match report.shown(c, name) {
                Shown::Text(t) => line.push_str(&quote(t)),
                Shown::Cell(Cell::Missing) => {}
                Shown::Cell(Cell::Count(n)) => line.push_str(&n.to_string()),
                Shown::Cell(Cell::Int(v)) => line.push_str(&v.to_string()),
                Shown::Cell(Cell::Float(f)) => line.push_str(&float_text(f)),
            }
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// RFC 4180 quoting, only where needed.
pub fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(super::quote("a"), "a");
        assert_eq!(super::quote("a,b"), "\"a,b\"");
        assert_eq!(super::quote("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
