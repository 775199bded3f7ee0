//! The `--agg` list: `count,count(x),sum(x),mean(x),min(x),max(x),var(x),std(x),null_count(x),nan_count(x)`.
//!
//! Parsing only; which columns exist and are numeric is the analysis's check. Errors name the 1-based
//! character position in the text, so `--agg 'count,maen(a)'` says where the typo is.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::stats::groups::AggFn;

/// One aggregation: a function and the column it reads (`None` only for `count`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aggregation {
    pub func: AggFn,
    pub column: Option<String>,
}

impl Aggregation {
    /// The output name: `count`, `mean(a)`.
    pub fn name(&self) -> String {
        match &self.column {
            None => self.func.name().to_string(),
            Some(c) => format!("{}({c})", self.func.name()),
        }
    }
}

const HELP: &str = "the aggregations are count, count(x), sum(x), mean(x), min(x), max(x), var(x), std(x), null_count(x), nan_count(x)";

/// Parses a comma-separated aggregation list (commas inside parentheses do not split).
pub fn parse_aggs(text: &str) -> Result<Vec<Aggregation>> {
    let mut out = Vec::new();
    let (mut start, mut depth) = (0usize, 0i32);
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (k, &(i, c)) in chars.iter().enumerate() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(parse_one(text, start, i, chars_before(&chars, start))?);
                start = i + 1;
            }
            _ => {}
        }
        if depth < 0 {
            return Err(bad(text, k + 1, "')' without a matching '('"));
        }
    }
    out.push(parse_one(text, start, text.len(), chars_before(&chars, start))?);
    Ok(out)
}

fn chars_before(chars: &[(usize, char)], byte: usize) -> usize {
    chars.iter().take_while(|(i, _)| *i < byte).count()
}

fn bad(text: &str, position: usize, why: &str) -> Error {
    Error::input(format!("--agg {text:?}: {why} at position {position}; {HELP}"))
}

/// Parses `text[start..end]`; `first` is the 1-based position of its first character minus one.
fn parse_one(text: &str, start: usize, end: usize, first: usize) -> Result<Aggregation> {
    let item = &text[start..end];
    let lead = item.chars().take_while(|c| c.is_whitespace()).count();
    let pos = first + lead + 1;
    let item = item.trim();
    if item.is_empty() {
        return Err(bad(text, pos, "empty aggregation"));
    }
    let (name, column) = match item.find('(') {
        None => (item, None),
        Some(open) => {
            let Some(inner) = item[open + 1..].strip_suffix(')') else {
                return Err(bad(text, pos + item.chars().count(), "expected ')'"));
            };
            let column = inner.trim();
            if column.is_empty() {
                return Err(bad(text, pos + item[..open].chars().count() + 1, "missing column name"));
            }
            (item[..open].trim_end(), Some(column.to_string()))
        }
    };
    let func = match (name, &column) {
        ("count", None) => AggFn::Count,
        ("count", Some(_)) => AggFn::CountOf,
        ("sum", _) => AggFn::Sum,
        ("mean", _) => AggFn::Mean,
        ("min", _) => AggFn::Min,
        ("max", _) => AggFn::Max,
        ("var", _) => AggFn::Var,
        ("std", _) => AggFn::Std,
        ("null_count", _) => AggFn::NullCount,
        ("nan_count", _) => AggFn::NanCount,
        _ => return Err(bad(text, pos, &format!("unknown aggregation {name:?}"))),
    };
    if column.is_none() && func != AggFn::Count {
        return Err(bad(text, pos, &format!("{name} needs a column, e.g. {name}(a),")));
    }
    Ok(Aggregation { func, column })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<String> {
        parse_aggs(text).unwrap().iter().map(Aggregation::name).collect()
    }

    #[test]
    fn parses_every_function() {
        assert_eq!(
            names("count, count(x),sum(x),mean( a ),min(c),max(c),var(a),std(a),null_count(c),nan_count(c)"),
            [
                "count",
                "count(x)",
                "sum(x)",
                "mean(a)",
                "min(c)",
                "max(c)",
                "var(a)",
                "std(a)",
                "null_count(c)",
                "nan_count(c)"
            ]
        );
        assert_eq!(parse_aggs("count(x)").unwrap()[0].func, AggFn::CountOf);
    }

    #[test]
    fn errors_name_the_position() {
        let err = |t: &str| parse_aggs(t).unwrap_err().to_string();
        assert!(
            err("count,maen(a)").contains("unknown aggregation \"maen\" at position 7"),
            "{}",
            err("count,maen(a)")
        );
        assert!(err("count,,mean(a)").contains("empty aggregation at position 7"));
        assert!(err("mean(a").contains("expected ')' at position 7"), "{}", err("mean(a"));
        assert!(err("sum").contains("sum needs a column, e.g. sum(a), at position 1"));
        assert!(err("count, mean()").contains("missing column name at position 13"), "{}", err("count, mean()"));
        assert!(err("a)").contains("')' without a matching '(' at position 2"));
    }
}
