#!/usr/bin/env python3
"""Side-by-side timing of tally against Polars, DuckDB and NumPy on the same Arrow file and statistics.

    python3 -m venv .venv && .venv/bin/pip install -r benches/compare/requirements.txt
    .venv/bin/python benches/compare/compare.py demo.arrow --tally target/release/tally --runs 7

Statistics: count, null_count, mean, std, min, max of the given columns (default a,b,c,d of `tally gen`).
The other tools are timed in-process with the file already opened (memory-mapped, zero-copy), which favours
them; tally is timed as a whole process (start-up, open, validate, compute, render JSON). Every tool runs
once to warm the page cache, then the runs interleave so machine noise hits all of them alike. Reports the
median and the spread (min..max) and the ratio to the fastest other tool, and checks that the means agree.
"""
import argparse
import json
import statistics
import subprocess
import time


def time_runs(fn, runs):
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path")
    ap.add_argument("--tally", default="target/release/tally")
    ap.add_argument("--columns", default="a,b,c,d")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--tally-args", default="", help="extra tally describe arguments, e.g. '--executor threads'")
    args = ap.parse_args()
    cols = args.columns.split(",")

    import duckdb
    import numpy as np
    import polars as pl
    import pyarrow as pa
    import pyarrow.compute as pc

    table = pa.ipc.open_file(pa.memory_map(args.path)).read_all()
    df = pl.read_ipc(args.path, memory_map=True)
    con = duckdb.connect()
    con.execute("SET threads TO %d" % len(__import__("os").sched_getaffinity(0)))
    con.register("t", table)
    arrays = {c: table.column(c).combine_chunks() for c in cols}

    def tally():
        cmd = [args.tally, "describe", args.path, "--columns", args.columns, "--format", "json", "-q"]
        cmd += args.tally_args.split()
        return json.loads(subprocess.run(cmd, check=True, capture_output=True).stdout)

    def polars():
        exprs = []
        for c in cols:
            col = pl.col(c)
            exprs += [col.count().alias(c + "_n"), col.null_count().alias(c + "_z"), col.mean().alias(c + "_mean"),
                      col.std().alias(c + "_std"), col.min().alias(c + "_min"), col.max().alias(c + "_max")]
        return df.select(exprs)

    def duck():
        parts = []
        for c in cols:
            parts += [f"count({c})", f"count(*) - count({c})", f"avg({c})", f"stddev_samp({c})", f"min({c})", f"max({c})"]
        return con.execute("SELECT " + ", ".join(parts) + " FROM t").fetchall()

    def numpy():
        res = []
        for c, arr in arrays.items():
            values = np.asarray(arr.fill_null(np.nan) if arr.null_count else arr)
            valid = values[~np.isnan(values)] if arr.null_count else values
            res += [valid.size, arr.null_count, valid.mean(), valid.std(ddof=1), valid.min(), valid.max()]
        return res

    tools = {"tally": tally, "polars": polars, "duckdb": duck, "numpy": numpy}
    for fn in tools.values():
        fn()  # warm the page cache and any lazy initialisation
    times = {name: [] for name in tools}
    for _ in range(args.runs):
        for name, fn in tools.items():
            times[name] += time_runs(fn, 1)

    t = tally()
    means = {c["name"]: c["mean"] for c in t["columns"]}
    p = polars()
    for c in cols:
        ref = p[c + "_mean"][0]
        assert abs(means[c] - ref) <= 1e-9 * max(1.0, abs(ref)), f"mean of {c}: tally {means[c]} polars {ref}"

    fastest_other = min(statistics.median(v) for k, v in times.items() if k != "tally")
    size = sum(arrays[c].nbytes for c in cols)
    print(f"file {args.path}, columns {args.columns} ({size / 1e9:.2f} GB of column data), {args.runs} runs each")
    print("| tool | median s | min..max s | GB/s | fastest other / tool |")
    print("|---|---|---|---|---|")
    for name, v in times.items():
        med = statistics.median(v)
        print(f"| {name} | {med:.3f} | {min(v):.3f}..{max(v):.3f} | {size / med / 1e9:.1f} | {fastest_other / med:.2f}x |")


if __name__ == "__main__":
    main()
