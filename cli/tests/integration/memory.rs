//! Peak memory of the parent and of every worker on tens of millions of rows, against the bounds the
//! analyses document (issue 9: "a column of tens of millions of rows where peak RSS of the parent and of
//! each worker stays within the documented bound"). The figures are the ones `-v` prints, which the
//! workers measure themselves (engine/src/exec/memory.rs): `VmHWM`, the peak resident set, which counts
//! the pages of the mapped input a process read, and `RssAnon`, its heap, sampled at its fullest.

use crate::util;

use std::sync::Arc;

use arrow_array::{Float64Array, RecordBatch};
use arrow_ipc::writer::FileWriter;
use arrow_schema::{DataType, Field, Schema};
use util::{Dir, lossy};

const MIB: u64 = 1 << 20;
/// Rows of the big column: 32M float64 values, 256 MB of column data.
const ROWS: usize = 32_000_000;
const BATCH_ROWS: usize = 1 << 20;

/// What a tally process holds whatever it computes: the binary's own heap, the input's footer and schema,
/// thread stacks touched, pipe buffers (measured: 2-4 MiB; doubled).
const BASELINE: u64 = 8 * MIB;

/// Writes `ROWS` values of one float64 column `x`: mostly uniform in [1, 2), whose values share few top-16-bit
/// buckets (so the selection takes its window and collect passes), with repeated small integers and a wide
/// spread (every exponent from 2^-60 to 2^60, both signs) mixed in.
fn write_big(dir: &Dir) -> u64 {
    let path = dir.join("big.arrow");
    let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, false)]));
    let mut writer = FileWriter::try_new(std::fs::File::create(&path).unwrap(), &schema).unwrap();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut written = 0;
    while written < ROWS {
        let n = BATCH_ROWS.min(ROWS - written);
        let values: Vec<f64> = (0..n)
            .map(|i| {
                let r = next();
                let mantissa = (r >> 11) as f64 / (1u64 << 53) as f64 + 1.0;
                if (written + i) % 16 == 0 {
                    (r % 1000) as f64 // repeated small integers
                } else if (written + i) % 16 != 1 {
                    mantissa // most values in [1, 2): 16 top-16-bit buckets of 1.3M values each
                } else {
                    let exponent = (r % 121) as i32 - 60;
                    let sign = if r & (1 << 10) == 0 { 1.0 } else { -1.0 };
                    sign * mantissa * 2f64.powi(exponent)
                }
            })
            .collect();
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(Float64Array::from(values))]).unwrap();
        writer.write(&batch).unwrap();
        written += n;
    }
    writer.finish().unwrap();
    std::fs::metadata(&path).unwrap().len()
}

/// `(who, peak RSS, anonymous)` of a `tally: ... memory:` line `-v` printed, in bytes.
type Line = (String, u64, u64);

/// Every memory line `-v` printed.
fn memory_lines(stderr: &str) -> Vec<Line> {
    let mib = |s: &str| (s.trim().trim_end_matches("MiB").trim().parse::<f64>().unwrap() * MIB as f64) as u64;
    stderr
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("tally: ")?;
            let (who, figures) = rest.split_once(" memory: ")?;
            let (peak, anon) = figures.strip_prefix("peak RSS ")?.split_once(", anonymous ")?;
            Some((who.to_string(), mib(peak), mib(anon)))
        })
        .collect()
}

/// The parent's and the two workers' lines of `lines`, after checking their heaps against the bounds.
#[track_caller]
fn within_bounds<'a>(
    lines: &'a [Line],
    stderr: &str,
    parent_bound: u64,
    worker_bound: u64,
) -> (&'a Line, Vec<&'a Line>) {
    let parent = lines.iter().find(|l| l.0 == "parent").unwrap_or_else(|| panic!("no parent line:\n{stderr}"));
    let workers: Vec<_> = lines.iter().filter(|l| l.0.starts_with("worker ")).collect();
    assert_eq!(workers.len(), 2, "{stderr}");
    assert!(parent.2 <= parent_bound, "parent: {} bytes of heap, bound {parent_bound}:\n{stderr}", parent.2);
    for (who, _, anon) in &workers {
        assert!(*anon <= worker_bound, "{who}: {anon} bytes of heap, bound {worker_bound}:\n{stderr}");
    }
    (parent, workers)
}

#[test]
fn exact_quantiles_of_32m_rows_stay_within_the_documented_memory_bound() {
    let dir = Dir::new();
    let file_bytes = write_big(&dir);
    let qs = "0.5,0.9,0.99";
    let out = dir
        .std_tally()
        .args(["quantile", "big.arrow", "--column", "x", "--q", qs, "--workers", "2", "-v", "--format", "json"])
        .output()
        .unwrap();
    let stderr = lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let passes = doc["passes"].as_u64().unwrap();
    assert!(passes >= 3, "the data was meant to need window and collect passes, took {passes}:\n{stderr}");

    // The bounds of engine/src/analysis/quantile/select.rs's module docs, for W windows (one per wanted
    // quantile at most): a worker `2·W·9.5 MiB`, the parent `W·((levels + 1 + 2·workers)·1.5 MiB + 16 MiB)`.
    let windows = qs.split(',').count() as u64;
    let (chunks, workers) = (ROWS.div_ceil(1 << 20) as u64, 2);
    let levels = u64::from(chunks.next_power_of_two().trailing_zeros());
    let worker_bound = BASELINE + 2 * windows * (3 * MIB / 2 + 8 * MIB);
    let parent_bound = BASELINE + windows * ((levels + 1 + 2 * workers) * 3 * MIB / 2 + 16 * MIB);
    let lines = memory_lines(&stderr);
    let (parent, workers) = within_bounds(&lines, &stderr, parent_bound, worker_bound);
    for (who, peak, anon) in std::iter::once(parent).chain(workers.iter().copied()) {
        assert!(*anon > 0 && *peak >= *anon, "{who}: implausible figures:\n{stderr}");
    }
    // The parent never reads the column (the workers do): its resident set stays within its bound although
    // the whole file is mapped in it. A worker's resident set holds the pages it read, at most the file's,
    // and its heap.
    assert!(parent.1 <= parent_bound + 32 * MIB, "parent peak RSS {} for a {file_bytes}-byte input", parent.1);
    for (who, peak, anon) in workers {
        assert!(*peak <= file_bytes + anon + 32 * MIB, "{who}: peak RSS {peak} for a {file_bytes}-byte input");
    }
    assert!(file_bytes > 2 * parent_bound.max(worker_bound), "the input must dwarf the bounds");
}

/// Issue 10: "parent and worker peak RSS stay within the documented bound on a 1M-group file". Every chunk
/// holds all 1M keys (each chunk of 2^20 rows runs through a permutation of them), the worst case for chunk
/// states; the bound is the memory guard's model (engine/src/analysis/memory.rs): per group, `2·groups +
/// 3·chunk groups` states in the parent and `2·chunk groups` in each worker, at the bytes per group the
/// guard itself reports.
#[test]
fn groupby_of_a_million_groups_stays_within_the_memory_guards_bound() {
    use arrow_array::Int64Array;
    const GROUPS: u64 = 1_000_000;
    let rows = 8usize << 20;
    let dir = Dir::new();
    let schema =
        Arc::new(Schema::new(vec![Field::new("k", DataType::Int64, false), Field::new("a", DataType::Float64, false)]));
    let mut writer = FileWriter::try_new(std::fs::File::create(dir.join("g.arrow")).unwrap(), &schema).unwrap();
    for start in (0..rows).step_by(BATCH_ROWS) {
        // 7919 is prime and coprime to 10^6: a permutation of the keys every 10^6 rows.
        let keys: Vec<i64> =
            (start..start + BATCH_ROWS).map(|i| ((i as u64 % GROUPS) * 7919 % GROUPS) as i64).collect();
        let values: Vec<f64> = (start..start + BATCH_ROWS).map(|i| (i % 1000) as f64 * 0.5).collect();
        let columns: Vec<arrow_array::ArrayRef> =
            vec![Arc::new(Int64Array::from(keys)), Arc::new(Float64Array::from(values))];
        writer.write(&RecordBatch::try_new(schema.clone(), columns).unwrap()).unwrap();
    }
    writer.finish().unwrap();
    let args = ["groupby", "g.arrow", "--by", "k", "--agg", "count,mean(a)", "--workers", "2"];

    // The guard's own figure of bytes per group, from its refusal.
    let out = dir.std_tally().args(args).args(["--memory-limit", "1K"]).output().unwrap();
    let stderr = lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let bytes_per_group: u64 =
        stderr.split(" bytes per group").next().unwrap().rsplit(' ').next().unwrap().parse().unwrap();

    let out = dir.std_tally().args(args).args(["-v", "--format", "json", "--limit", "1"]).output().unwrap();
    let stderr = lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["group_count"].as_u64(), Some(GROUPS), "{stderr}");
    assert_eq!(doc["groups"][0]["count"].as_u64(), Some(rows as u64 / GROUPS + 1), "key 0: rows 0, 10^6, ..., 8·10^6");
    // 2^20-row chunks (an eighth of the rows), each holding every key.
    let chunk_groups = GROUPS;
    let parent_bound = BASELINE + bytes_per_group * (2 * GROUPS + 3 * chunk_groups);
    let worker_bound = BASELINE + bytes_per_group * 2 * chunk_groups;
    println!("bounds: parent {parent_bound}, worker {worker_bound}\n{stderr}");
    let lines = memory_lines(&stderr);
    let (_, workers) = within_bounds(&lines, &stderr, parent_bound, worker_bound);
    // The states are real: each worker held at least one chunk's million groups.
    for (who, peak, anon) in &workers {
        assert!(*anon >= GROUPS * 16 && *peak >= *anon, "{who}: implausible figures:\n{stderr}");
    }
}
