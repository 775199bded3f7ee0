#!/usr/bin/env bash
# MPI overhead on one machine (issue 14): `--executor mpi` with R ranks of 1 worker against the threads and
# processes executors with R workers, whole process, interleaved runs; then one `-v` run per analysis for
# the message sizes of every pass.
#
#   benches/mpi/run.sh TALLY_MPI_BINARY FILE.arrow [RUNS] [RANKS]
#
# TALLY_MPI_BINARY is a `cargo build --release --features mpi -p tally-cli` binary; MPIRUN overrides the
# launcher (default: Open MPI's mpirun as root on an oversubscribed machine).
set -euo pipefail
bin="$1" file="$2" runs="${3:-5}" ranks="${4:-2}"
mpirun=(${MPIRUN:-mpirun --allow-run-as-root --oversubscribe})
analyses=(
    "describe --columns a,b,c,d"
    "groupby --by k1 --agg count,mean(a)"
    "groupby --by k2 --agg count,mean(a)"
)

seconds() { # runs "$@" with output discarded, prints wall seconds
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null
    end=$(date +%s.%N)
    awk -v s="$start" -v e="$end" 'BEGIN {printf "%.4f\n", e - s}'
}
median() { sort -n | awk '{a[NR] = $1} END {m = a[int((NR + 1) / 2)]; printf "%.3f s (%.3f … %.3f)", m, a[1], a[NR]}'; }

echo "$(date -Is), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg), $(basename "$file"), $runs runs each"
for analysis in "${analyses[@]}"; do
    read -r -a a <<<"$analysis"
    args=("${a[0]}" "$file" "${a[@]:1}" -q --format json)
    declare -A times=()
    for _ in $(seq "$runs"); do
        times[threads]+="$(seconds "$bin" "${args[@]}" --executor threads --workers "$ranks") "
        times[processes]+="$(seconds "$bin" "${args[@]}" --executor processes --workers "$ranks") "
        times[mpi]+="$(seconds "${mpirun[@]}" -n "$ranks" "$bin" "${args[@]}" --executor mpi --workers 1) "
    done
    for e in threads processes mpi; do
        echo "$analysis | $e | $(tr ' ' '\n' <<<"${times[$e]}" | grep . | median)"
    done
    unset times
    "${mpirun[@]}" -n "$ranks" "$bin" "${args[@]}" --executor mpi --workers 1 -v 2>&1 >/dev/null |
        grep -E 'received|sent|broadcast|exchanged' | sed "s/^/$analysis | /"
done
