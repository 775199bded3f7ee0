//! The oracle of `tests/filter.rs`: random expression trees, their SQL text, and a row-by-row evaluator
//! over scalar values written from the SQL rules, independently of the engine's lowering.

use super::{BigInt, COLUMNS, Kind, NUMS, Ordering, STRS, V};

/// A random expression; indices are resolved against the column kinds when rendered or evaluated, so
/// every tree is well typed.
#[derive(Clone, Debug)]
pub(super) enum Expr {
    IsNull(usize, bool),
    /// column, operator, literal pick, literal on the left.
    Lit(usize, usize, usize, bool),
    Cols(usize, usize, usize),
    In(usize, Vec<usize>, bool),
    Between(usize, usize, usize, bool),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

/// A literal as the oracle sees it.
#[derive(Clone, Debug)]
enum Lit {
    Num(&'static str),
    Str(&'static str),
    Bool(bool),
    Null,
}

const OPS: [&str; 6] = ["<", "<=", ">", ">=", "=", "<>"];

fn kind(c: usize) -> Kind {
    COLUMNS[c].1
}

fn numeric(k: Kind) -> bool {
    matches!(k, Kind::Int | Kind::F32 | Kind::F64)
}

/// Booleans take only = and <>.
fn op_for(c: usize, op: usize) -> usize {
    if kind(c) == Kind::Bool { 4 + op % 2 } else { op }
}

fn lit_for(c: usize, pick: usize) -> Lit {
    if pick.is_multiple_of(13) {
        return Lit::Null;
    }
    match kind(c) {
        Kind::Int | Kind::F32 | Kind::F64 => Lit::Num(NUMS[pick % NUMS.len()]),
        Kind::Str => Lit::Str(STRS[pick % STRS.len()]),
        Kind::Bool => Lit::Bool(pick.is_multiple_of(2)),
    }
}

/// The second column of a pair: the first one at or after `b` (cyclically) of a comparable kind.
fn partner(a: usize, b: usize) -> usize {
    let fits = |k: Kind| if numeric(kind(a)) { numeric(k) } else { k == kind(a) };
    (0..COLUMNS.len()).map(|i| (b + i) % COLUMNS.len()).find(|&i| fits(kind(i))).unwrap()
}

fn between_col(c: usize) -> usize {
    if kind(c) == Kind::Bool { 1 } else { c }
}

fn lit_text(l: &Lit) -> String {
    match l {
        Lit::Num(n) => n.to_string(),
        Lit::Str(s) => format!("'{s}'"),
        Lit::Bool(b) => b.to_string(),
        Lit::Null => "null".into(),
    }
}

pub(super) fn render(e: &Expr) -> String {
    let name = |c: usize| COLUMNS[c].0;
    match e {
        Expr::IsNull(c, neg) => format!("{} is {}null", name(*c), if *neg { "not " } else { "" }),
        Expr::Lit(c, _, pick, _) if kind(*c) == Kind::Bool && pick % 3 == 2 => name(*c).to_string(),
        Expr::Lit(c, op, pick, swap) => {
            let (op, lit) = (OPS[op_for(*c, *op)], lit_text(&lit_for(*c, *pick)));
            let op = if op == "<>" && pick % 2 == 0 { "!=" } else { op };
            if *swap {
                // `lit op' col` with op' the mirror of op, so the meaning stays `col op lit`.
                let mirror = match op {
                    "<" => ">",
                    ">" => "<",
                    "<=" => ">=",
                    ">=" => "<=",
                    other => other,
                };
                format!("{lit} {mirror} {}", name(*c))
            } else {
                format!("{} {op} {lit}", name(*c))
            }
        }
        Expr::Cols(a, op, b) => format!("{} {} {}", name(*a), OPS[op_for(*a, *op)], name(partner(*a, *b))),
        Expr::In(c, picks, neg) => {
            let list: Vec<String> = picks.iter().map(|p| lit_text(&lit_for(*c, *p))).collect();
            format!("{} {}in ({})", name(*c), if *neg { "not " } else { "" }, list.join(", "))
        }
        Expr::Between(c, lo, hi, neg) => {
            let c = between_col(*c);
            let (lo, hi) = (lit_text(&lit_for(c, *lo)), lit_text(&lit_for(c, *hi)));
            format!("{} {}between {lo} and {hi}", name(c), if *neg { "not " } else { "" })
        }
        Expr::And(a, b) => format!("({}) and ({})", render(a), render(b)),
        Expr::Or(a, b) => format!("({} or {})", render(a), render(b)),
        Expr::Not(a) => format!("not ({})", render(a)),
    }
}

fn and(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

fn or(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

pub(super) fn eval(e: &Expr, row: &[Option<V>]) -> Option<bool> {
    match e {
        Expr::IsNull(c, neg) => Some(row[*c].is_none() != *neg),
        Expr::Lit(c, _, pick, _) if kind(*c) == Kind::Bool && pick % 3 == 2 => match &row[*c] {
            Some(V::Bool(b)) => Some(*b),
            _ => None,
        },
        Expr::Lit(c, op, pick, _) => {
            let ord = cmp_lit(*c, row[*c].as_ref()?, &lit_for(*c, *pick))?;
            Some(holds(op_for(*c, *op), ord))
        }
        Expr::Cols(a, op, b) => {
            let b = partner(*a, *b);
            let ord = cmp_values(row[*a].as_ref()?, row[b].as_ref()?);
            Some(holds(op_for(*a, *op), ord))
        }
        Expr::In(c, picks, neg) => {
            let hits = picks.iter().map(|p| Some(cmp_lit(*c, row[*c].as_ref()?, &lit_for(*c, *p))? == Ordering::Equal));
            let any = hits.fold(Some(false), or);
            any.map(|b| b != *neg)
        }
        Expr::Between(c, lo, hi, neg) => {
            let c = between_col(*c);
            let side = |pick: usize, op: usize| Some(holds(op, cmp_lit(c, row[c].as_ref()?, &lit_for(c, pick))?));
            and(side(*lo, 3), side(*hi, 1)).map(|b| b != *neg)
        }
        Expr::And(a, b) => and(eval(a, row), eval(b, row)),
        Expr::Or(a, b) => or(eval(a, row), eval(b, row)),
        Expr::Not(a) => eval(a, row).map(|b| !b),
    }
}

fn holds(op: usize, o: Ordering) -> bool {
    match OPS[op] {
        "<" => o.is_lt(),
        "<=" => o.is_le(),
        ">" => o.is_gt(),
        ">=" => o.is_ge(),
        "=" => o.is_eq(),
        _ => o.is_ne(),
    }
}

/// NaN equals NaN and is above everything else (PostgreSQL's rule), by explicit cases.
fn float_ord(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => a.partial_cmp(&b).unwrap(),
    }
}

/// An exact rational `num / den`, `den > 0`.
type Rat = (BigInt, BigInt);

fn rat_cmp(a: &Rat, b: &Rat) -> Ordering {
    (&a.0 * &b.1).cmp(&(&b.0 * &a.1))
}

/// The decimal text as an exact rational.
fn decimal(text: &str) -> Rat {
    let (neg, text) = text.strip_prefix('-').map_or((false, text), |t| (true, t));
    let (mantissa, exp) = text.split_once(['e', 'E']).map_or((text, 0i64), |(m, e)| (m, e.parse().unwrap()));
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: BigInt = format!("{int}{frac}").parse().unwrap();
    let scale = exp - frac.len() as i64;
    let ten = BigInt::from(10);
    let (num, den) = if scale >= 0 {
        (digits * num_traits::pow(ten, scale as usize), BigInt::from(1))
    } else {
        (digits, num_traits::pow(ten, (-scale) as usize))
    };
    (if neg { -num } else { num }, den)
}

/// A finite f64 as an exact rational, from its bits.
fn float_rat(y: f64) -> Rat {
    let bits = y.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i64;
    let frac = (bits & ((1 << 52) - 1)) as i64;
    let (m, e) = if exp == 0 { (frac, -1074) } else { (frac | (1 << 52), exp - 1075) };
    let m = BigInt::from(if bits >> 63 == 1 { -m } else { m });
    if e >= 0 { (m << e as usize, BigInt::from(1)) } else { (m, BigInt::from(1) << (-e) as usize) }
}

fn int_vs_float(x: i128, y: f64) -> Ordering {
    if y.is_nan() || y == f64::INFINITY {
        Ordering::Less
    } else if y == f64::NEG_INFINITY {
        Ordering::Greater
    } else {
        rat_cmp(&(BigInt::from(x), BigInt::from(1)), &float_rat(y))
    }
}

fn cmp_values(a: &V, b: &V) -> Ordering {
    match (a, b) {
        (V::Int(x), V::Int(y)) => x.cmp(y),
        (V::Float(x), V::Float(y)) => float_ord(*x, *y),
        (V::Int(x), V::Float(y)) => int_vs_float(*x, *y),
        (V::Float(x), V::Int(y)) => int_vs_float(*y, *x).reverse(),
        (V::Str(x), V::Str(y)) => x.as_bytes().cmp(y.as_bytes()),
        (V::Bool(x), V::Bool(y)) => x.cmp(y),
        _ => unreachable!("well-typed"),
    }
}

/// `value` (of column `c`) against a literal: integers exactly, floats against the literal read in the
/// column's float type (the documented rule); `None` for null.
fn cmp_lit(c: usize, value: &V, lit: &Lit) -> Option<Ordering> {
    Some(match (value, lit) {
        (_, Lit::Null) => return None,
        (V::Int(x), Lit::Num(n)) => rat_cmp(&(BigInt::from(*x), BigInt::from(1)), &decimal(n)),
        (V::Float(x), Lit::Num(n)) => {
            let l = if kind(c) == Kind::F32 { n.parse::<f32>().unwrap() as f64 } else { n.parse::<f64>().unwrap() };
            float_ord(*x, l)
        }
        (V::Str(x), Lit::Str(s)) => x.as_bytes().cmp(s.as_bytes()),
        (V::Bool(x), Lit::Bool(b)) => x.cmp(b),
        _ => unreachable!("well-typed"),
    })
}
