//! The numbers of the report, from the measured runs alone: per configuration the median ± MAD, min … max,
//! speed-up and parallel efficiency against the fewest workers of the same executor, GB/s and the fraction
//! of the measured ceiling (the warnings are in `warnings.rs`). Pure functions of [`Run`]s, so they are
//! tested on synthetic timings.

use super::ceiling::Ceiling;
use super::runner::Run;

/// One configuration's measured runs, summarised.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Summary {
    pub(crate) executor: String,
    pub(crate) workers: usize,
    /// Measured runs (warm-ups excluded).
    pub(crate) runs: usize,
    /// Chunks per pass: more workers than chunks leaves some idle.
    pub(crate) chunks: usize,
    pub(crate) median: f64,
    pub(crate) mad: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
    /// The configuration's first run (its warm-up when there is one), in seconds.
    pub(crate) first: f64,
    /// Medians of the time split (seconds).
    pub(crate) open: f64,
    pub(crate) spawn: f64,
    pub(crate) compute: f64,
    pub(crate) merge: f64,
    /// Worker busy time over workers × compute time (median over runs), in [0, 1].
    pub(crate) busy: f64,
    /// Median of the bench's own time per run outside the engine call.
    pub(crate) overhead: f64,
    /// Column bytes scanned per run, over the median time, in GB/s.
    pub(crate) gbps: f64,
    /// Against the same executor's run with the fewest workers (`base_workers`).
    pub(crate) base_workers: usize,
    pub(crate) speedup: f64,
    pub(crate) efficiency: f64,
    /// The mapped-file ceiling at this many threads (GB/s) and the fraction of it reached.
    pub(crate) ceiling: Option<f64>,
    pub(crate) ceiling_fraction: Option<f64>,
}

/// The median of `values` (the mean of the middle two for an even count); 0 for none.
pub(crate) fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The median absolute deviation from the median (unscaled).
pub(crate) fn mad(values: &[f64]) -> f64 {
    let m = median(values);
    median(&values.iter().map(|v| (v - m).abs()).collect::<Vec<_>>())
}

/// Summaries in the order configurations first appear in `runs`.
pub(crate) fn summarise(runs: &[Run], ceiling: Option<&Ceiling>) -> Vec<Summary> {
    let mut configs: Vec<(&str, usize)> = Vec::new();
    for r in runs {
        if !configs.contains(&(r.executor.as_str(), r.workers)) {
            configs.push((r.executor.as_str(), r.workers));
        }
    }
    let mut out: Vec<Summary> = configs
        .iter()
        .map(|&(executor, workers)| {
            let all: Vec<&Run> =
                runs.iter().filter(|r| (r.executor.as_str(), r.workers) == (executor, workers)).collect();
            summary(executor, workers, &all, ceiling)
        })
        .collect();
    // Speed-up against the fewest workers of the same executor, efficiency per added worker.
    for i in 0..out.len() {
        let base = out
            .iter()
            .filter(|s| s.executor == out[i].executor)
            .min_by_key(|s| s.workers)
            .map(|s| (s.workers, s.median))
            .unwrap_or((out[i].workers, out[i].median));
        let s = &mut out[i];
        s.base_workers = base.0;
        s.speedup = if s.median > 0.0 { base.1 / s.median } else { 0.0 };
        s.efficiency = s.speedup * base.0 as f64 / s.workers as f64;
    }
    out
}

fn summary(executor: &str, workers: usize, all: &[&Run], ceiling: Option<&Ceiling>) -> Summary {
    let measured: Vec<&Run> = all.iter().copied().filter(|r| !r.warmup).collect();
    let pick = |f: &dyn Fn(&Run) -> f64| median(&measured.iter().map(|r| f(r)).collect::<Vec<_>>());
    let walls: Vec<f64> = measured.iter().map(|r| r.wall).collect();
    let median_wall = median(&walls);
    let bytes = measured.first().map_or(0, |r| r.bytes);
    let gbps = if median_wall > 0.0 { bytes as f64 / median_wall / 1e9 } else { 0.0 };
    let ceiling = ceiling.and_then(|c| c.mapped_at(workers));
    Summary {
        executor: executor.to_string(),
        workers,
        runs: measured.len(),
        chunks: measured.first().map_or(0, |r| r.chunks),
        median: median_wall,
        mad: mad(&walls),
        min: walls.iter().copied().fold(f64::INFINITY, f64::min),
        max: walls.iter().copied().fold(0.0, f64::max),
        first: all.first().map_or(0.0, |r| r.wall),
        open: pick(&|r| r.open),
        spawn: pick(&|r| r.spawn),
        compute: pick(&|r| r.compute),
        merge: pick(&|r| r.merge),
        busy: pick(&|r| {
            let capacity = r.compute * r.workers as f64;
            if capacity > 0.0 { (r.busy.iter().sum::<f64>() / capacity).min(1.0) } else { 0.0 }
        }),
        overhead: pick(&|r| r.overhead),
        gbps,
        base_workers: workers,
        speedup: 1.0,
        efficiency: 1.0,
        ceiling,
        ceiling_fraction: ceiling.filter(|&c| c > 0.0).map(|c| gbps / c),
    }
}

/// Seconds in the unit that reads best: "1.234 s", "12.3 ms", "45 µs".
pub(crate) fn secs(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.3} s")
    } else if s >= 1e-3 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::ceiling::Point;
    use super::*;

    pub(crate) fn run(executor: &str, workers: usize, warmup: bool, wall: f64) -> Run {
        Run {
            executor: executor.to_string(),
            workers,
            warmup,
            wall,
            open: 0.001,
            spawn: 0.01,
            compute: wall - 0.011,
            merge: 0.002,
            busy: vec![(wall - 0.011) * 0.5; workers],
            bytes: 4_000_000_000,
            chunks: 64,
            overhead: 1e-5,
            ..Run::default()
        }
    }

    pub(crate) fn ceiling(mapped: &[(usize, f64)]) -> Ceiling {
        Ceiling {
            mapped: mapped.iter().map(|&(threads, gbps)| Point { threads, gbps }).collect(),
            ..Ceiling::default()
        }
    }

    #[test]
    fn median_and_mad_by_hand() {
        assert_eq!(median(&[]), 0.0);
        assert_eq!(median(&[3.0]), 3.0);
        assert_eq!(median(&[5.0, 1.0, 3.0]), 3.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        // median 4; deviations 3, 1, 1, 0, 5 → sorted 0, 1, 1, 3, 5 → 1
        assert_eq!(mad(&[1.0, 5.0, 3.0, 4.0, 9.0]), 1.0);
        assert_eq!(mad(&[7.0, 7.0, 7.0]), 0.0);
    }

    #[test]
    fn speedup_and_efficiency_against_the_fewest_workers() {
        let mut runs = Vec::new();
        for (w, t) in [(1, 4.0), (2, 2.5), (4, 2.0)] {
            runs.push(run("threads", w, true, t * 1.2));
            for dt in [0.0, 0.1, -0.1] {
                runs.push(run("threads", w, false, t + dt));
            }
        }
        let s = summarise(&runs, None);
        assert_eq!(s.len(), 3);
        assert_eq!((s[0].runs, s[0].median, s[0].min, s[0].max), (3, 4.0, 3.9, 4.1));
        assert!((s[0].mad - 0.1).abs() < 1e-12);
        assert_eq!(s[0].first, 4.8, "the warm-up is the first run");
        assert_eq!((s[1].speedup, s[1].efficiency), (4.0 / 2.5, 4.0 / 2.5 / 2.0));
        assert_eq!((s[2].speedup, s[2].efficiency, s[2].base_workers), (2.0, 0.5, 1));
        assert!((s[0].gbps - 1.0).abs() < 1e-12, "4 GB in 4 s");
        assert!((s[0].busy - 0.5).abs() < 1e-12);
    }

    #[test]
    fn the_base_is_the_fewest_workers_when_one_is_missing() {
        let runs = vec![run("processes", 2, false, 3.0), run("processes", 4, false, 2.0)];
        let s = summarise(&runs, None);
        assert_eq!((s[1].base_workers, s[1].speedup, s[1].efficiency), (2, 1.5, 0.75));
    }

    #[test]
    fn the_ceiling_fraction_uses_the_probe_at_or_below_the_worker_count() {
        let runs = vec![run("threads", 1, false, 4.0), run("threads", 3, false, 2.0)];
        let s = summarise(&runs, Some(&ceiling(&[(1, 2.0), (2, 4.0), (4, 5.0)])));
        assert_eq!((s[0].ceiling, s[0].ceiling_fraction), (Some(2.0), Some(0.5)));
        assert_eq!((s[1].ceiling, s[1].ceiling_fraction), (Some(4.0), Some(0.5)));
    }

    #[test]
    fn seconds_read_in_their_unit() {
        assert_eq!(secs(1.23456), "1.235 s");
        assert_eq!(secs(0.0123), "12.3 ms");
        assert_eq!(secs(0.0000456), "46 µs");
    }
}
