#!/usr/bin/env python3
"""Time the tools users run today to read the same files Gale ingests (benchmark only).

  ingest_peers.py --tool cfgrib [--repeat N] [--gale-means MEANS.jsonl] FILE...
  ingest_peers.py --tool cdo    [--repeat N] FILE...

cfgrib: GRIB through xarray.open_dataset(engine="cfgrib", backend_kwargs={"indexpath": ""})
        (no .idx file is written; cfgrib still scans every message into an in-memory index),
        falling back to cfgrib.open_datasets() for files one hypercube cannot hold (several
        level types, heterogeneous keys); NetCDF through xarray.open_dataset(engine="netcdf4")
        with the default mask_and_scale. Every dataset is .load()ed, so all values are decoded
        into memory. Timed: open + load, in-process (imports and interpreter start excluded).
cdo:    `cdo -s -f nc4 copy IN OUT` per file into a temporary directory; timed from process
        start to exit (includes cdo start-up and writing the NetCDF-4 output).

Each file gets one untimed warm-up run (page cache, lazy imports), then N timed runs.
Output lines (tab-separated), for run_ingest_bench.sh:
  RESULT  tool  file  fields  median_s  min_s  note
  CHECK   file  what  gale  peer  rel_diff  ok|MISMATCH|skipped
  INFO    free text
Requires: pip install cfgrib xarray eccodes netCDF4 numpy (benchmark-only, never runtime deps).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

SPATIAL_DIMS = {"latitude", "longitude", "values", "lat", "lon", "x", "y"}
LEVEL_DIMS = ("isobaricInhPa", "isobaricInPa", "hybrid", "level", "plev", "pressure_level")


def emit(*cols):
    print("\t".join(str(c) for c in cols), flush=True)


# --------------------------------------------------------------------------- cfgrib+xarray
def open_load_cfgrib(path, method):
    """Open and fully load one file; returns a list of loaded xarray Datasets."""
    import xarray as xr

    if method == "netcdf4":
        return [xr.open_dataset(path, engine="netcdf4").load()]
    if method == "open_dataset":
        return [xr.open_dataset(path, engine="cfgrib", backend_kwargs={"indexpath": ""}).load()]
    import cfgrib

    return [ds.load() for ds in cfgrib.open_datasets(path, backend_kwargs={"indexpath": ""})]


def choose_method(path):
    """The call a user would settle on: open_dataset if one hypercube holds the file."""
    with open(path, "rb") as f:
        magic = f.read(8)
    if magic[:3] == b"CDF" or magic[:8] == b"\x89HDF\r\n\x1a\n":
        return "netcdf4"
    import cfgrib

    try:
        open_load_cfgrib(path, "open_dataset")
        return "open_dataset"
    except cfgrib.dataset.DatasetBuildError:
        return "open_datasets"


def count_fields(datasets):
    """2-D fields actually holding data (hypercube padding that is all-NaN not counted)."""
    import numpy as np

    n = 0
    for ds in datasets:
        for da in ds.data_vars.values():
            outer = [d for d in da.dims if d not in SPATIAL_DIMS]
            if not outer:
                n += int(np.isfinite(da.values).any())
                continue
            arr = da.transpose(*outer, ...).values
            arr = arr.reshape(int(np.prod(arr.shape[: len(outer)])), -1)
            n += int(np.isfinite(arr).any(axis=1).sum())
    return n


def find_field(datasets, first):
    """The DataArray slice matching Gale's first State field, or None."""
    import numpy as np

    t = np.datetime64(first["valid_time"].rstrip("Z"), "ns")
    for ds in datasets:
        for name, da in ds.data_vars.items():
            if da.attrs.get("GRIB_shortName", name) != first["source_name"]:
                continue
            sel = da
            if "number" in sel.dims:
                sel = sel.sel(number=first["member"])
            elif "number" in sel.coords and int(sel.coords["number"]) != first["member"]:
                continue
            if first["level_kind"] != "surface":
                dims = [d for d in LEVEL_DIMS if d in sel.dims]
                if dims:
                    sel = sel.sel({dims[0]: first["level"]})
                else:
                    coords = [c for c in LEVEL_DIMS if c in sel.coords]
                    if not coords or float(sel.coords[coords[0]]) != first["level"]:
                        continue
            if "month" in sel.dims:  # climatology files: Gale maps month m to 1970-m-01
                sel = sel.sel(month=int(str(first["valid_time"])[5:7]))
            outer = [d for d in sel.dims if d not in SPATIAL_DIMS]
            if outer:
                if "valid_time" not in sel.coords:
                    continue
                sel = sel.where(sel.coords["valid_time"] == t, drop=True)
                sel = sel.squeeze([d for d in outer if d in sel.dims and sel.sizes[d] == 1])
            elif "valid_time" in sel.coords and sel.coords["valid_time"].values != t:
                continue
            if any(d not in SPATIAL_DIMS for d in sel.dims) or sel.size == 0:
                continue
            return sel
    return None


def check_probes(name, da, probes):
    """Values at Gale's (lat, lon) probe points, looked up by coordinate in the peer's own
    orientation: a flipped or shifted grid fails here even though its mean agrees."""
    import numpy as np

    if not probes:
        return
    lat_name = "latitude" if "latitude" in da.coords else "lat"
    lon_name = "longitude" if "longitude" in da.coords else "lon"
    if lat_name not in da.coords or lon_name not in da.coords:
        emit("CHECK", name, "values at probe points", "-", "-", "-", "skipped (no coordinates)")
        return
    if da.coords[lat_name].dims == da.dims:  # reduced grid: per-point coordinates
        lats, lons = da.coords[lat_name].values, da.coords[lon_name].values
    else:
        lats, lons = np.meshgrid(da.coords[lat_name].values, da.coords[lon_name].values,
                                 indexing="ij")
        da = da.transpose(lat_name, lon_name)
    lats, lons = lats.ravel().astype(np.float64), lons.ravel().astype(np.float64)
    values = da.values.ravel().astype(np.float64)
    worst, found = 0.0, 0
    for p in probes:
        hit = np.nonzero((np.abs(lats - p["lat"]) < 1e-4)
                         & (np.abs((lons - p["lon"] + 180.0) % 360.0 - 180.0) < 1e-4))[0]
        if len(hit) != 1:
            continue
        found += 1
        worst = max(worst, abs(values[hit[0]] - p["value"]) / max(abs(p["value"]), 1e-30))
    what = f"values at {len(probes)} (lat, lon) probe points"
    if found != len(probes):
        emit("CHECK", name, what, "-", "-", "-", f"MISMATCH ({found} of {len(probes)} points found)")
    else:
        emit("CHECK", name, what, "-", "-", f"{worst:.2e}", "ok" if worst <= 1e-5 else "MISMATCH")


def check_against_gale(path, datasets, means):
    import numpy as np

    name = os.path.basename(path)
    if name not in means:
        emit("CHECK", name, "first field", "-", "-", "-", "skipped (no Gale means)")
        return
    g = means[name]
    first = g["first_field"]
    da = find_field(datasets, first)
    what = f"mean {first['key']} {first['valid_time']} member {first['member']}"
    if da is None:
        emit("CHECK", name, what, first["mean"], "-", "-", "skipped (field not found)")
    else:
        v = da.values.astype(np.float64)
        peer = float(np.nanmean(v))
        rel = abs(peer - first["mean"]) / max(abs(first["mean"]), 1e-30)
        count_ok = int(np.isfinite(v).sum()) == first["count"]
        emit("CHECK", name, what, f"{first['mean']:.9g}", f"{peer:.9g}", f"{rel:.2e}",
             "ok" if rel <= 1e-5 and count_ok else "MISMATCH")
        check_probes(name, da, first.get("probes", []))
    # Every value of the file: comparable when both hold the same set of values.
    total, count = 0.0, 0
    for ds in datasets:
        for da in ds.data_vars.values():
            v = da.values.astype(np.float64)
            finite = np.isfinite(v)
            total += float(v[finite].sum())
            count += int(finite.sum())
    gall = g["all"]
    what = f"mean of all {gall['count']} values"
    if count != gall["count"]:
        emit("CHECK", name, what, f"{gall['mean']:.9g}", f"{total / max(count, 1):.9g}", "-",
             f"skipped (peer holds {count} values)")
    else:
        peer = total / count
        rel = abs(peer - gall["mean"]) / max(abs(gall["mean"]), 1e-30)
        emit("CHECK", name, what, f"{gall['mean']:.9g}", f"{peer:.9g}", f"{rel:.2e}",
             "ok" if rel <= 1e-5 else "MISMATCH")


def bench_cfgrib(files, repeat, means):
    t0 = time.perf_counter()
    import numpy  # noqa: F401
    import xarray
    import cfgrib
    import eccodes

    emit("INFO", f"python imports (numpy, xarray, cfgrib, eccodes): "
                 f"{time.perf_counter() - t0:.3f} s, paid once per process, not in the timings")
    emit("INFO", f"xarray {xarray.__version__}, cfgrib {cfgrib.__version__}, "
                 f"ecCodes {eccodes.codes_get_api_version()}")
    warnings.simplefilter("ignore")
    for path in files:
        name = os.path.basename(path)
        try:
            method = choose_method(path)
            datasets = open_load_cfgrib(path, method)  # warm-up (untimed)
            fields = count_fields(datasets)
            if means is not None:
                check_against_gale(path, datasets, means)
            for ds in datasets:
                ds.close()
            del datasets
            times = []
            for _ in range(repeat):
                t = time.perf_counter()
                datasets = open_load_cfgrib(path, method)
                times.append(time.perf_counter() - t)
                for ds in datasets:
                    ds.close()
                del datasets
            emit("RESULT", "cfgrib", name, fields, f"{statistics.median(times):.6f}",
                 f"{min(times):.6f}", method)
        except Exception as e:  # report and go on: one failure must not hide the rest
            emit("RESULT", "cfgrib", name, "-", "nan", "nan",
                 f"failed: {type(e).__name__}: {str(e).splitlines()[0][:80]}")


# --------------------------------------------------------------------------- cdo
def bench_cdo(files, repeat):
    if not shutil.which("cdo"):
        for path in files:
            emit("RESULT", "cdo", os.path.basename(path), "-", "nan", "nan", "cdo not installed")
        return
    version = subprocess.run(["cdo", "-V"], capture_output=True, text=True)
    emit("INFO", (version.stdout + version.stderr).splitlines()[0])
    with tempfile.TemporaryDirectory(prefix="gale-bench-cdo-") as tmp:
        out = os.path.join(tmp, "out.nc")
        for path in files:
            name = os.path.basename(path)
            cmd = ["cdo", "-s", "-f", "nc4", "copy", path, out]
            warm = subprocess.run(cmd, capture_output=True, text=True)
            if warm.returncode != 0:
                err = [line.strip() for line in warm.stderr.splitlines() if line.strip()]
                emit("RESULT", "cdo", name, "-", "nan", "nan",
                     f"failed: {' / '.join(err[-2:])[:90]}")
                continue
            out_bytes = os.path.getsize(out)
            times = []
            for _ in range(repeat):
                os.remove(out)
                t = time.perf_counter()
                subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               check=True)
                times.append(time.perf_counter() - t)
            os.remove(out)
            emit("RESULT", "cdo", name, "-", f"{statistics.median(times):.6f}",
                 f"{min(times):.6f}", f"wrote {out_bytes / 1e6:.2f} MB nc4")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--tool", choices=["cfgrib", "cdo"], required=True)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--gale-means", help="MEANS json lines from bench_ingest --print-means")
    args = ap.parse_args()
    if args.tool == "cdo":
        bench_cdo(args.files, args.repeat)
        return 0
    means = None
    if args.gale_means:
        means = {}
        with open(args.gale_means) as f:
            for line in f:
                if line.startswith("MEANS "):
                    m = json.loads(line[len("MEANS "):])
                    means[m["file"]] = m
    bench_cfgrib(args.files, args.repeat, means)
    return 0


if __name__ == "__main__":
    sys.exit(main())
