//! `--where` filters: a SQL expression, parsed once, checked against the schema, evaluated per piece.
//!
//! This module owns the whole life of a row predicate: [`Filter::try_parse`] reads the text with the
//! `sqlparser` crate (generic dialect) and lowers its AST into tally's own typed `Pred` tree
//! (`parse.rs`, `literal.rs`), so the parser's AST never reaches the plan or the workers (the same split as
//! DataFusion's `datafusion/sql/src/expr/`). [`Filter::evaluate`] turns one piece of the columns it reads
//! into a selection bitmap (`eval.rs`, `bits.rs`). It does not own where the bitmap goes: the plan and
//! the kernel hand it to every statistic of a pass.
//!
//! ```text
//!  "k1 < 500 and c is not null" ─► sqlparser::ast::Expr ─► Pred::And[IntRange(k1), IsNull(c, negated)]
//!                                   (positions, syntax)     (typed, validated, serde: travels in the plan)
//!  piece of k1, piece of c ─► per node: (true words, valid words) ─► Kleene and/or/not word by word ─► u64s
//! ```
//!
//! ## Semantics
//! * SQL three-valued logic: every node is TRUE, FALSE or UNKNOWN per row, `and`/`or`/`not` follow Kleene
//!   logic, and a row passes only when the whole predicate is TRUE. A comparison with a null is UNKNOWN.
//! * Supported: `and`, `or`, `not`, parentheses, `=`, `!=`, `<>`, `<`, `<=`, `>`, `>=` between a column and
//!   a literal (either side) or two columns, `is [not] null`, `[not] in (...)`, `[not] between .. and ..`,
//!   a boolean column alone (`flag`, `not flag`), the literals `true`, `false` and `null`.
//!   `x in (a, b)` means `x = a or x = b` and `x between a and b` means `x >= a and x <= b`, so nulls in
//!   a list behave as in SQL (`1 not in (2, null)` is UNKNOWN).
//! * Types: every Arrow integer type, Float32/64, Boolean, Utf8/LargeUtf8/Utf8View and dictionaries of
//!   those strings (a null dictionary value is a null). Integers compare with numbers, floats with numbers,
//!   strings with strings (bytewise, which is code-point order), booleans with booleans (`=`/`!=` only).
//!   Anything else (`name > 3` on a string, `a = 'x'` on a float) is an error, never a silent false.
//! * Numbers are exact against integer columns: the literal is read as an exact decimal, so
//!   `x > 9007199254740992.0` is true for x = 2^53 + 1 and `k8 < 1000` is true for every non-null Int8.
//!   Against a float column the literal is read as a value of the column's type (correctly rounded, like
//!   `CAST(literal AS DOUBLE)` or `AS REAL`), so `x = 0.1` finds the rows holding 0.1. An integer column
//!   compared with a float column is compared exactly (no i64 → f64 rounding).
//! * **NaN** follows PostgreSQL and DuckDB: NaN equals NaN and is greater than every other value, +inf
//!   included. So `x > 1e308`, `x >= 1` and `x != 1` are true for NaN; `x < 1`, `x = 1` are false.
//!   -0.0 equals 0.0.
//! * Not supported (a clear error naming it): functions, subqueries, arithmetic, `like`, casts, `is true`,
//!   comparisons of two literals. A filter must read at least one column.
//!
//! ## Errors
//! Every error names the position in the expression as `line:column` (1-based, from sqlparser's spans) and
//! the offending fragment; an unknown column lists the columns that exist and suggests the nearest one.
//!
//! ## Evaluation
//! Each node evaluates a whole piece at once into `(true, valid)` word vectors: leaves run one tight,
//! branch-free loop per column type (the type `match` happens once per piece, never per row) and the
//! connectives combine words. A dictionary column is compared on its dictionary once per piece and the
//! answers gathered by key.

mod bits;
mod cols;
mod eval;
mod literal;
mod parse;
mod strings;

use arrow_array::Array;
use arrow_schema::Schema;
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// A comparison operator, after any swap that puts the column first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl CmpOp {
    /// The operator seen from the other side: `3 < x` is `x > 3`.
    pub(crate) fn flip(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            CmpOp::Eq | CmpOp::Ne => self,
        }
    }

    /// Whether `ordering` (left compared with right) satisfies the operator.
    pub(crate) fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            CmpOp::Lt => ordering == Less,
            CmpOp::Le => ordering != Greater,
            CmpOp::Gt => ordering == Greater,
            CmpOp::Ge => ordering != Less,
            CmpOp::Eq => ordering == Equal,
            CmpOp::Ne => ordering != Equal,
        }
    }
}

/// The typed predicate tree. `col` fields index [`Filter::columns`] (and so the `arrays` of
/// [`Filter::evaluate`]), not the schema.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum Pred {
    /// `true`, `false` or `null` written as such.
    Const(Option<bool>),
    And(Vec<Pred>),
    Or(Vec<Pred>),
    Not(Box<Pred>),
    /// `col is null` (`negated`: `is not null`); never UNKNOWN.
    IsNull {
        col: usize,
        negated: bool,
    },
    /// A comparison whose answer is `value` for every non-null row (`k8 < 1000`, `x = 0.5` on integers).
    IfValid {
        col: usize,
        value: bool,
    },
    /// An integer column: `lo <= x <= hi` (`negated`: outside), bounds inside the column type's range.
    IntRange {
        col: usize,
        lo: i128,
        hi: i128,
        negated: bool,
    },
    /// A float column against a literal already rounded to the column's type (exactly held in f64).
    Float {
        col: usize,
        op: CmpOp,
        #[serde(with = "f64_bits")]
        lit: f64,
    },
    /// A string column (plain or dictionary) against a string literal, bytewise.
    Str {
        col: usize,
        op: CmpOp,
        lit: String,
    },
    /// A boolean column equal to `value` (a bare `flag` is `flag = true`).
    Bool {
        col: usize,
        value: bool,
    },
    /// Two columns of comparable kinds.
    Cols {
        left: usize,
        op: CmpOp,
        right: usize,
    },
}

/// f64 as its bits, so ±inf (a literal such as `1e400`) survives every serde format, JSON included.
mod f64_bits {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(x.to_bits())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        u64::deserialize(d).map(f64::from_bits)
    }
}

/// A validated, typed row predicate; serde so it travels to worker processes inside the plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    text: String,
    pred: Pred,
    columns: Vec<usize>,
}

impl Filter {
    /// Parses a SQL expression (generic dialect) and checks it against the schema.
    pub fn try_parse(text: &str, schema: &Schema) -> Result<Filter> {
        let (pred, columns) = parse::lower(text, schema)?;
        Ok(Filter { text: text.to_string(), pred, columns })
    }

    /// Source-schema indices of the columns it reads, ascending, deduplicated.
    pub fn columns(&self) -> &[usize] {
        &self.columns
    }

    /// The expression as the user wrote it.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Evaluates over one piece: `arrays[i]` is the piece of source column `self.columns()[i]`, all of the
    /// same length. Returns little-endian u64 selection words (bit r set ⇔ row r passes; bits past len zero).
    ///
    /// # Panics
    /// When `arrays` does not match [`Filter::columns`] (count, lengths, or types other than the schema's
    /// the filter was parsed against): a bug in the caller, since the Source validated the input.
    pub fn evaluate(&self, arrays: &[&dyn Array]) -> Vec<u64> {
        assert_eq!(arrays.len(), self.columns.len(), "filter {:?}: one array per column read", self.text);
        let len = arrays[0].len();
        assert!(arrays.iter().all(|a| a.len() == len), "filter {:?}: arrays of different lengths", self.text);
        eval::evaluate(&self.pred, arrays, len).into_selection()
    }
}
