#!/usr/bin/env bash
# Determinism: trains the same data twice, with RAYON_NUM_THREADS=1 and =2 (and POLARS_MAX_THREADS
# alike), and compares every file of the two models dirs and the two registries byte for byte,
# ignoring only trained_date.
#
# How trained_date is ignored: it is the only value of the form "YYYY-MM-DD HH:MM:SS" that this
# tool writes (other dates are plain YYYY-MM-DD). Each file's bytes get every such timestamp
# replaced by a placeholder of the same length (in the pickle the string keeps its length prefix)
# and the script checks that the number of replacements equals the number of "trained_date" keys
# in the file, so nothing else can be masked. Everything else must be identical, except the
# SHA-256 of each published file that the manifests and the registry record ("files"): a file
# holding a trained_date differs by it between the runs, and so does its hash. Each such hash is
# checked against the file it names in its own run, then masked.
#
#   scripts/determinism.sh [DATA_DIR]     (default data/processed)
#   BIN=/path/to/auto-train scripts/determinism.sh     (a built binary as it is)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA_DIR="${1:-data/processed}"
if [[ -z "${BIN:-}" ]]; then
    cargo build --release --quiet
    BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/auto-train"
fi
WORK="$(mktemp -d /tmp/auto-train-determinism.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
for t in 1 2; do
    RAYON_NUM_THREADS=$t POLARS_MAX_THREADS=$t "$BIN" -q --data-dir "$DATA_DIR" \
        --models-dir "$WORK/t$t/models" --registry "$WORK/t$t/registry.json"
    # Different seconds in trained_date between the runs are allowed, and tested for.
    sleep 1
done
python3 - "$WORK/t1" "$WORK/t2" <<'PY'
import os, re, sys
a, b = sys.argv[1], sys.argv[2]
stamp = re.compile(rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
def files(root):
    out = set()
    for d, _, fs in os.walk(root):
        out |= {os.path.relpath(os.path.join(d, f), root) for f in fs}
    return out
fa, fb = files(a), files(b)
ok = fa == fb
if not ok:
    print("file sets differ:", sorted(fa ^ fb))
import hashlib, json
def sha(path):
    return "sha256:" + hashlib.sha256(open(path, "rb").read()).hexdigest()
def masked_hashes(root, rel, data):
    """`data` (a manifest or the registry) with each recorded file hash checked against the file
    in `root` and replaced by a placeholder; None when a hash is not that of its file."""
    doc = json.loads(data)
    def check(files, directory):
        for name, h in files.items():
            if sha(os.path.join(directory, name)) != h:
                print(f"{rel}: the recorded hash of {name} is not that of {directory}/{name}")
                return False
            files[name] = "sha256:checked"
        return True
    if rel == "registry.json":
        for e in doc.get("models", []):
            if "files" in e and not check(e["files"], os.path.join(root, "models", e["path"])):
                return None
    else:
        e = doc.get("registry_entry", {})
        if "files" in e and not check(e["files"], os.path.join(root, os.path.dirname(rel))):
            return None
    return json.dumps(doc, indent=1).encode()
n = 0
for rel in sorted(fa & fb):
    x, y = (open(os.path.join(r, rel), "rb").read() for r in (a, b))
    if rel == "registry.json" or rel.endswith("auto_train_manifest.json"):
        x, y = masked_hashes(a, rel, x), masked_hashes(b, rel, y)
        if x is None or y is None:
            ok = False
            continue
    keys = x.count(b"trained_date")
    (x2, kx), (y2, ky) = stamp.subn(b"YYYY-MM-DD hh:mm:ss", x), stamp.subn(b"YYYY-MM-DD hh:mm:ss", y)
    if kx != keys or ky != keys:
        print(f"{rel}: {kx}/{ky} timestamps but {keys} trained_date keys"); ok = False
    if x2 != y2:
        print(f"{rel}: differs"); ok = False
    n += 1
print(f"{n} files compared (threads 1 vs 2): {'byte-identical apart from trained_date' if ok else 'DIFFERENT'}")
sys.exit(0 if ok else 1)
PY
