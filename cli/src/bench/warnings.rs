//! The warnings of a bench report, each naming a fix: cold first runs, a busy machine, workers above cores,
//! high variance, a single run, and parallel efficiency collapsing (memory-bound against the measured ceiling,
//! or overhead far from it). Pure functions of the [`Summary`]s, tested on synthetic timings.

use super::stats::{Summary, secs};

/// The first run of a configuration this much slower than the median is "cold" (hyperfine uses the same
/// idea for its "first run significantly slower" warning).
pub(crate) const COLD_FACTOR: f64 = 1.5;
/// A MAD above this fraction of the median is "high variance".
pub(crate) const NOISY_MAD: f64 = 0.05;
/// Parallel efficiency below this has "collapsed".
pub(crate) const LOW_EFFICIENCY: f64 = 0.6;
/// Throughput at or above this fraction of the ceiling is memory-bound.
pub(crate) const NEAR_CEILING: f64 = 0.6;

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

#[cfg(test)]
mod tests {
    use super::super::runner::Run;
    use super::super::stats::summarise;
    use super::super::stats::tests::{ceiling, run};
    use super::*;

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
}
