//! Column selection: how a name the user typed becomes a schema index (issue 6, item 9). Every analysis
//! resolves its column lists here, so they all trim, suggest and disambiguate the same way.
//!
//! * Surrounding whitespace is ignored (`--columns 'd, a'`), unless a column's name really has it.
//! * An exact name wins. A name that several columns share is an error that lists their positions, and
//!   `#N` selects the column at 0-based position N (as `tally schema` numbers them), also for a name with
//!   a comma in it, which `--columns` cannot spell (`--column NAME` can).
//! * An unknown name gets the nearest existing name as a suggestion (Jaro-Winkler, the measure clap uses
//!   for subcommands), then the list of columns.

use arrow_schema::Schema;

use crate::error::{Error, Result};

/// The schema index of the column `name` (see the module docs for the rules).
pub fn resolve(schema: &Schema, name: &str) -> Result<usize> {
    let fields = schema.fields();
    let trimmed = name.trim();
    for candidate in [name, trimmed] {
        let matches: Vec<usize> = (0..fields.len()).filter(|&i| fields[i].name() == candidate).collect();
        match matches.as_slice() {
            [] => continue,
            [one] => return Ok(*one),
            many => {
                let at: Vec<String> = many.iter().map(|i| format!("#{i}")).collect();
                return Err(Error::input(format!(
                    "{} columns are named {candidate:?} (at positions {}); select one by position, e.g. --column {}",
                    many.len(),
                    at.join(", "),
                    at[0]
                ))
                .with_column(candidate));
            }
        }
    }
    if let Some(position) = trimmed.strip_prefix('#').and_then(|p| p.parse::<usize>().ok()) {
        if position < fields.len() {
            return Ok(position);
        }
        return Err(Error::input(format!(
            "no column at position {position}: the file has {} (positions #0 to #{})",
            crate::report::plural(fields.len(), "column"),
            fields.len().saturating_sub(1)
        ))
        .with_column(trimmed));
    }
    let names: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect();
    let hint = nearest(trimmed, &names).map_or(String::new(), |n| format!(" (did you mean {n:?}?)"));
    Err(Error::input(format!("no column named {trimmed:?}{hint}; the columns are: {}", names.join(", ")))
        .with_column(trimmed))
}

/// The schema indices of `names` in order; all columns when `None`.
pub fn resolve_all(schema: &Schema, names: Option<&[String]>) -> Result<Vec<usize>> {
    match names {
        None => Ok((0..schema.fields().len()).collect()),
        Some(names) => names.iter().map(|n| resolve(schema, n)).collect(),
    }
}

/// The most similar name, when it is similar enough to be a likely typo (clap's threshold, 0.8).
fn nearest<'a>(name: &str, names: &[&'a str]) -> Option<&'a str> {
    let score = |n: &str| strsim::jaro_winkler(&name.to_lowercase(), &n.to_lowercase());
    names.iter().map(|n| (score(n), *n)).filter(|(s, _)| *s > 0.8).max_by(|a, b| a.0.total_cmp(&b.0)).map(|(_, n)| n)
}

#[cfg(test)]
mod tests {
    use arrow_schema::{DataType, Field};

    use super::*;

    fn schema(names: &[&str]) -> Schema {
        Schema::new(names.iter().map(|n| Field::new(*n, DataType::Int64, true)).collect::<Vec<_>>())
    }

    #[test]
    fn names_are_trimmed_unless_they_really_have_spaces() {
        let s = schema(&["d", "a", " b"]);
        assert_eq!(resolve(&s, " a").unwrap(), 1);
        assert_eq!(resolve(&s, "a ").unwrap(), 1);
        assert_eq!(resolve(&s, " b").unwrap(), 2);
    }

    #[test]
    fn positions_and_duplicates() {
        let s = schema(&["x", "y", "x", "#1"]);
        let err = resolve(&s, "x").unwrap_err().to_string();
        assert!(err.contains("2 columns are named \"x\" (at positions #0, #2)"), "{err}");
        assert_eq!(resolve(&s, "#2").unwrap(), 2);
        assert_eq!(resolve(&s, "#1").unwrap(), 3, "an exact name wins over a position");
        assert!(resolve(&s, "#9").unwrap_err().to_string().contains("no column at position 9"));
    }

    #[test]
    fn typos_get_the_nearest_name() {
        let s = schema(&["price", "quantity", "k1"]);
        let err = resolve(&s, "quantitty").unwrap_err().to_string();
        assert!(err.contains("no column named \"quantitty\" (did you mean \"quantity\"?); the columns are"), "{err}");
        let err = resolve(&s, "zzz").unwrap_err().to_string();
        assert!(!err.contains("did you mean") && err.contains("; the columns are: price, quantity, k1"), "{err}");
    }
}
