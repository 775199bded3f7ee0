//! The generic result table for people: a header and rows of typed cells, laid out by `comfy-table` and
//! fitted to a width. Every analysis (describe, schema, and later hist, corr, quantile, group-by) builds a
//! [`ResultTable`] and calls [`render`]; how numbers look is decided here once (issue 6, items 6-7).
//!
//! Numbers:
//! * integers in full, every digit;
//! * floats with the shortest text that parses back to the same value (ryu), so the minimum and maximum are
//!   never rounded outside the data and exactly computed digits stay visible; `f32` values (the minimum of
//!   a `Float32` column) at `f32` precision, so a stored `0.1f32` reads `0.1`;
//! * one notation per table column, or per row ([`Notation`]; describe uses rows, so all statistics of one
//!   data column read alike): positional when every finite value is zero or in [1e-5, 1e16), scientific
//!   otherwise; numbers right-aligned.
//!
//! Width: when the table is wider than the width asked for, the columns with the largest
//! [`TableColumn::priority`] number are left out (the rightmost first) and a note names them; when even the
//! essential ones (priority 0) do not fit, each row is printed as a block of `name  value` lines instead.
//! `transpose` swaps rows and columns (the pandas `describe` orientation).

use std::io::Write;

use comfy_table::{CellAlignment, ContentArrangement, Table, TableStyle};

/// One cell of a result table.
#[derive(Clone, Debug, PartialEq)]
pub enum TableCell {
    /// A statistic that does not exist.
    Missing,
    Text(String),
    Int(i128),
    Float(f64),
    /// A value of an `f32` column, shown at `f32` precision.
    Float32(f32),
}

/// A table column: its header and how easily it is left out (0: never; larger numbers go first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableColumn {
    pub name: String,
    pub priority: u8,
}

impl TableColumn {
    pub fn new(name: impl Into<String>, priority: u8) -> Self {
        TableColumn { name: name.into(), priority }
    }
}

/// A finished result as a table: a title line, columns, rows of cells (one per column).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResultTable {
    pub title: Option<String>,
    pub columns: Vec<TableColumn>,
    pub rows: Vec<Vec<TableCell>>,
    pub notation: Notation,
}

/// Which cells share one float notation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Notation {
    /// Each table column (values of one kind across rows, e.g. a histogram's counts).
    #[default]
    PerColumn,
    /// Each row (the statistics of one data column, which share its scale).
    PerRow,
}

/// How a table is laid out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableOptions {
    /// Characters per line; `None` for no limit.
    pub width: Option<usize>,
    /// One row per table column instead (statistics as rows).
    pub transpose: bool,
}

/// Renders `table`, fitted to `options.width`.
pub fn render(table: &ResultTable, options: &TableOptions, out: &mut dyn Write) -> std::io::Result<()> {
    if let Some(title) = &table.title {
        writeln!(out, "{title}")?;
    }
    let text: Vec<Vec<String>> = (0..table.columns.len()).map(|j| format_column(table, j)).collect();
    let mut keep: Vec<usize> = (0..table.columns.len()).collect();
    let mut dropped = Vec::new();
    loop {
        let lines = layout(table, &text, &keep, options.transpose);
        let fits = options.width.is_none_or(|w| lines.iter().all(|l| l.chars().count() <= w));
        if fits {
            for line in &lines {
                writeln!(out, "{line}")?;
            }
            break;
        }
        let droppable = keep.iter().enumerate().filter(|&(_, &j)| table.columns[j].priority > 0);
        let Some((at, _)) = droppable.max_by_key(|&(at, &j)| (table.columns[j].priority, at)) else {
            return records(table, &text, out);
        };
        dropped.push(keep.remove(at));
        if keep.is_empty() {
            return records(table, &text, out);
        }
    }
    if !dropped.is_empty() {
        dropped.sort_unstable();
        let dropped: Vec<&str> = dropped.iter().map(|&j| table.columns[j].name.as_str()).collect();
        writeln!(
            out,
            "({} left out to fit {} characters: {}; widen the terminal, set COLUMNS, or use --format json)",
            super::plural(dropped.len(), "column"),
            options.width.unwrap_or(0),
            dropped.join(", ")
        )?;
    }
    Ok(())
}

/// The lines of the table with the columns `keep`.
fn layout(table: &ResultTable, text: &[Vec<String>], keep: &[usize], transpose: bool) -> Vec<String> {
    let mut t = Table::new();
    t.load_style(TableStyle::new().header_separator(comfy_table::LineStyle::none().fill('-').junction(' ')));
    t.set_content_arrangement(ContentArrangement::Disabled);
    let numeric = |j: usize| table.rows.iter().any(|r| !matches!(r[j], TableCell::Text(_)));
    if transpose {
        // Header: the first column's cells; then one row per remaining column.
        let Some((&first, rest)) = keep.split_first() else { return Vec::new() };
        let mut header = vec![table.columns[first].name.clone()];
        header.extend(text[first].iter().cloned());
        t.set_header(header);
        for &j in rest {
            let mut row = vec![table.columns[j].name.clone()];
            row.extend(text[j].iter().cloned());
            t.add_row(row);
        }
        for (i, column) in t.column_iter_mut().enumerate() {
            column.set_cell_alignment(if i == 0 { CellAlignment::Left } else { CellAlignment::Right });
            column.set_padding((0, 1));
        }
    } else {
        t.set_header(
            keep.iter()
                .map(|&j| {
                    let align = if numeric(j) { CellAlignment::Right } else { CellAlignment::Left };
                    comfy_table::Cell::new(&table.columns[j].name).set_alignment(align)
                })
                .collect::<Vec<_>>(),
        );
        for (i, _) in table.rows.iter().enumerate() {
            t.add_row(keep.iter().map(|&j| text[j][i].clone()).collect::<Vec<_>>());
        }
        for (column, &j) in t.column_iter_mut().zip(keep) {
            column.set_cell_alignment(if numeric(j) { CellAlignment::Right } else { CellAlignment::Left });
            column.set_padding((0, 1));
        }
    }
    t.lines().map(|l| l.trim_end().to_string()).collect()
}

/// The narrow fallback: one block of `column  value` lines per row.
fn records(table: &ResultTable, text: &[Vec<String>], out: &mut dyn Write) -> std::io::Result<()> {
    let w = table.columns.iter().map(|c| c.name.chars().count()).max().unwrap_or(0);
    for (i, _) in table.rows.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        for (j, c) in table.columns.iter().enumerate() {
            writeln!(out, "{:>w$}  {}", c.name, text[j][i].trim())?;
        }
    }
    Ok(())
}

/// The text of column `j`'s cells, in the notation of their column or row.
fn format_column(table: &ResultTable, j: usize) -> Vec<String> {
    let column_scientific = any_scientific(table.rows.iter().map(|r| &r[j]));
    table
        .rows
        .iter()
        .map(|row| {
            let sci = match table.notation {
                Notation::PerColumn => column_scientific,
                Notation::PerRow => any_scientific(row.iter()),
            };
            match &row[j] {
                TableCell::Missing => "-".to_string(),
                TableCell::Text(s) => s.clone(),
                TableCell::Int(v) => v.to_string(),
                TableCell::Float(x) => float(super::float_text(*x), sci),
                TableCell::Float32(x) => float(f32_text(*x), sci),
            }
        })
        .collect()
}

fn any_scientific<'a>(mut cells: impl Iterator<Item = &'a TableCell>) -> bool {
    cells.any(|c| match c {
        TableCell::Float(x) => needs_scientific(*x),
        TableCell::Float32(x) => needs_scientific(f64::from(*x)),
        _ => false,
    })
}

fn needs_scientific(x: f64) -> bool {
    x.is_finite() && x != 0.0 && !(1e-5..1e16).contains(&x.abs())
}

fn f32_text(x: f32) -> String {
    if x.is_finite() {
        serde_json::to_string(&x).expect("finite floats serialise")
    } else {
        super::float_text(x.into())
    }
}

/// Rewrites ryu's shortest text (`1e16`, `1.5e-7`, `0.001`, `123.25`) in one notation, keeping its digits.
fn float(text: String, scientific: bool) -> String {
    let Some((negative, digits, exp)) = decompose(&text) else { return text };
    let sign = if negative { "-" } else { "" };
    if digits.is_empty() {
        return format!("{sign}0");
    }
    if scientific {
        let (head, tail) = digits.split_at(1);
        let dot = if tail.is_empty() { "" } else { "." };
        return format!("{sign}{head}{dot}{tail}e{}", exp - 1);
    }
    // value = 0.DIGITS × 10^exp
    let body = if exp <= 0 {
        format!("0.{}{digits}", "0".repeat((-exp) as usize))
    } else if exp as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(exp as usize - digits.len()))
    } else {
        let (int, fraction) = digits.split_at(exp as usize);
        format!("{int}.{fraction}")
    };
    format!("{sign}{body}")
}

/// `(negative, significant digits without leading/trailing zeros, e)` with value `0.DIGITS × 10^e`;
/// `None` for text that is not a finite number (`NaN`, `inf`).
fn decompose(text: &str) -> Option<(bool, String, i32)> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let (mantissa, e) = match rest.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().ok()?),
        None => (rest, 0),
    };
    let (int, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if !int.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit()) || int.is_empty() {
        return None;
    }
    let all = format!("{int}{fraction}");
    let lead = all.len() - all.trim_start_matches('0').len();
    let digits = all.trim_start_matches('0').trim_end_matches('0').to_string();
    Some((negative, digits, e + int.len() as i32 - lead as i32))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_column(cells: Vec<TableCell>) -> Vec<String> {
        let table = ResultTable {
            title: None,
            columns: vec![TableColumn::new("x", 0)],
            rows: cells.into_iter().map(|c| vec![c]).collect(),
            notation: Notation::PerColumn,
        };
        format_column(&table, 0)
    }

    #[test]
    fn floats_keep_their_shortest_digits_in_one_notation() {
        let t = one_column(vec![TableCell::Float(1000000005.5073519), TableCell::Float(0.5), TableCell::Float(3.0)]);
        assert_eq!(t, vec!["1000000005.5073519", "0.5", "3"]);
        let t = one_column(vec![TableCell::Float(1e16), TableCell::Float(8333334166667.0), TableCell::Float(-1.25e-7)]);
        assert_eq!(t, vec!["1e16", "8.333334166667e12", "-1.25e-7"]);
        assert_eq!(one_column(vec![TableCell::Float32(0.1)]), vec!["0.1"]);
        assert_eq!(one_column(vec![TableCell::Float(f64::from(0.1f32))]), vec!["0.10000000149011612"]);
        assert_eq!(one_column(vec![TableCell::Int(i128::MAX)]), vec![i128::MAX.to_string()]);
        assert_eq!(one_column(vec![TableCell::Float(f64::NAN), TableCell::Missing]), vec!["NaN", "-"]);
        assert_eq!(one_column(vec![TableCell::Float(0.0001), TableCell::Float(-0.0)]), vec!["0.0001", "-0"]);
    }

    #[test]
    fn per_row_notation_keeps_each_row_alike() {
        let table = ResultTable {
            title: None,
            columns: vec![TableColumn::new("min", 0), TableColumn::new("mean", 0)],
            rows: vec![
                vec![TableCell::Float(-5.25), TableCell::Float(1.5)],
                vec![TableCell::Float(3.0), TableCell::Float(4.6e18)],
            ],
            notation: Notation::PerRow,
        };
        assert_eq!(format_column(&table, 0), vec!["-5.25", "3e0"]);
        assert_eq!(format_column(&table, 1), vec!["1.5", "4.6e18"]);
    }

    #[test]
    fn every_shortest_text_parses_back() {
        for x in [1e-5, 1.5e-5, 123.456, 9_999_999_999_999_998.0, 1e15 + 0.5, 2f64.powi(60), f64::MIN_POSITIVE] {
            for scientific in [false, true] {
                let text = float(crate::report::float_text(x), scientific);
                assert_eq!(text.trim().parse::<f64>().unwrap(), x, "{text}");
            }
        }
    }

    #[test]
    fn narrow_widths_drop_the_least_important_columns_then_fall_back_to_records() {
        let table = ResultTable {
            title: None,
            columns: vec![TableColumn::new("name", 0), TableColumn::new("big", 2), TableColumn::new("mid", 1)],
            rows: vec![vec![TableCell::Text("a".into()), TableCell::Int(123456789), TableCell::Int(5)]],
            notation: Notation::PerColumn,
        };
        let text = |width| {
            let mut out = Vec::new();
            render(&table, &TableOptions { width: Some(width), transpose: false }, &mut out).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert!(text(80).contains("123456789") && !text(80).contains("left out"));
        let narrow = text(12);
        assert!(!narrow.contains("123456789") && narrow.contains("1 column left out") && narrow.contains("big"));
        assert!(narrow.lines().filter(|l| !l.starts_with('(')).all(|l| l.chars().count() <= 12), "{narrow}");
        assert_eq!(text(3), "name  a\n big  123456789\n mid  5\n");
    }
}
