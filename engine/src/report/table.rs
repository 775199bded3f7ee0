//! The table for people: one row per statistic, one column per data column (like pandas' `describe`).
//!
//! Floats show 10 significant digits; use `--format json` or `csv` for every bit.

use std::io::Write;

use super::{Cell, Report, STAT_NAMES};

pub fn render(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "{}: {} rows, {} columns", report.input.path, report.rows, report.columns.len())?;
    let mut grid: Vec<Vec<String>> = Vec::with_capacity(STAT_NAMES.len() + 2);
    let mut header = vec![String::new()];
    let mut types = vec!["type".to_string()];
    for c in &report.columns {
        header.push(c.name.clone());
        types.push(c.type_name.to_lowercase());
    }
    grid.push(header);
    grid.push(types);
    for (i, name) in STAT_NAMES.iter().enumerate() {
        let mut row = vec![name.to_string()];
        row.extend(report.columns.iter().map(|c| human(c.summary.cell(i))));
        grid.push(row);
    }
    let widths: Vec<usize> =
        (0..grid[0].len()).map(|j| grid.iter().map(|r| r[j].chars().count()).max().unwrap_or(0)).collect();
    for row in &grid {
        let mut line = String::new();
        for (j, cell) in row.iter().enumerate() {
            if j == 0 {
                line.push_str(&format!("{cell:<w$}", w = widths[0]));
            } else {
                line.push_str(&format!("  {cell:>w$}", w = widths[j]));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

fn human(cell: Cell) -> String {
    match cell {
        Cell::Missing => "-".into(),
        Cell::Count(n) => n.to_string(),
        Cell::Int(v) => v.to_string(),
        Cell::Float(f) => general(f),
    }
}

/// `%.10g`-style: plain decimals for moderate magnitudes, scientific notation otherwise.
fn general(x: f64) -> String {
    if !x.is_finite() {
        return super::float_text(x);
    }
    if x == 0.0 {
        return "0".into();
    }
    let exp = x.abs().log10().floor() as i32;
    if (-5..15).contains(&exp) {
        let decimals = (9 - exp).max(0) as usize;
        let s = format!("{x:.decimals$}");
        if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
    } else {
        let s = format!("{x:.9e}");
        let (mantissa, e) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa =
            if mantissa.contains('.') { mantissa.trim_end_matches('0').trim_end_matches('.') } else { mantissa };
        format!("{mantissa}e{e}")
    }
}

#[cfg(test)]
mod tests {
    use super::general;

    #[test]
    fn general_format_is_compact_and_readable() {
        assert_eq!(general(0.5), "0.5");
        assert_eq!(general(1e9 + 0.123456789), "1000000000");
        assert_eq!(general(-1.25e-7), "-1.25e-7");
        assert_eq!(general(3.0), "3");
        assert_eq!(general(1e300), "1e300");
        assert_eq!(general(f64::NAN), "NaN");
        assert_eq!(general(0.1 + 0.2), "0.3");
    }
}
