#!/usr/bin/env python3
"""Scoreboard: tally against Polars, DuckDB, NumPy, NumPy + Pool (pickled chunks) and NumPy + shared_memory +
Pool on one `tally gen` Arrow file, every task of every analysis, and the same describe from Parquet and CSV.

    benches/compare/run.sh FILE [--runs N] [--tasks ...] [--inputs parquet,csv]   (sets up the venv, then this)

Every tool is timed two ways, hyperfine-style (one warm-up, then N runs, median and min..max):
- in-process: the file already open/loaded in this interpreter (tools.py `open`), only the task is timed:
  what the engine costs. For tally, the executor time printed by `-v` (spawn workers, compute, merge).
- whole process: a fresh `python -c` (imports, open, task, print) or `tally ...` per run: what a user waits for.
Runs interleave tool by tool, so drift of a shared machine hits every tool alike. Results are checked against
a reference (tally where it ran the task, else NumPy) and disagreements flagged. Prints one markdown table
and writes a JSON export with a context block (report.py), and the markdown to
benches/results/<date>-<machine>.md (ripgrep's benchsuite convention), linked from benches/README.md.
Task `describe@parquet` / `describe@csv` is describe over a Parquet (zstd, 1M-row row groups) / CSV copy of
FILE written by pyarrow into --workdir (`tally convert` writes Arrow IPC only); not timed.
The accuracy of every tool's mean (a, b, c, d) and std(d) is checked against exact values (reference.py).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import reference
import report
import tools

HERE = os.path.dirname(os.path.abspath(__file__))
TASK_COLS = {"describe": "a,b,c,d", "hist": "a", "corr": "a,b,c,d", "quantile": "b", "quantile_approx": "b",
             "groupby-k1": "k1,a", "groupby-k2": "k2,a", "distinct-k2": "k2", "approx-distinct-k2": "k2",
             "top-k2": "k2"}
DEFAULT_TASKS = ",".join(TASK_COLS)
INPUTS = ("parquet", "csv")


def base(task):
    """`describe@csv` -> `describe`: the task without its input format."""
    return task.split("@")[0]


def task_path(args, task):
    return args.inputs[task.split("@")[1]] if "@" in task else args.path


def tally_cmd(tally, task, path, cols):
    task = base(task)
    if task == "top-k2":
        return [tally, "top", path, "--column", cols, "-k", str(tools.TOP), "--format", "json", "-q"]
    if task.startswith("groupby-"):
        key = cols.split(",")[0]
        return [tally, "groupby", path, "--by", key, "--agg", "count,mean(a)", "--limit", str(tools.FIRST),
                "--format", "json", "-q"]
    if task.endswith("distinct-k2"):
        extra = ["--approx"] if task.startswith("approx") else []
        return [tally, "distinct", path, "--columns", cols, "--format", "json", "-q"] + extra
    if task == "describe":
        return [tally, "describe", path, "--columns", cols, "--format", "json", "-q"]
    if task == "hist":
        return [tally, "hist", path, "--column", cols, "--bins", str(tools.BINS), "--format", "json", "-q"]
    if task in ("quantile", "quantile_approx"):
        qs = ",".join(str(q) for q in tools.QS)
        approx = ["--approx", "--rel-error", "0.01"] if task == "quantile_approx" else []
        return [tally, "quantile", path, "--column", cols, "--q", qs, "--format", "json", "-q", *approx]
    return [tally, "corr", path, "--columns", cols, "--format", "json", "-q"]


def tally_has(tally, task):
    task = base(task)
    if task == "describe":
        return True
    if task == "quantile_approx":
        sub = "quantile"
    elif task == "top-k2":
        sub = "top"
    else:
        sub = task.split("-")[0] if task.startswith("groupby") else ("distinct" if "distinct" in task else task)
    return subprocess.run([tally, sub, "--help"], capture_output=True).returncode == 0


def tally_result(task, out):
    task = base(task)
    j = json.loads(out)
    if task == "top-k2":
        return {"top": [[v["value"], v["count"]] for v in j["values"]]}
    if task.startswith("groupby-"):
        key = j["by"][0]
        return {"groups": j["group_count"],
                "first": [[g["key"][key], g["count"], g["mean(a)"]] for g in j["groups"]]}
    if "distinct" in task:
        return {"distinct": j["columns"][0]["distinct"]}
    if task == "describe":
        keys = ["count", "null_count", "min", "max", "sum", "mean", "std"]
        return {c["name"]: {k: c[k] for k in keys} for c in j["columns"]}
    if task == "hist":
        return {"lo": j["edges"][0], "hi": j["edges"][-1], "counts": j["counts"]}
    if task in ("quantile", "quantile_approx"):
        return {"q": [q["value"] for q in j["quantiles"]]}
    return {"matrix": j["matrix"]}


EXEC_TIME = re.compile(r"executor, .*?([0-9.]+) s\s*$", re.M)


def tally_in_process(cmd):
    """The executor's own time from `-v` (workers spawned, chunks computed and merged), last one if several,
    and the `-v` text (its memory lines give tally's peak RSS)."""
    err = subprocess.run(cmd + ["-v"], check=True, capture_output=True, text=True).stderr
    found = EXEC_TIME.findall(err)
    return (sum(float(t) for t in found) if found else None), err


TALLY_MEMORY = re.compile(r"^tally: (parent|worker \d+) memory: peak RSS ([0-9.]+) MiB", re.M)

# Runs a command as its only child: the child's own peak RSS (wait4) and the largest peak of every process in
# its tree (RUSAGE_CHILDREN: a process's waited-for descendants count towards it), in KiB.
RSS_WRAPPER = ("import os, resource, subprocess, sys\n"
               "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
               "_, status, own = os.wait4(p.pid, 0)\n"
               "tree = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
               "print(status, own.ru_maxrss, tree.ru_maxrss)")


def tally_memory(err):
    """tally's peak RSS from its own `-v` report: the parent and each worker."""
    found = TALLY_MEMORY.findall(err or "")
    return ", ".join(f"{who} {float(mib):,.0f} MiB" for who, mib in found) or "n/a"


def peak_memory(cmd):
    """Peak RSS of one more whole-process run of a Python tool, as text: the process and the largest process
    of its tree (a Pool's workers, if larger)."""
    out = subprocess.run([sys.executable, "-c", RSS_WRAPPER, *cmd], check=True, capture_output=True, text=True)
    status, own, tree = (int(x) for x in out.stdout.split())
    if status != 0:
        return "n/a (failed)"
    text = f"process {own / 1024:,.0f} MiB"
    return text + (f", largest in its tree {tree / 1024:,.0f} MiB" if tree > own else "")


def python_cmd(tool, task, path, cols):
    code = f"import sys; sys.path.insert(0, {HERE!r}); import tools; tools.main()"
    return [sys.executable, "-c", code, tool, task, path, cols]


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def measure(args, task, states):
    """{(tool, mode): [seconds]}, results {tool: normalised result}, peak memory {tool: text}; interleaved
    runs after one warm-up each (tally's peak RSS from its last in-process `-v` run), then one more
    whole-process run per Python tool for its peak RSS."""
    cols = TASK_COLS[base(task)]
    path = task_path(args, task)
    runners, results, commands, memory = {}, {}, {}, {}
    if tally_has(args.tally, task):
        tcmd = tally_cmd(args.tally, task, path, cols)
        runners[("tally", "in-process")] = lambda: tally_in_process(tcmd)
        runners[("tally", "whole")] = lambda: timed(lambda: subprocess.run(tcmd, check=True, capture_output=True))
    else:
        print(f"  {task}: `tally {task} --help` fails: tally n/a (not built)", file=sys.stderr)
    for tool in args.tools:
        fn = tools.TOOLS[tool][1].get(base(task))
        if fn is None:
            print(f"  {task}: {tool} has no such function: n/a", file=sys.stderr)
            continue
        runners[(tool, "in-process")] = (lambda fn=fn, tool=tool: timed(lambda: fn(states[tool])))
        cmd = python_cmd(tool, base(task), path, cols)
        commands[tool] = cmd
        runners[(tool, "whole")] = lambda c=cmd: timed(lambda: subprocess.run(c, check=True, capture_output=True))
    times = {k: [] for k in runners}
    if ("tally", "whole") not in runners:
        times = {("tally", "in-process"): [], ("tally", "whole"): [], **times}
    for key, run in runners.items():  # warm-up: page cache, lazy initialisation; keep the results
        t, out = run()
        if key[1] == "whole":
            stdout = out.stdout
            # The last line: a tool that prints a warning or progress on stdout must not break the check.
            results[key[0]] = tally_result(task, stdout) if key[0] == "tally" else json.loads(stdout.splitlines()[-1])
    for i in range(args.runs):
        for key, run in runners.items():
            t, out = run()
            if t is not None:
                times[key].append(t)
            if key == ("tally", "in-process"):
                memory["tally"] = tally_memory(out)
        print(f"  {task}: run {i + 1}/{args.runs} done", file=sys.stderr)
    memory.update({tool: peak_memory(cmd) for tool, cmd in commands.items()})
    return times, results, memory


def membw(args):
    out = subprocess.run([args.membw], check=True, capture_output=True, text=True).stdout
    return {int(m[0]): float(m[1]) for m in re.findall(r"(\d+) thread\(s\): ([0-9.]+) GB/s", out)}


def state_key(tool, task, path):
    """describe, hist and corr of one input share one opened state per tool (columns a,b,c,d)."""
    b = base(task)
    return tool, TASK_COLS["describe" if b in ("describe", "hist", "corr") else b], path


def write_inputs(args, tasks):
    """Parquet / CSV copies of the Arrow file for the `describe@FMT` tasks, written once into --workdir."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    stem = os.path.splitext(os.path.basename(args.path))[0]
    args.inputs = {}
    for fmt in sorted({t.split("@")[1] for t in tasks if "@" in t}):
        out = os.path.join(args.workdir, f"{stem}.{fmt}")
        if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(args.path):
            os.makedirs(args.workdir, exist_ok=True)
            print(f"writing {out} (pyarrow, not timed)", file=sys.stderr)
            table = pa.ipc.open_file(pa.memory_map(args.path)).read_all()
            if fmt == "parquet":
                pq.write_table(table, out + ".tmp", compression="zstd", row_group_size=1_000_000)
            else:
                pcsv.write_csv(table, out + ".tmp")
            os.replace(out + ".tmp", out)
        args.inputs[fmt] = out


def recache(paths):
    """Evicts each input file from the page cache and reads it back sequentially, so every run starts from
    the same state whatever the machine did before. Mapped reads feel the state: right after a CI build on
    this machine, tally's groupby by k1 spent 66 ms per run in the kernel, faulting the mapped file in, and
    9 ms once the file had been evicted and read back (149 against 113 ms whole process; benches/README.md,
    "Group-by: the bound")."""
    for path in paths:
        with open(path, "rb", buffering=0) as f:
            os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
            while f.read(8 << 20):
                pass


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path")
    ap.add_argument("--tally", default="target/release/tally")
    ap.add_argument("--membw", default="target/release/membw")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--tasks", default=DEFAULT_TASKS, help="of: " + ",".join(TASK_COLS))
    ap.add_argument("--inputs", default=",".join(INPUTS),
                    help="also describe these copies of the file (of: parquet,csv; '' for none)")
    ap.add_argument("--tools", default=",".join(tools.TOOLS), help="Python tools, of: " + ",".join(tools.TOOLS))
    ap.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "tally-compare"),
                    help="where the Parquet and CSV copies are written (kept for the next run)")
    ap.add_argument("--machine", default=report.machine_name(),
                    help="short neutral name of the machine for the results file (default: e.g. 2core-vm)")
    ap.add_argument("--results-dir", default=os.path.join(HERE, "..", "results"),
                    help="the markdown goes to DIR/<date>-<machine>.md ('' for none)")
    ap.add_argument("--export-json", default=None, help="default: compare-<date>.json in the current directory")
    ap.add_argument("--keep-page-cache", action="store_true",
                    help="do not evict and re-read the input files first (see recache)")
    args = ap.parse_args()
    # The command line as run.sh users type it, for the results file: no paths of this machine.
    local = ("--tally", "--membw", "--export-json", "--workdir", "--results-dir")
    args.argv, skip = [], False
    for a in sys.argv[2:]:
        if not skip and a.split("=")[0] not in local:
            args.argv.append(a)
        skip = a in local
    args.tools = args.tools.split(",")
    tasks = args.tasks.split(",")
    for fmt in filter(None, args.inputs.split(",")):
        if fmt not in INPUTS:
            sys.exit(f"unknown input {fmt!r}: expected some of {','.join(INPUTS)}")
        tasks.append(f"describe@{fmt}")
    for t in tasks:
        if base(t) not in TASK_COLS:
            sys.exit(f"unknown task {t!r}: expected some of {','.join(TASK_COLS)}")
    write_inputs(args, tasks)
    if not args.keep_page_cache:
        recache(sorted({task_path(args, t) for t in tasks}))

    ceiling = membw(args)  # first, while no tool holds a loaded copy of the data
    print(f"membw: {ceiling}", file=sys.stderr)
    print("exact reference values (math.fsum over error-free transforms)", file=sys.stderr)
    exact = reference.exact(args.path)
    # Each tool's columns are opened once per input just before the first task that needs them (opening is
    # not timed in-process) and closed after the last, so at most a few copies of the data are loaded at once.
    opened = {}
    try:
        runs = {}
        for i, task in enumerate(tasks):
            path = task_path(args, task)
            for tool in args.tools:
                key = state_key(tool, task, path)
                if key not in opened:
                    opened[key] = tools.TOOLS[tool][0](path, key[1].split(","))
            runs[task] = measure(args, task, {tool: opened[state_key(tool, task, path)] for tool in args.tools})
            later = {state_key(tool, t, task_path(args, t)) for t in tasks[i + 1:] for tool in args.tools}
            for key in [k for k in opened if k not in later]:
                tools.close(key[0], opened.pop(key))
    finally:
        for (tool, _, _), st in opened.items():
            tools.close(tool, st)
    ctx = report.context(args, ceiling)
    rows = report.rows(args, runs, ceiling)
    accuracy = report.accuracy(runs, exact)
    memory = [{"task": t, "tool": tool, "peak_rss": m} for t in runs for tool, m in runs[t][2].items()]
    text = report.markdown(ctx, rows, accuracy, memory)
    print(text)
    if args.results_dir:
        out = report.write_results(args, ctx, text)
        print(f"\nresults: {out}", file=sys.stderr)
    path = args.export_json or f"compare-{time.strftime('%Y-%m-%dT%H%M')}.json"
    with open(path, "w") as f:
        json.dump({"context": ctx, "results": rows, "accuracy": accuracy, "memory": memory, "exact": exact,
                   "raw": {t: {f"{k[0]}/{k[1]}": v for k, v in runs[t][0].items()} for t in runs}},
                  f, indent=1, default=tools.plain)
    print(f"JSON export: {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
