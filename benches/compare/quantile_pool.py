"""Exact p50/p90/p99 of b: the shared-memory Pool(2) (pools.quantile, in-process after a warm-up) interleaved
with `tally quantile` as a whole process. Usage: benches/compare/.venv/bin/python benches/compare/quantile_pool.py
FILE.arrow target/release/tally (from the repository root)."""
import sys, time, subprocess, statistics
sys.path.insert(0, __import__("os").path.dirname(__file__))
import pools

def main():
    path = sys.argv[1]; tally = sys.argv[2]
    st = pools.open_shm(path, ["b"])
    try:
        pools.quantile(st)
        tp, tt = [], []
        for _ in range(9):
            t = time.perf_counter(); r = pools.quantile(st); tp.append(time.perf_counter() - t)
            t = time.perf_counter(); out = subprocess.run([tally, "quantile", path, "--column", "b", "--q", "0.5,0.9,0.99", "--format", "json"], capture_output=True, check=True); tt.append(time.perf_counter() - t)
        print("pool in-process median %.3f s (%s)" % (statistics.median(tp), " ".join("%.3f" % x for x in tp)))
        print("tally whole process median %.3f s (%s)" % (statistics.median(tt), " ".join("%.3f" % x for x in tt)))
        print(r["q"]); print(out.stdout.decode()[:400])
    finally:
        pools.close(st)


if __name__ == "__main__":
    main()
