//! Three-valued bit vectors and their Kleene connectives, word by word.
//!
//! A node's answer over a piece of `len` rows is two little-endian u64 word vectors: `truth` (bit set ⇔
//! TRUE) and `valid` (bit set ⇔ not UNKNOWN; `None` when every row is known). Invariants, kept by every
//! constructor and connective here: `truth ⊆ valid`, and no bit at or past `len` is set. So FALSE is
//! `valid & !truth`, and a selection is just `truth`.

use arrow_buffer::{BooleanBuffer, NullBuffer};

/// The answer of one predicate node over a piece.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Bits {
    pub(super) truth: Vec<u64>,
    pub(super) valid: Option<Vec<u64>>,
    pub(super) len: usize,
}

/// Number of words holding `len` bits.
pub(super) fn words(len: usize) -> usize {
    len.div_ceil(64)
}

/// Every bit below `len` set.
pub(super) fn ones(len: usize) -> Vec<u64> {
    let mut w = vec![u64::MAX; words(len)];
    if !len.is_multiple_of(64) {
        *w.last_mut().expect("len > 0") = (1u64 << (len % 64)) - 1;
    }
    w
}

/// The bits of a (possibly sliced) boolean buffer, realigned so row 0 is bit 0 of word 0.
pub(super) fn from_buffer(buffer: &BooleanBuffer) -> Vec<u64> {
    // Not `iter_padded`: it appends a remainder word even when the length is a multiple of 64.
    let chunks = buffer.bit_chunks();
    let mut out: Vec<u64> = chunks.iter().collect();
    if chunks.remainder_len() > 0 {
        out.push(chunks.remainder_bits());
    }
    out
}

/// The validity words of an array's null buffer, `None` when it has no nulls.
pub(super) fn validity(nulls: Option<&NullBuffer>) -> Option<Vec<u64>> {
    nulls.filter(|n| n.null_count() > 0).map(|n| from_buffer(n.inner()))
}

/// Packs `f(x)` of every element into words, 64 elements per word.
///
/// Each block of 64 first becomes 64 bytes of 0/1 (a loop LLVM vectorises into compares and packs, even
/// on baseline SSE2), then each 8 bytes fold into 8 bits with one multiply: byte i of `x` holds 0 or 1,
/// and `x * 0x0102_0408_1020_4080` gathers byte i into bit 56 + i without carries. Measured 2.6× faster
/// than or-ing shifted bools one by one (3.4 vs 1.3 G rows/s on `k1 < 500`, one core).
#[inline]
pub(super) fn pack<T: Copy>(xs: &[T], f: impl Fn(T) -> bool) -> Vec<u64> {
    const GATHER: u64 = 0x0102_0408_1020_4080;
    let mut out = Vec::with_capacity(words(xs.len()));
    let mut blocks = xs.chunks_exact(64);
    for block in &mut blocks {
        let mut bytes = [0u8; 64];
        for (b, &x) in bytes.iter_mut().zip(block) {
            *b = f(x) as u8;
        }
        let mut w = 0u64;
        for (k, eight) in bytes.chunks_exact(8).enumerate() {
            let x = u64::from_le_bytes(eight.try_into().expect("8 bytes"));
            w |= (x.wrapping_mul(GATHER) >> 56) << (8 * k);
        }
        out.push(w);
    }
    let rest = blocks.remainder();
    if !rest.is_empty() {
        let mut w = 0u64;
        for (j, &x) in rest.iter().enumerate() {
            w |= (f(x) as u64) << j;
        }
        out.push(w);
    }
    out
}

/// Packs `f(i)` for every row index `i < len` into words, like [`pack`].
#[inline]
pub(super) fn pack_with(len: usize, f: impl Fn(usize) -> bool) -> Vec<u64> {
    (0..words(len))
        .map(|w| {
            let (start, end) = (w * 64, (w * 64 + 64).min(len));
            (start..end).fold(0u64, |acc, i| acc | (f(i) as u64) << (i - start))
        })
        .collect()
}

/// Intersection of two optional validity vectors (`None` = all valid).
pub(super) fn and_valid(a: Option<Vec<u64>>, b: Option<&Vec<u64>>) -> Option<Vec<u64>> {
    match (a, b) {
        (None, None) => None,
        (Some(a), None) => Some(a),
        (None, Some(b)) => Some(b.clone()),
        (Some(mut a), Some(b)) => {
            a.iter_mut().zip(b).for_each(|(x, y)| *x &= y);
            Some(a)
        }
    }
}

impl Bits {
    /// A leaf answer: `truth` may have bits on UNKNOWN rows or past `len`; they are cleared here.
    pub(super) fn new(mut truth: Vec<u64>, valid: Option<Vec<u64>>, len: usize) -> Bits {
        debug_assert_eq!(truth.len(), words(len), "truth words");
        debug_assert!(valid.as_ref().is_none_or(|v| v.len() == words(len)), "valid words");
        match &valid {
            Some(v) => truth.iter_mut().zip(v).for_each(|(t, v)| *t &= v),
            None if !len.is_multiple_of(64) => *truth.last_mut().expect("len > 0") &= (1u64 << (len % 64)) - 1,
            None => {}
        }
        Bits { truth, valid, len }
    }

    /// Every row `value` (`None`: UNKNOWN).
    pub(super) fn constant(value: Option<bool>, len: usize) -> Bits {
        match value {
            Some(true) => Bits { truth: ones(len), valid: None, len },
            Some(false) => Bits { truth: vec![0; words(len)], valid: None, len },
            None => Bits { truth: vec![0; words(len)], valid: Some(vec![0; words(len)]), len },
        }
    }

    /// Swaps TRUE and FALSE; UNKNOWN stays.
    pub(super) fn not(mut self) -> Bits {
        match &self.valid {
            None => {
                self.truth.iter_mut().for_each(|t| *t = !*t);
                if let (Some(last), true) = (self.truth.last_mut(), !self.len.is_multiple_of(64)) {
                    *last &= (1u64 << (self.len % 64)) - 1;
                }
            }
            Some(v) => self.truth.iter_mut().zip(v).for_each(|(t, v)| *t = !*t & v),
        }
        self
    }

    /// Kleene AND: FALSE if either is FALSE, TRUE if both are TRUE, else UNKNOWN.
    pub(super) fn and(self, other: &Bits) -> Bits {
        let valid = match (&self.valid, &other.valid) {
            (None, None) => None,
            _ => {
                // known ⇔ both known, or either known FALSE.
                let (va, vb) = (self.valid_words(), other.valid_words());
                let v = (0..va.len())
                    .map(|i| (va[i] & vb[i]) | (va[i] & !self.truth[i]) | (vb[i] & !other.truth[i]))
                    .collect();
                Some(v)
            }
        };
        let truth = self.truth.iter().zip(&other.truth).map(|(a, b)| a & b).collect();
        Bits { truth, valid, len: self.len }
    }

    /// Kleene OR: TRUE if either is TRUE, FALSE if both are FALSE, else UNKNOWN.
    pub(super) fn or(self, other: &Bits) -> Bits {
        let truth: Vec<u64> = self.truth.iter().zip(&other.truth).map(|(a, b)| a | b).collect();
        let valid = match (&self.valid, &other.valid) {
            (None, None) => None,
            (a, b) => and_valid(a.clone(), b.as_ref()).map(|v| v.iter().zip(&truth).map(|(v, t)| v | t).collect()),
        };
        Bits { truth, valid, len: self.len }
    }

    fn valid_words(&self) -> std::borrow::Cow<'_, [u64]> {
        match &self.valid {
            Some(v) => v.as_slice().into(),
            None => ones(self.len).into(),
        }
    }

    /// The rows that are TRUE.
    pub(super) fn into_selection(self) -> Vec<u64> {
        self.truth
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kleene's tables written out, checked on every pair of the three values.
    #[test]
    fn connectives_follow_kleene_tables() {
        let values = [Some(true), Some(false), None];
        let and = |a: Option<bool>, b: Option<bool>| match (a, b) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        };
        let or = |a: Option<bool>, b: Option<bool>| match (a, b) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        };
        let read = |b: &Bits| {
            let known = b.valid.as_ref().is_none_or(|v| v[0] & 1 == 1);
            known.then_some(b.truth[0] & 1 == 1)
        };
        for a in values {
            assert_eq!(read(&Bits::constant(a, 3).not()), a.map(|x| !x));
            for b in values {
                let (x, y) = (Bits::constant(a, 3), Bits::constant(b, 3));
                assert_eq!(read(&x.clone().and(&y)), and(a, b), "{a:?} and {b:?}");
                assert_eq!(read(&x.or(&y)), or(a, b), "{a:?} or {b:?}");
            }
        }
    }

    #[test]
    fn pack_and_ones_leave_no_bits_past_len() {
        let xs: Vec<u32> = (0..130).collect();
        let w = pack(&xs, |x| x % 3 == 0);
        assert_eq!(w.len(), 3);
        for (i, x) in xs.iter().enumerate() {
            assert_eq!(w[i / 64] >> (i % 64) & 1 == 1, x % 3 == 0);
        }
        assert_eq!(w[2] >> 2, 0);
        assert_eq!(ones(130)[2], 0b11);
        assert_eq!(Bits::constant(Some(true), 130).not().truth, vec![0, 0, 0]);
    }
}
