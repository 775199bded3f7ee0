"""Python package overhead (issue 13): `tally.describe` from Python against the CLI's whole-process time on
the same file and flags, and the per-call cost on a small file. Prints one line per measurement.

Usage: python benches/python.py BIG.arrow [--repeat N]   (needs the `tally` package and binary installed)
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tally


def timed(f, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        f()
        out.append(time.perf_counter() - start)
    return out


def show(label: str, times: list[float]) -> None:
    print(f"{label:58} min {min(times) * 1e3:9.2f} ms  median {statistics.median(times) * 1e3:9.2f} ms")


def main() -> None:
    big = sys.argv[1]
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 5
    cli, _ = tally.worker_binary()
    assert cli, "no tally binary"
    for executor in ["processes", "threads"]:
        argv = [cli, "describe", big, "--format", "json", "--executor", executor]
        # Interleaved, so a change in the machine's load hits both alike.
        cli_times, py_times = [], []
        for _ in range(repeat):
            cli_times += timed(lambda: subprocess.run(argv, check=True, stdout=subprocess.DEVNULL), 1)
            py_times += timed(lambda: tally.describe(big, executor=executor), 1)
        show(f"CLI    describe {Path(big).name} --executor {executor}", cli_times)
        show(f"Python describe {Path(big).name} executor={executor}", py_times)
        print(f"{'':58} Python / CLI: min {min(py_times) / min(cli_times):.3f}, "
              f"median {statistics.median(py_times) / statistics.median(cli_times):.3f}")
    small = Path(tempfile.mkdtemp()) / "small.arrow"
    tally.gen(small, rows=1000, seed=1)
    for executor in ["processes", "threads", "serial"]:
        argv = [cli, "describe", str(small), "--format", "json", "--executor", executor]
        show(f"CLI    describe 1,000 rows --executor {executor}",
             timed(lambda: subprocess.run(argv, check=True, stdout=subprocess.DEVNULL), 20 * repeat))
        show(f"Python describe 1,000 rows executor={executor}",
             timed(lambda: tally.describe(small, executor=executor), 20 * repeat))
    show("Python describe 1,000 rows executor=threads format=arrow",
         timed(lambda: tally.describe(small, executor="threads", format="arrow"), 20 * repeat))


if __name__ == "__main__":
    main()
