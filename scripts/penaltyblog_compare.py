#!/usr/bin/env python3
"""Fits penaltyblog's DixonColesGoalModel on exactly the matches and weights auto-train uses and
compares fit time and weighted log-likelihood with auto-train's own fit.

Inputs (written by scripts/penaltyblog_compare.sh):
  DUMP_DIR/<league>.csv      home, away, home_goals, away_goals, weight (from examples/fit_timing)
  OURS_TSV                   examples/fit_timing output (median fit seconds, WLL per league)
  METRICS_DIR                models dir of an `auto-train --xi 0.0018` run (metrics.json WLL)
  PROCESS_TSV                (optional) median wall and CPU time of our whole Poisson-only process

Both log-likelihoods use auto-train's formula, with the full Poisson pmf:
  WLL = sum_i w_i * (ln Pois(x_i; lambda_i) + ln Pois(y_i; mu_i) + ln tau(x_i, y_i))
  lambda = exp(home_advantage + attack[home] + defence[away]), mu = exp(attack[away] + defence[home])
  tau(0,0) = 1 - lambda mu rho, tau(0,1) = 1 + lambda rho, tau(1,0) = 1 + mu rho, tau(1,1) = 1 - rho
(penaltyblog parameterises the model the same way, so its fitted parameters plug in directly).
"""
import csv
import json
import os
import statistics
import sys
import time

import numpy as np
from scipy.special import gammaln

import penaltyblog as pb


def weighted_ll(hg, ag, hi, ai, w, attack, defence, hfa, rho):
    lam = np.exp(hfa + attack[hi] + defence[ai])
    mu = np.exp(attack[ai] + defence[hi])
    tau = np.ones_like(lam)
    tau = np.where((hg == 0) & (ag == 0), 1 - lam * mu * rho, tau)
    tau = np.where((hg == 0) & (ag == 1), 1 + lam * rho, tau)
    tau = np.where((hg == 1) & (ag == 0), 1 + mu * rho, tau)
    tau = np.where((hg == 1) & (ag == 1), 1 - rho, tau)
    ll = (hg * np.log(lam) - lam - gammaln(hg + 1)) + (ag * np.log(mu) - mu - gammaln(ag + 1))
    keep = w > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.sum(w[keep] * (ll[keep] + np.log(tau[keep]))))


def main():
    dump_dir, ours_tsv, metrics_dir = sys.argv[1], sys.argv[2], sys.argv[3]
    repeats = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    process = None
    if len(sys.argv) > 5:
        with open(sys.argv[5]) as f:
            process = next(csv.DictReader(f, delimiter="\t"))
    ours = {}
    with open(ours_tsv) as f:
        for row in csv.DictReader(f, delimiter="\t"):
            ours[row["league"]] = row
    print(f"penaltyblog {pb.__version__}; fits timed: penaltyblog median of {repeats}, "
          f"auto-train median of 20 (examples/fit_timing)")
    header = (f"{'league':<16}{'matches':>8}{'teams':>6}{'pb fit ms':>11}{'ours ms':>9}"
              f"{'speed-up':>10}{'pb WLL':>14}{'our WLL':>14}{'metrics.json WLL':>18}{'ours-pb':>10}")
    print(header)
    ratios = []
    pb_total_ms = 0.0
    for league in sorted(ours):
        path = os.path.join(dump_dir, f"{league}.csv")
        home, away, hg, ag, w = [], [], [], [], []
        with open(path) as f:
            for r in csv.DictReader(f):
                home.append(r["home"]); away.append(r["away"])
                hg.append(int(r["home_goals"])); ag.append(int(r["away_goals"]))
                w.append(float(r["weight"]))
        hg, ag, w = np.array(hg), np.array(ag), np.array(w, dtype=float)
        times = []
        model = None
        for _ in range(repeats):
            model = pb.models.DixonColesGoalModel(hg, ag, home, away, weights=w)
            t0 = time.perf_counter()
            model.fit()
            times.append(time.perf_counter() - t0)
        n = model.n_teams
        p = np.asarray(model._params, dtype=float)
        idx = {t: i for i, t in enumerate(model.teams)}
        hi = np.array([idx[t] for t in home]); ai = np.array([idx[t] for t in away])
        pb_wll = weighted_ll(hg, ag, hi, ai, w, p[:n], p[n:2 * n], p[-2], p[-1])
        pb_ms = statistics.median(times) * 1000
        our_ms = float(ours[league]["median_s"]) * 1000
        our_wll = float(ours[league]["weighted_log_likelihood"])
        mpath = os.path.join(metrics_dir, "leagues", league, "poisson_v2", "metrics.json")
        m_wll = json.load(open(mpath))["weighted_log_likelihood"] if os.path.exists(mpath) else float("nan")
        ratio = pb_ms / our_ms
        ratios.append(ratio)
        pb_total_ms += pb_ms
        print(f"{league:<16}{len(hg):>8}{n:>6}{pb_ms:>11.1f}{our_ms:>9.3f}{ratio:>9.0f}x"
              f"{pb_wll:>14.4f}{our_wll:>14.4f}{m_wll:>18.4f}{our_wll - pb_wll:>10.4f}")
    print(f"speed-up: median {statistics.median(ratios):.0f}x, min {min(ratios):.0f}x "
          f"(target >= 20x); ours-pb WLL >= 0 means our likelihood is equal or higher")
    if process:
        wall_ms = float(process["median_wall_s"]) * 1000
        cpu_ms = float(process["median_cpu_s"]) * 1000
        print(f"whole process: auto-train --model-type poisson_v2 --xi 0.0018 over {len(ratios)} "
              f"leagues, median of {process['runs']} cold runs: {wall_ms:.1f} ms wall "
              f"(min {float(process['min_wall_s']) * 1000:.1f} ms, {cpu_ms:.1f} ms CPU); "
              f"penaltyblog's fits of the same leagues summed: {pb_total_ms:.1f} ms; "
              f"ratio {pb_total_ms / wall_ms:.1f}x wall, {pb_total_ms / cpu_ms:.1f}x CPU "
              f"(target >= 20x)")


if __name__ == "__main__":
    main()
