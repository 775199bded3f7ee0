"""Statistics, agreement checks and the markdown/JSON rendering of a compare.py run.

Agreement is checked against one reference per task: tally's result where tally ran the task, NumPy's
otherwise. Tolerances: counts, null counts, min, max and histogram counts exactly equal; sum and mean within
1e-12 relative (what a pairwise or compensated sum gives here); std within 1e-9 relative; correlations within
1e-9 absolute (the values are ~1e-3, so relative error is meaningless). The largest deviation is printed.
"""
import datetime
import math
import os
import platform
import statistics
import subprocess

import tools

REL = {"count": 0.0, "null_count": 0.0, "min": 0.0, "max": 0.0, "sum": 1e-12, "mean": 1e-12, "std": 1e-9}
CORR_ABS = 1e-9


def _rel(a, b):
    if a is None or b is None:
        return 0.0 if a is b else math.inf
    return abs(a - b) / max(abs(b), 1e-300) if a != b else 0.0


def agreement(task, res, ref):
    """(ok, text): does `res` agree with `ref` within the tolerances above, and by how much it deviates."""
    task = task.split("@")[0]
    if task == "top-k2":
        same = res["top"] == ref["top"]
        return same, "ok (values and counts equal)" if same else f"DIFFERS: {res['top'][:3]} vs {ref['top'][:3]}"
    if task == "describe":
        worst, ok = 0.0, True
        for col, stats in ref.items():
            for k, tol in REL.items():
                d = _rel(res[col][k], stats[k])
                ok &= d <= tol
                worst = max(worst, d if k in ("sum", "mean", "std") else 0.0)
                if d > tol:
                    return False, f"DIFFERS: {col}.{k} {res[col][k]!r} vs {stats[k]!r}"
        return ok, f"ok (max rel. dev. {worst:.0e})"
    if task.startswith("groupby-"):
        if res["groups"] != ref["groups"]:
            return False, f"DIFFERS: {res['groups']} groups vs {ref['groups']}"
        worst = 0.0
        for (k, c, m), (rk, rc, rm) in zip(res["first"], ref["first"]):
            if (k, c) != (rk, rc):
                return False, f"DIFFERS: group {k} count {c} vs {rk} {rc}"
            worst = max(worst, _rel(m, rm))
        return worst <= REL["mean"], f"{'ok' if worst <= REL['mean'] else 'DIFFERS'} (max rel. dev. of mean {worst:.0e})"
    if task == "distinct-k2":
        return res["distinct"] == ref["distinct"], f"{res['distinct']} vs {ref['distinct']}"
    if task == "approx-distinct-k2":
        d = _rel(res["distinct"], ref["distinct"])
        # Two sketches of the same data: each is within a few % of the truth, so they agree within ~5%.
        return d <= 0.05, f"{res['distinct']:.0f} vs {ref['distinct']:.0f} (rel. {d:.1%})"
    if task == "hist":
        if res["lo"] != ref["lo"] or res["hi"] != ref["hi"]:
            return False, f"DIFFERS: range {res['lo']}..{res['hi']}"
        diff = sum(abs(a - b) for a, b in zip(res["counts"], ref["counts"]))
        return (diff == 0, "ok (counts equal)" if diff == 0 else f"DIFFERS: {diff} values in other bins")
    if task == "quantile":
        same = res["q"] == ref["q"]
        worst = max(_rel(a, b) for a, b in zip(res["q"], ref["q"]))
        return (same, "ok (bit-identical)" if same else f"DIFFERS (max rel. dev. {worst:.0e})")
    if task == "quantile_approx":
        # Against the exact reference is what matters; here only the approximations' spread is shown.
        worst = max(_rel(a, b) for a, b in zip(res["q"], ref["q"]))
        return (True, f"rel. dev. {worst:.1e} from the reference")
    worst = 0.0
    for ra, rb in zip(res["matrix"], ref["matrix"]):
        for a, b in zip(ra, rb):
            worst = max(worst, math.inf if (a is None) != (b is None) else abs(a - b) if a is not None else 0.0)
    return (worst <= CORR_ABS, f"{'ok' if worst <= CORR_ABS else 'DIFFERS'} (max abs. dev. {worst:.0e})")


def _cpu():
    try:
        with open("/proc/cpuinfo") as f:
            return next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor()


def _mem_gib():
    try:
        with open("/proc/meminfo") as f:
            return round(int(next(l.split()[1] for l in f if l.startswith("MemTotal"))) / 2**20, 1)
    except (OSError, StopIteration):
        return None


def column_bytes(path, cols):
    return tools.open_table(path, cols.split(",")).nbytes


def machine_name():
    """A short neutral name (never the host name): `<cores>core-vm` under a hypervisor, else `<cores>core`."""
    try:
        with open("/proc/cpuinfo") as f:
            vm = any(l.startswith("flags") and " hypervisor" in l for l in f)
    except OSError:
        vm = False
    return f"{tools.cores()}core" + ("-vm" if vm else "")


def context(args, ceiling):
    import duckdb
    import numpy
    import polars
    import pyarrow

    tally_v = subprocess.run([args.tally, "--version"], capture_output=True, text=True).stdout.strip()
    import pyarrow as pa

    rows = pa.ipc.open_file(pa.memory_map(args.path)).read_all().num_rows
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": _cpu(), "cores": tools.cores(), "memory_gib": _mem_gib(), "kernel": platform.release(),
        "python": platform.python_version(),
        "versions": {"tally": tally_v, "polars": polars.__version__, "duckdb": duckdb.__version__,
                     "numpy": numpy.__version__, "pyarrow": pyarrow.__version__},
        "file": {"name": os.path.basename(args.path), "bytes": os.path.getsize(args.path), "rows": rows},
        "runs": args.runs, "membw_gbps": ceiling, "machine": args.machine,
        "tools": {t: TOOL_NOTES.get(t, "") for t in ["tally", *args.tools]},
    }


TOOL_NOTES = {
    "tally": "release binary, default executor (processes, one worker per core)",
    "polars": "read_ipc / read_parquet / read_csv, then expressions",
    "duckdb": "mapped Arrow table registered (Parquet/CSV: loaded with its readers), threads = cores",
    "numpy": "pyarrow mmap, combine_chunks, NumPy arrays (nulls as NaN + mask), one core",
    "numpy-pickle-pool": "multiprocessing.Pool(cores), NumPy slices pickled to the workers on every call",
    "numpy-shm-pool": "multiprocessing.Pool(cores) over shared_memory blocks copied once; row ranges sent",
}


def rows(args, runs, ceiling):
    """One record per (task, tool, mode) with median, spread, ratio to the fastest, GB/s and agreement."""
    top = ceiling[max(ceiling)] if ceiling else None
    out = []
    for task, (times, results, _) in runs.items():
        base = task.split("@")[0]
        read = {"hist": "a", "groupby-k1": "k1,a", "groupby-k2": "k2,a", "distinct-k2": "k2", "approx-distinct-k2": "k2",
                "quantile": "b", "quantile_approx": "b", "top-k2": "k2"}
        nbytes = column_bytes(args.path, read.get(base, "a,b,c,d"))
        ref_tool = "tally" if "tally" in results else "numpy"
        ref = results.get(ref_tool)
        best = {}
        for (tool, mode), v in times.items():
            if v:
                best[mode] = min(best.get(mode, math.inf), statistics.median(v))
        for (tool, mode), v in times.items():
            rec = {"task": task, "tool": tool, "mode": mode, "runs": len(v), "bytes": nbytes}
            if v:
                med = statistics.median(v)
                rec.update(median=med, min=min(v), max=max(v), mad=statistics.median(abs(x - med) for x in v),
                           ratio=med / best[mode], gbps=nbytes / med / 1e9)
                rec["ceiling_frac"] = rec["gbps"] / top if top else None
            if tool == "tally" and not v:
                rec["agreement"] = "n/a (not built)"
            elif mode == "whole" and ref is not None and tool in results:
                ok, text = (True, "reference") if tool == ref_tool else agreement(task, results[tool], ref)
                rec.update(agrees=ok, agreement=text)
            out.append(rec)
    return out


def accuracy(runs, exact):
    """Per tool: relative error of each describe mean and of std(d) against the exact values."""
    out = []
    for task, (_, results, _) in runs.items():
        if task.split("@")[0] != "describe":
            continue
        for tool, res in results.items():
            rec = {"task": task, "tool": tool}
            for col, ref in exact.items():
                for stat, want in ref.items():
                    got = res.get(col, {}).get(stat)
                    if want is not None and got is not None:
                        rec[f"{col}.{stat}"] = abs(got - want) / abs(want)
            out.append(rec)
    return out


def _fmt(r):
    if "median" not in r:
        return "n/a", "", ""
    return f"{r['median']:.3f} s", f"{r['min']:.3f} … {r['max']:.3f}", f"{r['ratio']:.2f}×"


def _peer_ratios(rows):
    """Per task: tally's median over the fastest peer's, in-process and whole process."""
    lines = ["| task | tally ÷ fastest peer, in-process | whole process |", "|---|---|---|"]
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    for task in tasks:
        cells = []
        for mode in ("in-process", "whole"):
            mine = [r for r in rows if r["task"] == task and r["mode"] == mode and "median" in r]
            t = [r["median"] for r in mine if r["tool"] == "tally"]
            peers = sorted((r["median"], r["tool"]) for r in mine if r["tool"] != "tally")
            cells.append(f"{t[0] / peers[0][0]:.2f}× ({peers[0][1]})" if t and peers else "n/a")
        lines.append(f"| {task} | " + " | ".join(cells) + " |")
    return lines


def _accuracy_lines(acc):
    if not acc:
        return []
    cols = sorted({k for r in acc for k in r if "." in k})
    lines = ["| task | tool | " + " | ".join(f"rel. error {c}" for c in cols) + " |",
             "|---|---|" + "---|" * len(cols)]
    for r in acc:
        cells = [("0 (exact)" if r[c] == 0 else f"{r[c]:.1e}") if c in r else "" for c in cols]
        lines.append(f"| {r['task']} | {r['tool']} | " + " | ".join(cells) + " |")
    return lines


def markdown(ctx, rows, acc=(), memory=()):
    v = ctx["versions"]
    bw = ", ".join(f"{k} thread(s) {g:.1f} GB/s" for k, g in sorted(ctx["membw_gbps"].items()))
    lines = [
        f"{ctx['date']}, machine `{ctx['machine']}`: {ctx['cpu']}, {ctx['cores']} cores, {ctx['memory_gib']} GiB, "
        f"Linux {ctx['kernel']}",
        f"{v['tally']}, polars {v['polars']}, duckdb {v['duckdb']}, numpy {v['numpy']}, pyarrow {v['pyarrow']}, "
        f"Python {ctx['python']}",
        f"file {ctx['file']['name']}: {ctx['file']['bytes'] / 1e9:.2f} GB, {ctx['file']['rows']:,} rows; "
        f"{ctx['runs']} runs each after one warm-up, interleaved; membw (same run): {bw}",
        "",
        "| task | tool | in-process median | min … max | ÷ fastest | GB/s (of membw) | whole process median "
        "| min … max | ÷ fastest | result |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    by = {(r["task"], r["tool"], r["mode"]): r for r in rows}
    seen = []
    for r in rows:
        if (r["task"], r["tool"]) not in seen:
            seen.append((r["task"], r["tool"]))
    for task, tool in seen:
        ip = by.get((task, tool, "in-process"), {})
        wh = by.get((task, tool, "whole"), {})
        gb = f"{ip['gbps']:.1f} ({ip['ceiling_frac']:.0%})" if "gbps" in ip and ip.get("ceiling_frac") else ""
        lines.append(f"| {task} | {tool} | " + " | ".join(_fmt(ip)) + f" | {gb} | " + " | ".join(_fmt(wh))
                     + f" | {wh.get('agreement', '')} |")
    lines += ["", "tally against the fastest other tool (median ÷ median; below 1 means tally is faster):", ""]
    lines += _peer_ratios(rows)
    if acc:
        lines += ["", "Accuracy against exact values (reference.py: exact rational sums), relative error of each "
                  "tool's describe output:", ""]
        lines += _accuracy_lines(acc)
    if memory:
        lines += ["", "Peak RSS of one more whole-process run (tally: its own `-v` report, mapped file pages included; "
                  "others: the process, and the largest process of its tree where larger):", "",
                  "| task | tool | peak RSS |", "|---|---|---|"]
        lines += [f"| {m['task']} | {m['tool']} | {m['peak_rss']} |" for m in memory]
    lines += ["", "Tools: " + "; ".join(f"**{t}** {n}" for t, n in ctx["tools"].items() if n)]
    return "\n".join(lines)


README_MARK = ("<!-- latest-scoreboard -->", "<!-- /latest-scoreboard -->")


def write_results(args, ctx, text):
    """Writes benches/results/<date>-<machine>.md and points benches/README.md's latest-scoreboard block at it."""
    os.makedirs(args.results_dir, exist_ok=True)
    name = f"{ctx['date'][:10]}-{ctx['machine']}.md"
    out = os.path.join(args.results_dir, name)
    cmd = "benches/compare/run.sh " + " ".join([os.path.basename(args.path), *args.argv])
    with open(out, "w") as f:
        f.write(f"# Scoreboard {ctx['date'][:10]}, {ctx['machine']}\n\n`{cmd}`\n\n{text}\n")
    readme = os.path.join(args.results_dir, "..", "README.md")
    if os.path.exists(readme):
        with open(readme) as f:
            body = f.read()
        if README_MARK[0] in body and README_MARK[1] in body:
            head, rest = body.split(README_MARK[0], 1)
            _, tail = rest.split(README_MARK[1], 1)
            link = (f"{README_MARK[0]}\nLatest: [results/{name}](results/{name}) ({ctx['file']['rows']:,} rows, "
                    f"{ctx['cores']} cores, {ctx['date']}).\n{README_MARK[1]}")
            with open(readme, "w") as f:
                f.write(head + link + tail)
    return out
