#!/bin/sh
# bench-sweep.sh [OUTDIR] [BENCH]: run batchudp-bench in drain mode for 64-
# and 1400-byte datagrams at batch sizes 1, 8, 32, 64 and 256, keep each
# run's table (.txt) and samples (.json) in OUTDIR, then plot ns/datagram
# against batch size per method into OUTDIR/bench-sweep.svg.
#
#   OUTDIR  where results go [bench-sweep]
#   BENCH   the bench to run [batchudp-bench from PATH, else ./tools/batchudp-bench]
#   BENCH_ARGS (environment) more options for every run, e.g. "--reps 9"
#
# Takes about ten times the default run (some minutes).
set -eu

out=${1:-bench-sweep}
bench=${2:-}
here=$(cd "$(dirname "$0")" && pwd)

if [ -z "$bench" ]; then
    if [ -x ./tools/batchudp-bench ]; then
        bench=./tools/batchudp-bench
    elif command -v batchudp-bench >/dev/null 2>&1; then
        bench=batchudp-bench
    else
        echo "bench-sweep: no batchudp-bench found; pass its path" >&2
        exit 1
    fi
fi

mkdir -p "$out"
status=0
for size in 64 1400; do
    for batch in 1 8 32 64 256; do
        name=$out/drain-$size-$batch
        cmd="$bench --mode drain --size $size --batch $batch --json $name.json ${BENCH_ARGS:-}"
        echo "bench-sweep: $cmd" >&2
        # shellcheck disable=SC2086
        if ! $cmd > "$name.txt"; then
            echo "bench-sweep: run failed (exit status kept): $cmd" >&2
            status=1
        fi
        printf '$ %s\n' "$cmd" | cat - "$name.txt" > "$name.txt.tmp" && mv "$name.txt.tmp" "$name.txt"
    done
done

if command -v python3 >/dev/null 2>&1; then
    python3 "$here/plot-bench.py" -o "$out/bench-sweep.svg" "$out"/drain-*.json
else
    echo "bench-sweep: python3 not found, no plot" >&2
fi
exit $status
