#!/usr/bin/env bash
# Whole training run (cold process, fresh models dir and registry each time) and --dry-run on
# data/processed, timed with hyperfine (or a plain loop if hyperfine is missing). Prints medians.
#
#   scripts/bench_run.sh [RUNS]          (default 10 runs each)
#   DATA_DIR=/tmp/x scripts/bench_run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-10}"
DATA_DIR="${DATA_DIR:-data/processed}"
EXTRA_ARGS="${EXTRA_ARGS:-}"
cargo build --release --quiet
BIN="$PWD/target/release/auto-train"
WORK="$(mktemp -d /tmp/auto-train-bench.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

run_cmd="$BIN -q --data-dir $DATA_DIR --models-dir $WORK/run/models --registry $WORK/run/registry.json $EXTRA_ARGS"
dry_cmd="$BIN -q --dry-run --data-dir $DATA_DIR --models-dir $WORK/empty-models --registry $WORK/empty-registry.json $EXTRA_ARGS"
prepare="rm -rf $WORK/run; mkdir -p $WORK/run"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
if command -v hyperfine >/dev/null; then
    hyperfine --style basic --runs "$RUNS" --warmup 1 --export-json "$WORK/run.json" \
        --prepare "$prepare" -n "training run" "$run_cmd" >&2
    hyperfine --style basic --runs "$RUNS" --warmup 1 -N --export-json "$WORK/dry.json" \
        -n "dry run" "$dry_cmd" >&2
    python3 - "$WORK/run.json" "$WORK/dry.json" <<'PY'
import json, sys
for path in sys.argv[1:]:
    r = json.load(open(path))["results"][0]
    print(f"{r['command']:>14}: median {r['median']*1000:7.1f} ms  (min {r['min']*1000:.1f}, "
          f"max {r['max']*1000:.1f}, user {r['user']*1000:.0f} ms, sys {r['system']*1000:.0f} ms, "
          f"{len(r['times'])} runs)")
PY
else
    median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
    for name in run dry; do
        for _ in $(seq "$RUNS"); do
            eval "$prepare"
            cmd=$run_cmd; [ $name = dry ] && cmd=$dry_cmd
            s=$(date +%s%N); $cmd >/dev/null; e=$(date +%s%N)
            echo $(( (e - s) / 1000000 ))
        done | median | sed "s/^/$name: median ms /"
    done
fi
