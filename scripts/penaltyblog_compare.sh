#!/usr/bin/env bash
# Poisson v2 fit vs penaltyblog 1.13.1 DixonColesGoalModel.fit on the same matches and weights
# (w = exp(-xi * days before the league's latest match), xi = 0.0018), per league of DATA_DIR.
# penaltyblog goes into a throwaway virtual environment under /tmp (kept between runs as a cache;
# delete /tmp/auto-train-penaltyblog-venv to start clean).
#
#   scripts/penaltyblog_compare.sh [DATA_DIR] [PB_REPEATS]     (defaults data/processed, 5)
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
WORK="$(mktemp -d /tmp/auto-train-pbcompare.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
# Our full training with the same fixed decay: metrics.json holds the weighted log-likelihood.
target/release/auto-train -q --xi "$XI" --data-dir "$DATA_DIR" --models-dir "$WORK/models" \
    --registry "$WORK/registry.json"
# Our fit alone, same inputs as the trainer builds, median of 20; dumps those inputs for Python.
target/release/examples/fit_timing --data-dir "$DATA_DIR" --xi "$XI" --repeats 20 \
    --dump "$WORK/dump" >"$WORK/ours.tsv"
"$VENV/bin/python" scripts/penaltyblog_compare.py "$WORK/dump" "$WORK/ours.tsv" "$WORK/models" "$REPEATS"
