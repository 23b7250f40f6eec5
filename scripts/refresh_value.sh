#!/usr/bin/env bash
# What nightly refreshing is worth: the 2022-23 season of the shipped leagues, models trained on
# everything before 2022-07-01, then each match day predicted from the data as it stood that
# morning, once with the models frozen (--refresh never) and once retrained before every match
# day on all earlier matches (--refresh daily, what `auto-train --refresh --min-new-matches 1`
# does each night). One `auto-train backtest` each; prints the mean scores of each model type
# both ways. Usage: scripts/refresh_value.sh [DATA_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
data="${1:-$root/data/processed}"
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
bin="$root/target/release/auto-train"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for refresh in never daily; do
  start=$(date +%s.%N)
  "$bin" backtest --from 2022-07-01 --to 2023-06-30 --refresh "$refresh" \
    --data-dir "$data" --out "$work/$refresh" --json -q > "$work/$refresh.json"
  echo "backtest --refresh $refresh: $(echo "$(date +%s.%N) - $start" | bc) s" >&2
done
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
runs = {r: json.load(open(f"{work}/{r}.json")) for r in ("never", "daily")}
def score(run, ty, metric):
    return run["pooled"][ty]["model"].get(metric)
def league_mean(run, ty, metric):
    vals = [b[ty]["model"][metric] for b in run["by_league"].values()
            if ty in b and b[ty]["model"].get(metric) is not None]
    return sum(vals) / len(vals) if vals else None
print(f"trainings: frozen {runs['never']['trainings']}, daily {runs['daily']['trainings']}; "
      f"matches scored: {runs['never']['matches']}")
print("| model type | measure | frozen (trained to 2021-22) | refreshed daily | difference |")
print("|---|---|---|---|---|")
for ty in runs["never"]["pooled"]:
    metric = "rps" if score(runs["never"], ty, "rps") is not None else "log_loss"
    for label, fn in (("pooled", score), ("mean of leagues", league_mean)):
        a, b = fn(runs["never"], ty, metric), fn(runs["daily"], ty, metric)
        print(f"| {ty} | {metric} ({label}) | {a:.4f} | {b:.4f} | {b - a:+.4f} |")
PY
