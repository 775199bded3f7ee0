//! The report on standard output, in the style of hyperfine: the machine and input first, the measured
//! ceilings, then per configuration the median ± MAD, min … max, the time split, throughput against the
//! ceiling, speed-up and efficiency, the bench's own overhead; a scaling table; the warnings last.

use std::fmt::Write;

use super::Bench;
use super::stats::secs;

/// The whole text report.
pub(crate) fn render(b: &Bench) -> String {
    let mut out = String::new();
    let m = &b.machine;
    let _ = writeln!(
        out,
        "Machine:   {} ({} cores available, {} online), {} NUMA node(s)",
        m.cpu_model, m.cores, m.online_cpus, m.numa_nodes
    );
    let _ = writeln!(
        out,
        "           {:.1} GB memory ({:.1} GB available), Linux {}, load {}",
        m.memory_bytes as f64 / 1e9,
        m.mem_available_bytes as f64 / 1e9,
        m.kernel,
        m.load.map_or("unknown".to_string(), |l| format!("{l:.2}"))
    );
    let _ = writeln!(
        out,
        "Input:     {} ({} rows, {:.2} GB{}), chunks of {} rows",
        b.input.path,
        b.input.rows,
        b.input.file_bytes as f64 / 1e9,
        if b.input.generated { ", generated" } else { "" },
        b.chunk_rows
    );
    let _ = writeln!(out, "Analysis:  {}", b.analysis);
    if !b.pin.is_empty() {
        let _ = writeln!(out, "Pinning:   {}", b.pin_summary());
    }
    let c = &b.ceiling;
    let _ = writeln!(
        out,
        "Ceiling:   read-only sum, probe took {} (buffer {} MiB, LLC {})",
        secs(c.seconds),
        c.buffer_bytes >> 20,
        c.llc_bytes.map_or("unknown".to_string(), |l| format!("{} MiB", l >> 20))
    );
    let row = |points: &[super::ceiling::Point]| {
        points.iter().map(|p| format!("{} thr {:.2} GB/s", p.threads, p.gbps)).collect::<Vec<_>>().join(", ")
    };
    let _ = writeln!(out, "           memory buffer: {}", row(&c.anon));
    let _ = writeln!(
        out,
        "           mapped file ({} MiB, page faults included): {}",
        c.mapped_bytes >> 20,
        row(&c.mapped)
    );
    for (i, s) in b.summaries.iter().enumerate() {
        let _ = writeln!(out, "\nBenchmark {}: {}, {} x{}", i + 1, b.analysis_name, s.executor, s.workers);
        let _ = writeln!(
            out,
            "  Time (median ± MAD):  {:>10} ± {:>9}    [{} runs, 1 warm-up]",
            secs(s.median),
            secs(s.mad),
            s.runs
        );
        let _ = writeln!(out, "  Range (min … max):    {:>10} … {:>9}", secs(s.min), secs(s.max));
        let _ = writeln!(
            out,
            "  Split (medians):      open {}, spawn {}, compute {} (merging {} of it), workers busy {:.0}%",
            secs(s.open),
            secs(s.spawn),
            secs(s.compute),
            secs(s.merge),
            s.busy * 100.0
        );
        let ceiling = match (s.ceiling, s.ceiling_fraction) {
            (Some(c), Some(f)) => format!(", {:.0}% of the ceiling ({c:.2} GB/s mapped)", f * 100.0),
            _ => String::new(),
        };
        let _ = writeln!(out, "  Throughput:           {:.2} GB/s of column data{ceiling}", s.gbps);
        let _ = writeln!(
            out,
            "  Speed-up:             {:.2}x against {} worker(s), efficiency {:.0}%",
            s.speedup,
            s.base_workers,
            s.efficiency * 100.0
        );
        let _ = writeln!(
            out,
            "  Bench overhead:       {} per run ({:.4}% of the median)",
            secs(s.overhead),
            100.0 * s.overhead / s.median.max(1e-12)
        );
    }
    let _ = writeln!(out, "\nScaling:\n{}", markdown_table(b));
    if !b.warnings.is_empty() {
        let _ = writeln!(out, "Warnings:");
        for w in &b.warnings {
            let _ = writeln!(out, "  - {}", w.message());
        }
    }
    out
}

/// The summary table, in markdown (also the body of `--export-markdown`).
pub(crate) fn markdown_table(b: &Bench) -> String {
    let mut out = String::from(
        "| executor | workers | median | ± MAD | min | max | runs | speed-up | efficiency | GB/s | of ceiling |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for s in &b.summaries {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {:.2}x | {:.0}% | {:.2} | {} |",
            s.executor,
            s.workers,
            secs(s.median),
            secs(s.mad),
            secs(s.min),
            secs(s.max),
            s.runs,
            s.speedup,
            s.efficiency * 100.0,
            s.gbps,
            s.ceiling_fraction.map_or("-".to_string(), |f| format!("{:.0}%", f * 100.0))
        );
    }
    out
}

/// The markdown document of `--export-markdown`: context, ceilings, table, warnings.
pub(crate) fn markdown(b: &Bench, command: &str) -> String {
    let m = &b.machine;
    let c = &b.ceiling;
    let mut out = format!("# tally bench: {}\n\n", b.analysis);
    let _ = writeln!(out, "`{command}`, {} (tally {})\n", m.date, env!("CARGO_PKG_VERSION"));
    let _ = writeln!(
        out,
        "- machine: {}, {} cores available ({} online), {} NUMA node(s), {:.1} GB memory, Linux {}",
        m.cpu_model,
        m.cores,
        m.online_cpus,
        m.numa_nodes,
        m.memory_bytes as f64 / 1e9,
        m.kernel
    );
    let _ = writeln!(
        out,
        "- load average: {} at the start, {} at the end",
        m.load.map_or("unknown".into(), |l| format!("{l:.2}")),
        b.load_after.map_or("unknown".into(), |l| format!("{l:.2}"))
    );
    let _ = writeln!(
        out,
        "- input: {} rows, {:.2} GB{}, chunks of {} rows",
        b.input.rows,
        b.input.file_bytes as f64 / 1e9,
        if b.input.generated { " (generated)" } else { "" },
        b.chunk_rows
    );
    if let Some(why) = &b.input.why {
        let _ = writeln!(out, "- size: {why}");
    }
    if !b.pin.is_empty() {
        let _ = writeln!(out, "- pinning: {}", b.pin_summary());
    }
    let points = |p: &[super::ceiling::Point]| {
        p.iter().map(|p| format!("{} thr {:.2}", p.threads, p.gbps)).collect::<Vec<_>>().join(", ")
    };
    let _ = writeln!(
        out,
        "- ceiling (GB/s, read-only sum; probe {}): memory buffer of {} MiB: {}; freshly mapped file: {}\n",
        secs(c.seconds),
        c.buffer_bytes >> 20,
        points(&c.anon),
        points(&c.mapped)
    );
    out.push_str(&markdown_table(b));
    if !b.warnings.is_empty() {
        out.push_str("\nWarnings:\n\n");
        for w in &b.warnings {
            let _ = writeln!(out, "- {}", w.message());
        }
    }
    out
}
