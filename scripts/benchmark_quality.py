#!/usr/bin/env python3
"""Quality benchmark, reduced to `auto-train backtest`: trains on the seasons before the test
season, predicts every match of the test season day by day (the command's own protocol), and prints
per league the RPS / log loss / accuracy of 1x2_v2 and poisson_v2 beside the opening market
(Pinnacle, else the average, margin removed), the closing market and base rates, and the draw
specialist's AUC and log loss beside the market's, all read from the backtest's summary.json.
Runs twice: with the data as it is, and with every odds column removed (a copy in a temp dir).

Usage: scripts/benchmark_quality.py [--data DIR] [--bin PATH] [--test-season 2022-23]
       [--refresh never|daily|weekly] [--replay day|segment]
Only the standard library. Nothing is written outside a temporary directory.
"""
import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Columns kept when odds are removed: everything that is not a price.
NO_ODDS_KEEP = {"Div", "Date", "Time", "HomeTeam", "AwayTeam", "FTHG", "FTAG", "FTR", "HTHG",
                "HTAG", "HTR", "Referee", "HS", "AS", "HST", "AST", "HF", "AF", "HC", "AC",
                "HY", "AY", "HR", "AR"}


def strip_odds(src, dst):
    """Copies every CSV under src to dst with only the NO_ODDS_KEEP columns."""
    for dirpath, _, files in os.walk(src):
        for name in files:
            if not name.lower().endswith(".csv"):
                continue
            path = os.path.join(dirpath, name)
            target = os.path.join(dst, os.path.relpath(path, src))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(path, newline="", encoding="utf-8", errors="replace") as f:
                rows = list(csv.DictReader(f))
                fields = [h for h in (rows[0].keys() if rows else []) if h in NO_ODDS_KEEP]
            with open(target, "w", newline="", encoding="utf-8") as f:
                w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
                w.writeheader()
                w.writerows(rows)


def backtest(binary, data, season, refresh, replay, out):
    start = int(season[:4])
    cmd = [binary, "backtest", "-q", "--data-dir", data, "--from", f"{start}-07-01",
           "--to", f"{start + 1}-06-30", "--refresh", refresh, "--replay", replay,
           "--out", out, "--json"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"command failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")
    return json.loads(r.stdout)


def fmt(x, spec=".4f"):
    return "-" if x is None else format(x, spec)


def show(summary, label):
    print(f"\n== {label}: {summary['from']} .. {summary['to']}, refresh {summary['refresh']}, "
          f"{summary['matches']} matches ==")
    print(f"{'league':<22}{'n':>5} | {'1x2 RPS':>8}{'LL':>7}{'acc':>6} | {'pois RPS':>8}{'LL':>7}"
          f"{'acc':>6} | {'open RPS':>8}{'close':>7} | {'base RPS':>8} | {'draw AUC':>8}{'LL':>7}"
          f"{'mktAUC':>7}{'mktLL':>7}")
    rows = list(summary["by_league"].items()) + [("pooled", summary["pooled"])]
    for league, blocks in rows:
        one, pois, draw = (blocks.get(k) for k in ("1x2_v2", "poisson_v2", "draw_specialist"))
        ref = one or pois
        if ref is None:
            continue
        opening = ref["market_open"]
        closing = ref["market_close"]
        dm = draw and draw["market_open"]
        print(f"{league:<22}{ref['n']:>5} | "
              f"{fmt(one and one['model']['rps']):>8}{fmt(one and one['model']['log_loss']):>7}"
              f"{fmt(one and one['model']['accuracy'], '.3f'):>6} | "
              f"{fmt(pois and pois['model']['rps']):>8}{fmt(pois and pois['model']['log_loss']):>7}"
              f"{fmt(pois and pois['model']['accuracy'], '.3f'):>6} | "
              f"{fmt(opening and opening['market']['rps']):>8}{fmt(closing and closing['market']['rps']):>7} | "
              f"{fmt(ref['base_rates']['rps']):>8} | "
              f"{fmt(draw and draw['model']['draw_auc']):>8}{fmt(draw and draw['model']['log_loss']):>7}"
              f"{fmt(dm and dm['market']['draw_auc']):>7}{fmt(dm and dm['market']['log_loss']):>7}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(ROOT, "data", "processed"))
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "auto-train"))
    ap.add_argument("--test-season", default="2022-23")
    ap.add_argument("--refresh", default="never", choices=["never", "daily", "weekly"])
    ap.add_argument("--replay", default="day", choices=["day", "segment"])
    args = ap.parse_args()
    if not os.path.exists(args.bin):
        subprocess.run(["cargo", "build", "--release"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="auto-train-bench-")
    try:
        with_odds = backtest(args.bin, args.data, args.test_season, args.refresh, args.replay,
                             os.path.join(work, "with_odds"))
        show(with_odds, "with odds")
        no_odds_data = os.path.join(work, "data_no_odds")
        strip_odds(args.data, no_odds_data)
        no_odds = backtest(args.bin, no_odds_data, args.test_season, args.refresh, args.replay,
                           os.path.join(work, "no_odds"))
        show(no_odds, "every odds column removed (no market to compare with)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
