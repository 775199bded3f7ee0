#!/usr/bin/env bash
# Larger than RAM (issue 11, item 7): `tally describe` of an Arrow IPC file and of a Parquet file whose decoded
# size exceed the machine's memory, with the memory every process and the whole machine used.
#
#   benches/larger_than_ram.sh DIR [--tally target/release/tally] [--arrow-rows N] [--parquet-repeats K]
#                              [--python benches/compare/.venv/bin/python] [--only arrow|parquet] [--keep]
#
# Arrow: `tally gen --rows N` (default 770M rows, ~40 GB), then `describe -v`. Parquet: pyarrow writes a
# `tally gen` 50M-row file K times over (default 11: 550M rows, ~28.6 GB decoded; snappy, 1M-row row groups)
# into one file, then `describe -v`. Each file is deleted after its run unless --keep (both at once need more
# disk than a 58 GB machine has). Peaks reported:
#   - tally -v: every process's peak RSS (VmHWM: includes the mapped file's pages, which are page cache,
#     shared and reclaimable) and largest anonymous memory (RssAnon: heap, decoded Parquet);
#   - the machine: AnonPages of /proc/meminfo (every process's anonymous memory) sampled every 0.5 s, above
#     its value before the run; SwapTotal/SwapFree before and after; /usr/bin/time -v of the parent.
set -euo pipefail

dir=${1:?usage: larger_than_ram.sh DIR [options]}; shift
tally=target/release/tally
python=benches/compare/.venv/bin/python
arrow_rows=770000000
repeats=11
only=
keep=
while [ $# -gt 0 ]; do
  case $1 in
    --tally) tally=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    --arrow-rows) arrow_rows=$2; shift 2 ;;
    --parquet-repeats) repeats=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$dir"
meminfo() { awk -v k="$1:" '$1 == k {print $2}' /proc/meminfo; }

echo "machine: $(nproc) cores, MemTotal $(( $(meminfo MemTotal) / 1048576 )) GiB, SwapTotal $(( $(meminfo SwapTotal) / 1024 )) MiB"

# describe FILE LABEL: one measured run, page cache dropped first when allowed (root).
describe() {
  local file=$1 label=$2
  sync; echo 3 2>/dev/null > /proc/sys/vm/drop_caches || echo "(page cache not dropped: not root)"
  local base swap0 peak=0 a
  base=$(meminfo AnonPages); swap0=$(( $(meminfo SwapTotal) - $(meminfo SwapFree) ))
  local start; start=$(date +%s.%N)
  /usr/bin/time -v "$tally" describe "$file" -v > "$dir/$label.out" 2> "$dir/$label.err" &
  local pid=$!
  while kill -0 $pid 2>/dev/null; do
    a=$(meminfo AnonPages); [ "$a" -gt "$peak" ] && peak=$a
    sleep 0.5
  done
  wait $pid
  local end; end=$(date +%s.%N)
  local bytes; bytes=$(stat -c %s "$file")
  local secs; secs=$(echo "$end - $start" | bc)
  echo "== $label: $(( bytes / 1000000 )) MB on disk, $secs s, $(echo "scale=2; $bytes / $secs / 1000000000" | bc) GB/s of file"
  grep -E "memory:|executor" "$dir/$label.err" | sed 's/^/   /'
  echo "   machine: anonymous memory peak $(( (peak - base) / 1024 )) MiB above the $(( base / 1024 )) MiB before the run; swap used before/after: $swap0 / $(( $(meminfo SwapTotal) - $(meminfo SwapFree) )) kB"
  grep -E "Maximum resident|Elapsed|Major" "$dir/$label.err" | sed 's/^\s*/   parent (time -v): /'
  sed -n '1p' "$dir/$label.out" | sed 's/^/   /'
}

if [ "$only" != parquet ]; then
  arrow=$dir/larger-than-ram.arrow
  [ -f "$arrow" ] || "$tally" gen --rows "$arrow_rows" --seed 7 -q "$arrow"
  describe "$arrow" arrow
  [ -n "$keep" ] || rm -f "$arrow"
fi

if [ "$only" != arrow ]; then
  base=$dir/gen50m-seed7.arrow
  parquet=$dir/larger-than-ram.parquet
  if [ ! -f "$parquet" ]; then
    [ -f "$base" ] || "$tally" gen --rows 50000000 --seed 7 -q "$base"
    "$python" - "$base" "$parquet" "$repeats" <<'PY'
import sys
import pyarrow as pa
import pyarrow.parquet as pq
src, out, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
with pa.memory_map(src) as f:
    reader = pa.ipc.open_file(f)
    with pq.ParquetWriter(out + ".tmp", reader.schema, compression="snappy") as w:
        for _ in range(repeats):
            for i in range(reader.num_record_batches):
                w.write_table(pa.Table.from_batches([reader.get_batch(i)]), row_group_size=1 << 20)
import os
os.replace(out + ".tmp", out)
md = pq.ParquetFile(out).metadata
print(f"wrote {out}: {md.num_rows} rows, {md.num_row_groups} row groups, {os.path.getsize(out) / 1e9:.1f} GB")
PY
    rm -f "$base"
  fi
  describe "$parquet" parquet
  [ -n "$keep" ] || rm -f "$parquet"
fi
