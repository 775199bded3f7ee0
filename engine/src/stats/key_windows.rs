//! [`KeyWindows`]: the refinement passes of exact quantile selection. Each [`Window`] is a key range that
//! holds wanted ranks; values outside every window are skipped with one compare each. A window either
//! counts its keys in up to 2^16 sub-buckets (with each sub-bucket's smallest and largest key, so that a
//! sub-bucket of equal values, or a rank at a sub-bucket's edge, is answered without another pass), or,
//! once it is small enough, collects its keys for an exact selection.
//!
//! Merging adds counts, takes minima and maxima and concatenates collected keys; the finisher sorts the
//! keys, so the result does not depend on the merge order.

use serde::{Deserialize, Serialize};

use super::numeric::{NumericChunk, numeric_dispatch};
use super::order_key::OrderKey;

/// Most sub-buckets of a counting window.
pub const WINDOW_BUCKETS: u64 = 1 << 16;

/// A key range `lo..=hi` and what to do with the keys inside it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub lo: u64,
    pub hi: u64,
    /// Sub-bucket of a key: `(key - lo) >> shift`.
    pub shift: u32,
    /// Collect the keys instead of counting them.
    pub collect: bool,
}

impl Window {
    /// A counting window over `lo..=hi` with the smallest shift that fits [`WINDOW_BUCKETS`].
    pub fn counting(lo: u64, hi: u64) -> Window {
        let span = hi - lo;
        let mut shift = 0;
        while (span >> shift) >= WINDOW_BUCKETS {
            shift += 1;
        }
        Window { lo, hi, shift, collect: false }
    }

    pub fn collecting(lo: u64, hi: u64) -> Window {
        Window { lo, hi, shift: 0, collect: true }
    }

    pub fn buckets(&self) -> usize {
        ((self.hi - self.lo) >> self.shift) as usize + 1
    }

    /// First and last key of sub-bucket `b`.
    pub fn bucket_keys(&self, b: usize) -> (u64, u64) {
        let lo = self.lo + ((b as u64) << self.shift);
        (lo, (lo + ((1u64 << self.shift) - 1)).min(self.hi))
    }
}

/// Sub-bucket counts of one counting window; `min`/`max` are meaningful where `counts` is non-zero.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketStats {
    pub counts: Vec<u64>,
    pub min: Vec<u64>,
    pub max: Vec<u64>,
}

impl BucketStats {
    fn new(buckets: usize) -> Self {
        BucketStats { counts: vec![0; buckets], min: vec![u64::MAX; buckets], max: vec![0; buckets] }
    }
}

/// What one window found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WindowState {
    Counts(#[serde(with = "sparse")] BucketStats),
    Keys(Vec<u64>),
}

/// The mergeable state: one entry per window of the pass, in the pass's order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyWindows {
    pub windows: Vec<WindowState>,
    pub null_count: u64,
}

impl KeyWindows {
    pub fn update(&mut self, spec: &[Window], chunk: NumericChunk<'_>) {
        self.null_count += chunk.null_count() as u64;
        if self.windows.is_empty() {
            self.windows = empty_states(spec);
        }
        numeric_dispatch!(chunk, c => self.scan_built_for_cpu(spec, c.values, c.validity));
    }

    /// [`Self::scan`] built for AVX2 where the CPU has it: the hit test compares four values per
    /// instruction instead of two. What is recorded does not depend on the build.
    #[inline(always)]
    fn scan_built_for_cpu<T: OrderKey>(&mut self, spec: &[Window], values: &[T], validity: Option<&[u64]>) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above), the only requirement of `scan_avx2`.
            return unsafe { self.scan_avx2(spec, values, validity) };
        }
        self.scan(spec, values, validity);
    }

    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn scan_avx2<T: OrderKey>(&mut self, spec: &[Window], values: &[T], validity: Option<&[u64]>) {
        self.scan(spec, values, validity);
    }

    /// The scan: per block of 64 rows, a branch-free hit mask (key, one subtraction and compare per window;
    /// the compiler vectorises it for a fixed window count), then the rare hits recorded one by one.
    /// Comparing values with bounds instead of keys put a 50/50 branch on every value.
    #[inline(always)]
    fn scan<T: OrderKey>(&mut self, spec: &[Window], values: &[T], validity: Option<&[u64]>) {
        if spec.len() <= 4 {
            return self.scan_group(spec, values, validity);
        }
        // Many windows (many quantiles far apart): in groups of four, each group a scan of its own.
        for (g, group) in spec.chunks(4).enumerate() {
            let mut part = KeyWindows { windows: self.windows[g * 4..g * 4 + group.len()].to_vec(), null_count: 0 };
            part.scan_group(group, values, validity);
            self.windows[g * 4..g * 4 + group.len()].clone_from_slice(&part.windows);
        }
    }

    /// One to four windows (no recursion, so that all of it is inlined into the AVX2 build).
    #[inline(always)]
    fn scan_group<T: OrderKey>(&mut self, spec: &[Window], values: &[T], validity: Option<&[u64]>) {
        match spec.len() {
            1 => self.scan_n::<T, 1>(spec, values, validity),
            2 => self.scan_n::<T, 2>(spec, values, validity),
            3 => self.scan_n::<T, 3>(spec, values, validity),
            _ => self.scan_n::<T, 4>(spec, values, validity),
        }
    }

    #[inline(always)]
    fn scan_n<T: OrderKey, const N: usize>(&mut self, spec: &[Window], values: &[T], validity: Option<&[u64]>) {
        let bounds: [(u64, u64); N] = std::array::from_fn(|i| (spec[i].lo, spec[i].hi - spec[i].lo));
        // The hit test compares values in their own type (no key computed for the many misses) into a byte
        // per row, which vectorises; keys are computed for the hits only.
        let cmp: [(T::Cmp, T::Cmp); N] = std::array::from_fn(|i| (T::cmp_bound(spec[i].lo), T::cmp_bound(spec[i].hi)));
        let mut words = validity.map(|w| w.iter().copied());
        let mut flags = [0u8; 64];
        for block in values.chunks(64) {
            let valid = match &mut words {
                Some(w) => w.next().unwrap_or(0),
                None => u64::MAX,
            };
            for (f, &x) in flags.iter_mut().zip(block) {
                let v = x.cmp_value();
                *f = cmp.iter().fold(0u8, |h, &(lo, hi)| h | (u8::from(v >= lo) & u8::from(v <= hi)));
            }
            // Hits are a few percent of the rows, yet most 64-row blocks hold one: look at 8 flags at once and
            // visit only the set ones (a test per row here was a quarter of the pass).
            flags[block.len()..].fill(0);
            for (g, group) in flags.chunks_exact(8).enumerate() {
                let mut hits = u64::from_le_bytes(group.try_into().expect("8 flags"));
                while hits != 0 {
                    let i = 8 * g + (hits.trailing_zeros() / 8) as usize;
                    hits &= hits - 1; // flags are 0 or 1: this clears row i's byte
                    if (valid >> i) & 1 == 0 {
                        continue;
                    }
                    let k = block[i].order_key();
                    if let Some(w) = bounds.iter().position(|&(lo, span)| k.wrapping_sub(lo) <= span) {
                        record(&spec[w], &mut self.windows[w], k, k - spec[w].lo);
                    }
                }
            }
        }
    }

    /// Merges states of the same windows (the plan gives every chunk the same ones).
    pub fn merge(&mut self, other: &KeyWindows) -> Result<(), String> {
        self.null_count += other.null_count;
        if other.windows.is_empty() {
            return Ok(());
        }
        if self.windows.is_empty() {
            self.windows.clone_from(&other.windows);
            return Ok(());
        }
        if self.windows.len() != other.windows.len() {
            return Err(format!("cannot merge {} key windows with {}", self.windows.len(), other.windows.len()));
        }
        for (a, b) in self.windows.iter_mut().zip(&other.windows) {
            match (a, b) {
                (WindowState::Counts(a), WindowState::Counts(b)) => {
                    if a.counts.len() != b.counts.len() {
                        return Err(format!(
                            "cannot merge key windows of {} and {} buckets",
                            a.counts.len(),
                            b.counts.len()
                        ));
                    }
                    for i in 0..a.counts.len() {
                        a.counts[i] += b.counts[i];
                        a.min[i] = a.min[i].min(b.min[i]);
                        a.max[i] = a.max[i].max(b.max[i]);
                    }
                }
                (WindowState::Keys(a), WindowState::Keys(b)) => a.extend_from_slice(b),
                _ => return Err("cannot merge a counting key window with a collecting one".into()),
            }
        }
        Ok(())
    }
}

/// Nothing seen yet in each window of `spec`.
fn empty_states(spec: &[Window]) -> Vec<WindowState> {
    spec.iter()
        .map(
            |w| {
                if w.collect {
                    WindowState::Keys(Vec::new())
                } else {
                    WindowState::Counts(BucketStats::new(w.buckets()))
                }
            },
        )
        .collect()
}

#[inline(always)]
fn record(w: &Window, state: &mut WindowState, k: u64, off: u64) {
    match state {
        WindowState::Keys(keys) => keys.push(k),
        WindowState::Counts(s) => {
            let b = (off >> w.shift) as usize;
            s.counts[b] += 1;
            s.min[b] = s.min[b].min(k);
            s.max[b] = s.max[b].max(k);
        }
    }
}

/// Counting windows travel sparse: `(bucket, count, min, max)` for the non-empty buckets.
mod sparse {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::BucketStats;

    pub(super) fn serialize<S: Serializer>(s: &BucketStats, ser: S) -> Result<S::Ok, S::Error> {
        let entries: Vec<(u32, u64, u64, u64)> = (0..s.counts.len())
            .filter(|&i| s.counts[i] != 0)
            .map(|i| (i as u32, s.counts[i], s.min[i], s.max[i]))
            .collect();
        (s.counts.len() as u32, entries).serialize(ser)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<BucketStats, D::Error> {
        let (len, entries): (u32, Vec<(u32, u64, u64, u64)>) = Deserialize::deserialize(de)?;
        if u64::from(len) > super::WINDOW_BUCKETS {
            return Err(serde::de::Error::custom(format!("key window of {len} buckets")));
        }
        let mut s = BucketStats::new(len as usize);
        for (i, c, lo, hi) in entries {
            let i = i as usize;
            if i >= s.counts.len() {
                return Err(serde::de::Error::custom(format!("key window bucket {i} out of range")));
            }
            (s.counts[i], s.min[i], s.max[i]) = (c, lo, hi);
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::order_key::float_key;
    use crate::store::ColumnChunk;

    #[test]
    fn counts_inside_windows_and_collects() {
        let xs: &'static [i64] = &[5, 6, 7, 100, 101, 1000, -3];
        let key = |x: i64| x.order_key();
        let spec = vec![Window::counting(key(5), key(7)), Window::collecting(key(100), key(200))];
        let mut s = KeyWindows::default();
        s.update(&spec, NumericChunk::I64(ColumnChunk::new(xs, None)));
        let WindowState::Counts(c) = &s.windows[0] else { panic!() };
        assert_eq!(c.counts, [1, 1, 1]);
        assert_eq!((c.min[1], c.max[1]), (key(6), key(6)));
        assert_eq!(s.windows[1], WindowState::Keys(vec![key(100), key(101)]));
    }

    #[test]
    fn wide_windows_shift_and_round_trip_sparse() {
        let w = Window::counting(float_key(1.0), float_key(2.0));
        assert!(w.buckets() as u64 <= WINDOW_BUCKETS);
        assert_eq!(w.bucket_keys(w.buckets() - 1).1, w.hi);
        let xs: &'static [f64] = &[1.0, 1.25, 2.0, 3.0];
        let mut s = KeyWindows::default();
        s.update(std::slice::from_ref(&w), NumericChunk::F64(ColumnChunk::new(xs, None)));
        let WindowState::Counts(c) = &s.windows[0] else { panic!() };
        assert_eq!(c.counts.iter().sum::<u64>(), 3);
        let back: KeyWindows = crate::stats::decode(&crate::stats::encode(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }

    /// The dispatched build (AVX2 here, where the CPU has it) and the portable scan against a plain loop,
    /// for one to six windows (the groups of four), counting and collecting, with nulls and NaN.
    #[test]
    fn both_builds_record_what_a_plain_loop_does() {
        let mut next = crate::stats::test_rng(0x9E37_79B9_7F4A_7C15u64);
        let xs: Vec<f64> =
            (0..3000).map(|i| if i % 97 == 0 { f64::NAN } else { (next() % 10_000) as f64 / 100.0 - 50.0 }).collect();
        let words: Vec<u64> = (0..xs.len().div_ceil(64)).map(|i| if i % 2 == 0 { u64::MAX } else { next() }).collect();
        let mut words = words;
        *words.last_mut().unwrap() &= (1u64 << (xs.len() % 64)) - 1;
        let xs: &'static [f64] = Box::leak(xs.into_boxed_slice());
        let words: &'static [u64] = Box::leak(words.into_boxed_slice());
        let edges = [-40.0, -35.0, -20.0, -19.5, 0.0, 3.0, 10.0, 12.0, 30.0, 31.0, 45.0, 49.0];
        for n in 1..=6 {
            let spec: Vec<Window> = (0..n)
                .map(|w| {
                    let (lo, hi) = (float_key(edges[2 * w]), float_key(edges[2 * w + 1]));
                    if w % 2 == 0 { Window::counting(lo, hi) } else { Window::collecting(lo, hi) }
                })
                .collect();
            let mut want = empty_states(&spec);
            for (i, &x) in xs.iter().enumerate() {
                let k = float_key(x);
                let valid = (words[i / 64] >> (i % 64)) & 1 == 1 && !x.is_nan();
                if let Some(w) = spec.iter().position(|w| valid && w.lo <= k && k <= w.hi) {
                    record(&spec[w], &mut want[w], k, k - spec[w].lo);
                }
            }
            let mut dispatched = KeyWindows::default();
            dispatched.update(&spec, NumericChunk::F64(ColumnChunk::new(xs, Some(words))));
            let mut portable = KeyWindows { windows: empty_states(&spec), null_count: 0 };
            portable.scan(&spec, xs, Some(words));
            assert_eq!(dispatched.windows, want, "{n} windows");
            assert_eq!(portable.windows, want, "{n} windows");
        }
    }
}
