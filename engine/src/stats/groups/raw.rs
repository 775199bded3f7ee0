//! The group state's big vectors in the state codec as one byte string each (little-endian words), not
//! element by element: a million-group chunk state crosses a pipe frame, an MPI message or a state file
//! with one copy per vector instead of a serde call (and a varint) per element, on both sides.
//!
//! Used as `#[serde(with = "raw")]` on `Vec<T>` fields of [`RawElem`] types. Counts and keys (`u64`) are
//! packed to the width of the vector's largest value: a width byte (0 to 8), then that many bytes per
//! element. A chunk's row counts are mostly single digits and its infinity counts all zero, so a
//! million-group state shrinks from 56 to about 22 bytes per group. Hand-written because `serde_bytes` only
//! takes `u8` vectors and the codec (postcard) has no bulk path of its own.

use std::marker::PhantomData;

use serde::de::{Error, Visitor};
use serde::{Deserializer, Serializer};

use crate::stats::float_sum::CompensatedSum;

/// A fixed-size element, written as `BYTES` little-endian bytes.
pub(crate) trait RawElem: Copy {
    const BYTES: usize;
    fn put(self, out: &mut Vec<u8>);
    /// Reads an element from exactly `BYTES` bytes.
    fn get(bytes: &[u8]) -> Self;

    /// The vector's bytes (see the module docs).
    fn encode(values: &[Self]) -> Vec<u8> {
        let mut out = Vec::with_capacity(values.len() * Self::BYTES);
        for &x in values {
            x.put(&mut out);
        }
        out
    }

    /// The inverse of [`encode`](Self::encode); `Err` names what is malformed.
    fn decode(bytes: &[u8]) -> Result<Vec<Self>, String> {
        if !bytes.len().is_multiple_of(Self::BYTES) {
            return Err(format!("{} bytes are not a whole number of {}-byte elements", bytes.len(), Self::BYTES));
        }
        Ok(bytes.chunks_exact(Self::BYTES).map(Self::get).collect())
    }
}

fn word(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes.try_into().expect("eight bytes"))
}

impl RawElem for u64 {
    const BYTES: usize = 8;
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn get(bytes: &[u8]) -> Self {
        word(bytes)
    }

    fn encode(values: &[u64]) -> Vec<u8> {
        let max = values.iter().fold(0, |m, &x| m | x);
        let width = (u64::BITS - max.leading_zeros()).div_ceil(8) as usize;
        if width == 0 {
            // All zeros (or none): the width byte, then the length.
            let mut out = vec![0];
            out.extend_from_slice(&(values.len() as u64).to_le_bytes());
            return out;
        }
        let mut out = Vec::with_capacity(1 + values.len() * width);
        out.push(width as u8);
        for &x in values {
            out.extend_from_slice(&x.to_le_bytes()[..width]);
        }
        out
    }

    fn decode(bytes: &[u8]) -> Result<Vec<u64>, String> {
        let Some((&width, body)) = bytes.split_first() else { return Err("no element width".into()) };
        let width = usize::from(width);
        if width == 0 {
            let n = <[u8; 8]>::try_from(body).map_err(|_| "a vector of zeros without its length".to_string())?;
            let n = u64::from_le_bytes(n);
            // A group state never holds more; a larger claim is a damaged file, not an allocation to try.
            return match usize::try_from(n).ok().filter(|&n| n <= MAX_ZEROS) {
                Some(n) => Ok(vec![0; n]),
                None => Err(format!("a vector of {n} zeros is longer than any group state")),
            };
        }
        if width > 8 {
            return Err(format!("element width {width} is more than 8 bytes"));
        }
        if !body.len().is_multiple_of(width) {
            return Err(format!("{} bytes are not a whole number of {width}-byte elements", body.len()));
        }
        Ok(body
            .chunks_exact(width)
            .map(|c| {
                let mut w = [0u8; 8];
                w[..width].copy_from_slice(c);
                u64::from_le_bytes(w)
            })
            .collect())
    }
}

/// The longest vector of zeros a state may claim: the groups of one partition (26 bits of a [`GroupId`]).
///
/// [`GroupId`]: super::GroupId
const MAX_ZEROS: usize = 1 << 26;

impl RawElem for f64 {
    const BYTES: usize = 8;
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_bits().to_le_bytes());
    }
    fn get(bytes: &[u8]) -> Self {
        f64::from_bits(word(bytes))
    }
}

impl RawElem for CompensatedSum {
    const BYTES: usize = 16;
    fn put(self, out: &mut Vec<u8>) {
        let (sum, comp) = self.parts();
        sum.put(out);
        comp.put(out);
    }
    fn get(bytes: &[u8]) -> Self {
        CompensatedSum::from_parts(f64::get(&bytes[..8]), f64::get(&bytes[8..]))
    }
}

pub(crate) fn serialize<T: RawElem, S: Serializer>(values: &[T], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bytes(&T::encode(values))
}

pub(crate) fn deserialize<'de, T: RawElem, D: Deserializer<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    d.deserialize_bytes(Elements(PhantomData))
}

struct Elements<T>(PhantomData<T>);

impl<T: RawElem> Visitor<'_> for Elements<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a byte string of {}-byte elements", T::BYTES)
    }

    fn visit_bytes<E: Error>(self, bytes: &[u8]) -> Result<Vec<T>, E> {
        T::decode(bytes).map_err(E::custom)
    }

    fn visit_byte_buf<E: Error>(self, bytes: Vec<u8>) -> Result<Vec<T>, E> {
        self.visit_bytes(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Holder {
        #[serde(with = "super")]
        words: Vec<u64>,
        #[serde(with = "super")]
        floats: Vec<f64>,
        #[serde(with = "super")]
        sums: Vec<CompensatedSum>,
    }

    /// Round trip through the codec, bit for bit (NaN payloads and -0.0 included), counts packed to the
    /// width of their largest value, and malformed vectors refused.
    #[test]
    fn vectors_round_trip_and_malformed_bytes_are_refused() {
        let mut sum = CompensatedSum::default();
        sum.add(1.0);
        sum.add(1e-30);
        let h = Holder {
            words: vec![0, 1, u64::MAX, 1 << 63],
            floats: vec![-0.0, f64::from_bits(0x7ff8_dead_beef_0001), f64::MIN_POSITIVE / 4.0],
            sums: vec![sum, CompensatedSum::default()],
        };
        let bytes = postcard::to_stdvec(&h).unwrap();
        let back: Holder = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back.words, h.words);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back.floats), bits(&h.floats));
        assert_eq!(back.sums, h.sums);
        for (words, width) in [(vec![], 0), (vec![0; 5], 0), (vec![1, 255, 0], 1), (vec![256], 2), (vec![1 << 40], 6)] {
            let packed = u64::encode(&words);
            assert_eq!(packed[0], width, "{words:?}");
            let expected_len = if width == 0 { 9 } else { 1 + words.len() * usize::from(width) };
            assert_eq!(packed.len(), expected_len, "{words:?}");
            assert_eq!(u64::decode(&packed).unwrap(), words);
        }
        assert!(u64::decode(&[3, 1, 2, 3, 4]).unwrap_err().contains("whole number"));
        assert!(u64::decode(&[9, 0, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap_err().contains("width 9"));
        assert!(u64::decode(&[0, 1, 2]).unwrap_err().contains("without its length"));
        let mut huge = vec![0u8];
        huge.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(u64::decode(&huge).unwrap_err().contains("longer than any group state"));
        assert!(u64::decode(&[]).unwrap_err().contains("no element width"));
        assert!(f64::decode(&[0; 12]).unwrap_err().contains("whole number of 8-byte"));
    }
}
