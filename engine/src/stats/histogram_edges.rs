//! Histogram bin edges: [`HistogramSpec`], built exactly as NumPy 2.x builds them, and the lookup of a
//! value's bin.
//!
//! Owns the edge arithmetic (`numpy.linspace`, `_get_outer_edges`), the validation of user-given edges and
//! the bin rule: bin `i` holds `edges[i] <= x < edges[i+1]`, the last bin also holds `x == edges[n]`.
//! Does not own counting (see `histogram.rs`).
//!
//! References: `numpy/_core/function_base.py` (`linspace`: `step = delta / div`, `y = arange(num) * step +
//! start`, the `step == 0` branch for denormal deltas, gh-5437, and `y[-1] = stop`) and
//! `numpy/lib/_histograms_impl.py` (`_get_outer_edges`: a constant range becomes `lo - 0.5, hi + 0.5`; an
//! empty array gets `0, 1`; `_get_bin_edges`: user edges must increase monotonically).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The bins of a histogram: `bins() + 1` finite, non-decreasing edges.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistogramSpec {
    edges: Vec<f64>,
    /// Built by [`HistogramSpec::equal_width`]: the counting kernel may estimate the bin arithmetically.
    uniform: bool,
}

/// `numpy.linspace(lo, hi, num)` with `endpoint=True` in float64, bit for bit.
pub fn linspace(lo: f64, hi: f64, num: usize) -> Vec<f64> {
    if num == 0 {
        return Vec::new();
    }
    let div = num - 1;
    let delta = hi - lo;
    let mut y: Vec<f64> = (0..num).map(|i| i as f64).collect();
    if div > 0 {
        let step = delta / div as f64;
        if step == 0.0 {
            // NumPy's branch for denormal deltas (gh-5437): divide first, then scale.
            y.iter_mut().for_each(|v| *v = *v / div as f64 * delta);
        } else {
            y.iter_mut().for_each(|v| *v *= step);
        }
    } else {
        // One point: NumPy multiplies by delta (step is undefined).
        y.iter_mut().for_each(|v| *v *= delta);
    }
    y.iter_mut().for_each(|v| *v += lo);
    if num > 1 {
        y[num - 1] = hi;
    }
    y
}

impl HistogramSpec {
    /// `bins` equal-width bins over `[lo, hi]`, as `numpy.histogram(a, bins, range=(lo, hi))` makes them.
    /// A constant range (`lo == hi`) becomes `[lo - 0.5, hi + 0.5]` as in NumPy's `_get_outer_edges`.
    pub fn equal_width(lo: f64, hi: f64, bins: usize) -> Result<Self> {
        if bins == 0 {
            return Err(Error::input("histogram needs at least 1 bin, got 0"));
        }
        if !lo.is_finite() || !hi.is_finite() {
            return Err(Error::input(format!("histogram range [{lo}, {hi}] is not finite")));
        }
        if lo > hi {
            return Err(Error::input(format!(
                "histogram range [{lo}, {hi}]: the maximum must not be below the minimum"
            )));
        }
        let (lo, hi) = if lo == hi { (lo - 0.5, hi + 0.5) } else { (lo, hi) };
        if !(hi - lo).is_finite() {
            // NumPy would compute `inf` steps and NaN edges here; tally refuses.
            return Err(Error::input(format!("histogram range [{lo}, {hi}] is wider than the largest float")));
        }
        Ok(HistogramSpec { edges: linspace(lo, hi, bins + 1), uniform: true })
    }

    /// Equal-width bins over the finite range a first pass found: `None` (no finite value) gives NumPy's
    /// `[0, 1]` for empty input.
    pub fn from_data_range(range: Option<(f64, f64)>, bins: usize) -> Result<Self> {
        let (lo, hi) = range.unwrap_or((0.0, 1.0));
        Self::equal_width(lo, hi, bins)
    }

    /// Bins from explicit edges: at least two, finite, non-decreasing (NumPy: "`bins` must increase
    /// monotonically"). Repeated edges make empty bins, as in NumPy.
    pub fn from_edges(edges: Vec<f64>) -> Result<Self> {
        if edges.len() < 2 {
            return Err(Error::input(format!("histogram needs at least 2 edges, got {}", edges.len())));
        }
        if let Some(i) = edges.iter().position(|e| !e.is_finite()) {
            return Err(Error::input(format!("histogram edge {i} is {} (edges must be finite)", edges[i])));
        }
        if let Some(i) = edges.windows(2).position(|w| w[0] > w[1]) {
            return Err(Error::input(format!(
                "histogram edges must increase monotonically: edge {} ({}) > edge {} ({})",
                i,
                edges[i],
                i + 1,
                edges[i + 1]
            )));
        }
        Ok(HistogramSpec { edges, uniform: false })
    }

    pub fn edges(&self) -> &[f64] {
        &self.edges
    }

    pub fn bins(&self) -> usize {
        self.edges.len() - 1
    }

    pub fn lo(&self) -> f64 {
        self.edges[0]
    }

    pub fn hi(&self) -> f64 {
        self.edges[self.edges.len() - 1]
    }

    /// The arithmetic slot estimator for equal-width specs, when it is exact after one correction step.
    pub(crate) fn uniform(&self) -> Option<Uniform> {
        let bins = self.bins();
        let scale = bins as f64 / (self.hi() - self.lo());
        // Error of the estimate against the edges, in bins (module doc of `Uniform`): at most
        // 7·ε·bins + ulp·scale, where ulp is that of the widest edge. Below 1/2 one correction step is
        // enough; denormal ranges (infinite scale), huge bin counts, or bins narrower than a few ulps
        // (NumPy's loops would step many bins) search instead.
        let widest = self.lo().abs().max(self.hi().abs());
        let ulp = 2.0 * (widest - widest.next_down()); // an upper bound of the ulps of every edge
        let ok = self.uniform && scale.is_finite() && bins < 1 << 31 && ulp * scale <= 0.25;
        ok.then(|| {
            let mut ext = Vec::with_capacity(bins + 3);
            ext.push(f64::NEG_INFINITY);
            ext.extend_from_slice(&self.edges[..bins]);
            ext.push(self.hi().next_up());
            ext.push(f64::NAN);
            #[cfg(target_arch = "x86_64")]
            let avx2 = std::arch::is_x86_feature_detected!("avx2");
            #[cfg(not(target_arch = "x86_64"))]
            let avx2 = false;
            Uniform { lo: self.lo(), scale, bins: bins as f64, nan: bins + 2, ext, avx2 }
        })
    }

    /// The bin of a value in `[lo, hi]` by binary search over the edges (the rule itself).
    #[inline]
    pub fn search(&self, x: f64) -> usize {
        if x == self.hi() { self.bins() - 1 } else { self.edges.partition_point(|&e| e <= x) - 1 }
    }
}

/// NumPy's fast path for equal-width bins: an arithmetic estimate, then corrections against the edges
/// ("the index computation is not guaranteed to give exactly consistent results within ~1 ULP of the bin
/// edges", `_histograms_impl.py`), written without branches.
///
/// Slots (see `histogram.rs`): 0 underflow, `1..=bins` the bins, `bins + 1` overflow, `bins + 2` NaN. Slot
/// `s` holds `ext[s] <= x < ext[s + 1]` with `ext = [−inf, edges[0..bins], next_up(hi), NaN]`: the closed
/// last bin is `[edges[bins − 1], next_up(hi))`, overflow starts at `next_up(hi)`, and the NaN sentinel
/// makes the upward correction of the overflow slot always false (+inf stays there).
///
/// Why one step is enough: the estimate `(x − lo)·scale` differs from the exact position
/// `(x − lo)/(hi − lo)·bins` by at most `4ε·bins + ulp·scale/2`, and each rounded edge from its exact
/// position by at most `3ε·bins + ulp·scale/2` (`linspace`'s `i·step + lo`); [`HistogramSpec::uniform`]
/// keeps the sum below 1/2, so the floor of the estimate is within one slot of the rule's slot. The estimate
/// multiplies by `bins / (hi − lo)` where NumPy divides by `hi − lo`; after the corrections both give the
/// bin rule exactly, so the counts are NumPy's.
#[derive(Clone, Debug)]
pub(crate) struct Uniform {
    pub(super) lo: f64,
    pub(super) scale: f64,
    pub(super) bins: f64,
    pub(super) nan: usize,
    pub(super) ext: Vec<f64>,
    /// Whether this CPU has AVX2 ([`Uniform::fill`] then takes `uniform_avx2`).
    avx2: bool,
}

/// 1.5·2⁵²: adding it to a float in (−2⁵¹, 2⁵¹) rounds it to an integer held in the low mantissa bits.
pub(super) const MAGIC: f64 = 6_755_399_441_055_744.0;

impl Uniform {
    /// The slot of any `x`, NaN and infinities included.
    #[inline(always)]
    pub(crate) fn slot(&self, x: f64) -> usize {
        let est = (x - self.lo) * self.scale;
        // Clamp to [−1/2, bins] (NaN becomes −1/2): slot estimate in [0, bins + 1].
        let est = if est > -0.5 { est } else { -0.5 };
        let est = if est < self.bins { est } else { self.bins };
        // floor(est) + 1 without the saturating float-to-int conversion (a compare and a branch on x86):
        // adding 1.5·2⁵² rounds `est − 0.5` to an integer in the low mantissa bits. That is floor(est),
        // except for an integral `est` rounded down (ties to even), one below: still within one slot of
        // the rule's slot, since the estimate is off by less than half a bin (doc of `Uniform`).
        let r = ((est - 0.5) + MAGIC).to_bits().wrapping_sub(MAGIC.to_bits());
        // Both corrections cannot apply at once (`ext` ascends), so they read the edges around the estimate
        // independently (as the AVX2 build's two gathers do).
        let s = r.wrapping_add(1) as usize;
        let s = s - usize::from(x < self.ext[s]) + usize::from(x >= self.ext[s + 1]);
        if x.is_nan() { self.nan } else { s }
    }

    /// `out[i] = self.slot(xs[i])` for a block of values, four at a time with AVX2 where the CPU has it
    /// (the same slots: `uniform_avx2`).
    #[inline]
    pub(crate) fn fill(&self, xs: &[f64], out: &mut [usize]) {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is set only when the CPU supports AVX2, the only requirement of `fill_slots`.
            return unsafe { super::uniform_avx2::fill_slots(self, xs, out) };
        }
        for (o, &x) in out.iter_mut().zip(xs) {
            *o = self.slot(x);
        }
    }

    /// The portable build of [`Self::fill`], for tests that compare the two.
    #[cfg(test)]
    pub(crate) fn without_avx2(&self) -> Uniform {
        Uniform { avx2: false, ..self.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule itself, by search: 0 underflow, 1 + bin, bins + 1 overflow, bins + 2 NaN.
    fn rule_slot(spec: &HistogramSpec, x: f64) -> usize {
        if x.is_nan() {
            spec.bins() + 2
        } else if x < spec.lo() {
            0
        } else if x > spec.hi() {
            spec.bins() + 1
        } else {
            1 + spec.search(x)
        }
    }

    #[test]
    fn avx2_and_portable_slots_agree_with_the_rule_value_by_value() {
        let mut next = crate::stats::test_rng(0x5eed);
        let cases = [(-4.0, 4.0, 100), (0.0, 1.0, 3), (1e9, 1e9 + 7.0, 7), (-1e-3, 2e-3, 1000), (-5.0, 5.0, 1)];
        for (lo, hi, bins) in cases {
            let spec = HistogramSpec::equal_width(lo, hi, bins).unwrap();
            let u = spec.uniform().expect("equal-width bins take the arithmetic estimate");
            let mut xs: Vec<f64> = spec.edges().iter().flat_map(|&e| [e, e.next_up(), e.next_down()]).collect();
            xs.extend([f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0, lo - 1.0, hi + 1.0]);
            xs.extend([f64::MAX, f64::MIN, f64::MIN_POSITIVE, -f64::MIN_POSITIVE, 5e-324]);
            let span = hi - lo;
            xs.extend((0..5000).map(|_| lo - span / 10.0 + (next() >> 11) as f64 / (1u64 << 53) as f64 * span * 1.2));
            let mut fast = vec![usize::MAX; xs.len()];
            u.fill(&xs, &mut fast);
            let mut portable = vec![usize::MAX; xs.len()];
            u.without_avx2().fill(&xs, &mut portable);
            assert_eq!(fast, portable, "range {lo}..{hi}, {bins} bins");
            for (x, s) in xs.iter().zip(&fast) {
                assert_eq!(*s, rule_slot(&spec, *x), "x = {x:e}, range {lo}..{hi}, {bins} bins");
            }
        }
    }

    #[test]
    fn linspace_matches_known_numpy_outputs() {
        // np.linspace(0, 1, 11): repr of each element in NumPy 2.x.
        let expected =
            [0.0, 0.1, 0.2, 0.30000000000000004, 0.4, 0.5, 0.6000000000000001, 0.7000000000000001, 0.8, 0.9, 1.0];
        assert_eq!(linspace(0.0, 1.0, 11), expected);
        // np.linspace(2.0, 3.0, num=5) from the linspace docstring.
        assert_eq!(linspace(2.0, 3.0, 5), [2.0, 2.25, 2.5, 2.75, 3.0]);
        // np.linspace(-4, 4, 51): NumPy prints -4., -3.84, -3.68, -3.52, ..., 3.84, 4.
        let e = linspace(-4.0, 4.0, 51);
        assert_eq!(e[0], -4.0);
        assert_eq!(e[25], 25.0 * 0.16 - 4.0);
        assert_eq!(e[25], 0.0);
        assert_eq!(e[1], -3.84);
        assert_eq!(e[3], -3.52);
        assert_eq!(e[49], 3.84);
        assert_eq!(e[50], 4.0);
    }

    #[test]
    fn linspace_denormal_delta_divides_first() {
        let tiny = f64::from_bits(1); // 5e-324: tiny / 2 rounds to 0, so NumPy takes the gh-5437 branch
        let e = linspace(0.0, tiny, 3);
        assert_eq!(e, [0.0, 0.5 * tiny, tiny]);
        assert_eq!(linspace(1.0, 2.0, 1), [1.0]);
        assert!(linspace(1.0, 2.0, 0).is_empty());
    }

    #[test]
    fn constant_range_widens_by_half() {
        let s = HistogramSpec::equal_width(3.0, 3.0, 2).unwrap();
        assert_eq!(s.edges(), [2.5, 3.0, 3.5]);
        assert_eq!(HistogramSpec::from_data_range(None, 2).unwrap().edges(), [0.0, 0.5, 1.0]);
    }

    #[test]
    fn bad_specs_are_errors() {
        assert!(HistogramSpec::equal_width(0.0, 1.0, 0).unwrap_err().to_string().contains("at least 1 bin"));
        assert!(HistogramSpec::equal_width(1.0, 0.0, 3).unwrap_err().to_string().contains("minimum"));
        assert!(HistogramSpec::equal_width(f64::NAN, 1.0, 3).is_err());
        assert!(HistogramSpec::equal_width(0.0, f64::INFINITY, 3).is_err());
        assert!(HistogramSpec::equal_width(-f64::MAX, f64::MAX, 3).unwrap_err().to_string().contains("wider"));
        assert!(HistogramSpec::from_edges(vec![1.0]).is_err());
        assert!(HistogramSpec::from_edges(vec![0.0, f64::NAN]).is_err());
        let e = HistogramSpec::from_edges(vec![0.0, 2.0, 1.0]).unwrap_err().to_string();
        assert!(e.contains("monotonically") && e.contains("edge 1"), "{e}");
        assert!(HistogramSpec::from_edges(vec![0.0, 1.0, 1.0, 2.0]).is_ok());
    }

    #[test]
    fn search_follows_the_rule_with_repeated_edges() {
        let s = HistogramSpec::from_edges(vec![0.0, 1.0, 1.0, 2.0, 2.0]).unwrap();
        assert_eq!(s.search(0.0), 0);
        assert_eq!(s.search(0.999), 0);
        assert_eq!(s.search(1.0), 2); // [1, 1) is empty: 1 goes to [1, 2)
        assert_eq!(s.search(2.0), 3); // the closed last bin [2, 2]
    }

    #[test]
    fn uniform_slot_equals_search_next_to_every_edge() {
        for (lo, hi, bins) in
            [(0.0, 1.0, 10), (-4.0, 4.0, 50), (-3.7, 1e-3, 100), (1e9, 1e9 + 7.0, 13), (f64::MAX / 2.0, f64::MAX, 7)]
        {
            let s = HistogramSpec::equal_width(lo, hi, bins).unwrap();
            let u = s.uniform().unwrap();
            let rule = |x: f64| {
                if x < s.lo() {
                    0
                } else if x > s.hi() {
                    bins + 1
                } else {
                    1 + s.search(x)
                }
            };
            for &e in s.edges() {
                for x in [e.next_down(), e, e.next_up()] {
                    assert_eq!(u.slot(x), rule(x), "x = {x:e} in {lo}..{hi} / {bins}");
                }
            }
            // Points at multiples of a quarter bin: estimates that are integral or half-integral (the ties
            // of the rounding in `slot`).
            for q in -8..=(4 * bins as i64 + 8) {
                let x = lo + (hi - lo) * (q as f64 / (4 * bins) as f64);
                assert_eq!(u.slot(x), rule(x), "x = {x:e} in {lo}..{hi} / {bins}");
            }
            assert_eq!(u.slot(f64::NEG_INFINITY), 0);
            assert_eq!(u.slot(f64::INFINITY), bins + 1);
            assert_eq!(u.slot(f64::NAN), bins + 2);
            assert_eq!(u.slot(-f64::MAX), 0);
        }
    }

    #[test]
    fn bins_of_a_few_ulps_search_instead() {
        // ulp(1e15) = 0.125 > bin width 0.001: the rounded edges repeat, the estimate can be many bins off.
        let s = HistogramSpec::equal_width(1e15, 1e15 + 1.0, 1000).unwrap();
        assert!(s.uniform().is_none());
        assert!(HistogramSpec::equal_width(1e15, 1e15 + 8.0, 2).unwrap().uniform().is_some());
    }
}
