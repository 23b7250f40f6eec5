#!/usr/bin/env bash
# Whole training run (cold process, fresh models dir and registry each time), --dry-run, a
# Poisson-only run with a fixed decay (--model-type poisson_v2 --xi 0.0018, fresh dirs each time)
# and `predict` of one fixture (premier_league, models trained once beforehand) on
# data/processed, timed with hyperfine (or a plain loop if hyperfine is missing). Prints medians.
#
#   scripts/bench_run.sh [RUNS]          (default 10 runs each)
#   DATA_DIR=/tmp/x scripts/bench_run.sh
#   BIN=/path/to/other/auto-train scripts/bench_run.sh     (another build, e.g. main's)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-10}"
DATA_DIR="${DATA_DIR:-data/processed}"
EXTRA_ARGS="${EXTRA_ARGS:-}"
cargo build --release --quiet
BIN="${BIN:-${CARGO_TARGET_DIR:-$PWD/target}/release/auto-train}"
WORK="$(mktemp -d /tmp/auto-train-bench.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

run_cmd="$BIN -q --data-dir $DATA_DIR --models-dir $WORK/run/models --registry $WORK/run/registry.json $EXTRA_ARGS"
dry_cmd="$BIN -q --dry-run --data-dir $DATA_DIR --models-dir $WORK/empty-models --registry $WORK/empty-registry.json $EXTRA_ARGS"
prepare="rm -rf $WORK/run; mkdir -p $WORK/run"
poisson_cmd="$BIN -q --model-type poisson_v2 --xi 0.0018 --data-dir $DATA_DIR --models-dir $WORK/run/models --registry $WORK/run/registry.json $EXTRA_ARGS"
# predict: every model type of premier_league, trained once; one fixture.
"$BIN" -q --league premier_league --data-dir "$DATA_DIR" --models-dir "$WORK/pred/models" \
    --registry "$WORK/pred/registry.json"
printf 'Date,HomeTeam,AwayTeam\n2023-08-12,Arsenal,Chelsea\n' >"$WORK/fixture.csv"
# A dry run over a complete models dir (every model verified: files, hashes, identity, loads).
"$BIN" -q --data-dir "$DATA_DIR" --models-dir "$WORK/full/models" --registry "$WORK/full/registry.json"
dry_full_cmd="$BIN -q --dry-run --data-dir $DATA_DIR --models-dir $WORK/full/models --registry $WORK/full/registry.json $EXTRA_ARGS"
predict_cmd="$BIN predict --league premier_league --fixtures $WORK/fixture.csv --data-dir $DATA_DIR --models-dir $WORK/pred/models --registry $WORK/pred/registry.json"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
if command -v hyperfine >/dev/null; then
    hyperfine --style basic --runs "$RUNS" --warmup 1 --export-json "$WORK/run.json" \
        --prepare "$prepare" -n "training run" "$run_cmd" >&2
    hyperfine --style basic --runs "$RUNS" --warmup 1 -N --export-json "$WORK/dry.json" \
        -n "dry run" "$dry_cmd" >&2
    hyperfine --style basic --runs "$RUNS" --warmup 1 -N --export-json "$WORK/dryfull.json" \
        -n "dry run, models present" "$dry_full_cmd" >&2
    hyperfine --style basic --runs "$RUNS" --warmup 1 --export-json "$WORK/poisson.json" \
        --prepare "$prepare" -n "poisson only" "$poisson_cmd" >&2
    hyperfine --style basic --runs "$RUNS" --warmup 1 -N --export-json "$WORK/predict.json" \
        -n "predict" "$predict_cmd" >&2
    python3 - "$WORK/run.json" "$WORK/dry.json" "$WORK/dryfull.json" "$WORK/poisson.json" "$WORK/predict.json" <<'PY'
import json, sys
for path in sys.argv[1:]:
    r = json.load(open(path))["results"][0]
    print(f"{r['command']:>14}: median {r['median']*1000:7.1f} ms  (min {r['min']*1000:.1f}, "
          f"max {r['max']*1000:.1f}, user {r['user']*1000:.0f} ms, sys {r['system']*1000:.0f} ms, "
          f"{len(r['times'])} runs)")
PY
else
    # Wall time and the child's user + sys CPU time per run; medians of each.
    python3 - "$RUNS" "$prepare" "training run" "$run_cmd" "dry run" "$dry_cmd" \
        "dry run, models present" "$dry_full_cmd" \
        "poisson only" "$poisson_cmd" "predict" "$predict_cmd" <<'PY'
import resource, shlex, statistics, subprocess, sys, time
runs, prepare, pairs = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
for name, cmd in zip(pairs[::2], pairs[1::2]):
    walls, cpus = [], []
    for i in range(runs + 1):
        subprocess.run(prepare, shell=True, check=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(shlex.split(cmd), check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if i == 0:
            continue  # warm-up
        walls.append(wall)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    print(f"{name:>14}: median {statistics.median(walls)*1000:7.1f} ms  (min {min(walls)*1000:.1f}, "
          f"max {max(walls)*1000:.1f}, CPU user+sys median {statistics.median(cpus)*1000:.0f} ms, "
          f"{runs} runs)")
PY
fi
