"""Exact reference values for the accuracy check: the mean of each describe column and std(d), ddof 1.

Independent of every tool compared: no float accumulation at all. Each finite float64 is split exactly into
an integer mantissa m (|m| < 2^53) and a power of two, values are grouped by exponent, and the mantissas are
summed as int64 limbs small enough never to overflow (m as 2 limbs of ≤ 27 bits for Σx; 3 limbs of 18 bits,
whose products stay below 2^37, for Σx²). Python integers and `fractions.Fraction` combine the groups:
Σx and Σx² are exact rationals, so mean = Σx/n and var = (Σx² − (Σx)²/n)/(n − 1) are exact, rounded once
(`float(Fraction)` rounds correctly; the square root is taken with 50 significant digits by `decimal`).

    python reference.py FILE        prints the JSON;     python reference.py --self-test
"""
import json
import sys
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np

COLUMNS = ["a", "b", "c", "d"]
STD_COLUMNS = ["d"]
BLOCK = 1 << 24  # rows per block: Σ of 2^37-bounded limbs over a block stays below 2^63


def _groups(x):
    """Mantissas sorted by exponent, the exponents of the groups and where each group starts: x = m·2^e."""
    f, e = np.frexp(x)
    m = np.ldexp(f, 53).astype(np.int64)  # exact: |f| in [0.5, 1)
    e = e.astype(np.int16)  # -1073..1024: a 16-bit key, which NumPy's stable sort radix-sorts
    order = np.argsort(e, kind="stable")
    m, e = m[order], e[order]
    starts = np.flatnonzero(np.r_[True, e[1:] != e[:-1]])
    return m, e[starts].astype(np.int64) - 53, starts


def _scaled(total, exp):
    return Fraction(total * 2**exp) if exp >= 0 else Fraction(total, 2**-exp)


def sums(x):
    """Exact (Σx, Σx²) of a float64 array of finite values, as Fractions."""
    s1, s2 = Fraction(0), Fraction(0)
    for lo in range(0, x.size, BLOCK):
        m, exps, starts = _groups(x[lo:lo + BLOCK])
        hi = m >> 26
        low = m - (hi << 26)
        a = m >> 36
        b = (m >> 18) & ((1 << 18) - 1)
        c = m & ((1 << 18) - 1)
        r = lambda v: [int(t) for t in np.add.reduceat(v, starts)]
        limbs1 = zip(r(hi), r(low))
        # m² = a²·2^72 + 2ab·2^54 + (b² + 2ac)·2^36 + 2bc·2^18 + c²
        limbs2 = zip(r(a * a), r(a * b), r(b * b), r(a * c), r(b * c), r(c * c))
        for e, (h, l), (aa, ab, bb, ac, bc, cc) in zip(exps.tolist(), limbs1, limbs2):
            s1 += _scaled((h << 26) + l, e)
            sq = (aa << 72) + (ab << 55) + ((bb + 2 * ac) << 36) + (bc << 19) + cc
            s2 += _scaled(sq, 2 * e)
    return s1, s2


def mean_std(x, ddof=1):
    n = x.size
    s1, s2 = sums(x)
    var = (s2 - s1 * s1 / n) / (n - ddof)
    with localcontext() as ctx:
        ctx.prec = 50
        std = float((Decimal(var.numerator) / Decimal(var.denominator)).sqrt())
    return float(s1 / n), std


def exact(path):
    """{col: {"mean": exact mean, "std": exact std (STD_COLUMNS only)}} of an Arrow IPC file's columns."""
    import pyarrow as pa

    table = pa.ipc.open_file(pa.memory_map(path)).read_all()
    out = {}
    for c in COLUMNS:
        x = np.asarray(table.column(c).drop_null().combine_chunks())
        if not np.isfinite(x).all():
            out[c] = {"mean": None, "std": None}
            continue
        if c in STD_COLUMNS:
            mean, std = mean_std(x)
            out[c] = {"mean": mean, "std": std}
        else:
            out[c] = {"mean": float(sums(x)[0] / x.size)}
    return out


def self_test():
    """Against `sum(map(Fraction, x))`: values over many binades, both signs, cancellation, ties of exponents."""
    rng = np.random.default_rng(7)
    cases = [rng.standard_normal(5000) * 10.0 ** rng.integers(-300, 300, 5000),
             1e9 + rng.standard_normal(20000), np.array([1e308, -1e308, 5e-324, 1.0]), rng.lognormal(0, 1, 3000)]
    for x in cases:
        s1, s2 = sums(x)
        assert s1 == sum(map(Fraction, x.tolist())), "Σx"
        assert s2 == sum(Fraction(v) ** 2 for v in x.tolist()), "Σx²"
    x = cases[1]
    n, f = x.size, [Fraction(v) for v in x.tolist()]
    mu = sum(f) / n
    var = sum((v - mu) ** 2 for v in f) / (n - 1)
    mean, std = mean_std(x)
    assert mean == float(mu) and abs(std - float(var) ** 0.5) <= 2 ** -52 * std, (mean, std)
    print("reference self-test: ok")


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        self_test()
    else:
        print(json.dumps(exact(sys.argv[1])))
