//! Approximate quantiles with a relative-error guarantee, from one pass of a fine [`KeyHistogram`] over
//! float keys: a DDSketch-style sketch (Masson, Rim and Lee, "DDSketch: a fast and fully-mergeable quantile
//! sketch with relative-error guarantees", VLDB 2019) whose bucket mapping is the float's own bits.
//!
//! The top 12 key bits are the sign and exponent, the next `m` split each binade into `2^m` equal parts, so
//! every bucket `[lo, hi]` has `(hi − lo) / |lo| ≤ 2^−m`: the paper's "linearly interpolated" logarithmic
//! mapping, computed with a shift instead of a logarithm. Returning the harmonic midpoint
//! `2·lo·hi / (lo + hi)` of the rank's bucket bounds the relative error by `2^−m / (2 + 2^−m)`; tally picks
//! the smallest `m` that meets the requested error. Counts are integers, so merges are exact and the sketch's
//! bits depend only on the data and the options, never on the merge order or the worker count.
//! Integer columns are sketched as float64 (exact up to 2^53). Subnormal values (|x| < 2^−1022) share the
//! zero bucket: their error is absolute, below 2^−1022.
//!
//! Why not the `sketches-ddsketch` crate: it collapses its lowest buckets past a bucket limit (the error
//! guarantee is lost there), keeps a float sum whose bits depend on the merge order, and takes a logarithm
//! per value; this sketch reuses the exact path's key kernel and state.

use crate::error::{Error, Result};
use crate::stats::key_histogram::{KeyHistogram, MAX_BITS};
use crate::stats::order_key::float_of_key;

/// Mantissa bits per binade for a requested relative error, and the bound they guarantee.
pub fn mantissa_bits(relative_error: f64) -> Result<(u32, f64)> {
    if !(relative_error.is_finite() && relative_error > 0.0 && relative_error < 1.0) {
        return Err(Error::input(format!("--rel-error {relative_error} must be in (0, 1)")));
    }
    for m in 0..=(MAX_BITS - 12) {
        let width = (-(m as f64)).exp2();
        let bound = width / (2.0 + width);
        if bound <= relative_error {
            return Ok((m, bound));
        }
    }
    let finest = (-f64::from(MAX_BITS - 12)).exp2();
    Err(Error::input(format!(
        "--rel-error {relative_error} is finer than the sketch offers ({:.2e}); use the exact quantile \
         (drop --approx)",
        finest / (2.0 + finest)
    )))
}

/// Bits of the sketch's key table for a relative error (at least one mantissa bit: see
/// [`crate::stats::key_histogram::MIN_BITS`]; finer buckets keep the guarantee).
pub fn sketch_bits(relative_error: f64) -> Result<u32> {
    Ok(12 + mantissa_bits(relative_error)?.0.max(1))
}

/// The estimate of the value at 0-based `rank` among the sketch's `count()` values.
pub fn estimate(h: &KeyHistogram, rank: u64) -> Option<f64> {
    let (min, max) = h.key_range()?;
    let mut seen = 0u64;
    let counts = h.counts();
    let b = counts.iter().position(|&c| {
        seen += c;
        seen > rank
    })?;
    let (lo, hi) = h.bucket_keys(b);
    let (lo, hi) = (float_of_key(lo.max(min)), float_of_key(hi.min(max)));
    Some(harmonic_midpoint(lo, hi))
}

/// `2ab/(a + b)` of two same-signed bounds, without overflow; infinities and zero are their own buckets.
fn harmonic_midpoint(lo: f64, hi: f64) -> f64 {
    if lo == hi || lo.is_infinite() || hi.is_infinite() {
        return if lo.is_infinite() { lo } else { hi };
    }
    let (small, large) = if lo.abs() <= hi.abs() { (lo, hi) } else { (hi, lo) };
    if large == 0.0 {
        return 0.0;
    }
    let r = small / large;
    large * (2.0 * r / (1.0 + r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_meet_the_requested_error() {
        let (m, bound) = mantissa_bits(0.005).unwrap();
        assert_eq!(m, 7);
        assert!(bound <= 0.005 && bound > 0.003);
        assert!(mantissa_bits(0.0).is_err());
        assert!(mantissa_bits(1e-6).is_err());
        assert!(mantissa_bits(f64::NAN).is_err());
    }

    #[test]
    fn harmonic_midpoint_is_within_the_bound_of_both_ends() {
        for (lo, hi) in [(1.0, 1.0078125), (-1.0078125, -1.0), (1e308, 1.7e308)] {
            let m = harmonic_midpoint(lo, hi);
            let bound = ((hi - lo) / 2.0).abs() / (hi / 2.0 + lo / 2.0).abs();
            assert!(((m - lo) / lo).abs() <= bound * (1.0 + 1e-12), "{lo} {hi} {m}");
            assert!(((m - hi) / hi).abs() <= bound * (1.0 + 1e-12), "{lo} {hi} {m}");
        }
        assert_eq!(harmonic_midpoint(0.0, 1e-310), 0.0);
        assert_eq!(harmonic_midpoint(f64::INFINITY, f64::INFINITY), f64::INFINITY);
    }
}
