//! The `describe` state of a float column (float32, float64): counts, extrema, sums and moments in one pass.
//!
//! Rules (README "Nulls and NaN"): nulls are not values; NaN is counted in `nan_count` and excluded from
//! everything else; ±inf are values: they count, they are the min/max, they make `sum`/`mean` infinite
//! (NaN when both signs appear) and the higher moments NaN. Moments and sums are taken over finite
//! values, so one infinity cannot poison the finite bookkeeping of a chunk.
//!
//! Each block of [`BLOCK`] values gets a fast scan assuming all valid values are finite (true for almost
//! all data); a non-finite Σ(x − shift) reveals NaN or ±inf, and only then is the block rescanned with a
//! finite-value mask.

use serde::{Deserialize, Serialize};

use super::exact_sum::ExactSum;
use super::float_sum::CompensatedSum;
use super::lanes;
use super::moments::{BLOCK, Moments, block_moments};
use super::{FinishOptions, Partial, Summary, Value};
use crate::store::{ColumnChunk, FloatElem};

const WORDS_PER_BLOCK: usize = BLOCK / 64;

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
    /// Over finite values.
    pub sum: CompensatedSum,
    /// Present when `--exact` asked for a correctly rounded sum and mean.
    pub exact: Option<Box<ExactSum>>,
    /// Over finite values.
    pub moments: Moments,
    /// Finite values kept out of `moments` because their distance to the shift overflows f64 (|x − s| >
    /// f64::MAX): the true variance then exceeds f64::MAX too, and the mean comes from `scaled_sum`.
    pub overflow_n: u64,
    /// Σx · 2^-512 over all finite values: a mean that survives sums beyond f64::MAX.
    pub scaled_sum: CompensatedSum,
}

/// 2^-512: scales huge values down exactly (they are far above the subnormal range).
const SCALE_DOWN: f64 = f64::from_bits((1023 - 512) << 52);
const SCALE_UP: f64 = 1.0 / SCALE_DOWN;

impl Default for FloatDescribe {
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
            overflow_n: 0,
            scaled_sum: CompensatedSum::default(),
        }
    }
}

/// The block copied into `buf` (masked-out slots replaced by `fill`) and its count of kept values. Even a
/// block without nulls is copied: the streaming copy plus one pass over L1-resident data measured faster
/// than the fused pass reading the mapping directly (benches/README.md, "kernel").
fn dense<'a>(xs: &'a [f64], mask: Option<&[u64]>, fill: f64, buf: &'a mut Vec<f64>) -> (&'a [f64], u64) {
    match mask {
        Some(m) => {
            let n = lanes::fill_masked(xs, m, fill, buf);
            (buf.as_slice(), n)
        }
        _ => {
            buf.clear();
            buf.extend_from_slice(xs);
            (buf.as_slice(), xs.len() as u64)
        }
    }
}

#[inline(always)]
fn keep(mask: Option<&[u64]>, i: usize) -> bool {
    match mask {
        None => true,
        Some(m) => (m[i / 64] >> (i % 64)) & 1 == 1,
    }
}

impl FloatDescribe {
    /// An empty state; `exact` adds the exact accumulator behind `--exact`.
    pub fn new(exact: bool) -> Self {
        FloatDescribe { exact: exact.then(Box::default), ..Default::default() }
    }

    /// Folds a chunk of values into the state.
    pub fn update<T: FloatElem>(&mut self, chunk: ColumnChunk<'_, T>) {
        self.null_count += chunk.null_count() as u64;
        let (mut widened, mut filled) = (Vec::new(), Vec::new());
        for (b, block) in chunk.values.chunks(BLOCK).enumerate() {
            let xs = T::widen(block, &mut widened);
            let mask = chunk.validity.map(|v| {
                let start = b * WORDS_PER_BLOCK;
                &v[start..(start + WORDS_PER_BLOCK).min(v.len())]
            });
            self.update_block(xs, mask, &mut filled);
        }
    }

    fn update_block(&mut self, xs: &[f64], validity: Option<&[u64]>, filled: &mut Vec<f64>) {
        if self.moments.n == 0 {
            // The shift is the first finite value: deviations from it are small for clustered data.
            match (0..xs.len()).find(|&i| keep(validity, i) && xs[i].is_finite()) {
                Some(i) => self.moments = Moments::with_shift(xs[i], 0.0),
                None => return self.update_without_finite(xs, validity),
            }
        }
        let shift = self.moments.shift_hi;
        // The running mean is the center of the fused pass: close to every block's mean for stationary data.
        let center = self.moments.mean_rel;
        // Null slots become `shift`: being a value this state already holds, it cannot move min or max,
        // and the moment kernels take their known deviations back out.
        let (mut data, mut n) = dense(xs, validity, shift, filled);
        let (mut block, first, mut sum_rel) = block_moments(data, shift, center, n, xs.len() as u64 - n);
        self.min = self.min.min(first.min);
        self.max = self.max.max(first.max);
        let mut finite_mask = [0u64; WORDS_PER_BLOCK];
        let mut mask = validity;
        if !first.sums[0].is_finite() {
            // NaN or ±inf in the block: count them, then redo the finite values only.
            self.count_non_finite(xs, validity, &mut finite_mask);
            mask = Some(&finite_mask[..xs.len().div_ceil(64)]);
            (data, n) = dense(xs, mask, shift, filled);
            (block, _, sum_rel) = block_moments(data, shift, center, n, xs.len() as u64 - n);
        }
        if n == 0 {
            return;
        }
        if !sum_rel.is_finite() {
            return self.update_overflowing(xs, mask);
        }
        // Σx = n·shift + Σ(x − shift): the product is added with its rounding error, the deviations are small.
        self.sum.add_product(n as f64, shift);
        self.sum.add(sum_rel);
        self.scaled_sum.add_product(n as f64, shift * SCALE_DOWN);
        self.scaled_sum.add(sum_rel * SCALE_DOWN);
        if let Some(exact) = &mut self.exact {
            // The dense copy holds `shift` in each filled slot: exact arithmetic takes them back out exactly.
            exact.add_slice(data);
            for _ in n..xs.len() as u64 {
                exact.add(-shift);
            }
        }
        self.moments.add_block(&block);
    }

    /// A block of finite values so far apart that `x − shift` overflows: sums value by value, no moments.
    fn update_overflowing(&mut self, xs: &[f64], mask: Option<&[u64]>) {
        for x in xs.iter().enumerate().filter(|&(i, _)| keep(mask, i)).map(|(_, &x)| x) {
            self.overflow_n += 1;
            self.sum.add(x);
            self.scaled_sum.add(x * SCALE_DOWN);
            if let Some(exact) = &mut self.exact {
                exact.add(x);
            }
        }
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
        self.moments.n + self.overflow_n + self.pos_inf + self.neg_inf
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
        self.overflow_n += other.overflow_n;
        self.scaled_sum.merge(&other.scaled_sum);
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
        let finite = m.n + self.overflow_n;
        match &self.exact {
            Some(exact) => {
                out.sum = Some(Value::Float(exact.to_f64()));
                out.mean = Some(exact.div_to_f64(finite));
            }
            None => {
                out.sum = Some(Value::Float(self.sum.value()));
                out.mean = if self.overflow_n > 0 {
                    Some(self.scaled_sum.value() / finite as f64 * SCALE_UP)
                } else {
                    m.mean()
                };
            }
        }
        if self.overflow_n > 0 {
            // Two values more than f64::MAX apart: the variance is beyond f64::MAX as well.
            out.var = (finite > options.ddof).then_some(f64::INFINITY);
            out.std = out.var;
            (out.skewness, out.kurtosis) = (Some(f64::NAN), Some(f64::NAN));
            return out;
        }
        out.var = m.variance(options.ddof);
        out.std = out.var.map(f64::sqrt);
        out.skewness = m.skewness();
        out.kurtosis = m.kurtosis();
        out
    }
}
