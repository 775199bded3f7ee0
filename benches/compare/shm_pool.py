"""NumPy + multiprocessing.shared_memory + Pool(2): the "what a Python user would write" parallel baseline.

The parent copies each column out of the mapped Arrow file into a SharedMemory block (nulls as NaN, so the
workers need no validity buffer), starts a Pool with one worker per core that attaches to the blocks, and
splits the rows into one range per worker. Partial states are merged in the parent with Chan et al.'s
pairwise update (mean and centred second moments; Σx² − (Σx)²/n would lose every digit of std(d) for
d = 1e9 + N(0,1)). In-process timing starts with the pool running and the data in shared memory.
"""
import multiprocessing as mp
from multiprocessing import shared_memory

import numpy as np

BINS = 100
_COLS = {}  # worker side: column name -> (SharedMemory, ndarray view)


def _attach(specs):
    for name, shm_name, n in specs:
        shm = shared_memory.SharedMemory(name=shm_name)
        _COLS[name] = (shm, np.ndarray((n,), dtype=np.float64, buffer=shm.buf))


def open_pool(path, cols):
    import tools

    table = tools._mmap_table(path, cols)
    blocks, specs = [], []
    for c in cols:
        arr = table.column(c).combine_chunks()
        values = np.asarray(arr.fill_null(np.nan) if arr.null_count else arr)
        # float64 blocks (integer keys such as k1 are int32): 8 bytes per value whatever the column's type.
        shm = shared_memory.SharedMemory(create=True, size=max(values.size * 8, 1))
        np.ndarray(values.shape, dtype=np.float64, buffer=shm.buf)[:] = values
        blocks.append(shm)
        specs.append((c, shm.name, values.size))
    workers = tools.cores()
    pool = mp.get_context("spawn").Pool(workers, initializer=_attach, initargs=(specs,))
    n = table.num_rows
    bounds = [(n * k // workers, n * (k + 1) // workers) for k in range(workers)]
    return {"pool": pool, "blocks": blocks, "cols": cols, "ranges": bounds}


def close_pool(state):
    state["pool"].close()
    state["pool"].join()
    for shm in state["blocks"]:
        shm.close()
        shm.unlink()


def _valid(name, lo, hi):
    x = _COLS[name][1][lo:hi]
    return x[~np.isnan(x)]


def _describe_part(args):
    cols, lo, hi = args
    out = []
    for c in cols:
        v = _valid(c, lo, hi)
        if v.size == 0:
            out.append((0, hi - lo, 0.0, 0.0, 0.0, np.inf, -np.inf))
            continue
        s = v.sum()
        mean = s / v.size
        d = v - mean
        out.append((v.size, hi - lo - v.size, s, mean, float(d @ d), v.min(), v.max()))
    return out


def describe(state):
    parts = state["pool"].map(_describe_part, [(state["cols"], lo, hi) for lo, hi in state["ranges"]])
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
    c, lo, hi = args
    x = _COLS[c][1][lo:hi]
    return np.nanmin(x), np.nanmax(x)


def _hist_part(args):
    c, lo, hi, mn, mx = args
    # Same (mn, mx, BINS) in every worker gives the same linspace edges, so the summed counts equal
    # numpy.histogram of the whole column.
    return np.histogram(_valid(c, lo, hi), bins=BINS, range=(mn, mx))[0]


def hist(state):
    c, pool = state["cols"][0], state["pool"]
    mm = pool.map(_minmax_part, [(c, lo, hi) for lo, hi in state["ranges"]])
    mn, mx = min(m[0] for m in mm), max(m[1] for m in mm)
    counts = sum(pool.map(_hist_part, [(c, lo, hi, mn, mx) for lo, hi in state["ranges"]]))
    return {"lo": mn, "hi": mx, "counts": counts.tolist()}


def _corr_part(args):
    cols, lo, hi = args
    full = {c: _COLS[c][1][lo:hi] for c in cols}
    nan = {c: np.isnan(x) for c, x in full.items()}
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
    parts = state["pool"].map(_corr_part, [(cols, lo, hi) for lo, hi in state["ranges"]])
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
    """Counts of the top 16 bits of the order key (float bits, sign-flipped) of one slice."""
    c, lo, hi = args
    v = _valid(c, lo, hi)
    bits = v.view(np.uint64)
    keys = np.where(bits >> 63 == 1, ~bits, bits | np.uint64(1 << 63))
    return np.bincount((keys >> np.uint64(48)).astype(np.int64), minlength=1 << 16)


def _collect_part(args):
    c, lo, hi, vlo, vhi = args
    v = _valid(c, lo, hi)
    return v[(v >= vlo) & (v <= vhi)]


def quantile(state):
    """Exact p50/p90/p99 of b by histogram selection: pass 1 counts key buckets in the pool, the parent
    finds each rank's bucket, pass 2 collects those buckets' values in the pool, the parent selects."""
    pool, ranges = state["pool"], state["ranges"]
    counts = sum(pool.map(_key_hist_part, [("b", lo, hi) for lo, hi in ranges]))
    n = int(counts.sum())
    cum = np.cumsum(counts)
    out = []
    for q in [0.5, 0.9, 0.99]:
        h = (n - 1) * q
        ranks = sorted({int(np.floor(h)), min(int(np.floor(h)) + 1, n - 1)})
        vals = []
        for r in ranks:
            b = int(np.searchsorted(cum, r, side="right"))
            base = int(cum[b - 1]) if b else 0
            klo, khi = np.uint64(b << 48), np.uint64((b << 48) | ((1 << 48) - 1))
            as_f = lambda k: (np.array([k ^ np.uint64(1 << 63) if k >> np.uint64(63) else ~k], dtype=np.uint64)).view(np.float64)[0]
            vlo, vhi = sorted([as_f(klo), as_f(khi)])
            got = np.concatenate(pool.map(_collect_part, [("b", lo, hi, vlo, vhi) for lo, hi in ranges]))
            vals.append(np.partition(got, r - base)[r - base])
        a, b2 = vals[0], vals[-1]
        t = h - np.floor(h)
        out.append(float(a + (b2 - a) * t if t < 0.5 else b2 - (b2 - a) * (1 - t)))
    return {"q": out}


def _groupby_part(args):
    key, lo, hi = args
    k, a = _COLS[key][1][lo:hi], _COLS["a"][1][lo:hi]
    uniq, inv, counts = np.unique(k, return_inverse=True, return_counts=True)
    return uniq, counts, np.bincount(inv, weights=a)


def groupby(state):
    """count, mean(a) by the first column: per worker np.unique + bincount, merged by key in the parent."""
    key = state["cols"][0]
    parts = state["pool"].map(_groupby_part, [(key, lo, hi) for lo, hi in state["ranges"]])
    keys = np.concatenate([p[0] for p in parts])
    uniq, inv = np.unique(keys, return_inverse=True)
    counts = np.bincount(inv, weights=np.concatenate([p[1] for p in parts]))
    sums = np.bincount(inv, weights=np.concatenate([p[2] for p in parts]))
    from tools import _first

    return {"groups": uniq.size, "first": _first(uniq, counts, sums / counts)}
