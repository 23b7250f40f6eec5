#!/usr/bin/env bash
# Why Cargo.toml keeps `resolver = "1"`: under resolver 2 (and edition 2024's resolver 3) the
# features that dev-dependencies switch on are not unified into `cargo build`, so crates that
# polars depends on get different feature sets in `cargo build --release` and
# `cargo test --release`, and polars is compiled twice. This prints, for resolver 1 and 2, the
# packages whose features differ between a normal build and a build with dev-dependencies.
# Needs only the lock file (no build): cargo tree --offline.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$root/Cargo.toml" "$root/Cargo.lock" "$work/"
mkdir -p "$work/src" "$work/benches"
echo 'fn main() {}' > "$work/src/main.rs"
touch "$work/src/lib.rs"
for b in "$root"/benches/*.rs; do echo 'fn main() {}' > "$work/benches/$(basename "$b")"; done
cd "$work"
for r in 1 2; do
  sed -i "s/^resolver = .*/resolver = \"$r\"/" Cargo.toml
  tree() { cargo tree --offline -q -e "$1" -f '{p} {f}' --prefix none | sed 's/ (\*)$//' | awk '{print $1"@"$2, $3}' | sort -u; }
  echo "resolver $r: packages built with other features under cargo test than under cargo build:"
  join <(tree normal,build) <(tree normal,build,dev) | awk '$2 != $3 {print "  " $0}' || true
done
