#!/usr/bin/env bash
# Every figure of issue #19's table on the shipped data (8 leagues, all three model types), cold
# processes, fresh --out each run, medians (wall, user + sys CPU, peak RSS via /usr/bin/time),
# with the machine's load before and after:
#   backtest --from 2022-08-01 --refresh daily / weekly            (--replay segment, the default)
#   backtest --from 2022-08-01 --refresh never, --replay day and --replay segment (and their ratio;
#     both must write byte-identical predictions.csv and summary numbers)
#   predict of one fixture (premier_league, models trained once), the whole run of all types
#     (fresh models dir each time) and --dry-run
#
#   scripts/bench_backtest.sh [RUNS] [SHORT_RUNS]     (default 3 backtest runs, 10 of the others)
#   DATA_DIR=/tmp/x FROM=2021-08-01 scripts/bench_backtest.sh
#   REFRESHES="weekly" SHORT=no scripts/bench_backtest.sh 1
#   REFRESHES= scripts/bench_backtest.sh 1 20      (no backtests: predict, whole run, dry run only)
#   BIN=/path/to/other/auto-train scripts/bench_backtest.sh     (another build, e.g. main's)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-3}"
SHORT_RUNS="${2:-10}"
DATA_DIR="${DATA_DIR:-data/processed}"
FROM="${FROM:-2022-08-01}"
REFRESHES="${REFRESHES-daily weekly never}"
SHORT="${SHORT:-yes}"
cargo build --release --quiet
BIN="${BIN:-${CARGO_TARGET_DIR:-$PWD/target}/release/auto-train}"
WORK="$(mktemp -d /tmp/auto-train-bench-backtest.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(load)"
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Times `backtest --refresh $1 --replay $2` RUNS times; prints its median line, keeps run 1's --out.
bench() {
    local refresh="$1" replay="$2" i out
    : >"$WORK/times"
    for i in $(seq "$RUNS"); do
        out="$WORK/out-$refresh-$replay-$i"
        /usr/bin/time -f "%e %U %S %M" -o "$WORK/t" \
            "$BIN" backtest -q --data-dir "$DATA_DIR" --from "$FROM" \
            --refresh "$refresh" --replay "$replay" --out "$out"
        cat "$WORK/t" >>"$WORK/times"
        if [ "$i" -gt 1 ]; then rm -rf "$out"; fi
    done
    local wall cpu
    wall="$(cut -d' ' -f1 "$WORK/times" | median)"
    cpu="$(awk '{print $2 + $3}' "$WORK/times" | median)"
    echo "$wall" >"$WORK/wall-$refresh-$replay"
    printf "backtest --from %s --refresh %-6s --replay %-7s: median wall %7.2f s, CPU %7.2f s, peak RSS %d MB, %s runs (load after: %s)\n" \
        "$FROM" "$refresh" "$replay" "$wall" "$cpu" \
        "$(($(cut -d' ' -f4 "$WORK/times" | median) / 1024))" "$RUNS" "$(load)"
}

# summary.json without what names the run itself (the replay mode and the metadata block:
# command line, time).
summary_numbers() {
    python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
d.pop("replay", None)
d.pop("metadata", None)
print(json.dumps(d, sort_keys=True, indent=1))' "$1"
}

for refresh in $REFRESHES; do
    bench "$refresh" segment
    if [ "$refresh" = never ]; then
        bench never day
        if cmp -s "$WORK/out-never-segment-1/predictions.csv" "$WORK/out-never-day-1/predictions.csv" &&
            cmp -s <(summary_numbers "$WORK/out-never-segment-1/summary.json") \
                <(summary_numbers "$WORK/out-never-day-1/summary.json"); then
            echo "--replay day and --replay segment wrote identical predictions.csv and summary numbers"
        else
            echo "--replay day and --replay segment DIFFER" >&2
            exit 1
        fi
        awk -v d="$(cat "$WORK/wall-never-day")" -v s="$(cat "$WORK/wall-never-segment")" \
            'BEGIN {printf "--replay day / --replay segment (wall): %.2fx\n", d / s}'
    fi
    rm -rf "$WORK"/out-"$refresh"-*
done

[ "$SHORT" = yes ] || exit 0
# predict (models trained once), whole run (fresh dirs each time), dry run: wall and CPU medians.
"$BIN" -q --league premier_league --data-dir "$DATA_DIR" --models-dir "$WORK/pred/models" \
    --registry "$WORK/pred/registry.json"
printf 'Date,HomeTeam,AwayTeam\n2023-08-12,Arsenal,Chelsea\n' >"$WORK/fixture.csv"
python3 - "$SHORT_RUNS" "rm -rf $WORK/run; mkdir -p $WORK/run" \
    "predict, one fixture" "$BIN predict --league premier_league --fixtures $WORK/fixture.csv --data-dir $DATA_DIR --models-dir $WORK/pred/models --registry $WORK/pred/registry.json" \
    "whole run, all types" "$BIN -q --data-dir $DATA_DIR --models-dir $WORK/run/models --registry $WORK/run/registry.json" \
    "--dry-run" "$BIN -q --dry-run --data-dir $DATA_DIR --models-dir $WORK/empty-models --registry $WORK/empty-registry.json" <<'PY'
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
    load = open("/proc/loadavg").read().split()[:3]
    print(f"{name:>22}: median wall {statistics.median(walls)*1000:7.1f} ms (min {min(walls)*1000:.1f}), "
          f"CPU {statistics.median(cpus)*1000:.0f} ms, {runs} runs (load after: {' '.join(load)})")
PY
