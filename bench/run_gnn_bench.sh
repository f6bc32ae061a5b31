#!/usr/bin/env bash
# GNN benchmark (issue 5): the default network (T42 grid, M3 multi-mesh, latent 64,
# 6 processor layers) in Gale (C++ LibTorch) against the same model in PyTorch eager Python
# (bench/gnn_reference.py, same torch from .venv, same weights, same threads), in one run:
# forward and training-step times and their ratio, output agreement (1e-5), and the
# processor's GFLOP/s against a plain GEMM.
#   bench/run_gnn_bench.sh [threads] [batch]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${GALE_BUILD_DIR:-$ROOT/build}"
W="$(mktemp -d)"
trap 'rm -rf "$W"' EXIT
cmake --build "$BUILD" --target bench_gnn > /dev/null
"$BUILD/bench/bench_gnn" "$W" "${1:-2}" "${2:-1}"
"$ROOT/.venv/bin/python" "$ROOT/bench/gnn_reference.py" "$W"
