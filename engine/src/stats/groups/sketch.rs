//! `distinct --approx`: a HyperLogLog sketch of one column's values (Apache DataSketches' HLL, 2^14
//! registers of 8 bits), with nulls and NaN counted exactly and apart.
//!
//! Every value is fed as its group-key encoding (`keys.rs`: tag + 8 bytes or length + UTF-8), so the
//! sketch's MurmurHash3 (fixed seed) sees the same bytes for the same value in every process: states from
//! any worker or saved file merge, and a union's registers are a maximum, so the estimate does not depend
//! on the merge order. Relative standard error `1.04 / sqrt(2^14)` ≈ 0.81 %; the report gives the
//! sketch's own 95 % bounds (two standard deviations).

use arrow_array::Array;
use datasketches::common::NumStdDev;
use datasketches::hll::{Coupon, HllSketch, HllType, HllUnion};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::keys::{KeyColumn, fixed_encoding, numeric_bits};
use crate::stats::numeric::NumericChunk;
use crate::store::validity_words;

/// log2 of the register count.
pub const LG_K: u8 = 14;

/// Sketch state of one column.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DistinctSketch {
    pub null_count: u64,
    pub nan_count: u64,
    #[serde(serialize_with = "write_sketch", deserialize_with = "read_sketch")]
    sketch: HllSketch,
}

fn write_sketch<S: Serializer>(sketch: &HllSketch, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bytes(&sketch.serialize())
}

fn read_sketch<'de, D: Deserializer<'de>>(d: D) -> Result<HllSketch, D::Error> {
    let bytes: Vec<u8> = serde::de::Deserialize::deserialize(d)?;
    HllSketch::deserialize(&bytes).map_err(serde::de::Error::custom)
}

impl PartialEq for DistinctSketch {
    fn eq(&self, other: &Self) -> bool {
        (self.null_count, self.nan_count, self.sketch.serialize())
            == (other.null_count, other.nan_count, other.sketch.serialize())
    }
}

impl Default for DistinctSketch {
    fn default() -> Self {
        DistinctSketch { null_count: 0, nan_count: 0, sketch: HllSketch::new(LG_K, HllType::Hll8).expect("valid lg_k") }
    }
}

/// The bytes `HllSketch::update(encoded)` hashes for a key's encoding (`KeyColumn::encode`): `[u8]`'s `Hash`
/// writes the length (a `usize`) and then the bytes, in two writes, each copying into MurmurHash3's block buffer. Written at
/// once, the same byte stream gives the same hash (the hasher buffers partial blocks), so sketches stay
/// those of the encoding in every process and saved state, for half the copies (a third of the time of
/// `distinct --approx` went to them).
struct Hashed<'a>(&'a [u8]);

impl std::hash::Hash for Hashed<'_> {
    #[inline(always)]
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write(self.0);
    }
}

/// The estimate and its 95 % bounds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub estimate: f64,
    pub lower: f64,
    pub upper: f64,
}

impl DistinctSketch {
    /// Adds a chunk piece of the column; rows whose `selection` bit is clear are not rows.
    pub fn update(&mut self, array: &dyn Array, selection: Option<&[u64]>) {
        let column =
            KeyColumn::of(array).unwrap_or_else(|| panic!("bug in tally: distinct over {}", array.data_type()));
        let nulls = validity_words(array);
        let float = matches!(column, KeyColumn::Numeric(NumericChunk::F64(_) | NumericChunk::F32(_)));
        let bit = |w: Option<&[u64]>, i: usize| w.is_none_or(|w| (w[i / 64] >> (i % 64)) & 1 == 1);
        let mut buf = Vec::with_capacity(32);
        for i in 0..array.len() {
            if !bit(selection, i) {
                continue;
            }
            if !bit(nulls.as_deref(), i) {
                self.null_count += 1;
                continue;
            }
            let coupon = match &column {
                KeyColumn::Numeric(c) => {
                    let bits = numeric_bits(c, i);
                    if float && bits == f64::NAN.to_bits() {
                        self.nan_count += 1;
                        continue;
                    }
                    // A fixed-size buffer: the hasher's copies are then of known length, inlined.
                    let encoded = fixed_encoding(bits);
                    let mut hashed = [0u8; 8 + 9];
                    hashed[..8].copy_from_slice(&encoded.len().to_ne_bytes());
                    hashed[8..].copy_from_slice(&encoded);
                    Coupon::from_value(Hashed(&hashed))
                }
                _ => {
                    buf.clear();
                    buf.extend_from_slice(&[0; 8]);
                    column.encode(i, &mut buf);
                    let len = buf.len() - 8;
                    buf[..8].copy_from_slice(&len.to_ne_bytes());
                    Coupon::from_value(Hashed(&buf))
                }
            };
            self.sketch.update_with_coupon(coupon);
        }
    }

    pub fn merge(&mut self, other: &DistinctSketch) {
        self.null_count += other.null_count;
        self.nan_count += other.nan_count;
        let mut union = HllUnion::new(LG_K).expect("valid lg_k");
        union.update(&self.sketch);
        union.update(&other.sketch);
        self.sketch = union.to_sketch(HllType::Hll8);
    }

    pub fn estimate(&self) -> Estimate {
        Estimate {
            estimate: self.sketch.estimate(),
            lower: self.sketch.lower_bound(NumStdDev::Two),
            upper: self.sketch.upper_bound(NumStdDev::Two),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::types::Int32Type;
    use arrow_array::{ArrayRef, BooleanArray, DictionaryArray, Float64Array, Int64Array, StringArray};

    use super::*;

    /// The sketch the crate builds from each value's encoding as a byte slice (its documented `update`),
    /// nulls (a dictionary's null entries included) and NaN left out: what `DistinctSketch::update` must
    /// reproduce bit for bit.
    fn reference(array: &dyn Array) -> Vec<u8> {
        let column = KeyColumn::of(array).unwrap();
        let nulls = array.logical_nulls();
        let mut sketch = HllSketch::new(LG_K, HllType::Hll8).unwrap();
        for i in (0..array.len()).filter(|&i| nulls.as_ref().is_none_or(|n| n.is_valid(i))) {
            if let KeyColumn::Numeric(NumericChunk::F64(c)) = &column
                && c.values[i].is_nan()
            {
                continue;
            }
            let mut encoded = Vec::new();
            column.encode(i, &mut encoded);
            sketch.update(encoded.as_slice());
        }
        sketch.serialize()
    }

    #[test]
    fn one_write_hashes_what_the_slices_hash() {
        let n = 40_000i64;
        let arrays: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from_iter((0..n).map(|i| (i % 7 != 0).then_some(i * 2_654_435_761 % 100_003)))),
            Arc::new(Float64Array::from_iter((0..n).map(|i| match i % 11 {
                0 => None,
                1 => Some(f64::NAN),
                2 => Some(-0.0),
                _ => Some(i as f64 / 3.0),
            }))),
            Arc::new(StringArray::from_iter((0..n).map(|i| (i % 5 != 0).then(|| format!("k{}", i % 9_000))))),
            Arc::new(BooleanArray::from_iter((0..n).map(|i| (i % 3 != 0).then_some(i % 2 == 0)))),
            Arc::new(
                DictionaryArray::<Int32Type>::try_new(
                    (0..n as i32).map(|i| (i % 13 != 0).then_some(i % 4)).collect(),
                    Arc::new(StringArray::from(vec![Some("a"), None, Some("bc"), Some("")])),
                )
                .unwrap(),
            ),
        ];
        for array in &arrays {
            let mut sketch = DistinctSketch::default();
            sketch.update(array.as_ref(), None);
            assert_eq!(sketch.sketch.serialize(), reference(array.as_ref()), "{}", array.data_type());
        }
    }
}
