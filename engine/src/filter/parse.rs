//! Lowering: SQL text → sqlparser AST → tally's typed [`Pred`], checked against the schema.
//!
//! Owns every user-facing filter error: syntax (sqlparser's message, which carries its own line and
//! column), unknown columns (with the list and a suggestion), type mismatches and unsupported syntax
//! (each with the `line:column` of the offending node from sqlparser's spans). Does not evaluate.

use arrow_schema::{DataType, Schema};
use sqlparser::ast::{BinaryOperator, Expr, Ident, InTarget, Spanned, UnaryOperator, Value};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Span, Token};

use super::literal::{Decimal, int_compare};
use super::{CmpOp, Pred};
use crate::error::{Error, Result};

/// What a column's values are, for type checking and literal reading.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Int { min: i128, max: i128 },
    Float { single: bool },
    Str,
    Bool,
}

fn kind(data_type: &DataType) -> Option<Kind> {
    use DataType::*;
    let int = |min: i128, max: i128| Some(Kind::Int { min, max });
    match data_type {
        Int8 => int(i8::MIN.into(), i8::MAX.into()),
        Int16 => int(i16::MIN.into(), i16::MAX.into()),
        Int32 => int(i32::MIN.into(), i32::MAX.into()),
        Int64 => int(i64::MIN.into(), i64::MAX.into()),
        UInt8 => int(0, u8::MAX.into()),
        UInt16 => int(0, u16::MAX.into()),
        UInt32 => int(0, u32::MAX.into()),
        UInt64 => int(0, u64::MAX.into()),
        Float32 => Some(Kind::Float { single: true }),
        Float64 => Some(Kind::Float { single: false }),
        Boolean => Some(Kind::Bool),
        Utf8 | LargeUtf8 | Utf8View => Some(Kind::Str),
        Dictionary(key, value) if key.is_integer() && matches!(**value, Utf8 | LargeUtf8 | Utf8View) => Some(Kind::Str),
        _ => None,
    }
}

/// One side of a comparison.
enum Operand {
    Col { index: usize, kind: Kind },
    Num { text: String, neg: bool },
    Str(String),
    Bool(bool),
    Null,
}

impl Operand {
    fn describe(&self, schema: &Schema) -> String {
        match self {
            Operand::Col { index, .. } => {
                let f = schema.field(*index);
                format!("column {:?} ({})", f.name(), f.data_type())
            }
            Operand::Num { text, neg } => format!("the number {}{text}", if *neg { "-" } else { "" }),
            Operand::Str(s) => format!("the string '{s}'"),
            Operand::Bool(b) => format!("the boolean {b}"),
            Operand::Null => "null".into(),
        }
    }
}

/// Parses and lowers; returns the tree with `col` = position in the returned sorted column list.
pub(super) fn lower(text: &str, schema: &Schema) -> Result<(Pred, Vec<usize>)> {
    let syntax = |e: sqlparser::parser::ParserError| {
        let msg = e.to_string();
        let msg = msg.strip_prefix("sql parser error: ").unwrap_or(&msg);
        Error::input(format!("filter {text:?}: syntax error: {msg}"))
    };
    let dialect = GenericDialect {};
    let mut parser = Parser::new(&dialect).try_with_sql(text).map_err(syntax)?;
    let expr = parser.parse_expr().map_err(syntax)?;
    let next = parser.peek_token();
    if next.token != Token::EOF {
        let at = next.span.start;
        return Err(Error::input(format!(
            "filter {text:?}: at {}:{}: unexpected `{}` after the end of the expression",
            at.line, at.column, next.token
        )));
    }
    let mut lowerer = Lowerer { text, schema, used: Vec::new() };
    let mut pred = lowerer.pred(&expr, 0)?;
    let mut columns = std::mem::take(&mut lowerer.used);
    if columns.is_empty() {
        return Err(lowerer.err(expr.span(), "the expression reads no column; a filter must test a column"));
    }
    columns.sort_unstable();
    columns.dedup();
    remap(&mut pred, &columns);
    Ok((pred, columns))
}

/// `a.b` (a compound name) as the one column named `a.b`: struct fields are columns of that name
/// (`source/fields.rs`); `"a"."b"` joins the same way.
fn struct_field(expr: &Expr) -> Option<Expr> {
    let Expr::CompoundIdentifier(parts) = expr else { return None };
    let value = parts.iter().map(|p| p.value.as_str()).collect::<Vec<_>>().join(".");
    let span = Span::union_iter(parts.iter().map(|p| p.span));
    let quote_style = parts.iter().find_map(|p| p.quote_style);
    Some(Expr::Identifier(Ident { value, quote_style, span }))
}

/// Our own nesting limit: sqlparser bounds recursion too, but chains of `and` are built iteratively.
const MAX_DEPTH: usize = 200;

struct Lowerer<'a> {
    text: &'a str,
    schema: &'a Schema,
    used: Vec<usize>,
}

impl Lowerer<'_> {
    fn err(&self, span: Span, msg: impl std::fmt::Display) -> Error {
        Error::input(format!("filter {:?}: at {}:{}: {msg}", self.text, span.start.line, span.start.column))
    }

    fn pred(&mut self, expr: &Expr, depth: usize) -> Result<Pred> {
        let joined = struct_field(expr);
        let expr = joined.as_ref().unwrap_or(expr);
        if depth > MAX_DEPTH {
            return Err(self.err(expr.span(), format!("the expression nests deeper than {MAX_DEPTH} levels")));
        }
        let d = depth + 1;
        Ok(match expr {
            Expr::Nested(inner) => self.pred(inner, d)?,
            Expr::BinaryOp { op: op @ (BinaryOperator::And | BinaryOperator::Or), .. } => {
                let items = flatten(expr, op).into_iter().map(|e| self.pred(e, d)).collect::<Result<_>>()?;
                if *op == BinaryOperator::And { Pred::And(items) } else { Pred::Or(items) }
            }
            Expr::UnaryOp { op: UnaryOperator::Not, expr } => Pred::Not(Box::new(self.pred(expr, d)?)),
            Expr::BinaryOp { left, op, right } => match cmp_op(op) {
                Some(op) => self.compare(left, op, right, expr.span())?,
                None => return Err(self.unsupported(expr)),
            },
            Expr::IsNull(e) | Expr::IsNotNull(e) => {
                let col = self.column_of(e, "is null")?;
                Pred::IsNull { col, negated: matches!(expr, Expr::IsNotNull(_)) }
            }
            Expr::In { expr: x, target: InTarget::List(list), negated, .. } => {
                let items = list.iter().map(|v| self.compare(x, CmpOp::Eq, v, v.span())).collect::<Result<_>>()?;
                negate(Pred::Or(items), *negated)
            }
            Expr::Between { expr: x, negated, low, high } => {
                let items =
                    vec![self.compare(x, CmpOp::Ge, low, low.span())?, self.compare(x, CmpOp::Le, high, high.span())?];
                negate(Pred::And(items), *negated)
            }
            Expr::Identifier(ident) => {
                let (index, kind) = self.column(ident)?;
                if kind != Kind::Bool {
                    let msg = format!(
                        "column {:?} is {}, not boolean: compare it with something",
                        ident.value,
                        self.type_of(index)
                    );
                    return Err(self.err(ident.span, msg));
                }
                Pred::Bool { col: index, value: true }
            }
            Expr::Value(v) => match &v.value {
                Value::Boolean(b) => Pred::Const(Some(*b)),
                Value::Null => Pred::Const(None),
                _ => return Err(self.err(v.span, format!("`{expr}` is not a condition"))),
            },
            _ => return Err(self.unsupported(expr)),
        })
    }

    fn compare(&mut self, left: &Expr, op: CmpOp, right: &Expr, span: Span) -> Result<Pred> {
        let (l, r) = (self.operand(left)?, self.operand(right)?);
        match (l, r) {
            (Operand::Col { index: a, kind: ka }, Operand::Col { index: b, kind: kb }) => {
                let numeric = |k| matches!(k, Kind::Int { .. } | Kind::Float { .. });
                let fits = (numeric(ka) && numeric(kb))
                    || (ka == Kind::Str && kb == Kind::Str)
                    || (ka == Kind::Bool && kb == Kind::Bool && matches!(op, CmpOp::Eq | CmpOp::Ne));
                if !fits {
                    return Err(self.mismatch(
                        span,
                        &Operand::Col { index: a, kind: ka },
                        &Operand::Col { index: b, kind: kb },
                    ));
                }
                Ok(Pred::Cols { left: a, op, right: b })
            }
            (Operand::Col { index, kind }, lit) => self.against(index, kind, op, lit, span),
            (lit, Operand::Col { index, kind }) => self.against(index, kind, op.flip(), lit, span),
            _ => Err(self.err(span, "this comparison has no column on either side; a filter compares columns")),
        }
    }

    /// `column op literal`.
    fn against(&self, col: usize, kind: Kind, op: CmpOp, lit: Operand, span: Span) -> Result<Pred> {
        let bad_number = |text: &str| self.err(span, format!("cannot read the number {text}"));
        Ok(match (kind, &lit) {
            (_, Operand::Null) => Pred::Const(None),
            (Kind::Int { min, max }, Operand::Num { text, neg }) => {
                let dec = Decimal::parse(text, *neg).ok_or_else(|| bad_number(text))?;
                int_compare(col, op, dec, min, max)
            }
            (Kind::Float { single }, Operand::Num { text, neg }) => {
                // Read in the column's own type, like CAST(literal AS REAL/DOUBLE); f32 → f64 is exact.
                let lit = if single {
                    text.parse::<f32>().map(f64::from).map_err(|_| bad_number(text))?
                } else {
                    text.parse::<f64>().map_err(|_| bad_number(text))?
                };
                Pred::Float { col, op, lit: if *neg { -lit } else { lit } }
            }
            (Kind::Str, Operand::Str(s)) => Pred::Str { col, op, lit: s.clone() },
            (Kind::Bool, Operand::Bool(b)) if matches!(op, CmpOp::Eq | CmpOp::Ne) => {
                Pred::Bool { col, value: *b == (op == CmpOp::Eq) }
            }
            _ => return Err(self.mismatch(span, &Operand::Col { index: col, kind }, &lit)),
        })
    }

    fn mismatch(&self, span: Span, a: &Operand, b: &Operand) -> Error {
        let (a, b) = (a.describe(self.schema), b.describe(self.schema));
        let error = self.err(span, format!("type mismatch: cannot compare {a} with {b}"));
        match error.message().contains("(Boolean)") {
            true => Error::input(format!("{}; booleans compare only with = and !=", error.message())),
            false => error,
        }
    }

    fn operand(&mut self, expr: &Expr) -> Result<Operand> {
        let joined = struct_field(expr);
        let expr = joined.as_ref().unwrap_or(expr);
        Ok(match expr {
            Expr::Nested(inner) => self.operand(inner)?,
            Expr::Identifier(ident) => {
                let (index, kind) = self.column(ident)?;
                Operand::Col { index, kind }
            }
            Expr::Value(v) => match &v.value {
                Value::Number(text, _) => Operand::Num { text: text.clone(), neg: false },
                Value::SingleQuotedString(s) => Operand::Str(s.clone()),
                Value::Boolean(b) => Operand::Bool(*b),
                Value::Null => Operand::Null,
                other => return Err(self.err(v.span, format!("unsupported literal `{other}`"))),
            },
            Expr::UnaryOp { op: op @ (UnaryOperator::Minus | UnaryOperator::Plus), expr: inner } => {
                match self.operand(inner)? {
                    Operand::Num { text, neg } => Operand::Num { text, neg: neg ^ (*op == UnaryOperator::Minus) },
                    _ => return Err(self.unsupported(expr)),
                }
            }
            _ => return Err(self.unsupported(expr)),
        })
    }

    fn column_of(&mut self, expr: &Expr, what: &str) -> Result<usize> {
        let joined = struct_field(expr);
        let expr = joined.as_ref().unwrap_or(expr);
        match expr {
            Expr::Nested(inner) => self.column_of(inner, what),
            Expr::Identifier(ident) => Ok(self.column(ident)?.0),
            _ => Err(self.err(expr.span(), format!("`{what}` applies to a column, not to `{expr}`"))),
        }
    }

    /// Resolves a column name: exact, else (unquoted) the one case-insensitive match.
    fn column(&mut self, ident: &Ident) -> Result<(usize, Kind)> {
        let fields = self.schema.fields();
        let index = self.schema.index_of(&ident.value).ok().or_else(|| {
            let mut matches = fields.iter().enumerate().filter(|(_, f)| f.name().eq_ignore_ascii_case(&ident.value));
            match (ident.quote_style, matches.next(), matches.next()) {
                (None, Some((i, _)), None) => Some(i),
                _ => None,
            }
        });
        let Some(index) = index else {
            let names: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect();
            let dotted = if ident.value.contains('.') { " (`a.b` names field b of struct column a)" } else { "" };
            let mut msg = format!("unknown column {:?}{dotted}; the columns are: {}", ident.value, names.join(", "));
            if let Some(near) = nearest(&ident.value, &names) {
                msg.push_str(&format!("; did you mean {near:?}?"));
            }
            if ident.quote_style == Some('"') {
                msg.push_str(&format!(" (double quotes name a column; a string is '{}')", ident.value));
            }
            return Err(self.err(ident.span, msg).with_column(&ident.value));
        };
        let Some(kind) = kind(fields[index].data_type()) else {
            let msg = format!(
                "column {:?} has type {}, which filters cannot read (integers, floats, booleans, strings only)",
                ident.value,
                self.type_of(index)
            );
            return Err(self.err(ident.span, msg).with_column(&ident.value));
        };
        self.used.push(index);
        Ok((index, kind))
    }

    fn type_of(&self, index: usize) -> String {
        self.schema.field(index).data_type().to_string()
    }

    fn unsupported(&self, expr: &Expr) -> Error {
        let what = match expr {
            Expr::BinaryOp { op, .. } => format!("the operator `{op}` (arithmetic and bit operations)"),
            Expr::UnaryOp { op, .. } => format!("the operator `{op}` here"),
            Expr::Function(_) => "function calls".into(),
            Expr::Subquery(_) | Expr::Exists { .. } | Expr::In { .. } => "subqueries".into(),
            Expr::Like { .. } | Expr::ILike { .. } | Expr::SimilarTo { .. } | Expr::RLike { .. } => {
                "LIKE and other pattern matching".into()
            }
            Expr::Cast { .. } => "casts".into(),
            Expr::IsTrue(_) | Expr::IsFalse(_) | Expr::IsNotTrue(_) | Expr::IsNotFalse(_) => {
                "IS TRUE / IS FALSE".into()
            }
            _ => "this kind of expression".into(),
        };
        self.err(expr.span(), format!("`{expr}`: {what} not supported in filters"))
    }
}

fn cmp_op(op: &BinaryOperator) -> Option<CmpOp> {
    Some(match op {
        BinaryOperator::Lt => CmpOp::Lt,
        BinaryOperator::LtEq => CmpOp::Le,
        BinaryOperator::Gt => CmpOp::Gt,
        BinaryOperator::GtEq => CmpOp::Ge,
        BinaryOperator::Eq => CmpOp::Eq,
        BinaryOperator::NotEq => CmpOp::Ne,
        _ => return None,
    })
}

fn negate(pred: Pred, negated: bool) -> Pred {
    if negated { Pred::Not(Box::new(pred)) } else { pred }
}

/// The operands of a chain `a op b op c ...` in order, without recursion (chains can be long).
fn flatten<'e>(expr: &'e Expr, chain: &BinaryOperator) -> Vec<&'e Expr> {
    let (mut items, mut stack) = (Vec::new(), vec![expr]);
    while let Some(e) = stack.pop() {
        match e {
            Expr::BinaryOp { left, op, right } if op == chain => {
                stack.push(right);
                stack.push(left);
            }
            other => items.push(other),
        }
    }
    items
}

/// Rewrites schema indices into positions in `columns` (sorted).
fn remap(pred: &mut Pred, columns: &[usize]) {
    let pos = |c: &mut usize| *c = columns.binary_search(c).expect("every used column is listed");
    match pred {
        Pred::Const(_) => {}
        Pred::And(items) | Pred::Or(items) => items.iter_mut().for_each(|p| remap(p, columns)),
        Pred::Not(p) => remap(p, columns),
        Pred::IsNull { col, .. }
        | Pred::IfValid { col, .. }
        | Pred::IntRange { col, .. }
        | Pred::Float { col, .. }
        | Pred::Str { col, .. }
        | Pred::Bool { col, .. } => pos(col),
        Pred::Cols { left, right, .. } => {
            pos(left);
            pos(right);
        }
    }
}

/// The name at the smallest case-insensitive edit distance (Levenshtein), if any is reasonably close.
fn nearest<'n>(name: &str, names: &[&'n str]) -> Option<&'n str> {
    let distance = |a: &str, b: &str| {
        let (a, b): (Vec<char>, Vec<char>) = (a.to_lowercase().chars().collect(), b.to_lowercase().chars().collect());
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.iter().enumerate() {
            let mut diag = row[0];
            row[0] = i + 1;
            for (j, cb) in b.iter().enumerate() {
                let next = (row[j + 1] + 1).min(row[j] + 1).min(diag + usize::from(ca != cb));
                diag = row[j + 1];
                row[j + 1] = next;
            }
        }
        row[b.len()]
    };
    let (best, d) = names.iter().map(|n| (*n, distance(name, n))).min_by_key(|&(_, d)| d)?;
    (d <= name.chars().count().max(2) / 2 + 1).then_some(best)
}
