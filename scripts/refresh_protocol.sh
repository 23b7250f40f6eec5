#!/usr/bin/env bash
# Is nightly refreshing better, never worse, under each selection protocol? For each of the
# seasons 2020-21, 2021-22 and 2022-23 of the shipped leagues (models first trained on every
# season before it), `auto-train backtest` with --refresh daily and --refresh never, under
# --selection window (the default) and --selection season (the protocol before), plus
# poisson_v2 refreshed daily with a fixed --xi 0.0018; then one table of the refresh-protocol
# issue's criteria for both protocols:
#   - poisson_v2 daily beats never (pooled RPS), and is no worse in at least 7 of 8 leagues
#     (a league that is worse is shown with the standard error of its per-match differences,
#     and the leagues worse by more than two of them are counted: shown, not a criterion);
#   - poisson_v2 daily is at least as good as daily with --xi 0.0018 (pooled RPS);
#   - 1x2_v2 daily is no worse than never (pooled RPS), and its pooled RPS difference to the
#     opening market is within one standard error or better;
#   - poisson_v2's over/under 2.5 log loss (refreshed daily) is below the constant base rate,
#     pooled and in at least 7 of 8 leagues.
# Only the model types a criterion needs are trained (1x2_v2 and poisson_v2). Slow: nine daily
# backtests (minutes each on 2 cores). Usage:
#   scripts/refresh_protocol.sh [DATA_DIR]        (JOBS=N backtests at once, default 2;
#                                                  BIN=path to use a built binary as it is)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
data="${1:-$root/data/processed}"
if [[ -z "${BIN:-}" ]]; then
  cargo build --release --quiet --manifest-path "$root/Cargo.toml"
  BIN="${CARGO_TARGET_DIR:-$root/target}/release/auto-train"
fi
jobs="${JOBS:-2}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# One line per backtest: name, then its arguments.
plan="$work/plan"
: > "$plan"
for season in 2020 2021 2022; do
  span="--from $season-07-01 --to $((season + 1))-06-30"
  for selection in window season; do
    for refresh in daily never; do
      echo "$season-$selection-$refresh $span --refresh $refresh --selection $selection --model-type poisson_v2 --model-type 1x2_v2" >> "$plan"
    done
  done
  echo "$season-xi-daily $span --refresh daily --xi 0.0018 --model-type poisson_v2" >> "$plan"
done

run_one() {
  local name="$1"; shift
  local start end
  start=$(date +%s)
  # shellcheck disable=SC2068
  "$BIN" backtest -q --json --data-dir "$DATA" --out "$WORK/$name" $@ > "$WORK/$name.json"
  end=$(date +%s)
  echo "$name: $((end - start)) s" >&2
}
export -f run_one
export BIN WORK="$work" DATA="$data"
# Daily runs first (the slow ones), two at a time by default.
sort -t- -k3,3 "$plan" | xargs -P "$jobs" -L 1 bash -c 'run_one "$@"' _

python3 - "$work" <<'PY'
import csv, json, math, sys
work = sys.argv[1]
def load(name):
    return json.load(open(f"{work}/{name}.json"))
def rps(run, ty, league=None):
    b = run["pooled"][ty] if league is None else run["by_league"][league][ty]
    return b["model"]["rps"]
def match_rps(name):
    """(league, date, home, away) -> poisson_v2's RPS of that match in a backtest's predictions."""
    out = {}
    for r in csv.DictReader(open(f"{work}/{name}/predictions.csv")):
        p = [float(r[f"poisson_v2_{c}"]) for c in ("home", "draw", "away")]
        y = {"H": (1, 1), "D": (0, 1), "A": (0, 0)}[r["result"]]
        out[(r["league"], r["date"], r["home_team"], r["away_team"])] = (
            (p[0] - y[0]) ** 2 + (p[0] + p[1] - y[1]) ** 2) / 2
    return out
def paired(daily, never, league):
    """Mean and standard error of the per-match RPS differences daily - never of a league."""
    x = [v - never[k] for k, v in daily.items() if k[0] == league]
    m = sum(x) / len(x)
    return m, math.sqrt(sum((v - m) ** 2 for v in x) / (len(x) - 1) / len(x))
rows = []
def row(season, criterion, target, cells):
    rows.append((season, criterion, target, cells))
for season in (2020, 2021, 2022):
    label = f"{season}-{(season + 1) % 100:02d}"
    xi = load(f"{season}-xi-daily")
    cells = {}
    for sel in ("window", "season"):
        daily, never = load(f"{season}-{sel}-daily"), load(f"{season}-{sel}-never")
        c = {}
        d, n = rps(daily, "poisson_v2"), rps(never, "poisson_v2")
        c["p_pooled"] = (f"{d:.4f} vs {n:.4f} ({d - n:+.4f})", d < n)
        leagues = sorted(daily["by_league"])
        per_match = (match_rps(f"{season}-{sel}-daily"), match_rps(f"{season}-{sel}-never"))
        diffs = {l: paired(*per_match, l) for l in leagues}
        worse = [(l, diffs[l][1]) for l in leagues
                 if rps(daily, "poisson_v2", l) > rps(never, "poisson_v2", l)]
        ok = len(leagues) - len(worse)
        c["p_leagues"] = (f"{ok}/{len(leagues)}" + ("" if not worse else " (worse: " + ", ".join(
            f"{l} {rps(daily, 'poisson_v2', l) - rps(never, 'poisson_v2', l):+.4f} (SE {se:.4f})"
            for l, se in worse) + ")"), ok >= 7)
        beyond = [l for l in leagues if diffs[l][0] > 2 * diffs[l][1]]
        c["p_2se"] = (f"{len(beyond)}/{len(leagues)}" + (f" ({', '.join(beyond)})" if beyond else ""),
                      None)
        x = rps(xi, "poisson_v2")
        c["p_xi"] = (f"{d:.4f} vs {x:.4f} ({d - x:+.4f})", d <= x)
        d1, n1 = rps(daily, "1x2_v2"), rps(never, "1x2_v2")
        c["o_pooled"] = (f"{d1:.4f} vs {n1:.4f} ({d1 - n1:+.4f})", d1 <= n1)
        diff = daily["pooled"]["1x2_v2"]["market_open"]["difference"]["rps"]
        c["o_market"] = (f"{diff['mean']:+.4f} (SE {diff['se']:.4f})", diff["mean"] <= diff["se"])
        ou = daily["pooled"]["poisson_v2"]["over_2_5"]
        m, b = ou["model"]["log_loss"], ou["base_rate"]["log_loss"]
        c["ou_pooled"] = (f"{m:.4f} vs {b:.4f} ({m - b:+.4f})", m < b)
        bad = []
        for l in leagues:
            g = daily["by_league"][l]["poisson_v2"]["over_2_5"]
            if g["model"]["log_loss"] >= g["base_rate"]["log_loss"]:
                bad.append((l, g["model"]["log_loss"] - g["base_rate"]["log_loss"]))
        ok = len(leagues) - len(bad)
        c["ou_leagues"] = (f"{ok}/{len(leagues)}" + ("" if not bad else " (not below: " + ", ".join(
            f"{l} {x:+.4f}" for l, x in bad) + ")"), ok >= 7)
        open_ou = ou.get("market_open")
        c["ou_market"] = (f"{open_ou['model']['log_loss']:.4f} vs {open_ou['market']['log_loss']:.4f}"
                          if open_ou else "-", None)
        cells[sel] = c
    for key, criterion, target in (
        ("p_pooled", "poisson_v2 RPS, daily vs never (pooled)", "daily < never"),
        ("p_leagues", "poisson_v2 leagues where daily <= never", ">= 7 of 8"),
        ("p_2se", "poisson_v2 leagues where daily is worse than never by over 2 paired SE", "(shown)"),
        ("p_xi", "poisson_v2 RPS, daily vs daily --xi 0.0018 (pooled)", "daily <= fixed"),
        ("o_pooled", "1x2_v2 RPS, daily vs never (pooled)", "daily <= never"),
        ("o_market", "1x2_v2 daily - opening market, RPS (pooled)", "mean <= 1 SE"),
        ("ou_pooled", "poisson_v2 O/U 2.5 log loss (daily) vs base rate (pooled)", "below"),
        ("ou_leagues", "poisson_v2 leagues where O/U 2.5 log loss < base rate", ">= 7 of 8"),
        ("ou_market", "poisson_v2 O/U 2.5 log loss (daily) vs opening odds (pooled)", "(shown)"),
    ):
        row(label, criterion, target, {s: cells[s][key] for s in cells})

def mark(v):
    return "" if v is None else (" **met**" if v else " **not met**")
print("| season | criterion | target | window (new, default) | season (old) |")
print("|---|---|---|---|---|")
for season, criterion, target, cells in rows:
    w, s = cells["window"], cells["season"]
    print(f"| {season} | {criterion} | {target} | {w[0]}{mark(w[1])} | {s[0]}{mark(s[1])} |")
met = {s: [c[s][1] for _, _, _, c in rows if c[s][1] is not None] for s in ("window", "season")}
for s, v in met.items():
    print(f"\n{s}: {sum(v)} of {len(v)} criteria met")
PY
