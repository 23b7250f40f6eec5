#!/usr/bin/env python3
"""Quality benchmark: train on seasons up to 2021-22, predict every 2022-23 match with
`auto-train predict`, and score 1x2_v2, poisson_v2 and draw_specialist beside base rates and the
betting market (Pinnacle opening odds, else the market average, margin removed proportionally)
on the same matches. Runs twice: with the data as it is, and with every odds column removed.

Usage: scripts/benchmark_quality.py [--data DIR] [--bin PATH] [--test-season 2022-23]
(default data: data/processed, the 8 leagues of the old pipeline). Only the standard library.
Nothing is written outside a temporary directory.
"""
import argparse
import csv
import io
import math
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SLUGS = {"E0": "premier_league", "E1": "championship", "SP1": "la_liga", "I1": "serie_a",
         "D1": "bundesliga", "F1": "ligue_1", "N1": "eredivisie", "P1": "primeira_liga",
         "SC0": "scottish_premiership", "B1": "belgian_pro_league"}
# Columns kept when odds are removed: everything that is not a price.
NO_ODDS_KEEP = {"Div", "Date", "Time", "HomeTeam", "AwayTeam", "FTHG", "FTAG", "FTR", "HTHG",
                "HTAG", "HTR", "Referee", "HS", "AS", "HST", "AST", "HF", "AF", "HC", "AC",
                "HY", "AY", "HR", "AR"}
EPS = 1e-15


def read_rows(path):
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        return list(csv.DictReader(f))


def write_rows(path, rows, fields):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def fields_of(path, keep_odds):
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        header = next(csv.reader(f))
    return [h for h in header if h and (keep_odds or h in NO_ODDS_KEEP)]


def result_of(row):
    try:
        hg, ag = int(row["FTHG"]), int(row["FTAG"])
    except (KeyError, ValueError):
        return None
    return 0 if hg > ag else (1 if hg == ag else 2)


def market(row):
    """Pre-match implied probabilities, margin removed proportionally: Pinnacle opening, else average."""
    for cols in (("PSH", "PSD", "PSA"), ("AvgH", "AvgD", "AvgA"), ("BbAvH", "BbAvD", "BbAvA")):
        try:
            odds = [float(row[c]) for c in cols]
        except (KeyError, ValueError, TypeError):
            continue
        if all(o > 1.0 for o in odds):
            inv = [1.0 / o for o in odds]
            s = sum(inv)
            return [x / s for x in inv]
    return None


def rps(p, o):
    obs = [0.0, 0.0, 0.0]
    obs[o] = 1.0
    c1 = p[0] - obs[0]
    c2 = p[0] + p[1] - obs[0] - obs[1]
    return 0.5 * (c1 * c1 + c2 * c2)


def scores3(probs, outcomes):
    n = len(outcomes)
    return {
        "rps": sum(rps(p, o) for p, o in zip(probs, outcomes)) / n,
        "log_loss": -sum(math.log(min(max(p[o], EPS), 1 - EPS)) for p, o in zip(probs, outcomes)) / n,
        "accuracy": sum(max(range(3), key=lambda k: p[k]) == o for p, o in zip(probs, outcomes)) / n,
    }


def auc(p, y):
    pairs = sorted(zip(p, y))
    pos = sum(y)
    neg = len(y) - pos
    if pos == 0 or neg == 0:
        return float("nan")
    rank_sum, i = 0.0, 0
    while i < len(pairs):
        j = i
        while j + 1 < len(pairs) and pairs[j + 1][0] == pairs[i][0]:
            j += 1
        avg = (i + j) / 2 + 1
        rank_sum += sum(avg for k in range(i, j + 1) if pairs[k][1])
        i = j + 1
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg)


def binary_log_loss(p, y):
    return -sum(math.log(min(max(q if e else 1 - q, EPS), 1)) for q, e in zip(p, y)) / len(y)


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"command failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")
    return r.stdout


def evaluate(binary, data, test_season, keep_odds, work):
    label = "with odds" if keep_odds else "no odds"
    train_dir = os.path.join(work, f"train_{int(keep_odds)}")
    full_dir = os.path.join(work, f"full_{int(keep_odds)}")
    models = os.path.join(work, f"models_{int(keep_odds)}")
    divs = sorted(d for d in os.listdir(data) if os.path.isdir(os.path.join(data, d)))
    for div in divs:
        for name in sorted(os.listdir(os.path.join(data, div))):
            if not name.endswith(".csv"):
                continue
            src = os.path.join(data, div, name)
            fields = fields_of(src, keep_odds)
            rows = read_rows(src)
            write_rows(os.path.join(full_dir, div, name), rows, fields)
            if name[:7] < test_season:
                write_rows(os.path.join(train_dir, div, name), rows, fields)
    run([binary, "-q", "--data-dir", train_dir, "--models-dir", models,
         "--registry", os.path.join(work, f"registry_{int(keep_odds)}.json")])
    per_league = {}
    for div in divs:
        test_file = os.path.join(data, div, f"{test_season}.csv")
        if not os.path.exists(test_file):
            continue
        league = SLUGS.get(div, div.lower())
        rows = [r for r in read_rows(test_file) if result_of(r) is not None]
        # Fixtures carry the row's pre-match odds (when kept); results are ignored by predict.
        fixtures = os.path.join(work, f"fixtures_{div}_{int(keep_odds)}.csv")
        write_rows(fixtures, rows, fields_of(test_file, keep_odds))
        out = run([binary, "predict", "--league", league, "--fixtures", fixtures,
                   "--data-dir", full_dir, "--models-dir", models])
        preds = list(csv.DictReader(io.StringIO(out)))
        assert len(preds) == len(rows), (div, len(preds), len(rows))
        # Score only matches with a market price, so that every forecaster is on the same rows.
        idx = [i for i, r in enumerate(rows) if market(r) is not None]
        if not idx:
            continue
        outcomes = [result_of(rows[i]) for i in idx]
        train_outcomes = [result_of(r) for name in sorted(os.listdir(os.path.join(train_dir, div)))
                          for r in read_rows(os.path.join(train_dir, div, name)) if result_of(r) is not None]
        base = [train_outcomes.count(k) / len(train_outcomes) for k in range(3)]
        res = {"n": len(idx)}
        res["1x2_v2"] = scores3([[float(preds[i][f"1x2_v2_{k}"]) for k in ("home", "draw", "away")] for i in idx], outcomes)
        res["poisson_v2"] = scores3([[float(preds[i][f"poisson_v2_{k}"]) for k in ("home", "draw", "away")] for i in idx], outcomes)
        res["market"] = scores3([market(rows[i]) for i in idx], outcomes)
        res["base_rates"] = scores3([base] * len(idx), outcomes)
        draws = [o == 1 for o in outcomes]
        dp = [float(preds[i]["draw_specialist_draw"]) for i in idx]
        res["draw_auc"] = auc(dp, draws)
        res["draw_log_loss"] = binary_log_loss(dp, draws)
        res["draw_constant_log_loss"] = binary_log_loss([base[1]] * len(idx), draws)
        res["market_draw_auc"] = auc([market(rows[i])[1] for i in idx], draws)
        per_league[div] = res
    print(f"\n== {label}: trained to the season before {test_season}, scored on {test_season} ==")
    print(f"{'div':<5}{'n':>5} | {'1x2 RPS':>8}{'LL':>7}{'acc':>6} | {'pois RPS':>8}{'LL':>7}{'acc':>6} | "
          f"{'mkt RPS':>8}{'LL':>7}{'acc':>6} | {'base RPS':>8} | {'draw AUC':>8}{'LL':>7}{'const':>7}{'mktAUC':>7}")
    for div, r in per_league.items():
        print(f"{div:<5}{r['n']:>5} | {r['1x2_v2']['rps']:>8.4f}{r['1x2_v2']['log_loss']:>7.4f}{r['1x2_v2']['accuracy']:>6.3f} | "
              f"{r['poisson_v2']['rps']:>8.4f}{r['poisson_v2']['log_loss']:>7.4f}{r['poisson_v2']['accuracy']:>6.3f} | "
              f"{r['market']['rps']:>8.4f}{r['market']['log_loss']:>7.4f}{r['market']['accuracy']:>6.3f} | "
              f"{r['base_rates']['rps']:>8.4f} | {r['draw_auc']:>8.4f}{r['draw_log_loss']:>7.4f}{r['draw_constant_log_loss']:>7.4f}{r['market_draw_auc']:>7.4f}")
    m = lambda f: sum(f(r) for r in per_league.values()) / len(per_league)
    print(f"{'mean':<10} | {m(lambda r: r['1x2_v2']['rps']):>8.4f}{m(lambda r: r['1x2_v2']['log_loss']):>7.4f}{m(lambda r: r['1x2_v2']['accuracy']):>6.3f} | "
          f"{m(lambda r: r['poisson_v2']['rps']):>8.4f}{m(lambda r: r['poisson_v2']['log_loss']):>7.4f}{m(lambda r: r['poisson_v2']['accuracy']):>6.3f} | "
          f"{m(lambda r: r['market']['rps']):>8.4f}{m(lambda r: r['market']['log_loss']):>7.4f}{m(lambda r: r['market']['accuracy']):>6.3f} | "
          f"{m(lambda r: r['base_rates']['rps']):>8.4f} | {m(lambda r: r['draw_auc']):>8.4f}{m(lambda r: r['draw_log_loss']):>7.4f}"
          f"{m(lambda r: r['draw_constant_log_loss']):>7.4f}{m(lambda r: r['market_draw_auc']):>7.4f}")
    print("References (issue, 2022-23, mean RPS over 8 leagues): base rates 0.2305, penaltyblog Dixon-Coles 0.2074, "
          "Pinnacle opening 0.1982, Pinnacle closing 0.1971. The market column here is computed from the odds "
          "columns on the same rows (Pinnacle opening, else the average).")
    return per_league


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(ROOT, "data", "processed"))
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "auto-train"))
    ap.add_argument("--test-season", default="2022-23")
    args = ap.parse_args()
    if not os.path.exists(args.bin):
        subprocess.run(["cargo", "build", "--release"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="auto-train-bench-")
    try:
        with_odds = evaluate(args.bin, args.data, args.test_season, True, work)
        # The no-odds run needs market odds only for choosing the scored rows: use the same rows.
        evaluate(args.bin, args.data, args.test_season, False, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
