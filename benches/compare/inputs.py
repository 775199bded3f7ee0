#!/usr/bin/env python3
"""Inputs scoreboard (issue 11): `describe a,b,c,d` of one data set stored as Parquet (snappy, zstd; 1M-row row
groups) and CSV, whole process for everyone (a fresh `tally ...` or `python -c ...` per run: imports, open, decode,
compute, print), plus `tally convert` of the CSV against DuckDB's `COPY ... TO` Parquet.

    benches/compare/.venv/bin/python benches/compare/inputs.py GEN.arrow --tally target/release/tally \
        [--runs 3] [--workdir DIR] [--export-json OUT] [--only csv]

GEN.arrow is a `tally gen` file; the Parquet and CSV copies are written once into --workdir by pyarrow (not
timed). Runs interleave tool by tool; the table gives the median and the min..max of the runs. Results are checked
against tally's (count exactly, mean to 1e-9 relative) so a fast wrong answer cannot win.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

COLS = ["a", "b", "c", "d"]

# Templates filled with str.replace (__SRC__, __PATH__, __COLS__, ...): they are Python full of braces.
DUCKDB = """
import duckdb, json, os
con = duckdb.connect(); con.execute(f"SET threads TO {len(os.sched_getaffinity(0))}")
con.execute("SET enable_progress_bar = false")
cols = __COLS__
aggs = ", ".join(f"count({c}), avg({c}), min({c}), max({c}), stddev_samp({c})" for c in cols)
row = con.execute(f"SELECT {aggs} FROM __SRC__").fetchone()
print(json.dumps({c: {"count": row[5 * i], "mean": row[5 * i + 1]} for i, c in enumerate(cols)}))
"""

POLARS = """
import polars as pl, json
cols = __COLS__
lf = pl.__SCAN__(__PATH__)
exprs = []
for c in cols:
    x = pl.col(c)
    exprs += [x.count().alias(c + ".count"), x.mean().alias(c + ".mean"), x.min().alias(c + ".min"),
              x.max().alias(c + ".max"), x.std().alias(c + ".std")]
row = lf.select(exprs).collect().row(0, named=True)
print(json.dumps({c: {"count": row[c + ".count"], "mean": row[c + ".mean"]} for c in cols}))
"""

PYARROW = """
import pyarrow as pa, pyarrow.__MODULE__ as m, numpy as np, json
cols = __COLS__
t = m.__READER__(__PATH____EXTRA__)
out = {}
for c in cols:
    x = t.column(c).drop_null().to_numpy()
    out[c] = {"count": int(x.size), "mean": float(x.mean()), "min": float(x.min()), "max": float(x.max()),
              "std": float(x.std(ddof=1))}
print(json.dumps(out))
"""


def fill(template, **values):
    for k, v in values.items():
        template = template.replace(f"__{k.upper()}__", v)
    return template


def write_copies(gen, workdir, kinds):
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    os.makedirs(workdir, exist_ok=True)
    paths = {k: os.path.join(workdir, f"gen.{k}") for k in ["snappy.parquet", "zstd.parquet", "csv"]}
    table = None
    for codec in [c for c in ["snappy", "zstd"] if f"{c}.parquet" in kinds]:
        p = paths[f"{codec}.parquet"]
        if not os.path.exists(p):
            table = table or pa.ipc.open_file(pa.memory_map(gen)).read_all()
            pq.write_table(table, p + ".tmp", compression=codec, row_group_size=1_000_000)
            os.rename(p + ".tmp", p)
    if "csv" in kinds and not os.path.exists(paths["csv"]):
        table = table or pa.ipc.open_file(pa.memory_map(gen)).read_all()
        pcsv.write_csv(table, paths["csv"] + ".tmp")
        os.rename(paths["csv"] + ".tmp", paths["csv"])
    return paths


def commands(tally, paths, workdir):
    py = sys.executable
    cols = COLS
    tally_describe = lambda p: [tally, "describe", p, "--columns", ",".join(cols), "--format", "json", "-q"]
    out = {}
    c = repr(cols)
    for kind in [k for k in ["snappy.parquet", "zstd.parquet"] if k in paths]:
        p = paths[kind]
        out[kind] = {
            "tally": tally_describe(p),
            "duckdb": [py, "-c", fill(DUCKDB, src=f"read_parquet('{p}')", cols=c)],
            "polars": [py, "-c", fill(POLARS, scan="scan_parquet", path=repr(p), cols=c)],
            "pyarrow+numpy": [py, "-c", fill(PYARROW, module="parquet", reader="read_table", path=repr(p),
                                             extra=f", columns={c}", cols=c)],
        }
    if "csv" not in paths:
        return out
    p = paths["csv"]
    out["csv"] = {
        "tally": tally_describe(p),
        "duckdb": [py, "-c", fill(DUCKDB, src=f"read_csv('{p}')", cols=c)],
        "polars": [py, "-c", fill(POLARS, scan="scan_csv", path=repr(p), cols=c)],
        "pyarrow+numpy": [py, "-c", fill(PYARROW, module="csv", reader="read_csv", path=repr(p), extra="", cols=c)],
    }
    conv = os.path.join(workdir, "converted.arrow")
    copy = os.path.join(workdir, "copied.parquet")
    out["csv convert"] = {
        "tally convert": [tally, "convert", p, conv, "-q"],
        "duckdb COPY TO parquet": [py, "-c", f"import duckdb; duckdb.sql(\"COPY (SELECT * FROM read_csv('{p}')) "
                                             f"TO '{copy}' (FORMAT parquet)\")"],
    }
    return out


def result_of(tool, stdout):
    if "convert" in tool or "COPY" in tool:
        return None
    j = json.loads(stdout)
    if tool == "tally":
        return {c["name"]: {"count": c["count"], "mean": c["mean"]} for c in j["columns"]}
    return j


def agree(ref, got):
    for c in COLS:
        if ref[c]["count"] != got[c]["count"]:
            return False
        if abs(ref[c]["mean"] - got[c]["mean"]) > 1e-9 * max(1.0, abs(ref[c]["mean"])):
            return False
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("gen")
    ap.add_argument("--tally", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "tally-inputs-bench"))
    ap.add_argument("--export-json")
    ap.add_argument("--only", choices=["parquet", "csv"], help="time only these inputs (csv: describe and convert)")
    a = ap.parse_args()
    kinds = {"parquet": ["snappy.parquet", "zstd.parquet"], "csv": ["csv"], None: ["snappy.parquet", "zstd.parquet", "csv"]}
    paths = {k: p for k, p in write_copies(a.gen, a.workdir, kinds[a.only]).items() if k in kinds[a.only]}
    sizes = {k: os.path.getsize(p) for k, p in paths.items()}
    rows = []
    loads = {}
    for group, tools in commands(a.tally, paths, a.workdir).items():
        loads[group] = os.getloadavg()
        print(f"{group}: load average {loads[group][0]:.2f} {loads[group][1]:.2f} {loads[group][2]:.2f}", file=sys.stderr)
        times = {t: [] for t in tools}
        results = {}
        for run in range(a.runs + 1):  # the first run warms the page cache and is not counted
            for tool, cmd in tools.items():
                start = time.perf_counter()
                done = subprocess.run(cmd, capture_output=True, text=True)
                took = time.perf_counter() - start
                if done.returncode != 0:
                    sys.exit(f"{group} / {tool} failed: {done.stderr[-2000:]}")
                if run > 0:
                    times[tool].append(took)
                results[tool] = result_of(tool, done.stdout)
        ref = results.get("tally")
        for tool, ts in times.items():
            ok = "" if ref is None or results[tool] is None or agree(ref, results[tool]) else "DISAGREES"
            rows.append({"input": group, "tool": tool, "median_s": statistics.median(ts), "min_s": min(ts),
                         "max_s": max(ts), "check": ok})
    print(f"| input ({', '.join(f'{k} {v / 1e9:.2f} GB' for k, v in sizes.items())}) | tool | median s | min..max s | |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['input']} | {r['tool']} | {r['median_s']:.2f} | {r['min_s']:.2f}..{r['max_s']:.2f} | {r['check']} |")
    if a.export_json:
        context = {"cores": len(os.sched_getaffinity(0)), "runs": a.runs, "gen": a.gen, "sizes": sizes,
                   "date": time.strftime("%Y-%m-%d %H:%M:%S"), "load_average_at_start": loads}
        with open(a.export_json, "w") as f:
            json.dump({"context": context, "results": rows}, f, indent=1)


if __name__ == "__main__":
    main()
