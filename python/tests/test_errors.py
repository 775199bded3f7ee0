"""Failures raise tally.TallyError subclasses with the engine's context and the CLI's message."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import tally


def cli_error(cli: str, *args: str) -> str:
    done = subprocess.run([cli, *args], capture_output=True, text=True, check=False)
    assert done.returncode != 0
    return done.stderr


def test_missing_file_is_an_input_error_naming_it(cli: str, tmp_path: Path) -> None:
    path = str(tmp_path / "absent.arrow")
    with pytest.raises(tally.InputError) as e:
        tally.describe(path)
    assert e.value.file == path and e.value.kind == "input"
    assert f"tally: error: {e.value}" in cli_error(cli, "describe", path)


def test_unknown_column_names_the_column(cli: str, gen_file: str) -> None:
    with pytest.raises(tally.InputError) as e:
        tally.describe(gen_file, columns=["a", "nope"])
    assert (e.value.file, e.value.column) == (gen_file, "nope")
    assert "the columns are: id, a, b" in str(e.value)
    assert f"tally: error: {e.value}" in cli_error(cli, "describe", gen_file, "--columns", "a,nope")


def test_bad_filter(gen_file: str) -> None:
    with pytest.raises(tally.InputError, match="unknown column"):
        tally.describe(gen_file, where="nope < 1")


def test_malformed_file_names_file_and_place(gen_file: str, tmp_path: Path) -> None:
    data = Path(gen_file).read_bytes()
    broken = tmp_path / "truncated.arrow"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(tally.InputError) as e:
        tally.describe(broken, executor="serial")
    assert e.value.file == str(broken)
    assert e.value.reason and e.value.reason in str(e.value)


def test_usage_errors_are_value_errors(gen_file: str) -> None:
    with pytest.raises(tally.UsageError, match="--no-such-flag"):
        tally.describe(gen_file, no_such_flag=1)
    with pytest.raises(ValueError, match="workers"):
        tally.describe(gen_file, workers=0)
    with pytest.raises(tally.UsageError, match="expected a string"):
        tally.describe(gen_file, columns={"a": 1})
    with pytest.raises(tally.UsageError, match="unrecognized subcommand"):
        tally.run("no-such-command")


def test_missing_worker_binary_is_said_clearly(gen_file: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TALLY_BIN", "/nonexistent/tally")
    with pytest.raises(tally.TallyError, match=r"TALLY_BIN=/nonexistent/tally is not an executable file"):
        tally.describe(gen_file)
    # Analyses that start no worker do not need it.
    assert tally.describe(gen_file, executor="threads")["rows"] == 20000


def test_every_error_is_a_tally_error() -> None:
    for cls in (tally.UsageError, tally.InputError, tally.WorkerError, tally.TallyIOError, tally.ProtocolError,
                tally.Cancelled, tally.InternalError):  # fmt: skip
        assert issubclass(cls, tally.TallyError)


def test_a_poison_chunk_is_a_worker_error_naming_chunk_and_rows(
    cli: str, gen_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fault injection (engine/src/exec/processes/fault.rs): every worker that gets chunk 2 aborts.
    monkeypatch.setenv("TALLY_FAULT", "abort:chunk=2")
    with pytest.raises(tally.WorkerError) as e:
        tally.describe(gen_file, chunk_rows=1000, workers=2)
    assert (e.value.chunk, e.value.rows) == (2, (2000, 3000))
    assert e.value.worker and e.value.kind == "worker"
    stderr = cli_error(cli, "describe", gen_file, "--chunk-rows", "1000", "--workers", "2")
    assert "chunk 2 (rows 2000..3000)" in stderr and "chunk 2 (rows 2000..3000)" in str(e.value)
