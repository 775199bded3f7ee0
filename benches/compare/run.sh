#!/usr/bin/env bash
# The scoreboard in one command: benches/compare/run.sh FILE [--runs N] [--tasks ...] [--inputs parquet,csv] [...]
# Creates benches/compare/.venv with the pinned requirements (again when requirements.txt changes), builds the
# release tally and membw, then runs compare.py (every further flag is passed to it; see its --help): every
# task against every tool, the markdown written to benches/results/<date>-<machine>.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if [[ $# -lt 1 || "$1" == -* ]]; then
    echo "usage: $0 FILE [--runs N] [--tasks describe,hist,...] [--inputs parquet,csv] [--tools ...] [--machine NAME]" >&2
    exit 2
fi
file="$1"; shift
[[ -r "$file" ]] || { echo "$0: cannot read $file" >&2; exit 2; }

venv="$here/.venv"
stamp="$venv/.requirements"
if [[ ! -x "$venv/bin/python" ]] || ! cmp -s "$here/requirements.txt" "$stamp"; then
    echo "setting up $venv" >&2
    "${PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
    cp "$here/requirements.txt" "$stamp"
fi

(cd "$root" && cargo build --quiet --release -p tally-cli -p tally-benches)
exec "$venv/bin/python" "$here/compare.py" "$file" --tally "$root/target/release/tally" \
    --membw "$root/target/release/membw" "$@"
