#!/usr/bin/env bash
# Poisson v2 fit vs penaltyblog 1.13.1 DixonColesGoalModel.fit on the same matches and weights
# (w = exp(-xi * days before the league's latest match), xi = 0.0018), per league of DATA_DIR;
# and our whole process (`--model-type poisson_v2 --xi 0.0018 --ridge 0 --market-weight 0`: the
# goals fit penaltyblog makes, every league) against penaltyblog's fit times of the same leagues
# summed, both measured in this run.
# penaltyblog goes into a throwaway virtual environment under /tmp (kept between runs as a cache;
# delete /tmp/auto-train-penaltyblog-venv to start clean).
#
#   scripts/penaltyblog_compare.sh [DATA_DIR] [PB_REPEATS]     (defaults data/processed, 5)
#   PROCESS_RUNS=30: cold runs of our whole process (median wall time; this VM is noisy run to run)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA_DIR="${1:-data/processed}"
REPEATS="${2:-5}"
XI=0.0018
PB_VERSION="${PB_VERSION:-1.13.1}"
VENV="${VENV:-/tmp/auto-train-penaltyblog-venv}"
if ! "$VENV/bin/python" -c "import penaltyblog, sys; sys.exit(penaltyblog.__version__ != '$PB_VERSION')" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "penaltyblog==$PB_VERSION"
fi
cargo build --release --quiet --bin auto-train --example fit_timing
RELEASE="${CARGO_TARGET_DIR:-$PWD/target}/release"
WORK="$(mktemp -d /tmp/auto-train-pbcompare.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
# Our whole process, Poisson only, with the same fixed decay (load, every league's training,
# metrics, model files, registry): median wall time of PROCESS_RUNS cold runs, a fresh models dir
# and registry each. The last run's metrics.json files hold the weighted log-likelihoods.
RELEASE="$RELEASE" python3 - "$WORK" "$DATA_DIR" "$XI" "${PROCESS_RUNS:-30}" >"$WORK/process.tsv" <<'PY'
import os, resource, shutil, statistics, subprocess, sys, time
work, data_dir, xi, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
walls, cpus = [], []
for i in range(runs):
    shutil.rmtree(f"{work}/models", ignore_errors=True)
    if os.path.exists(f"{work}/registry.json"):
        os.remove(f"{work}/registry.json")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([os.environ["RELEASE"] + "/auto-train", "-q", "--model-type", "poisson_v2", "--xi", xi, "--ridge", "0", "--market-weight", "0",
                    "--data-dir", data_dir, "--models-dir", f"{work}/models",
                    "--registry", f"{work}/registry.json"], check=True)
    walls.append(time.perf_counter() - t0)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
print("runs\tmedian_wall_s\tmin_wall_s\tmedian_cpu_s")
print(f"{runs}\t{statistics.median(walls)}\t{min(walls)}\t{statistics.median(cpus)}")
PY
# Our fit alone, same inputs as the trainer builds, median of 20; dumps those inputs for Python.
"$RELEASE/examples/fit_timing" --data-dir "$DATA_DIR" --xi "$XI" --repeats 20 \
    --dump "$WORK/dump" >"$WORK/ours.tsv"
"$VENV/bin/python" scripts/penaltyblog_compare.py "$WORK/dump" "$WORK/ours.tsv" "$WORK/models" "$REPEATS" \
    "$WORK/process.tsv"
