#!/usr/bin/env bash
# Scale: synthetic 10, 30 and 100 leagues x 30 seasons x 20 teams (380 matches a season), a full
# training run each (fresh models dir), wall time and peak RSS from /usr/bin/time -v. Prints a
# table and checks that time grows linearly with matches (time per match at the largest size
# within 1.5x of the smallest).
#
#   scripts/scale.sh [LEAGUES ...]      (default 10 30 100; data cached in /tmp/auto-train-scale)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=("${@:-10 30 100}")
SIZES=(${SIZES[*]})
SEASONS="${SEASONS:-30}"
ROOT="${SCALE_DIR:-/tmp/auto-train-scale}"
EXTRA_ARGS="${EXTRA_ARGS:-}"
cargo build --release --quiet --bin auto-train --example synth_leagues
BIN="${BIN:-$PWD/target/release/auto-train}"
GEN="$PWD/target/release/examples/synth_leagues"
mkdir -p "$ROOT"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%8s %10s %10s %10s %12s %14s\n" leagues matches wall_s rss_MB dry_wall_s us_per_match
rows=()
for n in "${SIZES[@]}"; do
    data="$ROOT/data-$n-$SEASONS"
    [ -d "$data" ] || "$GEN" --out "$data" --leagues "$n" --seasons "$SEASONS" --seed 1 >/dev/null
    work="$ROOT/work-$n"
    rm -rf "$work"; mkdir -p "$work"
    /usr/bin/time -v "$BIN" -q --json --data-dir "$data" --models-dir "$work/models" \
        --registry "$work/registry.json" $EXTRA_ARGS >"$work/summary.json" 2>"$work/time.txt" || {
        echo "run failed for $n leagues:"; tail -20 "$work/time.txt"; exit 1; }
    /usr/bin/time -v "$BIN" -q --dry-run --data-dir "$data" --models-dir "$work/empty" \
        --registry "$work/empty.json" $EXTRA_ARGS 2>"$work/dry.txt" >/dev/null
    read -r matches wall rss dry <<<"$(python3 - "$work" <<'PY'
import json, re, sys
w = sys.argv[1]
def parse(f):
    t = open(f).read()
    m = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", t)
    wall = int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
    return wall, rss
s = json.load(open(f"{w}/summary.json"))
matches = s["data"]["matches"]
wall, rss = parse(f"{w}/time.txt")
dry, _ = parse(f"{w}/dry.txt")
print(matches, wall, rss, dry)
PY
)"
    printf "%8s %10s %10.2f %10.0f %12.2f %14.2f\n" "$n" "$matches" "$wall" "$rss" "$dry" \
        "$(python3 -c "print($wall / $matches * 1e6)")"
    rows+=("$matches $wall")
    rm -rf "$work/models"
done
python3 - "${rows[@]}" <<'PY'
import sys
rows = [tuple(map(float, r.split())) for r in sys.argv[1:]]
if len(rows) >= 2:
    (m0, t0), (m1, t1) = rows[0], rows[-1]
    ratio = (t1 / m1) / (t0 / m0)
    print(f"time per match, largest / smallest: {ratio:.2f} "
          f"({'linear' if ratio <= 1.5 else 'NOT linear'}: within 1.5x counts as linear)")
PY
