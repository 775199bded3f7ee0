//! Helpers of the per-piece group-id assignment (`Groups::update`): typed access to fixed-width keys,
//! validity bits, and the counting sort that buckets rows by partition (rows ascending within each).

use super::keys;

/// Per-row key access, typed once per piece.
pub(super) trait FixedElem: Copy {
    fn bits(self) -> u64;
    /// The value as an integer, for the direct-array range test (`None` for floats).
    fn int(self) -> Option<i128>;
    /// The smallest and largest of `xs` as integers (`None` for floats and empty slices): one pass in the
    /// native type, which vectorises where a fold over [`int`](Self::int) does not.
    fn int_range(xs: &[Self]) -> Option<(i128, i128)>;
}

macro_rules! fixed_elem {
    (int: $($t:ty),*) => { $(impl FixedElem for $t {
        #[inline(always)] fn bits(self) -> u64 { self as i64 as u64 }
        #[inline(always)] fn int(self) -> Option<i128> { Some(self as i128) }
        fn int_range(xs: &[Self]) -> Option<(i128, i128)> { native_range(xs, <$t>::MAX, <$t>::MIN) }
    })* };
    (uint: $($t:ty),*) => { $(impl FixedElem for $t {
        #[inline(always)] fn bits(self) -> u64 { self as u64 }
        #[inline(always)] fn int(self) -> Option<i128> { Some(self as i128) }
        fn int_range(xs: &[Self]) -> Option<(i128, i128)> { native_range(xs, <$t>::MAX, <$t>::MIN) }
    })* };
}

fn native_range<T: Copy + Ord + Into<i128>>(xs: &[T], max: T, min: T) -> Option<(i128, i128)> {
    if xs.is_empty() {
        return None;
    }
    let (lo, hi) = xs.iter().fold((max, min), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    Some((lo.into(), hi.into()))
}
fixed_elem!(int: i8, i16, i32, i64);
fixed_elem!(uint: u8, u16, u32, u64);
impl FixedElem for f64 {
    fn bits(self) -> u64 {
        keys::float_bits(self)
    }
    fn int(self) -> Option<i128> {
        None
    }
    fn int_range(_: &[Self]) -> Option<(i128, i128)> {
        None
    }
}
impl FixedElem for f32 {
    fn bits(self) -> u64 {
        keys::float_bits(f64::from(self))
    }
    fn int(self) -> Option<i128> {
        None
    }
    fn int_range(_: &[Self]) -> Option<(i128, i128)> {
        None
    }
}

#[inline(always)]
pub(super) fn bit(words: Option<&[u64]>, i: usize) -> bool {
    words.is_none_or(|w| (w[i / 64] >> (i % 64)) & 1 == 1)
}

/// Rows bucketed by partition, ascending within each: `(row, value)` pairs and where each partition starts.
pub(super) fn bucket<T: Copy + Default>(
    items: impl Iterator<Item = (usize, u32, T)> + Clone,
    parts: usize,
) -> (Vec<(u32, T)>, Vec<usize>) {
    let mut starts = vec![0usize; parts + 1];
    for (p, _, _) in items.clone() {
        starts[p + 1] += 1;
    }
    for p in 0..parts {
        starts[p + 1] += starts[p];
    }
    let mut next = starts.clone();
    let mut out = vec![(0u32, T::default()); starts[parts]];
    for (p, row, v) in items {
        out[next[p]] = (row, v);
        next[p] += 1;
    }
    (out, starts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_range_is_the_smallest_and_largest_value_of_every_integer_type() {
        assert_eq!(i8::int_range(&[-5, 3, 127, -128]), Some((-128, 127)));
        assert_eq!(u64::int_range(&[u64::MAX, 7, 0]), Some((0, i128::from(u64::MAX))));
        assert_eq!(i64::int_range(&[i64::MIN]), Some((i128::from(i64::MIN), i128::from(i64::MIN))));
        assert_eq!(u16::int_range(&[]), None);
        assert_eq!(f64::int_range(&[1.0, 2.0]), None);
    }
}
