//! `--where` filters against an independent oracle, and every error message.
//!
//! The oracle evaluates the same expression row by row over scalar values (`Option` for null), with SQL's
//! three-valued logic written out as truth tables, exact rational comparisons (num-bigint) for integers
//! against literals and floats, and the documented NaN rule (NaN = NaN, NaN above +inf) as explicit
//! branches. Proptest draws random expression trees over random data with nulls, NaN, ±inf, -0.0, extreme
//! integers, every supported type, sliced arrays (offsets not multiples of 8) and dictionaries whose
//! values hold a null.

use std::cmp::Ordering;
use std::sync::Arc;

use arrow_array::types::{Int16Type, UInt8Type};
use arrow_array::*;
use arrow_schema::{DataType, Field, Schema};
use num_bigint::BigInt;
use proptest::prelude::*;
use tally_engine::filter::Filter;

/// One scalar value of the oracle.
#[derive(Clone, Debug)]
enum V {
    Int(i128),
    Float(f64),
    Str(String),
    Bool(bool),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Int,
    F32,
    F64,
    Str,
    Bool,
}

const COLUMNS: &[(&str, Kind)] = &[
    ("k8", Kind::Int),
    ("k1", Kind::Int),
    ("id", Kind::Int),
    ("u", Kind::Int),
    ("f", Kind::F32),
    ("x", Kind::F64),
    ("y", Kind::F64),
    ("flag", Kind::Bool),
    ("s", Kind::Str),
    ("ls", Kind::Str),
    ("vs", Kind::Str),
    ("ds", Kind::Str),
    ("dl", Kind::Str),
];

fn schema() -> Schema {
    let dict = |k: DataType, v: DataType| DataType::Dictionary(Box::new(k), Box::new(v));
    let types = [
        DataType::Int8,
        DataType::Int32,
        DataType::Int64,
        DataType::UInt64,
        DataType::Float32,
        DataType::Float64,
        DataType::Float64,
        DataType::Boolean,
        DataType::Utf8,
        DataType::LargeUtf8,
        DataType::Utf8View,
        dict(DataType::Int16, DataType::Utf8),
        dict(DataType::UInt8, DataType::LargeUtf8),
    ];
    Schema::new(COLUMNS.iter().zip(types).map(|((n, _), t)| Field::new(*n, t, true)).collect::<Vec<_>>())
}

const INTS: &[i128] = &[0, 1, -1, 2, -3, 127, -128, 500, 9_007_199_254_740_992, 9_007_199_254_740_993];
const FLOATS: &[f64] =
    &[0.0, -0.0, 0.5, 1.0, -2.5, 2.5, 1e308, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 9_007_199_254_740_992.0, 0.1];
const STRS: &[&str] = &["", "a", "ab", "b", "zz", "é", "A"];
/// Numeric literals as written in the expression.
const NUMS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2.5",
    "-2.5",
    "0.5",
    "127",
    "-128",
    "128",
    "1000",
    "-1000",
    "500",
    "1e308",
    "1e400",
    "-1e400",
    "9007199254740992.0",
    "9007199254740993",
    "1.5e-3",
    "18446744073709551615",
    "18446744073709551616",
    "0.1",
    "-0",
];

/// Raw material of one column row: an index into the pools, or null.
fn value_of(kind: Kind, col: usize, pick: Option<usize>) -> Option<V> {
    let p = pick?;
    Some(match kind {
        Kind::Int => {
            let (min, max) = match col {
                0 => (i8::MIN as i128, i8::MAX as i128),
                1 => (i32::MIN as i128, i32::MAX as i128),
                2 => (i64::MIN as i128, i64::MAX as i128),
                _ => (0, u64::MAX as i128),
            };
            let extremes = [min, max];
            let all: Vec<i128> = INTS.iter().chain(&extremes).copied().filter(|v| (min..=max).contains(v)).collect();
            V::Int(all[p % all.len()])
        }
        Kind::F32 => V::Float(FLOATS[p % FLOATS.len()] as f32 as f64),
        Kind::F64 => V::Float(FLOATS[p % FLOATS.len()]),
        Kind::Str => V::Str(STRS[p % STRS.len()].to_string()),
        Kind::Bool => V::Bool(p % 2 == 0),
    })
}

/// The Arrow array of a column: `rows` values after `offset` leading ones, sliced away.
fn array_of(col: usize, values: &[Option<V>], offset: usize) -> ArrayRef {
    let mut padded: Vec<Option<V>> = (0..offset).map(|i| value_of(COLUMNS[col].1, col, Some(i))).collect();
    padded.extend_from_slice(values);
    let int = |v: &Option<V>| v.as_ref().map(|v| if let V::Int(x) = v { *x } else { unreachable!() });
    let float = |v: &Option<V>| v.as_ref().map(|v| if let V::Float(x) = v { *x } else { unreachable!() });
    let string = |v: &Option<V>| v.as_ref().map(|v| if let V::Str(s) = v { s.clone() } else { unreachable!() });
    let array: ArrayRef = match col {
        0 => Arc::new(padded.iter().map(|v| int(v).map(|x| x as i8)).collect::<Int8Array>()),
        1 => Arc::new(padded.iter().map(|v| int(v).map(|x| x as i32)).collect::<Int32Array>()),
        2 => Arc::new(padded.iter().map(|v| int(v).map(|x| x as i64)).collect::<Int64Array>()),
        3 => Arc::new(padded.iter().map(|v| int(v).map(|x| x as u64)).collect::<UInt64Array>()),
        4 => Arc::new(padded.iter().map(|v| float(v).map(|x| x as f32)).collect::<Float32Array>()),
        5 | 6 => Arc::new(padded.iter().map(float).collect::<Float64Array>()),
        7 => Arc::new(padded.iter().map(|v| v.as_ref().map(|v| matches!(v, V::Bool(true)))).collect::<BooleanArray>()),
        8 => Arc::new(padded.iter().map(string).collect::<StringArray>()),
        9 => Arc::new(padded.iter().map(string).collect::<LargeStringArray>()),
        10 => Arc::new(padded.iter().map(string).collect::<StringViewArray>()),
        _ => dictionary(col, &padded),
    };
    array.slice(offset, values.len())
}

/// A dictionary whose values hold every pool string twice, a null value, and an unused entry; null rows
/// alternate between a null key and a key pointing at the null value.
fn dictionary(col: usize, rows: &[Option<V>]) -> ArrayRef {
    let mut dict: Vec<Option<&str>> = vec![Some("unused"), None];
    dict.extend(STRS.iter().map(|s| Some(*s)));
    dict.extend(STRS.iter().rev().map(|s| Some(*s)));
    let keys: Vec<Option<usize>> = rows
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            Some(V::Str(s)) => Some(2 + STRS.iter().position(|p| p == s).unwrap() + (i % 2) * STRS.len()),
            None if i % 2 == 0 => None,
            _ => Some(1),
        })
        .map(|k| k.map(|k| if k >= 2 + STRS.len() { dict.len() - 1 - (k - 2 - STRS.len()) } else { k }))
        .collect();
    if col == 11 {
        let keys: Int16Array = keys.iter().map(|k| k.map(|k| k as i16)).collect();
        Arc::new(DictionaryArray::<Int16Type>::try_new(keys, Arc::new(StringArray::from(dict))).unwrap())
    } else {
        let keys: UInt8Array = keys.iter().map(|k| k.map(|k| k as u8)).collect();
        Arc::new(DictionaryArray::<UInt8Type>::try_new(keys, Arc::new(LargeStringArray::from(dict))).unwrap())
    }
}

#[path = "filter/oracle.rs"]
mod oracle;
use oracle::{Expr, eval, render};

fn expr_strategy() -> impl Strategy<Value = Expr> {
    let n = COLUMNS.len();
    let leaf = prop_oneof![
        1 => (0..n, any::<bool>()).prop_map(|(c, neg)| Expr::IsNull(c, neg)),
        3 => (0..n, 0..6usize, any::<usize>(), any::<bool>()).prop_map(|(c, op, lit, swap)| Expr::Lit(c, op, lit, swap)),
        1 => (0..n, 0..6usize, 0..n).prop_map(|(a, op, b)| Expr::Cols(a, op, b)),
        1 => (0..n, prop::collection::vec(any::<usize>(), 1..4), any::<bool>()).prop_map(|(c, l, neg)| Expr::In(c, l, neg)),
        1 => (0..n, any::<usize>(), any::<usize>(), any::<bool>()).prop_map(|(c, a, b, neg)| Expr::Between(c, a, b, neg)),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Expr::Not(Box::new(a))),
        ]
    })
}

type Column = Vec<Option<V>>;

fn data_strategy() -> impl Strategy<Value = (Vec<Column>, usize)> {
    (0..200usize, 0..13usize).prop_flat_map(|(rows, offset)| {
        let cols: Vec<_> = COLUMNS
            .iter()
            .enumerate()
            .map(|(c, (_, kind))| {
                let kind = *kind;
                prop::collection::vec(prop::option::weighted(0.8, any::<usize>()), rows)
                    .prop_map(move |picks| picks.into_iter().map(|p| value_of(kind, c, p)).collect::<Column>())
            })
            .collect();
        (cols, Just(offset))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn evaluate_matches_the_row_by_row_oracle(expr in expr_strategy(), (data, offset) in data_strategy()) {
        let schema = schema();
        let text = render(&expr);
        let filter = Filter::try_parse(&text, &schema).unwrap_or_else(|e| panic!("{text}: {e}"));
        let rows = data[0].len();
        let arrays: Vec<ArrayRef> = filter.columns().iter().map(|&c| array_of(c, &data[c], offset)).collect();
        let refs: Vec<&dyn Array> = arrays.iter().map(|a| a.as_ref()).collect();
        let got = filter.evaluate(&refs);
        prop_assert_eq!(got.len(), rows.div_ceil(64));
        for r in 0..rows {
            let row: Vec<Option<V>> = data.iter().map(|c| c[r].clone()).collect();
            let want = eval(&expr, &row) == Some(true);
            prop_assert_eq!(got[r / 64] >> (r % 64) & 1 == 1, want, "{} at row {}: {:?}", text, r, row);
        }
        if rows % 64 != 0 {
            prop_assert_eq!(got[rows / 64] >> (rows % 64), 0, "bits past the end");
        }
        let json = serde_json::to_string(&filter).unwrap();
        prop_assert_eq!(&serde_json::from_str::<Filter>(&json).unwrap(), &filter);
        let bytes = postcard::to_allocvec(&filter).unwrap();
        prop_assert_eq!(postcard::from_bytes::<Filter>(&bytes).unwrap(), filter);
    }
}

/// Cases named in the brief, written out.
#[test]
fn documented_cases() {
    let schema = schema();
    let check = |text: &str, col: usize, values: Vec<Option<V>>, want: &[bool]| {
        let filter = Filter::try_parse(text, &schema).unwrap();
        assert_eq!(filter.columns(), [col]);
        let array = array_of(col, &values, 3);
        let got = filter.evaluate(&[array.as_ref()]);
        let got: Vec<bool> = (0..values.len()).map(|r| got[0] >> r & 1 == 1).collect();
        assert_eq!(got, want, "{text}");
    };
    let ints = |xs: &[Option<i128>]| xs.iter().map(|x| x.map(V::Int)).collect::<Vec<_>>();
    let floats = |xs: &[Option<f64>]| xs.iter().map(|x| x.map(V::Float)).collect::<Vec<_>>();
    let big = 9_007_199_254_740_992;
    check("id > 9007199254740992.0", 2, ints(&[Some(big + 1), Some(big), None]), &[true, false, false]);
    check("k8 < 1000", 0, ints(&[Some(127), Some(-128), None]), &[true, true, false]);
    check("1000 > k8", 0, ints(&[Some(127), None]), &[true, false]);
    check(
        "x > 1e308",
        5,
        floats(&[Some(f64::NAN), Some(f64::INFINITY), Some(1e308), None]),
        &[true, true, false, false],
    );
    check("x = x", 5, floats(&[Some(f64::NAN), Some(-0.0), None]), &[true, true, false]);
    check("x = 0.1", 5, floats(&[Some(0.1), Some(0.1000000000000001)]), &[true, false]);
    check("f = 0.1", 4, floats(&[Some(0.1f32 as f64), Some(0.1)]), &[true, true]); // both held as f32(0.1)
    check("u not in (1, null)", 3, ints(&[Some(1), Some(2), None]), &[false, false, false]);
    check("not flag", 7, vec![Some(V::Bool(true)), Some(V::Bool(false)), None], &[false, true, false]);
    check("flag = true", 7, vec![Some(V::Bool(true)), Some(V::Bool(false)), None], &[true, false, false]);
}

/// The whole message, so a change to any error is a visible change here.
fn error(text: &str) -> String {
    Filter::try_parse(text, &schema()).expect_err(text).to_string()
}

#[test]
fn syntax_errors_name_the_position() {
    assert_eq!(error("k1 < "), "filter \"k1 < \": syntax error: Expected: an expression, found: EOF");
    assert_eq!(
        error("k1 < 5 and\n  x > )"),
        "filter \"k1 < 5 and\\n  x > )\": syntax error: Expected: an expression, found: ) at Line: 2, Column: 7"
    );
    assert_eq!(error("k1 < 5 x"), "filter \"k1 < 5 x\": at 1:8: unexpected `x` after the end of the expression");
}

#[test]
fn unknown_columns_list_the_columns_and_suggest_one() {
    assert_eq!(
        error("k1 < 5 and kk1 > 2"),
        "column \"kk1\": filter \"k1 < 5 and kk1 > 2\": at 1:12: unknown column \"kk1\"; the columns are: k8, k1, id, u, f, x, y, \
         flag, s, ls, vs, ds, dl; did you mean \"k1\"?"
    );
    assert!(!error("zzzzzzzz = 1").contains("did you mean"));
    assert!(error("s = \"abc\"").ends_with("(double quotes name a column; a string is 'abc')"));
    assert!(Filter::try_parse("K1 < 5", &schema()).is_ok(), "unquoted names match case-insensitively");
    assert!(error("\"K1\" < 5").contains("unknown column \"K1\""), "quoted names match exactly");
}

#[test]
fn type_mismatches_are_errors() {
    assert_eq!(
        error("s > 3"),
        "filter \"s > 3\": at 1:1: type mismatch: cannot compare column \"s\" (Utf8) with the number 3"
    );
    assert_eq!(
        error("x = 'x'"),
        "filter \"x = 'x'\": at 1:1: type mismatch: cannot compare column \"x\" (Float64) with the string 'x'"
    );
    assert_eq!(
        error("ds in ('a', 2)"),
        "filter \"ds in ('a', 2)\": at 1:13: type mismatch: cannot compare column \"ds\" (Dictionary(Int16, Utf8)) \
         with the number 2"
    );
    assert!(error("flag < true").ends_with("booleans compare only with = and !="));
    assert!(error("s < k1").contains("cannot compare column \"s\" (Utf8) with column \"k1\" (Int32)"));
    assert_eq!(error("k1"), "filter \"k1\": at 1:1: column \"k1\" is Int32, not boolean: compare it with something");
}

#[test]
fn unsupported_syntax_is_named() {
    let cases = [
        ("k1 + 1 > 3", "at 1:1: `k1 + 1`: the operator `+` (arithmetic and bit operations) not supported"),
        ("abs(x) < 1", "at 1:1: `abs(x)`: function calls not supported"),
        ("s like 'a%'", "`s LIKE 'a%'`: LIKE and other pattern matching not supported"),
        ("k1 in (select 1)", "subqueries not supported"),
        ("cast(x as int) = 1", "casts not supported"),
        // A dotted name is a struct field (`source/fields.rs`), not a table-qualified column.
        ("t.k1 = 1", "unknown column \"t.k1\" (`a.b` names field b of struct column a)"),
        ("flag is true", "IS TRUE / IS FALSE not supported"),
        ("1 < 2", "at 1:1: this comparison has no column on either side"),
        ("true", "the expression reads no column"),
        ("(x + 1) is null", "`is null` applies to a column, not to `x + 1`"),
    ];
    for (text, want) in cases {
        let got = error(text);
        assert!(got.contains(want), "{text}: {got}");
    }
}

#[test]
fn unsupported_column_types_are_errors() {
    let schema = Schema::new(vec![Field::new("d", DataType::Date32, true)]);
    let e = Filter::try_parse("d is null", &schema).unwrap_err().to_string();
    assert_eq!(
        e,
        "column \"d\": filter \"d is null\": at 1:1: column \"d\" has type Date32, which filters cannot read (integers, floats, booleans, strings only)"
    );
}

#[test]
fn long_chains_and_deep_nesting_do_not_overflow() {
    let chain = vec!["k1 < 5"; 5000].join(" and ");
    assert!(Filter::try_parse(&chain, &schema()).is_ok());
    let deep = format!("{}k1 < 5{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(error(&deep).contains("recursion limit"), "{}", error(&deep));
}
