#!/usr/bin/env python3
"""Whole-process timings of tally commands, interleaved round by round (a shared machine drifts alike for all).

    benches/whole_process.py FILE [--runs N] [--before OLD_TALLY] [--after NEW_TALLY]

Prints a markdown table of medians and ranges: describe (default, --exact, --compensated, --where), integer
columns (`id` has the bytes of the float column `a`; `k1`, int32, half of them), hist with
and without a range, corr. `--before` adds the describe rows for another tally binary (e.g. a release build of an
older commit) side by side.
"""
import argparse
import statistics
import subprocess
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("file")
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--after", default="target/release/tally")
    p.add_argument("--before")
    a = p.parse_args()
    q = ["-q", "--format", "json"]
    cmds = {}
    for label, exe in ([("before", a.before)] if a.before else []) + [("after", a.after)]:
        cmds[f"describe a,b,c,d ({label})"] = [exe, "describe", a.file, "--columns", "a,b,c,d", *q]
        cmds[f"describe a,b,c,d --exact ({label})"] = [exe, "describe", a.file, "--columns", "a,b,c,d", "--exact", *q]
        cmds[f"describe id,k1 ({label})"] = [exe, "describe", a.file, "--columns", "id,k1", *q]
    exe = a.after
    # Correctly rounded sums became the default (issue 7); the compensated sum is the opt-out.
    cmds["describe a,b,c,d --compensated (after)"] = [exe, "describe", a.file, "--columns", "a,b,c,d", "--compensated", *q]
    cmds["describe id (after)"] = [exe, "describe", a.file, "--columns", "id", *q]
    cmds["describe k1 (after)"] = [exe, "describe", a.file, "--columns", "k1", *q]
    cmds["describe a (after)"] = [exe, "describe", a.file, "--columns", "a", *q]
    cmds["describe a,b,c,d --where 'k1 < 500'"] = [exe, "describe", a.file, "--columns", "a,b,c,d", "--where", "k1 < 500", *q]
    cmds["hist a --bins 100 (2 passes)"] = [exe, "hist", a.file, "--column", "a", "--bins", "100", *q]
    cmds["hist a --bins 100 --range -5.5,5.5"] = [exe, "hist", a.file, "--column", "a", "--bins", "100", "--range=-5.5,5.5", *q]
    cmds["corr a,b,c,d"] = [exe, "corr", a.file, "--columns", "a,b,c,d", *q]
    times = {k: [] for k in cmds}
    for _ in range(a.runs):
        for k, c in cmds.items():
            t = time.perf_counter()
            subprocess.run(c, stdout=subprocess.DEVNULL, check=True)
            times[k].append(time.perf_counter() - t)
    print("| command | median | range |\n|---|---|---|")
    for k, v in times.items():
        print(f"| {k} | {statistics.median(v):.3f} s | {min(v):.3f}–{max(v):.3f} s |")


if __name__ == "__main__":
    main()
