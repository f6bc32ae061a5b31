#!/usr/bin/env bash
# Gale ingest vs what users run today, on the real sample files, in one run:
#   gale           bench_ingest: open_reader + Selection(every usable variable) + load() -> State
#   cfgrib+xarray  xarray.open_dataset(engine="cfgrib"|"netcdf4").load()  (bench/ingest_peers.py)
#   cdo            cdo -s -f nc4 copy IN OUT                                (bench/ingest_peers.py)
# Prints median wall seconds per file (each tool: 1 untimed warm-up + REPEAT timed runs) and
# the ratios peer/gale (> 1: Gale is faster), then cross-checks of decoded values.
#
#   bench/run_ingest_bench.sh            # REPEAT=5 by default; REPEAT=3 bench/run_ingest_bench.sh
#
# Environment: GALE_BUILD_DIR (default build), GALE_SHARED_DATA (default ../shared/data),
# GALE_BENCH_PYTHON (default .venv/bin/python with cfgrib xarray eccodes netCDF4 numpy).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${GALE_BUILD_DIR:-$ROOT/build}"
DATA="${GALE_SHARED_DATA:-$ROOT/../shared/data}"
PY="${GALE_BENCH_PYTHON:-$ROOT/.venv/bin/python}"
REPEAT="${REPEAT:-5}"
FILES=(era5-levels-members.grib era5-2mt-2019-03-uk.grib pl_regular_ll.grib
       O32_global.grib2 ll_sn_scanning_mode.grib eraint_uvz.nc)  # healpix: unsupported grid

die() { echo "run_ingest_bench: $*" >&2; exit 1; }
[[ -d "$DATA" ]] || die "sample data not found at $DATA (set GALE_SHARED_DATA)"
PATHS=()
for f in "${FILES[@]}"; do
  [[ -f "$DATA/$f" ]] || die "missing sample file $DATA/$f"
  PATHS+=("$DATA/$f")
done
[[ -x "$PY" ]] || die "no python at $PY (set GALE_BENCH_PYTHON)"
"$PY" -c 'import cfgrib, xarray, eccodes, netCDF4, numpy' 2>/dev/null ||
  die "benchmark peers missing: $PY -m pip install cfgrib xarray eccodes netCDF4 numpy"

OUT="$(mktemp -d "${TMPDIR:-/tmp}/gale-ingest-bench.XXXXXX")"
trap 'rm -rf "$OUT"' EXIT

BIN="$BUILD/bench/bench_ingest"
echo "building bench_ingest ..." >&2
if ! cmake --build "$BUILD" --target bench_ingest -j1 >"$OUT/build.log" 2>&1; then
  [[ -x "$BIN" ]] || { tail -20 "$OUT/build.log" >&2; die "build failed"; }
  echo "run_ingest_bench: WARNING: build failed, using the existing $BIN" >&2
fi

echo "gale (repeat $REPEAT) ..." >&2
"$BIN" "${PATHS[@]}" --repeat "$REPEAT" --tsv --print-means >"$OUT/gale.txt" 2>"$OUT/gale.err" ||
  { cat "$OUT/gale.err" >&2; die "bench_ingest failed"; }

echo "cfgrib+xarray (repeat $REPEAT) ..." >&2
# numpy: no OpenBLAS tuning overrides for the Python peer (they are for the LibTorch side).
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
  "$PY" "$ROOT/bench/ingest_peers.py" --tool cfgrib --repeat "$REPEAT" \
  --gale-means "$OUT/gale.txt" "${PATHS[@]}" >"$OUT/cfgrib.txt" 2>"$OUT/cfgrib.err" ||
  { cat "$OUT/cfgrib.err" >&2; die "ingest_peers.py --tool cfgrib failed"; }

echo "cdo (repeat $REPEAT) ..." >&2
"$PY" "$ROOT/bench/ingest_peers.py" --tool cdo --repeat "$REPEAT" "${PATHS[@]}" \
  >"$OUT/cdo.txt" 2>"$OUT/cdo.err" ||
  { cat "$OUT/cdo.err" >&2; die "ingest_peers.py --tool cdo failed"; }

"$PY" - "$OUT" "$REPEAT" "${FILES[@]}" <<'EOF'
import math, os, platform, sys
out, repeat, files = sys.argv[1], sys.argv[2], sys.argv[3:]
gale, peers, checks, info = {}, {"cfgrib": {}, "cdo": {}}, [], []
for line in open(os.path.join(out, "gale.txt")):
    c = line.rstrip("\n").split("\t")
    if c[0] == "RESULT":
        gale[c[1]] = dict(fields=int(c[2]), bytes=int(c[3]), med=float(c[4]), checks=c[6])
for tool in ("cfgrib", "cdo"):
    for line in open(os.path.join(out, tool + ".txt")):
        c = line.rstrip("\n").split("\t")
        if c[0] == "RESULT":
            peers[tool][c[2]] = dict(fields=c[3], med=float(c[4]), note=c[6])
        elif c[0] == "CHECK":
            checks.append(c[1:])
        elif c[0] == "INFO":
            info.append(c[1])
notes = [l.strip() for l in open(os.path.join(out, "gale.err")) if l.strip()]

def s(x):
    return "fails" if x is None or math.isnan(x) else f"{x:.4f}"
def r(p, g):
    return "-" if p is None or math.isnan(p) else f"{p / g:.2f}x"

print(f"Gale ingest vs peers: median wall seconds of {repeat} runs after 1 warm-up "
      f"({platform.node()}, {os.cpu_count()} cpus)")
hdr = f"{'file':<26} {'fields':>6} {'MB':>5} {'gale s':>8} {'cfgrib+xr s':>11} {'cdo s':>8} " \
      f"{'cfgrib/gale':>11} {'cdo/gale':>9}"
print(hdr)
print("-" * len(hdr))
tot = {"g": 0.0, "c": 0.0, "d": 0.0}
for f in files:
    g = gale.get(f)
    if g is None:
        print(f"{f:<26} gale failed"); continue
    c = peers["cfgrib"].get(f, {}).get("med")
    d = peers["cdo"].get(f, {}).get("med")
    tot["g"] += g["med"]
    if c is not None and not math.isnan(c): tot["c"] += c
    if d is not None and not math.isnan(d): tot["d"] += d
    flag = " *" if g["checks"] == "checks=off" else ""
    print(f"{f:<26} {g['fields']:>6} {g['bytes'] / 1e6:>5.2f} {g['med']:>8.4f} {s(c):>11} "
          f"{s(d):>8} {r(c, g['med']):>11} {r(d, g['med']):>9}{flag}")
print("-" * len(hdr))
print(f"{'sum (cdo: files it reads)':<26} {'':>6} {'':>5} {tot['g']:>8.4f} {tot['c']:>11.4f} "
      f"{tot['d']:>8.4f} {r(tot['c'], tot['g']):>11}")
cfg_fields = {f: peers["cfgrib"].get(f, {}).get("fields") for f in files}
print()
print("cfgrib fields loaded / call: " + ", ".join(
    f"{f}: {cfg_fields[f]} / {peers['cfgrib'].get(f, {}).get('note', '?')}" for f in files))
for tool in ("cdo",):
    for f in files:
        p = peers[tool].get(f)
        if p and p["note"].startswith("failed"):
            print(f"{tool} {f}: {p['note']}")
print("cdo output sizes: " + ", ".join(
    f"{f}: {peers['cdo'][f]['note'].replace('wrote ', '')}" for f in files
    if f in peers["cdo"] and peers["cdo"][f]["note"].startswith("wrote")))
for n in notes:
    print("* " + n.replace("bench_ingest: NOTE ", ""))
for i in info:
    print("info: " + i)
print()
print("value cross-check, Gale vs cfgrib/xarray (rel. tolerance 1e-5):")
bad = 0
for c in checks:
    f, what, gv, pv, rel, verdict = c
    bad += verdict.startswith("MISMATCH")
    print(f"  {f:<26} {what:<44} gale {gv:>14} peer {pv:>14} rel {rel:>8}  {verdict}")
print(f"  {'all agree' if bad == 0 else f'{bad} MISMATCH(es)'}")
EOF
