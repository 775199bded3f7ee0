"""Every Python function against the CLI's output on the same files: the same numbers, bit for bit."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

import tally

from conftest import FLIGHTS_SAMPLE, cli_json, run_cli

EXECUTORS = ["processes", "threads", "serial"]


@pytest.mark.parametrize("executor", EXECUTORS)
def test_describe_is_the_cli_json(cli: str, data_file: str, executor: str) -> None:
    got = tally.describe(data_file, executor=executor, workers=2 if executor != "serial" else None)
    assert got == cli_json(cli, "describe", data_file, "--executor", executor)
    assert got["columns"], "a real result"


def test_describe_flags_map_to_cli_flags(cli: str, gen_file: str) -> None:
    cases = [
        (dict(columns=["d", "k1"]), ["--columns", "d,k1"]),
        (dict(exact=True, ddof=0), ["--exact", "--ddof", "0"]),
        (dict(where="k1 < 500 and c is not null"), ["--where", "k1 < 500 and c is not null"]),
        (dict(chunk_rows=777, workers=3), ["--chunk-rows", "777", "--workers", "3"]),
        (dict(column=["a"], columns=["b"]), ["--column", "a", "--columns", "b"]),
    ]
    for kwargs, flags in cases:
        assert tally.describe(gen_file, **kwargs) == cli_json(cli, "describe", gen_file, *flags), kwargs


def test_hist_is_the_cli_json(cli: str, gen_file: str) -> None:
    assert tally.hist(gen_file, column="a") == cli_json(cli, "hist", gen_file, "--column", "a")
    got = tally.hist(gen_file, column="d", bins=7, range=(-1e9, 1.5e9), where="k2 > 3")
    want = cli_json(cli, "hist", gen_file, "--column", "d", "--bins", "7", "--range", "-1e9,1.5e9", "--where", "k2 > 3")
    assert got == want
    got = tally.hist(gen_file, column="k1", edges=[0, 10.5, 100, 1000])
    assert got == cli_json(cli, "hist", gen_file, "--column", "k1", "--edges", "0,10.5,100,1000")
    assert sum(got["counts"]) + got["underflow"] + got["overflow"] == got["rows"] - got["null_count"]


def test_corr_is_the_cli_json(cli: str, gen_file: str) -> None:
    got = tally.corr(gen_file, columns=["a", "b", "d"])
    assert got == cli_json(cli, "corr", gen_file, "--columns", "a,b,d")
    got = tally.corr(gen_file, columns=["a", "k1"], cov=True, ddof=0, executor="threads")
    assert got == cli_json(cli, "corr", gen_file, "--columns", "a,k1", "--cov", "--ddof", "0")


def test_quantile_is_the_cli_json(cli: str, gen_file: str) -> None:
    got = tally.quantile(gen_file, column="b", q=["0.29", 0.5, 0.99], method="nearest")
    assert got == cli_json(cli, "quantile", gen_file, "--column", "b", "--q", "0.29,0.5,0.99", "--method", "nearest")
    assert [x["q"] for x in got["quantiles"]] == ["0.29", "0.5", "0.99"]
    got = tally.quantile(gen_file, column="b", q=[0.5], approx=True, rel_error=0.005)
    want = cli_json(cli, "quantile", gen_file, "--column", "b", "--q", "0.5", "--approx", "--rel-error", "0.005")
    assert got == want and got["approx"] == {"relative_error": 0.005}


def test_groupby_distinct_and_top_are_the_cli_json(cli: str, gen_file: str) -> None:
    got = tally.groupby(gen_file, by=["k1"], agg=["count", "mean(a)"], sort="count", desc=True, limit=5)
    want = cli_json(cli, "groupby", gen_file, "--by", "k1", "--agg", "count,mean(a)", "--sort", "count", "--desc",
                    "--limit", "5")  # fmt: skip
    assert got == want and len(got["groups"]) == 5
    assert tally.distinct(gen_file, columns=["k1"]) == cli_json(cli, "distinct", gen_file, "--columns", "k1")
    assert tally.top(gen_file, column="k1", k=3) == cli_json(cli, "top", gen_file, "--column", "k1", "-k", "3")


def test_schema_is_the_cli_json(cli: str, data_file: str) -> None:
    assert tally.schema(data_file) == cli_json(cli, "schema", data_file)


def test_gen_writes_the_cli_bytes(cli: str, tmp_path: Path) -> None:
    tally.gen(tmp_path / "py.arrow", rows=5000, seed=9, batch_rows=1234)
    run_cli(cli, "gen", str(tmp_path / "cli.arrow"), "--rows", "5000", "--seed", "9", "--batch-rows", "1234", "-q")
    assert (tmp_path / "py.arrow").read_bytes() == (tmp_path / "cli.arrow").read_bytes()


def test_save_state_and_merge(cli: str, gen_file: str, tmp_path: Path) -> None:
    other = tmp_path / "other.arrow"
    tally.gen(other, rows=7000, seed=4)
    first, second = tmp_path / "first.tstate", tmp_path / "second.tstate"
    one = tally.describe(gen_file, columns=["a", "k1"], where="c is not null", save_state=first)
    two = tally.describe(other, columns=["a", "k1"], where="c is not null", save_state=second)
    merged = tally.merge(first, second)
    assert merged == cli_json(cli, "merge", str(first), str(second))
    counts = [c1["count"] + c2["count"] for c1, c2 in zip(one["columns"], two["columns"])]
    assert [c["count"] for c in merged["columns"]] == counts


def test_text_formats_are_the_cli_text(cli: str, gen_file: str) -> None:
    for fmt in ["csv", "table"]:
        want = run_cli(cli, "describe", gen_file, "--format", fmt, "-q").decode()
        assert tally.describe(gen_file, format=fmt) == want


def test_output_file_like_the_cli(cli: str, gen_file: str, tmp_path: Path) -> None:
    assert tally.describe(gen_file, output=tmp_path / "r.csv", format="csv") is None
    assert (tmp_path / "r.csv").read_bytes() == run_cli(cli, "describe", gen_file, "--format", "csv", "-q")


def test_arrow_table_is_the_cli_arrow(cli: str, data_file: str) -> None:
    want = ipc.open_file(io.BytesIO(run_cli(cli, "describe", data_file, "--format", "arrow", "-q"))).read_all()
    got = tally.describe(data_file, format="arrow")
    assert isinstance(got, pa.Table)
    assert got.equals(want)
    column = "month" if data_file == str(FLIGHTS_SAMPLE) else "a"
    want = ipc.open_file(io.BytesIO(run_cli(cli, "hist", data_file, "--column", column, "--format", "arrow"))).read_all()
    assert tally.hist(data_file, column=column, format="arrow").equals(want)


def test_arrow_hand_over_copies_no_buffer(gen_file: str) -> None:
    capsule = tally.describe(gen_file, format="capsule")
    ours = capsule.buffer_addresses()
    table = pa.table(capsule)
    theirs = [
        [[b.address for b in chunk.buffers()[1:] if b is not None] for chunk in column.chunks]
        for column in table.columns
    ]
    assert len(ours) == 1, "one record batch"
    assert [col[0] for col in theirs] == ours[0], "pyarrow got the very buffers the renderer's batch holds"
    assert sum(len(b) for b in ours[0]) >= table.num_columns


def test_polars_dataframe(gen_file: str) -> None:
    pl = pytest.importorskip("polars")
    frame = tally.describe(gen_file, format="polars")
    assert isinstance(frame, pl.DataFrame)
    table = tally.describe(gen_file, format="arrow")
    assert frame["mean"].to_list() == table.column("mean").to_pylist()


def test_results_do_not_depend_on_workers(gen_file: str) -> None:
    runs = [tally.describe(gen_file, workers=w, chunk_rows=999, executor="processes") for w in (1, 2, 3)]
    runs += [tally.describe(gen_file, chunk_rows=999, executor="serial")]
    assert all(r == runs[0] for r in runs)


def test_every_cli_subcommand_is_callable(cli: str, gen_file: str) -> None:
    names = tally.commands()
    assert {"describe", "hist", "corr", "schema", "merge", "gen"} <= set(names)
    for name in names:
        assert callable(getattr(tally, name.replace("-", "_")))
    # The generic entry point and the fallback attribute reach the same runner.
    assert tally.run("describe", gen_file, columns=["a"]) == tally.describe(gen_file, columns=["a"])
    with pytest.raises(AttributeError):
        tally.no_such_analysis  # noqa: B018


def test_arguments_are_cli_flags() -> None:
    argv = tally.arguments("hist", ("f.arrow",), dict(column="x", range=(-1.5, 2), exact=False, bins=None, plot=True))
    assert argv == ["hist", "f.arrow", "--column=x", "--range=-1.5,2", "--plot"]
    assert tally.arguments("d", (), dict(chunk_rows=5, x=0.1)) == ["d", "--chunk-rows=5", "--x=0.1"]
