#!/usr/bin/env bash
# Gale's verification against a vectorised numpy implementation of the same scores on the
# same 10-member, 40-lead T42 ensemble, in one run: prints both times, the ratio and the
# largest difference of the scores (must be <= 1e-6).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${GALE_BUILD_DIR:-$ROOT/build}"
PY="${GALE_BENCH_PYTHON:-$ROOT/.venv/bin/python}"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
cmake --build "$BUILD" --target bench_verify > /dev/null
"$BUILD/bench/bench_verify" "$OUT" 5 > "$OUT/gale.json"
"$PY" "$ROOT/bench/verify_numpy.py" "$OUT" "$OUT/gale.json" 5
