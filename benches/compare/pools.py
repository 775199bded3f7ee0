"""NumPy + multiprocessing.Pool, the two ways Python users parallelise a column statistic:

- `pickle` (the approach Python tutorials teach): the parent holds the columns as NumPy arrays and, on every
  call, splits them into one slice per worker and hands the slices to `Pool.map`, which pickles them through
  a pipe to the workers; the partial results come back pickled too.
- `shm`: the parent copies each column once into a `multiprocessing.shared_memory` block (at open, not timed
  in-process); the workers attach to the blocks in the Pool's initializer and each call sends only row ranges.

Both start a spawned Pool with one worker per core at open, keep nulls as NaN (floats; the integer keys of
`tally gen` have none), and merge the same partial states in the parent: mean and centred second moments with
Chan et al.'s pairwise update (Σx² − (Σx)²/n would lose every digit of std(d) for d = 1e9 + N(0,1)).
A part function takes `src`: a dict of arrays (pickled slices) or a (lo, hi) row range of the shared blocks.
"""
import multiprocessing as mp
from multiprocessing import shared_memory

import numpy as np

BINS = 100
TOP = 10
_COLS = {}  # shm worker side: column name -> (SharedMemory, ndarray view)


def _attach(specs):
    for name, shm_name, n, dtype in specs:
        shm = shared_memory.SharedMemory(name=shm_name)
        _COLS[name] = (shm, np.ndarray((n,), dtype=dtype, buffer=shm.buf))


def _columns(src):
    if isinstance(src, dict):
        return src
    lo, hi = src
    return {name: view[lo:hi] for name, (_, view) in _COLS.items()}


def _arrays(path, cols):
    """The columns as NumPy arrays: float nulls as NaN; an integer column with nulls is refused."""
    import tools

    table = tools.open_table(path, cols)
    out = {}
    for c in cols:
        arr = table.column(c).combine_chunks()
        if arr.null_count and not (arr.type.equals("double") or arr.type.equals("float")):
            raise ValueError(f"column {c}: integer nulls have no NaN to stand for them")
        out[c] = np.asarray(arr.fill_null(np.nan) if arr.null_count else arr)
    return out, table.num_rows


def _start(workers, specs=()):
    return mp.get_context("spawn").Pool(workers, initializer=_attach, initargs=(list(specs),))


def open_shm(path, cols):
    import tools

    arrays, n = _arrays(path, cols)
    blocks, specs = [], []
    for c, values in arrays.items():
        shm = shared_memory.SharedMemory(create=True, size=max(values.nbytes, 1))
        np.ndarray(values.shape, dtype=values.dtype, buffer=shm.buf)[:] = values
        blocks.append(shm)
        specs.append((c, shm.name, values.size, values.dtype.str))
    del arrays
    workers = tools.cores()
    bounds = [(n * k // workers, n * (k + 1) // workers) for k in range(workers)]
    return {"pool": _start(workers, specs), "blocks": blocks, "cols": cols, "sources": lambda: bounds}


def open_pickle(path, cols):
    import tools

    arrays, n = _arrays(path, cols)
    workers = tools.cores()
    bounds = [(n * k // workers, n * (k + 1) // workers) for k in range(workers)]
    # Slices are views; Pool.map pickles their bytes into the task queue on every call.
    sources = lambda: [{c: a[lo:hi] for c, a in arrays.items()} for lo, hi in bounds]
    return {"pool": _start(workers), "blocks": [], "cols": cols, "sources": sources}


def close(state):
    state["pool"].close()
    state["pool"].join()
    for shm in state["blocks"]:
        shm.close()
        shm.unlink()


def _map(state, fn, *extra):
    return state["pool"].map(fn, [(src, *extra) for src in state["sources"]()])


def _valid(x):
    if x.dtype.kind != "f":
        return x
    nan = np.isnan(x)
    return x[~nan] if nan.any() else x


def _describe_part(args):
    src, cols = args
    data = _columns(src)
    out = []
    for c in cols:
        x = data[c]
        v = _valid(x)
        if v.size == 0:
            out.append((0, x.size, 0.0, 0.0, 0.0, np.inf, -np.inf))
            continue
        s = v.sum()
        mean = s / v.size
        d = v - mean
        out.append((v.size, x.size - v.size, s, mean, float(d @ d), v.min(), v.max()))
    return out


def describe(state):
    parts = _map(state, _describe_part, state["cols"])
    res = {}
    for k, c in enumerate(state["cols"]):
        n, z, s, mean, m2, mn, mx = parts[0][k]
        for p in parts[1:]:
            nb, zb, sb, meanb, m2b, mnb, mxb = p[k]
            tot = n + nb
            if nb:
                delta = meanb - mean
                m2 = m2 + m2b + delta * delta * n * nb / tot
                mean = mean + delta * nb / tot
            n, z, s, mn, mx = tot, z + zb, s + sb, min(mn, mnb), max(mx, mxb)
        res[c] = {"count": n, "null_count": z, "min": mn, "max": mx, "sum": s, "mean": s / n,
                  "std": float(np.sqrt(m2 / (n - 1)))}
    return res


def _minmax_part(args):
    src, c = args
    x = _columns(src)[c]
    return np.nanmin(x), np.nanmax(x)


def _hist_part(args):
    src, c, mn, mx = args
    # Same (mn, mx, BINS) in every worker gives the same linspace edges, so the summed counts equal
    # numpy.histogram of the whole column.
    return np.histogram(_valid(_columns(src)[c]), bins=BINS, range=(mn, mx))[0]


def hist(state):
    c = state["cols"][0]
    mm = _map(state, _minmax_part, c)
    mn, mx = min(m[0] for m in mm), max(m[1] for m in mm)
    counts = sum(_map(state, _hist_part, c, mn, mx))
    return {"lo": mn, "hi": mx, "counts": counts.tolist()}


def _corr_part(args):
    src, cols = args
    full = _columns(src)
    nan = {c: np.isnan(full[c]) for c in cols}
    out = []
    for i in range(len(cols)):
        for j in range(i + 1, len(cols)):
            x, y = full[cols[i]], full[cols[j]]
            keep = ~(nan[cols[i]] | nan[cols[j]])
            if not keep.all():
                x, y = x[keep], y[keep]
            mx, my = x.mean(), y.mean()
            dx, dy = x - mx, y - my
            out.append((x.size, mx, my, float(dx @ dy), float(dx @ dx), float(dy @ dy)))
    return out


def corr(state):
    cols = state["cols"]
    parts = _map(state, _corr_part, cols)
    pairs = [(i, j) for i in range(len(cols)) for j in range(i + 1, len(cols))]
    vals = []
    for k in range(len(pairs)):
        n, mx, my, cxy, cxx, cyy = parts[0][k]
        for p in parts[1:]:
            nb, mxb, myb, cxyb, cxxb, cyyb = p[k]
            tot = n + nb
            dx, dy = mxb - mx, myb - my
            f = n * nb / tot
            cxy, cxx, cyy = cxy + cxyb + dx * dy * f, cxx + cxxb + dx * dx * f, cyy + cyyb + dy * dy * f
            mx, my, n = mx + dx * nb / tot, my + dy * nb / tot, tot
        vals.append(cxy / np.sqrt(cxx * cyy) if cxx > 0 and cyy > 0 else None)
    from tools import _symmetric

    return {"matrix": _symmetric(len(cols), pairs, vals)}


def _key_hist_part(args):
    """Counts of the top 16 bits of the order keys of one slice."""
    src, c = args
    # The top 16 bits of the order key straight from the top 16 bits of the float: positives get the sign
    # bit set, negatives are inverted (order keys: unsigned order is numeric order).
    top = (_valid(_columns(src)[c]).view(np.uint64) >> np.uint64(48)).astype(np.uint16)
    top = np.where(top >= 0x8000, np.uint16(0xFFFF) - top, top + np.uint16(0x8000))
    return np.bincount(top, minlength=1 << 16)


def _collect_part(args):
    """The values of one slice inside any of the (lo, hi) ranges, one array per range, in one pass."""
    src, c, ranges = args
    v = _valid(_columns(src)[c])
    return [v[(v >= lo) & (v <= hi)] for lo, hi in ranges]


def _float_of_key(k):
    k = np.uint64(k)
    bits = k ^ np.uint64(1 << 63) if k >> np.uint64(63) else ~k
    return np.array([bits], dtype=np.uint64).view(np.float64)[0]


def quantile(state):
    """Exact p50/p90/p99 (linear) of b by histogram selection: pass 1 counts key buckets in the pool, the
    parent finds the bucket of every wanted rank, pass 2 collects the values of all those buckets in the
    pool (one pass over the column for every rank), the parent selects."""
    counts = sum(_map(state, _key_hist_part, "b"))
    n = int(counts.sum())
    cum = np.cumsum(counts)
    wanted = []  # (q, h, ranks)
    for q in [0.5, 0.9, 0.99]:
        h = (n - 1) * q
        wanted.append((h, sorted({int(np.floor(h)), min(int(np.floor(h)) + 1, n - 1)})))
    buckets = sorted({int(np.searchsorted(cum, r, side="right")) for _, ranks in wanted for r in ranks})
    ranges = [sorted([_float_of_key(b << 48), _float_of_key((b << 48) | ((1 << 48) - 1))]) for b in buckets]
    parts = _map(state, _collect_part, "b", ranges)
    got = {b: np.concatenate([p[i] for p in parts]) for i, b in enumerate(buckets)}
    out = []
    for h, ranks in wanted:
        vals = []
        for r in ranks:
            b = int(np.searchsorted(cum, r, side="right"))
            base = int(cum[b - 1]) if b else 0
            vals.append(np.partition(got[b], r - base)[r - base])
        a, b2 = vals[0], vals[-1]
        t = h - np.floor(h)
        # NumPy's linear rule, in the form it evaluates (lerp from the nearer end).
        out.append(float(a + (b2 - a) * t if t < 0.5 else b2 - (b2 - a) * (1 - t)))
    return {"q": out}


def _groupby_part(args):
    from tools import group_sums

    src, key = args
    data = _columns(src)
    return group_sums(data[key], data["a"])


def groupby(state):
    """count, mean(a) by the first column: per worker np.bincount over key - min for a small integer range
    (tools.group_sums), else np.unique + bincount; merged by key in the parent."""
    parts = _map(state, _groupby_part, state["cols"][0])
    uniq, inv = np.unique(np.concatenate([p[0] for p in parts]), return_inverse=True)
    counts = np.bincount(inv, weights=np.concatenate([p[1] for p in parts]))
    sums = np.bincount(inv, weights=np.concatenate([p[2] for p in parts]))
    from tools import _first

    return {"groups": uniq.size, "first": _first(uniq, counts, sums / counts)}


def _counts_part(args):
    src, key = args
    return np.unique(_valid(_columns(src)[key]), return_counts=True)


def _merged_counts(state):
    parts = _map(state, _counts_part, state["cols"][0])
    uniq, inv = np.unique(np.concatenate([p[0] for p in parts]), return_inverse=True)
    return uniq, np.bincount(inv, weights=np.concatenate([p[1] for p in parts])).astype(np.int64)


def distinct(state):
    """Exact distinct count of the first column: per worker np.unique, union in the parent."""
    return {"distinct": int(_merged_counts(state)[0].size)}


def top(state):
    """The TOP most frequent values of the first column, ties by value ascending (tally's order)."""
    uniq, counts = _merged_counts(state)
    from tools import _top

    return _top(uniq, counts)
