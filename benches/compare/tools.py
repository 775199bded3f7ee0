"""Every task written as a user of each Python tool would write it.

Every tool has `open(path, cols)` (load or map the file: not timed in-process; Arrow IPC, Parquet or CSV by
the file's extension) and one function per task that takes the opened state and returns a normalised result,
so compare.py can check the tools against each other:

    describe -> {col: {count, null_count, min, max, sum, mean, std}}   (std with ddof=1)
    hist     -> {lo, hi, counts}        100 equal-width bins of the first column over its min..max
    corr     -> {matrix}                Pearson, pairwise-complete (null in either value drops the row)
    quantile, quantile_approx -> {q}    p50, p90, p99 of b (linear interpolation)
    groupby-K -> {groups, first}        count, mean(a) by K: group count and the FIRST groups in key order
    distinct-k2, approx-distinct-k2 -> {distinct}
    top-k2   -> {top: [[value, count]]} the TOP most frequent values, ties by value ascending

`python -c "import tools; tools.main()" TOOL TASK FILE COLS` runs open + task in a fresh interpreter and prints
the result as JSON: the whole-process measurement (what a user waits for, imports included).
"""
import json
import os
import sys

BINS = 100
# Group-by results are compared on the group count and the first FIRST groups in key order.
FIRST = 3


def cores():
    return len(os.sched_getaffinity(0))


TOP = 10


def open_table(path, cols):
    """A pyarrow Table of `cols`: zero-copy over the mapped file for Arrow IPC, decoded for Parquet and CSV."""
    import pyarrow as pa

    if path.endswith(".parquet"):
        import pyarrow.parquet as pq

        return pq.read_table(path, columns=cols)
    if path.endswith(".csv"):
        import pyarrow.csv as pcsv

        return pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(include_columns=cols))
    # Zero-copy: the record batches point into the mapped file.
    return pa.ipc.open_file(pa.memory_map(path)).read_all().select(cols)


# ---------------------------------------------------------------- Polars
def polars_open(path, cols):
    import polars as pl

    if path.endswith(".parquet"):
        return pl.read_parquet(path, columns=cols)
    if path.endswith(".csv"):
        return pl.read_csv(path, columns=cols)
    # Polars 2 removed read_ipc(memory_map=...): read_ipc loads the columns into Polars' own buffers.
    return pl.read_ipc(path, columns=cols)


def polars_describe(df):
    import polars as pl

    exprs = []
    for c in df.columns:
        x = pl.col(c)
        exprs += [x.count().alias(c + ".count"), x.null_count().alias(c + ".null_count"), x.min().alias(c + ".min"),
                  x.max().alias(c + ".max"), x.sum().alias(c + ".sum"), x.mean().alias(c + ".mean"),
                  x.std().alias(c + ".std")]
    row = df.select(exprs).row(0, named=True)
    return {c: {k.split(".", 1)[1]: v for k, v in row.items() if k.split(".", 1)[0] == c} for c in df.columns}


def polars_hist(df):
    s = df[df.columns[0]]
    # Series.hist: bins (lo, hi] with the first one closed, numpy's are [lo, hi) with the last one closed, so
    # a value exactly on an inner edge lands one bin apart (the agreement check would flag it).
    h = s.hist(bin_count=BINS, include_category=False, include_breakpoint=False)
    return {"lo": s.min(), "hi": s.max(), "counts": h.to_series(h.width - 1).to_list()}


def polars_corr(df):
    import polars as pl

    cols = df.columns
    pairs = [(i, j) for i in range(len(cols)) for j in range(i + 1, len(cols))]
    # pl.corr drops the rows where either value is null (pairwise-complete).
    row = df.select([pl.corr(cols[i], cols[j]).alias(f"{i},{j}") for i, j in pairs]).row(0)
    return {"matrix": _symmetric(len(cols), pairs, row)}


# ---------------------------------------------------------------- DuckDB
def duckdb_open(path, cols):
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads TO {cores()}")
    con.execute("SET enable_progress_bar = false")  # it draws on stdout, which carries the result
    if path.endswith((".parquet", ".csv")):
        # Its own readers, materialised once (not timed in-process), as a user would load a table.
        reader = "read_parquet" if path.endswith(".parquet") else "read_csv"
        con.execute(f"CREATE TABLE t AS SELECT {', '.join(cols)} FROM {reader}('{path}')")
        return con, cols
    # DuckDB reads the mapped Arrow table in place (replacement scan); it has no built-in Arrow IPC file reader.
    con.register("t", open_table(path, cols))
    return con, cols


def duckdb_describe(state):
    con, cols = state
    parts = []
    for c in cols:
        parts += [f"count({c})", f"count(*) - count({c})", f"min({c})", f"max({c})", f"sum({c})", f"avg({c})",
                  f"stddev_samp({c})"]
    row = con.execute("SELECT " + ", ".join(parts) + " FROM t").fetchone()
    keys = ["count", "null_count", "min", "max", "sum", "mean", "std"]
    return {c: dict(zip(keys, row[i * 7:(i + 1) * 7])) for i, c in enumerate(cols)}


def duckdb_hist(state):
    con, cols = state
    a = cols[0]
    # numpy.histogram's rule in SQL: edges e_k = lo + k*step (linspace), first guess floor((x-lo)/(hi-lo)*N),
    # then one step down when x < e_i and one up when x >= e_{i+1} (the last bin is closed). DuckDB's own
    # histogram() takes explicit boundaries with x <= boundary bins, not numpy's semantics.
    q = f"""
    WITH r AS (SELECT min({a}) AS lo, max({a}) AS hi FROM t),
    g AS (SELECT {a} AS x, lo, hi, (hi - lo) / {BINS} AS step,
                 least(CAST(floor(({a} - lo) / (hi - lo) * {BINS}) AS BIGINT), {BINS - 1}) AS i
          FROM t, r WHERE {a} IS NOT NULL)
    SELECT i - CAST(x < i * step + lo AS BIGINT)
             + CAST(i < {BINS - 1} AND x >= (i + 1) * step + lo AS BIGINT) AS bin, count(*) AS n,
           any_value(lo), any_value(hi)
    FROM g GROUP BY bin ORDER BY bin"""
    rows = con.execute(q).fetchall()
    counts = [0] * BINS
    for b, n, _, _ in rows:
        counts[b] = n
    return {"lo": rows[0][2], "hi": rows[0][3], "counts": counts}


def duckdb_corr(state):
    con, cols = state
    pairs = [(i, j) for i in range(len(cols)) for j in range(i + 1, len(cols))]
    # corr(x, y) is an aggregate: rows with a NULL in either argument are skipped (pairwise-complete).
    row = con.execute("SELECT " + ", ".join(f"corr({cols[i]}, {cols[j]})" for i, j in pairs) + " FROM t").fetchone()
    return {"matrix": _symmetric(len(cols), pairs, row)}


# ---------------------------------------------------------------- NumPy (pyarrow mmap -> numpy)
def numpy_open(path, cols):
    import numpy as np

    table = open_table(path, cols)
    out = {}
    for c in cols:
        col = table.column(c)
        # 50 record batches: combine_chunks copies them into one buffer (np arrays are contiguous); nulls
        # become NaN plus a validity mask, as a NumPy user would hold them.
        arr = col.combine_chunks()
        if arr.null_count:
            valid = np.asarray(arr.is_valid())
            out[c] = (np.asarray(arr.fill_null(float("nan"))), valid)
        else:
            out[c] = (np.asarray(arr), None)
    return out


def numpy_describe(arrays):
    res = {}
    for c, (x, valid) in arrays.items():
        v = x if valid is None else x[valid]
        s = v.sum()
        res[c] = {"count": v.size, "null_count": x.size - v.size, "min": v.min(), "max": v.max(), "sum": s,
                  "mean": s / v.size, "std": v.std(ddof=1)}
    return res


def numpy_hist(arrays):
    import numpy as np

    x, valid = next(iter(arrays.values()))
    v = x if valid is None else x[valid]
    counts, edges = np.histogram(v, bins=BINS)
    return {"lo": edges[0], "hi": edges[-1], "counts": counts.tolist()}


def numpy_corr(arrays):
    import numpy as np

    cols = list(arrays)
    pairs = [(i, j) for i in range(len(cols)) for j in range(i + 1, len(cols))]
    vals = []
    for i, j in pairs:
        (x, vx), (y, vy) = arrays[cols[i]], arrays[cols[j]]
        # np.corrcoef has no null handling (a NaN poisons the whole row of the matrix): keep the rows where
        # both are valid, pair by pair. Listwise deletion (np.corrcoef of the complete rows) would change
        # every pair by the 1% of rows where c is null.
        m = vx if vy is None else (vy if vx is None else vx & vy)
        if m is not None:
            x, y = x[m], y[m]
        vals.append(np.corrcoef(x, y)[0, 1])
    return {"matrix": _symmetric(len(cols), pairs, vals)}


# ---------------------------------------------------------------- group-by and distinct (k1/k2 tasks)
# groupby-KEY -> {groups, first: [[key, count, mean(a)] x FIRST]} (groups in ascending key order);
# distinct -> {distinct}. The state holds [key, "a"] (group-by) or [key] (distinct), key first.
def _first(keys, counts, means):
    return [[int(k), int(c), float(m)] for k, c, m in zip(keys[:FIRST], counts[:FIRST], means[:FIRST])]


def polars_groupby(df):
    import polars as pl

    key = df.columns[0]
    g = df.group_by(key).agg(pl.len().alias("count"), pl.col("a").mean().alias("mean"))
    head = g.sort(key).head(FIRST)
    return {"groups": g.height, "first": _first(head[key].to_list(), head["count"].to_list(), head["mean"].to_list())}


def polars_distinct(df):
    return {"distinct": df[df.columns[0]].drop_nulls().n_unique()}


def polars_approx_distinct(df):
    import polars as pl

    return {"distinct": df.select(pl.col(df.columns[0]).approx_n_unique()).item()}


def duckdb_groupby(state):
    con, cols = state
    key = cols[0]
    # One aggregation: the window counts the groups, the sort keeps the first ones.
    rows = con.execute(f"""WITH g AS (SELECT {key} AS k, count(*) AS c, avg(a) AS m FROM t GROUP BY {key})
        SELECT k, c, m, count(*) OVER () FROM g ORDER BY k LIMIT {FIRST}""").fetchall()
    return {"groups": rows[0][3], "first": _first([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])}


def duckdb_distinct(state):
    con, cols = state
    return {"distinct": con.execute(f"SELECT count(DISTINCT {cols[0]}) FROM t").fetchone()[0]}


def duckdb_approx_distinct(state):
    con, cols = state
    return {"distinct": con.execute(f"SELECT approx_count_distinct({cols[0]}) FROM t").fetchone()[0]}


# Integer key ranges up to this many values are grouped by np.bincount over key - min (no sort), the way
# NumPy users group small integer codes; wider ones by np.unique (a sort).
BINCOUNT_RANGE = 1 << 20


def group_sums(k, a):
    """(keys, counts, sums of a) of the keys k that occur, ascending: np.bincount over k - min for a small
    integer range, else np.unique's inverse (a sort) then np.bincount."""
    import numpy as np

    if k.size and k.dtype.kind in "iu":
        lo, hi = int(k.min()), int(k.max())
        if hi - lo < BINCOUNT_RANGE:
            codes = (k - lo) if lo else k
            if codes.dtype.kind == "u":  # np.bincount takes no uint64 (no safe cast to intp)
                codes = codes.astype(np.intp)
            counts = np.bincount(codes, minlength=hi - lo + 1)
            sums = np.bincount(codes, weights=a, minlength=hi - lo + 1)
            seen = np.flatnonzero(counts)
            return seen + lo, counts[seen], sums[seen]
    uniq, inv, counts = np.unique(k, return_inverse=True, return_counts=True)
    return uniq, counts, np.bincount(inv, weights=a)


def numpy_groupby(arrays):
    key = next(iter(arrays))
    uniq, counts, sums = group_sums(arrays[key][0], arrays["a"][0])
    return {"groups": uniq.size, "first": _first(uniq, counts, sums / counts)}


def numpy_distinct(arrays):
    import numpy as np

    return {"distinct": np.unique(next(iter(arrays.values()))[0]).size}


def _top(values, counts):
    """The TOP most frequent (value, count) pairs, ties by value ascending, from unique values and counts."""
    import numpy as np

    order = np.lexsort((values, -np.asarray(counts)))[:TOP]
    return {"top": [[int(values[i]), int(counts[i])] for i in order]}


def polars_top(df):
    import polars as pl

    key = df.columns[0]
    g = df.group_by(key).agg(pl.len().alias("n")).sort(["n", key], descending=[True, False]).head(TOP)
    return {"top": [[int(k), int(n)] for k, n in g.iter_rows()]}


def duckdb_top(state):
    con, cols = state
    k = cols[0]
    rows = con.execute(f"SELECT {k}, count(*) AS n FROM t WHERE {k} IS NOT NULL GROUP BY {k} "
                       f"ORDER BY n DESC, {k} LIMIT {TOP}").fetchall()
    return {"top": [[int(v), int(n)] for v, n in rows]}


def numpy_top(arrays):
    import numpy as np

    return _top(*np.unique(next(iter(arrays.values()))[0], return_counts=True))


def _symmetric(n, pairs, vals):
    m = [[1.0 if i == j else None for j in range(n)] for i in range(n)]
    for (i, j), v in zip(pairs, vals):
        m[i][j] = m[j][i] = None if v is None else float(v)
    return m


QS = [0.5, 0.9, 0.99]


def polars_quantile(df):
    import polars as pl

    return {"q": [df.select(pl.col("b").quantile(q, "linear")).item() for q in QS]}


def polars_quantile_approx(df):
    import polars as pl

    return {"q": [df.select(pl.col("b").approx_quantile(q)).item() for q in QS]}


def duckdb_quantile(state):
    con, _ = state
    return {"q": list(con.execute(f"SELECT quantile_cont(b, {QS}) FROM t").fetchone()[0])}


def duckdb_quantile_approx(state):
    con, _ = state
    return {"q": [con.execute(f"SELECT approx_quantile(b, {q}) FROM t").fetchone()[0] for q in QS]}


def numpy_quantile(arrays):
    import numpy as np

    x, valid = arrays["b"]
    v = x if valid is None else x[valid]
    return {"q": list(np.quantile(v, QS))}


def pool_open(kind):
    def run(path, cols):
        import pools

        return getattr(pools, "open_" + kind)(path, cols)

    return run


def pool_task(task):
    def run(state):
        import pools

        return getattr(pools, task.split("-")[0])(state)

    return run


POOL_TASKS = ("describe", "hist", "corr", "groupby-k1", "groupby-k2", "quantile", "distinct-k2", "top-k2")


TOOLS = {
    "polars": (polars_open, {"describe": polars_describe, "hist": polars_hist, "corr": polars_corr,
                             "groupby-k1": polars_groupby, "groupby-k2": polars_groupby,
                             "distinct-k2": polars_distinct, "approx-distinct-k2": polars_approx_distinct,
                             "quantile": polars_quantile, "quantile_approx": polars_quantile_approx,
                             "top-k2": polars_top}),
    "duckdb": (duckdb_open, {"describe": duckdb_describe, "hist": duckdb_hist, "corr": duckdb_corr,
                             "groupby-k1": duckdb_groupby, "groupby-k2": duckdb_groupby,
                             "distinct-k2": duckdb_distinct, "approx-distinct-k2": duckdb_approx_distinct,
                             "quantile": duckdb_quantile, "quantile_approx": duckdb_quantile_approx,
                             "top-k2": duckdb_top}),
    "numpy": (numpy_open, {"describe": numpy_describe, "hist": numpy_hist, "corr": numpy_corr,
                           "groupby-k1": numpy_groupby, "groupby-k2": numpy_groupby, "distinct-k2": numpy_distinct,
                           "quantile": numpy_quantile, "top-k2": numpy_top}),
    "numpy-pickle-pool": (pool_open("pickle"), {t: pool_task(t) for t in POOL_TASKS}),
    "numpy-shm-pool": (pool_open("shm"), {t: pool_task(t) for t in POOL_TASKS}),
}


def close(tool, state):
    if tool.endswith("-pool"):
        import pools

        pools.close(state)
    elif tool == "duckdb":
        state[0].close()


def plain(v):
    """JSON-ready copy of a result (NumPy scalars to Python numbers)."""
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if hasattr(v, "item"):
        return v.item()
    return v


def main():
    tool, task, path, cols = sys.argv[1:5]
    opener, tasks = TOOLS[tool]
    state = opener(path, cols.split(","))
    try:
        print(json.dumps(plain(tasks[task](state))))
    finally:
        close(tool, state)


if __name__ == "__main__":
    main()
