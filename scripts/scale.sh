#!/usr/bin/env bash
# Scale: synthetic 10, 30 and 100 leagues x 30 seasons x 20 teams (380 matches a season), a full
# training run each (fresh models dir) and a --dry-run, wall time and peak RSS from
# /usr/bin/time -v. Both widths (narrow: the 20 columns synth_leagues writes by default; wide:
# the 106 columns of football-data.co.uk's 2022-23 files, --wide) and both layouts (season: one
# file a season holding every league; one: every row in one file). Prints a table and checks, per
# width and layout, that time grows linearly with matches (time per match at the largest size
# within 1.5x of the smallest).
#
#   scripts/scale.sh [LEAGUES ...]      (default 10 30 100; data cached in /tmp/auto-train-scale)
#   WIDTHS="wide" LAYOUTS="one" scripts/scale.sh 100
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=("${@:-10 30 100}")
SIZES=(${SIZES[*]})
SEASONS="${SEASONS:-30}"
WIDTHS=(${WIDTHS:-narrow wide})
LAYOUTS=(${LAYOUTS:-season one})
ROOT="${SCALE_DIR:-/tmp/auto-train-scale}"
EXTRA_ARGS="${EXTRA_ARGS:-}"
cargo build --release --quiet --bin auto-train --example synth_leagues
BIN="${BIN:-$PWD/target/release/auto-train}"
GEN="$PWD/target/release/examples/synth_leagues"
mkdir -p "$ROOT"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-7s %-7s %8s %10s %8s %10s %10s %8s %10s %10s %14s\n" width layout leagues matches data_MB \
    wall_s cpu_s rss_MB dry_wall_s dry_rss_MB us_per_match
for width in "${WIDTHS[@]}"; do
    for layout in "${LAYOUTS[@]}"; do
        rows=()
        for n in "${SIZES[@]}"; do
            data="$ROOT/$width-$layout-$n-$SEASONS"
            flags=(--layout "$layout")
            [ "$width" = wide ] && flags+=(--wide)
            [ -d "$data" ] || "$GEN" --out "$data" --leagues "$n" --seasons "$SEASONS" --seed 1 \
                "${flags[@]}" >/dev/null
            work="$ROOT/work-$width-$layout-$n"
            rm -rf "$work"; mkdir -p "$work"
            /usr/bin/time -v "$BIN" -q --json --data-dir "$data" --models-dir "$work/models" \
                --registry "$work/registry.json" $EXTRA_ARGS >"$work/summary.json" 2>"$work/time.txt" || {
                echo "run failed for $width $layout $n leagues:"; tail -20 "$work/time.txt"; exit 1; }
            /usr/bin/time -v "$BIN" -q --dry-run --data-dir "$data" --models-dir "$work/empty" \
                --registry "$work/empty.json" $EXTRA_ARGS 2>"$work/dry.txt" >/dev/null
            read -r matches mb wall cpu rss dry dry_rss <<<"$(python3 - "$work" "$data" <<'PY'
import json, os, re, sys
w, data = sys.argv[1], sys.argv[2]
def parse(f):
    t = open(f).read()
    m = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", t)
    wall = int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    cpu = sum(float(re.search(rf"{k} time \(seconds\): ([\d.]+)", t).group(1)) for k in ("User", "System"))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
    return wall, cpu, rss
s = json.load(open(f"{w}/summary.json"))
matches = s["data"]["matches"]
size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(data) for f in fs) / 1e6
wall, cpu, rss = parse(f"{w}/time.txt")
dry, _, dry_rss = parse(f"{w}/dry.txt")
print(matches, size, wall, cpu, rss, dry, dry_rss)
PY
)"
            printf "%-7s %-7s %8s %10s %8.0f %10.2f %10.2f %8.0f %10.2f %10.0f %14.2f\n" "$width" "$layout" \
                "$n" "$matches" "$mb" "$wall" "$cpu" "$rss" "$dry" "$dry_rss" \
                "$(python3 -c "print($wall / $matches * 1e6)")"
            rows+=("$matches $wall")
            rm -rf "$work"
        done
        python3 - "$width $layout" "${rows[@]}" <<'PY'
import sys
name, rows = sys.argv[1], [tuple(map(float, r.split())) for r in sys.argv[2:]]
if len(rows) >= 2:
    (m0, t0), (m1, t1) = rows[0], rows[-1]
    ratio = (t1 / m1) / (t0 / m0)
    print(f"{name}: time per match, largest / smallest: {ratio:.2f} "
          f"({'linear' if ratio <= 1.5 else 'NOT linear'}: within 1.5x counts as linear)")
PY
    done
done
