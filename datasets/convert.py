"""CSV → Arrow IPC files for datasets/build.sh, keeping R's types (nycflights13's documentation): integer
columns as int32, double columns as float64, character as utf8, POSIXct as timestamp[s, UTC], ``NA`` as null.

Usage: convert.py CSV_DIR OUT_DIR [--samples SAMPLE_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc

I, F, S, T = pa.int32(), pa.float64(), pa.string(), pa.timestamp("s", tz="UTC")

# Column types as R has them (`str(nycflights13::flights)` etc.), in file order.
SCHEMAS = {
    "flights": {
        "year": I, "month": I, "day": I, "dep_time": I, "sched_dep_time": I, "dep_delay": F, "arr_time": I,
        "sched_arr_time": I, "arr_delay": F, "carrier": S, "flight": I, "tailnum": S, "origin": S, "dest": S,
        "air_time": F, "distance": F, "hour": F, "minute": F, "time_hour": T,
    },
    "weather": {
        "origin": S, "year": I, "month": I, "day": I, "hour": I, "temp": F, "dewp": F, "humid": F,
        "wind_dir": F, "wind_speed": F, "wind_gust": F, "precip": F, "pressure": F, "visib": F, "time_hour": T,
    },
    "planes": {
        "tailnum": S, "year": I, "type": S, "manufacturer": S, "model": S, "engines": I, "seats": I,
        "speed": I, "engine": S,
    },
}  # fmt: skip
ROWS = {"flights": 336_776, "weather": 26_115, "planes": 3_322}
# Every SAMPLE_STRIDE-th row goes into the committed sample: spread over the year, a few KB.
SAMPLE_STRIDE = {"flights": 2_000, "weather": 200}


def read(csv_dir: Path, name: str) -> pa.Table:
    schema = SCHEMAS[name]
    table = pacsv.read_csv(
        csv_dir / f"{name}.csv",
        convert_options=pacsv.ConvertOptions(
            column_types=schema, null_values=["NA"], strings_can_be_null=True, include_columns=list(schema)
        ),
    )
    if table.num_rows != ROWS[name]:
        raise SystemExit(f"{name}.csv: {table.num_rows} rows, expected {ROWS[name]}")
    return table


def write(table: pa.Table, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    with ipc.new_file(tmp, table.schema) as out:
        out.write_table(table, max_chunksize=65_536)
    tmp.replace(path)
    print(f"{path}: {table.num_rows} rows, {table.num_columns} columns, {path.stat().st_size} bytes")


def main(argv: list[str]) -> None:
    csv_dir, out_dir = Path(argv[1]), Path(argv[2])
    samples = Path(argv[4]) if len(argv) > 4 and argv[3] == "--samples" else None
    for name in SCHEMAS:
        table = read(csv_dir, name)
        write(table, out_dir / f"{name}.arrow")
        if samples is not None and name in SAMPLE_STRIDE:
            sample = table.take(list(range(0, table.num_rows, SAMPLE_STRIDE[name])))
            write(sample, samples / f"{name}-sample.arrow")


if __name__ == "__main__":
    main(sys.argv)
