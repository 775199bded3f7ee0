//! `--bins auto|fd|sturges|sqrt|doane|scott|rice|stone`: NumPy's bin-width estimators
//! (`numpy/lib/_histograms_impl.py`, `_hist_bin_*` and `_get_bin_edges`), from exact statistics of the
//! column gathered in passes: count, min, max, population std and skewness (the describe statistic), the
//! interquartile range by exact selection (`fd`, `auto`), and for `stone` one histogram per candidate bin
//! count, all in one pass.
//!
//! As NumPy: the bin count is `ceil((max − min) / width)` (1 when the width is 0), a width below 1 is raised
//! to 1 for integer columns, and the edges are `linspace(min, max, bins + 1)` (a constant column gets
//! `[v − 0.5, v + 0.5]`). The data is the column's non-null, non-NaN values; NumPy refuses infinite ones
//! (its autodetected range is not finite), and so does tally, asking for `--range`.
//! The moments are tally's (compensated and merged, see `stats/moments.rs`), NumPy's are pairwise sums:
//! they agree to a few ulps, so the bin count can differ only when `(max − min) / width` is within a few
//! ulps of an integer.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A bin-count rule of `numpy.histogram_bin_edges`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BinRule {
    Auto,
    Fd,
    Sturges,
    Sqrt,
    Doane,
    Scott,
    Rice,
    Stone,
}

/// The most candidate bin counts `stone` evaluates (one histogram each, in one pass): NumPy tries
/// `1..=max(100, √n)`, so columns beyond a million values are refused.
pub const STONE_MAX_CANDIDATES: usize = 1000;

impl BinRule {
    pub fn parse(text: &str) -> Option<BinRule> {
        Some(match text {
            "auto" => BinRule::Auto,
            "fd" => BinRule::Fd,
            "sturges" => BinRule::Sturges,
            "sqrt" => BinRule::Sqrt,
            "doane" => BinRule::Doane,
            "scott" => BinRule::Scott,
            "rice" => BinRule::Rice,
            "stone" => BinRule::Stone,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            BinRule::Auto => "auto",
            BinRule::Fd => "fd",
            BinRule::Sturges => "sturges",
            BinRule::Sqrt => "sqrt",
            BinRule::Doane => "doane",
            BinRule::Scott => "scott",
            BinRule::Rice => "rice",
            BinRule::Stone => "stone",
        }
    }

    /// Whether the rule needs the interquartile range.
    pub fn needs_iqr(self) -> bool {
        matches!(self, BinRule::Auto | BinRule::Fd)
    }
}

/// What the estimators read.
#[derive(Clone, Copy, Debug)]
pub struct DataStats {
    pub n: u64,
    pub min: f64,
    pub max: f64,
    /// Population standard deviation (`numpy.std`, ddof 0).
    pub std: f64,
    /// Population skewness `g1`.
    pub skewness: f64,
    /// `percentile(x, 75) − percentile(x, 25)` (linear), when the rule needs it.
    pub iqr: f64,
}

/// The bin width of every rule but `stone`, exactly as NumPy's estimator computes it.
pub fn width(rule: BinRule, s: &DataStats) -> f64 {
    let n = s.n as f64;
    let ptp = s.max - s.min;
    let sqrt = || ptp / n.sqrt();
    let sturges = || ptp / (n.log2() + 1.0);
    let fd = || 2.0 * s.iqr * n.powf(-1.0 / 3.0);
    match rule {
        BinRule::Sqrt => sqrt(),
        BinRule::Sturges => sturges(),
        BinRule::Rice => ptp / (2.0 * n.powf(1.0 / 3.0)),
        BinRule::Scott => (24.0 * std::f64::consts::PI.powf(0.5) / n).powf(1.0 / 3.0) * s.std,
        BinRule::Doane => {
            if s.n > 2 && s.std > 0.0 {
                let sg1 = (6.0 * (n - 2.0) / ((n + 1.0) * (n + 3.0))).sqrt();
                ptp / (1.0 + n.log2() + (1.0 + s.skewness.abs() / sg1).log2())
            } else {
                0.0
            }
        }
        BinRule::Fd => fd(),
        BinRule::Auto => fd().max(sqrt() / 2.0).min(sturges()),
        BinRule::Stone => 0.0,
    }
}

/// NumPy's bin count for `width` over `[first, last]` (the outer edges).
pub fn bin_count(width: f64, first: f64, last: f64, integer: bool) -> Result<usize> {
    if width == 0.0 || width.is_nan() {
        return Ok(1);
    }
    let width = if integer && width < 1.0 { 1.0 } else { width };
    let bins = ((last - first) / width).ceil();
    if !(bins.is_finite() && bins <= 10_000_000.0) {
        return Err(Error::input(format!(
            "the bin rule asks for {bins} bins (width {width} over [{first}, {last}]); give --bins N"
        )));
    }
    Ok((bins as usize).max(1))
}

/// Candidate bin counts of `stone`: `1..=max(100, ⌊√n⌋)`.
pub fn stone_candidates(n: u64) -> Result<usize> {
    let upper = 100.max((n as f64).sqrt() as usize);
    if upper > STONE_MAX_CANDIDATES {
        return Err(Error::input(format!(
            "--bins stone tries max(100, √n) = {upper} bin counts, one histogram each, for {n} values; tally \
             evaluates at most {STONE_MAX_CANDIDATES} (a million values): use --bins fd or auto, or select \
             fewer rows with --where"
        )));
    }
    Ok(upper)
}

/// `stone`'s choice: the candidate (its histogram's bin count) minimising NumPy's `jhat(k) = (2 − (n + 1)·Σ p²) / (ptp / k)` (the first
/// on ties, as Python's `min`), given each candidate's bin counts.
pub fn stone_pick(n: u64, ptp: f64, counts: &[Vec<u64>]) -> usize {
    if n <= 1 || ptp == 0.0 {
        return 1;
    }
    let nf = n as f64;
    let jhat = |k: usize, c: &[u64]| {
        let dot: f64 = c.iter().map(|&c| c as f64 / nf).map(|p| p * p).sum();
        (2.0 - (nf + 1.0) * dot) / (ptp / k as f64)
    };
    let mut best = (f64::INFINITY, 1);
    for (i, c) in counts.iter().enumerate() {
        let j = jhat(i + 1, c);
        if j < best.0 {
            best = (j, i + 1);
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(n: u64, min: f64, max: f64) -> DataStats {
        DataStats { n, min, max, std: 1.0, skewness: 0.0, iqr: 1.349 }
    }

    #[test]
    fn widths_follow_numpys_formulas() {
        // numpy: x of 1000 values over [0, 10]: sqrt -> 10/sqrt(1000), sturges -> 10/(log2(1000)+1).
        let s = stats(1000, 0.0, 10.0);
        assert_eq!(width(BinRule::Sqrt, &s), 10.0 / 1000f64.sqrt());
        assert_eq!(width(BinRule::Sturges, &s), 10.0 / (1000f64.log2() + 1.0));
        assert_eq!(bin_count(width(BinRule::Sturges, &s), 0.0, 10.0, false).unwrap(), 11);
        assert_eq!(bin_count(width(BinRule::Sqrt, &s), 0.0, 10.0, false).unwrap(), 32);
        assert_eq!(bin_count(0.0, 0.0, 10.0, false).unwrap(), 1);
        assert_eq!(bin_count(0.25, 0.0, 10.0, true).unwrap(), 10, "integer widths are at least 1");
        assert!(stone_candidates(2_000_000).is_err());
        assert_eq!(stone_candidates(400).unwrap(), 100);
    }
}
