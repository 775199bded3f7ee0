//! The numbers of the report, from the measured runs alone: per configuration the median ± MAD, min … max,
//! speed-up and parallel efficiency against the fewest workers of the same executor, GB/s and the fraction
//! of the measured ceiling, and the warnings that name a fix. Pure functions of [`Run`]s, so they are
//! tested on synthetic timings.

use super::ceiling::Ceiling;
use super::runner::Run;

/// The first run of a configuration this much slower than the median is "cold" (hyperfine uses the same
/// idea for its "first run significantly slower" warning).
pub(crate) const COLD_FACTOR: f64 = 1.5;
/// A MAD above this fraction of the median is "high variance".
pub(crate) const NOISY_MAD: f64 = 0.05;
/// Parallel efficiency below this has "collapsed".
pub(crate) const LOW_EFFICIENCY: f64 = 0.6;
/// Throughput at or above this fraction of the ceiling is memory-bound.
pub(crate) const NEAR_CEILING: f64 = 0.6;

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

/// Something in the measurements that deserves a second look, with the fix.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Warning {
    /// The first run of a configuration was much slower than its median.
    ColdFirstRun { config: String, first: f64, median: f64 },
    /// More workers than cores.
    WorkersAboveCores { config: String, workers: usize, cores: usize },
    /// MAD large against the median.
    HighVariance { config: String, mad: f64, median: f64, runs: usize },
    /// One measured run: no spread.
    SingleRun { runs: usize },
    /// The load average was at or above the core count when the bench started.
    BusyMachine { load: f64, cores: usize },
    /// Efficiency collapsed near the memory ceiling.
    MemoryBound { config: String, efficiency: f64, gbps: f64, ceiling: f64 },
    /// Efficiency collapsed far from the ceiling: the time goes elsewhere.
    Overhead { config: String, efficiency: f64, spawn: f64, merge: f64, median: f64, chunks: usize, workers: usize },
}

impl Warning {
    pub(crate) fn message(&self) -> String {
        match self {
            Warning::ColdFirstRun { config, first, median } => format!(
                "{config}: the first run took {}, {:.1}x the median {}: a cold cache (page cache, or the worker \
                 binary not yet in memory); it is the warm-up run and not counted, but cold caches also hit the \
                 runs after a file changed",
                secs(*first),
                first / median,
                secs(*median)
            ),
            Warning::WorkersAboveCores { config, workers, cores } => format!(
                "{config}: {workers} workers on {cores} cores share cores, so efficiency drops by construction; \
                 keep --workers-list at or below {cores}"
            ),
            Warning::HighVariance { config, mad, median, runs } => format!(
                "{config}: high variance, MAD {} is {:.0}% of the median {} over {runs} runs: a noisy machine \
                 (other processes, frequency scaling); rerun on a quiet machine or with more runs (--runs {})",
                secs(*mad),
                100.0 * mad / median,
                secs(*median),
                (runs * 2).max(10)
            ),
            Warning::BusyMachine { load, cores } => format!(
                "the machine was busy: load average {load:.2} on {cores} cores when the bench started, so other \
                 processes took CPU time and memory bandwidth from the runs; rerun on a quiet machine"
            ),
            Warning::SingleRun { runs } => {
                format!("{runs} measured run per configuration: no spread can be measured; use --runs 5 or more")
            }
            Warning::MemoryBound { config, efficiency, gbps, ceiling } => format!(
                "{config}: parallel efficiency {:.0}% at {:.2} GB/s, {:.0}% of the measured ceiling ({ceiling:.2} GB/s \
                 for a freshly mapped file at this thread count): memory-bound, more workers cannot go faster than \
                 the memory delivers",
                efficiency * 100.0,
                gbps,
                100.0 * gbps / ceiling
            ),
            Warning::Overhead { config, efficiency, chunks, workers, .. } if chunks < workers => format!(
                "{config}: parallel efficiency {:.0}%: {chunks} chunk(s) per pass for {workers} workers leave \
                 workers idle; use a larger file or a smaller --chunk-rows",
                efficiency * 100.0
            ),
            Warning::Overhead { config, efficiency, spawn, merge, median, .. } => format!(
                "{config}: parallel efficiency {:.0}% while far from the memory ceiling: spawning takes {} and \
                 merging {} of {}; give each worker more work (a larger file, a larger --chunk-rows)",
                efficiency * 100.0,
                secs(*spawn),
                secs(*merge),
                secs(*median)
            ),
        }
    }
}

/// The warnings the summaries deserve, `cores` being the CPUs this process may use and `load` the load
/// average before the bench started.
pub(crate) fn warnings(summaries: &[Summary], cores: usize, load: Option<f64>) -> Vec<Warning> {
    let mut out = Vec::new();
    if let Some(load) = load.filter(|&l| l >= cores as f64) {
        out.push(Warning::BusyMachine { load, cores });
    }
    if let Some(s) = summaries.iter().find(|s| s.runs == 1) {
        out.push(Warning::SingleRun { runs: s.runs });
    }
    for s in summaries {
        let config = format!("{} x{}", s.executor, s.workers);
        if s.median > 0.0 && s.first > COLD_FACTOR * s.median {
            out.push(Warning::ColdFirstRun { config: config.clone(), first: s.first, median: s.median });
        }
        if s.workers > cores {
            out.push(Warning::WorkersAboveCores { config: config.clone(), workers: s.workers, cores });
        }
        if s.runs > 1 && s.median > 0.0 && s.mad > NOISY_MAD * s.median {
            out.push(Warning::HighVariance { config: config.clone(), mad: s.mad, median: s.median, runs: s.runs });
        }
        if s.workers > s.base_workers && s.efficiency < LOW_EFFICIENCY && s.workers <= cores {
            match (s.ceiling, s.ceiling_fraction) {
                (Some(ceiling), Some(f)) if f >= NEAR_CEILING => {
                    out.push(Warning::MemoryBound { config, efficiency: s.efficiency, gbps: s.gbps, ceiling })
                }
                _ => out.push(Warning::Overhead {
                    config,
                    efficiency: s.efficiency,
                    spawn: s.spawn,
                    merge: s.merge,
                    median: s.median,
                    chunks: s.chunks,
                    workers: s.workers,
                }),
            }
        }
    }
    out
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
mod tests {
    use super::super::ceiling::Point;
    use super::*;

    fn run(executor: &str, workers: usize, warmup: bool, wall: f64) -> Run {
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

    fn ceiling(mapped: &[(usize, f64)]) -> Ceiling {
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

    fn kinds(w: &[Warning]) -> Vec<&'static str> {
        w.iter()
            .map(|w| match w {
                Warning::ColdFirstRun { .. } => "cold",
                Warning::WorkersAboveCores { .. } => "cores",
                Warning::HighVariance { .. } => "variance",
                Warning::SingleRun { .. } => "single",
                Warning::BusyMachine { .. } => "busy",
                Warning::MemoryBound { .. } => "memory",
                Warning::Overhead { .. } => "overhead",
            })
            .collect()
    }

    #[test]
    fn quiet_scaling_runs_warn_about_nothing() {
        let mut runs = Vec::new();
        for (w, t) in [(1, 4.0), (2, 2.1)] {
            runs.extend([1.0, 1.0, 1.01, 0.99].map(|f| run("threads", w, false, t * f)));
        }
        assert_eq!(warnings(&summarise(&runs, None), 2, None), vec![]);
        assert_eq!(warnings(&summarise(&runs, None), 2, Some(1.9)), vec![], "a load below the cores is quiet");
        let w = warnings(&summarise(&runs, None), 2, Some(8.5));
        assert_eq!(kinds(&w), vec!["busy"]);
        assert!(w[0].message().contains("load average 8.50 on 2 cores"), "{}", w[0].message());
    }

    #[test]
    fn each_warning_fires_on_its_case() {
        // cold: the warm-up at 2x the median
        let runs = vec![run("threads", 1, true, 2.0), run("threads", 1, false, 1.0), run("threads", 1, false, 1.0)];
        let w = warnings(&summarise(&runs, None), 2, None);
        assert_eq!(kinds(&w), vec!["cold"]);
        assert!(w[0].message().contains("2.0x the median") && w[0].message().contains("cold cache"), "{w:?}");
        // workers above cores
        let runs = [4, 4].map(|_| run("processes", 4, false, 1.0));
        let w = warnings(&summarise(&runs, None), 2, None);
        assert_eq!(kinds(&w), vec!["cores"]);
        assert!(w[0].message().contains("4 workers on 2 cores"), "{}", w[0].message());
        // high variance: MAD 0.2 of a median 1.0
        let runs = [0.8, 1.0, 1.2, 1.0, 1.4].map(|t| run("threads", 1, false, t));
        let w = warnings(&summarise(&runs, None), 2, None);
        assert_eq!(kinds(&w), vec!["variance"]);
        assert!(w[0].message().contains("20% of the median") && w[0].message().contains("--runs 10"), "{w:?}");
        // a single run
        let w = warnings(&summarise(&[run("threads", 1, false, 1.0)], None), 2, None);
        assert_eq!(kinds(&w), vec!["single"]);
        // efficiency collapsing at the ceiling: 2 workers, 4 GB in 1.8 s = 2.2 GB/s against 2.5 GB/s
        let runs = vec![run("threads", 1, false, 2.0), run("threads", 1, false, 2.0)]
            .into_iter()
            .chain([1.8, 1.8].map(|t| run("threads", 2, false, t)))
            .collect::<Vec<_>>();
        let w = warnings(&summarise(&runs, Some(&ceiling(&[(1, 2.4), (2, 2.5)]))), 2, None);
        assert_eq!(kinds(&w), vec!["memory"]);
        assert!(w[0].message().contains("memory-bound") && w[0].message().contains("2.50 GB/s"), "{w:?}");
        // the same collapse far below the ceiling: overhead
        let w = warnings(&summarise(&runs, Some(&ceiling(&[(1, 20.0), (2, 40.0)]))), 2, None);
        assert_eq!(kinds(&w), vec!["overhead"]);
        assert!(w[0].message().contains("efficiency 56%"), "{}", w[0].message());
        assert!(w[0].message().contains("spawning takes 10.0 ms"), "{}", w[0].message());
        // ... and with fewer chunks than workers, the idle workers are named
        let few: Vec<Run> = runs.iter().cloned().map(|r| Run { chunks: 1, ..r }).collect();
        let w = warnings(&summarise(&few, Some(&ceiling(&[(1, 20.0), (2, 40.0)]))), 2, None);
        assert!(w[0].message().contains("1 chunk(s) per pass for 2 workers"), "{}", w[0].message());
    }

    #[test]
    fn seconds_read_in_their_unit() {
        assert_eq!(secs(1.23456), "1.235 s");
        assert_eq!(secs(0.0123), "12.3 ms");
        assert_eq!(secs(0.0000456), "46 µs");
    }
}
