//! Group keys: their kinds, how one row's key is read from a chunk piece, stored per group, hashed with the
//! fixed hash and compared for output order.
//!
//! Two layouts ([`KeyStore`]):
//! * **Fixed**: one integer, boolean or float key column, one `u64` per group (two's complement bits,
//!   `0`/`1`, or canonical float bits: every NaN is one value, `-0.0` is `0.0`), the null group apart.
//!   The hot case (`--by k1`), hashed as one word.
//! * **Encoded**: anything else (strings, several columns): each group's key as bytes, per column a tag
//!   (`0` null, `1` value) then 8 little-endian bytes or a `u32` length and the UTF-8 bytes. The encoding
//!   is injective, so byte equality is key equality.
//!
//! Owns no table and no accumulator (see `table.rs`, `accs.rs`). Ordering (numbers numerically, strings
//! bytewise, NaN after every number, null last) is [`KeyValue`]'s, never the hash's.

use std::cmp::Ordering;
use std::hash::BuildHasher;

use arrow_array::cast::AsArray;
use arrow_array::{Array, BooleanArray};
use arrow_schema::DataType;
use serde::{Deserialize, Serialize};

use crate::stats::numeric::{NumericChunk, numeric_chunk};

/// The fixed seed of every group hash: the same hashes in every process and run (foldhash's `FixedState`).
const SEED: u64 = 0x7461_6c6c_795f_6762; // "tally_gb"

#[inline]
pub(crate) fn hash_word(x: u64) -> u64 {
    foldhash::fast::FixedState::with_seed(SEED).hash_one(x)
}

#[inline]
pub(crate) fn hash_bytes(b: &[u8]) -> u64 {
    foldhash::fast::FixedState::with_seed(SEED).hash_one(b)
}

/// The bits of a fixed-layout key (`KeyStore::Fixed`) as an integer whose order is the output order of
/// the values: two's complement with the sign flipped, canonical floats flipped as `total_cmp` does (NaN,
/// positive, after +inf), unsigned integers and booleans as they are.
#[inline]
pub(crate) fn fixed_order(kind: KeyKind, bits: u64) -> u64 {
    match kind {
        KeyKind::Int => bits ^ (1 << 63),
        KeyKind::Float if bits >> 63 == 1 => !bits,
        KeyKind::Float => bits | (1 << 63),
        KeyKind::UInt | KeyKind::Bool | KeyKind::Str => bits,
    }
}

/// How a key column's values are compared and printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyKind {
    /// int8..int64.
    Int,
    /// uint8..uint64.
    UInt,
    Bool,
    /// float32/float64 (distinct and top only).
    Float,
    /// utf8, large utf8, dictionary-encoded utf8.
    Str,
}

impl KeyKind {
    /// The kind of a column of `data_type`, or `None` when it cannot be a key.
    pub fn of(data_type: &DataType) -> Option<KeyKind> {
        use DataType as D;
        Some(match data_type {
            D::Int8 | D::Int16 | D::Int32 | D::Int64 => KeyKind::Int,
            D::UInt8 | D::UInt16 | D::UInt32 | D::UInt64 => KeyKind::UInt,
            D::Boolean => KeyKind::Bool,
            D::Float32 | D::Float64 => KeyKind::Float,
            D::Utf8 | D::LargeUtf8 => KeyKind::Str,
            D::Dictionary(k, v) if k.is_dictionary_key_type() && matches!(**v, D::Utf8 | D::LargeUtf8) => KeyKind::Str,
            _ => return None,
        })
    }
}

/// One key value, as output and ordering see it.
#[derive(Clone, Debug, PartialEq)]
pub enum KeyValue {
    Null,
    Int(i64),
    UInt(u64),
    Bool(bool),
    Float(f64),
    Str(String),
}

impl KeyValue {
    fn from_bits(kind: KeyKind, bits: u64) -> KeyValue {
        match kind {
            KeyKind::Int => KeyValue::Int(bits as i64),
            KeyKind::UInt => KeyValue::UInt(bits),
            KeyKind::Bool => KeyValue::Bool(bits != 0),
            KeyKind::Float => KeyValue::Float(f64::from_bits(bits)),
            KeyKind::Str => KeyValue::Null, // not a fixed kind; never stored as bits
        }
    }

    /// Ascending key order: numbers numerically (NaN after +inf), strings bytewise, null last.
    pub fn cmp_key(&self, other: &KeyValue) -> Ordering {
        use KeyValue as K;
        match (self, other) {
            (K::Null, K::Null) => Ordering::Equal,
            (K::Null, _) => Ordering::Greater,
            (_, K::Null) => Ordering::Less,
            (K::Int(a), K::Int(b)) => a.cmp(b),
            (K::UInt(a), K::UInt(b)) => a.cmp(b),
            (K::Bool(a), K::Bool(b)) => a.cmp(b),
            // Canonical floats: one positive NaN, no -0.0, so the total order is the numeric one plus NaN last.
            (K::Float(a), K::Float(b)) => a.total_cmp(b),
            (K::Str(a), K::Str(b)) => a.as_bytes().cmp(b.as_bytes()),
            // One column has one kind; mixed kinds cannot meet.
            _ => Ordering::Equal,
        }
    }
}

/// Canonical bits of a float key: all NaNs are one value, `-0.0 == 0.0`.
#[inline]
pub(crate) fn float_bits(x: f64) -> u64 {
    if x.is_nan() {
        f64::NAN.to_bits()
    } else if x == 0.0 {
        0
    } else {
        x.to_bits()
    }
}

/// The stored keys of every group, in group-id order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum KeyStore {
    Fixed {
        kind: KeyKind,
        /// Per group; the null group's slot holds 0.
        #[serde(with = "super::raw")]
        values: Vec<u64>,
        /// The id of the null-key group, if there is one.
        null: Option<u32>,
    },
    Encoded {
        kinds: Vec<KeyKind>,
        /// Group `g`'s key is `bytes[offsets[g]..offsets[g + 1]]`.
        offsets: Vec<u64>,
        bytes: Vec<u8>,
    },
}

impl KeyStore {
    /// The layout for keys of `kinds`.
    pub fn new(kinds: &[KeyKind]) -> KeyStore {
        match kinds {
            [k] if *k != KeyKind::Str => KeyStore::Fixed { kind: *k, values: Vec::new(), null: None },
            _ => KeyStore::Encoded { kinds: kinds.to_vec(), offsets: vec![0], bytes: Vec::new() },
        }
    }

    /// Whether group `g`'s key is the null key (for one key column).
    pub fn is_null(&self, g: u32) -> bool {
        match self {
            KeyStore::Fixed { null, .. } => *null == Some(g),
            KeyStore::Encoded { kinds, .. } => kinds.len() == 1 && self.encoded(g).first() == Some(&0),
        }
    }

    pub(crate) fn encoded(&self, g: u32) -> &[u8] {
        match self {
            KeyStore::Encoded { offsets, bytes, .. } => {
                &bytes[offsets[g as usize] as usize..offsets[g as usize + 1] as usize]
            }
            KeyStore::Fixed { .. } => &[],
        }
    }

    /// The key of group `g`, one value per key column.
    pub fn values(&self, g: u32) -> Vec<KeyValue> {
        match self {
            KeyStore::Fixed { null: Some(n), .. } if *n == g => vec![KeyValue::Null],
            KeyStore::Fixed { kind, values, .. } => vec![KeyValue::from_bits(*kind, values[g as usize])],
            KeyStore::Encoded { kinds, .. } => decode(kinds, self.encoded(g)),
        }
    }

    /// Whether group `g` is the null key, and whether it is the NaN key (one-column keys; distinct and top).
    pub fn is_null_or_nan(&self, g: u32) -> (bool, bool) {
        match self {
            KeyStore::Fixed { null: Some(n), .. } if *n == g => (true, false),
            KeyStore::Fixed { kind: KeyKind::Float, values, .. } => (false, values[g as usize] == f64::NAN.to_bits()),
            KeyStore::Fixed { .. } => (false, false),
            KeyStore::Encoded { .. } => (self.encoded(g).first() == Some(&0), false),
        }
    }

    /// Approximate heap bytes per group (for the memory estimate).
    pub fn bytes_per_group(kinds: &[KeyKind]) -> u64 {
        match kinds {
            [k] if *k != KeyKind::Str => 8,
            _ => kinds.iter().map(|k| if *k == KeyKind::Str { 24 } else { 9 }).sum::<u64>() + 8,
        }
    }
}

fn decode(kinds: &[KeyKind], mut b: &[u8]) -> Vec<KeyValue> {
    let mut out = Vec::with_capacity(kinds.len());
    for &kind in kinds {
        let (tag, rest) = b.split_first().unwrap_or((&0, &[]));
        b = rest;
        if *tag == 0 {
            out.push(KeyValue::Null);
            continue;
        }
        if kind == KeyKind::Str {
            let len = u32::from_le_bytes(b[..4].try_into().unwrap_or_default()) as usize;
            out.push(KeyValue::Str(String::from_utf8_lossy(&b[4..4 + len]).into_owned()));
            b = &b[4 + len..];
        } else {
            let bits = u64::from_le_bytes(b[..8].try_into().unwrap_or_default());
            out.push(KeyValue::from_bits(kind, bits));
            b = &b[8..];
        }
    }
    out
}

/// One key column of one chunk piece, typed once per piece.
pub(crate) enum KeyColumn<'a> {
    Numeric(NumericChunk<'a>),
    Bool(&'a BooleanArray),
    Str32(&'a arrow_array::StringArray),
    Str64(&'a arrow_array::LargeStringArray),
    /// Dictionary-encoded strings: normalised keys into the values.
    Dict {
        keys: Vec<usize>,
        values: Box<KeyColumn<'a>>,
    },
}

impl<'a> KeyColumn<'a> {
    /// The typed view of `array` (already checked to be of a key kind by the plan).
    pub(crate) fn of(array: &'a dyn Array) -> Option<KeyColumn<'a>> {
        Some(match array.data_type() {
            DataType::Boolean => KeyColumn::Bool(array.as_boolean()),
            DataType::Utf8 => KeyColumn::Str32(array.as_string::<i32>()),
            DataType::LargeUtf8 => KeyColumn::Str64(array.as_string::<i64>()),
            DataType::Dictionary(..) => {
                let dict = array.as_any_dictionary_opt()?;
                KeyColumn::Dict {
                    keys: dict.normalized_keys(),
                    values: Box::new(KeyColumn::of(dict.values().as_ref())?),
                }
            }
            _ => KeyColumn::Numeric(numeric_chunk(array, None)?),
        })
    }

    /// Appends row `i`'s encoding (the row is valid: nulls are encoded by the caller).
    pub(crate) fn encode(&self, i: usize, out: &mut Vec<u8>) {
        match self {
            KeyColumn::Numeric(c) => out.extend_from_slice(&fixed_encoding(numeric_bits(c, i))),
            KeyColumn::Bool(b) => out.extend_from_slice(&fixed_encoding(u64::from(b.value(i)))),
            KeyColumn::Str32(s) => {
                out.push(1);
                push_str(s.value(i).as_bytes(), out);
            }
            KeyColumn::Str64(s) => {
                out.push(1);
                push_str(s.value(i).as_bytes(), out);
            }
            KeyColumn::Dict { keys, values } => values.encode(keys[i], out),
        }
    }
}

/// The encoding of a valid numeric or boolean key with the fixed layout's `bits`: the valid tag, then the bits.
#[inline]
pub(crate) fn fixed_encoding(bits: u64) -> [u8; 9] {
    let mut out = [1; 9];
    out[1..].copy_from_slice(&bits.to_le_bytes());
    out
}

fn push_str(b: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

/// Row `i` of a numeric key column as the fixed layout's bits.
#[inline]
pub(crate) fn numeric_bits(c: &NumericChunk<'_>, i: usize) -> u64 {
    match c {
        NumericChunk::F64(c) => float_bits(c.values[i]),
        NumericChunk::F32(c) => float_bits(f64::from(c.values[i])),
        NumericChunk::I8(c) => c.values[i] as i64 as u64,
        NumericChunk::I16(c) => c.values[i] as i64 as u64,
        NumericChunk::I32(c) => c.values[i] as i64 as u64,
        NumericChunk::I64(c) => c.values[i] as u64,
        NumericChunk::U8(c) => u64::from(c.values[i]),
        NumericChunk::U16(c) => u64::from(c.values[i]),
        NumericChunk::U32(c) => u64::from(c.values[i]),
        NumericChunk::U64(c) => c.values[i],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_keys_are_canonical() {
        assert_eq!(float_bits(-0.0), float_bits(0.0));
        assert_eq!(float_bits(f64::NAN), float_bits(-f64::NAN));
        assert_ne!(float_bits(1.0), float_bits(-1.0));
    }

    #[test]
    fn order_is_numeric_then_nan_then_null() {
        let mut v = vec![KeyValue::Null, KeyValue::Float(f64::NAN), KeyValue::Float(2.0), KeyValue::Float(-1.0)];
        v.sort_by(KeyValue::cmp_key);
        assert_eq!(format!("{v:?}"), "[Float(-1.0), Float(2.0), Float(NaN), Null]");
        let mut s = vec![KeyValue::Str("b".into()), KeyValue::Null, KeyValue::Str("B".into())];
        s.sort_by(KeyValue::cmp_key);
        assert_eq!(s, vec![KeyValue::Str("B".into()), KeyValue::Str("b".into()), KeyValue::Null]);
    }

    #[test]
    fn encoded_keys_decode() {
        let kinds = [KeyKind::Int, KeyKind::Str];
        let mut b = vec![1];
        b.extend_from_slice(&(-5i64 as u64).to_le_bytes());
        b.push(1);
        push_str(b"xy", &mut b);
        assert_eq!(decode(&kinds, &b), vec![KeyValue::Int(-5), KeyValue::Str("xy".into())]);
        assert_eq!(decode(&kinds, &[0, 0]), vec![KeyValue::Null, KeyValue::Null]);
    }
}
