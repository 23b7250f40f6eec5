#!/usr/bin/env bash
# Backtest wall time on the shipped data (8 leagues, 2022-23 trained to 2021-22), cold process,
# fresh --out each run: --refresh never and weekly (and daily), each with --replay day (the default:
# every match day from that morning's data) and --replay segment (one predict call per league and
# model between trainings). Medians of RUNS runs (wall, user, sys, peak RSS via /usr/bin/time);
# also checks that both replays write byte-identical predictions.csv and summary numbers.
#
#   scripts/bench_backtest.sh [RUNS]        (default 3)
#   DATA_DIR=/tmp/x FROM=2021-07-01 TO=2022-06-30 scripts/bench_backtest.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-3}"
DATA_DIR="${DATA_DIR:-data/processed}"
FROM="${FROM:-2022-07-01}"
TO="${TO:-2023-06-30}"
REFRESHES="${REFRESHES:-never weekly daily}"
cargo build --release --quiet
BIN="$PWD/target/release/auto-train"
WORK="$(mktemp -d /tmp/auto-train-bench-backtest.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for refresh in $REFRESHES; do
    for replay in segment day; do
        : > "$WORK/times"
        for i in $(seq "$RUNS"); do
            out="$WORK/out-$refresh-$replay-$i"
            /usr/bin/time -f "%e %U %S %M" -o "$WORK/t" \
                "$BIN" backtest -q --data-dir "$DATA_DIR" --from "$FROM" --to "$TO" \
                --refresh "$refresh" --replay "$replay" --out "$out"
            cat "$WORK/t" >> "$WORK/times"
            [ "$i" -gt 1 ] && rm -rf "$out"
        done
        printf "refresh %-6s replay %-7s: median wall %6.2f s (user %.2f s, sys %.2f s, peak RSS %d MB), %s runs\n" \
            "$refresh" "$replay" \
            "$(cut -d' ' -f1 "$WORK/times" | median)" "$(cut -d' ' -f2 "$WORK/times" | median)" \
            "$(cut -d' ' -f3 "$WORK/times" | median)" "$(( $(cut -d' ' -f4 "$WORK/times" | median) / 1024 ))" "$RUNS"
    done
    if cmp -s "$WORK/out-$refresh-segment-1/predictions.csv" "$WORK/out-$refresh-day-1/predictions.csv" &&
        cmp -s <(grep -v '"replay"' "$WORK/out-$refresh-segment-1/summary.json") \
               <(grep -v '"replay"' "$WORK/out-$refresh-day-1/summary.json"); then
        echo "refresh $refresh: --replay day and --replay segment wrote identical predictions.csv and summary numbers"
    else
        echo "refresh $refresh: --replay day and --replay segment DIFFER" >&2
        exit 1
    fi
    rm -rf "$WORK"/out-"$refresh"-*
done
