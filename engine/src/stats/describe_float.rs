//! The `describe` state of a float column (float32, float64): counts, extrema, sums and moments in one pass.
//!
//! Rules (README "Nulls and NaN"): nulls are not values; NaN is counted in `nan_count` and excluded from
//! everything else; ±inf are values: they count, they are the min/max, they make `sum`/`mean` infinite
//! (NaN when both signs appear) and the higher moments NaN. Moments and sums are taken over finite
//! values, so one infinity cannot poison the finite bookkeeping of a chunk.
//!
//! Each block of [`BLOCK`] values gets a fast scan assuming all valid values are finite (true for almost
//! all data); a non-finite Σ(x − shift − center) reveals NaN or ±inf, and only then is the block rescanned
//! with a finite-value mask. `sum` and `mean` come from the raw values, never from the shifted moments
//! (issue 7): by default their exact sum ([`ExactSum`]), fed per block by two extraction levels inside
//! the fused pass ([`Levels`]) or, for blocks they cannot take whole, by [`extract::add_block`]; with
//! `--compensated` their compensated sum ([`CompensatedSum`]). Blocks with magnitudes beyond 2^±200
//! take a plain scaled path so that the moments of values near ±f64::MAX or 1e-300 stay finite and
//! non-zero (`Moments::scale`).

use serde::{Deserialize, Serialize};

use super::exact_sum::ExactSum;
use super::extract::{self, Levels};
use super::float_sum::CompensatedSum;
use super::lanes;
use super::lanes::Fused;
use super::moments::{self, BLOCK, BlockMoments, Moments, moments_of_fused};
use super::{FinishOptions, Partial, Summary, Value};
use crate::store::{ColumnChunk, FloatElem};

const WORDS_PER_BLOCK: usize = BLOCK / 64;
// Exact extraction covers blocks up to its headroom.
const _: () = assert!(BLOCK <= extract::MAX_BLOCK);

/// Describe state of a float column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FloatDescribe {
    pub null_count: u64,
    pub nan_count: u64,
    pub pos_inf: u64,
    pub neg_inf: u64,
    /// Over all non-NaN values (±inf included); `+inf`/`-inf` while there are none.
    pub min: f64,
    pub max: f64,
    /// Compensated Σx of the raw finite values: `sum` and, divided by the count, `mean`.
    pub sum: CompensatedSum,
    /// Present for correctly rounded sums and means (the default; absent with `--compensated`).
    pub exact: Option<Box<ExactSum>>,
    /// Over finite values, scaled by a power of two when they are huge or tiny (see `Moments::scale`).
    pub moments: Moments,
}

impl Default for FloatDescribe {
    /// The empty state without the exact accumulator; [`FloatDescribe::new`] chooses.
    fn default() -> Self {
        FloatDescribe {
            null_count: 0,
            nan_count: 0,
            pos_inf: 0,
            neg_inf: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            sum: CompensatedSum::default(),
            exact: None,
            moments: Moments::default(),
        }
    }
}

/// The block with masked-out slots replaced by `fill` (a copy in `buf`; a block without nulls is read in
/// place) and its count of kept values. The SSE2 kernel once ran faster over an L1 copy of every block; the
/// AVX2 kernel does not (user+sys CPU of `describe --columns a,b,d --executor serial` on 50M rows: 0.355 s
/// either way, medians of 4), and the copy only moved the page faults and cache misses into `memmove`.
fn dense<'a>(xs: &'a [f64], mask: Option<&[u64]>, fill: f64, buf: &'a mut Vec<f64>) -> (&'a [f64], u64) {
    match mask {
        Some(m) => {
            let n = lanes::fill_masked(xs, m, fill, buf);
            (buf.as_slice(), n)
        }
        _ => (xs, xs.len() as u64),
    }
}

/// What a block's fused pass sums besides moments and extremes.
#[derive(Clone, Copy, Debug)]
enum RawSum {
    /// The compensated raw sum (`--compensated`).
    Compensated,
    /// The exact sum, with σ known before the block: the first two extraction levels.
    Levels(Levels),
    /// The exact sum without: the block is extracted after the pass ([`extract::add_block`]).
    Later,
}

/// One block's fused pass and moments, masked-out slots read as `shift` (being a value the state already
/// holds, it cannot move min or max, and the moment kernels take its known deviations back out); also
/// returns the number of kept values and, for [`RawSum::Levels`], the extraction parts. The filled copy
/// in `filled` is made only where the build needs it.
fn block_pass(
    xs: &[f64],
    mask: Option<&[u64]>,
    shift: f64,
    center: f64,
    raw: RawSum,
    filled: &mut Vec<f64>,
) -> (BlockMoments, Fused, u64, Option<[f64; 3]>) {
    let n = lanes::count_kept(xs.len(), mask);
    let mut parts = None;
    let fused = match (mask, raw) {
        (_, RawSum::Levels(levels)) => {
            let (fused, p) = lanes::fused_exact(xs, mask, shift, shift, center, levels, filled);
            parts = Some(p);
            fused
        }
        (None, RawSum::Compensated) => lanes::fused_as::<true>(xs, shift, center),
        (None, RawSum::Later) => lanes::fused_as::<false>(xs, shift, center),
        (Some(m), RawSum::Compensated) => lanes::fused_masked::<true>(xs, m, shift, shift, center, filled),
        (Some(m), RawSum::Later) => lanes::fused_masked::<false>(xs, m, shift, shift, center, filled),
    };
    let data = move || -> &[f64] {
        // Moved out of the capture (a `FnOnce`): the slice borrows the caller's buffer, not the closure.
        let buf = filled;
        dense(xs, mask, shift, buf).0
    };
    (moments_of_fused(&fused, data, shift, center, n, xs.len() as u64 - n), fused, n, parts)
}

#[inline(always)]
fn keep(mask: Option<&[u64]>, i: usize) -> bool {
    match mask {
        None => true,
        Some(m) => (m[i / 64] >> (i % 64)) & 1 == 1,
    }
}

impl FloatDescribe {
    /// An empty state; `exact` adds the exact accumulator (all but `--compensated`).
    pub fn new(exact: bool) -> Self {
        FloatDescribe { exact: exact.then(Box::default), ..Default::default() }
    }

    /// Folds a chunk of values into the state.
    pub fn update<T: FloatElem>(&mut self, chunk: ColumnChunk<'_, T>) {
        self.null_count += chunk.null_count() as u64;
        let (mut widened, mut filled) = (Vec::new(), Vec::new());
        let mut scratch = [Vec::new(), Vec::new()];
        for (b, block) in chunk.values.chunks(BLOCK).enumerate() {
            let xs = T::widen(block, &mut widened);
            let mask = chunk.validity.map(|v| {
                let start = b * WORDS_PER_BLOCK;
                &v[start..(start + WORDS_PER_BLOCK).min(v.len())]
            });
            self.update_block(xs, mask, &mut filled, &mut scratch);
        }
    }

    fn update_block(
        &mut self,
        xs: &[f64],
        validity: Option<&[u64]>,
        filled: &mut Vec<f64>,
        scratch: &mut [Vec<f64>; 2],
    ) {
        if self.moments.n == 0 {
            // The shift is the first finite value: deviations from it are small for clustered data.
            match (0..xs.len()).find(|&i| keep(validity, i) && xs[i].is_finite()) {
                Some(i) if moments::scale_for(xs[i].abs()) == 0 => self.moments = Moments::with_shift(xs[i], 0.0),
                Some(_) => return self.update_scaled(xs, validity, true),
                None => return self.update_without_finite(xs, validity),
            }
        }
        if self.moments.scale != 0 {
            return self.update_scaled(xs, validity, true);
        }
        let shift = self.moments.shift_hi;
        // The running mean is the center of the fused pass: close to every block's mean for stationary data.
        let center = self.moments.mean_rel;
        let raw = match self.exact {
            None => RawSum::Compensated,
            Some(_) => self.levels().map_or(RawSum::Later, RawSum::Levels),
        };
        let (mut block, first, mut n, mut parts) = block_pass(xs, validity, shift, center, raw, filled);
        self.min = self.min.min(first.min);
        self.max = self.max.max(first.max);
        let mut fused = first;
        let mut finite_mask = [0u64; WORDS_PER_BLOCK];
        let mut mask = validity;
        let redone = !first.sums[0].is_finite();
        if redone {
            // NaN or ±inf in the block (or deviations that overflow): count them, then redo the finite values.
            self.count_non_finite(xs, validity, &mut finite_mask);
            mask = Some(&finite_mask[..xs.len().div_ceil(64)]);
            (block, fused, n, parts) = block_pass(xs, mask, shift, center, raw, filled);
        }
        if n == 0 {
            return;
        }
        if moments::scale_for(fused.min.abs().max(fused.max.abs())) != 0 {
            // Values beyond 2^±200 in this block: its moments need the scaled path (NaN/inf already counted).
            return self.update_scaled(xs, mask, !redone);
        }
        let fills = xs.len() as u64 - n;
        if let RawSum::Compensated = raw {
            self.sum.add_pair(fused.sum, fused.comp);
            if fills > 0 {
                // The fills added `fills · shift` to the raw sum: taken back out exactly (TwoProduct).
                self.sum.add_product(-(fills as f64), shift);
            }
        }
        if let Some(exact) = &mut self.exact {
            // The block (and `shift` in each filled slot: exact arithmetic takes them back out exactly).
            let amax = fused.min.abs().max(fused.max.abs());
            match (parts, raw) {
                // Two levels took every value whole, and every value was below the levels' 2^e.
                (Some([t1, t2, rest]), RawSum::Levels(l)) if rest.to_bits() == 0 && amax < l.sigma1 / 8192.0 => {
                    exact.add(t1);
                    exact.add(t2);
                }
                _ => extract::add_block(exact, dense(xs, mask, shift, filled).0, amax, scratch),
            }
            for _ in 0..fills {
                exact.add(-shift);
            }
        }
        self.moments.add_block(&block);
    }

    /// The extraction levels for the next block, from the extremes so far (`None` before any finite value or
    /// once an infinity is among them): most blocks of a column stay below its first blocks' magnitude.
    fn levels(&self) -> Option<Levels> {
        let amax = self.min.abs().max(self.max.abs());
        (amax.is_finite() && amax > 0.0).then(|| Levels::below(moments::ilogb(amax) + 1)).flatten()
    }

    /// A block whose values lie beyond `2^±RANGE` (or a state already scaled): the raw values feed min,
    /// max and the sums, and a copy scaled by `2^-scale` feeds the moments. Rare, so written plainly.
    /// `count_specials` says whether NaN and ±inf of the block still have to be counted.
    fn update_scaled(&mut self, xs: &[f64], mask: Option<&[u64]>, count_specials: bool) {
        let kept = || xs.iter().enumerate().filter(|&(i, _)| keep(mask, i)).map(|(_, &x)| x);
        if count_specials {
            let mut unused = [0u64; WORDS_PER_BLOCK];
            self.count_non_finite(xs, mask, &mut unused);
        }
        let mut amax = 0.0f64;
        for x in kept().filter(|x| !x.is_nan()) {
            self.min = self.min.min(x);
            self.max = self.max.max(x);
            if x.is_finite() {
                amax = amax.max(x.abs());
                self.sum.add(x);
                if let Some(exact) = &mut self.exact {
                    exact.add(x);
                }
            }
        }
        let finite: Vec<f64> = kept().filter(|x| x.is_finite()).collect();
        let Some(&first) = finite.first() else { return };
        let scale = moments::scale_for(amax);
        if self.moments.n == 0 {
            self.moments = Moments { scale, ..Moments::with_shift(first * moments::pow2(-scale), 0.0) };
        } else if scale > self.moments.scale {
            self.moments.rescale(scale);
        }
        let factor = moments::pow2(-self.moments.scale);
        let scaled: Vec<f64> = finite.iter().map(|&x| x * factor).collect();
        let (shift, center) = (self.moments.shift_hi, self.moments.mean_rel);
        self.moments.add_block(&moments::block_moments(&scaled, shift, center, scaled.len() as u64, 0).0);
    }

    /// Counts NaN and ±inf among the valid values and marks the finite ones in `finite_mask`.
    fn count_non_finite(&mut self, xs: &[f64], validity: Option<&[u64]>, finite_mask: &mut [u64]) {
        for (i, &x) in xs.iter().enumerate() {
            if !keep(validity, i) {
                continue;
            }
            if x.is_finite() {
                finite_mask[i / 64] |= 1 << (i % 64);
            } else if x.is_nan() {
                self.nan_count += 1;
            } else if x > 0.0 {
                self.pos_inf += 1;
            } else {
                self.neg_inf += 1;
            }
        }
    }

    /// A block before the first finite value of the state: only NaN, ±inf and nulls to account for.
    fn update_without_finite(&mut self, xs: &[f64], validity: Option<&[u64]>) {
        let mut unused = [0u64; WORDS_PER_BLOCK];
        self.count_non_finite(xs, validity, &mut unused);
        if self.pos_inf > 0 {
            self.max = f64::INFINITY;
        }
        if self.neg_inf > 0 {
            self.min = f64::NEG_INFINITY;
        }
    }

    /// Values counted: finite values and infinities (not nulls, not NaN).
    pub fn count(&self) -> u64 {
        self.moments.n + self.pos_inf + self.neg_inf
    }

    /// What infinities do to `sum` and `mean`: `None` when there are none.
    fn infinite_total(&self) -> Option<f64> {
        match (self.pos_inf > 0, self.neg_inf > 0) {
            (true, true) => Some(f64::NAN),
            (true, false) => Some(f64::INFINITY),
            (false, true) => Some(f64::NEG_INFINITY),
            (false, false) => None,
        }
    }
}

impl Partial for FloatDescribe {
    fn merge(&mut self, other: &Self) {
        self.null_count += other.null_count;
        self.nan_count += other.nan_count;
        self.pos_inf += other.pos_inf;
        self.neg_inf += other.neg_inf;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.sum.merge(&other.sum);
        match (&mut self.exact, &other.exact) {
            (Some(a), Some(b)) => a.merge(b),
            (None, Some(b)) => self.exact = Some(b.clone()),
            _ => {}
        }
        self.moments.merge(&other.moments);
    }

    fn finish(&self, options: &FinishOptions) -> Summary {
        let count = self.count();
        let mut out = Summary { count, null_count: self.null_count, nan_count: self.nan_count, ..Summary::default() };
        if count == 0 {
            out.sum = Some(Value::Float(0.0));
            return out;
        }
        out.min = Some(Value::Float(self.min));
        out.max = Some(Value::Float(self.max));
        if let Some(total) = self.infinite_total() {
            // Infinite values exist: the total is infinite (or NaN), the spread is undefined.
            out.sum = Some(Value::Float(total));
            out.mean = Some(total);
            let nan = (count > options.ddof).then_some(f64::NAN);
            (out.var, out.std, out.skewness, out.kurtosis) = (nan, nan, Some(f64::NAN), Some(f64::NAN));
            return out;
        }
        let m = &self.moments;
        match &self.exact {
            Some(exact) => {
                out.sum = Some(Value::Float(exact.to_f64()));
                out.mean = Some(exact.div_to_f64(m.n));
            }
            None => {
                let sum = self.sum.value();
                out.sum = Some(Value::Float(sum));
                // A sum beyond f64::MAX of finite values: the mean comes from the (scaled) moments.
                out.mean = if sum.is_finite() { Some(self.sum.mean(m.n)) } else { m.mean() };
            }
        }
        out.var = m.variance(options.ddof);
        out.std = m.std(options.ddof);
        out.skewness = m.skewness();
        out.kurtosis = m.kurtosis();
        out
    }
}
