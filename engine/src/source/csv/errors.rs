//! arrow-csv's errors, turned into tally's: the line and column of the bad record, and how to go on.
//!
//! arrow-csv names records, not lines, and counts them from where its decoder started: a value that does not
//! parse says "... for column {c} at line {n}" with `n` counted from 0, a wrong field count or invalid UTF-8
//! says "for line {n}" counted from 1 (and "field {f}" from 1). Owns parsing those texts and the messages;
//! where a record begins in the file is the caller's ([`Located`]).

use arrow_schema::{ArrowError, Schema};

use crate::error::Error;

/// How a record index (0-based, counted from where the decoder began) becomes a 1-based line number.
pub(crate) enum Located<'a> {
    /// The serial reader started at the top of the input (header included) and every record is one line,
    /// as far as it knows: line = index + 1.
    Records,
    /// A mapped file: the caller finds the line where the record begins (quoted newlines counted).
    Lines(&'a dyn Fn(u64) -> u64),
}

/// What an arrow-csv error text says: the record (0-based within the decoder) and the column index.
fn parse(text: &str) -> Option<(u64, Option<usize>)> {
    let number_after = |key: &str| -> Option<u64> {
        let at = text.find(key)? + key.len();
        text[at..].split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
    };
    let column = number_after("for column ")
        .or_else(|| number_after("parsing column "))
        .or_else(|| number_after(" and field ").and_then(|f| f.checked_sub(1)))
        .map(|c| c as usize);
    if let Some(n) = number_after(" at line ") {
        return Some((n, column));
    }
    Some((number_after("for line ")?.checked_sub(1)?, column))
}

/// The error for arrow-csv's `e` while decoding records of `schema` (the file's columns).
pub(crate) fn bad_record(e: &ArrowError, schema: &Schema, located: &Located<'_>) -> Error {
    let text = message(e);
    let Some((record, column)) = parse(&text) else { return Error::input(format!("malformed CSV: {text}")) };
    let line = match located {
        Located::Records => record + 1,
        Located::Lines(line_of) => line_of(record),
    };
    let field = column.and_then(|c| schema.fields().get(c));
    if let Some(fields) = text.strip_prefix("incorrect number of fields for line ") {
        let detail = fields.split_once(", ").map_or(fields, |(_, rest)| rest);
        let error = Error::input(format!("malformed CSV: line {line} has the wrong number of fields ({detail})"));
        // Fewer fields than columns: the first missing column is where the record went wrong.
        let got = detail.rsplit(' ').next().and_then(|n| n.parse::<usize>().ok());
        return match got.filter(|_| !detail.contains("more than")).and_then(|g| schema.fields().get(g)) {
            Some(missing) => error.with_column(missing.name()),
            None => error,
        };
    }
    let Some(field) = field else { return Error::input(format!("malformed CSV: line {line}: {text}")) };
    let name = field.name();
    if !text.starts_with("Error while parsing value") {
        return Error::input(format!("malformed CSV: line {line}: {text}")).with_column(name);
    }
    let value = text.split('\'').nth(1).unwrap_or("");
    let types =
        if field.data_type().is_integer() { format!("{name}:f64 or {name}:str") } else { format!("{name}:str") };
    Error::input(format!(
        "line {line}: cannot read {value:?} as {} (types are inferred from the first records or set with \
         --schema: try --schema {types}, or mark null texts with --csv-null)",
        field.data_type()
    ))
    .with_column(name)
}

pub(crate) fn message(e: &ArrowError) -> String {
    match e {
        ArrowError::ParseError(m) | ArrowError::CsvError(m) => m.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrow_csv_texts_give_the_record_and_column() {
        let value = "Error while parsing value 'x' as type 'Int64' for column 2 at line 7. Row data: '[1,2,x]'";
        assert_eq!(parse(value), Some((7, Some(2))));
        assert_eq!(parse("incorrect number of fields for line 3, expected 2 got 1"), Some((2, None)));
        assert_eq!(parse("Encountered invalid UTF-8 data for line 4 and field 2"), Some((3, Some(1))));
        assert_eq!(parse("Error parsing column 5 at line 9: bad"), Some((9, Some(5))));
        assert_eq!(parse("something else"), None);
    }
}
