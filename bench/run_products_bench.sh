#!/usr/bin/env bash
# Ensemble product writing against nccopy, in one run (bench/bench_products.cpp):
#   data      synthetic 1 deg global ensemble (360x181), 20 members x 20 leads, t850 + z500,
#             written once with write_state_netcdf (deflate 1 + shuffle): members.nc
#   gale      write_ensemble_netcdf per variable: members + mean + std + p10/p50/p90 + 2
#             threshold probabilities, deflate 1 + shuffle (best of 3)
#   baseline  nccopy -d1 -s members.nc copy.nc: the same members re-compressed (best of 3)
# Prints seconds, MB/s (uncompressed float32 payload; MB = 10^6 bytes), the ratio
# gale / nccopy on member payload, file sizes, and a bit-for-bit check of Gale's members.
#
#   bench/run_products_bench.sh                 # MEMBERS=20 LEADS=20 REPEAT=3
#
# Environment: GALE_BUILD_DIR (default build), OMP_NUM_THREADS (default 2), GALE_BENCH_DIR
# (scratch directory, default a mktemp -d under TMPDIR; needs ~0.7 GB).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${GALE_BUILD_DIR:-$ROOT/build}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" GALE_THREADS="${GALE_THREADS:-2}"
command -v nccopy > /dev/null || { echo "run_products_bench: nccopy not found (netcdf-bin)" >&2; exit 1; }
[[ -x "$BUILD/bench/bench_products" ]] || {
  echo "run_products_bench: build it first: flock /tmp/gale-build.lock cmake --build $BUILD --target bench_products -j2" >&2
  exit 1
}
W="$(mktemp -d "${GALE_BENCH_DIR:-${TMPDIR:-/tmp}}/gale-products-bench.XXXXXX")"
trap 'rm -rf "$W"' EXIT
echo "== product writing vs nccopy ($(nccopy 2>&1 | grep -o 'netCDF library version [^ ]*' | head -1 || true); OMP_NUM_THREADS=$OMP_NUM_THREADS; $(nproc) cores)"
"$BUILD/bench/bench_products" "$W" "${MEMBERS:-20}" "${LEADS:-20}" "${REPEAT:-3}"
