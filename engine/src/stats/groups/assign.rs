//! Helpers of the per-piece group-id assignment (`Groups::update`): typed access to fixed-width keys,
//! validity bits, and the counting sort that buckets rows by partition (rows ascending within each).

use super::keys;

/// Per-row key access, typed once per piece.
pub(super) trait FixedElem: Copy {
    fn bits(self) -> u64;
    /// The distance from `lo`, the smallest value of a direct-array piece (never called for floats,
    /// which have no direct range). Native wrapping arithmetic, not i128: it is on every row of `--by k1`,
    /// and the distance is below [`DIRECT_RANGE`](super::DIRECT_RANGE), so it is exact modulo 2^64.
    fn offset_from(self, lo: i128) -> usize;
    /// The smallest and largest of `xs` as integers (`None` for floats and empty slices): one pass in the
    /// native type, which vectorises where a fold in i128 does not.
    fn int_range(xs: &[Self]) -> Option<(i128, i128)>;
}

macro_rules! fixed_elem {
    (int: $($t:ty),*) => { $(impl FixedElem for $t {
        #[inline(always)] fn bits(self) -> u64 { self as i64 as u64 }
        #[inline(always)] fn offset_from(self, lo: i128) -> usize { (self as i64).wrapping_sub(lo as i64) as usize }
        fn int_range(xs: &[Self]) -> Option<(i128, i128)> { native_range(xs, <$t>::MAX, <$t>::MIN) }
    })* };
    (uint: $($t:ty),*) => { $(impl FixedElem for $t {
        #[inline(always)] fn bits(self) -> u64 { self as u64 }
        #[inline(always)] fn offset_from(self, lo: i128) -> usize { (self as u64).wrapping_sub(lo as u64) as usize }
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
    fn offset_from(self, _: i128) -> usize {
        0
    }
    fn int_range(_: &[Self]) -> Option<(i128, i128)> {
        None
    }
}
impl FixedElem for f32 {
    fn bits(self) -> u64 {
        keys::float_bits(f64::from(self))
    }
    fn offset_from(self, _: i128) -> usize {
        0
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

    /// The distance a direct array indexes by, against i128 subtraction, at the ends of every type.
    #[test]
    fn offset_from_is_the_distance_from_the_smallest_value_at_the_ends_of_every_type() {
        fn check<T: FixedElem + Into<i128> + Copy>(xs: &[T]) {
            let (lo, _) = T::int_range(xs).unwrap();
            for &x in xs {
                assert_eq!(x.offset_from(lo) as i128, x.into() - lo);
            }
        }
        check(&[i8::MIN, i8::MIN + 3, -1, 0, i8::MAX]);
        check(&[u8::MAX - 9, u8::MAX]);
        check(&[i16::MIN, i16::MAX]);
        check(&[u16::MIN, u16::MAX]);
        check(&[i32::MAX - 999, i32::MAX]);
        check(&[i32::MIN, i32::MIN + 999]);
        check(&[i64::MIN, i64::MIN + 40_000]);
        check(&[i64::MAX - 65_535, i64::MAX]);
        check(&[-3i64, 65_000]);
        check(&[u32::MAX - 5, u32::MAX]);
        check(&[u64::MAX - 65_535, u64::MAX - 7, u64::MAX]);
        check(&[(1u64 << 63) - 3, 1u64 << 63, (1u64 << 63) + 3]);
    }
}
