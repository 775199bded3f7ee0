"""tally from Python: fast, exact, parallel statistics over Arrow files.

Each function runs the ``tally`` subcommand of its name in-process, through the CLI's own argument parser
and runner, so results are the CLI's to the bit. Keyword arguments are the CLI's flags with ``_`` for ``-``
(``columns=["a", "b"]`` is ``--columns a,b``, ``exact=True`` is ``--exact``, ``where="k1 < 5"`` is
``--where``). Results are the JSON output as dicts (``format="json"``, the default), or a table with
``format="arrow"`` (``pyarrow.Table``), ``"polars"`` or ``"capsule"`` (any Arrow PyCapsule consumer).

Subcommands without a function here (newer than this file) are still callable: ``tally.run("name", path,
flag=value)``, or ``tally.name(path, flag=value)`` for every name in :func:`commands`.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

from . import _native
from ._run import arguments, run, worker_binary, worker_command
from .errors import (
    Cancelled,
    InputError,
    InternalError,
    ProtocolError,
    TallyError,
    TallyIOError,
    UsageError,
    WorkerError,
)

__all__ = [
    "Cancelled",
    "InputError",
    "InternalError",
    "ProtocolError",
    "TallyError",
    "TallyIOError",
    "UsageError",
    "WorkerError",
    "arguments",
    "commands",
    "convert",
    "corr",
    "describe",
    "distinct",
    "gen",
    "groupby",
    "hist",
    "merge",
    "quantile",
    "run",
    "schema",
    "top",
    "worker_binary",
    "worker_command",
]



def commands() -> dict[str, str]:
    """The subcommands of this build's ``tally``, with their one-line help."""
    return dict(_native.commands())


def describe(
    path: str | os.PathLike[str],
    *,
    columns: Sequence[str] | None = None,
    exact: bool = False,
    ddof: int | None = None,
    where: str | None = None,
    workers: int | None = None,
    executor: str | None = None,
    chunk_rows: int | None = None,
    format: str = "json",
    **flags: Any,
) -> Any:
    """Count, nulls, NaN, min, max, sum, mean, var, std, skewness and kurtosis of each column
    (``tally describe``).

    ``columns``: the columns in output order (default: all). Sums and means of float columns are correctly
    rounded by default (``compensated=True`` asks for the compensated sum instead; ``exact=True`` is kept for
    older code). ``ddof``: 1 (default) for the sample variance, 0 for the population one. ``where``: an SQL
    filter. ``workers``/``executor``/``chunk_rows``: as the CLI's (``"processes"``, ``"threads"``,
    ``"serial"``; results are bit-identical). Other flags (``save_state=``, ``chunk_timeout=``, ...) pass
    through. Returns the JSON output as a dict (``result["columns"][i]["mean"]``) or a table (``format=``).
    """
    return run(
        "describe", path, format=format, columns=columns, exact=exact, ddof=ddof, where=where,
        workers=workers, executor=executor, chunk_rows=chunk_rows, **flags,
    )  # fmt: skip


def hist(
    path: str | os.PathLike[str],
    *,
    column: str,
    bins: int | None = None,
    edges: Sequence[float] | None = None,
    range: tuple[float, float] | None = None,
    where: str | None = None,
    workers: int | None = None,
    executor: str | None = None,
    format: str = "json",
    **flags: Any,
) -> Any:
    """Histogram of one numeric column with NumPy's equal-width bins or explicit ``edges``, under- and
    overflow counted apart (``tally hist``).

    ``bins``: number of bins (default 10, as ``numpy.histogram``). ``range``: ``(lo, hi)`` (default: the
    column's finite min and max). ``plot="h.svg"`` also draws it. Returns a dict with ``edges`` and
    ``counts``, or a table (``format=``).
    """
    return run(
        "hist", path, format=format, column=column, bins=bins, edges=edges, range=range, where=where,
        workers=workers, executor=executor, **flags,
    )  # fmt: skip


def corr(
    path: str | os.PathLike[str],
    *,
    columns: Sequence[str],
    cov: bool = False,
    ddof: int | None = None,
    where: str | None = None,
    workers: int | None = None,
    executor: str | None = None,
    format: str = "json",
    **flags: Any,
) -> Any:
    """Pearson correlation (or with ``cov=True`` the covariance) matrix of numeric columns,
    pairwise-complete (``tally corr``). Returns a dict with the matrix, or a table (``format=``)."""
    return run(
        "corr", path, format=format, columns=columns, cov=cov, ddof=ddof, where=where, workers=workers,
        executor=executor, **flags,
    )  # fmt: skip


def quantile(
    path: str | os.PathLike[str],
    *,
    column: str,
    q: Sequence[float | str],
    method: str | None = None,
    approx: bool = False,
    rel_error: float | None = None,
    where: str | None = None,
    workers: int | None = None,
    executor: str | None = None,
    format: str = "json",
    **flags: Any,
) -> Any:
    """Quantiles of one numeric column (``tally quantile``): exact, with NumPy's ``method`` (``"linear"``
    default, ``"lower"``, ``"higher"``, ``"nearest"``, ``"midpoint"``) and the rank computed exactly from the
    decimal text of each ``q`` (pass strings such as ``"0.29"`` to keep it exact), in a few passes and bounded
    memory; or with ``approx=True`` from a one-pass sketch within relative error ``rel_error`` (default 0.01).
    Returns ``{"column", "method", "count", "quantiles": [{"q", "value"}], "exact", ...}``."""
    return run(
        "quantile", path, format=format, column=column, q=[str(x) for x in q], method=method, approx=approx,
        rel_error=rel_error, where=where, workers=workers, executor=executor, **flags,
    )  # fmt: skip


def groupby(
    path: str | os.PathLike[str],
    *,
    by: Sequence[str],
    agg: Sequence[str] | str,
    sort: str | None = None,
    desc: bool = False,
    limit: int | None = None,
    where: str | None = None,
    workers: int | None = None,
    executor: str | None = None,
    format: str = "json",
    **flags: Any,
) -> Any:
    """Aggregations per distinct key (``tally groupby``): ``by=["k1"]``, ``agg=["count", "mean(a)", "std(a)"]``
    (or the CLI's comma-separated text), sorted by key unless ``sort=`` (with ``desc=``), ``limit=`` groups.
    Exact integer sums, compensated float sums, bit-identical for every worker count. Returns
    ``{"by", "aggregations", "group_count", "groups": [{"key": {...}, ...}]}`` or a table (``format=``)."""
    agg = agg if isinstance(agg, str) else ",".join(agg)
    return run(
        "groupby", path, format=format, by=by, agg=agg, sort=sort, desc=desc, limit=limit, where=where,
        workers=workers, executor=executor, **flags,
    )  # fmt: skip


def distinct(
    path: str | os.PathLike[str],
    *,
    columns: Sequence[str],
    approx: bool = False,
    where: str | None = None,
    format: str = "json",
    **flags: Any,
) -> Any:
    """Distinct values per column (``tally distinct``), exact or with ``approx=True`` a HyperLogLog estimate
    with its error bound; nulls and NaN reported apart."""
    return run("distinct", path, format=format, columns=columns, approx=approx, where=where, **flags)


def top(
    path: str | os.PathLike[str], *, column: str, k: int | None = None, where: str | None = None,
    format: str = "json", **flags: Any,
) -> Any:  # fmt: skip
    """The ``k`` most frequent values of a column with exact counts, ties by value (``tally top``)."""
    if k is not None:
        flags["top"] = k
    return run("top", path, format=format, column=column, where=where, **flags)


def convert(*paths: str | os.PathLike[str], **flags: Any) -> None:
    """Converts inputs (Parquet, CSV, .npy, Arrow; several files are one dataset) to an uncompressed, aligned
    Arrow IPC file, the last path (``tally convert``); ``compression="zstd"`` for storage."""
    run("convert", *paths, format=None, quiet=True, **flags)


def schema(path: str | os.PathLike[str], *, format: str = "json", **flags: Any) -> Any:
    """The columns of a file: names, types, nullability, and whether tally computes statistics on them
    (``tally schema``)."""
    return run("schema", path, format=format, **flags)


def merge(*states: str | os.PathLike[str], format: str = "json", **flags: Any) -> Any:
    """Merges state files written with ``save_state=`` (in the order given) and returns the finished result
    (``tally merge``)."""
    return run("merge", *states, format=format, **flags)


def gen(path: str | os.PathLike[str], *, rows: int, seed: int = 1, **flags: Any) -> None:
    """Writes tally's deterministic synthetic Arrow file (``tally gen``; schema in ``datasets/README.md``)."""
    run("gen", path, format=None, rows=rows, seed=seed, quiet=True, **flags)


def __getattr__(name: str) -> Any:
    # Subcommands added to the CLI after this file: `tally.quantile(path, column="x")` works as soon as the
    # binary has `tally quantile`.
    cli_name = name.replace("_", "-")
    if not name.startswith("_") and cli_name in commands():

        def call(*positional: Any, format: str | None = "json", **flags: Any) -> Any:
            return run(cli_name, *positional, format=format, **flags)

        call.__name__ = name
        call.__doc__ = f"{commands()[cli_name]} (``tally {cli_name}``; keyword arguments are its flags)."
        return call
    raise AttributeError(f"module 'tally' has no attribute {name!r}")
