//! `--export-json`: the context block, the ceilings, one record per run (warm-ups included, marked), the
//! summaries and the warnings. The schema is documented in README.md ("tally bench"); `version` changes
//! when a field changes meaning or goes away (new fields may appear without it).

use serde_json::{Value, json};

use super::Bench;
use super::ceiling::Point;

/// The JSON schema version of `--export-json`.
pub(crate) const JSON_VERSION: u32 = 1;

pub(crate) fn json(b: &Bench) -> Value {
    let m = &b.machine;
    let c = &b.ceiling;
    let points = |p: &[Point]| p.iter().map(|p| json!({"threads": p.threads, "gb_per_s": p.gbps})).collect::<Vec<_>>();
    let runs: Vec<Value> = b
        .runs
        .iter()
        .map(|r| {
            json!({
                "executor": r.executor,
                "workers": r.workers,
                "index": r.index,
                "warmup": r.warmup,
                "wall_s": r.wall,
                "open_s": r.open,
                "spawn_s": r.spawn,
                "compute_s": r.compute,
                "merge_s": r.merge,
                "busy_s": r.busy,
                "spawned": r.spawned,
                "chunks": r.chunks,
                "passes": r.passes,
                "scanned_bytes": r.bytes,
                "gb_per_s": if r.wall > 0.0 { r.bytes as f64 / r.wall / 1e9 } else { 0.0 },
                "overhead_s": r.overhead,
                "pinned": r.pinned.iter().map(|&(w, cpu)| json!({"worker": w, "cpu": cpu})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let summary: Vec<Value> = b
        .summaries
        .iter()
        .map(|s| {
            json!({
                "executor": s.executor,
                "workers": s.workers,
                "runs": s.runs,
                "median_s": s.median,
                "mad_s": s.mad,
                "min_s": s.min,
                "max_s": s.max,
                "open_s": s.open,
                "spawn_s": s.spawn,
                "compute_s": s.compute,
                "merge_s": s.merge,
                "busy_fraction": s.busy,
                "overhead_s": s.overhead,
                "gb_per_s": s.gbps,
                "base_workers": s.base_workers,
                "speedup": s.speedup,
                "efficiency": s.efficiency,
                "ceiling_gb_per_s": s.ceiling,
                "ceiling_fraction": s.ceiling_fraction,
            })
        })
        .collect();
    json!({
        "format": "tally-bench",
        "version": JSON_VERSION,
        "context": {
            "tally_version": env!("CARGO_PKG_VERSION"),
            "features": features(),
            "debug_build": cfg!(debug_assertions),
            "hostname": m.hostname,
            "cpu_model": m.cpu_model,
            "cores": m.cores,
            "online_cpus": m.online_cpus,
            "numa_nodes": m.numa_nodes,
            "memory_bytes": m.memory_bytes,
            "mem_available_bytes": m.mem_available_bytes,
            "kernel": m.kernel,
            "load_start": m.load,
            "load_end": b.load_after,
            "date": m.date,
            "analysis": b.analysis_name,
            "analysis_args": b.analysis_words,
            "input": {
                "path": b.input.path,
                "generated": b.input.generated,
                "rows": b.input.rows,
                "file_bytes": b.input.file_bytes,
                "why": b.input.why,
            },
            "chunk_rows": b.chunk_rows,
            "runs_per_config": b.runs_per_config,
            "warmup_runs": 1,
            "cache_state": b.cache_state(),
            "pin_cpus": b.pin,
            "ceiling": {
                "llc_bytes": c.llc_bytes,
                "buffer_bytes": c.buffer_bytes,
                "memory": points(&c.anon),
                "mapped_bytes": c.mapped_bytes,
                "mapped": points(&c.mapped),
                "seconds": c.seconds,
            },
        },
        "runs": runs,
        "summary": summary,
        "warnings": b.warnings.iter().map(|w| w.message()).collect::<Vec<_>>(),
    })
}

/// The cargo features this binary was built with.
fn features() -> Vec<&'static str> {
    let mut out = Vec::new();
    if cfg!(feature = "parquet") {
        out.push("parquet");
    }
    out
}
